//! Raster-engine benchmark on a full-size VIIRS I-band granule (6400 × 6464, generated).
//!
//! Reports, per scene (day and night): the read floor (reading the five bands I1–I5 once into
//! whole arrays), the streamed read the scan does (the six bands block by block, only I4 and I5
//! kept whole, nothing computed), the whole scan (streamed read with the per-pixel stage, the
//! rest of detection, georeferencing and the coverage grid), detection alone on bands in memory
//! on 1 and on all threads, and the ratio of the whole scan to the floor. With `--python`, the
//! same scene goes through the straightforward numpy/scipy implementation
//! (`benches/numpy_viirs.py`, run with /usr/bin/python3 and Debian's python3-gdal, -numpy,
//! -scipy) for the speed ratio; by day only up to 4 Mpixels (its per-pixel `np.median` over
//! 501×501 windows would take hours on a granule).
//!
//! Run: `cargo bench --bench detect -- [--rows N] [--cols N] [--runs N] [--python]`.
//! Scenes are generated into `target/bench-data/` (≈1 GB each, uncompressed, so the floor is
//! GDAL's read, not DEFLATE) and reused when present. Nothing here asserts a time: figures go to
//! BENCHMARKS.md with the machine.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use strawfire::detect::{detect_viirs, ViirsInput};
use strawfire::model::SensorModel;
use strawfire::raster::{self, Compression};
use strawfire::scan::{scan_scene, viirs_band_plan, ModelChoice};
use strawfire::synth::{generate, random_fires_for, SynthSpec};

struct Opts {
    rows: usize,
    cols: usize,
    runs: usize,
    python: bool,
}

fn opts() -> Opts {
    let mut o = Opts {
        rows: 6400,
        cols: 6464,
        runs: 3,
        python: false,
    };
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it, in
    // the debug profile: then it is a smoke test on a small scene, one run, no numpy.
    if !args.iter().any(|a| a == "--bench") {
        o.rows = 128;
        o.cols = 128;
        o.runs = 1;
    }
    let mut i = 1;
    while i < args.len() {
        let val = |i: usize| args.get(i + 1).and_then(|v| v.parse().ok());
        match args[i].as_str() {
            "--rows" => o.rows = val(i).expect("--rows N"),
            "--cols" => o.cols = val(i).expect("--cols N"),
            "--runs" => o.runs = val(i).expect("--runs N"),
            "--python" => {
                o.python = true;
                i -= 1;
            }
            _ => {
                i -= 1; // cargo passes --bench; ignore what we do not know
            }
        }
        i += 2;
    }
    o
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn scene(dir: &Path, o: &Opts, day: bool) -> anyhow::Result<PathBuf> {
    let name = format!(
        "viirs_{}_{}x{}.tif",
        if day { "day" } else { "night" },
        o.rows,
        o.cols
    );
    let path = dir.join(name);
    if path.exists() {
        return Ok(path);
    }
    let seed = if day { 11 } else { 12 };
    let mut spec = if day {
        SynthSpec::day(o.rows, o.cols, seed)
    } else {
        SynthSpec::night(o.rows, o.cols, seed)
    };
    spec.fires = random_fires_for(&spec, 400);
    let t = Instant::now();
    let s = generate(&spec)?;
    let truth = path.with_extension("truth.csv");
    s.write(&path, &truth, Compression::None)?;
    eprintln!(
        "generated {} in {:.1} s",
        path.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(path)
}

fn main() -> anyhow::Result<()> {
    let o = opts();
    strawfire::raster::quiet_gdal();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir)?;
    let model = SensorModel::builtin("viirs-i")?;
    let mut five = model.clone();
    five.bands.retain(|k, _| k.starts_with('I'));
    let threads = rayon::current_num_threads();
    println!(
        "| scene | pixels | fires | read 5 bands (floor) | streamed read | whole scan | ratio scan/floor | detect, {threads} threads | detect, 1 thread | numpy/scipy | numpy/strawfire |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for day in [true, false] {
        let path = scene(&dir, &o, day)?;
        // Warm the page cache so both the floor and the scan read from memory.
        let _ = raster::read_scene(&path, &five)?;
        let (mut floor, mut whole, mut det_n, mut det_1) = (vec![], vec![], vec![], vec![]);
        let mut streamed = vec![];
        let mut fires = 0;
        for _ in 0..o.runs {
            let t = Instant::now();
            let s = raster::read_scene(&path, &five)?;
            floor.push(t.elapsed());
            drop(s);

            let header = raster::open_scene(&path)?;
            let rows = header.shape.0;
            let t = Instant::now();
            let (s, _) = raster::read_streaming(
                header,
                &model,
                &viirs_band_plan(&model),
                |strip_rows| vec![(); rows.div_ceil(strip_rows)],
                |_, _| {},
            )?;
            streamed.push(t.elapsed());
            drop(s);

            let t = Instant::now();
            let r = scan_scene(&path, ModelChoice::FromScene, &|_| {})?;
            whole.push(t.elapsed());
            fires = r.hotspots.len();
            drop(r);

            let s = raster::read_scene(&path, &model)?;
            let input = ViirsInput::from_scene(&s, &model)?;
            let area = strawfire::detect::PixelArea::Constant(140_625.0);
            let t = Instant::now();
            let d = detect_viirs(&input, &model, &area)?;
            det_n.push(t.elapsed());
            assert_eq!(d.fires.len(), fires);
            let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
            let t = Instant::now();
            let d1 = pool.install(|| detect_viirs(&input, &model, &area))?;
            det_1.push(t.elapsed());
            assert_eq!(format!("{:?}", d1.fires), format!("{:?}", d.fires));
        }
        let (floor, whole, det_n, det_1) =
            (median(floor), median(whole), median(det_n), median(det_1));
        let streamed = median(streamed);
        let py = if o.python && (!day || o.rows * o.cols <= 4_000_000) {
            python(&path)?
        } else {
            None
        };
        println!(
            "| {} | {:.1} M | {} | {:.2} s | {:.2} s | {:.2} s | {:.2} | {:.2} s | {:.2} s | {} | {} |",
            if day { "day" } else { "night" },
            (o.rows * o.cols) as f64 / 1e6,
            fires,
            floor.as_secs_f64(),
            streamed.as_secs_f64(),
            whole.as_secs_f64(),
            whole.as_secs_f64() / floor.as_secs_f64(),
            det_n.as_secs_f64(),
            det_1.as_secs_f64(),
            py.map_or("-".into(), |(total, _)| format!("{total:.1} s")),
            py.map_or("-".into(), |(total, pyfires)| format!(
                "{:.0}× ({} fires)",
                total / whole.as_secs_f64(),
                pyfires
            )),
        );
    }
    Ok(())
}

/// Runs the numpy/scipy baseline once: (read + detect seconds, fires).
fn python(path: &Path) -> anyhow::Result<Option<(f64, u64)>> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/numpy_viirs.py");
    let out = Command::new("/usr/bin/python3")
        .arg(&script)
        .arg(path)
        .output();
    let Ok(out) = out else { return Ok(None) };
    if !out.status.success() {
        eprintln!(
            "numpy baseline failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return Ok(None);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let Some(line) = stderr
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
    else {
        return Ok(None);
    };
    let v: serde_json::Value = serde_json::from_str(line)?;
    let total = v["read_s"].as_f64().unwrap_or(0.0) + v["detect_s"].as_f64().unwrap_or(0.0);
    Ok(Some((total, v["fires"].as_u64().unwrap_or(0))))
}
