//! Landsat 8/9 OLI 30 m active fires (Schroeder et al. 2016), pure and synchronous like the
//! VIIRS detector beside it, in a folder of its own: one sensor, one algorithm, one folder.
//!
//! The algorithm is reflective: TOA reflectances ρ1–ρ7, no brightness temperatures and no FRP.
//! By day (sun above the horizon) every pixel is tested for an unambiguous fire (the ρ7/ρ5 ratio
//! test, and the saturation/folding test on ρ6, ρ1, ρ5, ρ7), water (QA_PIXEL's bit or the
//! spectral test), cloud (QA_PIXEL) and candidate fires; each candidate is then confirmed against
//! the mean and standard deviation of R75 and ρ7 over the valid background of its 61 × 61
//! window. By night a band-7 threshold alone decides. Thresholds: `models/landsat-oli.toml`.
//!
//! Files: `pixel.rs` the per-pixel tests, `context.rs` the window statistics and decision,
//! `fast.rs` the parallel detector (rayon over row blocks, then over candidates), `reference.rs`
//! the sequential reference it is tested equal to (`equivalence_tests.rs`), `finish.rs`
//! confidence, the fire list and the summary (shared by both), `stream.rs` the same stages fed
//! block by block while a product is read (the scan's path: only the mask, ρ5 and ρ7 are kept
//! whole).

pub mod context;
pub mod fast;
pub mod finish;
pub mod pixel;
pub mod reference;
pub mod stream;

#[cfg(test)]
mod equivalence_tests;

pub use fast::detect_oli;
pub use reference::detect_oli_reference;

use ndarray::ArrayView2;

use super::{DetectError, ObservationSummary};
use crate::hotspot::Confidence;
use crate::raster::BandBuf;

/// The OLI inputs of one scene, as views `[row, col]` of one shape: ρ1–ρ7 (sun-normalised TOA
/// reflectance by day, apparent M·DN + A by night; NaN = fill), and the product's QA masks
/// (non-zero = cloud / water) when it has them.
#[derive(Debug, Clone, Copy)]
pub struct OliInput<'a> {
    pub rho: [ArrayView2<'a, f32>; 7],
    pub cloud: Option<ArrayView2<'a, u8>>,
    pub water: Option<ArrayView2<'a, u8>>,
    /// The sun is above the model's day threshold (MTL `SUN_ELEVATION`).
    pub day: bool,
}

impl<'a> OliInput<'a> {
    /// Views bands by canonical name (`B1` … `B7`); every band must have the shape of `B7`.
    pub fn from_bands(
        get: impl Fn(&str) -> Option<ArrayView2<'a, f32>>,
        cloud: Option<ArrayView2<'a, u8>>,
        water: Option<ArrayView2<'a, u8>>,
        day: bool,
    ) -> Result<Self, DetectError> {
        let mut rho = Vec::with_capacity(7);
        for n in 1..=7 {
            let name = format!("B{n}");
            rho.push(get(&name).ok_or(DetectError::MissingBand(name))?);
        }
        let rho: [ArrayView2<f32>; 7] = rho.try_into().expect("seven bands");
        let want = rho[6].dim();
        for (i, b) in rho.iter().enumerate() {
            if b.dim() != want {
                return Err(DetectError::Shape {
                    band: format!("B{}", i + 1),
                    got: b.dim(),
                    want,
                });
            }
        }
        for (name, m) in [("QA cloud", cloud), ("QA water", water)] {
            if let Some(m) = m {
                if m.dim() != want {
                    return Err(DetectError::Shape {
                        band: name.into(),
                        got: m.dim(),
                        want,
                    });
                }
            }
        }
        Ok(OliInput {
            rho,
            cloud,
            water,
            day,
        })
    }

    /// (rows, cols).
    pub fn dim(&self) -> (usize, usize) {
        self.rho[6].dim()
    }

    /// The seven reflectances of pixel (r, c).
    #[inline]
    pub fn at(&self, r: usize, c: usize) -> [f32; 7] {
        std::array::from_fn(|i| self.rho[i][[r, c]])
    }
}

/// Which test found a fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FireTest {
    /// Day: R75, ρ7 − ρ5 and ρ7 above the unambiguous thresholds.
    Unambiguous,
    /// Day: the saturation/folding test (ρ6 high, ρ1 low, ρ5 high or ρ7 folded low).
    Saturated,
    /// Day: a candidate confirmed against its 61 × 61 background.
    Contextual,
    /// Night: ρ7 above the night threshold.
    Night,
}

/// One fire pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct OliFire {
    /// 0-based pixel indices.
    pub row: usize,
    pub col: usize,
    pub rho5: f32,
    pub rho6: f32,
    pub rho7: f32,
    pub test: FireTest,
    pub confidence: Confidence,
    pub day: bool,
}

/// The detector's result for one scene: the fire mask (`MaskClass as u8`, the VIIRS classes:
/// 1 fill, 3 water, 4 cloud, 5 clear land, 6 unknown, 7–9 fire l/n/h), the fires in row-major
/// order, and the observation summary.
#[derive(Debug, Clone, PartialEq)]
pub struct OliDetection {
    pub mask: BandBuf<u8>,
    pub fires: Vec<OliFire>,
    pub summary: ObservationSummary,
}
