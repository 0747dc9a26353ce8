//! Our own map-grid GeoTIFF layout (DESIGN.md "Scene files": bands named `I1`…`I5`, `SZA`, …
//! by description, `ACQ_TIME`/`SATELLITE`/`SENSOR` metadata) as one product reader among the
//! others: the file read whole into a [`Granule`] on its map grid.
//!
//! `strawfire scan` does not come this way for a GeoTIFF: `scan::scan_scene` streams the file
//! block by block through the per-pixel stage and never holds the four streamed bands whole.
//! This reader is for callers that want every product in one shape (and for the test that both
//! ways find the same fires).

use std::path::Path;

use super::{Geometry, Granule, ProductKind};
use crate::model::SensorModel;
use crate::raster::{self, RasterError};

/// Reads the bands `model` names from a GeoTIFF scene of our layout.
pub fn read(path: &Path, model: &SensorModel) -> Result<Granule, RasterError> {
    let scene = raster::read_scene(path, model)?;
    Ok(Granule {
        kind: ProductKind::GeoTiff,
        files: vec![scene.path],
        meta: scene.meta,
        shape: scene.shape,
        bands: scene.bands,
        geometry: Geometry::Grid(scene.georef),
        water: None,
        saturation: Default::default(),
    })
}
