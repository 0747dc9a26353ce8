//! The benches' Python: one venv for all of them, `target/bench-venv`, made from the `python3` on
//! the PATH when missing and given, by pip from PyPI, whatever a bench's numpy side imports and
//! the venv lacks (numpy, tifffile, imagecodecs for Landsat and Sentinel-2; numpy, pyhdf, h5py for
//! the MODIS/MERSI products; each has wheels, so no HDF4 or HDF5 headers are needed). So
//! `cargo bench --bench NAME -- --python` runs on a fresh machine with Python ≥ 3.11 (`tomllib`)
//! and PyPI in reach. Included by each bench with `#[path]` (a bench is its own crate).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};

/// `target/bench-venv/bin/python` with every `(import name, pip name)` of `packages`
/// importable; the venv is made and the missing packages installed first.
pub fn bench_python(packages: &[(&str, &str)]) -> Result<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        eprintln!("bench: making {} …", venv.display());
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .context("running python3 -m venv")?;
        ensure!(
            made.success(),
            "could not make the bench venv {}",
            venv.display()
        );
    }
    let importable = |module: &str| {
        Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(module, _)| !importable(module))
        .map(|(_, pip)| *pip)
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "bench: installing {} into {} …",
            missing.join(" "),
            venv.display()
        );
        let ok = Command::new(&python)
            .args(["-m", "pip", "install", "-q"])
            .args(&missing)
            .status()
            .context("running pip")?;
        ensure!(
            ok.success(),
            "pip could not install {} into {}",
            missing.join(" "),
            venv.display()
        );
    }
    Ok(python)
}
