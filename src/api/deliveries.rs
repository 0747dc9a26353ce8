//! `GET /api/v1/deliveries?status=pending|delivered|failed&limit=N` (admin): what the webhook
//! worker has sent, is still trying, or gave up, with attempts and the last error, so an
//! operator can see a broken robot URL before a patrol misses a fire.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;

use super::auth::Caller;
use super::{ApiError, AppState};
use crate::store::deliveries::DeliveryStatus;

const KNOWN: [&str; 2] = ["status", "limit"];

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
            DeliveryStatus::parse(v)
                .ok_or_else(|| ApiError::field("status", "pending, delivered or failed"))
        })
        .transpose()?;
    let limit = match q.get("limit") {
        None => 1_000,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| ApiError::field("limit", "an integer from 1 to 10000"))?,
    };
    let (rows, counts) = s
        .service
        .store(move |st| Ok((st.deliveries(status, limit)?, st.delivery_counts()?)))
        .await?;
    Ok(Json(serde_json::json!({
        "deliveries": rows,
        "counts": counts,
    })))
}
