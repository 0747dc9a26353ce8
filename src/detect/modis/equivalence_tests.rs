//! The fast MODIS detector equals the sequential reference on seeded random granules: land of
//! varied temperature, hot pixels of every strength (background fires, absolute fires, band 22
//! saturated), clouds, masked and unmasked water, missing data, day, night and mixed, glint
//! geometry or none, windows clipped by the granule's edges.

use ndarray::Array2;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{detect_modis, detect_modis_reference, FireTest, ModisInput};
use crate::detect::PixelArea;
use crate::model::modis::ModisModel;

struct Granule {
    bands: Vec<Array2<f32>>,
    geometry: [Array2<f32>; 3],
    water: Array2<u8>,
}

fn granule(seed: u64, rows: usize, cols: usize, hot: f64, sza: [f32; 2]) -> Granule {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut bands: Vec<Array2<f32>> = (0..8).map(|_| Array2::zeros((rows, cols))).collect();
    let mut geometry: [Array2<f32>; 3] = std::array::from_fn(|_| Array2::zeros((rows, cols)));
    let mut water = Array2::zeros((rows, cols));
    for r in 0..rows {
        for c in 0..cols {
            let kind = rng.gen_range(0..12);
            let t = rng.gen_range(288.0..312.0f32);
            // r1, r2, r7, t21, t22, t31, t32, sza
            let mut p = [
                0.08,
                0.22,
                0.15,
                t,
                t,
                t - rng.gen_range(0.0..8.0),
                0.0,
                0.0,
            ];
            match kind {
                0 => {
                    // Cloud: bright or cold.
                    p[0] = 0.6;
                    p[1] = 0.62;
                    p[5] = rng.gen_range(240.0..280.0);
                }
                1 => {
                    // Water in the mask, or dark unmasked water.
                    p[0] = 0.06;
                    p[1] = 0.04;
                    p[2] = 0.01;
                    water[[r, c]] = rng.gen_bool(0.5) as u8;
                }
                2 => {
                    // Bright soil / roof, warm at 4 µm.
                    p[0] = 0.25;
                    p[1] = 0.31;
                    p[2] = 0.3;
                    p[3] += 12.0;
                    p[4] += 12.0;
                }
                _ => {}
            }
            if rng.gen_bool(hot) {
                let d = rng.gen_range(0.0..80.0f32);
                p[3] += d;
                p[4] += d;
                if rng.gen_bool(0.2) {
                    p[4] = 331.0; // band 22 saturated
                    p[3] = rng.gen_range(331.0..420.0);
                }
            }
            p[6] = p[5] - rng.gen_range(0.0..2.0);
            p[7] = if rng.gen_bool(0.5) { sza[0] } else { sza[1] };
            if rng.gen_bool(0.02) {
                let b = rng.gen_range(0..8);
                p[b] = f32::NAN;
            }
            for (b, v) in bands.iter_mut().zip(p) {
                b[[r, c]] = v;
            }
            geometry[0][[r, c]] = rng.gen_range(0.0..60.0);
            geometry[1][[r, c]] = rng.gen_range(0.0..360.0);
            geometry[2][[r, c]] = if rng.gen_bool(0.3) {
                // Near the specular direction: small glint angles.
                (geometry[1][[r, c]] + 180.0) % 360.0
            } else {
                rng.gen_range(0.0..360.0)
            };
            if rng.gen_bool(0.3) {
                geometry[0][[r, c]] = p[7];
            }
        }
    }
    Granule {
        bands,
        geometry,
        water,
    }
}

fn input<'a>(g: &'a Granule, glint: bool, mask: bool) -> ModisInput<'a> {
    let v = |i: usize| g.bands[i].view();
    ModisInput {
        b1: v(0),
        b2: v(1),
        b7: v(2),
        b21: v(3),
        b22: v(4),
        b31: v(5),
        b32: v(6),
        sza: v(7),
        geometry: glint.then(|| std::array::from_fn(|i| g.geometry[i].view())),
        water: mask.then(|| g.water.view()),
        b22_saturation: None,
    }
}

fn check(g: &Granule, glint: bool, mask: bool, m: &ModisModel) {
    let i = input(g, glint, mask);
    let area = PixelArea::PerColumn(
        (0..i.dim().1)
            .map(|c| crate::product::modis_swath::pixel_area_m2(c % 1354))
            .collect(),
    );
    let fast = detect_modis(&i, m, &area).unwrap();
    let reference = detect_modis_reference(&i, m, &area).unwrap();
    let (a, b) = (
        format!("{:?}", fast.fires),
        format!("{:?}", reference.fires),
    );
    assert!(
        a == b,
        "fires differ: {} vs {}",
        fast.fires.len(),
        reference.fires.len()
    );
    assert_eq!(fast.summary, reference.summary);
    assert!(fast.mask == reference.mask, "masks differ");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn fast_equals_reference(
        seed in any::<u64>(),
        rows in 1usize..70,
        cols in 1usize..70,
        hot in 0.0f64..0.25,
        night in 0usize..3,
        glint in any::<bool>(),
        mask in any::<bool>(),
        along_scan in any::<bool>(),
    ) {
        let mut m = ModisModel::builtin();
        m.background.exclude_along_scan_neighbours = along_scan;
        let sza = [[30.0, 30.0], [120.0, 120.0], [30.0, 120.0]][night];
        check(&granule(seed, rows, cols, hot, sza), glint, mask, &m);
    }
}

#[test]
fn a_busy_granule_has_fires_of_every_kind_and_still_agrees() {
    let m = ModisModel::builtin();
    let mut g = granule(11, 120, 140, 0.08, [30.0, 120.0]);
    // A hot pixel in the middle of a 25 × 25 cloud: no window has enough background.
    for r in 40..65 {
        for c in 40..65 {
            g.bands[5][[r, c]] = 250.0;
            g.bands[6][[r, c]] = 249.0;
        }
    }
    for (b, v) in [
        (0, 0.05),
        (1, 0.1),
        (2, 0.1),
        (3, 330.0),
        (4, 330.0),
        (5, 300.0),
        (6, 299.0),
        (7, 30.0),
    ] {
        g.bands[b][[52, 52]] = v;
    }
    check(&g, true, true, &m);
    let i = input(&g, true, true);
    let d = detect_modis(&i, &m, &PixelArea::Constant(1e6)).unwrap();
    for t in [FireTest::Absolute, FireTest::Contextual] {
        assert!(d.fires.iter().any(|f| f.test == t), "no {t:?} fire");
    }
    assert!(d.fires.iter().any(|f| f.day) && d.fires.iter().any(|f| !f.day));
    assert!(d.fires.iter().any(|f| f.b21_used));
    assert!(d.summary.unknown > 0 && d.summary.cloud > 0 && d.summary.water > 0);
    assert_eq!(d.summary.fires() as usize, d.fires.len());
    // Strided views (a transposed granule) are read like contiguous ones.
    let t: Vec<Array2<f32>> = g.bands.iter().map(|b| b.t().to_owned()).collect();
    let tv = ModisInput {
        b1: t[0].t(),
        b2: t[1].t(),
        b7: t[2].t(),
        b21: t[3].t(),
        b22: t[4].t(),
        b31: t[5].t(),
        b32: t[6].t(),
        sza: t[7].t(),
        ..i
    };
    assert_eq!(
        format!(
            "{:?}",
            detect_modis(&tv, &m, &PixelArea::Constant(1e6))
                .unwrap()
                .fires
        ),
        format!("{:?}", d.fires)
    );
}

#[test]
fn the_c6_water_and_dynamic_night_paths_are_exercised_and_agree() {
    // A night granule with water in the mask and warm pixels: fires over water (background of
    // water) and potential fires found by the dynamic night threshold must occur, and the two
    // detectors must agree on them.
    let m = ModisModel::builtin();
    let (mut over_water, mut dynamic) = (0, 0);
    for seed in 0..6 {
        let mut g = granule(seed, 64, 64, 0.15, [120.0, 120.0]);
        // A cold night (backgrounds ≈ 268–292 K), where the dynamic threshold falls below 305 K.
        for b in &mut g.bands[3..7] {
            b.mapv_inplace(|t| t - 20.0);
        }
        check(&g, true, true, &m);
        let i = input(&g, true, true);
        let area = PixelArea::Constant(1e6);
        let d = detect_modis(&i, &m, &area).unwrap();
        over_water += d
            .fires
            .iter()
            .filter(|f| g.water[[f.row, f.col]] != 0)
            .count();
        dynamic += d
            .fires
            .iter()
            .filter(|f| f.t4_k <= m.potential.night_t4_k && f.test == FireTest::Contextual)
            .count();
    }
    assert!(over_water > 0, "no fire over water");
    assert!(dynamic > 0, "no fire below the fixed night threshold");
}
