//! Thin wrappers over `statrs` for the reference distributions used in tests and intervals.

use crate::error::{Result, StatsError};
use statrs::function::erf::erfc;
use statrs::function::gamma::gamma_ur;

/// Two-sided standard-normal critical value for a confidence `level` (0.95 → 1.959963984540054).
///
/// # Errors
/// [`StatsError::InvalidConfidenceLevel`] unless `0 < level < 1`.
pub fn z_critical(level: f64) -> Result<f64> {
    if !(level > 0.0 && level < 1.0) {
        return Err(StatsError::InvalidConfidenceLevel(level));
    }
    // Φ⁻¹(1 − α/2) = √2 · erfc⁻¹(α)
    let alpha = 1.0 - level;
    Ok(std::f64::consts::SQRT_2 * statrs::function::erf::erfc_inv(alpha))
}

/// Two-sided p-value of a standard-normal (Wald) statistic: `P(|Z| ≥ |z|)`.
pub fn normal_two_sided_p(z: f64) -> f64 {
    erfc(z.abs() / std::f64::consts::SQRT_2)
}

/// Upper tail `P(X ≥ x)` of a chi-squared distribution with `df` degrees of freedom.
pub fn chi_squared_sf(x: f64, df: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    gamma_ur(df / 2.0, x / 2.0)
}
