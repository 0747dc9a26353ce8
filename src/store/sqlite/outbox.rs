//! The notification outbox in SQLite, at its old path (`store::outbox`): notices are inserted
//! inside the transaction of the change that causes them (`store::shared::outbox`, which both
//! backends run). Delivery (expanding a notice to the unit's webhooks, attempts, backoff) is the
//! `notify` module's job and reads these rows.

use rusqlite::Connection;

use crate::notify::Notice;
use crate::store::error::StoreError;
use crate::store::shared::outbox;

/// Inserts a notice into the outbox within `tx`; a notice whose key is already there is kept
/// once. Returns true when it was new.
pub fn enqueue(mut tx: &Connection, notice: &Notice, now: i64) -> Result<bool, StoreError> {
    outbox::enqueue(&mut tx, notice, now)
}

/// Supersedes the notices about task `task_id` that no longer hold because the task was
/// cancelled or given to another unit (`why`: `cancel`, `reassign`; see
/// `store::shared::outbox::supersede`). Returns the notices superseded.
pub fn supersede(
    mut tx: &Connection,
    task_id: i64,
    now: i64,
    why: &str,
) -> Result<usize, StoreError> {
    Ok(outbox::supersede(&mut tx, task_id, now, why)? as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::NoticeKind;

    fn notice(kind: NoticeKind) -> Notice {
        Notice::test(kind, 1, "410526100")
    }

    #[test]
    fn a_notice_is_kept_once_and_distinct_changes_are_kept_apart() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::super::migrations::migrate(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO events (id, lon, lat, footprint_m, first_seen, last_seen, sources, kinds,
               satellite_confidence, camera_confidence, confidence, sightings, updated_at)
             VALUES (1, 114.5, 35.5, 375, 0, 0, '', '', 0.8, 0, 0.8, 1, 0);
             INSERT INTO tasks (id, event_id, unit, unit_level, state, priority, created_at,
               ack_due, on_site_due, verdict_due, updated_at)
             VALUES (1, 1, '410526100', 'township', 'new', 'normal', 0, 600, 1800, 7200, 0);",
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        assert!(enqueue(&tx, &notice(NoticeKind::TaskNew), 0).unwrap());
        assert!(!enqueue(&tx, &notice(NoticeKind::TaskNew), 5).unwrap());
        assert!(enqueue(&tx, &notice(NoticeKind::TaskUpdated { sightings: 2 }), 5).unwrap());
        tx.commit().unwrap();
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 2);
        let json: String = conn
            .query_row(
                "SELECT notice FROM outbox WHERE kind = 'task_updated'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let back: Notice = serde_json::from_str(&json).unwrap();
        assert_eq!(back, notice(NoticeKind::TaskUpdated { sightings: 2 }));
    }
}
