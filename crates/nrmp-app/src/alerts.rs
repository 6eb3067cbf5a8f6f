//! Alerts as use cases: raising them from the register's committed changes (the outbox, with a
//! stored cursor) and from the review timer, continuous comparison of found persons with open
//! incidents both ways, escalation by the injected clock, and each recipient's inbox and
//! acknowledgement — under the same need-to-know policy as every read.
//!
//! The rules themselves are pure, in [`nrmp_domain::alert`]. An alert is stored without
//! personal details; a recipient sees it only if the policy grants them a search of the case
//! it is about, and its body (the incident, the found person, the match evidence) only through
//! that grant. Every inbox read is audited with the records shown; acknowledgements and
//! escalations are audited by the store in their own transactions.

use crate::Register;
use crate::access::Attempt;
use crate::error::{AppError, AppResult};
use crate::incidents::IncidentView;
use nrmp_domain::access::{
    Action, Principal, RedactedFoundPerson, ResourceKind, Target, authorize,
};
use nrmp_domain::alert::{
    AlertDetail, AlertKind, AlertRules, DutyContact, EscalationLevel, MatchEvidence, MatchFinding,
    NewAlert, Recipient, encounter_alerts, escalated_recipients, escalation, found_match_alerts,
    incident_alerts, incident_match_alerts, overdue_alerts,
};
use nrmp_domain::audit::{Actor, AuditAction};
use nrmp_domain::flags::History;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::ids::PersonId;
use nrmp_domain::incident::Incident;
use nrmp_domain::organisation::OrgCode;
use nrmp_match::Candidate;
use nrmp_store::alerts::{Acknowledgement, Alert, AlertEventKind};
use nrmp_store::outbox::{ChangeCursor, next_changes};
use nrmp_store::{FoundFilter, IncidentFilter, Stored};
use std::collections::BTreeSet;

/// The name the alert consumer's outbox cursor is stored under.
pub const CONSUMER: &str = "alerts";

/// The system account that raises and escalates alerts (in audit events).
pub const SYSTEM_USER: &str = "system:alerts";

/// Most changes one pass of the consumer handles.
pub const PASS: usize = 1_000;

/// How many candidates continuous comparison considers per record.
const COMPARE_K: usize = 10;

/// Longest acknowledgement note.
const NOTE_MAX: usize = nrmp_domain::text::ENTRY;

fn evidence(c: &Candidate) -> MatchFinding {
    MatchFinding {
        probability: c.match_probability,
        evidence: c
            .contributions
            .iter()
            .map(|x| MatchEvidence {
                field: x.field.clone(),
                level: x.level.clone(),
                weight: x.weight,
            })
            .collect(),
    }
}

/// One alert as its recipient may see it.
#[derive(Debug, serde::Serialize)]
pub struct AlertView {
    /// The alert's number.
    pub id: i64,
    /// The rule.
    pub kind: AlertKind,
    /// When it was raised.
    pub raised_at: chrono::DateTime<chrono::Utc>,
    /// How far it has escalated.
    pub escalation: EscalationLevel,
    /// Grades, organisations, times and the match evidence limited to the fields the caller's
    /// grant includes.
    pub detail: AlertDetail,
    /// True if match evidence from fields the caller may not see was left out.
    pub withheld_evidence: bool,
    /// The incident, through the caller's grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentView>,
    /// The found person, through the caller's grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found_person: Option<RedactedFoundPerson>,
    /// Whom to call: the duty contacts of the organisations concerned.
    pub whom_to_call: Vec<DutyContact>,
    /// Which organisations have acknowledged it, who, when and with what note.
    pub acknowledgements: Vec<Acknowledgement>,
    /// True if the caller's organisation has acknowledged it.
    pub acknowledged_by_my_organisation: bool,
}

/// One event of a caller's alert stream.
#[derive(Debug, serde::Serialize)]
pub struct AlertEventView {
    /// The event's number (the SSE event id).
    pub seq: i64,
    /// What happened.
    pub event: AlertEventKind,
    /// The alert as the caller may see it now.
    pub alert: AlertView,
}

impl AlertEventView {
    /// The SSE event name: `raised`, `escalated` or `acknowledged`.
    pub fn event_name(&self) -> &'static str {
        self.event.as_str()
    }
}

/// What one pass of the consumer did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pass {
    /// Outbox changes read.
    pub changes: usize,
    /// Alerts newly raised.
    pub raised: usize,
}

/// The recipients `caller` stands for: their organisation, each of their roles.
fn recipients_of(caller: &Principal) -> Vec<Recipient> {
    caller
        .roles()
        .iter()
        .map(|r| Recipient {
            org: caller.org().clone(),
            role: *r,
        })
        .collect()
}

impl Register {
    fn system_ctx(&self, reason: &str) -> nrmp_store::Ctx {
        nrmp_store::Ctx::new(
            Actor::new(SYSTEM_USER, self.alert_rules.national_unit.clone()),
            reason,
            self.clock.now(),
        )
    }

    /// One pass of the alert consumer: reads the changes committed since its stored cursor
    /// (a first pass starts at the register's last change), applies the rules and stores the
    /// alerts they raise together with the new cursor, in one transaction — so a restart
    /// resumes exactly there and a change read twice raises nothing twice.
    pub async fn raise_alerts_from_changes(&self) -> AppResult<Pass> {
        let now = self.clock.now();
        let stored = self.store.outbox_cursor(CONSUMER).await?;
        let mut cursor = match &stored {
            Some(text) => serde_json::from_str(text)
                .map_err(|e| AppError::Internal(format!("alert cursor: {e}")))?,
            None => ChangeCursor::at(self.store.last_change().await?),
        };
        let before = cursor.clone();
        let changes = next_changes(
            self.store.as_ref(),
            &mut cursor,
            now,
            crate::index::GAP_TIMEOUT,
            PASS,
        )
        .await?;
        let mut alerts = Vec::new();
        let mut incidents = BTreeSet::new();
        let mut created = BTreeSet::new();
        let mut found = BTreeSet::new();
        for c in &changes {
            match c.record_kind.as_str() {
                k if k == Incident::KIND => {
                    if let Ok(id) = c.record_id.parse() {
                        incidents.insert(id);
                        if c.event == "incident.create" {
                            created.insert(id);
                        }
                    }
                }
                k if k == FoundPerson::KIND => {
                    if let Ok(id) = c.record_id.parse() {
                        found.insert(id);
                    }
                }
                _ => {}
            }
        }
        for id in incidents {
            let Some((incident, case)) = self.load_incident_case(id).await? else {
                continue;
            };
            let h = &case.history;
            let history = History {
                incidents: &h.incidents,
                referrals: &h.referrals,
                placements: &h.placements,
            };
            alerts.extend(incident_alerts(
                &incident,
                Some(&h.person.owning_org),
                history,
                now,
                &self.alert_rules,
            ));
            if created.contains(&id) && incident.is_open() {
                alerts.extend(self.compare_incident(&incident, h).await?);
            }
        }
        for id in found {
            if let Some((f, _)) = self.load_found(id).await? {
                alerts.extend(self.compare_found(&f).await?);
            }
        }
        if alerts.is_empty() && stored.is_some() && cursor == before {
            // Nothing new: no write (an idle node must not keep taking the write lock).
            return Ok(Pass::default());
        }
        let state = serde_json::to_string(&cursor)
            .map_err(|e| AppError::Internal(format!("alert cursor: {e}")))?;
        let raised = self
            .store
            .raise_alerts(
                &self.system_ctx("alert rules"),
                &alerts,
                Some((CONSUMER, &state)),
            )
            .await?;
        Ok(Pass {
            changes: changes.len(),
            raised: raised.len(),
        })
    }

    /// Continuous comparison, found → incidents: `found` (if unidentified) against the persons
    /// in the matching index; their open incidents above the threshold raise alerts.
    async fn compare_found(&self, found: &FoundPerson) -> AppResult<Vec<NewAlert>> {
        if found.identified_as.is_some() {
            return Ok(Vec::new());
        }
        let hits = self
            .index
            .lookup(&nrmp_match::domain::found_record(found), COMPARE_K);
        let hits: Vec<&Candidate> = hits
            .iter()
            .filter(|c| c.match_probability >= self.alert_rules.match_threshold)
            .collect();
        let ids: Vec<PersonId> = hits.iter().filter_map(|c| c.id.parse().ok()).collect();
        let cases = self.load_cases(&ids).await?;
        let mut pairs = Vec::new();
        for hit in hits {
            let Some(case) = hit.id.parse().ok().and_then(|id: PersonId| cases.get(&id)) else {
                continue;
            };
            for i in case.history.incidents.iter().filter(|i| i.is_open()) {
                pairs.push((i, evidence(hit)));
            }
        }
        Ok(found_match_alerts(
            found,
            &pairs,
            self.clock.now(),
            &self.alert_rules,
        ))
    }

    /// Continuous comparison, incident → found persons: the new incident's person against
    /// every unidentified found person on the register.
    async fn compare_incident(
        &self,
        incident: &Incident,
        history: &nrmp_store::PersonHistory,
    ) -> AppResult<Vec<NewAlert>> {
        let mut unidentified = Vec::new();
        let mut after = None;
        let filter = FoundFilter {
            unidentified: Some(true),
            ..FoundFilter::default()
        };
        loop {
            let page = self
                .store
                .query_found_persons(&filter, after, 1_000)
                .await?;
            let full = page.len() == 1_000;
            after = page.last().map(|f| nrmp_store::FoundCursor {
                found_at: f.found_at,
                id: f.id,
            });
            unidentified.extend(page);
            if !full {
                break;
            }
        }
        if unidentified.is_empty() {
            return Ok(Vec::new());
        }
        let records: Vec<_> = unidentified
            .iter()
            .map(nrmp_match::domain::found_record)
            .collect();
        let query = nrmp_match::domain::match_record(&history.person);
        let hits = self.index.rank_among(&records, &query, COMPARE_K);
        let pairs: Vec<(&FoundPerson, MatchFinding)> = hits
            .iter()
            .filter_map(|h| {
                unidentified
                    .iter()
                    .find(|f| f.id.to_string() == h.id)
                    .map(|f| (f, evidence(h)))
            })
            .collect();
        Ok(incident_match_alerts(
            incident,
            &pairs,
            self.clock.now(),
            &self.alert_rules,
        ))
    }

    /// The review timer: every open incident past its review time now raises its alert (once
    /// per missed review). Returns how many were newly raised.
    pub async fn raise_overdue_alerts(&self) -> AppResult<usize> {
        let now = self.clock.now();
        let filter = IncidentFilter {
            open: Some(true),
            ..IncidentFilter::default()
        };
        let mut after = None;
        let mut raised = 0;
        loop {
            let page = self.store.query_incidents(&filter, after, 1_000).await?;
            let full = page.len() == 1_000;
            after = page.last().map(|i| nrmp_store::IncidentCursor {
                last_seen_at: i.last_seen_at,
                id: i.id,
            });
            let alerts = overdue_alerts(&page, now, &self.alert_rules);
            if !alerts.is_empty() {
                raised += self
                    .store
                    .raise_alerts(&self.system_ctx("review timer"), &alerts, None)
                    .await?
                    .len();
            }
            if !full {
                break;
            }
        }
        Ok(raised)
    }

    /// Escalates every unacknowledged alert that has waited long enough by the injected clock:
    /// to each recipient organisation's duty-contact role, then to the national unit. Returns
    /// how many escalations were made.
    pub async fn escalate_alerts(&self) -> AppResult<usize> {
        let now = self.clock.now();
        let rules = &self.alert_rules;
        let mut done = 0;
        for (level, minutes) in [
            (EscalationLevel::DutyContact, rules.escalate_after_minutes),
            (EscalationLevel::National, rules.national_after_minutes),
        ] {
            let due = self
                .store
                .alerts_to_escalate(now - chrono::Duration::minutes(minutes), level, 1_000)
                .await?;
            for a in due {
                if escalation(a.raised_at, false, now, rules) < level {
                    continue;
                }
                let first: Vec<Recipient> = a
                    .recipients
                    .iter()
                    .filter(|r| r.level == EscalationLevel::None)
                    .map(|r| r.recipient.clone())
                    .collect();
                let to = escalated_recipients(&first, level, rules);
                if self
                    .store
                    .escalate_alert(&self.system_ctx("escalation"), a.id, level, &to)
                    .await?
                {
                    done += 1;
                }
            }
        }
        Ok(done)
    }

    /// Raises the encounter rule's alerts for a check by `checker` whose best candidate (by all
    /// evidence, whether or not the checker may see them) is `top`.
    pub(crate) async fn raise_encounter_alerts(
        &self,
        checker: &Principal,
        top: &Candidate,
        case: &crate::Case,
    ) -> AppResult<()> {
        let now = self.clock.now();
        let open: Vec<&Incident> = case
            .history
            .incidents
            .iter()
            .filter(|i| i.is_open())
            .collect();
        let check = now.timestamp_nanos_opt().unwrap_or_default().to_string();
        let alerts = encounter_alerts(&checker.actor(), &check, &open, &evidence(top), now);
        if !alerts.is_empty() {
            self.store
                .raise_alerts(&self.system_ctx("encounter check"), &alerts, None)
                .await?;
        }
        Ok(())
    }

    /// Renders `alert` for `caller`, or `None` if the policy does not let them know of it.
    async fn alert_view(
        &self,
        caller: &Principal,
        reason: Option<&str>,
        alert: &Alert,
    ) -> AppResult<Option<AlertView>> {
        if !alert.addressed_to(caller.org(), caller.roles()) {
            return Ok(None);
        }
        let now = self.clock.now();
        let case = match alert.person {
            Some(p) => match self.load_case(p).await? {
                Some(c) => Some(c),
                // Erased, or gone: nobody learns any more of it.
                None => return Ok(None),
            },
            None => None,
        };
        let mut detail = alert.detail.clone();
        let mut withheld = false;
        let mut incident = None;
        if let Some(case) = &case {
            let target = Target::Case(&case.ctx);
            let Ok(grant) = authorize(
                caller,
                Action::Search,
                ResourceKind::Incident,
                &target,
                reason,
            ) else {
                return Ok(None);
            };
            if let Some(iid) = alert.incident
                && let Some(i) = case.history.incidents.iter().find(|i| i.id == iid)
            {
                incident = crate::incidents::render(&grant, i, &case.history, now).ok();
            }
            if let Some(m) = detail.matched.as_mut() {
                let person_fields = authorize(
                    caller,
                    Action::Search,
                    ResourceKind::Person,
                    &target,
                    reason,
                )
                .map(|g| g.fields())
                .unwrap_or(nrmp_domain::access::FieldSet::EMPTY);
                let before = m.evidence.len();
                m.evidence.retain(|e| {
                    crate::encounters::contribution_field(&e.field)
                        .is_none_or(|f| person_fields.contains(f))
                });
                withheld = m.evidence.len() < before;
            }
        }
        let mut found_person = None;
        if let Some(fid) = alert.found {
            match self.load_found(fid).await? {
                Some((f, ctx)) => {
                    if let Ok(g) = authorize(
                        caller,
                        Action::Search,
                        ResourceKind::FoundPerson,
                        &Target::Case(&ctx),
                        reason,
                    ) {
                        found_person = g.view(&f).ok();
                    } else if case.is_none() {
                        return Ok(None);
                    }
                }
                None if case.is_none() => return Ok(None),
                None => {}
            }
        }
        let mut orgs: Vec<OrgCode> = [detail.force_missing.clone(), detail.found_by.clone()]
            .into_iter()
            .flatten()
            .collect();
        orgs.sort();
        orgs.dedup();
        let whom_to_call = self.store.duty_contacts(&orgs).await?;
        Ok(Some(AlertView {
            id: alert.id,
            kind: alert.kind,
            raised_at: alert.raised_at,
            escalation: alert.escalation,
            detail,
            withheld_evidence: withheld,
            incident,
            found_person,
            whom_to_call,
            acknowledged_by_my_organisation: alert
                .acknowledgements
                .iter()
                .any(|a| a.org == *caller.org()),
            acknowledgements: alert.acknowledgements.clone(),
        }))
    }

    /// Decides that `caller` may consult their alerts at all (a reason, as for any search).
    async fn decide_inbox(&self, caller: &Principal, reason: Option<&str>) -> AppResult<()> {
        self.decide(
            caller,
            Attempt {
                action: Action::Search,
                resource: ResourceKind::Incident,
                ids: &[],
            },
            &Target::Register,
            reason,
        )
        .await?;
        Ok(())
    }

    /// Audits the consultation of `shown` alerts.
    async fn audit_shown(
        &self,
        caller: &Principal,
        reason: Option<&str>,
        shown: &[i64],
        what: &str,
    ) -> AppResult<()> {
        let ids: Vec<String> = shown.iter().map(i64::to_string).collect();
        self.store
            .record_audit(
                &self.ctx(caller, reason),
                AuditAction::Search,
                nrmp_store::alerts::ALERT_KIND,
                &ids,
                what,
            )
            .await?;
        Ok(())
    }

    /// The caller's alerts, newest first (numbered below `before`, if given), each shown only if
    /// the policy lets them know of its case; audited with the alerts shown.
    pub async fn my_alerts(
        &self,
        caller: &Principal,
        reason: Option<String>,
        before: Option<i64>,
        limit: Option<u32>,
    ) -> AppResult<Vec<AlertView>> {
        let reason = reason.as_deref();
        self.decide_inbox(caller, reason).await?;
        let limit = limit.unwrap_or(self.limits.default_page_size);
        if limit == 0 || limit > self.limits.max_page_size {
            return Err(AppError::invalid(
                "limit",
                format!("must be from 1 to {}", self.limits.max_page_size),
            ));
        }
        let mine = recipients_of(caller);
        let mut out = Vec::new();
        let mut before = before;
        let mut scanned = 0;
        while out.len() < limit as usize && scanned < crate::input::scan_budget(limit) {
            let page = self.store.alerts_for(&mine, before, limit).await?;
            scanned += page.len() as u32;
            let last = page.len() < limit as usize;
            for a in &page {
                before = Some(a.id);
                if out.len() < limit as usize
                    && let Some(v) = self.alert_view(caller, reason, a).await?
                {
                    out.push(v);
                }
            }
            if last {
                break;
            }
        }
        let shown: Vec<i64> = out.iter().map(|v| v.id).collect();
        self.audit_shown(caller, reason, &shown, "alert inbox")
            .await?;
        Ok(out)
    }

    /// The caller's stream events after `after`, oldest first, each shown only if the policy
    /// lets them know of its case; audited with the alerts shown (when any are).
    pub async fn my_alert_events(
        &self,
        caller: &Principal,
        reason: Option<&str>,
        after: i64,
        limit: u32,
    ) -> AppResult<(Vec<AlertEventView>, i64)> {
        self.decide_inbox(caller, reason).await?;
        let events = self
            .store
            .alert_events_after(&recipients_of(caller), after, limit)
            .await?;
        let mut last = after;
        let mut out = Vec::new();
        for e in events {
            last = e.seq;
            if let Some(alert) = self.alert_view(caller, reason, &e.alert).await? {
                out.push(AlertEventView {
                    seq: e.seq,
                    event: e.event,
                    alert,
                });
            }
        }
        if !out.is_empty() {
            let shown: Vec<i64> = out.iter().map(|v| v.alert.id).collect();
            self.audit_shown(caller, reason, &shown, "alert stream")
                .await?;
        }
        Ok((out, last))
    }

    /// The caller's organisation acknowledges alert `id` with `note` (audited). An alert the
    /// caller is not a recipient of, or may not know of, is "no such alert".
    pub async fn acknowledge_alert(
        &self,
        caller: &Principal,
        reason: Option<String>,
        id: i64,
        note: String,
    ) -> AppResult<Acknowledgement> {
        let mut errs = Vec::new();
        nrmp_domain::text::check_len(&mut errs, "note", &note, NOTE_MAX, false);
        if !errs.is_empty() {
            return Err(AppError::Invalid(errs));
        }
        let alert = match self.store.alert(id).await {
            Ok(a) => a,
            Err(nrmp_store::StoreError::NotFound { .. }) => {
                return Err(AppError::NotFound("alert"));
            }
            Err(e) => return Err(e.into()),
        };
        if self
            .alert_view(caller, reason.as_deref(), &alert)
            .await?
            .is_none()
        {
            return Err(AppError::NotFound("alert"));
        }
        let ctx = self.ctx(caller, reason.as_deref());
        Ok(self.store.acknowledge_alert(&ctx, id, note.trim()).await?)
    }

    /// Sets an organisation's duty contact (administrators of that organisation, or of the
    /// national unit).
    pub async fn set_duty_contact(
        &self,
        caller: &Principal,
        contact: DutyContact,
    ) -> AppResult<()> {
        let own = caller.org() == &contact.org;
        let national = caller.org() == &self.alert_rules.national_unit;
        if !caller
            .roles()
            .contains(&nrmp_domain::access::Role::Administrator)
        {
            return Err(AppError::Forbidden(
                nrmp_domain::access::DenyReason::ActionNotPermitted,
            ));
        }
        if !(own || national) {
            return Err(AppError::Forbidden(
                nrmp_domain::access::DenyReason::OtherOrganisation,
            ));
        }
        contact.validate()?;
        self.store
            .put_duty_contact(&self.ctx(caller, None), &contact)
            .await?;
        Ok(())
    }

    /// The duty contacts of `orgs` (public contact details of desks: not audited).
    pub async fn whom_to_call(&self, orgs: &[OrgCode]) -> AppResult<Vec<DutyContact>> {
        Ok(self.store.duty_contacts(orgs).await?)
    }

    /// The alert rules in force.
    pub fn alert_rules(&self) -> &AlertRules {
        &self.alert_rules
    }
}
