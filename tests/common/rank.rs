//! A known store for ranking tests: four rectangular counties (two townships each) with a real
//! `Locator` (parcels and a power-plant mask), hotspots on the ranked day, a week earlier and
//! earlier in the season, one scene's cloud coverage, and tasks with verdicts.
//!
//! The day is 2024-06-09 (UTC+8). What the tables must show (see tests/rank_golden.rs):
//! - 410526 A县: 3 fire points (2 on farmland), after masks 3; clear 0.9; first fire of the
//!   season was on 05-25 (not today); a week ago 1 fire point → +2. Tasks: 20 min burning, 50 min
//!   no-fire, one overdue without verdict.
//! - 410527 B县: 4 fire points, one masked (power plant) → 3, tied with A at rank 1; clear 0.6;
//!   first fire of the season today; a week ago under cloud → week on week null. Task: 150 min,
//!   burned scar, after its 120 min deadline.
//! - 410621 C县: 1 fire point, no coverage row → coverage_unknown, rank 3; its 05-10 fire is
//!   before the season (05-20) so today's is the first of the season; no cropland area.
//! - 410727 D县: 1 fire point, clear 0.2 → not observed, listed last without a rank.
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use geo::{polygon, MultiPolygon};
use strawfire::detect::ObservationSummary;
use strawfire::dispatch::{Deadlines, TaskRules, Verdict};
use strawfire::fuse::{FuseParams, Placer};
use strawfire::hotspot::{Confidence, DayNight, Hotspot};
use strawfire::locate::{AreaFeature, Level, Locator, MaskSet, PointMask, UnitLayer};
use strawfire::rank::coverage::UnitCoverage;
use strawfire::store::tasks::{Actor, NewVerdict, TaskChange, TaskTarget};
use strawfire::store::{EventQuery, IngestBatch, Origin, Store};
use strawfire::verify::photo::{ExifFacts, PhotoPrint};

/// The ranked local day.
pub const RANK_DAY: &str = "2024-06-09";

/// "Now" for the tables (every deadline of the day has passed).
pub fn rank_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 11, 0, 0, 0).unwrap()
}

fn rect(w: f64, s: f64, e: f64, n: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![
        polygon![(x: w, y: s), (x: e, y: s), (x: e, y: n), (x: w, y: n)],
    ])
}

const COUNTIES: [(&str, &str, &str, Option<f64>); 4] = [
    ("410526", "A县", "410500", Some(50_000.0)),
    ("410527", "B县", "410500", Some(40_000.0)),
    ("410621", "C县", "410600", None),
    ("410727", "D县", "410700", Some(20_000.0)),
];

/// West edge of county `i` (0.5° wide, 35–36° N); townships `…100` south and `…101` north of 35.5.
fn west(i: usize) -> f64 {
    114.0 + 0.5 * i as f64
}

/// The locator of the known store.
pub fn rank_locator() -> Locator {
    let counties = COUNTIES
        .iter()
        .enumerate()
        .map(|(i, (code, name, parent, crop))| AreaFeature {
            code: code.to_string(),
            name: name.to_string(),
            parent: Some(parent.to_string()),
            cropland_ha: *crop,
            shape: rect(west(i), 35.0, west(i) + 0.5, 36.0),
        })
        .collect();
    let townships = COUNTIES
        .iter()
        .enumerate()
        .flat_map(|(i, (code, name, _, _))| {
            [("100", "南", 35.0, 35.5), ("101", "北", 35.5, 36.0)].map(|(suffix, half, s, n)| {
                AreaFeature {
                    code: format!("{code}{suffix}"),
                    name: format!("{name}{half}镇"),
                    parent: Some(code.to_string()),
                    cropland_ha: None,
                    shape: rect(west(i), s, west(i) + 0.5, n),
                }
            })
        })
        .collect();
    // Farmland: the south-west quarter of A and of B.
    let parcels = ["P-A", "P-B"]
        .iter()
        .enumerate()
        .map(|(i, id)| AreaFeature {
            code: id.to_string(),
            name: String::new(),
            parent: None,
            cropland_ha: None,
            shape: rect(west(i), 35.0, west(i) + 0.25, 35.5),
        })
        .collect();
    let masks = MaskSet::new(
        vec![PointMask {
            name: "plant".into(),
            reason: "power plant".into(),
            lon: 114.9,
            lat: 35.9,
            radius_m: 1000.0,
            priority: 0,
        }],
        Vec::new(),
    );
    Locator::new(
        vec![
            UnitLayer::new(Level::County, counties),
            UnitLayer::new(Level::Township, townships),
        ],
        Some(UnitLayer::new(Level::Parcel, parcels)),
        masks,
    )
}

/// A VIIRS hotspot at (lon, lat) and `time`.
pub fn hotspot(lon: f64, lat: f64, time: DateTime<Utc>) -> Hotspot {
    Hotspot {
        latitude: lat,
        longitude: lon,
        bt_mir_k: Some(340.0),
        bt_tir_k: Some(295.0),
        scan_km: Some(0.39),
        track_km: Some(0.36),
        acq_time: time,
        satellite: "N20".into(),
        instrument: "VIIRS".into(),
        confidence: Confidence::Nominal,
        version: "2.0NRT".into(),
        frp_mw: Some(5.0),
        daynight: DayNight::Day,
        fire_type: None,
        row: None,
        col: None,
    }
}

fn cov(unit: &str, level: &str, land: u64, clear: u64) -> UnitCoverage {
    UnitCoverage {
        unit: unit.into(),
        level: level.into(),
        land_pixels: land,
        clear_pixels: clear,
    }
}

/// Coverage of a county and both its townships with the same shares.
fn county_cov(code: &str, land: u64, clear: u64) -> Vec<UnitCoverage> {
    vec![
        cov(code, "county", 2 * land, 2 * clear),
        cov(&format!("{code}100"), "township", land, clear),
        cov(&format!("{code}101"), "township", land, clear),
    ]
}

pub fn scene(
    sha: &str,
    time: DateTime<Utc>,
    hotspots: Vec<Hotspot>,
    coverage: Vec<UnitCoverage>,
) -> IngestBatch {
    IngestBatch {
        origin: Origin::Scene {
            sha256: sha.into(),
            name: format!("{sha}.tif"),
            acq_time: Some(time),
            satellite: Some("N20".into()),
            sensor: Some("VIIRS".into()),
            model: "viirs-i".into(),
            shape: (100, 100),
            summary: ObservationSummary::default(),
            coverage,
        },
        source: "test".into(),
        hotspots,
        alerts: Vec::new(),
    }
}

/// Fills a store with the known facts: hotspots through the real ingest path, tasks and
/// verdicts through the store's own task calls (so the facts are the same on every backend).
/// Blocking (a PostgreSQL store's client): call it off the async executor.
pub fn fill_rank_store(store: &dyn Store, placer: &dyn Placer) {
    // 2024-06-09 13:00 local.
    let day = Utc.with_ymd_and_hms(2024, 6, 9, 5, 0, 0).unwrap();
    let p = FuseParams::default();
    let today = vec![
        // A: two on the parcel, one off it.
        hotspot(114.10, 35.10, day),
        hotspot(114.20, 35.30, day),
        hotspot(114.40, 35.80, day),
        // B: one on its parcel, two off, one at the power plant.
        hotspot(114.60, 35.20, day),
        hotspot(114.80, 35.60, day),
        hotspot(114.70, 35.80, day),
        hotspot(114.9001, 35.9001, day),
        // C.
        hotspot(115.20, 35.70, day),
        // D (under cloud).
        hotspot(115.70, 35.20, day),
    ];
    let mut coverage = county_cov("410526", 500, 450);
    coverage.extend(county_cov("410527", 500, 300));
    coverage.extend(county_cov("410727", 500, 100));
    store
        .ingest(&scene("day", day, today, coverage), &p, placer)
        .unwrap();
    // A week earlier: A had one fire; B was under cloud.
    let week_ago = day - Duration::days(7);
    store
        .ingest(
            &scene(
                "week-ago",
                week_ago,
                vec![hotspot(114.30, 35.40, week_ago)],
                [
                    county_cov("410526", 500, 500),
                    county_cov("410527", 500, 20),
                ]
                .concat(),
            ),
            &p,
            placer,
        )
        .unwrap();
    // Earlier fires: A on 05-25 (in season), C on 05-10 (before the season).
    let feed = IngestBatch {
        origin: Origin::Feed {
            sha256: "earlier".into(),
            name: "earlier.csv".into(),
            rows: 2,
        },
        source: "test".into(),
        hotspots: vec![
            hotspot(
                114.15,
                35.90,
                Utc.with_ymd_and_hms(2024, 5, 25, 5, 0, 0).unwrap(),
            ),
            hotspot(
                115.25,
                35.25,
                Utc.with_ymd_and_hms(2024, 5, 10, 5, 0, 0).unwrap(),
            ),
        ],
        alerts: Vec::new(),
    };
    store.ingest(&feed, &p, placer).unwrap();

    // Tasks of the day's events: (lon of the event, minutes to verdict, verdict).
    let created = day + Duration::minutes(10);
    let tasks: [(f64, Option<i64>, Option<Verdict>); 4] = [
        (114.10, Some(20), Some(Verdict::Burning)),
        (114.20, Some(50), Some(Verdict::NoFireOther)),
        (114.40, None, None),
        (114.60, Some(150), Some(Verdict::BurnedScar)),
    ];
    for (lon, minutes, verdict) in tasks {
        add_task(store, lon, day, created, minutes, verdict);
    }
}

/// The rules of the known store's tasks: 15/30/120 min deadlines whatever the priority.
pub fn rank_task_rules() -> TaskRules {
    let d = Deadlines {
        acknowledge_min: 15,
        on_site_min: 30,
        verdict_min: 120,
    };
    let mut rules = TaskRules::default();
    rules.policy.normal = d;
    rules.policy.high = d;
    rules
}

/// Adds a task, made at `created` by hand, for the stored event at `lon` first seen at `fire`,
/// and (when given) its verdict `minutes` after `created` (acknowledged and on site a minute
/// and two after `created`), all through the store's task calls. Blocking.
pub fn add_task(
    store: &dyn Store,
    lon: f64,
    fire: DateTime<Utc>,
    created: DateTime<Utc>,
    minutes: Option<i64>,
    verdict: Option<Verdict>,
) {
    let events = store
        .events(&EventQuery {
            from: Some(fire),
            to: Some(fire),
            ..EventQuery::default()
        })
        .unwrap();
    let e = events
        .iter()
        .find(|e| (e.event.lon - lon).abs() < 1e-6)
        .unwrap_or_else(|| panic!("no event at {lon} first seen {fire}: {events:?}"))
        .event
        .clone();
    let target = TaskTarget {
        unit: e.placement.township.clone().unwrap(),
        level: "township".into(),
        county: e.placement.county.clone(),
    };
    let rules = rank_task_rules();
    let who = Actor::system();
    let task = store
        .create_task_for(e.id.unwrap(), &target, "test", &who, &rules, created)
        .unwrap();
    let (Some(m), Some(v)) = (minutes, verdict) else {
        return;
    };
    store
        .change_task(
            task.id,
            TaskChange::Acknowledge,
            &who,
            created + Duration::minutes(1),
        )
        .unwrap();
    store
        .change_task(
            task.id,
            TaskChange::OnSite {
                lon: e.lon,
                lat: e.lat,
            },
            &who,
            created + Duration::minutes(2),
        )
        .unwrap();
    let at = created + Duration::minutes(m);
    let sha = format!("{:064x}", task.id);
    let verdict = NewVerdict {
        verdict: v,
        reported_at: at,
        lon: e.lon,
        lat: e.lat,
        note: None,
        photo: PhotoPrint {
            sha256: sha.clone(),
            dhash: 0x0123_4567_89ab_cdef_u64.rotate_left(task.id as u32 * 13),
            exif: ExifFacts::default(),
        },
        photo_path: format!("photos/{sha}.jpg"),
        photo_bytes: 1,
    };
    store
        .record_verdict(task.id, &verdict, &who, &rules, at)
        .unwrap();
}
