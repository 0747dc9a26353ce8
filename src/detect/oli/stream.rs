//! The OLI detector fed block by block while a product is being read (`scan::scan_landsat_product`):
//! the per-pixel stage runs on each block while its reflectances are fresh in cache, and only
//! what the later stages need is kept whole: the stage-1 mask, ρ5 and ρ7 (the 61 × 61 windows
//! read them), and ρ6 of the few fires and candidates (the fire list reports it). A full scene's
//! seven bands are never held as reflectances: that was half the time of a scan.
//!
//! The stages are the fast detector's own (`pixel::classify_day`/`classify_night`,
//! [`super::fast::confirm`], [`super::finish::finish_with`]), so the result equals
//! [`super::detect_oli`] on the same bands in memory (`tests/scan_landsat.rs`).

use std::borrow::Cow;
use std::collections::HashMap;

use super::fast::contiguous;
use super::finish::{finish_with, Found};
use super::pixel::{classify_row, flagged, Row};
use super::{OliDetection, OliInput};
use crate::model::oli::OliModel;
use crate::raster::BandBuf;

/// One strip of rows of the streamed per-pixel stage: its rows of the kept rasters, and what
/// its blocks found.
#[derive(Debug)]
pub struct StripOut<'a> {
    /// First row of the strip in the scene.
    pub r0: usize,
    /// Columns of the scene.
    pub cols: usize,
    /// The strip's rows of the stage-1 mask, ρ5 and ρ7 (`rows × cols`, row-major).
    pub mask: &'a mut [u8],
    pub rho5: &'a mut [f32],
    pub rho7: &'a mut [f32],
    /// Fires of the per-pixel stage, (row, col, test), in the order found.
    pub fires: Vec<Found>,
    /// Candidates waiting for their window, (row, col).
    pub candidates: Vec<(usize, usize)>,
    /// ρ6 of every fire and candidate of the strip.
    pub rho6: Vec<((usize, usize), f32)>,
}

/// Cuts the kept rasters (`rows × cols` each) into strips of `strip_rows` rows, one
/// [`StripOut`] per strip.
pub fn strips<'a>(
    mask: &'a mut [u8],
    rho5: &'a mut [f32],
    rho7: &'a mut [f32],
    cols: usize,
    strip_rows: usize,
) -> Vec<StripOut<'a>> {
    let n = (strip_rows * cols).max(1);
    mask.chunks_mut(n)
        .zip(rho5.chunks_mut(n))
        .zip(rho7.chunks_mut(n))
        .enumerate()
        .map(|(i, ((mask, rho5), rho7))| StripOut {
            r0: i * strip_rows,
            cols,
            mask,
            rho5,
            rho7,
            fires: Vec::new(),
            candidates: Vec::new(),
            rho6: Vec::new(),
        })
        .collect()
}

/// The per-pixel stage on one block: `input` holds the block's bands (views of one shape),
/// `(r0, c0)` is its top-left pixel in the scene, inside `out`'s strip.
pub fn classify_block(
    out: &mut StripOut,
    input: &OliInput,
    (r0, c0): (usize, usize),
    m: &OliModel,
) {
    let (rows, cols) = input.dim();
    let rho: Vec<Cow<[f32]>> = input.rho.iter().map(contiguous).collect();
    let cloud = input.cloud.as_ref().map(contiguous);
    let water = input.water.as_ref().map(contiguous);
    let zeros = vec![0u8; cols];
    let mut flags = vec![0u8; cols];
    for i in 0..rows {
        let r = r0 + i;
        let at0 = (r - out.r0) * out.cols + c0;
        let span = i * cols..(i + 1) * cols;
        let kept = at0..at0 + cols;
        out.rho5[kept.clone()].copy_from_slice(&rho[4][span.clone()]);
        out.rho7[kept.clone()].copy_from_slice(&rho[6][span.clone()]);
        let row = Row {
            rho: std::array::from_fn(|b| &rho[b][span.clone()]),
            cloud: cloud.as_ref().map_or(&zeros[..], |a| &a[span.clone()]),
            water: water.as_ref().map_or(&zeros[..], |a| &a[span.clone()]),
            class: &mut out.mask[kept],
            flags: &mut flags,
        };
        if classify_row(row, input.day, m) {
            let rho6 = &rho[5][span];
            flagged(&flags, |j, test| {
                match test {
                    Some(t) => out.fires.push((r, c0 + j, t)),
                    None => out.candidates.push((r, c0 + j)),
                }
                out.rho6.push(((r, c0 + j), rho6[j]));
            });
        }
    }
}

/// What the strips' per-pixel stage found, gathered (the strips' borrows of the kept rasters
/// end here).
#[derive(Debug, Default)]
pub struct Found1 {
    pub fires: Vec<Found>,
    /// In row-major order.
    pub candidates: Vec<(usize, usize)>,
    pub rho6: HashMap<(usize, usize), f32>,
}

/// Gathers the strips' findings.
pub fn gather(outs: Vec<StripOut>) -> Found1 {
    let mut f = Found1::default();
    for o in outs {
        f.fires.extend(o.fires);
        f.candidates.extend(o.candidates);
        f.rho6.extend(o.rho6);
    }
    // Blocks of a strip were visited left to right: back to row-major order, as the fast
    // detector lists them (finish sorts the fires; the candidates' order decides nothing but
    // is kept the same).
    f.candidates.sort_unstable();
    f
}

/// Stage 2 (every candidate's window) and the finish, once every block of every strip was
/// classified: `mask`, `rho5`, `rho7` are the rasters the strips were cut from.
pub fn detect_streamed(
    found: Found1,
    mask: BandBuf<u8>,
    rho5: &[f32],
    rho7: &[f32],
    day: bool,
    m: &OliModel,
) -> OliDetection {
    let (rows, cols) = mask.shape();
    let Found1 {
        fires,
        candidates,
        rho6,
    } = found;
    let decisions = super::fast::confirm(mask.as_slice(), rho5, rho7, (rows, cols), &candidates, m);
    finish_with(day, m, mask, fires, decisions, |r, c| {
        let at = r * cols + c;
        [
            rho5[at],
            rho6.get(&(r, c)).copied().unwrap_or(f32::NAN),
            rho7[at],
        ]
    })
}
