//! The inbox takes only complete files (issue 15, item 5), on a real server with a real
//! SQLite store: a writer that pauses longer than `settle_s` under a `.part` name and then
//! renames gets its file ingested whole, once; a writer that pauses mid-row in place is held
//! until the row is complete; a symlink to a file is followed, a dangling one refused with its
//! reason; what is left alone is reported in the metrics.
//!
//! The pauses below are the scenario (a writer that stops for longer than the settle time),
//! not waits for a result: results are polled with a timeout.

mod common;

use std::io::Write;
use std::time::Duration;

use common::server::{eventually, firms_row, TestServer, FIRMS_HEADER};
use common::stores::Backend;

on_both_stores!(
    a_part_file_written_in_two_halves_is_ingested_whole_once_after_its_rename,
    a_file_written_in_place_that_pauses_mid_row_is_held_until_complete,
    the_headerless_half_of_a_split_file_fails_naming_the_convention,
    symlinks_to_files_are_followed_others_refused_and_skipped_entries_reported,
);

const T: Duration = Duration::from_secs(20);

/// Rows of one feed file, all distinct hotspots (different positions and minutes).
fn rows(n: usize, seed: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let k = seed * 1000 + i;
            firms_row(
                35.0 + k as f64 * 0.01,
                114.0 + k as f64 * 0.003,
                "2024-06-08",
                &format!("{:04}", 600 + (k % 50)),
                "N20",
                "n",
                "2.0NRT",
                1.0 + i as f64,
            )
        })
        .collect()
}

/// Hotspots in the store, from the server's own health counts.
async fn hotspot_count(s: &TestServer) -> u64 {
    let (_, h) = s.get("/api/v1/healthz", "").await;
    h["counts"]["hotspots"].as_u64().unwrap_or(0)
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The pause of a writer: several settle times and inbox polls (test config: 0.1 s, 0.05 s).
const PAUSE: Duration = Duration::from_millis(600);

async fn a_part_file_written_in_two_halves_is_ingested_whole_once_after_its_rename(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let inbox = srv.inbox();
    let rows = rows(40, 1);
    let part = inbox.join("fires.csv.part");
    let mut f = std::fs::File::create(&part).unwrap();
    // First half, cut mid-row as a network copy would leave it.
    let mut text = format!("{FIRMS_HEADER}\n");
    for r in &rows {
        text.push_str(r);
        text.push('\n');
    }
    let cut = text.len() / 2;
    f.write_all(&text.as_bytes()[..cut]).unwrap();
    f.flush().unwrap();
    tokio::time::sleep(PAUSE).await;
    // The writer paused for many settle times: the .part file was not touched.
    assert!(part.exists(), "a .part file must never be taken");
    assert!(files_in(&inbox.join("done")).is_empty());
    assert!(files_in(&inbox.join("failed")).is_empty());
    assert_eq!(hotspot_count(&srv).await, 0);
    f.write_all(&text.as_bytes()[cut..]).unwrap();
    f.sync_all().unwrap();
    drop(f);
    std::fs::rename(&part, inbox.join("fires.csv")).unwrap();

    eventually(T, "fires.csv in done/", || async {
        inbox.join("done").join("fires.csv").exists().then_some(())
    })
    .await;
    assert_eq!(hotspot_count(&srv).await, 40);
    assert_eq!(files_in(&inbox.join("done")), ["fires.csv"], "no warnings");
    assert!(files_in(&inbox.join("failed")).is_empty());
    assert_eq!(
        std::fs::read_to_string(inbox.join("done").join("fires.csv")).unwrap(),
        text
    );
    let m = srv.metrics().await;
    assert!(
        m.contains("strawfire_ingested_total{source=\"inbox\",kind=\"hotspot\"} 40"),
        "{m}"
    );
    assert!(
        m.contains("strawfire_ingested_total{source=\"inbox\",kind=\"feed\"} 1"),
        "{m}"
    );
    srv.stop().await;
}

async fn a_file_written_in_place_that_pauses_mid_row_is_held_until_complete(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let inbox = srv.inbox();
    let rows = rows(30, 2);
    let mut text = format!("{FIRMS_HEADER}\n");
    for r in &rows {
        text.push_str(r);
        text.push('\n');
    }
    // Cut inside a row (not at a line end), as a pausing writer leaves it.
    let cut = text[..text.len() / 2].rfind('\n').unwrap() + 10;
    let path = inbox.join("inplace.csv");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(&text.as_bytes()[..cut]).unwrap();
    f.flush().unwrap();
    tokio::time::sleep(PAUSE).await;
    assert!(path.exists(), "a file cut off mid-row is held");
    assert_eq!(hotspot_count(&srv).await, 0);
    f.write_all(&text.as_bytes()[cut..]).unwrap();
    drop(f);
    eventually(T, "inplace.csv in done/", || async {
        inbox
            .join("done")
            .join("inplace.csv")
            .exists()
            .then_some(())
    })
    .await;
    assert_eq!(hotspot_count(&srv).await, 30);
    assert_eq!(files_in(&inbox.join("done")), ["inplace.csv"]);
    assert!(files_in(&inbox.join("failed")).is_empty());
    let m = srv.metrics().await;
    assert!(
        m.contains("strawfire_inbox_skipped_total{reason=\"incomplete\"} 1"),
        "{m}"
    );
    srv.stop().await;
}

async fn the_headerless_half_of_a_split_file_fails_naming_the_convention(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let inbox = srv.inbox();
    let staged = srv.dir.path().join("second-half.csv");
    std::fs::write(&staged, rows(3, 3).join("\n") + "\n").unwrap();
    std::fs::rename(&staged, inbox.join("second-half.csv")).unwrap();
    let reason_path = inbox.join("failed").join("second-half.csv.reason");
    let reason = eventually(T, "the reason", || async {
        std::fs::read_to_string(&reason_path).ok()
    })
    .await;
    assert!(reason.contains("no `latitude` column"), "{reason}");
    assert!(reason.contains("NAME.part"), "{reason}");
    assert_eq!(hotspot_count(&srv).await, 0);
    srv.stop().await;
}

async fn symlinks_to_files_are_followed_others_refused_and_skipped_entries_reported(b: Backend) {
    let srv = TestServer::start_on(b).await;
    let inbox = srv.inbox();
    // A file kept elsewhere, linked in by an operator.
    let target = srv.dir.path().join("kept.csv");
    let text = format!("{FIRMS_HEADER}\n{}\n", rows(5, 4).join("\n"));
    std::fs::write(&target, &text).unwrap();
    std::os::unix::fs::symlink(&target, inbox.join("linked.csv")).unwrap();
    // A link to nothing, a link to a folder, a document of another type, a folder.
    std::os::unix::fs::symlink(srv.dir.path().join("ghost.csv"), inbox.join("ghost.csv")).unwrap();
    std::os::unix::fs::symlink(srv.dir.path(), inbox.join("dir.csv")).unwrap();
    std::fs::write(inbox.join("notes.docx"), "minutes").unwrap();
    std::fs::create_dir(inbox.join("2024-06")).unwrap();

    eventually(T, "linked.csv in done/", || async {
        inbox.join("done").join("linked.csv").exists().then_some(())
    })
    .await;
    assert_eq!(hotspot_count(&srv).await, 5);
    // The link moved; the operator's file stayed where it was, unchanged.
    assert!(
        std::fs::symlink_metadata(inbox.join("done").join("linked.csv"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), text);

    let ghost = eventually(T, "ghost.csv refused", || async {
        std::fs::read_to_string(inbox.join("failed").join("ghost.csv.reason")).ok()
    })
    .await;
    assert!(
        ghost.contains("a symlink to") && ghost.contains("does not exist"),
        "{ghost}"
    );
    let dir = eventually(T, "dir.csv refused", || async {
        std::fs::read_to_string(inbox.join("failed").join("dir.csv.reason")).ok()
    })
    .await;
    assert!(dir.contains("which is a folder"), "{dir}");
    // The link to the folder was moved, the folder itself not touched.
    assert!(srv.dir.path().join("data").is_dir());

    // Left alone, reported once each however many polls pass.
    let m = eventually(T, "skipped entries counted", || async {
        let m = srv.metrics().await;
        m.contains("strawfire_inbox_skipped_total{reason=\"not_a_regular_file\"} 2")
            .then_some(m)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let m2 = srv.metrics().await;
    for line in [
        "strawfire_inbox_skipped_total{reason=\"unknown_type\"} 1",
        "strawfire_inbox_skipped_total{reason=\"folder\"} 1",
    ] {
        assert!(m.contains(line) && m2.contains(line), "{line}\n{m2}");
    }
    assert!(inbox.join("notes.docx").exists());
    assert!(inbox.join("2024-06").is_dir());
    srv.stop().await;
}
