//! Small, dependency-free sampling helpers: weighted tables, the continuous distributions the
//! generator needs (exponential, log-normal) and count distributions calibrated by a mean.
//!
//! Everything takes the caller's RNG so that a person's whole record depends only on the seed
//! and the person's index.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rand::Rng;

/// A table of items with integer weights, sampled by binary search over cumulative weights.
#[derive(Debug, Clone)]
pub struct Weighted<T> {
    items: Vec<T>,
    cum: Vec<u64>,
}

impl<T> Weighted<T> {
    /// Builds a table; items with weight 0 are dropped.
    pub fn new(pairs: impl IntoIterator<Item = (T, u32)>) -> Self {
        let mut items = Vec::new();
        let mut cum = Vec::new();
        let mut total = 0u64;
        for (item, w) in pairs {
            if w == 0 {
                continue;
            }
            total += u64::from(w);
            items.push(item);
            cum.push(total);
        }
        Self { items, cum }
    }

    /// True if there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Draws one item by weight, or `None` for an empty table.
    pub fn pick<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<&T> {
        let total = *self.cum.last()?;
        let x = rng.random_range(0..total);
        let i = self.cum.partition_point(|&c| c <= x);
        self.items.get(i)
    }

    /// The items, in insertion order.
    pub fn items(&self) -> &[T] {
        &self.items
    }
}

/// An exponential variate with the given mean.
pub fn exponential<R: Rng + ?Sized>(rng: &mut R, mean: f64) -> f64 {
    let u: f64 = rng.random();
    -(1.0 - u).ln() * mean
}

/// A standard normal variate (Box–Muller).
pub fn normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A log-normal variate with the given median and log-scale spread `sigma`.
pub fn lognormal<R: Rng + ?Sized>(rng: &mut R, median: f64, sigma: f64) -> f64 {
    median * (sigma * normal(rng)).exp()
}

/// A geometric count on {0, 1, 2, ...} with the given mean.
pub fn geometric<R: Rng + ?Sized>(rng: &mut R, mean: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    let p = 1.0 / (1.0 + mean);
    let u: f64 = 1.0 - rng.random::<f64>();
    let k = (u.ln() / (1.0 - p).ln()).floor();
    if k.is_finite() && k >= 0.0 {
        // Bounded below by 0 and capped far above any realistic count.
        k.min(400.0) as u32
    } else {
        0
    }
}

/// Number of episodes for someone who goes missing at least once: one with probability
/// `single_share`, otherwise 2 plus a geometric excess, so that the overall mean is `mean`.
pub fn episode_count<R: Rng + ?Sized>(rng: &mut R, single_share: f64, mean: f64) -> u32 {
    if rng.random_bool(single_share.clamp(0.0, 1.0)) {
        return 1;
    }
    let repeat_mean = (mean - single_share) / (1.0 - single_share);
    2 + geometric(rng, (repeat_mean - 2.0).max(0.0))
}

/// Midnight UTC at the start of `d`, in seconds since the Unix epoch.
pub fn day_start(d: NaiveDate) -> i64 {
    d.and_time(NaiveTime::MIN).and_utc().timestamp()
}

/// Seconds since the epoch to a timestamp (the epoch itself for out-of-range input, which the
/// generator never produces).
pub fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// The calendar date of a timestamp in seconds.
pub fn date_of(secs: i64) -> NaiveDate {
    at(secs).date_naive()
}

/// Seconds in an hour.
pub const HOUR: i64 = 3_600;
/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// splitmix64 finaliser: spreads a 64-bit value over all bits.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn weighted_respects_weights() {
        let t = Weighted::new([("a", 1), ("b", 0), ("c", 3)]);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let n = 40_000;
        let c = (0..n).filter(|_| *t.pick(&mut rng).unwrap() == "c").count();
        let share = c as f64 / n as f64;
        assert!((share - 0.75).abs() < 0.02, "{share}");
        assert!(Weighted::<u8>::new([]).pick(&mut rng).is_none());
    }

    #[test]
    fn episode_count_has_the_requested_mean_and_single_share() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let n = 100_000;
        let xs: Vec<u32> = (0..n).map(|_| episode_count(&mut rng, 0.35, 6.1)).collect();
        let mean = xs.iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64;
        let single = xs.iter().filter(|&&x| x == 1).count() as f64 / n as f64;
        assert!((mean - 6.1).abs() < 0.15, "{mean}");
        assert!((single - 0.35).abs() < 0.01, "{single}");
    }

    #[test]
    fn lognormal_median() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut xs: Vec<f64> = (0..20_001).map(|_| lognormal(&mut rng, 8.0, 1.5)).collect();
        xs.sort_by(f64::total_cmp);
        assert!((xs[10_000] - 8.0).abs() < 0.5);
    }
}
