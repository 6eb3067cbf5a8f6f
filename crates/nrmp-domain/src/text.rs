//! Limits on free text and times, shared by every way a record enters the register (the API,
//! the importer, the command line): one rule for each bounded value, checked in the domain
//! types' `validate()` and by the use cases on their input, so no path can accept what another
//! refuses.

use crate::error::FieldError;
use chrono::{DateTime, Duration, Utc};

/// A case reference (an NRM reference, a local-authority id…).
pub const REFERENCE: usize = 100;
/// A short description of a place.
pub const PLACE: usize = 500;
/// One entry of a list (an associate, a place frequented, a phone number…).
pub const ENTRY: usize = 500;
/// How many entries a list may hold.
pub const ENTRIES: usize = 100;
/// A rationale or a sighting's details.
pub const NOTE: usize = 4_000;
/// A narrative: circumstances, an interview's outcome, medical needs, notes.
pub const NARRATIVE: usize = 20_000;
/// How far ahead of the register's clock a time may be, for clocks that disagree.
pub const CLOCK_ALLOWANCE_MINUTES: i64 = 5;

/// Records a problem if `s` is longer than `max` characters (or blank when `required`).
pub fn check_len(errs: &mut Vec<FieldError>, field: &str, s: &str, max: usize, required: bool) {
    if required && s.trim().is_empty() {
        errs.push(FieldError::new(field, "is empty"));
    }
    if s.chars().count() > max {
        errs.push(FieldError::new(
            field,
            format!("is longer than {max} characters"),
        ));
    }
}

/// Records a problem for each entry of `list` longer than [`ENTRY`], and for a list longer than
/// [`ENTRIES`].
pub fn check_entries(errs: &mut Vec<FieldError>, field: &str, list: &[String]) {
    if list.len() > ENTRIES {
        errs.push(FieldError::new(
            field,
            format!("has more than {ENTRIES} entries"),
        ));
    }
    for (i, s) in list.iter().enumerate() {
        check_len(errs, &format!("{field}[{i}]"), s, ENTRY, false);
    }
}

/// Records a problem if `t` is later than `now` (give or take [`CLOCK_ALLOWANCE_MINUTES`]).
pub fn check_not_future(
    errs: &mut Vec<FieldError>,
    field: &str,
    t: DateTime<Utc>,
    now: DateTime<Utc>,
) {
    if t > now + Duration::minutes(CLOCK_ALLOWANCE_MINUTES) {
        errs.push(FieldError::new(field, "is in the future"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_characters_not_bytes() {
        let mut errs = Vec::new();
        check_len(&mut errs, "f", &"đ".repeat(10), 10, false);
        assert!(errs.is_empty());
        check_len(&mut errs, "f", &"đ".repeat(11), 10, false);
        check_len(&mut errs, "g", "  ", 10, true);
        let got: Vec<_> = errs
            .iter()
            .map(|e| (e.field.as_str(), e.problem.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![("f", "is longer than 10 characters"), ("g", "is empty")]
        );
    }

    #[test]
    fn lists_are_bounded_in_length_and_entries() {
        let mut errs = Vec::new();
        let mut list = vec!["x".repeat(ENTRY + 1)];
        list.extend(std::iter::repeat_n(String::new(), ENTRIES));
        check_entries(&mut errs, "phones", &list);
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["phones", "phones[0]"]);
    }

    #[test]
    fn a_few_minutes_ahead_is_not_the_future() {
        let now = DateTime::UNIX_EPOCH;
        let mut errs = Vec::new();
        check_not_future(&mut errs, "t", now + Duration::minutes(5), now);
        assert!(errs.is_empty());
        check_not_future(&mut errs, "t", now + Duration::minutes(6), now);
        assert_eq!(errs.len(), 1);
    }
}
