//! Landsat 8/9 OLI end to end: synthetic scenes from the Planck physics written in USGS's product
//! layout (folder or tar, folded saturated DNs with QA_RADSAT), scanned by `scan_files` and by
//! the `strawfire synth` / `strawfire scan` binaries; the fires come back at the planted pixels
//! with the FIRMS Landsat confidence, 30 m footprints and day/night.

use std::path::PathBuf;

use strawfire::hotspot::{Confidence, DayNight};
use strawfire::product::write::landsat_c2l1::WriteOptions;
use strawfire::scan::{scan_files, ModelChoice};
use strawfire::synth::landsat::{generate, Cover, LandsatSpec, PlantedFire};

fn fire(row: usize, col: usize, area_m2: f64, temp_k: f64) -> PlantedFire {
    PlantedFire {
        row,
        col,
        area_m2,
        temp_k,
    }
}

/// The first pixel of `cover` at least `margin` pixels from the edges.
fn find(spec: &LandsatSpec, cover: Cover, margin: usize, skip: usize) -> (usize, usize) {
    let s = generate(spec);
    s.cover
        .indexed_iter()
        .filter(|((r, c), &k)| {
            k == cover as u8
                && (margin..spec.rows - margin).contains(r)
                && (margin..spec.cols - margin).contains(c)
        })
        .map(|(rc, _)| rc)
        .nth(skip)
        .unwrap_or_else(|| panic!("no {cover:?} pixel"))
}

fn no_progress(_: strawfire::scan::Stage) {}

#[test]
fn a_day_product_as_a_tar_with_folded_saturation_gives_the_planted_fires() {
    let mut spec = LandsatSpec::day(200, 200, 11);
    let big = find(&spec, Cover::Stubble, 20, 0);
    let small = find(&spec, Cover::BareSoil, 20, 0);
    // 50 m² at 1000 K saturates bands 6 and 7 (written folded); 4 m² at 1000 K is unambiguous.
    spec.fires = vec![
        fire(big.0, big.1, 50.0, 1000.0),
        fire(small.0, small.1, 4.0, 1000.0),
    ];
    let scene = generate(&spec);
    let dir = tempfile::tempdir().unwrap();
    let tar = scene
        .write(
            dir.path(),
            WriteOptions {
                tar: true,
                fold_saturated: true,
                ..WriteOptions::default()
            },
        )
        .unwrap();
    let r = scan_files(&[tar], ModelChoice::FromScene, &no_progress).unwrap();
    assert_eq!(r.model_name, "landsat-oli");
    let mut got: Vec<(usize, usize)> = r
        .hotspots
        .iter()
        .map(|h| (h.row.unwrap(), h.col.unwrap()))
        .collect();
    got.sort();
    let mut want = vec![big, small];
    want.sort();
    assert_eq!(
        got, want,
        "hotspots at the planted pixels, and nowhere else"
    );
    for h in &r.hotspots {
        assert_eq!(h.confidence, Confidence::High);
        assert_eq!(h.daynight, DayNight::Day);
        assert_eq!((h.satellite.as_str(), h.instrument.as_str()), ("L9", "OLI"));
        assert!(h.frp_mw.is_none() && h.bt_mir_k.is_none());
        // The 30 m footprint that locate overlaps with parcels.
        let (s, t) = (h.scan_km.unwrap(), h.track_km.unwrap());
        assert!(
            (s - 0.03).abs() < 0.001 && (t - 0.03).abs() < 0.001,
            "{s} {t}"
        );
        // Near the North China Plain centre of the scene.
        assert!((h.longitude - 114.85).abs() < 0.1 && (h.latitude - 34.07).abs() < 0.1);
    }
    let sum = r.summary();
    assert_eq!(sum.fires(), 2);
    assert!(sum.water > 0 && sum.day_pixels > 0 && sum.night_pixels == 0);
    assert!(!r.coverage_samples.is_empty());
}

#[test]
fn a_small_fire_on_a_burn_scar_is_confirmed_by_its_context() {
    // 3 m² at 900 K over charred stubble: ρ7 ≈ 0.32, below the unambiguous 0.5, a candidate
    // (R75 ≈ 3, ρ7 − ρ5 ≈ 0.22, R76 ≈ 2.2) that stands out of its dark 61 × 61 background.
    let mut spec = LandsatSpec::day(150, 150, 4);
    spec.only = Some(Cover::BurnScar);
    spec.fires = vec![fire(75, 75, 3.0, 900.0), fire(20, 130, 0.3, 700.0)];
    let dir = tempfile::tempdir().unwrap();
    let folder = generate(&spec)
        .write(dir.path(), WriteOptions::default())
        .unwrap();
    let r = scan_files(&[folder], ModelChoice::Named("landsat-oli"), &no_progress).unwrap();
    assert_eq!(r.hotspots.len(), 1, "{:?}", r.hotspots);
    assert_eq!((r.hotspots[0].row, r.hotspots[0].col), (Some(75), Some(75)));
    assert_eq!(r.hotspots[0].confidence, Confidence::Nominal);
}

#[test]
fn a_night_product_finds_fires_by_band_7_alone() {
    // Apparent ρ7 of 1 m² at 1000 K in 900 m²: π·L(2.2 µm)/ESUN·p ≈ 0.14 > 0.1; 0.5 m² ≈ 0.07.
    let mut spec = LandsatSpec::night(100, 100, 2);
    spec.fires = vec![fire(30, 40, 1.0, 1000.0), fire(70, 70, 0.5, 1000.0)];
    let dir = tempfile::tempdir().unwrap();
    let folder = generate(&spec)
        .write(dir.path(), WriteOptions::default())
        .unwrap();
    let mtl = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_MTL.json"))
        .unwrap();
    let r = scan_files(&[mtl], ModelChoice::FromScene, &no_progress).unwrap();
    assert_eq!(r.hotspots.len(), 1, "{:?}", r.hotspots);
    let h = &r.hotspots[0];
    assert_eq!((h.row, h.col), (Some(30), Some(40)));
    assert_eq!(
        (h.daynight, h.confidence),
        (DayNight::Night, Confidence::Nominal)
    );
    assert!(r.summary().night_pixels > 0 && r.summary().day_pixels == 0);
}

#[test]
fn a_viirs_model_is_refused_for_a_landsat_product() {
    let spec = LandsatSpec::day(40, 40, 1);
    let dir = tempfile::tempdir().unwrap();
    let folder = generate(&spec)
        .write(dir.path(), WriteOptions::default())
        .unwrap();
    let err = scan_files(&[folder], ModelChoice::Named("viirs-i"), &no_progress)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("viirs-i") && err.contains("landsat-oli"),
        "{err}"
    );
}

#[test]
fn the_binary_synthesises_and_scans_a_landsat_product() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strawfire"))
        .args([
            "synth", "--layout", "landsat", "--rows", "120", "--cols", "120",
        ])
        .args(["--no-clouds", "--fire", "60,61,20,1000", "--tar", "-o"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let product = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        product.to_string_lossy().ends_with("_02_T1.tar"),
        "{}",
        product.display()
    );
    let csv = dir.path().join("fires.csv");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strawfire"))
        .args(["scan", "-q", "-o"])
        .arg(&csv)
        .arg(&product)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header = rows.headers().unwrap().clone();
    let recs: Vec<csv::StringRecord> = rows.records().map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), 1, "{text}");
    let get = |k: &str| recs[0][header.iter().position(|h| h == k).unwrap()].to_string();
    assert_eq!((get("row"), get("col")), ("60".into(), "61".into()));
    assert_eq!(
        (get("confidence"), get("satellite"), get("daynight")),
        ("h".into(), "L9".into(), "D".into())
    );
    assert_eq!(get("scan"), "0.03");
}

#[test]
fn coverage_samples_follow_qa_pixel_so_a_county_under_cloud_is_not_observed() {
    use strawfire::rank::coverage::{land_class, tally, UnitCoverage};
    use strawfire::rank::facts::CoverageFact;
    use strawfire::rank::fair::{clear_share, status, Status};
    // The county's share as the ranking takes it from the stored rows of the day's scenes.
    let share = |rows: &[UnitCoverage]| {
        let facts: Vec<CoverageFact> = rows
            .iter()
            .map(|r| CoverageFact {
                scene_id: 1,
                code: r.unit.clone(),
                land_pixels: r.land_pixels,
                clear_pixels: r.clear_pixels,
            })
            .collect();
        clear_share(&facts.iter().collect::<Vec<_>>())
    };
    // A cloudy scene (clouds, their edges and shadows) of 300 × 300: every pixel is a sample.
    let spec = LandsatSpec::day(300, 300, 20);
    let scene = generate(&spec);
    let dir = tempfile::tempdir().unwrap();
    let folder = scene.write(dir.path(), WriteOptions::default()).unwrap();
    let r = scan_files(&[folder], ModelChoice::FromScene, &no_progress).unwrap();
    let mask = &r.detection.mask;
    let (mut land, mut clear, mut shadowed) = (0, 0, 0);
    for ((row, col), q) in scene.qa.indexed_iter() {
        if let Some(c) = land_class(mask.view()[[row, col]]) {
            land += 1;
            let shadow = q & strawfire::product::landsat_c2l1::qa_pixel::CLOUD_SHADOW != 0;
            shadowed += usize::from(c && shadow);
            clear += usize::from(c && !shadow);
        }
    }
    assert!(
        shadowed > 100,
        "the scene should have land in cloud shadow: {shadowed}"
    );
    assert_eq!(r.coverage_samples.len(), land);
    let seen_clear = r.coverage_samples.iter().filter(|s| s.clear).count();
    assert_eq!(
        seen_clear, clear,
        "land in shadow or under cloud is not seen clear"
    );

    // The whole scene under cloud: its county is not observed, not ranked as clean.
    let county = |_: f64, _: f64| (Some("410526".to_string()), None);
    let mut overcast = LandsatSpec::day(120, 120, 9);
    overcast.only = Some(Cover::Cloud);
    let dir = tempfile::tempdir().unwrap();
    let folder = generate(&overcast)
        .write(dir.path(), WriteOptions::default())
        .unwrap();
    let r = scan_files(&[folder], ModelChoice::FromScene, &no_progress).unwrap();
    let rows = tally(&r.coverage_samples, county);
    assert_eq!(rows.len(), 1);
    assert!(rows[0].land_pixels > 120 * 120 * 9 / 10, "{rows:?}");
    assert_eq!(rows[0].clear_pixels, 0);
    assert_eq!(status(share(&rows), 0.5), Status::NotObserved);
    // A clear scene of the same place is ranked.
    let mut fair = LandsatSpec::day(120, 120, 9);
    fair.clouds = false;
    let dir = tempfile::tempdir().unwrap();
    let folder = generate(&fair)
        .write(dir.path(), WriteOptions::default())
        .unwrap();
    let r = scan_files(&[folder], ModelChoice::FromScene, &no_progress).unwrap();
    let rows = tally(&r.coverage_samples, county);
    assert_eq!(status(share(&rows), 0.5), Status::Ranked);
    // Without QA_PIXEL the product says nothing of cloud: no samples, coverage unknown.
    let folder = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    for e in std::fs::read_dir(&folder).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with("_QA_PIXEL.TIF") {
            std::fs::remove_file(p).unwrap();
        }
    }
    let r = scan_files(&[folder], ModelChoice::FromScene, &no_progress).unwrap();
    assert!(r.coverage_samples.is_empty());
    assert_eq!(
        status(share(&tally(&r.coverage_samples, county)), 0.5),
        Status::CoverageUnknown
    );
}
