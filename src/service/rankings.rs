//! The daily ranking of a stored day, in the forms users get it: the table (JSON, CSV) and the
//! self-contained HTML report. Glue between the store ([`crate::store::RankStore`]), the locate
//! layers (unit names, parents, cropland, boundaries) and the pure `rank` module; the API and
//! `strawfire rank --date` both call it, so they cannot disagree.

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::RankConfig;
use crate::fuse::Placer;
use crate::locate::{Level, UnitLayer};
use crate::rank::facts::{RankLevel, RankQuery};
use crate::rank::svg::map_svg;
use crate::rank::table::{build, DailyRanking, RankParams, UnitRef};
use crate::store::{Store, StoreError};

/// Hotspots drawn on the report's map at most (a busy day's map stays readable and small).
pub const MAP_POINTS: usize = 20_000;

fn layer(placer: &dyn Placer, level: RankLevel) -> Option<&UnitLayer> {
    let want = match level {
        RankLevel::County => Level::County,
        RankLevel::Township => Level::Township,
    };
    placer.admin_layers().iter().find(|l| l.level == want)
}

/// The units of a level as the layers describe them (none without layers). A township without a
/// parent field gets its county from the first six digits of its code.
pub fn units(placer: &dyn Placer, level: RankLevel) -> Vec<UnitRef> {
    let Some(l) = layer(placer, level) else {
        return Vec::new();
    };
    l.units
        .iter()
        .map(|u| UnitRef {
            code: u.code.clone(),
            name: u.name.clone(),
            parent: u.parent.clone().or_else(|| {
                (level == RankLevel::Township && u.code.len() > 6).then(|| u.code[..6].to_string())
            }),
            cropland_ha: u.cropland_ha,
        })
        .collect()
}

/// The table of one local day.
pub fn daily(
    store: &dyn Store,
    placer: &dyn Placer,
    cfg: &RankConfig,
    date: NaiveDate,
    level: RankLevel,
    now: DateTime<Utc>,
) -> Result<DailyRanking, StoreError> {
    let q = RankQuery::for_day(level, date, cfg.utc_offset_h, cfg.season());
    let facts = store.rank_facts(&q)?;
    let p = RankParams {
        date,
        level,
        utc_offset_h: cfg.utc_offset_h,
        min_clear_share: cfg.min_clear_share,
        farmland_known: placer.parcel_layer().is_some(),
        now,
    };
    Ok(build(&facts, &units(placer, level), &p))
}

/// The report of a table: one HTML file with the map of the day's hotspots over the level's
/// boundaries.
pub fn report_html(
    store: &dyn Store,
    placer: &dyn Placer,
    cfg: &RankConfig,
    table: &DailyRanking,
) -> Result<String, StoreError> {
    let (from, to) = crate::rank::season::local_day(table.date, cfg.utc_offset_h);
    let points = store.map_points(from, to, MAP_POINTS)?;
    let shapes: Vec<_> = layer(placer, table.level)
        .map(|l| {
            l.units
                .iter()
                .zip(l.index.shapes())
                .map(|(u, s)| (u.code.as_str(), s))
                .collect()
        })
        .unwrap_or_default();
    Ok(crate::rank::html::report_html(
        table,
        &map_svg(table, &shapes, &points),
    ))
}
