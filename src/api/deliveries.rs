//! `GET /api/v1/deliveries?status=pending|delivered|failed|superseded&limit=N` (admin): what
//! the webhook worker has sent, is still trying, gave up, or will never send because its
//! notice no longer holds (the task cancelled or reassigned first: `superseded_at`,
//! `superseded_by`), with attempts and the last error, so an operator can see a broken robot
//! URL before a patrol misses a fire.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;

use super::auth::Caller;
use super::paged;
use super::{ApiError, AppState};
use crate::store::deliveries::DeliveryStatus;

const KNOWN: [&str; 3] = ["status", "limit", "cursor"];

pub async fn list(
    State(s): State<AppState>,
    Caller(role): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    role.require_admin("listing deliveries")?;
    if let Some(k) = q.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::field(
            k.as_str(),
            format!("unknown parameter; known: {}", KNOWN.join(", ")),
        ));
    }
    let status = q
        .get("status")
        .map(|v| {
            DeliveryStatus::parse(v).ok_or_else(|| {
                ApiError::field("status", "pending, delivered, failed or superseded")
            })
        })
        .transpose()?;
    let limit = paged::limit(&q)?;
    let before = paged::cursor(&q, "deliveries")?.map(|c| c.id);
    let (mut rows, counts) = s
        .service
        .store(move |st| {
            Ok((
                st.deliveries(status, before, limit + 1)?,
                st.delivery_counts()?,
            ))
        })
        .await?;
    let next = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        paged::encode("deliveries", 0, rows[limit - 1].id)
    });
    Ok(Json(serde_json::json!({
        "deliveries": rows,
        "counts": counts,
        "next": next,
    })))
}
