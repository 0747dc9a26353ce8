//! A swath [`Granule`] written as an FY-3D MERSI-II 1-km L1 granule: the `1000M` data file and
//! its `GEO1K` geolocation file, HDF5 through `hdf5-metno`, as NSMC names and lays them out.
//!
//! Notes, each item's source:
//! - dataset paths, channels per dataset and their order: satpy `satpy/etc/readers/mersi2_l1b.yaml`
//!   (`Data/EV_250_Aggr.1KM_RefSB` channels 1–4, `Data/EV_1KM_RefSB` 5–19,
//!   `Data/EV_1KM_Emissive` 20–23, `Data/EV_250_Aggr.1KM_Emissive` 24–25,
//!   `Calibration/VIS_Cal_Coeff`, `Calibration/IR_Cal_Coeff`; `Geolocation/Latitude`,
//!   `Longitude`, `SolarZenith`, `SolarAzimuth`, `SensorZenith`, `SensorAzimuth` in `GEO1K`);
//!   FORMATS.md §5 (the dot in `EV_250_Aggr.1KM_Emissive` is kept);
//! - dataset attributes `Slope`, `Intercept` (one per channel), `valid_range`, `FillValue`
//!   (FY-3D's spelling, not `_FillValue`), `units`, `long_name`: satpy `mersi_l1b.py`
//!   (`_mask_data`, `_get_dn_corrections`); the emissive slopes 2e-4, 2e-4, 0.01, 0.01 (channels
//!   20–23) and 0.01 (24, 25) from a public script reading real `FY3D_MERSI_GBAL_L1_…` files;
//!   `valid_range` 0–4095 on channels 24–25 with counts above it (the error satpy works
//!   around, reproduced so the reader's workaround is exercised);
//! - root attributes `Satellite Name`, `Sensor Identification Code`, `Observing Beginning Date`/
//!   `Time`, `Observing Ending Date`/`Time` (satpy's test fixture), `Effect_Center_WaveLength`
//!   (25 values, µm), `TBB_Trans_Coefficient_A`/`_B` (6 values) (the public script, satpy);
//! - file names `FY3D_MERSI_GBAL_L1_YYYYMMDD_HHMM_1000M_MS.HDF` / `…_GEO1K_MS.HDF` (the public
//!   script's file; FORMATS.md §5);
//! - `Geolocation/LandSeaMask` (uint8) with the MODIS classes: unverified.
//!
//! Our choices (marked so): `valid_range` 0–65000 of `EV_1KM_Emissive`; `TBB_Trans_Coefficient`
//! A ≈ 1.001, B ≈ −0.3 K on the fire channels (small, like real corrections, so the reader's
//! correction is exercised); `VIS_Cal_Coeff` (0, 0.025 %/dn, 0); centre wavelengths the nominal
//! ones; `IR_Cal_Coeff` written as an identity (6 × 4 × scans), not read; channels the granule
//! does not hold are fill (65535); land/water mask 1 land, 5 water. Not written: the 250 m
//! files, `Data/EV_1KM_RefSB`'s uncertainty and `SensorZenith`-style extras (`DEM`,
//! `LandCover`), `Solar_Irradiance`, `EarthSun Distance Ratio`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use hdf5::types::FixedAscii;
use hdf5_metno as hdf5;
use rayon::prelude::*;

use super::atomically;
use crate::product::error::ProductError;
use crate::product::mersi_l1::{
    radiance_from_bt, ANGLES, ANGLE_FILL, EMISSIVE, EMISSIVE_250, FILL, IR_CAL, LAND_SEA,
    LATLON_FILL, REFSB_1KM, REFSB_250, ROWS_PER_SCAN, SATURATED, VIS_CAL,
};
use crate::product::{Geometry, Granule};

/// Nominal centre wavelengths of channels 1–25, µm (satpy's yaml).
pub const CENTRES_UM: [f32; 25] = [
    0.470, 0.550, 0.650, 0.865, 1.38, 1.64, 2.13, 0.412, 0.443, 0.490, 0.555, 0.670, 0.709, 0.746,
    0.865, 0.905, 0.936, 0.940, 1.24, 3.80, 4.05, 7.20, 8.55, 10.8, 12.0,
];
/// Nominal centre wavelengths of FY-3E MERSI-LL's channels 1–7, µm (satpy's
/// `mersi_ll_l1b.yaml`: the day/night band's middle, 3.80, 4.05, 7.20, 8.55, 10.8, 12.0).
pub const CENTRES_LL_UM: [f32; 7] = [0.70, 3.80, 4.05, 7.20, 8.55, 10.8, 12.0];
/// `TBB_Trans_Coefficient_A`/`_B` of channels 20–25 (ours).
pub const TBB_A: [f32; 6] = [1.0008, 1.0005, 1.0, 1.0, 1.0012, 1.0011];
pub const TBB_B: [f32; 6] = [-0.3, -0.2, 0.0, 0.0, -0.35, -0.3];
/// Emissive slopes of channels 20–23 and 24–25 (real files, see the module doc).
pub const SLOPES_1KM: [f32; 4] = [2.0e-4, 2.0e-4, 0.01, 0.01];
pub const SLOPES_250: [f32; 2] = [0.01, 0.01];
/// Top valid count of `EV_1KM_Emissive` (ours) and of channels 24–25 (satpy's substitute).
pub const EMISSIVE_MAX: u16 = 65000;
pub const AGGR_MAX: u16 = crate::product::mersi_l1::AGGR_EMISSIVE_MAX;
/// Reflectance per dn, % (ours), for every reflective channel.
pub const VIS_C1: f32 = 0.025;
/// Top valid count of the reflective datasets.
pub const REFSB_MAX: u16 = 4095;
/// Scan period, s (a 5-minute granule of 200 scans).
pub const SCAN_PERIOD_S: f64 = 1.5;

/// The two files written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MersiFiles {
    pub data: PathBuf,
    pub geo: PathBuf,
}

/// `FY3D_MERSI_GBAL_L1_20240502_0535_1000M_MS.HDF` and its `GEO1K`; FY-3E's
/// `FY3E_MERSI_GRAN_L1_20240502_0535_1000M_V0.HDF` (satpy `mersi_ll_l1b.yaml`).
pub fn file_names(satellite: &str, start: DateTime<Utc>) -> (String, String) {
    let stamp = start.format("%Y%m%d_%H%M");
    let (area, tail) = if satellite == "FY3E" {
        ("GRAN", "V0")
    } else {
        ("GBAL", "MS")
    };
    (
        format!("{satellite}_MERSI_{area}_L1_{stamp}_1000M_{tail}.HDF"),
        format!("{satellite}_MERSI_{area}_L1_{stamp}_GEO1K_{tail}.HDF"),
    )
}

fn werr(path: &Path, what: &str) -> impl Fn(hdf5::Error) -> ProductError {
    let path = path.to_path_buf();
    let what = what.to_string();
    move |e| ProductError::Write {
        path: path.clone(),
        variable: what.clone(),
        message: e.to_string(),
    }
}

fn put_str(
    loc: &hdf5::Location,
    target: &Path,
    name: &str,
    value: &str,
) -> Result<(), ProductError> {
    let err = werr(target, name);
    let v = FixedAscii::<64>::from_ascii(value.as_bytes()).map_err(|e| ProductError::Write {
        path: target.to_path_buf(),
        variable: name.into(),
        message: e.to_string(),
    })?;
    let a = loc
        .new_attr::<FixedAscii<64>>()
        .create(name)
        .map_err(&err)?;
    a.write_scalar(&v).map_err(&err)
}

fn put_nums<T: hdf5::H5Type>(
    loc: &hdf5::Location,
    target: &Path,
    name: &str,
    v: &[T],
) -> Result<(), ProductError> {
    let err = werr(target, name);
    let a = loc
        .new_attr::<T>()
        .shape(v.len())
        .create(name)
        .map_err(&err)?;
    a.write_raw(v).map_err(&err)
}

fn identity_attrs(
    f: &hdf5::File,
    target: &Path,
    g: &Granule,
    start: DateTime<Utc>,
) -> Result<(), ProductError> {
    let sat = g.meta.satellite.as_deref().unwrap_or("FY3D");
    let name = format!("FY-{}", &sat[2..]);
    let end = start
        + Duration::milliseconds(
            (g.shape.0 / ROWS_PER_SCAN) as i64 * (SCAN_PERIOD_S * 1000.0) as i64,
        );
    let root: &hdf5::Location = f;
    put_str(root, target, "Satellite Name", &name)?;
    put_str(root, target, "Sensor Identification Code", "MERSI")?;
    put_str(
        root,
        target,
        "Observing Beginning Date",
        &start.format("%Y-%m-%d").to_string(),
    )?;
    put_str(
        root,
        target,
        "Observing Beginning Time",
        &start.format("%H:%M:%S%.3f").to_string(),
    )?;
    put_str(
        root,
        target,
        "Observing Ending Date",
        &end.format("%Y-%m-%d").to_string(),
    )?;
    put_str(
        root,
        target,
        "Observing Ending Time",
        &end.format("%H:%M:%S%.3f").to_string(),
    )
}

fn plane_dataset(
    grp: &hdf5::Group,
    target: &Path,
    name: &str,
    planes: &[Vec<u16>],
    shape: (usize, usize),
) -> Result<hdf5::Dataset, ProductError> {
    let err = werr(target, name);
    let ds = grp
        .new_dataset::<u16>()
        .shape((planes.len(), shape.0, shape.1))
        .create(name)
        .map_err(&err)?;
    for (i, p) in planes.iter().enumerate() {
        let a = ndarray::ArrayView2::from_shape(shape, p).expect("plane shape");
        ds.write_slice(a, ndarray::s![i, .., ..]).map_err(&err)?;
    }
    Ok(ds)
}

/// Writes `granule` (a swath with `B1 B2 B7 B21 B22 B31 B32 SZA VZA SAA VAA`, a time and an
/// FY-3 satellite code such as `FY3D`) into `dir`. Each file appears whole or not at all.
pub fn write(granule: &Granule, dir: &Path) -> Result<MersiFiles, ProductError> {
    let unwritable = |message: String| ProductError::Unwritable {
        product: "MERSI L1",
        message,
    };
    let Geometry::Swath(swath) = &granule.geometry else {
        return Err(unwritable("the granule is not a swath".into()));
    };
    let start = granule
        .meta
        .acq_time
        .ok_or_else(|| unwritable("no acquisition time".into()))?;
    let sat = granule.meta.satellite.clone().unwrap_or_default();
    if crate::product::mersi_l1::satellite_code(&sat).as_deref() != Some(sat.as_str()) {
        return Err(unwritable(format!(
            "satellite {sat:?} is not an FY-3 code (FY3D)"
        )));
    }
    let ll = sat == "FY3E";
    let chans = crate::product::mersi_l1::channels(&sat);
    let centres: &[f32] = if ll { &CENTRES_LL_UM } else { &CENTRES_UM };
    for name in chans
        .iter()
        .map(|c| c.canonical)
        .chain(ANGLES.iter().map(|a| a.1))
    {
        if !granule.bands.contains_key(name) {
            return Err(unwritable(format!("no band {name}")));
        }
    }
    let shape = granule.shape;
    let n = shape.0 * shape.1;
    let (data_name, geo_name) = file_names(&sat, start);
    let sza = granule.bands["SZA"].as_slice();

    let data_path = dir.join(&data_name);
    atomically(&data_path, |tmp| {
        let f = hdf5::File::create(tmp).map_err(werr(tmp, ""))?;
        identity_attrs(&f, tmp, granule, start)?;
        let root: &hdf5::Location = &f;
        put_nums(root, tmp, "Effect_Center_WaveLength", centres)?;
        put_nums(root, tmp, "TBB_Trans_Coefficient_A", &TBB_A)?;
        put_nums(root, tmp, "TBB_Trans_Coefficient_B", &TBB_B)?;
        let data = f.create_group("Data").map_err(werr(tmp, "Data"))?;
        // Each dataset: path, channels, slopes, top count, stated `valid_range` top, emissive.
        type Set = (
            &'static str,
            std::ops::RangeInclusive<usize>,
            Vec<f32>,
            u16,
            u16,
            bool,
        );
        let sets: Vec<Set> = if ll {
            // MERSI-LL: channels 2–5 and 6–7 (the day/night band 1 is written as zeros below).
            vec![
                (
                    EMISSIVE,
                    2..=5,
                    SLOPES_1KM.to_vec(),
                    EMISSIVE_MAX,
                    EMISSIVE_MAX,
                    true,
                ),
                (
                    EMISSIVE_250,
                    6..=7,
                    SLOPES_250.to_vec(),
                    AGGR_MAX,
                    4095,
                    true,
                ),
            ]
        } else {
            vec![
                (REFSB_250, 1..=4, vec![1.0; 4], REFSB_MAX, REFSB_MAX, false),
                (
                    REFSB_1KM,
                    5..=19,
                    vec![1.0; 15],
                    REFSB_MAX,
                    REFSB_MAX,
                    false,
                ),
                (
                    EMISSIVE,
                    20..=23,
                    SLOPES_1KM.to_vec(),
                    EMISSIVE_MAX,
                    EMISSIVE_MAX,
                    true,
                ),
                (
                    EMISSIVE_250,
                    24..=25,
                    SLOPES_250.to_vec(),
                    AGGR_MAX,
                    4095,
                    true,
                ),
            ]
        };
        if ll {
            let err = werr(tmp, "Data/EV_1KM_LL");
            let ds = data
                .new_dataset::<u16>()
                .shape(shape)
                .create("EV_1KM_LL")
                .map_err(&err)?;
            ds.write_raw(&vec![0u16; n]).map_err(&err)?;
        }
        for (path, range, slopes, top, stated_top, emissive) in sets {
            let planes: Vec<Vec<u16>> = range
                .clone()
                .enumerate()
                .map(|(i, ch)| {
                    let Some(spec) = chans.iter().find(|c| c.channel == ch) else {
                        return vec![FILL; n];
                    };
                    let values = granule.bands[spec.canonical].as_slice();
                    let slope = slopes[i] as f64;
                    if emissive {
                        let ir = spec.ir;
                        let nu = 1e4 / centres[ch - 1] as f64;
                        let (a, b) = (TBB_A[ir] as f64, TBB_B[ir] as f64);
                        values
                            .par_iter()
                            .map(|&bt| {
                                if bt.is_nan() {
                                    return FILL;
                                }
                                let c = (radiance_from_bt(bt as f64, nu, a, b) / slope).round();
                                if c > top as f64 {
                                    SATURATED
                                } else {
                                    c.max(0.0) as u16
                                }
                            })
                            .collect()
                    } else {
                        values
                            .par_iter()
                            .zip(sza.par_iter())
                            .map(|(&r, &z)| {
                                if r.is_nan() {
                                    return FILL;
                                }
                                let rc = if z < 90.0 {
                                    r * z.to_radians().cos()
                                } else {
                                    r
                                };
                                let c = (rc as f64 * 100.0 / VIS_C1 as f64).round();
                                if c > top as f64 {
                                    SATURATED
                                } else {
                                    c.max(0.0) as u16
                                }
                            })
                            .collect()
                    }
                })
                .collect();
            let name = path.trim_start_matches("Data/");
            let ds = plane_dataset(&data, tmp, name, &planes, shape)?;
            let l: &hdf5::Location = &ds;
            put_nums(l, tmp, "Slope", &slopes)?;
            put_nums(l, tmp, "Intercept", &vec![0.0f32; slopes.len()])?;
            put_nums(l, tmp, "valid_range", &[0u16, stated_top])?;
            put_nums(l, tmp, "FillValue", &[FILL])?;
            put_str(
                l,
                tmp,
                "units",
                if emissive { "mW/ (m2 cm-1 sr)" } else { "none" },
            )?;
            put_str(
                l,
                tmp,
                "long_name",
                &format!("Earth View Science Data ({name})"),
            )?;
        }
        let cal = f
            .create_group("Calibration")
            .map_err(werr(tmp, "Calibration"))?;
        if !ll {
            let vis: Vec<f32> = (0..19).flat_map(|_| [0.0, VIS_C1, 0.0]).collect();
            let err = werr(tmp, VIS_CAL);
            let ds = cal
                .new_dataset::<f32>()
                .shape((19, 3))
                .create("VIS_Cal_Coeff")
                .map_err(&err)?;
            ds.write_raw(&vis).map_err(&err)?;
        }
        let scans = shape.0 / ROWS_PER_SCAN;
        let ir: Vec<f32> = (0..6)
            .flat_map(|_| (0..4).flat_map(move |k| vec![if k == 1 { 1.0 } else { 0.0 }; scans]))
            .collect();
        let err = werr(tmp, IR_CAL);
        let ds = cal
            .new_dataset::<f32>()
            .shape((6, 4, scans))
            .create("IR_Cal_Coeff")
            .map_err(&err)?;
        ds.write_raw(&ir).map_err(&err)?;
        f.close().map_err(werr(tmp, ""))
    })?;

    let geo_path = dir.join(&geo_name);
    atomically(&geo_path, |tmp| {
        let f = hdf5::File::create(tmp).map_err(werr(tmp, ""))?;
        identity_attrs(&f, tmp, granule, start)?;
        let g = f
            .create_group("Geolocation")
            .map_err(werr(tmp, "Geolocation"))?;
        for (name, v, limit) in [
            ("Latitude", swath.lat.as_slice(), 90.0f32),
            ("Longitude", swath.lon.as_slice(), 180.0),
        ] {
            let err = werr(tmp, name);
            let vals: Vec<f32> = v
                .iter()
                .map(|&x| if x.is_nan() { LATLON_FILL } else { x })
                .collect();
            let ds = g
                .new_dataset::<f32>()
                .shape(shape)
                .create(name)
                .map_err(&err)?;
            ds.write_raw(&vals).map_err(&err)?;
            let l: &hdf5::Location = &ds;
            put_nums(l, tmp, "valid_range", &[-limit, limit])?;
            put_nums(l, tmp, "FillValue", &[LATLON_FILL])?;
            put_str(l, tmp, "units", "degree")?;
        }
        for (path, canonical) in ANGLES {
            let name = path.trim_start_matches("Geolocation/");
            let err = werr(tmp, path);
            let zenith = name.ends_with("Zenith");
            let vals: Vec<i16> = granule.bands[canonical]
                .as_slice()
                .par_iter()
                .map(|&a| {
                    if a.is_nan() {
                        ANGLE_FILL
                    } else {
                        let a = if !zenith && a > 180.0 { a - 360.0 } else { a };
                        (a as f64 * 100.0).round().clamp(-18000.0, 18000.0) as i16
                    }
                })
                .collect();
            let ds = g
                .new_dataset::<i16>()
                .shape(shape)
                .create(name)
                .map_err(&err)?;
            ds.write_raw(&vals).map_err(&err)?;
            let l: &hdf5::Location = &ds;
            put_nums(l, tmp, "Slope", &[0.01f32])?;
            put_nums(l, tmp, "Intercept", &[0.0f32])?;
            put_nums(l, tmp, "FillValue", &[ANGLE_FILL])?;
            put_nums(
                l,
                tmp,
                "valid_range",
                &if zenith {
                    [0i16, 18000]
                } else {
                    [-18000, 18000]
                },
            )?;
            put_str(l, tmp, "units", "degree")?;
        }
        let name = LAND_SEA.trim_start_matches("Geolocation/");
        let err = werr(tmp, LAND_SEA);
        let mask: Vec<u8> = match &granule.water {
            Some(w) => w
                .as_slice()
                .iter()
                .map(|&x| if x != 0 { 5 } else { 1 })
                .collect(),
            None => vec![1; n],
        };
        let ds = g
            .new_dataset::<u8>()
            .shape(shape)
            .create(name)
            .map_err(&err)?;
        ds.write_raw(&mask).map_err(&err)?;
        f.close().map_err(werr(tmp, ""))
    })?;
    Ok(MersiFiles {
        data: data_path,
        geo: geo_path,
    })
}
