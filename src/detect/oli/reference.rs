//! The sequential reference of the OLI detector: every pixel in turn, every candidate's window
//! pixel by pixel, written for reading rather than speed. The fast detector must equal it
//! exactly (`equivalence_tests.rs`).

use super::context::{decide, is_background, window_bounds, Sums};
use super::finish::finish;
use super::pixel::{classify_day, classify_night, ratio};
use super::{OliDetection, OliInput};
use crate::detect::{stage_raster, DetectError};
use crate::model::oli::OliModel;

/// Detects fires in `input` one pixel at a time.
pub fn detect_oli_reference(input: &OliInput, m: &OliModel) -> Result<OliDetection, DetectError> {
    let (rows, cols) = input.dim();
    let mut mask = stage_raster("mask", (rows, cols))?;
    let mut fires = Vec::new();
    let mut candidates = Vec::new();
    {
        let mut v = mask.view_mut();
        for r in 0..rows {
            for c in 0..cols {
                let cloud = input.cloud.is_some_and(|a| a[[r, c]] != 0);
                let water = input.water.is_some_and(|a| a[[r, c]] != 0);
                let s = if input.day {
                    classify_day(&input.at(r, c), cloud, water, m)
                } else {
                    classify_night(input.rho[6][[r, c]], cloud, water, m)
                };
                v[[r, c]] = s.class as u8;
                if let Some(t) = s.fire {
                    fires.push((r, c, t));
                }
                if s.candidate {
                    candidates.push((r, c));
                }
            }
        }
    }
    let v = mask.view();
    let (rho5, rho7) = (input.rho[4], input.rho[6]);
    let mut decisions = Vec::with_capacity(candidates.len());
    for (r, c) in candidates {
        let (rr, cc) = window_bounds((r, c), (rows, cols), m);
        let mut sums = Sums::default();
        for i in rr {
            for j in cc.clone() {
                if (i, j) == (r, c) {
                    continue;
                }
                let (r5, r7) = (rho5[[i, j]], rho7[[i, j]]);
                if is_background(v[[i, j]], r5, r7, m) {
                    sums.add(ratio(r7, r5), r7);
                }
            }
        }
        decisions.push((r, c, decide(rho5[[r, c]], rho7[[r, c]], &sums, m)));
    }
    Ok(finish(input, m, mask, fires, decisions))
}
