//! The scan reads and classifies block by block (256-row strips, cut into blocks of whole
//! 256-column tiles), keeping only BT4 and BT5 whole; its result must be exactly the in-memory
//! detector's on the same scene: same mask, fires and summary, by day (with glint geometry,
//! compressed), by night (uncompressed; reflectances are then not read at all), across the
//! terminator along the rows (night strips, day strips and a strip with both) and across the
//! columns (a strip whose first block is day and second night: the median's tile counts of the
//! night block are made later), over several strips of rows and two blocks across.

use strawfire::detect::{detect_viirs, Detection};
use strawfire::model::SensorModel;
use strawfire::raster::Compression;
use strawfire::scan::{scan_scene, ModelChoice};
use strawfire::synth::{generate, random_fires_for, SynthSpec};

fn key(d: &Detection) -> Vec<(usize, usize, String, u32)> {
    d.fires
        .iter()
        .map(|f| {
            (
                f.row,
                f.col,
                format!("{:?}", f.confidence),
                f.bt4_k.to_bits(),
            )
        })
        .collect()
}

#[test]
fn streamed_scan_equals_the_in_memory_detector() {
    let model = SensorModel::builtin("viirs-i").unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (case, day, geometry, compression) in [
        ("day", true, true, Compression::Deflate),
        ("night", false, false, Compression::None),
        ("terminator", true, true, Compression::None),
        ("terminator across", true, true, Compression::None),
    ] {
        // 600 rows: two full 256-row strips and a partial one.
        let mut spec = if day {
            SynthSpec::day(600, 300, 41)
        } else {
            SynthSpec::night(600, 300, 42)
        };
        spec.glint_bands = geometry;
        spec.fires = random_fires_for(&spec, 40);
        let mut scene = generate(&spec).unwrap();
        if case == "terminator" {
            // Night from row 300 on: strip 0 is day, strip 1 (256..512) mixed, strip 2 night.
            scene
                .bands
                .sza
                .slice_mut(ndarray::s![300.., ..])
                .fill(100.0);
        }
        if case == "terminator across" {
            // Night in the second block of columns (256..300) of the first strip only.
            scene
                .bands
                .sza
                .slice_mut(ndarray::s![..256, 256..])
                .fill(100.0);
        }
        let path = dir.path().join(format!("{}.tif", case.replace(' ', "_")));
        scene
            .write(&path, &path.with_extension("csv"), compression)
            .unwrap();

        let scanned = scan_scene(&path, ModelChoice::FromScene, &|_| {}).unwrap();
        let memory = detect_viirs(&scene.viirs_input(), &model, &scene.pixel_area()).unwrap();
        assert!(memory.fires.len() > 10, "{case}: too few fires to compare");
        assert_eq!(scanned.detection.mask, memory.mask, "{case}");
        assert_eq!(key(&scanned.detection), key(&memory), "{case}");
        assert_eq!(scanned.detection.summary, memory.summary, "{case}");
        assert_eq!(scanned.hotspots.len(), memory.fires.len());
        if case.starts_with("terminator") {
            let s = &memory.summary;
            assert!(s.day_pixels > 0 && s.night_pixels > 0, "{s:?}");
        }
    }
}
