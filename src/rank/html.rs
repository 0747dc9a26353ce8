//! The bulletin (通报) leadership forwards: one self-contained HTML file (inline CSS and inline
//! SVG map, no script, font, image or style sheet from anywhere) that opens offline in any
//! browser, survives being sent through a chat group or by mail, and prints on A4 (`@page`,
//! print styles; [`crate::print`] makes the PDF from it with headless Chromium).
//!
//! It reads as a Chinese work bulletin: masthead (秸秆禁烧工作通报, 第N期, issuer, issue date),
//! title, the day's summary in sentences (fire points, after masks, change on the previous
//! period, verified burnings, season total), the units with the most fire points, an optional
//! comment of the command centre, the ranking (火点数 / 排名 / 较上期增减 / 本季累计), the fair
//! treatment of clouded units in words, the map, and the verification figures. In the
//! deployment's language (`[ui] lang`, Chinese by default) from the message catalogues
//! (`bulletin.*`, `report.*`), dates in words (`2024年6月9日`).

use std::fmt::Write;

use chrono::NaiveDate;

use super::facts::RankLevel;
use super::fair::Status;
use super::svg::escape;
use super::table::{DailyRanking, RankingRow};
use crate::i18n::Lang;

const STYLE: &str = "@page{size:A4;margin:16mm 15mm 16mm 15mm}\
body{font-family:\"WenQuanYi Micro Hei\",\"Noto Sans CJK SC\",\"Source Han Sans SC\",\"PingFang SC\",\"Microsoft YaHei\",sans-serif;\
margin:0 auto;max-width:190mm;padding:1.5em;color:#111;line-height:1.6;\
-webkit-print-color-adjust:exact;print-color-adjust:exact}\
.masthead{text-align:center;color:#c00;margin-bottom:1em}\
.masthead .kind{font-size:2.1em;font-weight:bold;letter-spacing:0.2em}\
.masthead .issue{font-size:1.05em;color:#111}\
.byline{display:flex;justify-content:space-between;color:#111;border-bottom:2px solid #c00;padding-bottom:3px}\
h1{font-size:1.3em;text-align:center;margin:0.8em 0}\
h2{font-size:1.08em;margin:1.1em 0 0.4em}\
p{text-indent:2em;margin:0.35em 0}p.salutation,p.note,p.caption{text-indent:0}\
table{border-collapse:collapse;width:100%;font-size:0.9em;margin:0.3em 0}\
th,td{border:1px solid #444;padding:2px 5px;text-align:right}\
th{background:#f0f0f0;text-align:center;font-weight:bold}td.t{text-align:left;white-space:nowrap}\
tr.not_observed{color:#666;background:#eee}tr.coverage_unknown{background:#fffbe0}\
.note,.caption{font-size:0.85em;color:#444}\
svg.map{display:block;width:100%;height:auto;border:1px solid #999;margin:0.4em 0}\
.footer{text-align:right;margin-top:1.5em}\
@media print{body{padding:0;max-width:none;font-size:10.5pt}\
tr,.mapbox,.masthead,.byline{break-inside:avoid}thead{display:table-header-group}\
h2{break-after:avoid}table.handling{font-size:8pt}table.handling td,table.handling th{padding:1px 3px}\
svg.map{width:auto;height:auto;max-width:100%;max-height:200mm;margin:0.4em auto}}";

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "–".into())
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.0}%", v * 100.0))
        .unwrap_or_else(|| "–".into())
}

fn signed(v: Option<i64>) -> String {
    v.map(|v| if v == 0 { "0".into() } else { format!("{v:+}") })
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

/// What makes a table a bulletin: who issues it, its number and date, the season it counts
/// from, and the command centre's comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// The issuing body (`[report] issuer`, e.g. `XX市秸秆禁烧指挥部`); empty: the catalogue's
    /// generic name.
    pub issuer: String,
    /// 第N期.
    pub number: u32,
    /// The day it was first issued.
    pub issued: NaiveDate,
    /// First day of the season (本季累计 counts from here).
    pub season_from: NaiveDate,
    /// An optional paragraph (several separated by blank lines).
    pub comment: Option<String>,
}

/// The change on the previous period in words: 增加3个, 减少1个, 持平.
fn change_words(l: Lang, d: i64) -> String {
    match d {
        0 => l.t("bulletin.change.same").to_string(),
        d if d > 0 => l.f("bulletin.change.up", &[("n", &d)]),
        d => l.f("bulletin.change.down", &[("n", &-d)]),
    }
}

/// The summary sentences: totals over every unit of the table.
fn summary(t: &DailyRanking, issue: &Issue, l: Lang, level: &str) -> String {
    let all: u64 = t.rows.iter().map(|r| r.fire_points).sum();
    let after: u64 = t.rows.iter().map(|r| r.fire_points_after_masks).sum();
    let units = t
        .rows
        .iter()
        .filter(|r| r.fire_points_after_masks > 0)
        .count();
    let verified: u64 = t.rows.iter().map(|r| r.verified_burnings).sum();
    let season: u64 = t.rows.iter().map(|r| r.season_fire_points).sum();
    // Plain totals, as a reader adds them up (the per-unit column leaves clouded days out).
    let before: u64 = t.rows.iter().map(|r| r.previous_day_fire_points).sum();
    let change = after as i64 - before as i64;
    let prev = l.date(t.date - chrono::Duration::days(1));
    l.f(
        "bulletin.summary",
        &[
            ("date", &l.date(t.date)),
            ("zone", &day_zone(l, t.utc_offset_h)),
            ("all", &all),
            ("after", &after),
            ("units", &units),
            ("level", &level),
            ("prev", &prev),
            ("change", &change_words(l, change)),
            ("verified", &verified),
            ("season", &l.date(issue.season_from)),
            ("season_total", &season),
        ],
    )
}

/// The ranked units with the most fire points (at most three, ties at the third included).
fn top(t: &DailyRanking, l: Lang, level: &str) -> String {
    let ranked: Vec<&RankingRow> = t
        .rows
        .iter()
        .filter(|r| r.rank.is_some() && r.fire_points_after_masks > 0)
        .collect();
    if ranked.is_empty() {
        return l.f("bulletin.none", &[("level", &level)]);
    }
    let third = ranked
        .get(2)
        .map_or(1, |r| r.fire_points_after_masks)
        .max(1);
    let list: Vec<String> = ranked
        .iter()
        .filter(|r| r.fire_points_after_masks >= third)
        .map(|r| {
            l.f(
                "bulletin.top.item",
                &[("name", &r.name), ("n", &r.fire_points_after_masks)],
            )
        })
        .collect();
    l.f(
        "bulletin.top",
        &[
            ("level", &level),
            ("list", &list.join(l.t("bulletin.list_sep"))),
        ],
    )
}

/// The bulletin of table `t`, with its map (an `<svg>` from [`super::svg::map_svg`]).
pub fn report_html(t: &DailyRanking, issue: &Issue, map_svg: &str, lang: Lang) -> String {
    let l = lang;
    let level = level_name(l, t.level);
    let date = l.date(t.date);
    let issuer = if issue.issuer.trim().is_empty() {
        l.t("bulletin.issuer_default").to_string()
    } else {
        issue.issuer.trim().to_string()
    };
    let title = l.f("bulletin.title", &[("date", &date), ("level", &level)]);
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\
         <header class=\"masthead\"><div class=\"kind\">{kind}</div>\
         <div class=\"issue\">{number}</div></header>\
         <div class=\"byline\"><span class=\"issuer\">{issuer}</span><span class=\"issued\">{issued}</span></div>\
         <h1>{title}</h1><p class=\"salutation\">{salutation}</p>\
         <p class=\"summary\">{summary}</p><p class=\"top\">{top}</p>",
        code = l.code(),
        title = escape(&title),
        kind = escape(l.t("bulletin.masthead")),
        number = escape(&l.f("bulletin.issue", &[("n", &issue.number)])),
        issuer = escape(&issuer),
        issued = escape(&l.date(issue.issued)),
        salutation = escape(&l.f("bulletin.salutation", &[("level", &level)])),
        summary = escape(&summary(t, issue, l, level)),
        top = escape(&top(t, l, level)),
    );
    if let Some(c) = issue.comment.as_deref() {
        for para in c.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
            let _ = write!(o, "<p class=\"comment\">{}</p>", escape(para));
        }
    }

    // 一、the ranking.
    // The parent's column: a township's county; a county's city when the cities are named.
    let parent_col = match t.level {
        RankLevel::Township => Some(l.t("bulletin.col.county")),
        RankLevel::County if t.rows.iter().any(|r| r.parent_name.is_some()) => {
            Some(l.t("bulletin.col.city"))
        }
        _ => None,
    };
    let _ = write!(
        o,
        "<h2>{}</h2><table class=\"ranking\"><thead><tr><th>{}</th><th>{}</th>",
        escape(&l.f("bulletin.h.ranking", &[("level", &level)])),
        escape(l.t("report.col.rank")),
        escape(level),
    );
    if let Some(name) = parent_col {
        let _ = write!(o, "<th>{}</th>", escape(name));
    }
    for name in [
        l.t("bulletin.col.fire_points"),
        l.t("bulletin.col.change"),
        l.t("bulletin.col.season"),
        l.t("report.col.verified"),
        l.t("bulletin.col.remark"),
    ] {
        let _ = write!(o, "<th>{}</th>", escape(name));
    }
    o.push_str("</tr></thead><tbody>");
    for r in &t.rows {
        let _ = write!(
            o,
            "<tr class=\"{}\"><td>{}</td><td class=\"t\">{}</td>",
            r.status.as_str(),
            opt(r.rank),
            escape(&r.name)
        );
        if parent_col.is_some() {
            let _ = write!(
                o,
                "<td class=\"t\">{}</td>",
                escape(
                    r.parent_name
                        .as_deref()
                        .or(r.parent.as_deref())
                        .unwrap_or("")
                )
            );
        }
        let mut remark = Vec::new();
        if r.status != Status::Ranked {
            remark.push(status_name(l, r.status));
        }
        if r.first_fire_of_season {
            remark.push(l.t("bulletin.first_fire"));
        }
        let _ = write!(
            o,
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"t\">{}</td></tr>",
            r.fire_points_after_masks,
            signed(r.previous_day_change),
            r.season_fire_points,
            r.verified_burnings,
            escape(&remark.join(l.t("bulletin.list_sep"))),
        );
    }
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
        "</tbody></table><p class=\"caption\">{}</p><p class=\"note\">{}</p>\
         <p class=\"note\">{}</p><p class=\"note\">{}</p><p class=\"note\">{}</p>",
        escape(l.t("bulletin.caption")),
        escape(&l.f(
            "report.period",
            &[("date", &date), ("zone", &day_zone(l, t.utc_offset_h))]
        )),
        escape(l.t("report.note.order")),
        escape(&l.f(
            "report.note.not_observed",
            &[("pct", &share), ("n", &not_obs)]
        )),
        escape(&l.f("report.note.coverage_unknown", &[("n", &unknown)])),
    );

    // 二、the map.
    // Heading and map on one page (a tall map is scaled to fit it in print).
    let _ = write!(
        o,
        "<section class=\"mapbox\"><h2>{}</h2>{map_svg}</section>",
        escape(l.t("bulletin.h.map"))
    );

    // 三、verification figures.
    let _ = write!(
        o,
        "<h2>{}</h2><table class=\"handling\"><thead><tr><th>{}</th>",
        escape(l.t("bulletin.h.handling")),
        escape(level)
    );
    for name in [
        l.t("report.col.fire_points"),
        l.t("report.col.farmland"),
        l.t("report.col.after_masks"),
        l.t("report.col.clear"),
        l.t("report.col.events"),
        l.t("report.col.verified"),
        l.t("report.col.false_alarms"),
        l.t("report.col.median_min"),
        l.t("report.col.p90_min"),
        l.t("report.col.within_deadline"),
        l.t("report.col.per_1000ha"),
        l.t("report.col.week_on_week"),
    ] {
        let _ = write!(o, "<th>{}</th>", escape(name));
    }
    o.push_str("</tr></thead><tbody>");
    for r in &t.rows {
        let _ = write!(
            o,
            "<tr class=\"{st}\"><td class=\"t\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.name),
            r.fire_points,
            opt(r.fire_points_farmland),
            r.fire_points_after_masks,
            pct(r.clear_share),
            r.events,
            r.verified_burnings,
            pct(r.false_alarm_share),
            opt(r.verdict_median_min),
            opt(r.verdict_p90_min),
            pct(r.within_deadline_share),
            opt(r.per_1000ha),
            signed(r.week_on_week),
            st = r.status.as_str(),
        );
    }
    let _ = writeln!(
        o,
        "</tbody></table><p class=\"footer\">{}</p></body></html>",
        escape(&l.f(
            "bulletin.footer",
            &[("issuer", &issuer), ("date", &l.date(issue.issued))]
        ))
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rank::facts::{DayFacts, RankLevel, UnitHotspots};
    use crate::rank::table::{build, RankParams};

    fn issue() -> Issue {
        Issue {
            issuer: "XX市秸秆禁烧指挥部".into(),
            number: 7,
            issued: NaiveDate::from_ymd_opt(2024, 6, 10).unwrap(),
            season_from: NaiveDate::from_ymd_opt(2024, 5, 20).unwrap(),
            comment: Some("请各地<加强>夜间巡查。\n\n第二段。".into()),
        }
    }

    #[test]
    fn a_bulletin_with_masthead_number_map_rows_and_escaped_text() {
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
        let t = build(&facts, &[], &p);
        let html = report_html(&t, &issue(), "<svg class=\"map\"></svg>", Lang::ZhCn);
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"zh-CN\">"));
        assert!(html.contains("<svg class=\"map\"></svg>"));
        assert!(html.contains("<td class=\"t\">&lt;b&gt;</td>"));
        // One row in the ranking, one in the verification table.
        assert_eq!(html.matches("<tr class=").count(), 2);
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(
            html.contains("<div class=\"kind\">秸秆禁烧工作通报</div>"),
            "{html}"
        );
        assert!(html.contains("第7期") && html.contains("XX市秸秆禁烧指挥部"));
        assert!(html.contains("<h1>关于2024年6月9日各乡镇秸秆焚烧卫星火点情况的通报</h1>"));
        assert!(html.contains("<p class=\"comment\">请各地&lt;加强&gt;夜间巡查。</p>"));
        assert!(html.contains("<p class=\"comment\">第二段。</p>"));
        assert!(html.contains("@page{size:A4"));
        assert!(html.contains("<th>较上期增减</th>") && html.contains("<th>本季累计</th>"));
        let en = report_html(&t, &issue(), "", Lang::En);
        assert!(
            en.contains("<html lang=\"en\">") && en.contains("<th>season total</th>"),
            "{en}"
        );
    }

    #[test]
    fn top_units_and_changes_in_words() {
        let l = Lang::ZhCn;
        assert_eq!(change_words(l, 3), "增加3个");
        assert_eq!(change_words(l, -2), "减少2个");
        assert_eq!(change_words(l, 0), "持平");
        let h = |code: &str, n| UnitHotspots {
            code: code.into(),
            fire_points: n,
            farmland: n,
            after_masks: n,
        };
        let facts = DayFacts {
            hotspots: vec![h("A", 5), h("B", 2), h("C", 2), h("D", 2), h("E", 1)],
            ..DayFacts::default()
        };
        let t = build(&facts, &[], &RankParams::for_test(RankLevel::County));
        // Ties at the third place are all named.
        assert_eq!(
            top(&t, l, "县区"),
            "火点数居前的县区：A（5个）、B（2个）、C（2个）、D（2个）。"
        );
        let none = build(
            &DayFacts::default(),
            &[],
            &RankParams::for_test(RankLevel::County),
        );
        assert_eq!(
            top(&none, l, "县区"),
            "当日各参与排名的县区均未监测到火点。"
        );
    }
}
