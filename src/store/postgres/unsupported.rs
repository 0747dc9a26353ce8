//! The parts of the store family not yet on PostgreSQL (#19): each call answers
//! [`StoreError::Unsupported`] naming the part (a clear error, never a panic). Tasks are created
//! inside the ingest transaction (`ingest_dispatched`), so the service's ingest needs the task
//! tables' code here before `strawfire serve` can run on PostgreSQL; the schema (migration 1)
//! already has every table.

use chrono::{DateTime, NaiveDate, Utc};

use super::PgStore;
use crate::dispatch::{Deadline, TaskRules};
use crate::fuse::{FuseParams, Placer};
use crate::notify::Notice;
use crate::rank::facts::{DayFacts, RankQuery};
use crate::rank::svg::MapPoint;
use crate::store::deliveries::{
    AttemptOutcome, ClaimedDelivery, DeliveryCounts, DeliveryRow, DeliveryStatus, DeliveryStore,
    Expansion, Recorded,
};
use crate::store::idempotency::{IdempotencyKey, StoredKey};
use crate::store::rank::{BulletinIssue, RankStore};
use crate::store::tasks::TaskQuery;
use crate::store::tasks::{
    Acted, Actor, AuditEntry, MaskCandidate, NewVerdict, SourcePrecision, StoredTask,
    StoredVerdict, TaskChange, TaskError, TaskStore, TaskTarget, VerdictOutcome,
};
use crate::store::{IngestBatch, IngestReport, OperatorStore, Scope, StoreError};

fn no<T, E: From<StoreError>>(what: &'static str) -> Result<T, E> {
    Err(StoreError::Unsupported {
        backend: "PostgreSQL",
        what,
    }
    .into())
}

impl TaskStore for PgStore {
    fn ingest_within(
        &self,
        _: &IngestBatch,
        _: &FuseParams,
        _: &dyn Placer,
        _: &TaskRules,
        _: DateTime<Utc>,
        _: &Scope,
    ) -> Result<IngestReport, StoreError> {
        no("ingest with dispatch (tasks created in the ingest transaction)")
    }

    fn tasks_each(
        &self,
        _: &TaskQuery,
        _: &mut dyn FnMut(StoredTask) -> bool,
    ) -> Result<(), StoreError> {
        no("tasks")
    }

    fn change_task_as(
        &self,
        _: i64,
        _: TaskChange,
        _: &Actor,
        _: DateTime<Utc>,
        _: &Acted,
    ) -> Result<StoredTask, TaskError> {
        no("task changes")
    }

    fn record_verdict_as(
        &self,
        _: i64,
        _: &NewVerdict,
        _: &Actor,
        _: &TaskRules,
        _: DateTime<Utc>,
        _: Option<&IdempotencyKey>,
    ) -> Result<VerdictOutcome, TaskError> {
        no("verdicts")
    }

    fn idempotency_key(&self, _: &str, _: &str) -> Result<Option<StoredKey>, StoreError> {
        no("idempotency keys")
    }

    fn idempotent_answer(
        &self,
        _: &str,
        _: &str,
        _: u16,
        _: &serde_json::Value,
    ) -> Result<(), StoreError> {
        no("idempotency keys")
    }

    fn verdicts_by(
        &self,
        _: &str,
        _: usize,
    ) -> Result<Vec<(StoredTask, StoredVerdict)>, StoreError> {
        no("verdicts")
    }

    fn escalate_due(&self, _: DateTime<Utc>) -> Result<Vec<(i64, Deadline)>, StoreError> {
        no("escalations")
    }

    fn verdict_of(&self, _: i64) -> Result<Option<StoredVerdict>, StoreError> {
        no("verdicts")
    }

    fn photo_refs(&self, _: &str) -> Result<u64, StoreError> {
        no("verdicts")
    }

    fn audit_page(
        &self,
        _: &str,
        _: i64,
        _: Option<i64>,
        _: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        no("the audit log")
    }

    fn mask_candidates_page(
        &self,
        _: Option<&str>,
        _: Option<i64>,
        _: usize,
    ) -> Result<Vec<MaskCandidate>, StoreError> {
        no("mask candidates")
    }

    fn decide_candidate(
        &self,
        _: i64,
        _: bool,
        _: &Actor,
        _: DateTime<Utc>,
    ) -> Result<MaskCandidate, TaskError> {
        no("mask candidates")
    }

    fn precision(&self, _: &Scope) -> Result<Vec<SourcePrecision>, StoreError> {
        no("source precision")
    }
}

impl OperatorStore for PgStore {
    fn create_task_for(
        &self,
        _: i64,
        _: &TaskTarget,
        _: &str,
        _: &Actor,
        _: &TaskRules,
        _: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError> {
        no("operator moves")
    }

    fn reassign_task(
        &self,
        _: i64,
        _: &TaskTarget,
        _: &str,
        _: &Actor,
        _: &TaskRules,
        _: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError> {
        no("operator moves")
    }

    fn cancel_task(
        &self,
        _: i64,
        _: &str,
        _: &Actor,
        _: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError> {
        no("operator moves")
    }

    fn send_back_task(
        &self,
        _: i64,
        _: &str,
        _: &Actor,
        _: &TaskRules,
        _: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError> {
        no("operator moves")
    }

    fn reopen_task(
        &self,
        _: i64,
        _: &str,
        _: &Actor,
        _: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError> {
        no("operator moves")
    }
}

impl DeliveryStore for PgStore {
    fn expand_outbox(
        &self,
        _: &dyn Fn(&Notice) -> Vec<String>,
        _: DateTime<Utc>,
        _: usize,
    ) -> Result<Expansion, StoreError> {
        no("notice deliveries")
    }

    fn claim_deliveries(
        &self,
        _: DateTime<Utc>,
        _: usize,
        _: u32,
        _: &dyn Fn(&str, u32) -> std::time::Duration,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        no("notice deliveries")
    }

    fn record_attempt(
        &self,
        _: i64,
        _: &AttemptOutcome,
        _: DateTime<Utc>,
        _: u32,
    ) -> Result<Recorded, StoreError> {
        no("notice deliveries")
    }

    fn deliveries(
        &self,
        _: Option<DeliveryStatus>,
        _: Option<i64>,
        _: usize,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        no("notice deliveries")
    }

    fn delivery_counts(&self) -> Result<DeliveryCounts, StoreError> {
        no("notice deliveries")
    }
}

impl RankStore for PgStore {
    fn rank_facts(&self, _: &RankQuery) -> Result<DayFacts, StoreError> {
        no("rankings")
    }

    fn map_points(
        &self,
        _: DateTime<Utc>,
        _: DateTime<Utc>,
        _: usize,
    ) -> Result<Vec<MapPoint>, StoreError> {
        no("rankings")
    }

    fn bulletin_issue(
        &self,
        _: NaiveDate,
        _: &str,
        _: NaiveDate,
        _: DateTime<Utc>,
    ) -> Result<BulletinIssue, StoreError> {
        no("rankings")
    }
}
