//! The forwarded HTML report opens offline in a real browser and shows its map: a report made by
//! `strawfire rank --format html` from a store of the sample scenes, opened from a `file://`
//! URL in headless Chromium (no server, no network), draws every county path and hotspot circle
//! of its inline SVG at a visible size, and fetches nothing.

mod common;

use common::browser::Browser;
use common::sample_report;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_opens_from_a_file_and_draws_its_map() {
    let dir = tempfile::tempdir().unwrap();
    let (_, html) = sample_report(dir.path(), "2024-06-09");

    let b = Browser::start(1000, 1400).await;
    b.client
        .goto(&format!("file://{}", html.display()))
        .await
        .unwrap();
    b.wait_js("the report", "return document.readyState === 'complete'")
        .await;
    // Drawn, not just present: the map and each of its shapes have a rendered size.
    let drawn = b
        .js(
            "const svg = document.querySelector('svg');
             const r = svg.getBoundingClientRect();
             const sized = s => [...svg.querySelectorAll(s)]
                 .filter(e => { const b = e.getBoundingClientRect(); return b.width > 0 && b.height > 0; })
                 .length;
             return { w: r.width, h: r.height, units: sized('path.unit'),
                      hotspots: sized('circle'), rows: document.querySelectorAll('table.ranking tbody tr').length,
                      labels: document.querySelectorAll('svg text.label').length,
                      fetched: performance.getEntriesByType('resource').length };",
            vec![],
        )
        .await;
    b.screenshot("report-2024-06-09").await;
    b.close().await;
    assert!(drawn["w"].as_f64().unwrap() >= 300.0, "{drawn}");
    assert!(drawn["h"].as_f64().unwrap() >= 300.0, "{drawn}");
    // The five counties of the sample layer, the day's hotspots, a table row per county.
    assert_eq!(drawn["units"], 5, "{drawn}");
    assert!(drawn["hotspots"].as_u64().unwrap() >= 1, "{drawn}");
    assert_eq!(drawn["rows"], 5, "{drawn}");
    // Every county named on the map (five fit without colliding).
    assert_eq!(drawn["labels"], 5, "{drawn}");
    // Nothing fetched: it works forwarded, offline.
    assert_eq!(drawn["fetched"], 0, "{drawn}");
}
