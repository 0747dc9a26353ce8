//! The web pages: the command-center dashboard at `/`, the patrol page at `/patrol`, and their
//! static files under `/static/`. Everything is compiled into the binary (`include_str!` /
//! `include_bytes!` of `web/`), so the one-binary deployment stays one binary and an offline
//! machine needs nothing from outside: Leaflet is vendored in `web/vendor/leaflet/`, there is no
//! CDN, font or basemap URL anywhere, and the Content-Security-Policy says so to the browser
//! (only the origins of the configured basemap's tiles, `[ui.basemap]`, are added for images).
//! `GET /tiles/{z}/{x}/{y}` serves the `local` basemap's folder or MBTiles file (public, like the
//! pages: an `<img>` sends no token, and a basemap tells nothing of fires).
//!
//! The pages are public HTML; the data they show comes from the API with a bearer token the
//! user pastes into the sign-in box (kept in the browser's localStorage).
//!
//! Caching: the HTML is `no-cache` (always revalidated, so a new binary's page is seen at once);
//! static files carry a strong ETag (SHA-256 of the content) and a short max-age, and answer
//! `304` to a matching `If-None-Match`.

use std::sync::OnceLock;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auth::Caller;
use super::params::NoParams;
use super::{ApiError, AppState};

/// One embedded file.
pub struct Asset {
    /// Path under `/static/` (or the page's route).
    pub path: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $ctype:literal) => {
        Asset {
            path: $path,
            content_type: $ctype,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/", $path)),
        }
    };
}

/// Every file served under `/static/`.
pub static ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("common.js", "text/javascript; charset=utf-8"),
    asset!("dashboard.js", "text/javascript; charset=utf-8"),
    // The dashboard's map and alarm: the GCJ-02 port, hotspot clustering, unit label points.
    asset!("gcj02.js", "text/javascript; charset=utf-8"),
    asset!("cluster.js", "text/javascript; charset=utf-8"),
    asset!("labels.js", "text/javascript; charset=utf-8"),
    asset!("alarm.js", "text/javascript; charset=utf-8"),
    asset!("ops.js", "text/javascript; charset=utf-8"),
    asset!("patrol.js", "text/javascript; charset=utf-8"),
    asset!("patrol-nav.js", "text/javascript; charset=utf-8"),
    // The patrol page offline (#16): queue, drafts, photos; the app manifest and its icons.
    asset!("patrol-offline.js", "text/javascript; charset=utf-8"),
    asset!("patrol.webmanifest", "application/manifest+json"),
    asset!("icons/patrol-192.png", "image/png"),
    asset!("icons/patrol-512.png", "image/png"),
    asset!("icons/patrol.svg", "image/svg+xml"),
    // The message catalogues of `web/i18n/`, one script, loaded before `common.js`.
    Asset {
        path: "i18n.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: concat!(
            "// The message catalogues (web/i18n/*.json), for SF.t in common.js.\n",
            "window.SF_MESSAGES = {\n\"zh-CN\": ",
            include_str!("../../web/i18n/zh-CN.json"),
            ",\n\"en\": ",
            include_str!("../../web/i18n/en.json"),
            "};\n"
        )
        .as_bytes(),
    },
    asset!(
        "vendor/leaflet/leaflet.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("vendor/leaflet/leaflet.css", "text/css; charset=utf-8"),
    asset!("vendor/leaflet/LICENSE", "text/plain; charset=utf-8"),
    asset!("vendor/leaflet/images/layers.png", "image/png"),
    asset!("vendor/leaflet/images/layers-2x.png", "image/png"),
    asset!("vendor/leaflet/images/marker-icon.png", "image/png"),
    asset!("vendor/leaflet/images/marker-icon-2x.png", "image/png"),
    asset!("vendor/leaflet/images/marker-shadow.png", "image/png"),
];

/// The dashboard page.
pub static DASHBOARD: Asset = asset!("index.html", "text/html; charset=utf-8");
/// The patrol page.
pub static PATROL: Asset = asset!("patrol.html", "text/html; charset=utf-8");

/// The patrol page's service worker, served at `/patrol-sw.js` so that its scope can be
/// `/patrol` (a worker's scope cannot reach above its own path).
pub static PATROL_WORKER: Asset = asset!("patrol-sw.js", "text/javascript; charset=utf-8");

/// `GET /patrol-sw.js`: the worker with this binary's version of the page and its files in it,
/// so a new binary installs a new worker (which keeps the new files). `no-cache`: the browser
/// asks for it again at each visit, and an unchanged one stays installed.
pub async fn patrol_worker() -> Response {
    static VERSION: OnceLock<String> = OnceLock::new();
    let version = VERSION.get_or_init(|| {
        let mut all = Vec::new();
        for a in ASSETS.iter().chain([&PATROL, &PATROL_WORKER]) {
            all.extend_from_slice(crate::service::sha256_hex(a.bytes).as_bytes());
        }
        crate::service::sha256_hex(&all)[..16].to_string()
    });
    let js = std::str::from_utf8(PATROL_WORKER.bytes)
        .unwrap_or_default()
        .replacen("__STRAWFIRE_VERSION__", version, 1);
    (
        [
            (header::CONTENT_TYPE, PATROL_WORKER.content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        js,
    )
        .into_response()
}

/// Seconds a browser may reuse a static file without asking.
const STATIC_MAX_AGE_S: u32 = 300;

pub async fn dashboard(State(s): State<AppState>) -> Response {
    page(&DASHBOARD, &s)
}

pub async fn patrol(State(s): State<AppState>) -> Response {
    page(&PATROL, &s)
}

fn page(a: &Asset, s: &AppState) -> Response {
    let ui = s.service.ui();
    let html = with_ui(
        std::str::from_utf8(a.bytes).unwrap_or_default(),
        ui.lang(),
        ui.zone(),
    );
    let mut r = (
        [
            (header::CONTENT_TYPE, a.content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        html,
    )
        .into_response();
    let h = r.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&content_security_policy(&basemap(s).origins())) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    r
}

/// The page with the deployment's language and time zone on its root element
/// (`<html lang="zh-CN" data-time-zone="Asia/Shanghai">`), where `common.js` reads them: the page
/// is drawn in the right language at once, with no request before it (and none that needs a
/// token). A language chosen with the page's switch (localStorage) wins over `lang`.
pub fn with_ui(html: &str, lang: crate::i18n::Lang, zone: crate::i18n::Zone) -> String {
    html.replacen(
        "<html lang=\"zh-CN\">",
        &format!(
            "<html lang=\"{}\" data-time-zone=\"{}\">",
            lang.code(),
            zone.name()
        ),
        1,
    )
}

/// The deployment's basemap (`[ui.basemap]`, or the older `[dashboard] tile_url`).
fn basemap(s: &AppState) -> crate::basemap::Basemap {
    let d = s.service.dashboard();
    s.service
        .ui()
        .basemap
        .resolve(&d.tile_url, &d.tile_attribution)
}

/// Scripts, styles, fetches and images from this server only; images also from the tile
/// servers' `origins` (see [`crate::basemap::Basemap::origins`]). Styles allow inline: Leaflet
/// positions its panes and markers with style attributes.
pub fn content_security_policy(origins: &[String]) -> String {
    let tiles: String = origins.iter().map(|o| format!(" {o}")).collect();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:{tiles}; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'"
    )
}

pub async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some((i, a)) = ASSETS.iter().enumerate().find(|(_, a)| a.path == path) else {
        return ApiError::NotFound(format!("no static file `{path}`")).into_response();
    };
    let etag = etag(i, a);
    let cache = [
        (header::ETAG, etag.clone()),
        (
            header::CACHE_CONTROL,
            format!("public, max-age={STATIC_MAX_AGE_S}"),
        ),
    ];
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let mut r = (cache, a.bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// A strong ETag per asset, hashed once.
fn etag(i: usize, a: &Asset) -> String {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| format!("\"{}\"", &crate::service::sha256_hex(a.bytes)[..20]))
            .collect()
    });
    tags.get(i)
        .cloned()
        .unwrap_or_else(|| format!("\"{}\"", &crate::service::sha256_hex(a.bytes)[..20]))
}

/// `GET /tiles/{z}/{x}/{y}` (`y` may end in `.png` and the like): a tile of the `local` basemap.
/// 404 when there is no such tile or no local basemap.
pub async fn tile(
    State(s): State<AppState>,
    Path((z, x, y)): Path<(String, String, String)>,
) -> Response {
    let b = &s.service.ui().basemap;
    let (crate::basemap::Preset::Local, Some(path)) = (b.preset, b.tiles.clone()) else {
        return ApiError::NotFound("no local basemap: `[ui.basemap] preset = \"local\"`".into())
            .into_response();
    };
    let y = y.split_once('.').map_or(y.as_str(), |(n, _)| n);
    let (Ok(z), Ok(x), Ok(y)) = (z.parse::<u8>(), x.parse::<u32>(), y.parse::<u32>()) else {
        return ApiError::NotFound("a tile is /tiles/{z}/{x}/{y}".into()).into_response();
    };
    let tiles = s.tiles.clone();
    let got = tokio::task::spawn_blocking(move || tiles.tile(&path, z, x, y)).await;
    match got {
        Ok(Ok(Some(t))) => (
            [
                (header::CONTENT_TYPE, t.content_type),
                (header::CACHE_CONTROL, "public, max-age=86400"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            t.bytes,
        )
            .into_response(),
        Ok(Ok(None)) => ApiError::NotFound(format!("no tile {z}/{x}/{y}")).into_response(),
        Ok(Err(e)) => {
            tracing::error!("tile {z}/{x}/{y}: {e}");
            ApiError::Internal("tiles unreadable".into()).into_response()
        }
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

/// `GET /api/v1/dashboard-config`: what the pages need of the config (the optional basemap; the
/// language and zone, which the page also has from its root element).
pub async fn config(
    State(s): State<AppState>,
    Caller(role): Caller,
    _: NoParams,
) -> impl IntoResponse {
    let d = s.service.dashboard();
    let ui = s.service.ui();
    Json(serde_json::json!({
        "tile_url": d.tile_url,
        "tile_attribution": d.tile_attribution,
        "basemap": basemap(&s),
        "role": role.name(),
        "lang": ui.lang().code(),
        "time_zone": ui.zone().name(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_embedded_and_typed() {
        for a in ASSETS.iter().chain([&DASHBOARD, &PATROL, &PATROL_WORKER]) {
            assert!(!a.bytes.is_empty(), "{}", a.path);
            let ext = a.path.rsplit('.').next().unwrap();
            let want = match ext {
                "css" => "text/css",
                "js" => "text/javascript",
                "png" => "image/png",
                "svg" => "image/svg+xml",
                "webmanifest" => "application/manifest+json",
                "html" => "text/html",
                _ => "text/plain",
            };
            assert!(a.content_type.starts_with(want), "{}", a.path);
        }
    }

    #[test]
    fn pages_carry_the_language_and_zone_and_the_catalogues_are_a_script() {
        use crate::i18n::{Lang, Zone};
        for a in [&DASHBOARD, &PATROL] {
            let html = std::str::from_utf8(a.bytes).unwrap();
            let en = with_ui(html, Lang::En, Zone::parse("Asia/Urumqi").unwrap());
            assert!(
                en.contains("<html lang=\"en\" data-time-zone=\"Asia/Urumqi\">"),
                "{}",
                a.path
            );
            // The catalogues come before the code that uses them.
            let (i18n, common) = (html.find("/static/i18n.js"), html.find("/static/common.js"));
            assert!(i18n.is_some() && i18n < common, "{}", a.path);
        }
        let js = ASSETS.iter().find(|a| a.path == "i18n.js").unwrap();
        let js = std::str::from_utf8(js.bytes).unwrap();
        let json = js
            .split_once("window.SF_MESSAGES = ")
            .unwrap()
            .1
            .trim_end()
            .trim_end_matches(';');
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(v["zh-CN"]["state.on_site"], "已到场");
        assert_eq!(v["en"]["state.on_site"], "on site");
    }

    #[test]
    fn the_worker_keeps_only_files_that_are_served() {
        let js = std::str::from_utf8(PATROL_WORKER.bytes).unwrap();
        let list = js.split_once("const SHELL = [").unwrap().1;
        let list = list.split_once("];").unwrap().0;
        let mut n = 0;
        for item in list
            .split(',')
            .map(|i| i.trim().trim_matches('"'))
            .filter(|i| !i.is_empty())
        {
            n += 1;
            if item == "/patrol" {
                continue;
            }
            let path = item.strip_prefix("/static/").unwrap();
            assert!(
                ASSETS.iter().any(|a| a.path == path),
                "{item} is not served"
            );
        }
        assert!(n > 10, "{list}");
        // And every script the patrol page loads is kept.
        let html = std::str::from_utf8(PATROL.bytes).unwrap();
        for src in html
            .split("src=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap())
        {
            assert!(
                list.contains(&format!("\"{src}\"")),
                "{src} is not kept offline"
            );
        }
    }

    #[test]
    fn the_policy_admits_only_the_tile_origins() {
        let origins = |url: &str| {
            crate::basemap::BasemapConfig::default()
                .resolve(url, "")
                .origins()
        };
        let none = content_security_policy(&origins(""));
        assert!(none.contains("img-src 'self' data: blob:;"), "{none}");
        let with = content_security_policy(&origins("http://tiles.local:8081/{z}/{x}/{y}.png"));
        assert!(
            with.contains("img-src 'self' data: blob: http://tiles.local:8081;"),
            "{with}"
        );
        // Nothing that could break out of the header or add a source.
        assert!(
            !content_security_policy(&origins("http://a b;script-src */{z}{x}{y}")).contains("a b")
        );
    }
}
