//! The persistence boundary. Everything the service knows is here: scenes and feed files (by
//! content hash, so ingesting the same bytes again changes nothing), hotspots (deduplicated by
//! [`hotspot_key`]), observation summaries, sensor alerts and fire events.
//!
//! [`Store`] is synchronous on purpose: SQLite and the `postgres` client block, so callers run
//! it on `spawn_blocking` (see `Service::store`), never on the async executor. The PostgreSQL
//! backend implements the same traits; the conformance suite (`conformance.rs`) and the
//! end-to-end tests in `tests/` (`on_both_stores!`) run against either.
//!
//! # Layout
//! What a backend must provide is at the top, with no SQL: [`Store`] here, the supertraits
//! [`TaskStore`] (`tasks.rs`), [`OperatorStore`] (`operator.rs`), [`deliveries::DeliveryStore`]
//! and [`RankStore`] (`rank.rs`), the plain data of `model.rs`, `idempotency.rs` and the
//! traits' own files, and [`StoreError`]. Each backend is a folder implementing them, one file per
//! trait: [`sqlite`] (the embedded default) and [`postgres`] (the server store, `[store] url`;
//! all of them; a backend lacking a part answers [`StoreError::Unsupported`], the API's 501). `shared.rs` holds
//! what both share where the dialects agree; `conformance.rs` is the one test suite both run.

pub mod deliveries;
pub mod error;
pub mod idempotency;
pub mod jobs;
pub mod model;
pub mod operator;
pub mod postgres;
pub mod rank;
mod shared;
pub mod sqlite;
pub mod tasks;

#[cfg(test)]
mod conformance;

// The SQLite outbox and migrations kept at their old paths (tests write outbox rows directly).
pub use sqlite::{migrations, outbox};

pub use error::StoreError;
pub use jobs::JobStore;
pub use model::{
    AlertKind, Counts, EventQuery, HotspotQuery, IngestBatch, IngestReport, Keyset, Origin, Placed,
    Scope, SensorAlert, StoredAlert, StoredEvent, StoredHotspot, TaskFilter, UnitStats,
};
pub use operator::OperatorStore;
pub use postgres::PgStore;
pub use rank::RankStore;
pub use sqlite::SqliteStore;
pub use tasks::TaskStore;

use crate::fuse::{FuseParams, Placer};
use crate::hotspot::Hotspot;

/// A store backend.
pub trait Store:
    Send + Sync + TaskStore + OperatorStore + deliveries::DeliveryStore + RankStore
{
    /// Stores a batch in one transaction and fuses its new detections into events. When this
    /// returns `Ok`, the batch is durable (it survives `kill -9` and power loss as far as the
    /// backend's fsync does). A batch whose origin hash is already stored changes nothing and
    /// reports `already_ingested`.
    fn ingest(
        &self,
        batch: &IngestBatch,
        fuse: &FuseParams,
        placer: &dyn Placer,
    ) -> Result<IngestReport, StoreError>;

    /// True when a scene or feed with these bytes (SHA-256, hex) is stored.
    fn knows(&self, sha256: &str) -> Result<bool, StoreError>;

    /// Hotspots matching a query, oldest first.
    fn hotspots(&self, q: &HotspotQuery) -> Result<Vec<StoredHotspot>, StoreError> {
        let mut out = Vec::new();
        self.hotspots_each(q, &mut |h| {
            out.push(h);
            true
        })?;
        Ok(out)
    }

    /// Hotspots matching a query, oldest first, handed to `f` one at a time as they are read
    /// (`f` returns false to stop): a long list never sits in memory whole.
    fn hotspots_each(
        &self,
        q: &HotspotQuery,
        f: &mut dyn FnMut(StoredHotspot) -> bool,
    ) -> Result<(), StoreError>;

    /// Events matching a query, oldest first seen first.
    fn events(&self, q: &EventQuery) -> Result<Vec<StoredEvent>, StoreError> {
        let mut out = Vec::new();
        self.events_each(q, &mut |e| {
            out.push(e);
            true
        })?;
        Ok(out)
    }

    /// Events matching a query, oldest first seen first, one at a time (see `hotspots_each`).
    fn events_each(
        &self,
        q: &EventQuery,
        f: &mut dyn FnMut(StoredEvent) -> bool,
    ) -> Result<(), StoreError>;

    /// Sensor alerts of an event.
    fn alerts_of_event(&self, event_id: i64) -> Result<Vec<StoredAlert>, StoreError>;

    /// What the store knows of one unit code (county, township, village or parcel).
    fn unit(&self, code: &str) -> Result<UnitStats, StoreError>;

    /// Row counts, for metrics and tests.
    fn counts(&self) -> Result<Counts, StoreError>;
}

/// The key under which a hotspot is stored once: satellite (normalised), instrument, minute of
/// acquisition and position to 1e-4° (≈ 11 m). Overlapping polls, and the NRT and URT versions of
/// one detection, share it (the `version` is not part of it).
pub fn hotspot_key(h: &Hotspot) -> String {
    format!(
        "{}|{}|{}|{:.4}|{:.4}",
        normalise_satellite(&h.satellite),
        h.instrument.to_ascii_uppercase(),
        h.acq_time.format("%Y%m%d%H%M"),
        h.latitude,
        h.longitude
    )
}

/// One code per platform: FIRMS writes NOAA-20 as `N20` or `1`, Terra as `T` or `Terra`.
pub fn normalise_satellite(s: &str) -> String {
    match s.trim().to_ascii_uppercase().as_str() {
        "1" | "N20" | "NOAA-20" | "J1" => "N20".into(),
        "N" | "NPP" | "SNPP" | "SUOMI-NPP" => "N".into(),
        "2" | "N21" | "NOAA-21" | "J2" => "N21".into(),
        "T" | "TERRA" => "T".into(),
        "A" | "AQUA" => "A".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn h(sat: &str, version: &str, lat: f64) -> Hotspot {
        let t = chrono::Utc.with_ymd_and_hms(2024, 6, 8, 18, 6, 31).unwrap();
        Hotspot {
            satellite: sat.into(),
            version: version.into(),
            ..Hotspot::test_viirs(114.123456, lat, t)
        }
    }

    #[test]
    fn nrt_and_urt_of_one_detection_share_a_key() {
        assert_eq!(
            hotspot_key(&h("N20", "2.0NRT", 35.12345)),
            hotspot_key(&h("1", "2.0URT", 35.12345))
        );
        assert_ne!(
            hotspot_key(&h("N20", "2.0NRT", 35.12345)),
            hotspot_key(&h("N", "2.0NRT", 35.12345))
        );
        assert_ne!(
            hotspot_key(&h("N20", "2.0NRT", 35.12345)),
            hotspot_key(&h("N20", "2.0NRT", 35.1240))
        );
    }
}
