//! The parallel OLI detector: the per-pixel stage over blocks of rows on the rayon pool (row
//! slices through the branch-free row kernel, `pixel::classify_row`), then every candidate's
//! 61 × 61 window on the pool.
//!
//! Why windows per candidate and not sliding sums over the whole scene: candidates are rare
//! (ρ7/ρ5 > 1.8 with ρ7 − ρ5 > 0.17 is met by hot pixels and few others), so summing 3,720
//! pixels for each costs far less than five scene-sized sum tables would (a full scene is
//! 60 million pixels), and adding in the reference's order keeps the two equal to the bit.

use ndarray::ArrayView2;
use rayon::prelude::*;

use super::context::{decide, is_background, window_bounds, Decision, Sums};
use super::finish::{finish, Found};
use super::pixel::{classify_row, flagged, ratio, Row};
use super::{OliDetection, OliInput};
use crate::detect::{stage_raster, DetectError};
use crate::model::oli::OliModel;

/// What one block of rows found: fires, and candidates waiting for their window.
type StripFound = (Vec<Found>, Vec<(usize, usize)>);

/// Rows per task of the per-pixel stage.
const STRIP_ROWS: usize = 64;

/// A view's pixels as one row-major slice (the bands of a granule are; a strided view is
/// copied once).
pub(crate) fn contiguous<'a, T: Copy>(a: &'a ArrayView2<'a, T>) -> std::borrow::Cow<'a, [T]> {
    match a.as_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(a.iter().copied().collect()),
    }
}

/// Detects fires in `input` on all threads; equal to [`super::detect_oli_reference`].
pub fn detect_oli(input: &OliInput, m: &OliModel) -> Result<OliDetection, DetectError> {
    let (rows, cols) = input.dim();
    let mut mask = stage_raster("mask", (rows, cols))?;
    if rows == 0 || cols == 0 {
        return Ok(finish(input, m, mask, Vec::new(), Vec::new()));
    }
    let rho: Vec<std::borrow::Cow<[f32]>> = input.rho.iter().map(contiguous).collect();
    let cloud = input.cloud.as_ref().map(contiguous);
    let water = input.water.as_ref().map(contiguous);
    let day = input.day;

    // Stage 1: per pixel, blocks of rows in parallel, a row at a time through the branch-free
    // row kernel (its flags say where the rare fires and candidates are).
    let per_strip: Vec<StripFound> = mask
        .as_mut_slice()
        .par_chunks_mut(STRIP_ROWS * cols)
        .enumerate()
        .map(|(s, out)| {
            let mut fires = Vec::new();
            let mut candidates = Vec::new();
            let zeros = vec![0u8; cols];
            let mut flags = vec![0u8; cols];
            for (i, class) in out.chunks_mut(cols).enumerate() {
                let r = s * STRIP_ROWS + i;
                let span = r * cols..(r + 1) * cols;
                let row = Row {
                    rho: std::array::from_fn(|b| &rho[b][span.clone()]),
                    cloud: cloud.as_ref().map_or(&zeros[..], |a| &a[span.clone()]),
                    water: water.as_ref().map_or(&zeros[..], |a| &a[span.clone()]),
                    class,
                    flags: &mut flags,
                };
                if classify_row(row, day, m) {
                    flagged(&flags, |c, test| match test {
                        Some(t) => fires.push((r, c, t)),
                        None => candidates.push((r, c)),
                    });
                }
            }
            (fires, candidates)
        })
        .collect();
    let mut fires = Vec::new();
    let mut candidates = Vec::new();
    for (f, c) in per_strip {
        fires.extend(f);
        candidates.extend(c);
    }

    // Stage 2: each candidate's window on the pool, rows as slices.
    let decisions = confirm(
        mask.as_slice(),
        &rho[4],
        &rho[6],
        (rows, cols),
        &candidates,
        m,
    );
    Ok(finish(input, m, mask, fires, decisions))
}

/// The contextual decision of every candidate on the pool: its 61 × 61 window's background
/// sums (rows as slices; added in the reference's row-major order) against its own ρ5, ρ7.
/// `classes` is the stage-1 mask, `rho5`/`rho7` the bands, all `rows × cols` row-major.
pub fn confirm(
    classes: &[u8],
    rho5: &[f32],
    rho7: &[f32],
    (rows, cols): (usize, usize),
    candidates: &[(usize, usize)],
    m: &OliModel,
) -> Vec<(usize, usize, Decision)> {
    candidates
        .par_iter()
        .with_min_len(16)
        .map(|&(r, c)| {
            let (rr, cc) = window_bounds((r, c), (rows, cols), m);
            let mut sums = Sums::default();
            for i in rr {
                let row = i * cols;
                let span = row + cc.start..row + cc.end;
                let (k, r5, r7) = (&classes[span.clone()], &rho5[span.clone()], &rho7[span]);
                for j in 0..k.len() {
                    if i == r && cc.start + j == c {
                        continue;
                    }
                    if is_background(k[j], r5[j], r7[j], m) {
                        sums.add(ratio(r7[j], r5[j]), r7[j]);
                    }
                }
            }
            let at = r * cols + c;
            (r, c, decide(rho5[at], rho7[at], &sums, m))
        })
        .collect()
}
