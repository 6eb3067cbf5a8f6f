//! Who is calling: the seam between the adapters (the HTTP layer) and the accounts service.
//!
//! Handlers never look at credentials themselves; they ask an [`Authenticator`] to turn the
//! bearer credential of a request (a session token from sign-in, or an API token) into a
//! [`Principal`], and the policy in [`nrmp_domain::access`] decides from there.

use async_trait::async_trait;
use nrmp_domain::access::Principal;

/// Why a credential was not accepted. Every variant is answered with 401 and the same body, so
/// a caller cannot tell an unknown token from an expired one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credential was sent.
    #[error("no credential")]
    Missing,
    /// The credential is not one the register issued, or was revoked.
    #[error("unknown or revoked credential")]
    Invalid,
    /// The session was idle too long, or the token is past its expiry.
    #[error("session or token expired")]
    Expired,
    /// The account is disabled.
    #[error("account disabled")]
    AccountUnavailable,
    /// The credential could not be checked (storage failure).
    #[error("credential could not be checked: {0}")]
    Unavailable(String),
}

/// Turns a bearer credential into the principal it stands for.
#[async_trait]
pub trait Authenticator: Send + Sync {
    /// Resolves a session token or API token, renewing a session's idle timer.
    async fn authenticate(&self, credential: &str) -> Result<Principal, AuthError>;
}
