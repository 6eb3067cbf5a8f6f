//! Audit events: who, acting for which organisation, did what to which records, when, and why.
//! Every mutation (and, from the service layer, every read of personal data) writes one, in the
//! same transaction as the change it records. Every event is [bounded](AuditEvent::bounded)
//! before it is stored, and holds ids and non-personal summaries only: what a search asked for
//! is a [`search::SearchQuery`], kept apart from the chain where erasure can reach it.

pub mod bounds;
pub mod chain;
pub mod search;

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
    /// The longest reason an event of this action keeps, in characters: a retention review or
    /// an erasure keeps the longest a review decision accepts, every other action the longest
    /// an access accepts.
    pub fn max_reason_chars(self) -> usize {
        match self {
            Self::RetentionReview | Self::Erase => bounds::MAX_DECISION_REASON_CHARS,
            _ => bounds::MAX_REASON_CHARS,
        }
    }

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

impl AuditEvent {
    /// The event as it may be stored: every value bounded and free of control characters (see
    /// [`bounds`]). The user name, record kind, reason (to [`AuditAction::max_reason_chars`]) and
    /// detail are cut and escaped; each record id is escaped (commas included) and cut, empty ids
    /// are dropped, and ids past [`bounds::MAX_IDS`] are left out and counted in the detail. The
    /// store calls this on its one append path, before hashing, so what is hashed is what is
    /// stored.
    pub fn bounded(self) -> Self {
        let mut ids: Vec<String> = self
            .record_ids
            .iter()
            .map(|id| bounds::bounded_id(id))
            .filter(|id| !id.is_empty())
            .collect();
        let mut detail = self.detail;
        if ids.len() > bounds::MAX_IDS {
            let more = ids.len() - bounds::MAX_IDS;
            ids.truncate(bounds::MAX_IDS);
            detail = format!("{detail} (+{more} record ids not listed)");
        }
        Self {
            seq: self.seq,
            at: self.at,
            actor: Actor {
                user: bounds::bounded(&self.actor.user, bounds::MAX_USER_CHARS),
                org: self.actor.org,
            },
            action: self.action,
            record_kind: bounds::bounded(&self.record_kind, bounds::MAX_KIND_CHARS),
            record_ids: ids,
            reason: bounds::bounded(&self.reason, self.action.max_reason_chars()),
            detail: bounds::bounded(&detail, bounds::MAX_DETAIL_CHARS),
        }
    }

    /// The most characters a [bounded](Self::bounded) event can hold in its text fields: what
    /// one event adds to the log at most (besides its fixed-size time, action, organisation code
    /// and hashes).
    pub fn max_bounded_chars(record_ids: usize) -> usize {
        bounds::MAX_USER_CHARS
            + bounds::MAX_KIND_CHARS
            + record_ids.min(bounds::MAX_IDS) * (bounds::MAX_ID_CHARS + 1)
            + bounds::MAX_DECISION_REASON_CHARS
            + bounds::MAX_DETAIL_CHARS
    }
}

#[cfg(test)]
mod bound_tests {
    use super::*;
    use chrono::TimeZone;

    fn raw(action: AuditAction, reason: String, detail: String, ids: Vec<String>) -> AuditEvent {
        AuditEvent {
            seq: 1,
            at: Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).single().unwrap(),
            actor: Actor::new("pc\u{1b}[2J", OrgCode::parse("org", "force:met").unwrap()),
            action,
            record_kind: "person".into(),
            record_ids: ids,
            reason,
            detail,
        }
    }

    #[test]
    fn a_bounded_event_holds_bounded_clean_text() {
        let e = raw(
            AuditAction::Search,
            format!("why\n\u{1b}[31m\u{202e}{}", "r".repeat(250_000)),
            "d".repeat(340_000),
            vec!["a,b".into(), String::new(), "x".repeat(1_000)],
        )
        .bounded();
        assert!(e.reason.chars().count() <= bounds::MAX_REASON_CHARS);
        assert!(
            e.reason.starts_with("why\\u{a}\\u{1b}[31m\\u{202e}rrr"),
            "{}",
            e.reason
        );
        assert!(e.detail.chars().count() <= bounds::MAX_DETAIL_CHARS);
        assert_eq!(e.record_ids.len(), 2);
        assert_eq!(e.record_ids[0], "a\\u{2c}b");
        assert!(e.record_ids[1].chars().count() <= bounds::MAX_ID_CHARS);
        for s in [&e.actor.user, &e.reason, &e.detail] {
            assert!(!s.chars().any(bounds::is_unsafe), "{s}");
        }
    }

    #[test]
    fn decisions_keep_longer_reasons_and_huge_id_lists_are_counted() {
        let reason = "k".repeat(2_000);
        let e = raw(
            AuditAction::RetentionReview,
            reason.clone(),
            String::new(),
            vec![],
        )
        .bounded();
        assert_eq!(e.reason, reason);
        let e = raw(AuditAction::Read, reason, String::new(), vec![]).bounded();
        assert!(e.reason.chars().count() <= 500);
        let ids: Vec<String> = (0..6_000).map(|i| format!("id-{i}")).collect();
        let e = raw(AuditAction::Erase, "r".into(), "erased".into(), ids).bounded();
        assert_eq!(e.record_ids.len(), bounds::MAX_IDS);
        assert_eq!(e.detail, "erased (+1000 record ids not listed)");
    }

    #[test]
    fn an_ordinary_event_is_unchanged() {
        let e = raw(
            AuditAction::Read,
            "stopped at Harwich port".into(),
            "refused: not_involved".into(),
            vec!["0192f3c4-0000-7000-8000-000000000001".into()],
        );
        let mut clean = e.clone();
        clean.actor.user = "pc.test".into();
        assert_eq!(clean.clone().bounded(), clean);
    }
}
