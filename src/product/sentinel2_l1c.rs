//! Sentinel-2 MSI Level-1C products (and Level-2A, whose 20 m bands serve the same algorithm)
//! as the Copernicus Data Space delivers them: the `.SAFE` folder
//! (`S2A_MSIL1C_20240610T030541_N0510_R075_T50SLH_20240610T052008.SAFE`), the `.zip` it is
//! downloaded as (read in place: XML through [`super::zip`], rasters through GDAL's `/vsizip/`),
//! or the path of its `MTD_MSIL1C.xml` / `MTD_MSIL2A.xml` or of its tile's `MTD_TL.xml`.
//!
//! Why the JP2 files with our own XML parsing, not GDAL's SENTINEL2 driver: the driver
//! composes a virtual dataset per resolution and resamples nothing across resolutions, so the
//! 10 m bands would still need binning here; it applies neither the quantification value nor
//! the baseline-04.00 offset (it reports them as metadata); it gives no handle on one band's
//! file, which is what a clear error about a missing or truncated band must name; and its
//! mask handling differs by GDAL version. Reading each `IMG_DATA/*.jp2` through JP2OpenJPEG
//! in parallel strips (`raster::band`) with the two XML files parsed here (roxmltree) keeps
//! every step visible and every error on its file.
//!
//! Facts used (Sentinel-2 Products Specification Document S2-PDGS-TAS-DI-PSD, v14.x; ESA's
//! processing-baseline 04.00 notes of January 2022):
//! - `MTD_MSIL1C.xml`: `PRODUCT_URI`, `PROCESSING_LEVEL`, `PROCESSING_BASELINE`,
//!   `SPACECRAFT_NAME` (`Sentinel-2A/B/C`), `PRODUCT_START_TIME`, `Granule_List/Granule/
//!   IMAGE_FILE` (paths below the SAFE root without `.jp2`), `QUANTIFICATION_VALUE` (10000),
//!   `Radiometric_Offset_List/RADIO_ADD_OFFSET band_id="0…12"` (−1000 from baseline 04.00),
//!   `Special_Values` (NODATA 0, SATURATED 65535). L2A: `BOA_QUANTIFICATION_VALUE`,
//!   `BOA_ADD_OFFSET`. `band_id` 0…12 are B1…B8, B8A, B9…B12.
//! - TOA reflectance ρ = (DN + RADIO_ADD_OFFSET) / QUANTIFICATION_VALUE; L1C reflectance is
//!   already normalised by the sun's zenith (no further sun division, unlike Landsat's MTL).
//! - `MTD_TL.xml`: `TILE_ID`, `SENSING_TIME`, `HORIZONTAL_CS_CODE` (`EPSG:326zz`/`327zz`),
//!   `Size resolution="10|20|60"` (`NROWS`, `NCOLS`: 10980/5490/1830), `Geoposition` (`ULX`,
//!   `ULY`, `XDIM`, `YDIM`), `Mean_Sun_Angle` (`ZENITH_ANGLE`, `AZIMUTH_ANGLE`),
//!   `Pixel_Level_QI/MASK_FILENAME type="MSK_CLASSI"` (baseline ≥ 04.00: `MSK_CLASSI_B00.jp2`,
//!   60 m, band 1 opaque clouds, 2 cirrus, 3 snow) or `type="MSK_CLOUDS"` (older: GML polygons);
//!   `MASK_FILENAME bandId="0…12" type="MSK_DETFOO"`, each band's detector footprint: from
//!   baseline 04.00 `MSK_DETFOO_B12.jp2`, one byte layer at the band's resolution holding the
//!   detector index (1…12, 0 = no detector), before `…MSK_DETFOO…_B12….gml` with one
//!   `DETECTOR_FOOTPRINT` feature per detector (`gml:id="detector_footprint-B12-07-0"`, `POLYGON
//!   Z`, `eop:maskType` `DETECTOR_FOOTPRINT`); layouts as public S2 readers describe them
//!   (eoreader's `open_mask("DETFOO")`, SNAP s2tbx's `MaskInfo148`, a CDSE pipeline's notes on
//!   baseline-05.10 QI_DATA, Sinergise's path mapper).
//! - L2A: bands at 20 m in `IMG_DATA/R20m/…_B12_20m.jp2`; the scene classification
//!   `SCL_20m.jp2` (6 water, 8/9 cloud medium/high probability, 10 thin cirrus).
//!
//! What the reader returns: bands `B01 B02 B03 B04 B8A B11 B12` as reflectance on the 20 m grid
//! (B8A/B11/B12 native; the 10 m B02–B04 binned 2 × 2 by the mean of their DNs, fill or
//! saturation in a block kept; the 60 m B01 repeated 3 × 3), NaN for DN 0, a saturated DN as the
//! band's largest reflectance ([`Granule::saturation`]); cloud from `MSK_CLASSI` (opaque or
//! cirrus) or L2A's SCL, or before baseline 04.00 from `MSK_CLOUDS_B00.gml`'s opaque and cirrus
//! polygons rasterised onto the 20 m grid ([`super::gml_mask`]); water from SCL. A product
//! with neither is read with `cloud: None` (the detector then has no cloud mask, as for a
//! Landsat product without QA). Pixels outside the detector footprints of B8A, B11 or B12
//! ([`FOOTPRINT_BANDS`]) are NaN in every band: no data, so the detector classes them fill and
//! the ranking's coverage grid does not count them as land seen fire-free. Errors name the file: a band missing from the XML or the folder, a band
//! whose size is not what `MTD_TL.xml` says for its resolution, a truncated JP2 or zip.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::error::ProductError;
use super::{map_counts, zip, Geometry, Granule, ProductKind};
use crate::raster::band::{read_band, read_u16_binned, BandHeader};
use crate::raster::{BandBuf, GeoRef, RasterError, SceneMeta};

/// The bands the fire algorithm reads, as canonical names, in the order of the OLI roles they
/// fill (coastal, blue, green, red, NIR 0.865 µm, SWIR 1.6 µm, SWIR 2.2 µm).
pub const MSI_BANDS: [&str; 7] = ["B01", "B02", "B03", "B04", "B8A", "B11", "B12"];

/// The grid the reader puts every band on, m.
pub const PIXEL_M: u32 = 20;

/// A DN that means no data, and the saturated DN (PSD `Special_Values`).
pub const DN_NODATA: u16 = 0;
pub const DN_SATURATED: u16 = 65535;

/// MSI band `band_id` (0…12, the PSD's numbering) → (name, native resolution in m).
pub const BAND_IDS: [(&str, u32); 13] = [
    ("B01", 60),
    ("B02", 10),
    ("B03", 10),
    ("B04", 10),
    ("B05", 20),
    ("B06", 20),
    ("B07", 20),
    ("B08", 10),
    ("B8A", 20),
    ("B09", 60),
    ("B10", 60),
    ("B11", 20),
    ("B12", 20),
];

/// The PSD `band_id` of a band name (`B8A` → 8).
pub fn band_id(name: &str) -> Option<u8> {
    BAND_IDS
        .iter()
        .position(|(n, _)| *n == name)
        .map(|i| i as u8)
}

/// Processing level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    L1c,
    L2a,
}

impl Level {
    /// `MTD_MSIL1C.xml` or `MTD_MSIL2A.xml`.
    pub fn metadata_name(self) -> &'static str {
        match self {
            Level::L1c => "MTD_MSIL1C.xml",
            Level::L2a => "MTD_MSIL2A.xml",
        }
    }
}

/// A product name (`S2A_MSIL1C_20240610T030541_N0510_R075_T50SLH_20240610T052008`) parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameParts {
    /// The 60-character name without `.SAFE`.
    pub product: String,
    /// `S2A`, `S2B`, `S2C`.
    pub mission: String,
    pub level: Level,
    /// `N0510` → `05.10`.
    pub baseline: String,
    /// `T50SLH` → `50SLH`.
    pub tile: String,
}

/// Splits a file or folder name into the product's parts when it is a Sentinel-2 L1C/L2A
/// name, bare or followed by `.SAFE`, `.zip` or `.SAFE.zip`.
pub fn name_parts(name: &str) -> Option<NameParts> {
    let mut stem = name;
    for suffix in [".zip", ".SAFE"] {
        if let Some(s) = stem.strip_suffix(suffix) {
            stem = s;
        }
    }
    let f: Vec<&str> = stem.split('_').collect();
    let digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    let time = |s: &str| s.len() == 15 && digits(&s[..8]) && &s[8..9] == "T" && digits(&s[9..]);
    let ok = f.len() == 7
        && matches!(f[0], "S2A" | "S2B" | "S2C" | "S2D")
        && time(f[2])
        && f[3].len() == 5
        && f[3].starts_with('N')
        && digits(&f[3][1..])
        && f[4].len() == 4
        && f[4].starts_with('R')
        && digits(&f[4][1..])
        && f[5].len() == 6
        && f[5].starts_with('T')
        && time(f[6]);
    if !ok {
        return None;
    }
    let level = match f[1] {
        "MSIL1C" => Level::L1c,
        "MSIL2A" => Level::L2a,
        _ => return None,
    };
    Some(NameParts {
        product: stem.to_string(),
        mission: f[0].to_string(),
        level,
        baseline: format!("{}.{}", &f[3][1..3], &f[3][3..5]),
        tile: f[5][1..].to_string(),
    })
}

/// What the reader needs from `MTD_MSIL1C.xml` / `MTD_MSIL2A.xml`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductMtd {
    pub level: Level,
    /// `PRODUCT_URI` (`…SAFE`).
    pub product_uri: String,
    /// `PROCESSING_BASELINE` (`05.10`).
    pub baseline: String,
    /// `SPACECRAFT_NAME` (`Sentinel-2A`).
    pub spacecraft: String,
    /// `PRODUCT_START_TIME`.
    pub start_time: DateTime<Utc>,
    /// `QUANTIFICATION_VALUE` (L1C) or `BOA_QUANTIFICATION_VALUE` (L2A).
    pub quantification: f64,
    /// `band_id` → `RADIO_ADD_OFFSET` / `BOA_ADD_OFFSET` (empty before baseline 04.00).
    pub offsets: BTreeMap<u8, f64>,
    /// `IMAGE_FILE` entries: paths below the SAFE root, without `.jp2`.
    pub image_files: Vec<String>,
    /// `Special_Values` NODATA and SATURATED.
    pub nodata: u16,
    pub saturated: u16,
}

impl ProductMtd {
    /// FIRMS-style satellite code: `S2A`, `S2B`, `S2C`.
    pub fn satellite_code(&self) -> String {
        match self.spacecraft.trim().strip_prefix("Sentinel-") {
            Some(s) => format!("S{s}"),
            None => self.spacecraft.clone(),
        }
    }

    /// Whether the baseline is 04.00 or later (the −1000 offset, JP2 masks).
    pub fn baseline_04(&self) -> bool {
        baseline_number(&self.baseline) >= 400
    }

    /// The image file of band `name` at 20 m (L2A: the `R20m` file) or native (L1C).
    pub fn image_file(&self, name: &str) -> Option<&str> {
        self.image_files
            .iter()
            .map(String::as_str)
            .find(|f| match self.level {
                Level::L1c => f.ends_with(&format!("_{name}")),
                Level::L2a => f.ends_with(&format!("_{name}_20m")),
            })
    }

    /// The granule folder (`GRANULE/L1C_T50SLH_A046789_20240610T031329`).
    pub fn granule_dir(&self) -> Option<String> {
        let f = self.image_files.first()?;
        let mut it = f.split('/');
        match (it.next(), it.next()) {
            (Some("GRANULE"), Some(g)) => Some(format!("GRANULE/{g}")),
            _ => None,
        }
    }
}

fn baseline_number(b: &str) -> u32 {
    let (a, c) = b.trim().split_once('.').unwrap_or((b, "0"));
    a.parse::<u32>().unwrap_or(0) * 100 + c.parse::<u32>().unwrap_or(0)
}

/// What the reader needs from `MTD_TL.xml`.
#[derive(Debug, Clone, PartialEq)]
pub struct TileMtd {
    /// `TILE_ID`.
    pub tile_id: String,
    /// `SENSING_TIME`.
    pub sensing_time: DateTime<Utc>,
    /// `HORIZONTAL_CS_CODE` (`EPSG:32650` → 32650).
    pub epsg: u32,
    /// Resolution (m) → (rows, cols) from `Size`.
    pub sizes: BTreeMap<u32, (usize, usize)>,
    /// Resolution (m) → (ULX, ULY, XDIM, YDIM) from `Geoposition`.
    pub positions: BTreeMap<u32, [f64; 4]>,
    /// `Mean_Sun_Angle`, degrees.
    pub sun_zenith_deg: f64,
    pub sun_azimuth_deg: f64,
    /// `MASK_FILENAME` type → path below the SAFE root (the first of each type).
    pub masks: BTreeMap<String, String>,
    /// `MASK_FILENAME type="MSK_DETFOO" bandId="n"`: band id (0…12) → path below the SAFE root
    /// of that band's detector-footprint mask (`QI_DATA/MSK_DETFOO_B12.jp2` from baseline
    /// 04.00, a `.gml` before).
    pub detfoo: BTreeMap<u8, String>,
}

impl TileMtd {
    /// The 20 m grid as a geotransform.
    pub fn transform_20m(&self) -> Option<[f64; 6]> {
        let [x, y, dx, dy] = *self.positions.get(&PIXEL_M)?;
        Some([x, dx, 0.0, y, 0.0, dy])
    }
}

fn xml_err(path: &Path, e: impl std::fmt::Display) -> ProductError {
    ProductError::Bad {
        path: path.to_path_buf(),
        variable: "XML".into(),
        message: e.to_string(),
    }
}

fn missing(path: &Path, name: &str) -> ProductError {
    ProductError::Missing {
        path: path.to_path_buf(),
        what: "XML element",
        name: name.to_string(),
    }
}

fn elements<'a, 'i>(
    doc: &'a roxmltree::Document<'i>,
    name: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    doc.descendants()
        .filter(move |n| n.is_element() && n.tag_name().name() == name)
}

fn first_text<'a>(doc: &'a roxmltree::Document, name: &str) -> Option<&'a str> {
    doc.descendants()
        .find(|n| n.is_element() && n.tag_name().name() == name)
        .and_then(|n| n.text())
        .map(str::trim)
}

fn child_text<'a>(n: roxmltree::Node<'a, '_>, name: &str) -> Option<&'a str> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
        .and_then(|c| c.text())
        .map(str::trim)
}

fn parse_time(path: &Path, key: &str, v: &str) -> Result<DateTime<Utc>, ProductError> {
    DateTime::parse_from_rfc3339(v.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ProductError::Bad {
            path: path.to_path_buf(),
            variable: key.into(),
            message: format!("{v:?} is not a time YYYY-MM-DDTHH:MM:SS.sssZ"),
        })
}

fn parse_num(path: &Path, key: &str, v: &str) -> Result<f64, ProductError> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| ProductError::Bad {
            path: path.to_path_buf(),
            variable: key.into(),
            message: format!("{v:?} is not a number"),
        })
}

/// Parses the product metadata (`MTD_MSIL1C.xml` or `MTD_MSIL2A.xml`); `path` names it in
/// errors.
pub fn parse_product_mtd(text: &str, path: &Path) -> Result<ProductMtd, ProductError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| xml_err(path, e))?;
    let get = |k: &str| first_text(&doc, k).ok_or_else(|| missing(path, k));
    let level = match get("PROCESSING_LEVEL")? {
        "Level-1C" => Level::L1c,
        "Level-2A" | "Level-2Ap" => Level::L2a,
        other => {
            return Err(ProductError::Bad {
                path: path.to_path_buf(),
                variable: "PROCESSING_LEVEL".into(),
                message: format!("{other:?}: only Level-1C and Level-2A are read"),
            })
        }
    };
    let (q_key, off_key) = match level {
        Level::L1c => ("QUANTIFICATION_VALUE", "RADIO_ADD_OFFSET"),
        Level::L2a => ("BOA_QUANTIFICATION_VALUE", "BOA_ADD_OFFSET"),
    };
    let quantification = parse_num(path, q_key, get(q_key)?)?;
    if quantification <= 0.0 {
        return Err(ProductError::Bad {
            path: path.to_path_buf(),
            variable: q_key.into(),
            message: format!("{quantification} is not positive"),
        });
    }
    let mut offsets = BTreeMap::new();
    for n in elements(&doc, off_key) {
        let id = n
            .attribute("band_id")
            .and_then(|v| v.parse::<u8>().ok())
            .filter(|&i| (i as usize) < BAND_IDS.len())
            .ok_or_else(|| ProductError::Bad {
                path: path.to_path_buf(),
                variable: off_key.into(),
                message: "band_id missing or not 0…12".into(),
            })?;
        offsets.insert(id, parse_num(path, off_key, n.text().unwrap_or(""))?);
    }
    let mut nodata = DN_NODATA;
    let mut saturated = DN_SATURATED;
    for sv in elements(&doc, "Special_Values") {
        let idx = child_text(sv, "SPECIAL_VALUE_INDEX").and_then(|v| v.parse::<u16>().ok());
        match (child_text(sv, "SPECIAL_VALUE_TEXT"), idx) {
            (Some("NODATA"), Some(i)) => nodata = i,
            (Some("SATURATED"), Some(i)) => saturated = i,
            _ => {}
        }
    }
    let image_files = elements(&doc, "IMAGE_FILE")
        .chain(elements(&doc, "IMAGE_FILE_2A"))
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
        .collect::<Vec<_>>();
    if image_files.is_empty() {
        return Err(missing(path, "IMAGE_FILE"));
    }
    let mtd = ProductMtd {
        level,
        product_uri: get("PRODUCT_URI")?.to_string(),
        baseline: get("PROCESSING_BASELINE")?.to_string(),
        spacecraft: get("SPACECRAFT_NAME")?.to_string(),
        start_time: parse_time(path, "PRODUCT_START_TIME", get("PRODUCT_START_TIME")?)?,
        quantification,
        offsets,
        image_files,
        nodata,
        saturated,
    };
    if mtd.baseline_04() && mtd.offsets.is_empty() {
        return Err(ProductError::Bad {
            path: path.to_path_buf(),
            variable: off_key.into(),
            message: format!(
                "processing baseline {} (≥ 04.00) but no {off_key} per band: the metadata \
                 does not match its bands' encoding",
                mtd.baseline
            ),
        });
    }
    Ok(mtd)
}

/// Parses the tile metadata (`MTD_TL.xml`); `path` names it in errors.
pub fn parse_tile_mtd(text: &str, path: &Path) -> Result<TileMtd, ProductError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| xml_err(path, e))?;
    let get = |k: &str| first_text(&doc, k).ok_or_else(|| missing(path, k));
    let code = get("HORIZONTAL_CS_CODE")?;
    let epsg = code
        .strip_prefix("EPSG:")
        .and_then(|v| v.trim().parse::<u32>().ok())
        .ok_or_else(|| ProductError::Bad {
            path: path.to_path_buf(),
            variable: "HORIZONTAL_CS_CODE".into(),
            message: format!("{code:?} is not EPSG:<code>"),
        })?;
    let res_of = |n: roxmltree::Node| n.attribute("resolution").and_then(|r| r.parse().ok());
    let mut sizes = BTreeMap::new();
    for n in elements(&doc, "Size") {
        let (Some(res), Some(r), Some(c)) = (
            res_of(n),
            child_text(n, "NROWS").and_then(|v| v.parse().ok()),
            child_text(n, "NCOLS").and_then(|v| v.parse().ok()),
        ) else {
            return Err(ProductError::Bad {
                path: path.to_path_buf(),
                variable: "Size".into(),
                message: "resolution, NROWS or NCOLS missing or not a whole number".into(),
            });
        };
        sizes.insert(res, (r, c));
    }
    let mut positions = BTreeMap::new();
    for n in elements(&doc, "Geoposition") {
        let mut v = [0f64; 4];
        for (slot, k) in v.iter_mut().zip(["ULX", "ULY", "XDIM", "YDIM"]) {
            *slot = parse_num(path, k, child_text(n, k).ok_or_else(|| missing(path, k))?)?;
        }
        if let Some(res) = res_of(n) {
            positions.insert(res, v);
        }
    }
    if !sizes.contains_key(&PIXEL_M) {
        return Err(missing(path, "Size resolution=\"20\""));
    }
    if !positions.contains_key(&PIXEL_M) {
        return Err(missing(path, "Geoposition resolution=\"20\""));
    }
    let sun = elements(&doc, "Mean_Sun_Angle")
        .next()
        .ok_or_else(|| missing(path, "Mean_Sun_Angle"))?;
    let angle = |k: &str| parse_num(path, k, child_text(sun, k).ok_or_else(|| missing(path, k))?);
    let sun_zenith_deg = angle("ZENITH_ANGLE")?;
    if !(0.0..=180.0).contains(&sun_zenith_deg) {
        return Err(ProductError::Bad {
            path: path.to_path_buf(),
            variable: "ZENITH_ANGLE".into(),
            message: format!("{sun_zenith_deg} is not within 0…180°"),
        });
    }
    let mut masks = BTreeMap::new();
    let mut detfoo = BTreeMap::new();
    for n in elements(&doc, "MASK_FILENAME") {
        if let (Some(t), Some(f)) = (n.attribute("type"), n.text()) {
            if t == "MSK_DETFOO" {
                let id = n
                    .attribute("bandId")
                    .and_then(|b| b.trim().parse::<u8>().ok());
                let Some(id) = id.filter(|&b| (b as usize) < BAND_IDS.len()) else {
                    return Err(ProductError::Bad {
                        path: path.to_path_buf(),
                        variable: "MASK_FILENAME type=\"MSK_DETFOO\"".into(),
                        message: format!(
                            "{}: bandId {:?} is not a band (0…12)",
                            f.trim(),
                            n.attribute("bandId")
                        ),
                    });
                };
                detfoo.insert(id, f.trim().to_string());
            }
            masks
                .entry(t.to_string())
                .or_insert_with(|| f.trim().to_string());
        }
    }
    Ok(TileMtd {
        tile_id: get("TILE_ID")?.to_string(),
        sensing_time: parse_time(path, "SENSING_TIME", get("SENSING_TIME")?)?,
        epsg,
        sizes,
        positions,
        sun_zenith_deg,
        sun_azimuth_deg: angle("AZIMUTH_ANGLE")?,
        masks,
        detfoo,
    })
}

/// A file `manifest.safe` lists (`dataObjectSection/dataObject/byteStream`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// `fileLocation href` without its leading `./`: a path below the SAFE root.
    pub path: String,
    /// `byteStream size`, bytes.
    pub size: Option<u64>,
    /// `checksum checksumName="MD5"`, lower-case hex.
    pub md5: Option<String>,
}

/// Parses the files `manifest.safe` lists (the XFDU `dataObjectSection`: one `dataObject` per
/// file, its `byteStream size`, `fileLocation href="./…"` and MD5 `checksum`); `path` names it
/// in errors. A manifest listing no file is an error: it cannot say what the product holds.
pub fn parse_manifest(text: &str, path: &Path) -> Result<Vec<ManifestEntry>, ProductError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| xml_err(path, e))?;
    let mut out = Vec::new();
    for bs in elements(&doc, "byteStream") {
        let Some(href) = bs
            .children()
            .find(|c| c.is_element() && c.tag_name().name() == "fileLocation")
            .and_then(|c| c.attribute("href"))
        else {
            continue;
        };
        let size = match bs.attribute("size") {
            Some(v) => Some(v.trim().parse::<u64>().map_err(|_| ProductError::Bad {
                path: path.to_path_buf(),
                variable: format!("byteStream size of {href}"),
                message: format!("{v:?} is not a whole number of bytes"),
            })?),
            None => None,
        };
        let md5 = bs
            .children()
            .find(|c| {
                c.is_element()
                    && c.tag_name().name() == "checksum"
                    && c.attribute("checksumName")
                        .is_some_and(|n| n.eq_ignore_ascii_case("MD5"))
            })
            .and_then(|c| c.text())
            .map(|t| t.trim().to_ascii_lowercase());
        let rel = href.trim().trim_start_matches("./").to_string();
        if rel.is_empty() || rel.split('/').any(|p| p == "..") {
            return Err(ProductError::Bad {
                path: path.to_path_buf(),
                variable: "fileLocation href".into(),
                message: format!("{href:?} is not a path below the SAFE folder"),
            });
        }
        out.push(ManifestEntry {
            path: rel,
            size,
            md5,
        });
    }
    if out.is_empty() {
        return Err(missing(path, "dataObject/byteStream/fileLocation"));
    }
    Ok(out)
}

/// Where a product's files are: a `.SAFE` folder, or members of a zip read in place.
#[derive(Debug, Clone)]
pub enum Location {
    Folder(PathBuf),
    Zip {
        archive: PathBuf,
        members: Vec<zip::Member>,
        /// The SAFE root inside the archive (`X.SAFE/`, or empty).
        prefix: String,
    },
}

/// A product found on disk: where its files are and its two parsed metadata files.
#[derive(Debug, Clone)]
pub struct Product {
    pub location: Location,
    pub mtd_path: PathBuf,
    pub mtd: ProductMtd,
    pub tile_path: PathBuf,
    pub tile: TileMtd,
}

impl Location {
    /// The path GDAL opens for a file below the SAFE root, or an error naming the file when
    /// it is not there.
    pub fn file(&self, rel: &str, needed: &str) -> Result<PathBuf, ProductError> {
        match self {
            Location::Folder(root) => {
                let p = root.join(rel);
                if p.is_file() {
                    Ok(p)
                } else {
                    Err(ProductError::MissingPartner {
                        path: root.clone(),
                        needed: needed.to_string(),
                        looked_for: p.display().to_string(),
                    })
                }
            }
            Location::Zip {
                archive,
                members,
                prefix,
            } => {
                let name = format!("{prefix}{rel}");
                if members.iter().any(|m| m.name == name) {
                    Ok(zip::vsi_path(archive, &name))
                } else {
                    Err(ProductError::MissingPartner {
                        path: archive.clone(),
                        needed: needed.to_string(),
                        looked_for: format!("{name} in the archive"),
                    })
                }
            }
        }
    }

    /// Whether a file below the SAFE root is there.
    pub fn has(&self, rel: &str) -> bool {
        self.file(rel, "").is_ok()
    }

    /// The text of a file below the SAFE root, and the path that names it.
    fn text(&self, rel: &str, needed: &str) -> Result<(String, PathBuf), ProductError> {
        match self {
            Location::Folder(root) => {
                let p = self.file(rel, needed)?;
                let t = std::fs::read_to_string(&p).map_err(|e| ProductError::Open {
                    path: p.clone(),
                    format: "Sentinel-2 XML",
                    message: e.to_string(),
                })?;
                let _ = root;
                Ok((t, p))
            }
            Location::Zip {
                archive,
                members,
                prefix,
            } => {
                let name = format!("{prefix}{rel}");
                let m = members.iter().find(|m| m.name == name).ok_or_else(|| {
                    ProductError::MissingPartner {
                        path: archive.clone(),
                        needed: needed.to_string(),
                        looked_for: format!("{name} in the archive"),
                    }
                })?;
                let bytes = zip::read_member(archive, m)?;
                Ok((
                    String::from_utf8_lossy(&bytes).into_owned(),
                    zip::vsi_path(archive, &name),
                ))
            }
        }
    }
}

fn is_zip_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

/// The SAFE root folder of a path inside or at a product, and the product's level.
fn find_root(path: &Path) -> Option<(PathBuf, Level)> {
    let has = |d: &Path| -> Option<Level> {
        [Level::L1c, Level::L2a]
            .into_iter()
            .find(|l| d.join(l.metadata_name()).is_file())
    };
    if path.is_dir() {
        if let Some(l) = has(path) {
            return Some((path.to_path_buf(), l));
        }
        // A download folder holding one SAFE.
        let safes: Vec<PathBuf> = std::fs::read_dir(path)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir() && p.extension().is_some_and(|e| e == "SAFE"))
            .collect();
        if let [one] = &safes[..] {
            return has(one).map(|l| (one.clone(), l));
        }
        return None;
    }
    let name = path.file_name()?.to_str()?;
    let parent = path.parent().filter(|d| !d.as_os_str().is_empty())?;
    if name == "MTD_MSIL1C.xml" || name == "MTD_MSIL2A.xml" {
        return has(parent).map(|l| (parent.to_path_buf(), l));
    }
    if name == "MTD_TL.xml" {
        let root = parent.parent()?.parent()?;
        return has(root).map(|l| (root.to_path_buf(), l));
    }
    None
}

/// Finds the product `path` belongs to: its `.SAFE` folder (or a folder holding one SAFE), its
/// `.zip`, its `MTD_MSIL1C.xml`/`MTD_MSIL2A.xml`, or its tile's `MTD_TL.xml`; parses both
/// metadata files.
pub fn locate(path: &Path) -> Result<Product, ProductError> {
    let unknown = |message: String| ProductError::Unknown {
        path: path.to_path_buf(),
        message,
    };
    let (location, level) = if path.is_file() && (is_zip_name(path) || zip::looks_like_zip(path)) {
        let members = zip::members(path)?;
        let (prefix, level) = members
            .iter()
            .find_map(|m| {
                [Level::L1c, Level::L2a].into_iter().find_map(|l| {
                    let p = m.name.strip_suffix(l.metadata_name())?;
                    (p.is_empty() || (p.ends_with('/') && p.matches('/').count() == 1))
                        .then(|| (p.to_string(), l))
                })
            })
            .ok_or_else(|| {
                unknown("a zip without a Sentinel-2 MTD_MSIL1C.xml or MTD_MSIL2A.xml".into())
            })?;
        (
            Location::Zip {
                archive: path.to_path_buf(),
                members,
                prefix,
            },
            level,
        )
    } else {
        let (root, level) = find_root(path).ok_or_else(|| {
            unknown(
                "not a Sentinel-2 product (a .SAFE folder with MTD_MSIL1C.xml or \
                 MTD_MSIL2A.xml, its .zip, or one of those XML files)"
                    .into(),
            )
        })?;
        (Location::Folder(root), level)
    };
    let (text, mtd_path) = location.text(level.metadata_name(), "product metadata")?;
    let mtd = parse_product_mtd(&text, &mtd_path)?;
    if mtd.level != level {
        return Err(ProductError::Mismatch {
            path: mtd_path,
            other: PathBuf::from(level.metadata_name()),
            what: format!("its PROCESSING_LEVEL is {:?}", mtd.level),
        });
    }
    let granule = mtd.granule_dir().ok_or_else(|| ProductError::Bad {
        path: mtd_path.clone(),
        variable: "IMAGE_FILE".into(),
        message: "image files are not below GRANULE/<granule>/".into(),
    })?;
    let (text, tile_path) = location.text(&format!("{granule}/MTD_TL.xml"), "tile metadata")?;
    let tile = parse_tile_mtd(&text, &tile_path)?;
    // The name's tile and the tile metadata's must agree.
    if let Some(parts) = name_parts(&mtd.product_uri) {
        if !tile.tile_id.contains(&format!("_T{}_", parts.tile)) {
            return Err(ProductError::Mismatch {
                path: mtd_path,
                other: tile_path,
                what: format!(
                    "the product is of tile {} but TILE_ID is {}",
                    parts.tile, tile.tile_id
                ),
            });
        }
    }
    Ok(Product {
        location,
        mtd_path,
        mtd,
        tile_path,
        tile,
    })
}

/// A Sentinel-2 product read for the fire algorithm.
#[derive(Debug, Clone)]
pub struct Sentinel2Scene {
    /// Bands [`MSI_BANDS`] as reflectance (NaN fill) on the 20 m UTM grid; water from L2A's
    /// SCL when present.
    pub granule: Granule,
    pub mtd: ProductMtd,
    pub tile: TileMtd,
    /// 1 where the product's mask says cloud (`MSK_CLASSI` opaque or cirrus; SCL 8, 9, 10;
    /// `MSK_CLOUDS_B00.gml` opaque or cirrus polygons); `None` when the product has no cloud
    /// mask.
    pub cloud: Option<BandBuf<u8>>,
    /// 1 where the ground lies inside a detector footprint of B8A, B11 and B12 (`MSK_DETFOO`),
    /// 0 outside (those pixels are NaN in every band: no data, so neither fire-free land nor
    /// clear coverage); `None` when the product lists no footprint mask for these bands.
    pub footprint: Option<BandBuf<u8>>,
}

impl Sentinel2Scene {
    /// The sun's elevation at the tile centre, degrees (90° − mean zenith).
    pub fn sun_elevation_deg(&self) -> f64 {
        90.0 - self.tile.sun_zenith_deg
    }
}

fn raster_err(e: RasterError) -> ProductError {
    match e {
        RasterError::Open { path, message } | RasterError::NotRaster { path, message } => {
            ProductError::Open {
                path,
                format: "JPEG 2000",
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

fn memory(shape: (usize, usize), source: std::io::Error) -> ProductError {
    ProductError::Memory {
        rows: shape.0,
        cols: shape.1,
        source,
    }
}

/// Repeats each pixel of `src` `k × k` times (60 m onto the 20 m grid).
fn repeat<T: bytemuck::Pod + Send + Sync>(
    src: &BandBuf<T>,
    k: usize,
) -> Result<BandBuf<T>, ProductError> {
    use rayon::prelude::*;
    let (r, c) = src.shape();
    let shape = (r * k, c * k);
    let mut out = BandBuf::<T>::zeros(shape).map_err(|e| memory(shape, e))?;
    let s = src.as_slice();
    out.as_mut_slice()
        .par_chunks_mut(c * k)
        .enumerate()
        .for_each(|(row, o)| {
            let line = &s[(row / k) * c..][..c];
            for (i, v) in o.iter_mut().enumerate() {
                *v = line[i / k];
            }
        });
    Ok(out)
}

/// Reads a product (see [`locate`] for what `path` may be).
pub fn read(path: &Path) -> Result<Sentinel2Scene, ProductError> {
    let product = locate(path)?;
    read_product(&product)
}

/// Reads a located product: the seven bands on the 20 m grid, the cloud (and L2A water) mask.
pub fn read_product(product: &Product) -> Result<Sentinel2Scene, ProductError> {
    let (mtd, tile, loc) = (&product.mtd, &product.tile, &product.location);
    let shape = tile.sizes[&PIXEL_M];
    let transform = tile.transform_20m().expect("checked when parsed");
    // Every band's file first, so a missing one is reported before anything is read.
    let mut files = Vec::with_capacity(MSI_BANDS.len());
    for name in MSI_BANDS {
        let rel = mtd.image_file(name).ok_or_else(|| ProductError::Missing {
            path: product.mtd_path.clone(),
            what: "IMAGE_FILE of band",
            name: name.to_string(),
        })?;
        files.push(loc.file(&format!("{rel}.jp2"), &format!("band {name} file"))?);
    }
    let check = |p: &Path, h: &BandHeader, res: u32| -> Result<(), ProductError> {
        let want = tile
            .sizes
            .get(&res)
            .copied()
            .ok_or_else(|| ProductError::Missing {
                path: product.tile_path.clone(),
                what: "XML element",
                name: format!("Size resolution=\"{res}\""),
            })?;
        if h.shape != want {
            return Err(ProductError::Shape {
                path: p.to_path_buf(),
                variable: format!(
                    "raster size (MTD_TL.xml says {want:?} rows × columns at {res} m)"
                ),
                found: vec![h.shape.0, h.shape.1],
                expected: vec![want.0, want.1],
            });
        }
        Ok(())
    };
    // The three grids of MTD_TL.xml must be one tile.
    for (res, k) in [(10u32, 2.0f64), (60, 1.0 / 3.0)] {
        if let Some(&(r, c)) = tile.sizes.get(&res) {
            if (r as f64 - shape.0 as f64 * k).abs() > 0.5
                || (c as f64 - shape.1 as f64 * k).abs() > 0.5
            {
                return Err(ProductError::Bad {
                    path: product.tile_path.clone(),
                    variable: format!("Size resolution=\"{res}\""),
                    message: format!(
                        "{r} × {c} does not match the 20 m size {} × {}",
                        shape.0, shape.1
                    ),
                });
            }
        }
    }
    let mut georef: Option<GeoRef> = None;
    let mut bands = BTreeMap::new();
    let mut saturation = BTreeMap::new();
    for (name, p) in MSI_BANDS.iter().zip(&files) {
        let native = match mtd.level {
            Level::L1c => BAND_IDS[band_id(name).expect("an MSI band") as usize].1,
            Level::L2a => PIXEL_M,
        };
        let (h, dn) = if native < PIXEL_M {
            let k = (PIXEL_M / native) as usize;
            let (h, dn) = read_u16_binned(p, k, mtd.nodata, mtd.saturated).map_err(raster_err)?;
            check(p, &h, native)?;
            (h, dn)
        } else if native > PIXEL_M {
            let (h, dn) = read_band::<u16>(p, 1).map_err(raster_err)?;
            check(p, &h, native)?;
            (h, repeat(&dn, (native / PIXEL_M) as usize)?)
        } else {
            let (h, dn) = read_band::<u16>(p, 1).map_err(raster_err)?;
            check(p, &h, native)?;
            (h, dn)
        };
        if native == PIXEL_M && georef.is_none() {
            georef = h.georef.clone();
        }
        if dn.shape() != shape {
            return Err(ProductError::Shape {
                path: p.to_path_buf(),
                variable: "raster size on the 20 m grid".into(),
                found: vec![dn.shape().0, dn.shape().1],
                expected: vec![shape.0, shape.1],
            });
        }
        let id = band_id(name).expect("an MSI band");
        let offset = mtd.offsets.get(&id).copied().unwrap_or(0.0);
        let q = mtd.quantification;
        let max = ((mtd.saturated as f64 + offset) / q) as f32;
        let (nodata, sat) = (mtd.nodata, mtd.saturated);
        let mut out = BandBuf::<f32>::zeros(shape).map_err(|e| memory(shape, e))?;
        map_counts::<u8>(dn.as_slice(), None, out.as_mut_slice(), |d, _| {
            if d == nodata {
                f32::NAN
            } else if d == sat {
                max
            } else {
                ((d as f64 + offset) / q) as f32
            }
        });
        saturation.insert(name.to_string(), max);
        bands.insert(name.to_string(), out);
    }
    // The grid: MTD_TL.xml's, checked against the 20 m bands' own georeferencing.
    let Some(georef) = georef else {
        return Err(ProductError::Missing {
            path: files[4].clone(),
            what: "georeferencing",
            name: "GMLJP2 geotransform and CRS".into(),
        });
    };
    let off = georef
        .transform
        .iter()
        .zip(&transform)
        .any(|(a, b)| (a - b).abs() > 1e-3);
    if off {
        return Err(ProductError::Mismatch {
            path: product.tile_path.clone(),
            other: files[4].clone(),
            what: format!(
                "Geoposition at 20 m is {transform:?} but the band lies at {:?}",
                georef.transform
            ),
        });
    }
    // Where no detector of the fire bands saw the ground: no data, whatever the DN says.
    let footprint = read_footprint(product, shape)?;
    if let Some(fp) = &footprint {
        use rayon::prelude::*;
        for band in bands.values_mut() {
            band.as_mut_slice()
                .par_iter_mut()
                .zip(fp.as_slice().par_iter())
                .with_min_len(1 << 14)
                .for_each(|(v, &inside)| {
                    if inside == 0 {
                        *v = f32::NAN;
                    }
                });
        }
    }
    let (cloud, water) = read_masks(product, shape)?;
    let mut all_files = vec![product.mtd_path.clone(), product.tile_path.clone()];
    all_files.extend(files);
    Ok(Sentinel2Scene {
        granule: Granule {
            kind: ProductKind::Sentinel2,
            files: all_files,
            meta: SceneMeta {
                acq_time: Some(tile.sensing_time),
                satellite: Some(mtd.satellite_code()),
                sensor: Some("MSI".into()),
            },
            shape,
            bands,
            geometry: Geometry::Grid(georef),
            water,
            saturation,
        },
        mtd: mtd.clone(),
        tile: tile.clone(),
        cloud,
        footprint,
    })
}

/// The bands whose detector footprints bound the fire algorithm's data: its three 20 m bands
/// (the 10 m and 60 m bands' masks would cost a 10980² read for a few edge pixels).
pub const FOOTPRINT_BANDS: [&str; 3] = ["B8A", "B11", "B12"];

/// The largest detector index of a `MSK_DETFOO` raster (the MSI focal plane has 12 detector
/// modules per band).
pub const DETECTORS: u8 = 12;

/// Where the ground lies inside a detector footprint of every band of [`FOOTPRINT_BANDS`], on
/// the 20 m grid (1 inside, 0 outside), from the `MSK_DETFOO` masks `MTD_TL.xml` lists: from
/// baseline 04.00 a one-layer JP2 at the band's resolution whose value is the detector index
/// (1…12) and 0 where no detector saw the ground; before, GML polygons of type
/// `DETECTOR_FOOTPRINT` (`gml:id="detector_footprint-B12-07-0"`, one per detector), rasterised
/// by pixel centre ([`super::gml_mask`]). `None` when the tile lists no mask for these bands. A
/// listed mask that is not in the product, of another size, with an index above 12, in
/// another CRS, or unreadable is an error naming the file.
fn read_footprint(
    product: &Product,
    shape: (usize, usize),
) -> Result<Option<BandBuf<u8>>, ProductError> {
    use rayon::prelude::*;
    let (tile, loc) = (&product.tile, &product.location);
    let mut inside: Option<BandBuf<u8>> = None;
    for name in FOOTPRINT_BANDS {
        let id = band_id(name).expect("an MSI band");
        let Some(rel) = tile.detfoo.get(&id) else {
            continue;
        };
        let needed = format!("detector footprint mask of band {name} (MTD_TL.xml lists it)");
        let this: BandBuf<u8> = if rel.to_ascii_lowercase().ends_with(".gml") {
            use super::gml_mask;
            let (text, path) = loc.text(rel, &needed)?;
            let mask = gml_mask::parse(&text, &path)?;
            if let Some(epsg) = mask.epsg.filter(|&e| e != tile.epsg) {
                return Err(ProductError::Mismatch {
                    path,
                    other: product.tile_path.clone(),
                    what: format!(
                        "the footprints are in EPSG:{epsg} but the tile is in EPSG:{}",
                        tile.epsg
                    ),
                });
            }
            if !mask
                .features
                .iter()
                .all(|f| f.mask_type.eq_ignore_ascii_case("DETECTOR_FOOTPRINT"))
            {
                return Err(ProductError::Bad {
                    path,
                    variable: "eop:maskType".into(),
                    message: "a detector footprint mask holds features not of type \
                              DETECTOR_FOOTPRINT"
                        .into(),
                });
            }
            let grid = gml_mask::Grid {
                transform: tile.transform_20m().expect("checked when parsed"),
                shape,
            };
            let mut m = BandBuf::<u8>::zeros(shape).map_err(|e| memory(shape, e))?;
            gml_mask::rasterise(&mask, &["DETECTOR_FOOTPRINT"], grid, m.as_mut_slice());
            m
        } else {
            let p = loc.file(rel, &needed)?;
            let (h, m) = read_band::<u8>(&p, 1).map_err(raster_err)?;
            if h.shape != shape {
                return Err(ProductError::Shape {
                    path: p,
                    variable: format!("raster size (the 20 m grid of MTD_TL.xml, band {name})"),
                    found: vec![h.shape.0, h.shape.1],
                    expected: vec![shape.0, shape.1],
                });
            }
            if let Some(&v) = m.as_slice().par_iter().find_any(|&&v| v > DETECTORS) {
                return Err(ProductError::Bad {
                    path: p,
                    variable: "detector index".into(),
                    message: format!("{v} is not a detector (0 = none, 1…{DETECTORS})"),
                });
            }
            m
        };
        match inside.as_mut() {
            None => {
                let mut m = this;
                m.as_mut_slice()
                    .par_iter_mut()
                    .with_min_len(1 << 14)
                    .for_each(|v| *v = (*v != 0) as u8);
                inside = Some(m);
            }
            Some(acc) => acc
                .as_mut_slice()
                .par_iter_mut()
                .zip(this.as_slice().par_iter())
                .with_min_len(1 << 14)
                .for_each(|(a, &v)| *a &= (v != 0) as u8),
        }
    }
    Ok(inside)
}

/// SCL classes (L2A): water, cloud medium and high probability, thin cirrus.
pub mod scl {
    pub const NO_DATA: u8 = 0;
    pub const WATER: u8 = 6;
    pub const CLOUD_MEDIUM: u8 = 8;
    pub const CLOUD_HIGH: u8 = 9;
    pub const CIRRUS: u8 = 10;
}

type Masks = (Option<BandBuf<u8>>, Option<BandBuf<u8>>);

/// The cloud mask (and water, from L2A's SCL) on the 20 m grid, from what the baseline has.
fn read_masks(product: &Product, shape: (usize, usize)) -> Result<Masks, ProductError> {
    use rayon::prelude::*;
    let (mtd, tile, loc) = (&product.mtd, &product.tile, &product.location);
    if mtd.level == Level::L2a {
        if let Some(rel) = mtd
            .image_files
            .iter()
            .find(|f| f.ends_with("_SCL_20m"))
            .filter(|f| loc.has(&format!("{f}.jp2")))
        {
            let p = loc.file(&format!("{rel}.jp2"), "SCL")?;
            let (h, s) = read_band::<u8>(&p, 1).map_err(raster_err)?;
            if h.shape != shape {
                return Err(ProductError::Shape {
                    path: p,
                    variable: "raster size (the 20 m grid of MTD_TL.xml)".into(),
                    found: vec![h.shape.0, h.shape.1],
                    expected: vec![shape.0, shape.1],
                });
            }
            let mut cloud = BandBuf::<u8>::zeros(shape).map_err(|e| memory(shape, e))?;
            let mut water = cloud.clone();
            cloud
                .as_mut_slice()
                .par_iter_mut()
                .zip(water.as_mut_slice().par_iter_mut())
                .zip(s.as_slice().par_iter())
                .with_min_len(1 << 14)
                .for_each(|((c, w), &v)| {
                    *c = matches!(v, scl::CLOUD_MEDIUM | scl::CLOUD_HIGH | scl::CIRRUS) as u8;
                    *w = (v == scl::WATER) as u8;
                });
            return Ok((Some(cloud), Some(water)));
        }
    }
    let Some(rel) = tile
        .masks
        .get("MSK_CLASSI")
        .filter(|r| r.ends_with(".jp2") && loc.has(r))
    else {
        // Before baseline 04.00 the cloud mask is GML polygons (MSK_CLOUDS_B00.gml).
        return Ok((read_gml_clouds(product, shape)?, None));
    };
    let p = loc.file(rel, "MSK_CLASSI")?;
    let (h, opaque) = read_band::<u8>(&p, 1).map_err(raster_err)?;
    let (_, cirrus) = read_band::<u8>(&p, 2).map_err(raster_err)?;
    let want = tile
        .sizes
        .get(&60)
        .copied()
        .unwrap_or((shape.0 / 3, shape.1 / 3));
    if h.shape != want || want.0 * 3 != shape.0 || want.1 * 3 != shape.1 {
        return Err(ProductError::Shape {
            path: p,
            variable: "raster size (MTD_TL.xml's 60 m grid)".into(),
            found: vec![h.shape.0, h.shape.1],
            expected: vec![want.0, want.1],
        });
    }
    let mut c60 = opaque;
    c60.as_mut_slice()
        .par_iter_mut()
        .zip(cirrus.as_slice().par_iter())
        .for_each(|(o, &c)| *o = (*o != 0 || c != 0) as u8);
    Ok((Some(repeat(&c60, 3)?), None))
}

/// The cloud mask of a product before baseline 04.00: `MSK_CLOUDS_B00.gml`'s `OPAQUE` and
/// `CIRRUS` polygons rasterised onto the 20 m grid (`gml_mask`); `None` when the tile metadata
/// names no such file or it is not in the product (cloud unknown). A mask in another CRS than
/// the tile's is refused naming both.
fn read_gml_clouds(
    product: &Product,
    shape: (usize, usize),
) -> Result<Option<BandBuf<u8>>, ProductError> {
    use super::gml_mask;
    let (tile, loc) = (&product.tile, &product.location);
    let Some(rel) = tile
        .masks
        .get("MSK_CLOUDS")
        .filter(|r| r.to_ascii_lowercase().ends_with(".gml") && loc.has(r))
    else {
        return Ok(None);
    };
    let (text, path) = loc.text(rel, "MSK_CLOUDS")?;
    let mask = gml_mask::parse(&text, &path)?;
    if let Some(epsg) = mask.epsg.filter(|&e| e != tile.epsg) {
        return Err(ProductError::Mismatch {
            path,
            other: product.tile_path.clone(),
            what: format!(
                "the mask's polygons are in EPSG:{epsg} but the tile is in EPSG:{}",
                tile.epsg
            ),
        });
    }
    let grid = gml_mask::Grid {
        transform: tile.transform_20m().expect("checked when parsed"),
        shape,
    };
    let mut cloud = BandBuf::<u8>::zeros(shape).map_err(|e| memory(shape, e))?;
    gml_mask::rasterise(&mask, &["OPAQUE", "CIRRUS"], grid, cloud.as_mut_slice());
    Ok(Some(cloud))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_names_are_recognised_and_others_are_not() {
        let p = name_parts("S2A_MSIL1C_20240610T030541_N0510_R075_T50SLH_20240610T052008.SAFE")
            .unwrap();
        assert_eq!(
            (
                p.mission.as_str(),
                p.level,
                p.baseline.as_str(),
                p.tile.as_str()
            ),
            ("S2A", Level::L1c, "05.10", "50SLH")
        );
        let z =
            name_parts("S2B_MSIL2A_20210610T030549_N0300_R075_T50SLH_20210610T061424.zip").unwrap();
        assert_eq!((z.level, z.baseline.as_str()), (Level::L2a, "03.00"));
        assert!(name_parts(
            "S2C_MSIL1C_20250610T030541_N0511_R075_T50SLH_20250610T052008.SAFE.zip"
        )
        .is_some());
        assert!(
            name_parts("S2A_MSIL1B_20240610T030541_N0510_R075_T50SLH_20240610T052008").is_none()
        );
        assert!(name_parts("LC08_L1TP_123032_20240610_20240620_02_T1").is_none());
        assert!(name_parts("S2A_MSIL1C_2024061_N0510_R075_T50SLH_20240610T052008.SAFE").is_none());
        assert_eq!(band_id("B8A"), Some(8));
        assert_eq!(band_id("B12"), Some(12));
        assert_eq!(baseline_number("04.00"), 400);
        assert!(baseline_number("03.01") < 400);
    }

    #[test]
    fn a_baseline_04_metadata_without_offsets_is_refused_by_name() {
        let xml = r#"<?xml version="1.0"?>
<n1:Level-1C_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-1C.xsd">
 <n1:General_Info><Product_Info>
  <PRODUCT_START_TIME>2024-06-10T03:05:41.024Z</PRODUCT_START_TIME>
  <PRODUCT_URI>S2A_MSIL1C_20240610T030541_N0510_R075_T50SLH_20240610T052008.SAFE</PRODUCT_URI>
  <PROCESSING_LEVEL>Level-1C</PROCESSING_LEVEL>
  <PROCESSING_BASELINE>05.10</PROCESSING_BASELINE>
  <Datatake><SPACECRAFT_NAME>Sentinel-2A</SPACECRAFT_NAME></Datatake>
  <Product_Organisation><Granule_List><Granule>
   <IMAGE_FILE>GRANULE/L1C_T50SLH_A1_20240610T031329/IMG_DATA/T50SLH_20240610T030541_B12</IMAGE_FILE>
  </Granule></Granule_List></Product_Organisation>
 </Product_Info>
 <Product_Image_Characteristics><QUANTIFICATION_VALUE unit="none">10000</QUANTIFICATION_VALUE>
 </Product_Image_Characteristics></n1:General_Info></n1:Level-1C_User_Product>"#;
        let err = parse_product_mtd(xml, Path::new("MTD_MSIL1C.xml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("RADIO_ADD_OFFSET") && err.contains("MTD_MSIL1C.xml"),
            "{err}"
        );
        let old = xml.replace("05.10", "02.09");
        let m = parse_product_mtd(&old, Path::new("MTD_MSIL1C.xml")).unwrap();
        assert_eq!(m.satellite_code(), "S2A");
        assert!(!m.baseline_04() && m.offsets.is_empty());
        assert_eq!(
            m.granule_dir().as_deref(),
            Some("GRANULE/L1C_T50SLH_A1_20240610T031329")
        );
        assert!(m.image_file("B12").is_some() && m.image_file("B11").is_none());
        let err = parse_product_mtd("<a><b></a>", Path::new("MTD_MSIL1C.xml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("XML"), "{err}");
    }

    #[test]
    fn the_manifest_lists_files_with_sizes_and_refuses_what_is_not_below_the_safe() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<xfdu:XFDU xmlns:xfdu="urn:ccsds:schema:xfdu:1"><dataObjectSection>
 <dataObject ID="IMG_DATA_Band_60m_1_Tile1_Data">
  <byteStream mimeType="application/octet-stream" size="3029379">
   <fileLocation locatorType="URL" href="./GRANULE/L1C_T29SPC_A021012_20190701T111753/IMG_DATA/T29SPC_20190701T110621_B01.jp2"/>
   <checksum checksumName="MD5">D300A617C7BC937B6C7E48309C88EAF7</checksum>
  </byteStream>
 </dataObject>
 <dataObject ID="S2_Level-1C_Product_Metadata">
  <byteStream mimeType="text/xml" size="54284"><fileLocation locatorType="URL" href="./MTD_MSIL1C.xml"/></byteStream>
 </dataObject>
</dataObjectSection></xfdu:XFDU>"#;
        let m = parse_manifest(xml, Path::new("manifest.safe")).unwrap();
        assert_eq!(m.len(), 2);
        assert!(m[0].path.starts_with("GRANULE/") && m[0].path.ends_with("_B01.jp2"));
        assert_eq!(m[0].size, Some(3029379));
        assert_eq!(
            m[0].md5.as_deref(),
            Some("d300a617c7bc937b6c7e48309c88eaf7")
        );
        assert_eq!(
            (m[1].path.as_str(), m[1].md5.as_deref()),
            ("MTD_MSIL1C.xml", None)
        );
        let bad = xml.replace("size=\"54284\"", "size=\"54k\"");
        let err = parse_manifest(&bad, Path::new("manifest.safe"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("MTD_MSIL1C.xml") && err.contains("54k"),
            "{err}"
        );
        let up = xml.replace("./MTD_MSIL1C.xml", "../MTD_MSIL1C.xml");
        assert!(parse_manifest(&up, Path::new("manifest.safe")).is_err());
        let none = "<xfdu:XFDU xmlns:xfdu=\"urn:ccsds:schema:xfdu:1\"/>";
        let err = parse_manifest(none, Path::new("manifest.safe"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("fileLocation"), "{err}");
    }
}
