//! Notifications: what a township (or, on escalation, its county) is told about a task.
//!
//! A [`Notice`] is written to the store's outbox in the same transaction as the task change that
//! causes it (`store::outbox::enqueue`), so a crash can neither lose a notice nor send one for a
//! change that was rolled back. Delivery to the configured webhooks happens afterwards, from the
//! outbox, with retries; every delivery carries an idempotency key derived from
//! [`Notice::key`] so that a receiver can drop a repeat.
//!
//! - [`render`]: the webhook bodies (JSON, WeCom and DingTalk markdown), pure.
//! - [`image`]: the verdict photo as a WeCom `image` message, pure.
//! - [`backoff`]: bounded exponential backoff with full or decorrelated jitter, pure.
//! - [`deliver`]: the worker that sends from the outbox (its state is `store::deliveries`).

pub mod backoff;
pub mod deliver;
pub mod image;
pub mod render;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why a notice is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum NoticeKind {
    /// A new task for the unit.
    TaskNew,
    /// The task's event was detected again (the sighting count it reached).
    TaskUpdated { sightings: u32 },
    /// A deadline passed; sent to the county's contacts.
    Escalation { deadline: String },
    /// A verdict was reported.
    Verdict { verdict: String },
    /// The command center sent the verdict (`verdict_id`) back for re-verification, with its
    /// reason; told to the task's unit. The task is `acknowledged` again: `Notice::due` is its
    /// new on-site deadline, `verdict_due` the new verdict deadline.
    SentBack {
        reason: String,
        verdict_id: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        verdict_due: Option<DateTime<Utc>>,
    },
    /// The task was taken from the unit told (`Notice::unit`): cancelled by the command center,
    /// or, with `reassigned_to`, given to another unit; either way the unit stops work on it.
    Cancelled {
        reason: String,
        /// The unit the task went to (code), when it was reassigned.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reassigned_to: Option<String>,
        /// Its name, filled in at delivery from the loaded layers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reassigned_to_name: Option<String>,
    },
}

impl NoticeKind {
    /// Every kind's [`NoticeKind::name`] (what a webhook's `kinds` may list).
    pub const NAMES: &'static [&'static str] = &[
        "task_new",
        "task_updated",
        "escalation",
        "verdict",
        "sent_back",
        "cancelled",
    ];

    /// The short name stored in the outbox's `kind` column.
    pub fn name(&self) -> &'static str {
        match self {
            NoticeKind::TaskNew => "task_new",
            NoticeKind::TaskUpdated { .. } => "task_updated",
            NoticeKind::Escalation { .. } => "escalation",
            NoticeKind::Verdict { .. } => "verdict",
            NoticeKind::SentBack { .. } => "sent_back",
            NoticeKind::Cancelled { .. } => "cancelled",
        }
    }
}

/// One notification about one task, self-contained: the webhook body is rendered from it alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    #[serde(flatten)]
    pub kind: NoticeKind,
    pub task_id: i64,
    pub event_id: i64,
    /// The unit told: the task's township (or county), or the county on escalation.
    pub unit: String,
    pub unit_name: Option<String>,
    pub county: Option<String>,
    pub priority: String,
    pub state: String,
    pub lat: f64,
    pub lon: f64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The next deadline of the task, if any is left.
    pub due: Option<DateTime<Utc>>,
    pub max_frp_mw: Option<f64>,
    pub confidence: f64,
    /// Free text (e.g. which deadline passed, who reported).
    pub detail: String,
    /// Names of the place, county first (county, township, village), filled in at delivery
    /// from the loaded admin layers (the store keeps codes); empty when none is loaded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub place: Vec<String>,
    /// The field parcel at the position, filled in at delivery like `place`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parcel: Option<String>,
    /// A verdict's note from the patrol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A verdict's evidence flags (`photo_identical`, `far_from_event`, ...): why it awaits
    /// review; empty when it does not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub review: Vec<String>,
    /// A verdict's photo (its SHA-256): WeCom groups get it as an image message after the text
    /// (`image`), if the verdict still has this photo when it is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_sha256: Option<String>,
    /// How many times the task was given out again before this notice (reassigned or its
    /// verdict sent back): 0 at first. Part of the key, so a task given back to a unit that
    /// held it earlier, or verified again with the same verdict, is told again.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub round: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Notice {
    /// A plain notice for tests: task `task_id` (and event of the same id) of `unit` in county
    /// 410526, seen at 2026-06-08 10:00 UTC, normal priority, no deadline.
    #[cfg(test)]
    pub(crate) fn test(kind: NoticeKind, task_id: i64, unit: &str) -> Notice {
        use chrono::TimeZone;
        let t = Utc.with_ymd_and_hms(2026, 6, 8, 10, 0, 0).unwrap();
        Notice {
            kind,
            task_id,
            event_id: task_id,
            unit: unit.into(),
            unit_name: None,
            county: Some("410526".into()),
            priority: "normal".into(),
            state: "new".into(),
            lat: 35.6,
            lon: 114.5,
            first_seen: t,
            last_seen: t,
            due: None,
            max_frp_mw: None,
            confidence: 0.8,
            detail: String::new(),
            place: Vec::new(),
            parcel: None,
            note: None,
            review: Vec::new(),
            photo_sha256: None,
            round: 0,
        }
    }

    /// The notice's identity: the same change always yields the same key, so enqueueing it
    /// twice (a retried transaction) stores it once. The same change in a later round (a task
    /// given back to a unit, a verdict made again after a send-back) has a key of its own; keys
    /// of round 0 are those of earlier versions.
    pub fn key(&self) -> String {
        let nth = match self.round {
            0 => String::new(),
            n => format!("-r{n}"),
        };
        let what = match &self.kind {
            NoticeKind::TaskNew => format!("new{nth}"),
            NoticeKind::Cancelled {
                reassigned_to: None,
                ..
            } => format!("cancelled{nth}"),
            NoticeKind::Cancelled { .. } => format!("withdrawn{nth}"),
            NoticeKind::TaskUpdated { sightings } => format!("update-{sightings}{nth}"),
            NoticeKind::Escalation { deadline } => format!("escalation-{deadline}{nth}"),
            NoticeKind::Verdict { verdict } => format!("verdict-{verdict}{nth}"),
            NoticeKind::SentBack { verdict_id, .. } => format!("sent-back-{verdict_id}{nth}"),
        };
        format!("task-{}-{}-{}", self.task_id, what, self.unit)
    }
}
