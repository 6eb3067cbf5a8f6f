//! Missing incidents: report one, read it, list and filter them (a search), and the changes an
//! episode goes through — a risk-grade change, a sighting, the return, the return-home
//! interview, and corrections to its narrative.

use super::{Page, created, path_id};
use crate::error::ApiResult;
use crate::extract::{Body, Caller, StatedReason, parse_query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use nrmp_app::incidents::{
    GradeInput, IncidentInput, IncidentPatch, IncidentView, InterviewInput, ReturnInput,
    SightingInput,
};
use nrmp_domain::ids::IncidentId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// `POST /api/v1/incidents`: reports a person on the register missing; the caller's
/// organisation owns the incident.
#[utoipa::path(
    post,
    path = "/api/v1/incidents",
    tag = "incidents",
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
    Body(mut input): Body<IncidentInput>,
) -> ApiResult<Response> {
    let reason = reason.or(input.reason.take());
    let c = state
        .register
        .report_missing(&caller, reason, input)
        .await?;
    Ok(created(format!("/api/v1/incidents/{}", c.id), c.body))
}

/// `GET /api/v1/incidents/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/incidents/{id}",
    tag = "incidents",
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
) -> ApiResult<Json<IncidentView>> {
    let id = path_id("id", &raw, IncidentId::parse)?;
    let reason = reason.or(None);
    Ok(Json(state.register.incident(&caller, reason, id).await?))
}

/// `POST /api/v1/incidents/{id}/risk`: a risk-grade change (kept in the history with when,
/// by whom and why).
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/risk",
    tag = "incidents",
    params(("id" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn change_grade(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path(raw): Path<String>,
    Body(mut input): Body<GradeInput>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = path_id("id", &raw, IncidentId::parse)?;
    let reason = reason.or(input.reason.take());
    Ok(Json(
        state
            .register
            .change_grade(&caller, reason, id, input)
            .await?,
    ))
}

/// `POST /api/v1/incidents/{id}/sightings`: adds a sighting reported by the caller's
/// organisation.
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/sightings",
    tag = "incidents",
    params(("id" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn add_sighting(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path(raw): Path<String>,
    Body(mut input): Body<SightingInput>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = path_id("id", &raw, IncidentId::parse)?;
    let reason = reason.or(input.reason.take());
    Ok(Json(
        state
            .register
            .add_sighting(&caller, reason, id, input)
            .await?,
    ))
}

/// `POST /api/v1/incidents/{id}/return`: records the return; the caller's organisation is the
/// finder. 409 if already returned.
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/return",
    tag = "incidents",
    params(("id" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn record_return(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path(raw): Path<String>,
    Body(mut input): Body<ReturnInput>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = path_id("id", &raw, IncidentId::parse)?;
    let reason = reason.or(input.reason.take());
    Ok(Json(
        state
            .register
            .record_return(&caller, reason, id, input)
            .await?,
    ))
}

/// `PUT /api/v1/incidents/{id}/interview`: records (or corrects) the return-home interview; the
/// caller's organisation conducted it if it was held.
#[utoipa::path(
    put,
    path = "/api/v1/incidents/{id}/interview",
    tag = "incidents",
    params(("id" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn record_interview(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path(raw): Path<String>,
    Body(mut input): Body<InterviewInput>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = path_id("id", &raw, IncidentId::parse)?;
    let reason = reason.or(input.reason.take());
    Ok(Json(
        state
            .register
            .record_interview(&caller, reason, id, input)
            .await?,
    ))
}

/// `PATCH /api/v1/incidents/{id}`.
#[utoipa::path(
    patch,
    path = "/api/v1/incidents/{id}",
    tag = "incidents",
    params(("id" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn patch(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path(raw): Path<String>,
    Body(mut input): Body<IncidentPatch>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = path_id("id", &raw, IncidentId::parse)?;
    let reason = reason.or(input.reason.take());
    Ok(Json(
        state
            .register
            .correct_incident(&caller, reason, id, input)
            .await?,
    ))
}

/// `GET /api/v1/incidents`: incidents most recently last seen first, filtered — a search
/// (reason required). Rows the caller may not see are left out before paging.
#[utoipa::path(
    get,
    path = "/api/v1/incidents",
    tag = "incidents",
    params(("open" = Option<String>, Query), ("risk" = Option<String>, Query), ("force" = Option<String>, Query), ("owning_org" = Option<String>, Query), ("authority" = Option<String>, Query), ("person_id" = Option<String>, Query), ("category" = Option<String>, Query), ("missing_longer_than_hours" = Option<String>, Query), ("limit" = Option<String>, Query), ("after" = Option<String>, Query), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
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
) -> ApiResult<Json<Page<IncidentView>>> {
    let q = parse_query(raw.as_deref())?;
    let reason = reason.or(None);
    Ok(Json(
        state.register.list_incidents(&caller, reason, q).await?,
    ))
}

/// This module's routes, each declared once for both the router and the OpenAPI document
/// (handlers on one path share a `routes!`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get, patch))
        .routes(routes!(change_grade))
        .routes(routes!(add_sighting))
        .routes(routes!(record_return))
        .routes(routes!(record_interview))
}
