//! Contextual statistics and the decisions made from them (Schroeder et al. 2014, sec. 2.4–2.6):
//! the background of a candidate, the day and night contextual tests, desert-boundary and glint
//! rejection, and the confidence classes.
//!
//! How the background window is *found* differs between the fast detector and the reference
//! (incremental rings vs. recounting each window); what is computed from it is shared here, in
//! the row-major order both use, so the two agree bit for bit.

use crate::hotspot::Confidence;
use crate::model::SensorModel;

use super::pixel::{is_glint, Px};
use super::types::MaskClass;

/// Statistics of the background window of one candidate. δ = mean absolute deviation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Background {
    /// Side of the window used, pixels.
    pub window: usize,
    pub n_valid: usize,
    pub n_bg_fire: usize,
    pub mean4: f32,
    pub mad4: f32,
    pub mean5: f32,
    pub mad5: f32,
    pub mean_dt: f32,
    pub mad_dt: f32,
    /// BT4′ and δ4′: mean and δ of BT4 over the background fires in the window (NaN when none).
    pub mean4_fire: f32,
    pub mad4_fire: f32,
}

/// Collects background values in row-major order and reduces them to a [`Background`].
#[derive(Debug, Default)]
pub struct WindowAcc {
    bt4: Vec<f32>,
    bt5: Vec<f32>,
    fire4: Vec<f32>,
}

impl WindowAcc {
    pub fn clear(&mut self) {
        self.bt4.clear();
        self.bt5.clear();
        self.fire4.clear();
    }
    /// A valid background pixel.
    pub fn push_valid(&mut self, bt4: f32, bt5: f32) {
        self.bt4.push(bt4);
        self.bt5.push(bt5);
    }
    /// A background fire in the window.
    pub fn push_fire(&mut self, bt4: f32) {
        self.fire4.push(bt4);
    }
    pub fn finish(&self, window: usize) -> Background {
        let (mean4, mad4) = mean_mad(&self.bt4);
        let (mean5, mad5) = mean_mad(&self.bt5);
        let (mean_dt, mad_dt) = mean_mad_of(|| self.bt4.iter().zip(&self.bt5).map(|(a, b)| a - b));
        let (mean4_fire, mad4_fire) = mean_mad(&self.fire4);
        Background {
            window,
            n_valid: self.bt4.len(),
            n_bg_fire: self.fire4.len(),
            mean4,
            mad4,
            mean5,
            mad5,
            mean_dt,
            mad_dt,
            mean4_fire,
            mad4_fire,
        }
    }
}

/// Mean and mean absolute deviation, accumulated in f64 in slice order; NaN for an empty slice.
pub fn mean_mad(v: &[f32]) -> (f32, f32) {
    mean_mad_of(|| v.iter().copied())
}

/// [`mean_mad`] of the values an iterator yields (called twice: mean, then deviation), so
/// derived values such as ΔT45 need no buffer.
pub fn mean_mad_of<I: Iterator<Item = f32>>(values: impl Fn() -> I) -> (f32, f32) {
    let (mut n, mut sum) = (0usize, 0f64);
    for x in values() {
        n += 1;
        sum += x as f64;
    }
    if n == 0 {
        return (f32::NAN, f32::NAN);
    }
    let mean = sum / n as f64;
    let mad = values().map(|x| (x as f64 - mean).abs()).sum::<f64>() / n as f64;
    (mean as f32, mad as f32)
}

/// True when a window of `total` in-image pixels (core excluded) with `valid` valid background
/// pixels is enough: ≥ min_valid_fraction of its pixels or ≥ min_valid_count pixels (sec. 2.4).
pub fn window_is_enough(valid: usize, total: usize, m: &SensorModel) -> bool {
    let c = &m.context;
    valid >= c.min_valid_count || (total > 0 && valid as f32 >= c.min_valid_fraction * total as f32)
}

/// True when the day or night contextual test cannot pass whatever the deviations: ΔT45 must
/// exceed the window's mean ΔT45 by the offset, and BT4 must exceed the mean BT4 (the δ terms
/// only raise the bounds when their multipliers are ≥ 0). [`decide`] would then say clear land.
/// The fast detector asks this first, from window sums alone, and collects the window for the
/// deviations only for the candidates that remain: on a warm afternoon most of ~700 k
/// candidates stop here.
pub fn fails_on_means(p: &Px, day: bool, mean4: f32, mean_dt: f32, m: &SensorModel) -> bool {
    let c = &m.context;
    let (offset, bt4_mad) = if day {
        (c.day_dt_offset_k, c.day_bt4_mad)
    } else {
        (c.night_dt_offset_k, c.night_bt4_mad)
    };
    let dt_ok = p.dt45() > mean_dt + offset;
    let bt4_ok = bt4_mad < 0.0 || p.bt4 > mean4;
    !(dt_ok && bt4_ok)
}

/// What the contextual stage decided for one candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub class: MaskClass,
    /// Mean background BT4 used for FRP (NaN when no background was found).
    pub background_bt4_k: f32,
    /// Glint angle, degrees (NaN without geometry).
    pub glint_deg: f32,
}

/// Decides a candidate from its values, its background (None: too few valid pixels even at
/// the largest window) and its glint angle.
pub fn decide(
    p: &Px,
    day: bool,
    fixed: bool,
    bg: Option<&Background>,
    glint_deg: f32,
    m: &SensorModel,
) -> Decision {
    let background_bt4_k = bg.map_or(f32::NAN, |b| b.mean4);
    let out = |class| Decision {
        class,
        background_bt4_k,
        glint_deg,
    };
    if fixed {
        return out(MaskClass::FireHigh);
    }
    let Some(b) = bg else {
        return out(MaskClass::Unknown);
    };
    let c = &m.context;
    let dt = p.dt45();
    let fire = if day {
        dt > b.mean_dt + c.day_dt_mad * b.mad_dt
            && dt > b.mean_dt + c.day_dt_offset_k
            && p.bt4 > b.mean4 + c.day_bt4_mad * b.mad4
            && (p.bt5 > b.mean5 + b.mad5 - c.day_bt5_offset_k || b.mad4_fire > c.day_bg_fire_mad_k)
    } else {
        dt > b.mean_dt + c.night_dt_mad * b.mad_dt
            && dt > b.mean_dt + c.night_dt_offset_k
            && p.bt4 > b.mean4 + c.night_bt4_mad * b.mad4
    };
    if !fire {
        return out(MaskClass::Land);
    }
    if day && desert_boundary(p, b, m) {
        return out(MaskClass::Land);
    }
    if day && !glint_deg.is_nan() && is_glint(glint_deg, p.vis(), m) {
        return out(MaskClass::Glint);
    }
    out(MaskClass::FireNominal)
}

/// Sec. 2.5, desert boundary (day): with background fires > 10 % of the valid pixels and > 4,
/// reject if ρ2 > 0.15, BT4′ < 345, δ4′ < 3 and BT4 < BT4′ + 6δ4′.
pub fn desert_boundary(p: &Px, b: &Background, m: &SensorModel) -> bool {
    let d = &m.desert;
    let many = b.n_bg_fire as f32 > d.min_fraction * b.n_valid as f32 && b.n_bg_fire > d.min_count;
    many && p.r2 > d.rho2_min
        && b.mean4_fire < d.bt4_bg_k
        && b.mad4_fire < d.mad_k
        && p.bt4 < b.mean4_fire + d.bt4_mad * b.mad4_fire
}

/// Sec. 2.6, confidence of a fire pixel. Fixed-threshold fires are high; a day contextual fire
/// with ΔT45 < 30 or glint angle < 15° that has no fire among its 8 neighbours and whose BT4 is
/// less than 15 K above its warmest valid neighbour is low; the rest nominal.
/// `neighbours_bt4` holds the BT4 of the valid 3×3 neighbours (clear land: not fill, cloud or
/// water), `adjacent_fire` whether one of the 8 neighbours is a fire pixel.
pub fn confidence(
    p: &Px,
    day: bool,
    class: MaskClass,
    glint_deg: f32,
    adjacent_fire: bool,
    neighbours_bt4: &[f32],
    m: &SensorModel,
) -> Confidence {
    if class == MaskClass::FireHigh {
        return Confidence::High;
    }
    let c = &m.confidence;
    let weak = p.dt45() < c.low_dt45_k || glint_deg < c.low_glint_deg;
    let warmest = neighbours_bt4.iter().copied().fold(f32::NAN, f32::max);
    let small_anomaly = warmest.is_nan() || p.bt4 - warmest < c.low_neighbour_k;
    if day && weak && !adjacent_fire && small_anomaly {
        Confidence::Low
    } else {
        Confidence::Nominal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_mad_is_the_mean_absolute_deviation() {
        let (m, d) = mean_mad(&[1.0, 2.0, 3.0, 6.0]);
        assert_eq!(m, 3.0);
        assert_eq!(d, 1.5);
        assert!(mean_mad(&[]).0.is_nan());
    }

    #[test]
    fn night_contextual_test() {
        let m = SensorModel::builtin("viirs-i").unwrap();
        let mut acc = WindowAcc::default();
        for i in 0..50 {
            let t = 288.0 + (i % 5) as f32 * 0.2;
            acc.push_valid(t, t - 1.0);
        }
        let b = acc.finish(11);
        let px = |bt4| Px {
            r1: f32::NAN,
            r2: f32::NAN,
            r3: f32::NAN,
            bt4,
            bt5: 287.5,
            sza: 120.0,
        };
        // ΔT45 must exceed mean ΔT (≈1.4 K) + 9 K and BT4 must exceed mean + 3δ.
        assert_eq!(
            decide(&px(298.5), false, false, Some(&b), f32::NAN, &m).class,
            MaskClass::FireNominal
        );
        assert_eq!(
            decide(&px(297.0), false, false, Some(&b), f32::NAN, &m).class,
            MaskClass::Land
        );
        assert_eq!(
            decide(&px(298.5), false, false, None, f32::NAN, &m).class,
            MaskClass::Unknown
        );
    }
}
