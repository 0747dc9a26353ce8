//! `GET /api/v1/audit?entity=task|mask_candidate&id=N`: the append-only log of one entity
//! (who, when, what, from which token). Admin; a county token for the tasks of its county.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;

use super::actor::Who;
use super::auth::Role;
use super::paged;
use super::{ApiError, AppState};

pub async fn get(
    State(s): State<AppState>,
    who: Who,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    const KNOWN: [&str; 4] = ["entity", "id", "limit", "cursor"];
    if let Some(k) = q.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::field(
            k.as_str(),
            format!("unknown parameter; known: {}", KNOWN.join(", ")),
        ));
    }
    let limit = paged::limit(&q)?;
    let after = paged::cursor(&q, "audit")?.map(|c| c.id);
    let entity = match q.get("entity").map(|e| e.trim()) {
        Some(e @ ("task" | "mask_candidate")) => e.to_string(),
        None => return Err(ApiError::field("entity", "missing: task or mask_candidate")),
        Some(_) => return Err(ApiError::field("entity", "task or mask_candidate")),
    };
    let id: i64 = q
        .get("id")
        .ok_or_else(|| ApiError::field("id", "missing"))?
        .trim()
        .parse()
        .map_err(|_| ApiError::field("id", "an integer"))?;
    match (&who.role, entity.as_str()) {
        (Role::Admin, _) => {}
        (Role::County(c), "task") => {
            let task = s
                .service
                .task(id)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("no task {id}")))?;
            if task.county.as_deref() != Some(c.as_str()) {
                return Err(ApiError::Forbidden(format!(
                    "task {id} is outside county {c}"
                )));
            }
        }
        _ => {
            return Err(ApiError::Forbidden(
                "this audit log needs the admin role (or the task's county)".into(),
            ))
        }
    }
    let e = entity.clone();
    let mut rows = s
        .service
        .store(move |st| st.audit_page(&e, id, after, limit + 1))
        .await?;
    let next = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        paged::encode("audit", 0, rows[limit - 1].id)
    });
    let entries: Vec<_> = rows
        .iter()
        .map(|a| {
            let mut j = serde_json::to_value(a).expect("audit serialises");
            j["at"] = serde_json::json!(a.at.to_rfc3339());
            j
        })
        .collect();
    Ok(Json(
        serde_json::json!({ "entity": entity, "id": id, "entries": entries, "next": next }),
    ))
}
