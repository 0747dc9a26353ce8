//! The spatial index: an R-tree (rstar) over polygon bounding boxes, with exact predicates on
//! the candidates it returns.
//!
//! Built once per layer and shared read-only by every query (and every rayon thread): with a
//! million parcels, building dominates and must not be repeated per hotspot. Two queries:
//! - [`PolygonIndex::containing`]: the polygons holding a point (admin units by pixel centre).
//! - [`PolygonIndex::overlaps`]: the polygons overlapping an axis-aligned rectangle (the pixel
//!   footprint) with the share of the rectangle each covers, computed by clipping each ring
//!   to the rectangle (Sutherland–Hodgman; exact for any simple ring against a convex window).
//!
//! Each has a `*_reference` linear scan beside it; tests check that they agree on seeded data.

use geo::{BoundingRect, Coord, Intersects, LineString, MultiPolygon, Point, Rect};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{Envelope, RTree, RTreeObject, AABB};

type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// An R-tree over polygons; indices returned are positions in the vector it was built from.
pub struct PolygonIndex {
    tree: RTree<Entry>,
    shapes: Vec<MultiPolygon<f64>>,
    /// Area of each shape, in squared coordinate units.
    areas: Vec<f64>,
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
    /// Bulk-loads the R-tree (sort-tile-recursive packing; faster and better balanced than
    /// inserting one by one). Empty geometries are kept in `shapes` but never match.
    pub fn new(shapes: Vec<MultiPolygon<f64>>) -> Self {
        let entries: Vec<Entry> = shapes
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let r = s.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                ))
            })
            .collect();
        // Whole areas, computed once: a field lying wholly under a footprint (most of them,
        // with 100 m fields and a 375 m pixel) then needs no geometry access at query time.
        let areas = shapes
            .par_iter()
            .map(|s| s.bounding_rect().map_or(0.0, |r| clipped_area(s, r)))
            .collect();
        PolygonIndex {
            tree: RTree::bulk_load(entries),
            shapes,
            areas,
        }
    }

    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    /// The indexed shapes (WGS84), in the order they were given.
    pub fn shapes(&self) -> &[MultiPolygon<f64>] {
        &self.shapes
    }

    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }

    pub fn shape(&self, index: usize) -> &MultiPolygon<f64> {
        &self.shapes[index]
    }

    /// Indices of the polygons holding `(lon, lat)` (boundary included), ascending.
    pub fn containing(&self, lon: f64, lat: f64) -> Vec<usize> {
        let p = Point::new(lon, lat);
        let mut hits: Vec<usize> = self
            .tree
            .locate_all_at_point(&[lon, lat])
            .map(|e| e.data)
            .filter(|&i| self.shapes[i].intersects(&p))
            .collect();
        hits.sort_unstable();
        hits
    }

    /// The first polygon (lowest index) holding `(lon, lat)`: `containing(..).first()` without
    /// the exact tests of the candidates after it (a scene's coverage samples need only this).
    pub fn first_containing(&self, lon: f64, lat: f64) -> Option<usize> {
        let p = Point::new(lon, lat);
        let mut candidates: Vec<usize> = self
            .tree
            .locate_all_at_point(&[lon, lat])
            .map(|e| e.data)
            .collect();
        candidates.sort_unstable();
        candidates
            .into_iter()
            .find(|&i| self.shapes[i].intersects(&p))
    }

    /// The same answer as [`Self::containing`] by testing every polygon.
    pub fn containing_reference(&self, lon: f64, lat: f64) -> Vec<usize> {
        let p = Point::new(lon, lat);
        (0..self.shapes.len())
            .filter(|&i| self.shapes[i].intersects(&p))
            .collect()
    }

    /// Polygons overlapping `rect` with the share of `rect` each covers, largest first
    /// (ties by index). Polygons touching only along an edge (share 0) are left out.
    pub fn overlaps(&self, rect: Rect<f64>) -> Vec<Overlap> {
        let env = AABB::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]);
        let rect_area = rect.width() * rect.height();
        let candidates = self.tree.locate_in_envelope_intersecting(&env).map(|e| {
            let area = if env.contains_envelope(&e.geom().envelope()) {
                self.areas[e.data]
            } else {
                clipped_area(&self.shapes[e.data], rect)
            };
            (e.data, area)
        });
        collect_overlaps(candidates, rect_area)
    }

    /// The same answer as [`Self::overlaps`] by clipping every polygon.
    pub fn overlaps_reference(&self, rect: Rect<f64>) -> Vec<Overlap> {
        let rect_area = rect.width() * rect.height();
        let candidates = self
            .shapes
            .iter()
            .enumerate()
            .map(|(i, s)| (i, clipped_area(s, rect)));
        collect_overlaps(candidates, rect_area)
    }
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

/// Signed area of an open ring (first vertex not repeated). Coordinates are taken relative to
/// the first vertex: at lon 114° a field's area is a difference of products near 4000 deg²,
/// and without the shift it would lose eight digits.
fn shoelace(pts: &[Coord<f64>]) -> f64 {
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
            assert_eq!(fast, index.overlaps_reference(rect));
            multi += usize::from(fast.len() > 1);
        }
        assert!(
            multi > 100,
            "the test must exercise multi-parcel footprints, got {multi}"
        );
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
