//! Landsat 8/9 OLI scan benchmark (issue 18): a full-size synthetic Collection 2 Level-1 product
//! (7,801 × 7,681 pixels, the size of a WRS-2 scene's 30 m grid; bands 1–7, QA_PIXEL, QA_RADSAT
//! as DEFLATE-tiled `UInt16` GeoTIFFs and both MTLs, written by `synth::landsat` through the
//! product writer into `target/bench-data/landsat/`, reused when present) timed as:
//! - floor: the nine GeoTIFFs the scan needs read into memory as DNs (`raster::band::read_u16`,
//!   parallel row strips), nothing converted;
//! - scan: `scan_files` on the product folder, the streamed scan (`scan_landsat_product`: the
//!   files decoded block by block, each block converted and classified while fresh, then the
//!   candidates' windows, hotspots and coverage), with its stages;
//! - the in-memory path for comparison: `landsat_c2l1::read` (every band whole as reflectance)
//!   and the detector on it: all threads, one thread, the sequential reference (checked equal
//!   to the fast detector and to the streamed scan on the full scene);
//! - with `--python`: the numpy implementation of the same algorithm
//!   (`benches/numpy_landsat_oli.py`) on the same folder, in `target/bench-venv` (created with
//!   numpy, tifffile and imagecodecs from PyPI when missing).
//!
//! Wall time and this process's CPU time (user + system, from `/proc/self/stat`) are both
//! given: on a shared machine the CPU time is the steadier measure of the work done.
//!
//! Run: `cargo bench --bench landsat [-- --python]` (`LANDSAT_BENCH_RUNS=n`, default 3; the
//! figures are the median and best; `LANDSAT_BENCH_DETECT_ONLY=1` leaves out the floor and the
//! timed scans). Under `cargo test --all-targets` (no `--bench`) it is a
//! smoke run on a 256 × 256 product.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use strawfire::detect::oli::{detect_oli, detect_oli_reference, OliInput};
use strawfire::model::oli::OliModel;
use strawfire::product::landsat_c2l1;
use strawfire::product::write::landsat_c2l1::WriteOptions;
use strawfire::raster::band::read_u16;
use strawfire::scan::{scan_files, ModelChoice};
use strawfire::synth::landsat::{generate, LandsatSpec, PlantedFire};

fn time<T>(f: impl FnOnce() -> Result<T>) -> Result<(Duration, T)> {
    let t = Instant::now();
    let v = f()?;
    Ok((t.elapsed(), v))
}

/// This process's CPU time (user + system), from `/proc/self/stat` (clock ticks of 10 ms).
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15: indexes 11 and 12 after the state.
    (tick(11) + tick(12)) / 100.0
}

/// Wall and CPU seconds of `f`.
fn timed<T>(f: impl FnOnce() -> Result<T>) -> Result<((f64, f64), T)> {
    let c0 = cpu_s();
    let (t, v) = time(f)?;
    Ok(((t.as_secs_f64(), cpu_s() - c0), v))
}

#[path = "common/oli_numpy.rs"]
mod oli_numpy;
use oli_numpy::median;

/// The product folder for `rows × cols`, generated once.
fn product(rows: usize, cols: usize) -> Result<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-data/landsat")
        .join(format!("{rows}x{cols}"));
    let mut spec = LandsatSpec::day(rows, cols, 18);
    // 300 fires of 1–400 m² at 700–1200 K scattered over the scene.
    for i in 0..300u64 {
        let h = |k: u64| {
            let x = (i * 0x9E37_79B9 + k * 0x85EB_CA6B) % 1_000_003;
            x as f64 / 1_000_003.0
        };
        spec.fires.push(PlantedFire {
            row: (h(1) * rows as f64) as usize,
            col: (h(2) * cols as f64) as usize,
            area_m2: 1.0 + 399.0 * h(3) * h(3),
            temp_k: 700.0 + 500.0 * h(4),
        });
    }
    let id_dir = std::fs::read_dir(&dir)
        .ok()
        .and_then(|mut d| d.find_map(|e| e.ok().map(|e| e.path()).filter(|p| p.is_dir())));
    if let Some(p) = id_dir {
        return Ok(p);
    }
    std::fs::create_dir_all(&dir)?;
    eprintln!("landsat bench: generating {rows} × {cols} …");
    let (t, scene) = time(|| Ok(generate(&spec)))?;
    eprintln!("  generated in {:.1} s", t.as_secs_f64());
    let (t, p) = time(|| {
        scene
            .write(&dir, WriteOptions::default())
            .context("writing the product")
    })?;
    eprintln!("  written in {:.1} s: {}", t.as_secs_f64(), p.display());
    Ok(p)
}

fn main() -> Result<()> {
    strawfire::raster::quiet_gdal();
    let full = std::env::args().any(|a| a == "--bench");
    let with_python = std::env::args().any(|a| a == "--python");
    let (rows, cols) = if full { (7801, 7681) } else { (256, 256) };
    let runs: usize = std::env::var("LANDSAT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 3 } else { 1 });
    let folder = product(rows, cols)?;
    let located = landsat_c2l1::locate(&folder)?;
    let mut files: Vec<PathBuf> = located
        .mtl
        .bands
        .values()
        .map(|(name, _, _)| folder.join(name))
        .collect();
    for qa in [&located.mtl.qa_pixel, &located.mtl.qa_radsat]
        .into_iter()
        .flatten()
    {
        files.push(folder.join(qa));
    }
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "Landsat OLI {rows} × {cols}: {} files, {:.0} MB on disk, {} threads, {runs} runs; load average at start {}",
        files.len(),
        bytes as f64 / 1e6,
        rayon::current_num_threads(),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    let (mut floor, mut scan, mut floor_cpu, mut scan_cpu) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut stages = Vec::new();
    let mut fires = 0;
    let mut last_scan = None;
    // LANDSAT_BENCH_DETECT_ONLY=1: neither the floor nor the scan (the detector and numpy only).
    let detect_only = std::env::var("LANDSAT_BENCH_DETECT_ONLY").is_ok_and(|v| v == "1");
    for _ in 0..if detect_only { 0 } else { runs } {
        let ((w, c), _) = timed(|| {
            let mut n = 0usize;
            for f in &files {
                let (_, b) = read_u16(f)?;
                n += b.as_slice().len();
            }
            Ok(n)
        })?;
        floor.push(w);
        floor_cpu.push(c);
        let ((w, c), r) = timed(|| {
            Ok(scan_files(
                std::slice::from_ref(&folder),
                ModelChoice::FromScene,
                &|_| {},
            )?)
        })?;
        scan.push(w);
        scan_cpu.push(c);
        stages.push(r.timing);
        fires = r.hotspots.len();
        last_scan = Some(r);
    }
    if detect_only {
        (floor, scan, floor_cpu, scan_cpu) = (
            vec![f64::NAN],
            vec![f64::NAN],
            vec![f64::NAN],
            vec![f64::NAN],
        );
    }
    let (fm, fb) = median(floor);
    let (sm, sb) = median(scan);
    let (fcm, fcb) = median(floor_cpu);
    let (scm, scb) = median(scan_cpu);
    println!("| stage | wall, median | wall, best | CPU, median | CPU, best |");
    println!("|---|---|---|---|---|");
    println!("| floor: 9 GeoTIFFs as DNs | {fm:.2} s | {fb:.2} s | {fcm:.2} s | {fcb:.2} s |");
    println!(
        "| scan: `scan_files`, streamed ({fires} fires) | {sm:.2} s | {sb:.2} s | {scm:.2} s | {scb:.2} s |"
    );
    println!(
        "scan / floor: wall {:.2} (median), {:.2} (best); CPU {:.2} (median), {:.2} (best)",
        sm / fm,
        sb / fb,
        scm / fcm,
        scb / fcb
    );
    if let Some(last) = stages.last() {
        println!(
            "scan stages (last run): read + per-pixel stage {:.2} s, candidates + finish {:.2} s, georef + coverage {:.2} s",
            last.read.as_secs_f64(),
            last.detect.as_secs_f64(),
            last.georef.as_secs_f64()
        );
    }

    // The in-memory path: every band read whole, the detector on it.
    let ((rw, rc), scene) = timed(|| Ok(landsat_c2l1::read(&folder)?))?;
    println!("| in-memory read: `landsat_c2l1::read` (once) | {rw:.2} s | | {rc:.2} s | |");
    let g = &scene.granule;
    let input = OliInput::from_bands(
        |n| g.band(n),
        scene.cloud.as_ref().map(|c| c.view()),
        g.water.as_ref().map(|w| w.view()),
        scene.mtl.is_day(),
    )?;
    let m = OliModel::builtin();
    let (mut all, mut one) = (Vec::new(), Vec::new());
    let (mut all_cpu, mut one_cpu) = (Vec::new(), Vec::new());
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    for _ in 0..runs.max(5) {
        let ((w, c), _) = timed(|| Ok(detect_oli(&input, &m)?))?;
        all.push(w);
        all_cpu.push(c);
        let ((w, c), _) = pool.install(|| timed(|| Ok(detect_oli(&input, &m)?)))?;
        one.push(w);
        one_cpu.push(c);
    }
    let (reference, r) = time(|| Ok(detect_oli_reference(&input, &m)?))?;
    let fast = detect_oli(&input, &m)?;
    anyhow::ensure!(
        format!("{:?}", fast.fires) == format!("{:?}", r.fires) && fast.mask == r.mask,
        "the fast detector and the reference disagree on the full scene"
    );
    if let Some(streamed) = &last_scan {
        anyhow::ensure!(
            streamed.detection.mask == fast.mask && streamed.hotspots.len() == fast.fires.len(),
            "the streamed scan and the in-memory detector disagree on the full scene"
        );
    }
    let (am, ab) = median(all);
    let (om, ob) = median(one);
    let (acm, acb) = median(all_cpu);
    let (ocm, ocb) = median(one_cpu);
    println!(
        "| detect_oli on bands in memory, all threads | {am:.2} s | {ab:.2} s | {acm:.2} s | {acb:.2} s |"
    );
    println!(
        "| detect_oli on bands in memory, 1 thread | {om:.2} s | {ob:.2} s | {ocm:.2} s | {ocb:.2} s |"
    );
    println!(
        "| detect_oli_reference (sequential, once) | {:.2} s | | | |",
        reference.as_secs_f64()
    );
    println!(
        "candidates' fires: {} of {} total; fast == reference{}",
        fast.fires
            .iter()
            .filter(|f| f.test == strawfire::detect::oli::FireTest::Contextual)
            .count(),
        fast.fires.len(),
        if last_scan.is_some() {
            " == streamed"
        } else {
            ""
        }
    );
    drop(scene);

    if with_python {
        let csv = folder.with_extension("numpy-fires.csv");
        let v = oli_numpy::numpy("numpy_landsat_oli.py", &folder, &csv)?;
        let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
        let (read, detect) = (f("read_s"), f("detect_s"));
        let (read_cpu, detect_cpu) = (f("read_cpu_s"), f("detect_cpu_s"));
        let np_fires = v["fires"].as_u64().unwrap_or(0);
        // The same fire pixels?
        let text = std::fs::read_to_string(&csv)?;
        let mut theirs: Vec<(usize, usize)> = text
            .lines()
            .skip(1)
            .filter_map(|l| {
                let mut it = l.split(',');
                Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
            })
            .collect();
        theirs.sort();
        let ours: Vec<(usize, usize)> = fast.fires.iter().map(|f| (f.row, f.col)).collect();
        let common = ours
            .iter()
            .filter(|p| theirs.binary_search(p).is_ok())
            .count();
        println!(
            "| numpy: read + convert (tifffile, imagecodecs) | {read:.2} s | | {read_cpu:.2} s | |"
        );
        println!("| numpy: the algorithm | {detect:.2} s | | {detect_cpu:.2} s | |");
        println!(
            "numpy: {np_fires} fires, {} candidates; {common} of our {} fire pixels among them",
            v["candidates"],
            ours.len()
        );
        println!(
            "numpy / strawfire, whole (read + detect): wall {:.1}× (vs our median scan), CPU {:.1}×; \
             the algorithm alone (numpy's detect vs our detector on bands in memory, all threads): {:.1}× wall; \
             CPU time (steadier on a shared machine): {:.1}× (numpy's detect CPU over our 1-thread detect CPU, \
             medians), {:.1}× over our all-threads CPU",
            (read + detect) / sm,
            (read_cpu + detect_cpu) / scm,
            detect / am,
            detect_cpu / ocm,
            detect_cpu / acm
        );
    }
    Ok(())
}
