//! `POST /api/v1/encounters`: the encounter check. "Is this person reported missing anywhere?"
//! — ranked candidates from the matching index, each decided by the policy on its own case
//! (refused rows are dropped before ranking output), shown through the grant's view with the
//! explanation limited to the fields the grant includes, and the search audited with its
//! stated reason (required).

use crate::error::ApiResult;
use crate::extract::{Body, Caller, StatedReason};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use nrmp_app::encounters::{EncounterInput, EncounterResult};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// `POST /api/v1/encounters`.
#[utoipa::path(
    post,
    path = "/api/v1/encounters",
    tag = "encounters",
    params(("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn check(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Body(mut input): Body<EncounterInput>,
) -> ApiResult<Json<EncounterResult>> {
    let reason = reason.or(input.reason.take());
    Ok(Json(
        state
            .register
            .encounter_check(&caller, reason, input)
            .await?,
    ))
}

/// This module's routes, each declared once for both the router and the OpenAPI document
/// (handlers on one path share a `routes!`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(check))
}
