//! The attributes of a layer's units (code, name, parent, cropland) as text in one buffer,
//! in the index's item order.
//!
//! Why: a parcel layer of 300,000 fields held a [`UnitInfo`] per parcel (a `String` for its
//! six-digit id), built while reading, copied when the pieces read on each core were joined,
//! and then an `Arc<str>` per parcel again for the matcher: 600,000 small allocations and
//! ≈ 50 MB of fresh memory. Here a unit's texts are written once while reading into a
//! [`UnitTexts`] (no allocation per row), then gathered with the shapes into the index's item
//! order ([`Units`]), where the ids of the parcels under one footprint lie next to each other
//! as their rings do. The [`UnitInfo`]s in the order given are made on first use (the API's
//! unit lists, admin layers' matches), never on the parcel road.

use std::sync::OnceLock;

use super::locator::UnitInfo;

/// Units' texts one after another, in one order (read order while loading, item order in
/// [`Units`]). A missing name is empty, as is a missing or empty parent (both read back as
/// `None`, as the loaders give them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitTexts {
    text: String,
    /// Per unit: where its code, name and parent end in `text` (each starts where the one
    /// before ends). `u32`: 12 bytes a unit instead of 24 (3.6 MB of fresh pages less for
    /// 300,000 parcels, twice: read, then gathered); a layer's texts stay far below 4 GiB.
    ends: Vec<[u32; 3]>,
    /// Per unit: its cropland, ha; empty while no unit has one.
    cropland: Vec<Option<f64>>,
}

impl UnitTexts {
    /// Room for `units` units of `bytes` bytes of text in all.
    pub fn with_capacity(units: usize, bytes: usize) -> Self {
        UnitTexts {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(units),
            cropland: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Appends a unit whose code is written by `code` (so that an integer code needs no
    /// string of its own).
    pub fn push_with(
        &mut self,
        code: impl FnOnce(&mut String),
        name: &str,
        parent: Option<&str>,
        cropland_ha: Option<f64>,
    ) {
        let at = |text: &String| u32::try_from(text.len()).expect("a layer's texts under 4 GiB");
        code(&mut self.text);
        let code_end = at(&self.text);
        self.text.push_str(name);
        let name_end = at(&self.text);
        self.text.push_str(parent.unwrap_or_default());
        self.ends.push([code_end, name_end, at(&self.text)]);
        if !self.cropland.is_empty() || cropland_ha.is_some() {
            self.cropland.resize(self.ends.len() - 1, None);
            self.cropland.push(cropland_ha);
        }
    }

    /// Appends `unit`.
    pub fn push(&mut self, unit: &UnitInfo) {
        self.push_with(
            |t| t.push_str(&unit.code),
            &unit.name,
            unit.parent.as_deref(),
            unit.cropland_ha,
        );
    }

    /// Where unit `i`'s texts start and end.
    #[inline]
    fn span(&self, i: usize) -> (usize, [usize; 3]) {
        let start = if i == 0 { 0 } else { self.ends[i - 1][2] };
        let e = self.ends[i];
        (start as usize, e.map(|e| e as usize))
    }

    /// Unit `i`'s code.
    #[inline]
    pub fn code(&self, i: usize) -> &str {
        let (start, [code, _, _]) = self.span(i);
        &self.text[start..code]
    }

    /// Unit `i`'s name (empty when it has none).
    pub fn name(&self, i: usize) -> &str {
        let (_, [code, name, _]) = self.span(i);
        &self.text[code..name]
    }

    /// Unit `i`'s parent code, `None` when it has none (or an empty one).
    pub fn parent(&self, i: usize) -> Option<&str> {
        let (_, [_, name, parent]) = self.span(i);
        Some(&self.text[name..parent]).filter(|p| !p.is_empty())
    }

    /// Unit `i`'s cropland, ha.
    pub fn cropland_ha(&self, i: usize) -> Option<f64> {
        self.cropland.get(i).copied().flatten()
    }

    /// Unit `i` as a [`UnitInfo`].
    pub fn info(&self, i: usize) -> UnitInfo {
        UnitInfo {
            code: self.code(i).to_string(),
            name: self.name(i).to_string(),
            parent: self.parent(i).map(str::to_string),
            cropland_ha: self.cropland_ha(i),
        }
    }

    /// Bytes of text of unit `i`.
    #[inline]
    pub(super) fn text_len(&self, i: usize) -> usize {
        let (start, [_, _, end]) = self.span(i);
        end - start
    }

    /// Whether any unit has a cropland.
    pub(super) fn has_cropland(&self) -> bool {
        !self.cropland.is_empty()
    }

    /// Writes unit `i`'s text at the start of `text` (which lies at byte `at` of the whole
    /// buffer) and its ends into `ends`; the bytes written.
    #[inline]
    pub(super) fn copy_into(
        &self,
        i: usize,
        at: usize,
        text: &mut [u8],
        ends: &mut [u32; 3],
    ) -> usize {
        let (start, e) = self.span(i);
        let len = e[2] - start;
        text[..len].copy_from_slice(&self.text.as_bytes()[start..e[2]]);
        // Below the whole buffer's length, which the gather checked fits in a u32.
        *ends = e.map(|e| (e - start + at) as u32);
        len
    }

    /// Texts from parts filled in place (see [`super::flat::FlatShapes::gather`]).
    pub(super) fn from_raw(text: Vec<u8>, ends: Vec<[u32; 3]>, cropland: Vec<Option<f64>>) -> Self {
        UnitTexts {
            // Whole units' texts copied from strings: valid UTF-8.
            text: String::from_utf8(text).expect("texts copied whole from strings"),
            ends,
            cropland,
        }
    }
}

/// A layer's units: their texts in the index's item order, and the [`UnitInfo`]s in the order
/// given, made on first use. Reads as a slice of [`UnitInfo`] in the order given (`units[i]`,
/// `units.iter()`), so callers index it as they index the shapes.
pub struct Units {
    /// In item order.
    texts: UnitTexts,
    /// Per unit in the order given: its item.
    item_of: Vec<u32>,
    given: OnceLock<Vec<UnitInfo>>,
}

impl Units {
    /// Units whose texts are already in item order; `order[k]` is item `k`'s position in the
    /// order given.
    pub(super) fn new(texts: UnitTexts, order: &[usize]) -> Self {
        assert_eq!(texts.len(), order.len(), "one text per item");
        let mut item_of = vec![0u32; order.len()];
        for (k, &i) in order.iter().enumerate() {
            item_of[i] = u32::try_from(k).expect("fewer than 2^32 units");
        }
        Units {
            texts,
            item_of,
            given: OnceLock::new(),
        }
    }

    /// Units given as [`UnitInfo`]s (kept as given), in the order `order` of the index.
    pub(super) fn from_infos(infos: Vec<UnitInfo>, order: &[usize]) -> Self {
        let bytes = infos
            .iter()
            .map(|u| u.code.len() + u.name.len() + u.parent.as_ref().map_or(0, |p| p.len()))
            .sum();
        let mut texts = UnitTexts::with_capacity(infos.len(), bytes);
        for &i in order {
            texts.push(&infos[i]);
        }
        let units = Self::new(texts, order);
        units
            .given
            .set(infos)
            .unwrap_or_else(|_| unreachable!("set once"));
        units
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.item_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.item_of.is_empty()
    }

    /// The code of item `k` (the index's order: [`super::index::ItemOverlap::item`]).
    #[inline]
    pub fn item_code(&self, k: usize) -> &str {
        self.texts.code(k)
    }

    /// The code of unit `i` (the order given), without making the [`UnitInfo`]s.
    pub fn code(&self, i: usize) -> &str {
        self.texts.code(self.item_of[i] as usize)
    }

    /// The units in the order given.
    pub fn infos(&self) -> &[UnitInfo] {
        self.given.get_or_init(|| {
            self.item_of
                .iter()
                .map(|&k| self.texts.info(k as usize))
                .collect()
        })
    }
}

impl std::ops::Deref for Units {
    type Target = [UnitInfo];

    fn deref(&self) -> &[UnitInfo] {
        self.infos()
    }
}

impl<'a> IntoIterator for &'a Units {
    type Item = &'a UnitInfo;
    type IntoIter = std::slice::Iter<'a, UnitInfo>;

    fn into_iter(self) -> Self::IntoIter {
        self.infos().iter()
    }
}

impl PartialEq for Units {
    fn eq(&self, other: &Self) -> bool {
        self.infos() == other.infos()
    }
}

impl std::fmt::Debug for Units {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.infos()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(code: &str, name: &str, parent: Option<&str>, crop: Option<f64>) -> UnitInfo {
        UnitInfo {
            code: code.into(),
            name: name.into(),
            parent: parent.map(Into::into),
            cropland_ha: crop,
        }
    }

    #[test]
    fn texts_give_back_what_was_pushed() {
        let given = [
            unit("410526", "滑县", None, Some(1.5)),
            unit("7", "", Some("410526101"), Some(2.5)),
            unit("x", "field x", None, None),
        ];
        let mut t = UnitTexts::with_capacity(0, 0);
        for u in &given {
            t.push(u);
        }
        assert_eq!(t.len(), 3);
        for (i, u) in given.iter().enumerate() {
            assert_eq!(&t.info(i), u);
        }
        // An empty parent reads as none, as the loaders give it.
        t.push_with(|s| s.push('9'), "n", Some(""), None);
        assert_eq!(t.info(3), unit("9", "n", None, None));
    }

    #[test]
    fn units_in_item_order_read_in_the_order_given() {
        let given = vec![
            unit("a", "A", None, None),
            unit("b", "B", Some("p"), Some(1.0)),
            unit("c", "C", None, None),
        ];
        // Item k is unit order[k].
        let order = [2, 0, 1];
        let units = Units::from_infos(given.clone(), &order);
        assert_eq!(&units[..], &given[..]);
        assert_eq!(units.item_code(0), "c");
        assert_eq!(units.code(1), "b");
        let mut texts = UnitTexts::default();
        for &i in &order {
            texts.push(&given[i]);
        }
        let lazy = Units::new(texts, &order);
        assert_eq!(lazy, units);
        assert_eq!(lazy.len(), 3);
        assert_eq!(lazy[1], given[1]);
    }
}
