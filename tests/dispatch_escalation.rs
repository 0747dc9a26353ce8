//! Missed deadlines escalate to the county, once per deadline, by a moved clock (no sleeps):
//! by a sweep the test triggers, and by the service's own background loop.

mod common;

use chrono::Duration;
use common::dispatch::*;
use common::server::{eventually, ADMIN, PATROL_A1};
use common::stores::Backend;

on_both_stores!(
    a_missed_ack_deadline_escalates_once_to_the_county,
    the_background_loop_escalates_by_the_moved_clock,
);

async fn a_missed_ack_deadline_escalates_once_to_the_county(b: Backend) {
    // The background sweep is slowed down to once an hour: this test sweeps by hand.
    let (ts, clock) = clocked_on(b, |c| c.dispatch.escalation_interval_s = 3600.0).await;
    hotspot(&ts, 35.60, 114.30, t0() - Duration::minutes(10)).await;
    let id = task_id_near(&ts, 35.60, 114.30).await;
    let service = ts.running.as_ref().unwrap().service.clone();

    clock.advance(Duration::minutes(4));
    assert!(service.escalate_due().await.unwrap().is_empty());
    clock.advance(Duration::minutes(2)); // 05:06, the 5-minute deadline passed
    let done = service.escalate_due().await.unwrap();
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0].0, id);

    let sql = "SELECT COUNT(*) FROM outbox WHERE kind = 'escalation'";
    assert_eq!(count(&ts, sql), 1);
    let row = texts(
        &ts,
        "SELECT unit, notice FROM outbox WHERE kind = 'escalation'",
    );
    let (unit, notice) = (&row[0], &row[1]);
    assert_eq!(unit, "410526", "escalations go to the county");
    let notice: serde_json::Value = serde_json::from_str(notice).unwrap();
    assert_eq!(notice["deadline"], "acknowledge");
    assert_eq!(notice["task_id"].as_i64(), Some(id));

    let (status, t) = ts.get(&format!("/api/v1/tasks/{id}"), PATROL_A1).await;
    assert_eq!(status, 200);
    assert_eq!(
        t["properties"]["escalations"],
        serde_json::json!(["acknowledge"])
    );
    assert_eq!(t["properties"]["overdue"], true);
    assert!(
        unacknowledged(&t["properties"]["state"]),
        "escalation is not a state: {t}"
    );
    let escalations: Vec<_> = t["properties"]["audit"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "escalate")
        .cloned()
        .collect();
    assert_eq!(escalations.len(), 1);
    assert_eq!(escalations[0]["actor"], "system");
    assert_eq!(escalations[0]["detail"]["to"], "410526");

    // A second sweep adds nothing.
    clock.advance(Duration::minutes(1));
    assert!(service.escalate_due().await.unwrap().is_empty());
    assert_eq!(count(&ts, sql), 1);

    // Acknowledged late: the task goes on; the acknowledge deadline stays escalated once.
    let (status, v) = act(&ts, id, "ack", PATROL_A1).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["properties"]["next_due"], "2026-06-08T05:20:00Z");
    assert_eq!(v["properties"]["overdue"], false);
    ts.stop().await;
}

async fn the_background_loop_escalates_by_the_moved_clock(b: Backend) {
    let (ts, clock) = clocked_on(b, |c| c.dispatch.escalation_interval_s = 0.05).await;
    hotspot(&ts, 35.60, 114.30, t0() - Duration::minutes(10)).await;
    let id = task_id_near(&ts, 35.60, 114.30).await;
    // Nothing is due at 05:00, whatever the loop does meanwhile.
    assert_eq!(
        count(&ts, "SELECT COUNT(*) FROM outbox WHERE kind = 'escalation'"),
        0
    );
    // Past the acknowledge and on-site deadlines (5 and 20 min, high priority), not the verdict's.
    clock.advance(Duration::minutes(21));
    let path = format!("/api/v1/tasks/{id}");
    eventually(
        std::time::Duration::from_secs(10),
        "two escalations",
        || async {
            let (_, t) = ts.get(&path, ADMIN).await;
            (t["properties"]["escalations"] == serde_json::json!(["acknowledge", "on_site"]))
                .then_some(())
        },
    )
    .await;
    assert_eq!(
        count(&ts, "SELECT COUNT(*) FROM outbox WHERE kind = 'escalation'"),
        2
    );
    ts.stop().await;
}
