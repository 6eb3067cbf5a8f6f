//! The one path between the use cases and the need-to-know policy: load a case's records
//! (unaudited, to decide on), ask [`nrmp_domain::access::authorize`], and audit refused
//! consultations. Every use case that reads or changes a case decides through here.
//!
//! Nothing here decides anything: the policy does. This module only makes sure every use case
//! asks it the same way, with a context built from the records, never from the request.

use crate::Register;
use crate::error::{AppError, AppResult};
use nrmp_domain::access::{
    Action, CaseContext, DenyReason, Grant, Principal, ResourceKind, Target, authorize,
};
use nrmp_domain::audit::AuditAction;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::ids::{FoundPersonId, IncidentId, PersonId};
use nrmp_domain::incident::Incident;
use nrmp_store::{FoundFilter, IncidentFilter, PersonHistory};

/// A person's records and the case context computed from them.
#[derive(Debug, Clone)]
pub struct Case {
    /// Everything the register holds about the person.
    pub history: PersonHistory,
    /// Who has need-to-know.
    pub ctx: CaseContext,
}

impl Case {
    /// The case of `history`.
    pub fn new(history: PersonHistory) -> Self {
        let h = &history;
        let ctx = CaseContext::for_person(
            &h.person,
            &h.incidents,
            &h.placements,
            &h.referrals,
            &h.profiles,
        );
        Self { history, ctx }
    }
}

/// What is being decided, for the audit event of a refusal.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt<'a> {
    /// The action.
    pub(crate) action: Action,
    /// The kind of resource.
    pub(crate) resource: ResourceKind,
    /// The records concerned (ids as text), for the audit event.
    pub(crate) ids: &'a [String],
}

impl Register {
    /// The case of person `id`, or `None` if there is no such person. Not audited.
    pub(crate) async fn load_case(&self, id: PersonId) -> AppResult<Option<Case>> {
        let mut h = self.store.case_histories(&[id]).await?;
        Ok(h.pop().map(Case::new))
    }

    /// The cases of many persons, keyed by person id. Not audited.
    pub(crate) async fn load_cases(
        &self,
        ids: &[PersonId],
    ) -> AppResult<std::collections::HashMap<PersonId, Case>> {
        let hs = self.store.case_histories(ids).await?;
        Ok(hs
            .into_iter()
            .map(|h| (h.person.id, Case::new(h)))
            .collect())
    }

    /// An incident and its person's case, or `None`. Not audited.
    pub(crate) async fn load_incident_case(
        &self,
        id: IncidentId,
    ) -> AppResult<Option<(Incident, Case)>> {
        let filter = IncidentFilter {
            ids: vec![id],
            ..IncidentFilter::default()
        };
        let Some(incident) = self.store.query_incidents(&filter, None, 1).await?.pop() else {
            return Ok(None);
        };
        Ok(self
            .load_case(incident.person_id)
            .await?
            .map(|c| (incident, c)))
    }

    /// A found-person record and its case context (shared with the register person it was
    /// identified as, if any), or `None`. Not audited.
    pub(crate) async fn load_found(
        &self,
        id: FoundPersonId,
    ) -> AppResult<Option<(FoundPerson, CaseContext)>> {
        let filter = FoundFilter {
            ids: vec![id],
            ..FoundFilter::default()
        };
        let Some(found) = self
            .store
            .query_found_persons(&filter, None, 1)
            .await?
            .pop()
        else {
            return Ok(None);
        };
        let identified = match found.identified_as {
            Some(pid) => self.load_case(pid).await?,
            None => None,
        };
        let ctx = CaseContext::for_found_person(&found, identified.as_ref().map(|c| &c.ctx));
        Ok(Some((found, ctx)))
    }

    /// Asks the policy; on refusal, audits a refused read or search (who tried what) and returns
    /// the error to answer with (hidden refusals as 404 of `kind`).
    pub(crate) async fn decide(
        &self,
        principal: &Principal,
        attempt: Attempt<'_>,
        target: &Target<'_>,
        reason: Option<&str>,
    ) -> AppResult<Grant> {
        match authorize(principal, attempt.action, attempt.resource, target, reason) {
            Ok(g) => Ok(g),
            Err(d) => {
                if matches!(attempt.action, Action::Read | Action::Search) {
                    self.audit_refusal(principal, attempt, reason, d).await?;
                }
                Err(AppError::denied(d, attempt.resource.as_str()))
            }
        }
    }

    /// Writes the audit event of a refused consultation.
    pub(crate) async fn audit_refusal(
        &self,
        principal: &Principal,
        attempt: Attempt<'_>,
        reason: Option<&str>,
        denial: DenyReason,
    ) -> AppResult<()> {
        let action = attempt.action.audit_action().unwrap_or(AuditAction::Read);
        let detail = format!("refused: {}", denial_name(denial));
        self.store
            .record_audit(
                &self.ctx(principal, reason),
                action,
                attempt.resource.as_str(),
                attempt.ids,
                &detail,
            )
            .await?;
        Ok(())
    }
}

fn denial_name(d: DenyReason) -> String {
    match serde_json::to_value(d) {
        Ok(serde_json::Value::Object(m)) => m
            .get("reason")
            .and_then(|v| v.as_str())
            .unwrap_or("denied")
            .to_owned(),
        _ => "denied".to_owned(),
    }
}

/// Turns a policy refusal met while rendering into an error (a grant used on the wrong
/// record is a bug in the handler, reported as 500 rather than leaking anything).
pub(crate) fn render_error(d: DenyReason) -> AppError {
    AppError::Internal(format!("rendering refused: {d}"))
}
