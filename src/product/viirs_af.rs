//! The official VIIRS 375 m active-fire products as hotspot sources: NASA's `VNP14IMG` /
//! `VJ114IMG` / `VJ214IMG` (NetCDF-4) and CSPP's `AFIMG` (text and NetCDF), the fire lists a
//! direct-broadcast station or LANCE publishes for the same passes we scan.
//!
//! Each fire pixel becomes a [`Hotspot`] with the FIRMS fields, so everything that reads FIRMS
//! files (locate, rank, ingest, the inbox, the API) reads these too; [`read`] returns the same
//! [`Feed`] the FIRMS reader does (header, rows with their FIRMS text, row warnings).
//!
//! Where the fields come from (sources cited per product):
//! - **VNP14IMG** (all arrays at the root, HDF5 phony dimensions; the team's product-format notes (FORMATS.md) §3, NASA
//!   VIIRS 375 m & 750 m Active Fire Products User's Guide v1.4 §2.2): `FP_latitude`,
//!   `FP_longitude`, `FP_T4` → `bright_ti4`, `FP_T5` → `bright_ti5`, `FP_power` → `frp`,
//!   `FP_day` (1 day, 0 night) → `daynight`, `FP_line`/`FP_sample` → `row`/`col`, and `scan`/
//!   `track` from the I-band pixel size at `FP_sample` (`viirs_iband`). `FP_confidence` is the
//!   fire-mask class of the pixel, 7/8/9 = low/nominal/high (the mask classes as GEOS-ESM QFED
//!   `src/qfed/fire_products.py` lists them for VNP14IMG; albhasan/processactivefires
//!   `R/constants.R` reads fires as codes 7:9); a value outside 7–9 (the 750 m VNP14 stores a
//!   percentage there) falls back to the fire mask at (`FP_line`, `FP_sample`), else the row is
//!   skipped with a warning. Time from the `StartTime` global attribute
//!   (`YYYY-MM-DD HH:MM:SS.000`), satellite from `PlatformShortName`, both falling back to the
//!   file name (`VNP14IMG.AYYYYDDD.HHMM.CCC…`).
//! - **AFIMG text** (satpy `satpy/etc/readers/viirs_edr_active_fires.yaml`, `fires_text_img`):
//!   15 header rows, then `latitude, longitude, T4, Along-scan, Along-track, confidence_cat,
//!   power`; confidence 7/8/9 → l/n/h; time and satellite from the file name
//!   `AFIMG_{sat}_d{YYYYMMDD}_t{HHMMSSf}_e…`. No I5, no day/night column: `bright_ti5` is empty
//!   and day/night comes from the solar zenith at the fire's place and time.
//! - **AFIMG NetCDF** (same yaml, `fires_netcdf_img`, and its test): group `Fire Pixels` with
//!   `FP_latitude`, `FP_longitude`, `FP_T4`, `FP_power`, `FP_confidence` (7/8/9, fill 0); root
//!   attributes `satellite_name`, `instrument_name`; time from the file name. No pixel size is
//!   verified there, so `scan`/`track` are empty (locate then uses the nominal 375 m).
//!
//! The VNP14IMG `fire mask` also says what the pass saw: with its paired `VNP03IMG` geolocation
//! (named by the `VNP03IMG` global attribute, looked for beside the product or in its folder's
//! `done/`, where the inbox puts an L1B pair's geolocation) [`read`] samples it
//! into [`CoverageSample`]s like a scan of ours, so official products rank fairly. Without the
//! geolocation the hotspots still load and the coverage is unknown, with a warning.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::detect::ObservationSummary;
use crate::hotspot::read::{Feed, FeedRow, RowWarning};
use crate::hotspot::record::{Confidence, DayNight, Hotspot};
use crate::hotspot::write::{row_fields, VIIRS_HEADER};
use crate::rank::coverage::{grid_step, land_class, CoverageSample, MAX_SAMPLES};

/// Solar zenith angle below which a fire pixel without a day flag is a day detection (the
/// built-in VIIRS model's `night_sza_deg`, so day/night agrees with our own detections).
const DAY_MAX_SZA_DEG: f64 = 90.0;

/// Which official product a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FireProductKind {
    /// NASA `VNP14IMG` / `VJ114IMG` / `VJ214IMG`, NetCDF-4.
    Vnp14Img,
    /// CSPP `AFIMG_….txt`.
    AfimgText,
    /// CSPP `AFIMG_….nc`.
    AfimgNetcdf,
    /// NASA `MOD14` / `MYD14`, HDF4 (`product::modis_af`; not named by [`identify`], which
    /// names the VIIRS products).
    Mod14,
}

impl FireProductKind {
    pub fn name(&self) -> &'static str {
        match self {
            FireProductKind::Vnp14Img => "VNP14IMG",
            FireProductKind::AfimgText => "AFIMG text",
            FireProductKind::AfimgNetcdf => "AFIMG NetCDF",
            FireProductKind::Mod14 => "MOD14",
        }
    }

    /// The instrument of the product's fires.
    pub fn sensor(&self) -> &'static str {
        match self {
            FireProductKind::Mod14 => "MODIS",
            _ => "VIIRS",
        }
    }
}

/// The official product a file name announces, if any (`VNP14IMG…nc`, `VJ114IMG…nc`,
/// `VJ214IMG…nc`, `AFIMG_….txt`, `AFIMG_….nc`; case-insensitive).
pub fn identify(path: &Path) -> Option<FireProductKind> {
    let name = path.file_name()?.to_str()?.to_ascii_uppercase();
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    if ["VNP14IMG", "VJ114IMG", "VJ214IMG"]
        .iter()
        .any(|p| name.starts_with(p))
        && ext == "nc"
    {
        return Some(FireProductKind::Vnp14Img);
    }
    if name.starts_with("AFIMG_") {
        return match ext.as_str() {
            "txt" => Some(FireProductKind::AfimgText),
            "nc" => Some(FireProductKind::AfimgNetcdf),
            _ => None,
        };
    }
    None
}

/// Why an official product cannot be read at all (a bad fire pixel is a row warning instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FireProductError {
    #[error("{path}: cannot read")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The NetCDF library refused the file or a variable.
    #[error("{path}: {what}")]
    NetCdf {
        path: PathBuf,
        what: String,
        #[source]
        source: netcdf::Error,
    },
    /// A variable or group the product must have is not there.
    #[error("{path}: no variable `{variable}`; is this a {product} file?")]
    MissingVariable {
        path: PathBuf,
        variable: String,
        product: &'static str,
    },
    /// The fire-pixel arrays disagree in length.
    #[error("{path}: `{variable}` has {len} values where `{reference}` has {expected}")]
    Length {
        path: PathBuf,
        variable: String,
        len: usize,
        reference: &'static str,
        expected: usize,
    },
    /// Time or satellite found neither in the attributes nor in the file name.
    #[error("{path}: {message}")]
    Metadata { path: PathBuf, message: String },
    /// Not a file name of an official fire product.
    #[error("{path}: not an official fire product name (VNP14IMG…nc, VJ114IMG…nc, AFIMG_….txt, AFIMG_….nc)")]
    UnknownProduct { path: PathBuf },
}

/// A granule-wide fact of the product.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductMeta {
    pub kind: FireProductKind,
    /// Granule start, UTC (the hotspots' `acq_time`).
    pub start: DateTime<Utc>,
    /// FIRMS satellite code: `N`, `N20`, `N21`.
    pub satellite: String,
    /// FIRMS `version` written on each hotspot.
    pub version: String,
}

/// What the fire mask says the pass saw, with the mask's geolocation.
#[derive(Debug, Clone)]
pub struct MaskCoverage {
    /// (lines, pixels) of the fire mask.
    pub shape: (usize, usize),
    /// Pixels per class over the whole mask.
    pub summary: ObservationSummary,
    /// Land pixels on a regular grid (≤ [`MAX_SAMPLES`]) with whether each was seen clear.
    pub samples: Vec<CoverageSample>,
    /// The geolocation file the positions came from.
    pub geolocation: PathBuf,
}

/// One official product, read.
#[derive(Debug, Clone)]
pub struct FireProduct {
    pub meta: ProductMeta,
    /// The fire pixels as a FIRMS feed (header [`VIIRS_HEADER`]).
    pub feed: Feed,
    /// The fire mask's coverage; `None` when the product has no mask (AFIMG) or its
    /// geolocation could not be read (see `warnings`).
    pub coverage: Option<MaskCoverage>,
    /// Granule-level warnings (missing geolocation, ...), one line each.
    pub warnings: Vec<String>,
}

/// Reads an official fire product, chosen by its file name ([`identify`]).
pub fn read(path: &Path) -> Result<FireProduct, FireProductError> {
    match identify(path) {
        Some(FireProductKind::Vnp14Img) => read_vnp14img(path),
        Some(FireProductKind::AfimgText) => {
            let bytes = std::fs::read(path).map_err(|source| FireProductError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            read_afimg_text(path, &bytes)
        }
        Some(FireProductKind::AfimgNetcdf) => read_afimg_netcdf(path),
        Some(FireProductKind::Mod14) | None => Err(FireProductError::UnknownProduct {
            path: path.to_path_buf(),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// File names.

/// `AFIMG_{sat}_d{YYYYMMDD}_t{HHMMSSf}_…` → (start, FIRMS satellite) (satpy's file pattern).
pub fn afimg_name_meta(path: &Path) -> Result<(DateTime<Utc>, String), FireProductError> {
    let bad = |message: String| FireProductError::Metadata {
        path: path.to_path_buf(),
        message,
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let parts: Vec<&str> = name.split('_').collect();
    if parts.len() < 4 {
        return Err(bad(format!(
            "file name `{name}` is not AFIMG_{{sat}}_d{{YYYYMMDD}}_t{{HHMMSSf}}_…"
        )));
    }
    let satellite = firms_satellite(parts[1]).ok_or_else(|| {
        bad(format!(
            "satellite `{}` in the file name is not npp, j01 or j02",
            parts[1]
        ))
    })?;
    let date = parts[2]
        .strip_prefix('d')
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok())
        .ok_or_else(|| bad(format!("`{}` in the file name is not dYYYYMMDD", parts[2])))?;
    let t = parts[3]
        .strip_prefix('t')
        .filter(|t| t.len() >= 6 && t.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| bad(format!("`{}` in the file name is not tHHMMSSf", parts[3])))?;
    let hms = |i: usize| t[i..i + 2].parse::<u32>().unwrap_or(99);
    let tenths = t[6..]
        .chars()
        .next()
        .and_then(|c| c.to_digit(10))
        .unwrap_or(0);
    let time = chrono::NaiveTime::from_hms_milli_opt(hms(0), hms(2), hms(4), tenths * 100)
        .ok_or_else(|| bad(format!("`{}` in the file name is not a time", parts[3])))?;
    Ok((Utc.from_utc_datetime(&date.and_time(time)), satellite))
}

/// A satellite as products name it (`npp`, `j01`, `NPP`, `Suomi-NPP`, `JPSS-1`, `NOAA-20`, ...)
/// → the FIRMS code.
pub fn firms_satellite(s: &str) -> Option<String> {
    let s = s.trim().to_ascii_uppercase().replace([' ', '_'], "-");
    let code = if s.contains("NPP") {
        "N"
    } else if matches!(
        s.as_str(),
        "J01" | "J1" | "JPSS-1" | "NOAA-20" | "NOAA20" | "N20"
    ) {
        "N20"
    } else if matches!(
        s.as_str(),
        "J02" | "J2" | "JPSS-2" | "NOAA-21" | "NOAA21" | "N21"
    ) {
        "N21"
    } else {
        return None;
    };
    Some(code.to_string())
}

/// `VNP14IMG[_NRT].AYYYYDDD.HHMM.CCC[.production].nc` → (start, satellite, FIRMS version).
fn vnp14_name_meta(path: &Path) -> (Option<DateTime<Utc>>, Option<String>, String) {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_ascii_uppercase();
    let satellite = match &name[..name.len().min(3)] {
        "VNP" => Some("N".to_string()),
        "VJ1" => Some("N20".to_string()),
        "VJ2" => Some("N21".to_string()),
        _ => None,
    };
    let parts: Vec<&str> = name.split('.').collect();
    let start = parts.get(1).zip(parts.get(2)).and_then(|(a, hm)| {
        let a = a.strip_prefix('A')?;
        let year: i32 = a.get(..4)?.parse().ok()?;
        let doy: u32 = a.get(4..7)?.parse().ok()?;
        let date = NaiveDate::from_yo_opt(year, doy)?;
        let time = chrono::NaiveTime::parse_from_str(hm, "%H%M").ok()?;
        Some(Utc.from_utc_datetime(&date.and_time(time)))
    });
    let collection = parts
        .get(3)
        .and_then(|c| c.parse::<u32>().ok())
        .map(|c| c.to_string())
        .unwrap_or_default();
    let nrt = name.contains("_NRT");
    let version = match (collection.is_empty(), nrt) {
        (true, true) => "NRT".to_string(),
        (true, false) => String::new(),
        (false, true) => format!("{collection}.0NRT"),
        (false, false) => collection,
    };
    (start, satellite, version)
}

// ---------------------------------------------------------------------------------------------
// AFIMG text.

/// Header rows of a CSPP AFIMG text file (satpy `skip_rows: 15`).
pub const AFIMG_TEXT_HEADER_ROWS: usize = 15;

/// Reads a CSPP AFIMG text file from bytes; `path` gives the name (time, satellite) and
/// names the file in messages.
pub fn read_afimg_text(path: &Path, bytes: &[u8]) -> Result<FireProduct, FireProductError> {
    let (start, satellite) = afimg_name_meta(path)?;
    let meta = ProductMeta {
        kind: FireProductKind::AfimgText,
        start,
        satellite,
        version: "AFIMG".into(),
    };
    let text = String::from_utf8_lossy(bytes);
    let mut rows = Vec::new();
    let mut warnings = Vec::new();
    const COLUMNS: [&str; 7] = [
        "latitude",
        "longitude",
        "T4",
        "Along-scan",
        "Along-track",
        "confidence_cat",
        "power",
    ];
    for (i, line) in text.lines().enumerate() {
        let line_no = (i + 1) as u64;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let warn = |field: Option<&str>, message: String| RowWarning {
            path: path.to_path_buf(),
            unit: "line",
            line: line_no,
            field: field.map(String::from),
            message,
        };
        let cells: Vec<&str> = trimmed.split(',').map(str::trim).collect();
        if cells.len() != COLUMNS.len() {
            // Inside the header block a line that is not a fire is header text (satpy skips the
            // first 15 rows whatever they hold).
            if i < AFIMG_TEXT_HEADER_ROWS {
                continue;
            }
            warnings.push(warn(
                None,
                format!("{} fields where an AFIMG row has 7", cells.len()),
            ));
            continue;
        }
        let mut values = [0f64; 7];
        let mut bad = None;
        for (k, cell) in cells.iter().enumerate() {
            match cell.parse::<f64>() {
                Ok(v) if v.is_finite() => values[k] = v,
                _ => {
                    bad = Some(k);
                    break;
                }
            }
        }
        if let Some(k) = bad {
            if i >= AFIMG_TEXT_HEADER_ROWS {
                warnings.push(warn(
                    Some(COLUMNS[k]),
                    format!("`{}` is not a number", cells[k]),
                ));
            }
            continue;
        }
        let [lat, lon, t4, along_scan, along_track, conf, power] = values;
        let hotspot = match fire_hotspot(
            &meta,
            FirePixel {
                lat,
                lon,
                t4,
                t5: f64::NAN,
                frp: power,
                scan_km: along_scan,
                track_km: along_track,
                confidence: conf,
                day: None,
                row: None,
                col: None,
            },
        ) {
            Ok(h) => h,
            Err((k, message)) => {
                warnings.push(warn(Some(afimg_text_column(k)), message));
                continue;
            }
        };
        rows.push(FeedRow {
            fields: row_fields(&hotspot).to_vec().into(),
            hotspot,
            line: line_no,
        });
    }
    Ok(FireProduct {
        meta,
        feed: feed(path, rows, warnings),
        coverage: None,
        warnings: Vec::new(),
    })
}

fn afimg_text_column(field: Field) -> &'static str {
    match field {
        Field::Lat => "latitude",
        Field::Lon => "longitude",
        Field::Confidence => "confidence_cat",
    }
}

fn feed(path: &Path, rows: Vec<FeedRow>, warnings: Vec<RowWarning>) -> Feed {
    Feed {
        path: path.to_path_buf(),
        header: VIIRS_HEADER.iter().map(|s| s.to_string()).collect(),
        rows,
        warnings,
    }
}

// ---------------------------------------------------------------------------------------------
// One fire pixel → a hotspot.

struct FirePixel {
    lat: f64,
    lon: f64,
    t4: f64,
    t5: f64,
    frp: f64,
    scan_km: f64,
    track_km: f64,
    /// 7/8/9.
    confidence: f64,
    /// `FP_day`, when the product has it.
    day: Option<bool>,
    row: Option<usize>,
    col: Option<usize>,
}

/// The field a fire pixel is refused for.
#[derive(Debug, Clone, Copy)]
enum Field {
    Lat,
    Lon,
    Confidence,
}

fn fire_hotspot(meta: &ProductMeta, p: FirePixel) -> Result<Hotspot, (Field, String)> {
    if !(-90.0..=90.0).contains(&p.lat) {
        return Err((Field::Lat, format!("{} is outside -90..90", p.lat)));
    }
    if !(-180.0..=180.0).contains(&p.lon) {
        return Err((Field::Lon, format!("{} is outside -180..180", p.lon)));
    }
    let confidence = confidence_class(p.confidence).ok_or_else(|| {
        (
            Field::Confidence,
            format!(
                "{} is not a confidence class (7 low, 8 nominal, 9 high)",
                p.confidence
            ),
        )
    })?;
    let daynight = match p.day {
        Some(true) => DayNight::Day,
        Some(false) => DayNight::Night,
        None => {
            let (sza, _) =
                crate::synth::geo::SolarEphemeris::at(meta.start).zenith_azimuth_deg(p.lon, p.lat);
            if sza < DAY_MAX_SZA_DEG {
                DayNight::Day
            } else {
                DayNight::Night
            }
        }
    };
    let known = |v: f64| v.is_finite().then_some(v);
    Ok(Hotspot {
        latitude: p.lat,
        longitude: p.lon,
        bt_mir_k: known(p.t4),
        bt_tir_k: known(p.t5),
        scan_km: known(p.scan_km),
        track_km: known(p.track_km),
        acq_time: meta.start,
        satellite: meta.satellite.clone(),
        instrument: "VIIRS".into(),
        confidence,
        version: meta.version.clone(),
        frp_mw: known(p.frp),
        daynight,
        fire_type: None,
        row: p.row,
        col: p.col,
    })
}

/// Fire-mask class 7/8/9 → l/n/h.
pub fn confidence_class(v: f64) -> Option<Confidence> {
    match v {
        7.0 => Some(Confidence::Low),
        8.0 => Some(Confidence::Nominal),
        9.0 => Some(Confidence::High),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// NetCDF products.

fn open_nc(path: &Path) -> Result<netcdf::File, FireProductError> {
    netcdf::open(path).map_err(|source| FireProductError::NetCdf {
        path: path.to_path_buf(),
        what: "cannot open as NetCDF-4".into(),
        source,
    })
}

/// Reads a numeric 1-D (or N×1) variable as f64 values.
fn values(
    path: &Path,
    var: Option<netcdf::Variable<'_>>,
    name: &str,
    product: &'static str,
) -> Result<Vec<f64>, FireProductError> {
    let var = var.ok_or_else(|| FireProductError::MissingVariable {
        path: path.to_path_buf(),
        variable: name.to_string(),
        product,
    })?;
    var.get_values::<f64, _>(..)
        .map_err(|source| FireProductError::NetCdf {
            path: path.to_path_buf(),
            what: format!("cannot read `{name}`"),
            source,
        })
}

fn check_len(
    path: &Path,
    name: &str,
    v: &[f64],
    expected: usize,
    reference: &'static str,
) -> Result<(), FireProductError> {
    if v.len() != expected {
        return Err(FireProductError::Length {
            path: path.to_path_buf(),
            variable: name.to_string(),
            len: v.len(),
            reference,
            expected,
        });
    }
    Ok(())
}

fn text_attribute(attr: Option<netcdf::Attribute<'_>>) -> Option<String> {
    match attr?.value().ok()? {
        netcdf::AttributeValue::Str(s) => Some(s),
        netcdf::AttributeValue::Strs(v) => v.into_iter().next(),
        _ => None,
    }
}

/// Reads a CSPP AFIMG NetCDF file (group `Fire Pixels`).
pub fn read_afimg_netcdf(path: &Path) -> Result<FireProduct, FireProductError> {
    const PRODUCT: &str = "AFIMG NetCDF";
    let (start, name_sat) = afimg_name_meta(path)?;
    let file = open_nc(path)?;
    let satellite = text_attribute(file.attribute("satellite_name"))
        .and_then(|s| firms_satellite(&s))
        .unwrap_or(name_sat);
    let meta = ProductMeta {
        kind: FireProductKind::AfimgNetcdf,
        start,
        satellite,
        version: "AFIMG".into(),
    };
    let group = file
        .group("Fire Pixels")
        .map_err(|source| FireProductError::NetCdf {
            path: path.to_path_buf(),
            what: "cannot open group `Fire Pixels`".into(),
            source,
        })?
        .ok_or_else(|| FireProductError::MissingVariable {
            path: path.to_path_buf(),
            variable: "Fire Pixels".into(),
            product: PRODUCT,
        })?;
    let get = |name: &str| values(path, group.variable(name), name, PRODUCT);
    let lat = get("FP_latitude")?;
    let n = lat.len();
    let lon = get("FP_longitude")?;
    check_len(path, "FP_longitude", &lon, n, "FP_latitude")?;
    let t4 = get("FP_T4")?;
    check_len(path, "FP_T4", &t4, n, "FP_latitude")?;
    let power = get("FP_power")?;
    check_len(path, "FP_power", &power, n, "FP_latitude")?;
    let conf = get("FP_confidence")?;
    check_len(path, "FP_confidence", &conf, n, "FP_latitude")?;
    let mut rows = Vec::with_capacity(n);
    let mut warnings = Vec::new();
    for i in 0..n {
        let pixel = FirePixel {
            lat: lat[i],
            lon: lon[i],
            t4: t4[i],
            t5: f64::NAN,
            frp: power[i],
            scan_km: f64::NAN,
            track_km: f64::NAN,
            confidence: conf[i],
            day: None,
            row: None,
            col: None,
        };
        push_pixel(path, &meta, pixel, i, &mut rows, &mut warnings);
    }
    Ok(FireProduct {
        meta,
        feed: feed(path, rows, warnings),
        coverage: None,
        warnings: Vec::new(),
    })
}

fn nc_field(field: Field) -> &'static str {
    match field {
        Field::Lat => "FP_latitude",
        Field::Lon => "FP_longitude",
        Field::Confidence => "FP_confidence",
    }
}

fn push_pixel(
    path: &Path,
    meta: &ProductMeta,
    pixel: FirePixel,
    i: usize,
    rows: &mut Vec<FeedRow>,
    warnings: &mut Vec<RowWarning>,
) {
    match fire_hotspot(meta, pixel) {
        Ok(hotspot) => rows.push(FeedRow {
            fields: row_fields(&hotspot).to_vec().into(),
            hotspot,
            line: (i + 1) as u64,
        }),
        Err((field, message)) => warnings.push(RowWarning {
            path: path.to_path_buf(),
            unit: "fire pixel",
            line: (i + 1) as u64,
            field: Some(nc_field(field).to_string()),
            message,
        }),
    }
}

/// Reads a NASA VNP14IMG / VJ114IMG / VJ214IMG file, and the coverage of its fire mask when its
/// `VNP03IMG` geolocation lies beside it.
pub fn read_vnp14img(path: &Path) -> Result<FireProduct, FireProductError> {
    const PRODUCT: &str = "VNP14IMG";
    let (name_start, name_sat, version) = vnp14_name_meta(path);
    let file = open_nc(path)?;
    let meta_err = |message: String| FireProductError::Metadata {
        path: path.to_path_buf(),
        message,
    };
    let start = match text_attribute(file.attribute("StartTime")) {
        Some(s) => Some(parse_start_time(&s).ok_or_else(|| {
            meta_err(format!(
                "`StartTime` attribute `{s}` is not YYYY-MM-DD HH:MM:SS.sss"
            ))
        })?),
        None => name_start,
    }
    .ok_or_else(|| {
        meta_err("no `StartTime` attribute and no AYYYYDDD.HHMM in the file name".into())
    })?;
    let satellite = text_attribute(file.attribute("PlatformShortName"))
        .and_then(|s| firms_satellite(&s))
        .or(name_sat)
        .ok_or_else(|| {
            meta_err("no `PlatformShortName` attribute naming NPP, JPSS-1 or JPSS-2".into())
        })?;
    let meta = ProductMeta {
        kind: FireProductKind::Vnp14Img,
        start,
        satellite,
        version,
    };
    let get = |name: &str| values(path, file.variable(name), name, PRODUCT);
    let lat = get("FP_latitude")?;
    let n = lat.len();
    let mut arrays = Vec::new();
    for name in [
        "FP_longitude",
        "FP_T4",
        "FP_T5",
        "FP_power",
        "FP_confidence",
        "FP_day",
        "FP_line",
        "FP_sample",
    ] {
        let v = get(name)?;
        check_len(path, name, &v, n, "FP_latitude")?;
        arrays.push(v);
    }
    let [lon, t4, t5, power, conf, day, line, sample]: [Vec<f64>; 8] =
        arrays.try_into().expect("eight arrays");
    let mask = read_fire_mask(path, &file)?;
    let mut rows = Vec::with_capacity(n);
    let mut warnings = Vec::new();
    for i in 0..n {
        let (r, c) = (line[i], sample[i]);
        let index = |v: f64| (v >= 0.0 && v.fract() == 0.0).then_some(v as usize);
        let (row, col) = (index(r), index(c));
        let (scan_km, track_km) = match col {
            Some(s) => super::viirs_iband::pixel_size_km(s),
            None => (f64::NAN, f64::NAN),
        };
        // FP_confidence is the mask class; a value that is not (the 750 m product's
        // percentage) is taken from the mask itself.
        let mut confidence = conf[i];
        if confidence_class(confidence).is_none() {
            if let (Some(m), Some(r), Some(c)) = (&mask, row, col) {
                if r < m.1 .0 && c < m.1 .1 {
                    confidence = f64::from(m.0[r * m.1 .1 + c]);
                }
            }
        }
        let pixel = FirePixel {
            lat: lat[i],
            lon: lon[i],
            t4: t4[i],
            t5: t5[i],
            frp: power[i],
            scan_km,
            track_km,
            confidence,
            day: Some(day[i] != 0.0),
            row,
            col,
        };
        push_pixel(path, &meta, pixel, i, &mut rows, &mut warnings);
    }
    let mut product_warnings = Vec::new();
    let coverage = match mask {
        None => {
            product_warnings.push(format!(
                "{}: no `fire mask`; coverage unknown",
                path.display()
            ));
            None
        }
        Some((mask, shape)) => match geolocation_beside(path, &file) {
            Err(message) => {
                product_warnings.push(format!("{}: {message}; coverage unknown", path.display()));
                None
            }
            Ok(geo) => match mask_coverage(&mask, shape, &geo, &file) {
                Ok(c) => Some(c),
                Err(e) => {
                    product_warnings.push(format!("{e}; coverage unknown"));
                    None
                }
            },
        },
    };
    Ok(FireProduct {
        meta,
        feed: feed(path, rows, warnings),
        coverage,
        warnings: product_warnings,
    })
}

/// `YYYY-MM-DD HH:MM:SS[.sss]` (VNP14IMG `StartTime`), UTC.
fn parse_start_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim().trim_end_matches('Z');
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| Utc.from_utc_datetime(&t))
}

type Mask = (Vec<u8>, (usize, usize));

fn read_fire_mask(path: &Path, file: &netcdf::File) -> Result<Option<Mask>, FireProductError> {
    let Some(var) = file.variable("fire mask") else {
        return Ok(None);
    };
    let dims = var.dimensions();
    if dims.len() != 2 {
        return Err(FireProductError::Metadata {
            path: path.to_path_buf(),
            message: format!("`fire mask` has {} dimensions, not 2", dims.len()),
        });
    }
    let shape = (dims[0].len(), dims[1].len());
    let mask = var
        .get_values::<u8, _>(..)
        .map_err(|source| FireProductError::NetCdf {
            path: path.to_path_buf(),
            what: "cannot read `fire mask`".into(),
            source,
        })?;
    Ok(Some((mask, shape)))
}

/// The `VNP03IMG` geolocation of a VNP14IMG-family product, when it lies beside it (or in its
/// folder's `done/`): what [`read`] would place the fire mask with. Reads the product's
/// attributes only, not its variables, so a node queuing the product for a worker (#19) can
/// send its geolocation along without reading the granule. `None` for other kinds, a file
/// that cannot be opened, or a geolocation not there.
pub fn geolocation_of(path: &Path) -> Option<PathBuf> {
    if identify(path) != Some(FireProductKind::Vnp14Img) {
        return None;
    }
    let file = open_nc(path).ok()?;
    geolocation_beside(path, &file).ok()
}

/// The geolocation file the `VNP03IMG` attribute names, in the product's folder.
fn geolocation_beside(path: &Path, file: &netcdf::File) -> Result<PathBuf, String> {
    let name = text_attribute(file.attribute("VNP03IMG"))
        .ok_or_else(|| "no `VNP03IMG` attribute naming the geolocation file".to_string())?;
    // Some granules carry trailing text after the name (QFED trims at `.nc`).
    let name = match name.find(".nc") {
        Some(i) => name[..i + 3].to_string(),
        None => name,
    };
    let name = Path::new(name.trim())
        .file_name()
        .map(PathBuf::from)
        .ok_or_else(|| "an empty `VNP03IMG` attribute".to_string())?;
    let dir = path.parent().unwrap_or(Path::new("."));
    // Beside the product, or in the inbox's `done/` where its L1B pair's geolocation went.
    if let Some(geo) = [dir.join(&name), dir.join("done").join(&name)]
        .into_iter()
        .find(|g| g.is_file())
    {
        Ok(geo)
    } else {
        Err(format!(
            "its geolocation {} is not beside it",
            name.display()
        ))
    }
}

/// Samples the fire mask on a regular grid and places the samples with the geolocation's
/// latitude and longitude (read strided, not whole).
fn mask_coverage(
    mask: &[u8],
    (rows, cols): (usize, usize),
    geo: &Path,
    product: &netcdf::File,
) -> Result<MaskCoverage, FireProductError> {
    let geo_file = open_nc(geo)?;
    let group = geo_file
        .group("geolocation_data")
        .map_err(|source| FireProductError::NetCdf {
            path: geo.to_path_buf(),
            what: "cannot open group `geolocation_data`".into(),
            source,
        })?
        .ok_or_else(|| FireProductError::MissingVariable {
            path: geo.to_path_buf(),
            variable: "geolocation_data".into(),
            product: "VNP03IMG",
        })?;
    let k = grid_step(rows, cols, MAX_SAMPLES);
    let read = |name: &str| -> Result<Vec<f32>, FireProductError> {
        let var = group
            .variable(name)
            .ok_or_else(|| FireProductError::MissingVariable {
                path: geo.to_path_buf(),
                variable: format!("geolocation_data/{name}"),
                product: "VNP03IMG",
            })?;
        let dims: Vec<usize> = var.dimensions().iter().map(|d| d.len()).collect();
        if dims != [rows, cols] {
            return Err(FireProductError::Metadata {
                path: geo.to_path_buf(),
                message: format!(
                    "`geolocation_data/{name}` is {dims:?}, the fire mask {rows}×{cols}: not this granule's geolocation"
                ),
            });
        }
        // Explicit counts: netcdf 0.12's `From<StepBy<Range>>` drops the last element.
        let strided = |n: usize| netcdf::Extent::SliceCount {
            start: 0,
            count: n.div_ceil(k),
            stride: k as isize,
        };
        var.get_values::<f32, _>([strided(rows), strided(cols)])
            .map_err(|source| FireProductError::NetCdf {
                path: geo.to_path_buf(),
                what: format!("cannot read `geolocation_data/{name}`"),
                source,
            })
    };
    let lat = read("latitude")?;
    let lon = read("longitude")?;
    let sample_cols = cols.div_ceil(k);
    let mut samples = Vec::new();
    for (si, r) in (0..rows).step_by(k).enumerate() {
        for (sj, c) in (0..cols).step_by(k).enumerate() {
            let (la, lo) = (lat[si * sample_cols + sj], lon[si * sample_cols + sj]);
            // Geolocation fill is -999.9.
            if !(-90.0..=90.0).contains(&la) || !(-180.0..=180.0).contains(&lo) {
                continue;
            }
            if let Some(clear) = land_class(mask[r * cols + c]) {
                samples.push(CoverageSample {
                    lon: f64::from(lo),
                    lat: f64::from(la),
                    clear,
                });
            }
        }
    }
    let mut counts = [0u64; 10];
    for &m in mask {
        if let Some(c) = counts.get_mut(m as usize) {
            *c += 1;
        }
    }
    let flag = text_attribute(product.attribute("DayNightFlag")).unwrap_or_default();
    let total: u64 = counts.iter().sum();
    let (day, night) = match flag.to_ascii_lowercase().as_str() {
        "day" => (total, 0),
        "night" => (0, total),
        _ => (0, 0),
    };
    Ok(MaskCoverage {
        shape: (rows, cols),
        summary: ObservationSummary::from_counts(counts, day, night),
        samples,
        geolocation: geo.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_identify_products() {
        let id = |s: &str| identify(Path::new(s));
        assert_eq!(
            id("VNP14IMG.A2024160.0542.002.2024160123456.nc"),
            Some(FireProductKind::Vnp14Img)
        );
        assert_eq!(
            id("VJ114IMG_NRT.A2024160.0542.002.nc"),
            Some(FireProductKind::Vnp14Img)
        );
        assert_eq!(
            id("AFIMG_npp_d20240608_t0542123_e0543365_b65000_c20240608060000000000_cspp_dev.txt"),
            Some(FireProductKind::AfimgText)
        );
        assert_eq!(
            id("AFIMG_j01_d20240608_t0542123.nc"),
            Some(FireProductKind::AfimgNetcdf)
        );
        assert_eq!(id("VNP02IMG.A2024160.0542.002.nc"), None);
        assert_eq!(id("fires.csv"), None);
    }

    #[test]
    fn afimg_names_give_time_and_satellite() {
        let (t, sat) = afimg_name_meta(Path::new(
            "AFIMG_j01_d20240608_t0542123_e0543365_b33000_c20240608060000_cspp_dev.txt",
        ))
        .unwrap();
        assert_eq!(t.to_rfc3339(), "2024-06-08T05:42:12.300+00:00");
        assert_eq!(sat, "N20");
        let e = afimg_name_meta(Path::new("AFIMG_xyz_d20240608_t0542123.txt")).unwrap_err();
        assert!(e.to_string().contains("satellite `xyz`"), "{e}");
        let e = afimg_name_meta(Path::new("AFIMG_npp_d2024_t0542123.txt")).unwrap_err();
        assert!(e.to_string().contains("dYYYYMMDD"), "{e}");
    }

    #[test]
    fn vnp14_names_and_start_times() {
        let (t, sat, v) = vnp14_name_meta(Path::new("VJ114IMG.A2024160.0542.002.2024160123456.nc"));
        assert_eq!(t.unwrap().to_rfc3339(), "2024-06-08T05:42:00+00:00");
        assert_eq!((sat.as_deref(), v.as_str()), (Some("N20"), "2"));
        let (_, sat, v) = vnp14_name_meta(Path::new("VNP14IMG_NRT.A2024160.0542.002.nc"));
        assert_eq!((sat.as_deref(), v.as_str()), (Some("N"), "2.0NRT"));
        assert_eq!(
            parse_start_time("2024-06-08 05:42:00.000")
                .unwrap()
                .to_rfc3339(),
            "2024-06-08T05:42:00+00:00"
        );
        assert!(parse_start_time("08/06/2024").is_none());
    }

    #[test]
    fn satellites_map_to_firms_codes() {
        for (s, c) in [
            ("npp", "N"),
            ("Suomi-NPP", "N"),
            ("SUOMI NPP", "N"),
            ("j01", "N20"),
            ("JPSS-1", "N20"),
            ("NOAA-20", "N20"),
            ("j02", "N21"),
            ("NOAA-21", "N21"),
        ] {
            assert_eq!(firms_satellite(s).as_deref(), Some(c), "{s}");
        }
        assert_eq!(firms_satellite("Terra"), None);
    }

    const AFIMG_NAME: &str =
        "AFIMG_npp_d20240608_t0542123_e0543365_b65000_c20240608060000000000_cspp_dev.txt";

    fn header() -> String {
        (0..AFIMG_TEXT_HEADER_ROWS)
            .map(|i| format!("# header {i}\n"))
            .collect()
    }

    #[test]
    fn afimg_text_rows_become_hotspots_and_bad_rows_warnings() {
        let text = format!(
            "{}  34.51200104, 114.20500183, 339.51000977, 0.46, 0.39, 8, 6.43000031\n\
             34.60000000, 114.30000000, 367.00000000, 0.40, 0.38, 9, 25.5\n\
             34.70000000, 114.40000000, 320.0, 0.40, 0.38, 5, 2.0\n\
             34.80000000, abc, 320.0, 0.40, 0.38, 7, 2.0\n\
             34.9, 114.5, 330.0, 0.40, 0.38, 7\n",
            header()
        );
        let p = read_afimg_text(Path::new(AFIMG_NAME), text.as_bytes()).unwrap();
        assert_eq!(p.feed.rows.len(), 2);
        let h = &p.feed.rows[0].hotspot;
        assert_eq!(h.confidence, Confidence::Nominal);
        assert_eq!(h.satellite, "N");
        assert_eq!((h.scan_km, h.track_km), (Some(0.46), Some(0.39)));
        assert!((h.frp_mw.unwrap() - 6.43).abs() < 1e-6);
        assert!(h.bt_tir_k.is_none());
        // 05:42 UTC at 114° E in June: local afternoon.
        assert_eq!(h.daynight, DayNight::Day);
        assert_eq!(p.feed.rows[1].hotspot.confidence, Confidence::High);
        assert_eq!(p.feed.rows[0].line, 16);
        let w: Vec<String> = p.feed.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].contains("line 18, field `confidence_cat`"), "{}", w[0]);
        assert!(w[1].contains("line 19, field `longitude`"), "{}", w[1]);
        assert!(
            w[2].contains("line 20") && w[2].contains("6 fields"),
            "{}",
            w[2]
        );
        // The FIRMS text of a row reads back as the same hotspot.
        let csv = format!(
            "{}\n{}\n",
            VIIRS_HEADER.join(","),
            p.feed.rows[0].fields.join(",")
        );
        let back = crate::hotspot::read::read_csv(Path::new("x.csv"), csv.as_bytes()).unwrap();
        assert_eq!(back.rows[0].hotspot.confidence, Confidence::Nominal);
        assert_eq!(
            back.rows[0].hotspot.acq_time.format("%H%M").to_string(),
            "0542"
        );
    }

    #[test]
    fn afimg_text_with_no_fires_is_an_empty_feed() {
        let p = read_afimg_text(Path::new(AFIMG_NAME), header().as_bytes()).unwrap();
        assert!(p.feed.rows.is_empty() && p.feed.warnings.is_empty());
    }

    use crate::synth::official::{
        afimg_name, vnp03img_name, vnp14img_name, write_afimg_netcdf, write_vnp03img,
        write_vnp14img, OfficialGranule,
    };

    /// A 40 × 48 granule over Henan: lat/lon on a small grid, the mask clear land with a
    /// cloud block (rows 0–9) and water (rows 10–11), three fires.
    fn granule() -> (OfficialGranule, Vec<f32>, Vec<f32>) {
        let (lines, pixels) = (40usize, 48usize);
        let start = Utc.with_ymd_and_hms(2024, 6, 8, 5, 42, 0).unwrap();
        let mut mask = vec![5u8; lines * pixels];
        mask[..10 * pixels].fill(4);
        mask[10 * pixels..12 * pixels].fill(3);
        let mut lat = Vec::new();
        let mut lon = Vec::new();
        for r in 0..lines {
            for c in 0..pixels {
                lat.push(35.0 - r as f32 * 0.003);
                lon.push(114.0 + c as f32 * 0.004);
            }
        }
        let fire = |r: usize, c: usize, conf, frp| {
            let mut h = Hotspot::test_viirs(
                f64::from(lon[r * pixels + c]),
                f64::from(lat[r * pixels + c]),
                start,
            );
            h.row = Some(r);
            h.col = Some(c);
            h.confidence = conf;
            h.frp_mw = Some(frp);
            h.daynight = DayNight::Day;
            h
        };
        let mut g = OfficialGranule {
            start,
            satellite: "N20".into(),
            fires: vec![
                fire(20, 10, Confidence::Low, 2.5),
                fire(25, 30, Confidence::Nominal, 7.25),
                fire(30, 47, Confidence::High, 40.0),
            ],
            mask: Some((mask, (lines, pixels))),
            geolocation_name: String::new(),
        };
        g.geolocation_name = vnp03img_name(&g);
        (g, lat, lon)
    }

    #[test]
    fn vnp14img_fire_pixels_and_coverage_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let (g, lat, lon) = granule();
        let path = dir.path().join(vnp14img_name(&g));
        write_vnp14img(&path, &g).unwrap();
        write_vnp03img(
            &dir.path().join(vnp03img_name(&g)),
            &g,
            (40, 48),
            &lat,
            &lon,
        )
        .unwrap();
        let p = read(&path).unwrap();
        assert_eq!(p.meta.kind, FireProductKind::Vnp14Img);
        assert_eq!(
            (p.meta.satellite.as_str(), p.meta.version.as_str()),
            ("N20", "2")
        );
        assert_eq!(p.feed.rows.len(), 3);
        assert!(
            p.feed.warnings.is_empty() && p.warnings.is_empty(),
            "{:?}",
            p.warnings
        );
        let h: Vec<&Hotspot> = p.feed.rows.iter().map(|r| &r.hotspot).collect();
        assert_eq!(
            h.iter().map(|h| h.confidence).collect::<Vec<_>>(),
            [Confidence::Low, Confidence::Nominal, Confidence::High]
        );
        assert_eq!((h[1].row, h[1].col), (Some(25), Some(30)));
        assert!((h[1].frp_mw.unwrap() - 7.25).abs() < 1e-6);
        assert!((h[1].bt_tir_k.unwrap() - 290.0).abs() < 1e-4);
        assert_eq!(h[0].daynight, DayNight::Day);
        assert_eq!(h[0].acq_time, g.start);
        // Pixel size from the I-band geometry at FP_sample.
        let (scan, track) = super::super::viirs_iband::pixel_size_km(47);
        assert_eq!((h[2].scan_km, h[2].track_km), (Some(scan), Some(track)));
        let cov = p.coverage.expect("geolocation beside it");
        assert_eq!(cov.shape, (40, 48));
        // 10 cloud rows, 2 water rows, 28 clear rows (3 of their pixels fires).
        assert_eq!(cov.summary.cloud, 480);
        assert_eq!(cov.summary.water, 96);
        assert_eq!(cov.summary.clear_land, 28 * 48);
        assert_eq!(
            cov.summary.fire_low + cov.summary.fire_nominal + cov.summary.fire_high,
            3
        );
        // Every land pixel sampled (small granule: step 1); water is no land observation.
        assert_eq!(cov.samples.len(), 38 * 48);
        assert_eq!(cov.samples.iter().filter(|s| s.clear).count(), 28 * 48);
        assert!((cov.samples[0].lat - 35.0).abs() < 1e-6);
    }

    #[test]
    fn vnp14img_without_its_geolocation_loads_with_coverage_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let (g, _, _) = granule();
        let path = dir.path().join(vnp14img_name(&g));
        write_vnp14img(&path, &g).unwrap();
        let p = read(&path).unwrap();
        assert_eq!(p.feed.rows.len(), 3);
        assert!(p.coverage.is_none());
        assert_eq!(p.warnings.len(), 1);
        assert!(
            p.warnings[0].contains("VJ103IMG.A2024160.0542")
                && p.warnings[0].contains("coverage unknown"),
            "{}",
            p.warnings[0]
        );
    }

    #[test]
    fn vnp14img_missing_variable_and_bad_file_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let (g, _, _) = granule();
        let path = dir.path().join(vnp14img_name(&g));
        {
            let mut f = netcdf::create(&path).unwrap();
            f.add_dimension("phony_dim_0", 1).unwrap();
            let mut v = f
                .add_variable::<f32>("FP_latitude", &["phony_dim_0"])
                .unwrap();
            v.put_values(&[35.0f32], ..).unwrap();
        }
        let e = read(&path).unwrap_err().to_string();
        assert!(
            e.contains("no variable `FP_longitude`") && e.contains("VJ114IMG"),
            "{e}"
        );
        std::fs::write(&path, b"not a netcdf file").unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(
            e.contains("cannot open as NetCDF-4") && e.contains("VJ114IMG"),
            "{e}"
        );
    }

    #[test]
    fn afimg_netcdf_round_trips_and_skips_fill_confidence() {
        let dir = tempfile::tempdir().unwrap();
        let (mut g, _, _) = granule();
        g.fires[1].confidence = Confidence::Percent(0); // written as class 7
        let path = dir.path().join(afimg_name(&g, "nc"));
        write_afimg_netcdf(&path, &g).unwrap();
        let p = read(&path).unwrap();
        assert_eq!(p.meta.kind, FireProductKind::AfimgNetcdf);
        assert_eq!(p.meta.satellite, "N20");
        assert_eq!(p.feed.rows.len(), 3);
        let h = &p.feed.rows[2].hotspot;
        assert_eq!(h.confidence, Confidence::High);
        assert!((h.frp_mw.unwrap() - 40.0).abs() < 1e-6);
        assert!(h.scan_km.is_none() && h.row.is_none());
        // Through the FIRMS reader entry point too.
        let feed = crate::hotspot::read_hotspots(&path).unwrap();
        assert_eq!(feed.rows.len(), 3);
    }
}
