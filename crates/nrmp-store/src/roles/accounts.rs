//! User accounts, sessions and API tokens: account metadata, not case data. Every change is
//! audited (as a permission change, a sign-out, a token issued or revoked) in its transaction;
//! secrets are stored only as hashes.

use crate::{Ctx, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nrmp_domain::account::{Account, ApiToken, Session, TokenHash, TokenId, UserId, Username};
use nrmp_domain::audit::AuditAction;
use nrmp_domain::organisation::OrgCode;

/// What one change to an account writes, in one transaction (see
/// [`AccountStore::update_user`]).
#[derive(Debug, Clone)]
pub struct AccountChange {
    /// The account's new state.
    pub account: Account,
    /// Audit events to write: action and detail (the record is the account).
    pub audit: Vec<(AuditAction, String)>,
    /// End every open session of the account (disabled, password reset, roles changed).
    pub end_sessions: bool,
    /// Open this session (a successful sign-in).
    pub new_session: Option<Session>,
}

impl AccountChange {
    /// A change that writes `account` and one audit event.
    pub fn new(account: Account, action: AuditAction, detail: impl Into<String>) -> Self {
        Self {
            account,
            audit: vec![(action, detail.into())],
            end_sessions: false,
            new_session: None,
        }
    }
}

/// The function [`AccountStore::update_user`] applies to an account's current state (it may
/// borrow from its caller for `'a`).
pub type AccountChangeFn<'a> = dyn Fn(&Account) -> Result<AccountChange> + Send + Sync + 'a;

/// Accounts, sessions and API tokens.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Adds a user account; audited as a permission change (the roles it grants). A taken user
    /// name is a [`StoreError::Conflict`](crate::StoreError::Conflict); an unknown organisation
    /// is [`StoreError::Invalid`](crate::StoreError::Invalid).
    async fn create_user(&self, ctx: &Ctx, account: &Account) -> Result<()>;
    /// Reads an account (account metadata, not case data: not audited here).
    async fn user(&self, id: UserId) -> Result<Account>;
    /// Reads an account by user name, if there is one.
    async fn user_by_name(&self, username: &Username) -> Result<Option<Account>>;
    /// Accounts of one organisation (or of all), by user name.
    async fn users(&self, org: Option<&OrgCode>) -> Result<Vec<Account>>;
    /// Changes an account in one transaction: the row is locked, `change` is given its current
    /// state and says what to write and audit (see [`AccountChange`]). An error from `change`
    /// rolls everything back. Returns what was written.
    async fn update_user(
        &self,
        ctx: &Ctx,
        id: UserId,
        change: &AccountChangeFn<'_>,
    ) -> Result<AccountChange>;
    /// Reads a session by its token's hash.
    async fn session(&self, hash: &TokenHash) -> Result<Option<Session>>;
    /// Records that a session was used at `at` (renews its idle timer). Not audited.
    async fn touch_session(&self, hash: &TokenHash, at: DateTime<Utc>) -> Result<()>;
    /// Ends a session (sign-out or timeout), audited as a sign-out with `detail`. Returns false
    /// if it had already ended or does not exist (then nothing is written).
    async fn end_session(&self, ctx: &Ctx, hash: &TokenHash, detail: &str) -> Result<bool>;
    /// Adds an API token (audited as issued).
    async fn create_token(&self, ctx: &Ctx, token: &ApiToken) -> Result<()>;
    /// Reads an API token.
    async fn token(&self, id: TokenId) -> Result<ApiToken>;
    /// Reads an API token by its secret's hash.
    async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<ApiToken>>;
    /// API tokens of one user, or of one organisation, or all; newest first.
    async fn tokens(&self, user: Option<UserId>, org: Option<&OrgCode>) -> Result<Vec<ApiToken>>;
    /// Revokes an API token at `ctx.at` (audited). Revoking a revoked token changes nothing.
    async fn revoke_token(&self, ctx: &Ctx, id: TokenId) -> Result<ApiToken>;
}
