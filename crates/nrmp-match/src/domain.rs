//! Adapter from the register's domain type [`nrmp_domain::person::Person`] to a
//! [`MatchRecord`] (feature `domain`, on by default).
//!
//! What is carried over:
//!
//! * every name (primary, aliases, documented names), each with its
//!   original-script form when recorded; name order is not needed because the
//!   comparators allow any order;
//! * the date of birth as a range with its kind: exact → [`DobKind::Exact`],
//!   approximate (year or month) → [`DobKind::Approximate`], age-assessed →
//!   [`DobKind::AgeAssessed`], disputed → the range covering both the claimed
//!   date and the assessment, as [`DobKind::AgeAssessed`];
//! * sex (`unknown` becomes missing), nationalities (ISO alpha-3), height range;
//! * distinguishing marks as text (`"tattoo left forearm rose"`);
//! * identifiers as (kind, value), e.g. `("passport", "VNM:C1234567")`.
//!
//! Languages, build, hair, eyes and photos are not compared.

use nrmp_domain::person::{DateOfBirth, Person, Sex as DomainSex};

use crate::record::{DobKind, DobRange, MatchRecord, PersonName, Sex};

/// The date of birth as a matcher range.
pub fn dob_range(dob: &DateOfBirth) -> DobRange {
    let (a, b) = dob.range();
    let kind = match dob {
        DateOfBirth::Exact { .. } => DobKind::Exact,
        DateOfBirth::Approximate { .. } => DobKind::Approximate,
        DateOfBirth::AgeAssessed { .. } | DateOfBirth::Disputed { .. } => DobKind::AgeAssessed,
    };
    if kind == DobKind::Exact {
        DobRange::exact(a)
    } else {
        DobRange::range(a, b, kind)
    }
}

/// The matcher's sex (`Unknown` is missing).
pub fn sex(s: DomainSex) -> Option<Sex> {
    match s {
        DomainSex::Male => Some(Sex::Male),
        DomainSex::Female => Some(Sex::Female),
        DomainSex::Other => Some(Sex::Other),
        DomainSex::Unknown => None,
    }
}

/// Everything the matcher compares about `person`; the record id is the person id.
pub fn match_record(person: &Person) -> MatchRecord {
    let names = person
        .names
        .iter()
        .map(|n| PersonName {
            given: n.given.clone(),
            family: n.family.clone(),
            original_script: n.original.clone(),
        })
        .collect();
    let d = &person.description;
    MatchRecord {
        id: person.id.to_string(),
        names,
        dob: person.dob.as_ref().map(dob_range),
        sex: sex(person.sex),
        nationalities: person
            .nationalities
            .iter()
            .map(|n| n.as_str().to_string())
            .collect(),
        height_cm: d.height_cm,
        marks: marks(d),
        identifiers: person
            .identifiers
            .iter()
            .map(|i| (i.kind().as_str().to_string(), i.value().to_string()))
            .collect(),
        text_fields: Vec::new(),
    }
}

fn marks(d: &nrmp_domain::person::Description) -> Vec<String> {
    d.marks
        .iter()
        .map(|m| {
            [m.kind.as_str(), m.location.as_str(), m.description.as_str()]
                .iter()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Everything the matcher compares about a found / unidentified person (the names they gave,
/// estimated date of birth, sex, height, marks); the record id is the found-person id.
pub fn found_record(found: &nrmp_domain::found::FoundPerson) -> MatchRecord {
    let d = &found.description;
    MatchRecord {
        id: found.id.to_string(),
        names: found
            .names_given
            .iter()
            .map(|n| PersonName {
                given: n.given.clone(),
                family: n.family.clone(),
                original_script: n.original.clone(),
            })
            .collect(),
        dob: found.dob.as_ref().map(dob_range),
        sex: sex(found.sex),
        nationalities: Vec::new(),
        height_cm: d.height_cm,
        marks: marks(d),
        identifiers: Vec::new(),
        text_fields: Vec::new(),
    }
}

impl From<&Person> for MatchRecord {
    fn from(p: &Person) -> Self {
        match_record(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn dob_kinds_map_to_ranges() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        let exact = dob_range(&DateOfBirth::Exact {
            date: d(2005, 3, 4),
        });
        assert!(exact.is_point() && exact.kind == DobKind::Exact);
        let approx = dob_range(&DateOfBirth::Approximate {
            year: 2004,
            month: None,
        });
        assert_eq!(
            (approx.earliest, approx.latest),
            (d(2004, 1, 1), d(2004, 12, 31))
        );
        assert_eq!(approx.kind, DobKind::Approximate);
        let disputed = dob_range(&DateOfBirth::Disputed {
            claimed: d(2009, 1, 1),
            assessed_earliest: d(2003, 1, 1),
            assessed_latest: d(2005, 12, 31),
        });
        assert_eq!(
            (disputed.earliest, disputed.latest),
            (d(2003, 1, 1), d(2009, 1, 1))
        );
        assert_eq!(sex(DomainSex::Unknown), None);
    }
}
