//! A static packed R-tree: boxes sorted along a Hilbert curve and grouped 16 to a node, level by
//! level, all in one flat array (the layout of flatbush and FlatGeobuf's index).
//!
//! Why not rstar here: a parcel layer is built once and only queried, and at 300,000 parcels a
//! footprint query was bound by memory, not arithmetic: rstar's nodes are separate heap
//! vectors, and the parcels a footprint meets sat anywhere in memory. Sorted along the
//! Hilbert curve, neighbouring parcels are neighbours in memory, both in this tree and in the
//! flat geometry the index keeps beside it in the same order; a query walks contiguous boxes
//! with a fixed stack and no allocation.

use rayon::prelude::*;

use super::kernel::{Kernel, Scalar};

/// Children per node.
const NODE: usize = 16;

/// `[min_x, min_y, max_x, max_y]`.
pub type Bbox = [f64; 4];

/// The tree over boxes given in their final (already sorted) order: item `i` is box `i`.
pub struct PackedTree {
    /// All levels' boxes, the items first, the root last.
    boxes: Vec<Bbox>,
    /// Where each level starts in `boxes`, and the end of the last: level 0 is the items.
    level_bounds: Vec<usize>,
}

impl PackedTree {
    /// Boxes a tree over `n` items holds, all levels: room to give [`Self::new`] so that
    /// packing the levels above the items does not move them.
    pub fn capacity_for(n: usize) -> usize {
        let (mut total, mut level) = (n, n);
        while level > 1 {
            level = level.div_ceil(NODE);
            total += level;
        }
        total
    }

    /// Packs the boxes as given (sort them first with [`hilbert_order`]).
    pub fn new(items: Vec<Bbox>) -> Self {
        let mut boxes = items;
        boxes.reserve_exact(Self::capacity_for(boxes.len()) - boxes.len());
        let mut level_bounds = vec![0, boxes.len()];
        let mut start = 0;
        while boxes.len() - start > 1 {
            let end = boxes.len();
            let mut i = start;
            while i < end {
                let stop = (i + NODE).min(end);
                let mut b = boxes[i];
                for c in &boxes[i + 1..stop] {
                    b = union(b, *c);
                }
                boxes.push(b);
                i = stop;
            }
            start = end;
            level_bounds.push(boxes.len());
        }
        // A search's stack holds (NODE - 1) nodes per level above the items, and one more.
        assert!(
            (NODE - 1) * (level_bounds.len() - 2) < STACK,
            "fewer than 2^32 items"
        );
        PackedTree {
            boxes,
            level_bounds,
        }
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.level_bounds[1]
    }

    /// Whether the tree holds no item.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The box of item `i`.
    pub fn item(&self, i: usize) -> &Bbox {
        &self.boxes[i]
    }

    /// Calls `visit` with every item whose box meets `q` (edges included), in tree order.
    #[inline]
    pub fn search(&self, q: Bbox, visit: impl FnMut(usize)) {
        self.search_with(Scalar, q, visit);
    }

    /// [`Self::search`] with the child boxes tested by `kernel` (the same items in the same
    /// order): inlined into its caller, so that a caller compiled for AVX walks the tree in it.
    #[inline(always)]
    pub(super) fn search_with<K: Kernel>(&self, kernel: K, q: Bbox, mut visit: impl FnMut(usize)) {
        let top = self.level_bounds.len() - 2;
        if self.is_empty() || !meets(&self.boxes[self.level_bounds[top]], &q) {
            return;
        }
        // Nodes still to open, each its level (top byte) and position: at most NODE - 1
        // siblings wait per level, and a tree of fewer than 2^32 items has at most 8 levels
        // above them (`new`), so 128 entries (1 KiB, zeroed on each search: the 4 KiB of
        // (level, position) pairs before were a memset of 3 % of the match).
        let mut stack = [0u64; STACK];
        let mut len = 1;
        // A single item is the root: opened as the one child of a node of level 1, so that
        // `visit` has one call (and is inlined).
        let (level, pos) = if top == 0 {
            (1, 1)
        } else {
            (top, self.level_bounds[top])
        };
        stack[0] = (level as u64) << 56 | pos as u64;
        while len > 0 {
            len -= 1;
            let (level, pos) = ((stack[len] >> 56) as usize, (stack[len] & POS) as usize);
            let first = self.level_bounds[level - 1] + (pos - self.level_bounds[level]) * NODE;
            let last = (first + NODE).min(self.level_bounds[level]);
            // The children that meet `q` as a bit mask, then those children in order: each
            // test without a branch (a footprint meets its neighbours' boxes in no
            // predictable pattern, and the branch on each of four comparisons was missed often
            // enough to be a quarter of the search).
            let mut hits = kernel.children_meeting(&self.boxes[first..last], &q);
            while hits != 0 {
                let c = first + hits.trailing_zeros() as usize;
                hits &= hits - 1;
                if level == 1 {
                    visit(c);
                } else {
                    stack[len] = ((level - 1) as u64) << 56 | c as u64;
                    len += 1;
                }
            }
        }
    }
}

/// Entries of a search's stack (see [`PackedTree::search_with`]).
const STACK: usize = 128;
/// The position bits of a stack entry.
const POS: u64 = (1 << 56) - 1;

#[inline]
fn meets(a: &Bbox, b: &Bbox) -> bool {
    a[0] <= b[2] && a[2] >= b[0] && a[1] <= b[3] && a[3] >= b[1]
}

/// [`meets`] without a branch: the same four comparisons, all taken.
#[inline(always)]
fn meets_branch_free(a: &Bbox, b: &Bbox) -> bool {
    (a[0] <= b[2]) & (a[2] >= b[0]) & (a[1] <= b[3]) & (a[3] >= b[1])
}

/// Bit `j` set when `boxes[j]` meets `q` ([`meets`]), at most 32 boxes: the portable
/// [`Kernel::children_meeting`].
#[inline(always)]
pub(super) fn children_meeting(boxes: &[Bbox], q: &Bbox) -> u32 {
    debug_assert!(boxes.len() <= 32);
    let mut hits = 0u32;
    for (j, b) in boxes.iter().enumerate() {
        hits |= u32::from(meets_branch_free(b, q)) << j;
    }
    hits
}

/// Whether `inner` lies inside `outer` (edges included).
#[inline]
pub fn contains(outer: &Bbox, inner: &Bbox) -> bool {
    outer[0] <= inner[0] && outer[1] <= inner[1] && outer[2] >= inner[2] && outer[3] >= inner[3]
}

fn union(a: Bbox, b: Bbox) -> Bbox {
    [
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[2].max(b[2]),
        a[3].max(b[3]),
    ]
}

/// The order that sorts boxes along a Hilbert curve through their centres (16 bits a side
/// over the boxes' extent): `order[k]` is the position of the `k`-th box in that order.
pub fn hilbert_order(boxes: &[Bbox]) -> Vec<usize> {
    let curve = Curve::over(boxes.par_iter().copied());
    // On every core: 300,000 parcels or 100,000 hotspots a batch.
    curve.sort(
        boxes
            .par_iter()
            .enumerate()
            .map(|(i, b)| curve.keyed(i, b))
            .collect(),
    )
}

/// The Hilbert curve over an extent, scaled to 16 bits a side.
pub(super) struct Curve {
    ext: Bbox,
}

impl Curve {
    /// The curve over the extent of `boxes`.
    pub(super) fn over(boxes: impl ParallelIterator<Item = Bbox>) -> Self {
        let empty = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        // min and max ignore NaN and are associative otherwise: the extent of any split is
        // the sequential fold's.
        Curve {
            ext: boxes.reduce(|| empty, union),
        }
    }

    /// Box `i`'s distance along the curve (high half) and `i` (low half): distinct, so the
    /// unstable sort of these gives the one order of (distance, position), in half the
    /// memory of a pair.
    #[inline]
    pub(super) fn keyed(&self, i: usize, b: &Bbox) -> u64 {
        let scale = |v: f64, lo: f64, hi: f64| -> u32 {
            if hi > lo {
                (((v - lo) / (hi - lo)) * 65535.0).clamp(0.0, 65535.0) as u32
            } else {
                0
            }
        };
        let x = scale((b[0] + b[2]) / 2.0, self.ext[0], self.ext[2]);
        let y = scale((b[1] + b[3]) / 2.0, self.ext[1], self.ext[3]);
        debug_assert!(u32::try_from(i).is_ok());
        u64::from(hilbert(x, y)) << 32 | i as u64
    }

    /// The positions of [`Self::keyed`] values in curve order.
    pub(super) fn sort(&self, mut keyed: Vec<u64>) -> Vec<usize> {
        keyed.par_sort_unstable();
        // In the keys' own allocation (the standard library's in-place collect: a position is
        // no larger than a key), not a fresh vector of 2.4 MB for 300,000 parcels.
        keyed
            .into_iter()
            .map(|k| (k & u64::from(u32::MAX)) as usize)
            .collect()
    }
}

/// Distance along the Hilbert curve of order 16 of cell `(x, y)`, both < 2^16: the
/// branch-free form (rawrunprotected's "2D Hilbert curves in O(1)", as flatbush computes it),
/// a handful of bit operations per level pair instead of a loop of 16 dependent steps
/// (≈ 4× faster; 300,000 parcels and 100,000 hotspots a batch). The same distances as the
/// loop, [`hilbert_reference`], which a test compares it with.
fn hilbert(x: u32, y: u32) -> u32 {
    let (mut a, mut b) = (x ^ y, 0xFFFF ^ (x ^ y));
    let (mut c, mut d) = (0xFFFF ^ (x | y), x & (y ^ 0xFFFF));
    let (mut aa, mut bb) = (a | (b >> 1), (a >> 1) ^ a);
    let mut cc = ((c >> 1) ^ (b & (d >> 1))) ^ c;
    let mut dd = ((a & (c >> 1)) ^ (d >> 1)) ^ d;
    for shift in [2, 4] {
        (a, b, c, d) = (aa, bb, cc, dd);
        aa = (a & (a >> shift)) ^ (b & (b >> shift));
        bb = (a & (b >> shift)) ^ (b & ((a ^ b) >> shift));
        cc ^= (a & (c >> shift)) ^ (b & (d >> shift));
        dd ^= (b & (c >> shift)) ^ ((a ^ b) & (d >> shift));
    }
    (a, b, c, d) = (aa, bb, cc, dd);
    cc ^= (a & (c >> 8)) ^ (b & (d >> 8));
    dd ^= (b & (c >> 8)) ^ ((a ^ b) & (d >> 8));
    let (a, b) = (cc ^ (cc >> 1), dd ^ (dd >> 1));
    let spread = |mut v: u32| {
        v = (v | (v << 8)) & 0x00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333;
        (v | (v << 1)) & 0x5555_5555
    };
    let i0 = x ^ y;
    let i1 = b | (0xFFFF ^ (i0 | a));
    (spread(i1) << 1) | spread(i0)
}

/// [`hilbert`] as the textbook loop (xy2d), one level at a time: the reference.
#[cfg(test)]
fn hilbert_reference(mut x: u32, mut y: u32) -> u32 {
    let mut d = 0u32;
    let mut s = 1u32 << 15;
    while s > 0 {
        let rx = u32::from(x & s > 0);
        let ry = u32::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = (s - 1).wrapping_sub(x) & (s - 1);
                y = (s - 1).wrapping_sub(y) & (s - 1);
            }
            std::mem::swap(&mut x, &mut y);
        }
        s >>= 1;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn search_equals_linear_scan_at_every_size() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for n in [0, 1, 2, 15, 16, 17, 255, 256, 257, 4097] {
            let mut boxes: Vec<Bbox> = (0..n)
                .map(|_| {
                    let (x, y) = (rng.gen_range(0.0..100.0), rng.gen_range(0.0..100.0));
                    [
                        x,
                        y,
                        x + rng.gen_range(0.0..3.0),
                        y + rng.gen_range(0.0..3.0),
                    ]
                })
                .collect();
            let order = hilbert_order(&boxes);
            boxes = order.iter().map(|&i| boxes[i]).collect();
            let tree = PackedTree::new(boxes.clone());
            assert_eq!(tree.len(), n);
            for _ in 0..200 {
                let (x, y) = (rng.gen_range(-5.0..105.0), rng.gen_range(-5.0..105.0));
                let q = [
                    x,
                    y,
                    x + rng.gen_range(0.0..10.0),
                    y + rng.gen_range(0.0..10.0),
                ];
                let mut found = Vec::new();
                tree.search(q, |i| found.push(i));
                #[cfg(target_arch = "x86_64")]
                if let Some(avx) = crate::locate::kernel::Avx::detect() {
                    let mut in_lanes = Vec::new();
                    tree.search_with(avx, q, |i| in_lanes.push(i));
                    assert_eq!(in_lanes, found, "the same items in the same order");
                }
                found.sort_unstable();
                let expected: Vec<usize> = (0..n).filter(|&i| meets(&boxes[i], &q)).collect();
                assert_eq!(found, expected, "n = {n}, query {q:?}");
            }
        }
    }

    #[test]
    fn the_branch_free_curve_is_the_loop() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let edges = [0, 1, 2, 255, 256, 32767, 32768, 65534, 65535];
        for &x in &edges {
            for &y in &edges {
                assert_eq!(hilbert(x, y), hilbert_reference(x, y), "({x}, {y})");
            }
        }
        for _ in 0..200_000 {
            let (x, y) = (rng.gen_range(0..65536), rng.gen_range(0..65536));
            assert_eq!(hilbert(x, y), hilbert_reference(x, y), "({x}, {y})");
        }
    }

    #[test]
    fn hilbert_order_keeps_neighbours_together() {
        // The cells of a 64 × 64 grid in a scrambled order: along the curve, consecutive cells
        // are neighbours nearly always (row order would jump across the grid 63 times).
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut cells: Vec<usize> = (0..64 * 64).collect();
        for i in (1..cells.len()).rev() {
            cells.swap(i, rng.gen_range(0..=i));
        }
        let boxes: Vec<Bbox> = cells
            .iter()
            .map(|&k| {
                let (x, y) = ((k % 64) as f64, (k / 64) as f64);
                [x, y, x + 1.0, y + 1.0]
            })
            .collect();
        let order = hilbert_order(&boxes);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            (0..boxes.len()).collect::<Vec<_>>(),
            "every box once"
        );
        let path: f64 = order
            .windows(2)
            .map(|w| {
                (boxes[w[0]][0] - boxes[w[1]][0]).abs() + (boxes[w[0]][1] - boxes[w[1]][1]).abs()
            })
            .sum();
        assert!(path < 1.1 * (boxes.len() - 1) as f64, "path {path}");
    }
}
