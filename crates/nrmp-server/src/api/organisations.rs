//! The directory of organisations ("whom to call"): open to every signed-in role.

use crate::error::ApiResult;
use crate::extract::Caller;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use nrmp_domain::organisation::Organisation;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

/// This module's routes, each declared once for both the router and the OpenAPI document
/// (handlers on one path share a `routes!`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}
