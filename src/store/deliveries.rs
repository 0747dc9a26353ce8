//! Deliveries of outbox notices to webhooks ([`DeliveryStore`]; SQLite: `sqlite/deliveries.rs`):
//! the state that makes a notification arrive exactly once as far as an idempotent receiver can
//! tell.
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
use serde::Serialize;

use super::error::StoreError;
use crate::notify::Notice;

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The receiver answered 2xx.
    Delivered { status: u16 },
    /// Failed; `retry` false means retrying cannot help (e.g. 401, 410): give up now.
    Failed { error: String, retry: bool },
}

/// What recording an outcome did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Delivered; `task_notified` when this delivery moved its task new → notified.
    Delivered { task_notified: bool },
    /// Failed, and it will be tried again.
    WillRetry,
    /// Failed, and it is given up.
    GaveUp,
    /// The row was already settled (delivered or given up): nothing changed.
    AlreadySettled,
}

/// A delivery claimed for sending.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub webhook: String,
    pub idempotency_key: String,
    /// The attempt this is (1 = first).
    pub attempt: u32,
    pub notice: Notice,
}

/// A task moved to `notified`, with the units open pages are told by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifiedTask {
    pub id: i64,
    pub county: Option<String>,
    pub unit: String,
}

/// What one expansion pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    /// Outbox rows expanded.
    pub notices: usize,
    /// Delivery rows created.
    pub deliveries: usize,
    /// Tasks moved to `notified` because their unit has no webhook.
    pub notified_without_webhook: Vec<NotifiedTask>,
    /// Outbox rows whose notice cannot be read (hand-edited? written by a newer strawfire?):
    /// marked expanded without deliveries, so that one bad row does not block the outbox.
    pub unreadable: Vec<i64>,
}

/// Filter of [`DeliveryStore::deliveries`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not delivered, not given up, not superseded: it will be sent.
    Pending,
    Delivered,
    /// Given up.
    Failed,
    /// Never to be sent: its notice no longer holds (the task was cancelled or given to
    /// another unit before it went out).
    Superseded,
}

impl DeliveryStatus {
    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        Some(match s {
            "pending" => DeliveryStatus::Pending,
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            "superseded" => DeliveryStatus::Superseded,
            _ => return None,
        })
    }
}

/// A delivery as operators see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook: String,
    pub idempotency_key: String,
    pub status: DeliveryStatus,
    pub kind: String,
    pub task_id: Option<i64>,
    pub unit: String,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub gave_up_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// When its notice was superseded and by what move (`cancel`, `reassign`).
    pub superseded_at: Option<DateTime<Utc>>,
    pub superseded_by: Option<String>,
}

/// Delivery rows by status (for the pending gauge and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryCounts {
    pub pending: u64,
    pub delivered: u64,
    pub failed: u64,
    pub superseded: u64,
    /// Outbox rows not yet expanded.
    pub unexpanded: u64,
}

/// The delivery side of the outbox.
pub trait DeliveryStore {
    /// Expands up to `limit` unexpanded outbox rows, oldest first; `route` names the webhooks a
    /// notice goes to. One transaction.
    fn expand_outbox(
        &self,
        route: &dyn Fn(&Notice) -> Vec<String>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Expansion, StoreError>;

    /// Claims up to `limit` due deliveries: commits `attempts + 1` and
    /// `next_attempt_at = now + lease(key, attempt)` before returning them. A due row whose
    /// `max_attempts` are already spent (its last attempt never reported: a crash) is given up
    /// instead of claimed.
    fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        max_attempts: u32,
        lease: &dyn Fn(&str, u32) -> std::time::Duration,
    ) -> Result<Vec<ClaimedDelivery>, StoreError>;

    /// Records the outcome of the attempt of a claimed delivery.
    fn record_attempt(
        &self,
        id: i64,
        outcome: &AttemptOutcome,
        now: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<Recorded, StoreError>;

    /// At most `limit` deliveries with an id below `before_id`, newest first, optionally of one
    /// status.
    fn deliveries(
        &self,
        status: Option<DeliveryStatus>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<DeliveryRow>, StoreError>;

    /// Rows by status.
    fn delivery_counts(&self) -> Result<DeliveryCounts, StoreError>;
}
