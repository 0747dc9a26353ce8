//! `GET /api/v1/healthz` (store reachable?) and `GET /metrics` (Prometheus text). No token needed.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use super::{ApiError, AppState};

pub async fn healthz(State(s): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let counts = s.service.store(|st| st.counts()).await?;
    Ok(Json(serde_json::json!({
        "status": "ok",
        "queue_depth": s.service.metrics().queue_depth(),
        "counts": counts,
    })))
}

pub async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.service.metrics().render(),
    )
}
