//! The shared orchestration's [`Tx`] on PostgreSQL: a transaction (writes) or a pooled client
//! (reads). Statements are SQLite's words through [`dollars`]; the row locks of a change are
//! PostgreSQL's own ([`Tx::lock`]): a task's row `FOR UPDATE`, advisory locks
//! (transaction-level) around mask candidates and bulletin numbers.

use postgres::types::ToSql;
use postgres::GenericClient;

use crate::store::error::{SqlContext, StoreError};
use crate::store::shared::dollars;
use crate::store::shared::tx::{Lock, Param, Row, Tx};

/// The advisory lock that mask candidate changes take: two "no fire" verdicts at one place,
/// recorded at once on two nodes, make one candidate, as on SQLite.
const MASK_LOCK: i64 = 0x5354_5257_4d41_534b; // "STRWMASK"

/// The advisory lock under which bulletins are numbered.
const BULLETIN_LOCK: i64 = 0x5354_5257_4255_4c4c; // "STRWBULL"

/// The parameters as `postgres` binds them (the server infers each one's type from the
/// statement; a value of another type is refused as before).
fn bind<'a>(params: &'a [Param<'_>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| match p {
            Param::Int(v) => v as &(dyn ToSql + Sync),
            Param::Real(v) => v as &(dyn ToSql + Sync),
            Param::Text(v) => v as &(dyn ToSql + Sync),
            Param::Flag(v) => v as &(dyn ToSql + Sync),
        })
        .collect()
}

struct PgRow<'a> {
    row: &'a postgres::Row,
    what: &'static str,
}

impl PgRow<'_> {
    fn get<'r, T: postgres::types::FromSql<'r>>(&'r self, i: usize) -> Result<T, StoreError> {
        self.row.try_get(i).ctx(self.what)
    }
}

impl Row for PgRow<'_> {
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.get(i)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        self.get(i)
    }
    fn real(&self, i: usize) -> Result<f64, StoreError> {
        self.get(i)
    }
    fn opt_real(&self, i: usize) -> Result<Option<f64>, StoreError> {
        self.get(i)
    }
    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.get(i)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        self.get(i)
    }
    fn flag(&self, i: usize) -> Result<bool, StoreError> {
        self.get(i)
    }
}

fn execute(
    c: &mut impl GenericClient,
    what: &'static str,
    sql: &str,
    params: &[Param<'_>],
) -> Result<u64, StoreError> {
    c.execute(&dollars(sql), &bind(params)).ctx(what)
}

fn query_each(
    c: &mut impl GenericClient,
    what: &'static str,
    sql: &str,
    params: &[Param<'_>],
    f: &mut dyn FnMut(&dyn Row) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    for row in c.query(&dollars(sql), &bind(params)).ctx(what)? {
        if !f(&PgRow { row: &row, what })? {
            break;
        }
    }
    Ok(())
}

fn query_one<T>(
    c: &mut impl GenericClient,
    what: &'static str,
    sql: &str,
    params: &[Param<'_>],
    f: impl FnOnce(&dyn Row) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let row = c.query_one(&dollars(sql), &bind(params)).ctx(what)?;
    f(&PgRow { row: &row, what })
}

/// ` FOR UPDATE [OF of] [SKIP LOCKED]`.
fn for_update(of: Option<&str>, skip_locked: bool) -> String {
    let mut out = String::from(" FOR UPDATE");
    if let Some(of) = of {
        out.push_str(" OF ");
        out.push_str(of);
    }
    if skip_locked {
        out.push_str(" SKIP LOCKED");
    }
    out
}

impl Tx for postgres::Transaction<'_> {
    fn for_update(of: Option<&str>, skip_locked: bool) -> String {
        for_update(of, skip_locked)
    }

    fn execute(
        &mut self,
        what: &'static str,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<u64, StoreError> {
        execute(self, what, sql, params)
    }

    fn query_each(
        &mut self,
        what: &'static str,
        sql: &str,
        params: &[Param<'_>],
        f: &mut dyn FnMut(&dyn Row) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        query_each(self, what, sql, params, f)
    }

    fn query_one<T>(
        &mut self,
        what: &'static str,
        sql: &str,
        params: &[Param<'_>],
        f: impl FnOnce(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        query_one(self, what, sql, params, f)
    }

    fn lock(&mut self, lock: Lock) -> Result<(), StoreError> {
        let (what, sql, key) = match lock {
            Lock::Task(id) => (
                "lock task",
                "SELECT id FROM tasks WHERE id = $1 FOR UPDATE",
                id,
            ),
            Lock::MaskCandidates => (
                "lock mask candidates",
                "SELECT pg_advisory_xact_lock($1)",
                MASK_LOCK,
            ),
            Lock::Bulletins => (
                "lock bulletin numbers",
                "SELECT pg_advisory_xact_lock($1)",
                BULLETIN_LOCK,
            ),
        };
        self.query(sql, &[&key]).ctx(what)?;
        Ok(())
    }
}

/// Reads on a pooled connection, outside any transaction.
impl Tx for postgres::Client {
    /// Outside a transaction a row lock would end with its statement: none is taken.
    fn for_update(_of: Option<&str>, _skip_locked: bool) -> String {
        String::new()
    }

    fn execute(
        &mut self,
        what: &'static str,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<u64, StoreError> {
        execute(self, what, sql, params)
    }

    fn query_each(
        &mut self,
        what: &'static str,
        sql: &str,
        params: &[Param<'_>],
        f: &mut dyn FnMut(&dyn Row) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        query_each(self, what, sql, params, f)
    }

    fn query_one<T>(
        &mut self,
        what: &'static str,
        sql: &str,
        params: &[Param<'_>],
        f: impl FnOnce(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        query_one(self, what, sql, params, f)
    }

    /// A lock outside a transaction would end with its statement: a change takes its locks in
    /// its transaction, never here.
    fn lock(&mut self, _lock: Lock) -> Result<(), StoreError> {
        Err(StoreError::Unsupported {
            backend: "PostgreSQL",
            what: "a lock outside a transaction",
        })
    }
}
