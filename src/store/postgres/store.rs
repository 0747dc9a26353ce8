//! [`Store`] on PostgreSQL: the same steps as SQLite's `store.rs` in one transaction per batch
//! (advisory lock, origin row by content hash, hotspots and alerts by key, candidate events by
//! box and time window, fused in memory, written back, rows linked), and the queries with the
//! same filters, keysets and order. A list page is at most a few thousand rows (`limit`), read
//! whole and handed to the visitor row by row.

use chrono::{DateTime, TimeZone, Utc};
use postgres::types::ToSql;
use postgres::{Row as PgRow, Transaction};

use super::{pg_err, PgStore, INGEST_LOCK};
use crate::fuse::{
    confidence_score, FireEvent, FuseParams, Placement, Placer, Sighting, SourceKind,
};
use crate::hotspot::{Confidence, DayNight, Hotspot};
use crate::store::error::StoreError;
use crate::store::model::*;
use crate::store::shared::{fuse_batch, lookups, min_score, BatchFusion, EVENT_COLUMNS};
use crate::store::{hotspot_key, Store};

pub(super) fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

pub(super) fn from_ts(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0).single().unwrap_or_default()
}

type Param = Box<dyn ToSql + Sync>;

fn refs(values: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v.as_ref()).collect()
}

impl Store for PgStore {
    fn ingest(
        &self,
        batch: &IngestBatch,
        p: &FuseParams,
        placer: &dyn Placer,
    ) -> Result<IngestReport, StoreError> {
        self.write(|tx| ingest_tx(tx, batch, p, placer, None, &Scope::All))
    }

    fn knows(&self, sha256: &str) -> Result<bool, StoreError> {
        self.read(|c| lookups::knows(c, sha256))
    }

    fn hotspots_each(
        &self,
        q: &HotspotQuery,
        f: &mut dyn FnMut(StoredHotspot) -> bool,
    ) -> Result<(), StoreError> {
        let (sql, values) = hotspots_sql(q);
        let rows = self.read(|c| {
            c.query(&sql, &refs(&values))
                .map_err(pg_err("query hotspots"))
        })?;
        for r in rows {
            if !f(read_hotspot(&r)) {
                break;
            }
        }
        Ok(())
    }

    fn events_each(
        &self,
        q: &EventQuery,
        f: &mut dyn FnMut(StoredEvent) -> bool,
    ) -> Result<(), StoreError> {
        let (sql, values) = events_sql(q);
        let rows = self.read(|c| {
            c.query(&sql, &refs(&values))
                .map_err(pg_err("query events"))
        })?;
        for r in rows {
            let (event, updated) = read_event(&r);
            let task = match (r.get::<_, Option<i64>>(19), r.get::<_, Option<String>>(20)) {
                (Some(id), Some(state)) => Some((id, state)),
                _ => None,
            };
            let e = StoredEvent {
                event,
                updated_at: from_ts(updated),
                task_reason: r.get(18),
                task,
            };
            if !f(e) {
                break;
            }
        }
        Ok(())
    }

    fn alerts_of_event(&self, event_id: i64) -> Result<Vec<StoredAlert>, StoreError> {
        self.read(|c| lookups::alerts_of_event(c, event_id))
    }

    fn unit(&self, code: &str) -> Result<UnitStats, StoreError> {
        self.read(|c| lookups::unit(c, code))
    }

    fn counts(&self) -> Result<Counts, StoreError> {
        self.read(lookups::counts)
    }
}

/// Where a new sighting came from, so its row can be linked to its event afterwards.
enum Row {
    Hotspot(i64),
    Alert(i64),
}

/// Stores a batch and fuses it (see SQLite's `ingest_tx`, whose steps this follows); with
/// `dispatch` every saved event gets its task created or updated in the same transaction
/// (`tasks.rs`). Every row placed and every event changed must lie within `reach`, else nothing
/// is committed.
pub(super) fn ingest_tx(
    tx: &mut Transaction<'_>,
    batch: &IngestBatch,
    p: &FuseParams,
    placer: &dyn Placer,
    dispatch: Option<(&crate::dispatch::TaskRules, DateTime<Utc>)>,
    reach: &Scope,
) -> Result<IngestReport, StoreError> {
    let report = ingest_rows(tx, batch, p, placer, dispatch, reach)?;
    // Every node's live streams hear of the batch once it commits (`live.rs`).
    super::live::record_batch(tx, &report)?;
    Ok(report)
}

/// [`ingest_tx`] but for the live log.
fn ingest_rows(
    tx: &mut Transaction<'_>,
    batch: &IngestBatch,
    p: &FuseParams,
    placer: &dyn Placer,
    dispatch: Option<(&crate::dispatch::TaskRules, DateTime<Utc>)>,
    reach: &Scope,
) -> Result<IngestReport, StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&INGEST_LOCK])
        .map_err(pg_err("take the ingest lock"))?;
    let within = |pl: &Placement| {
        reach
            .reaches_placement(pl)
            .map_err(|unit| StoreError::OutOfReach { unit })
    };
    let now = ts(Utc::now());
    let mut report = IngestReport::default();
    let (origin, scene_id, feed_id): (&str, Option<i64>, Option<i64>) = match &batch.origin {
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
            let id: i64 = tx
                .query_one(
                    "INSERT INTO scenes (sha256, name, source, acq_time, satellite, sensor, model, rows, cols, hotspots, ingested_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                    &[sha256, name, &batch.source, &acq_time.map(ts), satellite, sensor, model,
                      &(shape.0 as i64), &(shape.1 as i64), &(batch.hotspots.len() as i64), &now],
                )
                .map_err(pg_err("insert scene"))?
                .get(0);
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
            tx.execute(
                "INSERT INTO observation_summaries VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                &values,
            )
            .map_err(pg_err("insert summary"))?;
            let st = tx
                .prepare(
                    "INSERT INTO scene_coverage (scene_id, unit, level, land_pixels, clear_pixels)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (scene_id, unit) DO UPDATE SET level = EXCLUDED.level,
                       land_pixels = EXCLUDED.land_pixels, clear_pixels = EXCLUDED.clear_pixels",
                )
                .map_err(pg_err("prepare coverage"))?;
            for c in coverage {
                tx.execute(
                    &st,
                    &[
                        &id,
                        &c.unit,
                        &c.level,
                        &(c.land_pixels as i64),
                        &(c.clear_pixels as i64),
                    ],
                )
                .map_err(pg_err("insert coverage"))?;
            }
            ("scene", Some(id), None)
        }
        Origin::Feed { sha256, name, rows } => {
            if exists(tx, "feeds", sha256)? {
                report.already_ingested = true;
                return Ok(report);
            }
            let id: i64 = tx
                .query_one(
                    "INSERT INTO feeds (sha256, name, source, rows, ingested_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    &[sha256, name, &batch.source, &(*rows as i64), &now],
                )
                .map_err(pg_err("insert feed"))?
                .get(0);
            ("feed", None, Some(id))
        }
        Origin::Alerts => ("sensor", None, None),
    };

    let mut sightings: Vec<(Sighting, Row, Placement)> = Vec::new();
    let ins = tx
        .prepare(
            // Only an earlier row with the same key makes a duplicate (no row comes back); any
            // other constraint failure is an error naming the row.
            "INSERT INTO hotspots (key, origin, scene_id, feed_id, lat, lon, acq_time, satellite,
               instrument, confidence, confidence_score, version, bt_mir_k, bt_tir_k, scan_km, track_km,
               frp_mw, daynight, fire_type, row, col, county, township, village, parcel, mask)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
               $19, $20, $21, $22, $23, $24, $25, $26)
             ON CONFLICT (key) DO NOTHING RETURNING id",
        )
        .map_err(pg_err("prepare hotspot insert"))?;
    for (index, h) in batch.hotspots.iter().enumerate() {
        let footprint_m = h.footprint_m();
        let pl = placer.place(h.longitude, h.latitude, footprint_m);
        within(&pl)?;
        let score = confidence_score(h.confidence);
        let key = hotspot_key(h);
        let row_refusal = |source: postgres::Error| StoreError::Row {
            what: "hotspot",
            index: index + 1,
            key: key.clone(),
            source: source.into(),
        };
        let at = tx.query_opt(
            &ins,
            &[
                &key,
                &origin,
                &scene_id,
                &feed_id,
                &h.latitude,
                &h.longitude,
                &ts(h.acq_time),
                &h.satellite,
                &h.instrument,
                &h.confidence.as_firms(),
                &score,
                &h.version,
                &h.bt_mir_k,
                &h.bt_tir_k,
                &h.scan_km,
                &h.track_km,
                &h.frp_mw,
                &h.daynight.as_firms(),
                &h.fire_type.map(i64::from),
                &h.row.map(|v| v as i64),
                &h.col.map(|v| v as i64),
                &pl.county,
                &pl.township,
                &pl.village,
                &pl.parcel,
                &pl.mask,
            ],
        );
        let Some(r) = at.map_err(row_refusal)? else {
            report.hotspots_duplicate += 1;
            continue;
        };
        let id: i64 = r.get(0);
        report.hotspots_new += 1;
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
    let ins = tx
        .prepare(
            "INSERT INTO sensor_alerts (key, sensor_id, time, lon, lat, footprint_m, kind,
               confidence, image_url, county, township, village, parcel, mask, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             ON CONFLICT (key) DO NOTHING RETURNING id",
        )
        .map_err(pg_err("prepare alert insert"))?;
    for (index, a) in batch.alerts.iter().enumerate() {
        let pl = placer.place(a.lon, a.lat, a.footprint_m);
        within(&pl)?;
        let key = format!("{}|{}|{}", a.sensor_id, ts(a.time), a.kind.as_str());
        let at = tx
            .query_opt(
                &ins,
                &[
                    &key,
                    &a.sensor_id,
                    &ts(a.time),
                    &a.lon,
                    &a.lat,
                    &a.footprint_m,
                    &a.kind.as_str(),
                    &a.confidence,
                    &a.image_url,
                    &pl.county,
                    &pl.township,
                    &pl.village,
                    &pl.parcel,
                    &pl.mask,
                    &now,
                ],
            )
            .map_err(|source| StoreError::Row {
                what: "alert",
                index: index + 1,
                key: key.clone(),
                source: source.into(),
            })?;
        let Some(r) = at else {
            report.alerts_duplicate += 1;
            continue;
        };
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
            Row::Alert(r.get(0)),
            pl,
        ));
    }
    if sightings.is_empty() {
        return Ok(report);
    }

    // Candidate events per sighting: a box and a time window on the (lat, lon) and
    // `last_seen` indexes; events made earlier in this batch are in memory.
    let near_sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events
         WHERE lat BETWEEN $1 AND $2 AND lon BETWEEN $3 AND $4
           AND last_seen >= $5 AND first_seen <= $6"
    );
    let near_st = tx
        .prepare(&near_sql)
        .map_err(pg_err("prepare candidates"))?;
    let BatchFusion {
        mut events,
        stored,
        dirty,
        links,
    } = fuse_batch(sightings, p, |r| {
        let near = tx
            .query(
                &near_st,
                &[
                    &r.min_lat, &r.max_lat, &r.min_lon, &r.max_lon, &r.from, &r.to,
                ],
            )
            .map_err(pg_err("query candidates"))?;
        Ok::<_, StoreError>(near.iter().map(|row| read_event(row).0).collect())
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
            let d =
                crate::store::shared::task_steps::on_event_saved(tx, ev, id, placer, rules, at)?;
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
    let link_h = tx
        .prepare("UPDATE hotspots SET event_id = $1 WHERE id = $2")
        .map_err(pg_err("prepare link"))?;
    let link_a = tx
        .prepare("UPDATE sensor_alerts SET event_id = $1 WHERE id = $2")
        .map_err(pg_err("prepare link"))?;
    for (row, i) in links {
        let event_id = events[i].id;
        match row {
            Row::Hotspot(id) => tx.execute(&link_h, &[&event_id, &id]),
            Row::Alert(id) => tx.execute(&link_a, &[&event_id, &id]),
        }
        .map_err(pg_err("link to event"))?;
    }
    Ok(report)
}

fn exists(tx: &mut Transaction<'_>, table: &str, sha256: &str) -> Result<bool, StoreError> {
    tx.query_opt(
        &format!("SELECT 1 FROM {table} WHERE sha256 = $1"),
        &[&sha256],
    )
    .map(|o| o.is_some())
    .map_err(pg_err("look up content hash"))
}

fn save_event(tx: &mut Transaction<'_>, e: &mut FireEvent, now: i64) -> Result<i64, StoreError> {
    let sources = serde_json::to_string(&e.sources).unwrap_or_default();
    let kinds = e
        .kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let pl = &e.placement;
    let (first, last, confidence, sightings) = (
        ts(e.first_seen),
        ts(e.last_seen),
        e.confidence(),
        i64::from(e.sightings),
    );
    let mut values: Vec<&(dyn ToSql + Sync)> = vec![
        &e.lon,
        &e.lat,
        &e.footprint_m,
        &first,
        &last,
        &sources,
        &kinds,
        &e.max_frp_mw,
        &e.satellite_confidence,
        &e.camera_confidence,
        &confidence,
        &sightings,
        &pl.county,
        &pl.township,
        &pl.village,
        &pl.parcel,
        &pl.mask,
        &now,
    ];
    let id = match e.id {
        Some(id) => {
            values.push(&id);
            tx.execute(
                "UPDATE events SET lon = $1, lat = $2, footprint_m = $3, first_seen = $4, last_seen = $5,
                   sources = $6, kinds = $7, max_frp_mw = $8, satellite_confidence = $9,
                   camera_confidence = $10, confidence = $11, sightings = $12, county = $13,
                   township = $14, village = $15, parcel = $16, mask = $17, updated_at = $18
                 WHERE id = $19",
                &values,
            )
            .map_err(pg_err("update event"))?;
            id
        }
        None => {
            let id: i64 = tx
                .query_one(
                    "INSERT INTO events (lon, lat, footprint_m, first_seen, last_seen, sources, kinds,
                       max_frp_mw, satellite_confidence, camera_confidence, confidence, sightings,
                       county, township, village, parcel, mask, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
                     RETURNING id",
                    &values,
                )
                .map_err(pg_err("insert event"))?
                .get(0);
            id
        }
    };
    e.id = Some(id);
    Ok(id)
}

fn read_event(r: &PgRow) -> (FireEvent, i64) {
    let sources: String = r.get(6);
    let kinds: String = r.get(7);
    (
        FireEvent {
            id: Some(r.get(0)),
            lon: r.get(1),
            lat: r.get(2),
            footprint_m: r.get(3),
            first_seen: from_ts(r.get(4)),
            last_seen: from_ts(r.get(5)),
            sources: serde_json::from_str(&sources).unwrap_or_default(),
            kinds: kinds.split(',').filter_map(SourceKind::parse).collect(),
            max_frp_mw: r.get(8),
            satellite_confidence: r.get(9),
            camera_confidence: r.get(10),
            sightings: r.get::<_, i64>(11) as u32,
            placement: Placement {
                county: r.get(12),
                township: r.get(13),
                village: r.get(14),
                parcel: r.get(15),
                mask: r.get(16),
            },
        },
        r.get(17),
    )
}

fn read_hotspot(r: &PgRow) -> StoredHotspot {
    let conf: &str = r.get(7);
    StoredHotspot {
        id: r.get(0),
        origin: r.get(1),
        hotspot: Hotspot {
            latitude: r.get(2),
            longitude: r.get(3),
            acq_time: from_ts(r.get(4)),
            satellite: r.get(5),
            instrument: r.get(6),
            confidence: Confidence::parse(conf).unwrap_or(Confidence::Low),
            version: r.get(8),
            bt_mir_k: r.get(9),
            bt_tir_k: r.get(10),
            scan_km: r.get(11),
            track_km: r.get(12),
            frp_mw: r.get(13),
            daynight: if r.get::<_, &str>(14) == "D" {
                DayNight::Day
            } else {
                DayNight::Night
            },
            fire_type: r.get::<_, Option<i64>>(15).map(|v| v as u8),
            row: r.get::<_, Option<i64>>(16).map(|v| v as usize),
            col: r.get::<_, Option<i64>>(17).map(|v| v as usize),
        },
        placement: Placement {
            county: r.get(18),
            township: r.get(19),
            village: r.get(20),
            parcel: r.get(21),
            mask: r.get(22),
        },
        event_id: r.get(23),
    }
}

/// WHERE clauses and their values, built from filters (`?` numbered `$n` in order; every
/// parameter cast, since PostgreSQL cannot infer the type of `$n` inside `||`).
#[derive(Default)]
struct Filter {
    clauses: Vec<String>,
    values: Vec<Param>,
}

impl Filter {
    fn push(&mut self, clause: &str, values: Vec<Param>) {
        let mut values = values.into_iter();
        let mut out = String::with_capacity(clause.len() + 8);
        for ch in clause.chars() {
            if ch == '?' {
                if let Some(v) = values.next() {
                    self.values.push(v);
                }
                out.push_str(&format!("${}", self.values.len()));
            } else {
                out.push(ch);
            }
        }
        self.clauses.push(out);
    }

    fn scope(&mut self, scope: &Scope) {
        match scope {
            Scope::All => {}
            Scope::County(c) => self.push("county = ?::text", vec![Box::new(c.clone())]),
            Scope::Township(t) => self.push("township = ?::text", vec![Box::new(t.clone())]),
        }
    }

    fn unit(&mut self, unit: &Option<String>) {
        if let Some(u) = unit {
            self.push(
                "(county = ?::text OR township = ?::text OR village = ?::text OR parcel = ?::text)",
                (0..4).map(|_| Box::new(u.clone()) as Param).collect(),
            );
        }
    }

    fn bbox(&mut self, bbox: &Option<[f64; 4]>) {
        if let Some([w, s, e, n]) = bbox {
            self.push(
                "lon BETWEEN ?::float8 AND ?::float8 AND lat BETWEEN ?::float8 AND ?::float8",
                [*w, *e, *s, *n]
                    .into_iter()
                    .map(|v| Box::new(v) as Param)
                    .collect(),
            );
        }
    }

    /// Rows after `k` in (`at`, `id`) order.
    fn after(&mut self, at: &str, id: &str, k: Option<Keyset>) {
        if let Some(k) = k {
            self.push(
                &format!("({at}, {id}) > (?::int8, ?::int8)"),
                vec![Box::new(k.at), Box::new(k.id)],
            );
        }
    }

    /// The keyset of a descending walk: rows before `k` in (`at`, `id`) order.
    fn before(&mut self, at: &str, id: &str, k: Option<Keyset>) {
        if let Some(k) = k {
            self.push(
                &format!("({at}, {id}) < (?::int8, ?::int8)"),
                vec![Box::new(k.at), Box::new(k.id)],
            );
        }
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
fn hotspots_sql(q: &HotspotQuery) -> (String, Vec<Param>) {
    let mut f = Filter::default();
    f.scope(&q.scope);
    f.after("acq_time", "id", q.after);
    if let Some(t) = q.from {
        f.push("acq_time >= ?::int8", vec![Box::new(ts(t))]);
    }
    if let Some(t) = q.to {
        f.push("acq_time <= ?::int8", vec![Box::new(ts(t))]);
    }
    f.bbox(&q.bbox);
    f.unit(&q.unit);
    if let Some(s) = &q.source {
        f.push(
            "(origin = ?::text OR upper(instrument) = upper(?::text) OR upper(satellite) = upper(?::text)
              OR (upper(instrument) || '/' || satellite) = upper(?::text))",
            (0..4).map(|_| Box::new(s.clone()) as Param).collect(),
        );
    }
    if let Some(conf) = q.min_confidence {
        f.push(
            "confidence_score >= ?::float8",
            vec![Box::new(min_score(conf))],
        );
    }
    let sql = format!(
        "SELECT id, origin, lat, lon, acq_time, satellite, instrument, confidence, version, bt_mir_k,
           bt_tir_k, scan_km, track_km, frp_mw, daynight, fire_type, row, col, county, township,
           village, parcel, mask, event_id
         FROM hotspots {} ORDER BY acq_time, id LIMIT {}",
        f.sql(),
        q.limit
    );
    (sql, f.values)
}

/// The statement and values of an event query.
fn events_sql(q: &EventQuery) -> (String, Vec<Param>) {
    let mut f = Filter::default();
    f.scope(&q.scope);
    if q.newest_first {
        f.before("first_seen", "id", q.after);
    } else {
        f.after("first_seen", "id", q.after);
    }
    if let Some(id) = q.id {
        f.push("id = ?::int8", vec![Box::new(id)]);
    }
    if let Some(t) = q.from {
        f.push("last_seen >= ?::int8", vec![Box::new(ts(t))]);
    }
    if let Some(t) = q.to {
        f.push("first_seen <= ?::int8", vec![Box::new(ts(t))]);
    }
    f.bbox(&q.bbox);
    f.unit(&q.unit);
    if let Some(s) = &q.source {
        // kinds is a comma list; sources a JSON array of strings.
        f.push(
            "((',' || kinds || ',') LIKE ('%,' || ?::text || ',%') OR strpos(sources, '\"' || ?::text || '\"') > 0)",
            vec![Box::new(s.clone()), Box::new(s.clone())],
        );
    }
    if let Some(conf) = q.min_confidence {
        f.push("confidence >= ?::float8", vec![Box::new(min_score(conf))]);
    }
    const HAS_TASK: &str = "EXISTS (SELECT 1 FROM tasks t WHERE t.event_id = events.id";
    match &q.task {
        None => {}
        Some(TaskFilter::Any) => f.push(&format!("{HAS_TASK})"), vec![]),
        Some(TaskFilter::None) => f.push(&format!("NOT {HAS_TASK})"), vec![]),
        Some(TaskFilter::State(s)) if s == "open" => f.push(
            &format!("{HAS_TASK} AND t.state NOT IN ('verified', 'closed', 'cancelled'))"),
            vec![],
        ),
        Some(TaskFilter::State(s)) => f.push(
            &format!("{HAS_TASK} AND t.state = ?::text)"),
            vec![Box::new(s.clone())],
        ),
        Some(TaskFilter::Reason(r)) => f.push(
            &format!("task_reason = ?::text AND NOT {HAS_TASK})"),
            vec![Box::new(r.clone())],
        ),
    }
    let sql = format!(
        "SELECT {EVENT_COLUMNS}, task_reason,
           (SELECT t.id FROM tasks t WHERE t.event_id = events.id) AS task_id,
           (SELECT t.state FROM tasks t WHERE t.event_id = events.id) AS task_state
         FROM events {} ORDER BY first_seen {order}, id {order} LIMIT {}",
        f.sql(),
        q.limit,
        order = if q.newest_first { "DESC" } else { "ASC" }
    );
    (sql, f.values)
}
