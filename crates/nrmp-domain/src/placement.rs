//! Care episodes and placements of looked-after children. Locations are kept at authority/area
//! level: a placement's street address never enters the shared register.

use crate::error::{FieldError, ValidationErrors};
use crate::ids::{PersonId, PlacementId};
use crate::organisation::OrgCode;
use chrono::{DateTime, Utc};

/// The kind of placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlacementType {
    /// Foster care.
    Foster,
    /// Kinship / family and friends care.
    Kinship,
    /// A children's home.
    ChildrensHome,
    /// Semi-independent / supported accommodation (16+).
    SupportedAccommodation,
    /// Secure children's home or unit.
    Secure,
    /// Anything else.
    Other,
}

impl PlacementType {
    /// Parses a snake_case name.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_")
            .as_str()
        {
            "foster" => Ok(Self::Foster),
            "kinship" => Ok(Self::Kinship),
            "childrens_home" | "residential" => Ok(Self::ChildrensHome),
            "supported_accommodation" | "semi_independent" => Ok(Self::SupportedAccommodation),
            "secure" => Ok(Self::Secure),
            "other" => Ok(Self::Other),
            other => Err(FieldError::new(
                field,
                format!(
                    "`{other}` is not a placement type (foster, kinship, childrens_home, supported_accommodation, secure, other)"
                ),
            )),
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Foster => "foster",
            Self::Kinship => "kinship",
            Self::ChildrensHome => "childrens_home",
            Self::SupportedAccommodation => "supported_accommodation",
            Self::Secure => "secure",
            Self::Other => "other",
        }
    }
}

/// One placement within a child's looked-after episode.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Placement {
    /// The placement's id.
    pub id: PlacementId,
    /// Which child.
    pub person_id: PersonId,
    /// The authority that looks after the child and placed them.
    pub placing_authority: OrgCode,
    /// The authority in whose area the placement is (may be the same).
    pub host_authority: OrgCode,
    /// Kind of placement.
    pub placement_type: PlacementType,
    /// Start of the placement (for the first placement: coming into care).
    pub started_at: DateTime<Utc>,
    /// End, if it has ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// True for an unaccompanied asylum-seeking child.
    pub unaccompanied: bool,
}

impl Placement {
    /// Checks that the placement ends after it starts and that both authorities are local
    /// authorities.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = Vec::new();
        if let Some(end) = self.ended_at
            && end < self.started_at
        {
            errs.push(FieldError::new("ended_at", "is before started_at"));
        }
        for (field, code) in [
            ("placing_authority", &self.placing_authority),
            ("host_authority", &self.host_authority),
        ] {
            if !code.as_str().starts_with("la:") {
                errs.push(FieldError::new(
                    field,
                    format!("`{code}` is not a local authority"),
                ));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errs))
        }
    }

    /// True if the placement was current at `t`.
    pub fn current_at(&self, t: DateTime<Utc>) -> bool {
        self.started_at <= t && self.ended_at.is_none_or(|e| t < e)
    }
}
