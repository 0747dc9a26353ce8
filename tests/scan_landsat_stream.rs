//! The streamed Landsat scan (`scan_landsat_product`: the product decoded block by block, each
//! block converted and classified while fresh) equals the in-memory scan (`scan_landsat` on
//! the product read whole by `landsat_c2l1::read`, the detector on whole bands) on synthetic
//! products in USGS's layout: day with fires of every kind, night, folded saturation with
//! QA_RADSAT, no QA files, a tar, and blocks of any size cutting the scene at odd places.

use proptest::prelude::*;
use strawfire::product::landsat_c2l1;
use strawfire::product::write::landsat_c2l1::WriteOptions;
use strawfire::raster::band::BlockPlan;
use strawfire::scan::{scan_landsat, scan_landsat_planned, ModelChoice, ScanResult};
use strawfire::synth::landsat::{generate, LandsatSpec, PlantedFire};

fn no_progress(_: strawfire::scan::Stage) {}

/// Fires of 0.5–60 m² at 600–1200 K scattered by `seed`: unambiguous, folded, candidates
/// confirmed and rejected.
fn with_fires(mut spec: LandsatSpec, n: usize) -> LandsatSpec {
    for i in 0..n as u64 {
        let h = |k: u64| {
            let x = (spec.seed.wrapping_mul(31) + i * 0x9E37_79B9 + k * 0x85EB_CA6B) % 1_000_003;
            x as f64 / 1_000_003.0
        };
        spec.fires.push(PlantedFire {
            row: (h(1) * spec.rows as f64) as usize,
            col: (h(2) * spec.cols as f64) as usize,
            area_m2: 0.5 + 60.0 * h(3) * h(3),
            temp_k: 600.0 + 600.0 * h(4),
        });
    }
    spec
}

fn same(streamed: &ScanResult, whole: &ScanResult) {
    assert_eq!(
        format!("{:?}", streamed.detection.fires),
        format!("{:?}", whole.detection.fires),
        "fire pixels"
    );
    assert!(
        streamed.detection.mask == whole.detection.mask,
        "fire masks differ"
    );
    assert_eq!(streamed.detection.summary, whole.detection.summary);
    assert_eq!(
        format!("{:?}", streamed.hotspots),
        format!("{:?}", whole.hotspots)
    );
    assert_eq!(streamed.coverage_samples, whole.coverage_samples);
    assert_eq!(streamed.shape, whole.shape);
    assert_eq!(
        (&streamed.meta.satellite, streamed.meta.acq_time),
        (&whole.meta.satellite, whole.meta.acq_time)
    );
}

fn check(spec: &LandsatSpec, opts: WriteOptions, plans: &[Option<BlockPlan>]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let path = generate(spec).write(dir.path(), opts).unwrap();
    let scene = landsat_c2l1::read(&path).unwrap();
    let whole = scan_landsat(&scene, ModelChoice::FromScene, &no_progress).unwrap();
    let product = landsat_c2l1::locate(&path).unwrap();
    for plan in plans {
        let streamed =
            scan_landsat_planned(&product, ModelChoice::FromScene, *plan, &no_progress).unwrap();
        same(&streamed, &whole);
    }
    whole.hotspots.len()
}

fn plan(strip_rows: usize, block_cols: usize) -> Option<BlockPlan> {
    Some(BlockPlan {
        strip_rows,
        block_cols,
    })
}

#[test]
fn day_night_folded_and_bare_products_stream_to_the_in_memory_result() {
    let plans = [None, plan(7, 13), plan(64, 300), plan(1, 1000)];
    // Day, the North China Plain mix with clouds, many fires of every kind; folded SWIR with
    // QA_RADSAT; as a tar read in place.
    let n = check(
        &with_fires(LandsatSpec::day(230, 250, 20), 80),
        WriteOptions {
            fold_saturated: true,
            tar: true,
            ..WriteOptions::default()
        },
        &plans,
    );
    assert!(n > 20, "the scene should have many fires, found {n}");
    // Night: band 7 alone.
    let n = check(
        &with_fires(LandsatSpec::night(90, 80, 5), 30),
        WriteOptions::default(),
        &plans,
    );
    assert!(n > 5, "night fires: {n}");
    // No QA files at all (water by the spectral test, no cloud), uncompressed.
    let mut spec = with_fires(LandsatSpec::day(70, 90, 8), 20);
    spec.noise = 0.2;
    let bare = WriteOptions {
        radsat: false,
        deflate: false,
        ..WriteOptions::default()
    };
    check(&spec, bare, &plans);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10))]
    #[test]
    fn any_cut_of_any_scene_streams_to_the_same_fires(
        seed in any::<u64>(),
        rows in 1usize..80,
        cols in 1usize..80,
        fires in 0usize..25,
        day in any::<bool>(),
        strip_rows in 1usize..40,
        block_cols in 1usize..90,
    ) {
        let spec = if day {
            LandsatSpec::day(rows, cols, seed)
        } else {
            LandsatSpec::night(rows, cols, seed)
        };
        check(&with_fires(spec, fires), WriteOptions::default(), &[plan(strip_rows, block_cols)]);
    }
}
