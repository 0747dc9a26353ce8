//! `strawfire rank --date` against a store filled by `strawfire ingest` from the sample scenes
//! (real scans, so the coverage rows come from the scenes' cloud masks): the HTML report is one
//! self-contained file with an inline map, CSV and JSON agree, and a missing store leaves no file.
//! The report on both stores (`on_both_stores_blocking!`): the SQLite file, and a PostgreSQL
//! schema (`ingest --store URL --local`, `rank --store URL`).

mod common;

use std::path::Path;

use common::stores::{schema_for, Backend};
use common::{run_in_crate, run_ok, sample_report_in};

on_both_stores_blocking!(report_from_the_store_is_self_contained_and_shows_its_map);

fn report_from_the_store_is_self_contained_and_shows_its_map(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let pg = schema_for(b);
    let (data, html_path) = sample_report_in(dir.path(), "2024-06-09", pg.as_ref());
    let d = data.to_str().unwrap();
    let store: Vec<&str> = pg
        .as_ref()
        .map_or(Vec::new(), |p| vec!["--store", p.url.as_str()]);
    let count = |sql: &str| -> i64 {
        match &pg {
            Some(pg) => {
                let sql = sql.to_string();
                pg.with(move |c| c.query_one(&sql, &[]).unwrap().get(0))
            }
            None => rusqlite::Connection::open(data.join(strawfire::service::STORE_FILE))
                .unwrap()
                .query_row(sql, [], |r| r.get(0))
                .unwrap(),
        }
    };
    let html = std::fs::read_to_string(&html_path).unwrap();
    // One file: nothing fetched from anywhere.
    for needle in [
        "http://", "https://", "<script", "<link", "<img", "src=", "href=", "@import",
    ] {
        assert!(!html.contains(needle), "the report references `{needle}`");
    }
    assert!(html.split("url(").skip(1).all(|s| s.starts_with('#')));
    // An inline map: a path per county of the sample layer, a circle per hotspot of the day.
    assert_eq!(html.matches("<svg").count(), 1);
    assert_eq!(html.matches("<path class=\"unit").count(), 5);
    // 2024-06-09 at UTC+8.
    let day_hotspots = count(
        "SELECT COUNT(*) FROM hotspots WHERE acq_time >= 1717862400 AND acq_time < 1717948800",
    );
    assert!(day_hotspots > 0);
    assert_eq!(
        html.matches("<circle class=\"hotspot").count() as i64,
        day_hotspots
    );
    // Each scene left coverage rows for the five counties.
    assert_eq!(
        count("SELECT COUNT(*) FROM scene_coverage WHERE level = 'county'"),
        10
    );

    // JSON and CSV of the same day agree, and every county has a clear share from the scene.
    let json = run_ok(
        &[
            &[
                "rank",
                "--date",
                "2024-06-09",
                "--format",
                "json",
                "--data-dir",
                d,
            ],
            &store[..],
        ]
        .concat(),
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r["clear_share"].is_number()));
    let csv = run_ok(
        &[
            &["rank", "--date", "2024-06-09", "--data-dir", d],
            &store[..],
        ]
        .concat(),
    );
    let csv = String::from_utf8(csv.stdout).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let lines: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(lines.len(), rows.len());
    for (line, row) in lines.iter().zip(rows) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[col("code")], row["code"].as_str().unwrap());
        assert_eq!(cells[col("status")], row["status"].as_str().unwrap());
        assert_eq!(cells[col("fire_points")], row["fire_points"].to_string());
    }
    for (row, html_row) in rows.iter().zip(html.split("<tr class=").skip(1)) {
        assert!(html_row.contains(row["name"].as_str().unwrap()));
    }
}

#[test]
fn no_store_is_an_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.html");
    let o = run_in_crate(&[
        "rank",
        "--date",
        "2024-06-09",
        "--format",
        "html",
        "-o",
        out.to_str().unwrap(),
        "--data-dir",
        dir.path().join("none").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no store"));
    assert!(!out.exists());
    assert!(!Path::new(&dir.path().join("none")).exists());
    // The batch form has no HTML.
    let o = run_in_crate(&[
        "rank", "--hotspots", "samples/hua-night.truth.csv", "--admin",
        "samples/admin/henan_hua_counties_gcj02.geojson:level=county:code=adcode:name=name:crs=gcj02",
        "--format", "html",
    ]);
    assert!(!o.status.success());
}

/// A day that has not begun has no ranking in any format: `rank --date` of a future day is an
/// error naming the date and today in the ranking's time zone, and writes nothing (it ranked
/// every county first with no fires, as if the day were clean).
#[test]
fn a_day_that_has_not_begun_is_refused_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // An empty store: the county layer of the samples would rank all of its counties.
    drop(strawfire::store::SqliteStore::open(&data.join(strawfire::service::STORE_FILE)).unwrap());
    for format in ["csv", "json", "html"] {
        let out = dir.path().join(format!("r.{format}"));
        let o = run_in_crate(&[
            "rank",
            "--date",
            "2999-01-01",
            "--format",
            format,
            "-o",
            out.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{format}: {err}");
        assert!(
            err.contains("--date: 2999-01-01 is after today (")
                && err.contains(" at UTC+08:00, the ranking's time zone)"),
            "{format}: {err}"
        );
        assert!(!out.exists(), "{format}");
    }
}

/// `strawfire ingest` of a good scene and a file that is no FIRMS feed: the scene is stored,
/// the bad file is one error line naming it once (not `error: x.csv: x.csv: no ...`), exit 1.
#[test]
fn ingest_names_a_bad_file_once_and_keeps_the_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("notes.csv");
    std::fs::write(&bad, "hello world\n").unwrap();
    let bad = bad.to_str().unwrap();
    let data = dir.path().join("data");
    let o = run_in_crate(&[
        "ingest",
        "--data-dir",
        data.to_str().unwrap(),
        "samples/hua-night.tif",
        bad,
    ]);
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error: ") && l.contains("notes.csv"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(line.matches(bad).count(), 1, "{line}");
    assert!(line.contains("no `latitude` column"), "{line}");
    // The 2024 scene's one event on a field gets no task today, and the line says why.
    assert!(
        stderr.contains(
            "samples/hua-night.tif: 8 new hotspots, 0 duplicates; events: 8 new, 0 updated, \
             1 too old for a task ([dispatch] max_age_h)"
        ),
        "{stderr}"
    );
}

/// With no config the sample layers are found from the working directory: started anywhere
/// else, the command says where it looked and what to do, not only "no [layers]".
#[test]
fn without_a_config_outside_the_repository_says_where_the_samples_were_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(common::bin())
        .args(["rank", "--date", "2024-06-09", "--data-dir", "data"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("no samples/admin/ in") && stderr.contains("--config"),
        "{stderr}"
    );
}

/// `strawfire ingest` of an L1B pair whose geolocation file is cut short: one error line naming
/// that file once and its partner once (`error: …/VJ103…: … (granule with VJ102…)`), not the
/// inputs before the same file again.
#[test]
fn ingest_names_the_broken_file_of_a_granule_once() {
    use strawfire::product::write::viirs_l1b as l1b_write;
    let dir = tempfile::tempdir().unwrap();
    let spec = strawfire::synth::SwathSpec::night(1, 3);
    let swath = strawfire::synth::generate_swath(&spec).unwrap();
    let files = l1b_write::write(
        &swath.granule,
        dir.path(),
        &l1b_write::L1bOptions::default(),
    )
    .unwrap();
    let bytes = std::fs::read(&files.geo).unwrap();
    std::fs::write(&files.geo, &bytes[..bytes.len() / 3]).unwrap();
    let name = |p: &Path| p.file_name().unwrap().to_str().unwrap().to_string();
    let (data_name, geo_name) = (name(&files.data), name(&files.geo));
    let data = dir.path().join("data");
    let o = run_in_crate(&[
        "ingest",
        "--data-dir",
        data.to_str().unwrap(),
        files.data.to_str().unwrap(),
        files.geo.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(line.matches(&geo_name).count(), 1, "{line}");
    assert_eq!(line.matches(&data_name).count(), 1, "{line}");
    assert!(
        line.starts_with(&format!("error: {}: ", files.geo.display()))
            && line.ends_with(&format!(" (granule with {data_name})")),
        "{line}"
    );
}
