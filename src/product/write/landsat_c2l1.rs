//! Writes a Landsat 8/9 Collection 2 Level-1 product in USGS's layout (the inverse of
//! [`crate::product::landsat_c2l1`]): `<id>_B1.TIF` … `<id>_B7.TIF` (`UInt16`, DEFLATE, tiled,
//! UTM grid), `<id>_QA_PIXEL.TIF`, `<id>_QA_RADSAT.TIF`, `<id>_MTL.txt` (ODL) and
//! `<id>_MTL.json` (the same groups as JSON, values as strings) with the groups and keys of a
//! Collection 2 MTL (`PRODUCT_CONTENTS`, `IMAGE_ATTRIBUTES`, `PROJECTION_ATTRIBUTES`,
//! `LEVEL1_RADIOMETRIC_RESCALING`), into a folder named by the product id, optionally packed
//! into `<id>.tar` as downloaded.
//!
//! DNs: DN = round((ρ·sin θ_SE − A) / M) with USGS's OLI rescaling (M = 2.0E-05, A = −0.1 for
//! every reflective band), at least 1 (0 is fill); a reflectance above what 16 bits encode is
//! saturated: DN 65535 and its `QA_RADSAT` bit, or, with [`WriteOptions::fold_saturated`], the
//! DN wrapped around 2¹⁶ as OLI's folded SWIR pixels read (Schroeder et al. 2016, sec. 2).
//! NaN reflectance is fill (DN 0, `QA_PIXEL` bit 0). The thermal bands (B10, B11), the
//! panchromatic band and the angle files are not written: the fire algorithm does not read them.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ndarray::ArrayView2;

use crate::product::error::ProductError;
use crate::product::landsat_c2l1::{qa_pixel, radsat_bit, DN_MAX};
use crate::raster::band::write_u16;
use crate::raster::GeoRef;

/// USGS's reflectance rescaling of every OLI reflective band in Collection 2.
pub const REFLECTANCE_MULT: f64 = 2.0e-5;
pub const REFLECTANCE_ADD: f64 = -0.1;

/// What a product says about its acquisition.
#[derive(Debug, Clone)]
pub struct Acquisition {
    /// 8 or 9.
    pub spacecraft: u8,
    pub wrs_path: u16,
    pub wrs_row: u16,
    pub acq_time: DateTime<Utc>,
    pub sun_elevation_deg: f64,
    pub sun_azimuth_deg: f64,
    /// UTM zone of the grid (for `UTM_ZONE`).
    pub utm_zone: u8,
}

impl Acquisition {
    /// The Collection 2 product id: `LC0S_L1TP_PPPRRR_YYYYMMDD_yyyymmdd_02_T1` (processing date
    /// taken as the acquisition date + 10 days, as USGS's usual delay).
    pub fn product_id(&self) -> String {
        let processed = self.acq_time + chrono::Duration::days(10);
        format!(
            "LC0{}_L1TP_{:03}{:03}_{}_{}_02_T1",
            self.spacecraft,
            self.wrs_path,
            self.wrs_row,
            self.acq_time.format("%Y%m%d"),
            processed.format("%Y%m%d")
        )
    }
}

/// The pixels of a product: bands 1–7 as TOA reflectance (sun-corrected; NaN = fill) and the
/// `QA_PIXEL` bits of cloud, water, … (fill and clear are added by the writer).
pub struct Pixels<'a> {
    pub reflectance: [ArrayView2<'a, f32>; 7],
    pub qa_pixel: ArrayView2<'a, u16>,
    pub georef: &'a GeoRef,
}

/// How to lay the product out.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    /// Write `_MTL.txt`.
    pub mtl_txt: bool,
    /// Write `_MTL.json`.
    pub mtl_json: bool,
    /// Write `_QA_RADSAT.TIF` (and name it in the MTL).
    pub radsat: bool,
    /// Saturated DNs wrap around 2¹⁶ instead of staying at 65535.
    pub fold_saturated: bool,
    /// DEFLATE-compress the GeoTIFFs (as USGS does); uncompressed is the fastest to read.
    pub deflate: bool,
    /// Pack the folder into `<id>.tar` (the folder is then removed).
    pub tar: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            mtl_txt: true,
            mtl_json: true,
            radsat: true,
            fold_saturated: false,
            deflate: true,
            tar: false,
        }
    }
}

/// The DN of a reflectance and whether it saturated; `None` for fill.
pub fn encode_dn(rho: f32, sin_e: f64, fold: bool) -> (u16, bool) {
    if !rho.is_finite() {
        return (0, false);
    }
    let dn = ((rho as f64 * sin_e - REFLECTANCE_ADD) / REFLECTANCE_MULT).round();
    if dn > DN_MAX as f64 {
        if fold {
            let wrapped = (dn as i64).rem_euclid(1 << 16) as u16;
            return (wrapped.max(1), true);
        }
        return (DN_MAX, true);
    }
    (dn.max(1.0) as u16, false)
}

/// Writes the product into `dir/<id>/` (or `dir/<id>.tar`); returns the folder or archive.
pub fn write(
    dir: &Path,
    acq: &Acquisition,
    px: &Pixels,
    opts: WriteOptions,
) -> Result<PathBuf, ProductError> {
    let id = acq.product_id();
    let (rows, cols) = px.qa_pixel.dim();
    for (i, b) in px.reflectance.iter().enumerate() {
        if b.dim() != (rows, cols) {
            return Err(ProductError::Unwritable {
                product: "Landsat C2 L1",
                message: format!(
                    "band {} is {:?}, QA_PIXEL {:?}",
                    i + 1,
                    b.dim(),
                    (rows, cols)
                ),
            });
        }
    }
    let folder = dir.join(&id);
    std::fs::create_dir_all(&folder).map_err(|e| ProductError::Write {
        path: folder.clone(),
        variable: String::new(),
        message: e.to_string(),
    })?;
    let sin_e = if acq.sun_elevation_deg > 0.0 {
        acq.sun_elevation_deg.to_radians().sin()
    } else {
        1.0
    };
    let raster = |e: crate::raster::RasterError| ProductError::Write {
        path: folder.clone(),
        variable: String::new(),
        message: e.to_string(),
    };
    let n = rows * cols;
    let mut radsat = vec![0u16; n];
    let mut fill = vec![false; n];
    let mut saturated_any = [false; 7];
    let mut written: Vec<PathBuf> = Vec::new();
    for (i, band) in px.reflectance.iter().enumerate() {
        let mut dn = vec![0u16; n];
        let bit = radsat_bit(i as u8 + 1);
        for (k, &rho) in band.iter().enumerate() {
            let (d, sat) = encode_dn(rho, sin_e, opts.fold_saturated);
            dn[k] = d;
            if d == 0 {
                fill[k] = true;
            }
            if sat {
                radsat[k] |= bit;
                saturated_any[i] = true;
            }
        }
        let p = folder.join(format!("{id}_B{}.TIF", i + 1));
        write_u16(&p, &dn, (rows, cols), px.georef, Some(0.0), opts.deflate).map_err(raster)?;
        written.push(p);
    }
    let qa: Vec<u16> = px
        .qa_pixel
        .iter()
        .zip(&fill)
        .map(|(&q, &f)| {
            if f {
                qa_pixel::FILL
            } else if q & (qa_pixel::CLOUD | qa_pixel::CIRRUS | qa_pixel::WATER) == 0 {
                q | qa_pixel::CLEAR
            } else {
                q
            }
        })
        .collect();
    let p = folder.join(format!("{id}_QA_PIXEL.TIF"));
    write_u16(&p, &qa, (rows, cols), px.georef, Some(1.0), opts.deflate).map_err(raster)?;
    written.push(p);
    if opts.radsat {
        let p = folder.join(format!("{id}_QA_RADSAT.TIF"));
        write_u16(&p, &radsat, (rows, cols), px.georef, None, opts.deflate).map_err(raster)?;
        written.push(p);
    }
    let cloudy = qa
        .iter()
        .filter(|&&q| q & qa_pixel::CLOUD != 0 && q & qa_pixel::FILL == 0)
        .count();
    let valid = fill.iter().filter(|f| !**f).count().max(1);
    let groups = mtl_groups(
        &id,
        acq,
        px.georef,
        (rows, cols),
        100.0 * cloudy as f64 / valid as f64,
        &saturated_any,
        opts,
    );
    for (ext, on) in [("txt", opts.mtl_txt), ("json", opts.mtl_json)] {
        if !on {
            continue;
        }
        let p = folder.join(format!("{id}_MTL.{ext}"));
        let text = if ext == "txt" {
            render_odl(&groups)
        } else {
            render_json(&groups)
        };
        super::atomically(&p, |tmp| {
            std::fs::write(tmp, &text).map_err(|e| ProductError::Write {
                path: p.clone(),
                variable: String::new(),
                message: e.to_string(),
            })
        })?;
        written.insert(0, p);
    }
    if !opts.tar {
        return Ok(folder);
    }
    let archive = dir.join(format!("{id}.tar"));
    crate::product::tar::write(&archive, &written)?;
    let _ = std::fs::remove_dir_all(&folder);
    Ok(archive)
}

/// A value and whether the ODL file quotes it.
type Item = (String, String, bool);

fn mtl_groups(
    id: &str,
    acq: &Acquisition,
    georef: &GeoRef,
    (rows, cols): (usize, usize),
    cloud_cover: f64,
    saturated: &[bool; 7],
    opts: WriteOptions,
) -> Vec<(&'static str, Vec<Item>)> {
    let q = |k: &str, v: String| (k.to_string(), v, true);
    let u = |k: &str, v: String| (k.to_string(), v, false);
    let mut contents = vec![
        q(
            "ORIGIN",
            "Image courtesy of the U.S. Geological Survey".into(),
        ),
        q(
            "DIGITAL_OBJECT_IDENTIFIER",
            "https://doi.org/10.5066/P9OGBGM6".into(),
        ),
        q("LANDSAT_PRODUCT_ID", id.into()),
        q("PROCESSING_LEVEL", "L1TP".into()),
        u("COLLECTION_NUMBER", "02".into()),
        q("COLLECTION_CATEGORY", "T1".into()),
        q("OUTPUT_FORMAT", "GEOTIFF".into()),
    ];
    for b in 1..=7 {
        contents.push(q(&format!("FILE_NAME_BAND_{b}"), format!("{id}_B{b}.TIF")));
    }
    contents.push(q(
        "FILE_NAME_QUALITY_L1_PIXEL",
        format!("{id}_QA_PIXEL.TIF"),
    ));
    if opts.radsat {
        contents.push(q(
            "FILE_NAME_QUALITY_L1_RADIOMETRIC_SATURATION",
            format!("{id}_QA_RADSAT.TIF"),
        ));
    }
    contents.push(q("FILE_NAME_METADATA_ODL", format!("{id}_MTL.txt")));
    contents.push(q("FILE_NAME_METADATA_XML", format!("{id}_MTL.xml")));
    let mut image = vec![
        q("SPACECRAFT_ID", format!("LANDSAT_{}", acq.spacecraft)),
        q("SENSOR_ID", "OLI_TIRS".into()),
        u("WRS_TYPE", "2".into()),
        u("WRS_PATH", acq.wrs_path.to_string()),
        u("WRS_ROW", acq.wrs_row.to_string()),
        q("NADIR_OFFNADIR", "NADIR".into()),
        u("TARGET_WRS_PATH", acq.wrs_path.to_string()),
        u("TARGET_WRS_ROW", acq.wrs_row.to_string()),
        u("DATE_ACQUIRED", acq.acq_time.format("%Y-%m-%d").to_string()),
        q(
            "SCENE_CENTER_TIME",
            format!("{}0Z", acq.acq_time.format("%H:%M:%S%.6f")),
        ),
        q("STATION_ID", "LGN".into()),
        u("CLOUD_COVER", format!("{cloud_cover:.2}")),
        u("CLOUD_COVER_LAND", format!("{cloud_cover:.2}")),
        u("IMAGE_QUALITY_OLI", "9".into()),
        u("IMAGE_QUALITY_TIRS", "9".into()),
    ];
    for (i, s) in saturated.iter().enumerate() {
        image.push(q(
            &format!("SATURATION_BAND_{}", i + 1),
            if *s { "Y" } else { "N" }.into(),
        ));
    }
    image.extend([
        u("ROLL_ANGLE", "-0.001".into()),
        u("SUN_AZIMUTH", format!("{:.8}", acq.sun_azimuth_deg)),
        u("SUN_ELEVATION", format!("{:.8}", acq.sun_elevation_deg)),
        u("EARTH_SUN_DISTANCE", "1.0154".into()),
    ]);
    let t = georef.transform;
    let corner = |r: f64, c: f64| (t[0] + (c + 0.5) * t[1], t[3] + (r + 0.5) * t[5]);
    let (ulx, uly) = corner(0.0, 0.0);
    let (lrx, lry) = corner(rows as f64 - 1.0, cols as f64 - 1.0);
    let projection = vec![
        q("MAP_PROJECTION", "UTM".into()),
        q("DATUM", "WGS84".into()),
        q("ELLIPSOID", "WGS84".into()),
        u("UTM_ZONE", acq.utm_zone.to_string()),
        u("GRID_CELL_SIZE_REFLECTIVE", format!("{:.2}", t[1])),
        u("REFLECTIVE_LINES", rows.to_string()),
        u("REFLECTIVE_SAMPLES", cols.to_string()),
        q("ORIENTATION", "NORTH_UP".into()),
        u("CORNER_UL_PROJECTION_X_PRODUCT", format!("{ulx:.3}")),
        u("CORNER_UL_PROJECTION_Y_PRODUCT", format!("{uly:.3}")),
        u("CORNER_LR_PROJECTION_X_PRODUCT", format!("{lrx:.3}")),
        u("CORNER_LR_PROJECTION_Y_PRODUCT", format!("{lry:.3}")),
    ];
    let mut rescaling = Vec::new();
    for b in 1..=7 {
        rescaling.push(u(
            &format!("REFLECTANCE_MULT_BAND_{b}"),
            "2.0000E-05".into(),
        ));
    }
    for b in 1..=7 {
        rescaling.push(u(&format!("REFLECTANCE_ADD_BAND_{b}"), "-0.100000".into()));
    }
    vec![
        ("PRODUCT_CONTENTS", contents),
        ("IMAGE_ATTRIBUTES", image),
        ("PROJECTION_ATTRIBUTES", projection),
        ("LEVEL1_RADIOMETRIC_RESCALING", rescaling),
    ]
}

fn render_odl(groups: &[(&'static str, Vec<Item>)]) -> String {
    let mut s = String::from("GROUP = LANDSAT_METADATA_FILE\n");
    for (g, items) in groups {
        s.push_str(&format!("  GROUP = {g}\n"));
        for (k, v, quoted) in items {
            if *quoted {
                s.push_str(&format!("    {k} = \"{v}\"\n"));
            } else {
                s.push_str(&format!("    {k} = {v}\n"));
            }
        }
        s.push_str(&format!("  END_GROUP = {g}\n"));
    }
    s.push_str("END_GROUP = LANDSAT_METADATA_FILE\nEND\n");
    s
}

fn render_json(groups: &[(&'static str, Vec<Item>)]) -> String {
    let str = |v: &str| serde_json::to_string(v).expect("a string serialises");
    let mut s = String::from("{\n  \"LANDSAT_METADATA_FILE\": {\n");
    for (gi, (g, items)) in groups.iter().enumerate() {
        s.push_str(&format!("    {}: {{\n", str(g)));
        for (i, (k, v, _)) in items.iter().enumerate() {
            let comma = if i + 1 < items.len() { "," } else { "" };
            s.push_str(&format!("      {}: {}{comma}\n", str(k), str(v)));
        }
        let comma = if gi + 1 < groups.len() { "," } else { "" };
        s.push_str(&format!("    }}{comma}\n"));
    }
    s.push_str("  }\n}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_round_trip_saturate_and_fold() {
        let sin_e = 0.8;
        let (dn, sat) = encode_dn(0.25, sin_e, false);
        assert!(!sat);
        let back = (REFLECTANCE_MULT * dn as f64 + REFLECTANCE_ADD) / sin_e;
        assert!((back - 0.25).abs() < 2e-5, "{back}");
        assert_eq!(encode_dn(f32::NAN, sin_e, false), (0, false));
        assert_eq!(encode_dn(3.0, sin_e, false), (DN_MAX, true));
        let (folded, sat) = encode_dn(3.0, sin_e, true);
        assert!(sat && folded < 60000, "{folded}");
        // A dark pixel is never written as fill.
        assert_eq!(encode_dn(-1.0, sin_e, false).0, 1);
    }
}
