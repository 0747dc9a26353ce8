//! NASA MODIS Collection 6/6.1 Level-1B at 1 km as LAADS/LANCE publish it: `MOD021KM` (Terra) /
//! `MYD021KM` (Aqua) with the geolocation `MOD03` / `MYD03`, HDF4 HDF-EOS2 swaths, read into a
//! [`Granule`] through the HDF4 boundary ([`super::hdf4`]; why not GDAL's HDF4 driver: there).
//!
//! Counts become physical values by the product's own rules (MCST "L1B EV 1km File
//! Specification" V6.1.8, `MOD021KM.fs` as kept in koscHeo/seadas_kosc; FORMATS.md §4; satpy
//! `satpy/readers/modis_l1b.py`):
//! - bands are found by the SDS's `band_names` attribute ("20,21,…,36"; "1,2"; "3,4,5,6,7"), never
//!   by position;
//! - emissive bands 21, 22, 31, 32 (`EV_1KM_Emissive`): radiance = `radiance_scales[b]` ×
//!   (count − `radiance_offsets[b]`) in W m⁻² sr⁻¹ µm⁻¹, then brightness temperature by the
//!   inverse Planck function ([`crate::physics::brightness_temperature`]) at the band's effective
//!   central wavelength ([`BANDS`]: 10⁴ / the band-averaged effective central wavenumber of Terra
//!   MODIS, Gumley `modis_planck.pro`, ssec/polar2grid; the small temperature correction
//!   (slope ≈ 0.9999, intercept ≤ 0.1 K) that routine adds is left out, and Aqua's wavenumbers,
//!   which differ in the fourth digit, are taken as Terra's);
//! - reflective bands 1, 2 (`EV_250_Aggr1km_RefSB`) and 7 (`EV_500_Aggr1km_RefSB`):
//!   `reflectance_scales[b]` × (count − `reflectance_offsets[b]`) is the reflectance factor times
//!   the cosine of the solar zenith angle (ρ·cos θ₀, the L1B reflectance is not sun-normalised:
//!   polar2grid issue #707 lists `modis_l1b` among the readers that must divide; satpy PR #3292
//!   names it "unnormalized reflectance"), so it is divided by cos θ₀ where θ₀ < 90°; at night it
//!   is kept as is (nothing to normalise by, and the detector does not read reflectance there);
//! - counts above `valid_range` (0–32767) are error codes (65500–65535: 65533 saturated, 65528
//!   aggregation failed, 65535 `_FillValue`, …): saturated → the band's saturation value (the
//!   largest value its counts encode, recorded in [`Granule::saturation`] for the emissive bands,
//!   so the detector tells a saturated band 22 from a cool one and falls back on band 21), every
//!   other code NaN.
//!
//! Geolocation: from `MOD03` at 1 km (`Latitude`/`Longitude` float32, `SolarZenith`,
//! `SensorZenith`, `SolarAzimuth`, `SensorAzimuth` int16 × `scale_factor` 0.01 with fill -32767 →
//! `SZA`, `VZA`, `SAA`, `VAA`; `Land/SeaMask` → [`Granule::water`] by
//! [`super::viirs_l1b::is_water_class`], the same eight classes). Without the `MOD03`, the 5-km
//! `Latitude`/`Longitude` and angles inside `MOD021KM` (every 5th frame and line: lines 3 and 8 of
//! each 10-line scan, frames 3, 8, 13, …, 1-based; the swath's dimension map, offset 2 and
//! increment 5) are interpolated to 1 km scan by scan (positions as unit vectors, azimuths as
//! their sine and cosine, bilinear, extrapolated to the scan's edge lines and frames; the same
//! scheme as python-geotiepoints' `modis5kmto1km`, simplified), and the granule has **no water
//! mask** (`water: None`): `MOD021KM` carries none, so the detector then tells water by
//! reflectance, by day only.
//!
//! Metadata: the granule start from `CoreMetadata.0` (`RANGEBEGINNINGDATE` +
//! `RANGEBEGINNINGTIME`), else from the file name (`A2024123.0535`); the platform from
//! `ASSOCIATEDPLATFORMSHORTNAME` ("Terra"/"Aqua"), else the name (`MOD`/`MYD`), as FIRMS codes
//! `T`/`A`; sensor `MODIS`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rayon::prelude::*;

use super::error::ProductError;
use super::hdf4::SdFile;
use super::{Geometry, Granule, ProductKind, Swath};
use crate::physics;
use crate::raster::{BandBuf, SceneMeta};

/// Detector rows per scan at 1 km (10 detectors per band).
pub const ROWS_PER_SCAN: usize = 10;
/// The swath name inside `MOD021KM` (StructMetadata.0 `SwathName`).
pub const L1B_SWATH: &str = "MODIS_SWATH_Type_L1B";
/// The swath name inside `MOD03`.
pub const GEO_SWATH: &str = "MODIS_Swath_Type_GEO";
/// Counts above this are error codes (`valid_range` 0, 32767).
pub const VALID_MAX: u16 = 32767;
/// The error code of a saturated pixel.
pub const SATURATED: u16 = 65533;
/// `_FillValue` of the EV SDSs.
pub const FILL: u16 = 65535;
/// `_FillValue` of the int16 angles (MOD021KM and MOD03).
pub const ANGLE_FILL: i16 = -32767;
/// `scale_factor` of the int16 angles.
pub const ANGLE_SCALE: f64 = 0.01;
/// `_FillValue` of the 5-km `Latitude`/`Longitude` in MOD021KM (FORMATS.md §4, the L1B spec).
pub const L1B_LATLON_FILL: f32 = -999.9;
/// `_FillValue` of MOD03 `Latitude`/`Longitude` (unverified: -999 as satpy's fixtures write).
pub const GEO_LATLON_FILL: f32 = -999.0;
/// `_FillValue` of MOD03 `Land/SeaMask` (unverified: from memory of the MOD03 file spec).
pub const LAND_SEA_FILL: u8 = 221;
/// The MOD03 land/sea mask SDS.
pub const LAND_SEA: &str = "Land/SeaMask";
/// Lines and frames of the 5-km tie points: index 2 and every 5th after (the dimension map's
/// offset and increment).
pub const TIE_OFFSET: usize = 2;
pub const TIE_STEP: usize = 5;

/// One band the detector reads: its canonical name, the SDS holding it, its entry in that SDS's
/// `band_names`, and for emissive bands the effective central wavelength (µm).
#[derive(Debug, Clone, Copy)]
pub struct BandSpec {
    pub canonical: &'static str,
    pub sds: &'static str,
    pub band: &'static str,
    pub wavelength_um: Option<f64>,
}

/// `EV_1KM_Emissive` and its 16 bands (`band_names`, the L1B spec 2.9).
pub const EMISSIVE: &str = "EV_1KM_Emissive";
pub const EMISSIVE_BANDS: [&str; 16] = [
    "20", "21", "22", "23", "24", "25", "27", "28", "29", "30", "31", "32", "33", "34", "35", "36",
];
/// `EV_250_Aggr1km_RefSB` (bands 1, 2) and `EV_500_Aggr1km_RefSB` (bands 3–7).
pub const REFSB_250: &str = "EV_250_Aggr1km_RefSB";
pub const REFSB_250_BANDS: [&str; 2] = ["1", "2"];
pub const REFSB_500: &str = "EV_500_Aggr1km_RefSB";
pub const REFSB_500_BANDS: [&str; 5] = ["3", "4", "5", "6", "7"];

/// Effective central wavelength (µm) of an emissive band: 10⁴ / the Terra band-averaged
/// effective central wavenumber (cm⁻¹) of Gumley's `modis_planck.pro` (ssec/polar2grid).
pub const fn wavelength_um(wavenumber_cm: f64) -> f64 {
    1.0e4 / wavenumber_cm
}

/// Band 22's effective central wavenumber (cm⁻¹): Terra's band-averaged value in Gumley's
/// `modis_planck.pro` (Aqua's, 2517.908, differs by 0.005 %, ≈ 0.01 K at 300 K).
pub const B22_WAVENUMBER_CM: f64 = 2518.028;
/// Band 22's effective central wavelength, µm (≈ 3.9714): the one wavelength of T4 in strawfire.
/// The reader turns band-22 radiance into T4 at it; the MODIS model's `bands.t4_wavelength_um`
/// must be it (checked at load: the detector turns T4 back into radiance for FRP and the
/// background's mean radiance), and `synth::modis` mixes its fires at it. The nominal band centre
/// 3.959 µm (the band's 3.929–3.989 µm half-power points' middle, which ALGORITHMS.md and the
/// K. Barrett re-implementation use) is not the radiometric one: inverting a band-22 radiance at
/// 3.959 µm instead gives a T4 ≈ 0.55 K too high at 300 K.
pub const B22_WAVELENGTH_UM: f64 = wavelength_um(B22_WAVENUMBER_CM);

/// The bands of the MODIS fire model (`B1 B2 B7 B21 B22 B31 B32`, DESIGN.md).
pub const BANDS: [BandSpec; 7] = [
    BandSpec {
        canonical: "B1",
        sds: REFSB_250,
        band: "1",
        wavelength_um: None,
    },
    BandSpec {
        canonical: "B2",
        sds: REFSB_250,
        band: "2",
        wavelength_um: None,
    },
    BandSpec {
        canonical: "B7",
        sds: REFSB_500,
        band: "7",
        wavelength_um: None,
    },
    BandSpec {
        canonical: "B21",
        sds: EMISSIVE,
        band: "21",
        wavelength_um: Some(wavelength_um(2505.277)),
    },
    BandSpec {
        canonical: "B22",
        sds: EMISSIVE,
        band: "22",
        wavelength_um: Some(B22_WAVELENGTH_UM),
    },
    BandSpec {
        canonical: "B31",
        sds: EMISSIVE,
        band: "31",
        wavelength_um: Some(wavelength_um(908.0884)),
    },
    BandSpec {
        canonical: "B32",
        sds: EMISSIVE,
        band: "32",
        wavelength_um: Some(wavelength_um(831.5399)),
    },
];

/// The angle SDSs (MOD03 at 1 km, MOD021KM at 5 km) with their canonical band names.
pub const ANGLES: [(&str, &str); 4] = [
    ("SolarZenith", "SZA"),
    ("SensorZenith", "VZA"),
    ("SolarAzimuth", "SAA"),
    ("SensorAzimuth", "VAA"),
];

/// The FIRMS satellite code of a MODIS platform (`Terra` → `T`, `Aqua` → `A`).
pub fn satellite_code(platform: &str) -> Option<&'static str> {
    match platform.trim().to_ascii_uppercase().as_str() {
        "TERRA" | "EOS-AM1" | "AM-1" | "T" => Some("T"),
        "AQUA" | "EOS-PM1" | "PM-1" | "A" => Some("A"),
        _ => None,
    }
}

/// What a MODIS file name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameParts {
    /// `MOD` (Terra) or `MYD` (Aqua).
    pub family: String,
    /// Whether this is the geolocation file (`M?D03`), else the 1-km L1B (`M?D021KM`).
    pub geo: bool,
    /// `A2024123.0535`: acquisition year, day of year, hour and minute.
    pub key: String,
}

/// Parses `MOD021KM.A2024123.0535.061.2024123123456.hdf` / `MYD03.A2024123.0535.061….hdf`.
pub fn name_parts(path: &Path) -> Option<NameParts> {
    let name = path.file_name()?.to_str()?;
    let mut it = name.split('.');
    let product = it.next()?.to_ascii_uppercase();
    let date = it.next()?;
    let time = it.next()?;
    let (family, rest) = product.split_at_checked(3)?;
    if !matches!(family, "MOD" | "MYD") {
        return None;
    }
    let geo = match rest {
        "021KM" => false,
        "03" => true,
        _ => return None,
    };
    let ok_date =
        date.len() == 8 && date.starts_with('A') && date[1..].bytes().all(|b| b.is_ascii_digit());
    let ok_time = time.len() == 4 && time.bytes().all(|b| b.is_ascii_digit());
    if !(ok_date && ok_time && name.to_ascii_lowercase().ends_with(".hdf")) {
        return None;
    }
    Some(NameParts {
        family: family.to_string(),
        geo,
        key: format!("{date}.{time}"),
    })
}

/// The start time in a name key `A2024123.0535`.
pub fn key_time(key: &str) -> Option<DateTime<Utc>> {
    let (date, time) = key.strip_prefix('A')?.split_once('.')?;
    let year: i32 = date.get(..4)?.parse().ok()?;
    let doy: u32 = date.get(4..)?.parse().ok()?;
    let d = NaiveDate::from_yo_opt(year, doy)?;
    let t = NaiveTime::from_hms_opt(
        time.get(..2)?.parse().ok()?,
        time.get(2..)?.parse().ok()?,
        0,
    )?;
    Some(NaiveDateTime::new(d, t).and_utc())
}

/// The partner of a MODIS file lying beside it (`MOD03` for `MOD021KM` and back), same family
/// and granule key, any collection or processing time.
pub fn find_partner(path: &Path) -> Option<PathBuf> {
    let parts = name_parts(path)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            name_parts(p).is_some_and(|q| {
                q.family == parts.family && q.key == parts.key && q.geo != parts.geo
            })
        })
        .collect();
    found.sort();
    found.pop()
}

/// The name pattern of the partner, for a "missing partner" message.
pub fn partner_pattern(path: &Path) -> String {
    match name_parts(path) {
        Some(p) => format!(
            "{}{}.{}.*.hdf",
            p.family,
            if p.geo { "021KM" } else { "03" },
            p.key
        ),
        None => "M?D03.*.hdf".into(),
    }
}

/// The value of `OBJECT = NAME … VALUE = "…"` in an ECS ODL metadata string (CoreMetadata.0).
pub fn odl_value(odl: &str, object: &str) -> Option<String> {
    let mut inside = false;
    for line in odl.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k == "OBJECT" && v == object {
            inside = true;
        } else if k == "END_OBJECT" && v == object {
            inside = false;
        } else if inside && k == "VALUE" {
            let v = v.trim_matches('"').trim();
            let v = v.trim_start_matches('(').trim_end_matches(')');
            return Some(v.trim_matches('"').to_string());
        }
    }
    None
}

/// What a renamed MODIS file says of itself: (`MOD`/`MYD`, whether it is the `M?D03`, granule
/// key `A2024123.0535`) from `CoreMetadata.0` (`SHORTNAME`, `RANGEBEGINNINGDATE`/`TIME`);
/// `None` when the file is HDF4 but not a MODIS L1B or geolocation file.
pub fn identify_contents(path: &Path) -> Result<Option<(String, bool, String)>, ProductError> {
    let f = SdFile::open(path)?;
    let Some(core) = f
        .attr("CoreMetadata.0")?
        .and_then(|a| a.text().map(str::to_string))
    else {
        return Ok(None);
    };
    let Some(short) = odl_value(&core, "SHORTNAME") else {
        return Ok(None);
    };
    let short = short.to_ascii_uppercase();
    let Some((family, rest)) = short.split_at_checked(3) else {
        return Ok(None);
    };
    let geo = match (family, rest) {
        ("MOD" | "MYD", "021KM") => false,
        ("MOD" | "MYD", "03") => true,
        _ => return Ok(None),
    };
    let id = identity(&f)?;
    Ok(Some((
        family.to_string(),
        geo,
        id.start.format("A%Y%j.%H%M").to_string(),
    )))
}

/// What a file says of itself: start time, FIRMS platform code, and whether it is MOD03.
#[derive(Debug, Clone, PartialEq)]
struct Identity {
    start: DateTime<Utc>,
    satellite: &'static str,
}

fn identity(f: &SdFile) -> Result<Identity, ProductError> {
    let path = f.path();
    let core = f
        .attr("CoreMetadata.0")?
        .and_then(|a| a.text().map(str::to_string));
    let parts = name_parts(path);
    let bad = |variable: &str, message: String| ProductError::Bad {
        path: path.to_path_buf(),
        variable: variable.to_string(),
        message,
    };
    let start = match core.as_deref().and_then(|c| {
        Some((
            odl_value(c, "RANGEBEGINNINGDATE")?,
            odl_value(c, "RANGEBEGINNINGTIME")?,
        ))
    }) {
        Some((d, t)) => {
            let d = NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|e| {
                bad(
                    "CoreMetadata.0:RANGEBEGINNINGDATE",
                    format!("{d:?}: {e} (expected YYYY-MM-DD)"),
                )
            })?;
            let t = NaiveTime::parse_from_str(&t, "%H:%M:%S%.f").map_err(|e| {
                bad(
                    "CoreMetadata.0:RANGEBEGINNINGTIME",
                    format!("{t:?}: {e} (expected HH:MM:SS.ffffff)"),
                )
            })?;
            NaiveDateTime::new(d, t).and_utc()
        }
        None => parts
            .as_ref()
            .and_then(|p| key_time(&p.key))
            .ok_or_else(|| ProductError::Missing {
                path: path.to_path_buf(),
                what: "attribute",
                name:
                    "CoreMetadata.0 RANGEBEGINNINGDATE/TIME (and no A<yyyyddd>.<hhmm> in the name)"
                        .into(),
            })?,
    };
    let satellite = match core
        .as_deref()
        .and_then(|c| odl_value(c, "ASSOCIATEDPLATFORMSHORTNAME"))
    {
        Some(p) => satellite_code(&p).ok_or_else(|| {
            bad(
                "CoreMetadata.0:ASSOCIATEDPLATFORMSHORTNAME",
                format!("{p:?} is not Terra or Aqua"),
            )
        })?,
        None => match parts.as_ref().map(|p| p.family.as_str()) {
            Some("MOD") => "T",
            Some("MYD") => "A",
            _ => {
                return Err(ProductError::Missing {
                    path: path.to_path_buf(),
                    what: "attribute",
                    name: "CoreMetadata.0 ASSOCIATEDPLATFORMSHORTNAME (and no MOD/MYD name)".into(),
                })
            }
        },
    };
    Ok(Identity { start, satellite })
}

fn band_buf<T: bytemuck::Pod>(shape: (usize, usize)) -> Result<BandBuf<T>, ProductError> {
    BandBuf::zeros(shape).map_err(|source| ProductError::Memory {
        rows: shape.0,
        cols: shape.1,
        source,
    })
}

/// The index of `band` in an SDS's `band_names` ("20,21,…" or "1, 2").
pub fn band_index(band_names: &str, band: &str) -> Option<usize> {
    band_names
        .split(',')
        .map(str::trim)
        .position(|b| b.eq_ignore_ascii_case(band))
}

/// Calibration of one band of an EV SDS: the counts' scale and offset, the valid range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    pub scale: f32,
    pub offset: f32,
    pub valid: (u16, u16),
}

impl Calibration {
    /// `scale × (count − offset)`, or `None` for an error code or a count outside the range.
    pub fn value(&self, count: u16) -> Option<f32> {
        (count >= self.valid.0 && count <= self.valid.1)
            .then_some(self.scale * (count as f32 - self.offset))
    }

    /// The largest value the counts encode (the saturation value).
    pub fn max_value(&self) -> f32 {
        self.scale * (self.valid.1 as f32 - self.offset)
    }
}

/// Brightness temperature (K) of an emissive count: NaN for error codes and non-positive
/// radiance, the band's saturation value for 65533.
pub fn bt_from_count(count: u16, cal: &Calibration, wavelength_um: f64, saturation_k: f32) -> f32 {
    if count == SATURATED {
        return saturation_k;
    }
    match cal.value(count) {
        Some(l) if l > 0.0 => physics::brightness_temperature(wavelength_um, l as f64) as f32,
        _ => f32::NAN,
    }
}

/// Reflectance of a reflective count: (scale × (count − offset)) / cos θ₀ where θ₀ < 90°.
pub fn reflectance_from_count(count: u16, cal: &Calibration, sza_deg: f32) -> f32 {
    let rho_cos = if count == SATURATED {
        cal.max_value()
    } else {
        match cal.value(count) {
            Some(v) => v,
            None => return f32::NAN,
        }
    };
    if sza_deg < 90.0 {
        rho_cos / sza_deg.to_radians().cos()
    } else {
        rho_cos
    }
}

/// cos θ₀ per pixel where θ₀ < 90° (what a reflectance is divided by), NaN elsewhere (kept as is).
pub(crate) fn cos_sun_zenith(sza_deg: &[f32]) -> Vec<f32> {
    sza_deg
        .par_iter()
        .with_min_len(1 << 14)
        .map(|&z| {
            if z < 90.0 {
                z.to_radians().cos()
            } else {
                f32::NAN
            }
        })
        .collect()
}

/// One EV SDS of the data file with its band list and calibration attributes.
struct EvSds<'f> {
    path: PathBuf,
    sds: super::hdf4::Sds<'f>,
    names: String,
    scales: Vec<f64>,
    offsets: Vec<f64>,
    valid: (u16, u16),
}

fn ev_sds<'f>(
    f: &'f SdFile,
    name: &str,
    shape: Option<(usize, usize)>,
    reflective: bool,
) -> Result<EvSds<'f>, ProductError> {
    let path = f.path();
    let sds = f.dataset(name)?;
    let dims = sds.dims().to_vec();
    if dims.len() != 3 || shape.is_some_and(|s| (dims[1], dims[2]) != s) {
        return Err(ProductError::Shape {
            path: path.to_path_buf(),
            variable: name.to_string(),
            found: dims,
            expected: match shape {
                Some((r, c)) => vec![0, r, c],
                None => vec![0, 0, 0],
            },
        });
    }
    let names = sds
        .required_attr("band_names")?
        .text()
        .map(str::to_string)
        .ok_or_else(|| ProductError::Bad {
            path: path.to_path_buf(),
            variable: format!("{name}:band_names"),
            message: "not a string".into(),
        })?;
    let (s, o) = if reflective {
        ("reflectance_scales", "reflectance_offsets")
    } else {
        ("radiance_scales", "radiance_offsets")
    };
    let scales = sds.required_attr(s)?.numbers();
    let offsets = sds.required_attr(o)?.numbers();
    let n = names.split(',').count();
    for (attr, v) in [(s, &scales), (o, &offsets)] {
        if v.len() != n || dims[0] != n {
            return Err(ProductError::Shape {
                path: path.to_path_buf(),
                variable: format!("{name}:{attr}"),
                found: vec![v.len(), dims[0]],
                expected: vec![n, n],
            });
        }
    }
    let valid = match sds.attr("valid_range")? {
        Some(a) => {
            let v = a.numbers();
            if v.len() == 2 {
                (
                    v[0].clamp(0.0, 65535.0) as u16,
                    v[1].clamp(0.0, 65535.0) as u16,
                )
            } else {
                (0, VALID_MAX)
            }
        }
        None => (0, VALID_MAX),
    };
    Ok(EvSds {
        path: path.to_path_buf(),
        sds,
        names,
        scales,
        offsets,
        valid,
    })
}

impl EvSds<'_> {
    fn band(&self, band: &str) -> Result<(usize, Calibration), ProductError> {
        let i = band_index(&self.names, band).ok_or_else(|| ProductError::Missing {
            path: self.path.clone(),
            what: "band",
            name: format!(
                "{} band {band} (band_names {:?})",
                self.sds.name(),
                self.names
            ),
        })?;
        Ok((
            i,
            Calibration {
                scale: self.scales[i] as f32,
                offset: self.offsets[i] as f32,
                valid: self.valid,
            },
        ))
    }

    fn counts(&self, index: usize) -> Result<Vec<u16>, ProductError> {
        let d = self.sds.dims();
        self.sds.read_slab(&[index, 0, 0], &[1, d[1], d[2]])
    }
}

/// Reads a MODIS 1-km granule: `data` the `M?D021KM`, `geo` its `M?D03` (or `None`: the 5-km
/// geolocation inside `data`, interpolated; no water mask).
pub fn read(data: &Path, geo: Option<&Path>) -> Result<Granule, ProductError> {
    let f = SdFile::open(data)?;
    let id = identity(&f)?;
    let emissive = ev_sds(&f, EMISSIVE, None, false)?;
    let shape = (emissive.sds.dims()[1], emissive.sds.dims()[2]);
    if shape.0 == 0 || shape.0 % ROWS_PER_SCAN != 0 {
        return Err(ProductError::Bad {
            path: data.to_path_buf(),
            variable: EMISSIVE.into(),
            message: format!("{} lines, not whole scans of {ROWS_PER_SCAN}", shape.0),
        });
    }
    let r250 = ev_sds(&f, REFSB_250, Some(shape), true)?;
    let r500 = ev_sds(&f, REFSB_500, Some(shape), true)?;

    // Geolocation and angles first: reflectance needs the solar zenith.
    let mut bands: BTreeMap<String, BandBuf> = BTreeMap::new();
    let (lat, lon, water) = match geo {
        Some(g) => {
            let gf = SdFile::open(g)?;
            let gid = identity(&gf)?;
            if gid != id {
                let what = if gid.satellite != id.satellite {
                    format!("platforms {} and {}", id.satellite, gid.satellite)
                } else {
                    format!("granule starts {} and {}", id.start, gid.start)
                };
                return Err(ProductError::Mismatch {
                    path: data.to_path_buf(),
                    other: g.to_path_buf(),
                    what,
                });
            }
            let (lat, lon) = read_geo_latlon(&gf, shape)?;
            for (sds, name) in ANGLES {
                bands.insert(name.to_string(), read_angle_1km(&gf, sds, shape)?);
            }
            let water = read_water(&gf, shape)?;
            (lat, lon, Some(water))
        }
        None => {
            let (lat, lon) = interpolate_latlon(&f, shape)?;
            for (sds, name) in ANGLES {
                bands.insert(name.to_string(), interpolate_angle(&f, sds, shape)?);
            }
            (lat, lon, None)
        }
    };

    let mut saturation = BTreeMap::new();
    let mut cos_sza: Option<Vec<f32>> = None;
    for spec in BANDS {
        let ev = match spec.sds {
            EMISSIVE => &emissive,
            REFSB_250 => &r250,
            _ => &r500,
        };
        let (index, cal) = ev.band(spec.band)?;
        let counts = ev.counts(index)?;
        let mut out = band_buf::<f32>(shape)?;
        match spec.wavelength_um {
            Some(wl) => {
                let sat = physics::brightness_temperature(wl, cal.max_value() as f64) as f32;
                saturation.insert(spec.canonical.to_string(), sat);
                let table = super::count_table(|c| bt_from_count(c, &cal, wl, sat));
                super::map_table(&counts, &table, out.as_mut_slice());
            }
            None => {
                // ρ·cos θ₀ by count from a table, then ÷ cos θ₀ (computed once for the three
                // bands): the same values as `reflectance_from_count`, bit for bit.
                let table = super::count_table(|c| reflectance_from_count(c, &cal, 90.0));
                let cos = cos_sza.get_or_insert_with(|| cos_sun_zenith(bands["SZA"].as_slice()));
                out.as_mut_slice()
                    .par_iter_mut()
                    .zip(counts.par_iter().zip(cos.par_iter()))
                    .with_min_len(1 << 14)
                    .for_each(|(o, (&c, &k))| {
                        let v = table[c as usize];
                        *o = if k.is_nan() { v } else { v / k };
                    });
            }
        }
        bands.insert(spec.canonical.to_string(), out);
    }

    let mut files = vec![data.to_path_buf()];
    files.extend(geo.map(Path::to_path_buf));
    Ok(Granule {
        kind: ProductKind::ModisL1b,
        files,
        meta: SceneMeta {
            acq_time: Some(id.start),
            satellite: Some(id.satellite.to_string()),
            sensor: Some("MODIS".into()),
        },
        shape,
        bands,
        geometry: Geometry::Swath(Swath {
            lat,
            lon,
            rows_per_scan: ROWS_PER_SCAN,
        }),
        water,
        saturation,
    })
}

fn check_2d(
    f: &SdFile,
    sds: &super::hdf4::Sds<'_>,
    expected: (usize, usize),
) -> Result<(), ProductError> {
    if sds.dims() != [expected.0, expected.1] {
        return Err(ProductError::Shape {
            path: f.path().to_path_buf(),
            variable: sds.name().to_string(),
            found: sds.dims().to_vec(),
            expected: vec![expected.0, expected.1],
        });
    }
    Ok(())
}

fn read_geo_latlon(f: &SdFile, shape: (usize, usize)) -> Result<(BandBuf, BandBuf), ProductError> {
    let mut out = Vec::new();
    for name in ["Latitude", "Longitude"] {
        let sds = f.dataset(name)?;
        check_2d(f, &sds, shape)?;
        let v: Vec<f32> = sds.read()?;
        let limit = if name == "Latitude" { 90.0 } else { 180.0 };
        let mut b = band_buf::<f32>(shape)?;
        b.as_mut_slice()
            .par_iter_mut()
            .zip(v.par_iter())
            .for_each(|(o, &x)| *o = if x.abs() <= limit { x } else { f32::NAN });
        out.push(b);
    }
    let lon = out.pop().expect("two");
    let lat = out.pop().expect("two");
    Ok((lat, lon))
}

fn angle_scale(sds: &super::hdf4::Sds<'_>) -> Result<(f32, i16), ProductError> {
    let scale = sds
        .attr("scale_factor")?
        .and_then(|a| a.numbers().first().copied())
        .unwrap_or(ANGLE_SCALE) as f32;
    let fill = sds
        .attr("_FillValue")?
        .and_then(|a| a.numbers().first().copied())
        .map(|v| v as i16)
        .unwrap_or(ANGLE_FILL);
    Ok((scale, fill))
}

fn read_angle_1km(f: &SdFile, name: &str, shape: (usize, usize)) -> Result<BandBuf, ProductError> {
    let sds = f.dataset(name)?;
    check_2d(f, &sds, shape)?;
    let (scale, fill) = angle_scale(&sds)?;
    let v: Vec<i16> = sds.read()?;
    let mut b = band_buf::<f32>(shape)?;
    b.as_mut_slice()
        .par_iter_mut()
        .zip(v.par_iter())
        .for_each(|(o, &x)| {
            *o = if x == fill {
                f32::NAN
            } else {
                x as f32 * scale
            }
        });
    Ok(b)
}

fn read_water(f: &SdFile, shape: (usize, usize)) -> Result<BandBuf<u8>, ProductError> {
    let sds = f.dataset(LAND_SEA)?;
    check_2d(f, &sds, shape)?;
    let v: Vec<u8> = sds.read()?;
    let mut b = band_buf::<u8>(shape)?;
    b.as_mut_slice()
        .par_iter_mut()
        .zip(v.par_iter())
        .for_each(|(o, &c)| *o = u8::from(super::viirs_l1b::is_water_class(c)));
    Ok(b)
}

/// Tie-point columns of a 1-km swath `cols` wide (frames 2, 7, …: 271 for 1354).
pub fn tie_cols(cols: usize) -> usize {
    if cols <= TIE_OFFSET {
        1
    } else {
        (cols - 1 - TIE_OFFSET) / TIE_STEP + 1
    }
}

/// Reads a 5-km SDS of MOD021KM (2 lines per scan × [`tie_cols`]) as f32 (NaN at fill).
fn read_tie(
    f: &SdFile,
    name: &str,
    shape: (usize, usize),
) -> Result<(Vec<f32>, usize), ProductError> {
    let sds = f.dataset(name)?;
    let tr = shape.0 / ROWS_PER_SCAN * 2;
    let tc = tie_cols(shape.1);
    check_2d(f, &sds, (tr, tc))?;
    let v: Vec<f32> = match name {
        "Latitude" | "Longitude" => {
            let limit = if name == "Latitude" { 90.0 } else { 180.0 };
            sds.read::<f32>()?
                .into_iter()
                .map(|x| if x.abs() <= limit { x } else { f32::NAN })
                .collect()
        }
        _ => {
            let (scale, fill) = angle_scale(&sds)?;
            sds.read::<i16>()?
                .into_iter()
                .map(|x| {
                    if x == fill {
                        f32::NAN
                    } else {
                        x as f32 * scale
                    }
                })
                .collect()
        }
    };
    Ok((v, tc))
}

/// Bilinear weights of a 1-km pixel within its scan's tie points: (tie row pair base, t),
/// (tie column base, u), extrapolated beyond the outer tie points.
fn tie_weights(row: usize, col: usize, tc: usize) -> (usize, f64, usize, f64) {
    let scan = row / ROWS_PER_SCAN;
    let line = (row % ROWS_PER_SCAN) as f64;
    let t = (line - TIE_OFFSET as f64) / TIE_STEP as f64;
    let u = (col as f64 - TIE_OFFSET as f64) / TIE_STEP as f64;
    let k = if tc < 2 {
        0
    } else {
        (u.floor().max(0.0) as usize).min(tc - 2)
    };
    (scan * 2, t, k, u - k as f64)
}

/// Interpolates `n` components of tie-point values to every 1-km pixel; `f` maps the
/// interpolated components to the output (NaN if any corner is NaN).
fn interpolate<const N: usize>(
    ties: &[[f64; N]],
    tc: usize,
    shape: (usize, usize),
    out: &mut [f32],
    finish: impl Fn([f64; N]) -> f32 + Sync,
) {
    out.par_chunks_mut(shape.1)
        .enumerate()
        .for_each(|(row, line)| {
            for (col, o) in line.iter_mut().enumerate() {
                let (r0, t, k, u) = tie_weights(row, col, tc);
                let k1 = (k + 1).min(tc - 1);
                let at = |r: usize, c: usize| ties[r * tc + c];
                let (a, b, c, d) = (at(r0, k), at(r0, k1), at(r0 + 1, k), at(r0 + 1, k1));
                let mut v = [0.0; N];
                for i in 0..N {
                    let top = a[i] + (b[i] - a[i]) * u;
                    let bottom = c[i] + (d[i] - c[i]) * u;
                    v[i] = top + (bottom - top) * t;
                }
                *o = if v.iter().any(|x| x.is_nan()) {
                    f32::NAN
                } else {
                    finish(v)
                };
            }
        });
}

fn interpolate_latlon(
    f: &SdFile,
    shape: (usize, usize),
) -> Result<(BandBuf, BandBuf), ProductError> {
    let (lat, tc) = read_tie(f, "Latitude", shape)?;
    let (lon, _) = read_tie(f, "Longitude", shape)?;
    let xyz: Vec<[f64; 3]> = lat
        .iter()
        .zip(&lon)
        .map(|(&la, &lo)| {
            let (la, lo) = ((la as f64).to_radians(), (lo as f64).to_radians());
            [la.cos() * lo.cos(), la.cos() * lo.sin(), la.sin()]
        })
        .collect();
    let mut la = band_buf::<f32>(shape)?;
    let mut lo = band_buf::<f32>(shape)?;
    interpolate(&xyz, tc, shape, la.as_mut_slice(), |v| {
        let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
        (v[2] / n).asin().to_degrees() as f32
    });
    interpolate(&xyz, tc, shape, lo.as_mut_slice(), |v| {
        v[1].atan2(v[0]).to_degrees() as f32
    });
    Ok((la, lo))
}

fn interpolate_angle(
    f: &SdFile,
    name: &str,
    shape: (usize, usize),
) -> Result<BandBuf, ProductError> {
    let (v, tc) = read_tie(f, name, shape)?;
    let mut out = band_buf::<f32>(shape)?;
    if name.ends_with("Azimuth") {
        let sc: Vec<[f64; 2]> = v
            .iter()
            .map(|&a| {
                let r = (a as f64).to_radians();
                [r.sin(), r.cos()]
            })
            .collect();
        interpolate(&sc, tc, shape, out.as_mut_slice(), |s| {
            s[0].atan2(s[1]).to_degrees() as f32
        });
    } else {
        let z: Vec<[f64; 1]> = v.iter().map(|&a| [a as f64]).collect();
        interpolate(&z, tc, shape, out.as_mut_slice(), |s| s[0] as f32);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_family_role_and_key() {
        let p = name_parts(Path::new("/x/MOD021KM.A2024123.0535.061.2024123123456.hdf")).unwrap();
        assert_eq!(
            p,
            NameParts {
                family: "MOD".into(),
                geo: false,
                key: "A2024123.0535".into()
            }
        );
        assert!(
            name_parts(Path::new("MYD03.A2024123.0535.061.2024123123456.hdf"))
                .unwrap()
                .geo
        );
        assert!(name_parts(Path::new("MOD02HKM.A2024123.0535.061.1.hdf")).is_none());
        assert!(name_parts(Path::new("MOD021KM.A2024123.0535.061.1.nc")).is_none());
        assert_eq!(
            key_time("A2024123.0535").unwrap().to_rfc3339(),
            "2024-05-02T05:35:00+00:00"
        );
    }

    #[test]
    fn bands_are_found_by_name_not_position() {
        let names = "20,21,22,23,24,25,27,28,29,30,31,32,33,34,35,36";
        assert_eq!(band_index(names, "21"), Some(1));
        assert_eq!(band_index(names, "31"), Some(10));
        assert_eq!(band_index("3, 4, 5, 6, 7", "7"), Some(4));
        assert_eq!(band_index("1,2", "7"), None);
    }

    #[test]
    fn count_tables_give_each_pixel_its_count_s_value_bit_for_bit() {
        let cal = Calibration {
            scale: 8.4e-4,
            offset: 1577.3,
            valid: (0, VALID_MAX),
        };
        let wl = BANDS[4].wavelength_um.unwrap();
        let table = crate::product::count_table(|c| bt_from_count(c, &cal, wl, 331.0));
        // Every count, in a scrambled order, through the parallel lookup.
        let counts: Vec<u16> = (0..=u16::MAX as u32)
            .map(|i| (i.wrapping_mul(40503) % 65536) as u16)
            .collect();
        let mut out = vec![0.0f32; counts.len()];
        crate::product::map_table(&counts, &table, &mut out);
        for (&c, &v) in counts.iter().zip(&out) {
            assert_eq!(
                v.to_bits(),
                bt_from_count(c, &cal, wl, 331.0).to_bits(),
                "count {c}"
            );
        }
        let cos = cos_sun_zenith(&[0.0, 60.0, 89.9, 90.0, 120.0, f32::NAN]);
        assert_eq!(cos[0], 1.0);
        assert!((cos[1] - 0.5).abs() < 1e-6 && cos[2] > 0.0);
        assert!(cos[3..].iter().all(|c| c.is_nan()));
    }

    #[test]
    fn emissive_counts_follow_the_planck_function_and_error_codes() {
        let wl = BANDS[4].wavelength_um.unwrap();
        let cal = Calibration {
            scale: 7e-5,
            offset: 2000.0,
            valid: (0, VALID_MAX),
        };
        let l300 = physics::planck_radiance(wl, 300.0);
        let c = (l300 / 7e-5 + 2000.0).round() as u16;
        assert!((bt_from_count(c, &cal, wl, 331.0) - 300.0).abs() < 0.01);
        assert_eq!(bt_from_count(SATURATED, &cal, wl, 331.0), 331.0);
        for code in [65500, 65528, 65534, FILL, 40000] {
            assert!(bt_from_count(code, &cal, wl, 331.0).is_nan(), "{code}");
        }
        // A count below the offset is a negative radiance: no temperature.
        assert!(bt_from_count(100, &cal, wl, 331.0).is_nan());
    }

    #[test]
    fn reflectance_is_divided_by_the_sun_cosine_by_day_only() {
        let cal = Calibration {
            scale: 5e-5,
            offset: 0.0,
            valid: (0, VALID_MAX),
        };
        let r = reflectance_from_count(5000, &cal, 60.0);
        assert!((r - 0.5).abs() < 1e-5, "{r}");
        assert!((reflectance_from_count(5000, &cal, 120.0) - 0.25).abs() < 1e-6);
        assert!(reflectance_from_count(65528, &cal, 30.0).is_nan());
        let sat = reflectance_from_count(SATURATED, &cal, 0.0);
        assert!((sat - 32767.0 * 5e-5).abs() < 1e-4);
    }

    #[test]
    fn odl_values_are_found_by_object() {
        let odl = "GROUP = RANGEDATETIME\n  OBJECT = RANGEBEGINNINGDATE\n    NUM_VAL = 1\n    VALUE = \"2024-05-02\"\n  END_OBJECT = RANGEBEGINNINGDATE\n  OBJECT = RANGEBEGINNINGTIME\n    VALUE = \"05:35:00.000000\"\n  END_OBJECT = RANGEBEGINNINGTIME\n";
        assert_eq!(odl_value(odl, "RANGEBEGINNINGDATE").unwrap(), "2024-05-02");
        assert_eq!(
            odl_value(odl, "RANGEBEGINNINGTIME").unwrap(),
            "05:35:00.000000"
        );
        assert_eq!(odl_value(odl, "SHORTNAME"), None);
    }

    #[test]
    fn tie_points_cover_the_scan() {
        assert_eq!(tie_cols(1354), 271);
        assert_eq!(tie_cols(100), 20);
        // Line 2 and frame 2 sit on the first tie point; line 7 on the second row of ties.
        assert_eq!(tie_weights(2, 2, 271), (0, 0.0, 0, 0.0));
        assert_eq!(tie_weights(17, 7, 271), (2, 1.0, 1, 0.0));
        // The last frame extrapolates past the last tie point.
        let (_, _, k, u) = tie_weights(0, 1353, 271);
        assert_eq!(k, 269);
        assert!((u - 1.2).abs() < 1e-12);
    }
}
