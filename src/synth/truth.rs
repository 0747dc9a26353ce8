//! The truth of a synthetic scene: one row per planted fire, with what the physics says the
//! detector should see there. Tests and analysts match detections to it by (row, col).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::landcover::LandClass;

/// What was planted in one pixel and what it does to the signal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FireTruth {
    /// 0-based pixel indices.
    pub row: usize,
    pub col: usize,
    /// Burning area, m².
    pub area_m2: f64,
    /// Fire temperature, K.
    pub temp_k: f64,
    /// Kinetic temperature of the background surface, K.
    pub surface_temp_k: f64,
    /// BT4 and BT5 of the pixel without the fire and without sensor noise, K.
    pub background_bt4_k: f64,
    pub background_bt5_k: f64,
    /// BT4 and BT5 rise the fire causes, before saturation and noise, K.
    pub expected_dbt4_k: f64,
    pub expected_dbt5_k: f64,
    /// True radiative power σ·A·(T⁴ − Tb⁴), MW.
    pub true_frp_mw: f64,
    /// Class of the pixel (`cropland`, `village`, …).
    pub land_class: &'static str,
    /// I4 was clipped at 367 K.
    pub saturated: bool,
    /// I4 was written as the fold value 208 K.
    pub folded: bool,
}

impl FireTruth {
    pub fn class(&self) -> Option<LandClass> {
        LandClass::ALL
            .into_iter()
            .find(|c| c.name() == self.land_class)
    }
}

/// Errors writing a truth file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TruthError {
    /// The file could not be written: check the directory and free space.
    #[error("{path}: cannot write truth CSV: {message}")]
    Write { path: PathBuf, message: String },
}

/// Writes the truth CSV (header + one row per fire), atomically: to `path.part`, then renamed.
pub fn write_truth_csv(path: &Path, truth: &[FireTruth]) -> Result<(), TruthError> {
    let fail = |message: String| TruthError::Write {
        path: path.to_path_buf(),
        message,
    };
    let tmp = path.with_extension("csv.part");
    let result = (|| {
        let mut w = csv::Writer::from_path(&tmp).map_err(|e| fail(e.to_string()))?;
        if truth.is_empty() {
            w.write_record(TRUTH_HEADER)
                .map_err(|e| fail(e.to_string()))?;
        }
        for t in truth {
            w.serialize(Rounded::from(t))
                .map_err(|e| fail(e.to_string()))?;
        }
        w.flush().map_err(|e| fail(e.to_string()))
    })();
    crate::atomic::finish(&tmp, path, result).map_err(|e| match e {
        Ok(message) => fail(message),
        Err(e) => e,
    })
}

/// Column names of the truth CSV, in order.
pub const TRUTH_HEADER: [&str; 13] = [
    "row",
    "col",
    "area_m2",
    "temp_k",
    "surface_temp_k",
    "background_bt4_k",
    "background_bt5_k",
    "expected_dbt4_k",
    "expected_dbt5_k",
    "true_frp_mw",
    "land_class",
    "saturated",
    "folded",
];

/// The CSV form: values rounded to what the physics can tell apart, so files diff cleanly.
#[derive(Serialize)]
struct Rounded {
    row: usize,
    col: usize,
    area_m2: f64,
    temp_k: f64,
    surface_temp_k: f64,
    background_bt4_k: f64,
    background_bt5_k: f64,
    expected_dbt4_k: f64,
    expected_dbt5_k: f64,
    true_frp_mw: f64,
    land_class: &'static str,
    saturated: bool,
    folded: bool,
}

fn round(v: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (v * k).round() / k
}

impl From<&FireTruth> for Rounded {
    fn from(t: &FireTruth) -> Self {
        Rounded {
            row: t.row,
            col: t.col,
            area_m2: round(t.area_m2, 2),
            temp_k: round(t.temp_k, 1),
            surface_temp_k: round(t.surface_temp_k, 2),
            background_bt4_k: round(t.background_bt4_k, 2),
            background_bt5_k: round(t.background_bt5_k, 2),
            expected_dbt4_k: round(t.expected_dbt4_k, 2),
            expected_dbt5_k: round(t.expected_dbt5_k, 3),
            true_frp_mw: round(t.true_frp_mw, 4),
            land_class: t.land_class,
            saturated: t.saturated,
            folded: t.folded,
        }
    }
}
