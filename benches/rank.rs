//! Coverage benchmark: what fair rankings add to a scene's ingest. A full VIIRS I-band granule
//! (6464 × 6400 ≈ 41 Mpixels) of fire-mask classes (clear land, cloud, water, bow-tie fill) lying
//! over the sample counties (so every sample hits a polygon: the worst case for the locator) is
//! sampled on the regular grid (≤ 250,000 pixels), georeferenced, and each sample placed in its
//! county and township by the R-tree locator over the sample layers.
//!
//! Run: `cargo bench --bench rank`. Under `cargo test --all-targets` (no `--bench`) it is a smoke
//! run on a 640 × 640 mask.

use std::time::Instant;

use anyhow::Result;
use gdal::spatial_ref::SpatialRef;
use ndarray::Array2;
use strawfire::detect::MaskClass;
use strawfire::locate::{load_layer, LayerSpec, Level, Locator, MaskSet, UnitLayer};
use strawfire::rank::coverage::tally;
use strawfire::raster::{GeoRef, Wgs84Projector};
use strawfire::scan::coverage_samples;
use strawfire::service::rankings::unit_codes;

fn main() -> Result<()> {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let (rows, cols) = if smoke { (640, 640) } else { (6464, 6400) };
    let root = env!("CARGO_MANIFEST_DIR");
    let layer = |file: &str, rest: &str, level| -> Result<UnitLayer> {
        let spec = LayerSpec::parse(&format!("{root}/samples/admin/{file}:{rest}"))?;
        Ok(UnitLayer::new(level, load_layer(&spec, Some(level))?.areas))
    };
    let locator = Locator::new(
        vec![
            layer(
                "henan_hua_counties_gcj02.geojson",
                "level=county:code=adcode:name=name:crs=gcj02",
                Level::County,
            )?,
            layer(
                "henan_hua_townships_generated_gcj02.geojson",
                "level=township:code=code:name=name:parent=county:crs=gcj02",
                Level::Township,
            )?,
        ],
        None,
        MaskSet::new(Vec::new(), Vec::new()),
    );
    // Classes by deterministic pattern: fill rows (bow-tie), cloud blobs, a river, clear land.
    let mask = Array2::from_shape_fn((rows, cols), |(r, c)| {
        let class = if r % 100 < 3 {
            MaskClass::Fill
        } else if ((r / 200) + (c / 300)) % 3 == 0 {
            MaskClass::Cloud
        } else if (c as i64 - r as i64 / 2).rem_euclid(1000) < 20 {
            MaskClass::Water
        } else {
            MaskClass::Land
        };
        class as u8
    });
    // The granule over the sample counties (114.3–115.0 E, 35.2–36.0 N) in WGS84 degrees.
    let georef = GeoRef {
        transform: [114.3, 0.7 / cols as f64, 0.0, 36.0, 0.0, -0.8 / rows as f64],
        crs_wkt: SpatialRef::from_epsg(4326)?.to_wkt()?,
    };
    let projector = Wgs84Projector::new(&georef).map_err(anyhow::Error::msg)?;
    let t = Instant::now();
    let samples = coverage_samples(&projector, mask.view()).map_err(anyhow::Error::msg)?;
    let sample_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    // As the service does it (`service::ingest_scene_hashed`).
    let rows_out = tally(&samples, |lon, lat| unit_codes(&locator, lon, lat));
    let place_s = t.elapsed().as_secs_f64();
    let placed: u64 = rows_out
        .iter()
        .filter(|r| r.level == "county")
        .map(|r| r.land_pixels)
        .sum();
    println!(
        "coverage of a {rows} x {cols} mask: {} land samples ({placed} in a county), {} unit rows; \
         sample + georeference {:.3} s, place + tally {:.3} s, total {:.3} s",
        samples.len(),
        rows_out.len(),
        sample_s,
        place_s,
        sample_s + place_s
    );
    assert!(placed > 0, "no sample fell in a county");
    Ok(())
}
