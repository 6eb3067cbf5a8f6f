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
use std::borrow::Cow;

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
    /// [`Register::decide`] for the commands that move the register in bulk or decide its
    /// retention (export, import, the audit trail, review decisions): every refusal is audited,
    /// as `audit`, not only refused consultations.
    pub(crate) async fn decide_audited(
        &self,
        principal: &Principal,
        attempt: Attempt<'_>,
        target: &Target<'_>,
        reason: Option<&str>,
        audit: AuditAction,
    ) -> AppResult<Grant> {
        match authorize(principal, attempt.action, attempt.resource, target, reason) {
            Ok(g) => Ok(g),
            Err(d) => {
                self.store
                    .record_audit(
                        &self.ctx(principal, reason),
                        audit,
                        attempt.resource.as_str(),
                        attempt.ids,
                        &format!("refused: {}", denial_name(d)),
                    )
                    .await?;
                Err(AppError::denied(d, attempt.resource.as_str()))
            }
        }
    }

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

    /// The case of person `pid` (404 if absent) and the policy's decision on `action` on
    /// `resource` in it; a refused consultation is audited.
    pub(crate) async fn open_case(
        &self,
        caller: &Principal,
        pid: PersonId,
        action: Action,
        resource: ResourceKind,
        reason: Option<&str>,
    ) -> AppResult<(Case, Grant)> {
        let case = self
            .load_case(pid)
            .await?
            .ok_or(AppError::NotFound("person"))?;
        let ids = [pid.to_string()];
        let attempt = Attempt {
            action,
            resource,
            ids: &ids,
        };
        let grant = self
            .decide(caller, attempt, &Target::Case(&case.ctx), reason)
            .await?;
        Ok((case, grant))
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

/// A list use case's rows, for [`Register::search`]: how to read a page of them and, for one
/// row, its cursor, the case it belongs to and its view. The decision is not the listing's: the
/// search path asks the policy for every row.
pub(crate) trait Listing {
    /// A stored row.
    type Row;
    /// Where a page starts.
    type Cursor: Clone;
    /// A row as the caller may see it.
    type View;
    /// The kind of resource listed (and the audit event's record kind).
    const RESOURCE: ResourceKind;

    /// Up to `want` rows after `after`, in list order. Not audited.
    async fn fetch(
        &self,
        register: &Register,
        after: Option<Self::Cursor>,
        want: u32,
    ) -> AppResult<Vec<Self::Row>>;
    /// The row's cursor, and the same as the text a client passes as `after`.
    fn cursor(row: &Self::Row) -> (Self::Cursor, String);
    /// The register person whose case decides who may see the row, if any.
    fn person(row: &Self::Row) -> Option<PersonId>;
    /// The need-to-know context of the row (`case`: its person's, if loaded).
    fn context<'a>(row: &'a Self::Row, case: Option<&'a Case>) -> Option<Cow<'a, CaseContext>>;
    /// The row through `grant`.
    fn render(&self, grant: &Grant, row: &Self::Row, case: Option<&Case>) -> Option<Self::View>;
    /// The id of a shown row, for the audit event.
    fn shown_id(view: &Self::View) -> String;
}

/// Which page of a list is asked for.
#[derive(Debug, Clone)]
pub(crate) struct PageRequest<C> {
    /// Most rows to return.
    pub(crate) limit: u32,
    /// Start after this row.
    pub(crate) after: Option<C>,
    /// The cursor text that asked for this page, if any.
    pub(crate) after_text: Option<String>,
}

impl Register {
    /// The one path every list takes: the search is decided on the register (a reason is
    /// required), rows are read page by page and each is shown only if the policy grants the
    /// caller a search of its own case, a page is filled from at most
    /// [`crate::input::scan_budget`] rows (rows the caller may not see must not make a request
    /// unbounded), and the consultation is audited with the ids shown before anything is
    /// returned.
    pub(crate) async fn search<L: Listing>(
        &self,
        caller: &Principal,
        reason: Option<&str>,
        listing: &L,
        page: PageRequest<L::Cursor>,
        detail: String,
    ) -> AppResult<crate::input::Page<L::View>> {
        let attempt = Attempt {
            action: Action::Search,
            resource: L::RESOURCE,
            ids: &[],
        };
        self.decide(caller, attempt, &Target::Register, reason)
            .await?;
        let PageRequest {
            limit,
            mut after,
            after_text: mut next,
        } = page;
        let mut items = Vec::new();
        let mut scanned = 0u32;
        let mut exhausted = false;
        while items.len() < limit as usize && scanned < crate::input::scan_budget(limit) {
            let want = limit - items.len() as u32;
            let rows = listing.fetch(self, after.clone(), want).await?;
            scanned += rows.len() as u32;
            exhausted = rows.len() < want as usize;
            let persons: Vec<PersonId> = rows.iter().filter_map(L::person).collect();
            let cases = self.load_cases(&persons).await?;
            for row in &rows {
                let (cursor, text) = L::cursor(row);
                after = Some(cursor);
                next = Some(text);
                let case = L::person(row).and_then(|p| cases.get(&p));
                let Some(ctx) = L::context(row, case) else {
                    continue;
                };
                let Ok(grant) = authorize(
                    caller,
                    Action::Search,
                    L::RESOURCE,
                    &Target::Case(&ctx),
                    reason,
                ) else {
                    continue;
                };
                if let Some(v) = listing.render(&grant, row, case) {
                    items.push(v);
                }
            }
            if exhausted {
                break;
            }
        }
        let shown: Vec<String> = items.iter().map(L::shown_id).collect();
        self.store
            .record_audit(
                &self.ctx(caller, reason),
                AuditAction::Search,
                L::RESOURCE.as_str(),
                &shown,
                &detail,
            )
            .await?;
        Ok(crate::input::Page {
            items,
            next: if exhausted { None } else { next },
        })
    }
}
