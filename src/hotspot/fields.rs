//! The original fields of a feed row, kept so that `strawfire locate` can write each row back
//! unchanged with its columns added.
//!
//! A field-scale feed has 100,000 rows of 14 fields: as a `String` each, reading it made 1.4
//! million allocations (and as many frees) for text that is already in the file. Rows of a
//! plain CSV file ([`super::plain_csv`]) instead point into the file's text, shared by all of
//! them: a row is a reference count and a run of field spans. Rows from anywhere else (GeoJSON,
//! quoted CSV, the fire products) own their strings. Both read the same way.

use std::fmt;
use std::ops::Index;
use std::sync::Arc;

/// The original fields of one row, in the order of the feed's header.
#[derive(Clone)]
pub struct Fields(Repr);

#[derive(Clone)]
enum Repr {
    Owned(Vec<String>),
    /// Fields `first..first + len` of a shared table.
    Shared {
        table: Arc<SpanTable>,
        first: u32,
        len: u32,
    },
}

/// Field spans (byte ranges, already trimmed) into a text shared by many rows.
pub(super) struct SpanTable {
    pub text: Arc<String>,
    pub spans: Vec<[u32; 2]>,
}

impl Fields {
    /// Fields `first..first + len` of `table`.
    pub(super) fn shared(table: &Arc<SpanTable>, first: u32, len: u32) -> Fields {
        Fields(Repr::Shared {
            table: Arc::clone(table),
            first,
            len,
        })
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Owned(v) => v.len(),
            Repr::Shared { len, .. } => *len as usize,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Field `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&str> {
        match &self.0 {
            Repr::Owned(v) => v.get(i).map(String::as_str),
            Repr::Shared { table, first, len } => (i < *len as usize).then(|| {
                let [a, b] = table.spans[*first as usize + i];
                &table.text[a as usize..b as usize]
            }),
        }
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| &self[i])
    }

    /// The fields as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(String::from).collect()
    }

    /// The fields joined by `sep`.
    pub fn join(&self, sep: &str) -> String {
        let mut out = String::new();
        for (i, f) in self.iter().enumerate() {
            if i > 0 {
                out.push_str(sep);
            }
            out.push_str(f);
        }
        out
    }
}

impl Index<usize> for Fields {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        match self.get(i) {
            Some(f) => f,
            None => panic!("field {i} of a row of {} fields", self.len()),
        }
    }
}

impl From<Vec<String>> for Fields {
    fn from(v: Vec<String>) -> Self {
        Fields(Repr::Owned(v))
    }
}

impl PartialEq for Fields {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_and_owned_fields_read_and_compare_alike() {
        let text = Arc::new("a, b ,c\nd,e".to_string());
        let table = Arc::new(SpanTable {
            text,
            spans: vec![[0, 1], [3, 4], [6, 7], [8, 9], [10, 11]],
        });
        let row = Fields::shared(&table, 0, 3);
        let owned = Fields::from(vec!["a".to_string(), "b".into(), "c".into()]);
        assert_eq!(row, owned);
        assert_eq!((row.len(), &row[1], row.get(3)), (3, "b", None));
        assert_eq!(row.join(","), "a,b,c");
        assert_eq!(Fields::shared(&table, 3, 2).to_vec(), ["d", "e"]);
        assert_ne!(Fields::shared(&table, 3, 2), owned);
        assert_eq!(format!("{row:?}"), r#"["a", "b", "c"]"#);
    }
}
