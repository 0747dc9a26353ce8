//! The daily ranking of a stored day, in the forms users get it: the table (JSON, CSV) and the
//! self-contained HTML report. Glue between the store ([`crate::store::RankStore`]), the locate
//! layers (unit names, parents, cropland, boundaries) and the pure `rank` module; the API and
//! `strawfire rank --date` both call it, so they cannot disagree.

use std::collections::{BTreeMap, HashMap};

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

/// The stored layer a level's facts and map come from (the county layer for the roll-ups).
fn layer(placer: &dyn Placer, level: RankLevel) -> Option<&UnitLayer> {
    let want = match level {
        RankLevel::Township => Level::Township,
        _ => Level::County,
    };
    placer.admin_layers().iter().find(|l| l.level == want)
}

/// The province of a Chinese adcode: its first two digits (`410526` → `410000`).
fn province_of(code: &str) -> Option<String> {
    (code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{}0000", &code[..2]))
}

/// For city and province tables: each county's code → its city (the county layer's parent
/// field) or province (adcode prefix). Empty for the stored levels.
pub fn roll_up_map(placer: &dyn Placer, level: RankLevel) -> HashMap<String, String> {
    let Some(l) = layer(placer, level) else {
        return HashMap::new();
    };
    l.units
        .iter()
        .filter_map(|u| {
            let up = match level {
                RankLevel::City => u.parent.clone(),
                RankLevel::Province => province_of(&u.code),
                _ => None,
            }?;
            Some((u.code.clone(), up))
        })
        .collect()
}

/// The units of a level as the layers describe them (none without layers). A township without a
/// parent field gets its county from the first six digits of its code. Cities and provinces are
/// named by their code (no layer of theirs is loaded); a city's cropland is its counties' sum when
/// all are known.
pub fn units(placer: &dyn Placer, level: RankLevel) -> Vec<UnitRef> {
    let Some(l) = layer(placer, level) else {
        return Vec::new();
    };
    if matches!(level, RankLevel::City | RankLevel::Province) {
        let up = roll_up_map(placer, level);
        let mut out: BTreeMap<String, UnitRef> = BTreeMap::new();
        for u in &l.units {
            let Some(p) = up.get(&u.code) else { continue };
            let e = out.entry(p.clone()).or_insert_with(|| UnitRef {
                code: p.clone(),
                name: p.clone(),
                parent: (level == RankLevel::City).then(|| province_of(p)).flatten(),
                cropland_ha: Some(0.0),
            });
            e.cropland_ha = match (e.cropland_ha, u.cropland_ha) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
        }
        return out.into_values().collect();
    }
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

/// (county, township) codes of a position, as a scene's coverage samples need them: straight
/// from the admin layers' R-trees when the placer has them (point containment only; no parcel
/// overlap, mask or name copies as a full placement would do, which is most of its cost), else
/// through [`Placer::place`].
pub fn unit_codes(placer: &dyn Placer, lon: f64, lat: f64) -> (Option<String>, Option<String>) {
    let layers = placer.admin_layers();
    if layers.is_empty() {
        let p = placer.place(lon, lat, 0.0);
        return (p.county, p.township);
    }
    let code = |level: Level| {
        layers.iter().filter(|l| l.level == level).find_map(|l| {
            l.index
                .first_containing(lon, lat)
                .map(|i| l.units[i].code.clone())
        })
    };
    (code(Level::County), code(Level::Township))
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
    let mut facts = store.rank_facts(&q)?;
    if matches!(level, RankLevel::City | RankLevel::Province) {
        facts = facts.roll_up(&roll_up_map(placer, level));
    }
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
    lang: crate::i18n::Lang,
) -> Result<String, StoreError> {
    let (from, to) = crate::rank::season::local_day(table.date, cfg.utc_offset_h);
    let points = store.map_points(from, to, MAP_POINTS)?;
    // City and province maps draw their counties, each under its city's or province's code.
    let up = roll_up_map(placer, table.level);
    let rolled = matches!(table.level, RankLevel::City | RankLevel::Province);
    let shapes: Vec<_> = layer(placer, table.level)
        .map(|l| {
            l.units
                .iter()
                .zip(l.index.shapes())
                .filter_map(|(u, s)| {
                    if rolled {
                        up.get(&u.code).map(|p| (p.as_str(), s))
                    } else {
                        Some((u.code.as_str(), s))
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(crate::rank::html::report_html(
        table,
        &map_svg(table, &shapes, &points, lang),
        lang,
    ))
}
