//! A restart mid-delivery loses and doubles nothing. The receiver takes the first request and
//! holds its answer; the server is shut down while waiting for it and started again on the same
//! data dir. The held delivery is re-sent after its backoff with the same idempotency key (what a
//! crash between sending and recording causes, and what the key is for); the receiver drops the
//! repeat by its key, so every notification is taken exactly once and none is missing.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use common::receiver::{fast_notify, webhook, Mode, Receiver};
use common::server::{eventually, GridPlacer, TestServer, ADMIN};
use common::stores::{Backend, PgSchema};
use common::tasks::{insert_task, task_audit, task_state};
use strawfire::config::{Config, WebhookFormat};
use strawfire::dispatch::ManualClock;

const WAIT: Duration = Duration::from_secs(20);

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 8, 10, 0, 0).unwrap()
}

async fn delivered(s: &TestServer) -> Vec<serde_json::Value> {
    let (_, v) = s.get("/api/v1/deliveries?status=delivered", ADMIN).await;
    v["deliveries"].as_array().cloned().unwrap_or_default()
}

on_both_stores!(a_restart_mid_delivery_loses_nothing_and_no_notification_is_taken_twice);

async fn a_restart_mid_delivery_loses_nothing_and_no_notification_is_taken_twice(b: Backend) {
    let rx = Receiver::start(Mode::HoldFirst).await;
    let url = rx.url("/hook/town");
    let tweak = move |c: &mut Config| {
        fast_notify(c, 5);
        // Longer than the test: the held request is cut by the shutdown, not by a timeout.
        // The lease of a claim is at least this (+1 s), so the re-send waits for 31 s of clock.
        c.notify.timeout_s = 30.0;
        c.webhooks = vec![webhook(
            "town",
            "410526101",
            url.clone(),
            WebhookFormat::Markdown,
        )];
    };
    let clock = ManualClock::new(t0());
    let s = TestServer::start_in(
        tempfile::tempdir().unwrap(),
        (b == Backend::Postgres).then(PgSchema::new),
        tweak.clone(),
        Arc::new(GridPlacer),
        Arc::new(clock.clone()),
    )
    .await;
    for id in 1..=4 {
        insert_task(&s, id, "410526101", t0());
    }
    let expected: BTreeSet<String> = (1..=4)
        .map(|id| format!("task-{id}-new-410526101:town"))
        .collect();

    // One request is held open, the other three are answered and recorded.
    eventually(WAIT, "one held, three delivered", || async {
        (rx.holding() && delivered(&s).await.len() == 3).then_some(())
    })
    .await;
    let held: Vec<_> = rx.seen().into_iter().filter(|r| r.answered == 0).collect();
    assert_eq!(held.len(), 1);
    let held_key = held[0].key.clone();
    let held_task: i64 = held[0].body["markdown"]["content"]
        .as_str()
        .and_then(|c| c.split("任务 #").nth(1))
        .and_then(|t| t.split_whitespace().next())
        .and_then(|t| t.parse().ok())
        .unwrap();
    assert_eq!(held_key, format!("task-{held_task}-new-410526101:town"));
    assert_eq!(task_state(&s, held_task).await.0, "new");

    // Shut down while the request is in flight.
    let (dir, pg) = s.stop_keep_store().await;
    rx.set_mode(Mode::Ok);

    // The same data dir, a new process-lifetime: the held delivery is still pending, leased.
    let clock = ManualClock::new(t0() + chrono::Duration::seconds(1));
    let s = TestServer::start_in(
        dir,
        pg,
        tweak,
        Arc::new(GridPlacer),
        Arc::new(clock.clone()),
    )
    .await;
    s.notify_passes(3).await;
    let (_, v) = s.get("/api/v1/deliveries?status=pending", ADMIN).await;
    let pending = v["deliveries"].as_array().unwrap();
    assert_eq!(pending.len(), 1, "{v}");
    assert_eq!(pending[0]["idempotency_key"], held_key.as_str());
    assert_eq!(pending[0]["attempts"], 1);
    assert_eq!(rx.seen().len(), 4, "nothing re-sent before its backoff");

    clock.advance(chrono::Duration::seconds(61));
    eventually(WAIT, "all four delivered", || async {
        (delivered(&s).await.len() == 4).then_some(())
    })
    .await;
    clock.advance(chrono::Duration::hours(3));
    s.notify_passes(3).await;

    // What the receiver saw: five requests, four keys; the held key once more, as a repeat.
    let seen = rx.seen();
    assert_eq!(seen.len(), 5, "{seen:?}");
    let keys: BTreeSet<String> = seen.iter().map(|r| r.key.clone()).collect();
    assert_eq!(keys, expected, "none missing, none under a second key");
    let repeats = rx.repeats();
    assert_eq!(repeats.len(), 1);
    assert_eq!(repeats[0].key, held_key);
    assert_eq!(repeats[0].attempt, "2");
    let ok = rx.ok_counts();
    assert_eq!(ok.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(ok.values().all(|&n| n == 1), "{ok:?}");
    // Each notice (task) was sent under exactly one idempotency key.
    let mut keys_per_task: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &seen {
        let content = r.body["markdown"]["content"].as_str().unwrap();
        let title = content.lines().next().unwrap().to_string();
        keys_per_task
            .entry(title)
            .or_default()
            .insert(r.key.clone());
    }
    assert_eq!(keys_per_task.len(), 4);
    assert!(
        keys_per_task.values().all(|k| k.len() == 1),
        "{keys_per_task:?}"
    );

    // The store agrees: four delivered, the held one on its second attempt; each task notified
    // once, with one audit row.
    let rows = delivered(&s).await;
    for d in &rows {
        let attempts = if d["idempotency_key"] == held_key.as_str() {
            2
        } else {
            1
        };
        assert_eq!(d["attempts"], attempts, "{d}");
    }
    for id in 1..=4 {
        assert_eq!(task_state(&s, id).await.0, "notified", "task {id}");
        assert_eq!(task_audit(&s, id).await.len(), 1, "task {id}");
    }
    let (_, notified_at) = task_state(&s, held_task).await;
    assert_eq!(
        notified_at,
        Some((t0() + chrono::Duration::seconds(62)).timestamp())
    );
    s.stop().await;
}
