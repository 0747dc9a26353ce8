//! `strawfire compare` on a granule whose official product is known exactly: a synthetic
//! scene is scanned by `strawfire scan`; the "official" product is made from those detections
//! with two removed, one added and one confidence changed, and written as a VNP14IMG and as an
//! AFIMG text by the generator. The expected matched / missed / extra counts follow.

use std::path::{Path, PathBuf};
use std::process::Command;

use strawfire::hotspot::{read_hotspots, Confidence, Hotspot};
use strawfire::raster::Compression;
use strawfire::synth::official::{
    afimg_name, vnp14img_name, write_afimg_text, write_vnp14img, OfficialGranule,
};
use strawfire::synth::{generate, random_fires_for, SynthSpec};

fn strawfire(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_strawfire"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Scans a small synthetic night scene with planted fires; returns the scene, our CSV and our
/// hotspots.
fn scanned(dir: &Path) -> (PathBuf, PathBuf, Vec<Hotspot>) {
    let mut spec = SynthSpec::night(200, 200, 7);
    spec.fires = random_fires_for(&spec, 24);
    let scene = generate(&spec).unwrap();
    let tif = dir.join("scene.tif");
    scene
        .write(&tif, &dir.join("scene.truth.csv"), Compression::None)
        .unwrap();
    let csv = dir.join("ours.csv");
    let (ok, _, err) = strawfire(&["scan", s(&tif), "-o", s(&csv), "-q"]);
    assert!(ok, "{err}");
    let ours: Vec<Hotspot> = read_hotspots(&csv)
        .unwrap()
        .rows
        .into_iter()
        .map(|r| r.hotspot)
        .collect();
    assert!(
        ours.len() >= 8,
        "too few detections to compare: {}",
        ours.len()
    );
    (tif, csv, ours)
}

/// The official list: ours without the first two, one fire of its own added far from ours,
/// and the third's confidence changed.
fn official_from(ours: &[Hotspot]) -> OfficialGranule {
    let mut fires: Vec<Hotspot> = ours[2..].to_vec();
    fires[0].confidence = match fires[0].confidence {
        Confidence::High => Confidence::Low,
        _ => Confidence::High,
    };
    let mut added = ours[0].clone();
    added.latitude += 0.05;
    added.row = Some(ours[0].row.unwrap() + 150);
    added.col = Some(ours[0].col.unwrap());
    fires.push(added);
    OfficialGranule {
        start: ours[0].acq_time,
        satellite: ours[0].satellite.clone(),
        fires,
        mask: None,
        geolocation_name: "none.nc".into(),
    }
}

#[test]
fn compare_against_a_known_official_product_counts_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (tif, csv, ours) = scanned(dir.path());
    let g = official_from(&ours);
    let vnp14 = dir.path().join(vnp14img_name(&g));
    write_vnp14img(&vnp14, &g).unwrap();
    let n = ours.len();

    // By pixel (both lists carry row/col), JSON, with the map.
    let map = dir.path().join("map.svg");
    let (ok, out, err) = strawfire(&[
        "compare",
        s(&csv),
        s(&vnp14),
        "--format",
        "json",
        "-o",
        s(&map),
    ]);
    assert!(ok, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["matched_by"], "pixel");
    assert_eq!(j["ours_total"], n);
    assert_eq!(j["official_total"], n - 1);
    assert_eq!(j["all"]["matched"], n - 2);
    assert_eq!(j["all"]["missed"], 1);
    assert_eq!(j["all"]["extra"], 2);
    // Our FRP is the official FRP (the product was made from it), up to f32.
    assert_eq!(j["frp"]["pairs"], n - 2);
    let ratio = j["frp"]["median_ratio"].as_f64().unwrap();
    assert!((ratio - 1.0).abs() < 1e-5, "{ratio}");
    // The changed confidence is one off-diagonal pair.
    let off_diagonal: u64 = j["confidence_pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p[0][0] != p[0][1])
        .map(|p| p[1].as_u64().unwrap())
        .sum();
    assert_eq!(off_diagonal, 1);
    let svg = std::fs::read_to_string(&map).unwrap();
    assert_eq!(svg.matches("class=\"matched\"").count(), n - 2);
    assert_eq!(svg.matches("class=\"missed\"").count(), 1);
    assert_eq!(svg.matches("class=\"extra\"").count(), 2);

    // By position against the AFIMG text (no pixel positions), scanning the scene itself.
    let afimg = dir.path().join(afimg_name(&g, "txt"));
    write_afimg_text(&afimg, &g).unwrap();
    let (ok, out, err) = strawfire(&["compare", s(&tif), s(&afimg)]);
    assert!(ok, "{err}");
    assert!(out.contains("matched by position"), "{out}");
    let all = out.lines().find(|l| l.starts_with("all ")).unwrap();
    let nums: Vec<&str> = all.split_whitespace().collect();
    assert_eq!(
        &nums[1..4],
        &[(n - 2).to_string(), "1".into(), "2".into()],
        "{out}"
    );
}

#[test]
fn compare_names_an_unreadable_input() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("VNP14IMG.A2024160.0542.002.nc");
    std::fs::write(&bad, "not netcdf").unwrap();
    let csv = dir.path().join("ours.csv");
    std::fs::write(&csv, "latitude,longitude,acq_date,acq_time\n").unwrap();
    let (ok, _, err) = strawfire(&["compare", s(&csv), s(&bad)]);
    assert!(!ok);
    assert!(
        err.contains("VNP14IMG.A2024160.0542.002.nc") && err.contains("cannot open as NetCDF-4"),
        "{err}"
    );
}

#[test]
fn compare_scans_an_l1b_pair_given_by_one_of_its_files() {
    use strawfire::product::write::viirs_l1b::{self as l1b_write, L1bOptions};
    use strawfire::synth::{generate_swath, SwathSpec};
    let dir = tempfile::tempdir().unwrap();
    let mut spec = SwathSpec::night(1, 5);
    spec.scene.fires = random_fires_for(&spec.scene, 10);
    let swath = generate_swath(&spec).unwrap();
    let files = l1b_write::write(&swath.granule, dir.path(), &L1bOptions::default()).unwrap();
    // The same granule on both sides (by its data file and by its geolocation file): all match.
    let (ok, out, err) = strawfire(&["compare", s(&files.data), s(&files.geo), "--format", "json"]);
    assert!(ok, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let n = j["ours_total"].as_u64().unwrap();
    assert!(n > 0, "{out}");
    assert_eq!(j["matched_by"], "pixel");
    assert_eq!(j["all"]["matched"], n);
    assert_eq!(
        (j["all"]["missed"].as_u64(), j["all"]["extra"].as_u64()),
        (Some(0), Some(0))
    );
}
