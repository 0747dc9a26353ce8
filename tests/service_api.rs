//! The service end to end through its HTTP API: a real server on port 0, on a real SQLite file
//! and on a real PostgreSQL (`on_both_stores!`), a real HTTP client.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::night_scene;
use common::server::*;
use common::stores::Backend;
use strawfire::scan::{scan_scene, ModelChoice};

on_both_stores!(
    scene_and_firms_file_are_read_back_and_repeats_change_nothing,
    camera_alert_and_satellite_hotspot_of_one_fire_form_one_event,
    each_role_sees_its_scope_only,
    bad_input_is_a_4xx_naming_the_problem,
    inbox_scenes_show_up_and_a_corrupt_one_goes_to_failed_with_its_reason,
    hotspots_are_placed_by_the_locate_layers,
);

const T: Duration = Duration::from_secs(20);

async fn scene_and_firms_file_are_read_back_and_repeats_change_nothing(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let scene = srv.dir.path().join("night.tif");
    night_scene(&scene, 60, 80, &[(20, 30, 340.0), (40, 60, 305.0)]);
    // The oracle: what a scan of the same file gives.
    let expected = scan_scene(&scene, ModelChoice::FromScene, &|_| {}).unwrap();
    assert_eq!(expected.hotspots.len(), 2);
    let bytes = std::fs::read(&scene).unwrap();

    let (status, v) = srv
        .post(
            "/api/v1/scenes?name=night.tif",
            ADMIN,
            "image/tiff",
            bytes.clone(),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["report"]["hotspots_new"], 2);
    let got = srv.features("/api/v1/hotspots?source=scene", ADMIN).await;
    assert_eq!(got.len(), 2);
    for (f, h) in got.iter().zip(&expected.hotspots) {
        let p = &f["properties"];
        assert!((p["latitude"].as_f64().unwrap() - h.latitude).abs() < 1e-9);
        assert!((p["frp"].as_f64().unwrap() - h.frp_mw.unwrap()).abs() < 1e-9);
        assert_eq!(p["row"].as_u64().unwrap() as usize, h.row.unwrap());
        assert_eq!(p["county"], "410526");
    }

    let csv = firms_csv(&[
        firms_row(
            34.81234,
            114.31234,
            "2024-06-08",
            "1806",
            "N20",
            "n",
            "2.0NRT",
            4.5,
        ),
        firms_row(
            34.91234,
            114.41234,
            "2024-06-08",
            "1806",
            "N20",
            "h",
            "2.0NRT",
            12.0,
        ),
        firms_row(
            35.81234,
            117.01234,
            "2024-06-08",
            "606",
            "N",
            "l",
            "2.0NRT",
            1.5,
        ),
    ]);
    let (status, v) = srv
        .post("/api/v1/hotspots", ADMIN, "text/csv", csv.clone())
        .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["report"]["hotspots_new"], 3);
    let feed = srv.features("/api/v1/hotspots?source=feed", ADMIN).await;
    assert_eq!(feed.len(), 3);
    assert_eq!(feed[0]["properties"]["acq_time"], "0606");
    assert_eq!(feed[2]["properties"]["frp"], 12.0);
    let events_before = srv.features("/api/v1/events", ADMIN).await.len();
    assert_eq!(events_before, 5);

    // The same scene and the same file again: no-ops.
    let (status, v) = srv.post("/api/v1/scenes", ADMIN, "image/tiff", bytes).await;
    assert_eq!(
        (status, v["report"]["already_ingested"].as_bool()),
        (200, Some(true))
    );
    let (status, v) = srv.post("/api/v1/hotspots", ADMIN, "text/csv", csv).await;
    assert_eq!(
        (status, v["report"]["already_ingested"].as_bool()),
        (200, Some(true))
    );
    // An overlapping poll: the URT versions of two rows (satellite written `1`) and one new row.
    let overlap = firms_csv(&[
        firms_row(
            34.81234,
            114.31234,
            "2024-06-08",
            "1806",
            "1",
            "n",
            "2.0URT",
            4.5,
        ),
        firms_row(
            34.91234,
            114.41234,
            "2024-06-08",
            "1806",
            "N20",
            "h",
            "2.0URT",
            12.0,
        ),
        firms_row(
            34.71234,
            114.21234,
            "2024-06-08",
            "1930",
            "N20",
            "n",
            "2.0NRT",
            3.0,
        ),
    ]);
    let (status, v) = srv
        .post("/api/v1/hotspots", ADMIN, "text/csv", overlap)
        .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(
        (
            v["report"]["hotspots_new"].as_u64(),
            v["report"]["hotspots_duplicate"].as_u64()
        ),
        (Some(1), Some(2))
    );
    let all = srv.features("/api/v1/hotspots", ADMIN).await;
    assert_eq!(all.len(), 6);
    let keys: HashSet<String> = all
        .iter()
        .map(|f| {
            format!(
                "{}|{}|{}",
                f["properties"]["latitude"],
                f["properties"]["longitude"],
                f["properties"]["acq_datetime"]
            )
        })
        .collect();
    assert_eq!(keys.len(), 6, "no hotspot twice");

    // Filters.
    let high = srv.features("/api/v1/hotspots?confidence=h", ADMIN).await;
    assert!(high.iter().all(|f| f["properties"]["confidence"] == "h"));
    assert!(!high.is_empty());
    let boxed = srv
        .features("/api/v1/hotspots?bbox=114,34.5,114.5,35", ADMIN)
        .await;
    assert_eq!(boxed.len(), 3);
    let timed = srv
        .features(
            "/api/v1/hotspots?from=2024-06-08T18:00:00Z&to=2024-06-08T18:30:00Z",
            ADMIN,
        )
        .await;
    assert_eq!(
        timed.len(),
        4,
        "two scene fires at 18:06 and two feed rows at 18:06"
    );
    let (_, health) = srv.get("/api/v1/healthz", "").await;
    assert_eq!(health["counts"]["hotspots"], 6);
    let metrics = srv.metrics().await;
    assert!(
        metrics.contains("strawfire_ingested_total{source=\"post\",kind=\"hotspot\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("strawfire_ingested_total{source=\"upload\",kind=\"scene\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("strawfire_scan_seconds_count 1"),
        "{metrics}"
    );
    srv.stop().await;
}

async fn camera_alert_and_satellite_hotspot_of_one_fire_form_one_event(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let csv = firms_csv(&[firms_row(
        34.81800,
        114.30000,
        "2024-06-08",
        "1806",
        "N20",
        "n",
        "2.0NRT",
        8.0,
    )]);
    let (status, _) = srv.post("/api/v1/hotspots", ADMIN, "text/csv", csv).await;
    assert_eq!(status, 201);
    // cam-1 sits at (114.30, 34.80); the fire is 2 km north: bearing 0, distance 2000 m.
    let alert = serde_json::json!({
        "sensor_id": "cam-1", "time": "2024-06-08T19:30:00Z", "kind": "smoke",
        "confidence": 0.7, "bearing_deg": 0.0, "distance_m": 2000.0,
        "image_url": "https://cams.example/cam-1/1.jpg"
    });
    let (status, v) = srv
        .post(
            "/api/v1/sensor-alerts",
            COUNTY_A,
            "application/json",
            alert.to_string(),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(
        (v["events_new"].as_u64(), v["events_updated"].as_u64()),
        (Some(0), Some(1))
    );
    let events = srv.features("/api/v1/events", ADMIN).await;
    assert_eq!(events.len(), 1);
    let p = &events[0]["properties"];
    assert_eq!(p["corroborated"], true);
    assert_eq!(p["kinds"], serde_json::json!(["satellite", "camera"]));
    assert_eq!(
        p["sources"],
        serde_json::json!(["VIIRS/N20", "sensor:cam-1"])
    );
    assert_eq!(
        p["confidence_class"], "h",
        "nominal satellite + 0.7 camera agree"
    );
    assert_eq!(p["max_frp_mw"], 8.0);
    assert_eq!(p["first_seen"], "2024-06-08T18:06:00+00:00");
    assert_eq!(p["last_seen"], "2024-06-08T19:30:00+00:00");
    // The event with its alert.
    let id = p["id"].as_i64().unwrap();
    let (status, one) = srv.get(&format!("/api/v1/events/{id}"), ADMIN).await;
    assert_eq!(status, 200);
    assert_eq!(one["properties"]["alerts"][0]["sensor_id"], "cam-1");
    // The same alert again: stored once.
    let (status, v) = srv
        .post(
            "/api/v1/sensor-alerts",
            ADMIN,
            "application/json",
            alert.to_string(),
        )
        .await;
    assert_eq!((status, v["alerts_duplicate"].as_u64()), (200, Some(1)));
    // A camera alert 5 km away, or 13 h later, is another fire.
    let far = serde_json::json!({"sensor_id": "cam-1", "time": "2024-06-08T19:40:00Z", "kind": "fire",
        "confidence": 0.9, "position": {"lon": 114.355, "lat": 34.818}});
    let late = serde_json::json!({"sensor_id": "cam-1", "time": "2024-06-09T08:00:00Z", "kind": "fire",
        "confidence": 0.9, "bearing_deg": 0.0, "distance_m": 2000.0});
    for a in [far, late] {
        let (status, v) = srv
            .post(
                "/api/v1/sensor-alerts",
                ADMIN,
                "application/json",
                a.to_string(),
            )
            .await;
        assert_eq!((status, v["events_new"].as_u64()), (201, Some(1)), "{v}");
    }
    let events = srv.features("/api/v1/events?source=camera", ADMIN).await;
    assert_eq!(events.len(), 3);
    let corroborated = srv.features("/api/v1/events?source=satellite", ADMIN).await;
    assert_eq!(corroborated.len(), 1);
    srv.stop().await;
}

async fn each_role_sees_its_scope_only(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let csv = firms_csv(&[
        firms_row(35.2, 114.3, "2024-06-08", "1806", "N20", "n", "2.0NRT", 1.0), // 410526100
        firms_row(35.7, 114.3, "2024-06-08", "1806", "N20", "n", "2.0NRT", 2.0), // 410526101
        firms_row(35.7, 117.0, "2024-06-08", "1806", "N20", "n", "2.0NRT", 3.0), // 410527100
    ]);
    assert_eq!(
        srv.post("/api/v1/hotspots", ADMIN, "text/csv", csv.clone())
            .await
            .0,
        201
    );

    let twps = |fs: Vec<serde_json::Value>| -> Vec<String> {
        fs.iter()
            .map(|f| f["properties"]["township"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(srv.features("/api/v1/hotspots", ADMIN).await.len(), 3);
    assert_eq!(
        twps(srv.features("/api/v1/hotspots", COUNTY_A).await),
        ["410526100", "410526101"]
    );
    assert_eq!(
        twps(srv.features("/api/v1/hotspots", COUNTY_B).await),
        ["410527100"]
    );
    assert_eq!(
        twps(srv.features("/api/v1/hotspots", PATROL_A1).await),
        ["410526101"]
    );
    assert_eq!(
        twps(srv.features("/api/v1/events", PATROL_A1).await),
        ["410526101"]
    );
    assert_eq!(
        twps(
            srv.features("/api/v1/events?unit=410526100", COUNTY_A)
                .await
        ),
        ["410526100"]
    );

    // Outside the scope: 403.
    assert_eq!(
        srv.get("/api/v1/hotspots?unit=410527", COUNTY_A).await.0,
        403
    );
    assert_eq!(
        srv.get("/api/v1/events?unit=410526100", PATROL_A1).await.0,
        403
    );
    assert_eq!(srv.get("/api/v1/units/410527", COUNTY_A).await.0, 403);
    assert_eq!(
        srv.post("/api/v1/hotspots", PATROL_A1, "text/csv", csv.clone())
            .await
            .0,
        403
    );
    assert_eq!(
        srv.post("/api/v1/hotspots", COUNTY_A, "text/csv", csv.clone())
            .await
            .0,
        403
    );
    assert_eq!(
        srv.post("/api/v1/scenes", COUNTY_A, "image/tiff", "x")
            .await
            .0,
        403
    );
    let alert = r#"{"sensor_id":"c","time":"2024-06-08T19:30:00Z","kind":"fire","confidence":0.5,"position":{"lon":114.3,"lat":35.2}}"#;
    assert_eq!(
        srv.post(
            "/api/v1/sensor-alerts",
            PATROL_A1,
            "application/json",
            alert
        )
        .await
        .0,
        403
    );
    // Another county's event is not found, not shown.
    let b_event = srv.features("/api/v1/events", COUNTY_B).await[0]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        srv.get(&format!("/api/v1/events/{b_event}"), COUNTY_A)
            .await
            .0,
        404
    );
    assert_eq!(
        srv.get(&format!("/api/v1/events/{b_event}"), COUNTY_B)
            .await
            .0,
        200
    );

    // Units.
    let (status, u) = srv.get("/api/v1/units/410526", COUNTY_A).await;
    assert_eq!(status, 200, "{u}");
    assert_eq!(
        (
            u["level"].as_str(),
            u["hotspots"].as_u64(),
            u["events"].as_u64()
        ),
        (Some("county"), Some(2), Some(2))
    );
    let (status, u) = srv.get("/api/v1/units/410526101", PATROL_A1).await;
    assert_eq!(
        (status, u["level"].as_str(), u["county"].as_str()),
        (200, Some("township"), Some("410526"))
    );

    // No token, a wrong token, a malformed header: 401 naming the header.
    let r = srv
        .client
        .get(srv.url("/api/v1/hotspots"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&r.bytes().await.unwrap()).unwrap()["field"],
        "Authorization"
    );
    assert_eq!(srv.get("/api/v1/hotspots", "not-a-token").await.0, 401);
    let r = srv
        .client
        .get(srv.url("/api/v1/events"))
        .header("authorization", ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // healthz and metrics need none.
    assert_eq!(
        srv.client
            .get(srv.url("/api/v1/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        srv.client
            .get(srv.url("/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    srv.stop().await;
}

async fn bad_input_is_a_4xx_naming_the_problem(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let alert = |body: &str| {
        srv.post(
            "/api/v1/sensor-alerts",
            ADMIN,
            "application/json",
            body.to_string(),
        )
    };
    let (s, v) = alert("{not json").await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = alert(r#"{"sensor_id":"c","time":"2024-06-08T19:30:00Z","confidence":0.5,"position":{"lon":114.3,"lat":35.2}}"#).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap().contains("kind")),
        (400, true),
        "{v}"
    );
    let (s, v) = alert(r#"{"sensor_id":"c","time":"2024-06-08T19:30:00Z","kind":"fire","confidence":"high","position":{"lon":114.3,"lat":35.2}}"#).await;
    assert_eq!((s, v["field"].as_str()), (400, Some("confidence")), "{v}");
    let (s, v) = alert(r#"{"sensor_id":"c","time":"2024-06-08T19:30:00Z","kind":"fire","confidence":1.5,"position":{"lon":114.3,"lat":35.2}}"#).await;
    assert_eq!((s, v["field"].as_str()), (400, Some("confidence")), "{v}");
    let (s, v) = alert(r#"{"sensor_id":"c","time":"2024-06-08T19:30:00Z","kind":"fire","confidence":0.5,"position":{"lon":114.3,"lat":95}}"#).await;
    assert_eq!((s, v["field"].as_str()), (400, Some("position.lat")), "{v}");
    let (s, v) = alert(r#"{"sensor_id":"c","time":"yesterday","kind":"fire","confidence":0.5,"position":{"lon":114.3,"lat":35}}"#).await;
    assert_eq!((s, v["field"].as_str()), (400, Some("time")), "{v}");
    let (s, v) = alert(r#"{"sensor_id":"unknown-cam","time":"2024-06-08T19:30:00Z","kind":"fire","confidence":0.5,"bearing_deg":10,"distance_m":100}"#).await;
    assert_eq!((s, v["field"].as_str()), (400, Some("camera")), "{v}");
    let (s, v) = alert(&format!(r#"{{"sensor_id":"{}"}}"#, "x".repeat(5000))).await;
    assert_eq!((s, v["field"].as_str()), (413, Some("body")), "{v}");

    // CSV: a bad row names its line and field, and nothing of the body is stored.
    let mut rows = vec![firms_row(
        35.2,
        114.3,
        "2024-06-08",
        "1806",
        "N20",
        "n",
        "2.0NRT",
        1.0,
    )];
    rows.push(
        firms_row(35.2, 114.3, "2024-06-08", "1806", "N20", "n", "2.0NRT", 1.0)
            .replacen("35.20000", "north", 1),
    );
    let (s, v) = srv
        .post("/api/v1/hotspots", ADMIN, "text/csv", firms_csv(&rows))
        .await;
    assert_eq!(s, 400, "{v}");
    let msg = v["error"].as_str().unwrap();
    assert!(msg.contains("line 3") && msg.contains("latitude"), "{msg}");
    let (s, v) = srv
        .post("/api/v1/hotspots", ADMIN, "text/csv", "lat,lon\n1,2\n")
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("no `acq_date` column"),
        "{v}"
    );
    let (s, v) = srv
        .post("/api/v1/hotspots", ADMIN, "application/pdf", "x")
        .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("Content-Type")), "{v}");
    let big = firms_csv(&vec![rows[0].clone(); 5000]);
    let (s, v) = srv.post("/api/v1/hotspots", ADMIN, "text/csv", big).await;
    assert_eq!((s, v["field"].as_str()), (413, Some("body")), "{v}");
    // A scene that is not a raster: 422 naming the problem; the service keeps going.
    let (s, v) = srv
        .post(
            "/api/v1/scenes?name=x.tif",
            ADMIN,
            "image/tiff",
            "not a tiff",
        )
        .await;
    assert_eq!(s, 422, "{v}");
    assert!(v["error"].as_str().unwrap().contains("x.tif"), "{v}");
    let (s, v) = srv
        .post("/api/v1/scenes?name=../x.tif", ADMIN, "image/tiff", "x")
        .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("name")), "{v}");
    // Query parameters.
    for (q, field) in [
        ("bbox=1,2,3", "bbox"),
        ("from=soon", "from"),
        ("confidence=maybe", "confidence"),
        ("colour=red", "colour"),
        ("limit=0", "limit"),
    ] {
        let (s, v) = srv.get(&format!("/api/v1/hotspots?{q}"), ADMIN).await;
        assert_eq!((s, v["field"].as_str()), (400, Some(field)), "{q}: {v}");
    }
    assert_eq!(srv.get("/api/v1/events/abc", ADMIN).await.0, 400);
    assert_eq!(srv.get("/api/v1/nothing", ADMIN).await.0, 404);
    let (_, h) = srv.get("/api/v1/healthz", "").await;
    assert_eq!(
        h["counts"]["hotspots"], 0,
        "nothing of the bad bodies was stored"
    );
    srv.stop().await;
}

async fn inbox_scenes_show_up_and_a_corrupt_one_goes_to_failed_with_its_reason(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let inbox = srv.inbox();
    // Files are written elsewhere and renamed in, as a copy job should.
    let corrupt = srv.dir.path().join("broken.tif");
    night_scene(&corrupt, 100, 100, &[]);
    let bytes = std::fs::read(&corrupt).unwrap();
    std::fs::write(&corrupt, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::rename(&corrupt, inbox.join("a-broken.tif")).unwrap();
    let good = srv.dir.path().join("good.tif");
    night_scene(&good, 40, 40, &[(20, 20, 340.0)]);
    std::fs::rename(&good, inbox.join("b-good.tif")).unwrap();

    let reason_path = inbox.join("failed").join("a-broken.tif.reason");
    let reason = eventually(T, "the corrupt scene in failed/", || async {
        std::fs::read_to_string(&reason_path).ok()
    })
    .await;
    assert!(reason.contains("a-broken.tif"), "{reason}");
    // Named as it was dropped into the inbox, not by the job spool's copy (PostgreSQL: a
    // worker read it from `<spool>/<sha256>/a-broken.tif`).
    let spool = srv.dir.path().join("data").join("spool");
    assert!(
        !reason.contains(&*spool.to_string_lossy()) && !reason.contains("spool"),
        "{reason}"
    );
    assert!(inbox.join("failed").join("a-broken.tif").exists());
    let features = eventually(T, "the inbox scene's hotspot in the API", || async {
        let f = srv.features("/api/v1/hotspots?source=scene", ADMIN).await;
        (!f.is_empty()).then_some(f)
    })
    .await;
    assert_eq!(features.len(), 1);
    assert_eq!(features[0]["properties"]["row"], 20);
    eventually(T, "the good scene in done/", || async {
        inbox.join("done").join("b-good.tif").exists().then_some(())
    })
    .await;
    // A feed file after the failure is ingested too: the watcher keeps going.
    std::fs::write(
        srv.dir.path().join("f.csv"),
        firms_csv(&[firms_row(
            35.2,
            114.3,
            "2024-06-08",
            "1806",
            "N20",
            "n",
            "2.0NRT",
            1.0,
        )]),
    )
    .unwrap();
    std::fs::rename(srv.dir.path().join("f.csv"), inbox.join("c-feed.csv")).unwrap();
    eventually(T, "the feed file's hotspot", || async {
        (srv.features("/api/v1/hotspots?source=feed", ADMIN)
            .await
            .len()
            == 1)
            .then_some(())
    })
    .await;
    let metrics = srv.metrics().await;
    assert!(
        metrics.contains("strawfire_errors_total{kind=\"inbox_failed\"} 1"),
        "{metrics}"
    );
    srv.stop().await;
}

/// The real locate step: the sample county and township layers (GCJ-02 files) through the
/// R-tree matcher place a hotspot in 滑县 (410526), and the county token sees it.
async fn hotspots_are_placed_by_the_locate_layers(b: Backend) {
    use strawfire::locate::{gcj02, load_layer, LayerSpec, Locator, MaskSet, UnitLayer};
    let root = env!("CARGO_MANIFEST_DIR");
    let layer = |spec: &str| {
        load_layer(&LayerSpec::parse(&format!("{root}/{spec}")).unwrap(), None).unwrap()
    };
    let counties = layer("samples/admin/henan_hua_counties_gcj02.geojson:level=county:code=adcode:name=name:crs=gcj02");
    let locator = Locator::new(
        vec![UnitLayer::new(counties.level, counties.areas)],
        None,
        MaskSet::new(vec![], vec![]),
    );
    let srv = TestServer::start_on_with(
        b,
        tempfile::tempdir().unwrap(),
        |_| {},
        std::sync::Arc::new(locator),
    )
    .await;
    // The point AMap shows at (114.52, 35.58), in WGS84 as satellites report it.
    let (lon, lat) = gcj02::gcj02_to_wgs84(114.52, 35.58);
    let csv = firms_csv(&[firms_row(
        lat,
        lon,
        "2024-06-08",
        "1806",
        "N20",
        "n",
        "2.0NRT",
        3.0,
    )]);
    assert_eq!(
        srv.post("/api/v1/hotspots", ADMIN, "text/csv", csv).await.0,
        201
    );
    let h = srv.features("/api/v1/hotspots", COUNTY_A).await;
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["properties"]["county"], "410526");
    assert_eq!(
        srv.features("/api/v1/events?unit=410526", ADMIN)
            .await
            .len(),
        1
    );
    assert!(srv.features("/api/v1/hotspots", COUNTY_B).await.is_empty());
    srv.stop().await;
}
