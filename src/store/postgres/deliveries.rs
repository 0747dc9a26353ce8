//! Notice deliveries on PostgreSQL (SQLite's `deliveries.rs`; the life of a delivery is told in
//! `store::deliveries`). Several nodes, and several workers on each, expand and claim at once:
//! each takes its rows `FOR UPDATE SKIP LOCKED`, so a row is expanded by one transaction and an
//! attempt claimed by one claim; the others pass over it instead of waiting or sending it too.
//! Recording locks its row (`FOR UPDATE`), so an outcome is recorded once. The statements are
//! `shared::deliveries`'s, as on SQLite.

use chrono::{DateTime, Utc};

use super::store::{from_ts, ts};
use super::PgStore;
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
use crate::store::shared::dollars;
use crate::store::shared::task_steps::mark_notified_tx;

impl DeliveryStore for PgStore {
    fn expand_outbox(
        &self,
        route: &dyn Fn(&Notice) -> Vec<String>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Expansion, StoreError> {
        let any = self.read(|c| {
            c.query_one(ANY_UNEXPANDED_SQL, &[])
                .ctx("look for notices")
                .map(|r| r.get::<_, bool>(0))
        })?;
        if !any {
            return Ok(Expansion::default());
        }
        self.write(|tx| {
            let rows = tx
                .query(
                    &format!("{} FOR UPDATE SKIP LOCKED", dollars(UNEXPANDED_SQL)),
                    &[&(limit.min(i64::MAX as usize) as i64)],
                )
                .ctx("query outbox")?;
            let mark = dollars(MARK_EXPANDED_SQL);
            let insert = dollars(INSERT_DELIVERY_SQL);
            let mut done = Expansion::default();
            for r in rows {
                let (id, key, task_id, json, superseded): (i64, String, Option<i64>, String, bool) =
                    (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
                let Ok(notice) = serde_json::from_str::<Notice>(&json) else {
                    tx.execute(&mark, &[&id]).ctx("mark outbox expanded")?;
                    done.unreadable.push(id);
                    continue;
                };
                let hooks = route(&notice);
                for hook in &hooks {
                    done.deliveries += tx
                        .execute(&insert, &[&id, hook, &delivery_key(&key, hook), &ts(now)])
                        .ctx("insert delivery")? as usize;
                }
                if let (Some(task), true) = (
                    task_id,
                    notifies_without_webhook(&notice, &hooks, superseded),
                ) {
                    let detail = no_webhook_detail(&key, &notice);
                    if mark_notified_tx(tx, task, now, &detail)? {
                        done.notified_without_webhook.push(NotifiedTask {
                            id: task,
                            county: notice.county.clone(),
                            unit: notice.unit.clone(),
                        });
                    }
                }
                tx.execute(&mark, &[&id]).ctx("mark outbox expanded")?;
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
        let any = self.read(|c| {
            c.query_one(&dollars(&any_due_sql()), &[&ts(now)])
                .ctx("look for due")
                .map(|r| r.get::<_, bool>(0))
        })?;
        if !any {
            return Ok(Vec::new());
        }
        self.write(|tx| {
            // Rows another claim holds are passed over: they are that claim's.
            let due = tx
                .query(
                    &format!("{} FOR UPDATE OF d SKIP LOCKED", dollars(&due_sql())),
                    &[&ts(now), &(limit.min(i64::MAX as usize) as i64)],
                )
                .ctx("query due deliveries")?;
            let (give_up, leased) = (dollars(GIVE_UP_SQL), dollars(LEASE_SQL));
            let mut claimed = Vec::with_capacity(due.len());
            for r in due {
                let (id, webhook, key, attempts, json): (i64, String, String, i64, String) =
                    (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
                let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
                if attempts >= max_attempts {
                    tx.execute(&give_up, &[&id, &ts(now), &interrupted(attempts)])
                        .ctx("give up an interrupted delivery")?;
                    continue;
                }
                let notice = read_notice(id, &json)?;
                let attempt = attempts + 1;
                tx.execute(
                    &leased,
                    &[
                        &id,
                        &i64::from(attempt),
                        &lease_until(now, lease(&key, attempt)),
                    ],
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
        self.write(|tx| {
            let Some(r) = tx
                .query_opt(
                    &format!("{} FOR UPDATE OF d", dollars(DELIVERY_SQL)),
                    &[&id],
                )
                .ctx("read a delivery")?
            else {
                return Ok(Recorded::AlreadySettled);
            };
            let (webhook, key, attempts): (String, String, i64) = (r.get(0), r.get(1), r.get(2));
            let (task_id, kind, settled, superseded): (Option<i64>, String, bool, bool) =
                (r.get(3), r.get(4), r.get(5), r.get(6));
            if settled {
                return Ok(Recorded::AlreadySettled);
            }
            let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
            Ok(match outcome {
                AttemptOutcome::Delivered { status } => {
                    tx.execute(&dollars(DELIVERED_SQL), &[&id, &ts(now)])
                        .ctx("record a delivery")?;
                    let mut task_notified = false;
                    if let (Some(task), "task_new", false) = (task_id, kind.as_str(), superseded) {
                        let detail = delivered_detail(&webhook, &key, id, attempts, *status);
                        task_notified = mark_notified_tx(tx, task, now, &detail)?;
                    }
                    Recorded::Delivered { task_notified }
                }
                AttemptOutcome::Failed { error, retry } => {
                    let (give_up, error) = failure(attempts, max_attempts, error, *retry);
                    tx.execute(&dollars(FAILED_SQL), &[&id, &error, &give_up, &ts(now)])
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
        let rows = self.read(|c| {
            c.query(
                &dollars(&list_sql(status)),
                &[&(limit.min(i64::MAX as usize) as i64), &before_id],
            )
            .ctx("query deliveries")
        })?;
        Ok(rows
            .iter()
            .map(|r| {
                let delivered_at: Option<i64> = r.get(9);
                let gave_up_at: Option<i64> = r.get(10);
                let superseded_at: Option<i64> = r.get(12);
                DeliveryRow {
                    id: r.get(0),
                    webhook: r.get(1),
                    idempotency_key: r.get(2),
                    status: status_of(delivered_at, gave_up_at, superseded_at),
                    kind: r.get(3),
                    task_id: r.get(4),
                    unit: r.get(5),
                    attempts: u32::try_from(r.get::<_, i64>(6)).unwrap_or(u32::MAX),
                    created_at: from_ts(r.get(7)),
                    next_attempt_at: from_ts(r.get(8)),
                    delivered_at: delivered_at.map(from_ts),
                    gave_up_at: gave_up_at.map(from_ts),
                    last_error: r.get(11),
                    superseded_at: superseded_at.map(from_ts),
                    superseded_by: r.get(13),
                }
            })
            .collect())
    }

    fn delivery_counts(&self) -> Result<DeliveryCounts, StoreError> {
        self.read(|c| {
            let r = c.query_one(&counts_sql(), &[]).ctx("count deliveries")?;
            Ok(counts([r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)]))
        })
    }
}
