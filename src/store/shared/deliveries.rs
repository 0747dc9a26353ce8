//! Notice deliveries (`store::deliveries`, where the life of a delivery is told), written once
//! for both backends over [`Tx`]: expansion of outbox rows into deliveries, claims (the lease
//! committed before the request is sent), the record of an attempt, the operators' list and
//! counts. The statements are in SQLite's numbered parameters (PostgreSQL runs them through
//! [`super::dollars`]). Several nodes and workers expand and claim at once on PostgreSQL: each
//! takes its rows [`Tx::for_update`] with `SKIP LOCKED`, so a row is expanded by one
//! transaction and an attempt claimed by one claim, the others passing over it; recording locks
//! its row, so an outcome is recorded once. SQLite's one writer does the same by being one.
//!
//! The lock order on PostgreSQL, the same on every path that touches a task and its notices
//! (operator moves, verdicts, escalation sweeps, the ingest's dispatch, and the two here that
//! move a task to `notified`): the task's row first, then its notices and their deliveries. An
//! expansion takes the tasks it moves with `SKIP LOCKED` before the outbox rows; recording a
//! delivered `task_new` waits for its task before it locks the delivery.

use chrono::{DateTime, Utc};

use super::task_steps::mark_notified_tx;
use super::tx::{from_ts, limit, ts, Lock, Tx};
use crate::notify::Notice;
use crate::store::deliveries::{
    AttemptOutcome, ClaimedDelivery, DeliveryCounts, DeliveryRow, DeliveryStatus, Expansion,
    NotifiedTask, Recorded,
};
use crate::store::error::StoreError;

/// Whether any outbox row waits to be expanded (the worker asks every second).
pub(crate) const ANY_UNEXPANDED_SQL: &str =
    "SELECT EXISTS (SELECT 1 FROM outbox WHERE expanded = 0)";

/// The oldest `?1` unexpanded outbox rows: id, key, task id, notice JSON, superseded.
pub(crate) const UNEXPANDED_SQL: &str =
    "SELECT id, key, task_id, notice, superseded_at IS NOT NULL FROM outbox
     WHERE expanded = 0 ORDER BY id LIMIT ?1";

/// The oldest `?1` unexpanded outbox rows as an expansion claims them: id, superseded.
pub(crate) const CLAIM_UNEXPANDED_SQL: &str =
    "SELECT id, superseded_at IS NOT NULL FROM outbox WHERE expanded = 0 ORDER BY id LIMIT ?1";

/// Task `?1`'s row, to be locked (the delivery side locks a task before its notices).
pub(crate) const TRY_LOCK_TASK_SQL: &str = "SELECT id FROM tasks WHERE id = ?1";

/// Outbox row `?1` expanded.
pub(crate) const MARK_EXPANDED_SQL: &str = "UPDATE outbox SET expanded = 1 WHERE id = ?1";

/// A delivery of outbox row `?1` to webhook `?2` under key `?3`, due at `?4`; once per key.
pub(crate) const INSERT_DELIVERY_SQL: &str =
    "INSERT INTO deliveries (outbox_id, webhook, idempotency_key, attempts, next_attempt_at)
     VALUES (?1, ?2, ?3, 0, ?4)
     ON CONFLICT (idempotency_key) DO NOTHING";

/// A delivery's idempotency key: its notice's key and the webhook.
pub(crate) fn delivery_key(notice_key: &str, webhook: &str) -> String {
    format!("{notice_key}:{webhook}")
}

/// The audit detail of a task moved to `notified` because its unit has no webhook.
pub(crate) fn no_webhook_detail(notice_key: &str, notice: &Notice) -> serde_json::Value {
    serde_json::json!({
        "webhook": null,
        "notice": notice_key,
        "note": format!(
            "no webhook for unit {}: the task is shown on the patrol page only",
            notice.unit
        ),
    })
}

/// Whether an expanded notice moves its task to `notified` for want of a webhook: a `task_new`
/// routed nowhere, not superseded (a superseded notice still gets its delivery rows, shown
/// `superseded`, never sent, but moves no task).
pub(crate) fn notifies_without_webhook(
    notice: &Notice,
    hooks: &[String],
    superseded: bool,
) -> bool {
    hooks.is_empty() && notice.kind.name() == "task_new" && !superseded
}

/// The deliveries that may be sent (neither settled nor superseded).
const SENDABLE: &str =
    "d.delivered_at IS NULL AND d.gave_up_at IS NULL AND o.superseded_at IS NULL";

/// Whether any delivery is due at `?1`.
pub(crate) fn any_due_sql() -> String {
    format!(
        "SELECT EXISTS (SELECT 1 FROM deliveries d JOIN outbox o ON o.id = d.outbox_id
           WHERE {SENDABLE} AND d.next_attempt_at <= ?1)"
    )
}

/// The first `?2` deliveries due at `?1`: id, webhook, key, attempts, notice JSON.
pub(crate) fn due_sql() -> String {
    format!(
        "SELECT d.id, d.webhook, d.idempotency_key, d.attempts, o.notice
         FROM deliveries d JOIN outbox o ON o.id = d.outbox_id
         WHERE {SENDABLE} AND d.next_attempt_at <= ?1
         ORDER BY d.next_attempt_at, d.id LIMIT ?2"
    )
}

/// Delivery `?1` given up at `?2` with `?3` added to its error.
pub(crate) const GIVE_UP_SQL: &str = "UPDATE deliveries SET gave_up_at = ?2,
       last_error = COALESCE(last_error || '; ', '') || CAST(?3 AS TEXT)
     WHERE id = ?1";

/// Why a due delivery whose attempts are spent is given up instead of claimed.
pub(crate) fn interrupted(attempts: u32) -> String {
    format!("attempt {attempts} never reported (interrupted); no attempts left")
}

/// A claimed delivery's notice as stored.
pub(crate) fn read_notice(id: i64, json: &str) -> Result<Notice, crate::store::StoreError> {
    serde_json::from_str(json).map_err(|e| crate::store::StoreError::BadValue {
        table: "outbox",
        column: "notice",
        value: format!("delivery {id}: {e}"),
    })
}

/// Delivery `?1` leased: its attempt `?2`, due again at `?3`.
pub(crate) const LEASE_SQL: &str =
    "UPDATE deliveries SET attempts = ?2, next_attempt_at = ?3 WHERE id = ?1";

/// When a claimed attempt is due again (Unix seconds): `now + lease`, at least a second on.
pub(crate) fn lease_until(now: DateTime<Utc>, lease: std::time::Duration) -> i64 {
    let until = now + chrono::Duration::from_std(lease).unwrap_or_default();
    until.timestamp().max(now.timestamp() + 1)
}

/// Delivery `?1` as the recording of an attempt reads it: webhook, key, attempts, task id,
/// notice kind, settled, superseded.
pub(crate) const DELIVERY_SQL: &str =
    "SELECT d.webhook, d.idempotency_key, d.attempts, o.task_id, o.kind,
        d.delivered_at IS NOT NULL OR d.gave_up_at IS NOT NULL,
        o.superseded_at IS NOT NULL
     FROM deliveries d JOIN outbox o ON o.id = d.outbox_id WHERE d.id = ?1";

/// Delivery `?1`'s task and notice kind (read before anything is locked: see
/// [`record_attempt`]).
pub(crate) const DELIVERY_TASK_SQL: &str = "SELECT o.task_id, o.kind
     FROM deliveries d JOIN outbox o ON o.id = d.outbox_id WHERE d.id = ?1";

/// Delivery `?1` delivered at `?2`.
pub(crate) const DELIVERED_SQL: &str =
    "UPDATE deliveries SET delivered_at = ?2, last_error = NULL WHERE id = ?1";

/// Delivery `?1` failed with error `?2`; given up at `?4` when `?3`.
pub(crate) const FAILED_SQL: &str = "UPDATE deliveries SET last_error = ?2,
       gave_up_at = CASE WHEN ?3 THEN CAST(?4 AS BIGINT) ELSE NULL END
     WHERE id = ?1";

/// Whether a failed attempt gives up (retrying cannot help, or no attempts are left), and the
/// error as kept.
pub(crate) fn failure(
    attempts: u32,
    max_attempts: u32,
    error: &str,
    retry: bool,
) -> (bool, String) {
    (
        !retry || attempts >= max_attempts,
        format!("attempt {attempts}: {error}"),
    )
}

/// The audit detail of a task moved to `notified` by a delivery.
pub(crate) fn delivered_detail(
    webhook: &str,
    key: &str,
    id: i64,
    attempts: u32,
    status: u16,
) -> serde_json::Value {
    serde_json::json!({
        "webhook": webhook,
        "idempotency_key": key,
        "delivery_id": id,
        "attempt": attempts,
        "status": status,
    })
}

/// The operators' list: deliveries of one status (or all) with an id below `?2` (or any),
/// newest first, at most `?1`. Columns in the order of `DeliveryRow`, the status left to [`status_of`].
pub(crate) fn list_sql(status: Option<DeliveryStatus>) -> String {
    let filter = match status {
        None => "TRUE",
        Some(DeliveryStatus::Pending) => SENDABLE,
        Some(DeliveryStatus::Superseded) => {
            "d.delivered_at IS NULL AND d.gave_up_at IS NULL AND o.superseded_at IS NOT NULL"
        }
        Some(DeliveryStatus::Delivered) => "d.delivered_at IS NOT NULL",
        Some(DeliveryStatus::Failed) => "d.gave_up_at IS NOT NULL",
    };
    format!(
        "SELECT d.id, d.webhook, d.idempotency_key, o.kind, o.task_id, o.unit,
                d.attempts, o.created_at, d.next_attempt_at, d.delivered_at,
                d.gave_up_at, d.last_error, o.superseded_at, o.superseded_by
         FROM deliveries d JOIN outbox o ON o.id = d.outbox_id
         WHERE {filter} AND (CAST(?2 AS BIGINT) IS NULL OR d.id < ?2)
         ORDER BY d.id DESC LIMIT ?1"
    )
}

/// A delivery's status from its delivered, given-up and superseded times.
pub(crate) fn status_of(
    delivered_at: Option<i64>,
    gave_up_at: Option<i64>,
    superseded_at: Option<i64>,
) -> DeliveryStatus {
    match (delivered_at, gave_up_at, superseded_at) {
        (Some(_), ..) => DeliveryStatus::Delivered,
        (None, Some(_), _) => DeliveryStatus::Failed,
        (None, None, Some(_)) => DeliveryStatus::Superseded,
        (None, None, None) => DeliveryStatus::Pending,
    }
}

/// Rows by status: pending, delivered, failed, superseded, unexpanded outbox rows.
pub(crate) fn counts_sql() -> String {
    format!(
        "SELECT
           (SELECT COUNT(*) FROM deliveries d JOIN outbox o ON o.id = d.outbox_id
              WHERE {SENDABLE}),
           (SELECT COUNT(*) FROM deliveries WHERE delivered_at IS NOT NULL),
           (SELECT COUNT(*) FROM deliveries WHERE gave_up_at IS NOT NULL),
           (SELECT COUNT(*) FROM deliveries d JOIN outbox o ON o.id = d.outbox_id
              WHERE d.delivered_at IS NULL AND d.gave_up_at IS NULL
                AND o.superseded_at IS NOT NULL),
           (SELECT COUNT(*) FROM outbox WHERE expanded = 0)"
    )
}

/// [`counts_sql`]'s five numbers.
pub(crate) fn counts(n: [i64; 5]) -> DeliveryCounts {
    DeliveryCounts {
        pending: n[0] as u64,
        delivered: n[1] as u64,
        failed: n[2] as u64,
        superseded: n[3] as u64,
        unexpanded: n[4] as u64,
    }
}

/// Whether any outbox row waits to be expanded (the worker asks every second: a read first,
/// before a write is taken).
pub(crate) fn any_unexpanded(c: &mut impl Tx) -> Result<bool, StoreError> {
    c.query_one("look for notices", ANY_UNEXPANDED_SQL, &[], |r| r.get(0))
}

/// Whether any delivery is due at `now`.
pub(crate) fn any_due(c: &mut impl Tx, now: DateTime<Utc>) -> Result<bool, StoreError> {
    c.query_one("look for due", &any_due_sql(), &[ts(now).into()], |r| {
        r.get(0)
    })
}

/// Expands the oldest `n` outbox rows into one delivery per webhook `route` names; a
/// `task_new` routed nowhere moves its task to `notified` here.
///
/// Whatever touches a task and its notices locks the task's row first (an operator's move
/// locks the task, then supersedes its notices): the rows are read unlocked, the tasks they
/// will move locked next ([`Tx::for_update`] with `SKIP LOCKED`: a task another transaction
/// holds is passed over), and only then the outbox rows claimed (`SKIP LOCKED` too: a row
/// another expansion holds is its own). A notice whose task was busy stays unexpanded for the
/// next pass. Taking the notices first and then the task, as this did, deadlocked with a
/// cancel on PostgreSQL (SQLSTATE 40P01); now the expansion never waits on a lock at all.
pub(crate) fn expand_outbox<T: Tx>(
    tx: &mut T,
    route: &dyn Fn(&Notice) -> Vec<String>,
    now: DateTime<Utc>,
    n: usize,
) -> Result<Expansion, StoreError> {
    let waiting = tx.query_rows("query outbox", UNEXPANDED_SQL, &[limit(n)], |r| {
        let json: String = r.get(3)?;
        Ok(Waiting::read(
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            &json,
            r.get(4)?,
            route,
        ))
    })?;
    let mut to_move: Vec<i64> = waiting.iter().filter_map(|w| w.moves).collect();
    to_move.sort_unstable();
    to_move.dedup();
    let mut held = std::collections::HashSet::new();
    let try_lock = format!("{TRY_LOCK_TASK_SQL}{}", T::for_update(None, true));
    for task in to_move {
        let got = tx.query_opt("lock a task to notify", &try_lock, &[task.into()], |r| {
            r.get::<i64>(0)
        })?;
        if got.is_some() {
            held.insert(task);
        }
    }
    let claimed: std::collections::HashMap<i64, bool> = tx
        .query_rows(
            "claim outbox",
            &format!("{CLAIM_UNEXPANDED_SQL}{}", T::for_update(None, true)),
            &[limit(n)],
            |r| Ok((r.get::<i64>(0)?, r.get::<bool>(1)?)),
        )?
        .into_iter()
        .collect();
    let mut done = Expansion::default();
    for w in waiting {
        let Some(&superseded) = claimed.get(&w.id) else {
            continue; // another expansion's
        };
        if w.moves.is_some_and(|t| !held.contains(&t)) {
            continue; // its task is busy: the next pass
        }
        let (id, key, hooks) = (w.id, w.key, w.hooks);
        let Some(notice) = w.notice else {
            tx.execute("mark outbox expanded", MARK_EXPANDED_SQL, &[id.into()])?;
            done.unreadable.push(id);
            continue;
        };
        for hook in &hooks {
            let dkey = delivery_key(&key, hook);
            done.deliveries += tx.execute(
                "insert delivery",
                INSERT_DELIVERY_SQL,
                &[id.into(), hook.into(), (&dkey).into(), ts(now).into()],
            )? as usize;
        }
        if let (Some(task), true) = (
            w.task_id,
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
        tx.execute("mark outbox expanded", MARK_EXPANDED_SQL, &[id.into()])?;
        done.notices += 1;
    }
    Ok(done)
}

/// An outbox row as an expansion first reads it, unlocked: its notice (none when unreadable),
/// the webhooks it goes to, and the task it moves to `notified` if any (a notice read as
/// superseded stays so and moves none).
struct Waiting {
    id: i64,
    key: String,
    task_id: Option<i64>,
    notice: Option<Notice>,
    hooks: Vec<String>,
    moves: Option<i64>,
}

impl Waiting {
    fn read(
        id: i64,
        key: String,
        task_id: Option<i64>,
        json: &str,
        superseded: bool,
        route: &dyn Fn(&Notice) -> Vec<String>,
    ) -> Self {
        let notice = serde_json::from_str::<Notice>(json).ok();
        let hooks = notice.as_ref().map(route).unwrap_or_default();
        let moves = task_id.filter(|_| {
            notice
                .as_ref()
                .is_some_and(|n| notifies_without_webhook(n, &hooks, superseded))
        });
        Waiting {
            id,
            key,
            task_id,
            notice,
            hooks,
            moves,
        }
    }
}

/// Claims up to `n` deliveries due at `now`: each leased (`attempts + 1`, due again after
/// `lease`) and committed before it is sent; one whose attempts are spent (its last attempt
/// never reported) is given up instead. Rows another claim holds are passed over
/// ([`Tx::for_update`]): they are that claim's.
pub(crate) fn claim_deliveries<T: Tx>(
    tx: &mut T,
    now: DateTime<Utc>,
    n: usize,
    max_attempts: u32,
    lease: &dyn Fn(&str, u32) -> std::time::Duration,
) -> Result<Vec<ClaimedDelivery>, StoreError> {
    let due = tx.query_rows(
        "query due deliveries",
        &format!("{}{}", due_sql(), T::for_update(Some("d"), true)),
        &[ts(now).into(), limit(n)],
        |r| {
            Ok((
                r.get::<i64>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                attempts_of(r.get(3)?),
                r.get::<String>(4)?,
            ))
        },
    )?;
    let mut claimed = Vec::with_capacity(due.len());
    for (id, webhook, key, attempts, json) in due {
        if attempts >= max_attempts {
            let why = interrupted(attempts);
            tx.execute(
                "give up an interrupted delivery",
                GIVE_UP_SQL,
                &[id.into(), ts(now).into(), (&why).into()],
            )?;
            continue;
        }
        let notice = read_notice(id, &json)?;
        let attempt = attempts + 1;
        tx.execute(
            "lease a delivery",
            LEASE_SQL,
            &[
                id.into(),
                attempt.into(),
                lease_until(now, lease(&key, attempt)).into(),
            ],
        )?;
        claimed.push(ClaimedDelivery {
            id,
            webhook,
            idempotency_key: key,
            attempt,
            notice,
        });
    }
    Ok(claimed)
}

/// Records the outcome of delivery `id`'s attempt, its row locked ([`Tx::for_update`]) so an
/// outcome is recorded once: delivered (a `task_new` moves its task new → notified, in this
/// transaction), or failed (given up when retrying cannot help or no attempts are left).
///
/// A delivered `task_new` locks its task ([`Lock::Task`]) before the delivery's row, in the
/// order an operator's move takes them (the task, then its notices and their deliveries).
pub(crate) fn record_attempt<T: Tx>(
    tx: &mut T,
    id: i64,
    outcome: &AttemptOutcome,
    now: DateTime<Utc>,
    max_attempts: u32,
) -> Result<Recorded, StoreError> {
    if let AttemptOutcome::Delivered { .. } = outcome {
        let of = tx.query_opt("task of a delivery", DELIVERY_TASK_SQL, &[id.into()], |r| {
            Ok((r.get::<Option<i64>>(0)?, r.get::<String>(1)?))
        })?;
        if let Some((Some(task), "task_new")) = of.as_ref().map(|(t, k)| (*t, k.as_str())) {
            tx.lock(Lock::Task(task))?;
        }
    }
    let row = tx.query_opt(
        "read a delivery",
        &format!("{DELIVERY_SQL}{}", T::for_update(Some("d"), false)),
        &[id.into()],
        |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                attempts_of(r.get(2)?),
                r.get::<Option<i64>>(3)?,
                r.get::<String>(4)?,
                r.get::<bool>(5)?,
                r.get::<bool>(6)?,
            ))
        },
    )?;
    let Some((webhook, key, attempts, task_id, kind, settled, superseded)) = row else {
        return Ok(Recorded::AlreadySettled);
    };
    if settled {
        return Ok(Recorded::AlreadySettled);
    }
    Ok(match outcome {
        AttemptOutcome::Delivered { status } => {
            tx.execute(
                "record a delivery",
                DELIVERED_SQL,
                &[id.into(), ts(now).into()],
            )?;
            let mut task_notified = false;
            // An attempt in flight when its notice was superseded went out (it is recorded
            // so), but tells nothing about the task as it is now.
            if let (Some(task), "task_new", false) = (task_id, kind.as_str(), superseded) {
                let detail = delivered_detail(&webhook, &key, id, attempts, *status);
                task_notified = mark_notified_tx(tx, task, now, &detail)?;
            }
            Recorded::Delivered { task_notified }
        }
        AttemptOutcome::Failed { error, retry } => {
            let (give_up, error) = failure(attempts, max_attempts, error, *retry);
            tx.execute(
                "record a failed attempt",
                FAILED_SQL,
                &[id.into(), (&error).into(), give_up.into(), ts(now).into()],
            )?;
            if give_up {
                Recorded::GaveUp
            } else {
                Recorded::WillRetry
            }
        }
    })
}

/// A stored attempt count.
fn attempts_of(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The operators' list ([`list_sql`]).
pub(crate) fn deliveries(
    c: &mut impl Tx,
    status: Option<DeliveryStatus>,
    before_id: Option<i64>,
    n: usize,
) -> Result<Vec<DeliveryRow>, StoreError> {
    c.query_rows(
        "query deliveries",
        &list_sql(status),
        &[limit(n), before_id.into()],
        |r| {
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
                attempts: attempts_of(r.get(6)?),
                created_at: from_ts(r.get(7)?),
                next_attempt_at: from_ts(r.get(8)?),
                delivered_at: delivered_at.map(from_ts),
                gave_up_at: gave_up_at.map(from_ts),
                last_error: r.get(11)?,
                superseded_at: superseded_at.map(from_ts),
                superseded_by: r.get(13)?,
            })
        },
    )
}

/// Deliveries by status ([`counts_sql`]).
pub(crate) fn delivery_counts(c: &mut impl Tx) -> Result<DeliveryCounts, StoreError> {
    c.query_one("count deliveries", &counts_sql(), &[], |r| {
        Ok(counts([
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
        ]))
    })
}
