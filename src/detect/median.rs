//! The day candidate bound BT4S = min(330, max(325, median BT4 of the 501×501 valid background))
//! (Schroeder et al. 2014 sec. 2.3), decided exactly and fast.
//!
//! Only day pixels with 325 < BT4 ≤ 330 depend on it, and for those "BT4 > BT4S" is the same as
//! "BT4 > median". On a warm afternoon over bright soil there can be hundreds of thousands of such
//! pixels, and a 501×501 window holds 251,001 values: counting each window directly costs 10¹¹
//! operations. But the median only matters when it lies between 325 and 330 K; whether more than
//! half the window is below 325 K (certainly a candidate) or at least 330 K (certainly not) is
//! read in O(1) from summed-area tables of "valid", "valid and below 325" and "valid and below
//! 330". Only windows whose median falls inside the bounds are counted directly, and those
//! counts are exact too, so the result equals the sorting reference bit for bit.

use ndarray::{s, Array2, ArrayView2, Axis};
use rayon::prelude::*;

use super::pixel::bits;

/// Summed-area tables of three indicators over the valid background, `(rows+1) × (cols+1)`:
/// per entry [valid, valid and BT4 < lower bound, valid and BT4 < upper bound].
struct Tables {
    sums: Array2<[u32; 3]>,
}

impl Tables {
    fn build(bg4: ArrayView2<f32>, lower_k: f32, upper_k: f32) -> Tables {
        let (rows, cols) = bg4.dim();
        let mut sums = Array2::from_elem((rows + 1, cols + 1), [0u32; 3]);
        // Row prefix sums, rows in parallel.
        sums.slice_mut(s![1.., ..])
            .axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(bg4.axis_iter(Axis(0)).into_par_iter())
            .for_each(|(mut out, line)| {
                let mut acc = [0u32; 3];
                for (c, &v) in line.iter().enumerate() {
                    // NaN (not background) compares false everywhere.
                    acc[0] += !v.is_nan() as u32;
                    acc[1] += (v < lower_k) as u32;
                    acc[2] += (v < upper_k) as u32;
                    out[c + 1] = acc;
                }
            });
        // Column prefix sums, bands of columns in parallel.
        sums.axis_chunks_iter_mut(Axis(1), 256)
            .into_par_iter()
            .for_each(|mut band| {
                for r in 1..=rows {
                    for c in 0..band.ncols() {
                        let above = band[[r - 1, c]];
                        let cell = &mut band[[r, c]];
                        for i in 0..3 {
                            cell[i] += above[i];
                        }
                    }
                }
            });
        Tables { sums }
    }

    /// Sums over rows r0..=r1, cols c0..=c1.
    fn window(&self, r0: usize, c0: usize, r1: usize, c1: usize) -> [u32; 3] {
        let s = &self.sums;
        let (a, b, c, d) = (
            s[[r1 + 1, c1 + 1]],
            s[[r0, c1 + 1]],
            s[[r1 + 1, c0]],
            s[[r0, c0]],
        );
        [0, 1, 2].map(|i| a[i] + d[i] - b[i] - c[i])
    }
}

/// BT4 where the pixel is valid background, NaN elsewhere: the population of the median.
fn background_bt4(i4: ArrayView2<f32>, state: &Array2<u8>) -> Array2<f32> {
    let mut bg = Array2::<f32>::from_elem(i4.dim(), f32::NAN);
    bg.axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(i4.axis_iter(Axis(0)).into_par_iter())
        .zip(state.axis_iter(Axis(0)).into_par_iter())
        .for_each(|((mut out, i4r), sr)| {
            for ((o, &v), &s) in out.iter_mut().zip(i4r.iter()).zip(sr.iter()) {
                if s & bits::VALID_BG != 0 {
                    *o = v;
                }
            }
        });
    bg
}

/// The pixels of `pixels` (row, col) whose BT4 exceeds BT4S, i.e. the median of the valid
/// background BT4 in the (2·half+1)² window clipped to the image. `lower_k`/`upper_k` are the
/// bounds of BT4S (325, 330 K); every pixel given must have lower_k < BT4 ≤ upper_k.
pub fn above_median(
    i4: ArrayView2<f32>,
    state: &Array2<u8>,
    pixels: Vec<(usize, usize)>,
    half: usize,
    lower_k: f32,
    upper_k: f32,
) -> Vec<(usize, usize)> {
    if pixels.is_empty() {
        return pixels;
    }
    let bg4 = background_bt4(i4, state);
    let tables = Tables::build(bg4.view(), lower_k, upper_k);
    let (rows, cols) = i4.dim();
    pixels
        .into_par_iter()
        .filter(|&(r, c)| {
            let (r0, r1) = (r.saturating_sub(half), (r + half).min(rows - 1));
            let (c0, c1) = (c.saturating_sub(half), (c + half).min(cols - 1));
            let [n, below_lower, below_upper] = tables.window(r0, c0, r1, c1);
            let n = n as usize;
            if n == 0 {
                // No background: BT4S falls back to its lower bound; the context decides.
                return true;
            }
            if below_lower as usize > n / 2 {
                // More than half the window is below 325 K: so is the median, and BT4 is above.
                return true;
            }
            if n - below_upper as usize > n / 2 {
                // More than half is at or above 330 K: so is the median, and BT4 ≤ 330 is not above.
                return false;
            }
            above_window_median(bg4.view(), r0, c0, r1, c1, i4[[r, c]])
        })
        .collect()
}

/// Is `bt4` above the median of the non-NaN values of the window? Counts values below and
/// at-or-above (branch-free, NaN counts as neither); only when exactly half are below, for an even
/// count, are the two middle values found to take their mean.
fn above_window_median(
    bg4: ArrayView2<f32>,
    r0: usize,
    c0: usize,
    r1: usize,
    c1: usize,
    bt4: f32,
) -> bool {
    let window = bg4.slice(s![r0..=r1, c0..=c1]);
    let (mut below, mut above) = (0usize, 0usize);
    for line in window.axis_iter(Axis(0)) {
        for &v in line.iter() {
            below += (v < bt4) as usize;
            above += (v >= bt4) as usize;
        }
    }
    let n = below + above;
    if n % 2 == 1 || below != n / 2 {
        return below > n / 2;
    }
    let (mut max_below, mut min_above) = (f32::NEG_INFINITY, f32::INFINITY);
    for &v in window.iter() {
        if v < bt4 {
            max_below = max_below.max(v);
        } else if v >= bt4 {
            min_above = min_above.min(v);
        }
    }
    bt4 > (max_below + min_above) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The median decision against sorting, on windows whose medians straddle the bounds.
    #[test]
    fn agrees_with_sorting() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for case in 0..30 {
            let (rows, cols) = (rng.gen_range(5..40), rng.gen_range(5..40));
            let centre: f32 = [320.0, 327.5, 333.0][case % 3];
            let i4 = Array2::from_shape_fn((rows, cols), |_| {
                // Quantised values make ties and even-count midpoints common.
                (centre + rng.gen_range(-6.0f32..6.0)).round()
            });
            let state = Array2::from_shape_fn((rows, cols), |_| {
                if rng.gen_bool(0.8) {
                    bits::VALID_BG
                } else {
                    0
                }
            });
            let pixels: Vec<(usize, usize)> = (0..rows)
                .flat_map(|r| (0..cols).map(move |c| (r, c)))
                .filter(|&(r, c)| i4[[r, c]] > 325.0 && i4[[r, c]] <= 330.0)
                .collect();
            let half = rng.gen_range(1..8);
            let fast = above_median(i4.view(), &state, pixels.clone(), half, 325.0, 330.0);
            let slow: Vec<(usize, usize)> = pixels
                .into_iter()
                .filter(|&(r, c)| {
                    let mut v = Vec::new();
                    for rr in r.saturating_sub(half)..=(r + half).min(rows - 1) {
                        for cc in c.saturating_sub(half)..=(c + half).min(cols - 1) {
                            if state[[rr, cc]] & bits::VALID_BG != 0 {
                                v.push(i4[[rr, cc]]);
                            }
                        }
                    }
                    if v.is_empty() {
                        return true;
                    }
                    v.sort_by(f32::total_cmp);
                    let n = v.len();
                    let m = if n % 2 == 1 {
                        v[n / 2]
                    } else {
                        (v[n / 2 - 1] + v[n / 2]) / 2.0
                    };
                    i4[[r, c]] > m.clamp(325.0, 330.0)
                })
                .collect();
            assert_eq!(fast, slow, "case {case}");
        }
    }
}
