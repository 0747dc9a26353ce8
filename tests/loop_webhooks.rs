//! The whole loop across dispatch and notify, on a real server with a real webhook receiver on
//! loopback and a moved clock: a hotspot becomes a task whose township robot is told once; that
//! delivery moves the task to `notified`; the patrol acknowledges, arrives and reports; a second
//! fire that nobody acknowledges escalates to the county's webhook; every notification is taken
//! exactly once under its own idempotency key.

mod common;

use std::time::Duration as StdDuration;

use chrono::Duration;
use common::dispatch::*;
use common::receiver::{fast_notify, webhook, Mode, Receiver, Seen};
use common::server::{eventually, COUNTY_A, PATROL_A1};
use common::stores::Backend;
use strawfire::config::WebhookFormat;
use strawfire::service::LiveUpdate;

on_both_stores!(
    a_fire_reaches_its_township_robot_is_verified_and_a_missed_one_escalates_to_the_county
);

const WAIT: StdDuration = StdDuration::from_secs(20);

/// Requests the receiver answered 200 on one hook path, of one notice kind.
fn taken(rx: &Receiver, path: &str, kind: &str) -> Vec<Seen> {
    rx.seen()
        .into_iter()
        .filter(|s| s.answered == 200 && !s.repeat && s.path == path && s.kind == kind)
        .collect()
}

async fn a_fire_reaches_its_township_robot_is_verified_and_a_missed_one_escalates_to_the_county(
    b: Backend,
) {
    let rx = Receiver::start(Mode::Ok).await;
    let (town, county) = (rx.url("/hook/town"), rx.url("/hook/county"));
    let (ts, clock) = clocked_on(b, |c| {
        c.webhooks
            .push(webhook("town", "410526101", town, WebhookFormat::Markdown));
        c.webhooks
            .push(webhook("county", "410526", county, WebhookFormat::Json));
        fast_notify(c, 5);
    })
    .await;

    // Open pages listen (a dashboard's stream).
    let mut live = ts.running.as_ref().unwrap().service.live().subscribe();

    // A fire in township 410526101: one task, its robot told once, the task notified by that.
    hotspot(&ts, 35.60, 114.30, t0() - Duration::minutes(10)).await;
    let open = tasks(&ts, PATROL_A1, "?status=open").await;
    assert_eq!(open.len(), 1, "{open:?}");
    let id = open[0]["properties"]["id"].as_i64().unwrap();
    let new = eventually(WAIT, "the township robot to take the new task", || async {
        let t = taken(&rx, "/hook/town", "task_new");
        (!t.is_empty()).then_some(t)
    })
    .await;
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].body["msgtype"], "markdown", "{:?}", new[0].body);
    assert!(
        new[0].key.starts_with(&format!("task-{id}-new-")),
        "{}",
        new[0].key
    );
    eventually(WAIT, "the task to be notified", || async {
        let (_, t) = ts.get(&format!("/api/v1/tasks/{id}"), PATROL_A1).await;
        (t["properties"]["state"] == "notified").then_some(())
    })
    .await;
    // ... and the pages heard that change.
    let heard = tokio::time::timeout(WAIT, async {
        loop {
            match live.recv().await {
                Ok(m)
                    if m.updates().iter().any(|u| {
                        matches!(u, LiveUpdate::Task { id: t, state, .. }
                            if *t == id && state == "notified")
                    }) =>
                {
                    break
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(e) => panic!("live hub closed: {e}"),
            }
        }
    })
    .await;
    assert!(heard.is_ok(), "no live update for the notified task");

    // The patrol works it; the verdict is told to the township too.
    clock.advance(Duration::minutes(2));
    let (status, v) = act(&ts, id, "ack", PATROL_A1).await;
    assert_eq!(status, 200, "{v}");
    clock.advance(Duration::minutes(10));
    let (status, v) = on_site(&ts, id, PATROL_A1, 35.601, 114.30).await;
    assert_eq!(status, 200, "{v}");
    clock.advance(Duration::minutes(5));
    let (status, v) = report(&ts, id, PATROL_A1, "burning", 35.60, 114.30, photo_png(7)).await;
    assert_eq!(status, 201, "{v}");
    eventually(WAIT, "the verdict notice", || async {
        (!taken(&rx, "/hook/town", "verdict").is_empty()).then_some(())
    })
    .await;
    let (status, v) = act(&ts, id, "close", COUNTY_A).await;
    assert_eq!(status, 200, "{v}");

    // A second fire 10 km away that nobody acknowledges: once its deadline has passed, the
    // county's webhook hears of it, once, however often the sweep runs.
    hotspot(&ts, 35.70, 114.40, clock_now(&clock)).await;
    let second = eventually(WAIT, "the second task", || async {
        let open = tasks(&ts, PATROL_A1, "?status=open").await;
        open.first()
            .map(|f| f["properties"]["id"].as_i64().unwrap())
    })
    .await;
    assert_ne!(second, id);
    let service = ts.running.as_ref().unwrap().service.clone();
    clock.advance(Duration::minutes(11));
    let escalated = service.escalate_due().await.unwrap();
    assert!(escalated.iter().any(|(t, _)| *t == second), "{escalated:?}");
    assert!(service.escalate_due().await.unwrap().is_empty());
    let up = eventually(WAIT, "the county to hear of the escalation", || async {
        let t = taken(&rx, "/hook/county", "escalation");
        (!t.is_empty()).then_some(t)
    })
    .await;
    assert_eq!(up.len(), 1, "{up:?}");
    assert_eq!(up[0].body["task_id"], second, "{:?}", up[0].body);
    // The township robot never gets the county's escalation.
    assert!(taken(&rx, "/hook/town", "escalation").is_empty());

    // Exactly once: every key taken once, no repeats.
    eventually(WAIT, "the outbox to drain", || async {
        let m = ts.metrics().await;
        m.lines()
            .any(|l| l.starts_with("strawfire_notify_pending") && l.ends_with(" 0"))
            .then_some(())
    })
    .await;
    let counts = rx.ok_counts();
    assert!(counts.len() >= 4, "{counts:?}");
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
    assert!(rx.repeats().is_empty(), "{:?}", rx.repeats());
    ts.stop().await;
}

fn clock_now(clock: &strawfire::dispatch::ManualClock) -> chrono::DateTime<chrono::Utc> {
    use strawfire::dispatch::Clock;
    clock.now()
}
