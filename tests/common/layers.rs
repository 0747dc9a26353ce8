//! The sample layers of `samples/admin/` (滑县 and neighbours: real counties, generated
//! townships and parcels) as a real `Locator`, for tests that need boundaries to draw or list.

use std::sync::Arc;

use strawfire::locate::{load_layer, LayerSpec, Level, Locator, MaskSet, UnitLayer};

pub const COUNTIES: &str =
    "samples/admin/henan_hua_counties_gcj02.geojson:level=county:code=adcode:name=name:crs=gcj02";
pub const TOWNSHIPS: &str = "samples/admin/henan_hua_townships_generated_gcj02.geojson:level=township:code=code:name=name:parent=county:crs=gcj02";
pub const PARCELS: &str = "samples/admin/henan_hua_parcels_generated_gcj02.geojson:level=parcel:code=parcel_id:parent=township:crs=gcj02";

/// A township of 滑县 that holds sample parcels (焦虎镇).
pub const JIAOHU: &str = "410526111";

fn layer(spec: &str, level: Level) -> UnitLayer {
    let spec = LayerSpec::parse(spec).unwrap();
    let l = load_layer(&spec, Some(level)).unwrap();
    UnitLayer::new(level, l.areas)
}

/// County, township and parcel layers of the samples, indexed.
pub fn sample_locator() -> Arc<Locator> {
    Arc::new(Locator::new(
        vec![
            layer(COUNTIES, Level::County),
            layer(TOWNSHIPS, Level::Township),
        ],
        Some(layer(PARCELS, Level::Parcel)),
        MaskSet::new(vec![], vec![]),
    ))
}
