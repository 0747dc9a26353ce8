//! A batch's dispatch as a whole (PostgreSQL creates a batch's tasks, audit rows and notices
//! in a fixed number of statements, `postgres/dispatch.rs`): the rows are those of the same
//! events ingested one batch each on SQLite, where every step runs event by event — ids,
//! deadlines, priorities (a county's first of the season once per batch), audit texts,
//! notices and their order; a refused row leaves none of them.

use super::*;
use crate::dispatch::TaskRules;
use crate::store::tasks::{Actor, TaskQuery, TaskTarget};

both_stores!(
    a_batch_dispatches_as_its_events_one_batch_each,
    sightings_of_one_new_event_in_a_batch_make_one_task,
    a_refused_row_leaves_no_task_audit_or_notice,
);

fn admin() -> Actor {
    Actor {
        id: "token:0123456789ab".into(),
        role: "admin".into(),
    }
}

/// The tasks, audit rows, outbox rows and events' dispatch columns, every column as text, by
/// id.
fn dump(b: &Backend) -> Vec<Vec<String>> {
    vec![
        b.texts(
            "SELECT id || '|' || event_id || '|' || unit || '|' || unit_level || '|' ||
               COALESCE(county, '-') || '|' || state || '|' || priority || '|' || created_at
               || '|' || ack_due || '|' || on_site_due || '|' || verdict_due || '|' ||
               updated_at || '|' || escalations || '|' || COALESCE(cancelled_at, -1)
             FROM tasks ORDER BY id",
        ),
        b.texts(
            "SELECT id || '|' || at || '|' || actor || '|' || role || '|' || entity || '|' ||
               entity_id || '|' || action || '|' || COALESCE(from_state, '-') || '|' ||
               COALESCE(to_state, '-') || '|' || detail
             FROM audit ORDER BY id",
        ),
        b.texts(
            "SELECT id || '|' || key || '|' || COALESCE(task_id, -1) || '|' || unit || '|' ||
               COALESCE(county, '-') || '|' || kind || '|' || notice || '|' || created_at
             FROM outbox ORDER BY id",
        ),
        b.texts(
            "SELECT id || '|' || COALESCE(task_reason, '-') || '|' || sightings
             FROM events ORDER BY id",
        ),
    ]
}

/// Three west tasks (county 410526) at `now`; the second reassigned (its notices then carry
/// round 1), the third cancelled (seen again, it is told nothing). Their event ids.
fn setup(store: &dyn Store, t: DateTime<Utc>, now: DateTime<Utc>) -> [i64; 3] {
    let rules = TaskRules::default();
    let r = store
        .ingest_dispatched(
            &feed(
                "s1",
                vec![
                    hotspot(114.20, 35.10, t, 9.0),
                    hotspot(114.30, 35.20, t, 2.0),
                    hotspot(114.40, 35.30, t, 2.0),
                ],
            ),
            &FuseParams::default(),
            &Halves,
            &rules,
            now,
        )
        .unwrap();
    let tasks = store.tasks(&TaskQuery::default()).unwrap();
    let task = |event: i64| tasks.iter().find(|t| t.event_id == event).unwrap().id;
    let [a, b, c] = [r.event_ids[0], r.event_ids[1], r.event_ids[2]];
    let target = TaskTarget {
        unit: "410526200".into(),
        level: "township".into(),
        county: Some("410526".into()),
    };
    store
        .reassign_task(task(b), &target, "closer", &admin(), &rules, now)
        .unwrap();
    store
        .cancel_task(task(c), "a duplicate", &admin(), now)
        .unwrap();
    [a, b, c]
}

/// The batch: a new fire west (410526 has tasks: not its first of the season), the first
/// task's fire seen again (told), the first fire east (410527's first of the season), the
/// reassigned task's fire seen again (told, round 1), the cancelled task's fire seen again
/// (not told), a second new fire east (not the first: the one before it in the batch counts),
/// a week-old fire (no task: `too_old`).
fn batch_rows(t: DateTime<Utc>) -> Vec<Hotspot> {
    let later = t + chrono::Duration::minutes(10);
    vec![
        hotspot(114.10, 35.50, later, 4.0),
        hotspot(114.2001, 35.10, later, 3.0),
        hotspot(114.80, 35.50, later, 30.0),
        hotspot(114.3001, 35.20, later, 3.0),
        hotspot(114.4001, 35.30, later, 3.0),
        hotspot(114.90, 35.60, later, 2.0),
        hotspot(114.60, 35.80, t - chrono::Duration::days(7), 2.0),
    ]
}

/// The batch ingested whole gives the rows of its hotspots ingested one batch each on
/// SQLite (event by event there: the reference), and what each step should be.
fn a_batch_dispatches_as_its_events_one_batch_each(b: &Backend) {
    let store = b.store();
    let t = t0() + chrono::Duration::hours(10);
    let now = t + chrono::Duration::minutes(30);
    let rules = TaskRules::default();
    let p = FuseParams::default();
    setup(store, t, now);
    let r = store
        .ingest_dispatched(&feed("whole", batch_rows(t)), &p, &Halves, &rules, now)
        .unwrap();
    assert_eq!(
        (r.events_new, r.events_updated, r.events_too_old),
        (4, 3, 1)
    );

    let dir = tempfile::tempdir().unwrap();
    let reference = SqliteStore::open(&dir.path().join("one_by_one.sqlite")).unwrap();
    setup(&reference, t, now);
    for (n, h) in batch_rows(t).into_iter().enumerate() {
        reference
            .ingest_dispatched(&feed(&format!("one{n}"), vec![h]), &p, &Halves, &rules, now)
            .unwrap();
    }
    let got = dump(b);
    let want = dump(&Backend::Sqlite(&reference));
    for (what, (g, w)) in ["tasks", "audit", "outbox", "events"]
        .iter()
        .zip(got.iter().zip(&want))
    {
        assert_eq!(g, w, "{what}: the batch against one batch per hotspot");
    }

    // What the rows should say, beyond agreeing.
    let creates = b.texts("SELECT detail FROM audit WHERE action = 'create' ORDER BY id");
    let first: Vec<bool> = creates
        .iter()
        .map(|d| serde_json::from_str::<serde_json::Value>(d).unwrap()["first_of_season"] == true)
        .collect();
    assert_eq!(
        first,
        [true, false, false, false, true, false],
        "410526's first in the setup only; 410527's first once, in the batch"
    );
    let notices = b.texts("SELECT key FROM outbox ORDER BY id");
    // `task-<id>-<what>-<unit>`.
    let what = |k: &String| {
        let rest = k.splitn(3, '-').nth(2).unwrap();
        rest[..rest.rfind('-').unwrap()].to_string()
    };
    let tail: Vec<String> = notices[notices.len() - 5..].iter().map(what).collect();
    assert_eq!(
        tail,
        ["new", "update-2", "new", "update-2-r1", "new"],
        "{notices:?}"
    );
    let told_b = b.texts("SELECT unit FROM outbox ORDER BY id DESC LIMIT 2");
    assert_eq!(
        told_b[1], "410526200",
        "the reassigned task's new unit is told"
    );
}

/// Sightings of one new fire in a batch make one event and one task (one `task_new`).
fn sightings_of_one_new_event_in_a_batch_make_one_task(b: &Backend) {
    let store = b.store();
    let t = t0() + chrono::Duration::hours(10);
    let rules = TaskRules::default();
    let r = store
        .ingest_dispatched(
            &feed(
                "two",
                vec![
                    hotspot(114.10, 35.50, t, 4.0),
                    hotspot(114.1001, 35.50, t, 5.0),
                    hotspot(114.80, 35.50, t, 5.0),
                ],
            ),
            &FuseParams::default(),
            &Halves,
            &rules,
            t,
        )
        .unwrap();
    assert_eq!((r.hotspots_new, r.events_new), (3, 2));
    let tasks = store.tasks(&TaskQuery::default()).unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(b.outbox(), ["task_new 410526100", "task_new 410527100"]);
    assert_eq!(b.count("audit"), 2);
}

/// A batch whose row the store refuses creates no task, audit row or notice; the same fires
/// ingested afterwards are their counties' first of the season.
fn a_refused_row_leaves_no_task_audit_or_notice(b: &Backend) {
    let store = b.store();
    let t = t0() + chrono::Duration::hours(10);
    let rules = TaskRules::default();
    let p = FuseParams::default();
    b.refuse_far_north();
    let good = vec![hotspot(114.2, 35.1, t, 9.0), hotspot(114.8, 35.1, t, 2.0)];
    let mut rows = good.clone();
    rows.push(hotspot(114.6, 85.0, t, 2.0));
    let err = store
        .ingest_dispatched(&feed("bad", rows), &p, &Halves, &rules, t)
        .unwrap_err();
    match &err {
        StoreError::Row { what, index, .. } => assert_eq!((*what, *index), ("hotspot", 3)),
        other => panic!("{other}"),
    }
    for table in ["events", "tasks", "audit", "outbox"] {
        assert_eq!(b.count(table), 0, "{table}: nothing of the refused batch");
    }
    store
        .ingest_dispatched(&feed("good", good), &p, &Halves, &rules, t)
        .unwrap();
    let first = b.texts("SELECT detail FROM audit ORDER BY id");
    assert_eq!(first.len(), 2);
    assert!(
        first.iter().all(|d| d.contains("\"first_of_season\":true")),
        "{first:?}"
    );
    assert_eq!(b.outbox(), ["task_new 410526100", "task_new 410527100"]);
}
