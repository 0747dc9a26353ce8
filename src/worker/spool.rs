//! Queuing a scene as a job (#19): the API node that received it (inbox, `POST /scenes`) puts
//! it in the spool and adds a row to the jobs table; a worker scans it from there.
//!
//! Every kind of product travels the same way, as one unit under `<spool>/<sha256>/`:
//! a single file (a raster scene, a Landsat `.tar`, a Sentinel-2 `.zip`) as
//! `<sha256>/<name>`; a product folder (a Landsat product unpacked, a `.SAFE` folder or a folder
//! holding one) as `<sha256>/<folder>/…`, its whole tree; the files of a multi-file granule
//! (MODIS `M?D021KM` + `M?D03`, VIIRS L1B data + geolocation, an SDR set, FY-3 L1 + `GEO1K`)
//! side by side in `<sha256>/`; an official fire product (VNP14IMG, AFIMG, MOD14) with the
//! geolocation found beside it, side by side too. Files are hard-linked when the spool is on the same file system
//! (no copy), else copied under a temporary name and renamed into place; a folder is built
//! under a temporary name and renamed into place whole, so a worker (or a second node queuing
//! the same product) never sees half of one. The job is added only once the unit is in place.
//!
//! The job's key is the hash the product is stored under (the file's; a product folder's over
//! the files its metadata names; a granule's over its files' hashes), so the same product
//! queued by two nodes, or again after a restart, is one job, and a product already stored is
//! not queued at all. The hash is computed from the metadata and the files' bytes, never by
//! reading the product's bands: the receiving node does no scanning work.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use crate::service::{sha256_file, Cluster, Ingested, Service, ServiceError};
use crate::store::jobs::{scene_key, FailureKind, JobKind, JobRow, JobState};
use crate::store::IngestReport;

/// How a scene job is to be read (the payload's `op`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SceneOp {
    /// A raster scene (GeoTIFF and the others GDAL reads).
    Scene,
    /// A Landsat Collection 2 Level-1 product: its `.tar` or its folder.
    Landsat,
    /// A Sentinel-2 product: its `.zip`, its `.SAFE` folder or a folder holding one.
    Sentinel2,
    /// The files of one multi-file granule (an L1B pair, an SDR set), scanned together.
    Granule,
    /// An official fire product (VNP14IMG, AFIMG, MOD14), with its geolocation when it came
    /// with one (`service::fire_product_files`): read and stored by a worker, like a scene.
    FireProduct,
    /// A feed URL fetched once and stored (`strawfire ingest URL` on PostgreSQL): nothing in
    /// the spool, the payload's `url` ([`queue_fetch`]).
    Fetch,
}

impl SceneOp {
    pub fn as_str(self) -> &'static str {
        match self {
            SceneOp::Scene => "scene",
            SceneOp::Landsat => "landsat",
            SceneOp::Sentinel2 => "sentinel2",
            SceneOp::Granule => "granule",
            SceneOp::FireProduct => "fire_product",
            SceneOp::Fetch => "fetch",
        }
    }

    pub fn parse(s: &str) -> Option<SceneOp> {
        Some(match s {
            "scene" => SceneOp::Scene,
            "landsat" => SceneOp::Landsat,
            "sentinel2" => SceneOp::Sentinel2,
            "granule" => SceneOp::Granule,
            "fire_product" => SceneOp::FireProduct,
            "fetch" => SceneOp::Fetch,
            _ => return None,
        })
    }
}

/// What is queued as one scene job.
#[derive(Debug, Clone, PartialEq)]
pub enum Unit {
    /// One file (a scene, a `.tar`, a `.zip`), known to the sender as `name`.
    File { path: PathBuf, name: String },
    /// A product folder, spooled whole under `name`.
    Folder { path: PathBuf, name: String },
    /// The files of one granule (or a Landsat product's loose files), spooled side by side
    /// under their own names.
    Files(Vec<PathBuf>),
}

impl Unit {
    /// The unit's files or folder as given.
    pub fn paths(&self) -> Vec<PathBuf> {
        match self {
            Unit::File { path, .. } | Unit::Folder { path, .. } => vec![path.clone()],
            Unit::Files(files) => files.clone(),
        }
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
    let unit = Unit::File {
        path: path.to_path_buf(),
        name: name.to_string(),
    };
    queue_unit(service, unit, op, source).await
}

/// Puts a whole product (one file, a folder, or the files of a granule) in the spool and queues
/// the one scene job that scans it.
pub async fn queue_unit(
    service: &Service,
    unit: Unit,
    op: SceneOp,
    source: &str,
) -> Result<Queued, ServiceError> {
    let cluster = cluster(service)?;
    let u = unit.clone();
    let (sha, name) = tokio::task::spawn_blocking(move || unit_hash(&u, op))
        .await
        .map_err(|e| ServiceError::Task(e.to_string()))??;
    let known = sha.clone();
    if service.store(move |s| s.knows(&known)).await? {
        return Ok(Queued::Stored { sha256: sha });
    }
    let (spool, sha_owned) = (cluster.spool.clone(), sha.clone());
    let placed = tokio::task::spawn_blocking(move || place_unit(&unit, &spool, &sha_owned))
        .await
        .map_err(|e| ServiceError::Task(e.to_string()))??;
    let mut payload = json!({
        "op": op.as_str(),
        "path": placed.path,
        "name": name,
        "sha256": sha,
        "source": source,
    });
    if let Some(files) = &placed.files {
        payload["files"] = json!(files);
    }
    let (jobs, key, queued) = (cluster.jobs.clone(), scene_key(&sha), payload.clone());
    let (id, state) = service
        .store(move |_| jobs.enqueue(JobKind::Scene, &key, &queued))
        .await?;
    if state == JobState::Done {
        // Its job was done between our look at the store and now (another node's, another
        // `ingest` run's): its worker has removed its unit, or will; ours would stay for ever.
        remove_unit(&payload).await;
    }
    tracing::info!("queued {name} as scene job {id} ({state:?})");
    Ok(Queued::Job {
        id,
        sha256: sha,
        state,
    })
}

/// Queues a one-shot job that fetches the feed at `url` once and stores it (`strawfire ingest
/// URL` on PostgreSQL): a worker makes the request, as it polls the configured sources. Each
/// call is a job of its own (the feed's content changes between fetches; what it repeats is
/// deduplicated by content hash and hotspot key). Returns the job's id.
pub async fn queue_fetch(service: &Service, url: &str, source: &str) -> Result<i64, ServiceError> {
    let cluster = cluster(service)?;
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let key = format!(
        "fetch:{}:{now}:{}:{n}",
        crate::service::sha256_hex(url.as_bytes()),
        std::process::id()
    );
    let payload = json!({
        "op": SceneOp::Fetch.as_str(),
        "url": url,
        "name": crate::service::feeds::redact(url),
        "source": source,
    });
    let jobs = cluster.jobs.clone();
    let (id, _) = service
        .store(move |_| jobs.enqueue(JobKind::Scene, &key, &payload))
        .await?;
    Ok(id)
}

/// What one input of `strawfire ingest` (a path, or the files of one granule grouped by
/// name) is queued as: its unit and op, or `None` for a FIRMS feed file, which is read where
/// it is given (parsing it costs what hashing it does). A granule's files are completed with
/// the partners lying beside them (one file given, as `ingest_granule` would find the rest),
/// an official fire product with its geolocation, a Landsat product given by its MTL or a band
/// with the files its MTL names, a Sentinel-2 product given by its metadata file with its
/// `.SAFE` folder. Blocking; reads names and metadata, never bands.
pub fn unit_of_input(item: &[PathBuf]) -> Result<Option<(Unit, SceneOp)>, ServiceError> {
    use crate::service::{granules, is_landsat_product, is_sentinel2_product, FileKind};
    let Some(first) = item.first() else {
        return Ok(None);
    };
    let file_name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let file = |p: &Path, op| {
        let unit = Unit::File {
            path: p.to_path_buf(),
            name: file_name(p),
        };
        Some((unit, op))
    };
    let folder = |p: &Path, op| {
        let unit = Unit::Folder {
            path: p.to_path_buf(),
            name: file_name(p),
        };
        Some((unit, op))
    };
    let kind = FileKind::of(first);
    if kind == Some(FileKind::Feed) {
        return Ok(None);
    }
    if kind == Some(FileKind::FireProduct) {
        let files = crate::service::fire_product_files(first);
        return Ok(Some((Unit::Files(files), SceneOp::FireProduct)));
    }
    if is_sentinel2_product(first) {
        if first.is_dir() || kind == Some(FileKind::Sentinel2Product) {
            let op = SceneOp::Sentinel2;
            return Ok(if first.is_dir() {
                folder(first, op)
            } else {
                file(first, op)
            });
        }
        let (product, _) = crate::service::locate_sentinel2(first, &file_name(first))?;
        return Ok(match product.location {
            crate::product::sentinel2_l1c::Location::Folder(root) => {
                folder(&root, SceneOp::Sentinel2)
            }
            crate::product::sentinel2_l1c::Location::Zip { archive, .. } => {
                file(&archive, SceneOp::Sentinel2)
            }
        });
    }
    if is_landsat_product(first) {
        if first.is_dir() {
            return Ok(folder(first, SceneOp::Landsat));
        }
        if kind == Some(FileKind::LandsatProduct) {
            return Ok(file(first, SceneOp::Landsat));
        }
        let (product, _) = crate::service::locate_landsat(first, &file_name(first))?;
        return Ok(match &product.location {
            crate::product::landsat_c2l1::Location::Folder(_) => {
                // The MTL first: the worker locates the product from it.
                let mtl = &product.mtl;
                let mut files = vec![product.mtl_path.clone()];
                let names = mtl.bands.values().map(|(n, _, _)| n);
                for n in names.chain(mtl.qa_pixel.iter()).chain(mtl.qa_radsat.iter()) {
                    if let Ok(f) = product.file(n, "") {
                        if !files.contains(&f) {
                            files.push(f);
                        }
                    }
                }
                Some((Unit::Files(files), SceneOp::Landsat))
            }
            crate::product::landsat_c2l1::Location::Tar { archive, .. } => {
                file(archive, SceneOp::Landsat)
            }
        });
    }
    if kind == Some(FileKind::GranulePart) {
        let mut files: Vec<PathBuf> = item.to_vec();
        let keys: Vec<_> = item
            .iter()
            .filter_map(|f| granules::part_of(f).map(|(k, _)| k))
            .collect();
        let mut dirs: Vec<&Path> = item.iter().filter_map(|f| f.parent()).collect();
        dirs.dedup();
        for dir in dirs {
            let here = dir.as_os_str().is_empty();
            let Ok(entries) = std::fs::read_dir(if here { Path::new(".") } else { dir }) else {
                continue;
            };
            for e in entries.flatten() {
                // Named as the given files are (relative ones stay relative).
                let p = dir.join(e.file_name());
                let ours = granules::part_of(&p).is_some_and(|(k, _)| keys.contains(&k));
                if ours && !files.contains(&p) && p.is_file() {
                    files.push(p);
                }
            }
        }
        files.sort();
        return Ok(Some((Unit::Files(files), SceneOp::Granule)));
    }
    Ok(file(first, SceneOp::Scene))
}

/// `message` with the spool's paths (`<spool>/<sha256>/NAME…`) shortened to `NAME…`: what the
/// sender knows its files by; a unit's folder itself (`<spool>/<sha256>`, where a reader looked
/// for a partner) is called `folder` (e.g. "the request").
pub fn unspooled(message: &str, spool: &Path, folder: &str) -> String {
    let prefix = format!("{}/", spool.display());
    let mut m = message.to_string();
    let mut from = 0;
    while let Some(at) = m[from..].find(&prefix).map(|i| from + i) {
        let rest = &m[at + prefix.len()..];
        let unit = rest
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_')
            .unwrap_or(rest.len());
        let (cut, with) = match rest[unit..].starts_with('/') {
            true => (unit + 1, ""),
            false => (unit, folder),
        };
        m = format!("{}{with}{}", &m[..at], &rest[cut..]);
        from = at + with.len();
    }
    m
}

/// The hash a unit is stored under (as the ingest that scans it computes it) and its name in
/// records and messages. Blocking; reads metadata and hashes bytes, never bands.
fn unit_hash(unit: &Unit, op: SceneOp) -> Result<(String, String), ServiceError> {
    let file_name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    match (op, unit) {
        (SceneOp::Scene, Unit::File { path, name }) => Ok((sha256_file(path)?, name.clone())),
        (SceneOp::Landsat, _) => {
            let first = unit.paths().into_iter().next().unwrap_or_default();
            let (product, sha) = crate::service::locate_landsat(&first, &file_name(&first))?;
            Ok((sha, product.mtl.product_id))
        }
        (SceneOp::Sentinel2, _) => {
            let first = unit.paths().into_iter().next().unwrap_or_default();
            let (product, sha) = crate::service::locate_sentinel2(&first, &file_name(&first))?;
            Ok((sha, product.mtd.product_uri))
        }
        (SceneOp::Granule, Unit::Files(files)) => {
            // As `Service::ingest_granule` hashes the files it opens: in the spool they lie
            // alone in one folder, so the worker opens exactly these.
            let mut files = files.clone();
            files.sort_by_key(|f| f.file_name().map(|n| n.to_owned()));
            let name = files
                .iter()
                .map(|f| file_name(f))
                .collect::<Vec<_>>()
                .join(" + ");
            Ok((crate::service::granule_sha(&files)?, name))
        }
        (SceneOp::FireProduct, Unit::Files(files)) => {
            // Stored under the product's own hash (`Service::ingest_fire_product`), whatever
            // geolocation came with it.
            let product = fire_product_in(files).ok_or_else(|| {
                ServiceError::Task(format!("no official fire product among {files:?}"))
            })?;
            Ok((sha256_file(product)?, file_name(product)))
        }
        (op, unit) => Err(ServiceError::Task(format!(
            "a {} job cannot be made of {unit:?}",
            op.as_str()
        ))),
    }
}

/// The official fire product among a unit's files (the rest is its geolocation).
pub fn fire_product_in(files: &[PathBuf]) -> Option<&PathBuf> {
    files.iter().find(|f| crate::service::is_fire_product(f))
}

/// Where a unit lies in the spool: `path` (the file, the folder, or for files their folder),
/// and for files each of them.
struct Placed {
    path: PathBuf,
    files: Option<Vec<PathBuf>>,
}

/// Puts a unit under `<spool>/<sha>/`.
fn place_unit(unit: &Unit, spool: &Path, sha: &str) -> Result<Placed, ServiceError> {
    match unit {
        Unit::File { path, name } => Ok(Placed {
            path: place_in_spool(path, spool, sha, name)?,
            files: None,
        }),
        Unit::Folder { path, name } => Ok(Placed {
            path: place_folder(path, spool, sha, name)?,
            files: None,
        }),
        Unit::Files(files) => {
            let mut placed = Vec::with_capacity(files.len());
            for f in files {
                let name = f.file_name().unwrap_or_default().to_string_lossy();
                placed.push(place_in_spool(f, spool, sha, &name)?);
            }
            Ok(Placed {
                path: spool.join(sha),
                files: Some(placed),
            })
        }
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ServiceError {
    let path = path.to_path_buf();
    move |source| ServiceError::Io { path, source }
}

/// Links (or copies) `from` to `<spool>/<sha>/<name>`; returns that path.
fn place_in_spool(
    from: &Path,
    spool: &Path,
    sha: &str,
    name: &str,
) -> Result<PathBuf, ServiceError> {
    let dir = spool.join(sha);
    std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    let target = dir.join(name);
    if target.exists() {
        return Ok(target);
    }
    link_or_copy(from, &target)?;
    Ok(target)
}

/// Links `from` (its target, when it is a symlink) to `target`, else copies it under a
/// temporary name and renames it into place.
fn link_or_copy(from: &Path, target: &Path) -> Result<(), ServiceError> {
    let real = std::fs::canonicalize(from).map_err(io_error(from))?;
    match std::fs::hard_link(&real, target) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(_) => {
            // Another file system (or one without hard links): copy, then rename into place.
            let name = target.file_name().unwrap_or_default().to_string_lossy();
            let part = target.with_file_name(format!(".{name}.{}.part", std::process::id()));
            std::fs::copy(&real, &part).map_err(io_error(&part))?;
            std::fs::rename(&part, target).map_err(io_error(target))?;
            Ok(())
        }
    }
}

/// Builds a copy of the folder `from` (hard links where it can) as `<spool>/<sha>/.<name>.*`
/// and renames it to `<spool>/<sha>/<name>`; returns that path. A folder already there (the
/// same product queued by another node) is kept and ours dropped.
fn place_folder(from: &Path, spool: &Path, sha: &str, name: &str) -> Result<PathBuf, ServiceError> {
    let dir = spool.join(sha);
    std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    let target = dir.join(name);
    if target.exists() {
        return Ok(target);
    }
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let part = dir.join(format!(".{name}.{}.{n}.part", std::process::id()));
    let built = copy_tree(from, &part).and_then(|()| {
        std::fs::rename(&part, &target).or_else(|e| {
            if target.is_dir() {
                Ok(())
            } else {
                Err(io_error(&target)(e))
            }
        })
    });
    if part.exists() {
        let _ = std::fs::remove_dir_all(&part);
    }
    built.map(|()| target)
}

/// `from`'s tree (symlinks followed) into the new folder `to`, files linked or copied.
fn copy_tree(from: &Path, to: &Path) -> Result<(), ServiceError> {
    std::fs::create_dir(to).map_err(io_error(to))?;
    for entry in std::fs::read_dir(from).map_err(io_error(from))? {
        let entry = entry.map_err(io_error(from))?;
        let (path, target) = (entry.path(), to.join(entry.file_name()));
        let meta = std::fs::metadata(&path).map_err(io_error(&path))?;
        if meta.is_dir() {
            copy_tree(&path, &target)?;
        } else if meta.is_file() {
            link_or_copy(&path, &target)?;
        }
    }
    Ok(())
}

/// Removes a settled scene job's unit from the spool (`payload` as queued): its files or its
/// folder, then `<spool>/<sha>/` when it is empty (another node may have placed the same
/// bytes again meanwhile).
pub async fn remove_unit(payload: &serde_json::Value) {
    let Some(path) = payload.get("path").and_then(|v| v.as_str()) else {
        return;
    };
    let path = Path::new(path);
    if let Some(files) = payload.get("files").and_then(|v| v.as_array()) {
        for f in files.iter().filter_map(|f| f.as_str()) {
            let _ = tokio::fs::remove_file(f).await;
        }
        let _ = tokio::fs::remove_dir(path).await;
        return;
    }
    if tokio::fs::symlink_metadata(path)
        .await
        .is_ok_and(|m| m.is_dir())
    {
        let _ = tokio::fs::remove_dir_all(path).await;
    } else {
        let _ = tokio::fs::remove_file(path).await;
    }
    if let Some(dir) = path.parent() {
        let _ = tokio::fs::remove_dir(dir).await;
    }
}

/// The unit's files (or folder) of a scene job's payload, as spooled.
pub fn spooled_paths(payload: &serde_json::Value) -> Vec<PathBuf> {
    if let Some(files) = payload.get("files").and_then(|v| v.as_array()) {
        return files
            .iter()
            .filter_map(|f| f.as_str().map(PathBuf::from))
            .collect();
    }
    payload
        .get("path")
        .and_then(|v| v.as_str())
        .map(PathBuf::from)
        .into_iter()
        .collect()
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
        JobState::Failed => {
            // The worker's message names the file (a scan's, a time's; a granule's one file at
            // fault); one that does not is given its name, once.
            let error = row.error.clone().unwrap_or_else(|| "failed".into());
            let named = name
                .split(" + ")
                .any(|n| !n.is_empty() && error.contains(n));
            let message = if name.is_empty() || named {
                error
            } else {
                format!("{name}: {error}")
            };
            Some(Err(ServiceError::JobFailed {
                name,
                // Rows failed before the kind was kept were all answered as unreadable.
                kind: row.failure.unwrap_or(FailureKind::Unreadable),
                message,
            }))
        }
        JobState::Queued | JobState::Running => None,
    }
}

/// A job's [`outcome`] with the spool's paths in its failure and its notes shown as the sender
/// knows its files ([`unspooled`]; the unit's folder called `folder`): what the inbox's
/// `.reason` and `.warnings` files and `strawfire ingest` print.
pub fn unspooled_outcome(
    result: Result<Ingested, ServiceError>,
    spool: &Path,
    folder: &str,
) -> Result<Ingested, ServiceError> {
    match result {
        Ok(mut done) => {
            for n in &mut done.notes {
                *n = unspooled(n, spool, folder);
            }
            Ok(done)
        }
        Err(ServiceError::JobFailed {
            name,
            kind,
            message,
        }) => Err(ServiceError::JobFailed {
            name,
            kind,
            message: unspooled(&message, spool, folder),
        }),
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_folder_is_spooled_whole_once_and_removed_with_its_job() {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, spool) = (dir.path().join("inbox"), dir.path().join("spool"));
        let product = inbox.join("LC08_X");
        write(&product.join("LC08_X_MTL.txt"), "mtl");
        write(&product.join("sub").join("LC08_X_B7.TIF"), "b7");
        let unit = Unit::Folder {
            path: product.clone(),
            name: "LC08_X".into(),
        };
        let placed = place_unit(&unit, &spool, "abc").unwrap();
        assert_eq!(placed.path, spool.join("abc").join("LC08_X"));
        let b7 = placed.path.join("sub").join("LC08_X_B7.TIF");
        assert_eq!(std::fs::read_to_string(&b7).unwrap(), "b7");
        // Linked, not copied: the same file.
        use std::os::unix::fs::MetadataExt;
        let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
        assert_eq!(ino(&b7), ino(&product.join("sub").join("LC08_X_B7.TIF")));
        // Queued again (another node, a restart): the folder there is kept, no temporary left.
        write(&product.join("extra.txt"), "later");
        let again = place_unit(&unit, &spool, "abc").unwrap();
        assert_eq!(again.path, placed.path);
        assert!(!placed.path.join("extra.txt").exists());
        let names: Vec<String> = std::fs::read_dir(spool.join("abc"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["LC08_X"]);
        let payload = json!({"path": placed.path});
        assert_eq!(spooled_paths(&payload), std::slice::from_ref(&placed.path));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(remove_unit(&payload));
        assert!(!spool.join("abc").exists());
        assert!(
            product.join("sub").join("LC08_X_B7.TIF").exists(),
            "the inbox keeps its own"
        );
    }

    #[test]
    fn an_ingest_input_is_queued_whole_and_a_feed_is_not_queued() {
        let dir = tempfile::tempdir().unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/viirs");
        let name = "VJ114IMG.A2024160.0542.002.2024160054200.nc";
        let geo = "VJ103IMG.A2024160.0542.002.2024160054200.nc";
        for n in [name, geo] {
            std::fs::copy(fixtures.join(n), dir.path().join(n)).unwrap();
        }
        // The fire product with the geolocation its attribute names, the product first.
        let product = dir.path().join(name);
        let (unit, op) = unit_of_input(std::slice::from_ref(&product))
            .unwrap()
            .unwrap();
        assert_eq!(op, SceneOp::FireProduct);
        assert_eq!(
            unit,
            Unit::Files(vec![product.clone(), dir.path().join(geo)])
        );
        let Unit::Files(files) = &unit else {
            unreachable!()
        };
        assert_eq!(fire_product_in(files), Some(&product));
        // Alone it goes alone (read as a feed, its coverage unknown).
        std::fs::remove_file(dir.path().join(geo)).unwrap();
        let (unit, _) = unit_of_input(std::slice::from_ref(&product))
            .unwrap()
            .unwrap();
        assert_eq!(unit, Unit::Files(vec![product]));
        // A FIRMS file is read where it is given; a raster is a scene.
        let csv = dir.path().join("fires.csv");
        write(&csv, "latitude,longitude\n");
        assert_eq!(unit_of_input(&[csv]).unwrap(), None);
        let tif = dir.path().join("scene.tif");
        write(&tif, "x");
        assert_eq!(
            unit_of_input(std::slice::from_ref(&tif)).unwrap(),
            Some((
                Unit::File {
                    path: tif,
                    name: "scene.tif".into()
                },
                SceneOp::Scene
            ))
        );
    }

    #[test]
    fn messages_name_spooled_files_as_the_sender_knows_them() {
        let spool = Path::new("/srv/spool");
        assert_eq!(
            unspooled(
                "scene /srv/spool/ab12/x.tif: no band I4; also /srv/spool/cd34/y/z.TIF",
                spool,
                "the request"
            ),
            "scene x.tif: no band I4; also y/z.TIF"
        );
        assert_eq!(
            unspooled(
                "VJ102IMG.nc: its geolocation file is missing (looked for VJ103IMG.*.nc in \
                 /srv/spool/ab12)",
                spool,
                "the request"
            ),
            "VJ102IMG.nc: its geolocation file is missing (looked for VJ103IMG.*.nc in the \
             request)"
        );
    }

    #[test]
    fn an_outcome_names_spooled_files_in_its_failure_and_its_notes() {
        let spool = Path::new("/srv/spool");
        let failed = unspooled_outcome(
            Err(ServiceError::JobFailed {
                name: "x.tif".into(),
                kind: FailureKind::Unreadable,
                message: "/srv/spool/ab12/x.tif: band `I4`: cannot read".into(),
            }),
            spool,
            "the inbox",
        );
        match failed {
            Err(ServiceError::JobFailed { message, .. }) => {
                assert_eq!(message, "x.tif: band `I4`: cannot read")
            }
            other => panic!("{other:?}"),
        }
        let done = Ingested {
            notes: vec!["no geolocation in /srv/spool/ab12".into()],
            ..Ingested::default()
        };
        let done = unspooled_outcome(Ok(done), spool, "the inbox").unwrap();
        assert_eq!(done.notes, ["no geolocation in the inbox"]);
    }

    #[test]
    fn a_granules_files_lie_side_by_side_and_leave_together() {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, spool) = (dir.path().join("inbox"), dir.path().join("spool"));
        let files = vec![inbox.join("MYD021KM.A.hdf"), inbox.join("MYD03.A.hdf")];
        for f in &files {
            write(f, "x");
        }
        let placed = place_unit(&Unit::Files(files), &spool, "def").unwrap();
        assert_eq!(placed.path, spool.join("def"));
        let spooled = placed.files.clone().unwrap();
        assert_eq!(
            spooled,
            [
                spool.join("def/MYD021KM.A.hdf"),
                spool.join("def/MYD03.A.hdf")
            ]
        );
        let payload = json!({"path": placed.path, "files": spooled});
        assert_eq!(spooled_paths(&payload), spooled);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(remove_unit(&payload));
        assert!(!spool.join("def").exists());
        // A unit that is not what its op reads is refused, not queued.
        let e = unit_hash(&Unit::Files(Vec::new()), SceneOp::Scene).unwrap_err();
        assert!(e.to_string().contains("scene job"), "{e}");
    }
}
