//! Synthetic MODIS 1 km swath granules, in memory, from the same physics as the VIIRS
//! generator: the North China Plain's land classes (`landcover.rs`), their temperatures,
//! emissivities and reflectances (`surface.rs`), clouds and cloud edges, rivers and ponds with
//! the land/sea mask, bright soil and factory roofs, the sun from the acquisition time and the
//! view geometry of the MODIS scan (so sun glint happens where the geometry puts it), and planted
//! sub-pixel fires of known area and temperature mixed in by the Planck function at each MODIS
//! band. What `tests/detect_modis_physics.rs` measures the detector on, and what the MODIS
//! product writer encodes for reader tests. The same physics at FY-3 MERSI's bands
//! ([`Instrument`], [`MERSI`]: 3.80/4.05/10.8/12.0 µm, its noise and saturation; FY-3D's
//! afternoon and night passes, FY-3E's dusk pass) is what `tests/detect_mersi_physics.rs` writes
//! through `product::write::mersi` and reads back for the detector.
//!
//! Per pixel (ALGORITHMS.md "Physics"):
//! - 4 µm (bands 21, 22 at band 22's effective 3.9714 µm, `modis_l1b::B22_WAVELENGTH_UM`): ε₄·B(λ, T) + ρ₄·E☉(λ)·cos θs/π by day; 11 µm (band 31) and
//!   12 µm (band 32): ε·B(λ, T), the 11 µm emissivity of the class for both (ours: the classes'
//!   11–12 µm emissivities differ by under 1 %, below what the detector reads).
//! - Reflectance: band 1 (0.65 µm) and band 2 (0.86 µm) are the class's red and NIR; band 7
//!   (2.1 µm) is its 1.6 µm reflectance times a ratio per class (vegetation and stubble ≈ 0.6,
//!   soil and roofs ≈ 0.9, water ≈ 0.5, cloud tops ≈ 0.6: ours, from the shapes of typical
//!   spectra). At night the reflective bands are fill (NaN), as in MOD021KM.
//! - A fire of area A at T_f in a pixel of area A_pix (which grows with the scan angle,
//!   `product::modis_swath`): p = A/A_pix, L = p·B(λ, T_f) + (1 − p)·L_background in bands 21,
//!   22, 31, 32; by day its 2.1 µm emission adds p·π·B(2.13 µm, T_f)/(E☉·cos θs) to band 7 and
//!   the visible reflectances lose the burning fraction.
//! - E☉(λ) is a 5778 K sun scaled to ALGORITHMS.md's 11 W m⁻² µm⁻¹ at 3.7 µm (≈ 8.9 at 3.97 µm,
//!   ≈ 78 at 2.13 µm).
//! - Noise: the MODIS specification's NEdT (band 21: 2.0 K, band 22: 0.07 K, bands 31 and 32:
//!   0.05 K; MODIS instrument specifications, NASA GSFC) and 0.002 in reflectance, from a
//!   stream seeded by (seed, row), so a granule is the same on any number of threads.
//! - Saturation: band 22 at 331 K (the value is kept, and `Granule::saturation` says so, as the
//!   reader does for a flagged pixel), band 21 at 500 K, bands 31/32 at 400 K.
//!
//! Geometry: the ground track is a great circle through the middle row's sub-satellite point
//! with the granule's heading; rows are 1 km apart along it, a column looks at the scan angle of
//! its MODIS sample (a granule narrower than 1354 columns is centred on nadir). Rows stay single
//! lines across the track (no bow-tie overlap): positions stay exact where tests check them.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::fields::RowFields;
use super::landcover::{LandClass, LandcoverParams};
use super::surface::{surface, Surface, E_SUN_3_7};
use super::swath::destination;
use super::truth::FireTruth;
use super::{noise, random_fires, PlantedFire, SynthError, DEFAULT_CENTER};
use crate::physics::{brightness_temperature, planck_radiance, true_frp_mw};
use crate::product::modis_swath::{self as geom, ROWS_PER_SCAN, SAMPLES};
use crate::product::{Geometry, Granule, ProductKind, Swath};
use crate::raster::georef::bearing_deg;
use crate::raster::{BandBuf, SceneMeta};

/// Band centres, µm.
pub const T4_UM: f64 = crate::product::modis_l1b::B22_WAVELENGTH_UM;
pub const T11_UM: f64 = 11.009;
pub const T12_UM: f64 = 12.02;
/// Band 7 centre, µm.
const B7_UM: f64 = 2.13;
/// Saturation of bands 22, 21, 31/32, K.
pub const B22_SATURATION_K: f32 = 331.0;
pub const B21_SATURATION_K: f32 = 500.0;
const TIR_SATURATION_K: f32 = 400.0;

/// The instrument a granule is made for: what differs between MODIS and FY-3 MERSI in the four
/// thermal bands the fire algorithm reads (canonical names `B21 B22 B31 B32`, as the readers map
/// them). Reflective bands, scan geometry and surfaces are shared (a MERSI granule here is a
/// MODIS-geometry swath centred on nadir, where both instruments' pixels are ≈ 1 km²).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instrument {
    /// `SceneMeta::sensor`: `MODIS` or `MERSI`.
    pub sensor: &'static str,
    /// Centres of `B21 B22 B31 B32`, µm.
    pub centres_um: [f64; 4],
    /// NEdT of `B21 B22 B31 B32`, K.
    pub nedt_k: [f64; 4],
    /// Saturation of `B21` and `B22`, K.
    pub b21_saturation_k: f32,
    pub b22_saturation_k: f32,
}

/// MODIS: bands 21 and 22 both at band 22's effective 3.9714 µm, 31, 32; the specification's
/// NEdT (band 21: 2.0 K, band 22: 0.07 K, bands 31 and 32: 0.05 K; MODIS instrument
/// specifications, NASA GSFC); band 22 saturating at 331 K, band 21 at 500 K.
pub const MODIS: Instrument = Instrument {
    sensor: "MODIS",
    centres_um: [T4_UM, T4_UM, T11_UM, T12_UM],
    nedt_k: [2.0, 0.07, 0.05, 0.05],
    b21_saturation_k: B21_SATURATION_K,
    b22_saturation_k: B22_SATURATION_K,
};

/// FY-3D MERSI-II (and FY-3E MERSI-LL, whose channels 2, 3, 6, 7 are the same bands): `B21` =
/// channel 20 at 3.80 µm, `B22` = channel 21 at 4.05 µm, `B31`/`B32` = channels 24/25 at 10.8 /
/// 12.0 µm, the nominal centres the writer puts in `Effect_Center_WaveLength` and the reader
/// converts with (`product::write::mersi::CENTRES_UM`). NEdT 0.25 K for channels 20 and 21 and
/// 0.2 K for 24–25 aggregated to 1 km (ours: the order of the design values quoted for
/// MERSI-II, unverified). Channel 21 saturating at 340 K is `models/fy3d-mersi.toml`'s own
/// assumption (`b22_saturation_k`, unverified); channel 20 is limited only by the counts the
/// writer can encode (≈ 390 K, then the saturated code).
pub const MERSI: Instrument = Instrument {
    sensor: "MERSI",
    centres_um: [3.80, 4.05, 10.8, 12.0],
    nedt_k: [0.25, 0.25, 0.2, 0.2],
    b21_saturation_k: B21_SATURATION_K,
    b22_saturation_k: 340.0,
};

/// Heading of an Aqua ascending (day, 13:30) pass over 34° N, degrees.
pub const ASCENDING_HEADING_DEG: f64 = 347.0;
/// Heading of an Aqua descending (night, 01:30) pass over 34° N, degrees.
pub const DESCENDING_HEADING_DEG: f64 = 193.0;

/// Everything that defines a synthetic MODIS granule.
#[derive(Debug, Clone, PartialEq)]
pub struct ModisSpec {
    /// Rows (a whole number of 10-row scans) and columns (at most 1354, centred on nadir).
    pub rows: usize,
    pub cols: usize,
    /// Sub-satellite point at the middle row, degrees.
    pub center_lon_deg: f64,
    pub center_lat_deg: f64,
    /// Heading of the ground track, degrees clockwise from north.
    pub heading_deg: f64,
    pub acq_time: DateTime<Utc>,
    /// FIRMS satellite code: `A` (Aqua) or `T` (Terra).
    pub satellite: String,
    /// A fixed solar zenith for every pixel instead of the sun of `acq_time`, °.
    pub sza_deg: Option<f64>,
    pub seed: u64,
    /// Roughly the fraction of the granule under cloud.
    pub cloud_cover: f64,
    /// Add the specification's sensor noise.
    pub noise: bool,
    pub fires: Vec<PlantedFire>,
    /// Band centres, noise and saturation ([`MODIS`] or [`MERSI`]).
    pub instrument: Instrument,
}

impl ModisSpec {
    /// An Aqua June afternoon over the default centre (13:30 local), 10 % cloud.
    pub fn day(rows: usize, cols: usize, seed: u64) -> Self {
        ModisSpec {
            rows,
            cols,
            center_lon_deg: DEFAULT_CENTER.0,
            center_lat_deg: DEFAULT_CENTER.1,
            heading_deg: ASCENDING_HEADING_DEG,
            acq_time: Utc.with_ymd_and_hms(2024, 6, 8, 5, 30, 0).unwrap(),
            satellite: "A".into(),
            sza_deg: None,
            seed,
            cloud_cover: 0.1,
            noise: true,
            fires: Vec::new(),
            instrument: MODIS,
        }
    }

    /// An Aqua June night over the default centre (01:30 local).
    pub fn night(rows: usize, cols: usize, seed: u64) -> Self {
        ModisSpec {
            heading_deg: DESCENDING_HEADING_DEG,
            acq_time: Utc.with_ymd_and_hms(2024, 6, 8, 17, 30, 0).unwrap(),
            ..Self::day(rows, cols, seed)
        }
    }

    /// FY-3D MERSI-II's June afternoon pass (13:30 local, the afternoon orbit as Aqua's).
    pub fn fy3d_day(rows: usize, cols: usize, seed: u64) -> Self {
        ModisSpec {
            satellite: "FY3D".into(),
            instrument: MERSI,
            ..Self::day(rows, cols, seed)
        }
    }

    /// FY-3D MERSI-II's June night pass (01:30 local).
    pub fn fy3d_night(rows: usize, cols: usize, seed: u64) -> Self {
        ModisSpec {
            satellite: "FY3D".into(),
            instrument: MERSI,
            ..Self::night(rows, cols, seed)
        }
    }

    /// FY-3E MERSI-LL's dusk pass (the early-morning orbit's ascending node, ≈ 17:30 local
    /// time plus the granule's latitude) in early November, the autumn straw-burning season:
    /// 10:30 UTC, ≈ 18:15 local solar time at 115° E, the sun ≈ 15° below the horizon.
    pub fn fy3e_dusk(rows: usize, cols: usize, seed: u64) -> Self {
        ModisSpec {
            satellite: "FY3E".into(),
            instrument: MERSI,
            heading_deg: ASCENDING_HEADING_DEG,
            acq_time: Utc.with_ymd_and_hms(2024, 11, 5, 10, 30, 0).unwrap(),
            ..Self::day(rows, cols, seed)
        }
    }

    fn validate(&self) -> Result<(), SynthError> {
        let bad = |field: &str, message: String| {
            Err(SynthError::InvalidSpec {
                field: field.into(),
                message,
            })
        };
        if self.rows == 0 || self.rows % ROWS_PER_SCAN != 0 || self.cols == 0 || self.cols > SAMPLES
        {
            return bad(
                "rows/cols",
                format!(
                    "a MODIS granule is whole {ROWS_PER_SCAN}-row scans of at most {SAMPLES} \
                     samples, not {}×{}",
                    self.rows, self.cols
                ),
            );
        }
        if !(0.0..=1.0).contains(&self.cloud_cover) {
            return bad(
                "cloud_cover",
                format!("{} is not within 0–1", self.cloud_cover),
            );
        }
        if !self.heading_deg.is_finite()
            || !(-80.0..=80.0).contains(&self.center_lat_deg)
            || !(-180.0..=180.0).contains(&self.center_lon_deg)
        {
            return bad(
                "center/heading",
                format!(
                    "{},{} heading {} is not a place and bearing",
                    self.center_lon_deg, self.center_lat_deg, self.heading_deg
                ),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for f in &self.fires {
            let at = format!("fire at row {} col {}", f.row, f.col);
            if f.row >= self.rows || f.col >= self.cols {
                return bad(
                    &at,
                    format!("outside the {}×{} granule", self.rows, self.cols),
                );
            }
            let pixel = geom::pixel_area_m2(geom::sample_of(f.col, self.cols));
            if !(f.area_m2 > 0.0 && f.area_m2 <= pixel) {
                return bad(
                    &at,
                    format!("area {} m² is not within (0, {pixel:.0}] m²", f.area_m2),
                );
            }
            if !(f.temp_k > 300.0 && f.temp_k < 3000.0) {
                return bad(
                    &at,
                    format!("temperature {} K is not within 300–3000 K", f.temp_k),
                );
            }
            if !seen.insert((f.row, f.col)) {
                return bad(&at, "two fires in one pixel; give their total area".into());
            }
        }
        Ok(())
    }
}

/// A generated granule with its truth.
#[derive(Debug, Clone)]
pub struct SynthModis {
    pub granule: Granule,
    /// The class of every pixel (cloud over the surface).
    pub classes: Array2<LandClass>,
    /// One entry per planted fire, in the order of the spec: `*_bt4_*` are band 22 (before its
    /// saturation), `*_bt5_*` band 31; `saturated` = band 22 saturated (T4 from band 21).
    pub truth: Vec<FireTruth>,
}

impl SynthModis {
    /// The detector's view of the granule (glint geometry and the land/sea mask included).
    pub fn input(&self) -> crate::detect::modis::ModisInput<'_> {
        let g = &self.granule;
        crate::detect::modis::ModisInput::from_bands(
            |name| g.band(name),
            g.water.as_ref().map(BandBuf::view),
            g.saturation.get("B22").copied(),
        )
        .expect("a generated granule has every band in one shape")
    }

    /// Each column's pixel area (the granule is centred on nadir).
    pub fn pixel_area(&self) -> crate::detect::PixelArea {
        let cols = self.granule.shape.1;
        crate::detect::PixelArea::PerColumn(
            (0..cols)
                .map(|c| geom::pixel_area_m2(geom::sample_of(c, cols)))
                .collect(),
        )
    }
}

/// Solar spectral irradiance at the top of the atmosphere, W m⁻² µm⁻¹: a 5778 K sun scaled to
/// ALGORITHMS.md's 11 W m⁻² µm⁻¹ at 3.7 µm.
pub fn solar_irradiance(wavelength_um: f64) -> f64 {
    E_SUN_3_7 * planck_radiance(wavelength_um, 5778.0) / planck_radiance(3.7, 5778.0)
}

/// ρ2.1 / ρ1.6 per surface class (ours; see the module doc).
fn swir_ratio(class: LandClass) -> f64 {
    match class {
        LandClass::Cropland | LandClass::Forest | LandClass::Village => 0.6,
        LandClass::BrightSoil | LandClass::FactoryRoof => 0.9,
        LandClass::Water => 0.5,
        LandClass::Cloud | LandClass::CloudEdge | LandClass::Fill => 0.6,
    }
}

/// Radiances and reflectances of one pixel: L of `B21 B22 B31 B32` and ρ1, ρ2, ρ7.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Radiometry {
    l: [f64; 4],
    rho: [f64; 3],
}

impl Radiometry {
    fn of(s: &Surface, class: LandClass, mu: f64, wl: &[f64; 4]) -> Radiometry {
        let reflected = |w: f64| {
            if mu > 0.0 {
                s.rho[3] * solar_irradiance(w) * mu / std::f64::consts::PI
            } else {
                0.0
            }
        };
        let mir = |w: f64| s.eps4 * planck_radiance(w, s.temp_k) + reflected(w);
        Radiometry {
            l: [
                mir(wl[0]),
                mir(wl[1]),
                s.eps5 * planck_radiance(wl[2], s.temp_k),
                s.eps5 * planck_radiance(wl[3], s.temp_k),
            ],
            rho: [s.rho[0], s.rho[1], s.rho[2] * swir_ratio(class)],
        }
    }

    fn mix(self, o: Radiometry, f: f64) -> Radiometry {
        let m = |a: f64, b: f64| (1.0 - f) * a + f * b;
        Radiometry {
            l: std::array::from_fn(|i| m(self.l[i], o.l[i])),
            rho: std::array::from_fn(|i| m(self.rho[i], o.rho[i])),
        }
    }

    /// A fraction `p` of the pixel burning at `temp_k`; `mu` = cos θs (0 at night).
    fn burn(self, p: f64, temp_k: f64, mu: f64, wl: &[f64; 4]) -> Radiometry {
        let mut out = Radiometry {
            l: std::array::from_fn(|i| p * planck_radiance(wl[i], temp_k) + (1.0 - p) * self.l[i]),
            rho: self.rho.map(|r| (1.0 - p) * r),
        };
        if mu > 0.0 {
            out.rho[2] += p * std::f64::consts::PI * planck_radiance(B7_UM, temp_k)
                / (solar_irradiance(B7_UM) * mu);
        }
        out
    }
}

/// Per-pixel geometry.
struct PixelGeo {
    lon: f64,
    lat: f64,
    vza: f64,
    vaa: f64,
    area_m2: f64,
}

struct Ctx<'a> {
    spec: &'a ModisSpec,
    landcover: LandcoverParams,
    sun: super::geo::SolarEphemeris,
    /// Signed Earth-central angle, view zenith and area per column.
    columns: Vec<(f64, f64, f64)>,
}

impl Ctx<'_> {
    fn geo(&self, row: usize, col: usize) -> PixelGeo {
        let s = self.spec;
        let r_km = geom::EARTH_RADIUS_KM;
        let centre = (s.center_lon_deg, s.center_lat_deg);
        let along = (row as f64 + 0.5 - s.rows as f64 / 2.0) * geom::ROW_PITCH_KM / r_km;
        let nadir = destination(centre, s.heading_deg, along);
        let ahead = destination(centre, s.heading_deg, along + 1.0 / r_km);
        let heading = bearing_deg(nadir, ahead);
        let (beta, vza, area_m2) = self.columns[col];
        let p = destination(nadir, heading + 90.0, beta);
        PixelGeo {
            lon: p.0,
            lat: p.1,
            vza,
            vaa: if beta.abs() < 1e-12 {
                0.0
            } else {
                bearing_deg(p, nadir)
            },
            area_m2,
        }
    }

    /// The noise-free radiometry of (row, col), its class, surface temperature, sun angles and
    /// whether the surface is water.
    fn physics(
        &self,
        row: usize,
        col: usize,
        g: &PixelGeo,
        rivers: &[(f64, f64)],
        fields: &super::fields::PixelFields,
    ) -> (Radiometry, LandClass, f64, (f64, f64), bool) {
        let (sun_z, saa) = self.sun.zenith_azimuth_deg(g.lon, g.lat);
        let sza = self.spec.sza_deg.unwrap_or(sun_z);
        let day = sza < 90.0;
        let mu = if day { sza.to_radians().cos() } else { 0.0 };
        let cover = self.landcover.cover_with(row, col, rivers, fields);
        let ground = surface(cover.surface, day, fields);
        let wl = &self.spec.instrument.centres_um;
        let mut rad = Radiometry::of(&ground, cover.surface, mu, wl);
        if cover.cloud_fraction > 0.0 {
            let cloud = surface(LandClass::Cloud, day, fields);
            rad = rad.mix(
                Radiometry::of(&cloud, LandClass::Cloud, mu, wl),
                cover.cloud_fraction,
            );
        }
        (
            rad,
            cover.class(),
            ground.temp_k,
            (sza, saa),
            cover.surface == LandClass::Water,
        )
    }
}

/// One generated row: 11 bands (B1 B2 B7 B21 B22 B31 B32 SZA VZA SAA VAA), lat, lon, classes,
/// water.
struct Row {
    bands: Vec<Vec<f32>>,
    lat: Vec<f32>,
    lon: Vec<f32>,
    classes: Vec<LandClass>,
    water: Vec<u8>,
}

const BAND_NAMES: [&str; 11] = [
    "B1", "B2", "B7", "B21", "B22", "B31", "B32", "SZA", "VZA", "SAA", "VAA",
];

fn make_row(ctx: &Ctx, row: usize) -> Row {
    let s = ctx.spec;
    let inst = &s.instrument;
    let cols = s.cols;
    let mut out = Row {
        bands: vec![Vec::with_capacity(cols); BAND_NAMES.len()],
        lat: Vec::with_capacity(cols),
        lon: Vec::with_capacity(cols),
        classes: Vec::with_capacity(cols),
        water: Vec::with_capacity(cols),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(noise::mix64(
        s.seed ^ noise::mix64(row as u64 ^ 0x0_40D1_5000),
    ));
    let rivers = ctx.landcover.rivers_of_row(row, cols);
    let fields = RowFields::new(s.seed, row, cols, s.cloud_cover > 0.0);
    // The fires of this row, in the spec's order (a physics test plants hundreds per granule:
    // looking each pixel up among all of them cost a tenth of the generation).
    let row_fires: Vec<&PlantedFire> = s.fires.iter().filter(|f| f.row == row).collect();
    for col in 0..cols {
        let g = ctx.geo(row, col);
        let (mut rad, class, _, (sza, saa), water) =
            ctx.physics(row, col, &g, &rivers, &fields.get(col));
        let mu = if sza < 90.0 {
            sza.to_radians().cos()
        } else {
            0.0
        };
        if let Some(f) = row_fires.iter().find(|f| f.col == col) {
            rad = rad.burn(f.area_m2 / g.area_m2, f.temp_k, mu, &inst.centres_um);
        }
        // Draw every pixel's noise, so a pixel's noise depends only on (seed, row, col).
        let (n21, n22) = noise::gaussian_pair(&mut rng);
        let (n31, n32) = noise::gaussian_pair(&mut rng);
        let (r1, r2) = noise::gaussian_pair(&mut rng);
        let (r7, _) = noise::gaussian_pair(&mut rng);
        let k = if s.noise { 1.0 } else { 0.0 };
        let nt = [n21, n22, n31, n32];
        let nr = [r1, r2, r7];
        for (b, (rho, n)) in out.bands.iter_mut().zip(rad.rho.iter().zip(nr)) {
            b.push(if mu > 0.0 {
                (rho + k * 0.002 * n).max(0.0) as f32
            } else {
                f32::NAN
            });
        }
        let bt = |i: usize| {
            (brightness_temperature(inst.centres_um[i], rad.l[i]) + k * inst.nedt_k[i] * nt[i])
                as f32
        };
        out.bands[3].push(bt(0).min(inst.b21_saturation_k));
        out.bands[4].push(bt(1).min(inst.b22_saturation_k));
        out.bands[5].push(bt(2).min(TIR_SATURATION_K));
        out.bands[6].push(bt(3).min(TIR_SATURATION_K));
        out.bands[7].push(sza as f32);
        out.bands[8].push(g.vza as f32);
        out.bands[9].push(saa as f32);
        out.bands[10].push(g.vaa as f32);
        out.lat.push(g.lat as f32);
        out.lon.push(g.lon as f32);
        out.classes.push(class);
        out.water.push(water as u8);
    }
    out
}

fn context(spec: &ModisSpec) -> Ctx<'_> {
    Ctx {
        spec,
        landcover: LandcoverParams::new(spec.seed, spec.cloud_cover),
        sun: super::geo::SolarEphemeris::at(spec.acq_time),
        columns: (0..spec.cols)
            .map(|c| {
                let sample = geom::sample_of(c, spec.cols);
                let theta = geom::scan_angle_deg(sample);
                (
                    geom::earth_angle_rad(theta),
                    geom::view_zenith_deg(theta),
                    geom::pixel_area_m2(sample),
                )
            })
            .collect(),
    }
}

fn buffer<T: bytemuck::Pod>(
    what: &str,
    shape: (usize, usize),
    values: &[T],
) -> Result<BandBuf<T>, SynthError> {
    let mut b = BandBuf::zeros(shape).map_err(|e| SynthError::InvalidSpec {
        field: what.into(),
        message: format!("no memory for the band: {e}"),
    })?;
    b.as_mut_slice().copy_from_slice(values);
    Ok(b)
}

/// Generates a MODIS granule (bands `B1 B2 B7` reflectance, `B21 B22 B31 B32` K, `SZA VZA SAA
/// VAA` °; lat/lon; the land/sea mask) and the truth of its planted fires.
///
/// ```
/// use strawfire::synth::modis::{generate_modis, ModisSpec};
/// use strawfire::synth::PlantedFire;
/// let mut spec = ModisSpec::night(20, 60, 3);
/// spec.fires.push(PlantedFire::new(10, 30, 100.0, 1000.0));
/// let g = generate_modis(&spec).unwrap();
/// assert_eq!(g.granule.shape, (20, 60));
/// assert!(g.truth[0].expected_dbt4_k > 10.0);
/// ```
pub fn generate_modis(spec: &ModisSpec) -> Result<SynthModis, SynthError> {
    spec.validate()?;
    let ctx = context(spec);
    let (rows, cols) = (spec.rows, spec.cols);
    let made: Vec<Row> = (0..rows)
        .into_par_iter()
        .map(|r| make_row(&ctx, r))
        .collect();
    let mut bands: Vec<Vec<f32>> = vec![Vec::with_capacity(rows * cols); BAND_NAMES.len()];
    let (mut lat, mut lon, mut classes, mut water) = (
        Vec::with_capacity(rows * cols),
        Vec::with_capacity(rows * cols),
        Vec::with_capacity(rows * cols),
        Vec::with_capacity(rows * cols),
    );
    for r in made {
        for (o, b) in bands.iter_mut().zip(r.bands) {
            o.extend_from_slice(&b);
        }
        lat.extend_from_slice(&r.lat);
        lon.extend_from_slice(&r.lon);
        classes.extend_from_slice(&r.classes);
        water.extend_from_slice(&r.water);
    }
    let shape = (rows, cols);
    let mut named = BTreeMap::new();
    for (name, values) in BAND_NAMES.iter().zip(&bands) {
        named.insert(name.to_string(), buffer(name, shape, values)?);
    }
    let classes = Array2::from_shape_vec(shape, classes).expect("rows × cols classes");
    let truth = spec
        .fires
        .iter()
        .map(|f| fire_truth(&ctx, f, classes[[f.row, f.col]]))
        .collect();
    let granule = Granule {
        kind: ProductKind::Synthetic,
        files: Vec::new(),
        meta: SceneMeta {
            acq_time: Some(spec.acq_time),
            satellite: Some(spec.satellite.clone()),
            sensor: Some(spec.instrument.sensor.into()),
        },
        shape,
        bands: named,
        geometry: Geometry::Swath(Swath {
            lat: buffer("latitude", shape, &lat)?,
            lon: buffer("longitude", shape, &lon)?,
            rows_per_scan: ROWS_PER_SCAN,
        }),
        water: Some(buffer("land/sea mask", shape, &water)?),
        saturation: [
            ("B22".to_string(), spec.instrument.b22_saturation_k),
            ("B21".to_string(), spec.instrument.b21_saturation_k),
        ]
        .into_iter()
        .collect(),
    };
    Ok(SynthModis {
        granule,
        classes,
        truth,
    })
}

/// The granule of `spec` made over `clear`, the granule [`generate_modis`] made of the same
/// spec without its fires: only the rows that hold a fire are made again (a pixel's values
/// depend on its row, column, seed and fire alone), the rest is `clear`'s. The same granule as
/// `generate_modis(spec)`, bit for bit (tested); for tests that plant one lattice of fires at
/// many sizes and temperatures in one scene (`tests/common/physics_1km.rs`), where making the
/// whole granule again for each was most of the time. `clear` of another spec gives a granule
/// that is neither's: the caller keeps the two together.
pub fn generate_modis_over(clear: &SynthModis, spec: &ModisSpec) -> Result<SynthModis, SynthError> {
    spec.validate()?;
    if clear.granule.shape != (spec.rows, spec.cols) {
        return Err(SynthError::InvalidSpec {
            field: "rows".into(),
            message: format!(
                "the clear granule is {:?}, the spec {} × {}",
                clear.granule.shape, spec.rows, spec.cols
            ),
        });
    }
    let ctx = context(spec);
    let cols = spec.cols;
    let mut rows: Vec<usize> = spec.fires.iter().map(|f| f.row).collect();
    rows.sort_unstable();
    rows.dedup();
    let made: Vec<(usize, Row)> = rows
        .into_par_iter()
        .map(|r| (r, make_row(&ctx, r)))
        .collect();
    let mut granule = clear.granule.clone();
    for (r, row) in made {
        for (name, values) in BAND_NAMES.iter().zip(&row.bands) {
            let band = granule
                .bands
                .get_mut(*name)
                .expect("a generated granule has every band");
            band.as_mut_slice()[r * cols..(r + 1) * cols].copy_from_slice(values);
        }
    }
    let truth = spec
        .fires
        .iter()
        .map(|f| fire_truth(&ctx, f, clear.classes[[f.row, f.col]]))
        .collect();
    Ok(SynthModis {
        granule,
        classes: clear.classes.clone(),
        truth,
    })
}

fn fire_truth(ctx: &Ctx, f: &PlantedFire, class: LandClass) -> FireTruth {
    let s = ctx.spec;
    let g = ctx.geo(f.row, f.col);
    let rivers = ctx.landcover.rivers_of_row(f.row, s.cols);
    let fields = super::fields::PixelFields::at(s.seed, f.row, f.col);
    let (bg, _, surface_k, (sza, _), _) = ctx.physics(f.row, f.col, &g, &rivers, &fields);
    let mu = if sza < 90.0 {
        sza.to_radians().cos()
    } else {
        0.0
    };
    let wl = &s.instrument.centres_um;
    let burnt = bg.burn(f.area_m2 / g.area_m2, f.temp_k, mu, wl);
    let bt4 = brightness_temperature(wl[1], bg.l[1]);
    let bt11 = brightness_temperature(wl[2], bg.l[2]);
    let fire4 = brightness_temperature(wl[1], burnt.l[1]);
    FireTruth {
        row: f.row,
        col: f.col,
        area_m2: f.area_m2,
        temp_k: f.temp_k,
        surface_temp_k: surface_k,
        background_bt4_k: bt4,
        background_bt5_k: bt11,
        expected_dbt4_k: fire4 - bt4,
        expected_dbt5_k: brightness_temperature(wl[2], burnt.l[2]) - bt11,
        true_frp_mw: true_frp_mw(f.area_m2, f.temp_k, surface_k),
        land_class: class.name(),
        saturated: fire4 >= s.instrument.b22_saturation_k as f64,
        folded: false,
    }
}

/// `n` random fires on clear cropland of the granule `spec` describes (areas 1–3000 m²,
/// 500–1200 K, at least 6 pixels apart), away from the fires already in the spec.
pub fn random_modis_fires(spec: &ModisSpec, n: usize) -> Vec<PlantedFire> {
    let landcover = LandcoverParams::new(spec.seed, spec.cloud_cover);
    let excluded = |row: usize, col: usize| {
        spec.fires
            .iter()
            .any(|f| f.row.abs_diff(row) < 6 && f.col.abs_diff(col) < 6)
    };
    random_fires(&landcover, spec.rows, spec.cols, n, spec.seed, &excluded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::georef::haversine_m;

    #[test]
    fn fires_made_over_the_clear_granule_are_the_granule_made_whole() {
        for clear_spec in [ModisSpec::fy3d_day(40, 80, 17), ModisSpec::day(30, 90, 3)] {
            let clear = generate_modis(&clear_spec).unwrap();
            let mut spec = clear_spec.clone();
            spec.fires = vec![
                PlantedFire::new(5, 10, 300.0, 800.0),
                PlantedFire::new(5, 40, 10_000.0, 1200.0),
                PlantedFire::new(20, 3, 30.0, 600.0),
                PlantedFire::new(29, 70, 1000.0, 1000.0),
            ];
            let whole = generate_modis(&spec).unwrap();
            let over = generate_modis_over(&clear, &spec).unwrap();
            assert_eq!(over.truth, whole.truth);
            assert_eq!(over.classes, whole.classes);
            assert_eq!(over.granule.bands.len(), whole.granule.bands.len());
            for (name, band) in &whole.granule.bands {
                let bits = |b: &BandBuf<f32>| -> Vec<u32> {
                    b.as_slice().iter().map(|v| v.to_bits()).collect()
                };
                assert_eq!(bits(&over.granule.bands[name]), bits(band), "{name}");
            }
            // The fires changed their pixels: the clear granule was not handed back.
            assert_ne!(
                over.granule.band("B22").unwrap()[[5, 40]],
                clear.granule.band("B22").unwrap()[[5, 40]]
            );
            let mut other = spec.clone();
            other.rows += 10;
            assert!(generate_modis_over(&clear, &other).is_err());
        }
    }

    #[test]
    fn a_granule_has_the_instrument_geometry_and_the_physics() {
        let mut spec = ModisSpec::day(20, SAMPLES, 4);
        spec.fires.push(PlantedFire::new(10, 677, 1000.0, 1000.0));
        spec.fires.push(PlantedFire::new(10, 1350, 1000.0, 1000.0));
        let g = generate_modis(&spec).unwrap();
        let Geometry::Swath(sw) = &g.granule.geometry else {
            panic!("a swath")
        };
        let ll = |r: usize, c: usize| (sw.lon.view()[[r, c]] as f64, sw.lat.view()[[r, c]] as f64);
        // 1 km apart at nadir, ≈ 4.8 km along scan at the edge, ≈ 2330 km wide.
        let d = |a, b| haversine_m(a, b) / 1000.0;
        assert!((d(ll(10, 677), ll(11, 677)) - 1.0).abs() < 0.01);
        assert!((d(ll(10, 677), ll(10, 678)) - 1.0).abs() < 0.02);
        assert!((d(ll(10, 1352), ll(10, 1353)) - 4.8).abs() < 0.2);
        let width = d(ll(10, 0), ll(10, SAMPLES - 1));
        assert!((2280.0..2360.0).contains(&width), "{width}");
        // The same fire at the edge fills a pixel ≈ 10 times larger: a much smaller rise.
        let (nadir, edge) = (&g.truth[0], &g.truth[1]);
        assert!(
            nadir.expected_dbt4_k > 4.0 * edge.expected_dbt4_k,
            "{nadir:?} {edge:?}"
        );
        // Day: reflectances present; the band-22 rise of 1000 m² at 1000 K in 1 km² is tens of K.
        let b22 = g.granule.band("B22").unwrap();
        let b21 = g.granule.band("B21").unwrap();
        assert!(g.granule.band("B1").unwrap()[[5, 5]].is_finite());
        assert!(nadir.expected_dbt4_k > 25.0, "{nadir:?}");
        assert!(b22[[10, 677]] > b22[[10, 670]] + 20.0 || b22[[10, 677]] == B22_SATURATION_K);
        assert!(b21[[10, 677]] >= b22[[10, 677]] - 8.0);
        // A water mask, and bands in range.
        assert!(g.granule.water.as_ref().unwrap().as_slice().contains(&1));
        assert!(b22.iter().all(|&v| (200.0..=331.0).contains(&v)));
    }

    #[test]
    fn night_has_no_reflectances_and_the_spec_is_checked() {
        let g = generate_modis(&ModisSpec::night(10, 50, 1)).unwrap();
        assert!(g.granule.band("B2").unwrap().iter().all(|v| v.is_nan()));
        assert!(g.granule.band("SZA").unwrap()[[0, 0]] > 90.0);
        let mut bad = ModisSpec::day(15, 50, 1);
        assert!(generate_modis(&bad)
            .unwrap_err()
            .to_string()
            .contains("rows/cols"));
        bad.rows = 10;
        bad.fires.push(PlantedFire::new(3, 3, 2e6, 900.0));
        assert!(generate_modis(&bad)
            .unwrap_err()
            .to_string()
            .contains("area"));
        // Deterministic whatever the thread count.
        let a = generate_modis(&ModisSpec::day(20, 40, 9)).unwrap();
        let b = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| generate_modis(&ModisSpec::day(20, 40, 9)).unwrap());
        assert!(a.granule.bands["B22"] == b.granule.bands["B22"]);
        // The sun's 2.1 µm irradiance and 3.96 µm: the scaled 5778 K sun.
        assert!((70.0..95.0).contains(&solar_irradiance(2.13)));
        assert!((8.0..10.5).contains(&solar_irradiance(3.959)));
    }
}
