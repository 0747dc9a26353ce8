//! The Landsat 8/9 Collection 2 Level-1 reader on every layout a user may hand it (a folder, the
//! `.tar`, the MTL `.txt` or `.json`, a band file), written by our writer in USGS's layout, and
//! its errors on bad products (a missing band, an MTL of another product or size, a truncated
//! TIF or tar), each naming the file.

use std::path::{Path, PathBuf};

use chrono::TimeZone;
use ndarray::Array2;
use strawfire::product::landsat_c2l1::{self, qa_pixel};
use strawfire::product::write::landsat_c2l1::{self as writer, Acquisition, Pixels, WriteOptions};
use strawfire::product::{identify, ProductKind};
use strawfire::raster::GeoRef;

const ROWS: usize = 40;
const COLS: usize = 50;

fn georef() -> GeoRef {
    let srs = gdal::spatial_ref::SpatialRef::from_epsg(32650).unwrap();
    GeoRef {
        transform: [400_000.0, 30.0, 0.0, 3_780_000.0, 0.0, -30.0],
        crs_wkt: srs.to_wkt().unwrap(),
    }
}

fn acq(sun_elevation_deg: f64) -> Acquisition {
    Acquisition {
        spacecraft: 9,
        wrs_path: 123,
        wrs_row: 36,
        acq_time: chrono::Utc
            .with_ymd_and_hms(2024, 6, 10, 2, 57, 21)
            .unwrap(),
        sun_elevation_deg,
        sun_azimuth_deg: 110.25,
        utm_zone: 50,
    }
}

/// Bands with a gradient, a fill corner, a saturated pixel in B7 at (5, 6), a cloud square and
/// a water strip in QA_PIXEL.
fn pixels() -> ([Array2<f32>; 7], Array2<u16>) {
    let bands: [Array2<f32>; 7] = std::array::from_fn(|b| {
        Array2::from_shape_fn((ROWS, COLS), |(r, c)| {
            if r < 2 && c < 3 {
                f32::NAN
            } else {
                0.05 + 0.03 * b as f32 + 0.001 * (r + c) as f32
            }
        })
    });
    let mut bands = bands;
    bands[6][[5, 6]] = 2.5;
    let qa = Array2::from_shape_fn((ROWS, COLS), |(r, c)| {
        let mut q = 0;
        if (10..15).contains(&r) && (10..15).contains(&c) {
            q |= qa_pixel::CLOUD;
        }
        if c >= 45 {
            q |= qa_pixel::WATER;
        }
        q
    });
    (bands, qa)
}

fn write(dir: &Path, opts: WriteOptions, sun: f64) -> PathBuf {
    let (bands, qa) = pixels();
    let g = georef();
    let px = Pixels {
        reflectance: std::array::from_fn(|i| bands[i].view()),
        qa_pixel: qa.view(),
        georef: &g,
    };
    writer::write(dir, &acq(sun), &px, opts).unwrap()
}

fn id() -> String {
    acq(50.0).product_id()
}

#[test]
fn a_folder_reads_as_toa_reflectance_with_fill_saturation_cloud_and_water() {
    let dir = tempfile::tempdir().unwrap();
    let folder = write(dir.path(), WriteOptions::default(), 50.0);
    assert_eq!(
        folder.file_name().unwrap().to_str().unwrap(),
        "LC09_L1TP_123036_20240610_20240620_02_T1"
    );
    let s = landsat_c2l1::read(&folder).unwrap();
    let g = &s.granule;
    assert_eq!(g.kind, ProductKind::LandsatC2L1);
    assert_eq!(g.shape, (ROWS, COLS));
    assert_eq!(g.meta.satellite.as_deref(), Some("L9"));
    assert_eq!(g.meta.sensor.as_deref(), Some("OLI"));
    assert_eq!(
        g.meta.acq_time.unwrap().to_rfc3339(),
        "2024-06-10T02:57:21+00:00"
    );
    assert_eq!((s.mtl.wrs_path, s.mtl.wrs_row), (123, 36));
    let (bands, _) = pixels();
    for (i, name) in landsat_c2l1::OLI_BANDS.iter().enumerate() {
        let b = g.band(name).unwrap();
        assert!(b[[0, 0]].is_nan(), "{name} fill");
        let want = bands[i][[20, 30]];
        // One DN is 2e-5 / sin(50°) in reflectance.
        assert!(
            (b[[20, 30]] - want).abs() < 3e-5,
            "{name}: {} vs {want}",
            b[[20, 30]]
        );
    }
    // Saturated B7: the band's maximum (M·65535 + A) / sin θ.
    let max = (2.0e-5 * 65535.0 - 0.1) / 50f64.to_radians().sin();
    assert!((g.band("B7").unwrap()[[5, 6]] as f64 - max).abs() < 1e-5);
    assert!((g.saturation["B7"] as f64 - max).abs() < 1e-5);
    let cloud = s.cloud.as_ref().unwrap().view();
    assert_eq!((cloud[[12, 12]], cloud[[20, 20]]), (1, 0));
    let water = g.water.as_ref().unwrap().view();
    assert_eq!((water[[20, 46]], water[[20, 20]]), (1, 0));
    assert!(s.radsat);
}

#[test]
fn folded_saturated_dns_read_as_the_maximum_through_qa_radsat() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WriteOptions {
        fold_saturated: true,
        ..WriteOptions::default()
    };
    let folder = write(dir.path(), opts, 50.0);
    let s = landsat_c2l1::read(&folder).unwrap();
    assert!(s.granule.band("B7").unwrap()[[5, 6]] > 1.5);
    // Without QA_RADSAT the folded DN reads as the dark value it is.
    std::fs::remove_file(folder.join(format!("{}_QA_RADSAT.TIF", id()))).unwrap();
    let s = landsat_c2l1::read(&folder).unwrap();
    assert!(!s.radsat);
    assert!(s.granule.band("B7").unwrap()[[5, 6]] < 1.0);
}

#[test]
fn every_way_of_naming_a_product_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let folder = write(dir.path(), WriteOptions::default(), 50.0);
    let base = landsat_c2l1::read(&folder).unwrap();
    let b7 = |s: &landsat_c2l1::LandsatScene| {
        s.granule
            .band("B7")
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    };
    let id = id();
    for p in [
        folder.join(format!("{id}_MTL.txt")),
        folder.join(format!("{id}_MTL.json")),
        folder.join(format!("{id}_B4.TIF")),
    ] {
        let s = landsat_c2l1::read(&p).unwrap();
        assert_eq!(s.mtl, base.mtl, "{}", p.display());
        assert_eq!(b7(&s), b7(&base), "{}", p.display());
        assert_eq!(identify(&p).unwrap().granule, id);
    }
    // JSON only.
    std::fs::remove_file(folder.join(format!("{id}_MTL.txt"))).unwrap();
    let s = landsat_c2l1::read(&folder).unwrap();
    assert_eq!(s.mtl, base.mtl);
    // The tar as downloaded, read in place.
    let tdir = tempfile::tempdir().unwrap();
    let tar = write(
        tdir.path(),
        WriteOptions {
            tar: true,
            ..WriteOptions::default()
        },
        50.0,
    );
    assert_eq!(tar.extension().unwrap(), "tar");
    let t = landsat_c2l1::read(&tar).unwrap();
    assert_eq!(t.mtl, base.mtl);
    assert_eq!(b7(&t), b7(&base));
    assert_eq!(identify(&tar).unwrap().kind, ProductKind::LandsatC2L1);
    // product::open takes it too.
    let g = strawfire::product::open(&[tar]).unwrap();
    assert_eq!(g.shape, (ROWS, COLS));
}

#[test]
fn night_scenes_keep_reflectance_without_the_sun_angle() {
    let dir = tempfile::tempdir().unwrap();
    let folder = write(dir.path(), WriteOptions::default(), -30.0);
    let s = landsat_c2l1::read(&folder).unwrap();
    assert!(!s.mtl.is_day());
    let (bands, _) = pixels();
    assert!((s.granule.band("B6").unwrap()[[20, 30]] - bands[5][[20, 30]]).abs() < 3e-5);
}

#[test]
fn a_missing_band_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let folder = write(dir.path(), WriteOptions::default(), 50.0);
    let b6 = format!("{}_B6.TIF", id());
    std::fs::remove_file(folder.join(&b6)).unwrap();
    let err = landsat_c2l1::read(&folder).unwrap_err().to_string();
    assert!(err.contains("band 6") && err.contains(&b6), "{err}");
}

#[test]
fn an_mtl_of_another_product_or_size_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let folder = write(dir.path(), WriteOptions::default(), 50.0);
    let id = id();
    std::fs::remove_file(folder.join(format!("{id}_MTL.json"))).unwrap();
    let mtl = folder.join(format!("{id}_MTL.txt"));
    let text = std::fs::read_to_string(&mtl).unwrap();
    // Another product's id inside this product's MTL.
    let other = id.replace("123036", "124036");
    std::fs::write(
        &mtl,
        text.replace(
            &format!("LANDSAT_PRODUCT_ID = \"{id}\""),
            &format!("LANDSAT_PRODUCT_ID = \"{other}\""),
        ),
    )
    .unwrap();
    let err = landsat_c2l1::read(&folder).unwrap_err().to_string();
    assert!(err.contains(&other) && err.contains("_MTL.txt"), "{err}");
    // A size the bands do not have.
    std::fs::write(
        &mtl,
        text.replace(
            &format!("REFLECTIVE_LINES = {ROWS}"),
            "REFLECTIVE_LINES = 7801",
        ),
    )
    .unwrap();
    let err = landsat_c2l1::read(&folder).unwrap_err().to_string();
    assert!(err.contains(".TIF") && err.contains("7801"), "{err}");
    // A key missing.
    std::fs::write(&mtl, text.replace("    SUN_ELEVATION", "    SUN_ELEVATIN")).unwrap();
    let err = landsat_c2l1::read(&folder).unwrap_err().to_string();
    assert!(
        err.contains("SUN_ELEVATION") && err.contains("_MTL.txt"),
        "{err}"
    );
}

#[test]
fn truncated_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let folder = write(dir.path(), WriteOptions::default(), 50.0);
    let b5 = folder.join(format!("{}_B5.TIF", id()));
    let bytes = std::fs::read(&b5).unwrap();
    std::fs::write(&b5, &bytes[..bytes.len() / 3]).unwrap();
    let err = landsat_c2l1::read(&folder).unwrap_err().to_string();
    assert!(err.contains("_B5.TIF"), "{err}");

    let tdir = tempfile::tempdir().unwrap();
    let tar = write(
        tdir.path(),
        WriteOptions {
            tar: true,
            ..WriteOptions::default()
        },
        50.0,
    );
    let bytes = std::fs::read(&tar).unwrap();
    std::fs::write(&tar, &bytes[..bytes.len() - 5000]).unwrap();
    let err = landsat_c2l1::read(&tar).unwrap_err().to_string();
    assert!(err.contains(".tar") && err.contains("truncated"), "{err}");
}

/// A real Collection 2 Level-1 MTL (Landsat 8, WRS-2 path 120 row 38, eastern China, 2021-01-05;
/// see tests/fixtures/PROVENANCE.md), byte for byte as USGS delivered it.
#[test]
fn the_mtl_of_a_real_collection2_scene_gives_the_reader_its_bands_and_sun() {
    let name = "LC08_L1GT_120038_20210105_20210105_02_RT_MTL.txt";
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/landsat")
        .join(name);
    let keys =
        landsat_c2l1::parse_mtl_txt(&std::fs::read_to_string(&path).unwrap(), &path).unwrap();
    let m = landsat_c2l1::mtl_from_keys(&keys, &path).unwrap();
    let id = "LC08_L1GT_120038_20210105_20210105_02_RT";
    assert_eq!(m.product_id, id);
    assert_eq!(landsat_c2l1::name_parts(name).unwrap().product_id, id);
    assert_eq!(
        (m.spacecraft.as_str(), m.satellite_code()),
        ("LANDSAT_8", "L8")
    );
    assert_eq!((m.wrs_path, m.wrs_row), (120, 38));
    assert_eq!(m.shape, (7731, 7581));
    assert_eq!(
        m.acq_time,
        chrono::Utc.with_ymd_and_hms(2021, 1, 5, 2, 37, 37).unwrap()
            + chrono::Duration::nanoseconds(315_963_000)
    );
    assert!((m.sun_elevation_deg - 31.34122018).abs() < 1e-9 && m.is_day());
    assert!((m.sun_azimuth_deg - 154.93217715).abs() < 1e-9);
    for n in 1..=7u8 {
        let (file, mult, add) = &m.bands[&n];
        assert_eq!(file, &format!("{id}_B{n}.TIF"));
        assert_eq!((*mult, *add), (2.0e-5, -0.1), "band {n}");
    }
    assert_eq!(m.qa_pixel.as_deref(), Some(&*format!("{id}_QA_PIXEL.TIF")));
    assert_eq!(
        m.qa_radsat.as_deref(),
        Some(&*format!("{id}_QA_RADSAT.TIF"))
    );
    // The MTL names 24 files: 11 bands, 2 QA and 4 angle bands (the 17 GeoTIFFs a complete
    // folder holds), the angle coefficients, both metadata files, and the calibration files
    // the product was made with (CPF, two BPF, RLUT), which are not delivered: the folder's
    // completeness check waits for the GeoTIFFs only.
    assert_eq!(m.listed.len(), 24);
    assert_eq!(m.listed.iter().filter(|f| f.ends_with(".TIF")).count(), 17);
    assert!(m.listed.iter().any(|f| f.starts_with("LC08CPF_")));

    // Dropped into the inbox alone, the MTL makes a product folder that lacks every band.
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join(id);
    std::fs::create_dir(&folder).unwrap();
    std::fs::copy(&path, folder.join(name)).unwrap();
    use strawfire::service::product_folder::{kind_of, status, FolderKind, FolderStatus};
    assert_eq!(kind_of(&folder), Some(FolderKind::Landsat));
    match status(&folder, FolderKind::Landsat) {
        FolderStatus::Incomplete { why, usable } => {
            assert!(why.contains(&format!("{id}_B7.TIF")), "{why}");
            assert!(why.contains("17 of the files"), "{why}");
            assert!(!usable);
        }
        other => panic!("{other:?}"),
    }
}
