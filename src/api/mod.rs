//! The HTTP API (DESIGN.md) on axum: one file per resource, [`ApiError`] turns every failure
//! into a status and a JSON body naming the field. Handlers only parse, check the caller's scope
//! and call the [`Service`]; blocking work happens there, on `spawn_blocking`.

pub mod auth;
pub mod error;
pub mod events;
pub mod health;
pub mod hotspots;
pub mod pages;
pub mod params;
pub mod scenes;
pub mod sensor_alerts;
pub mod stream;
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
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .with_state(state)
}
