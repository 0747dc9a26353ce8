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
use super::median;
use super::pixel::{bits, classify, glint_angle_deg, PixelParams, Px};
use super::types::{Detection, MaskClass, PixelArea, ViirsInput};
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
    let params = PixelParams::new(m);
    let per_row: Vec<(Vec<u32>, Vec<u32>, u64, u64)> = mask
        .axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(state.axis_iter_mut(Axis(0)).into_par_iter())
        .enumerate()
        .map(|(r, (mut mrow, mut srow))| {
            let (i1, i2, i3) = (row(input.i1, r), row(input.i2, r), row(input.i3, r));
            let (i4, i5, sza) = (row(input.i4, r), row(input.i5, r), row(input.sza, r));
            let (mrow, srow) = (
                mrow.as_slice_mut().expect("owned row"),
                srow.as_slice_mut().expect("owned row"),
            );
            let (mut cand, mut median) = (Vec::new(), Vec::new());
            let (mut day, mut night) = (0u64, 0u64);
            for c in 0..cols {
                let p = Px {
                    r1: i1[c],
                    r2: i2[c],
                    r3: i3[c],
                    bt4: i4[c],
                    bt5: i5[c],
                    sza: sza[c],
                };
                let pc = classify(&p, &params);
                mrow[c] = pc.class as u8;
                srow[c] = pc.bits;
                if pc.class as u8 > MaskClass::Fill as u8 {
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
    let promoted = median::above_median(
        input.i4,
        &state,
        needs_median,
        m.candidate.median_window / 2,
        m.candidate.day_bt4s_min_k,
        m.candidate.day_bt4s_max_k,
    );

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
    let core = ctx.core_exclusion / 2;
    // Valid-background and in-image counts of the square ring at distance h, by plain loops
    // over its clipped top and bottom rows and left and right columns.
    let valid_at = |rr: usize, cc: usize| (state[[rr, cc]] & bits::VALID_BG != 0) as usize;
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
                valid += valid_at(rr, cc);
            }
            total += r1 - r0 + 1;
        }
        (valid, total)
    };
    let (mut valid, mut total) = (0usize, 0usize);
    let h_min = ctx.window_min / 2;
    let mut h = core;
    loop {
        while h < h_min {
            h += 1;
            let (v, t) = ring(h);
            valid += v;
            total += t;
        }
        if window_is_enough(valid, total, m) {
            break;
        }
        if 2 * h + 1 >= ctx.window_max {
            return None;
        }
        h += 1;
        let (v, t) = ring(h);
        valid += v;
        total += t;
    }
    acc.clear();
    for rr in r.saturating_sub(h)..=(r + h).min(rows - 1) {
        let (srow, i4, i5) = (state.row(rr), row(input.i4, rr), row(input.i5, rr));
        let core_row = rr.abs_diff(r) <= core;
        for cc in c.saturating_sub(h)..=(c + h).min(cols - 1) {
            if core_row && cc.abs_diff(c) <= core {
                continue;
            }
            let s = srow[cc];
            if s & bits::VALID_BG != 0 {
                acc.push_valid(i4[cc], i5[cc]);
            } else if s & bits::BG_FIRE != 0 {
                acc.push_fire(i4[cc]);
            }
        }
    }
    Some(acc.finish(2 * h + 1))
}

/// Row `r` of a band as a slice (a copy only for non-standard layouts).
#[inline]
fn row<'a>(a: ArrayView2<'a, f32>, r: usize) -> std::borrow::Cow<'a, [f32]> {
    let line = a.index_axis_move(Axis(0), r);
    match line.to_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(line.to_vec()),
    }
}
