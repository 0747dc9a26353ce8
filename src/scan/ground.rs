//! Where a scene's pixels lie, for every family: a swath's pixel sizes by column, the
//! coverage samples of a map grid or a swath (fair rankings), pixel areas for FRP.

use ndarray::ArrayView2;

use crate::detect::PixelArea;
use crate::product::{modis_swath, viirs_iband, Swath};
use crate::rank::coverage::{grid_step, land_class, CoverageSample, MAX_SAMPLES};
use crate::raster::georef::haversine_m;
use crate::raster::Wgs84Projector;

/// The ground size of a swath's pixels per column, km, as (along-scan, along-track): the
/// VIIRS I-band geometry ([`viirs_iband::pixel_size_km`]) for a full I-band scan (6400 samples,
/// 32-row scans), else measured on the geolocation: the distance between the neighbours'
/// centres along the row, and between consecutive rows of one scan, at the middle of the
/// granule (a scanner's pixel size depends on the scan angle, which is the column).
pub fn swath_pixel_sizes_km(swath: &Swath, (rows, cols): (usize, usize)) -> Vec<(f64, f64)> {
    if cols == viirs_iband::SAMPLES && swath.rows_per_scan == viirs_iband::ROWS_PER_SCAN {
        return (0..cols).map(viirs_iband::pixel_size_km).collect();
    }
    if cols == modis_swath::SAMPLES && swath.rows_per_scan == modis_swath::ROWS_PER_SCAN {
        return (0..cols).map(modis_swath::pixel_size_km).collect();
    }
    let (lat, lon) = (swath.lat.view(), swath.lon.view());
    let at = |r: usize, c: usize| (lon[[r, c]] as f64, lat[[r, c]] as f64);
    let km = |a: (f64, f64), b: (f64, f64)| haversine_m(a, b) / 1000.0;
    let per_scan = swath.rows_per_scan.max(2).min(rows.max(1));
    // Two consecutive rows of one scan near the middle of the granule.
    let r0 = ((rows / 2) / per_scan * per_scan + per_scan / 2 - 1).min(rows.saturating_sub(2));
    (0..cols)
        .map(|c| {
            if rows < 2 || cols < 2 {
                return (f64::NAN, f64::NAN);
            }
            let (a, b) = (c.saturating_sub(1), (c + 1).min(cols - 1));
            let scan = km(at(r0, a), at(r0, b)) / (b - a) as f64;
            let track = km(at(r0, c), at(r0 + 1, c));
            (scan, track)
        })
        .collect()
}

/// [`coverage_samples`] for a swath: the land pixels of a regular grid of rows and columns with
/// their positions from the geolocation arrays (pixels without geolocation are left out).
pub fn swath_coverage_samples(swath: &Swath, mask: ArrayView2<u8>) -> Vec<CoverageSample> {
    let (rows, cols) = mask.dim();
    let k = grid_step(rows, cols, MAX_SAMPLES);
    let (lat, lon) = (swath.lat.view(), swath.lon.view());
    let mut samples = Vec::new();
    for r in (0..rows).step_by(k) {
        for c in (0..cols).step_by(k) {
            let (la, lo) = (lat[[r, c]], lon[[r, c]]);
            if let (Some(clear), true) =
                (land_class(mask[[r, c]]), la.is_finite() && lo.is_finite())
            {
                samples.push(CoverageSample {
                    lon: lo as f64,
                    lat: la as f64,
                    clear,
                });
            }
        }
    }
    samples
}

/// The land pixels of a regular grid (at most `MAX_SAMPLES`) of a fire mask (classes as
/// `MaskClass`) with their centres and whether each was seen clear: what the scene observed, for
/// fair rankings. Centres come from [`Wgs84Projector::grid_lonlat`] (within metres of exact).
pub fn coverage_samples(
    p: &Wgs84Projector,
    mask: ArrayView2<u8>,
) -> Result<Vec<CoverageSample>, String> {
    coverage_samples_where(p, mask, &|_, _| false)
}

/// [`coverage_samples`] with what the mask does not say: a land pixel for which `obscured(row,
/// col)` holds counts as not seen clear whatever its class (a Landsat pixel in a cloud's
/// shadow, from `QA_PIXEL`: the detector does not treat shadow as cloud, but a county in
/// shadow was not seen either).
pub fn coverage_samples_where(
    p: &Wgs84Projector,
    mask: ArrayView2<u8>,
    obscured: &dyn Fn(usize, usize) -> bool,
) -> Result<Vec<CoverageSample>, String> {
    let (rows, cols) = mask.dim();
    let k = grid_step(rows, cols, MAX_SAMPLES);
    let grid_rows: Vec<usize> = (0..rows).step_by(k).collect();
    let grid_cols: Vec<usize> = (0..cols).step_by(k).collect();
    let centre = |v: &[usize]| v.iter().map(|&i| i as f64 + 0.5).collect::<Vec<_>>();
    let at = p.grid_lonlat(&centre(&grid_rows), &centre(&grid_cols))?;
    let mut samples = Vec::new();
    for (i, &r) in grid_rows.iter().enumerate() {
        for (j, &c) in grid_cols.iter().enumerate() {
            if let Some(clear) = land_class(mask[[r, c]]) {
                let (lon, lat) = at[i * grid_cols.len() + j];
                let clear = clear && !obscured(r, c);
                samples.push(CoverageSample { lon, lat, clear });
            }
        }
    }
    Ok(samples)
}

/// Pixel area per row, measured at the centre column (one transform call for all rows).
pub(super) fn pixel_areas(
    p: &Wgs84Projector,
    (rows, cols): (usize, usize),
) -> Result<PixelArea, String> {
    if rows == 0 || cols == 0 {
        return Ok(PixelArea::Constant(0.0));
    }
    Ok(PixelArea::PerRow(p.column_areas_m2(cols / 2, rows)?))
}
