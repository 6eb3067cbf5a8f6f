//! The JSON API under `/api/v1`, one module per domain noun. Every handler is an adapter: it
//! extracts the caller, the stated reason, path ids and the body or query, calls the one
//! use-case method of [`nrmp_app::Register`] (which decides need-to-know, audits and
//! validates), and answers with its result; errors become problem+json in [`crate::error`].

pub mod alerts;
pub mod encounters;
pub mod found;
pub mod incidents;
pub mod organisations;
pub mod persons;
pub mod related;
pub mod statistics;

use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use nrmp_domain::error::FieldError;

pub use nrmp_app::Page;

/// Parses an id from the path (`field` names it in an error).
pub fn path_id<T>(
    field: &str,
    raw: &str,
    parse: fn(&str, &str) -> Result<T, FieldError>,
) -> ApiResult<T> {
    parse(field, raw).map_err(ApiError::from)
}

/// A 201 answer with the new record's location and the record as the caller may read it.
fn created(location: String, body: serde_json::Value) -> Response {
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response()
}
