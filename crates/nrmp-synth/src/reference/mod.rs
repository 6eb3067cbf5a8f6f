//! Reference data the synthetic population generator draws on, embedded at compile time from
//! `crates/nrmp-synth/data/` (see `data/README.md` for columns and sources).
//!
//! * [`police_forces`]: the 43 territorial police forces of England and Wales plus British Transport
//!   Police, with rough resident-population weights.
//! * [`local_authorities`]: the 153 English local authorities with children's-services
//!   responsibility (2024 structure) and the 22 Welsh principal councils, each with its territorial
//!   police force and a rough child-population weight.
//! * [`name_pool`]: common given / middle / family names per nationality (ISO alpha-3), in original
//!   script with the Latin spellings records show. Compiled from public lists of common names; no
//!   real individuals.
//!
//! The files are parsed once, lazily. Accessors are infallible: if embedded data ever failed to
//! parse they would return empty results, so [`validate`] exposes the error and the crate's tests
//! assert it passes. A generator may call [`validate`] once at start-up to be certain.

mod csv;
mod names;
mod organisations;

use std::error::Error;
use std::fmt;

pub use names::{
    NameEntry, NamePart, NamePool, NameSex, NamingConvention, is_plain_latin, name_pool,
    name_pools, nationalities,
};
pub use organisations::{
    ENGLAND_AND_WALES, LocalAuthority, PoliceForce, authorities_in_force, local_authorities,
    local_authority, police_force, police_forces,
};

/// A problem in an embedded reference file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceError {
    /// File path relative to the crate, e.g. `data/names/vnm.csv`.
    pub file: &'static str,
    /// 1-based line number, or 0 when the problem is not tied to one line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl ReferenceError {
    fn new(file: &'static str, line: usize, message: impl Into<String>) -> Self {
        Self {
            file,
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl Error for ReferenceError {}

/// Parses every embedded file and checks cross-references; returns the first problem found.
pub fn validate() -> Result<(), ReferenceError> {
    organisations::validate()?;
    names::validate()
}

/// Picks one item with probability proportional to `weight`, using `ticket` (a uniformly random
/// `u64` from the caller's seeded RNG) as the source of randomness. Returns `None` if `items` is
/// empty or every weight is zero. Modulo bias is negligible for the small totals used here.
pub fn pick_by_weight<T>(items: &[T], weight: impl Fn(&T) -> u32, ticket: u64) -> Option<&T> {
    let total: u64 = items.iter().map(|item| u64::from(weight(item))).sum();
    if total == 0 {
        return None;
    }
    let mut remaining = ticket % total;
    for item in items {
        let w = u64::from(weight(item));
        if remaining < w {
            return Some(item);
        }
        remaining -= w;
    }
    None
}

#[cfg(test)]
mod tests;
