//! The patrol page in a field with no signal (#16), in real Chromium on a phone viewport: the
//! network is taken away twice over, through the DevTools protocol
//! (`Network.emulateNetworkConditions` offline: `navigator.onLine` false, the page's requests
//! fail) and by a proxy in front of the server that drops every connection (what the service
//! worker's own requests meet). Shown: the page opens offline from the service worker with the
//! tasks it last saw; an acknowledgement and a verdict with a phone-sized photo made offline wait
//! in the queue; a reload keeps the typed note and the photo; after reconnecting the server has
//! the verdict exactly once (a second copy of the queued request, as from a second tab, is
//! absorbed by its idempotency key), with the offline time and position and the photo made
//! smaller with its EXIF time and GPS; the patrol's record lists it. Screenshots in
//! `<target>/browser-artifacts/`.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration as Age, Utc};
use common::browser::Browser;
use common::dispatch::{add_exif, count, db};
use common::server::*;
use fantoccini::Locator;

/// A TCP proxy to the server that can be made unreachable: while down, every connection is
/// closed at once and the open ones (the live stream, kept-alive requests) are cut.
struct Proxy {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let (u, c) = (up.clone(), conns.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !u.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let h = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                c.lock().unwrap().push(h.abort_handle());
            }
        });
        Proxy {
            addr,
            up,
            conns,
            accept,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        for h in self.conns.lock().unwrap().drain(..) {
            h.abort();
        }
    }

    fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.down();
        self.accept.abort();
    }
}

/// The text of `key` in the Chinese catalogue, `{name}`s filled.
fn zh(key: &str, params: &[(&str, &str)]) -> String {
    let cat: std::collections::HashMap<String, String> =
        serde_json::from_str(strawfire::i18n::ZH_CN_JSON).unwrap();
    let mut s = cat.get(key).unwrap_or_else(|| panic!("no `{key}`")).clone();
    for (k, v) in params {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// The page's network on or off (DevTools), and the proxy with it.
async fn network(b: &Browser, proxy: &Proxy, on: bool) {
    if on {
        proxy.up();
    } else {
        proxy.down();
    }
    b.cdp("Network.enable", serde_json::json!({})).await;
    b.cdp(
        "Network.emulateNetworkConditions",
        serde_json::json!({"offline": !on, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
    )
    .await;
}

/// A phone camera's photo: 4000×3000, several MB, with EXIF time (local, Beijing) and GPS.
fn phone_photo(
    dir: &std::path::Path,
    taken: DateTime<Utc>,
    lon: f64,
    lat: f64,
) -> std::path::PathBuf {
    let (w, h) = (4000u32, 3000u32);
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = (seed & 0x3f) as u32;
        image::Rgb([
            ((x / 16 + n) % 256) as u8,
            ((y / 12 + n * 2) % 256) as u8,
            ((x / 30 + y / 30 + n) % 256) as u8,
        ])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&img)
        .unwrap();
    let local = (taken + Age::hours(8))
        .format("%Y:%m:%d %H:%M:%S")
        .to_string();
    let path = dir.join("IMG_20261204_field.jpg");
    std::fs::write(&path, add_exif(&jpeg, &local, lon, lat)).unwrap();
    path
}

#[tokio::test]
async fn a_verdict_made_offline_reaches_the_server_once_with_its_time_and_place() {
    let srv =
        TestServer::start_placed(tempfile::tempdir().unwrap(), |_| {}, Arc::new(GridPlacer)).await;
    let (s, v) = srv
        .post(
            "/api/v1/hotspots",
            ADMIN,
            "text/csv",
            recent_firms_csv(&[(35.700, 114.500, 0, "h")], 9.5),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let task_id = eventually(
        std::time::Duration::from_secs(20),
        "a task for the patrol",
        || async {
            let tasks = srv.features("/api/v1/tasks?status=open", PATROL_A1).await;
            tasks.first().and_then(|t| t["properties"]["id"].as_i64())
        },
    )
    .await;
    let target: SocketAddr = srv.base.trim_start_matches("http://").parse().unwrap();
    let proxy = Proxy::start(target).await;

    // Online first: the page is seen once, its worker installed, the task list kept.
    let b = Browser::start(390, 844).await;
    b.client.goto(&proxy.url("/patrol")).await.unwrap();
    b.type_into("#token-input", PATROL_A1).await;
    b.click("#signin-button").await;
    let card = format!("#tasks .card[data-task-id='{task_id}']");
    b.wait_js(
        "the task card",
        &format!("return !!document.querySelector(\"{card}\")"),
    )
    .await;
    b.wait_js(
        "the service worker controls the page",
        "return !!navigator.serviceWorker.controller",
    )
    .await;
    b.wait_js(
        "the record loaded",
        "return document.body.dataset.record === '0'",
    )
    .await;

    // No network. The page opens again from the worker, with the task, its clock and position.
    network(&b, &proxy, false).await;
    b.client.refresh().await.unwrap();
    b.wait_js(
        "the task card offline",
        &format!("var c = document.querySelector(\"{card}\"); return !!c && c.querySelector('.clock').textContent !== '' && c.querySelector('.position').textContent.includes('35.70000')"),
    )
    .await;
    b.wait_js(
        "the badge says offline",
        "return document.body.dataset.live === 'offline' && document.getElementById('live').textContent.includes('离线')",
    )
    .await;
    let offline_note = zh("offline.tasks", &[("time", "")]);
    let offline_note = offline_note.split_whitespace().next().unwrap();
    b.wait_js(
        "the list says how old it is",
        &format!("return document.getElementById('sync').textContent.includes('{offline_note}')"),
    )
    .await;
    b.screenshot("patrol-offline-opened").await;

    // Acknowledged offline: kept, shown as pending on the card.
    b.click(&format!("{card} .ack")).await;
    b.wait_js(
        "the acknowledgement pending",
        &format!("var c = document.querySelector(\"{card}\"); return c.dataset.pending === '1' && c.querySelector('.pending li').textContent.includes('待发送')"),
    )
    .await;

    // The verdict form: a verdict, the position typed, a note, a phone's photo (made smaller here).
    let form = format!("{card} .verdict-form");
    b.click(&format!("{card} .open-verdict")).await;
    b.wait_js(
        "the verdict form",
        &format!("return !document.querySelector(\"{form}\").hidden"),
    )
    .await;
    b.select(&format!("{form} select[name=verdict]"), "burning")
        .await;
    b.type_into(&format!("{form} input[name=lat]"), "35.70012")
        .await;
    b.type_into(&format!("{form} input[name=lon]"), "114.50021")
        .await;
    b.type_into(&format!("{form} input[name=note]"), "麦茬地东头冒烟")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let original = phone_photo(dir.path(), Utc::now(), 114.50021, 35.70012);
    let original_bytes = std::fs::metadata(&original).unwrap().len();
    assert!(original_bytes > 4_000_000, "{original_bytes} bytes");
    b.client
        .find(Locator::Css(&format!("{form} input[name=photo]")))
        .await
        .unwrap()
        .send_keys(&original.to_string_lossy())
        .await
        .unwrap();
    b.wait_js(
        "the photo made smaller",
        &format!("return document.querySelector(\"{form}\").dataset.photo === 'resized'"),
    )
    .await;
    b.screenshot("patrol-offline-verdict-form").await;

    // A reload (still offline) keeps what was typed and the photo.
    b.client.refresh().await.unwrap();
    b.wait_js(
        "the form as it was",
        &format!("var f = document.querySelector(\"{form}\"); return !!f && !f.hidden && f.dataset.restored === 'true' && f.elements.note.value === '麦茬地东头冒烟' && f.elements.verdict.value === 'burning' && f.elements.lat.value === '35.70012' && f.elements.photo.files.length === 1 && f.elements.photo.files[0].type === 'image/jpeg' && !f.querySelector('.photo-preview').hidden"),
    )
    .await;
    b.screenshot("patrol-offline-draft-kept").await;

    // Filed offline: two actions wait.
    b.click(&format!("{form} .send-verdict")).await;
    b.wait_js(
        "the verdict pending",
        &format!("return document.querySelector(\"{card}\").dataset.pending === '2' && document.body.dataset.pending === '2'"),
    )
    .await;
    // When they were made, as queued; and a second copy of the verdict's request (the same key),
    // as a second tab holding the same queue would send it.
    b.client
        .execute_async(
            "var done = arguments[0]; var r = indexedDB.open('strawfire-patrol'); r.onsuccess = function () { var s = r.result.transaction('queue', 'readwrite').objectStore('queue'); var all = s.getAll(); all.onsuccess = function () { var v = all.result.find(function (x) { return x.kind === 'verdict'; }); var copy = Object.assign({}, v); delete copy.seq; s.add(copy).onsuccess = function () { done(true); }; }; };",
            vec![],
        )
        .await
        .unwrap();
    let queued = b
        .client
        .execute_async(
            "var done = arguments[0]; var r = indexedDB.open('strawfire-patrol'); r.onsuccess = function () { var all = r.result.transaction('queue').objectStore('queue').getAll(); all.onsuccess = function () { done(all.result.map(function (x) { return [x.kind, x.acted_at, x.key, x.photo ? x.photo.size : 0]; })); }; };",
            vec![],
        )
        .await
        .unwrap();
    let queued = queued.as_array().unwrap().clone();
    assert_eq!(queued.len(), 3, "{queued:?}");
    assert_eq!(queued[1][2], queued[2][2], "the copy has the same key");
    let at = |i: usize| DateTime::from_timestamp_millis(queued[i][1].as_i64().unwrap()).unwrap();
    let (acked_at, verdict_at) = (at(0), at(1));
    let sent_photo = queued[1][3].as_u64().unwrap();
    assert!(
        sent_photo < original_bytes / 4,
        "{sent_photo} of {original_bytes}"
    );
    let reconnected = Utc::now();

    // The network is back: everything is sent, in order, the verdict once.
    network(&b, &proxy, true).await;
    b.wait_js(
        "the queue sent",
        "return document.body.dataset.pending === '0'",
    )
    .await;
    b.wait_js(
        "the badge says online",
        "return document.body.dataset.live === 'open'",
    )
    .await;
    let (s, t) = srv
        .get(&format!("/api/v1/tasks/{task_id}"), PATROL_A1)
        .await;
    assert_eq!(s, 200, "{t}");
    let p = &t["properties"];
    assert_eq!(p["state"], "verified", "{t}");
    let secs = |v: &serde_json::Value| {
        DateTime::parse_from_rfc3339(v.as_str().unwrap())
            .unwrap()
            .timestamp()
    };
    assert_eq!(secs(&p["acknowledged_at"]), acked_at.timestamp(), "{t}");
    let v = &p["verdict"];
    assert_eq!(secs(&v["reported_at"]), verdict_at.timestamp(), "{v}");
    assert!(secs(&v["reported_at"]) <= reconnected.timestamp(), "{v}");
    assert!(secs(&v["received_at"]) >= reconnected.timestamp(), "{v}");
    assert_eq!(
        (v["lat"].as_f64(), v["lon"].as_f64()),
        (Some(35.70012), Some(114.50021))
    );
    assert_eq!(v["note"], "麦茬地东头冒烟");
    // The photo as sent: smaller, at most 2048 px long, with the camera's time and GPS.
    assert!(v["exif_time"].is_string(), "{v}");
    assert!(
        (v["exif_lat"].as_f64().unwrap() - 35.70012).abs() < 1e-4,
        "{v}"
    );
    assert!(
        (v["exif_lon"].as_f64().unwrap() - 114.50021).abs() < 1e-4,
        "{v}"
    );
    let stored = srv
        .dir
        .path()
        .join("data")
        .join(v["photo_path"].as_str().unwrap());
    let (w, h) = image::image_dimensions(&stored).unwrap();
    assert_eq!((w, h), (2048, 1536));
    assert_eq!(v["photo_bytes"].as_u64(), Some(sent_photo));
    // Exactly once, whatever was sent twice.
    assert_eq!(count(&srv, "SELECT COUNT(*) FROM verdicts"), 1);
    let actions: Vec<String> = {
        let c = db(&srv);
        let mut st = c
            .prepare(&format!("SELECT action FROM audit WHERE entity = 'task' AND entity_id = {task_id} AND action != 'notify' ORDER BY id"))
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(actions, ["create", "acknowledge", "verdict"]);
    assert_eq!(count(&srv, "SELECT COUNT(*) FROM idempotency_keys"), 2);

    // The patrol's record, in Beijing time.
    b.wait_js(
        "the record",
        &format!("var li = document.querySelector(\"#record-list li[data-task-id='{task_id}']\"); return !!li && li.textContent.includes('{}') && li.textContent.includes('北京时间')", zh("verdict.burning", &[])),
    )
    .await;
    b.screenshot("patrol-offline-sent").await;
    b.close().await;
    drop(proxy);
    srv.stop().await;
}
