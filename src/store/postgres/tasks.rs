//! `TaskStore` on PostgreSQL (#19): each change one transaction (`PgStore::write`, `Ok` only
//! after `COMMIT`), each read a pooled connection, around the task family's transactions in
//! `store::shared::task_steps` (the same code SQLite runs). A task is created (or told its
//! event was seen again) inside the ingest transaction. Several API nodes write at once here:
//! the row and advisory locks each change takes are this backend's [`Tx::lock`]
//! (`postgres/tx.rs`), and an escalation sweep claims its overdue tasks
//! `FOR UPDATE SKIP LOCKED`.
//!
//! [`Tx::lock`]: crate::store::shared::tx::Tx::lock

use chrono::{DateTime, Utc};

use super::ingest::ingest_tx;
use super::PgStore;
use crate::dispatch::{Deadline, TaskRules};
use crate::fuse::{FuseParams, Placer};
use crate::store::error::StoreError;
use crate::store::idempotency::{IdempotencyKey, StoredKey};
use crate::store::shared::idempotency;
use crate::store::shared::task_steps::{self as steps, into_store};
use crate::store::tasks::{
    Acted, Actor, AuditEntry, MaskCandidate, NewVerdict, SourcePrecision, StoredTask,
    StoredVerdict, TaskChange, TaskError, TaskQuery, TaskStore, VerdictOutcome,
};
use crate::store::{IngestBatch, IngestReport, Scope};

impl TaskStore for PgStore {
    fn ingest_within(
        &self,
        batch: &IngestBatch,
        fuse: &FuseParams,
        placer: &dyn Placer,
        rules: &TaskRules,
        now: DateTime<Utc>,
        reach: &Scope,
    ) -> Result<IngestReport, StoreError> {
        self.write_ingest(|tx| ingest_tx(tx, batch, fuse, placer, Some((rules, now)), reach))
    }

    fn tasks_each(
        &self,
        q: &TaskQuery,
        f: &mut dyn FnMut(StoredTask) -> bool,
    ) -> Result<(), StoreError> {
        self.read(|c| steps::query_tasks(c, q, f))
    }

    fn change_task_as(
        &self,
        id: i64,
        change: TaskChange,
        who: &Actor,
        now: DateTime<Utc>,
        acted: &Acted,
    ) -> Result<StoredTask, TaskError> {
        self.write(|tx| steps::change_task(tx, id, change, who, now, acted))
    }

    fn record_verdict_as(
        &self,
        id: i64,
        v: &NewVerdict,
        who: &Actor,
        rules: &TaskRules,
        now: DateTime<Utc>,
        key: Option<&IdempotencyKey>,
    ) -> Result<VerdictOutcome, TaskError> {
        self.write(|tx| steps::record_verdict(tx, id, v, who, rules, now, key))
    }

    fn idempotency_key(&self, actor: &str, key: &str) -> Result<Option<StoredKey>, StoreError> {
        self.read(|c| idempotency::find(c, actor, key))
    }

    fn idempotent_answer(
        &self,
        actor: &str,
        key: &str,
        status: u16,
        body: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.read(|c| idempotency::answer(c, actor, key, status, body))
    }

    fn prune_idempotency_keys(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.write(|tx| idempotency::prune(tx, before))
    }

    fn verdicts_by(
        &self,
        actor: &str,
        limit: usize,
    ) -> Result<Vec<(StoredTask, StoredVerdict)>, StoreError> {
        self.read(|c| steps::verdicts_by(c, actor, limit))
    }

    /// Several API nodes sweep at once: each claims the open overdue tasks with
    /// `FOR UPDATE SKIP LOCKED`, so a task is escalated by the one sweep that holds it.
    fn escalate_due(&self, now: DateTime<Utc>) -> Result<Vec<(i64, Deadline)>, StoreError> {
        self.write(|tx| steps::escalate_due(tx, now))
            .map_err(into_store)
    }

    fn verdict_of(&self, task_id: i64) -> Result<Option<StoredVerdict>, StoreError> {
        self.read(|c| steps::read_verdict(c, task_id))
    }

    fn photo_refs(&self, sha256: &str) -> Result<u64, StoreError> {
        self.read(|c| steps::photo_refs(c, sha256))
    }

    fn audit_page(
        &self,
        entity: &str,
        id: i64,
        after_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(|c| steps::audit_page(c, entity, id, after_id, limit))
    }

    fn mask_candidates_page(
        &self,
        status: Option<&str>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<MaskCandidate>, StoreError> {
        self.read(|c| steps::load_candidates(c, status, None, before_id, limit))
    }

    fn decide_candidate(
        &self,
        id: i64,
        confirm: bool,
        who: &Actor,
        now: DateTime<Utc>,
    ) -> Result<MaskCandidate, TaskError> {
        self.write(|tx| steps::decide_candidate(tx, id, confirm, who, now))
    }

    fn precision(&self, scope: &Scope) -> Result<Vec<SourcePrecision>, StoreError> {
        self.read(|c| steps::precision(c, scope))
    }
}
