//! MOD14/MYD14 as a hotspot source (issue 20): a synthetic granule detected by our C6.1
//! detector, written as the official product (`product::write::modis_af`), read back through
//! `hotspot::read_hotspots` (what ingest, the inbox and locate call) into the same fires; the
//! service takes the file as a feed by its name; bad files are refused naming file and SDS.

use std::path::Path;

use chrono::{TimeZone, Utc};
use strawfire::detect::modis::detect_modis;
use strawfire::hotspot::read::read_hotspots;
use strawfire::hotspot::{Confidence, DayNight};
use strawfire::model::modis::ModisModel;
use strawfire::product::hdf4::{Attr, SdFile};
use strawfire::product::write::modis_af;
use strawfire::product::{modis_af as mod14, Geometry};
use strawfire::service::FileKind;
use strawfire::synth::modis::{generate_modis, random_modis_fires, ModisSpec};

fn written(
    dir: &Path,
    day: bool,
    fires: usize,
) -> (
    strawfire::synth::modis::SynthModis,
    strawfire::detect::modis::ModisDetection,
    std::path::PathBuf,
) {
    let mut spec = if day {
        ModisSpec::day(60, 1354, 7)
    } else {
        ModisSpec::night(60, 1354, 7)
    };
    spec.fires = random_modis_fires(&spec, fires);
    let g = generate_modis(&spec).unwrap();
    let d = detect_modis(&g.input(), &ModisModel::builtin(), &g.pixel_area()).unwrap();
    let processed = Utc.with_ymd_and_hms(2024, 6, 3, 1, 2, 3).unwrap();
    let path = modis_af::write(&g.granule, &d, dir, processed).unwrap();
    (g, d, path)
}

#[test]
fn a_written_mod14_reads_back_as_the_detection_s_fires() {
    let dir = tempfile::tempdir().unwrap();
    for day in [true, false] {
        let sub = dir.path().join(if day { "day" } else { "night" });
        std::fs::create_dir_all(&sub).unwrap();
        let (g, d, path) = written(&sub, day, 40);
        assert!(d.fires.len() >= 5, "{} fires", d.fires.len());
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with("MYD14.A") && name.ends_with(".061.2024155010203.hdf"),
            "{name}"
        );
        assert!(mod14::identify(&path));
        assert_eq!(FileKind::of(&path), Some(FileKind::FireProduct));
        let feed = read_hotspots(&path).unwrap();
        assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
        assert_eq!(feed.header[2], "brightness");
        assert_eq!(feed.rows.len(), d.fires.len());
        let Geometry::Swath(s) = &g.granule.geometry else {
            unreachable!()
        };
        for (row, f) in feed.rows.iter().zip(&d.fires) {
            let h = &row.hotspot;
            assert_eq!((h.row, h.col), (Some(f.row), Some(f.col)));
            assert_eq!(h.latitude as f32, s.lat.view()[[f.row, f.col]]);
            assert_eq!(h.longitude as f32, s.lon.view()[[f.row, f.col]]);
            assert_eq!(h.bt_mir_k, Some(f.t4_k as f64));
            assert_eq!(h.bt_tir_k, Some(f.t11_k as f64));
            assert!((h.frp_mw.unwrap() - f.frp_mw).abs() < 1e-3 * f.frp_mw.max(1.0));
            assert_eq!(h.confidence, f.firms_confidence());
            assert_eq!(
                h.daynight,
                if day { DayNight::Day } else { DayNight::Night }
            );
            assert_eq!(
                (h.satellite.as_str(), h.instrument.as_str()),
                ("A", "MODIS")
            );
            assert_eq!(h.version, "6.1");
            assert_eq!(h.acq_time, g.granule.meta.acq_time.unwrap());
            // A full 1354-pixel scan: scan/track from the MODIS geometry.
            let (sc, tr) = strawfire::product::modis_swath::pixel_size_km(f.col);
            assert_eq!((h.scan_km, h.track_km), (Some(sc), Some(tr)));
        }
        assert!(feed
            .rows
            .iter()
            .all(|r| matches!(r.hotspot.confidence, Confidence::Percent(_))));
    }
}

#[test]
fn a_mod14_with_its_mod03_says_what_the_pass_saw_for_fair_rankings() {
    use strawfire::detect::MaskClass;
    use strawfire::product::write::modis as modis_write;
    let dir = tempfile::tempdir().unwrap();
    let (g, d, path) = written(dir.path(), true, 40);
    // Alone: the fires load, the coverage is unknown, the warning names the MOD03 looked for.
    let alone = mod14::read_product(&path).unwrap();
    assert_eq!(alone.feed.rows.len(), d.fires.len());
    assert!(alone.coverage.is_none());
    assert!(
        alone
            .warnings
            .iter()
            .any(|w| w.contains("MYD03.A2024160.0530.*.hdf") && w.contains("coverage unknown")),
        "{:?}",
        alone.warnings
    );
    // With the granule's MYD03 in the inbox's `done/`: the mask placed by its geolocation.
    let done = dir.path().join("done");
    std::fs::create_dir_all(&done).unwrap();
    let files = modis_write::write(&g.granule, &done, &Default::default()).unwrap();
    let geo = files.geo.unwrap();
    assert_eq!(mod14::geolocation_of(&path), Some(geo.clone()));
    let p = mod14::read_product(&path).unwrap();
    assert_eq!(p.meta.kind.sensor(), "MODIS");
    assert_eq!(
        (p.meta.kind.name(), p.meta.satellite.as_str()),
        ("MOD14", "A")
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let c = p.coverage.expect("coverage with the MYD03");
    assert_eq!(c.geolocation, geo);
    assert_eq!(c.shape, g.granule.shape);
    // The summary is the detection's, class by class, and all of it by day.
    let s = &d.summary;
    assert_eq!(
        (
            c.summary.cloud,
            c.summary.water,
            c.summary.clear_land,
            c.summary.fires()
        ),
        (s.cloud, s.water, s.clear_land, s.fires())
    );
    assert_eq!(c.summary.day_pixels, c.summary.total);
    // A sample per grid pixel on land (water and unprocessed left out), at the MYD03's place,
    // clear where the mask says land or fire, not clear under cloud or where unknown.
    let mask = d.mask.view();
    let Geometry::Swath(sw) = &g.granule.geometry else {
        unreachable!()
    };
    let (rows, cols) = g.granule.shape;
    let k =
        strawfire::rank::coverage::grid_step(rows, cols, strawfire::rank::coverage::MAX_SAMPLES);
    let mut want = Vec::new();
    for r in (0..rows).step_by(k) {
        for c in (0..cols).step_by(k) {
            let m = mask[[r, c]];
            if m == MaskClass::Water as u8 || m == MaskClass::NotProcessed as u8 {
                continue;
            }
            let clear = m == MaskClass::Land as u8 || m >= MaskClass::FireLow as u8;
            want.push((sw.lon.view()[[r, c]], sw.lat.view()[[r, c]], clear));
        }
    }
    assert_eq!(c.samples.len(), want.len());
    assert!(want.iter().any(|w| !w.2) && want.iter().any(|w| w.2));
    for (got, w) in c.samples.iter().zip(&want) {
        assert_eq!((got.lon as f32, got.lat as f32, got.clear), w.clone());
    }
    // The MOD14 classes that are not ours: 1 and 2 are "not processed", not bow-tie and glint.
    assert_eq!(mod14::mask_class(1), MaskClass::NotProcessed as u8);
    assert_eq!(mod14::mask_class(2), MaskClass::NotProcessed as u8);
    assert_eq!(mod14::mask_class(4), MaskClass::Cloud as u8);
    assert_eq!(mod14::mask_class(9), MaskClass::FireHigh as u8);
}

#[test]
fn a_granule_without_fire_has_no_lists_and_reads_empty() {
    let dir = tempfile::tempdir().unwrap();
    let (_, d, path) = written(dir.path(), false, 0);
    assert!(d.fires.is_empty());
    let f = SdFile::open(&path).unwrap();
    assert!(!f.has("FP_latitude") && f.has("fire mask"));
    drop(f);
    assert!(read_hotspots(&path).unwrap().rows.is_empty());
}

#[test]
fn bad_mod14_files_are_refused_naming_file_and_sds() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, good) = written(dir.path(), true, 40);
    // Not HDF4 at all (truncated).
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("MOD14.A2024155.0130.061.2024155010203.hdf");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let e = read_hotspots(&cut).unwrap_err().to_string();
    assert!(e.contains("MOD14.A2024155"), "{e}");
    // A list missing while FirePix says there are fires.
    let missing = dir.path().join("MOD14.A2024155.0135.061.2024155010203.hdf");
    {
        let f = SdFile::create(&missing).unwrap();
        f.set_attr("FirePix", &Attr::I32(vec![2])).unwrap();
        for n in ["FP_latitude", "FP_longitude", "FP_T21"] {
            f.create_dataset::<f32>(n, &[2])
                .unwrap()
                .write(&[30.0f32, 31.0])
                .unwrap();
        }
        f.close().unwrap();
    }
    let e = read_hotspots(&missing).unwrap_err().to_string();
    assert!(
        e.contains("FP_T31") && e.contains("MOD14.A2024155.0135"),
        "{e}"
    );
    // Lists of unequal length, and a FirePix that disagrees.
    let uneven = dir.path().join("MYD14.A2024155.0140.061.2024155010203.hdf");
    {
        let f = SdFile::create(&uneven).unwrap();
        f.set_attr("FirePix", &Attr::I32(vec![2])).unwrap();
        for n in mod14::REQUIRED {
            let len = if n == "FP_power" { 3 } else { 2 };
            f.create_dataset::<f32>(n, &[len])
                .unwrap()
                .write(&vec![30.0f32; len])
                .unwrap();
        }
        f.close().unwrap();
    }
    let e = read_hotspots(&uneven).unwrap_err().to_string();
    assert!(e.contains("FP_power"), "{e}");
    // A pixel with a latitude out of range is a row warning naming FP_latitude; the rest load.
    let odd = dir.path().join("MYD14.A2024155.0145.061.2024155010203.hdf");
    {
        let f = SdFile::create(&odd).unwrap();
        f.set_attr("FirePix", &Attr::I32(vec![2])).unwrap();
        for n in mod14::REQUIRED {
            let v: Vec<f32> = match n {
                "FP_latitude" => vec![34.5, 123.0],
                "FP_longitude" => vec![114.0, 114.0],
                "FP_confidence" => vec![80.0, 80.0],
                _ => vec![320.0, 320.0],
            };
            f.create_dataset::<f32>(n, &[2]).unwrap().write(&v).unwrap();
        }
        f.close().unwrap();
    }
    let feed = read_hotspots(&odd).unwrap();
    assert_eq!(feed.rows.len(), 1);
    assert_eq!(feed.warnings.len(), 1);
    assert_eq!(feed.warnings[0].field.as_deref(), Some("FP_latitude"));
    // Time and satellite from the name when the file has no CoreMetadata.0.
    let h = &feed.rows[0].hotspot;
    assert_eq!(h.satellite, "A");
    assert_eq!(
        h.acq_time,
        Utc.with_ymd_and_hms(2024, 6, 3, 1, 45, 0).unwrap()
    );
}
