//! Who sees and changes which task: a patrol only its township's (403 on another's), a county
//! its county's, the admin all.

mod common;

use chrono::Duration;
use common::dispatch::*;
use common::server::{ADMIN, COUNTY_A, COUNTY_B, PATROL_A1};
use common::stores::Backend;

on_both_stores!(a_patrol_cannot_see_or_change_another_townships_task,);

async fn a_patrol_cannot_see_or_change_another_townships_task(b: Backend) {
    let (ts, _clock) = clocked_on(b, |_| {}).await;
    let at = t0() - Duration::minutes(10);
    hotspot(&ts, 35.40, 114.30, at).await; // 410526100
    hotspot(&ts, 35.60, 114.30, at).await; // 410526101 (PATROL_A1's)
    hotspot(&ts, 35.60, 117.00, at).await; // county 410527
    let other = task_id_near(&ts, 35.40, 114.30).await;
    let own = task_id_near(&ts, 35.60, 114.30).await;
    let east = task_id_near(&ts, 35.60, 117.00).await;

    let units = |fs: Vec<serde_json::Value>| -> Vec<String> {
        let mut u: Vec<String> = fs
            .iter()
            .map(|f| f["properties"]["unit"].as_str().unwrap().to_string())
            .collect();
        u.sort();
        u
    };
    assert_eq!(units(tasks(&ts, PATROL_A1, "").await), ["410526101"]);
    assert_eq!(
        units(tasks(&ts, COUNTY_A, "?status=open").await),
        ["410526100", "410526101"]
    );
    assert_eq!(units(tasks(&ts, COUNTY_B, "").await), ["410527100"]);
    assert_eq!(tasks(&ts, ADMIN, "").await.len(), 3);
    assert_eq!(
        units(tasks(&ts, ADMIN, "?unit=410526100").await),
        ["410526100"]
    );
    let (status, _) = ts.get("/api/v1/tasks?unit=410526100", PATROL_A1).await;
    assert_eq!(status, 403);

    for path in [
        format!("/api/v1/tasks/{other}"),
        format!("/api/v1/audit?entity=task&id={east}"),
    ] {
        let (status, v) = ts
            .get(
                &path,
                if path.contains("audit") {
                    COUNTY_A
                } else {
                    PATROL_A1
                },
            )
            .await;
        assert_eq!(status, 403, "{path}: {v}");
    }
    let (status, _) = ts.get(&format!("/api/v1/tasks/{other}"), COUNTY_B).await;
    assert_eq!(status, 403);
    assert_eq!(act(&ts, other, "ack", PATROL_A1).await.0, 403);
    assert_eq!(on_site(&ts, other, PATROL_A1, 35.40, 114.30).await.0, 403);
    assert_eq!(act(&ts, other, "close", PATROL_A1).await.0, 403);
    let (status, _) = report(
        &ts,
        other,
        PATROL_A1,
        "burning",
        35.40,
        114.30,
        photo_png(9),
    )
    .await;
    assert_eq!(status, 403);
    // Nothing changed and nothing was stored for the refused calls.
    let (_, t) = ts.get(&format!("/api/v1/tasks/{other}"), ADMIN).await;
    assert!(unacknowledged(&t["properties"]["state"]), "{t}");
    assert_eq!(actions_but_notify(&t), ["create"]);
    assert_eq!(count(&ts, "SELECT COUNT(*) FROM verdicts"), 0);
    assert!(photo_files(&ts).is_empty());

    // Its own task it may acknowledge; the county may act on any task of its county.
    assert_eq!(act(&ts, own, "ack", PATROL_A1).await.0, 200);
    assert_eq!(act(&ts, other, "ack", COUNTY_A).await.0, 200);
    assert_eq!(act(&ts, east, "ack", COUNTY_A).await.0, 403);
    ts.stop().await;
}
