//! Several processes on one PostgreSQL store (#19), as real processes on loopback: two API nodes
//! (`strawfire serve --no-worker`) and three `strawfire worker`s over the test cluster
//! (`STRAWFIRE_TEST_PG_URL`, made by scripts/pg.sh; a schema of this test's own). Small
//! generated scenes are dropped into both nodes' inboxes while FIRMS files are posted to both
//! nodes and an SSE client listens on each; one worker is killed with SIGKILL in the middle of a
//! scan and one API node in the middle of the posts (then started again on its data folder, as
//! a supervisor would). Then, from the store: every scene scanned and stored once (its one fire
//! one hotspot), every acknowledged row present once, every event one task, every SSE client
//! told of every batch (the surviving node's of all, the restarted node's of all after it came
//! back), every inbox file in `done/`.
//!
//! Skipped without `STRAWFIRE_TEST_PG_URL`, failed without it under `CI=true`. Scenes:
//! `STRAWFIRE_CLUSTER_SCENES` (default 200).

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::cluster::{Cluster, ADMIN};
use common::layers::{COUNTIES, TOWNSHIPS};
use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use ndarray::Array2;
use strawfire::fuse::Placer;
use strawfire::locate::{load_layer, LayerSpec, Level, Locator, MaskSet, UnitLayer};
use strawfire::raster::{write_scene, Compression, GeoRef, SceneMeta};

const PIXEL: f64 = 375.0;
/// Side of the small scenes, pixels.
const SIDE: usize = 40;
/// Side of the scene the killed worker is scanning (slow enough to be killed mid-scan).
const BIG_SIDE: usize = 700;
const POST_FILES: usize = 48;
const ROWS: usize = 4;

/// The test cluster's URL with `search_path` set to a fresh schema, and the schema.
fn pg_url(test: &str) -> Option<(String, String)> {
    let url = match std::env::var("STRAWFIRE_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "{test}: STRAWFIRE_TEST_PG_URL is not set and CI=true (scripts/test.sh starts \
                 a PostgreSQL with scripts/pg.sh)"
            );
            eprintln!("{test}: skipped (STRAWFIRE_TEST_PG_URL not set)");
            return None;
        }
    };
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let schema = format!("cluster{}_{n}", std::process::id());
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
    ))
    .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{sep}options=-c%20search_path%3D{schema}%2Cpublic");
    Some((scoped, schema))
}

/// A query on the test's schema (on a thread of its own: the synchronous client must not run on
/// the test's async threads).
fn sql<T: Send + 'static>(
    url: &str,
    f: impl FnOnce(&mut postgres::Client) -> T + Send + 'static,
) -> T {
    let url = url.to_string();
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        f(&mut c)
    })
    .join()
    .unwrap()
}

fn count(url: &str, query: &'static str) -> i64 {
    sql(url, move |c| c.query_one(query, &[]).unwrap().get(0))
}

/// The sample layers, as the nodes load them.
fn locator() -> Locator {
    let root = env!("CARGO_MANIFEST_DIR");
    let layer = |spec: &str, level| {
        let spec = LayerSpec::parse(&format!("{root}/{spec}")).unwrap();
        UnitLayer::new(level, load_layer(&spec, Some(level)).unwrap().areas)
    };
    Locator::new(
        vec![
            layer(COUNTIES, Level::County),
            layer(TOWNSHIPS, Level::Township),
        ],
        None,
        MaskSet::new(vec![], vec![]),
    )
}

/// Well inside a township: the point and a ring 1 km around it in the same one.
fn inside(locator: &Locator, lon: f64, lat: f64) -> bool {
    let t = locator.place(lon, lat, 0.0).township;
    let ring = [(0.01, 0.0), (-0.01, 0.0), (0.0, 0.01), (0.0, -0.01)];
    t.is_some()
        && ring
            .iter()
            .all(|(dx, dy)| locator.place(lon + dx, lat + dy, 0.0).township == t)
}

/// The scenes' grid (UTM 50N, over 滑县) and the fire pixels of it that lie inside townships.
fn scene_grid(locator: &Locator) -> (GeoRef, Vec<(usize, usize)>) {
    let mut wgs = SpatialRef::from_epsg(4326).unwrap();
    wgs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let mut utm = SpatialRef::from_epsg(32650).unwrap();
    utm.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let to_utm = CoordTransform::new(&wgs, &utm).unwrap();
    let to_wgs = CoordTransform::new(&utm, &wgs).unwrap();
    let (mut x, mut y) = ([114.55], [35.55]);
    to_utm.transform_coords(&mut x, &mut y, &mut []).unwrap();
    let (ox, oy) = (
        (x[0] / PIXEL).round() * PIXEL - 20.0 * PIXEL,
        (y[0] / PIXEL).round() * PIXEL + 20.0 * PIXEL,
    );
    let mut fires = Vec::new();
    for r in (8..=32).step_by(4) {
        for c in (8..=32).step_by(4) {
            let (mut x, mut y) = (
                [ox + (c as f64 + 0.5) * PIXEL],
                [oy - (r as f64 + 0.5) * PIXEL],
            );
            to_wgs.transform_coords(&mut x, &mut y, &mut []).unwrap();
            if inside(locator, x[0], y[0]) {
                fires.push((r, c));
            }
        }
    }
    assert!(
        fires.len() >= 10,
        "only {} fire pixels in townships",
        fires.len()
    );
    let georef = GeoRef {
        transform: [ox, PIXEL, 0.0, oy, 0.0, -PIXEL],
        crs_wkt: utm.to_wkt().unwrap(),
    };
    (georef, fires)
}

/// A night scene of `side` pixels with one fire, seen at `t`.
fn write_night_scene(
    path: &Path,
    georef: &GeoRef,
    side: usize,
    fire: (usize, usize),
    t: DateTime<Utc>,
) {
    let tex = |r: usize, c: usize| ((r * 7 + c * 13) % 11) as f32 * 0.1;
    let nan = Array2::from_elem((side, side), f32::NAN);
    let mut i4 = Array2::from_shape_fn((side, side), |(r, c)| 290.0 + tex(r, c));
    i4[[fire.0, fire.1]] = 340.0;
    let i5 = Array2::from_shape_fn((side, side), |(r, c)| 289.0 + tex(r, c));
    let sza = Array2::from_elem((side, side), 120.0f32);
    let bands = [
        ("I1", &nan),
        ("I2", &nan),
        ("I3", &nan),
        ("I4", &i4),
        ("I5", &i5),
        ("SZA", &sza),
    ];
    let meta = SceneMeta {
        acq_time: Some(t),
        satellite: Some("N20".into()),
        sensor: Some("VIIRS".into()),
    };
    write_scene(path, &bands, georef, &meta, Compression::Deflate).unwrap();
}

/// Writes a scene under a `.part` name and renames it into the inbox (the inbox's rule).
fn drop_scene(inbox: &Path, name: &str, write: impl FnOnce(&Path)) {
    let part = inbox.join(format!("{name}.part"));
    write(&part);
    std::fs::rename(&part, inbox.join(name)).unwrap();
}

/// Rows of FIRMS file `i` (places far from the scenes' fires and from each other) and their
/// keys as stored: (lat × 1e4, lon × 1e4, acq_time).
fn post_file(places: &[(f64, f64)], t0: DateTime<Utc>, i: usize) -> (String, Vec<(i64, i64, i64)>) {
    let mut csv = String::from(
        "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,instrument,\
         confidence,version,bright_ti5,frp,daynight\n",
    );
    let mut keys = Vec::new();
    for j in 0..ROWS {
        let k = i * ROWS + j;
        let (lon, lat) = places[k % places.len()];
        let t = t0 - chrono::Duration::minutes(k as i64);
        csv.push_str(&format!(
            "{lat:.4},{lon:.4},335.2,0.39,0.36,{},{},N20,VIIRS,n,2.0NRT,291.4,9.50,N\n",
            t.format("%Y-%m-%d"),
            t.format("%H%M")
        ));
        keys.push((
            (lat * 1e4).round() as i64,
            (lon * 1e4).round() as i64,
            t.timestamp() / 60 * 60,
        ));
    }
    (csv, keys)
}

/// A FIRMS file to post and the keys of its rows.
type PostFile = (String, Vec<(i64, i64, i64)>);

/// Hotspot ids heard by one SSE client, and whether it said hello.
#[derive(Default)]
struct Heard {
    hello: bool,
    ids: HashSet<i64>,
    resync: bool,
}

/// Listens on `base`'s stream until the connection ends (the node died) or the task is aborted.
fn listen(base: &str, heard: Arc<Mutex<Heard>>) -> tokio::task::JoinHandle<()> {
    let url = format!("{base}/api/v1/stream");
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut resp = client.get(url).bearer_auth(ADMIN).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let mut buf = String::new();
        while let Ok(Some(bytes)) = resp.chunk().await {
            buf.push_str(&String::from_utf8_lossy(&bytes));
            while let Some(end) = buf.find("\n\n") {
                let frame: String = buf.drain(..end + 2).collect();
                let (mut name, mut data) = (String::new(), String::new());
                for line in frame.lines() {
                    if let Some(n) = line.strip_prefix("event:") {
                        name = n.trim().to_string();
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim());
                    }
                }
                let mut h = heard.lock().unwrap();
                match name.as_str() {
                    "hello" => h.hello = true,
                    "resync" => h.resync = true,
                    "hotspots" => {
                        let v: serde_json::Value = serde_json::from_str(&data).unwrap();
                        for id in v["ids"].as_array().unwrap() {
                            h.ids.insert(id.as_i64().unwrap());
                        }
                    }
                    _ => {}
                }
            }
        }
    })
}

async fn until(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Posts every file, alternating nodes (`bases` shared: the killed node is taken out of it);
/// a failed post goes to the other node, as a balancer would send the client's retry. Returns
/// the keys of the rows whose post was acknowledged.
async fn post_all(
    bases: Arc<Mutex<Vec<String>>>,
    files: Vec<PostFile>,
    posted_to_b: Arc<std::sync::atomic::AtomicUsize>,
) -> Vec<(i64, i64, i64)> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut acked = Vec::new();
    for (i, (csv, keys)) in files.into_iter().enumerate() {
        for attempt in 0..20 {
            let base = {
                let b = bases.lock().unwrap();
                b[(i + attempt) % b.len()].clone()
            };
            let resp = client
                .post(format!("{base}/api/v1/hotspots"))
                .bearer_auth(ADMIN)
                .header("content-type", "text/csv")
                .body(csv.clone())
                .send()
                .await;
            match resp {
                Ok(r) if r.status().is_success() => {
                    if attempt == 0 && i % 2 == 1 {
                        posted_to_b.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    acked.extend(keys.iter().copied());
                    break;
                }
                Ok(r) if r.status().is_server_error() => {}
                Ok(r) => panic!("post {i}: {}", r.status()),
                Err(_) => {} // the node died under it: not acknowledged, retried elsewhere
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_and_api_nodes_share_one_postgres_through_kills() {
    let test = "workers_and_api_nodes_share_one_postgres_through_kills";
    let Some((url, schema)) = std::thread::spawn(move || pg_url(test)).join().unwrap() else {
        return;
    };
    let n_scenes: usize = std::env::var("STRAWFIRE_CLUSTER_SCENES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let t_start = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let cluster = Cluster::new(
        dir.path(),
        &format!(
            "[store]\nurl = \"{url}\"\n\
             [layers]\nadmin = [\"{root}/{COUNTIES}\", \"{root}/{TOWNSHIPS}\"]\n\
             [inbox]\npoll_s = 0.05\nsettle_s = 0.2\n"
        ),
        "lease_s = 3.0\npoll_s = 0.05\n",
    );
    let data = |n: &str| dir.path().join(n);

    // The scenes' grid and fire pixels, the posts' places (east of the scenes, in townships).
    let (georef, fires, places) = tokio::task::spawn_blocking(|| {
        let loc = locator();
        let (g, f) = scene_grid(&loc);
        let mut places = Vec::new();
        for i in 0..30 {
            for j in 0..30 {
                let (lon, lat) = (114.2 + i as f64 * 0.025, 35.2 + j as f64 * 0.025);
                // Clear of the scenes' square (114.55 ± 0.1°, 35.55 ± 0.1°).
                let near_scenes = (lon - 114.55).abs() < 0.14 && (lat - 35.55).abs() < 0.12;
                if !near_scenes && inside(&loc, lon, lat) {
                    places.push((lon, lat));
                }
            }
        }
        assert!(places.len() >= 40, "only {} places", places.len());
        (g, f, places)
    })
    .await
    .unwrap();

    let (node_a, base_a) = cluster.serve("node-a", "a");
    let (mut node_b, base_b) = cluster.serve("node-b", "b");
    let mut workers = cluster.workers(0..3);
    let heard_a = Arc::new(Mutex::new(Heard::default()));
    let heard_b = Arc::new(Mutex::new(Heard::default()));
    let sse_a = listen(&base_a, heard_a.clone());
    let sse_b = listen(&base_b, heard_b.clone());
    until(Duration::from_secs(10), "both streams' hello", || {
        heard_a.lock().unwrap().hello && heard_b.lock().unwrap().hello
    })
    .await;

    // The scene a worker will be killed scanning: dropped first, big enough to take a while.
    let t0 = Utc::now() - chrono::Duration::hours(1);
    let inbox_a = data("a").join("inbox");
    let inbox_b = data("b").join("inbox");
    let (g, f0) = (georef.clone(), fires[0]);
    let ia = inbox_a.clone();
    tokio::task::spawn_blocking(move || {
        drop_scene(&ia, "big.tif", |p| {
            write_night_scene(p, &g, BIG_SIDE, f0, t0)
        })
    })
    .await
    .unwrap();

    // The posts run while the scenes are dropped and scanned.
    let bases = Arc::new(Mutex::new(vec![base_a.clone(), base_b.clone()]));
    let posted_to_b = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let files: Vec<_> = (0..POST_FILES)
        .map(|i| post_file(&places, Utc::now() - chrono::Duration::minutes(30), i))
        .collect();
    let (half1, half2): (Vec<_>, Vec<_>) =
        files.into_iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let posters = [half1, half2].map(|h| {
        tokio::spawn(post_all(
            bases.clone(),
            h.into_iter().map(|(_, f)| f).collect(),
            posted_to_b.clone(),
        ))
    });
    let (g, fs, ia, ib) = (
        georef.clone(),
        fires.clone(),
        inbox_a.clone(),
        inbox_b.clone(),
    );
    let dropper = tokio::task::spawn_blocking(move || {
        for k in 0..n_scenes {
            let inbox = if k % 2 == 0 { &ia } else { &ib };
            let t = t0 - chrono::Duration::minutes(1 + k as i64);
            let fire = fs[k % fs.len()];
            drop_scene(inbox, &format!("s{k:03}.tif"), |p| {
                write_night_scene(p, &g, SIDE, fire, t)
            });
        }
    });

    // Kill the worker holding the big scene while it scans it.
    let names: Vec<String> = workers.iter().map(|(_, n)| n.clone()).collect();
    let u = url.clone();
    let holder = tokio::task::spawn_blocking(move || {
        let mut c = postgres::Client::connect(&u, postgres::NoTls).unwrap();
        let t = Instant::now();
        loop {
            let row = c
                .query_opt(
                    "SELECT worker FROM jobs WHERE state = 'running' AND payload->>'name' = 'big.tif'",
                    &[],
                )
                .unwrap();
            if let Some(r) = row {
                return r.get::<_, String>(0);
            }
            assert!(t.elapsed() < Duration::from_secs(60), "the big scene was never claimed");
            std::thread::sleep(Duration::from_millis(10));
        }
    })
    .await
    .unwrap();
    let killed = names.iter().position(|n| *n == holder).unwrap();
    // Well into the scan (it takes seconds), not in its claim.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let big_state: String = {
        let u = url.clone();
        sql(&u, |c| {
            c.query_one(
                "SELECT state FROM jobs WHERE payload->>'name' = 'big.tif'",
                &[],
            )
            .unwrap()
            .get(0)
        })
    };
    assert_eq!(
        big_state, "running",
        "the big scene's scan ended before the kill"
    );
    workers[killed].0.kill9();
    eprintln!("{test}: killed {} mid-scan", workers[killed].0.what);

    // Kill node B in the middle of the posts, and start it again on its data folder.
    until(
        Duration::from_secs(60),
        "posts acknowledged by node B",
        || posted_to_b.load(std::sync::atomic::Ordering::SeqCst) >= 6,
    )
    .await;
    bases.lock().unwrap().retain(|b| *b != base_b);
    node_b.kill9();
    let _ = sse_b.await;
    let heard_b_first = heard_b.lock().unwrap().ids.len();
    eprintln!("{test}: killed node B mid-post ({heard_b_first} hotspots heard on its stream)");
    let (node_b2, base_b2) = cluster.serve("node-b2", "b");
    let heard_b2 = Arc::new(Mutex::new(Heard::default()));
    let sse_b2 = listen(&base_b2, heard_b2.clone());
    until(Duration::from_secs(10), "node B2's hello", || {
        heard_b2.lock().unwrap().hello
    })
    .await;
    // What B2's stream must hear: every hotspot stored after it listened.
    let mark = count(&url, "SELECT COALESCE(MAX(id), 0) FROM hotspots");
    bases.lock().unwrap().push(base_b2.clone());

    dropper.await.unwrap();
    let mut acked = Vec::new();
    for p in posters {
        acked.extend(p.await.unwrap());
    }
    let all_scenes = n_scenes as i64 + 1;
    let u = url.clone();
    let t_wait = Instant::now();
    until(Duration::from_secs(600), "every scene job done", || {
        let u = u.clone();
        count(
            &u,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'scene' AND state = 'done'",
        ) == all_scenes
    })
    .await;
    // The inboxes hand every file to done/ once its job is done.
    until(Duration::from_secs(30), "every inbox file in done/", || {
        let left = |d: &Path| {
            std::fs::read_dir(d)
                .unwrap()
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .count()
        };
        left(&inbox_a) + left(&inbox_b) == 0
    })
    .await;
    eprintln!(
        "{test}: {all_scenes} scenes done {:.1} s after the last was dropped",
        t_wait.elapsed().as_secs_f64()
    );

    // Every SSE client told of every batch.
    let all_ids: HashSet<i64> = {
        let u = url.clone();
        sql(&u, |c| {
            c.query("SELECT id FROM hotspots", &[])
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect()
        })
    };
    until(
        Duration::from_secs(30),
        "node A's stream to hear every hotspot",
        || heard_a.lock().unwrap().ids.is_superset(&all_ids),
    )
    .await;
    let after_mark: HashSet<i64> = all_ids.iter().copied().filter(|id| *id > mark).collect();
    until(
        Duration::from_secs(30),
        "node B2's stream to hear every later hotspot",
        || heard_b2.lock().unwrap().ids.is_superset(&after_mark),
    )
    .await;
    assert!(!heard_a.lock().unwrap().resync && !heard_b2.lock().unwrap().resync);
    assert!(
        !after_mark.is_empty(),
        "nothing was stored after node B came back"
    );

    // Every scene scanned and stored once: one scene row per file, its one fire one hotspot.
    let u = url.clone();
    let (scenes, scene_hotspots, per_scene): (i64, i64, Vec<i64>) = sql(&u, |c| {
        let n = c
            .query_one("SELECT COUNT(*) FROM scenes", &[])
            .unwrap()
            .get(0);
        let h = c
            .query_one(
                "SELECT COUNT(*) FROM hotspots WHERE scene_id IS NOT NULL",
                &[],
            )
            .unwrap()
            .get(0);
        let per = c
            .query(
                "SELECT COUNT(h.id) FROM scenes s LEFT JOIN hotspots h ON h.scene_id = s.id GROUP BY s.id",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        (n, h, per)
    });
    assert_eq!(scenes, all_scenes);
    assert_eq!(scene_hotspots, all_scenes);
    assert!(per_scene.iter().all(|n| *n == 1), "{per_scene:?}");
    // The big scene: claimed again after the kill, finished by another worker.
    let u = url.clone();
    let (attempts, by): (i64, String) = sql(&u, |c| {
        let r = c
            .query_one(
                "SELECT attempts, worker FROM jobs WHERE payload->>'name' = 'big.tif'",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1))
    });
    assert_eq!(attempts, 2, "the big scene's claims");
    assert_ne!(by, holder, "finished by the killed worker?");
    // No other scene was claimed twice: each scanned once (no lease passed under a live worker).
    let claims = count(
        &url,
        "SELECT SUM(attempts)::BIGINT FROM jobs WHERE kind = 'scene'",
    );
    assert_eq!(claims, all_scenes + 1, "claims of scene jobs");

    // Every acknowledged row present once.
    let u = url.clone();
    let stored: HashMap<(i64, i64, i64), i64> = sql(&u, |c| {
        let mut m = HashMap::new();
        for r in c
            .query(
                "SELECT ROUND(lat * 1e4)::BIGINT, ROUND(lon * 1e4)::BIGINT, acq_time FROM hotspots WHERE feed_id IS NOT NULL",
                &[],
            )
            .unwrap()
        {
            *m.entry((r.get(0), r.get(1), r.get(2))).or_insert(0) += 1;
        }
        m
    });
    assert_eq!(
        acked.len(),
        POST_FILES * ROWS,
        "every file acknowledged in the end"
    );
    for k in &acked {
        assert_eq!(stored.get(k), Some(&1), "acknowledged row {k:?}");
    }

    // Every event one task.
    let u = url.clone();
    let (events, tasks, without, doubled): (i64, i64, i64, i64) = sql(&u, |c| {
        let q = |c: &mut postgres::Client, s: &str| -> i64 { c.query_one(s, &[]).unwrap().get(0) };
        (
            q(c, "SELECT COUNT(*) FROM events"),
            q(c, "SELECT COUNT(*) FROM tasks"),
            q(
                c,
                "SELECT COUNT(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.event_id = e.id)",
            ),
            q(
                c,
                "SELECT COUNT(*) FROM (SELECT event_id FROM tasks GROUP BY event_id HAVING COUNT(*) > 1) d",
            ),
        )
    });
    assert_eq!(without, 0, "events without a task");
    assert_eq!(doubled, 0, "events with two tasks");
    assert_eq!(events, tasks);

    eprintln!(
        "{test}: {all_scenes} scenes, {} acknowledged rows, {events} events, {} hotspots heard on \
         A, {} on B2; {:.1} s",
        acked.len(),
        heard_a.lock().unwrap().ids.len(),
        heard_b2.lock().unwrap().ids.len(),
        t_start.elapsed().as_secs_f64()
    );
    sse_a.abort();
    sse_b2.abort();
    drop((node_a, node_b2, workers));
    sql(&url, move |c| {
        c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .unwrap()
    });
}

/// `serve` on PostgreSQL runs a worker of its own by default: an uploaded scene is queued, scanned
/// by it, and the upload answered with what was stored, as on SQLite; the same bytes again are
/// known without a job; the spool is emptied once the job is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_scans_an_uploaded_scene_through_its_own_worker() {
    let test = "serve_scans_an_uploaded_scene_through_its_own_worker";
    let Some((url, schema)) = std::thread::spawn(move || pg_url(test)).join().unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("scene.tif");
    let (g, fires) = tokio::task::spawn_blocking(|| scene_grid(&locator()))
        .await
        .unwrap();
    write_night_scene(
        &scene,
        &g,
        SIDE,
        fires[0],
        Utc::now() - chrono::Duration::hours(1),
    );
    let bytes = std::fs::read(&scene).unwrap();
    let u = url.clone();
    let srv = common::server::TestServer::start_with(dir, move |c| {
        c.store.url = Some(u);
        c.worker.poll_s = 0.05;
    })
    .await;
    let (status, v) = srv
        .post(
            "/api/v1/scenes?name=n20.tif",
            common::server::ADMIN,
            "image/tiff",
            bytes.clone(),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["report"]["hotspots_new"], 1, "{v}");
    let (status, v) = srv
        .post(
            "/api/v1/scenes?name=again.tif",
            common::server::ADMIN,
            "image/tiff",
            bytes,
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["report"]["already_ingested"], true, "{v}");
    let spool = srv.dir.path().join("data").join("spool");
    let left: Vec<_> = std::fs::read_dir(&spool).unwrap().collect();
    assert!(left.is_empty(), "spool not emptied: {left:?}");
    srv.stop().await;
    let (jobs, scenes): (i64, i64) = sql(&url, |c| {
        let q = |c: &mut postgres::Client, s: &str| -> i64 { c.query_one(s, &[]).unwrap().get(0) };
        (
            q(
                c,
                "SELECT COUNT(*) FROM jobs WHERE kind = 'scene' AND state = 'done'",
            ),
            q(c, "SELECT COUNT(*) FROM scenes"),
        )
    });
    assert_eq!((jobs, scenes), (1, 1));
    sql(&url, move |c| {
        c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .unwrap()
    });
}
