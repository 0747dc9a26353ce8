//! The forwardable report: one self-contained HTML file (inline CSS and inline SVG map, no
//! script, font, image or style sheet from anywhere) that opens offline in any browser and
//! survives being sent through a chat group or by mail.

use std::fmt::Write;

use super::fair::Status;
use super::svg::escape;
use super::table::DailyRanking;

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.4em}table{border-collapse:collapse;font-size:0.9em}\
th,td{border:1px solid #bbb;padding:2px 6px;text-align:right}\
td.t,th.t{text-align:left}tr.not_observed{color:#777;background:#eee}\
tr.coverage_unknown{background:#fffbe0}.map{border:1px solid #ccc;margin:1em 0;max-width:100%;height:auto}\
.note{font-size:0.85em;color:#555;max-width:60em}";

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "–".into())
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.0}%", v * 100.0))
        .unwrap_or_else(|| "–".into())
}

/// The report: title, notes on fairness, the map (an `<svg>` from [`super::svg::map_svg`]) and
/// the table.
pub fn report_html(t: &DailyRanking, map_svg: &str) -> String {
    let level = t.level.as_str();
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>strawfire daily {level} ranking {date}</title><style>{STYLE}</style></head><body>\
         <h1>Straw-fire daily {level} ranking — {date} (UTC{off:+})</h1>",
        date = t.date,
        off = t.utc_offset_h
    );
    let not_obs = t
        .rows
        .iter()
        .filter(|r| r.status == Status::NotObserved)
        .count();
    let unknown = t
        .rows
        .iter()
        .filter(|r| r.status == Status::CoverageUnknown)
        .count();
    let _ = write!(
        o,
        "<p class=\"note\">Ranked by fire points after masks, most first; equal counts share a rank. \
         A unit whose best overpass saw less than {:.0}% of its land clear of cloud is <b>not observed</b> \
         ({not_obs} today): it is listed last and not ranked, since zero fires under cloud proves nothing. \
         <b>Coverage unknown</b> ({unknown} today): no cloud information for the unit that day \
         (feed-only data, or outside the day's scenes), ranked but flagged.</p>",
        t.min_clear_share * 100.0
    );
    o.push_str(map_svg);
    o.push_str(
        "<table><thead><tr><th>rank</th><th class=\"t\">code</th><th class=\"t\">name</th>\
         <th class=\"t\">status</th><th>clear</th><th>fire points</th><th>on farmland</th>\
         <th>after masks</th><th>events</th><th>verified burnings</th><th>false alarms</th>\
         <th>verdict median (min)</th><th>verdict p90 (min)</th><th>within deadline</th>\
         <th>per 1,000 ha</th><th>first of season</th><th>week on week</th></tr></thead><tbody>",
    );
    for r in &t.rows {
        let _ = write!(
            o,
            "<tr class=\"{st}\"><td>{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td>\
             <td class=\"t\">{st}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            opt(r.rank),
            escape(&r.code),
            escape(&r.name),
            pct(r.clear_share),
            r.fire_points,
            opt(r.fire_points_farmland),
            r.fire_points_after_masks,
            r.events,
            r.verified_burnings,
            pct(r.false_alarm_share),
            opt(r.verdict_median_min),
            opt(r.verdict_p90_min),
            pct(r.within_deadline_share),
            opt(r.per_1000ha),
            if r.first_fire_of_season { "yes" } else { "" },
            r.week_on_week.map(|v| format!("{v:+}")).unwrap_or_else(|| "–".into()),
            st = r.status.as_str(),
        );
    }
    o.push_str("</tbody></table></body></html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rank::facts::{DayFacts, RankLevel, UnitHotspots};
    use crate::rank::table::{build, RankParams};

    #[test]
    fn one_file_with_the_map_and_a_row_per_unit_and_escaped_names() {
        let facts = DayFacts {
            hotspots: vec![UnitHotspots {
                code: "<b>".into(),
                fire_points: 2,
                farmland: 1,
                after_masks: 2,
            }],
            ..DayFacts::default()
        };
        let p = RankParams::for_test(RankLevel::Township);
        let html = report_html(&build(&facts, &[], &p), "<svg class=\"map\"></svg>");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<svg class=\"map\"></svg>"));
        assert!(html.contains("<td class=\"t\">&lt;b&gt;</td>"));
        assert_eq!(html.matches("<tr class=").count(), 1);
        assert!(!html.contains("http://") && !html.contains("https://"));
    }
}
