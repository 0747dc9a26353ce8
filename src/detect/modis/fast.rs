//! The parallel MODIS detector: the per-pixel stage over strips of rows on the rayon pool, a
//! summed-area table of valid background pixels, then every potential fire on the pool.
//!
//! Why a summed-area table of counts, and direct sums for the statistics: the window grows
//! (3 × 3, 5 × 5, … 21 × 21) until enough of it is valid, and asking "how many valid pixels in
//! this rectangle" of an integer table costs four reads per size instead of up to 441 pixel
//! visits each; the statistics are then needed for one window only, and summing that window in
//! the reference's row-major order keeps the two detectors equal to the bit (f64 sums of
//! floating values in another order would differ in the last place). Potential fires are a
//! small share of a granule (well under 1 %), so one window pass each is cheap.

use std::borrow::Cow;

use ndarray::ArrayView2;
use rayon::prelude::*;

use super::context::{bounds, decide, enough, left_out, window_pixels, window_stats, Planes};
use super::finish::finish;
use super::pixel::{b22_saturation, classify, flag, night_t4_threshold, Px};
use super::{candidate_at, ModisDetection, ModisInput};
use crate::detect::{stage_raster, DetectError, MaskClass, PixelArea};
use crate::model::modis::ModisModel;

/// Rows per task of the per-pixel stage.
const STRIP_ROWS: usize = 32;

/// A view's pixels as one row-major slice (a granule's bands are; a strided view is copied once).
fn contiguous<'a, T: Copy>(a: &'a ArrayView2<'a, T>) -> Cow<'a, [T]> {
    match a.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(a.iter().copied().collect()),
    }
}

/// Valid background pixels per rectangle: `(rows + 1) × (cols + 1)` prefix sums.
struct ValidTable {
    cols1: usize,
    sums: Vec<u32>,
}

impl ValidTable {
    /// Valid background of one domain: water pixels (`water`) or land (stage-1 class).
    fn new(flags: &[u8], class: &[u8], water: bool, rows: usize, cols: usize) -> Self {
        let cols1 = cols + 1;
        let mut sums = vec![0u32; (rows + 1) * cols1];
        // Each row's running count, rows in parallel; then the rows added down (one add per
        // entry, a few milliseconds for a whole granule).
        sums[cols1..]
            .par_chunks_mut(cols1)
            .zip(flags.par_chunks(cols).zip(class.par_chunks(cols)))
            .for_each(|(out, (f, k))| {
                let mut acc = 0u32;
                for ((o, &v), &k) in out[1..].iter_mut().zip(f).zip(k) {
                    let in_domain = (k == MaskClass::Water as u8) == water;
                    acc += (v & flag::VALID != 0 && in_domain) as u32;
                    *o = acc;
                }
            });
        for r in 1..=rows {
            let (done, rest) = sums.split_at_mut(r * cols1);
            let prev = &done[(r - 1) * cols1..];
            for (o, &p) in rest[..cols1].iter_mut().zip(prev) {
                *o += p;
            }
        }
        ValidTable { cols1, sums }
    }

    /// Valid pixels in rows `r0..r1`, columns `c0..c1`.
    #[inline]
    fn count(&self, (r0, r1): (usize, usize), (c0, c1): (usize, usize)) -> usize {
        let s = |r: usize, c: usize| self.sums[r * self.cols1 + c] as i64;
        (s(r1, c1) - s(r0, c1) - s(r1, c0) + s(r0, c0)) as usize
    }
}

/// Detects fires in `input` on all threads; equal to [`super::detect_modis_reference`].
pub fn detect_modis(
    input: &ModisInput,
    m: &ModisModel,
    area: &PixelArea,
) -> Result<ModisDetection, DetectError> {
    input.check_shapes()?;
    let (rows, cols) = input.dim();
    let mut mask = stage_raster("mask", (rows, cols))?;
    if rows == 0 || cols == 0 {
        return Ok(finish(mask, &[], Vec::new()));
    }
    let sat = b22_saturation(input.b22_saturation, m);
    let bands: Vec<Cow<[f32]>> = [
        &input.b1, &input.b2, &input.b7, &input.b21, &input.b22, &input.b31, &input.b32, &input.sza,
    ]
    .into_iter()
    .map(contiguous)
    .collect();
    let water = input.water.as_ref().map(contiguous);
    let mut flags = vec![0u8; rows * cols];
    let mut t4 = vec![0f32; rows * cols];

    // Stage 1: per pixel, strips of rows in parallel; each strip lists its potential fires.
    let strip = STRIP_ROWS * cols;
    type Found = (Option<(usize, usize)>, Option<(usize, usize)>);
    let potentials: Vec<Vec<Found>> = mask
        .as_mut_slice()
        .par_chunks_mut(strip)
        .zip(flags.par_chunks_mut(strip))
        .zip(t4.par_chunks_mut(strip))
        .enumerate()
        .map(|(s, ((class, fl), t4))| {
            let k0 = s * strip;
            let mut found = Vec::new();
            for i in 0..class.len() {
                let k = k0 + i;
                let px = Px {
                    r1: bands[0][k],
                    r2: bands[1][k],
                    r7: bands[2][k],
                    t21: bands[3][k],
                    t22: bands[4][k],
                    t31: bands[5][k],
                    t32: bands[6][k],
                    sza: bands[7][k],
                    water: water.as_ref().is_some_and(|w| w[k] != 0),
                    has_mask: water.is_some(),
                };
                let st = classify(&px, sat, m);
                class[i] = st.class as u8;
                fl[i] = st.flags;
                t4[i] = st.t4;
                if st.flags & flag::POTENTIAL != 0 {
                    found.push((Some((k / cols, k % cols)), None));
                } else if st.flags & flag::NIGHT_LOW != 0 {
                    found.push((None, Some((k / cols, k % cols))));
                }
            }
            found
        })
        .collect();
    let (potentials, night_low): (Vec<_>, Vec<_>) = potentials.into_iter().flatten().unzip();
    let potentials_night: Vec<(usize, usize)> = {
        // C6 dynamic night threshold, now that every pixel's T4 is known.
        let class = mask.as_slice();
        night_low
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .into_par_iter()
            .filter(|&(r, c)| {
                t4[r * cols + c] > night_t4_threshold(class, &t4, (rows, cols), (r, c), m)
            })
            .collect()
    };
    for &(r, c) in &potentials_night {
        flags[r * cols + c] |= flag::POTENTIAL;
    }
    let potentials: Vec<(usize, usize)> = potentials
        .into_iter()
        .flatten()
        .chain(potentials_night)
        .collect();

    // Stage 2: each potential fire's window sized from the table of its domain (land, or water
    // when water is processed and has candidates), its statistics and decision.
    let land_table = ValidTable::new(&flags, mask.as_slice(), false, rows, cols);
    let water_table = potentials
        .iter()
        .any(|&(r, c)| mask.as_slice()[r * cols + c] == MaskClass::Water as u8)
        .then(|| ValidTable::new(&flags, mask.as_slice(), true, rows, cols));
    let planes = Planes {
        rows,
        cols,
        class: mask.as_slice(),
        flags: &flags,
        t4: &t4,
        t11: &bands[5],
        water: water.as_deref(),
    };
    let b = &m.background;
    let decisions: Vec<_> = potentials
        .par_iter()
        .with_min_len(8)
        .map(|&(r, c)| {
            let mut stats = None;
            let over_water = planes.is_water(r * cols + c);
            let table = match (&water_table, over_water) {
                (Some(t), true) => t,
                _ => &land_table,
            };
            for h in b.window_min / 2..=b.window_max / 2 {
                let (rr, cc) = bounds((r, c), h, (rows, cols));
                let mut n = table.count((rr.start, rr.end), (cc.start, cc.end));
                // Less the left-out pixels that are valid: the pixel itself and its along-scan
                // neighbours.
                for j in c.saturating_sub(1)..(c + 2).min(cols) {
                    if left_out(r, j, (r, c), m) && planes.valid_for(r * cols + j, over_water) {
                        n -= 1;
                    }
                }
                if enough(n, window_pixels((r, c), h, (rows, cols), m), m) {
                    stats = Some(window_stats(&planes, (r, c), h, m));
                    break;
                }
            }
            let k = candidate_at(input, &planes, (r, c), area);
            (k, decide(&k, stats.as_ref(), m))
        })
        .collect();
    Ok(finish(mask, &flags, decisions))
}
