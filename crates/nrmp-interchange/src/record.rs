//! What every record kind provides to the readers and writers: its file name, its JSON checks,
//! and (for the flat kinds) its CSV columns and row conversion.

use chrono::NaiveDate;
use nrmp_domain::{FieldError, ValidationErrors};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// File format of a dataset file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Comma-separated values with a header row (`.csv`).
    Csv,
    /// One JSON object per line (`.jsonl`).
    Json,
}

impl Format {
    /// The file extension, without the dot: `csv` or `jsonl`.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "jsonl",
        }
    }

    /// The format a file name's extension names, if any.
    pub fn of_path(path: &std::path::Path) -> Option<Self> {
        match path.extension()?.to_str()? {
            "csv" => Some(Self::Csv),
            "jsonl" => Some(Self::Json),
            _ => None,
        }
    }
}

/// The kinds of record a dataset holds, in the order an importer should load them
/// (organisations first, since every other record refers to them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    /// [`nrmp_domain::organisation::Organisation`] — `organisations.*`.
    Organisation,
    /// [`nrmp_domain::person::Person`] — `persons.*`.
    Person,
    /// [`nrmp_domain::profile::PrefilledProfile`] — `profiles.jsonl` (JSON lines only).
    Profile,
    /// [`nrmp_domain::incident::Incident`] — `incidents.*`.
    Incident,
    /// [`nrmp_domain::nrm::NrmReferral`] — `referrals.*`.
    Referral,
    /// [`nrmp_domain::placement::Placement`] — `placements.*`.
    Placement,
    /// [`nrmp_domain::found::FoundPerson`] — `found_persons.jsonl` (JSON lines only).
    FoundPerson,
    /// [`crate::TruthRow`] — `truth.*`, synthetic data only.
    Truth,
}

impl RecordKind {
    /// Every kind, in load order.
    pub const ALL: [Self; 8] = [
        Self::Organisation,
        Self::Person,
        Self::Profile,
        Self::Incident,
        Self::Referral,
        Self::Placement,
        Self::FoundPerson,
        Self::Truth,
    ];

    /// The file name without extension: `persons`, `found_persons`...
    pub fn stem(self) -> &'static str {
        match self {
            Self::Organisation => "organisations",
            Self::Person => "persons",
            Self::Profile => "profiles",
            Self::Incident => "incidents",
            Self::Referral => "referrals",
            Self::Placement => "placements",
            Self::FoundPerson => "found_persons",
            Self::Truth => "truth",
        }
    }

    /// False for the kinds written as JSON lines only (profiles, found persons).
    pub fn has_csv(self) -> bool {
        !matches!(self, Self::Profile | Self::FoundPerson)
    }

    /// The file name in `format`; JSON-lines-only kinds are always `.jsonl`.
    pub fn file_name(self, format: Format) -> String {
        let format = if self.has_csv() { format } else { Format::Json };
        format!("{}.{}", self.stem(), format.extension())
    }
}

/// A record that can be written to and read from a JSON-lines file.
pub trait Record: Serialize + DeserializeOwned + Sized {
    /// Which kind it is.
    const KIND: RecordKind;

    /// Checks a record deserialised from JSON as thoroughly as the CSV reader would. The domain
    /// types validate themselves while deserialising (names, heights, date-of-birth ranges,
    /// codes, identifiers); this adds what serde cannot know — dates of birth relative to
    /// `today` — and then the aggregate's `validate()`. Field paths are domain paths.
    fn check(self, today: NaiveDate) -> Result<Self, Vec<FieldError>>;
}

/// A record with a flat CSV form.
pub trait CsvRecord: Record {
    /// The header, in the order the writer emits columns. Readers accept any order.
    const COLUMNS: &'static [&'static str];

    /// The cells of one row, in [`CsvRecord::COLUMNS`] order.
    fn to_cells(&self) -> Vec<String>;

    /// Parses and validates one row; errors name the CSV column (or the path inside a
    /// multi-valued cell, such as `risk_history[1].at`).
    fn from_cells(row: &Row<'_>, today: NaiveDate) -> Result<Self, Vec<FieldError>>;
}

/// One CSV row, addressed by column name whatever the file's column order.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    columns: &'static [&'static str],
    cells: &'a csv::StringRecord,
    map: &'a [usize],
}

impl<'a> Row<'a> {
    pub(crate) fn new(
        columns: &'static [&'static str],
        cells: &'a csv::StringRecord,
        map: &'a [usize],
    ) -> Self {
        Self {
            columns,
            cells,
            map,
        }
    }

    /// The raw text of `column` ("" if the record kind has no such column).
    pub fn get(&self, column: &str) -> &'a str {
        debug_assert!(self.columns.contains(&column), "no column {column}");
        self.columns
            .iter()
            .position(|c| *c == column)
            .and_then(|i| self.map.get(i))
            .and_then(|&j| self.cells.get(j))
            .unwrap_or("")
    }

    /// The text of `column`, or `None` if it is empty or blank.
    pub fn opt(&self, column: &str) -> Option<&'a str> {
        Some(self.get(column)).filter(|s| !s.trim().is_empty())
    }
}

/// Parses the cells of one row, collecting every error.
pub(crate) struct Cells<'a> {
    pub(crate) row: Row<'a>,
    pub(crate) errors: Vec<FieldError>,
}

impl<'a> Cells<'a> {
    pub(crate) fn new(row: Row<'a>) -> Self {
        Self {
            row,
            errors: Vec::new(),
        }
    }

    /// Records a problem.
    pub(crate) fn push(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.errors.push(FieldError::new(field, problem));
    }

    /// Keeps a value or records its error.
    pub(crate) fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        r.map_err(|e| self.errors.push(e)).ok()
    }

    /// True if the column has a value.
    pub(crate) fn present(&self, column: &str) -> bool {
        self.row.opt(column).is_some()
    }

    /// The raw text of a column.
    pub(crate) fn text(&self, column: &str) -> String {
        self.row.get(column).to_owned()
    }

    /// The raw text of a column, `None` if empty.
    pub(crate) fn opt_text(&self, column: &str) -> Option<String> {
        self.row.opt(column).map(str::to_owned)
    }

    /// A required value: empty is an error.
    pub(crate) fn req<T>(
        &mut self,
        column: &str,
        parse: impl FnOnce(&str, &str) -> Result<T, FieldError>,
    ) -> Option<T> {
        match self.row.opt(column) {
            Some(s) => self.take(parse(column, s)),
            None => {
                self.push(column, "is empty");
                None
            }
        }
    }

    /// An optional value: `None` when empty (or unparseable — the error is recorded).
    pub(crate) fn opt<T>(
        &mut self,
        column: &str,
        parse: impl FnOnce(&str, &str) -> Result<T, FieldError>,
    ) -> Option<T> {
        let s = self.row.opt(column)?;
        self.take(parse(column, s))
    }

    /// A boolean column; empty is false.
    pub(crate) fn flag(&mut self, column: &str) -> bool {
        let s = self.row.get(column);
        self.take(crate::cell::parse_flag(column, s))
            .unwrap_or(false)
    }

    /// A list column; each entry is parsed by `parse(field, parts)` with `field` =
    /// `column[i]`. `None` if any entry failed.
    pub(crate) fn list<T>(
        &mut self,
        column: &str,
        parse: impl Fn(&str, &[String]) -> Result<T, ValidationErrors>,
    ) -> Option<Vec<T>> {
        let entries = self.take(crate::cell::split_list(column, self.row.get(column)))?;
        let before = self.errors.len();
        let mut out = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            match parse(&format!("{column}[{i}]"), e) {
                Ok(v) => out.push(v),
                Err(errs) => self.errors.extend(errs.0),
            }
        }
        (self.errors.len() == before).then_some(out)
    }

    /// A list of single values (`VNM;GBR`).
    pub(crate) fn values<T>(
        &mut self,
        column: &str,
        parse: impl Fn(&str, &str) -> Result<T, FieldError>,
    ) -> Option<Vec<T>> {
        self.list(column, |field, e| {
            let [v] = crate::cell::parts::<1>(field, e, 1, "value")?;
            Ok(parse(field, v)?)
        })
    }

    /// `Ok(value)` if no error was recorded, then the domain `validate` with its field paths
    /// mapped to column names by `column_of`.
    pub(crate) fn finish<T>(
        self,
        build: impl FnOnce() -> Option<T>,
        validate: impl FnOnce(&T) -> Result<(), ValidationErrors>,
        column_of: impl Fn(&str) -> String,
    ) -> Result<T, Vec<FieldError>> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        let value = build().ok_or_else(|| vec![FieldError::new("row", "incomplete")])?;
        validate(&value).map_err(|e| {
            e.0.into_iter()
                .map(|e| FieldError::new(column_of(&e.field), e.problem))
                .collect::<Vec<_>>()
        })?;
        Ok(value)
    }
}

/// Runs a domain `validate()` for a JSON record, keeping its field paths.
pub(crate) fn validated<T>(
    value: T,
    mut errors: Vec<FieldError>,
    validate: impl FnOnce(&T) -> Result<(), ValidationErrors>,
) -> Result<T, Vec<FieldError>> {
    if let Err(e) = validate(&value) {
        errors.extend(e.0);
    }
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(errors)
    }
}
