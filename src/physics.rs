//! Radiometry shared by the detector (FRP, brightness temperatures) and the scene generator.
//!
//! Kept apart from both so that the generator and the detector agree on the same physics, and so
//! that each formula is tested once. Wavelengths are in µm, temperatures in K, spectral radiance
//! in W m⁻² sr⁻¹ µm⁻¹ (the units of ALGORITHMS.md).

/// First radiation constant for spectral radiance, 2hc², in W m⁻² sr⁻¹ µm⁴.
pub const C1: f64 = 1.191042e8;
/// Second radiation constant, hc/k, in µm K.
pub const C2: f64 = 1.438_775_2e4;
/// Stefan–Boltzmann constant in W m⁻² K⁻⁴.
pub const SIGMA: f64 = 5.670374e-8;

/// Planck spectral radiance L(λ, T) in W m⁻² sr⁻¹ µm⁻¹.
///
/// ```
/// use strawfire::physics::{planck_radiance, brightness_temperature};
/// let l = planck_radiance(3.74, 300.0);
/// assert!((brightness_temperature(3.74, l) - 300.0).abs() < 1e-9);
/// ```
pub fn planck_radiance(wavelength_um: f64, temp_k: f64) -> f64 {
    if temp_k <= 0.0 {
        return 0.0;
    }
    C1 / (wavelength_um.powi(5) * ((C2 / (wavelength_um * temp_k)).exp_m1()))
}

/// Inverse Planck: the brightness temperature (K) of a spectral radiance.
pub fn brightness_temperature(wavelength_um: f64, radiance: f64) -> f64 {
    if radiance <= 0.0 {
        return 0.0;
    }
    C2 / (wavelength_um * (C1 / (wavelength_um.powi(5) * radiance)).ln_1p())
}

/// The MIR-radiance FRP coefficient `a` of Wooster et al. (2003): the least-squares fit of
/// L(λ, T) ≈ a·T⁴ over fire temperatures `t_min_k..=t_max_k` (1 K steps).
///
/// Through the origin, the fit is a = Σ L·T⁴ / Σ T⁸. At 3.96 µm it gives ≈3.0e-9 (MODIS C6);
/// at the VIIRS I4 centre of 3.74 µm ≈3.2e-9.
pub fn frp_coefficient(wavelength_um: f64, t_min_k: f64, t_max_k: f64) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    let mut t = t_min_k;
    while t <= t_max_k {
        let t4 = t.powi(4);
        num += planck_radiance(wavelength_um, t) * t4;
        den += t4 * t4;
        t += 1.0;
    }
    num / den
}

/// Fire radiative power (MW) by the MIR radiance method:
/// FRP = A_pix · σ / a · (L4 − L̄4_background).
///
/// `pixel_area_m2` is the ground area of the pixel, `coefficient` the `a` of [`frp_coefficient`].
pub fn frp_mw(
    pixel_area_m2: f64,
    coefficient: f64,
    radiance_fire_pixel: f64,
    radiance_background: f64,
) -> f64 {
    pixel_area_m2 * SIGMA / coefficient * (radiance_fire_pixel - radiance_background) / 1e6
}

/// True radiative power σ·A·(T⁴ − Tb⁴) of a fire of area `area_m2` at `fire_k` replacing
/// background at `background_k`, in MW: what a planted fire in a synthetic scene really emits.
pub fn true_frp_mw(area_m2: f64, fire_k: f64, background_k: f64) -> f64 {
    SIGMA * area_m2 * (fire_k.powi(4) - background_k.powi(4)) / 1e6
}

/// Radiance of a pixel where a fraction `p` burns at `fire_k` and the rest emits `background`:
/// L = p·L(λ, T_fire) + (1 − p)·L_background (the sub-pixel mixing model).
pub fn mixed_radiance(wavelength_um: f64, p: f64, fire_k: f64, background: f64) -> f64 {
    p * planck_radiance(wavelength_um, fire_k) + (1.0 - p) * background
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planck_roundtrip_over_the_range_the_detector_sees() {
        for wl in [3.74, 3.959, 11.45] {
            for t in (200..1500).step_by(37) {
                let t = t as f64;
                let back = brightness_temperature(wl, planck_radiance(wl, t));
                assert!((back - t).abs() < 1e-6, "{wl} µm {t} K -> {back}");
            }
        }
    }

    #[test]
    fn frp_coefficients_match_the_published_values() {
        // MODIS band 21/22 at 3.96 µm: 3.0e-9 (Wooster 2003; Giglio 2016).
        let a_modis = frp_coefficient(3.96, 650.0, 1350.0);
        assert!((a_modis - 3.0e-9).abs() / 3.0e-9 < 0.05, "{a_modis:e}");
        // VIIRS I4 at 3.74 µm: ≈3.24e-9 (ALGORITHMS.md).
        let a_viirs = frp_coefficient(3.74, 650.0, 1350.0);
        assert!((a_viirs - 3.24e-9).abs() / 3.24e-9 < 0.05, "{a_viirs:e}");
    }

    #[test]
    fn mir_method_reproduces_the_worked_example() {
        // ALGORITHMS.md: 100 m² at 1000 K in a 1 km² pixel, background 300 K:
        // true 5.62 MW, MIR method ≈6.4 MW (within the method's ±20 %).
        let truth = true_frp_mw(100.0, 1000.0, 300.0);
        assert!((truth - 5.62).abs() < 0.02, "{truth}");
        let wl = 3.96;
        let a = frp_coefficient(wl, 650.0, 1350.0);
        let lb = planck_radiance(wl, 300.0);
        let l = mixed_radiance(wl, 100.0 / 1e6, 1000.0, lb);
        let frp = frp_mw(1e6, a, l, lb);
        assert!((frp - truth).abs() / truth < 0.2, "{frp} vs {truth}");
    }

    #[test]
    fn small_night_fire_raises_i4_by_about_nine_kelvin() {
        // ALGORITHMS.md: a 1000 K fire raises night I4 by ≈9 K at ≈5.5 m² in a 375 m pixel.
        let lb = planck_radiance(3.74, 290.0);
        let l = mixed_radiance(3.74, 5.5 / (375.0 * 375.0), 1000.0, lb);
        let dt = brightness_temperature(3.74, l) - 290.0;
        assert!((7.0..11.0).contains(&dt), "{dt}");
    }
}
