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
    mix64(
        seed ^ (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F),
    )
}

/// A hash mapped to [0, 1).
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The four lattice values around cell (xi, yi): (xi, yi), (xi+1, yi), (xi, yi+1), (xi+1, yi+1).
fn corners(seed: u64, xi: i64, yi: i64) -> [f64; 4] {
    [
        unit(hash2(seed, xi, yi)),
        unit(hash2(seed, xi + 1, yi)),
        unit(hash2(seed, xi, yi + 1)),
        unit(hash2(seed, xi + 1, yi + 1)),
    ]
}

fn smooth(t: f64) -> f64 {
    t * t * (3.0 - 2.0 * t)
}

fn interpolate([v00, v10, v01, v11]: [f64; 4], sx: f64, sy: f64) -> f64 {
    let a = v00 + (v10 - v00) * sx;
    let b = v01 + (v11 - v01) * sx;
    a + (b - a) * sy
}

/// Smoothly interpolated lattice noise in [0, 1) at a fractional position.
pub fn value_noise(seed: u64, x: f64, y: f64) -> f64 {
    let (xf, yf) = (x.floor(), y.floor());
    let c = corners(seed, xf as i64, yf as i64);
    interpolate(c, smooth(x - xf), smooth(y - yf))
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

/// [`fbm`] for every column `0..cols` of one row, bit-identical to calling it per pixel but
/// hashing each lattice cell once per row instead of once per pixel: the generator's hot loop.
pub fn fbm_row(
    seed: u64,
    row: usize,
    cols: usize,
    scale_px: f64,
    octaves: u32,
    out: &mut Vec<f64>,
) {
    out.clear();
    out.resize(cols, 0.0);
    let (mut norm, mut amp, mut freq) = (0.0, 1.0, 1.0 / scale_px);
    let row = row as f64;
    for k in 0..octaves {
        let s = mix64(seed.wrapping_add(k as u64));
        let y = row * freq;
        let yf = y.floor();
        let (yi, sy) = (yf as i64, smooth(y - yf));
        let mut cached = (i64::MIN, [0.0; 4]);
        for (col, o) in out.iter_mut().enumerate() {
            let x = col as f64 * freq;
            // x ≥ 0, so truncation is floor (and much cheaper than a libm call).
            let xi = x as i64;
            let xf = xi as f64;
            if cached.0 + 1 == xi {
                // Moving one cell right: the old right corners are the new left ones.
                let [_, v10, _, v11] = cached.1;
                cached = (
                    xi,
                    [
                        v10,
                        unit(hash2(s, xi + 1, yi)),
                        v11,
                        unit(hash2(s, xi + 1, yi + 1)),
                    ],
                );
            } else if cached.0 != xi {
                cached = (xi, corners(s, xi, yi));
            }
            *o += amp * interpolate(cached.1, smooth(x - xf), sy);
        }
        norm += amp;
        amp *= 0.5;
        freq *= 2.0;
    }
    for o in out.iter_mut() {
        *o /= norm;
    }
}

/// Two independent standard normal deviates by the Box–Muller transform (no extra dependency
/// for a few lines).
pub fn gaussian_pair<R: rand::Rng>(rng: &mut R) -> (f64, f64) {
    let u1: f64 = rng.gen::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.gen();
    let r = (-2.0 * u1.ln()).sqrt();
    let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
    (r * c, r * s)
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
    fn fbm_row_is_bit_identical_to_fbm() {
        let mut row = Vec::new();
        for r in [0usize, 1, 17, 999] {
            for (scale, octaves) in [(2.5, 3), (16.0, 3), (60.0, 4)] {
                fbm_row(99, r, 700, scale, octaves, &mut row);
                for (c, v) in row.iter().enumerate() {
                    assert_eq!(
                        v.to_bits(),
                        fbm(99, r as f64, c as f64, scale, octaves).to_bits()
                    );
                }
            }
        }
    }

    #[test]
    fn gaussian_has_unit_variance() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let xs: Vec<f64> = (0..10_000)
            .flat_map(|_| {
                let (a, b) = gaussian_pair(&mut rng);
                [a, b]
            })
            .collect();
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(m.abs() < 0.03 && (v - 1.0).abs() < 0.05, "{m} {v}");
    }
}
