//! Pre-filled profiles and found persons: JSON lines only (`profiles.jsonl`,
//! `found_persons.jsonl`), since their nested lists do not flatten usefully.

use crate::kinds::person::check_dob;
use crate::record::{Record, RecordKind, validated};
use chrono::NaiveDate;
use nrmp_domain::FieldError;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::profile::PrefilledProfile;

impl Record for PrefilledProfile {
    const KIND: RecordKind = RecordKind::Profile;

    fn check(self, _today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        validated(self, Vec::new(), PrefilledProfile::validate)
    }
}

impl Record for FoundPerson {
    const KIND: RecordKind = RecordKind::FoundPerson;

    fn check(self, today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        check_dob(&self.dob, today, &mut errors);
        validated(self, errors, FoundPerson::validate)
    }
}
