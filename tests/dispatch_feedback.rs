//! Feedback from verdicts: a `no_fire_industrial` verdict proposes a mask candidate; once an
//! admin confirms it, later hotspots there are masked and get no task, also after a restart.
//! Repeated `no_fire_other` verdicts at one place propose one too. Precision per source.

mod common;

use chrono::Duration;
use common::dispatch::*;
use common::server::{ADMIN, COUNTY_A, PATROL_A1};
use common::stores::Backend;
use common::tasks::on_store;
use strawfire::store::EventQuery;

on_both_stores!(
    an_industrial_site_becomes_a_mask_that_holds_after_restart,
    repeated_no_fire_other_verdicts_at_one_place_propose_a_mask,
    precision_per_satellite_class_and_camera_within_scope,
);

const LAT: f64 = 35.60;
const LON: f64 = 114.30;

/// The mask label of the newest event, through the server's store.
async fn newest_event_mask(ts: &common::server::TestServer) -> Option<String> {
    let events = on_store(ts, |s| s.events(&EventQuery::default()).unwrap()).await;
    events
        .into_iter()
        .max_by_key(|e| e.event.id)
        .expect("an event")
        .event
        .placement
        .mask
}

async fn an_industrial_site_becomes_a_mask_that_holds_after_restart(b: Backend) {
    let (ts, clock) = clocked_on(b, |_| {}).await;
    hotspot(&ts, LAT, LON, t0() - Duration::minutes(10)).await;
    let id = task_id_near(&ts, LAT, LON).await;
    assert_eq!(act(&ts, id, "ack", PATROL_A1).await.0, 200);
    clock.advance(Duration::minutes(20));
    let (status, v) = report(
        &ts,
        id,
        PATROL_A1,
        "no_fire_industrial",
        LAT,
        LON,
        photo_png(1),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let cand = v["mask_candidate"].as_i64().expect("a candidate");
    let verdict_id = v["verdict"]["id"].as_i64().unwrap();

    let (status, _) = ts.get("/api/v1/mask-candidates", PATROL_A1).await;
    assert_eq!(status, 403);
    let (status, list) = ts
        .get("/api/v1/mask-candidates?status=pending", ADMIN)
        .await;
    assert_eq!(status, 200, "{list}");
    let c = &list["candidates"][0];
    assert_eq!(c["id"].as_i64(), Some(cand));
    assert_eq!(c["reason"], "no_fire_industrial");
    assert_eq!(c["verdicts"], serde_json::json!([verdict_id]));
    assert_eq!(c["radius_m"].as_f64(), Some(500.0));

    // Precision: one nominal VIIRS/N20 detection verified, a false alarm.
    let (status, p) = ts.get("/api/v1/precision", ADMIN).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(
        p["sources"],
        serde_json::json!([{
            "kind": "satellite", "source": "VIIRS/N20", "confidence": "nominal",
            "verdicts": 1, "confirmed": 0, "false_alarms": 1, "precision": 0.0
        }])
    );

    let confirm = format!("/api/v1/mask-candidates/{cand}/confirm");
    assert_eq!(
        ts.post(&confirm, COUNTY_A, "application/json", "{}")
            .await
            .0,
        403
    );
    let (status, c) = ts.post(&confirm, ADMIN, "application/json", "{}").await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["status"], "confirmed");
    let (status, v) = ts.post(&confirm, ADMIN, "application/json", "{}").await;
    assert_eq!((status, v["state"].as_str()), (409, Some("confirmed")));
    let (status, a) = ts
        .get(
            &format!("/api/v1/audit?entity=mask_candidate&id={cand}"),
            ADMIN,
        )
        .await;
    assert_eq!(status, 200);
    let actions: Vec<&str> = a["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["propose", "confirm"]);

    // 13 h later (outside the fuse window: a new event) the chimney is seen again: masked.
    clock.advance(Duration::hours(13));
    hotspot(&ts, LAT + 0.001, LON, t0() + Duration::hours(13)).await;
    assert_eq!(count(&ts, "SELECT COUNT(*) FROM events"), 2);
    let mask = newest_event_mask(&ts)
        .await
        .expect("the new event is masked");
    assert!(
        mask.starts_with(&format!("confirmed false alarm: candidate {cand}")),
        "{mask}"
    );
    assert_eq!(
        tasks(&ts, ADMIN, "").await.len(),
        1,
        "a masked event got a task"
    );

    // After a restart the confirmed site still masks; a fire elsewhere still gets its task.
    let ts = restart(ts, &clock, |_| {}).await;
    clock.advance(Duration::hours(13));
    hotspot(&ts, LAT, LON + 0.001, t0() + Duration::hours(26)).await;
    assert_eq!(count(&ts, "SELECT COUNT(*) FROM events"), 3);
    assert!(newest_event_mask(&ts).await.is_some());
    hotspot(&ts, 35.70, 114.20, t0() + Duration::hours(26)).await;
    assert!(newest_event_mask(&ts).await.is_none());
    assert_eq!(tasks(&ts, ADMIN, "").await.len(), 2);
    ts.stop().await;
}

async fn repeated_no_fire_other_verdicts_at_one_place_propose_a_mask(b: Backend) {
    let (ts, clock) = clocked_on(b, |_| {}).await;
    hotspot(&ts, LAT, LON, t0() - Duration::minutes(10)).await;
    let first = task_id_near(&ts, LAT, LON).await;
    assert_eq!(act(&ts, first, "ack", PATROL_A1).await.0, 200);
    let (status, v) = report(
        &ts,
        first,
        PATROL_A1,
        "no_fire_other",
        LAT,
        LON,
        photo_png(1),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert!(
        v["mask_candidate"].is_null(),
        "one verdict is not a pattern: {v}"
    );

    // The next day, 200 m away: a new event and task, the same false alarm.
    clock.advance(Duration::hours(24));
    hotspot(&ts, LAT + 0.0018, LON, t0() + Duration::hours(24)).await;
    let open = tasks(&ts, PATROL_A1, "?status=open").await;
    assert_eq!(open.len(), 1, "{open:?}");
    let second = open[0]["properties"]["id"].as_i64().unwrap();
    assert_ne!(first, second);
    assert_eq!(act(&ts, second, "ack", PATROL_A1).await.0, 200);
    let (status, v) = report(
        &ts,
        second,
        PATROL_A1,
        "no_fire_other",
        LAT + 0.0018,
        LON,
        photo_png(2),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let cand = v["mask_candidate"].as_i64().expect("a candidate after two");
    let (_, list) = ts.get("/api/v1/mask-candidates", ADMIN).await;
    assert_eq!(list["candidates"].as_array().unwrap().len(), 1);
    assert_eq!(list["candidates"][0]["id"].as_i64(), Some(cand));
    assert_eq!(list["candidates"][0]["reason"], "repeated no_fire_other");
    assert_eq!(
        list["candidates"][0]["verdicts"].as_array().unwrap().len(),
        2
    );
    // Rejected: it masks nothing.
    let (status, c) = ts
        .post(
            &format!("/api/v1/mask-candidates/{cand}/reject"),
            ADMIN,
            "application/json",
            "",
        )
        .await;
    assert_eq!((status, c["status"].as_str()), (200, Some("rejected")));
    clock.advance(Duration::hours(24));
    hotspot(&ts, LAT, LON, t0() + Duration::hours(48)).await;
    assert!(newest_event_mask(&ts).await.is_none());
    assert_eq!(tasks(&ts, ADMIN, "").await.len(), 3);
    ts.stop().await;
}

async fn precision_per_satellite_class_and_camera_within_scope(b: Backend) {
    let (ts, clock) = clocked_on(b, |_| {}).await;
    // Township 410526100: a satellite hotspot and a camera alert of the same fire.
    let (lat, lon) = (35.40, 114.30);
    hotspot(&ts, lat, lon, t0() - Duration::minutes(10)).await;
    let alert = serde_json::json!({
        "sensor_id": "cam-1", "time": "2026-06-08T04:55:00Z", "kind": "smoke",
        "confidence": 0.8, "position": {"lon": lon, "lat": lat}
    });
    let (status, v) = ts
        .post(
            "/api/v1/sensor-alerts",
            COUNTY_A,
            "application/json",
            alert.to_string(),
        )
        .await;
    assert!(status == 200 || status == 201, "{status} {v}");
    assert_eq!(count(&ts, "SELECT COUNT(*) FROM events"), 1);
    let id = task_id_near(&ts, lat, lon).await;
    assert_eq!(tasks(&ts, ADMIN, "").await.len(), 1);
    // The county records for its patrol.
    assert_eq!(act(&ts, id, "ack", COUNTY_A).await.0, 200);
    clock.advance(Duration::minutes(12));
    let (status, v) = report(&ts, id, COUNTY_A, "burning", lat, lon, photo_png(21)).await;
    assert_eq!(status, 201, "{v}");

    let (status, p) = ts.get("/api/v1/precision", COUNTY_A).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(
        p["sources"],
        serde_json::json!([
            {"kind": "camera", "source": "cam-1", "confidence": null,
             "verdicts": 1, "confirmed": 1, "false_alarms": 0, "precision": 1.0},
            {"kind": "satellite", "source": "VIIRS/N20", "confidence": "nominal",
             "verdicts": 1, "confirmed": 1, "false_alarms": 0, "precision": 1.0}
        ])
    );
    // Another county's token sees none of it; a patrol of another township neither.
    let (_, p) = ts.get("/api/v1/precision", common::server::COUNTY_B).await;
    assert_eq!(p["sources"], serde_json::json!([]));
    let (_, p) = ts.get("/api/v1/precision", PATROL_A1).await;
    assert_eq!(p["sources"], serde_json::json!([]));
    let (status, v) = ts.get("/api/v1/precision?from=2026-06-01", ADMIN).await;
    assert_eq!((status, v["field"].as_str()), (400, Some("from")));
    ts.stop().await;
}
