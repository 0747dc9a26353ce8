//! The parts of the store family not yet on PostgreSQL (#19): each call answers
//! [`StoreError::Unsupported`] naming the part (a clear error, never a panic): the operator's
//! moves, notice deliveries and rankings here, task changes and verdicts in `tasks.rs`. The
//! schema (migration 1) already has every table they use.

use chrono::{DateTime, NaiveDate, Utc};

use super::PgStore;
use crate::dispatch::TaskRules;
use crate::notify::Notice;
use crate::rank::facts::{DayFacts, RankQuery};
use crate::rank::svg::MapPoint;
use crate::store::deliveries::{
    AttemptOutcome, ClaimedDelivery, DeliveryCounts, DeliveryRow, DeliveryStatus, DeliveryStore,
    Expansion, Recorded,
};
use crate::store::rank::{BulletinIssue, RankStore};
use crate::store::tasks::{Actor, StoredTask, TaskError, TaskTarget};
use crate::store::{OperatorStore, StoreError};

/// The answer of every call not yet on PostgreSQL.
pub(super) fn no<T, E: From<StoreError>>(what: &'static str) -> Result<T, E> {
    Err(StoreError::Unsupported {
        backend: "PostgreSQL",
        what,
    }
    .into())
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
