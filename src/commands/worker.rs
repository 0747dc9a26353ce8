//! `strawfire worker --store URL [--config FILE] [--data-dir DIR] [--spool-dir DIR]`: a
//! stateless worker on the PostgreSQL store (#19): claims scene, feed-poll, sweep and delivery
//! jobs until SIGTERM or ctrl-c (the jobs in hand are finished first; a `kill -9` loses nothing:
//! the job's lease passes and another worker runs it).

use std::path::PathBuf;

use anyhow::Context;

/// Arguments of `strawfire worker`.
#[derive(clap::Args)]
pub struct Args {
    /// The PostgreSQL store (postgres://user:password@host/db; overrides `[store] url`).
    #[arg(long)]
    store: Option<String>,
    /// TOML config, the one the API nodes use (layers, fusion, dispatch, webhooks, feeds).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory (overrides the config); the spool defaults to `<data-dir>/spool`.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Where queued scene files lie, shared with the API nodes (overrides `[worker] spool_dir`).
    #[arg(long)]
    spool_dir: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut cfg = super::serve::load_config(args.config.as_ref(), args.data_dir.as_ref())?;
    if let Some(url) = args.store {
        cfg.store.url = Some(url);
    }
    if cfg.store.url.is_none() {
        anyhow::bail!("strawfire worker needs the PostgreSQL store: --store URL or [store] url");
    }
    if let Some(d) = args.spool_dir {
        cfg.worker.spool_dir = Some(d);
    }
    let placer = super::serve::placer(&cfg)?;
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    rt.block_on(async move {
        let signal = super::serve::shutdown_signal()?;
        let running = strawfire::worker::start(cfg, placer)
            .await
            .context("cannot start the worker")?;
        // One line on stdout that scripts and tests wait for.
        println!("strawfire: worker {} running", running.name);
        running.until(signal).await;
        anyhow::Ok(())
    })
}
