//! Feed polling against a fake feed server on loopback: the FIRMS area API form and a plain URL;
//! a failing source does not stop the others and is retried. On SQLite (the server's own
//! pollers) and on PostgreSQL (feed jobs claimed by the worker beside the API): `on_both_stores!`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Path;
use axum::routing::get;
use common::server::*;
use common::stores::Backend;
use strawfire::config::{FirmsArea, SourceConfig};

on_both_stores!(a_failing_source_does_not_stop_the_others_and_is_retried);

async fn a_failing_source_does_not_stop_the_others_and_is_retried(b: Backend) {
    let area_calls = Arc::new(AtomicUsize::new(0));
    let flaky_calls = Arc::new(AtomicUsize::new(0));
    let (a, f) = (area_calls.clone(), flaky_calls.clone());
    let fake = axum::Router::new()
        .route(
            "/api/area/csv/{key}/{source}/{bbox}/{days}",
            get(
                move |Path((key, source, bbox, days)): Path<(String, String, String, u32)>| {
                    let a = a.clone();
                    async move {
                        a.fetch_add(1, Ordering::SeqCst);
                        assert_eq!(
                            (key.as_str(), source.as_str()),
                            ("K123", "VIIRS_NOAA20_NRT")
                        );
                        assert_eq!(bbox, "114,34.5,115,35.5");
                        assert!(days == 1 || days == 2);
                        firms_csv(&[firms_row(
                            34.9,
                            114.4,
                            "2024-06-08",
                            "1806",
                            "N20",
                            "n",
                            "2.0NRT",
                            2.0,
                        )])
                    }
                },
            ),
        )
        .route(
            "/flaky.csv",
            get(move || {
                let f = f.clone();
                async move {
                    // Fails twice, then serves; the same row as the area API (an overlap).
                    if f.fetch_add(1, Ordering::SeqCst) < 2 {
                        Err(axum::http::StatusCode::BAD_GATEWAY)
                    } else {
                        Ok(firms_csv(&[
                            firms_row(34.9, 114.4, "2024-06-08", "1806", "N20", "n", "2.0URT", 2.0),
                            firms_row(
                                34.95,
                                114.45,
                                "2024-06-08",
                                "1806",
                                "N20",
                                "h",
                                "2.0URT",
                                5.0,
                            ),
                        ]))
                    }
                }
            }),
        );
    let fake_base = serve_fake(fake).await;

    let dir = tempfile::tempdir().unwrap();
    let fb = fake_base.clone();
    let srv = TestServer::start_on_with(
        b,
        dir,
        move |c| {
            c.sources = vec![
                SourceConfig {
                    name: "dead".into(),
                    url: Some("http://127.0.0.1:9/nothing.csv".into()),
                    firms: None,
                    interval_s: 1.0,
                    backoff_s: 0.05,
                },
                SourceConfig {
                    name: "flaky".into(),
                    url: Some(format!("{fb}/flaky.csv")),
                    firms: None,
                    // Long interval: only the backoff retries can bring it in within the test.
                    interval_s: 3600.0,
                    backoff_s: 0.05,
                },
                SourceConfig {
                    name: "area".into(),
                    url: None,
                    firms: Some(FirmsArea {
                        base_url: fb.clone(),
                        key: "K123".into(),
                        source: "VIIRS_NOAA20_NRT".into(),
                        bbox: [114.0, 34.5, 115.0, 35.5],
                        days: 1,
                    }),
                    interval_s: 3600.0,
                    backoff_s: 0.05,
                },
            ];
        },
        Arc::new(GridPlacer),
    )
    .await;
    eventually(
        Duration::from_secs(30),
        "hotspots of the area and flaky sources",
        || async {
            (srv.features("/api/v1/hotspots?source=feed", ADMIN)
                .await
                .len()
                == 2)
                .then_some(())
        },
    )
    .await;
    assert_eq!(area_calls.load(Ordering::SeqCst), 1);
    assert!(
        flaky_calls.load(Ordering::SeqCst) >= 3,
        "retried after failures"
    );
    let metrics = srv.metrics().await;
    assert!(
        metrics.contains("strawfire_ingested_total{source=\"poll\",kind=\"hotspot\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("strawfire_ingested_total{source=\"poll\",kind=\"duplicate\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("strawfire_errors_total{kind=\"feed_poll\"}"),
        "{metrics}"
    );
    srv.stop().await;
}
