//! Issue 17: every event says what became of it (its task, or why it has none) and the events
//! list filters by that; the command center creates a task for a task-less event, reassigns
//! and cancels tasks (county or admin, audited with the reason); the review of a verdict (its
//! photo by a scoped GET, `review=true`, send back, close, reopen). A real server on port 0 with
//! a real SQLite file; every refusal is checked for its status and the field it names.

mod common;

use chrono::Duration;
use common::dispatch::{act, clocked_on, column, count, photo_png, report, t0};
use common::stores::Backend;

on_both_stores!(
    every_event_says_what_became_of_it_and_the_list_filters_by_it,
    the_command_center_creates_reassigns_and_cancels_tasks_with_reasons,
    a_verdict_is_reviewed_with_its_photo_sent_back_closed_and_reopened,
    a_move_on_an_old_picture_of_the_task_is_refused_and_escalations_are_live,
    off_parcel_fires_are_dispatched_when_the_policy_says_so,
);
use common::server::*;

/// One FIRMS row at `at` with a confidence class (`n` nominal 0.6, `h` high).
async fn fire(
    ts: &TestServer,
    lat: f64,
    lon: f64,
    at: chrono::DateTime<chrono::Utc>,
    conf: &str,
) -> i64 {
    let row = firms_row(
        lat,
        lon,
        &at.format("%Y-%m-%d").to_string(),
        &at.format("%H%M").to_string(),
        "N20",
        conf,
        "2.0NRT",
        3.0,
    );
    let (status, v) = ts
        .post("/api/v1/hotspots", ADMIN, "text/csv", firms_csv(&[row]))
        .await;
    assert_eq!(status, 201, "{v}");
    v["report"]["event_ids"][0].as_i64().unwrap()
}

async fn post_json(
    ts: &TestServer,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    ts.post(path, token, "application/json", body.to_string())
        .await
}

fn ids(fc: &[serde_json::Value]) -> Vec<i64> {
    let mut v: Vec<i64> = fc
        .iter()
        .map(|f| f["properties"]["id"].as_i64().unwrap())
        .collect();
    v.sort_unstable();
    v
}

/// Three events: dispatched (high confidence, fresh), too old, and below `min_confidence`.
async fn three_events(ts: &TestServer) -> (i64, i64, i64) {
    let tasked = fire(ts, 35.8, 114.2, t0() - Duration::minutes(10), "h").await;
    let old = fire(ts, 35.9, 114.4, t0() - Duration::hours(7), "h").await;
    let weak = fire(ts, 36.0, 114.6, t0() - Duration::minutes(10), "n").await;
    (tasked, old, weak)
}

async fn every_event_says_what_became_of_it_and_the_list_filters_by_it(b: Backend) {
    let (ts, _clock) = clocked_on(b, |c| c.dispatch.min_confidence = 0.7).await;
    let (tasked, old, weak) = three_events(&ts).await;
    let task: i64 = count(&ts, "SELECT id FROM tasks");

    let all = ts.features("/api/v1/events", ADMIN).await;
    let by_id = |id: i64| {
        all.iter()
            .find(|f| f["properties"]["id"] == id)
            .unwrap_or_else(|| panic!("no event {id}"))["properties"]
            .clone()
    };
    let p = by_id(tasked);
    // `new`, or `notified` once the delivery worker has passed (no webhooks configured).
    assert!(
        ["new", "notified"].contains(&p["task_state"].as_str().unwrap()),
        "{p}"
    );
    assert!(p["task_id"].as_i64().is_some());
    assert!(p["task_reason"].is_null());
    let p = by_id(old);
    assert_eq!(p["task_reason"], "too_old");
    assert!(p["task_id"].is_null() && p["task_state"].is_null());
    assert_eq!(by_id(weak)["task_reason"], "low_confidence");

    for (filter, want) in [
        ("any", vec![tasked]),
        ("none", vec![old, weak]),
        ("open", vec![tasked]),
        ("verified", vec![]),
        ("too_old", vec![old]),
        ("low_confidence", vec![weak]),
        ("masked", vec![]),
    ] {
        let got = ts
            .features(&format!("/api/v1/events?task={filter}"), ADMIN)
            .await;
        assert_eq!(ids(&got), want, "task={filter}");
    }
    assert_eq!(act(&ts, task, "ack", PATROL_A1).await.0, 200);
    let got = ts.features("/api/v1/events?task=acknowledged", ADMIN).await;
    assert_eq!(ids(&got), vec![tasked]);
    // Pages of a filtered list: one event a page, every one once.
    let (status, page) = ts.get("/api/v1/events?task=none&limit=1", COUNTY_A).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["features"].as_array().unwrap().len(), 1);
    let next = page["next"].as_str().expect("a next cursor").to_string();
    let (_, page2) = ts
        .get(
            &format!("/api/v1/events?task=none&limit=1&cursor={next}"),
            COUNTY_A,
        )
        .await;
    assert_eq!(page2["features"].as_array().unwrap().len(), 1);
    assert_ne!(page["features"][0]["id"], page2["features"][0]["id"]);

    // Newest first (the dashboard's list): first seen descending, page by page.
    let mut walked = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = ts
            .get(
                &format!("/api/v1/events?order=newest&limit=2{cursor}"),
                ADMIN,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        for f in page["features"].as_array().unwrap() {
            walked.push(f["properties"]["id"].as_i64().unwrap());
        }
        match page["next"].as_str() {
            Some(n) => cursor = format!("&cursor={n}"),
            None => break,
        }
    }
    // Seen 10 min ago (tasked, weak, in that order of posting) before the 7 h old one.
    assert_eq!(walked, vec![weak, tasked, old]);
    // A cursor of one order is refused in the other, naming it.
    let (_, p) = ts.get("/api/v1/events?limit=1", ADMIN).await;
    let (status, v) = ts
        .get(
            &format!(
                "/api/v1/events?order=newest&cursor={}",
                p["next"].as_str().unwrap()
            ),
            ADMIN,
        )
        .await;
    assert_eq!((status, v["field"].as_str()), (400, Some("cursor")), "{v}");
    let (status, v) = ts.get("/api/v1/events?order=latest", ADMIN).await;
    assert_eq!((status, v["field"].as_str()), (400, Some("order")), "{v}");

    let (status, v) = ts.get("/api/v1/events?task=burning", ADMIN).await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["field"], "task", "{v}");
    assert!(v["error"].as_str().unwrap().contains("too_old"), "{v}");
    ts.stop().await;
}

async fn the_command_center_creates_reassigns_and_cancels_tasks_with_reasons(b: Backend) {
    let (ts, clock) = clocked_on(b, |c| c.dispatch.min_confidence = 0.7).await;
    let (tasked, old, weak) = three_events(&ts).await;
    let create = |id: i64| format!("/api/v1/events/{id}/task");
    let reason = serde_json::json!({"reason": "群众举报，现场有烟"});

    // Refusals first: nothing is created by any of them.
    for (token, body, status, field) in [
        (PATROL_A1, reason.clone(), 403, None),
        (COUNTY_B, reason.clone(), 404, None),
        (COUNTY_A, serde_json::json!({}), 400, Some("reason")),
        (
            COUNTY_A,
            serde_json::json!({"reason": "  "}),
            400,
            Some("reason"),
        ),
        (
            COUNTY_A,
            serde_json::json!({"reason": "x", "priority": "high"}),
            400,
            Some("priority"),
        ),
        (
            COUNTY_A,
            serde_json::json!({"reason": "x", "unit": "41052A"}),
            400,
            Some("unit"),
        ),
        // A township of another county.
        (
            COUNTY_A,
            serde_json::json!({"reason": "x", "unit": "410527100"}),
            403,
            None,
        ),
        // Not a township code.
        (
            ADMIN,
            serde_json::json!({"reason": "x", "unit": "4105"}),
            422,
            Some("unit"),
        ),
    ] {
        let (s, v) = post_json(&ts, &create(old), token, body.clone()).await;
        assert_eq!(s, status, "{body} as {token}: {v}");
        if let Some(f) = field {
            assert_eq!(v["field"], f, "{body}: {v}");
        }
    }
    let (s, v) = ts
        .post(&create(old), COUNTY_A, "application/json", "not json")
        .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("body")), "{v}");
    assert_eq!(count(&ts, "SELECT COUNT(*) FROM tasks"), 1);

    // The county dispatches the old event by hand, to the event's township.
    clock.advance(Duration::minutes(1));
    let (s, v) = post_json(&ts, &create(old), COUNTY_A, reason.clone()).await;
    assert_eq!(s, 201, "{v}");
    let manual = v["properties"]["id"].as_i64().unwrap();
    assert_eq!(v["properties"]["state"], "new");
    assert_eq!(v["properties"]["unit"], "410526101");
    assert_eq!(v["properties"]["event_id"], old);
    // ... and the weak one to another township of its county.
    let (s, v) = post_json(
        &ts,
        &create(weak),
        ADMIN,
        serde_json::json!({"reason": "复核", "unit": "410526100"}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["properties"]["unit"], "410526100");
    assert_eq!(v["properties"]["county"], "410526");
    // An event with a task: 409 naming its state.
    let (s, v) = post_json(&ts, &create(tasked), COUNTY_A, reason.clone()).await;
    assert_eq!(s, 409, "{v}");
    assert!(v["state"].is_string(), "{v}");
    let (s, v) = post_json(&ts, &create(999_999), ADMIN, reason.clone()).await;
    assert_eq!(s, 404, "{v}");

    // The event now shows its task, and the reason it had none is in the audit.
    let (_, e) = ts.get(&format!("/api/v1/events/{old}"), ADMIN).await;
    assert_eq!(e["properties"]["task_id"], manual);
    assert!(e["properties"]["task_reason"].is_null());
    let (_, a) = ts
        .get(&format!("/api/v1/audit?entity=task&id={manual}"), COUNTY_A)
        .await;
    let first = &a["entries"][0];
    assert_eq!(first["action"], "create");
    assert_eq!(first["role"], "county:410526");
    assert!(first["actor"].as_str().unwrap().starts_with("token:"));
    assert_eq!(first["detail"]["reason"], "群众举报，现场有烟");
    assert_eq!(first["detail"]["dispatch_reason"], "too_old");
    assert_eq!(first["detail"]["manual"], true);
    assert_eq!(first["at"], (t0() + Duration::minutes(1)).to_rfc3339());

    // Reassign: scope-checked against the caller's county, then the task starts again.
    let reassign = format!("/api/v1/tasks/{manual}/reassign");
    assert_eq!(act(&ts, manual, "ack", PATROL_A1).await.0, 200);
    for (token, body, status, field) in [
        (
            PATROL_A1,
            serde_json::json!({"unit": "410526100", "reason": "x"}),
            403,
            None,
        ),
        (
            COUNTY_B,
            serde_json::json!({"unit": "410527100", "reason": "x"}),
            403,
            None,
        ),
        (
            COUNTY_A,
            serde_json::json!({"unit": "410527100", "reason": "x"}),
            403,
            None,
        ),
        (
            COUNTY_A,
            serde_json::json!({"reason": "x"}),
            400,
            Some("unit"),
        ),
        (
            COUNTY_A,
            serde_json::json!({"unit": "410526100"}),
            400,
            Some("reason"),
        ),
        (
            COUNTY_A,
            serde_json::json!({"unit": 410526100, "reason": "x"}),
            400,
            Some("unit"),
        ),
    ] {
        let (s, v) = post_json(&ts, &reassign, token, body.clone()).await;
        assert_eq!(s, status, "{body} as {token}: {v}");
        if let Some(f) = field {
            assert_eq!(v["field"], f, "{body}: {v}");
        }
    }
    let (s, v) = post_json(
        &ts,
        &reassign,
        COUNTY_A,
        serde_json::json!({"unit": "410526100", "reason": "该地块属邻乡管辖"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let p = &v["properties"];
    assert_eq!(
        (p["unit"].as_str(), p["state"].as_str()),
        (Some("410526100"), Some("new"))
    );
    assert!(p["acknowledged_at"].is_null(), "{p}");
    // The new township is told; the old patrol no longer sees it.
    assert_eq!(
        count(
            &ts,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE task_id = {manual} AND kind = 'task_new'
                 AND unit = '410526100'"
            )
        ),
        1
    );
    let (s, _) = ts.get(&format!("/api/v1/tasks/{manual}"), PATROL_A1).await;
    assert_eq!(s, 403);
    // To the township that holds it: 422 saying so (not the state machine's 409), nothing
    // changes.
    let (s, v) = post_json(
        &ts,
        &reassign,
        ADMIN,
        serde_json::json!({"unit": "410526100", "reason": "x"}),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(
        (v["code"].as_str(), v["field"].as_str(), v["unit"].as_str()),
        (Some("same_unit"), Some("unit"), Some("410526100")),
        "{v}"
    );
    assert_eq!(
        v["message_zh"],
        format!("任务 #{manual} 已是“410526100”的任务，无需改派：请选择其他乡镇或县"),
        "{v}"
    );
    assert!(
        v["error"].as_str().unwrap().contains(&format!(
            "task {manual} is already the task of unit 410526100"
        )),
        "{v}"
    );
    assert_eq!(
        count(
            &ts,
            &format!(
                "SELECT COUNT(*) FROM audit WHERE entity = 'task' AND entity_id = {manual}
                 AND action = 'reassign'"
            )
        ),
        1
    );

    // Cancel: a reason is required; the patrol may not; a cancelled task is final.
    let cancel = format!("/api/v1/tasks/{manual}/cancel");
    let (s, v) = post_json(&ts, &cancel, COUNTY_A, serde_json::json!({})).await;
    assert_eq!((s, v["field"].as_str()), (400, Some("reason")), "{v}");
    let (s, _) = post_json(&ts, &cancel, PATROL_A1, serde_json::json!({"reason": "x"})).await;
    assert_eq!(s, 403);
    let (s, _) = post_json(&ts, &cancel, COUNTY_B, serde_json::json!({"reason": "x"})).await;
    assert_eq!(s, 403);
    let (s, v) = post_json(
        &ts,
        &cancel,
        COUNTY_A,
        serde_json::json!({"reason": "重复上报，与任务合并"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["properties"]["state"], "cancelled");
    assert!(v["properties"]["cancelled_at"].is_string());
    let (s, v) = post_json(&ts, &cancel, COUNTY_A, serde_json::json!({"reason": "x"})).await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(
        (v["state"].as_str(), v["action"].as_str()),
        (Some("cancelled"), Some("cancel"))
    );
    // Not open, not escalated, and the event says so.
    let open = ts.features("/api/v1/tasks?status=open", ADMIN).await;
    assert!(!ids(&open).contains(&manual));
    let got = ts.features("/api/v1/events?task=cancelled", ADMIN).await;
    assert_eq!(ids(&got), vec![old]);
    let actions: Vec<(String, String)> = column(
        &ts,
        &format!(
            "SELECT detail FROM audit WHERE entity = 'task' AND entity_id = {manual}
               AND action IN ('reassign', 'cancel') ORDER BY id"
        ),
    )
    .into_iter()
    .zip(column(
        &ts,
        &format!(
            "SELECT action FROM audit WHERE entity = 'task' AND entity_id = {manual}
               AND action IN ('reassign', 'cancel') ORDER BY id"
        ),
    ))
    .map(|(detail, action)| {
        let d: serde_json::Value = serde_json::from_str(&detail).unwrap();
        (action, d["reason"].as_str().unwrap().to_string())
    })
    .collect();
    assert_eq!(
        actions,
        vec![
            ("reassign".to_string(), "该地块属邻乡管辖".to_string()),
            ("cancel".to_string(), "重复上报，与任务合并".to_string())
        ]
    );
    ts.stop().await;
}

async fn a_verdict_is_reviewed_with_its_photo_sent_back_closed_and_reopened(b: Backend) {
    let (ts, clock) = clocked_on(b, |_| {}).await;
    let (lat, lon) = (35.8, 114.2);
    fire(&ts, lat, lon, t0() - Duration::minutes(10), "h").await;
    let id: i64 = count(&ts, "SELECT id FROM tasks");
    let photo_path = format!("/api/v1/tasks/{id}/photo");
    // No verdict yet: no photo.
    let (s, v) = ts.get(&photo_path, ADMIN).await;
    assert_eq!(s, 404, "{v}");

    assert_eq!(act(&ts, id, "ack", PATROL_A1).await.0, 200);
    clock.advance(Duration::minutes(20));
    // Reported 3 km from the fire: flagged for review.
    let photo = photo_png(17);
    let (s, v) = report(
        &ts,
        id,
        PATROL_A1,
        "no_fire_other",
        lat + 0.027,
        lon,
        photo.clone(),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["review"], true, "{v}");

    let flagged = ts.features("/api/v1/tasks?review=true", COUNTY_A).await;
    assert_eq!(ids(&flagged), vec![id]);
    assert!(ts
        .features("/api/v1/tasks?review=false", COUNTY_A)
        .await
        .is_empty());
    let (s, v) = ts.get("/api/v1/tasks?review=maybe", ADMIN).await;
    assert_eq!((s, v["field"].as_str()), (400, Some("review")), "{v}");
    // The review view's facts: note, distance, times, flags with their reasons.
    let (_, t) = ts.get(&format!("/api/v1/tasks/{id}"), COUNTY_A).await;
    let verdict = &t["properties"]["verdict"];
    assert!(
        verdict["distance_m"].as_f64().unwrap() > 2500.0,
        "{verdict}"
    );
    assert_eq!(verdict["flags"][0]["flag"], "far_from_event", "{verdict}");
    assert!(verdict["flags"][0]["reason"].is_string());

    // The photo: its county, the admin and the patrol get the bytes; another county does not.
    for token in [ADMIN, COUNTY_A, PATROL_A1] {
        let r = ts
            .client
            .get(ts.url(&photo_path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{token}");
        assert_eq!(r.headers()["content-type"], "image/png");
        assert!(r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("private"));
        assert_eq!(r.bytes().await.unwrap().to_vec(), photo, "{token}");
    }
    let (s, v) = ts.get(&photo_path, COUNTY_B).await;
    assert_eq!(s, 403, "{v}");
    let r = ts.client.get(ts.url(&photo_path)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let (s, v) = ts.get("/api/v1/tasks/x/photo", ADMIN).await;
    assert_eq!((s, v["field"].as_str()), (400, Some("id")), "{v}");

    // Send back: only a verified task, with a reason, not by the patrol.
    let back = format!("/api/v1/tasks/{id}/send-back");
    let (s, _) = post_json(&ts, &back, PATROL_A1, serde_json::json!({"reason": "x"})).await;
    assert_eq!(s, 403);
    let (s, v) = post_json(&ts, &back, COUNTY_A, serde_json::json!({"reason": ""})).await;
    assert_eq!((s, v["field"].as_str()), (400, Some("reason")), "{v}");
    clock.advance(Duration::minutes(5));
    let (s, v) = post_json(
        &ts,
        &back,
        COUNTY_A,
        serde_json::json!({"reason": "位置与火点相距过远，请到现场重新核查"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let p = &v["properties"];
    assert_eq!(p["state"], "acknowledged");
    assert!(p["verdict"].is_null() && p["verified_at"].is_null(), "{p}");
    // A new verdict deadline from now (2 h: a high-confidence fire has 1 h).
    assert_eq!(
        p["verdict_due"],
        (t0() + Duration::minutes(25) + Duration::minutes(60))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    // The returned verdict is kept whole with who and why; its photo file stays.
    assert_eq!(count(&ts, "SELECT COUNT(*) FROM verdicts"), 0);
    assert_eq!(
        count(
            &ts,
            "SELECT COUNT(*) FROM returned_verdicts WHERE return_reason LIKE '位置%' AND returned_by LIKE 'token:%'"
        ),
        1
    );
    let (s, _) = ts.get(&photo_path, ADMIN).await;
    assert_eq!(s, 404);
    let (s, v) = post_json(&ts, &back, COUNTY_A, serde_json::json!({"reason": "x"})).await;
    assert_eq!(s, 409, "{v}");

    // The patrol reports again, on the spot; the county closes, reopens, closes.
    let (s, v) = report(&ts, id, PATROL_A1, "burned_scar", lat, lon, photo_png(18)).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["review"], false, "{v}");
    let reopen = format!("/api/v1/tasks/{id}/reopen");
    let (s, v) = post_json(&ts, &reopen, COUNTY_A, serde_json::json!({"reason": "x"})).await;
    assert_eq!((s, v["state"].as_str()), (409, Some("verified")), "{v}");
    assert_eq!(act(&ts, id, "close", COUNTY_A).await.0, 200);
    let (s, _) = post_json(&ts, &reopen, PATROL_A1, serde_json::json!({"reason": "x"})).await;
    assert_eq!(s, 403);
    let (s, v) = post_json(
        &ts,
        &reopen,
        COUNTY_A,
        serde_json::json!({"reason": "领导要求复查照片"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["properties"]["state"], "verified");
    assert!(v["properties"]["closed_at"].is_null());
    assert_eq!(act(&ts, id, "close", ADMIN).await.0, 200);
    let actions: Vec<String> = column(
        &ts,
        &format!("SELECT action FROM audit WHERE entity = 'task' AND entity_id = {id} ORDER BY id"),
    );
    assert_eq!(
        actions,
        [
            "create",
            "acknowledge",
            "verdict",
            "send_back",
            "verdict",
            "close",
            "reopen",
            "close"
        ]
    );
    ts.stop().await;
}

/// `[dispatch] off_parcel = "dispatch"`: with the sample parcel layer loaded, a fire in a
/// township of 滑县 without parcels gets a task like any other (by default it gets none,
/// `not_on_farmland`: `tests/dashboard_ops_browser.rs`).
async fn off_parcel_fires_are_dispatched_when_the_policy_says_so(b: Backend) {
    use geo::InteriorPoint;
    use strawfire::dispatch::rules::OffParcel;
    use strawfire::locate::Level;
    let locator = common::layers::sample_locator();
    let parcels = locator.parcel_layer().unwrap();
    let with_parcels: std::collections::BTreeSet<&str> = parcels
        .units
        .iter()
        .filter_map(|u| u.parent.as_deref())
        .collect();
    let townships = locator
        .admin_layers()
        .iter()
        .find(|l| l.level == Level::Township)
        .unwrap();
    let bare = (0..townships.units.len())
        .find(|&i| {
            let u = &townships.units[i];
            u.parent.as_deref() == Some("410526") && !with_parcels.contains(u.code.as_str())
        })
        .expect("a township of 滑县 without sample parcels");
    let p = townships.index.shape(bare).interior_point().unwrap();
    for (policy, task) in [(OffParcel::Skip, false), (OffParcel::Dispatch, true)] {
        let srv = TestServer::start_on_with(
            b,
            tempfile::tempdir().unwrap(),
            |c| c.dispatch.off_parcel = policy,
            locator.clone(),
        )
        .await;
        let csv = recent_firms_csv(&[(p.y(), p.x(), 0, "h")], 9.5);
        let (s, v) = srv.post("/api/v1/hotspots", ADMIN, "text/csv", csv).await;
        assert_eq!(s, 201, "{v}");
        let ev = srv.features("/api/v1/events", ADMIN).await;
        assert_eq!(ev.len(), 1);
        let props = &ev[0]["properties"];
        assert_eq!(props["parcel"], serde_json::Value::Null, "{props}");
        if task {
            assert!(props["task_id"].is_i64(), "{policy:?}: {props}");
            assert!(props["task_reason"].is_null(), "{props}");
        } else {
            assert!(props["task_id"].is_null(), "{policy:?}: {props}");
            assert_eq!(props["task_reason"], "not_on_farmland", "{props}");
        }
        srv.stop().await;
    }
}

/// A move made on an old picture of the task is refused (409 `stale`, in Chinese too) and the
/// escalation sweep's change reaches open pages as a live update of the task, so the command
/// center's panel can show it before anyone acts on it.
async fn a_move_on_an_old_picture_of_the_task_is_refused_and_escalations_are_live(b: Backend) {
    let (ts, clock) = clocked_on(b, |c| c.dispatch.escalation_interval_s = 3600.0).await;
    fire(&ts, 35.8, 114.2, t0() - Duration::minutes(1), "h").await;
    let task: i64 = count(&ts, "SELECT id FROM tasks");
    let seen = |v: &serde_json::Value| v["properties"]["version"].as_str().unwrap().to_string();
    let path = format!("/api/v1/tasks/{task}");
    let (_, before) = ts.get(&path, COUNTY_A).await;
    let old = seen(&before);
    assert_eq!(old.len(), 16, "{before}");

    // The patrol acknowledges it meanwhile: the county's cancel on the old picture is refused.
    assert_eq!(act(&ts, task, "ack", PATROL_A1).await.0, 200);
    let (_, now) = ts.get(&path, COUNTY_A).await;
    assert_ne!(seen(&now), old, "the version follows the change");
    let cancel = |expect: &str| serde_json::json!({"reason": "重复上报", "expect": expect});
    let (status, v) = post_json(&ts, &format!("{path}/cancel"), COUNTY_A, cancel(&old)).await;
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["code"], "stale", "{v}");
    assert_eq!(v["state"], "acknowledged", "{v}");
    assert_eq!(v["version"], seen(&now).as_str(), "{v}");
    assert_eq!(
        v["message_zh"],
        format!("任务 #{task} 已被他人更改，现为“已接收”：请按最新状态重新操作"),
        "{v}"
    );
    let (_, after) = ts.get(&path, COUNTY_A).await;
    assert_eq!(after["properties"]["state"], "acknowledged", "nothing done");
    // A reassignment on the old picture likewise; a bad `expect` names the field.
    let (status, v) = post_json(
        &ts,
        &format!("{path}/reassign"),
        COUNTY_A,
        serde_json::json!({"unit": "410526100", "reason": "邻乡", "expect": old}),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (409, Some("stale")), "{v}");
    let (status, v) = post_json(
        &ts,
        &format!("{path}/cancel"),
        COUNTY_A,
        serde_json::json!({"reason": "x", "expect": 7}),
    )
    .await;
    assert_eq!((status, v["field"].as_str()), (400, Some("expect")), "{v}");

    // The escalation sweep changes the task: open streams hear of it, and the version moves.
    let mut stream = common::sse::SseReader::open(&ts, COUNTY_A, true).await;
    stream.expect("hello").await;
    let (_, fresh) = ts.get(&path, COUNTY_A).await;
    clock.advance(Duration::hours(3));
    let service = ts.running.as_ref().unwrap().service.clone();
    assert!(!service.escalate_due().await.unwrap().is_empty());
    let live = stream.expect("task").await;
    assert_eq!(live["id"], task, "{live}");
    let (_, escalated) = ts.get(&path, COUNTY_A).await;
    assert_ne!(seen(&escalated), seen(&fresh));
    let (status, v) = post_json(
        &ts,
        &format!("{path}/cancel"),
        COUNTY_A,
        cancel(&seen(&fresh)),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (409, Some("stale")), "{v}");
    // On the task as it is, the move is made.
    let (status, v) = post_json(
        &ts,
        &format!("{path}/cancel"),
        COUNTY_A,
        cancel(&seen(&escalated)),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["properties"]["state"], "cancelled");
    ts.stop().await;
}
