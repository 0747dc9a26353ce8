//! Limits answer like every other error (issue 15, item 5): a body over its route's limit is a 413
//! with a JSON body on every route that takes one (multipart included). The body and text limits
//! on both stores (`on_both_stores!`); the full store on SQLite only: `limits.store_max_bytes` is
//! SQLite's `max_page_count` (refused beside `[store] url`), and a PostgreSQL server cannot be
//! made full by a test without filling its disk.

mod common;

use common::dispatch::{photo_png, verdict_form};
use common::server::*;
use common::stores::Backend;

on_both_stores!(
    every_body_over_its_limit_is_a_413_in_json,
    text_fields_over_their_length_are_a_400_naming_the_field,
);

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

async fn every_body_over_its_limit_is_a_413_in_json(b: Backend) {
    let srv = TestServer::start_on_with(
        b,
        tempfile::tempdir().unwrap(),
        |c| {
            c.limits.photo_bytes = 64 * 1024;
            c.limits.scene_bytes = 256 * 1024;
        },
        std::sync::Arc::new(GridPlacer),
    )
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
        // Sent once: the server reads the rest of a refused body before closing, so the 413
        // arrives instead of a reset (`the_413_arrives_while_the_client_is_still_sending`).
        let resp = req.send().await.unwrap_or_else(|e| panic!("{what}: {e:?}"));
        let (status, ctype, v) = status_and_json(resp).await;
        if status != 413 || !ctype.contains("json") || v["field"] != "body" {
            wrong.push(format!("{what}: {status} `{ctype}` {v}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    srv.stop().await;
}

async fn text_fields_over_their_length_are_a_400_naming_the_field(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let t = chrono::Utc::now() - chrono::Duration::minutes(5);
    let (date, hhmm) = (
        t.format("%Y-%m-%d").to_string(),
        t.format("%H%M").to_string(),
    );
    let long = "N".repeat(65);
    let rows = [
        firms_row(35.6, 114.3, &date, &hhmm, "N20", "n", "2.0NRT", 3.0),
        firms_row(35.6, 114.4, &date, &hhmm, &long, "n", "2.0NRT", 3.0),
    ];
    let (status, v) = srv
        .post("/api/v1/hotspots", ADMIN, "text/csv", firms_csv(&rows))
        .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (400, Some("satellite")),
        "{v}"
    );
    assert!(v["error"].as_str().unwrap().contains("line 3"), "{v}");
    let (_, v) = srv.get("/api/v1/hotspots", ADMIN).await;
    assert_eq!(v["features"].as_array().unwrap().len(), 0, "nothing stored");
    let version = firms_row(35.6, 114.3, &date, &hhmm, "N20", "n", &"2".repeat(100), 3.0);
    let (status, v) = srv
        .post("/api/v1/hotspots", ADMIN, "text/csv", firms_csv(&[version]))
        .await;
    assert_eq!((status, v["field"].as_str()), (400, Some("version")), "{v}");

    let alert = serde_json::json!({
        "sensor_id": "c".repeat(129), "time": t.to_rfc3339(), "kind": "fire",
        "confidence": 0.5, "position": {"lon": 114.3, "lat": 35.6}
    });
    let (status, v) = srv
        .post(
            "/api/v1/sensor-alerts",
            ADMIN,
            "application/json",
            alert.to_string(),
        )
        .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (400, Some("sensor_id")),
        "{v}"
    );
    let long_code = "4".repeat(65);
    for (path, field) in [
        (format!("/api/v1/hotspots?unit={long_code}"), "unit"),
        (
            format!("/api/v1/events?source={}", "x".repeat(65)),
            "source",
        ),
        (format!("/api/v1/tasks?unit={long_code}"), "unit"),
        (format!("/api/v1/units/{long_code}"), "code"),
    ] {
        let (status, v) = srv.get(&path, ADMIN).await;
        assert_eq!(
            (status, v["field"].as_str()),
            (400, Some(field)),
            "{path}: {v}"
        );
    }
    srv.stop().await;
}

/// A FIRMS body of `n` hotspots seen 5 minutes ago at distinct places of county 410526.
fn many(n: usize, first: usize) -> String {
    let t = chrono::Utc::now() - chrono::Duration::minutes(5);
    let rows: Vec<String> = (first..first + n)
        .map(|i| {
            firms_row(
                34.0 + (i / 100) as f64 * 0.01,
                114.0 + (i % 100) as f64 * 0.01,
                &t.format("%Y-%m-%d").to_string(),
                &t.format("%H%M").to_string(),
                "N20",
                "n",
                "2.0NRT",
                3.0,
            )
        })
        .collect();
    firms_csv(&rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_store_answers_503_naming_it_and_healthz_says_degraded_until_a_write_succeeds() {
    // A store capped at 1 MiB (`limits.store_max_bytes`, SQLite's max_page_count): a batch that
    // would grow it further fails with SQLITE_FULL, exactly as on a full disk.
    let srv = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.limits.store_max_bytes = Some(1 << 20);
        c.limits.feed_bytes = 4 << 20;
    })
    .await;
    let (status, h) = srv.get("/api/v1/healthz", ADMIN).await;
    assert_eq!((status, h["storage"].as_str()), (200, Some("ok")), "{h}");
    let (status, v) = srv
        .post("/api/v1/hotspots", ADMIN, "text/csv", many(1, 0))
        .await;
    assert_eq!(status, 201, "{v}");

    let (status, v) = srv
        .post("/api/v1/hotspots", ADMIN, "text/csv", many(4_000, 1))
        .await;
    assert_eq!(status, 503, "{v}");
    assert!(v["cause"].as_str().unwrap().contains("SQLITE_FULL"), "{v}");
    assert!(v["error"].as_str().unwrap().contains("full"), "{v}");
    let (status, h) = srv.get("/api/v1/healthz", ADMIN).await;
    assert_eq!(status, 200);
    assert_eq!(h["storage"], "degraded", "{h}");
    assert_eq!(h["status"], "degraded", "{h}");
    assert!(
        h["storage_error"].as_str().unwrap().contains("SQLITE_FULL"),
        "{h}"
    );
    // The refused batch changed nothing.
    assert_eq!(h["counts"]["hotspots"], 1, "{h}");

    // A write that fits succeeds, and health is back.
    let (status, v) = srv
        .post("/api/v1/hotspots", ADMIN, "text/csv", many(1, 5_000))
        .await;
    assert_eq!(status, 201, "{v}");
    let (_, h) = srv.get("/api/v1/healthz", ADMIN).await;
    assert_eq!(
        (h["storage"].as_str(), h["counts"]["hotspots"].as_u64()),
        (Some("ok"), Some(2)),
        "{h}"
    );
    srv.stop().await;
}

/// An upload over its route's limit gets its 413 whole while the client is still sending: the
/// server reads and drops the rest of the body (up to a bound) instead of closing with it
/// unread, which made the kernel reset the connection and the client see "connection reset" or
/// "broken pipe" in place of the answer. Raw TCP, so the client writes its whole body before it
/// reads anything, as a phone uploading a photo does; 3 MiB past each limit, declared
/// (`Content-Length`, refused before a byte is read) and chunked (refused at the limit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_413_arrives_while_the_client_is_still_sending() {
    let srv = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.limits.photo_bytes = 64 * 1024;
        c.limits.scene_bytes = 256 * 1024;
        c.limits.feed_bytes = 256 * 1024;
    })
    .await;
    // Task 1 must exist for the verdict route to take its body.
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
    let addr = srv.base.trim_start_matches("http://").to_string();
    let over = 3 << 20;
    let multipart = "multipart/form-data; boundary=B";
    let photo_head = "--B\r\nContent-Disposition: form-data; name=\"photo\"; \
                      filename=\"big.png\"\r\nContent-Type: image/png\r\n\r\n";
    let cases = [
        ("/api/v1/tasks/1/verdict", multipart, photo_head, 64 * 1024),
        ("/api/v1/hotspots", "text/csv", "", 256 * 1024),
        ("/api/v1/sensor-alerts", "application/json", "", 64 * 1024),
        ("/api/v1/scenes", "image/tiff", "", 256 * 1024),
        ("/api/v1/tasks/1/ack", "application/json", "", 16 * 1024),
    ];
    let mut wrong = Vec::new();
    for (path, ctype, head, limit) in cases {
        for chunked in [false, true] {
            let framing = if chunked { "chunked" } else { "declared" };
            match send_raw(&addr, path, ctype, head, limit + over, chunked).await {
                Ok((413, body))
                    if body.contains("\"too_large\"") && body.contains("message_zh") => {}
                Ok((status, body)) => wrong.push(format!("{path} ({framing}): {status} {body}")),
                Err(e) => wrong.push(format!("{path} ({framing}): {e}")),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    srv.stop().await;
}

/// POSTs `head` and then filler up to `len` bytes to `path` over a plain TCP connection, the
/// whole body written before the answer is read; the status and the body of the answer, or what
/// failed (a write or the read cut by a reset).
async fn send_raw(
    addr: &str,
    path: &str,
    ctype: &str,
    head: &str,
    len: usize,
    chunked: bool,
) -> Result<(u16, String), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_string()
    } else {
        format!("Content-Length: {len}")
    };
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ADMIN}\r\n\
         Content-Type: {ctype}\r\n{framing}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(request.as_bytes())
        .await
        .map_err(|e| format!("writing the request head: {e}"))?;
    let mut body = head.as_bytes().to_vec();
    body.resize(len, b'x');
    let mut sent = 0;
    for piece in body.chunks(64 * 1024) {
        let write = async {
            if chunked {
                s.write_all(format!("{:x}\r\n", piece.len()).as_bytes())
                    .await?;
            }
            s.write_all(piece).await?;
            if chunked {
                s.write_all(b"\r\n").await?;
            }
            Ok::<_, std::io::Error>(())
        };
        write
            .await
            .map_err(|e| format!("writing the body after {sent} of {len} bytes: {e}"))?;
        sent += piece.len();
    }
    if chunked {
        s.write_all(b"0\r\n\r\n")
            .await
            .map_err(|e| format!("ending the chunked body: {e}"))?;
    }
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)
        .await
        .map_err(|e| format!("reading the answer: {e}"))?;
    let answer = String::from_utf8_lossy(&answer).to_string();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status line in {answer:?}"))?;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}
