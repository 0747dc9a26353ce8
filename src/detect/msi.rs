//! Sentinel-2 MSI 20 m active fires: the OLI engine (`detect::oli`, Schroeder et al. 2016) on
//! MSI's spectrally matching bands, as `models/sentinel2-msi.toml` maps them (B01 B02 B03 B04
//! B8A B11 B12 into the roles ρ1…ρ7). Nothing of the algorithm differs, so there is no second
//! engine to keep equal to a second reference: the OLI detector's property tests
//! (`detect/oli/equivalence_tests.rs`) cover it, and `equivalence_tests` below checks the fast
//! detector against the reference on MSI-shaped tiles (synthetic 20 m spectra and masks).

use ndarray::ArrayView2;

use super::oli::OliInput;
use super::DetectError;
use crate::model::oli::OliModel;

/// The engine's input from bands by canonical name, each role taken from the band the model's
/// `bands` key names for it (`B12` for ρ7 in the MSI model, `B7` in the OLI one).
pub fn input<'a>(
    get: impl Fn(&str) -> Option<ArrayView2<'a, f32>>,
    model: &OliModel,
    cloud: Option<ArrayView2<'a, u8>>,
    water: Option<ArrayView2<'a, u8>>,
    day: bool,
) -> Result<OliInput<'a>, DetectError> {
    let role = |oli_name: &str| -> Option<&str> {
        let n: usize = oli_name.strip_prefix('B')?.parse().ok()?;
        model.bands.get(n.checked_sub(1)?).map(String::as_str)
    };
    OliInput::from_bands(
        |n| match role(n) {
            Some(b) => get(b),
            None => None,
        },
        cloud,
        water,
        day,
    )
    .map_err(|e| match e {
        // Name the product's band, not the role.
        DetectError::MissingBand(r) => DetectError::MissingBand(role(&r).unwrap_or(&r).to_string()),
        other => other,
    })
}

#[cfg(test)]
mod equivalence_tests {
    use proptest::prelude::*;

    use crate::detect::oli::{detect_oli, detect_oli_reference};
    use crate::model::msi;
    use crate::product::sentinel2_l1c::Level;
    use crate::synth::sentinel2::{generate, PlantedFire, Sentinel2Spec};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]
        /// The rayon detector and the sequential reference agree on MSI tiles: the synthetic
        /// landscape as read (B01 over 60 m, DN-quantised), its 60 m cloud mask, fires of random
        /// size and temperature, and a smaller window so that edges and the clip matter.
        #[test]
        fn fast_equals_reference_on_msi_tiles(
            seed in 0u64..1000,
            rows3 in 8usize..30,
            cols3 in 8usize..30,
            fires in proptest::collection::vec((0usize..90, 0usize..90, 0.5f64..60.0, 500f64..1300.0), 0..12),
            window in prop_oneof![Just(61usize), Just(15), Just(7)],
        ) {
            let mut spec = Sentinel2Spec::day(rows3 * 3, cols3 * 3, seed);
            spec.fires = fires
                .into_iter()
                .map(|(r, c, a, t)| PlantedFire { row: r % (rows3 * 3), col: c % (cols3 * 3), area_m2: a, temp_k: t })
                .collect();
            let s = generate(&spec);
            let rho = s.as_read(Level::L1c);
            let cloud = s.cloud_as_read();
            let mut m = msi::builtin();
            m.context.window = window;
            let input = s.input(&rho, &cloud);
            let fast = detect_oli(&input, &m).unwrap();
            let reference = detect_oli_reference(&input, &m).unwrap();
            prop_assert_eq!(fast, reference);
        }
    }
}
