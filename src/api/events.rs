//! `GET /api/v1/events` (GeoJSON, filtered and scoped) and `GET /api/v1/events/{id}` (one event
//! with its sensor alerts).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auth::Caller;
use super::paged;
use super::params::filters;
use super::{ApiError, AppState};
use crate::store::{EventQuery, Keyset, StoredEvent};

/// One page of events, first seen first, streamed as a GeoJSON FeatureCollection with `next`.
pub async fn list(
    State(s): State<AppState>,
    Caller(role): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let f = filters(&q, &role)?;
    let after = paged::cursor(&q, "events")?.map(|c| Keyset { at: c.at, id: c.id });
    let limit = f.limit;
    let query = EventQuery {
        id: None,
        from: f.from,
        to: f.to,
        bbox: f.bbox,
        unit: f.unit,
        source: f.source,
        min_confidence: f.confidence,
        scope: f.scope,
        limit: limit + 1,
        after,
    };
    let store = s.service.store_handle();
    paged::stream_features(
        "events",
        limit,
        move |f| store.events_each(&query, f),
        |r| {
            (
                r.event.first_seen.timestamp(),
                r.event.id.unwrap_or_default(),
            )
        },
        feature,
    )
    .await
}

pub async fn one(
    State(s): State<AppState>,
    Caller(role): Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::field("id", "an event id (integer)"))?;
    let query = EventQuery {
        id: Some(id),
        scope: role.scope(),
        ..EventQuery::default()
    };
    // Scoped lookup: an event outside the role is "not found", not a leak of its existence.
    let event = s
        .service
        .store(move |st| Ok(st.events(&query)?.into_iter().next()))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no event {id}")))?;
    let alerts = s.service.store(move |st| st.alerts_of_event(id)).await?;
    let mut f = feature(&event);
    f["properties"]["alerts"] = alerts
        .iter()
        .map(|a| {
            serde_json::json!({
                "id": a.id,
                "sensor_id": a.alert.sensor_id,
                "time": a.alert.time.to_rfc3339(),
                "lon": a.alert.lon,
                "lat": a.alert.lat,
                "kind": a.alert.kind,
                "confidence": a.alert.confidence,
                "image_url": a.alert.image_url,
            })
        })
        .collect();
    Ok(Json(f))
}

fn feature(e: &StoredEvent) -> serde_json::Value {
    let ev = &e.event;
    serde_json::json!({
        "type": "Feature",
        "id": ev.id,
        "geometry": {"type": "Point", "coordinates": [ev.lon, ev.lat]},
        "properties": {
            "id": ev.id,
            "first_seen": ev.first_seen.to_rfc3339(),
            "last_seen": ev.last_seen.to_rfc3339(),
            "sources": ev.sources,
            "kinds": ev.kinds,
            "corroborated": ev.corroborated(),
            "max_frp_mw": ev.max_frp_mw,
            "confidence": ev.confidence(),
            "confidence_class": ev.confidence_class().as_firms(),
            "sightings": ev.sightings,
            "footprint_m": ev.footprint_m,
            "county": ev.placement.county,
            "township": ev.placement.township,
            "village": ev.placement.village,
            "parcel": ev.placement.parcel,
            "mask": ev.placement.mask,
            "updated_at": e.updated_at.to_rfc3339(),
            // Why dispatch gave it no task (e.g. `too_old`); null when it has one.
            "task_reason": e.task_reason,
        }
    })
}
