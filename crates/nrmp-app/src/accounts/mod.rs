//! Accounts: sign-in, sessions, API tokens and user administration, as one service that the
//! HTTP routes (`nrmp_server::accounts::routes`) and the `nrmp users` command both call.
//!
//! The rules are pure and live in [`nrmp_domain::account`]; this layer looks accounts up,
//! verifies passwords off the async runtime (Argon2id is deliberately slow), and stores every
//! outcome with its audit event in one transaction ([`nrmp_store::Store::update_user`]):
//!
//! | what happens | audit action |
//! |---|---|
//! | sign-in succeeds | `sign_in` |
//! | sign-in fails (unknown user, wrong password, disabled, locked, second factor missing, wrong or replayed) | `sign_in_failed`, with the reason |
//! | the 5th (and each further) consecutive failure of an account makes its sign-in wait 30 s, doubling to 15 minutes; the 20th failure from one client address does the same for that address | `lock_out` |
//! | sign-out, idle timeout (30 minutes), session lifetime (12 hours), sessions ended by an account change | `sign_out` |
//! | user created, roles/clients changed, disabled, enabled, password reset, second factor (re-)enrolled | `permission_change` |
//! | API token issued / revoked | `token_issued` / `token_revoked` |
//! | users listed | `read` |
//!
//! The caller of a failed sign-in learns only that it failed: an unknown user, a wrong
//! password and a disabled account look the same (and take the same time: an unknown user's
//! password is checked against a dummy hash). A throttled attempt is refused before any
//! password is checked ([`AccountError::Throttled`], 429 with `Retry-After`); user names
//! without an account are throttled exactly like real ones ([`throttle`]). A failed password
//! never touches the account's sessions or API tokens. Password hashes run under a bounded
//! concurrency ([`throttle::HashGate`]).
//!
//! Administration is decided by the need-to-know policy: `Administer` on `User` for the
//! target's organisation — administrators manage their own organisation's users; the national
//! unit's administrators any organisation's.

mod auth;
mod demo;
mod error;
pub mod throttle;

pub use auth::Caller;
pub use demo::{DEMO_PREFIX, DemoSignIn, create_demo_users};
pub use error::AccountError;

use chrono::{DateTime, Utc};
use nrmp_domain::access::{Action, Principal, ResourceKind, Role, Target, authorize};
use nrmp_domain::account::{
    Account, AccountPolicy, ApiToken, BearerSecret, Password, PasswordHash, SecretKind, SecureRng,
    Session, SignInFailure, SignInOutcome, TokenHash, TokenId, TotpSecret, UserId, Username,
    decide_sign_in, roles_need_totp, token,
};
use nrmp_domain::audit::{Actor, AuditAction};
use nrmp_domain::clock::Clock;
use nrmp_domain::error::Collector;
use nrmp_domain::ids::PersonId;
use nrmp_domain::organisation::{OrgCode, OrgKind};
use nrmp_store::prelude::*;
use nrmp_store::{AccountChange, Ctx};
use rand::SeedableRng;
use std::sync::{Arc, Mutex};

/// Settings of the accounts service.
#[derive(Debug, Clone)]
pub struct AccountSettings {
    /// Lock-out, session and hashing numbers.
    pub policy: AccountPolicy,
    /// The issuer name shown in authenticator apps.
    pub totp_issuer: String,
    /// Whether the session cookie carries the `Secure` flag (true unless serving plain HTTP
    /// on a developer's machine).
    pub secure_cookie: bool,
    /// Password hashes computed at once.
    pub hash_concurrency: usize,
    /// Sign-ins that may wait for a hashing slot (more: [`AccountError::Busy`]).
    pub hash_queue: usize,
    /// Failed sign-ins from one client address (any user names) before each further one
    /// makes the address wait (with the policy's growing wait).
    pub address_throttle_after: u32,
}

impl Default for AccountSettings {
    fn default() -> Self {
        Self {
            policy: AccountPolicy::default(),
            totp_issuer: "nrmp".to_owned(),
            secure_cookie: true,
            hash_concurrency: 2,
            hash_queue: 32,
            address_throttle_after: 20,
        }
    }
}

/// The operating system's randomness through the thread-local CSPRNG (`rand::rng()`, ChaCha12
/// reseeded from the OS).
struct OsRandom;

impl rand::RngCore for OsRandom {
    fn next_u32(&mut self) -> u32 {
        rand::rng().next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        rand::rng().next_u64()
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        rand::rng().fill_bytes(dst);
    }
}

impl rand::CryptoRng for OsRandom {}

/// A user as shown to administrators (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserView {
    /// Id.
    pub id: UserId,
    /// User name.
    pub username: Username,
    /// Organisation.
    pub org: OrgCode,
    /// Its kind.
    pub org_kind: OrgKind,
    /// Roles.
    pub roles: Vec<Role>,
    /// An advocate's clients.
    pub clients: Vec<PersonId>,
    /// Disabled?
    pub disabled: bool,
    /// Sign-in throttled until, if throttled now (after repeated failures).
    pub locked_until: Option<DateTime<Utc>>,
    /// Second factor enrolled?
    pub totp_enrolled: bool,
    /// Second factor required by the roles?
    pub totp_required: bool,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl UserView {
    /// The view of `a` at `now`.
    pub fn of(a: &Account, now: DateTime<Utc>) -> Self {
        Self {
            id: a.id,
            username: a.username.clone(),
            org: a.org.clone(),
            org_kind: a.org_kind,
            roles: a.roles.clone(),
            clients: a.clients.clone(),
            disabled: a.disabled,
            locked_until: a.locked_until.filter(|_| a.is_locked(now)),
            totp_enrolled: a.totp.is_some(),
            totp_required: a.needs_totp(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// An API token as shown (no secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenView {
    /// Id (to revoke it).
    pub id: TokenId,
    /// What uses it.
    pub name: String,
    /// Owner.
    pub user: UserId,
    /// Owner's organisation.
    pub org: OrgCode,
    /// Roles it may act with.
    pub scopes: Vec<Role>,
    /// Issued at.
    pub created_at: DateTime<Utc>,
    /// Expires at, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// Revoked at, if revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&ApiToken> for TokenView {
    fn from(t: &ApiToken) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            user: t.user,
            org: t.org.clone(),
            scopes: t.scopes.clone(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A second factor to enrol: hand it to the user once (it is not shown again).
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct TotpEnrolment {
    /// The secret, base32, to type into an authenticator app.
    pub secret: String,
    /// The `otpauth://` URI (for a QR code).
    pub otpauth_uri: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment(***)")
    }
}

/// A new user, as typed: every field is checked and every problem reported by field name.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// User name.
    pub username: String,
    /// Organisation code.
    pub org: String,
    /// Role names.
    pub roles: Vec<String>,
    /// Client person ids (advocates).
    pub clients: Vec<String>,
    /// The initial password.
    pub password: String,
}

/// A created user and, when their roles need one, the second factor to hand them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UserCreated {
    /// The user.
    pub user: UserView,
    /// The second factor to enrol, if the roles read personal data.
    pub totp: Option<TotpEnrolment>,
}

/// A change to a user by an administrator; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    /// Disable (true) or enable (false).
    pub disabled: Option<bool>,
    /// New roles (role names).
    pub roles: Option<Vec<String>>,
    /// New client list (person ids).
    pub clients: Option<Vec<String>>,
    /// New password (also clears a lock-out).
    pub password: Option<String>,
    /// Enrol a new second factor (replacing any old one).
    pub reset_totp: bool,
    /// Clear a lock-out.
    pub unlock: bool,
}

/// The result of a change: the user now, and a new second factor if one was enrolled.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UserChanged {
    /// The user.
    pub user: UserView,
    /// The new second factor, if enrolled by this change.
    pub totp: Option<TotpEnrolment>,
}

/// A successful sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The session token: give it to the user once; only its hash is kept.
    pub token: BearerSecret,
    /// Who signed in.
    pub user: UserView,
    /// The principal the session acts as.
    pub principal: Principal,
    /// When the session ends at the latest (12 hours after sign-in).
    pub expires_at: DateTime<Utc>,
}

/// A new API token: its secret (shown once) and its record.
#[derive(Debug, Clone)]
pub struct TokenIssued {
    /// The secret to give to the system that will use it.
    pub secret: BearerSecret,
    /// The token.
    pub token: TokenView,
}

/// The accounts service.
pub struct Accounts {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: AccountSettings,
    rng: Mutex<Box<dyn SecureRng>>,
    /// Checked against when the user is unknown, so that takes as long as a wrong password.
    dummy_hash: PasswordHash,
    /// Bounds the password hashes computed at once.
    gate: throttle::HashGate,
    /// Failures of user names without an account (throttled like accounts).
    unknown_names: throttle::Throttle,
    /// Failures by client address.
    addresses: throttle::Throttle,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("backend", &self.store.backend())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

const UNKNOWN_ORG: &str = "unknown";

impl Accounts {
    /// The service on `store`, with the operating system's randomness.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: AccountSettings,
    ) -> Result<Self, AccountError> {
        Self::with_rng(store, clock, settings, Box::new(OsRandom))
    }

    /// The service with an injected source of randomness (seeded, in tests).
    pub fn with_rng(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: AccountSettings,
        mut rng: Box<dyn SecureRng>,
    ) -> Result<Self, AccountError> {
        let dummy = Password::parse("password", "no such user: a dummy to check against", None)?;
        let dummy_hash = PasswordHash::new(&dummy, settings.policy.hash, rng.as_mut())?;
        let p = settings.policy;
        let rule = |after, forget_after_quiet| throttle::ThrottleRule {
            after,
            base: p.throttle_base,
            max: p.throttle_max,
            forget_after_quiet,
        };
        Ok(Self {
            gate: throttle::HashGate::new(settings.hash_concurrency, settings.hash_queue),
            unknown_names: throttle::Throttle::new(rule(p.max_failures, false)),
            addresses: throttle::Throttle::new(rule(settings.address_throttle_after, true)),
            store,
            clock,
            settings,
            rng: Mutex::new(rng),
            dummy_hash,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &AccountSettings {
        &self.settings
    }

    /// The gate password hashes pass through (to observe it).
    pub fn hash_gate(&self) -> &throttle::HashGate {
        &self.gate
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The current time, from the injected clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A fresh CSPRNG seeded from the service's source, to use off the lock (e.g. in a
    /// blocking task).
    fn fork_rng(&self) -> rand::rngs::StdRng {
        let mut guard = match self.rng.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut source: &mut dyn SecureRng = guard.as_mut();
        rand::rngs::StdRng::from_rng(&mut source)
    }

    /// A random (version 4) UUID from the service's source of randomness.
    fn random_uuid(&self) -> uuid::Uuid {
        uuid::Builder::from_random_bytes(rand::Rng::random(&mut self.fork_rng())).into_uuid()
    }

    fn ctx_for(&self, by: &Principal, reason: &str) -> Ctx {
        Ctx::new(by.actor(), reason, self.now())
    }

    /// Hashes a password off the async runtime, through the gate.
    async fn hash(&self, password: Password) -> Result<PasswordHash, AccountError> {
        let params = self.settings.policy.hash;
        let mut rng = self.fork_rng();
        self.gate
            .run(move || PasswordHash::new(&password, params, &mut rng))
            .await?
            .map_err(AccountError::from)
    }

    /// Checks `password` against `hash` off the async runtime, through the gate.
    async fn verify(&self, hash: PasswordHash, password: &str) -> Result<bool, AccountError> {
        let pw = password.to_owned();
        self.gate.run(move || hash.verify(&pw)).await
    }

    fn new_totp(&self, username: &Username) -> (TotpSecret, TotpEnrolment) {
        let mut rng = self.fork_rng();
        let secret = TotpSecret::generate(&mut rng);
        let enrolment = TotpEnrolment {
            secret: secret.to_base32(),
            otpauth_uri: secret.otpauth_uri(&self.settings.totp_issuer, username.as_str()),
        };
        (secret, enrolment)
    }

    /// Checks that `by` may administer the users of `org`.
    fn check_admin(&self, by: &Principal, org: &OrgCode) -> Result<(), AccountError> {
        authorize(
            by,
            Action::Administer,
            ResourceKind::User,
            &Target::Organisation(org),
            None,
        )
        .map(|_| ())
        .map_err(AccountError::Forbidden)
    }

    async fn org_kind(&self, org: &OrgCode) -> Result<OrgKind, AccountError> {
        self.store
            .organisations()
            .await?
            .into_iter()
            .find(|o| &o.code == org)
            .map(|o| o.kind)
            .ok_or_else(|| {
                AccountError::invalid(
                    "org",
                    format!("`{org}` is not an organisation in the register"),
                )
            })
    }

    /// The account of a signed-in principal.
    pub async fn account_of(&self, p: &Principal) -> Result<Account, AccountError> {
        let name = Username::parse("user", p.user())?;
        self.store
            .user_by_name(&name)
            .await?
            .ok_or_else(|| AccountError::NotFound(format!("no user {name}")))
    }

    /// A user by id, if `by` may administer their organisation.
    pub async fn get_user(&self, by: &Principal, id: UserId) -> Result<UserView, AccountError> {
        self.check_admin(by, by.org())?;
        let a = self.store.user(id).await?;
        self.check_admin(by, &a.org)?;
        Ok(UserView::of(&a, self.now()))
    }

    /// A user by name (for the command line, which resolves names to ids).
    pub async fn find_user(&self, username: &str) -> Result<Account, AccountError> {
        let name = Username::parse("username", username)?;
        self.store
            .user_by_name(&name)
            .await?
            .ok_or_else(|| AccountError::NotFound(format!("no user {name}")))
    }

    /// Creates a user. Their roles must fit their organisation's kind; if a role reads
    /// personal data, a second factor is enrolled and returned (to hand to the user once).
    pub async fn add_user(
        &self,
        by: &Principal,
        reason: &str,
        input: NewUser,
    ) -> Result<UserCreated, AccountError> {
        let mut c = Collector::new();
        let username = c.take(Username::parse("username", &input.username));
        let org = c.take(OrgCode::parse("org", &input.org));
        let roles = parse_roles(&mut c, &input.roles);
        let clients = parse_clients(&mut c, &input.clients);
        let password = c.take(Password::parse(
            "password",
            &input.password,
            username.as_ref().map(Username::as_str),
        ));
        if input.roles.is_empty() {
            c.push("roles", "a user needs at least one role");
        }
        // Whether the roles fit the organisation is reported with the other problems.
        let mut org_kind = None;
        if let Some(org) = &org {
            self.check_admin(by, org)?;
            match self.org_kind(org).await {
                Ok(kind) => org_kind = Some(kind),
                Err(AccountError::Invalid(v)) => {
                    c.take_all::<()>("", Err(v));
                }
                Err(e) => return Err(e),
            }
            if let Some(kind) = org_kind
                && !roles.is_empty()
                && roles.len() == input.roles.len()
            {
                let _ = c.take_all(
                    "",
                    nrmp_domain::account::check_roles(org, kind, &roles, &clients),
                );
            }
        }
        let (username, org, org_kind, password) =
            c.finish(|| Some((username?, org?, org_kind?, password?)))?;
        let hash = self.hash(password).await?;
        let (totp, enrolment) = if roles_need_totp(&roles) {
            let (s, e) = self.new_totp(&username);
            (Some(s), Some(e))
        } else {
            (None, None)
        };
        let now = self.now();
        let id = UserId(self.random_uuid());
        let account = Account {
            id,
            username,
            org,
            org_kind,
            roles,
            clients,
            disabled: false,
            password: hash,
            totp,
            totp_last_step: None,
            failed_attempts: 0,
            locked_until: None,
            created_at: now,
            updated_at: now,
        };
        self.store
            .create_user(&self.ctx_for(by, reason), &account)
            .await?;
        Ok(UserCreated {
            user: UserView::of(&account, now),
            totp: enrolment,
        })
    }

    /// Lists the users of `org` (default: the caller's own). Audited as a consultation.
    pub async fn list_users(
        &self,
        by: &Principal,
        org: Option<&OrgCode>,
    ) -> Result<Vec<UserView>, AccountError> {
        let org = org.unwrap_or(by.org());
        self.check_admin(by, org)?;
        let users = self.store.users(Some(org)).await?;
        self.store
            .record_audit(
                &self.ctx_for(by, "user administration"),
                AuditAction::Read,
                UserId::KIND,
                &[],
                &format!("listed the {} users of {org}", users.len()),
            )
            .await?;
        let now = self.now();
        Ok(users.iter().map(|a| UserView::of(a, now)).collect())
    }

    /// Changes a user: status, roles, clients, password, second factor, lock-out. Each change
    /// is audited as a permission change; disabling, a new password and new roles end the
    /// user's sessions (new roles may need a second factor the session never passed).
    pub async fn update_user(
        &self,
        by: &Principal,
        reason: &str,
        id: UserId,
        update: UserUpdate,
    ) -> Result<UserChanged, AccountError> {
        self.check_admin(by, by.org())?;
        let current = self.store.user(id).await?;
        self.check_admin(by, &current.org)?;
        let mut c = Collector::new();
        let roles = update.roles.as_ref().map(|r| {
            let roles = parse_roles(&mut c, r);
            if roles.is_empty() {
                c.push("roles", "a user needs at least one role");
            }
            roles
        });
        let clients = update.clients.as_ref().map(|r| parse_clients(&mut c, r));
        let password = update.password.as_deref().and_then(|p| {
            c.take(Password::parse(
                "password",
                p,
                Some(current.username.as_str()),
            ))
        });
        c.finish(|| Some(()))?;
        if update.disabled == Some(true) && current.username.as_str() == by.user() {
            return Err(AccountError::NotAllowed(
                "you cannot disable your own account".into(),
            ));
        }
        let new_roles = roles.clone().unwrap_or_else(|| current.roles.clone());
        let new_clients = clients.clone().unwrap_or_else(|| current.clients.clone());
        nrmp_domain::account::check_roles(
            &current.org,
            current.org_kind,
            &new_roles,
            &new_clients,
        )?;
        let hash = match password {
            Some(p) => Some(self.hash(p).await?),
            None => None,
        };
        let need_totp = roles_need_totp(&new_roles);
        let enrol = update.reset_totp || (need_totp && current.totp.is_none());
        let (totp, enrolment) = if enrol {
            let (s, e) = self.new_totp(&current.username);
            (Some(s), Some(e))
        } else {
            (None, None)
        };
        let now = self.now();
        let change = move |cur: &Account| {
            let mut next = cur.clone();
            let mut notes: Vec<String> = Vec::new();
            let mut end_sessions = false;
            if let Some(d) = update.disabled
                && d != cur.disabled
            {
                next.disabled = d;
                notes.push(if d { "disabled" } else { "enabled" }.to_owned());
                end_sessions |= d;
            }
            if let Some(r) = &roles
                && *r != cur.roles
            {
                let names: Vec<&str> = r.iter().map(|r| r.as_str()).collect();
                notes.push(format!("roles set to {}", names.join(" ")));
                next.roles = r.clone();
                end_sessions = true;
            }
            if let Some(cl) = &clients
                && *cl != cur.clients
            {
                notes.push(format!("client list set ({} clients)", cl.len()));
                next.clients = cl.clone();
            }
            if let Some(h) = &hash {
                next.password = h.clone();
                next.unlock();
                notes.push("password reset".to_owned());
                end_sessions = true;
            }
            if let Some(s) = &totp {
                next.totp = Some(s.clone());
                next.totp_last_step = None;
                notes.push("second factor enrolled".to_owned());
                end_sessions = true;
            }
            if update.unlock && (cur.locked_until.is_some() || cur.failed_attempts > 0) {
                next.unlock();
                notes.push("sign-in throttle cleared".to_owned());
            }
            if notes.is_empty() {
                return Err(nrmp_store::StoreError::Invalid(
                    nrmp_domain::ValidationErrors::one("input", "changes nothing"),
                ));
            }
            next.updated_at = now;
            Ok(AccountChange {
                end_sessions,
                ..AccountChange::new(next, AuditAction::PermissionChange, notes.join("; "))
            })
        };
        let out = self
            .store
            .update_user(&self.ctx_for(by, reason), id, &change)
            .await?;
        Ok(UserChanged {
            user: UserView::of(&out.account, now),
            totp: enrolment,
        })
    }

    /// Disables a user (they cannot sign in; their sessions end; their tokens stop working).
    pub async fn disable(
        &self,
        by: &Principal,
        reason: &str,
        id: UserId,
    ) -> Result<UserView, AccountError> {
        let u = UserUpdate {
            disabled: Some(true),
            ..UserUpdate::default()
        };
        Ok(self.update_user(by, reason, id, u).await?.user)
    }

    /// Enables a disabled user.
    pub async fn enable(
        &self,
        by: &Principal,
        reason: &str,
        id: UserId,
    ) -> Result<UserView, AccountError> {
        let u = UserUpdate {
            disabled: Some(false),
            ..UserUpdate::default()
        };
        Ok(self.update_user(by, reason, id, u).await?.user)
    }

    /// Sets a new password (clearing any lock-out and ending sessions); with `new_totp`, also
    /// enrols a new second factor.
    pub async fn reset_password(
        &self,
        by: &Principal,
        reason: &str,
        id: UserId,
        password: &str,
        new_totp: bool,
    ) -> Result<UserChanged, AccountError> {
        let u = UserUpdate {
            password: Some(password.to_owned()),
            reset_totp: new_totp,
            ..UserUpdate::default()
        };
        self.update_user(by, reason, id, u).await
    }

    /// Sets a user's roles (and an advocate's clients).
    pub async fn set_roles(
        &self,
        by: &Principal,
        reason: &str,
        id: UserId,
        roles: Vec<String>,
        clients: Option<Vec<String>>,
    ) -> Result<UserChanged, AccountError> {
        let u = UserUpdate {
            roles: Some(roles),
            clients,
            ..UserUpdate::default()
        };
        self.update_user(by, reason, id, u).await
    }

    /// Enrols a new second factor for a user (replacing any old one).
    pub async fn enrol_totp(
        &self,
        by: &Principal,
        reason: &str,
        id: UserId,
    ) -> Result<TotpEnrolment, AccountError> {
        let u = UserUpdate {
            reset_totp: true,
            ..UserUpdate::default()
        };
        self.update_user(by, reason, id, u)
            .await?
            .totp
            .ok_or_else(|| AccountError::Internal("no second factor was enrolled".into()))
    }

    /// Signs a user in, from no known address (the command line; tests). See
    /// [`Self::sign_in_from`].
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        totp_code: Option<&str>,
        via: &str,
    ) -> Result<SignedIn, AccountError> {
        self.sign_in_from(username, password, totp_code, via, None)
            .await
    }

    /// Signs a user in. Every outcome is audited (success, each kind of failure, each start
    /// of a throttle); the caller learns only success, [`AccountError::SignInFailed`], or
    /// [`AccountError::Throttled`] while the user name or the client `address` must wait —
    /// then no password is checked and nothing is written. `via` says where the attempt came
    /// from, for the audit log (e.g. `http 203.0.113.9`).
    pub async fn sign_in_from(
        &self,
        username: &str,
        password: &str,
        totp_code: Option<&str>,
        via: &str,
        address: Option<std::net::IpAddr>,
    ) -> Result<SignedIn, AccountError> {
        let now = self.now();
        let address = address.map(|a| a.to_string());
        if let Some(secs) = address
            .as_deref()
            .and_then(|a| self.addresses.waiting(a, now))
        {
            return Err(AccountError::Throttled(secs));
        }
        let account = match Username::parse("username", username) {
            Ok(name) => self.store.user_by_name(&name).await?,
            Err(_) => None,
        };
        let Some(account) = account else {
            let key = unknown_key(username);
            if let Some(secs) = self.unknown_names.waiting(&key, now) {
                return Err(AccountError::Throttled(secs));
            }
            let _ = self.verify(self.dummy_hash.clone(), password).await?;
            let mut detail = format!("unknown user (via {via})");
            if let Some(wait) = self.unknown_names.fail(&key, now) {
                detail.push_str(&format!(
                    "; sign-in for this name throttled for {} s after {} consecutive failures",
                    wait.num_seconds(),
                    self.settings.policy.max_failures
                ));
            }
            self.audit_unknown(username, now, &detail).await?;
            self.address_failed(address.as_deref(), now).await?;
            return Err(AccountError::SignInFailed);
        };
        if let Some(until) = account.locked_until.filter(|_| account.is_locked(now)) {
            return Err(AccountError::Throttled(throttle::seconds_until(now, until)));
        }
        let checked = account.password.clone();
        let password_ok = self.verify(checked.clone(), password).await?;
        let secret = BearerSecret::generate(SecretKind::Session, &mut self.fork_rng());
        let session_hash = secret.hash();
        let policy = self.settings.policy;
        let code = totp_code.map(str::to_owned);
        let via = via.to_owned();
        let outcome: Mutex<Option<SignInOutcome>> = Mutex::new(None);
        let change = |cur: &Account| {
            // A password changed since it was checked counts as wrong.
            let ok = password_ok && cur.password == checked;
            let o = decide_sign_in(cur, ok, code.as_deref(), now, &policy);
            let change = match &o {
                SignInOutcome::Success { account } => AccountChange {
                    new_session: Some(Session {
                        hash: session_hash.clone(),
                        user: account.id,
                        created_at: now,
                        last_seen_at: now,
                        ended_at: None,
                    }),
                    ..AccountChange::new(
                        account.clone(),
                        AuditAction::SignIn,
                        format!("signed in via {via}"),
                    )
                },
                SignInOutcome::Failure {
                    account,
                    reason,
                    throttled_for,
                } => {
                    let mut c = AccountChange::new(
                        account.clone(),
                        AuditAction::SignInFailed,
                        format!("{} (via {via})", reason.as_str()),
                    );
                    if let Some(wait) = throttled_for {
                        c.audit.push((
                            AuditAction::LockOut,
                            format!(
                                "sign-in throttled for {} s after {} consecutive failures",
                                wait.num_seconds(),
                                account.failed_attempts
                            ),
                        ));
                    }
                    c
                }
            };
            if let Ok(mut slot) = outcome.lock() {
                *slot = Some(o);
            }
            Ok(change)
        };
        let ctx = Ctx::new(
            Actor::new(account.username.as_str(), account.org.clone()),
            "sign-in",
            now,
        );
        self.store.update_user(&ctx, account.id, &change).await?;
        let result = outcome
            .lock()
            .map_err(|e| AccountError::Internal(e.to_string()))?
            .take();
        match result {
            Some(SignInOutcome::Success { account }) => Ok(SignedIn {
                token: secret,
                principal: account.principal()?,
                user: UserView::of(&account, now),
                expires_at: now + policy.absolute_timeout,
            }),
            Some(SignInOutcome::Failure {
                reason: SignInFailure::Throttled,
                account,
                ..
            }) => Err(AccountError::Throttled(
                account
                    .locked_until
                    .map_or(1, |u| throttle::seconds_until(now, u)),
            )),
            Some(SignInOutcome::Failure { .. }) => {
                self.address_failed(address.as_deref(), now).await?;
                Err(AccountError::SignInFailed)
            }
            None => Err(AccountError::Internal("sign-in decided nothing".into())),
        }
    }

    /// Counts a failed sign-in from `address`; audits the start of a wait for it.
    async fn address_failed(
        &self,
        address: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let Some(address) = address else {
            return Ok(());
        };
        let Some(wait) = self.addresses.fail(address, now) else {
            return Ok(());
        };
        let org = OrgCode::parse("org", UNKNOWN_ORG)?;
        let ctx = Ctx::new(Actor::new("(client address)", org), "sign-in", now);
        let detail = format!(
            "sign-ins from {address} throttled for {} s after {} failures",
            wait.num_seconds(),
            self.addresses.failures(address)
        );
        self.store
            .record_audit(&ctx, AuditAction::LockOut, UserId::KIND, &[], &detail)
            .await?;
        Ok(())
    }

    async fn audit_unknown(
        &self,
        username: &str,
        now: DateTime<Utc>,
        detail: &str,
    ) -> Result<(), AccountError> {
        // What was typed, made safe to log: no control characters, bounded length.
        let mut typed: String = username
            .chars()
            .filter(|c| !c.is_control())
            .take(64)
            .collect();
        if typed.trim().is_empty() {
            typed = "(blank)".to_owned();
        }
        let org = OrgCode::parse("org", UNKNOWN_ORG)?;
        let ctx = Ctx::new(Actor::new(typed, org), "sign-in", now);
        self.store
            .record_audit(&ctx, AuditAction::SignInFailed, UserId::KIND, &[], detail)
            .await?;
        Ok(())
    }

    /// Changes the signed-in user's own password. The current password must be given; a wrong
    /// one counts towards the lock-out and is audited as a failed sign-in. On success every
    /// session of the user ends (this one too: they sign in again with the new password).
    /// Only from a session, not with an API token.
    pub async fn change_own_password(
        &self,
        caller: &Caller,
        current: &str,
        new: &str,
    ) -> Result<(), AccountError> {
        if caller.kind != SecretKind::Session {
            return Err(AccountError::NotAllowed(
                "sign in to change your password; an API token cannot".into(),
            ));
        }
        let account = self.store.user(caller.user).await?;
        let new = Password::parse("new_password", new, Some(account.username.as_str()))?;
        let now = self.now();
        if let Some(until) = account.locked_until.filter(|_| account.is_locked(now)) {
            return Err(AccountError::Throttled(throttle::seconds_until(now, until)));
        }
        let checked = account.password.clone();
        let ok = self.verify(checked.clone(), current).await?;
        let new_hash = if ok {
            Some(self.hash(new).await?)
        } else {
            None
        };
        let policy = self.settings.policy;
        let change = |cur: &Account| {
            let mut next = cur.clone();
            match &new_hash {
                Some(h) if cur.password == checked && !cur.disabled && !cur.is_locked(now) => {
                    next.password = h.clone();
                    next.unlock();
                    next.updated_at = now;
                    Ok(AccountChange {
                        end_sessions: true,
                        ..AccountChange::new(
                            next,
                            AuditAction::PermissionChange,
                            "password changed by its user",
                        )
                    })
                }
                _ => {
                    let throttled_for = next.record_failure(now, &policy);
                    let failures = next.failed_attempts;
                    let mut c = AccountChange::new(
                        next,
                        AuditAction::SignInFailed,
                        "wrong password (changing the password)",
                    );
                    if let Some(wait) = throttled_for {
                        c.audit.push((
                            AuditAction::LockOut,
                            format!(
                                "sign-in throttled for {} s after {failures} consecutive failures",
                                wait.num_seconds()
                            ),
                        ));
                    }
                    Ok(c)
                }
            }
        };
        let ctx = Ctx::new(
            Actor::new(account.username.as_str(), account.org.clone()),
            "password change",
            now,
        );
        let out = self.store.update_user(&ctx, account.id, &change).await?;
        if out.end_sessions {
            Ok(())
        } else {
            Err(AccountError::invalid(
                "current_password",
                "is not your current password",
            ))
        }
    }

    /// Ends the session a session token stands for (audited as a sign-out).
    pub async fn sign_out(&self, credential: &str) -> Result<(), AccountError> {
        if BearerSecret::kind_of(credential) != Some(SecretKind::Session) {
            return Err(AccountError::Unauthenticated(
                crate::auth::AuthError::Invalid,
            ));
        }
        let hash = TokenHash::of(credential);
        let session = self
            .store
            .session(&hash)
            .await?
            .filter(|s| s.ended_at.is_none())
            .ok_or(AccountError::Unauthenticated(
                crate::auth::AuthError::Invalid,
            ))?;
        let account = self.store.user(session.user).await?;
        let ctx = Ctx::new(
            Actor::new(account.username.as_str(), account.org.clone()),
            "sign-out",
            self.now(),
        );
        self.store.end_session(&ctx, &hash, "signed out").await?;
        Ok(())
    }

    /// Issues an API token owned by `owner` (default: the caller), acting with `scopes` (role
    /// names; default: all the owner's roles). Issuing for someone else needs the right to
    /// administer their organisation. The secret is returned once.
    pub async fn create_token(
        &self,
        by: &Principal,
        reason: &str,
        owner: Option<UserId>,
        name: &str,
        scopes: &[String],
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<TokenIssued, AccountError> {
        let mut c = Collector::new();
        let name = c.take(token::parse_token_name("name", name));
        let requested = parse_roles_field(&mut c, "scopes", scopes);
        let now = self.now();
        if expires_at.is_some_and(|e| e <= now) {
            c.push("expires_at", "is not in the future");
        }
        c.finish(|| Some(()))?;
        let owner = match owner {
            Some(id) => {
                let a = self.store.user(id).await?;
                if a.username.as_str() != by.user() || a.org != *by.org() {
                    self.check_admin(by, &a.org)?;
                }
                a
            }
            None => self.account_of(by).await?,
        };
        let scopes = token::parse_scopes("scopes", &requested, &owner.roles)?;
        let secret = BearerSecret::generate(SecretKind::ApiToken, &mut self.fork_rng());
        let id = TokenId(self.random_uuid());
        let token = ApiToken {
            id,
            name: name.unwrap_or_default(),
            user: owner.id,
            org: owner.org.clone(),
            scopes,
            hash: secret.hash(),
            created_at: now,
            expires_at,
            revoked_at: None,
        };
        self.store
            .create_token(&self.ctx_for(by, reason), &token)
            .await?;
        Ok(TokenIssued {
            secret,
            token: TokenView::from(&token),
        })
    }

    /// Revokes an API token: its owner may, and so may whoever administers its organisation.
    pub async fn revoke_token(
        &self,
        by: &Principal,
        reason: &str,
        id: TokenId,
    ) -> Result<TokenView, AccountError> {
        let token = self.store.token(id).await?;
        let owner = self.store.user(token.user).await?;
        if owner.username.as_str() != by.user() || owner.org != *by.org() {
            self.check_admin(by, &token.org).map_err(|e| match e {
                // someone else's token in another organisation: do not confirm it exists
                AccountError::Forbidden(_) => {
                    AccountError::NotFound(format!("no api_token with id {id}"))
                }
                other => other,
            })?;
        }
        let t = self
            .store
            .revoke_token(&self.ctx_for(by, reason), id)
            .await?;
        Ok(TokenView::from(&t))
    }

    /// The caller's own API tokens, or with `org`, that organisation's (administrators).
    pub async fn list_tokens(
        &self,
        by: &Principal,
        org: Option<&OrgCode>,
    ) -> Result<Vec<TokenView>, AccountError> {
        let tokens = match org {
            Some(org) => {
                self.check_admin(by, org)?;
                self.store.tokens(None, Some(org)).await?
            }
            None => {
                let me = self.account_of(by).await?;
                self.store.tokens(Some(me.id), None).await?
            }
        };
        Ok(tokens.iter().map(TokenView::from).collect())
    }
}

fn parse_roles(c: &mut Collector, names: &[String]) -> Vec<Role> {
    parse_roles_field(c, "roles", names)
}

fn parse_roles_field(c: &mut Collector, field: &str, names: &[String]) -> Vec<Role> {
    names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| c.take(Role::parse(&format!("{field}[{i}]"), n)))
        .collect()
}

fn parse_clients(c: &mut Collector, ids: &[String]) -> Vec<PersonId> {
    ids.iter()
        .enumerate()
        .filter_map(|(i, s)| c.take(PersonId::parse(&format!("clients[{i}]"), s)))
        .collect()
}

/// The key under which a user name without an account is throttled: as an account's would
/// be (trimmed, lower-case), bounded.
fn unknown_key(typed: &str) -> String {
    typed
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect::<String>()
        .to_lowercase()
}
