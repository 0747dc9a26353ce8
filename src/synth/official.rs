//! Writes the official VIIRS active-fire products (NASA `VNP14IMG`, CSPP `AFIMG` NetCDF and
//! text) and a minimal `VNP03IMG` geolocation, from a list of fire pixels, with the real netCDF
//! library: the files `product::viirs_af` reads in tests, and the "official product" against
//! which `strawfire compare` is tested (made from a scene's truth or from our own detections
//! with some removed and some added, so the expected counts are known exactly).
//!
//! Layout sources, per item:
//! - VNP14IMG: the team's product-format notes (FORMATS.md) §3 (variable names and types from the NASA 375 m
//!   Active Fire User's Guide v1.4 §2.2 as audited there); all arrays at the root on HDF5
//!   "phony" dimensions (`phony_dim_N`, the names netCDF gives dimensions without scales);
//!   fire-mask classes 0–9 (GEOS-ESM QFED `src/qfed/fire_products.py`); `FP_confidence` the
//!   pixel's class 7/8/9, `FP_day` 1/0; global attributes `FirePix`, `DayNightFlag`,
//!   `ShortName`, `StartTime`/`EndTime` (`YYYY-MM-DD HH:MM:SS.000`), `PlatformShortName`,
//!   `VNP03IMG` and the bounding coordinates (FORMATS.md §3; the LAADS VNP14 file spec lists the
//!   same names for the 750 m sibling).
//! - AFIMG NetCDF: group `Fire Pixels` with `FP_latitude`, `FP_longitude` (float32), `FP_T4`
//!   (float32, `units = "kelvins"`), `FP_power` (float32, MW), `FP_confidence` (uint8 7/8/9,
//!   `_FillValue = 0`); root `data_id = "AFIMG"`, `satellite_name`, `instrument_name = "VIIRS"`
//!   (satpy `viirs_edr_active_fires.py`, its yaml and test).
//! - AFIMG text: 15 header lines (satpy `skip_rows: 15`; their wording here is ours, no real
//!   header was found), then `latitude, longitude, T4, Along-scan, Along-track, confidence_cat,
//!   power` per fire (satpy yaml `fires_text_img`; number formats as in satpy's test rows).
//! - VNP03IMG: group `geolocation_data` with `latitude`/`longitude` (float32, `_FillValue
//!   -999.9`) and `land_water_mask` (uint8, fill 255) on `number_of_lines` × `number_of_pixels`;
//!   global `time_coverage_start`, `platform` (FORMATS.md §1). Only what the fire product's
//!   coverage needs; the full L1B geolocation is the readers' generator's.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::hotspot::record::{Confidence, DayNight, Hotspot};

/// Why a product file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: writing {what}")]
pub struct WriteError {
    pub path: std::path::PathBuf,
    pub what: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

fn werr<E: std::error::Error + Send + Sync + 'static>(
    path: &Path,
    what: &str,
) -> impl FnOnce(E) -> WriteError {
    let (path, what) = (path.to_path_buf(), what.to_string());
    move |e| WriteError {
        path,
        what,
        source: Box::new(e),
    }
}

/// A granule's official fire list and what the product says about the whole granule.
#[derive(Debug, Clone)]
pub struct OfficialGranule {
    /// Granule start (`StartTime`, and the AFIMG file name's `_d…_t…`).
    pub start: DateTime<Utc>,
    /// FIRMS code: `N`, `N20`, `N21`.
    pub satellite: String,
    /// Fire pixels; VNP14IMG uses `row`/`col` (`FP_line`/`FP_sample`).
    pub fires: Vec<Hotspot>,
    /// The fire mask, `lines × pixels` row-major, when the product should have one (VNP14IMG);
    /// fires are written into it with their class.
    pub mask: Option<(Vec<u8>, (usize, usize))>,
    /// The `VNP03IMG` attribute: the geolocation file's name.
    pub geolocation_name: String,
}

fn class_of(c: Confidence) -> u8 {
    match c {
        Confidence::Low => 7,
        Confidence::Nominal => 8,
        Confidence::High => 9,
        Confidence::Percent(p) if p < 30 => 7,
        Confidence::Percent(p) if p < 80 => 8,
        Confidence::Percent(_) => 9,
    }
}

/// NASA's platform names (`PlatformShortName`).
fn platform(sat: &str) -> &'static str {
    match sat {
        "N20" => "JPSS-1",
        "N21" => "JPSS-2",
        _ => "SUOMI-NPP",
    }
}

/// CSPP's satellite names (`satellite_name`, file names).
fn cspp_satellite(sat: &str) -> &'static str {
    match sat {
        "N20" => "j01",
        "N21" => "j02",
        _ => "npp",
    }
}

/// `VNP14IMG.AYYYYDDD.HHMM.002.<production>.nc` (or `VJ114IMG`, `VJ214IMG`) for a granule.
pub fn vnp14img_name(g: &OfficialGranule) -> String {
    let prefix = match g.satellite.as_str() {
        "N20" => "VJ114IMG",
        "N21" => "VJ214IMG",
        _ => "VNP14IMG",
    };
    format!(
        "{prefix}.A{}.002.{}.nc",
        g.start.format("%Y%j.%H%M"),
        g.start.format("%Y%j%H%M%S")
    )
}

/// The matching `VNP03IMG` / `VJ103IMG` / `VJ203IMG` name.
pub fn vnp03img_name(g: &OfficialGranule) -> String {
    let prefix = match g.satellite.as_str() {
        "N20" => "VJ103IMG",
        "N21" => "VJ203IMG",
        _ => "VNP03IMG",
    };
    format!(
        "{prefix}.A{}.002.{}.nc",
        g.start.format("%Y%j.%H%M"),
        g.start.format("%Y%j%H%M%S")
    )
}

/// `AFIMG_{sat}_d{YYYYMMDD}_t{HHMMSSf}_e…_b00000_c…_cspp_dev.{ext}` (satpy's pattern).
pub fn afimg_name(g: &OfficialGranule, ext: &str) -> String {
    let end = g.start + chrono::Duration::seconds(85);
    format!(
        "AFIMG_{}_d{}_t{}{}_e{}{}_b00000_c{}000000_cspp_dev.{ext}",
        cspp_satellite(&g.satellite),
        g.start.format("%Y%m%d"),
        g.start.format("%H%M%S"),
        g.start.timestamp_subsec_millis() / 100,
        end.format("%H%M%S"),
        end.timestamp_subsec_millis() / 100,
        g.start.format("%Y%m%d%H%M%S"),
    )
}

/// A variable of the fire-pixel list and how to get its value from a hotspot.
type Column<T> = (&'static str, fn(&Hotspot) -> T);

/// Writes a VNP14IMG file.
pub fn write_vnp14img(path: &Path, g: &OfficialGranule) -> Result<(), WriteError> {
    let mut f = netcdf::create(path).map_err(werr(path, "the file"))?;
    let n = g.fires.len();
    let (lines, pixels) = g.mask.as_ref().map(|m| m.1).unwrap_or((0, 0));
    f.add_dimension("phony_dim_0", lines)
        .map_err(werr(path, "phony_dim_0"))?;
    f.add_dimension("phony_dim_1", pixels)
        .map_err(werr(path, "phony_dim_1"))?;
    f.add_dimension("phony_dim_2", n)
        .map_err(werr(path, "phony_dim_2"))?;
    // Global attributes.
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S.000").to_string();
    let end = g.start + chrono::Duration::minutes(6);
    let day = g
        .fires
        .iter()
        .filter(|h| h.daynight == DayNight::Day)
        .count();
    let flag = match (day, n - day) {
        (0, 0) | (_, 0) => "Day",
        (0, _) => "Night",
        _ => "Both",
    };
    let lat_range = range(g.fires.iter().map(|h| h.latitude));
    let lon_range = range(g.fires.iter().map(|h| h.longitude));
    let text_attrs = [
        ("ShortName", vnp14_short_name(&g.satellite).to_string()),
        ("PlatformShortName", platform(&g.satellite).to_string()),
        ("StartTime", fmt(g.start)),
        ("EndTime", fmt(end)),
        ("DayNightFlag", flag.to_string()),
        ("VNP03IMG", g.geolocation_name.clone()),
    ];
    for (k, v) in text_attrs {
        f.add_attribute(k, v.as_str()).map_err(werr(path, k))?;
    }
    f.add_attribute("FirePix", n as i32)
        .map_err(werr(path, "FirePix"))?;
    for (k, v) in [
        ("NorthBoundingCoordinate", lat_range.1),
        ("SouthBoundingCoordinate", lat_range.0),
        ("EastBoundingCoordinate", lon_range.1),
        ("WestBoundingCoordinate", lon_range.0),
    ] {
        f.add_attribute(k, v as f32).map_err(werr(path, k))?;
    }
    // The fire mask and algorithm QA (lines × pixels).
    if let Some((mask, (lines, pixels))) = &g.mask {
        let mut mask = mask.clone();
        for h in &g.fires {
            if let (Some(r), Some(c)) = (h.row, h.col) {
                if r < *lines && c < *pixels {
                    mask[r * pixels + c] = class_of(h.confidence);
                }
            }
        }
        let mut v = f
            .add_variable::<u8>("fire mask", &["phony_dim_0", "phony_dim_1"])
            .map_err(werr(path, "fire mask"))?;
        v.set_compression(4, true)
            .map_err(werr(path, "fire mask"))?;
        v.put_values(&mask, ..).map_err(werr(path, "fire mask"))?;
        let mut v = f
            .add_variable::<u32>("algorithm QA", &["phony_dim_0", "phony_dim_1"])
            .map_err(werr(path, "algorithm QA"))?;
        v.set_compression(4, true)
            .map_err(werr(path, "algorithm QA"))?;
        v.put_values(&vec![0u32; lines * pixels], ..)
            .map_err(werr(path, "algorithm QA"))?;
    }
    // The fire-pixel lists.
    let f32s: [Column<f64>; 17] = [
        ("FP_latitude", |h| h.latitude),
        ("FP_longitude", |h| h.longitude),
        ("FP_power", |h| h.frp_mw.unwrap_or(f64::NAN)),
        ("FP_T4", |h| h.bt_mir_k.unwrap_or(f64::NAN)),
        ("FP_T5", |h| h.bt_tir_k.unwrap_or(f64::NAN)),
        ("FP_MeanT4", |h| h.bt_tir_k.unwrap_or(f64::NAN) + 5.0),
        ("FP_MeanT5", |h| h.bt_tir_k.unwrap_or(f64::NAN)),
        ("FP_MeanDT", |_| 5.0),
        ("FP_MAD_T4", |_| 1.0),
        ("FP_MAD_T5", |_| 1.0),
        ("FP_MAD_DT", |_| 1.0),
        ("FP_Rad13", |_| 0.0),
        ("FP_MeanRad13", |_| 0.0),
        ("FP_SolZenAng", |_| 0.0),
        ("FP_SolAzAng", |_| 0.0),
        ("FP_ViewZenAng", |_| 0.0),
        ("FP_ViewAzAng", |_| 0.0),
    ];
    for (name, get) in f32s {
        let vals: Vec<f32> = g.fires.iter().map(|h| get(h) as f32).collect();
        let mut v = f
            .add_variable::<f32>(name, &["phony_dim_2"])
            .map_err(werr(path, name))?;
        v.put_values(&vals, ..).map_err(werr(path, name))?;
    }
    let u16s: [Column<u16>; 5] = [
        ("FP_line", |h| h.row.unwrap_or(0) as u16),
        ("FP_sample", |h| h.col.unwrap_or(0) as u16),
        ("FP_WinSize", |_| 11),
        ("FP_AdjCloud", |_| 0),
        ("FP_AdjWater", |_| 0),
    ];
    for (name, get) in u16s {
        let vals: Vec<u16> = g.fires.iter().map(get).collect();
        let mut v = f
            .add_variable::<u16>(name, &["phony_dim_2"])
            .map_err(werr(path, name))?;
        v.put_values(&vals, ..).map_err(werr(path, name))?;
    }
    let u8s: [Column<u8>; 2] = [
        ("FP_confidence", |h| class_of(h.confidence)),
        ("FP_day", |h| u8::from(h.daynight == DayNight::Day)),
    ];
    for (name, get) in u8s {
        let vals: Vec<u8> = g.fires.iter().map(get).collect();
        let mut v = f
            .add_variable::<u8>(name, &["phony_dim_2"])
            .map_err(werr(path, name))?;
        v.put_values(&vals, ..).map_err(werr(path, name))?;
    }
    f.close().map_err(werr(path, "the file"))
}

fn vnp14_short_name(sat: &str) -> &'static str {
    match sat {
        "N20" => "VJ114IMG",
        "N21" => "VJ214IMG",
        _ => "VNP14IMG",
    }
}

fn range(v: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = v.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    if lo.is_finite() {
        (lo, hi)
    } else {
        (0.0, 0.0)
    }
}

/// Writes the `geolocation_data` of a VNP03IMG file: `lat`/`lon` row-major `lines × pixels`
/// (NaN written as the fill -999.9); every pixel land (`land_water_mask` 1).
pub fn write_vnp03img(
    path: &Path,
    g: &OfficialGranule,
    (lines, pixels): (usize, usize),
    lat: &[f32],
    lon: &[f32],
) -> Result<(), WriteError> {
    const FILL: f32 = -999.9;
    let mut f = netcdf::create(path).map_err(werr(path, "the file"))?;
    f.add_attribute(
        "time_coverage_start",
        g.start
            .format("%Y-%m-%dT%H:%M:%S.000Z")
            .to_string()
            .as_str(),
    )
    .map_err(werr(path, "time_coverage_start"))?;
    let platform = match g.satellite.as_str() {
        "N20" => "JPSS-1",
        "N21" => "JPSS-2",
        _ => "Suomi-NPP",
    };
    f.add_attribute("platform", platform)
        .map_err(werr(path, "platform"))?;
    f.add_dimension("number_of_lines", lines)
        .map_err(werr(path, "number_of_lines"))?;
    f.add_dimension("number_of_pixels", pixels)
        .map_err(werr(path, "number_of_pixels"))?;
    let mut grp = f
        .add_group("geolocation_data")
        .map_err(werr(path, "geolocation_data"))?;
    for (name, vals) in [("latitude", lat), ("longitude", lon)] {
        let vals: Vec<f32> = vals
            .iter()
            .map(|v| if v.is_nan() { FILL } else { *v })
            .collect();
        let mut v = grp
            .add_variable::<f32>(name, &["number_of_lines", "number_of_pixels"])
            .map_err(werr(path, name))?;
        v.set_fill_value(FILL).map_err(werr(path, name))?;
        v.set_compression(4, true).map_err(werr(path, name))?;
        v.put_values(&vals, ..).map_err(werr(path, name))?;
    }
    let mut v = grp
        .add_variable::<u8>("land_water_mask", &["number_of_lines", "number_of_pixels"])
        .map_err(werr(path, "land_water_mask"))?;
    v.set_fill_value(255u8)
        .map_err(werr(path, "land_water_mask"))?;
    v.set_compression(4, true)
        .map_err(werr(path, "land_water_mask"))?;
    v.put_values(&vec![1u8; lines * pixels], ..)
        .map_err(werr(path, "land_water_mask"))?;
    f.close().map_err(werr(path, "the file"))
}

/// Writes a CSPP AFIMG NetCDF file.
pub fn write_afimg_netcdf(path: &Path, g: &OfficialGranule) -> Result<(), WriteError> {
    let mut f = netcdf::create(path).map_err(werr(path, "the file"))?;
    for (k, v) in [
        ("data_id", "AFIMG"),
        (
            "satellite_name",
            &cspp_satellite(&g.satellite).to_ascii_uppercase(),
        ),
        ("instrument_name", "VIIRS"),
    ] {
        f.add_attribute(k, v).map_err(werr(path, k))?;
    }
    let mut grp = f
        .add_group("Fire Pixels")
        .map_err(werr(path, "Fire Pixels"))?;
    grp.add_dimension("phony_dim_0", g.fires.len())
        .map_err(werr(path, "phony_dim_0"))?;
    let f32s: [(Column<f64>, &str); 4] = [
        (("FP_latitude", |h| h.latitude), "degrees_north"),
        (("FP_longitude", |h| h.longitude), "degrees_east"),
        (("FP_T4", |h| h.bt_mir_k.unwrap_or(f64::NAN)), "kelvins"),
        (("FP_power", |h| h.frp_mw.unwrap_or(f64::NAN)), "MW"),
    ];
    for ((name, get), units) in f32s {
        let vals: Vec<f32> = g.fires.iter().map(|h| get(h) as f32).collect();
        let mut v = grp
            .add_variable::<f32>(name, &["phony_dim_0"])
            .map_err(werr(path, name))?;
        v.put_attribute("units", units).map_err(werr(path, name))?;
        v.put_values(&vals, ..).map_err(werr(path, name))?;
    }
    let vals: Vec<u8> = g.fires.iter().map(|h| class_of(h.confidence)).collect();
    let mut v = grp
        .add_variable::<u8>("FP_confidence", &["phony_dim_0"])
        .map_err(werr(path, "FP_confidence"))?;
    v.set_fill_value(0u8).map_err(werr(path, "FP_confidence"))?;
    v.put_values(&vals, ..)
        .map_err(werr(path, "FP_confidence"))?;
    f.close().map_err(werr(path, "the file"))
}

/// The AFIMG text: 15 header lines, then one line per fire.
pub fn afimg_text(g: &OfficialGranule) -> String {
    let mut s = String::new();
    let header = [
        "# Active Fires I-band (AFIMG) fire pixel list".to_string(),
        format!("# satellite: {}", cspp_satellite(&g.satellite)),
        format!("# granule start: {}", g.start.format("%Y-%m-%d %H:%M:%S")),
        "# instrument: VIIRS".to_string(),
        "#".to_string(),
        "# column 1: latitude of fire pixel (degrees)".to_string(),
        "# column 2: longitude of fire pixel (degrees)".to_string(),
        "# column 3: I04 brightness temperature of fire pixel (K)".to_string(),
        "# column 4: Along-scan fire pixel resolution (km)".to_string(),
        "# column 5: Along-track fire pixel resolution (km)".to_string(),
        "# column 6: detection confidence category ([7,8,9]->[lo,med,hi])".to_string(),
        "# column 7: fire radiative power (MW)".to_string(),
        "#".to_string(),
        format!("# number of fire pixels: {}", g.fires.len()),
        "#".to_string(),
    ];
    debug_assert_eq!(header.len(), 15);
    for line in header {
        s.push_str(&line);
        s.push('\n');
    }
    for h in &g.fires {
        s.push_str(&format!(
            "{:12.8}, {:13.8}, {:13.8}, {:5.2}, {:5.2}, {}, {:12.8}\n",
            h.latitude,
            h.longitude,
            h.bt_mir_k.unwrap_or(f64::NAN),
            h.scan_km.unwrap_or(f64::NAN),
            h.track_km.unwrap_or(f64::NAN),
            class_of(h.confidence),
            h.frp_mw.unwrap_or(f64::NAN)
        ));
    }
    s
}

/// Writes the AFIMG text file.
pub fn write_afimg_text(path: &Path, g: &OfficialGranule) -> Result<(), WriteError> {
    std::fs::write(path, afimg_text(g)).map_err(werr(path, "the file"))
}
