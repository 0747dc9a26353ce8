//! Writing scenes in the DESIGN.md layout: a GeoTIFF whose bands carry their names as
//! descriptions and whose metadata holds `ACQ_TIME`, `SATELLITE`, `SENSOR`.
//!
//! Used by the scene generator, the tests and the benchmarks. The file is written under a
//! temporary name beside the target and renamed when complete, so a failed write never leaves a
//! half scene that the inbox would pick up.

use std::path::Path;

use gdal::raster::{Buffer, RasterCreationOptions};
use gdal::{DriverManager, Metadata};
use ndarray::Array2;

use super::error::RasterError;
use super::georef::GeoRef;
use super::scene::SceneMeta;

/// How to encode the GeoTIFF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// DEFLATE with the floating-point predictor: small samples.
    Deflate,
    /// Uncompressed, tiled: the fastest to read, for benchmarks of the read floor.
    None,
}

/// Writes f32 bands with descriptions, georeferencing and metadata to a GeoTIFF at `path`.
/// `nodata` is recorded on every band; NaN pixels are written as they are.
pub fn write_scene(
    path: &Path,
    bands: &[(&str, &Array2<f32>)],
    georef: &GeoRef,
    meta: &SceneMeta,
    compression: Compression,
) -> Result<(), RasterError> {
    let fail = |message: String| RasterError::Write {
        path: path.to_path_buf(),
        message,
    };
    let Some((_, first)) = bands.first() else {
        return Err(fail("no bands to write".into()));
    };
    let (rows, cols) = first.dim();
    let tmp = path.with_extension("tif.part");
    let result = (|| -> Result<(), RasterError> {
        let driver = DriverManager::get_driver_by_name("GTiff").map_err(|e| fail(e.to_string()))?;
        let mut opts = vec![
            "TILED=YES",
            "BLOCKXSIZE=256",
            "BLOCKYSIZE=256",
            "BIGTIFF=IF_SAFER",
            "INTERLEAVE=BAND",
        ];
        if compression == Compression::Deflate {
            opts.extend(["COMPRESS=DEFLATE", "PREDICTOR=3", "ZLEVEL=9"]);
        }
        let opts = RasterCreationOptions::from_iter(opts);
        let mut ds = driver
            .create_with_band_type_with_options::<f32, _>(&tmp, cols, rows, bands.len(), &opts)
            .map_err(|e| fail(e.to_string()))?;
        ds.set_geo_transform(&georef.transform)
            .map_err(|e| fail(e.to_string()))?;
        ds.set_projection(&georef.crs_wkt)
            .map_err(|e| fail(e.to_string()))?;
        if let Some(t) = meta.acq_time {
            ds.set_metadata_item("ACQ_TIME", &t.format("%Y-%m-%dT%H:%M:%SZ").to_string(), "")
                .map_err(|e| fail(e.to_string()))?;
        }
        for (key, value) in [("SATELLITE", &meta.satellite), ("SENSOR", &meta.sensor)] {
            if let Some(v) = value {
                ds.set_metadata_item(key, v, "")
                    .map_err(|e| fail(e.to_string()))?;
            }
        }
        for (i, (name, data)) in bands.iter().enumerate() {
            if data.dim() != (rows, cols) {
                return Err(fail(format!(
                    "band {name} is {:?}, the first band is {:?}",
                    data.dim(),
                    (rows, cols)
                )));
            }
            let mut band = ds.rasterband(i + 1).map_err(|e| fail(e.to_string()))?;
            band.set_description(name)
                .map_err(|e| fail(e.to_string()))?;
            band.set_no_data_value(Some(f64::NAN))
                .map_err(|e| fail(e.to_string()))?;
            let mut buf = Buffer::new(
                (cols, rows),
                data.as_standard_layout().iter().copied().collect(),
            );
            band.write((0, 0), (cols, rows), &mut buf)
                .map_err(|e| fail(e.to_string()))?;
        }
        ds.close().map_err(|e| fail(e.to_string()))
    })();
    crate::atomic::finish(&tmp, path, result).map_err(|e| match e {
        Ok(message) => fail(message),
        Err(e) => e,
    })
}
