//! Tasks and notices written straight into a test server's store (its SQLite file or its
//! PostgreSQL schema), the way dispatch writes them: an event, its task (state `new`) and the
//! task's notice in the outbox, in one transaction. For tests of what comes after the outbox,
//! whose notices must be exactly these. What the tests then check is read through the server's
//! store (`TaskStore`), never the file.

use chrono::{DateTime, Utc};
use strawfire::notify::{Notice, NoticeKind};
use strawfire::store::tasks::TaskQuery;

use super::server::TestServer;

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

/// The statements of [`insert_task`] in SQLite's words (`?N`); PostgreSQL reads them as `$N`.
const INSERT_EVENT: &str =
    "INSERT INTO events (id, lon, lat, footprint_m, first_seen, last_seen, sources, kinds,
       satellite_confidence, camera_confidence, confidence, sightings, updated_at, county,
       township)
     VALUES (?1, ?2, ?3, 375, ?4, ?4, '[]', 'satellite', 0.9, 0, 0.9, 1, ?4, ?5, ?6)";
const INSERT_TASK: &str =
    "INSERT INTO tasks (id, event_id, unit, unit_level, county, state, priority, created_at,
       ack_due, on_site_due, verdict_due, updated_at)
     VALUES (?1, ?1, ?2, 'township', ?3, 'new', 'high', ?4, ?5, ?6, ?7, ?4)";
const ENQUEUE: &str = "INSERT INTO outbox (key, task_id, unit, county, kind, notice, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

fn dollars(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// Inserts event `task_id`, task `task_id` of township `unit` in state `new`, and its
/// `task_new` notice, in one transaction. Returns the notice.
pub fn insert_task(s: &TestServer, task_id: i64, unit: &str, now: DateTime<Utc>) -> Notice {
    let notice = task_new_notice(task_id, unit, now);
    let t = now.timestamp();
    let (county, unit_s) = (unit[..6].to_string(), unit.to_string());
    match &s.pg {
        Some(pg) => {
            let n = notice.clone();
            pg.with(move |c| {
                let mut tx = c.transaction().unwrap();
                tx.execute(
                    &dollars(INSERT_EVENT),
                    &[&task_id, &n.lon, &n.lat, &t, &county, &unit_s],
                )
                .unwrap();
                tx.execute(
                    &dollars(INSERT_TASK),
                    &[
                        &task_id,
                        &unit_s,
                        &county,
                        &t,
                        &(t + 600),
                        &(t + 1800),
                        &(t + 7200),
                    ],
                )
                .unwrap();
                enqueue_pg(&mut tx, &n, t);
                // Explicit ids: the identities go on after them, as SQLite's rowids do.
                for table in ["events", "tasks"] {
                    tx.execute(
                        &format!(
                            "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                               (SELECT MAX(id) FROM {table}))"
                        ),
                        &[],
                    )
                    .unwrap();
                }
                tx.commit().unwrap();
            });
        }
        None => {
            let mut c = open_sqlite(s);
            let tx = c.transaction().unwrap();
            tx.execute(
                INSERT_EVENT,
                rusqlite::params![task_id, notice.lon, notice.lat, t, county, unit_s],
            )
            .unwrap();
            tx.execute(
                INSERT_TASK,
                rusqlite::params![task_id, unit_s, county, t, t + 600, t + 1800, t + 7200],
            )
            .unwrap();
            strawfire::store::outbox::enqueue(&tx, &notice, t).unwrap();
            tx.commit().unwrap();
        }
    }
    notice
}

fn enqueue_pg(tx: &mut postgres::Transaction<'_>, n: &Notice, now: i64) {
    tx.execute(
        &dollars(ENQUEUE),
        &[
            &n.key(),
            &n.task_id,
            &n.unit,
            &n.county,
            &n.kind.name(),
            &serde_json::to_string(n).unwrap(),
            &now,
        ],
    )
    .unwrap();
}

fn open_sqlite(s: &TestServer) -> rusqlite::Connection {
    let db = s
        .dir
        .path()
        .join("data")
        .join(strawfire::service::STORE_FILE);
    let c = rusqlite::Connection::open(db).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    c.pragma_update(None, "foreign_keys", "ON").unwrap();
    c
}

/// Enqueues a further notice (an escalation, a verdict ...) in its own transaction.
pub fn enqueue_notice(s: &TestServer, notice: &Notice, now: DateTime<Utc>) {
    match &s.pg {
        Some(pg) => {
            let n = notice.clone();
            pg.with(move |c| {
                let mut tx = c.transaction().unwrap();
                enqueue_pg(&mut tx, &n, now.timestamp());
                tx.commit().unwrap();
            });
        }
        None => {
            let mut c = open_sqlite(s);
            let tx = c.transaction().unwrap();
            strawfire::store::outbox::enqueue(&tx, notice, now.timestamp()).unwrap();
            tx.commit().unwrap();
        }
    }
}

/// Runs `f` on the running server's store, off the async executor.
pub async fn on_store<T: Send + 'static>(
    s: &TestServer,
    f: impl FnOnce(&dyn strawfire::store::Store) -> T + Send + 'static,
) -> T {
    let store = s
        .running
        .as_ref()
        .expect("a running server")
        .service
        .store_handle();
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .unwrap()
}

/// A task's state and `notified_at` (seconds), read through the server's store.
pub async fn task_state(s: &TestServer, task_id: i64) -> (String, Option<i64>) {
    on_store(s, move |st| {
        let t = st
            .tasks(&TaskQuery {
                id: Some(task_id),
                ..TaskQuery::default()
            })
            .unwrap()
            .pop()
            .unwrap_or_else(|| panic!("no task {task_id}"));
        (
            t.state.as_str().to_string(),
            t.milestones.notified_at.map(|t| t.timestamp()),
        )
    })
    .await
}

/// The audit rows of a task, through the server's store: (actor, role, action, from, to,
/// detail).
pub async fn task_audit(
    s: &TestServer,
    task_id: i64,
) -> Vec<(String, String, String, String, String, serde_json::Value)> {
    on_store(s, move |st| {
        st.audit("task", task_id)
            .unwrap()
            .into_iter()
            .map(|a| {
                (
                    a.actor,
                    a.role,
                    a.action,
                    a.from_state.unwrap_or_default(),
                    a.to_state.unwrap_or_default(),
                    a.detail,
                )
            })
            .collect()
    })
    .await
}
