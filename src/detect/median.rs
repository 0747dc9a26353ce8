//! The day candidate bound BT4S = min(330, max(325, median BT4 of the 501×501 valid background))
//! (Schroeder et al. 2014 sec. 2.3), decided exactly and fast.
//!
//! Only day pixels with 325 < BT4 ≤ 330 depend on it, and for those "BT4 > BT4S" is the same as
//! "BT4 > median". On a warm afternoon over bright soil there can be hundreds of thousands of such
//! pixels, and a 501×501 window holds 251,001 values: counting each window directly costs 10¹¹
//! operations. But the median only matters when it lies between 325 and 330 K; whether more than
//! half the window is below 325 K (certainly a candidate) or at least 330 K (certainly not) is
//! read in O(1) from three window counts: valid, valid and below 325, valid and below 330. Only
//! windows whose median falls inside the bounds are counted directly, and those counts are exact
//! too, so the result equals the sorting reference bit for bit.
//!
//! The three counts are first bounded from counts per 16×16 tile (counted by the per-pixel stage
//! while each strip of a day scene is in cache, [`count_row`]; then a summed-area table of a few
//! hundred thousand tiles): the tiles wholly inside a window give
//! lower bounds, the tiles it touches upper bounds, and on real scenes that settles nearly every
//! pixel in O(1). The rest get exact counts from a sliding window: each band of rows keeps
//! per-column counts over the window's rows (one row added and one dropped per step) and, on rows
//! that hold such pixels, a prefix sum of them along the row. (Image-sized summed-area tables of
//! pixels, the first version, wrote 12 bytes per pixel twice, half a gigabyte on a granule, and
//! spent much of their time in page faults.)

use std::borrow::Cow;
use std::ops::Range;

use ndarray::{s, ArrayView2, Axis};
use rayon::prelude::*;

use super::pixel::bits;
use super::strip::row;

/// Counts of [valid, valid and BT4 < lower bound, valid and BT4 < upper bound].
pub type Counts = [u32; 3];

/// The indicators of one pixel.
#[inline]
fn indicators(v: f32, s: u8, lower_k: f32, upper_k: f32) -> Counts {
    // As in the reference, a value counts only where it is valid background and not NaN.
    let valid = s & bits::VALID_BG != 0 && !v.is_nan();
    [
        valid as u32,
        (valid && v < lower_k) as u32,
        (valid && v < upper_k) as u32,
    ]
}

/// Per-column counts over a moving range of rows.
struct ColumnCounts<'a> {
    i4: ArrayView2<'a, f32>,
    state: ArrayView2<'a, u8>,
    lower_k: f32,
    upper_k: f32,
    cols: Vec<Counts>,
    /// Prefix sums along the row of `cols`, `ncols + 1` entries.
    prefix: Vec<Counts>,
}

impl<'a> ColumnCounts<'a> {
    fn new(i4: ArrayView2<'a, f32>, state: ArrayView2<'a, u8>, lower_k: f32, upper_k: f32) -> Self {
        let n = i4.ncols();
        ColumnCounts {
            i4,
            state,
            lower_k,
            upper_k,
            cols: vec![[0; 3]; n],
            prefix: vec![[0; 3]; n + 1],
        }
    }

    /// Adds (`add`) or removes row `r` from the column counts.
    fn apply_row(&mut self, r: usize, add: bool) {
        let (i4, st) = (self.i4.row(r), self.state.row(r));
        let (lo, hi) = (self.lower_k, self.upper_k);
        for ((acc, &v), &s) in self.cols.iter_mut().zip(i4.iter()).zip(st.iter()) {
            let x = indicators(v, s, lo, hi);
            for i in 0..3 {
                if add {
                    acc[i] += x[i];
                } else {
                    acc[i] -= x[i];
                }
            }
        }
    }

    /// Recomputes the prefix sums of the current column counts.
    fn build_prefix(&mut self) {
        let mut run = [0u32; 3];
        for (c, col) in self.cols.iter().enumerate() {
            for i in 0..3 {
                run[i] += col[i];
            }
            self.prefix[c + 1] = run;
        }
    }

    /// Counts over the current rows and columns c0..=c1.
    fn window(&self, c0: usize, c1: usize) -> Counts {
        let (a, b) = (self.prefix[c1 + 1], self.prefix[c0]);
        [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
    }
}

/// The test "BT4 > BT4S" for day pixels with lower_k < BT4 ≤ upper_k (for those it is
/// "BT4 > the median of the valid background BT4 in the (2·half+1)² window clipped to the
/// image"), in two steps: [`MedianTest::quick`] answers from [`TileCounts`] alone where their
/// bounds settle it (nearly every pixel of a real scene), [`MedianTest::exact`] counts the
/// windows of the rest.
pub struct MedianTest<'a> {
    i4: ArrayView2<'a, f32>,
    state: ArrayView2<'a, u8>,
    tiles: TileCounts,
    half: usize,
    lower_k: f32,
    upper_k: f32,
}

impl<'a> MedianTest<'a> {
    /// Counts the tiles. `lower_k`/`upper_k` are the bounds of BT4S (325, 330 K).
    ///
    /// `parts`: bands of rows (the rows, their counts when the per-pixel stage counted them)
    /// covering the scene top to bottom; the others are counted here.
    pub fn new(
        i4: ArrayView2<'a, f32>,
        state: ArrayView2<'a, u8>,
        half: usize,
        (lower_k, upper_k): (f32, f32),
        parts: Vec<(Range<usize>, Option<&PartialTiles>)>,
    ) -> Self {
        MedianTest {
            i4,
            state,
            tiles: TileCounts::from_parts(i4, state, lower_k, upper_k, parts),
            half,
            lower_k,
            upper_k,
        }
    }

    /// Whether the pixel at (r, c) is above the median, when the tile counts settle it.
    pub fn quick(&self, r: usize, c: usize) -> Option<bool> {
        self.tiles.decide(r, c, self.half)
    }

    /// The pixels of `open` (row-major) that are above the median, row-major, by exact window
    /// counts.
    pub fn exact(&self, open: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
        exact_above_median(
            self.i4,
            self.state,
            open,
            self.half,
            self.lower_k,
            self.upper_k,
        )
    }
}

/// The pixels of `pixels` (row, col) that pass [`MedianTest`], in row-major order.
pub fn above_median(
    i4: ArrayView2<f32>,
    state: ArrayView2<u8>,
    mut pixels: Vec<(usize, usize)>,
    half: usize,
    lower_k: f32,
    upper_k: f32,
) -> Vec<(usize, usize)> {
    if pixels.is_empty() {
        return pixels;
    }
    pixels.sort_unstable();
    let test = MedianTest::new(
        i4,
        state,
        half,
        (lower_k, upper_k),
        vec![(0..i4.nrows(), None)],
    );
    let decided: Vec<Option<bool>> = pixels.par_iter().map(|&(r, c)| test.quick(r, c)).collect();
    let open: Vec<(usize, usize)> = pixels
        .iter()
        .zip(&decided)
        .filter(|(_, d)| d.is_none())
        .map(|(p, _)| *p)
        .collect();
    let exact = test.exact(open);
    pixels
        .into_iter()
        .zip(decided)
        .filter(|&(p, d)| d.unwrap_or_else(|| exact.binary_search(&p).is_ok()))
        .map(|(p, _)| p)
        .collect()
}

/// Side of the tiles whose counts bound the window counts.
pub(crate) const TILE: usize = 16;

/// [`Counts`] per TILE×TILE tile of the image, as a summed-area table over tiles (a few hundred
/// thousand entries on a granule). A window's counts lie between the sums over the tiles wholly
/// inside it and over the tiles it touches; with 501×501 windows and 16-pixel tiles the two
/// differ by at most ~13 % of the window, so a window whose share below 325 K (or at or above
/// 330 K) is clearly over half is decided without counting it.
struct TileCounts {
    rows: usize,
    cols: usize,
    /// Tiles down and across.
    tr: usize,
    tc: usize,
    /// (tr + 1) × (tc + 1) prefix sums, row-major.
    sat: Vec<Counts>,
}

/// Adds one row's counts into `acc` (one entry per tile across): the per-pixel stage calls this
/// while the row is in cache, [`TileCounts`] for rows it did not count.
#[inline(always)]
pub fn count_row(l4: &[f32], ls: &[u8], lower_k: f32, upper_k: f32, acc: &mut [Counts]) {
    for (a, (v, s)) in acc.iter_mut().zip(l4.chunks(TILE).zip(ls.chunks(TILE))) {
        let mut sum = [0u32; 3];
        for (&v, &s) in v.iter().zip(s) {
            add(&mut sum, indicators(v, s, lower_k, upper_k));
        }
        add(a, sum);
    }
}

/// Tile counts of a band of rows, per tile row the band touches (a band need not start or end
/// on a tile boundary: bands that share a tile row are added up).
#[derive(Debug, Clone, Default)]
pub struct PartialTiles {
    /// First row of the band.
    pub r0: usize,
    /// Per tile row from `r0 / TILE`, one [`Counts`] per tile across.
    pub rows: Vec<Vec<Counts>>,
    /// The columns counted so far, left to right, each range beginning and ending on a tile
    /// edge (or the scene's edge); the others are counted by the median stage.
    pub counted: Vec<Range<usize>>,
}

impl PartialTiles {
    /// Empty counts for the rows `band` of a scene `cols` wide.
    pub fn new(band: Range<usize>, cols: usize) -> Self {
        let tiles = if band.is_empty() {
            0
        } else {
            (band.end - 1) / TILE - band.start / TILE + 1
        };
        PartialTiles {
            r0: band.start,
            rows: vec![vec![[0; 3]; cols.div_ceil(TILE)]; tiles],
            counted: Vec::new(),
        }
    }

    /// The columns of a scene `cols` wide not counted yet.
    fn uncounted(&self, cols: usize) -> Vec<Range<usize>> {
        let mut left = Vec::new();
        let mut at = 0;
        for done in &self.counted {
            if done.start > at {
                left.push(at..done.start);
            }
            at = at.max(done.end);
        }
        if at < cols {
            left.push(at..cols);
        }
        left
    }

    /// The counts of scene row `r` go here.
    pub fn row_mut(&mut self, r: usize) -> &mut [Counts] {
        &mut self.rows[r / TILE - self.r0 / TILE]
    }
}

impl TileCounts {
    /// Counts every row of the scene.
    #[cfg(test)]
    fn new(i4: ArrayView2<f32>, state: ArrayView2<u8>, lower_k: f32, upper_k: f32) -> Self {
        let rows = i4.nrows();
        Self::from_parts(i4, state, lower_k, upper_k, vec![(0..rows, None)])
    }

    /// Tile counts from bands of rows (rows, counts) that together cover the scene, top to
    /// bottom: the columns of a band counted already are added as they are, the rest counted
    /// here.
    fn from_parts(
        i4: ArrayView2<f32>,
        state: ArrayView2<u8>,
        lower_k: f32,
        upper_k: f32,
        parts: Vec<(Range<usize>, Option<&PartialTiles>)>,
    ) -> Self {
        let (rows, cols) = i4.dim();
        let (tr, tc) = (rows.div_ceil(TILE), cols.div_ceil(TILE));
        let counted: Vec<Cow<PartialTiles>> = parts
            .into_par_iter()
            .map(|(rows_of, done)| {
                let mut p = match done {
                    Some(p) if p.uncounted(cols).is_empty() => return Cow::Borrowed(p),
                    Some(p) => p.clone(),
                    None => PartialTiles::new(rows_of.clone(), cols),
                };
                let left = p.uncounted(cols);
                for r in rows_of {
                    let (l4, ls) = (row(i4, r), row(state, r));
                    for cs in &left {
                        let acc = &mut p.row_mut(r)[cs.start / TILE..];
                        count_row(&l4[cs.clone()], &ls[cs.clone()], lower_k, upper_k, acc);
                    }
                }
                Cow::Owned(p)
            })
            .collect();
        let mut per_tile_row = vec![vec![[0u32; 3]; tc]; tr];
        for p in &counted {
            for (k, line) in p.rows.iter().enumerate() {
                for (a, x) in per_tile_row[p.r0 / TILE + k].iter_mut().zip(line) {
                    add(a, *x);
                }
            }
        }
        let w = tc + 1;
        let mut sat = vec![[0u32; 3]; (tr + 1) * w];
        for (t, line) in per_tile_row.iter().enumerate() {
            let mut run = [0u32; 3];
            for (u, x) in line.iter().enumerate() {
                add(&mut run, *x);
                let above = sat[t * w + u + 1];
                let mut v = run;
                add(&mut v, above);
                sat[(t + 1) * w + u + 1] = v;
            }
        }
        TileCounts {
            rows,
            cols,
            tr,
            tc,
            sat,
        }
    }

    /// Counts over tiles t0..t1 down and u0..u1 across (exclusive ends; empty when reversed).
    fn sum(&self, (t0, t1): (usize, usize), (u0, u1): (usize, usize)) -> Counts {
        if t0 >= t1 || u0 >= u1 {
            return [0; 3];
        }
        let w = self.tc + 1;
        let at = |t: usize, u: usize| self.sat[t * w + u];
        let (a, b, c, d) = (at(t1, u1), at(t0, u1), at(t1, u0), at(t0, u0));
        [0, 1, 2].map(|i| a[i] + d[i] - b[i] - c[i])
    }

    /// Tile ranges (exclusive ends) wholly inside, and touching, pixels p0..=p1 of an axis of
    /// `n` pixels in `tiles` tiles.
    fn ranges(p0: usize, p1: usize, n: usize, tiles: usize) -> ((usize, usize), (usize, usize)) {
        let inner_end = if p1 + 1 == n { tiles } else { (p1 + 1) / TILE };
        ((p0.div_ceil(TILE), inner_end), (p0 / TILE, p1 / TILE + 1))
    }

    /// The decision of [`above`] for pixel (r, c) when the tile bounds settle it.
    fn decide(&self, r: usize, c: usize, half: usize) -> Option<bool> {
        let (r0, r1) = (r.saturating_sub(half), (r + half).min(self.rows - 1));
        let (c0, c1) = (c.saturating_sub(half), (c + half).min(self.cols - 1));
        let (rin, rout) = Self::ranges(r0, r1, self.rows, self.tr);
        let (cin, cout) = Self::ranges(c0, c1, self.cols, self.tc);
        let [v_in, bl_in, bu_in] = self.sum(rin, cin).map(|x| x as usize);
        let [v_out, bl_out, _] = self.sum(rout, cout).map(|x| x as usize);
        if v_out == 0 || bl_in > v_out / 2 {
            // No background at all, or surely more than half below the lower bound.
            return Some(true);
        }
        if bl_out <= v_in / 2 && v_in - bu_in > v_out / 2 {
            // Surely not more than half below the lower bound, and surely more than half at or
            // above the upper one.
            return Some(false);
        }
        None
    }
}

#[inline]
fn add(acc: &mut Counts, x: Counts) {
    for i in 0..3 {
        acc[i] += x[i];
    }
}

/// [`above_median`] by exact window counts: sliding column counts per band of rows.
fn exact_above_median(
    i4: ArrayView2<f32>,
    state: ArrayView2<u8>,
    mut pixels: Vec<(usize, usize)>,
    half: usize,
    lower_k: f32,
    upper_k: f32,
) -> Vec<(usize, usize)> {
    if pixels.is_empty() {
        return pixels;
    }
    pixels.sort_unstable();
    let rows = i4.nrows();
    let ncols = i4.ncols();
    // Bands of consecutive pixel rows, a few per thread so the work balances; each band pays
    // one window's worth of rows to start its column counts.
    let (first, last) = (pixels[0].0, pixels[pixels.len() - 1].0);
    let band_rows = ((last - first + 1) / (4 * rayon::current_num_threads()))
        .max(2 * half + 1)
        .max(1);
    let bands: Vec<&[(usize, usize)]> = pixels
        .chunk_by(|a, b| (a.0 - first) / band_rows == (b.0 - first) / band_rows)
        .collect();
    bands
        .into_par_iter()
        .flat_map_iter(|band| {
            let mut counts = ColumnCounts::new(i4, state, lower_k, upper_k);
            let r_start = band[0].0;
            // Rows r_start-half ..= r_start+half-1 now; each step adds r+half and drops r-half-1.
            let mut lo = r_start.saturating_sub(half);
            let mut hi = lo; // exclusive
            let mut out = Vec::new();
            for line in band.chunk_by(|a, b| a.0 == b.0) {
                let r = line[0].0;
                let (want_lo, want_hi) = (r.saturating_sub(half), (r + half).min(rows - 1) + 1);
                while hi < want_hi {
                    counts.apply_row(hi, true);
                    hi += 1;
                }
                while lo < want_lo {
                    counts.apply_row(lo, false);
                    lo += 1;
                }
                counts.build_prefix();
                for &(r, c) in line {
                    let (c0, c1) = (c.saturating_sub(half), (c + half).min(ncols - 1));
                    if above(i4, state, &counts, (lo, hi - 1), (c0, c1), i4[[r, c]]) {
                        out.push((r, c));
                    }
                }
            }
            out
        })
        .collect()
}

/// The decision for one pixel from its window counts, counting directly only when the median
/// may lie between the bounds.
fn above(
    i4: ArrayView2<f32>,
    state: ArrayView2<u8>,
    counts: &ColumnCounts,
    (r0, r1): (usize, usize),
    (c0, c1): (usize, usize),
    bt4: f32,
) -> bool {
    let [n, below_lower, below_upper] = counts.window(c0, c1);
    let n = n as usize;
    if n == 0 {
        // No background: BT4S falls back to its lower bound; the context decides.
        return true;
    }
    if below_lower as usize > n / 2 {
        // More than half the window is below 325 K: so is the median, and BT4 is above.
        return true;
    }
    if n - below_upper as usize > n / 2 {
        // More than half is at or above 330 K: so is the median, and BT4 ≤ 330 is not above.
        return false;
    }
    above_window_median(i4, state, r0, c0, r1, c1, bt4)
}

/// Is `bt4` above the median of the valid-background values of the window? Counts values below
/// and at-or-above; only when exactly half are below, for an even count, are the two middle
/// values found to take their mean.
fn above_window_median(
    i4: ArrayView2<f32>,
    state: ArrayView2<u8>,
    r0: usize,
    c0: usize,
    r1: usize,
    c1: usize,
    bt4: f32,
) -> bool {
    let window = i4.slice(s![r0..=r1, c0..=c1]);
    let valid = state.slice(s![r0..=r1, c0..=c1]);
    let (mut below, mut above) = (0usize, 0usize);
    for (line, sline) in window.axis_iter(Axis(0)).zip(valid.axis_iter(Axis(0))) {
        for (&v, &s) in line.iter().zip(sline.iter()) {
            let ok = s & bits::VALID_BG != 0;
            below += (ok && v < bt4) as usize;
            above += (ok && v >= bt4) as usize;
        }
    }
    let n = below + above;
    if n % 2 == 1 || below != n / 2 {
        return below > n / 2;
    }
    let (mut max_below, mut min_above) = (f32::NEG_INFINITY, f32::INFINITY);
    for (&v, &s) in window.iter().zip(valid.iter()) {
        if s & bits::VALID_BG == 0 {
            continue;
        }
        if v < bt4 {
            max_below = max_below.max(v);
        } else if v >= bt4 {
            min_above = min_above.min(v);
        }
    }
    bt4 > (max_below + min_above) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};

    /// The reference: sort the window's valid values, take the median, clamp to the bounds.
    fn by_sorting(
        i4: &Array2<f32>,
        state: ArrayView2<u8>,
        r: usize,
        c: usize,
        half: usize,
    ) -> bool {
        let (rows, cols) = i4.dim();
        let mut v = Vec::new();
        for rr in r.saturating_sub(half)..=(r + half).min(rows - 1) {
            for cc in c.saturating_sub(half)..=(c + half).min(cols - 1) {
                if state[[rr, cc]] & bits::VALID_BG != 0 {
                    v.push(i4[[rr, cc]]);
                }
            }
        }
        if v.is_empty() {
            return true;
        }
        v.sort_by(f32::total_cmp);
        let n = v.len();
        let m = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        i4[[r, c]] > m.clamp(325.0, 330.0)
    }

    fn scene(
        rng: &mut rand_chacha::ChaCha8Rng,
        rows: usize,
        cols: usize,
        centre: f32,
    ) -> (Array2<f32>, Array2<u8>) {
        // Quantised values make ties and even-count midpoints common.
        let i4 = Array2::from_shape_fn((rows, cols), |_| {
            (centre + rng.gen_range(-6.0f32..6.0)).round()
        });
        let state = Array2::from_shape_fn((rows, cols), |_| {
            if rng.gen_bool(0.8) {
                bits::VALID_BG
            } else {
                0
            }
        });
        (i4, state)
    }

    /// The median decision against sorting, on windows whose medians straddle the bounds.
    #[test]
    fn agrees_with_sorting() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for case in 0..30 {
            let (rows, cols) = (rng.gen_range(5..40), rng.gen_range(5..40));
            let centre: f32 = [320.0, 327.5, 333.0][case % 3];
            let (i4, state) = scene(&mut rng, rows, cols, centre);
            let pixels: Vec<(usize, usize)> = (0..rows)
                .flat_map(|r| (0..cols).map(move |c| (r, c)))
                .filter(|&(r, c)| i4[[r, c]] > 325.0 && i4[[r, c]] <= 330.0)
                .collect();
            let half = rng.gen_range(1..8);
            let fast = above_median(i4.view(), state.view(), pixels.clone(), half, 325.0, 330.0);
            let slow: Vec<(usize, usize)> = pixels
                .into_iter()
                .filter(|&(r, c)| by_sorting(&i4, state.view(), r, c, half))
                .collect();
            assert_eq!(fast, slow, "case {case}");
        }
    }

    /// Tile counts assembled from bands of rows, some counted by the per-pixel stage (whole,
    /// or only some blocks of columns) and some not, with band edges inside tiles, equal the
    /// counts of the whole scene.
    #[test]
    fn tile_counts_from_bands_equal_the_whole_scene() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let (rows, cols) = (75, 41);
        let (i4, state) = scene(&mut rng, rows, cols, 327.5);
        let whole = TileCounts::new(i4.view(), state.view(), 325.0, 330.0);
        // Counted ahead: the given blocks of columns of the band's rows.
        let counted = |band: Range<usize>, blocks: &[Range<usize>]| {
            let mut p = PartialTiles::new(band.clone(), cols);
            for cs in blocks {
                for r in band.clone() {
                    let (l4, ls) = (i4.row(r).to_vec(), state.row(r).to_vec());
                    let acc = &mut p.row_mut(r)[cs.start / TILE..];
                    count_row(&l4[cs.clone()], &ls[cs.clone()], 325.0, 330.0, acc);
                }
                p.counted.push(cs.clone());
            }
            p
        };
        // Bands 0..7, 7..23, 23..32, 32..50, 50..75: the first and third counted whole, the
        // fourth in blocks 0..16 and 32..41 (16..32 left), the fifth in 16..41 only (0..16 left).
        let a = counted(0..7, &[0..16, 16..41]);
        let c = counted(23..32, &[0..16, 16..cols]);
        let d = counted(32..50, &[0..16, 32..41]);
        let e = counted(50..75, &[16..32, 32..41]);
        assert_eq!(d.uncounted(cols), vec![16..32]);
        assert_eq!(e.uncounted(cols), vec![0..16]);
        assert!(a.uncounted(cols).is_empty());
        let parts = vec![
            (0..7, Some(&a)),
            (7..23, None),
            (23..32, Some(&c)),
            (32..50, Some(&d)),
            (50..75, Some(&e)),
        ];
        let assembled = TileCounts::from_parts(i4.view(), state.view(), 325.0, 330.0, parts);
        assert_eq!(assembled.sat, whole.sat);
        assert!(
            whole.sat.last().unwrap()[0] > 0,
            "the scene has valid background"
        );
    }

    /// Windows much larger than the tiles, over scenes that are mostly cool, mostly hot or
    /// balanced near the bounds: the tile bounds settle many pixels, and every answer still
    /// equals sorting.
    #[test]
    fn tile_bounds_agree_with_sorting() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
        let mut settled = 0;
        for case in 0..6 {
            let (rows, cols) = (rng.gen_range(90..130), rng.gen_range(90..130));
            let centre: f32 = [321.0, 327.5, 334.0][case % 3];
            let (i4, state) = scene(&mut rng, rows, cols, centre);
            let half = rng.gen_range(20..40);
            let pixels: Vec<(usize, usize)> = (0..rows)
                .flat_map(|r| (0..cols).map(move |c| (r, c)))
                .filter(|&(r, c)| i4[[r, c]] > 325.0 && i4[[r, c]] <= 330.0)
                .filter(|_| rng.gen_bool(0.05))
                .collect();
            let tiles = TileCounts::new(i4.view(), state.view(), 325.0, 330.0);
            settled += pixels
                .iter()
                .filter(|&&(r, c)| tiles.decide(r, c, half).is_some())
                .count();
            let fast = above_median(i4.view(), state.view(), pixels.clone(), half, 325.0, 330.0);
            let slow: Vec<(usize, usize)> = pixels
                .into_iter()
                .filter(|&(r, c)| by_sorting(&i4, state.view(), r, c, half))
                .collect();
            assert_eq!(fast, slow, "case {case}");
        }
        assert!(
            settled > 40,
            "the tile bounds settled only {settled} pixels"
        );
    }

    /// Tall scenes with few, scattered median pixels: many bands, long gaps between the rows
    /// that need counts, and pixels given in no particular order.
    #[test]
    fn sparse_rows_across_bands_agree_with_sorting() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        for case in 0..6 {
            let (rows, cols) = (rng.gen_range(150..400), rng.gen_range(20..60));
            let (i4, state) = scene(&mut rng, rows, cols, 327.5);
            let mut pixels: Vec<(usize, usize)> = (0..rows)
                .flat_map(|r| (0..cols).map(move |c| (r, c)))
                .filter(|&(r, c)| i4[[r, c]] > 325.0 && i4[[r, c]] <= 330.0)
                .filter(|_| rng.gen_bool(0.02))
                .collect();
            pixels.reverse();
            let half = rng.gen_range(1..6);
            let fast = above_median(i4.view(), state.view(), pixels.clone(), half, 325.0, 330.0);
            let mut slow: Vec<(usize, usize)> = pixels
                .into_iter()
                .filter(|&(r, c)| by_sorting(&i4, state.view(), r, c, half))
                .collect();
            slow.sort_unstable();
            assert!(!slow.is_empty(), "case {case}: no pixel above the median");
            assert_eq!(fast, slow, "case {case}");
        }
    }
}
