//! `strawfire serve` as a child process: `kill -9` while many files are being ingested loses no
//! acknowledged item and stores none twice; SIGTERM shuts down cleanly.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::server::{firms_csv, firms_row, ADMIN};

/// Starts `strawfire serve` on port 0 and returns it with its base URL.
fn serve(data: &Path) -> (Child, String) {
    let mut child = Command::new(common::bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-samples",
            "--data-dir",
        ])
        .arg(data)
        .env("STRAWFIRE_ADMIN_TOKEN", ADMIN)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("strawfire: listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    (child, base)
}

/// File `i`: five hotspots of its own plus the first hotspot of file `i - 1` (an overlapping
/// poll), all at distinct places and times.
fn file(i: usize) -> (String, Vec<(String, String)>) {
    let row = |i: usize, j: usize| {
        let lat = 34.0 + (i * 5 + j) as f64 * 0.001;
        let hhmm = format!("{:02}{:02}", (i / 60) % 24, i % 60);
        (
            firms_row(lat, 114.0, "2024-06-08", &hhmm, "N20", "n", "2.0NRT", 1.0),
            format!("{lat:.5}|{hhmm}"),
        )
    };
    let mut rows: Vec<(String, String)> = (0..5).map(|j| row(i, j)).collect();
    if i > 0 {
        rows.push(row(i - 1, 0));
    }
    let csv = firms_csv(&rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>());
    (csv, rows)
}

async fn all_keys(client: &reqwest::Client, base: &str) -> Vec<String> {
    // Every page, following `next`.
    let mut keys = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = client
            .get(format!("{base}/api/v1/hotspots?limit=5000{cursor}"))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        keys.extend(v["features"].as_array().unwrap().iter().map(|f| {
            let p = &f["properties"];
            format!(
                "{:.5}|{}",
                p["latitude"].as_f64().unwrap(),
                p["acq_time"].as_str().unwrap()
            )
        }));
        match v["next"].as_str() {
            Some(n) => cursor = format!("&cursor={n}"),
            None => return keys,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_ingesting_loses_no_acknowledged_item_and_stores_none_twice() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut child, base) = serve(&data);
    let client = reqwest::Client::new();
    const FILES: usize = 250;
    const KILL_AFTER: usize = 40;

    let acked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (client, base, acked, count, next) = (
            client.clone(),
            base.clone(),
            acked.clone(),
            count.clone(),
            next.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= FILES {
                    return;
                }
                let (csv, _) = file(i);
                let r = client
                    .post(format!("{base}/api/v1/hotspots"))
                    .bearer_auth(ADMIN)
                    .header("content-type", "text/csv")
                    .body(csv)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        acked.lock().unwrap().push(i);
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(r) => panic!("file {i}: HTTP {}", r.status()),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    // Kill while requests are in flight.
    while count.load(Ordering::SeqCst) < KILL_AFTER {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for w in workers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= KILL_AFTER && acked.len() < FILES,
        "{} acknowledged",
        acked.len()
    );

    // Restart on the same data: every acknowledged row is there, none twice.
    let (mut child, base) = serve(&data);
    let keys = all_keys(&client, &base).await;
    let unique: HashSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "a hotspot stored twice");
    for &i in &acked {
        for (_, key) in file(i).1 {
            assert!(
                unique.contains(&key),
                "file {i}: acknowledged hotspot {key} lost"
            );
        }
    }
    // Sending everything again (a client retrying what it does not know was stored): the
    // store ends with each hotspot exactly once.
    for i in 0..FILES {
        let r = client
            .post(format!("{base}/api/v1/hotspots"))
            .bearer_auth(ADMIN)
            .header("content-type", "text/csv")
            .body(file(i).0)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "file {i}: {}", r.status());
    }
    let keys = all_keys(&client, &base).await;
    let unique: HashSet<&String> = keys.iter().collect();
    assert_eq!(keys.len(), FILES * 5);
    assert_eq!(unique.len(), keys.len());
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _base) = serve(&dir.path().join("data"));
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let t0 = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
