//! No write outside a token's reach (issue 15, item 2): a sensor alert is located first and
//! refused (403 naming the unit) when it lands outside the county of the token, or outside every
//! unit, or would fuse into an event of another county; a refused alert stores nothing: no alert,
//! no event, no task, no notice, no audit row.

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::dispatch::*;
use common::server::{GridPlacer, TestServer, ADMIN, COUNTY_A, COUNTY_B, PATROL_A1};
use common::stores::Backend;
use strawfire::dispatch::ManualClock;
use strawfire::fuse::{Placement, Placer};

on_both_stores!(
    an_alert_outside_the_tokens_county_is_refused_and_changes_nothing,
    an_alert_in_its_county_that_would_join_a_neighbours_event_is_refused,
);

/// The grid of the other tests, but nothing north of 40° N lies in any unit.
struct GridWithNoMansLand;

impl Placer for GridWithNoMansLand {
    fn place(&self, lon: f64, lat: f64, footprint_m: f64) -> Placement {
        if lat > 40.0 {
            Placement::default()
        } else {
            GridPlacer.place(lon, lat, footprint_m)
        }
    }
}

async fn server(b: Backend) -> TestServer {
    let clock = ManualClock::new(t0());
    TestServer::start_in(
        tempfile::tempdir().unwrap(),
        common::stores::schema_for(b),
        |_| {},
        Arc::new(GridWithNoMansLand),
        Arc::new(clock),
    )
    .await
}

fn alert_at(lon: f64, lat: f64, at: DateTime<Utc>, sensor: &str) -> String {
    serde_json::json!({
        "sensor_id": sensor, "time": at.to_rfc3339(), "kind": "fire", "confidence": 0.9,
        "position": {"lon": lon, "lat": lat}
    })
    .to_string()
}

async fn alert(ts: &TestServer, token: &str, body: String) -> (u16, serde_json::Value) {
    ts.post("/api/v1/sensor-alerts", token, "application/json", body)
        .await
}

/// Row counts of everything an alert can write.
fn footprint(ts: &TestServer) -> [i64; 6] {
    [
        "sensor_alerts",
        "events",
        "tasks",
        "outbox",
        "audit",
        "hotspots",
    ]
    .map(|t| count(ts, &format!("SELECT COUNT(*) FROM {t}")))
}

async fn an_alert_outside_the_tokens_county_is_refused_and_changes_nothing(b: Backend) {
    let ts = server(b).await;
    let at = t0() - Duration::minutes(10);
    // A satellite event in county 410527 (east of 116.5° E), with its task and notice.
    hotspot(&ts, 35.60, 117.00, at).await;
    let before = footprint(&ts);
    let (_, ev) = ts.get("/api/v1/events", ADMIN).await;
    let confidence_before = ev["features"][0]["properties"]["confidence"].clone();

    // County 410526's camera reports a fire right on 410527's event: refused, naming the unit.
    let (status, v) = alert(&ts, COUNTY_A, alert_at(117.0, 35.6, at, "cam-a")).await;
    assert_eq!(status, 403, "{v}");
    assert_eq!(v["unit"], "410527", "{v}");
    assert_eq!(v["field"], "position", "{v}");
    assert!(v["error"].as_str().unwrap().contains("410527"), "{v}");
    // Given as camera position + bearing + distance: the field is the bearing.
    let by_bearing = serde_json::json!({
        "sensor_id": "cam-a", "time": at.to_rfc3339(), "kind": "smoke", "confidence": 0.9,
        "camera": {"lon": 116.49, "lat": 35.6}, "bearing_deg": 90.0, "distance_m": 3000.0
    });
    let (status, v) = alert(&ts, COUNTY_A, by_bearing.to_string()).await;
    assert_eq!(
        (status, v["unit"].as_str(), v["field"].as_str()),
        (403, Some("410527"), Some("bearing_deg")),
        "{v}"
    );
    // Outside every unit: only the admin may write there.
    let (status, v) = alert(&ts, COUNTY_A, alert_at(114.3, 41.0, at, "cam-a")).await;
    assert_eq!(status, 403, "{v}");
    assert!(v["unit"].is_null(), "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("outside every"),
        "{v}"
    );
    // A patrol token posts no alerts at all.
    let (status, _) = alert(&ts, PATROL_A1, alert_at(114.3, 35.6, at, "cam-a")).await;
    assert_eq!(status, 403);

    assert_eq!(footprint(&ts), before, "a refused alert wrote something");
    let (_, ev) = ts.get("/api/v1/events", ADMIN).await;
    assert_eq!(
        ev["features"][0]["properties"]["confidence"],
        confidence_before
    );

    // The county that owns the place may; so may the admin, also outside every unit.
    let (status, v) = alert(&ts, COUNTY_B, alert_at(117.0, 35.6, at, "cam-b")).await;
    assert_eq!(
        (status, v["events_updated"].as_u64()),
        (201, Some(1)),
        "{v}"
    );
    let (status, v) = alert(&ts, COUNTY_A, alert_at(114.3, 35.6, at, "cam-a")).await;
    assert_eq!((status, v["events_new"].as_u64()), (201, Some(1)), "{v}");
    let (status, v) = alert(&ts, ADMIN, alert_at(114.3, 41.0, at, "cam-x")).await;
    assert_eq!((status, v["events_new"].as_u64()), (201, Some(1)), "{v}");
    ts.stop().await;
}

async fn an_alert_in_its_county_that_would_join_a_neighbours_event_is_refused(b: Backend) {
    let ts = server(b).await;
    let at = t0() - Duration::minutes(10);
    // The border is 116.5° E: the event lies just east of it (county 410527) ...
    hotspot(&ts, 35.60, 116.502, at).await;
    let before = footprint(&ts);
    // ... and county 410526's camera sees the same fire from just west of it (~350 m away):
    // placed in 410526, but fusing would raise 410527's event and notify its task.
    let (status, v) = alert(&ts, COUNTY_A, alert_at(116.498, 35.6, at, "cam-a")).await;
    assert_eq!(status, 403, "{v}");
    assert_eq!(v["unit"], "410527", "{v}");
    assert_eq!(footprint(&ts), before, "a refused alert wrote something");
    // The admin's identical alert joins the event.
    let (status, v) = alert(&ts, ADMIN, alert_at(116.498, 35.6, at, "cam-a")).await;
    assert_eq!(
        (status, v["events_updated"].as_u64()),
        (201, Some(1)),
        "{v}"
    );
    ts.stop().await;
}
