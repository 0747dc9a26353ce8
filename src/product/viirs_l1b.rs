//! NASA VIIRS I-band Level-1B as LAADS/LANCE publish it: `VNP02IMG` / `VJ102IMG` / `VJ202IMG`
//! (S-NPP, NOAA-20, NOAA-21 observations) with the matching geolocation `VNP03IMG` / `VJ103IMG` /
//! `VJ203IMG`, NetCDF-4 with groups, read into a [`Granule`].
//!
//! Counts become physical values by the product's own rules (FORMATS.md §1; satpy
//! `satpy/readers/viirs_l1b.py`; geoips `readers/viirs_netcdf.py`):
//! - I1–I3: reflectance = count × `scale_factor` + `add_offset`, counts outside
//!   `valid_min`..`valid_max` masked;
//! - I4, I5: brightness temperature = `I0x_brightness_temperature_lut[count]`, indexed by the raw
//!   count and masked by the LUT's `valid_min`/`valid_max`/`_FillValue`;
//! - counts ≥ 65528 are fill or flags (65532 Missing_EV, 65533 Bowtie_Deleted, 65534 Cal_Fail,
//!   65535 `_FillValue`) → NaN;
//! - a pixel whose `I0x_quality_flags` has the saturation bit (4) keeps the band's maximum
//!   (the product clips saturated pixels rather than flagging them as fill), and the granule
//!   records that value in [`Granule::saturation`]: the I4 LUT ends near 362 K, below the 367 K
//!   the fire model calls saturated, so the detector must learn it from the product.
//!
//! Geolocation (`geolocation_data`): `latitude`/`longitude` float32 with fill -999.9; the four
//! angles int16 × `scale_factor` 0.01 with fill -32768 → `SZA`, `VZA`, `SAA`, `VAA`;
//! `land_water_mask` (0–7, fill 255) → [`Granule::water`] by [`is_water_class`].
//!
//! Rows come in file order (libnetcdf, not GDAL's netCDF driver, which flips them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use rayon::prelude::*;

use super::chunks;
use super::error::ProductError;
use super::nc;
use super::{Geometry, Granule, ProductKind, Swath};
use crate::raster::{BandBuf, SceneMeta};

/// Detector rows per scan of the I-bands.
pub const ROWS_PER_SCAN: usize = 32;
/// Counts at and above this are fill or flag values, never observations (`valid_max` is 65527).
pub const FIRST_FLAG_COUNT: u16 = 65528;
/// The count of a bow-tie deleted pixel (`flag_meanings` "Missing_EV Bowtie_Deleted Cal_Fail"
/// for `flag_values` 65532 65533 65534).
pub const BOWTIE_DELETED: u16 = 65533;
/// `_FillValue` of the observation variables.
pub const FILL: u16 = 65535;
/// The saturation bit of `I0x_quality_flags` (FORMATS.md §1: bit value 4, user guide table C.1
/// as quoted by a third-party reader).
pub const SATURATION_BIT: u16 = 4;
/// `_FillValue` of latitude, longitude and the BT LUTs.
pub const FLOAT_FILL: f32 = -999.9;
/// `_FillValue` of the int16 angles.
pub const ANGLE_FILL: i16 = -32768;
/// `_FillValue` of `land_water_mask`.
pub const LAND_WATER_FILL: u8 = 255;

/// The observation variables of the five I-bands with their canonical band names.
pub const BANDS: [(&str, &str); 5] = [
    ("I01", "I1"),
    ("I02", "I2"),
    ("I03", "I3"),
    ("I04", "I4"),
    ("I05", "I5"),
];

/// The geolocation angle variables with their canonical band names.
pub const ANGLES: [(&str, &str); 4] = [
    ("solar_zenith", "SZA"),
    ("sensor_zenith", "VZA"),
    ("solar_azimuth", "SAA"),
    ("sensor_azimuth", "VAA"),
];

/// Whether a `land_water_mask` class is water.
///
/// The classes (VNP03IMG/VJ103IMG `geolocation_data/land_water_mask`, `flag_values` 0–7,
/// `flag_meanings` "Shallow_Ocean Land Coastline Shallow_Inland Ephemeral Deep_Inland
/// Continental Deep_Ocean", `_FillValue` 255: the variable's attributes as listed from a VJ103
/// file in a public burn-scar database script found with the search tool's code index; the same
/// eight classes as MODIS MOD03 `Land/SeaMask`). Water: shallow ocean (0), shallow inland (3),
/// deep inland (5), continental ocean (6), deep ocean (7). Land: land (1), coastline (2) — a
/// coast pixel holds land where a fire can burn — and ephemeral water (4), dry most of the year
/// on the North China Plain's seasonal channels. Fill (255) is land: unknown, so the pixel is
/// tested like land.
pub fn is_water_class(class: u8) -> bool {
    matches!(class, 0 | 3 | 5 | 6 | 7)
}

/// The FIRMS satellite code of an L1B `platform` attribute (or an SDR `Platform_Short_Name`).
pub fn satellite_code(platform: &str) -> Option<&'static str> {
    match platform.trim().to_ascii_uppercase().as_str() {
        "SUOMI-NPP" | "SUOMI NPP" | "NPP" | "S-NPP" | "SNPP" => Some("N"),
        "JPSS-1" | "NOAA-20" | "NOAA20" | "J01" | "J1" => Some("N20"),
        "JPSS-2" | "NOAA-21" | "NOAA21" | "J02" | "J2" => Some("N21"),
        _ => None,
    }
}

/// What the data file's name says: product (`VNP02IMG`), granule key (`A2024160.0542`).
fn name_parts(path: &Path) -> Option<(String, String)> {
    let name = path.file_name()?.to_str()?;
    let mut it = name.split('.');
    let product = it.next()?.to_string();
    let date = it.next()?;
    let time = it.next()?;
    Some((product, format!("{date}.{time}")))
}

/// The rule of I1–I3: valid counts × scale + offset, saturated pixels at the band's maximum,
/// everything else NaN; `rule(count, quality_flags)`.
fn reflectance_rule(scale: f32, offset: f32, valid: (u16, u16)) -> impl Fn(u16, u16) -> f32 + Sync {
    let max = valid.1.min(FIRST_FLAG_COUNT - 1) as f32 * scale + offset;
    move |c: u16, q: u16| {
        if c >= FIRST_FLAG_COUNT {
            if q & SATURATION_BIT != 0 && c != BOWTIE_DELETED && c != FILL {
                max
            } else {
                f32::NAN
            }
        } else if q & SATURATION_BIT != 0 {
            max
        } else if c < valid.0 || c > valid.1 {
            f32::NAN
        } else {
            c as f32 * scale + offset
        }
    }
}

/// Converts I1–I3 counts to reflectance: valid counts × scale + offset, saturated pixels at the
/// band's maximum, everything else NaN. `qf` is the band's quality flags when the file has them.
pub fn reflectance_from_counts(
    counts: &[u16],
    qf: Option<&[u16]>,
    scale: f32,
    offset: f32,
    valid: (u16, u16),
    out: &mut [f32],
) {
    super::map_counts(counts, qf, out, reflectance_rule(scale, offset, valid));
}

/// A brightness-temperature LUT with its valid range: `lut[count]` is the BT of a raw count.
#[derive(Debug, Clone)]
pub struct BtLut {
    /// 65536 entries, kelvin; entries outside `valid` (or at the fill) are NaN.
    pub kelvin: Vec<f32>,
    /// The largest valid entry: what a saturated pixel reads.
    pub max_k: f32,
}

impl BtLut {
    /// Masks a LUT as read from the file by its `valid_min`/`valid_max`/`_FillValue`.
    pub fn new(raw: &[f32], valid_min: Option<f32>, valid_max: Option<f32>, fill: f32) -> BtLut {
        let lo = valid_min.unwrap_or(f32::NEG_INFINITY);
        let hi = valid_max.unwrap_or(f32::INFINITY);
        let kelvin: Vec<f32> = raw
            .iter()
            .map(|&v| {
                if v == fill || !(lo..=hi).contains(&v) || v <= 0.0 {
                    f32::NAN
                } else {
                    v
                }
            })
            .collect();
        let max_k = kelvin
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(f32::NAN, f32::max);
        BtLut { kelvin, max_k }
    }
}

/// The rule of I4/I5: the LUT at the raw count; saturated pixels at the LUT maximum, fill and
/// flags NaN; `rule(count, quality_flags)`.
fn bt_rule(lut: &BtLut) -> impl Fn(u16, u16) -> f32 + Sync + '_ {
    move |c: u16, q: u16| {
        if q & SATURATION_BIT != 0 && c != BOWTIE_DELETED && c != FILL {
            lut.max_k
        } else if c >= FIRST_FLAG_COUNT {
            f32::NAN
        } else {
            lut.kelvin.get(c as usize).copied().unwrap_or(f32::NAN)
        }
    }
}

/// Converts I4/I5 counts to brightness temperature through the LUT; saturated pixels at the LUT
/// maximum, fill and flags NaN.
pub fn bt_from_counts(counts: &[u16], qf: Option<&[u16]>, lut: &BtLut, out: &mut [f32]) {
    super::map_counts(counts, qf, out, bt_rule(lut));
}

fn band_buf(shape: (usize, usize)) -> Result<BandBuf, ProductError> {
    BandBuf::zeros(shape).map_err(|source| ProductError::Memory {
        rows: shape.0,
        cols: shape.1,
        source,
    })
}

/// Parses `time_coverage_start` ("2024-06-08T05:42:00.000Z").
fn parse_time(path: &Path, name: &str, value: &str) -> Result<DateTime<Utc>, ProductError> {
    let v = value.trim();
    NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.fZ")
        .or_else(|_| NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%SZ"))
        .map(|t| t.and_utc())
        .map_err(|e| ProductError::Bad {
            path: path.to_path_buf(),
            variable: name.to_string(),
            message: format!("{v:?} is not a time like 2024-06-08T05:42:00.000Z ({e})"),
        })
}

/// The granule identity both files of a pair state: start time, orbit, platform.
#[derive(Debug, Clone, PartialEq)]
struct Identity {
    start: DateTime<Utc>,
    orbit: Option<i64>,
    platform: String,
}

fn identity(file: &netcdf::File, path: &Path) -> Result<Identity, ProductError> {
    let start = nc::global_str_req(file, path, "time_coverage_start")?;
    let start = parse_time(path, "time_coverage_start", &start)?;
    // VNP02 writes `orbit_number`, VNP03 `OrbitNumber` (satpy viirs_l1b.py start_orbit_number).
    let orbit = nc::global_str(file, "orbit_number")
        .or_else(|| nc::global_str(file, "OrbitNumber"))
        .and_then(|s| s.trim().parse::<f64>().ok())
        .map(|v| v as i64);
    let platform = nc::global_str_req(file, path, "platform")?;
    Ok(Identity {
        start,
        orbit,
        platform,
    })
}

fn check_pair(data: &Path, geo: &Path, a: &Identity, b: &Identity) -> Result<(), ProductError> {
    let mismatch = |what: String| ProductError::Mismatch {
        path: data.to_path_buf(),
        other: geo.to_path_buf(),
        what,
    };
    if a.start != b.start {
        return Err(mismatch(format!(
            "time_coverage_start {} ≠ {}",
            a.start.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            b.start.format("%Y-%m-%dT%H:%M:%S%.3fZ")
        )));
    }
    if let (Some(x), Some(y)) = (a.orbit, b.orbit) {
        if x != y {
            return Err(mismatch(format!("orbit {x} ≠ {y}")));
        }
    }
    if satellite_code(&a.platform) != satellite_code(&b.platform) {
        return Err(mismatch(format!(
            "platform {:?} ≠ {:?}",
            a.platform, b.platform
        )));
    }
    Ok(())
}

/// How the arrays of a granule are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decode {
    /// Every array through libnetcdf (one core: libhdf5 holds a global lock).
    Library,
    /// Chunked, deflated arrays inflated in parallel and converted band by band as they are
    /// inflated ([`super::chunks`]); an array whose layout that reader does not take is read
    /// through the library.
    ParallelChunks,
}

/// One file of the pair, with what its arrays are read through.
struct Source<'a> {
    nc: &'a netcdf::File,
    /// The same file through libhdf5, for the chunk layouts ([`Decode::ParallelChunks`]).
    h5: Option<hdf5_metno::File>,
    path: &'a Path,
    shape: (usize, usize),
}

impl<'a> Source<'a> {
    fn new(nc: &'a netcdf::File, path: &'a Path, shape: (usize, usize), decode: Decode) -> Self {
        let h5 = match decode {
            Decode::Library => None,
            Decode::ParallelChunks => {
                nc::quiet_hdf5();
                hdf5_metno::File::open(path).ok()
            }
        };
        Source {
            nc,
            h5,
            path,
            shape,
        }
    }

    /// The chunk layout of `var_path` when the parallel decoder takes it.
    fn layout(&self, var_path: &str, elem: usize) -> Result<Option<chunks::Layout>, ProductError> {
        match &self.h5 {
            Some(h5) => chunks::Layout::of(h5, self.path, var_path, self.shape, elem),
            None => Ok(None),
        }
    }

    /// A 2-D variable whole, by the chunk reader when it takes the layout, else by libnetcdf
    /// (which names a missing variable or a wrong shape).
    fn read_whole<T>(&self, var_path: &str) -> Result<Vec<T>, ProductError>
    where
        T: netcdf::NcTypeDescriptor + bytemuck::Pod + Send + Sync,
    {
        if let Some(l) = self.layout(var_path, std::mem::size_of::<T>())? {
            let mut out = vec![T::zeroed(); self.shape.0 * self.shape.1];
            chunks::map_bands(&[&l], &mut out, |_, d, o| {
                o.copy_from_slice(bytemuck::cast_slice(d[0]))
            })?;
            return Ok(out);
        }
        let var = nc::variable(self.nc, self.path, var_path)?;
        nc::read_2d(&var, self.path, var_path, self.shape)
    }

    /// Reads `var_path` and converts it pixel by pixel into `out` by `rule`; with the chunk
    /// reader, band by band as the chunks are inflated.
    fn convert<T, U>(
        &self,
        var_path: &str,
        out: &mut [U],
        rule: impl Fn(T) -> U + Sync,
    ) -> Result<(), ProductError>
    where
        T: netcdf::NcTypeDescriptor + bytemuck::Pod + Send + Sync,
        U: Send,
    {
        if let Some(l) = self.layout(var_path, std::mem::size_of::<T>())? {
            return chunks::map_bands(&[&l], out, |_, d, o| {
                for (o, &v) in o.iter_mut().zip(bytemuck::cast_slice::<u8, T>(d[0])) {
                    *o = rule(v);
                }
            });
        }
        let raw: Vec<T> = self.read_whole(var_path)?;
        out.par_iter_mut()
            .zip(raw.par_iter())
            .with_min_len(1 << 14)
            .for_each(|(o, &v)| *o = rule(v));
        Ok(())
    }

    /// Reads a band's counts and its quality flags (when the file has them) and converts them
    /// into `out` by `rule(count, flags)`; with the chunk reader, both variables' chunks of a
    /// band inflated together and converted while in cache, no whole array of counts made.
    fn convert_counts(
        &self,
        var_path: &str,
        qf_path: &str,
        out: &mut [f32],
        rule: impl Fn(u16, u16) -> f32 + Sync,
    ) -> Result<(), ProductError> {
        let has_qf = self.nc.variable(qf_path).is_some();
        let counts = self.layout(var_path, 2)?;
        let qf = if has_qf {
            self.layout(qf_path, 2)?
        } else {
            None
        };
        match (&counts, &qf) {
            (Some(c), None) if !has_qf => {
                return chunks::map_bands(&[c], out, |_, d, o| {
                    for (o, &c) in o.iter_mut().zip(bytemuck::cast_slice::<u8, u16>(d[0])) {
                        *o = rule(c, 0);
                    }
                });
            }
            (Some(c), Some(q)) if c.chunk_rows() == q.chunk_rows() => {
                return chunks::map_bands(&[c, q], out, |_, d, o| {
                    let c = bytemuck::cast_slice::<u8, u16>(d[0]);
                    let q = bytemuck::cast_slice::<u8, u16>(d[1]);
                    for ((o, &c), &q) in o.iter_mut().zip(c).zip(q) {
                        *o = rule(c, q);
                    }
                });
            }
            _ => {}
        }
        // Counts and flags not decodable together: each whole, then converted.
        let counts: Vec<u16> = self.read_whole(var_path)?;
        let qf: Option<Vec<u16>> = if has_qf {
            Some(self.read_whole(qf_path)?)
        } else {
            None
        };
        super::map_counts(&counts, qf.as_deref(), out, rule);
        Ok(())
    }
}

/// Reads an L1B pair: `data` is the `V?02IMG` file, `geo` its `V?03IMG` geolocation, with the
/// chunks inflated in parallel ([`Decode::ParallelChunks`]; BENCHMARKS.md "Product reading").
pub fn read(data: &Path, geo: &Path) -> Result<Granule, ProductError> {
    read_with(data, geo, Decode::ParallelChunks)
}

/// [`read`] with the choice of decoder (the benchmark and the tests compare them).
pub fn read_with(data: &Path, geo: &Path, decode: Decode) -> Result<Granule, ProductError> {
    let df = nc::open(data)?;
    let gf = nc::open(geo)?;
    let di = identity(&df, data)?;
    let gi = identity(&gf, geo)?;
    check_pair(data, geo, &di, &gi)?;
    // The product families must agree too (a VNP02 with a VJ103 is two satellites).
    if let (Some((dp, _)), Some((gp, _))) = (name_parts(data), name_parts(geo)) {
        if dp.len() > 3 && gp.len() > 3 && dp[..3] != gp[..3] {
            return Err(ProductError::Mismatch {
                path: data.to_path_buf(),
                other: geo.to_path_buf(),
                what: format!("products {dp} and {gp} are from different satellites"),
            });
        }
    }
    let satellite = satellite_code(&di.platform).ok_or_else(|| ProductError::Bad {
        path: data.to_path_buf(),
        variable: "platform".into(),
        message: format!(
            "{:?} is not a VIIRS platform (Suomi-NPP, JPSS-1, JPSS-2)",
            di.platform
        ),
    })?;
    let sensor = nc::global_str(&df, "instrument")
        .unwrap_or_else(|| "VIIRS".into())
        .to_ascii_uppercase();

    // The shape of the granule is the shape of I04 (lines × pixels, lines = 32 × scans).
    let i04 = nc::variable(&df, data, "observation_data/I04")?;
    let s = nc::shape(&i04);
    if s.len() != 2 {
        return Err(ProductError::Shape {
            path: data.to_path_buf(),
            variable: "observation_data/I04".into(),
            found: s,
            expected: vec![0, 0],
        });
    }
    let shape = (s[0], s[1]);
    drop(i04);

    let ds = Source::new(&df, data, shape, decode);
    let mut bands = BTreeMap::new();
    let mut saturation = BTreeMap::new();
    for (var_name, band) in BANDS {
        let var_path = format!("observation_data/{var_name}");
        let var = nc::variable(&df, data, &var_path)?;
        let qf_path = format!("observation_data/{var_name}_quality_flags");
        let mut out = band_buf(shape)?;
        if band == "I4" || band == "I5" {
            let lut_path = format!("observation_data/{var_name}_brightness_temperature_lut");
            let lv = nc::variable(&df, data, &lut_path)?;
            let raw: Vec<f32> = nc::read_all(&lv, data, &lut_path)?;
            if raw.len() < 65536 {
                return Err(ProductError::Shape {
                    path: data.to_path_buf(),
                    variable: lut_path,
                    found: vec![raw.len()],
                    expected: vec![65536],
                });
            }
            let lo = nc::var_attr_f64(&lv, data, &lut_path, "valid_min")?.map(|v| v as f32);
            let hi = nc::var_attr_f64(&lv, data, &lut_path, "valid_max")?.map(|v| v as f32);
            let fill = nc::var_attr_f64(&lv, data, &lut_path, "_FillValue")?
                .map_or(FLOAT_FILL, |v| v as f32);
            let lut = BtLut::new(&raw, lo, hi, fill);
            ds.convert_counts(&var_path, &qf_path, out.as_mut_slice(), bt_rule(&lut))?;
            saturation.insert(band.to_string(), lut.max_k);
        } else {
            let scale = nc::var_attr_f64_req(&var, data, &var_path, "scale_factor")? as f32;
            let offset =
                nc::var_attr_f64(&var, data, &var_path, "add_offset")?.unwrap_or(0.0) as f32;
            let lo = nc::var_attr_f64(&var, data, &var_path, "valid_min")?.unwrap_or(0.0);
            let hi = nc::var_attr_f64(&var, data, &var_path, "valid_max")?
                .unwrap_or((FIRST_FLAG_COUNT - 1) as f64);
            let valid = (lo.clamp(0.0, 65535.0) as u16, hi.clamp(0.0, 65535.0) as u16);
            ds.convert_counts(
                &var_path,
                &qf_path,
                out.as_mut_slice(),
                reflectance_rule(scale, offset, valid),
            )?;
            saturation.insert(
                band.to_string(),
                valid.1.min(FIRST_FLAG_COUNT - 1) as f32 * scale + offset,
            );
        }
        bands.insert(band.to_string(), out);
    }

    let gs = Source::new(&gf, geo, shape, decode);
    let (lat, lon) = read_latlon(&gs)?;
    for (var_name, band) in ANGLES {
        let var_path = format!("geolocation_data/{var_name}");
        let var = nc::variable(&gf, geo, &var_path)?;
        let scale = nc::var_attr_f64(&var, geo, &var_path, "scale_factor")?.unwrap_or(1.0) as f32;
        let offset = nc::var_attr_f64(&var, geo, &var_path, "add_offset")?.unwrap_or(0.0) as f32;
        let fill =
            nc::var_attr_f64(&var, geo, &var_path, "_FillValue")?.map_or(ANGLE_FILL, |v| v as i16);
        let mut out = band_buf(shape)?;
        gs.convert(&var_path, out.as_mut_slice(), |v: i16| {
            if v == fill {
                f32::NAN
            } else {
                v as f32 * scale + offset
            }
        })?;
        bands.insert(band.to_string(), out);
    }

    let water = match gf.variable("geolocation_data/land_water_mask") {
        None => None,
        Some(var) => {
            let path = "geolocation_data/land_water_mask";
            let fill = nc::var_attr_f64(&var, geo, path, "_FillValue")?
                .map_or(LAND_WATER_FILL, |v| v as u8);
            let mut w = BandBuf::<u8>::zeros(shape).map_err(|source| ProductError::Memory {
                rows: shape.0,
                cols: shape.1,
                source,
            })?;
            gs.convert(path, w.as_mut_slice(), |c: u8| {
                u8::from(c != fill && is_water_class(c))
            })?;
            Some(w)
        }
    };

    Ok(Granule {
        kind: ProductKind::ViirsL1b,
        files: vec![data.to_path_buf(), geo.to_path_buf()],
        meta: SceneMeta {
            acq_time: Some(di.start),
            satellite: Some(satellite.to_string()),
            sensor: Some(sensor),
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

fn read_latlon(gs: &Source<'_>) -> Result<(BandBuf, BandBuf), ProductError> {
    let mut out = Vec::with_capacity(2);
    for (name, limit) in [("latitude", 90.0f32), ("longitude", 180.0f32)] {
        let var_path = format!("geolocation_data/{name}");
        let var = nc::variable(gs.nc, gs.path, &var_path)?;
        let fill = nc::var_attr_f64(&var, gs.path, &var_path, "_FillValue")?
            .map_or(FLOAT_FILL, |v| v as f32);
        let mut b = band_buf(gs.shape)?;
        gs.convert(&var_path, b.as_mut_slice(), |v: f32| {
            if v == fill || !(-limit..=limit).contains(&v) {
                f32::NAN
            } else {
                v
            }
        })?;
        out.push(b);
    }
    let lon = out.pop().expect("two arrays");
    let lat = out.pop().expect("two arrays");
    Ok((lat, lon))
}

/// The geolocation product that goes with a data product (`VNP02IMG` → `VNP03IMG`), and back.
pub fn partner_product(product: &str) -> Option<String> {
    let p = product.to_ascii_uppercase();
    if let Some(prefix) = p.strip_suffix("02IMG") {
        Some(format!("{prefix}03IMG"))
    } else {
        p.strip_suffix("03IMG")
            .map(|prefix| format!("{prefix}02IMG"))
    }
}

/// The file beside `path` that completes its pair: same granule time (`A2024160.0542`), the
/// partner product; `None` when there is none. More than one candidate (two collections or
/// processing times): the lexically last (newest processing time) is taken.
pub fn find_partner(path: &Path) -> Option<PathBuf> {
    let (product, key) = name_parts(path)?;
    let partner = partner_product(&product)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = format!("{partner}.{key}.");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.to_ascii_uppercase().starts_with(&prefix) && n.ends_with(".nc"))
        })
        .collect();
    found.sort();
    found.pop()
}

/// Whether a file name is an L1B data (`Some(false)`) or geolocation (`Some(true)`) I-band file.
pub fn name_role(path: &Path) -> Option<bool> {
    let (product, _) = name_parts(path)?;
    let p = product.to_ascii_uppercase();
    let family = ["VNP", "VJ1", "VJ2"].iter().any(|f| p.starts_with(f));
    if !family {
        return None;
    }
    if p.ends_with("02IMG") {
        Some(false)
    } else if p.ends_with("03IMG") {
        Some(true)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn water_classes_follow_the_user_guide_meanings() {
        let water: Vec<u8> = (0..=7).filter(|&c| is_water_class(c)).collect();
        assert_eq!(water, vec![0, 3, 5, 6, 7]);
        assert!(!is_water_class(LAND_WATER_FILL));
    }

    #[test]
    fn platforms_become_firms_codes() {
        assert_eq!(satellite_code("Suomi-NPP"), Some("N"));
        assert_eq!(satellite_code("JPSS-1"), Some("N20"));
        assert_eq!(satellite_code("NOAA-21"), Some("N21"));
        assert_eq!(satellite_code("J01"), Some("N20"));
        assert_eq!(satellite_code("Terra"), None);
    }

    #[test]
    fn reflectance_masks_flags_and_keeps_saturation() {
        let counts = [0u16, 100, 65527, 65528, 65533, 65535, 200];
        let qf = [0u16, 0, 0, 0, 0, 0, SATURATION_BIT];
        let mut out = [0f32; 7];
        reflectance_from_counts(&counts, Some(&qf), 2e-5, 0.0, (0, 65527), &mut out);
        assert_eq!(out[0], 0.0);
        assert!((out[1] - 0.002).abs() < 1e-7);
        assert!((out[2] - 65527.0 * 2e-5).abs() < 1e-6);
        assert!(out[3].is_nan() && out[4].is_nan() && out[5].is_nan());
        assert!((out[6] - 65527.0 * 2e-5).abs() < 1e-6, "saturated → max");
    }

    #[test]
    fn bt_is_the_lut_at_the_raw_count() {
        let mut raw = vec![FLOAT_FILL; 65536];
        raw[10] = 250.0;
        raw[11] = 251.5;
        raw[12] = 400.0; // beyond valid_max
        raw[13] = 362.0;
        let lut = BtLut::new(&raw, Some(150.0), Some(390.0), FLOAT_FILL);
        assert_eq!(lut.max_k, 362.0);
        let counts = [10u16, 11, 12, 9, 65533, 11, 65535];
        let qf = [0, 0, 0, 0, 0, SATURATION_BIT, SATURATION_BIT];
        let mut out = [0f32; 7];
        bt_from_counts(&counts, Some(&qf), &lut, &mut out);
        assert_eq!(&out[..2], &[250.0, 251.5]);
        assert!(out[2].is_nan(), "LUT entry outside the valid range");
        assert!(out[3].is_nan(), "LUT fill");
        assert!(out[4].is_nan(), "bow-tie deleted");
        assert_eq!(out[5], 362.0, "saturated keeps the LUT maximum");
        assert!(out[6].is_nan(), "a fill count stays fill even when flagged");
    }

    #[test]
    fn partners_are_named_by_product_and_granule_time() {
        assert_eq!(partner_product("VNP02IMG").as_deref(), Some("VNP03IMG"));
        assert_eq!(partner_product("VJ203IMG").as_deref(), Some("VJ202IMG"));
        assert_eq!(partner_product("VNP14IMG"), None);
        let p = Path::new("/x/VNP02IMG.A2024160.0542.002.2024160123456.nc");
        assert_eq!(name_role(p), Some(false));
        assert_eq!(
            name_parts(p),
            Some(("VNP02IMG".into(), "A2024160.0542".into()))
        );
        assert_eq!(
            name_role(Path::new("VJ103IMG.A2024160.0542.021.x.nc")),
            Some(true)
        );
        assert_eq!(
            name_role(Path::new("VNP14IMG.A2024160.0542.002.x.nc")),
            None
        );
    }
}
