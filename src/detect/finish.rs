//! The last stage, shared by the fast detector and the reference: confidence classes (which
//! need every fire pixel's neighbours), FRP, the fire list and the observation summary.

use ndarray::ArrayView2;

use crate::raster::BandBuf;

use crate::model::SensorModel;
use crate::physics::{frp_mw, planck_radiance};

use super::context::{confidence, Decision};
use super::pixel::Px;
use super::types::{Detection, FirePixel, MaskClass, ObservationSummary, PixelArea};

/// What the contextual stage decided for one candidate, with the candidate's values.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub r: usize,
    pub c: usize,
    pub p: Px,
    pub decision: Decision,
}

/// Candidate outcomes in row-major order. Candidates decided clear land may be left out: they
/// are clear land in the stage-1 mask and counts already (the fast detector leaves them out).
pub type Outcomes = Vec<Outcome>;

/// Writes the outcomes into the mask, assigns confidence and FRP, and counts the classes.
/// `classes` counts the stage-1 mask (every candidate as clear land); the outcomes move their
/// pixels to the class decided, so the summary needs no second pass over the mask.
pub fn finish(
    i4: ArrayView2<f32>,
    m: &SensorModel,
    area: &PixelArea,
    mut mask: BandBuf<u8>,
    outcomes: Outcomes,
    mut classes: [u64; 10],
    (day_pixels, night_pixels): (u64, u64),
) -> Detection {
    let mut classes_at = mask.view_mut();
    for o in &outcomes {
        classes_at[[o.r, o.c]] = o.decision.class as u8;
    }
    let (rows, cols) = classes_at.dim();
    let frp_band = &m.bands[&m.frp.band];
    let wl = frp_band.wavelength_um.unwrap_or(3.74);
    let mut fires = Vec::new();
    for Outcome {
        r,
        c,
        p,
        decision: d,
    } in outcomes
    {
        classes[MaskClass::Land as usize] -= 1;
        if !d.class.is_fire() {
            classes[d.class as usize] += 1;
            continue;
        }
        let day = p.sza < m.night_sza_deg;
        let mut adjacent_fire = false;
        let mut neighbours = Vec::with_capacity(8);
        for nr in r.saturating_sub(1)..=(r + 1).min(rows - 1) {
            for nc in c.saturating_sub(1)..=(c + 1).min(cols - 1) {
                if (nr, nc) == (r, c) {
                    continue;
                }
                let class = MaskClass::from_u8(classes_at[[nr, nc]]);
                adjacent_fire |= class.is_fire();
                let bt4 = i4[[nr, nc]];
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
        classes_at[[r, c]] = class as u8;
        classes[class as usize] += 1;
        // Background radiance: the window's mean BT4; without a window (a fixed-threshold fire
        // in cloud or at the edge) BT5 stands in for the background BT4.
        let bg_k = if d.background_bt4_k.is_nan() {
            p.bt5
        } else {
            d.background_bt4_k
        };
        let frp = frp_mw(
            area.at(r, c),
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
    let summary = ObservationSummary::from_counts(classes, day_pixels, night_pixels);
    Detection {
        mask,
        fires,
        summary,
    }
}
