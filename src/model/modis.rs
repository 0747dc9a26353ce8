//! The MODIS Collection 6/6.1 fire model (`models/modis-c61.toml`: Giglio et al. 2003 with the
//! Collection 6 changes of Giglio, Schroeder & Justice 2016): cloud mask, absolute and potential
//! fire tests, the growing background window, the contextual tests, the glint, desert-boundary,
//! coastal and forest-clearing rejections, the confidence ramps and FRP, each threshold with its
//! source beside it in the file.
//!
//! A struct of its own, not [`super::SensorModel`]: the MODIS algorithm has tests (the adaptive
//! window, five contextual tests, four rejections, a confidence built from ramps) that the VIIRS
//! model has no keys for, and VIIRS keys (folding, the 501 × 501 median) that MODIS does not use.
//! FY-3D MERSI-II runs through the same detector with its own file of the same shape.

use std::path::Path;

use serde::Deserialize;

use super::ModelError;

/// Band centres and the band-22 saturation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bands {
    pub t4_wavelength_um: f64,
    pub t11_wavelength_um: f64,
    pub t12_wavelength_um: f64,
    pub b22_saturation_k: f32,
}

/// Cloud mask (G03 sec. 2.2.2, C6 bright-cloud threshold).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cloud {
    pub day_vis_sum_bright: f32,
    pub day_t12_cold_k: f32,
    pub day_vis_sum: f32,
    pub day_t12_k: f32,
    pub night_t12_cold_k: f32,
}

/// Absolute (fixed-threshold) fire test.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Absolute {
    pub day_t4_k: f32,
    pub night_t4_k: f32,
}

/// Potential fire pixels.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Potential {
    pub day_t4_k: f32,
    pub day_dt_k: f32,
    pub day_rho086_max: f32,
    pub night_t4_k: f32,
    pub night_dt_k: f32,
    /// C6 dynamic night threshold: on, window (rows along track × columns along scan), the
    /// excess over the window's median T4 and the lowest threshold it may give.
    pub night_dynamic: bool,
    pub night_dynamic_rows: usize,
    pub night_dynamic_cols: usize,
    pub night_dynamic_excess_k: f32,
    pub night_dynamic_min_k: f32,
}

/// C6 water processing (offshore gas flares).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Water {
    pub process: bool,
}

/// The background window and background fires.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Background {
    pub window_min: usize,
    pub window_max: usize,
    pub min_valid_fraction: f64,
    pub min_valid: usize,
    pub exclude_along_scan_neighbours: bool,
    pub fire_day_t4_k: f32,
    pub fire_day_dt_k: f32,
    pub fire_night_t4_k: f32,
    pub fire_night_dt_k: f32,
}

/// Contextual tests (1)–(5).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    pub dt_mads: f64,
    pub dt_min_excess_k: f64,
    pub t4_mads: f64,
    pub t11_mads: f64,
    pub t11_offset_k: f64,
    pub fire_t4_mad_min_k: f64,
}

/// Sun-glint rejection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Glint {
    pub always_deg: f32,
    pub bright_deg: f32,
    pub bright_rho065: f32,
    pub bright_rho086: f32,
    pub bright_rho21: f32,
    pub water_deg: f32,
}

/// Desert-boundary rejection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Desert {
    pub fire_share: f64,
    pub fire_count: usize,
    pub rho086_min: f32,
    pub fire_t4_mean_max_k: f64,
    pub fire_t4_mad_max_k: f64,
    pub fire_t4_mads: f64,
}

/// Coastal rejection: the "unmasked water" test.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coastal {
    pub rho21_max: f32,
    pub rho086_max: f32,
    pub ndvi_max: f32,
}

/// C6 forest-clearing rejection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForestClearing {
    pub t11_mads: f64,
    pub rho086_min: f32,
    pub t4_max_k: f32,
}

/// Confidence ramps and classes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confidence {
    pub day_t4_ramp_k: [f64; 2],
    pub night_t4_ramp_k: [f64; 2],
    pub z4_ramp: [f64; 2],
    pub zdt_ramp: [f64; 2],
    pub adjacent_ramp: [f64; 2],
    pub low_below: f64,
    pub high_from: f64,
}

/// How FRP is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrpMethod {
    /// C6: A·σ/a·(L4 − L̄4) (Wooster et al. 2003).
    Radiance,
    /// C5: 4.34e-19·(T4⁸ − T̄4⁸) MW km⁻² × A (Kaufman et al. 1998).
    Kaufman,
}

/// FRP settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frp {
    pub method: FrpMethod,
    pub coefficient: f64,
    pub kaufman_mw_per_km2_k8: f64,
}

/// A validated MODIS-family model. Field names follow `models/modis-c61.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModisModel {
    pub name: String,
    pub instrument: String,
    pub product_version: String,
    pub day_max_sza_deg: f32,
    pub bands: Bands,
    pub cloud: Cloud,
    pub absolute: Absolute,
    pub potential: Potential,
    pub background: Background,
    pub context: Context,
    pub glint: Glint,
    pub desert: Desert,
    pub coastal: Coastal,
    pub water: Water,
    pub forest_clearing: ForestClearing,
    pub confidence: Confidence,
    pub frp: Frp,
}

const MODIS_C61: &str = include_str!("../../models/modis-c61.toml");
const FY3D_MERSI: &str = include_str!("../../models/fy3d-mersi.toml");
const FY3E_MERSI_LL: &str = include_str!("../../models/fy3e-mersi-ll.toml");

impl ModisModel {
    /// True for the names that select the MODIS model (`modis-c61`, `modis`, `mod14`), any case.
    pub fn is_name(name: &str) -> bool {
        matches!(
            name.to_ascii_lowercase().as_str(),
            "modis-c61" | "modis" | "mod14" | "myd14" | "modis_c61" | "modis-c6"
        )
    }

    /// True for the names that select the FY-3D MERSI-II model (`fy3d-mersi`, `mersi`), any case.
    pub fn is_mersi_name(name: &str) -> bool {
        matches!(
            name.to_ascii_lowercase().as_str(),
            "fy3d-mersi" | "mersi" | "mersi-ii" | "fy3d" | "fy3d_mersi"
        )
    }

    /// True for the names that select the FY-3E MERSI-LL model (`fy3e-mersi-ll`, `mersi-ll`).
    pub fn is_mersi_ll_name(name: &str) -> bool {
        matches!(
            name.to_ascii_lowercase().as_str(),
            "fy3e-mersi-ll" | "mersi-ll" | "fy3e" | "fy3e_mersi_ll"
        )
    }

    /// The FY-3E MERSI-LL model compiled into the binary (`models/fy3e-mersi-ll.toml`: the MODIS
    /// thresholds, every pixel by the night tests for want of reflective bands).
    ///
    /// ```
    /// let m = strawfire::model::modis::ModisModel::mersi_ll();
    /// assert_eq!((m.name.as_str(), m.day_max_sza_deg), ("fy3e-mersi-ll", 0.0));
    /// ```
    pub fn mersi_ll() -> ModisModel {
        Self::parse(
            FY3E_MERSI_LL,
            Path::new("models/fy3e-mersi-ll.toml (built in)"),
        )
        .expect("the built-in MERSI-LL model is valid (tested)")
    }

    /// The built-in model of a name: MODIS, FY-3D MERSI-II or FY-3E MERSI-LL.
    pub fn builtin_named(name: &str) -> Option<ModisModel> {
        if Self::is_name(name) {
            Some(Self::builtin())
        } else if Self::is_mersi_ll_name(name) {
            Some(Self::mersi_ll())
        } else if Self::is_mersi_name(name) {
            Some(Self::mersi())
        } else {
            None
        }
    }

    /// The FY-3D MERSI-II model compiled into the binary (`models/fy3d-mersi.toml`: the MODIS
    /// thresholds with MERSI's bands, an assumption written down in the file).
    ///
    /// ```
    /// let m = strawfire::model::modis::ModisModel::mersi();
    /// assert_eq!(m.instrument, "MERSI");
    /// assert_eq!(m.bands.t4_wavelength_um, 4.05);
    /// ```
    pub fn mersi() -> ModisModel {
        Self::parse(FY3D_MERSI, Path::new("models/fy3d-mersi.toml (built in)"))
            .expect("the built-in MERSI model is valid (tested)")
    }

    /// The MODIS model compiled into the binary.
    ///
    /// ```
    /// let m = strawfire::model::modis::ModisModel::builtin();
    /// assert_eq!(m.background.window_max, 21);
    /// assert_eq!(m.absolute.day_t4_k, 360.0);
    /// ```
    pub fn builtin() -> ModisModel {
        Self::parse(MODIS_C61, Path::new("models/modis-c61.toml (built in)"))
            .expect("the built-in MODIS model is valid (tested)")
    }

    /// Reads and validates a model file.
    pub fn from_file(path: &Path) -> Result<ModisModel, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates model text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<ModisModel, ModelError> {
        let m: ModisModel = toml::from_str(text).map_err(|e| ModelError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        let invalid = |key: &str, message: String| ModelError::Invalid {
            path: path.to_path_buf(),
            key: key.to_string(),
            message,
        };
        let b = &m.background;
        if b.window_min < 3 || b.window_min % 2 == 0 || b.window_max % 2 == 0 {
            return Err(invalid(
                "background.window_min",
                "windows must be odd and at least 3".into(),
            ));
        }
        if b.window_max < b.window_min || b.window_max > 101 {
            return Err(invalid(
                "background.window_max",
                format!(
                    "{} must lie between window_min ({}) and 101",
                    b.window_max, b.window_min
                ),
            ));
        }
        if !(0.0..=1.0).contains(&b.min_valid_fraction) {
            return Err(invalid(
                "background.min_valid_fraction",
                format!("{} is not within 0–1", b.min_valid_fraction),
            ));
        }
        if b.min_valid == 0 {
            return Err(invalid("background.min_valid", "must be at least 1".into()));
        }
        if m.potential.day_t4_k > m.absolute.day_t4_k
            || m.potential.night_t4_k > m.absolute.night_t4_k
        {
            return Err(invalid(
                "potential.day_t4_k",
                "potential-fire thresholds must not exceed the absolute ones".into(),
            ));
        }
        let p = &m.potential;
        if p.night_dynamic
            && (p.night_dynamic_rows == 0
                || p.night_dynamic_cols == 0
                || p.night_dynamic_min_k > p.night_t4_k)
        {
            return Err(invalid(
                "potential.night_dynamic_min_k",
                format!(
                    "the dynamic window ({} × {}) must not be empty and its lowest threshold ({} K) \
                     must not exceed night_t4_k ({} K)",
                    p.night_dynamic_rows, p.night_dynamic_cols, p.night_dynamic_min_k, p.night_t4_k
                ),
            ));
        }
        for (key, r) in [
            ("confidence.day_t4_ramp_k", m.confidence.day_t4_ramp_k),
            ("confidence.night_t4_ramp_k", m.confidence.night_t4_ramp_k),
            ("confidence.z4_ramp", m.confidence.z4_ramp),
            ("confidence.zdt_ramp", m.confidence.zdt_ramp),
            ("confidence.adjacent_ramp", m.confidence.adjacent_ramp),
        ] {
            if r[1] <= r[0] {
                return Err(invalid(key, format!("{r:?}: the ramp must rise")));
            }
        }
        if !(m.confidence.low_below < m.confidence.high_from && m.confidence.high_from <= 1.0) {
            return Err(invalid(
                "confidence.high_from",
                "classes need 0 ≤ low_below < high_from ≤ 1".into(),
            ));
        }
        // The radiance-method coefficient must be what the Planck function gives at the band.
        let fit = crate::physics::frp_coefficient(m.bands.t4_wavelength_um, 650.0, 1350.0);
        if (m.frp.coefficient - fit).abs() / fit > 0.1 {
            return Err(invalid(
                "frp.coefficient",
                format!(
                    "{:e} is more than 10 % from the Planck fit {fit:e} at {} µm",
                    m.frp.coefficient, m.bands.t4_wavelength_um
                ),
            ));
        }
        // One T4 wavelength for MODIS: the reader's band 22 (the detector turns T4 back into
        // radiance at the model's).
        let b22 = crate::product::modis_l1b::B22_WAVELENGTH_UM;
        if m.instrument.eq_ignore_ascii_case("MODIS")
            && (m.bands.t4_wavelength_um - b22).abs() > 5e-4
        {
            return Err(invalid(
                "bands.t4_wavelength_um",
                format!(
                    "{} µm is not band 22's effective central wavelength {b22:.4} µm (1e4 / {} cm⁻¹), \
                     which the MODIS L1B reader converts band-22 radiance at",
                    m.bands.t4_wavelength_um,
                    crate::product::modis_l1b::B22_WAVENUMBER_CM
                ),
            ));
        }
        if !(200.0..=400.0).contains(&m.bands.b22_saturation_k) {
            return Err(invalid(
                "bands.b22_saturation_k",
                format!("{} K is not a 4 µm saturation", m.bands.b22_saturation_k),
            ));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_matches_the_repository_file_and_the_papers() {
        let m = ModisModel::builtin();
        let f = ModisModel::from_file(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("models/modis-c61.toml"),
        )
        .unwrap();
        assert_eq!(f.background.window_max, m.background.window_max);
        // Giglio et al. 2003 sec. 2.2.
        assert_eq!((m.absolute.day_t4_k, m.absolute.night_t4_k), (360.0, 320.0));
        assert_eq!(
            (
                m.potential.day_t4_k,
                m.potential.day_dt_k,
                m.potential.day_rho086_max,
                m.potential.night_t4_k
            ),
            (310.0, 10.0, 0.3, 305.0)
        );
        assert_eq!(
            (
                m.background.window_min,
                m.background.window_max,
                m.background.min_valid
            ),
            (3, 21, 8)
        );
        assert_eq!(
            (
                m.context.dt_mads,
                m.context.dt_min_excess_k,
                m.context.t4_mads
            ),
            (3.5, 6.0, 3.0)
        );
        // C6 changes (Giglio et al. 2016).
        assert_eq!(m.cloud.day_vis_sum_bright, 1.2);
        assert_eq!(m.forest_clearing.t11_mads, 3.7);
        assert_eq!(m.frp.method, FrpMethod::Radiance);
        assert!(ModisModel::is_name("MODIS") && !ModisModel::is_name("viirs-i"));
    }

    #[test]
    fn the_mersi_model_is_the_modis_thresholds_with_mersi_bands() {
        let (m, f) = (ModisModel::builtin(), ModisModel::mersi());
        assert_eq!(f.name, "fy3d-mersi");
        assert_eq!(
            (f.bands.t4_wavelength_um, f.bands.t11_wavelength_um),
            (4.05, 10.8)
        );
        assert!((f.frp.coefficient - 2.82e-9).abs() < 1e-11);
        // The thresholds are MODIS's (the assumption the file states).
        assert_eq!(format!("{:?}", f.context), format!("{:?}", m.context));
        assert_eq!(format!("{:?}", f.potential), format!("{:?}", m.potential));
        assert_eq!(format!("{:?}", f.cloud), format!("{:?}", m.cloud));
        assert!(ModisModel::builtin_named("MERSI").is_some_and(|x| x.instrument == "MERSI"));
        assert!(ModisModel::builtin_named("viirs-i").is_none());
        let on_disk = ModisModel::from_file(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("models/fy3d-mersi.toml"),
        )
        .unwrap();
        assert_eq!(on_disk.bands.b22_saturation_k, f.bands.b22_saturation_k);
    }

    /// ALGORITHMS.md "MODIS 1 km" (Giglio et al. 2003 sec. 2.2 with the C6 changes of Giglio,
    /// Schroeder & Justice 2016), value by value, in all three model files: the MERSI files
    /// state that they take MODIS's thresholds, so a change to one file alone fails here.
    #[test]
    fn the_model_files_carry_the_published_c6_values() {
        let m = ModisModel::builtin();
        let c = &m.cloud;
        assert_eq!(
            (
                c.day_vis_sum_bright,
                c.day_t12_cold_k,
                c.day_vis_sum,
                c.day_t12_k,
                c.night_t12_cold_k
            ),
            (1.2, 265.0, 0.7, 285.0, 265.0)
        );
        let p = &m.potential;
        assert_eq!(
            (
                p.day_t4_k,
                p.day_dt_k,
                p.day_rho086_max,
                p.night_t4_k,
                p.night_dt_k
            ),
            (310.0, 10.0, 0.3, 305.0, 10.0)
        );
        // The C6 dynamic night threshold: ALGORITHMS.md's window and lower bound (unverified
        // there); the excess is ours (the model file says why).
        assert_eq!(
            (
                p.night_dynamic,
                p.night_dynamic_rows,
                p.night_dynamic_cols,
                p.night_dynamic_min_k
            ),
            (true, 30, 301, 300.0)
        );
        let b = &m.background;
        assert_eq!(
            (
                b.window_min,
                b.window_max,
                b.min_valid_fraction,
                b.min_valid,
                b.fire_day_t4_k,
                b.fire_day_dt_k,
                b.fire_night_t4_k,
                b.fire_night_dt_k
            ),
            (3, 21, 0.25, 8, 325.0, 20.0, 310.0, 10.0)
        );
        let x = &m.context;
        assert_eq!(
            (
                x.dt_mads,
                x.dt_min_excess_k,
                x.t4_mads,
                x.t11_mads,
                x.t11_offset_k,
                x.fire_t4_mad_min_k
            ),
            (3.5, 6.0, 3.0, 1.0, -4.0, 5.0)
        );
        let f = &m.forest_clearing;
        assert_eq!((f.t11_mads, f.rho086_min, f.t4_max_k), (3.7, 0.28, 325.0));
        let k = &m.confidence;
        assert_eq!(
            (
                k.day_t4_ramp_k,
                k.night_t4_ramp_k,
                k.z4_ramp,
                k.zdt_ramp,
                k.adjacent_ramp,
                k.low_below,
                k.high_from
            ),
            (
                [310.0, 340.0],
                [305.0, 320.0],
                [2.5, 6.0],
                [3.0, 6.0],
                [0.0, 6.0],
                0.3,
                0.8
            )
        );
        assert_eq!((m.day_max_sza_deg, m.bands.b22_saturation_k), (85.0, 331.0));
        // FY-3D MERSI-II and FY-3E MERSI-LL: every algorithm section as MODIS's.
        for f in [ModisModel::mersi(), ModisModel::mersi_ll()] {
            let same = |a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug, what: &str| {
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "{}: {what}", f.name)
            };
            same(&f.cloud, &m.cloud, "cloud");
            same(&f.absolute, &m.absolute, "absolute");
            same(&f.potential, &m.potential, "potential");
            same(&f.background, &m.background, "background");
            same(&f.context, &m.context, "context");
            same(&f.glint, &m.glint, "glint");
            same(&f.desert, &m.desert, "desert");
            same(&f.coastal, &m.coastal, "coastal");
            same(&f.water, &m.water, "water");
            same(&f.forest_clearing, &m.forest_clearing, "forest_clearing");
            same(&f.confidence, &m.confidence, "confidence");
        }
        assert_eq!(ModisModel::mersi().day_max_sza_deg, 85.0);
        assert_eq!(ModisModel::mersi_ll().day_max_sza_deg, 0.0);
    }

    #[test]
    fn missing_unknown_and_bad_keys_are_named() {
        let err = ModisModel::parse(
            &MODIS_C61.replace("t4_mads = 3.0\n", ""),
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("t4_mads") && err.contains("m.toml"), "{err}");
        let err = ModisModel::parse(
            &MODIS_C61.replace("[desert]\n", "[desert]\nsand = 1.0\n"),
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("sand"), "{err}");
        let err = ModisModel::parse(
            &MODIS_C61.replace("window_max = 21", "window_max = 20"),
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("background.window_min"), "{err}");
        let err = ModisModel::parse(
            &MODIS_C61.replace("coefficient = 3.0e-9", "coefficient = 4.0e-9"),
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("frp.coefficient"), "{err}");
        let err = ModisModel::parse(
            &MODIS_C61.replace("z4_ramp = [2.5, 6.0]", "z4_ramp = [6.0, 2.5]"),
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("z4_ramp"), "{err}");
    }

    #[test]
    fn the_modis_t4_wavelength_is_the_reader_s_band_22() {
        let m = ModisModel::builtin();
        let b22 = crate::product::modis_l1b::B22_WAVELENGTH_UM;
        assert!((m.bands.t4_wavelength_um - b22).abs() < 5e-4);
        assert_eq!(crate::synth::modis::T4_UM, b22);
        // The nominal band centre is refused, naming the key and the right value.
        let err = ModisModel::parse(
            &MODIS_C61.replace("t4_wavelength_um = 3.9714", "t4_wavelength_um = 3.959"),
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("bands.t4_wavelength_um") && err.contains("3.9714"),
            "{err}"
        );
        // MERSI's own T4 band is not MODIS's.
        assert_eq!(ModisModel::mersi().bands.t4_wavelength_um, 4.05);
    }
}
