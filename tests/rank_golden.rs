//! Daily rankings on a known store (tests/common/rank.rs) against golden files: counts, rates,
//! ties, first fire of the season, week on week, not-observed and coverage-unknown units.
//! `UPDATE_GOLDEN=1 cargo test --test rank_golden` rewrites the files after a deliberate change.
//! The known store is built on SQLite and on PostgreSQL (`on_both_stores_blocking!`): both must
//! give the same tables, byte for byte.

mod common;

use std::path::PathBuf;
use strawfire::i18n::Lang;
use strawfire::rank::html::{report_html, Issue};

use chrono::NaiveDate;
use common::rank::{fill_rank_store, rank_locator, rank_now, RANK_DAY};
use common::stores::{Backend, TestStore};
use strawfire::config::RankConfig;
use strawfire::rank::csv::write_csv;
use strawfire::rank::{DailyRanking, RankLevel};
use strawfire::service::rankings::daily;

on_both_stores_blocking!(
    county_and_township_tables_match_their_golden_files,
    city_and_province_tables_roll_up_the_counties,
    county_table_says_what_the_known_store_holds,
    township_table_ranks_townships_with_their_county_as_parent,
    verified_burnings_count_on_the_fires_day,
    the_whole_county_bulletin_matches_its_golden_file,
);

fn golden(name: &str, got: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/rank")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create)",
            path.display()
        )
    });
    assert_eq!(
        got, want,
        "{name} differs from its golden file (UPDATE_GOLDEN=1 to accept)"
    );
}

fn tables_at(b: Backend, levels: &[RankLevel]) -> Vec<DailyRanking> {
    let store = TestStore::open(b);
    let placer = rank_locator();
    fill_rank_store(&*store, &placer);
    let date: NaiveDate = RANK_DAY.parse().unwrap();
    let cfg = RankConfig::default();
    levels
        .iter()
        .map(|&level| daily(&*store, &placer, &cfg, date, level, rank_now()).unwrap())
        .collect()
}

fn tables(b: Backend) -> (DailyRanking, DailyRanking) {
    let mut t = tables_at(b, &[RankLevel::County, RankLevel::Township]);
    let township = t.pop().unwrap();
    (t.pop().unwrap(), township)
}

fn csv_of(t: &DailyRanking) -> String {
    let mut b = Vec::new();
    write_csv(t, &mut b).unwrap();
    String::from_utf8(b).unwrap()
}

fn county_and_township_tables_match_their_golden_files(b: Backend) {
    let (county, township) = tables(b);
    golden(
        "county-2024-06-09.json",
        &(serde_json::to_string_pretty(&county).unwrap() + "\n"),
    );
    golden("county-2024-06-09.csv", &csv_of(&county));
    golden(
        "township-2024-06-09.json",
        &(serde_json::to_string_pretty(&township).unwrap() + "\n"),
    );
    golden("township-2024-06-09.csv", &csv_of(&township));
    // The bulletin (its words and tables; the map, tested in rank_api, report_pdf and
    // report_browser, is left out): Chinese by default, English on request.
    let map = "<svg class=\"map\"></svg>";
    let issue = Issue {
        issuer: "XX市秸秆禁烧指挥部".into(),
        number: 12,
        issued: "2024-06-10".parse().unwrap(),
        season_from: "2024-05-20".parse().unwrap(),
        comment: Some("请各县区对排名靠前的乡镇加强夜间巡查，发现火情立即处置。".into()),
    };
    golden(
        "county-2024-06-09.zh-CN.html",
        &report_html(&county, &issue, map, Lang::ZhCn),
    );
    golden(
        "township-2024-06-09.zh-CN.html",
        &report_html(&township, &issue, map, Lang::ZhCn),
    );
    golden(
        "county-2024-06-09.en.html",
        &report_html(
            &county,
            &Issue {
                issuer: "Command centre of XX city".into(),
                comment: None,
                ..issue.clone()
            },
            map,
            Lang::En,
        ),
    );
    let city = tables_at(b, &[RankLevel::City]).pop().unwrap();
    golden(
        "city-2024-06-09.json",
        &(serde_json::to_string_pretty(&city).unwrap() + "\n"),
    );
}

/// Cities (the county layer's parent field) and the province (adcode prefix) are the counties'
/// facts added up: counts, coverage per scene, tasks with their own times, earliest fire.
fn city_and_province_tables_roll_up_the_counties(b: Backend) {
    let t = tables_at(b, &[RankLevel::City, RankLevel::Province]);
    let got: Vec<_> = t[0]
        .rows
        .iter()
        .map(|r| {
            (
                r.code.as_str(),
                r.rank,
                r.status.as_str(),
                r.parent.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("410500", Some(1), "ranked", Some("410000")),
            ("410600", Some(2), "coverage_unknown", Some("410000")),
            ("410700", None, "not_observed", Some("410000")),
        ]
    );
    let c = &t[0].rows[0];
    assert_eq!(
        (
            c.fire_points,
            c.fire_points_farmland,
            c.fire_points_after_masks
        ),
        (7, Some(3), 6)
    );
    // A 450/500 and B 300/500 per township pair, in one scene: 1500/2000.
    assert_eq!(c.clear_share, Some(0.75));
    assert_eq!(c.false_alarm_share, Some(0.3333));
    assert_eq!(
        (c.verdict_median_min, c.verdict_p90_min),
        (Some(50.0), Some(130.0))
    );
    assert_eq!(c.within_deadline_share, Some(0.5));
    assert_eq!(c.per_1000ha, Some(0.0667));
    assert!(!c.first_fire_of_season);
    // A week ago: A 1000/1000 and B 40/1000 → 0.52, observed: 7 − 1.
    assert_eq!(c.week_on_week, Some(6));
    let p = &t[1].rows;
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0].code.as_str(), p[0].fire_points_after_masks, p[0].rank),
        ("410000", 8, Some(1))
    );
}

/// The facts the golden files must hold, spelled out (so a wrong golden file cannot be accepted
/// by accident).
fn county_table_says_what_the_known_store_holds(b: Backend) {
    let (t, _) = tables(b);
    let got: Vec<_> = t
        .rows
        .iter()
        .map(|r| (r.code.as_str(), r.rank, r.status.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("410526", Some(1), "ranked"),
            ("410527", Some(1), "ranked"),
            ("410621", Some(3), "coverage_unknown"),
            ("410727", None, "not_observed"),
        ]
    );
    let row = |c: &str| t.rows.iter().find(|r| r.code == c).unwrap();
    let a = row("410526");
    assert_eq!(
        (
            a.fire_points,
            a.fire_points_farmland,
            a.fire_points_after_masks
        ),
        (3, Some(2), 3)
    );
    assert_eq!((a.events, a.verified_burnings), (3, 1));
    assert_eq!(a.false_alarm_share, Some(0.5));
    assert_eq!(
        (a.verdict_median_min, a.verdict_p90_min),
        (Some(35.0), Some(47.0))
    );
    // Two of three in time (the third is overdue without a verdict).
    assert_eq!(a.within_deadline_share, Some(0.6667));
    assert_eq!(a.per_1000ha, Some(0.06));
    assert_eq!(a.clear_share, Some(0.9));
    assert!(!a.first_fire_of_season);
    assert_eq!(a.week_on_week, Some(2));
    assert_eq!(a.parent.as_deref(), Some("410500"));
    assert_eq!(a.name, "A县");
    let b = row("410527");
    assert_eq!(
        (
            b.fire_points,
            b.fire_points_farmland,
            b.fire_points_after_masks
        ),
        (4, Some(1), 3)
    );
    assert_eq!(b.within_deadline_share, Some(0.0));
    assert_eq!(b.false_alarm_share, Some(0.0));
    assert!(b.first_fire_of_season);
    assert_eq!(b.week_on_week, None);
    assert_eq!(b.clear_share, Some(0.6));
    let c = row("410621");
    assert_eq!((c.clear_share, c.per_1000ha), (None, None));
    assert!(c.first_fire_of_season);
    assert_eq!((c.false_alarm_share, c.verdict_median_min), (None, None));
    let d = row("410727");
    assert_eq!((d.fire_points, d.clear_share), (1, Some(0.2)));
}

fn township_table_ranks_townships_with_their_county_as_parent(b: Backend) {
    let (_, t) = tables(b);
    assert_eq!(t.rows.len(), 8);
    let first = &t.rows[0];
    // A's south township and B's north one (three, one masked) have 2 after masks: a tie.
    assert_eq!(first.parent.as_deref(), Some(&first.code[..6]));
    let ranks: Vec<_> = t.rows.iter().map(|r| (r.code.as_str(), r.rank)).collect();
    assert_eq!(
        ranks,
        vec![
            ("410526100", Some(1)),
            ("410527101", Some(1)),
            ("410526101", Some(3)),
            ("410527100", Some(3)),
            ("410621101", Some(3)),
            ("410621100", Some(6)),
            ("410727100", None),
            ("410727101", None),
        ]
    );
}

/// A burning verified after midnight counts on the day of its fire, not on the day of the
/// verdict or of the task: a fire at 23:50 local, its scene processed and the task created at
/// 01:00 the next day, verified burning at 02:00.
fn verified_burnings_count_on_the_fires_day(b: Backend) {
    use chrono::{Duration, TimeZone, Utc};
    use common::rank::{add_task, hotspot, scene};
    use strawfire::dispatch::Verdict;
    use strawfire::fuse::FuseParams;

    let store = TestStore::open(b);
    let placer = rank_locator();
    fill_rank_store(&*store, &placer);
    // 2024-06-09 23:50 local (UTC+8), in A县 (410526).
    let fire = Utc.with_ymd_and_hms(2024, 6, 9, 15, 50, 0).unwrap();
    store
        .ingest(
            &scene("late", fire, vec![hotspot(114.30, 35.20, fire)], vec![]),
            &FuseParams::default(),
            &placer,
        )
        .unwrap();
    let created = fire + Duration::minutes(70);
    add_task(
        &*store,
        114.30,
        fire,
        created,
        Some(60),
        Some(Verdict::Burning),
    );

    let cfg = RankConfig::default();
    let a = |date: &str| {
        let t = daily(
            &*store,
            &placer,
            &cfg,
            date.parse().unwrap(),
            RankLevel::County,
            rank_now(),
        )
        .unwrap();
        let r = t.rows.into_iter().find(|r| r.code == "410526").unwrap();
        (r.fire_points, r.verified_burnings)
    };
    // The known store's one burning of A on 06-09, and now the late fire's.
    assert_eq!(a("2024-06-09"), (4, 2));
    // The task and the verdict fall on 06-10, the fire does not.
    assert_eq!(a("2024-06-10"), (0, 0));
}

/// The whole bulletin as the service renders it from the known store, map included (unit names,
/// hotspots, legend, scale bar), numbered on its first rendering: 第1期, issued on "now".
fn the_whole_county_bulletin_matches_its_golden_file(b: Backend) {
    use strawfire::config::ReportConfig;
    use strawfire::service::rankings::{report_html as bulletin, BulletinOptions};
    let store = TestStore::open(b);
    let placer = rank_locator();
    fill_rank_store(&*store, &placer);
    let cfg = RankConfig::default();
    let date: NaiveDate = RANK_DAY.parse().unwrap();
    let t = daily(&*store, &placer, &cfg, date, RankLevel::County, rank_now()).unwrap();
    let report = ReportConfig {
        issuer: "XX市秸秆禁烧指挥部".into(),
        comment: None,
        chromium: None,
    };
    let opts = BulletinOptions {
        report: &report,
        comment: Some("请各县区对排名靠前的乡镇加强夜间巡查。"),
        lang: Lang::ZhCn,
        now: rank_now(),
    };
    let html = bulletin(&*store, &placer, &cfg, &t, &opts).unwrap();
    assert_eq!(html.matches("<text class=\"label\"").count(), 4);
    golden("county-2024-06-09.bulletin.zh-CN.html", &html);
}
