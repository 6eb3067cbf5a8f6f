//! Running the store itself, not the register's data: which backend it is, its schema
//! migrations, and the sizes an operator watches (record counts, bytes on disk).

use crate::{Backend, Result};
use async_trait::async_trait;

/// How many records of each kind are stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Organisations.
    pub organisations: u64,
    /// Persons.
    pub persons: u64,
    /// Incidents.
    pub incidents: u64,
    /// Incidents still open.
    pub open_incidents: u64,
    /// NRM referrals.
    pub referrals: u64,
    /// Placements.
    pub placements: u64,
    /// Profile versions.
    pub profiles: u64,
    /// Found persons.
    pub found_persons: u64,
    /// Audit events.
    pub audit_events: u64,
}

/// Operating the store: backend, migrations, counts and size.
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// Applies pending migrations; returns how many were applied.
    async fn migrate(&self) -> Result<usize>;

    /// How many of this build's migrations the database has not applied (readiness check).
    async fn migrations_pending(&self) -> Result<usize>;

    /// Record counts.
    async fn counts(&self) -> Result<Counts>;

    /// Size of the database on disk, in bytes (SQLite: the main file's pages, after a WAL
    /// checkpoint; PostgreSQL: `pg_database_size`).
    async fn size_bytes(&self) -> Result<u64>;
}
