//! `GET /api/v1/units/{code}`: what the store knows of a unit (county, township, village or
//! parcel code): counts of hotspots and events, last seen. Names and geometry come with the
//! locate layers. `GET /api/v1/units?level=..`: the boundaries themselves, for the map.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use geo::Rect;

use super::auth::{Caller, Role};
use super::{ApiError, AppState};
use crate::locate::{Level, UnitInfo, UnitLayer};

pub async fn one(
    State(s): State<AppState>,
    Caller(role): Caller,
    Path(code): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    super::params::max_chars("code", &code, super::params::MAX_CODE_CHARS)?;
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(ApiError::field("code", "a unit code (digits)"));
    }
    if !role.reaches(&code) {
        return Err(ApiError::Forbidden(format!(
            "unit {code} is outside the scope of this token"
        )));
    }
    let c = code.clone();
    let stats = s.service.store(move |st| st.unit(&c)).await?;
    if stats.level.is_none() {
        return Err(ApiError::NotFound(format!(
            "no hotspot or event in unit {code}"
        )));
    }
    Ok(Json(stats))
}

/// Parcels sent at most per request unless `limit` says otherwise: a county has hundreds of
/// thousands, and a map asks only for the fields in view.
const PARCEL_LIMIT: usize = 5_000;

/// `GET /api/v1/units?level=county|township|village|parcel[&bbox=w,s,e,n][&limit=N]`: unit
/// boundaries as a GeoJSON FeatureCollection (properties `code`, `name`, `level`, `parent`), drawn
/// by the dashboard as vector layers (the machines are offline: no basemap to lean on). From the
/// layers loaded at start (`[layers]`), not the store. Parcels need a `bbox` (there may be
/// millions) and answer 400 naming `bbox` when more than `limit` lie in it. County and patrol
/// tokens get the units they reach: their own code or a child of it (a parcel by its township).
pub async fn list(
    State(s): State<AppState>,
    Caller(role): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<impl IntoResponse, ApiError> {
    const KNOWN: [&str; 3] = ["level", "bbox", "limit"];
    if let Some(k) = q.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::field(
            k.as_str(),
            format!("unknown parameter; known: {}", KNOWN.join(", ")),
        ));
    }
    let level = match q.get("level").map(|l| l.trim()).unwrap_or("county") {
        "county" => Level::County,
        "township" => Level::Township,
        "village" => Level::Village,
        "parcel" => Level::Parcel,
        other => {
            return Err(ApiError::field(
                "level",
                format!("`{other}`: one of county, township, village, parcel"),
            ))
        }
    };
    let bbox = q.get("bbox").map(|b| parse_bbox(b)).transpose()?;
    let limit = match q.get("limit") {
        None => PARCEL_LIMIT,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| ApiError::field("limit", "an integer from 1 to 100000"))?,
    };
    if level == Level::Parcel && bbox.is_none() {
        return Err(ApiError::field(
            "bbox",
            "parcels are listed only for a bbox (west,south,east,north): there may be millions",
        ));
    }
    let placer = s.service.placer().clone();
    let body = tokio::task::spawn_blocking(move || {
        let layer = if level == Level::Parcel {
            placer.parcel_layer()
        } else {
            placer.admin_layers().iter().find(|l| l.level == level)
        };
        let Some(layer) = layer else {
            return Ok(boundaries(level, None, &[]));
        };
        let indices: Vec<usize> = match bbox {
            Some([w, s, e, n]) => {
                let mut hits: Vec<usize> = layer
                    .index
                    .overlaps(Rect::new((w, s), (e, n)))
                    .into_iter()
                    .map(|o| o.index)
                    .collect();
                hits.sort_unstable();
                hits
            }
            None => (0..layer.units.len()).collect(),
        };
        let indices: Vec<usize> = indices
            .into_iter()
            .filter(|&i| unit_reaches(&role, &layer.units[i]))
            .collect();
        if level == Level::Parcel && indices.len() > limit {
            return Err(ApiError::field(
                "bbox",
                format!(
                    "{} parcels lie in this bbox, more than the limit of {limit}: zoom in",
                    indices.len()
                ),
            ));
        }
        Ok(boundaries(level, Some(layer), &indices))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], body))
}

fn parse_bbox(v: &str) -> Result<[f64; 4], ApiError> {
    // The same rules as the hotspot and event filters.
    let mut q = HashMap::new();
    q.insert("bbox".to_string(), v.to_string());
    super::params::filters(&q, &Role::Admin)?
        .bbox
        .ok_or_else(|| ApiError::field("bbox", "four numbers west,south,east,north"))
}

/// A unit is in reach when its code is (a county's townships start with its adcode), or its
/// parent is (parcel ids are not hierarchical: a parcel belongs to its township).
fn unit_reaches(role: &Role, u: &UnitInfo) -> bool {
    role.reaches(&u.code) || u.parent.as_deref().is_some_and(|p| role.reaches(p))
}

/// The GeoJSON text of the chosen units (built as text: a few thousand polygons of a few hundred
/// vertices each are megabytes, and a `serde_json::Value` tree of them would be several times
/// that in memory).
fn boundaries(level: Level, layer: Option<&UnitLayer>, indices: &[usize]) -> String {
    use std::fmt::Write;
    let mut out = String::from(r#"{"type":"FeatureCollection","features":["#);
    let Some(layer) = layer else {
        out.push_str("]}");
        return out;
    };
    for (n, &i) in indices.iter().enumerate() {
        let u = &layer.units[i];
        if n > 0 {
            out.push(',');
        }
        let props = serde_json::json!({
            "code": u.code,
            "name": u.name,
            "level": level.as_str(),
            "parent": u.parent,
        });
        let _ = write!(
            out,
            r#"{{"type":"Feature","id":{},"properties":{},"geometry":{{"type":"MultiPolygon","coordinates":["#,
            serde_json::Value::String(u.code.clone()),
            props
        );
        for (pi, poly) in layer.index.shape(i).0.iter().enumerate() {
            if pi > 0 {
                out.push(',');
            }
            out.push('[');
            let rings = std::iter::once(poly.exterior()).chain(poly.interiors().iter());
            for (ri, ring) in rings.enumerate() {
                if ri > 0 {
                    out.push(',');
                }
                out.push('[');
                for (ci, c) in ring.coords().enumerate() {
                    if ci > 0 {
                        out.push(',');
                    }
                    // 1e-6° is 0.1 m: finer than any boundary here, and a third of the bytes.
                    let _ = write!(out, "[{:.6},{:.6}]", c.x, c.y);
                }
                out.push(']');
            }
            out.push(']');
        }
        out.push_str("]}}");
    }
    out.push_str("]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, MultiPolygon};

    fn layer() -> UnitLayer {
        let sq = |x: f64, y: f64| {
            MultiPolygon(vec![polygon![
                (x: x, y: y), (x: x + 1.0, y: y), (x: x + 1.0, y: y + 1.0), (x: x, y: y + 1.0), (x: x, y: y)
            ]])
        };
        UnitLayer::new(
            Level::Township,
            vec![
                crate::locate::AreaFeature {
                    code: "410526100".into(),
                    name: "城关镇".into(),
                    parent: Some("410526".into()),
                    cropland_ha: None,
                    shape: sq(114.0, 35.0),
                },
                crate::locate::AreaFeature {
                    code: "410527100".into(),
                    name: "城关镇".into(),
                    parent: Some("410527".into()),
                    cropland_ha: None,
                    shape: sq(116.0, 35.0),
                },
            ],
        )
    }

    #[test]
    fn boundaries_are_valid_geojson_with_closed_rings() {
        let l = layer();
        let text = boundaries(Level::Township, Some(&l), &[0, 1]);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let f = v["features"].as_array().unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0]["properties"]["code"], "410526100");
        assert_eq!(f[0]["properties"]["level"], "township");
        assert_eq!(f[0]["properties"]["parent"], "410526");
        let ring = f[1]["geometry"]["coordinates"][0][0].as_array().unwrap();
        assert_eq!(ring.len(), 5);
        assert_eq!(ring[0], ring[4]);
        assert_eq!(ring[1], serde_json::json!([117.0, 35.0]));
        let empty = boundaries(Level::Parcel, None, &[]);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&empty).unwrap()["features"],
            serde_json::json!([])
        );
    }

    #[test]
    fn a_unit_is_reached_by_its_code_or_its_parent() {
        let l = layer();
        let county = Role::County("410526".into());
        assert!(unit_reaches(&county, &l.units[0]));
        assert!(!unit_reaches(&county, &l.units[1]));
        let parcel = UnitInfo {
            code: "HUA-1-2".into(),
            name: String::new(),
            parent: Some("410526101".into()),
            cropland_ha: None,
        };
        assert!(unit_reaches(&Role::Patrol("410526101".into()), &parcel));
        assert!(!unit_reaches(&Role::Patrol("410526100".into()), &parcel));
        assert!(unit_reaches(&county, &parcel));
    }
}
