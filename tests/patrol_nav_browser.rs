//! "Take me there" on the patrol page, in real Chromium at phone size (issue 16, item 2): each
//! task card carries 高德/腾讯 links in GCJ-02, a 百度 link in BD-09 and a `geo:` link in WGS84,
//! checked against the project's own conversion of the task's position; the cards are numbered
//! like their pins on the map; the distance and bearing from the phone's position are in words;
//! the task's field parcel is drawn. Screenshot: `<target>/browser-artifacts/patrol-nav.png`.

mod common;

use common::browser::Browser;
use common::layers::{sample_locator, JIAOHU};
use common::server::*;
use geo::InteriorPoint;
use strawfire::locate::bd09::wgs84_to_bd09;
use strawfire::locate::gcj02::wgs84_to_gcj02;
use strawfire::locate::navlink::{distance_bearing, NavLinks};

const PATROL_JIAOHU: &str = "patrol-410526111-token-01";

fn zh(key: &str) -> String {
    let cat: std::collections::HashMap<String, String> =
        serde_json::from_str(strawfire::i18n::ZH_CN_JSON).unwrap();
    cat.get(key).unwrap_or_else(|| panic!("no `{key}`")).clone()
}

/// The two numbers after `key` in a link, up to `&` or `;`.
fn pair_after(link: &str, key: &str) -> (f64, f64) {
    let i = link.find(key).unwrap_or_else(|| panic!("{key} in {link}")) + key.len();
    let rest = &link[i..];
    let end = rest.find(['&', ';']).unwrap_or(rest.len());
    let v: Vec<f64> = rest[..end].split(',').map(|x| x.parse().unwrap()).collect();
    (v[0], v[1])
}

fn close(a: (f64, f64), b: (f64, f64)) -> bool {
    (a.0 - b.0).abs() < 2e-6 && (a.1 - b.1).abs() < 2e-6
}

#[tokio::test]
async fn the_patrol_page_takes_the_patrol_to_each_fire_in_every_map_apps_datum() {
    let locator = sample_locator();
    // Two fires kilometres apart (two events) on sample parcels of 焦虎镇: the first and the
    // last parcel of the township (their interior points, WGS84).
    let parcels = locator.parcel_layer().unwrap();
    let jiaohu: Vec<usize> = (0..parcels.units.len())
        .filter(|&i| parcels.units[i].parent.as_deref() == Some(JIAOHU))
        .collect();
    let fires: Vec<(f64, f64)> = [jiaohu[0], *jiaohu.last().unwrap()]
        .into_iter()
        .map(|i| {
            let p = parcels.index.shape(i).interior_point().unwrap();
            (p.x(), p.y())
        })
        .collect();
    assert_eq!(fires.len(), 2, "sample parcels in 焦虎镇");
    let srv = TestServer::start_placed(
        tempfile::tempdir().unwrap(),
        |c| {
            c.tokens.push(strawfire::config::TokenConfig {
                token: PATROL_JIAOHU.into(),
                role: format!("patrol:{JIAOHU}"),
                name: None,
            })
        },
        locator.clone(),
    )
    .await;
    let csv = recent_firms_csv(
        &fires
            .iter()
            .map(|&(lon, lat)| (lat, lon, 0, "h"))
            .collect::<Vec<_>>(),
        9.5,
    );
    let (s, v) = srv.post("/api/v1/hotspots", ADMIN, "text/csv", csv).await;
    assert_eq!(s, 201, "{v}");
    let tasks = eventually(
        std::time::Duration::from_secs(20),
        "two tasks for the patrol of 焦虎镇",
        || async {
            let t = srv
                .features("/api/v1/tasks?status=open", PATROL_JIAOHU)
                .await;
            (t.len() == 2).then_some(t)
        },
    )
    .await;

    // The task JSON: the links of the one pure module, each in its app's datum.
    for t in &tasks {
        let p = &t["properties"];
        let id = p["id"].as_i64().unwrap();
        let c = &t["geometry"]["coordinates"];
        let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
        let nav: NavLinks = NavLinks::new(lon, lat, &format!("火点 #{id}"));
        assert_eq!(p["nav"]["amap"], nav.amap.as_str());
        assert_eq!(p["nav"]["baidu"], nav.baidu.as_str());
        assert_eq!(p["nav"]["tencent"], nav.tencent.as_str());
        assert_eq!(p["nav"]["geo"], nav.geo.as_str());
        assert!(p["parcel"].is_string(), "the task's parcel: {p}");
    }

    // Opened from a chat message's link to the second task.
    let linked = tasks[1]["properties"]["id"].as_i64().unwrap();
    let b = Browser::start(390, 844).await;
    b.client
        .goto(&srv.url(&format!("/patrol#task-{linked}")))
        .await
        .unwrap();
    b.type_into("#token-input", PATROL_JIAOHU).await;
    b.click("#signin-button").await;
    b.wait_js(
        "two numbered cards with their links",
        "return document.querySelectorAll('#tasks .card .nav:not([hidden]) a.nav-amap[href]').length === 2",
    )
    .await;

    let active = b
        .js(
            "return [...document.querySelectorAll('#tasks .card.active')].map((c) => Number(c.dataset.taskId))",
            vec![],
        )
        .await;
    assert_eq!(
        active,
        serde_json::json!([linked]),
        "the linked card is marked"
    );

    // Every card: its links carry the task's position converted by the project's datum code.
    let cards = b
        .js(
            "return [...document.querySelectorAll('#tasks .card[data-task-id]')].map((c) => ({
               id: Number(c.dataset.taskId), num: c.querySelector('.pin-num').textContent,
               title: c.querySelector('.task-title').textContent,
               amap: c.querySelector('.nav-amap').href, baidu: c.querySelector('.nav-baidu').href,
               tencent: c.querySelector('.nav-tencent').href, geo: c.querySelector('.nav-geo').href,
               words: [...c.querySelectorAll('.nav-links a')].map((a) => a.textContent) }))",
            vec![],
        )
        .await;
    let cards = cards.as_array().unwrap();
    assert_eq!(cards.len(), 2);
    for (i, card) in cards.iter().enumerate() {
        let id = card["id"].as_i64().unwrap();
        let t = tasks.iter().find(|t| t["properties"]["id"] == id).unwrap();
        let c = &t["geometry"]["coordinates"];
        let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
        let gcj = wgs84_to_gcj02(lon, lat);
        let bd = wgs84_to_bd09(lon, lat);
        let amap = card["amap"].as_str().unwrap();
        assert!(amap.starts_with("https://uri.amap.com/marker?"), "{amap}");
        assert!(amap.contains("&coordinate=gaode"), "{amap}");
        assert!(
            close(pair_after(amap, "position="), gcj),
            "{amap} vs {gcj:?}"
        );
        let tencent = card["tencent"].as_str().unwrap();
        let (tlat, tlon) = pair_after(tencent, "coord:");
        assert!(close((tlon, tlat), gcj), "{tencent} vs {gcj:?}");
        let baidu = card["baidu"].as_str().unwrap();
        assert!(baidu.contains("&coord_type=bd09ll"), "{baidu}");
        let (blat, blon) = pair_after(baidu, "location=");
        assert!(close((blon, blat), bd), "{baidu} vs {bd:?}");
        let (glat, glon) = pair_after(card["geo"].as_str().unwrap(), "geo:");
        assert!(close((glon, glat), (lon, lat)), "{card}");
        // Numbered 1, 2 in the order shown; the words are the catalogue's.
        assert_eq!(card["num"], (i + 1).to_string());
        assert_eq!(
            card["words"],
            serde_json::json!([
                zh("nav.amap"),
                zh("nav.baidu"),
                zh("nav.tencent"),
                zh("nav.geo")
            ])
        );
    }

    // The pins carry the same numbers as the cards, on the same tasks.
    let pins = b
        .js(
            "return [...document.querySelectorAll('.leaflet-marker-icon.pin')].map((m) => [m.textContent, m.title])",
            vec![],
        )
        .await;
    let mut pins: Vec<(String, String)> = serde_json::from_value(pins).unwrap();
    pins.sort();
    let mut want: Vec<(String, String)> = cards
        .iter()
        .map(|c| {
            (
                c["num"].as_str().unwrap().to_string(),
                c["title"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    want.sort();
    assert_eq!(pins.len(), 2, "{pins:?}");
    for ((pn, pt), (cn, ct)) in pins.iter().zip(&want) {
        assert_eq!(pn, cn);
        assert!(ct.starts_with(pt.as_str()), "pin {pt} vs card {ct}");
    }

    // The fields are drawn, each under its fire's pin (the pin's tip is the bottom centre of
    // its icon).
    b.wait_js(
        "the tasks' parcels on the map",
        "return Number(document.getElementById('map').dataset.parcels) === 2",
    )
    .await;
    let geometry = b
        .js(
            "const c = (r) => [r.x + r.width / 2, r.y + r.height / 2];
             return [[...document.querySelectorAll('.leaflet-overlay-pane path[stroke=\"#e65100\"]')].map((p) => c(p.getBoundingClientRect())),
                     [...document.querySelectorAll('.leaflet-marker-icon.pin')].map((m) => { const r = m.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height]; })]",
            vec![],
        )
        .await;
    let (fields, tips): (Vec<[f64; 2]>, Vec<[f64; 2]>) = serde_json::from_value(geometry).unwrap();
    assert_eq!(fields.len(), 2, "{fields:?}");
    for f in &fields {
        assert!(
            tips.iter().any(|t| (t[0] - f[0]).hypot(t[1] - f[1]) < 12.0),
            "parcel at {f:?}, pins at {tips:?}"
        );
    }

    // The phone stands south-west of the first card's fire: it says 东北 and how far.
    let first = &cards[0];
    let t = tasks
        .iter()
        .find(|t| t["properties"]["id"] == first["id"])
        .unwrap();
    let c = &t["geometry"]["coordinates"];
    let fire = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let phone = (fire.0 - 0.009, fire.1 - 0.008);
    let (d, bearing) = distance_bearing(phone, fire);
    assert!((30.0..60.0).contains(&bearing), "{bearing}");
    let want = zh("nav.from_here").replace("{dir}", &zh("dir.ne")).replace(
        "{dist}",
        &zh("nav.km").replace("{km}", &format!("{:.1}", d / 1000.0)),
    );
    b.js(
        "const [lat, lon] = arguments;
         Object.defineProperty(navigator, 'geolocation', { configurable: true, value: {
           getCurrentPosition: (ok) => ok({ coords: { latitude: lat, longitude: lon, accuracy: 8 } }) } });",
        vec![phone.1.into(), phone.0.into()],
    )
    .await;
    let card = format!("#tasks .card[data-task-id='{}']", first["id"]);
    b.click(&format!("{card} .nav-locate")).await;
    let got = b
        .wait_js(
            "the distance and bearing",
            &format!("return document.querySelector(\"{card} .nav-dist\").textContent"),
        )
        .await;
    assert_eq!(got, want.as_str());
    let m: f64 = b
        .js(
            &format!("return Number(document.querySelector(\"{card} .nav-dist\").dataset.m)"),
            vec![],
        )
        .await
        .as_f64()
        .unwrap();
    assert!((m - d).abs() <= 1.0, "page {m} m, Rust {d} m");
    b.screenshot("patrol-nav").await;
    b.close().await;
}
