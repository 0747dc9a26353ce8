//! Per-pixel tests of the VIIRS 375 m algorithm (Schroeder et al. 2014, sec. 2.1–2.3): validity,
//! day/night, cloud, water, fixed thresholds, background fires, bright targets and the candidate
//! test. Pure functions of one pixel's values and the model, shared by the parallel detector and
//! the sequential reference so that both apply the same published thresholds.

use crate::model::{BackgroundFire, BrightTarget, Candidate, Cloud, Fixed, SensorModel};

use super::types::MaskClass;

/// The model's per-pixel thresholds, flattened once per scene so the per-pixel stage does no
/// map lookups (it runs 41 million times on a granule).
#[derive(Debug, Clone)]
pub struct PixelParams {
    pub night_sza_deg: f32,
    pub i4_saturation_k: f32,
    pub i4_fold_k: f32,
    pub cloud: Cloud,
    pub fixed: Fixed,
    pub background_fire: BackgroundFire,
    pub bright_target: BrightTarget,
    pub candidate: Candidate,
}

impl PixelParams {
    pub fn new(m: &SensorModel) -> Self {
        let i4 = &m.bands["I4"];
        PixelParams {
            night_sza_deg: m.night_sza_deg,
            i4_saturation_k: i4.saturation_k.map_or(f32::INFINITY, |v| v as f32),
            i4_fold_k: i4.fold_k.map_or(f32::NAN, |v| v as f32),
            cloud: m.cloud.clone(),
            fixed: m.fixed.clone(),
            background_fire: m.background_fire.clone(),
            bright_target: m.bright_target.clone(),
            candidate: m.candidate.clone(),
        }
    }
}

/// The values of one pixel. Reflectances are NaN at night on real data; they are only read by day.
#[derive(Debug, Clone, Copy)]
pub struct Px {
    pub r1: f32,
    pub r2: f32,
    pub r3: f32,
    pub bt4: f32,
    pub bt5: f32,
    pub sza: f32,
}

impl Px {
    /// ΔT45 = BT4 − BT5.
    pub fn dt45(&self) -> f32 {
        self.bt4 - self.bt5
    }
    /// ρ1 + ρ2.
    pub fn vis(&self) -> f32 {
        self.r1 + self.r2
    }
}

/// Bits of a pixel's pre-classification.
pub mod bits {
    /// Clear land that may enter a background window (not fill, cloud, water or background fire).
    pub const VALID_BG: u8 = 1;
    /// Day pixel (SZA below the night threshold).
    pub const DAY: u8 = 2;
    /// Background fire: excluded from background statistics, counted for BT4′, δ4′.
    pub const BG_FIRE: u8 = 4;
    /// Candidate fire pixel: goes to the contextual tests.
    pub const CANDIDATE: u8 = 8;
    /// Day pixel with 325 < BT4 ≤ 330 and ΔT45 ≤ 25: candidate only if BT4 exceeds the
    /// 501×501 background median.
    pub const NEEDS_MEDIAN: u8 = 16;
    /// Passed a fixed-threshold test: fire, high confidence, whatever the context.
    pub const FIXED: u8 = 32;
}

/// The result of the per-pixel stage: the base mask class and the bits above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelClass {
    pub class: MaskClass,
    pub bits: u8,
}

/// Classifies one pixel. `water` is the product's land/water mask at the pixel when it has one
/// (then water is tested by it, day and night), None to test water by reflectances, by day only.
#[inline]
pub fn classify(p: &Px, water: Option<bool>, m: &PixelParams) -> PixelClass {
    let none = |class| PixelClass { class, bits: 0 };
    if p.sza.is_nan() {
        return none(MaskClass::NotProcessed);
    }
    let day = p.sza < m.night_sza_deg;
    if p.bt4.is_nan()
        || p.bt5.is_nan()
        || (day && (p.r1.is_nan() || p.r2.is_nan() || p.r3.is_nan()))
    {
        return none(MaskClass::Fill);
    }
    let day_bit = if day { bits::DAY } else { 0 };
    if is_fixed_fire(p, day, m) {
        // A certain fire: never background; a background fire when it meets that test too, so
        // it counts towards BT4′, δ4′ and the desert-boundary share (ALGORITHMS.md step 3).
        let bg_fire = if is_background_fire(p, day, m) {
            bits::BG_FIRE
        } else {
            0
        };
        return PixelClass {
            class: MaskClass::Land,
            bits: day_bit | bits::FIXED | bits::CANDIDATE | bg_fire,
        };
    }
    if is_cloud(p, day, m) {
        return PixelClass {
            class: MaskClass::Cloud,
            bits: day_bit,
        };
    }
    if water.unwrap_or(day && is_water(p)) {
        return PixelClass {
            class: MaskClass::Water,
            bits: day_bit,
        };
    }
    let mut b = day_bit;
    if is_background_fire(p, day, m) {
        b |= bits::BG_FIRE;
    } else {
        b |= bits::VALID_BG;
    }
    if !(day && is_bright_target(p, m)) {
        b |= candidate_bits(p, day, m);
    }
    PixelClass {
        class: MaskClass::Land,
        bits: b,
    }
}

/// [`classify`] over one row, written without branches so the compiler can run it on several
/// pixels at once: every test is evaluated and the first that applies is selected, in
/// [`classify`]'s order. Same classes and bits, pixel for pixel (tested against it). A row
/// without a day pixel takes a variant compiled with the day tests removed, which never reads
/// the reflectances. `water` is the row of the product's land/water mask (non-zero = water)
/// when it has one. Always inlined, so it is compiled for its caller's instruction set
/// ([`super::strip::classify_strip`] runs it compiled for AVX2 where the CPU has it).
#[inline(always)]
pub fn classify_row(
    bands: [&[f32]; 6],
    water: Option<&[u8]>,
    m: &PixelParams,
    class: &mut [u8],
    state: &mut [u8],
) {
    let sza = &bands[5][..class.len()];
    if !super::strip::has_day_pixel(sza, m.night_sza_deg) {
        classify_row_as::<NIGHT_ONLY>(bands, water, m, class, state);
    } else if super::strip::all_day(sza, m.night_sza_deg) {
        classify_row_as::<DAY_ONLY>(bands, water, m, class, state);
    } else {
        classify_row_as::<MIXED>(bands, water, m, class, state);
    }
}

/// Which pixels of a row [`classify_row_as`] may take as day: none, all, or each by its angle.
const NIGHT_ONLY: u8 = 0;
const DAY_ONLY: u8 = 1;
const MIXED: u8 = 2;

/// [`classify_row`] for a row of one kind: with `NIGHT_ONLY` every pixel is taken as night (or
/// unprocessed) and the reflectances are not read; with `DAY_ONLY` every pixel is day (the
/// caller checked every angle), so the night tests are compiled out.
#[inline(always)]
fn classify_row_as<const KIND: u8>(
    [i1, i2, i3, i4, i5, sza]: [&[f32]; 6],
    water_mask: Option<&[u8]>,
    m: &PixelParams,
    class: &mut [u8],
    state: &mut [u8],
) {
    let n = class.len();
    let (i1, i2, i3, i4, i5, sza) = (&i1[..n], &i2[..n], &i3[..n], &i4[..n], &i5[..n], &sza[..n]);
    let state = &mut state[..n];
    let water_mask = water_mask.map(|w| &w[..n]);
    let (cl, f, bf, bt, cd) = (
        &m.cloud,
        &m.fixed,
        &m.background_fire,
        &m.bright_target,
        &m.candidate,
    );
    for c in 0..n {
        let (bt4, bt5, z) = (i4[c], i5[c], sza[c]);
        // Reflectances matter by day only; a night-only row never reads them.
        let (r1, r2, r3) = if KIND == NIGHT_ONLY {
            (f32::NAN, f32::NAN, f32::NAN)
        } else {
            (i1[c], i2[c], i3[c])
        };
        let not_processed = KIND != DAY_ONLY && z.is_nan();
        let day = KIND == DAY_ONLY || (KIND == MIXED && z < m.night_sza_deg);
        let fill = bt4.is_nan() | bt5.is_nan() | (day & (r1.is_nan() | r2.is_nan() | r3.is_nan()));
        let vis = r1 + r2;
        let dt = bt4 - bt5;
        let saturated = bt4 >= m.i4_saturation_k;
        let fixed = if_else(
            day,
            (saturated & (bt5 > f.day_saturated_bt5_k) & (vis < f.day_saturated_refl))
                | ((dt < 0.0) & (bt5 > f.day_fold_bt5_k)),
            (bt4 > f.night_bt4_k)
                | saturated
                | ((dt < 0.0) & (bt5 > f.night_fold_bt5_k))
                | ((bt4 == m.i4_fold_k) & (bt5 > f.night_fold_value_bt5_k)),
        );
        let cloud = if_else(
            day,
            (bt5 < cl.day_bt5_k)
                | ((vis > cl.day_bright_refl) & (bt5 < cl.day_bright_bt5_k))
                | ((vis > cl.day_moderate_refl) & (bt5 < cl.day_moderate_bt5_k)),
            (bt5 < cl.night_bt5_k) & (bt4 < cl.night_bt4_k),
        );
        let water = match water_mask {
            Some(w) => w[c] != 0,
            None => day & (r1 > r2) & (r2 > r3),
        };
        let bg_fire = if_else(
            day,
            (bt4 > bf.day_bt4_k) & (dt > bf.day_dt45_k),
            (bt4 > bf.night_bt4_k) & (dt > bf.night_dt45_k),
        );
        let bright = (vis > bt.refl_sum)
            & (bt5 < bt.bt5_k)
            & (r3 > bt.rho3_min)
            & (r3 > r2)
            & (r2 > bt.rho2_min)
            & (bt4 <= bt.bt4_max_k);
        let candidate = if_else(
            day,
            (dt > cd.day_dt45_k) | (bt4 > cd.day_bt4s_max_k),
            (bt4 > cd.night_bt4_k) | (dt > cd.night_dt45_k),
        );
        let needs_median = day & !candidate & (bt4 > cd.day_bt4s_min_k);
        let day_bit = day as u8 * bits::DAY;
        let bg_bit = bg_fire as u8 * bits::BG_FIRE;
        let fixed_bits = day_bit | bits::FIXED | bits::CANDIDATE | bg_bit;
        let cand_bits = (!(day & bright)) as u8
            * ((candidate as u8 * bits::CANDIDATE) | (needs_median as u8 * bits::NEEDS_MEDIAN));
        let land_bits = day_bit | bg_bit | ((!bg_fire) as u8 * bits::VALID_BG) | cand_bits;
        let (k, b) = if not_processed {
            (MaskClass::NotProcessed as u8, 0)
        } else if fill {
            (MaskClass::Fill as u8, 0)
        } else if fixed {
            (MaskClass::Land as u8, fixed_bits)
        } else if cloud {
            (MaskClass::Cloud as u8, day_bit)
        } else if water {
            (MaskClass::Water as u8, day_bit)
        } else {
            (MaskClass::Land as u8, land_bits)
        };
        class[c] = k;
        state[c] = b;
    }
}

/// `if c { a } else { b }` for booleans, without a branch.
#[inline(always)]
fn if_else(c: bool, a: bool, b: bool) -> bool {
    (c & a) | (!c & b)
}

/// Sec. 2.1, cloud. Day: BT5 < 265, or (ρ1+ρ2 > 0.9 and BT5 < 295), or (ρ1+ρ2 > 0.7 and BT5 < 285).
/// Night: BT5 < 265 and BT4 < 295.
#[inline]
pub fn is_cloud(p: &Px, day: bool, m: &PixelParams) -> bool {
    let c = &m.cloud;
    if day {
        p.bt5 < c.day_bt5_k
            || (p.vis() > c.day_bright_refl && p.bt5 < c.day_bright_bt5_k)
            || (p.vis() > c.day_moderate_refl && p.bt5 < c.day_moderate_bt5_k)
    } else {
        p.bt5 < c.night_bt5_k && p.bt4 < c.night_bt4_k
    }
}

/// Sec. 2.1, day water from the spectral shape ρ1 > ρ2 > ρ3, for scenes without a land/water
/// mask (at night water is not separable from reflectances; a product's mask decides it then).
pub fn is_water(p: &Px) -> bool {
    p.r1 > p.r2 && p.r2 > p.r3
}

/// Sec. 2.2, fixed thresholds: night BT4 > 320; saturated BT4 (day also BT5 > 290 and
/// ρ1+ρ2 < 0.7); folding: ΔT45 < 0 and BT5 > 325 (day) / 310 (night), or at night BT4 at the
/// fold value and BT5 > 335.
#[inline]
pub fn is_fixed_fire(p: &Px, day: bool, m: &PixelParams) -> bool {
    let f = &m.fixed;
    let saturated = p.bt4 >= m.i4_saturation_k;
    let fold = m.i4_fold_k;
    if day {
        (saturated && p.bt5 > f.day_saturated_bt5_k && p.vis() < f.day_saturated_refl)
            || (p.dt45() < 0.0 && p.bt5 > f.day_fold_bt5_k)
    } else {
        p.bt4 > f.night_bt4_k
            || saturated
            || (p.dt45() < 0.0 && p.bt5 > f.night_fold_bt5_k)
            || (p.bt4 == fold && p.bt5 > f.night_fold_value_bt5_k)
    }
}

/// Sec. 2.3, background fires: day BT4 > 335 and ΔT45 > 30; night BT4 > 300 and ΔT45 > 10.
#[inline]
pub fn is_background_fire(p: &Px, day: bool, m: &PixelParams) -> bool {
    let b = &m.background_fire;
    if day {
        p.bt4 > b.day_bt4_k && p.dt45() > b.day_dt45_k
    } else {
        p.bt4 > b.night_bt4_k && p.dt45() > b.night_dt45_k
    }
}

/// Sec. 2.3, bright fire-free targets skipped by day: ρ1+ρ2 > 0.6, BT5 < 285, ρ3 > 0.3, ρ3 > ρ2,
/// ρ2 > 0.25 and BT4 ≤ 335, all together: a bright and cool surface (snow, cloud edges, bright
/// roofs in the cold) whose reflected sunlight at 3.7 µm could mimic a fire.
#[inline]
pub fn is_bright_target(p: &Px, m: &PixelParams) -> bool {
    let b = &m.bright_target;
    p.vis() > b.refl_sum
        && p.bt5 < b.bt5_k
        && p.r3 > b.rho3_min
        && p.r3 > p.r2
        && p.r2 > b.rho2_min
        && p.bt4 <= b.bt4_max_k
}

/// Sec. 2.3, candidates. Day: BT4 > BT4S or ΔT45 > 25, with BT4S = min(330, max(325, median));
/// only pixels with 325 < BT4 ≤ 330 depend on the median, and get [`bits::NEEDS_MEDIAN`].
/// Night: BT4 > 295 or ΔT45 > 10.
#[inline]
pub fn candidate_bits(p: &Px, day: bool, m: &PixelParams) -> u8 {
    let c = &m.candidate;
    if day {
        if p.dt45() > c.day_dt45_k || p.bt4 > c.day_bt4s_max_k {
            bits::CANDIDATE
        } else if p.bt4 > c.day_bt4s_min_k {
            bits::NEEDS_MEDIAN
        } else {
            0
        }
    } else if p.bt4 > c.night_bt4_k || p.dt45() > c.night_dt45_k {
        bits::CANDIDATE
    } else {
        0
    }
}

/// Sun-glint angle in degrees: cos θg = cos θv cos θs − sin θv sin θs cos φ, with φ the relative
/// azimuth SAA − VAA (azimuths of sun and sensor seen from the pixel; θg = 0 at the specular
/// point, where they are 180° apart and θv = θs). Giglio et al. 2003, eq. 4.
pub fn glint_angle_deg(sza: f32, vza: f32, saa: f32, vaa: f32) -> f32 {
    let (ts, tv) = (sza.to_radians(), vza.to_radians());
    let phi = (saa - vaa).to_radians();
    let c = tv.cos() * ts.cos() - tv.sin() * ts.sin() * phi.cos();
    c.clamp(-1.0, 1.0).acos().to_degrees()
}

/// Sec. 2.5, glint rejection: θg < 15° and ρ1+ρ2 > 0.35, or θg < 25° and ρ1+ρ2 > 0.4.
pub fn is_glint(glint_deg: f32, vis: f32, m: &SensorModel) -> bool {
    let g = &m.glint;
    (glint_deg < g.strong_deg && vis > g.strong_refl)
        || (glint_deg < g.weak_deg && vis > g.weak_refl)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m() -> PixelParams {
        PixelParams::new(&SensorModel::builtin("viirs-i").unwrap())
    }
    fn day(bt4: f32, bt5: f32) -> Px {
        Px {
            r1: 0.08,
            r2: 0.2,
            r3: 0.18,
            bt4,
            bt5,
            sza: 40.0,
        }
    }
    fn night(bt4: f32, bt5: f32) -> Px {
        Px {
            r1: f32::NAN,
            r2: f32::NAN,
            r3: f32::NAN,
            bt4,
            bt5,
            sza: 120.0,
        }
    }

    #[test]
    fn night_pixels_do_not_need_reflectances() {
        assert_eq!(
            classify(&night(290.0, 289.0), None, &m()).class,
            MaskClass::Land
        );
        let mut p = day(300.0, 298.0);
        p.r2 = f32::NAN;
        assert_eq!(classify(&p, None, &m()).class, MaskClass::Fill);
    }

    #[test]
    fn cloud_tests_follow_the_paper() {
        let m = m();
        assert!(is_cloud(&day(270.0, 264.0), true, &m));
        let mut p = day(290.0, 290.0);
        p.r1 = 0.5;
        p.r2 = 0.45;
        assert!(is_cloud(&p, true, &m));
        p.r1 = 0.3;
        assert!(!is_cloud(&p, true, &m), "ρ1+ρ2 = 0.75 needs BT5 < 285");
        assert!(is_cloud(&night(290.0, 260.0), false, &m));
        assert!(
            !is_cloud(&night(296.0, 260.0), false, &m),
            "night cloud needs BT4 < 295"
        );
    }

    #[test]
    fn fixed_thresholds_saturation_and_folding() {
        let m = m();
        assert!(is_fixed_fire(&night(321.0, 290.0), false, &m));
        assert!(!is_fixed_fire(&night(319.0, 290.0), false, &m));
        assert!(is_fixed_fire(&day(367.0, 295.0), true, &m));
        assert!(
            !is_fixed_fire(&day(367.0, 289.0), true, &m),
            "day saturation needs BT5 > 290"
        );
        assert!(
            is_fixed_fire(&day(320.0, 326.0), true, &m),
            "folded: ΔT45 < 0 and BT5 > 325"
        );
        assert!(
            is_fixed_fire(&night(208.0, 336.0), false, &m),
            "folded to 208 K at night"
        );
        assert_eq!(
            classify(&night(330.0, 290.0), None, &m).bits & bits::FIXED,
            bits::FIXED
        );
    }

    #[test]
    fn candidates_and_the_median_band() {
        let m = m();
        assert_eq!(
            candidate_bits(&day(331.0, 310.0), true, &m),
            bits::CANDIDATE
        );
        assert_eq!(
            candidate_bits(&day(327.0, 310.0), true, &m),
            bits::NEEDS_MEDIAN
        );
        assert_eq!(
            candidate_bits(&day(327.0, 300.0), true, &m),
            bits::CANDIDATE,
            "ΔT45 > 25"
        );
        assert_eq!(candidate_bits(&day(320.0, 310.0), true, &m), 0);
        assert_eq!(
            candidate_bits(&night(296.0, 290.0), false, &m),
            bits::CANDIDATE
        );
        assert_eq!(
            candidate_bits(&night(294.0, 283.0), false, &m),
            bits::CANDIDATE,
            "ΔT45 > 10"
        );
        assert_eq!(candidate_bits(&night(294.0, 290.0), false, &m), 0);
    }

    /// The row classifier equals [`classify`] on values spread over every threshold, with
    /// NaNs, the fold value and saturation, by day and by night.
    #[test]
    fn classify_row_equals_classify() {
        use rand::{Rng, SeedableRng};
        let m = m();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let n = 20_000;
        let mut bands: [Vec<f32>; 6] = Default::default();
        for _ in 0..n {
            let pick = |rng: &mut rand_chacha::ChaCha8Rng, lo: f32, hi: f32, special: &[f32]| {
                if rng.gen_bool(0.1) {
                    special[rng.gen_range(0..special.len())]
                } else {
                    rng.gen_range(lo..hi)
                }
            };
            let r = [
                pick(&mut rng, 0.0, 0.7, &[f32::NAN, 0.0]),
                pick(&mut rng, 0.0, 0.7, &[f32::NAN, 0.3]),
                pick(&mut rng, 0.0, 0.7, &[f32::NAN, 0.3]),
                pick(
                    &mut rng,
                    200.0,
                    380.0,
                    &[f32::NAN, 208.0, 367.0, 325.0, 330.0],
                ),
                pick(&mut rng, 240.0, 345.0, &[f32::NAN, 265.0, 290.0]),
                pick(&mut rng, 0.0, 180.0, &[f32::NAN, 85.0]),
            ];
            for (b, v) in bands.iter_mut().zip(r) {
                b.push(v);
            }
        }
        // A land/water mask with a tenth of the pixels water.
        let water: Vec<u8> = (0..n).map(|_| rng.gen_bool(0.1) as u8).collect();
        // Classifies the row both ways, without and with the mask, asserts they agree, returns
        // the classes without the mask.
        let check = |bands: &[Vec<f32>; 6]| -> Vec<(u8, u8)> {
            let mut masked = (vec![0u8; n], vec![0u8; n]);
            let rows = [0, 1, 2, 3, 4, 5].map(|i| bands[i].as_slice());
            classify_row(rows, Some(&water), &m, &mut masked.0, &mut masked.1);
            let (mut class, mut state) = (vec![0u8; n], vec![0u8; n]);
            classify_row(rows, None, &m, &mut class, &mut state);
            for c in 0..n {
                let p = Px {
                    r1: bands[0][c],
                    r2: bands[1][c],
                    r3: bands[2][c],
                    bt4: bands[3][c],
                    bt5: bands[4][c],
                    sza: bands[5][c],
                };
                let want = classify(&p, None, &m);
                assert_eq!((class[c], state[c]), (want.class as u8, want.bits), "{p:?}");
                let want = classify(&p, Some(water[c] != 0), &m);
                let got = (masked.0[c], masked.1[c]);
                assert_eq!(
                    got,
                    (want.class as u8, want.bits),
                    "{p:?} water {}",
                    water[c]
                );
            }
            class.into_iter().zip(state).collect()
        };
        let classes = check(&bands);
        let kinds: std::collections::BTreeSet<(u8, u8)> = classes.into_iter().collect();
        assert!(kinds.len() > 15, "too few kinds of pixel: {kinds:?}");
        // A row of day pixels only takes the day-only variant: same answers.
        let mut day = bands.clone();
        for z in day[5].iter_mut() {
            if z.is_nan() || *z >= m.night_sza_deg {
                *z = 40.0;
            }
        }
        let classes = check(&day);
        assert!(classes.iter().any(|&(_, b)| b & bits::CANDIDATE != 0));
        assert!(classes.iter().all(|&(_, b)| b & bits::DAY != 0 || b == 0));
        // A row without day pixels takes the night-only variant: same answers.
        for z in bands[5].iter_mut() {
            if *z < m.night_sza_deg {
                *z += 90.0;
            }
        }
        let classes = check(&bands);
        assert!(classes.iter().any(|&(k, _)| k == MaskClass::Cloud as u8));
        assert!(!classes.iter().any(|&(k, _)| k == MaskClass::Water as u8));
    }

    #[test]
    fn a_water_mask_decides_water_day_and_night() {
        let m = m();
        // Night: reflectances say nothing, the mask does.
        let p = night(290.0, 289.0);
        assert_eq!(classify(&p, None, &m).class, MaskClass::Land);
        assert_eq!(classify(&p, Some(true), &m).class, MaskClass::Water);
        assert_eq!(classify(&p, Some(false), &m).class, MaskClass::Land);
        // Day: water-shaped reflectances over land by the mask stay land, and the reverse.
        let mut p = day(300.0, 298.0);
        (p.r1, p.r2, p.r3) = (0.12, 0.08, 0.03);
        assert_eq!(classify(&p, None, &m).class, MaskClass::Water);
        assert_eq!(classify(&p, Some(false), &m).class, MaskClass::Land);
        assert_eq!(
            classify(&day(300.0, 298.0), Some(true), &m).class,
            MaskClass::Water
        );
        // A fixed-threshold fire on water is still a fire (the mask is tested after it).
        let hot = night(330.0, 290.0);
        assert_eq!(
            classify(&hot, Some(true), &m).bits & bits::FIXED,
            bits::FIXED
        );
    }

    #[test]
    fn glint_angle_is_zero_at_the_specular_point() {
        assert!(glint_angle_deg(30.0, 30.0, 100.0, 280.0) < 1e-3);
        let g = glint_angle_deg(30.0, 30.0, 100.0, 100.0);
        assert!((g - 60.0).abs() < 1e-3, "{g}");
    }
}
