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
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::auth::Caller;
use super::error::body_rejection;
use super::paged;
use super::params::{filters, NoParams};
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
        |r, sink| sink.json(&HotspotFeature(r)),
    )
    .await
}

/// Hotspots as a GeoJSON FeatureCollection with the FIRMS properties plus id, origin, event and
/// placement.
pub fn feature_collection(rows: &[StoredHotspot]) -> serde_json::Value {
    let features: Vec<serde_json::Value> = rows.iter().map(feature).collect();
    serde_json::json!({"type": "FeatureCollection", "features": features})
}

/// One hotspot as a GeoJSON Feature (as a JSON tree; the list writes [`HotspotFeature`]).
pub fn feature(r: &StoredHotspot) -> serde_json::Value {
    serde_json::to_value(HotspotFeature(r)).expect("a hotspot serializes")
}

/// One hotspot as a GeoJSON Feature with the FIRMS properties plus id, origin, event and
/// placement, serialized straight into the answer: a list writes thousands of them, and
/// building each as a `serde_json::Value` first (a map of 25 owned keys, two date strings
/// formatted through strftime patterns) was most of the CPU a small page cost after its query.
pub struct HotspotFeature<'a>(pub &'a StoredHotspot);

/// A GeoJSON Point.
pub struct Point(pub f64, pub f64);

impl Serialize for Point {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("type", "Point")?;
        m.serialize_entry("coordinates", &[self.0, self.1])?;
        m.end()
    }
}

impl Serialize for HotspotFeature<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let h = &r.hotspot;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("type", "Feature")?;
        m.serialize_entry("id", &r.id)?;
        m.serialize_entry("geometry", &Point(h.longitude, h.latitude))?;
        m.serialize_entry("properties", &Properties(r))?;
        m.end()
    }
}

/// The properties of a [`HotspotFeature`].
struct Properties<'a>(&'a StoredHotspot);

impl Serialize for Properties<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use chrono::{Datelike, Timelike};
        let r = self.0;
        let h = &r.hotspot;
        let (mir, tir) = if h.is_modis() {
            ("brightness", "bright_t31")
        } else {
            ("bright_ti4", "bright_ti5")
        };
        let t = h.acq_time;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &r.id)?;
        m.serialize_entry("origin", &r.origin)?;
        m.serialize_entry("latitude", &h.latitude)?;
        m.serialize_entry("longitude", &h.longitude)?;
        m.serialize_entry(mir, &h.bt_mir_k)?;
        m.serialize_entry("scan", &h.scan_km)?;
        m.serialize_entry("track", &h.track_km)?;
        m.serialize_entry(
            "acq_date",
            &format_args!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day()),
        )?;
        m.serialize_entry(
            "acq_time",
            &format_args!("{:02}{:02}", t.hour(), t.minute()),
        )?;
        m.serialize_entry("acq_datetime", &t.to_rfc3339())?;
        m.serialize_entry("satellite", &h.satellite)?;
        m.serialize_entry("instrument", &h.instrument)?;
        m.serialize_entry("confidence", &h.confidence.as_firms())?;
        m.serialize_entry("version", &h.version)?;
        m.serialize_entry(tir, &h.bt_tir_k)?;
        m.serialize_entry("frp", &h.frp_mw)?;
        m.serialize_entry("daynight", h.daynight.as_firms())?;
        m.serialize_entry("event_id", &r.event_id)?;
        m.serialize_entry("county", &r.placement.county)?;
        m.serialize_entry("township", &r.placement.township)?;
        m.serialize_entry("village", &r.placement.village)?;
        m.serialize_entry("parcel", &r.placement.parcel)?;
        m.serialize_entry("mask", &r.placement.mask)?;
        if let (Some(row), Some(col)) = (h.row, h.col) {
            m.serialize_entry("row", &row)?;
            m.serialize_entry("col", &col)?;
        }
        m.end()
    }
}

pub async fn post(
    State(s): State<AppState>,
    Caller(role): Caller,
    _: NoParams,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuse::Placement;
    use crate::hotspot::{Confidence, DayNight, Hotspot};
    use chrono::TimeZone;

    fn stored(instrument: &str, row_col: Option<(usize, usize)>) -> StoredHotspot {
        StoredHotspot {
            id: 7,
            origin: "feed".into(),
            hotspot: Hotspot {
                latitude: 35.5,
                longitude: 114.25,
                bt_mir_k: Some(330.5),
                bt_tir_k: None,
                scan_km: Some(0.39),
                track_km: None,
                acq_time: chrono::Utc.with_ymd_and_hms(2024, 6, 8, 5, 7, 9).unwrap(),
                satellite: "N20".into(),
                instrument: instrument.into(),
                confidence: Confidence::Nominal,
                version: "2.0NRT".into(),
                frp_mw: None,
                daynight: DayNight::Day,
                fire_type: None,
                row: row_col.map(|r| r.0),
                col: row_col.map(|r| r.1),
            },
            placement: Placement {
                county: Some("410526".into()),
                township: Some("410526100".into()),
                ..Placement::default()
            },
            event_id: Some(3),
        }
    }

    #[test]
    fn a_hotspot_feature_is_the_firms_record_as_geojson() {
        let v = serde_json::to_value(HotspotFeature(&stored("VIIRS", Some((12, 34))))).unwrap();
        let want = serde_json::json!({
            "type": "Feature",
            "id": 7,
            "geometry": {"type": "Point", "coordinates": [114.25, 35.5]},
            "properties": {
                "id": 7, "origin": "feed", "latitude": 35.5, "longitude": 114.25,
                "bright_ti4": 330.5, "bright_ti5": null, "scan": 0.39, "track": null,
                "acq_date": "2024-06-08", "acq_time": "0507",
                "acq_datetime": "2024-06-08T05:07:09+00:00",
                "satellite": "N20", "instrument": "VIIRS", "confidence": "n",
                "version": "2.0NRT", "frp": null, "daynight": "D", "event_id": 3,
                "county": "410526", "township": "410526100", "village": null,
                "parcel": null, "mask": null, "row": 12, "col": 34,
            },
        });
        assert_eq!(v, want);
        // MODIS names its temperatures as FIRMS does; no pixel position, no row/col.
        let p = &feature(&stored("MODIS", None))["properties"];
        assert_eq!(p["brightness"], 330.5);
        assert!(p.get("bright_ti4").is_none() && p.get("row").is_none());
        assert!(p["bright_t31"].is_null());
    }
}
