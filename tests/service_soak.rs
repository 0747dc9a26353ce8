//! A `kill -9` soak, sized for CI (issue 15, "a reliability suite that stays"): `strawfire
//! serve` as a child process with the sample county and township layers, three clients posting
//! FIRMS CSVs (overlapping polls included) and two patrol clients acknowledging tasks and
//! posting verdicts with photos, all at once; the server is killed with SIGKILL at three seeded
//! random moments and restarted on the same data dir. Then, straight from the SQLite file:
//!
//! - every hotspot acknowledged with a 2xx is stored, and exactly once;
//! - every event has exactly one task (all points lie in a township and are recent, so the
//!   policy gives each one), and no task is without its event;
//! - each place is one event (a restart does not split a fire in two);
//! - every verdict acknowledged with a 2xx is stored, once, and its task is verified.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::dispatch::{photo_png, verdict_form};
use common::layers::{COUNTIES, TOWNSHIPS};
use common::server::{firms_csv, firms_row, ADMIN};
use rand::{Rng, SeedableRng};
use strawfire::fuse::Placer;
use strawfire::locate::{load_layer, LayerSpec, Level, Locator, MaskSet, UnitLayer};

const KILLS: usize = 3;
const HOTSPOT_CLIENTS: usize = 3;
const VERDICT_CLIENTS: usize = 2;
/// Rows per posted file (plus the first row of the file before, an overlapping poll).
const ROWS: usize = 5;

/// Places inside townships of 滑县 and its neighbours, 0.02° apart (far beyond the fusion
/// distance, so each place is its own event), from the same layers the server loads.
fn places() -> Vec<(f64, f64)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let layer = |spec: &str, level| {
        let spec = LayerSpec::parse(&format!("{root}/{spec}")).unwrap();
        UnitLayer::new(level, load_layer(&spec, Some(level)).unwrap().areas)
    };
    let locator = Locator::new(
        vec![
            layer(COUNTIES, Level::County),
            layer(TOWNSHIPS, Level::Township),
        ],
        None,
        MaskSet::new(vec![], vec![]),
    );
    let mut out = Vec::new();
    for i in 0..40 {
        for j in 0..40 {
            let (lon, lat) = (114.2 + i as f64 * 0.02, 35.2 + j as f64 * 0.02);
            // Well inside: the point and a ring 1 km around it in the same township.
            let t = locator.place(lon, lat, 0.0).township;
            let ring = [(0.01, 0.0), (-0.01, 0.0), (0.0, 0.01), (0.0, -0.01)];
            if t.is_some()
                && ring
                    .iter()
                    .all(|(dx, dy)| locator.place(lon + dx, lat + dy, 0.0).township == t)
            {
                out.push((lon, lat));
            }
        }
    }
    assert!(out.len() >= 40, "only {} places in townships", out.len());
    out.truncate(160);
    out
}

/// The config of the child: the sample county and township layers (no parcels, so every
/// event in a township gets a task), no webhooks.
fn write_config(dir: &Path) -> PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let path = dir.join("soak.toml");
    std::fs::write(
        &path,
        format!("[layers]\nadmin = [\"{root}/{COUNTIES}\", \"{root}/{TOWNSHIPS}\"]\n"),
    )
    .unwrap();
    path
}

fn serve(config: &Path, data: &Path) -> (Child, String) {
    let mut child = Command::new(common::bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-samples",
            "--config",
        ])
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .env("STRAWFIRE_ADMIN_TOKEN", ADMIN)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("strawfire: listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    (child, base)
}

/// Row `k` of the whole soak: place `k % n`, in minute `k / n` before `t0` (so each row is
/// its own hotspot, and a place seen again joins its event). Returns the CSV row and its key
/// (lat, lon, acq_time as stored).
fn row(places: &[(f64, f64)], t0: DateTime<Utc>, k: usize) -> (String, (i64, i64, i64)) {
    let (lon, lat) = places[k % places.len()];
    let t = t0 - chrono::Duration::minutes((k / places.len()) as i64);
    let csv = firms_row(
        lat,
        lon,
        &t.format("%Y-%m-%d").to_string(),
        &t.format("%H%M").to_string(),
        "N20",
        "n",
        "2.0NRT",
        4.0,
    );
    let minute = t.timestamp() / 60 * 60;
    (csv, key(lat, lon, minute))
}

fn key(lat: f64, lon: f64, t: i64) -> (i64, i64, i64) {
    ((lat * 1e5).round() as i64, (lon * 1e5).round() as i64, t)
}

/// File `i`: rows `i*ROWS ..`, plus the first row of file `i - 1`.
fn file(places: &[(f64, f64)], t0: DateTime<Utc>, i: usize) -> (String, Vec<(i64, i64, i64)>) {
    let mut ks: Vec<usize> = (i * ROWS..(i + 1) * ROWS).collect();
    if i > 0 {
        ks.push((i - 1) * ROWS);
    }
    let rows: Vec<_> = ks.into_iter().map(|k| row(places, t0, k)).collect();
    (
        firms_csv(&rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>()),
        rows.into_iter().map(|r| r.1).collect(),
    )
}

/// Shared by the clients of one soak.
struct Soak {
    base: Mutex<String>,
    places: Vec<(f64, f64)>,
    t0: DateTime<Utc>,
    db: PathBuf,
    next_file: AtomicUsize,
    acked_rows: Mutex<HashSet<(i64, i64, i64)>>,
    acked_files: AtomicUsize,
    /// Task ids whose verdict was answered 2xx.
    acked_verdicts: Mutex<HashSet<i64>>,
    /// Task ids a patrol client has taken on (each task is reported by one client).
    claimed: Mutex<HashSet<i64>>,
    stop: AtomicBool,
    errors: Mutex<Vec<String>>,
}

impl Soak {
    fn base(&self) -> String {
        self.base.lock().unwrap().clone()
    }
}

/// Posts files until stopped. A refused connection (server down) is retried on the next
/// file; any answer but 2xx is an error of the soak.
async fn hotspot_client(s: Arc<Soak>, client: reqwest::Client) {
    while !s.stop.load(Ordering::SeqCst) {
        let i = s.next_file.fetch_add(1, Ordering::SeqCst);
        let (csv, keys) = file(&s.places, s.t0, i);
        let r = client
            .post(format!("{}/api/v1/hotspots", s.base()))
            .bearer_auth(ADMIN)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await;
        match r {
            Ok(r) if r.status().is_success() => {
                s.acked_rows.lock().unwrap().extend(keys);
                s.acked_files.fetch_add(1, Ordering::SeqCst);
            }
            Ok(r) => {
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                s.errors
                    .lock()
                    .unwrap()
                    .push(format!("file {i}: HTTP {status}: {body}"));
            }
            // Killed mid-request: not acknowledged, so not counted.
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Open tasks straight from the store (read beside the server, WAL), with their event's place.
fn open_tasks(db: &Path) -> Vec<(i64, f64, f64)> {
    let Ok(c) = rusqlite::Connection::open_with_flags(
        db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) else {
        return Vec::new();
    };
    let _ = c.busy_timeout(Duration::from_secs(2));
    let Ok(mut st) = c.prepare(
        "SELECT t.id, e.lat, e.lon FROM tasks t JOIN events e ON e.id = t.event_id
         WHERE t.state IN ('new', 'notified', 'acknowledged') ORDER BY t.id",
    ) else {
        return Vec::new();
    };
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map(|rows| rows.filter_map(|r| r.ok()).collect())
        .unwrap_or_default()
}

/// Acknowledges open tasks and reports a verdict with a photo for each. A task whose verdict
/// was stored but never answered (killed) is found verified later: 409, not an error.
async fn verdict_client(s: Arc<Soak>, client: reqwest::Client, seed: u64) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    while !s.stop.load(Ordering::SeqCst) {
        let db = s.db.clone();
        let open = tokio::task::spawn_blocking(move || open_tasks(&db))
            .await
            .unwrap();
        let pick = {
            let mut claimed = s.claimed.lock().unwrap();
            let free: Vec<_> = open.iter().filter(|t| !claimed.contains(&t.0)).collect();
            let p = (!free.is_empty()).then(|| *free[rng.gen_range(0..free.len())]);
            if let Some(p) = p {
                claimed.insert(p.0);
            }
            p
        };
        let Some((id, lat, lon)) = pick else {
            tokio::time::sleep(Duration::from_millis(30)).await;
            continue;
        };
        let base = s.base();
        let ack = client
            .post(format!("{base}/api/v1/tasks/{id}/ack"))
            .bearer_auth(ADMIN)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await;
        match ack {
            Ok(r) if r.status().is_success() || r.status() == 409 => {}
            Ok(r) => {
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                s.errors
                    .lock()
                    .unwrap()
                    .push(format!("ack {id}: HTTP {status}: {body}"));
                continue;
            }
            Err(_) => {
                // Down: let another pass take it again.
                s.claimed.lock().unwrap().remove(&id);
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        }
        let form = verdict_form(
            &[
                ("verdict", "burning".to_string()),
                ("lat", lat.to_string()),
                ("lon", lon.to_string()),
            ],
            Some(("site.png", photo_png(id as u64 * 7919 + 13))),
        );
        let r = client
            .post(format!("{base}/api/v1/tasks/{id}/verdict"))
            .bearer_auth(ADMIN)
            .multipart(form)
            .send()
            .await;
        match r {
            Ok(r) if r.status().is_success() => {
                s.acked_verdicts.lock().unwrap().insert(id);
            }
            // Stored before a kill, answered never: the retry finds it verified.
            Ok(r) if r.status() == 409 => {}
            Ok(r) => {
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                s.errors
                    .lock()
                    .unwrap()
                    .push(format!("verdict {id}: HTTP {status}: {body}"));
            }
            Err(_) => {
                s.claimed.lock().unwrap().remove(&id);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_concurrent_ingest_and_verdicts_keeps_every_acknowledged_write_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = write_config(dir.path());
    let places = places();
    // Recent detections (a few minutes old), so every event is dispatched.
    let t0 = Utc::now() - chrono::Duration::minutes(5);
    let (mut child, base) = serve(&config, &data);
    let soak = Arc::new(Soak {
        base: Mutex::new(base),
        places,
        t0,
        db: data.join(strawfire::service::STORE_FILE),
        next_file: AtomicUsize::new(0),
        acked_rows: Mutex::new(HashSet::new()),
        acked_files: AtomicUsize::new(0),
        acked_verdicts: Mutex::new(HashSet::new()),
        claimed: Mutex::new(HashSet::new()),
        stop: AtomicBool::new(false),
        errors: Mutex::new(Vec::new()),
    });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut clients = Vec::new();
    for _ in 0..HOTSPOT_CLIENTS {
        clients.push(tokio::spawn(hotspot_client(soak.clone(), client.clone())));
    }
    for c in 0..VERDICT_CLIENTS {
        clients.push(tokio::spawn(verdict_client(
            soak.clone(),
            client.clone(),
            c as u64,
        )));
    }

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(15);
    let started = Instant::now();
    let mut at_kill = Vec::new();
    for _ in 0..KILLS {
        // A random moment of load, but not before some writes of this run were answered.
        let files_before = soak.acked_files.load(Ordering::SeqCst);
        let verdicts_before = soak.acked_verdicts.lock().unwrap().len();
        let wait = Duration::from_millis(rng.gen_range(800..2500));
        let t = Instant::now();
        while t.elapsed() < wait
            || soak.acked_files.load(Ordering::SeqCst) < files_before + 10
            || soak.acked_verdicts.lock().unwrap().len() < verdicts_before + 2
        {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "no progress: {:?}",
                soak.errors.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        at_kill.push((
            soak.acked_files.load(Ordering::SeqCst),
            soak.acked_verdicts.lock().unwrap().len(),
        ));
        let (c, base) = serve(&config, &data);
        child = c;
        *soak.base.lock().unwrap() = base;
    }
    // Load after the last restart too, then stop the clients and the server.
    let files_before = soak.acked_files.load(Ordering::SeqCst);
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(1)
        || soak.acked_files.load(Ordering::SeqCst) < files_before + 10
    {
        assert!(t.elapsed() < Duration::from_secs(30), "no progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    soak.stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.await.unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let errors = soak.errors.lock().unwrap().clone();
    assert!(errors.is_empty(), "{errors:?}");

    // Count, from the store itself.
    let db = rusqlite::Connection::open(&soak.db).unwrap();
    let stored: Vec<(f64, f64, i64)> = db
        .prepare("SELECT lat, lon, acq_time FROM hotspots")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let mut times: HashMap<(i64, i64, i64), usize> = HashMap::new();
    for &(lat, lon, t) in &stored {
        *times.entry(key(lat, lon, t)).or_default() += 1;
    }
    let acked = soak.acked_rows.lock().unwrap().clone();
    let lost: Vec<_> = acked.iter().filter(|k| !times.contains_key(k)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged rows lost: {lost:?}",
        lost.len()
    );
    let twice: Vec<_> = times.iter().filter(|(_, &n)| n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");

    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    let events = count("SELECT COUNT(*) FROM events");
    assert_eq!(
        count("SELECT COUNT(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.event_id = e.id)"),
        0,
        "an event without its task"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM (SELECT event_id FROM tasks GROUP BY event_id HAVING COUNT(*) > 1)"),
        0,
        "an event with two tasks"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = t.event_id)"),
        0,
        "a task without an event"
    );
    assert_eq!(count("SELECT COUNT(*) FROM tasks"), events);
    // Each place is one event: hotspots of one place all joined the same event.
    let places_stored = count("SELECT COUNT(*) FROM (SELECT DISTINCT lat, lon FROM hotspots)");
    assert_eq!(events, places_stored, "a place split into several events");
    assert_eq!(
        count("SELECT COUNT(*) FROM hotspots WHERE event_id IS NULL"),
        0
    );

    let verdicts: Vec<(i64, String)> = db
        .prepare("SELECT v.task_id, t.state FROM verdicts v JOIN tasks t ON t.id = v.task_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let stored_verdicts: HashMap<i64, String> = verdicts.iter().cloned().collect();
    assert_eq!(
        stored_verdicts.len(),
        verdicts.len(),
        "a task with two verdicts"
    );
    let acked_verdicts = soak.acked_verdicts.lock().unwrap().clone();
    for id in &acked_verdicts {
        assert_eq!(
            stored_verdicts.get(id).map(String::as_str),
            Some("verified"),
            "acknowledged verdict of task {id}"
        );
    }
    assert!(verdicts.iter().all(|(_, s)| s == "verified"));
    eprintln!(
        "soak: {:.1} s, {KILLS} kills at (files, verdicts) {at_kill:?}; {} files and {} rows \
         acknowledged, {} hotspots stored; {events} events, {events} tasks; {} verdicts \
         acknowledged, {} stored",
        started.elapsed().as_secs_f64(),
        soak.acked_files.load(Ordering::SeqCst),
        acked.len(),
        stored.len(),
        acked_verdicts.len(),
        verdicts.len()
    );
    assert!(acked.len() >= 40 * ROWS && acked_verdicts.len() >= 2 * KILLS);
}
