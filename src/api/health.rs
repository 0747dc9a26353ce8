//! `GET /api/v1/healthz` (store reachable?) and `GET /metrics` (Prometheus text). No token needed.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use super::params::NoParams;
use super::{ApiError, AppState};

/// `status` and `storage` are `ok`, or `degraded` with `storage_error` (the cause) and
/// `storage_failed_at` after a write failed for want of storage (disk full, I/O error, read-only
/// file system), until a write succeeds again. Still 200: the service answers reads.
pub async fn healthz(
    State(s): State<AppState>,
    _: NoParams,
) -> Result<impl IntoResponse, ApiError> {
    let counts = s.service.store(|st| st.counts()).await?;
    let degraded = s.service.storage().degraded();
    let state = if degraded.is_some() { "degraded" } else { "ok" };
    Ok(Json(serde_json::json!({
        "status": state,
        "storage": state,
        "storage_error": degraded.as_ref().map(|d| d.0.clone()),
        "storage_failed_at": degraded.as_ref().map(|d| d.1.to_rfc3339()),
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
