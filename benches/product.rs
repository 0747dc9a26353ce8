//! Product reading and scanning benchmark (issue 14): a full VIIRS I-band L1B granule
//! (6464 × 6400, VNP02IMG + VNP03IMG written by `product::write::viirs_l1b` from
//! `synth::generate_swath`'s June day with 400 planted fires; deflate level 4 with shuffle, one
//! scan of lines per chunk), measured four ways:
//! - floor: libnetcdf reads the variables a scan needs (I01–I05, their quality flags, the two BT
//!   LUTs, latitude, longitude, four angles, land/water mask) serially into memory, nothing
//!   converted: what any reader through the library pays;
//! - the L1B reader decoding through libnetcdf (`Decode::Library`), counts converted;
//! - the L1B reader as shipped (`Decode::ParallelChunks`): chunks inflated on every core and
//!   converted band by band;
//! - the whole scan of the pair, `scan::scan_files` (read + detect + georeference), as
//!   `strawfire scan VNP02IMG… VNP03IMG…` runs it.
//!
//! Each runs in a child process of its own so its peak memory (VmHWM) is its own. Then the
//! phases of the chunk reader on one variable (`product::chunks::phases`, one thread), and, when
//! `STRAWFIRE_NUMPY_PYTHON` names a Python with numpy and h5py, the numpy baseline
//! (`benches/numpy_viirs_l1b.py`) on the same pair: the whole granule read, the algorithm on
//! `STRAWFIRE_NUMPY_ROWS` (default 3104:3360, 256 rows) scaled to the granule by rows.
//!
//! Run: `cargo bench --bench product`. Under `cargo test --all-targets` (no `--bench`) it is a
//! smoke run on a 64 × 6400 granule (two scans) that checks the two decoders agree bit for bit.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use strawfire::product::chunks;
use strawfire::product::viirs_l1b::{self, Decode};
use strawfire::product::write::viirs_l1b::{write, L1bOptions};
use strawfire::raster::BandBuf;
use strawfire::scan::{scan_files, ModelChoice};
use strawfire::synth::{generate_swath, random_fires_for, SwathSpec};

/// The pair for `scans` scans of lines (written once into `dir`, then reused).
fn files(dir: &Path, scans: usize) -> Result<(PathBuf, PathBuf)> {
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
    let mut spec = SwathSpec::day(scans, 14);
    spec.scene.satellite = "N".into();
    spec.scene.fires = random_fires_for(&spec.scene, 400);
    let swath = generate_swath(&spec)?;
    let f = write(&swath.granule, dir, &L1bOptions::default())?;
    eprintln!(
        "generated and wrote {} and its partner in {:.1} s",
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

/// CPU seconds (user + system, all threads) this process has used: on a shared machine the
/// wall time depends on the share the scheduler gives, the CPU time much less.
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) in parentheses; utime and stime
    // are fields 14 and 15, in clock ticks (USER_HZ, 100 on Linux).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    f.iter().sum::<f64>() / 100.0
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Child process: one mode, `runs` times; prints the median and best time, the peak RSS (KiB),
/// and for the scan the medians of its read, detect and georeference stages and the fires.
fn child(mode: &str, data: &Path, geo: &Path, runs: usize) -> Result<()> {
    let (mut times, mut read, mut detect, mut georef) = (vec![], vec![], vec![], vec![]);
    // The pair's pages into the page cache, outside the timing (and the CPU time: subtracted).
    for p in [data, geo] {
        std::io::copy(&mut std::fs::File::open(p)?, &mut std::io::sink())?;
    }
    let cpu0 = cpu_s();
    let mut fires = 0;
    for _ in 0..runs {
        let t = Instant::now();
        match mode {
            "floor" => {
                floor(data, geo)?;
            }
            "library" => {
                viirs_l1b::read_with(data, geo, Decode::Library)?;
            }
            "parallel" => {
                viirs_l1b::read_with(data, geo, Decode::ParallelChunks)?;
            }
            _ => {
                let paths = [data.to_path_buf(), geo.to_path_buf()];
                let r = scan_files(&paths, ModelChoice::FromScene, &|_| {})?;
                read.push(r.timing.read.as_secs_f64());
                detect.push(r.timing.detect.as_secs_f64());
                georef.push(r.timing.georef.as_secs_f64());
                fires = r.hotspots.len();
            }
        }
        times.push(t.elapsed().as_secs_f64());
    }
    let best = times.iter().copied().fold(f64::INFINITY, f64::min);
    let cpu = (cpu_s() - cpu0) / runs as f64;
    print!("{} {best} {} {cpu}", median(&mut times), peak_kib());
    if !read.is_empty() {
        print!(
            " {} {} {} {fires}",
            median(&mut read),
            median(&mut detect),
            median(&mut georef)
        );
    }
    println!();
    Ok(())
}

/// What the numpy baseline reports.
struct Numpy {
    /// Reading and converting the whole pair, s.
    read: f64,
    /// The algorithm on `crop` of the granule's `rows` rows, s, and the fires it found there.
    detect: f64,
    rows: f64,
    crop: f64,
    fires: u64,
    /// CPU seconds of the read and of the algorithm on the crop.
    read_cpu: f64,
    detect_cpu: f64,
}

/// The numpy baseline on the same pair (`benches/numpy_viirs_l1b.py`) when
/// `STRAWFIRE_NUMPY_PYTHON` is set.
fn numpy(data: &Path, geo: &Path, rows: usize) -> Result<Option<Numpy>> {
    let Ok(python) = std::env::var("STRAWFIRE_NUMPY_PYTHON") else {
        return Ok(None);
    };
    let crop = std::env::var("STRAWFIRE_NUMPY_ROWS").unwrap_or_else(|_| {
        if rows > 512 {
            "3104:3360".into()
        } else {
            format!("0:{rows}")
        }
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/numpy_viirs_l1b.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .args([data, geo])
        .args(["--detect-rows", &crop])
        .output()?;
    let text = String::from_utf8_lossy(&out.stderr);
    anyhow::ensure!(out.status.success(), "numpy: {text}");
    let line = text.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(line).context("numpy's JSON line")?;
    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    Ok(Some(Numpy {
        read: f("read_s"),
        detect: f("detect_s"),
        rows: f("rows"),
        crop: f("detect_rows"),
        fires: v["fires"].as_u64().unwrap_or(0),
        read_cpu: f("read_cpu_s"),
        detect_cpu: f("detect_cpu_s"),
    }))
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
    let scans = if smoke { 2 } else { 202 };
    let shape = (scans * 32, 6400);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("target/bench-data/l1b_day_{}x{}", shape.0, shape.1));
    let (data, geo) = files(&dir, scans)?;
    let size = std::fs::metadata(&data)?.len() + std::fs::metadata(&geo)?.len();
    // The parallel read must give the library's granule, bit for bit.
    if smoke {
        let a = viirs_l1b::read_with(&data, &geo, Decode::Library)?;
        let b = viirs_l1b::read_with(&data, &geo, Decode::ParallelChunks)?;
        let bits = |x: &BandBuf| x.as_slice().iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        for (k, v) in &a.bands {
            anyhow::ensure!(bits(v) == bits(&b.bands[k]), "{k} differs between decoders");
        }
        anyhow::ensure!(
            a.water == b.water,
            "the water masks differ between decoders"
        );
    }
    let runs = std::env::var("STRAWFIRE_BENCH_RUNS")
        .unwrap_or_else(|_| if smoke { "1" } else { "5" }.into());
    let runs = runs.as_str();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "granule {} × {}, {:.0} MB on disk (deflate 4 + shuffle, 32-line chunks), {} threads, \
         median of {runs} runs, load average {}",
        shape.0,
        shape.1,
        size as f64 / 1e6,
        rayon::current_num_threads(),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "| run | median | best | median / floor | CPU s per run | CPU / floor | peak RSS |\n\
         |---|---|---|---|---|---|---|"
    );
    let mut floor_s = f64::NAN;
    let mut floor_cpu = f64::NAN;
    let mut scan_cpu = f64::NAN;
    let mut scan_s = f64::NAN;
    let mut scan_stages = String::new();
    for (mode, label) in [
        (
            "floor",
            "floor: libnetcdf reads the variables a scan needs, serially",
        ),
        (
            "library",
            "L1B reader through libnetcdf (`Decode::Library`)",
        ),
        (
            "parallel",
            "L1B reader, chunks in parallel (`Decode::ParallelChunks`, default)",
        ),
        (
            "scan",
            "whole scan of the pair (`scan_files`: read + detect + georef)",
        ),
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
        if mode == "floor" {
            floor_s = v[0];
            floor_cpu = v[3];
        }
        if mode == "scan" {
            scan_s = v[0];
            scan_cpu = v[3];
            scan_stages = format!(
                "scan stages (medians): read {:.2} s, detect {:.2} s, georeference {:.2} s; {} fires",
                v[4], v[5], v[6], v[7]
            );
        }
        println!(
            "| {label} | {:.2} s | {:.2} s | {:.2} | {:.2} s | {:.2} | {:.0} MB |",
            v[0],
            v[1],
            v[0] / floor_s,
            v[3],
            v[3] / floor_cpu,
            v[2] / 1024.0
        );
    }
    println!("{scan_stages}");

    // Where the chunk reader's time goes, on one variable of each file, one thread.
    println!(
        "\nphases of the chunk reader, one thread (s): | variable | chunks | stored MB | decoded MB | \
         index | first / last chunk_info (ms) | read | inflate libdeflate | inflate miniz_oxide | \
         un-shuffle into place | whole map_bands, {} threads |",
        rayon::current_num_threads()
    );
    for (path, var, elem) in [
        (&data, "observation_data/I04", 2),
        (&data, "observation_data/I04_quality_flags", 2),
        (&geo, "geolocation_data/latitude", 4),
    ] {
        if let Some(p) = chunks::phases(path, var, shape, elem)? {
            println!(
                "| {var} | {} | {:.1} | {:.1} | {:.4} | {:.3} / {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
                p.chunks,
                p.stored_bytes as f64 / 1e6,
                p.decoded_bytes as f64 / 1e6,
                p.index_s,
                p.first_chunk_info_s * 1e3,
                p.last_chunk_info_s * 1e3,
                p.read_s,
                p.inflate_s,
                p.inflate_miniz_s,
                p.place_s,
                p.parallel_s
            );
        }
    }

    if let Some(Numpy {
        read,
        detect,
        rows,
        crop,
        fires,
        read_cpu,
        detect_cpu,
    }) = numpy(&data, &geo, shape.0)?
    {
        let full = read + detect * rows / crop;
        println!(
            "\nnumpy (benches/numpy_viirs_l1b.py): read + convert the whole pair {read:.2} s; \
             the algorithm on {crop} of {rows} rows {detect:.2} s ({fires} fires there), scaled \
             by rows to {:.1} s; whole granule ≈ {full:.1} s; numpy / strawfire scan = {:.0}×",
            detect * rows / crop,
            full / scan_s
        );
        let full_cpu = read_cpu + detect_cpu * rows / crop;
        println!(
            "numpy CPU time: read {read_cpu:.2} s, the algorithm on the crop {detect_cpu:.2} s; \
             whole granule ≈ {full_cpu:.1} s; numpy / strawfire scan CPU = {:.0}×",
            full_cpu / scan_cpu
        );
    }
    Ok(())
}
