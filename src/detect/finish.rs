//! The last stage, shared by the fast detector and the reference: confidence classes (which
//! need every fire pixel's neighbours), FRP, the fire list and the observation summary.

use ndarray::Array2;

use crate::model::SensorModel;
use crate::physics::{frp_mw, planck_radiance};

use super::context::{confidence, Decision};
use super::types::{Detection, FirePixel, MaskClass, ObservationSummary, PixelArea, ViirsInput};
use super::{px_at, DetectError};

/// Candidate outcomes in row-major order: (row, col, decision).
pub type Outcomes = Vec<(usize, usize, Decision)>;

/// Writes the outcomes into the mask, assigns confidence and FRP, and counts the classes.
pub fn finish(
    input: &ViirsInput,
    m: &SensorModel,
    area: &PixelArea,
    mut mask: Array2<u8>,
    outcomes: Outcomes,
    (day_pixels, night_pixels): (u64, u64),
) -> Result<Detection, DetectError> {
    for (r, c, d) in &outcomes {
        mask[[*r, *c]] = d.class as u8;
    }
    let (rows, cols) = mask.dim();
    let frp_band = &m.bands[&m.frp.band];
    let wl = frp_band.wavelength_um.unwrap_or(3.74);
    let mut fires = Vec::new();
    for (r, c, d) in outcomes {
        if !d.class.is_fire() {
            continue;
        }
        let p = px_at(input, r, c);
        let day = p.sza < m.night_sza_deg;
        let mut adjacent_fire = false;
        let mut neighbours = Vec::with_capacity(8);
        for nr in r.saturating_sub(1)..=(r + 1).min(rows - 1) {
            for nc in c.saturating_sub(1)..=(c + 1).min(cols - 1) {
                if (nr, nc) == (r, c) {
                    continue;
                }
                let class = MaskClass::from_u8(mask[[nr, nc]]);
                adjacent_fire |= class.is_fire();
                let bt4 = input.i4[[nr, nc]];
                if !matches!(
                    class,
                    MaskClass::Fill | MaskClass::NotProcessed | MaskClass::Cloud | MaskClass::Water
                ) && !bt4.is_nan()
                {
                    neighbours.push(bt4);
                }
            }
        }
        let conf = confidence(&p, day, d.class, d.glint_deg, adjacent_fire, &neighbours, m);
        let class = match conf {
            crate::hotspot::Confidence::Low => MaskClass::FireLow,
            crate::hotspot::Confidence::High => MaskClass::FireHigh,
            _ => MaskClass::FireNominal,
        };
        mask[[r, c]] = class as u8;
        // Background radiance: the window's mean BT4; without a window (a fixed-threshold fire
        // in cloud or at the edge) BT5 stands in for the background BT4.
        let bg_k = if d.background_bt4_k.is_nan() {
            p.bt5
        } else {
            d.background_bt4_k
        };
        let frp = frp_mw(
            area.at(r),
            m.frp.coefficient,
            planck_radiance(wl, p.bt4 as f64),
            planck_radiance(wl, bg_k as f64),
        )
        .max(0.0);
        fires.push(FirePixel {
            row: r,
            col: c,
            bt4_k: p.bt4,
            bt5_k: p.bt5,
            frp_mw: frp,
            confidence: conf,
            day,
            background_bt4_k: d.background_bt4_k,
        });
    }
    let summary = ObservationSummary::from_mask(&mask, day_pixels, night_pixels);
    Ok(Detection {
        mask,
        fires,
        summary,
    })
}
