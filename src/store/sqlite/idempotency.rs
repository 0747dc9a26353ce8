//! Idempotency keys of the patrol's task writes (#16): a phone in a field with patchy coverage
//! sends an action, loses the answer and sends it again (or two tabs flush the same queue). The
//! client names every action with a key of its own (`Idempotency-Key` header); the key is
//! claimed inside the transaction of the change it names (table `idempotency_keys`, migration 8),
//! so a change and its key commit together or not at all, and a second claim of the same key
//! refuses the change ([`super::tasks::TaskError::Replayed`]). The answer sent for the first
//! request is stored after the commit; a replay gets it back. Keys are per token fingerprint
//! (`actor`): another token's key never collides with, nor reveals, this one's.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::ts;
use crate::store::error::{SqlContext, StoreError};
use crate::store::idempotency::{IdempotencyKey, StoredKey};
use crate::store::shared::tasks::{stored_key, ANSWER_KEY_SQL, CLAIM_KEY_SQL, FIND_KEY_SQL};
use crate::store::tasks::TaskError;

/// Claims `k` in the transaction of its change: `Replayed` when it is already taken.
pub(super) fn claim(
    tx: &Connection,
    k: &IdempotencyKey,
    now: DateTime<Utc>,
) -> Result<(), TaskError> {
    let n = tx
        .execute(
            CLAIM_KEY_SQL,
            params![
                k.actor,
                k.key,
                k.route,
                k.task_id,
                k.request_sha256,
                ts(now)
            ],
        )
        .ctx("claim idempotency key")?;
    if n == 0 {
        return Err(TaskError::Replayed { key: k.key.clone() });
    }
    Ok(())
}

pub(super) fn find(
    c: &Connection,
    actor: &str,
    key: &str,
) -> Result<Option<StoredKey>, StoreError> {
    c.query_row(FIND_KEY_SQL, params![actor, key], |r| {
        Ok(stored_key(
            (r.get(0)?, r.get(1)?, r.get(2)?),
            r.get(3)?,
            r.get(4)?,
        ))
    })
    .optional()
    .ctx("read idempotency key")
}

pub(super) fn answer(
    c: &Connection,
    actor: &str,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> Result<(), StoreError> {
    c.execute(
        ANSWER_KEY_SQL,
        params![actor, key, status as i64, body.to_string()],
    )
    .ctx("store idempotent answer")?;
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

    #[test]
    fn a_key_is_claimed_once_and_keeps_its_first_answer() {
        let mut c = Connection::open_in_memory().unwrap();
        super::super::migrations::migrate(&mut c).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 6, 8, 5, 0, 0).unwrap();
        let tx = c.transaction().unwrap();
        claim(&tx, &key("k", "r1"), now).unwrap();
        // A second claim in any transaction is refused: the change it guards is not made again.
        assert!(matches!(
            claim(&tx, &key("k", "r1"), now),
            Err(TaskError::Replayed { .. })
        ));
        // Another token's "k" is another key.
        let mut other = key("k", "r1");
        other.actor = "token:def".into();
        claim(&tx, &other, now).unwrap();
        tx.commit().unwrap();

        let found = find(&c, "token:abc", "k").unwrap().unwrap();
        assert!(found.answer.is_none());
        assert!(found.same_request(&key("k", "r1")));
        assert!(!found.same_request(&key("k", "r2")));
        answer(&c, "token:abc", "k", 200, &serde_json::json!({"n": 1})).unwrap();
        answer(&c, "token:abc", "k", 201, &serde_json::json!({"n": 2})).unwrap();
        let found = find(&c, "token:abc", "k").unwrap().unwrap();
        assert_eq!(found.answer, Some((200, serde_json::json!({"n": 1}))));
        assert!(find(&c, "token:abc", "nope").unwrap().is_none());
    }
}
