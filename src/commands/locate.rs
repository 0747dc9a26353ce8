//! `strawfire locate`: each input hotspot row written back with its county, township, village,
//! parcel and mask.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use strawfire::locate::{LayerSpec, LocationRef, UnitInfo};

use super::layers::{build_locator, query_of, read_feeds};

/// Columns added to every input row.
pub const ADDED_COLUMNS: [&str; 11] = [
    "county_code",
    "county_name",
    "township_code",
    "township_name",
    "village_code",
    "village_name",
    "parcel_id",
    "parcel_overlap",
    "mask",
    "parcels",
    "flag",
];

/// Arguments of `strawfire locate`.
#[derive(clap::Args)]
pub struct Args {
    /// Hotspot files: FIRMS CSV (any variant), GeoJSON, or official fire products (VNP14IMG…nc,
    /// AFIMG_….txt, AFIMG_….nc).
    #[arg(long, required = true, num_args = 1..)]
    pub hotspots: Vec<PathBuf>,
    /// Admin layers as LAYER_SPEC `PATH[:level=county|township|village][:code=F][:name=F][:crs=gcj02]...`.
    #[arg(long, required = true, num_args = 1..)]
    pub admin: Vec<LayerSpec>,
    /// Field parcels as LAYER_SPEC (`code=` names the parcel id field; default the feature id).
    #[arg(long)]
    pub parcels: Option<LayerSpec>,
    /// Masks as LAYER_SPEC, repeatable: point files with `radius_m=`, polygons with `priority=`;
    /// `reason=` labels them (default: the file name).
    #[arg(long)]
    pub mask: Vec<LayerSpec>,
    /// Output CSV (default: stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    // A job that runs once and exits: freed buffers are kept for the answers (locate::heap).
    strawfire::locate::heap::keep_freed_memory();
    let feeds = read_feeds(&args.hotspots)?;
    let locator = build_locator(&args.admin, args.parcels.as_ref(), &args.mask)?;

    // The union of the input headers, in first-seen order, then the added columns.
    let mut header: Vec<String> = Vec::new();
    for f in &feeds {
        for h in &f.header {
            if !header.contains(h) {
                header.push(h.clone());
            }
        }
    }
    let started = Instant::now();
    let out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header.iter().map(String::as_str).chain(ADDED_COLUMNS))?;
    let (mut total, mut outside, mut masked, mut with_parcel) = (0usize, 0usize, 0usize, 0usize);
    for feed in &feeds {
        let queries: Vec<_> = feed.rows.iter().map(|r| query_of(&r.hotspot)).collect();
        let locations = locator.locate_all(&queries);
        let positions: Vec<Option<usize>> = header
            .iter()
            .map(|h| feed.header.iter().position(|fh| fh == h))
            .collect();
        for (row, loc) in feed.rows.iter().zip(locations.iter()) {
            let mut record: Vec<String> = positions
                .iter()
                .map(|p| p.map(|i| row.fields[i].to_string()).unwrap_or_default())
                .collect();
            record.extend(added_fields(&loc));
            w.write_record(&record)?;
            total += 1;
            outside += usize::from(loc.outside_admin);
            masked += usize::from(loc.mask.is_some());
            with_parcel += usize::from(!loc.parcels.is_empty());
        }
    }
    w.flush()?;
    eprintln!(
        "{total} hotspots located in {:.2} s: {} in an admin unit, {outside} outside every unit, {with_parcel} on a parcel, {masked} masked",
        started.elapsed().as_secs_f64(),
        total - outside,
    );
    Ok(())
}

/// The added columns of one row, in [`ADDED_COLUMNS`] order.
pub fn added_fields(loc: &LocationRef) -> [String; 11] {
    let code = |u: Option<&UnitInfo>| u.map(|u| u.code.clone()).unwrap_or_default();
    let name = |u: Option<&UnitInfo>| u.map(|u| u.name.clone()).unwrap_or_default();
    let best = loc.parcels.first();
    [
        code(loc.county),
        name(loc.county),
        code(loc.township),
        name(loc.township),
        code(loc.village),
        name(loc.village),
        best.map(|(id, _)| id.to_string()).unwrap_or_default(),
        best.map(|(_, fraction)| format!("{fraction:.3}"))
            .unwrap_or_default(),
        loc.mask.map(|m| m.label()).unwrap_or_default(),
        loc.parcels
            .iter()
            .map(|(id, fraction)| format!("{id}:{fraction:.3}"))
            .collect::<Vec<_>>()
            .join(";"),
        if loc.outside_admin {
            "outside_admin".into()
        } else {
            String::new()
        },
    ]
}
