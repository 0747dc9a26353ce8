//! The contextual stage of the MODIS algorithm for one potential fire: its background window
//! (G03 sec. 2.2.5), the statistics of the window (means and mean absolute deviations of T4, T11
//! and ΔT over the valid background, and of T4 over the background fires), the contextual tests
//! (sec. 2.2.6), the daytime rejections (glint sec. 2.2.7, desert boundary sec. 2.2.8, coastal
//! sec. 2.2.9, C6 forest clearing G16 sec. 3.6.4), confidence (G03 sec. 2.3) and FRP.
//!
//! Shared by the fast detector and the reference: both hand the same per-pixel planes to
//! [`window_stats`], which adds in row-major order, so the two agree to the bit.

use super::pixel::flag;
use super::FireTest;
use crate::detect::pixel::glint_angle_deg;
use crate::detect::MaskClass;
use crate::model::modis::{FrpMethod, ModisModel};
use crate::physics::{frp_mw, planck_radiance};

/// The per-pixel planes of a granule after the per-pixel stage, row-major, `rows × cols`.
#[derive(Debug, Clone, Copy)]
pub struct Planes<'a> {
    pub rows: usize,
    pub cols: usize,
    /// Stage-1 class (`MaskClass as u8`).
    pub class: &'a [u8],
    pub flags: &'a [u8],
    /// T4 (after the band-21 substitution), T11, K.
    pub t4: &'a [f32],
    pub t11: &'a [f32],
    /// The product's land/sea mask (non-zero water), when it has one: tells land under cloud.
    pub water: Option<&'a [u8]>,
}

impl Planes<'_> {
    /// Whether pixel `k` is a water pixel of stage 1 (a background is drawn from its own
    /// candidate's domain only, land or water: C6, G16).
    #[inline]
    pub fn is_water(&self, k: usize) -> bool {
        self.class[k] == MaskClass::Water as u8
    }

    /// Whether pixel `k` is land for the C6 water-pixel coastal test: the mask's word where
    /// there is a mask (cloud hides nothing there), else what stage 1 saw.
    #[inline]
    pub fn is_land(&self, k: usize) -> bool {
        match self.water {
            Some(w) => w[k] == 0,
            None => self.class[k] == MaskClass::Land as u8,
        }
    }

    /// Whether pixel `k` is valid background for a candidate over water (`water`) or land.
    #[inline]
    pub fn valid_for(&self, k: usize, water: bool) -> bool {
        self.flags[k] & flag::VALID != 0 && self.is_water(k) == water
    }
}

/// The rows and columns of the window of half-side `h` around (r, c), clipped to the granule.
#[inline]
pub fn bounds(
    (r, c): (usize, usize),
    h: usize,
    (rows, cols): (usize, usize),
) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    (
        r.saturating_sub(h)..(r + h + 1).min(rows),
        c.saturating_sub(h)..(c + h + 1).min(cols),
    )
}

/// True for the pixels of the window that are never part of (r, c)'s background: itself and,
/// when the model says so, its along-scan neighbours.
#[inline]
pub fn left_out(i: usize, j: usize, (r, c): (usize, usize), m: &ModisModel) -> bool {
    i == r && (j == c || (m.background.exclude_along_scan_neighbours && j.abs_diff(c) == 1))
}

/// Pixels of the clipped window that could be background (the window less the left-out ones).
#[inline]
pub fn window_pixels(
    (r, c): (usize, usize),
    h: usize,
    dim: (usize, usize),
    m: &ModisModel,
) -> usize {
    let (rr, cc) = bounds((r, c), h, dim);
    let mut n = rr.len() * cc.len() - 1;
    if m.background.exclude_along_scan_neighbours {
        n -= (c > cc.start) as usize + (c + 1 < cc.end) as usize;
    }
    n
}

/// Whether `n_valid` valid pixels out of `n_pixels` make a usable background (G03 sec. 2.2.5:
/// at least 25 % of the window and at least 8 pixels).
#[inline]
pub fn enough(n_valid: usize, n_pixels: usize, m: &ModisModel) -> bool {
    n_valid >= m.background.min_valid
        && n_valid as f64 >= m.background.min_valid_fraction * n_pixels as f64
}

/// Valid background pixels of the window of half-side `h` around (r, c), counted pixel by pixel.
pub fn count_valid(p: &Planes, (r, c): (usize, usize), h: usize, m: &ModisModel) -> usize {
    let (rr, cc) = bounds((r, c), h, (p.rows, p.cols));
    let water = p.is_water(r * p.cols + c);
    let mut n = 0;
    for i in rr {
        for j in cc.clone() {
            if !left_out(i, j, (r, c), m) && p.valid_for(i * p.cols + j, water) {
                n += 1;
            }
        }
    }
    n
}

/// Statistics of a background window.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct WindowStats {
    /// Side of the window, pixels.
    pub side: usize,
    pub n_valid: usize,
    pub mean4: f64,
    pub mad4: f64,
    pub mean11: f64,
    pub mad11: f64,
    pub mean_dt: f64,
    pub mad_dt: f64,
    /// Mean 4 µm radiance of the valid background, W m⁻² sr⁻¹ µm⁻¹ (FRP).
    pub mean_l4: f64,
    /// Background fires in the window, their mean T4 (T4′) and its deviation (δ4′).
    pub n_fire: usize,
    pub mean4_fire: f64,
    pub mad4_fire: f64,
    /// Water pixels (land/sea mask) and unmasked water pixels in the window.
    pub n_water: usize,
    pub n_unmasked_water: usize,
    /// Land pixels in the window (the C6 water-pixel coastal test).
    pub n_land: usize,
}

/// The statistics of the window of half-side `h` around (r, c): sums in row-major order, then
/// the deviations in a second pass (the mean absolute deviation needs the mean).
pub fn window_stats(p: &Planes, (r, c): (usize, usize), h: usize, m: &ModisModel) -> WindowStats {
    let (rr, cc) = bounds((r, c), h, (p.rows, p.cols));
    let wl = m.bands.t4_wavelength_um;
    let water = p.is_water(r * p.cols + c);
    let mut s = WindowStats {
        side: 2 * h + 1,
        ..Default::default()
    };
    let (mut s4, mut s11, mut sdt, mut sl4, mut s4f) = (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for i in rr.clone() {
        let row = i * p.cols;
        for j in cc.clone() {
            if left_out(i, j, (r, c), m) {
                continue;
            }
            let k = row + j;
            let f = p.flags[k];
            let class = p.class[k];
            if class == MaskClass::Water as u8 {
                s.n_water += 1;
            }
            if f & flag::UNMASKED_WATER != 0 {
                s.n_unmasked_water += 1;
            }
            if p.is_land(k) {
                s.n_land += 1;
            }
            if p.is_water(k) != water {
                continue;
            }
            let (t4, t11) = (p.t4[k] as f64, p.t11[k] as f64);
            if f & flag::VALID != 0 {
                s.n_valid += 1;
                s4 += t4;
                s11 += t11;
                sdt += t4 - t11;
                sl4 += planck_radiance(wl, t4);
            } else if f & flag::BG_FIRE != 0 {
                s.n_fire += 1;
                s4f += t4;
            }
        }
    }
    if s.n_valid > 0 {
        let n = s.n_valid as f64;
        (s.mean4, s.mean11, s.mean_dt, s.mean_l4) = (s4 / n, s11 / n, sdt / n, sl4 / n);
    }
    if s.n_fire > 0 {
        s.mean4_fire = s4f / s.n_fire as f64;
    }
    let (mut d4, mut d11, mut ddt, mut d4f) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for i in rr {
        let row = i * p.cols;
        for j in cc.clone() {
            if left_out(i, j, (r, c), m) {
                continue;
            }
            let k = row + j;
            if p.is_water(k) != water {
                continue;
            }
            let f = p.flags[k];
            let (t4, t11) = (p.t4[k] as f64, p.t11[k] as f64);
            if f & flag::VALID != 0 {
                d4 += (t4 - s.mean4).abs();
                d11 += (t11 - s.mean11).abs();
                ddt += (t4 - t11 - s.mean_dt).abs();
            } else if f & flag::BG_FIRE != 0 {
                d4f += (t4 - s.mean4_fire).abs();
            }
        }
    }
    if s.n_valid > 0 {
        let n = s.n_valid as f64;
        (s.mad4, s.mad11, s.mad_dt) = (d4 / n, d11 / n, ddt / n);
    }
    if s.n_fire > 0 {
        s.mad4_fire = d4f / s.n_fire as f64;
    }
    s
}

/// A potential fire's own values, as the decision reads them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub row: usize,
    pub col: usize,
    pub flags: u8,
    pub t4: f32,
    pub t11: f32,
    pub r1: f32,
    pub r2: f32,
    pub r7: f32,
    /// Sun-glint angle, degrees (NaN without the view geometry: no glint test).
    pub glint_deg: f32,
    /// Cloud and water pixels among the 8 neighbours (stage-1 classes).
    pub adjacent_cloud: usize,
    pub adjacent_water: usize,
    /// Ground area of the pixel, m².
    pub area_m2: f64,
    /// A water pixel (C6 water processing): its background is water, and the land-only
    /// rejections do not apply; the water-pixel coastal test does.
    pub water: bool,
}

impl Candidate {
    /// The glint angle of a pixel from its angles (°).
    pub fn glint(sza: f32, geometry: Option<[f32; 3]>) -> f32 {
        geometry.map_or(f32::NAN, |[vza, saa, vaa]| {
            glint_angle_deg(sza, vza, saa, vaa)
        })
    }
}

/// Why a tentative fire was rejected by day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    Glint,
    DesertBoundary,
    Coastal,
    ForestClearing,
    /// C6 water-pixel coastal rejection (G16 sec. 3.6.5): a contextual fire over water with
    /// land in its window (day and night).
    WaterCoastal,
}

/// What the contextual stage decided for a potential fire.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// Clear land after all (class 5).
    NotFire,
    /// Rejected by a daytime false-alarm test (class 5, as MOD14).
    Rejected(Rejection),
    /// No usable background window and not an absolute fire (class 6).
    Unknown,
    Fire {
        test: FireTest,
        /// The class from the confidence: 7, 8 or 9.
        class: MaskClass,
        confidence: f64,
        frp_mw: f64,
        /// Mean background T4, K (NaN without a window).
        background_t4_k: f64,
        side: usize,
    },
}

/// The ramp S(x; a, b): 0 at or below a, 1 at or above b, linear between (G03 eq. 15).
#[inline]
pub fn ramp(x: f64, [a, b]: [f64; 2]) -> f64 {
    if x.is_nan() || x <= a {
        0.0
    } else if x >= b {
        1.0
    } else {
        (x - a) / (b - a)
    }
}

/// (x − mean) / deviation, ±∞ when the deviation is 0 and x differs.
#[inline]
fn z(x: f64, mean: f64, dev: f64) -> f64 {
    if dev > 0.0 {
        (x - mean) / dev
    } else if x > mean {
        f64::INFINITY
    } else if x < mean {
        f64::NEG_INFINITY
    } else {
        0.0
    }
}

/// The decision for a potential fire `k` with its window statistics (`None`: no window of any
/// size had enough valid background).
pub fn decide(k: &Candidate, stats: Option<&WindowStats>, m: &ModisModel) -> Outcome {
    let day = k.flags & flag::DAY != 0;
    let absolute = k.flags & flag::ABSOLUTE != 0;
    let (t4, t11) = (k.t4 as f64, k.t11 as f64);
    let dt = t4 - t11;
    let test = match stats {
        None if absolute => FireTest::Absolute,
        None => return Outcome::Unknown,
        Some(s) => {
            let c = &m.context;
            let t1 = dt > s.mean_dt + c.dt_mads * s.mad_dt;
            let t2 = dt > s.mean_dt + c.dt_min_excess_k;
            let t3 = t4 > s.mean4 + c.t4_mads * s.mad4;
            let t4_ = t11 > s.mean11 + c.t11_mads * s.mad11 + c.t11_offset_k;
            let t5 = s.n_fire > 0 && s.mad4_fire > c.fire_t4_mad_min_k;
            let contextual = t1 && t2 && t3 && (!day || t4_ || t5);
            if absolute {
                FireTest::Absolute
            } else if contextual {
                FireTest::Contextual
            } else {
                return Outcome::NotFire;
            }
        }
    };
    if k.water && test == FireTest::Contextual && stats.is_some_and(|s| s.n_land > 0) {
        return Outcome::Rejected(Rejection::WaterCoastal);
    }
    if day {
        if let Some(r) = rejection(k, stats, test, m) {
            return Outcome::Rejected(r);
        }
    }
    let confidence = confidence(k, stats, day, m);
    let cc = &m.confidence;
    let class = if confidence < cc.low_below {
        MaskClass::FireLow
    } else if confidence < cc.high_from {
        MaskClass::FireNominal
    } else {
        MaskClass::FireHigh
    };
    let (background_t4_k, frp) = frp(k, stats, m);
    Outcome::Fire {
        test,
        class,
        confidence,
        frp_mw: frp,
        background_t4_k,
        side: stats.map_or(0, |s| s.side),
    }
}

/// The daytime false-alarm rejections of a tentative fire.
fn rejection(
    k: &Candidate,
    stats: Option<&WindowStats>,
    test: FireTest,
    m: &ModisModel,
) -> Option<Rejection> {
    let t4 = k.t4 as f64;
    // Glint (G03 sec. 2.2.7; the C6 angles): water in the window, or next to the pixel when
    // there is no window.
    let g = &m.glint;
    let water_near = stats.map_or(k.adjacent_water, |s| s.n_water + s.n_unmasked_water) > 0;
    let th = k.glint_deg;
    if th < g.always_deg
        || (th < g.bright_deg
            && k.r1 > g.bright_rho065
            && k.r2 > g.bright_rho086
            && k.r7 > g.bright_rho21)
        || (th < g.water_deg && water_near)
    {
        return Some(Rejection::Glint);
    }
    let s = stats?;
    if k.water {
        // The desert-boundary, coastal and forest-clearing tests are tests of land.
        return None;
    }
    // Desert boundary (G03 sec. 2.2.8).
    let d = &m.desert;
    if s.n_fire as f64 > d.fire_share * s.n_valid as f64
        && s.n_fire >= d.fire_count
        && k.r2 > d.rho086_min
        && s.mean4_fire < d.fire_t4_mean_max_k
        && s.mad4_fire < d.fire_t4_mad_max_k
        && t4 < s.mean4_fire + d.fire_t4_mads * s.mad4_fire
    {
        return Some(Rejection::DesertBoundary);
    }
    // Coastal (G03 sec. 2.2.9): contextual fires with unmasked water in the window.
    if test == FireTest::Contextual && s.n_unmasked_water > 0 {
        return Some(Rejection::Coastal);
    }
    // Forest clearing (G16 sec. 3.6.4).
    let f = &m.forest_clearing;
    if (k.t11 as f64) > s.mean11 + f.t11_mads * s.mad11 && k.r2 > f.rho086_min && k.t4 < f.t4_max_k
    {
        return Some(Rejection::ForestClearing);
    }
    None
}

/// Detection confidence, 0–1 (G03 sec. 2.3): the geometric mean of the ramps. Without a window
/// (an absolute fire in an unknown background) the two background ramps count as 1 (ours: the
/// absolute test needs no background).
pub fn confidence(k: &Candidate, stats: Option<&WindowStats>, day: bool, m: &ModisModel) -> f64 {
    let cc = &m.confidence;
    let t4 = k.t4 as f64;
    let c1 = ramp(
        t4,
        if day {
            cc.day_t4_ramp_k
        } else {
            cc.night_t4_ramp_k
        },
    );
    let (c2, c3) = stats.map_or((1.0, 1.0), |s| {
        (
            ramp(z(t4, s.mean4, s.mad4), cc.z4_ramp),
            ramp(z(t4 - k.t11 as f64, s.mean_dt, s.mad_dt), cc.zdt_ramp),
        )
    });
    if day {
        let c4 = 1.0 - ramp(k.adjacent_cloud as f64, cc.adjacent_ramp);
        let c5 = 1.0 - ramp(k.adjacent_water as f64, cc.adjacent_ramp);
        (c1 * c2 * c3 * c4 * c5).powf(1.0 / 5.0)
    } else {
        (c1 * c2 * c3).powf(1.0 / 3.0)
    }
}

/// (mean background T4, FRP in MW) by the model's method. Without a window the background T4 is
/// taken as T11 (ours: the thermal band sees the surface without the fire's 4 µm excess).
pub fn frp(k: &Candidate, stats: Option<&WindowStats>, m: &ModisModel) -> (f64, f64) {
    let wl = m.bands.t4_wavelength_um;
    let t4 = k.t4 as f64;
    let (bg_t4, bg_l4) = match stats {
        Some(s) => (s.mean4, s.mean_l4),
        None => (k.t11 as f64, planck_radiance(wl, k.t11 as f64)),
    };
    let mw = match m.frp.method {
        FrpMethod::Radiance => frp_mw(k.area_m2, m.frp.coefficient, planck_radiance(wl, t4), bg_l4),
        FrpMethod::Kaufman => {
            m.frp.kaufman_mw_per_km2_k8 * (t4.powi(8) - bg_t4.powi(8)) * k.area_m2 / 1e6
        }
    };
    (if stats.is_some() { bg_t4 } else { f64::NAN }, mw.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(t4: f32, t11: f32, day: bool) -> Candidate {
        Candidate {
            row: 0,
            col: 0,
            flags: flag::POTENTIAL | if day { flag::DAY } else { 0 },
            t4,
            t11,
            r1: 0.08,
            r2: 0.2,
            r7: 0.15,
            glint_deg: 40.0,
            adjacent_cloud: 0,
            adjacent_water: 0,
            area_m2: 1e6,
            water: false,
        }
    }

    fn stats() -> WindowStats {
        WindowStats {
            side: 5,
            n_valid: 20,
            mean4: 300.0,
            mad4: 1.0,
            mean11: 295.0,
            mad11: 1.0,
            mean_dt: 5.0,
            mad_dt: 1.0,
            mean_l4: planck_radiance(3.959, 300.0),
            ..Default::default()
        }
    }

    #[test]
    fn contextual_tests_and_confidence_follow_the_paper() {
        let m = ModisModel::builtin();
        let s = stats();
        // ΔT = 20 > 5 + 3.5 and > 5 + 6; T4 = 315 > 303; T11 = 295 > 295 + 1 − 4.
        let k = cand(315.0, 295.0, true);
        let Outcome::Fire {
            test,
            confidence,
            frp_mw,
            ..
        } = decide(&k, Some(&s), &m)
        else {
            panic!("fire")
        };
        assert_eq!(test, FireTest::Contextual);
        // C1 = 5/30, C2 = C3 = 1, C4 = C5 = 1: (1/6)^(1/5).
        assert!(
            (confidence - (1.0f64 / 6.0).powf(0.2)).abs() < 1e-9,
            "{confidence}"
        );
        assert!(frp_mw > 0.0);
        // ΔT = 10.5 fails test (2) (needs > 11).
        assert_eq!(
            decide(&cand(305.5, 295.0, true), Some(&s), &m),
            Outcome::NotFire
        );
        // By day test (4) or (5) is needed: T11 = 290 < 292, no background fires.
        let mut k = cand(315.0, 290.0, true);
        k.t11 = 290.0;
        let mut s2 = s;
        s2.mean_dt = 5.0;
        assert_eq!(decide(&k, Some(&s2), &m), Outcome::NotFire);
        // ... while at night tests (1)–(3) suffice.
        let k = cand(315.0, 290.0, false);
        assert!(matches!(decide(&k, Some(&s2), &m), Outcome::Fire { .. }));
        // No window: unknown, unless absolute.
        assert_eq!(
            decide(&cand(315.0, 295.0, true), None, &m),
            Outcome::Unknown
        );
        let mut k = cand(365.0, 300.0, true);
        k.flags |= flag::ABSOLUTE;
        let Outcome::Fire {
            test,
            background_t4_k,
            ..
        } = decide(&k, None, &m)
        else {
            panic!()
        };
        assert_eq!(test, FireTest::Absolute);
        assert!(background_t4_k.is_nan());
        assert_eq!(ramp(0.5, [0.0, 1.0]), 0.5);
        assert_eq!(ramp(f64::NAN, [0.0, 1.0]), 0.0);
    }

    #[test]
    fn rejections_by_day() {
        let m = ModisModel::builtin();
        let s = stats();
        // Glint: θg < 2°.
        let mut k = cand(315.0, 295.0, true);
        k.glint_deg = 1.0;
        assert_eq!(
            decide(&k, Some(&s), &m),
            Outcome::Rejected(Rejection::Glint)
        );
        // θg < 15° with water in the window.
        k.glint_deg = 12.0;
        let mut sw = s;
        sw.n_water = 1;
        assert_eq!(
            decide(&k, Some(&sw), &m),
            Outcome::Rejected(Rejection::Glint)
        );
        // ... not at night.
        let mut kn = k;
        kn.flags &= !flag::DAY;
        assert!(matches!(decide(&kn, Some(&sw), &m), Outcome::Fire { .. }));
        // Coastal: unmasked water in the window.
        let k = cand(315.0, 295.0, true);
        let mut su = s;
        su.n_unmasked_water = 2;
        assert_eq!(
            decide(&k, Some(&su), &m),
            Outcome::Rejected(Rejection::Coastal)
        );
        // Forest clearing: T11 > mean + 3.7 δ, ρ0.86 > 0.28, T4 < 325.
        let mut k = cand(318.0, 300.0, true);
        k.r2 = 0.29;
        assert_eq!(
            decide(&k, Some(&s), &m),
            Outcome::Rejected(Rejection::ForestClearing)
        );
        // Desert boundary: many quiet background fires.
        let mut sd = s;
        (sd.n_fire, sd.mean4_fire, sd.mad4_fire) = (5, 326.0, 1.0);
        let mut k = cand(315.0, 295.0, true);
        k.r2 = 0.2;
        assert_eq!(
            decide(&k, Some(&sd), &m),
            Outcome::Rejected(Rejection::DesertBoundary)
        );
    }

    #[test]
    fn radiance_frp_reproduces_the_worked_example() {
        // ALGORITHMS.md: 100 m² at 1000 K in 1 km², background 300 K: ≈ 5.6 MW true, the
        // MIR method within ±20 %.
        let m = ModisModel::builtin();
        let wl = m.bands.t4_wavelength_um;
        let lb = planck_radiance(wl, 300.0);
        let l = crate::physics::mixed_radiance(wl, 1e-4, 1000.0, lb);
        let t4 = crate::physics::brightness_temperature(wl, l) as f32;
        let k = cand(t4, 300.0, false);
        let (_, mw) = frp(&k, Some(&stats()), &m);
        assert!((mw - 5.62).abs() / 5.62 < 0.2, "{mw}");
        let mut mk = m.clone();
        mk.frp.method = FrpMethod::Kaufman;
        let (_, kw) = frp(&k, Some(&stats()), &mk);
        assert!(kw > 0.0 && (kw - mw).abs() / mw < 1.0, "{kw} {mw}");
    }
}
