//! The directory of organisations ("whom to call"): open to every signed-in role.

use crate::error::ApiResult;
use crate::extract::Caller;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use nrmp_domain::organisation::Organisation;

/// `GET /api/v1/organisations`: every organisation, by code.
#[utoipa::path(
    get,
    path = "/api/v1/organisations",
    tag = "organisations",
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Json<Vec<Organisation>>> {
    Ok(Json(state.register.organisations(&caller).await?))
}
