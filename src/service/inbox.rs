//! The inbox: a folder polled for scene and feed files. Only complete files are taken:
//!
//! - **Names being written are never taken**: dotfiles and names ending in `.part`, `.tmp`,
//!   `.partial` or `~`. A writer writes `x.csv.part` (as long and with as many pauses as it
//!   likes) and renames it to `x.csv` when it is complete; the rename makes it eligible. This
//!   is the one way that is safe whatever the writer does (README, "Inbox").
//! - **Settle**: a file is taken once its size and modification time have not changed for
//!   `settle_s` (default 10 s), for copy jobs that write in place.
//! - **Feeds are checked for a cut-off end** before they are taken: a CSV whose last line has
//!   fewer fields than its header and no line end, or a GeoJSON that ends mid-document, is held
//!   until it changes or has been unchanged for `incomplete_wait_s` (then it is taken, and the
//!   cut row reported like any bad row). A writer that pauses mid-row longer than `settle_s` no
//!   longer gets its file split in two. A CSV that has no FIRMS header (the second half of a
//!   split file) fails naming the header, with a hint to use the `.part` convention.
//! - **Symlinks are followed** when they point to a regular file: an operator may link a file
//!   into the inbox. The settle watches the target; the link (not the target, which is not
//!   ours) moves to `done/` or `failed/`. A symlink to nothing, to a folder or to a FIFO or
//!   device, and a FIFO or device itself under a scene or feed name, is refused once settled:
//!   moved to `failed/` with a `.reason` (reading a FIFO could block the inbox forever).
//! - **A Landsat or Sentinel-2 product unpacked into a folder** (named by its product id, or
//!   holding its MTL; a `.SAFE` folder, or one holding `MTD_MSIL1C.xml`) is taken whole once
//!   complete, like its `.tar` or `.zip` (`product_folder`): the folder's tree settles as a
//!   whole, an incomplete one is reported once with what it lacks and held up to
//!   `partner_wait_s`, and the folder moves to `done/` or `failed/` as a file does.
//! - **What is skipped is reported**: an entry the inbox does not take (an unknown extension, a
//!   folder) is logged once per name and counted in `strawfire_inbox_skipped_total{reason}`,
//!   so a file dropped with a wrong name is not ignored in silence.
//!
//! - **On PostgreSQL (#19) the scans are jobs**: a scene file, a Landsat `.tar`, a Sentinel-2
//!   `.zip`, an official fire product (with the geolocation beside it), a complete product
//!   folder and a complete granule (its files together) go whole into the spool as one scene
//!   job (`worker::spool`) and stay here until a worker has settled it; only FIRMS feeds are
//!   read here.
//!
//! A taken file is ingested, then moved to `done/` (with `<name>.warnings` when rows were
//! skipped), or to `failed/` with `<name>.reason` beside it. Files are handled one at a time
//! per inbox: scans are bounded by the service's scan slots anyway, and order of arrival is
//! kept. Polling (not inotify) works the same on network shares.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use super::{FileKind, Ingested, Service, ServiceError};

/// How the inbox settles and checks files (from `[inbox]`).
#[derive(Debug, Clone, Copy)]
pub struct InboxTiming {
    /// How often the folder is listed.
    pub poll: Duration,
    /// How long a file must be unchanged before it is taken.
    pub settle: Duration,
    /// How long a feed with a cut-off end is held before it is taken anyway.
    pub incomplete_wait: Duration,
    /// How long a file of a multi-file granule waits for the rest of it.
    pub partner_wait: Duration,
}

/// What a name in the inbox is taken for (the naming convention).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameClass {
    /// Still being written (dotfile, `.part`, `.tmp`, `.partial`, `~`): never taken, never
    /// reported; renaming it into place makes it eligible.
    InProgress,
    /// A scene or feed name.
    Data(FileKind),
    /// Neither: left where it is, reported once.
    Other,
}

/// A name being written (dotfile, `.part`, `.tmp`, `.partial`, `~`).
fn name_in_progress(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || name.ends_with('~')
        || [".part", ".tmp", ".partial"]
            .iter()
            .any(|s| lower.ends_with(s))
}

/// Classifies a file name (not a path) by the convention in the module doc.
pub fn name_class(name: &str) -> NameClass {
    if name_in_progress(name) {
        return NameClass::InProgress;
    }
    match FileKind::of(Path::new(name)) {
        Some(kind) => NameClass::Data(kind),
        None => NameClass::Other,
    }
}

/// Why a feed's bytes look cut off (still being written), or `None` when they look complete.
/// `name` decides the format as the reader does (`.geojson`/`.json` is GeoJSON, else CSV).
pub fn incomplete_feed(name: &str, bytes: &[u8]) -> Option<String> {
    let json = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("geojson") || e.eq_ignore_ascii_case("json"));
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Some("the file is empty".into());
    }
    if json {
        return match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Err(e) if e.is_eof() => Some("the JSON ends before the document does".into()),
            _ => None,
        };
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Some(header_end) = text.iter().position(|&b| b == b'\n') else {
        return Some("no line end after the header yet".into());
    };
    if text.ends_with(b"\n") || text.ends_with(b"\r") {
        return None;
    }
    let last_start = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let fields = |line: &[u8]| -> Option<usize> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(line);
        r.records().next()?.ok().map(|rec| rec.len())
    };
    let header = fields(&text[..header_end]).unwrap_or(0);
    match fields(&text[last_start..]) {
        Some(n) if n >= header => None,
        Some(n) => Some(format!(
            "the last line has {n} of the header's {header} fields and no line end"
        )),
        None => Some("the last line is cut off inside a quoted field".into()),
    }
}

/// A file seen in the inbox and how it looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    len: u64,
    modified: Option<SystemTime>,
    since: Instant,
}

/// What to do with an entry once it has settled.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    /// Ingest it (a regular file, or a symlink to one).
    Take(FileKind),
    /// A Landsat or Sentinel-2 product unpacked into a folder (`product_folder`): taken whole
    /// once complete.
    TakeProductFolder(super::product_folder::FolderKind),
    /// Move it to `failed/` with this reason, without reading it.
    Refuse(String),
}

/// An entry to settle: path, size, modification time, action.
type Found = (PathBuf, u64, Option<SystemTime>, Action);
/// An entry left alone: path, metric reason, message.
type Skipped = (PathBuf, &'static str, String);

/// Watches `dir` until `shutdown` turns true; the file in hand is finished first.
pub async fn watch_inbox(
    service: Service,
    dir: PathBuf,
    timing: InboxTiming,
    mut shutdown: watch::Receiver<bool>,
) {
    for sub in ["done", "failed"] {
        if let Err(e) = tokio::fs::create_dir_all(dir.join(sub)).await {
            tracing::error!("inbox {}: cannot create {sub}/: {e}", dir.display());
            service.metrics().error("inbox");
        }
    }
    let mut seen: HashMap<PathBuf, Seen> = HashMap::new();
    // Entries already reported (skipped, or held as incomplete): reported again only after
    // they went away and came back.
    let mut reported: HashSet<PathBuf> = HashSet::new();
    // Files of L1B pairs and SDR sets, until their granule is complete (`granules`).
    let mut assembler = super::granules::Assembler::new(timing.partner_wait);
    // On PostgreSQL (#19): files queued as scene jobs, until their job is settled; the file
    // stays here until then, so it leaves the inbox only after its batch committed, as here.
    // A granule's files share their job; a product folder taken incomplete keeps its note.
    let mut pending: HashMap<PathBuf, Pending> = HashMap::new();
    loop {
        if *shutdown.borrow() {
            return;
        }
        let ready = match list(&dir).await {
            Ok((found, skipped)) => {
                let present: HashSet<&PathBuf> = found
                    .iter()
                    .map(|f| &f.0)
                    .chain(skipped.iter().map(|s| &s.0))
                    .collect();
                reported.retain(|p| present.contains(p));
                for (path, reason, message) in &skipped {
                    if reported.insert(path.clone()) {
                        tracing::warn!("inbox: {} left alone: {message}", path.display());
                        service.metrics().inbox_skipped(reason);
                    }
                }
                let actions: HashMap<PathBuf, Action> = found
                    .iter()
                    .map(|(p, _, _, a)| (p.clone(), a.clone()))
                    .collect();
                let files = found.into_iter().map(|(p, l, m, _)| (p, l, m)).collect();
                ready_files(&mut seen, files, timing.settle)
                    .into_iter()
                    .filter_map(|p| actions.get(&p).cloned().map(|a| (p, a)))
                    .collect()
            }
            Err(e) => {
                tracing::error!("inbox {}: cannot list: {e}", dir.display());
                service.metrics().error("inbox");
                Vec::new()
            }
        };
        for (path, action) in ready {
            if *shutdown.borrow() {
                return;
            }
            if pending.contains_key(&path) {
                continue;
            }
            if let Some(op) = queued_op(&service, &action) {
                seen.remove(&path);
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                let unit = if op == crate::worker::spool::SceneOp::FireProduct {
                    // With the geolocation beside it (in the inbox or its `done/`), which the
                    // worker reads the fire mask's coverage with.
                    let p = path.clone();
                    let files = tokio::task::spawn_blocking(move || super::fire_product_files(&p))
                        .await
                        .unwrap_or_else(|_| vec![path.clone()]);
                    crate::worker::spool::Unit::Files(files)
                } else {
                    crate::worker::spool::Unit::File {
                        path: path.clone(),
                        name: name.into_owned(),
                    }
                };
                match queue(&service, unit, op).await {
                    Ok(Some(id)) => {
                        pending.insert(path, Pending { id, note: None });
                    }
                    Ok(None) => finish(&service, &dir, &path, Ok(stored(None))).await,
                    Err(e) => finish(&service, &dir, &path, Err(e)).await,
                }
                continue;
            }
            match action {
                Action::Refuse(why) => {
                    seen.remove(&path);
                    tracing::warn!("inbox: {} refused: {why}", path.display());
                    service.metrics().inbox_skipped("not_a_regular_file");
                    to_failed(&service, &dir, &path, why).await;
                }
                Action::Take(FileKind::Feed) => {
                    let unchanged_for = seen
                        .get(&path)
                        .map_or(Duration::ZERO, |s| s.since.elapsed());
                    let bytes = match tokio::fs::read(&path).await {
                        Ok(b) => b,
                        Err(source) => {
                            seen.remove(&path);
                            let e = ServiceError::Io {
                                path: path.clone(),
                                source,
                            };
                            finish(&service, &dir, &path, Err(e)).await;
                            continue;
                        }
                    };
                    let name = path.file_name().unwrap_or_default().to_string_lossy();
                    if let Some(why) = incomplete_feed(&name, &bytes) {
                        if unchanged_for < timing.incomplete_wait {
                            if reported.insert(path.clone()) {
                                tracing::info!(
                                    "inbox: {} held: {why}; taken once complete (or unchanged for {:.0} s)",
                                    path.display(),
                                    timing.incomplete_wait.as_secs_f64()
                                );
                                service.metrics().inbox_skipped("incomplete");
                            }
                            continue;
                        }
                        tracing::warn!(
                            "inbox: {} taken although {why} (unchanged for {:.0} s)",
                            path.display(),
                            unchanged_for.as_secs_f64()
                        );
                    }
                    seen.remove(&path);
                    reported.remove(&path);
                    let result = service.ingest_feed_bytes(&path, &bytes, "inbox").await;
                    finish(&service, &dir, &path, result).await;
                }
                Action::Take(FileKind::FireProduct) => {
                    seen.remove(&path);
                    let result = service.ingest_fire_product(&path, &path, "inbox").await;
                    finish(&service, &dir, &path, result).await;
                }
                Action::Take(FileKind::GranulePart) => {
                    // Stays in `seen` (offered again each poll, which changes nothing) until
                    // its granule is decided below.
                    if let Some((key, role)) = super::granules::part_of(&path) {
                        assembler.offer(key, role, path.clone(), Instant::now());
                    }
                }
                Action::Take(FileKind::Sentinel2Product) => {
                    seen.remove(&path);
                    let result = service.ingest_sentinel2(&path, "inbox").await;
                    finish(&service, &dir, &path, result).await;
                }
                Action::Take(FileKind::LandsatProduct) => {
                    seen.remove(&path);
                    let result = service.ingest_landsat(&path, "inbox").await;
                    finish(&service, &dir, &path, result).await;
                }
                Action::TakeProductFolder(kind) => {
                    let unchanged_for = seen
                        .get(&path)
                        .map_or(Duration::ZERO, |s| s.since.elapsed());
                    let p = path.clone();
                    let status = tokio::task::spawn_blocking(move || {
                        super::product_folder::status(&p, kind)
                    })
                    .await
                    .unwrap_or_else(|e| {
                        super::product_folder::FolderStatus::Incomplete {
                            why: e.to_string(),
                            usable: false,
                        }
                    });
                    let mut note = None;
                    if let super::product_folder::FolderStatus::Incomplete { why, usable } = status
                    {
                        if unchanged_for < timing.partner_wait {
                            if reported.insert(path.clone()) {
                                tracing::info!(
                                    "inbox: product folder {} held: {why}; taken once complete \
                                     (or unchanged for {:.0} s)",
                                    path.display(),
                                    timing.partner_wait.as_secs_f64()
                                );
                                service.metrics().inbox_skipped("incomplete");
                            }
                            continue;
                        }
                        seen.remove(&path);
                        reported.remove(&path);
                        if !usable {
                            tracing::warn!(
                                "inbox: product folder {} failed: {why}",
                                path.display()
                            );
                            service.metrics().error("inbox_failed");
                            let reason = format!(
                                "an incomplete {} product folder, unchanged for {:.0} s: {why}",
                                kind.describe(),
                                unchanged_for.as_secs_f64()
                            );
                            to_failed(&service, &dir, &path, reason).await;
                            continue;
                        }
                        note = Some(format!(
                            "taken incomplete after {:.0} s unchanged: {why}",
                            unchanged_for.as_secs_f64()
                        ));
                    }
                    seen.remove(&path);
                    reported.remove(&path);
                    if service.cluster().is_some() {
                        // PostgreSQL (#19): the whole folder goes to the spool as one job.
                        use crate::worker::spool::{SceneOp, Unit};
                        let op = match kind {
                            super::product_folder::FolderKind::Landsat => SceneOp::Landsat,
                            super::product_folder::FolderKind::Sentinel2 => SceneOp::Sentinel2,
                        };
                        let name = path.file_name().unwrap_or_default().to_string_lossy();
                        let unit = Unit::Folder {
                            path: path.clone(),
                            name: name.into_owned(),
                        };
                        match queue(&service, unit, op).await {
                            Ok(Some(id)) => {
                                pending.insert(path, Pending { id, note });
                            }
                            Ok(None) => finish(&service, &dir, &path, Ok(stored(note))).await,
                            Err(e) => finish(&service, &dir, &path, Err(e)).await,
                        }
                        continue;
                    }
                    let result = match kind {
                        super::product_folder::FolderKind::Landsat => {
                            service.ingest_landsat(&path, "inbox").await
                        }
                        super::product_folder::FolderKind::Sentinel2 => {
                            service.ingest_sentinel2(&path, "inbox").await
                        }
                    };
                    let result = result.map(|mut d| {
                        d.notes.extend(note);
                        d
                    });
                    finish(&service, &dir, &path, result).await;
                }
                Action::Take(FileKind::Scene) => {
                    seen.remove(&path);
                    let result = service.ingest_scene_file(&path, "inbox").await;
                    finish(&service, &dir, &path, result).await;
                }
            }
        }
        settle_pending(&service, &dir, &mut pending).await;
        assembler.retain_present(|p| p.exists());
        for decision in assembler.decide(Instant::now()) {
            if *shutdown.borrow() {
                return;
            }
            match decision {
                super::granules::Decision::Complete { files, .. } => {
                    for f in &files {
                        seen.remove(f);
                    }
                    if service.cluster().is_some() {
                        // PostgreSQL (#19): the granule's files go to the spool as one job.
                        let unit = crate::worker::spool::Unit::Files(files.clone());
                        match queue(&service, unit, crate::worker::spool::SceneOp::Granule).await {
                            Ok(Some(id)) => {
                                for f in files {
                                    pending.insert(f, Pending { id, note: None });
                                }
                            }
                            Ok(None) => {
                                for f in &files {
                                    finish(&service, &dir, f, Ok(stored(None))).await;
                                }
                            }
                            Err(e) => {
                                tracing::warn!("inbox: granule {files:?} failed: {e}");
                                let reason = chain(&e);
                                for f in &files {
                                    to_failed(&service, &dir, f, reason.clone()).await;
                                }
                            }
                        }
                        continue;
                    }
                    let result = service.ingest_granule(&files, "inbox").await;
                    match result {
                        Ok(done) => {
                            for f in &files {
                                finish(&service, &dir, f, Ok(done.clone())).await;
                            }
                        }
                        Err(e) => {
                            tracing::warn!("inbox: granule {files:?} failed: {e}");
                            service.metrics().error("inbox_failed");
                            let reason = chain(&e);
                            for f in &files {
                                to_failed(&service, &dir, f, reason.clone()).await;
                            }
                        }
                    }
                }
                super::granules::Decision::GaveUp {
                    key, files, reason, ..
                } => {
                    for f in &files {
                        seen.remove(f);
                    }
                    // A lone geolocation file that came for an official fire product of the
                    // same granule (VNP14IMG's coverage) has done its job.
                    let fire_product = fire_product_of(&dir, &key.key);
                    for f in &files {
                        let geo = super::granules::part_of(f)
                            .is_some_and(|(_, r)| r == crate::product::FileRole::L1bGeolocation);
                        match (&fire_product, geo) {
                            (Some(fp), true) => {
                                tracing::info!(
                                    "inbox: {} kept as the geolocation of {fp}",
                                    f.display()
                                );
                                let mut target =
                                    dir.join("done").join(f.file_name().unwrap_or_default());
                                if let Err(e) = move_file(f, &mut target).await {
                                    tracing::error!("inbox: cannot move {}: {e}", f.display());
                                }
                            }
                            _ => {
                                tracing::warn!("inbox: {} failed: {reason}", f.display());
                                service.metrics().error("inbox_failed");
                                to_failed(&service, &dir, f, reason.clone()).await;
                            }
                        }
                    }
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(timing.poll) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// How a file is queued as a scene job, when the service queues scenes (PostgreSQL) and the
/// file is one (a raster scene, a Landsat `.tar`, a Sentinel-2 `.zip`, an official fire
/// product; product folders and granules are queued where they are decided). Feeds are
/// ingested here: a FIRMS file is parsed in the time it takes to hash it.
fn queued_op(service: &Service, action: &Action) -> Option<crate::worker::spool::SceneOp> {
    use crate::worker::spool::SceneOp;
    service.cluster()?;
    match action {
        Action::Take(FileKind::Scene) => Some(SceneOp::Scene),
        Action::Take(FileKind::LandsatProduct) => Some(SceneOp::Landsat),
        Action::Take(FileKind::Sentinel2Product) => Some(SceneOp::Sentinel2),
        Action::Take(FileKind::FireProduct) => Some(SceneOp::FireProduct),
        _ => None,
    }
}

/// A file (or folder) of the inbox queued as a scene job, until the job is settled.
#[derive(Debug, Clone)]
struct Pending {
    id: i64,
    /// Said in `done/<name>.warnings` with the job's own notes (a folder taken incomplete).
    note: Option<String>,
}

/// What a product already stored is reported as.
fn stored(note: Option<String>) -> Ingested {
    Ingested {
        report: crate::store::IngestReport {
            already_ingested: true,
            ..Default::default()
        },
        notes: note.into_iter().collect(),
        ..Default::default()
    }
}

/// Queues a unit of the inbox (a file, a product folder, a granule's files): its job's id, or
/// `None` when it is already stored.
async fn queue(
    service: &Service,
    unit: crate::worker::spool::Unit,
    op: crate::worker::spool::SceneOp,
) -> Result<Option<i64>, ServiceError> {
    match crate::worker::spool::queue_unit(service, unit, op, "inbox").await? {
        crate::worker::spool::Queued::Stored { .. } => Ok(None),
        crate::worker::spool::Queued::Job { id, .. } => Ok(Some(id)),
    }
}

/// Moves the queued files whose job is settled to `done/` or `failed/`.
async fn settle_pending(service: &Service, dir: &Path, pending: &mut HashMap<PathBuf, Pending>) {
    let Some(cluster) = service.cluster().cloned() else {
        return;
    };
    if pending.is_empty() {
        return;
    }
    let mut ids: Vec<i64> = pending.values().map(|p| p.id).collect();
    ids.sort_unstable();
    ids.dedup();
    let jobs = cluster.jobs.clone();
    let rows = match service.store(move |_| jobs.jobs(&ids)).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!("inbox: reading queued scene jobs: {e}");
            return;
        }
    };
    let rows: HashMap<i64, crate::store::jobs::JobRow> =
        rows.into_iter().map(|r| (r.id, r)).collect();
    let mut queued: Vec<(PathBuf, Pending)> = pending
        .iter()
        .map(|(p, q)| (p.clone(), q.clone()))
        .collect();
    queued.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, Pending { id, note }) in queued {
        let result = match rows.get(&id) {
            // The worker read the spool's copy; `.reason` and `.warnings` name the inbox's file.
            Some(row) => match crate::worker::spool::outcome(row) {
                Some(r) => crate::worker::spool::unspooled_outcome(r, &cluster.spool, "the inbox"),
                None => continue,
            },
            None => Err(ServiceError::Task(format!("scene job {id} is gone"))),
        };
        let result = result.map(|mut d| {
            d.notes.extend(note);
            d
        });
        pending.remove(&path);
        finish(service, dir, &path, result).await;
    }
}

/// The name of an official fire product of L1B granule `key` (`VNP.A2024160.0542` →
/// `VNP14IMG.A2024160.0542…`) in the inbox or its `done/`, if one is there.
fn fire_product_of(dir: &Path, key: &str) -> Option<String> {
    let (family, when) = key.split_once('.')?;
    let prefix = format!(
        "{}14IMG.{}.",
        family.to_ascii_uppercase(),
        when.to_ascii_uppercase()
    );
    [dir.to_path_buf(), dir.join("done")]
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.to_ascii_uppercase().starts_with(&prefix))
}

/// The entries of the inbox: those to settle (in name order) and those left alone.
async fn list(dir: &Path) -> std::io::Result<(Vec<Found>, Vec<Skipped>)> {
    let (mut found, mut skipped) = (Vec::new(), Vec::new());
    let mut rd = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = rd.next_entry().await? {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let file_type = entry.file_type().await?;
        if file_type.is_dir() && (name == "done" || name == "failed") {
            continue;
        }
        if file_type.is_dir() && !name_in_progress(&name) {
            let p = path.clone();
            let probe = tokio::task::spawn_blocking(move || {
                super::product_folder::kind_of(&p)
                    .map(|k| super::product_folder::signature(&p).map(|s| (k, s)))
            })
            .await
            .map_err(std::io::Error::other)?;
            if let Some(sig) = probe {
                let (kind, (len, modified)) = sig?;
                found.push((path, len, modified, Action::TakeProductFolder(kind)));
                continue;
            }
        }
        let kind = match name_class(&name) {
            NameClass::InProgress => continue,
            NameClass::Other => {
                let (reason, message) = if file_type.is_dir() {
                    (
                        "folder",
                        "a folder (the inbox takes files only)".to_string(),
                    )
                } else {
                    (
                        "unknown_type",
                        "not a scene (.tif .tiff .img .nc .h5 .hdf .vrt) or feed \
                         (.csv .txt .geojson .json) name"
                            .to_string(),
                    )
                };
                skipped.push((path, reason, message));
                continue;
            }
            NameClass::Data(kind) => kind,
        };
        let own = tokio::fs::symlink_metadata(&path).await?;
        let own_modified = own.modified().ok();
        if file_type.is_symlink() {
            let target = tokio::fs::read_link(&path)
                .await
                .map(|t| t.display().to_string())
                .unwrap_or_else(|_| "?".into());
            match tokio::fs::metadata(&path).await {
                Ok(m) if m.is_file() => {
                    found.push((path, m.len(), m.modified().ok(), Action::Take(kind)));
                }
                Ok(m) => {
                    let what = if m.is_dir() {
                        "a folder"
                    } else {
                        "a FIFO, socket or device"
                    };
                    let why = format!("a symlink to {target}, which is {what}, not a file");
                    found.push((path, 0, own_modified, Action::Refuse(why)));
                }
                Err(e) => {
                    let why = if e.kind() == std::io::ErrorKind::NotFound {
                        format!("a symlink to {target}, which does not exist")
                    } else {
                        format!("a symlink to {target}, which cannot be followed: {e}")
                    };
                    found.push((path, 0, own_modified, Action::Refuse(why)));
                }
            }
        } else if file_type.is_file() {
            found.push((path, own.len(), own_modified, Action::Take(kind)));
        } else if file_type.is_dir() {
            skipped.push((
                path,
                "folder",
                "a folder (the inbox takes files only)".to_string(),
            ));
        } else {
            let why = "not a regular file (a FIFO, socket or device)".to_string();
            found.push((path, 0, own_modified, Action::Refuse(why)));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((found, skipped))
}

/// Files unchanged for `settle`, in name order; updates `seen`.
fn ready_files(
    seen: &mut HashMap<PathBuf, Seen>,
    files: Vec<(PathBuf, u64, Option<SystemTime>)>,
    settle: Duration,
) -> Vec<PathBuf> {
    let now = Instant::now();
    let present: HashSet<PathBuf> = files.iter().map(|f| f.0.clone()).collect();
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

/// Moves an ingested file to `done/`, a failed one to `failed/` with its reason.
async fn finish(
    service: &Service,
    dir: &Path,
    path: &Path,
    result: Result<Ingested, ServiceError>,
) {
    let name = path.file_name().unwrap_or_default().to_owned();
    match result {
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
            if !done.warnings.is_empty() || !done.notes.is_empty() {
                let text: Vec<String> = (done.notes.iter().cloned())
                    .chain(done.warnings.iter().map(|w| w.to_string()))
                    .collect();
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
            let mut reason = chain(&e);
            if let ServiceError::Feed(crate::hotspot::read::ReadError::MissingColumn { .. }) = e {
                reason.push_str(
                    " (the second part of a file written in pieces? Write files as \
                     NAME.part and rename them to NAME when complete)",
                );
            }
            to_failed(service, dir, path, reason).await;
        }
    }
}

/// Moves `path` to `failed/` and writes `<name>.reason` beside it.
async fn to_failed(service: &Service, dir: &Path, path: &Path, reason: String) {
    let mut target = dir
        .join("failed")
        .join(path.file_name().unwrap_or_default());
    match move_file(path, &mut target).await {
        Ok(()) => {
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
/// A symlink moves as the link (`rename` never follows it).
async fn move_file(from: &Path, to: &mut PathBuf) -> std::io::Result<()> {
    let base = to.clone();
    let mut i = 1;
    while tokio::fs::symlink_metadata(&*to).await.is_ok() {
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

    #[test]
    fn names_being_written_are_never_taken() {
        use NameClass::*;
        for n in [
            ".x.csv",
            "x.csv.part",
            "X.CSV.PART",
            "x.csv.tmp",
            "x.tif.partial",
            "x.csv~",
        ] {
            assert_eq!(name_class(n), InProgress, "{n}");
        }
        assert_eq!(name_class("x.csv"), Data(FileKind::Feed));
        assert_eq!(name_class("x.GeoJSON"), Data(FileKind::Feed));
        assert_eq!(name_class("x.tif"), Data(FileKind::Scene));
        assert_eq!(name_class("x.docx"), Other);
        assert_eq!(name_class("README"), Other);
    }

    #[test]
    fn a_feed_cut_off_mid_row_is_incomplete() {
        let h = "latitude,longitude,acq_date,acq_time\n";
        let ok = |s: &str| incomplete_feed("f.csv", s.as_bytes());
        assert_eq!(ok(&format!("{h}35,114,2024-06-05,0556\n")), None);
        // No final newline but every field there: complete (some writers end so).
        assert_eq!(ok(&format!("{h}35,114,2024-06-05,0556")), None);
        assert_eq!(ok(&format!("{h}35,114,2024-06-05,0556\r\n")), None);
        // A BOM does not count as a field.
        assert_eq!(ok(&format!("\u{feff}{h}35,114,2024-06-05,0556")), None);
        let cut = ok(&format!("{h}35,114,2024-06-05,0556\n35.1,114")).unwrap();
        assert!(cut.contains("2 of the header's 4 fields"), "{cut}");
        assert!(ok("latitude,longitude,acq_d").is_some());
        assert!(ok("").is_some() && ok("\n \n").is_some());
        assert!(ok(&format!("{h}35,114,\"2024-06")).is_some());
        let json = |s: &str| incomplete_feed("f.geojson", s.as_bytes());
        assert_eq!(json(r#"{"type":"FeatureCollection","features":[]}"#), None);
        assert!(json(r#"{"type":"FeatureCollection","features":[{"#).is_some());
        // Broken, not cut off: taken, and the reader names what is wrong.
        assert_eq!(json(r#"{"type":]"#), None);
    }
}
