//! Every kind of product is one scene job (#19, with #18 and #20's "everywhere the service
//! takes a scene"): a Landsat product unpacked into a folder, a Sentinel-2 `.zip` and a MODIS
//! `MYD021KM` + `MYD03` pair arrive in the inbox (and by `POST /api/v1/scenes`), each goes whole
//! into the spool as one unit, one job scans it, and it is stored once.
//!
//! - `sqlite::products_arrive_whole_and_are_scanned_once` / `postgres::…`: one `serve` (in the
//!   test process); on SQLite it scans what it receives itself, on PostgreSQL its own worker
//!   claims the jobs (one per product, op `landsat` / `sentinel2` / `granule`), and the spool
//!   is empty afterwards.
//! - `a_worker_killed_mid_product_loses_it_to_another`: real processes on PostgreSQL: an API
//!   node without a worker (`serve --no-worker`) and `strawfire worker`s; the worker scanning a
//!   Landsat folder is killed with SIGKILL, its lease passes and another worker finishes it;
//!   the Sentinel-2 zip and the MODIS pair are scanned by the workers too. Every product is
//!   stored once, every job done by a worker, and each inbox entry is in `done/`.
//!
//! The PostgreSQL tests are skipped without `STRAWFIRE_TEST_PG_URL` (scripts/pg.sh), failed
//! without it under `CI=true`.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::cluster::Cluster;
use common::server::*;
use common::stores::{Backend, PgSchema};
use strawfire::product::write::landsat_c2l1::WriteOptions as LandsatWrite;
use strawfire::synth::landsat::{self, LandsatSpec};
use strawfire::synth::modis::{generate_modis, random_modis_fires, ModisSpec};
use strawfire::synth::sentinel2::{self, Sentinel2Spec, WriteOptions as S2Write};

const T: Duration = Duration::from_secs(120);

/// A Landsat product with two planted fires, `side` pixels square.
fn landsat_spec(side: usize, seed: u64) -> LandsatSpec {
    let mut spec = LandsatSpec::day(side, side, seed);
    spec.clouds = false;
    spec.fires = [(side / 4, side / 3), (3 * side / 4, 2 * side / 3)]
        .into_iter()
        .map(|(row, col)| landsat::PlantedFire {
            row,
            col,
            area_m2: 30.0,
            temp_k: 1000.0,
        })
        .collect();
    spec
}

/// A Sentinel-2 tile with two planted fires.
fn sentinel2_spec(seed: u64) -> Sentinel2Spec {
    let mut spec = Sentinel2Spec::day(90, 90, seed);
    spec.clouds = false;
    spec.fires = [(30, 40), (70, 60)]
        .into_iter()
        .map(|(row, col)| sentinel2::PlantedFire {
            row,
            col,
            area_m2: 20.0,
            temp_k: 1000.0,
        })
        .collect();
    spec
}

/// The products of one run, written under `staging`: a Landsat folder, a Sentinel-2 zip and a
/// MODIS pair, with the fires the MODIS pair's scan finds in memory.
struct Products {
    landsat: PathBuf,
    zip: PathBuf,
    modis: [PathBuf; 2],
}

fn write_products(staging: &Path, landsat_side: usize, seed: u64) -> Products {
    std::fs::create_dir_all(staging).unwrap();
    let landsat = landsat::generate(&landsat_spec(landsat_side, seed))
        .write(&staging.join("l"), LandsatWrite::default())
        .unwrap();
    let zip = sentinel2::generate(&sentinel2_spec(seed))
        .write(
            &staging.join("s"),
            S2Write {
                zip: true,
                tile_px: 64,
                ..S2Write::default()
            },
        )
        .unwrap();
    let mut spec = ModisSpec::day(30, 1354, seed);
    spec.fires = random_modis_fires(&spec, 30);
    let g = generate_modis(&spec).unwrap();
    let m = staging.join("m");
    std::fs::create_dir_all(&m).unwrap();
    let files =
        strawfire::product::write::modis::write(&g.granule, &m, &Default::default()).unwrap();
    Products {
        landsat,
        zip,
        modis: [files.data, files.geo.unwrap()],
    }
}

/// Moves `from` into `dir` under its own name (a rename: it appears whole).
fn drop_into(dir: &Path, from: &Path) -> PathBuf {
    let to = dir.join(from.file_name().unwrap());
    std::fs::rename(from, &to).unwrap();
    to
}

/// Everything of `products` in `inbox/done/`.
async fn all_done(inbox: &Path, products: &Products) {
    let names: Vec<PathBuf> = [&products.landsat, &products.zip]
        .into_iter()
        .chain(products.modis.iter())
        .map(|p| inbox.join("done").join(p.file_name().unwrap()))
        .collect();
    eventually(T, "every product in done/", || {
        let names = names.clone();
        let failed = inbox.join("failed");
        async move {
            let reasons: Vec<String> = std::fs::read_dir(&failed)
                .into_iter()
                .flatten()
                .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .collect();
            assert!(reasons.is_empty(), "failed: {reasons:?}");
            names.iter().all(|n| n.exists()).then_some(())
        }
    })
    .await;
}

/// The scene jobs as (op, state, attempts, worker), by id.
fn scene_jobs(c: &mut ::postgres::Client) -> Vec<(String, String, i64, Option<String>)> {
    c.query(
        "SELECT payload->>'op', state, attempts, worker FROM jobs WHERE kind = 'scene' ORDER BY id",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect()
}

async fn products_arrive_whole_and_are_scanned_once(backend: Backend) {
    let srv = TestServer::start_for_products(backend).await;
    let inbox = srv.inbox();
    let staging = srv.dir.path().join("staging");
    let p = tokio::task::spawn_blocking({
        let staging = staging.clone();
        move || write_products(&staging, 120, 21)
    })
    .await
    .unwrap();
    // The MODIS pair arrives one file after the other: the data file waits for its partner.
    drop_into(&inbox, &p.modis[0]);
    drop_into(&inbox, &p.landsat);
    drop_into(&inbox, &p.zip);
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop_into(&inbox, &p.modis[1]);
    all_done(&inbox, &p).await;
    let (_, h) = srv.get("/api/v1/healthz", "").await;
    assert_eq!(h["counts"]["scenes"].as_u64(), Some(3), "{h}");
    let hotspots = h["counts"]["hotspots"].as_u64().unwrap();
    // Two fires in each of the high-resolution products, the pair's own.
    assert!(hotspots >= 4 + 3, "{h}");

    // By upload: another MODIS pair in one request, and a Landsat product's loose files.
    let q = tokio::task::spawn_blocking({
        let staging = staging.join("upload");
        move || write_products(&staging, 100, 22)
    })
    .await
    .unwrap();
    let (status, v) = srv.post_scene_files(&q.modis).await;
    assert_eq!(status, 201, "{v}");
    assert!(v["report"]["hotspots_new"].as_u64().unwrap() >= 3, "{v}");
    let loose: Vec<PathBuf> = std::fs::read_dir(&q.landsat)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let (status, v) = srv.post_scene_files(&loose).await;
    assert_eq!(status, 201, "{v}");
    let r = &v["report"];
    assert_eq!(
        r["hotspots_new"].as_u64().unwrap() + r["hotspots_duplicate"].as_u64().unwrap(),
        2,
        "{v}"
    );
    let (status, v) = srv.post_scene_files(std::slice::from_ref(&q.zip)).await;
    assert_eq!(status, 201, "{v}");
    // The same pair again: stored already, not queued or scanned again.
    let (status, v) = srv.post_scene_files(&q.modis).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["report"]["already_ingested"], true, "{v}");
    // The pair without its geolocation is another granule (the MYD021KM alone), but a pair of
    // files that are no granule fails naming the file, not our spool.
    let bad = staging.join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    let truncated = bad.join(q.modis[0].file_name().unwrap());
    let bytes = std::fs::read(&q.modis[0]).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let (status, v) = srv.post_scene_files(&[truncated]).await;
    assert_eq!(status, 422, "{v}");
    let message = v["error"].as_str().unwrap_or_default();
    assert!(
        message.contains("MYD021KM") && !message.contains("spool"),
        "{message}"
    );
    let (_, h) = srv.get("/api/v1/healthz", "").await;
    assert_eq!(h["counts"]["scenes"].as_u64(), Some(6), "{h}");

    if let Some(pg) = &srv.pg {
        let jobs = pg.with(scene_jobs);
        let ops: Vec<&str> = jobs.iter().map(|j| j.0.as_str()).collect();
        assert_eq!(ops.len(), 7, "{jobs:?}");
        for op in ["landsat", "sentinel2", "granule"] {
            assert!(ops.iter().filter(|o| **o == op).count() >= 2, "{jobs:?}");
        }
        let failed = jobs.iter().filter(|j| j.1 == "failed").count();
        let done = jobs.iter().filter(|j| j.1 == "done").count();
        assert_eq!((done, failed), (6, 1), "{jobs:?}");
        assert!(jobs.iter().all(|j| j.2 == 1 && j.3.is_some()), "{jobs:?}");
        let spool = srv.dir.path().join("data").join("spool");
        let left: Vec<_> = std::fs::read_dir(&spool).unwrap().collect();
        assert!(left.is_empty(), "spool not emptied: {left:?}");
    } else {
        let spool = srv.dir.path().join("data").join("spool");
        assert!(!spool.exists(), "SQLite queues nothing");
    }
    srv.stop().await;
}

on_both_stores!(products_arrive_whole_and_are_scanned_once);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_product_loses_it_to_another() {
    let test = "a_worker_killed_mid_product_loses_it_to_another";
    if !common::stores::postgres_available(test) {
        return;
    }
    let pg = tokio::task::spawn_blocking(PgSchema::new).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::new(
        dir.path(),
        &format!(
            "[store]\nurl = \"{}\"\n\
             [inbox]\npoll_s = 0.05\nsettle_s = 0.2\npartner_wait_s = 60.0\n\
             [limits]\nscan_workers = 1\n",
            pg.url
        ),
        "lease_s = 2.0\npoll_s = 0.05\n",
    );
    let side: usize = std::env::var("STRAWFIRE_TEST_KILL_SIDE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let staging = dir.path().join("staging");
    let p = tokio::task::spawn_blocking({
        let staging = staging.clone();
        move || write_products(&staging, side, 31)
    })
    .await
    .unwrap();

    let (_node, _) = cluster.serve("node", "node");
    let (mut first, first_name) = cluster.worker(0);
    let inbox = dir.path().join("node").join("inbox");
    let landsat_name = p
        .landsat
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    drop_into(&inbox, &p.landsat);

    // The one worker claims the Landsat folder and is stopped (SIGSTOP) once it has begun to
    // scan it (its "scanning" line: the scan takes seconds), then killed there: stopped, it can
    // neither finish the job nor renew its lease, so what the job table says at the kill is
    // what it says after it, whatever the machine's load.
    let t = Instant::now();
    while !first.log_text().contains(": scanning ") {
        assert!(
            t.elapsed() < T,
            "the Landsat folder was never scanned: {:?}\n{}",
            pg.with(scene_jobs),
            first.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.pause();
    let jobs = pg.with(scene_jobs);
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(
        (jobs[0].0.as_str(), jobs[0].1.as_str(), jobs[0].3.as_deref()),
        ("landsat", "running", Some(first_name.as_str())),
        "the scan ended before the kill (make it bigger): {jobs:?}\n{}",
        first.log_tail()
    );
    first.kill9();

    // Two other workers; the rest of the products arrive.
    let others = cluster.workers(1..3);
    drop_into(&inbox, &p.zip);
    drop_into(&inbox, &p.modis[1]);
    drop_into(&inbox, &p.modis[0]);
    all_done(&inbox, &p).await;

    let jobs = pg.with(scene_jobs);
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    let landsat = &jobs[0];
    assert_eq!(landsat.0, "landsat", "{jobs:?}");
    assert_eq!(landsat.1, "done", "{jobs:?}");
    assert_eq!(
        landsat.2, 2,
        "claimed again once the lease passed: {jobs:?}"
    );
    let worker_names: Vec<&str> = others.iter().map(|w| w.1.as_str()).collect();
    for j in &jobs {
        assert_eq!(j.1, "done", "{jobs:?}");
        assert!(worker_names.contains(&j.3.as_deref().unwrap()), "{jobs:?}");
    }
    let mut ops: Vec<&str> = jobs.iter().map(|j| j.0.as_str()).collect();
    ops.sort();
    assert_eq!(ops, ["granule", "landsat", "sentinel2"]);
    let (scenes, names): (i64, Vec<String>) = pg.with(|c| {
        let n = c
            .query_one("SELECT COUNT(*) FROM scenes", &[])
            .unwrap()
            .get(0);
        let names = c
            .query("SELECT name FROM scenes ORDER BY name", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        (n, names)
    });
    assert_eq!(scenes, 3, "each product stored once: {names:?}");
    assert!(names.contains(&landsat_name), "{names:?}");
    let hotspots: i64 = pg.with(|c| {
        c.query_one("SELECT COUNT(*) FROM hotspots", &[])
            .unwrap()
            .get(0)
    });
    assert!(hotspots >= 4 + 3, "{hotspots} hotspots");
    let left: Vec<_> = std::fs::read_dir(&cluster.spool).unwrap().collect();
    assert!(left.is_empty(), "spool not emptied: {left:?}");
}
