//! Scale-out of scene scanning over `strawfire worker` processes on one PostgreSQL (#19): the
//! same N generated scenes queued as scene jobs, scanned and stored by 1, 2 and 3 workers, in
//! the same run (rounds in the order 1 2 3 3 2 1; each run in a fresh schema). Wall time from
//! the queuing of the first job to the last job done, scenes per second, speed-up over one
//! worker, and the workers' CPU time (from /proc, user + system).
//!
//!     bash scripts/pg.sh cargo bench --bench scaleout [-- --scenes 200 --side 256]
//!
//! Needs `STRAWFIRE_TEST_PG_URL` (scripts/pg.sh sets it). Scenes are written once to
//! `target/bench-data/scaleout/` (night VIIRS I-band GeoTIFFs of `side` × `side` 375 m pixels,
//! one fire each, distinct times); each run hard-links them into a spool of its own, since a
//! worker removes a scene's spool file once its job is done.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use gdal::spatial_ref::SpatialRef;
use ndarray::Array2;
use serde_json::json;
use strawfire::raster::{write_scene, Compression, GeoRef, SceneMeta};
use strawfire::store::jobs::{scene_key, JobKind, JobStore};
use strawfire::store::{PgStore, Store};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn write_scenes(dir: &Path, n: usize, side: usize) -> Vec<(PathBuf, String)> {
    std::fs::create_dir_all(dir).unwrap();
    let georef = GeoRef {
        transform: [400_000.0, 375.0, 0.0, 3_950_000.0, 0.0, -375.0],
        crs_wkt: SpatialRef::from_epsg(32650).unwrap().to_wkt().unwrap(),
    };
    let t0 = Utc.with_ymd_and_hms(2024, 6, 8, 18, 0, 0).unwrap();
    let tex = |r: usize, c: usize| ((r * 7 + c * 13) % 11) as f32 * 0.1;
    (0..n)
        .map(|k| {
            let path = dir.join(format!("s{k:04}_{side}.tif"));
            if !path.exists() {
                let nan = Array2::from_elem((side, side), f32::NAN);
                let mut i4 = Array2::from_shape_fn((side, side), |(r, c)| 290.0 + tex(r, c));
                i4[[side / 2 + k % (side / 4), side / 2 - k % (side / 4)]] = 340.0;
                let i5 = Array2::from_shape_fn((side, side), |(r, c)| 289.0 + tex(r, c));
                let sza = Array2::from_elem((side, side), 120.0f32);
                let meta = SceneMeta {
                    acq_time: Some(t0 + chrono::Duration::minutes(k as i64)),
                    satellite: Some("N20".into()),
                    sensor: Some("VIIRS".into()),
                };
                let part = path.with_extension("tif.part");
                write_scene(
                    &part,
                    &[
                        ("I1", &nan),
                        ("I2", &nan),
                        ("I3", &nan),
                        ("I4", &i4),
                        ("I5", &i5),
                        ("SZA", &sza),
                    ],
                    &georef,
                    &meta,
                    Compression::Deflate,
                )
                .unwrap();
                std::fs::rename(&part, &path).unwrap();
            }
            let sha = strawfire::service::sha256_file(&path).unwrap();
            (path, sha)
        })
        .collect()
}

/// user + system CPU seconds of a process, from /proc.
fn cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 (utime, stime) are 11 and 12 after the state field.
    (ticks(11) + ticks(12)) / 100.0
}

struct Run {
    workers: usize,
    wall_s: f64,
    cpu_s: f64,
}

fn run(url: &str, scenes: &[(PathBuf, String)], workers: usize, tag: &str) -> Run {
    let schema = format!("scaleout_{}_{tag}", std::process::id());
    let store = PgStore::open_in_schema(url, &schema).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    let sep = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{sep}options=-c%20search_path%3D{schema}%2Cpublic");
    let config = dir.path().join("bench.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"{scoped}\"\n[worker]\nspool_dir = \"{}\"\npoll_s = 0.02\n",
            spool.display()
        ),
    )
    .unwrap();
    // The spool: a folder per scene, as an API node makes it.
    let payloads: Vec<_> = scenes
        .iter()
        .map(|(path, sha)| {
            let d = spool.join(sha);
            std::fs::create_dir_all(&d).unwrap();
            let target = d.join(path.file_name().unwrap());
            std::fs::hard_link(path, &target).unwrap();
            json!({"op": "scene", "path": target, "name": path.file_name().unwrap().to_string_lossy(),
                   "sha256": sha, "source": "bench"})
        })
        .collect();
    let mut procs: Vec<Child> = (0..workers)
        .map(|i| {
            let mut c = Command::new(env!("CARGO_BIN_EXE_strawfire"))
                .args(["worker", "--config"])
                .arg(&config)
                .arg("--data-dir")
                .arg(dir.path().join(format!("w{i}")))
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut line = String::new();
            BufReader::new(c.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            assert!(line.contains("running"), "{line}");
            c
        })
        .collect();
    let cpu0: f64 = procs.iter().map(|p| cpu_s(p.id())).sum();
    let t0 = Instant::now();
    for (p, (_, sha)) in payloads.iter().zip(scenes) {
        store.enqueue(JobKind::Scene, &scene_key(sha), p).unwrap();
    }
    loop {
        let c = store.job_counts().unwrap();
        if c.done + c.failed == scenes.len() as u64 {
            assert_eq!(c.failed, 0, "failed scene jobs");
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(1800), "timed out");
        std::thread::sleep(Duration::from_millis(10));
    }
    let wall_s = t0.elapsed().as_secs_f64();
    let cpu: f64 = procs.iter().map(|p| cpu_s(p.id())).sum::<f64>() - cpu0;
    for p in &mut procs {
        let _ = p.kill();
        let _ = p.wait();
    }
    assert_eq!(store.counts().unwrap().scenes, scenes.len() as u64);
    drop(store);
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
    Run {
        workers,
        wall_s,
        cpu_s: cpu,
    }
}

fn main() {
    let Ok(url) = std::env::var("STRAWFIRE_TEST_PG_URL") else {
        eprintln!("scaleout: needs a PostgreSQL: bash scripts/pg.sh cargo bench --bench scaleout");
        std::process::exit(1);
    };
    // `cargo test --all-targets` runs this without `--bench`: a smoke run of a few scenes, so
    // the suite checks the bench works without spending a minute and a half on it.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let n = arg("--scenes", if smoke { 12 } else { 200 });
    let side = arg("--side", 256);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/scaleout");
    let t = Instant::now();
    let scenes = write_scenes(&root, n, side);
    eprintln!(
        "scaleout: {n} scenes of {side} x {side} ready in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let mut runs = Vec::new();
    for (i, w) in [1, 2, 3, 3, 2, 1].into_iter().enumerate() {
        let r = run(&url, &scenes, w, &format!("r{i}"));
        eprintln!(
            "scaleout: {w} worker(s): {:.2} s wall, {:.1} scenes/s, {:.2} CPU s",
            r.wall_s,
            n as f64 / r.wall_s,
            r.cpu_s
        );
        runs.push(r);
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |c| c.get());
    println!("{n} scenes of {side} x {side} px, {cores} cores, load average {load}");
    println!("| workers | wall s (each round) | median wall s | scenes/s | speed-up | worker CPU s (median) | CPU ms / scene |");
    println!("|---|---|---|---|---|---|---|");
    let median = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        (v[(v.len() - 1) / 2] + v[v.len() / 2]) / 2.0
    };
    let base = median(
        runs.iter()
            .filter(|r| r.workers == 1)
            .map(|r| r.wall_s)
            .collect(),
    );
    for w in [1, 2, 3] {
        let of: Vec<&Run> = runs.iter().filter(|r| r.workers == w).collect();
        let wall = median(of.iter().map(|r| r.wall_s).collect());
        let cpu = median(of.iter().map(|r| r.cpu_s).collect());
        let each: Vec<String> = of.iter().map(|r| format!("{:.2}", r.wall_s)).collect();
        println!(
            "| {w} | {} | {wall:.2} | {:.1} | {:.2}× | {cpu:.1} | {:.1} |",
            each.join(", "),
            n as f64 / wall,
            base / wall,
            cpu * 1000.0 / n as f64
        );
    }
}
