//! Assembling the service: [`build`] opens nothing itself — it takes the store, clock and
//! authenticator, builds the matching index, binds the listener (port 0 in tests: any free
//! port, reported by [`App::port`]) and returns an [`App`] that serves until told to stop.
//! [`router`] gives the API's routes with their state applied, so other routers (sign-in,
//! accounts) can be merged beside them before the cross-cutting layers (metrics, body limit,
//! timeout, problem+json fallbacks) are added by [`App::serve`].

use crate::api::{
    alerts, encounters, found, incidents, organisations, persons, related, statistics,
};
use crate::auth::Authenticator;
use crate::config::Config;
use crate::error::ApiError;
use crate::extract::BodyLimit;
use crate::metrics::{Metrics, track};
use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use nrmp_app::{Limits, MatchIndex, Register};
use nrmp_domain::clock::Clock;
use nrmp_domain::ids::RandomIds;
use nrmp_match::Model;
use nrmp_store::prelude::*;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use utoipa_axum::router::OpenApiRouter;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The matching model could not be read.
    #[error("match_model: {0}")]
    Model(String),
    /// The register could not be read to build the matching index.
    #[error("building the matching index: {0}")]
    Index(#[from] nrmp_store::StoreError),
}

/// A bound, ready-to-serve application.
pub struct App {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    routes: Router,
    /// The register's last change when the matching index was built.
    changes_seen: i64,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Builds the state and the matching index, and binds `config.bind`.
pub async fn build(
    config: Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    authenticator: Arc<dyn Authenticator>,
) -> Result<App, BuildError> {
    let model = if config.match_model.is_empty() {
        Model::default_trained()
    } else {
        let text = std::fs::read_to_string(&config.match_model)
            .map_err(|e| BuildError::Model(format!("{}: {e}", config.match_model)))?;
        Model::from_json(&text).map_err(|e| BuildError::Model(e.to_string()))?
    };
    // Changes after this point are applied by the follower (again, if the build saw them).
    let changes_seen = store.last_change().await?;
    let index = MatchIndex::build(store.as_ref(), model).await?;
    tracing::info!(persons = index.len(), "matching index built");
    let listener = TcpListener::bind(&config.bind)
        .await
        .map_err(|source| BuildError::Bind {
            addr: config.bind.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| BuildError::Bind {
        addr: config.bind.clone(),
        source,
    })?;
    let limits = Limits {
        default_page_size: config.default_page_size,
        max_page_size: config.max_page_size,
        max_candidates: config.max_candidates,
        stats_max_age_secs: config.stats_max_age_secs,
    };
    let state = AppState {
        register: Register::new(store, Arc::new(index), clock, Arc::new(RandomIds), limits)
            .with_alert_rules(config.alerts.clone()),
        authenticator,
        config: Arc::new(config),
        metrics: Arc::new(Metrics::new()),
        alerts_changed: Arc::new(tokio::sync::Notify::new()),
    };
    let routes = router(state.clone());
    Ok(App {
        listener,
        addr,
        state,
        routes,
        changes_seen,
    })
}

impl App {
    /// The port listened on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The address listened on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (for routers merged beside the API).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Adds another router (with its state applied) beside the API's, e.g. sign-in routes.
    #[must_use]
    pub fn merge(mut self, other: Router) -> Self {
        self.routes = self.routes.merge(other);
        self
    }

    /// Serves (through [`crate::transport`], with the connection limits of the settings) until
    /// `shutdown` completes, then lets the requests in flight finish, waiting at most the
    /// request timeout and 5 s.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = layered(self.routes, &self.state);
        let follower = tokio::spawn(nrmp_app::index::follow_changes(
            self.state.register.store.clone(),
            self.state.register.index.clone(),
            self.state.register.clock.clone(),
            nrmp_app::index::ChangeCursor::at(self.changes_seen),
            Duration::from_millis(self.state.config.index_follow_ms.max(10)),
        ));
        let alerts = tokio::spawn(alert_worker(self.state.clone()));
        let config = &self.state.config;
        let fd_limit = crate::transport::raise_fd_limit();
        let limits = crate::transport::TransportLimits {
            max_connections: crate::transport::connection_limit(config.max_connections, fd_limit),
            header_read_timeout: Duration::from_secs(config.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(config.idle_timeout_secs),
            max_head_buffer: 2 * crate::config::MAX_HEAD_BYTES,
            max_head_headers: 1000,
            shutdown_grace: Duration::from_secs(config.request_timeout_secs + 5),
        };
        tracing::info!(?limits, ?fd_limit, "listening");
        let served = crate::transport::serve(self.listener, app, limits, shutdown).await;
        follower.abort();
        alerts.abort();
        served
    }
}

/// The node's alert work, until aborted: on every tick — or at once when the outbox grows (a
/// PostgreSQL NOTIFY from any node) — the consumer raises alerts from the committed changes,
/// then the review timer and escalation run; this node's stream clients are woken whenever the
/// alert stream may have grown. Several nodes may do this at once: raising is idempotent by
/// alert key and escalation by level. A failed pass is logged and retried.
async fn alert_worker(state: AppState) {
    let every = Duration::from_millis(state.config.alert_follow_ms.max(10));
    let outbox_grew = Arc::new(tokio::sync::Notify::new());
    let listener =
        match nrmp_store::outbox::ChangeListener::connect(&state.config.database_url).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "LISTEN for changes; polling only");
                None
            }
        };
    let listening = listener.map(|mut l| {
        let (outbox, alerts) = (outbox_grew.clone(), state.alerts_changed.clone());
        tokio::spawn(async move {
            loop {
                match l.recv().await {
                    Ok(ch) if ch == nrmp_store::outbox::ALERTS_CHANNEL => alerts.notify_waiters(),
                    Ok(ch) if ch == nrmp_store::outbox::OUTBOX_CHANNEL => outbox.notify_one(),
                    Ok(_) => {
                        outbox.notify_one();
                        alerts.notify_waiters();
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for changes");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        })
    });
    let register = &state.register;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = outbox_grew.notified() => {}
        }
        let mut raised = 0;
        loop {
            match register.raise_alerts_from_changes().await {
                Ok(p) => {
                    raised += p.raised;
                    if p.changes < nrmp_app::alerts::PASS {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "raising alerts");
                    break;
                }
            }
        }
        match register.raise_overdue_alerts().await {
            Ok(n) => raised += n,
            Err(e) => tracing::warn!(error = %e, "review timer"),
        }
        let escalated = match register.escalate_alerts().await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "escalating alerts");
                0
            }
        };
        state.metrics.alerts_raised(raised);
        state.metrics.alerts_escalated(escalated);
        if raised + escalated > 0 {
            state.alerts_changed.notify_waiters();
        }
        if listening
            .as_ref()
            .is_some_and(tokio::task::JoinHandle::is_finished)
        {
            tracing::warn!("change listener stopped; polling only");
        }
    }
}

/// The API's routes with their OpenAPI description, each declared once by its module.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(persons::routes())
        .merge(related::routes())
        .merge(incidents::routes())
        .merge(found::routes())
        .merge(encounters::routes())
        .merge(organisations::routes())
        .merge(statistics::routes())
        .merge(alerts::routes())
}

/// The API's routes, and the web UI's beside them ([`crate::ui`]), with the state applied (no
/// cross-cutting layers; see [`layered`]).
pub fn router(state: AppState) -> Router {
    let (api, _) = api_routes().split_for_parts();
    api.merge(crate::ui::routes())
        .route("/api/openapi.json", get(crate::openapi::serve))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Adds what every route shares: problem+json for unknown paths and methods, the limits on
/// the request target (414) and head (431), the body read whole within its size (413) and
/// time (408) limits, the request timeout (408), and request metrics.
pub fn layered(routes: Router, state: &AppState) -> Router {
    let limit = state.config.body_limit_bytes;
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    let head = HeadLimits {
        max_uri_bytes: state.config.max_uri_bytes,
        max_header_bytes: state.config.max_header_bytes,
        max_headers: state.config.max_headers,
    };
    let body = BodyRead {
        limit,
        timeout: Duration::from_secs(state.config.body_read_timeout_secs),
    };
    routes
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .fallback(|| async { ApiError::not_found("resource") })
        .route_layer(middleware::from_fn_with_state(state.metrics.clone(), track))
        .route_layer(middleware::from_fn(crate::request_log::note_route))
        .layer(middleware::from_fn(move |mut req: Request, next: Next| {
            req.extensions_mut().insert(BodyLimit(limit));
            next.run(req)
        }))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(body, read_body))
        .layer(middleware::from_fn_with_state(head, check_head))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        // The timeout layer answers with an empty body; make it a problem like every error.
        .layer(middleware::map_response(move |res: Response| async move {
            if res.status() == StatusCode::REQUEST_TIMEOUT
                && !res.headers().contains_key(header::CONTENT_TYPE)
            {
                ApiError::Timeout(timeout.as_secs()).into_response()
            } else {
                res
            }
        }))
        // Outermost, so that every answer gets them, errors and time-outs included.
        .layer(middleware::map_response(no_store_no_sniff))
        .layer(middleware::from_fn(crate::request_log::request_id_and_log))
}

/// The limits on a request's head, answered as problems (414, 431).
#[derive(Debug, Clone, Copy)]
struct HeadLimits {
    max_uri_bytes: usize,
    max_header_bytes: usize,
    max_headers: usize,
}

/// Refuses a request whose target or head is larger than configured: 414 or 431 problems
/// (hyper's own, bodiless answers come only past twice the largest configurable head).
async fn check_head(State(lim): State<HeadLimits>, req: Request, next: Next) -> Response {
    let target = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > lim.max_uri_bytes {
        return ApiError::UriTooLong(lim.max_uri_bytes).into_response();
    }
    let count = req.headers().len();
    let bytes: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if count > lim.max_headers {
        return ApiError::HeadersTooLarge(format!(
            "the request has {count} header lines; at most {} are accepted",
            lim.max_headers
        ))
        .into_response();
    }
    if bytes > lim.max_header_bytes {
        return ApiError::HeadersTooLarge(format!(
            "the request's header lines are larger than {} bytes",
            lim.max_header_bytes
        ))
        .into_response();
    }
    next.run(req).await
}

/// How a request body is read: at most `limit` bytes, all of it within `timeout`.
#[derive(Debug, Clone, Copy)]
struct BodyRead {
    limit: usize,
    timeout: Duration,
}

/// Reads the whole body before the route sees it, so that a body too large (413), too slow
/// (408) or broken (400) is one problem for every route, and a client sending its body a
/// byte at a time cannot hold a handler.
async fn read_body(State(lim): State<BodyRead>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > lim.limit as u64) {
        return ApiError::TooLarge(lim.limit).into_response();
    }
    let (parts, body) = req.into_parts();
    let limited = http_body_util::Limited::new(body, lim.limit);
    let read = tokio::time::timeout(lim.timeout, http_body_util::BodyExt::collect(limited)).await;
    match read {
        Err(_) => ApiError::BodyTimeout(lim.timeout.as_secs()).into_response(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            ApiError::TooLarge(lim.limit).into_response()
        }
        Ok(Err(e)) => {
            ApiError::Malformed(format!("the request body could not be read: {e}")).into_response()
        }
        Ok(Ok(collected)) => {
            let body = axum::body::Body::from(collected.to_bytes());
            next.run(Request::from_parts(parts, body)).await
        }
    }
}

/// Every response: `X-Content-Type-Options: nosniff`; API responses (which may carry personal
/// data) also `Cache-Control: no-store`, so no browser or proxy keeps a copy.
async fn no_store_no_sniff(res: Response) -> Response {
    let mut res = res;
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    let is_api = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"));
    if is_api && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    res
}

/// `GET /health`: the process is up (liveness).
async fn health() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /ready`: the database answers and every migration is applied (readiness).
async fn ready(State(state): State<AppState>) -> Response {
    match state.register.store.migrations_pending().await {
        Ok(0) => axum::Json(serde_json::json!({
            "status": "ready",
            "backend": state.register.store.backend().name(),
        }))
        .into_response(),
        Ok(n) => ApiError::Unavailable(format!("{n} migration(s) not applied")).into_response(),
        Err(e) => ApiError::Unavailable(format!("database: {e}")).into_response(),
    }
}

/// `GET /metrics`: Prometheus text format.
async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
