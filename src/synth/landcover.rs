//! The land-cover map of a synthetic scene: what each pixel is, before any radiometry.
//!
//! Classes are chosen to exercise every branch of the detector: cropland (most of the North China
//! Plain), villages, rivers and lakes (water test), forest, bright soil and factory roofs (hot, bright
//! daytime targets that are not fires), clouds and their partially cloudy edges, and bow-tie fill.
//! Every class is a pure function of (seed, row, col) so rows can be built on any thread.

use super::fields::PixelFields;
use super::noise::{fbm, hash2, mix64, unit};

/// What a pixel of a synthetic scene is. `as u8` gives a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum LandClass {
    Cropland = 0,
    Village = 1,
    Water = 2,
    Forest = 3,
    BrightSoil = 4,
    /// Factory and warehouse roofs: bright and hot by day, never fires.
    FactoryRoof = 5,
    /// Fully cloudy.
    Cloud = 6,
    /// Partly cloudy: cloud and surface mixed in one pixel.
    CloudEdge = 7,
    /// Bow-tie deletion: no data.
    Fill = 8,
}

impl LandClass {
    pub const ALL: [LandClass; 9] = [
        LandClass::Cropland,
        LandClass::Village,
        LandClass::Water,
        LandClass::Forest,
        LandClass::BrightSoil,
        LandClass::FactoryRoof,
        LandClass::Cloud,
        LandClass::CloudEdge,
        LandClass::Fill,
    ];

    /// The snake_case name used in truth files.
    pub fn name(self) -> &'static str {
        match self {
            LandClass::Cropland => "cropland",
            LandClass::Village => "village",
            LandClass::Water => "water",
            LandClass::Forest => "forest",
            LandClass::BrightSoil => "bright_soil",
            LandClass::FactoryRoof => "factory_roof",
            LandClass::Cloud => "cloud",
            LandClass::CloudEdge => "cloud_edge",
            LandClass::Fill => "fill",
        }
    }
}

/// Sub-seeds of the independent noise fields.
const RIVER: u64 = 2;
const VILLAGE: u64 = 5;
const ROOF: u64 = 6;

/// Villages: one chance per `VILLAGE_CELL`² pixels (the plain is dense with villages, ≈1 per 2 km²).
const VILLAGE_CELL: i64 = 8;
const VILLAGE_PROBABILITY: f64 = 0.55;
/// Factories: one chance per `ROOF_CELL`² pixels.
const ROOF_CELL: i64 = 40;
const ROOF_PROBABILITY: f64 = 0.4;
/// Rivers: one meandering river per `RIVER_SPACING` columns.
const RIVER_SPACING: f64 = 480.0;

/// The surface class and the cloud cover of one pixel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cover {
    /// The class under any cloud.
    pub surface: LandClass,
    /// Cloud fraction 0–1 of the pixel.
    pub cloud_fraction: f64,
}

impl Cover {
    /// The class as the truth sees it: cloud and cloud edge take precedence over the surface.
    pub fn class(&self) -> LandClass {
        if self.cloud_fraction >= 1.0 {
            LandClass::Cloud
        } else if self.cloud_fraction > 0.0 {
            LandClass::CloudEdge
        } else {
            self.surface
        }
    }
}

/// Parameters of the land-cover map.
#[derive(Debug, Clone, PartialEq)]
pub struct LandcoverParams {
    seed: u64,
    /// Fraction of the scene under cloud, roughly (0 for none).
    cloud_cover: f64,
    /// The cloud field value above which a pixel is fully cloudy.
    cloud_threshold: f64,
}

impl LandcoverParams {
    pub fn new(seed: u64, cloud_cover: f64) -> Self {
        // fBm of this kind is roughly N(0.5, 0.1): the threshold for the wanted cover.
        let cloud_threshold = 0.5 + 0.1 * inverse_normal_tail(cloud_cover.clamp(1e-4, 0.9999));
        LandcoverParams {
            seed,
            cloud_cover,
            cloud_threshold,
        }
    }

    fn field(&self, field: u64) -> u64 {
        mix64(self.seed ^ field.wrapping_mul(0xA24B_AED4_963E_E407))
    }

    /// The cover of pixel (row, col).
    pub fn cover(&self, row: usize, col: usize) -> Cover {
        let fields = PixelFields::at(self.seed, row, col);
        self.cover_with(row, col, &self.rivers_of_row(row, col + 1), &fields)
    }

    /// The cover of pixel (row, col), given the rivers of its row ([`Self::rivers_of_row`]) and
    /// the texture fields at the pixel.
    pub fn cover_with(
        &self,
        row: usize,
        col: usize,
        rivers: &[(f64, f64)],
        fields: &PixelFields,
    ) -> Cover {
        Cover {
            surface: self.surface(row, col, rivers, fields),
            cloud_fraction: self.cloud_fraction(fields),
        }
    }

    /// The surface class, ignoring clouds.
    fn surface(&self, row: usize, col: usize, rivers: &[(f64, f64)], f: &PixelFields) -> LandClass {
        let c = col as f64;
        if rivers
            .iter()
            .any(|&(centre, half)| (c - centre).abs() < half)
            || f.lake < 0.27
        {
            return LandClass::Water;
        }
        if self.in_blob(ROOF, ROOF_CELL, ROOF_PROBABILITY, row, col, 2.2) {
            return LandClass::FactoryRoof;
        }
        if self.in_blob(VILLAGE, VILLAGE_CELL, VILLAGE_PROBABILITY, row, col, 1.5) {
            return LandClass::Village;
        }
        if f.forest > 0.71 {
            return LandClass::Forest;
        }
        if f.soil > 0.69 {
            return LandClass::BrightSoil;
        }
        LandClass::Cropland
    }

    /// The rivers crossing `row` of a scene `cols` wide, as (centre column, half width): each
    /// meanders north–south about one column per `RIVER_SPACING` and is 1–3 pixels wide.
    /// Computed once per row, not per pixel.
    pub fn rivers_of_row(&self, row: usize, cols: usize) -> Vec<(f64, f64)> {
        let r = row as f64;
        let last = (cols as f64 / RIVER_SPACING).floor() as i64 + 1;
        (-1..=last)
            .map(|k| {
                let seed = self.field(RIVER) ^ mix64(k as u64);
                let centre = (k as f64 + 0.35) * RIVER_SPACING
                    + 260.0 * (fbm(seed, r, k as f64 * 7.0, 90.0, 3) - 0.5);
                let half_width = 0.7 + 1.0 * fbm(seed ^ 1, r, 0.0, 30.0, 2);
                (centre, half_width)
            })
            .collect()
    }

    /// Small round (villages) or square (roofs) blobs, at most one per cell, placed inside the
    /// cell so that only the pixel's own cell needs checking.
    fn in_blob(
        &self,
        field: u64,
        cell: i64,
        probability: f64,
        row: usize,
        col: usize,
        max_radius: f64,
    ) -> bool {
        let (cr, cc) = (row as i64 / cell, col as i64 / cell);
        let h = hash2(self.field(field), cr, cc);
        if unit(h) >= probability {
            return false;
        }
        let room = cell as f64 - 2.0 * max_radius;
        let centre_r = (cr * cell) as f64 + max_radius + room * unit(mix64(h ^ 1));
        let centre_c = (cc * cell) as f64 + max_radius + room * unit(mix64(h ^ 2));
        let radius = 0.6 + (max_radius - 0.6) * unit(mix64(h ^ 3));
        let (dr, dc) = (row as f64 + 0.5 - centre_r, col as f64 + 0.5 - centre_c);
        if field == ROOF {
            // Factory compounds are rectangles.
            let aspect = 0.5 + unit(mix64(h ^ 4));
            dr.abs() < radius * aspect && dc.abs() < radius / aspect
        } else {
            dr * dr + dc * dc < radius * radius
        }
    }

    /// Cloud fraction from a large-scale field: 1 inside the deck, ramping to 0 over about one
    /// pixel at its edge, so decks have a rim of partially cloudy pixels.
    pub fn cloud_fraction(&self, fields: &PixelFields) -> f64 {
        if self.cloud_cover <= 0.0 {
            return 0.0;
        }
        let v = fields.cloud;
        let threshold = self.cloud_threshold;
        let edge = 0.012;
        ((v - (threshold - edge)) / edge).clamp(0.0, 1.0)
    }
}

/// z such that P(N(0,1) > z) = p, by bisection.
fn inverse_normal_tail(p: f64) -> f64 {
    let (mut lo, mut hi) = (-6.0f64, 6.0f64);
    for _ in 0..50 {
        let mid = 0.5 * (lo + hi);
        let tail = 0.5 * libm_erfc(mid / std::f64::consts::SQRT_2);
        if tail > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Complementary error function (Numerical Recipes erfcc, |error| < 1.2e-7).
fn libm_erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cropland_dominates_and_every_class_occurs() {
        let p = LandcoverParams::new(11, 0.15);
        let mut counts = [0usize; 9];
        let n = 400;
        for r in 0..n {
            for c in 0..n {
                counts[p.cover(r, c).class() as usize] += 1;
            }
        }
        let total = (n * n) as f64;
        assert!(
            counts[LandClass::Cropland as usize] as f64 / total > 0.4,
            "{counts:?}"
        );
        for class in [
            LandClass::Village,
            LandClass::Water,
            LandClass::Forest,
            LandClass::BrightSoil,
            LandClass::FactoryRoof,
            LandClass::Cloud,
            LandClass::CloudEdge,
        ] {
            assert!(counts[class as usize] > 20, "{class:?}: {counts:?}");
        }
        let cloudy = (counts[6] + counts[7]) as f64 / total;
        assert!((0.03..0.4).contains(&cloudy), "{cloudy}");
    }

    #[test]
    fn no_clouds_when_cover_is_zero() {
        let p = LandcoverParams::new(11, 0.0);
        assert!((0..100).all(|r| (0..100).all(|c| p.cover(r, c).cloud_fraction == 0.0)));
    }

    #[test]
    fn erfc_known_values() {
        assert!((libm_erfc(0.0) - 1.0).abs() < 1e-6);
        assert!((libm_erfc(1.0) - 0.157_299_2).abs() < 1e-6);
        assert!((inverse_normal_tail(0.5)).abs() < 1e-6);
        assert!((inverse_normal_tail(0.158_655_25) - 1.0).abs() < 1e-4);
    }
}
