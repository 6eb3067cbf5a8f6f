//! Found or unidentified persons: someone found whose identity is not known, kept so they can be
//! compared continuously with open incidents.

use crate::error::{FieldError, ValidationErrors};
use crate::ids::{FoundPersonId, PersonId};
use crate::incident::Place;
use crate::organisation::OrgCode;
use crate::person::{DateOfBirth, Description, PersonName, Sex};
use chrono::{DateTime, Utc};

/// A person found whose identity is not (yet) known.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FoundPerson {
    /// The record's id.
    pub id: FoundPersonId,
    /// When they were found.
    pub found_at: DateTime<Utc>,
    /// Where.
    pub place: Place,
    /// Which organisation found them.
    pub found_by: OrgCode,
    /// Names they gave, if any.
    pub names_given: Vec<PersonName>,
    /// Estimated or stated date of birth.
    pub dob: Option<DateOfBirth>,
    /// Sex.
    pub sex: Sex,
    /// Description.
    pub description: Description,
    /// Set once identified as a register person.
    pub identified_as: Option<PersonId>,
    /// True if found deceased (an unidentified body).
    pub deceased: bool,
}

impl FoundPerson {
    /// A found-person record needs something to compare: a name, a date of birth or a
    /// description.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let has_description = self.description.height_cm.is_some()
            || !self.description.marks.is_empty()
            || self.description.build.is_some();
        if self.names_given.is_empty() && self.dob.is_none() && !has_description {
            return Err(FieldError::new(
                "names_given",
                "a found-person record needs a name, a date of birth or a description",
            )
            .into());
        }
        Ok(())
    }
}
