//! What each land class looks like to VIIRS: kinetic temperature, emissivity at 3.74 and 11.45 µm,
//! and reflectance in I1–I3 and at 3.7 µm; and the radiances that follow from them.
//!
//! The numbers are typical of the North China Plain in the June wheat-harvest season (the straw
//! burning season): night cropland ≈285–292 K, day ≈300–315 K; bright soil up to ≈320 K and
//! factory roofs up to ≈325 K by day, with low 3.7 µm emissivity and a large reflected solar
//! component, so that they are bright at 3.7 µm without being fires. Clouds are cold (BT5 < 265 K)
//! and bright. Surface temperatures vary in patches (field to field and across the plain) rather
//! than pixel by pixel; the pixel-level randomness is the sensor's noise, added later.

use super::fields::PixelFields;
use super::landcover::LandClass;
use crate::physics::planck_radiance;

/// VIIRS I4 band centre, µm.
pub const I4_UM: f64 = 3.74;
/// VIIRS I5 band centre, µm.
pub const I5_UM: f64 = 11.45;
/// Solar spectral irradiance at the top of the atmosphere at 3.7 µm, W m⁻² µm⁻¹ (ALGORITHMS.md).
pub const E_SUN_3_7: f64 = 11.0;

/// The optical state of a pixel's surface (or of a cloud top).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Surface {
    /// Kinetic temperature, K.
    pub temp_k: f64,
    /// Emissivity at 3.74 µm.
    pub eps4: f64,
    /// Emissivity at 11.45 µm.
    pub eps5: f64,
    /// TOA reflectance in I1 (0.64 µm), I2 (0.865 µm), I3 (1.61 µm) and at 3.74 µm.
    pub rho: [f64; 4],
}

/// Radiances (W m⁻² sr⁻¹ µm⁻¹) and reflectances a pixel presents to the sensor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Radiometry {
    pub l4: f64,
    pub l5: f64,
    /// ρ1, ρ2, ρ3 (0 at night).
    pub rho: [f64; 3],
}

impl Radiometry {
    /// Area-weighted mix: `f` of `other` and `1 − f` of `self` (radiances and reflectances both
    /// add linearly over the footprint).
    pub fn mix(self, other: Radiometry, f: f64) -> Radiometry {
        let m = |a: f64, b: f64| (1.0 - f) * a + f * b;
        Radiometry {
            l4: m(self.l4, other.l4),
            l5: m(self.l5, other.l5),
            rho: [
                m(self.rho[0], other.rho[0]),
                m(self.rho[1], other.rho[1]),
                m(self.rho[2], other.rho[2]),
            ],
        }
    }
}

impl Surface {
    /// I4 = ε4·B(3.74, T) + ρ4·E_sun·cos(SZA)/π, I5 = ε5·B(11.45, T); `mu_sun` = cos(SZA), 0 at night.
    pub fn radiometry(&self, mu_sun: f64) -> Radiometry {
        let day = mu_sun > 0.0;
        let reflected = if day {
            self.rho[3] * E_SUN_3_7 * mu_sun / std::f64::consts::PI
        } else {
            0.0
        };
        Radiometry {
            l4: self.eps4 * planck_radiance(I4_UM, self.temp_k) + reflected,
            l5: self.eps5 * planck_radiance(I5_UM, self.temp_k),
            rho: if day {
                [self.rho[0], self.rho[1], self.rho[2]]
            } else {
                [0.0; 3]
            },
        }
    }
}

/// Per-class constants: temperatures as mean ± half-range, K.
struct ClassProps {
    night_k: (f64, f64),
    day_k: (f64, f64),
    eps4: f64,
    eps5: f64,
    rho: [f64; 4],
}

fn props(class: LandClass) -> ClassProps {
    let p = |night_k, day_k, eps4, eps5, rho| ClassProps {
        night_k,
        day_k,
        eps4,
        eps5,
        rho,
    };
    match class {
        // Cropland reflectances are set per pixel from a greenness field (see `surface`).
        LandClass::Cropland => p(
            (288.5, 3.5),
            (307.5, 7.5),
            0.96,
            0.975,
            [0.10, 0.26, 0.26, 0.06],
        ),
        LandClass::Village => p(
            (291.5, 2.5),
            (310.0, 5.0),
            0.92,
            0.95,
            [0.12, 0.18, 0.20, 0.08],
        ),
        // Water: warmer than land at night, cooler by day; ρ1 > ρ2 > ρ3 (the water test).
        LandClass::Water => p(
            (292.0, 1.0),
            (295.0, 2.0),
            0.98,
            0.99,
            [0.07, 0.045, 0.02, 0.02],
        ),
        LandClass::Forest => p(
            (287.0, 2.0),
            (301.0, 3.0),
            0.97,
            0.98,
            [0.04, 0.30, 0.15, 0.04],
        ),
        // Bare bright soil: ρ3 > ρ2 and low 3.7 µm emissivity (quartz).
        LandClass::BrightSoil => p(
            (286.0, 3.0),
            (313.0, 7.0),
            0.82,
            0.95,
            [0.22, 0.28, 0.36, 0.15],
        ),
        // Factory roofs: metal and concrete, bright and hot by day, up to ≈325 K.
        LandClass::FactoryRoof => p(
            (290.0, 3.0),
            (316.0, 9.0),
            0.85,
            0.92,
            [0.30, 0.32, 0.34, 0.12],
        ),
        // Cloud tops 236–260 K; water clouds reflect ≈8 % at 3.7 µm.
        LandClass::Cloud | LandClass::CloudEdge => p(
            (248.0, 12.0),
            (248.0, 12.0),
            0.95,
            1.0,
            [0.65, 0.64, 0.40, 0.08],
        ),
        LandClass::Fill => p((0.0, 0.0), (0.0, 0.0), 1.0, 1.0, [0.0; 4]),
    }
}

/// The surface state of a pixel of class `class` (use `Cloud` for the cloud top of any pixel),
/// given the texture fields at the pixel.
pub fn surface(class: LandClass, day: bool, fields: &PixelFields) -> Surface {
    let pr = props(class);
    // Fields in [0, 1) to [-1, 1).
    let f = |v: f64| 2.0 * v - 1.0;
    let (mean, half) = if day { pr.day_k } else { pr.night_k };
    // Regional pattern (tens of km) takes most of the range; fields of 1–2 pixels add texture.
    let fine_k = if day { 1.2 } else { 0.6 };
    let temp_k = if class == LandClass::Cloud || class == LandClass::CloudEdge {
        mean + half * f(fields.cloud_temp)
    } else {
        mean + half * (1.6 * f(fields.temp_regional)).clamp(-1.0, 1.0)
            + fine_k * f(fields.temp_fields)
    };
    let mut rho = pr.rho;
    if class == LandClass::Cropland {
        // Harvested stubble (g → 0) to green maize seedlings and irrigated fields (g → 1).
        let g = fields.greenness;
        rho[0] = 0.14 - 0.08 * g;
        rho[1] = 0.20 + 0.14 * g;
        rho[2] = 0.29 - 0.09 * g;
    }
    let bright = 1.0 + 0.12 * f(fields.brightness);
    for v in &mut rho {
        *v *= bright;
    }
    Surface {
        temp_k,
        eps4: pr.eps4,
        eps5: pr.eps5,
        rho,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::brightness_temperature;

    fn bts(class: LandClass, day: bool, mu: f64) -> Vec<(f64, f64, [f64; 3])> {
        let mut v = Vec::new();
        for row in (0..300).step_by(7) {
            for col in (0..300).step_by(5) {
                let rad = surface(class, day, &PixelFields::at(5, row, col)).radiometry(if day {
                    mu
                } else {
                    0.0
                });
                v.push((
                    brightness_temperature(I4_UM, rad.l4),
                    brightness_temperature(I5_UM, rad.l5),
                    rad.rho,
                ));
            }
        }
        v
    }

    #[test]
    fn cropland_temperatures_are_realistic() {
        for (day, lo, hi) in [(false, 284.0, 293.0), (true, 299.0, 316.5)] {
            for s in
                (0..200).map(|i| surface(LandClass::Cropland, day, &PixelFields::at(9, i, 3 * i)))
            {
                assert!((lo..hi).contains(&s.temp_k), "day {day}: {}", s.temp_k);
            }
        }
    }

    #[test]
    fn water_satisfies_the_water_test_by_day() {
        for (_, _, rho) in bts(LandClass::Water, true, 0.85) {
            assert!(rho[0] > rho[1] && rho[1] > rho[2], "{rho:?}");
        }
    }

    #[test]
    fn clouds_satisfy_the_cloud_tests() {
        for (bt4, bt5, rho) in bts(LandClass::Cloud, true, 0.85) {
            assert!(bt5 < 263.0 && rho[0] + rho[1] > 0.9, "{bt4} {bt5} {rho:?}");
        }
        for (bt4, bt5, _) in bts(LandClass::Cloud, false, 0.0) {
            assert!(bt5 < 263.0 && bt4 < 290.0, "{bt4} {bt5}");
        }
    }

    #[test]
    fn roofs_and_bright_soil_are_warm_at_3_7_um_by_day_but_not_fire_like() {
        for class in [LandClass::FactoryRoof, LandClass::BrightSoil] {
            let v = bts(class, true, 0.85);
            let max4 = v.iter().map(|x| x.0).fold(0.0, f64::max);
            assert!(max4 > 320.0, "{class:?}: {max4}");
            for (bt4, bt5, _) in v {
                assert!(bt4 < 340.0 && bt4 - bt5 < 20.0, "{class:?}: {bt4} {bt5}");
            }
        }
    }

    #[test]
    fn reflected_sunlight_warms_i4_by_day_only() {
        let s = surface(LandClass::Cropland, true, &PixelFields::at(1, 10, 10));
        let day = brightness_temperature(I4_UM, s.radiometry(0.85).l4);
        let dark = brightness_temperature(I4_UM, s.radiometry(0.0).l4);
        assert!(day - dark > 3.0, "{day} {dark}");
    }
}
