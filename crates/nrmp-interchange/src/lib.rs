//! # nrmp-interchange
//!
//! The register's file formats: what `nrmp synth --out DIR` and `nrmp export` write and
//! `nrmp import` reads. Every record kind has a JSON-lines form (one serde-serialised domain
//! object per line); the flat kinds also have a CSV form with a header row, meant to be read by a
//! statistician or another system. The full description of every file and column is in
//! `docs/formats.md` at the repository root.
//!
//! | kind | CSV | JSON lines |
//! |---|---|---|
//! | [`Organisation`] | `organisations.csv` | `organisations.jsonl` |
//! | [`Person`] | `persons.csv` | `persons.jsonl` |
//! | [`Incident`] | `incidents.csv` | `incidents.jsonl` |
//! | [`NrmReferral`] | `referrals.csv` | `referrals.jsonl` |
//! | [`Placement`] | `placements.csv` | `placements.jsonl` |
//! | [`TruthRow`] (synthetic only) | `truth.csv` | `truth.jsonl` |
//! | [`PrefilledProfile`] | — | `profiles.jsonl` |
//! | [`FoundPerson`] | — | `found_persons.jsonl` |
//!
//! Reading streams: [`Rows`] yields one `Result<T, RowErrors>` per row, each row parsed with
//! the domain parsers and checked with the aggregate's `validate()`. Errors name file, line,
//! field and problem:
//!
//! ```text
//! persons.csv:12: dob: `2009-13-01` is not a date (YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY)
//! ```
//!
//! ```
//! use nrmp_interchange::{DatasetFiles, DatasetWriter, Format};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = std::env::temp_dir().join(format!("nrmp-interchange-doc-{}", std::process::id()));
//! let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).ok_or("date")?;
//! let w = DatasetWriter::create(&dir, Format::Csv)?;
//! // w.write_person(&person)?; ...
//! let written = w.finish()?;
//! assert_eq!(written.len(), 5); // organisations, persons, incidents, referrals, placements
//!
//! let files = DatasetFiles::open(&dir)?;
//! if let Some(rows) = files.persons(today)? {
//!     for row in rows {
//!         match row {
//!             Ok(person) => { /* store it */ let _ = person; }
//!             Err(errors) => eprintln!("{errors}"),
//!         }
//!     }
//! }
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod cell;
mod dataset;
mod error;
mod kinds;
mod read;
mod record;
mod write;

#[cfg(test)]
mod tests;

pub use dataset::{DataFile, DatasetFiles, DatasetWriter, WrittenFile};
pub use error::{Error, RowError, RowErrors};
pub use kinds::truth::TruthRow;
pub use read::Rows;
pub use record::{CsvRecord, Format, Record, RecordKind, Row};
pub use write::{CsvWriter, JsonlWriter};

use chrono::NaiveDate;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::incident::Incident;
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::organisation::Organisation;
use nrmp_domain::person::Person;
use nrmp_domain::placement::Placement;
use nrmp_domain::profile::PrefilledProfile;
use std::path::Path;

/// Reads `organisations.csv` or `organisations.jsonl` (by extension).
pub fn read_organisations(path: impl AsRef<Path>) -> Result<Rows<Organisation>, Error> {
    Rows::open(path, NaiveDate::MIN)
}

/// Reads `persons.csv` or `persons.jsonl`; dates of birth after `today` (or more than 120
/// years before it) are refused.
pub fn read_persons(path: impl AsRef<Path>, today: NaiveDate) -> Result<Rows<Person>, Error> {
    Rows::open(path, today)
}

/// Reads `incidents.csv` or `incidents.jsonl`.
pub fn read_incidents(path: impl AsRef<Path>) -> Result<Rows<Incident>, Error> {
    Rows::open(path, NaiveDate::MIN)
}

/// Reads `referrals.csv` or `referrals.jsonl`.
pub fn read_referrals(path: impl AsRef<Path>) -> Result<Rows<NrmReferral>, Error> {
    Rows::open(path, NaiveDate::MIN)
}

/// Reads `placements.csv` or `placements.jsonl`.
pub fn read_placements(path: impl AsRef<Path>) -> Result<Rows<Placement>, Error> {
    Rows::open(path, NaiveDate::MIN)
}

/// Reads `truth.csv` or `truth.jsonl`.
pub fn read_truth(path: impl AsRef<Path>) -> Result<Rows<TruthRow>, Error> {
    Rows::open(path, NaiveDate::MIN)
}

/// Reads `profiles.jsonl` (profiles have no CSV form).
pub fn read_profiles(path: impl AsRef<Path>) -> Result<Rows<PrefilledProfile>, Error> {
    json_only(path.as_ref(), NaiveDate::MIN)
}

/// Reads `found_persons.jsonl` (found persons have no CSV form); dates of birth are checked
/// against `today`.
pub fn read_found_persons(
    path: impl AsRef<Path>,
    today: NaiveDate,
) -> Result<Rows<FoundPerson>, Error> {
    json_only(path.as_ref(), today)
}

fn json_only<T: Record>(path: &Path, today: NaiveDate) -> Result<Rows<T>, Error> {
    match Format::of_path(path) {
        Some(Format::Json) => Rows::open_jsonl(path, today),
        Some(Format::Csv) => Err(Error::NoCsvForm {
            file: path.display().to_string(),
            kind: T::KIND.stem(),
        }),
        None => Err(Error::UnknownFormat {
            file: path.display().to_string(),
        }),
    }
}
