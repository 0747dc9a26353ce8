//! China's FY-3D MERSI-II Level-1 at 1 km as NSMC publishes it: the `1000M` data file with its
//! `GEO1K` geolocation file, HDF5, read into a [`Granule`] with the MODIS fire model's canonical
//! band names, so the MODIS-family detector runs on it.
//!
//! Band mapping (canonical ← MERSI-II channel, centre wavelength from satpy
//! `satpy/etc/readers/mersi2_l1b.yaml`):
//! - `B1` ← channel 3 (0.65 µm), `B2` ← channel 4 (0.865 µm): `Data/EV_250_Aggr.1KM_RefSB`
//!   (channels 1–4); `B7` ← channel 7 (2.13 µm): `Data/EV_1KM_RefSB` (channels 5–19);
//! - `B21` ← channel 20 (3.80 µm) and `B22` ← channel 21 (4.05 µm): `Data/EV_1KM_Emissive`
//!   (channels 20–23). MODIS band 21 is the high-saturation 3.96 µm channel and band 22 the
//!   low-noise one; MERSI has no such pair at one wavelength, so its two mid-infrared channels
//!   stand in, by the mapping (B21/B22 ≈ MERSI 3.8/4.05 µm). The 4.05 µm channel sits on
//!   the CO₂ absorption wing: a cooler background than MODIS band 22 sees (an assumption for the
//!   model file to account for, not corrected here);
//! - `B31` ← channel 24 (10.8 µm), `B32` ← channel 25 (12.0 µm): `Data/EV_250_Aggr.1KM_Emissive`.
//!
//! Calibration (satpy `satpy/readers/mersi_l1b.py`, and a public script reading real FY-3D
//! `FY3D_MERSI_GBAL_L1_…_1000M_MS.HDF` files found with the search tool's index):
//! - counts outside the dataset's `valid_range` are masked; the emissive channels 24 and 25 carry
//!   `valid_range` 0–4095 although their counts go higher, which satpy replaces by 0–25000 (a
//!   known error in the files): done here too; the codes above are 65533 dead detector,
//!   65534 saturated (→ the band's saturation value, recorded in [`Granule::saturation`]),
//!   65535 fill (satpy's comment "typically bad_values == 65535, saturated == 65534, dead
//!   detector == 65533");
//! - `dn = count × Slope[b] + Intercept[b]` (dataset attributes, one value per band);
//! - emissive: `dn` is radiance in mW m⁻² sr⁻¹ (cm⁻¹)⁻¹; T_e by the inverse Planck function at
//!   the channel's central wavenumber (10⁴ / the global `Effect_Center_WaveLength[ch − 1]` µm when
//!   present, else the nominal centre), here through [`crate::physics::brightness_temperature`]
//!   with the radiance converted per µm (L_λ = L_ν·ν²/10⁴); then
//!   `TBB = (T_e − B) / A` with the global `TBB_Trans_Coefficient_A`/`_B` at the channel's IR
//!   index (20 → 0 … 25 → 5), as satpy applies them (a public script applies `A·T_e + B`
//!   instead; with A ≈ 1 and B ≈ 0 the two differ by well under 0.1 K). The per-scan
//!   `Calibration/IR_Cal_Coeff` is not applied (satpy: "apparently we don't use these");
//! - reflective: reflectance (%) = c₀ + c₁·dn + c₂·dn² with `Calibration/VIS_Cal_Coeff` row
//!   `ch − 1` (19 × 3). That is the reflectance factor times cos θ₀ (polar2grid issue #707 lists
//!   `mersi2_l1b` among readers that must divide), so it is divided by cos θ₀ where θ₀ < 90°.
//!   satpy's yaml gives channels 5–19 the rows 0–14, which would be channels 1–4's own; the row is
//!   taken here as channel − 1.
//!
//! Geolocation (`GEO1K`, group `Geolocation`): `Latitude`, `Longitude` (float32), `SolarZenith`,
//! `SensorZenith`, `SolarAzimuth`, `SensorAzimuth` (int16 × `Slope` + `Intercept`, 0.01 and 0),
//! `LandSeaMask` (→ [`Granule::water`] by the MODIS/VIIRS classes: unverified for MERSI).
//! Metadata: root attributes `Satellite Name` ("FY-3D" → FIRMS-style code `FY3D`),
//! `Observing Beginning Date` / `Observing Beginning Time` ("2019-01-01", "18:27:39.720").
//!
//! FY-3E MERSI-LL (the early-morning orbit, the only polar orbiter over China in the dusk and
//! dawn hours): `FY3E_MERSI_GRAN_L1_YYYYMMDD_HHMM_1000M_V0.HDF` + `…_GEO1K_V0.HDF` (satpy
//! `mersi_ll_l1b.yaml`), the same groups, attributes and calibration with its own channels
//! ([`CHANNELS_LL`]); no reflective bands (`B1`, `B2`, `B7` NaN).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use hdf5_metno as hdf5;
use rayon::prelude::*;

use super::error::ProductError;
use super::h5;
use super::{Geometry, Granule, ProductKind, Swath};
use crate::physics;
use crate::raster::{BandBuf, SceneMeta};

/// Detector rows per scan at 1 km.
pub const ROWS_PER_SCAN: usize = 10;
pub const EMISSIVE: &str = "Data/EV_1KM_Emissive";
pub const EMISSIVE_250: &str = "Data/EV_250_Aggr.1KM_Emissive";
pub const REFSB_250: &str = "Data/EV_250_Aggr.1KM_RefSB";
pub const REFSB_1KM: &str = "Data/EV_1KM_RefSB";
pub const VIS_CAL: &str = "Calibration/VIS_Cal_Coeff";
pub const IR_CAL: &str = "Calibration/IR_Cal_Coeff";
/// Geolocation datasets of the GEO1K file.
pub const GEO_GROUP: &str = "Geolocation";
pub const LAND_SEA: &str = "Geolocation/LandSeaMask";
/// The count of a saturated pixel, and the first error code.
pub const SATURATED: u16 = 65534;
pub const FIRST_CODE: u16 = 65533;
pub const FILL: u16 = 65535;
/// The top of channels 24/25 satpy substitutes for their `valid_range` 4095.
pub const AGGR_EMISSIVE_MAX: u16 = 25000;
/// Fill of the int16 angles and float32 lat/lon (ours where unverified: -32767, -999.9).
pub const ANGLE_FILL: i16 = -32767;
pub const LATLON_FILL: f32 = -999.9;

/// One channel the detector reads.
#[derive(Debug, Clone, Copy)]
pub struct Channel {
    pub canonical: &'static str,
    pub channel: usize,
    pub dataset: &'static str,
    /// Index of the channel in its dataset's first dimension.
    pub index: usize,
    /// Nominal centre wavelength, µm.
    pub wavelength_um: f64,
    pub emissive: bool,
    /// Emissive: index into `TBB_Trans_Coefficient_A/B` (FY-3D: channel − 20; FY-3E: satpy's
    /// `calibration_index`, channel − 2).
    pub ir: usize,
}

pub const CHANNELS: [Channel; 7] = [
    Channel {
        canonical: "B1",
        channel: 3,
        dataset: REFSB_250,
        index: 2,
        wavelength_um: 0.65,
        emissive: false,
        ir: 0,
    },
    Channel {
        canonical: "B2",
        channel: 4,
        dataset: REFSB_250,
        index: 3,
        wavelength_um: 0.865,
        emissive: false,
        ir: 0,
    },
    Channel {
        canonical: "B7",
        channel: 7,
        dataset: REFSB_1KM,
        index: 2,
        wavelength_um: 2.13,
        emissive: false,
        ir: 0,
    },
    Channel {
        canonical: "B21",
        channel: 20,
        dataset: EMISSIVE,
        index: 0,
        wavelength_um: 3.80,
        emissive: true,
        ir: 0,
    },
    Channel {
        canonical: "B22",
        channel: 21,
        dataset: EMISSIVE,
        index: 1,
        wavelength_um: 4.05,
        emissive: true,
        ir: 1,
    },
    Channel {
        canonical: "B31",
        channel: 24,
        dataset: EMISSIVE_250,
        index: 0,
        wavelength_um: 10.8,
        emissive: true,
        ir: 4,
    },
    Channel {
        canonical: "B32",
        channel: 25,
        dataset: EMISSIVE_250,
        index: 1,
        wavelength_um: 12.0,
        emissive: true,
        ir: 5,
    },
];

/// FY-3E MERSI-LL's channels the detector reads (satpy `satpy/etc/readers/mersi_ll_l1b.yaml`):
/// `B21` ← channel 2 (3.80 µm) and `B22` ← channel 3 (4.05 µm), `Data/EV_1KM_Emissive`
/// (channels 2–5, band_index 0 and 1); `B31` ← channel 6 (10.8 µm) and `B32` ← channel 7
/// (12.0 µm), `Data/EV_250_Aggr.1KM_Emissive` (band_index 0, 1); `TBB_Trans_Coefficient` and
/// `IR_Cal_Coeff` at satpy's `calibration_index` 0, 1, 4, 5; `Effect_Center_WaveLength` at
/// channel − 1 as for FY-3D. MERSI-LL has no reflective channel besides the day/night band
/// (`Data/EV_1KM_LL`, not read): `B1`, `B2`, `B7` are NaN, and its model
/// (`models/fy3e-mersi-ll.toml`) judges every pixel by the night tests.
pub const CHANNELS_LL: [Channel; 4] = [
    Channel {
        canonical: "B21",
        channel: 2,
        dataset: EMISSIVE,
        index: 0,
        wavelength_um: 3.80,
        emissive: true,
        ir: 0,
    },
    Channel {
        canonical: "B22",
        channel: 3,
        dataset: EMISSIVE,
        index: 1,
        wavelength_um: 4.05,
        emissive: true,
        ir: 1,
    },
    Channel {
        canonical: "B31",
        channel: 6,
        dataset: EMISSIVE_250,
        index: 0,
        wavelength_um: 10.8,
        emissive: true,
        ir: 4,
    },
    Channel {
        canonical: "B32",
        channel: 7,
        dataset: EMISSIVE_250,
        index: 1,
        wavelength_um: 12.0,
        emissive: true,
        ir: 5,
    },
];

/// The channels read for a satellite code: FY-3E's MERSI-LL, else FY-3D's MERSI-II.
pub fn channels(satellite: &str) -> &'static [Channel] {
    if satellite.eq_ignore_ascii_case("FY3E") {
        &CHANNELS_LL
    } else {
        &CHANNELS
    }
}

/// The geolocation angles with their canonical names.
pub const ANGLES: [(&str, &str); 4] = [
    ("Geolocation/SolarZenith", "SZA"),
    ("Geolocation/SensorZenith", "VZA"),
    ("Geolocation/SolarAzimuth", "SAA"),
    ("Geolocation/SensorAzimuth", "VAA"),
];

/// The FIRMS-style code of a `Satellite Name` ("FY-3D" → `FY3D`).
pub fn satellite_code(name: &str) -> Option<String> {
    let n: String = name
        .trim()
        .to_ascii_uppercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    (n.len() == 4 && n.starts_with("FY3")).then_some(n)
}

/// What a MERSI file name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameParts {
    /// `FY3D`, `FY3E`.
    pub satellite: String,
    /// Whether this is the `GEO1K` file, else the `1000M` data file.
    pub geo: bool,
    /// The granule key the pair shares: `FY3D_20240502_0535` (NSMC names) or
    /// `FY3D_2019071182739` (direct-broadcast `tf…` names).
    pub key: String,
}

/// Parses `FY3D_MERSI_GBAL_L1_20240502_0535_1000M_MS.HDF` / `…_GEO1K_MS.HDF` (NSMC) and
/// `tf2019071182739.FY3D-X_MERSI_1000M_L1B.HDF` / `…_GEO1K_L1B.HDF` (direct broadcast, satpy).
pub fn name_parts(path: &Path) -> Option<NameParts> {
    let name = path.file_name()?.to_str()?;
    let upper = name.to_ascii_uppercase();
    let stem = upper.strip_suffix(".HDF")?;
    let role = |s: &str| match s {
        "1000M" => Some(false),
        "GEO1K" => Some(true),
        _ => None,
    };
    if let Some(rest) = stem.strip_prefix("TF") {
        // tf2019071182739.FY3D-X_MERSI_1000M_L1B
        let (stamp, rest) = rest.split_once('.')?;
        let parts: Vec<&str> = rest.split('_').collect();
        if stamp.len() != 13 || !stamp.bytes().all(|b| b.is_ascii_digit()) || parts.len() != 4 {
            return None;
        }
        let sat = parts[0].split('-').next()?;
        if parts[1] != "MERSI" || parts[3] != "L1B" || satellite_code(sat).is_none() {
            return None;
        }
        return Some(NameParts {
            satellite: sat.to_string(),
            geo: role(parts[2])?,
            key: format!("{sat}_{stamp}"),
        });
    }
    // FY3D_MERSI_GBAL_L1_20240502_0535_1000M_MS
    let parts: Vec<&str> = stem.split('_').collect();
    if parts.len() < 8 || parts[1] != "MERSI" || parts[3] != "L1" {
        return None;
    }
    satellite_code(parts[0])?;
    let (date, time) = (parts[4], parts[5]);
    if date.len() != 8
        || time.len() != 4
        || !format!("{date}{time}").bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some(NameParts {
        satellite: parts[0].to_string(),
        geo: role(parts[6])?,
        key: format!("{}_{date}_{time}", parts[0]),
    })
}

/// The partner of a MERSI file lying beside it (`GEO1K` for `1000M` and back).
pub fn find_partner(path: &Path) -> Option<PathBuf> {
    let parts = name_parts(path)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| name_parts(p).is_some_and(|q| q.key == parts.key && q.geo != parts.geo))
        .collect();
    found.sort();
    found.pop()
}

/// What the partner's name looks like, for a "missing partner" message.
pub fn partner_pattern(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    if name.contains("1000M") {
        name.replace("1000M", "GEO1K")
    } else {
        name.replace("GEO1K", "1000M")
    }
}

fn band_buf<T: bytemuck::Pod>(shape: (usize, usize)) -> Result<BandBuf<T>, ProductError> {
    BandBuf::zeros(shape).map_err(|source| ProductError::Memory {
        rows: shape.0,
        cols: shape.1,
        source,
    })
}

/// Start time and satellite code from the root attributes.
fn identity(f: &hdf5::File, path: &Path) -> Result<(DateTime<Utc>, String), ProductError> {
    let root: &hdf5::Location = f;
    let sat = h5::attr_str_req(root, path, "/", "Satellite Name")?;
    let code = satellite_code(&sat).ok_or_else(|| ProductError::Bad {
        path: path.to_path_buf(),
        variable: "/:Satellite Name".into(),
        message: format!("{sat:?} is not an FY-3 satellite"),
    })?;
    let d = h5::attr_str_req(root, path, "/", "Observing Beginning Date")?;
    let t = h5::attr_str_req(root, path, "/", "Observing Beginning Time")?;
    let bad = |v: &str, m: String| ProductError::Bad {
        path: path.to_path_buf(),
        variable: format!("/:{v}"),
        message: m,
    };
    let date = NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|e| {
        bad(
            "Observing Beginning Date",
            format!("{d:?}: {e} (expected YYYY-MM-DD)"),
        )
    })?;
    let time = NaiveTime::parse_from_str(&t, "%H:%M:%S%.f").map_err(|e| {
        bad(
            "Observing Beginning Time",
            format!("{t:?}: {e} (expected HH:MM:SS.fff)"),
        )
    })?;
    Ok((NaiveDateTime::new(date, time).and_utc(), code))
}

/// Calibration of one channel: counts → dn, the valid count range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    pub slope: f64,
    pub intercept: f64,
    pub valid: (u16, u16),
}

impl Calibration {
    /// `count × Slope + Intercept`, or `None` outside the valid range.
    pub fn dn(&self, count: u16) -> Option<f64> {
        (count >= self.valid.0 && count <= self.valid.1)
            .then_some(count as f64 * self.slope + self.intercept)
    }
}

/// Brightness temperature (K) from radiance in mW m⁻² sr⁻¹ (cm⁻¹)⁻¹ at `wavenumber_cm`, with the
/// file's linear correction `(T_e − b) / a` (a = 0: none).
pub fn bt_from_radiance(radiance: f64, wavenumber_cm: f64, a: f64, b: f64) -> f32 {
    if radiance.is_nan() || radiance <= 0.0 {
        return f32::NAN;
    }
    let per_um = radiance * 1e-7 * wavenumber_cm * wavenumber_cm;
    let te = physics::brightness_temperature(1e4 / wavenumber_cm, per_um);
    (if a != 0.0 { (te - b) / a } else { te }) as f32
}

/// Radiance (mW m⁻² sr⁻¹ (cm⁻¹)⁻¹) of a corrected brightness temperature: the inverse of
/// [`bt_from_radiance`].
pub fn radiance_from_bt(bt: f64, wavenumber_cm: f64, a: f64, b: f64) -> f64 {
    let te = if a != 0.0 { bt * a + b } else { bt };
    physics::planck_radiance(1e4 / wavenumber_cm, te) / (1e-7 * wavenumber_cm * wavenumber_cm)
}

struct Source<'a> {
    f: &'a hdf5::File,
    path: &'a Path,
}

impl Source<'_> {
    fn dataset(&self, name: &str) -> Result<hdf5::Dataset, ProductError> {
        h5::dataset(self.f, self.path, name)
    }

    fn attr(
        &self,
        ds: &hdf5::Dataset,
        object: &str,
        name: &str,
    ) -> Result<Option<Vec<f64>>, ProductError> {
        let l: &hdf5::Location = ds;
        h5::attr_f64s(l, self.path, object, name)
    }

    fn calibration(&self, ch: &Channel, ds: &hdf5::Dataset) -> Result<Calibration, ProductError> {
        let pick = |v: Option<Vec<f64>>, default: f64| -> f64 {
            match v {
                Some(v) if v.len() > ch.index => v[ch.index],
                Some(v) if v.len() == 1 => v[0],
                _ => default,
            }
        };
        let slope = pick(self.attr(ds, ch.dataset, "Slope")?, 1.0);
        let intercept = pick(self.attr(ds, ch.dataset, "Intercept")?, 0.0);
        let mut valid = match self.attr(ds, ch.dataset, "valid_range")? {
            Some(v) if v.len() == 2 => (
                v[0].clamp(0.0, 65535.0) as u16,
                v[1].clamp(0.0, 65535.0) as u16,
            ),
            _ => (0, FIRST_CODE - 1),
        };
        if ch.dataset == EMISSIVE_250 && valid.1 == 4095 {
            valid.1 = AGGR_EMISSIVE_MAX;
        }
        Ok(Calibration {
            slope,
            intercept,
            valid,
        })
    }

    /// Counts of channel `ch` (one plane of a 3-D dataset).
    fn counts(
        &self,
        ch: &Channel,
        ds: &hdf5::Dataset,
        shape: Option<(usize, usize)>,
    ) -> Result<Vec<u16>, ProductError> {
        let dims = ds.shape();
        let ok =
            dims.len() == 3 && dims[0] > ch.index && shape.is_none_or(|s| (dims[1], dims[2]) == s);
        if !ok {
            return Err(ProductError::Shape {
                path: self.path.to_path_buf(),
                variable: ch.dataset.to_string(),
                found: dims,
                expected: match shape {
                    Some((r, c)) => vec![ch.index + 1, r, c],
                    None => vec![ch.index + 1, 0, 0],
                },
            });
        }
        use ndarray::s;
        ds.read_slice_2d::<u16, _>(s![ch.index, .., ..])
            .map(|a| a.into_raw_vec_and_offset().0)
            .map_err(|e| ProductError::Read {
                path: self.path.to_path_buf(),
                variable: ch.dataset.to_string(),
                message: e.to_string(),
            })
    }
}

/// Reads a MERSI-II 1-km granule: `data` the `1000M` file, `geo` its `GEO1K`.
pub fn read(data: &Path, geo: &Path) -> Result<Granule, ProductError> {
    let f = h5::open(data)?;
    let src = Source { f: &f, path: data };
    let (start, sat) = identity(&f, data)?;
    let gf = h5::open(geo)?;
    let (gstart, gsat) = identity(&gf, geo)?;
    if (gstart, &gsat) != (start, &sat) {
        return Err(ProductError::Mismatch {
            path: data.to_path_buf(),
            other: geo.to_path_buf(),
            what: if gsat != sat {
                format!("satellites {sat} and {gsat}")
            } else {
                format!("granule starts {start} and {gstart}")
            },
        });
    }
    let root: &hdf5::Location = &f;
    let wavelengths = h5::attr_f64s(root, data, "/", "Effect_Center_WaveLength")?;
    let tbb_a = h5::attr_f64s(root, data, "/", "TBB_Trans_Coefficient_A")?;
    let tbb_b = h5::attr_f64s(root, data, "/", "TBB_Trans_Coefficient_B")?;

    // Geolocation first: its shape is the granule's, and reflectance needs the solar zenith.
    let gsrc = Source { f: &gf, path: geo };
    let lat_ds = gsrc.dataset("Geolocation/Latitude")?;
    let shape = match lat_ds.shape()[..] {
        [r, c] if r > 0 => (r, c),
        _ => {
            return Err(ProductError::Shape {
                path: geo.to_path_buf(),
                variable: "Geolocation/Latitude".into(),
                found: lat_ds.shape(),
                expected: vec![0, 0],
            })
        }
    };
    let dims = [shape.0, shape.1];
    let read_latlon = |name: &str, limit: f32| -> Result<BandBuf, ProductError> {
        let ds = gsrc.dataset(name)?;
        let v: Vec<f32> = h5::read(&ds, geo, name, Some(&dims))?;
        let mut b = band_buf::<f32>(shape)?;
        b.as_mut_slice()
            .par_iter_mut()
            .zip(v.par_iter())
            .for_each(|(o, &x)| *o = if x.abs() <= limit { x } else { f32::NAN });
        Ok(b)
    };
    let lat = read_latlon("Geolocation/Latitude", 90.0)?;
    let lon = read_latlon("Geolocation/Longitude", 180.0)?;
    let mut bands: BTreeMap<String, BandBuf> = BTreeMap::new();
    for (name, canonical) in ANGLES {
        let ds = gsrc.dataset(name)?;
        let v: Vec<i16> = h5::read(&ds, geo, name, Some(&dims))?;
        let slope = gsrc
            .attr(&ds, name, "Slope")?
            .and_then(|v| v.first().copied())
            .unwrap_or(0.01) as f32;
        let icpt = gsrc
            .attr(&ds, name, "Intercept")?
            .and_then(|v| v.first().copied())
            .unwrap_or(0.0) as f32;
        let fill = gsrc
            .attr(&ds, name, "FillValue")?
            .and_then(|v| v.first().copied())
            .map(|v| v as i16)
            .unwrap_or(ANGLE_FILL);
        let mut b = band_buf::<f32>(shape)?;
        b.as_mut_slice()
            .par_iter_mut()
            .zip(v.par_iter())
            .for_each(|(o, &x)| {
                *o = if x == fill {
                    f32::NAN
                } else {
                    x as f32 * slope + icpt
                }
            });
        bands.insert(canonical.to_string(), b);
    }
    let water = {
        let ds = gsrc.dataset(LAND_SEA)?;
        let v: Vec<u8> = h5::read(&ds, geo, LAND_SEA, Some(&dims))?;
        let mut b = band_buf::<u8>(shape)?;
        b.as_mut_slice()
            .par_iter_mut()
            .zip(v.par_iter())
            .for_each(|(o, &c)| *o = u8::from(super::viirs_l1b::is_water_class(c)));
        b
    };

    let chans = channels(&sat);
    let vis = if chans.iter().all(|c| c.emissive) {
        Vec::new()
    } else {
        let ds = src.dataset(VIS_CAL)?;
        let v: Vec<f32> = h5::read(&ds, data, VIS_CAL, None)?;
        if v.len() < 19 * 3 {
            return Err(ProductError::Shape {
                path: data.to_path_buf(),
                variable: VIS_CAL.into(),
                found: ds.shape(),
                expected: vec![19, 3],
            });
        }
        v
    };
    let mut saturation = BTreeMap::new();
    let mut cos_sza: Option<Vec<f32>> = None;
    for ch in chans.iter().copied() {
        let ds = src.dataset(ch.dataset)?;
        let cal = src.calibration(&ch, &ds)?;
        let counts = src.counts(&ch, &ds, Some(shape))?;
        let mut out = band_buf::<f32>(shape)?;
        if ch.emissive {
            let ir = ch.ir;
            let wl = wavelengths
                .as_ref()
                .and_then(|w| w.get(ch.channel - 1).copied())
                .filter(|w| *w > 0.0)
                .unwrap_or(ch.wavelength_um);
            let nu = 1e4 / wl;
            let a = tbb_a
                .as_ref()
                .and_then(|v| v.get(ir).copied())
                .unwrap_or(0.0);
            let b = tbb_b
                .as_ref()
                .and_then(|v| v.get(ir).copied())
                .unwrap_or(0.0);
            let sat = bt_from_radiance(cal.valid.1 as f64 * cal.slope + cal.intercept, nu, a, b);
            saturation.insert(ch.canonical.to_string(), sat);
            // One inverse Planck function per count, not per pixel (`count_table`).
            let table = super::count_table(|c| {
                if c == SATURATED {
                    sat
                } else {
                    cal.dn(c)
                        .map_or(f32::NAN, |r| bt_from_radiance(r, nu, a, b))
                }
            });
            super::map_table(&counts, &table, out.as_mut_slice());
        } else {
            let k = &vis[(ch.channel - 1) * 3..ch.channel * 3];
            let (c0, c1, c2) = (k[0] as f64, k[1] as f64, k[2] as f64);
            let refl = move |dn: f64| ((c0 + c1 * dn + c2 * dn * dn) / 100.0) as f32;
            let top = refl(cal.valid.1 as f64 * cal.slope + cal.intercept);
            let table = super::count_table(|c| {
                if c == SATURATED {
                    top
                } else {
                    cal.dn(c).map_or(f32::NAN, refl)
                }
            });
            let cos = cos_sza
                .get_or_insert_with(|| super::modis_l1b::cos_sun_zenith(bands["SZA"].as_slice()));
            out.as_mut_slice()
                .par_iter_mut()
                .zip(counts.par_iter().zip(cos.par_iter()))
                .with_min_len(1 << 14)
                .for_each(|(o, (&c, &k))| {
                    let v = table[c as usize];
                    *o = if k.is_nan() { v } else { v / k };
                });
        }
        bands.insert(ch.canonical.to_string(), out);
    }
    // MERSI-LL: no reflective channels; the detector's night tests need none.
    for canonical in ["B1", "B2", "B7"] {
        if !bands.contains_key(canonical) {
            let mut nan = band_buf::<f32>(shape)?;
            nan.as_mut_slice().fill(f32::NAN);
            bands.insert(canonical.to_string(), nan);
        }
    }
    Ok(Granule {
        kind: ProductKind::MersiL1,
        files: vec![data.to_path_buf(), geo.to_path_buf()],
        meta: SceneMeta {
            acq_time: Some(start),
            satellite: Some(sat),
            sensor: Some("MERSI".into()),
        },
        shape,
        bands,
        geometry: Geometry::Swath(Swath {
            lat,
            lon,
            rows_per_scan: ROWS_PER_SCAN,
        }),
        water: Some(water),
        saturation,
    })
}

/// What a renamed MERSI file says of itself: (granule key, whether it is the GEO1K) from its
/// root attributes and groups; `None` when it is HDF5 but not MERSI L1.
pub fn identify_contents(path: &Path) -> Result<Option<(String, bool)>, ProductError> {
    let f = h5::open(path)?;
    let geo = h5::link_exists(&f, "Geolocation/Latitude");
    if !geo && !h5::link_exists(&f, EMISSIVE) {
        return Ok(None);
    }
    let Ok((start, sat)) = identity(&f, path) else {
        return Ok(None);
    };
    Ok(Some((
        format!("{sat}_{}", start.format("%Y%m%d_%H%M")),
        geo,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_both_conventions() {
        let p = name_parts(Path::new("FY3D_MERSI_GBAL_L1_20240502_0535_1000M_MS.HDF")).unwrap();
        assert_eq!(
            (p.satellite.as_str(), p.geo, p.key.as_str()),
            ("FY3D", false, "FY3D_20240502_0535")
        );
        let g = name_parts(Path::new(
            "/d/FY3D_MERSI_GBAL_L1_20240502_0535_GEO1K_MS.HDF",
        ))
        .unwrap();
        assert_eq!((g.geo, g.key), (true, p.key));
        let t = name_parts(Path::new("tf2019071182739.FY3D-X_MERSI_GEO1K_L1B.HDF")).unwrap();
        assert_eq!((t.geo, t.key.as_str()), (true, "FY3D_2019071182739"));
        assert!(name_parts(Path::new("FY3D_MERSI_GBAL_L1_20240502_0535_0250M_MS.HDF")).is_none());
        assert!(name_parts(Path::new("MOD03.A2024123.0535.061.1.hdf")).is_none());
        assert_eq!(satellite_code("FY-3D").as_deref(), Some("FY3D"));
        assert_eq!(satellite_code("NOAA-20"), None);
    }

    #[test]
    fn brightness_temperature_inverts_planck_in_wavenumber_units() {
        // 10.8 µm, 300 K: ≈ 100 mW m⁻² sr⁻¹ (cm⁻¹)⁻¹ (the real files' slope 0.01 puts it near
        // count 10000).
        let nu = 1e4 / 10.8;
        let r = radiance_from_bt(300.0, nu, 0.0, 0.0);
        assert!((90.0..115.0).contains(&r), "{r}");
        assert!((bt_from_radiance(r, nu, 0.0, 0.0) - 300.0).abs() < 1e-3);
        let r = radiance_from_bt(300.0, nu, 1.001, -0.3);
        assert!((bt_from_radiance(r, nu, 1.001, -0.3) - 300.0).abs() < 1e-3);
        assert!(bt_from_radiance(0.0, nu, 1.0, 0.0).is_nan());
    }
}
