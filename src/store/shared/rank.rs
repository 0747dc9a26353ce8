//! The rankings' queries (`store::rank`) as both backends run them (SQLite's numbered
//! parameters; PostgreSQL through [`super::dollars`]). Counts of a condition are `COUNT(col)`
//! (rows where it is not NULL) and `COUNT(*) - COUNT(col)`, which both dialects read alike
//! (PostgreSQL has no `SUM` of a boolean). Grouped rows come ordered by unit (PostgreSQL's hash
//! aggregate would give them in any order). `col` is `RankLevel::stored()`: `county` or
//! `township`, never user text.

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
