//! The audit log as the register's callers use it: writing the events of actions that change
//! nothing (a consultation, a search), reading events back, finding every event about a
//! record, and verifying the hash chain. Mutations write their own events (see the other
//! roles); this role never changes or deletes an event.

use crate::{Ctx, Result};
use async_trait::async_trait;
use nrmp_domain::audit::chain::{ChainBreak, ChainHead};
use nrmp_domain::audit::search::SearchQuery;
use nrmp_domain::audit::{AuditAction, AuditEvent};
use std::collections::BTreeMap;

/// What verifying the audit chain found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChainReport {
    /// Events that verified (all of them when there is no break; those before it otherwise).
    pub events: u64,
    /// The head the log was verified against (last seq and hash when verification began).
    pub head: ChainHead,
    /// The first break, if any.
    pub first_break: Option<ChainBreak>,
}

/// Writing, reading and verifying audit events.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Writes an audit event for an action that changes nothing (a search, a disclosure).
    async fn record_audit(
        &self,
        ctx: &Ctx,
        action: AuditAction,
        record_kind: &str,
        record_ids: &[String],
        detail: &str,
    ) -> Result<()>;

    /// Writes the audit event of a search (an encounter check): `shown` are the ids of the
    /// records the caller was shown (the event's record ids), and the event's detail is the
    /// query's non-personal [summary](SearchQuery::summary). The query itself is kept apart from
    /// the chain, linked to every record in `shown` and `concerns` (say, persons the search
    /// matched but the caller may not see), and erasing any of them deletes it. A query that
    /// concerned no record is not kept.
    async fn record_search(
        &self,
        ctx: &Ctx,
        record_kind: &str,
        shown: &[String],
        concerns: &[String],
        query: &SearchQuery,
    ) -> Result<()>;

    /// The stored search queries of these audit events — those still kept (an erasure deletes
    /// the queries that concerned the erased records) — by seq. Not audited by itself: callers
    /// that disclose them (the regulator's export) audit that.
    async fn search_queries(&self, seqs: &[i64]) -> Result<BTreeMap<i64, String>>;

    /// Audit events after `after_seq`, oldest first.
    async fn audit_events(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditEvent>>;

    /// Verifies the audit log's hash chain (see [`nrmp_domain::audit::chain`]), reading it in
    /// pages and calling `progress` with the number of events read so far. Reports how many
    /// events verified and the first break, if any (a break is a finding, not an `Err`).
    async fn verify_audit_chain(
        &self,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<ChainReport>;

    /// Every audit event about a record, oldest first: reads, searches whose results included
    /// it, changes, disclosures, reviews and erasure. For a `person` this includes events about
    /// their incidents, referrals, placements, profiles and found-person records (those still
    /// stored, and those listed by an erasure). Not audited by itself: callers that disclose
    /// the result (the regulator's export) audit that.
    async fn audit_events_for(&self, record_kind: &str, record_id: &str)
    -> Result<Vec<AuditEvent>>;
}
