//! What a daily ranking is computed from: plain facts per unit that the store aggregates
//! (`store::rank::RankStore`) and [`super::table::build`] turns into rows. Kept apart so the
//! table is a pure function and its tests need no store.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// The unit level a table ranks. City and province tables are county facts rolled up
/// ([`DayFacts::roll_up`]): to the county layer's parent field (city), and to the first two
/// digits of the adcode (province, `41` → `410000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RankLevel {
    County,
    Township,
    City,
    Province,
}

impl RankLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RankLevel::County => "county",
            RankLevel::Township => "township",
            RankLevel::City => "city",
            RankLevel::Province => "province",
        }
    }

    /// `county`, `township`, `city` or `province`.
    pub fn parse(s: &str) -> Option<RankLevel> {
        match s {
            "county" => Some(RankLevel::County),
            "township" => Some(RankLevel::Township),
            "city" => Some(RankLevel::City),
            "province" => Some(RankLevel::Province),
            _ => None,
        }
    }

    /// The stored level whose facts this table is built from (`county` for the roll-ups).
    pub fn stored(self) -> &'static str {
        match self {
            RankLevel::Township => "township",
            _ => "county",
        }
    }
}

/// The time windows one table needs (UTC instants; `from` inclusive, `to` exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankQuery {
    pub level: RankLevel,
    pub date: NaiveDate,
    /// The local day.
    pub day: (DateTime<Utc>, DateTime<Utc>),
    /// The same local day a week earlier.
    pub week_ago: (DateTime<Utc>, DateTime<Utc>),
    /// The previous local day (the bulletin's previous period).
    pub prev_day: (DateTime<Utc>, DateTime<Utc>),
    /// Start of the season the day belongs to (first fire of the season is looked for from here
    /// to the end of the day).
    pub season_from: DateTime<Utc>,
}

/// Hotspots of one unit in a window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitHotspots {
    pub code: String,
    /// All satellite fire points.
    pub fire_points: u64,
    /// Those on a farmland parcel.
    pub farmland: u64,
    /// Those not flagged by a mask (industrial site, power plant, confirmed false alarm, ...).
    pub after_masks: u64,
}

/// One task of a fire first seen in the day (whenever the task was created or verified), with
/// its verdict if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFact {
    pub code: String,
    pub created_at: DateTime<Utc>,
    pub verdict_due: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    /// `burning`, `burned_scar`, `no_fire_industrial`, `no_fire_other`.
    pub verdict: Option<String>,
}

/// One scene's land and clear land in one unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageFact {
    pub scene_id: i64,
    pub code: String,
    pub land_pixels: u64,
    pub clear_pixels: u64,
}

/// Everything one daily table is built from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayFacts {
    pub hotspots: Vec<UnitHotspots>,
    /// (code, fire events first seen in the day).
    pub events: Vec<(String, u64)>,
    pub tasks: Vec<TaskFact>,
    pub coverage: Vec<CoverageFact>,
    /// (code, first fire point after masks since the season start, up to the end of the day).
    pub first_fire: Vec<(String, DateTime<Utc>)>,
    pub week_ago_hotspots: Vec<UnitHotspots>,
    pub week_ago_coverage: Vec<CoverageFact>,
    pub prev_day_hotspots: Vec<UnitHotspots>,
    pub prev_day_coverage: Vec<CoverageFact>,
    /// From the season start to the end of the day.
    pub season_hotspots: Vec<UnitHotspots>,
}

fn roll_hotspots(h: &[UnitHotspots], up: &HashMap<String, String>) -> Vec<UnitHotspots> {
    let mut m: BTreeMap<&str, UnitHotspots> = BTreeMap::new();
    for u in h {
        if let Some(p) = up.get(&u.code) {
            let e = m.entry(p).or_insert_with(|| UnitHotspots {
                code: p.clone(),
                ..UnitHotspots::default()
            });
            e.fire_points += u.fire_points;
            e.farmland += u.farmland;
            e.after_masks += u.after_masks;
        }
    }
    m.into_values().collect()
}

fn roll_coverage(c: &[CoverageFact], up: &HashMap<String, String>) -> Vec<CoverageFact> {
    let mut m: BTreeMap<(i64, &str), (u64, u64)> = BTreeMap::new();
    for r in c {
        if let Some(p) = up.get(&r.code) {
            let e = m.entry((r.scene_id, p)).or_default();
            e.0 += r.land_pixels;
            e.1 += r.clear_pixels;
        }
    }
    m.into_iter()
        .map(|((scene_id, code), (land, clear))| CoverageFact {
            scene_id,
            code: code.to_string(),
            land_pixels: land,
            clear_pixels: clear,
        })
        .collect()
}

impl DayFacts {
    /// The same facts for the parent units: `up` maps a unit code to its parent's; units without
    /// a parent are left out. Exact, because every fact is additive: counts add, coverage adds
    /// per scene, tasks keep their own times (medians are recomputed), the first fire is the
    /// earliest.
    ///
    /// # Examples
    /// ```
    /// use std::collections::HashMap;
    /// use strawfire::rank::facts::{DayFacts, UnitHotspots};
    /// let h = |code: &str, n| UnitHotspots { code: code.into(), fire_points: n, farmland: 0, after_masks: n };
    /// let up = HashMap::from([("410526".to_string(), "410500".to_string()), ("410527".to_string(), "410500".to_string())]);
    /// let f = DayFacts { hotspots: vec![h("410526", 2), h("410527", 3)], ..DayFacts::default() }.roll_up(&up);
    /// assert_eq!((f.hotspots[0].code.as_str(), f.hotspots[0].fire_points), ("410500", 5));
    /// ```
    pub fn roll_up(&self, up: &HashMap<String, String>) -> DayFacts {
        let mut events: BTreeMap<&str, u64> = BTreeMap::new();
        for (c, n) in &self.events {
            if let Some(p) = up.get(c) {
                *events.entry(p).or_default() += n;
            }
        }
        let mut first: BTreeMap<&str, DateTime<Utc>> = BTreeMap::new();
        for (c, t) in &self.first_fire {
            if let Some(p) = up.get(c) {
                let e = first.entry(p).or_insert(*t);
                *e = (*e).min(*t);
            }
        }
        DayFacts {
            hotspots: roll_hotspots(&self.hotspots, up),
            events: events
                .into_iter()
                .map(|(c, n)| (c.to_string(), n))
                .collect(),
            tasks: self
                .tasks
                .iter()
                .filter_map(|t| {
                    up.get(&t.code).map(|p| TaskFact {
                        code: p.clone(),
                        ..t.clone()
                    })
                })
                .collect(),
            coverage: roll_coverage(&self.coverage, up),
            first_fire: first.into_iter().map(|(c, t)| (c.to_string(), t)).collect(),
            week_ago_hotspots: roll_hotspots(&self.week_ago_hotspots, up),
            week_ago_coverage: roll_coverage(&self.week_ago_coverage, up),
            prev_day_hotspots: roll_hotspots(&self.prev_day_hotspots, up),
            prev_day_coverage: roll_coverage(&self.prev_day_coverage, up),
            season_hotspots: roll_hotspots(&self.season_hotspots, up),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn roll_up_adds_counts_per_scene_and_keeps_tasks_and_earliest_fire() {
        let t = |d| Utc.with_ymd_and_hms(2024, 6, d, 0, 0, 0).unwrap();
        let cov = |scene_id, code: &str, land, clear| CoverageFact {
            scene_id,
            code: code.into(),
            land_pixels: land,
            clear_pixels: clear,
        };
        let facts = DayFacts {
            events: vec![("A".into(), 2), ("B".into(), 1), ("X".into(), 9)],
            tasks: vec![TaskFact {
                code: "B".into(),
                created_at: t(1),
                verdict_due: t(2),
                verified_at: None,
                verdict: None,
            }],
            coverage: vec![cov(1, "A", 10, 5), cov(1, "B", 30, 30), cov(2, "A", 10, 0)],
            first_fire: vec![("A".into(), t(5)), ("B".into(), t(3))],
            ..DayFacts::default()
        };
        let up = HashMap::from([
            ("A".to_string(), "P".to_string()),
            ("B".to_string(), "P".to_string()),
        ]);
        let r = facts.roll_up(&up);
        assert_eq!(r.events, vec![("P".to_string(), 3)]);
        assert_eq!(r.tasks[0].code, "P");
        assert_eq!(r.coverage, vec![cov(1, "P", 40, 35), cov(2, "P", 10, 0)]);
        assert_eq!(r.first_fire, vec![("P".to_string(), t(3))]);
    }
}
