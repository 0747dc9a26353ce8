//! The crate error: module errors rolled up with `#[from]`, so library callers match one type.

/// Any strawfire library error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Raster(#[from] crate::raster::RasterError),
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    #[error(transparent)]
    Detect(#[from] crate::detect::DetectError),
    #[error(transparent)]
    Synth(#[from] crate::synth::SynthError),
    #[error(transparent)]
    LayerSpec(#[from] crate::locate::SpecError),
    #[error(transparent)]
    Layer(#[from] crate::locate::LayerError),
    #[error(transparent)]
    HotspotRead(#[from] crate::hotspot::ReadError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Product(#[from] crate::product::ProductError),
}

/// Result with the crate [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
