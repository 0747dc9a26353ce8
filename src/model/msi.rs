//! The Sentinel-2 MSI fire model (`models/sentinel2-msi.toml`): Schroeder et al. (2016)'s OLI
//! algorithm on MSI's spectrally matching bands (B01 B02 B03 B04 B8A B11 B12), so it is an
//! [`OliModel`] whose `bands` key names MSI's bands; the detector is the OLI engine
//! (`detect::oli`), and the model file is the whole difference. The file says why each threshold
//! carries over and which are ours.
//!
//! The file also holds Hu, Ban and Nascetti (2021)'s Sentinel-2 method ([`Hu2021`]): fixed
//! per-biome criteria on B4, B11 and B12 TOA reflectance. They are not the engine's tests (the
//! paper fits no biome for temperate cropland, the North China Plain's; see the file), but
//! they are read, validated and evaluated beside it on the same synthetic tiles
//! (`tests/detect_msi_physics.rs`), so the two methods' detection and false alarms can be
//! compared on the physics.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::oli::OliModel;
use super::ModelError;

const SENTINEL2_MSI: &str = include_str!("../../models/sentinel2-msi.toml");

/// True for the names that select this model (`sentinel2-msi`, `msi`, `sentinel2`, `s2`), any
/// case.
pub fn is_name(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "sentinel2-msi" | "msi" | "sentinel2" | "sentinel-2" | "s2" | "sentinel2_msi"
    )
}

/// The model compiled into the binary.
///
/// ```
/// let m = strawfire::model::msi::builtin();
/// assert_eq!(m.instrument, "MSI");
/// assert_eq!(m.bands[6], "B12");
/// ```
pub fn builtin() -> OliModel {
    parse(
        SENTINEL2_MSI,
        Path::new("models/sentinel2-msi.toml (built in)"),
    )
    .expect("the built-in MSI model is valid (tested)")
}

/// Parses and validates model text; an MSI model must name MSI's instrument.
pub fn parse(text: &str, path: &Path) -> Result<OliModel, ModelError> {
    let m = OliModel::parse(text, path)?;
    if let Some(hu) = &m.hu2021 {
        for (name, b) in &hu.biomes {
            let finite = [Some(b.b4_slope), Some(b.b4_offset), b.b12_min, b.b11_min]
                .into_iter()
                .chain([b.b12_saturated_min, b.b12_over_b11_min])
                .flatten()
                .all(f32::is_finite);
            if !finite || b.b4_slope <= 0.0 {
                return Err(ModelError::Invalid {
                    path: path.to_path_buf(),
                    key: format!("hu2021.biomes.{name}"),
                    message: "thresholds must be finite and b4_slope positive (a fire is \
                              brighter at 2.2 µm than in red)"
                        .into(),
                });
            }
        }
    }
    if m.instrument != "MSI" {
        return Err(ModelError::Invalid {
            path: path.to_path_buf(),
            key: "instrument".into(),
            message: format!("{:?} is not MSI", m.instrument),
        });
    }
    Ok(m)
}

/// One biome's criteria of Hu et al. (2021): a pixel is an active fire when
/// `B4 ≤ b4_slope · B12 + b4_offset` and every optional criterion given holds:
/// `B12 ≥ b12_min`, `(B11 ≥ b11_min or B12 ≥ b12_saturated_min)`, `B12 / B11 ≥ b12_over_b11_min`
/// (TOA reflectances).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HuBiome {
    pub b4_slope: f32,
    pub b4_offset: f32,
    #[serde(default)]
    pub b12_min: Option<f32>,
    #[serde(default)]
    pub b11_min: Option<f32>,
    #[serde(default)]
    pub b12_saturated_min: Option<f32>,
    #[serde(default)]
    pub b12_over_b11_min: Option<f32>,
}

impl HuBiome {
    /// The criteria on one pixel's TOA reflectances (NaN anywhere: not a fire).
    ///
    /// ```
    /// let m = strawfire::model::msi::builtin();
    /// let med = &m.hu2021.as_ref().unwrap().biomes["mediterranean"];
    /// assert!(med.is_fire(0.08, 0.6, 0.9)); // a flaming front
    /// assert!(!med.is_fire(0.35, 0.45, 0.40)); // a bright roof
    /// ```
    pub fn is_fire(&self, b4: f32, b11: f32, b12: f32) -> bool {
        if b4.is_nan() || b11.is_nan() || b12.is_nan() {
            return false;
        }
        let c1 = b4 <= self.b4_slope * b12 + self.b4_offset;
        let c2 = self.b12_min.is_none_or(|t| b12 >= t);
        let c3 = match (self.b11_min, self.b12_saturated_min) {
            (None, None) => true,
            (a, b) => a.is_some_and(|t| b11 >= t) || b.is_some_and(|t| b12 >= t),
        };
        let c4 = self
            .b12_over_b11_min
            .is_none_or(|t| b11 > 0.0 && b12 / b11 >= t);
        c1 && c2 && c3 && c4
    }
}

/// Hu, Ban, Nascetti (2021)'s criteria, by biome name (`[hu2021.biomes.<name>]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hu2021 {
    pub biomes: BTreeMap<String, HuBiome>,
}

/// Reads and validates a model file.
pub fn from_file(path: &Path) -> Result<OliModel, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|source| ModelError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_matches_the_repository_file_and_schroeder_2016() {
        let m = builtin();
        let f = from_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models/sentinel2-msi.toml"))
            .unwrap();
        assert_eq!(f.bands, m.bands);
        assert_eq!(
            m.bands,
            ["B01", "B02", "B03", "B04", "B8A", "B11", "B12"].map(String::from)
        );
        assert_eq!(m.nominal_pixel_m, 20.0);
        let oli = OliModel::builtin();
        assert_eq!(
            oli.bands,
            ["B1", "B2", "B3", "B4", "B5", "B6", "B7"].map(String::from)
        );
        // The thresholds are the OLI paper's, unchanged.
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
        assert_eq!((m.context.window, m.context.ratio_min_excess), (61, 0.8));
        assert!(is_name("S2") && is_name("sentinel2-msi") && !is_name("oli"));
    }

    #[test]
    fn bad_band_lists_and_another_instrument_are_named() {
        let err = parse(
            &SENTINEL2_MSI.replace("\"B11\", \"B12\"]", "\"B11\", \"B11\"]"),
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("bands") && err.contains("m.toml"), "{err}");
        let err = parse(
            &SENTINEL2_MSI.replace("instrument = \"MSI\"", "instrument = \"OLI\""),
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("instrument"), "{err}");
    }

    #[test]
    fn hu_2021_criteria_are_read_per_biome_and_told_apart_from_roofs() {
        let m = builtin();
        let hu = m
            .hu2021
            .as_ref()
            .expect("the MSI file has Hu et al.'s criteria");
        assert_eq!(hu.biomes.len(), 6);
        let med = &hu.biomes["mediterranean"];
        assert_eq!(
            (med.b4_slope, med.b4_offset, med.b12_min, med.b11_min),
            (0.743, -0.068, Some(0.355), Some(0.475))
        );
        // A saturated B12 passes the third criterion without B11.
        assert!(med.is_fire(0.05, 0.3, 1.2) && !med.is_fire(0.05, 0.3, 0.9));
        let moist = &hu.biomes["tropical_moist_forest"];
        assert!(moist.is_fire(0.05, 0.3, 0.4) && !moist.is_fire(0.05, 0.5, 0.4));
        assert!(!moist.is_fire(f32::NAN, 0.3, 0.4));
        assert!(OliModel::builtin().hu2021.is_none());
        let bad = SENTINEL2_MSI.replace("b4_slope = 0.504", "b4_slope = -0.504");
        let err = parse(&bad, Path::new("m.toml")).unwrap_err().to_string();
        assert!(
            err.contains("hu2021.biomes.temperate_conifer_forest"),
            "{err}"
        );
        let bad = SENTINEL2_MSI.replace("b12_min = 0.355", "b12_minimum = 0.355");
        assert!(parse(&bad, Path::new("m.toml")).is_err());
    }
}
