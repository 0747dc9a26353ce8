//! Notifications end to end: a real server, a real webhook receiver on loopback, a moved clock.
//! Delivery with the right key in both formats, routing by unit, new → notified with its audit
//! row, tasks without a webhook, give-up, and the operators' list.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use common::receiver::{fast_notify, webhook, Mode, Receiver};
use common::server::{eventually, GridPlacer, TestServer, ADMIN, COUNTY_A, PATROL_A1};
use common::sse::SseReader;
use common::stores::{Backend, PgSchema};
use common::tasks::{enqueue_notice, insert_task, task_audit, task_state};
use strawfire::config::WebhookFormat;
use strawfire::dispatch::ManualClock;
use strawfire::notify::NoticeKind;

on_both_stores!(
    each_notice_reaches_the_webhooks_of_its_unit_once_with_its_key_in_both_formats,
    a_task_whose_unit_has_no_webhook_is_notified_at_once,
    deliveries_that_cannot_succeed_are_given_up_and_listed_for_operators,
    a_county_group_gets_new_tasks_as_wecom_text_mentioning_the_person_on_duty,
    a_verdict_photo_reaches_a_wecom_group_as_an_image_message,
);

const WAIT: Duration = Duration::from_secs(20);

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 8, 10, 0, 0).unwrap()
}

async fn deliveries(s: &TestServer, status: &str) -> Vec<serde_json::Value> {
    let (code, v) = s
        .get(&format!("/api/v1/deliveries?status={status}"), ADMIN)
        .await;
    assert_eq!(code, 200, "{v}");
    v["deliveries"].as_array().unwrap().clone()
}

async fn each_notice_reaches_the_webhooks_of_its_unit_once_with_its_key_in_both_formats(
    b: Backend,
) {
    let rx = Receiver::start(Mode::Ok).await;
    let clock = ManualClock::new(t0());
    let hooks = vec![
        webhook(
            "town-json",
            "410526101",
            rx.url("/hook/town-json"),
            WebhookFormat::Json,
        ),
        webhook(
            "town-robot",
            "410526101",
            rx.url("/hook/town-robot"),
            WebhookFormat::Markdown,
        ),
        webhook(
            "county",
            "410526",
            rx.url("/hook/county"),
            WebhookFormat::Dingtalk,
        ),
        webhook(
            "elsewhere",
            "410527100",
            rx.url("/hook/elsewhere"),
            WebhookFormat::Json,
        ),
    ];
    let s = TestServer::start_in(
        tempfile::tempdir().unwrap(),
        (b == Backend::Postgres).then(PgSchema::new),
        |c| {
            fast_notify(c, 5);
            c.webhooks = hooks;
        },
        Arc::new(GridPlacer),
        Arc::new(clock.clone()),
    )
    .await;
    clock.advance(chrono::Duration::seconds(7));
    let notice = insert_task(&s, 1, "410526101", t0());

    eventually(WAIT, "two deliveries", || async {
        (rx.seen().len() >= 2).then_some(())
    })
    .await;
    eventually(WAIT, "both recorded", || async {
        (deliveries(&s, "delivered").await.len() == 2).then_some(())
    })
    .await;
    let seen = rx.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let json = seen.iter().find(|r| r.path == "/hook/town-json").unwrap();
    let robot = seen.iter().find(|r| r.path == "/hook/town-robot").unwrap();
    assert_eq!(json.key, "task-1-new-410526101:town-json");
    assert_eq!(robot.key, "task-1-new-410526101:town-robot");
    for r in [json, robot] {
        assert_eq!(r.kind, "task_new");
        assert_eq!(r.attempt, "1");
        assert_eq!(r.content_type, "application/json; charset=utf-8");
        assert_eq!(r.answered, 200);
    }
    assert_eq!(json.body["kind"], "task_new");
    assert_eq!(json.body["task_id"], 1);
    assert_eq!(json.body["unit"], "410526101");
    assert_eq!(json.body["idempotency_key"], json.key.as_str());
    assert_eq!(json.body["notice_key"], notice.key());
    assert_eq!(robot.body["msgtype"], "markdown");
    let content = robot.body["markdown"]["content"].as_str().unwrap();
    // In Chinese (the default `[ui] lang`), named, with the deadline it is for.
    assert!(
        content.starts_with("## 【秸秆禁烧】新核查任务 #1"),
        "{content}"
    );
    assert!(
        content.contains("**地点**：乡镇 410526101 410526101\n"),
        "{content}"
    );
    // The acknowledgement deadline 10:30 UTC = 18:30 Beijing time.
    assert!(
        content.contains("**接收时限**：6月8日 18:30 北京时间\n"),
        "{content}"
    );
    // The map-app links, and no link to this server: `[notify] public_url` is not set.
    assert!(
        content.contains("[高德地图](https://uri.amap.com/marker?position="),
        "{content}"
    );
    assert!(!content.contains("/patrol#task"), "{content}");

    // The task is notified at the clock's time, with one audit row naming the webhook.
    let notified_at = (t0() + chrono::Duration::seconds(7)).timestamp();
    assert_eq!(
        task_state(&s, 1).await,
        ("notified".into(), Some(notified_at))
    );
    let audit = task_audit(&s, 1).await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    let (actor, role, action, from, to, detail) = &audit[0];
    assert_eq!(
        (
            actor.as_str(),
            role.as_str(),
            action.as_str(),
            from.as_str(),
            to.as_str()
        ),
        ("system", "system", "notify", "new", "notified")
    );
    let hook = detail["webhook"].as_str().unwrap();
    assert!(hook == "town-json" || hook == "town-robot", "{detail}");
    assert_eq!(
        detail["idempotency_key"],
        format!("task-1-new-410526101:{hook}")
    );

    // An escalation goes to the county's webhook (DingTalk form) and only there.
    let mut esc = notice.clone();
    esc.kind = NoticeKind::Escalation {
        deadline: "acknowledge".into(),
    };
    esc.unit = "410526".into();
    enqueue_notice(&s, &esc, t0());
    eventually(WAIT, "the escalation", || async {
        (deliveries(&s, "delivered").await.len() == 3).then_some(())
    })
    .await;
    let seen = rx.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    let county = seen.iter().find(|r| r.path == "/hook/county").unwrap();
    assert_eq!(county.key, "task-1-escalation-acknowledge-410526:county");
    assert_eq!(county.kind, "escalation");
    assert_eq!(county.body["msgtype"], "markdown");
    assert!(county.body["markdown"]["title"]
        .as_str()
        .unwrap()
        .contains("【督办】任务 #1 超过接收时限"));
    // Still one audit row: only task_new moves the task.
    assert_eq!(task_audit(&s, 1).await.len(), 1);
    assert!(rx.seen().iter().all(|r| r.path != "/hook/elsewhere"));
    assert!(rx.repeats().is_empty());
    assert!(rx.ok_counts().values().all(|&n| n == 1));

    // The pending gauge is set at the end of each pass.
    s.notify_passes(2).await;
    let m = s.metrics().await;
    assert!(
        m.contains("strawfire_notify_attempts_total{outcome=\"delivered\"} 3"),
        "{m}"
    );
    assert!(
        m.contains("strawfire_notify_attempts_total{outcome=\"retried\"} 0"),
        "{m}"
    );
    assert!(m.contains("strawfire_notify_pending 0"), "{m}");
    s.stop().await;
}

async fn a_task_whose_unit_has_no_webhook_is_notified_at_once(b: Backend) {
    let rx = Receiver::start(Mode::Ok).await;
    let clock = ManualClock::new(t0());
    let url = rx.url("/hook/a1");
    let s = TestServer::start_in(
        tempfile::tempdir().unwrap(),
        (b == Backend::Postgres).then(PgSchema::new),
        |c| {
            fast_notify(c, 5);
            c.webhooks = vec![webhook("a1", "410526101", url, WebhookFormat::Json)];
        },
        Arc::new(GridPlacer),
        Arc::new(clock.clone()),
    )
    .await;
    // An open page of the county hears the task become notified, as it would a delivered one.
    let mut stream = SseReader::open(&s, COUNTY_A, true).await;
    insert_task(&s, 4, "410526100", t0());
    eventually(WAIT, "task 4 notified", || async {
        (task_state(&s, 4).await.0 == "notified").then_some(())
    })
    .await;
    let heard = stream.expect("task").await;
    assert_eq!(
        (heard["id"].as_i64(), heard["state"].as_str()),
        (Some(4), Some("notified")),
        "{heard}"
    );
    assert_eq!(
        task_state(&s, 4).await,
        ("notified".into(), Some(t0().timestamp()))
    );
    let audit = task_audit(&s, 4).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].2, "notify");
    assert!(audit[0].5["webhook"].is_null(), "{:?}", audit[0].5);
    assert!(audit[0].5["note"].as_str().unwrap().contains("410526100"));
    let (_, v) = s.get("/api/v1/deliveries", ADMIN).await;
    assert_eq!(v["deliveries"].as_array().unwrap().len(), 0, "{v}");
    assert!(rx.seen().is_empty());
    s.stop().await;
}

async fn deliveries_that_cannot_succeed_are_given_up_and_listed_for_operators(b: Backend) {
    let rx = Receiver::start(Mode::Unavailable).await;
    let clock = ManualClock::new(t0());
    let (busy, gone) = (rx.url("/hook/busy"), rx.url("/gone"));
    let s = TestServer::start_in(
        tempfile::tempdir().unwrap(),
        (b == Backend::Postgres).then(PgSchema::new),
        |c| {
            fast_notify(c, 2);
            c.webhooks = vec![
                webhook("busy", "410526101", busy, WebhookFormat::Markdown),
                webhook("gone", "410526101", gone, WebhookFormat::Json),
            ];
        },
        Arc::new(GridPlacer),
        Arc::new(clock.clone()),
    )
    .await;
    insert_task(&s, 2, "410526101", t0());

    // 410 is given up after one attempt; 503 is retried once the clock passes the backoff.
    eventually(WAIT, "first attempts", || async {
        let failed = deliveries(&s, "failed").await;
        let pending = deliveries(&s, "pending").await;
        (failed.len() == 1 && pending.len() == 1 && pending[0]["last_error"].is_string())
            .then_some((failed, pending))
    })
    .await;
    let failed = deliveries(&s, "failed").await;
    assert_eq!(failed[0]["webhook"], "gone");
    assert_eq!(failed[0]["attempts"], 1);
    assert_eq!(failed[0]["status"], "failed");
    let err = failed[0]["last_error"].as_str().unwrap();
    assert!(err.contains("HTTP 410 (not retried)"), "{err}");
    let pending = deliveries(&s, "pending").await;
    assert_eq!(pending[0]["attempts"], 1);
    assert!(pending[0]["last_error"]
        .as_str()
        .unwrap()
        .contains("HTTP 503"));
    assert_eq!(
        rx.seen().len(),
        1,
        "only /hook/busy reaches the handler once"
    );

    clock.advance(chrono::Duration::seconds(61));
    eventually(WAIT, "the second attempt given up", || async {
        (deliveries(&s, "failed").await.len() == 2).then_some(())
    })
    .await;
    let failed = deliveries(&s, "failed").await;
    let busy = failed.iter().find(|d| d["webhook"] == "busy").unwrap();
    assert_eq!(busy["attempts"], 2);
    assert_eq!(busy["idempotency_key"], "task-2-new-410526101:busy");
    assert_eq!(busy["kind"], "task_new");
    assert_eq!(busy["task_id"], 2);
    assert!(busy["gave_up_at"].is_string());
    assert!(busy["delivered_at"].is_null());
    assert!(deliveries(&s, "pending").await.is_empty());
    assert!(deliveries(&s, "delivered").await.is_empty());
    assert_eq!(rx.seen().len(), 2);
    assert!(rx.seen().iter().all(|r| r.answered == 503));
    // No further attempts however far the clock moves.
    clock.advance(chrono::Duration::hours(5));
    s.notify_passes(3).await;
    let m = s.metrics().await;
    assert!(
        m.contains("strawfire_notify_attempts_total{outcome=\"gave_up\"} 2"),
        "{m}"
    );
    assert!(
        m.contains("strawfire_notify_attempts_total{outcome=\"retried\"} 1"),
        "{m}"
    );
    assert!(m.contains("strawfire_notify_pending 0"), "{m}");
    assert_eq!(rx.seen().len(), 2);
    // The task was never notified.
    assert_eq!(task_state(&s, 2).await, ("new".into(), None));
    assert!(task_audit(&s, 2).await.is_empty());

    // Operators only, and the parameters are checked.
    let (code, _) = s.get("/api/v1/deliveries", COUNTY_A).await;
    assert_eq!(code, 403);
    let (code, _) = s.get("/api/v1/deliveries", PATROL_A1).await;
    assert_eq!(code, 403);
    let (code, v) = s.get("/api/v1/deliveries?status=lost", ADMIN).await;
    assert_eq!((code, v["field"].as_str()), (400, Some("status")), "{v}");
    let (code, v) = s.get("/api/v1/deliveries?state=failed", ADMIN).await;
    assert_eq!((code, v["field"].as_str()), (400, Some("state")), "{v}");
    let (code, v) = s.get("/api/v1/deliveries?limit=0", ADMIN).await;
    assert_eq!((code, v["field"].as_str()), (400, Some("limit")), "{v}");
    let (code, v) = s.get("/api/v1/deliveries", ADMIN).await;
    assert_eq!(code, 200);
    assert_eq!(v["counts"]["failed"], 2, "{v}");
    s.stop().await;
}

/// A county group that subscribed to new tasks (`kinds`) gets those of its townships as WeCom
/// plain text, @mentioning the person on duty by mobile number, with the map-app links in the
/// datums of the apps and the link to the task on the patrol page; the task is then notified.
async fn a_county_group_gets_new_tasks_as_wecom_text_mentioning_the_person_on_duty(b: Backend) {
    let rx = Receiver::start(Mode::Ok).await;
    let clock = ManualClock::new(t0());
    let mut county = webhook(
        "county-duty",
        "410526",
        rx.url("/hook/county-duty"),
        WebhookFormat::Text,
    );
    county.kinds = Some(vec!["task_new".into()]);
    county.mentioned_mobile_list = vec!["13800138000".into()];
    let s = TestServer::start_in(
        tempfile::tempdir().unwrap(),
        (b == Backend::Postgres).then(PgSchema::new),
        |c| {
            fast_notify(c, 5);
            c.notify.public_url = Some("https://fire.example.cn".into());
            c.webhooks = vec![
                county,
                webhook(
                    "county-default",
                    "410526",
                    rx.url("/hook/county-default"),
                    WebhookFormat::Json,
                ),
            ];
        },
        Arc::new(GridPlacer),
        Arc::new(clock.clone()),
    )
    .await;
    let notice = insert_task(&s, 1, "410526101", t0());
    eventually(WAIT, "the delivery recorded", || async {
        (deliveries(&s, "delivered").await.len() == 1).then_some(())
    })
    .await;
    let seen = rx.seen();
    // Only the subscribed group: a county's default webhook takes escalations only.
    assert_eq!(seen.len(), 1, "{seen:?}");
    let r = &seen[0];
    assert_eq!(r.path, "/hook/county-duty");
    assert_eq!(r.body["msgtype"], "text");
    assert_eq!(
        r.body["text"]["mentioned_mobile_list"],
        serde_json::json!(["13800138000"])
    );
    let content = r.body["text"]["content"].as_str().unwrap();
    let (glon, glat) = strawfire::locate::gcj02::wgs84_to_gcj02(notice.lon, notice.lat);
    let (blon, blat) = strawfire::locate::bd09::wgs84_to_bd09(notice.lon, notice.lat);
    for want in [
        format!("高德地图：https://uri.amap.com/marker?position={glon:.6},{glat:.6}&"),
        format!(
            "腾讯地图：https://apis.map.qq.com/uri/v1/marker?marker=coord:{glat:.6},{glon:.6};"
        ),
        format!("百度地图：https://api.map.baidu.com/marker?location={blat:.6},{blon:.6}&"),
        "：https://fire.example.cn/patrol#task-1\n".to_string(),
    ] {
        assert!(content.contains(&want), "{want} in {content}");
    }
    assert!(!content.contains("**"), "plain text: {content}");
    assert_eq!(task_state(&s, 1).await.0, "notified");
    s.stop().await;
}

/// A verdict's photo reaches a WeCom group as an image message of its own (base64 and MD5 of
/// the stored photo, WeCom's `image` type) beside the text, which says so; a JSON receiver gets
/// the text only, with the scoped photo route.
async fn a_verdict_photo_reaches_a_wecom_group_as_an_image_message(b: Backend) {
    use common::dispatch::{act, on_site, photo_png, report, task_id_near};
    let rx = Receiver::start(Mode::Ok).await;
    let s = TestServer::start_in(
        tempfile::tempdir().unwrap(),
        (b == Backend::Postgres).then(PgSchema::new),
        |c| {
            fast_notify(c, 5);
            c.notify.public_url = Some("https://fire.example.cn".into());
            let mut wecom = webhook(
                "town-wecom",
                "410526101",
                rx.url("/hook/town-wecom"),
                WebhookFormat::Markdown,
            );
            wecom.kinds = Some(vec!["verdict".into(), "sent_back".into()]);
            let mut json = webhook(
                "town-json",
                "410526101",
                rx.url("/hook/town-json"),
                WebhookFormat::Json,
            );
            json.kinds = Some(vec!["verdict".into()]);
            c.webhooks = vec![wecom, json];
        },
        Arc::new(GridPlacer),
        Arc::new(strawfire::dispatch::SystemClock),
    )
    .await;
    let csv = common::server::recent_firms_csv(&[(35.7, 114.5, 0, "h")], 9.5);
    let (code, v) = s.post("/api/v1/hotspots", ADMIN, "text/csv", csv).await;
    assert_eq!(code, 201, "{v}");
    eventually(WAIT, "the task", || async {
        let t = s.features("/api/v1/tasks", ADMIN).await;
        (!t.is_empty()).then_some(())
    })
    .await;
    let id = task_id_near(&s, 35.7, 114.5).await;
    let (code, v) = act(&s, id, "ack", PATROL_A1).await;
    assert_eq!(code, 200, "{v}");
    let (code, v) = on_site(&s, id, PATROL_A1, 35.7, 114.5).await;
    assert_eq!(code, 200, "{v}");
    let photo = photo_png(7);
    let (code, v) = report(&s, id, PATROL_A1, "burning", 35.7, 114.5, photo.clone()).await;
    assert_eq!(code, 201, "{v}");
    eventually(WAIT, "three deliveries", || async {
        (deliveries(&s, "delivered").await.len() == 3).then_some(())
    })
    .await;
    let seen = rx.seen();
    let at = |path: &str, msgtype: &str| {
        seen.iter()
            .find(|r| r.path == path && (msgtype.is_empty() || r.body["msgtype"] == msgtype))
            .unwrap_or_else(|| panic!("{path} {msgtype}: {seen:?}"))
    };
    let image = at("/hook/town-wecom", "image");
    assert_eq!(
        image.key,
        format!("task-{id}-verdict-burning-410526101:town-wecom#photo")
    );
    assert_eq!(
        image.body["image"]["md5"],
        strawfire::notify::image::md5_hex(&photo)
    );
    assert_eq!(
        image.body["image"]["base64"],
        strawfire::notify::image::base64(&photo)
    );
    let text = at("/hook/town-wecom", "markdown");
    let content = text.body["markdown"]["content"].as_str().unwrap();
    assert!(
        content.contains("**现场照片**：另发图片消息\n"),
        "{content}"
    );
    let json = at("/hook/town-json", "");
    assert_eq!(
        json.body["photo_url"],
        format!("https://fire.example.cn/api/v1/tasks/{id}/photo")
    );
    assert!(json.body["text"]
        .as_str()
        .unwrap()
        .contains("**现场照片**：已上传"));
    assert_eq!(seen.len(), 3, "{seen:?}");

    // The county sends the verdict back: the WeCom group reads why, with the new deadline.
    let (code, v) = s
        .post(
            &format!("/api/v1/tasks/{id}/send-back"),
            COUNTY_A,
            "application/json",
            serde_json::json!({"reason": "照片看不清火点，请靠近重拍"}).to_string(),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    eventually(WAIT, "the sent-back notice", || async {
        (deliveries(&s, "delivered").await.len() == 4).then_some(())
    })
    .await;
    let seen = rx.seen();
    let back = seen
        .iter()
        .find(|r| r.kind == "sent_back")
        .unwrap_or_else(|| panic!("{seen:?}"));
    assert_eq!(back.path, "/hook/town-wecom");
    let content = back.body["markdown"]["content"].as_str().unwrap();
    assert!(
        content.starts_with(&format!("## 【退回重核】任务 #{id} 的核查结果被退回\n")),
        "{content}"
    );
    assert!(
        content.contains("**退回原因**：照片看不清火点，请靠近重拍\n"),
        "{content}"
    );
    assert!(content.contains("**核查时限**："), "{content}");
    s.stop().await;
}
