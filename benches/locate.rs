//! Locate benchmark, two cases on generated, seeded files. Times strawfire (read the layer
//! and build its index, read the hotspots, match every footprint with overlap
//! fractions) and geopandas on the same files in the same run.
//!
//! - `field` (default, issue 18.6): 300,000 parcels in a GeoPackage (8-vertex rings, often
//!   concave, one in 40 with a farmstead hole) and 100,000 hotspots, a third each with 30 m
//!   (Landsat), 20 m (Sentinel-2) and 375 m (VIIRS) pixels. geopandas does the point-in-polygon
//!   join (`sjoin` `within` of the pixel centres): less than strawfire's footprint overlap,
//!   and the figure the goal is set against.
//! - `viirs`: 1,000,000 quadrilateral parcels in FlatGeobuf and 100,000 VIIRS hotspots;
//!   geopandas computes the same footprint overlap shares (`sjoin` + `intersection` areas).
//!
//! Run: `cargo bench --bench locate` (needs `python3` with geopandas, shapely, pyogrio for
//! the comparison; without it only strawfire is timed). `LOCATE_BENCH_CASE=field|viirs`;
//! sizes: `LOCATE_BENCH_PARCELS`, `LOCATE_BENCH_HOTSPOTS`; `LOCATE_BENCH_PYTHON=0` skips
//! geopandas; `LOCATE_BENCH_FIRST_ONLY=1` runs only strawfire's end-to-end job (for `perf`);
//! `LOCATE_BENCH_MATCH_REPEAT=N` runs it, then the match N more times (CPU s of each, for work
//! on the match alone). The strawfire side keeps its freed memory as `strawfire locate` does
//! (`locate::heap::keep_freed_memory`); `LOCATE_BENCH_KEEP_FREED=0` leaves glibc's defaults
//! (to measure the two in turn).
//! Generated files go to `$CARGO_TARGET_DIR/locate-bench/` (or `target/`), never into the
//! repository.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};
use gdal::spatial_ref::SpatialRef;
use gdal::vector::{Feature, FieldDefn, Geometry, LayerAccess, LayerOptions};
use gdal::DriverManager;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use strawfire::hotspot::read_hotspots;
use strawfire::locate::{LayerSpec, Level, Locator, MaskSet, Query, UnitLayer};

/// Where a case's parcels lie (northern Henan) and how its files are made and compared.
#[derive(Clone, Copy)]
struct Case {
    name: &'static str,
    lon0: f64,
    lat0: f64,
    span_lon: f64,
    span_lat: f64,
    default_parcels: usize,
    /// File extension of the parcel layer (`fgb`, `gpkg`).
    ext: &'static str,
    /// What the geopandas script does: `overlap` (footprint shares) or `points` (centre join).
    python_mode: &'static str,
}

const FIELD: Case = Case {
    name: "field",
    lon0: 114.0,
    lat0: 35.0,
    span_lon: 0.5,
    span_lat: 0.4,
    default_parcels: 300_000,
    ext: "gpkg",
    python_mode: "points",
};

const VIIRS: Case = Case {
    name: "viirs",
    lon0: 114.0,
    lat0: 35.0,
    span_lon: 1.0,
    span_lat: 0.8,
    default_parcels: 1_000_000,
    ext: "fgb",
    python_mode: "overlap",
};

/// CPU seconds used by this process so far (user + system, all threads) and its minor page
/// faults, from /proc: the machine is shared, so wall time alone measures the neighbours'
/// builds too, and a third of the layer read was once the kernel handing out fresh pages.
fn cpu_s_and_faults() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `(comm)`: state is field 3; minflt is field 10, utime and stime are
    // fields 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ((num(11) + num(12)) / 100.0, num(7))
}

/// Wall and CPU seconds of a phase, and its minor page faults.
struct Clock {
    wall: Instant,
    cpu: f64,
    faults: f64,
}

impl Clock {
    fn start() -> Self {
        let (cpu, faults) = cpu_s_and_faults();
        Clock {
            wall: Instant::now(),
            cpu,
            faults,
        }
    }
    fn stop(&self) -> (f64, f64) {
        self.stop_faults().0
    }
    fn stop_faults(&self) -> ((f64, f64), f64) {
        let (cpu, faults) = cpu_s_and_faults();
        (
            (self.wall.elapsed().as_secs_f64(), cpu - self.cpu),
            faults - self.faults,
        )
    }
}

/// The hotspots' pixel footprints to match.
fn queries_of(feed: &strawfire::hotspot::Feed) -> Vec<Query> {
    feed.rows
        .iter()
        .map(|r| Query {
            lon: r.hotspot.longitude,
            lat: r.hotspot.latitude,
            scan_km: r.hotspot.scan_km.unwrap_or(0.375),
            track_km: r.hotspot.track_km.unwrap_or(0.375),
        })
        .collect()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Jittered fields tiling the case's block (shared, jittered vertices: no overlaps, no gaps).
/// `viirs`: quadrilaterals in FlatGeobuf. `field`: each edge bent at a jittered midpoint
/// (8-vertex rings, often concave, as digitised fields are), one field in 40 with a square
/// farmstead hole, in a GeoPackage.
fn write_parcels(case: Case, path: &Path, n: usize) -> Result<()> {
    let side = (n as f64).sqrt().ceil() as usize;
    let (dx, dy) = (case.span_lon / side as f64, case.span_lat / side as f64);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let jitter: Vec<(f64, f64)> = (0..(side + 1) * (side + 1))
        .map(|_| (rng.gen_range(-0.2..0.2) * dx, rng.gen_range(-0.2..0.2) * dy))
        .collect();
    let vertex = |i: usize, j: usize| {
        let (jx, jy) = if i == 0 || j == 0 || i == side || j == side {
            (0.0, 0.0)
        } else {
            jitter[j * (side + 1) + i]
        };
        (
            case.lon0 + i as f64 * dx + jx,
            case.lat0 + j as f64 * dy + jy,
        )
    };
    let bent = case.name == "field";
    // Midpoint offsets of the horizontal edge (i, j)–(i+1, j) and the vertical edge
    // (i, j)–(i, j+1), shared by the two fields on either side; none on the block's border.
    let mut mid_jitter = |_: ()| (rng.gen_range(-0.1..0.1) * dx, rng.gen_range(-0.1..0.1) * dy);
    let h_mid: Vec<(f64, f64)> = (0..(side + 1) * (side + 1))
        .map(|_| mid_jitter(()))
        .collect();
    let v_mid: Vec<(f64, f64)> = (0..(side + 1) * (side + 1))
        .map(|_| mid_jitter(()))
        .collect();
    let mid = |a: (f64, f64), b: (f64, f64), border: bool, off: (f64, f64)| {
        let m = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
        if border {
            m
        } else {
            (m.0 + off.0, m.1 + off.1)
        }
    };
    let _ = std::fs::remove_file(path);
    let driver = DriverManager::get_driver_by_name(if bent { "GPKG" } else { "FlatGeobuf" })?;
    let mut ds = driver.create_vector_only(path)?;
    let srs = SpatialRef::from_epsg(4326)?;
    let mut txn = ds.start_transaction()?;
    let layer = txn.create_layer(LayerOptions {
        name: "parcels",
        srs: Some(&srs),
        ty: gdal::vector::OGRwkbGeometryType::wkbPolygon,
        options: None,
    })?;
    FieldDefn::new("parcel_id", gdal::vector::OGRFieldType::OFTInteger64)?.add_to_layer(&layer)?;
    let ring_text = |ring: &[(f64, f64)]| {
        ring.iter()
            .map(|(x, y)| format!("{x:.8} {y:.8}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut id = 0i64;
    'outer: for j in 0..side {
        for i in 0..side {
            if id as usize >= n {
                break 'outer;
            }
            let (a, b, c, d) = (
                vertex(i, j),
                vertex(i + 1, j),
                vertex(i + 1, j + 1),
                vertex(i, j + 1),
            );
            let k = |i: usize, j: usize| j * (side + 1) + i;
            let ring: Vec<(f64, f64)> = if bent {
                vec![
                    a,
                    mid(a, b, j == 0, h_mid[k(i, j)]),
                    b,
                    mid(b, c, i + 1 == side, v_mid[k(i + 1, j)]),
                    c,
                    mid(d, c, j + 1 == side, h_mid[k(i, j + 1)]),
                    d,
                    mid(a, d, i == 0, v_mid[k(i, j)]),
                    a,
                ]
            } else {
                vec![a, b, c, d, a]
            };
            let mut wkt = format!("POLYGON(({})", ring_text(&ring));
            if bent && id % 40 == 0 {
                // A farmstead of 0.15 × 0.15 cells around the cell's centre, clockwise.
                let (cx, cy) = (
                    case.lon0 + (i as f64 + 0.5) * dx,
                    case.lat0 + (j as f64 + 0.5) * dy,
                );
                let (hx, hy) = (0.075 * dx, 0.075 * dy);
                let hole = [
                    (cx - hx, cy - hy),
                    (cx - hx, cy + hy),
                    (cx + hx, cy + hy),
                    (cx + hx, cy - hy),
                    (cx - hx, cy - hy),
                ];
                wkt += &format!(",({})", ring_text(&hole));
            }
            wkt += ")";
            let mut f = Feature::new(layer.defn())?;
            f.set_geometry(Geometry::from_wkt(&wkt)?)?;
            f.set_field_integer64(0, id)?;
            f.create(&layer)?;
            id += 1;
        }
    }
    txn.commit()?;
    Ok(())
}

/// FIRMS VIIRS-schema CSV. `viirs`: VIIRS pixels (scan 0.36–0.8 km, track 0.36–0.7 km).
/// `field`: in turn a 30 m (Landsat), a 20 m (Sentinel-2) and a VIIRS pixel.
fn write_hotspots(case: Case, path: &Path, n: usize) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let margin = 0.0125 * case.span_lon;
    let mut s = String::from("latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,instrument,confidence,version,bright_ti5,frp,daynight\n");
    for k in 0..n {
        let lat = case.lat0 + margin + rng.gen_range(0.0..case.span_lat - 2.0 * margin);
        let lon = case.lon0 + margin + rng.gen_range(0.0..case.span_lon - 2.0 * margin);
        let scan = rng.gen_range(0.36..0.8);
        let track = rng.gen_range(0.36..0.7);
        let (scan, track) = match (case.name, k % 3) {
            ("field", 0) => (0.03, 0.03),
            ("field", 1) => (0.02, 0.02),
            _ => (scan, track),
        };
        s += &format!("{lat:.6},{lon:.6},340.5,{scan:.3},{track:.3},2024-06-05,540,N20,VIIRS,n,2.0NRT,296.0,5.1,D\n");
    }
    std::fs::write(path, s)?;
    Ok(())
}

fn main() -> Result<()> {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it, in
    // the debug profile: then it is a smoke test on small inputs, without geopandas.
    let smoke = !std::env::args().any(|a| a == "--bench");
    if smoke {
        std::env::set_var("LOCATE_BENCH_PYTHON", "0");
    }
    let case = match std::env::var("LOCATE_BENCH_CASE").as_deref() {
        Ok("viirs") => VIIRS,
        Ok("field") | Err(_) => FIELD,
        Ok(other) => anyhow::bail!("LOCATE_BENCH_CASE={other}: field or viirs"),
    };
    let (default_parcels, default_hotspots) = if smoke {
        (2_000, 500)
    } else {
        (case.default_parcels, 100_000)
    };
    let n_parcels = env_usize("LOCATE_BENCH_PARCELS", default_parcels);
    let n_hotspots = env_usize("LOCATE_BENCH_HOTSPOTS", default_hotspots);
    let dir = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("target"))
        .join("locate-bench");
    std::fs::create_dir_all(&dir)?;
    let parcels = dir.join(format!("parcels_{}_{n_parcels}.{}", case.name, case.ext));
    let hotspots = dir.join(format!("hotspots_{}_{n_hotspots}.csv", case.name));
    if !parcels.exists() {
        let t = Instant::now();
        write_parcels(case, &parcels, n_parcels)?;
        eprintln!(
            "generated {} in {:.1} s",
            parcels.display(),
            t.elapsed().as_secs_f64()
        );
    }
    if !hotspots.exists() {
        write_hotspots(case, &hotspots, n_hotspots)?;
    }

    let spec = LayerSpec::parse(&format!("{}:code=parcel_id", parcels.display()))?;

    // The heap of a batch job, as `strawfire locate` sets it at its start.
    if !std::env::var("LOCATE_BENCH_KEEP_FREED").is_ok_and(|v| v == "0") {
        strawfire::locate::heap::keep_freed_memory();
    }
    // strawfire, end to end, first (a fresh process: no heap left over from an earlier run):
    // the hotspot file is read on a thread of its own while the layer is read and indexed
    // (both on every core), then every footprint is matched.
    let all = Clock::start();
    let (layer, feed) = std::thread::scope(|s| {
        let feed = s.spawn(|| read_hotspots(&hotspots));
        // A GeoPackage goes from its WKB straight into the index; other formats are read
        // through OGR into `geo` shapes first, then indexed.
        let layer = UnitLayer::load(&spec, Level::Parcel);
        (
            layer,
            feed.join().expect("the hotspot reader does not panic"),
        )
    });
    let locator = Locator::new(vec![], Some(layer?.0), MaskSet::new(vec![], vec![]));
    let queries = queries_of(&feed?);
    let located = locator.locate_all(&queries);
    let (overlapped, overlapped_faults) = all.stop_faults();
    if std::env::var("LOCATE_BENCH_FIRST_ONLY").is_ok_and(|v| v == "1") {
        // For a profiler: only the end-to-end job of a fresh process.
        println!(
            "end to end, first run | {:.2} | {:.2} | {:.0}k page faults",
            overlapped.0,
            overlapped.1,
            overlapped_faults / 1e3
        );
        return Ok(());
    }
    let repeat = env_usize("LOCATE_BENCH_MATCH_REPEAT", 0);
    if repeat > 0 {
        // For work on the match alone: the same batch matched `repeat` more times in this
        // process (warm heap), CPU seconds of each run, then the median.
        drop(located);
        let mut cpu: Vec<f64> = (0..repeat)
            .map(|_| {
                let t = Clock::start();
                let again = locator.locate_all(&queries);
                std::hint::black_box(&again);
                drop(again);
                t.stop().1
            })
            .collect();
        cpu.sort_by(f64::total_cmp);
        println!(
            "match, {repeat} runs in one process: CPU s min {:.3} median {:.3} max {:.3}",
            cpu[0],
            cpu[repeat / 2],
            cpu[repeat - 1]
        );
        return Ok(());
    }
    let first_answer = located.to_vec();
    drop(located);
    drop((queries, locator));

    // The same job phase by phase, one after another, for the breakdown.
    let all = Clock::start();
    let t = Clock::start();
    let (unit_layer, _warnings) = UnitLayer::load(&spec, Level::Parcel)?;
    let (read_layer, read_layer_faults) = t.stop_faults();
    let locator = Locator::new(vec![], Some(unit_layer), MaskSet::new(vec![], vec![]));
    let t = Clock::start();
    let feed = read_hotspots(&hotspots)?;
    let queries = queries_of(&feed);
    let (read_h, read_h_faults) = t.stop_faults();
    let t = Clock::start();
    let located = locator.locate_all(&queries);
    let (matched, matched_faults) = t.stop_faults();
    let total = all.stop();
    let t = Clock::start();
    let one_thread: Vec<_> = queries.iter().map(|&q| locator.locate(q)).collect();
    let matched_1t = t.stop();
    let owned = located.to_vec();
    assert_eq!(one_thread, owned);
    assert_eq!(first_answer, owned);
    let pairs: usize = located.iter().map(|l| l.parcels.len()).sum();
    let with_parcel = located.iter().filter(|l| !l.parcels.is_empty()).count();
    let share_sum: f64 = located
        .iter()
        .flat_map(|l| l.parcels.iter().map(|(_, fraction)| fraction))
        .sum();

    println!(
        "## strawfire, case {} ({n_parcels} parcels, {n_hotspots} hotspots, {} rayon threads)",
        case.name,
        rayon::current_num_threads()
    );
    let rate = |secs: f64| n_hotspots as f64 / secs;
    println!(
        "end to end, hotspot CSV read beside the layer (first run) | {:.2} | {:.2} | {:.0}k page faults",
        overlapped.0,
        overlapped.1,
        overlapped_faults / 1e3
    );
    println!("phase by phase (second run, same process) | wall s | CPU s | page faults");
    println!(
        "read layer + build index ({}: SQLite + WKB into the index for gpkg, OGR otherwise) | {:.2} | {:.2} | {:.0}k",
        case.ext,
        read_layer.0,
        read_layer.1,
        read_layer_faults / 1e3
    );
    println!(
        "read hotspots CSV | {:.2} | {:.2} | {:.0}k",
        read_h.0,
        read_h.1,
        read_h_faults / 1e3
    );
    println!(
        "match footprints, rayon | {:.2} | {:.2} | {:.0}k | {:.0} hotspots/s wall",
        matched.0,
        matched.1,
        matched_faults / 1e3,
        rate(matched.0)
    );
    println!(
        "match footprints, 1 thread | {:.2} | {:.2} | {:.0} hotspots/CPU-s",
        matched_1t.0,
        matched_1t.1,
        rate(matched_1t.1)
    );
    println!(
        "end to end, phase by phase (rayon match) | {:.2} | {:.2}",
        total.0, total.1
    );
    println!("result: {with_parcel} hotspots on parcels, {pairs} hotspot-parcel pairs, sum of shares {share_sum:.1}");
    println!(
        "best parcel of hotspot 0: {:?}",
        located.get(0).parcels.first()
    );

    if std::env::var("LOCATE_BENCH_PYTHON").is_ok_and(|v| v == "0") {
        return Ok(());
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/locate_geopandas.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(case.python_mode)
        .arg(&parcels)
        .arg(&hotspots)
        .output()
        .context("running python3")?;
    if out.status.success() {
        println!("## geopandas (same files, same run)");
        print!("{}", String::from_utf8_lossy(&out.stdout));
    } else {
        println!(
            "geopandas comparison skipped: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("python3 failed")
        );
    }
    Ok(())
}
