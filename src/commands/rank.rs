//! `strawfire rank`: the daily ranking of counties or townships.
//!
//! - Store form, `strawfire rank --date D [--level] [--format csv|json|html|pdf] [-o FILE]
//!   [--comment TEXT] [--data-dir DIR | --config FILE] [--store URL]`: the fair table of one
//!   local day from the store of the config (the SQLite file under the data directory, or the
//!   PostgreSQL store of `[store] url` or `--store`, #19), with the layers `serve` uses (no config: the sample layers), the same
//!   code as the API; `html` is the bulletin (通报), `pdf` the same printed on A4 by headless
//!   Chromium (`--pdf FILE` is `--format pdf -o FILE`).
//! - Batch form, `strawfire rank --hotspots H.csv --admin LAYER...`: hotspot counts per day from
//!   hotspot files, no store.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use chrono::{FixedOffset, NaiveDate};
use strawfire::locate::{LayerSpec, Level};
use strawfire::rank::{rank_daily, LocatedFire};
use strawfire::service::rankings::{daily, report_html, BulletinOptions};

use super::layers::{build_locator, query_of, read_feeds};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RankLevel {
    County,
    Township,
    /// Counties rolled up to the county layer's parent field (store form).
    City,
    /// Counties rolled up by adcode prefix (store form).
    Province,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RankFormat {
    Csv,
    Json,
    /// The bulletin (通报): one self-contained page with its map (store form only).
    Html,
    /// The bulletin printed to an A4 PDF by headless Chromium (store form only; needs -o).
    Pdf,
}

/// Arguments of `strawfire rank` (batch form).
#[derive(clap::Args)]
pub struct Args {
    /// Store form: the local day to rank, YYYY-MM-DD.
    #[arg(long, conflicts_with_all = ["hotspots", "admin", "from", "to", "utc_offset"])]
    pub date: Option<NaiveDate>,
    /// Store form: TOML config (data_dir, layers, [rank]); default: the sample layers.
    #[arg(long, requires = "date")]
    pub config: Option<PathBuf>,
    /// Store form: data directory holding the store (overrides the config).
    #[arg(long, requires = "date")]
    pub data_dir: Option<PathBuf>,
    /// Store form: the PostgreSQL store (postgres://user:password@host/db; overrides
    /// `[store] url`) instead of the SQLite file under the data directory.
    #[arg(long, requires = "date")]
    pub store: Option<String>,
    /// Batch form: hotspot files, FIRMS CSV (any variant) or GeoJSON.
    #[arg(long, required_unless_present = "date", num_args = 1..)]
    pub hotspots: Vec<PathBuf>,
    /// Batch form: admin layers as LAYER_SPEC; give `cropland_ha=FIELD` for per-area figures.
    #[arg(long, required_unless_present = "date", num_args = 1..)]
    pub admin: Vec<LayerSpec>,
    #[arg(long, value_enum, default_value = "county")]
    pub level: RankLevel,
    /// First local day (inclusive), YYYY-MM-DD.
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Last local day (inclusive), YYYY-MM-DD.
    #[arg(long)]
    pub to: Option<NaiveDate>,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: RankFormat,
    /// UTC offset of the reporting day (China Standard Time by default).
    #[arg(long, default_value = "+08:00")]
    pub utc_offset: FixedOffset,
    /// Output file (default: stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Store form: the bulletin printed to this PDF file (same as `--format pdf -o FILE`).
    #[arg(long, requires = "date", conflicts_with_all = ["output", "format"])]
    pub pdf: Option<PathBuf>,
    /// Store form: a comment paragraph for the bulletin (replaces `[report] comment`).
    #[arg(long, requires = "date")]
    pub comment: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(date) = args.date {
        return run_store(&args, date);
    }
    if matches!(args.format, RankFormat::Html | RankFormat::Pdf) {
        bail!("--format html|pdf needs the store form (--date); the batch form writes csv or json");
    }
    let level = match args.level {
        RankLevel::County => Level::County,
        RankLevel::Township => Level::Township,
        _ => bail!("--level city|province needs the store form (--date)"),
    };
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if to < from {
            bail!("--to {to} is before --from {from}: no day lies between them");
        }
    }
    let feeds = read_feeds(&args.hotspots)?;
    let locator = build_locator(&args.admin, None, &[])?;
    if !locator.admin_layers().iter().any(|l| l.level == level) {
        bail!("--level {level}: no --admin layer of level {level} was given");
    }
    let with_cropland = args.admin.iter().any(|s| s.cropland_ha_field.is_some());
    let mut fires = Vec::new();
    let mut outside = 0usize;
    for feed in &feeds {
        let queries: Vec<_> = feed.rows.iter().map(|r| query_of(&r.hotspot)).collect();
        let located = locator.locate_all(&queries);
        for (row, loc) in feed.rows.iter().zip(located.iter()) {
            let unit = match level {
                Level::Township => loc.township,
                _ => loc.county,
            };
            match unit {
                Some(u) => fires.push(LocatedFire {
                    acq_time: row.hotspot.acq_time,
                    code: u.code.clone(),
                    name: u.name.clone(),
                    cropland_ha: u.cropland_ha,
                }),
                None => outside += 1,
            }
        }
    }
    if outside > 0 {
        eprintln!("{outside} hotspots lie in no {level} and are not ranked");
    }
    let rows = rank_daily(&fires, level.as_str(), args.utc_offset, args.from, args.to);
    let mut bytes = Vec::new();
    let out: &mut dyn Write = &mut bytes;
    match args.format {
        RankFormat::Json => {
            let mut out = out;
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        RankFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            let mut header = vec!["date", "level", "code", "name", "hotspots", "rank"];
            if with_cropland {
                header.push("per_1000_ha_cropland");
            }
            w.write_record(&header)?;
            for r in &rows {
                let mut rec = vec![
                    r.date.to_string(),
                    r.level.clone(),
                    r.code.clone(),
                    r.name.clone(),
                    r.hotspots.to_string(),
                    r.rank.to_string(),
                ];
                if with_cropland {
                    rec.push(
                        r.per_1000_ha_cropland
                            .map(|v| format!("{v:.4}"))
                            .unwrap_or_default(),
                    );
                }
                w.write_record(&rec)?;
            }
            w.flush()?;
        }
        RankFormat::Html | RankFormat::Pdf => unreachable!("refused above"),
    }
    write_whole(args.output.as_deref(), &bytes)?;
    // Hotspots in a unit but on a day outside --from/--to are not in the table: count what is.
    let ranked: usize = rows.iter().map(|r| r.hotspots).sum();
    let other_days = fires.len() - ranked;
    if other_days > 0 {
        eprintln!("{other_days} hotspots lie outside --from/--to and are not ranked");
    }
    eprintln!("{} rows ({ranked} hotspots ranked)", rows.len());
    Ok(())
}

/// Writes the output whole or not at all (a file), or to stdout.
fn write_whole(output: Option<&std::path::Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match output {
        Some(p) => {
            let mut out = super::output::AtomicOutput::create(p)?;
            out.writer()
                .write_all(bytes)
                .with_context(|| format!("cannot write {}", p.display()))?;
            out.commit()
        }
        None => {
            let mut o = std::io::stdout().lock();
            o.write_all(bytes)?;
            Ok(o.flush()?)
        }
    }
}

/// The store form: one local day's fair table from the configured store.
fn run_store(args: &Args, date: NaiveDate) -> anyhow::Result<()> {
    let mut cfg = super::serve::load_config(args.config.as_ref(), args.data_dir.as_ref())?;
    if let Some(url) = &args.store {
        cfg.store.url = Some(url.clone());
    }
    // A day that has not begun has no ranking in any format (nor needs a store to say so).
    let now = chrono::Utc::now();
    if let Err(m) = strawfire::service::rankings::check_day_begun(&cfg.rank, date, now) {
        bail!("--date: {m}");
    }
    let db = cfg.data_dir.join(strawfire::service::STORE_FILE);
    if cfg.store.url.is_none() && !db.is_file() {
        bail!(
            "no store at {} (ingest first: strawfire ingest --data-dir {} ...)",
            db.display(),
            cfg.data_dir.display()
        );
    }
    let (format, output) = match &args.pdf {
        Some(p) => (RankFormat::Pdf, Some(p.clone())),
        None => (args.format, args.output.clone()),
    };
    if format == RankFormat::Pdf && output.is_none() {
        bail!("--format pdf writes a file: give -o FILE (or --pdf FILE)");
    }
    // Found before any work, so a machine without a browser says so at once.
    let chromium = match format {
        RankFormat::Pdf => Some(strawfire::print::find_chromium(
            cfg.report.chromium.as_deref(),
        )?),
        _ => None,
    };
    // Opened here, on the main thread: PostgreSQL's client must not run on an async one.
    let store: Box<dyn strawfire::store::Store> = match &cfg.store.url {
        Some(url) => Box::new(strawfire::store::PgStore::open(url)?),
        None => Box::new(strawfire::store::SqliteStore::open(&db)?),
    };
    let placer = super::serve::placer(&cfg)?;
    let level = match args.level {
        RankLevel::County => strawfire::rank::RankLevel::County,
        RankLevel::Township => strawfire::rank::RankLevel::Township,
        RankLevel::City => strawfire::rank::RankLevel::City,
        RankLevel::Province => strawfire::rank::RankLevel::Province,
    };
    let table = daily(&*store, placer.as_ref(), &cfg.rank, date, level, now)?;
    let opts = BulletinOptions {
        report: &cfg.report,
        comment: args.comment.as_deref(),
        lang: cfg.ui.lang(),
        now,
    };
    let bytes = match format {
        RankFormat::Json => {
            let mut b = serde_json::to_vec_pretty(&table)?;
            b.push(b'\n');
            b
        }
        RankFormat::Csv => {
            let mut b = Vec::new();
            strawfire::rank::csv::write_csv(&table, &mut b)?;
            b
        }
        RankFormat::Html => {
            report_html(&*store, placer.as_ref(), &cfg.rank, &table, &opts)?.into_bytes()
        }
        RankFormat::Pdf => {
            let html = report_html(&*store, placer.as_ref(), &cfg.rank, &table, &opts)?;
            let chromium = chromium.expect("found above for pdf");
            strawfire::print::html_to_pdf(&html, &chromium)?
        }
    };
    write_whole(output.as_deref(), &bytes)?;
    let ranked = table.rows.iter().filter(|r| r.rank.is_some()).count();
    eprintln!(
        "{date} {}: {} units, {ranked} ranked, {} not observed",
        level.as_str(),
        table.rows.len(),
        table.rows.len() - ranked
    );
    Ok(())
}
