//! Locate: each hotspot to its county, township, village, field parcel and mask.
//!
//! A fire point is only actionable once it names the township that must go and the field that
//! burned. Layers are loaded once through OGR ([`layer`], the only I/O here), converted to
//! WGS84 (GCJ-02 included, [`gcj02`]), indexed once ([`index`]) and then matched many times by
//! the pure [`locator::Locator`].
//!
//! - [`spec`]: LAYER_SPEC parsing (`PATH[:key=value]...`).
//! - [`gcj02`]: WGS84 ↔ GCJ-02.
//! - [`bd09`]: GCJ-02 ↔ BD-09 (Baidu), WGS84 → BD-09.
//! - [`navlink`]: links that open a position in 高德/百度/腾讯 or any `geo:` map app.
//! - [`layer`]: OGR → plain features in WGS84.
//! - [`gpkg`]: plain GeoPackages read straight from SQLite (the loader's fast road).
//! - [`heap`]: a batch job's heap that keeps what it frees (glibc), for `strawfire locate`.
//! - [`index`]: R-tree over polygons; point-in-polygon and footprint overlap.
//! - [`flat`]: polygons laid out flat (closed, oriented rings in one array) for matching.
//! - [`packed`]: the static packed Hilbert R-tree under [`index`].
//! - [`mask`]: heat sources and sensitive areas that label a hotspot.
//! - [`units`]: the units' codes, names and parents as text in the index's order.
//! - `window_integral`: [`flat`]'s window integral four edges at a time (AVX), the same bits.
//! - `kernel`: the footprint match's inner loops, scalar or AVX, chosen once per footprint.
//! - [`locator`]: the matcher over all layers.

pub mod bd09;
pub mod flat;
pub mod gcj02;
mod gpkg;
pub mod heap;
pub mod index;
mod kernel;
pub mod layer;
pub mod locator;
pub mod mask;
pub mod navlink;
pub mod packed;
pub mod spec;
pub mod units;
mod window_integral;

pub use layer::{load_layer, AreaFeature, Layer, LayerError, PointFeature};
pub use locator::{
    Location, LocationRef, Locations, Locator, ParcelShare, Parcels, Query, UnitInfo, UnitLayer,
};
pub use mask::{AreaMask, MaskHit, MaskSet, PointMask};
pub use spec::{CrsSpec, LayerSpec, Level, SpecError};
