//! Error type shared by every estimator in the crate.

use thiserror::Error;

/// Everything that can go wrong when computing a statistic.
///
/// Estimators never panic on bad input; they return one of these instead.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    /// A proportion or rate was requested with a zero denominator.
    #[error("denominator is zero")]
    ZeroDenominator,
    /// A count exceeds its denominator.
    #[error("count {count} exceeds denominator {denominator}")]
    CountExceedsDenominator {
        /// The numerator supplied.
        count: u64,
        /// The denominator supplied.
        denominator: u64,
    },
    /// No observations were supplied.
    #[error("no observations")]
    Empty,
    /// Two inputs that must be parallel have different lengths.
    #[error("length mismatch: {what} has {got} entries, expected {expected}")]
    LengthMismatch {
        /// Which input was the wrong length.
        what: &'static str,
        /// Its length.
        got: usize,
        /// The length it should have had.
        expected: usize,
    },
    /// An input value is outside its domain (negative duration, NaN, count not an integer, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A confidence level outside (0, 1).
    #[error("confidence level must be in (0, 1), got {0}")]
    InvalidConfidenceLevel(f64),
    /// The information / design matrix is singular (collinear covariates, empty cells, separation).
    #[error("matrix is singular or not positive definite: {0}")]
    Singular(String),
    /// An iterative fit did not converge.
    #[error("did not converge after {iterations} iterations: {detail}")]
    NoConvergence {
        /// Iterations performed.
        iterations: usize,
        /// What failed to settle.
        detail: String,
    },
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, StatsError>;
