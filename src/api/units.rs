//! `GET /api/v1/units/{code}`: what the store knows of a unit (county, township, village or
//! parcel code): counts of hotspots and events, last seen. Names and geometry come with the
//! locate layers. `GET /api/v1/units?level=..`: the boundaries themselves, for the map.

use std::collections::HashMap;

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use geo::Rect;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::auth::{Caller, Role};
use super::paged;
use super::params::NoParams;
use super::{ApiError, AppState};
use crate::fuse::Placer;
use crate::locate::{Level, UnitInfo, UnitLayer};

pub async fn one(
    State(s): State<AppState>,
    Caller(role): Caller,
    _: NoParams,
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

/// Parcels in one bbox at most: a map asks only for the fields in view, and more than this is
/// a view zoomed out too far to draw them (400 naming `bbox`: zoom in), whatever the page size.
pub const PARCELS_IN_VIEW: usize = 5_000;

/// `GET /api/v1/units?level=county|township|village|parcel[&bbox=w,s,e,n][&limit=N][&cursor=C]`:
/// unit boundaries as a GeoJSON FeatureCollection (properties `code`, `name`, `level`, `parent`),
/// drawn by the dashboard as vector layers (the machines are offline: no basemap to lean on).
/// From the layers loaded at start (`[layers]`), not the store. Paged like every list
/// (`paged.rs`: `limit` rows, default 1,000, at most 5,000, and `next`), in the layer's order; a
/// unit's polygons are serialized one feature at a time as the page streams, so a request holds
/// one feature's text, not the whole layer's. Parcels need a `bbox` (there may be millions) and
/// answer 400 naming `bbox` when more than [`PARCELS_IN_VIEW`] lie in it. County and patrol tokens
/// get the units they reach: their own code or a child of it (a parcel by its township).
pub async fn list(
    State(s): State<AppState>,
    Caller(role): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    const KNOWN: [&str; 4] = ["level", "bbox", "limit", "cursor"];
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
    let limit = paged::limit(&q)?;
    // A cursor belongs to the list of one level: `units-county`, `units-parcel`, ...
    let kind = cursor_kind(level);
    let after = paged::cursor(&q, kind)?.map(|c| c.id);
    if level == Level::Parcel && bbox.is_none() {
        return Err(ApiError::field(
            "bbox",
            "parcels are listed only for a bbox (west,south,east,north): there may be millions",
        ));
    }
    let placer = s.service.placer().clone();
    let p = placer.clone();
    let indices = tokio::task::spawn_blocking(move || {
        layer_of(p.as_ref(), level)
            .map(|layer| select(layer, bbox, &role, after, PARCELS_IN_VIEW))
            .transpose()
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??
    .unwrap_or_default();
    paged::stream_features(
        kind,
        limit,
        move |from, n, f| {
            let start = match from {
                Some(c) => indices.partition_point(|&i| i as i64 <= c.id),
                None => 0,
            };
            for &i in indices.iter().skip(start).take(n) {
                if !f(i) {
                    break;
                }
            }
            Ok(())
        },
        |&i| (0, i as i64),
        move |&i, sink| {
            sink.json(&UnitFeature {
                placer: placer.clone(),
                level,
                index: i,
            })
        },
    )
    .await
}

/// The cursor kind of a level's list.
fn cursor_kind(level: Level) -> &'static str {
    match level {
        Level::County => "units-county",
        Level::Township => "units-township",
        Level::Village => "units-village",
        Level::Parcel => "units-parcel",
        Level::Mask => "units-mask",
    }
}

/// The loaded layer of a level, if any.
fn layer_of(placer: &dyn Placer, level: Level) -> Option<&UnitLayer> {
    if level == Level::Parcel {
        placer.parcel_layer()
    } else {
        placer.admin_layers().iter().find(|l| l.level == level)
    }
}

/// The units of `layer` a list answers, in layer order: those overlapping `bbox` (all without
/// one), in the role's reach, after the cursor's index `after`. A parcel layer with more than
/// `max_parcels` in reach within the bbox is refused naming `bbox` (counted over the whole
/// bbox, not the page, so every page of one view agrees).
fn select(
    layer: &UnitLayer,
    bbox: Option<[f64; 4]>,
    role: &Role,
    after: Option<i64>,
    max_parcels: usize,
) -> Result<Vec<usize>, ApiError> {
    let indices: Vec<usize> = match bbox {
        Some([w, s, e, n]) => {
            let mut hits: Vec<usize> = layer
                .index
                .overlaps(Rect::new((w, s), (e, n)))
                .into_iter()
                .map(|o| o.index)
                .collect();
            hits.sort_unstable();
            hits.dedup();
            hits
        }
        None => (0..layer.units.len()).collect(),
    };
    let indices: Vec<usize> = indices
        .into_iter()
        .filter(|&i| unit_reaches(role, &layer.units[i]))
        .collect();
    if layer.level == Level::Parcel && indices.len() > max_parcels {
        return Err(ApiError::field(
            "bbox",
            format!(
                "{} parcels lie in this bbox, more than {max_parcels}: zoom in",
                indices.len()
            ),
        ));
    }
    Ok(match after {
        Some(a) => indices.into_iter().filter(|&i| i as i64 > a).collect(),
        None => indices,
    })
}

/// One unit of a layer as a GeoJSON Feature, serialized straight from the layer (no
/// `serde_json::Value` tree of its polygons: a county boundary has thousands of vertices).
struct UnitFeature {
    placer: Arc<dyn Placer>,
    level: Level,
    index: usize,
}

impl Serialize for UnitFeature {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let layer = layer_of(self.placer.as_ref(), self.level)
            .ok_or_else(|| serde::ser::Error::custom("the unit layer is gone"))?;
        let u = &layer.units[self.index];
        let mut f = ser.serialize_map(Some(4))?;
        f.serialize_entry("type", "Feature")?;
        f.serialize_entry("id", &u.code)?;
        f.serialize_entry(
            "properties",
            &serde_json::json!({
                "code": u.code,
                "name": u.name,
                "level": self.level.as_str(),
                "parent": u.parent,
            }),
        )?;
        f.serialize_entry("geometry", &Geometry(&layer.index.shape(self.index).0))?;
        f.end()
    }
}

/// A MultiPolygon's GeoJSON geometry.
struct Geometry<'a>(&'a [geo::Polygon<f64>]);

impl Serialize for Geometry<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut g = ser.serialize_map(Some(2))?;
        g.serialize_entry("type", "MultiPolygon")?;
        g.serialize_entry("coordinates", &Polygons(self.0))?;
        g.end()
    }
}

struct Polygons<'a>(&'a [geo::Polygon<f64>]);

impl Serialize for Polygons<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_seq(
            self.0
                .iter()
                .map(|p| Rings(std::iter::once(p.exterior()).chain(p.interiors()).collect())),
        )
    }
}

struct Rings<'a>(Vec<&'a geo::LineString<f64>>);

impl Serialize for Rings<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        // 1e-6° is 0.1 m: finer than any boundary here, and a third of the bytes.
        let round = |v: f64| (v * 1e6).round() / 1e6;
        ser.collect_seq(
            self.0
                .iter()
                .map(|ring| Coords(ring.coords().map(|c| [round(c.x), round(c.y)]).collect())),
        )
    }
}

struct Coords(Vec<[f64; 2]>);

impl Serialize for Coords {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_seq(self.0.iter())
    }
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

    /// A placer that holds one township layer.
    struct Towns(UnitLayer);

    impl Placer for Towns {
        fn place(&self, _: f64, _: f64, _: f64) -> crate::fuse::Placement {
            crate::fuse::Placement::default()
        }
        fn admin_layers(&self) -> &[UnitLayer] {
            std::slice::from_ref(&self.0)
        }
    }

    #[test]
    fn a_unit_feature_is_geojson_with_closed_rings() {
        let placer: Arc<dyn Placer> = Arc::new(Towns(layer()));
        let f = |index| {
            serde_json::to_value(UnitFeature {
                placer: placer.clone(),
                level: Level::Township,
                index,
            })
            .unwrap()
        };
        let (a, b) = (f(0), f(1));
        assert_eq!(a["type"], "Feature");
        assert_eq!(a["id"], "410526100");
        assert_eq!(a["properties"]["code"], "410526100");
        assert_eq!(a["properties"]["level"], "township");
        assert_eq!(a["properties"]["parent"], "410526");
        assert_eq!(b["geometry"]["type"], "MultiPolygon");
        let ring = b["geometry"]["coordinates"][0][0].as_array().unwrap();
        assert_eq!(ring.len(), 5);
        assert_eq!(ring[0], ring[4]);
        assert_eq!(ring[1], serde_json::json!([117.0, 35.0]));
    }

    #[test]
    fn a_selection_is_scoped_boxed_after_its_cursor_and_parcels_are_bounded() {
        let l = layer();
        let all = select(&l, None, &Role::Admin, None, 10).unwrap();
        assert_eq!(all, [0, 1]);
        assert_eq!(select(&l, None, &Role::Admin, Some(0), 10).unwrap(), [1]);
        assert!(select(&l, None, &Role::Admin, Some(1), 10)
            .unwrap()
            .is_empty());
        let county = Role::County("410527".into());
        assert_eq!(select(&l, None, &county, None, 10).unwrap(), [1]);
        let west = Some([113.9, 34.9, 114.5, 35.5]);
        assert_eq!(select(&l, west, &Role::Admin, None, 10).unwrap(), [0]);
        // Only a parcel layer has the in-view bound.
        assert_eq!(select(&l, None, &Role::Admin, None, 1).unwrap(), [0, 1]);
        let mut parcels = layer();
        parcels.level = Level::Parcel;
        let err = select(&parcels, None, &Role::Admin, None, 1).unwrap_err();
        assert!(
            matches!(err, ApiError::BadField { ref field, .. } if field == "bbox"),
            "{err:?}"
        );
        assert_eq!(select(&parcels, west, &Role::Admin, None, 1).unwrap(), [0]);
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
