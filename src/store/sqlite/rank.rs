//! The store side of rankings: the day's facts per unit, aggregated in SQL (counts per unit are
//! a `GROUP BY`, not a scan in Rust), and the coverage rows a scene leaves at ingest.
//!
//! The level names the column (`county` or `township`) of hotspots and events; tasks are
//! attributed through their event, so a task and its fire count in the same unit, and on the
//! same day: the day the fire was first seen, not the day its task was created or verified (a
//! night fire's scene may arrive after midnight, its verdict later still; the county is
//! accountable for the day it burned). (`last_seen >=`
//! beside `first_seen >=` lets the events query use the `last_seen` index.)

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Connection};

use super::SqliteStore;
use crate::rank::coverage::UnitCoverage;
use crate::rank::facts::{DayFacts, RankQuery};
use crate::rank::svg::MapPoint;
use crate::store::error::{SqlContext, StoreError};
use crate::store::rank::{BulletinIssue, RankStore};
use crate::store::shared::rank;

/// Stores a scene's coverage rows (inside the scene's ingest transaction).
pub(super) fn insert_coverage(
    tx: &Connection,
    scene_id: i64,
    rows: &[UnitCoverage],
) -> Result<(), StoreError> {
    let mut st = tx
        .prepare_cached(
            "INSERT OR REPLACE INTO scene_coverage (scene_id, unit, level, land_pixels, clear_pixels)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .ctx("prepare coverage insert")?;
    for r in rows {
        st.execute(params![
            scene_id,
            r.unit,
            r.level,
            r.land_pixels as i64,
            r.clear_pixels as i64
        ])
        .ctx("insert coverage")?;
    }
    Ok(())
}

impl RankStore for SqliteStore {
    fn rank_facts(&self, q: &RankQuery) -> Result<DayFacts, StoreError> {
        // One read transaction: all the day's queries see the same snapshot even while scenes
        // are being ingested (dropped on error, so the pooled connection is left clean).
        self.read(|c| {
            let tx = c.unchecked_transaction().ctx("begin rank read")?;
            let out = rank::facts(&mut &*tx, q)?;
            tx.commit().ctx("end rank read")?;
            Ok(out)
        })
    }

    fn bulletin_issue(
        &self,
        season: NaiveDate,
        level: &str,
        date: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<BulletinIssue, StoreError> {
        let (season, date) = (season.to_string(), date.to_string());
        if let Some(i) = self.read(|mut c| rank::bulletin(&mut c, &season, level, &date))? {
            return Ok(i);
        }
        // Numbered on the writer (one at a time): two first renders at once get one number.
        self.writer
            .write(|mut tx| rank::number_bulletin(&mut tx, &season, level, &date, now))
    }

    fn map_points(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MapPoint>, StoreError> {
        self.read(|mut c| rank::map_points(&mut c, from, to, limit))
    }
}
