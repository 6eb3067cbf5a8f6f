//! The accounts service's errors. The HTTP API maps them to problem+json in one place, beside
//! every other error (`nrmp_server::error`).

use crate::auth::AuthError;
use nrmp_domain::access::DenyReason;
use nrmp_domain::{FieldError, ValidationErrors};
use nrmp_store::StoreError;

/// What an accounts operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Bad input: every problem, each naming its field. HTTP 422.
    #[error("invalid input: {0}")]
    Invalid(ValidationErrors),
    /// Sign-in refused. Deliberately says nothing about why (the audit log does). HTTP 401.
    #[error("sign-in failed")]
    SignInFailed,
    /// No usable credential. HTTP 401.
    #[error("not signed in: {0}")]
    Unauthenticated(AuthError),
    /// The policy refuses. HTTP 403 (404 where the refusal must hide that a record exists).
    #[error("forbidden: {0}")]
    Forbidden(DenyReason),
    /// Refused for a reason the caller can act on (e.g. disabling one's own account). HTTP 403.
    #[error("not allowed: {0}")]
    NotAllowed(String),
    /// No such user or token (or not one the caller may see). HTTP 404.
    #[error("not found: {0}")]
    NotFound(String),
    /// Conflicts with what is stored, e.g. a user name that is taken. HTTP 409.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Too many failed sign-ins for this user name or from this address: retry after this
    /// many seconds. Nothing was checked. HTTP 429 with `Retry-After`.
    #[error("sign-in throttled for {0} s")]
    Throttled(u64),
    /// Too many password checks waiting already. HTTP 503 with `Retry-After`.
    #[error("too many sign-ins at once")]
    Busy,
    /// Storage failed. HTTP 500 (the detail is logged, not shown).
    #[error("storage: {0}")]
    Store(StoreError),
    /// Something that should not happen (a background task panicked). HTTP 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AccountError {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid(ValidationErrors::one(field, problem))
    }
}

impl From<FieldError> for AccountError {
    fn from(e: FieldError) -> Self {
        Self::Invalid(e.into())
    }
}

impl From<ValidationErrors> for AccountError {
    fn from(e: ValidationErrors) -> Self {
        Self::Invalid(e)
    }
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(v) => Self::Invalid(v),
            StoreError::Conflict(c) => Self::Conflict(c),
            StoreError::NotFound { kind, id } => Self::NotFound(format!("no {kind} with id {id}")),
            other => Self::Store(other),
        }
    }
}
