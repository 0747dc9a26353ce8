//! Product reading benchmark: a full VIIRS I-band L1B granule (6464 × 6400, VNP02IMG + VNP03IMG,
//! deflate level 4 with shuffle, one scan of lines per chunk) read three ways:
//! - floor: libnetcdf reads the variables a scan needs (I01–I05, their quality flags, the two BT
//!   LUTs, latitude, longitude, four angles, land/water mask) serially into memory, nothing
//!   converted: what any reader through the library pays;
//! - `product::open` decoding through the library (`Decode::Library`), counts converted;
//! - `product::open` as shipped (`Decode::ParallelChunks`): chunks inflated on every core.
//!
//! Each is run in a child process of its own so its peak memory (VmHWM) is its own.
//!
//! Run: `cargo bench --bench product`. Under `cargo test --all-targets` (no `--bench`) it is a
//! smoke run on a 64 × 640 granule.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use rayon::prelude::*;
use strawfire::product::viirs_l1b::{self, Decode};
use strawfire::product::write::viirs_l1b::{write, L1bOptions};
use strawfire::product::{Geometry, Granule, ProductKind, Swath};
use strawfire::raster::{BandBuf, SceneMeta};

fn noise(i: usize, salt: u64) -> f32 {
    let mut x = (i as u64) ^ (salt.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((x ^ (x >> 31)) % 10_000) as f32 / 10_000.0
}

fn band(shape: (usize, usize), f: impl Fn(usize, usize, usize) -> f32 + Sync) -> BandBuf {
    let mut b = BandBuf::zeros(shape).unwrap();
    b.as_mut_slice()
        .par_iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v = f(i / shape.1, i % shape.1, i));
    b
}

/// A granule with smooth fields plus sensor-like noise (so the chunks compress as real ones
/// roughly do, not to nothing).
fn granule(shape: (usize, usize)) -> Granule {
    let mut bands = BTreeMap::new();
    bands.insert(
        "I1".into(),
        band(shape, |r, c, i| {
            0.05 + 0.1 * ((r + c) % 500) as f32 / 500.0 + 0.01 * noise(i, 1)
        }),
    );
    bands.insert(
        "I2".into(),
        band(shape, |r, c, i| {
            0.1 + 0.2 * ((r * 3 + c) % 700) as f32 / 700.0 + 0.01 * noise(i, 2)
        }),
    );
    bands.insert(
        "I3".into(),
        band(shape, |r, c, i| {
            0.15 + 0.2 * ((r + 2 * c) % 900) as f32 / 900.0 + 0.01 * noise(i, 3)
        }),
    );
    bands.insert(
        "I4".into(),
        band(shape, |r, c, i| {
            295.0 + 10.0 * ((r + c) % 300) as f32 / 300.0 + 0.5 * noise(i, 4)
        }),
    );
    bands.insert(
        "I5".into(),
        band(shape, |r, c, i| {
            285.0 + 8.0 * ((r * 2 + c) % 400) as f32 / 400.0 + 0.3 * noise(i, 5)
        }),
    );
    bands.insert(
        "SZA".into(),
        band(shape, |r, c, _| 30.0 + 0.001 * r as f32 + 0.002 * c as f32),
    );
    bands.insert(
        "VZA".into(),
        band(shape, |_, c, _| (c as f32 - 3200.0).abs() / 3200.0 * 70.0),
    );
    bands.insert(
        "SAA".into(),
        band(shape, |r, _, _| -150.0 + 0.01 * r as f32),
    );
    bands.insert(
        "VAA".into(),
        band(shape, |_, c, _| if c < 3200 { -100.0 } else { 80.0 }),
    );
    let lat = band(shape, |r, c, _| {
        30.0 + 0.0034 * r as f32 - 0.0001 * c as f32
    });
    let lon = band(shape, |r, c, _| {
        110.0 + 0.004 * c as f32 + 0.0002 * r as f32
    });
    let mut water = BandBuf::<u8>::zeros(shape).unwrap();
    water
        .as_mut_slice()
        .par_iter_mut()
        .enumerate()
        .for_each(|(i, w)| *w = u8::from((i / shape.1) % 700 < 40 && (i % shape.1) % 900 < 60));
    Granule {
        kind: ProductKind::ViirsL1b,
        files: vec![],
        meta: SceneMeta {
            acq_time: chrono::DateTime::from_timestamp(1_717_825_320, 0),
            satellite: Some("N".into()),
            sensor: Some("VIIRS".into()),
        },
        shape,
        bands,
        geometry: Geometry::Swath(Swath {
            lat,
            lon,
            rows_per_scan: 32,
        }),
        water: Some(water),
        saturation: BTreeMap::new(),
    }
}

fn files(dir: &Path, shape: (usize, usize)) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let find = |prefix: &str| -> Option<PathBuf> {
        std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
            })
    };
    if let (Some(d), Some(g)) = (find("VNP02IMG"), find("VNP03IMG")) {
        return Ok((d, g));
    }
    let t = Instant::now();
    let f = write(
        &granule(shape),
        dir,
        &L1bOptions {
            deflate: 4,
            ..L1bOptions::default()
        },
    )?;
    eprintln!(
        "wrote {} and its partner in {:.1} s",
        f.data.display(),
        t.elapsed().as_secs_f64()
    );
    Ok((f.data, f.geo))
}

/// The floor: the variables a scan needs, through libnetcdf, serially, unconverted.
fn floor(data: &Path, geo: &Path) -> Result<usize> {
    let d = netcdf::open(data)?;
    let g = netcdf::open(geo)?;
    let mut bytes = 0;
    for b in ["I01", "I02", "I03", "I04", "I05"] {
        let v: Vec<u16> = d
            .variable(&format!("observation_data/{b}"))
            .context(b)?
            .get_values(..)?;
        let q: Vec<u16> = d
            .variable(&format!("observation_data/{b}_quality_flags"))
            .context(b)?
            .get_values(..)?;
        bytes += 2 * (v.len() + q.len());
    }
    for b in ["I04", "I05"] {
        let l: Vec<f32> = d
            .variable(&format!("observation_data/{b}_brightness_temperature_lut"))
            .context(b)?
            .get_values(..)?;
        bytes += 4 * l.len();
    }
    for v in ["latitude", "longitude"] {
        let a: Vec<f32> = g
            .variable(&format!("geolocation_data/{v}"))
            .context(v)?
            .get_values(..)?;
        bytes += 4 * a.len();
    }
    for v in [
        "solar_zenith",
        "sensor_zenith",
        "solar_azimuth",
        "sensor_azimuth",
    ] {
        let a: Vec<i16> = g
            .variable(&format!("geolocation_data/{v}"))
            .context(v)?
            .get_values(..)?;
        bytes += 2 * a.len();
    }
    let m: Vec<u8> = g
        .variable("geolocation_data/land_water_mask")
        .context("lwm")?
        .get_values(..)?;
    Ok(bytes + m.len())
}

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Child process: one mode, `runs` times; prints the times and the peak.
fn child(mode: &str, data: &Path, geo: &Path, runs: usize) -> Result<()> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        match mode {
            "floor" => {
                floor(data, geo)?;
            }
            "library" => {
                viirs_l1b::read_with(data, geo, Decode::Library)?;
            }
            _ => {
                viirs_l1b::read_with(data, geo, Decode::ParallelChunks)?;
            }
        }
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!("{} {} {}", times[times.len() / 2], times[0], peak_kib());
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let (Ok(mode), Some(i)) = (
        std::env::var("STRAWFIRE_BENCH_MODE"),
        args.iter().position(|a| a == "--files"),
    ) {
        let runs: usize = std::env::var("STRAWFIRE_BENCH_RUNS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(3);
        return child(
            &mode,
            Path::new(&args[i + 1]),
            Path::new(&args[i + 2]),
            runs,
        );
    }
    let smoke = !args.iter().any(|a| a == "--bench");
    let shape = if smoke { (64, 640) } else { (6464, 6400) };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("target/bench-data/l1b_{}x{}", shape.0, shape.1));
    let (data, geo) = files(&dir, shape)?;
    let size = std::fs::metadata(&data)?.len() + std::fs::metadata(&geo)?.len();
    // The parallel read must give the library's granule, bit for bit.
    if smoke {
        let a = viirs_l1b::read_with(&data, &geo, Decode::Library)?;
        let b = viirs_l1b::read_with(&data, &geo, Decode::ParallelChunks)?;
        for (k, v) in &a.bands {
            let bits = |x: &BandBuf| x.as_slice().iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            anyhow::ensure!(bits(v) == bits(&b.bands[k]), "{k} differs between decoders");
        }
    }
    let runs = std::env::var("STRAWFIRE_BENCH_RUNS")
        .unwrap_or_else(|_| if smoke { "1" } else { "5" }.into());
    let runs = runs.as_str();
    println!(
        "granule {} × {}, {:.0} MB on disk (deflate 4 + shuffle, 32-line chunks), {} threads, median of {runs} runs",
        shape.0,
        shape.1,
        size as f64 / 1e6,
        rayon::current_num_threads()
    );
    println!("| read | median | best | peak RSS |\n|---|---|---|---|");
    for (mode, label) in [
        (
            "floor",
            "libnetcdf, serial, the variables a scan needs (floor)",
        ),
        ("library", "product::open, decoded through libnetcdf"),
        ("parallel", "product::open, chunks inflated in parallel"),
    ] {
        let out = std::process::Command::new(std::env::current_exe()?)
            .args(["--files", data.to_str().unwrap(), geo.to_str().unwrap()])
            .env("STRAWFIRE_BENCH_MODE", mode)
            .env("STRAWFIRE_BENCH_RUNS", runs)
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout)?;
        let v: Vec<f64> = text
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        println!(
            "| {label} | {:.2} s | {:.2} s | {:.0} MB |",
            v[0],
            v[1],
            v[2] / 1024.0
        );
    }
    Ok(())
}
