//! WGS84 ↔ GCJ-02, the obfuscated datum of Chinese web maps.
//!
//! Satellites report WGS84; AMap, DataV and most Chinese boundary files are in GCJ-02, offset by
//! up to several hundred metres. Matching a hotspot against a GCJ-02 county without converting
//! one of them puts fires near a border into the wrong county. The forward transform is the
//! widely published one (Krasovsky ellipsoid constants, the same polynomial in every port:
//! eviltransform, coordtransform); it has no closed-form inverse, so [`gcj02_to_wgs84`]
//! iterates the forward transform to well under a millimetre.
//!
//! Outside China's bounding box (the published `outOfChina` test) both directions are the
//! identity, as in every reference implementation.
//!
//! All coordinates are `(lon, lat)` in degrees.

use std::f64::consts::PI;

/// Semi-major axis of the Krasovsky 1940 ellipsoid used by the GCJ-02 formula, m.
const KRASOVSKY_A_M: f64 = 6_378_245.0;
/// First eccentricity squared of the same ellipsoid.
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;

/// Convergence threshold of the inverse, degrees (about 0.01 mm).
const INVERSE_TOLERANCE_DEG: f64 = 1e-10;
const INVERSE_MAX_ITERATIONS: usize = 30;

/// True when `(lon, lat)` lies outside the box in which GCJ-02 differs from WGS84.
pub fn out_of_china(lon: f64, lat: f64) -> bool {
    !((72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat))
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// The GCJ-02 offset `(dlon, dlat)` in degrees at a WGS84 point.
fn offset_deg(lon: f64, lat: f64) -> (f64, f64) {
    let dlat = transform_lat(lon - 105.0, lat - 35.0);
    let dlon = transform_lon(lon - 105.0, lat - 35.0);
    let rad_lat = lat.to_radians();
    let magic = 1.0 - KRASOVSKY_EE * rad_lat.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let dlat_deg =
        (dlat * 180.0) / ((KRASOVSKY_A_M * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let dlon_deg = (dlon * 180.0) / (KRASOVSKY_A_M / sqrt_magic * rad_lat.cos() * PI);
    (dlon_deg, dlat_deg)
}

/// WGS84 `(lon, lat)` → GCJ-02 `(lon, lat)`.
///
/// # Examples
/// ```
/// use strawfire::locate::gcj02::wgs84_to_gcj02;
/// // Tiananmen, the pair published in coordtransform's README.
/// let (lon, lat) = wgs84_to_gcj02(116.404, 39.915);
/// assert!((lon - 116.410_244_499).abs() < 1e-6 && (lat - 39.916_404_281).abs() < 1e-6);
/// ```
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    let (dlon, dlat) = offset_deg(lon, lat);
    (lon + dlon, lat + dlat)
}

/// GCJ-02 `(lon, lat)` → WGS84 `(lon, lat)` by fixed-point iteration of the forward transform
/// (converges to about 0.01 mm in a few steps, since the offset varies slowly).
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    let (mut wlon, mut wlat) = (lon, lat);
    for _ in 0..INVERSE_MAX_ITERATIONS {
        let (glon, glat) = wgs84_to_gcj02(wlon, wlat);
        let (elon, elat) = (glon - lon, glat - lat);
        wlon -= elon;
        wlat -= elat;
        if elon.abs() < INVERSE_TOLERANCE_DEG && elat.abs() < INVERSE_TOLERANCE_DEG {
            break;
        }
    }
    (wlon, wlat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::georef::haversine_m;

    /// Published pairs `(wgs_lat, wgs_lon, gcj_lat, gcj_lon)`: googollee/eviltransform's test
    /// table (Shanghai, Shenzhen, Beijing) and wandergis/coordtransform's README example.
    const PUBLISHED: [(f64, f64, f64, f64); 4] = [
        (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
        (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
        (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
        (39.915, 116.404, 39.91640428150164, 116.41024449916938),
    ];

    #[test]
    fn forward_matches_published_pairs_to_centimetres() {
        for (wlat, wlon, glat, glon) in PUBLISHED {
            let got = wgs84_to_gcj02(wlon, wlat);
            let err_m = haversine_m(got, (glon, glat));
            assert!(
                err_m < 0.05,
                "({wlon},{wlat}) -> {got:?}, {err_m} m from published"
            );
        }
    }

    #[test]
    fn inverse_recovers_published_wgs84_to_millimetres() {
        for (wlat, wlon, glat, glon) in PUBLISHED {
            let got = gcj02_to_wgs84(glon, glat);
            let err_m = haversine_m(got, (wlon, wlat));
            assert!(
                err_m < 0.05,
                "({glon},{glat}) -> {got:?}, {err_m} m from published"
            );
        }
    }

    #[test]
    fn offset_is_hundreds_of_metres_in_henan_and_inverse_round_trips() {
        // 滑县 county seat, roughly.
        let wgs = (114.52, 35.57);
        let gcj = wgs84_to_gcj02(wgs.0, wgs.1);
        let offset_m = haversine_m(wgs, gcj);
        assert!((100.0..1000.0).contains(&offset_m), "offset {offset_m} m");
        for i in 0..200 {
            let lon = 74.0 + (i as f64) * 0.31;
            let lat = 18.0 + (i as f64 * 0.173) % 35.0;
            let back = gcj02_to_wgs84(wgs84_to_gcj02(lon, lat).0, wgs84_to_gcj02(lon, lat).1);
            assert!(
                haversine_m(back, (lon, lat)) < 0.001,
                "round trip at ({lon},{lat})"
            );
        }
    }

    #[test]
    fn identity_outside_china() {
        assert_eq!(wgs84_to_gcj02(27.96, 36.24), (27.96, 36.24));
        assert_eq!(gcj02_to_wgs84(-120.0, 38.0), (-120.0, 38.0));
    }
}
