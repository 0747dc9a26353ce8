//! Helpers shared by the end-to-end tests: small hand-built scenes in the DESIGN.md layout.
#![allow(dead_code)]

pub mod browser;
pub mod cluster;
pub mod layers;

use std::path::{Path, PathBuf};

use chrono::TimeZone;
use gdal::spatial_ref::SpatialRef;
use ndarray::Array2;
use strawfire::raster::{write_scene, Compression, GeoRef, SceneMeta};

/// A night scene over northern Henan (UTM 50N), 375 m pixels: BT4 290 K, BT5 289 K with a faint
/// deterministic texture, and the given fires as (row, col, BT4 K).
pub fn night_scene(path: &Path, rows: usize, cols: usize, fires: &[(usize, usize, f32)]) {
    let mut bands = base_bands(rows, cols, false);
    for &(r, c, bt4) in fires {
        bands[3][[r, c]] = bt4;
    }
    write(path, &bands, true);
}

/// Bands I1 I2 I3 I4 I5 SZA with a small texture.
pub fn base_bands(rows: usize, cols: usize, day: bool) -> Vec<Array2<f32>> {
    let tex = |r: usize, c: usize| ((r * 7 + c * 13) % 11) as f32 * 0.1;
    let (t4, t5, sza) = if day {
        (305.0, 300.0, 40.0)
    } else {
        (290.0, 289.0, 120.0)
    };
    vec![
        Array2::from_elem((rows, cols), if day { 0.06 } else { f32::NAN }),
        Array2::from_elem((rows, cols), if day { 0.2 } else { f32::NAN }),
        Array2::from_elem((rows, cols), if day { 0.18 } else { f32::NAN }),
        Array2::from_shape_fn((rows, cols), |(r, c)| t4 + tex(r, c)),
        Array2::from_shape_fn((rows, cols), |(r, c)| t5 + tex(r, c)),
        Array2::from_elem((rows, cols), sza),
    ]
}

pub fn georef() -> GeoRef {
    GeoRef {
        transform: [400_000.0, 375.0, 0.0, 3_950_000.0, 0.0, -375.0],
        crs_wkt: SpatialRef::from_epsg(32650).unwrap().to_wkt().unwrap(),
    }
}

pub fn meta() -> SceneMeta {
    SceneMeta {
        acq_time: Some(chrono::Utc.with_ymd_and_hms(2024, 6, 8, 18, 6, 0).unwrap()),
        satellite: Some("N20".into()),
        sensor: Some("VIIRS".into()),
    }
}

/// The band names of [`base_bands`], in order.
pub const BAND_NAMES: [&str; 6] = ["I1", "I2", "I3", "I4", "I5", "SZA"];

/// Writes bands I1 I2 I3 I4 I5 SZA.
pub fn write(path: &Path, bands: &[Array2<f32>], with_meta: bool) {
    let named: Vec<(&str, &Array2<f32>)> = BAND_NAMES.iter().copied().zip(bands.iter()).collect();
    let meta = if with_meta {
        meta()
    } else {
        SceneMeta::default()
    };
    write_scene(path, &named, &georef(), &meta, Compression::Deflate).unwrap();
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_strawfire"))
}

/// Runs the binary from the crate root (where no config means the sample layers).
pub fn run_in_crate(args: &[&str]) -> std::process::Output {
    std::process::Command::new(bin())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// [`run_in_crate`], asserting success (stderr in the message).
pub fn run_ok(args: &[&str]) -> std::process::Output {
    let out = run_in_crate(args);
    assert!(
        out.status.success(),
        "strawfire {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The sample scenes ingested into a store at `dir/data`, and that store's HTML ranking report
/// of `date` at `dir/ranking.html`: (store dir, report).
pub fn sample_report(dir: &Path, date: &str) -> (PathBuf, PathBuf) {
    sample_report_in(dir, date, None)
}

/// [`sample_report`] into the PostgreSQL schema `pg` when given (`ingest --store URL --local`,
/// `rank --store URL`), else into the SQLite file under `dir/data`.
pub fn sample_report_in(
    dir: &Path,
    date: &str,
    pg: Option<&stores::PgSchema>,
) -> (PathBuf, PathBuf) {
    let data = dir.join("data");
    let d = data.to_str().unwrap();
    let store: Vec<&str> = pg.map_or(Vec::new(), |p| vec!["--store", p.url.as_str()]);
    let mut ingest = vec!["ingest", "--data-dir", d];
    ingest.extend(&store);
    if pg.is_some() {
        ingest.push("--local");
    }
    ingest.extend(["samples/hua-night.tif", "samples/junxian-day.tif"]);
    run_ok(&ingest);
    let html = dir.join("ranking.html");
    let mut rank = vec![
        "rank",
        "--date",
        date,
        "--format",
        "html",
        "-o",
        html.to_str().unwrap(),
        "--data-dir",
        d,
    ];
    rank.extend(&store);
    run_ok(&rank);
    (data, html)
}
pub mod dispatch;
pub mod rank;
pub mod receiver;
pub mod server;
pub mod sse;
pub mod stores;
pub mod tasks;
