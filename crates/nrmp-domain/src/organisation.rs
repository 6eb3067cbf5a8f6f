//! Organisations that share the register: police forces, local authorities, the national unit
//! and advocacy services. Every record has an owning organisation and a set of involved ones.

use crate::error::{FieldError, ValidationErrors};
use std::fmt;

/// An organisation's stable code, e.g. `force:avon-somerset` or `la:bristol`.
///
/// Lower-case ASCII letters, digits, `-`, `_` and one `:` separating kind prefix and slug.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct OrgCode(String);

impl OrgCode {
    /// Parses an organisation code given in `field`.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(FieldError::new(
                field,
                "is empty; expected an organisation code",
            ));
        }
        if s.len() > 80 {
            return Err(FieldError::new(field, "is longer than 80 characters"));
        }
        let ok = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | ':'));
        if !ok || s.matches(':').count() > 1 || s.starts_with(':') || s.ends_with(':') {
            return Err(FieldError::new(
                field,
                format!(
                    "`{s}` is not an organisation code (lower-case letters, digits, `-`, e.g. `force:kent`)"
                ),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrgCode {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse("organisation", &s)
    }
}

impl From<OrgCode> for String {
    fn from(c: OrgCode) -> Self {
        c.0
    }
}

impl fmt::Display for OrgCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of body an organisation is; decides default roles and need-to-know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// A territorial police force or the British Transport Police.
    PoliceForce,
    /// A local authority with children's-services responsibility.
    LocalAuthority,
    /// The national missing persons unit.
    NationalUnit,
    /// An independent child trafficking advocacy service.
    AdvocacyService,
}

impl OrgKind {
    /// Parses `police_force`, `local_authority`, `national_unit` or `advocacy_service`.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_")
            .as_str()
        {
            "police_force" | "force" => Ok(Self::PoliceForce),
            "local_authority" | "la" => Ok(Self::LocalAuthority),
            "national_unit" => Ok(Self::NationalUnit),
            "advocacy_service" | "advocacy" => Ok(Self::AdvocacyService),
            other => Err(FieldError::new(
                field,
                format!(
                    "`{other}` is not an organisation kind (police_force, local_authority, national_unit, advocacy_service)"
                ),
            )),
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PoliceForce => "police_force",
            Self::LocalAuthority => "local_authority",
            Self::NationalUnit => "national_unit",
            Self::AdvocacyService => "advocacy_service",
        }
    }
}

/// An organisation taking part in the register.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Organisation {
    /// Stable code.
    pub code: OrgCode,
    /// What kind of body it is.
    pub kind: OrgKind,
    /// Its official name, e.g. "Avon and Somerset Constabulary".
    pub name: String,
    /// Country: England, Wales, or "England and Wales".
    pub country: String,
    /// ONS region, where it has one.
    pub region: Option<String>,
    /// For a local authority: the territorial force covering its area.
    pub police_force: Option<OrgCode>,
}

impl Organisation {
    /// Checks the fields that [`OrgCode`] and [`OrgKind`] do not.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = Vec::new();
        if self.name.trim().is_empty() {
            errs.push(FieldError::new("name", "is empty"));
        }
        if self.country.trim().is_empty() {
            errs.push(FieldError::new("country", "is empty"));
        }
        if self.police_force.is_some() && self.kind != OrgKind::LocalAuthority {
            errs.push(FieldError::new(
                "police_force",
                "only a local authority names the force covering it",
            ));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errs))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_code_accepts_prefixed_slugs() {
        assert_eq!(
            OrgCode::parse("o", " force:kent ").unwrap().as_str(),
            "force:kent"
        );
        assert!(OrgCode::parse("o", "la:brighton-and-hove").is_ok());
    }

    #[test]
    fn org_code_rejects_bad_text_naming_the_field() {
        for bad in ["", "Force:Kent", "a:b:c", "kent police", ":x"] {
            let e = OrgCode::parse("owning_org", bad).unwrap_err();
            assert_eq!(e.field, "owning_org", "{bad}");
        }
    }

    #[test]
    fn org_kind_parses_aliases() {
        assert_eq!(
            OrgKind::parse("k", "Police Force").unwrap(),
            OrgKind::PoliceForce
        );
        assert!(
            OrgKind::parse("kind", "bank")
                .unwrap_err()
                .problem
                .contains("bank")
        );
    }
}
