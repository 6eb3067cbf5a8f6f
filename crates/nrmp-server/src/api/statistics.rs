//! The national picture over HTTP: `POST /api/v1/statistics` publishes the same tables as
//! `nrmp stats …` (counts beside proportions with denominators and Wilson CIs, trends, time to
//! first missing episode, the proportion-trafficked table), from the same functions in
//! `nrmp_analysis::publish`, so the two cannot disagree.
//!
//! Who may ask and what they get (the researcher's view, whole completed years) is decided in
//! [`nrmp_app::Register::publish_table`].

use crate::error::ApiResult;
use crate::extract::{Body, Caller};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use nrmp_app::statistics::Published;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// `POST /api/v1/statistics`: one published table. The body is a request tagged by `table`
/// (`missing`, `trend`, `time-to-missing`, `proportion-trafficked`, `spend-model`) with that
/// table's fields, as docs/statistics.md describes; the answer is the table with its notes.
#[utoipa::path(
    post,
    path = "/api/v1/statistics",
    tag = "statistics",
    request_body(content = Object, description = "a statistics request, e.g. {\"table\": \"missing\", \"by\": \"year\", \"cohort\": \"nrm-children\"}"),
    responses(
        (status = 200, description = "the table, disclosure-controlled for the caller", body = Object),
        (status = 401, description = "not signed in", content_type = "application/problem+json"),
        (status = 403, description = "the role may not read statistics", content_type = "application/problem+json"),
        (status = 422, description = "invalid request; `errors` names the field", content_type = "application/problem+json"),
    )
)]
pub async fn publish_table(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Body(body): Body<serde_json::Value>,
) -> ApiResult<Json<Published>> {
    Ok(Json(state.register.publish_table(&caller, body).await?))
}

/// This module's routes, each declared once for both the router and the OpenAPI document
/// (handlers on one path share a `routes!`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(publish_table))
}
