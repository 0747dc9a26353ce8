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
use rusqlite::{params, params_from_iter, OptionalExtension};

use super::{from_ts, ts, SqliteStore};
use crate::notify::Notice;
use crate::store::deliveries::{
    AttemptOutcome, ClaimedDelivery, DeliveryCounts, DeliveryRow, DeliveryStatus, DeliveryStore,
    Expansion, NotifiedTask, Recorded,
};
use crate::store::error::{SqlContext, StoreError};
use crate::store::shared::deliveries::{
    any_due_sql, counts, counts_sql, delivered_detail, delivery_key, due_sql, failure, interrupted,
    lease_until, list_sql, no_webhook_detail, notifies_without_webhook, read_notice, status_of,
    ANY_UNEXPANDED_SQL, DELIVERED_SQL, DELIVERY_SQL, FAILED_SQL, GIVE_UP_SQL, INSERT_DELIVERY_SQL,
    LEASE_SQL, MARK_EXPANDED_SQL, UNEXPANDED_SQL,
};

impl DeliveryStore for SqliteStore {
    fn expand_outbox(
        &self,
        route: &dyn Fn(&Notice) -> Vec<String>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Expansion, StoreError> {
        // The worker asks every second: look with a reader before taking the write lock.
        if !self.read(|c| {
            c.query_row(ANY_UNEXPANDED_SQL, [], |r| r.get(0))
                .ctx("look for notices")
        })? {
            return Ok(Expansion::default());
        }
        self.writer.write(|tx| {
            let rows: Vec<(i64, String, Option<i64>, String, bool)> = {
                let mut st = tx.prepare(UNEXPANDED_SQL).ctx("prepare outbox")?;
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
                    tx.execute(MARK_EXPANDED_SQL, [id])
                        .ctx("mark outbox expanded")?;
                    done.unreadable.push(id);
                    continue;
                };
                let hooks = route(&notice);
                for hook in &hooks {
                    done.deliveries += tx
                        .execute(
                            INSERT_DELIVERY_SQL,
                            params![id, hook, delivery_key(&key, hook), ts(now)],
                        )
                        .ctx("insert delivery")?;
                }
                if let (Some(task), true) = (
                    task_id,
                    notifies_without_webhook(&notice, &hooks, superseded),
                ) {
                    let detail = no_webhook_detail(&key, &notice);
                    if crate::store::shared::task_steps::mark_notified_tx(
                        &mut { tx },
                        task,
                        now,
                        &detail,
                    )? {
                        done.notified_without_webhook.push(NotifiedTask {
                            id: task,
                            county: notice.county.clone(),
                            unit: notice.unit.clone(),
                        });
                    }
                }
                tx.execute(MARK_EXPANDED_SQL, [id])
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
        if !self.read(|c| {
            c.query_row(&any_due_sql(), [ts(now)], |r| r.get(0))
                .ctx("look for due")
        })? {
            return Ok(Vec::new());
        }
        // One writer at a time: a row is claimed by one claim only.
        self.writer.write(|tx| {
            let due: Vec<(i64, String, String, u32, String)> = {
                let mut st = tx.prepare(&due_sql()).ctx("prepare due deliveries")?;
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
                    tx.execute(GIVE_UP_SQL, params![id, ts(now), interrupted(attempts)])
                        .ctx("give up an interrupted delivery")?;
                    continue;
                }
                let notice = read_notice(id, &json)?;
                let attempt = attempts + 1;
                tx.execute(
                    LEASE_SQL,
                    params![id, attempt, lease_until(now, lease(&key, attempt))],
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
                .query_row(DELIVERY_SQL, [id], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                })
                .optional()
                .ctx("read a delivery")?;
            let Some((webhook, key, attempts, task_id, kind, settled, superseded)) = row else {
                return Ok(Recorded::AlreadySettled);
            };
            if settled {
                return Ok(Recorded::AlreadySettled);
            }
            Ok(match outcome {
                AttemptOutcome::Delivered { status } => {
                    tx.execute(DELIVERED_SQL, params![id, ts(now)])
                        .ctx("record a delivery")?;
                    let mut task_notified = false;
                    // An attempt in flight when its notice was superseded went out (it is
                    // recorded so), but tells nothing about the task as it is now.
                    if let (Some(task), "task_new", false) = (task_id, kind.as_str(), superseded) {
                        let detail = delivered_detail(&webhook, &key, id, attempts, *status);
                        task_notified = crate::store::shared::task_steps::mark_notified_tx(
                            &mut { tx },
                            task,
                            now,
                            &detail,
                        )?;
                    }
                    Recorded::Delivered { task_notified }
                }
                AttemptOutcome::Failed { error, retry } => {
                    let (give_up, error) = failure(attempts, max_attempts, error, *retry);
                    tx.execute(FAILED_SQL, params![id, error, give_up, ts(now)])
                        .ctx("record a failed attempt")?;
                    if give_up {
                        Recorded::GaveUp
                    } else {
                        Recorded::WillRetry
                    }
                }
            })
        })
    }

    fn deliveries(
        &self,
        status: Option<DeliveryStatus>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare(&list_sql(status)).ctx("prepare deliveries")?;
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
                        status: status_of(delivered_at, gave_up_at, superseded_at),
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
        self.read(|c| {
            c.query_row(&counts_sql(), [], |r| {
                Ok(counts([
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ]))
            })
            .ctx("count deliveries")
        })
    }
}
