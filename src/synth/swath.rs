//! Synthetic VIIRS I-band granules in their native swath geometry, from the same physics as the
//! map-grid scenes: land cover, surface, clouds, planted sub-pixel fires and sensor noise per
//! pixel, with per-pixel latitude and longitude, sun and view angles, bow-tie deleted pixels
//! NaN and the land/water mask a geolocation product carries. What `scan::scan_granule` and the
//! product readers' fixtures are tested on.
//!
//! The orbit model, simple on purpose (a sphere, no Earth rotation during the granule, no
//! terrain): the ground track is the great circle through the sub-satellite point at the
//! granule's middle row (`scene.center_lon_deg`, `center_lat_deg`) with the heading
//! `heading_deg`. Row `r`'s sub-satellite point lies `(r + ½ − rows/2) × 0.371 km` along it (the
//! detectors' nadir pitch, so consecutive scans just touch at nadir). Sample `s` looks at scan
//! angle θ(s) ([`crate::product::viirs_iband::scan_angle_deg`], positive to the right of the
//! heading); its ground point lies on the great circle perpendicular to the track at the row's
//! sub-satellite point, at the Earth-central angle β(θ) from it. The view zenith is θ + β, the
//! view azimuth the bearing from the ground point back to the sub-satellite point. Real scans
//! fan out along track off nadir (the bow-tie); here each row stays one line across the track,
//! which keeps positions exact where tests check them, while pixel sizes and the bow-tie pattern
//! come from the instrument geometry. Land cover is drawn in swath pixel space (a field of the
//! plain 375 m wide at nadir is stretched at the edge), which is all a detector test needs.

use ndarray::Array2;

use super::landcover::LandClass;
use super::truth::FireTruth;
use super::{fire_truth, generate_rows, Context, SynthError, SynthSpec};
use crate::product::viirs_iband::{self as geom, ROWS_PER_SCAN, SAMPLES};
use crate::product::{Geometry, Granule, ProductKind, Swath};
use crate::raster::georef::bearing_deg;
use crate::raster::{BandBuf, SceneMeta};

/// A synthetic swath granule: the shared scene parameters, and the heading of the ground track.
#[derive(Debug, Clone, PartialEq)]
pub struct SwathSpec {
    /// `rows` must be a whole number of 32-row scans and `cols` 6400 (a full scan line);
    /// `center_lon_deg`/`center_lat_deg` is the sub-satellite point at the middle row;
    /// `nadir_offset_km` and `glint_bands` do not apply (angles are always given).
    pub scene: SynthSpec,
    /// Heading of the ground track at the centre, degrees clockwise from north.
    pub heading_deg: f64,
}

/// Heading of an S-NPP / NOAA-20 ascending (day, 13:30) pass over 34° N, degrees.
pub const ASCENDING_HEADING_DEG: f64 = 347.0;
/// Heading of a descending (night, 01:30) pass over 34° N, degrees.
pub const DESCENDING_HEADING_DEG: f64 = 193.0;
/// Along-track distance between consecutive rows at nadir, km.
const ROW_PITCH_KM: f64 = 0.371;

impl SwathSpec {
    /// A day granule of `scans` scans over the default centre (the grid generator's June day).
    pub fn day(scans: usize, seed: u64) -> Self {
        SwathSpec {
            scene: SynthSpec::day(scans * ROWS_PER_SCAN, SAMPLES, seed),
            heading_deg: ASCENDING_HEADING_DEG,
        }
    }

    /// A night granule of `scans` scans over the default centre.
    pub fn night(scans: usize, seed: u64) -> Self {
        SwathSpec {
            scene: SynthSpec::night(scans * ROWS_PER_SCAN, SAMPLES, seed),
            heading_deg: DESCENDING_HEADING_DEG,
        }
    }
}

/// A generated swath granule with its truth.
#[derive(Debug, Clone)]
pub struct SynthSwath {
    pub granule: Granule,
    /// The class of every pixel (cloud over the surface; `Fill` where bow-tie deleted).
    pub classes: Array2<LandClass>,
    /// One entry per planted fire, in the order of the spec.
    pub truth: Vec<FireTruth>,
}

/// Per-pixel geolocation and geometry of a swath, as the generator's context uses it.
#[derive(Debug, Clone)]
pub(crate) struct SwathGeo {
    cols: usize,
    lon: Vec<f64>,
    lat: Vec<f64>,
    vaa: Vec<f64>,
    vza: Vec<f64>,
    area: Vec<f64>,
}

impl SwathGeo {
    fn new(spec: &SwathSpec) -> Self {
        let (rows, cols) = (spec.scene.rows, spec.scene.cols);
        let centre = (spec.scene.center_lon_deg, spec.scene.center_lat_deg);
        let r_km = geom::EARTH_RADIUS_KM;
        let mut lon = Vec::with_capacity(rows * cols);
        let mut lat = Vec::with_capacity(rows * cols);
        let mut vaa = Vec::with_capacity(rows * cols);
        let beta: Vec<f64> = (0..cols)
            .map(|s| geom::earth_angle_rad(geom::scan_angle_deg(s)))
            .collect();
        for r in 0..rows {
            let along = (r as f64 + 0.5 - rows as f64 / 2.0) * ROW_PITCH_KM / r_km;
            let nadir = destination(centre, spec.heading_deg, along);
            let ahead = destination(centre, spec.heading_deg, along + 1.0 / r_km);
            let heading = bearing_deg(nadir, ahead);
            for &b in &beta {
                let p = destination(nadir, heading + 90.0, b);
                lon.push(p.0);
                lat.push(p.1);
                vaa.push(if b.abs() < 1e-12 {
                    0.0
                } else {
                    bearing_deg(p, nadir)
                });
            }
        }
        SwathGeo {
            cols,
            lon,
            lat,
            vaa,
            vza: (0..cols)
                .map(|s| geom::view_zenith_deg(geom::scan_angle_deg(s)))
                .collect(),
            area: (0..cols).map(geom::pixel_area_m2).collect(),
        }
    }

    pub(crate) fn lonlat(&self, row: usize, col: usize) -> (f64, f64) {
        let i = row * self.cols + col;
        (self.lon[i], self.lat[i])
    }

    pub(crate) fn vza_deg(&self, col: usize) -> f64 {
        self.vza[col]
    }

    pub(crate) fn vaa_deg(&self, row: usize, col: usize) -> f64 {
        self.vaa[row * self.cols + col]
    }

    pub(crate) fn pixel_area_m2(&self, col: usize) -> f64 {
        self.area[col]
    }
}

/// The point reached from `from` (lon, lat in degrees) along the great circle of initial bearing
/// `bearing_deg` after the central angle `delta_rad` (negative: the other way).
pub fn destination(from: (f64, f64), bearing_deg: f64, delta_rad: f64) -> (f64, f64) {
    let (lon1, lat1) = (from.0.to_radians(), from.1.to_radians());
    let th = bearing_deg.to_radians();
    let lat2 = (lat1.sin() * delta_rad.cos() + lat1.cos() * delta_rad.sin() * th.cos()).asin();
    let lon2 = lon1
        + (th.sin() * delta_rad.sin() * lat1.cos())
            .atan2(delta_rad.cos() - lat1.sin() * lat2.sin());
    let lon = (lon2.to_degrees() + 540.0).rem_euclid(360.0) - 180.0;
    (lon, lat2.to_degrees())
}

fn buffer<T: bytemuck::Pod>(
    what: &str,
    shape: (usize, usize),
    values: impl IntoIterator<Item = T>,
) -> Result<BandBuf<T>, SynthError> {
    let mut b = BandBuf::zeros(shape).map_err(|e| SynthError::InvalidSpec {
        field: what.into(),
        message: format!("no memory for the band: {e}"),
    })?;
    for (o, v) in b.as_mut_slice().iter_mut().zip(values) {
        *o = v;
    }
    Ok(b)
}

/// Generates a swath granule (bands `I1`–`I5`, `SZA`, `VZA`, `SAA`, `VAA`; latitude and
/// longitude; the land/water mask) and the truth of its planted fires.
pub fn generate_swath(spec: &SwathSpec) -> Result<SynthSwath, SynthError> {
    let mut scene = spec.scene.clone();
    scene.glint_bands = true;
    scene.nadir_offset_km = 0.0;
    scene.validate()?;
    let (rows, cols) = (scene.rows, scene.cols);
    if cols != SAMPLES || rows % ROWS_PER_SCAN != 0 {
        return Err(SynthError::InvalidSpec {
            field: "rows/cols".into(),
            message: format!(
                "a VIIRS I-band swath is {SAMPLES} samples wide and whole {ROWS_PER_SCAN}-row \
                 scans long, not {rows}×{cols}"
            ),
        });
    }
    if !spec.heading_deg.is_finite() {
        return Err(SynthError::InvalidSpec {
            field: "heading_deg".into(),
            message: format!("{} is not a bearing", spec.heading_deg),
        });
    }
    let mut ctx = Context::new(&scene, &scene.fires);
    let geo = SwathGeo::new(spec);
    ctx.swath = Some(geo);
    let (bands, classes, water) = generate_rows(&ctx, &|_| {});
    let classes = Array2::from_shape_vec((rows, cols), classes).expect("rows × cols classes");
    let truth = scene
        .fires
        .iter()
        .map(|f| fire_truth(&ctx, f, classes[[f.row, f.col]]))
        .collect();
    let geo = ctx.swath.take().expect("set above");
    let shape = (rows, cols);
    let mut named = std::collections::BTreeMap::new();
    for (name, values) in ["I1", "I2", "I3", "I4", "I5", "SZA", "VZA", "SAA", "VAA"]
        .into_iter()
        .zip(bands)
    {
        named.insert(name.to_string(), buffer(name, shape, values)?);
    }
    let granule = Granule {
        kind: ProductKind::Synthetic,
        files: Vec::new(),
        meta: SceneMeta {
            acq_time: Some(scene.acq_time),
            satellite: Some(scene.satellite.clone()),
            sensor: Some("VIIRS".into()),
        },
        shape,
        bands: named,
        geometry: Geometry::Swath(Swath {
            lat: buffer("latitude", shape, geo.lat.iter().map(|&v| v as f32))?,
            lon: buffer("longitude", shape, geo.lon.iter().map(|&v| v as f32))?,
            rows_per_scan: ROWS_PER_SCAN,
        }),
        water: Some(buffer("water mask", shape, water)?),
        saturation: Default::default(),
    };
    Ok(SynthSwath {
        granule,
        classes,
        truth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::georef::haversine_m;
    use crate::synth::PlantedFire;

    #[test]
    fn great_circle_helpers_agree() {
        let a = (114.85, 34.07);
        let b = destination(a, 30.0, 100.0 / geom::EARTH_RADIUS_KM);
        assert!((haversine_m(a, b) - 100_000.0).abs() < 50.0);
        assert!((bearing_deg(a, b) - 30.0).abs() < 1e-6);
    }

    #[test]
    fn a_swath_granule_has_the_instrument_geometry() {
        let mut spec = SwathSpec::night(2, 5);
        spec.scene.cloud_cover = 0.0;
        spec.scene
            .fires
            .push(PlantedFire::new(40, 3200, 20.0, 1000.0));
        spec.scene
            .fires
            .push(PlantedFire::new(40, 6390, 20.0, 1000.0));
        let sw = generate_swath(&spec).unwrap();
        let g = &sw.granule;
        assert_eq!(g.shape, (64, 6400));
        let Geometry::Swath(s) = &g.geometry else {
            panic!("a swath")
        };
        let (lat, lon) = (s.lat.view(), s.lon.view());
        // The middle row's nadir is the centre; neighbours are a pixel size apart.
        let ll = |r: usize, c: usize| (lon[[r, c]] as f64, lat[[r, c]] as f64);
        let centre = (spec.scene.center_lon_deg, spec.scene.center_lat_deg);
        assert!(haversine_m(ll(31, 3200), centre) < 400.0);
        let d = |a, b| haversine_m(a, b) / 1000.0;
        for c in [3200, 4000, 6000, 6398] {
            let scan = d(ll(40, c), ll(40, c + 1));
            let want = (geom::pixel_size_km(c).0 + geom::pixel_size_km(c + 1).0) / 2.0;
            assert!((scan - want).abs() < 0.01, "{c}: {scan} {want}");
        }
        assert!((d(ll(40, 3200), ll(41, 3200)) - 0.371).abs() < 0.005);
        // Swath ≈ 3000 km wide.
        let width = d(ll(40, 0), ll(40, 6399));
        assert!((2900.0..3100.0).contains(&width), "{width}");
        // Bow-tie deleted pixels: NaN radiometry, class Fill, geolocated.
        let i4 = g.band("I4").unwrap();
        assert!(i4[[0, 0]].is_nan() && i4[[34, 1279]].is_nan() && !i4[[34, 1280]].is_nan());
        assert!(i4[[16, 0]].is_finite());
        assert_eq!(sw.classes[[0, 0]], LandClass::Fill);
        assert!(lat[[0, 0]].is_finite() && g.band("SZA").unwrap()[[0, 0]].is_finite());
        // The fire at the edge fills a larger pixel: a smaller rise than at nadir.
        let (nadir, edge) = (&sw.truth[0], &sw.truth[1]);
        assert!(
            edge.expected_dbt4_k < 0.4 * nadir.expected_dbt4_k,
            "{edge:?} {nadir:?}"
        );
        // View zenith ≈ 70° at the edge, 0 at nadir; water mask given.
        let vza = g.band("VZA").unwrap();
        assert!(vza[[10, 3200]] < 0.1 && vza[[10, 6399]] > 69.0);
        assert!(g.water.as_ref().unwrap().as_slice().contains(&1));
    }

    #[test]
    fn the_swath_shape_is_checked() {
        let mut spec = SwathSpec::day(1, 1);
        spec.scene.rows = 40;
        let err = generate_swath(&spec).unwrap_err().to_string();
        assert!(err.contains("rows/cols"), "{err}");
    }
}
