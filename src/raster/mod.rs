//! The raster boundary: the only code that calls GDAL for pixels. Scenes come out as plain
//! ndarrays plus georeferencing, so everything downstream is pure and testable without files.

pub mod band;
pub mod buffer;
pub mod error;
pub mod georef;
pub mod scene;
pub mod write;

pub use buffer::BandBuf;
pub use error::RasterError;
pub use georef::{GeoRef, Wgs84Projector};
pub use scene::{
    open_scene, read_bands, read_scene, read_streaming, BandPlan, Scene, SceneHeader, SceneMeta,
    Strip,
};
pub use write::{write_scene, Compression};

/// Silences GDAL's own printing of errors to stderr: our errors carry GDAL's message already,
/// and a user should see one clear message, not two.
pub fn quiet_gdal() {
    gdal::config::set_error_handler(|_, _, _| {});
}
