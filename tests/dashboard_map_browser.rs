//! The dashboard's map in a real browser (issue 17): the basemap presets with the right datum
//! (tiles served by strawfire's own `/tiles/` route from a generated MBTiles file and a tile
//! folder, each tile painted with its z/x/y and the known field marked), unit names, 20,000
//! hotspots clustered with their draw time, and the alarm and live badge on the live stream;
//! and, over plain HTTP, what each preset gives the page (datum, tile servers, the `/tiles/` route).
//! Headless Chromium through chromedriver (`tests/common/browser.rs`); screenshots land in
//! `<target>/browser-artifacts/`.

mod common;

use std::path::Path;

use common::browser::Browser;
use common::layers::sample_locator;
use common::server::*;
use strawfire::basemap::{Datum, Preset};
use strawfire::locate::gcj02::{gcj02_to_wgs84, wgs84_to_gcj02};

/// The text of `key` in the Chinese catalogue (the pages' default language).
fn zh(key: &str) -> String {
    let cat: std::collections::HashMap<String, String> =
        serde_json::from_str(strawfire::i18n::ZH_CN_JSON).unwrap();
    cat.get(key).unwrap_or_else(|| panic!("no `{key}`")).clone()
}

async fn sign_in(b: &Browser, token: &str, role: &str) {
    b.type_into("#token-input", token).await;
    b.click("#signin-button").await;
    b.wait_js(
        &format!("signed in as {role}"),
        &format!("return document.body.dataset.role === '{role}'"),
    )
    .await;
}

/// Spherical-Mercator pixel of (lon, lat) in the whole world at zoom `z` (256-pixel tiles, the
/// projection Leaflet and every XYZ tile server use).
fn world_px(lon: f64, lat: f64, z: u8) -> (f64, f64) {
    let scale = 256.0 * 2f64.powi(z as i32);
    let s = lat.to_radians().sin();
    let y = 0.5 - ((1.0 + s) / (1.0 - s)).ln() / (4.0 * std::f64::consts::PI);
    ((lon + 180.0) / 360.0 * scale, y * scale)
}

/// The colour a test tile is painted: its column, row and zoom.
fn tile_colour(x: u32, y: u32, z: u8) -> [u8; 3] {
    [(x & 255) as u8, (y & 255) as u8, z * 10]
}
const FIELD: [u8; 3] = [255, 0, 255];
/// Half the side of the marked field, pixels.
const FIELD_HALF_PX: i64 = 4;

/// A 256×256 PNG tile in its colour, with the field marked where `field` (world pixel) falls.
fn tile_png(x: u32, y: u32, z: u8, field: (f64, f64)) -> Vec<u8> {
    let (fx, fy) = (
        field.0.floor() as i64 - x as i64 * 256,
        field.1.floor() as i64 - y as i64 * 256,
    );
    let img = image::RgbImage::from_fn(256, 256, |px, py| {
        let (dx, dy) = (px as i64 - fx, py as i64 - fy);
        if dx.abs() <= FIELD_HALF_PX && dy.abs() <= FIELD_HALF_PX {
            image::Rgb(FIELD)
        } else {
            image::Rgb(tile_colour(x, y, z))
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

const ZOOM: u8 = 16;
const HIDE_OVERLAYS: &str = "document.querySelectorAll('.leaflet-overlay-pane, .leaflet-marker-pane, .leaflet-shadow-pane, .leaflet-tooltip-pane, .leaflet-popup-pane, .leaflet-control-container').forEach(e => e.style.visibility = 'hidden'); return 1";
/// A field in 滑县 (WGS84 lon, lat): the fire the test puts on it.
const FIRE: (f64, f64) = (114.555, 35.5);

/// The tiles of zoom [`ZOOM`] within 3 of the field's tile, the field marked at `field_lonlat`
/// (the fire as the tiles' datum places it): (x, y, png).
fn tiles_around(field_lonlat: (f64, f64)) -> Vec<(u32, u32, Vec<u8>)> {
    let field = world_px(field_lonlat.0, field_lonlat.1, ZOOM);
    let (cx, cy) = ((field.0 / 256.0) as u32, (field.1 / 256.0) as u32);
    let mut out = Vec::new();
    for x in cx - 3..=cx + 3 {
        for y in cy - 3..=cy + 3 {
            out.push((x, y, tile_png(x, y, ZOOM, field)));
        }
    }
    out
}

fn write_mbtiles(path: &Path, tiles: &[(u32, u32, Vec<u8>)]) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(
        "CREATE TABLE metadata (name text, value text);
         CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob);
         INSERT INTO metadata VALUES ('name', 'test'), ('format', 'png');",
    )
    .unwrap();
    for (x, y, png) in tiles {
        // MBTiles rows count from the south (TMS).
        let tms = (1u32 << ZOOM) - 1 - y;
        c.execute(
            "INSERT INTO tiles VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![ZOOM, x, tms, png],
        )
        .unwrap();
    }
}

fn write_folder(dir: &Path, tiles: &[(u32, u32, Vec<u8>)]) {
    for (x, y, png) in tiles {
        let d = dir.join(ZOOM.to_string()).join(x.to_string());
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("{y}.png")), png).unwrap();
    }
}

/// Waits until every tile in view has loaded and faded in.
async fn tiles_loaded(b: &Browser) {
    b.wait_js(
        "the tiles in view",
        "var imgs = Array.from(document.querySelectorAll('.leaflet-tile-pane img.leaflet-tile')); return imgs.length >= 4 && imgs.every(i => i.complete && i.naturalWidth === 256 && getComputedStyle(i).opacity === '1')",
    )
    .await;
}

/// The colour of the screenshot at CSS pixel (x, y).
fn colour_at(png: &[u8], x: f64, y: f64, dpr: f64) -> [u8; 3] {
    let img = image::load_from_memory(png).unwrap().to_rgb8();
    let p = img.get_pixel((x * dpr).round() as u32, (y * dpr).round() as u32);
    p.0
}

/// For each datum, a server whose `local` basemap is drawn in it (an MBTiles file for WGS84, a
/// tile folder for GCJ-02, as a 高德-style map would be), one fire on the field: the page must
/// draw the fire where the tiles show the field, and the tile under any pixel must be the tile
/// of that place (z/x/y by colour). The page's GCJ-02 port answers as the Rust does. County and
/// township names are drawn and do not overlap.
#[tokio::test]
async fn the_basemap_puts_a_fire_on_its_field_in_wgs84_and_in_gcj02() {
    let b = Browser::start(1280, 800).await;
    let gcj = wgs84_to_gcj02(FIRE.0, FIRE.1);
    let (wx, wy) = world_px(FIRE.0, FIRE.1, ZOOM);
    let (gx, gy) = world_px(gcj.0, gcj.1, ZOOM);
    // The datums are far apart at this zoom: a page that ignored the datum would miss the field.
    let apart = ((wx - gx).powi(2) + (wy - gy).powi(2)).sqrt();
    assert!(apart > 100.0, "{apart} px");

    for datum in [Datum::Wgs84, Datum::Gcj02] {
        let dir = tempfile::tempdir().unwrap();
        let field = if datum == Datum::Gcj02 { gcj } else { FIRE };
        let tiles = tiles_around(field);
        let source = if datum == Datum::Gcj02 {
            let d = dir.path().join("tiles");
            write_folder(&d, &tiles);
            d
        } else {
            let f = dir.path().join("tiles.mbtiles");
            write_mbtiles(&f, &tiles);
            f
        };
        let srv = TestServer::start_placed(
            tempfile::tempdir().unwrap(),
            |c| {
                c.ui.basemap.preset = Preset::Local;
                c.ui.basemap.tiles = Some(source.clone());
                c.ui.basemap.datum = datum;
            },
            sample_locator(),
        )
        .await;
        let body = recent_firms_csv(&[(FIRE.1, FIRE.0, 1, "n")], 9.5);
        let (s, v) = srv.post("/api/v1/hotspots", ADMIN, "text/csv", body).await;
        assert_eq!(s, 201, "{v}");
        b.client.goto(&srv.url("/")).await.unwrap();
        sign_in(&b, ADMIN, "admin").await;
        let name = if datum == Datum::Gcj02 {
            "gcj02"
        } else {
            "wgs84"
        };
        b.wait_js(
            "units, the fire and the datum",
            &format!("var m = document.getElementById('map').dataset; return m.units === '94' && m.hotspots === '1' && m.datum === '{name}' && m.basemap === 'local'"),
        )
        .await;

        if datum == Datum::Wgs84 {
            // County and township names at their label points; no two shown overlap.
            b.js(
                "SF.dashboardMap.setZoom(10, {animate: false}); return 1",
                vec![],
            )
            .await;
            let shown = b
                .wait_js(
                    "unit names",
                    "var n = Number(document.getElementById('map').dataset.labels); return n > 10 ? n : 0",
                )
                .await;
            let overlaps = b
                .js(
                    "var r = Array.from(document.querySelectorAll('.unit-name span')).map(s => s.getBoundingClientRect()); var n = 0; for (var i = 0; i < r.length; i++) for (var j = i + 1; j < r.length; j++) { var a = r[i], c = r[j]; if (a.left < c.right - 2 && c.left < a.right - 2 && a.top < c.bottom - 2 && c.top < a.bottom - 2) n++; } return [n, Array.from(document.querySelectorAll('.unit-name.county span')).map(s => s.textContent)]",
                    vec![],
                )
                .await;
            assert_eq!(overlaps[0], 0, "{overlaps} of {shown} names overlap");
            assert!(
                overlaps[1].as_array().unwrap().iter().any(|n| n == "滑县"),
                "{overlaps}"
            );
            b.screenshot("basemap-unit-names").await;

            // The page's GCJ-02 is the Rust's, to 1e-9° (about 0.1 mm).
            let points = [
                (116.404, 39.915),
                (121.5272106, 31.1774276),
                (113.912316, 22.543847),
                FIRE,
                (87.6, 43.8),
                (-120.0, 38.0),
            ];
            let js = b
                .js(
                    "return arguments[0].map(p => SF.gcj02.fromWgs84(p[0], p[1]).concat(SF.gcj02.toWgs84(p[0], p[1])))",
                    vec![serde_json::json!(points
                        .iter()
                        .map(|p| [p.0, p.1])
                        .collect::<Vec<_>>())],
                )
                .await;
            for (i, p) in points.iter().enumerate() {
                let got: Vec<f64> = serde_json::from_value(js[i].clone()).unwrap();
                let fwd = wgs84_to_gcj02(p.0, p.1);
                let inv = gcj02_to_wgs84(p.0, p.1);
                for (g, w) in got.iter().zip([fwd.0, fwd.1, inv.0, inv.1]) {
                    assert!(
                        (g - w).abs() < 1e-9,
                        "{p:?}: page {got:?}, Rust {fwd:?} {inv:?}"
                    );
                }
            }
        }

        // At the field, at zoom 16.
        b.js(
            "var ll = SF.toMap([arguments[0], arguments[1]]); SF.dashboardMap.setView(ll, arguments[2], {animate: false}); return 1",
            vec![FIRE.1.into(), FIRE.0.into(), ZOOM.into()],
        )
        .await;
        tiles_loaded(&b).await;
        b.wait_js(
            "the fire in view",
            "return document.querySelectorAll('#map path.hotspot').length === 1",
        )
        .await;
        b.screenshot(&format!("basemap-{name}-fire")).await;
        let at = b
            .js(
                "var r = document.querySelector('#map path.hotspot').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2, window.devicePixelRatio]",
                vec![],
            )
            .await;
        let (cx, cy, dpr) = (
            at[0].as_f64().unwrap(),
            at[1].as_f64().unwrap(),
            at[2].as_f64().unwrap(),
        );
        // Only the tiles: overlays, labels and controls hidden.
        b.js(HIDE_OVERLAYS, vec![]).await;
        let png = b.client.screenshot().await.unwrap();
        std::fs::write(
            common::browser::artifacts_dir().join(format!("basemap-{name}-tiles.png")),
            &png,
        )
        .unwrap();
        let under = colour_at(&png, cx, cy, dpr);
        assert_eq!(
            under, FIELD,
            "{name}: the fire is drawn at ({cx}, {cy}), which the tiles do not show as its field"
        );
        // A pixel away from the field is painted by the tile of that place.
        let (fx, fy) = world_px(field.0, field.1, ZOOM);
        let dx = (30..120)
            .map(|d| d as f64)
            .find(|d| {
                let f = (fx + d).rem_euclid(256.0);
                f > 3.0 && f < 253.0
            })
            .unwrap();
        let want = tile_colour(((fx + dx) / 256.0) as u32, (fy / 256.0) as u32, ZOOM);
        assert_eq!(
            colour_at(&png, cx + dx, cy, dpr),
            want,
            "{name}: tile z/x/y"
        );

        // The patrol page (signed in with the same token, kept by this browser) draws the task's
        // pin on the same field.
        b.client.goto(&srv.url("/patrol")).await.unwrap();
        b.wait_js(
            "the task's pin",
            &format!("return !!document.querySelector('#tasks .card') && !!document.querySelector('.leaflet-marker-icon.pin') && document.getElementById('map').dataset.datum === '{name}'"),
        )
        .await;
        b.js(
            "var ll = SF.toMap([arguments[0], arguments[1]]); SF.patrolMap.setView(ll, arguments[2], {animate: false}); return 1",
            vec![FIRE.1.into(), FIRE.0.into(), ZOOM.into()],
        )
        .await;
        tiles_loaded(&b).await;
        b.screenshot(&format!("basemap-{name}-patrol")).await;
        // The pin's tip (its icon anchor, 14 px right of and 28 px below its corner).
        let tip = b
            .js(
                "var r = document.querySelector('.leaflet-marker-icon.pin').getBoundingClientRect(); return [r.left + 14, r.top + 27]",
                vec![],
            )
            .await;
        b.js(HIDE_OVERLAYS, vec![]).await;
        let png = b.client.screenshot().await.unwrap();
        let (px, py) = (tip[0].as_f64().unwrap(), tip[1].as_f64().unwrap());
        assert_eq!(
            colour_at(&png, px, py, dpr),
            FIELD,
            "{name}: the patrol's pin at ({px}, {py}) is not on the field"
        );
        srv.stop().await;
    }
    b.close().await;
}

/// 20,000 hotspots (500 fires of 40 detections each, 8 h old: too old for tasks) are clustered
/// on the map, and their 500 events too: every one of them is counted in a cluster or drawn
/// alone, and the draw of the
/// whole set, and the redraws after zooming, stay under 0.5 s (measured in the page with
/// performance.now; the figures are printed and kept in BENCHMARKS.md).
#[tokio::test]
async fn twenty_thousand_hotspots_are_clustered_and_drawn_in_under_half_a_second() {
    const N: usize = 20_000;
    let srv = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.limits.feed_bytes = 8 << 20;
    })
    .await;
    let mut rows = Vec::with_capacity(N);
    for i in 0..N {
        let (g, k) = (i / 40, i % 40);
        let (gx, gy) = (g % 25, g / 25);
        let lat = 35.20 + gy as f64 * 0.035 + (k % 7) as f64 * 0.0004;
        let lon = 114.20 + gx as f64 * 0.04 + (k / 7) as f64 * 0.0004;
        let conf = ["h", "n", "l"][(g + k) % 3];
        rows.push((lat, lon, 8, conf));
    }
    let t0 = std::time::Instant::now();
    let (s, v) = srv
        .post(
            "/api/v1/hotspots",
            ADMIN,
            "text/csv",
            recent_firms_csv(&rows, 9.5),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    println!(
        "ingest of {N} hotspots: {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let b = Browser::start(1280, 800).await;
    b.client.goto(&srv.url("/")).await.unwrap();
    sign_in(&b, ADMIN, "admin").await;
    b.wait_js(
        "20,000 hotspots",
        "return document.getElementById('map').dataset.hotspots === '20000'",
    )
    .await;
    // Every hotspot is in a cluster's count or drawn alone (all are in view at zoom 9).
    let count = "var n = 0; document.querySelectorAll('#map .hotspot-cluster span').forEach(s => n += Number(s.textContent)); return [n + document.querySelectorAll('#map path.hotspot').length, document.querySelectorAll('#map .hotspot-cluster').length, Number(document.getElementById('map').dataset.hotspotsDrawMs), Number(document.getElementById('map').dataset.hotspotsRedrawMs), SF.dashboardMap.getZoom()]";
    let v = b.js(count, vec![]).await;
    assert_eq!(v[0], N, "{v}");
    let clusters = v[1].as_u64().unwrap();
    assert!((50..2000).contains(&clusters), "{v}");
    let draw_ms = v[2].as_f64().unwrap();
    println!(
        "draw of {N} hotspots: {draw_ms:.1} ms ({clusters} clusters at zoom {})",
        v[4]
    );
    assert!(draw_ms < 500.0, "draw took {draw_ms} ms");
    // The 500 events are clustered the same way, every one counted.
    let events = b
        .wait_js(
            "500 events, clustered",
            "var m = document.getElementById('map').dataset; if (m.events !== '500') return null; var n = 0; document.querySelectorAll('#map .event-cluster span').forEach(s => n += Number(s.textContent)); return [n + document.querySelectorAll('#map path.event').length, Number(m.eventClusters)]",
        )
        .await;
    assert_eq!(events[0], 500, "{events}");
    assert!(events[1].as_u64().unwrap() > 0, "{events}");
    b.screenshot("hotspots-20000-clustered").await;

    // Zoomed in and out: each redraw is timed too.
    for zoom in [12, 14, 7] {
        b.js(
            "SF.dashboardMap.setView([35.55, 114.7], arguments[0], {animate: false}); return 1",
            vec![zoom.into()],
        )
        .await;
        let v = b
            .wait_js(
                "the redraw",
                &count.replace(
                    "return [",
                    &format!("if (SF.dashboardMap.getZoom() !== {zoom}) return null; return ["),
                ),
            )
            .await;
        let redraw_ms = v[3].as_f64().unwrap();
        println!(
            "redraw at zoom {zoom}: {redraw_ms:.1} ms ({} clusters, {} hotspots in view)",
            v[1], v[0]
        );
        assert!(
            redraw_ms < 500.0,
            "redraw at zoom {zoom} took {redraw_ms} ms"
        );
    }
    assert_eq!(b.js(count, vec![]).await[0], N, "all in view at zoom 7");
    b.screenshot("hotspots-20000-zoom-7").await;
    b.close().await;
    srv.stop().await;
}

/// A high-priority task arriving on the live stream beeps (WebAudio, once a click has allowed
/// sound) and shows a browser notification (permission granted in the profile); with the alarm
/// switched off, the next one does neither. The live badge says online, then reconnecting and
/// offline when the server goes away, and online again when it is back on the same address.
#[tokio::test]
async fn a_new_high_priority_task_rings_and_the_live_badge_tells_the_truth() {
    let srv = TestServer::start_with(tempfile::tempdir().unwrap(), |_| {}).await;
    let addr = srv.running.as_ref().unwrap().addr;
    let b = Browser::start_with_prefs(
        1280,
        800,
        Some(serde_json::json!({"profile.default_content_setting_values.notifications": 1})),
    )
    .await;
    b.client.goto(&srv.url("/")).await.unwrap();
    // Sound needs a gesture: before any, the button says so...
    b.wait_js(
        "sound waiting for a click",
        &format!(
            "var a = document.getElementById('alarm-toggle'); return a.dataset.audio === 'blocked' && a.textContent === '{}'",
            zh("alarm.click_for_sound")
        ),
    )
    .await;
    // ...and the clicks of the sign-in allow it.
    sign_in(&b, ADMIN, "admin").await;
    b.wait_js(
        "sound allowed",
        "return document.getElementById('alarm-toggle').dataset.audio === 'on'",
    )
    .await;
    b.wait_js(
        "online",
        &format!(
            "return document.body.dataset.live === 'open' && document.getElementById('live').textContent === '{}'",
            zh("live.open")
        ),
    )
    .await;
    assert_eq!(
        b.js("return Notification.permission", vec![]).await,
        "granted"
    );

    // A certain fire makes a high-priority task (GridPlacer: township 410526101).
    let fire = |lat: f64| recent_firms_csv(&[(lat, 114.5, 0, "h")], 9.5);
    let (s, v) = srv
        .post("/api/v1/hotspots", ADMIN, "text/csv", fire(35.7))
        .await;
    assert_eq!(s, 201, "{v}");
    let rang = b
        .wait_js(
            "the alarm",
            "var a = window.SF_alarms; return a.rung === 1 ? a : null",
        )
        .await;
    assert_eq!(rang["beeps"], 1, "{rang}");
    assert_eq!(rang["notifications"], 1, "{rang}");
    assert_eq!(rang["blocked"], 0, "{rang}");
    let task = srv.features("/api/v1/tasks?status=open", ADMIN).await;
    assert_eq!(task[0]["properties"]["priority"], "high");
    assert_eq!(rang["last"], task[0]["properties"]["id"]);
    let said = b
        .js(
            "return document.getElementById('message').textContent",
            vec![],
        )
        .await;
    assert!(
        said.as_str().unwrap().starts_with("新的高优先级任务"),
        "{said}"
    );
    b.screenshot("alarm-rang").await;

    // Switched off: the next high-priority task shows in the list and rings nothing.
    b.click("#alarm-toggle").await;
    assert_eq!(
        b.js(
            "return document.getElementById('alarm-toggle').dataset.audio",
            vec![]
        )
        .await,
        "off"
    );
    let (s, v) = srv
        .post("/api/v1/hotspots", ADMIN, "text/csv", fire(35.2))
        .await;
    assert_eq!(s, 201, "{v}");
    b.wait_js(
        "the second task",
        "return document.querySelectorAll('#tasks .task-item').length === 2",
    )
    .await;
    assert_eq!(b.js("return window.SF_alarms.rung", vec![]).await, 1);

    // The server goes away: reconnecting, then offline; back on the same address: online.
    b.js(
        "window.__live = []; new MutationObserver(() => window.__live.push(document.body.dataset.live)).observe(document.body, {attributes: true, attributeFilter: ['data-live']}); return 1",
        vec![],
    )
    .await;
    let dir = srv.stop_keep_dir().await;
    b.wait_js(
        "offline",
        &format!(
            "return document.body.dataset.live === 'offline' && document.getElementById('live').textContent === '{}'",
            zh("live.offline")
        ),
    )
    .await;
    b.screenshot("live-offline").await;
    let srv = TestServer::start_with(dir, |c| c.listen = addr).await;
    b.wait_js(
        "online again",
        "return document.body.dataset.live === 'open'",
    )
    .await;
    let mut seen: Vec<String> =
        serde_json::from_value(b.js("return window.__live", vec![]).await).unwrap();
    seen.dedup();
    assert_eq!(seen, ["reconnecting", "offline", "open"], "{seen:?}");
    b.close().await;
    srv.stop().await;
}

/// Over plain HTTP: each preset reaches the signed-in page with its datum, the page's
/// Content-Security-Policy admits exactly its tile servers, a 天地图 key is in no public page,
/// and the `local` preset's tiles come from `/tiles/` with their type (MBTiles rows flipped).
#[tokio::test]
async fn the_presets_reach_the_page_with_their_datum_and_their_tile_servers() {
    let page = |srv: &TestServer| {
        let (c, url) = (srv.client.clone(), srv.url("/"));
        async move {
            let r = c.get(url).send().await.unwrap();
            let csp = r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_string();
            (csp, r.text().await.unwrap())
        }
    };

    // 高德: GCJ-02, its four servers.
    let srv = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.ui.basemap.preset = Preset::Amap;
    })
    .await;
    let (s, v) = srv.get("/api/v1/dashboard-config", COUNTY_A).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["basemap"]["datum"], "gcj02", "{v}");
    assert!(v["basemap"]["layers"][0]["url"]
        .as_str()
        .unwrap()
        .starts_with("https://webrd0{s}.is.autonavi.com/appmaptile?"));
    let (csp, _) = page(&srv).await;
    for n in 1..=4 {
        assert!(
            csp.contains(&format!("https://webrd0{n}.is.autonavi.com")),
            "{csp}"
        );
    }
    let (s, v) = srv.get("/tiles/16/1/1.png", ADMIN).await;
    assert_eq!(s, 404, "no local tiles: {v}");
    srv.stop().await;

    // 天地图: vector and labels in WGS84; the key only for a signed-in caller.
    const KEY: &str = "0123456789abcdef0123456789abcdef";
    let srv = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.ui.basemap.preset = Preset::Tianditu;
        c.ui.basemap.key = KEY.into();
    })
    .await;
    let (_, v) = srv.get("/api/v1/dashboard-config", COUNTY_A).await;
    assert_eq!(v["basemap"]["datum"], "wgs84", "{v}");
    let layers = v["basemap"]["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2, "{v}");
    assert!(layers
        .iter()
        .all(|l| l["url"].as_str().unwrap().ends_with(KEY)));
    let (s, v) = srv.get("/api/v1/dashboard-config", "no-such-token").await;
    assert_eq!(s, 401, "{v}");
    let (csp, html) = page(&srv).await;
    assert!(!html.contains(KEY) && !csp.contains(KEY));
    assert!(
        csp.contains("https://t0.tianditu.gov.cn") && csp.contains("https://t7.tianditu.gov.cn")
    );
    srv.stop().await;

    // Local MBTiles: served here, PNG, cached a day; no tile, or outside the grid: 404.
    let dir = tempfile::tempdir().unwrap();
    let tiles = tiles_around(FIRE);
    let mbtiles = dir.path().join("t.mbtiles");
    write_mbtiles(&mbtiles, &tiles);
    let srv = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.ui.basemap.preset = Preset::Local;
        c.ui.basemap.tiles = Some(mbtiles.clone());
    })
    .await;
    let (x, y, png) = &tiles[10];
    let r = srv
        .client
        .get(srv.url(&format!("/tiles/{ZOOM}/{x}/{y}.png")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["cache-control"], "public, max-age=86400");
    assert_eq!(&r.bytes().await.unwrap()[..], &png[..]);
    for path in [
        format!("/tiles/{ZOOM}/{x}/{}", y + 100),
        "/tiles/3/9/0".to_string(),
        "/tiles/a/b/c".to_string(),
    ] {
        let r = srv.client.get(srv.url(&path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404, "{path}");
    }
    let (csp, _) = page(&srv).await;
    assert!(csp.contains("img-src 'self' data: blob:;"), "{csp}");
    srv.stop().await;
}
