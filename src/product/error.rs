//! Errors of the product readers and writers. Each names the file, and the variable where there
//! is one, so a user can tell a missing partner from a truncated download from a wrong pair.

use std::path::PathBuf;

/// What went wrong reading or writing a satellite product.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProductError {
    /// The file does not exist or cannot be opened by the library of its format (not NetCDF/HDF5,
    /// truncated, corrupt): check the path, re-download the file.
    #[error("{path}: cannot open as {format}: {message}")]
    Open {
        path: PathBuf,
        format: &'static str,
        message: String,
    },
    /// The file name and contents are not a product strawfire reads: pass an L1B pair
    /// (`V?P02IMG` + `V?P03IMG`) or an SDR set (`SVI01`–`SVI05` + `GITCO`/`GIMGO`).
    #[error("{path}: not a product strawfire reads: {message}")]
    Unknown { path: PathBuf, message: String },
    /// A granule needs a file that was not given and does not lie beside the others (the
    /// geolocation file of an L1B or SDR granule, or one of the SDR bands): put it beside them.
    #[error("{path}: its {needed} is missing (looked for {looked_for})")]
    MissingPartner {
        path: PathBuf,
        needed: String,
        looked_for: String,
    },
    /// The files given are from different granules (start times, orbits or satellites differ):
    /// pass files of one granule.
    #[error("{path} and {other}: not the same granule: {what}")]
    Mismatch {
        path: PathBuf,
        other: PathBuf,
        what: String,
    },
    /// A variable (or group or attribute) the product has is not in the file: the file is
    /// incomplete or another product; re-download it.
    #[error("{path}: no {what} `{name}`")]
    Missing {
        path: PathBuf,
        what: &'static str,
        name: String,
    },
    /// Reading a variable failed, typically a truncated or corrupt file: re-download it.
    #[error("{path}: `{variable}`: cannot read: {message}")]
    Read {
        path: PathBuf,
        variable: String,
        message: String,
    },
    /// A variable or attribute holds a value the product never has (a malformed time, an unknown
    /// platform, a wrong type): the file is not as published.
    #[error("{path}: `{variable}`: {message}")]
    Bad {
        path: PathBuf,
        variable: String,
        message: String,
    },
    /// Two variables that must cover the same pixels do not (data and geolocation, a band and
    /// the others, factors and granules): the files are from different products or truncated.
    #[error("{path}: `{variable}` is {found:?}, expected {expected:?}")]
    Shape {
        path: PathBuf,
        variable: String,
        found: Vec<usize>,
        expected: Vec<usize>,
    },
    /// Writing a product file failed (disk full, permissions, a library error).
    #[error("{path}: cannot write `{variable}`: {message}")]
    Write {
        path: PathBuf,
        variable: String,
        message: String,
    },
    /// The granule to write lacks what the product needs (a band, swath geolocation, a time).
    #[error("cannot write {product}: {message}")]
    Unwritable {
        product: &'static str,
        message: String,
    },
    /// The operating system could not give memory for a band.
    #[error("no memory for a {rows} × {cols} band: {source}")]
    Memory {
        rows: usize,
        cols: usize,
        #[source]
        source: std::io::Error,
    },
}
