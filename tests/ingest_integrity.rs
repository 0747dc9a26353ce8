//! Issue 15: nothing an ingest is given is lost or misfiled in silence. A real server on port 0,
//! on a real SQLite file and on a real PostgreSQL (`on_both_stores!`), a real HTTP client.
//!
//! Unknown measurements: FIRMS rows whose `frp`, `bright_ti4`, `bright_ti5`, `scan` or `track`
//! are empty or `NaN` are fires the feed saw. They are stored with those values unknown (JSON
//! `null`), and counted as duplicates only when an earlier row has their key.
//!
//! Times: a detection dated where none can be (year 1, 1970, 9999, next week) is refused naming
//! its row and field; an old but plausible one (the 2024 sample season ingested today) is stored
//! and fused but pages no one, while a fresh one gets its task.
//!
//! Refused uploads: a scene dated 1970 (400), cut short, missing a band, an L1B file without
//! its geolocation, an L1B pair with a file cut short (422) are answered alike on both stores: on PostgreSQL a worker scans them
//! and the node answers its failed job by the kind of failure the job kept.

mod common;

use std::time::Duration;

use common::dispatch::count;
use common::server::*;
use common::stores::Backend;

on_both_stores!(
    posted_rows_with_unknown_measurements_are_stored_not_counted_as_duplicates,
    inbox_rows_with_unknown_measurements_are_stored_not_counted_as_duplicates,
    backfilling_the_sample_season_pages_no_one_and_a_fresh_fire_gets_its_task,
    impossible_times_are_refused_naming_row_and_field,
    a_scene_dated_1970_is_refused_naming_acq_time,
    a_truncated_scene_is_refused_422_naming_it,
    a_scene_missing_a_band_is_refused_422_naming_it,
    an_l1b_file_without_its_geolocation_is_refused_422_naming_it,
    an_l1b_pair_with_a_broken_file_is_refused_422_naming_that_file_once,
);

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

async fn posted_rows_with_unknown_measurements_are_stored_not_counted_as_duplicates(b: Backend) {
    let srv = TestServer::start_on(b).await;
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

async fn inbox_rows_with_unknown_measurements_are_stored_not_counted_as_duplicates(b: Backend) {
    let srv = TestServer::start_on(b).await;
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

/// One N20 row at `t` (FIRMS date and time columns).
fn row_at(lat: f64, lon: f64, t: chrono::DateTime<chrono::Utc>) -> String {
    firms_row(
        lat,
        lon,
        &t.format("%Y-%m-%d").to_string(),
        &t.format("%H%M").to_string(),
        "N20",
        "n",
        "2.0NRT",
        3.0,
    )
}

/// A raw row with a date and time as written (chrono cannot format year 1 as FIRMS does).
fn row_dated(lat: f64, date: &str, hhmm: &str) -> String {
    firms_row(lat, 114.3, date, hhmm, "N20", "n", "2.0NRT", 3.0)
}

async fn backfilling_the_sample_season_pages_no_one_and_a_fresh_fire_gets_its_task(b: Backend) {
    let srv = TestServer::start_on_with(
        b,
        tempfile::tempdir().unwrap(),
        |c| {
            // A webhook for every township the grid has: any notice would become a delivery.
            for (i, unit) in ["410526100", "410526101", "410527100"].iter().enumerate() {
                c.webhooks.push(strawfire::config::WebhookConfig {
                    name: format!("hook{i}"),
                    unit: unit.to_string(),
                    url: "http://127.0.0.1:9/hook".into(),
                    format: Default::default(),
                    headers: Default::default(),
                    kinds: None,
                    mentioned_mobile_list: Vec::new(),
                });
            }
        },
        std::sync::Arc::new(GridPlacer),
    )
    .await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let (mut too_old, mut new_events) = (0, 0);
    for scene in ["hua-night.tif", "junxian-day.tif"] {
        let bytes = std::fs::read(root.join(scene)).unwrap();
        let (status, v) = srv
            .post(
                &format!("/api/v1/scenes?name={scene}"),
                ADMIN,
                "image/tiff",
                bytes,
            )
            .await;
        assert_eq!(status, 201, "{scene}: {v}");
        assert!(v["report"]["hotspots_new"].as_u64().unwrap() > 0, "{v}");
        too_old += v["report"]["events_too_old"].as_u64().unwrap();
        new_events += v["report"]["events_new"].as_u64().unwrap();
    }
    // Every event would have been dispatched (the grid places all of them, no parcel layer),
    // and none was: stored, located, fused, but too old.
    assert!(new_events > 0);
    assert_eq!(too_old, new_events);
    let events = srv.features("/api/v1/events", ADMIN).await;
    assert_eq!(events.len() as u64, new_events);
    for e in &events {
        assert_eq!(e["properties"]["task_reason"], "too_old", "{e}");
        assert!(e["properties"]["county"].is_string());
    }
    assert!(srv.features("/api/v1/tasks", ADMIN).await.is_empty());
    // The delivery worker has looked at the outbox since: nothing was there to send.
    srv.notify_passes(2).await;
    assert_eq!(count(&srv, "SELECT COUNT(*) FROM outbox"), 0);
    assert_eq!(count(&srv, "SELECT COUNT(*) FROM deliveries"), 0);
    // The season still counts in the rankings' facts: its hotspots are stored and placed.
    assert!(
        count(
            &srv,
            "SELECT COUNT(*) FROM hotspots WHERE county IS NOT NULL"
        ) > 0
    );

    // A fire seen 20 minutes ago: a task, its notice, a delivery to its township's webhook.
    let fresh = firms_csv(&[row_at(
        35.2,
        114.3,
        chrono::Utc::now() - chrono::Duration::minutes(20),
    )]);
    let (status, v) = srv.post("/api/v1/hotspots", ADMIN, "text/csv", fresh).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(
        (&v["report"]["events_new"], &v["report"]["events_too_old"]),
        (&1.into(), &0.into()),
        "{v}"
    );
    let tasks = srv.features("/api/v1/tasks", ADMIN).await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["properties"]["unit"], "410526100");
    let id = v["report"]["event_ids"][0].as_i64().unwrap();
    let (_, e) = srv.get(&format!("/api/v1/events/{id}"), ADMIN).await;
    assert!(e["properties"]["task_reason"].is_null(), "{e}");
    assert_eq!(
        count(&srv, "SELECT COUNT(*) FROM outbox WHERE kind = 'task_new'"),
        1
    );
    srv.stop().await;
}

async fn impossible_times_are_refused_naming_row_and_field(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let now = chrono::Utc::now();
    let good = row_at(34.70, 114.3, now - chrono::Duration::hours(1));
    // Year 1, 1970 and 9999: the body is refused whole, naming each row and its date field.
    let body = firms_csv(&[
        good.clone(),
        row_dated(34.72, "0001-01-01", "0000"),
        row_dated(34.74, "1970-01-01", "0000"),
        row_dated(34.76, "9999-12-31", "2359"),
    ]);
    let (status, v) = srv.post("/api/v1/hotspots", ADMIN, "text/csv", body).await;
    assert_eq!(status, 400, "{v}");
    let msg = v["error"].as_str().unwrap();
    assert!(
        msg.contains("3 row(s)") && msg.contains("line 3, field `acq_date`"),
        "{msg}"
    );
    let details: Vec<&str> = v["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(details.len(), 3, "{details:?}");
    assert!(details[2].contains("line 5, field `acq_date`: 9999-12-31 23:59 UTC is in the future"));
    assert_eq!(count_hotspots(&srv).await, 0);

    // Beyond the 15 min skew: refused; within it: a detection.
    let (status, v) = srv
        .post(
            "/api/v1/hotspots",
            ADMIN,
            "text/csv",
            firms_csv(&[row_at(34.8, 114.3, now + chrono::Duration::minutes(40))]),
        )
        .await;
    assert_eq!(status, 400, "{v}");
    let (status, v) = srv
        .post(
            "/api/v1/hotspots",
            ADMIN,
            "text/csv",
            firms_csv(&[row_at(34.8, 114.3, now + chrono::Duration::minutes(5))]),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(srv.features("/api/v1/tasks", ADMIN).await.len(), 1);

    // Sensor alerts of year 0 and of next week: 400 naming `time`, nothing stored.
    for time in [
        "0000-06-08T18:10:00Z".to_string(),
        (now + chrono::Duration::days(7)).to_rfc3339(),
    ] {
        let alert = serde_json::json!({
            "sensor_id": "cam-1", "time": time, "kind": "smoke", "confidence": 0.8,
            "bearing_deg": 135.0, "distance_m": 2400.0,
        });
        let (status, v) = srv
            .post(
                "/api/v1/sensor-alerts",
                ADMIN,
                "application/json",
                alert.to_string(),
            )
            .await;
        assert_eq!((status, &v["field"]), (400, &"time".into()), "{time}: {v}");
    }
    assert_eq!(count(&srv, "SELECT COUNT(*) FROM sensor_alerts"), 0);

    // A file in the inbox keeps its good rows; the refused one is a warning naming line and
    // field.
    let inbox = srv.inbox();
    let tmp = srv.dir.path().join("mixed.csv");
    std::fs::write(
        &tmp,
        firms_csv(&[
            row_dated(35.9, "1970-01-01", "0000"),
            row_at(35.92, 114.3, now - chrono::Duration::minutes(30)),
        ]),
    )
    .unwrap();
    std::fs::rename(&tmp, inbox.join("mixed.csv")).unwrap();
    let warnings = inbox.join("done").join("mixed.csv.warnings");
    eventually(T, "mixed.csv done with warnings", || async {
        warnings.exists().then_some(())
    })
    .await;
    let text = std::fs::read_to_string(&warnings).unwrap();
    assert!(
        text.contains("line 2, field `acq_date`: 1970-01-01 00:00 UTC is before 2000-01-01"),
        "{text}"
    );
    assert_eq!(count_hotspots(&srv).await, 2);
    srv.stop().await;
}

/// A scene `name` of 40 × 40 pixels with one hot pixel, bands `bands` of I1–I5 and SZA, taken
/// at `acq_time`, in `dir`.
fn scene_file(
    dir: &std::path::Path,
    name: &str,
    bands: &[&str],
    acq_time: chrono::DateTime<chrono::Utc>,
) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut all = common::base_bands(40, 40, false);
    all[3][[20, 20]] = 340.0;
    let named: Vec<(&str, &ndarray::Array2<f32>)> = common::BAND_NAMES
        .iter()
        .copied()
        .zip(all.iter())
        .filter(|(n, _)| bands.contains(n))
        .collect();
    let meta = strawfire::raster::SceneMeta {
        acq_time: Some(acq_time),
        ..common::meta()
    };
    strawfire::raster::write_scene(
        &path,
        &named,
        &common::georef(),
        &meta,
        strawfire::raster::Compression::Deflate,
    )
    .unwrap();
    path
}

/// A refused upload's answer, the same from a node that scans it (SQLite) as from a worker's
/// failed job (PostgreSQL): `status`, the JSON error of the API (`code`, the Chinese message),
/// the error starting with `starts` (the client's file names, not the job's name before it)
/// and saying `says`, naming the file (what `starts` names before its first `: `) once, none
/// of our paths in it; nothing stored. On PostgreSQL the failed job
/// keeps the kind of its failure (`failure`).
async fn assert_refused(
    srv: &TestServer,
    (status, v): (u16, serde_json::Value),
    want: (u16, &str),
    starts: &str,
    says: &str,
) {
    let (want, failure) = want;
    assert_eq!(status, want, "{v}");
    let error = v["error"].as_str().unwrap();
    assert!(error.starts_with(starts) && error.contains(says), "{v}");
    // The file named once (not `scene cut.tif: cut.tif: …`), GDAL's own words apart (it names
    // the file again in its `error msg: '…'`).
    let file = starts.split(": ").next().unwrap();
    let before_gdal = error.split(" error msg: '").next().unwrap();
    assert_eq!(before_gdal.matches(file).count(), 1, "{v}");
    for ours in ["uploads", "spool", srv.dir.path().to_str().unwrap()] {
        assert!(!error.contains(ours), "{v}");
    }
    assert_eq!(
        (v["code"].as_str(), v["message_zh"].as_str()),
        (Some("bad_body"), Some("请求内容无法使用")),
        "{v}"
    );
    assert_eq!(count(srv, "SELECT COUNT(*) FROM scenes"), 0);
    assert_eq!(count_hotspots(srv).await, 0);
    if let Some(pg) = &srv.pg {
        let kinds: Vec<(String, Option<String>)> = pg.with(|c| {
            c.query("SELECT state, failure FROM jobs WHERE kind = 'scene'", &[])
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect()
        });
        assert_eq!(
            kinds,
            [("failed".to_string(), Some(failure.to_string()))],
            "{v}"
        );
    }
}

/// A scene whose metadata says 1970: refused 400 naming `acq_time` (bad input), nothing stored;
/// on PostgreSQL through a worker's failed job, answered as the node scanning it answers.
async fn a_scene_dated_1970_is_refused_naming_acq_time(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let scene = scene_file(
        srv.dir.path(),
        "epoch.tif",
        &common::BAND_NAMES,
        chrono::DateTime::UNIX_EPOCH,
    );
    let answer = srv
        .post(
            "/api/v1/scenes?name=epoch.tif",
            ADMIN,
            "image/tiff",
            std::fs::read(&scene).unwrap(),
        )
        .await;
    // The file named once: the time error names it, the job adds nothing before it.
    let starts = "epoch.tif: `acq_time`: 1970-01-01 00:00 UTC is before 2000-01-01";
    assert_refused(&srv, answer, (400, "bad_input"), starts, "a broken date").await;
    srv.stop().await;
}

/// A scene file cut short (a transfer that broke): 422 naming the file (unreadable).
async fn a_truncated_scene_is_refused_422_naming_it(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let scene = scene_file(
        srv.dir.path(),
        "cut.tif",
        &common::BAND_NAMES,
        common::meta().acq_time.unwrap(),
    );
    let bytes = std::fs::read(&scene).unwrap();
    let answer = srv
        .post(
            "/api/v1/scenes?name=cut.tif",
            ADMIN,
            "image/tiff",
            bytes[..bytes.len() / 2].to_vec(),
        )
        .await;
    let says = "band `I4` (GDAL band 4): cannot read pixels";
    assert_refused(&srv, answer, (422, "unreadable"), "cut.tif: ", says).await;
    srv.stop().await;
}

/// A scene without its I5 band: 422 naming the file and the band (unreadable).
async fn a_scene_missing_a_band_is_refused_422_naming_it(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let scene = scene_file(
        srv.dir.path(),
        "noi5.tif",
        &["I1", "I2", "I3", "I4", "SZA"],
        common::meta().acq_time.unwrap(),
    );
    let answer = srv
        .post(
            "/api/v1/scenes?name=noi5.tif",
            ADMIN,
            "image/tiff",
            std::fs::read(&scene).unwrap(),
        )
        .await;
    let says = "no band described as `I5` (the viirs-i model requires it)";
    assert_refused(&srv, answer, (422, "unreadable"), "noi5.tif: ", says).await;
    srv.stop().await;
}

/// A VIIRS L1B observation file without its geolocation (`V?P03IMG`): 422 naming what is
/// missing (unreadable: a swath cannot be placed without it).
async fn an_l1b_file_without_its_geolocation_is_refused_422_naming_it(b: Backend) {
    use strawfire::product::write::viirs_l1b as l1b_write;
    let srv = TestServer::start_on_with(
        b,
        tempfile::tempdir().unwrap(),
        |c| c.limits.scene_bytes = 64 << 20,
        std::sync::Arc::new(GridPlacer),
    )
    .await;
    let mut spec = strawfire::synth::SwathSpec::night(1, 3);
    spec.scene.fires = strawfire::synth::random_fires_for(&spec.scene, 4);
    let swath = strawfire::synth::generate_swath(&spec).unwrap();
    let files = l1b_write::write(
        &swath.granule,
        srv.dir.path(),
        &l1b_write::L1bOptions::default(),
    )
    .unwrap();
    let name = files
        .data
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let answer = srv.post_scene_files(&[&files.data]).await;
    let (starts, says) = (
        format!("{name}: "),
        "its geolocation file is missing (looked for VJ103IMG.A2024160.1730.*.nc in the request)",
    );
    assert_refused(&srv, answer, (422, "unreadable"), &starts, says).await;
    srv.stop().await;
}

/// An L1B pair whose geolocation file is cut short: the error names that file once, first (not
/// `scene VJ102… + VJ103…: VJ103…: …`), and after the reader's words its granule's partner.
async fn an_l1b_pair_with_a_broken_file_is_refused_422_naming_that_file_once(b: Backend) {
    use strawfire::product::write::viirs_l1b as l1b_write;
    let srv = TestServer::start_on_with(
        b,
        tempfile::tempdir().unwrap(),
        |c| c.limits.scene_bytes = 64 << 20,
        std::sync::Arc::new(GridPlacer),
    )
    .await;
    let mut spec = strawfire::synth::SwathSpec::night(1, 3);
    spec.scene.fires = strawfire::synth::random_fires_for(&spec.scene, 4);
    let swath = strawfire::synth::generate_swath(&spec).unwrap();
    let files = l1b_write::write(
        &swath.granule,
        srv.dir.path(),
        &l1b_write::L1bOptions::default(),
    )
    .unwrap();
    let bytes = std::fs::read(&files.geo).unwrap();
    std::fs::write(&files.geo, &bytes[..bytes.len() / 3]).unwrap();
    let name = |p: &std::path::Path| p.file_name().unwrap().to_str().unwrap().to_string();
    let (data, geo) = (name(&files.data), name(&files.geo));
    let answer = srv.post_scene_files(&[&files.data, &files.geo]).await;
    let error = answer.1["error"].as_str().unwrap_or_default().to_string();
    let (starts, says) = (format!("{geo}: "), format!("(granule with {data})"));
    assert_refused(&srv, answer, (422, "unreadable"), &starts, &says).await;
    assert_eq!(error.matches(&data).count(), 1, "{error}");
    srv.stop().await;
}

async fn count_hotspots(srv: &TestServer) -> usize {
    srv.features("/api/v1/hotspots", ADMIN).await.len()
}
