//! Property tests: the parallel detector and the sequential reference agree on random scenes
//! that exercise every branch (fill, cloud, water, candidates in the median band, fixed
//! thresholds, background fires, glint geometry, image edges).

use ndarray::Array2;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::model::SensorModel;

struct Bands {
    b: Vec<Array2<f32>>,
}

fn random_scene(seed: u64, rows: usize, cols: usize, day: bool, geometry: bool) -> Bands {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut b: Vec<Array2<f32>> = (0..9).map(|_| Array2::zeros((rows, cols))).collect();
    let base = if day {
        rng.gen_range(300.0..324.0)
    } else {
        rng.gen_range(280.0..296.0)
    };
    for r in 0..rows {
        for c in 0..cols {
            let t: f32 = base + rng.gen_range(-3.0..3.0);
            let (mut bt4, mut bt5) = (t + rng.gen_range(-1.0..4.0), t);
            let (mut r1, mut r2, mut r3) = (0.08, 0.25, 0.2);
            match rng.gen_range(0..100) {
                0..=3 => bt4 += rng.gen_range(5.0..60.0), // warm anomalies and fires
                4 => bt4 = 367.0,                         // saturated
                5 => {
                    bt4 = if day {
                        rng.gen_range(325.5..330.0)
                    } else {
                        208.0
                    }
                } // median band / folded
                6..=8 => bt5 = rng.gen_range(240.0..266.0), // cloud
                9 => (r1, r2, r3) = (0.12, 0.08, 0.03),   // water
                10 => bt4 = f32::NAN,                     // fill
                11 => {
                    bt4 += 40.0;
                    bt5 += 5.0
                } // background fire
                12 => (r1, r2, r3) = (0.4, 0.3, 0.35),    // bright target
                _ => {}
            }
            if day && rng.gen_range(0..100) == 0 {
                bt5 = 330.0; // folding by day: ΔT45 < 0 and BT5 > 325
            }
            b[0][[r, c]] = r1;
            b[1][[r, c]] = r2;
            b[2][[r, c]] = r3;
            b[3][[r, c]] = bt4;
            b[4][[r, c]] = bt5;
            b[5][[r, c]] = if day { 35.0 } else { 110.0 };
            if geometry {
                b[6][[r, c]] = rng.gen_range(0.0..60.0);
                b[7][[r, c]] = 150.0;
                b[8][[r, c]] = rng.gen_range(0.0..360.0);
            }
        }
    }
    if rows > 4 {
        b[3].row_mut(rows / 2).fill(f32::NAN); // a bow-tie row
    }
    Bands { b }
}

fn input<'a>(s: &'a Bands, geometry: bool) -> ViirsInput<'a> {
    ViirsInput {
        i1: s.b[0].view(),
        i2: s.b[1].view(),
        i3: s.b[2].view(),
        i4: s.b[3].view(),
        i5: s.b[4].view(),
        sza: s.b[5].view(),
        geometry: geometry.then(|| GlintGeometry {
            vza: s.b[6].view(),
            saa: s.b[7].view(),
            vaa: s.b[8].view(),
        }),
    }
}

fn small_model() -> SensorModel {
    let mut m = SensorModel::builtin("viirs-i").unwrap();
    m.candidate.median_window = 21; // keeps the sorting reference fast
    m
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn parallel_equals_reference(seed in any::<u64>(), rows in 1usize..70, cols in 1usize..70,
                                 day in any::<bool>(), geometry in any::<bool>()) {
        let m = small_model();
        let s = random_scene(seed, rows, cols, day, geometry);
        let inp = input(&s, geometry);
        let area = PixelArea::Constant(140_625.0);
        let fast = detect_viirs(&inp, &m, &area).unwrap();
        let slow = detect_viirs_reference(&inp, &m, &area).unwrap();
        prop_assert_eq!(&fast.mask, &slow.mask);
        // Debug text, not ==: a fire without a background window carries a NaN background BT4,
        // and NaN != NaN.
        prop_assert_eq!(format!("{:?}", fast.fires), format!("{:?}", slow.fires));
        prop_assert_eq!(&fast.summary, &slow.summary);
    }
}

#[test]
fn random_scenes_have_fires_of_every_class() {
    // Guards the property test against vacuity: the generator must reach fires, unknowns,
    // clouds, water and the median band.
    let m = small_model();
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..40 {
        let day = seed % 2 == 0;
        let s = random_scene(seed, 60, 60, day, true);
        let d = detect_viirs(&input(&s, true), &m, &PixelArea::Constant(140_625.0)).unwrap();
        seen.extend(d.mask.as_slice().iter().copied());
    }
    for class in [1, 3, 4, 5, 7, 8, 9] {
        assert!(
            seen.contains(&class),
            "class {class} never produced: {seen:?}"
        );
    }
}

#[test]
fn all_nan_scene_observes_nothing() {
    let nan = Array2::from_elem((30, 40), f32::NAN);
    let sza = Array2::from_elem((30, 40), 120.0f32);
    let inp = ViirsInput {
        i1: nan.view(),
        i2: nan.view(),
        i3: nan.view(),
        i4: nan.view(),
        i5: nan.view(),
        sza: sza.view(),
        geometry: None,
    };
    let d = detect_viirs(&inp, &small_model(), &PixelArea::Constant(1.0)).unwrap();
    assert!(d.fires.is_empty());
    assert!(d.summary.nothing_observed());
    assert_eq!(d.summary.fill, 1200);
}

#[test]
fn mismatched_shapes_are_an_error() {
    let a = Array2::<f32>::zeros((10, 10));
    let b = Array2::<f32>::zeros((10, 11));
    let inp = ViirsInput {
        i1: a.view(),
        i2: a.view(),
        i3: a.view(),
        i4: a.view(),
        i5: b.view(),
        sza: a.view(),
        geometry: None,
    };
    let err = detect_viirs(&inp, &small_model(), &PixelArea::Constant(1.0)).unwrap_err();
    assert!(err.to_string().contains("I5"), "{err}");
}
