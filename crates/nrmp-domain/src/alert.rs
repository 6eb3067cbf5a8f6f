//! Alerts: which committed changes someone must learn of at once, who that is, and when an
//! unacknowledged alert escalates. Pure functions of the records a change left behind and the
//! time `now` (from the injected clock); the application layer reads the changes from the
//! outbox, loads the records and stores what these functions return.
//!
//! Every alert has a `key` naming the fact it reports (`high_risk:<incident>:<grade entry>`):
//! the same fact seen twice — a change re-read from the outbox, a restart — is one alert. An
//! alert holds no personal details (ids, grades, organisation codes, match weights by field): its
//! body is rendered for each recipient from the records, through their own grant.
//!
//! Who receives what, and why (see docs/alerts.md):
//!
//! | rule | raised when | addressed to |
//! |---|---|---|
//! | [`AlertKind::HighRisk`] | an open incident is graded high, at report or later | force where missing, incident owner, involved organisations, owner of the person's record |
//! | [`AlertKind::MissingSoonAfterReferral`] | a person goes missing within 24 h / 72 h of an NRM referral | as above, and the national unit (trafficking links are national) |
//! | [`AlertKind::MissingSoonAfterCare`] | … within 24 h / 72 h of coming into care | as above (the placing and host authorities are involved) |
//! | [`AlertKind::RepeatMissing`] | an open incident is the `repeat_count`th in `repeat_window_days` | force where missing, incident owner, involved organisations, owner of the person's record |
//! | [`AlertKind::FoundInAnotherForce`] | a return is recorded in another force's area | the force where missing (home force), and the others above |
//! | [`AlertKind::ReviewOverdue`] | an open incident is past its review time (a timer) | the force where missing and the owner |
//! | [`AlertKind::FoundMatchesIncident`] | a found / unidentified person matches a person with an open incident above the threshold | the incident's force, owner, the finding organisation, the national unit |
//! | [`AlertKind::IncidentMatchesFound`] | a new incident's person matches an unidentified found person already recorded | the same |
//! | [`AlertKind::EncounterHighRisk`] | an encounter check's top candidate has an open high-risk incident | the incident's force and owner (who checked, when, why) |
//!
//! Within an organisation an alert first goes to the case-working role ([`first_roles`]);
//! unacknowledged after `escalate_after_minutes` it also goes to the organisation's duty-contact
//! role ([`duty_role`]), and after `national_after_minutes` to the national unit ([`escalation`]).

use crate::access::Role;
use crate::audit::Actor;
use crate::error::{FieldError, ValidationErrors};
use crate::flags::{History, RiskFlag, incident_flags};
use crate::found::FoundPerson;
use crate::ids::{FoundPersonId, IncidentId, PersonId};
use crate::incident::{Incident, RiskGrade};
use crate::organisation::{OrgCode, OrgKind};
use chrono::{DateTime, Duration, Utc};

/// What an alert is about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// An open incident graded high risk (at report, or graded up).
    HighRisk,
    /// Missing within 24 h / 72 h of an NRM referral.
    MissingSoonAfterReferral,
    /// Missing within 24 h / 72 h of coming into care.
    MissingSoonAfterCare,
    /// The third (or `repeat_count`th) incident within the repeat window.
    RepeatMissing,
    /// Found or returned in a force area other than the one where they went missing.
    FoundInAnotherForce,
    /// Open past its review time.
    ReviewOverdue,
    /// A found / unidentified person matches a person with an open incident.
    FoundMatchesIncident,
    /// A new incident's person matches a found / unidentified person already recorded.
    IncidentMatchesFound,
    /// An encounter check's top candidate has an open high-risk incident.
    EncounterHighRisk,
}

impl AlertKind {
    /// Every kind, in declaration order.
    pub const ALL: [AlertKind; 9] = [
        Self::HighRisk,
        Self::MissingSoonAfterReferral,
        Self::MissingSoonAfterCare,
        Self::RepeatMissing,
        Self::FoundInAnotherForce,
        Self::ReviewOverdue,
        Self::FoundMatchesIncident,
        Self::IncidentMatchesFound,
        Self::EncounterHighRisk,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HighRisk => "high_risk",
            Self::MissingSoonAfterReferral => "missing_soon_after_referral",
            Self::MissingSoonAfterCare => "missing_soon_after_care",
            Self::RepeatMissing => "repeat_missing",
            Self::FoundInAnotherForce => "found_in_another_force",
            Self::ReviewOverdue => "review_overdue",
            Self::FoundMatchesIncident => "found_matches_incident",
            Self::IncidentMatchesFound => "incident_matches_found",
            Self::EncounterHighRisk => "encounter_high_risk",
        }
    }

    /// Parses a kind's snake_case name.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| FieldError::new(field, format!("`{s}` is not an alert kind")))
    }
}

/// One addressee: a role within an organisation.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Recipient {
    /// The organisation.
    pub org: OrgCode,
    /// The role within it.
    pub role: Role,
}

/// The kind of organisation a code names, from its prefix (`force:`, `la:`, …).
pub fn org_kind(code: &OrgCode) -> Option<OrgKind> {
    [
        OrgKind::PoliceForce,
        OrgKind::LocalAuthority,
        OrgKind::NationalUnit,
        OrgKind::AdvocacyService,
    ]
    .into_iter()
    .find(|k| {
        code.as_str()
            .starts_with(crate::access::org_code_prefix(*k))
    })
}

/// The roles an alert first goes to in an organisation of `kind`: the people working cases
/// (police call handlers, local-authority social workers, national analysts). Advocacy
/// services receive no alerts: an advocate follows named clients, not the register's events.
pub fn first_roles(kind: OrgKind) -> &'static [Role] {
    match kind {
        OrgKind::PoliceForce => &[Role::CallHandler],
        OrgKind::LocalAuthority => &[Role::SocialWorker],
        OrgKind::NationalUnit => &[Role::NationalAnalyst],
        OrgKind::AdvocacyService => &[],
    }
}

/// The duty-contact role of an organisation of `kind`, which an unacknowledged alert escalates
/// to: the missing-person coordinator of a force, the missing-from-care lead of an authority.
pub fn duty_role(kind: OrgKind) -> Option<Role> {
    match kind {
        OrgKind::PoliceForce => Some(Role::MissingPersonCoordinator),
        OrgKind::LocalAuthority => Some(Role::MissingFromCareLead),
        OrgKind::NationalUnit => Some(Role::NationalAnalyst),
        OrgKind::AdvocacyService => None,
    }
}

/// An organisation's duty contact: whom to call about its alerts and its cases. Not personal
/// data (a desk, not a person).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DutyContact {
    /// The organisation.
    pub org: OrgCode,
    /// The desk's name ("Kent Police missing persons desk").
    pub desk: String,
    /// Telephone number, as dialled.
    pub phone: String,
    /// E-mail address.
    pub email: String,
}

impl DutyContact {
    /// Checks every field (bounded lengths, a phone of digits and `+ ()-`, an e-mail with `@`).
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = Vec::new();
        let desk = self.desk.trim();
        if desk.is_empty() || desk.chars().count() > 200 {
            errs.push(FieldError::new("desk", "must be 1 to 200 characters"));
        }
        let digits = self.phone.chars().filter(char::is_ascii_digit).count();
        if !(3..=20).contains(&digits)
            || !self
                .phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +()-".contains(c))
        {
            errs.push(FieldError::new(
                "phone",
                format!(
                    "`{}` is not a telephone number (3 to 20 digits, spaces, + ( ) -)",
                    self.phone
                ),
            ));
        }
        let email = self.email.trim();
        let ok = email.len() <= 254
            && email
                .split_once('@')
                .is_some_and(|(u, d)| !u.is_empty() && d.contains('.') && !d.contains('@'))
            && !email.contains(char::is_whitespace);
        if !ok {
            errs.push(FieldError::new(
                "email",
                format!("`{}` is not an e-mail address", self.email),
            ));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errs))
        }
    }
}

/// Thresholds and times, from the configuration file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertRules {
    /// Incidents within `repeat_window_days` that make a repeat (default 3).
    pub repeat_count: usize,
    /// Window for repeats, in days (default 30).
    pub repeat_window_days: i64,
    /// Hours after its last review (report or grade change) by which an open high-risk
    /// incident must be reviewed again (default 6).
    pub review_hours_high: i64,
    /// The same for medium risk (default 24).
    pub review_hours_medium: i64,
    /// The same for low and no apparent risk (default 72).
    pub review_hours_low: i64,
    /// Match probability at or above which continuous comparison raises an alert (default 0.9).
    pub match_threshold: f64,
    /// Minutes an alert may stay unacknowledged before it goes to the duty contact (default 30).
    pub escalate_after_minutes: i64,
    /// Minutes before it also goes to the national unit (default 120).
    pub national_after_minutes: i64,
    /// The national unit's organisation code (default `national:nmpu`).
    pub national_unit: OrgCode,
}

impl Default for AlertRules {
    fn default() -> Self {
        Self {
            repeat_count: 3,
            repeat_window_days: 30,
            review_hours_high: 6,
            review_hours_medium: 24,
            review_hours_low: 72,
            match_threshold: 0.9,
            escalate_after_minutes: 30,
            national_after_minutes: 120,
            national_unit: OrgCode::parse("national_unit", "national:nmpu")
                .unwrap_or_else(|_| unreachable!("a valid literal code")),
        }
    }
}

impl AlertRules {
    /// Checks the settings make sense (every problem named by its key).
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = Vec::new();
        let mut positive = |name: &str, v: i64| {
            if v <= 0 {
                errs.push(FieldError::new(name, format!("must be positive, not {v}")));
            }
        };
        positive("repeat_window_days", self.repeat_window_days);
        positive("review_hours_high", self.review_hours_high);
        positive("review_hours_medium", self.review_hours_medium);
        positive("review_hours_low", self.review_hours_low);
        positive("escalate_after_minutes", self.escalate_after_minutes);
        positive("national_after_minutes", self.national_after_minutes);
        if self.repeat_count < 2 {
            errs.push(FieldError::new("repeat_count", "must be at least 2"));
        }
        if !(self.match_threshold > 0.0 && self.match_threshold <= 1.0) {
            errs.push(FieldError::new(
                "match_threshold",
                format!("must be in (0, 1], not {}", self.match_threshold),
            ));
        }
        if self.national_after_minutes <= self.escalate_after_minutes {
            errs.push(FieldError::new(
                "national_after_minutes",
                "must be later than escalate_after_minutes",
            ));
        }
        if org_kind(&self.national_unit) != Some(OrgKind::NationalUnit) {
            errs.push(FieldError::new(
                "national_unit",
                format!("`{}` is not a national unit code", self.national_unit),
            ));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errs))
        }
    }

    /// When `incident` is next due for review: its last review (the latest grade change, or
    /// the report) plus the hours its current grade allows.
    pub fn review_due(&self, incident: &Incident) -> DateTime<Utc> {
        let last = incident
            .risk_history
            .last()
            .map_or(incident.reported_at, |g| g.at.max(incident.reported_at));
        let hours = match incident.risk() {
            RiskGrade::High => self.review_hours_high,
            RiskGrade::Medium => self.review_hours_medium,
            RiskGrade::Low | RiskGrade::NoApparentRisk => self.review_hours_low,
        };
        last + Duration::hours(hours)
    }
}

/// One field's part in a match: its name, agreement level and weight in bits. The values
/// compared are left out (they are personal data, shown only through a recipient's grant).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MatchEvidence {
    /// Field key (`name`, `dob`, `sex`, …, as the matcher names it).
    pub field: String,
    /// Agreement level.
    pub level: String,
    /// Weight in bits.
    pub weight: f64,
}

/// A match found by continuous comparison or an encounter check.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MatchFinding {
    /// Posterior probability of the same person.
    pub probability: f64,
    /// Per-field weights.
    pub evidence: Vec<MatchEvidence>,
}

/// What an alert says beyond its kind and records: no personal details.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AlertDetail {
    /// The incident's risk grade when raised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<RiskGrade>,
    /// 24 or 72, for the "soon after" rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<u32>,
    /// How many incidents in the window, for repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// Where they went missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_missing: Option<OrgCode>,
    /// Where they were found, or who found them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_by: Option<OrgCode>,
    /// When it fell due, for overdue reviews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// The match, for the comparison and encounter rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched: Option<MatchFinding>,
    /// Who made the encounter check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_by: Option<Actor>,
}

/// An alert a rule raises, before it is stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NewAlert {
    /// Names the fact reported: the same fact raised twice is one alert.
    pub key: String,
    /// The rule.
    pub kind: AlertKind,
    /// The register person whose case decides who may learn of it, if any.
    pub person: Option<PersonId>,
    /// The incident concerned, if any.
    pub incident: Option<IncidentId>,
    /// The found person concerned, if any.
    pub found: Option<FoundPersonId>,
    /// When the fact happened (for the incident rules: when the change was made).
    pub raised_at: DateTime<Utc>,
    /// Whom it is for, at first.
    pub recipients: Vec<Recipient>,
    /// What it says.
    pub detail: AlertDetail,
}

/// The first recipients in each of `orgs` (deduplicated, sorted).
pub fn addressed(orgs: impl IntoIterator<Item = OrgCode>) -> Vec<Recipient> {
    let mut out: Vec<Recipient> = orgs
        .into_iter()
        .filter_map(|org| org_kind(&org).map(|k| (org, k)))
        .flat_map(|(org, k)| {
            first_roles(k).iter().map(move |role| Recipient {
                org: org.clone(),
                role: *role,
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The organisations with a stake in an incident: the force where missing, the incident's
/// owner, the involved organisations, and the owner of the person's record (a child's record is
/// usually the local authority's).
fn incident_orgs(incident: &Incident, person_owner: Option<&OrgCode>) -> Vec<OrgCode> {
    let mut orgs = vec![incident.force_missing.clone(), incident.owning_org.clone()];
    orgs.extend(incident.involved.iter().cloned());
    orgs.extend(person_owner.cloned());
    orgs
}

/// The alerts an incident's current state raises, given the owner of the person's record and
/// the person's `history` (which includes the incident) — called for every committed change to the incident; `at` is when
/// the change was made. The "soon after", repeat and high-risk rules concern a person who is
/// missing now, so they hold only while the incident is open.
pub fn incident_alerts(
    incident: &Incident,
    person_owner: Option<&OrgCode>,
    history: History<'_>,
    at: DateTime<Utc>,
    rules: &AlertRules,
) -> Vec<NewAlert> {
    let flag_rules = crate::flags::FlagRules {
        repeat_count: rules.repeat_count,
        repeat_window_days: rules.repeat_window_days,
        // Open too long is the timer rule ([`overdue_alerts`]), not a change rule.
        open_days: 365 * 1000,
    };
    let base = |kind: AlertKind, key: String, orgs: Vec<OrgCode>, detail: AlertDetail| NewAlert {
        key,
        kind,
        person: Some(incident.person_id),
        incident: Some(incident.id),
        found: None,
        raised_at: at,
        recipients: addressed(orgs),
        detail,
    };
    let id = incident.id;
    let mut out = Vec::new();
    let grade = Some(incident.risk());
    let orgs = incident_orgs(incident, person_owner);
    for flag in incident_flags(incident, history, at, flag_rules) {
        let detail = AlertDetail {
            grade,
            force_missing: Some(incident.force_missing.clone()),
            ..AlertDetail::default()
        };
        match flag {
            RiskFlag::HighRisk if incident.is_open() => {
                // The grade entry that made it high: a later re-grade to high after a lower
                // one is a new fact.
                let entry = incident
                    .risk_history
                    .iter()
                    .rposition(|g| g.grade != RiskGrade::High)
                    .map_or(0, |i| i + 1);
                out.push(base(
                    AlertKind::HighRisk,
                    format!("high_risk:{id}:{entry}"),
                    orgs.clone(),
                    detail,
                ));
            }
            RiskFlag::MissingSoonAfterReferral { hours } if incident.is_open() => {
                let mut o = orgs.clone();
                o.push(rules.national_unit.clone());
                out.push(base(
                    AlertKind::MissingSoonAfterReferral,
                    format!("soon_after_referral:{id}"),
                    o,
                    AlertDetail {
                        hours: Some(hours),
                        ..detail
                    },
                ));
            }
            RiskFlag::MissingSoonAfterCare { hours } if incident.is_open() => {
                let mut o = orgs.clone();
                o.push(rules.national_unit.clone());
                out.push(base(
                    AlertKind::MissingSoonAfterCare,
                    format!("soon_after_care:{id}"),
                    o,
                    AlertDetail {
                        hours: Some(hours),
                        ..detail
                    },
                ));
            }
            RiskFlag::RepeatMissing { count } if incident.is_open() => {
                out.push(base(
                    AlertKind::RepeatMissing,
                    format!("repeat:{id}"),
                    orgs.clone(),
                    AlertDetail {
                        count: Some(count),
                        ..detail
                    },
                ));
            }
            RiskFlag::FoundInAnotherForce => {
                let found_by = incident
                    .returned
                    .as_ref()
                    .and_then(|r| r.place.force.clone());
                out.push(base(
                    AlertKind::FoundInAnotherForce,
                    format!("found_elsewhere:{id}"),
                    orgs.clone(),
                    AlertDetail { found_by, ..detail },
                ));
            }
            _ => {}
        }
    }
    out
}

/// The timer rule: each of `open` incidents past its review time at `now` raises one alert
/// per review missed (a review — a grade change — resets the clock, and missing the next one
/// is a new fact). Addressed to the force where missing and the owner.
pub fn overdue_alerts(open: &[Incident], now: DateTime<Utc>, rules: &AlertRules) -> Vec<NewAlert> {
    open.iter()
        .filter(|i| i.is_open())
        .filter_map(|i| {
            let due = rules.review_due(i);
            (now >= due).then(|| NewAlert {
                key: format!("review_overdue:{}:{}", i.id, due.timestamp()),
                kind: AlertKind::ReviewOverdue,
                person: Some(i.person_id),
                incident: Some(i.id),
                found: None,
                raised_at: now,
                recipients: addressed([i.force_missing.clone(), i.owning_org.clone()]),
                detail: AlertDetail {
                    grade: Some(i.risk()),
                    force_missing: Some(i.force_missing.clone()),
                    due_at: Some(due),
                    ..AlertDetail::default()
                },
            })
        })
        .collect()
}

/// Whom a match between `found` and open `incident` concerns: the incident's force and owner,
/// the finding organisation, and the national unit (unidentified-person comparison is its work).
fn match_orgs(found: &FoundPerson, incident: &Incident, rules: &AlertRules) -> Vec<OrgCode> {
    vec![
        incident.force_missing.clone(),
        incident.owning_org.clone(),
        found.found_by.clone(),
        rules.national_unit.clone(),
    ]
}

/// Continuous comparison, one direction: a found / unidentified person was recorded (or
/// changed), and `candidates` are the open incidents of the persons it was compared with,
/// each with the match. Raises one alert per pair at or above the threshold. A found person
/// already identified raises none (there is nobody left to find).
pub fn found_match_alerts(
    found: &FoundPerson,
    candidates: &[(&Incident, MatchFinding)],
    at: DateTime<Utc>,
    rules: &AlertRules,
) -> Vec<NewAlert> {
    pair_alerts(
        AlertKind::FoundMatchesIncident,
        found,
        candidates,
        at,
        rules,
    )
}

/// Continuous comparison, the other direction: an incident was opened and its person compared
/// with the unidentified found persons on the register; `candidates` are those found persons,
/// each with the match. Raises one alert per pair at or above the threshold (the same key as
/// the other direction: one pair, one alert).
pub fn incident_match_alerts(
    incident: &Incident,
    candidates: &[(&FoundPerson, MatchFinding)],
    at: DateTime<Utc>,
    rules: &AlertRules,
) -> Vec<NewAlert> {
    candidates
        .iter()
        .flat_map(|(found, m)| {
            pair_alerts(
                AlertKind::IncidentMatchesFound,
                found,
                &[(incident, m.clone())],
                at,
                rules,
            )
        })
        .collect()
}

fn pair_alerts(
    kind: AlertKind,
    found: &FoundPerson,
    candidates: &[(&Incident, MatchFinding)],
    at: DateTime<Utc>,
    rules: &AlertRules,
) -> Vec<NewAlert> {
    if found.identified_as.is_some() {
        return Vec::new();
    }
    candidates
        .iter()
        .filter(|(i, m)| i.is_open() && m.probability >= rules.match_threshold)
        .map(|(i, m)| NewAlert {
            key: format!("match:{}:{}", found.id, i.id),
            kind,
            person: Some(i.person_id),
            incident: Some(i.id),
            found: Some(found.id),
            raised_at: at,
            recipients: addressed(match_orgs(found, i, rules)),
            detail: AlertDetail {
                grade: Some(i.risk()),
                force_missing: Some(i.force_missing.clone()),
                found_by: Some(found.found_by.clone()),
                matched: Some(m.clone()),
                ..AlertDetail::default()
            },
        })
        .collect()
}

/// An encounter check by `checker` at `at` whose top candidate's open incidents are `open`:
/// each open high-risk one raises an alert to its force and owner, saying who checked, when and
/// with what match. `check` distinguishes checks (e.g. the audit time in nanoseconds), so two
/// checks are two alerts.
pub fn encounter_alerts(
    checker: &Actor,
    check: &str,
    open: &[&Incident],
    matched: &MatchFinding,
    at: DateTime<Utc>,
) -> Vec<NewAlert> {
    open.iter()
        .filter(|i| i.is_open() && i.risk() == RiskGrade::High)
        .map(|i| NewAlert {
            key: format!("encounter:{}:{}:{check}", i.id, checker.user),
            kind: AlertKind::EncounterHighRisk,
            person: Some(i.person_id),
            incident: Some(i.id),
            found: None,
            raised_at: at,
            recipients: addressed([i.force_missing.clone(), i.owning_org.clone()]),
            detail: AlertDetail {
                grade: Some(RiskGrade::High),
                force_missing: Some(i.force_missing.clone()),
                matched: Some(matched.clone()),
                checked_by: Some(checker.clone()),
                ..AlertDetail::default()
            },
        })
        .collect()
}

/// How far an unacknowledged alert has escalated.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EscalationLevel {
    /// Only its first recipients.
    None,
    /// Also each recipient organisation's duty-contact role.
    DutyContact,
    /// Also the national unit.
    National,
}

impl EscalationLevel {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::DutyContact => "duty_contact",
            Self::National => "national",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        match s {
            "none" => Ok(Self::None),
            "duty_contact" => Ok(Self::DutyContact),
            "national" => Ok(Self::National),
            _ => Err(FieldError::new(
                field,
                format!("`{s}` is not an escalation level"),
            )),
        }
    }
}

/// The level an alert raised at `raised_at` should have reached by `now` if nobody has
/// acknowledged it (an acknowledged alert never escalates).
pub fn escalation(
    raised_at: DateTime<Utc>,
    acknowledged: bool,
    now: DateTime<Utc>,
    rules: &AlertRules,
) -> EscalationLevel {
    let waited = now - raised_at;
    if acknowledged {
        EscalationLevel::None
    } else if waited >= Duration::minutes(rules.national_after_minutes) {
        EscalationLevel::National
    } else if waited >= Duration::minutes(rules.escalate_after_minutes) {
        EscalationLevel::DutyContact
    } else {
        EscalationLevel::None
    }
}

/// The recipients an alert first addressed to `first` has at `level`: the first ones, then each
/// of their organisations' duty-contact role, then the national unit's analysts.
pub fn escalated_recipients(
    first: &[Recipient],
    level: EscalationLevel,
    rules: &AlertRules,
) -> Vec<Recipient> {
    let mut out = first.to_vec();
    if level >= EscalationLevel::DutyContact {
        for r in first {
            if let Some(role) = org_kind(&r.org).and_then(duty_role) {
                out.push(Recipient {
                    org: r.org.clone(),
                    role,
                });
            }
        }
    }
    if level >= EscalationLevel::National {
        out.push(Recipient {
            org: rules.national_unit.clone(),
            role: Role::NationalAnalyst,
        });
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests;
