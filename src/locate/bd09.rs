//! GCJ-02 ↔ BD-09, Baidu's datum, and WGS84 → BD-09 through GCJ-02.
//!
//! Baidu Map (百度地图) shifts GCJ-02 once more: a small rotation and scaling in polar
//! coordinates plus a constant offset (0.0065°, 0.006°). A link that hands Baidu a GCJ-02 or
//! WGS84 position as `bd09ll` puts the patrol several hundred metres from the fire. The
//! formulas are the ones Baidu's own conversion was reverse-engineered to, published and used
//! identically in every port (wandergis/coordtransform, hutool `CoordinateUtil`, eviltransform).
//! The published inverse is itself an approximation (≈ 1e-6°, decimetres); [`bd09_to_gcj02`]
//! starts from it and refines by fixed-point iteration of the forward formula, so a round trip
//! returns the point to well under a millimetre.
//!
//! Unlike GCJ-02, Baidu applies BD-09 everywhere (there is no `outOfChina` test in the formula).
//!
//! All coordinates are `(lon, lat)` in degrees.

use std::f64::consts::PI;

use super::gcj02::{gcj02_to_wgs84, wgs84_to_gcj02};

/// The "x_pi" of every port: π · 3000 / 180.
const X_PI: f64 = PI * 3000.0 / 180.0;
/// The constant offset of BD-09 from the rotated GCJ-02 position, degrees.
const OFFSET_LON_DEG: f64 = 0.0065;
const OFFSET_LAT_DEG: f64 = 0.006;

/// Convergence threshold of the refined inverse, degrees (about 0.01 mm).
const INVERSE_TOLERANCE_DEG: f64 = 1e-10;
const INVERSE_MAX_ITERATIONS: usize = 10;

/// GCJ-02 `(lon, lat)` → BD-09 `(lon, lat)`.
///
/// # Examples
/// ```
/// use strawfire::locate::bd09::gcj02_to_bd09;
/// // Tiananmen, the pair published with wandergis/coordtransform (and hutool's tests).
/// let (lon, lat) = gcj02_to_bd09(116.404, 39.915);
/// assert!((lon - 116.410_369_494).abs() < 1e-8 && (lat - 39.921_336_994).abs() < 1e-8);
/// ```
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.000_02 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000_003 * (lon * X_PI).cos();
    (
        z * theta.cos() + OFFSET_LON_DEG,
        z * theta.sin() + OFFSET_LAT_DEG,
    )
}

/// The published approximate inverse of [`gcj02_to_bd09`] (off by up to ≈ 1e-6°).
pub fn bd09_to_gcj02_published(lon: f64, lat: f64) -> (f64, f64) {
    let x = lon - OFFSET_LON_DEG;
    let y = lat - OFFSET_LAT_DEG;
    let z = (x * x + y * y).sqrt() - 0.000_02 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000_003 * (x * X_PI).cos();
    (z * theta.cos(), z * theta.sin())
}

/// BD-09 `(lon, lat)` → GCJ-02 `(lon, lat)`: the published inverse, refined until the forward
/// formula gives the BD-09 point back to about 0.01 mm.
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let (mut glon, mut glat) = bd09_to_gcj02_published(lon, lat);
    for _ in 0..INVERSE_MAX_ITERATIONS {
        let (blon, blat) = gcj02_to_bd09(glon, glat);
        let (elon, elat) = (blon - lon, blat - lat);
        glon -= elon;
        glat -= elat;
        if elon.abs() < INVERSE_TOLERANCE_DEG && elat.abs() < INVERSE_TOLERANCE_DEG {
            break;
        }
    }
    (glon, glat)
}

/// WGS84 `(lon, lat)` → BD-09 `(lon, lat)` (through GCJ-02, as Baidu does).
pub fn wgs84_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let (g_lon, g_lat) = wgs84_to_gcj02(lon, lat);
    gcj02_to_bd09(g_lon, g_lat)
}

/// BD-09 `(lon, lat)` → WGS84 `(lon, lat)`.
pub fn bd09_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (g_lon, g_lat) = bd09_to_gcj02(lon, lat);
    gcj02_to_wgs84(g_lon, g_lat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::georef::haversine_m;

    /// wandergis/coordtransform's README example (116.404, 39.915), as repeated in hutool's
    /// `CoordinateUtilTest`: `gcj02tobd09` and `bd09togcj02` of the same input.
    const INPUT: (f64, f64) = (116.404, 39.915);
    const GCJ_TO_BD: (f64, f64) = (116.41036949371029, 39.92133699351021);
    const BD_TO_GCJ: (f64, f64) = (116.39762729119315, 39.90865673957631);

    #[test]
    fn forward_matches_the_published_pair() {
        let got = gcj02_to_bd09(INPUT.0, INPUT.1);
        assert!(
            (got.0 - GCJ_TO_BD.0).abs() < 1e-12 && (got.1 - GCJ_TO_BD.1).abs() < 1e-12,
            "{got:?}"
        );
    }

    #[test]
    fn published_inverse_matches_and_the_refined_one_is_within_decimetres_of_it() {
        let got = bd09_to_gcj02_published(INPUT.0, INPUT.1);
        assert!(
            (got.0 - BD_TO_GCJ.0).abs() < 1e-12 && (got.1 - BD_TO_GCJ.1).abs() < 1e-12,
            "{got:?}"
        );
        let refined = bd09_to_gcj02(INPUT.0, INPUT.1);
        let d = haversine_m(refined, BD_TO_GCJ);
        assert!(d < 0.5, "refined inverse {d} m from the published one");
    }

    #[test]
    fn beijing_railway_station_in_both_datums() {
        // GCJ-02 (116.42703, 39.90245) ↔ BD-09 (116.43351, 39.90851), the example of the R
        // package `cst` (5 decimals, so metres).
        let bd = gcj02_to_bd09(116.42703, 39.90245);
        assert!(haversine_m(bd, (116.43351, 39.90851)) < 2.0, "{bd:?}");
        let g = bd09_to_gcj02(116.43351, 39.90851);
        assert!(haversine_m(g, (116.42703, 39.90245)) < 2.0, "{g:?}");
    }

    #[test]
    fn round_trips_to_under_a_millimetre_and_the_shift_is_hundreds_of_metres() {
        for i in 0..300 {
            let lon = 74.0 + (i as f64) * 0.21;
            let lat = 18.0 + (i as f64 * 0.173) % 35.0;
            let bd = gcj02_to_bd09(lon, lat);
            let back = bd09_to_gcj02(bd.0, bd.1);
            assert!(
                haversine_m(back, (lon, lat)) < 0.001,
                "GCJ round trip at ({lon},{lat})"
            );
            let bd = wgs84_to_bd09(lon, lat);
            let back = bd09_to_wgs84(bd.0, bd.1);
            assert!(
                haversine_m(back, (lon, lat)) < 0.001,
                "WGS84 round trip at ({lon},{lat})"
            );
        }
        // 滑县: WGS84 → BD-09 is roughly 1 km (GCJ-02's few hundred metres plus Baidu's).
        let wgs = (114.552, 35.505);
        let d = haversine_m(wgs, wgs84_to_bd09(wgs.0, wgs.1));
        assert!((500.0..1500.0).contains(&d), "{d} m");
        // BD-09 is the GCJ-02 position shifted again, by several hundred metres.
        let g = wgs84_to_gcj02(wgs.0, wgs.1);
        let d = haversine_m(g, gcj02_to_bd09(g.0, g.1));
        assert!((300.0..1000.0).contains(&d), "{d} m");
    }

    #[test]
    fn wgs84_to_bd09_is_gcj02_then_bd09() {
        let g = wgs84_to_gcj02(116.404, 39.915);
        assert_eq!(wgs84_to_bd09(116.404, 39.915), gcj02_to_bd09(g.0, g.1));
    }
}
