//! Every real hotspot file in tests/fixtures/hotspots (copies of real FIRMS files, provenance in
//! tests/fixtures/PROVENANCE.md) reads with its true row count and correct
//! UTC times; bad rows are reported with file, line and field, and the good rows still count.

use std::path::PathBuf;

use strawfire::hotspot::{read_hotspots, Confidence, DayNight, Feed};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hotspots")
        .join(rel)
}

fn read(rel: &str) -> Feed {
    let feed = read_hotspots(&data(rel)).unwrap();
    assert!(
        feed.warnings.is_empty(),
        "{rel}: {:?}",
        feed.warnings.first().map(|w| w.to_string())
    );
    feed
}

fn times(feed: &Feed) -> (String, String) {
    let t = |i: usize| feed.rows[i].hotspot.acq_time.to_rfc3339();
    (t(0), t(feed.rows.len() - 1))
}

#[test]
fn every_file_reads_with_true_counts_and_utc_times() {
    // (file, rows, first UTC time, last UTC time) — from the files themselves (PROVENANCE.md).
    let cases = [
        (
            "australia_modis_fire_archive_M6_96619_first2000.csv",
            2_000,
            "2019-08-01T00:56:00+00:00",
            "2019-08-04T04:16:00+00:00",
        ),
        (
            "australia_modis_excel_resaved_first2000.csv",
            2_000,
            "2019-08-01T00:56:00+00:00",
            "2019-08-04T04:16:00+00:00",
        ),
        (
            "nepal_viirs_snpp_nrt_2023-12-30_to_2024-01-08.csv",
            181,
            "2023-12-30T07:41:00+00:00",
            "2024-01-08T20:40:00+00:00",
        ),
        (
            "nepal_viirs_snpp_nrt_2023-12-30_to_2024-01-08.geojson",
            181,
            "2023-12-30T07:41:00+00:00",
            "2024-01-08T20:40:00+00:00",
        ),
        (
            "rhodes_greece_viirs_snpp_archive_SV-C2_740981.csv",
            953,
            "2023-07-18T23:23:00+00:00",
            "2023-07-26T00:33:00+00:00",
        ),
        (
            "rhodes_greece_viirs_noaa20_archive_J1V-C2_740979.csv",
            669,
            "2023-07-23T00:38:00+00:00",
            "2023-07-27T10:43:00+00:00",
        ),
    ];
    for (rel, rows, first, last) in cases {
        let feed = read(rel);
        assert_eq!(feed.rows.len(), rows, "{rel}");
        assert_eq!(times(&feed), (first.to_string(), last.to_string()), "{rel}");
    }
}

#[test]
fn variants_fill_the_record_correctly() {
    let modis = read("australia_modis_fire_archive_M6_96619_first2000.csv");
    let h = &modis.rows[0].hotspot;
    assert_eq!(
        (h.instrument.as_str(), h.satellite.as_str()),
        ("MODIS", "Terra")
    );
    assert_eq!(
        (h.bt_mir_k, h.bt_tir_k, h.confidence),
        (Some(313.0), Some(297.3), Confidence::Percent(48))
    );
    assert_eq!(
        modis
            .rows
            .iter()
            .filter(|r| r.hotspot.satellite == "Aqua")
            .count(),
        1_087
    );
    let types: Vec<usize> = (0..4)
        .map(|t| {
            modis
                .rows
                .iter()
                .filter(|r| r.hotspot.fire_type == Some(t))
                .count()
        })
        .collect();
    assert_eq!(types, vec![1_978, 0, 21, 1]);

    // Archive VIIRS with MODIS-style column names is still VIIRS, with its I4/I5 temperatures.
    let rhodes = read("rhodes_greece_viirs_noaa20_archive_J1V-C2_740979.csv");
    let h = &rhodes.rows[0].hotspot;
    assert_eq!(
        (h.instrument.as_str(), h.satellite.as_str()),
        ("VIIRS", "N20")
    );
    assert_eq!(
        (h.bt_mir_k, h.bt_tir_k, h.frp_mw),
        (Some(323.51), Some(300.39), Some(37.9))
    );
    assert_eq!(
        (h.confidence, h.daynight, h.fire_type),
        (Confidence::Nominal, DayNight::Night, Some(0))
    );

    // The country export keeps `country_id` among the original fields.
    let nepal = read("nepal_viirs_snpp_nrt_2023-12-30_to_2024-01-08.csv");
    assert_eq!(nepal.header[0], "country_id");
    assert_eq!(&nepal.rows[0].fields[0], "NPL");
}

#[test]
fn excel_resaved_file_equals_the_pristine_archive() {
    // Same data, D/M/YYYY dates and unpadded times: every record must come out identical.
    let pristine = read("australia_modis_fire_archive_M6_96619_first2000.csv");
    let resaved = read("australia_modis_excel_resaved_first2000.csv");
    for (a, b) in pristine.rows.iter().zip(&resaved.rows) {
        assert_eq!(a.hotspot, b.hotspot, "line {}", b.line);
    }
}

#[test]
fn geojson_equals_csv_of_the_same_points() {
    let csv = read("nepal_viirs_snpp_nrt_2023-12-30_to_2024-01-08.csv");
    let json = read("nepal_viirs_snpp_nrt_2023-12-30_to_2024-01-08.geojson");
    assert_eq!(
        csv.header, json.header,
        "the same columns in the same order"
    );
    for (a, b) in csv.rows.iter().zip(&json.rows) {
        assert_eq!(a.hotspot, b.hotspot, "feature {}", b.line);
        assert_eq!(
            a.fields.to_vec()[..3],
            b.fields.to_vec()[..3],
            "feature {}",
            b.line
        );
    }
}

#[test]
fn bad_rows_warn_with_file_line_and_field_and_good_rows_still_count() {
    let text =
        std::fs::read_to_string(data("rhodes_greece_viirs_snpp_archive_SV-C2_740981.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // Line 3: latitude 200. Line 5: a date that does not exist. Line 7: an hour of 25.
    lines[2] = lines[2].replacen("36.", "200.", 1);
    lines[4] = lines[4].replace("2023-07-18", "2023-02-30");
    let f: Vec<String> = lines[6].split(',').map(String::from).collect();
    lines[6] = [&f[..6], &["2523".to_string()], &f[7..]].concat().join(",");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken_feed.csv");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let feed = read_hotspots(&path).unwrap();
    assert_eq!(feed.rows.len(), 953 - 3);
    let msgs: Vec<String> = feed.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(
        msgs[0].contains("broken_feed.csv: line 3, field `latitude`: 200"),
        "{}",
        msgs[0]
    );
    assert!(
        msgs[1].contains("line 5, field `acq_date`: `2023-02-30`"),
        "{}",
        msgs[1]
    );
    assert!(
        msgs[2].contains("line 7, field `acq_time`: `2523`"),
        "{}",
        msgs[2]
    );

    let err = read_hotspots(&dir.path().join("missing.csv")).unwrap_err();
    assert!(err.to_string().contains("missing.csv"), "{err}");
}
