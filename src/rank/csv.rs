//! The daily table as CSV for spreadsheets: one header line with the JSON field names (plus the
//! date and level), one line per unit; empty cells for nulls.

use super::table::DailyRanking;

/// The CSV columns, in order.
pub const HEADER: [&str; 25] = [
    "date",
    "level",
    "rank",
    "code",
    "name",
    "parent",
    "parent_name",
    "status",
    "clear_share",
    "fire_points",
    "fire_points_farmland",
    "fire_points_after_masks",
    "events",
    "verified_burnings",
    "false_alarm_share",
    "verdict_median_min",
    "verdict_p90_min",
    "within_deadline_share",
    "per_1000ha",
    "first_fire_of_season",
    "week_on_week",
    "previous_day_change",
    "previous_day_fire_points",
    "season_fire_points",
    "utc_offset_h",
];

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Writes the table as CSV.
pub fn write_csv<W: std::io::Write>(t: &DailyRanking, out: W) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    for r in &t.rows {
        w.write_record([
            t.date.to_string(),
            t.level.as_str().to_string(),
            opt(r.rank),
            r.code.clone(),
            r.name.clone(),
            opt(r.parent.clone()),
            opt(r.parent_name.clone()),
            r.status.as_str().to_string(),
            opt(r.clear_share),
            r.fire_points.to_string(),
            opt(r.fire_points_farmland),
            r.fire_points_after_masks.to_string(),
            r.events.to_string(),
            r.verified_burnings.to_string(),
            opt(r.false_alarm_share),
            opt(r.verdict_median_min),
            opt(r.verdict_p90_min),
            opt(r.within_deadline_share),
            opt(r.per_1000ha),
            r.first_fire_of_season.to_string(),
            opt(r.week_on_week),
            opt(r.previous_day_change),
            r.previous_day_fire_points.to_string(),
            r.season_fire_points.to_string(),
            t.utc_offset_h.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rank::facts::{DayFacts, RankLevel, UnitHotspots};
    use crate::rank::table::{build, RankParams};

    #[test]
    fn one_line_per_unit_with_empty_nulls() {
        let facts = DayFacts {
            hotspots: vec![UnitHotspots {
                code: "410526".into(),
                fire_points: 2,
                farmland: 1,
                after_masks: 2,
            }],
            ..DayFacts::default()
        };
        let p = RankParams::for_test(RankLevel::County);
        let mut out = Vec::new();
        write_csv(&build(&facts, &[], &p), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], HEADER.join(","));
        assert_eq!(
            lines[1],
            "2024-06-09,county,1,410526,410526,,,coverage_unknown,,2,,2,0,0,,,,,,false,2,2,0,0,8"
        );
    }
}
