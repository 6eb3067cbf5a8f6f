//! What a use case can fail with. Each adapter maps [`AppError`] once (the HTTP API to a
//! problem+json status, the command line to a message and an exit code); refusals that must not
//! reveal whether a record exists are already [`AppError::NotFound`] here.

use nrmp_domain::access::DenyReason;
use nrmp_domain::error::{FieldError, ValidationErrors};
use nrmp_store::StoreError;

/// Why a use case did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such record — or one the caller may not know exists.
    #[error("no such {0}")]
    NotFound(&'static str),
    /// The caller's role may not do this.
    #[error("{0}")]
    Forbidden(DenyReason),
    /// A stated reason is required.
    #[error("a reason is required: {0}")]
    ReasonRequired(String),
    /// The input is invalid; names each field and its problem.
    #[error("invalid input: {}", describe(.0))]
    Invalid(Vec<FieldError>),
    /// The change conflicts with what is stored.
    #[error("{0}")]
    Conflict(String),
    /// The database cannot be reached.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or a damaged database.
    #[error("internal error: {0}")]
    Internal(String),
}

fn describe(errs: &[FieldError]) -> String {
    errs.iter()
        .map(|e| format!("{}: {}", e.field, e.problem))
        .collect::<Vec<_>>()
        .join("; ")
}

impl AppError {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, problem)])
    }

    /// A policy refusal: hidden ones look like [`AppError::NotFound`] of `kind`.
    pub fn denied(reason: DenyReason, kind: &'static str) -> Self {
        match reason {
            r if r.hides_existence() => Self::NotFound(kind),
            DenyReason::ReasonRequired => Self::ReasonRequired(reason.to_string()),
            r => Self::Forbidden(r),
        }
    }
}

impl From<ValidationErrors> for AppError {
    fn from(e: ValidationErrors) -> Self {
        Self::Invalid(e.0)
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        Self::Invalid(vec![e])
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { kind, .. } => Self::NotFound(kind),
            StoreError::Conflict(c) => Self::Conflict(c),
            StoreError::Invalid(v) => Self::Invalid(v.0),
            e if e.is_unavailable() => Self::Unavailable(e.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// Result with [`AppError`].
pub type AppResult<T> = Result<T, AppError>;
