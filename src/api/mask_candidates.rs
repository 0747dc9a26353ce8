//! `GET /api/v1/mask-candidates[?status=pending|confirmed|rejected]` and
//! `POST /api/v1/mask-candidates/{id}/confirm` | `/reject` (admin). A confirmed candidate masks
//! later detections within its radius at once (and after a restart: it is loaded from the store).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::Json;

use super::actor::Who;
use super::paged;
use super::params::NoParams;
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
    const KNOWN: [&str; 3] = ["status", "limit", "cursor"];
    if let Some(k) = q.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::field(
            k.as_str(),
            format!("unknown parameter; known: {}", KNOWN.join(", ")),
        ));
    }
    let limit = paged::limit(&q)?;
    let before = paged::cursor(&q, "mask-candidates")?.map(|c| c.id);
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
    let mut list = s
        .service
        .store(move |st| st.mask_candidates_page(status.as_deref(), before, limit + 1))
        .await?;
    let next = (list.len() > limit).then(|| {
        list.truncate(limit);
        paged::encode("mask-candidates", 0, list[limit - 1].id)
    });
    Ok(Json(serde_json::json!({
        "candidates": list.iter().map(json).collect::<Vec<_>>(),
        "next": next,
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
    _: NoParams,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    decide(s, who, &id, true).await
}

pub async fn reject(
    State(s): State<AppState>,
    who: Who,
    _: NoParams,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    decide(s, who, &id, false).await
}
