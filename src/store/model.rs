//! The plain data that goes in and out of a [`super::Store`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::detect::ObservationSummary;
use crate::fuse::{FireEvent, Placement};
use crate::hotspot::{Confidence, Hotspot};

/// Where a batch comes from. Scenes and feed files carry the SHA-256 of their bytes: a second
/// batch with the same hash is a no-op.
#[derive(Debug, Clone)]
// One Origin per batch (thousands of hotspots beside it): its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Origin {
    /// A scanned scene: its hotspots and what it observed.
    Scene {
        sha256: String,
        name: String,
        acq_time: Option<DateTime<Utc>>,
        satellite: Option<String>,
        sensor: Option<String>,
        model: String,
        /// (rows, cols).
        shape: (usize, usize),
        summary: ObservationSummary,
        /// Land and clear land seen per county and township (`scene_coverage`); empty when no
        /// layers place the samples.
        coverage: Vec<crate::rank::coverage::UnitCoverage>,
    },
    /// A hotspot feed file or body (FIRMS CSV or GeoJSON).
    Feed {
        sha256: String,
        name: String,
        rows: usize,
    },
    /// Sensor alerts (each deduplicated on its own).
    Alerts,
}

/// What to store in one transaction.
#[derive(Debug, Clone)]
pub struct IngestBatch {
    pub origin: Origin,
    /// How it arrived, for metrics and provenance: `inbox`, `upload`, `ingest`, `post`, `poll`,
    /// `sensor`.
    pub source: String,
    pub hotspots: Vec<Hotspot>,
    pub alerts: Vec<SensorAlert>,
}

/// A row an ingest stored or touched, and where it lies: what a live update needs of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placed {
    pub id: i64,
    pub lon: f64,
    pub lat: f64,
    pub county: Option<String>,
    pub township: Option<String>,
}

/// What an ingest did (read back from a scene job's result, hence `Deserialize`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IngestReport {
    /// The scene or feed file was stored before: nothing changed.
    pub already_ingested: bool,
    pub hotspots_new: usize,
    pub hotspots_duplicate: usize,
    pub alerts_new: usize,
    pub alerts_duplicate: usize,
    pub events_new: usize,
    pub events_updated: usize,
    /// Events that would have been dispatched but got no task because their newest detection
    /// was older than `[dispatch] max_age_h` at ingest (a backfill or an archive).
    pub events_too_old: usize,
    /// Store ids of the events touched.
    pub event_ids: Vec<i64>,
    /// The hotspots this batch stored (not its duplicates) and the events it touched, with
    /// their units, so that live updates need not look them up again.
    #[serde(skip)]
    pub stored_hotspots: Vec<Placed>,
    #[serde(skip)]
    pub touched_events: Vec<Placed>,
}

/// Smoke or fire, as a ground sensor reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    Smoke,
    Fire,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Smoke => "smoke",
            AlertKind::Fire => "fire",
        }
    }
}

/// One ground-sensor alert with its position resolved (bearing and distance already applied).
#[derive(Debug, Clone, PartialEq)]
pub struct SensorAlert {
    pub sensor_id: String,
    pub time: DateTime<Utc>,
    pub lon: f64,
    pub lat: f64,
    /// Position uncertainty, m.
    pub footprint_m: f64,
    pub kind: AlertKind,
    /// 0–1.
    pub confidence: f64,
    pub image_url: Option<String>,
}

/// Which rows a caller may see.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    All,
    /// A county's adcode.
    County(String),
    /// A township's code.
    Township(String),
}

impl Scope {
    /// Whether a write placed at `p` lies within this scope: a county scope reaches what is
    /// placed in its county, a township scope what is placed in its township, `All` everything
    /// (also what lies outside every unit). `Err` names the unit it lands in (`None`: no unit).
    pub fn reaches_placement(&self, p: &crate::fuse::Placement) -> Result<(), Option<String>> {
        let (want, got) = match self {
            Scope::All => return Ok(()),
            Scope::County(c) => (c, &p.county),
            Scope::Township(t) => (t, &p.township),
        };
        if got.as_deref() == Some(want.as_str()) {
            Ok(())
        } else {
            // The most telling code: the township for a township scope when known, else the county.
            Err(got.clone().or_else(|| p.county.clone()))
        }
    }
}

/// Where a page of a list ordered by (time, id) ends: the next page starts after this row.
/// Keyset paging: stable while rows are inserted (no row is skipped or repeated because another
/// came in), and each page costs an index range, not an offset scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyset {
    /// The order column of the last row (seconds since the epoch).
    pub at: i64,
    pub id: i64,
}

/// Filters of `GET /hotspots`.
#[derive(Debug, Clone)]
pub struct HotspotQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// [west, south, east, north], degrees.
    pub bbox: Option<[f64; 4]>,
    /// Any unit code: county, township, village or parcel.
    pub unit: Option<String>,
    /// Origin (`scene`, `feed`), `INSTRUMENT/SAT`, instrument or satellite.
    pub source: Option<String>,
    /// At least this class.
    pub min_confidence: Option<Confidence>,
    pub scope: Scope,
    pub limit: usize,
    /// Only rows after this one in (acq_time, id) order.
    pub after: Option<Keyset>,
}

impl Default for HotspotQuery {
    fn default() -> Self {
        HotspotQuery {
            from: None,
            to: None,
            bbox: None,
            unit: None,
            source: None,
            min_confidence: None,
            scope: Scope::All,
            limit: 10_000,
            after: None,
        }
    }
}

/// Filters of `GET /events`.
#[derive(Debug, Clone)]
pub struct EventQuery {
    /// One event by id.
    pub id: Option<i64>,
    /// Events last seen at or after.
    pub from: Option<DateTime<Utc>>,
    /// Events first seen at or before.
    pub to: Option<DateTime<Utc>>,
    pub bbox: Option<[f64; 4]>,
    pub unit: Option<String>,
    /// `satellite`, `camera` or a source name.
    pub source: Option<String>,
    pub min_confidence: Option<Confidence>,
    pub scope: Scope,
    pub limit: usize,
    /// Only events after this one in (first_seen, id) order.
    pub after: Option<Keyset>,
    /// By their task or the reason they have none.
    pub task: Option<TaskFilter>,
    /// Newest first (`first_seen` descending): `after` is then the last row of the previous
    /// page in that order.
    pub newest_first: bool,
}

impl Default for EventQuery {
    fn default() -> Self {
        EventQuery {
            id: None,
            from: None,
            to: None,
            bbox: None,
            unit: None,
            source: None,
            min_confidence: None,
            scope: Scope::All,
            limit: 10_000,
            after: None,
            task: None,
            newest_first: false,
        }
    }
}

/// A stored hotspot: the record, where it is, and its ids.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredHotspot {
    pub id: i64,
    /// `scene` or `feed`.
    pub origin: String,
    pub hotspot: Hotspot,
    pub placement: Placement,
    pub event_id: Option<i64>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub event: FireEvent,
    pub updated_at: DateTime<Utc>,
    /// Why dispatch gave the event no task (`too_old`, `masked`, `not_on_farmland`,
    /// `outside_units`, `low_confidence`); `None` when it has one or was stored without dispatch.
    pub task_reason: Option<String>,
    /// Its task, if it has one: id and state.
    pub task: Option<(i64, String)>,
}

/// The events `GET /events?task=` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskFilter {
    /// With a task, in any state.
    Any,
    /// Without a task.
    None,
    /// With a task in this state (`new`, ..., `cancelled`) or `open`.
    State(String),
    /// Without a task, for this reason (`too_old`, `masked`, ...).
    Reason(String),
}

/// A stored sensor alert.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAlert {
    pub id: i64,
    pub alert: SensorAlert,
    pub event_id: Option<i64>,
}

/// Row counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub scenes: u64,
    pub feeds: u64,
    pub hotspots: u64,
    pub alerts: u64,
    pub events: u64,
}

/// What the store knows of a unit code.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UnitStats {
    pub code: String,
    /// `county`, `township`, `village` or `parcel`: the column the code was found in.
    pub level: Option<String>,
    /// The county a township or finer unit lies in.
    pub county: Option<String>,
    pub hotspots: u64,
    pub events: u64,
    pub last_seen: Option<DateTime<Utc>>,
}
