//! `GET /api/v1/mask-candidates[?status=pending|confirmed|rejected]` and
//! `POST /api/v1/mask-candidates/{id}/confirm` | `/reject` (admin). A confirmed candidate masks
//! later detections within its radius at once (and after a restart: it is loaded from the store).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::Json;

use super::actor::Who;
use super::{ApiError, AppState};
use crate::store::tasks::MaskCandidate;

fn json(c: &MaskCandidate) -> serde_json::Value {
    let mut j = serde_json::to_value(c).expect("a candidate serialises");
    j["created_at"] = serde_json::json!(c.created_at.to_rfc3339());
    j["decided_at"] = serde_json::json!(c.decided_at.map(|t| t.to_rfc3339()));
    j
}

pub async fn list(
    State(s): State<AppState>,
    who: Who,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    who.role.require_admin("listing mask candidates")?;
    if let Some(k) = q.keys().find(|k| k.as_str() != "status") {
        return Err(ApiError::field(
            k.as_str(),
            "unknown parameter; known: status",
        ));
    }
    let status = match q.get("status").map(|s| s.trim()) {
        None | Some("") | Some("all") => None,
        Some(v @ ("pending" | "confirmed" | "rejected")) => Some(v.to_string()),
        Some(_) => {
            return Err(ApiError::field(
                "status",
                "pending, confirmed, rejected or all",
            ))
        }
    };
    let list = s.service.mask_candidates(status).await?;
    Ok(Json(serde_json::json!({
        "candidates": list.iter().map(json).collect::<Vec<_>>()
    })))
}

async fn decide(
    s: AppState,
    who: Who,
    id: &str,
    confirm: bool,
) -> Result<Json<serde_json::Value>, ApiError> {
    who.role.require_admin("deciding mask candidates")?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::field("id", "a mask candidate id (integer)"))?;
    let c = s
        .service
        .decide_mask_candidate(id, confirm, who.actor)
        .await?;
    Ok(Json(json(&c)))
}

pub async fn confirm(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    decide(s, who, &id, true).await
}

pub async fn reject(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    decide(s, who, &id, false).await
}
