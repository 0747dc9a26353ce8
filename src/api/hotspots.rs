//! `GET /api/v1/hotspots` (GeoJSON, filtered and scoped) and `POST /api/v1/hotspots` (a FIRMS
//! CSV body, or GeoJSON with `Content-Type: application/geo+json`). A posted body is taken
//! whole or not at all: a row that cannot be read rejects the body with its line and field, so
//! the sender fixes it rather than losing the row silently.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};

use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auth::Caller;
use super::error::body_rejection;
use super::paged;
use super::params::filters;
use super::{ApiError, AppState};
use crate::service::Service;
use crate::store::{HotspotQuery, Keyset, StoredHotspot};

/// One page of hotspots, oldest first, streamed as a GeoJSON FeatureCollection with `next`
/// (see `paged.rs`).
pub async fn list(
    State(s): State<AppState>,
    Caller(role): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let f = filters(&q, &role)?;
    let after = paged::cursor(&q, "hotspots")?.map(|c| Keyset { at: c.at, id: c.id });
    let limit = f.limit;
    let query = HotspotQuery {
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
        "hotspots",
        limit,
        move |from, n, f| {
            let mut q = query.clone();
            if let Some(c) = from {
                q.after = Some(Keyset { at: c.at, id: c.id });
            }
            q.limit = n;
            store.hotspots_each(&q, f)
        },
        |r| (r.hotspot.acq_time.timestamp(), r.id),
        feature,
    )
    .await
}

/// Hotspots as a GeoJSON FeatureCollection with the FIRMS properties plus id, origin, event and
/// placement.
pub fn feature_collection(rows: &[StoredHotspot]) -> serde_json::Value {
    let features: Vec<serde_json::Value> = rows.iter().map(feature).collect();
    serde_json::json!({"type": "FeatureCollection", "features": features})
}

/// One hotspot as a GeoJSON Feature.
pub fn feature(r: &StoredHotspot) -> serde_json::Value {
    let h = &r.hotspot;
    let (mir, tir) = if h.is_modis() {
        ("brightness", "bright_t31")
    } else {
        ("bright_ti4", "bright_ti5")
    };
    let mut p = serde_json::json!({
        "id": r.id,
        "origin": r.origin,
        "latitude": h.latitude,
        "longitude": h.longitude,
        mir: h.bt_mir_k,
        "scan": h.scan_km,
        "track": h.track_km,
        "acq_date": h.acq_time.format("%Y-%m-%d").to_string(),
        "acq_time": h.acq_time.format("%H%M").to_string(),
        "acq_datetime": h.acq_time.to_rfc3339(),
        "satellite": h.satellite,
        "instrument": h.instrument,
        "confidence": h.confidence.as_firms(),
        "version": h.version,
        tir: h.bt_tir_k,
        "frp": h.frp_mw,
        "daynight": h.daynight.as_firms(),
        "event_id": r.event_id,
        "county": r.placement.county,
        "township": r.placement.township,
        "village": r.placement.village,
        "parcel": r.placement.parcel,
        "mask": r.placement.mask,
    });
    if let (Some(row), Some(col)) = (h.row, h.col) {
        p["row"] = row.into();
        p["col"] = col.into();
    }
    serde_json::json!({
        "type": "Feature",
        "id": r.id,
        "geometry": {"type": "Point", "coordinates": [h.longitude, h.latitude]},
        "properties": p,
    })
}

pub async fn post(
    State(s): State<AppState>,
    Caller(role): Caller,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    role.require_admin("posting hotspots")?;
    let body = body.map_err(|r| body_rejection(r, s.limits.feed_bytes))?;
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("text/csv")
        .to_ascii_lowercase();
    let name = if ctype.contains("json") {
        "body.geojson"
    } else if ctype.starts_with("text/csv") || ctype.starts_with("text/plain") || ctype.is_empty() {
        "body.csv"
    } else {
        return Err(ApiError::field(
            "Content-Type",
            format!("`{ctype}`: send text/csv (FIRMS CSV) or application/geo+json"),
        ));
    };
    if body.is_empty() {
        return Err(ApiError::BadBody {
            status: StatusCode::BAD_REQUEST,
            message: "empty body: send a FIRMS CSV with its header line".into(),
            details: Vec::new(),
        });
    }
    let feed = Service::parse_feed(name, &body).map_err(|e| {
        s.service.metrics().error("bad_feed");
        ApiError::BadBody {
            status: StatusCode::BAD_REQUEST,
            message: e.to_string(),
            details: Vec::new(),
        }
    })?;
    // A row dated where no detection can be is a bad row like any other: the body is refused.
    let mut feed = feed;
    s.service.screen_times(&mut feed);
    if !feed.warnings.is_empty() {
        s.service.metrics().error("bad_feed");
        let first = &feed.warnings[0];
        let details: Vec<String> = feed
            .warnings
            .iter()
            .take(20)
            .map(|w| w.to_string())
            .collect();
        return Err(ApiError::BadBody {
            status: StatusCode::BAD_REQUEST,
            message: format!(
                "{} row(s) cannot be read, nothing stored; first: {} {}{}: {}",
                feed.warnings.len(),
                first.unit,
                first.line,
                first
                    .field
                    .as_ref()
                    .map(|f| format!(", field `{f}`"))
                    .unwrap_or_default(),
                first.message
            ),
            details,
        });
    }
    // Text fields are bounded: the whole body is refused naming the first row over a limit.
    for row in &feed.rows {
        let h = &row.hotspot;
        for (field, v) in [
            ("satellite", &h.satellite),
            ("instrument", &h.instrument),
            ("version", &h.version),
        ] {
            if v.chars().count() > super::params::MAX_NAME_CHARS {
                return Err(ApiError::field(
                    field,
                    format!(
                        "line {}: at most {} characters; nothing was stored",
                        row.line,
                        super::params::MAX_NAME_CHARS
                    ),
                ));
            }
        }
    }
    let done = s.service.ingest_feed(name, &body, feed, "post").await?;
    let status = if done.report.already_ingested || done.report.hotspots_new == 0 {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(done)))
}
