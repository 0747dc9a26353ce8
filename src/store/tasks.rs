//! Tasks, verdicts, the audit log and mask candidates: what a backend must provide
//! ([`TaskStore`]) and the types that go in and out of it.
//!
//! Every change is one transaction that also writes its audit row and its outbox notice, so a
//! crash can leave neither a state change without its record nor a notice for a change that was
//! rolled back. Task creation runs inside the ingest transaction: an event is never committed
//! without the task it is owed. The decisions themselves are pure (`dispatch::rules`,
//! `dispatch::policy`, `dispatch::task`, `verify::evidence`); a backend only loads, applies and
//! records them (SQLite: `sqlite/tasks.rs`).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::error::StoreError;
use super::idempotency::{IdempotencyKey, StoredKey};
use super::model::{IngestBatch, IngestReport, Scope};
use crate::dispatch::{
    Deadline, IllegalTransition, Milestones, Priority, TaskRules, TaskState, Verdict,
};
use crate::fuse::{FuseParams, Placer};
use crate::verify::{Flag, PhotoPrint};

/// Who made a change: a token fingerprint (never the token) and its role, or the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// `token:<first 12 hex of SHA-256 of the token>` or `system`.
    pub id: String,
    /// `admin`, `county:<adcode>`, `patrol:<township>` or `system`.
    pub role: String,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            id: "system".into(),
            role: "system".into(),
        }
    }
}

/// Why a task change was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// No task (or mask candidate) with this id.
    #[error("no {what} {id}")]
    NotFound { what: &'static str, id: i64 },
    /// The state machine refuses the move (the API answers 409).
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The idempotency key was claimed by an earlier request (which made the change).
    #[error("idempotency key `{key}` was already used")]
    Replayed { key: String },
}

/// How a patrol's action is recorded (#16): when it was made (its milestone time; the audit row
/// keeps when it arrived) and the client's idempotency key, claimed in the same transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Acted {
    /// When the patrol acted (on the phone, maybe offline); `None`: when it arrived.
    pub at: Option<DateTime<Utc>>,
    pub key: Option<IdempotencyKey>,
}

/// A task as stored, with its event's position and its verdict's review mark.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTask {
    pub id: i64,
    pub event_id: i64,
    pub unit: String,
    /// `township` or `county`.
    pub unit_level: String,
    pub county: Option<String>,
    pub state: TaskState,
    pub priority: Priority,
    pub milestones: Milestones,
    pub ack_due: DateTime<Utc>,
    pub on_site_due: DateTime<Utc>,
    pub verdict_due: DateTime<Utc>,
    /// Deadline names escalated so far, in order.
    pub escalations: Vec<String>,
    pub verdict: Option<Verdict>,
    /// The verdict carries evidence flags.
    pub review: bool,
    pub lon: f64,
    pub lat: f64,
    pub updated_at: DateTime<Utc>,
    /// The field parcel of the task's event, when a parcel layer placed it (its geometry is in
    /// the loaded parcel layer: `GET /api/v1/units?level=parcel`).
    pub parcel: Option<String>,
}

impl StoredTask {
    /// Each deadline, its due time, and whether its milestone was reached.
    pub fn deadlines(&self) -> [(Deadline, DateTime<Utc>, bool); 3] {
        let m = &self.milestones;
        [
            (
                Deadline::Acknowledge,
                self.ack_due,
                m.acknowledged_at
                    .or(m.on_site_at)
                    .or(m.verified_at)
                    .is_some(),
            ),
            (
                Deadline::OnSite,
                self.on_site_due,
                m.on_site_at.or(m.verified_at).is_some(),
            ),
            (Deadline::Verdict, self.verdict_due, m.verified_at.is_some()),
        ]
    }

    /// The next deadline not yet met, while the task is open.
    pub fn next_due(&self) -> Option<(Deadline, DateTime<Utc>)> {
        if !self.state.is_open() {
            return None;
        }
        self.deadlines()
            .into_iter()
            .find(|(_, _, reached)| !reached)
            .map(|(d, at, _)| (d, at))
    }

    /// An unmet deadline has passed.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.state.is_open()
            && self
                .deadlines()
                .iter()
                .any(|(_, at, reached)| !reached && now > *at)
    }
}

/// Which tasks to list.
#[derive(Debug, Clone)]
pub struct TaskQuery {
    pub id: Option<i64>,
    /// `None`: all; `Some(None)`: open (not verified or closed); `Some(Some(s))`: in state `s`.
    pub status: Option<Option<TaskState>>,
    /// The task's unit or county.
    pub unit: Option<String>,
    /// County scope filters on the task's county, township scope on its unit.
    pub scope: Scope,
    /// Only tasks whose first deadline (acknowledge) is before this time.
    pub ack_due_before: Option<DateTime<Utc>>,
    pub limit: usize,
    /// Only tasks with a smaller id (the next page of a newest-first list).
    pub before_id: Option<i64>,
    /// Only tasks whose verdict is (true) or is not (false) flagged for review.
    pub review: Option<bool>,
}

impl Default for TaskQuery {
    fn default() -> Self {
        TaskQuery {
            id: None,
            status: None,
            unit: None,
            scope: Scope::All,
            ack_due_before: None,
            limit: 10_000,
            before_id: None,
            review: None,
        }
    }
}

/// A verdict to record: the fields of the form and the stored photo.
#[derive(Debug, Clone)]
pub struct NewVerdict {
    pub verdict: Verdict,
    pub reported_at: DateTime<Utc>,
    pub lon: f64,
    pub lat: f64,
    pub note: Option<String>,
    pub photo: PhotoPrint,
    /// Relative to the data directory.
    pub photo_path: String,
    pub photo_bytes: u64,
}

/// An evidence flag as stored: the finding and its sentence.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StoredFlag {
    #[serde(flatten)]
    pub flag: Flag,
    pub reason: String,
}

/// A stored verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredVerdict {
    pub id: i64,
    pub task_id: i64,
    pub verdict: Verdict,
    pub reported_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub lat: f64,
    pub lon: f64,
    /// From the event, m.
    pub distance_m: f64,
    pub note: Option<String>,
    pub photo_sha256: String,
    pub photo_path: String,
    pub photo_bytes: u64,
    pub exif_time: Option<DateTime<Utc>>,
    pub exif_lat: Option<f64>,
    pub exif_lon: Option<f64>,
    pub flags: Vec<StoredFlag>,
    pub review: bool,
    pub actor: String,
}

/// What recording a verdict did.
#[derive(Debug, Clone)]
pub struct VerdictOutcome {
    pub verdict: StoredVerdict,
    pub task: StoredTask,
    /// The mask candidate the verdict proposed or supported.
    pub candidate: Option<i64>,
}

/// One row of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub role: String,
    pub entity: String,
    pub entity_id: i64,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub detail: serde_json::Value,
}

/// A place proposed for the mask by verdicts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaskCandidate {
    pub id: i64,
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
    pub reason: String,
    /// Ids of the verdicts behind it.
    pub verdicts: Vec<i64>,
    /// `pending`, `confirmed` or `rejected`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
}

/// How often a source's detections were confirmed on the ground.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourcePrecision {
    /// `satellite` or `camera`.
    pub kind: String,
    /// `INSTRUMENT/SATELLITE` (e.g. `VIIRS/N20`) or the camera id.
    pub source: String,
    /// Satellite confidence class (`low`, `nominal`, `high`); `None` for cameras.
    pub confidence: Option<String>,
    pub verdicts: u64,
    /// `burning` or `burned_scar`.
    pub confirmed: u64,
    /// `no_fire_industrial` or `no_fire_other`.
    pub false_alarms: u64,
    /// confirmed / verdicts.
    pub precision: f64,
}

/// Where a task goes: a township (or a county without townships) and its county.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTarget {
    pub unit: String,
    /// `township` or `county`.
    pub level: String,
    pub county: Option<String>,
}

/// A state change asked of a task (the verdict has its own call).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TaskChange {
    Acknowledge,
    /// The patrol's position on arrival (lon, lat).
    OnSite {
        lon: f64,
        lat: f64,
    },
    Close,
    /// The task's notification was delivered (for the delivery worker).
    Notified,
}

/// Tasks, verdicts, audit and mask candidates. Synchronous like [`super::Store`].
pub trait TaskStore {
    /// [`super::Store::ingest`] that also creates or updates the task of every event it touches,
    /// in the same transaction, at `now` (the service's clock).
    fn ingest_dispatched(
        &self,
        batch: &IngestBatch,
        fuse: &FuseParams,
        placer: &dyn Placer,
        rules: &TaskRules,
        now: DateTime<Utc>,
    ) -> Result<IngestReport, StoreError> {
        self.ingest_within(batch, fuse, placer, rules, now, &Scope::All)
    }

    /// [`TaskStore::ingest_dispatched`] for a writer whose scope is `reach`: a row placed, or an
    /// event changed, outside it fails the whole batch with [`StoreError::OutOfReach`] and
    /// nothing is stored.
    fn ingest_within(
        &self,
        batch: &IngestBatch,
        fuse: &FuseParams,
        placer: &dyn Placer,
        rules: &TaskRules,
        now: DateTime<Utc>,
        reach: &Scope,
    ) -> Result<IngestReport, StoreError>;

    /// Tasks matching a query, newest first.
    fn tasks(&self, q: &TaskQuery) -> Result<Vec<StoredTask>, StoreError> {
        let mut out = Vec::new();
        self.tasks_each(q, &mut |t| {
            out.push(t);
            true
        })?;
        Ok(out)
    }

    /// Tasks matching a query, newest first, handed to `f` as they are read (false stops).
    fn tasks_each(
        &self,
        q: &TaskQuery,
        f: &mut dyn FnMut(StoredTask) -> bool,
    ) -> Result<(), StoreError>;

    /// Applies a state change with its audit row (and notice, where one is due).
    fn change_task(
        &self,
        id: i64,
        change: TaskChange,
        who: &Actor,
        now: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError> {
        self.change_task_as(id, change, who, now, &Acted::default())
    }

    /// [`TaskStore::change_task`] for an action made at `acted.at` (the milestone's time; the
    /// audit row is dated `now`, when it arrived, and names both), claiming `acted.key` in the
    /// same transaction ([`TaskError::Replayed`] when it was claimed before: nothing changes).
    fn change_task_as(
        &self,
        id: i64,
        change: TaskChange,
        who: &Actor,
        now: DateTime<Utc>,
        acted: &Acted,
    ) -> Result<StoredTask, TaskError>;

    /// Records a verdict: evidence checks, the task to `verified`, audit, notice, and a mask
    /// candidate where the verdict says "no fire" in a way that calls for one.
    fn record_verdict(
        &self,
        id: i64,
        v: &NewVerdict,
        who: &Actor,
        rules: &TaskRules,
        now: DateTime<Utc>,
    ) -> Result<VerdictOutcome, TaskError> {
        self.record_verdict_as(id, v, who, rules, now, None)
    }

    /// [`TaskStore::record_verdict`] claiming an idempotency key in the same transaction.
    fn record_verdict_as(
        &self,
        id: i64,
        v: &NewVerdict,
        who: &Actor,
        rules: &TaskRules,
        now: DateTime<Utc>,
        key: Option<&IdempotencyKey>,
    ) -> Result<VerdictOutcome, TaskError>;

    /// A claimed idempotency key of a token (`actor`), with the answer stored for it.
    fn idempotency_key(&self, actor: &str, key: &str) -> Result<Option<StoredKey>, StoreError>;

    /// Stores the answer sent for a claimed key (the first one stays).
    fn idempotent_answer(
        &self,
        actor: &str,
        key: &str,
        status: u16,
        body: &serde_json::Value,
    ) -> Result<(), StoreError>;

    /// Forgets the idempotency keys claimed before `before` (with their answers): a replay
    /// older than the retention (`dispatch.idempotency_retention_days`) is then refused by the
    /// task's state, not answered from its key. The keys removed. Run by the periodic sweep
    /// (`Service::escalate_due`).
    fn prune_idempotency_keys(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// The verdicts a token (`actor`) filed, newest first, with their tasks: the patrol's record.
    fn verdicts_by(
        &self,
        actor: &str,
        limit: usize,
    ) -> Result<Vec<(StoredTask, StoredVerdict)>, StoreError>;

    /// Escalates every missed, not yet escalated deadline of open tasks: one notice to the
    /// county and one audit row each. Returns (task id, deadline) of what it escalated.
    fn escalate_due(&self, now: DateTime<Utc>) -> Result<Vec<(i64, Deadline)>, StoreError>;

    /// The verdict of a task.
    fn verdict_of(&self, task_id: i64) -> Result<Option<StoredVerdict>, StoreError>;

    /// How many verdict rows reference a photo (to keep a shared photo file).
    fn photo_refs(&self, sha256: &str) -> Result<u64, StoreError>;

    /// The audit log of one entity (`task`, `mask_candidate`), oldest first.
    fn audit(&self, entity: &str, id: i64) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit_page(entity, id, None, i64::MAX as usize)
    }

    /// At most `limit` audit rows of one entity after row `after_id`, oldest first.
    fn audit_page(
        &self,
        entity: &str,
        id: i64,
        after_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// Mask candidates, newest first; `status` filters.
    fn mask_candidates(&self, status: Option<&str>) -> Result<Vec<MaskCandidate>, StoreError> {
        self.mask_candidates_page(status, None, i64::MAX as usize)
    }

    /// At most `limit` mask candidates with an id below `before_id`, newest first.
    fn mask_candidates_page(
        &self,
        status: Option<&str>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<MaskCandidate>, StoreError>;

    /// Confirms or rejects a pending candidate.
    fn decide_candidate(
        &self,
        id: i64,
        confirm: bool,
        who: &Actor,
        now: DateTime<Utc>,
    ) -> Result<MaskCandidate, TaskError>;

    /// Verdicts per source, within a scope.
    fn precision(&self, scope: &Scope) -> Result<Vec<SourcePrecision>, StoreError>;
}
