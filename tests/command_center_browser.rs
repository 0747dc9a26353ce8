//! The command center's gaps after #17, in real Chromium (chromedriver) against a real server on
//! port 0: every page tells a refusal in the server's own Chinese words (`message_zh`, the
//! English `error` on an English page), on the dashboard, the action panel, the patrol page and
//! its offline queue; the map's event popup tells an operator when, by what, how sure and
//! strong, where by name, and the task's state and deadline, in Beijing time. Screenshots:
//! `<target>/browser-artifacts/command-center-*.png`.

mod common;

use common::browser::Browser;
use common::dispatch::photo_png;
use common::layers::{sample_locator, JIAOHU};
use common::server::*;
use geo::InteriorPoint;
use strawfire::i18n::{Lang, Zone};

/// A point inside a sample parcel of 焦虎镇 (lat, lon), and the parcel's code.
fn jiaohu_field(locator: &strawfire::locate::Locator) -> ((f64, f64), String) {
    let parcels = locator.parcel_layer().unwrap();
    let i = (0..parcels.units.len())
        .find(|&i| parcels.units[i].parent.as_deref() == Some(JIAOHU))
        .unwrap();
    let p = parcels.index.shape(i).interior_point().unwrap();
    ((p.y(), p.x()), parcels.units[i].code.clone())
}

/// The name of a unit of the sample layers.
fn unit_name(locator: &strawfire::locate::Locator, code: &str) -> String {
    strawfire::notify::deliver::unit_name(locator.admin_layers(), code).unwrap()
}

/// Signs in through the page's own box and waits until the page knows the role.
async fn sign_in(b: &Browser, token: &str, role: &str) {
    b.type_into("#token-input", token).await;
    b.click("#signin-button").await;
    b.wait_js(
        &format!("signed in as {role}"),
        &format!("return document.body.dataset.role === '{role}'"),
    )
    .await;
}

/// The first open task of the patrol of 410526101 after a hotspot there.
async fn patrol_task(srv: &TestServer) -> i64 {
    let (s, v) = srv
        .post(
            "/api/v1/hotspots",
            ADMIN,
            "text/csv",
            recent_firms_csv(&[(35.700, 114.500, 0, "h")], 9.5),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    eventually(
        std::time::Duration::from_secs(20),
        "a task for the patrol",
        || async {
            let tasks = srv.features("/api/v1/tasks?status=open", PATROL_A1).await;
            tasks.first().and_then(|t| t["properties"]["id"].as_i64())
        },
    )
    .await
}

/// `(message_zh, error)` of a refused request, asserting it is refused with `status`.
fn refusal(status: u16, v: serde_json::Value) -> (String, String) {
    let zh = v["message_zh"].as_str().unwrap_or_default().to_string();
    let en = v["error"].as_str().unwrap_or_default().to_string();
    assert!(!zh.is_empty() && !en.is_empty(), "{status}: {v}");
    assert!(
        zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{zh}"
    );
    (zh, en)
}

#[tokio::test]
async fn every_page_tells_a_refusal_in_the_servers_chinese_words() {
    let srv = TestServer::start().await;
    let task = patrol_task(&srv).await;

    // What the server says to a verdict dated a day ahead (beyond the clock skew it allows).
    let ahead = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let (s, v) = srv
        .post(
            &format!("/api/v1/tasks/{task}/ack"),
            PATROL_A1,
            "application/json",
            serde_json::json!({ "acted_at": ahead }).to_string(),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["field"], "acted_at");
    let (ahead_zh, _) = refusal(s, v);

    // The patrol files a verdict dated tomorrow: the queue sends it, the server refuses it, and
    // the page says so in the server's Chinese (in the message line and in the form).
    let b = Browser::start(390, 844).await;
    b.client.goto(&srv.url("/patrol")).await.unwrap();
    sign_in(&b, PATROL_A1, "patrol:410526101").await;
    let card = format!("#tasks .card[data-task-id='{task}']");
    let form = format!("{card} .verdict-form");
    b.wait_js(
        "the task card",
        &format!("return !!document.querySelector(\"{card}\")"),
    )
    .await;
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
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("field.png");
    std::fs::write(&photo, photo_png(7)).unwrap();
    b.client
        .find(fantoccini::Locator::Css(&format!(
            "{form} input[name=photo]"
        )))
        .await
        .unwrap()
        .send_keys(&photo.to_string_lossy())
        .await
        .unwrap();
    b.wait_js(
        "the photo ready",
        &format!("return document.querySelector(\"{form}\").dataset.photo === 'kept'"),
    )
    .await;
    b.js(
        &format!("document.querySelector(\"{form}\").elements.time.value = SF.zoneInput(Date.now() + 86400000)"),
        vec![],
    )
    .await;
    b.click(&format!("{form} .send-verdict")).await;
    let said = b
        .wait_js(
            "the refusal in the message line",
            &format!(
                "var m = document.getElementById('message').textContent; return m.includes({}) ? m : ''",
                serde_json::json!(ahead_zh)
            ),
        )
        .await;
    assert!(
        !said.as_str().unwrap().contains("acted_at"),
        "no English field name: {said}"
    );
    b.wait_js(
        "the refusal in the form",
        &format!(
            "var r = document.querySelector(\"{card} .result\"); return !!r && r.textContent.includes({})",
            serde_json::json!(ahead_zh)
        ),
    )
    .await;
    b.screenshot("command-center-patrol-refusal").await;
    b.close().await;

    // The dashboard: a ranking asked for without a date.
    let (s, v) = srv
        .get("/api/v1/rankings/daily?date=&level=county", ADMIN)
        .await;
    assert_eq!(s, 400, "{v}");
    let (date_zh, date_en) = refusal(s, v);
    let b = Browser::start(1600, 1000).await;
    b.client.goto(&srv.url("/")).await.unwrap();
    sign_in(&b, ADMIN, "admin").await;
    let note_is = |text: &str| {
        format!(
            "return document.getElementById('ranking-note').textContent === {}",
            serde_json::json!(text)
        )
    };
    b.js(
        "var d = document.getElementById('rank-date'); d.value = ''; d.dispatchEvent(new Event('change'))",
        vec![],
    )
    .await;
    b.wait_js("the ranking's refusal in Chinese", &note_is(&date_zh))
        .await;
    b.screenshot("command-center-dashboard-refusal").await;
    // On an English page the server's English words.
    b.click("[data-set-lang='en']").await;
    b.js(
        "var d = document.getElementById('rank-date'); d.value = ''; d.dispatchEvent(new Event('change'))",
        vec![],
    )
    .await;
    b.wait_js("the ranking's refusal in English", &note_is(&date_en))
        .await;
    b.close().await;
    srv.stop().await;
}

#[tokio::test]
async fn the_event_popup_says_when_by_what_how_strong_where_and_the_tasks_deadline() {
    let locator = sample_locator();
    let (field, _) = jiaohu_field(&locator);
    let srv = TestServer::start_placed(tempfile::tempdir().unwrap(), |_| {}, locator.clone()).await;
    let (s, v) = srv
        .post(
            "/api/v1/hotspots",
            ADMIN,
            "text/csv",
            recent_firms_csv(&[(field.0, field.1, 0, "h")], 9.5),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let events = srv.features("/api/v1/events", ADMIN).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let ev = events[0]["properties"].clone();
    let parcel = ev["parcel"].as_str().expect("on a parcel").to_string();
    let task_id = ev["task_id"].as_i64().expect("a task");
    let time = |k: &serde_json::Value| {
        chrono::DateTime::parse_from_rfc3339(k.as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let bj = Zone::parse("Asia/Shanghai").unwrap();

    let b = Browser::start(1600, 1000).await;
    b.client.goto(&srv.url("/")).await.unwrap();
    sign_in(&b, COUNTY_A, "county:410526").await;
    b.wait_js(
        "the event drawn",
        "return document.getElementById('map').dataset.events === '1'",
    )
    .await;
    b.js(
        "SF.dashboardMap.eachLayer(function (l) { if (l.options && l.options.className === 'event') l.openPopup(); })",
        vec![],
    )
    .await;
    b.wait_js(
        "the popup with its task",
        "var p = document.querySelector('.event-popup'); return !!p && p.dataset.loaded === '1'",
    )
    .await;
    // The task as it is now (without webhooks it was moved to `notified` at once).
    let (_, task) = srv.get(&format!("/api/v1/tasks/{task_id}"), ADMIN).await;
    let task = &task["properties"];
    let line =
        |cls: &str| format!("return document.querySelector('.event-popup .{cls}').textContent");
    let text = |v: serde_json::Value| v.as_str().unwrap().to_string();
    // When, in Beijing time (the first sighting without the zone, the last with it).
    let seen = text(b.js(&line("ep-seen"), vec![]).await);
    assert!(
        seen.contains(&Lang::ZhCn.time_bare(bj, time(&ev["first_seen"]), false))
            && seen.contains(&Lang::ZhCn.time_short(bj, time(&ev["last_seen"]))),
        "{seen}"
    );
    assert!(seen.contains("北京时间"), "{seen}");
    // By what: the instrument and the satellite by name.
    let sources = text(b.js(&line("ep-sources"), vec![]).await);
    assert_eq!(sources, "来源：VIIRS（NOAA-20） · 探测 1 次");
    // How sure and how strong.
    let strength = text(b.js(&line("ep-strength"), vec![]).await);
    assert!(strength.starts_with("置信度：高 "), "{strength}");
    assert!(strength.ends_with("火辐射功率：9.5 MW"), "{strength}");
    // Where, by name, with the parcel.
    let place = text(b.js(&line("ep-place"), vec![]).await);
    assert_eq!(
        place,
        format!(
            "位置：{} {} · 地块 {parcel}",
            unit_name(&locator, "410526"),
            unit_name(&locator, JIAOHU)
        )
    );
    // The task: its state, its township, and the next deadline with its time and clock.
    let line_task = text(b.js(&line("ep-task"), vec![]).await);
    assert!(
        line_task.starts_with(&format!("任务 #{task_id} · "))
            && line_task.contains(&unit_name(&locator, JIAOHU)),
        "{line_task}"
    );
    let state = text(
        b.js(
            &format!(
                "return SF.t('state.' + {})",
                serde_json::json!(task["state"])
            ),
            vec![],
        )
        .await,
    );
    assert!(line_task.contains(&state), "{line_task} ({state})");
    let due = text(b.js(&line("ep-due"), vec![]).await);
    assert_eq!(task["next_deadline"], "acknowledge");
    assert!(
        due.starts_with(&format!(
            "接收时限：{}（剩余 ",
            Lang::ZhCn.time_short(bj, time(&task["next_due"]))
        )),
        "{due}"
    );
    b.screenshot("command-center-event-popup").await;
    b.close().await;
    srv.stop().await;
}

/// A township of 滑县 other than 焦虎镇.
fn other_township(locator: &strawfire::locate::Locator) -> String {
    let townships = locator
        .admin_layers()
        .iter()
        .find(|l| l.level == strawfire::locate::Level::Township)
        .unwrap();
    townships
        .units
        .iter()
        .find(|u| u.parent.as_deref() == Some("410526") && u.code != JIAOHU)
        .unwrap()
        .code
        .clone()
}

#[tokio::test]
async fn the_action_panel_follows_the_task_and_refuses_an_old_picture() {
    let locator = sample_locator();
    let (field, _) = jiaohu_field(&locator);
    let other = other_township(&locator);
    let srv = TestServer::start_placed(tempfile::tempdir().unwrap(), |_| {}, locator.clone()).await;
    let (s, v) = srv
        .post(
            "/api/v1/hotspots",
            ADMIN,
            "text/csv",
            recent_firms_csv(&[(field.0, field.1, 0, "h")], 9.5),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let task = srv.features("/api/v1/tasks", ADMIN).await[0]["properties"]["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/tasks/{task}");
    // Wait for the delivery worker's `notified` (no webhooks), so only the moves below change it.
    eventually(std::time::Duration::from_secs(20), "notified", || async {
        let (_, t) = srv.get(&path, ADMIN).await;
        (t["properties"]["state"] == "notified").then_some(())
    })
    .await;

    let b = Browser::start(1600, 1000).await;
    b.client.goto(&srv.url("/")).await.unwrap();
    sign_in(&b, COUNTY_A, "county:410526").await;
    let item = format!("#tasks .task-item[data-task-id='{task}']");
    b.wait_js(
        "the task listed",
        &format!("return !!document.querySelector(\"{item}\")"),
    )
    .await;
    b.click(&item).await;
    b.wait_js(
        "the panel with the task",
        &format!("var p = document.getElementById('ops-panel'); return p.dataset.id === '{task}' && p.dataset.state === 'notified' && !!document.getElementById('ops-cancel')"),
    )
    .await;
    b.type_into("#ops-reason", "群众来电称已灭火").await;

    // Another operator gives the task to another township: the panel follows, says so, and
    // keeps what this operator typed.
    let (s, v) = srv
        .post(
            &format!("{path}/reassign"),
            ADMIN,
            "application/json",
            serde_json::json!({"unit": other, "reason": "地块属邻乡"}).to_string(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let note = b
        .wait_js(
            "the panel drawn again",
            &format!("var p = document.getElementById('ops-panel'); var n = p.querySelector('.ops-changed'); return p.dataset.unit === '{other}' && n ? n.textContent : ''"),
        )
        .await;
    assert!(
        note.as_str()
            .unwrap()
            .contains(&unit_name(&locator, &other)),
        "{note}"
    );
    let typed = b
        .js("return document.getElementById('ops-reason').value", vec![])
        .await;
    assert_eq!(typed, "群众来电称已灭火");
    let unit = b
        .js("return document.getElementById('ops-unit').value", vec![])
        .await;
    assert_eq!(
        unit,
        other.as_str(),
        "the township choice shows where it is now"
    );
    b.screenshot("command-center-panel-followed").await;
    // The new township is told (no webhooks: `notified` at once), and the panel with it.
    eventually(
        std::time::Duration::from_secs(20),
        "notified again",
        || async {
            let (_, t) = srv.get(&path, ADMIN).await;
            (t["properties"]["state"] == "notified").then_some(())
        },
    )
    .await;
    b.wait_js(
        "the panel says notified",
        "return document.getElementById('ops-panel').dataset.state === 'notified'",
    )
    .await;

    // A live update that never arrives (a dropped stream): the panel still shows the task as
    // reassigned when another operator acknowledges it for the township. The cancel made on
    // that picture is refused in the server's words, nothing is cancelled, and the panel is
    // drawn as the task is now.
    b.js(
        "window.addEventListener('sf:live', function (e) { e.stopImmediatePropagation(); }, true)",
        vec![],
    )
    .await;
    let (s, v) = srv
        .post(
            &format!("{path}/ack"),
            ADMIN,
            "application/json",
            "{}".to_string(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = srv
        .post(
            &format!("{path}/cancel"),
            COUNTY_A,
            "application/json",
            serde_json::json!({"reason": "x", "expect": "0000000000000000"}).to_string(),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (409, Some("stale")), "{v}");
    let stale_zh = v["message_zh"].as_str().unwrap().to_string();
    assert_eq!(
        b.js(
            "return document.getElementById('ops-panel').dataset.state",
            vec![]
        )
        .await,
        "notified",
        "the panel has not heard of the acknowledgement"
    );
    b.click("#ops-cancel").await;
    b.wait_js(
        "the refusal",
        &format!(
            "return document.getElementById('message').textContent === {}",
            serde_json::json!(stale_zh)
        ),
    )
    .await;
    b.wait_js(
        "the panel as the task is now",
        "var p = document.getElementById('ops-panel'); return p.dataset.state === 'acknowledged' && !!p.querySelector('.ops-changed')",
    )
    .await;
    let (_, t) = srv.get(&path, ADMIN).await;
    assert_eq!(t["properties"]["state"], "acknowledged", "not cancelled");
    b.screenshot("command-center-panel-refused").await;
    b.close().await;
    srv.stop().await;
}
