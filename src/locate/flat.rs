//! Polygons laid out flat: every ring's coordinates in one array, closed and oriented (outer
//! rings counter-clockwise, holes clockwise), each shape's box and area beside them.
//!
//! This is the form [`super::index::PolygonIndex`] matches against. It is filled either from
//! `geo` shapes or straight from a GeoPackage's WKB ([`super::gpkg`]), so that a parcel layer
//! of 300,000 fields is not first built as 300,000 `geo` polygons (a vector per ring, one per
//! polygon, one per multipolygon) only to be copied into this layout and dropped. Each ring
//! keeps what was changed (reversed, closing vertex added), so the source shapes can be given
//! back exactly when a caller asks for them ([`FlatShapes::shape`]).

use geo::{Coord, LineString, MultiPolygon, Polygon, Rect};
use rayon::prelude::*;

use super::units::UnitTexts;

/// Shapes copied by one task of [`FlatShapes::gather`].
const GATHER_RUN: usize = 4096;

/// `s` cut into consecutive slices of the given lengths (which must add up to at most its own).
pub(super) fn split_mut<T>(mut s: &mut [T], lens: impl Iterator<Item = usize>) -> Vec<&mut [T]> {
    lens.map(|n| {
        let (head, tail) = std::mem::take(&mut s).split_at_mut(n);
        s = tail;
        head
    })
    .collect()
}

/// `[min_x, min_y, max_x, max_y]`.
pub type Bbox = [f64; 4];

/// Finds which of several parts taken one after another holds the shape at a position of the
/// whole sequence. Positions asked one after another in the index's curve order mostly fall in
/// the part of the one before (a part is a run of the file's rows, and neighbouring rows are
/// neighbours on the curve), so that part is tried before a binary search over all of them
/// (four searches per shape while building the index were ≈ 10 ms for 300,000 parcels).
#[derive(Clone)]
pub(super) struct PartFinder<'a> {
    /// Where each part starts, and the end of the last.
    first: &'a [usize],
    last: usize,
}

impl<'a> PartFinder<'a> {
    pub(super) fn new(first: &'a [usize]) -> Self {
        PartFinder { first, last: 0 }
    }

    /// (part, position in it) of position `g`, which must be below the end of the last part.
    #[inline]
    pub(super) fn find(&mut self, g: usize) -> (usize, usize) {
        let f = self.first;
        if !(f[self.last] <= g && g < f[self.last + 1]) {
            self.last = f.partition_point(|&s| s <= g) - 1;
        }
        (self.last, g - f[self.last])
    }
}

/// Ring flag: the ring is a polygon's exterior (it starts a new polygon).
const OUTER: u8 = 1;
/// Ring flag: the source ring ran the other way.
const REVERSED: u8 = 2;
/// Ring flag: the closing vertex was added here (the source ring was open).
const CLOSED_HERE: u8 = 4;

/// Shapes in one order, flat (module doc).
#[derive(Debug, Clone, Default)]
pub struct FlatShapes {
    /// Per shape: its first ring (one more at the end).
    pub(super) shape_rings: Vec<u32>,
    /// Per ring: where its coordinates start (one more at the end).
    pub(super) ring_start: Vec<u32>,
    /// Per ring: [`OUTER`], [`REVERSED`], [`CLOSED_HERE`].
    pub(super) ring_flags: Vec<u8>,
    pub(super) coords: Vec<Coord<f64>>,
    /// Per shape: the box of its exterior rings (as `geo`'s `bounding_rect`), `None` without
    /// any exterior vertex.
    pub(super) boxes: Vec<Option<Bbox>>,
    /// Per shape: its area (squared coordinate units).
    pub(super) areas: Vec<f64>,
}

/// Where a shape being pushed started, to take it back if its source turns out unusable.
#[derive(Debug, Clone, Copy)]
pub(super) struct Mark {
    rings: usize,
    coords: usize,
}

impl FlatShapes {
    pub fn new() -> Self {
        FlatShapes {
            shape_rings: vec![0],
            ring_start: vec![0],
            ..Default::default()
        }
    }

    /// Room for `shapes` shapes of `coords` vertices in all (two rings each).
    pub fn with_capacity(shapes: usize, coords: usize) -> Self {
        Self::with_capacity_rings(shapes, 2 * shapes, coords)
    }

    fn with_capacity_rings(shapes: usize, rings: usize, coords: usize) -> Self {
        let mut flat = FlatShapes {
            shape_rings: Vec::with_capacity(shapes + 1),
            ring_start: Vec::with_capacity(rings + 1),
            ring_flags: Vec::with_capacity(rings),
            coords: Vec::with_capacity(coords),
            boxes: Vec::with_capacity(shapes),
            areas: Vec::with_capacity(shapes),
        };
        flat.shape_rings.push(0);
        flat.ring_start.push(0);
        flat
    }

    /// Lays out `geo` shapes in their order.
    pub fn from_shapes(shapes: &[MultiPolygon<f64>]) -> Self {
        let mut flat = FlatShapes::new();
        for shape in shapes {
            for poly in &shape.0 {
                flat.push_ring(&poly.exterior().0, true);
                for hole in poly.interiors() {
                    flat.push_ring(&hole.0, false);
                }
            }
            flat.end_shape();
        }
        flat
    }

    /// Number of shapes.
    pub fn len(&self) -> usize {
        self.shape_rings.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where the next shape starts.
    pub(super) fn mark(&self) -> Mark {
        Mark {
            rings: self.ring_flags.len(),
            coords: self.coords.len(),
        }
    }

    /// Takes back the rings pushed since `mark` (a shape whose source failed half-way).
    pub(super) fn undo(&mut self, mark: Mark) {
        self.ring_flags.truncate(mark.rings);
        self.ring_start.truncate(mark.rings + 1);
        self.coords.truncate(mark.coords);
    }

    /// Appends one ring of the shape being built, closed and oriented.
    pub(super) fn push_ring(&mut self, ring: &[Coord<f64>], outer: bool) {
        self.push_ring_with(ring.len(), outer, None, |coords| {
            coords.extend_from_slice(ring);
            Ok::<(), ()>(())
        })
        .expect("no error from a slice");
    }

    /// Appends one ring of the shape being built from `fill`, which appends its `n` source
    /// vertices to the vector it is given. Whether the source ring is closed is decided on
    /// those vertices; then `map` (a datum shift) is applied, and the ring is closed and
    /// oriented. On an error nothing of the ring stays (the caller [`Self::undo`]es the shape).
    pub(super) fn push_ring_with<E>(
        &mut self,
        n: usize,
        outer: bool,
        map: Option<fn(Coord<f64>) -> Coord<f64>>,
        fill: impl FnOnce(&mut Vec<Coord<f64>>) -> Result<(), E>,
    ) -> Result<(), E> {
        let start = self.coords.len();
        self.coords.reserve(n + 1);
        if let Err(e) = fill(&mut self.coords) {
            self.coords.truncate(start);
            return Err(e);
        }
        let mut flags = if outer { OUTER } else { 0 };
        let mut end = self.coords.len();
        if end - start > 1 && self.coords[start] == self.coords[end - 1] {
            // Closed in the source: orient the open part, then close it again.
            end -= 1;
        } else if end > start {
            flags |= CLOSED_HERE;
            self.coords.push(self.coords[start]);
        }
        if let Some(map) = map {
            for c in &mut self.coords[start..] {
                *c = map(*c);
            }
        }
        if end > start {
            let ccw = shoelace(&self.coords[start..end]) > 0.0;
            if ccw != outer {
                self.coords[start..end].reverse();
                self.coords[end] = self.coords[start];
                flags |= REVERSED;
            }
        }
        self.ring_flags.push(flags);
        self.ring_start.push(self.coords.len() as u32);
        Ok(())
    }

    /// Ends the shape whose rings were pushed since the last end: its box and area.
    pub(super) fn end_shape(&mut self) {
        let first = *self.shape_rings.last().expect("starts with 0") as usize;
        let last = self.ring_flags.len();
        self.shape_rings.push(last as u32);
        let mut b: Option<(f64, f64, f64, f64)> = None;
        for r in first..last {
            if self.ring_flags[r] & OUTER == 0 {
                continue;
            }
            for c in self.ring(r) {
                // geo's bounding_rect, comparison for comparison (NaN included).
                b = Some(match b {
                    None => (c.x, c.x, c.y, c.y),
                    Some((x0, x1, y0, y1)) => {
                        let (x0, x1) = min_max(c.x, x0, x1);
                        let (y0, y1) = min_max(c.y, y0, y1);
                        (x0, x1, y0, y1)
                    }
                });
            }
        }
        let bbox = b.map(|(x0, x1, y0, y1)| {
            let r = Rect::new((x0, y0), (x1, y1));
            [r.min().x, r.min().y, r.max().x, r.max().y]
        });
        let area = bbox.map_or(0.0, |b| {
            let rect = Rect::new((b[0], b[1]), (b[2], b[3]));
            let mut area = 0.0;
            for r in first..last {
                // An exterior ring lies in its shape's box: the integral without its clamps.
                let inside = if self.ring_flags[r] & OUTER != 0 {
                    inside_window_integral(self.ring(r), rect)
                } else {
                    None
                };
                area += inside.unwrap_or_else(|| signed_window_integral(self.ring(r), rect));
            }
            area.max(0.0)
        });
        self.boxes.push(bbox);
        self.areas.push(area);
    }

    /// The shapes of `parts` (taken one after another as one sequence) in another order, with
    /// their units' texts (`texts`, one per part, or none): shape `k` of the result is shape
    /// `order[k]` of the sequence. The boxes are left out (the index's tree holds them).
    ///
    /// On every core: the result is cut into runs of [`GATHER_RUN`] shapes, each run's sizes
    /// are counted, and each run copies its shapes straight into its place in arrays sized
    /// once (a copy of ≈ 45 MB for 300,000 parcels, which one core took ≈ 40 ms to make).
    pub(super) fn gather(
        parts: &[FlatShapes],
        texts: &[UnitTexts],
        order: &[usize],
    ) -> (FlatShapes, UnitTexts) {
        let mut first = Vec::with_capacity(parts.len() + 1);
        first.push(0);
        for p in parts {
            first.push(first.last().copied().unwrap_or(0) + p.len());
        }
        let runs: Vec<&[usize]> = order.chunks(GATHER_RUN).collect();
        // Rings, vertices and bytes of text of each run.
        let sizes: Vec<[usize; 3]> = runs
            .par_iter()
            .map(|run| {
                let mut n = [0; 3];
                let mut find = PartFinder::new(&first);
                for &g in *run {
                    let (p, i) = find.find(g);
                    let rings = parts[p].rings_of(i);
                    n[0] += rings.len();
                    n[1] += (parts[p].ring_start[rings.end] - parts[p].ring_start[rings.start])
                        as usize;
                    n[2] += texts.get(p).map_or(0, |t| t.text_len(i));
                }
                n
            })
            .collect();
        let total = sizes
            .iter()
            .fold([0; 3], |a, n| [a[0] + n[0], a[1] + n[1], a[2] + n[2]]);
        let with_cropland = texts.iter().any(UnitTexts::has_cropland);
        assert!(
            u32::try_from(total[2]).is_ok(),
            "a layer's texts under 4 GiB"
        );
        let mut out = FlatShapes {
            shape_rings: vec![0; order.len() + 1],
            ring_start: vec![0; total[0] + 1],
            ring_flags: vec![0; total[0]],
            coords: Vec::with_capacity(total[1]),
            boxes: Vec::new(),
            areas: Vec::with_capacity(order.len()),
        };
        out.areas.par_extend(order.par_iter().map_init(
            || PartFinder::new(&first),
            |find, &g| {
                let (p, i) = find.find(g);
                parts[p].areas[i]
            },
        ));
        let with_texts = !texts.is_empty();
        let mut text = vec![0u8; total[2]];
        let mut ends = vec![[0u32; 3]; if with_texts { order.len() } else { 0 }];
        let mut cropland = vec![None; if with_cropland { order.len() } else { 0 }];
        // Each run's own slices of every array.
        let lens = |k: usize| sizes.iter().map(move |n| n[k]);
        let run_lens = runs.iter().map(|r| r.len());
        let text_lens = lens(2);
        let pieces = split_mut(&mut out.shape_rings[1..], run_lens.clone())
            .into_iter()
            .zip(split_mut(&mut out.ring_start[1..], lens(0)))
            .zip(split_mut(&mut out.ring_flags, lens(0)))
            // The vertices are written once, straight into the spare room (44 MB for 300,000
            // parcels that a fill with zeros first wrote, and faulted in, a second time).
            .zip(split_mut(
                &mut out.coords.spare_capacity_mut()[..total[1]],
                lens(1),
            ))
            .zip(split_mut(&mut text, text_lens))
            .zip(split_mut(
                &mut ends,
                run_lens.clone().map(|n| n * usize::from(with_texts)),
            ))
            .zip(split_mut(
                &mut cropland,
                run_lens.map(|n| n * usize::from(with_cropland)),
            ));
        let mut base = [0usize; 3];
        let mut jobs = Vec::with_capacity(runs.len());
        for ((run, n), piece) in runs.iter().zip(&sizes).zip(pieces) {
            jobs.push((*run, base, piece));
            base = [base[0] + n[0], base[1] + n[1], base[2] + n[2]];
        }
        jobs.into_par_iter().for_each(
            |(
                run,
                base,
                ((((((shape_rings, ring_start), ring_flags), coords), text), ends), cropland),
            )| {
                let (mut r, mut c, mut t) = (0, 0, 0);
                let mut find = PartFinder::new(&first);
                for (j, &g) in run.iter().enumerate() {
                    let (p, i) = find.find(g);
                    let part = &parts[p];
                    let rings = part.rings_of(i);
                    let (c0, c1) = (
                        part.ring_start[rings.start] as usize,
                        part.ring_start[rings.end] as usize,
                    );
                    for (to, from) in coords[c..c + c1 - c0].iter_mut().zip(&part.coords[c0..c1]) {
                        to.write(*from);
                    }
                    let shift = (base[1] + c) as i64 - c0 as i64;
                    for ring in rings {
                        ring_flags[r] = part.ring_flags[ring];
                        ring_start[r] = (i64::from(part.ring_start[ring + 1]) + shift) as u32;
                        r += 1;
                    }
                    c += c1 - c0;
                    shape_rings[j] = (base[0] + r) as u32;
                    if let Some(texts) = texts.get(p) {
                        t += texts.copy_into(i, base[2] + t, &mut text[t..], &mut ends[j]);
                        if let Some(crop) = cropland.get_mut(j) {
                            *crop = texts.cropland_ha(i);
                        }
                    }
                }
                // Every slot of the run's piece of the spare room was written (`set_len` below).
                assert_eq!(c, coords.len(), "the run's vertices as counted");
            },
        );
        // SAFETY: the runs' pieces of the spare room cover its first `total[1]` slots (their
        // lengths add up to it) and each run wrote every slot of its piece: each shape's
        // vertices `c0..c1` went to `c..c + c1 - c0`, and `c` advanced over exactly the
        // counted vertices of the run's shapes.
        #[allow(unsafe_code)]
        unsafe {
            out.coords.set_len(total[1]);
        }
        let texts = if with_texts {
            UnitTexts::from_raw(text, ends, cropland)
        } else {
            UnitTexts::default()
        };
        (out, texts)
    }

    /// Asks for shape `i`'s first ring (its first 192 bytes: an 8-vertex field's ring is 144)
    /// to be brought into cache, without waiting for it: a prefetch retires at once, where the
    /// load of its first vertex (the way before) held up every instruction after it until its line came.
    #[inline]
    pub(super) fn prefetch(&self, i: usize) {
        let r = self.shape_rings[i] as usize;
        let Some(c) = self
            .ring_start
            .get(r)
            .and_then(|&c| self.coords.get(c as usize))
        else {
            return;
        };
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let p = (c as *const Coord<f64>).cast::<i8>();
            for line in [0, 64, 128] {
                // SAFETY: a prefetch reads nothing into the program and never faults, whatever
                // the address; SSE, which it needs, is in every x86-64 CPU.
                #[allow(unsafe_code)]
                unsafe {
                    _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(line));
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        std::hint::black_box(c.x);
    }

    /// The closed, oriented coordinates of ring `r`.
    #[inline]
    pub(super) fn ring(&self, r: usize) -> &[Coord<f64>] {
        &self.coords[self.ring_start[r] as usize..self.ring_start[r + 1] as usize]
    }

    /// The rings of shape `i`.
    #[inline]
    pub(super) fn rings_of(&self, i: usize) -> std::ops::Range<usize> {
        self.shape_rings[i] as usize..self.shape_rings[i + 1] as usize
    }

    /// Shape `i` as it was given: rings in their source direction and closure.
    pub fn shape(&self, i: usize) -> MultiPolygon<f64> {
        let mut polys: Vec<Polygon<f64>> = Vec::new();
        let mut exterior: Option<LineString<f64>> = None;
        let mut holes = Vec::new();
        for r in self.rings_of(i) {
            let flags = self.ring_flags[r];
            let c = self.ring(r);
            let mut pts: Vec<Coord<f64>> = if c.is_empty() {
                Vec::new()
            } else if flags & REVERSED != 0 {
                let mut open = c[..c.len() - 1].to_vec();
                open.reverse();
                if flags & CLOSED_HERE == 0 {
                    open.push(open[0]);
                }
                open
            } else {
                c.to_vec()
            };
            if flags & CLOSED_HERE != 0 && flags & REVERSED == 0 {
                pts.pop();
            }
            if flags & OUTER != 0 {
                if let Some(e) = exterior.take() {
                    polys.push(Polygon::new(e, std::mem::take(&mut holes)));
                }
                exterior = Some(LineString(pts));
            } else {
                holes.push(LineString(pts));
            }
        }
        if let Some(e) = exterior {
            polys.push(Polygon::new(e, holes));
        }
        MultiPolygon(polys)
    }
}

/// geo-types' `get_min_max`: the same comparisons, so NaN is treated the same way.
#[inline]
fn min_max(p: f64, min: f64, max: f64) -> (f64, f64) {
    if p > max {
        (min, p)
    } else if p < min {
        (p, max)
    } else {
        (min, max)
    }
}

/// `−∮ G dx` over a ring (closed or not): the area inside `rect`, positive for a
/// counter-clockwise ring, negative for a clockwise one (the edge integral of
/// [`super::index::overlap_area`]). Four edges at a time where the CPU can
/// ([`super::window_integral`], the same bits), else [`signed_window_integral_scalar`].
pub(super) use super::window_integral::signed_window_integral;

/// [`signed_window_integral`] one edge after another: the portable kernel, and the reference
/// the vector one is tested against.
#[inline]
pub(super) fn signed_window_integral_scalar(pts: &[Coord<f64>], rect: Rect<f64>) -> f64 {
    let (min, max) = (rect.min(), rect.max());
    let (w, h) = (max.x - min.x, max.y - min.y);
    let Some(&last) = pts.last() else {
        return 0.0;
    };
    let mut prev = last - min;
    let mut sum = 0.0;
    for &c in pts {
        let cur = c - min;
        let (a, b) = (prev, cur);
        prev = cur;
        // The edge's x-range, cut to the window's [0, w].
        let (left, right) = if a.x < b.x { (a, b) } else { (b, a) };
        let lo = left.x.max(0.0);
        let hi = right.x.min(w);
        if lo >= hi {
            continue;
        }
        // y at the cut ends, interpolated along the edge (t in [0, 1]: stable for steep edges).
        let span = right.x - left.x;
        let dy = right.y - left.y;
        let y_lo = if lo > left.x {
            left.y + (lo - left.x) / span * dy
        } else {
            left.y
        };
        let y_hi = if hi < right.x {
            left.y + (hi - left.x) / span * dy
        } else {
            right.y
        };
        let area = clamped_integral(hi - lo, y_lo, y_hi, h);
        // −∮ G dx: an edge running west (−x) adds, one running east subtracts.
        if a.x > b.x {
            sum += area;
        } else {
            sum -= area;
        }
    }
    sum
}

/// [`signed_window_integral`] of a ring whose every vertex lies in `rect` (a shape's exterior
/// rings in its box), bit for bit: there no edge is cut and no value clamped, so each edge
/// adds its trapezoid `(x1 − x0) · (y0 + y1) / 2` (relative to the window's corner) with the
/// operations the general integral performs on it. `None` when a vertex lies outside (or is
/// NaN): then the caller takes the general integral.
#[inline]
fn inside_window_integral(pts: &[Coord<f64>], rect: Rect<f64>) -> Option<f64> {
    let (min, max) = (rect.min(), rect.max());
    let (w, h) = (max.x - min.x, max.y - min.y);
    let &last = pts.last()?;
    let mut prev = last - min;
    let mut inside = true;
    let mut sum = 0.0;
    for &c in pts {
        let cur = c - min;
        inside &= cur.x >= 0.0 && cur.x <= w && cur.y >= 0.0 && cur.y <= h;
        let (a, b) = (prev, cur);
        prev = cur;
        if a.x == b.x {
            continue;
        }
        let (left, right) = if a.x < b.x { (a, b) } else { (b, a) };
        let (p, q) = if left.y <= right.y {
            (left.y, right.y)
        } else {
            (right.y, left.y)
        };
        // clamped_integral with no share below 0 or above h: middle = 1, above = 0.
        let area = (right.x - left.x) * (1.0 * (p + q) / 2.0 + 0.0 * h);
        if a.x > b.x {
            sum += area;
        } else {
            sum -= area;
        }
    }
    inside.then_some(sum)
}

/// ∫ clamp(u(x), 0, h) dx over an interval of length `len` on which `u` runs linearly from
/// `u0` to `u1`.
#[inline]
pub(super) fn clamped_integral(len: f64, u0: f64, u1: f64, h: f64) -> f64 {
    let (p, q) = if u0 <= u1 { (u0, u1) } else { (u1, u0) };
    if q <= 0.0 {
        return 0.0;
    }
    if p >= h {
        return len * h;
    }
    // Shares of the interval below 0 and above h; in between u runs from max(p, 0) to min(q, h).
    let below = if p < 0.0 { -p / (q - p) } else { 0.0 };
    let above = if q > h { (q - h) / (q - p) } else { 0.0 };
    let middle = 1.0 - below - above;
    len * (middle * (p.max(0.0) + q.min(h)) / 2.0 + above * h)
}

/// Signed area of an open ring (first vertex not repeated). Coordinates are taken relative to
/// the first vertex: at lon 114° a field's area is a difference of products near 4000 deg²,
/// and without the shift it would lose eight digits.
pub(super) fn shoelace(pts: &[Coord<f64>]) -> f64 {
    if pts.len() < 3 {
        return 0.0;
    }
    let o = pts[0];
    let mut twice = 0.0;
    let mut prev = pts[pts.len() - 1] - o;
    for &c in pts {
        let c = c - o;
        twice += prev.x * c.y - c.x * prev.y;
        prev = c;
    }
    twice / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn part_finder_finds_every_position_in_any_order() {
        // Parts of 3, 0, 4, 0, 0 and 2 shapes.
        let first = [0, 3, 3, 7, 7, 7, 9];
        let expected: Vec<(usize, usize)> = (0..9)
            .map(|g| {
                let p = (0..6).find(|&p| first[p] <= g && g < first[p + 1]).unwrap();
                (p, g - first[p])
            })
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut find = PartFinder::new(&first);
        for _ in 0..500 {
            let g = rng.gen_range(0..9);
            assert_eq!(find.find(g), expected[g], "position {g}");
        }
    }

    #[test]
    fn a_gather_from_many_parts_is_the_gather_from_one() {
        // Shapes with holes, open rings and both orientations, cut into parts of uneven
        // sizes (some empty), gathered in a shuffled order with their texts.
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut whole = FlatShapes::new();
        let mut whole_texts = UnitTexts::default();
        let mut parts = vec![FlatShapes::new()];
        let mut texts = vec![UnitTexts::default()];
        for k in 0..700 {
            if rng.gen_range(0..60) == 0 {
                parts.push(FlatShapes::new());
                texts.push(UnitTexts::default());
                if k % 2 == 0 {
                    parts.push(FlatShapes::new());
                    texts.push(UnitTexts::default());
                }
            }
            let (x0, y0) = (rng.gen_range(0.0..1.0), rng.gen_range(0.0..1.0));
            let n = rng.gen_range(3..9);
            let mut ring: Vec<Coord<f64>> = (0..n)
                .map(|i| {
                    let a = i as f64 / n as f64 * std::f64::consts::TAU;
                    Coord {
                        x: x0 + 0.01 * a.cos(),
                        y: y0 + 0.01 * a.sin(),
                    }
                })
                .collect();
            if k % 3 == 0 {
                ring.reverse();
            }
            if k % 4 != 0 {
                ring.push(ring[0]);
            }
            let code = format!("p{k}");
            let name = "n".repeat(k % 5);
            for (flat, t) in [
                (&mut whole, &mut whole_texts),
                (parts.last_mut().unwrap(), texts.last_mut().unwrap()),
            ] {
                flat.push_ring(&ring, true);
                if k % 7 == 0 {
                    let hole: Vec<Coord<f64>> = ring
                        .iter()
                        .map(|c| Coord {
                            x: (c.x + x0) / 2.0,
                            y: (c.y + y0) / 2.0,
                        })
                        .collect();
                    flat.push_ring(&hole, false);
                }
                flat.end_shape();
                t.push_with(|s| s.push_str(&code), &name, None, Some(k as f64));
            }
        }
        assert!(parts.len() > 5 && parts.iter().any(FlatShapes::is_empty));
        let mut order: Vec<usize> = (0..700).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.gen_range(0..=i));
        }
        let (a, a_texts) = FlatShapes::gather(&parts, &texts, &order);
        let (b, b_texts) = FlatShapes::gather(&[whole], &[whole_texts], &order);
        assert_eq!(a.shape_rings, b.shape_rings);
        assert_eq!(a.ring_start, b.ring_start);
        assert_eq!(a.ring_flags, b.ring_flags);
        assert_eq!(a.coords, b.coords);
        assert_eq!(a.areas, b.areas);
        assert_eq!(a_texts, b_texts);
        for (k, &g) in order.iter().enumerate() {
            assert_eq!(a_texts.code(k), format!("p{g}"));
        }
    }

    #[test]
    fn the_integral_inside_the_box_is_the_general_one_bit_for_bit() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for n in 3..40 {
            for _ in 0..50 {
                // A ring at lon 114° (concave, either way round, some vertices on the box's
                // edges, some edges vertical or horizontal), closed or not.
                let (x0, y0) = (
                    114.0 + rng.gen_range(0.0..0.5),
                    35.0 + rng.gen_range(0.0..0.4),
                );
                let mut pts: Vec<Coord<f64>> = (0..n)
                    .map(|_| Coord {
                        x: x0 + rng.gen_range(0.0..0.001),
                        y: y0 + rng.gen_range(0.0..0.001),
                    })
                    .collect();
                if n % 3 == 0 {
                    pts[1].x = pts[0].x;
                    pts[2].y = pts[1].y;
                }
                if n % 2 == 0 {
                    pts.push(pts[0]);
                }
                let mut b = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
                for c in &pts {
                    b = (b.0.min(c.x), b.1.min(c.y), b.2.max(c.x), b.3.max(c.y));
                }
                let rect = Rect::new((b.0, b.1), (b.2, b.3));
                let general = signed_window_integral(&pts, rect);
                let inside = inside_window_integral(&pts, rect).expect("every vertex inside");
                assert_eq!(inside.to_bits(), general.to_bits(), "{pts:?}");
                // A window that cuts the ring is not taken.
                let cut = Rect::new((b.0, b.1), ((b.0 + b.2) / 2.0, b.3));
                assert_eq!(inside_window_integral(&pts, cut), None);
            }
        }
        let nan = [
            Coord { x: 0.0, y: 0.0 },
            Coord {
                x: f64::NAN,
                y: 1.0,
            },
            Coord { x: 1.0, y: 1.0 },
        ];
        assert_eq!(
            inside_window_integral(&nan, Rect::new((0.0, 0.0), (1.0, 1.0))),
            None
        );
    }
}
