//! The service takes Landsat 8/9 OLI products whole: a `.tar` renamed into the inbox is scanned
//! and stored like a scene (its fires, summary and coverage) and moved to `done/`; its loose band
//! files are not scenes of their own; `strawfire ingest` takes a product folder once (the second
//! time it is already ingested).

mod common;

use std::time::Duration;

use common::server::*;
use strawfire::product::write::landsat_c2l1::WriteOptions;
use strawfire::service::FileKind;
use strawfire::synth::landsat::{generate, LandsatSpec, PlantedFire};

const T: Duration = Duration::from_secs(60);

fn spec() -> LandsatSpec {
    let mut spec = LandsatSpec::day(120, 120, 21);
    spec.clouds = false;
    spec.fires = vec![
        PlantedFire {
            row: 30,
            col: 40,
            area_m2: 30.0,
            temp_k: 1000.0,
        },
        PlantedFire {
            row: 90,
            col: 80,
            area_m2: 30.0,
            temp_k: 1100.0,
        },
    ];
    spec
}

#[test]
fn only_the_tar_of_a_landsat_product_is_an_inbox_file() {
    let id = "LC08_L1TP_123036_20240610_20240620_02_T1";
    let kind = |n: &str| FileKind::of(std::path::Path::new(n));
    assert_eq!(kind(&format!("{id}.tar")), Some(FileKind::LandsatProduct));
    assert_eq!(kind(&format!("{id}_B7.TIF")), None);
    assert_eq!(kind(&format!("{id}_MTL.txt")), None);
    assert_eq!(kind("other.tif"), Some(FileKind::Scene));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_landsat_tar_dropped_into_the_inbox_is_scanned_and_stored() {
    let srv = TestServer::start().await;
    let inbox = srv.inbox();
    let staging = srv.dir.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    let tar = generate(&spec())
        .write(
            &staging,
            WriteOptions {
                tar: true,
                ..WriteOptions::default()
            },
        )
        .unwrap();
    let name = tar.file_name().unwrap().to_owned();
    std::fs::rename(&tar, inbox.join(&name)).unwrap();
    eventually(T, "the tar in done/", || async {
        inbox.join("done").join(&name).exists().then_some(())
    })
    .await;
    let (_, h) = srv.get("/api/v1/healthz", "").await;
    assert_eq!(h["counts"]["hotspots"].as_u64(), Some(2), "{h}");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_scenes_takes_a_landsat_tar_or_its_files_in_one_request() {
    let srv = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.limits.scene_bytes = 64 << 20;
    })
    .await;
    let staging = srv.dir.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    let tar = generate(&spec())
        .write(
            &staging,
            WriteOptions {
                tar: true,
                ..WriteOptions::default()
            },
        )
        .unwrap();
    let (status, v) = srv.post_scene_files(&[tar]).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["report"]["hotspots_new"], 2, "{v}");
    // The same scene as its loose files in one request (another seed: other bytes, the same
    // fires, which are duplicates of the tar's).
    let mut other = spec();
    other.seed = 22;
    let folder = generate(&other)
        .write(&staging.join("loose"), WriteOptions::default())
        .unwrap();
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let (status, v) = srv.post_scene_files(&files).await;
    assert!(status == 201 || status == 200, "{status} {v}");
    let r = &v["report"];
    assert_eq!(
        r["hotspots_new"].as_u64().unwrap() + r["hotspots_duplicate"].as_u64().unwrap(),
        2,
        "{v}"
    );
    // Without its band 6: 422 naming the file.
    let without: Vec<std::path::PathBuf> = files
        .into_iter()
        .filter(|f| !f.to_string_lossy().ends_with("_B6.TIF"))
        .collect();
    let (status, v) = srv.post_scene_files(&without).await;
    assert_eq!(status, 422, "{v}");
    assert!(v.to_string().contains("_B6.TIF"), "{v}");
    srv.stop().await;
}

#[test]
fn strawfire_ingest_takes_a_product_folder_once() {
    let dir = tempfile::tempdir().unwrap();
    let folder = generate(&spec())
        .write(dir.path(), WriteOptions::default())
        .unwrap();
    let data = dir.path().join("data");
    let run = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_strawfire"))
            .args(["ingest", "--data-dir"])
            .arg(&data)
            .arg(&folder)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let first = run();
    assert!(first.contains("2 new hotspots"), "{first}");
    let second = run();
    assert!(second.contains("already ingested"), "{second}");
}

/// Copies a product folder into `to` file by file, except the names `skip` keeps back.
fn copy_product(from: &std::path::Path, to: &std::path::Path, skip: &[&str]) -> Vec<String> {
    std::fs::create_dir_all(to).unwrap();
    let mut held = Vec::new();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if skip.iter().any(|s| name.ends_with(s)) {
            held.push(name);
        } else {
            std::fs::copy(&p, to.join(&name)).unwrap();
        }
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpacked_product_folder_is_taken_once_complete_and_an_incomplete_one_reported() {
    let srv = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.inbox.partner_wait_s = 2.0;
    })
    .await;
    let inbox = srv.inbox();
    let staging = srv.dir.path().join("staging");
    let folder = generate(&spec())
        .write(&staging, WriteOptions::default())
        .unwrap();
    let id = folder.file_name().unwrap().to_owned();
    // Arriving file by file: band 7 and QA_RADSAT come last, band 7 still being written.
    let target = inbox.join(&id);
    let held = copy_product(&folder, &target, &["_B7.TIF", "_QA_RADSAT.TIF"]);
    assert_eq!(held.len(), 2);
    let b7 = held.iter().find(|n| n.ends_with("_B7.TIF")).unwrap();
    std::fs::write(target.join(format!("{b7}.part")), b"partial").unwrap();
    // Held, not failed, while it is incomplete (well within the 2 s wait).
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(target.exists() && !inbox.join("failed").join(&id).exists());
    let (_, h) = srv.get("/api/v1/healthz", "").await;
    assert_eq!(h["counts"]["hotspots"].as_u64(), Some(0), "{h}");
    for n in &held {
        std::fs::copy(folder.join(n), target.join(n)).unwrap();
    }
    std::fs::remove_file(target.join(format!("{b7}.part"))).unwrap();
    eventually(T, "the folder in done/", || async {
        inbox.join("done").join(&id).is_dir().then_some(())
    })
    .await;
    let (_, h) = srv.get("/api/v1/healthz", "").await;
    assert_eq!(h["counts"]["hotspots"].as_u64(), Some(2), "{h}");
    assert!(
        !inbox
            .join("done")
            .join(format!("{}.warnings", id.to_string_lossy()))
            .exists(),
        "a complete folder has nothing to report"
    );

    // Without band 6, for good: after the wait it goes to failed/ naming the band.
    let mut other = spec();
    other.seed = 23;
    let folder = generate(&other)
        .write(&staging.join("b"), WriteOptions::default())
        .unwrap();
    let id = folder.file_name().unwrap().to_owned();
    let name = format!("{}-copy", id.to_string_lossy());
    // Named otherwise: found by its MTL.
    copy_product(&folder, &inbox.join(&name), &["_B6.TIF"]);
    let reason = eventually(T, "the folder in failed/", || async {
        std::fs::read_to_string(inbox.join("failed").join(format!("{name}.reason"))).ok()
    })
    .await;
    assert!(
        reason.contains("_B6.TIF") && reason.contains("incomplete"),
        "{reason}"
    );
    assert!(inbox.join("failed").join(&name).is_dir());

    // Without QA_RADSAT only (bands 1–7 there): taken after the wait, the gap reported.
    let mut third = spec();
    third.seed = 24;
    let folder = generate(&third)
        .write(&staging.join("c"), WriteOptions::default())
        .unwrap();
    let id = folder.file_name().unwrap().to_owned();
    copy_product(&folder, &inbox.join(&id), &["_QA_RADSAT.TIF"]);
    let warnings = eventually(T, "the folder's warnings in done/", || async {
        std::fs::read_to_string(
            inbox
                .join("done")
                .join(format!("{}.warnings", id.to_string_lossy())),
        )
        .ok()
    })
    .await;
    assert!(
        warnings.contains("taken incomplete") && warnings.contains("_QA_RADSAT.TIF"),
        "{warnings}"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firms_landsat_csv_in_the_inbox_is_stored_as_oli_at_30_m() {
    let srv = TestServer::start().await;
    let inbox = srv.inbox();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hotspots/firms_landsat_nrt_henan_shaped.csv");
    // A Landsat row with a WRS-2 row out of range: reported, the rest taken.
    let mut text = std::fs::read_to_string(&fixture).unwrap();
    text.push_str("34.6,114.8,123,300,4521,3310,2024-06-10,257,L9,H,D\n");
    let part = inbox.join("LANDSAT_NRT_area.csv.part");
    std::fs::write(&part, text).unwrap();
    std::fs::rename(&part, inbox.join("LANDSAT_NRT_area.csv")).unwrap();
    let warnings = eventually(T, "the feed in done/ with its warning", || async {
        std::fs::read_to_string(inbox.join("done").join("LANDSAT_NRT_area.csv.warnings")).ok()
    })
    .await;
    assert!(
        warnings.contains("line 10") && warnings.contains("field `row`"),
        "{warnings}"
    );
    let (_, h) = srv.get("/api/v1/healthz", "").await;
    assert_eq!(h["counts"]["hotspots"].as_u64(), Some(8), "{h}");
    let features = srv
        .features(
            "/api/v1/hotspots?from=2024-06-01T00:00:00Z&to=2024-07-01T00:00:00Z",
            ADMIN,
        )
        .await;
    assert_eq!(features.len(), 8);
    for f in &features {
        let p = &f["properties"];
        assert_eq!(p["instrument"], "OLI", "{p}");
        assert!(p["satellite"] == "L8" || p["satellite"] == "L9", "{p}");
        assert_eq!(p["scan"].as_f64(), Some(0.03), "{p}");
    }
    srv.stop().await;
}
