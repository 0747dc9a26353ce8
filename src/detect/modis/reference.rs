//! The sequential reference of the MODIS detector: every pixel in turn, every potential fire's
//! window grown ring by ring and counted pixel by pixel, written for reading rather than speed.
//! The fast detector must equal it exactly (`equivalence_tests.rs`).

use super::context::{count_valid, decide, enough, window_pixels, window_stats, Planes};
use super::finish::finish;
use super::pixel::{b22_saturation, classify, flag, night_t4_threshold};
use super::{candidate_at, px_at, ModisDetection, ModisInput};
use crate::detect::{stage_raster, DetectError, PixelArea};
use crate::model::modis::ModisModel;

/// Detects fires in `input` one pixel at a time; `area` gives each pixel's ground area (FRP).
pub fn detect_modis_reference(
    input: &ModisInput,
    m: &ModisModel,
    area: &PixelArea,
) -> Result<ModisDetection, DetectError> {
    input.check_shapes()?;
    let (rows, cols) = input.dim();
    let sat = b22_saturation(input.b22_saturation, m);
    let mut mask = stage_raster("mask", (rows, cols))?;
    let mut flags = vec![0u8; rows * cols];
    let mut t4 = vec![f32::NAN; rows * cols];
    let mut t11 = vec![f32::NAN; rows * cols];
    {
        let class = mask.as_mut_slice();
        for r in 0..rows {
            for c in 0..cols {
                let k = r * cols + c;
                let s = classify(&px_at(input, r, c), sat, m);
                class[k] = s.class as u8;
                flags[k] = s.flags;
                t4[k] = s.t4;
                t11[k] = input.b31[[r, c]];
            }
        }
    }
    // C6 dynamic night threshold, once every pixel's T4 is known.
    for r in 0..rows {
        for c in 0..cols {
            let k = r * cols + c;
            if flags[k] & flag::NIGHT_LOW != 0
                && t4[k] > night_t4_threshold(mask.as_slice(), &t4, (rows, cols), (r, c), m)
            {
                flags[k] |= flag::POTENTIAL;
            }
        }
    }
    let water: Option<Vec<u8>> = input.water.map(|w| w.iter().copied().collect());
    let mut decisions = Vec::new();
    {
        let planes = Planes {
            rows,
            cols,
            class: mask.as_slice(),
            flags: &flags,
            t4: &t4,
            t11: &t11,
            water: water.as_deref(),
        };
        let b = &m.background;
        for r in 0..rows {
            for c in 0..cols {
                if flags[r * cols + c] & flag::POTENTIAL == 0 {
                    continue;
                }
                let mut stats = None;
                for h in b.window_min / 2..=b.window_max / 2 {
                    let n = count_valid(&planes, (r, c), h, m);
                    if enough(n, window_pixels((r, c), h, (rows, cols), m), m) {
                        stats = Some(window_stats(&planes, (r, c), h, m));
                        break;
                    }
                }
                let k = candidate_at(input, &planes, (r, c), area);
                decisions.push((k, decide(&k, stats.as_ref(), m)));
            }
        }
    }
    Ok(finish(mask, &flags, decisions))
}
