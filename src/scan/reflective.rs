//! The field-scale family: the OLI engine (Schroeder et al. 2016) on Landsat 8/9 OLI products
//! (30 m, streamed or whole) and on Sentinel-2 MSI (20 m), each fire a FIRMS hotspot at its
//! pixel's centre with the pixel's footprint.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::ground::coverage_samples_where;
use super::hotspot::{grid_hotspots, Overpass};
use super::{acq_time_of, ModelChoice, ScanResult, Stage, Timing};
use crate::detect::oli::{detect_oli, OliInput};
use crate::detect::{stage_raster, DetectError, Detection, FirePixel};
use crate::model::oli::OliModel;
use crate::product::landsat_c2l1::{self, LandsatScene};
use crate::product::{Geometry, Granule};
use crate::rank::coverage::{grid_step, MAX_SAMPLES};
use crate::raster::{self, RasterError, SceneMeta, Wgs84Projector};
use crate::Error;

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
pub(super) fn reflective_result(
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
    // No temperatures and no FRP: the algorithm is reflective (NaN here, unknown in the
    // hotspot records).
    let fires: Vec<FirePixel> = d
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
    progress(Stage::Georeferencing);
    let t2 = Instant::now();
    let projector = Wgs84Projector::new(georef).map_err(transform)?;
    let acq_time = acq_time_of(meta, &path)?;
    let by = Overpass::of(meta, &model.instrument, &model.product_version, acq_time);
    let hotspots = grid_hotspots(&fires, &projector, &by).map_err(transform)?;
    let coverage_samples = match qa_obscured {
        Some(obscured) => {
            coverage_samples_where(&projector, d.mask.view(), obscured).map_err(transform)?
        }
        None => Vec::new(),
    };
    let georef_t = t2.elapsed();
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
