//! The store's role traits: one per kind of work the register asks of its storage. A caller
//! that needs one role takes that role (`&dyn QueryStore`, or a generic bound); code that
//! needs the whole register holds an `Arc<dyn Store>`, the supertrait of every role, which any
//! type implementing all the roles is automatically.
//!
//! Dependencies go one way: these modules name domain types and the store's shared types
//! (`crate::Ctx`, `crate::error`, `crate::query`, `crate::records`), never the SQL
//! implementation, and no role module uses another except through those shared types.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod import;
pub mod outbox;
pub mod queries;
pub mod records;
pub mod retention;

use accounts::AccountStore;
use admin::AdminStore;
use audit::AuditStore;
use import::ImportStore;
use outbox::OutboxStore;
use queries::QueryStore;
use records::RecordStore;
use retention::RetentionStore;

/// The whole register's storage: every role. Implementations are transactional: every
/// mutation and its audit event commit together or not at all. Implemented for every type that
/// implements all the roles, so `Arc<dyn Store>` is the register and each role's methods are
/// callable on it (bring them into scope with `use nrmp_store::prelude::*`).
pub trait Store:
    RecordStore
    + QueryStore
    + OutboxStore
    + AuditStore
    + AccountStore
    + RetentionStore
    + ImportStore
    + AdminStore
{
}

impl<T> Store for T where
    T: RecordStore
        + QueryStore
        + OutboxStore
        + AuditStore
        + AccountStore
        + RetentionStore
        + ImportStore
        + AdminStore
        + ?Sized
{
}
