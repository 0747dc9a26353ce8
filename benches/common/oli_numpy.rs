//! What the Landsat and Sentinel-2 benches share: the median of runs, the bench's Python venv
//! (`venv.rs`, shared with the MODIS benches) and a run of a numpy implementation of the OLI
//! algorithm (one file, included by both with `#[path]`, since each bench is its own crate).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The median and the best (smallest) of a set of timings.
pub fn median(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0])
}

#[path = "venv.rs"]
mod venv;

/// The bench's Python with what the OLI numpy side imports.
fn bench_python() -> Result<PathBuf> {
    venv::bench_python(&[
        ("numpy", "numpy"),
        ("tifffile", "tifffile"),
        ("imagecodecs", "imagecodecs"),
    ])
}

/// The numpy implementation `benches/SCRIPT` on a product folder: its JSON line.
pub fn numpy(script: &str, product: &Path, csv: &Path) -> Result<serde_json::Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("benches")
        .join(script);
    let out = std::process::Command::new(bench_python()?)
        .arg(script)
        .arg(product)
        .arg("-o")
        .arg(csv)
        .output()?;
    let text = String::from_utf8_lossy(&out.stderr);
    anyhow::ensure!(out.status.success(), "numpy: {text}");
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).context("numpy's JSON line")
}
