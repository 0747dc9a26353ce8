//! Which reader a file needs, and the granule a set of files makes.
//!
//! [`identify`] says what one file is from its name (and, when the name is not a product's,
//! from its global attributes), without reading arrays: the service's intake uses it to wait
//! for the rest of a granule. [`open`] takes the file(s) a user gives — an L1B pair in any
//! order, one file of a pair whose partner lies beside it, an SDR set or any one of its files
//! — finds the partners and hands them to the product's reader.

use std::path::{Path, PathBuf};

use super::error::ProductError;
use super::{
    landsat_c2l1, mersi_l1, modis_l1b, sentinel2_l1c, viirs_l1b, viirs_sdr, Granule, ProductKind,
};

/// What a file is within its product.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileRole {
    /// An observation file of a data + geolocation pair: VIIRS `V?P02IMG`, MODIS `M?D021KM`,
    /// MERSI `…_1000M_…HDF`.
    L1bData,
    /// The geolocation file of such a pair: VIIRS `V?P03IMG`, MODIS `M?D03`, MERSI `…_GEO1K_…`.
    L1bGeolocation,
    /// An SDR band file (`SVI01`…`SVI05`), by band number 1–5.
    SdrBand(u8),
    /// An SDR geolocation file: `GITCO` (terrain-corrected, `true`) or `GIMGO`.
    SdrGeolocation { terrain_corrected: bool },
    /// A Landsat Collection 2 Level-1 product given whole (its folder or `.tar`) or by one of
    /// its files (the MTL, a band): the reader finds the rest beside it.
    LandsatProduct,
    /// A Sentinel-2 L1C/L2A product given whole (its `.SAFE` folder or `.zip`) or by its
    /// `MTD_MSIL1C.xml`/`MTD_MSIL2A.xml` or tile `MTD_TL.xml`.
    Sentinel2Product,
}

/// A file identified: its product, its role, and the key its granule's other files share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identified {
    pub kind: ProductKind,
    pub role: FileRole,
    /// Files with the same `kind` and `granule` belong together: `VNP.A2024160.0542` for L1B
    /// (satellite family and granule time; `MOD.A2024123.0535` for MODIS: Terra and Aqua
    /// granules share start times, so the family is part of the key), `npp_d20240608_t0542000_e0548000_b01234` for SDR
    /// (platform and the `_d…_t…_e…_b…` key).
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
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if matches!(name, "MTD_MSIL1C.xml" | "MTD_MSIL2A.xml" | "MTD_TL.xml") {
        // The metadata of a SAFE folder under another name.
        let p = sentinel2_l1c::locate(path)?;
        return Ok(Identified {
            kind: ProductKind::Sentinel2,
            role: FileRole::Sentinel2Product,
            granule: p.mtd.product_uri.trim_end_matches(".SAFE").to_string(),
        });
    }
    // A Sentinel-2 SAFE folder or zip under another name still holds its MTD_MSIL1C.xml.
    let zip = ext.as_deref() == Some("zip") || (path.is_file() && super::zip::looks_like_zip(path));
    if zip || (path.is_dir() && sentinel2_l1c::locate(path).is_ok()) {
        let p = sentinel2_l1c::locate(path)?;
        return Ok(Identified {
            kind: ProductKind::Sentinel2,
            role: FileRole::Sentinel2Product,
            granule: p.mtd.product_uri.trim_end_matches(".SAFE").to_string(),
        });
    }
    // A Landsat product folder or tar under another name still holds its MTL.
    if path.is_dir() || ext.as_deref() == Some("tar") {
        let p = landsat_c2l1::locate(path)?;
        return Ok(Identified {
            kind: ProductKind::LandsatC2L1,
            role: FileRole::LandsatProduct,
            granule: p.mtl.product_id,
        });
    }
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
        Some("hdf") if is_hdf4(path) => {
            // A renamed MODIS file: its CoreMetadata.0 says which product and granule.
            let (family, geo, key) = modis_l1b::identify_contents(path)?.ok_or_else(|| {
                unknown("an HDF4 file, but not MODIS L1B (no CoreMetadata.0 SHORTNAME M?D021KM/M?D03)")
            })?;
            Ok(Identified {
                kind: ProductKind::ModisL1b,
                role: if geo {
                    FileRole::L1bGeolocation
                } else {
                    FileRole::L1bData
                },
                granule: format!("{family}.{key}"),
            })
        }
        Some("hdf") => {
            // HDF5 under `.hdf`: a renamed MERSI file says what it is by its groups.
            let (key, geo) = mersi_l1::identify_contents(path)?.ok_or_else(|| {
                unknown("an HDF5 .hdf file, but not FY-3 MERSI L1 (no Data/EV_1KM_Emissive or Geolocation)")
            })?;
            Ok(Identified {
                kind: ProductKind::MersiL1,
                role: if geo {
                    FileRole::L1bGeolocation
                } else {
                    FileRole::L1bData
                },
                granule: key,
            })
        }
        Some("h5") | Some("hdf5") => {
            // A renamed SDR file: its product group says which band or geolocation it is.
            let f = super::h5::open(path)?;
            let role = viirs_sdr::BANDS
                .iter()
                .enumerate()
                .find(|(_, b)| super::h5::link_exists(&f, &format!("All_Data/{}_All", b.group)))
                .map(|(i, _)| FileRole::SdrBand(i as u8 + 1))
                .or_else(|| {
                    viirs_sdr::GEOLOCATION
                        .iter()
                        .enumerate()
                        .find_map(|(i, (_, g))| {
                            super::h5::link_exists(&f, &format!("All_Data/{g}_All")).then_some(
                                FileRole::SdrGeolocation {
                                    terrain_corrected: i == 0,
                                },
                            )
                        })
                })
                .ok_or_else(|| {
                    unknown("an HDF5 file, but not a VIIRS I-band SDR or geolocation")
                })?;
            // Without the name's key such a file cannot be matched to its set by name.
            Ok(Identified {
                kind: ProductKind::ViirsSdr,
                role,
                granule: String::new(),
            })
        }
        _ => Err(unknown(
            "the name is not a product's (V?P02IMG/V?P03IMG…nc, SVI0?/GITCO/GIMGO…h5, M?D021KM/M?D03…hdf, FY3?_MERSI_…_1000M/GEO1K_…HDF)",
        )),
    }
}

fn identify_by_name(path: &Path) -> Option<Identified> {
    let name = path.file_name()?.to_str()?;
    if let Some(parts) = sentinel2_l1c::name_parts(name) {
        return Some(Identified {
            kind: ProductKind::Sentinel2,
            role: FileRole::Sentinel2Product,
            granule: parts.product,
        });
    }
    if matches!(name, "MTD_MSIL1C.xml" | "MTD_MSIL2A.xml" | "MTD_TL.xml") {
        // Named by the SAFE folder it lies in (MTD_TL.xml: two folders further up).
        let up = if name == "MTD_TL.xml" { 3 } else { 1 };
        let safe = path.ancestors().nth(up)?.file_name()?.to_str()?;
        let parts = sentinel2_l1c::name_parts(safe)?;
        return Some(Identified {
            kind: ProductKind::Sentinel2,
            role: FileRole::Sentinel2Product,
            granule: parts.product,
        });
    }
    if let Some(parts) = landsat_c2l1::name_parts(name) {
        return Some(Identified {
            kind: ProductKind::LandsatC2L1,
            role: FileRole::LandsatProduct,
            granule: parts.product_id,
        });
    }
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
    if let Some(p) = mersi_l1::name_parts(path) {
        return Some(Identified {
            kind: ProductKind::MersiL1,
            role: if p.geo {
                FileRole::L1bGeolocation
            } else {
                FileRole::L1bData
            },
            granule: p.key,
        });
    }
    if let Some(p) = modis_l1b::name_parts(path) {
        return Some(Identified {
            kind: ProductKind::ModisL1b,
            role: if p.geo {
                FileRole::L1bGeolocation
            } else {
                FileRole::L1bData
            },
            granule: format!("{}.{}", p.family, p.key),
        });
    }
    if let Some((prefix, platform, key)) = viirs_sdr::name_parts(path) {
        let role = match viirs_sdr::BANDS.iter().position(|b| b.prefix == prefix) {
            Some(i) => FileRole::SdrBand(i as u8 + 1),
            None => FileRole::SdrGeolocation {
                terrain_corrected: prefix == viirs_sdr::GEOLOCATION[0].0,
            },
        };
        return Some(Identified {
            kind: ProductKind::ViirsSdr,
            role,
            granule: format!("{}_{key}", platform.to_ascii_lowercase()),
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
        ProductKind::ViirsSdr => open_sdr(paths, &ids),
        ProductKind::ModisL1b => open_modis(paths, &ids),
        ProductKind::MersiL1 => open_mersi(paths, &ids),
        ProductKind::LandsatC2L1 => {
            for (p, id) in paths.iter().zip(&ids).skip(1) {
                if id.granule != ids[0].granule {
                    return Err(ProductError::Mismatch {
                        path: first.clone(),
                        other: p.clone(),
                        what: format!("Landsat products {} and {}", ids[0].granule, id.granule),
                    });
                }
            }
            Ok(landsat_c2l1::read(first)?.granule)
        }
        ProductKind::Sentinel2 => {
            for (p, id) in paths.iter().zip(&ids).skip(1) {
                if id.granule != ids[0].granule {
                    return Err(ProductError::Mismatch {
                        path: first.clone(),
                        other: p.clone(),
                        what: format!("Sentinel-2 products {} and {}", ids[0].granule, id.granule),
                    });
                }
            }
            Ok(sentinel2_l1c::read(first)?.granule)
        }
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

/// Whether a file starts with the HDF4 magic number (`0e 03 13 01`), not HDF5's: both products
/// use `.hdf`.
fn is_hdf4(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|_| magic == [0x0e, 0x03, 0x13, 0x01])
}

/// The file of `role` among those given (at most one).
fn pick_role<'p>(
    paths: &'p [PathBuf],
    ids: &[Identified],
    role: FileRole,
) -> Result<Option<&'p PathBuf>, ProductError> {
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
}

/// A MODIS granule: `M?D021KM` with its `M?D03` (given, or found beside it); the `M?D021KM`
/// alone when no `M?D03` is there (5-km geolocation, no water mask); a `M?D03` alone is not a
/// granule.
fn open_modis(paths: &[PathBuf], ids: &[Identified]) -> Result<Granule, ProductError> {
    for (p, id) in paths.iter().zip(ids).skip(1) {
        if id.granule != ids[0].granule {
            return Err(ProductError::Mismatch {
                path: paths[0].clone(),
                other: p.clone(),
                what: format!("MODIS granules {} and {}", ids[0].granule, id.granule),
            });
        }
    }
    let data = pick_role(paths, ids, FileRole::L1bData)?;
    let geo = pick_role(paths, ids, FileRole::L1bGeolocation)?;
    match (data, geo) {
        (Some(d), Some(g)) => modis_l1b::read(d, Some(g)),
        (Some(d), None) => {
            let partner = modis_l1b::find_partner(d);
            modis_l1b::read(d, partner.as_deref())
        }
        (None, Some(g)) => {
            let d = modis_l1b::find_partner(g).ok_or_else(|| ProductError::MissingPartner {
                path: g.clone(),
                needed: "observation file".into(),
                looked_for: format!(
                    "{} in {}",
                    modis_l1b::partner_pattern(g),
                    g.parent()
                        .filter(|d| !d.as_os_str().is_empty())
                        .unwrap_or(Path::new("."))
                        .display()
                ),
            })?;
            modis_l1b::read(&d, Some(g))
        }
        (None, None) => unreachable!("every id is a MODIS data or geolocation file"),
    }
}

/// A MERSI granule: the `1000M` file and its `GEO1K` (given, or found beside the other); both
/// are needed (the data file holds no geolocation).
fn open_mersi(paths: &[PathBuf], ids: &[Identified]) -> Result<Granule, ProductError> {
    for (p, id) in paths.iter().zip(ids).skip(1) {
        if id.granule != ids[0].granule {
            return Err(ProductError::Mismatch {
                path: paths[0].clone(),
                other: p.clone(),
                what: format!("MERSI granules {} and {}", ids[0].granule, id.granule),
            });
        }
    }
    let data = pick_role(paths, ids, FileRole::L1bData)?.cloned();
    let geo = pick_role(paths, ids, FileRole::L1bGeolocation)?.cloned();
    let partner = |one: &PathBuf, needed: &str| {
        mersi_l1::find_partner(one).ok_or_else(|| ProductError::MissingPartner {
            path: one.clone(),
            needed: needed.into(),
            looked_for: format!(
                "{} in {}",
                mersi_l1::partner_pattern(one),
                one.parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .display()
            ),
        })
    };
    let (d, g) = match (data, geo) {
        (Some(d), Some(g)) => (d, g),
        (Some(d), None) => {
            let g = partner(&d, "geolocation file (GEO1K)")?;
            (d, g)
        }
        (None, Some(g)) => (partner(&g, "observation file (1000M)")?, g),
        (None, None) => unreachable!("every id is a MERSI data or geolocation file"),
    };
    mersi_l1::read(&d, &g)
}

fn open_sdr(paths: &[PathBuf], ids: &[Identified]) -> Result<Granule, ProductError> {
    // Every file given must be of one set (same platform and `_d…_t…_e…_b…` key).
    let first = &paths[0];
    for (p, id) in paths.iter().zip(ids).skip(1) {
        if id.granule != ids[0].granule {
            return Err(ProductError::Mismatch {
                path: first.clone(),
                other: p.clone(),
                what: format!("SDR sets {} and {}", ids[0].granule, id.granule),
            });
        }
    }
    let mut bands: [Option<PathBuf>; 5] = Default::default();
    let mut geo: Option<(bool, PathBuf)> = None;
    for (p, id) in paths.iter().zip(ids) {
        match id.role {
            FileRole::SdrBand(n) => {
                let slot = &mut bands[n as usize - 1];
                if let Some(other) = slot {
                    return Err(ProductError::Mismatch {
                        path: other.clone(),
                        other: p.clone(),
                        what: format!("two SVI0{n} files given for one set"),
                    });
                }
                *slot = Some(p.clone());
            }
            FileRole::SdrGeolocation { terrain_corrected } => {
                // GITCO preferred when both are given.
                if geo.as_ref().is_none_or(|(tc, _)| terrain_corrected && !tc) {
                    geo = Some((terrain_corrected, p.clone()));
                }
            }
            _ => unreachable!("SDR ids only"),
        }
    }
    // The rest lie beside the first file.
    if let Some((found_bands, found_geo)) = viirs_sdr::find_set(first) {
        for (slot, found) in bands.iter_mut().zip(found_bands) {
            if slot.is_none() {
                *slot = found;
            }
        }
        if geo.is_none() {
            geo = found_geo.map(|p| (true, p));
        }
    }
    let key = viirs_sdr::name_parts(first)
        .map(|(_, platform, key)| format!("{platform}_{key}"))
        .unwrap_or_default();
    let dir = first
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .display()
        .to_string();
    let mut complete: Vec<PathBuf> = Vec::with_capacity(5);
    for (spec, slot) in viirs_sdr::BANDS.iter().zip(bands) {
        match slot {
            Some(p) => complete.push(p),
            None => {
                return Err(ProductError::MissingPartner {
                    path: first.clone(),
                    needed: format!("{} band file ({})", spec.prefix, spec.band),
                    looked_for: format!("{}_{key}_c*.h5 in {dir}", spec.prefix),
                })
            }
        }
    }
    let Some((_, geo)) = geo else {
        return Err(ProductError::MissingPartner {
            path: first.clone(),
            needed: "geolocation file".into(),
            looked_for: format!("GITCO_{key}_c*.h5 or GIMGO_{key}_c*.h5 in {dir}"),
        });
    };
    let bands: [PathBuf; 5] = complete.try_into().expect("five bands");
    viirs_sdr::read(&bands, &geo)
}
