//! The sequential reference detector: the same algorithm written as plainly as possible, one
//! pixel after another, every window recounted from scratch and the median found by sorting.
//!
//! It exists to check the fast detector (`viirs.rs`): property tests assert the two give the same
//! mask and fires on generated scenes. Too slow for real granules; use it only in tests.

use ndarray::Array2;

use crate::model::SensorModel;

use super::context::{decide, window_is_enough, WindowAcc};
use super::finish::{finish, Outcome, Outcomes};
use super::pixel::{bits, classify, glint_angle_deg, PixelParams};
use super::types::{Detection, MaskClass, PixelArea, ViirsInput};
use super::{check_shapes, px_at, stage_raster, water_at, DetectError};

/// The VIIRS 375 m algorithm, sequentially.
pub fn detect_viirs_reference(
    input: &ViirsInput,
    m: &SensorModel,
    area: &PixelArea,
) -> Result<Detection, DetectError> {
    check_shapes(input)?;
    let (rows, cols) = input.dim();
    let mut mask_buf = stage_raster("mask", (rows, cols))?;
    let mut mask = mask_buf.view_mut();
    let mut state = Array2::<u8>::zeros((rows, cols));
    let (mut day, mut night) = (0u64, 0u64);
    let mut classes = [0u64; 10];
    let params = PixelParams::new(m);
    for r in 0..rows {
        for c in 0..cols {
            let pc = classify(&px_at(input, r, c), water_at(input, r, c), &params);
            mask[[r, c]] = pc.class as u8;
            state[[r, c]] = pc.bits;
            classes[pc.class as usize] += 1;
            if !matches!(pc.class, MaskClass::Fill | MaskClass::NotProcessed) {
                if pc.bits & bits::DAY != 0 {
                    day += 1;
                } else {
                    night += 1;
                }
            }
        }
    }
    // BT4S from the sorted 501×501 background, only where 325 < BT4 ≤ 330.
    let half = m.candidate.median_window as isize / 2;
    for r in 0..rows {
        for c in 0..cols {
            if state[[r, c]] & bits::NEEDS_MEDIAN == 0 {
                continue;
            }
            let mut values = Vec::new();
            for rr in r as isize - half..=r as isize + half {
                for cc in c as isize - half..=c as isize + half {
                    if rr < 0 || cc < 0 || rr >= rows as isize || cc >= cols as isize {
                        continue;
                    }
                    if state[[rr as usize, cc as usize]] & bits::VALID_BG != 0 {
                        values.push(input.i4[[rr as usize, cc as usize]]);
                    }
                }
            }
            let bt4s = match median(&mut values) {
                Some(med) => med
                    .max(m.candidate.day_bt4s_min_k)
                    .min(m.candidate.day_bt4s_max_k),
                None => m.candidate.day_bt4s_min_k,
            };
            if input.i4[[r, c]] > bt4s {
                state[[r, c]] |= bits::CANDIDATE;
            }
        }
    }
    let mut outcomes: Outcomes = Vec::new();
    let mut acc = WindowAcc::default();
    let ctx = &m.context;
    let core = ctx.core_exclusion as isize / 2;
    for r in 0..rows {
        for c in 0..cols {
            let s = state[[r, c]];
            if s & bits::CANDIDATE == 0 {
                continue;
            }
            let mut bg = None;
            let mut side = ctx.window_min;
            while side <= ctx.window_max {
                let h = side as isize / 2;
                let (mut valid, mut total) = (0, 0);
                acc.clear();
                for rr in r as isize - h..=r as isize + h {
                    for cc in c as isize - h..=c as isize + h {
                        if rr < 0 || cc < 0 || rr >= rows as isize || cc >= cols as isize {
                            continue;
                        }
                        if (rr - r as isize).abs() <= core && (cc - c as isize).abs() <= core {
                            continue;
                        }
                        total += 1;
                        let (ru, cu) = (rr as usize, cc as usize);
                        let sv = state[[ru, cu]];
                        if sv & bits::VALID_BG != 0 {
                            valid += 1;
                            acc.push_valid(input.i4[[ru, cu]], input.i5[[ru, cu]]);
                        } else if sv & bits::BG_FIRE != 0 {
                            acc.push_fire(input.i4[[ru, cu]]);
                        }
                    }
                }
                if window_is_enough(valid, total, m) {
                    bg = Some(acc.finish(side));
                    break;
                }
                side += 2;
            }
            let p = px_at(input, r, c);
            let glint = match input.geometry {
                Some(g) => glint_angle_deg(p.sza, g.vza[[r, c]], g.saa[[r, c]], g.vaa[[r, c]]),
                None => f32::NAN,
            };
            let d = decide(
                &p,
                s & bits::DAY != 0,
                s & bits::FIXED != 0,
                bg.as_ref(),
                glint,
                m,
            );
            outcomes.push(Outcome {
                r,
                c,
                p,
                decision: d,
            });
        }
    }
    Ok(finish(
        input.i4,
        m,
        area,
        mask_buf,
        outcomes,
        classes,
        (day, night),
    ))
}

/// The median (mean of the middle two for an even count), by sorting; None when empty.
fn median(values: &mut [f32]) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f32::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}
