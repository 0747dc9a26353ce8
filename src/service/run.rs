//! Starting and stopping the whole service: store, HTTP API, inbox watcher, feed pollers.
//!
//! Shutdown is one `watch` channel (mini-redis style): every task selects on it. On SIGTERM or
//! ctrl-c the HTTP server stops accepting, finishes the requests in flight (an acknowledged write
//! is committed before its response is sent), the inbox finishes the file in hand and pollers
//! stop between polls. Nothing is lost by a hard kill either: a file only leaves the inbox after
//! its batch is committed, and re-ingesting it is a no-op.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{Service, ServiceError};
use crate::api::{self, auth::Tokens};
use crate::config::Config;
use crate::dispatch::{Clock, SystemClock};
use crate::fuse::Placer;
use crate::store::{PgStore, SqliteStore, Store};

/// The store file under the data directory.
pub const STORE_FILE: &str = "strawfire.sqlite";

/// A running service.
pub struct Running {
    /// The address the API listens on (the real port when the config asked for port 0).
    pub addr: SocketAddr,
    pub service: Service,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Running {
    /// Asks every task to stop and waits until they have.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        // Live streams never end by themselves; graceful shutdown waits for open requests.
        self.service.live().close();
        while self.tasks.join_next().await.is_some() {}
    }

    /// Runs until `signal` completes, then shuts down gracefully.
    pub async fn until(self, signal: impl std::future::Future<Output = ()>) {
        signal.await;
        tracing::info!("shutting down: finishing work in flight");
        self.shutdown().await;
    }
}

/// Opens the store, binds the listener and starts every task.
pub async fn start(config: Config, placer: Arc<dyn Placer>) -> Result<Running, ServiceError> {
    start_clocked(config, placer, Arc::new(SystemClock)).await
}

/// [`start`] with the clock deadlines, escalations and retries are decided against (tests pass
/// a `ManualClock` and move it instead of sleeping).
pub async fn start_clocked(
    config: Config,
    placer: Arc<dyn Placer>,
    clock: Arc<dyn Clock>,
) -> Result<Running, ServiceError> {
    // GDAL's own stderr printing would duplicate the errors the service logs itself.
    crate::raster::quiet_gdal();
    let service = open_service(&config, placer, clock).await?;
    let io = |path: PathBuf| move |source| ServiceError::Io { path, source };
    let tokens = Tokens::from_config(&config.tokens_with_env())
        .map_err(|m| ServiceError::Task(format!("tokens: {m}")))?;
    if tokens.is_empty() {
        tracing::warn!(
            "no tokens configured: every API call but healthz and metrics will get 401 \
             (set STRAWFIRE_ADMIN_TOKEN or add [[tokens]])"
        );
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(io(PathBuf::from(config.listen.to_string())))?;
    let addr = listener
        .local_addr()
        .map_err(io(PathBuf::from(config.listen.to_string())))?;
    // TCP_NODELAY on every connection: an answer's last bytes (the end of a chunked body,
    // written after its first chunk) must not wait for the client's delayed ACK of the first
    // (Nagle's algorithm; up to 40 ms on Linux, the tail of the 50-client load run).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY on an accepted connection: {e}");
        }
    });
    let (tx, rx) = watch::channel(false);
    let mut tasks = JoinSet::new();

    let app = api::router(api::AppState::new(
        service.clone(),
        tokens,
        config.limits.clone(),
    ));
    let mut stop = rx.clone();
    tasks.spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!("HTTP server: {e}");
        }
    });

    let inbox = config.inbox_dir();
    tokio::fs::create_dir_all(&inbox)
        .await
        .map_err(io(inbox.clone()))?;
    tasks.spawn(super::inbox::watch_inbox(
        service.clone(),
        inbox,
        super::inbox::InboxTiming {
            poll: Duration::from_secs_f64(config.inbox.poll_s),
            settle: Duration::from_secs_f64(config.inbox.settle_s.max(0.0)),
            incomplete_wait: Duration::from_secs_f64(config.inbox.incomplete_wait_s.max(0.0)),
            partner_wait: Duration::from_secs_f64(config.inbox.partner_wait_s.max(0.0)),
        },
        rx.clone(),
    ));

    if let Some(cluster) = service.cluster().cloned() {
        super::relay::forward(service.live(), cluster.live.clone());
        tasks.spawn(super::relay::relay(
            service.live().clone(),
            cluster.live.clone(),
            rx.clone(),
        ));
        if config.worker.in_serve {
            let worker = crate::worker::Worker::new(service.clone(), &config)?;
            tracing::info!("worker {} runs beside the API", worker.name());
            tasks.spawn(worker.run(rx.clone()));
            let deliverer = crate::notify::deliver::Deliverer::new(
                service.clone(),
                &config.webhooks,
                &config.notify,
            )
            .map_err(|e| ServiceError::Task(format!("webhook client: {e}")))?;
            tasks.spawn(deliverer.run(rx.clone()));
        }
    } else {
        start_local_jobs(&service, &config, &mut tasks, &rx)?;
    }

    if let Some(dir) = config.samples_dir.clone() {
        let service = service.clone();
        let mut stop = rx.clone();
        tasks.spawn(async move {
            tokio::select! {
                _ = ingest_samples(&service, &dir) => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        });
    }

    Ok(Running {
        addr,
        service,
        shutdown: tx,
        tasks,
    })
}

/// Opens the store of `config` and builds the service on it, as `serve` does: `[store] url`
/// → PostgreSQL, with the cluster (jobs table, live log, spool folder made if missing), so
/// scenes are queued for workers; else the SQLite file under the data directory (its size
/// capped by `limits.store_max_bytes`). `strawfire ingest` opens its store the same way.
pub async fn open_service(
    config: &Config,
    placer: Arc<dyn Placer>,
    clock: Arc<dyn Clock>,
) -> Result<Service, ServiceError> {
    let io = |path: PathBuf| move |source| ServiceError::Io { path, source };
    tokio::fs::create_dir_all(&config.data_dir)
        .await
        .map_err(io(config.data_dir.clone()))?;
    let db = config.data_dir.join(STORE_FILE);
    let cap = config.limits.store_max_bytes;
    let url = config.store.url.clone();
    let built = config.clone();
    // Opening the store and building the service (which reads the confirmed mask sites) block:
    // PostgreSQL's client must not run on an async thread at all.
    let service = tokio::task::spawn_blocking(move || {
        // `[store] url`: PostgreSQL (#19); else the SQLite file under the data directory.
        let (store, pg): (Arc<dyn Store>, _) = match url {
            Some(url) => {
                let pg = Arc::new(PgStore::open(&url)?);
                (pg.clone(), Some(pg))
            }
            None => {
                let store = SqliteStore::open(&db)?;
                if let Some(bytes) = cap {
                    store.cap_size(bytes)?;
                }
                (Arc::new(store), None)
            }
        };
        Ok::<_, crate::store::StoreError>((Service::new(&built, store, placer), pg))
    })
    .await
    .map_err(|e| ServiceError::Task(e.to_string()))??;
    let (service, pg) = service;
    let mut service = service.with_clock(clock);
    if let Some(pg) = &pg {
        // Several processes on one store: scenes become jobs, live updates go through the
        // store's log (`relay.rs`), feeds and the escalation sweep are claimed jobs.
        let cluster = crate::worker::cluster_of(pg.clone(), config);
        tokio::fs::create_dir_all(&cluster.spool)
            .await
            .map_err(io(cluster.spool.clone()))?;
        service = service.with_cluster(cluster);
    }
    Ok(service)
}

/// One process on SQLite: feed pollers, the escalation sweep and the delivery worker run here.
fn start_local_jobs(
    service: &Service,
    config: &Config,
    tasks: &mut JoinSet<()>,
    rx: &watch::Receiver<bool>,
) -> Result<(), ServiceError> {
    if !config.sources.is_empty() {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .connect_timeout(Duration::from_secs(20))
            .user_agent(concat!("strawfire/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ServiceError::Task(format!("HTTP client: {e}")))?;
        for source in config.sources.clone() {
            tasks.spawn(super::feeds::poll_source(
                service.clone(),
                client.clone(),
                source,
                rx.clone(),
            ));
        }
    }
    tasks.spawn(super::tasks::escalation_loop(
        service.clone(),
        Duration::from_secs_f64(config.dispatch.escalation_interval_s),
        rx.clone(),
    ));
    // Always running: a task whose unit has no webhook is moved to `notified` by it too.
    let deliverer =
        crate::notify::deliver::Deliverer::new(service.clone(), &config.webhooks, &config.notify)
            .map_err(|e| ServiceError::Task(format!("webhook client: {e}")))?;
    tasks.spawn(deliverer.run(rx.clone()));
    Ok(())
}

/// Ingests the scene and feed files of the samples folder (a no-op for those already stored).
async fn ingest_samples(service: &Service, dir: &std::path::Path) {
    let Ok(mut rd) = tokio::fs::read_dir(dir).await else {
        return;
    };
    let mut files = Vec::new();
    while let Ok(Some(e)) = rd.next_entry().await {
        let p = e.path();
        // Truth files beside synthetic scenes are not feeds.
        let truth = p.to_string_lossy().contains(".truth.");
        if !truth && super::FileKind::of(&p).is_some() && p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    for p in files {
        if service.cluster().is_some() {
            // On PostgreSQL (#19) every node starts with the same samples: scanning them here
            // would scan each once per node. They are queued like any product (one job per
            // content hash across the nodes, already stored: none); FIRMS files are read here.
            let item = vec![p.clone()];
            let unit =
                tokio::task::spawn_blocking(move || crate::worker::spool::unit_of_input(&item))
                    .await
                    .map_err(|e| ServiceError::Task(e.to_string()));
            match unit.and_then(|u| u) {
                Ok(Some((unit, op))) => {
                    match crate::worker::spool::queue_unit(service, unit, op, "samples").await {
                        Ok(q) => tracing::info!("samples: {}: {q:?}", p.display()),
                        Err(e) => tracing::warn!("samples: {}: {e}", p.display()),
                    }
                    continue;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!("samples: {}: {e}", p.display());
                    continue;
                }
            }
        }
        match service.ingest_path(&p, "samples").await {
            Ok(done) => tracing::info!(
                "samples: {}: {} new hotspots",
                p.display(),
                done.report.hotspots_new
            ),
            Err(e) => tracing::warn!("samples: {}: {e}", p.display()),
        }
    }
}
