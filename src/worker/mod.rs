//! Workers of a deployment on PostgreSQL (#19): `strawfire worker`, and the worker `serve` runs
//! beside its API unless `--no-worker`. Stateless: everything a worker does is a row it claims
//! from the store (`store::jobs`), so any number of them on any machines share the work and a
//! dead one's job is finished by another.
//!
//! - **Scene jobs** (`spool.rs` queues them): every kind of product, as one unit in the spool (a
//!   scene file, a Landsat or Sentinel-2 archive or folder, the files of a granule); up to
//!   `limits.scan_workers` at once per worker, each scanned and stored through the one ingest
//!   path (`Service::ingest_scene_hashed`, `ingest_landsat`, `ingest_sentinel2`,
//!   `ingest_granule`, `ingest_fire_product`: an official fire product is read here too, not
//!   on the node that received it); and a feed URL given once to `strawfire ingest` (op
//!   `fetch`), fetched here like a configured source's poll.
//!   A claim holds a lease (`[worker] lease_s`) renewed every third of it while the scan runs;
//!   a worker killed mid-scan stops renewing and another worker claims the job once the lease
//!   has passed. Two workers never both finish a scene: the second claim exists only after the
//!   first lease passed, the first claim's outcome is then refused (`JobStore::finish` checks
//!   the claim), and its ingest, if it got that far, found the scene's hash stored.
//! - **Periodic jobs**: one per configured feed source (`feed:<name>`) and the escalation sweep
//!   (`sweep:escalation`), claimed like scenes and put back due after their interval; so each
//!   runs once per interval across all processes, not once per node.
//! - **Deliveries** are claimed from their own table by the delivery worker
//!   (`notify::deliver`, `DeliveryStore::claim_deliveries`), which every worker process runs.
//!
//! A job claimed more than `[worker] max_attempts` times without an outcome (each claim ended by
//! a lost lease: a file that kills the worker reading it) fails for good instead of killing
//! every worker in turn.

pub mod spool;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::{Config, SourceConfig};
use crate::service::{Cluster, Service, ServiceError};
use crate::store::jobs::{feed_key, ClaimedJob, FailureKind, JobKind, JobOutcome, ESCALATION_KEY};
use spool::SceneOp;

/// What a passing failure waits before the job is claimable again.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// The job runner of one process.
#[derive(Clone)]
pub struct Worker {
    service: Service,
    cluster: Cluster,
    /// This process among the workers (`host:pid:n`), in the jobs table's `worker` column.
    name: String,
    scan_slots: usize,
    sources: Vec<SourceConfig>,
    escalation_every: Duration,
    client: reqwest::Client,
}

impl Worker {
    /// The runner of `service` (which must have a cluster: the PostgreSQL store).
    pub fn new(service: Service, config: &Config) -> Result<Worker, ServiceError> {
        let cluster = service
            .cluster()
            .cloned()
            .ok_or_else(|| ServiceError::Task("workers need the PostgreSQL store".into()))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .connect_timeout(Duration::from_secs(20))
            .user_agent(concat!("strawfire/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ServiceError::Task(format!("HTTP client: {e}")))?;
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "host".into());
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Worker {
            service,
            cluster,
            name: format!("{host}:{}:{n}", std::process::id()),
            scan_slots: config.limits.scan_workers,
            sources: config.sources.clone(),
            escalation_every: Duration::from_secs_f64(config.dispatch.escalation_interval_s),
            client,
        })
    }

    /// This worker's name in the jobs table.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn lease(&self) -> Duration {
        Duration::from_secs_f64(self.cluster.worker.lease_s)
    }

    /// Runs until `stop` turns true; the jobs in hand are finished first.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let periodic: Vec<(JobKind, String)> = self
            .sources
            .iter()
            .map(|s| (JobKind::Feed, feed_key(&s.name)))
            .chain([(JobKind::Sweep, ESCALATION_KEY.to_string())])
            .collect();
        let jobs = self.cluster.jobs.clone();
        let made = periodic.clone();
        let ensured = tokio::task::spawn_blocking(move || {
            made.iter()
                .try_for_each(|(kind, key)| jobs.ensure_periodic(*kind, key, &json!({})))
        })
        .await;
        match ensured {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("worker: cannot add the periodic jobs: {e}"),
            Err(e) => tracing::error!("worker: cannot add the periodic jobs: {e}"),
        }
        let mut loops = JoinSet::new();
        for _ in 0..self.scan_slots {
            let me = self.clone();
            loops.spawn(me.claim_loop(vec![JobKind::Scene], Vec::new(), stop.clone()));
        }
        let keys = periodic.into_iter().map(|(_, k)| k).collect();
        loops.spawn(self.clone().claim_loop(Vec::new(), keys, stop.clone()));
        while loops.join_next().await.is_some() {}
    }

    /// Claims and runs jobs of `kinds` / `keys` one at a time until `stop`.
    async fn claim_loop(
        self,
        kinds: Vec<JobKind>,
        keys: Vec<String>,
        mut stop: watch::Receiver<bool>,
    ) {
        let idle = Duration::from_secs_f64(self.cluster.worker.poll_s);
        loop {
            // A dropped sender stops too (else `changed()` below would answer at once, for ever).
            if *stop.borrow() || stop.has_changed().is_err() {
                return;
            }
            let (jobs, name, lease) = (self.cluster.jobs.clone(), self.name.clone(), self.lease());
            let (k, ks) = (kinds.clone(), keys.clone());
            let claimed = self
                .service
                .store(move |_| jobs.claim(&name, &k, &ks, lease))
                .await;
            let wait = match claimed {
                Ok(Some(job)) => {
                    self.run_claimed(job).await;
                    continue;
                }
                Ok(None) => idle,
                Err(e) => {
                    tracing::warn!("worker: claiming a job: {e}");
                    idle.max(Duration::from_secs(1))
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Runs one claimed job with its heartbeat and records the outcome.
    async fn run_claimed(&self, job: ClaimedJob) {
        let max = self.cluster.worker.max_attempts;
        let outcome = if job.attempt > max && job.kind == JobKind::Scene {
            given_up(&job)
        } else {
            let work = self.work(&job);
            tokio::pin!(work);
            let lease = self.lease();
            let mut beat = tokio::time::interval(lease / 3);
            beat.tick().await;
            loop {
                tokio::select! {
                    out = &mut work => break out,
                    _ = beat.tick() => {
                        let (jobs, j) = (self.cluster.jobs.clone(), job.clone());
                        match self.service.store(move |_| jobs.heartbeat(&j, lease)).await {
                            Ok(true) => {}
                            Ok(false) => tracing::warn!(
                                "worker: job {} ({}): lease lost to another worker; \
                                 its outcome here will not be recorded", job.id, job.key),
                            Err(e) => tracing::warn!("worker: heartbeat of job {}: {e}", job.id),
                        }
                    }
                }
            }
        };
        // The last attempt a scene has: its reason to try again is the job's failure.
        let outcome = match outcome {
            JobOutcome::Retry { error, .. } if job.attempt >= max && job.kind == JobKind::Scene => {
                JobOutcome::Failed {
                    kind: FailureKind::Unavailable,
                    error: format!(
                        "{} (tried {} times, the most [worker] max_attempts allows)",
                        error, job.attempt
                    ),
                }
            }
            other => other,
        };
        if let JobOutcome::Failed { error: e, .. } | JobOutcome::Retry { error: e, .. } = &outcome {
            tracing::warn!("worker: job {} ({}): {e}", job.id, job.key);
        }
        let settled = matches!(outcome, JobOutcome::Done(_) | JobOutcome::Failed { .. });
        let (jobs, j, o) = (self.cluster.jobs.clone(), job.clone(), outcome);
        match self.service.store(move |_| jobs.finish(&j, &o)).await {
            Ok(true) => {
                if settled && job.kind == JobKind::Scene {
                    spool::remove_unit(&job.payload).await;
                }
            }
            Ok(false) => tracing::warn!(
                "worker: job {} ({}) was taken over; its outcome here is dropped",
                job.id,
                job.key
            ),
            Err(e) => tracing::warn!(
                "worker: job {}: cannot record its outcome ({e}); it runs again once its \
                 lease has passed",
                job.id
            ),
        }
    }

    async fn work(&self, job: &ClaimedJob) -> JobOutcome {
        match job.kind {
            JobKind::Scene => self.scene(job).await,
            JobKind::Sweep => {
                let again = |payload| JobOutcome::Again {
                    after: self.escalation_every,
                    payload,
                };
                match self.service.escalate_due().await {
                    Ok(done) => again(json!({"escalated": done.len()})),
                    Err(e) => {
                        tracing::error!("escalation sweep: {e}");
                        again(json!({"error": e.to_string()}))
                    }
                }
            }
            JobKind::Feed => self.feed(job).await,
        }
    }

    async fn scene(&self, job: &ClaimedJob) -> JobOutcome {
        let text = |k: &str| {
            job.payload
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let (path, name, sha, source) = (
            std::path::PathBuf::from(text("path")),
            text("name"),
            text("sha256"),
            text("source"),
        );
        let Some(op) = SceneOp::parse(&text("op")) else {
            return JobOutcome::Failed {
                kind: FailureKind::Unavailable,
                error: format!("{name}: unknown scene op `{}`", text("op")),
            };
        };
        if op == SceneOp::Fetch {
            // A feed URL given once (`strawfire ingest URL`): nothing in the spool.
            return self.fetch(job, &name, &text("url"), &source).await;
        }
        // The unit as spooled: the file, the product folder, or the granule's files.
        let paths = spool::spooled_paths(&job.payload);
        for p in paths.iter().chain(std::iter::once(&path)) {
            if !tokio::fs::try_exists(p).await.unwrap_or(false) {
                return JobOutcome::Retry {
                    error: format!(
                        "{} is not reachable from this worker ([worker] spool_dir must be a \
                         folder every node and worker shares under the same path)",
                        p.display()
                    ),
                    after: RETRY_AFTER,
                };
            }
        }
        let first = paths.first().cloned().unwrap_or_else(|| path.clone());
        tracing::info!("worker {}: scanning {name} (job {})", self.name, job.id);
        let done = match op {
            SceneOp::Scene => {
                self.service
                    .ingest_scene_hashed(&path, &name, sha, &source)
                    .await
            }
            SceneOp::Landsat => self.service.ingest_landsat(&first, &source).await,
            SceneOp::Sentinel2 => self.service.ingest_sentinel2(&first, &source).await,
            SceneOp::Granule => self.service.ingest_granule(&paths, &source).await,
            SceneOp::FireProduct => match spool::fire_product_in(&paths) {
                // Its geolocation lies beside it in the spool, where the reader looks.
                Some(p) => self.service.ingest_fire_product(p, p, &source).await,
                None => {
                    return JobOutcome::Failed {
                        kind: FailureKind::Unavailable,
                        error: format!("{name}: no fire product in the job"),
                    }
                }
            },
            SceneOp::Fetch => return self.fetch(job, &name, &text("url"), &source).await,
        };
        match done {
            Ok(ingested) => {
                JobOutcome::Done(serde_json::to_value(&ingested).unwrap_or_else(|_| json!({})))
            }
            Err(e) => {
                let error = crate::service::inbox::chain(&e);
                match e.failure_kind() {
                    // The file: scanning it again cannot help. Its kind is kept, so the node
                    // that queued it answers as if it had scanned it itself.
                    Some(kind) => JobOutcome::Failed { kind, error },
                    // The store, the disk, the process: another try may well work.
                    None => JobOutcome::Retry {
                        error,
                        after: RETRY_AFTER,
                    },
                }
            }
        }
    }

    /// A one-shot fetch of a feed URL (op `fetch`), stored like a configured source's poll; a
    /// failure is the job's (the operator sees it and runs the command again).
    async fn fetch(&self, job: &ClaimedJob, name: &str, url: &str, source: &str) -> JobOutcome {
        tracing::info!("worker {}: fetching {name} (job {})", self.name, job.id);
        match crate::service::feeds::fetch_once(&self.service, &self.client, source, url).await {
            Ok(done) => JobOutcome::Done(serde_json::to_value(&done).unwrap_or_else(|_| json!({}))),
            Err(error) => {
                self.service.metrics().error("feed_poll");
                JobOutcome::Failed {
                    kind: FailureKind::Unreadable,
                    error,
                }
            }
        }
    }

    async fn feed(&self, job: &ClaimedJob) -> JobOutcome {
        let name = job.key.strip_prefix("feed:").unwrap_or_default();
        let Some(source) = self.sources.iter().find(|s| s.name == name) else {
            // Not configured here (claims filter on known keys, so a config changed under us).
            return JobOutcome::Retry {
                error: format!("feed source `{name}` is not configured on this worker"),
                after: RETRY_AFTER,
            };
        };
        let last_ok: Option<DateTime<Utc>> = job
            .payload
            .get("last_ok")
            .and_then(|v| v.as_i64())
            .and_then(|t| Utc.timestamp_opt(t, 0).single());
        let failures = job
            .payload
            .get("failures")
            .and_then(|v| v.as_u64())
            .unwrap_or(0) as u32;
        let now = Utc::now();
        let mut ok = true;
        for url in crate::service::feeds::poll_urls(source, now, last_ok) {
            match crate::service::feeds::poll_once(&self.service, &self.client, name, &url).await {
                Ok((new, dup)) => {
                    tracing::info!("feed {name}: {new} new hotspots, {dup} duplicates")
                }
                Err(e) => {
                    ok = false;
                    self.service.metrics().error("feed_poll");
                    tracing::warn!("feed {name}: {e}");
                }
            }
        }
        let interval = Duration::from_secs_f64(source.interval_s);
        let (after, payload) = if ok {
            (interval, json!({"last_ok": now.timestamp(), "failures": 0}))
        } else {
            let failures = failures + 1;
            let first = Duration::from_secs_f64(source.backoff_s);
            (
                crate::service::feeds::backoff(failures, first, interval),
                json!({"last_ok": last_ok.map(|t| t.timestamp()), "failures": failures}),
            )
        };
        JobOutcome::Again { after, payload }
    }
}

/// The failure of a scene job claimed more than `[worker] max_attempts` times. Its last
/// attempt ended without an outcome (its worker died or hung: a file that kills its reader?),
/// since one that gave a reason to try again was failed with that reason (`run_claimed`); a
/// reason an earlier attempt gave (the spool not reachable there, the store failing) is kept.
fn given_up(job: &ClaimedJob) -> JobOutcome {
    let name = job
        .payload
        .get("name")
        .and_then(|v| v.as_str())
        .unwrap_or(&job.key);
    let mut error = format!(
        "{name}: claimed {} times, the last without an outcome (the worker running it died or \
         hung: a file that kills its reader?)",
        job.attempt - 1
    );
    if let Some(reason) = &job.last_error {
        error.push_str(&format!("; an earlier attempt was put back: {reason}"));
    }
    JobOutcome::Failed {
        kind: FailureKind::Unreadable,
        error,
    }
}

/// The clustered service of a process on the PostgreSQL store: jobs, live log, spool.
pub fn cluster_of(store: Arc<crate::store::PgStore>, config: &Config) -> Cluster {
    Cluster {
        jobs: store.clone(),
        live: store,
        spool: config.spool_dir(),
        worker: config.worker.clone(),
    }
}

/// A worker process's jobs, running (`strawfire worker`).
pub struct RunningWorker {
    /// Its name in the jobs table.
    pub name: String,
    pub service: Service,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl RunningWorker {
    /// Asks every loop to stop (the jobs in hand are finished) and waits until they have.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
    }

    /// Runs until `signal` completes, then shuts down.
    pub async fn until(self, signal: impl std::future::Future<Output = ()>) {
        signal.await;
        tracing::info!("worker {}: finishing the jobs in hand", self.name);
        self.shutdown().await;
    }
}

/// Opens the PostgreSQL store of `config` (`[store] url`, required) and starts a worker: scene,
/// feed and sweep jobs, and the delivery worker. No HTTP API.
pub async fn start(
    config: Config,
    placer: Arc<dyn crate::fuse::Placer>,
) -> Result<RunningWorker, ServiceError> {
    crate::raster::quiet_gdal();
    let Some(url) = config.store.url.clone() else {
        return Err(ServiceError::Task(
            "a worker needs the PostgreSQL store: give --store URL or [store] url".into(),
        ));
    };
    // Opening the store and building the service (it reads the confirmed mask sites) block:
    // the PostgreSQL client must not run on an async thread.
    let built = config.clone();
    let (service, pg) = tokio::task::spawn_blocking(move || {
        let pg = Arc::new(crate::store::PgStore::open(&url)?);
        Ok::<_, crate::store::StoreError>((Service::new(&built, pg.clone(), placer), pg))
    })
    .await
    .map_err(|e| ServiceError::Task(e.to_string()))??;
    let cluster = cluster_of(pg, &config);
    let service = service.with_cluster(cluster.clone());
    // Task changes made here (deliveries, escalations) reach every API node's streams.
    crate::service::relay::forward(service.live(), cluster.live.clone());
    let (tx, rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let worker = Worker::new(service.clone(), &config)?;
    let name = worker.name().to_string();
    tasks.spawn(worker.run(rx.clone()));
    let deliverer =
        crate::notify::deliver::Deliverer::new(service.clone(), &config.webhooks, &config.notify)
            .map_err(|e| ServiceError::Task(format!("webhook client: {e}")))?;
    tasks.spawn(deliverer.run(rx));
    Ok(RunningWorker {
        name,
        service,
        shutdown: tx,
        tasks,
    })
}
