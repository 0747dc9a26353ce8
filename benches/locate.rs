//! Locate benchmark: 1,000,000 generated field parcels and 100,000 hotspots. Times strawfire
//! (read the layer through OGR, build the R-tree, read the hotspots, match every footprint with
//! overlap fractions) and the same join in geopandas (pyogrio read, shapely STRtree via
//! `sjoin`, overlap areas) on the same files in the same run.
//!
//! Run: `cargo bench --bench locate` (needs `python3` with geopandas, shapely, pyogrio for
//! the comparison; without it only strawfire is timed). Sizes: `LOCATE_BENCH_PARCELS`,
//! `LOCATE_BENCH_HOTSPOTS`; `LOCATE_BENCH_PYTHON=0` skips geopandas. Generated files go to `$CARGO_TARGET_DIR/locate-bench/` (or
//! `target/`), never into the repository.

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
use strawfire::locate::{load_layer, LayerSpec, Level, Locator, MaskSet, Query, UnitLayer};

/// Grid of the generated parcels: lon 114.0–115.0, lat 35.0–35.8 (northern Henan).
const LON0: f64 = 114.0;
const LAT0: f64 = 35.0;
const SPAN_LON: f64 = 1.0;
const SPAN_LAT: f64 = 0.8;

/// CPU seconds used by this process so far (user + system, all threads), from /proc: the
/// machine is shared, so wall time alone measures the neighbours' builds too.
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `(comm)`: state is field 3; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Wall and CPU seconds of a phase.
struct Clock {
    wall: Instant,
    cpu: f64,
}

impl Clock {
    fn start() -> Self {
        Clock {
            wall: Instant::now(),
            cpu: cpu_s(),
        }
    }
    fn stop(&self) -> (f64, f64) {
        (self.wall.elapsed().as_secs_f64(), cpu_s() - self.cpu)
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Jittered quadrilateral fields tiling the grid (shared, jittered vertices: no overlaps, no gaps).
fn write_parcels(path: &Path, n: usize) -> Result<()> {
    let side = (n as f64).sqrt().ceil() as usize;
    let (dx, dy) = (SPAN_LON / side as f64, SPAN_LAT / side as f64);
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
        (LON0 + i as f64 * dx + jx, LAT0 + j as f64 * dy + jy)
    };
    let _ = std::fs::remove_file(path);
    let driver = DriverManager::get_driver_by_name("FlatGeobuf")?;
    let mut ds = driver.create_vector_only(path)?;
    let srs = SpatialRef::from_epsg(4326)?;
    let layer = ds.create_layer(LayerOptions {
        name: "parcels",
        srs: Some(&srs),
        ty: gdal::vector::OGRwkbGeometryType::wkbPolygon,
        options: None,
    })?;
    FieldDefn::new("parcel_id", gdal::vector::OGRFieldType::OFTInteger64)?.add_to_layer(&layer)?;
    let mut id = 0i64;
    'outer: for j in 0..side {
        for i in 0..side {
            if id as usize >= n {
                break 'outer;
            }
            let ring = [
                vertex(i, j),
                vertex(i + 1, j),
                vertex(i + 1, j + 1),
                vertex(i, j + 1),
                vertex(i, j),
            ];
            let wkt = format!(
                "POLYGON(({}))",
                ring.iter()
                    .map(|(x, y)| format!("{x:.8} {y:.8}"))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let mut f = Feature::new(layer.defn())?;
            f.set_geometry(Geometry::from_wkt(&wkt)?)?;
            f.set_field_integer64(0, id)?;
            f.create(&layer)?;
            id += 1;
        }
    }
    Ok(())
}

fn write_hotspots(path: &Path, n: usize) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut s = String::from("latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,instrument,confidence,version,bright_ti5,frp,daynight\n");
    for _ in 0..n {
        let lat = LAT0 + 0.01 + rng.gen_range(0.0..SPAN_LAT - 0.02);
        let lon = LON0 + 0.01 + rng.gen_range(0.0..SPAN_LON - 0.02);
        let scan = rng.gen_range(0.36..0.8);
        let track = rng.gen_range(0.36..0.7);
        s += &format!("{lat:.6},{lon:.6},340.5,{scan:.3},{track:.3},2024-06-05,540,N20,VIIRS,n,2.0NRT,296.0,5.1,D\n");
    }
    std::fs::write(path, s)?;
    Ok(())
}

fn main() -> Result<()> {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it, in
    // the debug profile: then it is a smoke test on small inputs, without geopandas.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let (default_parcels, default_hotspots) = if smoke {
        (2_000, 500)
    } else {
        (1_000_000, 100_000)
    };
    if smoke {
        std::env::set_var("LOCATE_BENCH_PYTHON", "0");
    }
    let n_parcels = env_usize("LOCATE_BENCH_PARCELS", default_parcels);
    let n_hotspots = env_usize("LOCATE_BENCH_HOTSPOTS", default_hotspots);
    let dir = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("target"))
        .join("locate-bench");
    std::fs::create_dir_all(&dir)?;
    let parcels = dir.join(format!("parcels_{n_parcels}.fgb"));
    let hotspots = dir.join(format!("hotspots_{n_hotspots}.csv"));
    if !parcels.exists() {
        let t = Instant::now();
        write_parcels(&parcels, n_parcels)?;
        eprintln!(
            "generated {} in {:.1} s",
            parcels.display(),
            t.elapsed().as_secs_f64()
        );
    }
    if !hotspots.exists() {
        write_hotspots(&hotspots, n_hotspots)?;
    }

    // strawfire, end to end.
    let all = Clock::start();
    let t = Clock::start();
    let spec = LayerSpec::parse(&format!("{}:code=parcel_id", parcels.display()))?;
    let layer = load_layer(&spec, Some(Level::Parcel))?;
    let read_layer = t.stop();
    let t = Clock::start();
    let unit_layer = UnitLayer::new(Level::Parcel, layer.areas);
    let index = t.stop();
    let locator = Locator::new(vec![], Some(unit_layer), MaskSet::new(vec![], vec![]));
    let t = Clock::start();
    let feed = read_hotspots(&hotspots)?;
    let queries: Vec<Query> = feed
        .rows
        .iter()
        .map(|r| Query {
            lon: r.hotspot.longitude,
            lat: r.hotspot.latitude,
            scan_km: r.hotspot.scan_km.unwrap_or(0.375),
            track_km: r.hotspot.track_km.unwrap_or(0.375),
        })
        .collect();
    let read_h = t.stop();
    let t = Clock::start();
    let located = locator.locate_all(&queries);
    let matched = t.stop();
    let total = all.stop();
    let t = Clock::start();
    let one_thread: Vec<_> = queries.iter().map(|&q| locator.locate(q)).collect();
    let matched_1t = t.stop();
    assert_eq!(one_thread, located);
    let pairs: usize = located.iter().map(|l| l.parcels.len()).sum();
    let with_parcel = located.iter().filter(|l| !l.parcels.is_empty()).count();
    let share_sum: f64 = located
        .iter()
        .flat_map(|l| l.parcels.iter().map(|p| p.fraction))
        .sum();

    println!(
        "## strawfire ({n_parcels} parcels, {n_hotspots} hotspots, {} rayon threads)",
        rayon::current_num_threads()
    );
    let rate = |secs: f64| n_hotspots as f64 / secs;
    println!("phase | wall s | CPU s");
    println!(
        "read layer (OGR FlatGeobuf -> geo) | {:.2} | {:.2}",
        read_layer.0, read_layer.1
    );
    println!("build R-tree | {:.2} | {:.2}", index.0, index.1);
    println!("read hotspots CSV | {:.2} | {:.2}", read_h.0, read_h.1);
    println!(
        "match footprints, rayon | {:.2} | {:.2} | {:.0} hotspots/s wall",
        matched.0,
        matched.1,
        rate(matched.0)
    );
    println!(
        "match footprints, 1 thread | {:.2} | {:.2} | {:.0} hotspots/CPU-s",
        matched_1t.0,
        matched_1t.1,
        rate(matched_1t.1)
    );
    println!("end to end (rayon match) | {:.2} | {:.2}", total.0, total.1);
    println!("result: {with_parcel} hotspots on parcels, {pairs} hotspot-parcel pairs, sum of shares {share_sum:.1}");
    println!("best parcel of hotspot 0: {:?}", located[0].parcels.first());

    if std::env::var("LOCATE_BENCH_PYTHON").is_ok_and(|v| v == "0") {
        return Ok(());
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/locate_geopandas.py");
    let out = Command::new("python3")
        .arg(&script)
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
