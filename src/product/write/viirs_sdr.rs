//! A swath [`Granule`] written as a CSPP VIIRS I-band SDR set: `SVI01`…`SVI05` and `GITCO` or
//! `GIMGO`, HDF5, one granule per file or several aggregated.
//!
//! Sources (cited per item below): FORMATS.md §2 (checked against GDAL 3.6.2 here), satpy
//! `satpy/readers/core/viirs_atms_sdr.py`, `satpy/etc/readers/viirs_sdr.yaml` and
//! `satpy/tests/reader_tests/test_viirs_sdr.py` (pytroll/satpy). The JPSS fill values
//! (65535 NA … 65528, 65533 onboard pixel trim; float -999.9 NA) are those satpy masks
//! (integers ≥ 65528, floats ≤ -999). Where an item is our choice it says "unverified".
//!
//! Real files keep their root and product attributes as 1 × 1 arrays of fixed-length ASCII
//! strings and the `_Aggr` / `_Gran_N` datasets as HDF5 references; we write the strings
//! (128 bytes, null-padded) and the `_Aggr`/`_Gran_N` objects as small placeholder datasets
//! carrying the same attributes (the references are not written: unverified layout, and no
//! reader we know follows them).
//!
//! Each granule gets its own `[scale, offset]` factors chosen from its values (so the factors
//! of an aggregate differ, as real ones do); counts = round((v − offset) / scale).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use hdf5::types::FixedAscii;
use hdf5_metno as hdf5;
use rayon::prelude::*;

use super::atomically;
use crate::product::error::ProductError;
use crate::product::viirs_l1b::{BOWTIE_DELETED, FILL, FIRST_FLAG_COUNT, ROWS_PER_SCAN};
use crate::product::viirs_sdr::{ANGLES, BANDS, FLOAT_FILL, GEOLOCATION};
use crate::product::{Geometry, Granule};

/// Scan period used for granule times, s (as the L1B writer).
const SCAN_PERIOD_S: f64 = super::viirs_l1b::SCAN_PERIOD_S;

/// How to cut, name and mark the files.
#[derive(Debug, Clone)]
pub struct SdrOptions {
    pub orbit: u32,
    /// Creation time in the names (`_c20240608060000123456_`).
    pub created: DateTime<Utc>,
    /// Granules in the aggregate; the granule's scans are shared equally among them (must
    /// divide). 1: a single-granule file.
    pub granules: usize,
    /// `GITCO` (terrain-corrected, `true`) or `GIMGO`.
    pub terrain_corrected: bool,
    /// Whether a NaN pixel is bow-tie deleted (row, col): count 65533 instead of 65535.
    /// `None`: the published pattern on a full-width granule, else no pixel is.
    pub bowtie_deleted: Option<fn(usize, usize) -> bool>,
    /// zlib level (0: none). CSPP output is not compressed by default (unverified); tests and
    /// fixtures compress to stay small.
    pub deflate: u8,
    /// The `_{source}` end of the names.
    pub source: String,
}

impl Default for SdrOptions {
    fn default() -> Self {
        SdrOptions {
            orbit: 1,
            created: DateTime::from_timestamp(1_717_830_000, 0).expect("a valid time"),
            granules: 1,
            terrain_corrected: true,
            bowtie_deleted: None,
            deflate: 4,
            source: "cspp_dev".into(),
        }
    }
}

/// The six files written: bands I1..I5, then geolocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdrFiles {
    pub bands: [PathBuf; 5],
    pub geo: PathBuf,
}

/// File-name platform and `Platform_Short_Name` of a FIRMS satellite code (satpy
/// viirs_atms_sdr.py platform map: NPP, J01, J02; file names use npp, j01, j02).
pub fn platform(satellite: &str) -> Option<(&'static str, &'static str)> {
    match satellite {
        "N" => Some(("npp", "NPP")),
        "N20" => Some(("j01", "J01")),
        "N21" => Some(("j02", "J02")),
        _ => None,
    }
}

fn hms_tenths(t: DateTime<Utc>) -> String {
    // `t%H%M%S%f` in satpy's pattern, written with one fractional digit as CSPP names are.
    format!(
        "{}{}",
        t.format("%H%M%S"),
        t.timestamp_subsec_millis() / 100
    )
}

/// The name of one file of the set.
pub fn file_name(
    prefix: &str,
    plat: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    opts: &SdrOptions,
) -> String {
    format!(
        "{prefix}_{plat}_d{}_t{}_e{}_b{:05}_c{}_{}.h5",
        start.format("%Y%m%d"),
        hms_tenths(start),
        hms_tenths(end),
        opts.orbit,
        opts.created.format("%Y%m%d%H%M%S%6f"),
        opts.source
    )
}

type H5Result<T> = Result<T, ProductError>;

fn werr(path: &Path, what: &str) -> impl Fn(hdf5::Error) -> ProductError {
    let path = path.to_path_buf();
    let what = what.to_string();
    move |e| ProductError::Write {
        path: path.clone(),
        variable: what.clone(),
        message: e.to_string(),
    }
}

/// A 1 × 1 fixed-length ASCII string attribute, as JPSS files keep them.
fn put_str(loc: &hdf5::Location, target: &Path, name: &str, value: &str) -> H5Result<()> {
    let err = werr(target, name);
    let v = FixedAscii::<128>::from_ascii(value.as_bytes()).map_err(|e| ProductError::Write {
        path: target.to_path_buf(),
        variable: name.into(),
        message: e.to_string(),
    })?;
    let a = loc
        .new_attr::<FixedAscii<128>>()
        .shape((1, 1))
        .create(name)
        .map_err(&err)?;
    a.write_raw(&[v]).map_err(&err)
}

/// A 1 × 1 numeric attribute.
fn put_num<T: hdf5::H5Type + Copy>(
    loc: &hdf5::Location,
    target: &Path,
    name: &str,
    value: T,
) -> H5Result<()> {
    let err = werr(target, name);
    let a = loc
        .new_attr::<T>()
        .shape((1, 1))
        .create(name)
        .map_err(&err)?;
    a.write_raw(&[value]).map_err(&err)
}

struct Granules {
    /// Row range of each granule.
    rows: Vec<std::ops::Range<usize>>,
    scans: usize,
    starts: Vec<DateTime<Utc>>,
    ends: Vec<DateTime<Utc>>,
}

fn date_time(t: DateTime<Utc>) -> (String, String) {
    // "YYYYMMDD", "HHMMSS.ffffffZ" (FORMATS.md §2; satpy `_parse_datetime` "%Y%m%d%H%M%S.%fZ").
    (
        t.format("%Y%m%d").to_string(),
        t.format("%H%M%S%.6fZ").to_string(),
    )
}

/// Root attributes and `/Data_Products/{group}` with its `_Aggr` and `_Gran_N` objects.
fn metadata(
    f: &hdf5::File,
    target: &Path,
    group: &str,
    plat_attr: &str,
    geo_ref: Option<&str>,
    g: &Granules,
    opts: &SdrOptions,
) -> H5Result<()> {
    // Root attributes (FORMATS.md §2: `Platform_Short_Name`, `N_GEO_Ref`; satpy test adds
    // `N_GEO_Ref` as the geolocation file's name). The others are CSPP's usual ones (unverified).
    let root: &hdf5::Location = f;
    put_str(root, target, "Platform_Short_Name", plat_attr)?;
    put_str(root, target, "Mission_Name", "S-NPP/JPSS")?;
    put_str(root, target, "Distributor", "cspp")?;
    put_str(root, target, "N_Dataset_Source", "cspp")?;
    let (cd, ct) = date_time(opts.created);
    put_str(root, target, "N_HDF_Creation_Date", &cd)?;
    put_str(root, target, "N_HDF_Creation_Time", &ct)?;
    if let Some(r) = geo_ref {
        put_str(root, target, "N_GEO_Ref", r)?;
    }
    let dp = f
        .create_group("Data_Products")
        .and_then(|d| d.create_group(group))
        .map_err(werr(target, &format!("Data_Products/{group}")))?;
    // `Instrument_Short_Name` on the product group (satpy sensor_name).
    put_str(&dp, target, "Instrument_Short_Name", "VIIRS")?;
    put_str(&dp, target, "N_Collection_Short_Name", group)?;
    put_str(
        &dp,
        target,
        "N_Dataset_Type_Tag",
        if group.contains("GEO") { "GEO" } else { "SDR" },
    )?;
    let placeholder = |name: &str| -> H5Result<hdf5::Dataset> {
        dp.new_dataset::<u8>()
            .shape(1)
            .create(name)
            .map_err(werr(target, name))
    };
    // `{group}_Aggr`: AggregateBeginningDate/Time, …Ending…, …OrbitNumber, NumberGranules
    // (FORMATS.md §2; satpy test `_add_basic_metadata_to_file_content`).
    let aggr = placeholder(&format!("{group}_Aggr"))?;
    let n = g.rows.len();
    let (bd, bt) = date_time(g.starts[0]);
    let (ed, et) = date_time(g.ends[n - 1]);
    put_str(&aggr, target, "AggregateBeginningDate", &bd)?;
    put_str(&aggr, target, "AggregateBeginningTime", &bt)?;
    put_str(&aggr, target, "AggregateEndingDate", &ed)?;
    put_str(&aggr, target, "AggregateEndingTime", &et)?;
    put_num(
        &aggr,
        target,
        "AggregateBeginningOrbitNumber",
        opts.orbit as u64,
    )?;
    put_num(
        &aggr,
        target,
        "AggregateEndingOrbitNumber",
        opts.orbit as u64,
    )?;
    put_num(&aggr, target, "AggregateNumberGranules", n as u64)?;
    // `{group}_Gran_{i}`: N_Number_Of_Scans (satpy `_get_scans_per_granule`), times, orbit.
    for i in 0..n {
        let gran = placeholder(&format!("{group}_Gran_{i}"))?;
        let (sd, st) = date_time(g.starts[i]);
        let (ed, et) = date_time(g.ends[i]);
        put_num(&gran, target, "N_Number_Of_Scans", g.scans as i32)?;
        put_str(&gran, target, "Beginning_Date", &sd)?;
        put_str(&gran, target, "Beginning_Time", &st)?;
        put_str(&gran, target, "Ending_Date", &ed)?;
        put_str(&gran, target, "Ending_Time", &et)?;
        put_num(&gran, target, "N_Beginning_Orbit_Number", opts.orbit as u64)?;
    }
    Ok(())
}

fn array<T: hdf5::H5Type>(
    grp: &hdf5::Group,
    target: &Path,
    name: &str,
    shape: (usize, usize),
    data: &[T],
    deflate: u8,
) -> H5Result<()> {
    let err = werr(target, name);
    let mut b = grp.new_dataset::<T>().shape(shape);
    if deflate > 0 && shape.0 > 0 && shape.1 > 0 {
        b = b
            .chunk((ROWS_PER_SCAN.min(shape.0), shape.1))
            .deflate(deflate);
    }
    let ds = b.create(name).map_err(&err)?;
    ds.write_raw(data).map_err(&err)
}

fn vector<T: hdf5::H5Type>(
    grp: &hdf5::Group,
    target: &Path,
    name: &str,
    data: &[T],
) -> H5Result<()> {
    let err = werr(target, name);
    let ds = grp
        .new_dataset::<T>()
        .shape(data.len())
        .create(name)
        .map_err(&err)?;
    ds.write_raw(data).map_err(&err)
}

/// Per-granule factors for a band's values: offset just below the smallest value, scale so the
/// largest (and the band's nominal top) fits below the flag counts.
fn factors(values: &[f32], top: f32, granule_index: usize) -> (f32, f32) {
    let (lo, hi) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, top) };
    // Reflectance offsets stay at 0 as real ones are near 0; BT offsets sit a few kelvin below
    // the coldest pixel, a little different per granule (so an aggregate's factors differ).
    let offset = if top < 10.0 {
        0.0
    } else {
        lo.floor() - 1.0 - granule_index as f32
    };
    let scale = (hi.max(top) - offset) / (FIRST_FLAG_COUNT - 2) as f32;
    (scale, offset)
}

/// Writes `granule` as an SDR set in `dir`.
pub fn write(granule: &Granule, dir: &Path, opts: &SdrOptions) -> Result<SdrFiles, ProductError> {
    let unwritable = |message: String| ProductError::Unwritable {
        product: "VIIRS SDR",
        message,
    };
    let Geometry::Swath(swath) = &granule.geometry else {
        return Err(unwritable(
            "the granule is on a map grid, not a swath".into(),
        ));
    };
    let satellite = granule.meta.satellite.as_deref().unwrap_or("");
    let (plat, plat_attr) = platform(satellite)
        .ok_or_else(|| unwritable(format!("satellite {satellite:?} is not N, N20 or N21")))?;
    let start = granule
        .meta
        .acq_time
        .ok_or_else(|| unwritable("the granule has no acquisition time".into()))?;
    let (rows, cols) = granule.shape;
    let n = opts.granules.max(1);
    if rows % (ROWS_PER_SCAN * n) != 0 {
        return Err(unwritable(format!(
            "{rows} rows are not {n} granules of whole {ROWS_PER_SCAN}-row scans"
        )));
    }
    for b in BANDS
        .iter()
        .map(|b| b.band)
        .chain(ANGLES.iter().map(|(_, b)| *b))
    {
        if !granule.bands.contains_key(b) {
            return Err(unwritable(format!("no band {b}")));
        }
    }
    let scans = rows / ROWS_PER_SCAN / n;
    let span = Duration::milliseconds((scans as f64 * SCAN_PERIOD_S * 1000.0) as i64);
    let g = Granules {
        rows: (0..n)
            .map(|i| i * scans * ROWS_PER_SCAN..(i + 1) * scans * ROWS_PER_SCAN)
            .collect(),
        scans,
        starts: (0..n).map(|i| start + span * i as i32).collect(),
        ends: (0..n).map(|i| start + span * (i as i32 + 1)).collect(),
    };
    let end = g.ends[n - 1];
    let (geo_prefix, geo_group) = GEOLOCATION[if opts.terrain_corrected { 0 } else { 1 }];
    let geo_name = file_name(geo_prefix, plat, start, end, opts);
    let files = SdrFiles {
        bands: BANDS.map(|b| dir.join(file_name(b.prefix, plat, start, end, opts))),
        geo: dir.join(&geo_name),
    };
    let bowtie = super::viirs_l1b::bowtie_rule(opts.bowtie_deleted, cols);
    let mut written: Vec<PathBuf> = Vec::new();
    let result = (|| -> H5Result<()> {
        for (k, spec) in BANDS.iter().enumerate() {
            let target = &files.bands[k];
            atomically(target, |tmp| {
                let f = hdf5::File::create(tmp).map_err(werr(target, "file"))?;
                metadata(&f, target, spec.group, plat_attr, Some(&geo_name), &g, opts)?;
                let grp = f
                    .create_group("All_Data")
                    .and_then(|a| a.create_group(&format!("{}_All", spec.group)))
                    .map_err(werr(target, "All_Data"))?;
                let values = granule.bands[spec.band].as_slice();
                let top = if k < 3 {
                    1.2
                } else if k == 3 {
                    370.0
                } else {
                    380.0
                };
                let mut counts = vec![0u16; rows * cols];
                let mut fac = Vec::with_capacity(2 * n);
                for (i, r) in g.rows.iter().enumerate() {
                    let span = r.start * cols..r.end * cols;
                    let (scale, offset) = factors(&values[span.clone()], top, i);
                    fac.extend([scale, offset]);
                    counts[span.clone()]
                        .par_iter_mut()
                        .zip(values[span.clone()].par_iter())
                        .enumerate()
                        .for_each(|(j, (c, &v))| {
                            let at = span.start + j;
                            *c = if v.is_nan() {
                                match bowtie {
                                    Some(f) if f(at / cols, at % cols) => BOWTIE_DELETED,
                                    _ => FILL,
                                }
                            } else {
                                ((v - offset) / scale)
                                    .round()
                                    .clamp(0.0, (FIRST_FLAG_COUNT - 1) as f32)
                                    as u16
                            };
                        });
                }
                // The calibrated variable and its per-granule factors (FORMATS.md §2; satpy
                // `scale_swath_data`).
                array(
                    &grp,
                    target,
                    spec.variable,
                    (rows, cols),
                    &counts,
                    opts.deflate,
                )?;
                vector(&grp, target, &format!("{}Factors", spec.variable), &fac)?;
                // `Radiance` + `RadianceFactors` (FORMATS.md §2 for I4/I5): written as fill for
                // every band, since the granule holds no radiance (I1–I3 radiance type unverified).
                array(
                    &grp,
                    target,
                    "Radiance",
                    (rows, cols),
                    &vec![FILL; rows * cols],
                    opts.deflate,
                )?;
                vector(&grp, target, "RadianceFactors", &vec![FLOAT_FILL; 2 * n])?;
                // QF1 (uint8; FORMATS.md §2 marks the type an assumption): all good.
                array(
                    &grp,
                    target,
                    spec.quality,
                    (rows, cols),
                    &vec![0u8; rows * cols],
                    opts.deflate,
                )?;
                vector(&grp, target, "NumberOfScans", &vec![scans as i32; n])?;
                Ok(())
            })?;
            written.push(target.clone());
        }
        let target = &files.geo;
        atomically(target, |tmp| {
            let f = hdf5::File::create(tmp).map_err(werr(target, "file"))?;
            metadata(&f, target, geo_group, plat_attr, None, &g, opts)?;
            let grp = f
                .create_group("All_Data")
                .and_then(|a| a.create_group(&format!("{geo_group}_All")))
                .map_err(werr(target, "All_Data"))?;
            let floats = |b: &crate::raster::BandBuf| -> Vec<f32> {
                b.as_slice()
                    .iter()
                    .map(|&v| if v.is_nan() { FLOAT_FILL } else { v })
                    .collect()
            };
            // Geolocation and angles, float32 (FORMATS.md §2; satpy viirs_sdr.yaml file_keys).
            array(
                &grp,
                target,
                "Latitude",
                (rows, cols),
                &floats(&swath.lat),
                opts.deflate,
            )?;
            array(
                &grp,
                target,
                "Longitude",
                (rows, cols),
                &floats(&swath.lon),
                opts.deflate,
            )?;
            for (name, band) in ANGLES {
                array(
                    &grp,
                    target,
                    name,
                    (rows, cols),
                    &floats(&granule.bands[band]),
                    opts.deflate,
                )?;
            }
            // Height (float32, m): the granule carries none, written as 0 (unverified).
            array(
                &grp,
                target,
                "Height",
                (rows, cols),
                &vec![0f32; rows * cols],
                opts.deflate,
            )?;
            vector(&grp, target, "NumberOfScans", &vec![scans as i32; n])?;
            Ok(())
        })?;
        Ok(())
    })();
    if let Err(e) = result {
        for p in written {
            let _ = std::fs::remove_file(p);
        }
        return Err(e);
    }
    Ok(files)
}
