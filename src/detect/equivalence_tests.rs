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
    /// A land/water mask: a band of water across the scene and scattered water pixels.
    water: Array2<u8>,
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
    let water = Array2::from_shape_fn((rows, cols), |(r, c)| {
        (c * 5 / cols.max(1) == 2 || (r * 31 + c * 17) % 23 == 0) as u8
    });
    Bands { b, water }
}

fn input<'a>(s: &'a Bands, geometry: bool) -> ViirsInput<'a> {
    input_with(s, geometry, false)
}

fn input_with<'a>(s: &'a Bands, geometry: bool, water: bool) -> ViirsInput<'a> {
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
        water: water.then(|| s.water.view()),
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
                                 day in any::<bool>(), geometry in any::<bool>(),
                                 water in any::<bool>(), per_column in any::<bool>(),
                                 core in prop_oneof![Just(1usize), Just(3)]) {
        let mut m = small_model();
        m.context.core_exclusion = core;
        let s = random_scene(seed, rows, cols, day, geometry);
        let inp = input_with(&s, geometry, water);
        // A swath's area grows with the scan angle: one area per column.
        let area = if per_column {
            PixelArea::PerColumn((0..cols).map(|c| 140_625.0 * (1.0 + c as f64 / 20.0)).collect())
        } else {
            PixelArea::Constant(140_625.0)
        };
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
        water: None,
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
        water: None,
    };
    let err = detect_viirs(&inp, &small_model(), &PixelArea::Constant(1.0)).unwrap_err();
    assert!(err.to_string().contains("I5"), "{err}");
}

/// A strip classified in blocks of columns, of widths on the median's 16-column tiles or not,
/// gives what the strip classified whole gives: the same classes and bits, the same pending
/// pixels in row-major order, the same counts; and tile counts only for blocks whose edges are
/// tile edges (the median stage counts the rest), equal there to the whole strip's.
#[test]
fn a_strip_in_blocks_equals_the_strip_whole() {
    use super::strip::{classify_block, classify_strip, Pending, StripOut};
    use ndarray::s;
    let (rows, cols) = (24, 75);
    let scene = random_scene(7, rows, cols, true, true);
    let params = super::pixel::PixelParams::new(&SensorModel::builtin("viirs-i").unwrap());
    let (r0, strip) = (3, input(&scene, true).rows(3, rows));
    let n = rows - r0;
    let zeros = || Array2::<u8>::zeros((n, cols));
    let (mut mask, mut state) = (zeros(), zeros());
    let whole = classify_strip(&strip, r0, &params, mask.view_mut(), state.view_mut());
    let at = |list: &[Pending]| list.iter().map(|p| (p.r, p.c, p.bits)).collect::<Vec<_>>();
    let whole_tiles = whole.tiles.as_ref().expect("a day strip counts its tiles");
    assert!(!whole.median.is_empty() && !whole.candidates.is_empty());
    // Widths, and the columns whose tiles the blocks count.
    for (widths, counted) in [
        (vec![32, 32, 11], cols),
        (vec![20, 40, 15], 0),
        (vec![16, 7, 9, 43], 16 + 43),
        (vec![75], cols),
    ] {
        let (mut m2, mut s2) = (zeros(), zeros());
        let mut out = StripOut::new(r0..rows, cols);
        let mut c0 = 0;
        for w in &widths {
            let cut = s![.., c0..c0 + w];
            let block = ViirsInput {
                i1: strip.i1.slice_move(cut),
                i2: strip.i2.slice_move(cut),
                i3: strip.i3.slice_move(cut),
                i4: strip.i4.slice_move(cut),
                i5: strip.i5.slice_move(cut),
                sza: strip.sza.slice_move(cut),
                geometry: strip.geometry.map(|g| GlintGeometry {
                    vza: g.vza.slice_move(cut),
                    saa: g.saa.slice_move(cut),
                    vaa: g.vaa.slice_move(cut),
                }),
                water: None,
            };
            let (m, st) = (m2.slice_mut(cut), s2.slice_mut(cut));
            classify_block(&block, (r0, c0), &params, m, st, &mut out);
            c0 += w;
        }
        let out = out.finish();
        assert_eq!((&m2, &s2), (&mask, &state), "{widths:?}");
        assert_eq!(at(&out.candidates), at(&whole.candidates), "{widths:?}");
        assert_eq!(at(&out.median), at(&whole.median), "{widths:?}");
        assert_eq!(
            (out.classes, out.day, out.night),
            (whole.classes, whole.day, whole.night)
        );
        let ranges = out.tiles.as_ref().map_or(vec![], |t| t.counted.clone());
        let got: usize = ranges.iter().map(|c| c.len()).sum();
        assert_eq!(got, counted, "{widths:?}: {ranges:?}");
        for cs in &ranges {
            assert!(cs.start % 16 == 0 && (cs.end % 16 == 0 || cs.end == cols));
            let t = cs.start / 16..cs.end.div_ceil(16);
            let tiles = out.tiles.as_ref().expect("counted somewhere");
            for (got, want) in tiles.rows.iter().zip(&whole_tiles.rows) {
                assert_eq!(got[t.clone()], want[t.clone()], "{widths:?}: tiles {t:?}");
            }
        }
    }
}
