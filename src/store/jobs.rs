//! The jobs table of a deployment with several processes (#19): scene scans, feed polls and the
//! escalation sweep as rows that any worker claims (PostgreSQL: `postgres/jobs.rs`; the SQLite
//! store is one process and has none). Deliveries are jobs too, in their own table
//! (`DeliveryStore::claim_deliveries`).
//!
//! A claim is a lease, not a held lock: the claiming transaction commits `state = 'running'`,
//! the worker's name and `lease_until`, and the worker renews the lease by heartbeat while it
//! works. A worker that dies stops renewing; once the lease has passed the row is claimable
//! again, and another worker runs it. A worker that lost its lease (it hung past it) can no
//! longer finish the row (every change checks the worker and the attempt), and what it would
//! have written is a no-op anyway: scenes are stored by content hash.

use std::time::Duration;

use serde::Serialize;

use super::error::StoreError;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Scan a file from the spool and store it (one-shot); also a feed URL given once to
    /// `strawfire ingest` (op `fetch`), one-shot work of the same scene slots.
    Scene,
    /// Poll a configured feed source (periodic, key `feed:<source name>`).
    Feed,
    /// The escalation sweep (periodic, key [`ESCALATION_KEY`]).
    Sweep,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Scene => "scene",
            JobKind::Feed => "feed",
            JobKind::Sweep => "sweep",
        }
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        Some(match s {
            "scene" => JobKind::Scene,
            "feed" => JobKind::Feed,
            "sweep" => JobKind::Sweep,
            _ => return None,
        })
    }
}

/// The key of the one escalation-sweep job.
pub const ESCALATION_KEY: &str = "sweep:escalation";

/// The key of a feed source's poll job.
pub fn feed_key(source: &str) -> String {
    format!("feed:{source}")
}

/// The key of a scene job: its content hash, so a file queued twice (two nodes, a restart) is
/// one job.
pub fn scene_key(sha256: &str) -> String {
    format!("scene:{sha256}")
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub fn parse(s: &str) -> Option<JobState> {
        Some(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            _ => return None,
        })
    }

    /// Done or failed: nothing more will happen to it.
    pub fn settled(self) -> bool {
        matches!(self, JobState::Done | JobState::Failed)
    }
}

/// Why a job failed for good, kept beside its message (PostgreSQL migration 4, column
/// `failure`), so that a failure on a worker is answered as the same failure on a node that
/// scans the file itself: the API maps it to the same status (`api/error.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The input says something that cannot be (a scene dated 1970, a feed that is not FIRMS):
    /// the API's 400.
    BadInput,
    /// The product cannot be read or stored as given (not a raster, a band or the geolocation
    /// missing, a row the store refused, a file that killed every worker reading it): 422.
    Unreadable,
    /// Not the input's fault but the deployment's: a spool the workers do not reach, a store
    /// that kept failing, a job no worker of this version knows how to run: 503 with the
    /// message (what to set up), as for what else a server lacks.
    Unavailable,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::BadInput => "bad_input",
            FailureKind::Unreadable => "unreadable",
            FailureKind::Unavailable => "unavailable",
        }
    }

    pub fn parse(s: &str) -> Option<FailureKind> {
        Some(match s {
            "bad_input" => FailureKind::BadInput,
            "unreadable" => FailureKind::Unreadable,
            "unavailable" => FailureKind::Unavailable,
            _ => return None,
        })
    }
}

/// A job as [`JobStore::job`] shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub key: String,
    pub state: JobState,
    pub attempts: u32,
    /// The worker holding (or that last held) it.
    pub worker: Option<String>,
    pub payload: serde_json::Value,
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    /// The kind of a failed job's failure (`None` for rows failed before migration 4, which
    /// were all answered as unreadable).
    pub failure: Option<FailureKind>,
}

/// A job claimed by a worker. `attempt` (the row's attempts after the claim) identifies this
/// claim: heartbeats and outcomes of an older claim change nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: JobKind,
    pub key: String,
    pub payload: serde_json::Value,
    pub attempt: u32,
    pub worker: String,
    /// What the row said when it was claimed: the reason the previous attempt gave for trying
    /// again (`Retry`), if any; the failure of a job claimed too often carries it.
    pub last_error: Option<String>,
}

/// How a claimed job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    /// Done for good (a scene stored, or found stored), with what it did.
    Done(serde_json::Value),
    /// Failed for good (a file that is not a scene): `error` says why, naming the file, and
    /// `kind` what kind of failure it is.
    Failed { kind: FailureKind, error: String },
    /// Failed this time (the store unreachable, the spool file not visible here): claimable
    /// again after `after`.
    Retry { error: String, after: Duration },
    /// A periodic job's round is over: claimable again after `after`, with `payload` as its
    /// new state (a feed's last good poll and failures).
    Again {
        after: Duration,
        payload: serde_json::Value,
    },
}

/// Jobs by state (the metrics and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct JobCounts {
    pub queued: u64,
    pub running: u64,
    pub done: u64,
    pub failed: u64,
}

/// The jobs table.
pub trait JobStore: Send + Sync {
    /// Adds a one-shot job, or finds the job already under `key` (a failed one is queued again
    /// with `payload`). Returns its id and state.
    fn enqueue(
        &self,
        kind: JobKind,
        key: &str,
        payload: &serde_json::Value,
    ) -> Result<(i64, JobState), StoreError>;

    /// Makes sure the periodic job `key` exists (due at once when it is new; an existing one
    /// keeps its schedule and state).
    fn ensure_periodic(
        &self,
        kind: JobKind,
        key: &str,
        payload: &serde_json::Value,
    ) -> Result<(), StoreError>;

    /// Claims one due job of `kinds` or with one of `keys` (queued and due, or running with its
    /// lease passed), oldest due first, skipping rows another worker is claiming right now
    /// (`FOR UPDATE SKIP LOCKED`). Commits the lease `now + lease` before returning.
    fn claim(
        &self,
        worker: &str,
        kinds: &[JobKind],
        keys: &[String],
        lease: Duration,
    ) -> Result<Option<ClaimedJob>, StoreError>;

    /// Renews the lease; `false` when this claim no longer holds the job (its lease passed and
    /// another worker took it, or it was settled).
    fn heartbeat(&self, job: &ClaimedJob, lease: Duration) -> Result<bool, StoreError>;

    /// Records how the claim ended; `false` when it no longer held the job (nothing changed).
    fn finish(&self, job: &ClaimedJob, outcome: &JobOutcome) -> Result<bool, StoreError>;

    /// One job by id.
    fn job(&self, id: i64) -> Result<Option<JobRow>, StoreError>;

    /// The jobs of `ids` that exist, in id order.
    fn jobs(&self, ids: &[i64]) -> Result<Vec<JobRow>, StoreError>;

    fn job_counts(&self) -> Result<JobCounts, StoreError>;
}

/// The cluster's log of live updates (#19): what changed, written by the transaction that
/// changed it (an ingest batch) or right after (a task change), in commit order, and a wake-up
/// (PostgreSQL `NOTIFY`) for every node that relays the log to its SSE clients
/// (`service::relay`). Rows are kept an hour, so a node whose listening connection broke
/// catches up from the last row it relayed.
pub trait LiveLog: Send + Sync {
    /// Appends one update (JSON) and wakes the listeners, in one transaction.
    fn append_live(&self, body: &serde_json::Value) -> Result<i64, StoreError>;

    /// The updates after `after`, oldest first, at most `limit`.
    fn live_after(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, serde_json::Value)>, StoreError>;

    /// The id of the newest update (0 when there is none).
    fn live_head(&self) -> Result<i64, StoreError>;

    /// A connection of its own that hears the wake-ups.
    fn listen_live(&self) -> Result<Box<dyn LiveListener>, StoreError>;
}

/// A listening connection ([`LiveLog::listen_live`]).
pub trait LiveListener: Send {
    /// Waits up to `timeout` for a wake-up; `true` when one (or more) came.
    fn wait(&mut self, timeout: Duration) -> Result<bool, StoreError>;
}

/// The live-log row of an ingest batch: `{"hotspots": [[id, lon, lat, county, township], ...],
/// "events": [[id, lon, lat, county, township], ...]}` (`service::relay` reads it back).
pub fn batch_body(hotspots: &[super::Placed], events: &[super::Placed]) -> serde_json::Value {
    let rows = |v: &[super::Placed]| -> Vec<serde_json::Value> {
        v.iter()
            .map(|p| serde_json::json!([p.id, p.lon, p.lat, p.county, p.township]))
            .collect()
    };
    serde_json::json!({"hotspots": rows(hotspots), "events": rows(events)})
}
