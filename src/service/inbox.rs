//! The inbox: a folder polled for scene and feed files. A file is taken once its size and
//! modification time have not changed for `settle_s` (so a half-copied file is not scanned),
//! ingested, then moved to `done/`, or to `failed/` with `<name>.reason` beside it. Files are
//! handled one at a time per inbox: scans are bounded by the service's scan slots anyway, and
//! order of arrival is kept. Polling (not inotify) works the same on network shares.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use super::{FileKind, Service};

/// A file seen in the inbox and how it looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    len: u64,
    modified: Option<SystemTime>,
    since: std::time::Instant,
}

/// Watches `dir` until `shutdown` turns true; the file in hand is finished first.
pub async fn watch_inbox(
    service: Service,
    dir: PathBuf,
    poll: Duration,
    settle: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    for sub in ["done", "failed"] {
        if let Err(e) = tokio::fs::create_dir_all(dir.join(sub)).await {
            tracing::error!("inbox {}: cannot create {sub}/: {e}", dir.display());
            service.metrics().error("inbox");
        }
    }
    let mut seen: HashMap<PathBuf, Seen> = HashMap::new();
    loop {
        if *shutdown.borrow() {
            return;
        }
        let ready = match list(&dir).await {
            Ok(files) => ready_files(&mut seen, files, settle),
            Err(e) => {
                tracing::error!("inbox {}: cannot list: {e}", dir.display());
                service.metrics().error("inbox");
                Vec::new()
            }
        };
        for path in ready {
            if *shutdown.borrow() {
                return;
            }
            seen.remove(&path);
            handle(&service, &dir, &path).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = shutdown.changed() => {}
        }
    }
}

async fn list(dir: &Path) -> std::io::Result<Vec<(PathBuf, u64, Option<SystemTime>)>> {
    let mut out = Vec::new();
    let mut rd = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = rd.next_entry().await? {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.ends_with(".part") || FileKind::of(&path).is_none() {
            continue;
        }
        let meta = entry.metadata().await?;
        if meta.is_file() {
            out.push((path, meta.len(), meta.modified().ok()));
        }
    }
    out.sort();
    Ok(out)
}

/// Files unchanged for `settle`, in name order; updates `seen`.
fn ready_files(
    seen: &mut HashMap<PathBuf, Seen>,
    files: Vec<(PathBuf, u64, Option<SystemTime>)>,
    settle: Duration,
) -> Vec<PathBuf> {
    let now = std::time::Instant::now();
    let present: std::collections::HashSet<PathBuf> = files.iter().map(|f| f.0.clone()).collect();
    seen.retain(|p, _| present.contains(p));
    let mut ready = Vec::new();
    for (path, len, modified) in files {
        let Some(s) = seen.get_mut(&path) else {
            seen.insert(
                path,
                Seen {
                    len,
                    modified,
                    since: now,
                },
            );
            continue;
        };
        if s.len != len || s.modified != modified {
            *s = Seen {
                len,
                modified,
                since: now,
            };
        } else if now.duration_since(s.since) >= settle {
            ready.push(path);
        }
    }
    ready
}

async fn handle(service: &Service, dir: &Path, path: &Path) {
    let name = path.file_name().unwrap_or_default().to_owned();
    match service.ingest_path(path, "inbox").await {
        Ok(done) => {
            tracing::info!(
                "inbox: {} ingested: {} new hotspots, {} duplicates{}",
                path.display(),
                done.report.hotspots_new,
                done.report.hotspots_duplicate,
                if done.report.already_ingested {
                    " (already ingested)"
                } else {
                    ""
                }
            );
            let mut target = dir.join("done").join(&name);
            if !done.warnings.is_empty() {
                let text: Vec<String> = done.warnings.iter().map(|w| w.to_string()).collect();
                let reason = dir
                    .join("done")
                    .join(format!("{}.warnings", name.to_string_lossy()));
                let _ = tokio::fs::write(reason, text.join("\n") + "\n").await;
            }
            if let Err(e) = move_file(path, &mut target).await {
                tracing::error!("inbox: cannot move {} to done/: {e}", path.display());
                service.metrics().error("inbox");
            }
        }
        Err(e) => {
            tracing::warn!("inbox: {} failed: {e}", path.display());
            service.metrics().error("inbox_failed");
            let mut target = dir.join("failed").join(&name);
            match move_file(path, &mut target).await {
                Ok(()) => {
                    let reason = chain(&e);
                    let reason_path = target.with_file_name(format!(
                        "{}.reason",
                        target.file_name().unwrap_or_default().to_string_lossy()
                    ));
                    let _ = tokio::fs::write(reason_path, reason + "\n").await;
                }
                Err(e) => {
                    tracing::error!("inbox: cannot move {} to failed/: {e}", path.display());
                    service.metrics().error("inbox");
                }
            }
        }
    }
}

/// An error and its causes, one line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// Moves without overwriting: a second file of the same name gets a `.1`, `.2`, ... suffix.
async fn move_file(from: &Path, to: &mut PathBuf) -> std::io::Result<()> {
    let base = to.clone();
    let mut i = 1;
    while tokio::fs::try_exists(&*to).await.unwrap_or(false) {
        *to = base.with_file_name(format!(
            "{}.{i}",
            base.file_name().unwrap_or_default().to_string_lossy()
        ));
        i += 1;
    }
    tokio::fs::rename(from, &*to).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_ready_only_after_it_stops_changing() {
        let mut seen = HashMap::new();
        let f = |len| vec![(PathBuf::from("a.tif"), len, None)];
        assert!(ready_files(&mut seen, f(10), Duration::ZERO).is_empty());
        assert_eq!(ready_files(&mut seen, f(10), Duration::ZERO).len(), 1);
        // Grew since: the clock restarts.
        assert!(ready_files(&mut seen, f(20), Duration::ZERO).is_empty());
        assert!(ready_files(&mut seen, f(20), Duration::from_secs(3600)).is_empty());
        // Gone: forgotten.
        ready_files(&mut seen, vec![], Duration::ZERO);
        assert!(seen.is_empty());
    }
}
