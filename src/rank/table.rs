//! The daily table: one row per unit with counts, rates and times, fairly ranked.
//!
//! Order: units that may be ranked (status `ranked` or `coverage_unknown`) by fire points after
//! masks, most first (the worst on top, as leadership reads it), ties by code, with competition
//! ranks (1, 2, 2, 4); then the `not_observed` units by code, rank null. A unit of the layer with
//! nothing that day still gets a row: a clean county must be seen to be clean.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::facts::{CoverageFact, DayFacts, RankLevel, TaskFact, UnitHotspots};
use super::fair::{clear_share, status, Status};

/// A unit as the admin layer describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRef {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    /// The parent's name (a township's county, a county's city), when a layer names it.
    pub parent_name: Option<String>,
    pub cropland_ha: Option<f64>,
}

/// The knobs of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct RankParams {
    pub date: NaiveDate,
    pub level: RankLevel,
    pub utc_offset_h: i32,
    pub min_clear_share: f64,
    /// True when a parcel layer places hotspots on farmland (else the farmland count is null).
    pub farmland_known: bool,
    /// "Now", for the share handled within deadline (tasks still inside their deadline do not
    /// count yet).
    pub now: DateTime<Utc>,
}

impl RankParams {
    /// The fixture the unit tests of `rank/` share: 2024-06-09 at UTC+8, half the land clear
    /// to be ranked, no parcel layer, "now" the next midnight UTC.
    #[cfg(test)]
    pub(crate) fn for_test(level: RankLevel) -> RankParams {
        use chrono::TimeZone;
        RankParams {
            date: NaiveDate::from_ymd_opt(2024, 6, 9).unwrap(),
            level,
            utc_offset_h: 8,
            min_clear_share: 0.5,
            farmland_known: false,
            now: Utc.with_ymd_and_hms(2024, 6, 10, 0, 0, 0).unwrap(),
        }
    }
}

/// One row; the JSON contract of `GET /api/v1/rankings/daily` (DESIGN.md, the dashboard).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankingRow {
    pub rank: Option<u32>,
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    pub parent_name: Option<String>,
    pub status: Status,
    /// 0–1, the best overpass of the day; null without coverage.
    pub clear_share: Option<f64>,
    pub fire_points: u64,
    pub fire_points_farmland: Option<u64>,
    pub fire_points_after_masks: u64,
    pub events: u64,
    pub verified_burnings: u64,
    /// No-fire verdicts / verdicts, of the day's tasks.
    pub false_alarm_share: Option<f64>,
    /// Minutes from task to verdict.
    pub verdict_median_min: Option<f64>,
    pub verdict_p90_min: Option<f64>,
    /// Verdicts in time / tasks verified or past their verdict deadline.
    pub within_deadline_share: Option<f64>,
    /// Fire points after masks per 1,000 ha of cropland.
    pub per_1000ha: Option<f64>,
    pub first_fire_of_season: bool,
    /// Fire points minus those of the same day a week earlier; null when that day was not
    /// observed.
    pub week_on_week: Option<i64>,
    /// Fire points after masks minus those of the previous day (the bulletin's 较上期增减); null
    /// when either day was not observed (a clouded day's count says nothing).
    pub previous_day_change: Option<i64>,
    /// Fire points after masks the previous day (observed or not).
    pub previous_day_fire_points: u64,
    /// Fire points after masks from the season start to the end of the day (本季累计).
    pub season_fire_points: u64,
}

/// The whole table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyRanking {
    pub date: NaiveDate,
    pub level: RankLevel,
    pub utc_offset_h: i32,
    pub min_clear_share: f64,
    pub rows: Vec<RankingRow>,
}

/// Quantile with linear interpolation between order statistics (R type 7); `sorted` ascending.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (h - lo as f64))
}

/// Rounded to `d` decimals, so reports and golden files do not carry float noise.
fn round(v: f64, d: i32) -> f64 {
    let f = 10f64.powi(d);
    (v * f).round() / f
}

/// Task figures of one unit.
#[derive(Debug, Default, PartialEq)]
struct TaskFigures {
    verified_burnings: u64,
    false_alarm_share: Option<f64>,
    median_min: Option<f64>,
    p90_min: Option<f64>,
    within_deadline_share: Option<f64>,
}

fn task_figures(tasks: &[&TaskFact], now: DateTime<Utc>) -> TaskFigures {
    let verdicts: Vec<&str> = tasks.iter().filter_map(|t| t.verdict.as_deref()).collect();
    let burning = verdicts
        .iter()
        .filter(|v| matches!(**v, "burning" | "burned_scar"))
        .count() as u64;
    let no_fire = verdicts.iter().filter(|v| v.starts_with("no_fire")).count();
    let mut minutes: Vec<f64> = tasks
        .iter()
        .filter_map(|t| {
            t.verified_at
                .map(|v| (v - t.created_at).num_seconds() as f64 / 60.0)
        })
        .collect();
    minutes.sort_by(f64::total_cmp);
    let due: Vec<&&TaskFact> = tasks
        .iter()
        .filter(|t| t.verified_at.is_some() || t.verdict_due <= now)
        .collect();
    let in_time = due
        .iter()
        .filter(|t| t.verified_at.is_some_and(|v| v <= t.verdict_due))
        .count();
    TaskFigures {
        verified_burnings: burning,
        false_alarm_share: (!verdicts.is_empty())
            .then(|| round(no_fire as f64 / verdicts.len() as f64, 4)),
        median_min: quantile(&minutes, 0.5).map(|v| round(v, 1)),
        p90_min: quantile(&minutes, 0.9).map(|v| round(v, 1)),
        within_deadline_share: (!due.is_empty())
            .then(|| round(in_time as f64 / due.len() as f64, 4)),
    }
}

fn by_code(h: &[UnitHotspots]) -> HashMap<&str, &UnitHotspots> {
    h.iter().map(|u| (u.code.as_str(), u)).collect()
}

fn coverage_by_code(c: &[CoverageFact]) -> HashMap<&str, Vec<&CoverageFact>> {
    let mut m: HashMap<&str, Vec<&CoverageFact>> = HashMap::new();
    for r in c {
        m.entry(r.code.as_str()).or_default().push(r);
    }
    m
}

/// Builds the table of one day from its facts and the units of the level's layer (may be
/// empty: then only units with facts appear, named by their code).
///
/// # Examples
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use strawfire::rank::facts::{DayFacts, RankLevel, UnitHotspots};
/// use strawfire::rank::table::{build, RankParams};
/// let h = |code: &str, n| UnitHotspots { code: code.into(), fire_points: n, farmland: n, after_masks: n };
/// let facts = DayFacts { hotspots: vec![h("410526", 2), h("410527", 5)], ..DayFacts::default() };
/// let p = RankParams { date: NaiveDate::from_ymd_opt(2024, 6, 9).unwrap(), level: RankLevel::County,
///     utc_offset_h: 8, min_clear_share: 0.5, farmland_known: false,
///     now: Utc.with_ymd_and_hms(2024, 6, 10, 0, 0, 0).unwrap() };
/// let t = build(&facts, &[], &p);
/// assert_eq!((t.rows[0].code.as_str(), t.rows[0].rank), ("410527", Some(1)));
/// assert_eq!(t.rows[1].status.as_str(), "coverage_unknown"); // a feed-only day
/// ```
pub fn build(facts: &DayFacts, units: &[UnitRef], p: &RankParams) -> DailyRanking {
    let mut all: BTreeMap<String, UnitRef> =
        units.iter().map(|u| (u.code.clone(), u.clone())).collect();
    let seen = facts
        .hotspots
        .iter()
        .map(|h| &h.code)
        .chain(facts.events.iter().map(|e| &e.0))
        .chain(facts.tasks.iter().map(|t| &t.code))
        .chain(facts.coverage.iter().map(|c| &c.code));
    for code in seen {
        all.entry(code.clone()).or_insert_with(|| UnitRef {
            code: code.clone(),
            name: code.clone(),
            parent: None,
            parent_name: None,
            cropland_ha: None,
        });
    }
    let hot = by_code(&facts.hotspots);
    let hot_before = by_code(&facts.week_ago_hotspots);
    let cover = coverage_by_code(&facts.coverage);
    let cover_before = coverage_by_code(&facts.week_ago_coverage);
    let hot_prev = by_code(&facts.prev_day_hotspots);
    let cover_prev = coverage_by_code(&facts.prev_day_coverage);
    let season = by_code(&facts.season_hotspots);
    let events: HashMap<&str, u64> = facts.events.iter().map(|(c, n)| (c.as_str(), *n)).collect();
    let mut tasks: HashMap<&str, Vec<&TaskFact>> = HashMap::new();
    for t in &facts.tasks {
        tasks.entry(t.code.as_str()).or_default().push(t);
    }
    let first: HashMap<&str, DateTime<Utc>> = facts
        .first_fire
        .iter()
        .map(|(c, t)| (c.as_str(), *t))
        .collect();
    let offset = chrono::FixedOffset::east_opt(p.utc_offset_h * 3600)
        .unwrap_or(chrono::FixedOffset::east_opt(0).unwrap());

    let mut rows: Vec<RankingRow> = all
        .into_values()
        .map(|u| {
            let code = u.code.as_str();
            let zero = UnitHotspots::default();
            let h = hot.get(code).copied().unwrap_or(&zero);
            let share = cover.get(code).and_then(|c| clear_share(c));
            let st = status(share, p.min_clear_share);
            let before_seen = status(
                cover_before.get(code).and_then(|c| clear_share(c)),
                p.min_clear_share,
            ) != Status::NotObserved;
            let before = hot_before.get(code).map_or(0, |b| b.fire_points);
            let prev_seen = status(
                cover_prev.get(code).and_then(|c| clear_share(c)),
                p.min_clear_share,
            ) != Status::NotObserved;
            let prev = hot_prev.get(code).map_or(0, |b| b.after_masks);
            let t = task_figures(tasks.get(code).map_or(&[][..], |v| v), p.now);
            RankingRow {
                rank: None,
                code: u.code.clone(),
                name: u.name.clone(),
                parent: u.parent.clone(),
                parent_name: u.parent_name.clone(),
                status: st,
                clear_share: share.map(|s| round(s, 4)),
                fire_points: h.fire_points,
                fire_points_farmland: p.farmland_known.then_some(h.farmland),
                fire_points_after_masks: h.after_masks,
                events: events.get(code).copied().unwrap_or(0),
                verified_burnings: t.verified_burnings,
                false_alarm_share: t.false_alarm_share,
                verdict_median_min: t.median_min,
                verdict_p90_min: t.p90_min,
                within_deadline_share: t.within_deadline_share,
                per_1000ha: u
                    .cropland_ha
                    .filter(|ha| *ha > 0.0)
                    .map(|ha| round(h.after_masks as f64 * 1000.0 / ha, 4)),
                first_fire_of_season: first
                    .get(code)
                    .is_some_and(|t| t.with_timezone(&offset).date_naive() == p.date),
                week_on_week: before_seen.then_some(h.fire_points as i64 - before as i64),
                previous_day_change: (prev_seen && st != Status::NotObserved)
                    .then_some(h.after_masks as i64 - prev as i64),
                previous_day_fire_points: prev,
                season_fire_points: season.get(code).map_or(0, |s| s.after_masks),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        let out = |r: &RankingRow| r.status == Status::NotObserved;
        out(a)
            .cmp(&out(b))
            .then_with(|| {
                if out(a) {
                    std::cmp::Ordering::Equal
                } else {
                    b.fire_points_after_masks.cmp(&a.fire_points_after_masks)
                }
            })
            .then_with(|| a.code.cmp(&b.code))
    });
    let mut prev = None;
    let mut rank = 0;
    for (i, r) in rows.iter_mut().enumerate() {
        if r.status == Status::NotObserved {
            break;
        }
        if prev != Some(r.fire_points_after_masks) {
            rank = i as u32 + 1;
            prev = Some(r.fire_points_after_masks);
        }
        r.rank = Some(rank);
    }
    DailyRanking {
        date: p.date,
        level: p.level,
        utc_offset_h: p.utc_offset_h,
        min_clear_share: p.min_clear_share,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 6, 9, 2, 0, 0).unwrap()
    }

    fn params() -> RankParams {
        RankParams {
            date: NaiveDate::from_ymd_opt(2024, 6, 9).unwrap(),
            level: RankLevel::County,
            utc_offset_h: 8,
            min_clear_share: 0.5,
            farmland_known: true,
            now: t0() + Duration::hours(5),
        }
    }

    fn h(code: &str, all: u64, after: u64) -> UnitHotspots {
        UnitHotspots {
            code: code.into(),
            fire_points: all,
            farmland: all,
            after_masks: after,
        }
    }

    fn cov(code: &str, land: u64, clear: u64) -> CoverageFact {
        CoverageFact {
            scene_id: 1,
            code: code.into(),
            land_pixels: land,
            clear_pixels: clear,
        }
    }

    fn unit(code: &str) -> UnitRef {
        UnitRef {
            code: code.into(),
            name: format!("n{code}"),
            parent: Some("P".into()),
            parent_name: None,
            cropland_ha: Some(2000.0),
        }
    }

    #[test]
    fn competition_ranks_then_not_observed_units() {
        let facts = DayFacts {
            hotspots: vec![h("A", 3, 3), h("B", 5, 3), h("C", 1, 1), h("D", 9, 9)],
            coverage: vec![
                cov("A", 10, 10),
                cov("B", 10, 6),
                cov("C", 10, 9),
                cov("D", 10, 2),
                cov("E", 10, 1),
            ],
            ..DayFacts::default()
        };
        let units: Vec<UnitRef> = ["A", "B", "C", "D", "E", "F"].map(unit).to_vec();
        let t = build(&facts, &units, &params());
        let got: Vec<_> = t
            .rows
            .iter()
            .map(|r| (r.code.as_str(), r.rank, r.status.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("A", Some(1), "ranked"),
                ("B", Some(1), "ranked"),
                ("C", Some(3), "ranked"),
                ("F", Some(4), "coverage_unknown"),
                ("D", None, "not_observed"),
                ("E", None, "not_observed"),
            ]
        );
        assert_eq!(t.rows[0].per_1000ha, Some(1.5));
        assert_eq!(t.rows[1].clear_share, Some(0.6));
        assert_eq!(t.rows[1].name, "nB");
    }

    #[test]
    fn task_rates_and_times() {
        let task = |min: Option<i64>, due_min: i64, verdict: Option<&str>| TaskFact {
            code: "A".into(),
            created_at: t0(),
            verdict_due: t0() + Duration::minutes(due_min),
            verified_at: min.map(|m| t0() + Duration::minutes(m)),
            verdict: verdict.map(str::to_string),
        };
        let tasks = [
            task(Some(10), 120, Some("burning")),
            task(Some(20), 120, Some("burned_scar")),
            task(Some(30), 120, Some("no_fire_industrial")),
            task(Some(200), 120, Some("no_fire_other")),
            // Overdue, no verdict: counts against the deadline share.
            task(None, 60, None),
            // Still inside its deadline at `now`: not counted yet.
            task(None, 600, None),
        ];
        let refs: Vec<&TaskFact> = tasks.iter().collect();
        let f = task_figures(&refs, params().now);
        assert_eq!(f.verified_burnings, 2);
        assert_eq!(f.false_alarm_share, Some(0.5));
        assert_eq!(f.median_min, Some(25.0));
        // 10,20,30,200: h = 2.7 → 30 + 0.7 × 170 = 149.
        assert_eq!(f.p90_min, Some(149.0));
        assert_eq!(f.within_deadline_share, Some(0.6));
        assert_eq!(task_figures(&[], params().now), TaskFigures::default());
    }

    #[test]
    fn first_fire_and_week_on_week() {
        let facts = DayFacts {
            hotspots: vec![h("A", 4, 4), h("B", 1, 1), h("C", 2, 2)],
            first_fire: vec![
                ("A".into(), t0()),
                // Seen before today: not the first fire today.
                ("B".into(), t0() - Duration::days(3)),
            ],
            week_ago_hotspots: vec![h("A", 6, 6)],
            // C was under cloud a week ago: no comparison.
            week_ago_coverage: vec![cov("C", 10, 0)],
            ..DayFacts::default()
        };
        let t = build(&facts, &[], &params());
        let row = |c: &str| t.rows.iter().find(|r| r.code == c).unwrap();
        assert!(row("A").first_fire_of_season);
        assert!(!row("B").first_fire_of_season);
        assert_eq!(row("A").week_on_week, Some(-2));
        assert_eq!(row("B").week_on_week, Some(1));
        assert_eq!(row("C").week_on_week, None);
        // No layer: named by code, no cropland.
        assert_eq!(row("A").name, "A");
        assert_eq!(row("A").per_1000ha, None);
    }

    #[test]
    fn quantiles() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[7.0], 0.9), Some(7.0));
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
    }
}
