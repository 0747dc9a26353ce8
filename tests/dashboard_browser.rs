//! The pages in a real browser: headless Chromium through chromedriver against a real server
//! (port 0, SQLite in a temp dir). Screenshots land in `<target>/browser-artifacts/`.
//! Every wait polls a condition in the page with a timeout; nothing sleeps a fixed time.

mod common;

use std::sync::Arc;

use chrono::{Duration as Age, Utc};
use common::browser::Browser;
use common::layers::sample_locator;
use common::server::*;
use fantoccini::Locator;

/// The text of `key` in the Chinese catalogue (the pages' default language), `{name}`s filled.
fn zh(key: &str, params: &[(&str, &str)]) -> String {
    let cat: std::collections::HashMap<String, String> =
        serde_json::from_str(strawfire::i18n::ZH_CN_JSON).unwrap();
    let mut s = cat.get(key).unwrap_or_else(|| panic!("no `{key}`")).clone();
    for (k, v) in params {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// Phone viewport of the patrol page (CSS pixels).
const PHONE: (u32, u32) = (390, 844);

/// A FIRMS CSV of hotspots `hours_ago` old: (lat, lon, hours_ago, confidence).
fn recent_csv(rows: &[(f64, f64, i64, &str)]) -> String {
    recent_firms_csv(rows, 9.5)
}

/// Signs in through the page's own box and waits until it says who we are.
async fn sign_in(b: &Browser, token: &str, role: &str) {
    b.type_into("#token-input", token).await;
    b.click("#signin-button").await;
    // The page names the role in words (管理员, 乡镇巡查 410526101) and keeps its code.
    let code = role.split(':').nth(1).unwrap_or("");
    b.wait_js(
        &format!("signed in as {role}"),
        &format!(
            "return document.body.dataset.role === '{role}' && document.getElementById('whoami').textContent.startsWith('{}') && document.getElementById('whoami').textContent.includes('{code}')",
            zh("signin.as", &[("role", "")])
        ),
    )
    .await;
}

/// Opens the patrol page on a phone, signs in as the patrol of 410526101 and waits for the card
/// of `task_id`; returns the browser and the card's CSS selector.
async fn patrol_page(srv: &TestServer, task_id: i64) -> (Browser, String) {
    let b = Browser::start(PHONE.0, PHONE.1).await;
    b.client.goto(&srv.url("/patrol")).await.unwrap();
    sign_in(&b, PATROL_A1, "patrol:410526101").await;
    let card = format!("#tasks .card[data-task-id='{task_id}']");
    b.wait_js(
        "the task card",
        &format!("return !!document.querySelector(\"{card}\")"),
    )
    .await;
    (b, card)
}

/// Opens the verdict form of a task card; returns the form's CSS selector.
async fn open_verdict_form(b: &Browser, card: &str) -> String {
    let form = format!("{card} .verdict-form");
    b.click(&format!("{card} .open-verdict")).await;
    b.wait_js(
        "the verdict form",
        &format!("return !document.querySelector(\"{form}\").hidden"),
    )
    .await;
    form
}

/// Three fires in 滑县 of three confidences and ages, stored before the page opens.
async fn dashboard_with_fires() -> (TestServer, Browser) {
    let srv =
        TestServer::start_placed(tempfile::tempdir().unwrap(), |_| {}, sample_locator()).await;
    let body = recent_csv(&[
        (35.500, 114.555, 1, "h"),
        (35.560, 114.480, 5, "n"),
        (35.420, 114.650, 20, "l"),
    ]);
    let (s, v) = srv.post("/api/v1/hotspots", ADMIN, "text/csv", body).await;
    assert_eq!(s, 201, "{v}");
    let b = Browser::start(1280, 800).await;
    b.client.goto(&srv.url("/")).await.unwrap();
    (srv, b)
}

#[tokio::test]
async fn the_dashboard_draws_boundaries_hotspots_and_events() {
    let (srv, b) = dashboard_with_fires().await;
    // A wrong token is refused with the server's words (its `message_zh`).
    b.type_into("#token-input", "not-a-token").await;
    b.click("#signin-button").await;
    b.wait_js(
        "the sign-in error",
        &format!(
            "return document.getElementById('message').textContent.includes('{}')",
            zh("api.err.unauthorized", &[])
        ),
    )
    .await;
    sign_in(&b, ADMIN, "admin").await;

    // 5 counties + 89 townships from /api/v1/units, drawn as SVG paths.
    b.wait_js(
        "unit boundaries",
        "return document.getElementById('map').dataset.units === '94'",
    )
    .await;
    b.wait_js(
        "three hotspot markers",
        "return document.querySelectorAll('#map path.hotspot').length === 3 && document.getElementById('map').dataset.hotspots === '3'",
    )
    .await;
    let paths = b
        .js(
            "return document.querySelectorAll('#map svg path').length",
            vec![],
        )
        .await;
    assert!(paths.as_u64().unwrap() >= 94 + 3, "{paths}");
    // Coloured by confidence...
    for class in ["conf-h", "conf-n", "conf-l"] {
        let n = b
            .js(
                &format!("return document.querySelectorAll('#map path.hotspot.{class}').length"),
                vec![],
            )
            .await;
        assert_eq!(n, 1, "{class}");
    }
    // ...and faded by age: the 1 h old fire is more opaque than the 5 h, which beats the 20 h.
    let op = |c: &str| {
        format!("return Number(document.querySelector('#map path.hotspot.{c}').getAttribute('fill-opacity'))")
    };
    let h = b.js(&op("conf-h"), vec![]).await.as_f64().unwrap();
    let n = b.js(&op("conf-n"), vec![]).await.as_f64().unwrap();
    let l = b.js(&op("conf-l"), vec![]).await.as_f64().unwrap();
    assert!(h > n && n > l && l >= 0.2, "opacities {h} {n} {l}");
    // One event per fire, on the map and in the list.
    b.wait_js(
        "three events",
        "return document.querySelectorAll('#map path.event').length === 3 && document.querySelectorAll('#events li').length === 3",
    )
    .await;
    // The time filter: the last 6 h leave out the 20 h old fire.
    b.select("#window", "6").await;
    b.wait_js(
        "two hotspots in the last 6 h",
        "return document.querySelectorAll('#map path.hotspot').length === 2",
    )
    .await;
    // The unit filter: 内黄县 (410527) has none of them.
    b.select("#unit", "410527").await;
    b.wait_js(
        "no hotspots in 410527",
        "return document.getElementById('map').dataset.hotspots === '0'",
    )
    .await;
    b.select("#unit", "").await;
    b.select("#window", "24").await;
    b.wait_js(
        "three hotspots again",
        "return document.querySelectorAll('#map path.hotspot').length === 3",
    )
    .await;
    let shot = b.screenshot("dashboard-loaded").await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "{shot:?}");
    b.close().await;
    srv.stop().await;
}

#[tokio::test]
async fn a_posted_hotspot_appears_without_a_reload() {
    let (srv, b) = dashboard_with_fires().await;
    sign_in(&b, COUNTY_A, "county:410526").await;
    b.wait_js(
        "three hotspots",
        "return document.querySelectorAll('#map path.hotspot').length === 3",
    )
    .await;
    b.wait_js(
        "the live stream",
        "return document.body.dataset.live === 'open'",
    )
    .await;
    // A mark that a reload would wipe.
    b.js("window.__sameDocument = 'yes'; return 1", vec![])
        .await;

    let body = recent_csv(&[(35.530, 114.530, 0, "h")]);
    let (s, v) = srv.post("/api/v1/hotspots", ADMIN, "text/csv", body).await;
    assert_eq!(s, 201, "{v}");
    b.wait_js(
        "the new hotspot on the map",
        "return document.querySelectorAll('#map path.hotspot').length === 4",
    )
    .await;
    let same = b.js("return window.__sameDocument || null", vec![]).await;
    assert_eq!(same, "yes", "the page was reloaded");
    let updates = b
        .js(
            "return Number(document.getElementById('map').dataset.liveUpdates)",
            vec![],
        )
        .await;
    assert!(updates.as_u64().unwrap() >= 1);
    b.screenshot("dashboard-live-hotspot").await;
    b.close().await;
    srv.stop().await;
}

#[tokio::test]
async fn the_patrol_page_fits_a_phone_and_signs_in() {
    let srv =
        TestServer::start_placed(tempfile::tempdir().unwrap(), |_| {}, Arc::new(GridPlacer)).await;
    let b = Browser::start(PHONE.0, PHONE.1).await;
    b.client.goto(&srv.url("/patrol")).await.unwrap();
    let w = b.js("return window.innerWidth", vec![]).await;
    assert_eq!(w, PHONE.0);
    b.wait_js(
        "the sign-in prompt",
        &format!(
            "return document.getElementById('whoami').textContent === '{}'",
            zh("signin.none", &[])
        ),
    )
    .await;
    sign_in(&b, PATROL_A1, "patrol:410526101").await;
    b.wait_js(
        "the live stream",
        "return document.body.dataset.live === 'open'",
    )
    .await;
    // Nothing wider than the phone.
    let overflow = b
        .js(
            "return document.documentElement.scrollWidth - window.innerWidth",
            vec![],
        )
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "horizontal overflow {overflow}"
    );
    // The verdict form takes a photo from the camera.
    let photo = b
        .js(
            "return document.getElementById('task-card').content.querySelector(\"input[type=file][name=photo]\").outerHTML",
            vec![],
        )
        .await;
    let photo = photo.as_str().unwrap();
    assert!(photo.contains("accept=\"image/*\"") && photo.contains("capture=\"environment\""));
    b.screenshot("patrol-signed-in").await;
    b.close().await;
    srv.stop().await;
}

/// A small PNG "photo" from the field.
fn photo(dir: &std::path::Path) -> std::path::PathBuf {
    let img = image::RgbImage::from_fn(96, 64, |x, y| {
        image::Rgb([(x * 2) as u8, (y * 3) as u8, ((x + y) % 255) as u8])
    });
    let path = dir.join("field-photo.png");
    img.save(&path).unwrap();
    path
}

#[tokio::test]
async fn a_patrol_files_a_verdict_with_a_photo_from_a_phone() {
    let srv =
        TestServer::start_placed(tempfile::tempdir().unwrap(), |_| {}, Arc::new(GridPlacer)).await;
    // A fire in township 410526101 (GridPlacer: west of 116.5° E, north of 35.5° N).
    let (s, v) = srv
        .post(
            "/api/v1/hotspots",
            ADMIN,
            "text/csv",
            recent_csv(&[(35.700, 114.500, 0, "h")]),
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

    let (b, card) = patrol_page(&srv, task_id).await;
    b.wait_js(
        "the deadline clock",
        &format!("return document.querySelector(\"{card} .clock\").textContent"),
    )
    .await;
    b.click(&format!("{card} .ack")).await;
    b.wait_js(
        "acknowledged",
        &format!("var s = document.querySelector(\"{card} .state\"); return s && s.dataset.state === 'acknowledged' && s.textContent === '{}'", zh("state.acknowledged", &[])),
    )
    .await;

    // On site: headless Chromium gives no position, so the page asks for it to be typed.
    b.click(&format!("{card} .onsite")).await;
    b.wait_js(
        "the on-site position form",
        &format!("return !document.querySelector(\"{card} .onsite-form\").hidden"),
    )
    .await;
    b.type_into(&format!("{card} .onsite-lat"), "35.70005")
        .await;
    b.type_into(&format!("{card} .onsite-lon"), "114.50010")
        .await;
    b.click(&format!("{card} .onsite-send")).await;
    b.wait_js(
        "on site",
        &format!("var s = document.querySelector(\"{card} .state\"); return s && s.dataset.state === 'on_site' && s.textContent === '{}'", zh("state.on_site", &[])),
    )
    .await;

    let form = open_verdict_form(&b, &card).await;
    // The time field reads as a clock in Beijing, whatever the browser's own zone (UTC here).
    let field = b
        .js(
            &format!("return document.querySelector(\"{form} input[name=time]\").value"),
            vec![],
        )
        .await;
    let beijing = |m: i64| {
        (Utc::now() + Age::hours(8) - Age::minutes(m))
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let field = field.as_str().unwrap();
    assert!(
        field.starts_with(&beijing(0)) || field.starts_with(&beijing(1)),
        "{field} is not Beijing time"
    );
    b.type_into(&format!("{form} input[name=lat]"), "35.70010")
        .await;
    b.type_into(&format!("{form} input[name=lon]"), "114.50020")
        .await;
    b.select(&format!("{form} select[name=verdict]"), "burned_scar")
        .await;
    // Without a photo the API refuses, and the page shows its words and marks the field.
    b.click(&format!("{form} .send-verdict")).await;
    b.wait_js(
        "the photo error",
        &format!("return document.querySelector(\"{form} input[name=photo]\").getAttribute('aria-invalid') === 'true' && document.querySelector(\"{card} .result.error\").textContent.includes('{}')", zh("field.photo", &[])),
    )
    .await;
    b.screenshot("patrol-verdict-error").await;
    let dir = tempfile::tempdir().unwrap();
    let png = photo(dir.path());
    b.client
        .find(Locator::Css(&format!("{form} input[name=photo]")))
        .await
        .unwrap()
        .send_keys(&png.to_string_lossy())
        .await
        .unwrap();
    b.screenshot("patrol-verdict-form").await;
    b.click(&format!("{form} .send-verdict")).await;
    b.wait_js(
        "the verdict filed",
        &format!("return document.body.dataset.lastVerdict === '{task_id}'"),
    )
    .await;
    b.wait_js(
        "the page says so",
        &format!(
            "return document.getElementById('message').textContent.includes('{}')",
            zh(
                "done.said",
                &[
                    ("id", &task_id.to_string()),
                    ("what", &zh("done.verdict", &[]))
                ]
            )
        ),
    )
    .await;
    b.screenshot("patrol-verdict-filed").await;

    let t = eventually(
        std::time::Duration::from_secs(10),
        "the stored verdict",
        || async {
            let (s, v) = srv.get("/api/v1/tasks?status=verified", PATROL_A1).await;
            assert_eq!(s, 200, "{v}");
            v["features"]
                .as_array()
                .and_then(|f| f.iter().find(|t| t["properties"]["id"] == task_id).cloned())
        },
    )
    .await;
    assert!(!t["properties"]["verdict"].is_null(), "{t}");
    b.close().await;
    srv.stop().await;
}

/// A patrol member typing a verdict loses nothing when the task list changes under the form:
/// a new task arriving keeps the card as it is; a change to the task itself (acknowledged from
/// elsewhere) redraws the card and carries the typed values over.
#[tokio::test]
async fn an_open_verdict_form_survives_task_updates() {
    let srv =
        TestServer::start_placed(tempfile::tempdir().unwrap(), |_| {}, Arc::new(GridPlacer)).await;
    let post = |lat: f64, lon: f64| {
        srv.post(
            "/api/v1/hotspots",
            ADMIN,
            "text/csv",
            recent_csv(&[(lat, lon, 0, "h")]),
        )
    };
    let open_tasks = || async {
        let tasks = srv.features("/api/v1/tasks?status=open", PATROL_A1).await;
        let ids: Vec<i64> = tasks
            .iter()
            .filter_map(|t| t["properties"]["id"].as_i64())
            .collect();
        Some(ids)
    };
    let (s, v) = post(35.700, 114.500).await;
    assert_eq!(s, 201, "{v}");
    let first = eventually(std::time::Duration::from_secs(20), "a task", || async {
        open_tasks().await.and_then(|ids| ids.first().copied())
    })
    .await;

    let (b, card) = patrol_page(&srv, first).await;
    let form = open_verdict_form(&b, &card).await;
    b.type_into(&format!("{form} input[name=lat]"), "35.70010")
        .await;
    b.type_into(
        &format!("{form} input[name=note]"),
        "smoke from the east field",
    )
    .await;
    let kept = format!(
        "var f = document.querySelector(\"{form}\"); return !!f && !f.hidden && f.elements.note.value === 'smoke from the east field' && f.elements.lat.value === '35.70010'"
    );

    // Another fire in the same township, 50 km away: a second task appears on the page.
    let (s, v) = post(35.950, 114.950).await;
    assert_eq!(s, 201, "{v}");
    let second = eventually(
        std::time::Duration::from_secs(20),
        "a second task",
        || async {
            open_tasks()
                .await
                .and_then(|ids| ids.into_iter().find(|&id| id != first))
        },
    )
    .await;
    b.wait_js(
        "the second card",
        &format!("return !!document.querySelector(\"#tasks .card[data-task-id='{second}']\")"),
    )
    .await;
    assert_eq!(b.js(&kept, vec![]).await, serde_json::json!(true));

    // The task itself changes (acknowledged from another phone): the card is redrawn with its
    // new state and the typed values.
    let (s, v) = srv
        .post(
            &format!("/api/v1/tasks/{first}/ack"),
            PATROL_A1,
            "application/json",
            "{}".to_string(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    b.wait_js(
        "the redrawn card",
        &format!("var s = document.querySelector(\"{card} .state\"); return !!s && s.dataset.state === 'acknowledged'"),
    )
    .await;
    assert_eq!(b.js(&kept, vec![]).await, serde_json::json!(true));
    b.screenshot("patrol-form-kept").await;

    // The language switch redraws the cards in English and keeps what was typed; and back.
    b.click("[data-set-lang='en']").await;
    b.wait_js(
        "the card in English",
        &format!("var c = document.querySelector(\"{card}\"); return !!c && c.querySelector('.open-verdict').textContent === 'Verdict' && c.querySelector('.state').textContent === 'acknowledged' && c.querySelector('.where').textContent.includes('Beijing time')"),
    )
    .await;
    assert_eq!(b.js(&kept, vec![]).await, serde_json::json!(true));
    b.screenshot("patrol-form-kept-en").await;
    b.click("[data-set-lang='zh-CN']").await;
    b.wait_js(
        "the card in Chinese again",
        &format!("var c = document.querySelector(\"{card}\"); return !!c && c.querySelector('.open-verdict').textContent === '{}' && c.querySelector('.where').textContent.includes('北京时间')", zh("action.verdict", &[])),
    )
    .await;
    assert_eq!(b.js(&kept, vec![]).await, serde_json::json!(true));
    b.close().await;
    srv.stop().await;
}

#[tokio::test]
async fn the_dashboard_shows_tasks_with_their_clocks_as_they_change() {
    let srv =
        TestServer::start_placed(tempfile::tempdir().unwrap(), |_| {}, Arc::new(GridPlacer)).await;
    let b = Browser::start(1280, 800).await;
    b.client.goto(&srv.url("/")).await.unwrap();
    sign_in(&b, ADMIN, "admin").await;
    b.wait_js(
        "the live stream",
        "return document.body.dataset.live === 'open'",
    )
    .await;
    b.js("window.__sameDocument = 'yes'; return 1", vec![])
        .await;
    // A fire makes an event, the event a task: the page hears the event and shows the task.
    let (s, _) = srv
        .post(
            "/api/v1/hotspots",
            ADMIN,
            "text/csv",
            recent_csv(&[(35.700, 114.500, 0, "h")]),
        )
        .await;
    assert_eq!(s, 201);
    b.wait_js(
        "a task with its clock",
        &format!(
            "var c = document.querySelector('#tasks .task-item .clock'); return c && (c.textContent.startsWith('{}') || c.textContent.startsWith('{}'))",
            zh("clock.left", &[("span", "")]),
            zh("clock.overdue", &[("span", "")])
        ),
    )
    .await;
    b.wait_js(
        "the task on the map",
        "return document.getElementById('map').dataset.tasks === '1' && document.querySelectorAll('.task-marker').length === 1",
    )
    .await;
    // The patrol acknowledges from elsewhere: the dashboard hears the task change.
    let id = srv.features("/api/v1/tasks?status=open", ADMIN).await[0]["properties"]["id"]
        .as_i64()
        .unwrap();
    let (s, v) = srv
        .post(
            &format!("/api/v1/tasks/{id}/ack"),
            PATROL_A1,
            "application/json",
            "{}",
        )
        .await;
    assert_eq!(s, 200, "{v}");
    b.wait_js(
        "the acknowledged state",
        &format!(
            "var t = document.querySelector('#tasks .task-item'); return t && t.dataset.state === 'acknowledged' && t.textContent.includes('{}')",
            zh("state.acknowledged", &[])
        ),
    )
    .await;
    assert_eq!(
        b.js("return window.__sameDocument || null", vec![]).await,
        "yes"
    );
    b.screenshot("dashboard-tasks").await;
    b.close().await;
    srv.stop().await;
}

#[tokio::test]
async fn the_dashboard_shows_the_daily_ranking() {
    let (srv, b) = dashboard_with_fires().await;
    sign_in(&b, ADMIN, "admin").await;
    // The reporting day of the 1 h old fire, in China Standard Time (the ranking's default).
    let day = (Utc::now() - Age::hours(1) + Age::hours(8))
        .format("%Y-%m-%d")
        .to_string();
    b.js(
        "var d = document.getElementById('rank-date'); d.value = arguments[0]; d.dispatchEvent(new Event('change')); return 1",
        vec![serde_json::json!(day)],
    )
    .await;
    // One row per sample county, 滑县 among them.
    b.wait_js(
        "the county ranking",
        "var rows = document.querySelectorAll('#ranking tbody tr'); return rows.length === 5 && Array.from(rows).some(r => r.textContent.includes('410526'))",
    )
    .await;
    let note = b
        .js(
            "var n = document.getElementById('ranking-note'); return [n.dataset.date, n.textContent]",
            vec![],
        )
        .await;
    assert_eq!(note[0], day.as_str(), "{note}");
    // The day in Chinese words, in Beijing time.
    let date = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").unwrap();
    let text = note[1].as_str().unwrap();
    assert!(
        text.contains(&strawfire::i18n::Lang::ZhCn.date(date)) && text.contains("北京时间"),
        "{note}"
    );
    b.select("#rank-level", "township").await;
    b.wait_js(
        "the township ranking",
        "return document.querySelectorAll('#ranking tbody tr').length > 5",
    )
    .await;
    b.screenshot("dashboard-ranking").await;
    b.close().await;
    srv.stop().await;
}

/// The command centre reads Chinese first: the dashboard opens in Chinese with times in 北京时间
/// (the browser's own zone is not Beijing's: the page converts with Intl.DateTimeFormat), the
/// switch turns every word to English and back, and the choice survives a reload.
#[tokio::test]
async fn the_dashboard_speaks_chinese_and_switches_to_english_and_back() {
    use strawfire::i18n::{Lang, Zone};
    let (srv, b) = dashboard_with_fires().await;
    // The freshest fire's time, as the server formats it in Beijing time.
    let fc = srv.features("/api/v1/hotspots", ADMIN).await;
    let newest = fc
        .iter()
        .filter_map(|f| f["properties"]["acq_datetime"].as_str())
        .filter_map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .max()
        .unwrap()
        .with_timezone(&Utc);
    let same_year = newest
        .with_timezone(&Zone::default().offset())
        .format("%Y")
        .to_string()
        == (Utc::now() + Age::hours(8)).format("%Y").to_string();
    let want_time = |lang: Lang| {
        if same_year {
            lang.time_short(Zone::default(), newest)
        } else {
            lang.time(Zone::default(), newest)
        }
    };
    sign_in(&b, ADMIN, "admin").await;
    b.wait_js(
        "three hotspots",
        "return document.querySelectorAll('#map path.hotspot').length === 3",
    )
    .await;
    let words = "return [document.documentElement.lang, document.title, document.getElementById('refresh').textContent, document.querySelector('#ranking thead th:nth-child(3)').textContent, document.getElementById('whoami').textContent, document.querySelector('#window option[value=\"24\"]').textContent]";
    let zh_words = b.js(words, vec![]).await;
    assert_eq!(
        zh_words,
        serde_json::json!([
            "zh-CN",
            zh("dash.title", &[]),
            "刷新",
            "火点数",
            "已登录：管理员",
            "近24小时"
        ])
    );
    // A time in Beijing time, in Chinese: the popup of the freshest fire.
    let popup = "document.querySelector('#map path.hotspot.conf-h').dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: 1, clientY: 1})); var p = document.querySelector('.leaflet-popup-content'); return p ? p.textContent : null";
    let text = b.wait_js("the hotspot's popup", popup).await;
    let zh_time = want_time(Lang::ZhCn);
    assert!(zh_time.ends_with(" 北京时间"), "{zh_time}");
    assert!(
        text.as_str().unwrap().contains(&zh_time),
        "{text} lacks {zh_time}"
    );
    b.screenshot("dashboard-zh").await;

    // To English.
    b.click("[data-set-lang='en']").await;
    b.wait_js(
        "the page in English",
        "return document.documentElement.lang === 'en' && document.getElementById('refresh').textContent === 'Refresh'",
    )
    .await;
    let en_words = b.js(words, vec![]).await;
    assert_eq!(
        en_words,
        serde_json::json!([
            "en",
            "Straw-burning ban command centre · strawfire",
            "Refresh",
            "fires",
            "signed in as administrator",
            "last 24 h"
        ])
    );
    // Popups are made when they open: open it again.
    let popup_en = popup.replace(
        "return p ? p.textContent : null",
        "return p && p.textContent.includes('Beijing time') ? p.textContent : null",
    );
    let text = b.wait_js("the popup in English", &popup_en).await;
    let en_time = want_time(Lang::En);
    assert!(
        text.as_str().unwrap().contains(&en_time),
        "{text} lacks {en_time}"
    );
    // The task list and ranking speak English too (no Chinese left outside names and the switch).
    b.wait_js(
        "the ranking status in English",
        "var s = document.querySelector('#ranking tbody tr td:last-child'); return s && !/[\\u4e00-\\u9fff]/.test(s.textContent)",
    )
    .await;
    b.screenshot("dashboard-en").await;

    // The choice is remembered by this browser.
    b.client.refresh().await.unwrap();
    b.wait_js(
        "English after a reload",
        "return document.documentElement.lang === 'en' && document.getElementById('whoami').textContent === 'signed in as administrator'",
    )
    .await;

    // And back to Chinese.
    b.click("[data-set-lang='zh-CN']").await;
    b.wait_js(
        "the page in Chinese again",
        "return document.documentElement.lang === 'zh-CN' && document.getElementById('refresh').textContent === '刷新' && document.querySelector('[data-set-lang=\"zh-CN\"]').getAttribute('aria-pressed') === 'true'",
    )
    .await;
    b.screenshot("dashboard-zh-again").await;
    b.close().await;
    srv.stop().await;
}
