//! The patrol's writes sent from an offline queue (#16): an `Idempotency-Key` makes a repeat
//! (lost answer, two tabs, retry after reconnecting) change the store once and get the first
//! answer back; the same key on another request is refused; `acted_at` (the moment on the phone)
//! is the milestone's and the verdict's time while the store keeps when it arrived too; a time
//! ahead of the clock beyond the skew (or before any fire product) is refused.

mod common;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use common::dispatch::*;
use common::server::{TestServer, COUNTY_A, PATROL_A1};
use common::stores::Backend;
use common::tasks::on_store;

on_both_stores!(
    a_repeated_action_changes_the_store_once_at_the_time_it_was_made,
    acted_at_ahead_of_the_clock_is_refused,
);

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// POST a JSON body with an optional idempotency key: (status, body, replayed header).
async fn post_keyed(
    ts: &TestServer,
    path: &str,
    key: Option<&str>,
    body: serde_json::Value,
) -> (u16, serde_json::Value, bool) {
    let mut r = ts
        .client
        .post(ts.url(path))
        .bearer_auth(PATROL_A1)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let replayed = r.headers().get("idempotent-replayed").is_some();
    let v = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or_default();
    (status, v, replayed)
}

async fn verdict_keyed(
    ts: &TestServer,
    id: i64,
    key: &str,
    fields: &[(&str, String)],
    photo: Vec<u8>,
) -> (u16, serde_json::Value, bool) {
    let r = ts
        .client
        .post(ts.url(&format!("/api/v1/tasks/{id}/verdict")))
        .bearer_auth(PATROL_A1)
        .header("Idempotency-Key", key)
        .multipart(verdict_form(fields, Some(("field.jpg", photo))))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let replayed = r.headers().get("idempotent-replayed").is_some();
    let v = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or_default();
    (status, v, replayed)
}

/// The audit rows of task `id` with `action`, through the server's store.
async fn audit_of(
    ts: &TestServer,
    id: i64,
    action: &'static str,
) -> Vec<strawfire::store::tasks::AuditEntry> {
    on_store(ts, move |s| s.audit("task", id).unwrap())
        .await
        .into_iter()
        .filter(|a| a.action == action)
        .collect()
}

async fn audit_count(ts: &TestServer, id: i64, action: &'static str) -> usize {
    audit_of(ts, id, action).await.len()
}

async fn a_repeated_action_changes_the_store_once_at_the_time_it_was_made(b: Backend) {
    let (ts, clock) = clocked_on(b, |_| {}).await;
    hotspot(&ts, 35.60, 114.30, t0() - Duration::minutes(5)).await;
    let id = task_id_near(&ts, 35.60, 114.30).await;
    let created = t0();

    // Made offline 3 minutes after the task came, sent 40 minutes later.
    let acked = created + Duration::minutes(3);
    clock.advance(Duration::minutes(43));
    let ack = format!("/api/v1/tasks/{id}/ack");
    let body = serde_json::json!({"acted_at": iso(acked)});
    let (s1, a1, r1) = post_keyed(&ts, &ack, Some("k-ack-1"), body.clone()).await;
    assert_eq!((s1, r1), (200, false), "{a1}");
    assert_eq!(a1["properties"]["acknowledged_at"], iso(acked), "{a1}");
    // The answer was lost: the queue sends it again, and gets the first answer back.
    let (s2, a2, r2) = post_keyed(&ts, &ack, Some("k-ack-1"), body.clone()).await;
    assert_eq!((s2, r2), (200, true), "{a2}");
    assert_eq!(a1, a2);
    assert_eq!(audit_count(&ts, id, "acknowledge").await, 1);
    // Had the process stopped between the commit and keeping the answer, a replay gets the
    // task as it is now, still without a second change.
    exec(
        &ts,
        "UPDATE idempotency_keys SET status = NULL, response = NULL WHERE key = 'k-ack-1'",
    );
    let (s3, a3, r3) = post_keyed(&ts, &ack, Some("k-ack-1"), body.clone()).await;
    assert_eq!((s3, r3), (200, true), "{a3}");
    assert_eq!(a3["properties"]["acknowledged_at"], iso(acked), "{a3}");
    assert_eq!(audit_count(&ts, id, "acknowledge").await, 1);
    // The audit row is dated when it arrived and names when it was made.
    let acks = audit_of(&ts, id, "acknowledge").await;
    assert_eq!(acks[0].at, clock_now(&clock));
    let detail = acks[0].detail.to_string();
    assert!(detail.contains(&acked.to_rfc3339()), "{detail}");

    // The same key for another request: refused, naming the header; nothing changes.
    let onsite = format!("/api/v1/tasks/{id}/on-site");
    let (s, v, _) = post_keyed(
        &ts,
        &onsite,
        Some("k-ack-1"),
        serde_json::json!({"lat": 35.6, "lon": 114.3}),
    )
    .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (422, Some("Idempotency-Key")),
        "{v}"
    );
    assert_eq!(audit_count(&ts, id, "arrive_on_site").await, 0);

    // On site with the position and time of arrival; the same key with another position is
    // refused, the same request replayed.
    let arrived = created + Duration::minutes(30);
    let here = serde_json::json!({"lat": 35.6012, "lon": 114.3021, "acted_at": iso(arrived)});
    let (s, v, _) = post_keyed(&ts, &onsite, Some("k-site"), here.clone()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["properties"]["on_site_at"], iso(arrived));
    let there = serde_json::json!({"lat": 35.7, "lon": 114.3021, "acted_at": iso(arrived)});
    let (s, v, _) = post_keyed(&ts, &onsite, Some("k-site"), there).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (422, Some("Idempotency-Key")),
        "{v}"
    );
    let (s, _, replayed) = post_keyed(&ts, &onsite, Some("k-site"), here).await;
    assert_eq!((s, replayed), (200, true));
    let audit = on_store(&ts, move |s| s.audit("task", id).unwrap()).await;
    assert_eq!(
        audit.iter().filter(|a| a.action != "notify").count(),
        3,
        "create, acknowledge, arrive: {audit:?}"
    );

    // The verdict, made at the fire, sent twice at once (two tabs flushing one queue): one
    // verdict row, both answered 201 with it.
    let made = created + Duration::minutes(35);
    let fields = [
        ("verdict", "burning".to_string()),
        ("lat", "35.6013".to_string()),
        ("lon", "114.3022".to_string()),
        ("acted_at", iso(made)),
        ("note", "麦茬".to_string()),
    ];
    let photo = photo_jpeg_with_exif(7, "2026:06:08 13:35:00", 114.3022, 35.6013);
    let (a, b) = tokio::join!(
        verdict_keyed(&ts, id, "k-verdict", &fields, photo.clone()),
        verdict_keyed(&ts, id, "k-verdict", &fields, photo.clone()),
    );
    assert_eq!((a.0, b.0), (201, 201), "{} {}", a.1, b.1);
    assert!(a.2 ^ b.2, "exactly one of the two is a replay");
    assert_eq!(a.1["verdict"]["id"], b.1["verdict"]["id"]);
    assert_eq!(count(&ts, "SELECT COUNT(*) FROM verdicts"), 1);
    assert_eq!(audit_count(&ts, id, "verdict").await, 1);
    let v = &a.1["verdict"];
    assert_eq!(v["reported_at"], iso(made), "{v}");
    assert_eq!(v["received_at"], iso(clock_now(&clock)), "{v}");
    // The evidence checks used the moment it was made: EXIF time agrees, nothing flagged.
    assert_eq!(v["flags"].as_array().unwrap().len(), 0, "{v}");
    // A third send later still gets the first answer.
    clock.advance(Duration::minutes(1));
    let (s, again, replayed) = verdict_keyed(&ts, id, "k-verdict", &fields, photo).await;
    assert_eq!((s, replayed), (201, true));
    assert_eq!(again["verdict"], a.1["verdict"]);

    // The patrol's record: its verdict with its times; the county filed none.
    let (s, mine) = ts.get("/api/v1/verdicts/mine", PATROL_A1).await;
    assert_eq!(s, 200, "{mine}");
    let list = mine["verdicts"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{mine}");
    assert_eq!(list[0]["task_id"].as_i64(), Some(id));
    assert_eq!(list[0]["verdict"], "burning");
    assert_eq!(list[0]["reported_at"], iso(made));
    assert_eq!(list[0]["note"], "麦茬");
    let (_, theirs) = ts.get("/api/v1/verdicts/mine", COUNTY_A).await;
    assert_eq!(theirs["verdicts"].as_array().unwrap().len(), 0, "{theirs}");
    ts.stop().await;
}

fn clock_now(clock: &strawfire::dispatch::ManualClock) -> DateTime<Utc> {
    use strawfire::dispatch::Clock;
    clock.now()
}

async fn acted_at_ahead_of_the_clock_is_refused(b: Backend) {
    let (ts, clock) = clocked_on(b, |_| {}).await;
    hotspot(&ts, 35.60, 114.30, t0() - Duration::minutes(5)).await;
    let id = task_id_near(&ts, 35.60, 114.30).await;
    clock.advance(Duration::minutes(10));
    let now = clock_now(&clock);
    let ack = format!("/api/v1/tasks/{id}/ack");
    for (at, why) in [
        (now + Duration::minutes(16), "in the future"),
        (t0() - Duration::days(365 * 30), "before 2000-01-01"),
    ] {
        let (s, v, _) = post_keyed(
            &ts,
            &ack,
            Some("k"),
            serde_json::json!({"acted_at": iso(at)}),
        )
        .await;
        assert_eq!((s, v["field"].as_str()), (400, Some("acted_at")), "{v}");
        assert!(v["error"].as_str().unwrap().contains(why), "{v}");
    }
    let (s, v, _) = post_keyed(
        &ts,
        &ack,
        None,
        serde_json::json!({"acted_at": "yesterday"}),
    )
    .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("acted_at")), "{v}");
    let (s, v, _) = post_keyed(&ts, &ack, None, serde_json::json!({"at": iso(now)})).await;
    assert_eq!((s, v["field"].as_str()), (400, Some("at")), "{v}");
    let (s, v) = ts
        .client
        .post(ts.url(&ack))
        .bearer_auth(PATROL_A1)
        .header("Idempotency-Key", "")
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&v.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (s, v["field"].as_str()),
        (400, Some("Idempotency-Key")),
        "{v}"
    );
    // Nothing was recorded, and the refused key was not used up.
    assert_eq!(audit_count(&ts, id, "acknowledge").await, 0);
    assert_eq!(count(&ts, "SELECT COUNT(*) FROM idempotency_keys"), 0);
    // Within the skew ahead of the clock is accepted (a phone a few minutes fast).
    let ahead = now + Duration::minutes(5);
    let (s, v, _) = post_keyed(
        &ts,
        &ack,
        Some("k"),
        serde_json::json!({"acted_at": iso(ahead)}),
    )
    .await;
    assert_eq!(s, 200, "{v}");

    // A verdict whose `time` and `acted_at` disagree, or whose time is in the future: refused.
    let photo = photo_png(3);
    let (s, v) = post_verdict(
        &ts,
        id,
        PATROL_A1,
        verdict_form(
            &[
                ("verdict", "burning".into()),
                ("lat", "35.6".into()),
                ("lon", "114.3".into()),
                ("time", iso(now)),
                ("acted_at", iso(now - Duration::minutes(1))),
            ],
            Some(("p.png", photo.clone())),
        ),
    )
    .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("acted_at")), "{v}");
    let (s, v) = post_verdict(
        &ts,
        id,
        PATROL_A1,
        verdict_form(
            &[
                ("verdict", "burning".into()),
                ("lat", "35.6".into()),
                ("lon", "114.3".into()),
                ("acted_at", iso(now + Duration::hours(2))),
            ],
            Some(("p.png", photo)),
        ),
    )
    .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("acted_at")), "{v}");
    assert_eq!(count(&ts, "SELECT COUNT(*) FROM verdicts"), 0);
    ts.stop().await;
}
