//! Physically based synthetic VIIRS I-band scenes with planted fires and known truth.
//!
//! Why: a detector can only be validated the way the papers do it (ALGORITHMS.md, "Validating a
//! detector") against scenes whose every fire is known: sub-pixel fires of chosen area and
//! temperature mixed by the Planck function into realistic backgrounds, day and night, with the
//! targets that cause false alarms (clouds and their edges, water, bright soil, factory roofs).
//! Tests, benchmarks and the samples all use this generator.
//!
//! Generation is pure (GDAL is touched only in [`SynthScene::write`], through
//! [`crate::raster::write_scene`]), deterministic in the seed and independent of the number of
//! threads: every pixel is a function of (seed, row, col), and the sensor noise of a row comes from
//! a random stream seeded by (seed, row). Rows are built in parallel with rayon.
//!
//! ```
//! use strawfire::synth::{generate, PlantedFire, SynthSpec};
//! let mut spec = SynthSpec::night(64, 64, 7);
//! spec.fires.push(PlantedFire::new(32, 32, 5.5, 1000.0));
//! let scene = generate(&spec).unwrap();
//! let rise = scene.truth[0].expected_dbt4_k;
//! assert!((7.0..11.0).contains(&rise), "{rise}");
//! ```

pub mod fire;
pub mod geo;
pub mod landcover;
pub mod noise;
pub mod surface;
pub mod truth;

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

pub use fire::{random_fires, PlantedFire, PIXEL_AREA_M2};
pub use landcover::{LandClass, LandcoverParams};
pub use truth::{write_truth_csv, FireTruth, TruthError};

use crate::detect::{GlintGeometry, PixelArea, ViirsInput};
use crate::physics::{brightness_temperature, true_frp_mw};
use crate::raster::{Compression, GeoRef, RasterError, SceneMeta};
use geo::{scan_and_view_zenith_deg, SolarEphemeris, EARTH_RADIUS_M};
use surface::{surface, Radiometry, I4_UM, I5_UM};

/// Pixel size of the generated grid, m.
pub const PIXEL_M: f64 = 375.0;
/// I4 saturation, K (Schroeder 2014 sec. 2.2).
pub const I4_SATURATION_K: f32 = 367.0;
/// I4 value of an overloaded, folded detector, K.
pub const I4_FOLD_K: f32 = 208.0;
/// I5 saturation, K.
pub const I5_SATURATION_K: f32 = 380.0;
/// Scan angle beyond which VIIRS deletes bow-tie rows at each scan edge (aggregation zone 2), °.
const BOWTIE_ZONE2_DEG: f64 = 31.59;
/// Scan angle of aggregation zone 3, where twice as many rows are deleted, °.
const BOWTIE_ZONE3_DEG: f64 = 44.68;
/// Rows per VIIRS I-band scan.
const ROWS_PER_SCAN: usize = 32;

/// Errors of the generator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SynthError {
    /// A parameter of the scene is out of range: the message names it.
    #[error("invalid synthetic scene: {field}: {message}")]
    InvalidSpec { field: String, message: String },
    /// Writing the scene failed.
    #[error(transparent)]
    Raster(#[from] RasterError),
    /// Writing the truth file failed.
    #[error(transparent)]
    Truth(#[from] TruthError),
}

/// Everything that defines a synthetic scene.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthSpec {
    pub rows: usize,
    pub cols: usize,
    /// Scene centre, WGS84 degrees; the grid is in the UTM zone of this point.
    pub center_lon_deg: f64,
    pub center_lat_deg: f64,
    /// Acquisition time: sets the sun (and `ACQ_TIME`).
    pub acq_time: DateTime<Utc>,
    /// `SATELLITE` metadata (`N`, `N20`, `N21`).
    pub satellite: String,
    /// A fixed solar zenith angle for every pixel instead of the sun of `acq_time`, °.
    pub sza_deg: Option<f64>,
    pub seed: u64,
    /// Roughly the fraction of the scene under cloud (0 for a clear scene).
    pub cloud_cover: f64,
    /// Across-track distance of the scene centre from the nadir track, km (east positive):
    /// sets the view zenith, and bow-tie fill rows appear beyond ≈550 km (31.6° scan angle).
    pub nadir_offset_km: f64,
    /// Add `VZA`, `SAA`, `VAA` bands (sun-glint geometry).
    pub glint_bands: bool,
    /// Sensor noise of BT4 and BT5 (noise-equivalent ΔT), K.
    pub nedt_k: f64,
    /// Fires to plant.
    pub fires: Vec<PlantedFire>,
}

/// A county of the Henan wheat belt (Taikang, 411627), the default scene centre.
pub const DEFAULT_CENTER: (f64, f64) = (114.85, 34.07);

impl SynthSpec {
    /// A clear-ish June night over the default centre: 01:30 local time, 10 % cloud, at nadir.
    pub fn night(rows: usize, cols: usize, seed: u64) -> Self {
        SynthSpec {
            acq_time: Utc.with_ymd_and_hms(2024, 6, 8, 17, 30, 0).unwrap(),
            ..Self::day(rows, cols, seed)
        }
    }

    /// A June day over the default centre: 13:18 local time, 10 % cloud, at nadir.
    pub fn day(rows: usize, cols: usize, seed: u64) -> Self {
        SynthSpec {
            rows,
            cols,
            center_lon_deg: DEFAULT_CENTER.0,
            center_lat_deg: DEFAULT_CENTER.1,
            acq_time: Utc.with_ymd_and_hms(2024, 6, 8, 5, 18, 0).unwrap(),
            satellite: "N20".into(),
            sza_deg: None,
            seed,
            cloud_cover: 0.1,
            nadir_offset_km: 0.0,
            glint_bands: false,
            nedt_k: 0.4,
            fires: Vec::new(),
        }
    }

    fn validate(&self) -> Result<(), SynthError> {
        let bad = |field: &str, message: String| {
            Err(SynthError::InvalidSpec {
                field: field.into(),
                message,
            })
        };
        if self.rows == 0 || self.cols == 0 {
            return bad(
                "rows/cols",
                format!("{}×{} has no pixels", self.rows, self.cols),
            );
        }
        if !(-180.0..=180.0).contains(&self.center_lon_deg)
            || !(-80.0..=84.0).contains(&self.center_lat_deg)
        {
            return bad(
                "center",
                format!(
                    "{},{} is not a lon,lat inside UTM coverage",
                    self.center_lon_deg, self.center_lat_deg
                ),
            );
        }
        if !(0.0..=1.0).contains(&self.cloud_cover) {
            return bad(
                "cloud_cover",
                format!("{} is not within 0–1", self.cloud_cover),
            );
        }
        if let Some(z) = self.sza_deg {
            if !(0.0..=180.0).contains(&z) {
                return bad("sza_deg", format!("{z} is not within 0–180°"));
            }
        }
        if !(0.0..5.0).contains(&self.nedt_k) {
            return bad("nedt_k", format!("{} K is not within 0–5 K", self.nedt_k));
        }
        let mut seen = std::collections::HashSet::new();
        for f in &self.fires {
            let at = format!("fire at row {} col {}", f.row, f.col);
            if f.row >= self.rows || f.col >= self.cols {
                return bad(
                    &at,
                    format!("outside the {}×{} scene", self.rows, self.cols),
                );
            }
            if !(f.area_m2 > 0.0 && f.area_m2 <= PIXEL_AREA_M2) {
                return bad(
                    &at,
                    format!(
                        "area {} m² is not within (0, {PIXEL_AREA_M2}] m²",
                        f.area_m2
                    ),
                );
            }
            if !(f.temp_k > 300.0 && f.temp_k < 3000.0) {
                return bad(
                    &at,
                    format!("temperature {} K is not within 300–3000 K", f.temp_k),
                );
            }
            if !seen.insert((f.row, f.col)) {
                return bad(
                    &at,
                    "two fires in one pixel; give their total area instead".into(),
                );
            }
        }
        Ok(())
    }
}

/// The bands of a synthetic scene, `[row, col]`, in the DESIGN.md layout.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthBands {
    pub i1: Array2<f32>,
    pub i2: Array2<f32>,
    pub i3: Array2<f32>,
    pub i4: Array2<f32>,
    pub i5: Array2<f32>,
    pub sza: Array2<f32>,
    /// VZA, SAA, VAA when asked for.
    pub geometry: Option<[Array2<f32>; 3]>,
}

/// A generated scene with its truth.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthScene {
    pub bands: SynthBands,
    /// The class of every pixel (cloud and cloud edge over the surface).
    pub classes: Array2<LandClass>,
    pub georef: GeoRef,
    pub meta: SceneMeta,
    /// One entry per planted fire, in the order of the spec.
    pub truth: Vec<FireTruth>,
}

impl SynthScene {
    /// The detector's view of the scene.
    pub fn viirs_input(&self) -> ViirsInput<'_> {
        let b = &self.bands;
        ViirsInput {
            i1: b.i1.view(),
            i2: b.i2.view(),
            i3: b.i3.view(),
            i4: b.i4.view(),
            i5: b.i5.view(),
            sza: b.sza.view(),
            geometry: b.geometry.as_ref().map(|[vza, saa, vaa]| GlintGeometry {
                vza: vza.view(),
                saa: saa.view(),
                vaa: vaa.view(),
            }),
        }
    }

    /// Every pixel of the grid covers 375 m × 375 m.
    pub fn pixel_area(&self) -> PixelArea {
        PixelArea::Constant(PIXEL_AREA_M2)
    }

    /// Bands as (description, pixels), in file order.
    pub fn named_bands(&self) -> Vec<(&'static str, &Array2<f32>)> {
        let b = &self.bands;
        let mut v = vec![
            ("I1", &b.i1),
            ("I2", &b.i2),
            ("I3", &b.i3),
            ("I4", &b.i4),
            ("I5", &b.i5),
            ("SZA", &b.sza),
        ];
        if let Some([vza, saa, vaa]) = &b.geometry {
            v.extend([("VZA", vza), ("SAA", saa), ("VAA", vaa)]);
        }
        v
    }

    /// Writes the scene (GeoTIFF) and its truth CSV; each file appears complete or not at all.
    pub fn write(
        &self,
        scene_path: &Path,
        truth_path: &Path,
        compression: Compression,
    ) -> Result<(), SynthError> {
        crate::raster::write_scene(
            scene_path,
            &self.named_bands(),
            &self.georef,
            &self.meta,
            compression,
        )?;
        write_truth_csv(truth_path, &self.truth)?;
        Ok(())
    }
}

/// The truth file beside a scene: `scene.tif` → `scene.truth.csv`.
pub fn default_truth_path(scene_path: &Path) -> PathBuf {
    scene_path.with_extension("truth.csv")
}

/// Everything a row needs, computed once per scene.
struct Context<'a> {
    spec: &'a SynthSpec,
    landcover: LandcoverParams,
    sun: SolarEphemeris,
    /// Fires by row.
    fires_by_row: std::collections::HashMap<usize, Vec<PlantedFire>>,
}

/// The noise-free physics of one pixel.
struct PixelPhysics {
    class: LandClass,
    surface_temp_k: f64,
    radiometry: Radiometry,
    sza_deg: f64,
    saa_deg: f64,
    vza_deg: f64,
    vaa_deg: f64,
}

impl Context<'_> {
    /// Approximate (lon, lat) of a pixel centre from its metric offset to the scene centre: ample
    /// for the sun's position (0.01° of sun per km).
    fn lonlat(&self, row: usize, col: usize) -> (f64, f64) {
        let s = self.spec;
        let dx = (col as f64 + 0.5 - s.cols as f64 / 2.0) * PIXEL_M;
        let dy = (s.rows as f64 / 2.0 - row as f64 - 0.5) * PIXEL_M;
        let lat = s.center_lat_deg + (dy / EARTH_RADIUS_M).to_degrees();
        let lon = s.center_lon_deg + (dx / (EARTH_RADIUS_M * lat.to_radians().cos())).to_degrees();
        (lon, lat)
    }

    fn across_track_m(&self, col: usize) -> f64 {
        self.spec.nadir_offset_km * 1000.0
            + (col as f64 + 0.5 - self.spec.cols as f64 / 2.0) * PIXEL_M
    }

    fn is_fill(&self, row: usize, scan_deg: f64) -> bool {
        let deleted = if scan_deg > BOWTIE_ZONE3_DEG {
            4
        } else if scan_deg > BOWTIE_ZONE2_DEG {
            2
        } else {
            return false;
        };
        let k = row % ROWS_PER_SCAN;
        k < deleted || k >= ROWS_PER_SCAN - deleted
    }

    fn physics(&self, row: usize, col: usize, river: &[(f64, f64)]) -> PixelPhysics {
        let (lon, lat) = self.lonlat(row, col);
        let (sun_z, saa_deg) = self.sun.zenith_azimuth_deg(lon, lat);
        let sza_deg = self.spec.sza_deg.unwrap_or(sun_z);
        let x = self.across_track_m(col);
        let (scan_deg, vza_deg) = scan_and_view_zenith_deg(x);
        let vaa_deg = if x >= 0.0 { 270.0 } else { 90.0 };
        let day = sza_deg < 90.0;
        let mu = if day { sza_deg.to_radians().cos() } else { 0.0 };
        let seed = self.spec.seed;
        let cover = self.landcover.cover_with_rivers(row, col, river);
        let ground = surface(seed, cover.surface, day, row, col);
        let mut radiometry = ground.radiometry(mu);
        if cover.cloud_fraction > 0.0 {
            let cloud = surface(seed, LandClass::Cloud, day, row, col).radiometry(mu);
            radiometry = radiometry.mix(cloud, cover.cloud_fraction);
        }
        let class = if self.is_fill(row, scan_deg) {
            LandClass::Fill
        } else {
            cover.class()
        };
        PixelPhysics {
            class,
            surface_temp_k: ground.temp_k,
            radiometry,
            sza_deg,
            saa_deg,
            vza_deg,
            vaa_deg,
        }
    }
}

/// One generated row: bands in file order (I1 I2 I3 I4 I5 SZA [VZA SAA VAA]) and classes.
struct Row {
    bands: Vec<Vec<f32>>,
    classes: Vec<LandClass>,
}

fn make_row(ctx: &Context, row: usize) -> Row {
    let spec = ctx.spec;
    let nbands = if spec.glint_bands { 9 } else { 6 };
    let mut bands = vec![Vec::with_capacity(spec.cols); nbands];
    let mut classes = Vec::with_capacity(spec.cols);
    let mut rng = ChaCha8Rng::seed_from_u64(noise::mix64(
        spec.seed ^ noise::mix64(row as u64 ^ 0x0_7E57),
    ));
    let fires = ctx.fires_by_row.get(&row);
    let river = ctx.landcover.rivers_of_row(row, spec.cols);
    for col in 0..spec.cols {
        let px = ctx.physics(row, col, &river);
        // Draw the noise of every pixel, fill or not, so a pixel's noise depends only on (seed, row, col).
        let n4 = spec.nedt_k * noise::gaussian(&mut rng);
        let n5 = spec.nedt_k * noise::gaussian(&mut rng);
        let nr = [0, 1, 2].map(|_| 0.002 * noise::gaussian(&mut rng));
        let fire = fires.and_then(|v| v.iter().find(|f| f.col == col));
        let rad = fire.map_or(px.radiometry, |f| f.burn(px.radiometry));
        if px.class == LandClass::Fill {
            for b in bands.iter_mut().take(5) {
                b.push(f32::NAN);
            }
        } else {
            let day = px.sza_deg < 90.0;
            for (k, b) in bands.iter_mut().take(3).enumerate() {
                b.push(if day {
                    (rad.rho[k] + nr[k]).max(0.0) as f32
                } else {
                    0.0
                });
            }
            let mut bt4 = (brightness_temperature(I4_UM, rad.l4) + n4) as f32;
            if bt4 >= I4_SATURATION_K {
                bt4 = I4_SATURATION_K;
            }
            if fire.is_some_and(|f| f.fold) {
                bt4 = I4_FOLD_K;
            }
            let bt5 = ((brightness_temperature(I5_UM, rad.l5) + n5) as f32).min(I5_SATURATION_K);
            bands[3].push(bt4);
            bands[4].push(bt5);
        }
        bands[5].push(px.sza_deg as f32);
        if spec.glint_bands {
            bands[6].push(px.vza_deg as f32);
            bands[7].push(px.saa_deg as f32);
            bands[8].push(px.vaa_deg as f32);
        }
        classes.push(px.class);
    }
    Row { bands, classes }
}

/// The georeferencing of a spec: UTM of the centre, north-up, 375 m pixels, centred on the point.
pub fn georef_of(spec: &SynthSpec) -> GeoRef {
    let zone = geo::utm_zone(spec.center_lon_deg);
    let north = spec.center_lat_deg >= 0.0;
    let (e, n) = geo::utm_forward(zone, spec.center_lon_deg, spec.center_lat_deg);
    GeoRef {
        transform: [
            e - spec.cols as f64 / 2.0 * PIXEL_M,
            PIXEL_M,
            0.0,
            n + spec.rows as f64 / 2.0 * PIXEL_M,
            0.0,
            -PIXEL_M,
        ],
        crs_wkt: geo::utm_wkt(zone, north),
    }
}

/// Generates a scene. `progress` is called with the number of rows done so far (from any thread).
pub fn generate_with_progress(
    spec: &SynthSpec,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<SynthScene, SynthError> {
    spec.validate()?;
    let mut fires_by_row: std::collections::HashMap<usize, Vec<PlantedFire>> = Default::default();
    for f in &spec.fires {
        fires_by_row.entry(f.row).or_default().push(*f);
    }
    let ctx = Context {
        spec,
        landcover: LandcoverParams::new(spec.seed, spec.cloud_cover),
        sun: SolarEphemeris::at(spec.acq_time),
        fires_by_row,
    };
    let (rows, cols) = (spec.rows, spec.cols);
    let nbands = if spec.glint_bands { 9 } else { 6 };
    let mut out: Vec<Vec<f32>> = (0..nbands)
        .map(|_| Vec::with_capacity(rows * cols))
        .collect();
    let mut classes = Vec::with_capacity(rows * cols);
    // Blocks of rows in parallel, copied out in order: memory stays at one copy of the scene.
    const BLOCK_ROWS: usize = 128;
    for start in (0..rows).step_by(BLOCK_ROWS) {
        let end = (start + BLOCK_ROWS).min(rows);
        let block: Vec<Row> = (start..end)
            .into_par_iter()
            .map(|r| make_row(&ctx, r))
            .collect();
        for row in block {
            for (o, b) in out.iter_mut().zip(row.bands) {
                o.extend_from_slice(&b);
            }
            classes.extend_from_slice(&row.classes);
        }
        progress(end);
    }
    let to_array =
        |v: Vec<f32>| Array2::from_shape_vec((rows, cols), v).expect("rows × cols values");
    let mut it = out.into_iter().map(to_array);
    let mut next = || it.next().expect("band count");
    let (i1, i2, i3, i4, i5, sza) = (next(), next(), next(), next(), next(), next());
    let geometry = spec.glint_bands.then(|| [next(), next(), next()]);
    let classes = Array2::from_shape_vec((rows, cols), classes).expect("rows × cols classes");
    let truth = spec
        .fires
        .iter()
        .map(|f| fire_truth(&ctx, f, classes[[f.row, f.col]]))
        .collect();
    Ok(SynthScene {
        bands: SynthBands {
            i1,
            i2,
            i3,
            i4,
            i5,
            sza,
            geometry,
        },
        classes,
        georef: georef_of(spec),
        meta: SceneMeta {
            acq_time: Some(spec.acq_time),
            satellite: Some(spec.satellite.clone()),
            sensor: Some("VIIRS".into()),
        },
        truth,
    })
}

/// Generates a scene.
pub fn generate(spec: &SynthSpec) -> Result<SynthScene, SynthError> {
    generate_with_progress(spec, &|_| {})
}

fn fire_truth(ctx: &Context, f: &PlantedFire, class: LandClass) -> FireTruth {
    let river = ctx.landcover.rivers_of_row(f.row, ctx.spec.cols);
    let px = ctx.physics(f.row, f.col, &river);
    let bg = px.radiometry;
    let burnt = f.burn(bg);
    let bt = |wl, l| brightness_temperature(wl, l);
    let (bg4, bg5) = (bt(I4_UM, bg.l4), bt(I5_UM, bg.l5));
    let fire4 = bt(I4_UM, burnt.l4);
    FireTruth {
        row: f.row,
        col: f.col,
        area_m2: f.area_m2,
        temp_k: f.temp_k,
        surface_temp_k: px.surface_temp_k,
        background_bt4_k: bg4,
        background_bt5_k: bg5,
        expected_dbt4_k: fire4 - bg4,
        expected_dbt5_k: bt(I5_UM, burnt.l5) - bg5,
        true_frp_mw: true_frp_mw(f.area_m2, f.temp_k, px.surface_temp_k),
        land_class: class.name(),
        saturated: !f.fold && fire4 >= I4_SATURATION_K as f64,
        folded: f.fold,
    }
}

/// `n` random fires on clear cropland of the scene `spec` describes (see [`random_fires`]),
/// away from fill rows and from the fires already in the spec.
pub fn random_fires_for(spec: &SynthSpec, n: usize) -> Vec<PlantedFire> {
    let lc = LandcoverParams::new(spec.seed, spec.cloud_cover);
    let ctx = Context {
        spec,
        landcover: lc.clone(),
        sun: SolarEphemeris::at(spec.acq_time),
        fires_by_row: Default::default(),
    };
    let excluded = |row: usize, col: usize| {
        let (scan, _) = scan_and_view_zenith_deg(ctx.across_track_m(col));
        ctx.is_fill(row, scan)
            || spec
                .fires
                .iter()
                .any(|f| f.row.abs_diff(row) < 6 && f.col.abs_diff(col) < 6)
    };
    random_fires(&lc, spec.rows, spec.cols, n, spec.seed, &excluded)
}
