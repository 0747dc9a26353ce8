//! `strawfire ingest PATH|URL...`: scene and hotspot files, folders of them, or feed URLs, into
//! the store. Ingesting the same content twice changes nothing.
//!
//! On the SQLite file under the data directory (the default) everything is read and scanned
//! here, in this process; it works beside a running `strawfire serve` (SQLite in WAL mode takes
//! one writer at a time and waits for the other).
//!
//! On the PostgreSQL store (`--store URL` or `[store] url`, #19) the products are the workers'
//! work, as for the inbox and `POST /scenes`: each scene, granule, Landsat or Sentinel-2
//! product and official fire product goes into the spool (`[worker] spool_dir`, shared with the
//! workers) as one scene job keyed by its content hash, so the same product given twice, by two
//! operators at once or again after a restart, is one job, scanned once. The command prints each
//! job's id and waits for the workers' results (`--no-wait`: returns once queued); `--local`
//! scans here instead, as on SQLite. A feed URL is a one-shot job too: a worker fetches it, as
//! it polls the configured sources (the machine an operator types on may not reach FIRMS).
//! FIRMS files are read here on either store (parsing one costs what hashing it would).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use strawfire::service::{granules, FileKind, Ingested, Service, ServiceError};
use strawfire::worker::spool::{self, Queued};

/// Arguments of `strawfire ingest`.
#[derive(clap::Args)]
pub struct Args {
    /// Scene files (.tif), NASA L1B pairs (VNP02IMG + VNP03IMG …nc) and CSPP SDR sets
    /// (SVI01–05 + GITCO/GIMGO …h5; one file of either finds the rest beside it), MODIS
    /// (MOD021KM/MYD021KM + MOD03/MYD03) and FY-3D/3E MERSI granules (+ GEO1K), Landsat 8/9
    /// products (folder, .tar, MTL or a band file), Sentinel-2 products (.SAFE folder, .zip or
    /// metadata file), hotspot files (.csv, .geojson), official fire products (VNP14IMG…nc
    /// with its VNP03IMG beside it, AFIMG_….txt, AFIMG_….nc, MOD14/MYD14 …hdf), folders of
    /// them, or http(s) feed URLs.
    #[arg(required = true)]
    inputs: Vec<String>,
    /// TOML config (for data_dir, the store and fuse settings).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory (overrides the config).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The PostgreSQL store (postgres://user:password@host/db; overrides `[store] url`). On it
    /// the products are queued for the workers unless `--local`.
    #[arg(long)]
    store: Option<String>,
    /// Where queued products go, shared with the workers (overrides `[worker] spool_dir`).
    #[arg(long)]
    spool_dir: Option<PathBuf>,
    /// Queue the products for the workers (the default on the PostgreSQL store; an error
    /// without it, rather than a scan here).
    #[arg(long, conflicts_with = "local")]
    queue: bool,
    /// On the PostgreSQL store: read and scan the products here, in this process, instead of
    /// queuing them for the workers.
    #[arg(long)]
    local: bool,
    /// Return once the products are queued (their job ids printed), without waiting for the
    /// workers' results.
    #[arg(long, conflicts_with = "local")]
    no_wait: bool,
}

/// After this long with a job still unclaimed, say that no worker may be running.
const NO_WORKER_HINT: Duration = Duration::from_secs(30);

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut cfg = super::serve::load_config(args.config.as_ref(), args.data_dir.as_ref())?;
    if let Some(url) = args.store.clone() {
        cfg.store.url = Some(url);
    }
    if let Some(d) = args.spool_dir.clone() {
        cfg.worker.spool_dir = Some(d);
    }
    let shared = cfg.store.url.is_some();
    if !shared && (args.queue || args.no_wait) {
        anyhow::bail!(
            "{} needs the PostgreSQL store (--store URL or [store] url): on the SQLite file \
             the products are scanned here",
            if args.queue { "--queue" } else { "--no-wait" }
        );
    }
    let queue = shared && !args.local;
    let placer = super::serve::placer(&cfg)?;
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let failures = rt.block_on(async {
        let service = strawfire::service::open_service(
            &cfg,
            placer,
            Arc::new(strawfire::dispatch::SystemClock),
        )
        .await
        .context("cannot open the store")?;
        let client = reqwest::Client::new();
        let mut failures = 0;
        let mut files = Vec::new();
        // Queued jobs and what the user called each.
        let mut waiting: Vec<(i64, String)> = Vec::new();
        for input in &args.inputs {
            if input.starts_with("http://") || input.starts_with("https://") {
                let shown = strawfire::service::feeds::redact(input);
                if queue {
                    // A worker fetches it, as it polls the configured sources.
                    match spool::queue_fetch(&service, input, "ingest").await {
                        Ok(id) => {
                            eprintln!("{shown}: fetch job {id} (queued)");
                            waiting.push((id, shown));
                        }
                        Err(e) => {
                            failures += 1;
                            eprintln!("{}", error_line(&shown, &e));
                        }
                    }
                    continue;
                }
                match strawfire::service::feeds::poll_once(&service, &client, "ingest", input).await
                {
                    Ok((new, dup)) => eprintln!(
                        "{}: {new} new hotspots, {dup} duplicates",
                        strawfire::service::feeds::redact(input)
                    ),
                    Err(e) => {
                        failures += 1;
                        eprintln!("error: {e}");
                    }
                }
                continue;
            }
            match expand(Path::new(input)) {
                Ok(f) => files.extend(f),
                Err(e) => {
                    failures += 1;
                    eprintln!("error: {input}: {e}");
                }
            };
        }
        // The files of one L1B pair or SDR set are scanned together, once.
        let mut items: Vec<Vec<PathBuf>> = Vec::new();
        let mut granule_of: HashMap<_, usize> = Default::default();
        for f in files {
            match granules::part_of(&f) {
                Some((key, _)) => match granule_of.get(&key) {
                    Some(&i) => items[i].push(f),
                    None => {
                        granule_of.insert(key, items.len());
                        items.push(vec![f]);
                    }
                },
                None => items.push(vec![f]),
            }
        }
        // The lone geolocation of an official fire product among the inputs (a folder holding
        // a VNP14IMG and its VNP03IMG) is read with the product, not as a granule of its own
        // (which would fail for want of its VNP02IMG).
        let fire: Vec<PathBuf> = items
            .iter()
            .filter(|i| i.len() == 1 && strawfire::service::is_fire_product(&i[0]))
            .map(|i| i[0].clone())
            .collect();
        let geolocations: Vec<PathBuf> = tokio::task::spawn_blocking(move || {
            fire.iter()
                .flat_map(|p| {
                    strawfire::service::fire_product_files(p)
                        .into_iter()
                        .skip(1)
                })
                .collect()
        })
        .await
        .unwrap_or_default();
        // An L1B pair whose geolocation also serves a fire product is scanned as before.
        items.retain(|item| {
            granules::part_of(&item[0]).is_none()
                || !item
                    .iter()
                    .all(|f| geolocations.iter().any(|g| same_file(g, f)))
        });
        for item in items {
            let f = shown(&item);
            if queue {
                let it = item.clone();
                let unit = tokio::task::spawn_blocking(move || spool::unit_of_input(&it))
                    .await
                    .map_err(|e| ServiceError::Task(e.to_string()));
                match unit.and_then(|u| u) {
                    Ok(Some((unit, op))) => {
                        match spool::queue_unit(&service, unit, op, "ingest").await {
                            Ok(Queued::Stored { .. }) => eprintln!("{f}: already ingested"),
                            Ok(Queued::Job { id, state, .. }) => {
                                eprintln!("{f}: scene job {id} ({})", state_text(state));
                                waiting.push((id, f));
                            }
                            Err(e) => {
                                failures += 1;
                                eprintln!("{}", error_line(&f, &e));
                            }
                        }
                        continue;
                    }
                    // A FIRMS file: read here.
                    Ok(None) => {}
                    Err(e) => {
                        failures += 1;
                        eprintln!("{}", error_line(&f, &e));
                        continue;
                    }
                }
            }
            let result = if granules::part_of(&item[0]).is_some() {
                service.ingest_granule(&item, "ingest").await
            } else {
                service.ingest_path(&item[0], "ingest").await
            };
            if !report(&f, result) {
                failures += 1;
            }
        }
        if !waiting.is_empty() && !args.no_wait {
            failures += wait_for_jobs(&service, waiting).await;
        }
        anyhow::Ok(failures)
    })?;
    if failures > 0 {
        anyhow::bail!("{failures} input(s) failed");
    }
    Ok(())
}

/// Whether two paths name one file (a geolocation found beside its product is named from the
/// product's folder, the same file from the command line maybe otherwise).
fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

/// The files of one input as the user gave them, for messages.
fn shown(item: &[PathBuf]) -> String {
    item.iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" + ")
}

/// The line that says `what` failed: `error: WHAT: the causes`, the name said once (most
/// errors of the library already start with the file they name).
fn error_line(what: &str, e: &dyn std::error::Error) -> String {
    let msg = strawfire::service::inbox::chain(e);
    // A granule's inputs (`a.nc + b.nc`): a message that starts with one of its files (by the
    // path given, or by its name, as a worker's does) names it already.
    let starts = |p: &str| {
        msg.strip_prefix(p)
            .is_some_and(|rest| rest.starts_with(':') || rest.starts_with(' '))
    };
    let named = msg.starts_with(what)
        || what.split(" + ").any(|part| {
            let name = Path::new(part).file_name().map(|n| n.to_string_lossy());
            starts(part) || name.is_some_and(|n| starts(&n))
        });
    if named {
        format!("error: {msg}")
    } else {
        format!("error: {what}: {msg}")
    }
}

fn state_text(state: strawfire::store::jobs::JobState) -> &'static str {
    use strawfire::store::jobs::JobState;
    match state {
        JobState::Queued => "queued",
        JobState::Running => "running",
        JobState::Done => "done",
        JobState::Failed => "failed",
    }
}

/// Prints what ingesting (or a worker's job) did with `f`; `false` when it failed.
fn report(f: &str, result: Result<Ingested, ServiceError>) -> bool {
    match result {
        Ok(done) => {
            for n in &done.notes {
                eprintln!("warning: {n}");
            }
            for w in &done.warnings {
                eprintln!("warning: {w}");
            }
            let r = &done.report;
            if r.already_ingested {
                eprintln!("{f}: already ingested");
            } else {
                // Events too old to page anyone (an archive, a backfill) get no task: say how
                // many, or the operator looks for tasks that were never to be made.
                let too_old = match r.events_too_old {
                    0 => String::new(),
                    n => format!(", {n} too old for a task ([dispatch] max_age_h)"),
                };
                eprintln!(
                    "{f}: {} new hotspots, {} duplicates; events: {} new, {} updated{too_old}",
                    r.hotspots_new, r.hotspots_duplicate, r.events_new, r.events_updated
                );
            }
            true
        }
        Err(e) => {
            eprintln!("{}", error_line(f, &e));
            false
        }
    }
}

/// Waits until every job of `waiting` is settled, printing each outcome as it comes (in the
/// workers' words, the spool's paths cut to the file names); the number that failed.
async fn wait_for_jobs(service: &Service, mut waiting: Vec<(i64, String)>) -> usize {
    let Some(cluster) = service.cluster().cloned() else {
        return 0;
    };
    let started = Instant::now();
    let mut hinted = false;
    let mut failures = 0;
    let mut delay = Duration::from_millis(50);
    while !waiting.is_empty() {
        let ids: Vec<i64> = waiting.iter().map(|w| w.0).collect();
        let jobs = cluster.jobs.clone();
        let rows = match service.store(move |_| jobs.jobs(&ids)).await {
            Ok(rows) => rows,
            Err(e) => {
                eprintln!("warning: reading the scene jobs: {e}");
                Vec::new()
            }
        };
        let rows: HashMap<i64, _> = rows.into_iter().map(|r| (r.id, r)).collect();
        let mut left = Vec::new();
        for (id, f) in waiting {
            let outcome = match rows.get(&id) {
                Some(row) => spool::outcome(row),
                None => Some(Err(ServiceError::Task(format!("scene job {id} is gone")))),
            };
            match outcome {
                Some(result) => {
                    let result = spool::unspooled_outcome(result, &cluster.spool, "the spool");
                    if !report(&f, result) {
                        failures += 1;
                    }
                }
                None => left.push((id, f)),
            }
        }
        waiting = left;
        let unclaimed = waiting.iter().any(|(id, _)| {
            rows.get(id)
                .is_some_and(|r| r.state == strawfire::store::jobs::JobState::Queued)
        });
        if unclaimed && !hinted && started.elapsed() >= NO_WORKER_HINT {
            hinted = true;
            eprintln!(
                "note: no worker has claimed a job after {} s: is a `strawfire worker` (or a \
                 `strawfire serve` without --no-worker) running on this store with the same \
                 spool folder? (ctrl-c stops waiting, the jobs stay queued; --local scans here)",
                NO_WORKER_HINT.as_secs()
            );
        }
        if !waiting.is_empty() {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(1));
        }
    }
    failures
}

/// A file, or the scene and feed files under a folder (sorted, recursively).
fn expand(p: &Path) -> std::io::Result<Vec<PathBuf>> {
    // A Landsat product folder is one input, not its band files.
    if !p.is_dir()
        || strawfire::service::is_landsat_product(p)
        || strawfire::service::is_sentinel2_product(p)
    {
        std::fs::metadata(p)?;
        return Ok(vec![p.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![p.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let path = e?.path();
            if path.is_dir()
                && (strawfire::service::is_landsat_product(&path)
                    || strawfire::service::is_sentinel2_product(&path))
            {
                out.push(path);
            } else if path.is_dir() {
                stack.push(path);
            } else if FileKind::of(&path).is_some() && !path.to_string_lossy().contains(".truth.") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}
