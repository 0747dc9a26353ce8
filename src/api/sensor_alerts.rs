//! `POST /api/v1/sensor-alerts`: one ground-sensor alert as JSON, with its position or the
//! camera's position, bearing and distance (the camera's position may come from `[[sensors]]`).
//!
//! ```json
//! {"sensor_id": "cam-hx-01", "time": "2024-06-08T18:10:00Z", "kind": "smoke",
//!  "confidence": 0.8, "bearing_deg": 135, "distance_m": 2400,
//!  "image_url": "https://cams.example/cam-hx-01/1717870200.jpg"}
//! ```

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::auth::{Caller, Role};
use super::error::body_rejection;
use super::params::NoParams;
use super::{ApiError, AppState};
use crate::fuse::destination;
use crate::store::{AlertKind, SensorAlert};

/// A position, WGS84 degrees.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LonLat {
    pub lon: f64,
    pub lat: f64,
}

/// The JSON body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertBody {
    pub sensor_id: String,
    pub time: DateTime<Utc>,
    /// Where the fire is, when the sensor knows.
    #[serde(default)]
    pub position: Option<LonLat>,
    /// Where the camera is (default: its `[[sensors]]` entry).
    #[serde(default)]
    pub camera: Option<LonLat>,
    /// Clockwise from north, degrees.
    #[serde(default)]
    pub bearing_deg: Option<f64>,
    #[serde(default)]
    pub distance_m: Option<f64>,
    pub kind: AlertKind,
    /// 0–1.
    pub confidence: f64,
    #[serde(default)]
    pub image_url: Option<String>,
}

pub async fn post(
    State(s): State<AppState>,
    Caller(role): Caller,
    _: NoParams,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    if matches!(role, Role::Patrol(_)) {
        return Err(ApiError::Forbidden(
            "sensor alerts need the admin or a county role".into(),
        ));
    }
    let body = body.map_err(|r| body_rejection(r, s.limits.alert_bytes))?;
    let de = &mut serde_json::Deserializer::from_slice(&body);
    let a: AlertBody = serde_path_to_error::deserialize(de).map_err(|e| {
        s.service.metrics().error("bad_alert");
        let path = e.path().to_string();
        let field = if path == "." {
            "body".to_string()
        } else {
            path
        };
        ApiError::field(field, e.into_inner().to_string())
    })?;
    // Which field placed the alert, for a refusal: the position, or the camera's bearing.
    let placed_by = if a.position.is_some() {
        "position"
    } else {
        "bearing_deg"
    };
    let alert = resolve(&s, a)?;
    // Locate first, then decide: an alert that lands outside the token's reach is refused before
    // the store is touched (the ingest checks again, in its transaction, the event it would join).
    let placement = s
        .service
        .placer()
        .place(alert.lon, alert.lat, alert.footprint_m);
    if let Err(unit) = role.scope().reaches_placement(&placement) {
        tracing::warn!(
            role = %role.name(),
            sensor = %alert.sensor_id,
            unit = unit.as_deref().unwrap_or("-"),
            "sensor alert refused: outside the token's scope"
        );
        return Err(ApiError::out_of_reach(Some(placed_by), unit));
    }
    let report = s.service.ingest_alerts(vec![alert], role.scope()).await?;
    let status = if report.alerts_new > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(report)))
}

fn resolve(s: &AppState, a: AlertBody) -> Result<SensorAlert, ApiError> {
    if a.sensor_id.trim().is_empty() || a.sensor_id.len() > 128 {
        return Err(ApiError::field("sensor_id", "1 to 128 characters"));
    }
    if !(0.0..=1.0).contains(&a.confidence) {
        return Err(ApiError::field("confidence", "must lie in 0..1"));
    }
    let check = |name: &str, p: LonLat| -> Result<LonLat, ApiError> {
        if !(-180.0..=180.0).contains(&p.lon) {
            return Err(ApiError::field(
                format!("{name}.lon"),
                "must lie in -180..180",
            ));
        }
        if !(-90.0..=90.0).contains(&p.lat) {
            return Err(ApiError::field(
                format!("{name}.lat"),
                "must lie in -90..90",
            ));
        }
        Ok(p)
    };
    let (lon, lat) = match (a.position, a.bearing_deg, a.distance_m) {
        (Some(p), None, None) => {
            let p = check("position", p)?;
            (p.lon, p.lat)
        }
        (Some(_), _, _) => {
            return Err(ApiError::field(
                "position",
                "give either `position` or `bearing_deg` + `distance_m`, not both",
            ))
        }
        (None, Some(b), Some(d)) => {
            if !(0.0..=360.0).contains(&b) {
                return Err(ApiError::field("bearing_deg", "must lie in 0..360"));
            }
            if !(0.0..=50_000.0).contains(&d) {
                return Err(ApiError::field("distance_m", "must lie in 0..50000"));
            }
            let cam = match a.camera {
                Some(c) => check("camera", c)?,
                None => {
                    let (lon, lat) = s.service.sensor_position(&a.sensor_id).ok_or_else(|| {
                        ApiError::field(
                            "camera",
                            format!(
                                "sensor `{}` is not configured: give the camera position",
                                a.sensor_id
                            ),
                        )
                    })?;
                    LonLat { lon, lat }
                }
            };
            destination(cam.lon, cam.lat, b, d)
        }
        (None, None, _) => {
            return Err(ApiError::field(
                "position",
                "missing: give `position` or `bearing_deg` + `distance_m`",
            ))
        }
        (None, Some(_), None) => return Err(ApiError::field("distance_m", "missing")),
    };
    if let Some(u) = &a.image_url {
        if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() > 2048 {
            return Err(ApiError::field("image_url", "an http(s) URL"));
        }
    }
    // Year 0, 1970 or next week: a broken camera clock, not a fire to dispatch.
    s.service
        .check_time(a.time)
        .map_err(|m| ApiError::field("time", m))?;
    Ok(SensorAlert {
        sensor_id: a.sensor_id,
        time: a.time,
        lon,
        lat,
        footprint_m: s.service.camera_footprint_m(),
        kind: a.kind,
        confidence: a.confidence,
        image_url: a.image_url,
    })
}
