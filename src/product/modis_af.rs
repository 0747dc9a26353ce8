//! NASA's MODIS active-fire product, `MOD14` (Terra) / `MYD14` (Aqua), Collection 6/6.1, as a
//! hotspot source: the fire pixels of one 5-minute granule, HDF4 (read through [`super::hdf4`]),
//! each a FIRMS MODIS [`Hotspot`] in a [`Feed`] like the FIRMS reader's, so `read_hotspots` (and
//! with it locate, rank, `strawfire ingest`, the inbox and `POST` of feeds) takes these files by
//! their names.
//!
//! The file, as far as the public readers show it (sources per item):
//! - the fire-pixel lists, one value per fire pixel, `FP_line`, `FP_sample`, `FP_latitude`,
//!   `FP_longitude`, `FP_R2`, `FP_T21`, `FP_T31`, `FP_MeanT21`, `FP_MeanT31`, `FP_MeanDT`,
//!   `FP_MAD_T21`, `FP_MAD_T31`, `FP_MAD_DT`, `FP_power`, `FP_AdjCloud`, `FP_AdjWater`,
//!   `FP_WinSize`, `FP_NumValid`, `FP_confidence`, `FP_SolZenAng`, `FP_ViewZenAng` (the names
//!   as a public Fortran reader of MOD14 files, a QFED-style Python reader (`FP_ViewZenAng`,
//!   `FP_MAD_T21`) and a Python reader of MOD14 with its MOD03 (`fire mask`, `FP_confidence`,
//!   `FP_power`) select them, found with the search tool's code index); their element types
//!   are those of LP DAAC's MOD14 fire-pixel table (V005, which C6 keeps for these lists;
//!   found with the search tool): int16 `FP_line`, `FP_sample`, `FP_NumValid`; float32
//!   `FP_latitude`, `FP_longitude`, `FP_R2`, `FP_T21`, `FP_T31`, the means and MADs and
//!   `FP_power`; uint8 `FP_AdjCloud`, `FP_AdjWater`, `FP_WinSize`, `FP_confidence` (%). The
//!   C6 additions `FP_SolZenAng`/`FP_ViewZenAng` are float32 (ours, unverified: not in that
//!   table; VIIRS's VNP14 writes its angles as float32). The reader takes any numeric type;
//! - `fire mask` (uint8, lines × pixels, the C6 classes: 0 not processed (missing input), 1 not
//!   processed (obsolete), 2 not processed (other reason), 3 non-fire water, 4 cloud, 5
//!   non-fire land, 6 unknown, 7/8/9 fire of low/nominal/high confidence; C6 User's Guide and
//!   the LP DAAC catalogue's "class 3 … non-fire water") and `algorithm QA` (uint32, same shape,
//!   LP DAAC's QA page: "32-bit unsigned integers"; zeros in our writer);
//! - global attributes `FirePix` (the fire-pixel count; real files with no fire carry no `FP_*`
//!   SDS at all, HDF4 having no empty SDS), `LandCloudPix` (a reader above uses it), and the ECS
//!   `CoreMetadata.0` (`RANGEBEGINNINGDATE`/`TIME`, `ASSOCIATEDPLATFORMSHORTNAME`) as in
//!   `MOD021KM` ([`super::modis_l1b`]).
//!
//! A fire pixel becomes: `brightness` ← `FP_T21` (T4: band 22, or 21 where 22 saturates),
//! `bright_t31` ← `FP_T31`, `frp` ← `FP_power` (MW), `confidence` ← `FP_confidence` (0–100 %),
//! `daynight` ← `FP_SolZenAng` < 85° (the C6 day limit; by the solar ephemeris at the fire's place
//! and time when the file has no `FP_SolZenAng`), `row`/`col` ← `FP_line`/`FP_sample`,
//! `scan`/`track` ← the MODIS 1 km pixel size at `FP_sample` ([`super::modis_swath`]) when the
//! mask is a full 1354-pixel scan; time and satellite (`T`/`A`) from `CoreMetadata.0`, else the
//! name `M?D14.AYYYYDDD.HHMM.CCC.…hdf`; `version` from the name's collection ("061" → "6.1").
//!
//! Coverage, for fair rankings ([`read_product`]): the fire mask says what the pass saw, and
//! with the granule's `M?D03` (same family and `AYYYYDDD.HHMM`, beside the file or in its
//! folder's `done/`, where the inbox puts an L1B pair's geolocation) its pixels have places.
//! The mask's classes map onto ours ([`mask_class`]: 1 and 2 are not processed, not our bow-tie
//! and glint classes), a regular grid of them becomes [`CoverageSample`]s (land and fire seen
//! clear, cloud and unknown not, water and unprocessed left out), as a VNP14IMG with its
//! VNP03IMG does. Without the `M?D03` the fires still load and the coverage is unknown, with a
//! warning naming the file looked for.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use super::error::ProductError;
use super::hdf4::SdFile;
use super::viirs_af::{FireProduct, FireProductKind, MaskCoverage, ProductMeta};
use super::{modis_l1b, modis_swath};
use crate::detect::{MaskClass, ObservationSummary};
use crate::hotspot::read::{Feed, FeedRow, RowWarning};
use crate::hotspot::record::{Confidence, DayNight, Hotspot};
use crate::hotspot::write::{row_fields, MODIS_HEADER};
use crate::rank::coverage::{grid_step, land_class, CoverageSample, MAX_SAMPLES};

/// The SDS of the fire mask.
pub const FIRE_MASK: &str = "fire mask";
/// The SDS of the per-pixel algorithm QA.
pub const ALGORITHM_QA: &str = "algorithm QA";
/// Solar zenith below which a fire pixel is a day detection (the C6 model's `day_max_sza_deg`).
pub const DAY_MAX_SZA_DEG: f64 = 85.0;
/// The fire-pixel lists a reader needs; the rest are optional.
pub const REQUIRED: [&str; 8] = [
    "FP_latitude",
    "FP_longitude",
    "FP_T21",
    "FP_T31",
    "FP_power",
    "FP_confidence",
    "FP_line",
    "FP_sample",
];

/// What a MOD14 file name says: (`MOD`/`MYD`, `A2024123.0535`, collection "061").
pub fn name_parts(path: &Path) -> Option<(String, String, String)> {
    let name = path.file_name()?.to_str()?;
    let mut it = name.split('.');
    let product = it.next()?.to_ascii_uppercase();
    let (date, time, collection) = (it.next()?, it.next()?, it.next()?);
    let family = product.strip_suffix("14")?;
    if !matches!(family, "MOD" | "MYD") || !name.to_ascii_lowercase().ends_with(".hdf") {
        return None;
    }
    let key = format!("{date}.{time}");
    modis_l1b::key_time(&key)?;
    Some((family.to_string(), key, collection.to_string()))
}

/// Whether a file is a MOD14/MYD14 granule, by its name.
pub fn identify(path: &Path) -> bool {
    name_parts(path).is_some()
}

/// `MOD14.A2024123.0535.061.2024123123456.hdf` for a FIRMS satellite code (`T`, `A`).
pub fn file_name(
    satellite: &str,
    start: DateTime<Utc>,
    processed: DateTime<Utc>,
    collection: &str,
) -> Option<String> {
    let (data, _) = super::write::modis::file_names(satellite, start, processed, collection)?;
    Some(data.replacen("021KM", "14", 1))
}

/// Reads a MOD14/MYD14 file into a FIRMS MODIS feed. A fire pixel with a position or confidence
/// out of range is a row warning naming its SDS; a missing list, lists of unequal length, or a
/// file that is not HDF4 is an error naming the file and SDS.
pub fn read(path: &Path) -> Result<Feed, ProductError> {
    let f = SdFile::open(path)?;
    let (start, satellite, version) = identity(&f, path)?;
    let fire_pix = f
        .attr("FirePix")?
        .and_then(|a| a.numbers().first().copied());
    let mut feed = Feed {
        path: path.to_path_buf(),
        header: MODIS_HEADER.iter().map(|s| s.to_string()).collect(),
        rows: Vec::new(),
        warnings: Vec::new(),
    };
    if !f.has("FP_latitude") && fire_pix == Some(0.0) {
        return Ok(feed);
    }
    let mut lists = Vec::new();
    for name in REQUIRED {
        lists.push(f.dataset(name)?.read_f64()?);
    }
    let n = lists[0].len();
    let optional = |name: &str| -> Result<Option<Vec<f64>>, ProductError> {
        if f.has(name) {
            f.dataset(name)?.read_f64().map(Some)
        } else {
            Ok(None)
        }
    };
    let sza = optional("FP_SolZenAng")?;
    for (name, v) in REQUIRED
        .iter()
        .zip(&lists)
        .map(|(n, v)| (*n, v.len()))
        .chain(sza.as_ref().map(|v| ("FP_SolZenAng", v.len())))
    {
        if v != n {
            return Err(ProductError::Shape {
                path: path.to_path_buf(),
                variable: name.to_string(),
                found: vec![v],
                expected: vec![n],
            });
        }
    }
    if let Some(count) = fire_pix {
        if count as usize != n {
            return Err(ProductError::Bad {
                path: path.to_path_buf(),
                variable: "FirePix".into(),
                message: format!("says {count} fire pixels; FP_latitude has {n}"),
            });
        }
    }
    let cols = if f.has(FIRE_MASK) {
        f.dataset(FIRE_MASK)?.dims().get(1).copied()
    } else {
        None
    };
    let [lat, lon, t21, t31, power, conf, line, sample] = &lists[..] else {
        unreachable!("eight lists")
    };
    for i in 0..n {
        let warn = |field: &str, message: String| RowWarning {
            path: path.to_path_buf(),
            unit: "fire pixel",
            line: (i + 1) as u64,
            field: Some(field.to_string()),
            message,
        };
        if !(-90.0..=90.0).contains(&lat[i]) {
            feed.warnings.push(warn(
                "FP_latitude",
                format!("{} is outside -90..90", lat[i]),
            ));
            continue;
        }
        if !(-180.0..=180.0).contains(&lon[i]) {
            feed.warnings.push(warn(
                "FP_longitude",
                format!("{} is outside -180..180", lon[i]),
            ));
            continue;
        }
        if !(0.0..=100.0).contains(&conf[i]) {
            feed.warnings.push(warn(
                "FP_confidence",
                format!("{} is not a percentage", conf[i]),
            ));
            continue;
        }
        let col = (sample[i] >= 0.0).then_some(sample[i] as usize);
        let row = (line[i] >= 0.0).then_some(line[i] as usize);
        let size = match (cols, col) {
            (Some(modis_swath::SAMPLES), Some(c)) if c < modis_swath::SAMPLES => {
                Some(modis_swath::pixel_size_km(c))
            }
            _ => None,
        };
        let day = match &sza {
            Some(z) => z[i] < DAY_MAX_SZA_DEG,
            None => {
                let (z, _) =
                    crate::synth::geo::SolarEphemeris::at(start).zenith_azimuth_deg(lon[i], lat[i]);
                z < DAY_MAX_SZA_DEG
            }
        };
        let known = |v: f64| v.is_finite().then_some(v);
        let hotspot = Hotspot {
            latitude: lat[i],
            longitude: lon[i],
            bt_mir_k: known(t21[i]),
            bt_tir_k: known(t31[i]),
            scan_km: size.map(|s| s.0),
            track_km: size.map(|s| s.1),
            acq_time: start,
            satellite: satellite.to_string(),
            instrument: "MODIS".into(),
            confidence: Confidence::Percent(conf[i].round() as u8),
            version: version.clone(),
            frp_mw: known(power[i]),
            daynight: if day { DayNight::Day } else { DayNight::Night },
            fire_type: None,
            row,
            col,
        };
        feed.rows.push(FeedRow {
            fields: row_fields(&hotspot).to_vec().into(),
            hotspot,
            line: (i + 1) as u64,
        });
    }
    Ok(feed)
}

/// A MOD14 fire-mask class as ours (`MaskClass as u8`): C6's three "not processed" classes
/// (0 missing input, 1 obsolete, 2 other reason) → not processed; 3 water, 4 cloud, 5 land,
/// 6 unknown, 7–9 fire are the same numbers; anything else → not processed.
pub fn mask_class(mod14: u8) -> u8 {
    match mod14 {
        3..=9 => mod14,
        _ => MaskClass::NotProcessed as u8,
    }
}

/// The `M?D03` of a MOD14 granule: same family and granule key, any collection and processing
/// time, beside it or in its folder's `done/` (the newest name when several).
pub fn geolocation_of(path: &Path) -> Option<PathBuf> {
    let (family, key, _) = name_parts(path)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    [dir.to_path_buf(), dir.join("done")].iter().find_map(|d| {
        let mut found: Vec<PathBuf> = std::fs::read_dir(d)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                modis_l1b::name_parts(p)
                    .is_some_and(|q| q.geo && q.family == family && q.key == key)
            })
            .collect();
        found.sort();
        found.pop()
    })
}

/// Reads a MOD14/MYD14 file as an official fire product: its fires ([`read`]) and, with its
/// `M?D03` ([`geolocation_of`]), the coverage of its fire mask. A missing or unreadable
/// geolocation is a warning (coverage unknown), never an error: the fires stand on their own.
pub fn read_product(path: &Path) -> Result<FireProduct, ProductError> {
    let feed = read(path)?;
    let f = SdFile::open(path)?;
    let (start, satellite, version) = identity(&f, path)?;
    let mut warnings = Vec::new();
    let coverage = if !f.has(FIRE_MASK) {
        warnings.push(format!(
            "{}: no `{FIRE_MASK}`; coverage unknown",
            path.display()
        ));
        None
    } else {
        match geolocation_of(path) {
            None => {
                let (family, key, _) = name_parts(path).unwrap_or_default();
                warnings.push(format!(
                    "{}: its geolocation {family}03.{key}.*.hdf is not beside it; coverage unknown",
                    path.display()
                ));
                None
            }
            Some(geo) => match mask_coverage(&f, path, &geo) {
                Ok(c) => Some(c),
                Err(e) => {
                    warnings.push(format!("{e}; coverage unknown"));
                    None
                }
            },
        }
    };
    Ok(FireProduct {
        meta: ProductMeta {
            kind: FireProductKind::Mod14,
            start,
            satellite: satellite.to_string(),
            version,
        },
        feed,
        coverage,
        warnings,
    })
}

/// The fire mask's classes ([`mask_class`]) counted, and sampled on a regular grid placed by the
/// `M?D03`'s `Latitude`/`Longitude` (which must have the mask's shape).
fn mask_coverage(f: &SdFile, path: &Path, geo: &Path) -> Result<MaskCoverage, ProductError> {
    let mask_sds = f.dataset(FIRE_MASK)?;
    let dims = mask_sds.dims().to_vec();
    if dims.len() != 2 {
        return Err(ProductError::Shape {
            path: path.to_path_buf(),
            variable: FIRE_MASK.into(),
            found: dims,
            expected: vec![0, 0],
        });
    }
    let (rows, cols) = (dims[0], dims[1]);
    let mask: Vec<u8> = mask_sds
        .read_f64()?
        .into_iter()
        .map(|v| mask_class(v.clamp(0.0, 255.0) as u8))
        .collect();
    let g = SdFile::open(geo)?;
    let mut latlon = Vec::new();
    for name in ["Latitude", "Longitude"] {
        let sds = g.dataset(name)?;
        if sds.dims() != [rows, cols] {
            return Err(ProductError::Shape {
                path: geo.to_path_buf(),
                variable: name.into(),
                found: sds.dims().to_vec(),
                expected: vec![rows, cols],
            });
        }
        latlon.push(sds.read_f64()?);
    }
    let (lat, lon) = (&latlon[0], &latlon[1]);
    let k = grid_step(rows, cols, MAX_SAMPLES);
    let mut samples = Vec::new();
    for r in (0..rows).step_by(k) {
        for c in (0..cols).step_by(k) {
            let i = r * cols + c;
            // MOD03 fill is -999; anything off the globe is no place.
            if !(-90.0..=90.0).contains(&lat[i]) || !(-180.0..=180.0).contains(&lon[i]) {
                continue;
            }
            if let Some(clear) = land_class(mask[i]) {
                samples.push(CoverageSample {
                    lon: lon[i],
                    lat: lat[i],
                    clear,
                });
            }
        }
    }
    let mut counts = [0u64; 10];
    for &m in &mask {
        counts[m as usize] += 1;
    }
    let core = f
        .attr("CoreMetadata.0")?
        .and_then(|a| a.text().map(str::to_string));
    let total: u64 = counts.iter().sum();
    let (day, night) = match core
        .as_deref()
        .and_then(|c| modis_l1b::odl_value(c, "DAYNIGHTFLAG"))
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        Some("day") => (total, 0),
        Some("night") => (0, total),
        _ => (0, 0),
    };
    Ok(MaskCoverage {
        shape: (rows, cols),
        summary: ObservationSummary::from_counts(counts, day, night),
        samples,
        geolocation: geo.to_path_buf(),
    })
}

/// (start, FIRMS satellite, FIRMS version) from `CoreMetadata.0`, else the file name.
fn identity(
    f: &SdFile,
    path: &Path,
) -> Result<(DateTime<Utc>, &'static str, String), ProductError> {
    let parts = name_parts(path);
    let core = f
        .attr("CoreMetadata.0")?
        .and_then(|a| a.text().map(str::to_string));
    let from_core = core.as_deref().and_then(|c| {
        let d =
            NaiveDate::parse_from_str(&modis_l1b::odl_value(c, "RANGEBEGINNINGDATE")?, "%Y-%m-%d")
                .ok()?;
        let t = NaiveTime::parse_from_str(
            &modis_l1b::odl_value(c, "RANGEBEGINNINGTIME")?,
            "%H:%M:%S%.f",
        )
        .ok()?;
        Some(NaiveDateTime::new(d, t).and_utc())
    });
    let start = from_core
        .or_else(|| parts.as_ref().and_then(|p| modis_l1b::key_time(&p.1)))
        .ok_or_else(|| ProductError::Missing {
            path: path.to_path_buf(),
            what: "attribute",
            name: "CoreMetadata.0 RANGEBEGINNINGDATE/TIME (and no A<yyyyddd>.<hhmm> in the name)"
                .into(),
        })?;
    let satellite = core
        .as_deref()
        .and_then(|c| modis_l1b::odl_value(c, "ASSOCIATEDPLATFORMSHORTNAME"))
        .and_then(|p| modis_l1b::satellite_code(&p))
        .or(match parts.as_ref().map(|p| p.0.as_str()) {
            Some("MOD") => Some("T"),
            Some("MYD") => Some("A"),
            _ => None,
        })
        .ok_or_else(|| ProductError::Missing {
            path: path.to_path_buf(),
            what: "attribute",
            name: "CoreMetadata.0 ASSOCIATEDPLATFORMSHORTNAME (and no MOD14/MYD14 name)".into(),
        })?;
    let version = match parts.as_ref().map(|p| p.2.as_str()) {
        Some("061") => "6.1".to_string(),
        Some("006") => "6.0".to_string(),
        Some(c) => c.to_string(),
        None => "6.1".to_string(),
    };
    Ok((start, satellite, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let p = Path::new("/x/MYD14.A2024123.0535.061.2024123123456.hdf");
        assert_eq!(
            name_parts(p),
            Some(("MYD".into(), "A2024123.0535".into(), "061".into()))
        );
        assert!(identify(Path::new("MOD14.A2024123.0535.006.1.HDF")));
        assert!(!identify(Path::new("MOD021KM.A2024123.0535.061.1.hdf")));
        assert!(!identify(Path::new("MOD14A1.A2024123.h26v05.061.1.hdf")));
        assert!(!identify(Path::new("MOD14.A2024123.0535.061.1.nc")));
        let start = NaiveDate::from_ymd_opt(2024, 5, 2)
            .unwrap()
            .and_hms_opt(5, 35, 0)
            .unwrap()
            .and_utc();
        assert_eq!(
            file_name("A", start, start, "061").unwrap(),
            "MYD14.A2024123.0535.061.2024123053500.hdf"
        );
    }
}
