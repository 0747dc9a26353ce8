//! One scene in, hotspots out: the job of `strawfire scan` and of the service's scene workers.
//! Glue between `raster` (GDAL) or `product` (granules of any product), `detect` (pure) and
//! `hotspot` (records); it adds what neither knows alone: which model a scene needs, the pixel
//! areas for FRP, and each fire's WGS84 position and size.
//!
//! Two ways in: [`scan_scene`] streams our map-grid GeoTIFF block by block through the
//! per-pixel stage (the fast path of `strawfire scan`); [`scan_granule`] takes a
//! [`Granule`] already in memory, whatever the product, in its native geometry. On a swath the
//! fires' positions come from the geolocation arrays, and their FIRMS `scan`/`track` and the
//! pixel area for FRP from the swath's pixel sizes, which grow with the scan angle.
//!
//! One module per sensor family, this file the dispatch: `viirs` (the 375 m I-band detector on
//! our map-grid scenes and on VIIRS granules), `modis` (the 1 km MODIS C6.1 family: MODIS and
//! FY-3 MERSI granules), `reflective` (the field-scale OLI engine: Landsat 8/9 OLI products and
//! Sentinel-2 MSI), and `ground` (where pixels lie: swath pixel sizes, coverage samples, pixel
//! areas), which the families share.

mod ground;
mod hotspot;
mod modis;
mod reflective;
mod viirs;

pub use ground::{
    coverage_samples, coverage_samples_where, swath_coverage_samples, swath_pixel_sizes_km,
};
pub use modis::{choose_modis_model, scan_modis};
pub use reflective::{
    choose_msi_model, choose_oli_model, scan_landsat, scan_landsat_planned, scan_landsat_product,
    scan_sentinel2,
};
pub use viirs::{choose_model, scan_scene, viirs_band_plan};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::detect::{Detection, ObservationSummary};
use crate::hotspot::Hotspot;
use crate::product::Granule;
use crate::rank::coverage::CoverageSample;
use crate::raster::{RasterError, SceneMeta};
use crate::Error;

/// Which model to use for a scene.
#[derive(Debug, Clone, Copy)]
pub enum ModelChoice<'a> {
    /// From the scene's `SENSOR` metadata.
    FromScene,
    /// A built-in model by name (`--sensor viirs-i`).
    Named(&'a str),
    /// A model file (`--model FILE`).
    File(&'a Path),
}

/// The stages of a scan, reported to a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Reading,
    Detecting,
    Georeferencing,
}

/// Wall-clock time per stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    /// Reading the bands, with the per-pixel tests run on each block as it is read.
    pub read: Duration,
    /// The median and contextual stages, confidence and FRP.
    pub detect: Duration,
    /// Fire positions and the coverage grid.
    pub georef: Duration,
}

/// The result of scanning one scene.
#[derive(Debug, Clone)]
pub struct ScanResult {
    pub meta: SceneMeta,
    /// (rows, cols).
    pub shape: (usize, usize),
    pub model_name: String,
    pub hotspots: Vec<Hotspot>,
    pub detection: Detection,
    /// Land pixels on a regular grid with whether each was seen clear, for fair rankings
    /// (`rank::coverage`).
    pub coverage_samples: Vec<CoverageSample>,
    pub timing: Timing,
}

impl ScanResult {
    pub fn summary(&self) -> &ObservationSummary {
        &self.detection.summary
    }
}

pub(super) fn acq_time_of(
    meta: &SceneMeta,
    path: &Path,
) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    Ok(meta.acq_time.ok_or_else(|| RasterError::BadMetadata {
        path: path.to_path_buf(),
        key: "ACQ_TIME".into(),
        value: String::new(),
        message: "missing; hotspots need the acquisition time (ISO 8601 UTC)".into(),
    })?)
}

/// Scans the file(s) of one scene, whatever the product: a single file that no product reader
/// claims (our map-grid GeoTIFF, any raster GDAL reads) through the streamed [`scan_scene`];
/// otherwise the product's files (a NASA L1B pair or one file of it with its partner beside it,
/// a CSPP SDR set or one of its files) read by [`crate::product::open`] and scanned by
/// [`scan_granule`] in their native geometry.
pub fn scan_files(
    paths: &[PathBuf],
    choice: ModelChoice,
    progress: &dyn Fn(Stage),
) -> Result<ScanResult, Error> {
    if let Some(first) = paths.first() {
        let sentinel2 = crate::product::identify(first)
            .is_ok_and(|id| id.kind == crate::product::ProductKind::Sentinel2);
        if sentinel2 {
            // Every file given must be of the one product; the reader finds the rest itself.
            let id0 = crate::product::identify(first).ok().map(|id| id.granule);
            for p in &paths[1..] {
                if crate::product::identify(p).ok().map(|id| id.granule) != id0 {
                    return Err(crate::product::ProductError::Mismatch {
                        path: first.clone(),
                        other: p.clone(),
                        what: "not files of one Sentinel-2 product".into(),
                    }
                    .into());
                }
            }
            progress(Stage::Reading);
            let t0 = Instant::now();
            let scene = crate::product::sentinel2_l1c::read(first)?;
            let read = t0.elapsed();
            let rest = |stage: Stage| {
                if stage != Stage::Reading {
                    progress(stage)
                }
            };
            let mut result = scan_sentinel2(&scene, choice, &rest)?;
            result.timing.read = read;
            return Ok(result);
        }
        let landsat = crate::product::identify(first)
            .is_ok_and(|id| id.kind == crate::product::ProductKind::LandsatC2L1);
        if landsat {
            // Every file given must be of the one product; the reader finds the rest itself.
            for p in &paths[1..] {
                let same = crate::product::identify(p).ok().map(|id| id.granule)
                    == crate::product::identify(first).ok().map(|id| id.granule);
                if !same {
                    return Err(crate::product::ProductError::Mismatch {
                        path: first.clone(),
                        other: p.clone(),
                        what: "not files of one Landsat product".into(),
                    }
                    .into());
                }
            }
            let product = crate::product::landsat_c2l1::locate(first)?;
            return scan_landsat_product(&product, choice, progress);
        }
    }
    if let [one] = paths {
        let product_ext = one
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .is_some_and(|e| matches!(e.as_str(), "nc" | "nc4" | "h5" | "hdf5"));
        if !product_ext
            && matches!(
                crate::product::identify(one),
                Err(crate::product::ProductError::Unknown { .. })
            )
        {
            return scan_scene(one, choice, progress);
        }
    }
    progress(Stage::Reading);
    let t0 = Instant::now();
    let granule = crate::product::open(paths)?;
    let read = t0.elapsed();
    // The granule is read: scan_granule's own "reading" stage is not reported twice.
    let rest = |stage: Stage| {
        if stage != Stage::Reading {
            progress(stage)
        }
    };
    let mut result = scan_granule(&granule, choice, &rest)?;
    result.timing.read = read;
    Ok(result)
}

/// Detects and georeferences one granule of any product, already in memory, in its native
/// geometry. On a map grid, positions, sizes and areas come from the georeferencing as in
/// [`scan_scene`]; on a swath, positions from the geolocation arrays, and `scan`/`track` and
/// the FRP pixel area from the swath's pixel sizes ([`swath_pixel_sizes_km`]). The product's
/// land/water mask, when it has one, decides water day and night; bow-tie deleted pixels are
/// class 1 (fill). `progress` is told when each stage starts.
pub fn scan_granule(
    g: &Granule,
    choice: ModelChoice,
    progress: &dyn Fn(Stage),
) -> Result<ScanResult, Error> {
    if modis::is_modis_family(g, choice) {
        return modis::scan_modis(g, choice, progress);
    }
    viirs::scan_viirs_granule(g, choice, progress)
}
