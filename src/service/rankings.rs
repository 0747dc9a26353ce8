//! The daily ranking of a stored day, in the forms users get it: the table (JSON, CSV) and the
//! self-contained HTML report. Glue between the store ([`crate::store::RankStore`]), the locate
//! layers (unit names, parents, cropland, boundaries) and the pure `rank` module; the API and
//! `strawfire rank --date` both call it, so they cannot disagree.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::{RankConfig, ReportConfig};
use crate::fuse::Placer;
use crate::locate::{Level, UnitLayer};
use crate::rank::facts::{RankLevel, RankQuery};
use crate::rank::html::Issue;
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
/// parent field gets its county from the first six digits of its code. Cities are named from
/// `[rank] cities` (`city_names`), else by their code, as provinces are; a city's cropland is
/// its counties' sum when all are known.
pub fn units(
    placer: &dyn Placer,
    level: RankLevel,
    city_names: &BTreeMap<String, String>,
) -> Vec<UnitRef> {
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
                name: match level {
                    RankLevel::City => city_names.get(p).cloned().unwrap_or_else(|| p.clone()),
                    _ => p.clone(),
                },
                parent: (level == RankLevel::City).then(|| province_of(p)).flatten(),
                parent_name: None,
                cropland_ha: Some(0.0),
            });
            e.cropland_ha = match (e.cropland_ha, u.cropland_ha) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
        }
        return out.into_values().collect();
    }
    // A township's county is named from the county layer, a county's city from the cities.
    let parent_names: HashMap<&str, &str> = match level {
        RankLevel::Township => layer(placer, RankLevel::County)
            .map(|c| {
                c.units
                    .iter()
                    .map(|u| (u.code.as_str(), u.name.as_str()))
                    .collect()
            })
            .unwrap_or_default(),
        _ => city_names
            .iter()
            .map(|(c, n)| (c.as_str(), n.as_str()))
            .collect(),
    };
    l.units
        .iter()
        .map(|u| {
            let parent = u.parent.clone().or_else(|| {
                (level == RankLevel::Township && u.code.len() > 6).then(|| u.code[..6].to_string())
            });
            UnitRef {
                code: u.code.clone(),
                name: u.name.clone(),
                parent_name: parent
                    .as_deref()
                    .and_then(|p| parent_names.get(p))
                    .map(|n| n.to_string()),
                parent,
                cropland_ha: u.cropland_ha,
            }
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
    Ok(build(&facts, &units(placer, level, &cfg.city_names), &p))
}

/// What a bulletin is made with besides its table.
#[derive(Debug, Clone)]
pub struct BulletinOptions<'a> {
    pub report: &'a ReportConfig,
    /// The request's comment; `None`: the configured one.
    pub comment: Option<&'a str>,
    pub lang: crate::i18n::Lang,
    /// When a first rendering numbers the issue.
    pub now: DateTime<Utc>,
}

/// A ranking or bulletin is made for a day that has begun (local time at the rank offset): a
/// day that has not has no fires yet, so its table would rank every unit first with none, as if
/// the day were clean, and numbering its bulletin would hand out issue numbers to mistakes. The
/// message names the date and today in the ranking's time zone.
pub fn check_day_begun(
    cfg: &RankConfig,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let zone = chrono::FixedOffset::east_opt(cfg.utc_offset_h * 3600)
        .unwrap_or(chrono::FixedOffset::east_opt(0).unwrap());
    let today = now.with_timezone(&zone).date_naive();
    if date > today {
        return Err(format!(
            "{date} is after today ({today} at UTC{zone}, the ranking's time zone): a day that \
             has not begun has no ranking or bulletin"
        ));
    }
    Ok(())
}

/// The bulletin of a table: one HTML file with the map of the day's hotspots over the level's
/// boundaries, numbered (第N期) on its first rendering and the same number ever after.
pub fn report_html(
    store: &dyn Store,
    placer: &dyn Placer,
    cfg: &RankConfig,
    table: &DailyRanking,
    opts: &BulletinOptions,
) -> Result<String, StoreError> {
    let lang = opts.lang;
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
    let season_from = crate::rank::season::season_start(table.date, cfg.season());
    let stored = store.bulletin_issue(season_from, table.level.as_str(), table.date, opts.now)?;
    let offset = chrono::FixedOffset::east_opt(cfg.utc_offset_h * 3600)
        .unwrap_or(chrono::FixedOffset::east_opt(0).unwrap());
    let comment = opts
        .comment
        .map(str::to_string)
        .or_else(|| opts.report.comment.clone())
        .filter(|c| !c.trim().is_empty());
    let issue = Issue {
        issuer: opts.report.issuer.clone(),
        number: stored.number,
        issued: stored.issued_at.with_timezone(&offset).date_naive(),
        season_from,
        comment,
    };
    Ok(crate::rank::html::report_html(
        table,
        &issue,
        &map_svg(table, &shapes, &points, lang),
        lang,
    ))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// "Today" is the ranking's local day: at 04:00 Beijing time (20:00 UTC the day before) the
    /// Beijing day has begun, the next has not; at UTC+0 the same instant is still the day before.
    #[test]
    fn a_day_has_begun_in_the_rankings_time_zone_and_the_refusal_names_both_days() {
        let now = Utc.with_ymd_and_hms(2024, 6, 10, 20, 0, 0).unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2024, 6, d).unwrap();
        let beijing = RankConfig::default();
        assert_eq!(beijing.utc_offset_h, 8);
        assert_eq!(check_day_begun(&beijing, day(11), now), Ok(()));
        assert_eq!(check_day_begun(&beijing, day(1), now), Ok(()));
        assert_eq!(
            check_day_begun(&beijing, day(12), now).unwrap_err(),
            "2024-06-12 is after today (2024-06-11 at UTC+08:00, the ranking's time zone): a day \
             that has not begun has no ranking or bulletin"
        );
        let utc = RankConfig {
            utc_offset_h: 0,
            ..RankConfig::default()
        };
        let m = check_day_begun(&utc, day(11), now).unwrap_err();
        assert!(
            m.starts_with("2024-06-11 is after today (2024-06-10 at UTC+00:00,"),
            "{m}"
        );
    }
}
