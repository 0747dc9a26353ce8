//! Sentinel-2 MSI end to end: synthetic tiles from the Planck physics written in ESA's SAFE
//! layout (folder or zip, L1C or L2A), scanned by `scan_files` as `strawfire scan` does; the
//! fires come back at the planted pixels as FIRMS hotspots (satellite S2A, instrument MSI,
//! 20 m footprints, day, no FRP), the cloud mask in the summary and the coverage samples.

use std::path::PathBuf;

use strawfire::hotspot::{Confidence, DayNight};
use strawfire::product::sentinel2_l1c::Level;
use strawfire::scan::{scan_files, ModelChoice};
use strawfire::synth::landsat::Cover;
use strawfire::synth::sentinel2::{generate, PlantedFire, Sentinel2Spec, WriteOptions};

fn no_progress(_: strawfire::scan::Stage) {}

/// Pixels of `cover` at least `margin` from the edges and from cloud.
fn find(spec: &Sentinel2Spec, cover: Cover, margin: usize, n: usize) -> Vec<(usize, usize)> {
    let s = generate(spec);
    let found: Vec<_> = s
        .cover
        .indexed_iter()
        .filter(|((r, c), &k)| {
            k == cover as u8
                && (margin..spec.rows - margin).contains(r)
                && (margin..spec.cols - margin).contains(c)
                && r % 40 == 0
                && c % 40 == 0
        })
        .map(|(rc, _)| rc)
        .take(n)
        .collect();
    assert_eq!(found.len(), n, "not enough {cover:?} pixels");
    found
}

#[test]
fn a_tile_as_folder_or_zip_gives_the_planted_fires_as_firms_hotspots() {
    let mut spec = Sentinel2Spec::day(240, 240, 164);
    let at = find(&spec, Cover::Stubble, 20, 3);
    // 30 m² at 1000 K saturates B11 and B12; 2 m² at 1000 K is unambiguous; 1 m² at 800 K
    // is below every test (missed, as the physics table says).
    spec.fires = vec![
        PlantedFire {
            row: at[0].0,
            col: at[0].1,
            area_m2: 30.0,
            temp_k: 1000.0,
        },
        PlantedFire {
            row: at[1].0,
            col: at[1].1,
            area_m2: 2.0,
            temp_k: 1000.0,
        },
        PlantedFire {
            row: at[2].0,
            col: at[2].1,
            area_m2: 1.0,
            temp_k: 800.0,
        },
    ];
    let scene = generate(&spec);
    let dir = tempfile::tempdir().unwrap();
    for (level, zip) in [(Level::L1c, false), (Level::L1c, true), (Level::L2a, false)] {
        let out = dir.path().join(format!("{level:?}{zip}"));
        std::fs::create_dir(&out).unwrap();
        let p = scene
            .write(
                &out,
                WriteOptions {
                    level,
                    zip,
                    tile_px: 64,
                },
            )
            .unwrap();
        let r = scan_files(
            std::slice::from_ref(&p),
            ModelChoice::FromScene,
            &no_progress,
        )
        .unwrap();
        assert_eq!(r.model_name, "sentinel2-msi");
        let got: Vec<(usize, usize)> = r
            .hotspots
            .iter()
            .map(|h| (h.row.unwrap(), h.col.unwrap()))
            .collect();
        assert_eq!(got, vec![at[0], at[1]], "{}", p.display());
        for h in &r.hotspots {
            assert_eq!(h.satellite, "S2A");
            assert_eq!(h.instrument, "MSI");
            assert_eq!(h.daynight, DayNight::Day);
            assert_eq!(h.confidence, Confidence::High);
            assert!(h.frp_mw.is_none() && h.bt_mir_k.is_none());
            let (s, t) = (h.scan_km.unwrap(), h.track_km.unwrap());
            assert!(
                (s - 0.02).abs() < 1e-3 && (t - 0.02).abs() < 1e-3,
                "{s} {t}"
            );
            assert_eq!(h.acq_time, spec.sensing_time);
            // The pixel centre on the UTM grid, near the tile centre (115.5° E, 35.6° N-ish).
            assert!((h.longitude - spec.center_lon_deg).abs() < 0.05);
            assert!((h.latitude - spec.center_lat_deg).abs() < 0.05);
        }
        assert!(
            r.detection.summary.cloud > 0,
            "cloud from the product's mask"
        );
        assert!(!r.coverage_samples.is_empty());
        // Given by its metadata file, the same result.
        if !zip {
            let mtd = p.join(level.metadata_name());
            let again = scan_files(&[mtd], ModelChoice::Named("msi"), &no_progress).unwrap();
            assert_eq!(again.hotspots, r.hotspots);
        }
    }
    // Another sensor's model is refused for a Sentinel-2 product.
    let p: PathBuf = std::fs::read_dir(dir.path().join("L1cfalse"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let err = scan_files(&[p], ModelChoice::Named("viirs-i"), &no_progress)
        .unwrap_err()
        .to_string();
    assert!(err.contains("sentinel2-msi"), "{err}");
}

/// Pixels outside every detector footprint (`MSK_DETFOO` 0: a swath edge) are no data: no
/// hotspot from them, and neither land nor clear land in the summary or the coverage grid,
/// so a county beyond the swath is not ranked as seen fire-free.
#[test]
fn ground_outside_the_detector_footprints_is_not_coverage() {
    let mut spec = Sentinel2Spec::day(240, 240, 164);
    let at = find(&spec, Cover::Stubble, 20, 2);
    spec.fires = at
        .iter()
        .map(|&(row, col)| PlantedFire {
            row,
            col,
            area_m2: 30.0,
            temp_k: 1000.0,
        })
        .collect();
    // The swath ends between the two fires: no detector east of the second fire's column − 5.
    let edge = at[1].1 - 5;
    assert!(at[0].1 < edge, "{at:?}");
    let mut scene = generate(&spec);
    let dir = tempfile::tempdir().unwrap();
    let scan = |scene: &strawfire::synth::sentinel2::Sentinel2Synth, name: &str| {
        let out = dir.path().join(name);
        std::fs::create_dir(&out).unwrap();
        let p = scene.write(&out, WriteOptions::default()).unwrap();
        scan_files(&[p], ModelChoice::FromScene, &no_progress).unwrap()
    };
    let whole = scan(&scene, "whole");
    for ((_, c), d) in scene.detectors.indexed_iter_mut() {
        if c >= edge {
            *d = 0;
        }
    }
    let cut = scan(&scene, "cut");
    let cells = |r: &strawfire::scan::ScanResult| -> Vec<(usize, usize)> {
        r.hotspots
            .iter()
            .map(|h| (h.row.unwrap(), h.col.unwrap()))
            .collect()
    };
    assert_eq!(cells(&whole), at);
    assert_eq!(cells(&cut), vec![at[0]]);
    let (w, c) = (&whole.detection.summary, &cut.detection.summary);
    let outside = (240 * (240 - edge)) as u64;
    assert_eq!(c.fill, w.fill + outside);
    assert!(
        c.clear_land < w.clear_land
            && c.clear_land + c.cloud + c.water < w.clear_land + w.cloud + w.water
    );
    // The coverage grid: every sample east of the edge is gone (0.002° of margin for the
    // UTM grid's convergence over the tile).
    let east = |r: &strawfire::scan::ScanResult| {
        let lon_edge = r.hotspots[0].longitude
            + (edge as f64 - at[0].1 as f64 - 0.5) * 20.0
                / (111_320.0 * spec.center_lat_deg.to_radians().cos());
        r.coverage_samples
            .iter()
            .filter(|s| s.lon > lon_edge + 0.002)
            .count()
    };
    assert!(east(&whole) > 1000, "{}", east(&whole));
    assert_eq!(east(&cut), 0);
    assert!(cut.coverage_samples.len() < whole.coverage_samples.len());
}
