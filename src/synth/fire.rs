//! Planted sub-pixel fires: a fraction p = area / pixel area of the footprint burns at T_fire and
//! the rest is background, L = p·B(λ, T_fire) + (1 − p)·L_background, in both I4 and I5
//! (ALGORITHMS.md, "Physics"). Reflectances are left alone: flames are far too small to show.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::landcover::{LandClass, LandcoverParams};
use super::surface::{Radiometry, I4_UM, I5_UM};
use crate::physics::mixed_radiance;

/// Ground area of a VIIRS I-band pixel at nadir, m² (375 m × 375 m).
pub const PIXEL_AREA_M2: f64 = 375.0 * 375.0;

/// One fire to plant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlantedFire {
    /// 0-based pixel indices.
    pub row: usize,
    pub col: usize,
    /// Burning area, m² (at most the pixel area).
    pub area_m2: f64,
    /// Fire temperature, K.
    pub temp_k: f64,
    /// Write I4 as the fold value (208 K), as an overloaded detector does.
    pub fold: bool,
}

impl PlantedFire {
    pub fn new(row: usize, col: usize, area_m2: f64, temp_k: f64) -> Self {
        PlantedFire {
            row,
            col,
            area_m2,
            temp_k,
            fold: false,
        }
    }

    /// The burning fraction of a 375 m grid pixel.
    pub fn fraction(&self) -> f64 {
        self.area_m2 / PIXEL_AREA_M2
    }

    /// The pixel's radiometry with this fire burning in a 375 m grid pixel.
    pub fn burn(&self, background: Radiometry) -> Radiometry {
        self.burn_in(background, PIXEL_AREA_M2)
    }

    /// The pixel's radiometry with this fire burning in a pixel of `pixel_area_m2` (a swath
    /// pixel grows with the scan angle, so the same fire fills less of it at the edge).
    pub fn burn_in(&self, background: Radiometry, pixel_area_m2: f64) -> Radiometry {
        let p = self.area_m2 / pixel_area_m2;
        Radiometry {
            l4: mixed_radiance(I4_UM, p, self.temp_k, background.l4),
            l5: mixed_radiance(I5_UM, p, self.temp_k, background.l5),
            rho: background.rho,
        }
    }
}

/// `n` fires on cropland pixels clear of cloud, at least `min_spacing` pixels apart (so each
/// stands alone in the detector's 3×3 tests), with areas log-uniform over 1–3000 m² and
/// temperatures uniform over 500–1200 K: the ranges of ALGORITHMS.md's validation recipe.
/// Fewer than `n` are returned when the scene has no room for more.
pub fn random_fires(
    landcover: &LandcoverParams,
    rows: usize,
    cols: usize,
    n: usize,
    seed: u64,
    excluded: &dyn Fn(usize, usize) -> bool,
) -> Vec<PlantedFire> {
    const MIN_SPACING: usize = 6;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_F1E5);
    let mut fires: Vec<PlantedFire> = Vec::with_capacity(n);
    let margin = 2.min(rows / 4).min(cols / 4);
    if rows <= 2 * margin || cols <= 2 * margin {
        return fires;
    }
    let mut attempts = 0;
    while fires.len() < n && attempts < 200 * n.max(1) {
        attempts += 1;
        let row = rng.gen_range(margin..rows - margin);
        let col = rng.gen_range(margin..cols - margin);
        let area_m2 = (rng.gen_range(0.0f64..1.0) * 3000f64.ln()).exp();
        let temp_k: f64 = rng.gen_range(500.0..1200.0);
        if landcover.cover(row, col).class() != LandClass::Cropland || excluded(row, col) {
            continue;
        }
        if fires
            .iter()
            .any(|f| f.row.abs_diff(row) < MIN_SPACING && f.col.abs_diff(col) < MIN_SPACING)
        {
            continue;
        }
        fires.push(PlantedFire::new(
            row,
            col,
            (area_m2 * 10.0).round() / 10.0,
            temp_k.round(),
        ));
    }
    fires.sort_by_key(|f| (f.row, f.col));
    fires
}
