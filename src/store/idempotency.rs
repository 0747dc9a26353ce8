//! Idempotency keys of the patrol's task writes (#16): a phone in a field with patchy coverage
//! sends an action, loses the answer and sends it again (or two tabs flush the same queue). The
//! client names every action with a key of its own (`Idempotency-Key` header); the key is
//! claimed inside the transaction of the change it names (table `idempotency_keys`, migration 8),
//! so a change and its key commit together or not at all, and a second claim of the same key
//! refuses the change ([`super::tasks::TaskError::Replayed`]). The answer sent for the first
//! request is stored after the commit; a replay gets it back. Keys are per token fingerprint
//! (`actor`): another token's key never collides with, nor reveals, this one's. (Both
//! backends: `shared/idempotency.rs`.)

/// The key of one action as the client sent it, with what it was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The token fingerprint (`Actor::id`).
    pub actor: String,
    /// The client's key.
    pub key: String,
    /// The action (`ack`, `on-site`, `verdict`).
    pub route: String,
    pub task_id: i64,
    /// SHA-256 (hex) of the request's content as read (fields and photo bytes, not the
    /// multipart framing, whose boundary differs between two sends of the same form).
    pub request_sha256: String,
}

/// A key found in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredKey {
    pub route: String,
    pub task_id: i64,
    pub request_sha256: String,
    /// The answer of the first request (HTTP status and JSON body), once stored; `None` when the
    /// change committed and its answer was not stored (the process stopped in between).
    pub answer: Option<(u16, serde_json::Value)>,
}

impl StoredKey {
    /// Whether `k` asks the same thing as the request that first used this key.
    pub fn same_request(&self, k: &IdempotencyKey) -> bool {
        self.route == k.route
            && self.task_id == k.task_id
            && self.request_sha256 == k.request_sha256
    }
}
