//! Active-fire detection: the published contextual algorithms, pure and synchronous.
//!
//! Inputs are ndarray views; outputs are a fire mask, fire pixels with FRP and confidence, and an
//! observation summary. No I/O, no GDAL, no async: the service runs this on rayon inside
//! `spawn_blocking`.
//!
//! Files: `pixel.rs` per-pixel tests, `context.rs` background statistics and decisions,
//! `strip.rs` the per-pixel stage over a band of rows, `median.rs` the 501×501 median bound,
//! `viirs.rs` the fast parallel detector, `window.rs` the
//! background window sums it asks first, `reference.rs` the sequential reference it is checked
//! against, `finish.rs` confidence, FRP and the summary, `types.rs` inputs and outputs.

pub mod context;
pub mod finish;
pub mod median;
pub mod modis;
pub mod msi;
pub mod oli;
pub mod pixel;
pub mod reference;
pub mod strip;
pub mod types;
pub mod viirs;
pub mod window;

pub use reference::detect_viirs_reference;
pub use types::*;
pub use viirs::{detect_classified, detect_viirs, Classified};

use crate::model::SensorModel;
use ndarray::ArrayView2;

use crate::raster::{BandBuf, Scene};
use pixel::Px;

/// Errors of the detector.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    /// The input bands have different shapes: the scene is inconsistent.
    #[error("band {band} is {got:?} but I4 is {want:?}")]
    Shape {
        band: String,
        got: (usize, usize),
        want: (usize, usize),
    },
    /// The scene lacks a band the algorithm needs (the raster reader normally catches this).
    #[error("the scene has no band {0}")]
    MissingBand(String),
    /// The system could not map memory for a whole-scene raster of the detector.
    #[error("no memory for the {0} raster: {1}")]
    NoMemory(&'static str, String),
}

/// A zeroed whole-scene raster of the per-pixel stage (`what`: its mask or its state), on huge
/// pages like the bands ([`BandBuf`]).
pub(crate) fn stage_raster(
    what: &'static str,
    shape: (usize, usize),
) -> Result<BandBuf<u8>, DetectError> {
    BandBuf::zeros(shape).map_err(|e| DetectError::NoMemory(what, e.to_string()))
}

impl<'a> ViirsInput<'a> {
    /// Views the model's bands of a scene read by [`crate::raster::read_scene`]. Glint geometry
    /// is used when VZA, SAA and VAA are all present.
    pub fn from_scene(scene: &'a Scene, _m: &SensorModel) -> Result<Self, DetectError> {
        Self::from_bands(|name| scene.band(name))
    }

    /// Views bands by canonical name (`I1` … `I5`, `SZA`, optionally `VZA`, `SAA`, `VAA`).
    pub fn from_bands(
        get: impl Fn(&str) -> Option<ArrayView2<'a, f32>>,
    ) -> Result<Self, DetectError> {
        let need = |name: &str| get(name).ok_or_else(|| DetectError::MissingBand(name.into()));
        let geometry = match (get("VZA"), get("SAA"), get("VAA")) {
            (Some(vza), Some(saa), Some(vaa)) => Some(GlintGeometry { vza, saa, vaa }),
            _ => None,
        };
        let input = ViirsInput {
            i1: need("I1")?,
            i2: need("I2")?,
            i3: need("I3")?,
            i4: need("I4")?,
            i5: need("I5")?,
            sza: need("SZA")?,
            geometry,
            water: None,
        };
        check_shapes(&input)?;
        Ok(input)
    }
}

impl<'a> ViirsInput<'a> {
    /// The same input with the product's land/water mask (non-zero = water).
    pub fn with_water(self, water: Option<ArrayView2<'a, u8>>) -> Self {
        ViirsInput { water, ..self }
    }
}

/// The bands the VIIRS detector needs whole after the per-pixel stage (for the windows, the
/// median and the neighbours); the others it needs only strip by strip.
pub const VIIRS_WHOLE_BANDS: [&str; 2] = ["I4", "I5"];

/// The values of pixel (r, c).
#[inline]
pub(crate) fn px_at(input: &ViirsInput, r: usize, c: usize) -> Px {
    Px {
        r1: input.i1[[r, c]],
        r2: input.i2[[r, c]],
        r3: input.i3[[r, c]],
        bt4: input.i4[[r, c]],
        bt5: input.i5[[r, c]],
        sza: input.sza[[r, c]],
    }
}

/// The land/water mask at pixel (r, c), when the input has one.
#[inline]
pub(crate) fn water_at(input: &ViirsInput, r: usize, c: usize) -> Option<bool> {
    input.water.map(|w| w[[r, c]] != 0)
}

fn check_shapes(input: &ViirsInput) -> Result<(), DetectError> {
    let want = input.i4.dim();
    let mut named = vec![
        ("I1", input.i1),
        ("I2", input.i2),
        ("I3", input.i3),
        ("I5", input.i5),
        ("SZA", input.sza),
    ];
    if let Some(g) = input.geometry {
        named.extend([("VZA", g.vza), ("SAA", g.saa), ("VAA", g.vaa)]);
    }
    if let Some(w) = input.water {
        if w.dim() != want {
            return Err(DetectError::Shape {
                band: "water mask".into(),
                got: w.dim(),
                want,
            });
        }
    }
    for (band, a) in named {
        if a.dim() != want {
            return Err(DetectError::Shape {
                band: band.to_string(),
                got: a.dim(),
                want,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod equivalence_tests;
