//! The matcher: every hotspot to its county, township, village (by pixel centre), parcels (by
//! pixel footprint) and mask. Built once from loaded layers, then shared read-only by all
//! queries; [`Locator::locate_all`] spreads a batch over rayon threads.

use std::sync::Arc;

use geo::Rect;
use rayon::prelude::*;

use super::index::PolygonIndex;
use super::layer::{load_layer, AreaFeature, LayerError};
use super::mask::{MaskHit, MaskSet};
use super::spec::{LayerSpec, Level};

/// Mean metres per degree of latitude (footprint size only).
const M_PER_DEG_LAT: f64 = 111_195.0;

/// The attributes of one unit or parcel, without its geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitInfo {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    pub cropland_ha: Option<f64>,
}

/// One indexed layer.
pub struct UnitLayer {
    pub level: Level,
    pub units: Vec<UnitInfo>,
    pub index: PolygonIndex,
    /// The codes again, shared: a footprint lists dozens of parcels, and handing out a
    /// reference count is much cheaper than copying each id string.
    shared_codes: Vec<Arc<str>>,
}

impl UnitLayer {
    /// Indexes the features of a layer (several files of the same level are concatenated first).
    pub fn new(level: Level, features: Vec<AreaFeature>) -> Self {
        let (units, shapes): (Vec<UnitInfo>, Vec<_>) = features
            .into_iter()
            .map(|f| {
                (
                    UnitInfo {
                        code: f.code,
                        name: f.name,
                        parent: f.parent,
                        cropland_ha: f.cropland_ha,
                    },
                    f.shape,
                )
            })
            .unzip();
        Self::from_parts(level, units, PolygonIndex::new(shapes))
    }

    /// Loads a layer and indexes it: what [`load_layer`] then [`UnitLayer::new`] give (the same
    /// units, index and warnings), except that a plain GeoPackage goes from its WKB straight
    /// into the index's flat rings, without a `geo` shape per feature in between (a parcel
    /// layer of 300,000 fields). `level` is the layer's level as [`load_layer`]'s implied one.
    pub fn load(spec: &LayerSpec, level: Level) -> Result<(UnitLayer, Vec<String>), LayerError> {
        let load_level = spec.level.unwrap_or(level);
        if let Some(flat) = super::gpkg::try_load_flat(spec, load_level) {
            let index = PolygonIndex::from_flat(flat.shapes);
            return Ok((Self::from_parts(level, flat.units, index), flat.warnings));
        }
        let layer = load_layer(spec, Some(level))?;
        Ok((UnitLayer::new(level, layer.areas), layer.warnings))
    }

    fn from_parts(level: Level, units: Vec<UnitInfo>, index: PolygonIndex) -> Self {
        let shared_codes = units
            .iter()
            .map(|u: &UnitInfo| Arc::from(u.code.as_str()))
            .collect();
        UnitLayer {
            level,
            units,
            index,
            shared_codes,
        }
    }
}

/// What a hotspot is to be matched with: its pixel centre and size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Query {
    pub lon: f64,
    pub lat: f64,
    /// Pixel size across track (FIRMS `scan`) and along track (`track`), km.
    pub scan_km: f64,
    pub track_km: f64,
}

impl Query {
    /// The pixel footprint as a lon/lat rectangle: `scan` east–west, `track` north–south.
    /// Polar orbiters cross mid-latitudes about 10–15° off north, so the true footprint is a
    /// slightly rotated rectangle; the axis-aligned one shares most of its area, and the
    /// overlap fractions are meant to rank fields, not to survey them.
    pub fn footprint(&self) -> Rect<f64> {
        let half_h_deg = self.track_km * 500.0 / M_PER_DEG_LAT;
        let half_w_deg =
            self.scan_km * 500.0 / (M_PER_DEG_LAT * self.lat.to_radians().cos().max(0.01));
        Rect::new(
            (self.lon - half_w_deg, self.lat - half_h_deg),
            (self.lon + half_w_deg, self.lat + half_h_deg),
        )
    }
}

/// A parcel under the footprint.
#[derive(Debug, Clone, PartialEq)]
pub struct ParcelShare {
    pub id: Arc<str>,
    /// Share of the footprint on this parcel, 0–1.
    pub fraction: f64,
}

/// Where a hotspot is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Location {
    pub county: Option<UnitInfo>,
    pub township: Option<UnitInfo>,
    pub village: Option<UnitInfo>,
    /// Every parcel under the footprint, largest share first (the first is "the" parcel).
    pub parcels: Vec<ParcelShare>,
    pub mask: Option<MaskHit>,
    /// True when admin layers were given and the centre lies in none of their units.
    pub outside_admin: bool,
}

/// The matcher over all loaded layers.
///
/// # Examples
/// ```
/// use strawfire::locate::{gcj02, load_layer, LayerSpec, Locator, MaskSet, Query, UnitLayer};
/// let spec = LayerSpec::parse(
///     "samples/admin/henan_hua_counties_gcj02.geojson:level=county:code=adcode:name=name:crs=gcj02",
/// )?;
/// let counties = load_layer(&spec, None)?; // GCJ-02 in the file, WGS84 from here on
/// let locator = Locator::new(
///     vec![UnitLayer::new(counties.level, counties.areas)],
///     None,
///     MaskSet::new(vec![], vec![]),
/// );
/// // A VIIRS hotspot (WGS84) in 滑县: the point AMap shows at (114.52, 35.58).
/// let (lon, lat) = gcj02::gcj02_to_wgs84(114.52, 35.58);
/// let here = locator.locate(Query { lon, lat, scan_km: 0.375, track_km: 0.375 });
/// assert_eq!(here.county.unwrap().name, "滑县");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Locator {
    admin: Vec<UnitLayer>,
    parcels: Option<UnitLayer>,
    masks: MaskSet,
}

impl Locator {
    /// Admin layers may be given in any order and any number per level.
    pub fn new(admin: Vec<UnitLayer>, parcels: Option<UnitLayer>, masks: MaskSet) -> Self {
        Locator {
            admin,
            parcels,
            masks,
        }
    }

    /// Indexed admin layers.
    pub fn admin_layers(&self) -> &[UnitLayer] {
        &self.admin
    }

    /// The indexed parcel layer, if one was loaded.
    pub fn parcel_layer(&self) -> Option<&UnitLayer> {
        self.parcels.as_ref()
    }

    /// Matches one hotspot. When a point lies in several units of one level (overlapping
    /// borders in the source data), the first unit in file order wins.
    pub fn locate(&self, q: Query) -> Location {
        let mut loc = Location::default();
        for layer in &self.admin {
            let Some(&i) = layer.index.containing(q.lon, q.lat).first() else {
                continue;
            };
            let slot = match layer.level {
                Level::County => &mut loc.county,
                Level::Township => &mut loc.township,
                Level::Village => &mut loc.village,
                Level::Parcel | Level::Mask => continue,
            };
            if slot.is_none() {
                *slot = Some(layer.units[i].clone());
            }
        }
        loc.outside_admin = !self.admin.is_empty()
            && loc.county.is_none()
            && loc.township.is_none()
            && loc.village.is_none();
        if let Some(parcels) = &self.parcels {
            loc.parcels = parcels
                .index
                .overlaps(q.footprint())
                .into_iter()
                .map(|o| ParcelShare {
                    id: Arc::clone(&parcels.shared_codes[o.index]),
                    fraction: o.fraction,
                })
                .collect();
        }
        loc.mask = self.masks.check(q.lon, q.lat);
        loc
    }

    /// Matches a batch in parallel, results in input order.
    pub fn locate_all(&self, queries: &[Query]) -> Vec<Location> {
        queries.par_iter().map(|&q| self.locate(q)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::MultiPolygon;

    fn square(code: &str, x: f64, y: f64, size: f64) -> AreaFeature {
        AreaFeature {
            code: code.into(),
            name: format!("unit {code}"),
            parent: None,
            cropland_ha: None,
            shape: MultiPolygon(vec![Rect::new((x, y), (x + size, y + size)).to_polygon()]),
        }
    }

    #[test]
    fn nests_levels_and_flags_outside() {
        let county = UnitLayer::new(Level::County, vec![square("410526", 114.0, 35.0, 1.0)]);
        let towns = UnitLayer::new(
            Level::Township,
            vec![
                square("410526100", 114.0, 35.0, 0.5),
                square("410526101", 114.5, 35.0, 0.5),
            ],
        );
        let loc = Locator::new(vec![towns, county], None, MaskSet::new(vec![], vec![]));
        let l = loc.locate(Query {
            lon: 114.7,
            lat: 35.2,
            scan_km: 0.375,
            track_km: 0.375,
        });
        assert_eq!(l.county.unwrap().code, "410526");
        assert_eq!(l.township.unwrap().code, "410526101");
        assert!(!l.outside_admin);
        let l = loc.locate(Query {
            lon: 116.0,
            lat: 35.2,
            scan_km: 0.375,
            track_km: 0.375,
        });
        assert!(l.outside_admin && l.county.is_none());
    }

    #[test]
    fn footprint_is_pixel_sized() {
        let q = Query {
            lon: 114.5,
            lat: 35.5,
            scan_km: 0.375,
            track_km: 0.375,
        };
        let r = q.footprint();
        let w_m = crate::raster::georef::haversine_m((r.min().x, 35.5), (r.max().x, 35.5));
        let h_m = crate::raster::georef::haversine_m((114.5, r.min().y), (114.5, r.max().y));
        assert!(
            (w_m - 375.0).abs() < 1.0 && (h_m - 375.0).abs() < 1.0,
            "{w_m} x {h_m}"
        );
    }

    #[test]
    fn parcels_ranked_by_share() {
        // Two fields splitting a pixel 3:1 (field sizes in degrees, pixel ≈ 0.0034° at 35.5°N).
        let q = Query {
            lon: 114.5,
            lat: 35.5,
            scan_km: 0.375,
            track_km: 0.375,
        };
        let r = q.footprint();
        let split = r.min().x + 0.75 * r.width();
        let a = AreaFeature {
            shape: MultiPolygon(vec![
                Rect::new((r.min().x - 0.01, 35.4), (split, 35.6)).to_polygon()
            ]),
            ..square("A", 0.0, 0.0, 1.0)
        };
        let b = AreaFeature {
            shape: MultiPolygon(vec![
                Rect::new((split, 35.4), (r.max().x + 0.01, 35.6)).to_polygon()
            ]),
            ..square("B", 0.0, 0.0, 1.0)
        };
        let parcels = UnitLayer::new(Level::Parcel, vec![b, a]);
        let loc = Locator::new(vec![], Some(parcels), MaskSet::new(vec![], vec![]));
        let l = loc.locate(q);
        assert_eq!(l.parcels.len(), 2);
        assert_eq!(&*l.parcels[0].id, "A");
        assert!(
            (l.parcels[0].fraction - 0.75).abs() < 1e-9,
            "{:?}",
            l.parcels
        );
        assert!(
            !l.outside_admin,
            "no admin layer given: nothing to be outside of"
        );
    }
}
