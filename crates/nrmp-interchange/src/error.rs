//! Errors: per-row problems ([`RowError`]) and whole-file problems ([`Error`]).

use std::fmt;
use std::io;

/// One problem with one field of one row, located by file and line.
///
/// Displays as `persons.csv:12: dob: `2009-13-01` is not a date (...)`. Lines count from 1; in a
/// CSV file the header is line 1, and a row whose quoted cells span several lines is reported at
/// the line where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The file's name (without its directory), e.g. `persons.csv`.
    pub file: String,
    /// The line the row starts on.
    pub line: u64,
    /// The column, or the path inside a multi-valued cell (`risk_history[1].at`); for JSON
    /// lines, the domain field path.
    pub field: String,
    /// What is wrong, in plain words.
    pub problem: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file, self.line, self.field, self.problem
        )
    }
}

impl std::error::Error for RowError {}

/// Every problem found in one row; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowErrors(pub Vec<RowError>);

impl RowErrors {
    /// The errors, in column order.
    pub fn errors(&self) -> &[RowError] {
        &self.0
    }

    /// The line of the row.
    pub fn line(&self) -> u64 {
        self.0.first().map_or(0, |e| e.line)
    }
}

impl fmt::Display for RowErrors {
    /// One error per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RowErrors {}

/// A problem with a whole file or directory, found when opening, creating or writing it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing failed.
    #[error("{file}: {source}")]
    Io {
        /// The file or directory.
        file: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The header row is wrong: unknown, missing or repeated columns (reported as line 1).
    #[error("{0}")]
    Header(RowErrors),
    /// The file's name does not end in `.csv` or `.jsonl`.
    #[error("{file}: cannot tell the format; the name must end in `.csv` or `.jsonl`")]
    UnknownFormat {
        /// The file.
        file: String,
    },
    /// This kind of record is written as JSON lines only.
    #[error("{file}: {kind} records have no CSV form; use `{kind}.jsonl`")]
    NoCsvForm {
        /// The file.
        file: String,
        /// The record kind's file stem.
        kind: &'static str,
    },
    /// Writing a dataset would put a file beside one of the same kind in the other format.
    #[error(
        "{dir}: already holds `{existing}`; writing `{writing}` beside it would make the dataset ambiguous (remove it or write elsewhere)"
    )]
    WouldMix {
        /// The directory.
        dir: String,
        /// The file already there.
        existing: String,
        /// The file that would be written.
        writing: String,
    },
    /// A dataset directory holds the same kind of record in two formats.
    #[error("{dir}: both `{csv}` and `{jsonl}` exist; keep only one of them")]
    Ambiguous {
        /// The directory.
        dir: String,
        /// The CSV file's name.
        csv: String,
        /// The JSON-lines file's name.
        jsonl: String,
    },
}

impl Error {
    pub(crate) fn io(file: impl fmt::Display, source: io::Error) -> Self {
        Self::Io {
            file: file.to_string(),
            source,
        }
    }
}
