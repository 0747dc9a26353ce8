//! The server store: PostgreSQL 15 (PostGIS installed beside it, not yet used by a query),
//! chosen by `[store] url = "postgres://..."` (#19).
//!
//! Client: the synchronous `postgres` crate (rust-postgres, the maintained driver that
//! `tokio-postgres` is the async half of) with an `r2d2` pool. The store traits are synchronous
//! and run on `spawn_blocking` (like SQLite's), so a blocking client fits them as they are;
//! `sqlx` or `tokio-postgres` would need an async trait or a runtime handle inside every call.
//!
//! Guarantees, as on SQLite: a write returns `Ok` only after its transaction committed (the
//! server's `synchronous_commit` decides the fsync; leave it `on`); a batch is one transaction,
//! its origin keyed by content hash and its rows by their keys (`ON CONFLICT (key) DO NOTHING`).
//! Several nodes may write: every ingest first takes one transaction-level advisory lock
//! ([`INGEST_LOCK`]), so the fuse step (read candidate events, write them back) runs for one
//! batch at a time across all nodes, as SQLite's single writer does in one process, and a place
//! never gets two events from two batches racing; a batch is a fixed number of statements
//! (`ingest.rs`), so the lock is held for a few round trips, not one per row. Reads take
//! connections of a pool of their own, apart from the writers', and never wait for the lock or
//! for a connection held by a write waiting on it.
//!
//! What is here: the whole store family. [`Store`](crate::store::Store) (`store.rs`,
//! `ingest.rs`); [`TaskStore`](crate::store::TaskStore) (`tasks.rs`: task moves, verdicts,
//! idempotency keys, escalation sweeps safe on several nodes, mask candidates, precision; the
//! ingest with dispatch, a batch's tasks, audit rows and notices made at once, in
//! `dispatch.rs`); [`OperatorStore`](crate::store::OperatorStore) (`operator.rs`);
//! [`DeliveryStore`](crate::store::deliveries::DeliveryStore) (`deliveries.rs`, its claims
//! `FOR UPDATE SKIP LOCKED`); [`RankStore`](crate::store::RankStore) (`rank.rs`). Not here, but
//! run by both backends in their own transactions: the idempotency keys' claims and answers
//! (`store/shared/idempotency.rs`), the outbox's writes (`store/shared/outbox.rs`; an ingest's
//! notices are inserted by `dispatch.rs`) and the task steps (`store/shared/task_steps.rs`).

mod deliveries;
mod dispatch;
mod ingest;
mod jobs;
mod live;
mod migrations;
mod operator;
mod rank;
mod store;
mod tasks;
mod tx;

pub use migrations::{migrate, MIGRATIONS};

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use r2d2_postgres::r2d2::{ManageConnection, Pool, PooledConnection};
use r2d2_postgres::{postgres, PostgresConnectionManager};

use crate::store::error::StoreError;

/// The advisory lock every ingest transaction takes first (see the module doc).
pub const INGEST_LOCK: i64 = 0x5354_5257_494e_4753; // "STRWINGS"

/// Connections at most of each pool, the writers' and the readers' (as SQLite's reader pool).
const POOL_SIZE: u32 = 8;

/// Statements kept prepared per connection at most (then the cache starts again: the
/// statements built with values in their text, a list's `LIMIT`, must not grow it for ever).
const STATEMENTS: usize = 256;

/// A pooled connection and the statements prepared on it.
pub(crate) struct PgConn {
    client: postgres::Client,
    statements: Statements,
}

/// The statements prepared on one connection, by their text. A statement given as text is
/// prepared by `postgres` before each run, a round trip of its own (parse and describe, then
/// bind and execute): the same statement prepared once per connection and run by its handle
/// is one round trip.
#[derive(Default)]
pub(crate) struct Statements(HashMap<String, postgres::Statement>);

impl Statements {
    /// `sql` prepared on `c` (the connection these statements belong to).
    fn get(
        &mut self,
        c: &mut impl postgres::GenericClient,
        sql: &str,
    ) -> Result<postgres::Statement, postgres::Error> {
        if let Some(st) = self.0.get(sql) {
            return Ok(st.clone());
        }
        let st = c.prepare(sql)?;
        if self.0.len() >= STATEMENTS {
            self.0.clear();
        }
        self.0.insert(sql.to_string(), st.clone());
        Ok(st)
    }
}

/// A write's transaction on a pooled connection, with that connection's prepared statements
/// ([`PgTx::prepared`]); the `postgres::Transaction` otherwise.
pub(crate) struct PgTx<'a> {
    tx: postgres::Transaction<'a>,
    statements: &'a mut Statements,
}

impl<'a> std::ops::Deref for PgTx<'a> {
    type Target = postgres::Transaction<'a>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for PgTx<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl<'a> PgTx<'a> {
    /// The transaction.
    pub(crate) fn tx_mut(&mut self) -> &mut postgres::Transaction<'a> {
        &mut self.tx
    }

    /// `sql` prepared once on this connection.
    pub(crate) fn prepared(&mut self, sql: &str) -> Result<postgres::Statement, postgres::Error> {
        self.statements.get(&mut self.tx, sql)
    }

    /// `Transaction::query` of `sql` prepared once on this connection.
    pub(crate) fn query_cached(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, postgres::Error> {
        let st = self.prepared(sql)?;
        self.tx.query(&st, params)
    }

    /// `Transaction::query_opt` of `sql` prepared once on this connection.
    pub(crate) fn query_opt_cached(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Option<postgres::Row>, postgres::Error> {
        let st = self.prepared(sql)?;
        self.tx.query_opt(&st, params)
    }

    /// `Transaction::query_one` of `sql` prepared once on this connection.
    pub(crate) fn query_one_cached(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<postgres::Row, postgres::Error> {
        let st = self.prepared(sql)?;
        self.tx.query_one(&st, params)
    }

    /// `Transaction::execute` of `sql` prepared once on this connection.
    pub(crate) fn execute_cached(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let st = self.prepared(sql)?;
        self.tx.execute(&st, params)
    }
}

/// A read's pooled connection, with its prepared statements ([`PgRead::prepared`]); the
/// `postgres::Client` otherwise.
pub(crate) struct PgRead<'a> {
    client: &'a mut postgres::Client,
    statements: &'a mut Statements,
}

impl std::ops::Deref for PgRead<'_> {
    type Target = postgres::Client;
    fn deref(&self) -> &Self::Target {
        self.client
    }
}

impl std::ops::DerefMut for PgRead<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.client
    }
}

impl PgRead<'_> {
    /// The connection.
    pub(crate) fn client_mut(&mut self) -> &mut postgres::Client {
        self.client
    }

    /// `sql` prepared once on this connection.
    pub(crate) fn prepared(&mut self, sql: &str) -> Result<postgres::Statement, postgres::Error> {
        self.statements.get(self.client, sql)
    }

    /// `Client::query` of `sql` prepared once on this connection.
    pub(crate) fn query_cached(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, postgres::Error> {
        let st = self.prepared(sql)?;
        self.client.query(&st, params)
    }
}

/// `r2d2_postgres`'s manager, its connections each with their [`Statements`].
struct Manager(PostgresConnectionManager<postgres::NoTls>);

impl ManageConnection for Manager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        Ok(PgConn {
            client: self.0.connect()?,
            statements: Statements::default(),
        })
    }

    fn is_valid(&self, c: &mut PgConn) -> Result<(), postgres::Error> {
        self.0.is_valid(&mut c.client)
    }

    fn has_broken(&self, c: &mut PgConn) -> bool {
        self.0.has_broken(&mut c.client)
    }
}

/// The PostgreSQL store.
pub struct PgStore {
    /// The writers' connections (transactions). Always `Some` until dropped.
    pool: Option<Pool<Manager>>,
    /// The readers' connections, apart from the writers': a GET never waits for a connection
    /// behind writes queued on [`INGEST_LOCK`] or on a row lock. Always `Some` until dropped.
    read_pool: Option<Pool<Manager>>,
    /// Held by an ingest of this process from before it takes a connection until its commit:
    /// the batches of one node wait here for one another (they would wait on [`INGEST_LOCK`]
    /// anyway), not on the server each holding a pooled connection, so the other writes of the
    /// node (task changes, deliveries, jobs) keep their connections.
    ingest_gate: std::sync::Mutex<()>,
    /// How to connect, for the live log's listening connection (`live.rs`).
    config: postgres::Config,
}

impl Drop for PgStore {
    /// A `postgres::Client` closes its connection by blocking on a runtime of its own, which
    /// panics on an async thread (the service drops its store there at shutdown): the pool's
    /// connections are dropped on a thread of their own.
    fn drop(&mut self) {
        let pools = (self.pool.take(), self.read_pool.take());
        std::thread::spawn(move || drop(pools));
    }
}

impl PgStore {
    /// Connects to `url` (a libpq URL or key-value string), migrating the schema when needed.
    pub fn open(url: &str) -> Result<PgStore, StoreError> {
        PgStore::open_with(url, None)
    }

    /// [`PgStore::open`] in schema `schema` (made when missing; searched before `public`, where
    /// PostGIS lives): the tests give each test a schema of its own in one database.
    pub fn open_in_schema(url: &str, schema: &str) -> Result<PgStore, StoreError> {
        PgStore::open_with(url, Some(schema))
    }

    fn open_with(url: &str, schema: Option<&str>) -> Result<PgStore, StoreError> {
        let shown = redact(url);
        let connect = |source: StoreError| match source {
            StoreError::Sql { source, .. } => StoreError::Connect {
                url: shown.clone(),
                source,
            },
            other => other,
        };
        let mut config = postgres::Config::from_str(url)
            .map_err(pg_err("parse the store URL"))
            .map_err(connect)?;
        if let Some(schema) = schema {
            if !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(StoreError::BadValue {
                    table: "config",
                    column: "schema",
                    value: schema.to_string(),
                });
            }
            let mut c = config
                .connect(postgres::NoTls)
                .map_err(pg_err("connect"))
                .map_err(connect)?;
            c.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .map_err(pg_err("create the schema"))?;
            config.options(&format!("-c search_path={schema},public"));
        }
        // Fail fast: one connection of our own before the pools. A pool's build waits its whole
        // 30 s `connection_timeout` for a first connection and then says only that it timed out;
        // a refused port, an unknown host or a wrong password are known at once.
        first_connection(&config).map_err(connect)?;
        let pool = || {
            Pool::builder()
                .max_size(POOL_SIZE)
                .min_idle(Some(1))
                .connection_timeout(Duration::from_secs(30))
                .build(Manager(PostgresConnectionManager::new(
                    config.clone(),
                    postgres::NoTls,
                )))
                .map_err(|e| StoreError::Connect {
                    url: shown.clone(),
                    source: e.into(),
                })
        };
        let store = PgStore {
            pool: Some(pool()?),
            read_pool: Some(pool()?),
            ingest_gate: std::sync::Mutex::new(()),
            config,
        };
        migrate(&mut store.conn()?.client)?;
        Ok(store)
    }

    /// A writer's pooled connection.
    fn conn(&self) -> Result<PooledConnection<Manager>, StoreError> {
        take(&self.pool)
    }

    /// A reader's pooled connection.
    fn read_conn(&self) -> Result<PooledConnection<Manager>, StoreError> {
        take(&self.read_pool)
    }

    /// Runs `f` in a transaction and commits; `Ok` only once the commit returned.
    fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut PgTx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut c = self.conn()?;
        let PgConn { client, statements } = &mut *c;
        let tx = client.transaction().map_err(pg_err("begin"))?;
        let mut tx = PgTx { tx, statements };
        let out = f(&mut tx)?;
        tx.tx.commit().map_err(pg_err("commit"))?;
        Ok(out)
    }

    /// [`PgStore::write`] for an ingest: one at a time in this process ([`PgStore`]'s
    /// `ingest_gate`), the gate taken before the connection.
    fn write_ingest<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut PgTx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let _gate = self
            .ingest_gate
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.write(f)
    }

    /// Runs `f` on a reader's pooled connection.
    fn read<T>(
        &self,
        f: impl FnOnce(&mut PgRead<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut c = self.read_conn()?;
        let PgConn { client, statements } = &mut *c;
        f(&mut PgRead { client, statements })
    }
}

/// A connection of `pool`.
fn take(pool: &Option<Pool<Manager>>) -> Result<PooledConnection<Manager>, StoreError> {
    let pool = pool.as_ref().expect("the pools live as long as the store");
    pool.get().map_err(|e| StoreError::Sql {
        context: "take a pooled connection",
        source: e.into(),
    })
}

/// Wraps a `postgres` error with a context.
pub(crate) fn pg_err(context: &'static str) -> impl Fn(postgres::Error) -> StoreError {
    move |source| StoreError::Sql {
        context,
        source: source.into(),
    }
}

/// The first connection to the server, made and closed: its error as soon as there is one (a
/// refused port, an unknown host, a wrong password), except that a server still starting up
/// (SQLSTATE 57P03, as after a restart beside this process) is waited for up to 30 s, as the
/// pools would. Nothing listening is not waited for: a supervisor restarts the process, and a
/// deployer sees at once where it tried. A host that never answers is given 10 s unless the URL
/// sets `connect_timeout`.
fn first_connection(config: &postgres::Config) -> Result<(), StoreError> {
    let mut config = config.clone();
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    let started = std::time::Instant::now();
    loop {
        match config.connect(postgres::NoTls) {
            Ok(_) => return Ok(()),
            Err(e)
                if e.code() == Some(&postgres::error::SqlState::CANNOT_CONNECT_NOW)
                    && started.elapsed() < Duration::from_secs(30) =>
            {
                std::thread::sleep(Duration::from_millis(500))
            }
            Err(e) => return Err(pg_err("connect")(e)),
        }
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let user = &url[s + 3..at];
            match user.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..s + 3], &user[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url
            .split_whitespace()
            .map(|kv| {
                if kv.starts_with("password=") {
                    "password=***"
                } else {
                    kv
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_reaches_a_message() {
        assert_eq!(
            redact("postgres://sf:secret@db.example:5432/sf"),
            "postgres://sf:***@db.example:5432/sf"
        );
        assert_eq!(
            redact("host=db user=sf password=secret dbname=sf"),
            "host=db user=sf password=*** dbname=sf"
        );
        assert_eq!(
            redact("postgresql://postgres@/t?host=/tmp/x"),
            "postgresql://postgres@/t?host=/tmp/x"
        );
    }

    /// `strawfire worker --store` at a port nothing listens on: the error comes at once (the
    /// pool's build waited its 30 s connection timeout) and names the host and port, never the
    /// password, and what to check.
    #[test]
    fn a_refused_port_fails_at_once_naming_where() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let started = std::time::Instant::now();
        let url = format!("postgresql://sf:s3cret@127.0.0.1:{port}/sf");
        let Err(e) = PgStore::open(&url) else {
            panic!("something listens on 127.0.0.1:{port}");
        };
        let waited = started.elapsed();
        let said = format!("{e}: {}", std::error::Error::source(&e).unwrap());
        assert!(
            waited < Duration::from_secs(10),
            "waited {waited:?}: {said}"
        );
        assert!(said.contains(&format!("127.0.0.1:{port}")), "{said}");
        assert!(said.contains("pg_hba.conf"), "{said}");
        assert!(!said.contains("s3cret"), "{said}");
    }
}
