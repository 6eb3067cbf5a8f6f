//! # nrmp-store
//!
//! Storage for the register: the [`Store`] supertrait of the role traits in [`roles`] (records,
//! queries, outbox, audit, accounts, retention, import, admin), which the application layer
//! programs against, and its implementation on SQL databases — SQLite (embedded, the default; WAL journal,
//! `synchronous=FULL`, foreign keys on) and PostgreSQL (for real deployments and several server
//! nodes). The backend is chosen from the URL scheme by [`open`].
//!
//! Every mutation runs in one transaction that also writes its audit event (who, for which
//! organisation, what, which records, when, why) and an outbox event for alerting; domain
//! invariants that span records (incidents of one person never overlap, profile versions follow
//! on) are checked inside that transaction.
//!
//! ```no_run
//! use nrmp_store::prelude::*;
//! # async fn demo() -> nrmp_store::Result<()> {
//! let store = nrmp_store::open("sqlite://nrmp.db").await?;
//! store.migrate().await?;
//! println!("{:?}", store.counts().await?);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod error;
mod migrations;
pub mod query;
pub mod records;
pub mod roles;
mod sql;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use error::{DatabaseError, Result, StoreError};
pub use query::{FoundCursor, FoundFilter, IncidentCursor, IncidentFilter, PersonFilter};
pub use records::{RecordKind, Stored};
pub use roles::Store;
pub use roles::accounts::{AccountChange, AccountChangeFn, AccountStore};
pub use roles::admin::{AdminStore, Counts};
pub use roles::audit::{AuditStore, ChainReport};
pub use roles::import::{ImportSession, ImportStore};
pub use roles::outbox::{Change, OutboxStore};
pub use roles::queries::{QueryStore, ScanKey, scan_all};
pub use roles::records::{PersonHistory, RecordStore};
pub use roles::retention::{ErasureReport, RetentionStore, ReviewDue};
pub use sql::SqlStore;

/// Backup and restore of a whole register (`nrmp backup`, `nrmp restore`): see
/// [`backup::backup`] and [`backup::restore`].
pub mod backup {
    pub use crate::sql::backup::{
        Manifest, TableDigest, backup, describe_url, manifest_path, restore,
    };
}

/// Everything a caller of the store needs in scope to call it: the supertrait, every role
/// trait (whose methods `Arc<dyn Store>` offers), the import session and the acting context.
/// `use nrmp_store::prelude::*;`
pub mod prelude {
    pub use crate::Ctx;
    pub use crate::roles::Store;
    pub use crate::roles::accounts::AccountStore;
    pub use crate::roles::admin::AdminStore;
    pub use crate::roles::audit::AuditStore;
    pub use crate::roles::import::{ImportSession, ImportStore};
    pub use crate::roles::outbox::OutboxStore;
    pub use crate::roles::queries::QueryStore;
    pub use crate::roles::records::RecordStore;
    pub use crate::roles::retention::RetentionStore;
}

use chrono::{DateTime, Utc};
use nrmp_domain::audit::Actor;
use std::sync::Arc;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// Chooses the backend from a URL's scheme.
    pub fn from_url(url: &str) -> Result<Self> {
        let scheme = url.split_once("://").map(|(s, _)| s);
        match scheme {
            Some("sqlite") => Ok(Self::Sqlite),
            Some("postgres" | "postgresql") => Ok(Self::Postgres),
            _ => Err(StoreError::UnknownScheme(redact_url(url))),
        }
    }

    /// `sqlite` or `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A database URL with any password replaced by `***`, safe to print or log.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _password)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

/// Opens the store a URL names (`sqlite://PATH` or `postgres://…`), creating a SQLite file if
/// needed. Does not apply migrations: call [`AdminStore::migrate`].
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(SqlStore::connect(url).await?))
}

/// Who is acting, why, and when: every store call that touches personal data takes one, and
/// the audit event it writes is made from it.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The user and the organisation they act for.
    pub actor: Actor,
    /// The stated reason.
    pub reason: String,
    /// The time of the action (from the injected clock).
    pub at: DateTime<Utc>,
}

impl Ctx {
    /// A context.
    pub fn new(actor: Actor, reason: impl Into<String>, at: DateTime<Utc>) -> Self {
        Self {
            actor,
            reason: reason.into(),
            at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_scheme() {
        assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("postgresql://h/db").unwrap(),
            Backend::Postgres
        );
        let e = Backend::from_url("mysql://root:hunter2@h/db")
            .unwrap_err()
            .to_string();
        assert!(e.contains("mysql://root:***@h/db"), "{e}");
        assert!(!e.contains("hunter2"));
        assert!(Backend::from_url("nrmp.db").is_err());
    }
}
