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
