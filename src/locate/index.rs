//! The spatial index: a packed Hilbert R-tree ([`super::packed`]) over polygon bounding
//! boxes, with exact predicates on the candidates it returns.
//!
//! Built once per layer and shared read-only by every query (and every rayon thread): with a
//! million parcels, building dominates and must not be repeated per hotspot. Two queries:
//! - [`PolygonIndex::containing`]: the polygons holding a point (admin units by pixel centre).
//! - [`PolygonIndex::overlaps`]: the polygons overlapping an axis-aligned rectangle (the pixel
//!   footprint) with the share of the rectangle each covers. A polygon whose box lies inside
//!   the footprint gives its precomputed area; any other, the edge integral of
//!   [`overlap_area`] over its rings, read from one flat array of coordinates kept in the
//!   tree's order (outer rings counter-clockwise, holes clockwise, so that the signed sum over
//!   all rings is the area without a step per ring).
//!
//! Each has a `*_reference` linear scan beside it (the reference overlap clips each ring with
//! Sutherland–Hodgman); tests check that they agree on seeded data.

use std::cmp::Reverse;
use std::sync::OnceLock;

use geo::{Coord, Intersects, LineString, MultiPolygon, Point, Rect};

use rayon::prelude::*;

use super::flat::{shoelace, signed_window_integral, split_mut, FlatShapes, PartFinder};
#[cfg(target_arch = "x86_64")]
use super::kernel::Avx;
use super::kernel::{Kernel, Scalar};
use super::packed::{self, PackedTree};
use super::units::UnitTexts;

/// An index over polygons; indices returned are positions in the vector it was built from.
pub struct PolygonIndex {
    /// The shapes as given, made from `flat` on first use when the index was built from WKB.
    shapes: OnceLock<Vec<MultiPolygon<f64>>>,
    /// The tree over the boxes of the non-empty shapes, in Hilbert order.
    tree: PackedTree,
    /// The shapes flat: the tree's items first, in its order, then the shapes without a box.
    flat: FlatShapes,
    /// For each shape of `flat`, its position in the order given.
    order: Vec<usize>,
}

/// One polygon overlapping a footprint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overlap {
    /// Position of the polygon in the indexed vector.
    pub index: usize,
    /// Share of the footprint's area that lies in the polygon, 0–1.
    pub fraction: f64,
}

impl PolygonIndex {
    /// Sorts the shapes' boxes along a Hilbert curve, packs the tree and lays out their rings
    /// in the same order. Empty geometries are kept in `shapes` but never match.
    pub fn new(shapes: Vec<MultiPolygon<f64>>) -> Self {
        let index = Self::from_flat(FlatShapes::from_shapes(&shapes));
        index
            .shapes
            .set(shapes)
            .unwrap_or_else(|_| unreachable!("set once"));
        index
    }

    /// The same index from shapes already laid out flat in their given order (the GeoPackage
    /// road fills them straight from WKB); [`Self::shapes`] are made from them when asked.
    pub fn from_flat(given: FlatShapes) -> Self {
        Self::from_flat_parts(&[given])
    }

    /// [`Self::from_flat`] of the shapes of `parts` taken one after another.
    pub fn from_flat_parts(parts: &[FlatShapes]) -> Self {
        Self::from_flat_parts_with_texts(parts, &[]).0
    }

    /// [`Self::from_flat_parts`], with the texts of the shapes' units (one [`UnitTexts`] per
    /// part, or none) gathered into the index's item order on the way.
    pub(super) fn from_flat_parts_with_texts(
        parts: &[FlatShapes],
        texts: &[UnitTexts],
    ) -> (Self, UnitTexts) {
        let mut first = Vec::with_capacity(parts.len() + 1);
        first.push(0);
        for p in parts {
            first.push(first.last().copied().unwrap_or(0) + p.len());
        }
        let n = first[parts.len()];
        assert!(u32::try_from(n).is_ok(), "fewer than 2^32 shapes");
        let boxed = || {
            parts.par_iter().enumerate().flat_map_iter(|(p, part)| {
                let first = first[p];
                part.boxes
                    .iter()
                    .enumerate()
                    .filter_map(move |(i, b)| b.as_ref().map(|b| (first + i, b)))
            })
        };
        let curve = packed::Curve::over(boxed().map(|(_, b)| *b));
        // Each part's keys written straight into its own slice of one vector (collected from
        // a flat map, they went through a list of vectors and a copy).
        let boxed_in: Vec<usize> = parts
            .par_iter()
            .map(|part| part.boxes.iter().filter(|b| b.is_some()).count())
            .collect();
        let mut keys = vec![0u64; boxed_in.iter().sum()];
        split_mut(&mut keys, boxed_in.iter().copied())
            .into_par_iter()
            .zip(parts.par_iter().enumerate())
            .for_each(|(keys, (p, part))| {
                let at = part
                    .boxes
                    .iter()
                    .enumerate()
                    .filter_map(|(i, b)| b.as_ref().map(|b| (first[p] + i, b)));
                for (key, (g, b)) in keys.iter_mut().zip(at) {
                    *key = curve.keyed(g, b);
                }
            });
        let mut order = curve.sort(keys);
        let box_of = |find: &mut PartFinder, g: usize| {
            let (part, i) = find.find(g);
            parts[part].boxes[i]
        };
        let mut items = Vec::with_capacity(PackedTree::capacity_for(order.len()));
        items.par_extend(order.par_iter().map_init(
            || PartFinder::new(&first),
            |find, &g| box_of(find, g).expect("a boxed shape"),
        ));
        let tree = PackedTree::new(items);
        if order.len() < n {
            let mut find = PartFinder::new(&first);
            order.extend((0..n).filter(|&g| box_of(&mut find, g).is_none()));
        }
        let (flat, texts) = FlatShapes::gather(parts, texts, &order);
        let index = PolygonIndex {
            shapes: OnceLock::new(),
            tree,
            flat,
            order,
        };
        (index, texts)
    }

    /// Area of item `k`'s shape inside `rect`: the signed edge integral over its oriented rings.
    #[inline(always)]
    fn item_window_area<K: Kernel>(&self, kernel: K, k: usize, rect: Rect<f64>) -> f64 {
        let mut area = 0.0;
        for r in self.flat.rings_of(k) {
            area += kernel.window_integral(self.flat.ring(r), rect);
        }
        area.max(0.0)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// The indexed shapes (WGS84), in the order they were given.
    pub fn shapes(&self) -> &[MultiPolygon<f64>] {
        self.shapes.get_or_init(|| {
            let mut slot = vec![0; self.order.len()];
            for (k, &i) in self.order.iter().enumerate() {
                slot[i] = k;
            }
            slot.iter().map(|&k| self.flat.shape(k)).collect()
        })
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn shape(&self, index: usize) -> &MultiPolygon<f64> {
        &self.shapes()[index]
    }

    /// Indices of the polygons holding `(lon, lat)` (boundary included), ascending.
    pub fn containing(&self, lon: f64, lat: f64) -> Vec<usize> {
        let p = Point::new(lon, lat);
        let mut hits = Vec::new();
        self.tree.search([lon, lat, lon, lat], |k| {
            let i = self.order[k];
            if self.shapes()[i].intersects(&p) {
                hits.push(i);
            }
        });
        hits.sort_unstable();
        hits
    }

    /// The first polygon (lowest index) holding `(lon, lat)`: `containing(..).first()` without
    /// the exact tests of the candidates after it (a scene's coverage samples need only this).
    pub fn first_containing(&self, lon: f64, lat: f64) -> Option<usize> {
        let p = Point::new(lon, lat);
        let mut candidates = Vec::new();
        self.tree
            .search([lon, lat, lon, lat], |k| candidates.push(self.order[k]));
        candidates.sort_unstable();
        candidates
            .into_iter()
            .find(|&i| self.shapes()[i].intersects(&p))
    }

    /// The same answer as [`Self::containing`] by testing every polygon.
    pub fn containing_reference(&self, lon: f64, lat: f64) -> Vec<usize> {
        let p = Point::new(lon, lat);
        let shapes = self.shapes();
        (0..shapes.len())
            .filter(|&i| shapes[i].intersects(&p))
            .collect()
    }

    /// Polygons overlapping `rect` with the share of `rect` each covers, largest first
    /// (ties by index). Polygons touching only along an edge (share 0) are left out.
    pub fn overlaps(&self, rect: Rect<f64>) -> Vec<Overlap> {
        let mut out = Vec::new();
        self.overlaps_into(rect, &mut out);
        out.into_iter().map(|o| o.overlap).collect()
    }

    /// [`Self::overlaps`] into `out` (cleared first, so that a caller matching many footprints
    /// reuses one vector), each with its item: its position in the tree's order, where data
    /// kept per item in that order (see [`Self::item_order`]) lies near its neighbours'.
    pub fn overlaps_into(&self, rect: Rect<f64>, out: &mut Vec<ItemOverlap>) {
        #[cfg(target_arch = "x86_64")]
        if let Some(avx) = Avx::detect() {
            // SAFETY: an `Avx` is made only where the CPU has AVX (`Avx::detect`).
            #[allow(unsafe_code)]
            return unsafe { self.overlaps_into_avx(avx, rect, out) };
        }
        self.overlaps_into_with(Scalar, rect, out);
    }

    /// [`Self::overlaps_into`] on a CPU with AVX: the tree walk, the candidates and the edge
    /// integrals all compiled for AVX in this one function, the kernels inlined.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx")]
    fn overlaps_into_avx(&self, avx: Avx, rect: Rect<f64>, out: &mut Vec<ItemOverlap>) {
        self.overlaps_into_with(avx, rect, out);
    }

    /// [`Self::overlaps_into`] with `kernel`'s inner loops (the same answer with any).
    #[inline(always)]
    fn overlaps_into_with<K: Kernel>(
        &self,
        kernel: K,
        rect: Rect<f64>,
        out: &mut Vec<ItemOverlap>,
    ) {
        out.clear();
        let q = [rect.min().x, rect.min().y, rect.max().x, rect.max().y];
        let rect_area = rect.width() * rect.height();
        if rect_area <= 0.0 {
            return;
        }
        // First the candidates, each cut one's ring prefetched on the way: those fetches do
        // not wait for each other, so their cache misses overlap (the rings of a VIIRS
        // footprint's ≈ 25 cut fields are seldom in cache), where the edge integral of one
        // field after another waited for each. A field inside the footprint gives its area,
        // computed once; a cut one is marked (index usize::MAX) until its integral is taken.
        self.tree.search_with(kernel, q, |k| {
            let inside = packed::contains(&q, self.tree.item(k));
            let (index, area) = if inside {
                (self.order[k], self.flat.areas[k])
            } else {
                self.flat.prefetch(k);
                (usize::MAX, 0.0)
            };
            out.push(ItemOverlap {
                overlap: Overlap {
                    index,
                    fraction: area,
                },
                item: k,
            });
        });
        // The shares, kept in place (`retain_mut`'s work, in this function's body so that the
        // integrals inline into it: through a closure they were calls).
        let mut kept = 0;
        for k in 0..out.len() {
            let mut o = out[k];
            let area = if o.overlap.index == usize::MAX {
                o.overlap.index = self.order[o.item];
                self.item_window_area(kernel, o.item, rect)
            } else {
                o.overlap.fraction
            };
            o.overlap.fraction = (area / rect_area).min(1.0);
            out[kept] = o;
            kept += usize::from(o.overlap.fraction > MIN_FRACTION);
        }
        out.truncate(kept);
        sort_by_share(out);
    }

    /// For each item (the tree's order, then the shapes without a box), the position of its
    /// shape in the order given.
    pub fn item_order(&self) -> &[usize] {
        &self.order
    }

    /// The same answer as [`Self::overlaps`] by clipping every polygon.
    pub fn overlaps_reference(&self, rect: Rect<f64>) -> Vec<Overlap> {
        let rect_area = rect.width() * rect.height();
        let candidates = self
            .shapes()
            .iter()
            .enumerate()
            .map(|(i, s)| (i, clipped_area(s, rect)));
        collect_overlaps(candidates, rect_area)
    }
}

/// Largest share first, ties by index: the one order of (share descending, index), indices
/// being distinct. The shares are positive and finite, so their bit patterns order as they
/// do (`total_cmp`'s order, compared as plain integers).
///
/// Up to [`KEYED_MAX`] shares (≈ 22 under a field-scale footprint, ≈ 60 under a VIIRS pixel)
/// are sorted as one `u64` each: the share's bits without their lowest byte, then the share's
/// position in that byte (distinct keys, so any sort gives one order). Beyond 20 elements the
/// standard library sorts integers that small with sorting networks and branch-free
/// partitions; the shares themselves (24 bytes each) went through its general small sort,
/// whose insertions take a branch per step on keys in no order. Shares equal in all but that byte (or equal: ties) may then be out of order, so an
/// insertion pass with the exact comparison follows: on keys already in order its one test per
/// share is always false (a predicted branch). More shares take [`sort_by_share_pairs`].
fn sort_by_share(out: &mut Vec<ItemOverlap>) {
    match out.len() {
        0 | 1 => {}
        n if n <= 32 => sort_by_share_keyed::<32>(out),
        n if n <= KEYED_MAX => sort_by_share_keyed::<KEYED_MAX>(out),
        _ => sort_by_share_pairs(out),
    }
}

/// Shares sorted by a key holding their position (in its lowest byte).
const KEYED_MAX: usize = 256;
const POSITION: u64 = KEYED_MAX as u64 - 1;

/// [`sort_by_share`] of up to `N` (≤ [`KEYED_MAX`]) shares by their keys.
#[inline(always)]
fn sort_by_share_keyed<const N: usize>(out: &mut Vec<ItemOverlap>) {
    let n = out.len();
    let mut keys = [0u64; N];
    let keys = &mut keys[..n];
    for (position, (key, o)) in keys.iter_mut().zip(out.iter()).enumerate() {
        *key = (!o.overlap.fraction.to_bits() & !POSITION) | position as u64;
    }
    keys.sort_unstable();
    let at = |key: u64| &out[(key & POSITION) as usize];
    let before = |a: &ItemOverlap, b: &ItemOverlap| {
        let (x, y) = (a.overlap.fraction.to_bits(), b.overlap.fraction.to_bits());
        x > y || (x == y && a.overlap.index < b.overlap.index)
    };
    for i in 1..n {
        let key = keys[i];
        let mut j = i;
        while j > 0 && before(at(key), at(keys[j - 1])) {
            keys[j] = keys[j - 1];
            j -= 1;
        }
        keys[j] = key;
    }
    // The shares in that order after the ones given, then moved to the front.
    for &key in keys.iter() {
        let o = out[(key & POSITION) as usize];
        out.push(o);
    }
    out.copy_within(n.., 0);
    out.truncate(n);
}

/// [`sort_by_share`] of any number of shares: sorted on their bits (one integer comparison,
/// which the sort's branch-free merges take without a branch), then the runs of equal shares,
/// which are rare, by index. Allocates nothing.
fn sort_by_share_pairs(out: &mut [ItemOverlap]) {
    if out.len() < 2 {
        return;
    }
    out.sort_unstable_by_key(|o| Reverse(o.overlap.fraction.to_bits()));
    let mut start = 0;
    for k in 1..=out.len() {
        if k == out.len() || out[k].overlap.fraction != out[start].overlap.fraction {
            if k - start > 1 {
                out[start..k].sort_unstable_by_key(|o| o.overlap.index);
            }
            start = k;
        }
    }
}

/// An [`Overlap`] with its item in the index (see [`PolygonIndex::overlaps_into`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ItemOverlap {
    pub overlap: Overlap,
    pub item: usize,
}

/// Below this share of the footprint an overlap is numerical noise (a shared edge).
const MIN_FRACTION: f64 = 1e-9;

/// `(index, overlap area)` pairs to overlaps with their share of the footprint.
fn collect_overlaps(
    candidates: impl Iterator<Item = (usize, f64)>,
    rect_area: f64,
) -> Vec<Overlap> {
    if rect_area <= 0.0 {
        return Vec::new();
    }
    let mut out: Vec<Overlap> = candidates
        .filter_map(|(i, area)| {
            let fraction = (area / rect_area).min(1.0);
            (fraction > MIN_FRACTION).then_some(Overlap { index: i, fraction })
        })
        .collect();
    out.sort_by(|a, b| {
        b.fraction
            .total_cmp(&a.fraction)
            .then(a.index.cmp(&b.index))
    });
    out
}

/// Area of `shape ∩ rect`, in the squared units of the coordinates.
pub fn clipped_area(shape: &MultiPolygon<f64>, rect: Rect<f64>) -> f64 {
    shape
        .0
        .iter()
        .map(|poly| {
            let outer = clipped_ring_area(poly.exterior(), rect);
            let holes: f64 = poly
                .interiors()
                .iter()
                .map(|r| clipped_ring_area(r, rect))
                .sum();
            (outer - holes).max(0.0)
        })
        .sum()
}

/// Area of `shape ∩ rect` in one pass over the edges, without building the clipped ring: the
/// fast twin of [`clipped_area`], which stays as its reference.
///
/// By Green's theorem, with `G(x, y) = [x0 ≤ x ≤ x1] · (clamp(y, y0, y1) − y0)` (so that
/// `∂G/∂y` is 1 inside the window and 0 outside), the area of a ring's region inside the
/// window is `|∮ G dx|`: a sum over the edges of the integral of a clamped linear function over
/// the part of the edge's x-range inside the window. Vertical edges add nothing; edges beside
/// the window are skipped with two comparisons. No copy, no allocation, one branch-light loop,
/// where Sutherland–Hodgman copies the ring four times.
pub fn overlap_area(shape: &MultiPolygon<f64>, rect: Rect<f64>) -> f64 {
    shape
        .0
        .iter()
        .map(|poly| {
            let outer = ring_window_area(&poly.exterior().0, rect);
            if outer == 0.0 {
                return 0.0;
            }
            let holes: f64 = poly
                .interiors()
                .iter()
                .map(|r| ring_window_area(&r.0, rect))
                .sum();
            (outer - holes).max(0.0)
        })
        .sum()
}

/// |area| of a ring's region inside `rect` (the ring closed or not), by the edge integral of
/// [`overlap_area`]. Coordinates are taken relative to the window's lower-left corner, so the
/// products stay small (a field at lon 114° would otherwise lose eight digits).
fn ring_window_area(pts: &[Coord<f64>], rect: Rect<f64>) -> f64 {
    signed_window_integral(pts, rect).abs()
}

/// Whether a point is on the kept side of a window edge at the given coordinate.
type Inside = fn(Coord<f64>, f64) -> bool;
/// Where a segment crosses a window edge.
type Cross = fn(Coord<f64>, Coord<f64>, f64) -> Coord<f64>;

/// |area| of the part of a closed ring's region inside `rect`, by Sutherland–Hodgman clipping
/// against the four half-planes. For a concave ring the clipped ring may contain zero-width
/// spikes along the window edges; they add no area, so the area stays exact.
fn clipped_ring_area(ring: &LineString<f64>, rect: Rect<f64>) -> f64 {
    let (min, max) = (rect.min(), rect.max());
    let mut pts: &[Coord<f64>] = &ring.0;
    if pts.len() > 1 && pts.first() == pts.last() {
        pts = &pts[..pts.len() - 1];
    }
    // Fast paths without copying: ring inside the window, or its bounding box outside it.
    let (mut lo, mut hi) = (
        Coord {
            x: f64::INFINITY,
            y: f64::INFINITY,
        },
        Coord {
            x: f64::NEG_INFINITY,
            y: f64::NEG_INFINITY,
        },
    );
    for c in pts {
        lo = Coord {
            x: lo.x.min(c.x),
            y: lo.y.min(c.y),
        };
        hi = Coord {
            x: hi.x.max(c.x),
            y: hi.y.max(c.y),
        };
    }
    if lo.x >= min.x && hi.x <= max.x && lo.y >= min.y && hi.y <= max.y {
        return shoelace(pts).abs();
    }
    if hi.x <= min.x || lo.x >= max.x || hi.y <= min.y || lo.y >= max.y {
        return 0.0;
    }
    // Two scratch buffers per thread: millions of clips must not allocate each time.
    CLIP_SCRATCH.with(|scratch| {
        let (a, b) = &mut *scratch.borrow_mut();
        a.clear();
        a.extend_from_slice(pts);
        let edges: [(Inside, Cross, f64); 4] = [
            (|c, v| c.x >= v, cross_x, min.x),
            (|c, v| c.x <= v, cross_x, max.x),
            (|c, v| c.y >= v, cross_y, min.y),
            (|c, v| c.y <= v, cross_y, max.y),
        ];
        for (inside, cross, v) in edges {
            let Some(&last) = a.last() else {
                return 0.0;
            };
            b.clear();
            let mut prev = last;
            for &cur in a.iter() {
                match (inside(cur, v), inside(prev, v)) {
                    (true, true) => b.push(cur),
                    (true, false) => {
                        b.push(cross(prev, cur, v));
                        b.push(cur);
                    }
                    (false, true) => b.push(cross(prev, cur, v)),
                    (false, false) => {}
                }
                prev = cur;
            }
            std::mem::swap(a, b);
        }
        shoelace(a).abs()
    })
}

type Scratch = std::cell::RefCell<(Vec<Coord<f64>>, Vec<Coord<f64>>)>;

thread_local! {
    static CLIP_SCRATCH: Scratch = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

fn cross_x(a: Coord<f64>, b: Coord<f64>, x: f64) -> Coord<f64> {
    let t = (x - a.x) / (b.x - a.x);
    Coord {
        x,
        y: a.y + t * (b.y - a.y),
    }
}

fn cross_y(a: Coord<f64>, b: Coord<f64>, y: f64) -> Coord<f64> {
    let t = (y - a.y) / (b.y - a.y);
    Coord {
        x: a.x + t * (b.x - a.x),
        y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, BooleanOps, Polygon};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A random star-shaped (often concave) polygon around `(cx, cy)`, sometimes with a hole.
    fn random_polygon(rng: &mut ChaCha8Rng, cx: f64, cy: f64, r: f64) -> Polygon<f64> {
        let n = rng.gen_range(3..12);
        let ring: Vec<(f64, f64)> = (0..n)
            .map(|k| {
                let a = std::f64::consts::TAU * k as f64 / n as f64;
                let rr = r * rng.gen_range(0.3..1.0);
                (cx + rr * a.cos(), cy + rr * a.sin())
            })
            .collect();
        let holes = if rng.gen_bool(0.3) {
            let h = r * 0.1;
            vec![LineString::from(vec![
                (cx - h, cy - h),
                (cx + h, cy - h),
                (cx + h, cy + h),
                (cx - h, cy + h),
                (cx - h, cy - h),
            ])]
        } else {
            vec![]
        };
        Polygon::new(LineString::from(ring), holes)
    }

    fn random_index(seed: u64, n: usize) -> PolygonIndex {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let shapes = (0..n)
            .map(|_| {
                let (cx, cy) = (rng.gen_range(114.0..115.0), rng.gen_range(35.0..36.0));
                let r = rng.gen_range(0.001..0.05);
                MultiPolygon(vec![random_polygon(&mut rng, cx, cy, r)])
            })
            .collect();
        PolygonIndex::new(shapes)
    }

    #[test]
    fn rtree_point_queries_equal_linear_scan() {
        let index = random_index(7, 2000);
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let mut nonempty = 0;
        for _ in 0..5000 {
            let (lon, lat) = (rng.gen_range(113.9..115.1), rng.gen_range(34.9..36.1));
            let fast = index.containing(lon, lat);
            assert_eq!(
                fast,
                index.containing_reference(lon, lat),
                "at ({lon},{lat})"
            );
            assert_eq!(index.first_containing(lon, lat), fast.first().copied());
            nonempty += usize::from(!fast.is_empty());
        }
        assert!(
            nonempty > 500,
            "the test must exercise hits, got {nonempty}"
        );
    }

    #[test]
    fn rtree_footprint_queries_equal_linear_scan() {
        let index = random_index(11, 2000);
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let mut multi = 0;
        for _ in 0..2000 {
            let (lon, lat) = (rng.gen_range(113.9..115.1), rng.gen_range(34.9..36.1));
            let h = rng.gen_range(0.001..0.01);
            let rect = Rect::new((lon - h, lat - h), (lon + h, lat + h));
            let fast = index.overlaps(rect);
            assert_same_overlaps(&fast, &index.overlaps_reference(rect));
            multi += usize::from(fast.len() > 1);
        }
        assert!(
            multi > 100,
            "the test must exercise multi-parcel footprints, got {multi}"
        );
    }

    /// The same polygons with shares within 1e-9 (relative), and the same best polygon unless
    /// the two largest shares tie within that tolerance.
    fn assert_same_overlaps(fast: &[Overlap], reference: &[Overlap]) {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-12);
        let mut f: Vec<Overlap> = fast.to_vec();
        let mut r: Vec<Overlap> = reference.to_vec();
        // A share at the noise floor may fall on either side of it.
        f.retain(|o| o.fraction > 1e-8);
        r.retain(|o| o.fraction > 1e-8);
        assert_eq!(
            f.iter()
                .map(|o| o.index)
                .collect::<std::collections::BTreeSet<_>>(),
            r.iter()
                .map(|o| o.index)
                .collect::<std::collections::BTreeSet<_>>(),
            "fast {fast:?}\nreference {reference:?}"
        );
        for o in &f {
            let twin = r.iter().find(|x| x.index == o.index).unwrap();
            assert!(close(o.fraction, twin.fraction), "{o:?} vs {twin:?}");
        }
        if let (Some(a), Some(b)) = (f.first(), r.first()) {
            let tie = r
                .get(1)
                .is_some_and(|second| close(second.fraction, b.fraction));
            assert!(a.index == b.index || tie, "best {a:?} vs {b:?}");
        }
    }

    /// A random multipolygon: one to three star-shaped parts (some with a hole) around `(cx, cy)`.
    fn random_multipolygon(rng: &mut ChaCha8Rng, cx: f64, cy: f64, r: f64) -> MultiPolygon<f64> {
        let parts = if rng.gen_bool(0.3) {
            rng.gen_range(2..4)
        } else {
            1
        };
        MultiPolygon(
            (0..parts)
                .map(|k| {
                    let off = 2.5 * r * k as f64;
                    random_polygon(rng, cx + off, cy, r)
                })
                .collect(),
        )
    }

    #[test]
    fn edge_integral_area_equals_sutherland_hodgman() {
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        let (mut partial, mut holes_cut) = (0, 0);
        for k in 0..20_000 {
            // Fields near lon 114°, lat 35° (where cancellation would bite), windows from a
            // Sentinel-2 pixel to a large VIIRS one, some sharing a vertex's x or y exactly.
            let (cx, cy) = (
                114.0 + rng.gen_range(0.0..0.01),
                35.0 + rng.gen_range(0.0..0.01),
            );
            let r = rng.gen_range(0.0002..0.002);
            let shape = random_multipolygon(&mut rng, cx, cy, r);
            let half = [0.0001, 0.00015, 0.0017, 0.004][k % 4] * rng.gen_range(0.5..1.5);
            let (mut x, mut y) = (
                cx + rng.gen_range(-0.003..0.003),
                cy + rng.gen_range(-0.003..0.003),
            );
            if k % 10 == 0 {
                let v = shape.0[0].exterior().0[0];
                (x, y) = (v.x + half, v.y - half);
            }
            let rect = Rect::new((x - half, y - half), (x + half, y + half));
            let fast = overlap_area(&shape, rect);
            let reference = clipped_area(&shape, rect);
            let scale = rect.width() * rect.height();
            assert!(
                (fast - reference).abs() <= 1e-9 * scale,
                "case {k}: integral {fast} vs clipped {reference} (window {scale})"
            );
            partial += usize::from(reference > 0.0 && reference < shape.unsigned_area() * 0.999);
            holes_cut +=
                usize::from(reference > 0.0 && shape.0.iter().any(|p| !p.interiors().is_empty()));
        }
        assert!(
            partial > 3000 && holes_cut > 500,
            "{partial} partial, {holes_cut} with holes"
        );
    }

    #[test]
    fn edge_integral_on_exact_cases() {
        let square = MultiPolygon(vec![Rect::new((0.0, 0.0), (1.0, 1.0)).to_polygon()]);
        let area = |r: Rect<f64>| overlap_area(&square, r);
        assert_eq!(area(Rect::new((0.25, 0.25), (0.75, 0.75))), 0.25);
        assert_eq!(area(Rect::new((-1.0, -1.0), (2.0, 2.0))), 1.0);
        assert_eq!(area(Rect::new((0.5, -1.0), (2.0, 2.0))), 0.5);
        assert_eq!(
            area(Rect::new((1.0, 0.0), (2.0, 1.0))),
            0.0,
            "edge contact only"
        );
        assert_eq!(area(Rect::new((3.0, 3.0), (4.0, 4.0))), 0.0);
        // A diamond: the window's corner cuts a triangle off one tip; a clockwise ring too.
        let diamond = Polygon::new(
            LineString::from(vec![(1.0, 0.0), (2.0, 1.0), (1.0, 2.0), (0.0, 1.0)]),
            vec![],
        );
        let clockwise = Polygon::new(
            LineString::from(vec![(0.0, 1.0), (1.0, 2.0), (2.0, 1.0), (1.0, 0.0)]),
            vec![],
        );
        for d in [diamond, clockwise] {
            let d = MultiPolygon(vec![d]);
            let tip = overlap_area(&d, Rect::new((1.5, 0.0), (3.0, 2.0)));
            assert!((tip - 0.25).abs() < 1e-15, "{tip}");
            let band = overlap_area(&d, Rect::new((-1.0, 0.5), (3.0, 1.5)));
            assert!((band - 1.5).abs() < 1e-15, "{band}");
        }
    }

    #[test]
    fn clipped_area_equals_boolean_intersection() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..500 {
            let poly = random_polygon(&mut rng, 0.0, 0.0, 1.0);
            let (x, y) = (rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0));
            let rect = Rect::new(
                (x, y),
                (x + rng.gen_range(0.05..1.5), y + rng.gen_range(0.05..1.5)),
            );
            let mp = MultiPolygon(vec![poly.clone()]);
            let fast = clipped_area(&mp, rect);
            let exact = poly.intersection(&rect.to_polygon()).unsigned_area();
            // i_overlay (behind BooleanOps) snaps to a fixed-point grid: agree to 1e-6 of the window.
            let tol = 1e-6 * rect.width() * rect.height();
            assert!((fast - exact).abs() < tol, "clip {fast} vs boolean {exact}");
        }
    }

    #[test]
    fn the_share_sort_is_the_pair_sort() {
        let mut rng = ChaCha8Rng::seed_from_u64(61);
        let (mut ties, mut near) = (0, 0);
        // Every size the keyed sorts take (up to 32, up to 256) and some the pair sort takes.
        let sizes = (0..80).chain([255, 256, 257, 300, 600]);
        for n in sizes {
            for _ in 0..40 {
                // Shares from a few values (many ties), any, or a few values and their
                // neighbours that differ only in the lowest bits (the byte the keyed sort
                // gives to positions); indices distinct, in no order.
                let kind = rng.gen_range(0..3);
                let mut indices: Vec<usize> = (0..n).map(|k| k * 7 + rng.gen_range(0..7)).collect();
                indices.reverse();
                for i in (1..n).rev() {
                    if rng.gen_bool(0.3) {
                        indices.swap(i, rng.gen_range(0..=i));
                    }
                }
                let few = [1.0, 0.5, 0.25, 1e-3, 0.123_456_789];
                let mut out: Vec<ItemOverlap> = indices
                    .iter()
                    .enumerate()
                    .map(|(item, &index)| ItemOverlap {
                        overlap: Overlap {
                            index,
                            fraction: match kind {
                                0 => few[rng.gen_range(0..few.len())],
                                1 => rng.gen_range(1e-9..1.0),
                                _ => f64::from_bits(
                                    few[rng.gen_range(1..few.len())].to_bits()
                                        ^ rng.gen_range(0..1024),
                                ),
                            },
                        },
                        item,
                    })
                    .collect();
                let mut expected = out.clone();
                expected.sort_by_key(|o| (Reverse(o.overlap.fraction.to_bits()), o.overlap.index));
                sort_by_share(&mut out);
                assert_eq!(out, expected, "{n} shares");
                ties += usize::from(
                    out.windows(2)
                        .any(|w| w[0].overlap.fraction == w[1].overlap.fraction),
                );
                near += usize::from(out.windows(2).any(|w| {
                    let (a, b) = (w[0].overlap.fraction, w[1].overlap.fraction);
                    a != b && a.to_bits() >> 8 == b.to_bits() >> 8
                }));
            }
        }
        assert!(
            ties > 1000 && near > 500,
            "{ties} with ties, {near} with near ties"
        );
    }

    #[test]
    fn footprint_split_between_two_fields() {
        let left = Rect::new((0.0, 0.0), (1.0, 1.0)).to_polygon();
        let right = Rect::new((1.0, 0.0), (2.0, 1.0)).to_polygon();
        let index = PolygonIndex::new(vec![MultiPolygon(vec![left]), MultiPolygon(vec![right])]);
        let o = index.overlaps(Rect::new((0.25, 0.25), (1.75, 0.75)));
        assert_eq!(o.len(), 2);
        assert!((o[0].fraction - 0.5).abs() < 1e-12 && (o[1].fraction - 0.5).abs() < 1e-12);
        let o = index.overlaps(Rect::new((0.9, 0.25), (1.3, 0.75)));
        assert_eq!(o[0].index, 1);
        assert!((o[0].fraction - 0.75).abs() < 1e-12 && (o[1].fraction - 0.25).abs() < 1e-12);
        assert!(index.overlaps(Rect::new((3.0, 3.0), (4.0, 4.0))).is_empty());
        assert_eq!(
            index.containing(1.0, 0.5),
            vec![0, 1],
            "a shared edge belongs to both"
        );
    }
}
