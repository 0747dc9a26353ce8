//! `GET /api/v1/precision`: per source (satellite by `INSTRUMENT/SATELLITE` and confidence
//! class; each camera), how many of its detections that reached a verdict were fires. Scoped
//! like tasks: admin all, a county its tasks, a patrol its township's.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;

use super::actor::Who;
use super::{ApiError, AppState};

pub async fn get(
    State(s): State<AppState>,
    who: Who,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if let Some(k) = q.keys().next() {
        return Err(ApiError::field(
            k.as_str(),
            "unknown parameter; none are taken",
        ));
    }
    let rows = s.service.precision(who.role.scope()).await?;
    Ok(Json(serde_json::json!({ "sources": rows })))
}
