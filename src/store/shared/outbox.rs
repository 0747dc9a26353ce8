//! The notification outbox as both backends write it: a notice is inserted inside the
//! transaction of the change that causes it, once per key; a notice that no longer holds (its
//! task cancelled or given to another unit) is superseded in the transaction of that move.
//! Delivery (expanding a notice to the unit's webhooks, attempts, backoff) reads these rows.

use super::tx::{Param, Tx};
use super::SUPERSEDE_SQL;
use crate::notify::Notice;
use crate::store::error::StoreError;

/// Inserts a notice into the outbox within `tx`; a notice whose key is already there is kept
/// once (any other constraint failure is an error, never ignored). True when it was new.
pub(crate) fn enqueue(tx: &mut impl Tx, notice: &Notice, now: i64) -> Result<bool, StoreError> {
    let json = serde_json::to_string(notice).expect("a notice serialises");
    let key = notice.key();
    let n = tx.execute(
        "enqueue a notice",
        "INSERT INTO outbox (key, task_id, unit, county, kind, notice, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (key) DO NOTHING",
        &[
            (&key).into(),
            notice.task_id.into(),
            (&notice.unit).into(),
            (&notice.county).into(),
            notice.kind.name().into(),
            (&json).into(),
            now.into(),
        ],
    )?;
    Ok(n == 1)
}

/// Supersedes the notices about task `task_id` that no longer hold because the task was
/// cancelled or given to another unit (`why`: `cancel`, `reassign`; which ones:
/// [`SUPERSEDE_SQL`]): their waiting deliveries are then never sent (deliveries already made
/// stay delivered). Within the transaction of the move, before its own notices are enqueued.
/// The notices superseded.
pub(crate) fn supersede(
    tx: &mut impl Tx,
    task_id: i64,
    now: i64,
    why: &str,
) -> Result<u64, StoreError> {
    tx.execute(
        "supersede notices",
        SUPERSEDE_SQL,
        &[Param::from(task_id), now.into(), why.into()],
    )
}
