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

/// Row `r` of a band as a slice (a copy only for non-standard layouts).
#[inline]
fn row<'a>(a: ArrayView2<'a, f32>, r: usize) -> std::borrow::Cow<'a, [f32]> {
    let line = a.index_axis_move(Axis(0), r);
    match line.to_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(line.to_vec()),
    }
}
