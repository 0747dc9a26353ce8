//! Idempotency keys of the patrol's task writes (#16) as both backends keep them (the why:
//! `store/idempotency.rs`). A key is claimed by `INSERT ... ON CONFLICT DO NOTHING` in the
//! change's own transaction, so a change and its key commit together or not at all; a second
//! claim refuses the change ([`TaskError::Replayed`]). On PostgreSQL a second request racing on
//! another node waits on the key's unique index until the first commits and then finds it
//! taken; if the first rolled back, the second claims it and makes the change.

use chrono::{DateTime, Utc};

use super::tasks::{stored_key, ANSWER_KEY_SQL, CLAIM_KEY_SQL, FIND_KEY_SQL, PRUNE_KEYS_SQL};
use super::tx::{ts, Tx};
use crate::store::error::StoreError;
use crate::store::idempotency::{IdempotencyKey, StoredKey};
use crate::store::tasks::TaskError;

/// Claims `k` in the transaction of its change: `Replayed` when it is already taken.
pub(crate) fn claim(
    tx: &mut impl Tx,
    k: &IdempotencyKey,
    now: DateTime<Utc>,
) -> Result<(), TaskError> {
    let n = tx.execute(
        "claim idempotency key",
        CLAIM_KEY_SQL,
        &[
            (&k.actor).into(),
            (&k.key).into(),
            (&k.route).into(),
            k.task_id.into(),
            (&k.request_sha256).into(),
            ts(now).into(),
        ],
    )?;
    if n == 0 {
        return Err(TaskError::Replayed { key: k.key.clone() });
    }
    Ok(())
}

/// Removes the keys claimed before `before`; how many.
pub(crate) fn prune(tx: &mut impl Tx, before: DateTime<Utc>) -> Result<u64, StoreError> {
    tx.execute(
        "prune idempotency keys",
        PRUNE_KEYS_SQL,
        &[ts(before).into()],
    )
}

/// Token `actor`'s key `key`, if claimed.
pub(crate) fn find(
    c: &mut impl Tx,
    actor: &str,
    key: &str,
) -> Result<Option<StoredKey>, StoreError> {
    c.query_opt(
        "read idempotency key",
        FIND_KEY_SQL,
        &[actor.into(), key.into()],
        |r| {
            Ok(stored_key(
                (r.get(0)?, r.get(1)?, r.get(2)?),
                r.get(3)?,
                r.get(4)?,
            ))
        },
    )
}

/// Stores the answer of a claimed key; the first one stays.
pub(crate) fn answer(
    c: &mut impl Tx,
    actor: &str,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> Result<(), StoreError> {
    let body = body.to_string();
    c.execute(
        "store idempotent answer",
        ANSWER_KEY_SQL,
        &[
            actor.into(),
            key.into(),
            i64::from(status).into(),
            (&body).into(),
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn key(k: &str, request: &str) -> IdempotencyKey {
        IdempotencyKey {
            actor: "token:abc".into(),
            key: k.into(),
            route: "ack".into(),
            task_id: 7,
            request_sha256: request.into(),
        }
    }

    /// On SQLite's connection (the conformance suite runs keys through the stores on both).
    #[test]
    fn a_key_is_claimed_once_and_keeps_its_first_answer() {
        let mut c = rusqlite::Connection::open_in_memory().unwrap();
        crate::store::migrations::migrate(&mut c).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 6, 8, 5, 0, 0).unwrap();
        let tx = c.transaction().unwrap();
        let mut t: &rusqlite::Connection = &tx;
        claim(&mut t, &key("k", "r1"), now).unwrap();
        // A second claim in any transaction is refused: the change it guards is not made again.
        assert!(matches!(
            claim(&mut t, &key("k", "r1"), now),
            Err(TaskError::Replayed { .. })
        ));
        // Another token's "k" is another key.
        let mut other = key("k", "r1");
        other.actor = "token:def".into();
        claim(&mut t, &other, now).unwrap();
        tx.commit().unwrap();
        let mut c: &rusqlite::Connection = &c;

        let found = find(&mut c, "token:abc", "k").unwrap().unwrap();
        assert!(found.answer.is_none());
        assert!(found.same_request(&key("k", "r1")));
        assert!(!found.same_request(&key("k", "r2")));
        answer(&mut c, "token:abc", "k", 200, &serde_json::json!({"n": 1})).unwrap();
        answer(&mut c, "token:abc", "k", 201, &serde_json::json!({"n": 2})).unwrap();
        let found = find(&mut c, "token:abc", "k").unwrap().unwrap();
        assert_eq!(found.answer, Some((200, serde_json::json!({"n": 1}))));
        assert!(find(&mut c, "token:abc", "nope").unwrap().is_none());
    }
}
