//! The service takes multi-file products: an L1B pair dropped into the inbox one file at a time
//! is scanned once complete (both files to `done/`); a lone file waits `partner_wait_s`, then
//! fails with the missing file named in its `.reason`.

mod common;

use std::time::Duration;

use common::server::*;
use strawfire::product::write::viirs_l1b::{self as l1b_write, L1bOptions};
use strawfire::synth::{generate_swath, random_fires_for, SwathSpec};

const T: Duration = Duration::from_secs(60);

/// One scan (32 × 6400) of a synthetic night swath with planted fires, as an L1B pair in `dir`.
fn l1b_pair(dir: &std::path::Path) -> l1b_write::L1bFiles {
    let mut spec = SwathSpec::night(1, 3);
    spec.scene.fires = random_fires_for(&spec.scene, 12);
    let swath = generate_swath(&spec).unwrap();
    l1b_write::write(&swath.granule, dir, &L1bOptions::default()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_l1b_pair_arriving_file_by_file_is_scanned_once_complete() {
    let srv = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.inbox.partner_wait_s = 30.0;
    })
    .await;
    let inbox = srv.inbox();
    let staging = srv.dir.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    let files = l1b_pair(&staging);
    let name = |p: &std::path::Path| p.file_name().unwrap().to_owned();

    // The geolocation first: it waits (not failed, not done) for its partner.
    std::fs::rename(&files.geo, inbox.join(name(&files.geo))).unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        inbox.join(name(&files.geo)).exists(),
        "held for its partner"
    );
    assert!(!inbox.join("failed").join(name(&files.geo)).exists());

    // Then the observation file: the pair is scanned and both move to done/.
    std::fs::rename(&files.data, inbox.join(name(&files.data))).unwrap();
    eventually(T, "the pair in done/", || async {
        (inbox.join("done").join(name(&files.data)).exists()
            && inbox.join("done").join(name(&files.geo)).exists())
        .then_some(())
    })
    .await;
    let (_, h) = srv.get("/api/v1/healthz", "").await;
    assert!(
        h["counts"]["hotspots"].as_u64().unwrap() > 0,
        "the pair's fires are stored: {h}"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_l1b_file_fails_after_the_partner_wait_naming_what_is_missing() {
    let srv = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.inbox.partner_wait_s = 1.0;
    })
    .await;
    let inbox = srv.inbox();
    let staging = srv.dir.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    let files = l1b_pair(&staging);
    let data = files
        .data
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    std::fs::rename(&files.data, inbox.join(&data)).unwrap();
    let reason_path = inbox.join("failed").join(format!("{data}.reason"));
    let reason = eventually(T, "the lone file's reason", || async {
        std::fs::read_to_string(&reason_path).ok()
    })
    .await;
    assert!(
        reason.contains("incomplete VIIRS L1B granule")
            && reason.contains("the geolocation file (V?P03IMG)")
            && reason.contains("partner_wait_s"),
        "{reason}"
    );
    assert!(inbox.join("failed").join(&data).exists());
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_scenes_takes_a_pair_or_a_fire_product_with_its_geolocation_in_one_request() {
    let srv = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.limits.scene_bytes = 64 << 20;
    })
    .await;
    let staging = srv.dir.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    let files = l1b_pair(&staging);
    let (status, v) = srv.post_scene_files(&[&files.data, &files.geo]).await;
    assert_eq!(status, 201, "{v}");
    assert!(v["report"]["hotspots_new"].as_u64().unwrap() > 0, "{v}");
    // The same pair again: already stored.
    let (status, v) = srv.post_scene_files(&[&files.geo, &files.data]).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["report"]["already_ingested"], true);

    // The official product with its geolocation: stored with coverage, no note.
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/viirs");
    let vnp14 = fixtures.join("VJ114IMG.A2024160.0542.002.2024160054200.nc");
    let vnp03 = fixtures.join("VJ103IMG.A2024160.0542.002.2024160054200.nc");
    let (status, v) = srv.post_scene_files(&[&vnp14, &vnp03]).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["report"]["hotspots_new"], 3, "{v}");
    assert!(v.get("notes").is_none(), "{v}");

    // A lone observation file: 422 naming the missing geolocation, by the client's name.
    let (status, v) = srv.post_scene_files(&[&files.data]).await;
    assert_eq!(status, 422, "{v}");
    let msg = v["error"].as_str().unwrap();
    assert!(
        msg.contains("02IMG")
            && msg.contains("geolocation file is missing")
            && !msg.contains("uploads"),
        "{msg}"
    );
    // Two unrelated files in one request: 400.
    std::fs::write(staging.join("x.tif"), b"x").unwrap();
    let (status, v) = srv
        .post_scene_files(&[&vnp14, &files.data, &staging.join("x.tif")])
        .await;
    assert_eq!(status, 400, "{v}");
    srv.stop().await;
}

on_both_stores!(a_pair_with_a_broken_file_fails_naming_that_file_once,);

/// An L1B pair whose geolocation file is cut short: both files go to `failed/`, and each
/// `.reason` names the broken file once, first, and its partner once, after the reader's words
/// (`VJ103…: cannot open as NetCDF: … (granule with VJ102…)`), never a spool path.
async fn a_pair_with_a_broken_file_fails_naming_that_file_once(b: common::stores::Backend) {
    let srv = TestServer::start_on_with(
        b,
        tempfile::tempdir().unwrap(),
        |c| c.inbox.partner_wait_s = 30.0,
        std::sync::Arc::new(GridPlacer),
    )
    .await;
    let inbox = srv.inbox();
    let staging = srv.dir.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    let files = l1b_pair(&staging);
    let bytes = std::fs::read(&files.geo).unwrap();
    std::fs::write(&files.geo, &bytes[..bytes.len() / 3]).unwrap();
    let name = |p: &std::path::Path| p.file_name().unwrap().to_string_lossy().into_owned();
    let (data, geo) = (name(&files.data), name(&files.geo));
    std::fs::rename(&files.geo, inbox.join(&geo)).unwrap();
    std::fs::rename(&files.data, inbox.join(&data)).unwrap();
    for file in [&data, &geo] {
        let reason_path = inbox.join("failed").join(format!("{file}.reason"));
        let reason = eventually(T, "the pair's reasons", || async {
            std::fs::read_to_string(&reason_path).ok()
        })
        .await;
        let reason = reason.trim();
        assert_eq!(reason.matches(&geo).count(), 1, "{reason}");
        assert_eq!(reason.matches(&data).count(), 1, "{reason}");
        assert!(
            reason.ends_with(&format!(" (granule with {data})")) && !reason.contains("spool"),
            "{reason}"
        );
    }
    srv.stop().await;
}
