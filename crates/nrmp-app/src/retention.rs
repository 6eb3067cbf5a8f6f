//! Accountability and retention as use cases: a person's audit trail for the regulator
//! ([`Register::audit_trail`]), the retention reviews due ([`Register::reviews_due`]) and the
//! review decisions — keep until a next review ([`Register::keep_records`]) or erase
//! ([`Register::erase_person`]). See docs/audit.md.
//!
//! Each is decided by the need-to-know policy, and a refusal is audited:
//! - the trail is `export` on the register as a whole (the national unit's analysts, with a
//!   reason) — decided on the register, not the case, because a trail outlives the erasure of
//!   its subject — and the disclosure is audited before the trail is returned;
//! - the list of reviews due is `administer` of retention reviews on the register (the national
//!   unit's administrators);
//! - keeping is `administer` of retention reviews of the organisation that owns the subject
//!   (its administrators, or the national unit's);
//! - erasing is `erase` on the person's case (the administrators of the organisation that owns
//!   it), with the review as the reason.

use crate::Register;
use crate::access::Attempt;
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use nrmp_domain::access::{Action, CaseContext, Principal, ResourceKind, Target};
use nrmp_domain::audit::{AuditAction, AuditEvent};
use nrmp_domain::ids::{FoundPersonId, PersonId};
use nrmp_domain::retention::{RetentionPolicy, ReviewDecision, SubjectKind};
use nrmp_store::{ErasureReport, ReviewDue};
use std::collections::BTreeMap;

/// A person's audit trail: every event about their records, oldest first, and the stored query
/// of each search among them that erasure has not yet removed (by seq).
#[derive(Debug, Clone)]
pub struct AuditTrail {
    /// The events.
    pub events: Vec<AuditEvent>,
    /// The stored search queries, by event seq.
    pub queries: BTreeMap<i64, String>,
}

impl Register {
    /// Who has seen or changed person `person`'s records, for `caller` stating `reason`; the
    /// disclosure (`to`: where the trail goes, e.g. a file name) is audited before the trail is
    /// returned — no audit, no disclosure.
    pub async fn audit_trail(
        &self,
        caller: &Principal,
        reason: Option<&str>,
        person: PersonId,
        to: &str,
    ) -> AppResult<AuditTrail> {
        let ids = [person.to_string()];
        let attempt = Attempt {
            action: Action::Export,
            resource: ResourceKind::Person,
            ids: &ids,
        };
        self.decide_audited(
            caller,
            attempt,
            &Target::Register,
            reason,
            AuditAction::Disclose,
        )
        .await?;
        let events = self.store.audit_events_for("person", &ids[0]).await?;
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        let queries = self.store.search_queries(&seqs).await?;
        self.store
            .record_audit(
                &self.ctx(caller, reason),
                AuditAction::Disclose,
                "person",
                &ids,
                &format!("audit trail of {} events exported to {to}", events.len()),
            )
            .await?;
        Ok(AuditTrail { events, queries })
    }

    /// The subjects due for review on or before `as_of` (ids and dates only), at most `limit`.
    pub async fn reviews_due(
        &self,
        caller: &Principal,
        as_of: NaiveDate,
        limit: u32,
    ) -> AppResult<Vec<ReviewDue>> {
        let attempt = Attempt {
            action: Action::Administer,
            resource: ResourceKind::RetentionReview,
            ids: &[],
        };
        self.decide_audited(
            caller,
            attempt,
            &Target::Register,
            None,
            AuditAction::RetentionReview,
        )
        .await?;
        Ok(self.store.reviews_due(as_of, limit).await?)
    }

    /// Records the decision to keep subject `id` of `kind` until `next_review`, for `reason`.
    pub async fn keep_records(
        &self,
        caller: &Principal,
        reason: Option<&str>,
        kind: SubjectKind,
        id: &str,
        next_review: NaiveDate,
    ) -> AppResult<()> {
        let reason = reason.unwrap_or_default();
        let today = self.clock.now().date_naive();
        let decision =
            ReviewDecision::keep(reason, next_review, today, &RetentionPolicy::default())?;
        let ctx = self.subject_context(kind, id).await?;
        let ids = [id.to_owned()];
        let owner = ctx
            .owners()
            .find(|o| *o == caller.org())
            .or_else(|| ctx.owners().next())
            .cloned()
            .ok_or(AppError::NotFound(kind.as_str()))?;
        let attempt = Attempt {
            action: Action::Administer,
            resource: ResourceKind::RetentionReview,
            ids: &ids,
        };
        self.decide_audited(
            caller,
            attempt,
            &Target::Organisation(&owner),
            Some(reason),
            AuditAction::RetentionReview,
        )
        .await?;
        self.store
            .decide_review(&self.ctx(caller, Some(reason)), kind, id, &decision)
            .await?;
        Ok(())
    }

    /// Erases person `person` and everything linked to them, for `reason` (the review's
    /// conclusion); returns what was removed.
    pub async fn erase_person(
        &self,
        caller: &Principal,
        reason: Option<&str>,
        person: PersonId,
    ) -> AppResult<ErasureReport> {
        let reason = reason.unwrap_or_default();
        let decision = ReviewDecision::erase(reason)?;
        let ids = [person.to_string()];
        let ctx = self.subject_context(SubjectKind::Person, &ids[0]).await?;
        let attempt = Attempt {
            action: Action::Erase,
            resource: ResourceKind::Person,
            ids: &ids,
        };
        self.decide_audited(
            caller,
            attempt,
            &Target::Case(&ctx),
            Some(reason),
            AuditAction::Erase,
        )
        .await?;
        self.store
            .decide_review(
                &self.ctx(caller, Some(reason)),
                SubjectKind::Person,
                &ids[0],
                &decision,
            )
            .await?
            .ok_or_else(|| AppError::Internal(format!("erasing person {person}: nothing erased")))
    }

    /// The need-to-know context of a retention subject (404 if there is none).
    async fn subject_context(&self, kind: SubjectKind, id: &str) -> AppResult<CaseContext> {
        match kind {
            SubjectKind::Person => {
                let pid = PersonId::parse("id", id)?;
                Ok(self
                    .load_case(pid)
                    .await?
                    .ok_or(AppError::NotFound("person"))?
                    .ctx)
            }
            SubjectKind::FoundPerson => {
                let fid = FoundPersonId::parse("id", id)?;
                Ok(self
                    .load_found(fid)
                    .await?
                    .ok_or(AppError::NotFound("found_person"))?
                    .1)
            }
        }
    }
}
