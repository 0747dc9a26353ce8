//! MODIS C6.1 detection benchmark (issue 20): a full synthetic MODIS granule (2030 × 1354, the
//! 1 km size of a 5-minute granule: 203 scans of 10 rows) from `synth::modis`, Aqua afternoon
//! over the North China Plain with 300 planted fires, timed as:
//! - detect: `detect_modis` on all threads and on one, and the sequential reference;
//! - numpy (`--python`): `benches/numpy_modis.py`, the same algorithm in numpy (per-pixel stage
//!   vectorised, a Python loop over potential fires), on the same bands (written once as raw
//!   arrays, reading not timed), run in the bench venv (`target/bench-venv`, made and given
//!   numpy by the bench itself, `benches/common/venv.rs`); its fires are compared with ours
//!   pixel for pixel.
//!
//! Run: `cargo bench --bench modis -- [--rows N] [--runs N] [--no-python]` (numpy runs unless
//! `--no-python`). Under `cargo test --all-targets` (no `--bench`) it is a smoke run on a
//! 100-row granule, numpy only with `--python`.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use strawfire::detect::modis::{detect_modis, detect_modis_reference, ModisDetection};
use strawfire::model::modis::ModisModel;
use strawfire::synth::modis::{generate_modis, random_modis_fires, ModisSpec, SynthModis};

#[path = "common/venv.rs"]
mod venv;

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64()
}

fn write_raw(g: &SynthModis, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, b) in &g.granule.bands {
        let bytes: Vec<u8> = b.as_slice().iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(dir.join(format!("{name}.f32")), bytes)?;
    }
    let water = g.granule.water.as_ref().context("a land/sea mask")?;
    std::fs::write(dir.join("water.u8"), water.as_slice())?;
    let strawfire::detect::PixelArea::PerColumn(area) = g.pixel_area() else {
        bail!("per-column areas")
    };
    let bytes: Vec<u8> = area.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(dir.join("area.f64"), bytes)?;
    std::fs::write(
        dir.join("b22_saturation.txt"),
        g.granule.saturation["B22"].to_string(),
    )?;
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let bench = args.iter().any(|a| a == "--bench");
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let rows = arg("--rows").unwrap_or(if bench { 2030 } else { 100 });
    let runs = arg("--runs").unwrap_or(if bench { 3 } else { 1 });
    let python = if bench {
        !args.iter().any(|a| a == "--no-python")
    } else {
        args.iter().any(|a| a == "--python")
    };
    let mut spec = ModisSpec::day(rows, 1354, 20);
    spec.cloud_cover = 0.15;
    spec.fires = random_modis_fires(&spec, if bench { 300 } else { 20 });
    let t = Instant::now();
    let g = generate_modis(&spec)?;
    eprintln!(
        "generated {rows} × 1354 in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let m = ModisModel::builtin();
    let input = g.input();
    let area = g.pixel_area();
    let mut all = Vec::new();
    let mut last: Option<ModisDetection> = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(detect_modis(&input, &m, &area)?);
        all.push(t.elapsed());
    }
    let d = last.expect("at least one run");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let mut one = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        pool.install(|| detect_modis(&input, &m, &area))?;
        one.push(t.elapsed());
    }
    let t = Instant::now();
    let r = detect_modis_reference(&input, &m, &area)?;
    let reference = t.elapsed().as_secs_f64();
    if format!("{:?}", r.fires) != format!("{:?}", d.fires) {
        bail!("the fast detector and the reference differ");
    }
    let found = spec
        .fires
        .iter()
        .filter(|f| d.fires.iter().any(|x| (x.row, x.col) == (f.row, f.col)))
        .count();
    let threads = rayon::current_num_threads();
    println!(
        "MODIS {rows} × 1354: {} fires ({found} of {} planted), detect {:.3} s on {threads} threads, {:.3} s on 1, reference {:.3} s",
        d.fires.len(),
        spec.fires.len(),
        median(all.clone()),
        median(one.clone()),
        reference
    );
    if python {
        let dir =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-data/modis/{rows}"));
        write_raw(&g, &dir)?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/numpy_modis.py");
        let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/modis-c61.toml");
        let out = std::process::Command::new(venv::bench_python(&[("numpy", "numpy")])?)
            .arg(&script)
            .arg(&dir)
            .arg(&model)
            .arg(rows.to_string())
            .arg("1354")
            .output()
            .context("running benches/numpy_modis.py in the bench venv")?;
        if !out.status.success() {
            bail!("numpy_modis.py: {}", String::from_utf8_lossy(&out.stderr));
        }
        let text = String::from_utf8(out.stdout)?;
        let mut words = text.split_whitespace();
        let secs: f64 = words.next().context("numpy time")?.parse()?;
        let potential: usize = words.next().context("potential count")?.parse()?;
        let csv = std::fs::read_to_string(dir.join("numpy_fires.csv"))?;
        let theirs: BTreeSet<(usize, usize, u8)> = csv
            .lines()
            .filter_map(|l| {
                let v: Vec<&str> = l.split(',').collect();
                Some((v[0].parse().ok()?, v[1].parse().ok()?, v[2].parse().ok()?))
            })
            .filter(|x| x.2 >= 7)
            .collect();
        let ours: BTreeSet<(usize, usize, u8)> = d
            .fires
            .iter()
            .map(|f| (f.row, f.col, f.class as u8))
            .collect();
        let same = ours.intersection(&theirs).count();
        println!(
            "numpy: {secs:.3} s ({potential} potential fires), {} fires; same pixel and class: {same}; numpy/strawfire {:.1}×",
            theirs.len(),
            secs / median(all)
        );
    }
    Ok(())
}
