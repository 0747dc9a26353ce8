//! Stage 1 over one band of rows: the per-pixel tests, and what the later stages keep of the
//! per-pixel bands.
//!
//! Why by strips: only BT4 and BT5 are needed around candidates (the contextual windows, the
//! 501×501 median, the neighbours for confidence); ρ1–ρ3, SZA and the glint geometry are needed
//! only *at* candidates. So the scan reads a block of all bands (a strip's rows, a few tiles
//! across), classifies it while it is still in cache, keeps the full BT4 and BT5 rasters and, for
//! the other bands, only the values of the pixels that go on ([`Pending`]). The reader can then
//! reuse one small buffer per thread for those bands instead of holding whole rasters
//! (`scan.rs`), and the in-memory detector runs the same code over strips of its views, one block
//! across (`viirs.rs`).

use std::borrow::Cow;
use std::ops::Range;

use ndarray::{s, ArrayView2, ArrayViewMut2, Axis};

use super::median::{count_row, PartialTiles, TILE};
use super::pixel::{bits, classify_row, glint_angle_deg, PixelParams, Px};
use super::types::{MaskClass, ViirsInput};

/// Bands the VIIRS detector reads only for strips with a day pixel: reflectances and the glint
/// geometry are used by day only (at night they may be NaN; the results are the same).
pub const VIIRS_DAY_ONLY_BANDS: [&str; 6] = ["I1", "I2", "I3", "VZA", "SAA", "VAA"];

/// Whether any of these solar zenith angles is a day pixel's (below the night threshold, as in
/// [`super::pixel::classify`]): a strip or row without one needs no [`VIIRS_DAY_ONLY_BANDS`].
pub fn has_day_pixel(sza: &[f32], night_sza_deg: f32) -> bool {
    any_angle(sza, |z| z < night_sza_deg)
}

/// Whether any row of a block of solar zenith angles has a day pixel ([`has_day_pixel`]).
#[inline]
pub fn block_has_day_pixel(sza: ArrayView2<f32>, night_sza_deg: f32) -> bool {
    (0..sza.nrows()).any(|i| has_day_pixel(&row(sza, i), night_sza_deg))
}

/// Whether every one of these solar zenith angles is a day pixel's (none is NaN or at or above
/// the night threshold): such a row needs no night tests.
pub fn all_day(sza: &[f32], night_sza_deg: f32) -> bool {
    !any_angle(sza, |z| z.is_nan() | (z >= night_sza_deg))
}

/// Whether any angle meets `test`, looked at 64 at a time without stopping inside a block, so
/// the compiler compares many at once: at night every angle of a row is looked at.
#[inline]
fn any_angle(sza: &[f32], test: impl Fn(f32) -> bool) -> bool {
    sza.chunks(64)
        .any(|block| block.iter().fold(false, |hit, &z| hit | test(z)))
}

/// A pixel that goes on to the median or contextual stage, with every value it will need there.
#[derive(Debug, Clone, Copy)]
pub struct Pending {
    pub r: u32,
    pub c: u32,
    pub p: Px,
    /// Glint angle, degrees (NaN without geometry).
    pub glint_deg: f32,
    /// Pre-classification bits ([`bits`]).
    pub bits: u8,
}

impl Pending {
    pub fn at(&self) -> (usize, usize) {
        (self.r as usize, self.c as usize)
    }
}

/// What stage 1 found in one strip: made by [`StripOut::new`], filled block by block by
/// [`classify_block`], and put in order by [`StripOut::finish`] ([`classify_strip`] does all
/// three for a strip taken whole).
#[derive(Debug, Default)]
pub struct StripOut {
    /// Candidates in row-major order.
    pub candidates: Vec<Pending>,
    /// Day pixels with 325 < BT4 ≤ 330 whose candidacy the 501×501 median decides, row-major.
    pub median: Vec<Pending>,
    /// Pixels per stage-1 class (`MaskClass as u8` index); candidates count as clear land.
    pub classes: [u64; 10],
    /// Observed (not fill, not unprocessed) day and night pixels.
    pub day: u64,
    pub night: u64,
    /// The scene rows of the strip.
    pub rows: Range<usize>,
    /// The median stage's tile counts of the strip's rows, counted while they were in cache
    /// for its blocks with a day pixel ([`PartialTiles::counted`]); None for a strip without a
    /// day pixel (a night scene needs none).
    pub tiles: Option<PartialTiles>,
    /// The scene's width.
    cols: usize,
    /// Where each block's pending pixels begin in `candidates` and `median`, until `finish`.
    blocks: Vec<(usize, usize)>,
}

impl StripOut {
    /// Nothing found yet in the rows `rows` of a scene `cols` wide.
    pub fn new(rows: Range<usize>, cols: usize) -> Self {
        StripOut {
            rows,
            cols,
            ..StripOut::default()
        }
    }

    /// Puts the pending pixels in row-major order. Each block's are row-major already and the
    /// blocks came left to right, so each row takes its pixels from every block in turn.
    pub fn finish(mut self) -> Self {
        if self.blocks.len() > 1 {
            let (cand, med): (Vec<usize>, Vec<usize>) = self.blocks.iter().copied().unzip();
            self.candidates = by_rows(&self.candidates, &cand, self.rows.clone());
            self.median = by_rows(&self.median, &med, self.rows.clone());
        }
        self.blocks.clear();
        self
    }
}

/// `list`, made of row-major runs beginning at `starts`, in row-major order over `rows`.
fn by_rows(list: &[Pending], starts: &[usize], rows: Range<usize>) -> Vec<Pending> {
    let ends = starts.iter().skip(1).copied().chain([list.len()]);
    let mut runs: Vec<Range<usize>> = starts.iter().zip(ends).map(|(&a, b)| a..b).collect();
    let mut out = Vec::with_capacity(list.len());
    for r in rows {
        for run in runs.iter_mut() {
            let n = list[run.clone()]
                .iter()
                .take_while(|p| p.r as usize == r)
                .count();
            out.extend_from_slice(&list[run.start..run.start + n]);
            run.start += n;
        }
    }
    out
}

impl<'a> ViirsInput<'a> {
    /// The rows `r0..r1` of every band.
    pub fn rows(&self, r0: usize, r1: usize) -> ViirsInput<'a> {
        let cut = |a: ArrayView2<'a, f32>| a.slice_move(s![r0..r1, ..]);
        ViirsInput {
            i1: cut(self.i1),
            i2: cut(self.i2),
            i3: cut(self.i3),
            i4: cut(self.i4),
            i5: cut(self.i5),
            sza: cut(self.sza),
            geometry: self.geometry.map(|g| super::GlintGeometry {
                vza: cut(g.vza),
                saa: cut(g.saa),
                vaa: cut(g.vaa),
            }),
            water: self.water.map(|w| w.slice_move(s![r0..r1, ..])),
        }
    }
}

/// Classifies the rows of `strip` (rows `r0..` of the scene, all its columns), writing the
/// stage-1 mask class and bits into `mask` and `state` (the same rows) and returning the pixels
/// that go on.
pub fn classify_strip(
    strip: &ViirsInput,
    r0: usize,
    params: &PixelParams,
    mask: ArrayViewMut2<u8>,
    state: ArrayViewMut2<u8>,
) -> StripOut {
    let mut out = StripOut::new(r0..r0 + mask.nrows(), mask.ncols());
    classify_block(strip, (r0, 0), params, mask, state, &mut out);
    out.finish()
}

/// Classifies one block of a strip: `block` holds rows `r0..` and columns `c0..` of the scene,
/// `mask` and `state` are the same pixels of the stage-1 rasters; what goes on is added to
/// `out`, the strip's results. Blocks of a strip come left to right, of any width.
///
/// On a CPU with AVX2 the same code runs compiled for it: the row classifier then tests eight
/// pixels at a time instead of four. Its tests hold more thresholds than SSE2's sixteen
/// registers, and it is bound by that arithmetic, not by memory (the same rows in cache take
/// 85 % of the time of rows streamed from memory); AVX2 cuts it by a quarter. Builds stay
/// portable: the choice is made at run time. The equivalence tests against the reference, which
/// classifies pixel by pixel, run whichever build the CPU takes.
pub fn classify_block(
    block: &ViirsInput,
    at: (usize, usize),
    params: &PixelParams,
    mask: ArrayViewMut2<u8>,
    state: ArrayViewMut2<u8>,
    out: &mut StripOut,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: `classify_block_avx2` needs nothing but AVX2, and the CPU was just found to
        // have it.
        #[allow(unsafe_code)]
        return unsafe { classify_block_avx2(block, at, params, mask, state, out) };
    }
    classify_block_portable(block, at, params, mask, state, out)
}

/// [`classify_block`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn classify_block_avx2(
    block: &ViirsInput,
    at: (usize, usize),
    params: &PixelParams,
    mask: ArrayViewMut2<u8>,
    state: ArrayViewMut2<u8>,
    out: &mut StripOut,
) {
    classify_block_portable(block, at, params, mask, state, out)
}

/// [`classify_block`] for any CPU.
#[inline(always)]
fn classify_block_portable(
    strip: &ViirsInput,
    (r0, c0): (usize, usize),
    params: &PixelParams,
    mut mask: ArrayViewMut2<u8>,
    mut state: ArrayViewMut2<u8>,
    out: &mut StripOut,
) {
    let w = mask.ncols();
    out.blocks.push((out.candidates.len(), out.median.len()));
    let day_block = block_has_day_pixel(strip.sza, params.night_sza_deg);
    // The median's tiles are counted here only in a block whose edges are tile edges (a tiled
    // GeoTIFF's always are: TIFF tiles are multiples of 16 wide; other formats' chunks may not
    // be), so that the columns left to the median stage begin and end on tile edges too.
    let aligned = c0 % TILE == 0 && ((c0 + w) % TILE == 0 || c0 + w == out.cols);
    let mut tiles = (day_block && aligned).then(|| {
        let (rows, cols) = (out.rows.clone(), out.cols);
        let t = out
            .tiles
            .get_or_insert_with(|| PartialTiles::new(rows, cols));
        t.counted.push(c0..c0 + w);
        t
    });
    let (lower_k, upper_k) = (
        params.candidate.day_bt4s_min_k,
        params.candidate.day_bt4s_max_k,
    );
    for (i, (mut mrow, mut srow)) in mask
        .axis_iter_mut(Axis(0))
        .zip(state.axis_iter_mut(Axis(0)))
        .enumerate()
    {
        let r = r0 + i;
        let (i1, i2, i3) = (row(strip.i1, i), row(strip.i2, i), row(strip.i3, i));
        let (i4, i5, sza) = (row(strip.i4, i), row(strip.i5, i), row(strip.sza, i));
        let mrow = mrow.as_slice_mut().expect("the mask is standard layout");
        let srow = srow.as_slice_mut().expect("the state is standard layout");
        let water = strip.water.map(|w| row(w, i));
        let bands = [&*i1, &*i2, &*i3, &*i4, &*i5, &*sza];
        classify_row(bands, water.as_deref(), params, mrow, srow);
        if let Some(t) = tiles.as_mut() {
            count_row(&i4, srow, lower_k, upper_k, &mut t.row_mut(r)[c0 / TILE..]);
        }
        // Stage 1 gives clear land and these classes only; clear land is the rest.
        let mut row_classes = [0u64; 10];
        for k in [
            MaskClass::NotProcessed,
            MaskClass::Fill,
            MaskClass::Water,
            MaskClass::Cloud,
        ] {
            row_classes[k as usize] = count(mrow, |v| v == k as u8);
        }
        let land = mrow.len() as u64 - row_classes.iter().sum::<u64>();
        row_classes[MaskClass::Land as usize] = land;
        for (total, n) in out.classes.iter_mut().zip(row_classes) {
            *total += n;
        }
        let day = count_pairs(mrow, srow, |k, s| {
            (k > MaskClass::Fill as u8) & (s & bits::DAY != 0)
        });
        let unobserved =
            row_classes[MaskClass::NotProcessed as usize] + row_classes[MaskClass::Fill as usize];
        let observed = mrow.len() as u64 - unobserved;
        out.day += day;
        out.night += observed - day;
        // Most pixels go no further: skip 32 at a time where none does.
        let goes_on = |b: u8| b & (bits::CANDIDATE | bits::NEEDS_MEDIAN) != 0;
        for (block, bytes) in srow.chunks(32).enumerate() {
            if !goes_on(bytes.iter().fold(0, |all, &b| all | b)) {
                continue;
            }
            for (j, &b) in bytes.iter().enumerate() {
                if !goes_on(b) {
                    continue;
                }
                let c = block * 32 + j;
                let p = Px {
                    r1: i1[c],
                    r2: i2[c],
                    r3: i3[c],
                    bt4: i4[c],
                    bt5: i5[c],
                    sza: sza[c],
                };
                // The glint angle only matters by day.
                let glint_deg = match strip.geometry {
                    Some(g) if b & bits::DAY != 0 => {
                        glint_angle_deg(p.sza, g.vza[[i, c]], g.saa[[i, c]], g.vaa[[i, c]])
                    }
                    _ => f32::NAN,
                };
                let pending = Pending {
                    r: r as u32,
                    c: (c0 + c) as u32,
                    p,
                    glint_deg,
                    bits: b,
                };
                if b & bits::CANDIDATE != 0 {
                    out.candidates.push(pending);
                } else {
                    out.median.push(pending);
                }
            }
        }
    }
}

/// How many bytes of `row` meet `pred`, counted in u8 lanes 255 bytes at a time so the
/// compiler can count many at once (a per-class histogram would serialise on its counters).
#[inline]
fn count(row: &[u8], pred: impl Fn(u8) -> bool) -> u64 {
    row.chunks(255)
        .map(|chunk| chunk.iter().fold(0u8, |n, &v| n + pred(v) as u8) as u64)
        .sum()
}

/// [`count`] over pairs of bytes.
#[inline]
fn count_pairs(a: &[u8], b: &[u8], pred: impl Fn(u8, u8) -> bool) -> u64 {
    a.chunks(255)
        .zip(b.chunks(255))
        .map(|(x, y)| {
            x.iter()
                .zip(y)
                .fold(0u8, |n, (&v, &w)| n + pred(v, w) as u8) as u64
        })
        .sum()
}

/// Row `r` of a band (or of the stage-1 rasters) as a slice (a copy only for non-standard
/// layouts).
#[inline]
pub(crate) fn row<'a, T: Clone>(a: ArrayView2<'a, T>, r: usize) -> Cow<'a, [T]> {
    let line = a.index_axis_move(Axis(0), r);
    match line.to_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(line.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_angle_is_found_anywhere_in_its_block() {
        let night = vec![120.0f32; 300];
        assert!(!has_day_pixel(&night, 85.0));
        assert!(!has_day_pixel(&[], 85.0));
        for at in [0, 63, 64, 200, 299] {
            let mut sza = night.clone();
            sza[at] = 84.9;
            assert!(has_day_pixel(&sza, 85.0), "day angle at {at}");
        }
        // NaN (not processed) is not day; the threshold itself is night.
        assert!(!has_day_pixel(&[f32::NAN, 85.0], 85.0));
        let day = vec![40.0f32; 300];
        assert!(all_day(&day, 85.0) && all_day(&[], 85.0));
        for (at, z) in [(0, 85.0), (63, f32::NAN), (64, 120.0), (299, 85.0)] {
            let mut sza = day.clone();
            sza[at] = z;
            assert!(!all_day(&sza, 85.0), "{z} at {at}");
        }
    }
}
