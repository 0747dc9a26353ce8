//! The 1 km family: MODIS C6.1 (Giglio et al. 2016) on MODIS and FY-3 MERSI granules, in
//! their swath geometry.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::ground::{swath_coverage_samples, swath_pixel_sizes_km};
use super::hotspot::{swath_hotspots, Overpass};
use super::{acq_time_of, ModelChoice, ScanResult, Stage, Timing};
use crate::detect::modis::{detect_modis, ModisInput};
use crate::detect::{DetectError, Detection, FirePixel, PixelArea};
use crate::model::modis::ModisModel;
use crate::product::{Geometry, Granule};
use crate::raster::RasterError;
use crate::Error;

/// True when a granule goes to the MODIS-family detector: a MODIS or FY-3 MERSI granule (by its
/// sensor), or a MODIS-family model asked for by name.
pub(super) fn is_modis_family(g: &Granule, choice: ModelChoice) -> bool {
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

    let fires: Vec<FirePixel> = d
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
    progress(Stage::Georeferencing);
    let t2 = Instant::now();
    let by = Overpass::of(&g.meta, &model.instrument, &model.product_version, acq_time);
    let geolocation = (swath.lat.view(), swath.lon.view());
    let hotspots = swath_hotspots(&fires, geolocation, &sizes, &by).map_err(transform)?;
    let coverage_samples = swath_coverage_samples(swath, d.mask.view());
    let georef = t2.elapsed();
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
