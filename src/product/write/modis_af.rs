//! A `MOD14`/`MYD14` file (HDF4) from a detection of ours, laid out as [`crate::product::modis_af`]
//! reads it and as its module doc cites the sources: `fire mask` (uint8) and `algorithm QA`
//! (uint32) over the granule, the `FP_*` fire-pixel lists (absent when there is no fire, as in
//! the real files), the global `FirePix`, `LandCloudPix`, `ProcessedPix`, `DayPix`, `NightPix`
//! counts and `CoreMetadata.0` (the ECS inventory of `MOD021KM`, short name `MOD14`/`MYD14`).
//! Ours (marked so in the reader's doc): the element types of the lists where the sources do
//! not say, `algorithm QA` written as zeros, and the window statistics the detector does not
//! keep per fire (`FP_MeanT31`, `FP_MeanDT`, the MADs, `FP_NumValid`) written as 0 — readers of
//! hotspots never use them. Used by tests and fixtures: the official product beside our scan of
//! the same granule.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};

use super::atomically;
use crate::detect::modis::ModisDetection;
use crate::detect::MaskClass;
use crate::product::error::ProductError;
use crate::product::hdf4::{Attr, H4Type, SdFile};
use crate::product::modis_af::{file_name, ALGORITHM_QA, FIRE_MASK};
use crate::product::modis_l1b::ROWS_PER_SCAN;
use crate::product::{Geometry, Granule};

/// Writes the MOD14/MYD14 of `detection` (made from `granule`: its shape, time, satellite `T`/`A`,
/// lat/lon and angles) into `dir`, named as LAADS names it; returns the path. Whole or not at all.
pub fn write(
    granule: &Granule,
    detection: &ModisDetection,
    dir: &Path,
    processed: DateTime<Utc>,
) -> Result<PathBuf, ProductError> {
    let unwritable = |message: String| ProductError::Unwritable {
        product: "MOD14",
        message,
    };
    let Geometry::Swath(swath) = &granule.geometry else {
        return Err(unwritable("the granule is not a swath".into()));
    };
    let start = granule
        .meta
        .acq_time
        .ok_or_else(|| unwritable("no acquisition time".into()))?;
    let satellite = granule.meta.satellite.as_deref().unwrap_or("");
    let platform = match satellite {
        "T" => "Terra",
        "A" => "Aqua",
        other => return Err(unwritable(format!("satellite {other:?} is not T or A"))),
    };
    let (rows, cols) = granule.shape;
    if detection.mask.shape() != (rows, cols) {
        return Err(unwritable(format!(
            "the detection is {:?}, the granule {rows} × {cols}",
            detection.mask.shape()
        )));
    }
    let name = file_name(satellite, start, processed, "061").expect("T or A");
    let path = dir.join(&name);
    let end = start + Duration::milliseconds((rows / ROWS_PER_SCAN) as i64 * 1477);
    let s = &detection.summary;
    let day_night = match (s.day_pixels, s.night_pixels) {
        (_, 0) => "Day",
        (0, _) => "Night",
        _ => "Both",
    };
    let core = super::modis::core_metadata(
        &name[..5],
        &name,
        platform,
        start,
        end,
        day_night,
        processed,
    );
    let fires = &detection.fires;
    let at = |b: &crate::raster::BandBuf, f: &crate::detect::modis::ModisFire| {
        b.as_slice()[f.row * cols + f.col]
    };
    let angle = |n: &str| granule.bands.get(n);
    atomically(&path, |tmp| {
        let f = SdFile::create(tmp)?;
        f.set_attr("CoreMetadata.0", &Attr::Text(core.clone()))?;
        let count = |c: MaskClass| {
            detection
                .mask
                .as_slice()
                .iter()
                .filter(|&&k| k == c as u8)
                .count() as i32
        };
        let processed_pix = (rows * cols) as i32 - count(MaskClass::NotProcessed);
        for (k, v) in [
            ("FirePix", fires.len() as i32),
            ("LandCloudPix", count(MaskClass::Cloud)),
            ("ProcessedPix", processed_pix),
            ("DayPix", s.day_pixels as i32),
            ("NightPix", s.night_pixels as i32),
        ] {
            f.set_attr(k, &Attr::I32(vec![v]))?;
        }
        f.create_dataset::<u8>(FIRE_MASK, &[rows, cols])?
            .write(detection.mask.as_slice())?;
        f.create_dataset::<u32>(ALGORITHM_QA, &[rows, cols])?
            .write(&vec![0u32; rows * cols])?;
        if fires.is_empty() {
            // HDF4 has no empty SDS: a granule without fire has no FP_* lists.
            return f.close();
        }
        fn list<T: H4Type>(f: &SdFile, name: &str, v: Vec<T>) -> Result<(), ProductError> {
            let d = f.create_dataset::<T>(name, &[v.len()])?;
            d.write(&v)
        }
        let f32s = |g: &dyn Fn(&crate::detect::modis::ModisFire) -> f32| {
            fires.iter().map(g).collect::<Vec<f32>>()
        };
        list(&f, "FP_line", fires.iter().map(|x| x.row as i16).collect())?;
        list(
            &f,
            "FP_sample",
            fires.iter().map(|x| x.col as i16).collect(),
        )?;
        list(&f, "FP_latitude", f32s(&|x| at(&swath.lat, x)))?;
        list(&f, "FP_longitude", f32s(&|x| at(&swath.lon, x)))?;
        let r2 = granule.bands.get("B2");
        list(&f, "FP_R2", f32s(&|x| r2.map_or(0.0, |b| at(b, x))))?;
        list(&f, "FP_T21", f32s(&|x| x.t4_k))?;
        list(&f, "FP_T31", f32s(&|x| x.t11_k))?;
        list(&f, "FP_MeanT21", f32s(&|x| x.background_t4_k))?;
        for n in [
            "FP_MeanT31",
            "FP_MeanDT",
            "FP_MAD_T21",
            "FP_MAD_T31",
            "FP_MAD_DT",
        ] {
            list(&f, n, vec![0f32; fires.len()])?;
        }
        list(&f, "FP_power", f32s(&|x| x.frp_mw as f32))?;
        let neighbours = |x: &crate::detect::modis::ModisFire, c: MaskClass| {
            let m = detection.mask.as_slice();
            let mut n = 0u8;
            for i in x.row.saturating_sub(1)..(x.row + 2).min(rows) {
                for j in x.col.saturating_sub(1)..(x.col + 2).min(cols) {
                    n += ((i, j) != (x.row, x.col) && m[i * cols + j] == c as u8) as u8;
                }
            }
            n
        };
        list(
            &f,
            "FP_AdjCloud",
            fires
                .iter()
                .map(|x| neighbours(x, MaskClass::Cloud))
                .collect(),
        )?;
        list(
            &f,
            "FP_AdjWater",
            fires
                .iter()
                .map(|x| neighbours(x, MaskClass::Water))
                .collect(),
        )?;
        list(
            &f,
            "FP_WinSize",
            fires.iter().map(|x| x.window as u8).collect(),
        )?;
        list(&f, "FP_NumValid", vec![0i16; fires.len()])?;
        list(
            &f,
            "FP_confidence",
            fires
                .iter()
                .map(|x| (x.confidence * 100.0).round().clamp(0.0, 100.0) as u8)
                .collect(),
        )?;
        for (n, band) in [("FP_SolZenAng", "SZA"), ("FP_ViewZenAng", "VZA")] {
            list(&f, n, f32s(&|x| angle(band).map_or(f32::NAN, |b| at(b, x))))?;
        }
        f.close()
    })?;
    Ok(path)
}
