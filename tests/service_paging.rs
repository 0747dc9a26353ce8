//! Lists are pages with a cursor (issue 15, item 3): walking `next` returns every row exactly once,
//! also while rows are being inserted; the page size is capped (400 naming `limit`); a cursor of
//! another list is refused naming `cursor`; a streamed page is a valid FeatureCollection. On
//! SQLite and on PostgreSQL (`on_both_stores!`).

mod common;

use std::collections::HashSet;

use chrono::{Duration, Utc};
use common::server::*;
use common::stores::Backend;

on_both_stores!(
    walking_next_returns_every_row_once_even_while_rows_arrive,
    small_lists_are_paged_too,
);

/// `n` VIIRS rows at distinct places (a grid in county 410526, 0.01° apart: separate events), seen
/// `minutes_ago` before now.
fn rows(n: usize, first: usize, minutes_ago: i64) -> String {
    let t = Utc::now() - Duration::minutes(minutes_ago);
    let (date, hhmm) = (
        t.format("%Y-%m-%d").to_string(),
        t.format("%H%M").to_string(),
    );
    let rows: Vec<String> = (first..first + n)
        .map(|i| {
            let (lat, lon) = (
                34.0 + (i / 100) as f64 * 0.01,
                114.0 + (i % 100) as f64 * 0.01,
            );
            firms_row(lat, lon, &date, &hhmm, "N20", "n", "2.0NRT", 2.0)
        })
        .collect();
    firms_csv(&rows)
}

async fn post(srv: &TestServer, csv: String) {
    let (status, v) = srv.post("/api/v1/hotspots", ADMIN, "text/csv", csv).await;
    assert_eq!(status, 201, "{v}");
}

/// Walks a list from its first page, calling `between` after each page; returns the ids in order
/// and the number of pages.
async fn walk(
    srv: &TestServer,
    path: &str,
    token: &str,
    mut between: impl FnMut(usize) -> Option<String>,
) -> (Vec<i64>, usize) {
    let mut ids = Vec::new();
    let mut url = path.to_string();
    let mut pages = 0;
    loop {
        let (status, v) = srv.get(&url, token).await;
        assert_eq!(status, 200, "{url}: {v}");
        assert_eq!(v["type"], "FeatureCollection");
        for f in v["features"].as_array().unwrap() {
            assert_eq!(f["type"], "Feature");
            ids.push(f["properties"]["id"].as_i64().unwrap());
        }
        pages += 1;
        if let Some(csv) = between(pages) {
            post(srv, csv).await;
        }
        match v["next"].as_str() {
            Some(next) => {
                assert!(
                    v["features"].as_array().unwrap().len() > 1,
                    "a page with a next is full"
                );
                url = format!("{path}&cursor={next}");
            }
            None => {
                assert!(v.get("next").is_some(), "`next` is always present: {v}");
                return (ids, pages);
            }
        }
    }
}

fn once_each(ids: &[i64]) -> HashSet<i64> {
    let set: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(set.len(), ids.len(), "a row came twice");
    set
}

/// The ids of every row of `table` in the server's store.
fn db_ids(srv: &TestServer, table: &str) -> HashSet<i64> {
    common::dispatch::column_of(srv, &format!("SELECT id FROM {table}"))
        .into_iter()
        .collect()
}

/// 1,150 rows, then 100 while the walk goes on: more than the default page of 1,000 and several
/// pages of each list. (Each row is an event and a task: on PostgreSQL a row costs about 24 round
/// trips to the server, so 2,700 rows took 30 s there against 4.4 s on SQLite.)
async fn walking_next_returns_every_row_once_even_while_rows_arrive(b: Backend) {
    let srv = TestServer::start_on_with(
        b,
        tempfile::tempdir().unwrap(),
        |c| c.limits.feed_bytes = 4 << 20,
        std::sync::Arc::new(GridPlacer),
    )
    .await;
    post(&srv, rows(1_150, 0, 90)).await;
    let db_ids = |table: &str| db_ids(&srv, table);
    let before = db_ids("hotspots");
    assert_eq!(before.len(), 1_150);

    // Newer rows arrive while a client pages through (after its first and third page).
    let mut late = vec![rows(50, 10_000, 10), rows(50, 20_000, 5)].into_iter();
    let (ids, pages) = walk(&srv, "/api/v1/hotspots?limit=300", ADMIN, |p| {
        (p == 1 || p == 3).then(|| late.next().unwrap())
    })
    .await;
    let seen = once_each(&ids);
    assert!(
        seen.is_superset(&before),
        "a row that was there was skipped"
    );
    assert_eq!(
        seen,
        db_ids("hotspots"),
        "rows that came later, later in time"
    );
    assert_eq!(pages, 1_250usize.div_ceil(300));

    // Events (first seen first) and tasks (newest first): the same, every row once.
    let (ids, _) = walk(&srv, "/api/v1/events?limit=1000", ADMIN, |_| None).await;
    assert_eq!(once_each(&ids), db_ids("events"));
    let (ids, pages) = walk(&srv, "/api/v1/tasks?status=all&limit=999", ADMIN, |_| None).await;
    let tasks = db_ids("tasks");
    assert!(tasks.len() >= 1_250, "{}", tasks.len());
    assert_eq!(once_each(&ids), tasks);
    assert_eq!(pages, tasks.len().div_ceil(999));
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "tasks newest first");
    // A scoped walk sees its scope's rows once each (all of these lie in county 410526).
    let (ids, _) = walk(&srv, "/api/v1/hotspots?limit=5000", COUNTY_A, |_| None).await;
    assert_eq!(ids.len(), 1_250);
    let (ids, _) = walk(&srv, "/api/v1/hotspots?limit=5000", COUNTY_B, |_| None).await;
    assert!(ids.is_empty());

    // The default page is 1,000; more than 5,000 is refused, naming `limit`.
    let (_, v) = srv.get("/api/v1/hotspots", ADMIN).await;
    assert_eq!(v["features"].as_array().unwrap().len(), 1_000);
    assert!(v["next"].is_string());
    for path in [
        "/api/v1/hotspots?limit=100000",
        "/api/v1/events?limit=5001",
        "/api/v1/tasks?limit=0",
        "/api/v1/deliveries?limit=6000",
        "/api/v1/mask-candidates?limit=x",
        "/api/v1/audit?entity=task&id=1&limit=9999",
    ] {
        let (status, v) = srv.get(path, ADMIN).await;
        assert_eq!(
            (status, v["field"].as_str()),
            (400, Some("limit")),
            "{path}: {v}"
        );
    }
    // A cursor of another list, or a mangled one: 400 naming `cursor`.
    let (_, v) = srv.get("/api/v1/events?limit=1", ADMIN).await;
    let event_cursor = v["next"].as_str().unwrap().to_string();
    for path in [
        format!("/api/v1/hotspots?cursor={event_cursor}"),
        format!("/api/v1/tasks?cursor={event_cursor}"),
        "/api/v1/hotspots?cursor=not-a-cursor".to_string(),
    ] {
        let (status, v) = srv.get(&path, ADMIN).await;
        assert_eq!(
            (status, v["field"].as_str()),
            (400, Some("cursor")),
            "{path}: {v}"
        );
    }
    srv.stop().await;
}

async fn small_lists_are_paged_too(b: Backend) {
    let srv = TestServer::start_on(b).await;
    post(&srv, rows(3, 0, 30)).await;
    // Audit of a task: its entries in pages of one, every entry once.
    let (_, v) = srv.get("/api/v1/tasks?limit=1", ADMIN).await;
    let task = v["features"][0]["properties"]["id"].as_i64().unwrap();
    let (status, _) = srv
        .post(
            &format!("/api/v1/tasks/{task}/ack"),
            ADMIN,
            "application/json",
            "{}",
        )
        .await;
    assert_eq!(status, 200);
    let mut entries = Vec::new();
    let mut url = format!("/api/v1/audit?entity=task&id={task}&limit=1");
    loop {
        let (status, v) = srv.get(&url, ADMIN).await;
        assert_eq!(status, 200, "{v}");
        let page = v["entries"].as_array().unwrap();
        assert!(page.len() <= 1);
        entries.extend(page.iter().map(|e| e["id"].as_i64().unwrap()));
        match v["next"].as_str() {
            Some(n) => url = format!("/api/v1/audit?entity=task&id={task}&limit=1&cursor={n}"),
            None => break,
        }
    }
    assert!(entries.len() >= 2, "create and acknowledge: {entries:?}");
    assert!(entries.windows(2).all(|w| w[0] < w[1]));
    // Deliveries and mask candidates carry `next` as well (null: one page).
    for (path, key) in [
        ("/api/v1/deliveries?limit=10", "deliveries"),
        ("/api/v1/mask-candidates?limit=10", "candidates"),
    ] {
        let (status, v) = srv.get(path, ADMIN).await;
        assert_eq!(status, 200, "{v}");
        assert!(v[key].is_array() && v["next"].is_null(), "{path}: {v}");
    }
    srv.stop().await;
}
