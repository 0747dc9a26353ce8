//! Sensor models: the bands, constants and thresholds of one sensor's algorithm, read from a
//! TOML file in `models/` and validated before any scene is touched.
//!
//! Why a file and not constants in code: every threshold is a published number with a paper
//! section beside it, an analyst can read and audit it, and a test can feed a broken model to check
//! that the program refuses it by name. The VIIRS model is also compiled in ([`SensorModel::builtin`]),
//! so the binary works without the repository beside it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub mod modis;
pub mod msi;
pub mod oli;

/// Errors reading a sensor model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The model file could not be read: check the path.
    #[error("cannot read sensor model {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The model file is not valid TOML, misses a key or has an unknown one: the message names it.
    #[error("sensor model {path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// A value is out of its physical range or inconsistent with another: fix the named key.
    #[error("sensor model {path}: key `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
    /// No model of that name is known: use one of the listed names or `--model FILE`.
    #[error("unknown sensor `{name}`; known: {known}")]
    Unknown { name: String, known: String },
    /// The model exists but not for this input (`--sensor sentinel2-msi` on a GeoTIFF scene):
    /// scan that model's input instead, which selects it by itself.
    #[error(
        "`{name}` is not a model for {input} (those take {known}); it is the model for {its_inputs}, \
         chosen by itself when you scan one: give {given_as}"
    )]
    OtherInput {
        name: String,
        input: String,
        known: String,
        its_inputs: String,
        given_as: String,
    },
}

/// What a band holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BandKind {
    /// Top-of-atmosphere reflectance, 0–1.
    Reflectance,
    /// Brightness temperature in K.
    BrightnessTemperature,
    /// An angle in degrees.
    Angle,
}

/// One band of a sensor model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandSpec {
    /// The scene band description that holds this band (matched case-insensitively).
    pub description: String,
    pub kind: BandKind,
    #[serde(default)]
    pub wavelength_um: Option<f64>,
    #[serde(default)]
    pub saturation_k: Option<f64>,
    #[serde(default)]
    pub fold_k: Option<f64>,
    pub required: bool,
}

/// FRP settings (MIR radiance method).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frp {
    pub band: String,
    pub coefficient: f64,
    pub fit_min_k: f64,
    pub fit_max_k: f64,
}

/// Cloud mask thresholds (Schroeder 2014 sec. 2.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cloud {
    pub day_bt5_k: f32,
    pub day_bright_refl: f32,
    pub day_bright_bt5_k: f32,
    pub day_moderate_refl: f32,
    pub day_moderate_bt5_k: f32,
    pub night_bt5_k: f32,
    pub night_bt4_k: f32,
}

/// Fixed-threshold fire tests (sec. 2.2).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixed {
    pub night_bt4_k: f32,
    pub day_saturated_bt5_k: f32,
    pub day_saturated_refl: f32,
    pub day_fold_bt5_k: f32,
    pub night_fold_bt5_k: f32,
    pub night_fold_value_bt5_k: f32,
}

/// Background-fire thresholds (sec. 2.3).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackgroundFire {
    pub day_bt4_k: f32,
    pub day_dt45_k: f32,
    pub night_bt4_k: f32,
    pub night_dt45_k: f32,
}

/// Bright fire-free target skip (sec. 2.3).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrightTarget {
    pub refl_sum: f32,
    pub bt5_k: f32,
    pub rho3_min: f32,
    pub rho2_min: f32,
    pub bt4_max_k: f32,
}

/// Candidate selection (sec. 2.3).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    pub day_bt4s_min_k: f32,
    pub day_bt4s_max_k: f32,
    pub median_window: usize,
    pub day_dt45_k: f32,
    pub night_bt4_k: f32,
    pub night_dt45_k: f32,
}

/// Contextual tests (sec. 2.4).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    pub window_min: usize,
    pub window_max: usize,
    /// Side of the square around the candidate left out of its background window: 1 leaves out
    /// the candidate only (Schroeder et al. 2014), 3 its 8 neighbours too (MODIS heritage).
    pub core_exclusion: usize,
    pub min_valid_fraction: f32,
    pub min_valid_count: usize,
    pub day_dt_mad: f32,
    pub day_dt_offset_k: f32,
    pub day_bt4_mad: f32,
    pub day_bt5_offset_k: f32,
    pub day_bg_fire_mad_k: f32,
    pub night_dt_mad: f32,
    pub night_dt_offset_k: f32,
    pub night_bt4_mad: f32,
}

/// Desert-boundary rejection (sec. 2.5).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Desert {
    pub min_fraction: f32,
    pub min_count: usize,
    pub rho2_min: f32,
    pub bt4_bg_k: f32,
    pub mad_k: f32,
    pub bt4_mad: f32,
}

/// Sun-glint rejection (sec. 2.5).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Glint {
    pub strong_deg: f32,
    pub strong_refl: f32,
    pub weak_deg: f32,
    pub weak_refl: f32,
}

/// Confidence classes (sec. 2.6).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confidence {
    pub low_dt45_k: f32,
    pub low_glint_deg: f32,
    pub low_neighbour_k: f32,
}

/// A validated sensor model. Field names follow `models/viirs-i.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorModel {
    pub name: String,
    pub instrument: String,
    pub product_version: String,
    pub nominal_pixel_m: f64,
    pub night_sza_deg: f32,
    pub bands: BTreeMap<String, BandSpec>,
    pub frp: Frp,
    pub cloud: Cloud,
    pub fixed: Fixed,
    pub background_fire: BackgroundFire,
    pub bright_target: BrightTarget,
    pub candidate: Candidate,
    pub context: Context,
    pub desert: Desert,
    pub glint: Glint,
    pub confidence: Confidence,
}

const VIIRS_I: &str = include_str!("../models/viirs-i.toml");

/// The names of the models of this (VIIRS) engine compiled into the binary; [`BUILTINS`] lists
/// every sensor's.
pub const BUILTIN: &[&str] = &["viirs-i"];

/// One sensor model compiled into the binary.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// Its name: what `--sensor` takes, the `name` in its file, and `models/NAME.toml`.
    pub name: &'static str,
    /// The inputs it is for, as the help says it.
    pub inputs: &'static str,
    /// True for every name that selects it (aliases, any case): the test the scan's model choice
    /// itself uses.
    pub selects: fn(&str) -> bool,
    /// How its input is given to `strawfire scan`, for a refusal that points there.
    pub given_as: &'static str,
}

/// Every sensor model compiled into the binary. `strawfire scan --help` lists this, so the help
/// cannot leave out a model the scan accepts; a test checks that each name selects its model and
/// that `models/` holds no model missing here.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "viirs-i",
        inputs: "VIIRS I-band scenes and granules",
        selects: SensorModel::is_name,
        given_as: "a GeoTIFF scene, a VIIRS L1B pair (V?P02IMG + V?P03IMG) or a CSPP SDR set \
                   (SVI01–SVI05 with GITCO/GIMGO)",
    },
    Builtin {
        name: "modis-c61",
        inputs: "MODIS granules",
        selects: modis::ModisModel::is_name,
        given_as: "the MOD021KM/MYD021KM file with its MOD03/MYD03 beside it",
    },
    Builtin {
        name: "fy3d-mersi",
        inputs: "FY-3D MERSI-II granules",
        selects: modis::ModisModel::is_mersi_name,
        given_as: "the FY3D_MERSI_…_1000M_MS.HDF file with its GEO1K beside it",
    },
    Builtin {
        name: "fy3e-mersi-ll",
        inputs: "FY-3E MERSI-LL granules",
        selects: modis::ModisModel::is_mersi_ll_name,
        given_as: "the FY3E_MERSI_GRAN_L1_…_1000M_V0.HDF file with its GEO1K beside it",
    },
    Builtin {
        name: "landsat-oli",
        inputs: "Landsat 8/9 OLI products",
        selects: oli::OliModel::is_name,
        given_as: "the product's folder (LC08_L1TP_…_02_T1), its .tar, its _MTL.txt or _MTL.json, \
                   or one of its band files",
    },
    Builtin {
        name: "sentinel2-msi",
        inputs: "Sentinel-2 MSI products",
        selects: msi::is_name,
        given_as: "the product's .SAFE folder, its .zip, its MTD_MSIL1C.xml or MTD_MSIL2A.xml, \
                   or its tile's MTD_TL.xml",
    },
];

/// The built-in models as a help text: `viirs-i (VIIRS I-band scenes and granules), …`.
pub fn builtins_help() -> String {
    BUILTINS
        .iter()
        .map(|b| format!("{} ({})", b.name, b.inputs))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The refusal of a model name for a GeoTIFF scene or VIIRS granule (this engine's inputs):
/// another family's model is named with the input it is for and how to give that input; an
/// unknown name gets every model with the input it is for.
fn for_scene(name: &str) -> ModelError {
    let input = "a GeoTIFF scene or a VIIRS granule";
    match BUILTINS
        .iter()
        .find(|b| (b.selects)(name) && !BUILTIN.contains(&b.name))
    {
        Some(b) => ModelError::OtherInput {
            name: b.name.to_string(),
            input: input.into(),
            known: BUILTIN.join(", "),
            its_inputs: b.inputs.to_string(),
            given_as: b.given_as.to_string(),
        },
        None => ModelError::Unknown {
            name: name.to_string(),
            known: format!("{} (for {input}: {})", builtins_help(), BUILTIN.join(", ")),
        },
    }
}

impl SensorModel {
    /// A model compiled into the binary, by name (`viirs-i`), case-insensitive; the SENSOR
    /// metadata value `VIIRS` also selects `viirs-i`.
    ///
    /// ```
    /// let m = strawfire::model::SensorModel::builtin("VIIRS").unwrap();
    /// assert_eq!(m.name, "viirs-i");
    /// assert_eq!(m.band("I4").unwrap().saturation_k, Some(367.0));
    /// ```
    pub fn builtin(name: &str) -> Result<SensorModel, ModelError> {
        if Self::is_name(name) {
            Self::parse(VIIRS_I, Path::new("models/viirs-i.toml (built in)"))
        } else {
            Err(for_scene(name))
        }
    }

    /// True for the names that select the VIIRS model (`viirs-i`, `viirs`), any case.
    pub fn is_name(name: &str) -> bool {
        matches!(
            name.to_ascii_lowercase().as_str(),
            "viirs-i" | "viirs" | "viirs_i"
        )
    }

    /// Reads and validates a model file.
    pub fn from_file(path: &Path) -> Result<SensorModel, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates model text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<SensorModel, ModelError> {
        let model: SensorModel = toml::from_str(text).map_err(|e| ModelError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        model.validate(path)?;
        Ok(model)
    }

    /// The band spec under its canonical name (`I4`).
    pub fn band(&self, name: &str) -> Option<&BandSpec> {
        self.bands.get(name)
    }

    fn validate(&self, path: &Path) -> Result<(), ModelError> {
        let invalid = |key: &str, message: String| ModelError::Invalid {
            path: path.to_path_buf(),
            key: key.to_string(),
            message,
        };
        // The VIIRS algorithm reads these bands by name.
        for name in ["I1", "I2", "I3", "I4", "I5", "SZA"] {
            let Some(b) = self.bands.get(name) else {
                return Err(invalid(
                    &format!("bands.{name}"),
                    "missing; the algorithm needs it".into(),
                ));
            };
            if !b.required {
                return Err(invalid(
                    &format!("bands.{name}.required"),
                    "must be true".into(),
                ));
            }
        }
        for name in ["I4", "I5"] {
            let b = &self.bands[name];
            if b.kind != BandKind::BrightnessTemperature {
                return Err(invalid(
                    &format!("bands.{name}.kind"),
                    "must be brightness_temperature".into(),
                ));
            }
            match b.wavelength_um {
                Some(w) if (0.3..20.0).contains(&w) => {}
                _ => {
                    return Err(invalid(
                        &format!("bands.{name}.wavelength_um"),
                        "missing or outside 0.3–20 µm".into(),
                    ))
                }
            }
            match b.saturation_k {
                Some(s) if (250.0..1000.0).contains(&s) => {}
                _ => {
                    return Err(invalid(
                        &format!("bands.{name}.saturation_k"),
                        "missing or outside 250–1000 K".into(),
                    ))
                }
            }
        }
        if self.bands["I4"].fold_k.is_none() {
            return Err(invalid("bands.I4.fold_k", "missing".into()));
        }
        let frp_band = self.bands.get(&self.frp.band).ok_or_else(|| {
            invalid(
                "frp.band",
                format!("names no band of the model: {}", self.frp.band),
            )
        })?;
        let wl = frp_band
            .wavelength_um
            .ok_or_else(|| invalid("frp.band", "the band has no wavelength_um".into()))?;
        if !(self.frp.fit_min_k > 300.0 && self.frp.fit_max_k > self.frp.fit_min_k) {
            return Err(invalid(
                "frp.fit_min_k",
                "need 300 < fit_min_k < fit_max_k".into(),
            ));
        }
        let fitted = crate::physics::frp_coefficient(wl, self.frp.fit_min_k, self.frp.fit_max_k);
        if ((self.frp.coefficient - fitted) / fitted).abs() > 0.01 {
            return Err(invalid(
                "frp.coefficient",
                format!(
                    "{:e} differs by more than 1 % from the Planck fit at {wl} µm over {}–{} K ({fitted:e})",
                    self.frp.coefficient, self.frp.fit_min_k, self.frp.fit_max_k
                ),
            ));
        }
        let c = &self.context;
        if c.window_min < 3
            || c.window_min % 2 == 0
            || c.window_max < c.window_min
            || c.window_max % 2 == 0
        {
            return Err(invalid(
                "context.window_min",
                "windows must be odd, at least 3, and window_min <= window_max".into(),
            ));
        }
        if c.core_exclusion % 2 == 0 || c.core_exclusion >= c.window_min {
            return Err(invalid(
                "context.core_exclusion",
                "must be odd and smaller than window_min".into(),
            ));
        }
        if self.candidate.median_window % 2 == 0 || self.candidate.median_window < 3 {
            return Err(invalid(
                "candidate.median_window",
                "must be odd and at least 3".into(),
            ));
        }
        if !(0.0..=1.0).contains(&c.min_valid_fraction) {
            return Err(invalid(
                "context.min_valid_fraction",
                "must be within 0–1".into(),
            ));
        }
        if self.nominal_pixel_m <= 0.0 {
            return Err(invalid("nominal_pixel_m", "must be positive".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_model_is_listed_and_selected_by_its_name_alone() {
        for b in BUILTINS {
            let chosen: Vec<&str> = BUILTINS
                .iter()
                .filter(|o| (o.selects)(b.name))
                .map(|o| o.name)
                .collect();
            assert_eq!(chosen, [b.name], "`{}` selects {chosen:?}", b.name);
            // The model the name loads is the one of that name.
            let loaded = match b.name {
                "viirs-i" => SensorModel::builtin(b.name).unwrap().name,
                "landsat-oli" => oli::OliModel::builtin().name,
                "sentinel2-msi" => msi::builtin().name,
                _ => modis::ModisModel::builtin_named(b.name).unwrap().name,
            };
            assert_eq!(loaded, b.name);
            assert!(builtins_help().contains(b.name));
        }
        // No model file in models/ is left out of the list.
        let mut files: Vec<String> =
            std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("models"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|f| f.ends_with(".toml"))
                .collect();
        files.sort();
        let mut listed: Vec<String> = BUILTINS
            .iter()
            .map(|b| format!("{}.toml", b.name))
            .collect();
        listed.sort();
        assert_eq!(files, listed);
    }

    #[test]
    fn builtin_viirs_model_loads_and_matches_the_repository_file() {
        let m = SensorModel::builtin("viirs-i").unwrap();
        let f = SensorModel::from_file(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("models/viirs-i.toml"),
        )
        .unwrap();
        assert_eq!(m.fixed.night_bt4_k, 320.0);
        assert_eq!(f.context.window_max, 31);
        assert_eq!(m.candidate.median_window, 501);
    }

    #[test]
    fn a_missing_threshold_is_named() {
        let text = VIIRS_I.replace("night_bt4_mad = 3.0\n", "");
        let err = SensorModel::parse(&text, Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("night_bt4_mad"), "{err}");
        assert!(err.contains("m.toml"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_named() {
        let text = VIIRS_I.replace("[glint]\n", "[glint]\nstrong_dge = 1.0\n");
        let err = SensorModel::parse(&text, Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("strong_dge"), "{err}");
    }

    #[test]
    fn a_wrong_frp_coefficient_is_refused() {
        let text = VIIRS_I.replace("coefficient = 3.243e-9", "coefficient = 3.0e-9");
        let err = SensorModel::parse(&text, Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("frp.coefficient"), "{err}");
    }

    #[test]
    fn unknown_sensor_lists_the_known_ones() {
        let err = SensorModel::builtin("avhrr").unwrap_err().to_string();
        assert!(err.contains("viirs-i"), "{err}");
        // Every model with what it is for.
        for b in BUILTINS {
            assert!(err.contains(&format!("{} ({})", b.name, b.inputs)), "{err}");
        }
    }

    #[test]
    fn another_familys_model_says_how_to_give_its_input() {
        for b in BUILTINS.iter().filter(|b| !BUILTIN.contains(&b.name)) {
            let err = SensorModel::builtin(b.name).unwrap_err();
            assert!(matches!(err, ModelError::OtherInput { .. }), "{err}");
            let err = err.to_string();
            assert!(
                err.contains(b.inputs) && err.contains(b.given_as) && err.contains("take viirs-i"),
                "{err}"
            );
        }
    }
}
