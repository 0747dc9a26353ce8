//! The per-pixel tests of the MODIS algorithm (Giglio et al. 2003 sec. 2.2.1–2.2.5, with the C6
//! cloud mask), as pure functions of one pixel's values: what the fast detector and the
//! reference share. Section numbers refer to `models/modis-c61.toml`'s sources.

use crate::detect::MaskClass;
use crate::model::modis::ModisModel;

/// Bits of the per-pixel state the later stages read.
pub mod flag {
    /// Valid background: clear land, not a background fire, every band present.
    pub const VALID: u8 = 1;
    /// A background fire (excluded from the valid background, counted for tests (5) and the
    /// desert boundary).
    pub const BG_FIRE: u8 = 2;
    /// "Unmasked water" by day: land in the mask but dark and with NDVI < 0 (coastal test).
    pub const UNMASKED_WATER: u8 = 4;
    /// A potential fire pixel, waiting for its window.
    pub const POTENTIAL: u8 = 8;
    /// A potential fire above the absolute threshold.
    pub const ABSOLUTE: u8 = 16;
    /// Processed as day (SZA below the model's limit).
    pub const DAY: u8 = 32;
    /// T4 was taken from band 21 (band 22 saturated).
    pub const B21: u8 = 64;
    /// Night, clear land, ΔT above the night test, T4 between the model's dynamic floor and its
    /// fixed night threshold: a potential fire if T4 exceeds its window's dynamic threshold
    /// ([`super::night_t4_threshold`]), decided once every pixel's T4 is known.
    pub const NIGHT_LOW: u8 = 128;
}

/// One pixel's inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Px {
    /// ρ0.65, ρ0.86, ρ2.1 (bands 1, 2, 7).
    pub r1: f32,
    pub r2: f32,
    pub r7: f32,
    pub t21: f32,
    pub t22: f32,
    pub t31: f32,
    pub t32: f32,
    pub sza: f32,
    /// The land/sea mask says water (false when the product has no mask).
    pub water: bool,
    /// The product has a land/sea mask. Without one (a MOD021KM read without its MOD03), water
    /// is found by day by the spectral test of the coastal rejection instead (ours: MOD14 always
    /// has the mask).
    pub has_mask: bool,
}

/// What the per-pixel stage decides for one pixel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage1 {
    /// Not processed (missing input), water, cloud or clear land; a fire's class comes later.
    pub class: MaskClass,
    /// [`flag`] bits.
    pub flags: u8,
    /// T4, K: band 22, or band 21 where 22 is saturated (NaN when missing).
    pub t4: f32,
}

/// The band-22 value from which a pixel counts as saturated: the model's, or the product's own
/// largest value when that is lower.
#[inline]
pub fn b22_saturation(product: Option<f32>, m: &ModisModel) -> f32 {
    product.map_or(m.bands.b22_saturation_k, |s| {
        s.min(m.bands.b22_saturation_k)
    })
}

/// Classifies one pixel; `b22_sat` from [`b22_saturation`].
#[inline]
pub fn classify(p: &Px, b22_sat: f32, m: &ModisModel) -> Stage1 {
    let missing = Stage1 {
        class: MaskClass::NotProcessed,
        flags: 0,
        t4: f32::NAN,
    };
    // G03 sec. 2.2.1: T4 from band 22 unless it is saturated (or missing), then band 21.
    let use21 = p.t22.is_nan() || p.t22 >= b22_sat;
    let t4 = if use21 { p.t21 } else { p.t22 };
    if t4.is_nan() || p.t31.is_nan() || p.t32.is_nan() || p.sza.is_nan() {
        return missing;
    }
    let day = p.sza < m.day_max_sza_deg;
    if day && (p.r1.is_nan() || p.r2.is_nan() || p.r7.is_nan()) {
        return missing;
    }
    let mut flags = if day { flag::DAY } else { 0 };
    if use21 {
        flags |= flag::B21;
    }
    let dt = t4 - p.t31;
    // G03 sec. 2.2.2 with the C6 bright-cloud threshold (G16 sec. 3.2).
    let c = &m.cloud;
    let vis = p.r1 + p.r2;
    let cloud = if day {
        vis > c.day_vis_sum_bright
            || p.t32 < c.day_t12_cold_k
            || (vis > c.day_vis_sum && p.t32 < c.day_t12_k)
    } else {
        p.t32 < c.night_t12_cold_k
    };
    let co = &m.coastal;
    let dark_water = |p: &Px| {
        let ndvi = (p.r2 - p.r1) / (p.r2 + p.r1);
        day && p.r7 < co.rho21_max && p.r2 < co.rho086_max && ndvi < co.ndvi_max
    };
    let class = if cloud {
        MaskClass::Cloud
    } else if p.water || (!p.has_mask && dark_water(p)) {
        MaskClass::Water
    } else {
        MaskClass::Land
    };
    // C6 (G16): clear water goes through the fire tests too, against a water background.
    let water = class == MaskClass::Water;
    if class == MaskClass::Cloud || (water && !m.water.process) {
        return Stage1 { class, flags, t4 };
    }
    // G03 sec. 2.2.3: potential fires; sec. 2.2.4: absolute; sec. 2.2.5: background fires.
    let (pt, b) = (&m.potential, &m.background);
    let potential = if day {
        t4 > pt.day_t4_k && dt > pt.day_dt_k && p.r2 < pt.day_rho086_max
    } else {
        t4 > pt.night_t4_k && dt > pt.night_dt_k
    };
    let bg_fire = potential
        && if day {
            t4 > b.fire_day_t4_k && dt > b.fire_day_dt_k
        } else {
            t4 > b.fire_night_t4_k && dt > b.fire_night_dt_k
        };
    if potential {
        flags |= flag::POTENTIAL;
        let abs = if day {
            m.absolute.day_t4_k
        } else {
            m.absolute.night_t4_k
        };
        if t4 > abs {
            flags |= flag::ABSOLUTE;
        }
    }
    if bg_fire {
        flags |= flag::BG_FIRE;
    } else {
        flags |= flag::VALID;
    }
    // C6 dynamic night threshold: between its floor and the fixed threshold, the window decides.
    if !day
        && !water
        && pt.night_dynamic
        && !potential
        && t4 > pt.night_dynamic_min_k
        && t4 <= pt.night_t4_k
        && dt > pt.night_dt_k
    {
        flags |= flag::NIGHT_LOW;
    }
    // G03 sec. 2.2.9: unmasked water, by day (a land pixel that looks like water).
    if !water && dark_water(p) {
        flags |= flag::UNMASKED_WATER;
    }
    Stage1 { class, flags, t4 }
}

/// The C6 dynamic night threshold of pixel (r, c): the median T4 of the clear land pixels
/// (stage-1 class 5) of the `night_dynamic_rows` × `night_dynamic_cols` window centred on it
/// (clipped to the granule), plus `night_dynamic_excess_k`, kept within
/// [`night_dynamic_min_k`, `night_t4_k`]; the fixed `night_t4_k` when the window has no clear
/// land. `class` and `t4` are the stage-1 planes, row-major `rows × cols`. The median of an even
/// count is its upper middle value (the fast detector and the reference share this function).
pub fn night_t4_threshold(
    class: &[u8],
    t4: &[f32],
    (rows, cols): (usize, usize),
    (r, c): (usize, usize),
    m: &ModisModel,
) -> f32 {
    let p = &m.potential;
    let (hr, hc) = (p.night_dynamic_rows / 2, p.night_dynamic_cols / 2);
    let rr = r.saturating_sub(hr)..(r + p.night_dynamic_rows - hr).min(rows);
    let cc = c.saturating_sub(hc)..(c + p.night_dynamic_cols - hc).min(cols);
    let mut v: Vec<f32> = Vec::with_capacity(rr.len() * cc.len());
    for i in rr {
        let row = i * cols;
        for j in cc.clone() {
            if class[row + j] == MaskClass::Land as u8 {
                v.push(t4[row + j]);
            }
        }
    }
    if v.is_empty() {
        return p.night_t4_k;
    }
    let mid = v.len() / 2;
    let (_, median, _) = v.select_nth_unstable_by(mid, f32::total_cmp);
    (*median + p.night_dynamic_excess_k).clamp(p.night_dynamic_min_k, p.night_t4_k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m() -> ModisModel {
        ModisModel::builtin()
    }

    fn day(t22: f32, t31: f32) -> Px {
        Px {
            r1: 0.08,
            r2: 0.2,
            r7: 0.15,
            t21: t22,
            t22,
            t31,
            t32: t31 - 1.0,
            sza: 30.0,
            water: false,
            has_mask: true,
        }
    }

    #[test]
    fn masks_and_thresholds_at_their_edges() {
        let m = m();
        let sat = b22_saturation(None, &m);
        // Clear land, no fire.
        let s = classify(&day(305.0, 300.0), sat, &m);
        assert_eq!(s.class, MaskClass::Land);
        assert_eq!(s.flags, flag::DAY | flag::VALID);
        // Potential by day: T4 > 310, dT > 10, ρ0.86 < 0.3.
        let s = classify(&day(315.0, 300.0), sat, &m);
        assert!(s.flags & flag::POTENTIAL != 0 && s.flags & flag::VALID != 0);
        let mut p = day(315.0, 300.0);
        p.r2 = 0.3;
        assert_eq!(classify(&p, sat, &m).flags & flag::POTENTIAL, 0);
        // Background fire (T4 > 325, dT > 20) is not valid background.
        let s = classify(&day(328.0, 300.0), sat, &m);
        assert_eq!(s.flags & (flag::BG_FIRE | flag::VALID), flag::BG_FIRE);
        // Band 22 saturated at 331 K: T4 from band 21, absolute above 360 K.
        let mut p = day(331.0, 300.0);
        p.t21 = 365.0;
        let s = classify(&p, sat, &m);
        assert_eq!(s.t4, 365.0);
        assert!(s.flags & flag::B21 != 0 && s.flags & flag::ABSOLUTE != 0);
        // A product whose B22 tops out lower saturates there.
        let mut p = day(329.0, 300.0);
        p.t21 = 340.0;
        assert_eq!(classify(&p, b22_saturation(Some(329.0), &m), &m).t4, 340.0);
        // C6 cloud: ρ sum > 1.2, or T12 < 265, or ρ sum > 0.7 and T12 < 285.
        let mut p = day(300.0, 290.0);
        p.r1 = 0.5;
        p.r2 = 0.5;
        assert_eq!(classify(&p, sat, &m).class, MaskClass::Land);
        p.r1 = 0.65;
        p.r2 = 0.6;
        assert_eq!(classify(&p, sat, &m).class, MaskClass::Cloud);
        let mut p = day(290.0, 282.0);
        p.r1 = 0.4;
        p.r2 = 0.4;
        assert_eq!(classify(&p, sat, &m).class, MaskClass::Cloud);
        // Night: T12 < 265 only; reflectances may be missing.
        let mut p = day(300.0, 280.0);
        p.sza = 120.0;
        p.r1 = f32::NAN;
        assert_eq!(classify(&p, sat, &m).class, MaskClass::Land);
        p.t32 = 260.0;
        assert_eq!(classify(&p, sat, &m).class, MaskClass::Cloud);
        // Night potential: T4 > 305 and dT > 10; absolute > 320.
        let mut p = day(321.0, 290.0);
        p.sza = 120.0;
        let s = classify(&p, sat, &m);
        assert_eq!(
            s.flags & (flag::POTENTIAL | flag::ABSOLUTE | flag::BG_FIRE | flag::DAY),
            flag::POTENTIAL | flag::ABSOLUTE | flag::BG_FIRE
        );
        // Water from the land/sea mask; missing bands.
        let mut p = day(300.0, 295.0);
        p.water = true;
        assert_eq!(classify(&p, sat, &m).class, MaskClass::Water);
        let mut p = day(300.0, 295.0);
        p.t31 = f32::NAN;
        assert_eq!(classify(&p, sat, &m).class, MaskClass::NotProcessed);
        let mut p = day(300.0, 295.0);
        p.r7 = f32::NAN;
        assert_eq!(classify(&p, sat, &m).class, MaskClass::NotProcessed);
        // Unmasked water: dark, NDVI < 0.
        let mut p = day(300.0, 295.0);
        (p.r1, p.r2, p.r7) = (0.06, 0.04, 0.01);
        assert!(classify(&p, sat, &m).flags & flag::UNMASKED_WATER != 0);
        // ... which is water when the product has no land/sea mask.
        p.has_mask = false;
        assert_eq!(classify(&p, sat, &m).class, MaskClass::Water);
    }

    /// Every threshold of the per-pixel stage exactly at its value and 0.01 beyond it: the
    /// papers' tests are strict (`>`, `<`), so the value itself never triggers. The values are
    /// ALGORITHMS.md's "MODIS 1 km" (G03 sec. 2.2, G16 C6 changes), which the model files carry
    /// (`the_model_files_carry_the_published_c6_values` in `model::modis`).
    #[test]
    fn every_threshold_at_its_value_and_just_beyond() {
        let m = m();
        let sat = b22_saturation(None, &m);
        let flags = |p: &Px| classify(p, sat, &m).flags;
        let class = |p: &Px| classify(p, sat, &m).class;
        let night = |t22: f32, t31: f32| Px {
            sza: 120.0,
            r1: f32::NAN,
            r2: f32::NAN,
            r7: f32::NAN,
            ..day(t22, t31)
        };
        let has = |f: u8, bit: u8| f & bit != 0;
        // Day and night: solar zenith 85° is night (the day is SZA < 85°, G16 sec. 3.2).
        let mut p = day(300.0, 295.0);
        p.sza = 85.0;
        assert!(!has(flags(&p), flag::DAY));
        p.sza = 84.99;
        assert!(has(flags(&p), flag::DAY));
        // Band 22 up to 331 K is used; at 331 K band 21 takes over (G03 sec. 2.2.1).
        let mut p = day(330.99, 300.0);
        p.t21 = 333.0;
        assert!(!has(flags(&p), flag::B21));
        p.t22 = 331.0;
        assert!(has(flags(&p), flag::B21));
        // Day potential: T4 > 310 K, ΔT > 10 K, ρ0.86 < 0.3.
        assert!(!has(flags(&day(310.0, 295.0)), flag::POTENTIAL));
        assert!(has(flags(&day(310.01, 295.0)), flag::POTENTIAL));
        assert!(!has(flags(&day(320.0, 310.0)), flag::POTENTIAL));
        assert!(has(flags(&day(320.0, 309.99)), flag::POTENTIAL));
        let mut p = day(320.0, 300.0);
        p.r2 = 0.3;
        assert!(!has(flags(&p), flag::POTENTIAL));
        p.r2 = 0.299;
        assert!(has(flags(&p), flag::POTENTIAL));
        // Day background fire: T4 > 325 K and ΔT > 20 K.
        assert!(!has(flags(&day(325.0, 300.0)), flag::BG_FIRE));
        assert!(has(flags(&day(325.01, 300.0)), flag::BG_FIRE));
        assert!(!has(flags(&day(330.0, 310.0)), flag::BG_FIRE));
        assert!(has(flags(&day(330.0, 309.99)), flag::BG_FIRE));
        // Day absolute: T4 > 360 K (band 21, band 22 saturated).
        let mut p = day(331.0, 300.0);
        p.t21 = 360.0;
        assert!(!has(flags(&p), flag::ABSOLUTE));
        p.t21 = 360.01;
        assert!(has(flags(&p), flag::ABSOLUTE));
        // Night potential: T4 > 305 K and ΔT > 10 K; at 305 K exactly the C6 dynamic threshold
        // decides (NIGHT_LOW), down to its floor 300 K exclusive.
        let f = flags(&night(305.0, 290.0));
        assert!(!has(f, flag::POTENTIAL) && has(f, flag::NIGHT_LOW));
        assert!(has(flags(&night(305.01, 290.0)), flag::POTENTIAL));
        assert!(!has(flags(&night(300.0, 285.0)), flag::NIGHT_LOW));
        assert!(has(flags(&night(300.01, 285.0)), flag::NIGHT_LOW));
        let f = flags(&night(308.0, 298.0));
        assert!(!has(f, flag::POTENTIAL) && !has(f, flag::NIGHT_LOW));
        assert!(has(flags(&night(308.0, 297.99)), flag::POTENTIAL));
        // Night background fire: T4 > 310 K and ΔT > 10 K; absolute: T4 > 320 K.
        assert!(!has(flags(&night(310.0, 295.0)), flag::BG_FIRE));
        assert!(has(flags(&night(310.01, 295.0)), flag::BG_FIRE));
        assert!(!has(flags(&night(320.0, 300.0)), flag::ABSOLUTE));
        assert!(has(flags(&night(320.01, 300.0)), flag::ABSOLUTE));
        // Cloud by day (G03 sec. 2.2.2, C6's 1.2): ρ0.65 + ρ0.86 > 1.2, or T12 < 265 K, or
        // ρ sum > 0.7 and T12 < 285 K; by night T12 < 265 K.
        let mut p = day(300.0, 290.0);
        (p.r1, p.r2) = (0.5, 0.69);
        assert_eq!(class(&p), MaskClass::Land);
        (p.r1, p.r2) = (0.5, 0.71);
        assert_eq!(class(&p), MaskClass::Cloud);
        let mut p = day(300.0, 290.0);
        p.t32 = 265.0;
        assert_eq!(class(&p), MaskClass::Land);
        p.t32 = 264.99;
        assert_eq!(class(&p), MaskClass::Cloud);
        let mut p = day(300.0, 290.0);
        (p.r1, p.r2, p.t32) = (0.35, 0.375, 285.0);
        assert_eq!(class(&p), MaskClass::Land);
        p.t32 = 284.99;
        assert_eq!(class(&p), MaskClass::Cloud);
        (p.r1, p.r2, p.t32) = (0.3, 0.39, 284.0);
        assert_eq!(class(&p), MaskClass::Land, "ρ sum 0.69 ≤ 0.7");
        let mut p = night(295.0, 280.0);
        p.t32 = 265.0;
        assert_eq!(class(&p), MaskClass::Land);
        p.t32 = 264.99;
        assert_eq!(class(&p), MaskClass::Cloud);
    }

    #[test]
    fn the_c6_night_threshold_follows_the_window_s_median_within_its_bounds() {
        let m = m();
        let sat = b22_saturation(None, &m);
        // Night, ΔT 12 K, T4 302 K: below the fixed 305 K, above the dynamic floor of 300 K.
        let mut p = day(302.0, 290.0);
        p.sza = 120.0;
        let s = classify(&p, sat, &m);
        assert_eq!(
            s.flags & (flag::POTENTIAL | flag::NIGHT_LOW),
            flag::NIGHT_LOW
        );
        // 299 K is below the floor; 306 K is potential by the fixed threshold.
        p.t22 = 299.0;
        assert_eq!(classify(&p, sat, &m).flags & flag::NIGHT_LOW, 0);
        p.t22 = 306.0;
        assert!(classify(&p, sat, &m).flags & flag::POTENTIAL != 0);
        // Off: never NIGHT_LOW.
        let mut off = m.clone();
        off.potential.night_dynamic = false;
        p.t22 = 302.0;
        assert_eq!(classify(&p, sat, &off).flags & flag::NIGHT_LOW, 0);
        // The threshold: median of the clear land in the window + 10 K, within [300, 305].
        let (rows, cols) = (40, 400);
        let land = MaskClass::Land as u8;
        let mut class = vec![land; rows * cols];
        let at = |t: f32| {
            let t4 = vec![t; rows * cols];
            night_t4_threshold(&class, &t4, (rows, cols), (20, 200), &m)
        };
        assert_eq!(at(270.0), 300.0); // cold scene: the floor
        assert_eq!(at(293.0), 303.0);
        assert_eq!(at(300.0), 305.0); // warm scene: the C5 value
                                      // Only clear land counts; outside the 30 × 301 window nothing counts.
        let mut t4 = vec![293.0f32; rows * cols];
        for r in 0..rows {
            for c in 0..cols {
                if c.abs_diff(200) > 150 {
                    t4[r * cols + c] = 250.0;
                }
                if c < 200 && c.abs_diff(200) <= 150 {
                    class[r * cols + c] = MaskClass::Cloud as u8;
                    t4[r * cols + c] = 250.0;
                }
            }
        }
        assert_eq!(
            night_t4_threshold(&class, &t4, (rows, cols), (20, 200), &m),
            303.0
        );
        // No clear land at all: the fixed threshold.
        let cloud = vec![MaskClass::Cloud as u8; rows * cols];
        assert_eq!(
            night_t4_threshold(&cloud, &t4, (rows, cols), (20, 200), &m),
            305.0
        );
    }

    #[test]
    fn c6_processes_clear_water_for_fires_and_c5_does_not() {
        let m = m();
        let sat = b22_saturation(None, &m);
        let mut p = day(330.0, 295.0);
        p.sza = 120.0;
        p.water = true;
        let s = classify(&p, sat, &m);
        assert_eq!(s.class, MaskClass::Water);
        assert!(s.flags & flag::POTENTIAL != 0, "{:b}", s.flags);
        // Cool water is valid background (for water candidates), never unmasked water.
        p.t22 = 290.0;
        let s = classify(&p, sat, &m);
        assert_eq!(s.flags & (flag::VALID | flag::UNMASKED_WATER), flag::VALID);
        let mut c5 = m.clone();
        c5.water.process = false;
        p.t22 = 330.0;
        assert_eq!(
            classify(&p, sat, &c5).flags & (flag::POTENTIAL | flag::VALID),
            0
        );
    }
}
