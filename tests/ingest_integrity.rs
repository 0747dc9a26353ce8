//! Issue 15: nothing an ingest is given is lost or misfiled in silence. A real server on port 0,
//! a real SQLite file, a real HTTP client.
//!
//! Unknown measurements: FIRMS rows whose `frp`, `bright_ti4`, `bright_ti5`, `scan` or `track`
//! are empty or `NaN` are fires the feed saw. They are stored with those values unknown (JSON
//! `null`), and counted as duplicates only when an earlier row has their key.

mod common;

use std::time::Duration;

use common::server::*;

const T: Duration = Duration::from_secs(20);

/// Five N20 rows an hour old, 0.02° apart (separate events), each with some measurements empty
/// or `NaN`; `version` lets a second copy differ in its bytes but not in its keys.
fn unknown_rows_csv(version: &str) -> String {
    let t = chrono::Utc::now() - chrono::Duration::hours(1);
    let (date, hhmm) = (t.format("%Y-%m-%d"), t.format("%H%M"));
    // bright_ti4, scan, track, bright_ti5, frp
    let measures = [
        ",,,,",
        "NaN,NaN,NaN,NaN,NaN",
        "335.2,0.39,0.36,291.4,",
        "nan,,0.36,291.4,4.5",
        "335.2,0.39,NAN,,7.25",
    ];
    let mut s = String::from(FIRMS_HEADER);
    s.push('\n');
    for (i, m) in measures.iter().enumerate() {
        let m: Vec<&str> = m.split(',').collect();
        let lat = 34.70 + 0.02 * i as f64;
        s.push_str(&format!(
            "{lat:.5},114.30000,{},{},{},{date},{hhmm},N20,VIIRS,n,{version},{},{},N\n",
            m[0], m[1], m[2], m[3], m[4]
        ));
    }
    s
}

/// The five rows as the API lists them, in order of latitude.
async fn listed(srv: &TestServer) -> Vec<serde_json::Value> {
    let mut f = srv.features("/api/v1/hotspots", ADMIN).await;
    f.sort_by(|a, b| {
        let lat = |v: &serde_json::Value| v["properties"]["latitude"].as_f64().unwrap();
        lat(a).total_cmp(&lat(b))
    });
    f.into_iter().map(|f| f["properties"].clone()).collect()
}

fn assert_unknowns_kept(rows: &[serde_json::Value]) {
    assert_eq!(rows.len(), 5, "{rows:?}");
    let fields = ["bright_ti4", "scan", "track", "bright_ti5", "frp"];
    for p in &rows[..2] {
        for f in fields {
            assert!(p[f].is_null(), "{f} of {p}");
        }
    }
    assert_eq!(rows[2]["bright_ti4"], 335.2);
    assert!(rows[2]["frp"].is_null());
    assert!(rows[3]["bright_ti4"].is_null() && rows[3]["scan"].is_null());
    assert_eq!(
        (rows[3]["track"].as_f64(), rows[3]["frp"].as_f64()),
        (Some(0.36), Some(4.5))
    );
    assert!(rows[4]["track"].is_null() && rows[4]["bright_ti5"].is_null());
    assert_eq!(rows[4]["frp"], 7.25);
    // Every row is in an event; unknown FRP leaves the event's maximum unknown, a known one
    // is its maximum.
    assert!(rows.iter().all(|p| p["event_id"].is_i64()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posted_rows_with_unknown_measurements_are_stored_not_counted_as_duplicates() {
    let srv = TestServer::start().await;
    let (status, v) = srv
        .post(
            "/api/v1/hotspots",
            ADMIN,
            "text/csv",
            unknown_rows_csv("2.0NRT"),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(
        (
            &v["report"]["hotspots_new"],
            &v["report"]["hotspots_duplicate"]
        ),
        (&5.into(), &0.into()),
        "{v}"
    );
    assert!(v["warnings"].as_array().unwrap().is_empty(), "{v}");
    let rows = listed(&srv).await;
    assert_unknowns_kept(&rows);
    let events = srv.features("/api/v1/events", ADMIN).await;
    assert_eq!(events.len(), 5);
    let mut frp: Vec<Option<f64>> = events
        .iter()
        .map(|e| e["properties"]["max_frp_mw"].as_f64())
        .collect();
    frp.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(frp, [None, None, None, Some(4.5), Some(7.25)]);

    // The same detections again (other bytes: the URT versions): now they are duplicates.
    let (status, v) = srv
        .post(
            "/api/v1/hotspots",
            ADMIN,
            "text/csv",
            unknown_rows_csv("2.0URT"),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (
            &v["report"]["hotspots_new"],
            &v["report"]["hotspots_duplicate"]
        ),
        (&0.into(), &5.into()),
        "{v}"
    );
    assert_eq!(listed(&srv).await.len(), 5);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_rows_with_unknown_measurements_are_stored_not_counted_as_duplicates() {
    let srv = TestServer::start().await;
    let inbox = srv.inbox();
    let service = srv.running.as_ref().unwrap().service.clone();
    let drop_in = |name: &str, text: String| {
        let tmp = srv.dir.path().join(name);
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, inbox.join(name)).unwrap();
    };
    drop_in("a-unknowns.csv", unknown_rows_csv("2.0NRT"));
    eventually(T, "a-unknowns.csv in done/", || async {
        inbox
            .join("done")
            .join("a-unknowns.csv")
            .exists()
            .then_some(())
    })
    .await;
    assert!(!inbox.join("done").join("a-unknowns.csv.warnings").exists());
    assert_unknowns_kept(&listed(&srv).await);
    let m = service.metrics();
    assert_eq!(
        (
            m.ingested_count("inbox", "hotspot"),
            m.ingested_count("inbox", "duplicate")
        ),
        (5, 0)
    );

    drop_in("b-again.csv", unknown_rows_csv("2.0URT"));
    eventually(T, "b-again.csv in done/", || async {
        inbox
            .join("done")
            .join("b-again.csv")
            .exists()
            .then_some(())
    })
    .await;
    assert_eq!(
        (
            m.ingested_count("inbox", "hotspot"),
            m.ingested_count("inbox", "duplicate")
        ),
        (5, 5)
    );
    assert_eq!(listed(&srv).await.len(), 5);
    srv.stop().await;
}
