//! The last stage, shared by the fast detector and the reference: each potential fire's outcome
//! written into the mask, the fire list in row-major order and the observation summary.

use rayon::prelude::*;

use super::context::{Candidate, Outcome};
use super::pixel::flag;
use super::{ModisDetection, ModisFire};
use crate::detect::{MaskClass, ObservationSummary};
use crate::raster::BandBuf;

/// Writes the outcomes into `mask` (stage-1 classes) and lists the fires; `flags` are the
/// stage-1 flags (for the day/night counts). `decisions` in any order.
pub fn finish(
    mut mask: BandBuf<u8>,
    flags: &[u8],
    mut decisions: Vec<(Candidate, Outcome)>,
) -> ModisDetection {
    decisions.sort_unstable_by_key(|(k, _)| (k.row, k.col));
    let cols = mask.shape().1;
    let mut fires = Vec::new();
    {
        let m = mask.as_mut_slice();
        for (k, outcome) in decisions {
            let at = k.row * cols + k.col;
            match outcome {
                Outcome::NotFire | Outcome::Rejected(_) => {}
                Outcome::Unknown => m[at] = MaskClass::Unknown as u8,
                Outcome::Fire {
                    test,
                    class,
                    confidence,
                    frp_mw,
                    background_t4_k,
                    side,
                } => {
                    m[at] = class as u8;
                    fires.push(ModisFire {
                        row: k.row,
                        col: k.col,
                        t4_k: k.t4,
                        t11_k: k.t11,
                        b21_used: k.flags & flag::B21 != 0,
                        background_t4_k: background_t4_k as f32,
                        frp_mw,
                        confidence,
                        class,
                        test,
                        day: k.flags & flag::DAY != 0,
                        window: side,
                    });
                }
            }
        }
    }
    let summary = summarize(&mask, flags);
    ModisDetection {
        mask,
        fires,
        summary,
    }
}

/// Pixels per class, and processed pixels by day and by night.
pub fn summarize(mask: &BandBuf<u8>, flags: &[u8]) -> ObservationSummary {
    let (counts, day, night) = mask
        .as_slice()
        .par_chunks(1 << 16)
        .zip(flags.par_chunks(1 << 16))
        .map(|(part, fl)| {
            let mut c = [0u64; 10];
            let (mut d, mut n) = (0u64, 0u64);
            for (&k, &f) in part.iter().zip(fl) {
                c[(k as usize).min(9)] += 1;
                if k != MaskClass::NotProcessed as u8 {
                    if f & flag::DAY != 0 {
                        d += 1;
                    } else {
                        n += 1;
                    }
                }
            }
            (c, d, n)
        })
        .reduce(
            || ([0u64; 10], 0, 0),
            |(mut a, d1, n1), (b, d2, n2)| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                (a, d1 + d2, n1 + n2)
            },
        );
    ObservationSummary::from_counts(counts, day, night)
}
