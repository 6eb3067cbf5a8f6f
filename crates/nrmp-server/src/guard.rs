//! The glue between handlers and the need-to-know policy: load a case's records (unaudited, to
//! decide on), ask [`nrmp_domain::access::authorize`], audit refused consultations, and build
//! the store [`Ctx`] that carries the actor and the stated reason into every audit event.
//!
//! Nothing here decides anything: the policy does. This module only makes sure every handler
//! asks it the same way, with a context built from the records, never from the request.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use nrmp_domain::access::{
    Action, CaseContext, DenyReason, Grant, Principal, ResourceKind, Target, authorize,
};
use nrmp_domain::audit::AuditAction;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::ids::{FoundPersonId, IncidentId, PersonId};
use nrmp_domain::incident::Incident;
use nrmp_store::{Ctx, FoundFilter, IncidentFilter, PersonHistory};

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

/// The case of person `id`, or `None` if there is no such person. Not audited.
pub async fn load_case(state: &AppState, id: PersonId) -> ApiResult<Option<Case>> {
    let mut h = state.store.case_histories(&[id]).await?;
    Ok(h.pop().map(Case::new))
}

/// The cases of many persons, keyed by person id. Not audited.
pub async fn load_cases(
    state: &AppState,
    ids: &[PersonId],
) -> ApiResult<std::collections::HashMap<PersonId, Case>> {
    let hs = state.store.case_histories(ids).await?;
    Ok(hs
        .into_iter()
        .map(|h| (h.person.id, Case::new(h)))
        .collect())
}

/// An incident and its person's case, or `None`. Not audited.
pub async fn load_incident_case(
    state: &AppState,
    id: IncidentId,
) -> ApiResult<Option<(Incident, Case)>> {
    let filter = IncidentFilter {
        ids: vec![id],
        ..IncidentFilter::default()
    };
    let Some(incident) = state.store.query_incidents(&filter, None, 1).await?.pop() else {
        return Ok(None);
    };
    Ok(load_case(state, incident.person_id)
        .await?
        .map(|c| (incident, c)))
}

/// A found-person record and its case context (shared with the register person it was
/// identified as, if any), or `None`. Not audited.
pub async fn load_found(
    state: &AppState,
    id: FoundPersonId,
) -> ApiResult<Option<(FoundPerson, CaseContext)>> {
    let filter = FoundFilter {
        ids: vec![id],
        ..FoundFilter::default()
    };
    let Some(found) = state
        .store
        .query_found_persons(&filter, None, 1)
        .await?
        .pop()
    else {
        return Ok(None);
    };
    let identified = match found.identified_as {
        Some(pid) => load_case(state, pid).await?,
        None => None,
    };
    let ctx = CaseContext::for_found_person(&found, identified.as_ref().map(|c| &c.ctx));
    Ok(Some((found, ctx)))
}

/// The store context for `principal` acting now with `reason` (empty when none was stated).
pub fn store_ctx(state: &AppState, principal: &Principal, reason: Option<&str>) -> Ctx {
    Ctx::new(
        principal.actor(),
        reason.unwrap_or_default(),
        state.clock.now(),
    )
}

/// What is being decided, for the audit event of a refusal.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The action.
    pub action: Action,
    /// The kind of resource.
    pub resource: ResourceKind,
    /// The records concerned (ids as text), for the audit event.
    pub ids: &'a [String],
}

/// Asks the policy; on refusal, audits a refused read or search (who tried what) and returns
/// the error to answer with (hidden refusals as 404 of `kind`).
pub async fn decide(
    state: &AppState,
    principal: &Principal,
    attempt: Attempt<'_>,
    target: &Target<'_>,
    reason: Option<&str>,
) -> ApiResult<Grant> {
    match authorize(principal, attempt.action, attempt.resource, target, reason) {
        Ok(g) => Ok(g),
        Err(d) => {
            if matches!(attempt.action, Action::Read | Action::Search) {
                audit_refusal(state, principal, attempt, reason, d).await?;
            }
            Err(ApiError::denied(d, attempt.resource.as_str()))
        }
    }
}

/// Writes the audit event of a refused consultation.
pub async fn audit_refusal(
    state: &AppState,
    principal: &Principal,
    attempt: Attempt<'_>,
    reason: Option<&str>,
    denial: DenyReason,
) -> ApiResult<()> {
    let action = attempt.action.audit_action().unwrap_or(AuditAction::Read);
    let detail = format!("refused: {}", denial_name(denial));
    state
        .store
        .record_audit(
            &store_ctx(state, principal, reason),
            action,
            attempt.resource.as_str(),
            attempt.ids,
            &detail,
        )
        .await?;
    Ok(())
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
pub fn render_error(d: DenyReason) -> ApiError {
    ApiError::Internal(format!("rendering refused: {d}"))
}
