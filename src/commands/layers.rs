//! Shared by `locate` and `rank`: LAYER_SPECs from the command line to an indexed
//! [`Locator`], with load warnings on stderr.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use strawfire::hotspot::{read_hotspots, Feed};
use strawfire::locate::{
    load_layer, AreaMask, LayerSpec, Level, Locator, MaskSet, PointMask, Query, UnitLayer,
};

/// Default radius of a point mask when the spec gives none, m (a large plant's site and plume).
const DEFAULT_MASK_RADIUS_M: f64 = 1000.0;

/// Loads and indexes all layers. Several admin files of one level are merged into one index.
pub fn build_locator(
    admin: &[LayerSpec],
    parcels: Option<&LayerSpec>,
    masks: &[LayerSpec],
) -> anyhow::Result<Locator> {
    let started = Instant::now();
    let mut by_level: Vec<(Level, Vec<strawfire::locate::AreaFeature>)> = Vec::new();
    for spec in admin {
        let layer = load_layer(spec, None)?;
        if !matches!(
            layer.level,
            Level::County | Level::Township | Level::Village
        ) {
            bail!(
                "{}: --admin needs level county, township or village, not {}",
                spec.path.display(),
                layer.level
            );
        }
        report(&layer.warnings);
        match by_level.iter_mut().find(|(l, _)| *l == layer.level) {
            Some((_, f)) => f.extend(layer.areas),
            None => by_level.push((layer.level, layer.areas)),
        }
    }
    let admin_layers = by_level
        .into_iter()
        .map(|(level, features)| UnitLayer::new(level, features))
        .collect();
    let parcel_layer = match parcels {
        Some(spec) => {
            // A plain GeoPackage of fields goes from its WKB straight into the index (#18.6).
            let (layer, warnings) = UnitLayer::load(spec, Level::Parcel)?;
            report(&warnings);
            Some(layer)
        }
        None => None,
    };
    let mut points = Vec::new();
    let mut areas = Vec::new();
    for spec in masks {
        let layer = load_layer(spec, Some(Level::Mask))?;
        report(&layer.warnings);
        let reason = spec.reason.clone().unwrap_or_else(|| {
            spec.path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        let priority = spec.priority.unwrap_or(0);
        let radius_m = spec.radius_m.unwrap_or(DEFAULT_MASK_RADIUS_M);
        points.extend(layer.points.into_iter().map(|p| PointMask {
            name: if p.name.is_empty() { p.code } else { p.name },
            reason: reason.clone(),
            lon: p.location.x(),
            lat: p.location.y(),
            radius_m,
            priority,
        }));
        areas.extend(layer.areas.into_iter().map(|a| AreaMask {
            name: if a.name.is_empty() { a.code } else { a.name },
            reason: reason.clone(),
            priority,
            shape: a.shape,
        }));
    }
    let mask_set = MaskSet::new(points, areas);
    let locator = Locator::new(admin_layers, parcel_layer, mask_set);
    eprintln!(
        "layers loaded and indexed in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    Ok(locator)
}

fn report(warnings: &[String]) {
    for w in warnings.iter().take(20) {
        eprintln!("warning: {w}");
    }
    if warnings.len() > 20 {
        eprintln!("warning: ... and {} more", warnings.len() - 20);
    }
}

/// A feed's line on stderr: `a.csv: 3 hotspots read, 1 row skipped`.
fn feed_summary(path: &std::path::Path, read: usize, skipped: usize) -> String {
    let many = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "{}: {} read, {} skipped",
        path.display(),
        many(read, "hotspot", "hotspots"),
        many(skipped, "row", "rows")
    )
}

/// Reads every feed; malformed rows are warned about on stderr (first 20 per file).
pub fn read_feeds(paths: &[PathBuf]) -> anyhow::Result<Vec<Feed>> {
    paths
        .iter()
        .map(|p| {
            // Every reading error starts with the file's path.
            let feed = read_hotspots(p).context("reading hotspots")?;
            let msgs: Vec<String> = feed.warnings.iter().map(|w| w.to_string()).collect();
            report(&msgs);
            eprintln!("{}", feed_summary(p, feed.rows.len(), feed.warnings.len()));
            Ok(feed)
        })
        .collect()
}

/// The matcher query of a hotspot: its centre and pixel size (nominal size when the feed has
/// none: 375 m VIIRS, 1 km MODIS).
pub fn query_of(h: &strawfire::hotspot::Hotspot) -> Query {
    let nominal_km = h.nominal_pixel_km();
    let size = |v: Option<f64>| {
        v.filter(|v| v.is_finite() && *v > 0.0)
            .unwrap_or(nominal_km)
    };
    Query {
        lon: h.longitude,
        lat: h.latitude,
        scan_km: size(h.scan_km),
        track_km: size(h.track_km),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_summary_counts_in_english() {
        let p = std::path::Path::new("a.csv");
        assert_eq!(
            feed_summary(p, 1, 1),
            "a.csv: 1 hotspot read, 1 row skipped"
        );
        assert_eq!(
            feed_summary(p, 3, 0),
            "a.csv: 3 hotspots read, 0 rows skipped"
        );
    }
}
