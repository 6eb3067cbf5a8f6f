//! National Referral Mechanism referrals: the UK's framework for identifying victims of modern
//! slavery. A first responder refers; the competent authority makes a reasonable-grounds and then a
//! conclusive-grounds decision.

use crate::error::{FieldError, ValidationErrors};
use crate::ids::{PersonId, ReferralId};
use crate::organisation::OrgCode;
use chrono::NaiveDate;

/// Kind of exploitation referred.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ExploitationType {
    /// Labour exploitation.
    Labour,
    /// Sexual exploitation.
    Sexual,
    /// Criminal exploitation (including county lines).
    Criminal,
    /// Domestic servitude.
    DomesticServitude,
    /// Organ harvesting.
    OrganHarvesting,
    /// Not known at referral.
    Unknown,
}

impl ExploitationType {
    /// Parses a snake_case name (`county_lines` counts as criminal).
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_")
            .as_str()
        {
            "labour" | "labor" => Ok(Self::Labour),
            "sexual" => Ok(Self::Sexual),
            "criminal" | "county_lines" => Ok(Self::Criminal),
            "domestic_servitude" | "domestic" => Ok(Self::DomesticServitude),
            "organ_harvesting" => Ok(Self::OrganHarvesting),
            "unknown" | "not_specified" => Ok(Self::Unknown),
            other => Err(FieldError::new(
                field,
                format!(
                    "`{other}` is not an exploitation type (labour, sexual, criminal, domestic_servitude, organ_harvesting, unknown)"
                ),
            )),
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Labour => "labour",
            Self::Sexual => "sexual",
            Self::Criminal => "criminal",
            Self::DomesticServitude => "domestic_servitude",
            Self::OrganHarvesting => "organ_harvesting",
            Self::Unknown => "unknown",
        }
    }
}

/// Outcome of a grounds decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionOutcome {
    /// Grounds found.
    Positive,
    /// Grounds not found.
    Negative,
}

impl DecisionOutcome {
    /// Parses `positive` or `negative`.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "positive" | "yes" => Ok(Self::Positive),
            "negative" | "no" => Ok(Self::Negative),
            other => Err(FieldError::new(
                field,
                format!("`{other}` is not a decision (positive, negative)"),
            )),
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Positive => "positive",
            Self::Negative => "negative",
        }
    }
}

/// A reasonable- or conclusive-grounds decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Decision {
    /// When it was made.
    pub date: NaiveDate,
    /// Positive or negative.
    pub outcome: DecisionOutcome,
}

/// A referral into the NRM about one person.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NrmReferral {
    /// The referral's id.
    pub id: ReferralId,
    /// About whom.
    pub person_id: PersonId,
    /// The competent authority's case reference, if known.
    pub reference: Option<String>,
    /// When the referral was made.
    pub referred_on: NaiveDate,
    /// The first responder organisation that referred.
    pub first_responder: OrgCode,
    /// Exploitation type(s) referred; at least one.
    pub exploitation: Vec<ExploitationType>,
    /// Reasonable-grounds decision, once made.
    pub reasonable_grounds: Option<Decision>,
    /// Conclusive-grounds decision, once made.
    pub conclusive_grounds: Option<Decision>,
}

impl NrmReferral {
    /// Checks decision order: reasonable grounds on/after referral; conclusive grounds only after
    /// a positive reasonable-grounds decision and not before it.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = Vec::new();
        if let Some(r) = &self.reference {
            crate::text::check_len(&mut errs, "reference", r, crate::text::REFERENCE, false);
        }
        if self.exploitation.is_empty() {
            errs.push(FieldError::new(
                "exploitation",
                "at least one type (or `unknown`) is needed",
            ));
        }
        if let Some(rg) = self.reasonable_grounds
            && rg.date < self.referred_on
        {
            errs.push(FieldError::new(
                "reasonable_grounds.date",
                "is before the referral",
            ));
        }
        if let Some(cg) = self.conclusive_grounds {
            match self.reasonable_grounds {
                None => errs.push(FieldError::new(
                    "conclusive_grounds",
                    "needs a reasonable-grounds decision first",
                )),
                Some(rg) if rg.outcome == DecisionOutcome::Negative => errs.push(FieldError::new(
                    "conclusive_grounds",
                    "follows only a positive reasonable-grounds decision",
                )),
                Some(rg) if cg.date < rg.date => errs.push(FieldError::new(
                    "conclusive_grounds.date",
                    "is before the reasonable-grounds decision",
                )),
                _ => {}
            }
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
    use uuid::Uuid;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn referral() -> NrmReferral {
        NrmReferral {
            id: ReferralId(Uuid::from_u128(1)),
            person_id: PersonId(Uuid::from_u128(2)),
            reference: None,
            referred_on: d("2018-03-01"),
            first_responder: crate::organisation::OrgCode::parse("o", "la:kent").unwrap(),
            exploitation: vec![ExploitationType::Criminal],
            reasonable_grounds: Some(Decision {
                date: d("2018-03-04"),
                outcome: DecisionOutcome::Positive,
            }),
            conclusive_grounds: Some(Decision {
                date: d("2018-09-01"),
                outcome: DecisionOutcome::Positive,
            }),
        }
    }

    #[test]
    fn decisions_must_follow_in_order() {
        assert!(referral().validate().is_ok());
        let mut r = referral();
        r.reasonable_grounds.as_mut().unwrap().date = d("2018-02-01");
        assert_eq!(
            r.validate().unwrap_err().errors()[0].field,
            "reasonable_grounds.date"
        );
        let mut r = referral();
        r.reasonable_grounds.as_mut().unwrap().outcome = DecisionOutcome::Negative;
        assert!(
            r.validate().unwrap_err().errors()[0]
                .problem
                .contains("positive")
        );
        let mut r = referral();
        r.reasonable_grounds = None;
        assert!(r.validate().is_err());
        let mut r = referral();
        r.exploitation.clear();
        assert_eq!(r.validate().unwrap_err().errors()[0].field, "exploitation");
    }

    #[test]
    fn exploitation_aliases() {
        assert_eq!(
            ExploitationType::parse("e", "County Lines").unwrap(),
            ExploitationType::Criminal
        );
        assert!(ExploitationType::parse("exploitation[0]", "theft").is_err());
    }
}
