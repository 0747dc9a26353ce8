//! The map under the dashboard's layers: which tiles, from where, in which datum.
//!
//! A county command centre needs a map to find a field on, but the machines are often offline
//! and Chinese web maps do not agree on a datum. A deployment names one preset in
//! `[ui.basemap]`; [`BasemapConfig::resolve`] turns it into the tile layers the page draws
//! (URL templates in Leaflet's `{s}`/`{z}`/`{x}`/`{y}` form, no key in the page's code: the key
//! comes with the config, to signed-in users only) and the datum of those tiles:
//!
//! | preset | tiles | datum |
//! |---|---|---|
//! | `tianditu` | 天地图 `vec_w` (vector) + `cva_w` (labels), `tk` key | CGCS2000 ≈ WGS84 |
//! | `amap` | 高德 `webrd0{1-4}.is.autonavi.com/appmaptile` (style 8, vector with labels) | GCJ-02 |
//! | `xyz` | any `{z}/{x}/{y}` template (an OSM-style server), with its attribution | `datum` |
//! | `local` | a tile folder `{z}/{x}/{y}.png` or an MBTiles file, served by strawfire at `/tiles/` | `datum` |
//!
//! 天地图's URL forms are those of its map service page (<http://lbs.tianditu.gov.cn/server/MapService.html>):
//! the WMTS key-value form `t{0-7}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&...&TILEMATRIXSET=w&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=`
//! (the default) and the XYZ form `t{0-7}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=`
//! (`form = "xyz"`); `_w` is the spherical-Mercator tile matrix set Leaflet uses. CGCS2000 and
//! WGS84 differ by centimetres, far below a tile pixel, so 天地图 needs no shift. 高德's tiles are
//! drawn in GCJ-02 (the URL is the one Leaflet.ChineseTmsProviders and most Leaflet pages use):
//! the page shifts every overlay it draws on them with its port of [`crate::locate::gcj02`]
//! (`web/gcj02.js`), so a fire sits on the field the tiles show.

pub mod tiles;

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The route the `local` preset's tiles are served at (`/tiles/{z}/{x}/{y}`).
pub const LOCAL_TILE_URL: &str = "/tiles/{z}/{x}/{y}";

/// Which basemap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// No tiles: the API's vector layers on grey (the default for offline machines).
    #[default]
    None,
    Tianditu,
    Amap,
    Xyz,
    Local,
}

impl Preset {
    pub fn name(&self) -> &'static str {
        match self {
            Preset::None => "none",
            Preset::Tianditu => "tianditu",
            Preset::Amap => "amap",
            Preset::Xyz => "xyz",
            Preset::Local => "local",
        }
    }
}

/// The datum tiles are drawn in. Overlays (stored in WGS84) are shifted to it on the page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Datum {
    /// WGS84, and CGCS2000 (天地图), which is within centimetres of it.
    #[default]
    Wgs84,
    /// The obfuscated datum of 高德/AMap and other Chinese web maps.
    Gcj02,
}

/// `[ui.basemap]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct BasemapConfig {
    pub preset: Preset,
    /// 天地图: the `tk` key of the deployment (from console.tianditu.gov.cn).
    pub key: String,
    /// 天地图: `wmts` (default) or `xyz` (the DataServer form).
    pub form: String,
    /// 天地图: draw the label layer `cva_w` over the vector layer (default true).
    pub labels: bool,
    /// `xyz`: the URL template with `{z}`, `{x}`, `{y}` (and `{s}` with `subdomains`).
    pub url: String,
    /// `xyz`: the letters or digits `{s}` takes (e.g. `abc`).
    pub subdomains: String,
    /// `xyz`, `local`: shown in the map's corner (HTML is escaped). The presets bring their own.
    pub attribution: String,
    /// `xyz`, `local`: the datum of the tiles (`wgs84` or `gcj02`).
    pub datum: Datum,
    /// `local`: a folder of `{z}/{x}/{y}.png` (or `.jpg`, `.webp`) or an `.mbtiles` file.
    pub tiles: Option<PathBuf>,
    /// The deepest zoom level with tiles.
    pub max_zoom: u8,
}

impl Default for BasemapConfig {
    fn default() -> Self {
        BasemapConfig {
            preset: Preset::None,
            key: String::new(),
            form: "wmts".into(),
            labels: true,
            url: String::new(),
            subdomains: String::new(),
            attribution: String::new(),
            datum: Datum::Wgs84,
            tiles: None,
            max_zoom: 18,
        }
    }
}

/// One tile layer as the page's Leaflet takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TileLayer {
    /// A Leaflet URL template.
    pub url: String,
    /// What `{s}` takes, one character each (empty: no `{s}`).
    pub subdomains: String,
    pub attribution: String,
    pub max_zoom: u8,
}

/// What the page draws under its layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Basemap {
    pub preset: &'static str,
    pub datum: Datum,
    /// Bottom first.
    pub layers: Vec<TileLayer>,
}

impl Basemap {
    /// `scheme://host[:port]` of every server the tiles come from (each `{s}` spelt out), for
    /// the Content-Security-Policy. Same-origin layers (`/tiles/...`) add nothing.
    pub fn origins(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for l in &self.layers {
            let subs: Vec<String> = if l.url.contains("{s}") {
                l.subdomains.chars().map(String::from).collect()
            } else {
                vec![String::new()]
            };
            for s in subs {
                if let Some(o) = origin(&l.url.replace("{s}", &s)) {
                    if !out.contains(&o) {
                        out.push(o);
                    }
                }
            }
        }
        out
    }
}

/// `scheme://host[:port]` of a URL template; `None` for a relative URL or anything odd.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?']).next()?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    };
    (matches!(scheme, "http" | "https") && ok(host)).then(|| format!("{scheme}://{host}"))
}

const TIANDITU_ATTRIBUTION: &str = "© 天地图 国家地理信息公共服务平台";
const AMAP_ATTRIBUTION: &str = "© 高德地图 AutoNavi";
const AMAP_URL: &str =
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}";

fn tianditu_url(layer: &str, form: &str, key: &str) -> String {
    // `layer` is `vec` or `cva`; the `_w` matrix set is spherical Mercator.
    if form == "xyz" {
        format!("https://t{{s}}.tianditu.gov.cn/DataServer?T={layer}_w&x={{x}}&y={{y}}&l={{z}}&tk={key}")
    } else {
        format!(
            "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0\
             &LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles\
             &TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
        )
    }
}

impl BasemapConfig {
    /// The basemap of this config. `legacy_url` is `[dashboard] tile_url` (with its
    /// attribution), which stands for an `xyz` preset in WGS84 when no preset is named.
    pub fn resolve(&self, legacy_url: &str, legacy_attribution: &str) -> Basemap {
        let layer = |url: String, subdomains: &str, attribution: &str| TileLayer {
            url,
            subdomains: subdomains.into(),
            attribution: attribution.into(),
            max_zoom: self.max_zoom,
        };
        let attribution = |default: &str| {
            if self.attribution.is_empty() {
                default.to_string()
            } else {
                self.attribution.clone()
            }
        };
        let (datum, layers) = match self.preset {
            Preset::None if !legacy_url.is_empty() => (
                Datum::Wgs84,
                vec![layer(legacy_url.into(), "", legacy_attribution)],
            ),
            Preset::None => (Datum::Wgs84, Vec::new()),
            Preset::Tianditu => {
                let attr = attribution(TIANDITU_ATTRIBUTION);
                let mut l = vec![layer(
                    tianditu_url("vec", &self.form, &self.key),
                    "01234567",
                    &attr,
                )];
                if self.labels {
                    l.push(layer(
                        tianditu_url("cva", &self.form, &self.key),
                        "01234567",
                        "",
                    ));
                }
                (Datum::Wgs84, l)
            }
            Preset::Amap => (
                Datum::Gcj02,
                vec![layer(
                    AMAP_URL.into(),
                    "1234",
                    &attribution(AMAP_ATTRIBUTION),
                )],
            ),
            Preset::Xyz => (
                self.datum,
                vec![layer(self.url.clone(), &self.subdomains, &self.attribution)],
            ),
            Preset::Local => (
                self.datum,
                vec![layer(LOCAL_TILE_URL.into(), "", &self.attribution)],
            ),
        };
        Basemap {
            preset: self.preset.name(),
            datum,
            layers,
        }
    }

    /// Checks the keys the preset needs: `Err((key, message))` naming the first that is wrong.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, m: &str| Err((format!("ui.basemap.{k}"), m.to_string()));
        if !(1..=22).contains(&self.max_zoom) {
            return bad("max_zoom", "a zoom level from 1 to 22");
        }
        match self.preset {
            Preset::None | Preset::Amap => {}
            Preset::Tianditu => {
                if self.key.is_empty() || !self.key.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return bad(
                        "key",
                        "the 天地图 `tk` key (letters and digits) is needed by preset \"tianditu\"",
                    );
                }
                if !matches!(self.form.as_str(), "wmts" | "xyz") {
                    return bad("form", "\"wmts\" or \"xyz\"");
                }
            }
            Preset::Xyz => {
                if !["{z}", "{x}", "{y}"].iter().all(|p| self.url.contains(p))
                    || origin(&self.url.replace("{s}", "a")).is_none()
                {
                    return bad(
                        "url",
                        "an http(s) tile URL template with {z}, {x} and {y} is needed by preset \"xyz\"",
                    );
                }
                if self.url.contains("{s}") && self.subdomains.is_empty() {
                    return bad("subdomains", "the URL has {s}: name what it takes (e.g. \"abc\")");
                }
            }
            Preset::Local => match &self.tiles {
                None => {
                    return bad(
                        "tiles",
                        "a tile folder ({z}/{x}/{y}.png) or an .mbtiles file is needed by preset \"local\"",
                    )
                }
                Some(p) => {
                    if let Err(e) = tiles::TileSource::open(p) {
                        return bad("tiles", &e.to_string());
                    }
                }
            },
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(toml_text: &str) -> BasemapConfig {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn tianditu_is_vector_and_labels_in_wgs84_with_the_key() {
        let c = cfg("preset = \"tianditu\"\nkey = \"0123abcd\"\n");
        c.validate().unwrap();
        let b = c.resolve("", "");
        assert_eq!(b.datum, Datum::Wgs84);
        assert_eq!(b.layers.len(), 2);
        assert!(b.layers[0].url.contains("/vec_w/wmts?") && b.layers[0].url.contains("LAYER=vec"));
        assert!(b.layers[1].url.contains("/cva_w/wmts?") && b.layers[1].url.contains("LAYER=cva"));
        for l in &b.layers {
            assert!(l.url.ends_with("&tk=0123abcd"), "{}", l.url);
            assert!(l.url.contains("TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"));
        }
        assert_eq!(b.origins().len(), 8);
        assert!(b
            .origins()
            .contains(&"https://t7.tianditu.gov.cn".to_string()));
        let xyz = cfg("preset = \"tianditu\"\nkey = \"k1\"\nform = \"xyz\"\nlabels = false\n")
            .resolve("", "");
        assert_eq!(
            xyz.layers[0].url,
            "https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=k1"
        );
        assert_eq!(xyz.layers.len(), 1);
        let e = cfg("preset = \"tianditu\"\n").validate().unwrap_err();
        assert_eq!(e.0, "ui.basemap.key");
    }

    #[test]
    fn amap_is_gcj02() {
        let b = cfg("preset = \"amap\"\n").resolve("", "");
        assert_eq!(b.datum, Datum::Gcj02);
        assert!(b.layers[0]
            .url
            .starts_with("https://webrd0{s}.is.autonavi.com/appmaptile?"));
        assert_eq!(b.origins()[0], "https://webrd01.is.autonavi.com");
        assert_eq!(b.origins().len(), 4);
    }

    #[test]
    fn xyz_needs_its_placeholders_and_keeps_its_datum() {
        let c = cfg("preset = \"xyz\"\nurl = \"http://{s}.tiles.local:8080/{z}/{x}/{y}.png\"\nsubdomains = \"ab\"\ndatum = \"gcj02\"\nattribution = \"© OpenStreetMap\"\n");
        c.validate().unwrap();
        let b = c.resolve("", "");
        assert_eq!(b.datum, Datum::Gcj02);
        assert_eq!(
            b.origins(),
            ["http://a.tiles.local:8080", "http://b.tiles.local:8080"]
        );
        assert_eq!(b.layers[0].attribution, "© OpenStreetMap");
        let e = cfg("preset = \"xyz\"\nurl = \"http://x/{z}.png\"\n")
            .validate()
            .unwrap_err();
        assert_eq!(e.0, "ui.basemap.url");
        let e = cfg("preset = \"xyz\"\nurl = \"http://{s}.x/{z}/{x}/{y}\"\n")
            .validate()
            .unwrap_err();
        assert_eq!(e.0, "ui.basemap.subdomains");
    }

    #[test]
    fn local_is_served_here_and_needs_readable_tiles() {
        let e = cfg("preset = \"local\"\n").validate().unwrap_err();
        assert_eq!(e.0, "ui.basemap.tiles");
        let e = cfg("preset = \"local\"\ntiles = \"/nonexistent/tiles\"\n")
            .validate()
            .unwrap_err();
        assert!(e.1.contains("/nonexistent/tiles"), "{e:?}");
        let dir = tempfile::tempdir().unwrap();
        let c = BasemapConfig {
            preset: Preset::Local,
            tiles: Some(dir.path().to_path_buf()),
            ..BasemapConfig::default()
        };
        c.validate().unwrap();
        let b = c.resolve("", "");
        assert_eq!(b.layers[0].url, LOCAL_TILE_URL);
        assert!(b.origins().is_empty());
    }

    #[test]
    fn the_old_dashboard_tile_url_is_an_xyz_preset() {
        let b = BasemapConfig::default().resolve("http://t.local/{z}/{x}/{y}.png", "me");
        assert_eq!((b.preset, b.datum), ("none", Datum::Wgs84));
        assert_eq!(b.layers[0].attribution, "me");
        assert!(BasemapConfig::default().resolve("", "").layers.is_empty());
        assert_eq!(origin("file:///x/{z}"), None);
        assert_eq!(origin("/tiles/{z}/{x}/{y}"), None);
    }
}
