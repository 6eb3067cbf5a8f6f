//! # nrmp-domain
//!
//! The domain model of nrmp, the National Register of Missing Persons: its types, their parsing
//! and validation ("parse, don't validate" — a value of a domain type is always valid), the
//! invariants that span records, and the risk flags the register derives. No IO, no async:
//! time comes in from an injected [`clock::Clock`], ids from an injected [`ids::IdGen`].
//!
//! ```
//! use nrmp_domain::person::{DateOfBirth, Sex};
//! let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
//! let dob = DateOfBirth::parse("dob", "2008-01-01..2009-12-31", today).unwrap();
//! assert_eq!(dob.to_text(), "2008-01-01..2009-12-31");
//! let err = Sex::parse("sex", "q").unwrap_err();
//! assert_eq!(err.to_string(), "sex: `q` is not a sex (male, female, other, unknown)");
//! ```
#![deny(missing_docs)]

pub mod access;
pub mod account;
pub mod alert;
pub mod audit;
pub mod clock;
pub mod error;
pub mod flags;
pub mod found;
pub mod identifier;
pub mod ids;
pub mod incident;
pub mod nrm;
pub mod organisation;
pub mod person;
pub mod placement;
pub mod profile;
pub mod retention;
pub mod text;

pub use error::{FieldError, ValidationErrors};
