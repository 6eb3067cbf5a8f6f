//! # nrmp-stats — statistics for the National Register of Missing Persons
//!
//! Pure, deterministic statistics (no IO, no database, no async) behind every figure the
//! register publishes. The question the register exists to answer — *are more trafficked
//! children going missing from care after a National Referral Mechanism (NRM) referral, in
//! number or in proportion?* — needs counts *and* proportions with denominators and 95 %
//! confidence intervals, trends that are tested rather than eyeballed, time-to-first-missing
//! analysed with censoring, and disclosure control before anything leaves the building.
//!
//! | module | what it provides |
//! |---|---|
//! | [`proportion`] | [`Proportion`] with Wilson score intervals |
//! | [`survival`] | Kaplan–Meier with Greenwood variance, log-log / plain CIs, median and S(t) with CIs, log-rank test |
//! | [`regression`] | Poisson GLM with offset (rate ratios, trend per year), quasi-Poisson SEs, NB2 by maximum likelihood, logistic regression |
//! | [`cox`] | Cox proportional hazards (Efron or Breslow ties), hazard ratios, scaled Schoenfeld proportional-hazards test |
//! | [`disclosure`] | primary and complementary cell suppression for 2-D tables with margins, for any linear system of figures, and jointly for a set of linked tables (`LinkedTables`); rounding |
//! | [`table`] | a publishable table of counts / denominators / proportions rendered as text, CSV and JSON |
//! | [`chart`] | hand-written SVG: Kaplan–Meier curves with CI bands, yearly rates with CIs |
//!
//! Every estimator is checked in the test-suite against values produced by statsmodels and
//! lifelines; the fixtures and the script that generated them live in `fixtures/`.
//!
//! All fallible functions return [`StatsError`]; nothing panics on bad input.
//!
//! ```
//! use nrmp_stats::Proportion;
//! let p = Proportion::wilson(12, 80).unwrap();
//! assert!(p.ci_low < p.estimate && p.estimate < p.ci_high);
//! ```

// Index loops mirror the matrix algebra in the papers the estimators come from.
#![allow(clippy::needless_range_loop)]

pub mod chart;
pub mod cox;
pub mod disclosure;
pub mod dist;
pub mod error;
pub mod linalg;
pub mod proportion;
pub mod regression;
pub mod survival;
pub mod table;

pub use error::{Result, StatsError};
pub use proportion::Proportion;
