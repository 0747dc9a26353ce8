//! Writes a Sentinel-2 MSI Level-1C (or Level-2A) product in ESA's SAFE layout (the inverse of
//! [`crate::product::sentinel2_l1c`]), for tests, fixtures and the benchmark:
//!
//! ```text
//! S2A_MSIL1C_20240610T030541_N0510_R075_T50SLH_20240610T052008.SAFE/
//!   manifest.safe
//!   MTD_MSIL1C.xml
//!   GRANULE/L1C_T50SLH_A046789_20240610T030541/
//!     MTD_TL.xml
//!     IMG_DATA/T50SLH_20240610T030541_B01.jp2 … _B12.jp2, _B8A.jp2
//!     QI_DATA/MSK_CLASSI_B00.jp2            (baseline ≥ 04.00)
//!     QI_DATA/MSK_CLOUDS_B00.gml            (older baselines)
//!     QI_DATA/MSK_DETFOO_B12.jp2 …           (≥ 04.00; `.gml` before; when detectors are given)
//!   DATASTRIP/  AUX_DATA/  HTML/  rep_info/
//! ```
//! (L2A: `IMG_DATA/R20m/T50SLH_…_B12_20m.jp2` and `…_SCL_20m.jp2`.) Every JP2 goes through
//! GDAL's JP2OpenJPEG driver, lossless, with a GMLJP2 box. The XML keeps the PSD's element
//! names and nesting for every key the reader uses (and a few it does not, as real files have
//! them); values not known to us are marked as ours.
//!
//! DNs: DN = round(ρ · QUANTIFICATION_VALUE − RADIO_ADD_OFFSET) (offset −1000 from baseline
//! 04.00, 0 before), at least 1 (0 is NODATA), 65535 (SATURATED) where ρ is above what 16 bits
//! encode; NaN → 0. The 10 m bands carry each 20 m pixel's DN in its 2 × 2 block (so binning gives
//! it back exactly); the 60 m B01 the DN of its 3 × 3 block's mean reflectance. Only the seven
//! bands the fire algorithm reads are written.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ndarray::ArrayView2;

use crate::product::error::ProductError;
use crate::product::sentinel2_l1c::{band_id, Level, BAND_IDS, DN_SATURATED, MSI_BANDS};
use crate::raster::band::write_jp2;
use crate::raster::GeoRef;

/// What a product says about its acquisition.
#[derive(Debug, Clone)]
pub struct Acquisition {
    /// `S2A`, `S2B`, `S2C`.
    pub mission: String,
    /// Datatake sensing start (the name's time) and the tile's `SENSING_TIME`.
    pub sensing_time: DateTime<Utc>,
    /// MGRS tile (`50SLH`).
    pub tile: String,
    pub relative_orbit: u16,
    pub absolute_orbit: u32,
    /// `05.10`.
    pub baseline: String,
    pub sun_zenith_deg: f64,
    pub sun_azimuth_deg: f64,
    /// The grid's EPSG code (`32650`).
    pub epsg: u32,
}

impl Acquisition {
    fn baseline_04(&self) -> bool {
        self.baseline.as_str() >= "04.00"
    }

    fn offset(&self) -> f64 {
        if self.baseline_04() {
            -1000.0
        } else {
            0.0
        }
    }

    /// The product name without `.SAFE` (generation time taken as sensing + 2 h, ESA's usual
    /// delay; ours).
    pub fn product_name(&self, level: Level) -> String {
        let generated = self.sensing_time + chrono::Duration::hours(2);
        format!(
            "{}_{}_{}_N{}_R{:03}_T{}_{}",
            self.mission,
            match level {
                Level::L1c => "MSIL1C",
                Level::L2a => "MSIL2A",
            },
            self.sensing_time.format("%Y%m%dT%H%M%S"),
            self.baseline.replace('.', ""),
            self.relative_orbit,
            self.tile,
            generated.format("%Y%m%dT%H%M%S")
        )
    }

    fn spacecraft(&self) -> String {
        format!("Sentinel-{}", &self.mission[1..])
    }
}

/// The pixels of a product on the 20 m grid: the seven bands of [`MSI_BANDS`] as TOA
/// reflectance (NaN = no data), cloud and water (non-zero = yes) for the masks.
pub struct Pixels<'a> {
    pub reflectance: [ArrayView2<'a, f32>; 7],
    pub cloud: Option<ArrayView2<'a, u8>>,
    pub water: Option<ArrayView2<'a, u8>>,
    /// The detector that saw each 20 m pixel (1…12), 0 where none did: written as every
    /// written band's `MSK_DETFOO` mask (JP2 at the band's resolution from baseline 04.00, GML
    /// polygons before); `None` writes no footprint masks.
    pub detectors: Option<ArrayView2<'a, u8>>,
    /// The 20 m grid (rows and columns divisible by 3).
    pub georef: &'a GeoRef,
}

/// How to lay the product out.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    pub level: Level,
    /// Also pack the SAFE folder into `<name>.zip` (the folder is then removed).
    pub zip: bool,
    /// JP2 tile side, pixels.
    pub tile_px: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            level: Level::L1c,
            zip: false,
            tile_px: 1024,
        }
    }
}

/// DN of a reflectance (see the module doc).
pub fn encode_dn(rho: f32, quantification: f64, offset: f64) -> u16 {
    if rho.is_nan() {
        return 0;
    }
    let dn = (rho as f64 * quantification - offset).round();
    if dn >= DN_SATURATED as f64 {
        DN_SATURATED
    } else {
        dn.max(1.0) as u16
    }
}

fn werr(path: &Path, e: impl std::fmt::Display) -> ProductError {
    ProductError::Write {
        path: path.to_path_buf(),
        variable: String::new(),
        message: e.to_string(),
    }
}

fn scaled(georef: &GeoRef, res: f64) -> GeoRef {
    let t = georef.transform;
    GeoRef {
        transform: [t[0], res, 0.0, t[3], 0.0, -res],
        crs_wkt: georef.crs_wkt.clone(),
    }
}

/// Writes the product into `dir`; returns the path of the `.SAFE` folder (or the `.zip`).
pub fn write(
    dir: &Path,
    acq: &Acquisition,
    px: &Pixels,
    opts: WriteOptions,
) -> Result<PathBuf, ProductError> {
    let (rows, cols) = px.reflectance[0].dim();
    if rows % 3 != 0 || cols % 3 != 0 || rows == 0 {
        return Err(ProductError::Unwritable {
            product: "Sentinel-2",
            message: format!("a {rows} × {cols} grid does not divide into 60 m pixels"),
        });
    }
    if px.reflectance.iter().any(|b| b.dim() != (rows, cols)) {
        return Err(ProductError::Unwritable {
            product: "Sentinel-2",
            message: "bands of different shapes".into(),
        });
    }
    let level = opts.level;
    let name = acq.product_name(level);
    let safe = dir.join(format!("{name}.SAFE"));
    let target = if opts.zip {
        dir.join(format!("{name}.zip"))
    } else {
        safe.clone()
    };
    if target.exists() {
        return Err(werr(&target, "already exists"));
    }
    // Written under a temporary name, renamed into place whole.
    let tmp = dir.join(format!(".{name}.SAFE.{}.part", std::process::id()));
    let result = write_safe(&tmp, &name, acq, px, opts);
    let result = result.and_then(|()| {
        if opts.zip {
            // The archive holds `<name>.SAFE/…`: stage the folder under its real name.
            let staged = dir.join(format!(".{}.{}.zipdir", name, std::process::id()));
            let inner = staged.join(format!("{name}.SAFE"));
            std::fs::create_dir_all(&staged).map_err(|e| werr(&staged, e))?;
            std::fs::rename(&tmp, &inner).map_err(|e| werr(&inner, e))?;
            let r = crate::product::zip::write_folder(&target, &inner);
            let _ = std::fs::remove_dir_all(&staged);
            r
        } else {
            std::fs::rename(&tmp, &safe).map_err(|e| werr(&safe, e))
        }
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result.map(|()| target)
}

fn write_safe(
    root: &Path,
    name: &str,
    acq: &Acquisition,
    px: &Pixels,
    opts: WriteOptions,
) -> Result<(), ProductError> {
    let level = opts.level;
    let (rows, cols) = px.reflectance[0].dim();
    let lvl = match level {
        Level::L1c => "L1C",
        Level::L2a => "L2A",
    };
    let granule = format!(
        "{lvl}_T{}_A{:06}_{}",
        acq.tile,
        acq.absolute_orbit,
        acq.sensing_time.format("%Y%m%dT%H%M%S")
    );
    let gdir = root.join("GRANULE").join(&granule);
    let img = match level {
        Level::L1c => gdir.join("IMG_DATA"),
        Level::L2a => gdir.join("IMG_DATA/R20m"),
    };
    for d in [
        img.clone(),
        gdir.join("QI_DATA"),
        root.join("DATASTRIP"),
        root.join("AUX_DATA"),
        root.join("HTML"),
        root.join("rep_info"),
    ] {
        std::fs::create_dir_all(&d).map_err(|e| werr(&d, e))?;
    }
    let q = 10000.0;
    let offset = acq.offset();
    let stem = format!("T{}_{}", acq.tile, acq.sensing_time.format("%Y%m%dT%H%M%S"));
    let mut image_files = Vec::new();
    for (b, band) in MSI_BANDS.iter().enumerate() {
        let rho = &px.reflectance[b];
        let res = match level {
            Level::L1c => BAND_IDS[band_id(band).expect("an MSI band") as usize].1,
            Level::L2a => 20,
        };
        let (file_stem, rel) = match level {
            Level::L1c => {
                let f = format!("{stem}_{band}");
                (f.clone(), format!("GRANULE/{granule}/IMG_DATA/{f}"))
            }
            Level::L2a => {
                let f = format!("{stem}_{band}_20m");
                (f.clone(), format!("GRANULE/{granule}/IMG_DATA/R20m/{f}"))
            }
        };
        let (shape, dn): ((usize, usize), Vec<u16>) = match res {
            10 => {
                let mut v = vec![0u16; rows * cols * 4];
                for r in 0..rows * 2 {
                    for c in 0..cols * 2 {
                        v[r * cols * 2 + c] = encode_dn(rho[[r / 2, c / 2]], q, offset);
                    }
                }
                ((rows * 2, cols * 2), v)
            }
            60 => {
                let (r3, c3) = (rows / 3, cols / 3);
                let mut v = vec![0u16; r3 * c3];
                for r in 0..r3 {
                    for c in 0..c3 {
                        let mut s = 0f64;
                        for dr in 0..3 {
                            for dc in 0..3 {
                                s += rho[[r * 3 + dr, c * 3 + dc]] as f64;
                            }
                        }
                        v[r * c3 + c] = encode_dn((s / 9.0) as f32, q, offset);
                    }
                }
                ((r3, c3), v)
            }
            _ => (
                (rows, cols),
                rho.iter().map(|&x| encode_dn(x, q, offset)).collect(),
            ),
        };
        let p = img.join(format!("{file_stem}.jp2"));
        write_jp2(
            &p,
            &[&dn[..]],
            shape,
            &scaled(px.georef, res as f64),
            opts.tile_px,
        )
        .map_err(|e| werr(&p, e))?;
        image_files.push(rel);
    }
    let mut masks: Vec<(String, Option<u8>, String)> = Vec::new();
    if let Some(det) = px.detectors {
        write_detfoo(root, &granule, acq, det, px.georef, opts, &mut masks)?;
    }
    if level == Level::L2a {
        let scl: Vec<u8> = (0..rows * cols)
            .map(|i| {
                let (r, c) = (i / cols, i % cols);
                let nan = px.reflectance[6][[r, c]].is_nan();
                if nan {
                    0
                } else if px.cloud.is_some_and(|m| m[[r, c]] != 0) {
                    9
                } else if px.water.is_some_and(|m| m[[r, c]] != 0) {
                    6
                } else {
                    4
                }
            })
            .collect();
        let f = format!("{stem}_SCL_20m");
        let p = img.join(format!("{f}.jp2"));
        write_jp2(&p, &[&scl[..]], (rows, cols), px.georef, opts.tile_px)
            .map_err(|e| werr(&p, e))?;
        image_files.push(format!("GRANULE/{granule}/IMG_DATA/R20m/{f}"));
    }
    if acq.baseline_04() {
        // 60 m, three bands: opaque clouds, cirrus, snow (a 60 m pixel is cloud when any of
        // its 20 m pixels is).
        let (r3, c3) = (rows / 3, cols / 3);
        let mut opaque = vec![0u8; r3 * c3];
        if let Some(m) = px.cloud {
            for r in 0..rows {
                for c in 0..cols {
                    if m[[r, c]] != 0 {
                        opaque[(r / 3) * c3 + c / 3] = 1;
                    }
                }
            }
        }
        let zeros = vec![0u8; r3 * c3];
        let rel = format!("GRANULE/{granule}/QI_DATA/MSK_CLASSI_B00.jp2");
        let p = root.join(&rel);
        write_jp2(
            &p,
            &[&opaque[..], &zeros[..], &zeros[..]],
            (r3, c3),
            &scaled(px.georef, 60.0),
            opts.tile_px.min(1024),
        )
        .map_err(|e| werr(&p, e))?;
        masks.push(("MSK_CLASSI".into(), None, rel));
    } else {
        // Before 04.00: vector masks, the 60 m cloud cells as rectangles (a 60 m cell is cloud
        // when any of its 20 m pixels is, as for MSK_CLASSI); no cloud: the empty mask.
        use crate::product::gml_mask::{rectangles, write_gml, MaskFeature};
        let rel = format!("GRANULE/{granule}/QI_DATA/MSK_CLOUDS_B00.gml");
        let features: Vec<MaskFeature> = match px.cloud {
            Some(m) => {
                let cell = |r: usize, c: usize| {
                    (0..3).any(|dr| (0..3).any(|dc| m[[r * 3 + dr, c * 3 + dc]] != 0))
                };
                let origin = (px.georef.transform[0], px.georef.transform[3]);
                rectangles(cell, (rows / 3, cols / 3), origin, 60.0)
                    .into_iter()
                    .map(|ring| MaskFeature {
                        mask_type: "OPAQUE".into(),
                        rings: vec![ring],
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        let gml = write_gml("OPAQUE", acq.epsg, &features);
        let p = root.join(&rel);
        std::fs::write(&p, gml).map_err(|e| werr(&p, e))?;
        masks.push(("MSK_CLOUDS".into(), None, rel));
    }
    let mtd_name = level.metadata_name();
    let p = root.join(mtd_name);
    std::fs::write(&p, product_xml(name, acq, level, &image_files, &granule))
        .map_err(|e| werr(&p, e))?;
    let p = gdir.join("MTD_TL.xml");
    std::fs::write(&p, tile_xml(acq, level, (rows, cols), px.georef, &masks))
        .map_err(|e| werr(&p, e))?;
    let p = root.join("manifest.safe");
    std::fs::write(&p, manifest_xml(root, level)?).map_err(|e| werr(&p, e))?;
    Ok(())
}

/// The `MSK_DETFOO` mask of every written band, listed in `masks` with its `bandId`. From
/// baseline 04.00 `QI_DATA/MSK_DETFOO_<band>.jp2`: one byte layer at the band's resolution,
/// the detector index (each 10 m pixel its 20 m pixel's, each 60 m pixel its centre 20 m
/// pixel's); before, `QI_DATA/MSK_DETFOO_<band>.gml`: one `DETECTOR_FOOTPRINT` feature per
/// detector and rectangle of its 20 m pixels, `gml:id="detector_footprint-B12-07-0"` as the
/// processor names them.
fn write_detfoo(
    root: &Path,
    granule: &str,
    acq: &Acquisition,
    det: ArrayView2<u8>,
    georef: &GeoRef,
    opts: WriteOptions,
    masks: &mut Vec<(String, Option<u8>, String)>,
) -> Result<(), ProductError> {
    use crate::product::gml_mask::{rectangles, write_gml_with_ids, MaskFeature};
    let (rows, cols) = det.dim();
    for band in MSI_BANDS {
        let id = band_id(band).expect("an MSI band");
        let res = BAND_IDS[id as usize].1;
        if acq.baseline_04() {
            let (shape, v): ((usize, usize), Vec<u8>) = match res {
                10 => (
                    (rows * 2, cols * 2),
                    (0..rows * cols * 4)
                        .map(|i| det[[i / (cols * 2) / 2, i % (cols * 2) / 2]])
                        .collect(),
                ),
                60 => (
                    (rows / 3, cols / 3),
                    (0..rows * cols / 9)
                        .map(|i| det[[i / (cols / 3) * 3 + 1, i % (cols / 3) * 3 + 1]])
                        .collect(),
                ),
                _ => ((rows, cols), det.iter().copied().collect()),
            };
            let rel = format!("GRANULE/{granule}/QI_DATA/MSK_DETFOO_{band}.jp2");
            let p = root.join(&rel);
            write_jp2(
                &p,
                &[&v[..]],
                shape,
                &scaled(georef, res as f64),
                opts.tile_px,
            )
            .map_err(|e| werr(&p, e))?;
            masks.push(("MSK_DETFOO".into(), Some(id), rel));
        } else {
            let origin = (georef.transform[0], georef.transform[3]);
            let mut features = Vec::new();
            for d in 1..=crate::product::sentinel2_l1c::DETECTORS {
                let rings = rectangles(|r, c| det[[r, c]] == d, (rows, cols), origin, 20.0);
                for (k, ring) in rings.into_iter().enumerate() {
                    features.push((
                        format!("detector_footprint-{band}-{d:02}-{k}"),
                        MaskFeature {
                            mask_type: "DETECTOR_FOOTPRINT".into(),
                            rings: vec![ring],
                        },
                    ));
                }
            }
            let rel = format!("GRANULE/{granule}/QI_DATA/MSK_DETFOO_{band}.gml");
            let p = root.join(&rel);
            let gml = write_gml_with_ids(&format!("DetectorFootprint-{band}"), acq.epsg, &features);
            std::fs::write(&p, gml).map_err(|e| werr(&p, e))?;
            masks.push(("MSK_DETFOO".into(), Some(id), rel));
        }
    }
    Ok(())
}

/// The `dataObject` ID of a file below the SAFE root: the PSD's for the bands and metadata
/// (`IMG_DATA_Band_60m_1_Tile1_Data`: the n-th band of its resolution), else one made from
/// the file's name (ours).
fn data_object_id(rel: &str, level: Level) -> String {
    let lvl = match level {
        Level::L1c => "1C",
        Level::L2a => "2A",
    };
    let file = rel.rsplit('/').next().unwrap_or(rel);
    if file.starts_with("MTD_MSIL") {
        return format!("S2_Level-{lvl}_Product_Metadata");
    }
    if file == "MTD_TL.xml" {
        return format!("S2_Level-{lvl}_Tile1_Metadata");
    }
    if let Some(stem) = file.strip_suffix(".jp2") {
        let band = stem.rsplit('_').next().unwrap_or("");
        if let Some(id) = band_id(band).filter(|_| level == Level::L1c) {
            let res = BAND_IDS[id as usize].1;
            let n = BAND_IDS[..=id as usize]
                .iter()
                .filter(|(_, r)| *r == res)
                .count();
            return format!("IMG_DATA_Band_{res}m_{n}_Tile1_Data");
        }
    }
    file.replace(['.', '-'], "_")
}

/// `manifest.safe` listing every file below `root` with its size and MD5, as the PSD's XFDU
/// manifest does (the reader's completeness check compares sizes).
fn manifest_xml(root: &Path, level: Level) -> Result<String, ProductError> {
    let mut files = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((d, prefix)) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| werr(&d, e))? {
            let e = e.map_err(|e| werr(&d, e))?;
            let rel = format!("{prefix}{}", e.file_name().to_string_lossy());
            if e.path().is_dir() {
                stack.push((e.path(), format!("{rel}/")));
            } else {
                files.push(rel);
            }
        }
    }
    files.sort();
    let mut objects = String::new();
    for rel in &files {
        let p = root.join(rel);
        let bytes = std::fs::read(&p).map_err(|e| werr(&p, e))?;
        let mime = if rel.ends_with(".jp2") {
            "application/octet-stream"
        } else {
            "text/xml"
        };
        objects.push_str(&format!(
            "    <dataObject ID=\"{id}\">\n      <byteStream mimeType=\"{mime}\" size=\"{size}\">\n        \
             <fileLocation locatorType=\"URL\" href=\"./{rel}\"/>\n        \
             <checksum checksumName=\"MD5\">{md5}</checksum>\n      </byteStream>\n    </dataObject>\n",
            id = data_object_id(rel, level),
            size = bytes.len(),
            md5 = crate::notify::image::md5_hex(&bytes),
        ));
    }
    let lvl = match level {
        Level::L1c => "1C",
        Level::L2a => "2A",
    };
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xfdu:XFDU \
         xmlns:xfdu=\"urn:ccsds:schema:xfdu:1\" version=\"esa/safe/sentinel/1.1/sentinel-2/msi/archive_l{low}_user_product\">\n  \
         <informationPackageMap>\n    <xfdu:contentUnit unitType=\"Product_Level-{lvl}\" textInfo=\"SENTINEL-2 MSI Level-{lvl} User Product\"/>\n  \
         </informationPackageMap>\n  <dataObjectSection>\n{objects}  </dataObjectSection>\n</xfdu:XFDU>\n",
        low = lvl.to_ascii_lowercase(),
    ))
}

fn product_xml(
    name: &str,
    acq: &Acquisition,
    level: Level,
    image_files: &[String],
    granule: &str,
) -> String {
    let t = acq.sensing_time.format("%Y-%m-%dT%H:%M:%S%.3fZ");
    let (root, ns, lvl, ptype) = match level {
        Level::L1c => (
            "Level-1C_User_Product",
            "User_Product_Level-1C.xsd",
            "Level-1C",
            "S2MSI1C",
        ),
        Level::L2a => (
            "Level-2A_User_Product",
            "User_Product_Level-2A.xsd",
            "Level-2A",
            "S2MSI2A",
        ),
    };
    let files: String = image_files
        .iter()
        .map(|f| format!("              <IMAGE_FILE>{f}</IMAGE_FILE>\n"))
        .collect();
    let q = match level {
        Level::L1c => "    <QUANTIFICATION_VALUE unit=\"none\">10000</QUANTIFICATION_VALUE>\n"
            .to_string(),
        Level::L2a => "    <QUANTIFICATION_VALUES_LIST>\n      <BOA_QUANTIFICATION_VALUE unit=\"none\">10000</BOA_QUANTIFICATION_VALUE>\n      <AOT_QUANTIFICATION_VALUE unit=\"none\">1000.0</AOT_QUANTIFICATION_VALUE>\n      <WVP_QUANTIFICATION_VALUE unit=\"cm\">1000.0</WVP_QUANTIFICATION_VALUE>\n    </QUANTIFICATION_VALUES_LIST>\n".to_string(),
    };
    let offsets = if acq.baseline_04() {
        let (list, tag) = match level {
            Level::L1c => ("Radiometric_Offset_List", "RADIO_ADD_OFFSET"),
            Level::L2a => ("BOA_ADD_OFFSET_VALUES_LIST", "BOA_ADD_OFFSET"),
        };
        let items: String = (0..BAND_IDS.len())
            .map(|i| format!("      <{tag} band_id=\"{i}\">-1000</{tag}>\n"))
            .collect();
        format!("    <{list}>\n{items}    </{list}>\n")
    } else {
        String::new()
    };
    // Solar irradiances of S2A (PSD example product); S2B/S2C differ by < 3 %.
    const E0: [f64; 13] = [
        1884.69, 1959.66, 1823.24, 1512.06, 1424.64, 1287.61, 1162.08, 1041.63, 955.32, 812.92,
        367.15, 245.59, 85.25,
    ];
    let irr: String = E0
        .iter()
        .enumerate()
        .map(|(i, e)| {
            format!("          <SOLAR_IRRADIANCE bandId=\"{i}\" unit=\"W/m²/µm\">{e}</SOLAR_IRRADIANCE>\n")
        })
        .collect();
    let spectral: String = BAND_IDS
        .iter()
        .enumerate()
        .map(|(i, (b, res))| {
            format!(
                "        <Spectral_Information bandId=\"{i}\" physicalBand=\"{}\">\n          <RESOLUTION>{res}</RESOLUTION>\n        </Spectral_Information>\n",
                b.strip_prefix("B0").map(|n| format!("B{n}")).unwrap_or(b.to_string())
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<n1:{root} xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/{ns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <n1:General_Info>
    <Product_Info>
      <PRODUCT_START_TIME>{t}</PRODUCT_START_TIME>
      <PRODUCT_STOP_TIME>{t}</PRODUCT_STOP_TIME>
      <PRODUCT_URI>{name}.SAFE</PRODUCT_URI>
      <PROCESSING_LEVEL>{lvl}</PROCESSING_LEVEL>
      <PRODUCT_TYPE>{ptype}</PRODUCT_TYPE>
      <PROCESSING_BASELINE>{baseline}</PROCESSING_BASELINE>
      <GENERATION_TIME>{t}</GENERATION_TIME>
      <Datatake datatakeIdentifier="G{mission}_{dt}_{orbit:06}_N{nb}">
        <SPACECRAFT_NAME>{spacecraft}</SPACECRAFT_NAME>
        <DATATAKE_TYPE>INS-NOBS</DATATAKE_TYPE>
        <DATATAKE_SENSING_START>{t}</DATATAKE_SENSING_START>
        <SENSING_ORBIT_NUMBER>{rel}</SENSING_ORBIT_NUMBER>
        <SENSING_ORBIT_DIRECTION>DESCENDING</SENSING_ORBIT_DIRECTION>
      </Datatake>
      <Query_Options completeSingleTile="true">
        <PRODUCT_FORMAT>SAFE_COMPACT</PRODUCT_FORMAT>
      </Query_Options>
      <Product_Organisation>
        <Granule_List>
          <Granule datastripIdentifier="S2A_OPER_MSI_{lvl_short}_DS_STRF_{dt}_S{dt}_N{baseline}" granuleIdentifier="{granule}" imageFormat="JPEG2000">
{files}          </Granule>
        </Granule_List>
      </Product_Organisation>
    </Product_Info>
    <Product_Image_Characteristics>
      <Special_Values>
        <SPECIAL_VALUE_TEXT>NODATA</SPECIAL_VALUE_TEXT>
        <SPECIAL_VALUE_INDEX>0</SPECIAL_VALUE_INDEX>
      </Special_Values>
      <Special_Values>
        <SPECIAL_VALUE_TEXT>SATURATED</SPECIAL_VALUE_TEXT>
        <SPECIAL_VALUE_INDEX>65535</SPECIAL_VALUE_INDEX>
      </Special_Values>
{q}{offsets}      <Reflectance_Conversion>
        <U>1.0</U>
        <Solar_Irradiance_List>
{irr}        </Solar_Irradiance_List>
      </Reflectance_Conversion>
      <Spectral_Information_List>
{spectral}      </Spectral_Information_List>
      <REFERENCE_BAND>B1</REFERENCE_BAND>
    </Product_Image_Characteristics>
  </n1:General_Info>
  <n1:Quality_Indicators_Info>
    <Cloud_Coverage_Assessment>0.0</Cloud_Coverage_Assessment>
  </n1:Quality_Indicators_Info>
</n1:{root}>
"#,
        baseline = acq.baseline,
        nb = acq.baseline.replace('.', ""),
        mission = acq.mission,
        spacecraft = acq.spacecraft(),
        dt = acq.sensing_time.format("%Y%m%dT%H%M%S"),
        orbit = acq.absolute_orbit,
        rel = acq.relative_orbit,
        lvl_short = match level {
            Level::L1c => "L1C",
            Level::L2a => "L2A",
        },
    )
}

fn tile_xml(
    acq: &Acquisition,
    level: Level,
    (rows, cols): (usize, usize),
    georef: &GeoRef,
    masks: &[(String, Option<u8>, String)],
) -> String {
    let t = acq.sensing_time.format("%Y-%m-%dT%H:%M:%S%.3fZ");
    let (root, ns, lvl) = match level {
        Level::L1c => (
            "Level-1C_Tile_ID",
            "S2_PDI_Level-1C_Tile_Metadata.xsd",
            "L1C",
        ),
        Level::L2a => (
            "Level-2A_Tile_ID",
            "S2_PDI_Level-2A_Tile_Metadata.xsd",
            "L2A",
        ),
    };
    let (ulx, uly) = (georef.transform[0], georef.transform[3]);
    let sizes: String = [(10usize, 2usize, 1usize), (20, 1, 1), (60, 1, 3)]
        .iter()
        .map(|&(res, mul, div)| {
            format!(
                "        <Size resolution=\"{res}\">\n          <NROWS>{}</NROWS>\n          <NCOLS>{}</NCOLS>\n        </Size>\n",
                rows * mul / div,
                cols * mul / div
            )
        })
        .collect();
    let pos: String = [10, 20, 60]
        .iter()
        .map(|res| {
            format!(
                "        <Geoposition resolution=\"{res}\">\n          <ULX>{ulx}</ULX>\n          <ULY>{uly}</ULY>\n          <XDIM>{res}</XDIM>\n          <YDIM>-{res}</YDIM>\n        </Geoposition>\n"
            )
        })
        .collect();
    // A 23 × 23 sun-angle grid at 5 km steps, constant here (ours: the tile mean everywhere).
    let row = |v: f64| vec![format!("{v:.3}"); 23].join(" ");
    let grid = |v: f64| -> String {
        (0..23)
            .map(|_| format!("              <VALUES>{}</VALUES>\n", row(v)))
            .collect()
    };
    let masks: String = masks
        .iter()
        .map(|(t, b, f)| match b {
            Some(b) => {
                format!("      <MASK_FILENAME bandId=\"{b}\" type=\"{t}\">{f}</MASK_FILENAME>\n")
            }
            None => format!("      <MASK_FILENAME type=\"{t}\">{f}</MASK_FILENAME>\n"),
        })
        .collect();
    let zone = acq.epsg % 100;
    let hemi = if acq.epsg / 100 == 326 { "N" } else { "S" };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<n1:{root} xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/{ns}">
  <n1:General_Info>
    <TILE_ID metadataLevel="Brief">{mission}_OPER_MSI_{lvl}_TL_2APS_{dt}_A{orbit:06}_T{tile}_N{nb}</TILE_ID>
    <DATASTRIP_ID metadataLevel="Standard">{mission}_OPER_MSI_{lvl}_DS_2APS_{dt}_S{dt}_N{nb}</DATASTRIP_ID>
    <DOWNLINK_PRIORITY metadataLevel="Standard">NOMINAL</DOWNLINK_PRIORITY>
    <SENSING_TIME metadataLevel="Standard">{t}</SENSING_TIME>
  </n1:General_Info>
  <n1:Geometric_Info>
    <Tile_Geocoding metadataLevel="Brief">
      <HORIZONTAL_CS_NAME>WGS84 / UTM zone {zone}{hemi}</HORIZONTAL_CS_NAME>
      <HORIZONTAL_CS_CODE>EPSG:{epsg}</HORIZONTAL_CS_CODE>
{sizes}{pos}    </Tile_Geocoding>
    <Tile_Angles metadataLevel="Standard">
      <Sun_Angles_Grid>
        <Zenith>
          <COL_STEP unit="m">5000</COL_STEP>
          <ROW_STEP unit="m">5000</ROW_STEP>
          <Values_List>
{zg}          </Values_List>
        </Zenith>
        <Azimuth>
          <COL_STEP unit="m">5000</COL_STEP>
          <ROW_STEP unit="m">5000</ROW_STEP>
          <Values_List>
{ag}          </Values_List>
        </Azimuth>
      </Sun_Angles_Grid>
      <Mean_Sun_Angle>
        <ZENITH_ANGLE unit="deg">{sz}</ZENITH_ANGLE>
        <AZIMUTH_ANGLE unit="deg">{sa}</AZIMUTH_ANGLE>
      </Mean_Sun_Angle>
    </Tile_Angles>
  </n1:Geometric_Info>
  <n1:Quality_Indicators_Info metadataLevel="Standard">
    <Image_Content_QI>
      <CLOUDY_PIXEL_PERCENTAGE>0.0</CLOUDY_PIXEL_PERCENTAGE>
    </Image_Content_QI>
    <Pixel_Level_QI geometry="FULL_RESOLUTION">
{masks}    </Pixel_Level_QI>
  </n1:Quality_Indicators_Info>
</n1:{root}>
"#,
        mission = acq.mission,
        dt = acq.sensing_time.format("%Y%m%dT%H%M%S"),
        orbit = acq.absolute_orbit,
        tile = acq.tile,
        nb = acq.baseline.replace('.', ""),
        epsg = acq.epsg,
        zg = grid(acq.sun_zenith_deg),
        ag = grid(acq.sun_azimuth_deg),
        sz = acq.sun_zenith_deg,
        sa = acq.sun_azimuth_deg,
    )
}
