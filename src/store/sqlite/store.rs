//! [`Store`] on SQLite: a batch ingested in one transaction (origin row by content hash,
//! hotspots and alerts by key, candidate events loaded by box and time, fused in memory and
//! written back, tasks through `tasks::on_event_saved`), and the hotspot and event queries,
//! streamed row by row from a pooled reader.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::{from_ts, ts, SqliteStore};
use crate::fuse::{
    confidence_score, FireEvent, FuseParams, Placement, Placer, Sighting, SourceKind,
};
use crate::hotspot::{Confidence, DayNight, Hotspot};
use crate::store::error::{SqlContext, StoreError};
use crate::store::model::*;
use crate::store::shared::{fuse_batch, lookups, min_score, BatchFusion, EVENT_COLUMNS};
use crate::store::{hotspot_key, Store};

impl Store for SqliteStore {
    fn ingest(
        &self,
        batch: &IngestBatch,
        p: &FuseParams,
        placer: &dyn Placer,
    ) -> Result<IngestReport, StoreError> {
        self.writer
            .write(|tx| ingest_tx(tx, batch, p, placer, None, &Scope::All))
    }

    fn knows(&self, sha256: &str) -> Result<bool, StoreError> {
        self.read(|mut c| lookups::knows(&mut c, sha256))
    }

    fn hotspots_each(
        &self,
        q: &HotspotQuery,
        f: &mut dyn FnMut(StoredHotspot) -> bool,
    ) -> Result<(), StoreError> {
        self.read(|c| query_hotspots(c, q, f))
    }

    fn events_each(
        &self,
        q: &EventQuery,
        f: &mut dyn FnMut(StoredEvent) -> bool,
    ) -> Result<(), StoreError> {
        self.read(|c| query_events(c, q, f))
    }

    fn alerts_of_event(&self, event_id: i64) -> Result<Vec<StoredAlert>, StoreError> {
        self.read(|mut c| lookups::alerts_of_event(&mut c, event_id))
    }

    fn unit(&self, code: &str) -> Result<UnitStats, StoreError> {
        self.read(|mut c| lookups::unit(&mut c, code))
    }

    fn counts(&self) -> Result<Counts, StoreError> {
        self.read(|mut c| lookups::counts(&mut c))
    }
}

/// Where a new sighting came from, so its row can be linked to its event afterwards.
enum Row {
    Hotspot(i64),
    Alert(i64),
}

/// Stores a batch and fuses it; with `dispatch` (rules and the clock's now) every saved event
/// also gets its task created or updated here, in the same transaction (`tasks.rs`). Every row
/// placed and every event changed must lie within `reach` (the writer's scope), else the whole
/// batch fails with [`StoreError::OutOfReach`] before anything is committed: a county's camera
/// cannot raise a neighbour's event by fusing into it.
pub(super) fn ingest_tx(
    tx: &Connection,
    batch: &IngestBatch,
    p: &FuseParams,
    placer: &dyn Placer,
    dispatch: Option<(&crate::dispatch::TaskRules, DateTime<Utc>)>,
    reach: &Scope,
) -> Result<IngestReport, StoreError> {
    let within = |pl: &Placement| {
        reach
            .reaches_placement(pl)
            .map_err(|unit| StoreError::OutOfReach { unit })
    };
    let now = ts(Utc::now());
    let mut report = IngestReport::default();
    let (origin, scene_id, feed_id) = match &batch.origin {
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
            if exists(tx, "scenes", sha256)? {
                report.already_ingested = true;
                return Ok(report);
            }
            tx.execute(
                "INSERT INTO scenes (sha256, name, source, acq_time, satellite, sensor, model, rows, cols, hotspots, ingested_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![sha256, name, batch.source, acq_time.map(ts), satellite, sensor, model,
                        shape.0 as i64, shape.1 as i64, batch.hotspots.len() as i64, now],
            )
            .ctx("insert scene")?;
            let id = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO observation_summaries VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![id, s.total as i64, s.not_processed as i64, s.fill as i64, s.glint as i64,
                        s.water as i64, s.cloud as i64, s.clear_land as i64, s.unknown as i64,
                        s.fire_low as i64, s.fire_nominal as i64, s.fire_high as i64,
                        s.day_pixels as i64, s.night_pixels as i64],
            )
            .ctx("insert summary")?;
            super::rank::insert_coverage(tx, id, coverage)?;
            ("scene", Some(id), None)
        }
        Origin::Feed { sha256, name, rows } => {
            if exists(tx, "feeds", sha256)? {
                report.already_ingested = true;
                return Ok(report);
            }
            tx.execute(
                "INSERT INTO feeds (sha256, name, source, rows, ingested_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![sha256, name, batch.source, *rows as i64, now],
            )
            .ctx("insert feed")?;
            ("feed", None, Some(tx.last_insert_rowid()))
        }
        Origin::Alerts => ("sensor", None, None),
    };

    let mut sightings: Vec<(Sighting, Row, Placement)> = Vec::new();
    {
        let mut ins = tx
            .prepare_cached(
                // Only an earlier row with the same key makes a duplicate; any other constraint
                // failure is an error naming the row (never `OR IGNORE`, which hid NULLs).
                "INSERT INTO hotspots (key, origin, scene_id, feed_id, lat, lon, acq_time, satellite,
                   instrument, confidence, confidence_score, version, bt_mir_k, bt_tir_k, scan_km, track_km,
                   frp_mw, daynight, fire_type, row, col, county, township, village, parcel, mask)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                   ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)
                 ON CONFLICT(key) DO NOTHING",
            )
            .ctx("prepare hotspot insert")?;
        for (index, h) in batch.hotspots.iter().enumerate() {
            let footprint_m = h.footprint_m();
            let pl = placer.place(h.longitude, h.latitude, footprint_m);
            within(&pl)?;
            let score = confidence_score(h.confidence);
            let key = hotspot_key(h);
            let n = ins
                .execute(params![
                    key,
                    origin,
                    scene_id,
                    feed_id,
                    h.latitude,
                    h.longitude,
                    ts(h.acq_time),
                    h.satellite,
                    h.instrument,
                    h.confidence.as_firms(),
                    score,
                    h.version,
                    h.bt_mir_k,
                    h.bt_tir_k,
                    h.scan_km,
                    h.track_km,
                    h.frp_mw,
                    h.daynight.as_firms(),
                    h.fire_type,
                    h.row.map(|v| v as i64),
                    h.col.map(|v| v as i64),
                    pl.county,
                    pl.township,
                    pl.village,
                    pl.parcel,
                    pl.mask,
                ])
                .map_err(StoreError::row("hotspot", index, &key))?;
            if n == 0 {
                report.hotspots_duplicate += 1;
                continue;
            }
            report.hotspots_new += 1;
            let id = tx.last_insert_rowid();
            report.stored_hotspots.push(Placed {
                id,
                lon: h.longitude,
                lat: h.latitude,
                county: pl.county.clone(),
                township: pl.township.clone(),
            });
            sightings.push((
                Sighting {
                    kind: SourceKind::Satellite,
                    source: format!(
                        "{}/{}",
                        h.instrument.to_ascii_uppercase(),
                        crate::store::normalise_satellite(&h.satellite)
                    ),
                    lon: h.longitude,
                    lat: h.latitude,
                    time: h.acq_time,
                    footprint_m,
                    frp_mw: h.frp_mw,
                    confidence: score,
                },
                Row::Hotspot(id),
                pl,
            ));
        }
        let mut ins = tx
            .prepare_cached(
                "INSERT INTO sensor_alerts (key, sensor_id, time, lon, lat, footprint_m, kind,
                   confidence, image_url, county, township, village, parcel, mask, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT(key) DO NOTHING",
            )
            .ctx("prepare alert insert")?;
        for (index, a) in batch.alerts.iter().enumerate() {
            let pl = placer.place(a.lon, a.lat, a.footprint_m);
            within(&pl)?;
            let key = format!("{}|{}|{}", a.sensor_id, ts(a.time), a.kind.as_str());
            let n = ins
                .execute(params![
                    key,
                    a.sensor_id,
                    ts(a.time),
                    a.lon,
                    a.lat,
                    a.footprint_m,
                    a.kind.as_str(),
                    a.confidence,
                    a.image_url,
                    pl.county,
                    pl.township,
                    pl.village,
                    pl.parcel,
                    pl.mask,
                    now
                ])
                .map_err(StoreError::row("alert", index, &key))?;
            if n == 0 {
                report.alerts_duplicate += 1;
                continue;
            }
            report.alerts_new += 1;
            sightings.push((
                Sighting {
                    kind: SourceKind::Camera,
                    source: format!("sensor:{}", a.sensor_id),
                    lon: a.lon,
                    lat: a.lat,
                    time: a.time,
                    footprint_m: a.footprint_m,
                    frp_mw: None,
                    confidence: a.confidence,
                },
                Row::Alert(tx.last_insert_rowid()),
                pl,
            ));
        }
    }
    if sightings.is_empty() {
        return Ok(report);
    }

    // Candidate events, per sighting, through the R*Tree (migration 2).
    let BatchFusion {
        mut events,
        stored,
        dirty,
        links,
    } = fuse_batch(sightings, p, |r| {
        load_events(
            tx,
            "WHERE id IN (SELECT id FROM events_rtree WHERE max_lat >= ?1 AND min_lat <= ?2
               AND max_lon >= ?3 AND min_lon <= ?4 AND max_h >= ?5 AND min_h <= ?6)",
            &[
                Value::Real(r.min_lat),
                Value::Real(r.max_lat),
                Value::Real(r.min_lon),
                Value::Real(r.max_lon),
                Value::Real(r.from as f64 / 3600.0),
                Value::Real(r.to as f64 / 3600.0),
            ],
        )
    })?;
    for (ev, _) in events.iter().zip(&dirty).filter(|(_, d)| **d) {
        within(&ev.placement)?;
    }
    for (i, ev) in events.iter_mut().enumerate() {
        if !dirty[i] {
            continue;
        }
        let id = save_event(tx, ev, now)?;
        if let Some((rules, at)) = dispatch {
            let d = crate::store::shared::task_steps::on_event_saved(
                &mut { tx },
                ev,
                id,
                placer,
                rules,
                at,
            )?;
            if d == crate::store::shared::Dispatched::NoTask(crate::dispatch::rules::TOO_OLD) {
                report.events_too_old += 1;
            }
        }
        report.event_ids.push(id);
        report.touched_events.push(Placed {
            id,
            lon: ev.lon,
            lat: ev.lat,
            county: ev.placement.county.clone(),
            township: ev.placement.township.clone(),
        });
        if stored[i] {
            report.events_updated += 1;
        } else {
            report.events_new += 1;
        }
    }
    let mut link_h = tx
        .prepare_cached("UPDATE hotspots SET event_id = ?1 WHERE id = ?2")
        .ctx("prepare link")?;
    let mut link_a = tx
        .prepare_cached("UPDATE sensor_alerts SET event_id = ?1 WHERE id = ?2")
        .ctx("prepare link")?;
    for (row, i) in links {
        let event_id = events[i].id;
        match row {
            Row::Hotspot(id) => link_h.execute(params![event_id, id]),
            Row::Alert(id) => link_a.execute(params![event_id, id]),
        }
        .ctx("link to event")?;
    }
    Ok(report)
}

fn exists(tx: &Connection, table: &str, sha256: &str) -> Result<bool, StoreError> {
    tx.query_row(
        &format!("SELECT 1 FROM {table} WHERE sha256 = ?1"),
        [sha256],
        |_| Ok(()),
    )
    .optional()
    .ctx("look up content hash")
    .map(|o| o.is_some())
}

fn save_event(tx: &Connection, e: &mut FireEvent, now: i64) -> Result<i64, StoreError> {
    let sources = serde_json::to_string(&e.sources).unwrap_or_default();
    let kinds = e
        .kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let pl = &e.placement;
    let values = params![
        e.lon,
        e.lat,
        e.footprint_m,
        ts(e.first_seen),
        ts(e.last_seen),
        sources,
        kinds,
        e.max_frp_mw,
        e.satellite_confidence,
        e.camera_confidence,
        e.confidence(),
        e.sightings,
        pl.county,
        pl.township,
        pl.village,
        pl.parcel,
        pl.mask,
        now,
    ];
    let id = match e.id {
        Some(id) => {
            let mut st = tx
                .prepare_cached(
                    "UPDATE events SET lon = ?1, lat = ?2, footprint_m = ?3, first_seen = ?4, last_seen = ?5,
                       sources = ?6, kinds = ?7, max_frp_mw = ?8, satellite_confidence = ?9,
                       camera_confidence = ?10, confidence = ?11, sightings = ?12, county = ?13,
                       township = ?14, village = ?15, parcel = ?16, mask = ?17, updated_at = ?18
                     WHERE id = ?19",
                )
                .ctx("prepare event update")?;
            let mut all: Vec<&dyn rusqlite::ToSql> = values.to_vec();
            all.push(&id);
            st.execute(all.as_slice()).ctx("update event")?;
            id
        }
        None => {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO events (lon, lat, footprint_m, first_seen, last_seen, sources, kinds,
                       max_frp_mw, satellite_confidence, camera_confidence, confidence, sightings,
                       county, township, village, parcel, mask, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
                )
                .ctx("prepare event insert")?;
            st.execute(values).ctx("insert event")?;
            let id = tx.last_insert_rowid();
            e.id = Some(id);
            id
        }
    };
    tx.prepare_cached("INSERT OR REPLACE INTO events_rtree VALUES (?1, ?2, ?2, ?3, ?3, ?4, ?5)")
        .ctx("prepare event index")?
        .execute(params![
            id,
            e.lon,
            e.lat,
            ts(e.first_seen) as f64 / 3600.0,
            ts(e.last_seen) as f64 / 3600.0
        ])
        .ctx("index event")?;
    Ok(id)
}

fn read_event(r: &rusqlite::Row) -> rusqlite::Result<(FireEvent, i64)> {
    let sources: String = r.get(6)?;
    let kinds: String = r.get(7)?;
    Ok((
        FireEvent {
            id: Some(r.get(0)?),
            lon: r.get(1)?,
            lat: r.get(2)?,
            footprint_m: r.get(3)?,
            first_seen: from_ts(r.get(4)?),
            last_seen: from_ts(r.get(5)?),
            sources: serde_json::from_str(&sources).unwrap_or_default(),
            kinds: kinds.split(',').filter_map(SourceKind::parse).collect(),
            max_frp_mw: r.get(8)?,
            satellite_confidence: r.get(9)?,
            camera_confidence: r.get(10)?,
            sightings: r.get(11)?,
            placement: Placement {
                county: r.get(12)?,
                township: r.get(13)?,
                village: r.get(14)?,
                parcel: r.get(15)?,
                mask: r.get(16)?,
            },
        },
        r.get(17)?,
    ))
}

fn load_events(
    c: &Connection,
    filter: &str,
    values: &[Value],
) -> Result<Vec<FireEvent>, StoreError> {
    let mut st = c
        .prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM events {filter}"))
        .ctx("prepare events")?;
    let rows = st
        .query_map(params_from_iter(values.iter()), |r| {
            read_event(r).map(|(e, _)| e)
        })
        .ctx("query events")?;
    rows.collect::<Result<Vec<_>, _>>().ctx("read events")
}

/// WHERE clauses and their values, built from filters.
#[derive(Default)]
struct Filter {
    clauses: Vec<String>,
    values: Vec<Value>,
}

impl Filter {
    fn push(&mut self, clause: &str, values: impl IntoIterator<Item = Value>) {
        // Number each `?` in order, after the values already pushed.
        let mut values = values.into_iter();
        let mut out = String::with_capacity(clause.len() + 8);
        for ch in clause.chars() {
            if ch == '?' {
                if let Some(v) = values.next() {
                    self.values.push(v);
                }
                out.push_str(&format!("?{}", self.values.len()));
            } else {
                out.push(ch);
            }
        }
        self.clauses.push(out);
    }

    fn scope(&mut self, scope: &Scope) {
        match scope {
            Scope::All => {}
            Scope::County(c) => self.push("county = ?", [Value::Text(c.clone())]),
            Scope::Township(t) => self.push("township = ?", [Value::Text(t.clone())]),
        }
    }

    fn unit(&mut self, unit: &Option<String>) {
        if let Some(u) = unit {
            let v = Value::Text(u.clone());
            self.push(
                "(county = ? OR township = ? OR village = ? OR parcel = ?)",
                [v.clone(), v.clone(), v.clone(), v],
            );
        }
    }

    fn bbox(&mut self, bbox: &Option<[f64; 4]>) {
        if let Some([w, s, e, n]) = bbox {
            self.push(
                "lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?",
                [w, e, s, n].map(|v| Value::Real(*v)),
            );
        }
    }

    /// Rows after `k` in (`at`, `id`) order, written so SQLite walks the index on `at` from `k`.
    fn after(&mut self, at: &str, id: &str, k: Option<Keyset>) {
        if let Some(k) = k {
            self.push(
                &format!("{at} >= ? AND ({at} > ? OR {id} > ?)"),
                [k.at, k.at, k.id].map(Value::Integer),
            );
        }
    }

    /// The keyset of a descending walk: rows before `k` in (`at`, `id`) order.
    fn before(&mut self, at: &str, id: &str, k: Option<Keyset>) {
        if let Some(k) = k {
            self.push(
                &format!("{at} <= ? AND ({at} < ? OR {id} < ?)"),
                [k.at, k.at, k.id].map(Value::Integer),
            );
        }
    }

    /// `LIMIT ?n` with `n` bound as the last value: the statement's text is then the same for
    /// every page size, so a reader's statement cache keeps one prepared statement per shape of
    /// filter instead of parsing and planning the query again for each page.
    fn limit(&mut self, n: usize) -> String {
        self.values.push(Value::Integer(n as i64));
        format!("LIMIT ?{}", self.values.len())
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// The statement and values of a hotspot query.
fn hotspots_sql(q: &HotspotQuery) -> (String, Vec<Value>) {
    let mut f = Filter::default();
    f.scope(&q.scope);
    f.after("acq_time", "id", q.after);
    if let Some(t) = q.from {
        f.push("acq_time >= ?", [Value::Integer(ts(t))]);
    }
    if let Some(t) = q.to {
        f.push("acq_time <= ?", [Value::Integer(ts(t))]);
    }
    f.bbox(&q.bbox);
    f.unit(&q.unit);
    if let Some(s) = &q.source {
        let v = Value::Text(s.clone());
        f.push(
            "(origin = ? OR instrument = ? COLLATE NOCASE OR satellite = ? COLLATE NOCASE OR (upper(instrument) || '/' || satellite) = upper(?))",
            [v.clone(), v.clone(), v.clone(), v],
        );
    }
    if let Some(conf) = q.min_confidence {
        f.push("confidence_score >= ?", [Value::Real(min_score(conf))]);
    }
    let limit = f.limit(q.limit);
    let sql = format!(
        "SELECT id, origin, lat, lon, acq_time, satellite, instrument, confidence, version, bt_mir_k,
           bt_tir_k, scan_km, track_km, frp_mw, daynight, fire_type, row, col, county, township,
           village, parcel, mask, event_id
         FROM hotspots {} ORDER BY acq_time, id {limit}",
        f.sql(),
    );
    (sql, f.values)
}

fn query_hotspots(
    c: &Connection,
    q: &HotspotQuery,
    visit: &mut dyn FnMut(StoredHotspot) -> bool,
) -> Result<(), StoreError> {
    let (sql, values) = hotspots_sql(q);
    // Cached: a map view's page is one short index range, and parsing and planning the statement
    // cost as much CPU as running it (perf of the 50-client load run, BENCHMARKS.md).
    let mut st = c.prepare_cached(&sql).ctx("prepare hotspots")?;
    let rows = st
        .query_map(params_from_iter(values.iter()), |r| {
            let conf: String = r.get(7)?;
            let dn: String = r.get(14)?;
            Ok(StoredHotspot {
                id: r.get(0)?,
                origin: r.get(1)?,
                hotspot: Hotspot {
                    latitude: r.get(2)?,
                    longitude: r.get(3)?,
                    acq_time: from_ts(r.get(4)?),
                    satellite: r.get(5)?,
                    instrument: r.get(6)?,
                    confidence: Confidence::parse(&conf).unwrap_or(Confidence::Low),
                    version: r.get(8)?,
                    bt_mir_k: r.get(9)?,
                    bt_tir_k: r.get(10)?,
                    scan_km: r.get(11)?,
                    track_km: r.get(12)?,
                    frp_mw: r.get(13)?,
                    daynight: if dn == "D" {
                        DayNight::Day
                    } else {
                        DayNight::Night
                    },
                    fire_type: r.get(15)?,
                    row: r.get::<_, Option<i64>>(16)?.map(|v| v as usize),
                    col: r.get::<_, Option<i64>>(17)?.map(|v| v as usize),
                },
                placement: Placement {
                    county: r.get(18)?,
                    township: r.get(19)?,
                    village: r.get(20)?,
                    parcel: r.get(21)?,
                    mask: r.get(22)?,
                },
                event_id: r.get(23)?,
            })
        })
        .ctx("query hotspots")?;
    for row in rows {
        if !visit(row.ctx("read hotspots")?) {
            break;
        }
    }
    Ok(())
}

/// The statement and values of an event query.
fn events_sql(q: &EventQuery) -> (String, Vec<Value>) {
    let mut f = Filter::default();
    f.scope(&q.scope);
    if q.newest_first {
        f.before("first_seen", "id", q.after);
    } else {
        f.after("first_seen", "id", q.after);
    }
    if let Some(id) = q.id {
        f.push("id = ?", [Value::Integer(id)]);
    }
    if let Some(t) = q.from {
        f.push("last_seen >= ?", [Value::Integer(ts(t))]);
    }
    if let Some(t) = q.to {
        f.push("first_seen <= ?", [Value::Integer(ts(t))]);
    }
    f.bbox(&q.bbox);
    f.unit(&q.unit);
    if let Some(s) = &q.source {
        // kinds is a comma list; sources a JSON array of strings.
        let v = Value::Text(s.clone());
        f.push(
            "(',' || kinds || ',' LIKE '%,' || ? || ',%' OR instr(sources, '\"' || ? || '\"') > 0)",
            [v.clone(), v],
        );
    }
    if let Some(conf) = q.min_confidence {
        f.push("confidence >= ?", [Value::Real(min_score(conf))]);
    }
    // tasks.event_id is UNIQUE (indexed): one probe per event.
    const HAS_TASK: &str = "EXISTS (SELECT 1 FROM tasks t WHERE t.event_id = events.id";
    match &q.task {
        None => {}
        Some(TaskFilter::Any) => f.push(&format!("{HAS_TASK})"), []),
        Some(TaskFilter::None) => f.push(&format!("NOT {HAS_TASK})"), []),
        Some(TaskFilter::State(s)) if s == "open" => f.push(
            &format!("{HAS_TASK} AND t.state NOT IN ('verified', 'closed', 'cancelled'))"),
            [],
        ),
        Some(TaskFilter::State(s)) => f.push(
            &format!("{HAS_TASK} AND t.state = ?)"),
            [Value::Text(s.clone())],
        ),
        Some(TaskFilter::Reason(r)) => f.push(
            &format!("task_reason = ? AND NOT {HAS_TASK})"),
            [Value::Text(r.clone())],
        ),
    }
    let limit = f.limit(q.limit);
    let sql = format!(
        "SELECT {EVENT_COLUMNS}, task_reason,
           (SELECT t.id FROM tasks t WHERE t.event_id = events.id),
           (SELECT t.state FROM tasks t WHERE t.event_id = events.id)
         FROM events {} ORDER BY first_seen {order}, id {order} {limit}",
        f.sql(),
        order = if q.newest_first { "DESC" } else { "ASC" }
    );
    (sql, f.values)
}

fn query_events(
    c: &Connection,
    q: &EventQuery,
    visit: &mut dyn FnMut(StoredEvent) -> bool,
) -> Result<(), StoreError> {
    let (sql, values) = events_sql(q);
    let mut st = c.prepare_cached(&sql).ctx("prepare events")?;
    let rows = st
        .query_map(params_from_iter(values.iter()), |r| {
            let (event, updated) = read_event(r)?;
            Ok(StoredEvent {
                event,
                updated_at: from_ts(updated),
                task_reason: r.get(18)?,
                task: match (
                    r.get::<_, Option<i64>>(19)?,
                    r.get::<_, Option<String>>(20)?,
                ) {
                    (Some(id), Some(state)) => Some((id, state)),
                    _ => None,
                },
            })
        })
        .ctx("query events")?;
    for row in rows {
        if !visit(row.ctx("read events")?) {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A scoped map view (unit + small box) reads the box's band through the (unit, lat, lon)
    /// index of migration 6, not every row of the county; measured in BENCHMARKS.md.
    #[test]
    fn scoped_box_queries_use_the_unit_and_position_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
        let t = Utc.with_ymd_and_hms(2024, 6, 8, 0, 0, 0).unwrap();
        let bbox = Some([115.0, 34.0, 115.05, 34.1]);
        let plan = |sql: String, values: Vec<Value>| -> String {
            store
                .read(|c| {
                    let mut st = c
                        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                        .ctx("plan")?;
                    let rows = st
                        .query_map(params_from_iter(values.iter()), |r| r.get::<_, String>(3))
                        .ctx("plan")?;
                    rows.collect::<Result<Vec<_>, _>>().ctx("plan")
                })
                .unwrap()
                .join("; ")
        };
        for (scope, index) in [
            (Scope::County("410520".into()), "county_lat_lon"),
            (Scope::Township("410520101".into()), "township_lat_lon"),
        ] {
            let (sql, values) = hotspots_sql(&HotspotQuery {
                from: Some(t),
                to: None,
                bbox,
                unit: None,
                source: None,
                min_confidence: None,
                scope: scope.clone(),
                limit: 1001,
                after: None,
            });
            let p = plan(sql, values);
            assert!(p.contains(&format!("hotspots_{index}")), "{p}");
            let (sql, values) = events_sql(&EventQuery {
                from: Some(t),
                bbox,
                scope,
                limit: 1001,
                ..EventQuery::default()
            });
            let p = plan(sql, values);
            assert!(p.contains(&format!("events_{index}")), "{p}");
        }
    }
}
