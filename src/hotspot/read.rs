//! Reading hotspot feeds: FIRMS CSV in every variant real files come in, and GeoJSON
//! FeatureCollections with the same properties.
//!
//! Real FIRMS files differ from the schema in ways analysts cannot fix upstream: archive VIIRS
//! downloads name their columns `brightness`/`bright_t31`; the country export adds
//! `country_id`; files resaved in Excel have `D/M/YYYY` or `M/D/YYYY` dates and times without
//! leading zeros (`56` = 00:56 UTC). The day/month order of a file is decided once for the whole
//! file: a component above 12 settles it; otherwise the order that gives the more compact date
//! range wins (a FIRMS download covers consecutive days, so `1/8 2/8 3/8` is 1–3 August,
//! not January to March). A malformed row becomes a warning naming file and line and is
//! skipped; the rest of the file is read.
//!
//! Each row keeps its original fields, so `strawfire locate` can write it back unchanged with
//! columns added. A plain file (no quotes: every FIRMS file) is split on every core without a
//! string per field ([`super::plain_csv`]); others go through the `csv` crate, with the same
//! rows, lines and warnings.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use rayon::prelude::*;

use super::fields::Fields;
use super::plain_csv;
use super::record::{Confidence, DayNight, Hotspot};

/// One row of a feed: the parsed record and its original fields.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRow {
    pub hotspot: Hotspot,
    /// 1-based line in a CSV file (header is line 1), or 1-based feature number in GeoJSON.
    pub line: u64,
    /// The original fields, in the order of [`Feed::header`].
    pub fields: Fields,
}

/// A row that was skipped, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RowWarning {
    pub path: PathBuf,
    /// `line` for CSV, `feature` for GeoJSON.
    pub unit: &'static str,
    pub line: u64,
    /// The offending column, when one is to blame.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for RowWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} {}", self.path.display(), self.unit, self.line)?;
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}; row skipped", self.message)
    }
}

/// A read feed.
#[derive(Debug, Clone)]
pub struct Feed {
    pub path: PathBuf,
    /// Original column names (GeoJSON: `latitude`, `longitude`, then the property names).
    pub header: Vec<String>,
    pub rows: Vec<FeedRow>,
    pub warnings: Vec<RowWarning>,
}

/// Why a whole feed cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file cannot be opened or read.
    #[error("{path}: cannot read")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The CSV structure is broken (e.g. invalid UTF-8 or unbalanced quotes).
    #[error("{path}: line {line}: broken CSV")]
    Csv {
        path: PathBuf,
        line: u64,
        #[source]
        source: csv::Error,
    },
    /// A column every hotspot needs is missing: is this a FIRMS file?
    #[error("{path}: no `{column}` column (header: {})", header.join(","))]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        header: Vec<String>,
    },
    /// Every date fits both D/M/YYYY and M/D/YYYY equally well.
    #[error("{path}: dates like `{example}` are ambiguous (D/M/YYYY or M/D/YYYY); resave with ISO dates (YYYY-MM-DD)")]
    AmbiguousDates { path: PathBuf, example: String },
    /// The GeoJSON is not valid JSON or not a FeatureCollection.
    #[error("{path}: not a GeoJSON FeatureCollection: {message}")]
    GeoJson { path: PathBuf, message: String },
    /// An official fire product (VNP14IMG, AFIMG) that cannot be read.
    #[error(transparent)]
    Product(Box<crate::product::viirs_af::FireProductError>),
    /// A MODIS MOD14/MYD14 fire product that cannot be read.
    #[error(transparent)]
    ModisProduct(Box<crate::product::ProductError>),
}

/// Reads a feed file: an official fire product when its name says so (`VNP14IMG…nc`,
/// `AFIMG_….txt|nc`, see `product::viirs_af`; `M?D14.…hdf`, `product::modis_af`), GeoJSON when the extension is `.geojson` or
/// `.json`, FIRMS CSV otherwise.
pub fn read_hotspots(path: &Path) -> Result<Feed, ReadError> {
    if crate::product::modis_af::identify(path) {
        return crate::product::modis_af::read(path)
            .map_err(|e| ReadError::ModisProduct(Box::new(e)));
    }
    if crate::product::viirs_af::identify(path).is_some() {
        let product =
            crate::product::viirs_af::read(path).map_err(|e| ReadError::Product(Box::new(e)))?;
        return Ok(product.feed);
    }
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let is_json = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("geojson") || e.eq_ignore_ascii_case("json"));
    if is_json {
        read_geojson(path, &bytes)
    } else {
        read_csv_text(path, Cow::Owned(bytes))
    }
}

/// Reads FIRMS CSV from bytes; `path` names the source in messages.
pub fn read_csv(path: &Path, bytes: &[u8]) -> Result<Feed, ReadError> {
    read_csv_text(path, Cow::Borrowed(bytes))
}

/// [`read_csv`], taking the bytes when they are owned (a plain file's rows keep the text).
fn read_csv_text(path: &Path, bytes: Cow<'_, [u8]>) -> Result<Feed, ReadError> {
    let start = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    if plain_csv::is_plain(&bytes[start..]) && std::str::from_utf8(&bytes).is_ok() {
        let text = match bytes {
            Cow::Owned(v) => String::from_utf8(v).expect("checked"),
            Cow::Borrowed(b) => std::str::from_utf8(b).expect("checked").to_string(),
        };
        let split = plain_csv::split(Arc::new(text), start).expect("checked plain");
        return parse_rows(path, "line", split.header, split.rows);
    }
    read_csv_reference(path, &bytes[start..])
}

/// Reads CSV with the `csv` crate (quoted fields, any line ends): the reference the plain
/// road is checked against.
fn read_csv_reference(path: &Path, bytes: &[u8]) -> Result<Feed, ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let csv_err = |source: csv::Error| ReadError::Csv {
        path: path.to_path_buf(),
        line: source.position().map(|p| p.line()).unwrap_or(0),
        source,
    };
    let header: Vec<String> = reader
        .headers()
        .map_err(csv_err)?
        .iter()
        .map(String::from)
        .collect();
    let mut raw = Vec::new();
    // The crate's position of a record is where the one before it ended: before any blank
    // lines, and in a CRLF file before its `\n`. The line an editor shows is after those.
    let (mut counted_to, mut newlines) = (0usize, 0u64);
    for record in reader.records() {
        let record = record.map_err(csv_err)?;
        let mut at = record.position().map_or(0, |p| p.byte() as usize);
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        if at >= counted_to {
            newlines += bytes[counted_to..at]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            counted_to = at;
        }
        let line = newlines + 1;
        raw.push((
            line,
            Fields::from(record.iter().map(String::from).collect::<Vec<_>>()),
        ));
    }
    parse_rows(path, "line", header, raw)
}

/// Reads a GeoJSON FeatureCollection of points with FIRMS properties.
pub fn read_geojson(path: &Path, bytes: &[u8]) -> Result<Feed, ReadError> {
    let bad = |message: String| ReadError::GeoJson {
        path: path.to_path_buf(),
        message,
    };
    let doc: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    let features = doc
        .get("features")
        .and_then(|f| f.as_array())
        .ok_or_else(|| bad("no `features` array".into()))?;
    let mut header = vec!["latitude".to_string(), "longitude".to_string()];
    for f in features {
        if let Some(props) = f.get("properties").and_then(|p| p.as_object()) {
            for k in props.keys() {
                if !header.contains(k) {
                    header.push(k.clone());
                }
            }
        }
    }
    // serde_json maps are sorted by key: put the FIRMS columns back in schema order.
    const FIRMS_ORDER: [&str; 18] = [
        "country_id",
        "latitude",
        "longitude",
        "bright_ti4",
        "brightness",
        "scan",
        "track",
        "acq_date",
        "acq_time",
        "satellite",
        "instrument",
        "confidence",
        "version",
        "bright_ti5",
        "bright_t31",
        "frp",
        "daynight",
        "type",
    ];
    header.sort_by_key(|k| {
        FIRMS_ORDER
            .iter()
            .position(|f| f == k)
            .unwrap_or(FIRMS_ORDER.len())
    });
    let (lat_col, lon_col) = (
        header
            .iter()
            .position(|h| h == "latitude")
            .expect("always there"),
        header
            .iter()
            .position(|h| h == "longitude")
            .expect("always there"),
    );
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    let mut raw = Vec::new();
    for (i, f) in features.iter().enumerate() {
        let props = f.get("properties").and_then(|p| p.as_object());
        let coords = f
            .get("geometry")
            .filter(|g| g.get("type").and_then(|t| t.as_str()) == Some("Point"))
            .and_then(|g| g.get("coordinates"))
            .and_then(|c| c.as_array());
        let mut fields: Vec<String> = header
            .iter()
            .map(|k| props.and_then(|p| p.get(k)).map(text).unwrap_or_default())
            .collect();
        // The geometry is the position; properties only fill in when there is none.
        if let Some(c) = coords.filter(|c| c.len() >= 2) {
            fields[lat_col] = text(&c[1]);
            fields[lon_col] = text(&c[0]);
        }
        raw.push(((i + 1) as u64, Fields::from(fields)));
    }
    parse_rows(path, "feature", header, raw)
}

/// The OLI pixel, km: the footprint of a FIRMS Landsat detection.
pub const OLI_PIXEL_KM: f64 = 0.03;

/// Column positions, resolved once per file.
struct Columns {
    lat: usize,
    lon: usize,
    date: usize,
    time: usize,
    bt_mir: Option<usize>,
    bt_tir: Option<usize>,
    scan: Option<usize>,
    track: Option<usize>,
    satellite: Option<usize>,
    instrument: Option<usize>,
    confidence: Option<usize>,
    version: Option<usize>,
    frp: Option<usize>,
    daynight: Option<usize>,
    fire_type: Option<usize>,
    row: Option<usize>,
    col: Option<usize>,
    /// `bright_ti4` present: VIIRS even without an `instrument` column.
    viirs_names: bool,
    /// FIRMS Landsat (`path` and `row` columns): `row` is the WRS-2 row, not a pixel index;
    /// `scan`/`track` are not pixel sizes; no `instrument` column (OLI).
    landsat: Option<LandsatColumns>,
}

/// The columns of FIRMS's Landsat 8/9 fire files (`LANDSAT_NRT`: `latitude, longitude, path,
/// row, scan, track, acq_date, acq_time, satellite, confidence, daynight`, the country export
/// with `country_id` first).
struct LandsatColumns {
    path: usize,
    row: usize,
}

impl Columns {
    fn find(path: &Path, header: &[String]) -> Result<Columns, ReadError> {
        let pos: HashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_ascii_lowercase(), i))
            .collect();
        let opt = |names: &[&str]| names.iter().find_map(|n| pos.get(*n).copied());
        // FIRMS Landsat: WRS-2 `path` and `row`, never in the other variants (ours write
        // `row,col` pixel indices, without `path`).
        let landsat = match (pos.get("path"), pos.get("row")) {
            (Some(&path), Some(&row)) if !pos.contains_key("col") => {
                Some(LandsatColumns { path, row })
            }
            _ => None,
        };
        let req = |names: &[&str], column: &'static str| {
            opt(names).ok_or_else(|| ReadError::MissingColumn {
                path: path.to_path_buf(),
                column,
                header: header.to_vec(),
            })
        };
        Ok(Columns {
            lat: req(&["latitude", "lat"], "latitude")?,
            lon: req(&["longitude", "lon", "lng"], "longitude")?,
            date: req(&["acq_date"], "acq_date")?,
            time: req(&["acq_time"], "acq_time")?,
            bt_mir: opt(&["bright_ti4", "brightness"]),
            bt_tir: opt(&["bright_ti5", "bright_t31"]),
            scan: opt(&["scan"]),
            track: opt(&["track"]),
            satellite: opt(&["satellite"]),
            instrument: opt(&["instrument"]),
            confidence: opt(&["confidence"]),
            version: opt(&["version"]),
            frp: opt(&["frp"]),
            daynight: opt(&["daynight"]),
            fire_type: opt(&["type"]),
            row: opt(&["row"]).filter(|_| landsat.is_none()),
            col: opt(&["col"]),
            viirs_names: pos.contains_key("bright_ti4"),
            landsat,
        })
    }
}

/// Day/month order of slash dates in one file.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SlashOrder {
    DayMonth,
    MonthDay,
}

fn slash_parts(s: &str) -> Option<(u32, u32, i32)> {
    let mut it = s.split('/');
    let a = it.next()?.trim().parse().ok()?;
    let b = it.next()?.trim().parse().ok()?;
    let y = it.next()?.trim().parse().ok()?;
    it.next().is_none().then_some((a, b, y))
}

/// Decides the order of slash dates for a file (see the module doc). `Ok(None)`: no slash dates.
fn slash_order(path: &Path, dates: &[&str]) -> Result<Option<SlashOrder>, ReadError> {
    let parts: Vec<(u32, u32, i32)> = dates.iter().filter_map(|d| slash_parts(d)).collect();
    if parts.is_empty() {
        return Ok(None);
    }
    if parts.iter().any(|&(a, _, _)| a > 12) {
        return Ok(Some(SlashOrder::DayMonth));
    }
    if parts.iter().any(|&(_, b, _)| b > 12) {
        return Ok(Some(SlashOrder::MonthDay));
    }
    let span = |order: SlashOrder| -> Option<i64> {
        let days: Vec<NaiveDate> = parts
            .iter()
            .filter_map(|&(a, b, y)| match order {
                SlashOrder::DayMonth => NaiveDate::from_ymd_opt(y, b, a),
                SlashOrder::MonthDay => NaiveDate::from_ymd_opt(y, a, b),
            })
            .collect();
        let (min, max) = (days.iter().min()?, days.iter().max()?);
        Some((*max - *min).num_days())
    };
    match (span(SlashOrder::DayMonth), span(SlashOrder::MonthDay)) {
        (Some(dm), Some(md)) if dm < md => Ok(Some(SlashOrder::DayMonth)),
        (Some(dm), Some(md)) if md < dm => Ok(Some(SlashOrder::MonthDay)),
        _ if parts.iter().all(|&(a, b, _)| a == b) => Ok(Some(SlashOrder::DayMonth)),
        _ => Err(ReadError::AmbiguousDates {
            path: path.to_path_buf(),
            example: dates
                .iter()
                .find(|d| slash_parts(d).is_some())
                .map(|d| d.to_string())
                .unwrap_or_default(),
        }),
    }
}

fn parse_date(s: &str, order: Option<SlashOrder>) -> Result<NaiveDate, String> {
    let s = s.trim();
    // FIRMS's own `YYYY-MM-DD`, without chrono's format interpreter (100,000 rows a file).
    if let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *s.as_bytes() {
        let digits = [y0, y1, y2, y3, m0, m1, d0, d1];
        if digits.iter().all(u8::is_ascii_digit) {
            let n = |ds: &[u8]| ds.iter().fold(0u32, |v, d| v * 10 + u32::from(d - b'0'));
            if let Some(d) =
                NaiveDate::from_ymd_opt(n(&digits[..4]) as i32, n(&digits[4..6]), n(&digits[6..]))
            {
                return Ok(d);
            }
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d);
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y/%m/%d") {
        return Ok(d);
    }
    if let (Some((a, b, y)), Some(order)) = (slash_parts(s), order) {
        let d = match order {
            SlashOrder::DayMonth => NaiveDate::from_ymd_opt(y, b, a),
            SlashOrder::MonthDay => NaiveDate::from_ymd_opt(y, a, b),
        };
        if let Some(d) = d {
            return Ok(d);
        }
    }
    Err(format!(
        "`{s}` is not a date (YYYY-MM-DD, D/M/YYYY or M/D/YYYY)"
    ))
}

/// FIRMS `acq_time`: `HHMM`, unpadded (`56` = 00:56, `741` = 07:41), or `HH:MM`.
fn parse_time(s: &str) -> Result<NaiveTime, String> {
    let s = s.trim();
    let bad = || format!("`{s}` is not a time (HHMM or HH:MM, UTC)");
    let (h, m) = if let Some((h, m)) = s.split_once(':') {
        (
            h.parse::<u32>().map_err(|_| bad())?,
            m.parse::<u32>().map_err(|_| bad())?,
        )
    } else {
        if s.is_empty() || s.len() > 4 || !s.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let v: u32 = s.parse().map_err(|_| bad())?;
        (v / 100, v % 100)
    };
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(bad)
}

fn parse_rows(
    path: &Path,
    unit: &'static str,
    header: Vec<String>,
    raw: Vec<(u64, Fields)>,
) -> Result<Feed, ReadError> {
    let cols = Columns::find(path, &header)?;
    let dates: Vec<&str> = raw.iter().filter_map(|(_, f)| f.get(cols.date)).collect();
    let order = slash_order(path, &dates)?;
    // Rows are independent: parsed on every core (a field-scale scene gives 100,000 rows)
    // straight into one vector in file order (rayon writes each into its place), ...
    let parsed: Vec<Result<FeedRow, RowWarning>> = raw
        .into_par_iter()
        .with_min_len(1024)
        .map(
            |(line, fields)| match parse_row(&cols, &header, &fields, order) {
                Ok(hotspot) => Ok(FeedRow {
                    hotspot,
                    line,
                    fields,
                }),
                Err((field, message)) => Err(RowWarning {
                    path: path.to_path_buf(),
                    unit,
                    line,
                    field,
                    message,
                }),
            },
        )
        .collect();
    // ... then kept or warned about in file order, the rows collected in the same allocation
    // (the standard library's in-place collect: a `Result` is at least as large as its row).
    // A second vector of rows was 25 MB of fresh pages and a copy for 100,000 rows.
    let mut warnings = Vec::new();
    let rows: Vec<FeedRow> = parsed
        .into_iter()
        .filter_map(|row| match row {
            Ok(row) => Some(row),
            Err(w) => {
                warnings.push(w);
                None
            }
        })
        .collect();
    Ok(Feed {
        path: path.to_path_buf(),
        header,
        rows,
        warnings,
    })
}

type RowError = (Option<String>, String);

/// Powers of ten exact in an `f64` (up to 10^22; plain decimals need up to 10^15).
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// `s` as `str::parse::<f64>` reads it, the same bits, with FIRMS's plain decimals
/// (`-?digits[.digits]`, 1–15 digits) taken without the general parser: their digits are an
/// integer below 2^53 and their scale a power of ten up to 10^15, both exact in an `f64`, so
/// one division gives the correctly rounded value, which is what `parse` returns (Clinger's
/// fast path, the one `parse` itself ends in after its general scan). A field-scale feed has
/// 700,000 such numbers. Anything else (a sign `+`, an exponent, `inf`, `NaN`, more digits,
/// text) goes to `parse`, errors included.
fn parse_f64(s: &str) -> Result<f64, std::num::ParseFloatError> {
    let bytes = s.as_bytes();
    let (negative, rest) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let (mut mantissa, mut digits, mut decimals) = (0u64, 0usize, None::<usize>);
    for &b in rest {
        match b {
            b'0'..=b'9' if digits < 15 => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                digits += 1;
                if let Some(d) = decimals.as_mut() {
                    *d += 1;
                }
            }
            b'.' if decimals.is_none() => decimals = Some(0),
            _ => return s.parse(),
        }
    }
    if digits == 0 {
        return s.parse();
    }
    let v = mantissa as f64 / POW10[decimals.unwrap_or(0)];
    Ok(if negative { -v } else { v })
}

fn parse_row(
    cols: &Columns,
    header: &[String],
    fields: &Fields,
    order: Option<SlashOrder>,
) -> Result<Hotspot, RowError> {
    if fields.len() != header.len() {
        return Err((
            None,
            format!(
                "{} fields where the header has {}",
                fields.len(),
                header.len()
            ),
        ));
    }
    let name = |i: usize| Some(header[i].clone());
    let get = |i: usize| fields[i].trim();
    let get_opt = |i: Option<usize>| i.map(get).unwrap_or("");
    let number = |i: usize, lo: f64, hi: f64| -> Result<f64, RowError> {
        let v =
            parse_f64(get(i)).map_err(|_| (name(i), format!("`{}` is not a number", get(i))))?;
        if !(lo..=hi).contains(&v) {
            return Err((name(i), format!("{v} is outside {lo}..{hi}")));
        }
        Ok(v)
    };
    // Measurements: a missing column, an empty field or `NaN` is unknown (`None`, stored as
    // NULL); text that is not a number, or an infinity, is an error naming the field.
    let measure = |i: Option<usize>| -> Result<Option<f64>, RowError> {
        let Some(i) = i else { return Ok(None) };
        let v = get(i);
        if v.is_empty() || v.eq_ignore_ascii_case("nan") {
            return Ok(None);
        }
        match parse_f64(v) {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => Err((name(i), format!("`{v}` is not a number"))),
        }
    };
    let latitude = number(cols.lat, -90.0, 90.0)?;
    let longitude = number(cols.lon, -180.0, 180.0)?;
    let date = parse_date(get(cols.date), order).map_err(|m| (name(cols.date), m))?;
    let time = parse_time(get(cols.time)).map_err(|m| (name(cols.time), m))?;
    let acq_time: DateTime<Utc> = Utc.from_utc_datetime(&date.and_time(time));
    let satellite = get_opt(cols.satellite).to_string();
    let instrument = match get_opt(cols.instrument) {
        "" if cols.landsat.is_some() || matches!(satellite.as_str(), "L8" | "L9") => {
            "OLI".to_string()
        }
        "" if matches!(satellite.as_str(), "S2A" | "S2B" | "S2C" | "S2D") => "MSI".to_string(),
        "" if cols.viirs_names => "VIIRS".to_string(),
        "" if matches!(satellite.as_str(), "Terra" | "Aqua" | "T" | "A") => "MODIS".to_string(),
        "" => "VIIRS".to_string(),
        other => other.to_string(),
    };
    let confidence = match get_opt(cols.confidence) {
        "" => Confidence::Nominal,
        c => Confidence::parse(c).ok_or_else(|| {
            (
                cols.confidence.and_then(name),
                format!("`{c}` is not a confidence (l, n/m, h or 0-100)"),
            )
        })?,
    };
    let daynight = match get_opt(cols.daynight) {
        d if d.eq_ignore_ascii_case("D") => DayNight::Day,
        n if n.eq_ignore_ascii_case("N") => DayNight::Night,
        // No column: from local solar time (06–18 h is day), as FIRMS itself decides roughly.
        "" => {
            let solar_h =
                (f64::from(time.hour()) + f64::from(time.minute()) / 60.0 + longitude / 15.0)
                    .rem_euclid(24.0);
            if (6.0..18.0).contains(&solar_h) {
                DayNight::Day
            } else {
                DayNight::Night
            }
        }
        other => {
            return Err((
                cols.daynight.and_then(name),
                format!("`{}` is not D or N", other.to_ascii_uppercase()),
            ))
        }
    };
    let fire_type = match get_opt(cols.fire_type) {
        "" => None,
        t => Some(t.parse::<u8>().ok().filter(|v| *v <= 3).ok_or_else(|| {
            (
                cols.fire_type.and_then(name),
                format!("`{t}` is not a FIRMS type (0-3)"),
            )
        })?),
    };
    let index = |i: Option<usize>| -> Result<Option<usize>, RowError> {
        match i.map(get) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| (i.and_then(name), format!("`{v}` is not a pixel index"))),
        }
    };
    // Landsat: the WRS-2 path (1–233) and row (1–248) are checked, and `scan`/`track` are
    // not pixel sizes in km (FIRMS Landsat rows carry values in the hundreds and thousands
    // there, the pixel's place in the scene): the footprint is OLI's 30 m pixel.
    let (scan_km, track_km) = match &cols.landsat {
        Some(l) => {
            let wrs = |i: usize, max: u32| -> Result<(), RowError> {
                match get(i).parse::<u32>() {
                    Ok(v) if (1..=max).contains(&v) => Ok(()),
                    _ => Err((
                        name(i),
                        format!("`{}` is not a WRS-2 {} (1-{max})", get(i), header[i]),
                    )),
                }
            };
            wrs(l.path, 233)?;
            wrs(l.row, 248)?;
            for i in [cols.scan, cols.track].into_iter().flatten() {
                if measure(Some(i))?.is_some_and(|v| v < 0.0) {
                    return Err((name(i), format!("`{}` is negative", get(i))));
                }
            }
            (Some(OLI_PIXEL_KM), Some(OLI_PIXEL_KM))
        }
        None => (measure(cols.scan)?, measure(cols.track)?),
    };
    Ok(Hotspot {
        latitude,
        longitude,
        bt_mir_k: measure(cols.bt_mir)?,
        bt_tir_k: measure(cols.bt_tir)?,
        scan_km,
        track_km,
        acq_time,
        satellite,
        instrument,
        confidence,
        version: get_opt(cols.version).to_string(),
        frp_mw: measure(cols.frp)?,
        daynight,
        fire_type,
        row: index(cols.row)?,
        col: index(cols.col)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Feed {
        read_csv(Path::new("test.csv"), text.as_bytes()).unwrap()
    }

    const HEADER: &str = "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,instrument,confidence,version,bright_ti5,frp,daynight\n";

    #[test]
    fn unpadded_times_and_iso_dates() {
        let f = csv(&format!(
            "{HEADER}35.5,114.5,330.1,0.4,0.38,2024-06-05,56,N,VIIRS,n,2.0NRT,290,5.2,D\n"
        ));
        assert_eq!(
            f.rows[0].hotspot.acq_time.to_rfc3339(),
            "2024-06-05T00:56:00+00:00"
        );
        assert_eq!(
            parse_time("741").unwrap(),
            NaiveTime::from_hms_opt(7, 41, 0).unwrap()
        );
        assert_eq!(
            parse_time("0000").unwrap(),
            NaiveTime::from_hms_opt(0, 0, 0).unwrap()
        );
        assert!(
            parse_time("2460").is_err() && parse_time("12345").is_err() && parse_time("x").is_err()
        );
    }

    #[test]
    fn slash_order_by_large_component_then_compact_range() {
        let p = Path::new("x");
        assert_eq!(
            slash_order(p, &["12/30/2023", "1/2/2024"]).unwrap(),
            Some(SlashOrder::MonthDay)
        );
        assert_eq!(
            slash_order(p, &["30/12/2023", "1/2/2024"]).unwrap(),
            Some(SlashOrder::DayMonth)
        );
        // 1–3 August (2 days) beats January–March (2 months).
        assert_eq!(
            slash_order(p, &["1/8/2019", "2/8/2019", "3/8/2019"]).unwrap(),
            Some(SlashOrder::DayMonth)
        );
        // 8 Jan–10 Jan beats August–October.
        assert_eq!(
            slash_order(p, &["1/8/2019", "1/10/2019"]).unwrap(),
            Some(SlashOrder::MonthDay)
        );
        assert!(matches!(
            slash_order(p, &["1/8/2019"]),
            Err(ReadError::AmbiguousDates { .. })
        ));
        assert_eq!(slash_order(p, &["2019-08-01"]).unwrap(), None);
    }

    #[test]
    fn bad_rows_are_reported_with_line_and_field_and_skipped() {
        let f = csv(&format!(
            "{HEADER}35.5,114.5,330.1,0.4,0.38,2024-06-05,0556,N,VIIRS,n,2.0NRT,290,5.2,D\n\
             200,114.5,330.1,0.4,0.38,2024-06-05,0556,N,VIIRS,n,2.0NRT,290,5.2,D\n\
             35.5,114.5,330.1,0.4,0.38,2024-13-45,0556,N,VIIRS,n,2.0NRT,290,5.2,D\n\
             35.5,114.5,330.1,0.4,0.38,2024-06-05,0556,N,VIIRS,n\n\
             35.6,114.6,331.1,0.4,0.38,2024-06-05,0556,N20,VIIRS,h,2.0NRT,291,6.2,N\n"
        ));
        assert_eq!(f.rows.len(), 2);
        assert_eq!(f.rows[1].line, 6);
        let msgs: Vec<String> = f.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(msgs.len(), 3);
        assert!(
            msgs[0].starts_with("test.csv: line 3, field `latitude`: 200 is outside"),
            "{}",
            msgs[0]
        );
        assert!(
            msgs[1].starts_with("test.csv: line 4, field `acq_date`"),
            "{}",
            msgs[1]
        );
        assert!(
            msgs[2].starts_with("test.csv: line 5: 10 fields"),
            "{}",
            msgs[2]
        );
    }

    #[test]
    fn empty_and_nan_measurements_are_unknown_and_infinities_refused() {
        let f = csv(&format!(
            "{HEADER}35.5,114.5,,,,2024-06-05,0556,N,VIIRS,n,2.0NRT,,,D\n\
             35.6,114.6,NaN,nan,NAN,2024-06-05,0556,N,VIIRS,n,2.0NRT,NaN,NaN,D\n\
             35.7,114.7,330.1,0.4,0.38,2024-06-05,0556,N,VIIRS,n,2.0NRT,290,inf,D\n"
        ));
        assert_eq!(f.rows.len(), 2, "{:?}", f.warnings);
        for r in &f.rows {
            let h = &r.hotspot;
            assert_eq!(
                (h.bt_mir_k, h.bt_tir_k, h.scan_km, h.track_km, h.frp_mw),
                (None, None, None, None, None)
            );
            // No pixel size: the nominal VIIRS pixel.
            assert_eq!(h.footprint_m(), 375.0);
        }
        assert_eq!(f.warnings.len(), 1);
        assert_eq!(f.warnings[0].line, 4);
        assert_eq!(f.warnings[0].field.as_deref(), Some("frp"));
    }

    #[test]
    fn firms_landsat_files_are_oli_at_30_m_with_wrs_path_and_row_checked() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/hotspots/firms_landsat_nrt_henan_shaped.csv");
        let f = read_hotspots(&path).unwrap();
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
        assert_eq!(f.rows.len(), 8);
        let h = &f.rows[0].hotspot;
        assert_eq!((h.satellite.as_str(), h.instrument.as_str()), ("L9", "OLI"));
        assert_eq!(h.acq_time.to_rfc3339(), "2024-06-10T02:57:00+00:00");
        assert_eq!((h.scan_km, h.track_km), (Some(0.03), Some(0.03)));
        assert!((h.footprint_m() - 30.0).abs() < 1e-9);
        // The WRS-2 row is not a pixel index; the original fields are kept for write-back.
        assert_eq!((h.row, h.col), (None, None));
        assert_eq!(&f.rows[0].fields[3], "36");
        let conf: Vec<Confidence> = f.rows.iter().map(|r| r.hotspot.confidence).collect();
        assert_eq!(
            conf[..3],
            [Confidence::High, Confidence::Nominal, Confidence::Low]
        );
        assert_eq!(f.rows[5].hotspot.satellite, "L8");
        // Without an instrument column a Landsat row still says OLI (and 30 m) when only
        // `satellite` tells (a file cut down to the FIRMS core columns).
        let g = csv(
            "latitude,longitude,acq_date,acq_time,satellite,confidence,daynight\n\
                     34.5,114.1,2024-06-18,1421,L8,m,N\n",
        );
        let h = &g.rows[0].hotspot;
        assert_eq!(
            (h.instrument.as_str(), h.confidence),
            ("OLI", Confidence::Nominal)
        );
        assert_eq!((h.daynight, h.footprint_m()), (DayNight::Night, 30.0));
        // A Sentinel-2 row told only by `satellite` is MSI, at the 20 m of its SWIR bands.
        let g = csv(
            "latitude,longitude,acq_date,acq_time,satellite,confidence,daynight\n\
                     34.5,114.1,2024-06-18,0305,S2B,h,D\n",
        );
        let h = &g.rows[0].hotspot;
        assert_eq!(h.instrument, "MSI");
        assert!((h.footprint_m() - 20.0).abs() < 1e-9);
    }

    #[test]
    fn a_bad_firms_landsat_row_is_a_warning_naming_line_and_field() {
        let head = "country_id,latitude,longitude,path,row,scan,track,acq_date,acq_time,satellite,confidence,daynight\n";
        let f = csv(&format!(
            "{head}CHN,34.61,114.87,123,36,4521,3310,2024-06-10,257,L9,H,D\n\
             CHN,34.61,114.87,123,300,4521,3310,2024-06-10,257,L9,H,D\n\
             CHN,34.61,114.87,x,36,4521,3310,2024-06-10,257,L9,H,D\n\
             CHN,34.61,114.87,123,36,-4,3310,2024-06-10,257,L9,H,D\n\
             CHN,34.61,114.87,123,36,4521,3310,2024-06-10,257,L9,Q,D\n"
        ));
        assert_eq!(f.rows.len(), 1);
        let msgs: Vec<String> = f.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(msgs.len(), 4, "{msgs:?}");
        assert!(
            msgs[0].starts_with("test.csv: line 3, field `row`: `300` is not a WRS-2 row"),
            "{}",
            msgs[0]
        );
        assert!(
            msgs[1].starts_with("test.csv: line 4, field `path`"),
            "{}",
            msgs[1]
        );
        assert!(
            msgs[2].starts_with("test.csv: line 5, field `scan`"),
            "{}",
            msgs[2]
        );
        assert!(
            msgs[3].starts_with("test.csv: line 6, field `confidence`"),
            "{}",
            msgs[3]
        );
    }

    /// Both roads' answers on one text: header, rows (records, lines, fields), warnings.
    fn assert_roads_agree(text: &[u8]) {
        let path = Path::new("t.csv");
        let start = if text.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        assert!(
            plain_csv::is_plain(&text[start..]),
            "{:?}",
            String::from_utf8_lossy(text)
        );
        let plain = read_csv_text(path, Cow::Owned(text.to_vec()));
        let reference = read_csv_reference(path, &text[start..]);
        let (plain, reference) = match (plain, reference) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(a), Err(b)) => return assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!("{a:?} vs {b:?}"),
        };
        let show = String::from_utf8_lossy(text);
        assert_eq!(plain.header, reference.header, "{show:?}");
        assert_eq!(plain.rows, reference.rows, "{show:?}");
        assert_eq!(plain.warnings, reference.warnings, "{show:?}");
    }

    #[test]
    fn plain_split_equals_csv_crate() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
        // Field values good and bad, padded with ASCII and Unicode white space.
        let values: [&[&str]; 14] = [
            &["35.5", "-12.25", "200", "x", ""],
            &["114.5", "-60.1", "181"],
            &["330.1", "", "NaN", "inf"],
            &["0.4", "0.03", ""],
            &["0.38", "0.02"],
            &[
                "2024-06-05",
                "5/6/2024",
                "6/5/2024",
                "2024-13-45",
                "2024/06/05",
            ],
            &["0556", "56", "741", "2460"],
            &["N20", "L9", "S2B"],
            &["VIIRS", "", "OLI"],
            &["n", "H", "m", "87", "Q"],
            &["2.0NRT"],
            &["290", "", "nan"],
            &["5.2", "", "inf", "-1"],
            &["D", "n", "", "X"],
        ];
        let pads = ["", " ", "\t", "\u{3000}", "\u{a0}"];
        for case in 0..400 {
            let eol = if rng.gen_bool(0.3) { "\r\n" } else { "\n" };
            let mut text = String::new();
            if rng.gen_bool(0.1) {
                text.push('\u{feff}');
            }
            for _ in 0..rng.gen_range(0..3) {
                text += eol;
            }
            text += &HEADER
                .trim_end()
                .replace(',', if case % 5 == 0 { " , " } else { "," });
            for _ in 0..rng.gen_range(0..12) {
                text += eol;
                match rng.gen_range(0..12) {
                    0 => {} // a blank line
                    1 => text += "   ",
                    _ => {
                        let n = match rng.gen_range(0..10) {
                            0 => rng.gen_range(1..14),
                            1 => 15,
                            _ => 14,
                        };
                        let row: Vec<String> = (0..n)
                            .map(|i| {
                                let v = values[i % 14][rng.gen_range(0..values[i % 14].len())];
                                let pad = |rng: &mut rand_chacha::ChaCha8Rng| {
                                    if rng.gen_bool(0.15) {
                                        pads[rng.gen_range(0..pads.len())]
                                    } else {
                                        ""
                                    }
                                };
                                format!("{}{v}{}", pad(&mut rng), pad(&mut rng))
                            })
                            .collect();
                        text += &row.join(",");
                    }
                }
            }
            if rng.gen_bool(0.7) {
                text += eol;
            }
            assert_roads_agree(text.as_bytes());
        }
        // Corner cases: nothing, only blank lines, a header alone, no final line end.
        for text in ["", "\n\n", "\r\n", &HEADER[..HEADER.len() - 1], HEADER] {
            assert_roads_agree(text.as_bytes());
        }
    }

    #[test]
    fn lines_are_the_files_own_after_blank_lines_and_in_crlf_files() {
        let row = "35.5,114.5,330.1,0.4,0.38,2024-06-05,0556,N,VIIRS,n,2.0NRT,290,5.2,D";
        let bad = "35.5,114.5,330.1,0.4,0.38,2024-06-05,0556,N,VIIRS,n,2.0NRT,290,5.2,X";
        for eol in ["\n", "\r\n"] {
            let text = format!(
                "{}{eol}{row}{eol}{eol}{eol}{bad}{eol}{row}",
                HEADER.trim_end()
            );
            for f in [csv(&text), csv(&text.replace("2.0NRT", "\"2.0NRT\""))] {
                let lines: Vec<u64> = f.rows.iter().map(|r| r.line).collect();
                assert_eq!(lines, [2, 6], "{eol:?}");
                assert_eq!(
                    f.warnings[0].to_string(),
                    "test.csv: line 5, field `daynight`: `X` is not D or N; row skipped"
                );
            }
        }
    }

    #[test]
    fn a_large_plain_file_is_split_in_chunks_with_its_lines() {
        // More than one chunk of lines, so that chunk boundaries and their line counts show.
        let mut text = HEADER.to_string();
        for i in 0..6000 {
            if i % 997 == 0 {
                text += "\n";
            }
            let daynight = if i % 1500 == 7 { "X" } else { "D" };
            text += &format!(
                "35.{i:04},114.5,330.1,0.4,0.38,2024-06-05,0556,N,VIIRS,n,2.0NRT,290,5.2,{daynight}\n"
            );
        }
        assert!(text.len() > 3 * 128 * 1024);
        assert_roads_agree(text.as_bytes());
        let f = csv(&text);
        assert_eq!(f.rows.len() + f.warnings.len(), 6000);
        assert_eq!(f.warnings.len(), 4);
        // Row i is on line 2 + i + the blank lines before it (one per 997 rows, from row 0).
        let last = f.rows.last().unwrap();
        assert_eq!(last.line, 2 + 5999 + 6 + 1);
        assert_eq!(&last.fields[0], "35.5999");
        assert_eq!(f.warnings[3].line, 2 + 4507 + 4 + 1);
    }

    #[test]
    fn plain_decimals_read_as_parse_reads_them() {
        use rand::{Rng, SeedableRng};
        let same = |s: &str| match (parse_f64(s), s.parse::<f64>()) {
            (Ok(a), Ok(b)) => assert!(
                a.to_bits() == b.to_bits() || a.is_nan() && b.is_nan(),
                "{s}: {a} vs {b}"
            ),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{s}: {a:?} vs {b:?}"),
        };
        for s in [
            "",
            "-",
            ".",
            "-.",
            "0",
            "-0",
            "-0.0",
            "0.",
            ".5",
            "-.5",
            "5.",
            "+5",
            "1e5",
            "1.5e-3",
            "inf",
            "-inf",
            "NaN",
            "nan",
            "1..2",
            "1.2.3",
            "--1",
            "1-",
            " 1",
            "x",
            "35.123456",
            "114.999999",
            "0.1",
            "0.3",
            "2.675",
            "123456789012345",
            "1234567890123456",
            "0.000000000000001",
            "0.0000000000000001",
            "9007199254740993",
            "999999999999999.9",
            "00000000000000000001.5",
            "330.1",
            "-12.25",
            "5.2",
        ] {
            same(s);
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(6);
        for _ in 0..200_000 {
            let int = rng.gen_range(0..9u32);
            let frac = rng.gen_range(0..10u32);
            let mut s = String::new();
            if rng.gen_bool(0.3) {
                s.push('-');
            }
            for _ in 0..int {
                s.push(char::from(b'0' + rng.gen_range(0..10u8)));
            }
            if frac > 0 || rng.gen_bool(0.1) {
                s.push('.');
            }
            for _ in 0..frac {
                s.push(char::from(b'0' + rng.gen_range(0..10u8)));
            }
            same(&s);
        }
    }

    #[test]
    fn missing_required_column_names_it() {
        let err = read_csv(Path::new("h.csv"), b"lat,lon\n1,2\n").unwrap_err();
        assert!(err.to_string().contains("no `acq_date` column"), "{err}");
    }

    #[test]
    fn geojson_points_take_position_from_geometry() {
        let json = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","geometry":{"type":"Point","coordinates":[114.5,35.5]},
           "properties":{"bright_ti4":330.1,"acq_date":"2024-06-05","acq_time":741,"satellite":"N","confidence":"h","daynight":"D"}},
          {"type":"Feature","geometry":null,"properties":{"acq_date":"2024-06-05","acq_time":741}}]}"#;
        let f = read_geojson(Path::new("h.geojson"), json.as_bytes()).unwrap();
        assert_eq!(f.rows.len(), 1);
        assert_eq!(f.rows[0].hotspot.longitude, 114.5);
        assert_eq!(
            f.rows[0].hotspot.acq_time.to_rfc3339(),
            "2024-06-05T07:41:00+00:00"
        );
        assert_eq!(f.warnings[0].unit, "feature");
        assert_eq!(f.warnings[0].line, 2);
    }
}
