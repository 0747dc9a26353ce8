//! What a daily ranking is computed from: plain facts per unit that the store aggregates
//! (`store::rank::RankStore`) and [`super::table::build`] turns into rows. Kept apart so the
//! table is a pure function and its tests need no store.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// The unit level a table ranks. City and province tables are not built yet (see
/// ARCHITECTURE.md); rows carry their parent code instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RankLevel {
    County,
    Township,
}

impl RankLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RankLevel::County => "county",
            RankLevel::Township => "township",
        }
    }

    /// `county` or `township`.
    pub fn parse(s: &str) -> Option<RankLevel> {
        match s {
            "county" => Some(RankLevel::County),
            "township" => Some(RankLevel::Township),
            _ => None,
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

/// One task created in the day, with its verdict if any.
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
}
