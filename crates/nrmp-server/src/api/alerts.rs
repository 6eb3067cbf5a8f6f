//! Alerts: the caller's inbox, acknowledgement, and the live stream (Server-Sent Events) with
//! event ids, so a client that reconnects with `Last-Event-ID` receives everything it missed
//! and nothing twice. What each caller sees is decided in [`nrmp_app::alerts`].

use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Caller, StatedReason, parse_query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use nrmp_app::alerts::AlertView;
use nrmp_domain::access::Principal;
use nrmp_store::alerts::Acknowledgement;
use std::convert::Infallible;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Query of `GET /api/v1/alerts`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Only alerts numbered below this (the next page).
    before: Option<i64>,
    /// Most alerts to return.
    limit: Option<u32>,
}

/// Query of `GET /api/v1/alerts/stream`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamQuery {
    /// Start after this event (when there is no `Last-Event-ID`); default: only new events.
    after: Option<i64>,
}

/// Body of `POST /api/v1/alerts/{id}/acknowledgement`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckInput {
    /// What was done ("called Kent duty desk, child safe").
    #[serde(default)]
    pub note: String,
    /// Why (alternative to the `X-NRMP-Reason` header).
    #[serde(default)]
    pub reason: Option<String>,
}

/// `GET /api/v1/alerts`: the caller's alerts, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/alerts",
    tag = "alerts",
    params(("before" = Option<String>, Query), ("limit" = Option<String>, Query), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults their alerts; required")),
    responses(
        (status = 200, description = "the caller's alerts, each redacted to their grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Vec<AlertView>>> {
    let q: ListQuery = parse_query(raw.as_deref())?;
    Ok(Json(
        state
            .register
            .my_alerts(&caller, reason.or(None), q.before, q.limit)
            .await?,
    ))
}

/// `POST /api/v1/alerts/{id}/acknowledgement`: the caller's organisation acknowledges.
#[utoipa::path(
    post,
    path = "/api/v1/alerts/{id}/acknowledgement",
    tag = "alerts",
    params(("id" = i64, Path, description = "alert number"), ("X-NRMP-Reason" = Option<String>, Header, description = "why; required")),
    request_body(content = Object, content_type = "application/json", description = "`{\"note\": \"…\"}`"),
    responses(
        (status = 200, description = "the acknowledgement", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn acknowledge(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path(raw): Path<String>,
    Body(mut input): Body<AckInput>,
) -> ApiResult<Json<Acknowledgement>> {
    let id: i64 = raw
        .parse()
        .map_err(|_| ApiError::invalid("id", format!("`{raw}` is not an alert number")))?;
    let reason = reason.or(input.reason.take());
    let ack = state
        .register
        .acknowledge_alert(&caller, reason, id, input.note)
        .await?;
    state.metrics.alert_acknowledged();
    Ok(Json(ack))
}

/// `GET /api/v1/alerts/stream`: Server-Sent Events, one per alert raised, escalated or
/// acknowledged that the caller may know of; each event's id is its number.
#[utoipa::path(
    get,
    path = "/api/v1/alerts/stream",
    tag = "alerts",
    params(("after" = Option<String>, Query, description = "start after this event number (when no Last-Event-ID)"), ("Last-Event-ID" = Option<String>, Header, description = "resume after this event"), ("X-NRMP-Reason" = Option<String>, Header, description = "why; required")),
    responses(
        (status = 200, description = "text/event-stream of alert events", content_type = "text/event-stream", body = String),
        crate::openapi::CaseProblems,
    )
)]
pub async fn stream(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let q: StreamQuery = parse_query(raw.as_deref())?;
    let reason = reason.or(None);
    let resume = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .ok_or_else(|| ApiError::invalid("Last-Event-ID", "is not an event number"))?,
        ),
        None => q.after,
    };
    let after = match resume {
        Some(n) => n,
        None => state.register.store.last_alert_event().await?,
    };
    // Refuse at once (reason missing, no role) rather than on the first event.
    state
        .register
        .my_alert_events(&caller, reason.as_deref(), i64::MAX, 1)
        .await?;
    let poll = Duration::from_millis(state.config.alert_follow_ms);
    let s = Follow {
        state,
        caller,
        reason,
        after,
        queue: std::collections::VecDeque::new(),
    };
    Ok(
        Sse::new(futures_util::stream::unfold(s, move |mut s| async move {
            let ev = s.next(poll).await;
            Some((Ok(ev), s))
        }))
        .keep_alive(KeepAlive::default()),
    )
}

/// One caller's position in the stream.
struct Follow {
    state: AppState,
    caller: Principal,
    reason: Option<String>,
    after: i64,
    queue: std::collections::VecDeque<Event>,
}

impl Follow {
    /// The next event for the caller, waiting (woken by the node's alert notifier, or every
    /// `poll`) until there is one.
    async fn next(&mut self, poll: Duration) -> Event {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return e;
            }
            let woken = self.state.alerts_changed.notified();
            match self
                .state
                .register
                .my_alert_events(&self.caller, self.reason.as_deref(), self.after, 100)
                .await
            {
                Ok((events, last)) => {
                    self.after = last;
                    for e in events {
                        let data = serde_json::to_string(&e).unwrap_or_default();
                        self.queue.push_back(
                            Event::default()
                                .id(e.seq.to_string())
                                .event(e.event_name())
                                .data(data),
                        );
                        self.state.metrics.alert_delivered();
                    }
                    if !self.queue.is_empty() {
                        continue;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "alert stream"),
            }
            let _ = tokio::time::timeout(poll, woken).await;
        }
    }
}

/// This module's routes, each declared once for both the router and the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(stream))
        .routes(routes!(acknowledge))
}
