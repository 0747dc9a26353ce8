//! The VIIRS family: the 375 m I-band detector (`detect`, a `SensorModel`) on our map-grid
//! scenes, streamed block by block ([`scan_scene`]), and on VIIRS granules in memory (L1B pairs,
//! SDR sets) in their native geometry; each fire a FIRMS hotspot with its temperatures and FRP.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ndarray::{s, Axis};

use super::ground::{coverage_samples, pixel_areas, swath_coverage_samples, swath_pixel_sizes_km};
use super::hotspot::{grid_hotspots, swath_hotspots, Overpass};
use super::{acq_time_of, ModelChoice, ScanResult, Stage, Timing};
use crate::detect::pixel::PixelParams;
use crate::detect::strip::{block_has_day_pixel, classify_block, StripOut, VIIRS_DAY_ONLY_BANDS};
use crate::detect::{
    detect_classified, detect_viirs, stage_raster, Classified, DetectError, Detection, MaskClass,
    PixelArea, ViirsInput, VIIRS_WHOLE_BANDS,
};
use crate::model::SensorModel;
use crate::product::{viirs_iband, Geometry, Granule, Swath};
use crate::raster::{self, BandPlan, RasterError, SceneHeader, SceneMeta, Wgs84Projector};
use crate::Error;

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
pub(super) fn choose_model_for(
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
    let by = Overpass::of(&meta, &model.instrument, &model.product_version, acq_time);
    let hotspots = grid_hotspots(&detection.fires, &projector, &by).map_err(|message| {
        RasterError::Transform {
            path: path.to_path_buf(),
            message,
        }
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

/// [`scan_granule`](super::scan_granule) of a VIIRS granule (L1B pair, SDR set, or a scene on a
/// map grid read as a granule).
pub(super) fn scan_viirs_granule(
    g: &Granule,
    choice: ModelChoice,
    progress: &dyn Fn(Stage),
) -> Result<ScanResult, Error> {
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
    let by = Overpass::of(&g.meta, &model.instrument, &model.product_version, acq_time);
    let (hotspots, coverage_samples) = match &located {
        Located::Grid(p) => (
            grid_hotspots(&detection.fires, p, &by).map_err(transform)?,
            coverage_samples(p, detection.mask.view()).map_err(transform)?,
        ),
        Located::Swath { swath, sizes } => {
            let geolocation = (swath.lat.view(), swath.lon.view());
            let hotspots =
                swath_hotspots(&detection.fires, geolocation, sizes, &by).map_err(transform)?;
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
