//! Landsat 8/9 OLI scan benchmark (issue 18): a full-size synthetic Collection 2 Level-1 product
//! (7,801 × 7,681 pixels, the size of a WRS-2 scene's 30 m grid; bands 1–7, QA_PIXEL, QA_RADSAT
//! as DEFLATE-tiled `UInt16` GeoTIFFs and both MTLs, written by `synth::landsat` through the
//! product writer into `target/bench-data/landsat/`, reused when present) timed as:
//! - floor: the nine GeoTIFFs the scan needs read into memory as DNs (`raster::band::read_u16`,
//!   parallel row strips), nothing converted;
//! - read: `landsat_c2l1::read` (DN → TOA reflectance, fill, saturation, QA masks);
//! - scan: `scan_files` on the product folder (read + detect + hotspots + coverage), with its
//!   stages;
//! - detect alone: the rayon detector on all threads and on one, and the sequential reference.
//!
//! Run: `cargo bench --bench landsat` (`LANDSAT_BENCH_RUNS=n`, default 3; the figures are the
//! median and best). Under `cargo test --all-targets` (no `--bench`) it is a smoke run on a
//! 256 × 256 product.

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

fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    (v[v.len() / 2].as_secs_f64(), v[0].as_secs_f64())
}

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
    println!(
        "Landsat OLI {rows} × {cols}: {} files, {:.0} MB on disk, {} threads, {runs} runs",
        files.len(),
        bytes as f64 / 1e6,
        rayon::current_num_threads()
    );
    let (mut floor, mut read, mut scan) = (Vec::new(), Vec::new(), Vec::new());
    let mut stages = Vec::new();
    let mut fires = 0;
    for _ in 0..runs {
        let (t, _) = time(|| {
            let mut n = 0usize;
            for f in &files {
                let (_, b) = read_u16(f)?;
                n += b.as_slice().len();
            }
            Ok(n)
        })?;
        floor.push(t);
        let (t, _) = time(|| Ok(landsat_c2l1::read(&folder)?))?;
        read.push(t);
        let (t, r) = time(|| {
            Ok(scan_files(
                std::slice::from_ref(&folder),
                ModelChoice::FromScene,
                &|_| {},
            )?)
        })?;
        scan.push(t);
        stages.push(r.timing);
        fires = r.hotspots.len();
    }
    let (fm, fb) = stats(floor);
    let (rm, rb) = stats(read);
    let (sm, sb) = stats(scan);
    println!("| floor: 9 GeoTIFFs as DNs | {fm:.2} s | {fb:.2} s |");
    println!("| read: `landsat_c2l1::read` | {rm:.2} s | {rb:.2} s |");
    println!("| scan: `scan_files` ({fires} fires) | {sm:.2} s | {sb:.2} s |");
    println!(
        "scan / floor: {:.2} (median), {:.2} (best)",
        sm / fm,
        sb / fb
    );
    let last = stages.last().expect("one run");
    println!(
        "scan stages (last run): read {:.2} s, detect {:.2} s, georef {:.2} s",
        last.read.as_secs_f64(),
        last.detect.as_secs_f64(),
        last.georef.as_secs_f64()
    );

    // Detection alone, on the bands in memory.
    let scene = landsat_c2l1::read(&folder)?;
    let g = &scene.granule;
    let input = OliInput::from_bands(
        |n| g.band(n),
        scene.cloud.as_ref().map(|c| c.view()),
        g.water.as_ref().map(|w| w.view()),
        scene.mtl.is_day(),
    )?;
    let m = OliModel::builtin();
    let mut all = Vec::new();
    let mut one = Vec::new();
    for _ in 0..runs {
        all.push(time(|| Ok(detect_oli(&input, &m)?))?.0);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
        one.push(pool.install(|| time(|| Ok(detect_oli(&input, &m)?)))?.0);
    }
    let (reference, r) = time(|| Ok(detect_oli_reference(&input, &m)?))?;
    let fast = detect_oli(&input, &m)?;
    anyhow::ensure!(
        format!("{:?}", fast.fires) == format!("{:?}", r.fires) && fast.mask == r.mask,
        "the fast detector and the reference disagree on the full scene"
    );
    let (am, ab) = stats(all);
    let (om, ob) = stats(one);
    println!("| detect_oli, all threads | {am:.2} s | {ab:.2} s |");
    println!("| detect_oli, 1 thread | {om:.2} s | {ob:.2} s |");
    println!(
        "| detect_oli_reference (sequential, once) | {:.2} s | |",
        reference.as_secs_f64()
    );
    println!(
        "candidates' fires: {} of {} total; fast == reference",
        fast.fires
            .iter()
            .filter(|f| f.test == strawfire::detect::oli::FireTest::Contextual)
            .count(),
        fast.fires.len()
    );
    Ok(())
}
