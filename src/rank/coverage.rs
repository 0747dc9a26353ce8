//! What each overpass saw clear of cloud, per unit: the basis of fair rankings.
//!
//! A county under cloud detects no fires and would look clean. So every scene leaves, beside its
//! hotspots, a count per county and township of the *land* it observed (any valid pixel that is
//! not water) and of the land it saw *clear* (clear land or fire). Counting every pixel of a
//! 41 Mpixel granule through the locator would cost seconds; a regular grid of at most
//! [`MAX_SAMPLES`] pixels (every k-th row and column) gives the share to well under a percent
//! for any unit larger than a few dozen samples, and costs a fraction of a second.
//!
//! Pure: the scan gives the samples (position and fire-mask class), the caller gives a function
//! that places a position in its units.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::detect::MaskClass;

/// At most this many pixels are sampled per scene.
pub const MAX_SAMPLES: usize = 250_000;

/// One sampled land pixel: its centre and whether it was seen clear.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoverageSample {
    pub lon: f64,
    pub lat: f64,
    pub clear: bool,
}

/// Land pixels and clear land pixels a scene saw in one unit (the row of `scene_coverage`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnitCoverage {
    pub unit: String,
    /// `county` or `township`.
    pub level: String,
    pub land_pixels: u64,
    pub clear_pixels: u64,
}

/// The sampling step k (every k-th row and column) that keeps a `rows × cols` scene at or under
/// `max` samples.
///
/// # Examples
/// ```
/// use strawfire::rank::coverage::grid_step;
/// assert_eq!(grid_step(200, 200, 250_000), 1);
/// assert_eq!(grid_step(6464, 6400, 250_000), 13); // 498 × 493 samples
/// ```
pub fn grid_step(rows: usize, cols: usize, max: usize) -> usize {
    let mut k = ((rows as f64 * cols as f64 / max.max(1) as f64)
        .sqrt()
        .floor() as usize)
        .max(1);
    while rows.div_ceil(k) * cols.div_ceil(k) > max.max(1) {
        k += 1;
    }
    k
}

/// How a fire-mask class counts: `None` when the pixel is no land observation at all (not
/// processed, bow-tie fill, water), else `Some(clear)`. Cloud, glint and "unknown" are land not
/// seen clear; clear land and fires are land seen clear.
pub fn land_class(class: u8) -> Option<bool> {
    const FILL: u8 = MaskClass::Fill as u8;
    const NOT_PROCESSED: u8 = MaskClass::NotProcessed as u8;
    const WATER: u8 = MaskClass::Water as u8;
    const LAND: u8 = MaskClass::Land as u8;
    const FIRE_LOW: u8 = MaskClass::FireLow as u8;
    const FIRE_HIGH: u8 = MaskClass::FireHigh as u8;
    match class {
        NOT_PROCESSED | FILL | WATER => None,
        LAND | FIRE_LOW..=FIRE_HIGH => Some(true),
        _ => Some(false),
    }
}

/// Counts samples per unit. `place` gives the (county, township) codes of a position.
///
/// # Examples
/// ```
/// use strawfire::rank::coverage::{tally, CoverageSample};
/// let s = |lon, clear| CoverageSample { lon, lat: 35.0, clear };
/// let rows = tally(&[s(1.0, true), s(1.0, false), s(2.0, true)], |lon, _| {
///     (Some(if lon < 1.5 { "A".into() } else { "B".into() }), None)
/// });
/// assert_eq!((rows[0].unit.as_str(), rows[0].land_pixels, rows[0].clear_pixels), ("A", 2, 1));
/// assert_eq!((rows[1].unit.as_str(), rows[1].land_pixels, rows[1].clear_pixels), ("B", 1, 1));
/// ```
pub fn tally(
    samples: &[CoverageSample],
    place: impl Fn(f64, f64) -> (Option<String>, Option<String>) + Sync,
) -> Vec<UnitCoverage> {
    type Counts = BTreeMap<(&'static str, String), (u64, u64)>;
    // Placing is the cost (two point-in-polygon tests per sample): spread over rayon threads,
    // each counting its chunk, then merged.
    let counts = samples
        .par_chunks(4096)
        .map(|chunk| {
            let mut counts = Counts::new();
            for s in chunk {
                let (county, township) = place(s.lon, s.lat);
                for (level, unit) in [("county", county), ("township", township)] {
                    if let Some(unit) = unit {
                        let e = counts.entry((level, unit)).or_default();
                        e.0 += 1;
                        e.1 += u64::from(s.clear);
                    }
                }
            }
            counts
        })
        .reduce(Counts::new, |mut a, b| {
            for (k, (land, clear)) in b {
                let e = a.entry(k).or_default();
                e.0 += land;
                e.1 += clear;
            }
            a
        });
    counts
        .into_iter()
        .map(|((level, unit), (land, clear))| UnitCoverage {
            unit,
            level: level.to_string(),
            land_pixels: land,
            clear_pixels: clear,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_step_keeps_under_the_cap_and_is_one_for_small_scenes() {
        for (r, c) in [
            (1, 1),
            (200, 200),
            (500, 500),
            (501, 500),
            (6464, 6400),
            (10, 100_000),
        ] {
            let k = grid_step(r, c, MAX_SAMPLES);
            assert!(
                r.div_ceil(k) * c.div_ceil(k) <= MAX_SAMPLES,
                "{r}x{c} k={k}"
            );
            // And not coarser than needed.
            if k > 1 {
                assert!(r.div_ceil(k - 1) * c.div_ceil(k - 1) > MAX_SAMPLES);
            }
        }
        assert_eq!(grid_step(500, 500, MAX_SAMPLES), 1);
    }

    #[test]
    fn classes_count_as_land_and_clear() {
        let of = |c: MaskClass| land_class(c as u8);
        assert_eq!(of(MaskClass::NotProcessed), None);
        assert_eq!(of(MaskClass::Fill), None);
        assert_eq!(of(MaskClass::Water), None);
        assert_eq!(of(MaskClass::Cloud), Some(false));
        assert_eq!(of(MaskClass::Glint), Some(false));
        assert_eq!(of(MaskClass::Unknown), Some(false));
        assert_eq!(of(MaskClass::Land), Some(true));
        assert_eq!(of(MaskClass::FireLow), Some(true));
        assert_eq!(of(MaskClass::FireNominal), Some(true));
        assert_eq!(of(MaskClass::FireHigh), Some(true));
    }

    #[test]
    fn tally_counts_county_and_township_and_skips_unplaced() {
        let s = |lon, clear| CoverageSample {
            lon,
            lat: 0.0,
            clear,
        };
        let rows = tally(&[s(0.0, true), s(1.0, false), s(9.0, true)], |lon, _| {
            if lon > 5.0 {
                (None, None)
            } else {
                (Some("C".into()), Some(format!("T{lon}")))
            }
        });
        let got: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.level.as_str(),
                    r.unit.as_str(),
                    r.land_pixels,
                    r.clear_pixels,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("county", "C", 2, 1),
                ("township", "T0", 1, 1),
                ("township", "T1", 1, 0)
            ]
        );
    }

    #[test]
    fn parallel_tally_equals_a_sequential_count() {
        // 20,000 samples over several chunks, 7 units, clear every third.
        let samples: Vec<CoverageSample> = (0..20_000)
            .map(|i| CoverageSample {
                lon: (i % 7) as f64,
                lat: 0.0,
                clear: i % 3 == 0,
            })
            .collect();
        let rows = tally(&samples, |lon, _| (Some(format!("C{lon}")), None));
        let mut want = BTreeMap::new();
        for s in &samples {
            let e = want.entry(format!("C{}", s.lon)).or_insert((0, 0));
            e.0 += 1;
            e.1 += u64::from(s.clear);
        }
        let got: BTreeMap<String, (u64, u64)> = rows
            .into_iter()
            .map(|r| (r.unit, (r.land_pixels, r.clear_pixels)))
            .collect();
        assert_eq!(got, want);
    }
}
