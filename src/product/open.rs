//! Which reader a file needs, and the granule a set of files makes.
//!
//! [`identify`] says what one file is from its name (and, when the name is not a product's,
//! from its global attributes), without reading arrays: the service's intake uses it to wait
//! for the rest of a granule. [`open`] takes the file(s) a user gives — an L1B pair in any
//! order, one file of a pair whose partner lies beside it, an SDR set or any one of its files
//! — finds the partners and hands them to the product's reader.

use std::path::{Path, PathBuf};

use super::error::ProductError;
use super::{viirs_l1b, Granule, ProductKind};

/// What a file is within its product.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileRole {
    /// A NASA L1B observation file (`V?P02IMG`).
    L1bData,
    /// A NASA L1B geolocation file (`V?P03IMG`).
    L1bGeolocation,
}

/// A file identified: its product, its role, and the key its granule's other files share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identified {
    pub kind: ProductKind,
    pub role: FileRole,
    /// Files with the same `kind` and `granule` belong together: `VNP.A2024160.0542` for L1B
    /// (satellite family and granule time).
    pub granule: String,
}

/// What `path` is, from its name or its global attributes; `Unknown` when no reader takes it.
pub fn identify(path: &Path) -> Result<Identified, ProductError> {
    if let Some(id) = identify_by_name(path) {
        return Ok(id);
    }
    let unknown = |message: &str| ProductError::Unknown {
        path: path.to_path_buf(),
        message: message.to_string(),
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("nc") | Some("nc4") => {
            // A renamed L1B file still says what it is (FORMATS.md §1: `ShortName`, `platform`,
            // `time_coverage_start`).
            let f = super::nc::open(path)?;
            let short = super::nc::global_str(&f, "ShortName").unwrap_or_default();
            let role = viirs_l1b::name_role(Path::new(&format!("{short}.x.x")));
            let (Some(role), Some(start)) =
                (role, super::nc::global_str(&f, "time_coverage_start"))
            else {
                return Err(unknown(
                    "a NetCDF file, but not VIIRS L1B (no ShortName V?P02IMG/V?P03IMG)",
                ));
            };
            Ok(Identified {
                kind: ProductKind::ViirsL1b,
                role: if role {
                    FileRole::L1bGeolocation
                } else {
                    FileRole::L1bData
                },
                granule: format!("{}.{}", &short[..3.min(short.len())], start.trim()),
            })
        }
        _ => Err(unknown(
            "the name is not a product's (V?P02IMG/V?P03IMG…nc, SVI0?/GITCO/GIMGO…h5)",
        )),
    }
}

fn identify_by_name(path: &Path) -> Option<Identified> {
    let name = path.file_name()?.to_str()?;
    if let Some(geo) = viirs_l1b::name_role(path) {
        let mut parts = name.split('.');
        let product = parts.next()?.to_ascii_uppercase();
        let key = format!("{}.{}.{}", &product[..3], parts.next()?, parts.next()?);
        return Some(Identified {
            kind: ProductKind::ViirsL1b,
            role: if geo {
                FileRole::L1bGeolocation
            } else {
                FileRole::L1bData
            },
            granule: key,
        });
    }
    None
}

/// Reads the granule the given files make (see the module doc for what may be given).
pub fn open(paths: &[PathBuf]) -> Result<Granule, ProductError> {
    let Some(first) = paths.first() else {
        return Err(ProductError::Unknown {
            path: PathBuf::new(),
            message: "no file given".into(),
        });
    };
    let ids = paths
        .iter()
        .map(|p| identify(p))
        .collect::<Result<Vec<_>, _>>()?;
    for (p, id) in paths.iter().zip(&ids).skip(1) {
        if id.kind != ids[0].kind {
            return Err(ProductError::Mismatch {
                path: first.clone(),
                other: p.clone(),
                what: format!("{:?} and {:?} are different products", ids[0].kind, id.kind),
            });
        }
    }
    match ids[0].kind {
        ProductKind::ViirsL1b => open_l1b(paths, &ids),
        other => Err(ProductError::Unknown {
            path: first.clone(),
            message: format!("{other:?} is not read by product::open"),
        }),
    }
}

fn open_l1b(paths: &[PathBuf], ids: &[Identified]) -> Result<Granule, ProductError> {
    let pick = |role: FileRole| -> Result<Option<&PathBuf>, ProductError> {
        let mut found = paths.iter().zip(ids).filter(|(_, id)| id.role == role);
        let one = found.next().map(|(p, _)| p);
        if let (Some(a), Some((b, _))) = (one, found.next()) {
            return Err(ProductError::Mismatch {
                path: a.clone(),
                other: b.clone(),
                what: format!("two {role:?} files given for one granule"),
            });
        }
        Ok(one)
    };
    let data = pick(FileRole::L1bData)?;
    let geo = pick(FileRole::L1bGeolocation)?;
    match (data, geo) {
        (Some(d), Some(g)) => viirs_l1b::read(d, g),
        (Some(one), None) | (None, Some(one)) => {
            let partner = viirs_l1b::find_partner(one).ok_or_else(|| {
                let needed = if data.is_some() {
                    "geolocation file"
                } else {
                    "observation file"
                };
                let name = one.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let mut it = name.split('.');
                let product = it.next().unwrap_or("");
                let looked_for = format!(
                    "{}.{}.{}.*.nc in {}",
                    viirs_l1b::partner_product(product).unwrap_or_default(),
                    it.next().unwrap_or(""),
                    it.next().unwrap_or(""),
                    one.parent()
                        .filter(|d| !d.as_os_str().is_empty())
                        .unwrap_or(Path::new("."))
                        .display()
                );
                ProductError::MissingPartner {
                    path: one.clone(),
                    needed: needed.into(),
                    looked_for,
                }
            })?;
            if data.is_some() {
                viirs_l1b::read(one, &partner)
            } else {
                viirs_l1b::read(&partner, one)
            }
        }
        (None, None) => unreachable!("every id is an L1B data or geolocation file"),
    }
}
