//! The fast OLI detector equals the sequential reference on seeded random scenes: surfaces of
//! every kind, hot pixels of every strength (unambiguous, folded, candidates near and far from
//! the contextual thresholds), fill, QA cloud and water, day and night, windows larger and
//! smaller than the scene.

use ndarray::Array2;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{detect_oli, detect_oli_reference, OliInput};
use crate::model::oli::OliModel;

struct Scene {
    rho: [Array2<f32>; 7],
    cloud: Array2<u8>,
    water: Array2<u8>,
}

fn scene(seed: u64, rows: usize, cols: usize, hot_share: f64) -> Scene {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rho: [Array2<f32>; 7] = std::array::from_fn(|_| Array2::zeros((rows, cols)));
    let mut cloud = Array2::zeros((rows, cols));
    let mut water = Array2::zeros((rows, cols));
    for r in 0..rows {
        for c in 0..cols {
            let kind = rng.gen_range(0..10);
            let mut p: [f32; 7] = match kind {
                // Water (spectral).
                0 => [0.12, 0.1, 0.08, 0.06, 0.04, 0.02, 0.01],
                // Bright roof / soil.
                1 => [0.3, 0.32, 0.35, 0.38, 0.42, 0.45, 0.4],
                // Cloud.
                2 => [0.5, 0.5, 0.5, 0.5, 0.5, 0.4, 0.3],
                _ => [0.08, 0.07, 0.08, 0.06, 0.3, 0.2, 0.1],
            };
            for v in &mut p {
                *v *= rng.gen_range(0.8..1.2);
            }
            if rng.gen_bool(hot_share) {
                // A fire of random strength in band 7 (and some in 6, 5).
                let f = rng.gen_range(0.0..1.5f32);
                p[6] += f;
                p[5] += f * rng.gen_range(0.0..0.6);
                p[4] += f * rng.gen_range(0.0..0.1);
                if rng.gen_bool(0.1) {
                    p[6] = 0.05; // folded
                    p[5] = 0.9;
                }
            }
            if rng.gen_bool(0.02) {
                p[rng.gen_range(0..7)] = f32::NAN;
            }
            if rng.gen_bool(0.01) {
                p[4] = -0.01;
            }
            for i in 0..7 {
                rho[i][[r, c]] = p[i];
            }
            cloud[[r, c]] = (kind == 2 && rng.gen_bool(0.8)) as u8;
            water[[r, c]] = (kind == 0 && rng.gen_bool(0.5)) as u8;
        }
    }
    Scene { rho, cloud, water }
}

fn check(s: &Scene, day: bool, qa: bool, m: &OliModel) {
    let input = OliInput {
        rho: std::array::from_fn(|i| s.rho[i].view()),
        cloud: qa.then(|| s.cloud.view()),
        water: qa.then(|| s.water.view()),
        day,
    };
    let fast = detect_oli(&input, m).unwrap();
    let reference = detect_oli_reference(&input, m).unwrap();
    // Compared through Debug: fires over fill in another band carry NaN, which is not == itself.
    let (a, b) = (
        format!("{:?}", fast.fires),
        format!("{:?}", reference.fires),
    );
    assert!(
        a == b,
        "fires differ: {} vs {} fires",
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
        rows in 1usize..90,
        cols in 1usize..90,
        hot in 0.0f64..0.2,
        day in any::<bool>(),
        qa in any::<bool>(),
        small_window in any::<bool>(),
    ) {
        let mut m = OliModel::builtin();
        if small_window {
            m.context.window = 7;
            m.context.min_valid = 3;
        }
        check(&scene(seed, rows, cols, hot), day, qa, &m);
    }
}

#[test]
fn a_busy_scene_has_fires_of_every_kind_and_still_agrees() {
    let m = OliModel::builtin();
    let s = scene(7, 150, 130, 0.05);
    check(&s, true, true, &m);
    let input = OliInput {
        rho: std::array::from_fn(|i| s.rho[i].view()),
        cloud: Some(s.cloud.view()),
        water: Some(s.water.view()),
        day: true,
    };
    let d = detect_oli(&input, &m).unwrap();
    use super::FireTest::*;
    for t in [Unambiguous, Saturated, Contextual] {
        assert!(d.fires.iter().any(|f| f.test == t), "no {t:?} fire");
    }
    // Every fire's mask class is a fire class, and the summary counts them.
    assert_eq!(d.summary.fires() as usize, d.fires.len());
    // Strided views (a transposed scene) are read like contiguous ones.
    let t: [Array2<f32>; 7] = std::array::from_fn(|i| s.rho[i].t().to_owned());
    let tv = OliInput {
        rho: std::array::from_fn(|i| t[i].t()),
        cloud: Some(s.cloud.view()),
        water: Some(s.water.view()),
        day: true,
    };
    assert_eq!(
        format!("{:?}", detect_oli(&tv, &m).unwrap().fires),
        format!("{:?}", d.fires)
    );
}
