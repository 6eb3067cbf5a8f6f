//! Field comparators returning graded agreement levels.
//!
//! Each field has its own level enum (strongest first, `Missing` last). The
//! [`compare`] function compares two [`Prepared`] records and returns a
//! [`ComparisonVector`]; [`compare_records`] does the same from raw
//! [`MatchRecord`]s (convenient, but slower: it prepares both records).

mod fields;
mod name;

pub use fields::{
    compare_dob, compare_height, compare_identifiers, compare_mark_ids, compare_marks,
    compare_nationality, compare_sex, compare_texts,
};
pub(crate) use name::best_names;
pub use name::{NameOutcome, TokenMatch, compare_names, compare_token_lists};

use serde::{Deserialize, Serialize};

use crate::prepare::{Prepared, Tokens, Vocab, normalise_record};
use crate::record::MatchRecord;

/// A graded agreement level of one field comparison.
pub trait Level: Copy + Eq + std::fmt::Debug + 'static {
    /// The field this level belongs to (`"text"` for generic text fields).
    const FIELD: &'static str;
    /// All levels, strongest first, `Missing` last.
    const ALL: &'static [Self];
    /// Snake-case label used in model files and explanations.
    fn label(self) -> &'static str;
    /// Position in [`Level::ALL`].
    fn index(self) -> usize;
    /// True for the neutral "missing" level (weight 0, ignored by training).
    fn is_missing(self) -> bool {
        self.label() == "missing"
    }
    /// Level by label.
    fn from_label(label: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|l| l.label() == label)
    }
}

macro_rules! levels {
    ($(#[$m:meta])* $name:ident, $field:literal { $($(#[$vm:meta])* $var:ident => $label:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $var),+ }
        impl Level for $name {
            const FIELD: &'static str = $field;
            const ALL: &'static [Self] = &[$(Self::$var),+];
            fn label(self) -> &'static str { match self { $(Self::$var => $label),+ } }
            fn index(self) -> usize { self as usize }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

levels!(
    /// Full-name agreement (best over all name forms, tokens in any order).
    NameLevel, "name" {
        /// Same strong tokens (as a multiset), any order.
        Exact => "exact",
        /// Same tokens up to variant groups (Mohammed = Muhammad).
        VariantGroup => "variant_group",
        /// All tokens aligned with Jaro-Winkler >= 0.92 (or better).
        JaroWinklerHigh => "jaro_winkler_high",
        /// All tokens aligned with Jaro-Winkler >= 0.85 (or better).
        JaroWinklerMid => "jaro_winkler_mid",
        /// All tokens aligned, some only phonetically (or by consonant skeleton).
        Phonetic => "phonetic",
        /// Every token of the shorter name (>= 2 tokens) agrees with the longer one.
        Subset => "subset",
        /// All tokens aligned, some only as initials.
        Initial => "initial",
        /// At least one strong token agrees.
        Partial => "partial",
        /// No token agrees.
        Different => "different",
        /// A side has no name.
        Missing => "missing",
    }
);

levels!(
    /// Date-of-birth agreement, dates treated as ranges.
    DobLevel, "dob" {
        /// Same exact date.
        Exact => "exact",
        /// Day and month swapped (03/04 vs 04/03).
        DayMonthSwapped => "day_month_swapped",
        /// Ranges overlap, both at most about a year wide.
        OverlapNarrow => "overlap_narrow",
        /// Ranges overlap, one wider than a year (age assessment).
        OverlapWide => "overlap_wide",
        /// Exact dates in the same year.
        SameYear => "same_year",
        /// Within one year of each other.
        WithinOneYear => "within_one_year",
        /// Further apart.
        Different => "different",
        /// A side has no date of birth.
        Missing => "missing",
    }
);

levels!(
    /// Sex agreement.
    SexLevel, "sex" {
        /// Same.
        Same => "same",
        /// Different.
        Different => "different",
        /// Unknown on a side.
        Missing => "missing",
    }
);

levels!(
    /// Nationality agreement.
    NationalityLevel, "nationality" {
        /// At least one nationality in common.
        Shared => "shared",
        /// None in common.
        Different => "different",
        /// Unknown on a side.
        Missing => "missing",
    }
);

levels!(
    /// Height agreement.
    HeightLevel, "height" {
        /// Ranges overlap.
        Overlap => "overlap",
        /// Within 5 cm.
        Near => "near",
        /// Further apart.
        Different => "different",
        /// Unknown on a side.
        Missing => "missing",
    }
);

levels!(
    /// Distinguishing-marks agreement (best pair of marks).
    MarksLevel, "marks" {
        /// Word overlap (Jaccard) >= 0.5 including a specific word.
        Similar => "similar",
        /// A specific word in common (not just "scar", "left").
        Partial => "partial",
        /// Nothing specific in common.
        Different => "different",
        /// No marks on a side.
        Missing => "missing",
    }
);

levels!(
    /// Identifier agreement (same kind only).
    IdentifierLevel, "identifiers" {
        /// Same value for a shared kind.
        Exact => "exact",
        /// One typo (Damerau-Levenshtein distance 1).
        OneTypo => "one_typo",
        /// Shared kind, different values.
        Different => "different",
        /// No identifier kind in common.
        Missing => "missing",
    }
);

levels!(
    /// Generic text field agreement (Jaro-Winkler bands).
    TextLevel, "text" {
        /// Same folded text.
        Exact => "exact",
        /// Jaro-Winkler >= 0.92.
        JaroWinklerHigh => "jaro_winkler_high",
        /// Jaro-Winkler >= 0.85.
        JaroWinklerMid => "jaro_winkler_mid",
        /// Lower.
        Different => "different",
        /// Field absent on a side.
        Missing => "missing",
    }
);

/// Result of comparing two records: one level per field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ComparisonVector {
    /// Full-name comparison outcome.
    pub name: NameOutcome,
    /// Date of birth.
    pub dob: DobLevel,
    /// Sex.
    pub sex: SexLevel,
    /// Nationality.
    pub nationality: NationalityLevel,
    /// Height.
    pub height: HeightLevel,
    /// Distinguishing marks.
    pub marks: MarksLevel,
    /// Identifiers.
    pub identifiers: IdentifierLevel,
    /// Text fields present on both sides: (index into the left record's `texts`, level).
    pub texts: Vec<(usize, TextLevel)>,
    /// Index into the left record's `nationalities` of the first one both records share:
    /// the population in which the name's frequency is judged.
    pub shared_nationality: Option<u8>,
}

/// Index into `a` of the first nationality `b` shares (see
/// [`ComparisonVector::shared_nationality`]).
pub fn shared_nationality(a: &[Box<str>], b: &[Box<str>]) -> Option<u8> {
    a.iter()
        .position(|x| b.contains(x))
        .and_then(|i| u8::try_from(i).ok())
}

/// Compares two prepared records (both interned in `tokens`).
pub fn compare<T: Tokens + ?Sized>(a: &Prepared, b: &Prepared, tokens: &T) -> ComparisonVector {
    ComparisonVector {
        name: compare_names(a, b, tokens),
        dob: compare_dob(a.dob.as_ref(), b.dob.as_ref()),
        sex: compare_sex(a.sex, b.sex),
        nationality: compare_nationality(&a.nationalities, &b.nationalities),
        height: compare_height(a.height, b.height),
        marks: compare_mark_ids(&a.marks, &b.marks, tokens),
        identifiers: compare_identifiers(&a.identifiers, &b.identifiers),
        texts: compare_texts(&a.texts, &b.texts),
        shared_nationality: shared_nationality(&a.nationalities, &b.nationalities),
    }
}

/// Compares two raw records (prepares both in a throw-away vocabulary).
///
/// ```
/// use nrmp_match::{compare::{compare_records, NameLevel}, MatchRecord, PersonName};
/// let a = MatchRecord::new("a").with_name(PersonName::new("Mohammed", "Ali"));
/// let b = MatchRecord::new("b").with_name(PersonName::new("Muhammad", "Ali"));
/// assert_eq!(compare_records(&a, &b).name.level, NameLevel::VariantGroup);
/// ```
pub fn compare_records(a: &MatchRecord, b: &MatchRecord) -> ComparisonVector {
    let mut v = Vocab::new();
    let pa = v.prepare(normalise_record(a));
    let pb = v.prepare(normalise_record(b));
    compare(&pa, &pb, &v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_labels_round_trip() {
        for l in NameLevel::ALL {
            assert_eq!(NameLevel::from_label(l.label()), Some(*l));
        }
        assert!(DobLevel::Missing.is_missing());
        assert!(!DobLevel::Exact.is_missing());
        assert_eq!(TextLevel::ALL.last(), Some(&TextLevel::Missing));
    }
}
