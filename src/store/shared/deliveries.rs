//! Notice deliveries (`store::deliveries`) as both backends make them: the statements (SQLite's
//! numbered parameters; PostgreSQL runs them through [`super::dollars`] and adds its row locks)
//! and the decisions that are not SQL.

use chrono::{DateTime, Utc};

use crate::notify::Notice;
use crate::store::deliveries::{DeliveryCounts, DeliveryStatus};

/// Whether any outbox row waits to be expanded (the worker asks every second).
pub(crate) const ANY_UNEXPANDED_SQL: &str =
    "SELECT EXISTS (SELECT 1 FROM outbox WHERE expanded = 0)";

/// The oldest `?1` unexpanded outbox rows: id, key, task id, notice JSON, superseded.
pub(crate) const UNEXPANDED_SQL: &str =
    "SELECT id, key, task_id, notice, superseded_at IS NOT NULL FROM outbox
     WHERE expanded = 0 ORDER BY id LIMIT ?1";

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
