//! A MODIS pair through the service (issue 20): `POST /api/v1/scenes` with a MYD021KM and its
//! MYD03 in one `multipart/form-data` request is scanned by the C6.1 detector and stored (201,
//! the granule's fires as new hotspots, FIRMS MODIS columns), the same pair again is already
//! stored (200), and a MOD14 fire product is taken by `strawfire`'s ingest path: alone as a
//! feed (coverage unknown), with its MYD03 beside it as a scene with the fire mask's coverage.

mod common;

use chrono::{TimeZone, Utc};
use common::server::*;
use strawfire::detect::modis::detect_modis;
use strawfire::model::modis::ModisModel;
use strawfire::product::write::{modis as modis_write, modis_af};
use strawfire::synth::modis::{generate_modis, random_modis_fires, ModisSpec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_scenes_takes_a_modis_pair_and_ingest_takes_mod14() {
    let srv = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.limits.scene_bytes = 64 << 20;
    })
    .await;
    let staging = srv.dir.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    // Three scans of an Aqua afternoon over the North China Plain with planted fires.
    let mut spec = ModisSpec::day(30, 1354, 11);
    spec.fires = random_modis_fires(&spec, 30);
    let g = generate_modis(&spec).unwrap();
    let expected = detect_modis(&g.input(), &ModisModel::builtin(), &g.pixel_area())
        .unwrap()
        .fires
        .len();
    assert!(expected >= 3, "{expected} fires in memory");
    let files = modis_write::write(&g.granule, &staging, &Default::default()).unwrap();
    let geo = files.geo.clone().unwrap();

    let (status, v) = srv.post_scene_files(&[&geo, &files.data]).await;
    assert_eq!(status, 201, "{v}");
    let new = v["report"]["hotspots_new"].as_u64().unwrap();
    // The scan of the files finds the fires found in memory (the L1B quantisation may move a
    // marginal one).
    assert!(
        new as usize + 1 >= expected && new as usize <= expected + 1,
        "{new} stored, {expected} in memory: {v}"
    );
    let (status, v) = srv.post_scene_files(&[&files.data, &geo]).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["report"]["already_ingested"], true, "{v}");

    // MOD14 of a night granule: a feed by its name, through the same ingest the inbox uses.
    let mut spec = ModisSpec::night(30, 1354, 12);
    spec.fires = random_modis_fires(&spec, 30);
    let night = generate_modis(&spec).unwrap();
    let d = detect_modis(&night.input(), &ModisModel::builtin(), &night.pixel_area()).unwrap();
    let processed = Utc.with_ymd_and_hms(2024, 6, 3, 1, 2, 3).unwrap();
    let mod14 = modis_af::write(&night.granule, &d, &staging, processed).unwrap();
    assert!(!d.fires.is_empty());
    let service = &srv.running.as_ref().unwrap().service;
    let got = service
        .ingest_path(&mod14, "test")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.report.hotspots_new, d.fires.len(), "{:?}", got.report);
    assert!(got.warnings.is_empty(), "{:?}", got.warnings);
    // Without its MYD03 its coverage is unknown (a feed), said in the notes.
    assert!(
        got.notes.iter().any(|n| n.contains("coverage unknown")),
        "{:?}",
        got.notes
    );
    // With its MYD03 beside it: a scene whose fire mask gives coverage for fair rankings.
    let mut spec = ModisSpec::night(30, 1354, 13);
    spec.fires = random_modis_fires(&spec, 30);
    let night = generate_modis(&spec).unwrap();
    let d = detect_modis(&night.input(), &ModisModel::builtin(), &night.pixel_area()).unwrap();
    let paired = srv.dir.path().join("paired");
    std::fs::create_dir_all(&paired).unwrap();
    modis_write::write(&night.granule, &paired, &Default::default()).unwrap();
    let mod14 = modis_af::write(&night.granule, &d, &paired, processed).unwrap();
    let got = service
        .ingest_path(&mod14, "test")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.report.hotspots_new, d.fires.len(), "{:?}", got.report);
    assert!(got.notes.is_empty(), "{:?}", got.notes);
    srv.stop().await;
}
