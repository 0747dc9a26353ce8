//! The work of a deployment that is done as jobs on the shared store (#19 part 3), on both
//! stores: on SQLite the one process does it itself, on PostgreSQL workers claim it.
//!
//! - `fire_products_are_read_by_a_worker`: an official fire product (the VJ114IMG fixture with
//!   its VJ103IMG) dropped into the inbox, its AFIMG by `POST /scenes`, a MOD14 with its MYD03 by
//!   `POST /scenes`: each stored once (the VJ114IMG and the MOD14 as scenes with coverage, read
//!   with the geolocation that came with them); on PostgreSQL each is one scene job of op
//!   `fire_product` done by a worker, with its geolocation carried in the spool, the spool
//!   emptied afterwards.
//! - `ingest_queues_products_for_the_workers`: two `strawfire ingest` runs at once (two
//!   operators) of one folder holding a MODIS pair and the VJ114IMG + VJ103IMG. On PostgreSQL,
//!   with two `strawfire worker` processes: one job per product, each claimed once, scanned once
//!   (one "scanning" line in the two workers' logs together), its hotspots stored once; the runs
//!   print the jobs and their results; `--no-wait` returns with the job queued; `--local` reads
//!   here; a feed URL is a one-shot `fetch` job a worker fetches once. On SQLite the runs scan
//!   (and fetch) themselves and store each product once; `--queue` is refused.
//! - `a_feed_is_polled_once_per_interval`: a FIRMS source with a 1 s interval on a fake feed
//!   server. On PostgreSQL two API nodes, each with its worker, share the source's one periodic
//!   job: the requests the server sees are at least an interval apart (two pollers would ask
//!   twice at start and every interval after), one job row. On SQLite the one server's poller.
//!
//! - `samples_are_scanned_once_for_every_node`: the samples folder every `serve` ingests at
//!   start; on PostgreSQL two nodes start on it and its scene is one job, scanned by a worker,
//!   not by each node.
//!
//! - `a_scene_no_worker_reaches_fails_with_the_reason` (PostgreSQL only): a scene whose spooled
//!   copy the worker cannot see fails after `[worker] max_attempts` with that reason (kind
//!   `unavailable`), and the upload is answered 503 saying so.
//!
//! The PostgreSQL halves are skipped without `STRAWFIRE_TEST_PG_URL` (scripts/pg.sh), failed
//! without it under `CI=true`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::cluster::Cluster;
use common::server::*;
use common::stores::{Backend, PgSchema};
use strawfire::config::SourceConfig;
use strawfire::synth::modis::{generate_modis, random_modis_fires, ModisSpec};

const T: Duration = Duration::from_secs(120);

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/viirs")
}

const VJ114: &str = "VJ114IMG.A2024160.0542.002.2024160054200.nc";
const VJ103: &str = "VJ103IMG.A2024160.0542.002.2024160054200.nc";
const AFIMG: &str =
    "AFIMG_j01_d20240608_t0542000_e0543250_b00000_c20240608054200000000_cspp_dev.txt";
const AFIMG_NC: &str =
    "AFIMG_j01_d20240608_t0542000_e0543250_b00000_c20240608054200000000_cspp_dev.nc";

/// Copies fixture `name` into `dir`.
fn fixture_into(dir: &Path, name: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let to = dir.join(name);
    std::fs::copy(fixtures().join(name), &to).unwrap();
    to
}

/// A MODIS `MYD021KM` + `MYD03` pair with fires, written into `dir`.
fn modis_pair(dir: &Path, seed: u64) -> [PathBuf; 2] {
    std::fs::create_dir_all(dir).unwrap();
    let mut spec = ModisSpec::day(30, 1354, seed);
    spec.fires = random_modis_fires(&spec, 30);
    let g = generate_modis(&spec).unwrap();
    let files =
        strawfire::product::write::modis::write(&g.granule, dir, &Default::default()).unwrap();
    [files.data, files.geo.unwrap()]
}

/// A MOD14-family product (`MYD14`) with fires and its `MYD03`, written into `dir`.
fn mod14_with_geolocation(dir: &Path) -> (PathBuf, PathBuf, usize) {
    use strawfire::detect::modis::detect_modis;
    use strawfire::model::modis::ModisModel;
    std::fs::create_dir_all(dir).unwrap();
    let mut spec = ModisSpec::day(60, 1354, 7);
    spec.fires = random_modis_fires(&spec, 40);
    let g = generate_modis(&spec).unwrap();
    let d = detect_modis(&g.input(), &ModisModel::builtin(), &g.pixel_area()).unwrap();
    let processed = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2024, 6, 3, 1, 2, 3).unwrap();
    let mod14 = strawfire::product::write::modis_af::write(&g.granule, &d, dir, processed).unwrap();
    let geo_dir = dir.join("geo");
    std::fs::create_dir_all(&geo_dir).unwrap();
    let files =
        strawfire::product::write::modis::write(&g.granule, &geo_dir, &Default::default()).unwrap();
    let geo = dir.join(files.geo.as_ref().unwrap().file_name().unwrap());
    std::fs::rename(files.geo.unwrap(), &geo).unwrap();
    (mod14, geo, d.fires.len())
}

/// The scene jobs as (op, state, attempts, worker, number of files carried), by id.
type JobLine = (String, String, i64, Option<String>, i64);

fn scene_jobs(c: &mut ::postgres::Client) -> Vec<JobLine> {
    c.query(
        "SELECT payload->>'op', state, attempts, worker,
                COALESCE(jsonb_array_length(payload->'files'), 1)::BIGINT
         FROM jobs WHERE kind = 'scene' ORDER BY id",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
    .collect()
}

fn empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none())
}

async fn fire_products_are_read_by_a_worker(backend: Backend) {
    // The VJ103IMG waits (60 s) for a VJ102IMG that never comes, beside its fire product.
    let srv = TestServer::start_for_products(backend).await;
    let inbox = srv.inbox();
    let staging = srv.dir.path().join("staging");
    // The geolocation first, then the product (each appears whole, by a rename).
    for name in [VJ103, VJ114] {
        let from = fixture_into(&staging, name);
        std::fs::rename(from, inbox.join(name)).unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let done = inbox.join("done").join(VJ114);
    eventually(T, "the VJ114IMG in done/", || {
        let (done, failed) = (done.clone(), inbox.join("failed"));
        async move {
            assert!(
                empty_dir(&failed),
                "failed: {:?}",
                std::fs::read_dir(&failed)
            );
            done.exists().then_some(())
        }
    })
    .await;
    let (_, h) = srv.get("/api/v1/healthz", "").await;
    assert_eq!(h["counts"]["scenes"], 1, "read with its geolocation: {h}");
    assert_eq!(h["counts"]["hotspots"], 3, "{h}");
    let warnings = inbox.join("done").join(format!("{VJ114}.warnings"));
    assert!(
        !warnings.exists(),
        "{}",
        std::fs::read_to_string(&warnings).unwrap_or_default()
    );

    // The AFIMG of the same pass by upload: the same fires, duplicates.
    let afimg = fixture_into(&staging, AFIMG);
    let (status, v) = srv.post_scene_files(&[afimg]).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["report"]["hotspots_new"], 0, "{v}");
    assert_eq!(v["report"]["hotspots_duplicate"], 3, "{v}");

    // A MYD14 with its MYD03 by upload: a scene with coverage, read by whoever reads products.
    let (mod14, geo, fires) =
        tokio::task::spawn_blocking(move || mod14_with_geolocation(&staging.join("mod14")))
            .await
            .unwrap();
    assert!(fires > 0);
    let (status, v) = srv.post_scene_files(&[mod14.clone(), geo.clone()]).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["report"]["hotspots_new"], fires, "{v}");
    assert!(
        v.get("notes")
            .is_none_or(|n| n.as_array().unwrap().is_empty()),
        "{v}"
    );
    // Again: stored already (on PostgreSQL not even queued).
    let (status, v) = srv.post_scene_files(&[mod14, geo]).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["report"]["already_ingested"], true, "{v}");

    let (_, h) = srv.get("/api/v1/healthz", "").await;
    assert_eq!(h["counts"]["scenes"], 2, "{h}");
    assert_eq!(h["counts"]["feeds"], 1, "the AFIMG: {h}");
    assert_eq!(h["counts"]["hotspots"], 3 + fires as u64, "{h}");

    let spool = srv.dir.path().join("data").join("spool");
    if let Some(pg) = &srv.pg {
        let jobs = pg.with(scene_jobs);
        assert_eq!(jobs.len(), 3, "{jobs:?}");
        for j in &jobs {
            assert_eq!(
                (j.0.as_str(), j.1.as_str(), j.2),
                ("fire_product", "done", 1),
                "{jobs:?}"
            );
            assert!(j.3.is_some(), "{jobs:?}");
        }
        // The VJ114IMG and the MYD14 carried their geolocation, the AFIMG came alone.
        let files: Vec<i64> = jobs.iter().map(|j| j.4).collect();
        assert_eq!(files, [2, 1, 2], "{jobs:?}");
        // The worker removes a unit right after recording its job's outcome.
        eventually(T, "the spool emptied", || {
            let empty = empty_dir(&spool);
            async move { empty.then_some(()) }
        })
        .await;
    } else {
        assert!(!spool.exists(), "SQLite queues nothing");
    }
    srv.stop().await;
}

/// `strawfire ingest ARGS` run to its end: success, stderr.
fn ingest(args: &[&str]) -> (bool, String) {
    let out = Command::new(common::bin())
        .arg("ingest")
        .args(args)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8(out.stderr).unwrap())
}

async fn ingest_queues_products_for_the_workers(backend: Backend) {
    let pg = (backend == Backend::Postgres).then(PgSchema::new);
    let dir = tempfile::tempdir().unwrap();
    let store = pg
        .as_ref()
        .map(|pg| format!("[store]\nurl = \"{}\"\n", pg.url))
        .unwrap_or_default();
    let cluster = Cluster::new(
        dir.path(),
        &format!("{store}[limits]\nscan_workers = 1\n"),
        "lease_s = 5.0\npoll_s = 0.05\n",
    );
    let (config, spool) = (&cluster.config, &cluster.spool);
    let input = dir.path().join("input");
    fixture_into(&input, VJ114);
    fixture_into(&input, VJ103);
    let input2 = input.clone();
    tokio::task::spawn_blocking(move || modis_pair(&input2, 5))
        .await
        .unwrap();
    let data = dir.path().join("data");
    let base = [
        "--config".to_string(),
        config.display().to_string(),
        "--data-dir".to_string(),
        data.display().to_string(),
    ];
    let run = |extra: Vec<String>| {
        let args: Vec<String> = base.iter().cloned().chain(extra).collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            ingest(&args)
        })
    };

    let workers = match &pg {
        Some(_) => cluster.workers(0..2),
        None => {
            let (ok, err) = run(vec!["--queue".into(), input.display().to_string()])
                .await
                .unwrap();
            assert!(!ok && err.contains("PostgreSQL store"), "{err}");
            Vec::new()
        }
    };

    // Two operators give the same folder at once.
    let folder = input.display().to_string();
    let (a, b) = (run(vec![folder.clone()]), run(vec![folder.clone()]));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    for (ok, err) in [&a, &b] {
        assert!(ok, "{err}");
        // The MODIS pair and the fire product, each reported (the geolocation with its product,
        // not as a granule of its own).
        assert!(err.contains("MYD021KM") && err.contains(VJ114), "{err}");
        assert!(!err.contains("error"), "{err}");
        if pg.is_some() {
            // Each product queued, or found stored when the other run's job was done first
            // (a run that started late finds both stored).
            let queued = err.matches(": scene job ").count();
            assert_eq!(
                queued + err.matches(": already ingested").count(),
                2,
                "{err}"
            );
        }
    }
    let told = format!("{}\n{}", a.1, b.1);
    assert!(told.contains("3 new hotspots"), "{told}");

    match &pg {
        Some(pg) => {
            let jobs = pg.with(scene_jobs);
            let mut ops: Vec<&str> = jobs.iter().map(|j| j.0.as_str()).collect();
            ops.sort();
            assert_eq!(ops, ["fire_product", "granule"], "{jobs:?}");
            let names: Vec<&str> = workers.iter().map(|w| w.1.as_str()).collect();
            for j in &jobs {
                assert_eq!((j.1.as_str(), j.2), ("done", 1), "claimed once: {jobs:?}");
                assert!(names.contains(&j.3.as_deref().unwrap()), "{jobs:?}");
                assert_eq!(j.4, 2, "both files of each: {jobs:?}");
            }
            // Scanned once: one "scanning" line per product in the two workers' logs.
            let logged: String = workers
                .iter()
                .map(|w| std::fs::read_to_string(&w.0.log).unwrap())
                .collect();
            assert_eq!(logged.matches(": scanning ").count(), 2, "{logged}");
            // Stored once: the rows are what the one scan of each found, none a duplicate.
            let (scenes, hotspots, new, dup): (i64, i64, i64, i64) = pg.with(|c| {
                let r = c
                    .query_one(
                        "SELECT (SELECT COUNT(*) FROM scenes), (SELECT COUNT(*) FROM hotspots),
                                SUM((result->'report'->>'hotspots_new')::BIGINT)::BIGINT,
                                SUM((result->'report'->>'hotspots_duplicate')::BIGINT)::BIGINT
                         FROM jobs WHERE kind = 'scene'",
                        &[],
                    )
                    .unwrap();
                (r.get(0), r.get(1), r.get(2), r.get(3))
            });
            assert_eq!(scenes, 2);
            assert_eq!((hotspots, dup), (new, 0));
            assert!(hotspots > 3, "{hotspots}");
            // The worker removes a unit right after recording its job's outcome.
            eventually(T, "the spool emptied", || {
                let empty = empty_dir(spool);
                async move { empty.then_some(()) }
            })
            .await;
            assert!(!data.join(strawfire::service::STORE_FILE).exists());

            // `--no-wait`: the job is queued and the run returns; a worker does it.
            let afimg = fixture_into(&dir.path().join("later"), AFIMG);
            let (ok, err) = run(vec!["--no-wait".into(), afimg.display().to_string()])
                .await
                .unwrap();
            assert!(ok, "{err}");
            assert!(err.contains(": scene job "), "{err}");
            assert!(!err.contains("new hotspots"), "{err}");
            let pg_url = pg.url.clone();
            eventually(T, "the AFIMG job done", || {
                let url = pg_url.clone();
                async move {
                    let jobs = tokio::task::spawn_blocking(move || {
                        let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
                        scene_jobs(&mut c)
                    })
                    .await
                    .unwrap();
                    (jobs.len() == 3 && jobs[2].1 == "done").then_some(())
                }
            })
            .await;
            // `--local`: read here, no job.
            let nc = fixture_into(&dir.path().join("local"), AFIMG_NC);
            let (ok, err) = run(vec!["--local".into(), nc.display().to_string()])
                .await
                .unwrap();
            assert!(ok, "{err}");
            assert!(err.contains("0 new hotspots, 3 duplicates"), "{err}");
            assert_eq!(pg.with(scene_jobs).len(), 3);
        }
        None => {
            let db = rusqlite::Connection::open(data.join(strawfire::service::STORE_FILE)).unwrap();
            let q = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
            assert_eq!(q("SELECT COUNT(*) FROM scenes"), 2);
            assert!(q("SELECT COUNT(*) FROM hotspots") > 3);
            assert!(!spool.exists(), "SQLite queues nothing");
        }
    }
    // A feed URL: on PostgreSQL a one-shot job a worker fetches, on SQLite fetched here.
    let (feed_base, asked) = fake_feed().await;
    let (ok, err) = run(vec![format!("{feed_base}/feed.csv")]).await.unwrap();
    assert!(ok, "{err}");
    assert!(err.contains("1 new hotspots, 0 duplicates"), "{err}");
    assert_eq!(asked.lock().unwrap().len(), 1, "fetched once");
    if let Some(pg) = &pg {
        assert!(err.contains(": fetch job "), "{err}");
        let jobs = pg.with(scene_jobs);
        let fetch = jobs.last().unwrap();
        assert_eq!(
            (fetch.0.as_str(), fetch.1.as_str(), fetch.2),
            ("fetch", "done", 1)
        );
        let names: Vec<&str> = workers.iter().map(|w| w.1.as_str()).collect();
        assert!(names.contains(&fetch.3.as_deref().unwrap()), "{jobs:?}");
    }
    // A URL nothing answers: the failure (the worker's, on PostgreSQL) is told and the run fails.
    let (ok, err) = run(vec!["http://127.0.0.1:9/none.csv".into()])
        .await
        .unwrap();
    assert!(!ok, "{err}");
    assert!(
        err.contains("error: http://127.0.0.1:9/none.csv") && err.contains("1 input(s) failed"),
        "{err}"
    );
    if let Some(pg) = &pg {
        let jobs = pg.with(scene_jobs);
        let fetch = jobs.last().unwrap();
        assert_eq!((fetch.0.as_str(), fetch.1.as_str()), ("fetch", "failed"));
    }
    drop(workers);
}

/// The instants a fake feed server was asked for its file.
async fn fake_feed() -> (String, Arc<Mutex<Vec<Instant>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let a = asked.clone();
    let fake = axum::Router::new().route(
        "/feed.csv",
        axum::routing::get(move || {
            let a = a.clone();
            async move {
                a.lock().unwrap().push(Instant::now());
                firms_csv(&[firms_row(
                    34.9,
                    114.4,
                    "2024-06-08",
                    "1806",
                    "N20",
                    "n",
                    "2.0NRT",
                    2.0,
                )])
            }
        }),
    );
    (serve_fake(fake).await, asked)
}

async fn a_feed_is_polled_once_per_interval(backend: Backend) {
    const INTERVAL: f64 = 1.0;
    let (base, asked) = fake_feed().await;
    let source = SourceConfig {
        name: "firms".into(),
        url: Some(format!("{base}/feed.csv")),
        firms: None,
        interval_s: INTERVAL,
        backoff_s: 0.05,
    };
    let s = source.clone();
    let node = |c: &mut strawfire::config::Config| {
        c.sources = vec![s.clone()];
        c.worker.poll_s = 0.05;
    };
    let first = TestServer::start_on_with(
        backend,
        tempfile::tempdir().unwrap(),
        node,
        Arc::new(GridPlacer),
    )
    .await;
    // On PostgreSQL a second node with its own worker on the same store.
    let second = first.second_node(node).await;
    eventually(Duration::from_secs(30), "five polls", || {
        let n = asked.lock().unwrap().len();
        async move { (n >= 5).then_some(()) }
    })
    .await;
    let times = asked.lock().unwrap().clone();
    let gaps: Vec<f64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    // Each poll's next is due an interval after it ended: never two in one interval.
    assert!(
        gaps.iter().all(|g| *g >= INTERVAL * 0.95),
        "polls closer than the interval: {gaps:?}"
    );
    let (_, h) = first.get("/api/v1/healthz", "").await;
    assert_eq!(h["counts"]["hotspots"], 1, "{h}");
    if let Some(pg) = &first.pg {
        let rows: Vec<(String, Option<String>)> = pg.with(|c| {
            c.query("SELECT key, worker FROM jobs WHERE kind = 'feed'", &[])
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect()
        });
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].0, "feed:firms");
        assert!(rows[0].1.is_some(), "{rows:?}");
    }
    if let Some(s) = second {
        s.stop().await;
    }
    first.stop().await;
}

async fn samples_are_scanned_once_for_every_node(backend: Backend) {
    let samples = tempfile::tempdir().unwrap();
    common::night_scene(
        &samples.path().join("night.tif"),
        40,
        40,
        &[(20, 20, 360.0)],
    );
    let folder = samples.path().to_path_buf();
    let f = folder.clone();
    let node = move |c: &mut strawfire::config::Config| {
        c.samples_dir = Some(f.clone());
        c.worker.poll_s = 0.05;
    };
    let first = TestServer::start_on_with(
        backend,
        tempfile::tempdir().unwrap(),
        node.clone(),
        Arc::new(GridPlacer),
    )
    .await;
    // On PostgreSQL a second node starting on the same samples.
    let second = first.second_node(node).await;
    eventually(T, "the sample scene stored", || async {
        let (_, h) = first.get("/api/v1/healthz", "").await;
        (h["counts"]["scenes"] == 1).then_some(())
    })
    .await;
    let (_, h) = first.get("/api/v1/healthz", "").await;
    assert_eq!(h["counts"]["hotspots"], 1, "{h}");
    if let Some(pg) = &first.pg {
        // One job for both nodes, claimed once by a worker: no node scanned it itself.
        eventually(T, "the job settled", || {
            let jobs = pg.with(scene_jobs);
            async move { jobs.iter().all(|j| j.1 == "done").then_some(()) }
        })
        .await;
        let jobs = pg.with(scene_jobs);
        assert_eq!(jobs.len(), 1, "{jobs:?}");
        assert_eq!((jobs[0].0.as_str(), jobs[0].2), ("scene", 1), "{jobs:?}");
        assert!(jobs[0].3.is_some(), "{jobs:?}");
    }
    if let Some(s) = second {
        s.stop().await;
    }
    first.stop().await;
}

on_both_stores!(
    fire_products_are_read_by_a_worker,
    ingest_queues_products_for_the_workers,
    a_feed_is_polled_once_per_interval,
    samples_are_scanned_once_for_every_node
);

/// A scene job no worker can reach (the spool not shared with the worker's machine) fails after
/// `[worker] max_attempts` with the reason its attempts gave, not a bare count of claims, and
/// the upload is answered 503 saying what to set up (PostgreSQL only: on SQLite nothing is
/// spooled).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scene_no_worker_reaches_fails_with_the_reason() {
    if !common::stores::postgres_available("a_scene_no_worker_reaches_fails_with_the_reason") {
        return;
    }
    let srv = TestServer::start_on_with(
        Backend::Postgres,
        tempfile::tempdir().unwrap(),
        |c| {
            c.worker.in_serve = false;
            c.worker.upload_wait_s = 60.0;
        },
        Arc::new(GridPlacer),
    )
    .await;
    let scene = srv.dir.path().join("far.tif");
    common::write(&scene, &common::base_bands(40, 40, false), true);
    let (url, client) = (srv.url("/api/v1/scenes?name=far.tif"), srv.client.clone());
    let body = std::fs::read(&scene).unwrap();
    let post = tokio::spawn(async move {
        let r = client
            .post(url)
            .bearer_auth(ADMIN)
            .header("content-type", "image/tiff")
            .body(body)
            .send()
            .await
            .unwrap();
        answer(r).await
    });
    // Queued by the node: its spooled copy is then out of the worker's sight.
    let pg = srv.pg.as_ref().unwrap();
    let spool = srv.dir.path().join("data").join("spool");
    let deadline = Instant::now() + T;
    while pg.with(scene_jobs).is_empty() {
        assert!(Instant::now() < deadline, "no scene job");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::fs::remove_dir_all(&spool).unwrap();
    let other = tempfile::tempdir().unwrap();
    let mut c = test_config(other.path());
    c.store.url = Some(pg.url.clone());
    c.worker.max_attempts = 2;
    c.worker.poll_s = 0.05;
    let worker = strawfire::worker::start(c, Arc::new(GridPlacer))
        .await
        .unwrap();
    let (status, v) = tokio::time::timeout(T, post).await.unwrap().unwrap();
    worker.shutdown().await;
    assert_eq!(status, 503, "{v}");
    let error = v["error"].as_str().unwrap();
    assert!(
        error.starts_with("far.tif is not reachable from this worker ([worker] spool_dir")
            && error.ends_with("(tried 2 times, the most [worker] max_attempts allows)")
            && !error.contains("claimed"),
        "{v}"
    );
    assert_eq!(
        (v["code"].as_str(), v["message_zh"].as_str()),
        (
            Some("unavailable"),
            Some("服务器缺少此功能所需的软件或配置，请联系管理员")
        ),
        "{v}"
    );
    let row: (String, Option<String>, i64) = pg.with(|c| {
        let r = c
            .query_one(
                "SELECT state, failure, attempts FROM jobs WHERE kind = 'scene'",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    });
    assert_eq!(row, ("failed".into(), Some("unavailable".into()), 2));
    srv.stop().await;
}
