//! Pre-filled profiles and found persons: JSON lines only (`profiles.jsonl`,
//! `found_persons.jsonl`), since their nested lists do not flatten usefully.

use crate::kinds::person::{check_description, check_dob, check_names};
use crate::record::{Record, RecordKind, validated};
use chrono::NaiveDate;
use nrmp_domain::FieldError;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::profile::PrefilledProfile;

impl Record for PrefilledProfile {
    const KIND: RecordKind = RecordKind::Profile;

    fn check(self, _today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        check_description(&self.description, "description", &mut errors);
        validated(self, errors, PrefilledProfile::validate)
    }
}

impl Record for FoundPerson {
    const KIND: RecordKind = RecordKind::FoundPerson;

    fn check(mut self, today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        self.names_given = check_names(
            std::mem::take(&mut self.names_given),
            "names_given",
            &mut errors,
        );
        check_dob(&self.dob, today, &mut errors);
        check_description(&self.description, "description", &mut errors);
        validated(self, errors, FoundPerson::validate)
    }
}
