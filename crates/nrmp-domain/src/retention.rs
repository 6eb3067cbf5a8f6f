//! Retention: when a subject's records come up for review, and what a review decides.
//!
//! The register follows the review-based model of the College of Policing's *Management of
//! Police Information* (MoPI) guidance rather than fixed deletion dates: every record carries a
//! **review date**; at review a named person decides to keep it (with a reason and the next
//! review date) or to erase it. The unit of review is the **subject** — a person, or a found
//! person not yet identified — because the records about one person (their incidents, NRM
//! referrals, placements and profiles) are only meaningful together, and erasure removes them
//! together.
//!
//! A subject's review date is the latest of:
//!
//! - for every record about them, the record's last activity plus the review period for its
//!   kind (default **6 years**, MoPI's clear period for records that are not about serious
//!   offending — a missing episode is not an offence);
//! - the date on which the subject turns **25** (by the latest date of birth their record
//!   allows), so that nothing about a child is reviewed for erasure before they are a young
//!   adult who may still ask what happened to them (the age to which leaving-care support runs
//!   under the Children and Social Work Act 2017).
//!
//! Each new record or change pushes the date later, never earlier; a *keep* decision sets the
//! next review explicitly, at most [`RetentionPolicy::max_keep_years`] ahead. All of this is
//! configurable through [`RetentionPolicy`].

use crate::error::ValidationErrors;
use chrono::{Months, NaiveDate};

/// The kinds of record that count towards a subject's review date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetainedKind {
    /// A person's own record.
    Person,
    /// A missing incident.
    Incident,
    /// An NRM referral.
    Referral,
    /// A care placement.
    Placement,
    /// A pre-filled profile version.
    Profile,
    /// A found / unidentified person.
    FoundPerson,
}

/// The kinds of subject that carry a review date and can be reviewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// A person, with everything linked to them.
    Person,
    /// A found person not (yet) identified.
    FoundPerson,
}

impl SubjectKind {
    /// The record-kind name used in storage and audit events (`person`, `found_person`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Person => "person",
            Self::FoundPerson => "found_person",
        }
    }

    /// Parses `person` or `found_person`; `field` names the input in the error.
    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationErrors> {
        match s.trim() {
            "person" => Ok(Self::Person),
            "found_person" | "found-person" => Ok(Self::FoundPerson),
            other => Err(ValidationErrors::one(
                field,
                format!("`{other}` is not a reviewable kind (person, found_person)"),
            )),
        }
    }
}

/// How long records are kept before review.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionPolicy {
    /// Years after a person record's last change.
    pub person_years: u32,
    /// Years after an incident's last activity (its return, or its last change).
    pub incident_years: u32,
    /// Years after an NRM referral's last activity.
    pub referral_years: u32,
    /// Years after a placement ends (or its last change).
    pub placement_years: u32,
    /// Years after a profile version was prepared.
    pub profile_years: u32,
    /// Years after a found person's record was last changed.
    pub found_person_years: u32,
    /// No review before the subject reaches this age (by their latest possible date of birth).
    pub keep_until_age: u32,
    /// A *keep* decision may set the next review at most this many years ahead.
    pub max_keep_years: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            person_years: 6,
            incident_years: 6,
            referral_years: 6,
            placement_years: 6,
            profile_years: 6,
            found_person_years: 6,
            keep_until_age: 25,
            max_keep_years: 10,
        }
    }
}

fn add_years(d: NaiveDate, years: u32) -> NaiveDate {
    // 29 February plus a year is 28 February; the far future saturates.
    d.checked_add_months(Months::new(years.saturating_mul(12)))
        .unwrap_or(NaiveDate::MAX)
}

impl RetentionPolicy {
    /// The review period for a kind, in years.
    pub fn years(&self, kind: RetainedKind) -> u32 {
        match kind {
            RetainedKind::Person => self.person_years,
            RetainedKind::Incident => self.incident_years,
            RetainedKind::Referral => self.referral_years,
            RetainedKind::Placement => self.placement_years,
            RetainedKind::Profile => self.profile_years,
            RetainedKind::FoundPerson => self.found_person_years,
        }
    }

    /// The review date one record asks for: its last activity plus its kind's period, but no
    /// earlier than the subject's [`RetentionPolicy::keep_until_age`]th birthday when their
    /// latest possible date of birth is known.
    pub fn review_date(
        &self,
        kind: RetainedKind,
        last_activity: NaiveDate,
        latest_dob: Option<NaiveDate>,
    ) -> NaiveDate {
        let by_activity = add_years(last_activity, self.years(kind));
        match latest_dob {
            Some(dob) => by_activity.max(add_years(dob, self.keep_until_age)),
            None => by_activity,
        }
    }

    /// The latest next-review date a keep decision made on `today` may set.
    pub fn latest_next_review(&self, today: NaiveDate) -> NaiveDate {
        add_years(today, self.max_keep_years)
    }

    /// Checks the policy itself: every period at least one year.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let fields = [
            ("person_years", self.person_years),
            ("incident_years", self.incident_years),
            ("referral_years", self.referral_years),
            ("placement_years", self.placement_years),
            ("profile_years", self.profile_years),
            ("found_person_years", self.found_person_years),
            ("max_keep_years", self.max_keep_years),
        ];
        let errors: Vec<_> = fields
            .iter()
            .filter(|(_, v)| *v == 0)
            .map(|(f, _)| crate::FieldError::new(*f, "must be at least 1 year"))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errors))
        }
    }
}

/// What a retention review decided.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ReviewDecision {
    /// Keep the records, for a stated reason, until the next review.
    Keep {
        /// Why they are still needed (e.g. "still missing", "linked to an open investigation").
        reason: String,
        /// When to review again.
        next_review: NaiveDate,
    },
    /// Erase the subject and everything linked to them.
    Erase {
        /// Why (e.g. "no policing purpose remains").
        reason: String,
    },
}

/// Longest stated reason, in characters.
pub(crate) const MAX_REASON: usize = 2000;

fn check_reason(reason: &str) -> Result<(), ValidationErrors> {
    if reason.trim().is_empty() {
        return Err(ValidationErrors::one(
            "reason",
            "is empty; a review decision must say why",
        ));
    }
    if reason.chars().count() > MAX_REASON {
        return Err(ValidationErrors::one(
            "reason",
            format!("is longer than {MAX_REASON} characters"),
        ));
    }
    Ok(())
}

impl ReviewDecision {
    /// A validated decision to keep until `next_review`, made on `today`.
    pub fn keep(
        reason: impl Into<String>,
        next_review: NaiveDate,
        today: NaiveDate,
        policy: &RetentionPolicy,
    ) -> Result<Self, ValidationErrors> {
        let d = Self::Keep {
            reason: reason.into(),
            next_review,
        };
        d.validate(today, policy)?;
        Ok(d)
    }

    /// A validated decision to erase.
    pub fn erase(reason: impl Into<String>) -> Result<Self, ValidationErrors> {
        let reason = reason.into();
        check_reason(&reason)?;
        Ok(Self::Erase { reason })
    }

    /// The stated reason.
    pub fn reason(&self) -> &str {
        match self {
            Self::Keep { reason, .. } | Self::Erase { reason } => reason,
        }
    }

    /// `keep` or `erase`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Keep { .. } => "keep",
            Self::Erase { .. } => "erase",
        }
    }

    /// Checks the decision as made on `today`: a reason is given; a next review is after
    /// today and no further ahead than the policy allows.
    pub fn validate(
        &self,
        today: NaiveDate,
        policy: &RetentionPolicy,
    ) -> Result<(), ValidationErrors> {
        check_reason(self.reason())?;
        if let Self::Keep { next_review, .. } = self {
            if *next_review <= today {
                return Err(ValidationErrors::one(
                    "next_review",
                    format!("{next_review} is not after today ({today})"),
                ));
            }
            let latest = policy.latest_next_review(today);
            if *next_review > latest {
                return Err(ValidationErrors::one(
                    "next_review",
                    format!(
                        "{next_review} is more than {} years ahead (latest {latest})",
                        policy.max_keep_years
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn review_is_six_years_after_last_activity_by_default() {
        let p = RetentionPolicy::default();
        assert_eq!(
            p.review_date(RetainedKind::Incident, d("2020-05-17"), None),
            d("2026-05-17")
        );
        // An adult's birthday does not matter.
        assert_eq!(
            p.review_date(RetainedKind::Person, d("2020-05-17"), Some(d("1980-01-01"))),
            d("2026-05-17")
        );
    }

    #[test]
    fn a_child_is_not_reviewed_before_turning_25() {
        let p = RetentionPolicy::default();
        assert_eq!(
            p.review_date(
                RetainedKind::Incident,
                d("2020-05-17"),
                Some(d("2008-02-29"))
            ),
            d("2033-02-28")
        );
    }

    #[test]
    fn periods_are_configurable_per_kind() {
        let p = RetentionPolicy {
            referral_years: 10,
            keep_until_age: 18,
            ..RetentionPolicy::default()
        };
        assert_eq!(
            p.review_date(RetainedKind::Referral, d("2020-01-01"), None),
            d("2030-01-01")
        );
        assert_eq!(
            p.review_date(
                RetainedKind::Placement,
                d("2020-01-01"),
                Some(d("2010-06-01"))
            ),
            d("2028-06-01")
        );
        let bad = RetentionPolicy {
            incident_years: 0,
            ..RetentionPolicy::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "incident_years: must be at least 1 year"
        );
        assert!(RetentionPolicy::default().validate().is_ok());
    }

    #[test]
    fn policy_reads_from_partial_json_and_rejects_unknown_keys() {
        let p: RetentionPolicy = serde_json::from_str(r#"{"incident_years": 8}"#).unwrap();
        assert_eq!(p.incident_years, 8);
        assert_eq!(p.person_years, 6);
        assert!(serde_json::from_str::<RetentionPolicy>(r#"{"incidnet_years": 8}"#).is_err());
    }

    #[test]
    fn keep_needs_a_reason_and_a_future_next_review_within_the_limit() {
        let p = RetentionPolicy::default();
        let today = d("2026-11-25");
        assert!(ReviewDecision::keep("still missing", d("2027-11-25"), today, &p).is_ok());
        let e = ReviewDecision::keep("  ", d("2027-11-25"), today, &p).unwrap_err();
        assert_eq!(e.errors()[0].field, "reason");
        let e = ReviewDecision::keep("still missing", today, today, &p).unwrap_err();
        assert_eq!(
            e.to_string(),
            "next_review: 2026-11-25 is not after today (2026-11-25)"
        );
        let e = ReviewDecision::keep("still missing", d("2037-01-01"), today, &p).unwrap_err();
        assert!(e.to_string().contains("more than 10 years ahead"), "{e}");
    }

    #[test]
    fn erase_needs_a_reason() {
        assert!(ReviewDecision::erase("").is_err());
        let e = ReviewDecision::erase("no policing purpose remains").unwrap();
        assert_eq!(e.reason(), "no policing purpose remains");
        assert_eq!(e.as_str(), "erase");
        assert!(ReviewDecision::erase("x".repeat(2001)).is_err());
    }

    #[test]
    fn subject_kinds_parse() {
        assert_eq!(
            SubjectKind::parse("kind", "found-person").unwrap(),
            SubjectKind::FoundPerson
        );
        assert_eq!(
            SubjectKind::parse("kind", "incident")
                .unwrap_err()
                .to_string(),
            "kind: `incident` is not a reviewable kind (person, found_person)"
        );
    }
}
