//! What the chat groups hear when the command center takes a task back (#17 review): a
//! cancelled task is told to its township's group with the reason; a "new task" notice still
//! waiting when its task is cancelled is never sent, and the store shows its delivery
//! `superseded`; a task reassigned away is told to the township that loses it, and a task given
//! back to a township that held it earlier is told to that township again; a verdict sent back
//! resets the on-site and verdict deadlines by the policy and tells the township both; a task
//! given to a township of another county is withdrawn from the old county's groups (the
//! notice carries the county it leaves), and the new county's hear only the new task. A real
//! server on port 0, a real webhook receiver on loopback, a moved clock.

mod common;

use chrono::Duration;
use common::dispatch::{act, clocked_on, hotspot, photo_png, report, t0, task_id_near};
use common::receiver::{fast_notify, webhook, Mode, Receiver};
use common::server::*;
use common::stores::Backend;
use strawfire::config::WebhookFormat;

on_both_stores!(
    a_waiting_new_task_notice_is_superseded_by_the_cancel_and_never_sent,
    townships_hear_of_reassignment_away_and_back_and_of_the_cancel,
    a_verdict_sent_back_resets_the_on_site_and_verdict_deadlines_and_tells_the_township,
    a_task_reassigned_to_another_county_is_withdrawn_from_the_old_county_not_the_new,
);

const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Two townships' robots (markdown, as WeCom groups take it) on one receiver.
fn hooks(rx: &Receiver) -> Vec<strawfire::config::WebhookConfig> {
    vec![
        webhook(
            "town-a",
            "410526101",
            rx.url("/hook/a"),
            WebhookFormat::Markdown,
        ),
        webhook(
            "town-b",
            "410526100",
            rx.url("/hook/b"),
            WebhookFormat::Markdown,
        ),
    ]
}

async fn post_json(
    ts: &TestServer,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    ts.post(path, token, "application/json", body.to_string())
        .await
}

async fn deliveries(ts: &TestServer, status: &str) -> Vec<serde_json::Value> {
    let (code, v) = ts
        .get(&format!("/api/v1/deliveries?status={status}"), ADMIN)
        .await;
    assert_eq!(code, 200, "{v}");
    v["deliveries"].as_array().unwrap().clone()
}

/// The markdown texts the receiver answered 200 for at `path`, with their keys, in order.
fn heard(rx: &Receiver, path: &str) -> Vec<(String, String)> {
    rx.seen()
        .into_iter()
        .filter(|s| s.path == path && s.answered == 200 && !s.repeat)
        .map(|s| {
            let text = s.body["markdown"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (s.key, text)
        })
        .collect()
}

async fn a_waiting_new_task_notice_is_superseded_by_the_cancel_and_never_sent(b: Backend) {
    let rx = Receiver::start(Mode::Unavailable).await;
    let h = hooks(&rx);
    let (ts, clock) = clocked_on(b, move |c| {
        fast_notify(c, 5);
        c.webhooks = h;
    })
    .await;
    hotspot(&ts, 35.60, 114.30, t0() - Duration::minutes(2)).await;
    let task = task_id_near(&ts, 35.60, 114.30).await;
    // The robot is down: the notice waits for its next attempt.
    eventually(WAIT, "a failed attempt", || async {
        let p = deliveries(&ts, "pending").await;
        p.iter()
            .any(|d| d["task_id"] == task && d["attempts"].as_u64() >= Some(1))
            .then_some(())
    })
    .await;

    let (s, v) = post_json(
        &ts,
        &format!("/api/v1/tasks/{task}/cancel"),
        COUNTY_A,
        serde_json::json!({"reason": "重复任务"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    // Marked in the store, counted apart, and no longer pending.
    let superseded = deliveries(&ts, "superseded").await;
    assert_eq!(superseded.len(), 1, "{superseded:?}");
    let d = &superseded[0];
    assert_eq!(
        (
            d["kind"].as_str(),
            d["task_id"].as_i64(),
            d["webhook"].as_str()
        ),
        (Some("task_new"), Some(task), Some("town-a"))
    );
    assert_eq!(d["superseded_by"], "cancel");
    assert!(d["superseded_at"].is_string(), "{d}");
    assert!(deliveries(&ts, "pending").await.is_empty());
    let (_, all) = ts.get("/api/v1/deliveries", ADMIN).await;
    assert_eq!(all["counts"]["superseded"], 1, "{all}");
    assert_eq!(all["counts"]["pending"], 0, "{all}");

    // The robot is back and the retry time passes: nothing about the cancelled task goes out
    // (it was never told of it, so there is no cancellation to tell either).
    rx.set_mode(Mode::Ok);
    clock.advance(Duration::minutes(10));
    ts.notify_passes(5).await;
    assert!(
        heard(&rx, "/hook/a").is_empty(),
        "{:?}",
        heard(&rx, "/hook/a")
    );
    let (_, t) = ts.get(&format!("/api/v1/tasks/{task}"), ADMIN).await;
    assert_eq!(t["properties"]["state"], "cancelled");
    ts.stop().await;
}

async fn townships_hear_of_reassignment_away_and_back_and_of_the_cancel(b: Backend) {
    let rx = Receiver::start(Mode::Ok).await;
    let h = hooks(&rx);
    let (ts, clock) = clocked_on(b, move |c| {
        fast_notify(c, 5);
        c.webhooks = h;
    })
    .await;
    hotspot(&ts, 35.70, 114.30, t0() - Duration::minutes(2)).await;
    let task = task_id_near(&ts, 35.70, 114.30).await;
    let path = format!("/api/v1/tasks/{task}");
    eventually(WAIT, "told to township a", || async {
        let (_, t) = ts.get(&path, ADMIN).await;
        (t["properties"]["state"] == "notified").then_some(())
    })
    .await;
    let move_to = |unit: &'static str, reason: &'static str| {
        let ts = &ts;
        let path = &path;
        async move {
            let (s, v) = post_json(
                ts,
                &format!("{path}/reassign"),
                COUNTY_A,
                serde_json::json!({"unit": unit, "reason": reason}),
            )
            .await;
            assert_eq!(s, 200, "{v}");
        }
    };

    // Away to township b: b is told of a new task, a that it was taken to b, and why.
    clock.advance(Duration::minutes(1));
    move_to("410526100", "地块属邻乡管辖").await;
    eventually(WAIT, "b told, a told", || async {
        (heard(&rx, "/hook/b").len() == 1 && heard(&rx, "/hook/a").len() == 2).then_some(())
    })
    .await;
    let (key, text) = &heard(&rx, "/hook/b")[0];
    assert_eq!(key, &format!("task-{task}-new-r1-410526100:town-b"));
    assert!(
        text.starts_with(&format!("## 【秸秆禁烧】新核查任务 #{task}")),
        "{text}"
    );
    let (key, text) = &heard(&rx, "/hook/a")[1];
    assert_eq!(key, &format!("task-{task}-withdrawn-r1-410526101:town-a"));
    assert!(
        text.starts_with(&format!("## 【改派】任务 #{task} 已改派至")),
        "{text}"
    );
    assert!(text.contains("**改派原因**：地块属邻乡管辖\n"), "{text}");
    assert!(text.contains("本单位无需再处置此任务"), "{text}");
    assert!(!text.contains("高德地图"), "no way there: {text}");

    // Back to township a, which held it before: a is told of the task again (a new key, not
    // the first notice's), b that it was taken.
    eventually(WAIT, "notified at b", || async {
        let (_, t) = ts.get(&path, ADMIN).await;
        (t["properties"]["state"] == "notified").then_some(())
    })
    .await;
    clock.advance(Duration::minutes(1));
    move_to("410526101", "乡镇核实后确属本乡").await;
    eventually(WAIT, "a told again, b told", || async {
        (heard(&rx, "/hook/a").len() == 3 && heard(&rx, "/hook/b").len() == 2).then_some(())
    })
    .await;
    let (key, text) = &heard(&rx, "/hook/a")[2];
    assert_eq!(key, &format!("task-{task}-new-r2-410526101:town-a"));
    assert!(
        text.starts_with(&format!("## 【秸秆禁烧】新核查任务 #{task}")),
        "{text}"
    );
    let (key, _) = &heard(&rx, "/hook/b")[1];
    assert_eq!(key, &format!("task-{task}-withdrawn-r2-410526100:town-b"));

    // Cancelled: a hears it, with the reason.
    eventually(WAIT, "notified at a", || async {
        let (_, t) = ts.get(&path, ADMIN).await;
        (t["properties"]["state"] == "notified").then_some(())
    })
    .await;
    let (s, v) = post_json(
        &ts,
        &format!("{path}/cancel"),
        COUNTY_A,
        serde_json::json!({"reason": "经核实为秸秆清运车辆热源"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    eventually(WAIT, "a told of the cancel", || async {
        (heard(&rx, "/hook/a").len() == 4).then_some(())
    })
    .await;
    let (key, text) = &heard(&rx, "/hook/a")[3];
    assert_eq!(key, &format!("task-{task}-cancelled-r2-410526101:town-a"));
    assert!(
        text.starts_with(&format!("## 【撤销】任务 #{task} 已撤销\n")),
        "{text}"
    );
    assert!(
        text.contains("**撤销原因**：经核实为秸秆清运车辆热源\n"),
        "{text}"
    );
    // Nothing else was sent to either group, and nothing waits.
    ts.notify_passes(3).await;
    assert_eq!(heard(&rx, "/hook/a").len(), 4);
    assert_eq!(heard(&rx, "/hook/b").len(), 2);
    assert!(deliveries(&ts, "pending").await.is_empty());
    ts.stop().await;
}

async fn a_verdict_sent_back_resets_the_on_site_and_verdict_deadlines_and_tells_the_township(
    b: Backend,
) {
    let rx = Receiver::start(Mode::Ok).await;
    let h = hooks(&rx);
    let (ts, clock) = clocked_on(b, move |c| {
        fast_notify(c, 5);
        c.webhooks = h;
        c.dispatch.escalation_interval_s = 3600.0;
    })
    .await;
    hotspot(&ts, 35.80, 114.30, t0() - Duration::minutes(2)).await;
    let task = task_id_near(&ts, 35.80, 114.30).await;
    let path = format!("/api/v1/tasks/{task}");
    assert_eq!(act(&ts, task, "ack", PATROL_A1).await.0, 200);
    let (s, v) = report(
        &ts,
        task,
        PATROL_A1,
        "burned_scar",
        35.80,
        114.30,
        photo_png(3),
    )
    .await;
    assert_eq!(s, 201, "{v}");

    // Five hours later (every first deadline long past) the county sends the verdict back.
    clock.advance(Duration::hours(5));
    let now = t0() + Duration::hours(5);
    let (s, v) = post_json(
        &ts,
        &format!("{path}/send-back"),
        COUNTY_A,
        serde_json::json!({"reason": "照片看不清，请重新到场拍摄"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let p = &v["properties"];
    // By the policy of the task's priority (`[dispatch.normal]` / `[dispatch.high]`), from now.
    let policy = strawfire::config::Config::default().dispatch;
    let deadlines = match p["priority"].as_str() {
        Some("high") => policy.high,
        _ => policy.normal,
    };
    let at =
        |m: i64| (now + Duration::minutes(m)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(p["state"], "acknowledged", "{p}");
    assert_eq!(p["on_site_due"], at(deadlines.on_site_min), "{p}");
    assert_eq!(p["verdict_due"], at(deadlines.verdict_min), "{p}");
    assert_eq!(p["next_deadline"], "on_site", "{p}");
    assert_eq!(p["next_due"], at(deadlines.on_site_min), "{p}");
    assert_eq!(p["overdue"], false, "{p}");
    assert!(p["on_site_at"].is_null(), "{p}");
    // Nothing is escalated as missed: the new deadlines have not passed.
    let service = ts.running.as_ref().unwrap().service.clone();
    assert!(service.escalate_due().await.unwrap().is_empty());

    // The township's group hears why, and both new deadlines in Beijing time.
    eventually(WAIT, "the sent-back notice", || async {
        heard(&rx, "/hook/a")
            .into_iter()
            .find(|(k, _)| k.contains("-sent-back-"))
    })
    .await;
    let (key, text) = heard(&rx, "/hook/a")
        .into_iter()
        .find(|(k, _)| k.contains("-sent-back-"))
        .unwrap();
    assert!(key.ends_with("-r1-410526101:town-a"), "{key}");
    let bj = |m: i64| {
        strawfire::i18n::Lang::ZhCn
            .time_short(strawfire::i18n::Zone::BEIJING, now + Duration::minutes(m))
    };
    assert!(
        text.contains(&format!("**到场时限**：{}\n", bj(deadlines.on_site_min))),
        "{text}"
    );
    assert!(
        text.contains(&format!("**核查时限**：{}\n", bj(deadlines.verdict_min))),
        "{text}"
    );
    assert!(
        text.contains("**退回原因**：照片看不清，请重新到场拍摄\n"),
        "{text}"
    );

    // The patrol goes on site again and reports again: the second verdict is told too (its
    // own key, though the verdict is the same).
    let (s, v) = common::dispatch::on_site(&ts, task, PATROL_A1, 35.80, 114.30).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = report(
        &ts,
        task,
        PATROL_A1,
        "burned_scar",
        35.80,
        114.30,
        photo_png(4),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    eventually(WAIT, "the second verdict told", || async {
        heard(&rx, "/hook/a")
            .into_iter()
            .any(|(k, _)| k.contains("-verdict-burned_scar-r1-"))
            .then_some(())
    })
    .await;
    ts.stop().await;
}

/// The notice kinds `path` received (answered 200, no repeats), with their keys, in order.
fn kinds_heard(rx: &Receiver, path: &str) -> Vec<(String, String)> {
    rx.seen()
        .into_iter()
        .filter(|s| s.path == path && s.answered == 200 && !s.repeat)
        .map(|s| (s.kind, s.key))
        .collect()
}

async fn a_task_reassigned_to_another_county_is_withdrawn_from_the_old_county_not_the_new(
    b: Backend,
) {
    let rx = Receiver::start(Mode::Ok).await;
    // Each county's group follows new tasks and withdrawals of every township in it.
    let county = |name: &str, unit: &str, path: &str| {
        let mut w = webhook(name, unit, rx.url(path), WebhookFormat::Json);
        w.kinds = Some(vec!["task_new".into(), "cancelled".into()]);
        w
    };
    let h = vec![
        county("county-a", "410526", "/hook/county-a"),
        county("county-b", "410527", "/hook/county-b"),
    ];
    let (ts, clock) = clocked_on(b, move |c| {
        fast_notify(c, 5);
        c.webhooks = h;
    })
    .await;
    // Township 410526101 of county 410526.
    hotspot(&ts, 35.75, 114.30, t0() - Duration::minutes(2)).await;
    let task = task_id_near(&ts, 35.75, 114.30).await;
    let path = format!("/api/v1/tasks/{task}");
    eventually(WAIT, "told to county a", || async {
        let (_, t) = ts.get(&path, ADMIN).await;
        (t["properties"]["state"] == "notified").then_some(())
    })
    .await;

    // To township 410527100 of county 410527.
    clock.advance(Duration::minutes(1));
    let (s, v) = post_json(
        &ts,
        &format!("{path}/reassign"),
        ADMIN,
        serde_json::json!({"unit": "410527100", "reason": "火点位于邻县"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["properties"]["county"], "410527", "{v}");
    // Both notices are enqueued in the reassignment's transaction: once b has heard of the
    // task and a few more passes have run, everything there is to send has gone.
    eventually(WAIT, "b told of the task", || async {
        (!kinds_heard(&rx, "/hook/county-b").is_empty()).then_some(())
    })
    .await;
    ts.notify_passes(3).await;
    // A hears the task taken away, B of the new task, and nothing else.
    let heard_ab = (
        kinds_heard(&rx, "/hook/county-a"),
        kinds_heard(&rx, "/hook/county-b"),
    );
    let expected = (
        vec![
            (
                "task_new".to_string(),
                format!("task-{task}-new-410526101:county-a"),
            ),
            (
                "cancelled".to_string(),
                format!("task-{task}-withdrawn-r1-410526101:county-a"),
            ),
        ],
        vec![(
            "task_new".to_string(),
            format!("task-{task}-new-r1-410527100:county-b"),
        )],
    );
    assert_eq!(heard_ab, expected);
    let withdrawal = rx
        .seen()
        .into_iter()
        .find(|s| s.path == "/hook/county-a" && s.kind == "cancelled")
        .unwrap();
    assert_eq!(withdrawal.body["county"], "410526", "{}", withdrawal.body);
    assert_eq!(withdrawal.body["unit"], "410526101", "{}", withdrawal.body);
    assert_eq!(
        withdrawal.body["reassigned_to"], "410527100",
        "{}",
        withdrawal.body
    );
    assert!(deliveries(&ts, "pending").await.is_empty());
    ts.stop().await;
}
