//! The shared orchestration's [`Tx`] on SQLite: a connection, which the writer (`writer.rs`)
//! hands out inside its transaction's savepoint, or a reader. Statements come from the
//! connection's statement cache; nothing is locked, since the one writer holds the database.

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{params_from_iter, Connection, ToSql};

use crate::store::error::{SqlContext, StoreError};
use crate::store::shared::tx::{Lock, Param, Row, Tx};

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Param::Int(Some(v)) => ToSqlOutput::Owned(Value::Integer(v)),
            Param::Real(Some(v)) => ToSqlOutput::Owned(Value::Real(v)),
            Param::Text(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Param::Flag(v) => ToSqlOutput::Owned(Value::Integer(i64::from(v))),
            Param::Int(None) | Param::Real(None) | Param::Text(None) => {
                ToSqlOutput::Owned(Value::Null)
            }
        })
    }
}

struct SqliteRow<'a, 'r> {
    row: &'a rusqlite::Row<'r>,
    what: &'static str,
}

impl SqliteRow<'_, '_> {
    fn get<T: rusqlite::types::FromSql>(&self, i: usize) -> Result<T, StoreError> {
        self.row.get(i).ctx(self.what)
    }
}

impl Row for SqliteRow<'_, '_> {
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

impl Tx for &Connection {
    fn for_update(_of: Option<&str>, _skip_locked: bool) -> String {
        String::new()
    }

    fn execute(
        &mut self,
        what: &'static str,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<u64, StoreError> {
        let n = self
            .prepare_cached(sql)
            .ctx(what)?
            .execute(params_from_iter(params))
            .ctx(what)?;
        Ok(n as u64)
    }

    fn query_each(
        &mut self,
        what: &'static str,
        sql: &str,
        params: &[Param<'_>],
        f: &mut dyn FnMut(&dyn Row) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut st = self.prepare_cached(sql).ctx(what)?;
        let mut rows = st.query(params_from_iter(params)).ctx(what)?;
        while let Some(row) = rows.next().ctx(what)? {
            if !f(&SqliteRow { row, what })? {
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
        let mut st = self.prepare_cached(sql).ctx(what)?;
        st.query_row(params_from_iter(params), |row| {
            Ok(f(&SqliteRow { row, what }))
        })
        .ctx(what)?
    }

    /// The one writer holds the whole database: nothing to lock.
    fn lock(&mut self, _lock: Lock) -> Result<(), StoreError> {
        Ok(())
    }
}
