//! The parts of the store family not yet on PostgreSQL (#19): each call answers
//! [`StoreError::Unsupported`] naming the part (a clear error, never a panic): the operator's
//! moves, notice deliveries and rankings. The schema (migrations 1-2) already has every table
//! they use.

use chrono::{DateTime, NaiveDate, Utc};

use super::PgStore;
use crate::rank::facts::{DayFacts, RankQuery};
use crate::rank::svg::MapPoint;
use crate::store::rank::{BulletinIssue, RankStore};
use crate::store::StoreError;

/// The answer of every call not yet on PostgreSQL.
pub(super) fn no<T, E: From<StoreError>>(what: &'static str) -> Result<T, E> {
    Err(StoreError::Unsupported {
        backend: "PostgreSQL",
        what,
    }
    .into())
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
