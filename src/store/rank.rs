//! The store side of rankings: the day's facts per unit, aggregated in SQL (counts per unit are
//! a `GROUP BY`, not a scan in Rust), and the coverage rows a scene leaves at ingest.
//!
//! The level names the column (`county` or `township`) of hotspots and events; tasks are
//! attributed through their event, so a task and its fire count in the same unit, and on the
//! same day: the day the fire was first seen, not the day its task was created or verified (a
//! night fire's scene may arrive after midnight, its verdict later still; the county is
//! accountable for the day it burned). (`last_seen >=`
//! beside `first_seen >=` lets the events query use the `last_seen` index.) SQLite:
//! `sqlite/rank.rs`.

use chrono::{DateTime, NaiveDate, Utc};

use super::error::StoreError;
use crate::rank::facts::{DayFacts, RankQuery};
use crate::rank::svg::MapPoint;

/// What rankings read from a store.
pub trait RankStore {
    /// The facts of one daily table.
    fn rank_facts(&self, q: &RankQuery) -> Result<DayFacts, StoreError>;

    /// Positions of the hotspots in [from, to), at most `limit`, for the report's map.
    fn map_points(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MapPoint>, StoreError>;

    /// The issue of the bulletin of `date` at `level` in the season starting `season`: its
    /// number (第N期) and when it was first issued. The first call numbers it (one more than the
    /// season's last issue at that level, from 1) at `now`; later calls return the same.
    fn bulletin_issue(
        &self,
        season: NaiveDate,
        level: &str,
        date: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<BulletinIssue, StoreError>;
}

/// A bulletin's stored issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulletinIssue {
    pub number: u32,
    pub issued_at: DateTime<Utc>,
}
