//! Audit events: who, acting for which organisation, did what to which records, when, and why.
//! Every mutation (and, from the service layer, every read of personal data) writes one, in the
//! same transaction as the change it records.

pub mod chain;

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
    /// A user signed in.
    SignIn,
    /// A sign-in attempt failed (wrong password or second factor, unknown or disabled user).
    SignInFailed,
    /// An account was locked after repeated failures.
    LockOut,
    /// A user signed out, or their session ended.
    SignOut,
    /// A user's roles, organisation, status or credentials were changed by an administrator.
    PermissionChange,
    /// An API token was issued.
    TokenIssued,
    /// An API token was revoked.
    TokenRevoked,
    /// A retention review was decided (keep, with reason, or erase).
    RetentionReview,
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
            Self::SignIn => "sign_in",
            Self::SignInFailed => "sign_in_failed",
            Self::LockOut => "lock_out",
            Self::SignOut => "sign_out",
            Self::PermissionChange => "permission_change",
            Self::TokenIssued => "token_issued",
            Self::TokenRevoked => "token_revoked",
            Self::RetentionReview => "retention_review",
        }
    }

    /// Every action, in declaration order.
    pub const ALL: [Self; 16] = [
        Self::Create,
        Self::Update,
        Self::Read,
        Self::Search,
        Self::Disclose,
        Self::Merge,
        Self::Erase,
        Self::Import,
        Self::SignIn,
        Self::SignInFailed,
        Self::LockOut,
        Self::SignOut,
        Self::PermissionChange,
        Self::TokenIssued,
        Self::TokenRevoked,
        Self::RetentionReview,
    ];

    /// The action with this snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        assert_eq!(AuditAction::parse("delete"), None);
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
