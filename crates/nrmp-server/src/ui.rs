//! The register's web UI: a small client-side application in plain HTML, CSS and JavaScript
//! modules (no framework, no build step), embedded in the binary and served at `/` (the page)
//! and `/ui/…` (its assets). It calls the JSON API with the `nrmp_session` cookie; it decides
//! nothing itself — authorisation, audit and validation stay with the API (docs/ui.md).
//!
//! Every response carries a strict Content-Security-Policy (scripts, styles and connections
//! from this origin only; no inline scripts, no framing), `X-Content-Type-Options: nosniff`,
//! `Referrer-Policy: no-referrer`, and `Cache-Control: no-cache` with a strong `ETag`, so a
//! browser keeps the assets but revalidates them (a 304 when unchanged) and never runs stale
//! code after an upgrade. Unknown asset paths are the API's 404 problem.

use crate::error::ApiError;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::OnceLock;

/// The Content-Security-Policy of every UI response.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// One embedded file: its path under `/ui/`, media type and content.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// Path under `/ui/` (`js/main.js`); the page itself is `index.html`, served at `/`.
    pub path: &'static str,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The file.
    pub body: &'static str,
}

macro_rules! assets {
    ($($path:literal => $ty:expr),+ $(,)?) => {
        /// Every file of the UI, embedded at compile time from `crates/nrmp-server/ui/`.
        pub const ASSETS: &[Asset] = &[$(Asset {
            path: $path,
            content_type: $ty,
            body: include_str!(concat!("../ui/", $path)),
        }),+];
    };
}

const JS: &str = "text/javascript; charset=utf-8";

assets!(
    "index.html" => "text/html; charset=utf-8",
    "app.css" => "text/css; charset=utf-8",
    "js/main.js" => JS,
    "js/api.js" => JS,
    "js/dom.js" => JS,
    "js/format.js" => JS,
    "js/signin.js" => JS,
    "js/check.js" => JS,
    "js/incidents.js" => JS,
    "js/person.js" => JS,
    "js/report.js" => JS,
    "js/stats.js" => JS,
);

/// The UI's routes (no state of their own), to merge beside the API's.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/ui/{*path}", get(asset))
}

/// The asset at `path` under `/ui/`, if there is one.
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// Strong validators, one per asset (FNV-1a over the content), computed once.
fn etag(asset: &Asset) -> &'static str {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let mut h: u64 = 0xcbf2_9ce4_8422_2325;
                for b in a.body.bytes() {
                    h ^= u64::from(b);
                    h = h.wrapping_mul(0x0100_0000_01b3);
                }
                format!("\"{h:016x}\"")
            })
            .collect()
    });
    ASSETS
        .iter()
        .position(|a| a.path == asset.path)
        .and_then(|i| tags.get(i))
        .map_or("\"\"", String::as_str)
}

/// Adds the security headers every UI response carries.
fn secure(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

fn serve(asset: &'static Asset, request: &HeaderMap) -> Response {
    let tag = etag(asset);
    let matches = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut res = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response()
    };
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(tag) {
        h.insert(header::ETAG, v);
    }
    secure(res)
}

/// `GET /`: the page.
async fn index(headers: HeaderMap) -> Response {
    match find("index.html") {
        Some(a) => serve(a, &headers),
        None => ApiError::not_found("resource").into_response(),
    }
}

/// `GET /ui/{path}`: an asset; anything else is a 404 problem.
async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    match find(&path) {
        Some(a) if a.path != "index.html" => serve(a, &headers),
        _ => secure(ApiError::not_found("resource").into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_distinct_validator() {
        let mut tags: Vec<&str> = ASSETS.iter().map(etag).collect();
        assert!(tags.iter().all(|t| t.len() == 18 && t.starts_with('"')));
        tags.sort_unstable();
        tags.dedup();
        assert_eq!(tags.len(), ASSETS.len());
    }

    #[test]
    fn the_page_loads_only_its_own_module_and_no_inline_script() {
        let page = find("index.html").map(|a| a.body).unwrap_or_default();
        assert!(page.contains(r#"<script type="module" src="/ui/js/main.js"></script>"#));
        assert_eq!(
            page.matches("<script").count(),
            1,
            "one script, no inline code"
        );
        for handler in [
            "onclick=",
            "onload=",
            "onsubmit=",
            "onerror=",
            "javascript:",
        ] {
            assert!(!page.contains(handler), "no inline handler {handler}");
        }
    }
}
