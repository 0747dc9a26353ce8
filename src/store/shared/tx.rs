//! One transaction (or read connection) as the shared orchestration sees it: the few calls the
//! task changes, operator moves, deliveries and rankings make, so each is written once in
//! `shared/` over either backend. A backend implements [`Tx`] for its own transaction
//! (`sqlite/tx.rs`: a `rusqlite` connection, which the writer hands out inside its savepoint;
//! `postgres/tx.rs`: a `postgres` transaction or pooled client) and keeps only what is its own:
//! opening and committing, its locks ([`Tx::lock`], [`Tx::for_update`]) and the statements
//! the dialects do not share.
//!
//! Statements are written in SQLite's words (`?1` parameters; PostgreSQL's implementation runs
//! them through [`super::dollars`]). Parameters are the three kinds the store binds
//! ([`Param`]); rows are read by column index through [`Row`]. Every failure is a
//! `StoreError::Sql` with the caller's context, as the backends' own code gave before.

use crate::store::error::StoreError;

/// A statement's parameter: the store binds integers (ids, Unix seconds, counts, stored flags
/// as 0/1), reals (degrees, metres, MW), text (JSON included), each possibly NULL, and truth
/// values a statement tests (`CASE WHEN ?3`: PostgreSQL's BOOLEAN, SQLite's 0/1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Param<'a> {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<&'a str>),
    Flag(bool),
}

impl From<i64> for Param<'_> {
    fn from(v: i64) -> Self {
        Param::Int(Some(v))
    }
}

impl From<Option<i64>> for Param<'_> {
    fn from(v: Option<i64>) -> Self {
        Param::Int(v)
    }
}

impl From<u32> for Param<'_> {
    fn from(v: u32) -> Self {
        Param::Int(Some(i64::from(v)))
    }
}

impl From<bool> for Param<'_> {
    /// A truth value a statement tests; a flag stored in a column (BIGINT 0/1 on both) is bound
    /// as `i64::from(flag)`.
    fn from(v: bool) -> Self {
        Param::Flag(v)
    }
}

impl From<f64> for Param<'_> {
    fn from(v: f64) -> Self {
        Param::Real(Some(v))
    }
}

impl From<Option<f64>> for Param<'_> {
    fn from(v: Option<f64>) -> Self {
        Param::Real(v)
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(v: &'a str) -> Self {
        Param::Text(Some(v))
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(v: &'a String) -> Self {
        Param::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Param::Text(v)
    }
}

impl<'a> From<&'a Option<String>> for Param<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Param::Text(v.as_deref())
    }
}

/// A limit as bound (`usize::MAX` and the like become `i64::MAX`).
pub(crate) fn limit(n: usize) -> Param<'static> {
    Param::Int(Some(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// One row of a result, read by column index. Reading a NULL where a value is wanted, or a
/// column of another type, is the backend's error.
pub(crate) trait Row {
    fn int(&self, i: usize) -> Result<i64, StoreError>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError>;
    fn real(&self, i: usize) -> Result<f64, StoreError>;
    fn opt_real(&self, i: usize) -> Result<Option<f64>, StoreError>;
    fn text(&self, i: usize) -> Result<String, StoreError>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError>;
    /// A truth value: PostgreSQL's BOOLEAN (`EXISTS`, `IS NOT NULL`), SQLite's 0/1.
    fn flag(&self, i: usize) -> Result<bool, StoreError>;
}

/// What a column can be read as ([`Row::get`](trait.Row.html)).
pub(crate) trait Column: Sized {
    fn read(r: &dyn Row, i: usize) -> Result<Self, StoreError>;
}

impl Column for i64 {
    fn read(r: &dyn Row, i: usize) -> Result<Self, StoreError> {
        r.int(i)
    }
}

impl Column for Option<i64> {
    fn read(r: &dyn Row, i: usize) -> Result<Self, StoreError> {
        r.opt_int(i)
    }
}

impl Column for f64 {
    fn read(r: &dyn Row, i: usize) -> Result<Self, StoreError> {
        r.real(i)
    }
}

impl Column for Option<f64> {
    fn read(r: &dyn Row, i: usize) -> Result<Self, StoreError> {
        r.opt_real(i)
    }
}

impl Column for String {
    fn read(r: &dyn Row, i: usize) -> Result<Self, StoreError> {
        r.text(i)
    }
}

impl Column for Option<String> {
    fn read(r: &dyn Row, i: usize) -> Result<Self, StoreError> {
        r.opt_text(i)
    }
}

impl Column for bool {
    fn read(r: &dyn Row, i: usize) -> Result<Self, StoreError> {
        r.flag(i)
    }
}

impl dyn Row + '_ {
    /// Column `i` as `T` (`i64`, `f64`, `String`, their `Option`s, `bool`).
    pub(crate) fn get<T: Column>(&self, i: usize) -> Result<T, StoreError> {
        T::read(self, i)
    }
}

/// What a change locks before it reads, where several writers may run at once (PostgreSQL:
/// several nodes); SQLite's one writer holds the whole database, so there it locks nothing.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lock {
    /// A task's row (`FOR UPDATE`): changes of one task apply one after the other.
    Task(i64),
    /// Mask candidate changes (an advisory lock): two "no fire" verdicts at one place make one
    /// candidate.
    MaskCandidates,
    /// Bulletin numbering (an advisory lock): two first bulletins of a season rendered at once
    /// on two nodes get two numbers (both would take MAX + 1 otherwise).
    Bulletins,
}

/// A transaction, or a read connection, of either backend.
pub(crate) trait Tx {
    /// The clause that ends a `SELECT` whose rows this transaction locks until it ends (those
    /// of table alias `of`, or all), passing over rows another holds when `skip_locked`:
    /// PostgreSQL's ` FOR UPDATE [OF d] [SKIP LOCKED]`; empty on SQLite (one writer).
    fn for_update(of: Option<&str>, skip_locked: bool) -> String;

    /// Runs a statement; the rows it changed.
    fn execute(
        &mut self,
        what: &'static str,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<u64, StoreError>;

    /// Visits the rows of a query in order while `f` returns true (SQLite streams them;
    /// PostgreSQL reads them whole first).
    fn query_each(
        &mut self,
        what: &'static str,
        sql: &str,
        params: &[Param<'_>],
        f: &mut dyn FnMut(&dyn Row) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError>;

    /// The one row a query returns (an aggregate, an `INSERT ... RETURNING`); none is the
    /// backend's error.
    fn query_one<T>(
        &mut self,
        what: &'static str,
        sql: &str,
        params: &[Param<'_>],
        f: impl FnOnce(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<T, StoreError>;

    /// Takes `lock` until the transaction ends.
    fn lock(&mut self, lock: Lock) -> Result<(), StoreError>;

    /// Every row of a query, each made by `f`.
    fn query_rows<T>(
        &mut self,
        what: &'static str,
        sql: &str,
        params: &[Param<'_>],
        mut f: impl FnMut(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        self.query_each(what, sql, params, &mut |r| {
            out.push(f(r)?);
            Ok(true)
        })?;
        Ok(out)
    }

    /// The first row of a query, if any, made by `f`.
    fn query_opt<T>(
        &mut self,
        what: &'static str,
        sql: &str,
        params: &[Param<'_>],
        f: impl FnOnce(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let mut f = Some(f);
        let mut out = None;
        self.query_each(what, sql, params, &mut |r| {
            if let Some(f) = f.take() {
                out = Some(f(r)?);
            }
            Ok(false)
        })?;
        Ok(out)
    }
}

/// A time as stored: Unix seconds.
pub(crate) fn ts(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp()
}

/// A stored time back (an impossible one reads as the epoch).
pub(crate) fn from_ts(s: i64) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc.timestamp_opt(s, 0).single().unwrap_or_default()
}
