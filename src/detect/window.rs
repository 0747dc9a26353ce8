//! Valid counts and BT4 / ΔT45 sums over the background window of a candidate (core excluded):
//! what the contextual stage asks first, and what rejects most candidates ([`super::context::
//! fails_on_means`]).
//!
//! Two ways to the same numbers. [`window_sums`] visits one window in row-major order, as the
//! reference does. [`ColumnSums`] serves a run of candidates close together on one row (a day
//! granule has ≈530 k candidates in ≈100 k such runs, mostly warm bright soil): it sums each
//! column of the run's rows once, and each window is then the sum of its columns less its core.
//! Windows overlap, so this visits about a third of the pixels, and the column loop vectorises.
//!
//! Why the two agree bit for bit although they add in different orders: an f32 with
//! 1 ≤ |v| < 512 is a multiple of 2⁻²³, and so is ΔT45 = BT4 − BT5 rounded to f32 for two such
//! values (|ΔT45| < 1024). Every partial sum of at most a window's values is then a multiple of
//! 2⁻²³ below 2¹⁷ in magnitude, which needs 40 bits: f64 (53) holds each one exactly, so no sum
//! is ever rounded and the order does not matter. Brightness temperatures in kelvin always lie
//! there; [`ColumnSums::fill`] checks every valid pixel it adds and reports when one does not,
//! and the caller then takes [`window_sums`].

use super::pixel::bits;

/// BT4, BT5 and the stage-1 bits of a scene as row-major slices.
#[derive(Debug, Clone, Copy)]
pub struct Planes<'a> {
    pub i4: &'a [f32],
    pub i5: &'a [f32],
    pub state: &'a [u8],
    pub rows: usize,
    pub cols: usize,
}

impl Planes<'_> {
    /// Row and column ranges (inclusive) of the square of half-side `h` around (r, c), clipped.
    fn square(&self, r: usize, c: usize, h: usize) -> ((usize, usize), (usize, usize)) {
        (
            (r.saturating_sub(h), (r + h).min(self.rows - 1)),
            (c.saturating_sub(h), (c + h).min(self.cols - 1)),
        )
    }
}

/// Sums over the valid background of a window, core excluded.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Sums {
    /// Valid background pixels.
    pub valid: usize,
    /// In-image pixels.
    pub total: usize,
    pub bt4: f64,
    pub dt: f64,
}

impl Sums {
    /// The means as [`super::context::WindowAcc::finish`] computes them (f64 sums).
    pub fn means(&self) -> (f32, f32) {
        let n = self.valid as f64;
        ((self.bt4 / n) as f32, (self.dt / n) as f32)
    }
}

/// The sums of the window of half-side `h` around (r, c), the core square of half-side `core`
/// excluded: one pass over its rows in row-major order, as the reference adds.
pub fn window_sums(p: &Planes, r: usize, c: usize, h: usize, core: usize) -> Sums {
    let ((r0, r1), (c0, c1)) = p.square(r, c, h);
    let mut s = Sums::default();
    for rr in r0..=r1 {
        let line = rr * p.cols;
        let (srow, l4, l5) = (
            &p.state[line + c0..=line + c1],
            &p.i4[line + c0..=line + c1],
            &p.i5[line + c0..=line + c1],
        );
        let core_row = rr.abs_diff(r) <= core;
        for (k, ((&b, &a), &v5)) in srow.iter().zip(l4).zip(l5).enumerate() {
            if core_row && (c0 + k).abs_diff(c) <= core {
                continue;
            }
            s.total += 1;
            if b & bits::VALID_BG != 0 {
                s.valid += 1;
                s.bt4 += a as f64;
                s.dt += (a - v5) as f64;
            }
        }
    }
    s
}

/// Whether a value lies where its f64 sums are exact in any order (see the module docs).
#[inline(always)]
fn on_grid(v: f32) -> bool {
    let a = v.abs();
    (1.0..512.0).contains(&a)
}

/// Per-column valid counts and BT4 and ΔT45 sums over the rows of one window height, for a
/// whole row of the scene, brought down the scene only where candidates need them. One per
/// thread, reused from row to row.
#[derive(Debug, Default)]
pub struct ColumnSums {
    /// Half-height of the windows summed.
    h: usize,
    /// Per column: 1 + the centre row its sums are for, 0 when they are for none (never
    /// filled, or a value off the exact grid was added).
    at: Vec<usize>,
    valid: Vec<u32>,
    bt4: Vec<f64>,
    dt: Vec<f64>,
}

impl ColumnSums {
    /// Brings columns `c0..=c1` to the window rows r−h..=r+h (clipped to the image): a column
    /// that holds the rows of r−1 drops one row and adds one, any other is summed afresh. False
    /// when a valid background pixel in one of them lies off the exact grid;
    /// [`ColumnSums::window`] must not be used on those columns then.
    pub fn fill(&mut self, p: &Planes, r: usize, (c0, c1): (usize, usize), h: usize) -> bool {
        if self.at.len() != p.cols || self.h != h {
            *self = ColumnSums {
                h,
                at: vec![0; p.cols],
                valid: vec![0; p.cols],
                bt4: vec![0.0; p.cols],
                dt: vec![0.0; p.cols],
            };
        }
        let (r0, r1) = (r.saturating_sub(h), (r + h).min(p.rows - 1));
        // The rows a column of centre r−1 drops and adds on the way to r.
        let drop = (r > h).then(|| r - h - 1);
        let add = (r + h < p.rows).then_some(r + h);
        let mut exact = true;
        for j in c0..=c1 {
            if self.at[j] == r + 1 {
                continue;
            }
            let at = |rr: usize| rr * p.cols + j;
            let ok = if r > 0 && self.at[j] == r {
                drop.is_none_or(|rr| self.take::<false>(p, at(rr), j))
                    & add.is_none_or(|rr| self.take::<true>(p, at(rr), j))
            } else {
                (self.valid[j], self.bt4[j], self.dt[j]) = (0, 0.0, 0.0);
                (r0..=r1).fold(true, |ok, rr| ok & self.take::<true>(p, at(rr), j))
            };
            self.at[j] = if ok { r + 1 } else { 0 };
            exact &= ok;
        }
        exact
    }

    /// Adds (`ADD`) or removes pixel `i` in the sums of column `j`: false when it is valid
    /// background off the exact grid.
    #[inline(always)]
    fn take<const ADD: bool>(&mut self, p: &Planes, i: usize, j: usize) -> bool {
        if p.state[i] & bits::VALID_BG == 0 {
            return true;
        }
        let (a, b) = (p.i4[i], p.i5[i]);
        if ADD {
            self.valid[j] += 1;
            self.bt4[j] += a as f64;
            self.dt[j] += (a - b) as f64;
        } else {
            self.valid[j] -= 1;
            self.bt4[j] -= a as f64;
            self.dt[j] -= (a - b) as f64;
        }
        on_grid(a) & on_grid(b)
    }

    /// The sums of the window of half-side `h` around (r, c), core of half-side `core`
    /// excluded, equal to [`window_sums`]: `r` and `h` as given to [`ColumnSums::fill`], and
    /// the window's columns among those filled.
    pub fn window(&self, p: &Planes, r: usize, c: usize, h: usize, core: usize) -> Sums {
        let ((r0, r1), (c0, c1)) = p.square(r, c, h);
        debug_assert!(h == self.h && self.at[c0..=c1].iter().all(|&a| a == r + 1));
        let span = c0..=c1;
        let mut s = Sums {
            valid: self.valid[span.clone()].iter().sum::<u32>() as usize,
            total: (r1 + 1 - r0) * (c1 + 1 - c0),
            bt4: self.bt4[span.clone()].iter().sum(),
            dt: self.dt[span].iter().sum(),
        };
        let ((k0, k1), (j0, j1)) = p.square(r, c, core);
        s.total -= (k1 + 1 - k0) * (j1 + 1 - j0);
        for rr in k0..=k1 {
            for cc in j0..=j1 {
                let i = rr * p.cols + cc;
                if p.state[i] & bits::VALID_BG != 0 {
                    s.valid -= 1;
                    s.bt4 -= p.i4[i] as f64;
                    s.dt -= (p.i4[i] - p.i5[i]) as f64;
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    struct Scene {
        i4: Vec<f32>,
        i5: Vec<f32>,
        state: Vec<u8>,
        rows: usize,
        cols: usize,
    }

    impl Scene {
        fn random(seed: u64, rows: usize, cols: usize) -> Scene {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let n = rows * cols;
            Scene {
                i4: (0..n).map(|_| rng.gen_range(250.0..420.0)).collect(),
                i5: (0..n).map(|_| rng.gen_range(240.0..330.0)).collect(),
                state: (0..n)
                    .map(|_| if rng.gen_bool(0.8) { bits::VALID_BG } else { 0 })
                    .collect(),
                rows,
                cols,
            }
        }
        fn planes(&self) -> Planes<'_> {
            Planes {
                i4: &self.i4,
                i5: &self.i5,
                state: &self.state,
                rows: self.rows,
                cols: self.cols,
            }
        }
    }

    #[test]
    fn column_sums_equal_the_row_major_sums_bit_for_bit() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for seed in 0..20 {
            let s = Scene::random(seed, 23, 40);
            let p = s.planes();
            for (h, core) in [(5, 1), (7, 2), (2, 0)] {
                let mut cols = ColumnSums::default();
                // Down the scene, edges included, over random spans of columns: some columns
                // slide from the row above, some are summed afresh.
                for r in 0..p.rows {
                    if rng.gen_bool(0.2) {
                        continue;
                    }
                    let c0 = rng.gen_range(0..p.cols);
                    let c1 = rng.gen_range(c0..p.cols);
                    assert!(cols.fill(&p, r, (c0.saturating_sub(h), (c1 + h).min(p.cols - 1)), h));
                    for c in c0..=c1 {
                        let (a, b) = (
                            cols.window(&p, r, c, h, core),
                            window_sums(&p, r, c, h, core),
                        );
                        assert_eq!((a.valid, a.total), (b.valid, b.total));
                        assert_eq!(a.bt4.to_bits(), b.bt4.to_bits(), "seed {seed} ({r}, {c})");
                        assert_eq!(a.dt.to_bits(), b.dt.to_bits(), "seed {seed} ({r}, {c})");
                    }
                }
            }
        }
    }

    #[test]
    fn a_value_off_the_exact_grid_is_reported() {
        let mut s = Scene::random(1, 15, 15);
        s.state.fill(bits::VALID_BG);
        let fill = |s: &Scene, r: usize| ColumnSums::default().fill(&s.planes(), r, (2, 12), 5);
        assert!(fill(&s, 7));
        // A value whose low bits lie below 2⁻²³, where the sums could round, and one too large.
        for (at, v) in [(7 * 15 + 7, 0.3f32), (2 * 15 + 12, 600.0)] {
            let old = s.i4[at];
            s.i4[at] = v;
            assert!(!fill(&s, 7), "{v}");
            // Not valid background: not summed, so not checked.
            s.state[at] = 0;
            assert!(fill(&s, 7), "{v}");
            (s.i4[at], s.state[at]) = (old, bits::VALID_BG);
        }
        // BT5 is checked too.
        s.i5[7 * 15 + 8] = -1e-3;
        assert!(!fill(&s, 7));
        // A column that took such a value is summed afresh, and checked again, on the next row;
        // once the value has left the window the column is exact again.
        let mut cols = ColumnSums::default();
        assert!(!cols.fill(&s.planes(), 7, (2, 12), 5));
        assert!(!cols.fill(&s.planes(), 8, (2, 12), 5));
        assert!(!cols.fill(&s.planes(), 12, (2, 12), 5));
        assert!(cols.fill(&s.planes(), 13, (2, 12), 5));
        assert!(cols.fill(&s.planes(), 14, (2, 12), 5));
    }
}
