//! # nrmp-synth
//!
//! A synthetic population for nrmp, calibrated to the published figures in
//! [`calibration`]: adults reported missing, children missing from home, looked-after,
//! unaccompanied and trafficked children (with placements and NRM referrals), adults referred to
//! the NRM — with their missing incidents, risk grades, returns and return-home interviews, and
//! deliberate duplicate records (with every [`variation::Variation`] listed) for evaluating
//! matching. No real personal data: names come from pools of common names in [`reference`].
//!
//! Pure: no IO, no clock. "Now" is [`Config::end`]; the same [`Config`] gives byte-identical
//! output, and each true person depends only on the seed and its index, so chunks can be
//! generated independently (and in parallel).
//!
//! With the `matching` feature, [`matching`] gives the population as identity-matching records
//! with its truth (for training and evaluating the matcher).
//!
//! ```
//! use nrmp_synth::{Config, Generator};
//! use chrono::TimeZone;
//! let end = chrono::Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
//! let generator = Generator::new(Config::new(42, 1_000, end)).unwrap();
//! let orgs = generator.organisations();
//! assert!(orgs.iter().any(|o| o.code.as_str() == "national:nmpu"));
//! let mut persons = 0;
//! for chunk in generator.chunks(250) {
//!     persons += chunk.persons.len();
//!     assert!(chunk.persons.iter().all(|p| p.validate().is_ok()));
//! }
//! assert!(persons >= 1_000); // duplicates come on top
//! ```
#![deny(missing_docs)]

pub mod calibration;
#[cfg(feature = "matching")]
pub mod hard_cases;
#[cfg(feature = "matching")]
pub mod matching;
mod names;
pub mod population;
pub mod reference;
pub mod sampling;
pub mod variation;

pub use population::{Cohort, Config, Generated, Generator, SynthError, TruthPerson};
pub use variation::{DuplicateRecord, RecordField, Variation};

#[cfg(test)]
mod tests;
