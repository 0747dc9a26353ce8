//! Queuing a scene file as a job (#19): the API node that received it (inbox, `POST /scenes`)
//! puts it in the spool and adds a row to the jobs table; a worker scans it from there.
//!
//! The file goes to `<spool>/<sha256>/<name>`: by hard link when the spool is on the same file
//! system (no copy; a crash leaves at worst a link that the next queuing of the same bytes
//! finds), else copied under a temporary name and renamed into place. The job's key is the
//! content hash, so the same bytes queued by two nodes, or again after a restart, are one job;
//! bytes already stored are not queued at all.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use crate::service::{sha256_file, Cluster, Ingested, Service, ServiceError};
use crate::store::jobs::{scene_key, JobKind, JobRow, JobState};
use crate::store::IngestReport;

/// How a scene job is to be read (the payload's `op`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SceneOp {
    /// A raster scene (GeoTIFF and the others GDAL reads).
    Scene,
    /// A Landsat Collection 2 Level-1 `.tar`.
    Landsat,
    /// A Sentinel-2 product `.zip`.
    Sentinel2,
}

impl SceneOp {
    pub fn as_str(self) -> &'static str {
        match self {
            SceneOp::Scene => "scene",
            SceneOp::Landsat => "landsat",
            SceneOp::Sentinel2 => "sentinel2",
        }
    }

    pub fn parse(s: &str) -> Option<SceneOp> {
        Some(match s {
            "scene" => SceneOp::Scene,
            "landsat" => SceneOp::Landsat,
            "sentinel2" => SceneOp::Sentinel2,
            _ => return None,
        })
    }
}

/// What queuing a file did.
#[derive(Debug, Clone, PartialEq)]
pub enum Queued {
    /// Its bytes are already stored: no job (the answer is "already ingested").
    Stored { sha256: String },
    /// The job that scans it (new, or the one already under its hash).
    Job {
        id: i64,
        sha256: String,
        state: JobState,
    },
}

/// Puts `path` (known to the sender as `name`) in the spool and queues its job.
pub async fn queue_file(
    service: &Service,
    path: &Path,
    name: &str,
    op: SceneOp,
    source: &str,
) -> Result<Queued, ServiceError> {
    let cluster = service
        .cluster()
        .cloned()
        .ok_or_else(|| ServiceError::Task("no jobs table: the store is not shared".into()))?;
    let p = path.to_path_buf();
    let sha = tokio::task::spawn_blocking(move || sha256_file(&p))
        .await
        .map_err(|e| ServiceError::Task(e.to_string()))??;
    let known = sha.clone();
    if service.store(move |s| s.knows(&known)).await? {
        return Ok(Queued::Stored { sha256: sha });
    }
    let (from, name_owned, sha_owned) = (path.to_path_buf(), name.to_string(), sha.clone());
    let spool = cluster.spool.clone();
    let target =
        tokio::task::spawn_blocking(move || place_in_spool(&from, &spool, &sha_owned, &name_owned))
            .await
            .map_err(|e| ServiceError::Task(e.to_string()))??;
    let payload = json!({
        "op": op.as_str(),
        "path": target,
        "name": name,
        "sha256": sha,
        "source": source,
    });
    let (jobs, key) = (cluster.jobs.clone(), scene_key(&sha));
    let (id, state) = service
        .store(move |_| jobs.enqueue(JobKind::Scene, &key, &payload))
        .await?;
    tracing::info!("queued {name} as scene job {id} ({state:?})");
    Ok(Queued::Job {
        id,
        sha256: sha,
        state,
    })
}

/// Links (or copies) `from` to `<spool>/<sha>/<name>`; returns that path.
fn place_in_spool(
    from: &Path,
    spool: &Path,
    sha: &str,
    name: &str,
) -> Result<PathBuf, ServiceError> {
    let dir = spool.join(sha);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ServiceError::Io { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let target = dir.join(name);
    if target.exists() {
        return Ok(target);
    }
    // A symlinked inbox file: link its target, not the link.
    let real = std::fs::canonicalize(from).map_err(io(from))?;
    match std::fs::hard_link(&real, &target) {
        Ok(()) => Ok(target),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(target),
        Err(_) => {
            // Another file system (or one without hard links): copy, then rename into place.
            let part = dir.join(format!(".{name}.{}.part", std::process::id()));
            std::fs::copy(&real, &part).map_err(io(&part))?;
            std::fs::rename(&part, &target).map_err(io(&target))?;
            Ok(target)
        }
    }
}

/// A job as it is now.
pub async fn job(service: &Service, id: i64) -> Result<Option<JobRow>, ServiceError> {
    let jobs = cluster(service)?.jobs;
    service.store(move |_| jobs.job(id)).await
}

fn cluster(service: &Service) -> Result<Cluster, ServiceError> {
    service
        .cluster()
        .cloned()
        .ok_or_else(|| ServiceError::Task("no jobs table: the store is not shared".into()))
}

/// Waits (polling every `every`) up to `timeout` for job `id` to be settled; the job as it is
/// then.
pub async fn wait_settled(
    service: &Service,
    id: i64,
    timeout: Duration,
    every: Duration,
) -> Result<Option<JobRow>, ServiceError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let row = job(service, id).await?;
        let settled = row.as_ref().is_none_or(|r| r.state.settled());
        if settled || tokio::time::Instant::now() >= deadline {
            return Ok(row);
        }
        tokio::time::sleep(every).await;
    }
}

/// What a settled scene job did, as the inbox and `POST /scenes` report it: the worker's
/// [`Ingested`] (its warnings as notes), or the failure.
pub fn outcome(row: &JobRow) -> Option<Result<Ingested, ServiceError>> {
    let name = row
        .payload
        .get("name")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    match row.state {
        JobState::Done => {
            let r = row.result.clone().unwrap_or_default();
            let report: IngestReport = r
                .get("report")
                .cloned()
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            let texts = |k: &str| -> Vec<String> {
                r.get(k)
                    .and_then(|v| v.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let mut notes = texts("notes");
            notes.extend(texts("warnings"));
            Some(Ok(Ingested {
                sha256: r.get("sha256").and_then(|v| v.as_str()).map(str::to_string),
                report,
                warnings: Vec::new(),
                notes,
            }))
        }
        JobState::Failed => Some(Err(ServiceError::JobFailed {
            name,
            message: row.error.clone().unwrap_or_else(|| "failed".into()),
        })),
        JobState::Queued | JobState::Running => None,
    }
}
