//! The records that hang off a person: NRM referrals, placements and pre-filled profiles.
//! Created and changed under `/api/v1/persons/{id}/…`; read through the person's history
//! (`GET /api/v1/persons/{id}/history`) or, for a profile's versions, directly.

use super::{created, path_id};
use crate::error::ApiResult;
use crate::extract::{Body, Caller, StatedReason, parse_query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use nrmp_app::related::{PlacementInput, ProfileInput, ReferralInput};
use nrmp_domain::access::RedactedProfile;
use nrmp_domain::ids::{PersonId, PlacementId, ProfileId, ReferralId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// `POST /api/v1/persons/{id}/referrals`.
#[utoipa::path(
    post,
    path = "/api/v1/persons/{id}/referrals",
    tag = "persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 201, description = "created; the record as the caller may read it", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn create_referral(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path(raw): Path<String>,
    Body(mut input): Body<ReferralInput>,
) -> ApiResult<Response> {
    let pid = path_id("id", &raw, PersonId::parse)?;
    let reason = reason.or(input.reason.take());
    let c = state
        .register
        .create_referral(&caller, reason, pid, input)
        .await?;
    Ok(created(
        format!("/api/v1/persons/{pid}/referrals/{}", c.id),
        c.body,
    ))
}

/// `PUT /api/v1/persons/{id}/referrals/{rid}`: replaces a referral (e.g. a grounds decision);
/// the first responder stays.
#[utoipa::path(
    put,
    path = "/api/v1/persons/{id}/referrals/{rid}",
    tag = "persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("rid" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn update_referral(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path((raw, raw_rid)): Path<(String, String)>,
    Body(mut input): Body<ReferralInput>,
) -> ApiResult<Json<serde_json::Value>> {
    let pid = path_id("id", &raw, PersonId::parse)?;
    let rid = path_id("rid", &raw_rid, ReferralId::parse)?;
    let reason = reason.or(input.reason.take());
    Ok(Json(
        state
            .register
            .update_referral(&caller, reason, pid, rid, input)
            .await?,
    ))
}

/// `POST /api/v1/persons/{id}/placements`.
#[utoipa::path(
    post,
    path = "/api/v1/persons/{id}/placements",
    tag = "persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 201, description = "created; the record as the caller may read it", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn create_placement(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path(raw): Path<String>,
    Body(mut input): Body<PlacementInput>,
) -> ApiResult<Response> {
    let pid = path_id("id", &raw, PersonId::parse)?;
    let reason = reason.or(input.reason.take());
    let c = state
        .register
        .create_placement(&caller, reason, pid, input)
        .await?;
    Ok(created(
        format!("/api/v1/persons/{pid}/placements/{}", c.id),
        c.body,
    ))
}

/// `PUT /api/v1/persons/{id}/placements/{rid}`: replaces a placement (e.g. its end); the
/// placing authority stays.
#[utoipa::path(
    put,
    path = "/api/v1/persons/{id}/placements/{rid}",
    tag = "persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("rid" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn update_placement(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path((raw, raw_rid)): Path<(String, String)>,
    Body(mut input): Body<PlacementInput>,
) -> ApiResult<Json<serde_json::Value>> {
    let pid = path_id("id", &raw, PersonId::parse)?;
    let rid = path_id("rid", &raw_rid, PlacementId::parse)?;
    let reason = reason.or(input.reason.take());
    Ok(Json(
        state
            .register
            .update_placement(&caller, reason, pid, rid, input)
            .await?,
    ))
}

/// `POST /api/v1/persons/{id}/profiles`: version 1 of a new profile.
#[utoipa::path(
    post,
    path = "/api/v1/persons/{id}/profiles",
    tag = "persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 201, description = "created; the record as the caller may read it", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn create_profile(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path(raw): Path<String>,
    Body(mut input): Body<ProfileInput>,
) -> ApiResult<Response> {
    let pid = path_id("id", &raw, PersonId::parse)?;
    let reason = reason.or(input.reason.take());
    let c = state
        .register
        .create_profile(&caller, reason, pid, input)
        .await?;
    Ok(created(
        format!("/api/v1/persons/{pid}/profiles/{}", c.id),
        c.body,
    ))
}

/// `PUT /api/v1/persons/{id}/profiles/{rid}`: the next version of a profile (old versions are
/// kept unchanged).
#[utoipa::path(
    put,
    path = "/api/v1/persons/{id}/profiles/{rid}",
    tag = "persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("rid" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn new_profile_version(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path((raw, raw_rid)): Path<(String, String)>,
    Body(mut input): Body<ProfileInput>,
) -> ApiResult<Json<serde_json::Value>> {
    let pid = path_id("id", &raw, PersonId::parse)?;
    let rid = path_id("rid", &raw_rid, ProfileId::parse)?;
    let reason = reason.or(input.reason.take());
    Ok(Json(
        state
            .register
            .new_profile_version(&caller, reason, pid, rid, input)
            .await?,
    ))
}

/// `GET /api/v1/persons/{id}/profiles/{rid}[?version=N]`.
#[utoipa::path(
    get,
    path = "/api/v1/persons/{id}/profiles/{rid}",
    tag = "persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("rid" = String, Path, description = "record id (UUID)"), ("version" = Option<String>, Query), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn get_profile(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path((raw, raw_rid)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<RedactedProfile>> {
    let pid = path_id("id", &raw, PersonId::parse)?;
    let rid = path_id("rid", &raw_rid, ProfileId::parse)?;
    let q = parse_query(query.as_deref())?;
    let reason = reason.or(None);
    Ok(Json(
        state.register.profile(&caller, reason, pid, rid, q).await?,
    ))
}

/// This module's routes, each declared once for both the router and the OpenAPI document
/// (handlers on one path share a `routes!`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_referral))
        .routes(routes!(update_referral))
        .routes(routes!(create_placement))
        .routes(routes!(update_placement))
        .routes(routes!(create_profile))
        .routes(routes!(get_profile, new_profile_version))
}
