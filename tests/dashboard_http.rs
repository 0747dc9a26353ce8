//! The pages, the map layers and the live stream over plain HTTP: a real server on port 0, a real
//! SQLite file, a real HTTP client. (The browser tests are in `dashboard_browser.rs`.)

mod common;

use std::time::Duration;

use common::layers::{sample_locator, JIAOHU};
use common::server::*;
use common::sse::SseReader;
use common::stores::Backend;

// The live streams on both stores (on PostgreSQL through the live log and its relay); the
// pages, static files and boundaries do not touch the store.
on_both_stores!(
    the_stream_tells_each_scope_what_an_ingest_stored,
    patrol_streams_hear_only_their_township,
);
use strawfire::api::pages::{ASSETS, DASHBOARD, PATROL};
use strawfire::config::TokenConfig;

const PATROL_JIAOHU: &str = "patrol-410526111-token-01";

async fn sample_server() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    TestServer::start_placed(
        dir,
        |c| {
            c.tokens.push(TokenConfig {
                token: PATROL_JIAOHU.into(),
                role: format!("patrol:{JIAOHU}"),
                name: None,
            });
            c.dashboard.tile_url = "http://tiles.example.local:8081/{z}/{x}/{y}.png".into();
        },
        sample_locator(),
    )
    .await
}

/// Every URL a text file names that a browser would fetch from elsewhere.
fn external_urls(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for scheme in [
        "http://", "https://", "//cdn", "//fonts", "//unpkg", "//tile",
    ] {
        let mut rest = text;
        while let Some(i) = rest.find(scheme) {
            let url: String = rest[i..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !"\"'<>)`".contains(*c))
                .collect();
            found.push(url);
            rest = &rest[i + scheme.len()..];
        }
    }
    found
}

/// CSS with its `/* ... */` comments removed (Leaflet's cite browser bugs by URL).
fn without_css_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        rest = rest[i..].find("*/").map_or("", |j| &rest[i + j + 2..]);
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn pages_and_static_files_are_served_typed_cached_and_self_contained() {
    let srv = TestServer::start().await;
    let c = &srv.client;
    for (path, asset) in [("/", &DASHBOARD), ("/patrol", &PATROL)] {
        // Public HTML: no token needed.
        let r = c.get(srv.url(path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let h = r.headers().clone();
        assert_eq!(h["content-type"], "text/html; charset=utf-8", "{path}");
        assert_eq!(h["cache-control"], "no-cache");
        let csp = h["content-security-policy"].to_str().unwrap().to_string();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"),
            "{csp}"
        );
        let html = r.text().await.unwrap();
        // The page as compiled in, with the deployment's language and zone on its root element.
        let plain = std::str::from_utf8(asset.bytes).unwrap();
        assert_eq!(
            html,
            strawfire::api::pages::with_ui(
                plain,
                strawfire::i18n::Lang::ZhCn,
                strawfire::i18n::Zone::default()
            )
        );
        assert!(
            html.contains("<html lang=\"zh-CN\" data-time-zone=\"Asia/Shanghai\">"),
            "{path}"
        );
        assert!(
            external_urls(&html).is_empty(),
            "{path}: {:?}",
            external_urls(&html)
        );
        // Every script and stylesheet the page names is served.
        for attr in ["src=\"", "href=\""] {
            for part in html.split(attr).skip(1) {
                let link = &part[..part.find('"').unwrap()];
                assert!(link.starts_with("/static/"), "{path} links {link}");
                let r = c.get(srv.url(link)).send().await.unwrap();
                assert_eq!(r.status().as_u16(), 200, "{link}");
            }
        }
    }
    assert!(ASSETS.len() >= 10);
    for a in ASSETS {
        let url = srv.url(&format!("/static/{}", a.path));
        let r = c.get(&url).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{}", a.path);
        assert_eq!(r.headers()["content-type"], a.content_type, "{}", a.path);
        assert_eq!(r.headers()["cache-control"], "public, max-age=300");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        let body = r.bytes().await.unwrap();
        assert_eq!(&body[..], a.bytes, "{}", a.path);
        // Revalidation: the same ETag answers 304 with no body.
        let r = c
            .get(&url)
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 304, "{}", a.path);
        assert!(r.bytes().await.unwrap().is_empty());
        if let Ok(text) = std::str::from_utf8(a.bytes) {
            let urls = external_urls(&without_css_comments(text));
            if a.path.starts_with("vendor/leaflet/") {
                // Leaflet names the SVG namespace (not fetched) and its home page in the attribution prefix, which the pages turn off
                // (`setPrefix(false)`).
                for u in &urls {
                    assert!(
                        u.starts_with("http://www.w3.org/2000/svg")
                            || u.starts_with("https://leafletjs.com")
                            || u.starts_with("https://github.com/Leaflet")
                            || u.starts_with("https://www.ukraine"),
                        "{}: {u}",
                        a.path
                    );
                }
            } else if a.path.ends_with(".svg") {
                // An SVG file names its XML namespace, which is never fetched.
                for u in &urls {
                    assert!(
                        u.starts_with("http://www.w3.org/2000/svg"),
                        "{}: {u}",
                        a.path
                    );
                }
            } else {
                assert!(urls.is_empty(), "{}: {urls:?}", a.path);
            }
        }
    }
    for js in ["dashboard.js", "patrol.js"] {
        let text =
            std::str::from_utf8(ASSETS.iter().find(|a| a.path == js).unwrap().bytes).unwrap();
        assert!(
            text.contains("setPrefix(false)"),
            "{js} must hide Leaflet's external link"
        );
    }
    let r = c.get(srv.url("/static/nope.js")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert!(v["error"].as_str().unwrap().contains("nope.js"));
    let r = c
        .get(srv.url("/static/../Cargo.toml"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    srv.stop().await;
}

#[tokio::test]
async fn dashboard_config_names_the_tile_url_and_the_role() {
    let srv = sample_server().await;
    let (s, v) = srv.get("/api/v1/dashboard-config", COUNTY_A).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["tile_url"],
        "http://tiles.example.local:8081/{z}/{x}/{y}.png"
    );
    assert_eq!(v["role"], "county:410526");
    let r = srv.client.get(srv.url("/")).send().await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("img-src 'self' data: blob: http://tiles.example.local:8081;"),
        "{csp}"
    );
    let (s, v) = srv.get("/api/v1/dashboard-config", "wrong-token").await;
    assert_eq!((s, v["field"].as_str()), (401, Some("Authorization")));
    srv.stop().await;
}

fn codes(features: &[serde_json::Value]) -> Vec<String> {
    let mut c: Vec<String> = features
        .iter()
        .map(|f| f["properties"]["code"].as_str().unwrap().to_string())
        .collect();
    c.sort();
    c
}

#[tokio::test]
async fn unit_boundaries_are_scoped_and_parcels_need_a_bbox() {
    let srv = sample_server().await;
    let counties = srv.features("/api/v1/units?level=county", ADMIN).await;
    assert_eq!(
        codes(&counties),
        ["410526", "410527", "410621", "410727", "410783"]
    );
    let hua = counties
        .iter()
        .find(|f| f["properties"]["code"] == "410526")
        .unwrap();
    assert_eq!(hua["properties"]["name"], "滑县");
    assert_eq!(hua["properties"]["level"], "county");
    assert_eq!(hua["geometry"]["type"], "MultiPolygon");
    let ring = hua["geometry"]["coordinates"][0][0].as_array().unwrap();
    assert!(ring.len() > 10 && ring.first() == ring.last());
    let lon = ring[0][0].as_f64().unwrap();
    assert!((114.0..115.5).contains(&lon), "{lon}");
    // The default level is county.
    assert_eq!(srv.features("/api/v1/units", ADMIN).await.len(), 5);

    // A county token: its own county and its townships only.
    assert_eq!(
        codes(&srv.features("/api/v1/units?level=county", COUNTY_A).await),
        ["410526"]
    );
    let towns = srv.features("/api/v1/units?level=township", COUNTY_A).await;
    assert_eq!(towns.len(), 23);
    assert!(towns.iter().all(|f| f["properties"]["parent"] == "410526"));
    let all_towns = srv.features("/api/v1/units?level=township", ADMIN).await;
    assert_eq!(all_towns.len(), 89);
    // A patrol token: its township (and none of the county).
    assert!(srv
        .features("/api/v1/units?level=county", PATROL_JIAOHU)
        .await
        .is_empty());
    assert_eq!(
        codes(
            &srv.features("/api/v1/units?level=township", PATROL_JIAOHU)
                .await
        ),
        [JIAOHU]
    );

    // Parcels: only with a bbox, only those in it, only those in scope.
    let (s, v) = srv.get("/api/v1/units?level=parcel", ADMIN).await;
    assert_eq!((s, v["field"].as_str()), (400, Some("bbox")), "{v}");
    let block = "114.50,35.45,114.62,35.55";
    let parcels = srv
        .features(&format!("/api/v1/units?level=parcel&bbox={block}"), ADMIN)
        .await;
    assert_eq!(parcels.len(), 640);
    let mine = srv
        .features(
            &format!("/api/v1/units?level=parcel&bbox={block}"),
            PATROL_JIAOHU,
        )
        .await;
    assert_eq!(mine.len(), 269);
    assert!(mine.iter().all(|f| f["properties"]["parent"] == JIAOHU));
    assert_eq!(
        srv.features(
            &format!("/api/v1/units?level=parcel&bbox={block}"),
            COUNTY_B
        )
        .await
        .len(),
        0
    );
    // A small bbox holds a few parcels, each of which overlaps it.
    let small = srv
        .features(
            "/api/v1/units?level=parcel&bbox=114.555,35.495,114.558,35.498",
            ADMIN,
        )
        .await;
    assert!(!small.is_empty() && small.len() < 20, "{}", small.len());
    for f in &small {
        let pts = f["geometry"]["coordinates"][0][0].as_array().unwrap();
        let lons: Vec<f64> = pts.iter().map(|p| p[0].as_f64().unwrap()).collect();
        let lats: Vec<f64> = pts.iter().map(|p| p[1].as_f64().unwrap()).collect();
        let min = |v: &[f64]| v.iter().cloned().fold(f64::MAX, f64::min);
        let max = |v: &[f64]| v.iter().cloned().fold(f64::MIN, f64::max);
        assert!(min(&lons) <= 114.558 && max(&lons) >= 114.555);
        assert!(min(&lats) <= 35.498 && max(&lats) >= 35.495);
    }
    // Paged like every list: `limit` rows and `next`; walking it gives every parcel once.
    let mut seen = Vec::new();
    let mut url = format!("/api/v1/units?level=parcel&bbox={block}&limit=100");
    let mut pages = 0;
    loop {
        let (s, v) = srv.get(&url, ADMIN).await;
        assert_eq!(s, 200, "{v}");
        let page = v["features"].as_array().unwrap();
        assert!(page.len() <= 100);
        seen.extend(page.iter().map(|f| f["id"].as_str().unwrap().to_string()));
        pages += 1;
        match v["next"].as_str() {
            Some(next) => {
                url = format!("/api/v1/units?level=parcel&bbox={block}&limit=100&cursor={next}")
            }
            None => break,
        }
    }
    assert_eq!(pages, 7);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (640, 640));
    // A county list of two pages: the cursor of one level is not one of another.
    let (s, v) = srv.get("/api/v1/units?level=county&limit=3", ADMIN).await;
    assert_eq!((s, v["features"].as_array().unwrap().len()), (200, 3));
    let next = v["next"].as_str().unwrap().to_string();
    let (s, v) = srv
        .get(
            &format!("/api/v1/units?level=county&limit=3&cursor={next}"),
            ADMIN,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["features"].as_array().unwrap().len(), 2);
    assert!(v["next"].is_null());
    let (s, v) = srv
        .get(
            &format!("/api/v1/units?level=township&cursor={next}"),
            ADMIN,
        )
        .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("cursor")), "{v}");

    for (q, field) in [
        ("level=province", "level"),
        ("level=county&bbox=1,2,3", "bbox"),
        ("level=county&limit=0", "limit"),
        ("level=county&limit=5001", "limit"),
        ("levle=county", "levle"),
    ] {
        let (s, v) = srv.get(&format!("/api/v1/units?{q}"), ADMIN).await;
        assert_eq!((s, v["field"].as_str()), (400, Some(field)), "{q}: {v}");
    }
    let r = srv
        .client
        .get(srv.url("/api/v1/units"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // The unit endpoint of one code stays as it was.
    let (s, _) = srv.get("/api/v1/units/410527", COUNTY_A).await;
    assert_eq!(s, 403);
    srv.stop().await;
}

fn recent_csv(rows: &[(f64, f64, i64)]) -> String {
    let rows: Vec<_> = rows
        .iter()
        .map(|&(lat, lon, h)| (lat, lon, h, "h"))
        .collect();
    recent_firms_csv(&rows, 12.5)
}

async fn the_stream_tells_each_scope_what_an_ingest_stored(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let mut admin = SseReader::open(&srv, ADMIN, true).await;
    let mut county_a = SseReader::open(&srv, COUNTY_A, false).await;
    let mut county_b = SseReader::open(&srv, COUNTY_B, false).await;
    assert_eq!(admin.expect("hello").await["role"], "admin");
    assert_eq!(county_a.expect("hello").await["role"], "county:410526");
    assert_eq!(county_b.expect("hello").await["role"], "county:410527");

    // Two hotspots in county A (GridPlacer: west of 116.5° E), none in B.
    let body = recent_csv(&[(35.40, 114.50, 1), (35.60, 114.60, 2)]);
    let (s, v) = srv.post("/api/v1/hotspots", ADMIN, "text/csv", body).await;
    assert_eq!(s, 201, "{v}");

    let a = admin.expect("hotspots").await;
    assert_eq!(a["count"], 2);
    let mut stored: Vec<i64> = srv
        .features("/api/v1/hotspots", ADMIN)
        .await
        .iter()
        .map(|f| f["properties"]["id"].as_i64().unwrap())
        .collect();
    let mut ids: Vec<i64> = serde_json::from_value(a["ids"].clone()).unwrap();
    ids.sort();
    stored.sort();
    assert_eq!(ids, stored);
    let bbox: Vec<f64> = serde_json::from_value(a["bbox"].clone()).unwrap();
    assert!(
        (bbox[0] - 114.50).abs() < 1e-6 && (bbox[3] - 35.60).abs() < 1e-6,
        "{bbox:?}"
    );
    let ev = admin.expect("event").await;
    assert!(ev["id"].as_i64().is_some());

    let ca = county_a.expect("hotspots").await;
    assert_eq!(ca["count"], 2);
    // One event per fire (the two are 25 km apart).
    let mut events = vec![
        county_a.expect("event").await["id"].as_i64(),
        county_a.expect("event").await["id"].as_i64(),
    ];
    events.sort();
    assert_eq!(events, [Some(1), Some(2)]);
    // County B heard nothing of county A's fires: its next event is B's own, posted now.
    let body = recent_csv(&[(35.80, 116.90, 1)]);
    let (s, _) = srv.post("/api/v1/hotspots", ADMIN, "text/csv", body).await;
    assert_eq!(s, 201);
    let (name, cb) = county_b.next(Duration::from_secs(10)).await.unwrap();
    assert_eq!(name, "hotspots", "{cb}");
    assert_eq!(cb["count"], 1);
    assert!((cb["bbox"][0].as_f64().unwrap() - 116.90).abs() < 1e-6);
    // ...and A does not hear B's.
    let heard = county_a.next(Duration::from_millis(500)).await;
    assert!(heard.is_none(), "{heard:?}");

    // A repeat of the same body stores nothing and tells nobody.
    let body = recent_csv(&[(35.80, 116.90, 1)]);
    let _ = srv.post("/api/v1/hotspots", ADMIN, "text/csv", body).await;

    // Auth: no token → 401 naming the header; an unknown `?token=` → 401; unknown parameter → 400.
    let r = srv
        .client
        .get(srv.url("/api/v1/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = srv
        .client
        .get(srv.url("/api/v1/stream?token=nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let (s, v) = srv.get("/api/v1/stream?tokn=x", ADMIN).await;
    assert_eq!((s, v["field"].as_str()), (400, Some("tokn")));

    // Shutdown is not held up by open streams: they end.
    tokio::time::timeout(Duration::from_secs(10), srv.stop())
        .await
        .expect("shutdown with open streams");
    // The admin stream ends (after the updates still buffered), rather than timing out.
    let t0 = std::time::Instant::now();
    let mut buffered = 0;
    while admin.next(Duration::from_secs(5)).await.is_some() {
        buffered += 1;
        assert!(buffered < 10);
    }
    assert!(
        t0.elapsed() < Duration::from_secs(4),
        "the stream did not end"
    );
}

async fn patrol_streams_hear_only_their_township(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let mut patrol = SseReader::open(&srv, PATROL_A1, false).await;
    assert_eq!(patrol.expect("hello").await["role"], "patrol:410526101");
    // 410526100 (south of 35.5° N) first, then 410526101 (north).
    let (s, _) = srv
        .post(
            "/api/v1/hotspots",
            ADMIN,
            "text/csv",
            recent_csv(&[(35.30, 114.5, 1)]),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = srv
        .post(
            "/api/v1/hotspots",
            ADMIN,
            "text/csv",
            recent_csv(&[(35.70, 114.5, 1)]),
        )
        .await;
    assert_eq!(s, 201);
    let (name, d) = patrol.next(Duration::from_secs(10)).await.unwrap();
    assert_eq!(name, "hotspots");
    assert_eq!(d["count"], 1);
    assert!((d["bbox"][1].as_f64().unwrap() - 35.70).abs() < 1e-6, "{d}");
    srv.stop().await;
}
