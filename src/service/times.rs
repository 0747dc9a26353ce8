//! Which detection times are believed. A hotspot dated year 1, 1970 or 9999, or an alert of
//! year 0, is a broken field or a wrong clock, not a fire: dispatching it would page a township
//! for nothing (or for a fire of another decade). Pure: the service passes its clock's now.
//!
//! Staleness is not decided here: an old but plausible detection (an archive, a backfilled
//! season) is stored and ranked; `dispatch::TaskRules::is_too_old` keeps it from paging anyone.

use chrono::{DateTime, Duration, Utc};

use crate::config::IngestConfig;
use crate::hotspot::{Feed, RowWarning};

/// The window of believable times: from `earliest` to `now + max_future_skew`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLimits {
    pub earliest: DateTime<Utc>,
    pub max_future_skew: Duration,
}

impl Default for TimeLimits {
    fn default() -> Self {
        TimeLimits::from_config(&IngestConfig::default())
    }
}

impl TimeLimits {
    pub fn from_config(c: &IngestConfig) -> TimeLimits {
        TimeLimits {
            earliest: c.earliest(),
            max_future_skew: c.max_future_skew(),
        }
    }

    /// `Ok` when `t` is believable at `now`; otherwise why not (for a message naming the field).
    pub fn check(&self, t: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
        let show = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
        if t < self.earliest {
            return Err(format!(
                "{} is before {} (no satellite fire product is older): a broken date",
                show(t),
                show(self.earliest)
            ));
        }
        if t > now + self.max_future_skew {
            return Err(format!(
                "{} is in the future (now {}, at most {} min ahead allowed): a wrong clock or a broken date",
                show(t),
                show(now),
                self.max_future_skew.num_minutes()
            ));
        }
        Ok(())
    }

    /// Moves the rows of `feed` whose time is not believable into its warnings (naming file,
    /// line and the date column), keeping the warnings in line order. Returns how many moved.
    pub fn screen(&self, feed: &mut Feed, now: DateTime<Utc>) -> usize {
        let field = feed
            .header
            .iter()
            .find(|h| h.trim().eq_ignore_ascii_case("acq_date"))
            .cloned()
            .unwrap_or_else(|| "acq_date".into());
        // GeoJSON feeds are numbered by feature, CSV by line (`read.rs`).
        let unit = if feed.warnings.first().map(|w| w.unit) == Some("feature")
            || feed
                .path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| {
                    e.eq_ignore_ascii_case("geojson") || e.eq_ignore_ascii_case("json")
                }) {
            "feature"
        } else {
            "line"
        };
        let before = feed.rows.len();
        let mut refused = Vec::new();
        feed.rows
            .retain(|r| match self.check(r.hotspot.acq_time, now) {
                Ok(()) => true,
                Err(message) => {
                    refused.push(RowWarning {
                        path: feed.path.clone(),
                        unit,
                        line: r.line,
                        field: Some(field.clone()),
                        message,
                    });
                    false
                }
            });
        if !refused.is_empty() {
            feed.warnings.extend(refused);
            feed.warnings.sort_by_key(|w| w.line);
        }
        before - feed.rows.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::path::Path;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 8, 5, 0, 0).unwrap()
    }

    #[test]
    fn the_window_runs_from_the_floor_to_the_skew() {
        let l = TimeLimits::default();
        assert!(l.check(now(), now()).is_ok());
        assert!(l.check(now() + Duration::minutes(15), now()).is_ok());
        assert!(l
            .check(now() + Duration::minutes(16), now())
            .unwrap_err()
            .contains("in the future"));
        assert!(l
            .check(Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap(), now())
            .is_ok());
        for bad in [(1, 1, 1), (1970, 1, 1), (1999, 12, 31)] {
            let t = Utc.with_ymd_and_hms(bad.0, bad.1, bad.2, 0, 0, 0).unwrap();
            assert!(l.check(t, now()).unwrap_err().contains("before 2000-01-01"));
        }
    }

    #[test]
    fn a_feed_keeps_its_believable_rows_and_names_the_others() {
        let csv = "latitude,longitude,acq_date,acq_time\n\
                   35.1,114.1,0001-01-01,0000\n\
                   35.2,114.2,2026-06-08,0450\n\
                   35.3,114.3,1970-01-01,0000\n\
                   35.4,114.4,9999-12-31,2359\n\
                   35.5,114.5,x,0000\n";
        let mut feed = crate::hotspot::read::read_csv(Path::new("f.csv"), csv.as_bytes()).unwrap();
        assert_eq!(feed.warnings.len(), 1);
        assert_eq!(TimeLimits::default().screen(&mut feed, now()), 3);
        assert_eq!(feed.rows.len(), 1);
        assert_eq!(feed.rows[0].line, 3);
        let lines: Vec<u64> = feed.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [2, 4, 5, 6]);
        let w = feed.warnings[2].to_string();
        assert!(
            w.starts_with("f.csv: line 5, field `acq_date`: 9999-12-31 23:59 UTC is in the future"),
            "{w}"
        );
    }
}
