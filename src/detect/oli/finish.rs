//! The last stage, shared by the fast detector and the reference: the contextual outcomes
//! written into the mask, confidence (which needs each fire's neighbours), the fire list in
//! row-major order and the observation summary.

use super::context::Decision;
use super::{FireTest, OliDetection, OliFire, OliInput};
use crate::detect::{MaskClass, ObservationSummary};
use crate::hotspot::Confidence;
use crate::model::oli::OliModel;
use crate::raster::BandBuf;

/// A fire found by the per-pixel stage or a candidate's decision, at (row, col).
pub type Found = (usize, usize, FireTest);

/// Writes each candidate's decision into `mask` (stage-1 classes), then lists the fires with
/// their confidence and counts the classes. `decisions` and `stage1_fires` in any order.
pub fn finish(
    input: &OliInput,
    m: &OliModel,
    mask: BandBuf<u8>,
    stage1_fires: Vec<Found>,
    decisions: Vec<(usize, usize, Decision)>,
) -> OliDetection {
    finish_with(input.day, m, mask, stage1_fires, decisions, |r, c| {
        let p = input.at(r, c);
        [p[4], p[5], p[6]]
    })
}

/// [`finish`] for a detector that does not hold every band whole (the streamed scan): `rho567`
/// gives ρ5, ρ6, ρ7 of a fire pixel.
pub fn finish_with(
    day: bool,
    m: &OliModel,
    mut mask: BandBuf<u8>,
    stage1_fires: Vec<Found>,
    decisions: Vec<(usize, usize, Decision)>,
    rho567: impl Fn(usize, usize) -> [f32; 3],
) -> OliDetection {
    let mut found = stage1_fires;
    {
        let mut v = mask.view_mut();
        for &(r, c, d) in &decisions {
            match d {
                Decision::Fire => {
                    v[[r, c]] = MaskClass::FireNominal as u8;
                    found.push((r, c, FireTest::Contextual));
                }
                Decision::Unknown => v[[r, c]] = MaskClass::Unknown as u8,
                Decision::NotFire => {}
            }
        }
    }
    found.sort_unstable_by_key(|&(r, c, _)| (r, c));
    let (rows, cols) = mask.shape();
    let mut fires = Vec::with_capacity(found.len());
    {
        let mut v = mask.view_mut();
        for (r, c, test) in found {
            let confidence = match test {
                FireTest::Unambiguous | FireTest::Saturated => Confidence::High,
                FireTest::Night => Confidence::Nominal,
                FireTest::Contextual => {
                    let mut next_to = false;
                    if m.confidence.low_next_to_cloud_or_water {
                        for nr in r.saturating_sub(1)..(r + 2).min(rows) {
                            for nc in c.saturating_sub(1)..(c + 2).min(cols) {
                                let k = v[[nr, nc]];
                                next_to |=
                                    k == MaskClass::Cloud as u8 || k == MaskClass::Water as u8;
                            }
                        }
                    }
                    if next_to {
                        v[[r, c]] = MaskClass::FireLow as u8;
                        Confidence::Low
                    } else {
                        Confidence::Nominal
                    }
                }
            };
            let [rho5, rho6, rho7] = rho567(r, c);
            fires.push(OliFire {
                row: r,
                col: c,
                rho5,
                rho6,
                rho7,
                test,
                confidence,
                day,
            });
        }
    }
    let summary = summarize(&mask, day);
    OliDetection {
        mask,
        fires,
        summary,
    }
}

/// Pixels per class, and day/night pixels (every pixel not fill counts as the scene's).
pub fn summarize(mask: &BandBuf<u8>, day: bool) -> ObservationSummary {
    use rayon::prelude::*;
    let counts = mask
        .as_slice()
        .par_chunks(1 << 16)
        .map(|part| {
            let mut c = [0u64; 10];
            for &k in part {
                c[(k as usize).min(9)] += 1;
            }
            c
        })
        .reduce(
            || [0u64; 10],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        );
    let seen = counts.iter().sum::<u64>() - counts[0] - counts[1];
    let (d, n) = if day { (seen, 0) } else { (0, seen) };
    ObservationSummary::from_counts(counts, d, n)
}
