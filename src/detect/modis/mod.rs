//! MODIS 1 km active fires, Collection 6/6.1 (Giglio et al. 2003; Giglio, Schroeder & Justice
//! 2016), pure and synchronous like the VIIRS and OLI detectors, in a folder of its own.
//!
//! Every pixel is first classified alone (`pixel.rs`): missing data, water (the product's
//! land/sea mask), cloud, clear land; T4 from band 22, or band 21 where band 22 saturates;
//! potential fires, absolute fires, background fires and "unmasked water". Each potential fire
//! is then judged against its background window (`context.rs`), which grows from 3 × 3 to 21 × 21
//! until enough of it is valid: the five contextual tests, then by day the glint, desert-boundary,
//! coastal and forest-clearing rejections; confidence from the C6 ramps and FRP follow
//! (`finish.rs`). Thresholds: `models/modis-c61.toml` (FY-3D MERSI-II: `models/fy3d-mersi.toml`,
//! same keys).
//!
//! Files: `pixel.rs` the per-pixel tests, `context.rs` the window statistics and the decision,
//! `fast.rs` the parallel detector (rayon over strips of rows, a summed-area table of valid
//! pixels to size each window in O(1), rayon over candidates), `reference.rs` the sequential
//! reference it is tested equal to (`equivalence_tests.rs`), `finish.rs` confidence, FRP, the
//! fire list and the summary (shared by both).
//!
//! The fire mask uses MOD14's classes, which share their numbers with [`MaskClass`]: 0 not
//! processed (missing input), 3 non-fire water, 4 cloud, 5 non-fire land (glint-rejected pixels
//! too, as MOD14 does), 6 unknown, 7/8/9 fire of low/nominal/high confidence.

pub mod context;
pub mod fast;
pub mod finish;
pub mod pixel;
pub mod reference;

#[cfg(test)]
mod equivalence_tests;

pub use fast::detect_modis;
pub use pixel::night_t4_threshold;
pub use reference::detect_modis_reference;

use ndarray::ArrayView2;

use super::{DetectError, MaskClass, ObservationSummary, PixelArea};
use crate::hotspot::Confidence;
use crate::raster::BandBuf;

/// The MODIS-family inputs of one granule, as views `[row, col]` of one shape (rows along
/// track, columns along scan): TOA reflectance of bands 1, 2, 7 (0.65, 0.86, 2.1 µm; NaN at
/// night is fine), brightness temperatures of bands 21, 22, 31, 32 (K), solar zenith (°), the
/// glint geometry when given, and the land/sea mask (non-zero = water) when the product has it.
#[derive(Debug, Clone, Copy)]
pub struct ModisInput<'a> {
    pub b1: ArrayView2<'a, f32>,
    pub b2: ArrayView2<'a, f32>,
    pub b7: ArrayView2<'a, f32>,
    pub b21: ArrayView2<'a, f32>,
    pub b22: ArrayView2<'a, f32>,
    pub b31: ArrayView2<'a, f32>,
    pub b32: ArrayView2<'a, f32>,
    pub sza: ArrayView2<'a, f32>,
    /// View zenith, solar azimuth, view azimuth (°): all three or none.
    pub geometry: Option<[ArrayView2<'a, f32>; 3]>,
    pub water: Option<ArrayView2<'a, u8>>,
    /// The band-22 value a saturated pixel has in this product (`Granule::saturation["B22"]`),
    /// when the product says; a pixel at or above it, or above the model's `b22_saturation_k`,
    /// takes T4 from band 21.
    pub b22_saturation: Option<f32>,
}

/// The canonical band names of a MODIS granule the detector reads (`product::Granule`).
pub const MODIS_BANDS: [&str; 8] = ["B1", "B2", "B7", "B21", "B22", "B31", "B32", "SZA"];

impl<'a> ModisInput<'a> {
    /// Views bands by canonical name (`B1`, `B2`, `B7`, `B21`, `B22`, `B31`, `B32`, `SZA`;
    /// `VZA`, `SAA`, `VAA` used for glint when all three are there); every band must have the
    /// shape of `B22`.
    pub fn from_bands(
        get: impl Fn(&str) -> Option<ArrayView2<'a, f32>>,
        water: Option<ArrayView2<'a, u8>>,
        b22_saturation: Option<f32>,
    ) -> Result<Self, DetectError> {
        let need = |name: &str| get(name).ok_or_else(|| DetectError::MissingBand(name.into()));
        let geometry = match (get("VZA"), get("SAA"), get("VAA")) {
            (Some(a), Some(b), Some(c)) => Some([a, b, c]),
            _ => None,
        };
        let input = ModisInput {
            b1: need("B1")?,
            b2: need("B2")?,
            b7: need("B7")?,
            b21: need("B21")?,
            b22: need("B22")?,
            b31: need("B31")?,
            b32: need("B32")?,
            sza: need("SZA")?,
            geometry,
            water,
            b22_saturation,
        };
        input.check_shapes()?;
        Ok(input)
    }

    /// (rows, cols).
    pub fn dim(&self) -> (usize, usize) {
        self.b22.dim()
    }

    fn check_shapes(&self) -> Result<(), DetectError> {
        let want = self.dim();
        let mut named = vec![
            ("B1", self.b1),
            ("B2", self.b2),
            ("B7", self.b7),
            ("B21", self.b21),
            ("B31", self.b31),
            ("B32", self.b32),
            ("SZA", self.sza),
        ];
        if let Some([a, b, c]) = self.geometry {
            named.extend([("VZA", a), ("SAA", b), ("VAA", c)]);
        }
        for (band, a) in named {
            if a.dim() != want {
                return Err(DetectError::Shape {
                    band: band.into(),
                    got: a.dim(),
                    want,
                });
            }
        }
        if let Some(w) = self.water {
            if w.dim() != want {
                return Err(DetectError::Shape {
                    band: "water mask".into(),
                    got: w.dim(),
                    want,
                });
            }
        }
        Ok(())
    }
}

/// Which test found a fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FireTest {
    /// T4 above the absolute threshold (360 K day, 320 K night).
    Absolute,
    /// A potential fire confirmed by the contextual tests.
    Contextual,
}

/// One fire pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct ModisFire {
    /// 0-based pixel indices.
    pub row: usize,
    pub col: usize,
    /// T4 (band 22, or 21 where 22 saturates), K: FIRMS `brightness`.
    pub t4_k: f32,
    /// T11 (band 31), K: FIRMS `bright_t31`.
    pub t11_k: f32,
    /// T4 came from band 21 (band 22 saturated).
    pub b21_used: bool,
    /// Mean T4 of the valid background, K (NaN when none was found: an absolute fire in an
    /// unknown background; its FRP then takes T11 as the background T4).
    pub background_t4_k: f32,
    /// Fire radiative power, MW.
    pub frp_mw: f64,
    /// Detection confidence, 0–1 (FIRMS writes it ×100).
    pub confidence: f64,
    pub class: MaskClass,
    pub test: FireTest,
    pub day: bool,
    /// Side of the background window used, pixels (0 when none).
    pub window: usize,
}

impl ModisFire {
    /// The FIRMS MODIS confidence, 0–100 %.
    pub fn firms_confidence(&self) -> Confidence {
        Confidence::Percent((self.confidence * 100.0).round().clamp(0.0, 100.0) as u8)
    }
}

/// The detector's result: the MOD14 fire mask, the fires in row-major order, the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct ModisDetection {
    pub mask: BandBuf<u8>,
    pub fires: Vec<ModisFire>,
    pub summary: ObservationSummary,
}

/// Ground area of each pixel for FRP: a MODIS swath's per-column area
/// (`product::modis_swath::pixel_area_m2`), or any [`PixelArea`].
pub type ModisArea = PixelArea;

/// Pixel (r, c)'s inputs for the per-pixel stage.
#[inline]
pub(crate) fn px_at(input: &ModisInput, r: usize, c: usize) -> pixel::Px {
    pixel::Px {
        r1: input.b1[[r, c]],
        r2: input.b2[[r, c]],
        r7: input.b7[[r, c]],
        t21: input.b21[[r, c]],
        t22: input.b22[[r, c]],
        t31: input.b31[[r, c]],
        t32: input.b32[[r, c]],
        sza: input.sza[[r, c]],
        water: input.water.is_some_and(|w| w[[r, c]] != 0),
        has_mask: input.water.is_some(),
    }
}

/// A potential fire's values for the contextual stage: its own bands, glint angle, the cloud and
/// water pixels among its 8 neighbours (stage-1 classes) and its ground area.
pub(crate) fn candidate_at(
    input: &ModisInput,
    planes: &context::Planes,
    (r, c): (usize, usize),
    area: &PixelArea,
) -> context::Candidate {
    let k = r * planes.cols + c;
    let (mut cloud, mut water) = (0, 0);
    for i in r.saturating_sub(1)..(r + 2).min(planes.rows) {
        for j in c.saturating_sub(1)..(c + 2).min(planes.cols) {
            if (i, j) == (r, c) {
                continue;
            }
            let class = planes.class[i * planes.cols + j];
            cloud += (class == MaskClass::Cloud as u8) as usize;
            water += (class == MaskClass::Water as u8) as usize;
        }
    }
    let sza = input.sza[[r, c]];
    context::Candidate {
        row: r,
        col: c,
        flags: planes.flags[k],
        t4: planes.t4[k],
        t11: planes.t11[k],
        r1: input.b1[[r, c]],
        r2: input.b2[[r, c]],
        r7: input.b7[[r, c]],
        glint_deg: context::Candidate::glint(sza, input.geometry.map(|g| g.map(|a| a[[r, c]]))),
        adjacent_cloud: cloud,
        adjacent_water: water,
        area_m2: area.at(r, c),
        water: planes.is_water(k),
    }
}
