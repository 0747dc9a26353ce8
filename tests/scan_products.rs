//! One synthetic swath granule (`synth::generate_swath`), written as a NASA L1B pair and as a
//! CSPP SDR set by the product writers, read back by the product readers and scanned with
//! `scan::scan_granule`: the same fire pixels, confidences, positions, sizes and FRP as the
//! granule scanned in memory; `scan::scan_files` and `strawfire scan` take one file of the pair.
//! (The map-grid GeoTIFF's equivalence is in `scan_granule.rs`.)

use strawfire::hotspot::Hotspot;
use strawfire::product::write::{viirs_l1b, viirs_sdr};
use strawfire::product::{self, viirs_iband};
use strawfire::scan::{scan_files, scan_granule, ModelChoice, ScanResult};
use strawfire::synth::{generate_swath, LandClass, LandcoverParams, PlantedFire, SwathSpec};

fn key(h: &Hotspot) -> (usize, usize, String) {
    (
        h.row.unwrap(),
        h.col.unwrap(),
        format!("{:?}", h.confidence),
    )
}

fn assert_same_fires(label: &str, want: &ScanResult, got: &ScanResult) {
    let (a, b): (Vec<_>, Vec<_>) = (
        want.hotspots.iter().map(key).collect(),
        got.hotspots.iter().map(key).collect(),
    );
    assert_eq!(a, b, "{label}");
    for (w, g) in want.hotspots.iter().zip(&got.hotspots) {
        assert!(
            (w.latitude - g.latitude).abs() < 1e-4,
            "{label}: {w:?} {g:?}"
        );
        assert!(
            (w.longitude - g.longitude).abs() < 1e-4,
            "{label}: {w:?} {g:?}"
        );
        assert_eq!((w.scan_km, w.track_km), (g.scan_km, g.track_km), "{label}");
        let (fw, fg) = (w.frp_mw.unwrap(), g.frp_mw.unwrap());
        assert!(
            (fw - fg).abs() <= 0.01 * fw,
            "{label}: FRP {fw} vs {fg}\n{w:?}\n{g:?}"
        );
    }
    assert_eq!(want.summary().water, got.summary().water, "{label}");
    assert_eq!(want.summary().fill, got.summary().fill, "{label}");
}

#[test]
fn a_swath_written_as_l1b_and_as_sdr_gives_the_same_fires() {
    let mut spec = SwathSpec::night(2, 23);
    spec.scene.cloud_cover = 0.1;
    let lc = LandcoverParams::new(spec.scene.seed, spec.scene.cloud_cover);
    // Fires across the scan (every aggregation zone), on clear cropland.
    for near in [150, 1500, 2500, 3200, 4100, 4800, 6200] {
        let site = (near..near + 150).find(|&c| {
            (47..=49)
                .all(|r| (c - 1..=c + 1).all(|cc| lc.cover(r, cc).class() == LandClass::Cropland))
        });
        if let Some(c) = site {
            spec.scene.fires.push(PlantedFire::new(48, c, 30.0, 1000.0));
        }
    }
    assert!(spec.scene.fires.len() >= 5, "{:?}", spec.scene.fires);
    let sw = generate_swath(&spec).unwrap();
    let mut g = sw.granule;
    g.meta.satellite = Some("N20".into());
    let memory = scan_granule(&g, ModelChoice::FromScene, &|_| {}).unwrap();
    assert!(
        memory.hotspots.len() >= spec.scene.fires.len(),
        "{:#?}",
        memory.hotspots
    );

    let dir = tempfile::tempdir().unwrap();
    let l1b = viirs_l1b::write(
        &g,
        dir.path(),
        &viirs_l1b::L1bOptions {
            bowtie_deleted: Some(viirs_iband::is_bowtie_deleted),
            ..Default::default()
        },
    )
    .unwrap();
    let read = product::open(&[l1b.data.clone(), l1b.geo.clone()]).unwrap();
    let from_l1b = scan_granule(&read, ModelChoice::FromScene, &|_| {}).unwrap();
    assert_same_fires("L1B", &memory, &from_l1b);
    // One file of the pair finds its partner; `strawfire scan` takes it the same way.
    let from_one = scan_files(
        std::slice::from_ref(&l1b.geo),
        ModelChoice::FromScene,
        &|_| {},
    )
    .unwrap();
    assert_same_fires("L1B by one file", &memory, &from_one);
    let csv = dir.path().join("fires.csv");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strawfire"))
        .args(["scan", "-q", "-o"])
        .arg(&csv)
        .arg(&l1b.data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = std::fs::read_to_string(&csv).unwrap().lines().count() - 1;
    assert_eq!(rows, from_l1b.hotspots.len());

    let sdr_dir = dir.path().join("sdr");
    std::fs::create_dir(&sdr_dir).unwrap();
    let sdr = viirs_sdr::write(
        &g,
        &sdr_dir,
        &viirs_sdr::SdrOptions {
            granules: 2,
            bowtie_deleted: Some(viirs_iband::is_bowtie_deleted),
            ..Default::default()
        },
    )
    .unwrap();
    let mut files = sdr.bands.to_vec();
    files.push(sdr.geo.clone());
    let read = product::open(&files).unwrap();
    let from_sdr = scan_granule(&read, ModelChoice::FromScene, &|_| {}).unwrap();
    // The SDR geolocation (GITCO/GIMGO) carries no land/water mask: water is then found by
    // reflectances, by day only, as for the granule in memory without its mask.
    let memory = if read.water.is_none() {
        let mut no_mask = g.clone();
        no_mask.water = None;
        scan_granule(&no_mask, ModelChoice::FromScene, &|_| {}).unwrap()
    } else {
        memory
    };
    assert_same_fires("SDR", &memory, &from_sdr);
}
