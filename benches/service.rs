//! Service benchmark: sustained ingest through fuse + store (hotspots per second), directly on
//! the store and through `POST /api/v1/hotspots`, API latency (p50/p99) under concurrent load
//! from loopback clients, and a bounded load run at 50 clients (county-scoped GETs and POSTs:
//! p50, p95, p99, max, errors, server RSS and CPU; issue 15). Deterministic inputs (seeded). Run
//! with `cargo bench --bench service`; `-- --quick` for a short run; `-- --load` for the ingest
//! that fills the store and the 50-client run only.
//!
//! The HTTP server is `strawfire serve`, a child process with its own runtime and a real SQLite
//! file, as deployed; the clients run here, on one current-thread runtime with keep-alive
//! connections, so that they take as little of the two cores as they can and none of the
//! server's threads (their CPU time is reported beside the server's). Before, the clients ran
//! in the server's process and runtime, and the tail measured was partly theirs.
//!
//! Comparing servers: `STRAWFIRE_BENCH_SERVERS="before=/path/to/strawfire,after=target/release/strawfire"`
//! runs the load against each binary in turn, `STRAWFIRE_BENCH_ROUNDS` times (default 3 with
//! `--load`, 1 otherwise), each run on a fresh copy of the same filled store, and prints the
//! medians per server and their ratios to the first. Default: the `strawfire` of this build.
//! `STRAWFIRE_BENCH_PERF=1` records the first run of each server with `perf record` and DWARF
//! call graphs (`target/perf-service-<label>.data`); `STRAWFIRE_BENCH_POSTS=0` sends GETs only;
//! `STRAWFIRE_BENCH_REQUESTS` sets the requests per client (200).
//!
//! `-- --sse [N]` opens `N` (default 10,000) live streams on one server instead and measures
//! memory per stream and that every stream hears every batch (`service/sse.rs`, issue 19).
//!
//! Both stores (issue 19): with `STRAWFIRE_TEST_PG_URL` set, or `-- --pg URL`, every part runs
//! on SQLite and then, in the same process, on PostgreSQL (the direct ingest on a `PgStore`, the
//! servers with `[store] url`, each store a database of its own made and dropped here,
//! `service/pg.rs`), the load rounds of the two interleaved, and a table puts the two side by
//! side. `-- --both-stores` refuses to run without a server; `-- --sqlite-only` leaves it out.
//! A throwaway cluster as deployed (fsync on): `STRAWFIRE_PG_DURABLE=1 bash scripts/pg.sh
//! cargo bench --bench service -- --load --both-stores`. Under `cargo test --all-targets` the
//! smoke run has a PostgreSQL half only when the URL is set (scripts/test.sh sets it).
//!
//! The bench's placer (for the direct ingest) is a grid of 0.1° counties and townships; the
//! server gets the same grid as admin layers (GeoJSON written here), so scopes and county tokens
//! work as in a deployment and the server's locate step is its real R-tree matcher.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::TimeZone;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use strawfire::fuse::{FuseParams, Placement, Placer};
use strawfire::hotspot::{write_csv, Confidence, DayNight, Hotspot};
use strawfire::store::{IngestBatch, Origin, PgStore, SqliteStore, Store};

#[path = "service/pg.rs"]
mod pg;
#[path = "service/sse.rs"]
mod sse;

const ADMIN: &str = "bench-admin-token-0123456789";

struct Grid;

impl Placer for Grid {
    fn place(&self, lon: f64, lat: f64, _footprint_m: f64) -> Placement {
        let c = 410_500 + ((lon - 113.0) * 10.0) as i64;
        let t = c * 1000 + ((lat - 32.0) * 10.0) as i64;
        Placement {
            county: Some(c.to_string()),
            township: Some(t.to_string()),
            ..Placement::default()
        }
    }
}

/// `n` hotspots over a 4° × 4° area (the Huang-Huai plain around Henan) and two days; fires
/// cluster (several pixels per fire).
fn hotspots(rng: &mut ChaCha8Rng, n: usize) -> Vec<Hotspot> {
    let t0 = chrono::Utc.with_ymd_and_hms(2024, 6, 8, 0, 0, 0).unwrap();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let (lon, lat) = (rng.gen_range(113.0..117.0), rng.gen_range(32.0..36.0));
        let t = t0 + chrono::Duration::minutes(rng.gen_range(0..2 * 24 * 60));
        for k in 0..rng.gen_range(1..4usize) {
            out.push(Hotspot {
                latitude: lat + k as f64 * 0.0035,
                longitude: lon,
                bt_mir_k: Some(330.0),
                bt_tir_k: Some(290.0),
                scan_km: Some(0.39),
                track_km: Some(0.36),
                acq_time: t,
                satellite: "N20".into(),
                instrument: "VIIRS".into(),
                confidence: Confidence::Nominal,
                version: "2.0NRT".into(),
                frp_mw: Some(rng.gen_range(0.5..30.0)),
                daynight: DayNight::Night,
                fire_type: None,
                row: None,
                col: None,
            });
        }
    }
    out.truncate(n);
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it, as
    // a smoke test, so keep that run tiny.
    let args: Vec<String> = std::env::args().collect();
    let smoke = !args.iter().any(|a| a == "--bench");
    let quick = smoke || args.iter().any(|a| a == "--quick");
    let load_only = args.iter().any(|a| a == "--load");
    pg::check_urls();
    // The PostgreSQL half: `--pg URL`, else `STRAWFIRE_TEST_PG_URL` (scripts/pg.sh sets it);
    // `--sqlite-only` leaves it out, `--both-stores` insists on it.
    let pg_url = args
        .iter()
        .position(|a| a == "--pg")
        .map(|i| {
            args.get(i + 1)
                .cloned()
                .expect("--pg needs a URL: --pg postgres://user@host/db")
        })
        .or_else(|| {
            std::env::var("STRAWFIRE_TEST_PG_URL")
                .ok()
                .filter(|u| !u.trim().is_empty())
        })
        .filter(|_| !args.iter().any(|a| a == "--sqlite-only"));
    if args.iter().any(|a| a == "--both-stores") && pg_url.is_none() {
        eprintln!(
            "service bench: --both-stores needs a PostgreSQL server: \
             STRAWFIRE_PG_DURABLE=1 bash scripts/pg.sh cargo bench --bench service -- --load --both-stores \
             (or -- --pg URL)"
        );
        std::process::exit(2);
    }
    let (batches, per_batch) = if smoke {
        (4, 200)
    } else if quick {
        (20, 500)
    } else {
        (100, 1000)
    };
    let dir = tempfile::tempdir().unwrap();
    let mut backends = vec![Backend::Sqlite];
    if let Some(url) = &pg_url {
        let cluster = pg::Cluster::new(url);
        println!("{}", cluster.settings());
        backends.push(Backend::Postgres(cluster));
    }
    if let Some(i) = args.iter().position(|a| a == "--sse") {
        let n = args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .unwrap_or(if smoke { 100 } else { 10_000 });
        let config = write_config(dir.path());
        for backend in &mut backends {
            let name = format!("sse_{}", backend.tag());
            let (data, cfg) = backend.create(dir.path(), &config, &name);
            sse::run(&servers()[0].1, n, backend.name(), &cfg, &data);
            backend.remove(dir.path(), &name);
        }
        return;
    }
    println!(
        "## Service benchmark ({} batches of {per_batch} hotspots; stores: {})",
        batches,
        backends
            .iter()
            .map(Backend::name)
            .collect::<Vec<_>>()
            .join(", ")
    );

    // 1. Store + fuse directly, one transaction per batch; 10 % of each batch repeats the
    //    previous batch (overlapping polls). The same batches on every store.
    if !load_only {
        for backend in &mut backends {
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            match backend {
                Backend::Sqlite => {
                    let store = SqliteStore::open(&dir.path().join("direct.sqlite")).unwrap();
                    direct_ingest(
                        &store,
                        "fuse + SQLite, WAL, synchronous=FULL",
                        &mut rng,
                        batches,
                        per_batch,
                    );
                }
                Backend::Postgres(cluster) => {
                    let name = db_name("direct");
                    let store = PgStore::open(&cluster.create(&name)).unwrap();
                    direct_ingest(&store, "fuse + PostgreSQL", &mut rng, batches, per_batch);
                    drop(store);
                    cluster.drop_db(&name);
                }
            }
        }
    }
    // The FIRMS CSV bodies the HTTP ingest posts, the same for every store.
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let bodies: Vec<Vec<u8>> = (0..batches)
        .map(|_| {
            let mut out = Vec::new();
            write_csv(&mut out, &hotspots(&mut rng, per_batch)).unwrap();
            out
        })
        .collect();
    service_runs(
        dir.path(),
        &bodies,
        batches * per_batch,
        &mut backends,
        smoke,
        quick,
        load_only,
    );
}

/// Where the servers of this run keep their store.
enum Backend {
    /// The SQLite file in the server's data directory.
    Sqlite,
    /// A database of its own per store on this PostgreSQL server.
    Postgres(pg::Cluster),
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }

    fn tag(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "pg",
        }
    }

    /// A new, empty store named `name`: the server's data directory and config.
    fn create(&mut self, dir: &Path, config: &Path, name: &str) -> (PathBuf, PathBuf) {
        let data = dir.join(name);
        match self {
            Backend::Sqlite => (data, config.to_path_buf()),
            Backend::Postgres(cluster) => {
                let url = cluster.create(&db_name(name));
                (data, config_with_store(config, &url, &dir.join(name)))
            }
        }
    }

    /// A copy of store `from` (made by [`Backend::create`], its server stopped) named `name`.
    fn copy(&mut self, dir: &Path, config: &Path, from: &str, name: &str) -> (PathBuf, PathBuf) {
        let data = dir.join(name);
        match self {
            Backend::Sqlite => {
                copy_store(&dir.join(from), &data);
                (data, config.to_path_buf())
            }
            Backend::Postgres(cluster) => {
                let url = cluster.copy(&db_name(from), &db_name(name));
                (data, config_with_store(config, &url, &dir.join(name)))
            }
        }
    }

    /// Removes store `name`.
    fn remove(&mut self, dir: &Path, name: &str) {
        let _ = std::fs::remove_dir_all(dir.join(name));
        if let Backend::Postgres(cluster) = self {
            cluster.drop_db(&db_name(name));
        }
    }

    fn cluster(&self) -> Option<&pg::Cluster> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres(c) => Some(c),
        }
    }
}

/// The PostgreSQL database of store `name` (this process's, so two benches never meet).
fn db_name(name: &str) -> String {
    format!("sfbench_{}_{name}", std::process::id())
}

/// `config` with `[store] url` added, written to `<out>.toml`.
fn config_with_store(config: &Path, url: &str, out: &Path) -> PathBuf {
    let path = out.with_extension("toml");
    let text = std::fs::read_to_string(config).unwrap();
    let url = toml::Value::String(url.to_string());
    std::fs::write(&path, format!("{text}\n[store]\nurl = {url}\n")).unwrap();
    path
}

fn direct_ingest(
    store: &dyn Store,
    what: &str,
    rng: &mut ChaCha8Rng,
    batches: usize,
    per_batch: usize,
) {
    let mut prev: Vec<Hotspot> = Vec::new();
    let mut total = 0usize;
    let t = Instant::now();
    for b in 0..batches {
        let mut hs = hotspots(rng, per_batch - prev.len().min(per_batch / 10));
        hs.extend(prev.iter().take(per_batch / 10).cloned());
        let batch = IngestBatch {
            origin: Origin::Feed {
                sha256: format!("bench-{b}"),
                name: format!("b{b}.csv"),
                rows: hs.len(),
            },
            source: "bench".into(),
            hotspots: hs.clone(),
            alerts: Vec::new(),
        };
        let r = store.ingest(&batch, &FuseParams::default(), &Grid).unwrap();
        total += r.hotspots_new + r.hotspots_duplicate;
        prev = hs;
    }
    let el = t.elapsed();
    let counts = store.counts().unwrap();
    println!(
        "store ingest ({what}): {total} hotspots in {:.2} s = {:.0} hotspots/s; {} stored, {} events",
        el.as_secs_f64(),
        total as f64 / el.as_secs_f64(),
        counts.hotspots,
        counts.events
    );
}

/// A county-scoped token of the bench, for county `code` of the grid placer.
fn county_token(code: i64) -> String {
    format!("bench-county-{code}-token")
}

/// Counties of the grid: 410500 + k for 0.1° of longitude each from 113° E, over 32–36° N.
const COUNTIES: i64 = 40;

/// A lon/lat rectangle as a GeoJSON polygon.
fn rect(w: f64, s: f64, e: f64, n: f64) -> serde_json::Value {
    serde_json::json!({
        "type": "Polygon",
        "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]],
    })
}

/// The grid placer's counties and townships as GeoJSON layers in `dir`, and a config that
/// loads them and holds the admin token and one token per county. Returns the config path.
fn write_config(dir: &Path) -> PathBuf {
    let mut counties = Vec::new();
    let mut townships = Vec::new();
    for k in 0..COUNTIES {
        let code = 410_500 + k;
        let (w, e) = (113.0 + k as f64 * 0.1, 113.0 + (k + 1) as f64 * 0.1);
        counties.push(serde_json::json!({
            "type": "Feature",
            "properties": {"code": code.to_string(), "name": format!("county {code}")},
            "geometry": rect(w, 32.0, e, 36.0),
        }));
        for j in 0..40 {
            let t = code * 1000 + j;
            let s = 32.0 + j as f64 * 0.1;
            townships.push(serde_json::json!({
                "type": "Feature",
                "properties": {"code": t.to_string(), "name": format!("township {t}"), "county": code.to_string()},
                "geometry": rect(w, s, e, s + 0.1),
            }));
        }
    }
    let layer = |name: &str, features: Vec<serde_json::Value>| {
        let path = dir.join(name);
        let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
        std::fs::write(&path, fc.to_string()).unwrap();
        path
    };
    let c = layer("counties.geojson", counties);
    let t = layer("townships.geojson", townships);
    let mut toml = format!(
        "[layers]\nadmin = [\"{}:level=county:code=code:name=name\", \"{}:level=township:code=code:name=name:parent=county\"]\n\n\
         [[tokens]]\ntoken = \"{ADMIN}\"\nrole = \"admin\"\n",
        c.display(),
        t.display()
    );
    for k in 0..COUNTIES {
        let code = 410_500 + k;
        toml.push_str(&format!(
            "\n[[tokens]]\ntoken = \"{}\"\nrole = \"county:{code}\"\n",
            county_token(code)
        ));
    }
    let path = dir.join("bench.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

/// `strawfire serve` as a child process.
struct Server {
    child: Child,
    pid: u32,
    base: String,
}

impl Server {
    /// Starts `bin` on `data` (port 0) and waits for its "listening" line; its log goes to
    /// `data/../<data name>.log`.
    fn start(bin: &Path, config: &Path, data: &Path) -> Server {
        std::fs::create_dir_all(data).unwrap();
        let log = std::fs::File::create(data.with_extension("log")).unwrap();
        let mut child = Command::new(bin)
            .arg("serve")
            .arg("--config")
            .arg(config)
            .args(["--listen", "127.0.0.1:0", "--no-samples", "--data-dir"])
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("strawfire: listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "{} did not start ({line:?}); see {}",
                    bin.display(),
                    data.with_extension("log").display()
                )
            })
            .to_string();
        Server {
            pid: child.id(),
            child,
            base,
        }
    }

    /// SIGTERM (a graceful stop: the store is checkpointed and closed), then waits.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `/proc/PID/status` size in MiB (`pid` a number or `self`).
fn vm_mib(pid: &str, key: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// User + system CPU seconds of a process so far (all its threads; clock ticks of 1/100 s).
fn cpu_s(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    // After the command name: state is field 3, utime 14, stime 15.
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

/// The 1-minute load average.
fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// The server binaries to compare: `STRAWFIRE_BENCH_SERVERS` (`label=path,...`) or this build's.
fn servers() -> Vec<(String, PathBuf)> {
    match std::env::var("STRAWFIRE_BENCH_SERVERS") {
        Ok(v) if !v.trim().is_empty() => v
            .split(',')
            .map(|s| {
                let (label, path) = s
                    .split_once('=')
                    .expect("STRAWFIRE_BENCH_SERVERS is label=path,label=path");
                (label.trim().to_string(), PathBuf::from(path.trim()))
            })
            .collect(),
        _ => vec![(
            "this".to_string(),
            PathBuf::from(env!("CARGO_BIN_EXE_strawfire")),
        )],
    }
}

/// Copies the store files of `from` (the filled store) into the new data directory `to`.
fn copy_store(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("strawfire.sqlite") && !name.ends_with("-shm") {
            std::fs::copy(e.path(), to.join(&*name)).unwrap();
        }
    }
}

/// The HTTP ingest that filled one store: rows posted and committed, and how long it took.
struct Filled {
    store: &'static str,
    rows: usize,
    secs: f64,
    load: (f64, f64),
}

fn service_runs(
    dir: &Path,
    bodies: &[Vec<u8>],
    rows: usize,
    backends: &mut [Backend],
    smoke: bool,
    quick: bool,
    load_only: bool,
) {
    let config = write_config(dir);
    let servers = servers();
    let rounds: usize = std::env::var("STRAWFIRE_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if load_only && !smoke { 3 } else { 1 });
    // The clients: one thread, keep-alive connections (reqwest's pool), TCP_NODELAY.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .tcp_nodelay(true)
        .build()
        .unwrap();

    // 2. The same through HTTP: FIRMS CSV bodies to POST /api/v1/hotspots (each answered after
    //    its commit), into the store every load run of that backend starts from (a copy of it
    //    each time).
    let mut fills = Vec::new();
    for backend in backends.iter_mut() {
        let filled = format!("filled_{}", backend.tag());
        let (data, cfg) = backend.create(dir, &config, &filled);
        let server = Server::start(&servers[0].1, &cfg, &data);
        let load0 = loadavg();
        let secs = rt.block_on(async {
            let base = server.base.clone();
            let t = Instant::now();
            for body in bodies {
                let r = client
                    .post(format!("{base}/api/v1/hotspots"))
                    .bearer_auth(ADMIN)
                    .header("content-type", "text/csv")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "{}", r.status());
            }
            let el = t.elapsed().as_secs_f64();
            println!(
                "HTTP ingest on {} (POST /api/v1/hotspots, CSV parse + locate + fuse + store, server `{}`): {rows} hotspots in {el:.2} s = {:.0} hotspots/s (load average {load0:.1} → {:.1})",
                backend.name(),
                servers[0].0,
                rows as f64 / el,
                loadavg()
            );
            if !load_only {
                latency_16(&client, &base, rows, smoke, quick).await;
            }
            el
        });
        server.stop();
        fills.push(Filled {
            store: backend.name(),
            rows,
            secs,
            load: (load0, loadavg()),
        });
    }

    // Every (store, server) pair runs once per round; ABBA order, so none always runs first.
    let contestants: Vec<(usize, usize)> = (0..backends.len())
        .flat_map(|b| (0..servers.len()).map(move |s| (b, s)))
        .collect();
    let mut results: Vec<LoadResult> = Vec::new();
    for round in 0..rounds {
        let order: Vec<usize> = if round % 2 == 0 {
            (0..contestants.len()).collect()
        } else {
            (0..contestants.len()).rev().collect()
        };
        for i in order {
            let (b, s) = contestants[i];
            let backend = &mut backends[b];
            let (label, bin) = &servers[s];
            let name = format!("run_{round}_{}_{s}", backend.tag());
            let filled = format!("filled_{}", backend.tag());
            let (data, cfg) = backend.copy(dir, &config, &filled, &name);
            let server = Server::start(bin, &cfg, &data);
            let perf = (round == 0 && std::env::var_os("STRAWFIRE_BENCH_PERF").is_some())
                .then(|| {
                    let out = format!(
                        "{}/target/perf-service-{}-{label}.data",
                        env!("CARGO_MANIFEST_DIR"),
                        backend.tag()
                    );
                    Command::new("perf")
                        .args([
                            "record",
                            "--call-graph",
                            "dwarf,16384",
                            "-F",
                            "199",
                            "-o",
                            &out,
                            "-p",
                        ])
                        .arg(server.pid.to_string())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .ok()
                })
                .flatten();
            let db_cpu0 = backend.cluster().map(pg::Cluster::cpu);
            let mut r = rt.block_on(load_50(
                &client,
                &server.base,
                server.pid,
                label,
                smoke,
                quick,
            ));
            r.store = backend.name();
            if let (Some(c), Some(before)) = (backend.cluster(), db_cpu0) {
                let used = pg::cpu_between(&before, &c.cpu());
                r.db_cpu_s = (used > 0.0).then_some(used);
            }
            if let Some(p) = perf {
                let _ = Command::new("kill")
                    .args(["-INT", &p.id().to_string()])
                    .status();
                let _ = p.wait_with_output();
            }
            server.stop();
            backend.remove(dir, &name);
            r.print();
            results.push(r);
        }
    }
    if rounds > 1 || contestants.len() > 1 {
        summary(&contestants, backends, &servers, &results);
    }
    if backends.len() > 1 {
        side_by_side(backends, &servers[0].0, &fills, &results);
    }
}

/// 3. Latency under concurrent load: 16 clients, mixed queries over 0.1° boxes (a map view of
///    a township or two).
async fn latency_16(client: &reqwest::Client, base: &str, stored: usize, smoke: bool, quick: bool) {
    let clients = if smoke { 4 } else { 16 };
    let per_client = if smoke {
        10
    } else if quick {
        50
    } else {
        250
    };
    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, base) = (client.clone(), base.to_string());
        tasks.push(tokio::spawn(async move {
            let mut rng = ChaCha8Rng::seed_from_u64(100 + c as u64);
            let mut lat = Vec::with_capacity(per_client);
            let mut features = 0usize;
            for i in 0..per_client {
                let (w, s) = (rng.gen_range(113.0..116.9), rng.gen_range(32.0..35.9));
                let path = if i % 2 == 0 { "events" } else { "hotspots" };
                let url = format!(
                    "{base}/api/v1/{path}?bbox={w:.3},{s:.3},{:.3},{:.3}&from=2024-06-08",
                    w + 0.1,
                    s + 0.1
                );
                let t0 = Instant::now();
                let r = client.get(url).bearer_auth(ADMIN).send().await.unwrap();
                assert_eq!(r.status(), 200);
                let body = r.bytes().await.unwrap();
                lat.push(t0.elapsed());
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                features += v["features"].as_array().unwrap().len();
            }
            (lat, features)
        }));
    }
    let mut all = Vec::new();
    let mut features = 0;
    for t in tasks {
        let (lat, f) = t.await.unwrap();
        all.extend(lat);
        features += f;
    }
    let el = t.elapsed();
    all.sort();
    println!(
            "API latency, {clients} concurrent loopback clients, {} GETs (events/hotspots, 0.1° bbox, {:.0} features per answer, {} hotspots stored): p50 {:.2} ms, p99 {:.2} ms, {:.0} requests/s",
            all.len(),
            features as f64 / all.len() as f64,
            stored,
            percentile(&all, 0.5).as_secs_f64() * 1e3,
            percentile(&all, 0.99).as_secs_f64() * 1e3,
            all.len() as f64 / el.as_secs_f64()
        );
}

/// What one request of the load run was.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    GetEvents,
    GetHotspots,
    Post,
}

/// Latency figures of one kind of request, ms.
#[derive(Clone, Copy, Default)]
struct Stats {
    n: usize,
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
    errors: usize,
}

impl Stats {
    fn of(all: &[(Kind, Duration, bool)], kinds: &[Kind]) -> Stats {
        let mut lat: Vec<Duration> = all
            .iter()
            .filter(|r| kinds.contains(&r.0))
            .map(|r| r.1)
            .collect();
        if lat.is_empty() {
            return Stats::default();
        }
        lat.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        Stats {
            n: lat.len(),
            p50: ms(percentile(&lat, 0.5)),
            p95: ms(percentile(&lat, 0.95)),
            p99: ms(percentile(&lat, 0.99)),
            max: ms(*lat.last().unwrap()),
            errors: all.iter().filter(|r| kinds.contains(&r.0) && !r.2).count(),
        }
    }

    fn line(&self) -> String {
        format!(
            "{} requests, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {} errors",
            self.n, self.p50, self.p95, self.p99, self.max, self.errors
        )
    }
}

/// One load run against one server.
struct LoadResult {
    /// The store (`Backend::name`) and the server's label.
    store: &'static str,
    label: String,
    started: String,
    load: (f64, f64),
    requests: usize,
    secs: f64,
    capped: bool,
    get: Stats,
    /// GETs per latency band (`BANDS_MS`).
    get_bands: Vec<usize>,
    events: Stats,
    hotspots: Stats,
    post: Stats,
    /// Server RSS before and after the run, and its peak (VmHWM), MiB.
    rss: (f64, f64, f64),
    server_cpu_s: f64,
    client_cpu_s: f64,
    /// CPU seconds of the PostgreSQL cluster's processes (when on this machine).
    db_cpu_s: Option<f64>,
}

impl LoadResult {
    fn print(&self) {
        println!(
            "Load run [{} {}] at {} UTC, load average {:.1} → {:.1}: 50 concurrent loopback clients (county tokens), {} requests in {:.1} s = {:.0} requests/s{}",
            self.store,
            self.label,
            self.started,
            self.load.0,
            self.load.1,
            self.requests,
            self.secs,
            self.requests as f64 / self.secs,
            if self.capped { " (stopped by the time cap)" } else { "" }
        );
        println!(
            "  scoped GET (events/hotspots, 0.05° × 0.1° box): {}",
            self.get.line()
        );
        let bands: Vec<String> = self
            .get_bands
            .iter()
            .enumerate()
            .map(|(i, n)| match BANDS_MS.get(i) {
                Some(b) => format!("< {b} ms: {n}"),
                None => format!("more: {n}"),
            })
            .collect();
        println!("    GETs by latency: {}", bands.join(", "));
        println!("    of which GET /events: {}", self.events.line());
        println!("    of which GET /hotspots: {}", self.hotspots.line());
        println!("  POST /hotspots (5 new rows): {}", self.post.line());
        println!(
            "  server RSS {:.0} MiB before, {:.0} MiB after, peak {:.0} MiB; CPU: server {:.1} s ({:.0} % of one core), clients {:.1} s ({:.0} %)",
            self.rss.0,
            self.rss.1,
            self.rss.2,
            self.server_cpu_s,
            100.0 * self.server_cpu_s / self.secs,
            self.client_cpu_s,
            100.0 * self.client_cpu_s / self.secs,
        );
        if let Some(db) = self.db_cpu_s {
            println!(
                "  PostgreSQL processes CPU {db:.1} s ({:.0} % of one core)",
                100.0 * db / self.secs
            );
        }
    }
}

/// Upper bounds of the latency bands counted (a mode near 40 ms more than the median is the
/// client's delayed ACK holding the server's last write).
const BANDS_MS: [u64; 7] = [5, 10, 20, 40, 60, 100, 200];

/// How many requests of `kinds` fall in each band of [`BANDS_MS`] (and beyond the last).
fn bands(all: &[(Kind, Duration, bool)], kinds: &[Kind]) -> Vec<usize> {
    let mut out = vec![0; BANDS_MS.len() + 1];
    for r in all.iter().filter(|r| kinds.contains(&r.0)) {
        let ms = r.1.as_millis() as u64;
        let i = BANDS_MS
            .iter()
            .position(|b| ms < *b)
            .unwrap_or(BANDS_MS.len());
        out[i] += 1;
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

/// Medians over the rounds per (store, server), and their ratios to the first one's.
fn summary(
    contestants: &[(usize, usize)],
    backends: &[Backend],
    servers: &[(String, PathBuf)],
    results: &[LoadResult],
) {
    println!(
        "Medians over {} run(s) each:",
        results.len() / contestants.len().max(1)
    );
    let of = |&(b, s): &(usize, usize)| (backends[b].name(), servers[s].0.as_str());
    let med = |(store, label): (&str, &str), f: &dyn Fn(&LoadResult) -> f64| {
        median(
            results
                .iter()
                .filter(|r| r.store == store && r.label == label)
                .map(f)
                .collect(),
        )
    };
    type Field<'a> = (&'a str, &'a dyn Fn(&LoadResult) -> f64);
    let fields: [Field; 10] = [
        ("GET p50", &|r| r.get.p50),
        ("GET p95", &|r| r.get.p95),
        ("GET p99", &|r| r.get.p99),
        ("GET max", &|r| r.get.max),
        ("POST p50", &|r| r.post.p50),
        ("POST p99", &|r| r.post.p99),
        ("requests/s", &|r| r.requests as f64 / r.secs),
        ("server CPU %", &|r| 100.0 * r.server_cpu_s / r.secs),
        ("PostgreSQL CPU %", &|r| {
            r.db_cpu_s.map_or(f64::NAN, |s| 100.0 * s / r.secs)
        }),
        ("load avg", &|r| r.load.0),
    ];
    let first = of(&contestants[0]);
    for c in contestants {
        let key = of(c);
        let parts: Vec<String> = fields
            .iter()
            .filter(|(_, f)| !med(key, f).is_nan())
            .map(|(name, f)| {
                let v = med(key, f);
                let base = med(first, f);
                if key == first || base.is_nan() {
                    format!("{name} {v:.1}")
                } else {
                    format!("{name} {v:.1} ({:.2}×)", v / base)
                }
            })
            .collect();
        let errors: usize = results
            .iter()
            .filter(|r| (r.store, r.label.as_str()) == key)
            .map(|r| r.get.errors + r.post.errors)
            .sum();
        println!(
            "  [{} {}] {}; errors {errors}",
            key.0,
            key.1,
            parts.join(", ")
        );
    }
}

/// The stores side by side (server `label`, medians over the rounds), as a Markdown table.
fn side_by_side(backends: &[Backend], label: &str, fills: &[Filled], results: &[LoadResult]) {
    let names: Vec<&str> = backends.iter().map(Backend::name).collect();
    let runs = |store: &str| -> Vec<&LoadResult> {
        results
            .iter()
            .filter(|r| r.store == store && r.label == label)
            .collect()
    };
    let med = |store: &str, f: &dyn Fn(&LoadResult) -> f64| {
        median(runs(store).into_iter().map(f).collect())
    };
    println!(
        "\n### {} side by side (server `{label}`, medians over {} load run(s) each)\n",
        names.join(" and "),
        runs(names[0]).len()
    );
    println!("| | {} |", names.join(" | "));
    println!("|---|{}", "---|".repeat(names.len()));
    let row = |what: &str, cell: &dyn Fn(&str) -> String| {
        let cells: Vec<String> = names.iter().map(|n| cell(n)).collect();
        println!("| {what} | {} |", cells.join(" | "));
    };
    row(
        "HTTP ingest, FIRMS CSV rows/s (posted and committed)",
        &|n| {
            fills.iter().find(|f| f.store == n).map_or("-".into(), |f| {
                format!(
                    "{:.0} ({} rows in {:.1} s, load {:.1} → {:.1})",
                    f.rows as f64 / f.secs,
                    f.rows,
                    f.secs,
                    f.load.0,
                    f.load.1
                )
            })
        },
    );
    row("scoped GET p50 / p95 / p99, ms", &|n| {
        format!(
            "{:.1} / {:.1} / {:.1}",
            med(n, &|r| r.get.p50),
            med(n, &|r| r.get.p95),
            med(n, &|r| r.get.p99)
        )
    });
    row("POST (5 rows) p50 / p99, ms", &|n| {
        format!(
            "{:.1} / {:.1}",
            med(n, &|r| r.post.p50),
            med(n, &|r| r.post.p99)
        )
    });
    row("requests/s", &|n| {
        format!("{:.0}", med(n, &|r| r.requests as f64 / r.secs))
    });
    row("errors (all runs)", &|n| {
        runs(n)
            .iter()
            .map(|r| r.get.errors + r.post.errors)
            .sum::<usize>()
            .to_string()
    });
    row("CPU, % of one core: strawfire / PostgreSQL", &|n| {
        let db = med(n, &|r| r.db_cpu_s.map_or(f64::NAN, |s| 100.0 * s / r.secs));
        let server = med(n, &|r| 100.0 * r.server_cpu_s / r.secs);
        if db.is_nan() {
            format!("{server:.0} / -")
        } else {
            format!("{server:.0} / {db:.0}")
        }
    });
    row("load average during the runs", &|n| {
        let rs = runs(n);
        let lo = rs
            .iter()
            .map(|r| r.load.0.min(r.load.1))
            .fold(f64::INFINITY, f64::min);
        let hi = rs
            .iter()
            .map(|r| r.load.0.max(r.load.1))
            .fold(0.0, f64::max);
        format!("{lo:.1}–{hi:.1}")
    });
}

/// 4. The bounded load run of issue 15: 50 concurrent loopback clients, each a county command
///    centre with its own county token: 4 of 5 requests are scoped GETs (events or hotspots of a
///    0.05° × 0.1° box inside its county, alternately), 1 of 5 a POST of a 5-row FIRMS CSV (new
///    fires, admin token). Bounded by a request count per client and a wall-clock cap; every
///    non-2xx answer or transport error is counted, not fatal.
async fn load_50(
    client: &reqwest::Client,
    base: &str,
    pid: u32,
    label: &str,
    smoke: bool,
    quick: bool,
) -> LoadResult {
    const CLIENTS: usize = 50;
    // `STRAWFIRE_BENCH_REQUESTS`: requests per client (200 by default: 10,000 in all, a few
    // seconds; more makes the tail steadier).
    let per_client = if smoke {
        4
    } else if quick {
        40
    } else {
        std::env::var("STRAWFIRE_BENCH_REQUESTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200)
    };
    let cap = Duration::from_secs(if smoke { 20 } else { 120 });
    // `STRAWFIRE_BENCH_POSTS=0`: GETs only, to see the reads' tail without the writes beside.
    let posts = std::env::var("STRAWFIRE_BENCH_POSTS").map_or(true, |v| v.trim() != "0");
    let pid_s = pid.to_string();
    let rss0 = vm_mib(&pid_s, "VmRSS:");
    let (server_cpu0, client_cpu0) = (cpu_s(&pid_s), cpu_s("self"));
    let load0 = loadavg();
    let started = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (client, base) = (client.clone(), base.to_string());
        tasks.push(tokio::spawn(async move {
            let mut rng = ChaCha8Rng::seed_from_u64(5000 + c as u64);
            let county = 410_500 + (c as i64 % COUNTIES);
            let token = county_token(county);
            let west = 113.0 + (county - 410_500) as f64 * 0.1;
            let mut out: Vec<(Kind, Duration, bool)> = Vec::with_capacity(per_client);
            for i in 0..per_client {
                if t.elapsed() > cap {
                    break;
                }
                // The request is built before its clock starts: the measured time is the
                // server's answer and the transport, not the client's CSV writing.
                let (kind, req) = if posts && i % 5 == 4 {
                    let mut body = Vec::new();
                    let mut hs = hotspots(&mut rng, 5);
                    // Today's fires: new rows, not duplicates of the store.
                    let now = chrono::Utc::now();
                    for h in &mut hs {
                        h.acq_time = now - chrono::Duration::minutes(rng.gen_range(5..120));
                    }
                    write_csv(&mut body, &hs).unwrap();
                    let req = client
                        .post(format!("{base}/api/v1/hotspots"))
                        .bearer_auth(ADMIN)
                        .header("content-type", "text/csv")
                        .body(body);
                    (Kind::Post, req)
                } else {
                    let s = rng.gen_range(32.0..35.9);
                    let w = west + rng.gen_range(0.0..0.05);
                    let path = if i % 2 == 0 { "events" } else { "hotspots" };
                    let url = format!(
                        "{base}/api/v1/{path}?bbox={w:.3},{s:.3},{:.3},{:.3}&from=2024-06-08",
                        w + 0.05,
                        s + 0.1
                    );
                    let kind = if path == "events" {
                        Kind::GetEvents
                    } else {
                        Kind::GetHotspots
                    };
                    (kind, client.get(url).bearer_auth(&token))
                };
                let t0 = Instant::now();
                let ok = match req.send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                out.push((kind, t0.elapsed(), ok));
            }
            out
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let el = t.elapsed();
    LoadResult {
        store: "",
        label: label.to_string(),
        started,
        load: (load0, loadavg()),
        requests: all.len(),
        secs: el.as_secs_f64(),
        capped: el > cap,
        get: Stats::of(&all, &[Kind::GetEvents, Kind::GetHotspots]),
        get_bands: bands(&all, &[Kind::GetEvents, Kind::GetHotspots]),
        events: Stats::of(&all, &[Kind::GetEvents]),
        hotspots: Stats::of(&all, &[Kind::GetHotspots]),
        post: Stats::of(&all, &[Kind::Post]),
        rss: (rss0, vm_mib(&pid_s, "VmRSS:"), vm_mib(&pid_s, "VmHWM:")),
        server_cpu_s: cpu_s(&pid_s) - server_cpu0,
        client_cpu_s: cpu_s("self") - client_cpu0,
        db_cpu_s: None,
    }
}
