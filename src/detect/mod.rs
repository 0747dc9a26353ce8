//! Active-fire detection: the published contextual algorithms, pure and synchronous.
//!
//! Inputs are ndarray views; outputs are a fire mask, fire pixels with FRP and confidence, and an
//! observation summary. No I/O, no GDAL, no async: the service runs this on rayon inside
//! `spawn_blocking`.

pub mod types;

pub use types::*;

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
}
