//! The NetCDF boundary of the product readers: open a file, find a group or variable by its
//! path, read attributes of any numeric type, read a variable whole; every failure names the
//! file and the variable.
//!
//! Through the `netcdf` crate (system libnetcdf), never GDAL's netCDF driver: that driver turns
//! swath arrays without coordinate variables upside down (FORMATS.md §0 trap 1), while libnetcdf
//! gives rows in file order, so line/sample indices stay the product's own.

use std::path::Path;

use netcdf::{AttributeValue, NcTypeDescriptor};

use super::error::ProductError;

/// Opens a NetCDF file for reading; a missing, truncated or non-NetCDF file is `Open`.
pub(crate) fn open(path: &Path) -> Result<netcdf::File, ProductError> {
    quiet_hdf5();
    if let Err(e) = std::fs::metadata(path) {
        return Err(ProductError::Open {
            path: path.to_path_buf(),
            format: "NetCDF",
            message: e.to_string(),
        });
    }
    netcdf::open(path).map_err(|e| ProductError::Open {
        path: path.to_path_buf(),
        format: "NetCDF",
        message: e.to_string(),
    })
}

/// Stops libhdf5 (under libnetcdf) printing its error stack to stderr for this thread: our
/// errors carry the message, and a user should see it once. The stack is per thread in the
/// thread-safe build Debian ships, so every opening thread asks.
pub(crate) fn quiet_hdf5() {
    hdf5_metno::silence_errors(true);
}

/// A variable by `group/name` (or `name` at the root).
pub(crate) fn variable<'f>(
    file: &'f netcdf::File,
    path: &Path,
    var_path: &str,
) -> Result<netcdf::Variable<'f>, ProductError> {
    let missing = || ProductError::Missing {
        path: path.to_path_buf(),
        what: "variable",
        name: var_path.to_string(),
    };
    match var_path.rsplit_once('/') {
        None => file.variable(var_path).ok_or_else(missing),
        Some((group, _)) => {
            // Tell a missing group (another product, a truncated file) from a missing variable.
            file.group(group)
                .map_err(|e| ProductError::Read {
                    path: path.to_path_buf(),
                    variable: group.to_string(),
                    message: e.to_string(),
                })?
                .ok_or_else(|| ProductError::Missing {
                    path: path.to_path_buf(),
                    what: "group",
                    name: group.to_string(),
                })?;
            file.variable(var_path).ok_or_else(missing)
        }
    }
}

/// Any numeric or text attribute value as f64 (the first element of an array).
fn as_f64(v: &AttributeValue) -> Option<f64> {
    Some(match v {
        AttributeValue::Uchar(x) => *x as f64,
        AttributeValue::Schar(x) => *x as f64,
        AttributeValue::Ushort(x) => *x as f64,
        AttributeValue::Short(x) => *x as f64,
        AttributeValue::Uint(x) => *x as f64,
        AttributeValue::Int(x) => *x as f64,
        AttributeValue::Ulonglong(x) => *x as f64,
        AttributeValue::Longlong(x) => *x as f64,
        AttributeValue::Float(x) => *x as f64,
        AttributeValue::Double(x) => *x,
        AttributeValue::Uchars(x) => *x.first()? as f64,
        AttributeValue::Schars(x) => *x.first()? as f64,
        AttributeValue::Ushorts(x) => *x.first()? as f64,
        AttributeValue::Shorts(x) => *x.first()? as f64,
        AttributeValue::Uints(x) => *x.first()? as f64,
        AttributeValue::Ints(x) => *x.first()? as f64,
        AttributeValue::Ulonglongs(x) => *x.first()? as f64,
        AttributeValue::Longlongs(x) => *x.first()? as f64,
        AttributeValue::Floats(x) => *x.first()? as f64,
        AttributeValue::Doubles(x) => *x.first()?,
        AttributeValue::Str(s) => s.trim().parse().ok()?,
        AttributeValue::Strs(s) => s.first()?.trim().parse().ok()?,
    })
}

/// A numeric attribute of a variable; `None` when absent, `Bad` when not a number.
pub(crate) fn var_attr_f64(
    var: &netcdf::Variable<'_>,
    path: &Path,
    var_path: &str,
    name: &str,
) -> Result<Option<f64>, ProductError> {
    let Some(value) = var.attribute_value(name) else {
        return Ok(None);
    };
    let bad = |message: String| ProductError::Bad {
        path: path.to_path_buf(),
        variable: format!("{var_path}:{name}"),
        message,
    };
    let value = value.map_err(|e| bad(e.to_string()))?;
    as_f64(&value)
        .map(Some)
        .ok_or_else(|| bad(format!("not a number: {value:?}")))
}

/// A numeric attribute the product always has.
pub(crate) fn var_attr_f64_req(
    var: &netcdf::Variable<'_>,
    path: &Path,
    var_path: &str,
    name: &str,
) -> Result<f64, ProductError> {
    var_attr_f64(var, path, var_path, name)?.ok_or_else(|| ProductError::Missing {
        path: path.to_path_buf(),
        what: "attribute",
        name: format!("{var_path}:{name}"),
    })
}

/// A global (root) attribute as text; numbers are formatted.
pub(crate) fn global_str(file: &netcdf::File, name: &str) -> Option<String> {
    match file.attribute(name)?.value().ok()? {
        AttributeValue::Str(s) => Some(s),
        AttributeValue::Strs(s) => s.into_iter().next(),
        other => as_f64(&other).map(|v| {
            if v.fract() == 0.0 {
                format!("{}", v as i64)
            } else {
                v.to_string()
            }
        }),
    }
}

/// A global attribute the product always has.
pub(crate) fn global_str_req(
    file: &netcdf::File,
    path: &Path,
    name: &str,
) -> Result<String, ProductError> {
    global_str(file, name).ok_or_else(|| ProductError::Missing {
        path: path.to_path_buf(),
        what: "global attribute",
        name: name.to_string(),
    })
}

/// The variable's dimension lengths.
pub(crate) fn shape(var: &netcdf::Variable<'_>) -> Vec<usize> {
    var.dimensions().iter().map(|d| d.len()).collect()
}

/// Reads a whole 2-D variable of `expected` shape as `T` (converted by libnetcdf when the file
/// type differs and converts without loss of range).
pub(crate) fn read_2d<T: NcTypeDescriptor + Copy>(
    var: &netcdf::Variable<'_>,
    path: &Path,
    var_path: &str,
    expected: (usize, usize),
) -> Result<Vec<T>, ProductError> {
    let found = shape(var);
    if found != [expected.0, expected.1] {
        return Err(ProductError::Shape {
            path: path.to_path_buf(),
            variable: var_path.to_string(),
            found,
            expected: vec![expected.0, expected.1],
        });
    }
    read_all(var, path, var_path)
}

/// Reads a whole variable as `T`.
pub(crate) fn read_all<T: NcTypeDescriptor + Copy>(
    var: &netcdf::Variable<'_>,
    path: &Path,
    var_path: &str,
) -> Result<Vec<T>, ProductError> {
    var.get_values::<T, _>(..).map_err(|e| ProductError::Read {
        path: path.to_path_buf(),
        variable: var_path.to_string(),
        message: e.to_string(),
    })
}
