//! The footprint match's inner loops (a ring's window integral, a tree node's child boxes) on
//! the widest kernel this CPU runs, chosen once per footprint.
//!
//! Why: the build is generic x86-64, so AVX is found at run time. Checked inside each window
//! integral, the AVX kernel was a call that could not be inlined (its caller was not compiled
//! for AVX) and its setup was made again for every ring. Now [`super::index::PolygonIndex`]
//! checks once per footprint and runs the whole match of that footprint (tree walk,
//! candidates, integrals) in one function compiled for AVX, generic over a [`Kernel`]: the
//! scalar instance for other CPUs, the [`Avx`] one where [`Avx::detect`] finds it. Either gives
//! the same candidates in the same order and every share the same bit for bit (the tests here
//! and in `window_integral` compare them).

use geo::{Coord, Rect};

use super::packed::Bbox;

/// The inner loops of a footprint's match.
pub(super) trait Kernel: Copy {
    /// `flat::signed_window_integral` of one ring.
    fn window_integral(self, pts: &[Coord<f64>], rect: Rect<f64>) -> f64;

    /// Bit `j` set when `boxes[j]` meets `q` (edges included), as `packed::meets`; at most 32
    /// boxes.
    fn children_meeting(self, boxes: &[Bbox], q: &Bbox) -> u32;
}

/// The portable kernels.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scalar;

impl Kernel for Scalar {
    #[inline(always)]
    fn window_integral(self, pts: &[Coord<f64>], rect: Rect<f64>) -> f64 {
        super::flat::signed_window_integral_scalar(pts, rect)
    }

    #[inline(always)]
    fn children_meeting(self, boxes: &[Bbox], q: &Bbox) -> u32 {
        super::packed::children_meeting(boxes, q)
    }
}

/// The AVX kernels: only made by [`Avx::detect`], on a CPU that has AVX (so that code holding
/// one may call them).
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy)]
pub(super) struct Avx(());

#[cfg(target_arch = "x86_64")]
impl Avx {
    /// The AVX kernels if this CPU runs them.
    #[inline]
    pub(super) fn detect() -> Option<Avx> {
        std::arch::is_x86_feature_detected!("avx").then_some(Avx(()))
    }
}

#[cfg(target_arch = "x86_64")]
impl Kernel for Avx {
    #[inline(always)]
    fn window_integral(self, pts: &[Coord<f64>], rect: Rect<f64>) -> f64 {
        // SAFETY: an `Avx` exists only where the CPU has AVX (`Avx::detect`).
        #[allow(unsafe_code)]
        unsafe {
            super::window_integral::signed_window_integral_avx(pts, rect)
        }
    }

    #[inline(always)]
    fn children_meeting(self, boxes: &[Bbox], q: &Bbox) -> u32 {
        // SAFETY: as above.
        #[allow(unsafe_code)]
        unsafe {
            children_meeting_avx(boxes, q)
        }
    }
}

/// [`super::packed::children_meeting`] one box to a vector: `a` meets `q` when
/// `a0 ≤ q2, a1 ≤ q3, a2 ≥ q0, a3 ≥ q1`, i.e. `[a0, a1, −a2, −a3] ≤ [q2, q3, −q0, −q1]`
/// lane by lane (negation is exact and keeps NaN unordered, so each lane answers as its
/// scalar comparison does), all four lanes true.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx")]
fn children_meeting_avx(boxes: &[Bbox], q: &Bbox) -> u32 {
    use std::arch::x86_64::*;
    debug_assert!(boxes.len() <= 32);
    let sign = _mm256_set_pd(-0.0, -0.0, 0.0, 0.0);
    let bound = _mm256_set_pd(-q[1], -q[0], q[3], q[2]);
    let mut hits = 0u32;
    for (j, b) in boxes.iter().enumerate() {
        let a = _mm256_xor_pd(_mm256_set_pd(b[3], b[2], b[1], b[0]), sign);
        let le = _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(a, bound));
        hits |= u32::from(le == 0b1111) << j;
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_vector_box_test_is_the_scalar_one() {
        let Some(avx) = Avx::detect() else {
            eprintln!("no AVX on this CPU: nothing to compare");
            return;
        };
        let mut rng = ChaCha8Rng::seed_from_u64(23);
        // Coordinates from a few values (boxes touching, sharing edges, zero-sized), signed
        // zeros, NaN and infinities.
        let values = [
            -1.0,
            -0.0,
            0.0,
            0.5,
            1.0,
            2.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let pick = |rng: &mut ChaCha8Rng| -> f64 {
            if rng.gen_bool(0.7) {
                values[rng.gen_range(0..values.len())]
            } else {
                rng.gen_range(-1.0..2.0)
            }
        };
        let (mut some, mut none) = (0, 0);
        for _ in 0..20_000 {
            let n = rng.gen_range(0..=16);
            let boxes: Vec<Bbox> = (0..n)
                .map(|_| {
                    [
                        pick(&mut rng),
                        pick(&mut rng),
                        pick(&mut rng),
                        pick(&mut rng),
                    ]
                })
                .collect();
            let q = [
                pick(&mut rng),
                pick(&mut rng),
                pick(&mut rng),
                pick(&mut rng),
            ];
            let fast = avx.children_meeting(&boxes, &q);
            assert_eq!(fast, Scalar.children_meeting(&boxes, &q), "{boxes:?} {q:?}");
            some += usize::from(fast != 0);
            none += usize::from(fast == 0 && n > 0);
        }
        assert!(
            some > 3000 && none > 3000,
            "{some} with hits, {none} without"
        );
    }
}
