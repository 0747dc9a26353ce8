//! `strawfire ingest PATH|URL...`: scene and hotspot files, folders of them, or feed URLs, into
//! the store under the data directory. Works beside a running `strawfire serve` (SQLite in WAL
//! mode takes one writer at a time and waits for the other); ingesting the same content twice
//! changes nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use strawfire::service::{FileKind, Service, STORE_FILE};
use strawfire::store::SqliteStore;

/// Arguments of `strawfire ingest`.
#[derive(clap::Args)]
pub struct Args {
    /// Scene files (.tif), hotspot files (.csv, .geojson), official fire products (VNP14IMG…nc
    /// with its VNP03IMG beside it, AFIMG_….txt, AFIMG_….nc), folders of them, or http(s) feed
    /// URLs.
    #[arg(required = true)]
    inputs: Vec<String>,
    /// TOML config (for data_dir and fuse settings).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory (overrides the config).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let cfg = super::serve::load_config(args.config.as_ref(), args.data_dir.as_ref())?;
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("cannot create {}", cfg.data_dir.display()))?;
    let db = cfg.data_dir.join(STORE_FILE);
    let store = SqliteStore::open(&db)?;
    let service = Service::new(&cfg, Arc::new(store), super::serve::placer(&cfg)?);
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let failures = rt.block_on(async {
        let client = reqwest::Client::new();
        let mut failures = 0;
        for input in &args.inputs {
            if input.starts_with("http://") || input.starts_with("https://") {
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
            let files = match expand(Path::new(input)) {
                Ok(f) => f,
                Err(e) => {
                    failures += 1;
                    eprintln!("error: {input}: {e}");
                    continue;
                }
            };
            for f in files {
                match service.ingest_path(&f, "ingest").await {
                    Ok(done) => {
                        for n in &done.notes {
                            eprintln!("warning: {n}");
                        }
                        for w in &done.warnings {
                            eprintln!("warning: {w}");
                        }
                        let r = &done.report;
                        if r.already_ingested {
                            eprintln!("{}: already ingested", f.display());
                        } else {
                            eprintln!(
                                "{}: {} new hotspots, {} duplicates; events: {} new, {} updated",
                                f.display(),
                                r.hotspots_new,
                                r.hotspots_duplicate,
                                r.events_new,
                                r.events_updated
                            );
                        }
                    }
                    Err(e) => {
                        failures += 1;
                        eprintln!(
                            "error: {}: {}",
                            f.display(),
                            strawfire::service::inbox::chain(&e)
                        );
                    }
                }
            }
        }
        failures
    });
    if failures > 0 {
        anyhow::bail!("{failures} input(s) failed");
    }
    Ok(())
}

/// A file, or the scene and feed files under a folder (sorted, recursively).
fn expand(p: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !p.is_dir() {
        std::fs::metadata(p)?;
        return Ok(vec![p.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![p.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let path = e?.path();
            if path.is_dir() {
                stack.push(path);
            } else if FileKind::of(&path).is_some() && !path.to_string_lossy().contains(".truth.") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}
