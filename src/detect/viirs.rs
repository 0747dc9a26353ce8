//! The fast VIIRS 375 m detector: rayon over rows for the per-pixel stage, rayon over candidates
//! for the contextual stage.
//!
//! Where the time goes: the per-pixel stage touches every pixel once (six f32 reads, two u8
//! writes) and is memory-bound; contextual statistics run only around candidates (well under 1 %
//! of pixels), growing the window ring by ring so a candidate costs at most one 31×31 pass; the
//! 501×501 median runs only for day pixels with 325 < BT4 ≤ 330, and decides BT4 > median by
//! counting rather than sorting.

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::model::SensorModel;

use super::context::{decide, window_is_enough, Background, WindowAcc};
use super::finish::{finish, Outcomes};
use super::pixel::{bits, classify, glint_angle_deg};
use super::types::{Detection, PixelArea, ViirsInput};
use super::{check_shapes, px_at, DetectError};

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

    // Stage 1: per-pixel classification; each row reports its candidates and median pixels.
    let per_row: Vec<(Vec<u32>, Vec<u32>, u64, u64)> = mask
        .axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(state.axis_iter_mut(Axis(0)).into_par_iter())
        .enumerate()
        .map(|(r, (mut mrow, mut srow))| {
            let (mut cand, mut median) = (Vec::new(), Vec::new());
            let (mut day, mut night) = (0u64, 0u64);
            for c in 0..cols {
                let pc = classify(&px_at(input, r, c), m);
                mrow[c] = pc.class as u8;
                srow[c] = pc.bits;
                if pc.class as u8 > 1 {
                    if pc.bits & bits::DAY != 0 {
                        day += 1;
                    } else {
                        night += 1;
                    }
                }
                if pc.bits & bits::CANDIDATE != 0 {
                    cand.push(c as u32);
                } else if pc.bits & bits::NEEDS_MEDIAN != 0 {
                    median.push(c as u32);
                }
            }
            (cand, median, day, night)
        })
        .collect();
    let day_night = per_row
        .iter()
        .fold((0, 0), |(d, n), row| (d + row.2, n + row.3));

    // Stage 2: the 501×501 median decides the day pixels with 325 < BT4 ≤ 330.
    let needs_median: Vec<(usize, usize)> = per_row
        .iter()
        .enumerate()
        .flat_map(|(r, row)| row.1.iter().map(move |&c| (r, c as usize)))
        .collect();
    let half = m.candidate.median_window / 2;
    let promoted: Vec<(usize, usize)> = needs_median
        .into_par_iter()
        .filter(|&(r, c)| above_background_median(input.i4, &state, r, c, half))
        .collect();

    let mut candidates: Vec<(usize, usize)> = per_row
        .iter()
        .enumerate()
        .flat_map(|(r, row)| row.0.iter().map(move |&c| (r, c as usize)))
        .chain(promoted)
        .collect();
    candidates.sort_unstable();

    // Stage 3: contextual tests around each candidate.
    let outcomes: Outcomes = candidates
        .into_par_iter()
        .map_init(WindowAcc::default, |acc, (r, c)| {
            let p = px_at(input, r, c);
            let s = state[[r, c]];
            let bg = background(input, &state, r, c, m, acc);
            let glint = input.geometry.map_or(f32::NAN, |g| {
                glint_angle_deg(p.sza, g.vza[[r, c]], g.saa[[r, c]], g.vaa[[r, c]])
            });
            let d = decide(
                &p,
                s & bits::DAY != 0,
                s & bits::FIXED != 0,
                bg.as_ref(),
                glint,
                m,
            );
            (r, c, d)
        })
        .collect();

    finish(input, m, area, mask, outcomes, day_night)
}

/// Is BT4 at (r, c) above the median BT4 of the valid background in the (2·half+1)² window?
/// Counts values below BT4 and keeps the two values straddling it, so an even-sized window's
/// median (mean of the middle two) is decided exactly without sorting. With no valid background
/// the bound falls back to its lower end (BT4S = 325 K), leaving the decision to the context.
pub(super) fn above_background_median(
    i4: ArrayView2<f32>,
    state: &Array2<u8>,
    r: usize,
    c: usize,
    half: usize,
) -> bool {
    let (rows, cols) = i4.dim();
    let bt4 = i4[[r, c]];
    let (mut n, mut below) = (0usize, 0usize);
    let (mut max_below, mut min_above) = (f32::NEG_INFINITY, f32::INFINITY);
    for rr in r.saturating_sub(half)..=(r + half).min(rows - 1) {
        let srow = state.row(rr);
        let irow = i4.row(rr);
        for cc in c.saturating_sub(half)..=(c + half).min(cols - 1) {
            if srow[cc] & bits::VALID_BG == 0 {
                continue;
            }
            let v = irow[cc];
            n += 1;
            if v < bt4 {
                below += 1;
                max_below = max_below.max(v);
            } else {
                min_above = min_above.min(v);
            }
        }
    }
    if n == 0 {
        return true;
    }
    if n % 2 == 1 {
        below > n / 2
    } else if below > n / 2 {
        true
    } else if below < n / 2 {
        false
    } else {
        bt4 > (max_below + min_above) / 2.0
    }
}

/// The background of candidate (r, c): the smallest window from `window_min` to `window_max`
/// (growing by 2) with enough valid background, the core square excluded; None when even the
/// largest is not enough.
fn background(
    input: &ViirsInput,
    state: &Array2<u8>,
    r: usize,
    c: usize,
    m: &SensorModel,
    acc: &mut WindowAcc,
) -> Option<Background> {
    let (rows, cols) = state.dim();
    let ctx = &m.context;
    let core = (ctx.core_exclusion / 2) as isize;
    let (ri, ci) = (r as isize, c as isize);
    let inside =
        |rr: isize, cc: isize| rr >= 0 && cc >= 0 && rr < rows as isize && cc < cols as isize;
    let (mut valid, mut total) = (0usize, 0usize);
    // Count the core ring by ring up to the first window, then add one ring per step.
    let count_ring = |h: isize, valid: &mut usize, total: &mut usize| {
        for (rr, cc) in ring(ri, ci, h) {
            if inside(rr, cc) {
                *total += 1;
                if state[[rr as usize, cc as usize]] & bits::VALID_BG != 0 {
                    *valid += 1;
                }
            }
        }
    };
    let h_min = (ctx.window_min / 2) as isize;
    for h in core + 1..=h_min {
        count_ring(h, &mut valid, &mut total);
    }
    let mut h = h_min;
    loop {
        if window_is_enough(valid, total, m) {
            break;
        }
        if (2 * h + 1) as usize >= ctx.window_max {
            return None;
        }
        h += 1;
        count_ring(h, &mut valid, &mut total);
    }
    acc.clear();
    for rr in (ri - h).max(0)..=(ri + h).min(rows as isize - 1) {
        for cc in (ci - h).max(0)..=(ci + h).min(cols as isize - 1) {
            if (rr - ri).abs() <= core && (cc - ci).abs() <= core {
                continue;
            }
            let (ru, cu) = (rr as usize, cc as usize);
            let s = state[[ru, cu]];
            if s & bits::VALID_BG != 0 {
                acc.push_valid(input.i4[[ru, cu]], input.i5[[ru, cu]]);
            } else if s & bits::BG_FIRE != 0 {
                acc.push_fire(input.i4[[ru, cu]]);
            }
        }
    }
    Some(acc.finish((2 * h + 1) as usize))
}

/// The pixels at Chebyshev distance exactly `h` from (r, c).
fn ring(r: isize, c: isize, h: isize) -> impl Iterator<Item = (isize, isize)> {
    let top_bottom = (c - h..=c + h).flat_map(move |cc| [(r - h, cc), (r + h, cc)]);
    let sides = (r - h + 1..=r + h - 1).flat_map(move |rr| [(rr, c - h), (rr, c + h)]);
    top_bottom.chain(sides)
}
