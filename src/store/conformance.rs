//! One test suite, both stores (#19): every test here is a function of a [`Backend`], run by
//! [`both_stores!`] once on a fresh SQLite file and once on PostgreSQL in a schema of its own
//! (`postgres::testing`; skipped without `STRAWFIRE_TEST_PG_URL`, failed without it under
//! `CI=true`). They go through the [`Store`] trait only, so they say what any backend must do.

use chrono::{DateTime, TimeZone, Utc};
use rand::{Rng, SeedableRng};

use super::postgres::PgStore;
use super::sqlite::SqliteStore;
use super::*;
use crate::detect::ObservationSummary;
use crate::fuse::{fuse, FireEvent, FuseParams, NoPlacer, Placement, Placer, Sighting, SourceKind};
use crate::hotspot::Hotspot;
use crate::rank::coverage::UnitCoverage;

/// The store under test, and how to reach below the trait where a test must.
pub(crate) enum Backend<'a> {
    Sqlite(&'a SqliteStore),
    Postgres(&'a PgStore),
}

impl Backend<'_> {
    fn store(&self) -> &dyn Store {
        match self {
            Backend::Sqlite(s) => *s,
            Backend::Postgres(s) => *s,
        }
    }

    /// Rows of a table (for tables no trait method counts, like the outbox).
    fn count(&self, table: &str) -> i64 {
        match self {
            Backend::Sqlite(s) => s.count_for_test(table),
            Backend::Postgres(s) => s.count_for_test(table),
        }
    }

    /// Statements both dialects read alike (tests write rows no trait method writes yet).
    fn exec(&self, sql: &str) {
        match self {
            Backend::Sqlite(s) => s.execute_for_test(sql),
            Backend::Postgres(s) => s.execute_for_test(sql),
        }
    }

    /// The first column of a query's rows, as text.
    fn texts(&self, sql: &str) -> Vec<String> {
        match self {
            Backend::Sqlite(s) => s.texts_for_test(sql),
            Backend::Postgres(s) => s.texts_for_test(sql),
        }
    }

    /// Whether a statement succeeds.
    fn try_execute(&self, sql: &str) -> bool {
        match self {
            Backend::Sqlite(s) => s.try_execute_for_test(sql),
            Backend::Postgres(s) => s.try_execute_for_test(sql),
        }
    }

    /// The outbox as `kind unit`, oldest first.
    fn outbox(&self) -> Vec<String> {
        self.texts("SELECT kind || ' ' || unit FROM outbox ORDER BY id")
    }

    /// A constraint other than a key: hotspots north of 80° are refused.
    fn refuse_far_north(&self) {
        match self {
            Backend::Sqlite(s) => s.execute_for_test(
                "CREATE TRIGGER no_far_north BEFORE INSERT ON hotspots WHEN NEW.lat > 80
                 BEGIN SELECT RAISE(ABORT, 'too far north'); END;",
            ),
            Backend::Postgres(s) => s.execute_for_test(
                "ALTER TABLE hotspots ADD CONSTRAINT no_far_north CHECK (lat <= 80)",
            ),
        }
    }
}

/// `#[test]`s `sqlite::NAME` and `postgres::NAME` for each function `NAME(&Backend)` of this
/// module.
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let s = super::SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
                    super::$name(&super::Backend::Sqlite(&s));
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    let Some(pg) = crate::store::postgres::testing::store(stringify!($name))
                    else {
                        return;
                    };
                    super::$name(&super::Backend::Postgres(&pg.store));
                }
            )*
        }
    };
}

// The other traits' tests, one file each under `conformance/`.
mod deliveries;
mod dispatch_batch;
mod operator;
mod rank;
mod task_changes;

both_stores!(
    unknown_measurements_are_stored_and_other_failures_name_the_row,
    stored_events_match_the_pure_fuse_oracle,
    a_scene_is_stored_once_by_content_hash,
    keyset_pages_walk_every_row_once_in_order,
    filters_select_by_scope_box_unit_source_and_confidence,
    alerts_fuse_with_hotspots_into_one_event,
    concurrent_batches_make_one_event_per_place,
    dispatched_ingest_gives_each_event_one_task_with_audit_and_notice,
    a_write_outside_the_writers_scope_stores_nothing,
);

fn hotspot(lon: f64, lat: f64, t: DateTime<Utc>, frp: f64) -> Hotspot {
    Hotspot {
        frp_mw: Some(frp),
        ..Hotspot::test_viirs(lon, lat, t)
    }
}

fn feed(sha: &str, hs: Vec<Hotspot>) -> IngestBatch {
    IngestBatch {
        origin: Origin::Feed {
            sha256: sha.into(),
            name: format!("{sha}.csv"),
            rows: hs.len(),
        },
        source: "test".into(),
        hotspots: hs,
        alerts: Vec::new(),
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 8, 0, 0, 0).unwrap()
}

/// Places by longitude: west of 114.5 in county 410526 (township 410526100), east in 410527.
struct Halves;

impl Placer for Halves {
    fn place(&self, lon: f64, _lat: f64, _footprint_m: f64) -> Placement {
        let (county, township) = if lon < 114.5 {
            ("410526", "410526100")
        } else {
            ("410527", "410527100")
        };
        Placement {
            county: Some(county.into()),
            township: Some(township.into()),
            ..Placement::default()
        }
    }
}

/// A row with unknown measurements is stored with NULLs and read back as `None`; only a
/// second row with its key is a duplicate; a row refused by any other constraint fails the
/// whole batch naming the row, and nothing of the batch is written.
fn unknown_measurements_are_stored_and_other_failures_name_the_row(b: &Backend) {
    let store = b.store();
    let t = Utc.with_ymd_and_hms(2024, 6, 8, 18, 6, 0).unwrap();
    let unknown = Hotspot {
        bt_mir_k: None,
        bt_tir_k: None,
        scan_km: None,
        track_km: None,
        frp_mw: None,
        ..Hotspot::test_viirs(114.5, 35.5, t)
    };
    let batch = |sha: &str, hs: Vec<Hotspot>| IngestBatch {
        origin: Origin::Feed {
            sha256: sha.into(),
            name: "f.csv".into(),
            rows: hs.len(),
        },
        source: "test".into(),
        hotspots: hs,
        alerts: Vec::new(),
    };
    let p = FuseParams::default();
    let r = store
        .ingest(&batch("a", vec![unknown.clone()]), &p, &NoPlacer)
        .unwrap();
    assert_eq!(
        (r.hotspots_new, r.hotspots_duplicate, r.events_new),
        (1, 0, 1)
    );
    let back = store.hotspots(&HotspotQuery::default()).unwrap();
    assert_eq!(back[0].hotspot, unknown);
    let ev = store.events(&EventQuery::default()).unwrap();
    assert_eq!(ev[0].event.max_frp_mw, None);
    assert_eq!(ev[0].event.footprint_m, 375.0);
    let r = store
        .ingest(&batch("b", vec![unknown.clone()]), &p, &NoPlacer)
        .unwrap();
    assert_eq!((r.hotspots_new, r.hotspots_duplicate), (0, 1));

    // Any other constraint: here one added for the test stands in for one.
    b.refuse_far_north();
    let good = Hotspot::test_viirs(114.6, 35.6, t);
    let bad = Hotspot::test_viirs(114.6, 85.0, t);
    let err = store
        .ingest(&batch("c", vec![good, bad]), &p, &NoPlacer)
        .unwrap_err();
    match &err {
        StoreError::Row { what, index, .. } => assert_eq!((*what, *index), ("hotspot", 2)),
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("hotspot 2 of the batch"), "{err}");
    let c = store.counts().unwrap();
    assert_eq!(
        (c.hotspots, c.feeds),
        (1, 2),
        "nothing of the failed batch is written"
    );
}

/// The store's per-sighting candidate search gives the events of the pure fuse over all
/// events (the brute-force oracle), batch after batch, on seeded random fires.
fn stored_events_match_the_pure_fuse_oracle(b: &Backend) {
    let store = b.store();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let t0 = Utc.with_ymd_and_hms(2024, 6, 8, 0, 0, 0).unwrap();
    let p = FuseParams::default();
    let mut oracle: Vec<FireEvent> = Vec::new();
    for b in 0..6 {
        // Dense enough that many sightings join events of earlier batches.
        let hs: Vec<Hotspot> = (0..150)
            .map(|_| {
                hotspot(
                    rng.gen_range(114.0..114.1),
                    rng.gen_range(35.0..35.1),
                    t0 + chrono::Duration::minutes(rng.gen_range(0..36 * 60)),
                    rng.gen_range(1.0..20.0),
                )
            })
            .collect();
        for h in &hs {
            let s = Sighting {
                kind: SourceKind::Satellite,
                source: "VIIRS/N20".into(),
                lon: h.longitude,
                lat: h.latitude,
                time: h.acq_time,
                footprint_m: 390.0,
                frp_mw: h.frp_mw,
                confidence: 0.6,
            };
            fuse(&mut oracle, &s, &p, &NoPlacer);
        }
        let batch = IngestBatch {
            origin: Origin::Feed {
                sha256: format!("b{b}"),
                name: "b.csv".into(),
                rows: hs.len(),
            },
            source: "test".into(),
            hotspots: hs,
            alerts: Vec::new(),
        };
        store.ingest(&batch, &p, &NoPlacer).unwrap();
    }
    let stored = store.events(&EventQuery::default()).unwrap();
    let key = |e: &FireEvent| {
        (
            e.sightings,
            e.first_seen,
            e.last_seen,
            (e.lat * 1e6).round() as i64,
            (e.lon * 1e6).round() as i64,
        )
    };
    let mut a: Vec<_> = stored.iter().map(|e| key(&e.event)).collect();
    let mut b: Vec<_> = oracle.iter().map(key).collect();
    a.sort();
    b.sort();
    assert!(
        oracle.len() < 900 && oracle.len() > 50,
        "{} events",
        oracle.len()
    );
    assert_eq!(a, b);
    assert_eq!(store.counts().unwrap().hotspots, 900);
}

/// A scene is stored once by its content hash: a second ingest of the same bytes changes
/// nothing and says so; its summary and coverage rows go in with it; `knows` sees it.
fn a_scene_is_stored_once_by_content_hash(b: &Backend) {
    let store = b.store();
    let t = t0() + chrono::Duration::hours(18);
    let scene = IngestBatch {
        origin: Origin::Scene {
            sha256: "abc123".into(),
            name: "VNP.tif".into(),
            acq_time: Some(t),
            satellite: Some("N20".into()),
            sensor: Some("VIIRS".into()),
            model: "viirs-375m".into(),
            shape: (100, 200),
            summary: ObservationSummary::default(),
            coverage: vec![UnitCoverage {
                unit: "410526".into(),
                level: "county".into(),
                land_pixels: 90,
                clear_pixels: 60,
            }],
        },
        source: "scan".into(),
        hotspots: vec![hotspot(114.3, 35.5, t, 5.0), hotspot(114.9, 35.5, t, 7.0)],
        alerts: Vec::new(),
    };
    assert!(!store.knows("abc123").unwrap());
    let r = store
        .ingest(&scene, &FuseParams::default(), &Halves)
        .unwrap();
    assert!(!r.already_ingested);
    assert_eq!((r.hotspots_new, r.events_new), (2, 2));
    assert_eq!(r.stored_hotspots.len(), 2);
    assert_eq!(r.event_ids.len(), 2);
    assert!(store.knows("abc123").unwrap());
    let again = store
        .ingest(&scene, &FuseParams::default(), &Halves)
        .unwrap();
    assert!(again.already_ingested);
    assert_eq!((again.hotspots_new, again.events_new), (0, 0));
    let c = store.counts().unwrap();
    assert_eq!(
        (c.scenes, c.feeds, c.hotspots, c.events, c.alerts),
        (1, 0, 2, 2, 0)
    );
    let hs = store.hotspots(&HotspotQuery::default()).unwrap();
    assert!(hs
        .iter()
        .all(|h| h.origin == "scene" && h.event_id.is_some()));
    let u = store.unit("410526100").unwrap();
    assert_eq!(u.level.as_deref(), Some("township"));
    assert_eq!(u.county.as_deref(), Some("410526"));
    assert_eq!((u.hotspots, u.events), (1, 1));
    assert_eq!(u.last_seen, Some(t));
    assert_eq!(store.unit("999999").unwrap().level, None);
}

/// Walking the hotspots and events page by page with keysets returns every row once, in
/// (time, id) order, also when many rows share a time.
fn keyset_pages_walk_every_row_once_in_order(b: &Backend) {
    let store = b.store();
    let hs: Vec<Hotspot> = (0..57)
        .map(|i| {
            // Seven rows per minute, far apart so each is its own event.
            let t = t0() + chrono::Duration::minutes(i / 7);
            hotspot(100.0 + i as f64 * 0.2, 30.0, t, 1.0)
        })
        .collect();
    store
        .ingest(&feed("k", hs), &FuseParams::default(), &NoPlacer)
        .unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .hotspots(&HotspotQuery {
                limit: 10,
                after,
                ..HotspotQuery::default()
            })
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(Keyset {
            at: last.hotspot.acq_time.timestamp(),
            id: last.id,
        });
        seen.extend(page.iter().map(|h| (h.hotspot.acq_time, h.id)));
    }
    assert_eq!(seen.len(), 57);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");

    for newest_first in [false, true] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .events(&EventQuery {
                    limit: 8,
                    after,
                    newest_first,
                    ..EventQuery::default()
                })
                .unwrap();
            let Some(last) = page.last() else { break };
            after = Some(Keyset {
                at: last.event.first_seen.timestamp(),
                id: last.event.id.unwrap(),
            });
            seen.extend(
                page.iter()
                    .map(|e| (e.event.first_seen, e.event.id.unwrap())),
            );
        }
        assert_eq!(seen.len(), 57, "newest_first {newest_first}");
        if newest_first {
            seen.reverse();
        }
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    }
}

/// Each filter of the queries selects what it says, on both backends alike.
fn filters_select_by_scope_box_unit_source_and_confidence(b: &Backend) {
    let store = b.store();
    let t = t0();
    let mut modis = hotspot(114.9, 35.0, t + chrono::Duration::hours(2), 3.0);
    modis.instrument = "MODIS".into();
    modis.satellite = "T".into();
    modis.confidence = crate::hotspot::Confidence::Percent(90);
    let hs = vec![
        hotspot(114.1, 35.0, t, 1.0),
        hotspot(114.2, 35.2, t + chrono::Duration::hours(1), 2.0),
        modis,
    ];
    store
        .ingest(&feed("f", hs), &FuseParams::default(), &Halves)
        .unwrap();
    let ids = |q: HotspotQuery| -> Vec<f64> {
        store
            .hotspots(&q)
            .unwrap()
            .iter()
            .map(|h| h.hotspot.longitude)
            .collect()
    };
    let all = HotspotQuery::default;
    assert_eq!(ids(all()).len(), 3);
    assert_eq!(
        ids(HotspotQuery {
            scope: Scope::County("410527".into()),
            ..all()
        }),
        vec![114.9]
    );
    assert_eq!(
        ids(HotspotQuery {
            scope: Scope::Township("410526100".into()),
            ..all()
        }),
        vec![114.1, 114.2]
    );
    assert_eq!(
        ids(HotspotQuery {
            bbox: Some([114.15, 35.1, 114.25, 35.3]),
            ..all()
        }),
        vec![114.2]
    );
    assert_eq!(
        ids(HotspotQuery {
            unit: Some("410527100".into()),
            ..all()
        }),
        vec![114.9]
    );
    for source in ["modis", "T", "MODIS/T", "feed"] {
        let n = ids(HotspotQuery {
            source: Some(source.into()),
            ..all()
        })
        .len();
        assert_eq!(n, if source == "feed" { 3 } else { 1 }, "source {source}");
    }
    assert_eq!(
        ids(HotspotQuery {
            from: Some(t + chrono::Duration::minutes(30)),
            to: Some(t + chrono::Duration::minutes(90)),
            ..all()
        }),
        vec![114.2]
    );
    assert_eq!(
        ids(HotspotQuery {
            min_confidence: Some(crate::hotspot::Confidence::Percent(85)),
            ..all()
        }),
        vec![114.9]
    );
    let ev = |q: EventQuery| -> Vec<f64> {
        store
            .events(&q)
            .unwrap()
            .iter()
            .map(|e| e.event.lon)
            .collect()
    };
    assert_eq!(ev(EventQuery::default()).len(), 3);
    assert_eq!(
        ev(EventQuery {
            source: Some("MODIS/T".into()),
            ..EventQuery::default()
        }),
        vec![114.9]
    );
    assert_eq!(
        ev(EventQuery {
            source: Some("satellite".into()),
            ..EventQuery::default()
        })
        .len(),
        3
    );
    assert_eq!(
        ev(EventQuery {
            scope: Scope::County("410526".into()),
            newest_first: true,
            ..EventQuery::default()
        }),
        vec![114.2, 114.1]
    );
    let first = store.events(&EventQuery::default()).unwrap()[0].clone();
    let one = store
        .events(&EventQuery {
            id: first.event.id,
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(one, vec![first.clone()]);
    assert_eq!(first.task, None);
    assert_eq!(
        ev(EventQuery {
            task: Some(TaskFilter::None),
            ..EventQuery::default()
        })
        .len(),
        3
    );
    assert!(ev(EventQuery {
        task: Some(TaskFilter::Any),
        ..EventQuery::default()
    })
    .is_empty());
}

/// A camera alert near a satellite hotspot joins its event; the alert is a duplicate the
/// second time by its key; `alerts_of_event` reads it back.
fn alerts_fuse_with_hotspots_into_one_event(b: &Backend) {
    let store = b.store();
    let t = t0() + chrono::Duration::hours(6);
    store
        .ingest(
            &feed("h", vec![hotspot(114.3, 35.3, t, 4.0)]),
            &FuseParams::default(),
            &Halves,
        )
        .unwrap();
    let alert = SensorAlert {
        sensor_id: "cam-7".into(),
        time: t + chrono::Duration::minutes(20),
        lon: 114.3005,
        lat: 35.3003,
        footprint_m: 100.0,
        kind: AlertKind::Smoke,
        confidence: 0.7,
        image_url: Some("http://cam/7.jpg".into()),
    };
    let batch = IngestBatch {
        origin: Origin::Alerts,
        source: "camera".into(),
        hotspots: Vec::new(),
        alerts: vec![alert.clone()],
    };
    let r = store
        .ingest(&batch, &FuseParams::default(), &Halves)
        .unwrap();
    assert_eq!((r.alerts_new, r.events_new, r.events_updated), (1, 0, 1));
    let r = store
        .ingest(&batch, &FuseParams::default(), &Halves)
        .unwrap();
    assert_eq!((r.alerts_new, r.alerts_duplicate), (0, 1));
    let events = store.events(&EventQuery::default()).unwrap();
    assert_eq!(events.len(), 1);
    let e = &events[0].event;
    assert_eq!(e.sightings, 2);
    assert!(e.kinds.contains(&SourceKind::Camera) && e.kinds.contains(&SourceKind::Satellite));
    assert!(e.sources.contains("sensor:cam-7"), "{:?}", e.sources);
    let alerts = store.alerts_of_event(e.id.unwrap()).unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].alert, alert);
    assert_eq!(alerts[0].event_id, e.id);
    assert_eq!(store.counts().unwrap().alerts, 1);
}

/// Batches ingested at once from several threads (several API nodes, on PostgreSQL) over the
/// same fires make one event per place, as one batch after another would: the fuse step never
/// sees a half-written neighbour.
fn concurrent_batches_make_one_event_per_place(b: &Backend) {
    let store = b.store();
    let t = t0() + chrono::Duration::hours(12);
    // Ten places 0.1° apart; every thread sees each place once, a minute apart.
    std::thread::scope(|s| {
        for k in 0..4 {
            s.spawn(move || {
                let hs: Vec<Hotspot> = (0..10)
                    .map(|i| {
                        hotspot(
                            110.0 + i as f64 * 0.1,
                            30.0 + k as f64 * 1e-4,
                            t + chrono::Duration::minutes(k),
                            1.0,
                        )
                    })
                    .collect();
                store
                    .ingest(
                        &feed(&format!("c{k}"), hs),
                        &FuseParams::default(),
                        &NoPlacer,
                    )
                    .unwrap();
            });
        }
    });
    let events = store.events(&EventQuery::default()).unwrap();
    assert_eq!(events.len(), 10, "one event per place");
    assert!(events.iter().all(|e| e.event.sightings == 4));
    assert_eq!(store.counts().unwrap().hotspots, 40);
}

/// Ingest with dispatch: every new event gets one task in the same transaction, with its
/// `create` audit row and its `task_new` notice in the outbox; the event seen again keeps its
/// one task, which is told so (`task_updated`); a detection older than `max_age_h` gets no task
/// and says why.
fn dispatched_ingest_gives_each_event_one_task_with_audit_and_notice(b: &Backend) {
    let store = b.store();
    let rules = crate::dispatch::TaskRules::default();
    let t = t0() + chrono::Duration::hours(10);
    let now = t + chrono::Duration::minutes(30);
    let p = FuseParams::default();
    let r = store
        .ingest_dispatched(
            &feed(
                "d1",
                vec![hotspot(114.2, 35.1, t, 9.0), hotspot(114.8, 35.1, t, 2.0)],
            ),
            &p,
            &Halves,
            &rules,
            now,
        )
        .unwrap();
    assert_eq!((r.events_new, r.events_too_old), (2, 0));
    let tasks = store.tasks(&tasks::TaskQuery::default()).unwrap();
    assert_eq!(tasks.len(), 2);
    let mut events: Vec<i64> = tasks.iter().map(|t| t.event_id).collect();
    events.sort();
    let mut want = r.event_ids.clone();
    want.sort();
    assert_eq!(events, want, "one task per event");
    let west = tasks.iter().find(|t| t.lon < 114.5).unwrap();
    assert_eq!(west.unit, "410526100");
    assert_eq!(west.county.as_deref(), Some("410526"));
    assert_eq!(west.state, crate::dispatch::TaskState::New);
    assert_eq!(west.milestones.created_at, Some(now));
    assert!(west.ack_due > now);
    let audit = store.audit("task", west.id).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].action.as_str(), audit[0].to_state.as_deref()),
        ("create", Some("new"))
    );
    assert_eq!(audit[0].detail["event_id"], west.event_id);
    assert_eq!(b.count("outbox"), 2, "a task_new notice per task");
    let scoped = store
        .tasks(&tasks::TaskQuery {
            scope: Scope::County("410527".into()),
            ..tasks::TaskQuery::default()
        })
        .unwrap();
    assert_eq!(scoped.len(), 1);
    let events = store
        .events(&EventQuery {
            task: Some(TaskFilter::State("new".into())),
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|e| e.task.as_ref().is_some_and(|(_, s)| s == "new")));

    // Seen again ten minutes later: one task still, told once more.
    let r = store
        .ingest_dispatched(
            &feed(
                "d2",
                vec![hotspot(
                    114.2001,
                    35.1,
                    t + chrono::Duration::minutes(10),
                    3.0,
                )],
            ),
            &p,
            &Halves,
            &rules,
            now,
        )
        .unwrap();
    assert_eq!((r.events_new, r.events_updated), (0, 1));
    assert_eq!(store.tasks(&tasks::TaskQuery::default()).unwrap().len(), 2);
    assert_eq!(b.count("outbox"), 3, "a task_updated notice");

    // A week-old detection elsewhere: an event, no task, and the reason.
    let old = t - chrono::Duration::days(7);
    let r = store
        .ingest_dispatched(
            &feed("d3", vec![hotspot(114.3, 35.4, old, 3.0)]),
            &p,
            &Halves,
            &rules,
            now,
        )
        .unwrap();
    assert_eq!((r.events_new, r.events_too_old), (1, 1));
    assert_eq!(store.tasks(&tasks::TaskQuery::default()).unwrap().len(), 2);
    let e = store
        .events(&EventQuery {
            task: Some(TaskFilter::Reason("too_old".into())),
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].task_reason.as_deref(), Some("too_old"));
}

/// A writer scoped to one county cannot place a row in another: the batch fails with
/// `OutOfReach` naming where it landed, and nothing of it is stored.
fn a_write_outside_the_writers_scope_stores_nothing(b: &Backend) {
    let store = b.store();
    let rules = crate::dispatch::TaskRules::default();
    let t = t0() + chrono::Duration::hours(10);
    let err = store
        .ingest_within(
            &feed(
                "s1",
                vec![hotspot(114.8, 35.1, t, 1.0), hotspot(114.2, 35.1, t, 1.0)],
            ),
            &FuseParams::default(),
            &Halves,
            &rules,
            t,
            &Scope::County("410527".into()),
        )
        .unwrap_err();
    match err {
        StoreError::OutOfReach { unit } => assert_eq!(unit.as_deref(), Some("410526")),
        other => panic!("{other}"),
    }
    let c = store.counts().unwrap();
    assert_eq!((c.feeds, c.hotspots, c.events), (0, 0, 0));
    assert_eq!(b.count("tasks"), 0);
}
