//! Limits answer like every other error (issue 15, item 5): a body over its route's limit is a 413
//! with a JSON body on every route that takes one (multipart included).

mod common;

use common::dispatch::{photo_png, verdict_form};
use common::server::*;

async fn status_and_json(resp: reqwest::Response) -> (u16, String, serde_json::Value) {
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = resp.bytes().await.unwrap();
    let v = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&bytes).to_string()));
    (status, ctype, v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_body_over_its_limit_is_a_413_in_json() {
    let srv = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.limits.photo_bytes = 64 * 1024;
        c.limits.scene_bytes = 256 * 1024;
    })
    .await;
    let big = |n: usize| vec![b'x'; n];
    let mut cases: Vec<(String, reqwest::RequestBuilder)> = Vec::new();
    let post = |path: &str| srv.client.post(srv.url(path)).bearer_auth(ADMIN);
    cases.push((
        "hotspots".into(),
        post("/api/v1/hotspots")
            .header("content-type", "text/csv")
            .body(big(300 * 1024)),
    ));
    cases.push((
        "sensor-alerts".into(),
        post("/api/v1/sensor-alerts")
            .header("content-type", "application/json")
            .body(big(5_000)),
    ));
    cases.push((
        "scenes".into(),
        post("/api/v1/scenes")
            .header("content-type", "image/tiff")
            .body(big(300 * 1024)),
    ));
    for action in ["ack", "on-site", "close"] {
        cases.push((
            action.into(),
            post(&format!("/api/v1/tasks/1/{action}"))
                .header("content-type", "application/json")
                .body(big(20_000)),
        ));
    }
    let mut photo = photo_png(1);
    photo.resize(100 * 1024, 0);
    cases.push((
        "verdict (multipart)".into(),
        post("/api/v1/tasks/1/verdict").multipart(verdict_form(
            &[("verdict", "burning".into())],
            Some(("field.png", photo)),
        )),
    ));
    // Task 1 must exist for the task routes to read their bodies.
    let t = chrono::Utc::now() - chrono::Duration::minutes(5);
    let csv = firms_csv(&[firms_row(
        35.6,
        114.3,
        &t.format("%Y-%m-%d").to_string(),
        &t.format("%H%M").to_string(),
        "N20",
        "n",
        "2.0NRT",
        3.0,
    )]);
    assert_eq!(
        srv.post("/api/v1/hotspots", ADMIN, "text/csv", csv).await.0,
        201
    );
    let mut wrong = Vec::new();
    for (what, req) in cases {
        let (status, ctype, v) = status_and_json(req.send().await.unwrap()).await;
        if status != 413 || !ctype.contains("json") || v["field"] != "body" {
            wrong.push(format!("{what}: {status} `{ctype}` {v}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    srv.stop().await;
}
