//! The fast VIIRS 375 m detector: rayon over strips of rows, for the per-pixel stage and again
//! for the contextual stage.
//!
//! Where the time goes: the per-pixel stage touches every pixel once (six f32 reads, two u8
//! writes) and is memory-bound, so it runs strip by strip ([`classify_strip`]), where the scan
//! can fuse it with reading the strip; the 501×501 median runs only for day pixels with
//! 325 < BT4 ≤ 330 and decides BT4 > median by counting rather than sorting (`median.rs`);
//! contextual statistics run only around candidates: the 11×11 window's valid count and means
//! already reject most candidates ([`fails_on_means`]), and candidates close together on a row
//! read them from shared column sums slid down the strip (`window.rs`); the
//! deviations are computed only for the rest, and the window grows ring by ring only where
//! 11×11 holds too little valid background.

use ndarray::{ArrayView2, Axis};
use rayon::prelude::*;

use crate::model::SensorModel;
use crate::raster::BandBuf;

use super::context::{decide, fails_on_means, window_is_enough, Decision, WindowAcc};
use super::finish::{finish, Outcome};
use super::median;
use super::pixel::{bits, PixelParams};
use super::strip::{classify_strip, Pending, StripOut};
use super::types::{Detection, MaskClass, PixelArea, ViirsInput};
use super::window::{window_sums, ColumnSums, Planes, Sums};
use super::{check_shapes, stage_raster, DetectError};

/// Rows per strip of the in-memory per-pixel stage: small enough that a strip's six bands stay
/// in cache, large enough that rayon's overhead does not show.
pub const STRIP_ROWS: usize = 32;

/// Rows of candidates per task of the contextual stage.
const CONTEXT_ROWS: u32 = 32;

/// Runs the whole VIIRS 375 m algorithm on a scene, in parallel on the current rayon pool.
pub fn detect_viirs(
    input: &ViirsInput,
    m: &SensorModel,
    area: &PixelArea,
) -> Result<Detection, DetectError> {
    check_shapes(input)?;
    let (rows, cols) = input.dim();
    let mut mask = stage_raster("mask", (rows, cols))?;
    let mut state = stage_raster("state", (rows, cols))?;
    let params = PixelParams::new(m);
    let strips: Vec<StripOut> = mask
        .view_mut()
        .axis_chunks_iter_mut(Axis(0), STRIP_ROWS)
        .into_par_iter()
        .zip(
            state
                .view_mut()
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
    /// The stage-1 classes and bits, on 2 MiB pages ([`BandBuf`]): the later stages read them
    /// at scattered places, where 4 KiB pages would cost a TLB miss each.
    pub mask: BandBuf<u8>,
    pub state: BandBuf<u8>,
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
        ("mask", k.mask.shape()),
        ("state", k.state.shape()),
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
    let (i4, i5, state) = (i4.view(), i5.view(), k.state.view());
    let mut classes = [0u64; 10];
    let (mut day, mut night) = (0, 0);
    for s in &k.strips {
        for (total, n) in classes.iter_mut().zip(s.classes) {
            *total += n;
        }
        day += s.day;
        night += s.night;
    }

    // Stage 2: the 501×501 median decides the day pixels with 325 < BT4 ≤ 330: from tile
    // counts where they settle it, strip by strip; by exact counts for the rest.
    let test = k.strips.iter().any(|s| !s.median.is_empty()).then(|| {
        // Stage 1 counted the tiles of its day strips; the rest are counted now.
        let parts = k
            .strips
            .iter()
            .map(|s| (s.rows.clone(), s.tiles.as_ref()))
            .collect();
        median::MedianTest::new(
            i4,
            state,
            m.candidate.median_window / 2,
            (m.candidate.day_bt4s_min_k, m.candidate.day_bt4s_max_k),
            parts,
        )
    });
    let quick: Vec<Vec<Option<bool>>> = k
        .strips
        .par_iter()
        .map(|s| match &test {
            Some(t) => s
                .median
                .iter()
                .map(|p| t.quick(p.at().0, p.at().1))
                .collect(),
            None => Vec::new(),
        })
        .collect();
    let open: Vec<(usize, usize)> = k
        .strips
        .iter()
        .zip(&quick)
        .flat_map(|(s, q)| s.median.iter().zip(q).filter(|(_, d)| d.is_none()))
        .map(|(p, _)| p.at())
        .collect();
    let exact = match &test {
        Some(t) if !open.is_empty() => t.exact(open),
        _ => Vec::new(),
    };

    // Stage 3: contextual tests around each candidate. Only the candidates not decided clear
    // land go on (`finish` needs no others).
    let planes = Planes {
        i4: i4.as_slice().expect("contiguous above"),
        i5: i5.as_slice().expect("contiguous above"),
        state: k.state.as_slice(),
        rows: want.0,
        cols: want.1,
    };
    let merged: Vec<Vec<&Pending>> = k
        .strips
        .par_iter()
        .zip(&quick)
        .map(|(s, q)| {
            let promoted = s
                .median
                .iter()
                .zip(q)
                .filter(|(p, d)| d.unwrap_or_else(|| exact.binary_search(&p.at()).is_ok()))
                .map(|(p, _)| p);
            strip_candidates(&s.candidates, promoted)
        })
        .collect();
    // Tasks of a few rows each, so the two threads share the work however the candidates
    // cluster (a scan's strips are as tall as the file's blocks, often 256 rows).
    let tasks: Vec<&[&Pending]> = merged
        .iter()
        .flat_map(|c| c.chunk_by(|a, b| a.r / CONTEXT_ROWS == b.r / CONTEXT_ROWS))
        .collect();
    let outcomes: Vec<Outcome> = tasks
        .into_par_iter()
        .map_init(Scratch::default, |scratch, rows| {
            decide_rows(&planes, rows, m, scratch)
        })
        .flatten_iter()
        .collect();

    Ok(finish(i4, m, area, k.mask, outcomes, classes, (day, night)))
}

/// Per-thread buffers of the contextual stage.
#[derive(Debug, Default)]
struct Scratch {
    acc: WindowAcc,
    columns: ColumnSums,
}

/// One strip's candidates in row-major order: its own, merged with its pixels the median
/// promoted (both row-major).
fn strip_candidates<'a>(
    own: &'a [Pending],
    promoted: impl Iterator<Item = &'a Pending>,
) -> Vec<&'a Pending> {
    let mut more = promoted.peekable();
    let mut own = own.iter().peekable();
    let mut candidates = Vec::with_capacity(own.len());
    loop {
        let next = match (own.peek(), more.peek()) {
            (Some(a), Some(b)) if a.at() < b.at() => own.next(),
            (Some(_), Some(_)) | (None, Some(_)) => more.next(),
            (Some(_), None) => own.next(),
            (None, None) => break,
        };
        candidates.extend(next);
    }
    candidates
}

/// The contextual decisions of candidates (row-major), but for those decided clear land.
/// Candidates close together on a row share their first window's column sums
/// ([`ColumnSums`]), slid down from row to row.
fn decide_rows(
    p: &Planes,
    candidates: &[&Pending],
    m: &SensorModel,
    scratch: &mut Scratch,
) -> Vec<Outcome> {
    let ctx = &m.context;
    let core = ctx.core_exclusion / 2;
    // The smallest window; it never lies inside the core.
    let h = (ctx.window_min / 2).max(core);
    let mut out = Vec::new();
    for line in candidates.chunk_by(|a, b| a.r == b.r) {
        // Runs whose windows overlap or touch share one fill.
        for run in line.chunk_by(|a, b| (b.c - a.c) as usize <= 2 * h + 1) {
            let (first, last) = (run[0].at(), run[run.len() - 1].at());
            let span = (first.1.saturating_sub(h), (last.1 + h).min(p.cols - 1));
            let exact = scratch.columns.fill(p, first.0, span, h);
            for &pd in run {
                let (r, c) = pd.at();
                let sums = if exact {
                    scratch.columns.window(p, r, c, h, core)
                } else {
                    window_sums(p, r, c, h, core)
                };
                let decision = contextual(p, pd, sums, m, &mut scratch.acc);
                if decision.class != MaskClass::Land {
                    out.push(Outcome {
                        r,
                        c,
                        p: pd.p,
                        decision,
                    });
                }
            }
        }
    }
    out
}

/// The contextual decision for one candidate, given the sums of its smallest window.
fn contextual(
    p: &Planes,
    pd: &Pending,
    first: Sums,
    m: &SensorModel,
    acc: &mut WindowAcc,
) -> Decision {
    let (r, c) = pd.at();
    let (day, fixed) = (pd.bits & bits::DAY != 0, pd.bits & bits::FIXED != 0);
    let ctx = &m.context;
    let core = ctx.core_exclusion / 2;
    let h_min = (ctx.window_min / 2).max(core);
    let mut sums = first;
    let h = if window_is_enough(sums.valid, sums.total, m) {
        h_min
    } else {
        match grow_window(p, r, c, h_min, sums.valid, sums.total, m) {
            Some(h) => {
                sums = window_sums(p, r, c, h, core);
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
    acc.clear();
    for rr in r.saturating_sub(h)..=(r + h).min(p.rows - 1) {
        let line = rr * p.cols;
        let core_row = rr.abs_diff(r) <= core;
        for cc in c.saturating_sub(h)..=(c + h).min(p.cols - 1) {
            if core_row && cc.abs_diff(c) <= core {
                continue;
            }
            let (s, i) = (p.state[line + cc], line + cc);
            if s & bits::VALID_BG != 0 {
                acc.push_valid(p.i4[i], p.i5[i]);
            } else if s & bits::BG_FIRE != 0 {
                acc.push_fire(p.i4[i]);
            }
        }
    }
    let bg = acc.finish(2 * h + 1);
    decide(&pd.p, day, fixed, Some(&bg), pd.glint_deg, m)
}

/// Grows the window of candidate (r, c) from half-side `h` (with `valid` of `total` in-image
/// pixels valid) ring by ring, by 2 pixels of side each step, until it holds enough valid
/// background; None when even the largest window does not.
fn grow_window(
    p: &Planes,
    r: usize,
    c: usize,
    mut h: usize,
    mut valid: usize,
    mut total: usize,
    m: &SensorModel,
) -> Option<usize> {
    let (rows, cols) = (p.rows, p.cols);
    let valid_at = |rr: usize, cc: usize| (p.state[rr * cols + cc] & bits::VALID_BG != 0) as usize;
    // Valid-background and in-image counts of the square ring at distance h, by plain loops
    // over its clipped top and bottom rows and left and right columns.
    let ring = |h: usize| -> (usize, usize) {
        let (c0, c1) = (c.saturating_sub(h), (c + h).min(cols - 1));
        let (mut valid, mut total) = (0, 0);
        for rr in [r.checked_sub(h), Some(r + h).filter(|&v| v < rows)]
            .into_iter()
            .flatten()
        {
            for cc in c0..=c1 {
                valid += valid_at(rr, cc);
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
