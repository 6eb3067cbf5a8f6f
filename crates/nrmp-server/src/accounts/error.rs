//! The accounts service's errors, and their one mapping to HTTP: RFC 9457 problem details
//! (`application/problem+json`) that name the field and the problem for bad input.

use crate::auth::AuthError;
use crate::error::Problem;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
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

impl From<&AccountError> for Problem {
    fn from(e: &AccountError) -> Self {
        use AccountError as E;
        match e {
            E::Invalid(v) => Problem {
                errors: v.errors().to_vec(),
                ..Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-input",
                    "Invalid input",
                    v.to_string(),
                )
            },
            E::SignInFailed => Problem::new(
                StatusCode::UNAUTHORIZED,
                "sign-in-failed",
                "Sign-in failed",
                "The user name, password or second-factor code is wrong, or the account \
                 cannot sign in now. After 5 failures an account is locked for 10 minutes.",
            ),
            E::Unauthenticated(_) => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Not signed in",
                "Sign in (POST /api/v1/session) and send the token as `Authorization: Bearer …` \
                 or the `nrmp_session` cookie; sessions end after 30 minutes without use.",
            ),
            E::Forbidden(d) if d.hides_existence() => Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                "no such record",
            ),
            E::Forbidden(d) => Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                d.to_string(),
            ),
            E::NotAllowed(m) => {
                Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", m.clone())
            }
            E::NotFound(m) => {
                Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", m.clone())
            }
            E::Conflict(m) => Problem::new(StatusCode::CONFLICT, "conflict", "Conflict", m.clone()),
            E::Store(_) | E::Internal(_) => Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "the request could not be completed; it has been logged",
            ),
        }
    }
}

impl IntoResponse for AccountError {
    fn into_response(self) -> Response {
        if matches!(self, Self::Store(_) | Self::Internal(_)) {
            tracing::error!(error = %self, "accounts request failed");
        }
        Problem::from(&self).into_response()
    }
}
