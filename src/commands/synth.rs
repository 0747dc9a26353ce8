//! `strawfire synth`: a physically based synthetic VIIRS I-band scene with planted fires, and its
//! truth CSV. The library does the work (`strawfire::synth`); this file turns flags into a spec.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use chrono::{DateTime, TimeZone, Utc};
use strawfire::raster::scene::parse_acq_time;
use strawfire::raster::Compression;
use strawfire::synth::{self, PlantedFire, SynthSpec};

/// The file layout `strawfire synth` writes.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Our map-grid GeoTIFF scene (bands I1 I2 I3 I4 I5 SZA [VZA SAA VAA]).
    Geotiff,
    /// A swath granule as a NASA L1B pair (V?P02IMG + V?P03IMG NetCDF-4) in the `-o` folder.
    L1b,
    /// A swath granule as a CSPP SDR set (SVI01–SVI05 + GITCO or GIMGO HDF5) in the `-o` folder.
    Sdr,
    /// A Landsat 8/9 OLI Collection 2 Level-1 product at 30 m (band GeoTIFFs, QA_PIXEL,
    /// QA_RADSAT, MTL .txt and .json) in a folder named by its product id inside `-o`.
    Landsat,
}

/// Arguments of `strawfire synth`.
#[derive(clap::Args)]
pub struct Args {
    /// The scene to write (GeoTIFF, bands I1 I2 I3 I4 I5 SZA [VZA SAA VAA]); with `--layout l1b`,
    /// `sdr` or `landsat`, the folder to write the product's files (or its folder or .tar) into.
    #[arg(short = 'o', long = "output", value_name = "SCENE.tif|DIR")]
    output: PathBuf,
    /// The layout: our GeoTIFF (a map grid), or a swath granule as a VIIRS product is published
    /// (`l1b`, `sdr`: 6400 columns, whole 32-row scans; `--rows` defaults to 2 scans there).
    #[arg(long, value_enum, default_value = "geotiff")]
    layout: Layout,
    /// SDR: granules aggregated in each file (the scans are shared equally among them).
    #[arg(long, default_value_t = 1, value_name = "N")]
    granules: usize,
    /// SDR: write GIMGO (ellipsoid) geolocation instead of terrain-corrected GITCO.
    #[arg(long)]
    gimgo: bool,
    /// The truth CSV to write (default: beside the scene, SCENE.truth.csv).
    #[arg(long, value_name = "TRUTH.csv")]
    truth: Option<PathBuf>,
    /// Rows of the scene (a VIIRS granule is 6464; default 512, or 64 for a swath layout).
    #[arg(long)]
    rows: Option<usize>,
    /// Columns of the scene (a VIIRS granule is 6400; default 512, and 6400 for a swath layout).
    #[arg(long)]
    cols: Option<usize>,
    /// A June afternoon overpass, 13:18 Beijing time (the default).
    #[arg(long, conflicts_with_all = ["night", "time"])]
    day: bool,
    /// A June night overpass, 01:30 Beijing time.
    #[arg(long, conflicts_with = "time")]
    night: bool,
    /// Acquisition time, ISO 8601 UTC (e.g. 2024-06-08T05:18:00Z); the sun follows from it.
    #[arg(long, value_name = "TIME")]
    time: Option<String>,
    /// A fixed solar zenith angle for every pixel, degrees (≥ 90 is night).
    #[arg(long, value_name = "DEG")]
    sza: Option<f64>,
    /// Scene centre, WGS84 degrees (default: Taikang county, Henan).
    #[arg(long, value_name = "LON,LAT", allow_hyphen_values = true)]
    center: Option<String>,
    /// Seed of every random choice: the same seed and flags give byte-identical files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Random fires on clear cropland: areas 1–3000 m², temperatures 500–1200 K.
    #[arg(long, default_value_t = 0)]
    fires: usize,
    /// A fire to plant, ROW,COL,AREA_M2,TEMP_K (0-based pixel); repeat for more. Add `,fold` to
    /// write I4 as the 208 K of an overloaded detector.
    #[arg(long = "fire", value_name = "ROW,COL,AREA_M2,TEMP_K")]
    fire: Vec<String>,
    /// Fraction of the scene under cloud, 0–1.
    #[arg(long, default_value_t = 0.1, value_name = "FRACTION")]
    cloud_cover: f64,
    /// A clear scene (same as --cloud-cover 0).
    #[arg(long)]
    no_clouds: bool,
    /// Across-track distance of the scene centre from nadir, km; beyond ≈540 km VIIRS deletes
    /// bow-tie rows, which appear as NaN fill rows.
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "KM",
        allow_hyphen_values = true
    )]
    nadir_offset_km: f64,
    /// Add the sun-glint geometry bands VZA, SAA, VAA.
    #[arg(long)]
    glint: bool,
    /// Satellite code for the SATELLITE metadata.
    #[arg(long, default_value = "N20")]
    satellite: String,
    /// Write uncompressed tiles (fast to read, large) instead of DEFLATE.
    #[arg(long)]
    uncompressed: bool,
    /// Landsat: pack the product into `<id>.tar` as USGS delivers it.
    #[arg(long)]
    tar: bool,
    /// Landsat: saturated SWIR DNs fold (wrap around 2^16) as OLI's overloaded detectors do.
    #[arg(long)]
    fold: bool,
}

fn parse_fire(text: &str) -> anyhow::Result<PlantedFire> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let fold = parts.len() == 5 && parts[4].eq_ignore_ascii_case("fold");
    if parts.len() != 4 && !fold {
        bail!("--fire {text:?}: expected ROW,COL,AREA_M2,TEMP_K[,fold]");
    }
    let num = |i: usize, what: &str| -> anyhow::Result<f64> {
        parts[i]
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .with_context(|| format!("--fire {text:?}: {what} {:?} is not a number", parts[i]))
    };
    let idx = |i: usize, what: &str| -> anyhow::Result<usize> {
        parts[i].parse::<usize>().with_context(|| {
            format!(
                "--fire {text:?}: {what} {:?} is not a pixel index",
                parts[i]
            )
        })
    };
    Ok(PlantedFire {
        fold,
        ..PlantedFire::new(
            idx(0, "ROW")?,
            idx(1, "COL")?,
            num(2, "AREA_M2")?,
            num(3, "TEMP_K")?,
        )
    })
}

fn parse_center(text: &str) -> anyhow::Result<(f64, f64)> {
    let v: Vec<f64> = text
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()
        .filter(|v: &Vec<f64>| v.len() == 2)
        .with_context(|| {
            format!("--center {text:?}: expected LON,LAT in degrees, e.g. 114.85,34.07")
        })?;
    Ok((v[0], v[1]))
}

fn acq_time(args: &Args) -> anyhow::Result<DateTime<Utc>> {
    if let Some(t) = &args.time {
        return parse_acq_time(t).with_context(|| {
            format!("--time {t:?}: expected ISO 8601 UTC, e.g. 2024-06-08T05:18:00Z")
        });
    }
    let (h, m) = if args.night { (17, 30) } else { (5, 18) };
    Ok(Utc.with_ymd_and_hms(2024, 6, 8, h, m, 0).unwrap())
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.layout == Layout::Landsat {
        return run_landsat(&args);
    }
    let swath = args.layout != Layout::Geotiff;
    let (default_rows, default_cols) = if swath { (64, 6400) } else { (512, 512) };
    let (rows, cols) = (
        args.rows.unwrap_or(default_rows),
        args.cols.unwrap_or(default_cols),
    );
    let (lon, lat) = match &args.center {
        Some(c) => parse_center(c)?,
        None => synth::DEFAULT_CENTER,
    };
    let mut spec = SynthSpec {
        center_lon_deg: lon,
        center_lat_deg: lat,
        acq_time: acq_time(&args)?,
        satellite: args.satellite.clone(),
        sza_deg: args.sza,
        cloud_cover: if args.no_clouds {
            0.0
        } else {
            args.cloud_cover
        },
        nadir_offset_km: args.nadir_offset_km,
        glint_bands: args.glint,
        ..SynthSpec::day(rows, cols, args.seed)
    };
    for f in &args.fire {
        spec.fires.push(parse_fire(f)?);
    }
    if args.fires > 0 {
        let random = synth::random_fires_for(&spec, args.fires);
        if random.len() < args.fires {
            eprintln!(
                "strawfire synth: room for only {} of {} random fires on clear cropland",
                random.len(),
                args.fires
            );
        }
        spec.fires.extend(random);
    }
    if swath {
        return run_swath(&args, spec);
    }
    let truth_path = args
        .truth
        .clone()
        .unwrap_or_else(|| synth::default_truth_path(&args.output));
    let started = std::time::Instant::now();
    let big = spec.rows * spec.cols >= 4_000_000;
    let show = big && std::io::stderr().is_terminal();
    let rows = spec.rows;
    if big && !show {
        eprintln!(
            "strawfire synth: generating {}×{} pixels",
            spec.rows, spec.cols
        );
    }
    let progress = |done: usize| {
        if show {
            eprint!("\rstrawfire synth: generating rows {done}/{rows}");
        }
    };
    let scene = synth::generate_with_progress(&spec, &progress)?;
    if show {
        eprintln!();
    }
    let generated = started.elapsed();
    if big {
        eprintln!("strawfire synth: writing {}", args.output.display());
    }
    let compression = if args.uncompressed {
        Compression::None
    } else {
        Compression::Deflate
    };
    scene.write(&args.output, &truth_path, compression)?;
    let night = scene.bands.sza.iter().filter(|&&z| z >= 90.0).count();
    eprintln!(
        "strawfire synth: {} ({}×{}, {}) and {} ({} fires); generated in {:.2} s, total {:.2} s",
        args.output.display(),
        spec.rows,
        spec.cols,
        if night * 2 > scene.bands.sza.len() {
            "night"
        } else {
            "day"
        },
        truth_path.display(),
        scene.truth.len(),
        generated.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A swath granule written as an L1B pair or an SDR set into the `-o` folder, with its truth.
fn run_swath(args: &Args, spec: SynthSpec) -> anyhow::Result<()> {
    use strawfire::product::write::{viirs_l1b, viirs_sdr};
    let started = std::time::Instant::now();
    let heading_deg = if args.night {
        synth::swath::DESCENDING_HEADING_DEG
    } else {
        synth::swath::ASCENDING_HEADING_DEG
    };
    let generated = synth::generate_swath(&synth::SwathSpec {
        scene: spec,
        heading_deg,
    })?;
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("{}: cannot create the folder", args.output.display()))?;
    let granule = &generated.granule;
    let files: Vec<PathBuf> = match args.layout {
        Layout::L1b => {
            let f = viirs_l1b::write(granule, &args.output, &viirs_l1b::L1bOptions::default())?;
            vec![f.data, f.geo]
        }
        _ => {
            let opts = viirs_sdr::SdrOptions {
                granules: args.granules,
                terrain_corrected: !args.gimgo,
                ..viirs_sdr::SdrOptions::default()
            };
            let f = viirs_sdr::write(granule, &args.output, &opts)?;
            let mut v = f.bands.to_vec();
            v.push(f.geo);
            v
        }
    };
    let truth_path = args
        .truth
        .clone()
        .unwrap_or_else(|| synth::default_truth_path(&files[0]));
    synth::write_truth_csv(&truth_path, &generated.truth)?;
    eprintln!(
        "strawfire synth: {} files in {} ({}×{}) and {} ({} fires) in {:.2} s",
        files.len(),
        args.output.display(),
        granule.shape.0,
        granule.shape.1,
        truth_path.display(),
        generated.truth.len(),
        started.elapsed().as_secs_f64()
    );
    for f in &files {
        println!("{}", f.display());
    }
    Ok(())
}

/// A Landsat OLI product (30 m) with the fires of `--fire` (ROW,COL,AREA_M2,TEMP_K).
fn run_landsat(args: &Args) -> anyhow::Result<()> {
    use strawfire::product::write::landsat_c2l1::WriteOptions;
    use strawfire::synth::landsat::{self, LandsatSpec};
    let started = std::time::Instant::now();
    let (rows, cols) = (args.rows.unwrap_or(512), args.cols.unwrap_or(512));
    let mut spec = if args.night {
        LandsatSpec::night(rows, cols, args.seed)
    } else {
        LandsatSpec::day(rows, cols, args.seed)
    };
    if let Some(c) = &args.center {
        (spec.center_lon_deg, spec.center_lat_deg) = parse_center(c)?;
    }
    spec.clouds = !args.no_clouds;
    for f in &args.fire {
        let p = parse_fire(f)?;
        spec.fires.push(landsat::PlantedFire {
            row: p.row,
            col: p.col,
            area_m2: p.area_m2,
            temp_k: p.temp_k,
        });
    }
    let scene = landsat::generate(&spec);
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("{}: cannot create the folder", args.output.display()))?;
    let opts = WriteOptions {
        deflate: !args.uncompressed,
        tar: args.tar,
        fold_saturated: args.fold,
        ..WriteOptions::default()
    };
    let path = scene.write(&args.output, opts)?;
    eprintln!(
        "strawfire synth: Landsat product {} ({rows}×{cols}, {}, {} fires) in {:.2} s",
        path.display(),
        if spec.sun_elevation_deg > 0.0 {
            "day"
        } else {
            "night"
        },
        spec.fires.len(),
        started.elapsed().as_secs_f64()
    );
    println!("{}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fire_flags_parse_or_say_why() {
        let f = parse_fire("10,20,5.5,1000").unwrap();
        assert_eq!(
            (f.row, f.col, f.area_m2, f.temp_k, f.fold),
            (10, 20, 5.5, 1000.0, false)
        );
        assert!(parse_fire("1,2,3000,1200,fold").unwrap().fold);
        let e = parse_fire("1,2,abc,1000").unwrap_err().to_string();
        assert!(e.contains("AREA_M2"), "{e}");
        assert!(parse_fire("1,2,3").is_err());
        assert_eq!(parse_center("114.85, 34.07").unwrap(), (114.85, 34.07));
        assert!(parse_center("114.85").is_err());
    }
}
