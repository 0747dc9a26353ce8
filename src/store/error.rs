//! Store errors, one enum for every backend; the database's own error is a [`DbError`].

use std::path::PathBuf;

/// The error of the database library underneath (SQLite through rusqlite, PostgreSQL through
/// `postgres`), kept whole as the `#[source]` of a [`StoreError`].
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] postgres::Error),
    /// The connection pool gave no connection (PostgreSQL unreachable or every connection busy
    /// past the pool's timeout).
    #[error(transparent)]
    Pool(#[from] r2d2_postgres::r2d2::Error),
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database file cannot be opened or created: check the data directory and its rights.
    #[error("cannot open the store at {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: DbError,
    },
    /// A migration failed: the database is left at the previous version.
    #[error("store migration to version {version} failed")]
    Migration {
        version: usize,
        #[source]
        source: DbError,
    },
    /// The database was written by a newer strawfire: upgrade strawfire or use another data dir.
    #[error("the store is at schema version {found}, this strawfire knows up to {known}")]
    TooNew { found: usize, known: usize },
    /// A query failed.
    #[error("store: {context}")]
    Sql {
        context: &'static str,
        #[source]
        source: DbError,
    },
    /// The batch would place or change a row outside the writer's scope (`unit`: where it lands;
    /// `None`: outside every unit). Nothing of the batch is stored: use a token that reaches it.
    #[error("the write lands in {}, outside the writer's scope", unit.as_deref().map(|u| format!("unit {u}")).unwrap_or_else(|| "no known unit".into()))]
    OutOfReach { unit: Option<String> },
    /// One row of a batch broke a constraint other than its key (a duplicate is not an
    /// error: it is counted). The whole batch is rolled back; fix the row named here (`index`
    /// is 1-based in the batch; the service names the file line or request row) and send again.
    #[error("store: {what} {index} of the batch (key `{key}`) refused")]
    Row {
        what: &'static str,
        index: usize,
        key: String,
        #[source]
        source: DbError,
    },
    /// The PostgreSQL server cannot be reached or refused us (`url` without its password):
    /// check `[store] url`, the server and its `pg_hba.conf`.
    #[error(
        "cannot connect to the store at {url}: check that PostgreSQL runs and listens at that \
         host and port, `[store] url` (or --store), and the server's pg_hba.conf"
    )]
    Connect {
        url: String,
        #[source]
        source: DbError,
    },
    /// This backend does not implement this part of the store yet (issue 19 tracks it): use the
    /// SQLite store (no `[store] url`) for it.
    #[error("the {backend} store does not support {what} yet")]
    Unsupported {
        backend: &'static str,
        what: &'static str,
    },
    /// A stored value cannot be read back (hand-edited database?).
    #[error("store: bad stored value in {table}.{column}: {value}")]
    BadValue {
        table: &'static str,
        column: &'static str,
        value: String,
    },
}

impl StoreError {
    /// `map_err` for the row at 0-based `index` of a batch: the database's refusal as
    /// [`StoreError::Row`], numbered from 1 as the service names file lines and request rows.
    pub(crate) fn row<'a, E: Into<DbError>>(
        what: &'static str,
        index: usize,
        key: &'a str,
    ) -> impl FnOnce(E) -> StoreError + 'a {
        move |source| StoreError::Row {
            what,
            index: index + 1,
            key: key.to_string(),
            source: source.into(),
        }
    }

    /// When the failure is the storage itself — the disk (or the store's size cap) is full, the
    /// file system fails or went read-only — a short cause for the operator; `None` for every
    /// other failure (a bad row, a bug, a scope refusal).
    pub fn storage_cause(&self) -> Option<String> {
        let source = match self {
            StoreError::Open { source, .. }
            | StoreError::Migration { source, .. }
            | StoreError::Sql { source, .. }
            | StoreError::Row { source, .. } => source,
            _ => return None,
        };
        let e = match source {
            DbError::Sqlite(e) => e,
            DbError::Postgres(e) => return pg_storage_cause(e),
            DbError::Pool(_) => return None,
        };
        let rusqlite::Error::SqliteFailure(e, msg) = e else {
            return None;
        };
        let what = match e.code {
            rusqlite::ErrorCode::DiskFull => "the store's disk is full (SQLITE_FULL)",
            rusqlite::ErrorCode::SystemIoFailure => "the store cannot be written (SQLITE_IOERR)",
            rusqlite::ErrorCode::ReadOnly => "the store is read-only (SQLITE_READONLY)",
            rusqlite::ErrorCode::CannotOpen => "the store cannot be opened (SQLITE_CANTOPEN)",
            _ => return None,
        };
        Some(match msg {
            Some(m) => format!("{what}: {m}"),
            None => what.to_string(),
        })
    }
}

/// The PostgreSQL counterpart of the SQLite storage failures: SQLSTATE class 53 (insufficient
/// resources: disk full, out of memory), 58030 (I/O error), 25006 (read-only transaction).
fn pg_storage_cause(e: &postgres::Error) -> Option<String> {
    use postgres::error::SqlState;
    let db = e.as_db_error()?;
    let what = match db.code() {
        c if *c == SqlState::DISK_FULL => "the store's disk is full (PostgreSQL 53100)",
        c if *c == SqlState::IO_ERROR => "the store cannot be written (PostgreSQL 58030)",
        c if *c == SqlState::READ_ONLY_SQL_TRANSACTION => {
            "the store is read-only (PostgreSQL 25006)"
        }
        c if c.code().starts_with("53") => "the store's server is out of resources (PostgreSQL 53)",
        _ => return None,
    };
    Some(format!("{what}: {}", db.message()))
}

/// Attaches a context to rusqlite results.
pub(crate) trait SqlContext<T> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError>;
}

impl<T> SqlContext<T> for Result<T, rusqlite::Error> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Sql {
            context,
            source: source.into(),
        })
    }
}

impl<T> SqlContext<T> for Result<T, postgres::Error> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Sql {
            context,
            source: source.into(),
        })
    }
}
