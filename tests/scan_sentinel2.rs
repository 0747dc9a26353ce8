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
