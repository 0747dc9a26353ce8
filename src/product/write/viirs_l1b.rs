//! A swath [`Granule`] written as a NASA VIIRS I-band L1B pair: `V?P02IMG` (observations) and
//! `V?P03IMG` (geolocation), NetCDF-4 with groups, as LAADS publishes them.
//!
//! Sources of the layout (cited per item below): FORMATS.md §1 (checked against GDAL 3.6.2
//! here), satpy `satpy/readers/viirs_l1b.py` and `satpy/tests/reader_tests/test_viirs_l1b.py`
//! (pytroll/satpy), geoips `geoips/plugins/modules/readers/viirs_netcdf.py` (scale factors), a
//! VJ103 `land_water_mask` attribute listing in a public script (search tool's code index).
//! Where an item is our choice rather than a documented fact it says "unverified".
//!
//! Counts are encoded from physical values: reflectance by the band's scale; brightness
//! temperature by inverting the LUT this writer builds (BT of each count's radiance through the
//! Planck function at the band's wavelength, so the LUT is monotonic); values above what the
//! counts can hold get the largest count and the saturation bit; NaN becomes 65533
//! (Bowtie_Deleted) where the caller says the pixel is bow-tie deleted, else 65535.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use rayon::prelude::*;

use super::{atomically, write_err};
use crate::physics;
use crate::product::error::ProductError;
use crate::product::viirs_l1b::{
    ANGLES, ANGLE_FILL, BANDS, BOWTIE_DELETED, FILL, FIRST_FLAG_COUNT, FLOAT_FILL, LAND_WATER_FILL,
    ROWS_PER_SCAN, SATURATION_BIT,
};
use crate::product::{Geometry, Granule};

/// I01–I03 reflectance `scale_factor` (geoips viirs_netcdf.py; FORMATS.md §1: ≈ 1.9991758e-05,
/// `add_offset` 0).
pub const REFLECTANCE_SCALE: f32 = 1.999_175_8e-5;
/// I04 radiance `scale_factor`, `add_offset` (geoips, FORMATS.md §1).
pub const I04_SCALE_OFFSET: (f32, f32) = (6.104_354e-5, 0.001_670_3);
/// I05 radiance `scale_factor`, `add_offset` (geoips, FORMATS.md §1).
pub const I05_SCALE_OFFSET: (f32, f32) = (0.000_381_522_1, 0.141_121);
/// Central wavelengths used to build the BT LUTs, µm (models/viirs-i.toml).
pub const I04_WAVELENGTH_UM: f64 = 3.74;
pub const I05_WAVELENGTH_UM: f64 = 11.45;
/// VIIRS scan period, s (≈ 1.786 s: 6 min granules of 202–203 scans).
pub const SCAN_PERIOD_S: f64 = 1.786;
/// `number_of_LUT_values` (FORMATS.md §1).
pub const LUT_VALUES: usize = 65536;

/// How to name and mark the files.
#[derive(Debug, Clone)]
pub struct L1bOptions {
    /// Orbit number (`orbit_number` / `OrbitNumber`).
    pub orbit: u32,
    /// Processing time in the file names (`.2024160123456.nc`).
    pub processed: DateTime<Utc>,
    /// Whether a NaN pixel is bow-tie deleted (row, col): its counts become 65533 instead of
    /// 65535. `None`: the published pattern on a full-width granule, else no pixel is.
    pub bowtie_deleted: Option<fn(usize, usize) -> bool>,
    /// zlib level of the arrays (the products are deflate-compressed; 0 writes them raw).
    pub deflate: i32,
}

impl Default for L1bOptions {
    fn default() -> Self {
        L1bOptions {
            orbit: 1,
            processed: DateTime::from_timestamp(1_717_830_000, 0).expect("a valid time"),
            bowtie_deleted: None,
            deflate: 4,
        }
    }
}

/// The two files written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L1bFiles {
    pub data: PathBuf,
    pub geo: PathBuf,
}

/// The product prefix and collection of a FIRMS satellite code: `N` → VNP (collection 002),
/// `N20` → VJ1, `N21` → VJ2 (collection 021; LAADS archive names).
pub fn product_prefix(satellite: &str) -> Option<(&'static str, &'static str, &'static str)> {
    // (prefix, collection, platform attribute); platform strings from satpy viirs_l1b.py's
    // platform_name map ("Suomi-NPP", "JPSS-1", "JPSS-2").
    match satellite {
        "N" => Some(("VNP", "002", "Suomi-NPP")),
        "N20" => Some(("VJ1", "021", "JPSS-1")),
        "N21" => Some(("VJ2", "021", "JPSS-2")),
        _ => None,
    }
}

/// `VNP02IMG.A2024160.0542.002.2024160123456.nc` and its `VNP03IMG` partner.
pub fn file_names(
    satellite: &str,
    start: DateTime<Utc>,
    processed: DateTime<Utc>,
) -> Option<(String, String)> {
    let (prefix, collection, _) = product_prefix(satellite)?;
    let key = format!(
        "A{}{:03}.{:02}{:02}",
        start.year(),
        start.ordinal(),
        start.hour(),
        start.minute()
    );
    let proc = format!(
        "{}{:03}{:02}{:02}{:02}",
        processed.year(),
        processed.ordinal(),
        processed.hour(),
        processed.minute(),
        processed.second()
    );
    Some((
        format!("{prefix}02IMG.{key}.{collection}.{proc}.nc"),
        format!("{prefix}03IMG.{key}.{collection}.{proc}.nc"),
    ))
}

/// The BT LUT this writer puts in a file: `lut[count]` = BT of radiance count × scale + offset;
/// counts ≥ 65528 hold the fill -999.9.
pub fn build_lut(wavelength_um: f64, scale: f32, offset: f32) -> Vec<f32> {
    (0..LUT_VALUES)
        .map(|c| {
            if c >= FIRST_FLAG_COUNT as usize {
                FLOAT_FILL
            } else {
                let radiance = c as f64 * scale as f64 + offset as f64;
                physics::brightness_temperature(wavelength_um, radiance) as f32
            }
        })
        .collect()
}

/// The count whose LUT value is nearest `bt`, and whether `bt` lies above the LUT (saturated).
/// `lut[..65528]` must be non-decreasing.
pub fn count_of_bt(lut: &[f32], bt: f32) -> (u16, bool) {
    let valid = &lut[..FIRST_FLAG_COUNT as usize];
    let last = valid.len() - 1;
    if bt > valid[last] {
        return (last as u16, true);
    }
    let i = valid.partition_point(|&v| v < bt);
    if i == 0 {
        return (0, false);
    }
    let below = bt - valid[i - 1];
    let above = valid[i] - bt;
    (if below <= above { i - 1 } else { i } as u16, false)
}

fn nan_count(opts: &L1bOptions, row: usize, col: usize, cols: usize) -> u16 {
    match bowtie_rule(opts.bowtie_deleted, cols) {
        Some(f) if f(row, col) => BOWTIE_DELETED,
        _ => FILL,
    }
}

/// The caller's bow-tie rule, else for a full-width granule (6400 samples) the published
/// deletion pattern (`viirs_iband::is_bowtie_deleted`).
pub(crate) fn bowtie_rule(
    given: Option<fn(usize, usize) -> bool>,
    cols: usize,
) -> Option<fn(usize, usize) -> bool> {
    given.or((cols == crate::product::viirs_iband::SAMPLES)
        .then_some(crate::product::viirs_iband::is_bowtie_deleted as fn(usize, usize) -> bool))
}

/// Counts and quality flags of an I1–I3 band.
fn encode_reflectance(values: &[f32], cols: usize, opts: &L1bOptions) -> (Vec<u16>, Vec<u16>) {
    let max_count = FIRST_FLAG_COUNT - 1;
    values
        .par_iter()
        .enumerate()
        .map(|(i, &v)| {
            if v.is_nan() {
                (nan_count(opts, i / cols, i % cols, cols), 0)
            } else {
                let c = (v / REFLECTANCE_SCALE).round();
                if c > max_count as f32 {
                    (max_count, SATURATION_BIT)
                } else {
                    (c.max(0.0) as u16, 0)
                }
            }
        })
        .unzip()
}

/// Counts and quality flags of an I4/I5 band through its LUT.
fn encode_bt(values: &[f32], lut: &[f32], cols: usize, opts: &L1bOptions) -> (Vec<u16>, Vec<u16>) {
    values
        .par_iter()
        .enumerate()
        .map(|(i, &v)| {
            if v.is_nan() {
                (nan_count(opts, i / cols, i % cols, cols), 0)
            } else {
                let (c, saturated) = count_of_bt(lut, v);
                (c, if saturated { SATURATION_BIT } else { 0 })
            }
        })
        .unzip()
}

fn time_attr(t: DateTime<Utc>) -> String {
    // FORMATS.md §1 / satpy viirs_l1b.py `_parse_datetime`: "%Y-%m-%dT%H:%M:%S.000Z".
    t.format("%Y-%m-%dT%H:%M:%S.000Z").to_string()
}

/// Seconds since 1993-01-01 (TAI93 epoch of `scan_start_time`, FORMATS.md §1; leap seconds
/// ignored: unverified whether the product counts them).
fn seconds_since_1993(t: DateTime<Utc>) -> f64 {
    let epoch = DateTime::from_timestamp(725_846_400, 0).expect("1993-01-01");
    (t - epoch).num_milliseconds() as f64 / 1000.0
}

fn day_night(sza: Option<&[f32]>) -> &'static str {
    // `DayNightFlag` (FORMATS.md §1, satpy get_metadata): "Day", "Night" or "Both".
    let Some(sza) = sza else { return "Both" };
    let day = sza.iter().any(|&v| v < 90.0);
    let night = sza.iter().any(|&v| v >= 90.0);
    match (day, night) {
        (true, false) => "Day",
        (false, true) => "Night",
        _ => "Both",
    }
}

/// Writes `granule` (swath geometry, bands I1–I5 and SZA/VZA/SAA/VAA, a time and satellite) as
/// an L1B pair in `dir`; returns the two paths.
pub fn write(granule: &Granule, dir: &Path, opts: &L1bOptions) -> Result<L1bFiles, ProductError> {
    let unwritable = |message: String| ProductError::Unwritable {
        product: "VIIRS L1B",
        message,
    };
    let Geometry::Swath(swath) = &granule.geometry else {
        return Err(unwritable(
            "the granule is on a map grid, not a swath".into(),
        ));
    };
    let satellite = granule.meta.satellite.as_deref().unwrap_or("");
    let (prefix, _, platform) = product_prefix(satellite)
        .ok_or_else(|| unwritable(format!("satellite {satellite:?} is not N, N20 or N21")))?;
    let start = granule
        .meta
        .acq_time
        .ok_or_else(|| unwritable("the granule has no acquisition time".into()))?;
    let (rows, cols) = granule.shape;
    if rows % ROWS_PER_SCAN != 0 {
        return Err(unwritable(format!(
            "{rows} rows are not whole scans of {ROWS_PER_SCAN}"
        )));
    }
    for (_, band) in BANDS.iter().chain(ANGLES.iter()) {
        if !granule.bands.contains_key(*band) {
            return Err(unwritable(format!("no band {band}")));
        }
    }
    let (data_name, geo_name) =
        file_names(satellite, start, opts.processed).expect("satellite checked above");
    let files = L1bFiles {
        data: dir.join(data_name),
        geo: dir.join(geo_name),
    };
    let scans = rows / ROWS_PER_SCAN;
    let end = start + Duration::milliseconds((scans as f64 * SCAN_PERIOD_S * 1000.0) as i64);
    let sza = granule.bands.get("SZA").map(|b| b.as_slice());
    let common = Common {
        rows,
        cols,
        scans,
        start,
        end,
        platform,
        orbit: opts.orbit,
        day_night: day_night(sza),
        deflate: opts.deflate,
    };

    atomically(&files.data, |tmp| {
        write_data(tmp, &files.data, granule, &common, prefix, opts)
    })?;
    if let Err(e) = atomically(&files.geo, |tmp| {
        write_geo(tmp, &files.geo, granule, swath, &common, prefix)
    }) {
        let _ = std::fs::remove_file(&files.data);
        return Err(e);
    }
    Ok(files)
}

struct Common {
    rows: usize,
    cols: usize,
    scans: usize,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    platform: &'static str,
    orbit: u32,
    day_night: &'static str,
    deflate: i32,
}

/// Dimensions and global attributes both files share (FORMATS.md §1 "Dimensions", "Global
/// attributes"; satpy test_viirs_l1b.py file_content).
fn header(
    f: &mut netcdf::FileMut,
    target: &Path,
    c: &Common,
    short_name: &str,
    long_name: &str,
    orbit_key: &str,
) -> Result<(), ProductError> {
    let err = write_err(target, "dimensions");
    f.add_dimension("number_of_scans", c.scans).map_err(&err)?;
    f.add_dimension("number_of_lines", c.rows).map_err(&err)?;
    f.add_dimension("number_of_pixels", c.cols).map_err(&err)?;
    let err = write_err(target, "global attributes");
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    f.add_attribute("title", long_name).map_err(&err)?;
    f.add_attribute("LongName", long_name).map_err(&err)?;
    f.add_attribute("ShortName", short_name).map_err(&err)?;
    f.add_attribute("product_name", name.as_str())
        .map_err(&err)?;
    f.add_attribute("Conventions", "CF-1.6").map_err(&err)?;
    f.add_attribute("platform", c.platform).map_err(&err)?;
    f.add_attribute("instrument", "VIIRS").map_err(&err)?;
    f.add_attribute("time_coverage_start", time_attr(c.start).as_str())
        .map_err(&err)?;
    f.add_attribute("time_coverage_end", time_attr(c.end).as_str())
        .map_err(&err)?;
    // VNP02 `orbit_number`, VNP03 `OrbitNumber` (satpy viirs_l1b.py start_orbit_number).
    f.add_attribute(orbit_key, c.orbit as i32).map_err(&err)?;
    f.add_attribute("DayNightFlag", c.day_night).map_err(&err)?;
    // Direction attributes (satpy get_metadata reads them); the values are unverified.
    f.add_attribute("startDirection", "Ascending")
        .map_err(&err)?;
    f.add_attribute("endDirection", "Ascending").map_err(&err)?;
    f.add_attribute("number_of_filled_scans", c.scans as i32)
        .map_err(&err)?;
    // Per-scan times (FORMATS.md §1 `scan_line_attributes/scan_start_time`, float64 s since 1993).
    let mut g = f
        .add_group("scan_line_attributes")
        .map_err(write_err(target, "scan_line_attributes"))?;
    for (var, shift) in [("scan_start_time", 0.0), ("scan_end_time", SCAN_PERIOD_S)] {
        let err = write_err(target, var);
        let t0 = seconds_since_1993(c.start);
        let times: Vec<f64> = (0..c.scans)
            .map(|k| t0 + k as f64 * SCAN_PERIOD_S + shift)
            .collect();
        let mut v = g
            .add_variable::<f64>(var, &["number_of_scans"])
            .map_err(&err)?;
        v.set_fill_value(-999.9f64).map_err(&err)?;
        v.put_attribute("units", "seconds since 1993-01-01 00:00:00.000")
            .map_err(&err)?;
        v.put_values(&times, ..).map_err(&err)?;
    }
    Ok(())
}

fn chunked(
    v: &mut netcdf::VariableMut<'_>,
    c: &Common,
    err: &dyn Fn(netcdf::Error) -> ProductError,
) -> Result<(), ProductError> {
    // One scan of lines per chunk (unverified: the products' chunk shapes are not documented
    // in the sources we have), deflated with shuffle.
    v.set_chunking(&[ROWS_PER_SCAN.min(c.rows), c.cols])
        .map_err(err)?;
    if c.deflate > 0 {
        v.set_compression(c.deflate, true).map_err(err)?;
    }
    Ok(())
}

fn write_data(
    tmp: &Path,
    target: &Path,
    granule: &Granule,
    c: &Common,
    prefix: &str,
    opts: &L1bOptions,
) -> Result<(), ProductError> {
    let mut f = netcdf::create(tmp).map_err(write_err(target, "file"))?;
    let sat = &prefix[1..];
    let long_name = format!("VIIRS/{sat} Imagery Resolution 6-Min L1B Swath 375m");
    header(
        &mut f,
        target,
        c,
        &format!("{prefix}02IMG"),
        &long_name,
        "orbit_number",
    )?;
    f.add_dimension("number_of_LUT_values", LUT_VALUES)
        .map_err(write_err(target, "number_of_LUT_values"))?;
    let mut g = f
        .add_group("observation_data")
        .map_err(write_err(target, "observation_data"))?;
    let dims = ["number_of_lines", "number_of_pixels"];
    for (k, (var, band)) in BANDS.iter().enumerate() {
        let values = granule.bands[*band].as_slice();
        let err = write_err(target, var);
        let n = k + 1;
        let (counts, qf) = if k < 3 {
            encode_reflectance(values, c.cols, opts)
        } else {
            let (wl, (scale, offset)) = if k == 3 {
                (I04_WAVELENGTH_UM, I04_SCALE_OFFSET)
            } else {
                (I05_WAVELENGTH_UM, I05_SCALE_OFFSET)
            };
            let lut = build_lut(wl, scale, offset);
            let lut_name = format!("{var}_brightness_temperature_lut");
            let lerr = write_err(target, &lut_name);
            let mut l = g
                .add_variable::<f32>(&lut_name, &["number_of_LUT_values"])
                .map_err(&lerr)?;
            // LUT attributes (FORMATS.md §1: float32[65536], units Kelvin, _FillValue -999.9;
            // satpy masks BT by the LUT's valid_min/valid_max). The range values are ours.
            l.set_fill_value(FLOAT_FILL).map_err(&lerr)?;
            if c.deflate > 0 {
                l.set_compression(c.deflate, true).map_err(&lerr)?;
            }
            l.put_attribute(
                "long_name",
                format!("I-band {n:02} brightness temperature lookup table"),
            )
            .map_err(&lerr)?;
            l.put_attribute("units", "Kelvin").map_err(&lerr)?;
            l.put_attribute("valid_min", lut[0]).map_err(&lerr)?;
            l.put_attribute("valid_max", lut[FIRST_FLAG_COUNT as usize - 1])
                .map_err(&lerr)?;
            l.put_values(&lut, ..).map_err(&lerr)?;
            drop(l);
            encode_bt(values, &lut, c.cols, opts)
        };
        let mut v = g.add_variable::<u16>(var, &dims).map_err(&err)?;
        chunked(&mut v, c, &err)?;
        // Attributes on every band (FORMATS.md §1): _FillValue 65535, valid_min 0, valid_max
        // 65527, flag_values 65532–65534 "Missing_EV Bowtie_Deleted Cal_Fail".
        v.set_fill_value(FILL).map_err(&err)?;
        v.put_attribute("valid_min", 0u16).map_err(&err)?;
        v.put_attribute("valid_max", FIRST_FLAG_COUNT - 1)
            .map_err(&err)?;
        v.put_attribute("flag_values", vec![65532u16, 65533, 65534])
            .map_err(&err)?;
        v.put_attribute("flag_meanings", "Missing_EV Bowtie_Deleted Cal_Fail")
            .map_err(&err)?;
        if k < 3 {
            // Reflectance bands (geoips): scale_factor/add_offset give reflectance, the
            // radiance_* attributes radiance (radiance values: unverified placeholders).
            v.put_attribute("long_name", format!("I-band {n:02} earth view reflectance"))
                .map_err(&err)?;
            v.put_attribute("units", "none").map_err(&err)?;
            v.put_attribute("scale_factor", REFLECTANCE_SCALE)
                .map_err(&err)?;
            v.put_attribute("add_offset", 0f32).map_err(&err)?;
            v.put_attribute("radiance_units", "Watts/meter^2/steradian/micrometer")
                .map_err(&err)?;
            v.put_attribute("radiance_scale_factor", 0.01f32)
                .map_err(&err)?;
            v.put_attribute("radiance_add_offset", 0f32).map_err(&err)?;
        } else {
            // Emissive bands store scaled radiance (geoips, FORMATS.md §1).
            let (scale, offset) = if k == 3 {
                I04_SCALE_OFFSET
            } else {
                I05_SCALE_OFFSET
            };
            v.put_attribute("long_name", format!("I-band {n:02} earth view radiance"))
                .map_err(&err)?;
            v.put_attribute("units", "Watts/meter^2/steradian/micrometer")
                .map_err(&err)?;
            v.put_attribute("scale_factor", scale).map_err(&err)?;
            v.put_attribute("add_offset", offset).map_err(&err)?;
        }
        v.put_values(&counts, ..).map_err(&err)?;
        drop(v);
        // Quality flags: uint16, saturation at bit value 4 (FORMATS.md §1; the other bits of
        // the product are neither written nor read).
        let qname = format!("{var}_quality_flags");
        let qerr = write_err(target, &qname);
        let mut q = g.add_variable::<u16>(&qname, &dims).map_err(&qerr)?;
        chunked(&mut q, c, &qerr)?;
        q.put_attribute("long_name", format!("I-band {n:02} quality flags"))
            .map_err(&qerr)?;
        q.put_attribute("flag_masks", vec![SATURATION_BIT])
            .map_err(&qerr)?;
        q.put_attribute("flag_meanings", "Saturation")
            .map_err(&qerr)?;
        q.put_values(&qf, ..).map_err(&qerr)?;
    }
    f.close().map_err(write_err(target, "file"))
}

fn write_geo(
    tmp: &Path,
    target: &Path,
    granule: &Granule,
    swath: &crate::product::Swath,
    c: &Common,
    prefix: &str,
) -> Result<(), ProductError> {
    let mut f = netcdf::create(tmp).map_err(write_err(target, "file"))?;
    let sat = &prefix[1..];
    let long_name =
        format!("VIIRS/{sat} Imagery Resolution Terrain-Corrected Geolocation 6-Min L1 Swath 375m");
    header(
        &mut f,
        target,
        c,
        &format!("{prefix}03IMG"),
        &long_name,
        "OrbitNumber",
    )?;
    let mut g = f
        .add_group("geolocation_data")
        .map_err(write_err(target, "geolocation_data"))?;
    let dims = ["number_of_lines", "number_of_pixels"];
    // latitude/longitude: float32, _FillValue -999.9 (FORMATS.md §1).
    for (var, buf, units, limit) in [
        ("latitude", &swath.lat, "degrees_north", 90f32),
        ("longitude", &swath.lon, "degrees_east", 180f32),
    ] {
        let err = write_err(target, var);
        let values: Vec<f32> = buf
            .as_slice()
            .iter()
            .map(|&v| if v.is_nan() { FLOAT_FILL } else { v })
            .collect();
        let mut v = g.add_variable::<f32>(var, &dims).map_err(&err)?;
        chunked(&mut v, c, &err)?;
        v.set_fill_value(FLOAT_FILL).map_err(&err)?;
        v.put_attribute(
            "long_name",
            format!("{}s of pixel locations", capitalise(var)),
        )
        .map_err(&err)?;
        v.put_attribute("units", units).map_err(&err)?;
        v.put_attribute("valid_min", -limit).map_err(&err)?;
        v.put_attribute("valid_max", limit).map_err(&err)?;
        v.put_values(&values, ..).map_err(&err)?;
    }
    // Angles: int16 × scale_factor 0.01, _FillValue -32768 (FORMATS.md §1).
    for (var, band) in ANGLES {
        let err = write_err(target, var);
        let values: Vec<i16> = granule.bands[band]
            .as_slice()
            .par_iter()
            .map(|&v| {
                if v.is_nan() {
                    ANGLE_FILL
                } else {
                    (v / 0.01).round().clamp(-18000.0, 18000.0) as i16
                }
            })
            .collect();
        let mut v = g.add_variable::<i16>(var, &dims).map_err(&err)?;
        chunked(&mut v, c, &err)?;
        v.set_fill_value(ANGLE_FILL).map_err(&err)?;
        v.put_attribute("units", "degrees").map_err(&err)?;
        v.put_attribute("scale_factor", 0.01f32).map_err(&err)?;
        v.put_attribute("add_offset", 0f32).map_err(&err)?;
        let (lo, hi) = if var.ends_with("zenith") {
            (0i16, 18000i16)
        } else {
            (-18000, 18000)
        };
        v.put_attribute("valid_min", lo).map_err(&err)?;
        v.put_attribute("valid_max", hi).map_err(&err)?;
        v.put_values(&values, ..).map_err(&err)?;
    }
    // height: int16 m (FORMATS.md §1); the granule carries no terrain height, so 0 (unverified
    // attributes).
    {
        let err = write_err(target, "height");
        let mut v = g.add_variable::<i16>("height", &dims).map_err(&err)?;
        chunked(&mut v, c, &err)?;
        v.set_fill_value(-32768i16).map_err(&err)?;
        v.put_attribute("units", "meters").map_err(&err)?;
        v.put_values(&vec![0i16; c.rows * c.cols], ..)
            .map_err(&err)?;
    }
    // land_water_mask: uint8 0–7, fill 255, flag_values/flag_meanings as a VJ103 listing shows
    // (see viirs_l1b::is_water_class). Water pixels are written as class 3 (Shallow_Inland),
    // land as 1; no mask: all fill.
    {
        let err = write_err(target, "land_water_mask");
        let values: Vec<u8> = match &granule.water {
            Some(w) => w
                .as_slice()
                .iter()
                .map(|&x| if x != 0 { 3 } else { 1 })
                .collect(),
            None => vec![LAND_WATER_FILL; c.rows * c.cols],
        };
        let mut v = g
            .add_variable::<u8>("land_water_mask", &dims)
            .map_err(&err)?;
        chunked(&mut v, c, &err)?;
        v.set_fill_value(LAND_WATER_FILL).map_err(&err)?;
        v.put_attribute("long_name", "Land/Water mask at pixel locations")
            .map_err(&err)?;
        v.put_attribute("flag_values", vec![0u8, 1, 2, 3, 4, 5, 6, 7])
            .map_err(&err)?;
        v.put_attribute(
            "flag_meanings",
            "Shallow_Ocean Land Coastline Shallow_Inland Ephemeral Deep_Inland Continental Deep_Ocean",
        )
        .map_err(&err)?;
        v.put_values(&values, ..).map_err(&err)?;
    }
    // quality_flag: uint8 (FORMATS.md §1); all good.
    {
        let err = write_err(target, "quality_flag");
        let mut v = g.add_variable::<u8>("quality_flag", &dims).map_err(&err)?;
        chunked(&mut v, c, &err)?;
        v.put_values(&vec![0u8; c.rows * c.cols], ..)
            .map_err(&err)?;
    }
    f.close().map_err(write_err(target, "file"))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lut_is_monotonic_and_inverts_to_the_nearest_count() {
        let (s, o) = I04_SCALE_OFFSET;
        let lut = build_lut(I04_WAVELENGTH_UM, s, o);
        let valid = &lut[..FIRST_FLAG_COUNT as usize];
        assert!(valid.windows(2).all(|w| w[0] <= w[1]));
        // The I04 LUT ends near 362 K (FORMATS.md §1 quotes 361.77 K for a real LUT).
        assert!(
            (valid[valid.len() - 1] - 362.0).abs() < 2.0,
            "{}",
            valid[valid.len() - 1]
        );
        for bt in [230.0f32, 290.0, 300.123, 340.0, 361.0] {
            let (c, sat) = count_of_bt(&lut, bt);
            assert!(!sat);
            assert!(
                (lut[c as usize] - bt).abs() < 0.05,
                "{bt} → {}",
                lut[c as usize]
            );
        }
        assert_eq!(count_of_bt(&lut, 400.0), (FIRST_FLAG_COUNT - 1, true));
    }

    #[test]
    fn names_follow_the_laads_pattern() {
        let t = DateTime::parse_from_rfc3339("2024-06-08T05:42:00Z")
            .unwrap()
            .to_utc();
        let (d, g) = file_names("N20", t, t).unwrap();
        assert_eq!(d, "VJ102IMG.A2024160.0542.021.2024160054200.nc");
        assert_eq!(g, "VJ103IMG.A2024160.0542.021.2024160054200.nc");
        assert!(file_names("T", t, t).is_none());
    }
}
