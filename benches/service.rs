//! Service benchmark: sustained ingest through fuse + store (hotspots per second), directly on
//! the store and through `POST /api/v1/hotspots`, API latency (p50/p99) under concurrent load
//! from loopback clients, and a bounded load run at 50 clients (county-scoped GETs and POSTs:
//! p50, p99, errors, RSS; issue 15). Deterministic inputs (seeded). Run with
//! `cargo bench --bench service`; `-- --quick` for a short run; `-- --load` for the ingest that
//! fills the store and the 50-client run only.
//!
//! The locate step is a grid placer here, so the figures cover dedupe + fuse + SQLite; the
//! R-tree matcher is measured by `benches/locate.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeZone;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use strawfire::config::{Config, TokenConfig};
use strawfire::fuse::{FuseParams, Placement, Placer};
use strawfire::hotspot::{write_csv, Confidence, DayNight, Hotspot};
use strawfire::store::{IngestBatch, Origin, SqliteStore, Store};

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
    let (batches, per_batch) = if smoke {
        (4, 200)
    } else if quick {
        (20, 500)
    } else {
        (100, 1000)
    };
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    println!(
        "## Service benchmark ({} batches of {per_batch} hotspots)",
        batches
    );

    // 1. Store + fuse directly, one transaction per batch; 10 % of each batch repeats the
    //    previous batch (overlapping polls).
    if !load_only {
        direct_ingest(&dir, &mut rng, batches, per_batch);
    }
    service_runs(&dir, &mut rng, batches, per_batch, smoke, quick, load_only);
}

fn direct_ingest(dir: &tempfile::TempDir, rng: &mut ChaCha8Rng, batches: usize, per_batch: usize) {
    let store = SqliteStore::open(&dir.path().join("direct.sqlite")).unwrap();
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
        "store ingest (fuse + SQLite, WAL, synchronous=FULL): {total} hotspots in {:.2} s = {:.0} hotspots/s; {} stored, {} events",
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

fn service_runs(
    dir: &tempfile::TempDir,
    rng: &mut ChaCha8Rng,
    batches: usize,
    per_batch: usize,
    smoke: bool,
    quick: bool,
    load_only: bool,
) {
    // 2. The same through HTTP: FIRMS CSV bodies to POST /api/v1/hotspots.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut cfg = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().join("svc"),
            samples_dir: None,
            ..Config::default()
        };
        cfg.tokens.push(TokenConfig {
            token: ADMIN.into(),
            role: "admin".into(),
            name: None,
        });
        // One token per county of the grid placer (0.1° of longitude each).
        for code in 410_500..410_540 {
            cfg.tokens.push(TokenConfig {
                token: county_token(code),
                role: format!("county:{code}"),
                name: None,
            });
        }
        let running = strawfire::service::start(cfg, Arc::new(Grid)).await.unwrap();
        let base = format!("http://{}", running.addr);
        let client = reqwest::Client::new();
        let bodies: Vec<Vec<u8>> = (0..batches)
            .map(|_| {
                let mut out = Vec::new();
                write_csv(&mut out, &hotspots(rng, per_batch)).unwrap();
                out
            })
            .collect();
        let t = Instant::now();
        for body in &bodies {
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
        let el = t.elapsed();
        let n = batches * per_batch;
        println!(
            "HTTP ingest (POST /api/v1/hotspots, CSV parse + fuse + store): {n} hotspots in {:.2} s = {:.0} hotspots/s",
            el.as_secs_f64(),
            n as f64 / el.as_secs_f64()
        );

        if !load_only {
            latency_16(&client, &base, batches * per_batch, smoke, quick).await;
        }
        load_50(&client, &base, smoke, quick).await;
        running.shutdown().await;
    });
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

/// `VmRSS` and `VmHWM` (peak) of this process, MiB: the server and the load clients share it,
/// the clients' part is small (their answers are dropped as they are read).
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// What one request of the load run was.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    GetEvents,
    GetHotspots,
    Post,
}

/// 4. The bounded load run of issue 15: 50 concurrent loopback clients, each a county command
///    centre with its own county token: 4 of 5 requests are scoped GETs (events or hotspots of a
///    0.1° box inside its county, alternately), 1 of 5 a POST of a 5-row FIRMS CSV (new fires,
///    admin token). Bounded by a request count per client and a wall-clock cap; every
///    non-2xx answer or transport error is counted, not fatal.
async fn load_50(client: &reqwest::Client, base: &str, smoke: bool, quick: bool) {
    const CLIENTS: usize = 50;
    let per_client = if smoke {
        4
    } else if quick {
        40
    } else {
        200
    };
    let cap = Duration::from_secs(if smoke { 20 } else { 120 });
    let (rss0, _) = rss_mib();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (client, base) = (client.clone(), base.to_string());
        tasks.push(tokio::spawn(async move {
            let mut rng = ChaCha8Rng::seed_from_u64(5000 + c as u64);
            let county = 410_500 + (c % 40) as i64;
            let token = county_token(county);
            let west = 113.0 + (county - 410_500) as f64 * 0.1;
            let mut out: Vec<(Kind, Duration, bool)> = Vec::with_capacity(per_client);
            for i in 0..per_client {
                if t.elapsed() > cap {
                    break;
                }
                let t0 = Instant::now();
                let (kind, ok) = if i % 5 == 4 {
                    let mut body = Vec::new();
                    let mut hs = hotspots(&mut rng, 5);
                    // Today's fires: new rows, not duplicates of the store.
                    let now = chrono::Utc::now();
                    for h in &mut hs {
                        h.acq_time = now - chrono::Duration::minutes(rng.gen_range(5..120));
                    }
                    write_csv(&mut body, &hs).unwrap();
                    let r = client
                        .post(format!("{base}/api/v1/hotspots"))
                        .bearer_auth(ADMIN)
                        .header("content-type", "text/csv")
                        .body(body)
                        .send()
                        .await;
                    let ok = match r {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    (Kind::Post, ok)
                } else {
                    let s = rng.gen_range(32.0..35.9);
                    let w = west + rng.gen_range(0.0..0.05);
                    let path = if i % 2 == 0 { "events" } else { "hotspots" };
                    let url = format!(
                        "{base}/api/v1/{path}?bbox={w:.3},{s:.3},{:.3},{:.3}&from=2024-06-08",
                        w + 0.05,
                        s + 0.1
                    );
                    let r = client.get(url).bearer_auth(&token).send().await;
                    let ok = match r {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    let kind = if path == "events" {
                        Kind::GetEvents
                    } else {
                        Kind::GetHotspots
                    };
                    (kind, ok)
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
    let (rss, hwm) = rss_mib();
    println!(
        "Load run, {CLIENTS} concurrent loopback clients (county tokens), {} requests in {:.1} s = {:.0} requests/s{}:",
        all.len(),
        el.as_secs_f64(),
        all.len() as f64 / el.as_secs_f64(),
        if el > cap { " (stopped by the time cap)" } else { "" }
    );
    let get = [Kind::GetEvents, Kind::GetHotspots];
    for (kinds, name) in [
        (&get[..], "scoped GET (events/hotspots, 0.05° × 0.1° box)"),
        (&[Kind::GetEvents][..], "  of which GET /events"),
        (&[Kind::GetHotspots][..], "  of which GET /hotspots"),
        (&[Kind::Post][..], "POST /hotspots (5 new rows)"),
    ] {
        let mut lat: Vec<Duration> = all
            .iter()
            .filter(|r| kinds.contains(&r.0))
            .map(|r| r.1)
            .collect();
        let errors = all.iter().filter(|r| kinds.contains(&r.0) && !r.2).count();
        lat.sort();
        if lat.is_empty() {
            continue;
        }
        println!(
            "  {name}: {} requests, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {errors} errors",
            lat.len(),
            percentile(&lat, 0.5).as_secs_f64() * 1e3,
            percentile(&lat, 0.99).as_secs_f64() * 1e3,
            lat.last().unwrap().as_secs_f64() * 1e3,
        );
    }
    println!(
        "  process RSS (server + clients): {rss0:.0} MiB before, {rss:.0} MiB after, peak {hwm:.0} MiB"
    );
}
