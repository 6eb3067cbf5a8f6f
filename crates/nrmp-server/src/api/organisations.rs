//! The directory of organisations ("whom to call"): open to every signed-in role.

use crate::error::ApiResult;
use crate::extract::Caller;
use crate::guard::{self, Attempt};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use nrmp_domain::access::{Action, ResourceKind, Target};
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
    guard::decide(
        &state,
        &caller,
        Attempt {
            action: Action::Read,
            resource: ResourceKind::Organisation,
            ids: &[],
        },
        &Target::Register,
        None,
    )
    .await?;
    Ok(Json(state.store.organisations().await?))
}
