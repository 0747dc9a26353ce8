//! Official fire products (NASA VNP14IMG with its VNP03IMG, CSPP AFIMG text and NetCDF) read
//! wherever FIRMS hotspot files are: `strawfire locate`, `strawfire ingest` (with the fire
//! mask's coverage when the geolocation lies beside the product). `strawfire ingest` on both stores
//! (`on_both_stores_blocking!`): the SQLite file, and a PostgreSQL schema with `--store URL
//! --local` (read in the command's process, as on SQLite; the workers' reading of the same
//! products is tests/cluster_jobs.rs).
//!
//! The files are the committed fixtures in `tests/fixtures/viirs/`, written by
//! `strawfire::synth::official`; `UPDATE_FIXTURES=1 cargo test --test official_products`
//! writes them again.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{TimeZone, Utc};
use common::stores::{schema_for, Backend, PgSchema};
use strawfire::hotspot::{Confidence, DayNight, Hotspot};
use strawfire::synth::official::{
    afimg_name, vnp03img_name, vnp14img_name, write_afimg_netcdf, write_afimg_text, write_vnp03img,
    write_vnp14img, OfficialGranule,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/viirs")
}

const COUNTIES: &str =
    "samples/admin/henan_hua_counties_gcj02.geojson:level=county:code=adcode:name=name:crs=gcj02";

/// (lines, pixels) of the fixture granule.
const SHAPE: (usize, usize) = (40, 48);

/// The fixture granule: a 40 × 48 swath crop over 滑县 (Hua county, Henan; WGS84 35.3–35.7 N,
/// 114.3–114.78 E at 0.01°), NOAA-20, 2024-06-08 05:42 UTC. Cloud over rows 0–9, water on rows
/// 10–11, clear land below; three fires of each confidence.
fn granule() -> (OfficialGranule, Vec<f32>, Vec<f32>) {
    let (lines, pixels) = SHAPE;
    let start = Utc.with_ymd_and_hms(2024, 6, 8, 5, 42, 0).unwrap();
    let mut mask = vec![5u8; lines * pixels];
    mask[..10 * pixels].fill(4);
    mask[10 * pixels..12 * pixels].fill(3);
    let (mut lat, mut lon) = (Vec::new(), Vec::new());
    for r in 0..lines {
        for c in 0..pixels {
            lat.push(35.7 - r as f32 * 0.01);
            lon.push(114.3 + c as f32 * 0.01);
        }
    }
    let fire = |r: usize, c: usize, confidence, frp, t4| Hotspot {
        latitude: f64::from(lat[r * pixels + c]),
        longitude: f64::from(lon[r * pixels + c]),
        bt_mir_k: Some(t4),
        bt_tir_k: Some(296.5),
        scan_km: Some(0.39),
        track_km: Some(0.37),
        acq_time: start,
        satellite: "N20".into(),
        instrument: "VIIRS".into(),
        confidence,
        version: "2".into(),
        frp_mw: Some(frp),
        daynight: DayNight::Day,
        fire_type: None,
        row: Some(r),
        col: Some(c),
    };
    let mut g = OfficialGranule {
        start,
        satellite: "N20".into(),
        fires: vec![
            fire(18, 20, Confidence::Low, 3.5, 331.25),
            fire(24, 26, Confidence::Nominal, 8.75, 342.5),
            fire(30, 22, Confidence::High, 31.0, 367.0),
        ],
        mask: Some((mask, (lines, pixels))),
        geolocation_name: String::new(),
    };
    g.geolocation_name = vnp03img_name(&g);
    (g, lat, lon)
}

/// The fixture files, written again when `UPDATE_FIXTURES` is set.
fn fixture_files() -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let (g, lat, lon) = granule();
    let dir = fixtures();
    let files = (
        dir.join(vnp14img_name(&g)),
        dir.join(vnp03img_name(&g)),
        dir.join(afimg_name(&g, "txt")),
        dir.join(afimg_name(&g, "nc")),
    );
    static WRITE: std::sync::Once = std::sync::Once::new();
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        WRITE.call_once(|| write_fixtures(&g, &lat, &lon, &files));
    }
    files
}

fn write_fixtures(
    g: &OfficialGranule,
    lat: &[f32],
    lon: &[f32],
    files: &(PathBuf, PathBuf, PathBuf, PathBuf),
) {
    {
        let dir = files.0.parent().unwrap();
        std::fs::create_dir_all(dir).unwrap();
        let g = g.clone();
        let (lat, lon) = (lat.to_vec(), lon.to_vec());
        write_vnp14img(&files.0, &g).unwrap();
        write_vnp03img(&files.1, &g, SHAPE, &lat, &lon).unwrap();
        write_afimg_text(&files.2, &g).unwrap();
        write_afimg_netcdf(&files.3, &g).unwrap();
    }
}

fn strawfire(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_strawfire"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn fixtures_read_back_as_the_granule_they_were_written_from() {
    let (vnp14, _, afimg_txt, afimg_nc) = fixture_files();
    let (g, _, _) = granule();
    for path in [&vnp14, &afimg_txt, &afimg_nc] {
        let p = strawfire::product::viirs_af::read(path).unwrap();
        assert!(p.feed.warnings.is_empty(), "{}", path.display());
        assert_eq!(p.feed.rows.len(), 3, "{}", path.display());
        for (row, want) in p.feed.rows.iter().zip(&g.fires) {
            let h = &row.hotspot;
            assert!((h.latitude - want.latitude).abs() < 1e-5);
            assert!((h.longitude - want.longitude).abs() < 1e-5);
            assert_eq!(h.confidence, want.confidence);
            assert!((h.frp_mw.unwrap() - want.frp_mw.unwrap()).abs() < 1e-4);
            assert!((h.bt_mir_k.unwrap() - want.bt_mir_k.unwrap()).abs() < 1e-3);
            assert_eq!(h.satellite, "N20");
            assert_eq!(h.daynight, DayNight::Day, "{}", path.display());
            assert_eq!(
                h.acq_time.format("%Y-%m-%d %H%M").to_string(),
                "2024-06-08 0542"
            );
        }
    }
    let p = strawfire::product::viirs_af::read(&vnp14).unwrap();
    let cov = p.coverage.expect("VNP03IMG beside the fixture");
    assert_eq!(cov.summary.cloud, 10 * 48);
    assert_eq!(cov.summary.clear_land, 28 * 48);
    assert_eq!(
        (
            cov.summary.fire_low,
            cov.summary.fire_nominal,
            cov.summary.fire_high
        ),
        (1, 1, 1)
    );
}

#[test]
fn locate_reads_official_products_like_firms_files() {
    let (vnp14, _, afimg_txt, afimg_nc) = fixture_files();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("located.csv");
    let (ok, _, err) = strawfire(&[
        "locate",
        "--hotspots",
        s(&vnp14),
        s(&afimg_txt),
        s(&afimg_nc),
        "--admin",
        COUNTIES,
        "-o",
        s(&out),
    ]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 9, "{text}");
    for row in &rows {
        // Every fire lies in 滑县 (410526).
        assert_eq!(&row[col("county_code")], "410526", "{row:?}");
        assert_eq!(&row[col("satellite")], "N20");
    }
    // VNP14IMG rows carry the pixel position and I5; AFIMG rows have no I5.
    assert_eq!(&rows[0][col("row")], "18");
    assert_eq!(&rows[0][col("bright_ti5")], "296.50");
    assert_eq!(&rows[3][col("bright_ti5")], "");
    assert_eq!(&rows[5][col("confidence")], "h");
    assert!(err.contains("3 hotspots read"), "{err}");
}

fn config_in(dir: &Path) -> PathBuf {
    let config = dir.join("strawfire.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\n[layers]\nadmin = [\"{}/{COUNTIES}\"]\n",
            dir.join("data").display(),
            root().display()
        ),
    )
    .unwrap();
    config
}

/// A store for `strawfire ingest` to fill: the SQLite file under `dir`, or a PostgreSQL schema.
struct Target {
    dir: tempfile::TempDir,
    pg: Option<PgSchema>,
}

impl Target {
    fn new(b: Backend) -> Target {
        Target {
            dir: tempfile::tempdir().unwrap(),
            pg: schema_for(b),
        }
    }

    /// `strawfire ingest FILE` into this store: success and stderr.
    fn ingest(&self, file: &Path) -> (bool, String) {
        let config = config_in(self.dir.path());
        let mut args = vec!["ingest", "--config", s(&config)];
        if let Some(pg) = &self.pg {
            args.extend(["--store", pg.url.as_str(), "--local"]);
        }
        args.push(s(file));
        let (ok, _, err) = strawfire(&args);
        (ok, err)
    }

    /// A single integer from SQL both dialects read.
    fn q(&self, sql: &str) -> i64 {
        match &self.pg {
            Some(pg) => {
                let sql = sql.to_string();
                pg.with(move |c| c.query_one(&sql, &[]).unwrap().get(0))
            }
            None => {
                let db = rusqlite::Connection::open(
                    self.dir.path().join("data").join("strawfire.sqlite"),
                )
                .unwrap();
                db.query_row(sql, [], |r| r.get(0)).unwrap()
            }
        }
    }
}

on_both_stores_blocking!(
    ingest_stores_vnp14img_with_coverage_and_without_its_geolocation_as_a_feed
);

fn ingest_stores_vnp14img_with_coverage_and_without_its_geolocation_as_a_feed(b: Backend) {
    let (vnp14, _, afimg_txt, _) = fixture_files();
    let data = Target::new(b);
    let (ok, err) = data.ingest(&vnp14);
    assert!(ok, "{err}");
    assert!(err.contains("3 new hotspots"), "{err}");
    // The AFIMG of the same pass: the same fires, duplicates.
    let (ok, err) = data.ingest(&afimg_txt);
    assert!(ok, "{err}");
    assert!(err.contains("0 new hotspots, 3 duplicates"), "{err}");
    // The product with its mask and geolocation is a scene with coverage per unit.
    assert_eq!(
        data.q("SELECT count(*) FROM scenes WHERE model = 'VNP14IMG'"),
        1
    );
    assert_eq!(data.q("SELECT count(*) FROM feeds"), 1);
    let land = data.q("SELECT land_pixels FROM scene_coverage WHERE unit = '410526'");
    let clear = data.q("SELECT clear_pixels FROM scene_coverage WHERE unit = '410526'");
    assert!(land > clear && clear > 0, "{land} {clear}");

    // Alone in a folder, the product still loads, as a feed, its coverage unknown.
    let alone = Target::new(b);
    let copy = alone.dir.path().join(vnp14.file_name().unwrap());
    std::fs::copy(&vnp14, &copy).unwrap();
    let (ok, err) = alone.ingest(&copy);
    assert!(ok, "{err}");
    assert!(err.contains("3 new hotspots"), "{err}");
    assert!(
        err.contains("VJ103IMG.A2024160.0542") && err.contains("coverage unknown"),
        "{err}"
    );
    assert_eq!(alone.q("SELECT count(*) FROM scenes"), 0);
    assert_eq!(alone.q("SELECT count(*) FROM feeds"), 1);
    if b == Backend::Postgres {
        // No SQLite file appeared beside the PostgreSQL store.
        for t in [&data, &alone] {
            assert!(!t.dir.path().join("data").join("strawfire.sqlite").exists());
        }
    }
}
