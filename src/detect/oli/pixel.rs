//! The per-pixel tests of the OLI algorithm (Schroeder et al. 2016), as pure functions of one
//! pixel's reflectances and QA flags: what the fast detector and the reference share.

use super::FireTest;
use crate::detect::MaskClass;
use crate::model::oli::OliModel;

/// ρa / ρb for the ratio tests, defined where ρb ≤ 0 too (OLI reflectance can be slightly
/// negative over dark targets: A = −0.1): +∞ when ρa > 0, else 0.
#[inline]
pub fn ratio(a: f32, b: f32) -> f32 {
    if b > 0.0 {
        a / b
    } else if a > 0.0 {
        f32::INFINITY
    } else {
        0.0
    }
}

/// What the per-pixel stage decides for one pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage1 {
    /// The class written into the mask: a fire class for fires found here, else fill, water,
    /// cloud or clear land (for a candidate: its class should the context reject it).
    pub class: MaskClass,
    /// The test that found a fire here (`class` is then a fire class).
    pub fire: Option<FireTest>,
    /// A candidate waiting for the contextual test.
    pub candidate: bool,
}

/// The spectral water test: ρ4 > ρ5 > ρ6 > ρ7 and ρ1 − ρ7 < 0.2 and (ρ3 > ρ2 or ρ1 > ρ2 > ρ3 > ρ4).
#[inline]
pub fn is_water(r: &[f32; 7], m: &OliModel) -> bool {
    let [r1, r2, r3, r4, r5, r6, r7] = *r;
    r4 > r5
        && r5 > r6
        && r6 > r7
        && r1 - r7 < m.water.rho1_minus_rho7_max
        && (r3 > r2 || (r1 > r2 && r2 > r3 && r3 > r4))
}

/// The daytime unambiguous fire tests; which one fired.
#[inline]
pub fn unambiguous(r: &[f32; 7], m: &OliModel) -> Option<FireTest> {
    let u = &m.unambiguous;
    let [r1, _, _, _, r5, r6, r7] = *r;
    if ratio(r7, r5) > u.ratio_75 && r7 - r5 > u.diff_75 && r7 > u.rho7_min {
        return Some(FireTest::Unambiguous);
    }
    if r6 > u.rho6_min && r1 < u.rho1_max && (r5 > u.rho5_min || r7 < u.rho7_folded_max) {
        return Some(FireTest::Saturated);
    }
    None
}

/// The candidate (potential fire) test.
#[inline]
pub fn is_candidate(r: &[f32; 7], m: &OliModel) -> bool {
    let c = &m.candidate;
    let [_, _, _, _, r5, r6, r7] = *r;
    ratio(r7, r5) > c.ratio_75 && r7 - r5 > c.diff_75 && ratio(r7, r6) > c.ratio_76
}

/// The per-pixel stage by day: fill (any band NaN), unambiguous fires, then water (QA or
/// spectral), cloud (QA), clear land; candidates keep the class they would otherwise have.
#[inline]
pub fn classify_day(r: &[f32; 7], qa_cloud: bool, qa_water: bool, m: &OliModel) -> Stage1 {
    if r.iter().any(|v| v.is_nan()) {
        return Stage1 {
            class: MaskClass::Fill,
            fire: None,
            candidate: false,
        };
    }
    if let Some(test) = unambiguous(r, m) {
        return Stage1 {
            class: MaskClass::FireHigh,
            fire: Some(test),
            candidate: false,
        };
    }
    let class = if (qa_water && m.water.use_qa) || is_water(r, m) {
        MaskClass::Water
    } else if qa_cloud {
        MaskClass::Cloud
    } else {
        MaskClass::Land
    };
    Stage1 {
        class,
        fire: None,
        candidate: is_candidate(r, m),
    }
}

/// The per-pixel stage by night: band 7 alone (fill when NaN), water and cloud from QA only.
#[inline]
pub fn classify_night(rho7: f32, qa_cloud: bool, qa_water: bool, m: &OliModel) -> Stage1 {
    let (class, fire) = if rho7.is_nan() {
        (MaskClass::Fill, None)
    } else if rho7 > m.night.rho7_min {
        (MaskClass::FireNominal, Some(FireTest::Night))
    } else if qa_water && m.water.use_qa {
        (MaskClass::Water, None)
    } else if qa_cloud {
        (MaskClass::Cloud, None)
    } else {
        (MaskClass::Land, None)
    };
    Stage1 {
        class,
        fire,
        candidate: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m() -> OliModel {
        OliModel::builtin()
    }

    #[test]
    fn the_paper_s_tests_at_their_edges() {
        // Vegetation: no fire, not water.
        let veg = [0.08, 0.07, 0.08, 0.06, 0.35, 0.2, 0.1];
        assert_eq!(
            classify_day(&veg, false, false, &m()).class,
            MaskClass::Land
        );
        assert!(!classify_day(&veg, false, false, &m()).candidate);
        // An unambiguous fire: R75 = 3, ρ7 − ρ5 = 0.4, ρ7 = 0.6.
        let fire = [0.08, 0.07, 0.08, 0.06, 0.2, 0.3, 0.6];
        assert_eq!(unambiguous(&fire, &m()), Some(FireTest::Unambiguous));
        // ρ7 just at 0.5 is not above it.
        let edge = [0.08, 0.07, 0.08, 0.06, 0.1, 0.2, 0.5];
        assert_eq!(unambiguous(&edge, &m()), None);
        // Folded band 7 with a hot band 6: the saturation test.
        let folded = [0.1, 0.1, 0.1, 0.1, 0.3, 0.9, 0.05];
        assert_eq!(unambiguous(&folded, &m()), Some(FireTest::Saturated));
        // A candidate: R75 = 2, ρ7 − ρ5 = 0.2, R76 = 2.
        let cand = [0.08, 0.07, 0.08, 0.06, 0.2, 0.2, 0.4];
        let s = classify_day(&cand, false, false, &m());
        assert!(s.candidate && s.class == MaskClass::Land && s.fire.is_none());
        // R76 at 1.6 is not above it.
        let c2 = [0.08, 0.07, 0.08, 0.06, 0.2, 0.25, 0.4];
        assert!(!is_candidate(&c2, &m()));
        // Clear deep water and turbid water.
        assert!(is_water(&[0.12, 0.1, 0.08, 0.06, 0.04, 0.02, 0.01], &m()));
        assert!(is_water(&[0.1, 0.09, 0.1, 0.08, 0.05, 0.02, 0.01], &m()));
        assert!(!is_water(&veg, &m()));
        // QA decides water and cloud when the spectra do not.
        assert_eq!(
            classify_day(&veg, true, false, &m()).class,
            MaskClass::Cloud
        );
        assert_eq!(classify_day(&veg, true, true, &m()).class, MaskClass::Water);
        let mut nan = veg;
        nan[2] = f32::NAN;
        assert_eq!(
            classify_day(&nan, false, false, &m()).class,
            MaskClass::Fill
        );
    }

    #[test]
    fn night_is_band_7_alone_and_ratios_are_defined_on_dark_pixels() {
        assert_eq!(
            classify_night(0.2, false, false, &m()).fire,
            Some(FireTest::Night)
        );
        assert_eq!(
            classify_night(0.01, true, false, &m()).class,
            MaskClass::Cloud
        );
        assert_eq!(
            classify_night(f32::NAN, false, false, &m()).class,
            MaskClass::Fill
        );
        assert_eq!(ratio(0.3, -0.01), f32::INFINITY);
        assert_eq!(ratio(-0.01, -0.01), 0.0);
    }
}
