//! Rankings: daily tables of counties and townships, pure functions of stored facts (no I/O).
//!
//! - [`daily`]: the batch form (`strawfire rank --hotspots`): hotspots per local day and unit,
//!   ranked, per 1,000 ha of cropland.
//! - [`coverage`]: per scene, the land and clear land each unit showed to the overpass (sampled).
//! - [`facts`]: what the store hands over for one day; [`season`]: local days, season start.
//! - [`fair`]: clear share → ranked / not observed / coverage unknown.
//! - [`table`]: the daily table of the service (`GET /api/v1/rankings/daily`, `strawfire rank --date`).
//! - [`csv`], [`svg`], [`html`]: the table as CSV, the day's map, the self-contained report.

pub mod coverage;
pub mod csv;
pub mod daily;
pub mod facts;
pub mod fair;
pub mod html;
pub mod season;
pub mod svg;
pub mod table;

pub use daily::{rank_daily, LocatedFire, RankRow};
pub use facts::{DayFacts, RankLevel, RankQuery};
pub use table::{build, DailyRanking, RankParams, RankingRow, UnitRef};
