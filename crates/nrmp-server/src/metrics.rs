//! Prometheus metrics: request counts and latency by route (the matched path template, never
//! the ids in it) and status, served as text at `/metrics`.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~16 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The service's metrics registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    alerts_raised: Counter,
    alerts_escalated: Counter,
    alerts_acknowledged: Counter,
    alerts_delivered: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with the request metrics.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("nrmp");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method and route",
            latency.clone(),
        );
        let [
            alerts_raised,
            alerts_escalated,
            alerts_acknowledged,
            alerts_delivered,
        ] = std::array::from_fn(|_| Counter::default());
        for (name, help, c) in [
            (
                "alerts_raised",
                "Alerts raised by this node",
                &alerts_raised,
            ),
            (
                "alerts_escalated",
                "Alert escalations made by this node",
                &alerts_escalated,
            ),
            (
                "alerts_acknowledged",
                "Alert acknowledgements received by this node",
                &alerts_acknowledged,
            ),
            (
                "alerts_delivered",
                "Alert events sent to stream clients of this node",
                &alerts_delivered,
            ),
        ] {
            registry.register(name, help, c.clone());
        }
        Self {
            registry,
            requests,
            latency,
            alerts_raised,
            alerts_escalated,
            alerts_acknowledged,
            alerts_delivered,
        }
    }

    /// Records one finished request.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// Counts `n` alerts raised.
    pub fn alerts_raised(&self, n: usize) {
        self.alerts_raised.inc_by(n as u64);
    }

    /// Counts `n` escalations.
    pub fn alerts_escalated(&self, n: usize) {
        self.alerts_escalated.inc_by(n as u64);
    }

    /// Counts one acknowledgement.
    pub fn alert_acknowledged(&self) {
        self.alerts_acknowledged.inc();
    }

    /// Counts one alert event sent to a stream client.
    pub fn alert_delivered(&self) {
        self.alerts_delivered.inc();
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Middleware that times each request and counts it by route and status.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let res = next.run(req).await;
    metrics.observe(
        &method,
        &route,
        res.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    res
}
