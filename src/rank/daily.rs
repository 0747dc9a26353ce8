//! The daily ranking table.
//!
//! Days are local calendar days at a fixed UTC offset (China Standard Time, +08:00, for Chinese
//! units): a burn-ban command center reports its own day, and FIRMS dates are UTC, so an
//! early-morning night overpass would otherwise count on the previous day. Ranks are
//! competition ranks (1, 1, 3): units with equal counts share a rank, and are listed by code.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Serialize;

/// A hotspot already located in a unit of the ranked level.
#[derive(Debug, Clone, PartialEq)]
pub struct LocatedFire {
    pub acq_time: DateTime<Utc>,
    pub code: String,
    pub name: String,
    /// The unit's cropland area, ha, when the layer gives it.
    pub cropland_ha: Option<f64>,
}

/// One row of the table: `date,level,code,name,hotspots,rank[,per_1000_ha]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankRow {
    pub date: NaiveDate,
    pub level: String,
    pub code: String,
    pub name: String,
    pub hotspots: usize,
    /// 1 = most hotspots that day.
    pub rank: usize,
    /// Hotspots per 1,000 ha of cropland.
    pub per_1000_ha_cropland: Option<f64>,
}

/// (code, hotspots, name, cropland ha) of one unit on one day.
type DayUnit<'a> = (&'a str, usize, &'a str, Option<f64>);

/// Ranks units per local day. `from`/`to` are inclusive local dates. Units without hotspots on
/// a day do not appear for that day.
///
/// # Examples
/// ```
/// use chrono::{FixedOffset, TimeZone, Utc};
/// use strawfire::rank::{rank_daily, LocatedFire};
/// let fire = |h, code: &str| LocatedFire {
///     acq_time: Utc.with_ymd_and_hms(2024, 6, 5, h, 0, 0).unwrap(),
///     code: code.into(), name: code.into(), cropland_ha: Some(50_000.0),
/// };
/// let cst = FixedOffset::east_opt(8 * 3600).unwrap();
/// // 17:00 UTC is 01:00 on 6 June in China.
/// let rows = rank_daily(&[fire(5, "410526"), fire(5, "410526"), fire(6, "410527"), fire(17, "410527")],
///                       "county", cst, None, None);
/// assert_eq!((rows[0].code.as_str(), rows[0].hotspots, rows[0].rank), ("410526", 2, 1));
/// assert_eq!(rows[0].per_1000_ha_cropland, Some(0.04));
/// assert_eq!(rows[2].date.to_string(), "2024-06-06");
/// ```
pub fn rank_daily(
    fires: &[LocatedFire],
    level: &str,
    offset: FixedOffset,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Vec<RankRow> {
    // (date, code) -> (count, name, cropland)
    let mut counts: BTreeMap<(NaiveDate, &str), (usize, &str, Option<f64>)> = BTreeMap::new();
    for f in fires {
        let date = f.acq_time.with_timezone(&offset).date_naive();
        if from.is_some_and(|d| date < d) || to.is_some_and(|d| date > d) {
            continue;
        }
        let e =
            counts
                .entry((date, f.code.as_str()))
                .or_insert((0, f.name.as_str(), f.cropland_ha));
        e.0 += 1;
    }
    let mut by_day: BTreeMap<NaiveDate, Vec<DayUnit>> = BTreeMap::new();
    for ((date, code), (n, name, crop)) in counts {
        by_day.entry(date).or_default().push((code, n, name, crop));
    }
    let mut rows = Vec::new();
    for (date, mut units) in by_day {
        units.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let mut rank = 0;
        let mut prev = usize::MAX;
        for (i, (code, n, name, crop)) in units.into_iter().enumerate() {
            if n != prev {
                rank = i + 1;
                prev = n;
            }
            rows.push(RankRow {
                date,
                level: level.to_string(),
                code: code.to_string(),
                name: name.to_string(),
                hotspots: n,
                rank,
                per_1000_ha_cropland: crop.filter(|ha| *ha > 0.0).map(|ha| n as f64 * 1000.0 / ha),
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn fire(day: u32, hour: u32, code: &str) -> LocatedFire {
        LocatedFire {
            acq_time: Utc.with_ymd_and_hms(2024, 6, day, hour, 0, 0).unwrap(),
            code: code.into(),
            name: format!("n{code}"),
            cropland_ha: None,
        }
    }

    #[test]
    fn competition_ranks_ties_share_and_skip() {
        let fires = vec![
            fire(5, 3, "A"),
            fire(5, 3, "A"),
            fire(5, 4, "B"),
            fire(5, 4, "B"),
            fire(5, 4, "C"),
            fire(6, 4, "C"),
        ];
        let utc = FixedOffset::east_opt(0).unwrap();
        let rows = rank_daily(&fires, "township", utc, None, None);
        let got: Vec<(String, &str, usize, usize)> = rows
            .iter()
            .map(|r| (r.date.to_string(), r.code.as_str(), r.hotspots, r.rank))
            .collect();
        assert_eq!(
            got,
            vec![
                ("2024-06-05".into(), "A", 2, 1),
                ("2024-06-05".into(), "B", 2, 1),
                ("2024-06-05".into(), "C", 1, 3),
                ("2024-06-06".into(), "C", 1, 1),
            ]
        );
        assert!(rows.iter().all(|r| r.per_1000_ha_cropland.is_none()));
    }

    #[test]
    fn local_day_and_date_window() {
        let cst = FixedOffset::east_opt(8 * 3600).unwrap();
        // 5 June 20:00 UTC = 6 June 04:00 CST.
        let fires = vec![fire(5, 20, "A"), fire(5, 10, "A")];
        let rows = rank_daily(&fires, "county", cst, None, None);
        assert_eq!(rows.len(), 2);
        let d6 = NaiveDate::from_ymd_opt(2024, 6, 6).unwrap();
        let rows = rank_daily(&fires, "county", cst, Some(d6), Some(d6));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].date, d6);
    }
}
