//! The service pipeline: every source (inbox, uploads, `strawfire ingest`, feed polls, sensor
//! alerts) goes through [`Service`] into the store, where fuse runs in the same transaction.
//!
//! Threads, and why: the async executor only waits. A scene scan is rayon work and runs on
//! `spawn_blocking`, at most `limits.scan_workers` at once (a semaphore; each scan already uses
//! every core), with a bounded queue in front so uploads get 503 instead of piling up. Store
//! calls are blocking SQLite calls and also run on `spawn_blocking`.

pub mod feeds;
pub mod granules;
pub mod inbox;
pub mod live;
pub mod metrics;
pub mod operator;
pub mod product_folder;
pub mod rankings;
pub mod relay;
pub mod run;
pub mod storage;
pub mod tasks;
pub mod times;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

pub use live::{Live, LiveHotspot, LiveUpdate, UnitTag};
pub use metrics::Metrics;
pub use run::{open_service, start, start_clocked, Running, STORE_FILE};

use crate::config::Config;
use crate::dispatch::{Clock, SystemClock};
use crate::fuse::{FuseParams, Placer};
use crate::hotspot::read::{read_csv, read_geojson, Feed, ReadError, RowWarning};
use crate::product::viirs_af;
use crate::scan::{scan_scene, ModelChoice};
use crate::store::{IngestBatch, IngestReport, Origin, Scope, SensorAlert, Store, StoreError};

/// Why an ingest failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The scene cannot be scanned (not a raster, missing bands or metadata, ...). Shown as
    /// `scene NAME: <why>`, or as the reader's error alone when that starts with the scene
    /// (`name` or `file`): a raster reader's error names its file first, and saying the name
    /// again before it read `scene cut.tif: cut.tif: band …` once the API had put the client's
    /// name for our path. A granule's error that starts with one of its files names that file
    /// and, after the reader's words, its partners (`b.nc: … (granule with a.nc)`). An error
    /// that does not start
    /// with a file (a granule's partner missing, an unknown sensor model) keeps the prefix, so
    /// every message names the scene.
    #[error("{}", scan_message(.name, .file.as_deref(), .source))]
    Scan {
        name: String,
        /// The one file scanned, when there is one (not a granule of several files).
        file: Option<PathBuf>,
        #[source]
        source: Box<crate::Error>,
    },
    /// The feed cannot be read as FIRMS CSV or GeoJSON.
    #[error(transparent)]
    Feed(#[from] ReadError),
    /// A file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A feed row was refused by the store for a reason other than a duplicate key: nothing
    /// of the feed was stored. Fix the row named here.
    #[error("{name}: {unit} {line}: the store refused the row")]
    FeedRow {
        name: String,
        /// `line` (CSV) or `feature` (GeoJSON).
        unit: &'static str,
        line: u64,
        #[source]
        source: Box<StoreError>,
    },
    /// A scene (or other item) carries a time that is not believable (`times.rs`): before the
    /// first satellite fire product or beyond the allowed clock skew. Fix the clock or the file.
    #[error("{name}: `{field}`: {message}")]
    Time {
        name: String,
        field: &'static str,
        message: String,
    },
    /// Too many scenes are waiting for a scan: retry later.
    #[error("{0} scenes are waiting for a scan; retry later")]
    Busy(usize),
    /// A blocking task panicked or was cancelled.
    #[error("internal task failed: {0}")]
    Task(String),
    /// A scene job failed for good on a worker (#19): what the worker's scan or store said
    /// (`message`, which names the file `name`), and its kind, so that it is answered as the
    /// same failure on a node that scans the file itself (`api/error.rs`).
    #[error("{message}")]
    JobFailed {
        name: String,
        kind: crate::store::jobs::FailureKind,
        message: String,
    },
}

/// How [`ServiceError::Scan`] reads: the scanner's error as is when it starts with the scene
/// (`name`, or the path of `file`, followed by `: `); for a granule of several files
/// (`a.nc + b.nc`) whose error starts with one of them, `a.nc: … (granule with b.nc)`; else
/// prefixed by `scene NAME: `.
fn scan_message(name: &str, file: Option<&Path>, source: &crate::Error) -> String {
    let said = source.to_string();
    let starts_with =
        |p: &str| !p.is_empty() && said.strip_prefix(p).is_some_and(|r| r.starts_with(": "));
    if starts_with(name) || file.is_some_and(|f| starts_with(&f.display().to_string())) {
        return said;
    }
    // A granule of several files (`a.nc + b.nc`) whose reader names one of them first (by its
    // path or its name): that file once, its partners after, not `scene a.nc + b.nc: a.nc: …`.
    let parts: Vec<&str> = name.split(" + ").collect();
    if parts.len() > 1 {
        for (i, part) in parts.iter().enumerate() {
            let Some(at) = said.find(&format!("{part}: ")) else {
                continue;
            };
            let dir = &said[..at];
            if !(dir.is_empty() || dir.ends_with('/')) || dir.contains(": ") {
                continue;
            }
            let others: Vec<&str> = (parts.iter().enumerate())
                .filter(|&(j, _)| j != i)
                .map(|(_, p)| *p)
                .collect();
            // After the reader's words, which stay whole: `chain` (inbox reasons, the API)
            // leaves out a cause whose text the message already holds.
            return format!("{said} (granule with {})", others.join(" + "));
        }
    }
    format!("scene {name}: {said}")
}

impl ServiceError {
    /// What kind of failure for good this is, when it is one: the file or the feed is at
    /// fault, so reading it again cannot help (`None`: the store, the disk or the process,
    /// which another try may find well). A worker keeps it with a failed job.
    pub fn failure_kind(&self) -> Option<crate::store::jobs::FailureKind> {
        use crate::store::jobs::FailureKind;
        match self {
            ServiceError::Time { .. } | ServiceError::Feed(_) => Some(FailureKind::BadInput),
            ServiceError::Scan { .. } | ServiceError::FeedRow { .. } => {
                Some(FailureKind::Unreadable)
            }
            ServiceError::JobFailed { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

/// What ingesting one item did, with any skipped feed rows.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Ingested {
    pub sha256: Option<String>,
    pub report: IngestReport,
    #[serde(serialize_with = "warnings_as_text")]
    pub warnings: Vec<RowWarning>,
    /// Warnings about the whole file (an official product whose geolocation is missing, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

fn warnings_as_text<S: serde::Serializer>(w: &[RowWarning], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(w.iter().map(|w| w.to_string()))
}

/// The shared state of a running service (cheap to clone).
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    placer: Arc<dyn Placer>,
    fuse: FuseParams,
    camera_footprint_m: f64,
    /// Open dashboards and patrol pages hear changes through it.
    live: Live,
    dashboard: crate::config::DashboardConfig,
    sensors: HashMap<String, (f64, f64)>,
    metrics: Metrics,
    scan_slots: Semaphore,
    /// Scenes scanned at once plus scenes allowed to wait.
    scan_capacity: usize,
    data_dir: PathBuf,
    clock: Arc<dyn Clock>,
    /// Dispatch and evidence rules (`service/tasks.rs`).
    rules: crate::dispatch::TaskRules,
    /// Whether writes reach the disk (`healthz`).
    storage: storage::StorageHealth,
    /// Confirmed false-alarm sites, applied by `placer` (which wraps the layers' placer).
    masks: Arc<crate::verify::ConfirmedMasks>,
    rank: crate::config::RankConfig,
    /// The bulletin's issuer, comment and printer (`[report]`).
    report: crate::config::ReportConfig,
    ui: crate::config::UiConfig,
    /// Which detection times are believed (`[ingest]`).
    times: times::TimeLimits,
    /// On PostgreSQL: the jobs table, the live log and the spool (`crate::worker`); scenes
    /// are then queued for workers instead of scanned here.
    cluster: Option<Cluster>,
    /// When the escalation sweep last removed old idempotency keys (`service/tasks.rs`).
    keys_pruned_at: std::sync::Mutex<Option<chrono::DateTime<chrono::Utc>>>,
}

/// What a service of several processes shares through PostgreSQL (#19).
#[derive(Clone)]
pub struct Cluster {
    pub jobs: Arc<dyn crate::store::JobStore>,
    pub live: Arc<dyn crate::store::jobs::LiveLog>,
    /// Where queued scene files lie (`[worker] spool_dir`), reachable by every worker.
    pub spool: PathBuf,
    pub worker: crate::config::WorkerConfig,
}

impl Service {
    pub fn new(config: &Config, store: Arc<dyn Store>, placer: Arc<dyn Placer>) -> Service {
        let masks = tasks::load_confirmed_masks(store.as_ref());
        let placer: Arc<dyn Placer> = Arc::new(crate::verify::WithConfirmedMasks {
            inner: placer,
            masks: masks.clone(),
        });
        Service {
            inner: Arc::new(Inner {
                store,
                placer,
                fuse: config.fuse.params(),
                camera_footprint_m: config.fuse.camera_footprint_m,
                live: Live::new(),
                dashboard: config.dashboard.clone(),
                sensors: config
                    .sensors
                    .iter()
                    .map(|s| (s.id.clone(), (s.lon, s.lat)))
                    .collect(),
                metrics: Metrics::default(),
                scan_slots: Semaphore::new(config.limits.scan_workers),
                scan_capacity: config.limits.scan_workers + config.limits.scan_queue,
                data_dir: config.data_dir.clone(),
                clock: Arc::new(SystemClock),
                rules: crate::dispatch::TaskRules::from_config(config),
                masks,
                storage: storage::StorageHealth::default(),
                rank: config.rank.clone(),
                report: config.report.clone(),
                ui: config.ui.clone(),
                times: times::TimeLimits::from_config(&config.ingest),
                cluster: None,
                keys_pruned_at: std::sync::Mutex::new(None),
            }),
        }
    }

    /// The same service deciding time from `clock` (call before the service is shared).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Service {
        Arc::get_mut(&mut self.inner)
            .expect("with_clock before the service is shared")
            .clock = clock;
        self
    }

    /// The same service with scenes queued as jobs and live updates through the store's log
    /// (call before the service is shared; `service::relay` then relays the log).
    pub fn with_cluster(mut self, cluster: Cluster) -> Service {
        Arc::get_mut(&mut self.inner)
            .expect("with_cluster before the service is shared")
            .cluster = Some(cluster);
        self
    }

    /// The jobs table and spool when the store is shared by several processes.
    pub fn cluster(&self) -> Option<&Cluster> {
        self.inner.cluster.as_ref()
    }

    /// `Ok` when a detection time `t` is believable now (the service clock's); otherwise why
    /// not, for a message naming the field.
    pub fn check_time(&self, t: chrono::DateTime<chrono::Utc>) -> Result<(), String> {
        self.inner.times.check(t, self.clock().now())
    }

    /// Moves the feed rows whose time is not believable now into the feed's warnings.
    pub fn screen_times(&self, feed: &mut Feed) -> usize {
        self.inner.times.screen(feed, self.clock().now())
    }

    /// Where "now" comes from.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The locate step (and through it the indexed unit and parcel layers) as the service placed
    /// detections with it.
    pub fn placer(&self) -> &Arc<dyn Placer> {
        &self.inner.placer
    }

    /// The `[rank]` settings.
    pub fn rank_config(&self) -> &crate::config::RankConfig {
        &self.inner.rank
    }

    /// The `[report]` settings: the bulletin's issuer, comment and printer.
    pub fn report_config(&self) -> &crate::config::ReportConfig {
        &self.inner.report
    }

    /// The `[ui]` settings: language and time zone of what users read.
    pub fn ui(&self) -> &crate::config::UiConfig {
        &self.inner.ui
    }

    /// The live-update hub: publish after a commit, subscribe for a stream.
    pub fn live(&self) -> &Live {
        &self.inner.live
    }

    /// The `[dashboard]` config the pages read.
    pub fn dashboard(&self) -> &crate::config::DashboardConfig {
        &self.inner.dashboard
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    pub fn camera_footprint_m(&self) -> f64 {
        self.inner.camera_footprint_m
    }

    /// A configured camera's position.
    pub fn sensor_position(&self, id: &str) -> Option<(f64, f64)> {
        self.inner.sensors.get(id).copied()
    }

    /// Whether writes reach the disk.
    pub fn storage(&self) -> &storage::StorageHealth {
        &self.inner.storage
    }

    /// The store, for a blocking reader that streams what it reads (`api/paged.rs`); other
    /// callers use [`Service::store`].
    pub fn store_handle(&self) -> Arc<dyn Store> {
        self.inner.store.clone()
    }

    /// Runs a store call on a blocking thread.
    pub async fn store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ServiceError> {
        let store = self.inner.store.clone();
        let out = tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| ServiceError::Task(e.to_string()))?;
        if let Err(e) = &out {
            self.metrics().error("store");
            if let Some(cause) = e.storage_cause() {
                self.storage().failed(&cause);
            }
        }
        Ok(out?)
    }

    async fn ingest(&self, batch: IngestBatch) -> Result<IngestReport, ServiceError> {
        self.ingest_within(batch, Scope::All).await
    }

    /// Ingests a batch for a writer whose scope is `reach` (see [`crate::store::TaskStore::ingest_within`]).
    async fn ingest_within(
        &self,
        batch: IngestBatch,
        reach: Scope,
    ) -> Result<IngestReport, ServiceError> {
        let store = self.inner.store.clone();
        let placer = self.inner.placer.clone();
        let fuse = self.inner.fuse;
        let source = batch.source.clone();
        let kind = match batch.origin {
            Origin::Scene { .. } => Some("scene"),
            Origin::Feed { .. } => Some("feed"),
            Origin::Alerts => None,
        };
        // Tasks are created in the ingest transaction, at the service clock's now.
        let (rules, now) = (self.inner.rules.clone(), self.clock().now());
        let masks = self.inner.masks.clone();
        let report = tokio::task::spawn_blocking(move || {
            // Sites confirmed on other nodes too (#19): `placer` applies `masks`.
            tasks::refresh_confirmed_masks(store.as_ref(), &masks);
            store.ingest_within(&batch, &fuse, placer.as_ref(), &rules, now, &reach)
        })
        .await
        .map_err(|e| ServiceError::Task(e.to_string()))?;
        let report = report.inspect_err(|e| {
            if !matches!(e, StoreError::OutOfReach { .. }) {
                self.metrics().error("store")
            }
            if let Some(cause) = e.storage_cause() {
                self.storage().failed(&cause);
            }
        })?;
        if !report.already_ingested {
            self.storage().wrote();
        }
        let m = self.metrics();
        if !report.already_ingested {
            if let Some(kind) = kind {
                m.ingested(&source, kind, 1);
            }
        }
        m.ingested(&source, "hotspot", report.hotspots_new as u64);
        m.ingested(&source, "alert", report.alerts_new as u64);
        m.ingested(
            &source,
            "duplicate",
            (report.hotspots_duplicate + report.alerts_duplicate) as u64,
        );
        m.events(report.events_new, report.events_updated);
        self.publish_ingest(&report);
        Ok(report)
    }

    /// Tells open streams what an ingest stored: its hotspots (by id, with their units) and the
    /// events it touched, as the store reported them after the commit.
    fn publish_ingest(&self, report: &IngestReport) {
        if self.cluster().is_some() {
            // The batch's transaction wrote its live row; every node relays it (`relay.rs`).
            return;
        }
        let live = self.live();
        if !live.has_listeners() {
            return;
        }
        let tag = |p: &crate::store::Placed| UnitTag::new(p.county.clone(), p.township.clone());
        // One message for the whole ingest (`live.rs`): a batch may touch hundreds of events.
        let mut updates = Vec::with_capacity(1 + report.touched_events.len());
        if !report.stored_hotspots.is_empty() {
            updates.push(LiveUpdate::Hotspots(
                report
                    .stored_hotspots
                    .iter()
                    .map(|p| LiveHotspot {
                        id: p.id,
                        lon: p.lon,
                        lat: p.lat,
                        units: tag(p),
                    })
                    .collect(),
            ));
        }
        for e in &report.touched_events {
            updates.push(LiveUpdate::Event {
                id: e.id,
                units: tag(e),
            });
        }
        live.publish_all(updates);
    }

    /// Scans a scene file and stores its hotspots and summary. A scene whose bytes are already
    /// stored is not scanned again.
    pub async fn ingest_scene_file(
        &self,
        path: &Path,
        source: &str,
    ) -> Result<Ingested, ServiceError> {
        let p = path.to_path_buf();
        let sha = tokio::task::spawn_blocking(move || sha256_file(&p))
            .await
            .map_err(|e| ServiceError::Task(e.to_string()))??;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.ingest_scene_hashed(path, &name, sha, source).await
    }

    /// As [`Service::ingest_scene_file`] when the hash is already known (uploads hash while
    /// they stream); `name` is what the scene is called in records and messages.
    pub async fn ingest_scene_hashed(
        &self,
        path: &Path,
        name: &str,
        sha: String,
        source: &str,
    ) -> Result<Ingested, ServiceError> {
        let p = path.to_path_buf();
        self.scan_and_store(name, Some(path), sha, source, move || {
            scan_scene(&p, ModelChoice::FromScene, &|_| {})
        })
        .await
    }

    /// Scans the granule that `files` make (an L1B pair, an SDR set, or one of their files
    /// with the partners beside it; `product::open`) in its native geometry and stores its
    /// hotspots and summary like a scene. The granule's hash is over its files' hashes in name
    /// order, so the same granule given by any of its files is stored once.
    pub async fn ingest_granule(
        &self,
        files: &[PathBuf],
        source: &str,
    ) -> Result<Ingested, ServiceError> {
        let given = files.to_vec();
        let opened = tokio::task::spawn_blocking(move || {
            let granule = crate::product::open(&given);
            let mut names = match &granule {
                Ok(g) => g.files.clone(),
                Err(_) => given.clone(),
            };
            names.sort();
            let sha = granule_sha(&names)?;
            Ok::<_, ServiceError>((granule, names, sha))
        })
        .await
        .map_err(|e| ServiceError::Task(e.to_string()))??;
        let (granule, names, sha) = opened;
        let name = names
            .iter()
            .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect::<Vec<_>>()
            .join(" + ");
        // A granule of one file is named by it (its reader's errors start with it); of several,
        // by them all, before the one file an error names.
        let file = match names.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        };
        let granule = granule.map_err(|e| ServiceError::Scan {
            name: name.clone(),
            file: file.clone(),
            source: Box::new(crate::Error::from(e)),
        })?;
        self.scan_and_store(&name, file.as_deref(), sha, source, move || {
            crate::scan::scan_granule(&granule, ModelChoice::FromScene, &|_| {})
        })
        .await
    }

    /// Scans (with `scan`, on a blocking thread behind the scan slots) and stores a scene's
    /// hotspots, summary and coverage, unless its hash is already stored. `file` is the one
    /// file scanned, if one (a scan error that names it first is not prefixed by `name`).
    async fn scan_and_store(
        &self,
        name: &str,
        file: Option<&Path>,
        sha: String,
        source: &str,
        scan: impl FnOnce() -> crate::Result<crate::scan::ScanResult> + Send + 'static,
    ) -> Result<Ingested, ServiceError> {
        let known = sha.clone();
        if self.store(move |s| s.knows(&known)).await? {
            return Ok(Ingested {
                sha256: Some(sha),
                report: IngestReport {
                    already_ingested: true,
                    ..IngestReport::default()
                },
                warnings: Vec::new(),
                notes: Vec::new(),
            });
        }
        let name = name.to_string();
        let file = file.map(Path::to_path_buf);
        let m = self.metrics();
        let waiting = m.queue_depth() as usize;
        if waiting >= self.inner.scan_capacity {
            m.error("busy");
            return Err(ServiceError::Busy(waiting));
        }
        m.queue_add(1);
        let result = async {
            let _slot = self
                .inner
                .scan_slots
                .acquire()
                .await
                .map_err(|e| ServiceError::Task(e.to_string()))?;
            let t0 = Instant::now();
            let placer = self.inner.placer.clone();
            let scanned = tokio::task::spawn_blocking(move || {
                // What each unit's land looked like to this overpass (fair rankings).
                scan().map(|scan| {
                    let coverage = crate::rank::coverage::tally(&scan.coverage_samples, |x, y| {
                        rankings::unit_codes(placer.as_ref(), x, y)
                    });
                    (scan, coverage)
                })
            })
            .await
            .map_err(|e| ServiceError::Task(e.to_string()))?;
            m.scan_time(t0.elapsed());
            scanned.map_err(|source| ServiceError::Scan {
                name: name.clone(),
                file: file.clone(),
                source: Box::new(source),
            })
        }
        .await;
        m.queue_add(-1);
        let (scan, coverage) = result.inspect_err(|_| m.error("scan"))?;
        if let Some(t) = scan.meta.acq_time {
            self.check_time(t).map_err(|message| {
                m.error("scan");
                ServiceError::Time {
                    name: name.clone(),
                    field: "acq_time",
                    message,
                }
            })?;
        }
        let batch = IngestBatch {
            origin: Origin::Scene {
                sha256: sha.clone(),
                name,
                acq_time: scan.meta.acq_time,
                satellite: scan.meta.satellite.clone(),
                sensor: scan.meta.sensor.clone(),
                model: scan.model_name.clone(),
                shape: scan.shape,
                summary: scan.detection.summary.clone(),
                coverage,
            },
            source: source.to_string(),
            hotspots: scan.hotspots,
            alerts: Vec::new(),
        };
        let report = self.ingest(batch).await?;
        Ok(Ingested {
            sha256: Some(sha),
            report,
            warnings: Vec::new(),
            notes: Vec::new(),
        })
    }

    /// Parses a FIRMS CSV or GeoJSON feed (`name` decides: `.geojson`/`.json` is GeoJSON), or a
    /// CSPP AFIMG text file (named `AFIMG_….txt`).
    pub fn parse_feed(name: &str, bytes: &[u8]) -> Result<Feed, ReadError> {
        let path = Path::new(name);
        if viirs_af::identify(path) == Some(viirs_af::FireProductKind::AfimgText) {
            return viirs_af::read_afimg_text(path, bytes)
                .map(|p| p.feed)
                .map_err(|e| ReadError::Product(Box::new(e)));
        }
        if crate::product::modis_af::identify(path) {
            // HDF4 is read from the file by the library (the inbox and ingest hand its path;
            // `bytes`, checked complete, are what is hashed).
            return crate::product::modis_af::read(path)
                .map_err(|e| ReadError::ModisProduct(Box::new(e)));
        }
        if is_json_name(name) {
            read_geojson(path, bytes)
        } else {
            read_csv(path, bytes)
        }
    }

    /// Stores the rows of a parsed feed; the bytes' hash makes a repeat a no-op.
    pub async fn ingest_feed(
        &self,
        name: &str,
        bytes: &[u8],
        mut feed: Feed,
        source: &str,
    ) -> Result<Ingested, ServiceError> {
        // Rows dated where no detection can be (year 1, 1970, the future) become warnings.
        self.screen_times(&mut feed);
        let sha = sha256_hex(bytes);
        // The file line (or feature) of each row, to name a row the store refuses.
        let lines: Vec<u64> = feed.rows.iter().map(|r| r.line).collect();
        let unit = if is_json_name(name) {
            "feature"
        } else {
            "line"
        };
        let batch = IngestBatch {
            origin: Origin::Feed {
                sha256: sha.clone(),
                name: name.to_string(),
                rows: feed.rows.len(),
            },
            source: source.to_string(),
            hotspots: feed.rows.into_iter().map(|r| r.hotspot).collect(),
            alerts: Vec::new(),
        };
        let report = self.ingest(batch).await.map_err(|e| match e {
            // A full disk is not the row's fault: it stays a storage failure (503).
            ServiceError::Store(source @ StoreError::Row { index, .. })
                if source.storage_cause().is_none() =>
            {
                ServiceError::FeedRow {
                    name: name.to_string(),
                    unit,
                    line: lines.get(index.wrapping_sub(1)).copied().unwrap_or(0),
                    source: Box::new(source),
                }
            }
            other => other,
        })?;
        Ok(Ingested {
            sha256: Some(sha),
            report,
            warnings: feed.warnings,
            notes: Vec::new(),
        })
    }

    /// Reads and stores a feed file (rows that cannot be read are skipped and reported).
    pub async fn ingest_feed_file(
        &self,
        path: &Path,
        source: &str,
    ) -> Result<Ingested, ServiceError> {
        let bytes = tokio::fs::read(path).await.map_err(|e| ServiceError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        self.ingest_feed_bytes(path, &bytes, source).await
    }

    /// As [`Service::ingest_feed_file`] with the file's bytes already read (the inbox reads
    /// them once to see that the file is complete, and ingests exactly what it checked).
    pub async fn ingest_feed_bytes(
        &self,
        path: &Path,
        bytes: &[u8],
        source: &str,
    ) -> Result<Ingested, ServiceError> {
        let name = path.to_string_lossy().into_owned();
        let feed =
            Service::parse_feed(&name, bytes).inspect_err(|_| self.metrics().error("feed"))?;
        self.ingest_feed(&name, bytes, feed, source).await
    }

    /// Stores sensor alerts and fuses them, for a writer whose scope is `reach`: an alert placed,
    /// or an event it would change, outside `reach` fails with `StoreError::OutOfReach` and
    /// nothing is stored.
    pub async fn ingest_alerts(
        &self,
        alerts: Vec<SensorAlert>,
        reach: Scope,
    ) -> Result<IngestReport, ServiceError> {
        self.ingest_within(
            IngestBatch {
                origin: Origin::Alerts,
                source: "sensor".into(),
                hotspots: Vec::new(),
                alerts,
            },
            reach,
        )
        .await
    }

    /// Ingests a scene, feed or official fire product file (`FileKind::of` decides).
    pub async fn ingest_path(&self, path: &Path, source: &str) -> Result<Ingested, ServiceError> {
        if is_sentinel2_product(path) {
            return self.ingest_sentinel2(path, source).await;
        }
        if is_landsat_product(path) {
            return self.ingest_landsat(path, source).await;
        }
        match FileKind::of(path) {
            Some(FileKind::LandsatProduct) => self.ingest_landsat(path, source).await,
            Some(FileKind::Feed) => self.ingest_feed_file(path, source).await,
            Some(FileKind::FireProduct) => self.ingest_fire_product(path, path, source).await,
            Some(FileKind::GranulePart) => self.ingest_granule(&[path.to_path_buf()], source).await,
            _ => self.ingest_scene_file(path, source).await,
        }
    }

    /// Scans and stores a Landsat 8/9 Collection 2 Level-1 product given as its folder, its
    /// `.tar`, its MTL or one of its files (`scan::scan_landsat`), like a scene: hotspots,
    /// observation summary, coverage. Its hash is the tar's, or over the MTL and the band and QA
    /// files the MTL names, so a product given either way is stored once.
    pub async fn ingest_landsat(
        &self,
        path: &Path,
        source: &str,
    ) -> Result<Ingested, ServiceError> {
        use crate::product::landsat_c2l1;
        let p = path.to_path_buf();
        let shown = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let located = tokio::task::spawn_blocking(move || locate_landsat(&p, &shown))
            .await
            .map_err(|e| ServiceError::Task(e.to_string()))??;
        let (product, sha) = located;
        let name = product.mtl.product_id.clone();
        self.scan_and_store(&name, Some(path), sha, source, move || {
            let scene = landsat_c2l1::read_product(&product)?;
            crate::scan::scan_landsat(&scene, ModelChoice::FromScene, &|_| {})
        })
        .await
    }

    /// Scans and stores a Sentinel-2 MSI product given as its `.SAFE` folder, its `.zip` or its
    /// metadata file (`scan::scan_sentinel2`), like a scene. Its hash is the zip's, or over the
    /// two metadata files and the band files, so a product given again is stored once.
    pub async fn ingest_sentinel2(
        &self,
        path: &Path,
        source: &str,
    ) -> Result<Ingested, ServiceError> {
        use crate::product::sentinel2_l1c;
        let p = path.to_path_buf();
        let shown = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let located = tokio::task::spawn_blocking(move || locate_sentinel2(&p, &shown))
            .await
            .map_err(|e| ServiceError::Task(e.to_string()))??;
        let (product, sha) = located;
        let name = product.mtd.product_uri.clone();
        self.scan_and_store(&name, Some(path), sha, source, move || {
            let scene = sentinel2_l1c::read_product(&product)?;
            crate::scan::scan_sentinel2(&scene, ModelChoice::FromScene, &|_| {})
        })
        .await
    }

    /// Stores an official fire product's fire pixels (VNP14IMG, AFIMG text or NetCDF, MOD14/
    /// MYD14). With a fire mask and its geolocation (VNP14IMG + VNP03IMG, MOD14 + MOD03 beside
    /// it) the product is stored
    /// like a scene, with its observation summary and coverage per unit, so it ranks fairly;
    /// otherwise like a feed (coverage unknown, said in `notes`). `name` is the file's name as
    /// the sender knows it (the product kind, time and satellite come from it); `path` is
    /// where it lies, with its geolocation beside it.
    pub async fn ingest_fire_product(
        &self,
        path: &Path,
        name: &Path,
        source: &str,
    ) -> Result<Ingested, ServiceError> {
        let (p, n) = (path.to_path_buf(), name.to_path_buf());
        let placer = self.inner.placer.clone();
        let read = tokio::task::spawn_blocking(move || {
            let sha = sha256_file(&p)?;
            let product = if crate::product::modis_af::identify(&n) {
                // MOD14/MYD14 (HDF4, read from `p`), with its MOD03 beside it for coverage.
                crate::product::modis_af::read_product(&p)
                    .map_err(|e| ServiceError::Feed(ReadError::ModisProduct(Box::new(e))))?
            } else {
                match viirs_af::identify(&n) {
                    Some(viirs_af::FireProductKind::AfimgText) => {
                        let bytes = std::fs::read(&p).map_err(|e| ServiceError::Io {
                            path: p.clone(),
                            source: e,
                        })?;
                        viirs_af::read_afimg_text(&n, &bytes)
                    }
                    _ => viirs_af::read(&p),
                }
                .map_err(|e| ServiceError::Feed(ReadError::Product(Box::new(e))))?
            };
            let coverage = product.coverage.as_ref().map(|c| {
                crate::rank::coverage::tally(&c.samples, |x, y| {
                    rankings::unit_codes(placer.as_ref(), x, y)
                })
            });
            Ok::<_, ServiceError>((sha, product, coverage))
        })
        .await
        .map_err(|e| ServiceError::Task(e.to_string()))?;
        let (sha, product, coverage) = read.inspect_err(|_| self.metrics().error("feed"))?;
        let display = name
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for note in &product.warnings {
            tracing::warn!("{note}");
        }
        let origin = match (&product.coverage, coverage) {
            (Some(c), Some(coverage)) => Origin::Scene {
                sha256: sha.clone(),
                name: display,
                acq_time: Some(product.meta.start),
                satellite: Some(product.meta.satellite.clone()),
                sensor: Some(product.meta.kind.sensor().into()),
                model: product.meta.kind.name().to_string(),
                shape: c.shape,
                summary: c.summary.clone(),
                coverage,
            },
            _ => Origin::Feed {
                sha256: sha.clone(),
                name: display,
                rows: product.feed.rows.len(),
            },
        };
        let batch = IngestBatch {
            origin,
            source: source.to_string(),
            hotspots: product.feed.rows.into_iter().map(|r| r.hotspot).collect(),
            alerts: Vec::new(),
        };
        let report = self.ingest(batch).await?;
        Ok(Ingested {
            sha256: Some(sha),
            report,
            warnings: product.feed.warnings,
            notes: product.warnings,
        })
    }
}

/// True when a feed's name says GeoJSON (`.geojson`, `.json`); otherwise it is FIRMS CSV.
fn is_json_name(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("geojson") || e.eq_ignore_ascii_case("json"))
}

/// What a file in the inbox or on the command line is taken for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Scene,
    Feed,
    /// An official fire product (VNP14IMG, AFIMG text or NetCDF, MOD14/MYD14), by its name.
    FireProduct,
    /// One file of a multi-file granule (an L1B pair, an SDR set), by its name: scanned with
    /// the rest of its granule (`granules`).
    GranulePart,
    /// A Landsat 8/9 Collection 2 Level-1 product packed as USGS delivers it (`<id>.tar`).
    LandsatProduct,
    /// A Sentinel-2 L1C/L2A product zipped as the Copernicus Data Space delivers it
    /// (`S2?_MSIL1C_….zip`).
    Sentinel2Product,
}

impl FileKind {
    /// By name for official fire products, else by extension; `None` for files that are
    /// neither (left alone by the inbox).
    pub fn of(path: &Path) -> Option<FileKind> {
        if viirs_af::identify(path).is_some() {
            return Some(FileKind::FireProduct);
        }
        if crate::product::modis_af::identify(path) {
            // MOD14/MYD14: an official product, its fire mask placed by its MOD03 for coverage.
            return Some(FileKind::FireProduct);
        }
        if granules::part_of(path).is_some() {
            return Some(FileKind::GranulePart);
        }
        let name = path.file_name()?.to_str()?;
        if crate::product::sentinel2_l1c::name_parts(name).is_some() {
            // The product's `.zip`; a `.SAFE` folder is taken by `strawfire ingest`.
            return name
                .to_ascii_lowercase()
                .ends_with(".zip")
                .then_some(FileKind::Sentinel2Product);
        }
        if let Some(parts) = crate::product::landsat_c2l1::name_parts(name) {
            // The product's `.tar`; its loose files (band TIFs, MTL) are not scenes or feeds
            // of their own: the inbox leaves them alone (drop the tar, or `strawfire ingest`
            // the folder).
            return (parts.suffix.eq_ignore_ascii_case("tar")).then_some(FileKind::LandsatProduct);
        }
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "tif" | "tiff" | "img" | "nc" | "h5" | "hdf" | "vrt" => Some(FileKind::Scene),
            "csv" | "txt" | "geojson" | "json" => Some(FileKind::Feed),
            _ => None,
        }
    }
}

/// An official fire product by its name (VNP14IMG/VJ114IMG/VJ214IMG, AFIMG text or NetCDF,
/// MOD14/MYD14).
pub fn is_fire_product(path: &Path) -> bool {
    viirs_af::identify(path).is_some() || crate::product::modis_af::identify(path)
}

/// An official fire product and the geolocation [`Service::ingest_fire_product`] would place
/// its fire mask with (`VNP03IMG` named by a VNP14IMG, the `M?D03` of a MOD14), when it lies
/// beside it: the files a scene job of the product carries (#19), so the worker that reads it
/// finds the geolocation beside it in the spool. Blocking; reads attributes, never variables.
pub fn fire_product_files(path: &Path) -> Vec<PathBuf> {
    let geo = if crate::product::modis_af::identify(path) {
        crate::product::modis_af::geolocation_of(path)
    } else {
        viirs_af::geolocation_of(path)
    };
    std::iter::once(path.to_path_buf()).chain(geo).collect()
}

/// A Sentinel-2 product given by its `.SAFE` folder, `.zip` (by name, or a folder or zip under
/// another name holding one) or its metadata file.
pub fn is_sentinel2_product(path: &Path) -> bool {
    let by_name = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        crate::product::sentinel2_l1c::name_parts(n).is_some()
            || matches!(n, "MTD_MSIL1C.xml" | "MTD_MSIL2A.xml")
    });
    by_name || (path.is_dir() && crate::product::sentinel2_l1c::locate(path).is_ok())
}

/// A Landsat 8/9 Collection 2 Level-1 product given by its folder, `.tar`, MTL or one of its
/// files.
pub fn is_landsat_product(path: &Path) -> bool {
    let by_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(crate::product::landsat_c2l1::name_parts)
        .is_some();
    by_name || (path.is_dir() && crate::product::landsat_c2l1::locate(path).is_ok())
}

/// The hash a granule of `files` (sorted as [`Service::ingest_granule`] sorts them) is stored
/// under: over its files' hashes in that order, so the same granule given by any of its files
/// is one scene.
pub fn granule_sha(files: &[PathBuf]) -> Result<String, ServiceError> {
    let mut h = Sha256::new();
    for f in files {
        h.update(sha256_file(f)?.as_bytes());
    }
    Ok(hex(&h.finalize()))
}

/// A Landsat product located from `path` (folder, `.tar`, MTL or one of its files) and the
/// hash it is stored under: the tar's, or over the files its MTL names. `shown` names it in an
/// error. Blocking.
pub fn locate_landsat(
    path: &Path,
    shown: &str,
) -> Result<(crate::product::landsat_c2l1::Product, String), ServiceError> {
    use crate::product::landsat_c2l1;
    let product = landsat_c2l1::locate(path).map_err(|e| ServiceError::Scan {
        name: shown.to_string(),
        file: Some(path.to_path_buf()),
        source: Box::new(crate::Error::from(e)),
    })?;
    let sha = match &product.location {
        landsat_c2l1::Location::Tar { archive, .. } => sha256_file(archive)?,
        landsat_c2l1::Location::Folder(_) => {
            let mtl = &product.mtl;
            let mut names: Vec<&String> = mtl.bands.values().map(|(n, _, _)| n).collect();
            names.extend(mtl.qa_pixel.iter().chain(mtl.qa_radsat.iter()));
            let mut h = Sha256::new();
            for n in names {
                // A missing file fails in the reader, naming it.
                if let Ok(f) = product.file(n, "") {
                    h.update(sha256_file(&f)?.as_bytes());
                }
            }
            hex(&h.finalize())
        }
    };
    Ok((product, sha))
}

/// A Sentinel-2 product located from `path` (`.SAFE` folder, `.zip` or metadata file) and the
/// hash it is stored under: the zip's, or over its two metadata files and band files. Blocking.
pub fn locate_sentinel2(
    path: &Path,
    shown: &str,
) -> Result<(crate::product::sentinel2_l1c::Product, String), ServiceError> {
    use crate::product::sentinel2_l1c;
    let product = sentinel2_l1c::locate(path).map_err(|e| ServiceError::Scan {
        name: shown.to_string(),
        file: Some(path.to_path_buf()),
        source: Box::new(crate::Error::from(e)),
    })?;
    let sha = match &product.location {
        sentinel2_l1c::Location::Zip { archive, .. } => sha256_file(archive)?,
        sentinel2_l1c::Location::Folder(root) => {
            let mut h = Sha256::new();
            h.update(sha256_file(&product.mtd_path)?.as_bytes());
            h.update(sha256_file(&product.tile_path)?.as_bytes());
            for rel in &product.mtd.image_files {
                // A missing band fails in the reader, naming it.
                if let Ok(d) = sha256_file(&root.join(format!("{rel}.jp2"))) {
                    h.update(d.as_bytes());
                }
            }
            hex(&h.finalize())
        }
    };
    Ok((product, sha))
}

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// SHA-256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String, ServiceError> {
    let io = |source| ServiceError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(io)?;
    Ok(hex(&h.finalize()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(name: &str, file: Option<&str>, source: crate::Error) -> String {
        ServiceError::Scan {
            name: name.to_string(),
            file: file.map(PathBuf::from),
            source: Box::new(source),
        }
        .to_string()
    }

    fn missing_band(path: &str) -> crate::Error {
        crate::raster::RasterError::MissingBand {
            path: PathBuf::from(path),
            band: "I5".into(),
            sensor: "viirs-i".into(),
            available: "I1".into(),
        }
        .into()
    }

    /// A reader's error that names the scanned file first is the message as is: the upload
    /// called `cut.tif` lying at our path, or a file under its own name, is named once.
    #[test]
    fn a_scan_error_naming_its_file_names_it_once() {
        let why =
            "no band described as `I5` (the viirs-i model requires it); the file's bands are: I1";
        let at = "/srv/uploads/ab12.tif";
        assert_eq!(
            scan("cut.tif", Some(at), missing_band(at)),
            format!("{at}: {why}")
        );
        assert_eq!(
            scan("cut.tif", None, missing_band("cut.tif")),
            format!("cut.tif: {why}")
        );
    }

    /// A granule's reader naming one of its files first names that file once, then its
    /// partners (the path as the reader said it: the API and the spool shorten it to the name).
    #[test]
    fn a_granule_error_names_the_file_at_fault_once_with_its_partners() {
        let first = scan("a.nc + b.nc", None, missing_band("/in/a.nc"));
        assert!(
            first.starts_with("/in/a.nc: no band") && first.ends_with(": I1 (granule with b.nc)"),
            "{first}"
        );
        let second = scan("a.nc + b.nc + c.nc", None, missing_band("b.nc"));
        assert!(
            second.starts_with("b.nc: no band") && second.ends_with(" (granule with a.nc + c.nc)"),
            "{second}"
        );
        // Another granule's file (`xa.nc`) is not one of these.
        let other = scan("a.nc + b.nc", None, missing_band("/in/xa.nc"));
        assert!(
            other.starts_with("scene a.nc + b.nc: /in/xa.nc: no band"),
            "{other}"
        );
    }

    /// An error that does not start with the file (another file, no file at all) keeps
    /// `scene NAME: ` before it, so the message still says which scene failed.
    #[test]
    fn a_scan_error_not_naming_its_file_is_prefixed_with_the_scene() {
        let unknown = crate::model::ModelError::Unknown {
            name: "x".into(),
            known: "viirs-i".into(),
        };
        let e = scan("cut.tif", Some("/srv/cut.tif"), unknown.into());
        assert_eq!(e, "scene cut.tif: unknown sensor `x`; known: viirs-i");
        // A name that only begins the same (`cut.tif.1`) is not the file.
        let longer = scan("cut.tif", None, missing_band("cut.tif.1"));
        assert!(longer.starts_with("scene cut.tif: cut.tif.1: "), "{longer}");
    }
}
