//! Audit events: who, acting for which organisation, did what to which records, when, and why.
//! Every mutation (and, from the service layer, every read of personal data) writes one, in the
//! same transaction as the change it records.

use crate::organisation::OrgCode;
use chrono::{DateTime, Utc};

/// Who is acting: a user (or system account) on behalf of an organisation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Actor {
    /// User name or system account name.
    pub user: String,
    /// The organisation they act for.
    pub org: OrgCode,
}

impl Actor {
    /// An actor.
    pub fn new(user: impl Into<String>, org: OrgCode) -> Self {
        Self {
            user: user.into(),
            org,
        }
    }
}

/// What was done (Data Protection Act 2018 s.62 logging categories, plus access events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A record was created (collection).
    Create,
    /// A record was changed (alteration).
    Update,
    /// A record was read or searched (consultation).
    Read,
    /// Records were searched (consultation).
    Search,
    /// Data left the register (disclosure), e.g. an export.
    Disclose,
    /// Records were combined (merge).
    Merge,
    /// A record was erased.
    Erase,
    /// Records were loaded in bulk (import).
    Import,
}

impl AuditAction {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Read => "read",
            Self::Search => "search",
            Self::Disclose => "disclose",
            Self::Merge => "merge",
            Self::Erase => "erase",
            Self::Import => "import",
        }
    }
}

/// One audit event as it is stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AuditEvent {
    /// Position in the log (assigned by the store).
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who, for which organisation.
    pub actor: Actor,
    /// What.
    pub action: AuditAction,
    /// Kind of record (`person`, `incident`...).
    pub record_kind: String,
    /// Ids of the records concerned.
    pub record_ids: Vec<String>,
    /// The stated reason.
    pub reason: String,
    /// Extra detail (e.g. which fields changed, to whom something was disclosed).
    pub detail: String,
}
