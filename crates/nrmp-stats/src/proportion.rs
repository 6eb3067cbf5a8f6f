//! Proportions with Wilson score confidence intervals.
//!
//! The register never publishes a count without its denominator, and never a proportion
//! without its interval. The Wilson score interval (Wilson 1927) is used because it behaves
//! well for small counts and at the boundaries (`count == 0` or `count == denominator`),
//! where the Wald interval collapses to a point. It is the interval returned by
//! `statsmodels.stats.proportion.proportion_confint(method="wilson")` and R's
//! `prop.test(correct = FALSE)`.
//!
//! For `count = x`, `denominator = n`, `p̂ = x/n` and critical value `z`:
//!
//! ```text
//! centre = (x + z²/2) / (n + z²)
//! half   = z / (n + z²) · sqrt(x(n − x)/n + z²/4)
//! ```
//!
//! A zero denominator is an error ([`StatsError::ZeroDenominator`]), never a silent `NaN`.

use serde::{Deserialize, Serialize};

use crate::dist::z_critical;
use crate::error::{Result, StatsError};

/// A count over a denominator with its point estimate and Wilson score interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Proportion {
    /// Numerator (e.g. children who went missing).
    pub count: u64,
    /// Denominator (e.g. children in care after an NRM referral).
    pub denominator: u64,
    /// `count / denominator`.
    pub estimate: f64,
    /// Lower limit of the Wilson interval.
    pub ci_low: f64,
    /// Upper limit of the Wilson interval.
    pub ci_high: f64,
    /// Confidence level of the interval (0.95 by default).
    pub level: f64,
}

impl Proportion {
    /// Proportion with a 95 % Wilson interval.
    ///
    /// # Errors
    /// [`StatsError::ZeroDenominator`] if `denominator == 0`;
    /// [`StatsError::CountExceedsDenominator`] if `count > denominator`.
    pub fn wilson(count: u64, denominator: u64) -> Result<Self> {
        Self::wilson_with_level(count, denominator, 0.95)
    }

    /// Proportion with a Wilson interval at confidence `level`.
    ///
    /// # Errors
    /// As [`Proportion::wilson`], plus [`StatsError::InvalidConfidenceLevel`].
    pub fn wilson_with_level(count: u64, denominator: u64, level: f64) -> Result<Self> {
        let (ci_low, ci_high) = wilson_interval(count, denominator, level)?;
        Ok(Self {
            count,
            denominator,
            estimate: count as f64 / denominator as f64,
            ci_low,
            ci_high,
            level,
        })
    }

    /// Like [`Proportion::wilson`] but `None` for a zero denominator (handy when building tables).
    ///
    /// Still `None` (rather than a panic) for `count > denominator`.
    pub fn try_wilson(count: u64, denominator: u64) -> Option<Self> {
        Self::wilson(count, denominator).ok()
    }

    /// Estimate and interval expressed as percentages (0–100).
    pub fn as_percent(&self) -> (f64, f64, f64) {
        (
            100.0 * self.estimate,
            100.0 * self.ci_low,
            100.0 * self.ci_high,
        )
    }
}

/// Wilson score interval `(low, high)` for `count` successes out of `denominator` trials.
///
/// The interval is clamped to `[0, 1]`; at `count == 0` the lower limit is exactly 0 and at
/// `count == denominator` the upper limit is exactly 1.
///
/// # Errors
/// See [`Proportion::wilson_with_level`].
pub fn wilson_interval(count: u64, denominator: u64, level: f64) -> Result<(f64, f64)> {
    if denominator == 0 {
        return Err(StatsError::ZeroDenominator);
    }
    if count > denominator {
        return Err(StatsError::CountExceedsDenominator { count, denominator });
    }
    let z = z_critical(level)?;
    let n = denominator as f64;
    let x = count as f64;
    let z2 = z * z;
    let centre = (x + z2 / 2.0) / (n + z2);
    let half = z / (n + z2) * (x * (n - x) / n + z2 / 4.0).sqrt();
    let low = if count == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if count == denominator {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Ok((low, high))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_and_errors() {
        let p = Proportion::wilson(0, 10).unwrap();
        assert_eq!(p.ci_low, 0.0);
        assert!(p.ci_high > 0.2 && p.ci_high < 0.4);
        let q = Proportion::wilson(10, 10).unwrap();
        assert_eq!(q.ci_high, 1.0);
        assert!((q.ci_low - (1.0 - p.ci_high)).abs() < 1e-12, "symmetry");
        assert_eq!(Proportion::wilson(1, 0), Err(StatsError::ZeroDenominator));
        assert!(Proportion::try_wilson(0, 0).is_none());
        assert!(matches!(
            Proportion::wilson(3, 2),
            Err(StatsError::CountExceedsDenominator { .. })
        ));
        assert!(Proportion::wilson_with_level(1, 2, 1.0).is_err());
        let (e, lo, hi) = Proportion::wilson(1, 4).unwrap().as_percent();
        assert!((e - 25.0).abs() < 1e-12 && lo < e && hi > e);
    }

    #[test]
    fn wider_at_higher_level() {
        let a = Proportion::wilson_with_level(30, 100, 0.90).unwrap();
        let b = Proportion::wilson_with_level(30, 100, 0.99).unwrap();
        assert!(b.ci_low < a.ci_low && b.ci_high > a.ci_high);
    }
}
