//! [`LiveLog`] on PostgreSQL: the `live_updates` table (migration 3) and `NOTIFY
//! strawfire_live`. An ingest writes its batch's row inside its own transaction
//! ([`record_batch`]), so a batch that committed is in the log even when its process is killed
//! the next instant, and the `NOTIFY` is delivered exactly when the commit is.
//!
//! Commit order is id order: every writer of the log takes the transaction-level advisory lock
//! [`LIVE_LOCK`] before it takes an id and holds it to its commit, so a reader that saw id `n`
//! never sees a smaller id commit later, and "everything after the last id I relayed" is exact.
//! (An ingest takes it last, after its rows are written, so it is held only through the commit.)

use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;

use super::{pg_err, PgStore, PgTx};
use crate::store::error::StoreError;
use crate::store::jobs::{LiveListener, LiveLog};
use crate::store::model::IngestReport;

/// Taken by every writer of `live_updates` (see the module doc).
pub const LIVE_LOCK: i64 = 0x5354_5257_4c49_5645; // "STRWLIVE"

/// The channel listeners are woken on, `strawfire_live:<schema>` (channels are database-wide;
/// the schema keeps stores that share a database apart).
const CHANNEL: &str = "strawfire_live";

/// How long rows are kept for a node catching up.
const KEEP_S: f64 = 3600.0;

fn append(tx: &mut PgTx<'_>, body: &serde_json::Value) -> Result<i64, StoreError> {
    tx.execute_cached("SELECT pg_advisory_xact_lock($1)", &[&LIVE_LOCK])
        .map_err(pg_err("take the live lock"))?;
    // The row, the pruning of old ones and the wake-up in one round trip.
    let rows = tx
        .query_cached(
            "WITH row AS (INSERT INTO live_updates (body) VALUES ($1::text::jsonb) RETURNING id),
                  pruned AS (DELETE FROM live_updates WHERE at < now() - make_interval(secs => $2))
             SELECT id, pg_notify($3 || ':' || current_schema(), '')::text FROM row",
            &[&body.to_string(), &KEEP_S, &CHANNEL],
        )
        .map_err(pg_err("append a live update"))?;
    Ok(rows.first().map_or(0, |r| r.get(0)))
}

/// Writes the live row of an ingest batch (its new hotspots and touched events), in the
/// batch's transaction; nothing when it stored nothing.
pub(super) fn record_batch(tx: &mut PgTx<'_>, report: &IngestReport) -> Result<(), StoreError> {
    if report.stored_hotspots.is_empty() && report.touched_events.is_empty() {
        return Ok(());
    }
    let body = crate::store::jobs::batch_body(&report.stored_hotspots, &report.touched_events);
    append(tx, &body).map(|_| ())
}

impl LiveLog for PgStore {
    fn append_live(&self, body: &serde_json::Value) -> Result<i64, StoreError> {
        self.write(|tx| append(tx, body))
    }

    fn live_after(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, serde_json::Value)>, StoreError> {
        let rows = self.read(|c| {
            c.query_cached(
                "SELECT id, body::text FROM live_updates WHERE id > $1 ORDER BY id LIMIT $2",
                &[&after, &(limit as i64)],
            )
            .map_err(pg_err("read live updates"))
        })?;
        Ok(rows
            .iter()
            .map(|r| {
                let body = serde_json::from_str(r.get(1)).unwrap_or(serde_json::Value::Null);
                (r.get(0), body)
            })
            .collect())
    }

    fn live_head(&self) -> Result<i64, StoreError> {
        self.read(|c| {
            c.query_one("SELECT COALESCE(MAX(id), 0) FROM live_updates", &[])
                .map(|r| r.get(0))
                .map_err(pg_err("read the live head"))
        })
    }

    fn listen_live(&self) -> Result<Box<dyn LiveListener>, StoreError> {
        let mut client = self
            .config
            .connect(postgres::NoTls)
            .map_err(pg_err("connect to listen"))?;
        let schema: String = client
            .query_one("SELECT current_schema()", &[])
            .map_err(pg_err("listen"))?
            .get(0);
        let channel = format!("{CHANNEL}:{schema}").replace('"', "");
        client
            .batch_execute(&format!("LISTEN \"{channel}\""))
            .map_err(pg_err("listen"))?;
        Ok(Box::new(PgListener {
            client: Some(client),
        }))
    }
}

/// A connection of its own, `LISTEN`ing.
struct PgListener {
    /// Always `Some` until dropped.
    client: Option<postgres::Client>,
}

impl Drop for PgListener {
    /// As the pool's (`PgStore`'s `Drop`): a `postgres::Client` must not close on an async
    /// thread.
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            std::thread::spawn(move || drop(c));
        }
    }
}

impl LiveListener for PgListener {
    fn wait(&mut self, timeout: Duration) -> Result<bool, StoreError> {
        let c = self.client.as_mut().expect("open until dropped");
        let mut n = c.notifications();
        let first = n
            .timeout_iter(timeout)
            .next()
            .map_err(pg_err("wait for live updates"))?;
        if first.is_none() {
            return Ok(false);
        }
        // Several commits may have woken us: one read covers them all.
        while n
            .iter()
            .next()
            .map_err(pg_err("wait for live updates"))?
            .is_some()
        {}
        Ok(true)
    }
}
