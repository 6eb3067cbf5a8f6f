//! Missing incidents: report one, read it, list and filter them (a search), and the changes an
//! episode goes through — a risk-grade change, a sighting, the return, the return-home
//! interview, and corrections to its narrative.

use crate::Register;
use crate::access::{Attempt, Case, Listing, PageRequest, render_error};
use crate::error::{AppError, AppResult};
use crate::input::Created;
use crate::input::{Errors, Page, bool_param, list_param, opt_param};
use chrono::{DateTime, Utc};
use nrmp_domain::access::{
    Action, CaseContext, Field, FieldSet, Grant, Principal, RedactedIncident, ResourceKind, Target,
    authorize, redact_flags,
};
use nrmp_domain::flags::{FlagRules, History, RiskFlag, incident_flags};
use nrmp_domain::ids::{IncidentId, PersonId};
use nrmp_domain::incident::{
    GradeChange, Incident, IncidentCategory, Place, Return, ReturnHomeInterview, ReturnOutcome,
    RiskGrade, Sighting,
};
use nrmp_domain::organisation::OrgCode;
use nrmp_store::{IncidentCursor, IncidentFilter, PersonHistory};
use std::borrow::Cow;

/// An incident as shown: the redacted record plus the derived warning flags (if granted).
#[derive(Debug, serde::Serialize)]
pub struct IncidentView {
    /// The redacted incident.
    #[serde(flatten)]
    pub incident: RedactedIncident,
    /// Derived warnings (repeat missing, high risk, soon after care or referral…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning_flags: Option<Vec<RiskFlag>>,
}

/// Renders `incident` through `grant`, with its warning flags from the person's history.
pub fn render(
    grant: &Grant,
    incident: &Incident,
    history: &PersonHistory,
    now: DateTime<Utc>,
) -> Result<IncidentView, nrmp_domain::access::DenyReason> {
    let view = grant.view(incident)?;
    let flags = incident_flags(
        incident,
        History {
            incidents: &history.incidents,
            referrals: &history.referrals,
            placements: &history.placements,
        },
        now,
        FlagRules::default(),
    );
    Ok(IncidentView {
        incident: view,
        warning_flags: redact_flags(&flags, &grant.fields()),
    })
}

/// The risk grade given with a report or a change.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeInput {
    /// The grade.
    pub grade: RiskGrade,
    /// Why (required, non-empty).
    pub rationale: String,
    /// Reason for the request (alternative to the header).
    #[serde(default)]
    pub reason: Option<String>,
}

/// A new incident.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentInput {
    /// Who is missing (a register person).
    pub person_id: PersonId,
    /// The force in whose area they went missing.
    pub force_missing: OrgCode,
    /// Other organisations with need-to-know.
    #[serde(default)]
    pub involved: Vec<OrgCode>,
    /// `missing` or `away_from_placement`.
    pub category: IncidentCategory,
    /// When reported (default: now).
    #[serde(default)]
    pub reported_at: Option<DateTime<Utc>>,
    /// When last seen.
    pub last_seen_at: DateTime<Utc>,
    /// Where last seen.
    #[serde(default)]
    pub last_seen_place: Place,
    /// Circumstances.
    #[serde(default)]
    pub circumstances: String,
    /// The initial risk grade and its rationale.
    pub risk: InitialGrade,
    /// Reason for the request (alternative to the header).
    #[serde(default)]
    pub reason: Option<String>,
}

/// The grade a report starts with.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitialGrade {
    /// The grade.
    pub grade: RiskGrade,
    /// Why.
    pub rationale: String,
}

fn check_not_future(errs: &mut Errors, field: &str, t: DateTime<Utc>, now: DateTime<Utc>) {
    let mut found = Vec::new();
    nrmp_domain::text::check_not_future(&mut found, field, t, now);
    errs.extend(found);
}

fn check_text(errs: &mut Errors, field: &str, s: &str, max: usize, required: bool) {
    let mut found = Vec::new();
    nrmp_domain::text::check_len(&mut found, field, s, max, required);
    errs.extend(found);
}

/// Which fields of an incident differ (all set fields for a new one).
pub fn changed_fields(old: Option<&Incident>, new: &Incident) -> FieldSet {
    let parts = |i: &Incident| -> Vec<(Field, serde_json::Value)> {
        let rhi = i.return_interview.as_ref();
        vec![
            (
                Field::Organisations,
                serde_json::json!((&i.owning_org, &i.force_missing, &i.involved)),
            ),
            (
                Field::IncidentSummary,
                serde_json::json!((i.category, i.reported_at, i.last_seen_at)),
            ),
            (Field::RiskGrade, serde_json::json!(i.risk())),
            (Field::RiskHistory, serde_json::json!(i.risk_history)),
            (Field::LastSeenPlace, serde_json::json!(i.last_seen_place)),
            (Field::Circumstances, serde_json::json!(i.circumstances)),
            (Field::Sightings, serde_json::json!(i.sightings)),
            (
                Field::Return,
                serde_json::json!(i.returned.as_ref().map(|r| (
                    r.found_at,
                    &r.found_by,
                    r.outcome
                ))),
            ),
            (
                Field::ReturnPlace,
                serde_json::json!(i.returned.as_ref().map(|r| &r.place)),
            ),
            (
                Field::ReturnInterview,
                serde_json::json!(rhi.map(|r| (
                    r.offered_at,
                    r.accepted,
                    &r.conducted_by,
                    r.conducted_at
                ))),
            ),
            (
                Field::ReturnInterviewDisclosures,
                serde_json::json!(rhi.map(|r| (&r.outcome, r.disclosures_flagged))),
            ),
        ]
    };
    let new_parts = parts(new);
    match old {
        None => new_parts
            .iter()
            .filter(|(_, v)| {
                !(v.is_null() || v.as_array().is_some_and(Vec::is_empty) || v.as_str() == Some(""))
            })
            .map(|(f, _)| *f)
            .collect(),
        Some(old) => parts(old)
            .iter()
            .zip(new_parts.iter())
            .filter(|(a, b)| a.1 != b.1)
            .map(|(a, _)| a.0)
            .collect(),
    }
}

impl Register {
    /// The incident as the caller may read it after a write (`{"id"}` only if they may not).
    fn after_write(
        &self,
        caller: &Principal,
        incident: &Incident,
        history: PersonHistory,
        reason: Option<&str>,
    ) -> serde_json::Value {
        let mut history = history;
        match history.incidents.iter_mut().find(|i| i.id == incident.id) {
            Some(i) => *i = incident.clone(),
            None => history.incidents.push(incident.clone()),
        }
        let case = Case::new(history);
        authorize(
            caller,
            Action::Read,
            ResourceKind::Incident,
            &Target::Case(&case.ctx),
            reason,
        )
        .ok()
        .and_then(|g| render(&g, incident, &case.history, self.clock.now()).ok())
        .and_then(|v| serde_json::to_value(v).ok())
        .unwrap_or_else(
            || serde_json::json!({ "id": incident.id, "person_id": incident.person_id }),
        )
    }
}

impl Register {
    /// Reports a person on the register missing; the caller's
    /// organisation owns the incident.
    pub async fn report_missing(
        &self,
        caller: &Principal,
        reason: Option<String>,
        input: IncidentInput,
    ) -> AppResult<Created> {
        let now = self.clock.now();
        let mut errs = Errors::default();
        let reported_at = input.reported_at.unwrap_or(now);
        check_not_future(&mut errs, "reported_at", reported_at, now);
        check_not_future(&mut errs, "last_seen_at", input.last_seen_at, now);
        check_text(
            &mut errs,
            "risk.rationale",
            &input.risk.rationale,
            nrmp_domain::text::NOTE,
            true,
        );
        check_text(
            &mut errs,
            "circumstances",
            &input.circumstances,
            nrmp_domain::text::NARRATIVE,
            false,
        );
        check_text(
            &mut errs,
            "last_seen_place.description",
            &input.last_seen_place.description,
            nrmp_domain::text::PLACE,
            false,
        );
        errs.finish()?;
        // A person the caller may not know exists is answered exactly like one that does not.
        let no_person = || AppError::invalid("person_id", "no person with this id on the register");
        let case = self
            .load_case(input.person_id)
            .await?
            .ok_or_else(no_person)?;
        let incident = Incident {
            id: IncidentId(self.ids.next_uuid()),
            person_id: input.person_id,
            owning_org: caller.org().clone(),
            force_missing: input.force_missing,
            involved: input.involved,
            category: input.category,
            reported_at,
            last_seen_at: input.last_seen_at,
            last_seen_place: input.last_seen_place,
            circumstances: input.circumstances,
            risk_history: vec![GradeChange {
                grade: input.risk.grade,
                rationale: input.risk.rationale.trim().to_owned(),
                at: now,
                by: caller.user().to_owned(),
                source: caller.org().clone(),
            }],
            sightings: vec![],
            returned: None,
            return_interview: None,
        };
        let grant = match authorize(
            caller,
            Action::Create,
            ResourceKind::Incident,
            &Target::Case(&case.ctx),
            reason.as_deref(),
        ) {
            Ok(g) => g,
            Err(d) if d.hides_existence() => return Err(no_person()),
            Err(d) => return Err(AppError::denied(d, "incident")),
        };
        // Judged only once the caller may know the person exists.
        incident.validate()?;
        grant
            .check_writes(changed_fields(None, &incident))
            .map_err(|d| AppError::denied(d, "incident"))?;
        self.store
            .create_incident(&self.ctx(caller, reason.as_deref()), &incident)
            .await?;
        let body = self.after_write(caller, &incident, case.history, reason.as_deref());
        Ok(Created {
            id: incident.id.to_string(),
            body,
        })
    }
}

impl Register {
    /// One incident, redacted to the caller's grant, with its warning flags.
    pub async fn incident(
        &self,
        caller: &Principal,
        reason: Option<String>,
        id: IncidentId,
    ) -> AppResult<IncidentView> {
        let (_, case) = self
            .load_incident_case(id)
            .await?
            .ok_or(AppError::NotFound("incident"))?;
        let ids = [id.to_string()];
        let attempt = Attempt {
            action: Action::Read,
            resource: ResourceKind::Incident,
            ids: &ids,
        };
        let grant = self
            .decide(caller, attempt, &Target::Case(&case.ctx), reason.as_deref())
            .await?;
        let incident = self
            .store
            .incident(&self.ctx(caller, reason.as_deref()), id)
            .await?;
        render(&grant, &incident, &case.history, self.clock.now()).map_err(render_error)
    }
}

/// How often a change is re-applied when the incident changed meanwhile.
const UPDATE_ATTEMPTS: usize = 5;

impl Register {
    /// Loads, decides an update, applies `change`, checks the fields it touched, and stores it only
    /// if nobody changed the incident meanwhile (else reloads and tries again, then 409).
    async fn update_with(
        &self,
        caller: &Principal,
        id: IncidentId,
        reason: Option<String>,
        change: impl Fn(&mut Incident, DateTime<Utc>) -> AppResult<()>,
    ) -> AppResult<serde_json::Value> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (old, case) = self
                .load_incident_case(id)
                .await?
                .ok_or(AppError::NotFound("incident"))?;
            let grant = self
                .decide(
                    caller,
                    Attempt {
                        action: Action::Update,
                        resource: ResourceKind::Incident,
                        ids: &[],
                    },
                    &Target::Case(&case.ctx),
                    reason.as_deref(),
                )
                .await?;
            let mut incident = old.clone();
            change(&mut incident, self.clock.now())?;
            incident.validate()?;
            grant
                .check_writes(changed_fields(Some(&old), &incident))
                .map_err(|d| AppError::denied(d, "incident"))?;
            match self
                .store
                .update_incident_from(&self.ctx(caller, reason.as_deref()), &old, &incident)
                .await
            {
                Ok(()) => {
                    return Ok(self.after_write(
                        caller,
                        &incident,
                        case.history,
                        reason.as_deref(),
                    ));
                }
                Err(nrmp_store::StoreError::Conflict(_)) if attempt < UPDATE_ATTEMPTS => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl Register {
    /// A risk-grade change (kept in the history with when,
    /// by whom and why).
    pub async fn change_grade(
        &self,
        caller: &Principal,
        reason: Option<String>,
        id: IncidentId,
        input: GradeInput,
    ) -> AppResult<serde_json::Value> {
        let mut errs = Errors::default();
        check_text(
            &mut errs,
            "rationale",
            &input.rationale,
            nrmp_domain::text::NOTE,
            true,
        );
        errs.finish()?;
        let (by, source) = (caller.user().to_owned(), caller.org().clone());
        self.update_with(caller, id, reason, move |i, now| {
            if !i.is_open() {
                return Err(AppError::Conflict(
                    "the incident is closed; its grade can no longer change".into(),
                ));
            }
            let at = i.risk_history.last().map_or(now, |g| g.at.max(now));
            i.risk_history.push(GradeChange {
                grade: input.grade,
                rationale: input.rationale.trim().to_owned(),
                at,
                by: by.clone(),
                source: source.clone(),
            });
            Ok(())
        })
        .await
    }
}

/// A sighting.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SightingInput {
    /// When seen.
    pub at: DateTime<Utc>,
    /// Where.
    pub place: Place,
    /// What was seen.
    #[serde(default)]
    pub details: String,
    /// Reason for the request (alternative to the header).
    #[serde(default)]
    pub reason: Option<String>,
}

impl Register {
    /// Adds a sighting reported by the caller's
    /// organisation.
    pub async fn add_sighting(
        &self,
        caller: &Principal,
        reason: Option<String>,
        id: IncidentId,
        input: SightingInput,
    ) -> AppResult<serde_json::Value> {
        let mut errs = Errors::default();
        check_not_future(&mut errs, "at", input.at, self.clock.now());
        check_text(
            &mut errs,
            "details",
            &input.details,
            nrmp_domain::text::NOTE,
            false,
        );
        check_text(
            &mut errs,
            "place.description",
            &input.place.description,
            nrmp_domain::text::PLACE,
            true,
        );
        errs.finish()?;
        let org = caller.org().clone();
        self.update_with(caller, id, reason, move |i, _| {
            i.sightings.push(Sighting {
                at: input.at,
                place: input.place.clone(),
                reported_by: org.clone(),
                details: input.details.clone(),
            });
            i.sightings.sort_by_key(|s| s.at);
            Ok(())
        })
        .await
    }
}

/// The return.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnInput {
    /// When found or returned.
    pub found_at: DateTime<Utc>,
    /// Where.
    pub place: Place,
    /// `safe`, `harmed` or `deceased`.
    pub outcome: ReturnOutcome,
    /// Reason for the request (alternative to the header).
    #[serde(default)]
    pub reason: Option<String>,
}

impl Register {
    /// Records the return; the caller's organisation is the
    /// finder. 409 if already returned.
    pub async fn record_return(
        &self,
        caller: &Principal,
        reason: Option<String>,
        id: IncidentId,
        input: ReturnInput,
    ) -> AppResult<serde_json::Value> {
        let mut errs = Errors::default();
        check_not_future(&mut errs, "found_at", input.found_at, self.clock.now());
        check_text(
            &mut errs,
            "place.description",
            &input.place.description,
            nrmp_domain::text::PLACE,
            true,
        );
        errs.finish()?;
        let org = caller.org().clone();
        self.update_with(caller, id, reason, move |i, _| {
            if i.returned.is_some() {
                return Err(AppError::Conflict("the return is already recorded".into()));
            }
            i.returned = Some(Return {
                found_at: input.found_at,
                place: input.place.clone(),
                found_by: org.clone(),
                outcome: input.outcome,
            });
            Ok(())
        })
        .await
    }
}

/// The return-home interview.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterviewInput {
    /// When offered.
    pub offered_at: DateTime<Utc>,
    /// Whether the child accepted.
    pub accepted: bool,
    /// When held (only if accepted).
    #[serde(default)]
    pub conducted_at: Option<DateTime<Utc>>,
    /// Outcome summary.
    #[serde(default)]
    pub outcome: Option<String>,
    /// True if the child disclosed something needing action.
    #[serde(default)]
    pub disclosures_flagged: bool,
    /// Reason for the request (alternative to the header).
    #[serde(default)]
    pub reason: Option<String>,
}

impl Register {
    /// Records (or corrects) the return-home interview; the
    /// caller's organisation conducted it if it was held.
    pub async fn record_interview(
        &self,
        caller: &Principal,
        reason: Option<String>,
        id: IncidentId,
        input: InterviewInput,
    ) -> AppResult<serde_json::Value> {
        let mut errs = Errors::default();
        let now = self.clock.now();
        check_not_future(&mut errs, "offered_at", input.offered_at, now);
        if let Some(t) = input.conducted_at {
            check_not_future(&mut errs, "conducted_at", t, now);
        }
        if let Some(o) = &input.outcome {
            check_text(&mut errs, "outcome", o, nrmp_domain::text::NARRATIVE, false);
        }
        errs.finish()?;
        let org = caller.org().clone();
        self.update_with(caller, id, reason, move |i, _| {
            i.return_interview = Some(ReturnHomeInterview {
                offered_at: input.offered_at,
                accepted: input.accepted,
                conducted_by: input.conducted_at.map(|_| org.clone()),
                conducted_at: input.conducted_at,
                outcome: input.outcome.clone().filter(|o| !o.trim().is_empty()),
                disclosures_flagged: input.disclosures_flagged,
            });
            Ok(())
        })
        .await
    }
}

/// Corrections to an incident's narrative; absent fields stay as they are.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentPatch {
    /// Category.
    #[serde(default)]
    pub category: Option<IncidentCategory>,
    /// Where last seen.
    #[serde(default)]
    pub last_seen_place: Option<Place>,
    /// Circumstances.
    #[serde(default)]
    pub circumstances: Option<String>,
    /// Involved organisations (only an owner may change who is involved).
    #[serde(default)]
    pub involved: Option<Vec<OrgCode>>,
    /// Reason for the request (alternative to the header).
    #[serde(default)]
    pub reason: Option<String>,
}

impl Register {
    /// Corrects an incident's narrative (category, place last seen, circumstances, who is
    /// involved).
    pub async fn correct_incident(
        &self,
        caller: &Principal,
        reason: Option<String>,
        id: IncidentId,
        input: IncidentPatch,
    ) -> AppResult<serde_json::Value> {
        let mut errs = Errors::default();
        if let Some(c) = &input.circumstances {
            check_text(
                &mut errs,
                "circumstances",
                c,
                nrmp_domain::text::NARRATIVE,
                false,
            );
        }
        errs.finish()?;
        self.update_with(caller, id, reason, move |i, _| {
            if let Some(c) = input.category {
                i.category = c;
            }
            if let Some(p) = &input.last_seen_place {
                i.last_seen_place = p.clone();
            }
            if let Some(c) = &input.circumstances {
                i.circumstances = c.clone();
            }
            if let Some(inv) = &input.involved {
                i.involved = inv.clone();
            }
            Ok(())
        })
        .await
    }
}

/// Query parameters of `GET /api/v1/incidents`.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentListQuery {
    /// `true`: open only; `false`: closed only.
    pub open: Option<String>,
    /// Current grade(s), comma-separated: `high,medium`.
    pub risk: Option<String>,
    /// Force where missing.
    pub force: Option<String>,
    /// Owning organisation.
    pub owning_org: Option<String>,
    /// Local authority that owns, places or hosts.
    pub authority: Option<String>,
    /// One person's incidents.
    pub person_id: Option<String>,
    /// `missing` or `away_from_placement`.
    pub category: Option<String>,
    /// Open and last seen at least this many hours ago.
    pub missing_longer_than_hours: Option<String>,
    /// Page size.
    pub limit: Option<String>,
    /// Cursor from the previous page's `next`.
    pub after: Option<String>,
}

fn parse_cursor(field: &str, s: &str) -> Result<IncidentCursor, nrmp_domain::FieldError> {
    let bad = || nrmp_domain::FieldError::new(field, "is not a cursor from a previous page");
    let (t, id) = s.split_once('~').ok_or_else(bad)?;
    let t = DateTime::parse_from_rfc3339(t).map_err(|_| bad())?.to_utc();
    let id = IncidentId::parse(field, id).map_err(|_| bad())?;
    Ok(IncidentCursor {
        last_seen_at: t,
        id,
    })
}

/// Incidents as [`Register::list_incidents`] lists them, most recently last seen first.
struct IncidentListing {
    filter: IncidentFilter,
    now: DateTime<Utc>,
}

impl Listing for IncidentListing {
    type Row = Incident;
    type Cursor = IncidentCursor;
    type View = IncidentView;
    const RESOURCE: ResourceKind = ResourceKind::Incident;

    async fn fetch(
        &self,
        register: &Register,
        after: Option<IncidentCursor>,
        want: u32,
    ) -> AppResult<Vec<Incident>> {
        Ok(register
            .store
            .query_incidents(&self.filter, after, want)
            .await?)
    }

    fn cursor(i: &Incident) -> (IncidentCursor, String) {
        let cursor = IncidentCursor {
            last_seen_at: i.last_seen_at,
            id: i.id,
        };
        (cursor, cursor_text(i))
    }

    fn person(i: &Incident) -> Option<PersonId> {
        Some(i.person_id)
    }

    fn context<'a>(_: &'a Incident, case: Option<&'a Case>) -> Option<Cow<'a, CaseContext>> {
        case.map(|c| Cow::Borrowed(&c.ctx))
    }

    fn render(&self, grant: &Grant, i: &Incident, case: Option<&Case>) -> Option<IncidentView> {
        render(grant, i, &case?.history, self.now).ok()
    }

    fn shown_id(v: &IncidentView) -> String {
        v.incident.id.to_string()
    }
}

fn cursor_text(i: &Incident) -> String {
    format!(
        "{}~{}",
        i.last_seen_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        i.id
    )
}

impl Register {
    /// Incidents most recently last seen first, filtered — a search
    /// (reason required). Rows the caller may not see are left out before paging.
    pub async fn list_incidents(
        &self,
        caller: &Principal,
        reason: Option<String>,
        q: IncidentListQuery,
    ) -> AppResult<Page<IncidentView>> {
        let now = self.clock.now();
        let mut errs = Errors::default();
        let limit = errs.take(self.page_size(q.limit.as_deref()));
        let open = errs.take(bool_param("open", q.open.as_deref()));
        let risk = errs.take(list_param("risk", q.risk.as_deref(), RiskGrade::parse));
        let force = errs.take(opt_param("force", q.force.as_deref(), OrgCode::parse));
        let owning_org = errs.take(opt_param(
            "owning_org",
            q.owning_org.as_deref(),
            OrgCode::parse,
        ));
        let authority = errs.take(opt_param(
            "authority",
            q.authority.as_deref(),
            OrgCode::parse,
        ));
        let person = errs.take(opt_param(
            "person_id",
            q.person_id.as_deref(),
            PersonId::parse,
        ));
        let category = errs.take(opt_param(
            "category",
            q.category.as_deref(),
            IncidentCategory::parse,
        ));
        let hours = errs.take(opt_param(
            "missing_longer_than_hours",
            q.missing_longer_than_hours.as_deref(),
            |f, s| match s.parse::<u32>() {
                Ok(h) if h <= 24 * 365 * 20 => Ok(h),
                _ => Err(nrmp_domain::FieldError::new(
                    f,
                    format!("`{s}` is not a number of hours (0 to 175200)"),
                )),
            },
        ));
        let after = errs.take(opt_param("after", q.after.as_deref(), parse_cursor));
        errs.finish()?;
        let (
            Some(limit),
            Some(open),
            Some(risk),
            Some(force),
            Some(owning_org),
            Some(authority),
            Some(person),
            Some(category),
            Some(hours),
            Some(after),
        ) = (
            limit, open, risk, force, owning_org, authority, person, category, hours, after,
        )
        else {
            return Err(AppError::invalid("query", "incomplete"));
        };
        let filter = IncidentFilter {
            ids: vec![],
            open: if hours.is_some() { Some(true) } else { open },
            risk,
            force,
            owning_org,
            authority,
            person,
            category,
            last_seen_before: hours.map(|h| now - chrono::Duration::hours(i64::from(h))),
        };
        let page = PageRequest {
            limit,
            after,
            after_text: q.after.clone(),
        };
        let detail = format!("list incidents: {}", crate::input::describe_query(&q));
        let listing = IncidentListing { filter, now };
        self.search(caller, reason.as_deref(), &listing, page, detail)
            .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_name_the_field() {
        let c = parse_cursor(
            "after",
            "2026-01-02T03:04:05+00:00~0193a3c0-0000-7000-8000-000000000001",
        )
        .unwrap();
        assert_eq!(c.last_seen_at.to_rfc3339(), "2026-01-02T03:04:05+00:00");
        let e = parse_cursor("after", "garbage").unwrap_err();
        assert_eq!(e.field, "after");
    }
}
