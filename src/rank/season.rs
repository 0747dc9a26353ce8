//! Local days and fire seasons. A command center reports its own calendar day (China Standard
//! Time, +08:00), and leadership asks for "the first fire of the season": the season starts on a
//! configured month and day (e.g. 05-20, the wheat harvest on the North China Plain) each year.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc};

use super::facts::{RankLevel, RankQuery};

/// The UTC instants [from, to) of a local calendar day at `utc_offset_h`.
///
/// # Examples
/// ```
/// use chrono::NaiveDate;
/// use strawfire::rank::season::local_day;
/// let (from, to) = local_day(NaiveDate::from_ymd_opt(2024, 6, 9).unwrap(), 8);
/// assert_eq!(from.to_rfc3339(), "2024-06-08T16:00:00+00:00");
/// assert_eq!(to.to_rfc3339(), "2024-06-09T16:00:00+00:00");
/// ```
pub fn local_day(date: NaiveDate, utc_offset_h: i32) -> (DateTime<Utc>, DateTime<Utc>) {
    let off =
        FixedOffset::east_opt(utc_offset_h * 3600).unwrap_or(FixedOffset::east_opt(0).unwrap());
    let start = off
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .unwrap_or_default()
        .with_timezone(&Utc);
    (start, start + Duration::days(1))
}

/// Parses a season start `MM-DD`.
pub fn parse_month_day(s: &str) -> Option<(u32, u32)> {
    let (m, d) = s.split_once('-')?;
    let (m, d): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
    // Checked against a leap year so 02-29 is accepted.
    NaiveDate::from_ymd_opt(2024, m, d).map(|_| (m, d))
}

/// The first day of the season `date` belongs to: this year's start if it is not after `date`,
/// else last year's. (A 02-29 start falls back to 02-28 in other years.)
pub fn season_start(date: NaiveDate, (m, d): (u32, u32)) -> NaiveDate {
    let on = |y: i32| {
        NaiveDate::from_ymd_opt(y, m, d)
            .or_else(|| NaiveDate::from_ymd_opt(y, m, d - 1))
            .unwrap_or(date)
    };
    let this = on(date.year());
    if this <= date {
        this
    } else {
        on(date.year() - 1)
    }
}

impl RankQuery {
    /// The windows of the table of `date`.
    pub fn for_day(
        level: RankLevel,
        date: NaiveDate,
        utc_offset_h: i32,
        season: (u32, u32),
    ) -> RankQuery {
        RankQuery {
            level,
            date,
            day: local_day(date, utc_offset_h),
            week_ago: local_day(date - Duration::days(7), utc_offset_h),
            prev_day: local_day(date - Duration::days(1), utc_offset_h),
            season_from: local_day(season_start(date, season), utc_offset_h).0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn season_of_a_day_is_this_or_last_year() {
        assert_eq!(season_start(d(2024, 6, 9), (5, 20)), d(2024, 5, 20));
        assert_eq!(season_start(d(2024, 5, 20), (5, 20)), d(2024, 5, 20));
        assert_eq!(season_start(d(2024, 5, 19), (5, 20)), d(2023, 5, 20));
        assert_eq!(season_start(d(2023, 3, 1), (2, 29)), d(2023, 2, 28));
    }

    #[test]
    fn month_day_parsing() {
        assert_eq!(parse_month_day("05-20"), Some((5, 20)));
        assert_eq!(parse_month_day("02-29"), Some((2, 29)));
        assert_eq!(parse_month_day("13-01"), None);
        assert_eq!(parse_month_day("0520"), None);
    }

    #[test]
    fn query_windows() {
        let q = RankQuery::for_day(RankLevel::County, d(2024, 6, 9), 8, (5, 20));
        assert_eq!(q.week_ago.0.to_rfc3339(), "2024-06-01T16:00:00+00:00");
        assert_eq!(q.season_from.to_rfc3339(), "2024-05-19T16:00:00+00:00");
        assert_eq!(q.day.1 - q.day.0, Duration::days(1));
    }
}
