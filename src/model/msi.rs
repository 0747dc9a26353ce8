//! The Sentinel-2 MSI fire model (`models/sentinel2-msi.toml`): Schroeder et al. (2016)'s OLI
//! algorithm on MSI's spectrally matching bands (B01 B02 B03 B04 B8A B11 B12), so it is an
//! [`OliModel`] whose `bands` key names MSI's bands; the detector is the OLI engine
//! (`detect::oli`), and the model file is the whole difference. The file says why each threshold
//! carries over and which are ours.

use std::path::Path;

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
    if m.instrument != "MSI" {
        return Err(ModelError::Invalid {
            path: path.to_path_buf(),
            key: "instrument".into(),
            message: format!("{:?} is not MSI", m.instrument),
        });
    }
    Ok(m)
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
}
