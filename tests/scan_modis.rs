//! MODIS granules through `scan`: a synthetic 1 km granule (`synth::modis`) scanned in memory by
//! `scan::scan_granule` (dispatched to the C6.1 detector by its sensor) gives FIRMS MODIS
//! hotspots at the planted fires (`brightness` = T4, `bright_t31`, confidence 0–100, satellite
//! `A`, instrument `MODIS`, `scan`/`track` growing off nadir); the same granule written as a
//! `MYD021KM` + `MYD03` pair by `product::write::modis`, opened by `product::open` and scanned by
//! `scan::scan_files` (as `strawfire scan` does) finds the same fires.

use strawfire::hotspot::{Confidence, Hotspot};
use strawfire::product::write::modis::{self as modis_write, ModisOptions};
use strawfire::scan::{scan_files, scan_granule, ModelChoice, ScanResult, Stage};
use strawfire::synth::modis::{generate_modis, ModisSpec, SynthModis};
use strawfire::synth::{LandClass, PlantedFire};

/// A night granule 40 × 1354 (a whole scan line: nadir to both edges) with fires on clear
/// cropland: large ones at nadir and at the scan edge, and a 10 m² one no sensor of 1 km sees.
fn granule() -> (SynthModis, Vec<PlantedFire>) {
    let mut spec = ModisSpec::night(40, 1354, 8);
    spec.cloud_cover = 0.0;
    let clear = generate_modis(&spec).unwrap();
    let mut fires = Vec::new();
    for (r, c0, area) in [
        (15, 600, 1000.0),
        (25, 700, 3000.0),
        (20, 1330, 8000.0),
        (30, 650, 10.0),
    ] {
        let c = (c0..c0 + 40)
            .find(|&c| clear.classes[[r, c]] == LandClass::Cropland)
            .expect("cropland nearby");
        fires.push(PlantedFire::new(r, c, area, 1000.0));
    }
    spec.fires = fires.clone();
    (generate_modis(&spec).unwrap(), fires)
}

fn at<'a>(s: &'a ScanResult, f: &PlantedFire) -> Option<&'a Hotspot> {
    s.hotspots
        .iter()
        .find(|h| (h.row, h.col) == (Some(f.row), Some(f.col)))
}

#[test]
fn a_modis_granule_gives_firms_modis_hotspots_at_the_planted_fires() {
    let (g, fires) = granule();
    let s = scan_granule(&g.granule, ModelChoice::FromScene, &|_: Stage| {}).unwrap();
    assert_eq!(s.model_name, "modis-c61");
    for f in &fires[..3] {
        let h = at(&s, f).unwrap_or_else(|| panic!("{f:?} not found: {:?}", s.hotspots));
        assert_eq!(
            (h.instrument.as_str(), h.satellite.as_str()),
            ("MODIS", "A")
        );
        assert!(h.is_modis());
        let Confidence::Percent(p) = h.confidence else {
            panic!("{:?}", h.confidence)
        };
        assert!(p <= 100);
        assert!(h.bt_mir_k.unwrap() > h.bt_tir_k.unwrap() + 10.0, "{h:?}");
        assert!(h.frp_mw.unwrap() > 0.0);
    }
    assert!(at(&s, &fires[3]).is_none(), "10 m² is below MODIS's reach");
    assert_eq!(s.hotspots.len(), 3, "{:?}", s.hotspots);
    // FIRMS scan/track: ≈ 1 km at nadir, ≈ 4.8 × 2.0 km at the edge of the scan.
    let (nadir, edge) = (at(&s, &fires[1]).unwrap(), at(&s, &fires[2]).unwrap());
    assert!((nadir.scan_km.unwrap() - 1.0).abs() < 0.05, "{nadir:?}");
    assert!(
        edge.scan_km.unwrap() > 3.5 && edge.track_km.unwrap() > 1.6,
        "{edge:?}"
    );
    // FRP against the truth (MIR radiance method, ±20 %; the 8000 m² fire is near the edge).
    for (f, t) in fires.iter().zip(&g.truth).take(3) {
        let frp = at(&s, f).unwrap().frp_mw.unwrap();
        assert!((frp / t.true_frp_mw - 1.0).abs() < 0.3, "{frp} vs {t:?}");
    }
    // The FIRMS MODIS columns.
    let mut csv = Vec::new();
    strawfire::hotspot::write_csv(&mut csv, &s.hotspots).unwrap();
    let text = String::from_utf8(csv).unwrap();
    let header = text.lines().next().unwrap();
    assert!(
        header.contains("brightness") && header.contains("bright_t31") && !header.contains("ti4"),
        "{header}"
    );
    assert!(text.lines().nth(1).unwrap().contains(",MODIS,"), "{text}");
    // Coverage: land samples seen clear.
    assert!(s.coverage_samples.iter().any(|c| c.clear));
    // A VIIRS model asked for by name does not fit a MODIS granule: its bands are named.
    let err = scan_granule(&g.granule, ModelChoice::Named("viirs-i"), &|_: Stage| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("I1") || err.contains("I4"), "{err}");
}

#[test]
fn the_granule_written_as_an_l1b_pair_and_read_back_gives_the_same_fires() {
    let (g, fires) = granule();
    let mem = scan_granule(&g.granule, ModelChoice::FromScene, &|_: Stage| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = modis_write::write(&g.granule, dir.path(), &ModisOptions::default()).unwrap();
    let geo = files.geo.clone().expect("MYD03 written");
    let s = scan_files(
        &[files.data.clone(), geo],
        ModelChoice::FromScene,
        &|_: Stage| {},
    )
    .unwrap();
    assert_eq!(s.model_name, "modis-c61");
    for f in &fires[..3] {
        let (a, b) = (
            at(&mem, f).unwrap(),
            at(&s, f).expect("found after the round trip"),
        );
        assert!((a.latitude - b.latitude).abs() < 1e-3 && (a.longitude - b.longitude).abs() < 1e-3);
        assert!(
            (a.bt_mir_k.unwrap() - b.bt_mir_k.unwrap()).abs() < 1.0,
            "{a:?} {b:?}"
        );
        assert!(
            (a.frp_mw.unwrap() / b.frp_mw.unwrap() - 1.0).abs() < 0.05,
            "{a:?} {b:?}"
        );
    }
    assert_eq!(s.hotspots.len(), mem.hotspots.len());
    // One file of the pair is enough: its partner lies beside it.
    let one = scan_files(&[files.data], ModelChoice::FromScene, &|_: Stage| {}).unwrap();
    assert_eq!(one.hotspots.len(), s.hotspots.len());
}

#[test]
fn an_fy3d_mersi_granule_runs_through_the_same_detector_with_its_own_model() {
    // The synthetic granule relabelled as FY-3D MERSI-II, written by the MERSI writer
    // (`1000M` + `GEO1K`, HDF5) and read back by `product::open`.
    let (mut g, fires) = granule();
    g.granule.meta.sensor = Some("MERSI".into());
    g.granule.meta.satellite = Some("FY3D".into());
    let mem = scan_granule(&g.granule, ModelChoice::FromScene, &|_: Stage| {}).unwrap();
    assert_eq!(mem.model_name, "fy3d-mersi");
    for f in &fires[..3] {
        let h = at(&mem, f).unwrap_or_else(|| panic!("{f:?}: {:?}", mem.hotspots));
        assert_eq!(
            (h.instrument.as_str(), h.satellite.as_str()),
            ("MERSI", "FY3D")
        );
        assert!(matches!(h.confidence, Confidence::Percent(_)));
    }
    assert_eq!(mem.hotspots.len(), 3);
    let mut csv = Vec::new();
    strawfire::hotspot::write_csv(&mut csv, &mem.hotspots).unwrap();
    assert!(String::from_utf8(csv)
        .unwrap()
        .starts_with("latitude,longitude,brightness,"));
    let dir = tempfile::tempdir().unwrap();
    let files = strawfire::product::write::mersi::write(&g.granule, dir.path()).unwrap();
    let s = scan_files(
        &[files.data, files.geo],
        ModelChoice::FromScene,
        &|_: Stage| {},
    )
    .unwrap();
    assert_eq!(s.model_name, "fy3d-mersi");
    for f in &fires[..3] {
        assert!(
            at(&s, f).is_some(),
            "{f:?} after the MERSI round trip: {:?}",
            s.hotspots
        );
    }
    // The MODIS model can be asked for by name; a VIIRS name cannot be.
    let m = scan_granule(&g.granule, ModelChoice::Named("modis"), &|_: Stage| {}).unwrap();
    assert_eq!(m.model_name, "modis-c61");
}
