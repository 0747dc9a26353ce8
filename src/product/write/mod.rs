//! Writers of satellite products as their operators publish them, for tests, fixtures and
//! benchmarks: a [`Granule`](super::Granule) becomes a NASA L1B pair ([`viirs_l1b`]) or a CSPP
//! SDR set ([`viirs_sdr`]) with the products' variable names, types, dimensions, groups,
//! attributes and fill values, each fact's source cited beside it.
//!
//! They live here, beside the readers, rather than in `synth/`: a writer is the inverse of its
//! reader and shares its constants (fill counts, flag bits, group paths), so a change to one
//! shows in the other; `synth` makes the physics (the granule), this folder only encodes it.
//! Every file appears whole or not at all (written beside its target, then renamed).

use std::path::{Path, PathBuf};

use super::error::ProductError;

pub mod landsat_c2l1;
pub mod mersi;
pub mod modis;
pub mod modis_af;
pub mod sentinel2_l1c;
pub mod viirs_l1b;
pub mod viirs_sdr;

/// Writes `target` through `write` on a temporary file beside it, then renames it into place;
/// on failure nothing is left behind.
pub(crate) fn atomically(
    target: &Path,
    write: impl FnOnce(&Path) -> Result<(), ProductError>,
) -> Result<(), ProductError> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = target.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = write(&tmp);
    crate::atomic::finish(&tmp, target, written).map_err(|e| match e {
        Ok(message) => ProductError::Write {
            path: target.to_path_buf(),
            variable: String::new(),
            message,
        },
        Err(e) => e,
    })
}

/// A library error while writing `variable` of `path`.
pub(crate) fn write_err(path: &Path, variable: &str) -> impl Fn(netcdf::Error) -> ProductError {
    let path: PathBuf = path.to_path_buf();
    let variable = variable.to_string();
    move |e| ProductError::Write {
        path: path.clone(),
        variable: variable.clone(),
        message: e.to_string(),
    }
}
