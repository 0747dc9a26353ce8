//! The embedded store: one SQLite file in WAL mode.
//!
//! Durability: `synchronous = FULL`, so a commit is on disk before [`Store::ingest`] returns and
//! an acknowledged write survives `kill -9` (and power loss). `synchronous = NORMAL` would skip
//! that fsync and still survive `kill -9` (the WAL is in the page cache), but a power cut could
//! lose the last acknowledged writes, so it is not used; group commit (`writer.rs`) shares one
//! fsync among the writes that arrive together instead. One writer connection (SQLite allows one
//! writer at a time anyway), held only on blocking threads, never across an `.await`; readers
//! take their own connections from a bounded pool and, in WAL mode, never wait for the writer.
//! A reader that finds every connection busy waits for one (a `Condvar`) instead of opening
//! another: opening a connection (file, WAL index, pragmas, the schema parsed again at its first statement)
//! costs more than most reads, and at 50 concurrent requests on two cores the reads that ran at
//! once only took turns on the CPU anyway (benches/service.rs, BENCHMARKS.md).
//!
//! Links the system libsqlite3, not rusqlite's `bundled` copy: two SQLite copies in one process
//! (GDAL links the system one) corrupt each other's state.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OpenFlags};

use crate::store::error::{SqlContext, StoreError};
use migrations::migrate;
use writer::Writer;

mod deliveries;
pub mod migrations;
mod operator;
pub mod outbox;
mod rank;
mod store;
mod tasks;
mod tx;
mod writer;

/// Reader connections at most: reads beyond it wait for a connection.
const READER_POOL: usize = 8;

/// The reader connections: idle ones, and how many exist (idle or lent out).
struct ReaderPool {
    idle: Vec<Connection>,
    open: usize,
}

/// The SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    readers: Mutex<ReaderPool>,
    reader_free: Condvar,
}

impl SqliteStore {
    /// Opens (creating and migrating when needed) the store file.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let mut conn = open_conn(path)?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: Writer::new(conn),
            readers: Mutex::new(ReaderPool {
                idle: Vec::new(),
                open: 0,
            }),
            reader_free: Condvar::new(),
        })
    }

    /// Caps the store at about `bytes` (`PRAGMA max_page_count` on the writer): a write that
    /// would grow it further fails with SQLITE_FULL, as on a full disk, and changes nothing.
    /// Keeps room on a shared disk for logs and uploads.
    pub fn cap_size(&self, bytes: u64) -> Result<(), StoreError> {
        self.writer.exclusive(|conn| {
            let page: i64 = conn
                .query_row("PRAGMA page_size", [], |r| r.get(0))
                .ctx("read page size")?;
            let pages = (bytes / page.max(512) as u64).max(1) as i64;
            conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
                .ctx("cap the store size")?;
            Ok(())
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A statement on the writer outside any transaction (tests add triggers with it).
    #[cfg(test)]
    pub(crate) fn execute_for_test(&self, sql: &str) {
        self.writer.exclusive(|c| c.execute_batch(sql)).unwrap();
    }

    /// Rows of a table.
    #[cfg(test)]
    pub(crate) fn count_for_test(&self, table: &str) -> i64 {
        self.read(|c| {
            c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .ctx("test count")
        })
        .unwrap()
    }

    /// The first column of a query's rows, as text.
    #[cfg(test)]
    pub(crate) fn texts_for_test(&self, sql: &str) -> Vec<String> {
        self.read(|c| {
            let mut st = c.prepare(sql).ctx("test query")?;
            let rows = st.query_map([], |r| r.get(0)).ctx("test query")?;
            rows.collect::<Result<Vec<_>, _>>().ctx("test query")
        })
        .unwrap()
    }

    /// Whether a statement on the writer succeeds (tests check what the schema refuses).
    #[cfg(test)]
    pub(crate) fn try_execute_for_test(&self, sql: &str) -> bool {
        self.writer.exclusive(|c| c.execute_batch(sql)).is_ok()
    }

    /// Runs `f` on a pooled reader connection (other store files use it too).
    pub(super) fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = {
            let mut pool = self.readers.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if let Some(c) = pool.idle.pop() {
                    break Some(c);
                }
                if pool.open < READER_POOL {
                    pool.open += 1;
                    break None;
                }
                pool = self
                    .reader_free
                    .wait(pool)
                    .unwrap_or_else(|e| e.into_inner());
            }
        };
        let conn = match conn {
            Some(c) => c,
            // Opened outside the lock; a failure gives the slot back.
            None => open_reader(&self.path).inspect_err(|_| {
                self.readers.lock().unwrap_or_else(|e| e.into_inner()).open -= 1;
                self.reader_free.notify_one();
            })?,
        };
        // Back to the pool however `f` ends (a panic included), so the pool never shrinks.
        let lent = Lent {
            store: self,
            conn: Some(conn),
        };
        f(lent.conn.as_ref().expect("lent until dropped"))
    }
}

/// A reader connection: 8 MiB of page cache (the writer keeps 64 MiB): a reader serves one page
/// of a list at a time, and twenty streamed lists at once must not each grow a cache the size of
/// the writer's.
fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let c = open_conn(path)?;
    c.pragma_update(None, "cache_size", -8_192)
        .map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source: source.into(),
        })?;
    // Room for every shape of list query (filters given or not) a reader sees, so the lists'
    // cached statements are not evicted by one another.
    c.set_prepared_statement_cache_capacity(64);
    Ok(c)
}

/// A reader connection lent out by [`SqliteStore::read`]; returned to the pool on drop.
struct Lent<'a> {
    store: &'a SqliteStore,
    conn: Option<Connection>,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            self.store
                .readers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .idle
                .push(c);
            self.store.reader_free.notify_one();
        }
    }
}

fn open_conn(path: &Path) -> Result<Connection, StoreError> {
    let fail = |source: rusqlite::Error| StoreError::Open {
        path: path.to_path_buf(),
        source: source.into(),
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(fail)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(fail)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(fail)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(fail)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(fail)?;
    // 64 MiB page cache (default 2 MiB): batches insert into six indexes at random places.
    conn.pragma_update(None, "cache_size", -65_536)
        .map_err(fail)?;
    Ok(conn)
}

pub(super) fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

pub(super) fn from_ts(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0).single().unwrap_or_default()
}
