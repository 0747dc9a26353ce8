//! Rankings: daily tables of counties and townships by hotspot count, pure functions of
//! located hotspots (no I/O). `strawfire rank --hotspots` uses them in batch; the service will
//! build its daily tables from the same functions.
//!
//! - [`daily`]: hotspots per day and unit, ranked (1 = most), with hotspots per 1,000 ha of
//!   cropland when the unit's cropland area is known (the measure official rankings use).

pub mod daily;

pub use daily::{rank_daily, LocatedFire, RankRow};
