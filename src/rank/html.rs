//! The forwardable report: one self-contained HTML file (inline CSS and inline SVG map, no
//! script, font, image or style sheet from anywhere) that opens offline in any browser and
//! survives being sent through a chat group or by mail. In the deployment's language
//! (`[ui] lang`, Chinese by default) from the message catalogues (`report.*`), dates in words
//! (`2024年6月9日`); the fair treatment of clouded units is said in the same words as the pages.

use std::fmt::Write;

use super::facts::RankLevel;
use super::fair::Status;
use super::svg::escape;
use super::table::DailyRanking;
use crate::i18n::Lang;

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

/// The level as words: 县区, 乡镇, 地市, 省.
pub fn level_name(l: Lang, level: RankLevel) -> &'static str {
    match level {
        RankLevel::County => l.t("level.county"),
        RankLevel::Township => l.t("level.township"),
        RankLevel::City => l.t("level.city"),
        RankLevel::Province => l.t("level.province"),
    }
}

/// A status as words: 已排名, 云覆盖，无有效观测, 观测情况不明.
pub fn status_name(l: Lang, s: Status) -> &'static str {
    match s {
        Status::Ranked => l.t("status.ranked"),
        Status::NotObserved => l.t("status.not_observed"),
        Status::CoverageUnknown => l.t("status.coverage_unknown"),
    }
}

/// The reporting day's zone as words: 北京时间 for UTC+8, else `UTC+6`.
fn day_zone(l: Lang, utc_offset_h: i32) -> String {
    if utc_offset_h == 8 {
        l.t("zone.beijing").to_string()
    } else {
        l.f("zone.offset", &[("offset", &format!("{utc_offset_h:+}"))])
    }
}

/// The report in `lang`: title, the reporting day, the notes on fairness, the map (an `<svg>`
/// from [`super::svg::map_svg`]) and the table.
pub fn report_html(t: &DailyRanking, map_svg: &str, lang: Lang) -> String {
    let l = lang;
    let level = level_name(l, t.level);
    let date = l.date(t.date);
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\
         <h1>{heading}</h1><p class=\"period\">{period}</p>",
        code = l.code(),
        title = escape(&l.f("report.title", &[("date", &date), ("level", &level)])),
        heading = escape(&l.f("report.heading", &[("level", &level)])),
        period = escape(&l.f(
            "report.period",
            &[("date", &date), ("zone", &day_zone(l, t.utc_offset_h))]
        )),
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
    let share = format!("{:.0}", t.min_clear_share * 100.0);
    let _ = write!(
        o,
        "<p class=\"note\">{}</p><p class=\"note\">{}</p><p class=\"note\">{}</p>",
        escape(l.t("report.note.order")),
        escape(&l.f(
            "report.note.not_observed",
            &[("pct", &share), ("n", &not_obs)]
        )),
        escape(&l.f("report.note.coverage_unknown", &[("n", &unknown)])),
    );
    o.push_str(map_svg);
    let cols: [(&str, bool); 17] = [
        (l.t("report.col.rank"), false),
        (l.t("report.col.code"), true),
        (l.t("report.col.name"), true),
        (l.t("report.col.status"), true),
        (l.t("report.col.clear"), false),
        (l.t("report.col.fire_points"), false),
        (l.t("report.col.farmland"), false),
        (l.t("report.col.after_masks"), false),
        (l.t("report.col.events"), false),
        (l.t("report.col.verified"), false),
        (l.t("report.col.false_alarms"), false),
        (l.t("report.col.median_min"), false),
        (l.t("report.col.p90_min"), false),
        (l.t("report.col.within_deadline"), false),
        (l.t("report.col.per_1000ha"), false),
        (l.t("report.col.first_of_season"), false),
        (l.t("report.col.week_on_week"), false),
    ];
    o.push_str("<table><thead><tr>");
    for (name, text) in cols {
        let class = if text { " class=\"t\"" } else { "" };
        let _ = write!(o, "<th{class}>{}</th>", escape(name));
    }
    o.push_str("</tr></thead><tbody>");
    for r in &t.rows {
        let _ = write!(
            o,
            "<tr class=\"{st}\"><td>{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td>\
             <td class=\"t\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            opt(r.rank),
            escape(&r.code),
            escape(&r.name),
            escape(status_name(l, r.status)),
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
            if r.first_fire_of_season { l.t("report.yes") } else { "" },
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
        let html = report_html(
            &build(&facts, &[], &p),
            "<svg class=\"map\"></svg>",
            Lang::ZhCn,
        );
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"zh-CN\">"));
        assert!(html.contains("<svg class=\"map\"></svg>"));
        assert!(html.contains("<td class=\"t\">&lt;b&gt;</td>"));
        assert_eq!(html.matches("<tr class=").count(), 1);
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(
            html.contains("<h1>秸秆焚烧卫星火点每日排名（乡镇）</h1>"),
            "{html}"
        );
        assert!(html.contains("<th>火点数</th>") && html.contains("<th>每千公顷耕地火点</th>"));
        let en = report_html(&build(&facts, &[], &p), "", Lang::En);
        assert!(
            en.contains("<html lang=\"en\">") && en.contains("<th>fire points</th>"),
            "{en}"
        );
    }
}
