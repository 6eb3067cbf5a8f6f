//! Input types: the caller-side description of a person to be matched.
//!
//! [`MatchRecord`] is deliberately independent of the domain crate so that any
//! producer (register, encounter form, CSV import, synthetic generator) can build
//! one with a few lines of code.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// One name by which a person is known (main name or alias).
///
/// `given` may hold several space-separated parts. The distinction between
/// `given` and `family` is advisory only: comparisons allow any order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PersonName {
    /// Given name(s), e.g. `"Duc Van"` or `"Mohammed Ali"`.
    pub given: String,
    /// Family name, e.g. `"Nguyen"`.
    pub family: String,
    /// The name as written in its original script (Arabic, Ge'ez, Cyrillic ...), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_script: Option<String>,
}

impl PersonName {
    /// A name from given and family parts.
    pub fn new(given: impl Into<String>, family: impl Into<String>) -> Self {
        Self {
            given: given.into(),
            family: family.into(),
            original_script: None,
        }
    }

    /// A name written as one string in any order (everything is kept in `given`).
    pub fn full(text: impl Into<String>) -> Self {
        Self {
            given: text.into(),
            family: String::new(),
            original_script: None,
        }
    }

    /// Adds the original-script form of this name.
    #[must_use]
    pub fn with_original(mut self, original: impl Into<String>) -> Self {
        self.original_script = Some(original.into());
        self
    }

    /// Given and family joined with a space (for display).
    pub fn display(&self) -> String {
        match (self.given.trim(), self.family.trim()) {
            ("", f) => f.to_string(),
            (g, "") => g.to_string(),
            (g, f) => format!("{g} {f}"),
        }
    }
}

/// How a date of birth is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DobKind {
    /// A precise date (documented or stated).
    Exact,
    /// Approximately known ("born around 1990", "spring 2004").
    Approximate,
    /// The result of an age assessment: a band of possible dates.
    AgeAssessed,
}

/// A date of birth as an inclusive range `earliest..=latest` with its provenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DobRange {
    /// Earliest possible date of birth.
    pub earliest: NaiveDate,
    /// Latest possible date of birth (`>= earliest`).
    pub latest: NaiveDate,
    /// How the date is known.
    pub kind: DobKind,
}

impl DobRange {
    /// An exact date of birth.
    pub fn exact(date: NaiveDate) -> Self {
        Self {
            earliest: date,
            latest: date,
            kind: DobKind::Exact,
        }
    }

    /// A range; the bounds are swapped if given in the wrong order.
    pub fn range(a: NaiveDate, b: NaiveDate, kind: DobKind) -> Self {
        let (earliest, latest) = if a <= b { (a, b) } else { (b, a) };
        Self {
            earliest,
            latest,
            kind,
        }
    }

    /// A whole calendar year, e.g. "born 1990" (`Approximate`). `None` for an invalid year.
    pub fn year(year: i32) -> Option<Self> {
        Some(Self::range(
            NaiveDate::from_ymd_opt(year, 1, 1)?,
            NaiveDate::from_ymd_opt(year, 12, 31)?,
            DobKind::Approximate,
        ))
    }

    /// True if the range is a single day.
    pub fn is_point(&self) -> bool {
        self.earliest == self.latest
    }

    /// Years touched by the range (inclusive).
    pub fn years(&self) -> std::ops::RangeInclusive<i32> {
        self.earliest.year()..=self.latest.year()
    }
}

/// Recorded sex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Male.
    Male,
    /// Female.
    Female,
    /// Other / non-binary.
    Other,
    /// Not known (treated as missing).
    Unknown,
}

/// Everything the matcher knows about one person record.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MatchRecord {
    /// Caller's identifier, returned in candidates and pairs.
    pub id: String,
    /// Main name first, then aliases.
    #[serde(default)]
    pub names: Vec<PersonName>,
    /// Date of birth, possibly a range.
    #[serde(default)]
    pub dob: Option<DobRange>,
    /// Recorded sex.
    #[serde(default)]
    pub sex: Option<Sex>,
    /// Nationalities as ISO 3166 alpha-3 codes.
    #[serde(default)]
    pub nationalities: Vec<String>,
    /// Height range in centimetres (min, max).
    #[serde(default)]
    pub height_cm: Option<(u16, u16)>,
    /// Distinguishing marks as free text ("scar left cheek").
    #[serde(default)]
    pub marks: Vec<String>,
    /// Identifiers as (kind, value), e.g. ("passport", "X1234567").
    #[serde(default)]
    pub identifiers: Vec<(String, String)>,
    /// Generic text fields as (field name, value), e.g. ("last_seen_town", "Croydon").
    #[serde(default)]
    pub text_fields: Vec<(String, String)>,
}

impl MatchRecord {
    /// A record with only an id; fill the rest with the builder methods or directly.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            ..Self::default()
        }
    }

    /// Adds a name (the first added is the main name).
    #[must_use]
    pub fn with_name(mut self, name: PersonName) -> Self {
        self.names.push(name);
        self
    }

    /// Sets the date of birth.
    #[must_use]
    pub fn with_dob(mut self, dob: DobRange) -> Self {
        self.dob = Some(dob);
        self
    }

    /// Sets the sex.
    #[must_use]
    pub fn with_sex(mut self, sex: Sex) -> Self {
        self.sex = Some(sex);
        self
    }

    /// Adds a nationality (ISO alpha-3).
    #[must_use]
    pub fn with_nationality(mut self, code: impl Into<String>) -> Self {
        self.nationalities.push(code.into());
        self
    }

    /// Adds an identifier.
    #[must_use]
    pub fn with_identifier(mut self, kind: impl Into<String>, value: impl Into<String>) -> Self {
        self.identifiers.push((kind.into(), value.into()));
        self
    }

    /// Adds a distinguishing mark.
    #[must_use]
    pub fn with_mark(mut self, mark: impl Into<String>) -> Self {
        self.marks.push(mark.into());
        self
    }

    /// Adds a generic text field.
    #[must_use]
    pub fn with_text(mut self, field: impl Into<String>, value: impl Into<String>) -> Self {
        self.text_fields.push((field.into(), value.into()));
        self
    }
}
