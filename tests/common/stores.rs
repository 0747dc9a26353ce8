//! The end-to-end tests on both stores (#19): `on_both_stores!` makes `sqlite::NAME` and
//! `postgres::NAME` of each `async fn NAME(Backend)`; the PostgreSQL server runs `serve` with
//! `[store] url` on a schema of its own in the database of `STRAWFIRE_TEST_PG_URL` (made by
//! scripts/pg.sh), dropped afterwards. Without the variable the PostgreSQL variant is skipped
//! with a line on stderr; under `CI=true` it fails, so CI cannot pass without running it.
//! Tests that build a store themselves (no server) open it with [`TestStore::open`] and are
//! made twice by `on_both_stores_blocking!`.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

/// The store a test's server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Whether the PostgreSQL variant of `test` can run (false: skip it; panics under `CI=true`).
pub fn postgres_available(test: &str) -> bool {
    match std::env::var("STRAWFIRE_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => true,
        _ => {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "{test}: STRAWFIRE_TEST_PG_URL is not set and CI=true (scripts/test.sh starts \
                 a PostgreSQL with scripts/pg.sh)"
            );
            eprintln!("{test}: skipped on PostgreSQL (STRAWFIRE_TEST_PG_URL not set)");
            false
        }
    }
}

/// A fresh schema for a server on `b` (`None` on SQLite: the server's own file).
pub fn schema_for(b: Backend) -> Option<PgSchema> {
    (b == Backend::Postgres).then(PgSchema::new)
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A schema of its own in the test database, dropped with this value.
#[derive(Debug)]
pub struct PgSchema {
    /// The store URL for `[store] url`: the test database with `search_path` set to the schema.
    pub url: String,
    pub schema: String,
    base: String,
}

impl PgSchema {
    /// A fresh schema (the `postgres` client runs on a thread of its own: never on an async one).
    pub fn new() -> PgSchema {
        let base = std::env::var("STRAWFIRE_TEST_PG_URL").expect("STRAWFIRE_TEST_PG_URL");
        let schema = format!(
            "e2e{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let (b, s) = (base.clone(), schema.clone());
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&b, postgres::NoTls).unwrap();
            c.batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {s} CASCADE; CREATE SCHEMA {s}"
            ))
            .unwrap();
        })
        .join()
        .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        PgSchema {
            url: format!("{base}{sep}options=-c%20search_path%3D{schema}%2Cpublic"),
            schema,
            base,
        }
    }

    /// Runs `f` on a connection to the schema, on a thread of its own.
    pub fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> T + Send + 'static,
    ) -> T {
        let url = self.url.clone();
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            f(&mut c)
        })
        .join()
        .unwrap()
    }
}

/// A store opened in the test itself, no server: a SQLite file in a temporary directory, or a
/// PostgreSQL store in a fresh schema (dropped after the store). Blocking: open and use it off
/// the async executor (a `postgres` client must not run on an async thread).
pub struct TestStore {
    /// Dropped first (fields drop in order): the pool's connections, then the schema.
    pub store: Box<dyn strawfire::store::Store>,
    pub pg: Option<PgSchema>,
    pub dir: tempfile::TempDir,
}

impl TestStore {
    /// A fresh, migrated store of `b`.
    pub fn open(b: Backend) -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        let pg = schema_for(b);
        let store: Box<dyn strawfire::store::Store> = match &pg {
            Some(pg) => Box::new(
                strawfire::store::PgStore::open_in_schema(&pg.base, &pg.schema)
                    .unwrap_or_else(|e| panic!("PostgreSQL store in {}: {e:?}", pg.schema)),
            ),
            None => {
                Box::new(strawfire::store::SqliteStore::open(&dir.path().join("s.sqlite")).unwrap())
            }
        };
        TestStore { store, pg, dir }
    }
}

impl std::ops::Deref for TestStore {
    type Target = dyn strawfire::store::Store;
    fn deref(&self) -> &Self::Target {
        self.store.as_ref()
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (base, schema) = (self.base.clone(), self.schema.clone());
        let _ = std::thread::spawn(move || {
            if let Ok(mut c) = postgres::Client::connect(&base, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        })
        .join();
    }
}

/// `#[tokio::test]`s `sqlite::NAME` and `postgres::NAME` for each `async fn NAME(Backend)` of
/// the test file (which declares `mod common;`).
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::stores::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::common::stores::postgres_available(stringify!($name)) {
                        super::$name($crate::common::stores::Backend::Postgres).await;
                    }
                }
            )*
        }
    };
}

/// `#[test]`s `sqlite::NAME` and `postgres::NAME` for each plain `fn NAME(Backend)` of the test
/// file (tests that open a [`TestStore`] themselves, off any async executor).
#[macro_export]
macro_rules! on_both_stores_blocking {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::common::stores::Backend::Sqlite);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if $crate::common::stores::postgres_available(stringify!($name)) {
                        super::$name($crate::common::stores::Backend::Postgres);
                    }
                }
            )*
        }
    };
}
