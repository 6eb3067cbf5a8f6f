//! The transactional outbox: every committed change, in the order of its number, for
//! consumers that follow the register (the matching index on every node).

use crate::Result;
use async_trait::async_trait;

/// One committed change from the transactional outbox: written in the same transaction as the
/// change itself, so a consumer that follows the outbox sees every committed change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Position in the outbox (increasing; on PostgreSQL a later-committed change may have a
    /// smaller number than one already seen, so consumers re-read a window behind the last).
    pub seq: i64,
    /// What happened, e.g. `person.create`, `person.update`, `person.erase`.
    pub event: String,
    /// Record kind, e.g. `person`.
    pub record_kind: String,
    /// Record key.
    pub record_id: String,
}

/// Reading the outbox.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Committed changes with `seq > after`, oldest first, at most `limit`.
    async fn changes_after(&self, after: i64, limit: u32) -> Result<Vec<Change>>;
    /// The largest change number so far (0 if none).
    async fn last_change(&self) -> Result<i64>;
}
