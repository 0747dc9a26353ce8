//! The notification outbox on PostgreSQL (SQLite's `outbox.rs`): notices are inserted inside the
//! transaction of the change that causes them, once per key; a notice that no longer holds (its
//! task cancelled or given to another unit) is superseded in the transaction of that move.

use postgres::Transaction;

use crate::notify::Notice;
use crate::store::error::{SqlContext, StoreError};
use crate::store::shared::{dollars, SUPERSEDE_SQL};

/// Inserts a notice into the outbox within `tx`, once per key (any other constraint failure is
/// an error, never ignored). True when it was new.
pub(super) fn enqueue(
    tx: &mut Transaction<'_>,
    notice: &Notice,
    now: i64,
) -> Result<bool, StoreError> {
    let json = serde_json::to_string(notice).expect("a notice serialises");
    let n = tx
        .execute(
            "INSERT INTO outbox (key, task_id, unit, county, kind, notice, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (key) DO NOTHING",
            &[
                &notice.key(),
                &notice.task_id,
                &notice.unit,
                &notice.county,
                &notice.kind.name(),
                &json,
                &now,
            ],
        )
        .ctx("enqueue a notice")?;
    Ok(n == 1)
}

/// Supersedes the notices about `task_id` that no longer hold (`why`: `cancel`, `reassign`;
/// the statement and its why: `shared::SUPERSEDE_SQL`). The notices superseded.
pub(super) fn supersede(
    tx: &mut Transaction<'_>,
    task_id: i64,
    now: i64,
    why: &str,
) -> Result<u64, StoreError> {
    tx.execute(&dollars(SUPERSEDE_SQL), &[&task_id, &now, &why])
        .ctx("supersede notices")
}
