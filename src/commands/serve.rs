//! `strawfire serve [--config FILE] [--data-dir DIR] [--listen ADDR]`: the service.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use strawfire::config::{Config, Loaded};
use strawfire::fuse::{NoPlacer, Placer};
use strawfire::locate::LayerSpec;

/// Arguments of `strawfire serve`.
#[derive(clap::Args)]
pub struct Args {
    /// TOML config (see strawfire.example.toml). Default: built-in defaults.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory: store, inbox, uploads (overrides the config).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0: any free port; overrides the config).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Do not ingest the samples folder at start.
    #[arg(long)]
    no_samples: bool,
    /// On the PostgreSQL store: run no worker beside the API (scenes, feed polls, the
    /// escalation sweep and deliveries are then left to `strawfire worker` processes).
    #[arg(long)]
    no_worker: bool,
    /// Where queued scene files lie, shared with the workers (overrides `[worker] spool_dir`).
    #[arg(long)]
    spool_dir: Option<PathBuf>,
}

/// Reads the config (or the defaults) and applies the command-line overrides.
pub fn load_config(config: Option<&PathBuf>, data_dir: Option<&PathBuf>) -> anyhow::Result<Config> {
    let mut cfg = match config {
        Some(path) => {
            let Loaded { config } = Config::load(path)?;
            config
        }
        None => {
            let layers = sample_layers();
            if layers.admin.is_empty() {
                // The samples are found from the working directory; say so, or the engineer who
                // started the binary elsewhere reads only "no [layers]" and looks for a config.
                let here = std::env::current_dir().unwrap_or_default();
                tracing::warn!(
                    "no --config, and no samples/admin/ in {}: running without the sample layers \
                     (start in the folder that holds samples/, or give --config with [layers])",
                    here.display()
                );
            }
            Config {
                layers,
                ..Config::default()
            }
        }
    };
    if let Some(d) = data_dir {
        cfg.data_dir = d.clone();
    }
    if let Some(spec) = cfg.rank.cities.clone() {
        cfg.rank.city_names = std::sync::Arc::new(city_names(&spec)?);
    }
    Ok(cfg)
}

/// City code → name from the `[rank] cities` layer (its geometry is not used).
fn city_names(spec: &str) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let spec = LayerSpec::parse(spec).context("config rank.cities")?;
    let layer = strawfire::locate::layer::load_layer(&spec, Some(strawfire::locate::Level::County))
        .context("config rank.cities")?;
    let names: std::collections::BTreeMap<String, String> = layer
        .areas
        .into_iter()
        .filter(|a| !a.name.trim().is_empty())
        .map(|a| (a.code, a.name))
        .collect();
    if names.is_empty() {
        anyhow::bail!(
            "config rank.cities: {} has no named features (give name=FIELD)",
            spec.path.display()
        );
    }
    Ok(names)
}

/// With no config, the service runs on the samples: the sample county, township and parcel
/// layers of `samples/admin/` when they are there (relative to the working directory).
fn sample_layers() -> strawfire::config::LayersConfig {
    let dir = std::path::Path::new("samples/admin");
    let spec = |file: &str, rest: &str| {
        let path = dir.join(file);
        path.exists().then(|| format!("{}:{rest}", path.display()))
    };
    strawfire::config::LayersConfig {
        admin: [
            spec(
                "henan_hua_counties_gcj02.geojson",
                "level=county:code=adcode:name=name:parent=ctadcode:crs=gcj02",
            ),
            spec(
                "henan_hua_townships_generated_gcj02.geojson",
                "level=township:code=code:name=name:parent=county:crs=gcj02",
            ),
        ]
        .into_iter()
        .flatten()
        .collect(),
        parcels: spec(
            "henan_hua_parcels_generated_gcj02.geojson",
            "level=parcel:code=parcel_id:parent=township:crs=gcj02",
        )
        .into_iter()
        .collect(),
        masks: Vec::new(),
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut cfg = load_config(args.config.as_ref(), args.data_dir.as_ref())?;
    if let Some(l) = args.listen {
        cfg.listen = l;
    }
    if args.no_samples {
        cfg.samples_dir = None;
    }
    if args.no_worker {
        cfg.worker.in_serve = false;
    }
    if let Some(d) = args.spool_dir {
        cfg.worker.spool_dir = Some(d);
    }
    let placer = placer(&cfg)?;
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    rt.block_on(async move {
        // Signal handlers are registered before the service announces itself: a SIGTERM sent
        // as soon as the "listening" line appears must shut down cleanly, not kill the process.
        let signal = shutdown_signal()?;
        let running = strawfire::service::start(cfg, placer)
            .await
            .context("cannot start the service")?;
        // One line on stdout that scripts and tests wait for.
        println!("strawfire: listening on http://{}", running.addr);
        running.until(signal).await;
        anyhow::Ok(())
    })
}

/// Registers the ctrl-c and SIGTERM handlers now and returns the future that completes on
/// either.
pub fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    Ok(async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async move {
            term.recv().await;
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            _ = term => {}
        }
    })
}

/// The locate step from `[layers]`: loaded and indexed once, before the service starts.
pub fn placer(cfg: &Config) -> anyhow::Result<Arc<dyn Placer>> {
    let l = &cfg.layers;
    if l.admin.is_empty() && l.parcels.is_empty() && l.masks.is_empty() {
        tracing::warn!("no [layers]: hotspots and events get no unit codes (county and patrol tokens see nothing)");
        return Ok(Arc::new(NoPlacer));
    }
    let parse = |v: &[String], key: &str| -> anyhow::Result<Vec<LayerSpec>> {
        v.iter()
            .map(|s| LayerSpec::parse(s).with_context(|| format!("config layers.{key}")))
            .collect()
    };
    let admin = parse(&l.admin, "admin")?;
    let parcels = parse(&l.parcels, "parcels")?;
    if parcels.len() > 1 {
        anyhow::bail!("config layers.parcels: one parcel layer at most");
    }
    let masks = parse(&l.masks, "masks")?;
    let locator = super::layers::build_locator(&admin, parcels.first(), &masks)?;
    Ok(Arc::new(locator))
}
