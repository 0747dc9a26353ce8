//! The keys a config type takes, table by table, read from its `Deserialize` impl (no list kept
//! by hand, so none to forget), and the nearest known key to a misspelt one: an unknown key is
//! an error naming its nearest neighbour ("did you mean `inbox.poll_s`?").
//!
//! The keys are found by deserializing the type from a probe that plays every value: a struct
//! tells the probe its field names, which are recorded under the table's path, and the probe
//! then offers each field a placeholder value (`0`, `""`, the first variant, one element of a
//! list) to reach the tables inside. A placeholder a field refuses (an address parsed from
//! `""`) fails that field only: the next pass leaves it out, until a pass goes through.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Visitor};

/// Every table's keys: table path (`""` the top level, `dispatch.normal`) → its keys.
pub type Tables = BTreeMap<String, BTreeSet<&'static str>>;

/// The keys `T` takes, table by table.
pub fn of<T: DeserializeOwned>() -> Tables {
    let seen = RefCell::new(Seen::default());
    for _ in 0..256 {
        seen.borrow_mut().claimed = false;
        let before = seen.borrow().skip.len();
        let probe = Probe {
            path: "",
            seen: &seen,
        };
        if T::deserialize(probe).is_ok() || seen.borrow().skip.len() == before {
            break;
        }
    }
    seen.into_inner().tables
}

/// An unknown key's path as `serde_ignored` gives it (`sources.0.nme`, `x.?`) as a table path
/// and a key: list indices and `Option` marks dropped.
pub fn split(ignored: &str) -> (String, String) {
    let parts: Vec<&str> = ignored
        .split('.')
        .filter(|p| !p.is_empty() && *p != "?" && !p.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    match parts.split_last() {
        Some((key, table)) => (table.join("."), key.to_string()),
        None => (String::new(), ignored.to_string()),
    }
}

/// The known key nearest to `key` in `table` (a few edits away), else a key of that name in
/// another table (`poll_s` given at the top level: `inbox.poll_s`); as a full path.
pub fn nearest(tables: &Tables, table: &str, key: &str) -> Option<String> {
    let full = |t: &str, k: &str| {
        if t.is_empty() {
            k.to_string()
        } else {
            format!("{t}.{k}")
        }
    };
    let near = tables.get(table).and_then(|keys| {
        let limit = (key.chars().count() / 3).max(2);
        keys.iter()
            .map(|k| (edits(key, k), *k))
            .filter(|(d, _)| *d <= limit)
            .min()
            .map(|(_, k)| full(table, k))
    });
    near.or_else(|| {
        tables
            .iter()
            .find(|(t, keys)| t.as_str() != table && keys.contains(key))
            .map(|(t, _)| full(t, key))
    })
}

/// Levenshtein distance (characters).
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (diag + usize::from(ca != *cb)).min(row[j] + 1).min(up + 1);
            diag = up;
        }
    }
    row[b.len()]
}

#[derive(Default)]
struct Seen {
    tables: Tables,
    /// Fields whose placeholder failed: left out of later passes.
    skip: BTreeSet<String>,
    /// A failure of this pass was already pinned on its innermost field.
    claimed: bool,
}

#[derive(Debug)]
struct Refused(String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

impl de::Error for Refused {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Refused(msg.to_string())
    }
}

#[derive(Clone, Copy)]
struct Probe<'s> {
    path: &'s str,
    seen: &'s RefCell<Seen>,
}

/// A probe that owns its path (the nested ones).
struct Owned<'s> {
    path: String,
    seen: &'s RefCell<Seen>,
}

impl<'s> Probe<'s> {
    fn at(self, key: &str) -> Owned<'s> {
        Owned {
            path: if self.path.is_empty() {
                key.to_string()
            } else {
                format!("{}.{key}", self.path)
            },
            seen: self.seen,
        }
    }
}

macro_rules! placeholder {
    ($($method:ident => $visit:ident($($value:expr)?)),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Refused> {
            v.$visit($($value)?)
        })*
    };
}

impl<'de, 's> de::Deserializer<'de> for Probe<'s> {
    type Error = Refused;

    placeholder! {
        deserialize_any => visit_unit(),
        deserialize_bool => visit_bool(false),
        deserialize_i8 => visit_i64(0),
        deserialize_i16 => visit_i64(0),
        deserialize_i32 => visit_i64(0),
        deserialize_i64 => visit_i64(0),
        deserialize_u8 => visit_u64(0),
        deserialize_u16 => visit_u64(0),
        deserialize_u32 => visit_u64(0),
        deserialize_u64 => visit_u64(0),
        deserialize_f32 => visit_f64(0.0),
        deserialize_f64 => visit_f64(0.0),
        deserialize_char => visit_char('a'),
        deserialize_str => visit_str(""),
        deserialize_string => visit_str(""),
        deserialize_bytes => visit_bytes(&[]),
        deserialize_byte_buf => visit_bytes(&[]),
        deserialize_unit => visit_unit(),
        deserialize_identifier => visit_str(""),
        deserialize_ignored_any => visit_unit(),
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Refused> {
        v.visit_some(self)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, Refused> {
        v.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, Refused> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Refused> {
        v.visit_seq(Elements {
            probe: self,
            left: 1,
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, Refused> {
        v.visit_seq(Elements {
            probe: self,
            left: len,
        })
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        len: usize,
        v: V,
    ) -> Result<V::Value, Refused> {
        self.deserialize_tuple(len, v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Refused> {
        v.visit_map(de::value::MapDeserializer::<
            std::iter::Empty<((), ())>,
            Refused,
        >::new(std::iter::empty()))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Refused> {
        self.seen
            .borrow_mut()
            .tables
            .entry(self.path.to_string())
            .or_default()
            .extend(fields.iter().copied());
        let fields: Vec<&'static str> = {
            let seen = self.seen.borrow();
            fields
                .iter()
                .copied()
                .filter(|f| !seen.skip.contains(&self.at(f).path))
                .collect()
        };
        v.visit_map(Fields {
            probe: self,
            fields: fields.into_iter(),
            current: None,
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Refused> {
        let first = variants.first().copied().unwrap_or("");
        v.visit_enum(de::value::StrDeserializer::<Refused>::new(first))
    }
}

/// The fields of a struct, each with the probe as its value.
struct Fields<'s> {
    probe: Probe<'s>,
    fields: std::vec::IntoIter<&'static str>,
    current: Option<&'static str>,
}

impl<'de, 's> de::MapAccess<'de> for Fields<'s> {
    type Error = Refused;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Refused> {
        match self.fields.next() {
            None => Ok(None),
            Some(f) => {
                self.current = Some(f);
                seed.deserialize(de::value::StrDeserializer::<Refused>::new(f))
                    .map(Some)
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Refused> {
        let owned = self.probe.at(self.current.unwrap_or(""));
        let probe = Probe {
            path: &owned.path,
            seen: owned.seen,
        };
        seed.deserialize(probe).inspect_err(|_| {
            // Pinned on the innermost field that failed; the fields around it go on.
            let mut seen = self.probe.seen.borrow_mut();
            if !seen.claimed {
                seen.claimed = true;
                seen.skip.insert(owned.path.clone());
            }
        })
    }
}

/// One element of a list (the list's tables under the list's own path), or a tuple's.
struct Elements<'s> {
    probe: Probe<'s>,
    left: usize,
}

impl<'de, 's> de::SeqAccess<'de> for Elements<'s> {
    type Error = Refused;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Refused> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(self.probe).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        poll_s: f64,
        settle_s: f64,
        addr: std::net::SocketAddr,
        deep: Option<Deep>,
    }

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Deep {
        x: u32,
    }

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Top {
        listen: std::net::SocketAddr,
        inbox: Inner,
        sources: Vec<Deep>,
        #[serde(default)]
        after: Deep,
    }

    impl Default for Deep {
        fn default() -> Self {
            Deep { x: 1 }
        }
    }

    #[test]
    fn every_table_is_found_through_fields_that_refuse_a_placeholder() {
        let t = of::<Top>();
        let keys = |p: &str| t[p].iter().copied().collect::<Vec<_>>();
        assert_eq!(keys(""), ["after", "inbox", "listen", "sources"]);
        assert_eq!(keys("inbox"), ["addr", "deep", "poll_s", "settle_s"]);
        assert_eq!(keys("inbox.deep"), ["x"]);
        assert_eq!(keys("sources"), ["x"]);
        assert_eq!(keys("after"), ["x"]);
    }

    #[test]
    fn the_nearest_key_is_a_few_edits_away_or_the_same_name_elsewhere() {
        let t = of::<Top>();
        let near = |ignored: &str| {
            let (table, key) = split(ignored);
            nearest(&t, &table, &key)
        };
        assert_eq!(near("inbox.pol_s").as_deref(), Some("inbox.poll_s"));
        assert_eq!(near("inbx").as_deref(), Some("inbox"));
        assert_eq!(near("sources.0.y").as_deref(), Some("sources.x"));
        assert_eq!(near("poll_s").as_deref(), Some("inbox.poll_s"));
        assert_eq!(near("colour"), None);
        assert_eq!(edits("kitten", "sitting"), 3);
        assert_eq!(edits("", "abc"), 3);
    }
}
