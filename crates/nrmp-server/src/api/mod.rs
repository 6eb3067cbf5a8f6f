//! The JSON API under `/api/v1`, one module per domain noun, plus what they share: path ids,
//! page sizes and cursors, and the list envelope.
//!
//! Every handler follows the same steps: parse input into domain types (errors: 422 naming the
//! field), load the case's records and build its context, ask the policy (through
//! [`crate::guard`]), call the store with a context carrying the actor and reason (the store
//! audits), and render only through the grant's redacted view.

pub mod encounters;
pub mod found;
pub mod incidents;
pub mod organisations;
pub mod persons;
pub mod related;
pub mod statistics;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use nrmp_domain::error::FieldError;

/// A page of a list: the rows the caller may see and where the next page starts.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The rows, in list order.
    pub items: Vec<T>,
    /// Pass as `after` for the next page; `null` when this is the last page. A page may hold
    /// fewer rows than `limit` (rows the caller may not see are left out) and still have a next.
    pub next: Option<String>,
}

/// Parses an id from the path (`field` names it in an error).
pub fn path_id<T>(
    field: &str,
    raw: &str,
    parse: fn(&str, &str) -> Result<T, FieldError>,
) -> ApiResult<T> {
    parse(field, raw).map_err(ApiError::from)
}

/// The page size a list request asks for: `limit`, 1 to the configured maximum.
pub fn page_size(state: &AppState, raw: Option<&str>) -> ApiResult<u32> {
    let max = state.config.max_page_size;
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(state.config.default_page_size),
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid(
                "limit",
                format!("`{s}` is not a page size from 1 to {max}"),
            )),
        },
    }
}

/// How many rows a list may read from the store to fill one page before it returns a short
/// page (rows the caller may not see are skipped, and must not make a request unbounded).
pub fn scan_budget(limit: u32) -> u32 {
    limit.saturating_mul(10).max(100)
}

/// A comma-separated list parameter, each item parsed.
pub fn list_param<T>(
    field: &str,
    raw: Option<&str>,
    parse: impl Fn(&str, &str) -> Result<T, FieldError>,
) -> ApiResult<Vec<T>> {
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for item in raw.unwrap_or("").split(',').map(str::trim) {
        if item.is_empty() {
            continue;
        }
        match parse(field, item) {
            Ok(v) => out.push(v),
            Err(e) => errs.push(e),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::Invalid(errs))
    }
}

/// A boolean query parameter.
pub fn bool_param(field: &str, raw: Option<&str>) -> ApiResult<Option<bool>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some("true" | "1" | "yes") => Ok(Some(true)),
        Some("false" | "0" | "no") => Ok(Some(false)),
        Some(s) => Err(ApiError::invalid(
            field,
            format!("`{s}` is not true or false"),
        )),
    }
}

/// An optional parsed query parameter.
pub fn opt_param<T>(
    field: &str,
    raw: Option<&str>,
    parse: impl Fn(&str, &str) -> Result<T, FieldError>,
) -> ApiResult<Option<T>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse(field, s).map(Some).map_err(ApiError::from),
    }
}

/// Collects several fallible parses, reporting every failing field at once.
#[derive(Debug, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    /// Keeps the value or records the error.
    pub fn take<T>(&mut self, r: ApiResult<T>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(ApiError::Invalid(e)) => {
                self.0.extend(e);
                None
            }
            Err(other) => {
                self.0.push(FieldError::new("input", other.to_string()));
                None
            }
        }
    }

    /// `Err` if anything was recorded.
    pub fn finish(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid(self.0))
        }
    }
}
