//! The HTTP API (DESIGN.md) on axum: one file per resource, [`ApiError`] turns every failure
//! into a status and a JSON body naming the field. Handlers only parse, check the caller's scope
//! and call the [`Service`]; blocking work happens there, on `spawn_blocking`.

pub mod actor;
pub mod audit;
pub mod auth;
pub mod deliveries;
pub mod error;
pub mod events;
pub mod health;
pub mod hotspots;
pub mod mask_candidates;
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
use axum::handler::Handler;
use axum::routing::{get, post};
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
}

impl AppState {
    pub fn new(service: Service, tokens: Tokens, limits: Limits) -> AppState {
        AppState {
            service,
            tokens: Arc::new(tokens),
            limits: Arc::new(limits),
        }
    }
}

/// The router of the whole API.
pub fn router(state: AppState) -> Router {
    let l = state.limits.clone();
    Router::new()
        .route("/api/v1/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        // The pages (public HTML) and what they read.
        .route("/api/v1/units", get(units::list))
        .route("/api/v1/stream", get(stream::stream))
        .route("/api/v1/dashboard-config", get(pages::config))
        .route("/", get(pages::dashboard))
        .route("/patrol", get(pages::patrol))
        .route("/static/{*path}", get(pages::asset))
        // Scenes stream to disk; the handler enforces the limit itself.
        .route(
            "/api/v1/scenes",
            post(scenes::upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/hotspots",
            get(hotspots::list).post(hotspots::post.layer(DefaultBodyLimit::max(l.feed_bytes))),
        )
        .route(
            "/api/v1/sensor-alerts",
            post(sensor_alerts::post).layer(DefaultBodyLimit::max(l.alert_bytes)),
        )
        .route("/api/v1/events", get(events::list))
        .route("/api/v1/events/{id}", get(events::one))
        .route("/api/v1/units/{code}", get(units::one))
        .route("/api/v1/tasks", get(tasks::list))
        .route("/api/v1/tasks/{id}", get(tasks::one))
        .route("/api/v1/tasks/{id}/ack", post(tasks::ack))
        .route("/api/v1/tasks/{id}/on-site", post(tasks::on_site))
        .route(
            "/api/v1/tasks/{id}/verdict",
            post(tasks::verdict).layer(DefaultBodyLimit::max(l.photo_bytes)),
        )
        .route("/api/v1/tasks/{id}/close", post(tasks::close))
        .route("/api/v1/mask-candidates", get(mask_candidates::list))
        .route(
            "/api/v1/mask-candidates/{id}/confirm",
            post(mask_candidates::confirm),
        )
        .route(
            "/api/v1/mask-candidates/{id}/reject",
            post(mask_candidates::reject),
        )
        .route("/api/v1/precision", get(precision::get))
        .route("/api/v1/audit", get(audit::get))
        .route("/api/v1/deliveries", get(deliveries::list))
        .route("/api/v1/rankings/daily", get(rankings::daily))
        .route("/api/v1/rankings/daily.html", get(rankings::daily_html))
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .with_state(state)
}
