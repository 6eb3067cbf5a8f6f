//! Retention: the subjects whose review is due, the review decisions (keep or erase), and
//! erasure of a person with everything linked to them. The rules themselves are
//! [`nrmp_domain::retention`]; keeping review dates current as records are written is part of
//! every write, not of this role.
//!
//! Erasure deletes records, never audit events: events hold record ids, actors and reasons,
//! not personal details, so the log stays complete and its chain stays valid.

use crate::{Ctx, Result};
use async_trait::async_trait;
use chrono::NaiveDate;
use nrmp_domain::ids::PersonId;
use nrmp_domain::retention::{ReviewDecision, SubjectKind};

/// A subject whose review is due (or coming up).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReviewDue {
    /// Person or found person.
    pub kind: SubjectKind,
    /// Its id.
    pub id: String,
    /// When its records are due for review.
    pub review_date: NaiveDate,
    /// The last decision (`keep`), if it has been reviewed before.
    pub last_decision: Option<String>,
    /// When that decision was made.
    pub decided_at: Option<String>,
    /// Who made it (user).
    pub decided_by: Option<String>,
    /// Why.
    pub reason: Option<String>,
}

/// What an erasure removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ErasureReport {
    /// Persons (1, or 0 for a found person).
    pub persons: u64,
    /// Incidents.
    pub incidents: u64,
    /// NRM referrals.
    pub referrals: u64,
    /// Placements.
    pub placements: u64,
    /// Profile versions.
    pub profiles: u64,
    /// Found-person records (identified as the person, or the found person itself).
    pub found_persons: u64,
    /// Stored search queries that concerned any of the erased records (deleted with them).
    pub search_queries: u64,
}

impl ErasureReport {
    /// A one-line summary (counts only).
    pub fn summary(&self) -> String {
        format!(
            "{} person, {} incidents, {} referrals, {} placements, {} profile versions, {} found-person records, {} stored search queries",
            self.persons,
            self.incidents,
            self.referrals,
            self.placements,
            self.profiles,
            self.found_persons,
            self.search_queries
        )
    }
}

/// Retention reviews and erasure.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Sets a subject's retention review date outright (audited).
    async fn set_review_date(
        &self,
        ctx: &Ctx,
        kind: SubjectKind,
        id: &str,
        review_date: NaiveDate,
    ) -> Result<()>;

    /// Subjects due for review on or before `as_of`, earliest first (ids and dates only).
    async fn reviews_due(&self, as_of: NaiveDate, limit: u32) -> Result<Vec<ReviewDue>>;

    /// Records a retention review decision for a subject, validated as made on the day of
    /// `ctx.at`; the stated reason is the decision's. Keep sets the next review; erase erases
    /// the subject (see [`RetentionStore::erase_person`]) and returns what was removed.
    async fn decide_review(
        &self,
        ctx: &Ctx,
        kind: SubjectKind,
        id: &str,
        decision: &ReviewDecision,
    ) -> Result<Option<ErasureReport>>;

    /// Erases a person and everything linked to them — incidents, referrals, placements,
    /// profile versions and found-person records identified as them — in one transaction,
    /// with one `erase` audit event naming the removed record ids, and deletes every stored
    /// search query that concerned any of them. The audit log itself is untouched (it holds
    /// ids and summaries, not personal details).
    async fn erase_person(
        &self,
        ctx: &Ctx,
        person: PersonId,
        reason: &str,
    ) -> Result<ErasureReport>;
}
