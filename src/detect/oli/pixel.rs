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

/// Per-pixel flags of the row classifier ([`classify_day_row`], [`classify_night_row`]): which
/// test found a fire, or a candidate; 0 for every other pixel.
pub mod flag {
    pub const UNAMBIGUOUS: u8 = 1;
    pub const SATURATED: u8 = 2;
    pub const CANDIDATE: u8 = 4;
    pub const NIGHT: u8 = 8;
}

/// The fire test a row flag stands for (`None` for a candidate or nothing).
#[inline]
pub fn flag_test(f: u8) -> Option<FireTest> {
    match f {
        flag::UNAMBIGUOUS => Some(FireTest::Unambiguous),
        flag::SATURATED => Some(FireTest::Saturated),
        flag::NIGHT => Some(FireTest::Night),
        _ => None,
    }
}

/// One row of the per-pixel stage: the seven bands' rows, the QA rows (all zero when the
/// product has none) and the outputs, all of one length.
pub struct Row<'a> {
    pub rho: [&'a [f32]; 7],
    pub cloud: &'a [u8],
    pub water: &'a [u8],
    pub class: &'a mut [u8],
    pub flags: &'a mut [u8],
}

/// [`classify_day`] on a whole row, written without branches so that the compiler tests eight
/// (AVX2) pixels at a time: every test of every pixel is computed and the outcome chosen by
/// masks, where `classify_day` returns at the first test that decides. The two agree on every
/// input, NaN, infinities and signed zeros included (`row_kernels_equal_the_pixel_tests`).
/// Writes each pixel's class into `row.class` and its [`flag`] into `row.flags`; returns
/// whether any pixel of the row has a flag (a fire or a candidate: rare, so the caller looks
/// at the flags of few rows).
#[inline(always)]
pub fn classify_day_row(row: Row, m: &OliModel) -> bool {
    let n = row.class.len();
    let [b1, b2, b3, b4, b5, b6, b7] = row.rho.map(|b| &b[..n]);
    let (qc, qw) = (&row.cloud[..n], &row.water[..n]);
    let flags = &mut row.flags[..n];
    let (u, cnd, w) = (&m.unambiguous, &m.candidate, &m.water);
    let use_qa = m.water.use_qa;
    let mut any = 0u8;
    for j in 0..n {
        let (r1, r2, r3, r4, r5, r6, r7) = (b1[j], b2[j], b3[j], b4[j], b5[j], b6[j], b7[j]);
        let fill = r1.is_nan()
            | r2.is_nan()
            | r3.is_nan()
            | r4.is_nan()
            | r5.is_nan()
            | r6.is_nan()
            | r7.is_nan();
        let r75 = ratio_nb(r7, r5);
        let r76 = ratio_nb(r7, r6);
        let d75 = r7 - r5;
        let u1 = (r75 > u.ratio_75) & (d75 > u.diff_75) & (r7 > u.rho7_min);
        let u2 =
            (r6 > u.rho6_min) & (r1 < u.rho1_max) & ((r5 > u.rho5_min) | (r7 < u.rho7_folded_max));
        let spectral = (r4 > r5)
            & (r5 > r6)
            & (r6 > r7)
            & (r1 - r7 < w.rho1_minus_rho7_max)
            & ((r3 > r2) | ((r1 > r2) & (r2 > r3) & (r3 > r4)));
        let water = ((qw[j] != 0) & use_qa) | spectral;
        let cloud = qc[j] != 0;
        let cand = (r75 > cnd.ratio_75) & (d75 > cnd.diff_75) & (r76 > cnd.ratio_76);
        let fire = u1 | u2;
        let class = if fill {
            MaskClass::Fill as u8
        } else if fire {
            MaskClass::FireHigh as u8
        } else if water {
            MaskClass::Water as u8
        } else if cloud {
            MaskClass::Cloud as u8
        } else {
            MaskClass::Land as u8
        };
        let ok = !fill;
        let f = ((ok & u1) as u8 * flag::UNAMBIGUOUS)
            | ((ok & !u1 & u2) as u8 * flag::SATURATED)
            | ((ok & !fire & cand) as u8 * flag::CANDIDATE);
        row.class[j] = class;
        flags[j] = f;
        any |= f;
    }
    any != 0
}

/// [`classify_night`] on a whole row (band 7 alone), as [`classify_day_row`].
#[inline(always)]
pub fn classify_night_row(row: Row, m: &OliModel) -> bool {
    let n = row.class.len();
    let b7 = &row.rho[6][..n];
    let (qc, qw) = (&row.cloud[..n], &row.water[..n]);
    let flags = &mut row.flags[..n];
    let (t, use_qa) = (m.night.rho7_min, m.water.use_qa);
    let mut any = 0u8;
    for j in 0..n {
        let r7 = b7[j];
        let fill = r7.is_nan();
        let hot = r7 > t;
        let class = if fill {
            MaskClass::Fill as u8
        } else if hot {
            MaskClass::FireNominal as u8
        } else if (qw[j] != 0) & use_qa {
            MaskClass::Water as u8
        } else if qc[j] != 0 {
            MaskClass::Cloud as u8
        } else {
            MaskClass::Land as u8
        };
        let f = (hot as u8) * flag::NIGHT;
        row.class[j] = class;
        flags[j] = f;
        any |= f;
    }
    any != 0
}

/// The row kernel for `day` or night, on the widest build this CPU runs: compiled for AVX2 when
/// the CPU has it (eight pixels per instruction instead of SSE2's four; chosen at run time, so
/// builds stay portable), else the portable build. Both are the same source.
pub fn classify_row(row: Row, day: bool, m: &OliModel) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: `classify_row_avx2` needs nothing but AVX2, and the CPU was just found to
        // have it.
        #[allow(unsafe_code)]
        return unsafe { classify_row_avx2(row, day, m) };
    }
    classify_row_portable(row, day, m)
}

/// [`classify_row`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn classify_row_avx2(row: Row, day: bool, m: &OliModel) -> bool {
    classify_row_portable(row, day, m)
}

#[inline(always)]
fn classify_row_portable(row: Row, day: bool, m: &OliModel) -> bool {
    if day {
        classify_day_row(row, m)
    } else {
        classify_night_row(row, m)
    }
}

/// Hands each flagged pixel of a classified row to `each`, by column left to right, with the
/// test that found a fire there, or `None` for a candidate.
#[inline]
pub fn flagged(flags: &[u8], mut each: impl FnMut(usize, Option<FireTest>)) {
    for (j, &f) in flags.iter().enumerate() {
        if f != 0 {
            each(j, flag_test(f));
        }
    }
}

/// [`ratio`] as selects (no early return), for the row kernels: the same value on every input.
#[inline(always)]
fn ratio_nb(a: f32, b: f32) -> f32 {
    let q = a / b;
    let other = if a > 0.0 { f32::INFINITY } else { 0.0 };
    if b > 0.0 {
        q
    } else {
        other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::Strategy;
    use proptest::prop_oneof;
    use proptest::strategy::Just;

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

    /// A reflectance for the row-kernel property test: often a threshold of the model exactly
    /// (or next to it), zero of either sign, negative, NaN, infinite, or anything.
    fn value() -> impl Strategy<Value = f32> {
        let m = OliModel::builtin();
        let (u, c) = (m.unambiguous, m.candidate);
        let edges = vec![
            u.ratio_75,
            u.diff_75,
            u.rho7_min,
            u.rho6_min,
            u.rho1_max,
            u.rho5_min,
            u.rho7_folded_max,
            c.ratio_75,
            c.diff_75,
            m.night.rho7_min,
            0.2,
            0.1,
            0.5,
        ];
        prop_oneof![
            4 => -0.05f32..1.6,
            2 => proptest::sample::select(edges).prop_flat_map(|e| {
                prop_oneof![Just(e), Just(f32::from_bits(e.to_bits() + 1)), Just(e - f32::EPSILON)]
            }),
            1 => proptest::sample::select(vec![
                0.0f32, -0.0, -0.01, f32::NAN, f32::INFINITY, f32::NEG_INFINITY, f32::MIN_POSITIVE,
            ]),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// The branch-free row kernels give every pixel the class and fire/candidate outcome of
        /// the per-pixel tests the reference runs.
        #[test]
        fn row_kernels_equal_the_pixel_tests(
            px in proptest::collection::vec(
                (proptest::array::uniform7(value()), 0u8..3, 0u8..3), 1..80),
            use_qa in proptest::bool::ANY,
            day in proptest::bool::ANY,
        ) {
            let mut m = m();
            m.water.use_qa = use_qa;
            let n = px.len();
            let bands: Vec<Vec<f32>> = (0..7).map(|b| px.iter().map(|p| p.0[b]).collect()).collect();
            let cloud: Vec<u8> = px.iter().map(|p| p.1).collect();
            let water: Vec<u8> = px.iter().map(|p| p.2).collect();
            let (mut class, mut flags) = (vec![0u8; n], vec![0u8; n]);
            let row = Row {
                rho: std::array::from_fn(|b| &bands[b][..]),
                cloud: &cloud,
                water: &water,
                class: &mut class,
                flags: &mut flags,
            };
            let any = if day { classify_day_row(row, &m) } else { classify_night_row(row, &m) };
            for (j, p) in px.iter().enumerate() {
                let want = if day {
                    classify_day(&p.0, p.1 != 0, p.2 != 0, &m)
                } else {
                    classify_night(p.0[6], p.1 != 0, p.2 != 0, &m)
                };
                proptest::prop_assert_eq!(class[j], want.class as u8, "pixel {:?}", p);
                proptest::prop_assert_eq!(flag_test(flags[j]), want.fire, "pixel {:?}", p);
                proptest::prop_assert_eq!(flags[j] == flag::CANDIDATE, want.candidate, "pixel {:?}", p);
            }
            proptest::prop_assert_eq!(any, flags.iter().any(|&f| f != 0));
        }
    }
}
