//! Seeded, stateless noise: the texture of synthetic scenes.
//!
//! Every value is a pure function of (seed, position), never of the order in which pixels are
//! visited, so rows can be generated on any number of threads and come out bit-identical. Value
//! noise summed over octaves (fBm) gives patches (fields, lakes, cloud decks) rather than
//! salt-and-pepper; per-pixel sensor noise is Gaussian from a stream seeded by (seed, row).

/// SplitMix64 finaliser: a fast, well-mixed 64-bit hash.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of an integer lattice point under a seed.
pub fn hash2(seed: u64, x: i64, y: i64) -> u64 {
    mix64(seed ^ mix64((x as u64).wrapping_mul(0x9E37_79B9) ^ mix64(y as u64)))
}

/// A hash mapped to [0, 1).
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Smoothly interpolated lattice noise in [0, 1) at a fractional position.
pub fn value_noise(seed: u64, x: f64, y: f64) -> f64 {
    let (xf, yf) = (x.floor(), y.floor());
    let (xi, yi) = (xf as i64, yf as i64);
    let (tx, ty) = (x - xf, y - yf);
    let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
    let v00 = unit(hash2(seed, xi, yi));
    let v10 = unit(hash2(seed, xi + 1, yi));
    let v01 = unit(hash2(seed, xi, yi + 1));
    let v11 = unit(hash2(seed, xi + 1, yi + 1));
    let a = v00 + (v10 - v00) * sx;
    let b = v01 + (v11 - v01) * sx;
    a + (b - a) * sy
}

/// Fractal sum of `octaves` octaves of value noise, each half the scale and half the weight of
/// the previous; normalised to [0, 1). `scale_px` is the size of the largest features in pixels.
pub fn fbm(seed: u64, row: f64, col: f64, scale_px: f64, octaves: u32) -> f64 {
    let (mut sum, mut norm, mut amp, mut freq) = (0.0, 0.0, 1.0, 1.0 / scale_px);
    for k in 0..octaves {
        sum += amp * value_noise(mix64(seed.wrapping_add(k as u64)), col * freq, row * freq);
        norm += amp;
        amp *= 0.5;
        freq *= 2.0;
    }
    sum / norm
}

/// Standard normal deviates by the Box–Muller transform (no extra dependency for two lines).
pub fn gaussian<R: rand::Rng>(rng: &mut R) -> f64 {
    let u1: f64 = rng.gen::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fbm_is_in_range_and_patchy() {
        let mut sum = 0.0;
        let mut jumps = 0.0;
        let n = 200;
        for r in 0..n {
            for c in 0..n {
                let v = fbm(7, r as f64, c as f64, 20.0, 3);
                assert!((0.0..1.0).contains(&v));
                sum += v;
                jumps += (v - fbm(7, r as f64, c as f64 + 1.0, 20.0, 3)).abs();
            }
        }
        let mean = sum / (n * n) as f64;
        assert!((0.4..0.6).contains(&mean), "{mean}");
        // Neighbours differ far less than independent draws would (≈1/3 apart on average).
        assert!(
            jumps / ((n * n) as f64) < 0.05,
            "{}",
            jumps / (n * n) as f64
        );
    }

    #[test]
    fn gaussian_has_unit_variance() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let xs: Vec<f64> = (0..20_000).map(|_| gaussian(&mut rng)).collect();
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(m.abs() < 0.03 && (v - 1.0).abs() < 0.05, "{m} {v}");
    }
}
