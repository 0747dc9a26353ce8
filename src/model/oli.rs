//! The Landsat 8/9 OLI fire model (`models/landsat-oli.toml`, Schroeder et al. 2016): every
//! threshold of the daytime unambiguous, candidate, contextual and water tests and of the night
//! test, with its source beside it in the file. A struct of its own, not [`super::SensorModel`]:
//! OLI's algorithm is reflective-only (ratios of TOA reflectances, no brightness temperatures,
//! no FRP), so the VIIRS model's required bands and thresholds do not apply to it.

use std::path::Path;

use serde::Deserialize;

use super::ModelError;

/// Daytime unambiguous fire tests.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unambiguous {
    pub ratio_75: f32,
    pub diff_75: f32,
    pub rho7_min: f32,
    pub rho6_min: f32,
    pub rho1_max: f32,
    pub rho5_min: f32,
    pub rho7_folded_max: f32,
}

/// Candidate (potential) fire test.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    pub ratio_75: f32,
    pub diff_75: f32,
    pub ratio_76: f32,
}

/// The contextual confirmation of candidates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// Side of the square window, pixels (odd).
    pub window: usize,
    pub ratio_sigmas: f64,
    pub ratio_min_excess: f64,
    pub rho7_sigmas: f64,
    pub rho7_min_excess: f64,
    pub background_rho7_min: f32,
    pub exclude_cloud: bool,
    pub min_valid: usize,
}

/// The spectral water test.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Water {
    pub rho1_minus_rho7_max: f32,
    pub use_qa: bool,
}

/// The night test.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Night {
    pub rho7_min: f32,
}

/// Confidence classes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confidence {
    pub low_next_to_cloud_or_water: bool,
}

/// A validated OLI model. Field names follow `models/landsat-oli.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OliModel {
    pub name: String,
    pub instrument: String,
    /// The product bands that fill the algorithm's seven roles ρ1…ρ7 (coastal, blue, green,
    /// red, NIR 0.865 µm, SWIR 1.6 µm, SWIR 2.2 µm), by canonical name: OLI's `B1`…`B7` when
    /// the file does not say (`landsat-oli.toml`), MSI's `B01 B02 B03 B04 B8A B11 B12` in
    /// `sentinel2-msi.toml`. The same engine then runs on either sensor.
    #[serde(default = "oli_bands")]
    pub bands: Vec<String>,
    pub product_version: String,
    pub nominal_pixel_m: f64,
    pub day_min_sun_elevation_deg: f64,
    pub unambiguous: Unambiguous,
    pub candidate: Candidate,
    pub context: Context,
    pub water: Water,
    pub night: Night,
    pub confidence: Confidence,
    /// Sentinel-2 only (`sentinel2-msi.toml`): Hu et al. (2021)'s per-biome fixed-threshold
    /// criteria on B4, B11, B12, kept beside the engine's tests for comparison
    /// ([`super::msi::Hu2021`]); absent from the OLI file.
    #[serde(default)]
    pub hu2021: Option<super::msi::Hu2021>,
}

const LANDSAT_OLI: &str = include_str!("../../models/landsat-oli.toml");

fn oli_bands() -> Vec<String> {
    (1..=7).map(|n| format!("B{n}")).collect()
}

impl OliModel {
    /// True for the names that select this model (`landsat-oli`, `oli`, `landsat`), any case.
    pub fn is_name(name: &str) -> bool {
        matches!(
            name.to_ascii_lowercase().as_str(),
            "landsat-oli" | "oli" | "landsat" | "landsat_oli"
        )
    }

    /// The model compiled into the binary.
    ///
    /// ```
    /// let m = strawfire::model::oli::OliModel::builtin();
    /// assert_eq!(m.context.window, 61);
    /// assert_eq!(m.unambiguous.ratio_75, 2.5);
    /// ```
    pub fn builtin() -> OliModel {
        Self::parse(LANDSAT_OLI, Path::new("models/landsat-oli.toml (built in)"))
            .expect("the built-in OLI model is valid (tested)")
    }

    /// Reads and validates a model file.
    pub fn from_file(path: &Path) -> Result<OliModel, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates model text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<OliModel, ModelError> {
        let m: OliModel = toml::from_str(text).map_err(|e| ModelError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        let invalid = |key: &str, message: &str| ModelError::Invalid {
            path: path.to_path_buf(),
            key: key.to_string(),
            message: message.to_string(),
        };
        if m.context.window < 3 || m.context.window % 2 == 0 {
            return Err(invalid("context.window", "must be odd and at least 3"));
        }
        if m.context.min_valid == 0 {
            return Err(invalid("context.min_valid", "must be at least 1"));
        }
        if !(m.unambiguous.ratio_75 > 1.0 && m.candidate.ratio_75 > 1.0) {
            return Err(invalid(
                "candidate.ratio_75",
                "fire ratios must exceed 1 (fires are brighter at 2.2 µm than at 0.86 µm)",
            ));
        }
        if m.candidate.ratio_75 > m.unambiguous.ratio_75 {
            return Err(invalid(
                "candidate.ratio_75",
                "must not exceed unambiguous.ratio_75",
            ));
        }
        let distinct: std::collections::BTreeSet<&String> = m.bands.iter().collect();
        if m.bands.len() != 7 || distinct.len() != 7 {
            return Err(invalid(
                "bands",
                "must name seven different bands (ρ1…ρ7: coastal, blue, green, red, NIR, SWIR \
                 1.6 µm, SWIR 2.2 µm)",
            ));
        }
        if m.nominal_pixel_m <= 0.0 {
            return Err(invalid("nominal_pixel_m", "must be positive"));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_matches_the_repository_file_and_the_paper() {
        let m = OliModel::builtin();
        let f = OliModel::from_file(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("models/landsat-oli.toml"),
        )
        .unwrap();
        assert_eq!(f.context.window, 61);
        assert_eq!(
            (
                m.unambiguous.ratio_75,
                m.unambiguous.diff_75,
                m.unambiguous.rho7_min
            ),
            (2.5, 0.3, 0.5)
        );
        assert_eq!(
            (
                m.candidate.ratio_75,
                m.candidate.diff_75,
                m.candidate.ratio_76
            ),
            (1.8, 0.17, 1.6)
        );
        assert_eq!(
            (m.context.ratio_min_excess, m.context.rho7_min_excess),
            (0.8, 0.08)
        );
    }

    #[test]
    fn missing_unknown_and_bad_keys_are_named() {
        let err = OliModel::parse(
            &LANDSAT_OLI.replace("diff_75 = 0.17\n", ""),
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("diff_75") && err.contains("m.toml"), "{err}");
        let err = OliModel::parse(
            &LANDSAT_OLI.replace("[night]\n", "[night]\nrho8_min = 1.0\n"),
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("rho8_min"), "{err}");
        let err = OliModel::parse(
            &LANDSAT_OLI.replace("window = 61", "window = 60"),
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("context.window"), "{err}");
    }
}
