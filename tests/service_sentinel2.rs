//! The service takes Sentinel-2 products whole: a SAFE `.zip` renamed into the inbox is scanned
//! and stored like a scene (its fires, summary and coverage) and moved to `done/`; a second copy
//! of it is not stored twice.

mod common;

use std::time::Duration;

use common::server::*;
use strawfire::service::FileKind;
use strawfire::synth::sentinel2::{generate, PlantedFire, Sentinel2Spec, WriteOptions};

const T: Duration = Duration::from_secs(60);

#[test]
fn only_the_zip_of_a_sentinel2_product_is_an_inbox_file() {
    let name = "S2A_MSIL1C_20240610T030541_N0510_R075_T50SLH_20240610T052008";
    let kind = |n: &str| FileKind::of(std::path::Path::new(n));
    assert_eq!(
        kind(&format!("{name}.zip")),
        Some(FileKind::Sentinel2Product)
    );
    assert_eq!(
        kind(&format!("{name}.SAFE.zip")),
        Some(FileKind::Sentinel2Product)
    );
    assert_eq!(kind(&format!("{name}.SAFE")), None);
    assert_eq!(kind("T50SLH_20240610T030541_B12.jp2"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel2_zip_dropped_into_the_inbox_is_scanned_and_stored_once() {
    let srv = TestServer::start().await;
    let inbox = srv.inbox();
    let staging = srv.dir.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    let mut spec = Sentinel2Spec::day(90, 90, 21);
    spec.clouds = false;
    spec.fires = vec![
        PlantedFire {
            row: 30,
            col: 40,
            area_m2: 20.0,
            temp_k: 1000.0,
        },
        PlantedFire {
            row: 70,
            col: 60,
            area_m2: 20.0,
            temp_k: 1100.0,
        },
    ];
    let zip = generate(&spec)
        .write(
            &staging,
            WriteOptions {
                zip: true,
                tile_px: 64,
                ..WriteOptions::default()
            },
        )
        .unwrap();
    let copy = staging.join("again.bin");
    std::fs::copy(&zip, &copy).unwrap();
    let name = zip.file_name().unwrap().to_owned();
    std::fs::rename(&zip, inbox.join(&name)).unwrap();
    eventually(T, "the zip in done/", || async {
        inbox.join("done").join(&name).exists().then_some(())
    })
    .await;
    let (_, h) = srv.get("/api/v1/healthz", "").await;
    assert_eq!(h["counts"]["hotspots"].as_u64(), Some(2), "{h}");
    // The same zip again: already stored, nothing added.
    std::fs::remove_file(inbox.join("done").join(&name)).unwrap();
    std::fs::rename(&copy, inbox.join(&name)).unwrap();
    eventually(T, "the copy in done/", || async {
        inbox.join("done").join(&name).exists().then_some(())
    })
    .await;
    let (_, h) = srv.get("/api/v1/healthz", "").await;
    assert_eq!(h["counts"]["hotspots"].as_u64(), Some(2), "{h}");
    srv.stop().await;
}
