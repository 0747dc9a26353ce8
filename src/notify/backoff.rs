//! How long to wait before the next attempt of a delivery: exponential backoff with jitter,
//! bounded by `[base, max]`.
//!
//! Why jitter: after a receiver's outage every pending delivery failed at about the same moment;
//! without jitter they would all come back at the same moments too and hit the receiver (a
//! chat-group robot with a rate limit) in bursts. Why deterministic: the delay is a pure function
//! of (attempt, seed) with the seed taken from the delivery's idempotency key, so a test can
//! check the bounds, and the decorrelated variant, which depends on the previous delay, needs no
//! extra stored state: the sequence is replayed from the seed.
//!
//! The lower bound is `base`, not zero (AWS's "full jitter" starts at 0): the delay is also the
//! lease of a claimed delivery (`store::deliveries`), and a lease of zero would let a crashed
//! attempt be retried at once, in a tight loop.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

/// The jitter variant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Jitter {
    /// Uniform in `[base, min(max, base·2^(attempt−1))]`.
    #[default]
    Full,
    /// `d₁ = base`, then `dₙ = min(max, uniform[base, 3·dₙ₋₁])` (Brooker's "decorrelated jitter").
    Decorrelated,
}

/// A bounded exponential backoff.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    pub jitter: Jitter,
}

impl Backoff {
    /// The delay after attempt number `attempt` (1 = after the first attempt) for a delivery
    /// whose seed is `seed`. Always within `[base, max]`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use strawfire::notify::backoff::{Backoff, Jitter};
    /// let b = Backoff { base: Duration::from_secs(10), max: Duration::from_secs(600), jitter: Jitter::Full };
    /// assert_eq!(b.delay(1, 7), Duration::from_secs(10));
    /// let d = b.delay(3, 7);
    /// assert!(d >= Duration::from_secs(10) && d <= Duration::from_secs(40));
    /// assert_eq!(b.delay(3, 7), d); // deterministic
    /// ```
    pub fn delay(&self, attempt: u32, seed: u64) -> Duration {
        let base = self.base.as_secs_f64();
        let max = self.max.as_secs_f64().max(base);
        let attempt = attempt.max(1);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ u64::from(attempt).rotate_left(32));
        let secs = match self.jitter {
            Jitter::Full => {
                // 2^(attempt-1), saturating long before f64 overflows.
                let ceiling = (base * 2f64.powi(attempt.min(62) as i32 - 1)).min(max);
                uniform(&mut rng, base, ceiling)
            }
            Jitter::Decorrelated => {
                // Replay the sequence from the seed alone: the previous delay is not stored.
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let mut d = base;
                for _ in 1..attempt.min(64) {
                    d = uniform(&mut rng, base, (3.0 * d).min(max));
                }
                d
            }
        };
        Duration::from_secs_f64(secs.clamp(base, max))
    }
}

fn uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    if hi <= lo {
        lo
    } else {
        rng.gen_range(lo..=hi)
    }
}

/// A stable 64-bit seed from a string (FNV-1a): the same idempotency key gives the same delays
/// on every run and every machine.
pub fn seed_of(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(jitter: Jitter) -> Backoff {
        Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(600),
            jitter,
        }
    }

    #[test]
    fn full_jitter_stays_under_the_exponential_ceiling_and_the_cap() {
        let b = b(Jitter::Full);
        for seed in 0..500u64 {
            for attempt in 1..=20u32 {
                let d = b.delay(attempt, seed).as_secs_f64();
                let ceiling = (10.0 * 2f64.powi(attempt as i32 - 1)).min(600.0);
                assert!(
                    (10.0..=ceiling + 1e-9).contains(&d),
                    "{attempt} {seed}: {d}"
                );
            }
        }
    }

    #[test]
    fn decorrelated_jitter_is_bounded_and_grows_at_most_threefold() {
        let b = b(Jitter::Decorrelated);
        for seed in 0..500u64 {
            let mut prev = b.delay(1, seed).as_secs_f64();
            assert_eq!(prev, 10.0);
            for attempt in 2..=20u32 {
                let d = b.delay(attempt, seed).as_secs_f64();
                assert!((10.0..=600.0).contains(&d), "{attempt} {seed}: {d}");
                assert!(d <= 3.0 * prev + 1e-9, "{attempt} {seed}: {d} after {prev}");
                prev = d;
            }
        }
    }

    #[test]
    fn delays_are_deterministic_per_seed_and_spread_across_seeds() {
        for jitter in [Jitter::Full, Jitter::Decorrelated] {
            let b = b(jitter);
            assert_eq!(b.delay(5, 42), b.delay(5, 42));
            let distinct: std::collections::HashSet<u128> =
                (0..100u64).map(|s| b.delay(5, s).as_millis()).collect();
            // Jitter spreads a hundred deliveries that failed together over many moments.
            assert!(distinct.len() > 50, "{jitter:?}: {}", distinct.len());
        }
        // Growth: late attempts wait longer on average than early ones.
        let b = b(Jitter::Full);
        let mean = |a: u32| {
            (0..200u64)
                .map(|s| b.delay(a, s).as_secs_f64())
                .sum::<f64>()
                / 200.0
        };
        assert!(
            mean(2) < mean(4) && mean(4) < mean(6),
            "{} {} {}",
            mean(2),
            mean(4),
            mean(6)
        );
        assert!(mean(30) > 250.0);
    }

    #[test]
    fn huge_attempt_numbers_do_not_overflow() {
        for jitter in [Jitter::Full, Jitter::Decorrelated] {
            let d = b(jitter).delay(u32::MAX, 1);
            assert!(d <= Duration::from_secs(600));
        }
    }

    #[test]
    fn seeds_are_stable() {
        assert_eq!(seed_of(""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(
            seed_of("task-1-new-410526101:a"),
            seed_of("task-1-new-410526101:b")
        );
    }
}
