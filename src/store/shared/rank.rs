//! The rankings' queries (`store::rank`) and their reading, written once for both backends over
//! [`Tx`] (SQLite's numbered parameters; PostgreSQL through [`super::dollars`]): the day's facts
//! per unit aggregated in SQL, the bulletins' issue numbers, the report map's points. Counts of
//! a condition are `COUNT(col)` (rows where it is not NULL) and `COUNT(*) - COUNT(col)`, which
//! both dialects read alike (PostgreSQL has no `SUM` of a boolean). Grouped rows come ordered by
//! unit (PostgreSQL's hash aggregate would give them in any order). `col` is
//! `RankLevel::stored()`: `county` or `township`, never user text.

use chrono::{DateTime, Utc};

use super::tx::{from_ts, limit, ts, Lock, Row, Tx};
use crate::rank::facts::{CoverageFact, DayFacts, RankQuery, TaskFact, UnitHotspots};
use crate::rank::svg::MapPoint;
use crate::store::error::StoreError;
use crate::store::rank::BulletinIssue;

/// Hotspots per unit in [`?1`, `?2`): code, fire points, on a parcel, not masked.
pub(crate) fn unit_hotspots_sql(col: &str) -> String {
    format!(
        "SELECT {col}, COUNT(*), COUNT(parcel), COUNT(*) - COUNT(mask) FROM hotspots
         WHERE acq_time >= ?1 AND acq_time < ?2 AND {col} IS NOT NULL
         GROUP BY {col} ORDER BY {col}"
    )
}

/// Coverage rows at level `?1` of the scenes acquired in [`?2`, `?3`): scene, unit, land and
/// clear pixels.
pub(crate) const COVERAGE_SQL: &str = "SELECT c.scene_id, c.unit, c.land_pixels, c.clear_pixels
     FROM scene_coverage c JOIN scenes s ON s.id = c.scene_id
     WHERE c.level = ?1 AND s.acq_time >= ?2 AND s.acq_time < ?3
     ORDER BY c.unit, c.scene_id";

/// Events first seen in [`?1`, `?2`) per unit.
pub(crate) fn events_sql(col: &str) -> String {
    format!(
        "SELECT {col}, COUNT(*) FROM events
         WHERE last_seen >= ?1 AND first_seen >= ?1 AND first_seen < ?2 AND {col} IS NOT NULL
         GROUP BY {col} ORDER BY {col}"
    )
}

/// The tasks of the events first seen in [`?1`, `?2`), cancelled ones left out: unit (of the
/// event), created, verdict due, verified (or the verdict's arrival), verdict.
pub(crate) fn tasks_sql(col: &str) -> String {
    format!(
        "SELECT e.{col}, t.created_at, t.verdict_due,
                COALESCE(t.verified_at, v.received_at), COALESCE(v.verdict, t.verdict)
         FROM tasks t JOIN events e ON e.id = t.event_id
         LEFT JOIN verdicts v ON v.task_id = t.id
         WHERE e.last_seen >= ?1 AND e.first_seen >= ?1 AND e.first_seen < ?2
           AND e.{col} IS NOT NULL AND t.state != 'cancelled'
         ORDER BY t.id"
    )
}

/// Per unit, the first unmasked fire point in [`?1`, `?2`).
pub(crate) fn first_fire_sql(col: &str) -> String {
    format!(
        "SELECT {col}, MIN(acq_time) FROM hotspots
         WHERE acq_time >= ?1 AND acq_time < ?2 AND mask IS NULL AND {col} IS NOT NULL
         GROUP BY {col} ORDER BY {col}"
    )
}

/// Hotspot positions in [`?1`, `?2`), at most `?3`: lon, lat, masked.
pub(crate) const MAP_POINTS_SQL: &str = "SELECT lon, lat, mask IS NOT NULL FROM hotspots
     WHERE acq_time >= ?1 AND acq_time < ?2 ORDER BY acq_time, id LIMIT ?3";

/// The stored issue of the bulletin of season `?1`, level `?2`, date `?3`: number, issued at.
pub(crate) const BULLETIN_SQL: &str = "SELECT number, issued_at FROM bulletin_issues
     WHERE season = ?1 AND level = ?2 AND date = ?3";

/// Numbers that bulletin (one more than the season's last at the level, from 1), issued at
/// `?4`; a bulletin already numbered keeps its number.
pub(crate) const NUMBER_BULLETIN_SQL: &str =
    "INSERT INTO bulletin_issues (season, level, date, number, issued_at)
     SELECT CAST(?1 AS TEXT), CAST(?2 AS TEXT), CAST(?3 AS TEXT), COALESCE(MAX(number), 0) + 1,
       CAST(?4 AS BIGINT)
     FROM bulletin_issues WHERE season = ?1 AND level = ?2
     ON CONFLICT (season, level, date) DO NOTHING";

fn unit_hotspots(
    c: &mut impl Tx,
    col: &str,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<UnitHotspots>, StoreError> {
    c.query_rows(
        "query rank hotspots",
        &unit_hotspots_sql(col),
        &[ts(from).into(), ts(to).into()],
        |r| {
            Ok(UnitHotspots {
                code: r.get(0)?,
                fire_points: r.get::<i64>(1)? as u64,
                farmland: r.get::<i64>(2)? as u64,
                after_masks: r.get::<i64>(3)? as u64,
            })
        },
    )
}

fn coverage(
    c: &mut impl Tx,
    level: &str,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<CoverageFact>, StoreError> {
    c.query_rows(
        "query coverage",
        COVERAGE_SQL,
        &[level.into(), ts(from).into(), ts(to).into()],
        |r| {
            Ok(CoverageFact {
                scene_id: r.get(0)?,
                code: r.get(1)?,
                land_pixels: r.get::<i64>(2)? as u64,
                clear_pixels: r.get::<i64>(3)? as u64,
            })
        },
    )
}

/// The day's facts per unit of `q`. Run in one read transaction, so that every query sees
/// one snapshot while scenes are being ingested (each backend opens it: SQLite's read
/// transaction, PostgreSQL's read-only `REPEATABLE READ`).
pub(crate) fn facts(c: &mut impl Tx, q: &RankQuery) -> Result<DayFacts, StoreError> {
    let col = q.level.stored();
    let (from, to) = (ts(q.day.0), ts(q.day.1));
    let events = c.query_rows(
        "query rank events",
        &events_sql(col),
        &[from.into(), to.into()],
        |r| Ok((r.get(0)?, r.get::<i64>(1)? as u64)),
    )?;
    let tasks = c.query_rows(
        "query rank tasks",
        &tasks_sql(col),
        &[from.into(), to.into()],
        |r| {
            Ok(TaskFact {
                code: r.get(0)?,
                created_at: from_ts(r.get(1)?),
                verdict_due: from_ts(r.get(2)?),
                verified_at: r.get::<Option<i64>>(3)?.map(from_ts),
                verdict: r.get(4)?,
            })
        },
    )?;
    let first_fire = c.query_rows(
        "query first fire",
        &first_fire_sql(col),
        &[ts(q.season_from).into(), to.into()],
        |r| Ok((r.get(0)?, from_ts(r.get(1)?))),
    )?;
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

/// The stored issue of the bulletin of `season`, `level`, `date`, if numbered.
pub(crate) fn bulletin(
    c: &mut impl Tx,
    season: &str,
    level: &str,
    date: &str,
) -> Result<Option<BulletinIssue>, StoreError> {
    c.query_opt(
        "read bulletin issue",
        BULLETIN_SQL,
        &[season.into(), level.into(), date.into()],
        read_issue,
    )
}

/// Numbers the bulletin of `season`, `level`, `date` (one more than the season's last at the
/// level; one already numbered keeps its number) under [`Lock::Bulletins`], so two first
/// renders at once, on two nodes, get two numbers. Its issue.
pub(crate) fn number_bulletin(
    tx: &mut impl Tx,
    season: &str,
    level: &str,
    date: &str,
    now: DateTime<Utc>,
) -> Result<BulletinIssue, StoreError> {
    tx.lock(Lock::Bulletins)?;
    tx.execute(
        "number bulletin issue",
        NUMBER_BULLETIN_SQL,
        &[season.into(), level.into(), date.into(), ts(now).into()],
    )?;
    tx.query_one(
        "read the bulletin issue just numbered",
        BULLETIN_SQL,
        &[season.into(), level.into(), date.into()],
        read_issue,
    )
}

fn read_issue(r: &dyn Row) -> Result<BulletinIssue, StoreError> {
    Ok(BulletinIssue {
        number: r.get::<i64>(0)? as u32,
        issued_at: from_ts(r.get(1)?),
    })
}

/// Hotspot positions in [`from`, `to`), at most `n`, for the report's map.
pub(crate) fn map_points(
    c: &mut impl Tx,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    n: usize,
) -> Result<Vec<MapPoint>, StoreError> {
    c.query_rows(
        "query map points",
        MAP_POINTS_SQL,
        &[ts(from).into(), ts(to).into(), limit(n)],
        |r| {
            Ok(MapPoint {
                lon: r.get(0)?,
                lat: r.get(1)?,
                masked: r.get(2)?,
            })
        },
    )
}
