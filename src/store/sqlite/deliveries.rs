//! Deliveries of outbox notices to webhooks, in SQLite: the state that makes a notification
//! arrive exactly once as far as an idempotent receiver can tell.
//!
//! The life of a delivery, each step one transaction:
//! 1. **expand**: an outbox row becomes one `deliveries` row per matching webhook, idempotency key
//!    `<outbox.key>:<webhook name>`, due at once; the outbox row is marked expanded. A `task_new`
//!    notice for a unit without any webhook moves its task to `notified` right here (the patrol
//!    page is then the only way it is seen).
//! 2. **claim**: due rows get `attempts + 1` and `next_attempt_at = now + backoff` committed
//!    *before* the request is sent. That is a lease: if the process dies mid-request, the row
//!    is due again after the backoff and is re-sent with the same key; nothing is lost, and the
//!    receiver can drop the repeat by its key.
//! 3. **record**: success sets `delivered_at` (and, for `task_new`, moves the task new → notified
//!    with an audit row, in the same transaction); a failure keeps `last_error`, and gives up
//!    once `max_attempts` are spent (or at once when the receiver refuses for good).

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::{from_ts, ts, SqliteStore};
use crate::notify::Notice;
use crate::store::deliveries::{
    AttemptOutcome, ClaimedDelivery, DeliveryCounts, DeliveryRow, DeliveryStatus, DeliveryStore,
    Expansion, NotifiedTask, Recorded,
};
use crate::store::error::{SqlContext, StoreError};

impl DeliveryStore for SqliteStore {
    fn expand_outbox(
        &self,
        route: &dyn Fn(&Notice) -> Vec<String>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Expansion, StoreError> {
        // The worker asks every second: look with a reader before taking the write lock.
        let new = "SELECT EXISTS (SELECT 1 FROM outbox WHERE expanded = 0)";
        if !self.read(|c| c.query_row(new, [], |r| r.get(0)).ctx("look for notices"))? {
            return Ok(Expansion::default());
        }
        self.writer.write(|tx| {
            let rows: Vec<(i64, String, Option<i64>, String, bool)> = {
                let mut st = tx
                    .prepare(
                        "SELECT id, key, task_id, notice, superseded_at IS NOT NULL FROM outbox
                     WHERE expanded = 0
                     ORDER BY id LIMIT ?1",
                    )
                    .ctx("prepare outbox")?;
                let rows = st
                    .query_map([limit as i64], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })
                    .ctx("query outbox")?;
                rows.collect::<Result<_, _>>().ctx("read outbox")?
            };
            let mut done = Expansion::default();
            for (id, key, task_id, json, superseded) in rows {
                let Ok(notice) = serde_json::from_str::<Notice>(&json) else {
                    tx.execute("UPDATE outbox SET expanded = 1 WHERE id = ?1", [id])
                        .ctx("mark outbox expanded")?;
                    done.unreadable.push(id);
                    continue;
                };
                let hooks = route(&notice);
                for hook in &hooks {
                    done.deliveries += tx
                        .execute(
                            "INSERT INTO deliveries
                           (outbox_id, webhook, idempotency_key, attempts, next_attempt_at)
                         VALUES (?1, ?2, ?3, 0, ?4)
                         ON CONFLICT(idempotency_key) DO NOTHING",
                            params![id, hook, format!("{key}:{hook}"), ts(now)],
                        )
                        .ctx("insert delivery")?;
                }
                // A superseded notice still gets its delivery rows (shown `superseded`, never
                // sent) but moves no task.
                if hooks.is_empty() && notice.kind.name() == "task_new" && !superseded {
                    if let Some(task) = task_id {
                        let detail = serde_json::json!({
                            "webhook": null,
                            "notice": key,
                            "note": format!(
                                "no webhook for unit {}: the task is shown on the patrol page only",
                                notice.unit
                            ),
                        });
                        if super::tasks::mark_notified_tx(tx, task, now, &detail)? {
                            done.notified_without_webhook.push(NotifiedTask {
                                id: task,
                                county: notice.county.clone(),
                                unit: notice.unit.clone(),
                            });
                        }
                    }
                }
                tx.execute("UPDATE outbox SET expanded = 1 WHERE id = ?1", [id])
                    .ctx("mark outbox expanded")?;
                done.notices += 1;
            }
            Ok(done)
        })
    }

    fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        max_attempts: u32,
        lease: &dyn Fn(&str, u32) -> std::time::Duration,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let due = "SELECT EXISTS (SELECT 1 FROM deliveries d JOIN outbox o ON o.id = d.outbox_id
                     WHERE d.delivered_at IS NULL AND d.gave_up_at IS NULL
                       AND d.next_attempt_at <= ?1 AND o.superseded_at IS NULL)";
        if !self.read(|c| {
            c.query_row(due, [ts(now)], |r| r.get(0))
                .ctx("look for due")
        })? {
            return Ok(Vec::new());
        }
        self.writer.write(|tx| {
            let due: Vec<(i64, String, String, u32, String)> = {
                let mut st = tx
                    .prepare(
                        "SELECT d.id, d.webhook, d.idempotency_key, d.attempts, o.notice
                     FROM deliveries d JOIN outbox o ON o.id = d.outbox_id
                     WHERE d.delivered_at IS NULL AND d.gave_up_at IS NULL
                       AND d.next_attempt_at <= ?1 AND o.superseded_at IS NULL
                     ORDER BY d.next_attempt_at, d.id LIMIT ?2",
                    )
                    .ctx("prepare due deliveries")?;
                let rows = st
                    .query_map(params![ts(now), limit as i64], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })
                    .ctx("query due deliveries")?;
                rows.collect::<Result<_, _>>().ctx("read due deliveries")?
            };
            let mut claimed = Vec::with_capacity(due.len());
            for (id, webhook, key, attempts, json) in due {
                if attempts >= max_attempts {
                    tx.execute(
                        "UPDATE deliveries SET gave_up_at = ?2,
                       last_error = COALESCE(last_error || '; ', '') || ?3
                     WHERE id = ?1",
                        params![
                            id,
                            ts(now),
                            format!(
                                "attempt {attempts} never reported (interrupted); no attempts left"
                            )
                        ],
                    )
                    .ctx("give up an interrupted delivery")?;
                    continue;
                }
                let notice: Notice =
                    serde_json::from_str(&json).map_err(|e| StoreError::BadValue {
                        table: "outbox",
                        column: "notice",
                        value: format!("delivery {id}: {e}"),
                    })?;
                let attempt = attempts + 1;
                let until =
                    now + chrono::Duration::from_std(lease(&key, attempt)).unwrap_or_default();
                tx.execute(
                    "UPDATE deliveries SET attempts = ?2, next_attempt_at = ?3 WHERE id = ?1",
                    params![id, attempt, ts(until).max(ts(now) + 1)],
                )
                .ctx("lease a delivery")?;
                claimed.push(ClaimedDelivery {
                    id,
                    webhook,
                    idempotency_key: key,
                    attempt,
                    notice,
                });
            }
            Ok(claimed)
        })
    }

    fn record_attempt(
        &self,
        id: i64,
        outcome: &AttemptOutcome,
        now: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<Recorded, StoreError> {
        self.writer.write(|tx| {
            type Row = (String, String, u32, Option<i64>, String, bool, bool);
            let row: Option<Row> = tx
                .query_row(
                    "SELECT d.webhook, d.idempotency_key, d.attempts, o.task_id, o.kind,
                        d.delivered_at IS NOT NULL OR d.gave_up_at IS NOT NULL,
                        o.superseded_at IS NOT NULL
                 FROM deliveries d JOIN outbox o ON o.id = d.outbox_id WHERE d.id = ?1",
                    [id],
                    |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                            r.get(6)?,
                        ))
                    },
                )
                .optional()
                .ctx("read a delivery")?;
            let Some((webhook, key, attempts, task_id, kind, settled, superseded)) = row else {
                return Ok(Recorded::AlreadySettled);
            };
            if settled {
                return Ok(Recorded::AlreadySettled);
            }
            let recorded = match outcome {
                AttemptOutcome::Delivered { status } => {
                    tx.execute(
                        "UPDATE deliveries SET delivered_at = ?2, last_error = NULL WHERE id = ?1",
                        params![id, ts(now)],
                    )
                    .ctx("record a delivery")?;
                    let mut task_notified = false;
                    // An attempt in flight when its notice was superseded went out (it is
                    // recorded so), but tells nothing about the task as it is now.
                    if let (Some(task), "task_new", false) = (task_id, kind.as_str(), superseded) {
                        let detail = serde_json::json!({
                            "webhook": webhook,
                            "idempotency_key": key,
                            "delivery_id": id,
                            "attempt": attempts,
                            "status": status,
                        });
                        task_notified = super::tasks::mark_notified_tx(tx, task, now, &detail)?;
                    }
                    Recorded::Delivered { task_notified }
                }
                AttemptOutcome::Failed { error, retry } => {
                    let give_up = !retry || attempts >= max_attempts;
                    tx.execute(
                        "UPDATE deliveries SET last_error = ?2,
                       gave_up_at = CASE WHEN ?3 THEN ?4 ELSE NULL END
                     WHERE id = ?1",
                        params![id, format!("attempt {attempts}: {error}"), give_up, ts(now)],
                    )
                    .ctx("record a failed attempt")?;
                    if give_up {
                        Recorded::GaveUp
                    } else {
                        Recorded::WillRetry
                    }
                }
            };
            Ok(recorded)
        })
    }

    fn deliveries(
        &self,
        status: Option<DeliveryStatus>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let filter = match status {
            None => "1",
            Some(DeliveryStatus::Pending) => {
                "d.delivered_at IS NULL AND d.gave_up_at IS NULL AND o.superseded_at IS NULL"
            }
            Some(DeliveryStatus::Superseded) => {
                "d.delivered_at IS NULL AND d.gave_up_at IS NULL AND o.superseded_at IS NOT NULL"
            }
            Some(DeliveryStatus::Delivered) => "d.delivered_at IS NOT NULL",
            Some(DeliveryStatus::Failed) => "d.gave_up_at IS NOT NULL",
        };
        self.read(|c| {
            let mut st = c
                .prepare(&format!(
                    "SELECT d.id, d.webhook, d.idempotency_key, o.kind, o.task_id, o.unit,
                            d.attempts, o.created_at, d.next_attempt_at, d.delivered_at,
                            d.gave_up_at, d.last_error, o.superseded_at, o.superseded_by
                     FROM deliveries d JOIN outbox o ON o.id = d.outbox_id
                     WHERE {filter} AND (?2 IS NULL OR d.id < ?2) ORDER BY d.id DESC LIMIT ?1"
                ))
                .ctx("prepare deliveries")?;
            let limit = Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX));
            let before = before_id.map_or(Value::Null, Value::Integer);
            let rows = st
                .query_map(params_from_iter([limit, before]), |r| {
                    let delivered_at: Option<i64> = r.get(9)?;
                    let gave_up_at: Option<i64> = r.get(10)?;
                    let superseded_at: Option<i64> = r.get(12)?;
                    Ok(DeliveryRow {
                        id: r.get(0)?,
                        webhook: r.get(1)?,
                        idempotency_key: r.get(2)?,
                        status: match (delivered_at, gave_up_at, superseded_at) {
                            (Some(_), ..) => DeliveryStatus::Delivered,
                            (None, Some(_), _) => DeliveryStatus::Failed,
                            (None, None, Some(_)) => DeliveryStatus::Superseded,
                            (None, None, None) => DeliveryStatus::Pending,
                        },
                        kind: r.get(3)?,
                        task_id: r.get(4)?,
                        unit: r.get(5)?,
                        attempts: r.get(6)?,
                        created_at: from_ts(r.get(7)?),
                        next_attempt_at: from_ts(r.get(8)?),
                        delivered_at: delivered_at.map(from_ts),
                        gave_up_at: gave_up_at.map(from_ts),
                        last_error: r.get(11)?,
                        superseded_at: superseded_at.map(from_ts),
                        superseded_by: r.get(13)?,
                    })
                })
                .ctx("query deliveries")?;
            rows.collect::<Result<_, _>>().ctx("read deliveries")
        })
    }

    fn delivery_counts(&self) -> Result<DeliveryCounts, StoreError> {
        self.read(counts)
    }
}

fn counts(c: &Connection) -> Result<DeliveryCounts, StoreError> {
    c.query_row(
        "SELECT
           (SELECT COUNT(*) FROM deliveries d JOIN outbox o ON o.id = d.outbox_id
              WHERE d.delivered_at IS NULL AND d.gave_up_at IS NULL AND o.superseded_at IS NULL),
           (SELECT COUNT(*) FROM deliveries WHERE delivered_at IS NOT NULL),
           (SELECT COUNT(*) FROM deliveries WHERE gave_up_at IS NOT NULL),
           (SELECT COUNT(*) FROM deliveries d JOIN outbox o ON o.id = d.outbox_id
              WHERE d.delivered_at IS NULL AND d.gave_up_at IS NULL
                AND o.superseded_at IS NOT NULL),
           (SELECT COUNT(*) FROM outbox WHERE expanded = 0)",
        [],
        |r| {
            Ok(DeliveryCounts {
                pending: r.get::<_, i64>(0)? as u64,
                delivered: r.get::<_, i64>(1)? as u64,
                failed: r.get::<_, i64>(2)? as u64,
                superseded: r.get::<_, i64>(3)? as u64,
                unexpanded: r.get::<_, i64>(4)? as u64,
            })
        },
    )
    .ctx("count deliveries")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::NoticeKind;
    use crate::store::outbox::enqueue;
    use chrono::TimeZone;
    use std::time::Duration;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 8, 10, 0, 0).unwrap()
    }

    fn store_with_tasks(dir: &std::path::Path, tasks: &[(i64, &str)]) -> SqliteStore {
        let s = SqliteStore::open(&dir.join("s.sqlite")).unwrap();
        {
            s.writer
                .write(|tx| {
                    for &(id, unit) in tasks {
                        tx.execute(
                    "INSERT INTO events (id, lon, lat, footprint_m, first_seen, last_seen, sources,
                       kinds, satellite_confidence, camera_confidence, confidence, sightings,
                       updated_at)
                     VALUES (?1, 114.5, 35.6, 375, 0, 0, '', '', 0.8, 0, 0.8, 1, 0)",
                    [id],
                )
                .unwrap();
                        tx.execute(
                    "INSERT INTO tasks (id, event_id, unit, unit_level, county, state, priority,
                       created_at, ack_due, on_site_due, verdict_due, updated_at)
                     VALUES (?1, ?1, ?2, 'township', '410526', 'new', 'normal', 0, 600, 1800,
                       7200, 0)",
                    params![id, unit],
                )
                .unwrap();
                        enqueue(tx, &notice(id, unit, NoticeKind::TaskNew), 0).unwrap();
                    }
                    Ok::<_, StoreError>(())
                })
                .unwrap();
        }
        s
    }

    fn notice(task_id: i64, unit: &str, kind: NoticeKind) -> Notice {
        Notice::test(kind, task_id, unit)
    }

    fn route(n: &Notice) -> Vec<String> {
        if n.unit == "410526101" {
            vec!["a".into(), "b".into()]
        } else {
            Vec::new()
        }
    }

    fn task_state(s: &SqliteStore, id: i64) -> (String, Option<i64>, i64) {
        s.read(|c| {
            c.query_row(
                "SELECT state, notified_at, (SELECT COUNT(*) FROM audit WHERE entity_id = ?1)
                 FROM tasks WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .ctx("task")
        })
        .unwrap()
    }

    const LEASE: &dyn Fn(&str, u32) -> Duration =
        &|_, attempt| Duration::from_secs(60 * attempt as u64);

    #[test]
    fn expansion_makes_one_delivery_per_webhook_once_and_notifies_units_without_webhooks() {
        let dir = tempfile::tempdir().unwrap();
        let s = store_with_tasks(dir.path(), &[(1, "410526101"), (2, "410526100")]);
        let e = s.expand_outbox(&route, t0(), 100).unwrap();
        assert_eq!(
            e,
            Expansion {
                notices: 2,
                deliveries: 2,
                notified_without_webhook: vec![NotifiedTask {
                    id: 2,
                    county: Some("410526".into()),
                    unit: "410526100".into(),
                }],
                unreadable: Vec::new(),
            }
        );
        // A second pass finds nothing left.
        assert_eq!(
            s.expand_outbox(&route, t0(), 100).unwrap(),
            Expansion::default()
        );
        let rows = s.deliveries(None, None, 10).unwrap();
        let mut keys: Vec<_> = rows.iter().map(|r| r.idempotency_key.clone()).collect();
        keys.sort();
        assert_eq!(keys, ["task-1-new-410526101:a", "task-1-new-410526101:b"]);
        assert_eq!(task_state(&s, 1), ("new".into(), None, 0));
        assert_eq!(task_state(&s, 2), ("notified".into(), Some(ts(t0())), 1));
    }

    #[test]
    fn an_unreadable_notice_is_set_aside_without_blocking_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
        s.writer
            .exclusive(|c| {
                c.execute(
                    "INSERT INTO outbox (id, key, unit, kind, notice, created_at)
                 VALUES (1, 'k', '410526101', 'task_new', '{\"kind\":\"mystery\"}', 0)",
                    [],
                )
            })
            .unwrap();
        drop(s);
        let s = store_with_tasks(dir.path(), &[(2, "410526101")]);
        let e = s.expand_outbox(&route, t0(), 100).unwrap();
        assert_eq!((e.notices, e.deliveries, e.unreadable), (1, 2, vec![1]));
        assert_eq!(
            s.expand_outbox(&route, t0(), 100).unwrap(),
            Expansion::default()
        );
    }

    #[test]
    fn a_claim_is_a_lease_committed_before_sending() {
        let dir = tempfile::tempdir().unwrap();
        let s = store_with_tasks(dir.path(), &[(1, "410526101")]);
        s.expand_outbox(&route, t0(), 100).unwrap();
        let c = s.claim_deliveries(t0(), 10, 3, LEASE).unwrap();
        assert_eq!(c.len(), 2);
        assert!(c.iter().all(|d| d.attempt == 1 && d.notice.task_id == 1));
        // Claimed rows are not due again until the lease passes, even after a "crash": a
        // fresh store on the same file sees the lease.
        drop(s);
        let s = SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
        assert!(s.claim_deliveries(t0(), 10, 3, LEASE).unwrap().is_empty());
        let t = t0() + chrono::Duration::seconds(59);
        assert!(s.claim_deliveries(t, 10, 3, LEASE).unwrap().is_empty());
        let t = t0() + chrono::Duration::seconds(60);
        let again = s.claim_deliveries(t, 10, 3, LEASE).unwrap();
        assert_eq!(again.len(), 2);
        assert!(again.iter().all(|d| d.attempt == 2));
        assert_eq!(
            again.iter().map(|d| &d.idempotency_key).collect::<Vec<_>>(),
            c.iter().map(|d| &d.idempotency_key).collect::<Vec<_>>()
        );
    }

    #[test]
    fn delivery_notifies_the_task_once_with_an_audit_row() {
        let dir = tempfile::tempdir().unwrap();
        let s = store_with_tasks(dir.path(), &[(1, "410526101")]);
        s.expand_outbox(&route, t0(), 100).unwrap();
        let c = s.claim_deliveries(t0(), 10, 3, LEASE).unwrap();
        let later = t0() + chrono::Duration::seconds(5);
        let ok = AttemptOutcome::Delivered { status: 200 };
        assert_eq!(
            s.record_attempt(c[0].id, &ok, later, 3).unwrap(),
            Recorded::Delivered {
                task_notified: true
            }
        );
        assert_eq!(
            s.record_attempt(c[1].id, &ok, later, 3).unwrap(),
            Recorded::Delivered {
                task_notified: false
            }
        );
        // Recording twice changes nothing.
        assert_eq!(
            s.record_attempt(c[0].id, &ok, later, 3).unwrap(),
            Recorded::AlreadySettled
        );
        assert_eq!(task_state(&s, 1), ("notified".into(), Some(ts(later)), 1));
        let detail: String = s
            .read(|c| {
                c.query_row(
                    "SELECT detail FROM audit WHERE entity = 'task' AND entity_id = 1
                       AND action = 'notify' AND actor = 'system' AND to_state = 'notified'",
                    [],
                    |r| r.get(0),
                )
                .ctx("audit")
            })
            .unwrap();
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
        assert_eq!(detail["webhook"], c[0].webhook.as_str());
        assert_eq!(detail["idempotency_key"], c[0].idempotency_key.as_str());
        assert_eq!(
            s.delivery_counts().unwrap(),
            DeliveryCounts {
                delivered: 2,
                ..DeliveryCounts::default()
            }
        );
    }

    #[test]
    fn failures_retry_until_max_attempts_and_refusals_give_up_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = store_with_tasks(dir.path(), &[(1, "410526101")]);
        s.expand_outbox(&route, t0(), 100).unwrap();
        let fail = |retry| AttemptOutcome::Failed {
            error: "HTTP 503".into(),
            retry,
        };
        let hour = chrono::Duration::hours(1);
        let c = s.claim_deliveries(t0(), 10, 3, LEASE).unwrap();
        assert_eq!(c.len(), 2);
        let (a, b) = (c[0].id, c[1].id);
        assert_eq!(
            s.record_attempt(a, &fail(true), t0(), 3).unwrap(),
            Recorded::WillRetry
        );
        assert_eq!(
            s.record_attempt(b, &fail(false), t0(), 3).unwrap(),
            Recorded::GaveUp
        );
        let c = s.claim_deliveries(t0() + hour, 10, 3, LEASE).unwrap();
        assert_eq!((c.len(), c[0].id, c[0].attempt), (1, a, 2));
        assert_eq!(
            s.record_attempt(a, &fail(true), t0() + hour, 3).unwrap(),
            Recorded::WillRetry
        );
        let c = s.claim_deliveries(t0() + hour * 2, 10, 3, LEASE).unwrap();
        assert_eq!((c.len(), c[0].attempt), (1, 3));
        assert_eq!(
            s.record_attempt(a, &fail(true), t0() + hour * 2, 3)
                .unwrap(),
            Recorded::GaveUp
        );
        assert!(s
            .claim_deliveries(t0() + hour * 9, 10, 3, LEASE)
            .unwrap()
            .is_empty());
        let failed = s
            .deliveries(Some(DeliveryStatus::Failed), None, 10)
            .unwrap();
        assert_eq!(failed.len(), 2);
        let spent = failed.iter().find(|r| r.id == a).unwrap();
        assert_eq!(spent.attempts, 3);
        assert_eq!(spent.last_error.as_deref(), Some("attempt 3: HTTP 503"));
        assert!(s
            .deliveries(Some(DeliveryStatus::Pending), None, 10)
            .unwrap()
            .is_empty());
        assert_eq!(task_state(&s, 1), ("new".into(), None, 0));
    }

    #[test]
    fn a_last_attempt_that_never_reported_is_given_up_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let s = store_with_tasks(dir.path(), &[(1, "410526101")]);
        s.expand_outbox(&route, t0(), 100).unwrap();
        assert_eq!(s.claim_deliveries(t0(), 10, 1, LEASE).unwrap().len(), 2);
        // No outcome recorded (the process died mid-request); after the lease it is settled.
        let later = t0() + chrono::Duration::hours(1);
        assert!(s.claim_deliveries(later, 10, 1, LEASE).unwrap().is_empty());
        let failed = s
            .deliveries(Some(DeliveryStatus::Failed), None, 10)
            .unwrap();
        assert_eq!(failed.len(), 2);
        let err = failed[0].last_error.as_deref().unwrap();
        assert!(err.contains("never reported"), "{err}");
    }
}
