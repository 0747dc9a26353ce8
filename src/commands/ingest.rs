//! `strawfire ingest PATH|URL...`: scene and hotspot files, folders of them, or feed URLs, into
//! the store under the data directory. Works beside a running `strawfire serve` (SQLite in WAL
//! mode takes one writer at a time and waits for the other); ingesting the same content twice
//! changes nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use strawfire::service::{granules, FileKind, Service, STORE_FILE};
use strawfire::store::SqliteStore;

/// Arguments of `strawfire ingest`.
#[derive(clap::Args)]
pub struct Args {
    /// Scene files (.tif), NASA L1B pairs (VNP02IMG + VNP03IMG …nc) and CSPP SDR sets
    /// (SVI01–05 + GITCO/GIMGO …h5; one file of either finds the rest beside it), hotspot files
    /// (.csv, .geojson), official fire products (VNP14IMG…nc
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
        let mut files = Vec::new();
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
        let mut granule_of: std::collections::HashMap<_, usize> = Default::default();
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
        for item in items {
            let f = item
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" + ");
            let result = if granules::part_of(&item[0]).is_some() {
                service.ingest_granule(&item, "ingest").await
            } else {
                service.ingest_path(&item[0], "ingest").await
            };
            {
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
                            eprintln!(
                                "{f}: {} new hotspots, {} duplicates; events: {} new, {} updated",
                                r.hotspots_new,
                                r.hotspots_duplicate,
                                r.events_new,
                                r.events_updated
                            );
                        }
                    }
                    Err(e) => {
                        failures += 1;
                        eprintln!("error: {f}: {}", strawfire::service::inbox::chain(&e));
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
