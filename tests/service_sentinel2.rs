//! The service takes Sentinel-2 products whole: a SAFE `.zip` renamed into the inbox is scanned
//! and stored like a scene (its fires, summary and coverage) and moved to `done/`; a second copy
//! of it is not stored twice; an unzipped `.SAFE` folder is taken once it has arrived whole.

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

/// Copies a SAFE folder's tree into `to`, except the files whose names end with one of `skip`.
fn copy_tree(
    from: &std::path::Path,
    to: &std::path::Path,
    skip: &[&str],
) -> Vec<std::path::PathBuf> {
    let mut held = Vec::new();
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            held.extend(copy_tree(&p, &target, skip));
        } else if skip.iter().any(|s| p.to_string_lossy().ends_with(s)) {
            held.push(p);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unzipped_safe_folder_is_taken_once_whole_and_an_incomplete_one_reported() {
    let srv = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.inbox.partner_wait_s = 2.0;
    })
    .await;
    let inbox = srv.inbox();
    let staging = srv.dir.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    let mut spec = Sentinel2Spec::day(60, 60, 31);
    spec.clouds = false;
    spec.fires = vec![PlantedFire {
        row: 30,
        col: 30,
        area_m2: 20.0,
        temp_k: 1000.0,
    }];
    let safe = generate(&spec)
        .write(&staging, WriteOptions::default())
        .unwrap();
    let name = safe.file_name().unwrap().to_owned();
    // Unzipped in place: B12 arrives last, copied in place (half of it first). (The band, not
    // its footprint mask QI_DATA/MSK_DETFOO_B12.jp2: the band's name ends in the sensing time.)
    let target = inbox.join(&name);
    let held = copy_tree(&safe, &target, &["T030541_B12.jp2"]);
    assert_eq!(held.len(), 1);
    let rel = held[0].strip_prefix(&safe).unwrap().to_path_buf();
    let bytes = std::fs::read(&held[0]).unwrap();
    std::fs::write(target.join(&rel), &bytes[..bytes.len() / 3]).unwrap();
    // Held, not failed, while it is short (well within the 2 s wait).
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(target.exists() && !inbox.join("failed").join(&name).exists());
    let (_, h) = srv.get("/api/v1/healthz", "").await;
    assert_eq!(h["counts"]["hotspots"].as_u64(), Some(0), "{h}");
    std::fs::write(target.join(&rel), &bytes).unwrap();
    eventually(T, "the SAFE folder in done/", || async {
        inbox.join("done").join(&name).is_dir().then_some(())
    })
    .await;
    let (_, h) = srv.get("/api/v1/healthz", "").await;
    assert_eq!(h["counts"]["hotspots"].as_u64(), Some(1), "{h}");
    assert!(
        !inbox
            .join("done")
            .join(format!("{}.warnings", name.to_string_lossy()))
            .exists(),
        "a complete folder has nothing to report"
    );

    // Unzipped into a folder of another name, B11 never arriving: failed/ after the wait,
    // naming the band.
    let mut other = spec.clone();
    other.seed = 32;
    other.tile = "50SLJ".into();
    let safe = generate(&other)
        .write(&staging.join("b"), WriteOptions::default())
        .unwrap();
    let outer = inbox.join("download-2");
    copy_tree(
        &safe,
        &outer.join(safe.file_name().unwrap()),
        &["T030541_B11.jp2"],
    );
    let reason = eventually(T, "the folder in failed/", || async {
        std::fs::read_to_string(inbox.join("failed").join("download-2.reason")).ok()
    })
    .await;
    assert!(
        reason.contains("_B11.jp2") && reason.contains("incomplete Sentinel-2"),
        "{reason}"
    );
    let (_, h) = srv.get("/api/v1/healthz", "").await;
    assert_eq!(h["counts"]["hotspots"].as_u64(), Some(1), "{h}");
    srv.stop().await;
}
