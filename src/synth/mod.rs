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

pub mod fields;
pub mod fire;
pub mod geo;
pub mod landcover;
pub mod landsat;
pub mod modis;
pub mod noise;
pub mod official;
pub mod sentinel2;
pub mod surface;
pub mod swath;
pub mod truth;

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

pub use fire::{random_fires, PlantedFire, PIXEL_AREA_M2};
pub use landcover::{LandClass, LandcoverParams};
pub use swath::{generate_swath, SwathSpec, SynthSwath};
pub use truth::{write_truth_csv, FireTruth, TruthError};

use crate::detect::{GlintGeometry, PixelArea, ViirsInput};
use crate::physics::{brightness_temperature, true_frp_mw};
use crate::raster::{Compression, GeoRef, RasterError, SceneMeta};
use fields::{PixelFields, RowFields};
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
            water: None,
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
    /// Per-column geometry (map grid).
    columns: Vec<ColumnGeometry>,
    /// Per-pixel geolocation and geometry of a swath granule, instead of the grid's.
    swath: Option<swath::SwathGeo>,
}

/// What depends only on the column: the view geometry and the sun's hour angle (longitude from
/// the metric offset at the scene centre's latitude).
struct ColumnGeometry {
    hour_angle_sin_cos: (f64, f64),
    scan_deg: f64,
    vza_deg: f64,
    vaa_deg: f64,
}

impl<'a> Context<'a> {
    fn new(spec: &'a SynthSpec, fires: &[PlantedFire]) -> Self {
        let mut fires_by_row: std::collections::HashMap<usize, Vec<PlantedFire>> =
            Default::default();
        for f in fires {
            fires_by_row.entry(f.row).or_default().push(*f);
        }
        let sun = SolarEphemeris::at(spec.acq_time);
        let lat_cos = spec.center_lat_deg.to_radians().cos();
        let columns = (0..spec.cols)
            .map(|col| {
                let dx = (col as f64 + 0.5 - spec.cols as f64 / 2.0) * PIXEL_M;
                let lon = spec.center_lon_deg + (dx / (EARTH_RADIUS_M * lat_cos)).to_degrees();
                let x = spec.nadir_offset_km * 1000.0 + dx;
                let (scan_deg, vza_deg) = scan_and_view_zenith_deg(x);
                ColumnGeometry {
                    hour_angle_sin_cos: sun.hour_angle_sin_cos(lon),
                    scan_deg,
                    vza_deg,
                    vaa_deg: if x >= 0.0 { 270.0 } else { 90.0 },
                }
            })
            .collect();
        Context {
            spec,
            landcover: LandcoverParams::new(spec.seed, spec.cloud_cover),
            sun,
            fires_by_row,
            columns,
            swath: None,
        }
    }

    /// Ground area of a pixel of column `col`, m²: the grid's 375 m square, or the swath
    /// pixel's, which grows with the scan angle.
    fn pixel_area_m2(&self, col: usize) -> f64 {
        self.swath
            .as_ref()
            .map_or(PIXEL_AREA_M2, |s| s.pixel_area_m2(col))
    }
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
    /// The surface under any cloud is water (the product's land/water mask).
    water: bool,
}

impl Context<'_> {
    /// (sin, cos) of the approximate latitude of a row, from its metric offset to the scene
    /// centre: ample for the sun's position (0.01° of sun per km).
    fn row_lat_sin_cos(&self, row: usize) -> (f64, f64) {
        let s = self.spec;
        let dy = (s.rows as f64 / 2.0 - row as f64 - 0.5) * PIXEL_M;
        (s.center_lat_deg + (dy / EARTH_RADIUS_M).to_degrees())
            .to_radians()
            .sin_cos()
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

    fn physics(
        &self,
        row: usize,
        col: usize,
        river: &[(f64, f64)],
        lat_sin_cos: (f64, f64),
        fields: &PixelFields,
    ) -> PixelPhysics {
        let (hour_angle, lat_sin_cos, vza_deg, vaa_deg, fill) = match &self.swath {
            None => {
                let g = &self.columns[col];
                let fill = self.is_fill(row, g.scan_deg);
                (
                    g.hour_angle_sin_cos,
                    lat_sin_cos,
                    g.vza_deg,
                    g.vaa_deg,
                    fill,
                )
            }
            Some(sw) => {
                let (lon, lat) = sw.lonlat(row, col);
                let fill = crate::product::viirs_iband::is_bowtie_deleted(row, col);
                let (hour_angle, lat_sc) =
                    (self.sun.hour_angle_sin_cos(lon), lat.to_radians().sin_cos());
                (
                    hour_angle,
                    lat_sc,
                    sw.vza_deg(col),
                    sw.vaa_deg(row, col),
                    fill,
                )
            }
        };
        let (sun_z, saa_deg) =
            self.sun
                .zenith_azimuth_from(hour_angle, lat_sin_cos, self.spec.glint_bands);
        let sza_deg = self.spec.sza_deg.unwrap_or(sun_z);
        let day = sza_deg < 90.0;
        let mu = if day { sza_deg.to_radians().cos() } else { 0.0 };
        let cover = self.landcover.cover_with(row, col, river, fields);
        let ground = surface(cover.surface, day, fields);
        let mut radiometry = ground.radiometry(mu);
        if cover.cloud_fraction > 0.0 {
            let cloud = surface(LandClass::Cloud, day, fields).radiometry(mu);
            radiometry = radiometry.mix(cloud, cover.cloud_fraction);
        }
        let class = if fill { LandClass::Fill } else { cover.class() };
        PixelPhysics {
            class,
            surface_temp_k: ground.temp_k,
            radiometry,
            sza_deg,
            saa_deg,
            vza_deg,
            vaa_deg,
            water: cover.surface == LandClass::Water,
        }
    }
}

/// One generated row: bands in file order (I1 I2 I3 I4 I5 SZA [VZA SAA VAA]) and classes.
struct Row {
    bands: Vec<Vec<f32>>,
    classes: Vec<LandClass>,
    /// 1 where the surface is water.
    water: Vec<u8>,
}

fn make_row(ctx: &Context, row: usize) -> Row {
    let spec = ctx.spec;
    let nbands = if spec.glint_bands { 9 } else { 6 };
    let mut bands = vec![Vec::with_capacity(spec.cols); nbands];
    let mut classes = Vec::with_capacity(spec.cols);
    let mut water = Vec::with_capacity(spec.cols);
    let mut rng = ChaCha8Rng::seed_from_u64(noise::mix64(
        spec.seed ^ noise::mix64(row as u64 ^ 0x0_7E57),
    ));
    let fires = ctx.fires_by_row.get(&row);
    let river = ctx.landcover.rivers_of_row(row, spec.cols);
    let fields = RowFields::new(spec.seed, row, spec.cols, spec.cloud_cover > 0.0);
    let lat = ctx.row_lat_sin_cos(row);
    for col in 0..spec.cols {
        let px = ctx.physics(row, col, &river, lat, &fields.get(col));
        // Draw the noise of every pixel, fill or not, so a pixel's noise depends only on (seed, row, col).
        let (n4, n5) = noise::gaussian_pair(&mut rng);
        let (n4, n5) = (spec.nedt_k * n4, spec.nedt_k * n5);
        let (r1, r2) = noise::gaussian_pair(&mut rng);
        let (r3, _) = noise::gaussian_pair(&mut rng);
        let nr = [r1, r2, r3].map(|v| 0.002 * v);
        let fire = fires.and_then(|v| v.iter().find(|f| f.col == col));
        let rad = fire.map_or(px.radiometry, |f| {
            f.burn_in(px.radiometry, ctx.pixel_area_m2(col))
        });
        if px.class == LandClass::Fill {
            for b in bands.iter_mut().take(5) {
                b.push(f32::NAN);
            }
        } else {
            let day = px.sza_deg < 90.0;
            // VIIRS has no reflective-band data at night: fill, as in VNP02IMG.
            for (k, b) in bands.iter_mut().take(3).enumerate() {
                b.push(if day {
                    (rad.rho[k] + nr[k]).max(0.0) as f32
                } else {
                    f32::NAN
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
        water.push(px.water as u8);
    }
    Row {
        bands,
        classes,
        water,
    }
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
    let ctx = Context::new(spec, &spec.fires);
    let (bands, classes, _) = generate_rows(&ctx, progress);
    let (rows, cols) = (spec.rows, spec.cols);
    let to_array =
        |v: Vec<f32>| Array2::from_shape_vec((rows, cols), v).expect("rows × cols values");
    let mut it = bands.into_iter().map(to_array);
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

/// Every row of a scene, in parallel blocks: the bands in file order (row-major), the classes
/// and the water mask.
fn generate_rows(
    ctx: &Context,
    progress: &(dyn Fn(usize) + Sync),
) -> (Vec<Vec<f32>>, Vec<LandClass>, Vec<u8>) {
    let spec = ctx.spec;
    let (rows, cols) = (spec.rows, spec.cols);
    let nbands = if spec.glint_bands { 9 } else { 6 };
    let mut out: Vec<Vec<f32>> = (0..nbands)
        .map(|_| Vec::with_capacity(rows * cols))
        .collect();
    let mut classes = Vec::with_capacity(rows * cols);
    let mut water = Vec::with_capacity(rows * cols);
    // Blocks of rows in parallel, copied out in order: memory stays at one copy of the scene.
    const BLOCK_ROWS: usize = 128;
    for start in (0..rows).step_by(BLOCK_ROWS) {
        let end = (start + BLOCK_ROWS).min(rows);
        let block: Vec<Row> = (start..end)
            .into_par_iter()
            .map(|r| make_row(ctx, r))
            .collect();
        for row in block {
            for (o, b) in out.iter_mut().zip(row.bands) {
                o.extend_from_slice(&b);
            }
            classes.extend_from_slice(&row.classes);
            water.extend_from_slice(&row.water);
        }
        progress(end);
    }
    (out, classes, water)
}

/// Generates a scene.
pub fn generate(spec: &SynthSpec) -> Result<SynthScene, SynthError> {
    generate_with_progress(spec, &|_| {})
}

fn fire_truth(ctx: &Context, f: &PlantedFire, class: LandClass) -> FireTruth {
    let river = ctx.landcover.rivers_of_row(f.row, ctx.spec.cols);
    let fields = PixelFields::at(ctx.spec.seed, f.row, f.col);
    let px = ctx.physics(f.row, f.col, &river, ctx.row_lat_sin_cos(f.row), &fields);
    let bg = px.radiometry;
    let burnt = f.burn_in(bg, ctx.pixel_area_m2(f.col));
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
    let ctx = Context::new(spec, &[]);
    let excluded = |row: usize, col: usize| {
        ctx.is_fill(row, ctx.columns[col].scan_deg)
            || spec
                .fires
                .iter()
                .any(|f| f.row.abs_diff(row) < 6 && f.col.abs_diff(col) < 6)
    };
    random_fires(
        &ctx.landcover,
        spec.rows,
        spec.cols,
        n,
        spec.seed,
        &excluded,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neighbour_mean(a: &Array2<f32>, row: usize, col: usize) -> f64 {
        let mut v = Vec::new();
        for r in row - 2..=row + 2 {
            for c in col - 2..=col + 2 {
                if r.abs_diff(row) > 1 || c.abs_diff(col) > 1 {
                    v.push(a[[r, c]] as f64);
                }
            }
        }
        v.iter().sum::<f64>() / v.len() as f64
    }

    #[test]
    fn a_small_night_fire_raises_bt4_by_about_nine_kelvin() {
        let mut spec = SynthSpec::night(80, 80, 3);
        spec.cloud_cover = 0.0;
        let site = (0..80 * 80)
            .map(|i| (i / 80, i % 80))
            .find(|&(r, c)| {
                (10..70).contains(&r)
                    && (10..70).contains(&c)
                    && (r - 2..=r + 2).all(|rr| {
                        (c - 2..=c + 2).all(|cc| {
                            LandcoverParams::new(3, 0.0).cover(rr, cc).class()
                                == LandClass::Cropland
                        })
                    })
            })
            .unwrap();
        spec.fires
            .push(PlantedFire::new(site.0, site.1, 5.5, 1000.0));
        let scene = generate(&spec).unwrap();
        let t = &scene.truth[0];
        assert!((7.0..11.0).contains(&t.expected_dbt4_k), "{t:?}");
        assert_eq!(t.land_class, "cropland");
        let rise = scene.bands.i4[[site.0, site.1]] as f64
            - neighbour_mean(&scene.bands.i4, site.0, site.1);
        assert!((5.0..13.0).contains(&rise), "observed rise {rise}");
        // I5 hardly moves: that is what makes ΔT45 a fire signal.
        assert!(t.expected_dbt5_k < 0.5, "{t:?}");
        assert!((t.true_frp_mw - true_frp_mw(5.5, 1000.0, t.surface_temp_k)).abs() < 1e-12);
    }

    #[test]
    fn large_fires_saturate_and_folded_fires_read_208() {
        let mut spec = SynthSpec::night(40, 40, 1);
        spec.cloud_cover = 0.0;
        spec.fires = vec![
            PlantedFire::new(10, 10, 3000.0, 1200.0),
            PlantedFire {
                fold: true,
                ..PlantedFire::new(20, 20, 3000.0, 1200.0)
            },
        ];
        let scene = generate(&spec).unwrap();
        assert_eq!(scene.bands.i4[[10, 10]], I4_SATURATION_K);
        assert_eq!(scene.bands.i4[[20, 20]], I4_FOLD_K);
        assert!(scene.truth[0].saturated && !scene.truth[0].folded);
        assert!(scene.truth[1].folded && !scene.truth[1].saturated);
        assert!(
            scene.bands.i5[[20, 20]] > 330.0,
            "{}",
            scene.bands.i5[[20, 20]]
        );
    }

    #[test]
    fn output_is_identical_whatever_the_thread_count() {
        let mut spec = SynthSpec::day(300, 170, 42);
        spec.glint_bands = true;
        spec.nadir_offset_km = 700.0;
        spec.fires = random_fires_for(&spec, 12);
        assert_eq!(spec.fires.len(), 12);
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| generate(&spec).unwrap())
        };
        let (a, b) = (run(1), run(3));
        // NaN != NaN: compare bit patterns.
        for ((name, x), (_, y)) in a.named_bands().into_iter().zip(b.named_bands()) {
            assert!(
                x.iter()
                    .zip(y.iter())
                    .all(|(p, q)| p.to_bits() == q.to_bits()),
                "band {name}"
            );
        }
        assert_eq!(a.classes, b.classes);
        assert_eq!(a.truth, b.truth);
        let mut other = spec.clone();
        other.seed = 43;
        assert_ne!(generate(&other).unwrap().bands.i4, a.bands.i4);
    }

    #[test]
    fn day_scene_classes_carry_their_signatures() {
        let mut spec = SynthSpec::day(400, 400, 8);
        spec.cloud_cover = 0.15;
        spec.nadir_offset_km = 600.0;
        let s = generate(&spec).unwrap();
        let b = &s.bands;
        let mut fill = 0;
        for ((r, c), class) in s.classes.indexed_iter() {
            let (r1, r2, r3, bt5) = (b.i1[[r, c]], b.i2[[r, c]], b.i3[[r, c]], b.i5[[r, c]]);
            match class {
                LandClass::Water => assert!(r1 > r2 && r2 > r3, "water {r1} {r2} {r3}"),
                LandClass::Cloud => assert!(bt5 < 265.0 && r1 + r2 > 0.9, "cloud {bt5} {r1} {r2}"),
                LandClass::Fill => {
                    fill += 1;
                    assert!(b.i4[[r, c]].is_nan() && !b.sza[[r, c]].is_nan());
                }
                _ => assert!(b.i4[[r, c]].is_finite()),
            }
        }
        // Beyond 31.59° scan angle (≈540 km off nadir), rows 0, 1, 30, 31 of each 32-row scan are
        // bow-tie fill: 12 whole scans and 16 rows of a 13th give 50 rows.
        let far_cols = (0..400)
            .filter(|&c| {
                let x = 600_000.0 + (c as f64 + 0.5 - 200.0) * PIXEL_M;
                scan_and_view_zenith_deg(x).0 > BOWTIE_ZONE2_DEG
            })
            .count();
        assert!((300..400).contains(&far_cols), "{far_cols}");
        assert_eq!(fill, 50 * far_cols);
        let sza = b.sza[[200, 200]];
        assert!((5.0..30.0).contains(&sza), "{sza}");
    }

    #[test]
    fn the_written_scene_is_centred_on_the_requested_point() {
        let mut spec = SynthSpec::night(50, 60, 5);
        spec.center_lon_deg = 114.25;
        spec.center_lat_deg = 34.55;
        spec.fires = random_fires_for(&spec, 3);
        let scene = generate(&spec).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.tif");
        let truth = default_truth_path(&path);
        scene.write(&path, &truth, Compression::Deflate).unwrap();
        let model = crate::model::SensorModel::builtin("viirs-i").unwrap();
        let back = crate::raster::read_scene(&path, &model).unwrap();
        assert_eq!(back.band("I4").unwrap(), scene.bands.i4);
        assert_eq!(back.meta.sensor.as_deref(), Some("VIIRS"));
        let p = crate::raster::Wgs84Projector::new(&back.georef).unwrap();
        let (lon, lat) = p.to_lonlat(&[(25.0, 30.0)]).unwrap()[0];
        assert!(
            (lon - 114.25).abs() < 1e-6 && (lat - 34.55).abs() < 1e-6,
            "{lon} {lat}"
        );
        let text = std::fs::read_to_string(&truth).unwrap();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.starts_with("row,col,area_m2,temp_k,"));
    }

    #[test]
    fn bad_specs_are_refused_by_name() {
        let mut spec = SynthSpec::night(10, 10, 1);
        spec.fires.push(PlantedFire::new(10, 3, 5.0, 1000.0));
        let e = generate(&spec).unwrap_err().to_string();
        assert!(e.contains("row 10") && e.contains("outside"), "{e}");
        spec.fires = vec![PlantedFire::new(1, 1, 200_000.0, 1000.0)];
        assert!(generate(&spec).unwrap_err().to_string().contains("area"));
    }
}
