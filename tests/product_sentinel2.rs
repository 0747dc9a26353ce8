//! The Sentinel-2 reader on every layout a user may hand it (the `.SAFE` folder, its `.zip`,
//! `MTD_MSIL1C.xml`, the tile's `MTD_TL.xml`; L1C of baseline ≥ 04.00 and older, L2A), written by
//! our writer in ESA's layout with JP2 bands through GDAL's JP2OpenJPEG, checked bit for bit
//! against the generator's own values; and its errors on bad products (a band missing from the
//! folder or the XML, an XML whose sizes do not match its bands, a truncated JP2 or zip, a tile
//! of another product), each naming the file.

use std::path::{Path, PathBuf};

use ndarray::Array2;
use strawfire::product::sentinel2_l1c::{self, Level, MSI_BANDS};
use strawfire::product::{identify, open, FileRole, ProductKind};
use strawfire::synth::sentinel2::{generate, PlantedFire, Sentinel2Spec, WriteOptions};

const ROWS: usize = 60;
const COLS: usize = 75;

fn spec() -> Sentinel2Spec {
    // Seed 164: clouds on an eighth of the tile and a river.
    let mut s = Sentinel2Spec::day(ROWS, COLS, 164);
    // A fire too hot for 16 bits in B12 (saturated), and a modest one.
    s.fires = vec![
        PlantedFire {
            row: 30,
            col: 40,
            area_m2: 200.0,
            temp_k: 1200.0,
        },
        PlantedFire {
            row: 10,
            col: 10,
            area_m2: 5.0,
            temp_k: 900.0,
        },
    ];
    s
}

fn opts(level: Level, zip: bool) -> WriteOptions {
    WriteOptions {
        level,
        zip,
        tile_px: 32,
    }
}

/// Bands equal with NaN = NaN.
fn same(a: &Array2<f32>, b: ndarray::ArrayView2<f32>) -> bool {
    a.dim() == b.dim()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

fn check_scene(s: &sentinel2_l1c::Sentinel2Scene, level: Level) {
    let synth = generate(&spec());
    let want = synth.as_read(level);
    let g = &s.granule;
    assert_eq!(g.kind, ProductKind::Sentinel2);
    assert_eq!(g.shape, (ROWS, COLS));
    for (b, name) in MSI_BANDS.iter().enumerate() {
        assert!(same(&want[b], g.band(name).unwrap()), "band {name}");
    }
    // The saturated pixel reads as the band's largest reflectance, (65535 − 1000) / 10000.
    let max = g.saturation["B12"];
    assert!((max - 6.4535).abs() < 1e-4, "{max}");
    assert_eq!(g.band("B12").unwrap()[[30, 40]], max);
    assert_eq!(g.meta.satellite.as_deref(), Some("S2A"));
    assert_eq!(g.meta.sensor.as_deref(), Some("MSI"));
    assert_eq!(g.meta.acq_time, Some(synth.spec.sensing_time));
    assert!((s.sun_elevation_deg() - 68.0).abs() < 1e-9);
    let strawfire::product::Geometry::Grid(gr) = &g.geometry else {
        panic!("a grid")
    };
    assert_eq!(gr.transform, synth.georef.transform);
    match level {
        Level::L1c => {
            assert_eq!(
                s.cloud.as_ref().unwrap().view(),
                synth.cloud_as_read().view()
            );
            assert!(g.water.is_none());
        }
        Level::L2a => {
            assert_eq!(s.cloud.as_ref().unwrap().view(), synth.cloud.view());
            // Water where SCL says so (cloud wins over water in SCL, as the writer lays it).
            let w = g.water.as_ref().unwrap();
            let want_w = Array2::from_shape_fn((ROWS, COLS), |(r, c)| {
                (synth.water[[r, c]] != 0 && synth.cloud[[r, c]] == 0) as u8
            });
            assert_eq!(w.view(), want_w.view());
        }
    }
    assert!(synth.cloud.iter().any(|&c| c != 0) && synth.water.iter().any(|&c| c != 0));
}

fn written(dir: &Path, level: Level, zip: bool) -> PathBuf {
    generate(&spec()).write(dir, opts(level, zip)).unwrap()
}

fn mtd_tl(safe: &Path) -> PathBuf {
    let g = std::fs::read_dir(safe.join("GRANULE"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    g.join("MTD_TL.xml")
}

fn band_file(safe: &Path, band: &str) -> PathBuf {
    let img = mtd_tl(safe).parent().unwrap().join("IMG_DATA");
    std::fs::read_dir(&img)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(&format!("_{band}.jp2")))
        .unwrap()
}

#[test]
fn an_l1c_safe_folder_reads_bit_for_bit_from_every_entry_point() {
    let dir = tempfile::tempdir().unwrap();
    let safe = written(dir.path(), Level::L1c, false);
    let name = safe.file_name().unwrap().to_str().unwrap().to_string();
    assert!(name.starts_with("S2A_MSIL1C_20240610T030541_N0510_R075_T50SLH_"));
    assert!(name.ends_with(".SAFE"));
    let s = sentinel2_l1c::read(&safe).unwrap();
    check_scene(&s, Level::L1c);
    assert_eq!(s.mtd.offsets[&12], -1000.0);
    assert_eq!(s.mtd.quantification, 10000.0);
    // Every way in identifies the same product and reads the same granule.
    let mtd = safe.join("MTD_MSIL1C.xml");
    let tl = mtd_tl(&safe);
    for p in [&safe, &mtd, &tl, &dir.path().to_path_buf()] {
        let id = identify(p).unwrap();
        assert_eq!(id.kind, ProductKind::Sentinel2, "{}", p.display());
        assert_eq!(id.role, FileRole::Sentinel2Product);
        assert_eq!(id.granule, name.trim_end_matches(".SAFE"));
        let g = open(std::slice::from_ref(p)).unwrap();
        assert_eq!(g.band("B12").unwrap(), s.granule.band("B12").unwrap());
    }
    // A SAFE folder under another name is still found by its metadata.
    let renamed = dir.path().join("download");
    std::fs::rename(&safe, &renamed).unwrap();
    assert_eq!(identify(&renamed).unwrap().kind, ProductKind::Sentinel2);
    check_scene(&sentinel2_l1c::read(&renamed).unwrap(), Level::L1c);
}

#[test]
fn a_zip_reads_in_place_like_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let z = written(dir.path(), Level::L1c, true);
    assert!(z.extension().is_some_and(|e| e == "zip"));
    // Only the zip is left: nothing was unpacked.
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1);
    let s = sentinel2_l1c::read(&z).unwrap();
    check_scene(&s, Level::L1c);
    assert!(s.granule.files[2].to_string_lossy().starts_with("/vsizip/"));
    assert_eq!(identify(&z).unwrap().kind, ProductKind::Sentinel2);
    // Renamed without the product name, still a Sentinel-2 zip by its contents.
    let other = dir.path().join("download.zip");
    std::fs::rename(&z, &other).unwrap();
    assert_eq!(identify(&other).unwrap().kind, ProductKind::Sentinel2);
}

#[test]
fn an_l2a_product_reads_its_20m_bands_and_scene_classification() {
    let dir = tempfile::tempdir().unwrap();
    let safe = written(dir.path(), Level::L2a, false);
    assert!(safe.join("MTD_MSIL2A.xml").is_file());
    let s = sentinel2_l1c::read(&safe).unwrap();
    assert_eq!(s.mtd.level, Level::L2a);
    check_scene(&s, Level::L2a);
}

#[test]
fn a_product_before_baseline_04_has_no_offset_and_its_gml_cloud_mask_rasterised() {
    let dir = tempfile::tempdir().unwrap();
    let mut sp = spec();
    sp.baseline = "02.09".into();
    let synth = generate(&sp);
    let safe = synth.write(dir.path(), opts(Level::L1c, false)).unwrap();
    assert!(safe.to_string_lossy().contains("_N0209_"));
    let s = sentinel2_l1c::read(&safe).unwrap();
    assert!(s.mtd.offsets.is_empty());
    let gml = &s.tile.masks["MSK_CLOUDS"];
    assert!(gml.ends_with("MSK_CLOUDS_B00.gml"));
    // The polygons on the 20 m grid are MSK_CLASSI's 60 m cells, cloud for cloud.
    let cloud = s.cloud.as_ref().expect("the GML cloud mask is read");
    let want_cloud = synth.cloud_as_read();
    assert!(want_cloud.iter().any(|&c| c != 0), "the tile has clouds");
    assert_eq!(cloud.view(), want_cloud.view());
    let want = synth.as_read(Level::L1c);
    assert!(same(&want[4], s.granule.band("B8A").unwrap()));
    // Without the offset the saturated reflectance is 65535 / 10000.
    assert!((s.granule.saturation["B12"] - 6.5535).abs() < 1e-4);
    // The zip of the same product gives the same mask.
    let zdir = dir.path().join("z");
    std::fs::create_dir_all(&zdir).unwrap();
    let zip = synth.write(&zdir, opts(Level::L1c, true)).unwrap();
    let z = sentinel2_l1c::read(&zip).unwrap();
    assert_eq!(z.cloud.as_ref().unwrap().view(), want_cloud.view());

    // A mask in another UTM zone than the tile: refused naming the mask.
    let path = safe.join(gml);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("EPSG::32650", "EPSG::32651")).unwrap();
    let err = err_of(&safe);
    assert!(
        err.contains("MSK_CLOUDS_B00.gml") && err.contains("EPSG:32651"),
        "{err}"
    );
    // A cut-off mask: an XML error naming it.
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let err = err_of(&safe);
    assert!(err.contains("MSK_CLOUDS_B00.gml"), "{err}");
    // The empty mask (no cloud): a mask of zeros, not an unknown one.
    let mut clear = sp.clone();
    clear.clouds = false;
    let cdir = dir.path().join("clear");
    std::fs::create_dir_all(&cdir).unwrap();
    let c = generate(&clear)
        .write(&cdir, opts(Level::L1c, false))
        .unwrap();
    let s = sentinel2_l1c::read(&c).unwrap();
    assert!(s.cloud.as_ref().unwrap().as_slice().iter().all(|&v| v == 0));
}

fn err_of(p: &Path) -> String {
    match sentinel2_l1c::read(p) {
        Ok(_) => panic!("{} read without error", p.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_products_fail_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // A band file missing from the folder.
    let safe = written(dir.path(), Level::L1c, false);
    let b11 = band_file(&safe, "B11");
    std::fs::remove_file(&b11).unwrap();
    let err = err_of(&safe);
    assert!(
        err.contains("band B11") && err.contains(b11.file_name().unwrap().to_str().unwrap()),
        "{err}"
    );
    std::fs::remove_dir_all(&safe).unwrap();

    // A band missing from the XML.
    let safe = written(dir.path(), Level::L1c, false);
    let mtd = safe.join("MTD_MSIL1C.xml");
    let text = std::fs::read_to_string(&mtd).unwrap();
    let cut: String = text
        .lines()
        .filter(|l| !l.contains("_B8A</IMAGE_FILE>"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&mtd, cut).unwrap();
    let err = err_of(&safe);
    assert!(
        err.contains("B8A") && err.contains("MTD_MSIL1C.xml"),
        "{err}"
    );
    std::fs::write(&mtd, &text).unwrap();

    // Sizes in MTD_TL.xml that do not match the bands.
    let tl = mtd_tl(&safe);
    let t = std::fs::read_to_string(&tl).unwrap();
    let sized = |r20: usize| {
        t.replace(
            &format!("<NROWS>{ROWS}</NROWS>"),
            &format!("<NROWS>{r20}</NROWS>"),
        )
        .replace(
            &format!("<NROWS>{}</NROWS>", ROWS * 2),
            &format!("<NROWS>{}</NROWS>", r20 * 2),
        )
        .replace(
            &format!("<NROWS>{}</NROWS>", ROWS / 3),
            &format!("<NROWS>{}</NROWS>", r20 / 3),
        )
    };
    std::fs::write(&tl, sized(66)).unwrap();
    let err = err_of(&safe);
    assert!(
        err.contains(".jp2") && err.contains("MTD_TL.xml says"),
        "{err}"
    );
    // Sizes that disagree among themselves.
    std::fs::write(
        &tl,
        t.replace(&format!("<NROWS>{ROWS}</NROWS>"), "<NROWS>66</NROWS>"),
    )
    .unwrap();
    let err = err_of(&safe);
    assert!(err.contains("MTD_TL.xml") && err.contains("Size"), "{err}");
    // A tile id of another tile.
    std::fs::write(&tl, t.replace("_T50SLH_", "_T51STR_")).unwrap();
    let err = err_of(&safe);
    assert!(err.contains("TILE_ID") && err.contains("50SLH"), "{err}");
    std::fs::write(&tl, &t).unwrap();
    // The metadata itself cut short.
    std::fs::write(&mtd, &text[..text.len() / 2]).unwrap();
    let err = err_of(&safe);
    assert!(
        err.contains("MTD_MSIL1C.xml") && err.contains("XML"),
        "{err}"
    );
    std::fs::write(&mtd, &text).unwrap();

    // A truncated JP2.
    let b12 = band_file(&safe, "B12");
    let bytes = std::fs::read(&b12).unwrap();
    std::fs::write(&b12, &bytes[..bytes.len() / 2]).unwrap();
    let err = err_of(&safe);
    assert!(
        err.contains(b12.file_name().unwrap().to_str().unwrap()),
        "{err}"
    );
    std::fs::remove_dir_all(&safe).unwrap();

    // A truncated zip.
    let z = written(dir.path(), Level::L1c, true);
    let bytes = std::fs::read(&z).unwrap();
    std::fs::write(&z, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let err = err_of(&z);
    assert!(err.contains(".zip") && err.contains("truncated"), "{err}");

    // Not a product at all.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = err_of(&empty);
    assert!(err.contains("not a Sentinel-2 product"), "{err}");
}

/// A real product's metadata (Sentinel-2B, baseline 05.09, tile 34UCF; crops of the files ESA
/// delivered, from GDAL's test data: see tests/fixtures/PROVENANCE.md).
fn real_safe() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "tests/fixtures/sentinel2/S2B_MSIL1C_20230823T095559_N0509_R122_T34UCF_20230823T120234.SAFE",
    )
}

#[test]
fn the_metadata_of_a_real_baseline_05_09_product_parses() {
    let safe = real_safe();
    let path = safe.join("MTD_MSIL1C.xml");
    let m =
        sentinel2_l1c::parse_product_mtd(&std::fs::read_to_string(&path).unwrap(), &path).unwrap();
    assert_eq!(m.level, Level::L1c);
    assert_eq!(m.baseline, "05.09");
    assert!(m.baseline_04());
    assert_eq!(m.satellite_code(), "S2B");
    assert_eq!(m.start_time.to_rfc3339(), "2023-08-23T09:55:59.024+00:00");
    assert_eq!(m.quantification, 10000.0);
    assert_eq!(m.offsets.len(), 13);
    assert!(m.offsets.values().all(|&o| o == -1000.0));
    assert_eq!((m.nodata, m.saturated), (0, 65535));
    // Thirteen bands and the true-colour image; every band the detector reads is named.
    assert_eq!(m.image_files.len(), 14);
    for b in MSI_BANDS {
        let f = m.image_file(b).unwrap();
        assert!(f.ends_with(&format!("T34UCF_20230823T095559_{b}")), "{f}");
    }
    assert_eq!(
        m.granule_dir().as_deref(),
        Some("GRANULE/L1C_T34UCF_A033753_20230823T095553")
    );
    let parts = sentinel2_l1c::name_parts(&m.product_uri).unwrap();
    assert_eq!(
        (parts.tile.as_str(), parts.baseline.as_str()),
        ("34UCF", "05.09")
    );

    // The tile metadata: GDAL's copy has its Tile_Angles removed, so the reader names the
    // missing sun angles; with them put back, the grid and masks are the product's.
    let path = safe.join("GRANULE/L1C_T34UCF_A033753_20230823T095553/MTD_TL.xml");
    let text = std::fs::read_to_string(&path).unwrap();
    let err = sentinel2_l1c::parse_tile_mtd(&text, &path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Mean_Sun_Angle") && err.contains("MTD_TL.xml"),
        "{err}"
    );
    let err = sentinel2_l1c::locate(&safe).unwrap_err().to_string();
    assert!(err.contains("Mean_Sun_Angle"), "{err}");
    let with_sun = text.replace(
        "<!-- removed -->",
        "<Mean_Sun_Angle><ZENITH_ANGLE unit=\"deg\">42.1</ZENITH_ANGLE>\
         <AZIMUTH_ANGLE unit=\"deg\">160.2</AZIMUTH_ANGLE></Mean_Sun_Angle>",
    );
    let t = sentinel2_l1c::parse_tile_mtd(&with_sun, &path).unwrap();
    assert_eq!(t.epsg, 32634);
    assert_eq!(
        t.tile_id,
        "S2B_OPER_MSI_L1C_TL_2BPS_20230823T120234_A033753_T34UCF_N05.09"
    );
    assert_eq!(
        t.sensing_time.to_rfc3339(),
        "2023-08-23T10:05:35.271949+00:00"
    );
    assert_eq!(t.sizes[&10], (10980, 10980));
    assert_eq!(t.sizes[&20], (5490, 5490));
    assert_eq!(t.sizes[&60], (1830, 1830));
    assert_eq!(
        t.transform_20m(),
        Some([300000.0, 20.0, 0.0, 6100020.0, 0.0, -20.0])
    );
    assert!(t.masks["MSK_CLASSI"].ends_with("QI_DATA/MSK_CLASSI_B00.jp2"));
    // The first of each type: band 0's detector footprint.
    assert!(t.masks["MSK_DETFOO"].ends_with("MSK_DETFOO_B01.jp2"));
    // Every band's detector footprint by its bandId: B8A is band 8, B12 band 12.
    assert_eq!(t.detfoo.len(), 13);
    assert!(t.detfoo[&8].ends_with("QI_DATA/MSK_DETFOO_B8A.jp2"));
    assert!(t.detfoo[&12].ends_with("QI_DATA/MSK_DETFOO_B12.jp2"));
    // A footprint mask whose bandId is no band: refused naming the file and the value.
    let bad = with_sun.replace(
        "<MASK_FILENAME bandId=\"12\" type=\"MSK_DETFOO\">",
        "<MASK_FILENAME bandId=\"13\" type=\"MSK_DETFOO\">",
    );
    let err = sentinel2_l1c::parse_tile_mtd(&bad, &path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("MTD_TL.xml") && err.contains("MSK_DETFOO_B12.jp2") && err.contains("13"),
        "{err}"
    );

    // The manifest: sizes as listed, checksums SHA3-256 (not MD5) from this baseline.
    let path = safe.join("manifest.safe");
    let entries =
        sentinel2_l1c::parse_manifest(&std::fs::read_to_string(&path).unwrap(), &path).unwrap();
    assert_eq!(entries.len(), 7);
    let b12 = entries
        .iter()
        .find(|e| e.path.ends_with("_B12.jp2"))
        .unwrap();
    assert_eq!(b12.size, Some(26546087));
    assert!(b12
        .path
        .starts_with("GRANULE/L1C_T34UCF_A033753_20230823T095553/IMG_DATA/"));
    assert!(entries.iter().all(|e| e.md5.is_none()));
    let tl = entries
        .iter()
        .find(|e| e.path.ends_with("MTD_TL.xml"))
        .unwrap();
    assert_eq!(
        tl.size,
        Some(624650),
        "the full tile metadata, angles included"
    );
}

/// The tile of [`spec`] with no detector over its first 12 columns (a swath edge) and over a
/// slanted gap between two detectors, and a fire planted in that gap.
fn edge_of_swath(baseline: &str) -> strawfire::synth::sentinel2::Sentinel2Synth {
    let mut sp = spec();
    sp.baseline = baseline.into();
    sp.fires.push(PlantedFire {
        row: 45,
        col: 55,
        area_m2: 300.0,
        temp_k: 1100.0,
    });
    let mut synth = generate(&sp);
    for ((r, c), d) in synth.detectors.indexed_iter_mut() {
        if c < 12 || (c + r / 5 >= 62 && c + r / 5 < 66) {
            *d = 0;
        }
    }
    synth
}

fn qi_file(safe: &Path, name: &str) -> PathBuf {
    mtd_tl(safe).parent().unwrap().join("QI_DATA").join(name)
}

#[test]
fn detector_footprints_make_no_data_where_no_detector_saw_the_ground() {
    for (baseline, ext) in [("05.10", "jp2"), ("02.09", "gml")] {
        for zip in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let synth = edge_of_swath(baseline);
            let p = synth.write(dir.path(), opts(Level::L1c, zip)).unwrap();
            let s = sentinel2_l1c::read(&p).unwrap();
            let what = format!("baseline {baseline}, zip {zip}");
            // Every written band's mask is listed by bandId, in the baseline's format.
            assert_eq!(s.tile.detfoo.len(), 7, "{what}");
            assert!(
                s.tile.detfoo[&12].ends_with(&format!("QI_DATA/MSK_DETFOO_B12.{ext}")),
                "{what}"
            );
            let fp = s.footprint.as_ref().expect("the masks are read");
            let want_fp = synth.detectors.mapv(|d| (d != 0) as u8);
            assert_eq!(fp.view(), want_fp.view(), "{what}");
            let outside = want_fp.iter().filter(|&&v| v == 0).count();
            assert!(outside > 12 * ROWS, "{what}: {outside}");
            // Outside: NaN in every band, though the DNs there are land and a fire; inside:
            // the values as written, bit for bit.
            let want = synth.as_read(Level::L1c);
            for (b, name) in MSI_BANDS.iter().enumerate() {
                let got = s.granule.band(name).unwrap();
                assert!(same(&want[b], got), "{what}: band {name}");
                for ((r, c), &v) in got.indexed_iter() {
                    assert_eq!(v.is_nan(), want_fp[[r, c]] == 0 || want[b][[r, c]].is_nan());
                }
            }
            let b12 = s.granule.band("B12").unwrap();
            assert!(b12[[45, 55]].is_nan() && !b12[[30, 40]].is_nan(), "{what}");
        }
    }
    // A tile without footprint masks (as our products before this reader): read as before.
    let dir = tempfile::tempdir().unwrap();
    let mut sp = spec();
    sp.detector_masks = false;
    let safe = generate(&sp)
        .write(dir.path(), opts(Level::L1c, false))
        .unwrap();
    let s = sentinel2_l1c::read(&safe).unwrap();
    assert!(s.footprint.is_none() && s.tile.detfoo.is_empty());
    check_scene(&s, Level::L1c);
}

#[test]
fn a_missing_or_bad_footprint_mask_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let synth = edge_of_swath("05.10");
    let safe = synth.write(dir.path(), opts(Level::L1c, false)).unwrap();
    let b12 = qi_file(&safe, "MSK_DETFOO_B12.jp2");
    let bytes = std::fs::read(&b12).unwrap();
    // Listed in MTD_TL.xml but not in the folder.
    std::fs::remove_file(&b12).unwrap();
    let err = err_of(&safe);
    assert!(
        err.contains("MSK_DETFOO_B12.jp2") && err.contains("detector footprint mask of band B12"),
        "{err}"
    );
    // Cut short.
    std::fs::write(&b12, &bytes[..bytes.len() / 2]).unwrap();
    let err = err_of(&safe);
    assert!(err.contains("MSK_DETFOO_B12.jp2"), "{err}");
    // Of another band's resolution (B02's 10 m mask in B12's place).
    std::fs::copy(qi_file(&safe, "MSK_DETFOO_B02.jp2"), &b12).unwrap();
    let err = err_of(&safe);
    assert!(
        err.contains("MSK_DETFOO_B12.jp2") && err.contains("[120, 150]"),
        "{err}"
    );
    // A value that is no detector.
    let georef = strawfire::raster::GeoRef {
        transform: synth.georef.transform,
        crs_wkt: synth.georef.crs_wkt.clone(),
    };
    let mut v = vec![3u8; ROWS * COLS];
    v[7] = 13;
    std::fs::remove_file(&b12).unwrap();
    strawfire::raster::band::write_jp2(&b12, &[&v[..]], (ROWS, COLS), &georef, 32).unwrap();
    let err = err_of(&safe);
    assert!(
        err.contains("MSK_DETFOO_B12.jp2") && err.contains("13 is not a detector"),
        "{err}"
    );
    // Put back, the product reads again.
    std::fs::remove_file(&b12).unwrap();
    std::fs::write(&b12, &bytes).unwrap();
    assert!(sentinel2_l1c::read(&safe).is_ok());

    // Before baseline 04.00: a GML in another zone, cut short, or of other features.
    let gdir = dir.path().join("gml");
    std::fs::create_dir_all(&gdir).unwrap();
    let safe = edge_of_swath("02.09")
        .write(&gdir, opts(Level::L1c, false))
        .unwrap();
    let gml = qi_file(&safe, "MSK_DETFOO_B11.gml");
    let text = std::fs::read_to_string(&gml).unwrap();
    assert!(
        text.contains("gml:id=\"detector_footprint-B11-01-0\""),
        "{text}"
    );
    std::fs::write(&gml, text.replace("EPSG::32650", "EPSG::32651")).unwrap();
    let err = err_of(&safe);
    assert!(
        err.contains("MSK_DETFOO_B11.gml") && err.contains("EPSG:32651"),
        "{err}"
    );
    std::fs::write(&gml, &text[..text.len() / 2]).unwrap();
    let err = err_of(&safe);
    assert!(err.contains("MSK_DETFOO_B11.gml"), "{err}");
    std::fs::write(&gml, text.replace(">DETECTOR_FOOTPRINT<", ">OPAQUE<")).unwrap();
    let err = err_of(&safe);
    assert!(
        err.contains("MSK_DETFOO_B11.gml") && err.contains("DETECTOR_FOOTPRINT"),
        "{err}"
    );
    std::fs::remove_file(&gml).unwrap();
    let err = err_of(&safe);
    assert!(
        err.contains("MSK_DETFOO_B11.gml") && err.contains("band B11"),
        "{err}"
    );
}
