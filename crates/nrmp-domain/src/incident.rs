//! Missing incidents (episodes): report, last seen, risk grade with history, sightings, return and
//! return-home interview — with the invariants that keep them consistent.

use crate::error::{FieldError, ValidationErrors};
use crate::ids::{IncidentId, PersonId};
use crate::organisation::OrgCode;
use chrono::{DateTime, Duration, Utc};

/// Missing, or absent/away from placement (the DfE's distinction for looked-after children).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentCategory {
    /// Whereabouts unknown.
    Missing,
    /// Not where they should be, but whereabouts known or believed known.
    AwayFromPlacement,
}

impl IncidentCategory {
    /// Parses `missing` or `away_from_placement` (also `absent`, `away`).
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_")
            .as_str()
        {
            "missing" => Ok(Self::Missing),
            "away_from_placement" | "away" | "absent" => Ok(Self::AwayFromPlacement),
            other => Err(FieldError::new(
                field,
                format!("`{other}` is not a category (missing, away_from_placement)"),
            )),
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::AwayFromPlacement => "away_from_placement",
        }
    }
}

/// The risk grade (College of Policing APP: no apparent risk, low, medium, high).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskGrade {
    /// No apparent risk.
    NoApparentRisk,
    /// Low risk.
    Low,
    /// Medium risk.
    Medium,
    /// High risk.
    High,
}

impl RiskGrade {
    /// Parses `no_apparent_risk`, `low`, `medium`, `high`.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_")
            .as_str()
        {
            "no_apparent_risk" | "none" | "nar" => Ok(Self::NoApparentRisk),
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            other => Err(FieldError::new(
                field,
                format!("`{other}` is not a risk grade (no_apparent_risk, low, medium, high)"),
            )),
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoApparentRisk => "no_apparent_risk",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// A place, described for sharing: area-level only, never a street address of a placement.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Place {
    /// Free-text description ("Birmingham New Street station").
    pub description: String,
    /// Local authority area it lies in, if known.
    pub authority: Option<OrgCode>,
    /// Police force area it lies in, if known.
    pub force: Option<OrgCode>,
}

/// One change of risk grade: every change keeps when, by whom and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GradeChange {
    /// The new grade.
    pub grade: RiskGrade,
    /// Why.
    pub rationale: String,
    /// When the change was made.
    pub at: DateTime<Utc>,
    /// Who made it (user name) and for which organisation.
    pub by: String,
    /// The organisation the change came from.
    pub source: OrgCode,
}

/// A reported sighting while missing.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sighting {
    /// When they were seen.
    pub at: DateTime<Utc>,
    /// Where.
    pub place: Place,
    /// Who reported it (organisation).
    pub reported_by: OrgCode,
    /// What was seen.
    pub details: String,
}

/// How the person was when found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnOutcome {
    /// Found safe and well.
    Safe,
    /// Found having come to harm.
    Harmed,
    /// Found deceased.
    Deceased,
}

impl ReturnOutcome {
    /// Parses `safe`, `harmed`, `deceased`.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "safe" => Ok(Self::Safe),
            "harmed" => Ok(Self::Harmed),
            "deceased" => Ok(Self::Deceased),
            other => Err(FieldError::new(
                field,
                format!("`{other}` is not a return outcome (safe, harmed, deceased)"),
            )),
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Safe => "safe",
            Self::Harmed => "harmed",
            Self::Deceased => "deceased",
        }
    }
}

/// The end of an incident: found or returned.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Return {
    /// When they were found or came back.
    pub found_at: DateTime<Utc>,
    /// Where.
    pub place: Place,
    /// Which organisation found them (or recorded the return).
    pub found_by: OrgCode,
    /// Safe, harmed or deceased.
    pub outcome: ReturnOutcome,
}

/// The return-home interview a local authority must offer within 72 hours.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReturnHomeInterview {
    /// When it was offered.
    pub offered_at: DateTime<Utc>,
    /// Whether the child accepted.
    pub accepted: bool,
    /// Who conducted it (organisation).
    pub conducted_by: Option<OrgCode>,
    /// When it took place.
    pub conducted_at: Option<DateTime<Utc>>,
    /// Outcome summary.
    pub outcome: Option<String>,
    /// True if the child disclosed something needing action (exploitation, harm).
    pub disclosures_flagged: bool,
}

/// One missing episode of one person.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Incident {
    /// The incident's id.
    pub id: IncidentId,
    /// Who is missing.
    pub person_id: PersonId,
    /// The organisation that recorded it (owner).
    pub owning_org: OrgCode,
    /// The force in whose area they went missing.
    pub force_missing: OrgCode,
    /// Other organisations with need-to-know (home force, placing and host authority...).
    pub involved: Vec<OrgCode>,
    /// Missing or away from placement.
    pub category: IncidentCategory,
    /// When it was reported.
    pub reported_at: DateTime<Utc>,
    /// When they were last seen.
    pub last_seen_at: DateTime<Utc>,
    /// Where they were last seen.
    pub last_seen_place: Place,
    /// Circumstances, free text.
    pub circumstances: String,
    /// Risk grade history, oldest first; never empty. The last entry is the current grade.
    pub risk_history: Vec<GradeChange>,
    /// Sightings while missing.
    pub sightings: Vec<Sighting>,
    /// The return, once found.
    pub returned: Option<Return>,
    /// The return-home interview, once offered.
    pub return_interview: Option<ReturnHomeInterview>,
}

impl Incident {
    /// The current risk grade.
    pub fn risk(&self) -> RiskGrade {
        self.risk_history
            .last()
            .map_or(RiskGrade::NoApparentRisk, |g| g.grade)
    }

    /// True while the person has not been found.
    pub fn is_open(&self) -> bool {
        self.returned.is_none()
    }

    /// End of the episode, or `None` while open.
    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.returned.as_ref().map(|r| r.found_at)
    }

    /// How long the episode lasted, or has lasted so far at `now`.
    pub fn duration(&self, now: DateTime<Utc>) -> Duration {
        self.ended_at().unwrap_or(now) - self.last_seen_at
    }

    /// Checks the invariants of one incident: last seen before reported (allowing for a report
    /// written a little later), grade history in time order, return after last seen, sightings
    /// inside the episode, interview after the return.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = Vec::new();
        if self.last_seen_at > self.reported_at {
            errs.push(FieldError::new("last_seen_at", "is after reported_at"));
        }
        if self.risk_history.is_empty() {
            errs.push(FieldError::new(
                "risk_history",
                "an incident needs a risk grade",
            ));
        }
        for (i, w) in self.risk_history.windows(2).enumerate() {
            if w[1].at < w[0].at {
                errs.push(FieldError::new(
                    format!("risk_history[{}].at", i + 1),
                    "is before the previous grade change",
                ));
            }
        }
        for (i, g) in self.risk_history.iter().enumerate() {
            if g.rationale.trim().is_empty() {
                errs.push(FieldError::new(
                    format!("risk_history[{i}].rationale"),
                    "is empty",
                ));
            }
        }
        if let Some(r) = &self.returned
            && r.found_at < self.last_seen_at
        {
            errs.push(FieldError::new(
                "returned.found_at",
                "is before last_seen_at",
            ));
        }
        for (i, s) in self.sightings.iter().enumerate() {
            if s.at < self.last_seen_at || self.ended_at().is_some_and(|e| s.at > e) {
                errs.push(FieldError::new(
                    format!("sightings[{i}].at"),
                    "is outside the missing episode",
                ));
            }
        }
        self.check_text(&mut errs);
        if let Some(rhi) = &self.return_interview {
            match &self.returned {
                None => errs.push(FieldError::new(
                    "return_interview",
                    "cannot be recorded before the return",
                )),
                Some(r) if rhi.offered_at < r.found_at => errs.push(FieldError::new(
                    "return_interview.offered_at",
                    "is before the return",
                )),
                _ => {}
            }
            if let Some(at) = rhi.conducted_at
                && at < rhi.offered_at
            {
                errs.push(FieldError::new(
                    "return_interview.conducted_at",
                    "is before offered_at",
                ));
            }
            if rhi.conducted_at.is_some() && !rhi.accepted {
                errs.push(FieldError::new(
                    "return_interview.conducted_at",
                    "is set but the interview was not accepted",
                ));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errs))
        }
    }

    /// The bounds on the incident's free text ([`crate::text`]), with domain field paths.
    fn check_text(&self, errs: &mut Vec<FieldError>) {
        use crate::text::{NARRATIVE, NOTE, PLACE, check_len};
        check_len(errs, "circumstances", &self.circumstances, NARRATIVE, false);
        check_len(
            errs,
            "last_seen_place.description",
            &self.last_seen_place.description,
            PLACE,
            false,
        );
        for (i, g) in self.risk_history.iter().enumerate() {
            check_len(
                errs,
                &format!("risk_history[{i}].rationale"),
                &g.rationale,
                NOTE,
                false,
            );
        }
        for (i, s) in self.sightings.iter().enumerate() {
            check_len(
                errs,
                &format!("sightings[{i}].details"),
                &s.details,
                NOTE,
                false,
            );
            check_len(
                errs,
                &format!("sightings[{i}].place.description"),
                &s.place.description,
                PLACE,
                false,
            );
        }
        if let Some(r) = &self.returned {
            check_len(
                errs,
                "returned.place.description",
                &r.place.description,
                PLACE,
                false,
            );
        }
        if let Some(o) = self
            .return_interview
            .as_ref()
            .and_then(|r| r.outcome.as_ref())
        {
            check_len(errs, "return_interview.outcome", o, NARRATIVE, false);
        }
    }

    /// Checks that `self` may replace `old` (the same incident as stored): earlier grade changes
    /// are kept as they were (the history only grows) and the incident stays with its person.
    pub fn check_update_from(&self, old: &Incident) -> Result<(), ValidationErrors> {
        let mut errs = Vec::new();
        if self.risk_history.get(..old.risk_history.len()) != Some(old.risk_history.as_slice()) {
            errs.push(FieldError::new(
                "risk_history",
                "earlier grade changes cannot be altered or removed",
            ));
        }
        if self.person_id != old.person_id {
            errs.push(FieldError::new(
                "person_id",
                "an incident cannot move to another person",
            ));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errs))
        }
    }

    /// Records a new risk grade, keeping the history. The change must not predate the last one.
    pub fn change_grade(&mut self, change: GradeChange) -> Result<(), FieldError> {
        if change.rationale.trim().is_empty() {
            return Err(FieldError::new(
                "rationale",
                "a grade change needs a rationale",
            ));
        }
        if let Some(last) = self.risk_history.last()
            && change.at < last.at
        {
            return Err(FieldError::new("at", "is before the previous grade change"));
        }
        self.risk_history.push(change);
        Ok(())
    }

    /// Records the return; refuses a second return or one before last seen.
    pub fn record_return(&mut self, r: Return) -> Result<(), FieldError> {
        if self.returned.is_some() {
            return Err(FieldError::new(
                "returned",
                "this incident already has a return",
            ));
        }
        if r.found_at < self.last_seen_at {
            return Err(FieldError::new(
                "found_at",
                "is before the person was last seen",
            ));
        }
        if let Some(s) = self.sightings.iter().find(|s| s.at > r.found_at) {
            return Err(FieldError::new(
                "found_at",
                format!("is before a sighting recorded at {}", s.at),
            ));
        }
        self.returned = Some(r);
        Ok(())
    }

    /// True if the return-home interview was offered within 72 hours of the return.
    pub fn interview_offered_in_time(&self) -> Option<bool> {
        let r = self.returned.as_ref()?;
        let rhi = self.return_interview.as_ref()?;
        Some(rhi.offered_at - r.found_at <= Duration::hours(72))
    }

    /// True if this incident's episode overlaps `other`'s (open episodes run forever).
    pub fn overlaps(&self, other: &Incident) -> bool {
        episodes_overlap(
            (self.last_seen_at, self.ended_at()),
            (other.last_seen_at, other.ended_at()),
        )
    }
}

/// True if two episodes `(last seen, found)` overlap; an episode not yet ended runs forever.
/// An episode that ends exactly when the next begins does not overlap it.
pub fn episodes_overlap(
    a: (DateTime<Utc>, Option<DateTime<Utc>>),
    b: (DateTime<Utc>, Option<DateTime<Utc>>),
) -> bool {
    let starts_before_end =
        |x: (DateTime<Utc>, Option<DateTime<Utc>>), y: (DateTime<Utc>, Option<DateTime<Utc>>)| {
            y.1.is_none_or(|end| x.0 < end)
        };
    starts_before_end(a, b) && starts_before_end(b, a)
}

/// Refuses `incident` if it overlaps any other incident of the same person in `existing`
/// (the incident itself, by id, is ignored so updates can be checked the same way).
pub fn check_no_overlap(incident: &Incident, existing: &[Incident]) -> Result<(), FieldError> {
    match existing
        .iter()
        .filter(|e| e.id != incident.id && e.person_id == incident.person_id)
        .find(|e| incident.overlaps(e))
    {
        Some(e) => Err(FieldError::new(
            "last_seen_at",
            format!(
                "overlaps incident {} of the same person (last seen {}{})",
                e.id,
                e.last_seen_at,
                e.ended_at()
                    .map_or_else(|| ", still open".to_owned(), |t| format!(", found {t}"))
            ),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;
    use uuid::Uuid;

    pub(crate) fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    pub(crate) fn org(s: &str) -> OrgCode {
        OrgCode::parse("o", s).unwrap()
    }

    pub(crate) fn incident(n: u128, person: u128, seen: i64, found: Option<i64>) -> Incident {
        Incident {
            id: IncidentId(Uuid::from_u128(n)),
            person_id: PersonId(Uuid::from_u128(person)),
            owning_org: org("force:kent"),
            force_missing: org("force:kent"),
            involved: vec![],
            category: IncidentCategory::Missing,
            reported_at: t(seen + 1),
            last_seen_at: t(seen),
            last_seen_place: Place::default(),
            circumstances: String::new(),
            risk_history: vec![GradeChange {
                grade: RiskGrade::Medium,
                rationale: "initial".into(),
                at: t(seen + 1),
                by: "u".into(),
                source: org("force:kent"),
            }],
            sightings: vec![],
            returned: found.map(|f| Return {
                found_at: t(f),
                place: Place::default(),
                found_by: org("force:kent"),
                outcome: ReturnOutcome::Safe,
            }),
            return_interview: None,
        }
    }

    #[test]
    fn overlap_rules() {
        let a = incident(1, 9, 0, Some(10));
        assert!(check_no_overlap(&incident(2, 9, 10, None), std::slice::from_ref(&a)).is_ok());
        assert!(check_no_overlap(&incident(2, 9, 5, Some(20)), std::slice::from_ref(&a)).is_err());
        assert!(check_no_overlap(&incident(2, 9, -5, Some(1)), std::slice::from_ref(&a)).is_err());
        // another person may be missing at the same time
        assert!(check_no_overlap(&incident(2, 8, 5, None), std::slice::from_ref(&a)).is_ok());
        // an open incident blocks anything later
        let open = incident(3, 9, 100, None);
        let e = check_no_overlap(&incident(4, 9, 200, Some(210)), std::slice::from_ref(&open))
            .unwrap_err();
        assert!(e.problem.contains("still open"));
        // but not anything that ended before it began
        assert!(check_no_overlap(&incident(4, 9, 50, Some(99)), &[open]).is_ok());
    }

    #[test]
    fn return_must_follow_last_seen_and_only_once() {
        let mut i = incident(1, 1, 10, None);
        let r = |h| Return {
            found_at: t(h),
            place: Place::default(),
            found_by: org("force:kent"),
            outcome: ReturnOutcome::Safe,
        };
        assert_eq!(i.record_return(r(5)).unwrap_err().field, "found_at");
        i.record_return(r(20)).unwrap();
        assert!(i.record_return(r(30)).is_err());
        assert!(i.validate().is_ok());
        assert_eq!(i.duration(t(99)), Duration::hours(10));
    }

    #[test]
    fn grade_changes_keep_history_in_order() {
        let mut i = incident(1, 1, 0, None);
        let change = |h, g| GradeChange {
            grade: g,
            rationale: "new information".into(),
            at: t(h),
            by: "sgt".into(),
            source: org("force:kent"),
        };
        i.change_grade(change(5, RiskGrade::High)).unwrap();
        assert_eq!(i.risk(), RiskGrade::High);
        assert!(i.change_grade(change(3, RiskGrade::Low)).is_err());
        assert_eq!(i.risk_history.len(), 2);
        let mut no_reason = change(6, RiskGrade::Low);
        no_reason.rationale = " ".into();
        assert_eq!(i.change_grade(no_reason).unwrap_err().field, "rationale");
    }

    #[test]
    fn interview_rules() {
        let mut i = incident(1, 1, 0, Some(10));
        i.return_interview = Some(ReturnHomeInterview {
            offered_at: t(90),
            accepted: false,
            conducted_by: None,
            conducted_at: None,
            outcome: None,
            disclosures_flagged: false,
        });
        assert_eq!(i.interview_offered_in_time(), Some(false));
        assert!(i.validate().is_ok());
        i.return_interview.as_mut().unwrap().offered_at = t(5);
        assert!(
            i.validate().unwrap_err().errors()[0]
                .field
                .contains("offered_at")
        );
        let mut open = incident(2, 1, 0, None);
        open.return_interview = i.return_interview.clone();
        assert!(open.validate().is_err());
    }

    #[test]
    fn sightings_must_fall_inside_the_episode() {
        let mut i = incident(1, 1, 10, Some(20));
        i.sightings.push(Sighting {
            at: t(25),
            place: Place::default(),
            reported_by: org("force:kent"),
            details: String::new(),
        });
        assert_eq!(
            i.validate().unwrap_err().errors()[0].field,
            "sightings[0].at"
        );
    }
}
