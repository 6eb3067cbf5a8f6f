//! User accounts and sign-in: the pure rules (no IO, no HTTP, no SQL).
//!
//! - [`password`]: the password policy (8–128 characters, not a common password, no
//!   composition rules) and Argon2id hashing with OWASP's parameters;
//! - [`totp`]: the second factor (RFC 6238), demanded of every role that can read personal
//!   data, with replayed codes refused;
//! - [`token`]: session tokens and API tokens, random and stored only as SHA-256 hashes; API
//!   tokens are scoped to a subset of their owner's roles, may expire and can be revoked;
//! - here: user names, the [`Account`] as stored, the throttle rule (from the 5th consecutive
//!   failure on, sign-in waits 30 s, doubling to at most 15 minutes; sessions and tokens are
//!   untouched), the session rule (30 minutes idle, 12 hours at most) and
//!   [`decide_sign_in`], which turns an attempt into its outcome and the account's new state.
//!
//! Time comes from the caller (an injected clock); randomness from an injected [`SecureRng`].
//! The service that stores accounts and audits every outcome is `nrmp_server::accounts`.

pub mod password;
pub mod token;
pub mod totp;

pub use password::{HashParams, Password, PasswordHash};
pub use token::{ApiToken, BearerSecret, SecretKind, TokenHash, TokenId, TokenRefusal};
pub use totp::{TotpError, TotpSecret};

use crate::access::{Principal, Role};
use crate::error::{FieldError, ValidationErrors};
use crate::ids::PersonId;
use crate::organisation::{OrgCode, OrgKind};
use chrono::{DateTime, Duration, Utc};
use std::fmt;
use uuid::Uuid;

/// A cryptographically secure source of randomness (salts, TOTP secrets, tokens). Injected so
/// tests can be reproducible; production uses one seeded from the operating system.
pub trait SecureRng: rand::RngCore + rand::CryptoRng + Send {}
impl<T: rand::RngCore + rand::CryptoRng + Send> SecureRng for T {}

/// Identifies a user account.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct UserId(pub Uuid);

impl UserId {
    /// The kind of record, as used in audit events.
    pub const KIND: &'static str = "user";

    /// Parses a user id given in `field`.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        Uuid::parse_str(s.trim())
            .map(Self)
            .map_err(|_| FieldError::new(field, format!("`{s}` is not a user id (a UUID)")))
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A user name: 3–64 characters of lower-case ASCII letters, digits, `.`, `-` and `_`,
/// starting with a letter or digit. Input is trimmed and lower-cased, so `Sam.Taylor` and
/// `sam.taylor` are the same user.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    /// Parses a user name given in `field`.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        let s = s.trim().to_ascii_lowercase();
        let n = s.chars().count();
        if n < 3 {
            return Err(FieldError::new(field, "is shorter than 3 characters"));
        }
        if n > 64 {
            return Err(FieldError::new(field, "is longer than 64 characters"));
        }
        let ok = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
        if !ok || !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(FieldError::new(
                field,
                format!(
                    "`{s}` is not a user name (letters, digits, `.`, `-`, `_`, starting with a letter or digit)"
                ),
            ));
        }
        Ok(Self(s))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse("username", &s)
    }
}

impl From<Username> for String {
    fn from(u: Username) -> Self {
        u.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The sign-in policy's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountPolicy {
    /// Consecutive failed sign-ins of an account before each further failure makes the next
    /// attempt wait ([`throttle_wait`]).
    pub max_failures: u32,
    /// The first wait; it doubles with each further consecutive failure.
    pub throttle_base: Duration,
    /// The longest wait.
    pub throttle_max: Duration,
    /// A session ends after this long without use.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however busy.
    pub absolute_timeout: Duration,
    /// Argon2id cost.
    pub hash: HashParams,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            throttle_base: Duration::seconds(30),
            throttle_max: Duration::minutes(15),
            idle_timeout: Duration::minutes(30),
            absolute_timeout: Duration::hours(12),
            hash: HashParams::OWASP,
        }
    }
}

/// How long sign-in must wait after `failures` consecutive failures: nothing before `after`
/// of them, then `base`, doubling with each further failure, at most `max`. The same growing
/// delay throttles an account (its failures are stored) and a client address (counted in
/// memory by the accounts service).
pub fn throttle_wait(failures: u32, after: u32, base: Duration, max: Duration) -> Option<Duration> {
    if failures < after.max(1) {
        return None;
    }
    let doublings = (failures - after.max(1)).min(30);
    let wait = base.checked_mul(1_i32 << doublings).unwrap_or(max).min(max);
    Some(wait)
}

/// A user account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Id.
    pub id: UserId,
    /// Unique user name.
    pub username: Username,
    /// The one organisation the user belongs to.
    pub org: OrgCode,
    /// That organisation's kind (read from the organisation, never stored separately).
    pub org_kind: OrgKind,
    /// Roles held (each fits the organisation's kind).
    pub roles: Vec<Role>,
    /// An advocate's clients.
    pub clients: Vec<PersonId>,
    /// Disabled accounts cannot sign in or use tokens.
    pub disabled: bool,
    /// Argon2id hash of the password.
    pub password: PasswordHash,
    /// TOTP secret, once enrolled.
    pub totp: Option<TotpSecret>,
    /// The TOTP step of the last code accepted (codes from it or earlier are refused).
    pub totp_last_step: Option<i64>,
    /// Consecutive failed sign-ins since the last success (or an administrator's unlock).
    pub failed_attempts: u32,
    /// Sign-in is throttled until then: attempts before it are refused unchecked. Sessions
    /// and API tokens are not affected.
    pub locked_until: Option<DateTime<Utc>>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl Account {
    /// The principal this account acts as, with `roles` (its own, or a token's scopes).
    pub fn principal_with(&self, roles: Vec<Role>) -> Result<Principal, ValidationErrors> {
        let clients = if roles.contains(&Role::Advocate) {
            self.clients.clone()
        } else {
            Vec::new()
        };
        Principal::new(
            self.username.as_str(),
            self.org.clone(),
            self.org_kind,
            roles,
            clients,
        )
    }

    /// The principal this account acts as.
    pub fn principal(&self) -> Result<Principal, ValidationErrors> {
        self.principal_with(self.roles.clone())
    }

    /// True if sign-in needs a second factor: some role can read personal data.
    pub fn needs_totp(&self) -> bool {
        roles_need_totp(&self.roles)
    }

    /// True if sign-in is throttled at `now` (attempts are refused until [`Self::locked_until`]).
    pub fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|u| now < u)
    }

    /// Counts a failed attempt to prove who one is (a sign-in, or the current password when
    /// changing it). From the `max_failures`-th consecutive one on, each makes sign-in wait
    /// (30 s, 1 min, 2 min, … at most 15 min by default). Returns the wait if this failure
    /// started one. Nothing else changes: the account's sessions and API tokens go on working.
    pub fn record_failure(
        &mut self,
        now: DateTime<Utc>,
        policy: &AccountPolicy,
    ) -> Option<Duration> {
        self.failed_attempts = self.failed_attempts.saturating_add(1);
        let wait = throttle_wait(
            self.failed_attempts,
            policy.max_failures,
            policy.throttle_base,
            policy.throttle_max,
        );
        self.locked_until = wait.map(|w| now + w);
        self.updated_at = now;
        wait
    }

    /// Clears a throttle and the failure count (an administrator's reset).
    pub fn unlock(&mut self) {
        self.failed_attempts = 0;
        self.locked_until = None;
    }
}

/// True if holding `roles` requires a second factor at sign-in.
pub fn roles_need_totp(roles: &[Role]) -> bool {
    roles.iter().any(|r| r.reads_personal_data())
}

/// Checks a set of roles and clients for an account of an organisation (the same checks as a
/// [`Principal`]), naming the field of each problem.
pub fn check_roles(
    org: &OrgCode,
    org_kind: OrgKind,
    roles: &[Role],
    clients: &[PersonId],
) -> Result<(), ValidationErrors> {
    Principal::new(
        "check",
        org.clone(),
        org_kind,
        roles.to_vec(),
        clients.to_vec(),
    )
    .map(|_| ())
}

/// Why a sign-in failed. Callers are told only that it failed; the reason goes into the
/// audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignInFailure {
    /// No account has that user name.
    UnknownUser,
    /// The account is disabled.
    Disabled,
    /// Sign-in is throttled after repeated failures (the attempt was not checked).
    Throttled,
    /// Wrong password.
    WrongPassword,
    /// A second factor is required and none was given.
    TotpMissing,
    /// The second factor was wrong.
    TotpWrong,
    /// The second-factor code had already been used.
    TotpReplayed,
    /// A second factor is required but the account has not enrolled one.
    TotpNotEnrolled,
}

impl SignInFailure {
    /// The reason as written into the audit event.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownUser => "unknown user",
            Self::Disabled => "account disabled",
            Self::Throttled => "sign-in throttled",
            Self::WrongPassword => "wrong password",
            Self::TotpMissing => "second factor missing",
            Self::TotpWrong => "wrong second factor",
            Self::TotpReplayed => "second factor code replayed",
            Self::TotpNotEnrolled => "second factor not enrolled",
        }
    }
}

/// The outcome of a sign-in attempt on an existing account, with the account's new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInOutcome {
    /// Signed in: the failure count is cleared and the TOTP step remembered.
    Success {
        /// The account to store.
        account: Account,
    },
    /// Refused.
    Failure {
        /// The account to store (failure counted, perhaps throttled).
        account: Account,
        /// Why.
        reason: SignInFailure,
        /// The wait this failure started, if it started one.
        throttled_for: Option<Duration>,
    },
}

/// Decides a sign-in attempt on `account` at `now`. `password_ok` is the result of verifying
/// the password against the account's hash (done by the caller, outside any transaction,
/// because Argon2id is deliberately slow).
///
/// Disabled accounts, and attempts while sign-in is throttled, are refused without counting;
/// every other failure — wrong password, missing, wrong or replayed second factor — is
/// counted, and from the `max_failures`-th consecutive one on each makes the next attempt
/// wait ([`Account::record_failure`]). Success clears the count.
pub fn decide_sign_in(
    account: &Account,
    password_ok: bool,
    totp_code: Option<&str>,
    now: DateTime<Utc>,
    policy: &AccountPolicy,
) -> SignInOutcome {
    let mut next = account.clone();
    if next.disabled {
        return SignInOutcome::Failure {
            account: next,
            reason: SignInFailure::Disabled,
            throttled_for: None,
        };
    }
    if next.is_locked(now) {
        return SignInOutcome::Failure {
            account: next,
            reason: SignInFailure::Throttled,
            throttled_for: None,
        };
    }
    let totp_code = totp_code.map(str::trim).filter(|c| !c.is_empty());
    let failure = if !password_ok {
        Some(SignInFailure::WrongPassword)
    } else if next.needs_totp() {
        match (&next.totp, totp_code) {
            (None, _) => Some(SignInFailure::TotpNotEnrolled),
            (Some(_), None) => Some(SignInFailure::TotpMissing),
            (Some(secret), Some(code)) => match secret.verify(code, now, next.totp_last_step) {
                Ok(step) => {
                    next.totp_last_step = Some(step);
                    None
                }
                Err(TotpError::Wrong) => Some(SignInFailure::TotpWrong),
                Err(TotpError::Replayed) => Some(SignInFailure::TotpReplayed),
            },
        }
    } else {
        None
    };
    match failure {
        None => {
            next.failed_attempts = 0;
            next.locked_until = None;
            next.updated_at = now;
            SignInOutcome::Success { account: next }
        }
        Some(reason) => {
            let throttled_for = next.record_failure(now, policy);
            SignInOutcome::Failure {
                account: next,
                reason,
                throttled_for,
            }
        }
    }
}

/// A signed-in session as stored (the token itself is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Hash of the session token.
    pub hash: TokenHash,
    /// Whose session.
    pub user: UserId,
    /// Signed in at.
    pub created_at: DateTime<Utc>,
    /// Last used at.
    pub last_seen_at: DateTime<Utc>,
    /// Ended at (sign-out, timeout, or the account changed), if ended.
    pub ended_at: Option<DateTime<Utc>>,
}

/// Why a session is no longer usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionEnd {
    /// Signed out or ended by an administrator's change.
    #[error("session ended")]
    Ended,
    /// Unused for the idle timeout.
    #[error("session idle too long")]
    Idle,
    /// Older than the absolute timeout.
    #[error("session too old")]
    TooOld,
}

impl Session {
    /// Whether the session may be used at `now` (and so have its idle timer renewed).
    pub fn check(&self, now: DateTime<Utc>, policy: &AccountPolicy) -> Result<(), SessionEnd> {
        if self.ended_at.is_some() {
            return Err(SessionEnd::Ended);
        }
        if now - self.last_seen_at >= policy.idle_timeout {
            return Err(SessionEnd::Idle);
        }
        if now - self.created_at >= policy.absolute_timeout {
            return Err(SessionEnd::TooOld);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
