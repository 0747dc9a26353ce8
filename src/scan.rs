//! One scene in, hotspots out: the job of `strawfire scan` and of the service's scene workers.
//! Glue between `raster` (GDAL) or `product` (granules of any product), `detect` (pure) and
//! `hotspot` (records); it adds what neither knows alone: which model a scene needs, the pixel
//! areas for FRP, and each fire's WGS84 position and size.
//!
//! Two ways in: [`scan_scene`] streams our map-grid GeoTIFF block by block through the
//! per-pixel stage (the fast path of `strawfire scan`); [`scan_granule`] takes a
//! [`Granule`] already in memory, whatever the product, in its native geometry. On a swath the
//! fires' positions come from the geolocation arrays, and their FIRMS `scan`/`track` and the
//! pixel area for FRP from the swath's pixel sizes, which grow with the scan angle.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ndarray::{s, ArrayView2, Axis};

use crate::detect::modis::{detect_modis, ModisInput};
use crate::detect::oli::{detect_oli, OliInput};
use crate::detect::pixel::PixelParams;
use crate::detect::strip::{block_has_day_pixel, classify_block, StripOut, VIIRS_DAY_ONLY_BANDS};
use crate::detect::{
    detect_classified, detect_viirs, stage_raster, Classified, DetectError, Detection, FirePixel,
    MaskClass, ObservationSummary, PixelArea, ViirsInput, VIIRS_WHOLE_BANDS,
};
use crate::hotspot::{DayNight, Hotspot};
use crate::model::modis::ModisModel;
use crate::model::oli::OliModel;
use crate::model::SensorModel;
use crate::product::landsat_c2l1::{self, LandsatScene};
use crate::product::{modis_swath, viirs_iband, Geometry, Granule, Swath};
use crate::rank::coverage::{grid_step, land_class, CoverageSample, MAX_SAMPLES};
use crate::raster::georef::haversine_m;
use crate::raster::{self, BandPlan, RasterError, SceneHeader, SceneMeta, Wgs84Projector};
use crate::Error;

/// Which model to use for a scene.
#[derive(Debug, Clone, Copy)]
pub enum ModelChoice<'a> {
    /// From the scene's `SENSOR` metadata.
    FromScene,
    /// A built-in model by name (`--sensor viirs-i`).
    Named(&'a str),
    /// A model file (`--model FILE`).
    File(&'a Path),
}

/// The stages of a scan, reported to a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Reading,
    Detecting,
    Georeferencing,
}

/// Wall-clock time per stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    /// Reading the bands, with the per-pixel tests run on each block as it is read.
    pub read: Duration,
    /// The median and contextual stages, confidence and FRP.
    pub detect: Duration,
    /// Fire positions and the coverage grid.
    pub georef: Duration,
}

/// The result of scanning one scene.
#[derive(Debug, Clone)]
pub struct ScanResult {
    pub meta: SceneMeta,
    /// (rows, cols).
    pub shape: (usize, usize),
    pub model_name: String,
    pub hotspots: Vec<Hotspot>,
    pub detection: Detection,
    /// Land pixels on a regular grid with whether each was seen clear, for fair rankings
    /// (`rank::coverage`).
    pub coverage_samples: Vec<CoverageSample>,
    pub timing: Timing,
}

impl ScanResult {
    pub fn summary(&self) -> &ObservationSummary {
        &self.detection.summary
    }
}

/// How the scan reads a VIIRS scene: BT4 and BT5 kept whole (the contextual stages need their
/// neighbourhoods), the other bands streamed, and reflectances and glint geometry read only for
/// blocks with a day pixel.
pub fn viirs_band_plan(model: &SensorModel) -> BandPlan {
    let night_sza_deg = model.night_sza_deg;
    BandPlan {
        keep: Box::new(|name| VIIRS_WHOLE_BANDS.contains(&name)),
        lazy: Box::new(|name| VIIRS_DAY_ONLY_BANDS.contains(&name)),
        needed: Box::new(move |block| {
            block
                .band("SZA")
                .is_none_or(|sza| block_has_day_pixel(sza, night_sza_deg))
        }),
    }
}

/// Picks the sensor model for a scene header.
pub fn choose_model(header: &SceneHeader, choice: ModelChoice) -> Result<SensorModel, Error> {
    choose_model_for(&header.meta, &header.path, choice)
}

/// Picks the sensor model for a scene of metadata `meta` read from `path`.
fn choose_model_for(
    meta: &SceneMeta,
    path: &Path,
    choice: ModelChoice,
) -> Result<SensorModel, Error> {
    Ok(match choice {
        ModelChoice::Named(name) => SensorModel::builtin(name)?,
        ModelChoice::File(path) => SensorModel::from_file(path)?,
        ModelChoice::FromScene => match &meta.sensor {
            Some(sensor) => SensorModel::builtin(sensor)?,
            None => {
                return Err(RasterError::BadMetadata {
                    path: path.to_path_buf(),
                    key: "SENSOR".into(),
                    value: String::new(),
                    message: "missing; pass --sensor (e.g. --sensor viirs-i)".into(),
                }
                .into())
            }
        },
    })
}

/// Reads, detects and georeferences one scene. `progress` is told when each stage starts.
pub fn scan_scene(
    path: &Path,
    choice: ModelChoice,
    progress: &dyn Fn(Stage),
) -> Result<ScanResult, Error> {
    let header = raster::open_scene(path)?;
    let model = choose_model(&header, choice)?;
    let acq_time = acq_time_of(&header.meta, path)?;
    let projector =
        Wgs84Projector::new(&header.georef).map_err(|message| RasterError::Transform {
            path: path.to_path_buf(),
            message,
        })?;
    let shape = header.shape;
    let meta = header.meta.clone();

    // Reading and the per-pixel stage run together, block by block, while each block is in
    // cache; only BT4 and BT5 are kept whole for the contextual stages.
    progress(Stage::Reading);
    let t0 = Instant::now();
    let mut mask = stage_raster("mask", shape)?;
    let mut mask_rows = mask.view_mut();
    let mut state = stage_raster("state", shape)?;
    let mut state_rows = state.view_mut();
    let params = PixelParams::new(&model);
    let (scene, strips) = raster::read_streaming(
        header,
        &model,
        &viirs_band_plan(&model),
        |strip_rows| {
            mask_rows
                .axis_chunks_iter_mut(Axis(0), strip_rows)
                .zip(state_rows.axis_chunks_iter_mut(Axis(0), strip_rows))
                .enumerate()
                .map(|(i, (mask, state))| {
                    let r0 = i * strip_rows;
                    let out = StripOut::new(r0..r0 + mask.nrows(), shape.1);
                    (mask, state, Ok(out))
                })
                .collect()
        },
        |(mask, state, out), block| {
            let Ok(found) = out else { return };
            match ViirsInput::from_bands(|name| block.band(name)) {
                Ok(input) => {
                    let cols = s![.., block.c0..block.c0 + input.dim().1];
                    let (mask, state) = (mask.slice_mut(cols), state.slice_mut(cols));
                    classify_block(&input, (block.r0, block.c0), &params, mask, state, found);
                }
                Err(e) => *out = Err::<StripOut, DetectError>(e),
            }
        },
    )?;
    let strips = strips
        .into_iter()
        .map(|(_, _, out)| out.map(StripOut::finish))
        .collect::<Result<Vec<_>, _>>()?;
    let read = t0.elapsed();

    progress(Stage::Detecting);
    let t1 = Instant::now();
    let area = pixel_areas(&projector, shape).map_err(|message| RasterError::Transform {
        path: path.to_path_buf(),
        message,
    })?;
    let band = |name: &str| {
        scene
            .band(name)
            .ok_or_else(|| DetectError::MissingBand(name.into()))
    };
    let detection = detect_classified(
        Classified {
            i4: band("I4")?,
            i5: band("I5")?,
            mask,
            state,
            strips,
        },
        &model,
        &area,
    )?;
    let detect = t1.elapsed();

    progress(Stage::Georeferencing);
    let t2 = Instant::now();
    let satellite = meta.satellite.clone().unwrap_or_default();
    let hotspots = detection
        .fires
        .iter()
        .map(|f| to_hotspot(f, &projector, &model, &satellite, acq_time))
        .collect::<Result<Vec<_>, String>>()
        .map_err(|message| RasterError::Transform {
            path: path.to_path_buf(),
            message,
        })?;
    let coverage_samples =
        coverage_samples(&projector, detection.mask.view()).map_err(|message| {
            RasterError::Transform {
                path: path.to_path_buf(),
                message,
            }
        })?;
    let georef = t2.elapsed();

    Ok(ScanResult {
        meta,
        shape,
        model_name: model.name.clone(),
        hotspots,
        detection,
        coverage_samples,
        timing: Timing {
            read,
            detect,
            georef,
        },
    })
}

fn acq_time_of(meta: &SceneMeta, path: &Path) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    Ok(meta.acq_time.ok_or_else(|| RasterError::BadMetadata {
        path: path.to_path_buf(),
        key: "ACQ_TIME".into(),
        value: String::new(),
        message: "missing; hotspots need the acquisition time (ISO 8601 UTC)".into(),
    })?)
}

/// Scans the file(s) of one scene, whatever the product: a single file that no product reader
/// claims (our map-grid GeoTIFF, any raster GDAL reads) through the streamed [`scan_scene`];
/// otherwise the product's files (a NASA L1B pair or one file of it with its partner beside it,
/// a CSPP SDR set or one of its files) read by [`crate::product::open`] and scanned by
/// [`scan_granule`] in their native geometry.
pub fn scan_files(
    paths: &[PathBuf],
    choice: ModelChoice,
    progress: &dyn Fn(Stage),
) -> Result<ScanResult, Error> {
    if let Some(first) = paths.first() {
        let sentinel2 = crate::product::identify(first)
            .is_ok_and(|id| id.kind == crate::product::ProductKind::Sentinel2);
        if sentinel2 {
            // Every file given must be of the one product; the reader finds the rest itself.
            let id0 = crate::product::identify(first).ok().map(|id| id.granule);
            for p in &paths[1..] {
                if crate::product::identify(p).ok().map(|id| id.granule) != id0 {
                    return Err(crate::product::ProductError::Mismatch {
                        path: first.clone(),
                        other: p.clone(),
                        what: "not files of one Sentinel-2 product".into(),
                    }
                    .into());
                }
            }
            progress(Stage::Reading);
            let t0 = Instant::now();
            let scene = crate::product::sentinel2_l1c::read(first)?;
            let read = t0.elapsed();
            let rest = |stage: Stage| {
                if stage != Stage::Reading {
                    progress(stage)
                }
            };
            let mut result = scan_sentinel2(&scene, choice, &rest)?;
            result.timing.read = read;
            return Ok(result);
        }
        let landsat = crate::product::identify(first)
            .is_ok_and(|id| id.kind == crate::product::ProductKind::LandsatC2L1);
        if landsat {
            // Every file given must be of the one product; the reader finds the rest itself.
            for p in &paths[1..] {
                let same = crate::product::identify(p).ok().map(|id| id.granule)
                    == crate::product::identify(first).ok().map(|id| id.granule);
                if !same {
                    return Err(crate::product::ProductError::Mismatch {
                        path: first.clone(),
                        other: p.clone(),
                        what: "not files of one Landsat product".into(),
                    }
                    .into());
                }
            }
            let product = crate::product::landsat_c2l1::locate(first)?;
            return scan_landsat_product(&product, choice, progress);
        }
    }
    if let [one] = paths {
        let product_ext = one
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .is_some_and(|e| matches!(e.as_str(), "nc" | "nc4" | "h5" | "hdf5"));
        if !product_ext
            && matches!(
                crate::product::identify(one),
                Err(crate::product::ProductError::Unknown { .. })
            )
        {
            return scan_scene(one, choice, progress);
        }
    }
    progress(Stage::Reading);
    let t0 = Instant::now();
    let granule = crate::product::open(paths)?;
    let read = t0.elapsed();
    // The granule is read: scan_granule's own "reading" stage is not reported twice.
    let rest = |stage: Stage| {
        if stage != Stage::Reading {
            progress(stage)
        }
    };
    let mut result = scan_granule(&granule, choice, &rest)?;
    result.timing.read = read;
    Ok(result)
}

/// Detects and georeferences one granule of any product, already in memory, in its native
/// geometry. On a map grid, positions, sizes and areas come from the georeferencing as in
/// [`scan_scene`]; on a swath, positions from the geolocation arrays, and `scan`/`track` and
/// the FRP pixel area from the swath's pixel sizes ([`swath_pixel_sizes_km`]). The product's
/// land/water mask, when it has one, decides water day and night; bow-tie deleted pixels are
/// class 1 (fill). `progress` is told when each stage starts.
pub fn scan_granule(
    g: &Granule,
    choice: ModelChoice,
    progress: &dyn Fn(Stage),
) -> Result<ScanResult, Error> {
    if is_modis_family(g, choice) {
        return scan_modis(g, choice, progress);
    }
    let path = g
        .files
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("(granule)"));
    let mut model = choose_model_for(&g.meta, &path, choice)?;
    // A product that cannot encode the model's saturation value gives its own: a pixel at it
    // is saturated (NASA L1B's I4 LUT ends ≈ 362 K, below the model's 367 K).
    for (name, &v) in &g.saturation {
        if let Some(band) = model.bands.get_mut(name) {
            if let Some(k) = band.saturation_k.as_mut() {
                *k = k.min(v as f64);
            }
        }
    }
    let acq_time = acq_time_of(&g.meta, &path)?;
    let transform = |message: String| RasterError::Transform {
        path: path.clone(),
        message,
    };
    progress(Stage::Reading);
    let input =
        ViirsInput::from_bands(|name| g.band(name))?.with_water(g.water.as_ref().map(|w| w.view()));
    if input.dim() != g.shape {
        return Err(DetectError::Shape {
            band: "I4".into(),
            got: input.dim(),
            want: g.shape,
        }
        .into());
    }

    progress(Stage::Detecting);
    let t1 = Instant::now();
    let (located, area) = match &g.geometry {
        Geometry::Grid(georef) => {
            let projector = Wgs84Projector::new(georef).map_err(transform)?;
            let area = pixel_areas(&projector, g.shape).map_err(transform)?;
            (Located::Grid(projector), area)
        }
        Geometry::Swath(swath) => {
            let sizes = swath_pixel_sizes_km(swath, g.shape);
            let area = PixelArea::PerColumn(sizes.iter().map(|(s, t)| s * t * 1e6).collect());
            (Located::Swath { swath, sizes }, area)
        }
    };
    let mut detection = detect_viirs(&input, &model, &area)?;
    if let Geometry::Swath(swath) = &g.geometry {
        bowtie_as_fill(&mut detection, swath);
    }
    let detect = t1.elapsed();

    progress(Stage::Georeferencing);
    let t2 = Instant::now();
    let satellite = g.meta.satellite.clone().unwrap_or_default();
    let (hotspots, coverage_samples) = match &located {
        Located::Grid(p) => (
            detection
                .fires
                .iter()
                .map(|f| to_hotspot(f, p, &model, &satellite, acq_time))
                .collect::<Result<Vec<_>, String>>()
                .map_err(transform)?,
            coverage_samples(p, detection.mask.view()).map_err(transform)?,
        ),
        Located::Swath { swath, sizes } => {
            let (lat, lon) = (swath.lat.view(), swath.lon.view());
            let hotspots = detection
                .fires
                .iter()
                .map(|f| {
                    let (la, lo) = (lat[[f.row, f.col]], lon[[f.row, f.col]]);
                    if !(la.is_finite() && lo.is_finite()) {
                        return Err(format!(
                            "a fire at row {} column {} has no geolocation (latitude {la}, \
                             longitude {lo})",
                            f.row, f.col
                        ));
                    }
                    let at = Footprint {
                        lon: lo as f64,
                        lat: la as f64,
                        scan_km: sizes[f.col].0,
                        track_km: sizes[f.col].1,
                    };
                    Ok(hotspot(f, at, &model, &satellite, acq_time))
                })
                .collect::<Result<Vec<_>, String>>()
                .map_err(transform)?;
            (
                hotspots,
                swath_coverage_samples(swath, detection.mask.view()),
            )
        }
    };
    let georef = t2.elapsed();
    Ok(ScanResult {
        meta: g.meta.clone(),
        shape: g.shape,
        model_name: model.name.clone(),
        hotspots,
        detection,
        coverage_samples,
        timing: Timing {
            read: Duration::ZERO,
            detect,
            georef,
        },
    })
}

/// How a granule's pixels are placed on the ground, for the georeferencing stage.
enum Located<'a> {
    Grid(Wgs84Projector),
    Swath {
        swath: &'a Swath,
        /// (along-scan, along-track) km per column.
        sizes: Vec<(f64, f64)>,
    },
}

/// The ground size of a swath's pixels per column, km, as (along-scan, along-track): the
/// VIIRS I-band geometry ([`viirs_iband::pixel_size_km`]) for a full I-band scan (6400 samples,
/// 32-row scans), else measured on the geolocation: the distance between the neighbours'
/// centres along the row, and between consecutive rows of one scan, at the middle of the
/// granule (a scanner's pixel size depends on the scan angle, which is the column).
pub fn swath_pixel_sizes_km(swath: &Swath, (rows, cols): (usize, usize)) -> Vec<(f64, f64)> {
    if cols == viirs_iband::SAMPLES && swath.rows_per_scan == viirs_iband::ROWS_PER_SCAN {
        return (0..cols).map(viirs_iband::pixel_size_km).collect();
    }
    if cols == modis_swath::SAMPLES && swath.rows_per_scan == modis_swath::ROWS_PER_SCAN {
        return (0..cols).map(modis_swath::pixel_size_km).collect();
    }
    let (lat, lon) = (swath.lat.view(), swath.lon.view());
    let at = |r: usize, c: usize| (lon[[r, c]] as f64, lat[[r, c]] as f64);
    let km = |a: (f64, f64), b: (f64, f64)| haversine_m(a, b) / 1000.0;
    let per_scan = swath.rows_per_scan.max(2).min(rows.max(1));
    // Two consecutive rows of one scan near the middle of the granule.
    let r0 = ((rows / 2) / per_scan * per_scan + per_scan / 2 - 1).min(rows.saturating_sub(2));
    (0..cols)
        .map(|c| {
            if rows < 2 || cols < 2 {
                return (f64::NAN, f64::NAN);
            }
            let (a, b) = (c.saturating_sub(1), (c + 1).min(cols - 1));
            let scan = km(at(r0, a), at(r0, b)) / (b - a) as f64;
            let track = km(at(r0, c), at(r0 + 1, c));
            (scan, track)
        })
        .collect()
}

/// Bow-tie deleted pixels of a VIIRS I-band swath are fill (class 1), not "not processed",
/// whatever the reader gave their angles: the instrument left them out, the scene was seen.
fn bowtie_as_fill(d: &mut Detection, swath: &Swath) {
    let (rows, cols) = d.mask.shape();
    if cols != viirs_iband::SAMPLES || swath.rows_per_scan != viirs_iband::ROWS_PER_SCAN {
        return;
    }
    let mut mask = d.mask.view_mut();
    let mut moved = 0;
    for r in 0..rows {
        for range in viirs_iband::bowtie_deleted(r % viirs_iband::ROWS_PER_SCAN) {
            for c in range {
                let v = &mut mask[[r, c]];
                if *v == MaskClass::NotProcessed as u8 {
                    *v = MaskClass::Fill as u8;
                    moved += 1;
                }
            }
        }
    }
    d.summary.not_processed -= moved;
    d.summary.fill += moved;
}

/// [`coverage_samples`] for a swath: the land pixels of a regular grid of rows and columns with
/// their positions from the geolocation arrays (pixels without geolocation are left out).
pub fn swath_coverage_samples(swath: &Swath, mask: ArrayView2<u8>) -> Vec<CoverageSample> {
    let (rows, cols) = mask.dim();
    let k = grid_step(rows, cols, MAX_SAMPLES);
    let (lat, lon) = (swath.lat.view(), swath.lon.view());
    let mut samples = Vec::new();
    for r in (0..rows).step_by(k) {
        for c in (0..cols).step_by(k) {
            let (la, lo) = (lat[[r, c]], lon[[r, c]]);
            if let (Some(clear), true) =
                (land_class(mask[[r, c]]), la.is_finite() && lo.is_finite())
            {
                samples.push(CoverageSample {
                    lon: lo as f64,
                    lat: la as f64,
                    clear,
                });
            }
        }
    }
    samples
}

/// The land pixels of a regular grid (at most `MAX_SAMPLES`) of a fire mask (classes as
/// `MaskClass`) with their centres and whether each was seen clear: what the scene observed, for
/// fair rankings. Centres come from [`Wgs84Projector::grid_lonlat`] (within metres of exact).
pub fn coverage_samples(
    p: &Wgs84Projector,
    mask: ArrayView2<u8>,
) -> Result<Vec<CoverageSample>, String> {
    coverage_samples_where(p, mask, &|_, _| false)
}

/// [`coverage_samples`] with what the mask does not say: a land pixel for which `obscured(row,
/// col)` holds counts as not seen clear whatever its class (a Landsat pixel in a cloud's
/// shadow, from `QA_PIXEL`: the detector does not treat shadow as cloud, but a county in
/// shadow was not seen either).
pub fn coverage_samples_where(
    p: &Wgs84Projector,
    mask: ArrayView2<u8>,
    obscured: &dyn Fn(usize, usize) -> bool,
) -> Result<Vec<CoverageSample>, String> {
    let (rows, cols) = mask.dim();
    let k = grid_step(rows, cols, MAX_SAMPLES);
    let grid_rows: Vec<usize> = (0..rows).step_by(k).collect();
    let grid_cols: Vec<usize> = (0..cols).step_by(k).collect();
    let centre = |v: &[usize]| v.iter().map(|&i| i as f64 + 0.5).collect::<Vec<_>>();
    let at = p.grid_lonlat(&centre(&grid_rows), &centre(&grid_cols))?;
    let mut samples = Vec::new();
    for (i, &r) in grid_rows.iter().enumerate() {
        for (j, &c) in grid_cols.iter().enumerate() {
            if let Some(clear) = land_class(mask[[r, c]]) {
                let (lon, lat) = at[i * grid_cols.len() + j];
                let clear = clear && !obscured(r, c);
                samples.push(CoverageSample { lon, lat, clear });
            }
        }
    }
    Ok(samples)
}

/// Pixel area per row, measured at the centre column (one transform call for all rows).
fn pixel_areas(p: &Wgs84Projector, (rows, cols): (usize, usize)) -> Result<PixelArea, String> {
    if rows == 0 || cols == 0 {
        return Ok(PixelArea::Constant(0.0));
    }
    Ok(PixelArea::PerRow(p.column_areas_m2(cols / 2, rows)?))
}

fn to_hotspot(
    f: &FirePixel,
    p: &Wgs84Projector,
    m: &SensorModel,
    satellite: &str,
    acq_time: chrono::DateTime<chrono::Utc>,
) -> Result<Hotspot, String> {
    let (lon, lat) = p.centre(f.row, f.col)?;
    let (scan_km, track_km) = p.pixel_size_km(f.row, f.col)?;
    let at = Footprint {
        lon,
        lat,
        scan_km,
        track_km,
    };
    Ok(hotspot(f, at, m, satellite, acq_time))
}

/// Where a fire pixel is and how large: its centre (WGS84) and FIRMS `scan`/`track`, km.
struct Footprint {
    lon: f64,
    lat: f64,
    scan_km: f64,
    track_km: f64,
}

fn hotspot(
    f: &FirePixel,
    at: Footprint,
    m: &SensorModel,
    satellite: &str,
    acq_time: chrono::DateTime<chrono::Utc>,
) -> Hotspot {
    let Footprint {
        lon: longitude,
        lat: latitude,
        scan_km,
        track_km,
    } = at;
    Hotspot {
        latitude,
        longitude,
        bt_mir_k: Some(f.bt4_k as f64),
        bt_tir_k: Some(f.bt5_k as f64),
        scan_km: Some(scan_km),
        track_km: Some(track_km),
        acq_time,
        satellite: satellite.to_string(),
        instrument: m.instrument.clone(),
        confidence: f.confidence,
        version: m.product_version.clone(),
        frp_mw: Some(f.frp_mw).filter(|v| v.is_finite()),
        daynight: if f.day {
            DayNight::Day
        } else {
            DayNight::Night
        },
        fire_type: None,
        row: Some(f.row),
        col: Some(f.col),
    }
}

/// The OLI model for a choice: the built-in `landsat-oli` unless a model file is given; a
/// `--sensor` naming another sensor is refused.
pub fn choose_oli_model(choice: ModelChoice) -> Result<OliModel, Error> {
    Ok(match choice {
        ModelChoice::FromScene => OliModel::builtin(),
        ModelChoice::Named(name) if OliModel::is_name(name) => OliModel::builtin(),
        ModelChoice::Named(name) => {
            return Err(crate::model::ModelError::Unknown {
                name: name.to_string(),
                known: "landsat-oli (the only model for a Landsat product)".into(),
            }
            .into())
        }
        ModelChoice::File(path) => OliModel::from_file(path)?,
    })
}

/// Detects and georeferences a Landsat 8/9 OLI product (Schroeder et al. 2016, `detect::oli`)
/// on its UTM grid: day or night by the MTL's sun elevation, water and cloud from `QA_PIXEL`
/// (water also by the spectral test), each fire a FIRMS hotspot at its 30 m pixel's centre with
/// `scan`/`track` the pixel's size (≈ 0.03 km) so that locate places it by footprint overlap;
/// no brightness temperatures and no FRP (the algorithm is reflective). The result's
/// `detection.fires` carry NaN temperatures and FRP for the same reason.
///
/// This is the in-memory path (a [`LandsatScene`] read whole); `strawfire scan`, `ingest` and
/// the service take [`scan_landsat_product`], which streams the product through the same
/// stages and gives the same result.
pub fn scan_landsat(
    scene: &LandsatScene,
    choice: ModelChoice,
    progress: &dyn Fn(Stage),
) -> Result<ScanResult, Error> {
    let g = &scene.granule;
    let model = choose_oli_model(choice)?;
    progress(Stage::Reading);
    let day = scene.mtl.sun_elevation_deg > model.day_min_sun_elevation_deg;
    let input = OliInput::from_bands(
        |n| g.band(n),
        scene.cloud.as_ref().map(|c| c.view()),
        g.water.as_ref().map(|w| w.view()),
        day,
    )?;
    progress(Stage::Detecting);
    let t1 = Instant::now();
    let d = detect_oli(&input, &model)?;
    let detect = t1.elapsed();
    let Geometry::Grid(georef) = &g.geometry else {
        return Err(RasterError::Transform {
            path: g.files.first().cloned().unwrap_or_default(),
            message: "a Landsat product is on a map grid".into(),
        }
        .into());
    };
    let shadow = scene.shadow.as_ref().map(|s| s.view());
    let obscured = |r: usize, c: usize| shadow.is_some_and(|s| s[[r, c]] != 0);
    let qa = scene
        .cloud
        .is_some()
        .then_some(&obscured as &dyn Fn(usize, usize) -> bool);
    reflective_result(
        d,
        georef,
        &g.meta,
        g.files.first(),
        &model,
        detect,
        qa,
        progress,
    )
}

/// Scans a located Landsat product while reading it: the nine GeoTIFFs are decoded block by
/// block (`landsat_c2l1::read_streaming`), each block converted to reflectance and run through
/// the per-pixel stage while it is in cache (`detect::oli::stream`), and only the stage-1
/// mask, ρ5 and ρ7 are kept whole for the candidates' windows. Equal to [`scan_landsat`] on
/// the product read whole (`tests/scan_landsat.rs`), at about the cost of decoding the files.
pub fn scan_landsat_product(
    product: &crate::product::landsat_c2l1::Product,
    choice: ModelChoice,
    progress: &dyn Fn(Stage),
) -> Result<ScanResult, Error> {
    scan_landsat_planned(product, choice, None, progress)
}

/// [`scan_landsat_product`] with the reader's blocks chosen (tests cut small scenes into many
/// blocks to reach every edge).
pub fn scan_landsat_planned(
    product: &crate::product::landsat_c2l1::Product,
    choice: ModelChoice,
    plan: Option<raster::band::BlockPlan>,
    progress: &dyn Fn(Stage),
) -> Result<ScanResult, Error> {
    use crate::detect::oli::stream;
    let model = choose_oli_model(choice)?;
    let day = product.mtl.sun_elevation_deg > model.day_min_sun_elevation_deg;
    let shape = product.mtl.shape;
    let mut mask = stage_raster("mask", shape)?;
    let memory = |what: &'static str| {
        move |e: std::io::Error| Error::from(DetectError::NoMemory(what, e.to_string()))
    };
    let mut rho5 = raster::BandBuf::<f32>::zeros(shape).map_err(memory("ρ5"))?;
    let mut rho7 = raster::BandBuf::<f32>::zeros(shape).map_err(memory("ρ7"))?;
    // The coverage grid's pixels in a cloud's shadow (QA_PIXEL), noted as their blocks pass.
    let k = grid_step(shape.0, shape.1, MAX_SAMPLES);
    progress(Stage::Reading);
    let t0 = Instant::now();
    let (checked, outs) = {
        let (m, r5, r7) = (
            mask.as_mut_slice(),
            rho5.as_mut_slice(),
            rho7.as_mut_slice(),
        );
        crate::product::landsat_c2l1::read_streaming(
            product,
            plan,
            |plan| {
                stream::strips(m, r5, r7, shape.1, plan.strip_rows)
                    .into_iter()
                    .map(|s| (s, Vec::new()))
                    .collect()
            },
            |(out, shadowed): &mut (stream::StripOut, Vec<(usize, usize)>), block| {
                stream::classify_block(out, &block.input(day), (block.r0, block.c0), &model);
                if let Some(qa) = block.qa_pixel {
                    let first = block.c0.div_ceil(k) * k;
                    for i in (0..block.rows).filter(|i| (block.r0 + i) % k == 0) {
                        for c in (first..block.c0 + block.cols).step_by(k) {
                            if landsat_c2l1::qa_shadow(qa[i * block.cols + c - block.c0]) {
                                shadowed.push((block.r0 + i, c));
                            }
                        }
                    }
                }
            },
        )?
    };
    let read = t0.elapsed();
    progress(Stage::Detecting);
    let t1 = Instant::now();
    let (outs, shadowed): (Vec<_>, Vec<_>) = outs.into_iter().unzip();
    let shadowed: std::collections::HashSet<(usize, usize)> =
        shadowed.into_iter().flatten().collect();
    let found = stream::gather(outs);
    let d = stream::detect_streamed(found, mask, rho5.as_slice(), rho7.as_slice(), day, &model);
    let detect = t1.elapsed();
    drop((rho5, rho7));
    let mtl = &product.mtl;
    let meta = SceneMeta {
        acq_time: Some(mtl.acq_time),
        satellite: Some(mtl.satellite_code().to_string()),
        sensor: Some("OLI".into()),
    };
    let obscured = |r: usize, c: usize| shadowed.contains(&(r, c));
    let qa = checked
        .qa_pixel
        .is_some()
        .then_some(&obscured as &dyn Fn(usize, usize) -> bool);
    let mut r = reflective_result(
        d,
        &checked.georef,
        &meta,
        Some(&product.mtl_path),
        &model,
        detect,
        qa,
        progress,
    )?;
    r.timing.read = read;
    Ok(r)
}

/// Hotspots, coverage and the scan's result from an OLI-engine detection (Landsat OLI,
/// Sentinel-2 MSI) on a product's grid.
/// `qa_obscured`: with `QA_PIXEL`, which pixels lie in a cloud's shadow; without it the
/// product says nothing of cloud, and no coverage samples are given (its units are then
/// `coverage_unknown`, not ranked as seen clear).
#[allow(clippy::too_many_arguments)]
fn reflective_result(
    d: crate::detect::oli::OliDetection,
    georef: &raster::GeoRef,
    meta: &SceneMeta,
    path: Option<&PathBuf>,
    model: &OliModel,
    detect: Duration,
    qa_obscured: Option<&dyn Fn(usize, usize) -> bool>,
    progress: &dyn Fn(Stage),
) -> Result<ScanResult, Error> {
    let path = path.cloned().unwrap_or_default();
    let transform = |message: String| RasterError::Transform {
        path: path.clone(),
        message,
    };
    progress(Stage::Georeferencing);
    let t2 = Instant::now();
    let projector = Wgs84Projector::new(georef).map_err(transform)?;
    let acq_time = acq_time_of(meta, &path)?;
    let satellite = meta.satellite.clone().unwrap_or_default();
    let hotspots = d
        .fires
        .iter()
        .map(|f| {
            let (longitude, latitude) = projector.centre(f.row, f.col)?;
            let (scan_km, track_km) = projector.pixel_size_km(f.row, f.col)?;
            Ok(Hotspot {
                latitude,
                longitude,
                bt_mir_k: None,
                bt_tir_k: None,
                scan_km: Some(scan_km),
                track_km: Some(track_km),
                acq_time,
                satellite: satellite.clone(),
                instrument: model.instrument.clone(),
                confidence: f.confidence,
                version: model.product_version.clone(),
                frp_mw: None,
                daynight: if f.day {
                    DayNight::Day
                } else {
                    DayNight::Night
                },
                fire_type: None,
                row: Some(f.row),
                col: Some(f.col),
            })
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(transform)?;
    let coverage_samples = match qa_obscured {
        Some(obscured) => {
            coverage_samples_where(&projector, d.mask.view(), obscured).map_err(transform)?
        }
        None => Vec::new(),
    };
    let georef_t = t2.elapsed();
    let fires = d
        .fires
        .iter()
        .map(|f| FirePixel {
            row: f.row,
            col: f.col,
            bt4_k: f32::NAN,
            bt5_k: f32::NAN,
            frp_mw: f64::NAN,
            confidence: f.confidence,
            day: f.day,
            background_bt4_k: f32::NAN,
        })
        .collect();
    Ok(ScanResult {
        meta: meta.clone(),
        shape: d.mask.shape(),
        model_name: model.name.clone(),
        hotspots,
        detection: Detection {
            mask: d.mask,
            fires,
            summary: d.summary,
        },
        coverage_samples,
        timing: Timing {
            read: Duration::ZERO,
            detect,
            georef: georef_t,
        },
    })
}

/// True when a granule goes to the MODIS-family detector: a MODIS or FY-3 MERSI granule (by its
/// sensor), or a MODIS-family model asked for by name.
fn is_modis_family(g: &Granule, choice: ModelChoice) -> bool {
    match choice {
        ModelChoice::Named(name) => ModisModel::builtin_named(name).is_some(),
        ModelChoice::File(_) | ModelChoice::FromScene => g
            .meta
            .sensor
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("MODIS") || s.eq_ignore_ascii_case("MERSI")),
    }
}

/// The MODIS-family model for a choice and a granule's sensor: `modis-c61` for MODIS,
/// `fy3d-mersi` for MERSI unless a model file or another name is given; a `--sensor` naming a
/// sensor of another family is refused.
pub fn choose_modis_model(choice: ModelChoice, sensor: Option<&str>) -> Result<ModisModel, Error> {
    Ok(match choice {
        ModelChoice::FromScene => match sensor {
            Some(s) if s.eq_ignore_ascii_case("MERSI") => ModisModel::mersi(),
            _ => ModisModel::builtin(),
        },
        ModelChoice::Named(name) => match ModisModel::builtin_named(name) {
            Some(m) => m,
            None => return Err(crate::model::ModelError::Unknown {
                name: name.to_string(),
                known:
                    "modis-c61, fy3d-mersi, fy3e-mersi-ll (the models for a MODIS or MERSI granule)"
                        .into(),
            }
            .into()),
        },
        ModelChoice::File(path) => ModisModel::from_file(path)?,
    })
}

/// Detects and georeferences a MODIS 1 km granule (Collection 6.1 algorithm, `detect::modis`),
/// or an FY-3D MERSI-II granule through the same detector with its own model, in its swath
/// geometry: the land/sea mask for water, band 21 where band 22 saturates (at the
/// product's own saturation value when lower than the model's), the glint geometry when the
/// angles are there; FRP and FIRMS `scan`/`track` from the MODIS pixel size per sample
/// (measured on the geolocation for a cut-out granule). Each fire a FIRMS MODIS hotspot:
/// `brightness` = T4, `bright_t31` = T11, confidence 0–100, satellite `T`/`A`, instrument
/// `MODIS` (MERSI: satellite `FY3D`, instrument `MERSI`, the same columns).
pub fn scan_modis(
    g: &Granule,
    choice: ModelChoice,
    progress: &dyn Fn(Stage),
) -> Result<ScanResult, Error> {
    let path = g
        .files
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("(granule)"));
    let model = match (choice, g.meta.satellite.as_deref()) {
        // FY-3E's MERSI-LL has no reflective bands: its own model (night tests only).
        (ModelChoice::FromScene, Some("FY3E")) => ModisModel::mersi_ll(),
        _ => choose_modis_model(choice, g.meta.sensor.as_deref())?,
    };
    let acq_time = acq_time_of(&g.meta, &path)?;
    let transform = |message: String| RasterError::Transform {
        path: path.clone(),
        message,
    };
    progress(Stage::Reading);
    let input = ModisInput::from_bands(
        |name| g.band(name),
        g.water.as_ref().map(|w| w.view()),
        g.saturation.get("B22").copied(),
    )?;
    if input.dim() != g.shape {
        return Err(DetectError::Shape {
            band: "B22".into(),
            got: input.dim(),
            want: g.shape,
        }
        .into());
    }
    let Geometry::Swath(swath) = &g.geometry else {
        return Err(transform("a MODIS granule is a swath with geolocation".into()).into());
    };
    progress(Stage::Detecting);
    let t1 = Instant::now();
    let sizes = swath_pixel_sizes_km(swath, g.shape);
    let area = PixelArea::PerColumn(sizes.iter().map(|(s, t)| s * t * 1e6).collect());
    let d = detect_modis(&input, &model, &area)?;
    let detect = t1.elapsed();

    progress(Stage::Georeferencing);
    let t2 = Instant::now();
    let satellite = g.meta.satellite.clone().unwrap_or_default();
    let (lat, lon) = (swath.lat.view(), swath.lon.view());
    let hotspots = d
        .fires
        .iter()
        .map(|f| {
            let (la, lo) = (lat[[f.row, f.col]], lon[[f.row, f.col]]);
            if !(la.is_finite() && lo.is_finite()) {
                return Err(format!(
                    "a fire at row {} column {} has no geolocation (latitude {la}, longitude {lo})",
                    f.row, f.col
                ));
            }
            Ok(Hotspot {
                latitude: la as f64,
                longitude: lo as f64,
                bt_mir_k: Some(f.t4_k as f64),
                bt_tir_k: Some(f.t11_k as f64),
                scan_km: Some(sizes[f.col].0),
                track_km: Some(sizes[f.col].1),
                acq_time,
                satellite: satellite.clone(),
                instrument: model.instrument.clone(),
                confidence: f.firms_confidence(),
                version: model.product_version.clone(),
                frp_mw: Some(f.frp_mw).filter(|v| v.is_finite()),
                daynight: if f.day {
                    DayNight::Day
                } else {
                    DayNight::Night
                },
                fire_type: None,
                row: Some(f.row),
                col: Some(f.col),
            })
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(transform)?;
    let coverage_samples = swath_coverage_samples(swath, d.mask.view());
    let georef = t2.elapsed();
    let fires = d
        .fires
        .iter()
        .map(|f| FirePixel {
            row: f.row,
            col: f.col,
            bt4_k: f.t4_k,
            bt5_k: f.t11_k,
            frp_mw: f.frp_mw,
            confidence: f.firms_confidence(),
            day: f.day,
            background_bt4_k: f.background_t4_k,
        })
        .collect();
    Ok(ScanResult {
        meta: g.meta.clone(),
        shape: g.shape,
        model_name: model.name.clone(),
        hotspots,
        detection: Detection {
            mask: d.mask,
            fires,
            summary: d.summary,
        },
        coverage_samples,
        timing: Timing {
            read: Duration::ZERO,
            detect,
            georef,
        },
    })
}

/// The MSI model for a choice: the built-in `sentinel2-msi` unless a model file is given; a
/// `--sensor` naming another sensor is refused.
pub fn choose_msi_model(choice: ModelChoice) -> Result<OliModel, Error> {
    Ok(match choice {
        ModelChoice::FromScene => crate::model::msi::builtin(),
        ModelChoice::Named(name) if crate::model::msi::is_name(name) => {
            crate::model::msi::builtin()
        }
        ModelChoice::Named(name) => {
            return Err(crate::model::ModelError::Unknown {
                name: name.to_string(),
                known: "sentinel2-msi (the only model for a Sentinel-2 product)".into(),
            }
            .into())
        }
        ModelChoice::File(path) => crate::model::msi::from_file(path)?,
    })
}

/// Detects and georeferences a Sentinel-2 MSI product (the OLI engine with
/// `models/sentinel2-msi.toml`, `detect::msi`) on its 20 m UTM grid: day by the tile's mean sun
/// zenith, cloud from `MSK_CLASSI` (or L2A's SCL), water by the spectral test (and SCL), each
/// fire a FIRMS hotspot at its 20 m pixel's centre with `scan`/`track` the pixel's size
/// (≈ 0.02 km), satellite `S2A`/`S2B`/`S2C`, instrument `MSI`; no temperatures or FRP (the
/// algorithm is reflective).
pub fn scan_sentinel2(
    scene: &crate::product::sentinel2_l1c::Sentinel2Scene,
    choice: ModelChoice,
    progress: &dyn Fn(Stage),
) -> Result<ScanResult, Error> {
    let model = choose_msi_model(choice)?;
    progress(Stage::Reading);
    let day = scene.sun_elevation_deg() > model.day_min_sun_elevation_deg;
    let g = &scene.granule;
    let input = crate::detect::msi::input(
        |n| g.band(n),
        &model,
        scene.cloud.as_ref().map(|c| c.view()),
        g.water.as_ref().map(|w| w.view()),
        day,
    )?;
    scan_reflective(g, &input, &model, progress)
}

/// The reflective (OLI-family) detection of a granule on a map grid, and its hotspots: what
/// [`scan_sentinel2`] runs once the bands are chosen.
fn scan_reflective(
    g: &Granule,
    input: &OliInput,
    model: &OliModel,
    progress: &dyn Fn(Stage),
) -> Result<ScanResult, Error> {
    let path = g.files.first().cloned().unwrap_or_default();
    let transform = |message: String| RasterError::Transform {
        path: path.clone(),
        message,
    };
    progress(Stage::Detecting);
    let t1 = Instant::now();
    let d = detect_oli(input, model)?;
    let detect = t1.elapsed();
    let Geometry::Grid(georef) = &g.geometry else {
        return Err(transform("a reflective product is on a map grid".into()).into());
    };
    // Sentinel-2 has no shadow band: the mask's own cloud classes are all coverage knows.
    reflective_result(
        d,
        georef,
        &g.meta,
        g.files.first(),
        model,
        detect,
        Some(&|_, _| false),
        progress,
    )
}
