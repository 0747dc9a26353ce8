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
use rusqlite::{params, Connection, OptionalExtension};

use super::{from_ts, ts, SqliteStore};
use crate::rank::coverage::UnitCoverage;
use crate::rank::facts::{CoverageFact, DayFacts, RankQuery, TaskFact, UnitHotspots};
use crate::rank::svg::MapPoint;
use crate::store::error::{SqlContext, StoreError};
use crate::store::rank::{BulletinIssue, RankStore};
use crate::store::shared::rank::{
    events_sql, first_fire_sql, tasks_sql, unit_hotspots_sql, BULLETIN_SQL, COVERAGE_SQL,
    MAP_POINTS_SQL, NUMBER_BULLETIN_SQL,
};

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

fn unit_hotspots(
    c: &Connection,
    col: &str,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<UnitHotspots>, StoreError> {
    let mut st = c
        .prepare(&unit_hotspots_sql(col))
        .ctx("prepare rank hotspots")?;
    let rows = st
        .query_map([ts(from), ts(to)], |r| {
            Ok(UnitHotspots {
                code: r.get(0)?,
                fire_points: r.get::<_, i64>(1)? as u64,
                farmland: r.get::<_, i64>(2)? as u64,
                after_masks: r.get::<_, i64>(3)? as u64,
            })
        })
        .ctx("query rank hotspots")?;
    rows.collect::<Result<_, _>>().ctx("read rank hotspots")
}

fn coverage(
    c: &Connection,
    level: &str,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<CoverageFact>, StoreError> {
    let mut st = c.prepare(COVERAGE_SQL).ctx("prepare coverage")?;
    let rows = st
        .query_map(params![level, ts(from), ts(to)], |r| {
            Ok(CoverageFact {
                scene_id: r.get(0)?,
                code: r.get(1)?,
                land_pixels: r.get::<_, i64>(2)? as u64,
                clear_pixels: r.get::<_, i64>(3)? as u64,
            })
        })
        .ctx("query coverage")?;
    rows.collect::<Result<_, _>>().ctx("read coverage")
}

fn facts(c: &Connection, q: &RankQuery) -> Result<DayFacts, StoreError> {
    let col = q.level.stored();
    let (from, to) = (ts(q.day.0), ts(q.day.1));
    let events = {
        let mut st = c.prepare(&events_sql(col)).ctx("prepare rank events")?;
        let rows = st
            .query_map([from, to], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))
            .ctx("query rank events")?;
        rows.collect::<Result<Vec<_>, _>>()
            .ctx("read rank events")?
    };
    let tasks = {
        let mut st = c.prepare(&tasks_sql(col)).ctx("prepare rank tasks")?;
        let rows = st
            .query_map([from, to], |r| {
                Ok(TaskFact {
                    code: r.get(0)?,
                    created_at: from_ts(r.get(1)?),
                    verdict_due: from_ts(r.get(2)?),
                    verified_at: r.get::<_, Option<i64>>(3)?.map(from_ts),
                    verdict: r.get(4)?,
                })
            })
            .ctx("query rank tasks")?;
        rows.collect::<Result<Vec<_>, _>>().ctx("read rank tasks")?
    };
    let first_fire = {
        let mut st = c.prepare(&first_fire_sql(col)).ctx("prepare first fire")?;
        let rows = st
            .query_map([ts(q.season_from), to], |r| {
                Ok((r.get(0)?, from_ts(r.get(1)?)))
            })
            .ctx("query first fire")?;
        rows.collect::<Result<Vec<_>, _>>().ctx("read first fire")?
    };
    Ok(DayFacts {
        hotspots: unit_hotspots(c, col, q.day)?,
        events,
        tasks,
        coverage: coverage(c, col, q.day)?,
        first_fire,
        week_ago_hotspots: unit_hotspots(c, col, q.week_ago)?,
        week_ago_coverage: coverage(c, col, q.week_ago)?,
        prev_day_hotspots: unit_hotspots(c, col, q.prev_day)?,
        prev_day_coverage: coverage(c, col, q.prev_day)?,
        season_hotspots: unit_hotspots(c, col, (q.season_from, q.day.1))?,
    })
}

impl RankStore for SqliteStore {
    fn rank_facts(&self, q: &RankQuery) -> Result<DayFacts, StoreError> {
        // One read transaction: all the day's queries see the same snapshot even while scenes
        // are being ingested (dropped on error, so the pooled connection is left clean).
        self.read(|c| {
            let tx = c.unchecked_transaction().ctx("begin rank read")?;
            let out = facts(&tx, q)?;
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
        let get = |c: &Connection| {
            c.query_row(BULLETIN_SQL, params![season, level, date], |r| {
                Ok(BulletinIssue {
                    number: r.get::<_, i64>(0)? as u32,
                    issued_at: from_ts(r.get(1)?),
                })
            })
            .optional()
            .ctx("read bulletin issue")
        };
        if let Some(i) = self.read(get)? {
            return Ok(i);
        }
        // Numbered on the writer (one at a time): two first renders at once get one number.
        self.writer.write(|conn| {
            conn.execute(NUMBER_BULLETIN_SQL, params![season, level, date, ts(now)])
                .ctx("number bulletin issue")?;
            get(conn)?.ok_or(StoreError::Sql {
                context: "read the bulletin issue just numbered",
                source: rusqlite::Error::QueryReturnedNoRows.into(),
            })
        })
    }

    fn map_points(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MapPoint>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare(MAP_POINTS_SQL).ctx("prepare map points")?;
            let rows = st
                .query_map(params![ts(from), ts(to), limit as i64], |r| {
                    Ok(MapPoint {
                        lon: r.get(0)?,
                        lat: r.get(1)?,
                        masked: r.get(2)?,
                    })
                })
                .ctx("query map points")?;
            rows.collect::<Result<_, _>>().ctx("read map points")
        })
    }
}
