//! A receiver that is down and comes back gets exactly one successful delivery per
//! notification: it answers 503, then drops connections, then is not listening at all
//! (connection refused), then answers 200. Retries wait for the moved clock, not for sleeps.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use common::receiver::{fast_notify, webhook, Mode, Receiver};
use common::server::{eventually, GridPlacer, TestServer, ADMIN};
use common::stores::{Backend, PgSchema};
use common::tasks::{insert_task, task_audit, task_state};
use strawfire::config::WebhookFormat;
use strawfire::dispatch::ManualClock;

const WAIT: Duration = Duration::from_secs(20);

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 8, 10, 0, 0).unwrap()
}

on_both_stores!(
    a_receiver_that_is_down_and_comes_back_gets_each_notification_once,
    a_request_that_times_out_is_retried_with_the_same_key,
    a_receiver_that_answers_404_twice_gets_the_notice_on_the_third_attempt,
);

/// (idempotency key, last_error) of the pending deliveries once every one of them has made
/// `attempts` attempts and recorded the outcome of the last one.
async fn pending_after(s: &TestServer, n: usize, attempts: u64) -> Vec<(String, String)> {
    eventually(
        WAIT,
        &format!("{n} deliveries after attempt {attempts}"),
        || async {
            let (_, v) = s.get("/api/v1/deliveries?status=pending", ADMIN).await;
            let rows = v["deliveries"].as_array().cloned().unwrap_or_default();
            // `attempts` counts claims; the error of that attempt is recorded after it.
            let recorded = format!("attempt {attempts}:");
            let done = rows.len() == n
                && rows.iter().all(|d| {
                    d["attempts"] == attempts
                        && d["last_error"]
                            .as_str()
                            .is_some_and(|e| e.starts_with(&recorded))
                });
            done.then(|| {
                rows.iter()
                    .map(|d| {
                        (
                            d["idempotency_key"].as_str().unwrap().to_string(),
                            d["last_error"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect()
            })
        },
    )
    .await
}

async fn a_receiver_that_is_down_and_comes_back_gets_each_notification_once(b: Backend) {
    let mut rx = Receiver::start(Mode::Unavailable).await;
    let clock = ManualClock::new(t0());
    let (json, robot) = (rx.url("/hook/json"), rx.url("/hook/robot"));
    let s = TestServer::start_in(
        tempfile::tempdir().unwrap(),
        (b == Backend::Postgres).then(PgSchema::new),
        |c| {
            fast_notify(c, 8);
            c.webhooks = vec![
                webhook("json", "410526101", json, WebhookFormat::Json),
                webhook("robot", "410526101", robot, WebhookFormat::Markdown),
            ];
        },
        Arc::new(GridPlacer),
        Arc::new(clock.clone()),
    )
    .await;
    for id in 1..=3 {
        insert_task(&s, id, "410526101", t0());
    }
    let expected: BTreeSet<String> = (1..=3)
        .flat_map(|id| ["json", "robot"].map(|h| format!("task-{id}-new-410526101:{h}")))
        .collect();

    // Attempt 1: 503 for all six.
    let p = pending_after(&s, 6, 1).await;
    assert!(p.iter().all(|(_, e)| e.contains("HTTP 503")), "{p:?}");
    assert_eq!(rx.seen().len(), 6);
    // The clock has not moved: no retry, however many passes the worker makes.
    s.notify_passes(3).await;
    assert_eq!(rx.seen().len(), 6);
    for id in 1..=3 {
        assert_eq!(task_state(&s, id).await.0, "new", "task {id}");
    }

    // Attempt 2: the receiver drops each connection unanswered.
    rx.set_mode(Mode::Drop);
    clock.advance(chrono::Duration::seconds(61));
    let p = pending_after(&s, 6, 2).await;
    assert_eq!(
        rx.dropped_connections(),
        6,
        "{} {p:?}",
        rx.dropped_connections()
    );
    assert_eq!(rx.seen().len(), 6, "no dropped request reached the handler");

    // Attempt 3: nothing listens (connection refused).
    rx.down();
    clock.advance(chrono::Duration::seconds(61));
    let p = pending_after(&s, 6, 3).await;
    assert!(
        p.iter()
            .all(|(_, e)| e.starts_with("attempt 3: error sending request")),
        "{p:?}"
    );

    // Back up; nothing is due until the clock passes the backoff.
    rx.up(Mode::Ok).await;
    s.notify_passes(3).await;
    assert_eq!(rx.seen().len(), 6);
    clock.advance(chrono::Duration::seconds(61));
    eventually(WAIT, "all six delivered", || async {
        let (_, v) = s.get("/api/v1/deliveries?status=delivered", ADMIN).await;
        (v["deliveries"].as_array().unwrap().len() == 6).then_some(())
    })
    .await;
    // And nothing more after that.
    clock.advance(chrono::Duration::hours(2));
    s.notify_passes(3).await;

    let ok = rx.ok_counts();
    assert_eq!(ok.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(ok.values().all(|&n| n == 1), "{ok:?}");
    assert!(rx.repeats().is_empty());
    let successes: Vec<_> = rx
        .seen()
        .into_iter()
        .filter(|r| r.answered == 200)
        .collect();
    assert_eq!(successes.len(), 6);
    assert!(successes.iter().all(|r| r.attempt == "4"), "{successes:?}");
    let (_, v) = s.get("/api/v1/deliveries?status=delivered", ADMIN).await;
    assert!(v["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["attempts"] == 4 && d["last_error"].is_null()));
    for id in 1..=3 {
        assert_eq!(task_state(&s, id).await.0, "notified");
        assert_eq!(task_audit(&s, id).await.len(), 1, "task {id}");
    }
    let m = s.metrics().await;
    assert!(
        m.contains("strawfire_notify_attempts_total{outcome=\"delivered\"} 6"),
        "{m}"
    );
    assert!(
        m.contains("strawfire_notify_attempts_total{outcome=\"retried\"} 18"),
        "{m}"
    );
    assert!(
        m.contains("strawfire_notify_attempts_total{outcome=\"gave_up\"} 0"),
        "{m}"
    );
    assert!(m.contains("strawfire_notify_pending 0"), "{m}");
    s.stop().await;
}

async fn a_request_that_times_out_is_retried_with_the_same_key(b: Backend) {
    let rx = Receiver::start(Mode::HoldFirst).await;
    let clock = ManualClock::new(t0());
    let url = rx.url("/hook/slow");
    let s = TestServer::start_in(
        tempfile::tempdir().unwrap(),
        (b == Backend::Postgres).then(PgSchema::new),
        |c| {
            fast_notify(c, 3);
            // The one real wait of these tests: a request that hangs this long is given up on.
            c.notify.timeout_s = 0.5;
            c.webhooks = vec![webhook("slow", "410526101", url, WebhookFormat::Json)];
        },
        Arc::new(GridPlacer),
        Arc::new(clock.clone()),
    )
    .await;
    insert_task(&s, 9, "410526101", t0());
    let p = pending_after(&s, 1, 1).await;
    assert!(p[0].1.contains("timed out"), "{p:?}");
    assert_eq!(task_state(&s, 9).await.0, "new");

    clock.advance(chrono::Duration::seconds(61));
    eventually(WAIT, "delivered on attempt 2", || async {
        let (_, v) = s.get("/api/v1/deliveries?status=delivered", ADMIN).await;
        let rows = v["deliveries"].as_array().cloned().unwrap_or_default();
        (rows.len() == 1 && rows[0]["attempts"] == 2).then_some(())
    })
    .await;
    // The receiver had taken the first request (it only never answered): the second one, with
    // the same key, is the repeat it drops. One notification, one key, taken once.
    let seen = rx.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|r| r.key == "task-9-new-410526101:slow"));
    assert_eq!(rx.repeats().len(), 1);
    assert_eq!(rx.ok_counts().values().copied().collect::<Vec<_>>(), [1]);
    assert_eq!(task_state(&s, 9).await.0, "notified");
    s.stop().await;
}

/// A robot bridge being redeployed answers 404 for a while: that is retried like a 5xx (a single
/// 404 used to give the notice up at once), and the notice arrives once the route is back.
async fn a_receiver_that_answers_404_twice_gets_the_notice_on_the_third_attempt(b: Backend) {
    let rx = Receiver::start(Mode::NotFoundFor(2)).await;
    let clock = ManualClock::new(t0());
    let url = rx.url("/hook/redeploying");
    let s = TestServer::start_in(
        tempfile::tempdir().unwrap(),
        (b == Backend::Postgres).then(PgSchema::new),
        |c| {
            fast_notify(c, 5);
            c.webhooks = vec![webhook("bridge", "410526101", url, WebhookFormat::Json)];
        },
        Arc::new(GridPlacer),
        Arc::new(clock.clone()),
    )
    .await;
    insert_task(&s, 5, "410526101", t0());

    for attempt in 1..=2 {
        let p = pending_after(&s, 1, attempt).await;
        assert!(p[0].1.contains("HTTP 404: no route yet"), "{p:?}");
        assert_eq!(task_state(&s, 5).await.0, "new");
        clock.advance(chrono::Duration::seconds(61));
    }
    eventually(WAIT, "delivered on attempt 3", || async {
        let (_, v) = s.get("/api/v1/deliveries?status=delivered", ADMIN).await;
        let rows = v["deliveries"].as_array().cloned().unwrap_or_default();
        (rows.len() == 1 && rows[0]["attempts"] == 3).then_some(())
    })
    .await;
    let answered: Vec<u16> = rx.seen().iter().map(|r| r.answered).collect();
    assert_eq!(answered, [404, 404, 200]);
    assert_eq!(rx.ok_counts().values().copied().collect::<Vec<_>>(), [1]);
    assert_eq!(task_state(&s, 5).await.0, "notified");
    let m = s.metrics().await;
    assert!(
        m.contains("strawfire_notify_attempts_total{outcome=\"gave_up\"} 0"),
        "{m}"
    );
    assert!(
        m.contains("strawfire_notify_attempts_total{outcome=\"retried\"} 2"),
        "{m}"
    );
    s.stop().await;
}
