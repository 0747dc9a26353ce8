//! The shared orchestration's [`Tx`] on PostgreSQL: a transaction (writes) or a pooled client
//! (reads). Statements are SQLite's words through [`dollars`]; the row locks of a change are
//! PostgreSQL's own ([`Tx::lock`]): a task's row `FOR UPDATE`, advisory locks
//! (transaction-level) around mask candidates and bulletin numbers.

use postgres::types::ToSql;
use postgres::Statement;

use super::{PgRead, PgTx};

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

/// A `postgres` row as the shared steps read rows (`what`: the context of a bad value), for
/// this backend's own statements whose rows the shared readers decode.
pub(super) fn shared_row<'a>(row: &'a postgres::Row, what: &'static str) -> impl Row + 'a {
    PgRow { row, what }
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

/// A `postgres` connection the shared code runs on: a transaction (a write: it takes locks) or
/// a pooled client (a read outside any transaction, where a lock would end with its statement:
/// none is taken there). The store's own ([`PgTx`], [`PgRead`]) run each statement prepared once
/// per connection; a bare `postgres` transaction or client (a read-only transaction of its own,
/// as the rankings' consistent read) prepares it each time.
trait Conn {
    const IN_TRANSACTION: bool;
    fn statement(&mut self, sql: &str) -> Result<Statement, postgres::Error>;
    fn run(
        &mut self,
        st: &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error>;
    fn rows(
        &mut self,
        st: &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, postgres::Error>;
    fn one(
        &mut self,
        st: &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<postgres::Row, postgres::Error>;
}

macro_rules! conn {
    ($ty:ty, $in_tx:expr, |$c:ident, $sql:ident| $prepare:expr, |$d:ident| $client:expr) => {
        impl Conn for $ty {
            const IN_TRANSACTION: bool = $in_tx;
            fn statement(&mut self, $sql: &str) -> Result<Statement, postgres::Error> {
                let $c = self;
                $prepare
            }
            fn run(
                &mut self,
                st: &Statement,
                params: &[&(dyn ToSql + Sync)],
            ) -> Result<u64, postgres::Error> {
                let $d = self;
                $client.execute(st, params)
            }
            fn rows(
                &mut self,
                st: &Statement,
                params: &[&(dyn ToSql + Sync)],
            ) -> Result<Vec<postgres::Row>, postgres::Error> {
                let $d = self;
                $client.query(st, params)
            }
            fn one(
                &mut self,
                st: &Statement,
                params: &[&(dyn ToSql + Sync)],
            ) -> Result<postgres::Row, postgres::Error> {
                let $d = self;
                $client.query_one(st, params)
            }
        }
    };
}

conn!(PgTx<'_>, true, |c, sql| c.prepared(sql), |c| c.tx_mut());
conn!(PgRead<'_>, false, |c, sql| c.prepared(sql), |c| c
    .client_mut());
conn!(
    postgres::Transaction<'_>,
    true,
    |c, sql| c.prepare(sql),
    |c| c
);
conn!(postgres::Client, false, |c, sql| c.prepare(sql), |c| c);

impl<C: Conn> Tx for C {
    /// ` FOR UPDATE [OF of] [SKIP LOCKED]` in a transaction.
    fn for_update(of: Option<&str>, skip_locked: bool) -> String {
        if !C::IN_TRANSACTION {
            return String::new();
        }
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

    fn execute(
        &mut self,
        what: &'static str,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<u64, StoreError> {
        let st = self.statement(&dollars(sql)).ctx(what)?;
        self.run(&st, &bind(params)).ctx(what)
    }

    fn query_each(
        &mut self,
        what: &'static str,
        sql: &str,
        params: &[Param<'_>],
        f: &mut dyn FnMut(&dyn Row) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let st = self.statement(&dollars(sql)).ctx(what)?;
        for row in self.rows(&st, &bind(params)).ctx(what)? {
            if !f(&PgRow { row: &row, what })? {
                break;
            }
        }
        Ok(())
    }

    fn query_one<T>(
        &mut self,
        what: &'static str,
        sql: &str,
        params: &[Param<'_>],
        f: impl FnOnce(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let st = self.statement(&dollars(sql)).ctx(what)?;
        let row = self.one(&st, &bind(params)).ctx(what)?;
        f(&PgRow { row: &row, what })
    }

    fn lock(&mut self, lock: Lock) -> Result<(), StoreError> {
        if !C::IN_TRANSACTION {
            // A change takes its locks in its transaction, never on a read's connection.
            return Err(StoreError::Unsupported {
                backend: "PostgreSQL",
                what: "a lock outside a transaction",
            });
        }
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
        let st = self.statement(sql).ctx(what)?;
        self.rows(&st, &[&key]).ctx(what)?;
        Ok(())
    }
}
