//! Links that open a position in the phone's map app, each in the datum that app expects.
//!
//! A patrol gets to a fire by tapping a link, not by typing `35.50500, 114.55200` into a map
//! app: typed WGS84 numbers land hundreds of metres off in Chinese apps, which work in GCJ-02
//! (高德, 腾讯) or BD-09 (百度). One pure function makes every link from the WGS84 position, so
//! the task JSON (the patrol page) and the chat message carry the same coordinates.
//!
//! The forms, as documented by each provider (web URIs: they open the app when installed and
//! the provider's mobile web map otherwise, so one link works on every phone):
//! - 高德 AMap: `https://uri.amap.com/marker?position=LON,LAT&name=..&src=..&coordinate=gaode&callnative=1`
//!   (lbs.amap.com/api/uri-api/guide/mobile-web/point: `coordinate=gaode` is GCJ-02,
//!   `callnative=1` tries the app first).
//! - 百度 Baidu: `https://api.map.baidu.com/marker?location=LAT,LON&title=..&content=..&output=html&coord_type=bd09ll&src=webapp.COMPANY.APP`
//!   (lbsyun.baidu.com URI API "web 端 · 地点标注": latitude first; `src` is required in the
//!   `webapp.companyName.appName` form; `coord_type=bd09ll` says the position is BD-09, which
//!   we convert ourselves rather than trust Baidu's `gcj02`/`wgs84` input conversion).
//! - 腾讯 Tencent: `https://apis.map.qq.com/uri/v1/marker?marker=coord:LAT,LON;title:..;addr:..&referer=..`
//!   (lbs.qq.com URI "标注点": GCJ-02, latitude first; `referer` is required).
//! - `geo:LAT,LON` (RFC 5870, WGS84): Android's chooser of any installed map app.
//!
//! Coordinates are written with 6 decimals (about 0.1 m), enough for a field.

use serde::Serialize;

use super::bd09::wgs84_to_bd09;
use super::gcj02::wgs84_to_gcj02;

/// Who is asking, as Baidu's `src` (`webapp.companyName.appName`), AMap's `src` and Tencent's
/// `referer` want it.
const BAIDU_SRC: &str = "webapp.strawfire.patrol";
const APP_NAME: &str = "strawfire";

/// The links to one position, and the converted coordinates they carry (`[lon, lat]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NavLinks {
    /// 高德, GCJ-02.
    pub amap: String,
    /// 百度, BD-09.
    pub baidu: String,
    /// 腾讯, GCJ-02.
    pub tencent: String,
    /// `geo:` URI, WGS84.
    pub geo: String,
    /// The position in GCJ-02, `[lon, lat]`.
    pub gcj02: [f64; 2],
    /// The position in BD-09, `[lon, lat]`.
    pub bd09: [f64; 2],
}

impl NavLinks {
    /// The links to the WGS84 position `(lon, lat)`, the marker labelled `name`.
    ///
    /// # Examples
    /// ```
    /// use strawfire::locate::navlink::NavLinks;
    /// let nav = NavLinks::new(114.552, 35.505, "火点 #17");
    /// assert!(nav.geo == "geo:35.505000,114.552000");
    /// assert!(nav.amap.starts_with("https://uri.amap.com/marker?position=114.55"));
    /// assert!(nav.baidu.contains("&coord_type=bd09ll&"));
    /// ```
    pub fn new(lon: f64, lat: f64, name: &str) -> NavLinks {
        let (glon, glat) = wgs84_to_gcj02(lon, lat);
        let (blon, blat) = wgs84_to_bd09(lon, lat);
        let name = encode(name);
        NavLinks {
            amap: format!(
                "https://uri.amap.com/marker?position={glon:.6},{glat:.6}&name={name}\
                 &src={APP_NAME}&coordinate=gaode&callnative=1"
            ),
            baidu: format!(
                "https://api.map.baidu.com/marker?location={blat:.6},{blon:.6}&title={name}\
                 &content={name}&output=html&coord_type=bd09ll&src={BAIDU_SRC}"
            ),
            tencent: format!(
                "https://apis.map.qq.com/uri/v1/marker?marker=coord:{glat:.6},{glon:.6};\
                 title:{name};addr:{name}&referer={APP_NAME}"
            ),
            geo: format!("geo:{lat:.6},{lon:.6}"),
            gcj02: [round6(glon), round6(glat)],
            bd09: [round6(blon), round6(blat)],
        }
    }
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so a name can hold
/// spaces, `&`, `;` or `:` (Tencent's separators) without breaking the link.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Distance (m) and initial bearing (degrees clockwise from north) from `from` to `to`, both
/// WGS84 `(lon, lat)`, on a sphere (haversine; the page's JavaScript uses the same formula).
pub fn distance_bearing(from: (f64, f64), to: (f64, f64)) -> (f64, f64) {
    use crate::raster::georef::{bearing_deg, haversine_m};
    (haversine_m(from, to), bearing_deg(from, to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locate::bd09::bd09_to_wgs84;
    use crate::locate::gcj02::gcj02_to_wgs84;
    use crate::raster::georef::haversine_m;

    /// The number after `key` up to the next `,`, `;`, `&` or the end.
    fn num_after(s: &str, key: &str) -> (f64, f64) {
        let i = s.find(key).unwrap_or_else(|| panic!("{key} in {s}")) + key.len();
        let rest = &s[i..];
        let end = rest.find(['&', ';']).unwrap_or(rest.len());
        let mut it = rest[..end].split(',').map(|v| v.parse::<f64>().unwrap());
        (it.next().unwrap(), it.next().unwrap())
    }

    #[test]
    fn each_link_carries_its_apps_datum_in_its_apps_order() {
        // The Tiananmen point of the published pairs: WGS84 → GCJ-02 (116.410244, 39.916404).
        let nav = NavLinks::new(116.404, 39.915, "火点 #17");
        let (lon, lat) = num_after(&nav.amap, "position=");
        assert_eq!((lon, lat), (116.410244, 39.916404), "{}", nav.amap);
        assert!(nav.amap.contains("&coordinate=gaode&callnative=1"));
        let (lat_t, lon_t) = num_after(&nav.tencent, "coord:");
        assert_eq!((lon_t, lat_t), (116.410244, 39.916404), "{}", nav.tencent);
        assert!(nav.tencent.ends_with("&referer=strawfire"));
        // BD-09 of the published GCJ-02 point (the forward formula is checked against its
        // own published pair in `bd09`).
        let want = crate::locate::bd09::gcj02_to_bd09(116.41024449916938, 39.91640428150164);
        let (lat_b, lon_b) = num_after(&nav.baidu, "location=");
        assert!(haversine_m((lon_b, lat_b), want) < 0.2, "{}", nav.baidu);
        assert!(nav
            .baidu
            .contains("&output=html&coord_type=bd09ll&src=webapp.strawfire.patrol"));
        assert_eq!(nav.geo, "geo:39.915000,116.404000");
        assert_eq!(nav.gcj02, [lon, lat]);
        assert_eq!(nav.bd09, [lon_b, lat_b]);
    }

    #[test]
    fn every_link_leads_back_to_the_fire_within_a_metre() {
        for (lon, lat) in [(114.552, 35.505), (126.63, 45.75), (113.2, 23.1)] {
            let nav = NavLinks::new(lon, lat, "x");
            let g = num_after(&nav.amap, "position=");
            assert!(haversine_m(gcj02_to_wgs84(g.0, g.1), (lon, lat)) < 0.2);
            let (blat, blon) = num_after(&nav.baidu, "location=");
            assert!(haversine_m(bd09_to_wgs84(blon, blat), (lon, lat)) < 0.2);
            // And the converted positions are far from the WGS84 one: the conversion happened.
            assert!(haversine_m(g, (lon, lat)) > 100.0);
            assert!(haversine_m((blon, blat), (lon, lat)) > 300.0);
        }
    }

    #[test]
    fn names_cannot_break_the_links() {
        let nav = NavLinks::new(114.5, 35.5, "东庄村 a&b;title:c");
        assert!(
            nav.tencent
                .contains("title:%E4%B8%9C%E5%BA%84%E6%9D%91%20a%26b%3Btitle%3Ac;addr:"),
            "{}",
            nav.tencent
        );
        assert_eq!(nav.amap.matches('&').count(), 4);
    }

    #[test]
    fn distance_and_bearing_point_the_way() {
        // One degree of latitude north: about 111.2 km, bearing 0.
        let (d, b) = distance_bearing((114.5, 35.0), (114.5, 36.0));
        assert!((d - 111_195.0).abs() < 50.0 && b.abs() < 1e-9, "{d} {b}");
        // East along the parallel: bearing just under 90 (great circle), south-west 225-ish.
        let (_, b) = distance_bearing((114.5, 35.0), (114.51, 35.0));
        assert!((b - 90.0).abs() < 0.01, "{b}");
        let (_, b) = distance_bearing((114.5, 35.0), (114.49, 34.99));
        assert!((b - 219.3).abs() < 0.5, "{b}");
    }
}
