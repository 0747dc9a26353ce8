//! Errors of the raster boundary. Each names the file, and the band where there is one.

use std::path::PathBuf;

/// What went wrong reading or writing a scene.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RasterError {
    /// The file does not exist or cannot be read: check the path and permissions.
    #[error("{path}: cannot open: {message}")]
    Open { path: PathBuf, message: String },
    /// GDAL opened the file but it holds no raster bands (a vector file, a text file): pass a scene.
    #[error("{path}: not a raster GDAL can read ({message})")]
    NotRaster { path: PathBuf, message: String },
    /// A band the sensor model requires is not among the band descriptions: add it or pick the right `--sensor`.
    #[error("{path}: no band described as `{band}` (the {sensor} model requires it); the file's bands are: {available}")]
    MissingBand {
        path: PathBuf,
        band: String,
        sensor: String,
        available: String,
    },
    /// Reading pixels failed, typically a truncated or corrupt file: re-download the scene.
    #[error("{path}: band `{band}` (GDAL band {index}): cannot read pixels: {message}")]
    ReadBand {
        path: PathBuf,
        band: String,
        index: usize,
        message: String,
    },
    /// The scene has no coordinate reference system or geotransform, so fires cannot be placed: georeference it.
    #[error("{path}: no georeferencing: {message}")]
    NoGeoref { path: PathBuf, message: String },
    /// A metadata item is present but malformed: fix the value.
    #[error("{path}: metadata {key}={value:?}: {message}")]
    BadMetadata {
        path: PathBuf,
        key: String,
        value: String,
        message: String,
    },
    /// Coordinate transformation to WGS84 failed.
    #[error("{path}: cannot transform to WGS84: {message}")]
    Transform { path: PathBuf, message: String },
    /// Writing a raster failed: check the directory and free space.
    #[error("{path}: cannot write: {message}")]
    Write { path: PathBuf, message: String },
}
