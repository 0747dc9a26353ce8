//! `GET /api/v1/precision`: per source (satellite by `INSTRUMENT/SATELLITE` and confidence
//! class; each camera), how many of its detections that reached a verdict were fires. Scoped
//! like tasks: admin all, a county its tasks, a patrol its township's.

use axum::extract::State;
use axum::Json;

use super::actor::Who;
use super::params::NoParams;
use super::{ApiError, AppState};

pub async fn get(
    State(s): State<AppState>,
    who: Who,
    _: NoParams,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rows = s.service.precision(who.role.scope()).await?;
    Ok(Json(serde_json::json!({ "sources": rows })))
}
