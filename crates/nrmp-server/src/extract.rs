//! Request extractors: who is calling ([`Caller`]), why ([`StatedReason`]), and the body and
//! query parsed into typed input ([`Body`], [`parse_query`]) with every error naming its field.
//!
//! The credential comes from `Authorization: Bearer <credential>` or, failing that, the
//! `nrmp_session` cookie; the [`crate::auth::Authenticator`] in the application state turns it
//! into a [`Principal`]. Anything else is a 401 problem.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use nrmp_app::input::JsonError;
use nrmp_domain::access::Principal;
use serde::de::DeserializeOwned;

/// The cookie a browser session is carried in.
pub const SESSION_COOKIE: &str = "nrmp_session";

/// The header a caller states the reason for a consultation in.
pub const REASON_HEADER: &str = "x-nrmp-reason";

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

/// The credential a request carries: a bearer token, else the session cookie — the cookie only
/// on a request the browser says its own page made (`Sec-Fetch-Site: same-origin`, or `none`
/// for one the user typed), so that a page of another site, or of another port of the same
/// host (same-site, so `SameSite=Strict` lets the cookie through), cannot make the browser read
/// or change records as the user. Clients that send no `Sec-Fetch-Site` (other programs, old
/// browsers) are not affected; they rely on the cookie's `SameSite=Strict`.
pub fn credential(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v.to_str().ok()?.trim();
        let (scheme, token) = v.split_once(' ')?;
        if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
            return Some(token.trim().to_owned());
        }
        return None;
    }
    if let Some(site) = headers.get("sec-fetch-site")
        && !matches!(site.to_str(), Ok("same-origin" | "none"))
    {
        return None;
    }
    // A browser that sends no Sec-Fetch-Site still names the page's origin on writes and
    // cross-origin requests: the cookie counts only when that origin is this host.
    if let Some(origin) = headers.get(header::ORIGIN)
        && !same_origin(origin.to_str().ok(), headers.get(header::HOST))
    {
        return None;
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == SESSION_COOKIE && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let cred = credential(&parts.headers).ok_or(ApiError::Unauthenticated)?;
        match state.authenticator.authenticate(&cred).await {
            Ok(p) => {
                if let Some(notes) = parts
                    .extensions
                    .get::<std::sync::Arc<crate::request_log::RequestNotes>>()
                {
                    notes.caller(p.user(), p.org().as_str());
                }
                Ok(Caller(p))
            }
            Err(crate::auth::AuthError::Unavailable(e)) => Err(ApiError::Unavailable(e)),
            Err(_) => Err(ApiError::Unauthenticated),
        }
    }
}

/// True if `origin` (`scheme://host[:port]`) names the host the request was sent to.
fn same_origin(origin: Option<&str>, host: Option<&axum::http::HeaderValue>) -> bool {
    let (Some(origin), Some(host)) = (origin, host.and_then(|h| h.to_str().ok())) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

/// The client's address: the peer of the TCP connection (set by [`crate::transport`]); none
/// when the router is driven without a listener (tests). Behind a reverse proxy this is the
/// proxy's address.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// The reason stated in the `X-NRMP-Reason` header, if any (UTF-8; blank counts as none).
/// Handlers whose body has a `reason` field use that when the header is absent.
#[derive(Debug, Clone, Default)]
pub struct StatedReason(pub Option<String>);

impl StatedReason {
    /// The header's reason, else `fallback` (a body field).
    pub fn or(self, fallback: Option<String>) -> Option<String> {
        self.0
            .or(fallback)
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for StatedReason {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match parts.headers.get(REASON_HEADER) {
            None => Ok(Self(None)),
            Some(v) => {
                let s = std::str::from_utf8(v.as_bytes()).map_err(|_| {
                    ApiError::invalid("reason", "the X-NRMP-Reason header is not UTF-8")
                })?;
                let s = s.trim();
                Ok(Self((!s.is_empty()).then(|| s.to_owned())))
            }
        }
    }
}

/// A JSON body parsed into `T`; a field that fails to parse is named by its path
/// (`names[0].family`), the body size is bounded by the body limit.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let v = v.split(';').next().unwrap_or("").trim();
                v == "application/json" || v.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::Malformed(
                "send the body as JSON with Content-Type: application/json".into(),
            ));
        }
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .map_or(256 * 1024, |l| l.0);
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::TooLarge(limit)
                } else {
                    ApiError::Malformed(format!("the body could not be read: {e}"))
                }
            })?;
        parse_json(&bytes).map(Body)
    }
}

/// The configured body limit, put in each request's extensions so errors can state it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Parses JSON into `T`, naming the failing field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    nrmp_app::input::parse_json(bytes).map_err(|e| match e {
        JsonError::Syntax(m) => ApiError::Malformed(m),
        JsonError::Field(f) => ApiError::Invalid(vec![f]),
    })
}

/// Parses a query string into `T` (a struct of optional strings with `deny_unknown_fields`),
/// naming an unknown parameter.
pub fn parse_query<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|e| ApiError::invalid("query", e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bearer_then_cookie() {
        let mut h = HeaderMap::new();
        assert_eq!(credential(&h), None);
        h.insert(header::COOKIE, "a=b; nrmp_session=s3ss".parse().unwrap());
        assert_eq!(credential(&h).as_deref(), Some("s3ss"));
        h.insert(header::AUTHORIZATION, "Bearer tok".parse().unwrap());
        assert_eq!(credential(&h).as_deref(), Some("tok"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(credential(&h), None);
    }

    /// The hole: a cookie-authenticated write with `Origin: http://evil.example` and no
    /// `Sec-Fetch-Site` was accepted. The cookie now counts only from the register's own origin.
    #[test]
    fn cookie_from_another_origin_is_no_credential() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "nrmp_session=s3ss".parse().unwrap());
        h.insert(header::HOST, "register.example:8080".parse().unwrap());
        h.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert_eq!(credential(&h), None);
        h.insert(
            header::ORIGIN,
            "https://register.example:8080".parse().unwrap(),
        );
        assert_eq!(credential(&h).as_deref(), Some("s3ss"));
        h.insert(header::ORIGIN, "null".parse().unwrap());
        assert_eq!(credential(&h), None);
        // a bearer token is not sent by browsers on their own: the origin does not matter
        h.insert(header::AUTHORIZATION, "Bearer tok".parse().unwrap());
        assert_eq!(credential(&h).as_deref(), Some("tok"));
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        grade: nrmp_domain::incident::RiskGrade,
    }

    #[test]
    fn json_errors_name_the_field() {
        match parse_json::<Vec<Inner>>(br#"[{"grade":"high"},{"grade":"severe"}]"#) {
            Err(ApiError::Invalid(e)) => {
                assert_eq!(e[0].field, "[1].grade");
                assert!(e[0].problem.contains("severe"), "{}", e[0].problem);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_json::<Inner>(b"{not json"),
            Err(ApiError::Malformed(_))
        ));
    }
}
