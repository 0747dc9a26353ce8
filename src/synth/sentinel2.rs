//! Synthetic Sentinel-2 MSI tiles at 20 m from the same physics as the Landsat generator: the
//! land covers and their TOA spectra of [`super::landsat`] (MSI's B01, B02, B03, B04, B8A, B11,
//! B12 lie within 10 nm of OLI's bands 1–7, 20 nm for B12, so the same spectra serve), on a
//! 20 m grid, with sub-pixel fires whose Planck emission at each MSI band's centre wavelength is
//! added to the surface they replace:
//!
//! ρ_b = (1 − p)·ρ_surface,b + p · π L(λ_b, T) / (E0_b · cos θ_s)
//!
//! with p the burning fraction of the 400 m² pixel and E0_b the band's solar irradiance from the
//! product metadata (S2A). [`Sentinel2Synth::write`] lays the tile out as an ESA SAFE product
//! (JP2 bands through GDAL's JP2OpenJPEG, `MTD_MSIL1C.xml`, `MTD_TL.xml`, masks) through
//! [`crate::product::write::sentinel2_l1c`]; [`Sentinel2Synth::as_read`] gives what the reader
//! must return for it (DN quantisation, B01 averaged over its 60 m pixel), so the reader is
//! tested against the generator bit for bit.

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use ndarray::Array2;

use super::geo;
use super::landsat::{self, Cover, LandsatSpec};
use crate::detect::oli::OliInput;
use crate::physics::planck_radiance;
use crate::product::landsat_c2l1::qa_pixel;
use crate::product::sentinel2_l1c::Level;
use crate::product::write::sentinel2_l1c::{self as writer, encode_dn, Acquisition, Pixels};
use crate::product::ProductError;
use crate::raster::GeoRef;

pub use crate::product::write::sentinel2_l1c::WriteOptions;

/// Pixel size, m.
pub const PIXEL_M: f64 = 20.0;

/// Centre wavelengths of B01, B02, B03, B04, B8A, B11, B12 (S2A spectral response functions,
/// ESA Sentinel-2 User Handbook), µm.
pub const WAVELENGTH_UM: [f64; 7] = [0.4427, 0.4924, 0.5598, 0.6646, 0.8646, 1.6137, 2.2024];

/// Solar irradiance E0 of those bands (S2A, `MTD_MSIL1C.xml` `SOLAR_IRRADIANCE`), W m⁻² µm⁻¹.
pub const E0: [f64; 7] = [1884.69, 1959.66, 1823.24, 1512.06, 955.32, 245.59, 85.25];

/// A fire planted in one 20 m pixel.
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
pub struct Sentinel2Spec {
    /// The 20 m grid; both divisible by 3 (the 60 m band).
    pub rows: usize,
    pub cols: usize,
    pub seed: u64,
    pub center_lon_deg: f64,
    pub center_lat_deg: f64,
    pub sensing_time: DateTime<Utc>,
    pub sun_zenith_deg: f64,
    pub sun_azimuth_deg: f64,
    /// `S2A`, `S2B`, `S2C`.
    pub mission: String,
    /// MGRS tile.
    pub tile: String,
    /// `05.10`; before `04.00` no radiometric offset and GML masks.
    pub baseline: String,
    /// Every pixel this cover (false-alarm tests), or the North China Plain mix.
    pub only: Option<Cover>,
    pub clouds: bool,
    pub noise: f32,
    pub fires: Vec<PlantedFire>,
    /// Write the `MSK_DETFOO` detector-footprint masks every real product carries.
    pub detector_masks: bool,
}

impl Sentinel2Spec {
    /// A 10:50 local overpass over the North China Plain in the June harvest (sun zenith 22°).
    pub fn day(rows: usize, cols: usize, seed: u64) -> Self {
        Sentinel2Spec {
            rows,
            cols,
            seed,
            center_lon_deg: super::DEFAULT_CENTER.0,
            center_lat_deg: super::DEFAULT_CENTER.1,
            sensing_time: Utc.with_ymd_and_hms(2024, 6, 10, 3, 5, 41).unwrap(),
            sun_zenith_deg: 22.0,
            sun_azimuth_deg: 125.0,
            mission: "S2A".into(),
            tile: "50SLH".into(),
            baseline: "05.10".into(),
            only: None,
            clouds: true,
            noise: 0.08,
            fires: Vec::new(),
            detector_masks: true,
        }
    }
}

/// A generated tile: reflectances of [`crate::product::sentinel2_l1c::MSI_BANDS`] on the 20 m
/// grid, cloud and water masks, cover per pixel, grid.
pub struct Sentinel2Synth {
    pub spec: Sentinel2Spec,
    pub rho: [Array2<f32>; 7],
    pub cloud: Array2<u8>,
    pub water: Array2<u8>,
    pub cover: Array2<u8>,
    /// The detector (1…12) that saw each pixel, 0 where none did ([`detector_layout`] when
    /// generated; a test may cut it).
    pub detectors: Array2<u8>,
    pub georef: GeoRef,
}

/// Across-track width of one MSI detector module's footprint on the ground, m (the 290 km swath
/// over 12 staggered modules, with their overlaps).
pub const DETECTOR_WIDTH_M: f64 = 24_000.0;

/// The synthetic detector layout of a `rows × cols` tile: footprints as stripes
/// [`DETECTOR_WIDTH_M`] wide across the columns, slanted one column in five rows as the
/// along-track footprints lean on a north-up grid, detectors numbered 1…12 and repeating.
pub fn detector_layout(rows: usize, cols: usize) -> Array2<u8> {
    Array2::from_shape_fn((rows, cols), |(r, c)| {
        let x = (c as f64 + r as f64 / 5.0) * PIXEL_M;
        1 + ((x / DETECTOR_WIDTH_M) as u64 % 12) as u8
    })
}

/// Adds a fire's emission to a pixel's reflectances.
pub fn add_fire(rho: &mut [f32; 7], fire: &PlantedFire, sun_zenith_deg: f64) {
    let p = fire.fraction();
    let cos_z = sun_zenith_deg.to_radians().cos().max(0.01);
    for b in 0..7 {
        let emitted =
            std::f64::consts::PI * planck_radiance(WAVELENGTH_UM[b], fire.temp_k) / (E0[b] * cos_z);
        rho[b] = ((1.0 - p) * rho[b] as f64 + p * emitted) as f32;
    }
}

/// Generates a tile (all threads; identical on any thread count).
pub fn generate(spec: &Sentinel2Spec) -> Sentinel2Synth {
    let base = LandsatSpec {
        rows: spec.rows,
        cols: spec.cols,
        seed: spec.seed,
        center_lon_deg: spec.center_lon_deg,
        center_lat_deg: spec.center_lat_deg,
        acq_time: spec.sensing_time,
        sun_elevation_deg: 90.0 - spec.sun_zenith_deg,
        sun_azimuth_deg: spec.sun_azimuth_deg,
        only: spec.only,
        clouds: spec.clouds,
        noise: spec.noise,
        fires: Vec::new(),
        ..LandsatSpec::day(spec.rows, spec.cols, spec.seed)
    };
    let l = landsat::generate(&base);
    let mut rho = l.rho;
    for f in &spec.fires {
        if f.row >= spec.rows || f.col >= spec.cols {
            continue;
        }
        let mut px: [f32; 7] = std::array::from_fn(|b| rho[b][[f.row, f.col]]);
        add_fire(&mut px, f, spec.sun_zenith_deg);
        for b in 0..7 {
            rho[b][[f.row, f.col]] = px[b];
        }
    }
    let zone = geo::utm_zone(spec.center_lon_deg);
    let north = spec.center_lat_deg >= 0.0;
    let (e, n) = geo::utm_forward(zone, spec.center_lon_deg, spec.center_lat_deg);
    // Sentinel-2 tile corners lie on whole 60 m (e.g. ULX 399960).
    let snap = |v: f64| (v / 60.0).round() * 60.0;
    let georef = GeoRef {
        transform: [
            snap(e - spec.cols as f64 / 2.0 * PIXEL_M),
            PIXEL_M,
            0.0,
            snap(n + spec.rows as f64 / 2.0 * PIXEL_M),
            0.0,
            -PIXEL_M,
        ],
        crs_wkt: geo::utm_wkt(zone, north),
    };
    Sentinel2Synth {
        spec: spec.clone(),
        rho,
        cloud: l.qa.mapv(|q| (q & qa_pixel::CLOUD != 0) as u8),
        water: l.qa.mapv(|q| (q & qa_pixel::WATER != 0) as u8),
        cover: l.cover,
        detectors: detector_layout(spec.rows, spec.cols),
        georef,
    }
}

impl Sentinel2Synth {
    /// What the product's metadata says about the acquisition.
    pub fn acquisition(&self) -> Acquisition {
        let zone = geo::utm_zone(self.spec.center_lon_deg);
        let north = self.spec.center_lat_deg >= 0.0;
        Acquisition {
            mission: self.spec.mission.clone(),
            sensing_time: self.spec.sensing_time,
            tile: self.spec.tile.clone(),
            relative_orbit: 75,
            absolute_orbit: 46789,
            baseline: self.spec.baseline.clone(),
            sun_zenith_deg: self.spec.sun_zenith_deg,
            sun_azimuth_deg: self.spec.sun_azimuth_deg,
            epsg: if north { 32600 } else { 32700 } + zone,
        }
    }

    /// Writes the tile as a SAFE product (folder or zip) into `dir`; returns its path.
    pub fn write(&self, dir: &Path, opts: WriteOptions) -> Result<PathBuf, ProductError> {
        let px = Pixels {
            reflectance: std::array::from_fn(|b| self.rho[b].view()),
            cloud: Some(self.cloud.view()),
            water: Some(self.water.view()),
            detectors: self.spec.detector_masks.then(|| self.detectors.view()),
            georef: &self.georef,
        };
        writer::write(dir, &self.acquisition(), &px, opts)
    }

    /// The reflectances the reader returns for this tile written at `level`: each value through
    /// its DN, B01 as the mean of its 60 m pixel (L1C), NaN where `detectors` is 0 (when the
    /// masks are written).
    pub fn as_read(&self, level: Level) -> [Array2<f32>; 7] {
        let offset = if self.spec.baseline.as_str() >= "04.00" {
            -1000.0
        } else {
            0.0
        };
        let q = 10000.0;
        let back = |x: f32| {
            let d = encode_dn(x, q, offset);
            if d == 0 {
                f32::NAN
            } else {
                ((d as f64 + offset) / q) as f32
            }
        };
        let mut bands: [Array2<f32>; 7] = std::array::from_fn(|b| {
            if b == 0 && level == Level::L1c {
                // Each 60 m pixel's value once (the mean of its 3 × 3 block of 20 m pixels),
                // given to the nine pixels it covers.
                let src = &self.rho[0];
                let (rows, cols) = src.dim();
                let block =
                    Array2::from_shape_fn((rows.div_ceil(3), cols.div_ceil(3)), |(br, bc)| {
                        let (r0, c0) = (br * 3, bc * 3);
                        let mut s = 0f64;
                        for dr in 0..3 {
                            for dc in 0..3 {
                                s += src[[r0 + dr, c0 + dc]] as f64;
                            }
                        }
                        back((s / 9.0) as f32)
                    });
                Array2::from_shape_fn(src.dim(), |(r, c)| block[[r / 3, c / 3]])
            } else {
                self.rho[b].mapv(back)
            }
        });
        // Outside every detector footprint the reader gives no data.
        if self.spec.detector_masks {
            for band in &mut bands {
                ndarray::Zip::from(band)
                    .and(&self.detectors)
                    .for_each(|v, &d| {
                        if d == 0 {
                            *v = f32::NAN;
                        }
                    });
            }
        }
        bands
    }

    /// The cloud mask as the reader gives it from `MSK_CLASSI` or, before baseline 04.00,
    /// `MSK_CLOUDS_B00.gml` (60 m: a 60 m pixel is cloud when any of its 20 m pixels is).
    pub fn cloud_as_read(&self) -> Array2<u8> {
        let (rows, cols) = self.cloud.dim();
        let mut c60 = Array2::<u8>::zeros((rows / 3, cols / 3));
        for ((r, c), &v) in self.cloud.indexed_iter() {
            if v != 0 {
                c60[[r / 3, c / 3]] = 1;
            }
        }
        Array2::from_shape_fn((rows, cols), |(r, c)| c60[[r / 3, c / 3]])
    }

    /// The detector's input from bands as read (see [`Self::as_read`]) and a cloud mask.
    pub fn input<'a>(&self, rho: &'a [Array2<f32>; 7], cloud: &'a Array2<u8>) -> OliInput<'a> {
        OliInput {
            rho: std::array::from_fn(|b| rho[b].view()),
            cloud: Some(cloud.view()),
            water: None,
            day: self.spec.sun_zenith_deg < 90.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fire_emission_follows_planck_at_msi_wavelengths() {
        // 4 m² at 1000 K (1 % of a 20 m pixel) under a 30° zenith: B12 gains ≈ 1.42, B8A
        // almost nothing, B11 a quarter of B12 or less.
        let mut px = [0.0f32; 7];
        let f = PlantedFire {
            row: 0,
            col: 0,
            area_m2: 4.0,
            temp_k: 1000.0,
        };
        add_fire(&mut px, &f, 30.0);
        assert!((px[6] - 1.42).abs() < 0.05, "{}", px[6]);
        assert!(px[4] < 1e-3, "{}", px[4]);
        assert!(px[5] > 0.1 && px[5] < px[6] / 3.0, "{}", px[5]);
    }

    #[test]
    fn tiles_are_deterministic_and_on_a_60_m_snapped_grid() {
        let s = Sentinel2Spec::day(90, 120, 3);
        let a = generate(&s);
        let b = generate(&s);
        assert_eq!(a.rho[6], b.rho[6]);
        assert_eq!(a.georef.transform[0] % 60.0, 0.0);
        assert_eq!(a.georef.transform[1], 20.0);
        let read = a.as_read(Level::L1c);
        // B01 is constant over each 3 × 3 block.
        assert_eq!(read[0][[0, 0]], read[0][[2, 2]]);
        assert!((read[6][[5, 5]] - a.rho[6][[5, 5]]).abs() < 1e-4);
    }
}
