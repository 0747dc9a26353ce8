//! The HDF5 boundary of the product readers (`hdf5-metno`, system libhdf5): open a file, read a
//! dataset whole, read attributes whatever their stored type (the JPSS files keep most of them
//! as 1 × 1 arrays of fixed-length strings); every failure names the file and the object.

use std::path::Path;

use hdf5::types::{FixedAscii, TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5_metno as hdf5;

use super::error::ProductError;

/// Opens an HDF5 file for reading; a missing, truncated or non-HDF5 file is `Open`.
pub(crate) fn open(path: &Path) -> Result<hdf5::File, ProductError> {
    hdf5::silence_errors(true);
    if let Err(e) = std::fs::metadata(path) {
        return Err(ProductError::Open {
            path: path.to_path_buf(),
            format: "HDF5",
            message: e.to_string(),
        });
    }
    hdf5::File::open(path).map_err(|e| ProductError::Open {
        path: path.to_path_buf(),
        format: "HDF5",
        message: e.to_string(),
    })
}

/// A dataset by its full path.
pub(crate) fn dataset(
    file: &hdf5::File,
    path: &Path,
    name: &str,
) -> Result<hdf5::Dataset, ProductError> {
    if !link_exists(file, name) {
        return Err(ProductError::Missing {
            path: path.to_path_buf(),
            what: "dataset",
            name: name.to_string(),
        });
    }
    file.dataset(name).map_err(|e| ProductError::Read {
        path: path.to_path_buf(),
        variable: name.to_string(),
        message: e.to_string(),
    })
}

/// Whether every group along `name` and the object itself exist.
pub(crate) fn link_exists(file: &hdf5::File, name: &str) -> bool {
    let mut prefix = String::new();
    for part in name.trim_start_matches('/').split('/') {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(part);
        if !file.link_exists(&prefix) {
            return false;
        }
    }
    true
}

/// Reads a dataset whole as `T`, checking its shape when `expected` is given.
pub(crate) fn read<T: hdf5::H5Type>(
    ds: &hdf5::Dataset,
    path: &Path,
    name: &str,
    expected: Option<&[usize]>,
) -> Result<Vec<T>, ProductError> {
    let found = ds.shape();
    if let Some(expected) = expected {
        if found != expected {
            return Err(ProductError::Shape {
                path: path.to_path_buf(),
                variable: name.to_string(),
                found,
                expected: expected.to_vec(),
            });
        }
    }
    ds.read_raw::<T>().map_err(|e| ProductError::Read {
        path: path.to_path_buf(),
        variable: name.to_string(),
        message: e.to_string(),
    })
}

/// An attribute as text, whatever its string type (fixed or variable length, scalar or an
/// array whose first element is taken); numbers are formatted. `None` when absent.
pub(crate) fn attr_str(
    loc: &hdf5::Location,
    path: &Path,
    object: &str,
    name: &str,
) -> Result<Option<String>, ProductError> {
    let Ok(attr) = loc.attr(name) else {
        return Ok(None);
    };
    let bad = |message: String| ProductError::Bad {
        path: path.to_path_buf(),
        variable: format!("{object}:{name}"),
        message,
    };
    let desc = attr
        .dtype()
        .and_then(|t| t.to_descriptor())
        .map_err(|e| bad(e.to_string()))?;
    let text = match desc {
        TypeDescriptor::FixedAscii(_) | TypeDescriptor::FixedUnicode(_) => attr
            .read_raw::<FixedAscii<256>>()
            .map_err(|e| bad(e.to_string()))?
            .first()
            .map(|s| s.as_str().to_string()),
        TypeDescriptor::VarLenAscii => attr
            .read_raw::<VarLenAscii>()
            .map_err(|e| bad(e.to_string()))?
            .first()
            .map(|s| s.as_str().to_string()),
        TypeDescriptor::VarLenUnicode => attr
            .read_raw::<VarLenUnicode>()
            .map_err(|e| bad(e.to_string()))?
            .first()
            .map(|s| s.as_str().to_string()),
        TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => attr
            .read_raw::<i64>()
            .map_err(|e| bad(e.to_string()))?
            .first()
            .map(|v| v.to_string()),
        TypeDescriptor::Float(_) => attr
            .read_raw::<f64>()
            .map_err(|e| bad(e.to_string()))?
            .first()
            .map(|v| v.to_string()),
        other => return Err(bad(format!("unexpected type {other:?}"))),
    };
    Ok(text.map(|s| s.trim_end_matches('\0').trim().to_string()))
}

/// An attribute the product always has, as text.
pub(crate) fn attr_str_req(
    loc: &hdf5::Location,
    path: &Path,
    object: &str,
    name: &str,
) -> Result<String, ProductError> {
    attr_str(loc, path, object, name)?.ok_or_else(|| ProductError::Missing {
        path: path.to_path_buf(),
        what: "attribute",
        name: format!("{object}:{name}"),
    })
}

/// An integer attribute the product always has.
pub(crate) fn attr_int_req(
    loc: &hdf5::Location,
    path: &Path,
    object: &str,
    name: &str,
) -> Result<i64, ProductError> {
    let text = attr_str_req(loc, path, object, name)?;
    text.parse::<f64>()
        .ok()
        .filter(|v| v.fract() == 0.0)
        .map(|v| v as i64)
        .ok_or_else(|| ProductError::Bad {
            path: path.to_path_buf(),
            variable: format!("{object}:{name}"),
            message: format!("{text:?} is not an integer"),
        })
}

/// An object (group or dataset) by path, as a location to read attributes from.
pub(crate) fn location(
    file: &hdf5::File,
    path: &Path,
    name: &str,
) -> Result<hdf5::Location, ProductError> {
    let missing = || ProductError::Missing {
        path: path.to_path_buf(),
        what: "object",
        name: name.to_string(),
    };
    if !link_exists(file, name) {
        return Err(missing());
    }
    if let Ok(g) = file.group(name) {
        let l: &hdf5::Location = &g;
        return Ok(l.clone());
    }
    let d = file.dataset(name).map_err(|_| missing())?;
    let l: &hdf5::Location = &d;
    Ok(l.clone())
}

/// A numeric attribute (scalar or array of any numeric type) as f64s; `None` when absent.
pub(crate) fn attr_f64s(
    loc: &hdf5::Location,
    path: &Path,
    object: &str,
    name: &str,
) -> Result<Option<Vec<f64>>, ProductError> {
    let Ok(attr) = loc.attr(name) else {
        return Ok(None);
    };
    attr.read_raw::<f64>()
        .map(Some)
        .map_err(|e| ProductError::Bad {
            path: path.to_path_buf(),
            variable: format!("{object}:{name}"),
            message: format!("not numeric: {e}"),
        })
}
