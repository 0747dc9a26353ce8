//! The window integral of a ring (`flat::signed_window_integral`) four edges at a time, in
//! AVX lanes, with the same result bit for bit.
//!
//! Why: a VIIRS footprint cuts ≈ 27 field parcels, and each cut parcel's area is the edge
//! integral over its ≈ 8 edges; in the scalar loop every edge takes two to four branches on
//! where it lies against the window, which a field's edges answer in no predictable order, and
//! a division for each cut end. Taken four at a time the divisions run in parallel in one
//! instruction and the branches become selects.
//!
//! Why the same bits: each lane computes one edge's term with the scalar loop's operations in
//! the same order (no fused multiply-add, the same `max`/`min` for NaN, every division taken
//! and the results selected as the branches would), and the terms are then added one by one in
//! the ring's order, as the scalar loop adds them. An edge the scalar loop skips adds `+0.0`
//! here; the sum starts at `+0.0` and a round-to-nearest sum of `+0.0` and anything is that
//! thing (a sum that starts at `+0.0` never becomes `-0.0`), so the result is the same.
//!
//! The first edge (from the last vertex to the first: no edge at all for a closed ring) and
//! the edges after the last group of four are taken by [`edge_term`], the scalar loop's body.
//! Without AVX (another CPU, another architecture) the scalar loop runs.

use geo::{Coord, Rect};

/// Rings with fewer vertices than this are left to the scalar loop.
const MIN_VECTOR_LEN: usize = 5;

/// `signed_window_integral` (the scalar loop in `flat.rs`, its reference), on the widest
/// kernel this CPU runs. The footprint match checks for AVX once per footprint instead
/// ([`super::kernel`]).
#[inline]
pub(super) fn signed_window_integral(pts: &[Coord<f64>], rect: Rect<f64>) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: `signed_window_integral_avx` needs nothing but AVX, and the CPU was just
        // found to have it.
        #[allow(unsafe_code)]
        return unsafe { signed_window_integral_avx(pts, rect) };
    }
    super::flat::signed_window_integral_scalar(pts, rect)
}

/// [`signed_window_integral`] where the CPU is known to have AVX: inlined into a caller
/// compiled for AVX ([`super::kernel::Avx`]).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx")]
pub(super) fn signed_window_integral_avx(pts: &[Coord<f64>], rect: Rect<f64>) -> f64 {
    if pts.len() >= MIN_VECTOR_LEN {
        avx::signed_window_integral_avx(pts, rect)
    } else {
        super::flat::signed_window_integral_scalar(pts, rect)
    }
}

/// The term edge `a → b` adds to the scalar loop's sum (relative to the window's lower-left
/// corner; `w`, `h` the window's size): the loop's body, written as a value, `0.0` where the
/// loop skips the edge.
#[inline(always)]
fn edge_term(a: Coord<f64>, b: Coord<f64>, w: f64, h: f64) -> f64 {
    let (left, right) = if a.x < b.x { (a, b) } else { (b, a) };
    let lo = left.x.max(0.0);
    let hi = right.x.min(w);
    if lo >= hi {
        return 0.0;
    }
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
    let area = super::flat::clamped_integral(hi - lo, y_lo, y_hi, h);
    if a.x > b.x {
        area
    } else {
        -area
    }
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use super::edge_term;
    use geo::{Coord, Rect};
    use std::arch::x86_64::*;

    /// Four coordinates `[x0, y0, x1, y1, x2, y2, x3, y3]` from `pts[i..i + 4]` as the lanes
    /// `([x0, x2, x1, x3], [y0, y2, y1, y3])`.
    #[inline]
    #[target_feature(enable = "avx")]
    fn load4(pts: &[Coord<f64>], i: usize) -> (__m256d, __m256d) {
        let p = &pts[i..i + 4];
        let lo = _mm256_set_pd(p[1].y, p[1].x, p[0].y, p[0].x);
        let hi = _mm256_set_pd(p[3].y, p[3].x, p[2].y, p[2].x);
        (_mm256_unpacklo_pd(lo, hi), _mm256_unpackhi_pd(lo, hi))
    }

    /// `if m { a } else { b }` lane by lane (`m` all ones or all zeros).
    #[inline]
    #[target_feature(enable = "avx")]
    fn select(m: __m256d, a: __m256d, b: __m256d) -> __m256d {
        _mm256_blendv_pd(b, a, m)
    }

    /// The terms of edges `pts[i + k] → pts[i + k + 1]`, `k` = 0..4, lanes in the order
    /// `[0, 2, 1, 3]` (that of [`load4`]); the operations of [`edge_term`] lane by lane.
    #[inline]
    #[target_feature(enable = "avx")]
    fn edge_terms(
        pts: &[Coord<f64>],
        i: usize,
        min: (__m256d, __m256d),
        w: __m256d,
        h: __m256d,
    ) -> __m256d {
        let zero = _mm256_setzero_pd();
        let one = _mm256_set1_pd(1.0);
        let two = _mm256_set1_pd(2.0);
        let sign = _mm256_set1_pd(-0.0);
        let (ax, ay) = load4(pts, i);
        let (bx, by) = load4(pts, i + 1);
        let (ax, ay) = (_mm256_sub_pd(ax, min.0), _mm256_sub_pd(ay, min.1));
        let (bx, by) = (_mm256_sub_pd(bx, min.0), _mm256_sub_pd(by, min.1));
        // (left, right) = if a.x < b.x { (a, b) } else { (b, a) }
        let a_left = _mm256_cmp_pd::<_CMP_LT_OQ>(ax, bx);
        let (lx, ly) = (select(a_left, ax, bx), select(a_left, ay, by));
        let (rx, ry) = (select(a_left, bx, ax), select(a_left, by, ay));
        // max/minpd give their second operand when either is NaN, as f64::max/min give the
        // number.
        let lo = _mm256_max_pd(lx, zero);
        let hi = _mm256_min_pd(rx, w);
        let taken = _mm256_cmp_pd::<_CMP_NGE_UQ>(lo, hi);
        let span = _mm256_sub_pd(rx, lx);
        let dy = _mm256_sub_pd(ry, ly);
        let y_lo_cut = _mm256_add_pd(
            ly,
            _mm256_mul_pd(_mm256_div_pd(_mm256_sub_pd(lo, lx), span), dy),
        );
        let y_lo = select(_mm256_cmp_pd::<_CMP_GT_OQ>(lo, lx), y_lo_cut, ly);
        let y_hi_cut = _mm256_add_pd(
            ly,
            _mm256_mul_pd(_mm256_div_pd(_mm256_sub_pd(hi, lx), span), dy),
        );
        let y_hi = select(_mm256_cmp_pd::<_CMP_LT_OQ>(hi, rx), y_hi_cut, ry);
        let len = _mm256_sub_pd(hi, lo);
        // clamped_integral(len, y_lo, y_hi, h)
        let ordered = _mm256_cmp_pd::<_CMP_LE_OQ>(y_lo, y_hi);
        let p = select(ordered, y_lo, y_hi);
        let q = select(ordered, y_hi, y_lo);
        let q_p = _mm256_sub_pd(q, p);
        let below = select(
            _mm256_cmp_pd::<_CMP_LT_OQ>(p, zero),
            _mm256_div_pd(_mm256_xor_pd(p, sign), q_p),
            zero,
        );
        let above = select(
            _mm256_cmp_pd::<_CMP_GT_OQ>(q, h),
            _mm256_div_pd(_mm256_sub_pd(q, h), q_p),
            zero,
        );
        let middle = _mm256_sub_pd(_mm256_sub_pd(one, below), above);
        let mean = _mm256_div_pd(
            _mm256_mul_pd(
                middle,
                _mm256_add_pd(_mm256_max_pd(p, zero), _mm256_min_pd(q, h)),
            ),
            two,
        );
        let mut area = _mm256_mul_pd(len, _mm256_add_pd(mean, _mm256_mul_pd(above, h)));
        area = select(
            _mm256_cmp_pd::<_CMP_GE_OQ>(p, h),
            _mm256_mul_pd(len, h),
            area,
        );
        area = select(_mm256_cmp_pd::<_CMP_LE_OQ>(q, zero), zero, area);
        // An edge running west adds, one running east subtracts.
        let west = _mm256_cmp_pd::<_CMP_GT_OQ>(ax, bx);
        let term = select(west, area, _mm256_xor_pd(area, sign));
        _mm256_and_pd(taken, term)
    }

    /// The scalar loop's sum: its first edge by [`edge_term`], then groups of four edges in
    /// lanes, then the rest by [`edge_term`], every term added in the ring's order.
    #[inline]
    #[target_feature(enable = "avx")]
    pub(super) fn signed_window_integral_avx(pts: &[Coord<f64>], rect: Rect<f64>) -> f64 {
        let (min, max) = (rect.min(), rect.max());
        let (w, h) = (max.x - min.x, max.y - min.y);
        let n = pts.len();
        let Some(&last) = pts.last() else {
            return 0.0;
        };
        let mut sum = 0.0;
        sum += edge_term(last - min, pts[0] - min, w, h);
        let lanes_min = (_mm256_set1_pd(min.x), _mm256_set1_pd(min.y));
        let (w4, h4) = (_mm256_set1_pd(w), _mm256_set1_pd(h));
        // Edge j runs from pts[j - 1] to pts[j]; groups start at j = 1.
        let mut i = 0;
        while i + 5 <= n {
            let t = edge_terms(pts, i, lanes_min, w4, h4);
            let low = _mm256_castpd256_pd128(t);
            let high = _mm256_extractf128_pd::<1>(t);
            // Lanes [0, 2, 1, 3]: edges i, i + 2 in `low`, i + 1, i + 3 in `high`.
            sum += _mm_cvtsd_f64(low);
            sum += _mm_cvtsd_f64(high);
            sum += _mm_cvtsd_f64(_mm_unpackhi_pd(low, low));
            sum += _mm_cvtsd_f64(_mm_unpackhi_pd(high, high));
            i += 4;
        }
        while i + 1 < n {
            sum += edge_term(pts[i] - min, pts[i + 1] - min, w, h);
            i += 1;
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locate::flat::signed_window_integral_scalar;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The same value as the scalar loop, bit for bit (`+0.0` and `-0.0` both count as zero:
    /// callers keep only positive areas).
    fn assert_same(pts: &[Coord<f64>], rect: Rect<f64>) -> f64 {
        let fast = signed_window_integral(pts, rect);
        let reference = signed_window_integral_scalar(pts, rect);
        assert!(
            fast.to_bits() == reference.to_bits() || (fast == 0.0 && reference == 0.0),
            "{fast} vs {reference} for {pts:?} in {rect:?}"
        );
        reference
    }

    /// A ring around `(cx, cy)` with `n` vertices (concave, either way round), closed or not,
    /// some vertices shared with the window's edges or with each other's x or y (vertical
    /// and horizontal edges), some repeated.
    fn random_ring(rng: &mut ChaCha8Rng, n: usize, cx: f64, cy: f64, r: f64) -> Vec<Coord<f64>> {
        let mut pts: Vec<Coord<f64>> = (0..n)
            .map(|k| {
                let a = std::f64::consts::TAU * k as f64 / n as f64;
                let rr = r * rng.gen_range(0.2..1.0);
                Coord {
                    x: cx + rr * a.cos(),
                    y: cy + rr * a.sin(),
                }
            })
            .collect();
        for k in 1..n {
            match rng.gen_range(0..8) {
                0 => pts[k].x = pts[k - 1].x,
                1 => pts[k].y = pts[k - 1].y,
                2 => pts[k] = pts[k - 1],
                _ => {}
            }
        }
        if rng.gen_bool(0.5) {
            pts.reverse();
        }
        if rng.gen_bool(0.7) {
            pts.push(pts[0]);
        }
        pts
    }

    #[test]
    fn the_vector_integral_is_the_scalar_one_bit_for_bit() {
        let mut rng = ChaCha8Rng::seed_from_u64(18);
        let (mut cut, mut nonzero) = (0, 0);
        for k in 0..100_000 {
            let n = rng.gen_range(1..24);
            // Near lon 114°, lat 35° (where the window's corner shift matters), rings from a
            // field to a farmstead, windows from a Sentinel-2 pixel to a VIIRS one.
            let (cx, cy) = (
                114.0 + rng.gen_range(0.0..0.01),
                35.0 + rng.gen_range(0.0..0.01),
            );
            let r = rng.gen_range(0.0001..0.002);
            let pts = random_ring(&mut rng, n, cx, cy, r);
            let half = [0.0001, 0.00015, 0.0017, 0.004][k % 4] * rng.gen_range(0.5..1.5);
            let (mut x, mut y) = (
                cx + rng.gen_range(-0.003..0.003),
                cy + rng.gen_range(-0.003..0.003),
            );
            // Windows whose edges pass through vertices.
            match k % 7 {
                0 => (x, y) = (pts[0].x + half, pts[0].y - half),
                1 => x = pts[n / 2].x - half,
                2 => y = pts[n - 1].y + half,
                _ => {}
            }
            let rect = Rect::new((x - half, y - half), (x + half, y + half));
            let area = assert_same(&pts, rect);
            nonzero += usize::from(area != 0.0);
            let whole = signed_window_integral_scalar(
                &pts,
                Rect::new((cx - 2.0 * r, cy - 2.0 * r), (cx + 2.0 * r, cy + 2.0 * r)),
            );
            cut += usize::from(area != 0.0 && area != whole);
        }
        assert!(
            cut > 20_000 && nonzero > 30_000,
            "{cut} cut, {nonzero} nonzero"
        );
    }

    #[test]
    fn the_vector_integral_agrees_on_degenerate_input() {
        let c = |x: f64, y: f64| Coord { x, y };
        let unit = Rect::new((0.0, 0.0), (1.0, 1.0));
        let rings: Vec<Vec<Coord<f64>>> = vec![
            // A square on the window's edges, one around it, one beside it.
            vec![
                c(0.0, 0.0),
                c(1.0, 0.0),
                c(1.0, 1.0),
                c(0.0, 1.0),
                c(0.0, 0.0),
            ],
            vec![
                c(-1.0, -1.0),
                c(2.0, -1.0),
                c(2.0, 2.0),
                c(-1.0, 2.0),
                c(-1.0, -1.0),
            ],
            vec![
                c(1.0, 0.0),
                c(2.0, 0.0),
                c(2.0, 1.0),
                c(1.0, 1.0),
                c(1.0, 0.0),
            ],
            // Vertical edges only crossing the window, zero-length edges, a spike.
            vec![
                c(0.5, -1.0),
                c(0.5, 2.0),
                c(0.5, 2.0),
                c(0.5, -1.0),
                c(0.5, -1.0),
            ],
            vec![
                c(0.0, 0.5),
                c(3.0, 0.5),
                c(0.0, 0.5),
                c(0.0, 0.5),
                c(0.0, 0.5),
                c(0.0, 0.5),
            ],
            // NaN and infinite vertices.
            vec![
                c(0.0, 0.0),
                c(f64::NAN, 0.5),
                c(1.0, 1.0),
                c(0.5, f64::NAN),
                c(0.0, 0.0),
            ],
            vec![
                c(0.0, 0.0),
                c(f64::INFINITY, 0.5),
                c(1.0, 1.0),
                c(0.2, 2.0),
                c(0.0, 0.0),
            ],
            vec![
                c(-0.0, -0.0),
                c(0.7, -0.0),
                c(0.7, 0.3),
                c(-0.0, 0.3),
                c(-0.0, -0.0),
            ],
        ];
        for ring in &rings {
            for rect in [
                unit,
                Rect::new((0.25, 0.25), (0.75, 0.75)),
                Rect::new((0.5, -3.0), (0.5, 3.0)),
            ] {
                assert_same(ring, rect);
                let mut reversed = ring.clone();
                reversed.reverse();
                assert_same(&reversed, rect);
            }
        }
        assert_eq!(assert_same(&rings[0], unit), 1.0);
        assert_eq!(assert_same(&rings[1], unit), 1.0);
        assert_eq!(assert_same(&rings[2], unit), 0.0);
    }
}
