//! The scan reads and classifies strip by strip, keeping only BT4 and BT5 whole; its result must
//! be exactly the in-memory detector's on the same scene: same mask, fires and summary, by day
//! (with glint geometry, compressed) and by night (uncompressed), over several strips of rows.

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
    for (day, geometry, compression) in [
        (true, true, Compression::Deflate),
        (false, false, Compression::None),
    ] {
        // 600 rows: two full 256-row strips and a partial one.
        let mut spec = if day {
            SynthSpec::day(600, 300, 41)
        } else {
            SynthSpec::night(600, 300, 42)
        };
        spec.glint_bands = geometry;
        spec.fires = random_fires_for(&spec, 40);
        let scene = generate(&spec).unwrap();
        let path = dir.path().join(format!("s{day}.tif"));
        scene
            .write(&path, &dir.path().join(format!("s{day}.csv")), compression)
            .unwrap();

        let scanned = scan_scene(&path, ModelChoice::FromScene, &|_| {}).unwrap();
        let memory = detect_viirs(&scene.viirs_input(), &model, &scene.pixel_area()).unwrap();
        assert!(
            memory.fires.len() > 10,
            "day={day}: too few fires to compare"
        );
        assert_eq!(scanned.detection.mask, memory.mask, "day={day}");
        assert_eq!(key(&scanned.detection), key(&memory), "day={day}");
        assert_eq!(scanned.detection.summary, memory.summary, "day={day}");
        assert_eq!(scanned.hotspots.len(), memory.fires.len());
    }
}
