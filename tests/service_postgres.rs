//! `strawfire serve` on the PostgreSQL store (#19), end to end: a real server on port 0 with
//! `[store] url` pointing at the test cluster (`STRAWFIRE_TEST_PG_URL`, made by scripts/pg.sh;
//! this test has a schema of its own there), a real HTTP client. Skipped without the variable,
//! failed without it under `CI=true`.

mod common;

use common::server::*;

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
