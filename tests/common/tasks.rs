//! Tasks and notices written straight into a server's SQLite file, the way dispatch writes
//! them: an event, its task (state `new`) and the task's notice in the outbox, in one
//! transaction (`store::outbox::enqueue`). For tests of what comes after the outbox.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use strawfire::notify::{Notice, NoticeKind};
use strawfire::store::outbox::enqueue;

/// The store file of a test server's data dir.
pub fn db_path(dir: &Path) -> PathBuf {
    dir.join("data").join(strawfire::service::STORE_FILE)
}

/// A connection to a live server's store (WAL: it reads and writes beside the server).
pub fn open(db: &Path) -> Connection {
    let c = Connection::open(db).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    c.pragma_update(None, "foreign_keys", "ON").unwrap();
    c
}

/// The notice a new task of `unit` (a township code) tells its unit.
pub fn task_new_notice(task_id: i64, unit: &str, now: DateTime<Utc>) -> Notice {
    Notice {
        kind: NoticeKind::TaskNew,
        task_id,
        event_id: task_id,
        unit: unit.into(),
        unit_name: Some(format!("乡镇 {unit}")),
        county: Some(unit[..6].to_string()),
        priority: "high".into(),
        state: "new".into(),
        lat: 35.6 + task_id as f64 * 0.01,
        lon: 114.5,
        first_seen: now - chrono::Duration::minutes(20),
        last_seen: now - chrono::Duration::minutes(5),
        due: Some(now + chrono::Duration::minutes(30)),
        max_frp_mw: Some(4.5),
        confidence: 0.9,
        detail: String::new(),
        place: Vec::new(),
        parcel: None,
        note: None,
        review: Vec::new(),
        photo_sha256: None,
        round: 0,
    }
}

/// Inserts event `task_id`, task `task_id` of township `unit` in state `new`, and its
/// `task_new` notice, in one transaction. Returns the notice.
pub fn insert_task(db: &Path, task_id: i64, unit: &str, now: DateTime<Utc>) -> Notice {
    let notice = task_new_notice(task_id, unit, now);
    let mut c = open(db);
    let tx = c.transaction().unwrap();
    let t = now.timestamp();
    tx.execute(
        "INSERT INTO events (id, lon, lat, footprint_m, first_seen, last_seen, sources, kinds,
           satellite_confidence, camera_confidence, confidence, sightings, updated_at, county,
           township)
         VALUES (?1, ?2, ?3, 375, ?4, ?4, '[]', 'satellite', 0.9, 0, 0.9, 1, ?4, ?5, ?6)",
        params![task_id, notice.lon, notice.lat, t, &unit[..6], unit],
    )
    .unwrap();
    tx.execute(
        "INSERT INTO tasks (id, event_id, unit, unit_level, county, state, priority, created_at,
           ack_due, on_site_due, verdict_due, updated_at)
         VALUES (?1, ?1, ?2, 'township', ?3, 'new', 'high', ?4, ?5, ?6, ?7, ?4)",
        params![task_id, unit, &unit[..6], t, t + 600, t + 1800, t + 7200],
    )
    .unwrap();
    enqueue(&tx, &notice, t).unwrap();
    tx.commit().unwrap();
    notice
}

/// Enqueues a further notice (an escalation, a verdict ...) in its own transaction.
pub fn enqueue_notice(db: &Path, notice: &Notice, now: DateTime<Utc>) {
    let mut c = open(db);
    let tx = c.transaction().unwrap();
    enqueue(&tx, notice, now.timestamp()).unwrap();
    tx.commit().unwrap();
}

/// A task's state and `notified_at` (seconds).
pub fn task_state(db: &Path, task_id: i64) -> (String, Option<i64>) {
    open(db)
        .query_row(
            "SELECT state, notified_at FROM tasks WHERE id = ?1",
            [task_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

/// The audit rows of a task: (actor, role, action, from, to, detail as JSON).
pub fn task_audit(
    db: &Path,
    task_id: i64,
) -> Vec<(String, String, String, String, String, serde_json::Value)> {
    let c = open(db);
    let mut st = c
        .prepare(
            "SELECT actor, role, action, from_state, to_state, detail FROM audit
             WHERE entity = 'task' AND entity_id = ?1 ORDER BY id",
        )
        .unwrap();
    st.query_map([task_id], |r| {
        let detail: String = r.get(5)?;
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            serde_json::from_str(&detail).unwrap(),
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}
