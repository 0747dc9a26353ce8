//! The whole loop on a real server with a moved clock: a hotspot becomes a task of its township,
//! a re-detection updates it, the patrol acknowledges, arrives, reports with a photo, the county
//! closes; every step is in the audit log and refused steps answer 409.

mod common;

use chrono::Duration;
use common::dispatch::*;
use common::server::{ADMIN, COUNTY_A, PATROL_A1};
use common::stores::Backend;

on_both_stores!(
    hotspot_to_closed_task_with_audit,
    a_bad_list_query_names_its_parameter,
);

const LAT: f64 = 35.60;
const LON: f64 = 114.30;

async fn hotspot_to_closed_task_with_audit(b: Backend) {
    let (ts, clock) = clocked_on(b, |_| {}).await;
    hotspot(&ts, LAT, LON, t0() - Duration::minutes(10)).await;

    let open = tasks(&ts, PATROL_A1, "?status=open").await;
    assert_eq!(open.len(), 1, "{open:?}");
    let p = &open[0]["properties"];
    let id = p["id"].as_i64().unwrap();
    assert_eq!(p["unit"], "410526101");
    assert_eq!(p["unit_level"], "township");
    assert_eq!(p["county"], "410526");
    assert!(unacknowledged(&p["state"]), "{p}");
    // The county's first fire of the season: high priority, 5 min to acknowledge.
    assert_eq!(p["priority"], "high");
    assert_eq!(p["created_at"], "2026-06-08T05:00:00Z");
    assert_eq!(p["ack_due"], "2026-06-08T05:05:00Z");
    assert_eq!(p["next_due"], "2026-06-08T05:05:00Z");
    assert_eq!(p["overdue"], false);
    assert_eq!(open[0]["geometry"]["coordinates"][0].as_f64().unwrap(), LON);

    // Seen again 100 m away: the same event and task, and a task_updated notice.
    clock.advance(Duration::minutes(1));
    hotspot(&ts, LAT, LON + 0.001, t0() + Duration::minutes(1)).await;
    let all = tasks(&ts, ADMIN, "").await;
    assert_eq!(all.len(), 1, "a re-detection made a second task: {all:?}");
    assert_eq!(count(&ts, "SELECT COUNT(*) FROM events"), 1);
    assert_eq!(
        count(
            &ts,
            "SELECT COUNT(*) FROM outbox WHERE kind = 'task_updated' AND unit = '410526101'"
        ),
        1
    );
    assert_eq!(
        count(
            &ts,
            "SELECT COUNT(*) FROM outbox WHERE kind = 'task_new' AND unit = '410526101'"
        ),
        1
    );

    // Arriving before acknowledging is refused with the state and the action.
    let (status, v) = on_site(&ts, id, PATROL_A1, LAT, LON).await;
    assert_eq!(status, 409, "{v}");
    assert!(unacknowledged(&v["state"]), "{v}");
    assert_eq!(v["action"], "on_site");

    // The township has no webhook: the delivery worker moves the task to notified when it
    // expands its task_new notice (at the clock's 05:00 or 05:01, whenever its poll came).
    let t = common::server::eventually(
        std::time::Duration::from_secs(20),
        "the task notified by the delivery worker",
        || async {
            let (_, t) = ts.get(&format!("/api/v1/tasks/{id}"), PATROL_A1).await;
            (t["properties"]["state"] == "notified").then_some(t)
        },
    )
    .await;
    let notified_at = t["properties"]["notified_at"].as_str().unwrap();
    assert!(
        ["2026-06-08T05:00:00Z", "2026-06-08T05:01:00Z"].contains(&notified_at),
        "{notified_at}"
    );

    clock.advance(Duration::minutes(2));
    let (status, v) = act(&ts, id, "ack", PATROL_A1).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["properties"]["state"], "acknowledged");
    assert_eq!(v["properties"]["acknowledged_at"], "2026-06-08T05:03:00Z");
    let (status, _) = act(&ts, id, "ack", PATROL_A1).await;
    assert_eq!(status, 409, "a second acknowledgement");

    clock.advance(Duration::minutes(12));
    let (status, v) = on_site(&ts, id, PATROL_A1, LAT + 0.001, LON).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["properties"]["state"], "on_site");
    assert_eq!(v["properties"]["next_due"], "2026-06-08T06:00:00Z");

    clock.advance(Duration::minutes(5));
    let (status, v) = report(&ts, id, PATROL_A1, "burning", LAT, LON, photo_png(1)).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["verdict"]["verdict"], "burning");
    assert_eq!(v["verdict"]["flags"], serde_json::json!([]));
    assert_eq!(v["verdict"]["review"], false);
    assert_eq!(v["task"]["properties"]["state"], "verified");
    assert_eq!(v["task"]["properties"]["verdict"], "burning");
    assert_eq!(photo_files(&ts).len(), 1);
    assert_eq!(
        count(&ts, "SELECT COUNT(*) FROM outbox WHERE kind = 'verdict'"),
        1
    );
    // Verified: no longer open.
    assert!(tasks(&ts, PATROL_A1, "?status=open").await.is_empty());
    assert_eq!(tasks(&ts, PATROL_A1, "?status=verified").await.len(), 1);

    // Patrols do not close; the county does.
    let (status, _) = act(&ts, id, "close", PATROL_A1).await;
    assert_eq!(status, 403);
    clock.advance(Duration::minutes(30));
    let (status, v) = act(&ts, id, "close", COUNTY_A).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["properties"]["state"], "closed");
    assert_eq!(v["properties"]["closed_at"], "2026-06-08T05:50:00Z");
    assert_eq!(v["properties"]["escalations"], serde_json::json!([]));

    // The task with its verdict and audit log.
    let (status, one) = ts.get(&format!("/api/v1/tasks/{id}"), PATROL_A1).await;
    assert_eq!(status, 200, "{one}");
    let p = &one["properties"];
    assert_eq!(p["verdict"]["verdict"], "burning");
    assert!(p["verdict"]["photo_sha256"].as_str().unwrap().len() == 64);
    let actions: Vec<&str> = p["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "create",
            "notify",
            "acknowledge",
            "on_site",
            "verdict",
            "close"
        ]
    );
    let audit = p["audit"].as_array().unwrap();
    assert_eq!(audit[0]["actor"], "system");
    assert_eq!(audit[1]["actor"], "system");
    assert_eq!(audit[2]["role"], "patrol:410526101");
    assert!(audit[2]["actor"].as_str().unwrap().starts_with("token:"));
    assert!(!audit[2]["actor"].as_str().unwrap().contains(PATROL_A1));
    assert_eq!(audit[5]["role"], "county:410526");
    assert_eq!(
        (
            audit[5]["from_state"].as_str(),
            audit[5]["to_state"].as_str()
        ),
        (Some("verified"), Some("closed"))
    );
    assert!(audit[3]["detail"]["distance_m"].as_f64().unwrap() < 200.0);

    // The audit endpoint: the county and the admin; not the patrol.
    let (status, a) = ts
        .get(&format!("/api/v1/audit?entity=task&id={id}"), COUNTY_A)
        .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["entries"].as_array().unwrap().len(), 6);
    let (status, _) = ts
        .get(&format!("/api/v1/audit?entity=task&id={id}"), PATROL_A1)
        .await;
    assert_eq!(status, 403);
    let (status, v) = ts.get("/api/v1/audit?entity=parcel&id=1", ADMIN).await;
    assert_eq!((status, v["field"].as_str()), (400, Some("entity")));

    // Closed is final.
    let (status, v) = act(&ts, id, "ack", ADMIN).await;
    assert_eq!((status, v["state"].as_str()), (409, Some("closed")));
    ts.stop().await;
}

async fn a_bad_list_query_names_its_parameter(b: Backend) {
    let (ts, _clock) = clocked_on(b, |_| {}).await;
    let (status, v) = ts.get("/api/v1/tasks?status=burning", ADMIN).await;
    assert_eq!((status, v["field"].as_str()), (400, Some("status")));
    let (status, v) = ts.get("/api/v1/tasks?colour=red", ADMIN).await;
    assert_eq!((status, v["field"].as_str()), (400, Some("colour")));
    let (status, v) = ts.get("/api/v1/tasks/abc", ADMIN).await;
    assert_eq!((status, v["field"].as_str()), (400, Some("id")));
    let (status, _) = ts.get("/api/v1/tasks/99", ADMIN).await;
    assert_eq!(status, 404);
    let (status, v) = on_site(&ts, 99, ADMIN, 95.0, 114.0).await;
    assert_eq!((status, v["field"].as_str()), (400, Some("lat")), "{v}");
    let (status, v) = on_site(&ts, 99, ADMIN, 35.0, 114.0).await;
    assert_eq!(status, 404, "{v}");
    ts.stop().await;
}
