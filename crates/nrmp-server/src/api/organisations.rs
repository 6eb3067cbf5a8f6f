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
        (status = 400, description = "malformed body or missing reason (problem+json)", content_type = "application/problem+json"),
        (status = 401, description = "not signed in", content_type = "application/problem+json"),
        (status = 403, description = "the role may not do this", content_type = "application/problem+json"),
        (status = 404, description = "no such record, or one the caller may not know exists", content_type = "application/problem+json"),
        (status = 422, description = "invalid input; `errors` names each field", content_type = "application/problem+json"),
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
