//! `strawfire rank --hotspots`: the daily ranking of counties or townships from hotspot files,
//! no server needed.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use chrono::{FixedOffset, NaiveDate};
use strawfire::locate::{LayerSpec, Level};
use strawfire::rank::{rank_daily, LocatedFire};

use super::layers::{build_locator, query_of, read_feeds};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RankLevel {
    County,
    Township,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RankFormat {
    Csv,
    Json,
}

/// Arguments of `strawfire rank` (batch form).
#[derive(clap::Args)]
pub struct Args {
    /// Hotspot files: FIRMS CSV (any variant) or GeoJSON.
    #[arg(long, required = true, num_args = 1..)]
    pub hotspots: Vec<PathBuf>,
    /// Admin layers as LAYER_SPEC; give `cropland_ha=FIELD` for per-area figures.
    #[arg(long, required = true, num_args = 1..)]
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
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let level = match args.level {
        RankLevel::County => Level::County,
        RankLevel::Township => Level::Township,
    };
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
        for (row, loc) in feed.rows.iter().zip(locator.locate_all(&queries)) {
            let unit = match level {
                Level::Township => loc.township,
                _ => loc.county,
            };
            match unit {
                Some(u) => fires.push(LocatedFire {
                    acq_time: row.hotspot.acq_time,
                    code: u.code,
                    name: u.name,
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
    let out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
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
    }
    eprintln!("{} rows ({} hotspots ranked)", rows.len(), fires.len());
    Ok(())
}
