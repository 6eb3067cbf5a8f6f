//! One error type for the HTTP layer, turned into an RFC 9457 `application/problem+json`
//! response in one place. Each variant documents its status. Validation problems carry
//! `errors: [{field, problem}]`, naming every field that was wrong; refusals that must not
//! reveal whether a record exists are answered exactly like a missing record.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nrmp_app::AppError;
use nrmp_app::accounts::AccountError;
use nrmp_app::auth::AuthError;
use nrmp_domain::access::DenyReason;
use nrmp_domain::error::{FieldError, ValidationErrors};

/// `Retry-After` of a 503 when the database cannot be reached: the pool reconnects on its own
/// once it is back.
pub const UNAVAILABLE_RETRY_SECS: u64 = 5;

/// Base of the problem `type` URIs (relative; documented in docs/api.md).
pub const PROBLEM_BASE: &str = "/api/problems/";

/// An RFC 9457 problem: `type`, `title`, `status`, `detail`, and for bad input `errors`
/// (`[{field, problem}]`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened this time.
    pub detail: String,
    /// For bad input: each field and its problem.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds after which a retry may succeed (429, 503): sent as `Retry-After`.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// A problem of kind `slug` (its `type` is [`PROBLEM_BASE`] + slug).
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("{PROBLEM_BASE}{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"nrmp\""),
            );
        }
        res
    }
}

/// What went wrong with a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401: no credential, or one that is not (or no longer) valid.
    #[error("sign in first: no valid credential was sent")]
    Unauthenticated,
    /// 401: sign-in refused; deliberately says nothing about why (the audit log does).
    #[error(
        "The user name, password or second-factor code is wrong, or the account cannot sign \
         in now. After 5 failures in a row, each further attempt must wait longer."
    )]
    SignInFailed,
    /// 404: no such record — or one the caller may not know exists.
    #[error("{0}")]
    NotFound(String),
    /// 403: the caller's role may not do this.
    #[error("{0}")]
    Forbidden(DenyReason),
    /// 403: refused for a reason the caller can act on (e.g. disabling one's own account).
    #[error("{0}")]
    NotAllowed(String),
    /// 400: a stated reason is required (header `X-NRMP-Reason` or field `reason`).
    #[error("a reason is required: {0}")]
    ReasonRequired(String),
    /// 422: the input is well-formed JSON (or query) but invalid; names each field.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// 400: the body is not JSON at all, or has the wrong content type.
    #[error("{0}")]
    Malformed(String),
    /// 409: the change conflicts with what is stored.
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is larger than the configured limit.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// 408: the request took longer than the configured timeout.
    #[error("the request took longer than {0} s and was abandoned")]
    Timeout(u64),
    /// 408: the request body did not arrive within the configured time.
    #[error("the request body did not arrive within {0} s")]
    BodyTimeout(u64),
    /// 414: the request target (path and query) is longer than the configured limit.
    #[error("the request target is longer than {0} bytes")]
    UriTooLong(usize),
    /// 431: too many or too large header lines.
    #[error("{0}")]
    HeadersTooLarge(String),
    /// 429: too many failed sign-ins for this user name or from this address; retry after
    /// the given number of seconds.
    #[error("too many failed sign-ins for this user name or from this address; try again in {0} s")]
    Throttled(u64),
    /// 503: too many sign-ins are waiting for a password check; retry shortly.
    #[error("too many sign-ins at once; try again in a moment")]
    Busy,
    /// 405: the path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 503: the database cannot be reached (or the credential could not be checked).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 500: a bug or a damaged database. The detail is logged, not sent.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// No such record of `kind` (or one the caller may not know exists).
    pub fn not_found(kind: &str) -> Self {
        Self::NotFound(format!("no such {kind}"))
    }

    /// One invalid field.
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, problem)])
    }

    /// A policy refusal: hidden ones look like `not_found` of `kind`.
    pub fn denied(reason: DenyReason, kind: &'static str) -> Self {
        match reason {
            r if r.hides_existence() => Self::not_found(kind),
            DenyReason::ReasonRequired => Self::ReasonRequired(reason.to_string()),
            r => Self::Forbidden(r),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated | Self::SignInFailed => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Forbidden(_) | Self::NotAllowed(_) => StatusCode::FORBIDDEN,
            Self::ReasonRequired(_) | Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Timeout(_) | Self::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy | Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem type's slug (`type` is [`PROBLEM_BASE`] + slug).
    pub fn slug(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::SignInFailed => "sign-in-failed",
            Self::NotFound(_) => "not-found",
            Self::Forbidden(DenyReason::FieldNotPermitted(_)) => "field-not-permitted",
            Self::Forbidden(_) | Self::NotAllowed(_) => "forbidden",
            Self::ReasonRequired(_) => "reason-required",
            Self::Invalid(_) => "invalid-input",
            Self::Malformed(_) => "malformed-request",
            Self::Conflict(_) => "conflict",
            Self::TooLarge(_) => "body-too-large",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::Timeout(_) => "timeout",
            Self::BodyTimeout(_) => "body-timeout",
            Self::UriTooLong(_) => "uri-too-long",
            Self::HeadersTooLarge(_) => "headers-too-large",
            Self::Throttled(_) => "sign-in-throttled",
            Self::Busy => "busy",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "Not signed in",
            Self::SignInFailed => "Sign-in failed",
            Self::NotFound(_) => "Not found",
            Self::Forbidden(_) | Self::NotAllowed(_) => "Forbidden",
            Self::ReasonRequired(_) => "A reason is required",
            Self::Invalid(_) => "Invalid input",
            Self::Malformed(_) => "Malformed request",
            Self::Conflict(_) => "Conflict",
            Self::TooLarge(_) => "Request body too large",
            Self::MethodNotAllowed => "Method not allowed",
            Self::Timeout(_) | Self::BodyTimeout(_) => "Request timeout",
            Self::UriTooLong(_) => "Request target too long",
            Self::HeadersTooLarge(_) => "Request header fields too large",
            Self::Throttled(_) => "Too many failed sign-ins",
            Self::Busy | Self::Unavailable(_) => "Service unavailable",
            Self::Internal(_) => "Internal error",
        }
    }

    /// Seconds after which the same request may succeed (429 and 503 answers).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Throttled(secs) => Some((*secs).max(1)),
            Self::Busy => Some(1),
            Self::Unavailable(_) => Some(UNAVAILABLE_RETRY_SECS),
            _ => None,
        }
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        let errors = match self {
            Self::Invalid(errs) => errs.clone(),
            Self::ReasonRequired(p) => vec![FieldError::new("reason", p.clone())],
            Self::Forbidden(DenyReason::FieldNotPermitted(f)) => vec![FieldError::new(
                f.as_str(),
                "your role may not change this field here",
            )],
            _ => Vec::new(),
        };
        Problem {
            errors,
            retry_after: self.retry_after(),
            ..Problem::new(self.status(), self.slug(), self.title(), self.to_string())
        }
    }

    /// The problem document as JSON.
    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(self.problem()).unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(detail) => tracing::error!(%detail, "internal error"),
            Self::Unavailable(detail) => tracing::warn!(%detail, "unavailable"),
            _ => {}
        }
        self.problem().into_response()
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        Self::Invalid(e.0)
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        Self::Invalid(vec![e])
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound(kind) => Self::not_found(kind),
            AppError::Forbidden(d) => Self::Forbidden(d),
            AppError::ReasonRequired(r) => Self::ReasonRequired(r),
            AppError::Invalid(errs) => Self::Invalid(errs),
            AppError::Conflict(c) => Self::Conflict(c),
            AppError::Unavailable(u) => Self::Unavailable(u),
            AppError::Internal(i) => Self::Internal(i),
        }
    }
}

impl From<nrmp_store::StoreError> for ApiError {
    fn from(e: nrmp_store::StoreError) -> Self {
        AppError::from(e).into()
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid(v) => Self::Invalid(v.0),
            AccountError::SignInFailed => Self::SignInFailed,
            AccountError::Unauthenticated(AuthError::Unavailable(why)) => Self::Unavailable(why),
            AccountError::Unauthenticated(_) => Self::Unauthenticated,
            AccountError::Forbidden(d) => Self::denied(d, "record"),
            AccountError::NotAllowed(m) => Self::NotAllowed(m),
            AccountError::NotFound(m) => Self::NotFound(m),
            AccountError::Conflict(m) => Self::Conflict(m),
            AccountError::Store(e) => AppError::from(e).into(),
            AccountError::Internal(m) => Self::Internal(m),
            AccountError::Throttled(secs) => Self::Throttled(secs),
            AccountError::Busy => Self::Busy,
        }
    }
}

/// Result with [`ApiError`].
pub type ApiResult<T> = Result<T, ApiError>;
