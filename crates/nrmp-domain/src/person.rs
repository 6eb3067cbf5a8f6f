//! A person: one human across all incidents and agencies.
//!
//! Names may be written in several scripts and orders, dates of birth may be exact, approximate,
//! age-assessed or disputed, and identifiers are typed and validated.

use crate::error::{Collector, FieldError, ValidationErrors};
use crate::identifier::Identifier;
use crate::ids::PersonId;
use crate::organisation::OrgCode;
use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// Which of a person's names this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameKind {
    /// The name the register knows them by.
    Primary,
    /// Another name they have used or been recorded under.
    Alias,
    /// A name from a document (passport, Home Office record).
    Documented,
}

impl NameKind {
    /// Parses `primary`, `alias` or `documented`.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "primary" => Ok(Self::Primary),
            "alias" | "aka" => Ok(Self::Alias),
            "documented" | "document" => Ok(Self::Documented),
            other => Err(FieldError::new(
                field,
                format!("`{other}` is not a name kind (primary, alias, documented)"),
            )),
        }
    }

    /// The snake_case name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Alias => "alias",
            Self::Documented => "documented",
        }
    }
}

/// One name of a person, as written and in Latin transliteration.
///
/// Deserialising re-runs [`PersonName::parse`], so JSON cannot build a name that `parse` would
/// refuse (and whitespace is normalised the same way).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "PersonNameRepr")]
pub struct PersonName {
    /// Primary, alias or documented.
    pub kind: NameKind,
    /// Given name(s) in Latin script, as recorded (may hold several words).
    pub given: String,
    /// Family name(s) in Latin script, as recorded; empty for people with a single name.
    pub family: String,
    /// The full name as written in its original script (Arabic, Ge'ez, Vietnamese with
    /// diacritics...), if it was recorded.
    pub original: Option<String>,
    /// True when it is not known which part is the family name (a name heard, not read).
    pub order_unknown: bool,
}

impl PersonName {
    /// Parses a name from its parts; at least one of given / family must be present.
    pub fn parse(
        kind: NameKind,
        given: &str,
        family: &str,
        original: Option<&str>,
        order_unknown: bool,
    ) -> Result<Self, ValidationErrors> {
        let mut c = Collector::new();
        let given = c.take(name_text("given", given)).unwrap_or_default();
        let family = c.take(name_text("family", family)).unwrap_or_default();
        if given.is_empty() && family.is_empty() && !c.has_errors() {
            c.push("given", "a name needs a given or a family name");
        }
        let original = original
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .and_then(|o| c.take(name_text("original", o)));
        c.finish(|| {
            Some(Self {
                kind,
                given,
                family,
                original,
                order_unknown,
            })
        })
    }

    /// "given family", trimmed.
    pub fn full(&self) -> String {
        match (self.given.is_empty(), self.family.is_empty()) {
            (false, false) => format!("{} {}", self.given, self.family),
            (false, true) => self.given.clone(),
            _ => self.family.clone(),
        }
    }
}

/// The serde shape of [`PersonName`], accepted unchecked and then parsed.
#[derive(serde::Deserialize)]
struct PersonNameRepr {
    kind: NameKind,
    given: String,
    family: String,
    original: Option<String>,
    order_unknown: bool,
}

impl TryFrom<PersonNameRepr> for PersonName {
    type Error = ValidationErrors;
    fn try_from(r: PersonNameRepr) -> Result<Self, Self::Error> {
        Self::parse(
            r.kind,
            &r.given,
            &r.family,
            r.original.as_deref(),
            r.order_unknown,
        )
    }
}

fn name_text(field: &str, s: &str) -> Result<String, FieldError> {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 200 {
        return Err(FieldError::new(field, "is longer than 200 characters"));
    }
    if let Some(c) = s.chars().find(|c| c.is_control() || c.is_ascii_digit()) {
        return Err(FieldError::new(
            field,
            format!("contains {c:?}, which cannot be part of a name"),
        ));
    }
    Ok(s)
}

/// A date of birth as precisely as it is known.
///
/// Deserialising checks what can be checked without knowing today's date: ranges do not end
/// before they start, a month is 1–12 and a year is a representable calendar year. Whether the
/// date lies in the future is for the caller to check (see [`DateOfBirth::parse`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", try_from = "DateOfBirthRepr")]
pub enum DateOfBirth {
    /// Known exactly (e.g. from a document).
    Exact {
        /// The date.
        date: NaiveDate,
    },
    /// Only the year (and perhaps month) is known.
    Approximate {
        /// Year of birth.
        year: i32,
        /// Month of birth, 1–12, if known.
        month: Option<u32>,
    },
    /// No reliable date; an age assessment put birth in this range.
    AgeAssessed {
        /// Earliest plausible date of birth.
        earliest: NaiveDate,
        /// Latest plausible date of birth.
        latest: NaiveDate,
        /// When the assessment was made.
        assessed_on: Option<NaiveDate>,
    },
    /// The person claims one date; an assessment disputes it.
    Disputed {
        /// The date the person gave.
        claimed: NaiveDate,
        /// Earliest date according to the assessment.
        assessed_earliest: NaiveDate,
        /// Latest date according to the assessment.
        assessed_latest: NaiveDate,
    },
}

impl DateOfBirth {
    /// The range of dates of birth this allows, inclusive.
    pub fn range(&self) -> (NaiveDate, NaiveDate) {
        match *self {
            Self::Exact { date } => (date, date),
            Self::Approximate { year, month } => {
                let (m0, m1) = month.map_or((1, 12), |m| (m, m));
                let start = NaiveDate::from_ymd_opt(year, m0, 1).unwrap_or(NaiveDate::MIN);
                let end = last_day_of_month(year, m1).unwrap_or(NaiveDate::MAX);
                (start, end)
            }
            Self::AgeAssessed {
                earliest, latest, ..
            } => (earliest, latest),
            Self::Disputed {
                claimed,
                assessed_earliest,
                assessed_latest,
            } => (claimed.min(assessed_earliest), claimed.max(assessed_latest)),
        }
    }

    /// The single best estimate: the exact date, the claimed date, or the middle of the range.
    pub fn best_estimate(&self) -> NaiveDate {
        match *self {
            Self::Exact { date } => date,
            Self::Disputed { claimed, .. } => claimed,
            _ => {
                let (a, b) = self.range();
                a + (b - a) / 2
            }
        }
    }

    /// Age in whole years on `on`, by the best estimate.
    pub fn age_on(&self, on: NaiveDate) -> i32 {
        let b = self.best_estimate();
        let mut age = on.year() - b.year();
        if (on.month(), on.day()) < (b.month(), b.day()) {
            age -= 1;
        }
        age
    }

    /// Parses a date of birth from text: `YYYY-MM-DD`, `DD/MM/YYYY`, `YYYYMMDD` (exact),
    /// `YYYY` or `YYYY-MM` (approximate), `YYYY-MM-DD..YYYY-MM-DD` (age-assessed range), or
    /// `YYYY-MM-DD?YYYY-MM-DD..YYYY-MM-DD` (claimed date, disputed by an assessed range).
    /// Dates after `today` are refused.
    pub fn parse(field: &str, s: &str, today: NaiveDate) -> Result<Self, FieldError> {
        let s = s.trim();
        let dob = if let Some((claimed, range)) = s.split_once('?') {
            let claimed = parse_date(field, claimed)?;
            let (a, b) = parse_range(field, range)?;
            Self::Disputed {
                claimed,
                assessed_earliest: a,
                assessed_latest: b,
            }
        } else if s.contains("..") {
            let (a, b) = parse_range(field, s)?;
            Self::AgeAssessed {
                earliest: a,
                latest: b,
                assessed_on: None,
            }
        } else if s.len() == 4 && s.chars().all(|c| c.is_ascii_digit()) {
            Self::Approximate {
                year: parse_year(field, s)?,
                month: None,
            }
        } else if s.len() == 7 && s.as_bytes()[4] == b'-' {
            let year = parse_year(field, &s[..4])?;
            let month = s[5..]
                .parse::<u32>()
                .ok()
                .filter(|m| (1..=12).contains(m))
                .ok_or_else(|| FieldError::new(field, format!("`{s}` has no valid month")))?;
            Self::Approximate {
                year,
                month: Some(month),
            }
        } else {
            Self::Exact {
                date: parse_date(field, s)?,
            }
        };
        dob.check_on(field, today)
            .map_err(|e| FieldError::new(field, format!("`{s}` {}", e.problem)))?;
        Ok(dob)
    }

    /// The longest ago, in years before today, that a date of birth may lie.
    pub const MAX_AGE_YEARS: i32 = 120;

    /// The register's one rule for a date of birth, whichever way it arrives (typed into the
    /// API as JSON, read by the importer as text, or parsed for an encounter check): none of
    /// the dates it allows lies after `today`, and not all of them more than
    /// [`DateOfBirth::MAX_AGE_YEARS`] years before it. So year 0, negative years and an
    /// approximate year −5000 are refused everywhere alike, and what the API stores the
    /// importer accepts back.
    pub fn check_on(&self, field: &str, today: NaiveDate) -> Result<(), FieldError> {
        let (earliest, latest) = self.range();
        if earliest > today {
            return Err(FieldError::new(field, "is in the future"));
        }
        if today.year() - latest.year() > Self::MAX_AGE_YEARS {
            return Err(FieldError::new(
                field,
                format!("is more than {} years ago", Self::MAX_AGE_YEARS),
            ));
        }
        Ok(())
    }

    /// The canonical text form accepted by [`DateOfBirth::parse`].
    ///
    /// The `assessed_on` date of [`DateOfBirth::AgeAssessed`] is not part of the text form:
    /// it is dropped here, and [`DateOfBirth::parse`] always gives `assessed_on: None`. Callers
    /// that need it must carry it separately (the interchange CSV has a `dob_assessed_on` column).
    pub fn to_text(&self) -> String {
        match self {
            Self::Exact { date } => date.to_string(),
            Self::Approximate { year, month: None } => format!("{year:04}"),
            Self::Approximate {
                year,
                month: Some(m),
            } => format!("{year:04}-{m:02}"),
            Self::AgeAssessed {
                earliest, latest, ..
            } => format!("{earliest}..{latest}"),
            Self::Disputed {
                claimed,
                assessed_earliest,
                assessed_latest,
            } => format!("{claimed}?{assessed_earliest}..{assessed_latest}"),
        }
    }
}

/// The serde shape of [`DateOfBirth`], accepted unchecked and then checked.
#[derive(serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum DateOfBirthRepr {
    Exact {
        date: NaiveDate,
    },
    Approximate {
        year: i32,
        month: Option<u32>,
    },
    AgeAssessed {
        earliest: NaiveDate,
        latest: NaiveDate,
        assessed_on: Option<NaiveDate>,
    },
    Disputed {
        claimed: NaiveDate,
        assessed_earliest: NaiveDate,
        assessed_latest: NaiveDate,
    },
}

impl TryFrom<DateOfBirthRepr> for DateOfBirth {
    type Error = FieldError;
    fn try_from(r: DateOfBirthRepr) -> Result<Self, Self::Error> {
        const FIELD: &str = "dob";
        let ordered = |a: NaiveDate, b: NaiveDate| {
            if a > b {
                Err(FieldError::new(
                    FIELD,
                    format!("range `{a}..{b}` ends before it starts"),
                ))
            } else {
                Ok(())
            }
        };
        Ok(match r {
            DateOfBirthRepr::Exact { date } => Self::Exact { date },
            DateOfBirthRepr::Approximate { year, month } => {
                if let Some(m) = month
                    && !(1..=12).contains(&m)
                {
                    return Err(FieldError::new(
                        FIELD,
                        format!("month {m} is not a month (1–12)"),
                    ));
                }
                if NaiveDate::from_ymd_opt(year, 1, 1).is_none()
                    || last_day_of_month(year, 12).is_none()
                {
                    return Err(FieldError::new(
                        FIELD,
                        format!("year {year} is not a calendar year"),
                    ));
                }
                Self::Approximate { year, month }
            }
            DateOfBirthRepr::AgeAssessed {
                earliest,
                latest,
                assessed_on,
            } => {
                ordered(earliest, latest)?;
                Self::AgeAssessed {
                    earliest,
                    latest,
                    assessed_on,
                }
            }
            DateOfBirthRepr::Disputed {
                claimed,
                assessed_earliest,
                assessed_latest,
            } => {
                ordered(assessed_earliest, assessed_latest)?;
                Self::Disputed {
                    claimed,
                    assessed_earliest,
                    assessed_latest,
                }
            }
        })
    }
}

fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt()
}

fn parse_year(field: &str, s: &str) -> Result<i32, FieldError> {
    s.parse::<i32>()
        .ok()
        .filter(|y| (1850..=9999).contains(y))
        .ok_or_else(|| FieldError::new(field, format!("`{s}` is not a year")))
}

fn parse_range(field: &str, s: &str) -> Result<(NaiveDate, NaiveDate), FieldError> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| FieldError::new(field, format!("`{s}` is not a range `FROM..TO`")))?;
    let (a, b) = (parse_date(field, a)?, parse_date(field, b)?);
    if a > b {
        return Err(FieldError::new(
            field,
            format!("range `{s}` ends before it starts"),
        ));
    }
    Ok((a, b))
}

/// Parses a calendar date in ISO (`YYYY-MM-DD`), compact (`YYYYMMDD`) or UK (`DD/MM/YYYY`) form.
pub fn parse_date(field: &str, s: &str) -> Result<NaiveDate, FieldError> {
    let s = s.trim();
    let parsed = if s.contains('/') {
        NaiveDate::parse_from_str(s, "%d/%m/%Y")
    } else if s.len() == 8 && s.chars().all(|c| c.is_ascii_digit()) {
        NaiveDate::parse_from_str(s, "%Y%m%d")
    } else {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
    };
    parsed.map_err(|_| {
        FieldError::new(
            field,
            format!("`{s}` is not a date (YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY)"),
        )
    })
}

/// Sex as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Male.
    Male,
    /// Female.
    Female,
    /// Another sex or intersex.
    Other,
    /// Not known or not recorded.
    Unknown,
}

impl Sex {
    /// Parses `male`/`m`, `female`/`f`, `other`/`x`, `unknown`/`u`/empty.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "m" | "male" => Ok(Self::Male),
            "f" | "female" => Ok(Self::Female),
            "x" | "o" | "other" => Ok(Self::Other),
            "" | "u" | "unknown" => Ok(Self::Unknown),
            other => Err(FieldError::new(
                field,
                format!("`{other}` is not a sex (male, female, other, unknown)"),
            )),
        }
    }

    /// The snake_case name, as serde writes it: `male`, `female`, `other` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
            Self::Other => "other",
            Self::Unknown => "unknown",
        }
    }

    /// One-letter code: M, F, X or U.
    pub fn code(self) -> &'static str {
        match self {
            Self::Male => "M",
            Self::Female => "F",
            Self::Other => "X",
            Self::Unknown => "U",
        }
    }
}

/// A nationality as an ISO 3166-1 alpha-3 code (`GBR`, `VNM`, `ALB`, `ERI`...).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Nationality(String);

impl Nationality {
    /// Parses a three-letter code (case-insensitive); `XXA` stateless, `XXX` unknown are allowed.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        let up = s.trim().to_ascii_uppercase();
        if up.len() == 3 && up.chars().all(|c| c.is_ascii_uppercase()) {
            Ok(Self(up))
        } else {
            Err(FieldError::new(
                field,
                format!(
                    "`{}` is not an ISO 3166 alpha-3 country code (e.g. GBR, VNM)",
                    s.trim()
                ),
            ))
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Nationality {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse("nationality", &s)
    }
}

impl From<Nationality> for String {
    fn from(n: Nationality) -> Self {
        n.0
    }
}

/// A language as an ISO 639 code (`en`, `vi`, `sq`, `ti`, `ar`, `fa`, `ps`, `ku`...).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Language(String);

impl Language {
    /// Parses a two- or three-letter ISO 639 code.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        let low = s.trim().to_ascii_lowercase();
        if (2..=3).contains(&low.len()) && low.chars().all(|c| c.is_ascii_lowercase()) {
            Ok(Self(low))
        } else {
            Err(FieldError::new(
                field,
                format!(
                    "`{}` is not an ISO 639 language code (e.g. en, vi, ti)",
                    s.trim()
                ),
            ))
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Language {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse("language", &s)
    }
}

impl From<Language> for String {
    fn from(l: Language) -> Self {
        l.0
    }
}

/// Build, as officers describe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Build {
    /// Slim or thin.
    Slim,
    /// Medium or average.
    Medium,
    /// Stocky, heavy or muscular.
    Heavy,
}

impl Build {
    /// Parses `slim`, `medium` or `heavy` (case-insensitive).
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "slim" => Ok(Self::Slim),
            "medium" => Ok(Self::Medium),
            "heavy" => Ok(Self::Heavy),
            other => Err(FieldError::new(
                field,
                format!("`{other}` is not a build (slim, medium, heavy)"),
            )),
        }
    }

    /// The snake_case name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slim => "slim",
            Self::Medium => "medium",
            Self::Heavy => "heavy",
        }
    }
}

/// A distinguishing mark.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mark {
    /// Scar, tattoo, birthmark, piercing...
    pub kind: MarkKind,
    /// Where on the body, e.g. "left forearm".
    pub location: String,
    /// What it looks like, e.g. "rose".
    pub description: String,
}

/// Kind of distinguishing mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkKind {
    /// A scar.
    Scar,
    /// A tattoo.
    Tattoo,
    /// A birthmark.
    Birthmark,
    /// A piercing.
    Piercing,
    /// Anything else.
    Other,
}

impl MarkKind {
    /// Parses `scar`, `tattoo`, `birthmark`, `piercing` or `other` (case-insensitive).
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "scar" => Ok(Self::Scar),
            "tattoo" => Ok(Self::Tattoo),
            "birthmark" => Ok(Self::Birthmark),
            "piercing" => Ok(Self::Piercing),
            "other" => Ok(Self::Other),
            other => Err(FieldError::new(
                field,
                format!(
                    "`{other}` is not a kind of mark (scar, tattoo, birthmark, piercing, other)"
                ),
            )),
        }
    }

    /// The snake_case name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scar => "scar",
            Self::Tattoo => "tattoo",
            Self::Birthmark => "birthmark",
            Self::Piercing => "piercing",
            Self::Other => "other",
        }
    }
}

/// Metadata about a photograph held elsewhere (the register keeps no images).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PhotoMeta {
    /// When it was taken, if known.
    pub taken_on: Option<NaiveDate>,
    /// Which organisation holds it.
    pub held_by: OrgCode,
    /// That organisation's reference for it.
    pub reference: String,
}

/// A physical description.
///
/// Deserialising checks the height range as [`Description::parse_height`] does (40–250 cm,
/// minimum not above maximum).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "DescriptionRepr")]
pub struct Description {
    /// Height range in centimetres (min, max), each within 40–250 and min ≤ max.
    pub height_cm: Option<(u16, u16)>,
    /// Build.
    pub build: Option<Build>,
    /// Hair, free text.
    pub hair: Option<String>,
    /// Eye colour, free text.
    pub eyes: Option<String>,
    /// Distinguishing marks.
    pub marks: Vec<Mark>,
    /// Photographs' metadata.
    pub photos: Vec<PhotoMeta>,
}

impl Description {
    /// Parses a height like `170`, `165-175` (centimetres).
    pub fn parse_height(field: &str, s: &str) -> Result<(u16, u16), FieldError> {
        let s = s.trim();
        let bad = || {
            FieldError::new(
                field,
                format!("`{s}` is not a height in cm (`170` or `165-175`)"),
            )
        };
        let (a, b) = match s.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (s, s),
        };
        let a: u16 = a.parse().map_err(|_| bad())?;
        let b: u16 = b.parse().map_err(|_| bad())?;
        check_height(field, (a, b), s)
    }
}

/// Checks a height range; `shown` is how the input is quoted in errors.
fn check_height(field: &str, (a, b): (u16, u16), shown: &str) -> Result<(u16, u16), FieldError> {
    if !(40..=250).contains(&a) || !(40..=250).contains(&b) {
        return Err(FieldError::new(
            field,
            format!("`{shown}` is outside 40–250 cm"),
        ));
    }
    if a > b {
        return Err(FieldError::new(
            field,
            format!("`{shown}`: minimum above maximum"),
        ));
    }
    Ok((a, b))
}

/// The serde shape of [`Description`], accepted unchecked and then checked.
#[derive(serde::Deserialize)]
struct DescriptionRepr {
    height_cm: Option<(u16, u16)>,
    build: Option<Build>,
    hair: Option<String>,
    eyes: Option<String>,
    marks: Vec<Mark>,
    photos: Vec<PhotoMeta>,
}

impl TryFrom<DescriptionRepr> for Description {
    type Error = FieldError;
    fn try_from(r: DescriptionRepr) -> Result<Self, Self::Error> {
        let height_cm = r
            .height_cm
            .map(|(a, b)| check_height("height_cm", (a, b), &format!("[{a}, {b}]")))
            .transpose()?;
        Ok(Self {
            height_cm,
            build: r.build,
            hair: r.hair,
            eyes: r.eyes,
            marks: r.marks,
            photos: r.photos,
        })
    }
}

/// One human being, as the register knows them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Person {
    /// The person's id.
    pub id: PersonId,
    /// The organisation that created and owns the record.
    pub owning_org: OrgCode,
    /// Names; the first primary one is the display name.
    pub names: Vec<PersonName>,
    /// Date of birth, if anything is known.
    pub dob: Option<DateOfBirth>,
    /// Sex.
    pub sex: Sex,
    /// Nationalities (ISO alpha-3).
    pub nationalities: Vec<Nationality>,
    /// Languages spoken.
    pub languages: Vec<Language>,
    /// Typed identifiers.
    pub identifiers: Vec<Identifier>,
    /// Physical description.
    pub description: Description,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// When the record was last changed.
    pub updated_at: DateTime<Utc>,
}

impl Person {
    /// The display name: the first primary name, else the first name.
    pub fn display_name(&self) -> String {
        self.names
            .iter()
            .find(|n| n.kind == NameKind::Primary)
            .or_else(|| self.names.first())
            .map(PersonName::full)
            .unwrap_or_default()
    }

    /// Checks invariants that span fields.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Collector::new();
        if self.names.is_empty() {
            c.push("names", "a person needs at least one name");
        }
        if self.updated_at < self.created_at {
            c.push("updated_at", "is before created_at");
        }
        if let Some((a, b)) = self.description.height_cm
            && a > b
        {
            c.push("description.height_cm", "minimum above maximum");
        }
        let mut seen = std::collections::HashSet::new();
        for (i, id) in self.identifiers.iter().enumerate() {
            if !seen.insert((id.kind(), id.value())) {
                c.push(format!("identifiers[{i}]"), "is listed twice");
            }
        }
        c.finish(|| Some(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    #[test]
    fn dob_forms_parse_to_the_right_kind_and_range() {
        let d = |s| DateOfBirth::parse("dob", s, today()).unwrap();
        assert_eq!(d("2009-03-04").range().0.to_string(), "2009-03-04");
        assert_eq!(d("04/03/2009"), d("2009-03-04"));
        assert_eq!(d("20090304"), d("2009-03-04"));
        let (a, b) = d("2009").range();
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("2009-01-01".into(), "2009-12-31".into())
        );
        let (a, b) = d("2008-02").range();
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("2008-02-01".into(), "2008-02-29".into())
        );
        let assessed = d("2007-01-01..2009-12-31");
        assert!(matches!(assessed, DateOfBirth::AgeAssessed { .. }));
        let disputed = d("2010-05-05?2006-01-01..2008-12-31");
        assert_eq!(disputed.range().0.to_string(), "2006-01-01");
        assert_eq!(disputed.range().1.to_string(), "2010-05-05");
        assert_eq!(disputed.best_estimate().to_string(), "2010-05-05");
        for s in [
            "2009-03-04",
            "2009",
            "2008-02",
            "2007-01-01..2009-12-31",
            "2010-05-05?2006-01-01..2008-12-31",
        ] {
            assert_eq!(d(s).to_text(), s);
        }
    }

    #[test]
    fn dob_errors_name_field_and_problem() {
        let e = |s| DateOfBirth::parse("dob", s, today()).unwrap_err();
        assert!(e("2009-13-01").problem.contains("not a date"));
        assert!(e("2030-01-01").problem.contains("future"));
        assert!(e("2010-01-01..2009-01-01").problem.contains("ends before"));
        assert!(e("1800").problem.contains("not a year"));
        assert_eq!(e("yesterday").field, "dob");
    }

    #[test]
    fn age_on_uses_birthday() {
        let d = DateOfBirth::parse("dob", "2010-06-15", today()).unwrap();
        assert_eq!(d.age_on(NaiveDate::from_ymd_opt(2026, 6, 14).unwrap()), 15);
        assert_eq!(d.age_on(NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()), 16);
    }

    #[test]
    fn names_keep_original_script_and_reject_digits() {
        let n = PersonName::parse(
            NameKind::Primary,
            " Tesfay ",
            "Gebre",
            Some("ተስፋይ ገብረ"),
            false,
        )
        .unwrap();
        assert_eq!(n.full(), "Tesfay Gebre");
        assert_eq!(n.original.as_deref(), Some("ተስፋይ ገብረ"));
        let e = PersonName::parse(NameKind::Primary, "J0hn", "", None, false).unwrap_err();
        assert_eq!(e.errors()[0].field, "given");
        let e = PersonName::parse(NameKind::Primary, "", " ", None, false).unwrap_err();
        assert!(e.errors()[0].problem.contains("given or a family"));
    }

    #[test]
    fn codes_and_sex_parse() {
        assert_eq!(Nationality::parse("n", "vnm").unwrap().as_str(), "VNM");
        assert_eq!(
            Nationality::parse("nationalities[1]", "Vietnam")
                .unwrap_err()
                .field,
            "nationalities[1]"
        );
        assert_eq!(Language::parse("l", "TI").unwrap().as_str(), "ti");
        assert!(Language::parse("l", "tigrinya").is_err());
        assert_eq!(Sex::parse("s", "F").unwrap(), Sex::Female);
        assert!(Sex::parse("sex", "q").unwrap_err().problem.contains("`q`"));
    }

    #[test]
    fn enum_names_match_serde_and_parse_back() {
        fn check<T: serde::Serialize + PartialEq + std::fmt::Debug + Copy>(
            all: &[T],
            as_str: fn(T) -> &'static str,
            parse: fn(&str, &str) -> Result<T, FieldError>,
        ) {
            for &v in all {
                let json = serde_json::to_string(&v).unwrap();
                assert_eq!(json, format!("\"{}\"", as_str(v)));
                assert_eq!(parse("f", as_str(v)).unwrap(), v);
                assert_eq!(parse("f", &as_str(v).to_uppercase()).unwrap(), v);
            }
        }
        check(
            &[NameKind::Primary, NameKind::Alias, NameKind::Documented],
            NameKind::as_str,
            NameKind::parse,
        );
        check(
            &[Sex::Male, Sex::Female, Sex::Other, Sex::Unknown],
            Sex::as_str,
            Sex::parse,
        );
        check(
            &[Build::Slim, Build::Medium, Build::Heavy],
            Build::as_str,
            Build::parse,
        );
        check(
            &[
                MarkKind::Scar,
                MarkKind::Tattoo,
                MarkKind::Birthmark,
                MarkKind::Piercing,
                MarkKind::Other,
            ],
            MarkKind::as_str,
            MarkKind::parse,
        );
        let e = Build::parse("build", "chunky").unwrap_err();
        assert_eq!(e.field, "build");
        assert!(e.problem.contains("`chunky`") && e.problem.contains("slim, medium, heavy"));
        let e = MarkKind::parse("marks[0].kind", "mole").unwrap_err();
        assert_eq!(e.field, "marks[0].kind");
        assert!(
            e.problem
                .contains("scar, tattoo, birthmark, piercing, other")
        );
    }

    /// Deserialising `json` as `T` fails with a message containing `problem`.
    fn rejects<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str, problem: &str) {
        let e = serde_json::from_str::<T>(json).unwrap_err().to_string();
        assert!(e.contains(problem), "`{json}`: `{e}` lacks `{problem}`");
    }

    fn round_trips<T>(json: &str)
    where
        T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
    {
        let v: T = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), json);
        assert_eq!(serde_json::from_str::<T>(json).unwrap(), v);
    }

    #[test]
    fn serde_names_are_parsed() {
        round_trips::<PersonName>(
            r#"{"kind":"primary","given":"Tesfay","family":"Gebre","original":"ተስፋይ ገብረ","order_unknown":false}"#,
        );
        round_trips::<PersonName>(
            r#"{"kind":"alias","given":"","family":"Bakr","original":null,"order_unknown":true}"#,
        );
        // Whitespace is normalised as `parse` does.
        let n: PersonName = serde_json::from_str(
            r#"{"kind":"primary","given":"  Mary   Ann ","family":"Smith","original":" ","order_unknown":false}"#,
        )
        .unwrap();
        assert_eq!((n.given.as_str(), n.original), ("Mary Ann", None));
        rejects::<PersonName>(
            r#"{"kind":"primary","given":"J0hn","family":"","original":null,"order_unknown":false}"#,
            "given: contains '0', which cannot be part of a name",
        );
        rejects::<PersonName>(
            r#"{"kind":"primary","given":" ","family":"","original":null,"order_unknown":false}"#,
            "a name needs a given or a family name",
        );
        rejects::<PersonName>(
            r#"{"kind":"primary","given":"A","family":"B\u0007","original":null,"order_unknown":false}"#,
            "family: contains '\\u{7}'",
        );
        let long = "a".repeat(201);
        rejects::<PersonName>(
            &format!(
                r#"{{"kind":"primary","given":"{long}","family":"","original":null,"order_unknown":false}}"#
            ),
            "given: is longer than 200 characters",
        );
        rejects::<PersonName>(
            r#"{"kind":"primary","given":"A","family":"","original":"x1","order_unknown":false}"#,
            "original: contains '1'",
        );
        // Unknown shapes are still serde's own errors.
        rejects::<PersonName>(
            r#"{"kind":"nickname","given":"A","family":"","original":null,"order_unknown":false}"#,
            "unknown variant `nickname`",
        );
    }

    #[test]
    fn serde_dates_of_birth_are_checked() {
        for json in [
            r#"{"kind":"exact","date":"2009-03-04"}"#,
            r#"{"kind":"approximate","year":2009,"month":null}"#,
            r#"{"kind":"approximate","year":2008,"month":2}"#,
            r#"{"kind":"age_assessed","earliest":"2008-01-01","latest":"2009-12-31","assessed_on":"2025-06-01"}"#,
            r#"{"kind":"age_assessed","earliest":"2008-01-01","latest":"2008-01-01","assessed_on":null}"#,
            r#"{"kind":"disputed","claimed":"2010-05-05","assessed_earliest":"2006-01-01","assessed_latest":"2008-12-31"}"#,
        ] {
            round_trips::<DateOfBirth>(json);
        }
        rejects::<DateOfBirth>(
            r#"{"kind":"approximate","year":2008,"month":13}"#,
            "dob: month 13 is not a month (1–12)",
        );
        rejects::<DateOfBirth>(
            r#"{"kind":"approximate","year":2008,"month":0}"#,
            "month 0 is not a month",
        );
        rejects::<DateOfBirth>(
            r#"{"kind":"approximate","year":2000000000,"month":null}"#,
            "dob: year 2000000000 is not a calendar year",
        );
        rejects::<DateOfBirth>(
            r#"{"kind":"age_assessed","earliest":"2010-01-01","latest":"2009-01-01","assessed_on":null}"#,
            "dob: range `2010-01-01..2009-01-01` ends before it starts",
        );
        rejects::<DateOfBirth>(
            r#"{"kind":"disputed","claimed":"2010-05-05","assessed_earliest":"2009-01-01","assessed_latest":"2006-01-01"}"#,
            "dob: range `2009-01-01..2006-01-01` ends before it starts",
        );
        rejects::<DateOfBirth>(r#"{"kind":"guessed"}"#, "unknown variant `guessed`");
        // No `today` here: a future date deserialises; callers check it with `parse`.
        let d: DateOfBirth =
            serde_json::from_str(r#"{"kind":"exact","date":"2030-01-01"}"#).unwrap();
        assert!(DateOfBirth::parse("dob", &d.to_text(), today()).is_err());
    }

    #[test]
    fn dob_text_form_leaves_out_assessed_on() {
        let d = DateOfBirth::AgeAssessed {
            earliest: NaiveDate::from_ymd_opt(2008, 1, 1).unwrap(),
            latest: NaiveDate::from_ymd_opt(2009, 12, 31).unwrap(),
            assessed_on: NaiveDate::from_ymd_opt(2025, 6, 1),
        };
        assert_eq!(d.to_text(), "2008-01-01..2009-12-31");
        assert!(matches!(
            DateOfBirth::parse("dob", &d.to_text(), today()).unwrap(),
            DateOfBirth::AgeAssessed {
                assessed_on: None,
                ..
            }
        ));
    }

    #[test]
    fn serde_heights_are_checked() {
        let shape = |h: &str| {
            format!(
                r#"{{"height_cm":{h},"build":"slim","hair":null,"eyes":"brown","marks":[{{"kind":"tattoo","location":"left forearm","description":"rose"}}],"photos":[{{"taken_on":"2025-01-02","held_by":"la:kent","reference":"P-1"}}]}}"#
            )
        };
        round_trips::<Description>(&shape("[165,175]"));
        round_trips::<Description>(&shape("[170,170]"));
        round_trips::<Description>(&shape("null"));
        round_trips::<Description>(&serde_json::to_string(&Description::default()).unwrap());
        rejects::<Description>(
            &shape("[175,165]"),
            "height_cm: `[175, 165]`: minimum above maximum",
        );
        rejects::<Description>(
            &shape("[30,175]"),
            "height_cm: `[30, 175]` is outside 40–250 cm",
        );
        rejects::<Description>(&shape("[170,400]"), "is outside 40–250 cm");
        rejects::<Description>(&shape("[-1,170]"), "invalid value");
    }

    #[test]
    fn heights_parse_as_ranges() {
        assert_eq!(Description::parse_height("h", "170").unwrap(), (170, 170));
        assert_eq!(
            Description::parse_height("h", "165-175").unwrap(),
            (165, 175)
        );
        assert!(Description::parse_height("h", "175-165").is_err());
        assert!(Description::parse_height("h", "7ft").is_err());
        assert!(Description::parse_height("h", "400").is_err());
    }
}
