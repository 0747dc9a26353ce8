//! The contextual confirmation of OLI candidates: mean and standard deviation of R75 = ρ7/ρ5 and
//! of ρ7 over the valid background of a 61 × 61 window, and the decision
//! R75 > mean + max(3σ, 0.8) and ρ7 > mean + max(3σ, 0.08) (Schroeder et al. 2016).

use super::pixel::ratio;
use crate::detect::MaskClass;
use crate::model::oli::OliModel;

/// Sums over a window's valid background pixels, accumulated in f64 in row-major order (the
/// order is part of the contract: the fast detector and the reference add in the same order
/// and so agree to the bit).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sums {
    pub n: usize,
    pub r75: f64,
    pub r75_sq: f64,
    pub rho7: f64,
    pub rho7_sq: f64,
}

impl Sums {
    #[inline]
    pub fn add(&mut self, r75: f32, rho7: f32) {
        let (a, b) = (r75 as f64, rho7 as f64);
        self.n += 1;
        self.r75 += a;
        self.r75_sq += a * a;
        self.rho7 += b;
        self.rho7_sq += b * b;
    }

    /// (mean, population standard deviation) of R75 and of ρ7.
    pub fn stats(&self) -> ((f64, f64), (f64, f64)) {
        let n = self.n.max(1) as f64;
        let ms = |s: f64, s2: f64| {
            let mean = s / n;
            (mean, (s2 / n - mean * mean).max(0.0).sqrt())
        };
        (ms(self.r75, self.r75_sq), ms(self.rho7, self.rho7_sq))
    }
}

/// Whether a pixel of stage-1 class `class` with reflectances ρ5, ρ7 belongs to a background:
/// clear land (candidates included; cloud too unless the model leaves it out), ρ7 above the
/// background minimum, and ρ5 > 0 so that R75 is a number (ours: OLI reflectance can be
/// negative over dark targets). Water, fill and unambiguous fires are never background.
#[inline]
pub fn is_background(class: u8, rho5: f32, rho7: f32, m: &OliModel) -> bool {
    let ok_class = class == MaskClass::Land as u8
        || (class == MaskClass::Cloud as u8 && !m.context.exclude_cloud);
    ok_class && rho7 > m.context.background_rho7_min && rho5 > 0.0
}

/// What the context decided for a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Fire,
    NotFire,
    /// Fewer valid background pixels than `context.min_valid`.
    Unknown,
}

/// The decision for a candidate with reflectances ρ5, ρ7 and background `sums`.
pub fn decide(rho5: f32, rho7: f32, sums: &Sums, m: &OliModel) -> Decision {
    let c = &m.context;
    if sums.n < c.min_valid {
        return Decision::Unknown;
    }
    let ((mr, sr), (m7, s7)) = sums.stats();
    let r75 = ratio(rho7, rho5) as f64;
    let fire = r75 > mr + (c.ratio_sigmas * sr).max(c.ratio_min_excess)
        && rho7 as f64 > m7 + (c.rho7_sigmas * s7).max(c.rho7_min_excess);
    if fire {
        Decision::Fire
    } else {
        Decision::NotFire
    }
}

/// The window rows and columns around (r, c), clipped to a `rows × cols` scene.
#[inline]
pub fn window_bounds(
    (r, c): (usize, usize),
    (rows, cols): (usize, usize),
    m: &OliModel,
) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let h = m.context.window / 2;
    (
        r.saturating_sub(h)..(r + h + 1).min(rows),
        c.saturating_sub(h)..(c + h + 1).min(cols),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_and_the_decision_follow_the_formula() {
        let m = OliModel::builtin();
        let mut s = Sums::default();
        for (r75, r7) in [(1.0, 0.1), (1.2, 0.12), (0.8, 0.08), (1.0, 0.1)] {
            s.add(r75, r7);
        }
        let ((mr, sr), (m7, s7)) = s.stats();
        assert!((mr - 1.0).abs() < 1e-6 && (m7 - 0.1).abs() < 1e-6);
        assert!((sr - 0.1414).abs() < 1e-3 && (s7 - 0.01414).abs() < 1e-4);
        // Too few background pixels (min_valid = 10): unknown.
        assert_eq!(decide(0.1, 0.5, &s, &m), Decision::Unknown);
        for _ in 0..6 {
            s.add(1.0, 0.1);
        }
        // R75 = 2.0 > 1.0 + max(3σ, 0.8); ρ7 = 0.2 > 0.1 + max(3σ, 0.08).
        assert_eq!(decide(0.1, 0.2, &s, &m), Decision::Fire);
        // R75 = 1.7: not above mean + 0.8.
        assert_eq!(decide(0.1, 0.17, &s, &m), Decision::NotFire);
        // Background: clear land with ρ5 > 0 and ρ7 > 0 only.
        assert!(is_background(MaskClass::Land as u8, 0.2, 0.1, &m));
        assert!(!is_background(MaskClass::Water as u8, 0.2, 0.1, &m));
        assert!(!is_background(MaskClass::Cloud as u8, 0.2, 0.1, &m));
        assert!(!is_background(MaskClass::FireHigh as u8, 0.2, 0.6, &m));
        assert!(!is_background(MaskClass::Land as u8, 0.2, 0.0, &m));
        assert_eq!(window_bounds((5, 100), (50, 120), &m), (0..36, 70..120));
    }
}
