//! A swath [`Granule`] written as a NASA MODIS 1-km L1B granule: `M?D021KM` (observations, with
//! its own 5-km geolocation and angles) and `M?D03` (1-km geolocation, angles, land/sea mask),
//! HDF4 HDF-EOS2 swaths, through the real HDF4 library ([`crate::product::hdf4`]).
//!
//! Notes, each item's source:
//! - SDS names, types, dimensions and attributes of `MOD021KM`: MCST "L1B EV 1km File
//!   Specification" V6.1.8 (`MOD021KM.fs`, koscHeo/seadas_kosc `src/l1bgen_modist/from_SDST/`):
//!   `EV_1KM_Emissive` uint16 (Band_1KM_Emissive, 10*nscans, Max_EV_frames) with `units`,
//!   `valid_range` 0–32767, `_FillValue` 65535, `long_name`, `band_names`, `radiance_scales`,
//!   `radiance_offsets`, `radiance_units`; `EV_250_Aggr1km_RefSB` / `EV_500_Aggr1km_RefSB` with
//!   `radiance_*`, `reflectance_*` and `corrected_counts_*` scales/offsets/units; `Latitude`,
//!   `Longitude` float32 (2*nscans, 1KM_geo_dim) with `valid_range`, `_FillValue` -999.9,
//!   `line_numbers` "3, 8", `frame_numbers`; the four angles int16 with `scale_factor` 0.01
//!   (float64), `_FillValue` -32767, `valid_range` 0–18000 (zenith) / -18000–18000 (azimuth).
//! - `StructMetadata.0` (ODL): the spec's section 1.5 (dimensions, the dimension maps
//!   `2*nscans`→`10*nscans` and `1KM_geo_dim`→`Max_EV_frames` with offset 2 and increment 5,
//!   geo and data fields), in the layout the HDF-EOS2 library writes (tab-indented `GROUP=`/
//!   `OBJECT=` lines, `END` last). Only the fields written here are listed.
//! - Dimension names `name:SwathName` and the Vgroups (`SWATH`, `Geolocation Fields`,
//!   `Data Fields`, `Swath Attributes`): FORMATS.md §4 and satpy's
//!   `_modis_fixtures.py` (dimension names), HDF-EOS2 (the Vgroups); checked by opening the
//!   files with GDAL's HDF-EOS reader (`tests/product_modis.rs`).
//! - `CoreMetadata.0`: the ECS inventory metadata objects of the spec's section 1.1 that readers
//!   use (`LOCALGRANULEID`, `DAYNIGHTFLAG`, `RANGEBEGINNING*`/`RANGEENDING*`, `SHORTNAME`,
//!   `ASSOCIATEDPLATFORMSHORTNAME`, …) in the ODL form of satpy's fixture `_create_core_metadata`.
//! - `MOD03`: swath `MODIS_Swath_Type_GEO`, dimensions `nscans*10` and `mframes`; `Latitude`,
//!   `Longitude`, `Height`, `SensorZenith`, `SensorAzimuth`, `SolarZenith`, `SolarAzimuth`,
//!   `Land/SeaMask` (satpy `satpy/readers/core/hdfeos.py`, FORMATS.md §4); the fill values of
//!   `Latitude` (-999) and `Land/SeaMask` (221) are unverified.
//! - Not written (strawfire does not read them): `EV_1KM_RefSB`, the `*_Uncert_Indexes` and
//!   `*_Samples_Used` SDSs, `EV_Band26`, `Height`/`Range`/`gflags` in MOD021KM, `Band_*`,
//!   `ArchiveMetadata.0` and the L1B Vdata, MOD03's `WaterPresent`, `gflags`, scan-level
//!   arrays. Bands of `EV_1KM_Emissive`, `EV_500_Aggr1km_RefSB` the granule does not hold
//!   (all but 21, 22, 31, 32 and 7) are written as fill (65535).
//!
//! Encoding (our choices, marked so): emissive radiance offsets 2000 counts and scales such that
//! the top valid count 32767 is the band's saturation radiance ([`SATURATION_K`]: band 21 500 K
//! and band 22 331 K after Giglio et al. 2003, bands 31 and 32 400 K); reflectance scale 5e-5
//! (ρ·cos θ₀ up to 1.64), offset 0. A value above the top count becomes 65533 (saturated), NaN
//! 65535; reflectance is multiplied by cos θ₀ where θ₀ < 90° (the product is not
//! sun-normalised; the reader divides).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use rayon::prelude::*;

use super::atomically;
use crate::physics;
use crate::product::error::ProductError;
use crate::product::hdf4::{Attr, SdFile};
use crate::product::modis_l1b::{
    tie_cols, ANGLES, ANGLE_FILL, BANDS, EMISSIVE, EMISSIVE_BANDS, FILL, GEO_LATLON_FILL,
    GEO_SWATH, L1B_LATLON_FILL, L1B_SWATH, LAND_SEA, LAND_SEA_FILL, REFSB_250, REFSB_250_BANDS,
    REFSB_500, REFSB_500_BANDS, ROWS_PER_SCAN, SATURATED, TIE_OFFSET, TIE_STEP, VALID_MAX,
};
use crate::product::{Geometry, Granule};

/// Saturation brightness temperature (K) per emissive band (ours, see the module doc); other
/// bands 340 K.
pub const SATURATION_K: [(&str, f64); 4] =
    [("21", 500.0), ("22", 331.0), ("31", 400.0), ("32", 400.0)];
/// Radiance offset of every emissive band, counts (ours).
pub const RADIANCE_OFFSET: f32 = 2000.0;
/// Reflectance scale of the reflective bands (ours).
pub const REFLECTANCE_SCALE: f32 = 5.0e-5;
/// MODIS scan period, s (a 5-minute granule holds 203 scans of 1.4771 s).
pub const SCAN_PERIOD_S: f64 = 1.4771;

/// How to write the granule.
#[derive(Debug, Clone)]
pub struct ModisOptions {
    /// Write the `M?D03` geolocation file too (without it the reader falls back on the 5-km
    /// geolocation inside `M?D021KM`).
    pub geolocation: bool,
    /// Processing time in the file names (`.2024123123456.hdf`).
    pub processed: DateTime<Utc>,
    /// Collection in the file names.
    pub collection: String,
}

impl Default for ModisOptions {
    fn default() -> Self {
        ModisOptions {
            geolocation: true,
            processed: DateTime::from_timestamp(1_717_830_000, 0).expect("a valid time"),
            collection: "061".into(),
        }
    }
}

/// The files written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModisFiles {
    pub data: PathBuf,
    pub geo: Option<PathBuf>,
}

/// `MOD021KM.A2024123.0535.061.2024123123456.hdf` and its `MOD03` partner, for a FIRMS
/// satellite code (`T` Terra → `MOD`, `A` Aqua → `MYD`).
pub fn file_names(
    satellite: &str,
    start: DateTime<Utc>,
    processed: DateTime<Utc>,
    collection: &str,
) -> Option<(String, String)> {
    let family = match satellite {
        "T" => "MOD",
        "A" => "MYD",
        _ => return None,
    };
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
        format!("{family}021KM.{key}.{collection}.{proc}.hdf"),
        format!("{family}03.{key}.{collection}.{proc}.hdf"),
    ))
}

/// Radiance scale and offset this writer gives emissive band `band` ("21").
pub fn emissive_scale_offset(band: &str) -> (f32, f32) {
    let wl = BANDS
        .iter()
        .find(|b| b.band == band && b.wavelength_um.is_some())
        .and_then(|b| b.wavelength_um)
        .unwrap_or(11.0);
    let t = SATURATION_K
        .iter()
        .find(|(b, _)| *b == band)
        .map(|(_, t)| *t)
        .unwrap_or(340.0);
    let top = physics::planck_radiance(wl, t);
    (
        (top / (VALID_MAX as f64 - RADIANCE_OFFSET as f64)) as f32,
        RADIANCE_OFFSET,
    )
}

fn encode(value: f32, scale: f32, offset: f32) -> u16 {
    if value.is_nan() {
        return FILL;
    }
    let c = (value / scale + offset).round();
    if c > VALID_MAX as f32 {
        SATURATED
    } else {
        c.max(0.0) as u16
    }
}

fn sds_dim_names(
    sds: &crate::product::hdf4::Sds<'_>,
    names: &[&str],
    swath: &str,
) -> Result<(), ProductError> {
    for (i, n) in names.iter().enumerate() {
        sds.set_dim_name(i, &format!("{n}:{swath}"))?;
    }
    Ok(())
}

fn text(s: &str) -> Attr {
    Attr::Text(s.to_string())
}

/// The ODL `StructMetadata.0` of one swath.
fn struct_metadata(
    swath: &str,
    dims: &[(&str, usize)],
    maps: &[(&str, &str)],
    geo: &[(&str, &str, &[&str])],
    data: &[(&str, &str, &[&str])],
) -> String {
    let mut s = String::from("GROUP=SwathStructure\n\tGROUP=SWATH_1\n");
    s += &format!("\t\tSwathName=\"{swath}\"\n\t\tGROUP=Dimension\n");
    for (i, (n, size)) in dims.iter().enumerate() {
        s += &format!(
            "\t\t\tOBJECT=Dimension_{k}\n\t\t\t\tDimensionName=\"{n}\"\n\t\t\t\tSize={size}\n\t\t\tEND_OBJECT=Dimension_{k}\n",
            k = i + 1
        );
    }
    s += "\t\tEND_GROUP=Dimension\n\t\tGROUP=DimensionMap\n";
    for (i, (g, d)) in maps.iter().enumerate() {
        s += &format!(
            "\t\t\tOBJECT=DimensionMap_{k}\n\t\t\t\tGeoDimension=\"{g}\"\n\t\t\t\tDataDimension=\"{d}\"\n\t\t\t\tOffset={TIE_OFFSET}\n\t\t\t\tIncrement={TIE_STEP}\n\t\t\tEND_OBJECT=DimensionMap_{k}\n",
            k = i + 1
        );
    }
    s += "\t\tEND_GROUP=DimensionMap\n\t\tGROUP=IndexDimensionMap\n\t\tEND_GROUP=IndexDimensionMap\n";
    for (group, kind, fields) in [
        ("GeoField", "GeoFieldName", geo),
        ("DataField", "DataFieldName", data),
    ] {
        s += &format!("\t\tGROUP={group}\n");
        for (i, (n, t, dl)) in fields.iter().enumerate() {
            let dl: Vec<String> = dl.iter().map(|d| format!("\"{d}\"")).collect();
            s += &format!(
                "\t\t\tOBJECT={group}_{k}\n\t\t\t\t{kind}=\"{n}\"\n\t\t\t\tDataType={t}\n\t\t\t\tDimList=({})\n\t\t\tEND_OBJECT={group}_{k}\n",
                dl.join(","),
                k = i + 1
            );
        }
        s += &format!("\t\tEND_GROUP={group}\n");
    }
    s += "\t\tGROUP=MergedFields\n\t\tEND_GROUP=MergedFields\n\tEND_GROUP=SWATH_1\nEND_GROUP=SwathStructure\nGROUP=GridStructure\nEND_GROUP=GridStructure\nGROUP=PointStructure\nEND_GROUP=PointStructure\nEND\n";
    s
}

fn odl_object(name: &str, value: &str, quoted: bool) -> String {
    let v = if quoted {
        format!("\"{value}\"")
    } else {
        value.to_string()
    };
    format!("    OBJECT                 = {name}\n      NUM_VAL              = 1\n      VALUE                = {v}\n    END_OBJECT             = {name}\n\n")
}

/// The ECS `CoreMetadata.0` of one file.
pub(crate) fn core_metadata(
    short_name: &str,
    local_id: &str,
    platform: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    day_night: &str,
    processed: DateTime<Utc>,
) -> String {
    let mut s = String::from("\nGROUP                  = INVENTORYMETADATA\n  GROUPTYPE            = MASTERGROUP\n\n  GROUP                  = ECSDATAGRANULE\n\n");
    s += &odl_object("LOCALGRANULEID", local_id, true);
    s += &odl_object(
        "PRODUCTIONDATETIME",
        &processed.format("%Y-%m-%dT%H:%M:%S.000Z").to_string(),
        true,
    );
    s += &odl_object("DAYNIGHTFLAG", day_night, true);
    s += "  END_GROUP              = ECSDATAGRANULE\n\n  GROUP                  = COLLECTIONDESCRIPTIONCLASS\n\n";
    s += &odl_object("SHORTNAME", short_name, true);
    s += &odl_object("VERSIONID", "61", false);
    s += "  END_GROUP              = COLLECTIONDESCRIPTIONCLASS\n\n  GROUP                  = RANGEDATETIME\n\n";
    s += &odl_object("RANGEENDINGDATE", &end.format("%Y-%m-%d").to_string(), true);
    s += &odl_object(
        "RANGEENDINGTIME",
        &end.format("%H:%M:%S%.6f").to_string(),
        true,
    );
    s += &odl_object(
        "RANGEBEGINNINGDATE",
        &start.format("%Y-%m-%d").to_string(),
        true,
    );
    s += &odl_object(
        "RANGEBEGINNINGTIME",
        &start.format("%H:%M:%S%.6f").to_string(),
        true,
    );
    s += "  END_GROUP              = RANGEDATETIME\n\n  GROUP                  = ASSOCIATEDPLATFORMINSTRUMENTSENSOR\n\n    OBJECT                 = ASSOCIATEDPLATFORMINSTRUMENTSENSORCONTAINER\n      CLASS                = \"1\"\n\n";
    s += &odl_object("ASSOCIATEDSENSORSHORTNAME", "MODIS", true);
    s += &odl_object("ASSOCIATEDPLATFORMSHORTNAME", platform, true);
    s += &odl_object("ASSOCIATEDINSTRUMENTSHORTNAME", "MODIS", true);
    s += "    END_OBJECT             = ASSOCIATEDPLATFORMINSTRUMENTSENSORCONTAINER\n\n  END_GROUP              = ASSOCIATEDPLATFORMINSTRUMENTSENSOR\n\nEND_GROUP              = INVENTORYMETADATA\n\nEND\n";
    s
}

/// `frame_numbers` of the 5-km fields: "3, 8, 13, …" (1-based).
fn frame_numbers(tc: usize) -> String {
    (0..tc)
        .map(|k| (TIE_OFFSET + 1 + k * TIE_STEP).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes `granule` (a swath with bands `B1 B2 B7 B21 B22 B31 B32 SZA VZA SAA VAA`, a time and
/// satellite `T`/`A`) into `dir`; returns the paths. Each file appears whole or not at all.
pub fn write(
    granule: &Granule,
    dir: &Path,
    opts: &ModisOptions,
) -> Result<ModisFiles, ProductError> {
    let unwritable = |message: String| ProductError::Unwritable {
        product: "MODIS L1B",
        message,
    };
    let Geometry::Swath(swath) = &granule.geometry else {
        return Err(unwritable("the granule is not a swath".into()));
    };
    let (rows, cols) = granule.shape;
    if rows == 0 || rows % ROWS_PER_SCAN != 0 || cols < 3 {
        return Err(unwritable(format!(
            "{rows} × {cols} pixels: MODIS lines come in scans of {ROWS_PER_SCAN}, at least 3 frames"
        )));
    }
    let start = granule
        .meta
        .acq_time
        .ok_or_else(|| unwritable("no acquisition time".into()))?;
    let satellite = granule.meta.satellite.as_deref().unwrap_or("");
    let platform = match satellite {
        "T" => "Terra",
        "A" => "Aqua",
        other => {
            return Err(unwritable(format!(
                "satellite {other:?} is not T (Terra) or A (Aqua)"
            )))
        }
    };
    let band = |name: &str| {
        granule
            .bands
            .get(name)
            .map(|b| b.as_slice())
            .ok_or_else(|| unwritable(format!("no band {name}")))
    };
    for spec in BANDS {
        band(spec.canonical)?;
    }
    for (_, name) in ANGLES {
        band(name)?;
    }
    let (data_name, geo_name) =
        file_names(satellite, start, opts.processed, &opts.collection).expect("T or A");
    let nscans = rows / ROWS_PER_SCAN;
    let end = start + Duration::milliseconds((nscans as f64 * SCAN_PERIOD_S * 1000.0) as i64);
    let sza = band("SZA")?;
    let (day, night) = sza
        .iter()
        .filter(|z| !z.is_nan())
        .fold(
            (0, 0),
            |(d, n), &z| {
                if z < 85.0 {
                    (d + 1, n)
                } else {
                    (d, n + 1)
                }
            },
        );
    let day_night = match (day, night) {
        (_, 0) => "Day",
        (0, _) => "Night",
        _ => "Both",
    };

    let data_path = dir.join(&data_name);
    atomically(&data_path, |tmp| {
        let f = SdFile::create(tmp)?;
        let core = core_metadata(
            &data_name[..8],
            &data_name,
            platform,
            start,
            end,
            day_night,
            opts.processed,
        );
        write_l1b(&f, granule, swath, &core)?;
        f.close()
    })?;
    let geo_path = if opts.geolocation {
        let p = dir.join(&geo_name);
        let short = geo_name.split('.').next().unwrap_or("MOD03").to_string();
        atomically(&p, |tmp| {
            let f = SdFile::create(tmp)?;
            let core = core_metadata(
                &short,
                &geo_name,
                platform,
                start,
                end,
                day_night,
                opts.processed,
            );
            write_geo(&f, granule, swath, &core)?;
            f.close()
        })?;
        Some(p)
    } else {
        None
    };
    Ok(ModisFiles {
        data: data_path,
        geo: geo_path,
    })
}

const ROW_DIM: &str = "10*nscans";
const COL_DIM: &str = "Max_EV_frames";
const TIE_ROW_DIM: &str = "2*nscans";
const TIE_COL_DIM: &str = "1KM_geo_dim";

fn write_l1b(
    f: &SdFile,
    g: &Granule,
    swath: &crate::product::Swath,
    core: &str,
) -> Result<(), ProductError> {
    let (rows, cols) = g.shape;
    let (tr, tc) = (rows / ROWS_PER_SCAN * 2, tie_cols(cols));
    let geo_fields: [(&str, &str, &[&str]); 2] = [
        ("Latitude", "DFNT_FLOAT32", &[TIE_ROW_DIM, TIE_COL_DIM]),
        ("Longitude", "DFNT_FLOAT32", &[TIE_ROW_DIM, TIE_COL_DIM]),
    ];
    let data_fields: Vec<(&str, &str, &[&str])> = vec![
        (
            EMISSIVE,
            "DFNT_UINT16",
            &["Band_1KM_Emissive", ROW_DIM, COL_DIM],
        ),
        (REFSB_250, "DFNT_UINT16", &["Band_250M", ROW_DIM, COL_DIM]),
        (REFSB_500, "DFNT_UINT16", &["Band_500M", ROW_DIM, COL_DIM]),
        ("SensorZenith", "DFNT_INT16", &[TIE_ROW_DIM, TIE_COL_DIM]),
        ("SensorAzimuth", "DFNT_INT16", &[TIE_ROW_DIM, TIE_COL_DIM]),
        ("SolarZenith", "DFNT_INT16", &[TIE_ROW_DIM, TIE_COL_DIM]),
        ("SolarAzimuth", "DFNT_INT16", &[TIE_ROW_DIM, TIE_COL_DIM]),
    ];
    let meta = struct_metadata(
        L1B_SWATH,
        &[
            ("Band_250M", 2),
            ("Band_500M", 5),
            ("Band_1KM_Emissive", 16),
            (ROW_DIM, rows),
            (COL_DIM, cols),
            (TIE_ROW_DIM, tr),
            (TIE_COL_DIM, tc),
        ],
        &[(TIE_ROW_DIM, ROW_DIM), (TIE_COL_DIM, COL_DIM)],
        &geo_fields,
        &data_fields,
    );
    f.set_attr("HDFEOSVersion", &text("HDFEOS_V2.19"))?;
    f.set_attr("StructMetadata.0", &text(&meta))?;
    f.set_attr("CoreMetadata.0", &text(core))?;
    f.set_attr(
        "Number of Scans",
        &Attr::I32(vec![(rows / ROWS_PER_SCAN) as i32]),
    )?;
    f.set_attr("Max Earth View Frames", &Attr::I32(vec![cols as i32]))?;

    let n = rows * cols;
    let sza = g.bands["SZA"].as_slice();
    // Emissive: 16 bands, the four the granule holds encoded, the rest fill.
    {
        let sds = f.create_dataset::<u16>(EMISSIVE, &[16, rows, cols])?;
        sds_dim_names(&sds, &["Band_1KM_Emissive", ROW_DIM, COL_DIM], L1B_SWATH)?;
        let (scales, offsets): (Vec<f32>, Vec<f32>) = EMISSIVE_BANDS
            .iter()
            .map(|b| emissive_scale_offset(b))
            .unzip();
        sds.set_attr("units", &text("none"))?;
        sds.set_attr("valid_range", &Attr::U16(vec![0, VALID_MAX]))?;
        sds.set_fill(FILL)?;
        sds.set_attr(
            "long_name",
            &text("Earth View 1KM Emissive Bands Scaled Integers"),
        )?;
        sds.set_attr("band_names", &text(&EMISSIVE_BANDS.join(",")))?;
        sds.set_attr("radiance_scales", &Attr::F32(scales.clone()))?;
        sds.set_attr("radiance_offsets", &Attr::F32(offsets.clone()))?;
        sds.set_attr("radiance_units", &text("Watts/m^2/micrometer/steradian"))?;
        for (i, b) in EMISSIVE_BANDS.iter().enumerate() {
            let spec = BANDS.iter().find(|s| s.sds == EMISSIVE && s.band == *b);
            let counts: Vec<u16> = match spec {
                Some(spec) => {
                    let wl = spec.wavelength_um.expect("emissive");
                    let (s, o) = (scales[i], offsets[i]);
                    g.bands[spec.canonical]
                        .as_slice()
                        .par_iter()
                        .map(|&bt| {
                            if bt.is_nan() {
                                FILL
                            } else {
                                encode(physics::planck_radiance(wl, bt as f64) as f32, s, o)
                            }
                        })
                        .collect()
                }
                None => vec![FILL; n],
            };
            sds.write_slab(&[i, 0, 0], &[1, rows, cols], &counts)?;
        }
    }
    // Reflective: bands 1, 2 and 3–7 (only 7 held).
    for (name, dim, bands, long) in [
        (
            REFSB_250,
            "Band_250M",
            &REFSB_250_BANDS[..],
            "Earth View 250M Aggregated 1km Reflective Solar Bands Scaled Integers",
        ),
        (
            REFSB_500,
            "Band_500M",
            &REFSB_500_BANDS[..],
            "Earth View 500M Aggregated 1km Reflective Solar Bands Scaled Integers",
        ),
    ] {
        let nb = bands.len();
        let sds = f.create_dataset::<u16>(name, &[nb, rows, cols])?;
        sds_dim_names(&sds, &[dim, ROW_DIM, COL_DIM], L1B_SWATH)?;
        sds.set_attr("units", &text("none"))?;
        sds.set_attr("valid_range", &Attr::U16(vec![0, VALID_MAX]))?;
        sds.set_fill(FILL)?;
        sds.set_attr("long_name", &text(long))?;
        sds.set_attr("band_names", &text(&bands.join(",")))?;
        // Radiance: an assumed ESUN/π of 500 W m⁻² sr⁻¹ µm⁻¹ per unit reflectance (ours).
        sds.set_attr(
            "radiance_scales",
            &Attr::F32(vec![REFLECTANCE_SCALE * 500.0; nb]),
        )?;
        sds.set_attr("radiance_offsets", &Attr::F32(vec![0.0; nb]))?;
        sds.set_attr("radiance_units", &text("Watts/m^2/micrometer/steradian"))?;
        sds.set_attr(
            "reflectance_scales",
            &Attr::F32(vec![REFLECTANCE_SCALE; nb]),
        )?;
        sds.set_attr("reflectance_offsets", &Attr::F32(vec![0.0; nb]))?;
        sds.set_attr("reflectance_units", &text("none"))?;
        sds.set_attr("corrected_counts_scales", &Attr::F32(vec![0.125; nb]))?;
        sds.set_attr("corrected_counts_offsets", &Attr::F32(vec![0.0; nb]))?;
        sds.set_attr("corrected_counts_units", &text("counts"))?;
        for (i, b) in bands.iter().enumerate() {
            let spec = BANDS.iter().find(|s| s.sds == name && s.band == *b);
            let counts: Vec<u16> = match spec {
                Some(spec) => g.bands[spec.canonical]
                    .as_slice()
                    .par_iter()
                    .zip(sza.par_iter())
                    .map(|(&r, &z)| {
                        let rho_cos = if z < 90.0 {
                            r * z.to_radians().cos()
                        } else {
                            r
                        };
                        encode(rho_cos, REFLECTANCE_SCALE, 0.0)
                    })
                    .collect(),
                None => vec![FILL; n],
            };
            sds.write_slab(&[i, 0, 0], &[1, rows, cols], &counts)?;
        }
    }
    // 5-km geolocation and angles: lines 2 and 7 of each scan, frames 2, 7, …
    let tie = |v: &[f32]| -> Vec<f32> {
        (0..tr)
            .flat_map(|r| {
                let row = r / 2 * ROWS_PER_SCAN + TIE_OFFSET + (r % 2) * TIE_STEP;
                (0..tc).map(move |k| v[row * cols + TIE_OFFSET + k * TIE_STEP])
            })
            .collect()
    };
    for (name, v, limit) in [
        ("Latitude", swath.lat.as_slice(), 90.0),
        ("Longitude", swath.lon.as_slice(), 180.0),
    ] {
        let sds = f.create_dataset::<f32>(name, &[tr, tc])?;
        sds_dim_names(&sds, &[TIE_ROW_DIM, TIE_COL_DIM], L1B_SWATH)?;
        sds.set_attr("units", &text("degrees"))?;
        sds.set_attr("valid_range", &Attr::F32(vec![-limit, limit]))?;
        sds.set_fill(L1B_LATLON_FILL)?;
        sds.set_attr("line_numbers", &text("3, 8"))?;
        sds.set_attr("frame_numbers", &text(&frame_numbers(tc)))?;
        let t: Vec<f32> = tie(v)
            .into_iter()
            .map(|x| if x.is_nan() { L1B_LATLON_FILL } else { x })
            .collect();
        sds.write(&t)?;
    }
    for (name, canonical) in [
        ("SensorZenith", "VZA"),
        ("SensorAzimuth", "VAA"),
        ("SolarZenith", "SZA"),
        ("SolarAzimuth", "SAA"),
    ] {
        let sds = write_angle(
            f,
            name,
            &[TIE_ROW_DIM, TIE_COL_DIM],
            L1B_SWATH,
            &tie(g.bands[canonical].as_slice()),
            (tr, tc),
        )?;
        sds.set_attr("line_numbers", &text("3, 8"))?;
        sds.set_attr("frame_numbers", &text(&frame_numbers(tc)))?;
    }
    let geo_names: Vec<&str> = geo_fields.iter().map(|x| x.0).collect();
    let data_names: Vec<&str> = data_fields.iter().map(|x| x.0).collect();
    f.eos_swath(L1B_SWATH, &geo_names, &data_names)
}

fn write_angle<'f>(
    f: &'f SdFile,
    name: &str,
    dims: &[&str],
    swath: &str,
    values: &[f32],
    shape: (usize, usize),
) -> Result<crate::product::hdf4::Sds<'f>, ProductError> {
    let sds = f.create_dataset::<i16>(name, &[shape.0, shape.1])?;
    sds_dim_names(&sds, dims, swath)?;
    let zenith = name.ends_with("Zenith");
    sds.set_attr("units", &text("degrees"))?;
    sds.set_attr(
        "valid_range",
        &Attr::I16(if zenith {
            vec![0, 18000]
        } else {
            vec![-18000, 18000]
        }),
    )?;
    sds.set_fill(ANGLE_FILL)?;
    sds.set_attr("scale_factor", &Attr::F64(vec![0.01]))?;
    let v: Vec<i16> = values
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
    sds.write(&v)?;
    Ok(sds)
}

fn write_geo(
    f: &SdFile,
    g: &Granule,
    swath: &crate::product::Swath,
    core: &str,
) -> Result<(), ProductError> {
    let (rows, cols) = g.shape;
    const R: &str = "nscans*10";
    const C: &str = "mframes";
    let geo_fields: [(&str, &str, &[&str]); 2] = [
        ("Latitude", "DFNT_FLOAT32", &[R, C]),
        ("Longitude", "DFNT_FLOAT32", &[R, C]),
    ];
    let data_fields: [(&str, &str, &[&str]); 6] = [
        ("Height", "DFNT_INT16", &[R, C]),
        ("SensorZenith", "DFNT_INT16", &[R, C]),
        ("SensorAzimuth", "DFNT_INT16", &[R, C]),
        ("SolarZenith", "DFNT_INT16", &[R, C]),
        ("SolarAzimuth", "DFNT_INT16", &[R, C]),
        (LAND_SEA, "DFNT_UINT8", &[R, C]),
    ];
    let meta = struct_metadata(
        GEO_SWATH,
        &[("nscans", rows / ROWS_PER_SCAN), (R, rows), (C, cols)],
        &[],
        &geo_fields,
        &data_fields,
    );
    f.set_attr("HDFEOSVersion", &text("HDFEOS_V2.19"))?;
    f.set_attr("StructMetadata.0", &text(&meta))?;
    f.set_attr("CoreMetadata.0", &text(core))?;
    for (name, v, limit) in [
        ("Latitude", swath.lat.as_slice(), 90.0),
        ("Longitude", swath.lon.as_slice(), 180.0),
    ] {
        let sds = f.create_dataset::<f32>(name, &[rows, cols])?;
        sds_dim_names(&sds, &[R, C], GEO_SWATH)?;
        sds.set_attr("units", &text("degrees"))?;
        sds.set_attr("valid_range", &Attr::F32(vec![-limit, limit]))?;
        sds.set_fill(GEO_LATLON_FILL)?;
        let t: Vec<f32> = v
            .iter()
            .map(|&x| if x.is_nan() { GEO_LATLON_FILL } else { x })
            .collect();
        sds.write(&t)?;
    }
    {
        // No terrain height in a granule: sea level (ours).
        let sds = f.create_dataset::<i16>("Height", &[rows, cols])?;
        sds_dim_names(&sds, &[R, C], GEO_SWATH)?;
        sds.set_attr("units", &text("meters"))?;
        sds.set_attr("valid_range", &Attr::I16(vec![-400, 10000]))?;
        sds.set_fill(-32767i16)?;
        sds.write(&vec![0i16; rows * cols])?;
    }
    for (name, canonical) in [
        ("SensorZenith", "VZA"),
        ("SensorAzimuth", "VAA"),
        ("SolarZenith", "SZA"),
        ("SolarAzimuth", "SAA"),
    ] {
        write_angle(
            f,
            name,
            &[R, C],
            GEO_SWATH,
            g.bands[canonical].as_slice(),
            (rows, cols),
        )?;
    }
    {
        let sds = f.create_dataset::<u8>(LAND_SEA, &[rows, cols])?;
        sds_dim_names(&sds, &[R, C], GEO_SWATH)?;
        sds.set_attr("units", &text("none"))?;
        sds.set_attr("valid_range", &Attr::U8(vec![0, 7]))?;
        sds.set_fill(LAND_SEA_FILL)?;
        // Water → 5 (deep inland water), land → 1; a granule without a mask is all land (ours).
        let v: Vec<u8> = match &g.water {
            Some(w) => w
                .as_slice()
                .iter()
                .map(|&x| if x != 0 { 5 } else { 1 })
                .collect(),
            None => vec![1; rows * cols],
        };
        sds.write(&v)?;
    }
    let geo_names: Vec<&str> = geo_fields.iter().map(|x| x.0).collect();
    let data_names: Vec<&str> = data_fields.iter().map(|x| x.0).collect();
    f.eos_swath(GEO_SWATH, &geo_names, &data_names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_put_the_saturation_temperature_at_the_top_count() {
        for (band, t) in SATURATION_K {
            let (s, o) = emissive_scale_offset(band);
            let wl = BANDS
                .iter()
                .find(|b| b.band == band)
                .unwrap()
                .wavelength_um
                .unwrap();
            let top = physics::brightness_temperature(wl, (s * (VALID_MAX as f32 - o)) as f64);
            assert!((top - t).abs() < 0.01, "{band}: {top}");
        }
        assert_eq!(encode(f32::NAN, 1.0, 0.0), FILL);
        assert_eq!(encode(1e9, 1.0, 0.0), SATURATED);
        assert_eq!(encode(-5.0, 1.0, 0.0), 0);
    }

    #[test]
    fn names_follow_laads() {
        let t = DateTime::parse_from_rfc3339("2024-05-02T05:35:00Z")
            .unwrap()
            .to_utc();
        let (d, g) = file_names("A", t, t, "061").unwrap();
        assert_eq!(d, "MYD021KM.A2024123.0535.061.2024123053500.hdf");
        assert_eq!(g, "MYD03.A2024123.0535.061.2024123053500.hdf");
        assert!(file_names("N", t, t, "061").is_none());
    }
}
