//! Issue 17 in a real browser (headless Chromium through chromedriver, a real server on port 0
//! with the sample layers of 滑县): the events list says in Chinese why an event has no task and
//! filters by it; the county dispatches a task-less event by hand and reassigns the task to
//! another township; the review view shows a flagged verdict with its photo and its flag, and
//! sends it back. Screenshots: `<target>/browser-artifacts/dashboard-ops-*.png`.

mod common;

use common::browser::Browser;
use common::dispatch::{photo_png, report};
use common::layers::{sample_locator, JIAOHU};
use common::server::*;
use geo::InteriorPoint;

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

/// The badge text of an event's list item.
fn badge(id: i64) -> String {
    format!("var e = document.querySelector(\"#events li[data-event-id='{id}'] .badge\"); return e ? e.textContent : ''")
}

#[tokio::test]
async fn the_command_center_sees_why_dispatches_reassigns_and_reviews_with_the_photo() {
    let locator = sample_locator();
    // On a parcel of 焦虎镇 (a task), on another parcel of it seen 8 h ago (too old), and in a
    // township of 滑县 without parcels (off farmland).
    let parcels = locator.parcel_layer().unwrap();
    let jiaohu: Vec<usize> = (0..parcels.units.len())
        .filter(|&i| parcels.units[i].parent.as_deref() == Some(JIAOHU))
        .collect();
    let point = |i: usize| {
        let p = parcels.index.shape(i).interior_point().unwrap();
        (p.y(), p.x())
    };
    let (on, old) = (point(jiaohu[0]), point(*jiaohu.last().unwrap()));
    let townships = locator
        .admin_layers()
        .iter()
        .find(|l| l.level == strawfire::locate::Level::Township)
        .unwrap();
    let with_parcels: std::collections::BTreeSet<&str> = parcels
        .units
        .iter()
        .filter_map(|u| u.parent.as_deref())
        .collect();
    let bare = (0..townships.units.len())
        .find(|&i| {
            let u = &townships.units[i];
            u.parent.as_deref() == Some("410526") && !with_parcels.contains(u.code.as_str())
        })
        .expect("a township of 滑县 without sample parcels");
    let other_township = townships.units[bare].code.clone();
    let off = {
        let p = townships.index.shape(bare).interior_point().unwrap();
        (p.y(), p.x())
    };

    let srv = TestServer::start_placed(tempfile::tempdir().unwrap(), |_| {}, locator.clone()).await;
    let csv = recent_firms_csv(
        &[
            (on.0, on.1, 0, "h"),
            (old.0, old.1, 8, "h"),
            (off.0, off.1, 1, "h"),
        ],
        9.5,
    );
    let (s, v) = srv.post("/api/v1/hotspots", ADMIN, "text/csv", csv).await;
    assert_eq!(s, 201, "{v}");
    let events = srv.features("/api/v1/events", ADMIN).await;
    let near = |(lat, lon): (f64, f64)| {
        events
            .iter()
            .find(|f| {
                let c = &f["geometry"]["coordinates"];
                (c[0].as_f64().unwrap() - lon).abs() < 0.01
                    && (c[1].as_f64().unwrap() - lat).abs() < 0.01
            })
            .unwrap_or_else(|| panic!("no event near {lat},{lon}: {events:?}"))["properties"]
            .clone()
    };
    let (tasked, too_old, off_farm) = (near(on), near(old), near(off));
    assert!(tasked["task_id"].is_i64(), "{tasked}");
    assert_eq!(too_old["task_reason"], "too_old");
    assert_eq!(off_farm["task_reason"], "not_on_farmland");
    let id = |p: &serde_json::Value| p["id"].as_i64().unwrap();

    let b = Browser::start(1600, 1000).await;
    b.client.goto(&srv.url("/")).await.unwrap();
    sign_in(&b, COUNTY_A, "county:410526").await;

    // Every event says what became of it, in Chinese.
    b.wait_js(
        "three events in the list",
        "return document.querySelectorAll('#events li').length === 3",
    )
    .await;
    let text = b.wait_js("the too-old badge", &badge(id(&too_old))).await;
    assert_eq!(
        text,
        zh(
            "event.no_task",
            &[("reason", &zh("task_reason.too_old", &[]))]
        )
    );
    let text = b
        .wait_js("the off-farmland badge", &badge(id(&off_farm)))
        .await;
    assert_eq!(
        text,
        zh(
            "event.no_task",
            &[("reason", &zh("task_reason.not_on_farmland", &[]))]
        )
    );
    let text = b.wait_js("the task badge", &badge(id(&tasked))).await;
    assert!(
        text.as_str().unwrap().starts_with(&zh(
            "ops.task_badge",
            &[("id", &tasked["task_id"].to_string()), ("state", "")]
        )),
        "{text}"
    );
    // Filtered to the task-less ones.
    b.select("#event-filter", "none").await;
    b.wait_js(
        "two task-less events",
        "return document.querySelectorAll('#events li').length === 2 && document.querySelectorAll('#events li.has-task').length === 0",
    )
    .await;
    b.screenshot("dashboard-ops-taskless-events").await;

    // The county dispatches the old fire by hand, with a reason.
    b.click(&format!("#events li[data-event-id='{}']", id(&too_old)))
        .await;
    b.wait_js(
        "the dispatch form",
        "return !!document.getElementById('ops-create')",
    )
    .await;
    // Without a reason the page asks for one and sends nothing.
    b.click("#ops-create").await;
    b.wait_js(
        "the request for a reason",
        &format!(
            "return document.getElementById('message').textContent === '{}'",
            zh("ops.need_reason", &[])
        ),
    )
    .await;
    b.type_into("#ops-reason", "群众电话举报，现场仍有余火")
        .await;
    b.click("#ops-create").await;
    let made = b
        .wait_js(
            "the task made by hand",
            "var p = document.getElementById('ops-panel'); return p.dataset.kind === 'task' && document.getElementById('ops-reassign') ? p.dataset.id : ''",
        )
        .await;
    let made: i64 = made.as_str().unwrap().parse().unwrap();
    let (_, e) = srv
        .get(&format!("/api/v1/events/{}", id(&too_old)), ADMIN)
        .await;
    assert_eq!(e["properties"]["task_id"], made, "{e}");
    assert!(b
        .js(
            "return document.getElementById('message').textContent",
            vec![]
        )
        .await
        .as_str()
        .unwrap()
        .contains(&format!("#{made}")));

    // ... and gives it to another township of the county.
    b.wait_js(
        "the township choice",
        &format!("return !!document.querySelector(\"#ops-unit option[value='{other_township}']\")"),
    )
    .await;
    b.select("#ops-unit", &other_township).await;
    b.type_into("#ops-reason", "地块属邻乡管辖").await;
    b.click("#ops-reassign").await;
    b.wait_js(
        "the reassignment",
        &format!(
            "return document.getElementById('message').textContent.startsWith('{}')",
            zh("ops.reassigned", &[("id", &made.to_string()), ("unit", "")])
        ),
    )
    .await;
    let (_, task) = srv.get(&format!("/api/v1/tasks/{made}"), ADMIN).await;
    assert_eq!(task["properties"]["unit"], other_township.as_str());
    let audit = &task["properties"]["audit"];
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "reassign" && a["detail"]["reason"] == "地块属邻乡管辖"),
        "{audit}"
    );
    b.screenshot("dashboard-ops-reassigned").await;

    // A patrol reports the fire on a parcel from 3 km away: the review view shows it flagged,
    // with its photo and the flag's reason in Chinese.
    let task_id = tasked["task_id"].as_i64().unwrap();
    let (s, v) = srv
        .post(
            &format!("/api/v1/tasks/{task_id}/ack"),
            ADMIN,
            "application/json",
            "{}",
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = report(
        &srv,
        task_id,
        ADMIN,
        "burned_scar",
        on.0 + 0.027,
        on.1,
        photo_png(31),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let card = format!("#review-list .review-card[data-task-id='{task_id}']");
    b.wait_js(
        "the review card with its photo",
        &format!(
            "var i = document.querySelector(\"{card} img.review-photo\"); return !!i && i.dataset.loaded === '1' && i.naturalWidth > 0"
        ),
    )
    .await;
    let flag = b
        .wait_js(
            "the flag",
            &format!("var f = document.querySelector(\"{card} .review-flags li[data-flag='far_from_event']\"); return f ? f.textContent : ''"),
        )
        .await;
    assert!(
        flag.as_str()
            .unwrap()
            .starts_with(&zh("flag.far_from_event", &[])),
        "{flag}"
    );
    let head = b
        .js(
            &format!("return document.querySelector(\"{card}\").textContent"),
            vec![],
        )
        .await;
    let head = head.as_str().unwrap();
    assert!(head.contains(&zh("verdict.burned_scar", &[])), "{head}");
    assert!(head.contains("上报位置距火点"), "{head}");
    b.screenshot("dashboard-ops-review").await;

    // Sent back for re-verification with a reason: it leaves the list, the task waits again.
    b.type_into(
        &format!("{card} .review-reason"),
        "位置与火点不符，请重新核查",
    )
    .await;
    b.click(&format!("{card} .review-send-back")).await;
    b.wait_js(
        "the card gone",
        &format!("return !document.querySelector(\"{card}\")"),
    )
    .await;
    let (_, t) = srv.get(&format!("/api/v1/tasks/{task_id}"), ADMIN).await;
    assert_eq!(t["properties"]["state"], "acknowledged", "{t}");
    b.close().await;
    srv.stop().await;
}
