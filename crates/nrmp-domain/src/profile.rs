//! Pre-filled profiles (Philomena-protocol style): prepared by the care provider *before* any
//! incident, attached to a new incident with one action, and versioned — an update makes a new
//! version and never rewrites an old one.

use crate::error::{FieldError, ValidationErrors};
use crate::ids::{PersonId, ProfileId};
use crate::organisation::OrgCode;
use crate::person::Description;
use chrono::{DateTime, Utc};

/// One version of a person's pre-filled profile.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PrefilledProfile {
    /// The profile's id (shared by all its versions).
    pub id: ProfileId,
    /// Version number, starting at 1.
    pub version: u32,
    /// Whose profile.
    pub person_id: PersonId,
    /// The organisation that prepared it (care provider's authority).
    pub prepared_by: OrgCode,
    /// When this version was written.
    pub prepared_at: DateTime<Utc>,
    /// Physical description at the time.
    pub description: Description,
    /// Known associates (names or descriptions).
    pub associates: Vec<String>,
    /// Places frequented (area level).
    pub places: Vec<String>,
    /// Phone numbers used.
    pub phones: Vec<String>,
    /// Social-media accounts.
    pub social_media: Vec<String>,
    /// Medical needs, medication.
    pub medical_needs: Option<String>,
    /// Anything else that would help find them.
    pub notes: Option<String>,
}

impl PrefilledProfile {
    /// Checks the fields of one version.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = Vec::new();
        if self.version == 0 {
            errs.push(FieldError::new("version", "versions start at 1"));
        }
        for (name, list) in [
            ("associates", &self.associates),
            ("places", &self.places),
            ("phones", &self.phones),
            ("social_media", &self.social_media),
        ] {
            crate::text::check_entries(&mut errs, name, list);
        }
        for (name, v) in [
            ("medical_needs", &self.medical_needs),
            ("notes", &self.notes),
        ] {
            if let Some(v) = v {
                crate::text::check_len(&mut errs, name, v, crate::text::NARRATIVE, false);
            }
        }
        for (i, p) in self.phones.iter().enumerate() {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            let ok = p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
            if !ok || !(7..=15).contains(&digits) {
                errs.push(FieldError::new(
                    format!("phones[{i}]"),
                    format!("`{p}` is not a phone number (7–15 digits)"),
                ));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errs))
        }
    }

    /// The next version of this profile, changed by `edit`, written at `at`.
    pub fn next_version(
        &self,
        at: DateTime<Utc>,
        edit: impl FnOnce(&mut Self),
    ) -> Result<Self, ValidationErrors> {
        let mut next = self.clone();
        edit(&mut next);
        next.id = self.id;
        next.person_id = self.person_id;
        next.version = self.version + 1;
        next.prepared_at = at;
        if at < self.prepared_at {
            return Err(ValidationErrors::one(
                "prepared_at",
                "is before the previous version",
            ));
        }
        next.validate()?;
        Ok(next)
    }
}
