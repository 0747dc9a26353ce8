//! A PostgreSQL store for a test: a schema of its own in the database of
//! `STRAWFIRE_TEST_PG_URL` (scripts/pg.sh makes one), dropped when the test ends, so tests run
//! in parallel. Without the variable a test is skipped with a line on stderr, unless `CI=true`:
//! then it fails, so CI cannot pass without having run it.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::{pg_err, PgStore};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A store in a schema of its own.
pub(crate) struct TestPg {
    pub store: PgStore,
    url: String,
    schema: String,
}

impl Drop for TestPg {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

/// The PostgreSQL store of test `name`, or `None` (skip) when no server is named outside CI.
pub(crate) fn store(name: &str) -> Option<TestPg> {
    let url = match std::env::var("STRAWFIRE_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "{name}: STRAWFIRE_TEST_PG_URL is not set and CI=true: the PostgreSQL \
                     variant must run in CI (scripts/test.sh starts a server with scripts/pg.sh)"
                );
            }
            eprintln!("{name}: skipped on PostgreSQL (STRAWFIRE_TEST_PG_URL not set)");
            return None;
        }
    };
    let short: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(30)
        .collect::<String>()
        .to_ascii_lowercase();
    let schema = format!(
        "t{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        short
    );
    let store = PgStore::open_in_schema(&url, &schema)
        .unwrap_or_else(|e| panic!("{name}: PostgreSQL store at {url}: {e:?}"));
    Some(TestPg { store, url, schema })
}

impl PgStore {
    /// A statement on a pooled connection (tests add constraints with it).
    pub(crate) fn execute_for_test(&self, sql: &str) {
        self.read(|c| c.batch_execute(sql).map_err(pg_err("test statement")))
            .unwrap();
    }

    /// Rows of a table.
    pub(crate) fn count_for_test(&self, table: &str) -> i64 {
        self.read(|c| {
            c.query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
                .map(|r| r.get(0))
                .map_err(pg_err("test count"))
        })
        .unwrap()
    }

    /// The first column of a query's rows, as text.
    pub(crate) fn texts_for_test(&self, sql: &str) -> Vec<String> {
        self.read(|c| {
            let rows = c.query(sql, &[]).map_err(pg_err("test query"))?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
        .unwrap()
    }

    /// Whether a statement succeeds (tests check what the schema refuses).
    pub(crate) fn try_execute_for_test(&self, sql: &str) -> bool {
        self.read(|c| Ok(c.batch_execute(sql).is_ok())).unwrap()
    }
}
