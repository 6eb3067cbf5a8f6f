//! The accounts API under `/api/v1`: sign-in and sign-out, API tokens, user administration.
//!
//! | method and path | what | who |
//! |---|---|---|
//! | `POST /api/v1/session` | sign in: `{username, password, totp?}` → `{token, …}` and the `nrmp_session` cookie | anyone |
//! | `DELETE /api/v1/session` | sign out | a session |
//! | `GET /api/v1/tokens` | the caller's API tokens (`?org=` an organisation's, for its administrators) | signed in |
//! | `POST /api/v1/tokens` | issue an API token: `{name, scopes?, expires_at?, user?}` → the secret, once | a session (not a token) |
//! | `DELETE /api/v1/tokens/{id}` | revoke | its owner, or its organisation's administrators |
//! | `GET /api/v1/users` | list users (`?org=`, default the caller's) | administrators |
//! | `POST /api/v1/users` | add a user: `{username, org?, roles, clients?, password}` | administrators |
//! | `GET /api/v1/users/{id}` | one user | administrators |
//! | `PATCH /api/v1/users/{id}` | `{disabled?, roles?, clients?, password?, reset_totp?, unlock?}` | administrators |
//! | `PUT /api/v1/users/me/password` | `{current_password, new_password}`: change one's own password; every session ends | a session |
//!
//! These routes authenticate their callers themselves (an `Authorization: Bearer` header or the
//! `nrmp_session` cookie) through [`Accounts`]. Request bodies are JSON objects; unknown
//! fields are refused. Every error is an RFC 9457 problem (`application/problem+json`) and bad
//! input lists each field with its problem. Responses carrying a secret are `no-store`.

use super::{AccountError, Accounts, Caller, NewUser, UserUpdate};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ClientAddr, SESSION_COOKIE, credential};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nrmp_domain::FieldError;
use nrmp_domain::account::{SecretKind, TokenId, UserId};
use nrmp_domain::error::Collector;
use nrmp_domain::organisation::OrgCode;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The accounts routes with their OpenAPI description, each declared once.
pub(crate) fn table() -> OpenApiRouter<Arc<Accounts>> {
    OpenApiRouter::new()
        .routes(routes!(sign_in, sign_out))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(list_users, add_user))
        .routes(routes!(change_password))
        .routes(routes!(get_user, update_user))
}

/// The accounts routes, with their state applied: merge them into the server's router.
pub fn routes(accounts: Arc<Accounts>) -> Router {
    table().split_for_parts().0.with_state(accounts)
}

type Shared = State<Arc<Accounts>>;

async fn caller(accounts: &Accounts, headers: &HeaderMap) -> ApiResult<(Caller, String)> {
    let cred = credential(headers).ok_or(AccountError::Unauthenticated(
        crate::auth::AuthError::Missing,
    ))?;
    // a credential that could not be checked (the database is away) is a 503, not a 401
    let c = accounts
        .resolve(&cred)
        .await
        .map_err(AccountError::Unauthenticated)?;
    Ok((c, cred))
}

fn session_cookie(accounts: &Accounts, value: &str, clear: bool) -> HeaderValue {
    let mut c = format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict");
    if clear {
        c.push_str("; Max-Age=0");
    }
    if accounts.settings().secure_cookie {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c)
        .unwrap_or_else(|_| HeaderValue::from_static("nrmp_session=; Max-Age=0"))
}

fn json_response(status: StatusCode, body: &Value, no_store: bool) -> Response {
    let mut res = (status, axum::Json(body)).into_response();
    if no_store {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

fn to_value<T: serde::Serialize>(v: &T) -> ApiResult<Value> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))
}

/// A JSON object request body, read field by field so that every error names its field.
struct Body(Map<String, Value>);

impl Body {
    fn parse(headers: &HeaderMap, bytes: &Bytes, allowed: &[&str]) -> ApiResult<Self> {
        let is_json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || m.ends_with("+json")
            });
        if !is_json {
            return Err(AccountError::invalid(
                "body",
                "send a JSON object with `Content-Type: application/json`",
            )
            .into());
        }
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| AccountError::invalid("body", format!("is not valid JSON: {e}")))?;
        let Value::Object(map) = v else {
            return Err(AccountError::invalid("body", "is not a JSON object").into());
        };
        let mut c = Collector::new();
        for k in map.keys() {
            if !allowed.contains(&k.as_str()) {
                c.push(
                    k.clone(),
                    format!("is not a field here (expected: {})", allowed.join(", ")),
                );
            }
        }
        c.finish(|| Some(()))?;
        Ok(Self(map))
    }

    fn string(&self, field: &str) -> Result<Option<String>, FieldError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(FieldError::new(field, "must be a string")),
        }
    }

    fn required(&self, field: &str) -> Result<String, FieldError> {
        self.string(field)?
            .ok_or_else(|| FieldError::new(field, "is required"))
    }

    fn strings(&self, field: &str) -> Result<Option<Vec<String>>, FieldError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(FieldError::new(format!("{field}[{i}]"), "must be a string")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(FieldError::new(field, "must be an array of strings")),
        }
    }

    fn bool(&self, field: &str) -> Result<Option<bool>, FieldError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(FieldError::new(field, "must be true or false")),
        }
    }
}

fn reason(c: &mut Collector, body: &Body, default: &str) -> String {
    c.take(body.string("reason"))
        .flatten()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn org_param(q: &HashMap<String, String>) -> Result<Option<OrgCode>, AccountError> {
    q.get("org")
        .map(|o| OrgCode::parse("org", o))
        .transpose()
        .map_err(AccountError::from)
}

/// `POST /api/v1/session`: signs in and starts a session.
#[utoipa::path(
    post,
    path = "/api/v1/session",
    tag = "accounts",
    request_body(content = Object, content_type = "application/json", description = "a JSON object `{username, password, totp?}`: `username` and `password` (strings) are required; `totp` is the current six-digit code from the authenticator app, required when the user has a second factor. Unknown fields are refused."),
    responses(
        (status = 201, description = "signed in: `{token, token_type: \"Bearer\", expires_at, idle_timeout_seconds, user}` where `user` is a user: `{id, username, org, org_kind, roles, clients, disabled, locked_until, totp_enrolled, totp_required, created_at, updated_at}` (no secrets); also sets the `nrmp_session` cookie (HttpOnly, SameSite=Strict). `token` is the session secret, SECRET SHOWN ONCE (the response is `Cache-Control: no-store`); only its hash is kept", body = Object),
        (status = 401, description = "sign-in refused: wrong user name, password or code, or a disabled account; deliberately says nothing about which (problem+json)", content_type = "application/problem+json"),
        (status = 413, description = "the body is larger than the configured limit (problem+json)", content_type = "application/problem+json"),
        (status = 429, description = "too many failed sign-ins for this user name or from this address: nothing was checked; `Retry-After` says when to try again (problem+json)", content_type = "application/problem+json"),
        (status = 503, description = "too many sign-ins are waiting for a password check, or the database cannot be reached; `Retry-After` says when to try again (problem+json)", content_type = "application/problem+json"),
        (status = 422, description = "invalid input; `errors` lists each field with its problem, e.g. a body that is not a JSON object or names an unknown field (problem+json)", content_type = "application/problem+json"),
        (status = 500, description = "the accounts store failed; the detail is logged, not shown (problem+json)", content_type = "application/problem+json"),
    )
)]
async fn sign_in(
    State(a): Shared,
    ClientAddr(from): ClientAddr,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let body = Body::parse(&headers, &bytes, &["username", "password", "totp"])?;
    let mut c = Collector::new();
    let username = c.take(body.required("username"));
    let password = c.take(body.required("password"));
    let totp = c.take(body.string("totp")).flatten();
    let (username, password) = c.finish(|| Some((username?, password?)))?;
    let via = from.map_or_else(|| "http".to_owned(), |ip| format!("http {ip}"));
    let signed = a
        .sign_in_from(&username, &password, totp.as_deref(), &via, from)
        .await?;
    let policy = a.settings().policy;
    let body = json!({
        "token": signed.token.expose(),
        "token_type": "Bearer",
        "expires_at": signed.expires_at,
        "idle_timeout_seconds": policy.idle_timeout.num_seconds(),
        "user": to_value(&signed.user)?,
    });
    let mut res = json_response(StatusCode::CREATED, &body, true);
    res.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&a, signed.token.expose(), false),
    );
    Ok(res)
}

/// `DELETE /api/v1/session`: ends the caller's session (the bearer token or `nrmp_session` cookie presented).
#[utoipa::path(
    delete,
    path = "/api/v1/session",
    tag = "accounts",
    responses(
        (status = 204, description = "signed out; the `nrmp_session` cookie is cleared"),
        (status = 401, description = "no usable credential: send `Authorization: Bearer <token>` or the `nrmp_session` cookie (problem+json)", content_type = "application/problem+json"),
        (status = 500, description = "the accounts store failed; the detail is logged, not shown (problem+json)", content_type = "application/problem+json"),
    )
)]
async fn sign_out(State(a): Shared, headers: HeaderMap) -> ApiResult<Response> {
    let cred = credential(&headers).ok_or(AccountError::Unauthenticated(
        crate::auth::AuthError::Missing,
    ))?;
    a.sign_out(&cred).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&a, "", true));
    Ok(res)
}

/// `GET /api/v1/tokens`: the API tokens of the caller, or of an organisation for its administrators.
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    tag = "accounts",
    params(("org" = Option<String>, Query, description = "an organisation code, e.g. `la:kent`; other than the caller's own only for administrators with that reach")),
    responses(
        (status = 200, description = "an array of API tokens, each `{id, name, user, org, scopes, created_at, expires_at, revoked_at}` (no secret)", body = Object),
        (status = 401, description = "no usable credential: send `Authorization: Bearer <token>` or the `nrmp_session` cookie (problem+json)", content_type = "application/problem+json"),
        (status = 403, description = "the caller's roles may not do this (problem+json)", content_type = "application/problem+json"),
        (status = 404, description = "no such organisation, or one the caller may not know exists (problem+json)", content_type = "application/problem+json"),
        (status = 422, description = "invalid input; `errors` lists each field with its problem, e.g. a body that is not a JSON object or names an unknown field (problem+json)", content_type = "application/problem+json"),
        (status = 500, description = "the accounts store failed; the detail is logged, not shown (problem+json)", content_type = "application/problem+json"),
    )
)]
async fn list_tokens(
    State(a): Shared,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let (who, _) = caller(&a, &headers).await?;
    let org = org_param(&q)?;
    let tokens = a.list_tokens(&who.principal, org.as_ref()).await?;
    Ok(json_response(StatusCode::OK, &to_value(&tokens)?, false))
}

/// `POST /api/v1/tokens`: issues an API token; only from a signed-in session (an API token cannot issue tokens).
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "accounts",
    request_body(content = Object, content_type = "application/json", description = "a JSON object `{name, scopes?, expires_at?, user?, reason?}`: `name` (string, required) says what uses the token; `scopes` (array of role names) limits the roles it may act with (default: all of the owner's); `expires_at` (RFC 3339 time) when it stops working (default: never); `user` (user id) issues it for another user of the administrator's organisation (default: the caller); `reason` (string) is recorded in the audit log. Unknown fields are refused."),
    responses(
        (status = 201, description = "issued: the token's record `{id, name, user, org, scopes, created_at, expires_at, revoked_at}` (no secret) plus `token`, the secret to give to the system that will use it: SECRET SHOWN ONCE (the response is `Cache-Control: no-store`); only its hash is kept", body = Object),
        (status = 401, description = "no usable credential: send `Authorization: Bearer <token>` or the `nrmp_session` cookie (problem+json)", content_type = "application/problem+json"),
        (status = 403, description = "the caller signed in with an API token, or may not issue tokens for that user or with those scopes (problem+json)", content_type = "application/problem+json"),
        (status = 404, description = "no such user, or one the caller may not know exists (problem+json)", content_type = "application/problem+json"),
        (status = 422, description = "invalid input; `errors` lists each field with its problem, e.g. a body that is not a JSON object or names an unknown field (problem+json)", content_type = "application/problem+json"),
        (status = 500, description = "the accounts store failed; the detail is logged, not shown (problem+json)", content_type = "application/problem+json"),
    )
)]
async fn create_token(State(a): Shared, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let (who, _) = caller(&a, &headers).await?;
    if who.kind != SecretKind::Session {
        return Err(ApiError::NotAllowed(
            "an API token cannot issue tokens; sign in to issue one".into(),
        ));
    }
    let body = Body::parse(
        &headers,
        &bytes,
        &["name", "scopes", "expires_at", "user", "reason"],
    )?;
    let mut c = Collector::new();
    let name = c.take(body.required("name"));
    let scopes = c.take(body.strings("scopes")).flatten().unwrap_or_default();
    let expires_at = c.take(body.string("expires_at")).flatten().and_then(|s| {
        c.take(
            chrono::DateTime::parse_from_rfc3339(s.trim())
                .map(|t| t.to_utc())
                .map_err(|_| {
                    FieldError::new("expires_at", format!("`{s}` is not an RFC 3339 time"))
                }),
        )
    });
    let user = c
        .take(body.string("user"))
        .flatten()
        .and_then(|s| c.take(UserId::parse("user", &s)));
    let why = reason(&mut c, &body, "API token requested");
    let name = c.finish(|| name)?;
    let issued = a
        .create_token(&who.principal, &why, user, &name, &scopes, expires_at)
        .await?;
    let mut out = to_value(&issued.token)?;
    if let Value::Object(m) = &mut out {
        m.insert(
            "token".into(),
            Value::String(issued.secret.expose().to_owned()),
        );
    }
    Ok(json_response(StatusCode::CREATED, &out, true))
}

/// `DELETE /api/v1/tokens/{id}`: revokes an API token (by its owner, or its organisation's administrators).
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    tag = "accounts",
    params(("id" = String, Path, description = "API token id (UUID)")),
    responses(
        (status = 200, description = "revoked: the token's record `{id, name, user, org, scopes, created_at, expires_at, revoked_at}` (no secret), with `revoked_at` set", body = Object),
        (status = 401, description = "no usable credential: send `Authorization: Bearer <token>` or the `nrmp_session` cookie (problem+json)", content_type = "application/problem+json"),
        (status = 403, description = "the caller's roles may not do this (problem+json)", content_type = "application/problem+json"),
        (status = 404, description = "no such token, or one the caller may not know exists (problem+json)", content_type = "application/problem+json"),
        (status = 422, description = "invalid input; `errors` lists each field with its problem, e.g. a body that is not a JSON object or names an unknown field (problem+json)", content_type = "application/problem+json"),
        (status = 500, description = "the accounts store failed; the detail is logged, not shown (problem+json)", content_type = "application/problem+json"),
    )
)]
async fn revoke_token(
    State(a): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (who, _) = caller(&a, &headers).await?;
    let id = TokenId::parse("id", &id)?;
    let t = a
        .revoke_token(&who.principal, "API token revoked", id)
        .await?;
    Ok(json_response(StatusCode::OK, &to_value(&t)?, false))
}

/// `GET /api/v1/users`: the users of an organisation (default: the caller's); administrators only.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "accounts",
    params(("org" = Option<String>, Query, description = "an organisation code, e.g. `la:kent`; other than the caller's own only for administrators with that reach")),
    responses(
        (status = 200, description = "an array of users, each a user: `{id, username, org, org_kind, roles, clients, disabled, locked_until, totp_enrolled, totp_required, created_at, updated_at}` (no secrets)", body = Object),
        (status = 401, description = "no usable credential: send `Authorization: Bearer <token>` or the `nrmp_session` cookie (problem+json)", content_type = "application/problem+json"),
        (status = 403, description = "the caller's roles may not do this (problem+json)", content_type = "application/problem+json"),
        (status = 404, description = "no such organisation, or one the caller may not know exists (problem+json)", content_type = "application/problem+json"),
        (status = 422, description = "invalid input; `errors` lists each field with its problem, e.g. a body that is not a JSON object or names an unknown field (problem+json)", content_type = "application/problem+json"),
        (status = 500, description = "the accounts store failed; the detail is logged, not shown (problem+json)", content_type = "application/problem+json"),
    )
)]
async fn list_users(
    State(a): Shared,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let (who, _) = caller(&a, &headers).await?;
    let org = org_param(&q)?;
    let users = a.list_users(&who.principal, org.as_ref()).await?;
    Ok(json_response(StatusCode::OK, &to_value(&users)?, false))
}

/// `GET /api/v1/users/{id}`: one user; administrators only.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "accounts",
    params(("id" = String, Path, description = "user id (UUID)")),
    responses(
        (status = 200, description = "a user: `{id, username, org, org_kind, roles, clients, disabled, locked_until, totp_enrolled, totp_required, created_at, updated_at}` (no secrets)", body = Object),
        (status = 401, description = "no usable credential: send `Authorization: Bearer <token>` or the `nrmp_session` cookie (problem+json)", content_type = "application/problem+json"),
        (status = 403, description = "the caller's roles may not do this (problem+json)", content_type = "application/problem+json"),
        (status = 404, description = "no such user, or one the caller may not know exists (problem+json)", content_type = "application/problem+json"),
        (status = 422, description = "invalid input; `errors` lists each field with its problem, e.g. a body that is not a JSON object or names an unknown field (problem+json)", content_type = "application/problem+json"),
        (status = 500, description = "the accounts store failed; the detail is logged, not shown (problem+json)", content_type = "application/problem+json"),
    )
)]
async fn get_user(
    State(a): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (who, _) = caller(&a, &headers).await?;
    let id = UserId::parse("id", &id)?;
    let user = a.get_user(&who.principal, id).await?;
    Ok(json_response(StatusCode::OK, &to_value(&user)?, false))
}

/// `POST /api/v1/users`: adds a user; administrators only.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "accounts",
    request_body(content = Object, content_type = "application/json", description = "a JSON object `{username, org?, roles, clients?, password, reason?}`: `username` (string, required, unique); `org` (organisation code, default: the administrator's); `roles` (array of role names, required); `clients` (array of person ids: an advocate's clients); `password` (string, required, checked against the password policy); `reason` (string) is recorded in the audit log. Unknown fields are refused."),
    responses(
        (status = 201, description = "created: `{user, totp}` where `user` is a user: `{id, username, org, org_kind, roles, clients, disabled, locked_until, totp_enrolled, totp_required, created_at, updated_at}` (no secrets) and `totp` is `{secret, otpauth_uri}` when a second factor was enrolled, else null: SECRET SHOWN ONCE (the response is `Cache-Control: no-store`); hand it to the user, it cannot be read again", body = Object),
        (status = 401, description = "no usable credential: send `Authorization: Bearer <token>` or the `nrmp_session` cookie (problem+json)", content_type = "application/problem+json"),
        (status = 403, description = "the caller's roles may not do this (problem+json)", content_type = "application/problem+json"),
        (status = 409, description = "the user name is taken (problem+json)", content_type = "application/problem+json"),
        (status = 422, description = "invalid input; `errors` lists each field with its problem, e.g. a body that is not a JSON object or names an unknown field (problem+json)", content_type = "application/problem+json"),
        (status = 500, description = "the accounts store failed; the detail is logged, not shown (problem+json)", content_type = "application/problem+json"),
    )
)]
async fn add_user(State(a): Shared, headers: HeaderMap, bytes: Bytes) -> ApiResult<Response> {
    let (who, _) = caller(&a, &headers).await?;
    let body = Body::parse(
        &headers,
        &bytes,
        &["username", "org", "roles", "clients", "password", "reason"],
    )?;
    let mut c = Collector::new();
    let username = c.take(body.required("username"));
    let org = c
        .take(body.string("org"))
        .flatten()
        .unwrap_or_else(|| who.principal.org().to_string());
    let roles = c.take(body.strings("roles")).flatten();
    if roles.is_none() {
        c.push("roles", "is required");
    }
    let clients = c
        .take(body.strings("clients"))
        .flatten()
        .unwrap_or_default();
    let password = c.take(body.required("password"));
    let why = reason(&mut c, &body, "user administration");
    let (username, roles, password) = c.finish(|| Some((username?, roles?, password?)))?;
    let created = a
        .add_user(
            &who.principal,
            &why,
            NewUser {
                username,
                org,
                roles,
                clients,
                password,
            },
        )
        .await?;
    let no_store = created.totp.is_some();
    Ok(json_response(
        StatusCode::CREATED,
        &to_value(&created)?,
        no_store,
    ))
}

/// `PATCH /api/v1/users/{id}`: changes a user; absent fields stay as they are; administrators only.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    tag = "accounts",
    params(("id" = String, Path, description = "user id (UUID)")),
    request_body(content = Object, content_type = "application/json", description = "a JSON object `{disabled?, roles?, clients?, password?, reset_totp?, unlock?, reason?}`: `disabled` (boolean) disables or enables the account (ending its sessions); `roles` (array of role names) and `clients` (array of person ids) replace the current lists; `password` (string) sets a new password and clears a lock-out; `reset_totp` (boolean) enrols a new second factor replacing the old one; `unlock` (boolean) clears a lock-out; `reason` (string) is recorded in the audit log. Unknown fields are refused."),
    responses(
        (status = 200, description = "changed: `{user, totp}` where `user` is a user: `{id, username, org, org_kind, roles, clients, disabled, locked_until, totp_enrolled, totp_required, created_at, updated_at}` (no secrets) and `totp` is `{secret, otpauth_uri}` when a second factor was enrolled, else null: SECRET SHOWN ONCE (the response is `Cache-Control: no-store`); hand it to the user, it cannot be read again", body = Object),
        (status = 401, description = "no usable credential: send `Authorization: Bearer <token>` or the `nrmp_session` cookie (problem+json)", content_type = "application/problem+json"),
        (status = 403, description = "the caller's roles may not do this, or the change is refused (e.g. disabling one's own account) (problem+json)", content_type = "application/problem+json"),
        (status = 404, description = "no such user, or one the caller may not know exists (problem+json)", content_type = "application/problem+json"),
        (status = 422, description = "invalid input; `errors` lists each field with its problem, e.g. a body that is not a JSON object or names an unknown field (problem+json)", content_type = "application/problem+json"),
        (status = 500, description = "the accounts store failed; the detail is logged, not shown (problem+json)", content_type = "application/problem+json"),
    )
)]
async fn update_user(
    State(a): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let (who, _) = caller(&a, &headers).await?;
    let id = UserId::parse("id", &id)?;
    let body = Body::parse(
        &headers,
        &bytes,
        &[
            "disabled",
            "roles",
            "clients",
            "password",
            "reset_totp",
            "unlock",
            "reason",
        ],
    )?;
    let mut c = Collector::new();
    let update = UserUpdate {
        disabled: c.take(body.bool("disabled")).flatten(),
        roles: c.take(body.strings("roles")).flatten(),
        clients: c.take(body.strings("clients")).flatten(),
        password: c.take(body.string("password")).flatten(),
        reset_totp: c.take(body.bool("reset_totp")).flatten().unwrap_or(false),
        unlock: c.take(body.bool("unlock")).flatten().unwrap_or(false),
    };
    let why = reason(&mut c, &body, "user administration");
    c.finish(|| Some(()))?;
    let changed = a.update_user(&who.principal, &why, id, update).await?;
    let no_store = changed.totp.is_some();
    Ok(json_response(
        StatusCode::OK,
        &to_value(&changed)?,
        no_store,
    ))
}

/// `PUT /api/v1/users/me/password`: changes the caller's own password; every session of the user ends.
#[utoipa::path(
    put,
    path = "/api/v1/users/me/password",
    tag = "accounts",
    request_body(content = Object, content_type = "application/json", description = "a JSON object `{current_password, new_password}` (both strings, required; the new one is checked against the password policy). Unknown fields are refused."),
    responses(
        (status = 204, description = "changed; every session of the user ended and the `nrmp_session` cookie is cleared"),
        (status = 401, description = "no usable credential: send `Authorization: Bearer <token>` or the `nrmp_session` cookie (problem+json)", content_type = "application/problem+json"),
        (status = 403, description = "the caller presented an API token: sign in to change one's password (problem+json)", content_type = "application/problem+json"),
        (status = 422, description = "invalid input; `errors` names each field: a wrong `current_password` (which counts towards the lock-out), a `new_password` the policy refuses, a missing field (problem+json)", content_type = "application/problem+json"),
        (status = 500, description = "the accounts store failed; the detail is logged, not shown (problem+json)", content_type = "application/problem+json"),
    )
)]
async fn change_password(
    State(a): Shared,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let (who, _) = caller(&a, &headers).await?;
    let body = Body::parse(&headers, &bytes, &["current_password", "new_password"])?;
    let mut c = Collector::new();
    let current = c.take(body.required("current_password"));
    let new = c.take(body.required("new_password"));
    let (current, new) = c.finish(|| Some((current?, new?)))?;
    a.change_own_password(&who, &current, &new).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&a, "", true));
    Ok(res)
}
