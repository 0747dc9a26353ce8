//! Notice deliveries on both stores: expansion to webhooks, the claim as a lease, outcomes,
//! giving up, and claims at once from several threads (on PostgreSQL: several connections, as
//! several workers or nodes) never taking one delivery twice.

use std::collections::HashSet;
use std::time::Duration;

use super::*;
use crate::dispatch::TaskRules;
use crate::notify::Notice;
use crate::store::deliveries::{
    AttemptOutcome, DeliveryCounts, DeliveryStatus, Expansion, NotifiedTask, Recorded,
};
use crate::store::tasks::{Actor, TaskQuery, TaskTarget};

both_stores!(
    expansion_makes_one_delivery_per_webhook_once_and_notifies_units_without_webhooks,
    an_unreadable_notice_is_set_aside_without_blocking_the_others,
    a_claim_is_a_lease_committed_before_sending,
    delivery_notifies_the_task_once_with_an_audit_row,
    failures_retry_until_max_attempts_and_refusals_give_up_at_once,
    a_last_attempt_that_never_reported_is_given_up_not_lost,
    claims_at_once_never_take_one_delivery_twice,
    operator_moves_during_deliveries_of_their_notices_never_deadlock,
);

fn now() -> DateTime<Utc> {
    t0() + chrono::Duration::hours(10)
}

/// West township 410526100 has webhooks `a` and `b`; the east one none.
fn route(n: &Notice) -> Vec<String> {
    if n.unit == "410526100" {
        vec!["a".into(), "b".into()]
    } else {
        Vec::new()
    }
}

const LEASE: &dyn Fn(&str, u32) -> Duration =
    &|_, attempt| Duration::from_secs(60 * attempt as u64);

/// Fresh fires at `lons` (west of 114.5: the township with webhooks), a task each; their ids in
/// the order given.
fn tasks_at(store: &dyn Store, lons: &[f64]) -> Vec<i64> {
    let t = now() - chrono::Duration::minutes(20);
    let hs = lons
        .iter()
        .enumerate()
        .map(|(i, &lon)| hotspot(lon, 35.0 + i as f64 * 0.05, t, 5.0))
        .collect();
    let r = store
        .ingest_dispatched(
            &feed(&format!("t{}", lons.len()), hs),
            &FuseParams::default(),
            &Halves,
            &TaskRules::default(),
            now(),
        )
        .unwrap();
    let tasks = store.tasks(&TaskQuery::default()).unwrap();
    r.event_ids
        .iter()
        .map(|e| tasks.iter().find(|t| t.event_id == *e).unwrap().id)
        .collect()
}

/// Task `id` as stored.
fn task(store: &dyn Store, id: i64) -> crate::store::tasks::StoredTask {
    store
        .tasks(&TaskQuery {
            id: Some(id),
            ..TaskQuery::default()
        })
        .unwrap()
        .pop()
        .unwrap()
}

/// (state, notified_at, audit rows) of a task.
fn task_state(store: &dyn Store, id: i64) -> (String, Option<DateTime<Utc>>, usize) {
    let t = task(store, id);
    (
        t.state.as_str().to_string(),
        t.milestones.notified_at,
        store.audit("task", id).unwrap().len(),
    )
}

fn expansion_makes_one_delivery_per_webhook_once_and_notifies_units_without_webhooks(b: &Backend) {
    let store = b.store();
    let ids = tasks_at(store, &[114.2, 114.8]);
    let e = store.expand_outbox(&route, now(), 100).unwrap();
    assert_eq!(
        e,
        Expansion {
            notices: 2,
            deliveries: 2,
            notified_without_webhook: vec![NotifiedTask {
                id: ids[1],
                county: Some("410527".into()),
                unit: "410527100".into(),
            }],
            unreadable: Vec::new(),
        }
    );
    // A second pass finds nothing left.
    assert_eq!(
        store.expand_outbox(&route, now(), 100).unwrap(),
        Expansion::default()
    );
    let rows = store.deliveries(None, None, 10).unwrap();
    let mut keys: Vec<_> = rows.iter().map(|r| r.idempotency_key.clone()).collect();
    keys.sort();
    let w = ids[0];
    assert_eq!(
        keys,
        [
            format!("task-{w}-new-410526100:a"),
            format!("task-{w}-new-410526100:b")
        ]
    );
    assert!(rows.iter().all(|r| r.status == DeliveryStatus::Pending
        && r.kind == "task_new"
        && r.task_id == Some(w)
        && r.attempts == 0
        && r.next_attempt_at == now()));
    assert_eq!(task_state(store, w), ("new".into(), None, 1));
    assert_eq!(
        task_state(store, ids[1]),
        ("notified".into(), Some(now()), 2)
    );
    let audit = store.audit("task", ids[1]).unwrap();
    assert_eq!(audit[1].action, "notify");
    assert_eq!(audit[1].actor, "system");
    assert!(audit[1].detail["webhook"].is_null());
    // Paging: newest first, below an id.
    let newest = store.deliveries(None, None, 1).unwrap();
    assert_eq!(newest.len(), 1);
    let older = store.deliveries(None, Some(newest[0].id), 10).unwrap();
    assert_eq!(older.len(), 1);
    assert!(older[0].id < newest[0].id);
}

fn an_unreadable_notice_is_set_aside_without_blocking_the_others(b: &Backend) {
    let store = b.store();
    b.exec(
        "INSERT INTO outbox (key, unit, kind, notice, created_at)
         VALUES ('k', '410526100', 'task_new', '{\"kind\":\"mystery\"}', 0)",
    );
    tasks_at(store, &[114.2]);
    let e = store.expand_outbox(&route, now(), 100).unwrap();
    assert_eq!((e.notices, e.deliveries, e.unreadable.len()), (1, 2, 1));
    assert_eq!(
        store.expand_outbox(&route, now(), 100).unwrap(),
        Expansion::default()
    );
    assert_eq!(store.delivery_counts().unwrap().unexpanded, 0);
}

fn a_claim_is_a_lease_committed_before_sending(b: &Backend) {
    let store = b.store();
    let ids = tasks_at(store, &[114.2]);
    store.expand_outbox(&route, now(), 100).unwrap();
    let c = store.claim_deliveries(now(), 10, 3, LEASE).unwrap();
    assert_eq!(c.len(), 2);
    assert!(c
        .iter()
        .all(|d| d.attempt == 1 && d.notice.task_id == ids[0]));
    // Claimed rows are not due again until the lease passes (nothing was recorded: a crash).
    assert!(store
        .claim_deliveries(now(), 10, 3, LEASE)
        .unwrap()
        .is_empty());
    let t = now() + chrono::Duration::seconds(59);
    assert!(store.claim_deliveries(t, 10, 3, LEASE).unwrap().is_empty());
    let t = now() + chrono::Duration::seconds(60);
    let again = store.claim_deliveries(t, 10, 3, LEASE).unwrap();
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|d| d.attempt == 2));
    let keys = |v: &[crate::store::deliveries::ClaimedDelivery]| {
        let mut k: Vec<_> = v.iter().map(|d| d.idempotency_key.clone()).collect();
        k.sort();
        k
    };
    assert_eq!(keys(&again), keys(&c), "re-sent under the same keys");
}

fn delivery_notifies_the_task_once_with_an_audit_row(b: &Backend) {
    let store = b.store();
    let id = tasks_at(store, &[114.2])[0];
    store.expand_outbox(&route, now(), 100).unwrap();
    let c = store.claim_deliveries(now(), 10, 3, LEASE).unwrap();
    let later = now() + chrono::Duration::seconds(5);
    let ok = AttemptOutcome::Delivered { status: 200 };
    assert_eq!(
        store.record_attempt(c[0].id, &ok, later, 3).unwrap(),
        Recorded::Delivered {
            task_notified: true
        }
    );
    assert_eq!(
        store.record_attempt(c[1].id, &ok, later, 3).unwrap(),
        Recorded::Delivered {
            task_notified: false
        }
    );
    // Recording twice changes nothing; nor does recording an unknown delivery.
    assert_eq!(
        store.record_attempt(c[0].id, &ok, later, 3).unwrap(),
        Recorded::AlreadySettled
    );
    assert_eq!(
        store.record_attempt(987_654, &ok, later, 3).unwrap(),
        Recorded::AlreadySettled
    );
    assert_eq!(task_state(store, id), ("notified".into(), Some(later), 2));
    let audit = store.audit("task", id).unwrap();
    let notify = &audit[1];
    assert_eq!(
        (
            notify.action.as_str(),
            notify.actor.as_str(),
            notify.to_state.as_deref()
        ),
        ("notify", "system", Some("notified"))
    );
    assert_eq!(notify.detail["webhook"], c[0].webhook.as_str());
    assert_eq!(
        notify.detail["idempotency_key"],
        c[0].idempotency_key.as_str()
    );
    assert_eq!(notify.detail["status"], 200);
    assert_eq!(
        store.delivery_counts().unwrap(),
        DeliveryCounts {
            delivered: 2,
            ..DeliveryCounts::default()
        }
    );
    let delivered = store
        .deliveries(Some(DeliveryStatus::Delivered), None, 10)
        .unwrap();
    assert!(delivered.iter().all(|d| d.delivered_at == Some(later)));
}

fn failures_retry_until_max_attempts_and_refusals_give_up_at_once(b: &Backend) {
    let store = b.store();
    let id = tasks_at(store, &[114.2])[0];
    store.expand_outbox(&route, now(), 100).unwrap();
    let fail = |retry| AttemptOutcome::Failed {
        error: "HTTP 503".into(),
        retry,
    };
    let hour = chrono::Duration::hours(1);
    let c = store.claim_deliveries(now(), 10, 3, LEASE).unwrap();
    assert_eq!(c.len(), 2);
    let (a, z) = (c[0].id, c[1].id);
    assert_eq!(
        store.record_attempt(a, &fail(true), now(), 3).unwrap(),
        Recorded::WillRetry
    );
    assert_eq!(
        store.record_attempt(z, &fail(false), now(), 3).unwrap(),
        Recorded::GaveUp
    );
    let c = store.claim_deliveries(now() + hour, 10, 3, LEASE).unwrap();
    assert_eq!((c.len(), c[0].id, c[0].attempt), (1, a, 2));
    assert_eq!(
        store
            .record_attempt(a, &fail(true), now() + hour, 3)
            .unwrap(),
        Recorded::WillRetry
    );
    let c = store
        .claim_deliveries(now() + hour * 2, 10, 3, LEASE)
        .unwrap();
    assert_eq!((c.len(), c[0].attempt), (1, 3));
    assert_eq!(
        store
            .record_attempt(a, &fail(true), now() + hour * 2, 3)
            .unwrap(),
        Recorded::GaveUp
    );
    assert!(store
        .claim_deliveries(now() + hour * 9, 10, 3, LEASE)
        .unwrap()
        .is_empty());
    let failed = store
        .deliveries(Some(DeliveryStatus::Failed), None, 10)
        .unwrap();
    assert_eq!(failed.len(), 2);
    let spent = failed.iter().find(|r| r.id == a).unwrap();
    assert_eq!(spent.attempts, 3);
    assert_eq!(spent.last_error.as_deref(), Some("attempt 3: HTTP 503"));
    assert_eq!(spent.gave_up_at, Some(now() + hour * 2));
    assert!(store
        .deliveries(Some(DeliveryStatus::Pending), None, 10)
        .unwrap()
        .is_empty());
    assert_eq!(task_state(store, id), ("new".into(), None, 1));
}

fn a_last_attempt_that_never_reported_is_given_up_not_lost(b: &Backend) {
    let store = b.store();
    tasks_at(store, &[114.2]);
    store.expand_outbox(&route, now(), 100).unwrap();
    assert_eq!(
        store.claim_deliveries(now(), 10, 1, LEASE).unwrap().len(),
        2
    );
    // No outcome recorded (the process died mid-request); after the lease it is settled.
    let later = now() + chrono::Duration::hours(1);
    assert!(store
        .claim_deliveries(later, 10, 1, LEASE)
        .unwrap()
        .is_empty());
    let failed = store
        .deliveries(Some(DeliveryStatus::Failed), None, 10)
        .unwrap();
    assert_eq!(failed.len(), 2);
    let err = failed[0].last_error.as_deref().unwrap();
    assert!(err.contains("never reported"), "{err}");
}

/// Four claimers at once, three deliveries a claim, until nothing is due: every delivery is
/// claimed exactly once (on PostgreSQL each claim is its own connection and transaction;
/// `FOR UPDATE SKIP LOCKED` passes over rows another claim holds).
fn claims_at_once_never_take_one_delivery_twice(b: &Backend) {
    let store = b.store();
    let lons: Vec<f64> = (0..20).map(|_| 114.2).collect();
    tasks_at(store, &lons);
    let e = store.expand_outbox(&route, now(), 1000).unwrap();
    assert_eq!(e.deliveries, 40);
    let claimed: Vec<i64> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let c = store.claim_deliveries(now(), 3, 3, LEASE).unwrap();
                        if c.is_empty() {
                            break mine;
                        }
                        mine.extend(c.iter().map(|d| d.id));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let once: HashSet<i64> = claimed.iter().copied().collect();
    assert_eq!(once.len(), claimed.len(), "a delivery claimed twice");
    assert_eq!(claimed.len(), 40, "every delivery claimed");
    assert!(store
        .deliveries(None, None, 100)
        .unwrap()
        .iter()
        .all(|d| d.attempts == 1));
}

/// The delivery side of one pass (expand, claim, every claimed attempt delivered); what failed.
fn deliver_once(store: &dyn Store, at: DateTime<Utc>) -> Result<(), crate::store::StoreError> {
    store.expand_outbox(&route, at, 100)?;
    let ok = AttemptOutcome::Delivered { status: 200 };
    for d in store.claim_deliveries(at, 100, 3, LEASE)? {
        store.record_attempt(d.id, &ok, at, 3)?;
    }
    Ok(())
}

/// Operator moves of tasks while the delivery worker expands and records their notices (two
/// connections on PostgreSQL, as an API node and a worker): a move locks the task, then
/// supersedes its notices; the delivery side moves a task to `notified` (at expansion when its
/// unit has no webhook, when an attempt is recorded when it has). Both take the task's row
/// first, so neither waits on the other in the opposite order: no move or delivery fails (a
/// deadlock would fail one with SQLSTATE 40P01; seen in most runs with the notices locked
/// first), and every task ends as its move left it, its unit told.
fn operator_moves_during_deliveries_of_their_notices_never_deadlock(b: &Backend) {
    const ROUNDS: usize = 48;
    let store = b.store();
    let rules = TaskRules::default();
    let admin = Actor {
        id: "token:0123456789ab".into(),
        role: "admin".into(),
    };
    // West (webhooks `a`, `b`) and east (none) in turn; reassigned to the other half.
    let west = |i: usize| i % 2 == 0;
    let other = |i: usize| {
        let unit = if west(i) { "410527100" } else { "410526100" };
        TaskTarget {
            unit: unit.into(),
            level: "township".into(),
            county: Some(unit[..6].into()),
        }
    };
    let mut failures = Vec::new();
    let mut ids = Vec::new();
    for i in 0..ROUNDS {
        let at = now() + chrono::Duration::seconds(i as i64);
        // A fresh task whose `task_new` is the one notice waiting.
        let lon = if west(i) { 114.2 } else { 114.8 };
        let fire = hotspot(
            lon,
            30.0 + i as f64 * 0.1,
            at - chrono::Duration::minutes(20),
            5.0,
        );
        let r = store
            .ingest_dispatched(
                &feed(&format!("round{i}"), vec![fire]),
                &FuseParams::default(),
                &Halves,
                &rules,
                at,
            )
            .unwrap();
        let id = store
            .tasks(&TaskQuery::default())
            .unwrap()
            .into_iter()
            .find(|t| t.event_id == r.event_ids[0])
            .unwrap()
            .id;
        ids.push(id);
        let go = std::sync::Barrier::new(2);
        let (moved, delivered) = std::thread::scope(|s| {
            let mover = s.spawn(|| {
                go.wait();
                // Cancel two tasks (west, east), then reassign two, and so on.
                if i % 4 < 2 {
                    store.cancel_task(id, "duplicate", &admin, at)
                } else {
                    store.reassign_task(id, &other(i), "nearer patrol", &admin, &rules, at)
                }
            });
            let worker = s.spawn(|| {
                go.wait();
                // Started a little later in some rounds, so that on a slower or faster
                // machine some rounds meet the move between its two locks.
                std::thread::sleep(Duration::from_micros(200 * (i as u64 / 2 % 6)));
                deliver_once(store, at)
            });
            (mover.join().unwrap(), worker.join().unwrap())
        });
        // The whole chain: PostgreSQL's "deadlock detected" is the innermost.
        let cause = |e: &dyn std::error::Error| {
            let mut out = e.to_string();
            let mut next = e.source();
            while let Some(s) = next {
                out = format!("{out}: {s}");
                next = s.source();
            }
            out
        };
        if let Err(e) = moved {
            failures.push(format!("move of task {id}: {}", cause(&e)));
        }
        if let Err(e) = delivered {
            failures.push(format!("delivery beside task {id}: {}", cause(&e)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed: {failures:#?}",
        failures.len()
    );
    // Whatever a pass passed over, later passes deliver.
    let end = now() + chrono::Duration::hours(1);
    for _ in 0..10 {
        deliver_once(store, end).unwrap();
    }
    let c = store.delivery_counts().unwrap();
    assert_eq!((c.unexpanded, c.pending), (0, 0), "{c:?}");
    for (i, &id) in ids.iter().enumerate() {
        let t = task(store, id);
        if i % 4 < 2 {
            assert_eq!(t.state.as_str(), "cancelled", "task {id}");
        } else {
            // The new unit was told (delivered, or shown on its patrol page).
            assert_eq!(
                (t.state.as_str(), t.unit.as_str()),
                ("notified", other(i).unit.as_str()),
                "task {id}"
            );
        }
    }
}
