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

/// A local authority's children's-services spend per child in one year: a published public
/// finance figure (no personal data) that the statistics model missing rates against.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AuthoritySpend {
    /// The local authority.
    pub authority: OrgCode,
    /// Calendar year.
    pub year: i32,
    /// Pounds per child.
    pub spend_per_child: f64,
}

impl AuthoritySpend {
    /// Record kind, as the audit log names it.
    pub const KIND: &'static str = "authority_spend";

    /// Checks the year (1900–2200) and that spend is a non-negative number.
    ///
    /// # Errors
    /// Each bad field, named.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = Vec::new();
        if !(1900..=2200).contains(&self.year) {
            errs.push(FieldError::new(
                "year",
                format!("{} is not a plausible year", self.year),
            ));
        }
        if !(self.spend_per_child.is_finite() && self.spend_per_child >= 0.0) {
            errs.push(FieldError::new(
                "spend_per_child",
                format!("{} is not a non-negative amount", self.spend_per_child),
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
    fn spend_rows_name_the_bad_field() {
        let row = |year, spend_per_child| AuthoritySpend {
            authority: OrgCode::parse("a", "la:kent").unwrap(),
            year,
            spend_per_child,
        };
        assert!(row(2024, 61_000.0).validate().is_ok());
        let e = row(24, f64::NAN).validate().unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["year", "spend_per_child"]);
        assert!(row(2024, -1.0).validate().is_err());
    }

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
