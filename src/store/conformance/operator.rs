//! The operator's moves (#17) on both stores: a task by hand, reassign, cancel, send back and
//! reopen, each with its audit row and the notices it supersedes and enqueues (seen through
//! the delivery side: every notice is routed to one webhook, `w`).

use super::*;
use crate::dispatch::{TaskRules, TaskState};
use crate::store::deliveries::{AttemptOutcome, DeliveryRow, DeliveryStatus};
use crate::store::tasks::{Actor, TaskError, TaskQuery, TaskTarget};

both_stores!(
    a_task_by_hand_is_made_once_for_a_taskless_event,
    reassign_and_cancel_supersede_waiting_notices_and_tell_the_units,
    a_returned_verdict_is_kept_and_a_closed_task_reopens,
    concurrent_operator_moves_of_one_task_apply_once,
);

fn admin() -> Actor {
    Actor {
        id: "token:0123456789ab".into(),
        role: "admin".into(),
    }
}

fn to(unit: &str) -> TaskTarget {
    TaskTarget {
        unit: unit.into(),
        level: "township".into(),
        county: Some(unit[..6].into()),
    }
}

fn every_notice_to_w(_: &crate::notify::Notice) -> Vec<String> {
    vec!["w".into()]
}

/// The deliveries after expanding the outbox, by key.
fn deliveries_by_key(store: &dyn Store, now: DateTime<Utc>) -> Vec<DeliveryRow> {
    store.expand_outbox(&every_notice_to_w, now, 100).unwrap();
    let mut rows = store.deliveries(None, None, 100).unwrap();
    rows.sort_by(|a, b| a.idempotency_key.cmp(&b.idempotency_key));
    rows
}

/// Two fresh fires (a task each, west and east) and a week-old one (no task: `too_old`), at
/// `now`; the event ids west, east, old.
fn three_fires(store: &dyn Store, now: DateTime<Utc>) -> (i64, i64, i64) {
    let t = now - chrono::Duration::minutes(30);
    let p = FuseParams::default();
    let rules = TaskRules::default();
    let r = store
        .ingest_dispatched(
            &feed(
                "o1",
                vec![hotspot(114.2, 35.1, t, 9.0), hotspot(114.8, 35.1, t, 2.0)],
            ),
            &p,
            &Halves,
            &rules,
            now,
        )
        .unwrap();
    let old = store
        .ingest_dispatched(
            &feed(
                "o2",
                vec![hotspot(114.3, 35.4, t - chrono::Duration::days(7), 3.0)],
            ),
            &p,
            &Halves,
            &rules,
            now,
        )
        .unwrap();
    assert_eq!(old.events_too_old, 1);
    (r.event_ids[0], r.event_ids[1], old.event_ids[0])
}

fn task_of(store: &dyn Store, event_id: i64) -> crate::store::tasks::StoredTask {
    store
        .tasks(&TaskQuery::default())
        .unwrap()
        .into_iter()
        .find(|t| t.event_id == event_id)
        .unwrap()
}

/// A task by hand for an event dispatch gave none: `new`, to the target, audited with the
/// operator's reason and dispatch's, its `task_new` notice enqueued, the event's reason
/// cleared; a second one for that event, or one for an event that does not exist, is refused.
fn a_task_by_hand_is_made_once_for_a_taskless_event(b: &Backend) {
    let store = b.store();
    let now = t0() + chrono::Duration::hours(10);
    let rules = TaskRules::default();
    let (west, _, old) = three_fires(store, now);
    let task = store
        .create_task_for(
            old,
            &to("410526100"),
            "seen from the tower",
            &admin(),
            &rules,
            now,
        )
        .unwrap();
    assert_eq!(
        (task.event_id, task.state, task.unit.as_str()),
        (old, TaskState::New, "410526100")
    );
    assert_eq!(task.county.as_deref(), Some("410526"));
    assert_eq!(task.milestones.created_at, Some(now));
    assert!(task.ack_due > now);
    let audit = store.audit("task", task.id).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "create");
    assert_eq!(audit[0].actor, admin().id);
    assert_eq!(audit[0].detail["manual"], true);
    assert_eq!(audit[0].detail["reason"], "seen from the tower");
    assert_eq!(audit[0].detail["dispatch_reason"], "too_old");
    assert_eq!(audit[0].detail["event_id"], old);
    let reasons = store
        .events(&EventQuery {
            task: Some(TaskFilter::Reason("too_old".into())),
            ..EventQuery::default()
        })
        .unwrap();
    assert!(reasons.is_empty(), "the event has a task now");
    let keys: Vec<String> = deliveries_by_key(store, now)
        .into_iter()
        .map(|d| d.idempotency_key)
        .collect();
    assert!(
        keys.contains(&format!("task-{}-new-410526100:w", task.id)),
        "{keys:?}"
    );

    for event in [old, west] {
        match store.create_task_for(event, &to("410526100"), "again", &admin(), &rules, now) {
            Err(TaskError::Illegal(e)) => assert_eq!(e.action, "create"),
            other => panic!("event {event}: {other:?}"),
        }
    }
    match store.create_task_for(987_654, &to("410526100"), "x", &admin(), &rules, now) {
        Err(TaskError::NotFound { what: "event", id }) => assert_eq!(id, 987_654),
        other => panic!("{other:?}"),
    }
    assert_eq!(b.count("tasks"), 3);
}

/// Reassign: the task starts again (`new`, deadlines from now, notified cleared) at the new
/// unit, which gets a `task_new` of round 1; the old unit, which had been told, is told it was
/// taken (`withdrawn`); a notice still waiting about the task is superseded, never claimed.
/// Cancel: final, its waiting notices superseded; a task never told to anyone sends no
/// `cancelled`. Moves the state machine refuses change nothing.
fn reassign_and_cancel_supersede_waiting_notices_and_tell_the_units(b: &Backend) {
    let store = b.store();
    let now = t0() + chrono::Duration::hours(10);
    let rules = TaskRules::default();
    let (west, east, _) = three_fires(store, now);
    let (west, east) = (task_of(store, west), task_of(store, east));
    // The west task's notice goes out: it is `notified`.
    deliveries_by_key(store, now);
    let claimed = store
        .claim_deliveries(now, 10, 3, &|_, _| std::time::Duration::from_secs(60))
        .unwrap();
    let west_new = claimed
        .iter()
        .find(|c| c.notice.task_id == west.id)
        .unwrap();
    store
        .record_attempt(
            west_new.id,
            &AttemptOutcome::Delivered { status: 200 },
            now,
            3,
        )
        .unwrap();
    assert_eq!(task_of(store, west.event_id).state, TaskState::Notified);
    // An update about it waits (a later detection), then it is reassigned.
    let later = now + chrono::Duration::minutes(5);
    store
        .ingest_dispatched(
            &feed("o3", vec![hotspot(114.2001, 35.1, later, 4.0)]),
            &FuseParams::default(),
            &Halves,
            &rules,
            later,
        )
        .unwrap();
    let moved = store
        .reassign_task(
            west.id,
            &to("410526101"),
            "closer patrol",
            &admin(),
            &rules,
            later,
        )
        .unwrap();
    assert_eq!(
        (moved.state, moved.unit.as_str()),
        (TaskState::New, "410526101")
    );
    assert_eq!(moved.milestones.notified_at, None);
    assert!(moved.ack_due > later && moved.ack_due > west.ack_due);
    let audit = store.audit("task", west.id).unwrap();
    let last = audit.last().unwrap();
    assert_eq!(
        (
            last.action.as_str(),
            last.from_state.as_deref(),
            last.to_state.as_deref()
        ),
        ("reassign", Some("notified"), Some("new"))
    );
    assert_eq!(last.detail["from_unit"], "410526100");
    assert_eq!(last.detail["reason"], "closer patrol");
    match store.reassign_task(west.id, &to("410526101"), "x", &admin(), &rules, later) {
        Err(TaskError::Illegal(_)) => {}
        other => panic!("reassign to its own unit: {other:?}"),
    }

    let rows = deliveries_by_key(store, later);
    let status = |key: &str| {
        rows.iter()
            .find(|r| r.idempotency_key == key)
            .unwrap_or_else(|| panic!("{key} in {rows:?}"))
    };
    let w = west.id;
    assert_eq!(
        status(&format!("task-{w}-new-410526100:w")).status,
        DeliveryStatus::Delivered,
        "what went out stays delivered"
    );
    let update = status(&format!("task-{w}-update-2-410526100:w"));
    assert_eq!(update.status, DeliveryStatus::Superseded);
    assert_eq!(update.superseded_by.as_deref(), Some("reassign"));
    assert_eq!(update.superseded_at, Some(later));
    assert_eq!(
        status(&format!("task-{w}-new-r1-410526101:w")).status,
        DeliveryStatus::Pending
    );
    assert_eq!(
        status(&format!("task-{w}-withdrawn-r1-410526100:w")).status,
        DeliveryStatus::Pending
    );

    // Cancel the east task before its notice went out: superseded, nothing else sent.
    let e = east.id;
    let cancelled = store
        .cancel_task(e, "a stubble fire we know", &admin(), later)
        .unwrap();
    assert_eq!(cancelled.state, TaskState::Cancelled);
    assert_eq!(cancelled.milestones.cancelled_at, Some(later));
    let rows = deliveries_by_key(store, later);
    let east_rows: Vec<_> = rows
        .iter()
        .filter(|r| r.task_id == Some(e))
        .map(|r| (r.idempotency_key.as_str(), r.status))
        .collect();
    assert_eq!(
        east_rows,
        [(
            format!("task-{e}-new-410527100:w").as_str(),
            DeliveryStatus::Superseded
        )]
    );
    let claimed = store
        .claim_deliveries(later, 10, 3, &|_, _| std::time::Duration::from_secs(60))
        .unwrap();
    let mut keys: Vec<_> = claimed.iter().map(|c| c.idempotency_key.clone()).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            format!("task-{w}-new-r1-410526101:w"),
            format!("task-{w}-withdrawn-r1-410526100:w")
        ],
        "superseded notices are never claimed"
    );
    let counts = store.delivery_counts().unwrap();
    assert_eq!((counts.superseded, counts.delivered), (2, 1));
    match store.cancel_task(e, "again", &admin(), later) {
        Err(TaskError::Illegal(i)) => assert_eq!(i.from, "cancelled"),
        other => panic!("{other:?}"),
    }
    match store.cancel_task(987_654, "x", &admin(), later) {
        Err(TaskError::NotFound { what: "task", .. }) => {}
        other => panic!("{other:?}"),
    }
    // A notified task cancelled tells its unit.
    let w2 = store.cancel_task(w, "rain", &admin(), later).unwrap();
    assert_eq!(w2.state, TaskState::Cancelled);
    let rows = deliveries_by_key(store, later);
    assert!(
        !rows.iter().any(|r| r
            .idempotency_key
            .starts_with(&format!("task-{w}-cancelled"))),
        "a reassigned task still `new` was told to no one yet: no cancelled notice"
    );
}

/// Send back: the verdict row moves whole to `returned_verdicts`, the task is `acknowledged`
/// with its arrival cleared and new on-site and verdict deadlines, the unit gets a `sent_back`
/// notice of round 1. Reopen: a closed task is `verified` again. Both audited.
fn a_returned_verdict_is_kept_and_a_closed_task_reopens(b: &Backend) {
    let store = b.store();
    let now = t0() + chrono::Duration::hours(10);
    let rules = TaskRules::default();
    let (west, _, _) = three_fires(store, now);
    let task = task_of(store, west);
    let at = now.timestamp();
    // A verdict recorded (written as the verdict path writes it, in SQL both dialects read).
    b.exec(&format!(
        "INSERT INTO verdicts (id, task_id, verdict, reported_at, received_at, lat, lon,
           distance_m, note, photo_sha256, photo_dhash, photo_path, photo_bytes, flags, review,
           actor)
         VALUES (41, {id}, 'no_fire_other', {at}, {at}, 35.1, 114.2, 12.0, 'nothing', 'ab',
           7, 'photos/ab.jpg', 100, '[]', 0, 'token:0123456789ab');
         UPDATE tasks SET state = 'verified', verdict = 'no_fire_other', acknowledged_at = {at},
           on_site_at = {at}, verified_at = {at}, escalations = 'ack,verdict' WHERE id = {id};",
        id = task.id
    ));
    let later = now + chrono::Duration::hours(1);
    let back = store
        .send_back_task(task.id, "photo is of a road", &admin(), &rules, later)
        .unwrap();
    assert_eq!(back.state, TaskState::Acknowledged);
    assert_eq!(back.verdict, None);
    assert_eq!(back.milestones.on_site_at, None);
    assert_eq!(back.milestones.verified_at, None);
    assert!(back.on_site_due > later && back.verdict_due > back.on_site_due);
    assert_eq!(back.escalations, ["ack"]);
    assert_eq!((b.count("verdicts"), b.count("returned_verdicts")), (0, 1));
    let audit = store.audit("task", task.id).unwrap();
    let last = audit.last().unwrap();
    assert_eq!(last.action, "send_back");
    assert_eq!(last.detail["verdict_id"], 41);
    assert_eq!(last.detail["verdict"], "no_fire_other");
    assert_eq!(last.detail["returned"], 1);
    let keys: Vec<String> = deliveries_by_key(store, later)
        .into_iter()
        .map(|d| d.idempotency_key)
        .collect();
    assert!(
        keys.contains(&format!("task-{}-sent-back-41-r1-410526100:w", task.id)),
        "{keys:?}"
    );
    match store.send_back_task(task.id, "again", &admin(), &rules, later) {
        Err(TaskError::Illegal(i)) => assert_eq!(i.from, "acknowledged"),
        other => panic!("{other:?}"),
    }

    b.exec(&format!(
        "UPDATE tasks SET state = 'closed', closed_at = {at} WHERE id = {}",
        task.id
    ));
    let reopened = store
        .reopen_task(task.id, "the county asks again", &admin(), later)
        .unwrap();
    assert_eq!(reopened.state, TaskState::Verified);
    assert_eq!(reopened.milestones.closed_at, None);
    let last = store.audit("task", task.id).unwrap().pop().unwrap();
    assert_eq!(
        (last.action.as_str(), last.detail["reason"].as_str()),
        ("reopen", Some("the county asks again"))
    );
}

/// The same task cancelled and reassigned at once from several places (two operators on two
/// API nodes): the moves are serialised on the task, so exactly one of them is made and the
/// others find the task already moved; one audit row, one task state.
fn concurrent_operator_moves_of_one_task_apply_once(b: &Backend) {
    let store = b.store();
    let now = t0() + chrono::Duration::hours(5);
    let (w, _, _) = three_fires(store, now);
    let task = task_of(store, w);
    let rules = TaskRules::default();
    let results: Vec<Result<crate::store::tasks::StoredTask, TaskError>> =
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let rules = &rules;
                    s.spawn(move || {
                        if i % 2 == 0 {
                            store.cancel_task(task.id, "duplicate", &admin(), now)
                        } else {
                            store.reassign_task(
                                task.id,
                                &to(&format!("41052{i}100")),
                                "nearer patrol",
                                &admin(),
                                rules,
                                now,
                            )
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
    let made: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let cancels = made
        .iter()
        .filter(|t| t.state == TaskState::Cancelled)
        .count();
    // A reassigned task is `new` again and may be reassigned or cancelled once more; what
    // may not happen is two moves reading the same state: every move made is audited from
    // the state the previous one left.
    assert!(cancels <= 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(TaskError::Illegal(_)))),
        "{results:?}"
    );
    let audit = store.audit("task", task.id).unwrap();
    let mut moves: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "cancel" || a.action == "reassign")
        .collect();
    moves.sort_by_key(|a| a.id);
    assert_eq!(moves.len(), made.len(), "{moves:?}");
    for pair in moves.windows(2) {
        assert_eq!(pair[1].from_state, pair[0].to_state, "{moves:?}");
    }
    let final_task = task_of(store, w);
    if cancels == 1 {
        assert_eq!(final_task.state, TaskState::Cancelled);
        assert_eq!(moves.last().unwrap().action, "cancel", "{moves:?}");
    }
}
