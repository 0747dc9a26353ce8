//! Rankings on PostgreSQL (SQLite's `rank.rs`; the why of each query in `store::rank`): the
//! day's facts per unit aggregated in SQL, the report map's points, the bulletins' issue
//! numbers. The queries are `shared::rank`'s. The day's queries run in one read-only
//! `REPEATABLE READ` transaction, so they see one snapshot while scenes are being ingested; a
//! bulletin is numbered under a transaction-level advisory lock, so two nodes rendering two
//! first bulletins of a season at once give them two numbers (the `UNIQUE (season, level,
//! number)` would refuse the second otherwise).

use chrono::{DateTime, NaiveDate, Utc};
use postgres::{GenericClient, IsolationLevel};

use super::store::{from_ts, ts};
use super::PgStore;
use crate::rank::facts::{CoverageFact, DayFacts, RankQuery, TaskFact, UnitHotspots};
use crate::rank::svg::MapPoint;
use crate::store::error::{SqlContext, StoreError};
use crate::store::rank::{BulletinIssue, RankStore};
use crate::store::shared::dollars;
use crate::store::shared::rank::{
    events_sql, first_fire_sql, tasks_sql, unit_hotspots_sql, BULLETIN_SQL, COVERAGE_SQL,
    MAP_POINTS_SQL, NUMBER_BULLETIN_SQL,
};

/// The advisory lock under which bulletins are numbered.
const BULLETIN_LOCK: i64 = 0x5354_5257_4255_4c4c; // "STRWBULL"

fn unit_hotspots(
    c: &mut impl GenericClient,
    col: &str,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<UnitHotspots>, StoreError> {
    let rows = c
        .query(&dollars(&unit_hotspots_sql(col)), &[&ts(from), &ts(to)])
        .ctx("query rank hotspots")?;
    Ok(rows
        .iter()
        .map(|r| UnitHotspots {
            code: r.get(0),
            fire_points: r.get::<_, i64>(1) as u64,
            farmland: r.get::<_, i64>(2) as u64,
            after_masks: r.get::<_, i64>(3) as u64,
        })
        .collect())
}

fn coverage(
    c: &mut impl GenericClient,
    level: &str,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<CoverageFact>, StoreError> {
    let rows = c
        .query(&dollars(COVERAGE_SQL), &[&level, &ts(from), &ts(to)])
        .ctx("query coverage")?;
    Ok(rows
        .iter()
        .map(|r| CoverageFact {
            scene_id: r.get(0),
            code: r.get(1),
            land_pixels: r.get::<_, i64>(2) as u64,
            clear_pixels: r.get::<_, i64>(3) as u64,
        })
        .collect())
}

fn facts(c: &mut impl GenericClient, q: &RankQuery) -> Result<DayFacts, StoreError> {
    let col = q.level.stored();
    let (from, to) = (ts(q.day.0), ts(q.day.1));
    let events = c
        .query(&dollars(&events_sql(col)), &[&from, &to])
        .ctx("query rank events")?
        .iter()
        .map(|r| (r.get(0), r.get::<_, i64>(1) as u64))
        .collect();
    let tasks = c
        .query(&dollars(&tasks_sql(col)), &[&from, &to])
        .ctx("query rank tasks")?
        .iter()
        .map(|r| TaskFact {
            code: r.get(0),
            created_at: from_ts(r.get(1)),
            verdict_due: from_ts(r.get(2)),
            verified_at: r.get::<_, Option<i64>>(3).map(from_ts),
            verdict: r.get(4),
        })
        .collect();
    let first_fire = c
        .query(&dollars(&first_fire_sql(col)), &[&ts(q.season_from), &to])
        .ctx("query first fire")?
        .iter()
        .map(|r| (r.get(0), from_ts(r.get(1))))
        .collect();
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

fn read_issue(r: &postgres::Row) -> BulletinIssue {
    BulletinIssue {
        number: r.get::<_, i64>(0) as u32,
        issued_at: from_ts(r.get(1)),
    }
}

impl RankStore for PgStore {
    fn rank_facts(&self, q: &RankQuery) -> Result<DayFacts, StoreError> {
        self.read(|c| {
            let mut tx = c
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .ctx("begin rank read")?;
            let out = facts(&mut tx, q)?;
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
        let get = dollars(BULLETIN_SQL);
        if let Some(r) = self.read(|c| {
            c.query_opt(&get, &[&season, &level, &date])
                .ctx("read bulletin issue")
        })? {
            return Ok(read_issue(&r));
        }
        self.write(|tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&BULLETIN_LOCK])
                .ctx("lock bulletin numbers")?;
            tx.execute(
                &dollars(NUMBER_BULLETIN_SQL),
                &[&season, &level, &date, &ts(now)],
            )
            .ctx("number bulletin issue")?;
            let r = tx
                .query_one(&get, &[&season, &level, &date])
                .ctx("read the bulletin issue just numbered")?;
            Ok(read_issue(&r))
        })
    }

    fn map_points(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MapPoint>, StoreError> {
        let rows = self.read(|c| {
            c.query(
                &dollars(MAP_POINTS_SQL),
                &[&ts(from), &ts(to), &(limit.min(i64::MAX as usize) as i64)],
            )
            .ctx("query map points")
        })?;
        Ok(rows
            .iter()
            .map(|r| MapPoint {
                lon: r.get(0),
                lat: r.get(1),
                masked: r.get(2),
            })
            .collect())
    }
}
