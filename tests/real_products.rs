//! Every value the Landsat and Sentinel-2 readers return, checked against the product's own
//! DNs read independently (GDAL, the band file itself) and its own metadata: TOA reflectance
//! from each DN with the product's rescaling (Landsat `REFLECTANCE_MULT/ADD` over sin θ_SE;
//! Sentinel-2 `(DN + RADIO_ADD_OFFSET) / QUANTIFICATION_VALUE`), fill, saturation (Landsat
//! `QA_RADSAT`, Sentinel-2 DN 65535), the detector footprints, and the grid (geotransform and
//! EPSG code from the band file and `MTD_TL.xml`).
//!
//! No real band crop is committed (tests/fixtures/PROVENANCE.md says where we looked and why), so
//! the checks run here on products our writer lays out, and on a real product when one is
//! given: `STRAWFIRE_REAL_SENTINEL2=<.SAFE folder, .zip or MTD_MSIL1C.xml>` and
//! `STRAWFIRE_REAL_LANDSAT=<Collection 2 Level-1 folder, .tar or _MTL.txt>` (a test names what
//! it checked on stderr; `cargo test --release --test real_products -- --nocapture` for a full
//! scene). With `STRAWFIRE_REQUIRE_REAL=1` a test without its product fails instead of
//! checking only the written one.

use std::path::{Path, PathBuf};

use strawfire::product::{landsat_c2l1, sentinel2_l1c, Geometry};
use strawfire::raster::band::read_band;

/// The EPSG code GDAL finds in a WKT.
fn epsg_of(wkt: &str) -> u32 {
    let srs = gdal::spatial_ref::SpatialRef::from_wkt(wkt).expect("a CRS GDAL reads");
    srs.auth_code().expect("an EPSG code") as u32
}

/// The product the variable names, or `None` (failing when `STRAWFIRE_REQUIRE_REAL=1`).
fn real(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            assert!(
                std::env::var("STRAWFIRE_REQUIRE_REAL").as_deref() != Ok("1"),
                "STRAWFIRE_REQUIRE_REAL=1 but {var} is not set"
            );
            eprintln!("{var} not set: checked the written product only");
            None
        }
    }
}

/// Pixel counts of a check: compared, fill, saturated, outside the footprints.
#[derive(Debug, Default)]
struct Counts {
    compared: usize,
    fill: usize,
    saturated: usize,
    outside: usize,
}

/// Checks a Sentinel-2 product as the reader returns it against its files.
fn check_sentinel2(path: &Path) -> Counts {
    let product = sentinel2_l1c::locate(path).unwrap();
    let scene = sentinel2_l1c::read_product(&product).unwrap();
    let (mtd, tile) = (&product.mtd, &product.tile);
    // The offset is the baseline's: −1000 from 04.00, none before.
    let want_offset = if mtd.baseline_04() { -1000.0 } else { 0.0 };
    let q = mtd.quantification;
    // The grid: MTD_TL.xml's 20 m Geoposition, in its EPSG code.
    let Geometry::Grid(grid) = &scene.granule.geometry else {
        panic!("a map grid")
    };
    assert_eq!(Some(grid.transform), tile.transform_20m());
    assert_eq!(epsg_of(&grid.crs_wkt), tile.epsg);
    let mut n = Counts::default();
    let fp = scene.footprint.as_ref().map(|f| f.view());
    // The bands on the 20 m grid at their native resolution (B01 at 60 m repeated 3 × 3).
    let native: &[(&str, usize)] = match mtd.level {
        sentinel2_l1c::Level::L1c => &[("B8A", 1), ("B11", 1), ("B12", 1), ("B01", 3)],
        sentinel2_l1c::Level::L2a => &[("B8A", 1), ("B11", 1), ("B12", 1)],
    };
    for &(name, k) in native {
        let id = sentinel2_l1c::band_id(name).unwrap();
        assert_eq!(mtd.offsets.get(&id).copied().unwrap_or(0.0), want_offset);
        let rel = mtd.image_file(name).unwrap();
        let file = product.location.file(&format!("{rel}.jp2"), name).unwrap();
        let (h, dn) = read_band::<u16>(&file, 1).unwrap();
        let dn = dn.view();
        let got = scene.granule.band(name).unwrap();
        assert_eq!((h.shape.0 * k, h.shape.1 * k), got.dim(), "{name}");
        let max = ((mtd.saturated as f64 + want_offset) / q) as f32;
        assert_eq!(scene.granule.saturation[name], max, "{name}");
        for ((r, c), &v) in got.indexed_iter() {
            let d = dn[[r / k, c / k]];
            let outside = fp.is_some_and(|f| f[[r, c]] == 0);
            let want = if outside || d == mtd.nodata {
                f32::NAN
            } else if d == mtd.saturated {
                max
            } else {
                ((d as f64 + want_offset) / q) as f32
            };
            assert!(
                v.to_bits() == want.to_bits() || (v.is_nan() && want.is_nan()),
                "{name} at ({r}, {c}): DN {d} read as {v}, expected {want}"
            );
            n.compared += 1;
            n.outside += outside as usize;
            n.fill += (!outside && d == mtd.nodata) as usize;
            n.saturated += (!outside && d == mtd.saturated) as usize;
        }
    }
    n
}

/// Checks a Landsat Collection 2 Level-1 product as the reader returns it against its files.
fn check_landsat(path: &Path) -> Counts {
    let product = landsat_c2l1::locate(path).unwrap();
    let scene = landsat_c2l1::read_product(&product).unwrap();
    let checked = landsat_c2l1::check_product(&product).unwrap();
    let mtl = &product.mtl;
    let sin_e = if mtl.is_day() {
        mtl.sun_elevation_deg.to_radians().sin()
    } else {
        1.0
    };
    let radsat = checked
        .qa_radsat
        .as_ref()
        .map(|p| read_band::<u16>(p, 1).unwrap().1);
    let mut n = Counts::default();
    for (i, band) in [5u8, 6, 7].into_iter().enumerate() {
        let (file, mult, add) = &mtl.bands[&band];
        let path = &checked.band_paths[band as usize - 1];
        assert!(path.to_string_lossy().ends_with(file.as_str()));
        let (h, dn) = read_band::<u16>(path, 1).unwrap();
        let name = format!("B{band}");
        let got = scene.granule.band(&name).unwrap();
        assert_eq!(h.shape, got.dim());
        assert_eq!(h.shape, mtl.shape, "REFLECTIVE_LINES/SAMPLES");
        // The grid: the band file's own, in its EPSG code (a UTM zone or polar stereographic).
        let Geometry::Grid(grid) = &scene.granule.geometry else {
            panic!("a map grid")
        };
        let gh = h.georef.as_ref().expect("a georeferenced band");
        assert_eq!(grid.transform, gh.transform);
        if i == 0 {
            let epsg = epsg_of(&grid.crs_wkt);
            assert!(
                (32601..=32660).contains(&epsg) || (32701..=32760).contains(&epsg) || epsg == 3031,
                "EPSG:{epsg}"
            );
        }
        let max = ((mult * 65535.0 + add) / sin_e) as f32;
        assert_eq!(scene.granule.saturation[&name], max);
        let bit = 1u16 << (band - 1);
        for ((r, c), &v) in got.indexed_iter() {
            let d = dn.view()[[r, c]];
            let sat = radsat.as_ref().is_some_and(|q| q.view()[[r, c]] & bit != 0);
            let want = if d == 0 {
                f32::NAN
            } else if sat {
                max
            } else {
                ((mult * d as f64 + add) / sin_e) as f32
            };
            assert!(
                v.to_bits() == want.to_bits() || (v.is_nan() && want.is_nan()),
                "{name} at ({r}, {c}): DN {d} read as {v}, expected {want}"
            );
            n.compared += 1;
            n.fill += (d == 0) as usize;
            n.saturated += (d != 0 && sat) as usize;
        }
    }
    n
}

#[test]
fn sentinel2_values_are_the_products_dns_through_its_own_metadata() {
    use strawfire::synth::sentinel2::{generate, PlantedFire, Sentinel2Spec, WriteOptions};
    let dir = tempfile::tempdir().unwrap();
    for baseline in ["05.10", "02.09"] {
        let mut spec = Sentinel2Spec::day(60, 75, 164);
        spec.baseline = baseline.into();
        // Saturates B11 and B12.
        spec.fires = vec![PlantedFire {
            row: 30,
            col: 40,
            area_m2: 200.0,
            temp_k: 1200.0,
        }];
        let mut synth = generate(&spec);
        for ((_, c), d) in synth.detectors.indexed_iter_mut() {
            if c < 6 {
                *d = 0;
            }
        }
        let out = dir.path().join(baseline);
        std::fs::create_dir(&out).unwrap();
        let safe = synth
            .write(
                &out,
                WriteOptions {
                    tile_px: 32,
                    ..WriteOptions::default()
                },
            )
            .unwrap();
        let n = check_sentinel2(&safe);
        assert!(
            n.compared == 4 * 60 * 75 && n.saturated >= 2 && n.outside == 4 * 60 * 6,
            "{n:?}"
        );
    }
    if let Some(p) = real("STRAWFIRE_REAL_SENTINEL2") {
        let n = check_sentinel2(&p);
        eprintln!("{}: {n:?}", p.display());
        assert!(
            n.compared > n.fill + n.outside,
            "no data pixel in {}",
            p.display()
        );
    }
}

#[test]
fn landsat_values_are_the_products_dns_through_its_own_metadata() {
    use strawfire::product::write::landsat_c2l1::WriteOptions;
    use strawfire::synth::landsat::{generate, LandsatSpec, PlantedFire};
    let dir = tempfile::tempdir().unwrap();
    let mut spec = LandsatSpec::day(60, 70, 164);
    spec.fires = vec![PlantedFire {
        row: 30,
        col: 40,
        area_m2: 600.0,
        temp_k: 1200.0,
    }];
    let folder = generate(&spec)
        .write(dir.path(), WriteOptions::default())
        .unwrap();
    let n = check_landsat(&folder);
    assert!(n.compared == 3 * 60 * 70 && n.saturated >= 1, "{n:?}");
    if let Some(p) = real("STRAWFIRE_REAL_LANDSAT") {
        let n = check_landsat(&p);
        eprintln!("{}: {n:?}", p.display());
        assert!(n.compared > n.fill, "no data pixel in {}", p.display());
    }
}
