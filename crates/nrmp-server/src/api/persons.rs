//! Persons: create, read, replace, list (a search), and a person's whole case history.

use super::{Page, created, path_id};
use crate::error::ApiResult;
use crate::extract::{Body, Caller, StatedReason, parse_query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use nrmp_app::persons::{HistoryView, PersonInput};
use nrmp_domain::access::RedactedPerson;
use nrmp_domain::ids::PersonId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// `POST /api/v1/persons`: adds a person owned by the caller's organisation.
#[utoipa::path(
    post,
    path = "/api/v1/persons",
    tag = "persons",
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
    Body(mut input): Body<PersonInput>,
) -> ApiResult<Response> {
    let reason = reason.or(input.reason.take());
    let c = state.register.create_person(&caller, reason, input).await?;
    Ok(created(format!("/api/v1/persons/{}", c.id), c.body))
}

/// `GET /api/v1/persons/{id}`: one person, redacted to the caller's grant.
#[utoipa::path(
    get,
    path = "/api/v1/persons/{id}",
    tag = "persons",
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
) -> ApiResult<Json<RedactedPerson>> {
    let id = path_id("id", &raw, PersonId::parse)?;
    let reason = reason.or(None);
    Ok(Json(state.register.person(&caller, reason, id).await?))
}

/// `PUT /api/v1/persons/{id}`: replaces a person's record (only fields the grant allows may
/// change; the owner stays).
#[utoipa::path(
    put,
    path = "/api/v1/persons/{id}",
    tag = "persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn replace(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path(raw): Path<String>,
    Body(mut input): Body<PersonInput>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = path_id("id", &raw, PersonId::parse)?;
    let reason = reason.or(input.reason.take());
    Ok(Json(
        state
            .register
            .replace_person(&caller, reason, id, input)
            .await?,
    ))
}

/// `GET /api/v1/persons`: persons, in id order — a search (reason required); rows the caller
/// may not see are left out.
#[utoipa::path(
    get,
    path = "/api/v1/persons",
    tag = "persons",
    params(("owning_org" = Option<String>, Query), ("limit" = Option<String>, Query), ("after" = Option<String>, Query), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
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
) -> ApiResult<Json<Page<RedactedPerson>>> {
    let q = parse_query(raw.as_deref())?;
    let reason = reason.or(None);
    Ok(Json(state.register.list_persons(&caller, reason, q).await?))
}

/// `GET /api/v1/persons/{id}/history`: the person with their incidents, referrals, placements
/// and profiles, each kind redacted to its own grant.
#[utoipa::path(
    get,
    path = "/api/v1/persons/{id}/history",
    tag = "persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn history(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path(raw): Path<String>,
) -> ApiResult<Json<HistoryView>> {
    let id = path_id("id", &raw, PersonId::parse)?;
    let reason = reason.or(None);
    Ok(Json(
        state.register.person_history(&caller, reason, id).await?,
    ))
}

/// This module's routes, each declared once for both the router and the OpenAPI document
/// (handlers on one path share a `routes!`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get, replace))
        .routes(routes!(history))
}
