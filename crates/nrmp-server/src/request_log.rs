//! Every request gets an id and one log line (issue 18, observability): the id is the
//! client's `X-Request-Id` when it is a plausible one (1–64 visible ASCII characters), else a
//! fresh UUID; it is returned in the `X-Request-Id` header of every answer and as
//! `request_id` in every problem+json body, so a user's error report leads to the log line.
//! The line (target `nrmp::request`) holds the id, method, route template (never the path
//! itself, which may hold a record id), status, latency and, once authenticated, the user
//! name and organisation — never personal data of a missing person.

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The header carrying the request id.
pub const REQUEST_ID: &str = "x-request-id";

/// What the layers and extractors learn about a request, for its log line (shared through
/// the request's extensions).
#[derive(Debug, Default)]
pub struct RequestNotes {
    route: Mutex<Option<String>>,
    caller: Mutex<Option<(String, String)>>,
}

impl RequestNotes {
    /// Records who the caller is (user name, organisation code).
    pub fn caller(&self, user: &str, org: &str) {
        if let Ok(mut c) = self.caller.lock() {
            *c = Some((user.to_owned(), org.to_owned()));
        }
    }
}

/// A client's id is kept if it is 1–64 visible ASCII characters.
fn plausible(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// Route layer: notes the route template the request matched.
pub async fn note_route(req: Request, next: Next) -> Response {
    if let (Some(notes), Some(path)) = (
        req.extensions().get::<Arc<RequestNotes>>(),
        req.extensions().get::<MatchedPath>(),
    ) && let Ok(mut r) = notes.route.lock()
    {
        *r = Some(path.as_str().to_owned());
    }
    next.run(req).await
}

/// Outermost layer: gives the request its id, returns it, puts it into problem bodies, and
/// logs the request's line.
pub async fn request_id_and_log(mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| plausible(s))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let method = req.method().clone();
    let notes = Arc::new(RequestNotes::default());
    req.extensions_mut().insert(notes.clone());
    let mut res = next.run(req).await;
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        res = with_request_id(res, &id).await;
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    let route = notes
        .route
        .lock()
        .ok()
        .and_then(|r| r.clone())
        .unwrap_or_else(|| "unmatched".to_owned());
    let (user, org) = notes
        .caller
        .lock()
        .ok()
        .and_then(|c| c.clone())
        .unwrap_or_default();
    tracing::info!(
        target: "nrmp::request",
        request_id = %id,
        method = %method,
        route = %route,
        status = res.status().as_u16(),
        latency_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        user = %user,
        org = %org,
        "request"
    );
    res
}

/// A problem answer with `request_id` added to its body.
async fn with_request_id(res: Response, id: &str) -> Response {
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let out = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut m)) => {
            m.insert(
                "request_id".into(),
                serde_json::Value::String(id.to_owned()),
            );
            serde_json::to_vec(&m).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plausible_client_ids_are_kept() {
        assert!(plausible("abc-123"));
        assert!(plausible(&"a".repeat(64)));
        assert!(!plausible(&"a".repeat(65)));
        assert!(!plausible(""));
        assert!(!plausible("two words"));
        assert!(!plausible("bell\u{7}"));
    }
}
