//! `GET /api/v1/events` (GeoJSON, filtered and scoped) and `GET /api/v1/events/{id}` (one event
//! with its sensor alerts). Every event says what became of it (#17): its task (`task_id`,
//! `task_state`) or why it has none (`task_reason`); `task=` filters by that, and `order=newest`
//! pages newest first (the dashboard's list). The one event also carries what the map's popup
//! shows an operator: the names of its county, township and village (`place`, from the loaded
//! layers; the lists keep codes, since naming thousands of rows would scan the layers for each)
//! and its task's state, unit and next deadline (`task`, when the caller may see the task).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::auth::Caller;
use super::hotspots::Point;
use super::paged;
use super::params::{filters, NoParams};
use super::{ApiError, AppState};
use crate::dispatch::rules::REASONS;
use crate::dispatch::TaskState;
use crate::store::{EventQuery, Keyset, StoredEvent, TaskFilter};

/// One page of events, first seen first, streamed as a GeoJSON FeatureCollection with `next`.
pub async fn list(
    State(s): State<AppState>,
    Caller(role): Caller,
    Query(mut q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let task = q.remove("task").map(|v| task_filter(&v)).transpose()?;
    // `order=newest`: the dashboard's list, newest fire first; its cursors are its own.
    let newest_first = match q.remove("order").as_deref().map(str::trim) {
        None | Some("") | Some("oldest") => false,
        Some("newest") => true,
        Some(_) => return Err(ApiError::field("order", "oldest (default) or newest")),
    };
    let kind = if newest_first {
        "events-newest"
    } else {
        "events"
    };
    let f = filters(&q, &role)?;
    let after = paged::cursor(&q, kind)?.map(|c| Keyset { at: c.at, id: c.id });
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
        task,
        newest_first,
    };
    let store = s.service.store_handle();
    paged::stream_features(
        kind,
        limit,
        move |from, n, f| {
            let mut q = query.clone();
            if let Some(c) = from {
                q.after = Some(Keyset { at: c.at, id: c.id });
            }
            q.limit = n;
            store.events_each(&q, f)
        },
        |r| {
            (
                r.event.first_seen.timestamp(),
                r.event.id.unwrap_or_default(),
            )
        },
        |r, sink| sink.json(&EventFeature(r)),
    )
    .await
}

pub async fn one(
    State(s): State<AppState>,
    Caller(role): Caller,
    _: NoParams,
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
    let layers = s.service.placer().admin_layers();
    let pl = &event.event.placement;
    let name = |code: &Option<String>| {
        code.as_deref()
            .and_then(|c| crate::notify::deliver::unit_name(layers, c))
    };
    f["properties"]["place"] = serde_json::json!({
        "county": name(&pl.county),
        "township": name(&pl.township),
        "village": name(&pl.village),
    });
    if let Some((task_id, _)) = &event.task {
        if let Some(t) = s.service.task(*task_id).await? {
            if super::tasks::may_see(&role, &t) {
                let next = t.next_due();
                f["properties"]["task"] = serde_json::json!({
                    "id": t.id,
                    "state": t.state.as_str(),
                    "unit": t.unit,
                    "priority": t.priority,
                    "next_deadline": next.map(|(d, _)| d.as_str()),
                    "next_due": next.map(|(_, at)| at.to_rfc3339()),
                    "overdue": t.overdue(s.service.clock().now()),
                    "escalations": t.escalations,
                });
            }
        }
    }
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

/// `task=`: `any` (with a task), `none` (without), `open` or a task state, or a reason for
/// having none.
fn task_filter(v: &str) -> Result<TaskFilter, ApiError> {
    let v = v.trim();
    Ok(match v {
        "any" => TaskFilter::Any,
        "none" => TaskFilter::None,
        "open" => TaskFilter::State(v.into()),
        _ if TaskState::parse(v).is_some() => TaskFilter::State(v.into()),
        _ if REASONS.contains(&v) => TaskFilter::Reason(v.into()),
        _ => {
            let states: Vec<&str> = TaskState::ALL.iter().map(|s| s.as_str()).collect();
            return Err(ApiError::field(
                "task",
                format!(
                    "any, none, open, a task state ({}) or a reason for no task ({})",
                    states.join(", "),
                    REASONS.join(", ")
                ),
            ));
        }
    })
}

fn feature(e: &StoredEvent) -> serde_json::Value {
    serde_json::to_value(EventFeature(e)).expect("an event serializes")
}

/// One event as a GeoJSON Feature, serialized straight into a list's answer (no JSON tree per
/// row; see `hotspots::HotspotFeature`).
struct EventFeature<'a>(&'a StoredEvent);

impl Serialize for EventFeature<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let ev = &e.event;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("type", "Feature")?;
        m.serialize_entry("id", &ev.id)?;
        m.serialize_entry("geometry", &Point(ev.lon, ev.lat))?;
        m.serialize_entry("properties", &EventProperties(e))?;
        m.end()
    }
}

struct EventProperties<'a>(&'a StoredEvent);

impl Serialize for EventProperties<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let ev = &e.event;
        let mut m = s.serialize_map(Some(21))?;
        m.serialize_entry("id", &ev.id)?;
        m.serialize_entry("first_seen", &ev.first_seen.to_rfc3339())?;
        m.serialize_entry("last_seen", &ev.last_seen.to_rfc3339())?;
        m.serialize_entry("sources", &ev.sources)?;
        m.serialize_entry("kinds", &ev.kinds)?;
        m.serialize_entry("corroborated", &ev.corroborated())?;
        m.serialize_entry("max_frp_mw", &ev.max_frp_mw)?;
        m.serialize_entry("confidence", &ev.confidence())?;
        m.serialize_entry("confidence_class", &ev.confidence_class().as_firms())?;
        m.serialize_entry("sightings", &ev.sightings)?;
        m.serialize_entry("footprint_m", &ev.footprint_m)?;
        m.serialize_entry("county", &ev.placement.county)?;
        m.serialize_entry("township", &ev.placement.township)?;
        m.serialize_entry("village", &ev.placement.village)?;
        m.serialize_entry("parcel", &ev.placement.parcel)?;
        m.serialize_entry("mask", &ev.placement.mask)?;
        m.serialize_entry("updated_at", &e.updated_at.to_rfc3339())?;
        // Why dispatch gave it no task (e.g. `too_old`); null when it has one.
        let reason = if e.task.is_some() {
            None
        } else {
            e.task_reason.as_deref()
        };
        m.serialize_entry("task_reason", &reason)?;
        m.serialize_entry("task_id", &e.task.as_ref().map(|t| t.0))?;
        m.serialize_entry("task_state", &e.task.as_ref().map(|t| t.1.as_str()))?;
        m.end()
    }
}
