//! Synthetic Landsat 8/9 OLI scenes at 30 m from the same physics as the VIIRS generator: land
//! covers with their TOA reflectance spectra (harvested and green cropland fields, bare and
//! bright soil, village roofs, metal and coated factory roofs, rivers and ponds, clouds with
//! their edges and their shadows cast away from the sun), and sub-pixel fires whose Planck emission at each OLI band's wavelength is
//! added to the surface they replace:
//!
//! ρ_b = (1 − p)·ρ_surface,b + p · π L(λ_b, T) / (ESUN_b · sin θ_SE)
//!
//! with p the burning fraction of the 900 m² pixel (at night the sun term is absent and the
//! bands hold apparent reflectance π L / ESUN, as the reader gives them). Every pixel is a pure
//! function of (seed, row, col), so a scene is identical on any thread count, and a full-size
//! scene (≈ 7,700 × 7,800) is generated for the benchmark while tests use small ones.
//! [`LandsatSynth::write`] lays the scene out as a USGS product through
//! [`crate::product::write::landsat_c2l1`].

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use ndarray::{Array2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use super::geo;
use super::noise::{fbm, hash2, mix64, unit};
use crate::detect::oli::OliInput;
use crate::physics::planck_radiance;
use crate::product::landsat_c2l1::qa_pixel;
use crate::product::write::landsat_c2l1::{self as writer, Acquisition, Pixels, WriteOptions};
use crate::product::ProductError;
use crate::raster::GeoRef;

/// Pixel size, m.
pub const PIXEL_M: f64 = 30.0;

/// OLI band centre wavelengths, µm (bands 1–7; USGS Landsat 8 band designations).
pub const WAVELENGTH_UM: [f64; 7] = [0.443, 0.482, 0.561, 0.655, 0.865, 1.609, 2.201];

/// Exo-atmospheric solar irradiance per OLI band, W m⁻² µm⁻¹ (the values GRASS
/// `i.landsat.toar` uses for OLI), for the emitted term's conversion to reflectance.
pub const ESUN: [f64; 7] = [1895.33, 2004.57, 1820.75, 1549.49, 951.76, 247.55, 85.46];

/// Land covers of the generator (the false-alarm table's rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Cover {
    /// Harvested wheat/maize stubble: the burn season's fields.
    Stubble = 0,
    GreenCrop = 1,
    BareSoil = 2,
    /// Bright sandy soil (river beaches, construction sites).
    BrightSoil = 3,
    /// Village roofs (tile, concrete) and yards.
    Village = 4,
    /// Bare metal (zinc, steel) roofs: bright, flat in SWIR.
    MetalRoof = 5,
    /// White-coated factory roofs: the brightest targets of the plain.
    FactoryRoof = 6,
    Water = 7,
    Cloud = 8,
    /// A field burned earlier the same season: charred stubble and ash, dark in every band
    /// (where a spreading front's candidates meet a dark background).
    BurnScar = 9,
}

impl Cover {
    pub const ALL: [Cover; 10] = [
        Cover::Stubble,
        Cover::GreenCrop,
        Cover::BareSoil,
        Cover::BrightSoil,
        Cover::Village,
        Cover::MetalRoof,
        Cover::FactoryRoof,
        Cover::Water,
        Cover::Cloud,
        Cover::BurnScar,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Cover::Stubble => "stubble",
            Cover::GreenCrop => "green crop",
            Cover::BareSoil => "bare soil",
            Cover::BrightSoil => "bright soil",
            Cover::Village => "village",
            Cover::MetalRoof => "metal roof",
            Cover::FactoryRoof => "factory roof",
            Cover::Water => "water",
            Cover::Cloud => "cloud",
            Cover::BurnScar => "burn scar",
        }
    }

    /// Daytime TOA reflectance of bands 1–7 (typical values of each cover in OLI imagery; the
    /// blue bands carry the atmosphere's path radiance).
    pub fn spectrum(self) -> [f32; 7] {
        match self {
            Cover::Stubble => [0.11, 0.10, 0.11, 0.13, 0.23, 0.30, 0.24],
            Cover::GreenCrop => [0.10, 0.08, 0.08, 0.05, 0.38, 0.21, 0.10],
            Cover::BareSoil => [0.12, 0.12, 0.15, 0.19, 0.25, 0.33, 0.28],
            Cover::BrightSoil => [0.18, 0.20, 0.27, 0.34, 0.40, 0.50, 0.45],
            Cover::Village => [0.14, 0.14, 0.16, 0.18, 0.24, 0.27, 0.23],
            Cover::MetalRoof => [0.34, 0.36, 0.39, 0.41, 0.44, 0.46, 0.42],
            Cover::FactoryRoof => [0.55, 0.58, 0.60, 0.62, 0.64, 0.58, 0.48],
            Cover::Water => [0.10, 0.08, 0.06, 0.04, 0.02, 0.012, 0.008],
            Cover::Cloud => [0.46, 0.45, 0.45, 0.46, 0.48, 0.36, 0.24],
            Cover::BurnScar => [0.09, 0.07, 0.07, 0.07, 0.10, 0.12, 0.10],
        }
    }
}

/// A fire planted in one pixel: its burning area and temperature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlantedFire {
    pub row: usize,
    pub col: usize,
    pub area_m2: f64,
    pub temp_k: f64,
}

impl PlantedFire {
    /// The burning fraction of the pixel.
    pub fn fraction(&self) -> f64 {
        (self.area_m2 / (PIXEL_M * PIXEL_M)).clamp(0.0, 1.0)
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct LandsatSpec {
    pub rows: usize,
    pub cols: usize,
    pub seed: u64,
    /// Scene centre (WGS84 degrees).
    pub center_lon_deg: f64,
    pub center_lat_deg: f64,
    pub acq_time: DateTime<Utc>,
    /// Sun elevation at the centre, degrees; ≤ 0 is a night scene.
    pub sun_elevation_deg: f64,
    pub sun_azimuth_deg: f64,
    /// 8 or 9.
    pub spacecraft: u8,
    pub wrs_path: u16,
    pub wrs_row: u16,
    /// Land covers: `None` draws the North China Plain mix; `Some(c)` makes every pixel `c`
    /// (for the false-alarm test by cover).
    pub only: Option<Cover>,
    /// Clouds and their edges (off for clear-sky tests).
    pub clouds: bool,
    /// Multiplicative noise per pixel and band (standard deviation ≈ this / √3).
    pub noise: f32,
    pub fires: Vec<PlantedFire>,
}

impl LandsatSpec {
    /// A morning overpass over the North China Plain in the June harvest season (10:30 local,
    /// sun elevation 65°).
    pub fn day(rows: usize, cols: usize, seed: u64) -> Self {
        LandsatSpec {
            rows,
            cols,
            seed,
            center_lon_deg: super::DEFAULT_CENTER.0,
            center_lat_deg: super::DEFAULT_CENTER.1,
            acq_time: Utc.with_ymd_and_hms(2024, 6, 10, 2, 57, 21).unwrap(),
            sun_elevation_deg: 65.0,
            sun_azimuth_deg: 110.0,
            spacecraft: 9,
            wrs_path: 123,
            wrs_row: 36,
            only: None,
            clouds: true,
            noise: 0.08,
            fires: Vec::new(),
        }
    }

    /// The same place at a night acquisition (sun 30° below the horizon).
    pub fn night(rows: usize, cols: usize, seed: u64) -> Self {
        LandsatSpec {
            acq_time: Utc.with_ymd_and_hms(2024, 6, 10, 14, 20, 5).unwrap(),
            sun_elevation_deg: -30.0,
            sun_azimuth_deg: 320.0,
            ..Self::day(rows, cols, seed)
        }
    }
}

/// A generated scene: reflectances (as the reader returns them), QA_PIXEL bits, cover per
/// pixel, grid.
pub struct LandsatSynth {
    pub spec: LandsatSpec,
    pub rho: [Array2<f32>; 7],
    pub qa: Array2<u16>,
    pub cover: Array2<u8>,
    pub georef: GeoRef,
}

/// Cloud field above which a pixel is cloud (between 0.71 and this: its dilated edge).
const CLOUD_CORE: f64 = 0.74;

/// The clouds' height above the ground, m (mid-level cloud): where their shadows fall, about 60
/// pixels from the cloud at the default 65° sun, beyond the cloud's dilated edge.
const CLOUD_HEIGHT_M: f64 = 4000.0;

/// Light left in a cloud's shadow (skylight only), as a share of the sunlit reflectance.
const SHADOW_LIGHT: f32 = 0.3;

fn cloud_field(spec: &LandsatSpec, rf: f64, cf: f64) -> f64 {
    fbm(mix64(spec.seed ^ 0xC10D), rf, cf, 400.0, 3)
}

/// Whether pixel (r, c) lies in a cloud's shadow: a cloud core at `CLOUD_HEIGHT_M` hides the
/// sun from it, i.e. the point `CLOUD_HEIGHT_M / tan θ_SE` towards the sun is cloud (by day,
/// with clouds on).
fn in_shadow(spec: &LandsatSpec, r: usize, c: usize) -> bool {
    if !spec.clouds || spec.only.is_some() || spec.sun_elevation_deg <= 0.0 {
        return false;
    }
    let reach = CLOUD_HEIGHT_M / spec.sun_elevation_deg.to_radians().tan() / PIXEL_M;
    let az = spec.sun_azimuth_deg.to_radians();
    // Towards the sun: north is up (row − 1), east is right (col + 1).
    let (rs, cs) = (r as f64 - az.cos() * reach, c as f64 + az.sin() * reach);
    cloud_field(spec, rs, cs) > CLOUD_CORE
}

/// The cover of pixel (r, c) and whether it is a cloud's edge (dilated cloud).
fn cover_at(spec: &LandsatSpec, r: usize, c: usize) -> (Cover, bool) {
    if let Some(only) = spec.only {
        return (only, false);
    }
    let s = spec.seed;
    let (rf, cf) = (r as f64, c as f64);
    if spec.clouds {
        let k = cloud_field(spec, rf, cf);
        if k > CLOUD_CORE {
            return (Cover::Cloud, false);
        }
        if k > 0.71 {
            // The edge: surface seen through thin cloud (QA's dilated cloud).
            let (under, _) = cover_at(
                &LandsatSpec {
                    clouds: false,
                    ..spec.clone()
                },
                r,
                c,
            );
            return (under, true);
        }
    }
    // A meandering river and scattered ponds.
    let river = spec.rows as f64 * 0.7 + 40.0 * (cf / 150.0).sin();
    if (rf - river).abs() < 5.0 || fbm(mix64(s ^ 0xB0D), rf, cf, 60.0, 2) > 0.82 {
        return (Cover::Water, false);
    }
    // Factories: rare 20 × 20 compounds of coated and metal roofs.
    let (fr, fc) = (r / 20, c / 20);
    if unit(hash2(s ^ 0xFAC, fr as i64, fc as i64)) < 0.015 {
        let h = unit(hash2(s ^ 0xF00F, (r / 4) as i64, (c / 4) as i64));
        return (
            if h < 0.5 {
                Cover::FactoryRoof
            } else {
                Cover::MetalRoof
            },
            false,
        );
    }
    if fbm(mix64(s ^ 0x7111), rf, cf, 50.0, 2) > 0.74 {
        let h = unit(hash2(s ^ 0x5EED, (r / 2) as i64, (c / 2) as i64));
        return (
            if h < 0.15 {
                Cover::MetalRoof
            } else {
                Cover::Village
            },
            false,
        );
    }
    if fbm(mix64(s ^ 0x5A4D), rf, cf, 80.0, 2) > 0.78 {
        return (Cover::BrightSoil, false);
    }
    // Fields of 10 × 14 pixels (300 × 420 m).
    let h = unit(hash2(s ^ 0xF1E1D, (r / 10) as i64, (c / 14) as i64));
    let cover = if h < 0.47 {
        Cover::Stubble
    } else if h < 0.55 {
        Cover::BurnScar
    } else if h < 0.8 {
        Cover::BareSoil
    } else {
        Cover::GreenCrop
    };
    (cover, false)
}

/// Reflectances, QA bits and cover of pixel (r, c) without fires.
fn pixel(spec: &LandsatSpec, r: usize, c: usize) -> ([f32; 7], u16, Cover) {
    let (cover, edge) = cover_at(spec, r, c);
    let day = spec.sun_elevation_deg > 0.0;
    let mut rho = [0f32; 7];
    let field = 1.0
        + spec.noise
            * (unit(hash2(spec.seed ^ 0xF, (r / 10) as i64, (c / 14) as i64)) as f32 - 0.5);
    for (b, v) in rho.iter_mut().enumerate() {
        let n = unit(hash2(
            spec.seed.wrapping_add(b as u64 * 7919),
            r as i64,
            c as i64,
        )) as f32;
        let jitter = 1.0 + spec.noise * (n - 0.5);
        *v = if day {
            let mut x = cover.spectrum()[b];
            if edge {
                let cloud = Cover::Cloud.spectrum()[b];
                x = 0.6 * x + 0.4 * cloud;
            }
            x * field * jitter
        } else {
            // No sunlight: the detector's dark signal around zero.
            0.0005 * (n - 0.5)
        };
    }
    let mut qa = 0u16;
    match cover {
        Cover::Cloud => qa |= qa_pixel::CLOUD | qa_pixel::DILATED_CLOUD,
        Cover::Water => qa |= qa_pixel::WATER,
        _ => {}
    }
    if edge {
        qa |= qa_pixel::DILATED_CLOUD;
    }
    if cover != Cover::Cloud && in_shadow(spec, r, c) {
        // Skylight only: darker in every band; QA_PIXEL's cloud-shadow bit.
        for v in &mut rho {
            *v *= SHADOW_LIGHT;
        }
        qa |= qa_pixel::CLOUD_SHADOW;
    }
    (rho, qa, cover)
}

/// Adds a fire's emission to a pixel's reflectances.
pub fn add_fire(rho: &mut [f32; 7], fire: &PlantedFire, sun_elevation_deg: f64) {
    let p = fire.fraction();
    let sin_e = if sun_elevation_deg > 0.0 {
        sun_elevation_deg.to_radians().sin()
    } else {
        1.0
    };
    for b in 0..7 {
        let emitted = std::f64::consts::PI * planck_radiance(WAVELENGTH_UM[b], fire.temp_k)
            / (ESUN[b] * sin_e);
        rho[b] = ((1.0 - p) * rho[b] as f64 + p * emitted) as f32;
    }
}

/// Rows per parallel task.
const STRIP_ROWS: usize = 64;

/// Generates a scene (all threads; identical on any thread count).
pub fn generate(spec: &LandsatSpec) -> LandsatSynth {
    let (rows, cols) = (spec.rows, spec.cols);
    let mut rho: [Array2<f32>; 7] = std::array::from_fn(|_| Array2::zeros((rows, cols)));
    let mut qa = Array2::<u16>::zeros((rows, cols));
    let mut cover = Array2::<u8>::zeros((rows, cols));
    {
        let mut band_chunks: Vec<std::vec::IntoIter<ArrayViewMut2<f32>>> = rho
            .iter_mut()
            .map(|a| {
                a.axis_chunks_iter_mut(Axis(0), STRIP_ROWS)
                    .collect::<Vec<_>>()
                    .into_iter()
            })
            .collect();
        let qa_chunks = qa.axis_chunks_iter_mut(Axis(0), STRIP_ROWS);
        let cover_chunks = cover.axis_chunks_iter_mut(Axis(0), STRIP_ROWS);
        let tasks: Vec<_> = qa_chunks
            .zip(cover_chunks)
            .enumerate()
            .map(|(i, (q, k))| {
                let bands: Vec<ArrayViewMut2<f32>> = band_chunks
                    .iter_mut()
                    .map(|it| it.next().expect("a chunk per band"))
                    .collect();
                (i, bands, q, k)
            })
            .collect();
        tasks
            .into_par_iter()
            .for_each(|(i, mut bands, mut q, mut k)| {
                let r0 = i * STRIP_ROWS;
                for dr in 0..q.nrows() {
                    for c in 0..cols {
                        let (px, bits, cv) = pixel(spec, r0 + dr, c);
                        for b in 0..7 {
                            bands[b][[dr, c]] = px[b];
                        }
                        q[[dr, c]] = bits;
                        k[[dr, c]] = cv as u8;
                    }
                }
            });
    }
    for f in &spec.fires {
        if f.row >= rows || f.col >= cols {
            continue;
        }
        let mut px: [f32; 7] = std::array::from_fn(|b| rho[b][[f.row, f.col]]);
        add_fire(&mut px, f, spec.sun_elevation_deg);
        for b in 0..7 {
            rho[b][[f.row, f.col]] = px[b];
        }
    }
    let zone = geo::utm_zone(spec.center_lon_deg);
    let north = spec.center_lat_deg >= 0.0;
    let (e, n) = geo::utm_forward(zone, spec.center_lon_deg, spec.center_lat_deg);
    // USGS grids snap to whole 15 m; ours to 30 m.
    let snap = |v: f64| (v / PIXEL_M).round() * PIXEL_M;
    let georef = GeoRef {
        transform: [
            snap(e - cols as f64 / 2.0 * PIXEL_M),
            PIXEL_M,
            0.0,
            snap(n + rows as f64 / 2.0 * PIXEL_M),
            0.0,
            -PIXEL_M,
        ],
        crs_wkt: geo::utm_wkt(zone, north),
    };
    LandsatSynth {
        spec: spec.clone(),
        rho,
        qa,
        cover,
        georef,
    }
}

impl LandsatSynth {
    /// What the product's MTL says about the acquisition.
    pub fn acquisition(&self) -> Acquisition {
        Acquisition {
            spacecraft: self.spec.spacecraft,
            wrs_path: self.spec.wrs_path,
            wrs_row: self.spec.wrs_row,
            acq_time: self.spec.acq_time,
            sun_elevation_deg: self.spec.sun_elevation_deg,
            sun_azimuth_deg: self.spec.sun_azimuth_deg,
            utm_zone: geo::utm_zone(self.spec.center_lon_deg) as u8,
        }
    }

    /// Writes the scene as a USGS Collection 2 Level-1 product into `dir` (a folder named by
    /// the product id, or its `.tar`); returns its path.
    pub fn write(&self, dir: &Path, opts: WriteOptions) -> Result<PathBuf, ProductError> {
        let px = Pixels {
            reflectance: std::array::from_fn(|b| self.rho[b].view()),
            qa_pixel: self.qa.view(),
            georef: &self.georef,
        };
        writer::write(dir, &self.acquisition(), &px, opts)
    }

    /// The detector's input straight from memory (QA cloud bits 1–3, water bit 7), as the
    /// reader would give it for a product without saturation.
    pub fn qa_masks(&self) -> (Array2<u8>, Array2<u8>) {
        let cloud_bits = qa_pixel::CLOUD | qa_pixel::CIRRUS | qa_pixel::DILATED_CLOUD;
        (
            self.qa.mapv(|q| (q & cloud_bits != 0) as u8),
            self.qa.mapv(|q| (q & qa_pixel::WATER != 0) as u8),
        )
    }

    /// Views of the scene for [`crate::detect::oli::detect_oli`], with the QA masks given.
    pub fn input<'a>(&'a self, cloud: &'a Array2<u8>, water: &'a Array2<u8>) -> OliInput<'a> {
        OliInput {
            rho: std::array::from_fn(|b| self.rho[b].view()),
            cloud: Some(cloud.view()),
            water: Some(water.view()),
            day: self.spec.sun_elevation_deg > 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenes_are_deterministic_and_have_every_cover() {
        let spec = LandsatSpec::day(300, 300, 5);
        let a = generate(&spec);
        let b = generate(&spec);
        assert_eq!(a.rho[6], b.rho[6]);
        assert_eq!(a.qa, b.qa);
        let mut seen = std::collections::BTreeSet::new();
        for &k in a.cover.iter() {
            seen.insert(k);
        }
        for c in [
            Cover::Stubble,
            Cover::GreenCrop,
            Cover::BareSoil,
            Cover::Water,
            Cover::Village,
        ] {
            assert!(seen.contains(&(c as u8)), "{c:?} missing");
        }
    }

    #[test]
    fn fire_emission_follows_planck() {
        // 9 m² at 1000 K under a 45° sun: band 7 gains ≈ 1.74 in reflectance, band 5 almost
        // nothing (the fire's 2.2 µm / 0.86 µm contrast that the algorithm keys on).
        let mut px = [0.0f32; 7];
        let f = PlantedFire {
            row: 0,
            col: 0,
            area_m2: 9.0,
            temp_k: 1000.0,
        };
        add_fire(&mut px, &f, 45.0);
        assert!((px[6] - 1.74).abs() < 0.03, "{}", px[6]);
        assert!(px[4] < 1e-3, "{}", px[4]);
        assert!(px[5] > 0.2 && px[5] < px[6] / 4.0, "{}", px[5]);
    }
}
