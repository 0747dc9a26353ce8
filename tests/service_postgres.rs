//! `strawfire serve` on the PostgreSQL store (#19), end to end: a real server on port 0 with
//! `[store] url` pointing at the test cluster (`STRAWFIRE_TEST_PG_URL`, made by scripts/pg.sh;
//! each test has a schema of its own there), a real HTTP client. Skipped without the variable,
//! failed without it under `CI=true`.

mod common;

use std::sync::Arc;

use chrono::Duration;
use common::dispatch::{act, hotspot, on_site, photo_png, report, t0, task_id_near};
use common::server::*;
use strawfire::dispatch::ManualClock;

/// The test cluster's URL with `search_path` set to a fresh schema, or `None` (skip).
fn pg_url(test: &str) -> Option<(String, String)> {
    let url = match std::env::var("STRAWFIRE_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "{test}: STRAWFIRE_TEST_PG_URL is not set and CI=true (scripts/test.sh starts \
                 a PostgreSQL with scripts/pg.sh)"
            );
            eprintln!("{test}: skipped (STRAWFIRE_TEST_PG_URL not set)");
            return None;
        }
    };
    let schema = format!("svc{}_{}", std::process::id(), test.len());
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
    ))
    .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{sep}options=-c%20search_path%3D{schema}%2Cpublic");
    Some((scoped, schema))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_postgres_ingests_with_tasks_and_lists_them() {
    // The synchronous client must not run on the test's async threads.
    let made = std::thread::spawn(|| pg_url("serve_on_postgres_ingests_with_tasks_and_lists_them"));
    let Some((url, schema)) = made.join().unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(dir, |c| c.store.url = Some(url.clone())).await;

    let csv = recent_firms_csv(
        &[
            (35.20, 114.30, 0, "h"),
            (35.80, 114.90, 1, "n"),
            (35.20, 117.10, 0, "h"),
        ],
        9.5,
    );
    let (status, v) = srv
        .post("/api/v1/hotspots", ADMIN, "text/csv", csv.clone())
        .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["report"]["hotspots_new"], 3, "{v}");
    assert_eq!(v["report"]["events_new"], 3, "{v}");
    // The same bytes again: nothing new.
    let (status, v) = srv.post("/api/v1/hotspots", ADMIN, "text/csv", csv).await;
    assert!(status == 200 || status == 201, "{status} {v}");
    assert_eq!(v["report"]["hotspots_new"], 0, "{v}");

    let hotspots = srv.features("/api/v1/hotspots", ADMIN).await;
    assert_eq!(hotspots.len(), 3);
    let county_b = srv.features("/api/v1/hotspots", COUNTY_B).await;
    assert_eq!(county_b.len(), 1, "a county token sees its county only");
    let events = srv.features("/api/v1/events", ADMIN).await;
    assert_eq!(events.len(), 3);
    let tasks = srv.features("/api/v1/tasks", ADMIN).await;
    assert_eq!(
        tasks.len(),
        3,
        "one task per event, made in the ingest transaction"
    );
    let tasks_a = srv.features("/api/v1/tasks", COUNTY_A).await;
    assert_eq!(tasks_a.len(), 2);

    // Nothing went to a SQLite file.
    assert!(!srv.dir.path().join(strawfire::service::STORE_FILE).exists());
    srv.stop().await;

    // The rows are in PostgreSQL, in this test's schema.
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(
            &std::env::var("STRAWFIRE_TEST_PG_URL").unwrap(),
            postgres::NoTls,
        )
        .unwrap();
        let n: i64 = c
            .query_one(&format!("SELECT COUNT(*) FROM {schema}.tasks"), &[])
            .unwrap()
            .get(0);
        assert_eq!(n, 3);
        let outbox: i64 = c
            .query_one(&format!("SELECT COUNT(*) FROM {schema}.outbox"), &[])
            .unwrap()
            .get(0);
        assert_eq!(
            outbox, 3,
            "a task_new notice per task, in the same transactions"
        );
        c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .unwrap();
    })
    .join()
    .unwrap();
}

/// A query's first value (a count) in a test's schema, on a thread of its own (the synchronous
/// client must not run on the test's async threads).
fn pg_count(schema: &str, sql: &str) -> i64 {
    let sql = sql.replace("{schema}", schema);
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(
            &std::env::var("STRAWFIRE_TEST_PG_URL").unwrap(),
            postgres::NoTls,
        )
        .unwrap();
        c.query_one(&sql, &[]).unwrap().get(0)
    })
    .join()
    .unwrap()
}

/// POST a JSON body with an idempotency key as the township's patrol: (status, body, replayed).
async fn post_keyed(
    srv: &TestServer,
    path: &str,
    key: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value, bool) {
    let r = srv
        .client
        .post(srv.url(path))
        .bearer_auth(PATROL_A1)
        .header("content-type", "application/json")
        .header("Idempotency-Key", key)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let replayed = r.headers().get("idempotent-replayed").is_some();
    let v = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or_default();
    (status, v, replayed)
}

/// Two API nodes on one PostgreSQL (#19 item 4): a task ingested on one is acted on through the
/// other; an idempotency key claimed on one is replayed on the other; the escalation sweeps
/// (claimed by either node) escalate each deadline once; a verdict on one is seen on the
/// other, with its mask candidate, decided there; the site confirmed there masks on both nodes
/// from their next batch (no restart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_api_nodes_on_postgres_share_tasks_keys_and_sweeps() {
    let made =
        std::thread::spawn(|| pg_url("two_api_nodes_on_postgres_share_tasks_keys_and_sweeps"));
    let Some((url, schema)) = made.join().unwrap() else {
        return;
    };
    let clock = ManualClock::new(t0());
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let url = url.clone();
        let node = TestServer::start_clocked(
            tempfile::tempdir().unwrap(),
            move |c| {
                c.store.url = Some(url);
                c.dispatch.escalation_interval_s = 0.02;
            },
            Arc::new(GridPlacer),
            Arc::new(clock.clone()),
        )
        .await;
        nodes.push(node);
    }
    let (a, b) = (&nodes[0], &nodes[1]);

    hotspot(a, 35.60, 114.30, t0() - Duration::minutes(10)).await;
    let id = task_id_near(b, 35.60, 114.30).await;

    // Acknowledged through node a; the phone's retry reaches node b and is answered the first
    // answer, without a second change.
    let ack = format!("/api/v1/tasks/{id}/ack");
    let (s1, v1, r1) = post_keyed(a, &ack, "k-ack", serde_json::json!({})).await;
    assert_eq!((s1, r1), (200, false), "{v1}");
    let (s2, v2, r2) = post_keyed(b, &ack, "k-ack", serde_json::json!({})).await;
    assert_eq!((s2, r2), (200, true), "{v2}");
    assert_eq!(v1, v2);
    let acks = "SELECT COUNT(*) FROM {schema}.audit WHERE action = 'acknowledge'";
    assert_eq!(pg_count(&schema, acks), 1);
    assert_eq!(act(b, id, "ack", PATROL_A1).await.0, 409);

    // Past the on-site deadline (20 min, high priority): the sweep (a job either node's worker
    // claims, every 20 ms) escalates it.
    clock.advance(Duration::minutes(21));
    let path = format!("/api/v1/tasks/{id}");
    eventually(
        std::time::Duration::from_secs(10),
        "the on-site escalation",
        || async {
            let (_, t) = a.get(&path, ADMIN).await;
            (t["properties"]["escalations"] == serde_json::json!(["on_site"])).then_some(())
        },
    )
    .await;
    // Many more sweeps over the same clock.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let escalations = "SELECT COUNT(*) FROM {schema}.outbox WHERE kind = 'escalation'";
    assert_eq!(pg_count(&schema, escalations), 1);
    let escalate = "SELECT COUNT(*) FROM {schema}.audit WHERE action = 'escalate'";
    assert_eq!(pg_count(&schema, escalate), 1);

    // On site and a "no fire: industrial" verdict through node b, seen on node a.
    let (status, v) = on_site(b, id, PATROL_A1, 35.6001, 114.3001).await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = report(
        b,
        id,
        PATROL_A1,
        "no_fire_industrial",
        35.6001,
        114.3001,
        photo_png(7),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let cand = v["mask_candidate"].as_i64().expect("a candidate");
    let (_, t) = a.get(&path, ADMIN).await;
    assert_eq!(t["properties"]["state"], "verified", "{t}");
    let (status, list) = a.get("/api/v1/mask-candidates?status=pending", ADMIN).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["candidates"][0]["id"].as_i64(), Some(cand), "{list}");
    let confirm = format!("/api/v1/mask-candidates/{cand}/confirm");
    let (status, c) = a.post(&confirm, ADMIN, "application/json", "{}").await;
    assert_eq!(
        (status, c["status"].as_str()),
        (200, Some("confirmed")),
        "{c}"
    );
    let (status, c) = b.post(&confirm, ADMIN, "application/json", "{}").await;
    assert_eq!(status, 409, "decided once, whichever node is asked: {c}");
    // The site confirmed on node a masks on node b at once (no restart): 13 h later (a new
    // event) the chimney is seen again and posted to node b: masked, no task.
    clock.advance(Duration::hours(13));
    hotspot(b, 35.6005, 114.30, t0() + Duration::hours(13)).await;
    let events = b.features("/api/v1/events?limit=10", ADMIN).await;
    assert_eq!(events.len(), 2, "{events:?}");
    let newest = events
        .iter()
        .max_by_key(|e| e["properties"]["id"].as_i64())
        .unwrap();
    let mask = newest["properties"]["mask"].as_str().unwrap_or_default();
    assert!(
        mask.starts_with(&format!("confirmed false alarm: candidate {cand}")),
        "the site confirmed on node a does not mask on node b: {newest}"
    );
    assert_eq!(b.features("/api/v1/tasks", ADMIN).await.len(), 1);
    // And on node a, where it was confirmed.
    clock.advance(Duration::hours(13));
    hotspot(a, 35.5995, 114.30, t0() + Duration::hours(26)).await;
    let events = a.features("/api/v1/events?limit=10", ADMIN).await;
    assert_eq!(events.len(), 3, "{events:?}");
    let masked = events
        .iter()
        .filter(|e| e["properties"]["mask"].is_string())
        .count();
    assert_eq!(masked, 2, "{events:?}");
    assert_eq!(a.features("/api/v1/tasks", ADMIN).await.len(), 1);
    let (status, p) = b.get("/api/v1/precision", ADMIN).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["sources"][0]["false_alarms"], 1, "{p}");

    for node in nodes {
        node.stop().await;
    }
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(
            &std::env::var("STRAWFIRE_TEST_PG_URL").unwrap(),
            postgres::NoTls,
        )
        .unwrap();
        c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .unwrap();
    })
    .join()
    .unwrap();
}
