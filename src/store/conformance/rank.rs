//! Rankings on both stores: the day's facts per unit (hotspots on farmland and after masks,
//! events, tasks without the cancelled, coverage, first fire of the season, the other windows),
//! the report map's points, and the bulletins' issue numbers, also numbered from several
//! threads at once.

use super::*;
use crate::dispatch::TaskRules;
use crate::rank::facts::{CoverageFact, RankLevel, RankQuery, UnitHotspots};
use crate::store::tasks::{Actor, TaskQuery};
use chrono::NaiveDate;

both_stores!(
    the_days_facts_are_counted_per_unit_in_each_window,
    map_points_are_the_windows_hotspots_oldest_first,
    a_bulletin_keeps_its_number_and_numbers_follow_in_a_season,
);

/// `Halves`, with a parcel south of 35.5° and an industrial mask north of 36°.
struct Farms;

impl Placer for Farms {
    fn place(&self, lon: f64, lat: f64, footprint_m: f64) -> Placement {
        Placement {
            parcel: (lat < 35.5).then(|| "P1".to_string()),
            mask: (lat > 36.0).then(|| "industrial: plant".to_string()),
            ..Halves.place(lon, lat, footprint_m)
        }
    }
}

fn query(level: RankLevel) -> RankQuery {
    let day = chrono::Duration::days(1);
    RankQuery {
        level,
        date: t0().date_naive(),
        day: (t0(), t0() + day),
        week_ago: (t0() - day * 7, t0() - day * 6),
        prev_day: (t0() - day, t0()),
        season_from: t0() - day * 30,
    }
}

/// A scene of the day (coverage of both counties; three fires west, one of them masked, one
/// east) and a feed with a fire of the day before (west, on a parcel); ingested with dispatch.
fn a_day_of_fires(store: &dyn Store) {
    let t = t0() + chrono::Duration::hours(10);
    let now = t + chrono::Duration::minutes(30);
    let rules = TaskRules::default();
    let p = FuseParams::default();
    let cover = |unit: &str, land, clear| UnitCoverage {
        unit: unit.into(),
        level: "county".into(),
        land_pixels: land,
        clear_pixels: clear,
    };
    let scene = IngestBatch {
        origin: Origin::Scene {
            sha256: "day".into(),
            name: "VNP.day.tif".into(),
            acq_time: Some(t),
            satellite: Some("N20".into()),
            sensor: Some("VIIRS".into()),
            model: "viirs-375m".into(),
            shape: (100, 200),
            summary: ObservationSummary::default(),
            coverage: vec![cover("410526", 90, 60), cover("410527", 80, 40)],
        },
        source: "scan".into(),
        hotspots: vec![
            hotspot(114.2, 35.1, t, 5.0),
            hotspot(114.25, 35.3, t, 5.0),
            hotspot(114.2, 36.5, t, 5.0),
            hotspot(114.8, 35.8, t, 5.0),
        ],
        alerts: Vec::new(),
    };
    store
        .ingest_dispatched(&scene, &p, &Farms, &rules, now)
        .unwrap();
    let before = t0() - chrono::Duration::hours(14);
    store
        .ingest_dispatched(
            &feed("prev", vec![hotspot(114.3, 34.6, before, 3.0)]),
            &p,
            &Farms,
            &rules,
            now,
        )
        .unwrap();
}

fn the_days_facts_are_counted_per_unit_in_each_window(b: &Backend) {
    let store = b.store();
    a_day_of_fires(store);
    let tasks = store.tasks(&TaskQuery::default()).unwrap();
    assert!(tasks.len() >= 3, "{} tasks", tasks.len());
    // A cancelled task is no one's to verify: left out.
    let west = tasks
        .iter()
        .find(|t| t.county.as_deref() == Some("410526"))
        .unwrap();
    let admin = Actor {
        id: "token:0123456789ab".into(),
        role: "admin".into(),
    };
    store
        .cancel_task(west.id, "known", &admin, t0() + chrono::Duration::hours(11))
        .unwrap();

    let f = store.rank_facts(&query(RankLevel::County)).unwrap();
    let u = |code: &str, fire_points, farmland, after_masks| UnitHotspots {
        code: code.into(),
        fire_points,
        farmland,
        after_masks,
    };
    assert_eq!(
        f.hotspots,
        [u("410526", 3, 2, 2), u("410527", 1, 0, 1)],
        "per county: all, on a parcel, not masked"
    );
    assert_eq!(f.events, [("410526".into(), 3), ("410527".into(), 1)]);
    assert_eq!(f.tasks.len(), tasks.len() - 1);
    assert_eq!(
        f.tasks.iter().filter(|t| t.code == "410526").count(),
        tasks
            .iter()
            .filter(|t| t.county.as_deref() == Some("410526"))
            .count()
            - 1
    );
    assert!(f.tasks.iter().all(|t| t.verified_at.is_none()
        && t.verdict.is_none()
        && t.created_at == t0() + chrono::Duration::minutes(630)));
    let scene_id = f.coverage[0].scene_id;
    assert_eq!(
        f.coverage,
        [
            CoverageFact {
                scene_id,
                code: "410526".into(),
                land_pixels: 90,
                clear_pixels: 60,
            },
            CoverageFact {
                scene_id,
                code: "410527".into(),
                land_pixels: 80,
                clear_pixels: 40,
            },
        ]
    );
    assert_eq!(
        f.first_fire,
        [
            ("410526".into(), t0() - chrono::Duration::hours(14)),
            ("410527".into(), t0() + chrono::Duration::hours(10)),
        ],
        "the first unmasked fire of the season, up to the day's end"
    );
    assert_eq!(f.prev_day_hotspots, [u("410526", 1, 1, 1)]);
    assert!(f.prev_day_coverage.is_empty());
    assert!(f.week_ago_hotspots.is_empty() && f.week_ago_coverage.is_empty());
    assert_eq!(
        f.season_hotspots,
        [u("410526", 4, 3, 3), u("410527", 1, 0, 1)]
    );

    let f = store.rank_facts(&query(RankLevel::Township)).unwrap();
    assert_eq!(
        f.hotspots,
        [u("410526100", 3, 2, 2), u("410527100", 1, 0, 1)]
    );
    assert!(f.coverage.is_empty(), "coverage was stored per county");
}

fn map_points_are_the_windows_hotspots_oldest_first(b: &Backend) {
    let store = b.store();
    a_day_of_fires(store);
    let (from, to) = query(RankLevel::County).day;
    let points = store.map_points(from, to, 10).unwrap();
    assert_eq!(points.len(), 4);
    assert_eq!(points.iter().filter(|p| p.masked).count(), 1);
    assert!(points.iter().any(|p| p.masked && p.lat == 36.5));
    assert_eq!(store.map_points(from, to, 2).unwrap().len(), 2);
    let all = store
        .map_points(t0() - chrono::Duration::days(2), to, 10)
        .unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[0].lat, 34.6, "oldest first");
}

fn a_bulletin_keeps_its_number_and_numbers_follow_in_a_season(b: &Backend) {
    let store = b.store();
    let season = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
    let day = |d| NaiveDate::from_ymd_opt(2024, 6, d).unwrap();
    let at = |h| t0() + chrono::Duration::hours(h);
    let first = store
        .bulletin_issue(season, "county", day(8), at(1))
        .unwrap();
    assert_eq!((first.number, first.issued_at), (1, at(1)));
    let second = store
        .bulletin_issue(season, "county", day(9), at(2))
        .unwrap();
    assert_eq!(second.number, 2);
    // Rendered again later: the same number and first issue time.
    assert_eq!(
        store
            .bulletin_issue(season, "county", day(8), at(5))
            .unwrap(),
        first
    );
    // Another level, another season: numbered from 1.
    assert_eq!(
        store
            .bulletin_issue(season, "township", day(9), at(3))
            .unwrap()
            .number,
        1
    );
    let next = NaiveDate::from_ymd_opt(2025, 5, 1).unwrap();
    assert_eq!(
        store
            .bulletin_issue(next, "county", day(9), at(3))
            .unwrap()
            .number,
        1
    );
    // Six first renders at once (several threads; on PostgreSQL several connections, as
    // several nodes): six numbers, one each.
    let mut numbers: Vec<u32> = std::thread::scope(|s| {
        let renders: Vec<_> = (10..16)
            .map(|d| s.spawn(move || store.bulletin_issue(season, "county", day(d), at(4))))
            .collect();
        renders
            .into_iter()
            .map(|r| r.join().unwrap().unwrap().number)
            .collect()
    });
    numbers.sort();
    assert_eq!(numbers, [3, 4, 5, 6, 7, 8]);
}
