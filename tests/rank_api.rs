//! `GET /api/v1/rankings/daily` and `/daily.html` through a real server: the known store's table
//! (the same as the golden file), scope (admin and county tokens see all units, patrols 403, no
//! token 401) and bad parameters (400 naming the field).

mod common;

use std::sync::Arc;

use common::rank::{fill_rank_store, rank_locator, rank_now};
use common::server::{TestServer, ADMIN, COUNTY_A, COUNTY_B, PATROL_A1};
use common::stores::{Backend, PgSchema};
use strawfire::config::Config;
use strawfire::dispatch::ManualClock;

on_both_stores!(
    the_daily_table_is_served_to_admin_and_counties_and_refused_to_patrols,
    bad_parameters_name_the_field,
    the_report_is_one_html_page_with_its_map,
    the_bulletin_takes_a_comment_and_prints_to_pdf,
);

/// A server on `b` at the rankings' "now", with `tweak` applied to its config.
async fn start(b: Backend, tweak: impl FnOnce(&mut Config)) -> TestServer {
    TestServer::start_in(
        tempfile::tempdir().unwrap(),
        (b == Backend::Postgres).then(PgSchema::new),
        tweak,
        Arc::new(rank_locator()),
        Arc::new(ManualClock::new(rank_now())),
    )
    .await
}

/// A server on `b` holding the known store, filled through the server's own store (the
/// store calls block: off the async executor).
async fn server(b: Backend) -> TestServer {
    let s = start(b, |_| {}).await;
    let store = s.running.as_ref().unwrap().service.store_handle();
    tokio::task::spawn_blocking(move || fill_rank_store(&*store, &rank_locator()))
        .await
        .unwrap();
    s
}

async fn the_daily_table_is_served_to_admin_and_counties_and_refused_to_patrols(b: Backend) {
    let s = server(b).await;
    let want: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/rank/county-2024-06-09.json"
        ))
        .unwrap(),
    )
    .unwrap();
    for token in [ADMIN, COUNTY_A, COUNTY_B] {
        let (status, v) = s
            .get("/api/v1/rankings/daily?date=2024-06-09&level=county", token)
            .await;
        assert_eq!(status, 200, "{v}");
        // Leadership's table is public inside the system: all four counties for every county.
        assert_eq!(v, want);
    }
    // level defaults to county.
    let (status, v) = s.get("/api/v1/rankings/daily?date=2024-06-09", ADMIN).await;
    assert_eq!((status, v["level"].as_str()), (200, Some("county")));
    let (status, v) = s
        .get(
            "/api/v1/rankings/daily?date=2024-06-09&level=township",
            COUNTY_A,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(v["rows"].as_array().unwrap().len(), 8);
    assert_eq!(v["rows"][0]["code"], "410526100");
    let (status, v) = s
        .get(
            "/api/v1/rankings/daily?date=2024-06-09&level=city",
            COUNTY_B,
        )
        .await;
    assert_eq!((status, v["level"].as_str()), (200, Some("city")));
    assert_eq!(v["rows"].as_array().unwrap().len(), 3);

    let (status, v) = s
        .get("/api/v1/rankings/daily?date=2024-06-09", PATROL_A1)
        .await;
    assert_eq!(status, 403, "{v}");
    let r = s
        .client
        .get(s.url("/api/v1/rankings/daily?date=2024-06-09"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    s.stop().await;
}

async fn bad_parameters_name_the_field(b: Backend) {
    let s = server(b).await;
    for (query, field) in [
        ("", "date"),
        ("date=2024-13-01", "date"),
        ("date=09.06.2024", "date"),
        ("date=2024-06-09&level=village", "level"),
        ("date=2024-06-09&levle=county", "levle"),
        // "Now" is 2024-06-11 08:00 Beijing time: 06-12 has not begun, and has no table either
        // (it would rank every county first with no fires, as if the day were clean).
        ("date=2024-06-12", "date"),
    ] {
        for path in ["/api/v1/rankings/daily", "/api/v1/rankings/daily.html"] {
            let (status, v) = s.get(&format!("{path}?{query}"), ADMIN).await;
            assert_eq!(status, 400, "{path}?{query}: {v}");
            assert_eq!(v["field"], field, "{path}?{query}: {v}");
            // A stable code and the failure in Chinese for the people shown it.
            assert_eq!(v["code"], "bad_field", "{v}");
            let label = match field {
                "date" => "日期",
                "level" => "级别",
                other => other,
            };
            assert_eq!(v["message_zh"], format!("“{label}”有误"), "{v}");
            if query == "date=2024-06-12" {
                // The date and today in the ranking's time zone, in the detail.
                let detail = v["error"].as_str().unwrap();
                assert!(
                    detail.contains("2024-06-12 is after today (2024-06-11 at UTC+08:00"),
                    "{v}"
                );
            }
        }
    }
    s.stop().await;
}

async fn the_report_is_one_html_page_with_its_map(b: Backend) {
    let s = server(b).await;
    let r = s
        .client
        .get(s.url("/api/v1/rankings/daily.html?date=2024-06-09&level=county"))
        .bearer_auth(COUNTY_B)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg").count(), 1);
    assert_eq!(html.matches("<path class=\"unit").count(), 4);
    // The day's nine hotspots, one of them masked.
    assert_eq!(html.matches("<circle class=\"hotspot").count(), 9);
    assert_eq!(html.matches("<circle class=\"hotspot masked\"").count(), 1);
    assert!(html.contains("<tr class=\"not_observed\">"));
    // In Chinese by default (`[ui] lang`), clouded units said so in Chinese words.
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert!(html.contains("<th>火点数</th>") && html.contains("云覆盖，无有效观测"));
    let r = s
        .client
        .get(s.url("/api/v1/rankings/daily.html?date=2024-06-09"))
        .bearer_auth(PATROL_A1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    s.stop().await;
}

/// The bulletin over HTTP: a request's comment is printed, a day that has not begun is refused
/// (no issue number handed out), the PDF is an A4 PDF for a county token and a 403 for a patrol,
/// and a server without Chromium answers 503 naming what to install.
async fn the_bulletin_takes_a_comment_and_prints_to_pdf(b: Backend) {
    let s = server(b).await;
    let r = s
        .client
        .get(s.url("/api/v1/rankings/daily.html?date=2024-06-09&comment=%E8%AF%B7%E5%8A%A0%E5%BC%BA%E5%B7%A1%E6%9F%A5"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<p class=\"comment\">请加强巡查</p>"),
        "{html}"
    );
    assert!(html.contains("<div class=\"issue\">第1期</div>"));
    // "Now" is 2024-06-11 08:00 Beijing time: 06-12 has not begun.
    let (status, v) = s
        .get("/api/v1/rankings/daily.html?date=2024-06-12", ADMIN)
        .await;
    assert_eq!((status, v["field"].as_str()), (400, Some("date")), "{v}");
    let (status, v) = s
        .get("/api/v1/rankings/daily?date=2024-06-09&comment=x", ADMIN)
        .await;
    assert_eq!((status, v["field"].as_str()), (400, Some("comment")), "{v}");

    // Printing is Chromium's work on the HTML above, the same on every store: once is enough
    // (it is most of this test's time).
    if b == Backend::Sqlite {
        let r = s
            .client
            .get(s.url("/api/v1/rankings/daily.pdf?date=2024-06-09&level=township"))
            .bearer_auth(COUNTY_A)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        let pdf = r.bytes().await.unwrap();
        assert!(pdf.starts_with(b"%PDF"));
    }
    let (status, _) = s
        .get("/api/v1/rankings/daily.pdf?date=2024-06-09", PATROL_A1)
        .await;
    assert_eq!(status, 403);
    s.stop().await;

    let s = start(b, |c| {
        c.report.chromium = Some("/nonexistent/chromium".into())
    })
    .await;
    let (status, v) = s
        .get("/api/v1/rankings/daily.pdf?date=2024-06-09", ADMIN)
        .await;
    assert_eq!(status, 503, "{v}");
    let msg = v["error"].as_str().unwrap();
    assert!(
        msg.contains("/nonexistent/chromium") && msg.contains("chromium"),
        "{v}"
    );
    assert_eq!(v["code"], "unavailable", "{v}");
    assert!(
        v["message_zh"].as_str().unwrap().contains("联系管理员"),
        "{v}"
    );
    // axum's own rejections carry a code and Chinese words too.
    let r = s
        .client
        .post(s.url("/api/v1/rankings/daily?date=2024-06-09"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (v["code"].as_str(), v["message_zh"].as_str()),
        (Some("method_not_allowed"), Some("不支持此请求方法")),
        "{v}"
    );
    let (status, v) = s
        .get("/api/v1/rankings/daily?date=2024-06-09", "nope")
        .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (401, Some("unauthorized")),
        "{v}"
    );
    assert_eq!(v["message_zh"], "令牌缺失、无效或已被吊销", "{v}");
    s.stop().await;
}
