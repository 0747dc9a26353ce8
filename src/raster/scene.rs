//! Reading a satellite scene through GDAL into plain ndarrays.
//!
//! Bands are found by their description through the sensor model, never by position. No-data
//! values and NaN both become NaN, so the detector has one notion of "invalid". Each band is read
//! by its own GDAL dataset handle on its own rayon thread: a GDAL handle must not be shared across
//! threads, but separate handles on one file may be used in parallel, which halves the read time of
//! compressed scenes on two cores.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use gdal::{Dataset, Metadata};
use ndarray::Array2;
use rayon::prelude::*;

use super::error::RasterError;
use super::georef::GeoRef;
use crate::model::SensorModel;

/// Scene-level metadata from the dataset's default metadata domain (DESIGN.md scene layout).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SceneMeta {
    /// `ACQ_TIME`: acquisition time, UTC.
    pub acq_time: Option<DateTime<Utc>>,
    /// `SATELLITE`: `N`, `N20`, `N21`, `T`, `A`, ...
    pub satellite: Option<String>,
    /// `SENSOR`: `VIIRS`, `MODIS`, `OLI`, `MSI`.
    pub sensor: Option<String>,
}

/// A scene in memory: bands by the model's canonical names, with invalid pixels as NaN.
#[derive(Debug, Clone)]
pub struct Scene {
    pub path: PathBuf,
    pub meta: SceneMeta,
    pub georef: GeoRef,
    /// (rows, cols).
    pub shape: (usize, usize),
    /// Canonical band name (`I4`) → pixels, row-major `[row, col]`.
    pub bands: BTreeMap<String, Array2<f32>>,
}

impl Scene {
    /// The pixels of a band by canonical name.
    pub fn band(&self, name: &str) -> Option<&Array2<f32>> {
        self.bands.get(name)
    }
}

/// What [`open_scene`] found without reading pixels: enough to pick the sensor model.
#[derive(Debug, Clone)]
pub struct SceneHeader {
    pub path: PathBuf,
    pub meta: SceneMeta,
    pub georef: GeoRef,
    pub shape: (usize, usize),
    /// Upper-cased band descriptions, in GDAL order (index 0 is GDAL band 1).
    pub band_names: Vec<String>,
}

fn open(path: &Path) -> Result<Dataset, RasterError> {
    if let Err(e) = std::fs::metadata(path) {
        return Err(RasterError::Open {
            path: path.to_path_buf(),
            message: e.to_string(),
        });
    }
    Dataset::open(path).map_err(|e| RasterError::NotRaster {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Opens a scene and reads its header: size, band names, georeferencing and metadata.
pub fn open_scene(path: &Path) -> Result<SceneHeader, RasterError> {
    let ds = open(path)?;
    let count = ds.raster_count();
    if count == 0 {
        return Err(RasterError::NotRaster {
            path: path.to_path_buf(),
            message: "the file has no raster bands".into(),
        });
    }
    let (cols, rows) = ds.raster_size();
    let mut band_names = Vec::with_capacity(count);
    for i in 1..=count {
        let band = ds.rasterband(i).map_err(|e| RasterError::ReadBand {
            path: path.to_path_buf(),
            band: format!("#{i}"),
            index: i,
            message: e.to_string(),
        })?;
        band_names.push(band.description().unwrap_or_default().trim().to_uppercase());
    }
    let georef = read_georef(&ds, path)?;
    let meta = read_meta(&ds, path)?;
    Ok(SceneHeader {
        path: path.to_path_buf(),
        meta,
        georef,
        shape: (rows, cols),
        band_names,
    })
}

fn read_georef(ds: &Dataset, path: &Path) -> Result<GeoRef, RasterError> {
    let no_georef = |message: String| RasterError::NoGeoref {
        path: path.to_path_buf(),
        message,
    };
    let srs = ds
        .spatial_ref()
        .map_err(|_| no_georef("the scene has no coordinate reference system (CRS)".into()))?;
    let crs_wkt = srs
        .to_wkt()
        .map_err(|e| no_georef(format!("unreadable CRS: {e}")))?;
    if crs_wkt.trim().is_empty() {
        return Err(no_georef(
            "the scene has no coordinate reference system (CRS)".into(),
        ));
    }
    let transform = ds
        .geo_transform()
        .map_err(|_| no_georef("the scene has no geotransform".into()))?;
    if transform[1] == 0.0 || transform[5] == 0.0 {
        return Err(no_georef(format!("degenerate geotransform {transform:?}")));
    }
    Ok(GeoRef { transform, crs_wkt })
}

fn read_meta(ds: &Dataset, path: &Path) -> Result<SceneMeta, RasterError> {
    let item = |k: &str| {
        ds.metadata_item(k, "")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let acq_time = match item("ACQ_TIME") {
        None => None,
        Some(v) => Some(parse_acq_time(&v).ok_or_else(|| RasterError::BadMetadata {
            path: path.to_path_buf(),
            key: "ACQ_TIME".into(),
            value: v.clone(),
            message: "expected ISO 8601 UTC, e.g. 2024-06-08T05:18:00Z".into(),
        })?),
    };
    Ok(SceneMeta {
        acq_time,
        satellite: item("SATELLITE"),
        sensor: item("SENSOR"),
    })
}

/// Parses `ACQ_TIME`: RFC 3339 with offset, or a naive ISO 8601 time taken as UTC.
pub fn parse_acq_time(v: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v.trim_end_matches('Z'), fmt) {
            return Some(t.and_utc());
        }
    }
    None
}

/// Reads the bands a sensor model names from a scene. Optional bands are read when present.
pub fn read_scene(path: &Path, model: &SensorModel) -> Result<Scene, RasterError> {
    let header = open_scene(path)?;
    read_bands(header, model)
}

/// Reads the model's bands of an opened scene, each on its own thread with its own handle.
pub fn read_bands(header: SceneHeader, model: &SensorModel) -> Result<Scene, RasterError> {
    let path = header.path.clone();
    let mut wanted: Vec<(String, usize)> = Vec::new();
    for (name, spec) in &model.bands {
        let desc = spec.description.to_uppercase();
        match header.band_names.iter().position(|b| *b == desc) {
            Some(i) => wanted.push((name.clone(), i + 1)),
            None if spec.required => {
                let available = header
                    .band_names
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        if b.is_empty() {
                            format!("#{} (no description)", i + 1)
                        } else {
                            b.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(RasterError::MissingBand {
                    path,
                    band: spec.description.clone(),
                    sensor: model.name.clone(),
                    available,
                });
            }
            None => {}
        }
    }
    let shape = header.shape;
    let bands: Result<Vec<(String, Array2<f32>)>, RasterError> = wanted
        .par_iter()
        .map(|(name, index)| {
            let arr = read_band(&path, name, *index, shape)?;
            Ok((name.clone(), arr))
        })
        .collect();
    Ok(Scene {
        path: header.path,
        meta: header.meta,
        georef: header.georef,
        shape,
        bands: bands?.into_iter().collect(),
    })
}

/// Reads one band (1-based GDAL `index`) as f32 with nodata → NaN and scale/offset applied.
fn read_band(
    path: &Path,
    name: &str,
    index: usize,
    (rows, cols): (usize, usize),
) -> Result<Array2<f32>, RasterError> {
    let fail = |message: String| RasterError::ReadBand {
        path: path.to_path_buf(),
        band: name.to_string(),
        index,
        message,
    };
    let ds = open(path)?;
    let band = ds.rasterband(index).map_err(|e| fail(e.to_string()))?;
    let mut data = vec![0f32; rows * cols];
    band.read_into_slice::<f32>((0, 0), (cols, rows), (cols, rows), &mut data, None)
        .map_err(|e| fail(e.to_string()))?;
    let nodata = band.no_data_value();
    let scale = band.scale().unwrap_or(1.0) as f32;
    let offset = band.offset().unwrap_or(0.0) as f32;
    let rescale = scale != 1.0 || offset != 0.0;
    if nodata.is_some() || rescale {
        let nd = nodata.map(|v| v as f32);
        data.par_chunks_mut(1 << 16).for_each(|chunk| {
            for v in chunk {
                if nd.is_some_and(|nd| *v == nd) {
                    *v = f32::NAN;
                } else if rescale {
                    *v = *v * scale + offset;
                }
            }
        });
    }
    Array2::from_shape_vec((rows, cols), data).map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acq_time_forms() {
        let t = parse_acq_time("2024-06-08T05:18:00Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-06-08T05:18:00+00:00");
        assert_eq!(parse_acq_time("2024-06-08T13:18:00+08:00"), Some(t));
        assert_eq!(parse_acq_time("2024-06-08T05:18:00"), Some(t));
        assert_eq!(parse_acq_time("June 8"), None);
    }
}
