//! Found (unidentified) persons: someone found whose identity is unknown, recorded by the
//! force that found them, listed for comparison with open incidents, and linked to a register
//! person once identified.

use super::{Page, created, path_id};
use crate::error::ApiResult;
use crate::extract::{Body, Caller, StatedReason, parse_query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use nrmp_app::found::{FoundInput, IdentifyInput};
use nrmp_domain::access::RedactedFoundPerson;
use nrmp_domain::ids::FoundPersonId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// `POST /api/v1/found-persons`.
#[utoipa::path(
    post,
    path = "/api/v1/found-persons",
    tag = "found-persons",
    params(("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 201, description = "created; the record as the caller may read it", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Body(mut input): Body<FoundInput>,
) -> ApiResult<Response> {
    let reason = reason.or(input.reason.take());
    let c = state
        .register
        .record_found_person(&caller, reason, input)
        .await?;
    Ok(created(format!("/api/v1/found-persons/{}", c.id), c.body))
}

/// `GET /api/v1/found-persons/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/found-persons/{id}",
    tag = "found-persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path(raw): Path<String>,
) -> ApiResult<Json<RedactedFoundPerson>> {
    let id = path_id("id", &raw, FoundPersonId::parse)?;
    let reason = reason.or(None);
    Ok(Json(
        state.register.found_person(&caller, reason, id).await?,
    ))
}

/// `PUT /api/v1/found-persons/{id}/identification`: links (or unlinks) the record to a
/// register person.
#[utoipa::path(
    put,
    path = "/api/v1/found-persons/{id}/identification",
    tag = "found-persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn identify(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path(raw): Path<String>,
    Body(mut input): Body<IdentifyInput>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = path_id("id", &raw, FoundPersonId::parse)?;
    let reason = reason.or(input.reason.take());
    Ok(Json(
        state
            .register
            .identify_found_person(&caller, reason, id, input)
            .await?,
    ))
}

/// `GET /api/v1/found-persons`: most recently found first — a search (reason required).
#[utoipa::path(
    get,
    path = "/api/v1/found-persons",
    tag = "found-persons",
    params(("unidentified" = Option<String>, Query), ("found_by" = Option<String>, Query), ("limit" = Option<String>, Query), ("after" = Option<String>, Query), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Page<RedactedFoundPerson>>> {
    let q = parse_query(raw.as_deref())?;
    let reason = reason.or(None);
    Ok(Json(
        state
            .register
            .list_found_persons(&caller, reason, q)
            .await?,
    ))
}

/// This module's routes, each declared once for both the router and the OpenAPI document
/// (handlers on one path share a `routes!`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get))
        .routes(routes!(identify))
}
