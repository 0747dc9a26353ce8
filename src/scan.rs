//! One scene file in, hotspots out: the job of `strawfire scan` and, later, of the service's
//! scene workers. Glue between `raster` (GDAL), `detect` (pure) and `hotspot` (records); it adds
//! what neither knows alone: which model a scene needs, the pixel areas for FRP, and each fire's
//! WGS84 position and size.

use std::path::Path;
use std::time::{Duration, Instant};

use ndarray::{s, ArrayView2, Axis};

use crate::detect::pixel::PixelParams;
use crate::detect::strip::{block_has_day_pixel, classify_block, StripOut, VIIRS_DAY_ONLY_BANDS};
use crate::detect::{
    detect_classified, stage_raster, Classified, DetectError, Detection, FirePixel,
    ObservationSummary, PixelArea, ViirsInput, VIIRS_WHOLE_BANDS,
};
use crate::hotspot::{DayNight, Hotspot};
use crate::model::SensorModel;
use crate::rank::coverage::{grid_step, land_class, CoverageSample, MAX_SAMPLES};
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
    Ok(match choice {
        ModelChoice::Named(name) => SensorModel::builtin(name)?,
        ModelChoice::File(path) => SensorModel::from_file(path)?,
        ModelChoice::FromScene => match &header.meta.sensor {
            Some(sensor) => SensorModel::builtin(sensor)?,
            None => {
                return Err(RasterError::BadMetadata {
                    path: header.path.clone(),
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
    let acq_time = header
        .meta
        .acq_time
        .ok_or_else(|| RasterError::BadMetadata {
            path: path.to_path_buf(),
            key: "ACQ_TIME".into(),
            value: String::new(),
            message: "missing; hotspots need the acquisition time (ISO 8601 UTC)".into(),
        })?;
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

/// The land pixels of a regular grid (at most `MAX_SAMPLES`) of a fire mask (classes as
/// `MaskClass`) with their centres and whether each was seen clear: what the scene observed, for
/// fair rankings. Centres come from [`Wgs84Projector::grid_lonlat`] (within metres of exact).
pub fn coverage_samples(
    p: &Wgs84Projector,
    mask: ArrayView2<u8>,
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
    let (longitude, latitude) = p.centre(f.row, f.col)?;
    let (scan_km, track_km) = p.pixel_size_km(f.row, f.col)?;
    Ok(Hotspot {
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
    })
}
