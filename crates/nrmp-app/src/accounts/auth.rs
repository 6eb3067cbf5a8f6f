//! Credentials to principals: [`Accounts`] as the server's [`Authenticator`].
//!
//! A session token is accepted while its session is open, used within the idle timeout and
//! younger than the absolute timeout; each use renews the idle timer. An API token is accepted
//! until it is revoked or expires, and acts with its scopes (the roles its owner still holds).
//! Either way the owner must be enabled. Failed sign-ins (a throttled account) do not touch
//! sessions or API tokens: an attacker guessing passwords cannot cut a user or a system off. A session found idle or too old is
//! ended and the end audited as a sign-out.

use super::Accounts;
use crate::auth::{AuthError, Authenticator};
use async_trait::async_trait;
use nrmp_domain::access::Principal;
use nrmp_domain::account::{
    Account, BearerSecret, SecretKind, SessionEnd, TokenHash, TokenRefusal, UserId,
};
use nrmp_domain::audit::Actor;
use nrmp_store::{Ctx, StoreError};

/// Who a credential stands for, and what kind of credential it was.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The principal to decide access for.
    pub principal: Principal,
    /// The account behind it.
    pub user: UserId,
    /// Session or API token.
    pub kind: SecretKind,
}

fn unavailable(e: StoreError) -> AuthError {
    AuthError::Unavailable(e.to_string())
}

impl Accounts {
    /// Resolves a bearer credential (see the module documentation for the rules).
    pub async fn resolve(&self, credential: &str) -> Result<Caller, AuthError> {
        let credential = credential.trim();
        if credential.is_empty() {
            return Err(AuthError::Missing);
        }
        let now = self.now();
        let hash = TokenHash::of(credential);
        match BearerSecret::kind_of(credential) {
            Some(SecretKind::Session) => {
                let session = self
                    .store
                    .session(&hash)
                    .await
                    .map_err(unavailable)?
                    .ok_or(AuthError::Invalid)?;
                let account = self.store.user(session.user).await.map_err(unavailable)?;
                if let Err(end) = session.check(now, &self.settings.policy) {
                    if end != SessionEnd::Ended {
                        let detail = match end {
                            SessionEnd::Idle => "session ended: idle for 30 minutes",
                            _ => "session ended: reached its maximum lifetime",
                        };
                        let ctx = Ctx::new(
                            Actor::new(account.username.as_str(), account.org.clone()),
                            "session timeout",
                            now,
                        );
                        self.store
                            .end_session(&ctx, &hash, detail)
                            .await
                            .map_err(unavailable)?;
                        return Err(AuthError::Expired);
                    }
                    return Err(AuthError::Invalid);
                }
                usable(&account, now)?;
                self.store
                    .touch_session(&hash, now)
                    .await
                    .map_err(unavailable)?;
                Ok(Caller {
                    principal: account
                        .principal()
                        .map_err(|_| AuthError::AccountUnavailable)?,
                    user: account.id,
                    kind: SecretKind::Session,
                })
            }
            Some(SecretKind::ApiToken) => {
                let token = self
                    .store
                    .token_by_hash(&hash)
                    .await
                    .map_err(unavailable)?
                    .ok_or(AuthError::Invalid)?;
                token.check(now).map_err(|r| match r {
                    TokenRefusal::Expired => AuthError::Expired,
                    TokenRefusal::Revoked | TokenRefusal::NoScope => AuthError::Invalid,
                })?;
                let account = self.store.user(token.user).await.map_err(unavailable)?;
                usable(&account, now)?;
                if account.org != token.org {
                    // the owner moved organisation: the token was for the old one
                    return Err(AuthError::Invalid);
                }
                let roles = token
                    .effective_roles(&account.roles)
                    .map_err(|_| AuthError::Invalid)?;
                Ok(Caller {
                    principal: account
                        .principal_with(roles)
                        .map_err(|_| AuthError::AccountUnavailable)?,
                    user: account.id,
                    kind: SecretKind::ApiToken,
                })
            }
            None => Err(AuthError::Invalid),
        }
    }
}

fn usable(account: &Account, _now: chrono::DateTime<chrono::Utc>) -> Result<(), AuthError> {
    if account.disabled {
        Err(AuthError::AccountUnavailable)
    } else {
        Ok(())
    }
}

#[async_trait]
impl Authenticator for Accounts {
    async fn authenticate(&self, credential: &str) -> Result<Principal, AuthError> {
        self.resolve(credential).await.map(|c| c.principal)
    }
}
