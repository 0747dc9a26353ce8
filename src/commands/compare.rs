//! `strawfire compare OURS OFFICIAL [--format text|json] [-o MAP.svg]`: our detections of one
//! granule against the official product's fire pixels (matched, missed, extra by confidence and
//! day/night, FRP agreement), the check an analyst runs before trusting either.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use strawfire::compare::{compare, map_svg, report_text};
use strawfire::hotspot::{read_hotspots, Hotspot};
use strawfire::scan::{scan_granule, scan_scene, ModelChoice};

use super::output::AtomicOutput;

/// Output of `strawfire compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Arguments of `strawfire compare`.
#[derive(clap::Args)]
pub struct Args {
    /// Our detections: a FIRMS CSV/GeoJSON from `strawfire scan`, or a scene to scan now (a
    /// GeoTIFF, or one file of an L1B pair / SDR set with the rest beside it).
    ours: PathBuf,
    /// The official product of the same granule (VNP14IMG…nc, AFIMG_….txt|nc) or any FIRMS
    /// hotspot file.
    official: PathBuf,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Write a small SVG map of matched, missed and extra pixels here.
    #[arg(short, long, value_name = "MAP.svg")]
    output: Option<PathBuf>,
}

/// A file of hotspots (FIRMS text, GeoJSON or an official product), as opposed to a scene.
fn is_hotspot_file(path: &Path) -> bool {
    if strawfire::product::viirs_af::identify(path).is_some() {
        return true;
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    matches!(ext.as_deref(), Some("csv" | "txt" | "geojson" | "json"))
}

fn hotspots_of(path: &Path) -> anyhow::Result<Vec<Hotspot>> {
    if is_hotspot_file(path) {
        // Every reading error starts with the file's path.
        let feed = read_hotspots(path).context("reading hotspots")?;
        for w in &feed.warnings {
            eprintln!("warning: {w}");
        }
        Ok(feed.rows.into_iter().map(|r| r.hotspot).collect())
    } else if strawfire::service::granules::part_of(path).is_some() {
        // One file of an L1B pair or SDR set: the granule it makes with its partners beside it.
        let granule = strawfire::product::open(&[path.to_path_buf()])
            .with_context(|| format!("opening {}", path.display()))?;
        let scan = scan_granule(&granule, ModelChoice::FromScene, &|_| {})
            .with_context(|| format!("scanning {}", path.display()))?;
        Ok(scan.hotspots)
    } else {
        let scan = scan_scene(path, ModelChoice::FromScene, &|_| {})
            .with_context(|| format!("scanning {}", path.display()))?;
        Ok(scan.hotspots)
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let ours = hotspots_of(&args.ours)?;
    let official = hotspots_of(&args.official)?;
    let c = compare(&ours, &official);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Text => out.write_all(
            report_text(
                &c,
                &args.ours.display().to_string(),
                &args.official.display().to_string(),
            )
            .as_bytes(),
        )?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &c)?;
            writeln!(out)?;
        }
    }
    if let Some(path) = &args.output {
        let mut f = AtomicOutput::create(path)?;
        f.writer()
            .write_all(map_svg(&c).as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        f.commit()?;
    }
    Ok(())
}
