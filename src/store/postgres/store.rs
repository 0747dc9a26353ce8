//! [`Store`] on PostgreSQL: the ingest (one transaction per batch, `ingest.rs`) and the queries
//! with SQLite's filters, keysets and order. A list page is at most a few thousand rows (`limit`), read
//! whole and handed to the visitor row by row.

use chrono::{DateTime, TimeZone, Utc};
use postgres::types::ToSql;
use postgres::Row as PgRow;

use super::{pg_err, PgStore};
use crate::fuse::{FireEvent, FuseParams, Placement, Placer, SourceKind};
use crate::hotspot::{Confidence, DayNight, Hotspot};
use crate::store::error::StoreError;
use crate::store::model::*;
use crate::store::shared::{lookups, min_score, EVENT_COLUMNS};
use crate::store::Store;

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
        self.write_ingest(|tx| super::ingest::ingest_tx(tx, batch, p, placer, None, &Scope::All))
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
            c.query_cached(&sql, &refs(&values))
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
            c.query_cached(&sql, &refs(&values))
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
        self.read(|c| lookups::counts(c))
    }
}

pub(super) fn read_event(r: &PgRow) -> (FireEvent, i64) {
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
