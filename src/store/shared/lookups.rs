//! The `Store` trait's small reads, written once for both backends over [`Tx`]: whether a
//! content hash is stored, an event's sensor alerts, a unit's figures, the row counts. (The
//! ingest and the paged hotspot and event queries stay each backend's: SQLite streams pages
//! from its reader pool and keeps an R*Tree, PostgreSQL serialises batches under its advisory
//! lock.)

use super::tx::{from_ts, Tx};
use crate::store::error::StoreError;
use crate::store::model::{AlertKind, Counts, SensorAlert, StoredAlert, UnitStats};

/// Whether a scene or feed file with this content hash is stored.
pub(crate) fn knows(c: &mut impl Tx, sha256: &str) -> Result<bool, StoreError> {
    c.query_one(
        "look up content hash",
        "SELECT EXISTS (SELECT 1 FROM scenes WHERE sha256 = ?1)
             OR EXISTS (SELECT 1 FROM feeds WHERE sha256 = ?1)",
        &[sha256.into()],
        |r| r.get(0),
    )
}

/// The sensor alerts fused into an event, oldest first.
pub(crate) fn alerts_of_event(
    c: &mut impl Tx,
    event_id: i64,
) -> Result<Vec<StoredAlert>, StoreError> {
    c.query_rows(
        "query alerts",
        "SELECT id, sensor_id, time, lon, lat, footprint_m, kind, confidence, image_url, event_id
         FROM sensor_alerts WHERE event_id = ?1 ORDER BY time, id",
        &[event_id.into()],
        |r| {
            let kind: String = r.get(6)?;
            Ok(StoredAlert {
                id: r.get(0)?,
                alert: SensorAlert {
                    sensor_id: r.get(1)?,
                    time: from_ts(r.get(2)?),
                    lon: r.get(3)?,
                    lat: r.get(4)?,
                    footprint_m: r.get(5)?,
                    kind: if kind == "smoke" {
                        AlertKind::Smoke
                    } else {
                        AlertKind::Fire
                    },
                    confidence: r.get(7)?,
                    image_url: r.get(8)?,
                },
                event_id: r.get(9)?,
            })
        },
    )
}

/// A unit's figures: its level (the first of county, township, village, parcel whose column
/// holds the code in hotspots or events), county, hotspots, events and last sighting.
pub(crate) fn unit(c: &mut impl Tx, code: &str) -> Result<UnitStats, StoreError> {
    let mut stats = UnitStats {
        code: code.to_string(),
        ..UnitStats::default()
    };
    for level in ["county", "township", "village", "parcel"] {
        let mut found = None;
        for table in ["hotspots", "events"] {
            found = c.query_opt(
                "unit level",
                &format!("SELECT county FROM {table} WHERE {level} = ?1 LIMIT 1"),
                &[code.into()],
                |r| r.get::<Option<String>>(0),
            )?;
            if found.is_some() {
                break;
            }
        }
        if let Some(county) = found {
            stats.level = Some(level.to_string());
            stats.county = county;
            stats.hotspots = c.query_one(
                "unit hotspots",
                &format!("SELECT COUNT(*) FROM hotspots WHERE {level} = ?1"),
                &[code.into()],
                |r| r.get::<i64>(0),
            )? as u64;
            let (events, last) = c.query_one(
                "unit events",
                &format!("SELECT COUNT(*), MAX(last_seen) FROM events WHERE {level} = ?1"),
                &[code.into()],
                |r| Ok((r.get::<i64>(0)?, r.get::<Option<i64>>(1)?)),
            )?;
            stats.events = events as u64;
            stats.last_seen = last.map(from_ts);
            break;
        }
    }
    Ok(stats)
}

/// Rows of the stored tables (one statement: one snapshot).
pub(crate) fn counts(c: &mut impl Tx) -> Result<Counts, StoreError> {
    c.query_one(
        "count",
        "SELECT (SELECT COUNT(*) FROM scenes), (SELECT COUNT(*) FROM feeds),
                (SELECT COUNT(*) FROM hotspots), (SELECT COUNT(*) FROM sensor_alerts),
                (SELECT COUNT(*) FROM events)",
        &[],
        |r| {
            let n = |i: usize| -> Result<u64, StoreError> { Ok(r.get::<i64>(i)? as u64) };
            Ok(Counts {
                scenes: n(0)?,
                feeds: n(1)?,
                hotspots: n(2)?,
                alerts: n(3)?,
                events: n(4)?,
            })
        },
    )
}
