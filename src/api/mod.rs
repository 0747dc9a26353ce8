//! The HTTP API (DESIGN.md) on axum: one file per resource, [`ApiError`] turns every failure
//! into a status and a JSON body naming the field. Handlers only parse, check the caller's scope
//! and call the [`Service`]; blocking work happens there, on `spawn_blocking`.

pub mod actor;
pub mod audit;
pub mod auth;
pub mod deliveries;
pub mod drain;
pub mod error;
pub mod events;
pub mod health;
pub mod hotspots;
pub mod mask_candidates;
pub mod operator;
pub mod paged;
pub mod pages;
pub mod params;
pub mod precision;
pub mod rankings;
pub mod scenes;
pub mod sensor_alerts;
pub mod stream;
pub mod tasks;
pub mod units;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;

pub use error::ApiError;

use crate::config::Limits;
use crate::service::Service;
use auth::Tokens;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub tokens: Arc<Tokens>,
    pub limits: Arc<Limits>,
    /// The `local` basemap's tiles, opened once and kept while the file stays the same.
    pub tiles: Arc<crate::basemap::tiles::LocalTiles>,
}

impl AppState {
    pub fn new(service: Service, tokens: Tokens, limits: Limits) -> AppState {
        AppState {
            service,
            tokens: Arc::new(tokens),
            limits: Arc::new(limits),
            tiles: Arc::default(),
        }
    }
}

/// One entry of the route table: the method and path it answers, and its handler (with any
/// per-route layer, e.g. a body limit).
pub struct RouteEntry {
    pub method: Method,
    pub path: &'static str,
    handler: MethodRouter<AppState>,
    /// The route's body limit, bytes: how much of a refused body is read on depends on it
    /// ([`drain::drain_cap`]).
    body_bytes: usize,
}

/// An entry answering `method` on `path` with `handler`: the handler is bound to exactly the
/// method the table names, so the table cannot say GET where the router serves POST.
fn at<H, T>(method: Method, path: &'static str, handler: H) -> RouteEntry
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a method axum can route");
    RouteEntry {
        method,
        path,
        handler: on(filter, handler),
        body_bytes: AXUM_DEFAULT_BODY_BYTES,
    }
}

impl RouteEntry {
    /// The same route with a body limit of `bytes`.
    fn body_limit(mut self, bytes: usize) -> RouteEntry {
        self.handler = self.handler.layer(DefaultBodyLimit::max(bytes));
        self.body_bytes = bytes;
        self
    }

    /// The same route streaming its body, without axum's limit: the handler enforces `bytes`.
    fn streamed(mut self, bytes: usize) -> RouteEntry {
        self.handler = self.handler.layer(DefaultBodyLimit::disable());
        self.body_bytes = bytes;
        self
    }
}

/// Every route of the API. [`router`] is built from this table and nothing else, and
/// `tests/service_scope_matrix.rs` checks every entry against the expected answer of each role,
/// so a route added here without its row of expectations fails that test.
pub fn route_table(l: &Limits) -> Vec<RouteEntry> {
    use Method as M;
    vec![
        at(M::GET, "/api/v1/healthz", health::healthz),
        at(M::GET, "/metrics", health::metrics),
        // The pages (public HTML) and what they read.
        at(M::GET, "/api/v1/units", units::list),
        at(M::GET, "/api/v1/stream", stream::stream),
        at(M::GET, "/api/v1/dashboard-config", pages::config),
        at(M::GET, "/", pages::dashboard),
        at(M::GET, "/patrol", pages::patrol),
        at(M::GET, "/patrol-sw.js", pages::patrol_worker),
        at(M::GET, "/static/{*path}", pages::asset),
        at(M::GET, "/tiles/{z}/{x}/{y}", pages::tile),
        // Scenes stream to disk; the handler enforces the limit itself.
        at(M::POST, "/api/v1/scenes", scenes::upload).streamed(l.scene_bytes),
        at(M::GET, "/api/v1/hotspots", hotspots::list),
        at(M::POST, "/api/v1/hotspots", hotspots::post).body_limit(l.feed_bytes),
        at(M::POST, "/api/v1/sensor-alerts", sensor_alerts::post).body_limit(l.alert_bytes),
        at(M::GET, "/api/v1/events", events::list),
        at(M::GET, "/api/v1/events/{id}", events::one),
        at(M::POST, "/api/v1/events/{id}/task", operator::create_task).body_limit(SMALL_BODY_BYTES),
        at(M::GET, "/api/v1/units/{code}", units::one),
        at(M::GET, "/api/v1/tasks", tasks::list),
        at(M::GET, "/api/v1/tasks/{id}", tasks::one),
        at(M::GET, "/api/v1/verdicts/mine", tasks::mine),
        at(M::POST, "/api/v1/tasks/{id}/ack", tasks::ack).body_limit(SMALL_BODY_BYTES),
        at(M::POST, "/api/v1/tasks/{id}/on-site", tasks::on_site).body_limit(SMALL_BODY_BYTES),
        at(M::POST, "/api/v1/tasks/{id}/verdict", tasks::verdict).body_limit(l.photo_bytes),
        at(M::POST, "/api/v1/tasks/{id}/close", tasks::close).body_limit(SMALL_BODY_BYTES),
        // The command center's moves and the review view (#17).
        at(M::POST, "/api/v1/tasks/{id}/reassign", operator::reassign).body_limit(SMALL_BODY_BYTES),
        at(M::POST, "/api/v1/tasks/{id}/cancel", operator::cancel).body_limit(SMALL_BODY_BYTES),
        at(M::POST, "/api/v1/tasks/{id}/send-back", operator::send_back)
            .body_limit(SMALL_BODY_BYTES),
        at(M::POST, "/api/v1/tasks/{id}/reopen", operator::reopen).body_limit(SMALL_BODY_BYTES),
        at(M::GET, "/api/v1/tasks/{id}/photo", operator::photo),
        at(M::GET, "/api/v1/mask-candidates", mask_candidates::list),
        at(
            M::POST,
            "/api/v1/mask-candidates/{id}/confirm",
            mask_candidates::confirm,
        ),
        at(
            M::POST,
            "/api/v1/mask-candidates/{id}/reject",
            mask_candidates::reject,
        ),
        at(M::GET, "/api/v1/precision", precision::get),
        at(M::GET, "/api/v1/audit", audit::get),
        at(M::GET, "/api/v1/deliveries", deliveries::list),
        at(M::GET, "/api/v1/rankings/daily", rankings::daily),
        at(M::GET, "/api/v1/rankings/daily.html", rankings::daily_html),
        at(M::GET, "/api/v1/rankings/daily.pdf", rankings::daily_pdf),
    ]
}

/// axum's body limit of a route that sets none (`DefaultBodyLimit`'s default).
const AXUM_DEFAULT_BODY_BYTES: usize = 2 << 20;

/// Body limit of the routes that take a small JSON body (or none): acknowledge, arrive, close,
/// and the command center's moves.
pub const SMALL_BODY_BYTES: usize = 16 * 1024;

/// Every (method, path) the API serves: the route table without its handlers.
pub fn routes() -> Vec<(Method, &'static str)> {
    route_table(&Limits::default())
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect()
}

/// The router of the whole API, built from [`route_table`]. Every route's request body is read
/// to its end when the handler refuses it unread ([`drain`]), so the client gets the answer.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for r in route_table(&state.limits) {
        let cap = drain::drain_cap(r.body_bytes);
        let handler = r
            .handler
            .layer(axum::middleware::map_request_with_state(cap, drain::wrap));
        router = router.route(r.path, handler);
    }
    router
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(axum::middleware::map_response(error::json_errors))
        .with_state(state)
}
