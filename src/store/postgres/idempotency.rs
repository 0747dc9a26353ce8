//! Idempotency keys of the patrol's task writes on PostgreSQL (#16, #19): as SQLite's
//! `idempotency.rs` (see there and `store/idempotency.rs` for the why). The key is claimed by
//! `INSERT ... ON CONFLICT DO NOTHING` in the change's own transaction: a second request with
//! the key, even one racing on another node, waits on the key's unique index until the first
//! commits and then finds it taken ([`TaskError::Replayed`]); if the first rolled back, the
//! second claims it and makes the change.

use chrono::{DateTime, Utc};
use postgres::{GenericClient, Transaction};

use super::pg_err;
use super::store::ts;
use crate::store::error::StoreError;
use crate::store::idempotency::{IdempotencyKey, StoredKey};
use crate::store::shared::dollars;
use crate::store::shared::tasks::{stored_key, ANSWER_KEY_SQL, CLAIM_KEY_SQL, FIND_KEY_SQL};
use crate::store::tasks::TaskError;

/// Claims `k` in the transaction of its change: `Replayed` when it is already taken.
pub(super) fn claim(
    tx: &mut Transaction<'_>,
    k: &IdempotencyKey,
    now: DateTime<Utc>,
) -> Result<(), TaskError> {
    let n = tx
        .execute(
            &dollars(CLAIM_KEY_SQL),
            &[
                &k.actor,
                &k.key,
                &k.route,
                &k.task_id,
                &k.request_sha256,
                &ts(now),
            ],
        )
        .map_err(pg_err("claim idempotency key"))?;
    if n == 0 {
        return Err(TaskError::Replayed { key: k.key.clone() });
    }
    Ok(())
}

pub(super) fn find(
    c: &mut impl GenericClient,
    actor: &str,
    key: &str,
) -> Result<Option<StoredKey>, StoreError> {
    let row = c
        .query_opt(&dollars(FIND_KEY_SQL), &[&actor, &key])
        .map_err(pg_err("read idempotency key"))?;
    Ok(row.map(|r| stored_key((r.get(0), r.get(1), r.get(2)), r.get(3), r.get(4))))
}

/// Stores the answer of a claimed key; the first one stays.
pub(super) fn answer(
    c: &mut impl GenericClient,
    actor: &str,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> Result<(), StoreError> {
    c.execute(
        &dollars(ANSWER_KEY_SQL),
        &[&actor, &key, &(status as i64), &body.to_string()],
    )
    .map_err(pg_err("store idempotent answer"))?;
    Ok(())
}
