//! Satellite products as their operators publish them, read into one shape.
//!
//! Every reader in this folder (one file per product family) turns the file or files a user
//! has (a NASA L1B pair, a CSPP SDR set, our own map-grid GeoTIFF, later Landsat, Sentinel-2,
//! MODIS, FY-3) into a [`Granule`]: the sensor model's bands as physical values (reflectance
//! 0–1, brightness temperature K, angles °; NaN where the pixel is fill, flagged or bow-tie
//! deleted), the pixels' geolocation (a map grid or per-pixel latitude/longitude arrays of a
//! swath), the land/water mask when the product has one, and metadata. The detector takes a
//! granule whatever the product, so a new sensor is one reader file here plus one model file in
//! `models/`.
//!
//! Readers do I/O and unit conversion only (counts → physical values by the product's own
//! rules); the physics of detection stays in `detect/`, the geometry of footprints in `scan`.

pub mod geotiff;
pub mod gml_mask;
pub mod landsat_c2l1;
pub mod mersi_l1;
pub mod modis_af;
pub mod modis_l1b;
pub mod modis_swath;
pub mod sentinel2_l1c;
pub mod tar;
pub mod viirs_af;
pub mod viirs_iband;

use std::collections::BTreeMap;
use std::path::PathBuf;

use ndarray::ArrayView2;

use crate::raster::{BandBuf, GeoRef, SceneMeta};

pub mod chunks;
mod error;
pub(crate) mod h5;
pub mod hdf4;
pub(crate) mod nc;
mod open;
pub mod viirs_l1b;
pub mod viirs_sdr;
pub mod write;
pub mod zip;

pub use error::ProductError;
pub use open::{identify, open, FileRole, Identified};

/// A product family: which reader made a granule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProductKind {
    /// Our own map-grid GeoTIFF layout (DESIGN.md "Scene files").
    GeoTiff,
    /// NASA LAADS/LANCE VIIRS L1B: `V?P02IMG` (+ `V?P03IMG` geolocation), NetCDF-4.
    ViirsL1b,
    /// NOAA/CSPP VIIRS SDR: `SVI01`–`SVI05` (+ `GITCO`/`GIMGO`), HDF5.
    ViirsSdr,
    /// USGS Landsat 8/9 Collection 2 Level-1: band GeoTIFFs + `_MTL.txt`/`.json` + QA bands.
    LandsatC2L1,
    /// NASA MODIS Collection 6.1 L1B at 1 km: `M?D021KM` (+ `M?D03` geolocation), HDF4-EOS.
    ModisL1b,
    /// FY-3D MERSI-II / FY-3E MERSI-LL L1 at 1 km (+ `GEO1K` geolocation), HDF5.
    MersiL1,
    /// ESA Sentinel-2 MSI Level-1C (or Level-2A): a `.SAFE` folder or its `.zip`, JP2 bands +
    /// `MTD_MSIL1C.xml` + `MTD_TL.xml`.
    Sentinel2,
    /// Made in memory by the generator (`synth::generate_swath`), for tests and benchmarks.
    Synthetic,
}

/// Where the pixels are on the ground.
#[derive(Debug, Clone)]
pub enum Geometry {
    /// A map grid: a geotransform in a CRS (our GeoTIFF layout).
    Grid(GeoRef),
    /// A satellite swath in its native geometry: rows are detector lines (scan after scan),
    /// columns are samples across the scan.
    Swath(Swath),
}

/// Per-pixel geolocation of a swath granule.
#[derive(Debug, Clone)]
pub struct Swath {
    /// WGS84 latitude and longitude of each pixel centre, degrees, `[row, col]`; NaN where the
    /// geolocation file has fill.
    pub lat: BandBuf,
    pub lon: BandBuf,
    /// Detector rows per scan (32 for the VIIRS I-bands): bow-tie and pixel-size patterns repeat
    /// with this period.
    pub rows_per_scan: usize,
}

/// One granule of any product, ready for the detector.
#[derive(Debug, Clone)]
pub struct Granule {
    pub kind: ProductKind,
    /// Every file the granule was read from (data first, then geolocation).
    pub files: Vec<PathBuf>,
    /// Acquisition time (granule start), satellite code as FIRMS writes it (`N`, `N20`, `N21`),
    /// sensor (`VIIRS`).
    pub meta: SceneMeta,
    /// (rows, cols).
    pub shape: (usize, usize),
    /// Canonical band name of the sensor model (`I1` … `I5`, `SZA`, `VZA`, `SAA`, `VAA`) →
    /// physical values, `[row, col]`, NaN where invalid.
    pub bands: BTreeMap<String, BandBuf>,
    pub geometry: Geometry,
    /// Water per pixel from the product's land/water mask (1 water, 0 land), when it has one:
    /// the detector then tests water by this mask, day and night, instead of by reflectances.
    pub water: Option<BandBuf<u8>>,
    /// Canonical band name → the value a saturated pixel of that band has in this product (the
    /// largest value the product can encode, e.g. the I4 LUT's maximum, ≈ 362 K in NASA L1B);
    /// empty when the product does not say. The detector should take a pixel at or above it as
    /// saturated: the model's `saturation_k` (367 K for I4) lies above what L1B can encode.
    pub saturation: BTreeMap<String, f32>,
}

impl Granule {
    /// The pixels of a band by canonical name.
    pub fn band(&self, name: &str) -> Option<ArrayView2<'_, f32>> {
        self.bands.get(name).map(BandBuf::view)
    }
}

/// The value of every 16-bit count under `convert`, for a band whose value depends on its count
/// alone (the emissive bands of MODIS and MERSI: calibration, then the inverse Planck function):
/// built once per band (65,536 entries, 256 KiB, the Planck function evaluated only where
/// `convert` gets that far) and applied by [`map_table`], it takes the logarithm out of the
/// per-pixel loop and gives the same value for each count, bit for bit.
pub(crate) fn count_table(convert: impl Fn(u16) -> f32) -> Vec<f32> {
    (0..=u16::MAX).map(convert).collect()
}

/// `out[i] = table[counts[i]]` in parallel ([`count_table`]).
pub(crate) fn map_table(counts: &[u16], table: &[f32], out: &mut [f32]) {
    use rayon::prelude::*;
    let table: &[f32; 65536] = table.try_into().expect("a table of every 16-bit count");
    out.par_iter_mut()
        .zip(counts.par_iter())
        .with_min_len(1 << 14)
        .for_each(|(o, &c)| *o = table[c as usize]);
}

/// Converts a band's raw counts (with its per-pixel quality flags, when the product has them) to
/// physical values in parallel: the one loop every reader's calibration runs, `convert(count,
/// flags)` being the product's rule (flags 0 when there are none).
pub(crate) fn map_counts<Q>(
    counts: &[u16],
    qf: Option<&[Q]>,
    out: &mut [f32],
    convert: impl Fn(u16, Q) -> f32 + Sync,
) where
    Q: Copy + Default + Sync,
{
    use rayon::prelude::*;
    match qf {
        Some(qf) => out
            .par_iter_mut()
            .zip(counts.par_iter().zip(qf.par_iter()))
            .with_min_len(1 << 14)
            .for_each(|(o, (&c, &q))| *o = convert(c, q)),
        None => out
            .par_iter_mut()
            .zip(counts.par_iter())
            .with_min_len(1 << 14)
            .for_each(|(o, &c)| *o = convert(c, Q::default())),
    }
}
