//! `strawfire rank --date` against a store filled by `strawfire ingest` from the sample scenes
//! (real scans, so the coverage rows come from the scenes' cloud masks): the HTML report is one
//! self-contained file with an inline map, CSV and JSON agree, and a missing store leaves no file.

mod common;

use std::path::Path;

use common::{run_in_crate, run_ok, sample_report};

#[test]
fn report_from_the_store_is_self_contained_and_shows_its_map() {
    let dir = tempfile::tempdir().unwrap();
    let (data, html_path) = sample_report(dir.path(), "2024-06-09");
    let d = data.to_str().unwrap();
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
    let conn = rusqlite::Connection::open(data.join(strawfire::service::STORE_FILE)).unwrap();
    // 2024-06-09 at UTC+8.
    let day_hotspots: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM hotspots WHERE acq_time >= 1717862400 AND acq_time < 1717948800",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(day_hotspots > 0);
    assert_eq!(
        html.matches("<circle class=\"hotspot").count() as i64,
        day_hotspots
    );
    // Each scene left coverage rows for the five counties.
    let rows: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM scene_coverage WHERE level = 'county'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 10);

    // JSON and CSV of the same day agree, and every county has a clear share from the scene.
    let json = run_ok(&[
        "rank",
        "--date",
        "2024-06-09",
        "--format",
        "json",
        "--data-dir",
        d,
    ]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r["clear_share"].is_number()));
    let csv = run_ok(&["rank", "--date", "2024-06-09", "--data-dir", d]);
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
