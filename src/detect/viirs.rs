//! The fast VIIRS 375 m detector: rayon over strips of rows for the per-pixel stage, rayon over
//! candidates for the contextual stage.
//!
//! Where the time goes: the per-pixel stage touches every pixel once (six f32 reads, two u8
//! writes) and is memory-bound, so it runs strip by strip ([`classify_strip`]), where the scan
//! can fuse it with reading the strip; the 501×501 median runs only for day pixels with
//! 325 < BT4 ≤ 330 and decides BT4 > median by counting rather than sorting (`median.rs`);
//! contextual statistics run only around candidates: one pass over the 11×11 window gives its
//! valid count and the means, which already reject most candidates ([`fails_on_means`]); the
//! deviations are computed only for the rest, and the window grows ring by ring only where
//! 11×11 holds too little valid background.

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::model::SensorModel;

use super::context::{decide, fails_on_means, window_is_enough, Decision, WindowAcc};
use super::finish::{finish, Outcome};
use super::median;
use super::pixel::{bits, PixelParams};
use super::strip::{classify_strip, Pending, StripOut};
use super::types::{Detection, MaskClass, PixelArea, ViirsInput};
use super::{check_shapes, DetectError};

/// Rows per strip of the in-memory per-pixel stage: small enough that a strip's six bands stay
/// in cache, large enough that rayon's overhead does not show.
pub const STRIP_ROWS: usize = 32;

/// Runs the whole VIIRS 375 m algorithm on a scene, in parallel on the current rayon pool.
pub fn detect_viirs(
    input: &ViirsInput,
    m: &SensorModel,
    area: &PixelArea,
) -> Result<Detection, DetectError> {
    check_shapes(input)?;
    let (rows, cols) = input.dim();
    let mut mask = Array2::<u8>::zeros((rows, cols));
    let mut state = Array2::<u8>::zeros((rows, cols));
    let params = PixelParams::new(m);
    let strips: Vec<StripOut> = mask
        .axis_chunks_iter_mut(Axis(0), STRIP_ROWS)
        .into_par_iter()
        .zip(
            state
                .axis_chunks_iter_mut(Axis(0), STRIP_ROWS)
                .into_par_iter(),
        )
        .enumerate()
        .map(|(k, (mask, state))| {
            let r0 = k * STRIP_ROWS;
            let strip = input.rows(r0, r0 + mask.nrows());
            classify_strip(&strip, r0, &params, mask, state)
        })
        .collect();
    detect_classified(
        Classified {
            i4: input.i4,
            i5: input.i5,
            mask,
            state,
            strips,
        },
        m,
        area,
    )
}

/// A scene after the per-pixel stage: the full BT4 and BT5 rasters, the stage-1 mask and bits,
/// and the strips' pending pixels in row order. Everything the later stages need.
#[derive(Debug)]
pub struct Classified<'a> {
    pub i4: ArrayView2<'a, f32>,
    pub i5: ArrayView2<'a, f32>,
    pub mask: Array2<u8>,
    pub state: Array2<u8>,
    /// Stage-1 results of consecutive strips, top to bottom.
    pub strips: Vec<StripOut>,
}

/// Runs the median and contextual stages and finishes the detection.
pub fn detect_classified(
    k: Classified,
    m: &SensorModel,
    area: &PixelArea,
) -> Result<Detection, DetectError> {
    let want = k.i4.dim();
    for (band, got) in [
        ("I5", k.i5.dim()),
        ("mask", k.mask.dim()),
        ("state", k.state.dim()),
    ] {
        if got != want {
            return Err(DetectError::Shape {
                band: band.into(),
                got,
                want,
            });
        }
    }
    // Contiguous bands (a copy only for views of another layout, as some tests pass), so the
    // windows below read plain slices.
    let (i4, i5) = (k.i4.as_standard_layout(), k.i5.as_standard_layout());
    let (i4, i5, state) = (i4.view(), i5.view(), &k.state);
    let mut classes = [0u64; 10];
    let (mut day, mut night) = (0, 0);
    for s in &k.strips {
        for (total, n) in classes.iter_mut().zip(s.classes) {
            *total += n;
        }
        day += s.day;
        night += s.night;
    }

    // Stage 2: the 501×501 median decides the day pixels with 325 < BT4 ≤ 330.
    let promoted = median::above_median(
        i4,
        state,
        k.strips
            .iter()
            .flat_map(|s| s.median.iter().map(Pending::at))
            .collect(),
        m.candidate.median_window / 2,
        m.candidate.day_bt4s_min_k,
        m.candidate.day_bt4s_max_k,
    );
    // The candidates in row-major order: each strip's own, merged with its pixels the median
    // promoted (all three lists are row-major already).
    let mut promoted = promoted.into_iter().peekable();
    let total: usize = k.strips.iter().map(|s| s.candidates.len()).sum();
    let mut candidates = Vec::with_capacity(total + promoted.len());
    for s in k.strips {
        let mut own = s.candidates.into_iter().peekable();
        let mut more = s
            .median
            .into_iter()
            .filter(|p| {
                let hit = promoted.peek() == Some(&p.at());
                if hit {
                    promoted.next();
                }
                hit
            })
            .peekable();
        loop {
            let next = match (own.peek(), more.peek()) {
                (Some(a), Some(b)) if a.at() < b.at() => own.next(),
                (Some(_), Some(_)) | (None, Some(_)) => more.next(),
                (Some(_), None) => own.next(),
                (None, None) => break,
            };
            candidates.extend(next);
        }
    }

    // Stage 3: contextual tests around each candidate.
    let outcomes: Vec<Outcome> = candidates
        .into_par_iter()
        .map_init(WindowAcc::default, |acc, pd| {
            let (r, c) = pd.at();
            Outcome {
                r,
                c,
                p: pd.p,
                decision: contextual(i4, i5, state, &pd, m, acc),
            }
        })
        .collect();

    Ok(finish(i4, m, area, k.mask, outcomes, classes, (day, night)))
}

/// Sums over the valid background of a window (core excluded), in row-major order.
#[derive(Debug, Default)]
struct Sums {
    valid: usize,
    total: usize,
    bt4: f64,
    dt: f64,
}

impl Sums {
    /// The means as [`WindowAcc::finish`] computes them (f64 sums in row-major order).
    fn means(&self) -> (f32, f32) {
        let n = self.valid as f64;
        ((self.bt4 / n) as f32, (self.dt / n) as f32)
    }
}

/// The contextual decision for one candidate.
fn contextual(
    i4: ArrayView2<f32>,
    i5: ArrayView2<f32>,
    state: &Array2<u8>,
    pd: &Pending,
    m: &SensorModel,
    acc: &mut WindowAcc,
) -> Decision {
    let (r, c) = pd.at();
    let (day, fixed) = (pd.bits & bits::DAY != 0, pd.bits & bits::FIXED != 0);
    let ctx = &m.context;
    let core = ctx.core_exclusion / 2;
    // The smallest window; it never lies inside the core.
    let h_min = (ctx.window_min / 2).max(core);
    let mut sums = window_sums(i4, i5, state, r, c, h_min, core);
    let h = if window_is_enough(sums.valid, sums.total, m) {
        h_min
    } else {
        match grow_window(state, r, c, h_min, sums.valid, sums.total, m) {
            Some(h) => {
                sums = window_sums(i4, i5, state, r, c, h, core);
                h
            }
            None => return decide(&pd.p, day, fixed, None, pd.glint_deg, m),
        }
    };
    let (mean4, mean_dt) = sums.means();
    if !fixed && fails_on_means(&pd.p, day, mean4, mean_dt, m) {
        return Decision {
            class: MaskClass::Land,
            background_bt4_k: mean4,
            glint_deg: pd.glint_deg,
        };
    }
    let (rows, cols) = state.dim();
    acc.clear();
    for rr in r.saturating_sub(h)..=(r + h).min(rows - 1) {
        let (srow, l4, l5) = (state.row(rr), i4.row(rr), i5.row(rr));
        let core_row = rr.abs_diff(r) <= core;
        for cc in c.saturating_sub(h)..=(c + h).min(cols - 1) {
            if core_row && cc.abs_diff(c) <= core {
                continue;
            }
            let s = srow[cc];
            if s & bits::VALID_BG != 0 {
                acc.push_valid(l4[cc], l5[cc]);
            } else if s & bits::BG_FIRE != 0 {
                acc.push_fire(l4[cc]);
            }
        }
    }
    let bg = acc.finish(2 * h + 1);
    decide(&pd.p, day, fixed, Some(&bg), pd.glint_deg, m)
}

/// Valid and in-image counts and the BT4 and ΔT45 sums of the window of half-side `h` around
/// (r, c), the core square of half-side `core` excluded: one pass over plain row slices (ndarray
/// row views and indexing cost as much as the sums, ≈530 k windows per day granule), no copies.
fn window_sums(
    i4: ArrayView2<f32>,
    i5: ArrayView2<f32>,
    state: &Array2<u8>,
    r: usize,
    c: usize,
    h: usize,
    core: usize,
) -> Sums {
    let (rows, cols) = state.dim();
    let (c0, c1) = (c.saturating_sub(h), (c + h).min(cols - 1));
    let contiguous = "detect_classified makes the bands contiguous";
    let st = state.as_slice().expect("the state is standard layout");
    let (b4, b5) = (
        i4.as_slice().expect(contiguous),
        i5.as_slice().expect(contiguous),
    );
    let (mut valid, mut total, mut bt4, mut dt) = (0usize, 0usize, 0f64, 0f64);
    for rr in r.saturating_sub(h)..=(r + h).min(rows - 1) {
        let line = rr * cols;
        let (srow, l4, l5) = (
            &st[line + c0..=line + c1],
            &b4[line + c0..=line + c1],
            &b5[line + c0..=line + c1],
        );
        let core_row = rr.abs_diff(r) <= core;
        for (k, ((&s, &a), &b)) in srow.iter().zip(l4).zip(l5).enumerate() {
            if core_row && (c0 + k).abs_diff(c) <= core {
                continue;
            }
            total += 1;
            if s & bits::VALID_BG != 0 {
                valid += 1;
                bt4 += a as f64;
                dt += (a - b) as f64;
            }
        }
    }
    Sums {
        valid,
        total,
        bt4,
        dt,
    }
}

/// Grows the window of candidate (r, c) from half-side `h` (with `valid` of `total` in-image
/// pixels valid) ring by ring, by 2 pixels of side each step, until it holds enough valid
/// background; None when even the largest window does not.
fn grow_window(
    state: &Array2<u8>,
    r: usize,
    c: usize,
    mut h: usize,
    mut valid: usize,
    mut total: usize,
    m: &SensorModel,
) -> Option<usize> {
    let (rows, cols) = state.dim();
    // Valid-background and in-image counts of the square ring at distance h, by plain loops
    // over its clipped top and bottom rows and left and right columns.
    let ring = |h: usize| -> (usize, usize) {
        let (c0, c1) = (c.saturating_sub(h), (c + h).min(cols - 1));
        let (mut valid, mut total) = (0, 0);
        for rr in [r.checked_sub(h), Some(r + h).filter(|&v| v < rows)]
            .into_iter()
            .flatten()
        {
            let line = state.row(rr);
            for cc in c0..=c1 {
                valid += (line[cc] & bits::VALID_BG != 0) as usize;
            }
            total += c1 - c0 + 1;
        }
        let (r0, r1) = (r.saturating_sub(h - 1), (r + h - 1).min(rows - 1));
        for cc in [c.checked_sub(h), Some(c + h).filter(|&v| v < cols)]
            .into_iter()
            .flatten()
        {
            for rr in r0..=r1 {
                valid += (state[[rr, cc]] & bits::VALID_BG != 0) as usize;
            }
            total += r1 - r0 + 1;
        }
        (valid, total)
    };
    loop {
        if 2 * h + 1 >= m.context.window_max {
            return None;
        }
        h += 1;
        let (v, t) = ring(h);
        valid += v;
        total += t;
        if window_is_enough(valid, total, m) {
            return Some(h);
        }
    }
}
