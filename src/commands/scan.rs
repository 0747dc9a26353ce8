//! `strawfire scan SCENE... [--sensor NAME] [--model FILE] [--format csv|geojson] [-o FILE]`:
//! detection only, no store. Hotspots to a file or stdout; a summary on stderr. SCENE is one
//! GeoTIFF of our layout (streamed), or the file(s) of a product granule (an L1B pair or one of
//! it, an SDR set or one of its files), scanned in the swath's native geometry.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use strawfire::hotspot::{write_csv, write_geojson, OutputFormat};
use strawfire::scan::{scan_files, ModelChoice, ScanResult, Stage};

use super::output::AtomicOutput;

/// Arguments of `strawfire scan`.
#[derive(clap::Args)]
pub struct Args {
    /// The scene: a raster GDAL reads with bands described by name (DESIGN.md), or the file(s)
    /// of one product granule: a VIIRS L1B pair (`V?P02IMG`, `V?P03IMG`; one is enough when its
    /// partner lies beside it), a CSPP SDR set (`SVI01`–`SVI05` with `GITCO`/`GIMGO`; any one
    /// of its files finds the rest), a MODIS, FY-3D MERSI-II or FY-3E MERSI-LL granule, a Landsat 8/9 Collection 2
    /// Level-1 product or a Sentinel-2 L1C product.
    #[arg(required = true, num_args = 1..)]
    scene: Vec<PathBuf>,
    /// Sensor model by name (the built-in ones listed from `model::BUILTINS`, so none is left
    /// out). Default: the one for the product, or a GeoTIFF's SENSOR metadata.
    #[arg(long, help = sensor_help(), long_help = sensor_help())]
    sensor: Option<String>,
    /// A sensor model file instead of the built-in one (see models/*.toml).
    #[arg(long, conflicts_with = "sensor")]
    model: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    format: OutputFormat,
    /// Output file (written whole or not at all). Default: stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// No summary on stderr.
    #[arg(short, long)]
    quiet: bool,
}

/// The `--sensor` help, listing every built-in model.
fn sensor_help() -> String {
    format!(
        "Sensor model, built in: {}. Default: the one for the product, or a GeoTIFF's SENSOR \
         metadata",
        strawfire::model::builtins_help()
    )
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let choice = match (&args.sensor, &args.model) {
        (Some(name), _) => ModelChoice::Named(name),
        (None, Some(file)) => ModelChoice::File(file),
        (None, None) => ModelChoice::FromScene,
    };
    let bar = progress_bar(args.quiet);
    let report = |stage: Stage| {
        if let Some(bar) = &bar {
            bar.set_message(match stage {
                Stage::Reading => "reading bands and testing pixels",
                Stage::Detecting => "detecting fires",
                Stage::Georeferencing => "georeferencing fire pixels",
            });
            bar.inc(1);
        }
    };
    let result = scan_files(&args.scene, choice, &report);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let result = result?;
    match &args.output {
        Some(path) => {
            let mut out = AtomicOutput::create(path)?;
            write(&args, &result, out.writer())
                .with_context(|| format!("cannot write {}", path.display()))?;
            out.commit()?;
        }
        None => {
            let stdout = std::io::stdout();
            write(&args, &result, stdout.lock()).context("cannot write to stdout")?;
        }
    }
    if !args.quiet {
        eprint!("{}", summary_text(&args.scene[0], &result));
    }
    Ok(())
}

fn write<W: Write>(args: &Args, result: &ScanResult, out: W) -> std::io::Result<()> {
    match args.format {
        OutputFormat::Csv => write_csv(out, &result.hotspots),
        OutputFormat::Geojson => write_geojson(out, &result.hotspots),
    }
}

/// A stage bar when stderr is a terminal (scans of full granules take seconds).
fn progress_bar(quiet: bool) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(3);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:20}] {pos}/{len} {msg} {elapsed}")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

/// The human summary printed on stderr.
pub fn summary_text(scene: &std::path::Path, r: &ScanResult) -> String {
    let s = r.summary();
    let pct = |n: u64| {
        if s.total == 0 {
            0.0
        } else {
            100.0 * n as f64 / s.total as f64
        }
    };
    let when = r
        .meta
        .acq_time
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    let mut t = format!(
        "{}: {} × {} px, {} {} {}, model {}\n",
        scene.display(),
        r.shape.0,
        r.shape.1,
        r.meta.sensor.as_deref().unwrap_or("?"),
        r.meta.satellite.as_deref().unwrap_or("?"),
        when,
        r.model_name
    );
    if s.nothing_observed() {
        t.push_str("  nothing observed: every pixel is fill or unprocessed\n");
    }
    t.push_str(&format!(
        "  pixels: clear land {} ({:.1} %), cloud {} ({:.1} %), water {} ({:.1} %), fill {} ({:.1} %), unknown {}, glint {}, not processed {}; day {}, night {}\n",
        s.clear_land, pct(s.clear_land), s.cloud, pct(s.cloud), s.water, pct(s.water),
        s.fill, pct(s.fill), s.unknown, s.glint, s.not_processed, s.day_pixels, s.night_pixels
    ));
    // `+ 0.0`: an empty f64 sum is −0.0. A fire without FRP adds nothing to the known total.
    let frp: f64 = r.hotspots.iter().filter_map(|h| h.frp_mw).sum::<f64>() + 0.0;
    t.push_str(&format!(
        "  fires: {} (high {}, nominal {}, low {}), total FRP {:.1} MW\n",
        s.fires(),
        s.fire_high,
        s.fire_nominal,
        s.fire_low,
        frp
    ));
    t.push_str(&format!(
        "  time: read + per-pixel tests {:.2} s, median + contextual {:.2} s, georeference {:.3} s\n",
        r.timing.read.as_secs_f64(),
        r.timing.detect.as_secs_f64(),
        r.timing.georef.as_secs_f64()
    ));
    t
}
