//! A batch stored and fused on PostgreSQL in a fixed number of statements, whatever its size
//! (#19): the same steps as SQLite's `ingest_tx` (origin by content hash, rows by key,
//! candidate events by box and time window, fused in memory, written back, rows linked,
//! dispatch), but every step over the whole batch at once, its rows sent as arrays
//! (`UNNEST($1::text[], ...)`). On SQLite a statement is a function call; here each is a round
//! trip to another process, and the row-by-row ingest spent its time between statements (the
//! backend idle in its transaction in 76 % of samples, BENCHMARKS.md "SQLite beside
//! PostgreSQL"), holding the ingest lock all along.
//!
//! The order: the lock; the origin row (`ON CONFLICT (sha256) DO NOTHING`: none back, already
//! stored); which of the batch's keys are stored already (`key = ANY($1)`, under the lock, the
//! only writer of rows); the candidate events of every new sighting in one query (a join of
//! the sightings' reaches with `events`), fused in memory by the shared loop
//! ([`fuse_batch`], each sighting seeing exactly the stored events of its own reach, as one
//! query per sighting would give); the tasks of the stored events touched (dispatch); new
//! events inserted under ids taken from their sequence, changed ones updated (with the
//! `task_reason` dispatch decided); the rows inserted already linked to their events (no
//! second write of each row); then the batch's dispatch: the tasks created with their audit
//! rows and notices, the open tasks told, each step over the whole batch (`dispatch.rs`). A
//! refused row (any constraint but the key) fails the batch naming the row: the bulk insert
//! runs under a savepoint, and when it fails the rows are tried one by one to find the one
//! refused.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use postgres::types::ToSql;

use super::dispatch::{dispatch_batch, Saved};
use super::store::{read_event, ts};
use super::{pg_err, PgTx, INGEST_LOCK};
use crate::dispatch::rules::TOO_OLD;
use crate::dispatch::TaskRules;
use crate::fuse::{
    confidence_score, FireEvent, FuseParams, Placement, Placer, Sighting, SourceKind,
};
use crate::store::error::StoreError;
use crate::store::model::*;
use crate::store::shared::task_steps::{dispatch_step, DispatchStep};
use crate::store::shared::{fuse_batch, BatchFusion, Dispatched, Reach, EVENT_COLUMNS};
use crate::store::{hotspot_key, normalise_satellite};

/// Stores a batch and fuses it; with `dispatch` every saved event gets its task created or
/// updated in the same transaction. Every row placed and every event changed must lie within
/// `reach`, else nothing is committed.
pub(super) fn ingest_tx(
    tx: &mut PgTx<'_>,
    batch: &IngestBatch,
    p: &FuseParams,
    placer: &dyn Placer,
    dispatch: Option<(&TaskRules, DateTime<Utc>)>,
    reach: &Scope,
) -> Result<IngestReport, StoreError> {
    let report = ingest_rows(tx, batch, p, placer, dispatch, reach)?;
    // Every node's live streams hear of the batch once it commits (`live.rs`).
    super::live::record_batch(tx, &report)?;
    Ok(report)
}

/// A new sighting's row, to be inserted once its event is known.
#[derive(Clone, Copy)]
enum Row {
    /// Index into the batch's hotspots.
    Hotspot(usize),
    /// Index into the batch's alerts.
    Alert(usize),
}

fn ingest_rows(
    tx: &mut PgTx<'_>,
    batch: &IngestBatch,
    p: &FuseParams,
    placer: &dyn Placer,
    dispatch: Option<(&TaskRules, DateTime<Utc>)>,
    reach: &Scope,
) -> Result<IngestReport, StoreError> {
    tx.execute_cached("SELECT pg_advisory_xact_lock($1)", &[&INGEST_LOCK])
        .map_err(pg_err("take the ingest lock"))?;
    let within = |pl: &Placement| {
        reach
            .reaches_placement(pl)
            .map_err(|unit| StoreError::OutOfReach { unit })
    };
    let now = ts(Utc::now());
    let mut report = IngestReport::default();
    let Some((origin, scene_id, feed_id)) = store_origin(tx, batch, now)? else {
        report.already_ingested = true;
        return Ok(report);
    };

    // The rows: placed, keyed, and sorted into new ones and duplicates (an earlier row of the
    // batch with the key, or a stored one).
    let mut hotspots: Vec<(usize, String, Placement)> = Vec::new();
    for (index, h) in batch.hotspots.iter().enumerate() {
        let pl = placer.place(h.longitude, h.latitude, h.footprint_m());
        within(&pl)?;
        hotspots.push((index, hotspot_key(h), pl));
    }
    let mut alerts: Vec<(usize, String, Placement)> = Vec::new();
    for (index, a) in batch.alerts.iter().enumerate() {
        let pl = placer.place(a.lon, a.lat, a.footprint_m);
        within(&pl)?;
        let key = format!("{}|{}|{}", a.sensor_id, ts(a.time), a.kind.as_str());
        alerts.push((index, key, pl));
    }
    let (hotspots, dup) = new_rows(tx, "hotspots", hotspots)?;
    report.hotspots_duplicate = dup;
    let (alerts, dup) = new_rows(tx, "sensor_alerts", alerts)?;
    report.alerts_duplicate = dup;
    report.hotspots_new = hotspots.len();
    report.alerts_new = alerts.len();

    let mut sightings: Vec<(Sighting, Row, Placement)> = Vec::new();
    for (index, _, pl) in &hotspots {
        let h = &batch.hotspots[*index];
        let s = Sighting {
            kind: SourceKind::Satellite,
            source: format!(
                "{}/{}",
                h.instrument.to_ascii_uppercase(),
                normalise_satellite(&h.satellite)
            ),
            lon: h.longitude,
            lat: h.latitude,
            time: h.acq_time,
            footprint_m: h.footprint_m(),
            frp_mw: h.frp_mw,
            confidence: confidence_score(h.confidence),
        };
        sightings.push((s, Row::Hotspot(*index), pl.clone()));
    }
    for (index, _, pl) in &alerts {
        let a = &batch.alerts[*index];
        let s = Sighting {
            kind: SourceKind::Camera,
            source: format!("sensor:{}", a.sensor_id),
            lon: a.lon,
            lat: a.lat,
            time: a.time,
            footprint_m: a.footprint_m,
            frp_mw: None,
            confidence: a.confidence,
        };
        sightings.push((s, Row::Alert(*index), pl.clone()));
    }
    if sightings.is_empty() {
        return Ok(report);
    }

    // The stored events within any sighting's reach, in one query; each sighting is then
    // handed those within its own reach.
    let reaches: Vec<Reach> = sightings
        .iter()
        .map(|(s, _, _)| Reach::around(s, p))
        .collect();
    let mut stored = candidates(tx, &reaches)?;
    stored.sort_by(|a, b| a.lat.total_cmp(&b.lat));
    let BatchFusion {
        mut events,
        stored: was_stored,
        dirty,
        links,
    } = fuse_batch(sightings, p, |r| {
        let from = stored.partition_point(|e| e.lat < r.min_lat);
        Ok::<_, StoreError>(
            stored[from..]
                .iter()
                .take_while(|e| e.lat <= r.max_lat)
                .filter(|e| r.holds(e))
                .cloned()
                .collect(),
        )
    })?;
    let touched: Vec<usize> = (0..events.len()).filter(|&i| dirty[i]).collect();
    for &i in &touched {
        within(&events[i].placement)?;
    }

    // Dispatch decided before the events are written, so their task reasons go with them.
    let steps: Vec<Option<DispatchStep>> = match dispatch {
        None => vec![None; touched.len()],
        Some((rules, at)) => {
            let ids: Vec<i64> = touched.iter().filter_map(|&i| events[i].id).collect();
            let tasks = tasks_of(tx, &ids)?;
            touched
                .iter()
                .map(|&i| {
                    let ev = &events[i];
                    let existing = ev.id.and_then(|id| tasks.get(&id));
                    Some(dispatch_step(ev, existing, placer, rules, at))
                })
                .collect()
        }
    };
    save_events(tx, &mut events, &touched, &steps, now)?;

    // The rows, each with its event.
    let mut event_of: HashMap<(bool, usize), i64> = HashMap::new();
    for (row, i) in links {
        let id = events[i].id.expect("saved");
        match row {
            Row::Hotspot(k) => event_of.insert((true, k), id),
            Row::Alert(k) => event_of.insert((false, k), id),
        };
    }
    let ids = insert_hotspots(tx, batch, &hotspots, origin, scene_id, feed_id, &event_of)?;
    for ((index, _, pl), id) in hotspots.iter().zip(ids) {
        let h = &batch.hotspots[*index];
        report.stored_hotspots.push(Placed {
            id,
            lon: h.longitude,
            lat: h.latitude,
            county: pl.county.clone(),
            township: pl.township.clone(),
        });
    }
    insert_alerts(tx, batch, &alerts, now, &event_of)?;

    if let Some((rules, at)) = dispatch {
        let saved: Vec<Saved> = touched
            .iter()
            .zip(steps)
            .filter_map(|(&i, step)| {
                let event = &events[i];
                step.map(|step| Saved {
                    event,
                    id: event.id.expect("saved"),
                    step,
                })
            })
            .collect();
        report.events_too_old = dispatch_batch(tx, &saved, rules, at)?
            .into_iter()
            .filter(|d| *d == Dispatched::NoTask(TOO_OLD))
            .count();
    }
    for &i in &touched {
        let ev = &events[i];
        let id = ev.id.expect("saved");
        report.event_ids.push(id);
        report.touched_events.push(Placed {
            id,
            lon: ev.lon,
            lat: ev.lat,
            county: ev.placement.county.clone(),
            township: ev.placement.township.clone(),
        });
        if was_stored[i] {
            report.events_updated += 1;
        } else {
            report.events_new += 1;
        }
    }
    Ok(report)
}

/// Inserts the batch's origin row (scene with its observation summary and coverage, or feed
/// file): its kind and ids, or `None` when its content hash is stored already.
#[allow(clippy::type_complexity)]
fn store_origin(
    tx: &mut PgTx<'_>,
    batch: &IngestBatch,
    now: i64,
) -> Result<Option<(&'static str, Option<i64>, Option<i64>)>, StoreError> {
    match &batch.origin {
        Origin::Scene {
            sha256,
            name,
            acq_time,
            satellite,
            sensor,
            model,
            shape,
            summary: s,
            coverage,
        } => {
            let Some(row) = tx.query_opt_cached(
                    "INSERT INTO scenes (sha256, name, source, acq_time, satellite, sensor, model, rows, cols, hotspots, ingested_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                     ON CONFLICT (sha256) DO NOTHING RETURNING id",
                    &[sha256, name, &batch.source, &acq_time.map(ts), satellite, sensor, model,
                      &(shape.0 as i64), &(shape.1 as i64), &(batch.hotspots.len() as i64), &now],
                )
                .map_err(pg_err("insert scene"))?
            else {
                return Ok(None);
            };
            let id: i64 = row.get(0);
            let counts = [
                s.total,
                s.not_processed,
                s.fill,
                s.glint,
                s.water,
                s.cloud,
                s.clear_land,
                s.unknown,
                s.fire_low,
                s.fire_nominal,
                s.fire_high,
                s.day_pixels,
                s.night_pixels,
            ]
            .map(|v| v as i64);
            let mut values: Vec<&(dyn ToSql + Sync)> = vec![&id];
            values.extend(counts.iter().map(|v| v as &(dyn ToSql + Sync)));
            tx.execute_cached(
                "INSERT INTO observation_summaries VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                &values,
            )
            .map_err(pg_err("insert summary"))?;
            if !coverage.is_empty() {
                // A unit given twice: the last one counts (one statement may not change a
                // row twice).
                let mut last: HashMap<&str, usize> = HashMap::new();
                for (i, c) in coverage.iter().enumerate() {
                    last.insert(c.unit.as_str(), i);
                }
                let keep: Vec<_> = coverage
                    .iter()
                    .enumerate()
                    .filter(|(i, c)| last[c.unit.as_str()] == *i)
                    .map(|(_, c)| c)
                    .collect();
                let units: Vec<&str> = keep.iter().map(|c| c.unit.as_str()).collect();
                let levels: Vec<&str> = keep.iter().map(|c| c.level.as_str()).collect();
                let land: Vec<i64> = keep.iter().map(|c| c.land_pixels as i64).collect();
                let clear: Vec<i64> = keep.iter().map(|c| c.clear_pixels as i64).collect();
                tx.execute_cached(
                    "INSERT INTO scene_coverage (scene_id, unit, level, land_pixels, clear_pixels)
                     SELECT $1, u.unit, u.level, u.land, u.clear
                     FROM UNNEST($2::text[], $3::text[], $4::int8[], $5::int8[]) AS u(unit, level, land, clear)
                     ON CONFLICT (scene_id, unit) DO UPDATE SET level = EXCLUDED.level,
                       land_pixels = EXCLUDED.land_pixels, clear_pixels = EXCLUDED.clear_pixels",
                    &[&id, &units, &levels, &land, &clear],
                )
                .map_err(pg_err("insert coverage"))?;
            }
            Ok(Some(("scene", Some(id), None)))
        }
        Origin::Feed { sha256, name, rows } => Ok(tx.query_opt_cached(
                "INSERT INTO feeds (sha256, name, source, rows, ingested_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (sha256) DO NOTHING RETURNING id",
                &[sha256, name, &batch.source, &(*rows as i64), &now],
            )
            .map_err(pg_err("insert feed"))?
            .map(|r| ("feed", None, Some(r.get(0))))),
        Origin::Alerts => Ok(Some(("sensor", None, None))),
    }
}

/// The rows whose key is new (neither earlier in the batch nor in `table`, read under the
/// ingest lock, which every writer of rows holds), and how many are duplicates.
#[allow(clippy::type_complexity)]
fn new_rows(
    tx: &mut PgTx<'_>,
    table: &'static str,
    rows: Vec<(usize, String, Placement)>,
) -> Result<(Vec<(usize, String, Placement)>, usize), StoreError> {
    if rows.is_empty() {
        return Ok((rows, 0));
    }
    let keys: Vec<&str> = rows.iter().map(|(_, k, _)| k.as_str()).collect();
    let known: HashSet<String> = tx
        .query_cached(
            &format!("SELECT key FROM {table} WHERE key = ANY($1)"),
            &[&keys],
        )
        .map_err(pg_err("look up row keys"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let total = rows.len();
    let mut seen = HashSet::new();
    let new: Vec<_> = rows
        .into_iter()
        .filter(|(_, k, _)| !known.contains(k) && seen.insert(k.clone()))
        .collect();
    let dup = total - new.len();
    Ok((new, dup))
}

/// The stored events within any of `reaches` (each once).
fn candidates(tx: &mut PgTx<'_>, reaches: &[Reach]) -> Result<Vec<FireEvent>, StoreError> {
    let col = |f: fn(&Reach) -> f64| reaches.iter().map(f).collect::<Vec<f64>>();
    let (min_lat, max_lat) = (col(|r| r.min_lat), col(|r| r.max_lat));
    let (min_lon, max_lon) = (col(|r| r.min_lon), col(|r| r.max_lon));
    let from: Vec<i64> = reaches.iter().map(|r| r.from).collect();
    let to: Vec<i64> = reaches.iter().map(|r| r.to).collect();
    // Each reach on the (lat, lon) index, as the per-sighting query would run.
    let sql = format!(
        "SELECT DISTINCT ON (id) {EVENT_COLUMNS}
         FROM UNNEST($1::float8[], $2::float8[], $3::float8[], $4::float8[], $5::int8[], $6::int8[])
           AS r(min_lat, max_lat, min_lon, max_lon, t_from, t_to)
         JOIN events ON lat BETWEEN r.min_lat AND r.max_lat AND lon BETWEEN r.min_lon AND r.max_lon
           AND last_seen >= r.t_from AND first_seen <= r.t_to
         ORDER BY id"
    );
    let rows = tx
        .query_cached(&sql, &[&min_lat, &max_lat, &min_lon, &max_lon, &from, &to])
        .map_err(pg_err("query candidates"))?;
    Ok(rows.iter().map(|r| read_event(r).0).collect())
}

/// The task (id, state) of each of the events `ids` that has one.
fn tasks_of(tx: &mut PgTx<'_>, ids: &[i64]) -> Result<HashMap<i64, (i64, String)>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(tx
        .query_cached(
            "SELECT event_id, id, state FROM tasks WHERE event_id = ANY($1)",
            &[&ids],
        )
        .map_err(pg_err("tasks of events"))?
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect())
}

/// Writes the events `touched` (indexes into `events`): the new ones inserted under ids taken
/// from the sequence (set on them), the stored ones updated; each with the task reason its
/// dispatch step sets, if any.
fn save_events(
    tx: &mut PgTx<'_>,
    events: &mut [FireEvent],
    touched: &[usize],
    steps: &[Option<DispatchStep>],
    now: i64,
) -> Result<(), StoreError> {
    let new: Vec<usize> = touched
        .iter()
        .copied()
        .filter(|&i| events[i].id.is_none())
        .collect();
    if !new.is_empty() {
        let mut ids: Vec<i64> = tx.query_cached(
                "SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM generate_series(1, $1::int8)",
                &[&(new.len() as i64)],
            )
            .map_err(pg_err("take event ids"))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        // In the order the events were made, as one insert each would number them.
        ids.sort_unstable();
        for (&i, id) in new.iter().zip(ids) {
            events[i].id = Some(id);
        }
    }
    let (mut inserts, mut updates) = (EventColumns::default(), EventColumns::default());
    for (&i, step) in touched.iter().zip(steps) {
        let reason = step.as_ref().and_then(DispatchStep::task_reason);
        if new.contains(&i) {
            inserts.push(&events[i], reason);
        } else {
            updates.push(&events[i], reason);
        }
    }
    if !inserts.id.is_empty() {
        let c = &inserts;
        tx.execute_cached(
            "INSERT INTO events (id, lon, lat, footprint_m, first_seen, last_seen, sources, kinds,
               max_frp_mw, satellite_confidence, camera_confidence, confidence, sightings,
               county, township, village, parcel, mask, updated_at, task_reason)
             SELECT id, lon, lat, footprint_m, first_seen, last_seen, sources, kinds, max_frp_mw,
               satellite_confidence, camera_confidence, confidence, sightings, county, township,
               village, parcel, mask, $19, reason
             FROM UNNEST($1::int8[], $2::float8[], $3::float8[], $4::float8[], $5::int8[],
               $6::int8[], $7::text[], $8::text[], $9::float8[], $10::float8[], $11::float8[],
               $12::float8[], $13::int8[], $14::text[], $15::text[], $16::text[], $17::text[],
               $18::text[], $20::text[])
               AS u(id, lon, lat, footprint_m, first_seen, last_seen, sources, kinds, max_frp_mw,
                 satellite_confidence, camera_confidence, confidence, sightings, county,
                 township, village, parcel, mask, reason)",
            &c.params(&now)[..20],
        )
        .map_err(pg_err("insert events"))?;
    }
    if !updates.id.is_empty() {
        let c = &updates;
        tx.execute_cached(
            "UPDATE events SET lon = u.lon, lat = u.lat, footprint_m = u.footprint_m,
               first_seen = u.first_seen, last_seen = u.last_seen, sources = u.sources,
               kinds = u.kinds, max_frp_mw = u.max_frp_mw,
               satellite_confidence = u.satellite_confidence,
               camera_confidence = u.camera_confidence, confidence = u.confidence,
               sightings = u.sightings, county = u.county, township = u.township,
               village = u.village, parcel = u.parcel, mask = u.mask, updated_at = $19,
               task_reason = CASE WHEN u.set_reason THEN u.reason ELSE events.task_reason END
             FROM UNNEST($1::int8[], $2::float8[], $3::float8[], $4::float8[], $5::int8[],
               $6::int8[], $7::text[], $8::text[], $9::float8[], $10::float8[], $11::float8[],
               $12::float8[], $13::int8[], $14::text[], $15::text[], $16::text[], $17::text[],
               $18::text[], $20::text[], $21::bool[])
               AS u(id, lon, lat, footprint_m, first_seen, last_seen, sources, kinds, max_frp_mw,
                 satellite_confidence, camera_confidence, confidence, sightings, county,
                 township, village, parcel, mask, reason, set_reason)
             WHERE events.id = u.id",
            &c.params(&now),
        )
        .map_err(pg_err("update events"))?;
    }
    Ok(())
}

/// Events as columns, to be sent as arrays.
#[derive(Default)]
struct EventColumns {
    id: Vec<i64>,
    lon: Vec<f64>,
    lat: Vec<f64>,
    footprint_m: Vec<f64>,
    first_seen: Vec<i64>,
    last_seen: Vec<i64>,
    sources: Vec<String>,
    kinds: Vec<String>,
    max_frp_mw: Vec<Option<f64>>,
    satellite_confidence: Vec<f64>,
    camera_confidence: Vec<f64>,
    confidence: Vec<f64>,
    sightings: Vec<i64>,
    county: Vec<Option<String>>,
    township: Vec<Option<String>>,
    village: Vec<Option<String>>,
    parcel: Vec<Option<String>>,
    mask: Vec<Option<String>>,
    reason: Vec<Option<&'static str>>,
    set_reason: Vec<bool>,
}

impl EventColumns {
    /// The columns as the parameters `$1`…`$21` of the insert and the update (`$19` the time
    /// of the change; the insert binds the first 20: it has no `set_reason`).
    fn params<'a>(&'a self, now: &'a i64) -> [&'a (dyn ToSql + Sync); 21] {
        [
            &self.id,
            &self.lon,
            &self.lat,
            &self.footprint_m,
            &self.first_seen,
            &self.last_seen,
            &self.sources,
            &self.kinds,
            &self.max_frp_mw,
            &self.satellite_confidence,
            &self.camera_confidence,
            &self.confidence,
            &self.sightings,
            &self.county,
            &self.township,
            &self.village,
            &self.parcel,
            &self.mask,
            now,
            &self.reason,
            &self.set_reason,
        ]
    }

    fn push(&mut self, e: &FireEvent, reason: Option<Option<&'static str>>) {
        let pl = &e.placement;
        self.id.push(e.id.expect("numbered before it is written"));
        self.lon.push(e.lon);
        self.lat.push(e.lat);
        self.footprint_m.push(e.footprint_m);
        self.first_seen.push(ts(e.first_seen));
        self.last_seen.push(ts(e.last_seen));
        self.sources
            .push(serde_json::to_string(&e.sources).unwrap_or_default());
        self.kinds.push(
            e.kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(","),
        );
        self.max_frp_mw.push(e.max_frp_mw);
        self.satellite_confidence.push(e.satellite_confidence);
        self.camera_confidence.push(e.camera_confidence);
        self.confidence.push(e.confidence());
        self.sightings.push(i64::from(e.sightings));
        self.county.push(pl.county.clone());
        self.township.push(pl.township.clone());
        self.village.push(pl.village.clone());
        self.parcel.push(pl.parcel.clone());
        self.mask.push(pl.mask.clone());
        self.reason.push(reason.flatten());
        self.set_reason.push(reason.is_some());
    }
}

/// One hotspot row as inserted (the bulk statement's columns, and the single-row statement's
/// that finds a refused row).
const HOTSPOT_COLUMNS: &str = "key, origin, scene_id, feed_id, lat, lon, acq_time, satellite,
    instrument, confidence, confidence_score, version, bt_mir_k, bt_tir_k, scan_km, track_km,
    frp_mw, daynight, fire_type, row, col, county, township, village, parcel, mask, event_id";

/// Inserts the new hotspots `rows` (index into the batch, key, placement), each linked to its
/// event: their ids, in the order of `rows`.
fn insert_hotspots(
    tx: &mut PgTx<'_>,
    batch: &IngestBatch,
    rows: &[(usize, String, Placement)],
    origin: &str,
    scene_id: Option<i64>,
    feed_id: Option<i64>,
    event_of: &HashMap<(bool, usize), i64>,
) -> Result<Vec<i64>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let hs: Vec<_> = rows.iter().map(|(i, _, _)| &batch.hotspots[*i]).collect();
    let key: Vec<&str> = rows.iter().map(|(_, k, _)| k.as_str()).collect();
    let lat: Vec<f64> = hs.iter().map(|h| h.latitude).collect();
    let lon: Vec<f64> = hs.iter().map(|h| h.longitude).collect();
    let acq: Vec<i64> = hs.iter().map(|h| ts(h.acq_time)).collect();
    let sat: Vec<&str> = hs.iter().map(|h| h.satellite.as_str()).collect();
    let inst: Vec<&str> = hs.iter().map(|h| h.instrument.as_str()).collect();
    let conf: Vec<String> = hs.iter().map(|h| h.confidence.as_firms()).collect();
    let score: Vec<f64> = hs.iter().map(|h| confidence_score(h.confidence)).collect();
    let version: Vec<&str> = hs.iter().map(|h| h.version.as_str()).collect();
    let bt_mir: Vec<Option<f64>> = hs.iter().map(|h| h.bt_mir_k).collect();
    let bt_tir: Vec<Option<f64>> = hs.iter().map(|h| h.bt_tir_k).collect();
    let scan: Vec<Option<f64>> = hs.iter().map(|h| h.scan_km).collect();
    let track: Vec<Option<f64>> = hs.iter().map(|h| h.track_km).collect();
    let frp: Vec<Option<f64>> = hs.iter().map(|h| h.frp_mw).collect();
    let dn: Vec<&str> = hs.iter().map(|h| h.daynight.as_firms()).collect();
    let fire_type: Vec<Option<i64>> = hs.iter().map(|h| h.fire_type.map(i64::from)).collect();
    let row: Vec<Option<i64>> = hs.iter().map(|h| h.row.map(|v| v as i64)).collect();
    let col: Vec<Option<i64>> = hs.iter().map(|h| h.col.map(|v| v as i64)).collect();
    let place = |f: fn(&Placement) -> &Option<String>| -> Vec<Option<&str>> {
        rows.iter().map(|(_, _, pl)| f(pl).as_deref()).collect()
    };
    let county = place(|p| &p.county);
    let township = place(|p| &p.township);
    let village = place(|p| &p.village);
    let parcel = place(|p| &p.parcel);
    let mask = place(|p| &p.mask);
    let event: Vec<i64> = rows.iter().map(|(i, _, _)| event_of[&(true, *i)]).collect();
    let sql = format!(
        "INSERT INTO hotspots ({HOTSPOT_COLUMNS})
         SELECT key, $1::text, $2::int8, $3::int8, lat, lon, acq_time, satellite, instrument,
           confidence, confidence_score, version, bt_mir_k, bt_tir_k, scan_km, track_km, frp_mw,
           daynight, fire_type, row, col, county, township, village, parcel, mask, event_id
         FROM UNNEST($4::text[], $5::float8[], $6::float8[], $7::int8[], $8::text[], $9::text[],
           $10::text[], $11::float8[], $12::text[], $13::float8[], $14::float8[], $15::float8[],
           $16::float8[], $17::float8[], $18::text[], $19::int8[], $20::int8[], $21::int8[],
           $22::text[], $23::text[], $24::text[], $25::text[], $26::text[], $27::int8[])
           AS u(key, lat, lon, acq_time, satellite, instrument, confidence, confidence_score,
             version, bt_mir_k, bt_tir_k, scan_km, track_km, frp_mw, daynight, fire_type, row,
             col, county, township, village, parcel, mask, event_id)
         ON CONFLICT (key) DO NOTHING RETURNING id, key"
    );
    let params: [&(dyn ToSql + Sync); 27] = [
        &origin, &scene_id, &feed_id, &key, &lat, &lon, &acq, &sat, &inst, &conf, &score, &version,
        &bt_mir, &bt_tir, &scan, &track, &frp, &dn, &fire_type, &row, &col, &county, &township,
        &village, &parcel, &mask, &event,
    ];
    let inserted = bulk(tx, "hotspot_rows", &sql, &params, |tx| {
        // The rows one by one, to name the one refused.
        let one = format!(
            "INSERT INTO hotspots ({HOTSPOT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
               $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24,
               $25, $26, $27)"
        );
        for (n, (index, k, _)) in rows.iter().enumerate() {
            tx.execute_cached(
                &one,
                &[
                    &key[n],
                    &origin,
                    &scene_id,
                    &feed_id,
                    &lat[n],
                    &lon[n],
                    &acq[n],
                    &sat[n],
                    &inst[n],
                    &conf[n],
                    &score[n],
                    &version[n],
                    &bt_mir[n],
                    &bt_tir[n],
                    &scan[n],
                    &track[n],
                    &frp[n],
                    &dn[n],
                    &fire_type[n],
                    &row[n],
                    &col[n],
                    &county[n],
                    &township[n],
                    &village[n],
                    &parcel[n],
                    &mask[n],
                    &event[n],
                ],
            )
            .map_err(StoreError::row("hotspot", *index, k))?;
        }
        Ok(())
    })?;
    ids_in_order("hotspots", rows, inserted)
}

/// Inserts the new alerts `rows` (index into the batch, key, placement), each linked to its
/// event.
fn insert_alerts(
    tx: &mut PgTx<'_>,
    batch: &IngestBatch,
    rows: &[(usize, String, Placement)],
    now: i64,
    event_of: &HashMap<(bool, usize), i64>,
) -> Result<Vec<i64>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let al: Vec<_> = rows.iter().map(|(i, _, _)| &batch.alerts[*i]).collect();
    let key: Vec<&str> = rows.iter().map(|(_, k, _)| k.as_str()).collect();
    let sensor: Vec<&str> = al.iter().map(|a| a.sensor_id.as_str()).collect();
    let time: Vec<i64> = al.iter().map(|a| ts(a.time)).collect();
    let lon: Vec<f64> = al.iter().map(|a| a.lon).collect();
    let lat: Vec<f64> = al.iter().map(|a| a.lat).collect();
    let fp: Vec<f64> = al.iter().map(|a| a.footprint_m).collect();
    let kind: Vec<&str> = al.iter().map(|a| a.kind.as_str()).collect();
    let conf: Vec<f64> = al.iter().map(|a| a.confidence).collect();
    let image: Vec<Option<&str>> = al.iter().map(|a| a.image_url.as_deref()).collect();
    let place = |f: fn(&Placement) -> &Option<String>| -> Vec<Option<&str>> {
        rows.iter().map(|(_, _, pl)| f(pl).as_deref()).collect()
    };
    let county = place(|p| &p.county);
    let township = place(|p| &p.township);
    let village = place(|p| &p.village);
    let parcel = place(|p| &p.parcel);
    let mask = place(|p| &p.mask);
    let event: Vec<i64> = rows
        .iter()
        .map(|(i, _, _)| event_of[&(false, *i)])
        .collect();
    const COLUMNS: &str = "key, sensor_id, time, lon, lat, footprint_m, kind, confidence,
        image_url, county, township, village, parcel, mask, received_at, event_id";
    let sql = format!(
        "INSERT INTO sensor_alerts ({COLUMNS})
         SELECT key, sensor_id, time, lon, lat, footprint_m, kind, confidence, image_url, county,
           township, village, parcel, mask, $1::int8, event_id
         FROM UNNEST($2::text[], $3::text[], $4::int8[], $5::float8[], $6::float8[],
           $7::float8[], $8::text[], $9::float8[], $10::text[], $11::text[], $12::text[],
           $13::text[], $14::text[], $15::text[], $16::int8[])
           AS u(key, sensor_id, time, lon, lat, footprint_m, kind, confidence, image_url, county,
             township, village, parcel, mask, event_id)
         ON CONFLICT (key) DO NOTHING RETURNING id, key"
    );
    let params: [&(dyn ToSql + Sync); 16] = [
        &now, &key, &sensor, &time, &lon, &lat, &fp, &kind, &conf, &image, &county, &township,
        &village, &parcel, &mask, &event,
    ];
    let inserted = bulk(tx, "alert_rows", &sql, &params, |tx| {
        let one = format!(
            "INSERT INTO sensor_alerts ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
               $10, $11, $12, $13, $14, $15, $16)"
        );
        for (n, (index, k, _)) in rows.iter().enumerate() {
            tx.execute_cached(
                &one,
                &[
                    &key[n],
                    &sensor[n],
                    &time[n],
                    &lon[n],
                    &lat[n],
                    &fp[n],
                    &kind[n],
                    &conf[n],
                    &image[n],
                    &county[n],
                    &township[n],
                    &village[n],
                    &parcel[n],
                    &mask[n],
                    &now,
                    &event[n],
                ],
            )
            .map_err(StoreError::row("alert", *index, k))?;
        }
        Ok(())
    })?;
    ids_in_order("sensor_alerts", rows, inserted)
}

/// Runs a bulk insert (`RETURNING id, key`) under savepoint `savepoint`; when the server
/// refuses it, goes back to the savepoint and runs `one_by_one`, which fails naming the row
/// refused (the bulk error stands if it does not). The (key, id) of each row inserted.
fn bulk(
    tx: &mut PgTx<'_>,
    savepoint: &str,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    one_by_one: impl FnOnce(&mut PgTx<'_>) -> Result<(), StoreError>,
) -> Result<HashMap<String, i64>, StoreError> {
    tx.batch_execute(&format!("SAVEPOINT {savepoint}"))
        .map_err(pg_err("savepoint"))?;
    match tx.query_cached(sql, params) {
        Ok(rows) => Ok(rows.iter().map(|r| (r.get(1), r.get(0))).collect()),
        Err(e) => {
            tx.batch_execute(&format!("ROLLBACK TO SAVEPOINT {savepoint}"))
                .map_err(pg_err("roll back to the savepoint"))?;
            one_by_one(tx)?;
            Err(pg_err("insert rows")(e))
        }
    }
}

/// The ids of `rows` from the bulk insert's (key, id) pairs. Every row must have been
/// inserted: their keys were read as new under the ingest lock, and nothing else writes rows.
fn ids_in_order(
    table: &'static str,
    rows: &[(usize, String, Placement)],
    inserted: HashMap<String, i64>,
) -> Result<Vec<i64>, StoreError> {
    rows.iter()
        .map(|(_, k, _)| {
            inserted
                .get(k)
                .copied()
                .ok_or_else(|| StoreError::BadValue {
                    table,
                    column: "key",
                    value: format!("{k}: stored by another writer during the batch"),
                })
        })
        .collect()
}
