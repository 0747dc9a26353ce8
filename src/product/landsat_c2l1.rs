//! Landsat 8/9 OLI Collection 2 Level-1 products (`LC08_L1TP_PPPRRR_YYYYMMDD_yyyymmdd_02_T1`,
//! `LC09_…`) as USGS EarthExplorer and the M2M API deliver them: one `UInt16` GeoTIFF per band
//! (`_B1.TIF` … `_B7.TIF`, `_B10.TIF`, …), the metadata as `_MTL.txt` (ODL: `GROUP = … /
//! KEY = value / END_GROUP`) and/or `_MTL.json` (the same groups as nested objects, values as
//! strings), and the quality bands `_QA_PIXEL.TIF` and `_QA_RADSAT.TIF`; the whole either as a
//! folder, as the `.tar` it is downloaded as (read in place through GDAL's `/vsitar/`), or given
//! by the path of its MTL or of any of its files.
//!
//! Sources (Landsat 8-9 Collection 2 Level 1 Data Format Control Book, LSDS-1822, and the
//! Collection 2 product guide): DNs are 16-bit; DN 0 is fill; TOA reflectance is
//! ρ = (M·DN + A) / sin(θ_SE) with `REFLECTANCE_MULT_BAND_n` (M), `REFLECTANCE_ADD_BAND_n` (A)
//! from `LEVEL1_RADIOMETRIC_RESCALING` and `SUN_ELEVATION` (θ_SE, scene centre) from
//! `IMAGE_ATTRIBUTES`. `QA_PIXEL` bits: 0 fill, 1 dilated cloud, 2 cirrus, 3 cloud, 4 cloud
//! shadow, 5 snow, 6 clear, 7 water. `QA_RADSAT` bits 0–6: bands 1–7 saturated.
//!
//! What the reader does with them: reflectances as above with NaN for fill; a pixel flagged
//! saturated in `QA_RADSAT` takes its band's largest encodable reflectance ((M·65535 + A) /
//! sin θ_SE, also given in [`Granule::saturation`]) whatever its DN, since OLI's saturated SWIR
//! DNs can fold to low values (Schroeder et al. 2016, sec. 2); water from `QA_PIXEL` bit 7 into
//! [`Granule::water`]; cloud (bits 1–3) into [`LandsatScene::cloud`]. With the sun below the
//! horizon (night acquisitions), the bands hold M·DN + A without the sun-angle division, which
//! would be meaningless. Errors name the file: a band the MTL names that is absent, an MTL whose
//! product id or size does not match its bands, a truncated TIF or tar.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::error::ProductError;
use super::{map_counts, tar, Geometry, Granule, ProductKind};
use ndarray::ArrayView2;

use crate::raster::band::{band_header, read_blocks, read_u16, BandHeader, BlockPlan, U16Block};
use crate::raster::{BandBuf, GeoRef, RasterError, SceneMeta};

/// The OLI reflective bands the fire algorithm reads, as canonical names.
pub const OLI_BANDS: [&str; 7] = ["B1", "B2", "B3", "B4", "B5", "B6", "B7"];

/// `QA_PIXEL` bits (LSDS-1822, table "Pixel quality assessment").
pub mod qa_pixel {
    pub const FILL: u16 = 1 << 0;
    pub const DILATED_CLOUD: u16 = 1 << 1;
    pub const CIRRUS: u16 = 1 << 2;
    pub const CLOUD: u16 = 1 << 3;
    pub const CLOUD_SHADOW: u16 = 1 << 4;
    pub const SNOW: u16 = 1 << 5;
    pub const CLEAR: u16 = 1 << 6;
    pub const WATER: u16 = 1 << 7;
}

/// `QA_RADSAT` bit of OLI band `n` (1–7): bit n − 1 (LSDS-1822, "Radiometric saturation QA").
pub fn radsat_bit(band: u8) -> u16 {
    1 << (band - 1)
}

/// The largest DN (saturation).
pub const DN_MAX: u16 = 65535;

/// A product id (`LC08_L1TP_045033_20180811_20180811_02_T1`) parsed from a file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameParts {
    /// The 40-character product id.
    pub product_id: String,
    /// What follows it: `B7.TIF`, `MTL.txt`, `QA_PIXEL.TIF`, `tar` (for `<id>.tar`), or empty
    /// (a folder named by the id).
    pub suffix: String,
}

/// Splits a file name into its product id and suffix, when it is a Landsat 8/9 Collection 2
/// Level-1 name (`L[CO]0[89]_L1[TG][PTS]_…_02_{T1,T2,RT}`).
pub fn name_parts(name: &str) -> Option<NameParts> {
    let b = name.as_bytes();
    if b.len() < 40 || !name.is_char_boundary(40) {
        return None;
    }
    let id = &name[..40];
    let f: Vec<&str> = id.split('_').collect();
    let ok = f.len() == 7
        && matches!(f[0], "LC08" | "LC09" | "LO08" | "LO09")
        && matches!(f[1], "L1TP" | "L1GT" | "L1GS")
        && f[2].len() == 6
        && f[2].bytes().all(|c| c.is_ascii_digit())
        && f[3].len() == 8
        && f[4].len() == 8
        && f[3].bytes().chain(f[4].bytes()).all(|c| c.is_ascii_digit())
        && f[5] == "02"
        && matches!(f[6], "T1" | "T2" | "RT");
    if !ok {
        return None;
    }
    let rest = &name[40..];
    let suffix = match rest.as_bytes().first() {
        None => String::new(),
        Some(b'_') | Some(b'.') => rest[1..].to_string(),
        _ => return None,
    };
    Some(NameParts {
        product_id: id.to_string(),
        suffix,
    })
}

/// The metadata the reader and detector need from `_MTL.txt` / `_MTL.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mtl {
    /// `LANDSAT_PRODUCT_ID`.
    pub product_id: String,
    /// `SPACECRAFT_ID`: `LANDSAT_8` or `LANDSAT_9`.
    pub spacecraft: String,
    /// `DATE_ACQUIRED` + `SCENE_CENTER_TIME`.
    pub acq_time: DateTime<Utc>,
    /// `SUN_ELEVATION`, degrees (scene centre).
    pub sun_elevation_deg: f64,
    /// `SUN_AZIMUTH`, degrees.
    pub sun_azimuth_deg: f64,
    /// `WRS_PATH`, `WRS_ROW`.
    pub wrs_path: u16,
    pub wrs_row: u16,
    /// `REFLECTIVE_LINES`, `REFLECTIVE_SAMPLES`: (rows, cols) of the 30 m bands.
    pub shape: (usize, usize),
    /// Band number → (`FILE_NAME_BAND_n`, `REFLECTANCE_MULT_BAND_n`, `REFLECTANCE_ADD_BAND_n`),
    /// for the reflective bands 1–7.
    pub bands: BTreeMap<u8, (String, f64, f64)>,
    /// `FILE_NAME_QUALITY_L1_PIXEL`, `FILE_NAME_QUALITY_L1_RADIOMETRIC_SATURATION`.
    pub qa_pixel: Option<String>,
    pub qa_radsat: Option<String>,
    /// Every file the MTL names (`FILE_NAME_*`), in key order: what a complete product folder
    /// holds.
    pub listed: Vec<String>,
}

impl Mtl {
    /// FIRMS satellite code: `L8` / `L9`.
    pub fn satellite_code(&self) -> &'static str {
        if self.spacecraft.ends_with('9') {
            "L9"
        } else {
            "L8"
        }
    }

    /// True when the sun is above the horizon at the scene centre.
    pub fn is_day(&self) -> bool {
        self.sun_elevation_deg > 0.0
    }
}

/// Parses the ODL text of `_MTL.txt` into `KEY → value` (quotes removed; keys are unique across
/// the groups of a Collection 2 MTL). A line that is neither `GROUP`, `END_GROUP`, `END` nor
/// `KEY = value` is an error naming its line.
pub fn parse_mtl_txt(text: &str, path: &Path) -> Result<BTreeMap<String, String>, ProductError> {
    let mut out = BTreeMap::new();
    let mut depth = 0i32;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line == "END" {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(ProductError::Bad {
                path: path.to_path_buf(),
                variable: format!("line {}", i + 1),
                message: format!("expected KEY = value, found {line:?}"),
            });
        };
        let (k, v) = (k.trim(), v.trim().trim_matches('"'));
        match k {
            "GROUP" => depth += 1,
            "END_GROUP" => depth -= 1,
            _ => {
                out.insert(k.to_string(), v.to_string());
            }
        }
    }
    if depth != 0 {
        return Err(ProductError::Bad {
            path: path.to_path_buf(),
            variable: "GROUP".into(),
            message: "groups not closed: the file is truncated".into(),
        });
    }
    Ok(out)
}

/// Parses `_MTL.json` into `KEY → value` (nested groups flattened; numbers and strings alike as
/// text, as in the ODL file).
pub fn parse_mtl_json(text: &str, path: &Path) -> Result<BTreeMap<String, String>, ProductError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| ProductError::Bad {
        path: path.to_path_buf(),
        variable: "JSON".into(),
        message: e.to_string(),
    })?;
    fn walk(v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
        if let serde_json::Value::Object(m) = v {
            for (k, v) in m {
                match v {
                    serde_json::Value::Object(_) => walk(v, out),
                    serde_json::Value::String(s) => {
                        out.insert(k.clone(), s.clone());
                    }
                    serde_json::Value::Null => {}
                    other => {
                        out.insert(k.clone(), other.to_string());
                    }
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&v, &mut out);
    Ok(out)
}

/// The reader's view of the MTL keys.
pub fn mtl_from_keys(keys: &BTreeMap<String, String>, path: &Path) -> Result<Mtl, ProductError> {
    let get = |k: &str| {
        keys.get(k)
            .map(String::as_str)
            .ok_or(ProductError::Missing {
                path: path.to_path_buf(),
                what: "MTL key",
                name: k.to_string(),
            })
    };
    let bad = |k: &str, v: &str, what: &str| ProductError::Bad {
        path: path.to_path_buf(),
        variable: k.to_string(),
        message: format!("{v:?} is not {what}"),
    };
    let num = |k: &str| -> Result<f64, ProductError> {
        let v = get(k)?;
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| bad(k, v, "a number"))
    };
    let int = |k: &str| -> Result<u64, ProductError> {
        let v = get(k)?;
        v.trim()
            .parse::<u64>()
            .map_err(|_| bad(k, v, "a whole number"))
    };
    let date_s = get("DATE_ACQUIRED")?;
    let date = NaiveDate::parse_from_str(date_s.trim(), "%Y-%m-%d")
        .map_err(|_| bad("DATE_ACQUIRED", date_s, "a date YYYY-MM-DD"))?;
    let time_s = get("SCENE_CENTER_TIME")?;
    let t = time_s.trim().trim_end_matches('Z');
    // Seven decimal places in the products; chrono takes up to nine.
    let time = NaiveTime::parse_from_str(t, "%H:%M:%S%.f")
        .map_err(|_| bad("SCENE_CENTER_TIME", time_s, "a time HH:MM:SS.sssZ"))?;
    let mut bands = BTreeMap::new();
    for n in 1..=7u8 {
        bands.insert(
            n,
            (
                get(&format!("FILE_NAME_BAND_{n}"))?.to_string(),
                num(&format!("REFLECTANCE_MULT_BAND_{n}"))?,
                num(&format!("REFLECTANCE_ADD_BAND_{n}"))?,
            ),
        );
    }
    let sun_elevation_deg = num("SUN_ELEVATION")?;
    if !(-90.0..=90.0).contains(&sun_elevation_deg) {
        return Err(bad(
            "SUN_ELEVATION",
            get("SUN_ELEVATION")?,
            "within −90…90°",
        ));
    }
    Ok(Mtl {
        product_id: get("LANDSAT_PRODUCT_ID")?.to_string(),
        spacecraft: get("SPACECRAFT_ID")?.to_string(),
        acq_time: date.and_time(time).and_utc(),
        sun_elevation_deg,
        sun_azimuth_deg: num("SUN_AZIMUTH")?,
        wrs_path: int("WRS_PATH")? as u16,
        wrs_row: int("WRS_ROW")? as u16,
        shape: (
            int("REFLECTIVE_LINES")? as usize,
            int("REFLECTIVE_SAMPLES")? as usize,
        ),
        bands,
        qa_pixel: keys.get("FILE_NAME_QUALITY_L1_PIXEL").cloned(),
        qa_radsat: keys
            .get("FILE_NAME_QUALITY_L1_RADIOMETRIC_SATURATION")
            .cloned(),
        listed: keys
            .iter()
            .filter(|(k, _)| k.starts_with("FILE_NAME_"))
            .map(|(_, v)| v.clone())
            .collect(),
    })
}

/// Where a product's files are: a folder, or members of a tar read in place.
#[derive(Debug, Clone)]
pub enum Location {
    Folder(PathBuf),
    Tar {
        archive: PathBuf,
        members: Vec<tar::Member>,
    },
}

/// A product found on disk: where its files are and its parsed MTL.
#[derive(Debug, Clone)]
pub struct Product {
    pub location: Location,
    /// The MTL read (the `.txt` when both are present).
    pub mtl_path: PathBuf,
    pub mtl: Mtl,
}

impl Product {
    /// The path GDAL opens for a file of the product, named as in the MTL; an error names the
    /// file when it is not there.
    pub fn file(&self, name: &str, needed: &str) -> Result<PathBuf, ProductError> {
        match &self.location {
            Location::Folder(dir) => {
                let p = dir.join(name);
                if p.is_file() {
                    Ok(p)
                } else {
                    Err(ProductError::MissingPartner {
                        path: self.mtl_path.clone(),
                        needed: needed.to_string(),
                        looked_for: p.display().to_string(),
                    })
                }
            }
            Location::Tar { archive, members } => {
                let found = members
                    .iter()
                    .find(|m| m.name == name || m.name.rsplit('/').next() == Some(name));
                match found {
                    Some(m) => Ok(tar::vsi_path(archive, &m.name)),
                    None => Err(ProductError::MissingPartner {
                        path: archive.clone(),
                        needed: needed.to_string(),
                        looked_for: format!("{name} in the archive"),
                    }),
                }
            }
        }
    }

    fn has(&self, name: &str) -> bool {
        self.file(name, "").is_ok()
    }
}

fn read_text(path: &Path) -> Result<String, ProductError> {
    std::fs::read_to_string(path).map_err(|e| ProductError::Open {
        path: path.to_path_buf(),
        format: "Landsat MTL",
        message: e.to_string(),
    })
}

fn parse_mtl(name: &str, text: &str, path: &Path) -> Result<Mtl, ProductError> {
    let keys = if name.to_ascii_lowercase().ends_with(".json") {
        parse_mtl_json(text, path)?
    } else {
        parse_mtl_txt(text, path)?
    };
    mtl_from_keys(&keys, path)
}

/// Finds the product `path` belongs to: a product folder, its `.tar`, its MTL (`.txt` or
/// `.json`), or any file of it with the MTL beside it.
pub fn locate(path: &Path) -> Result<Product, ProductError> {
    let unknown = |message: String| ProductError::Unknown {
        path: path.to_path_buf(),
        message,
    };
    let is_tar = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tar"));
    if is_tar {
        let members = tar::members(path)?;
        let mtl = members
            .iter()
            .filter(|m| m.name.ends_with("_MTL.txt") || m.name.ends_with("_MTL.json"))
            .min_by_key(|m| !m.name.ends_with(".txt"))
            .ok_or_else(|| {
                unknown("a tar without a Landsat `_MTL.txt` or `_MTL.json` member".into())
            })?;
        let bytes = tar::read_member(path, mtl)?;
        let text = String::from_utf8_lossy(&bytes);
        let mtl_path = tar::vsi_path(path, &mtl.name);
        let parsed = parse_mtl(&mtl.name, &text, &mtl_path)?;
        return Ok(Product {
            location: Location::Tar {
                archive: path.to_path_buf(),
                members,
            },
            mtl_path,
            mtl: parsed,
        });
    }
    let (dir, id_hint) = if path.is_dir() {
        (path.to_path_buf(), None)
    } else {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let parts = name_parts(name);
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        if name.ends_with("_MTL.txt") || name.ends_with("_MTL.json") {
            let text = read_text(path)?;
            let mtl = parse_mtl(name, &text, path)?;
            return Ok(Product {
                location: Location::Folder(dir),
                mtl_path: path.to_path_buf(),
                mtl,
            });
        }
        let Some(parts) = parts else {
            return Err(unknown(
                "not a Landsat Collection 2 Level-1 file (LC08_/LC09_…_02_T1…)".into(),
            ));
        };
        (dir, Some(parts.product_id))
    };
    // In a folder: the MTL, `.txt` preferred.
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| ProductError::Open {
            path: dir.clone(),
            format: "folder",
            message: e.to_string(),
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            (n.ends_with("_MTL.txt") || n.ends_with("_MTL.json"))
                && id_hint.as_ref().is_none_or(|id| n.starts_with(id.as_str()))
        })
        .collect();
    found.sort_by_key(|p| (!p.to_string_lossy().ends_with(".txt"), p.clone()));
    let Some(mtl_path) = found.first().cloned() else {
        return Err(ProductError::MissingPartner {
            path: path.to_path_buf(),
            needed: "Landsat metadata file".into(),
            looked_for: format!(
                "{}_MTL.txt or _MTL.json in {}",
                id_hint.as_deref().unwrap_or("*"),
                dir.display()
            ),
        });
    };
    let ids: std::collections::BTreeSet<String> = found
        .iter()
        .filter_map(|p| name_parts(p.file_name()?.to_str()?).map(|n| n.product_id))
        .collect();
    if ids.len() > 1 {
        return Err(unknown(format!(
            "the folder holds several Landsat products ({}); give one product's MTL",
            ids.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    let name = mtl_path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_string();
    let text = read_text(&mtl_path)?;
    let mtl = parse_mtl(&name, &text, &mtl_path)?;
    Ok(Product {
        location: Location::Folder(dir),
        mtl_path,
        mtl,
    })
}

/// A Landsat product read for the fire algorithm.
#[derive(Debug, Clone)]
pub struct LandsatScene {
    /// Bands `B1`…`B7` as TOA reflectance (NaN fill), on the product's UTM grid, water from
    /// `QA_PIXEL` when present.
    pub granule: Granule,
    pub mtl: Mtl,
    /// 1 where `QA_PIXEL` says cloud (bits 1–3: dilated cloud, cirrus, cloud); `None` without
    /// `QA_PIXEL`.
    pub cloud: Option<BandBuf<u8>>,
    /// 1 where `QA_PIXEL` says cloud shadow (bit 4): not a detector input, but land in shadow
    /// was not seen clear (the coverage grid of fair rankings); `None` without `QA_PIXEL`.
    pub shadow: Option<BandBuf<u8>>,
    /// Whether `QA_RADSAT` was read (saturated pixels then hold their band's maximum).
    pub radsat: bool,
}

fn shape_err(
    path: &Path,
    found: (usize, usize),
    expected: (usize, usize),
    by: &str,
) -> ProductError {
    ProductError::Shape {
        path: path.to_path_buf(),
        variable: format!("raster size (the MTL's {by} says {expected:?} as rows × columns)"),
        found: vec![found.0, found.1],
        expected: vec![expected.0, expected.1],
    }
}

fn raster_err(e: RasterError) -> ProductError {
    match e {
        RasterError::Open { path, message } | RasterError::NotRaster { path, message } => {
            ProductError::Open {
                path,
                format: "GeoTIFF",
                message,
            }
        }
        RasterError::ReadBand {
            path,
            band,
            message,
            ..
        } => ProductError::Read {
            path,
            variable: band,
            message,
        },
        other => ProductError::Read {
            path: PathBuf::new(),
            variable: String::new(),
            message: other.to_string(),
        },
    }
}

/// Reads a product (see [`locate`] for what `path` may be): bands 1–7 as reflectance, QA.
pub fn read(path: &Path) -> Result<LandsatScene, ProductError> {
    let product = locate(path)?;
    read_product(&product)
}

/// One reflective band's rescaling, DN → TOA reflectance, as both readers compute it (the whole
/// [`read_product`] and the block-by-block [`read_streaming`] must agree to the bit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandScale {
    /// `REFLECTANCE_MULT_BAND_n`, `REFLECTANCE_ADD_BAND_n`.
    pub mult: f64,
    pub add: f64,
    /// sin θ_SE by day, 1 by night (no sun division).
    pub sin_e: f64,
    /// The band's largest encodable reflectance: what a `QA_RADSAT`-flagged pixel reads.
    pub max: f32,
    /// The band's `QA_RADSAT` bit.
    pub bit: u16,
}

impl BandScale {
    /// The rescaling of band `n` (1–7) of a product with the sun at `sin_e`.
    pub fn new(n: u8, mult: f64, add: f64, sin_e: f64) -> Self {
        BandScale {
            mult,
            add,
            sin_e,
            max: ((mult * DN_MAX as f64 + add) / sin_e) as f32,
            bit: radsat_bit(n),
        }
    }

    /// The reflectance of a DN with its pixel's `QA_RADSAT` bits: NaN for fill (DN 0), the
    /// band's maximum when saturated, else (M·DN + A) / sin θ_SE.
    #[inline]
    pub fn toa(&self, dn: u16, radsat: u16) -> f32 {
        if dn == 0 {
            f32::NAN
        } else if radsat & self.bit != 0 {
            self.max
        } else {
            ((self.mult * dn as f64 + self.add) / self.sin_e) as f32
        }
    }
}

/// A product checked before any pixel is read: its files found, every file of one grid.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Bands 1–7.
    pub band_paths: Vec<PathBuf>,
    pub qa_pixel: Option<PathBuf>,
    pub qa_radsat: Option<PathBuf>,
    pub georef: GeoRef,
    /// Band 7's header (its tiling decides the streamed reader's blocks).
    pub header: BandHeader,
    /// Bands 1–7.
    pub scales: [BandScale; 7],
}

/// Checks a located product without reading pixels: the MTL is this product's, every band file
/// it names is there (a missing one is reported before anything is read), every band and QA
/// file has the MTL's size and one georeferenced grid.
pub fn check_product(product: &Product) -> Result<Checked, ProductError> {
    let mtl = &product.mtl;
    let mtl_path = &product.mtl_path;
    // The MTL must be this product's: its id is the prefix of every file it names.
    for (n, (name, _, _)) in &mtl.bands {
        if !name.starts_with(&mtl.product_id) {
            return Err(ProductError::Mismatch {
                path: mtl_path.clone(),
                other: PathBuf::from(name),
                what: format!(
                    "FILE_NAME_BAND_{n} is not a file of product {}",
                    mtl.product_id
                ),
            });
        }
    }
    if let Some(id) = mtl_path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(name_parts)
    {
        if id.product_id != mtl.product_id {
            return Err(ProductError::Mismatch {
                path: mtl_path.clone(),
                other: PathBuf::from(&mtl.product_id),
                what: format!(
                    "the file is named for {} but its LANDSAT_PRODUCT_ID is {}",
                    id.product_id, mtl.product_id
                ),
            });
        }
    }
    let band_paths = mtl
        .bands
        .iter()
        .map(|(n, (name, _, _))| product.file(name, &format!("band {n} file")))
        .collect::<Result<Vec<_>, _>>()?;
    let optional = |name: &Option<String>, what: &str| -> Result<Option<PathBuf>, ProductError> {
        match name {
            Some(n) if product.has(n) => Ok(Some(product.file(n, what)?)),
            _ => Ok(None),
        }
    };
    let qa_radsat = optional(&mtl.qa_radsat, "QA_RADSAT")?;
    let qa_pixel = optional(&mtl.qa_pixel, "QA_PIXEL")?;
    let mut georef: Option<(PathBuf, GeoRef)> = None;
    let mut header = None;
    for p in qa_radsat.iter().chain(qa_pixel.iter()).chain(&band_paths) {
        let h = band_header(p).map_err(raster_err)?;
        if h.shape != mtl.shape {
            return Err(shape_err(p, h.shape, mtl.shape, "REFLECTIVE_LINES/SAMPLES"));
        }
        let Some(g) = &h.georef else {
            return Err(ProductError::Missing {
                path: p.to_path_buf(),
                what: "georeferencing",
                name: "geotransform and CRS".into(),
            });
        };
        match &georef {
            None => georef = Some((p.to_path_buf(), g.clone())),
            Some((first, g0)) if g0.transform != g.transform => {
                return Err(ProductError::Mismatch {
                    path: first.clone(),
                    other: p.to_path_buf(),
                    what: "the bands lie on different grids".into(),
                })
            }
            _ => {}
        }
        header = Some(h);
    }
    let sin_e = if mtl.is_day() {
        mtl.sun_elevation_deg.to_radians().sin()
    } else {
        1.0
    };
    let scales: Vec<BandScale> = mtl
        .bands
        .iter()
        .map(|(n, (_, mult, add))| BandScale::new(*n, *mult, *add, sin_e))
        .collect();
    Ok(Checked {
        band_paths,
        qa_pixel,
        qa_radsat,
        georef: georef.map(|(_, g)| g).expect("seven bands were checked"),
        header: header.expect("seven bands were checked"),
        scales: scales.try_into().expect("bands 1–7"),
    })
}

/// `QA_PIXEL` bits read as cloud (dilated cloud, cirrus, cloud) by the detector.
pub const CLOUD_BITS: u16 = qa_pixel::DILATED_CLOUD | qa_pixel::CIRRUS | qa_pixel::CLOUD;

/// Cloud and water (1/0) of a `QA_PIXEL` value; a fill pixel is neither.
#[inline]
pub fn qa_cloud_water(q: u16) -> (u8, u8) {
    let valid = q & qa_pixel::FILL == 0;
    (
        (valid && q & CLOUD_BITS != 0) as u8,
        (valid && q & qa_pixel::WATER != 0) as u8,
    )
}

/// Whether a `QA_PIXEL` value says cloud shadow (a fill pixel is not).
#[inline]
pub fn qa_shadow(q: u16) -> bool {
    q & qa_pixel::FILL == 0 && q & qa_pixel::CLOUD_SHADOW != 0
}

/// Reads a located product whole.
pub fn read_product(product: &Product) -> Result<LandsatScene, ProductError> {
    let mtl = &product.mtl;
    let checked = check_product(product)?;
    let memory = |source| ProductError::Memory {
        rows: mtl.shape.0,
        cols: mtl.shape.1,
        source,
    };
    let radsat = match &checked.qa_radsat {
        Some(p) => Some(read_u16(p).map_err(raster_err)?.1),
        None => None,
    };
    let mut cloud = None;
    let mut water = None;
    let mut shadow = None;
    if let Some(p) = &checked.qa_pixel {
        let (_, q) = read_u16(p).map_err(raster_err)?;
        let mut c = BandBuf::<u8>::zeros(mtl.shape).map_err(memory)?;
        let mut w = c.clone();
        let mut s = c.clone();
        use rayon::prelude::*;
        c.as_mut_slice()
            .par_iter_mut()
            .zip(w.as_mut_slice().par_iter_mut())
            .zip(s.as_mut_slice().par_iter_mut())
            .zip(q.as_slice().par_iter())
            .with_min_len(1 << 14)
            .for_each(|(((c, w), s), &q)| {
                (*c, *w) = qa_cloud_water(q);
                *s = qa_shadow(q) as u8;
            });
        cloud = Some(c);
        water = Some(w);
        shadow = Some(s);
    }
    let mut bands = BTreeMap::new();
    let mut saturation = BTreeMap::new();
    for ((n, scale), p) in mtl
        .bands
        .keys()
        .zip(&checked.scales)
        .zip(&checked.band_paths)
    {
        let (_, dn) = read_u16(p).map_err(raster_err)?;
        let mut out = BandBuf::<f32>::zeros(mtl.shape).map_err(memory)?;
        let scale = *scale;
        map_counts(
            dn.as_slice(),
            radsat.as_ref().map(|q| q.as_slice()),
            out.as_mut_slice(),
            move |dn: u16, q: u16| scale.toa(dn, q),
        );
        let name = format!("B{n}");
        saturation.insert(name.clone(), scale.max);
        bands.insert(name, out);
    }
    let mut files = vec![product.mtl_path.clone()];
    files.extend(checked.band_paths);
    Ok(LandsatScene {
        granule: Granule {
            kind: ProductKind::LandsatC2L1,
            files,
            meta: SceneMeta {
                acq_time: Some(mtl.acq_time),
                satellite: Some(mtl.satellite_code().to_string()),
                sensor: Some("OLI".into()),
            },
            shape: mtl.shape,
            bands,
            geometry: Geometry::Grid(checked.georef),
            water,
            saturation,
        },
        mtl: mtl.clone(),
        cloud,
        shadow,
        radsat: radsat.is_some(),
    })
}

/// A block of a product as the fire algorithm reads it, fresh from [`read_streaming`]: bands
/// 1–7 as TOA reflectance (as [`read_product`] gives them), `QA_PIXEL`'s cloud and water, and
/// `QA_PIXEL` itself; rows `r0..r0 + rows`, columns `c0..c0 + cols`, each slice row-major.
#[derive(Debug)]
pub struct ReflectanceBlock<'a> {
    pub r0: usize,
    pub c0: usize,
    pub rows: usize,
    pub cols: usize,
    pub rho: [&'a [f32]; 7],
    pub cloud: Option<&'a [u8]>,
    pub water: Option<&'a [u8]>,
    pub qa_pixel: Option<&'a [u16]>,
}

impl<'a> ReflectanceBlock<'a> {
    /// The block as the detector's input (`day` as the scan decided it).
    pub fn input(&self, day: bool) -> crate::detect::oli::OliInput<'a> {
        let shape = (self.rows, self.cols);
        let view = |s: &'a [f32]| ArrayView2::from_shape(shape, s).expect("block shape");
        let mask = |s: &'a [u8]| ArrayView2::from_shape(shape, s).expect("block shape");
        crate::detect::oli::OliInput {
            rho: std::array::from_fn(|i| view(self.rho[i])),
            cloud: self.cloud.map(mask),
            water: self.water.map(mask),
            day,
        }
    }
}

/// Rows of a block converted at once: 16 rows of a 256-column tile are 16 KB per band, so the
/// seven bands' reflectances stay in the first-level caches between conversion and use.
const CONVERT_ROWS: usize = 16;

/// One strip's scratch: the reflectances and masks of the rows being visited.
#[derive(Default)]
struct Scratch {
    rho: [Vec<f32>; 7],
    cloud: Vec<u8>,
    water: Vec<u8>,
}

/// Reads a located product block by block (`raster::band::read_blocks`: the nine GeoTIFFs
/// decoded tile by tile, strips in parallel) and converts each block to reflectance while its
/// DNs are in cache, handing it to `visit` a few rows at a time: no band is ever held whole,
/// as DNs or as reflectances. `states` is given the plan (`plan`, or the files' own tiles)
/// and returns one state per strip; they come back in order with the checked product.
pub fn read_streaming<S: Send>(
    product: &Product,
    plan: Option<BlockPlan>,
    states: impl FnOnce(BlockPlan) -> Vec<S>,
    visit: impl Fn(&mut S, &ReflectanceBlock) + Sync,
) -> Result<(Checked, Vec<S>), ProductError> {
    let checked = check_product(product)?;
    let plan = plan.unwrap_or_else(|| BlockPlan::of(&checked.header));
    let mut paths: Vec<&Path> = checked.band_paths.iter().map(PathBuf::as_path).collect();
    let qa_at = checked.qa_pixel.as_ref().map(|p| {
        paths.push(p);
        paths.len() - 1
    });
    let radsat_at = checked.qa_radsat.as_ref().map(|p| {
        paths.push(p);
        paths.len() - 1
    });
    let scales = checked.scales;
    let states: Vec<(S, Scratch)> = states(plan)
        .into_iter()
        .map(|s| (s, Scratch::default()))
        .collect();
    let states = read_blocks(
        &paths,
        product.mtl.shape,
        plan,
        states,
        |(state, scratch), block: &U16Block| {
            let w = block.cols;
            let mut i0 = 0;
            while i0 < block.rows {
                let n = CONVERT_ROWS.min(block.rows - i0);
                let span = i0 * w..(i0 + n) * w;
                let radsat = radsat_at.map(|k| &block.bands[k][span.clone()]);
                for (b, out) in scratch.rho.iter_mut().enumerate() {
                    let dn = &block.bands[b][span.clone()];
                    let s = scales[b];
                    out.clear();
                    match radsat {
                        Some(q) => out.extend(dn.iter().zip(q).map(|(&d, &q)| s.toa(d, q))),
                        None => out.extend(dn.iter().map(|&d| s.toa(d, 0))),
                    }
                }
                let qa = qa_at.map(|k| &block.bands[k][span.clone()]);
                if let Some(q) = qa {
                    scratch.cloud.clear();
                    scratch.water.clear();
                    for &v in q {
                        let (c, w) = qa_cloud_water(v);
                        scratch.cloud.push(c);
                        scratch.water.push(w);
                    }
                }
                visit(
                    state,
                    &ReflectanceBlock {
                        r0: block.r0 + i0,
                        c0: block.c0,
                        rows: n,
                        cols: w,
                        rho: std::array::from_fn(|b| scratch.rho[b].as_slice()),
                        cloud: qa.map(|_| scratch.cloud.as_slice()),
                        water: qa.map(|_| scratch.water.as_slice()),
                        qa_pixel: qa,
                    },
                );
                i0 += n;
            }
        },
    )
    .map_err(raster_err)?;
    Ok((checked, states.into_iter().map(|(s, _)| s).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_ids_are_recognised_and_others_are_not() {
        let p = name_parts("LC08_L1TP_123032_20240610_20240620_02_T1_B7.TIF").unwrap();
        assert_eq!(p.product_id, "LC08_L1TP_123032_20240610_20240620_02_T1");
        assert_eq!(p.suffix, "B7.TIF");
        assert_eq!(
            name_parts("LC09_L1TP_123032_20240610_20240620_02_RT.tar")
                .unwrap()
                .suffix,
            "tar"
        );
        assert_eq!(
            name_parts("LC09_L1GT_123032_20240610_20240620_02_T2")
                .unwrap()
                .suffix,
            ""
        );
        // Collection 1 ("_01_") and Landsat 7 are not this reader's.
        assert!(name_parts("LC08_L1TP_045033_20180811_20180811_01_RT_MTL.txt").is_none());
        assert!(name_parts("LE07_L1TP_123032_20240610_20240620_02_T1_B7.TIF").is_none());
        assert!(name_parts("LC08_L1TP_123032_20240610_20240620_02_T1X").is_none());
        assert!(name_parts("VNP02IMG.A2024160.0542.002.nc").is_none());
    }

    #[test]
    fn odl_text_is_flattened_and_a_broken_line_is_named() {
        let t = "GROUP = LANDSAT_METADATA_FILE\n  GROUP = IMAGE_ATTRIBUTES\n    SUN_ELEVATION = 41.5\n    SCENE_CENTER_TIME = \"02:57:21.1234560Z\"\n  END_GROUP = IMAGE_ATTRIBUTES\nEND_GROUP = LANDSAT_METADATA_FILE\nEND\n";
        let k = parse_mtl_txt(t, Path::new("m.txt")).unwrap();
        assert_eq!(k["SUN_ELEVATION"], "41.5");
        assert_eq!(k["SCENE_CENTER_TIME"], "02:57:21.1234560Z");
        let err = parse_mtl_txt("GROUP = A\n  junk\n", Path::new("m.txt"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        let err = parse_mtl_txt("GROUP = A\n  X = 1\n", Path::new("m.txt"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("truncated"), "{err}");
    }

    #[test]
    fn the_collection1_mtl_of_a_real_scene_parses_as_odl() {
        // A real USGS MTL (Collection 1, see tests/fixtures/PROVENANCE.md): the ODL grammar is
        // the same in Collection 2; the keys the reader needs differ in places.
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/landsat/LC08_L1TP_045033_20180811_20180811_01_RT_MTL.txt");
        let k = parse_mtl_txt(&std::fs::read_to_string(&path).unwrap(), &path).unwrap();
        assert_eq!(k["SUN_ELEVATION"], "59.52666147");
        assert_eq!(k["REFLECTIVE_LINES"], "7871");
        assert_eq!(k["REFLECTANCE_MULT_BAND_7"], "2.0000E-05");
        assert_eq!(k["SCENE_CENTER_TIME"], "18:51:15.7290260Z");
    }
}
