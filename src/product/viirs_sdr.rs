//! NOAA/CSPP VIIRS I-band SDR as a direct-broadcast station's CSPP writes it: HDF5 files
//! `SVI01`…`SVI05` with `GITCO` (terrain-corrected) or `GIMGO` geolocation, one granule
//! (≈ 86 s, 48 scans) or several aggregated in one file, read into a [`Granule`].
//!
//! Layout and rules (FORMATS.md §2; satpy `satpy/readers/core/viirs_atms_sdr.py`,
//! `satpy/etc/readers/viirs_sdr.yaml`, `satpy/tests/reader_tests/test_viirs_sdr.py`):
//! - `/All_Data/VIIRS-I{n}-SDR_All/Reflectance` (I1–I3) or `BrightnessTemperature` (I4, I5):
//!   uint16 counts; `…Factors` float32 `[scale, offset]` per granule; physical value =
//!   count × scale + offset over each granule's block of rows (`N_Number_Of_Scans` × 32 rows,
//!   or 48 × 32 when the file keeps whole granules); factors ≤ -999 are fill;
//! - counts ≥ 65528 are JPSS fill values (65533 onboard pixel trim = bow-tie deleted) → NaN;
//!   `QF1_VIIRSI{n}SDR` bits 2–3 non-zero mark saturation: the pixel keeps the largest value
//!   the granule's factors encode (bits 2–3 "saturated pixel" as the JPSS CDFCB-X SDR table
//!   lays them out, recalled rather than checked here; the Imagery EDR decoder in
//!   mdpiper/viirs-cloudmask `viirs_decode_quality_flag.pro` has saturation at bit 2 too);
//! - time from `/Data_Products/VIIRS-I{n}-SDR/VIIRS-I{n}-SDR_Aggr` attributes
//!   `AggregateBeginningDate` + `AggregateBeginningTime`, orbit `AggregateBeginningOrbitNumber`,
//!   platform from the root `Platform_Short_Name` (`NPP`, `J01`, `J02`);
//! - geolocation float32 `Latitude`, `Longitude`, `SolarZenithAngle`, `SatelliteZenithAngle`,
//!   `SolarAzimuthAngle`, `SatelliteAzimuthAngle` under `/All_Data/VIIRS-IMG-GEO-TC_All/`
//!   (GITCO) or `/All_Data/VIIRS-IMG-GEO_All/` (GIMGO); floats ≤ -999 are fill. The I-band
//!   geolocation has no land/water mask (satpy's reader lists none), so `water` is `None`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use hdf5_metno as hdf5;
use rayon::prelude::*;

use super::error::ProductError;
use super::h5;
use super::viirs_l1b::{satellite_code, BOWTIE_DELETED, FILL, FIRST_FLAG_COUNT, ROWS_PER_SCAN};
use super::{Geometry, Granule, ProductKind, Swath};
use crate::raster::{BandBuf, SceneMeta};

/// Scans in a full SDR granule (FORMATS.md §2, satpy test: "SDR files always produce data
/// with 48 scans per granule").
pub const SCANS_PER_GRANULE: usize = 48;
/// Floats at or below this are fill (satpy `mask_fill_values`: `fill_max_float` -999).
pub const FLOAT_FILL_MAX: f32 = -999.0;
/// The float fill this crate writes (JPSS NA_FLOAT32_FILL).
pub const FLOAT_FILL: f32 = -999.9;

/// One I-band: file prefix, product group (satpy `VIIRS_DATASET_KEYS`), canonical band name,
/// calibrated variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdrBand {
    pub prefix: &'static str,
    pub group: &'static str,
    pub band: &'static str,
    pub variable: &'static str,
    /// `QF1_VIIRSI{n}SDR`.
    pub quality: &'static str,
}

/// The five I-band SDR files.
pub const BANDS: [SdrBand; 5] = [
    SdrBand {
        prefix: "SVI01",
        group: "VIIRS-I1-SDR",
        band: "I1",
        variable: "Reflectance",
        quality: "QF1_VIIRSI1SDR",
    },
    SdrBand {
        prefix: "SVI02",
        group: "VIIRS-I2-SDR",
        band: "I2",
        variable: "Reflectance",
        quality: "QF1_VIIRSI2SDR",
    },
    SdrBand {
        prefix: "SVI03",
        group: "VIIRS-I3-SDR",
        band: "I3",
        variable: "Reflectance",
        quality: "QF1_VIIRSI3SDR",
    },
    SdrBand {
        prefix: "SVI04",
        group: "VIIRS-I4-SDR",
        band: "I4",
        variable: "BrightnessTemperature",
        quality: "QF1_VIIRSI4SDR",
    },
    SdrBand {
        prefix: "SVI05",
        group: "VIIRS-I5-SDR",
        band: "I5",
        variable: "BrightnessTemperature",
        quality: "QF1_VIIRSI5SDR",
    },
];

/// The geolocation files: prefix and product group; terrain-corrected first (preferred).
pub const GEOLOCATION: [(&str, &str); 2] =
    [("GITCO", "VIIRS-IMG-GEO-TC"), ("GIMGO", "VIIRS-IMG-GEO")];

/// The geolocation angle datasets with their canonical band names.
pub const ANGLES: [(&str, &str); 4] = [
    ("SolarZenithAngle", "SZA"),
    ("SatelliteZenithAngle", "VZA"),
    ("SolarAzimuthAngle", "SAA"),
    ("SatelliteAzimuthAngle", "VAA"),
];

/// The parts of an SDR file name
/// (`SVI04_npp_d20240608_t0542000_e0543242_b65432_c20240608060000123456_cspp_dev.h5`, satpy
/// viirs_sdr.yaml `file_patterns`): prefix (`SVI04`), platform (`npp`), and the key
/// `d20240608_t0542000_e0543242_b65432` every file of one granule (or aggregate) shares.
pub fn name_parts(path: &Path) -> Option<(String, String, String)> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".h5")?;
    let parts: Vec<&str> = stem.split('_').collect();
    if parts.len() < 6 {
        return None;
    }
    let ok = |p: &str, c: char| p.starts_with(c) && p.len() > 1;
    if !(ok(parts[2], 'd') && ok(parts[3], 't') && ok(parts[4], 'e') && ok(parts[5], 'b')) {
        return None;
    }
    let prefix = parts[0].to_ascii_uppercase();
    let known =
        BANDS.iter().any(|b| b.prefix == prefix) || GEOLOCATION.iter().any(|(p, _)| *p == prefix);
    if !known {
        return None;
    }
    Some((prefix, parts[1].to_string(), parts[2..6].join("_")))
}

/// The files of the SDR set `path` belongs to that lie beside it: the five bands (in I1..I5
/// order, `None` where absent) and the geolocation (GITCO preferred, else GIMGO).
pub fn find_set(path: &Path) -> Option<([Option<PathBuf>; 5], Option<PathBuf>)> {
    let (_, platform, key) = name_parts(path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut siblings: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter_map(|p| {
            let (prefix, pl, k) = name_parts(&p)?;
            (k == key && pl.eq_ignore_ascii_case(&platform)).then_some((prefix, p))
        })
        .collect();
    // Several processing times of one granule: take the newest (lexically last `_c…`).
    siblings.sort();
    let pick = |prefix: &str| {
        siblings
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, path)| path.clone())
    };
    let bands = BANDS.map(|b| pick(b.prefix));
    let geo = GEOLOCATION.iter().find_map(|(p, _)| pick(p));
    Some((bands, geo))
}

/// Parses `AggregateBeginningDate` + `AggregateBeginningTime` ("20240608", "054200.000000Z").
fn parse_time(
    path: &Path,
    object: &str,
    date: &str,
    time: &str,
) -> Result<DateTime<Utc>, ProductError> {
    let s = format!("{}{}", date.trim(), time.trim());
    NaiveDateTime::parse_from_str(&s, "%Y%m%d%H%M%S%.fZ")
        .or_else(|_| NaiveDateTime::parse_from_str(&s, "%Y%m%d%H%M%SZ"))
        .map(|t| t.and_utc())
        .map_err(|e| ProductError::Bad {
            path: path.to_path_buf(),
            variable: format!("{object}:AggregateBeginningDate/Time"),
            message: format!(
                "{date:?} {time:?} is not a date and time like 20240608 054200.000000Z ({e})"
            ),
        })
}

/// What every file of one aggregate states.
#[derive(Debug, Clone, PartialEq)]
struct Aggregate {
    start: DateTime<Utc>,
    orbit: i64,
    platform: String,
    /// Scans of each granule (`N_Number_Of_Scans`).
    scans: Vec<usize>,
}

fn aggregate(file: &hdf5::File, path: &Path, group: &str) -> Result<Aggregate, ProductError> {
    let root: &hdf5::Location = file;
    let platform = h5::attr_str_req(root, path, "/", "Platform_Short_Name")?;
    let aggr_name = format!("Data_Products/{group}/{group}_Aggr");
    let aggr = h5::location(file, path, &aggr_name)?;
    let date = h5::attr_str_req(&aggr, path, &aggr_name, "AggregateBeginningDate")?;
    let time = h5::attr_str_req(&aggr, path, &aggr_name, "AggregateBeginningTime")?;
    let start = parse_time(path, &aggr_name, &date, &time)?;
    let orbit = h5::attr_int_req(&aggr, path, &aggr_name, "AggregateBeginningOrbitNumber")?;
    let n = h5::attr_int_req(&aggr, path, &aggr_name, "AggregateNumberGranules")?;
    if !(1..=1000).contains(&n) {
        return Err(ProductError::Bad {
            path: path.to_path_buf(),
            variable: format!("{aggr_name}:AggregateNumberGranules"),
            message: format!("{n} granules"),
        });
    }
    let mut scans = Vec::with_capacity(n as usize);
    for g in 0..n {
        let name = format!("Data_Products/{group}/{group}_Gran_{g}");
        let gran = h5::location(file, path, &name)?;
        let s = h5::attr_int_req(&gran, path, &name, "N_Number_Of_Scans")?;
        if !(0..=SCANS_PER_GRANULE as i64).contains(&s) {
            return Err(ProductError::Bad {
                path: path.to_path_buf(),
                variable: format!("{name}:N_Number_Of_Scans"),
                message: format!("{s} scans (0–{SCANS_PER_GRANULE})"),
            });
        }
        scans.push(s as usize);
    }
    Ok(Aggregate {
        start,
        orbit,
        platform,
        scans,
    })
}

/// The rows of each granule: `N_Number_Of_Scans` × 32 rows one after another, or whole
/// 48-scan granules when the array keeps them (satpy reads both ways).
fn granule_rows(
    path: &Path,
    variable: &str,
    rows: usize,
    scans: &[usize],
) -> Result<Vec<std::ops::Range<usize>>, ProductError> {
    let packed: usize = scans.iter().sum::<usize>() * ROWS_PER_SCAN;
    let whole = scans.len() * SCANS_PER_GRANULE * ROWS_PER_SCAN;
    let mut out = Vec::with_capacity(scans.len());
    let mut at = 0;
    if rows == packed {
        for s in scans {
            out.push(at..at + s * ROWS_PER_SCAN);
            at += s * ROWS_PER_SCAN;
        }
    } else if rows == whole {
        for _ in scans {
            out.push(at..at + SCANS_PER_GRANULE * ROWS_PER_SCAN);
            at += SCANS_PER_GRANULE * ROWS_PER_SCAN;
        }
    } else {
        return Err(ProductError::Shape {
            path: path.to_path_buf(),
            variable: variable.to_string(),
            found: vec![rows],
            expected: vec![packed],
        });
    }
    Ok(out)
}

fn band_buf(shape: (usize, usize)) -> Result<BandBuf, ProductError> {
    BandBuf::zeros(shape).map_err(|source| ProductError::Memory {
        rows: shape.0,
        cols: shape.1,
        source,
    })
}

/// Converts one granule block of counts with its factors; saturated pixels (`qf` bits 2–3)
/// keep the block's largest encodable value.
pub fn calibrate(counts: &[u16], qf: Option<&[u8]>, scale: f32, offset: f32, out: &mut [f32]) {
    let valid_factors = scale > FLOAT_FILL_MAX && offset > FLOAT_FILL_MAX;
    let max = (FIRST_FLAG_COUNT - 1) as f32 * scale + offset;
    let convert = |c: u16, q: u8| {
        let saturated = (q >> 2) & 3 != 0;
        if !valid_factors || c == BOWTIE_DELETED || c == FILL {
            f32::NAN
        } else if saturated {
            max
        } else if c >= FIRST_FLAG_COUNT {
            f32::NAN
        } else {
            c as f32 * scale + offset
        }
    };
    super::map_counts(counts, qf, out, convert);
}

/// Reads an SDR set: the five band files (I1..I5 order) and one geolocation file.
pub fn read(bands: &[PathBuf; 5], geo: &Path) -> Result<Granule, ProductError> {
    let mut out_bands = BTreeMap::new();
    let mut first: Option<(PathBuf, Aggregate, (usize, usize))> = None;
    for (spec, path) in BANDS.iter().zip(bands) {
        if let Some((p, _, _)) = name_parts(path) {
            if p != spec.prefix {
                return Err(ProductError::Bad {
                    path: path.clone(),
                    variable: "file name".into(),
                    message: format!("expected the {} file here, not {p}", spec.prefix),
                });
            }
        }
        let file = h5::open(path)?;
        let agg = aggregate(&file, path, spec.group)?;
        let var = format!("All_Data/{}_All/{}", spec.group, spec.variable);
        let ds = h5::dataset(&file, path, &var)?;
        let s = ds.shape();
        if s.len() != 2 {
            return Err(ProductError::Shape {
                path: path.clone(),
                variable: var,
                found: s,
                expected: vec![0, 0],
            });
        }
        let shape = (s[0], s[1]);
        match &first {
            None => first = Some((path.clone(), agg.clone(), shape)),
            Some((p0, a0, s0)) => {
                check_same(p0, path, a0, &agg)?;
                if shape != *s0 {
                    return Err(ProductError::Shape {
                        path: path.clone(),
                        variable: var,
                        found: vec![shape.0, shape.1],
                        expected: vec![s0.0, s0.1],
                    });
                }
            }
        }
        let counts: Vec<u16> = h5::read(&ds, path, &var, None)?;
        let fvar = format!("{var}Factors");
        let fds = h5::dataset(&file, path, &fvar)?;
        let factors: Vec<f32> = h5::read(&fds, path, &fvar, None)?;
        if factors.len() < 2 * agg.scans.len() {
            return Err(ProductError::Shape {
                path: path.clone(),
                variable: fvar,
                found: vec![factors.len()],
                expected: vec![2 * agg.scans.len()],
            });
        }
        let qvar = format!("All_Data/{}_All/{}", spec.group, spec.quality);
        let qf: Option<Vec<u8>> = if h5::link_exists(&file, &qvar) {
            let q = h5::dataset(&file, path, &qvar)?;
            Some(h5::read(&q, path, &qvar, Some(&[shape.0, shape.1]))?)
        } else {
            None
        };
        let blocks = granule_rows(path, &var, shape.0, &agg.scans)?;
        let mut buf = band_buf(shape)?;
        // Rows past the last granule's block (none when the shapes agree) stay NaN.
        buf.as_mut_slice().fill(f32::NAN);
        let cols = shape.1;
        for (g, rows) in blocks.iter().enumerate() {
            let (scale, offset) = (factors[2 * g], factors[2 * g + 1]);
            let span = rows.start * cols..rows.end * cols;
            calibrate(
                &counts[span.clone()],
                qf.as_ref().map(|q| &q[span.clone()]),
                scale,
                offset,
                &mut buf.as_mut_slice()[span],
            );
        }
        out_bands.insert(spec.band.to_string(), buf);
    }
    let (first_path, agg, shape) = first.expect("five band files");

    let gfile = h5::open(geo)?;
    let group = GEOLOCATION
        .iter()
        .map(|(_, g)| *g)
        .find(|g| h5::link_exists(&gfile, &format!("All_Data/{g}_All")))
        .ok_or_else(|| ProductError::Missing {
            path: geo.to_path_buf(),
            what: "group",
            name: "All_Data/VIIRS-IMG-GEO-TC_All or All_Data/VIIRS-IMG-GEO_All".into(),
        })?;
    let gagg = aggregate(&gfile, geo, group)?;
    check_same(&first_path, geo, &agg, &gagg)?;
    let read_float = |name: &str| -> Result<BandBuf, ProductError> {
        let var = format!("All_Data/{group}_All/{name}");
        let ds = h5::dataset(&gfile, geo, &var)?;
        let raw: Vec<f32> = h5::read(&ds, geo, &var, Some(&[shape.0, shape.1]))?;
        let mut b = band_buf(shape)?;
        b.as_mut_slice()
            .par_iter_mut()
            .zip(raw.par_iter())
            .with_min_len(1 << 14)
            .for_each(|(o, &v)| *o = if v <= FLOAT_FILL_MAX { f32::NAN } else { v });
        Ok(b)
    };
    let lat = read_float("Latitude")?;
    let lon = read_float("Longitude")?;
    for (name, band) in ANGLES {
        out_bands.insert(band.to_string(), read_float(name)?);
    }
    let satellite = satellite_code(&agg.platform).ok_or_else(|| ProductError::Bad {
        path: first_path.clone(),
        variable: "Platform_Short_Name".into(),
        message: format!("{:?} is not a VIIRS platform (NPP, J01, J02)", agg.platform),
    })?;
    let mut files: Vec<PathBuf> = bands.to_vec();
    files.push(geo.to_path_buf());
    Ok(Granule {
        kind: ProductKind::ViirsSdr,
        files,
        meta: SceneMeta {
            acq_time: Some(agg.start),
            satellite: Some(satellite.to_string()),
            sensor: Some("VIIRS".into()),
        },
        shape,
        bands: out_bands,
        geometry: Geometry::Swath(Swath {
            lat,
            lon,
            rows_per_scan: ROWS_PER_SCAN,
        }),
        water: None,
        // The factors of each granule span its own values, so no single count range bounds the
        // band: the product states no saturation value and the model's applies.
        saturation: BTreeMap::new(),
    })
}

fn check_same(
    a_path: &Path,
    b_path: &Path,
    a: &Aggregate,
    b: &Aggregate,
) -> Result<(), ProductError> {
    let mismatch = |what: String| ProductError::Mismatch {
        path: a_path.to_path_buf(),
        other: b_path.to_path_buf(),
        what,
    };
    if a.start != b.start {
        return Err(mismatch(format!(
            "AggregateBeginningDate/Time {} ≠ {}",
            a.start.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
            b.start.format("%Y-%m-%dT%H:%M:%S%.6fZ")
        )));
    }
    if a.orbit != b.orbit {
        return Err(mismatch(format!(
            "AggregateBeginningOrbitNumber {} ≠ {}",
            a.orbit, b.orbit
        )));
    }
    if satellite_code(&a.platform) != satellite_code(&b.platform) {
        return Err(mismatch(format!(
            "Platform_Short_Name {:?} ≠ {:?}",
            a.platform, b.platform
        )));
    }
    if a.scans != b.scans {
        return Err(mismatch(format!(
            "scans per granule {:?} ≠ {:?}",
            a.scans, b.scans
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_prefix_platform_and_granule_key() {
        let p = Path::new(
            "/d/SVI04_npp_d20240608_t0542000_e0543242_b65432_c20240608060000123456_cspp_dev.h5",
        );
        assert_eq!(
            name_parts(p),
            Some((
                "SVI04".into(),
                "npp".into(),
                "d20240608_t0542000_e0543242_b65432".into()
            ))
        );
        assert!(name_parts(Path::new(
            "SVM04_npp_d20240608_t0542000_e0543242_b65432_c1_x.h5"
        ))
        .is_none());
        assert!(name_parts(Path::new(
            "GITCO_j01_d20240608_t0542000_e0543242_b65432_c1_noaa_ops.h5"
        ))
        .is_some());
    }

    #[test]
    fn granule_blocks_are_packed_or_whole() {
        let p = Path::new("x");
        assert_eq!(
            granule_rows(p, "v", 128, &[2, 2]).unwrap(),
            vec![0..64, 64..128]
        );
        assert_eq!(
            granule_rows(p, "v", 3072, &[47, 48]).unwrap(),
            vec![0..1536, 1536..3072]
        );
        assert!(matches!(
            granule_rows(p, "v", 100, &[2]),
            Err(ProductError::Shape { .. })
        ));
    }

    #[test]
    fn calibration_masks_fill_and_keeps_saturation() {
        let counts = [0u16, 1000, 65527, 65528, 65533, 65535, 10];
        let qf = [0u8, 0, 0, 0, 0, 0, 0b0100];
        let mut out = [0f32; 7];
        calibrate(&counts, Some(&qf), 0.01, 200.0, &mut out);
        assert_eq!(out[0], 200.0);
        assert!((out[1] - 210.0).abs() < 1e-4);
        assert!(out[3].is_nan() && out[4].is_nan() && out[5].is_nan());
        assert!(
            (out[6] - (65527.0 * 0.01 + 200.0)).abs() < 1e-3,
            "saturated → block maximum"
        );
        calibrate(&counts, None, -999.9, -999.9, &mut out);
        assert!(out.iter().all(|v| v.is_nan()), "fill factors");
    }
}
