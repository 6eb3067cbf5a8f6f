//! Sign-in in front of the API, end to end: the accounts service is the authenticator, a user
//! signs in with password and second factor, uses the session on the case API, and loses it on
//! sign-out or after 30 minutes idle.

use crate::helpers::{PASSWORD, add_kent_coordinator, person_body, spawn_app_with_accounts};
use nrmp_domain::audit::AuditAction;
use nrmp_domain::clock::Clock;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn a_signed_in_user_reaches_the_case_api_until_sign_out_or_idle(
    backend: nrmp_store::Backend,
) {
    let (app, accounts, clock) = spawn_app_with_accounts(backend).await;
    let secret = add_kent_coordinator(&accounts, "coord.kent").await;
    let sign_in = |code: Option<String>| {
        let mut body = json!({"username": "coord.kent", "password": PASSWORD});
        if let Some(c) = code {
            body["totp"] = json!(c);
        }
        app.call(Method::POST, "/api/v1/session", None, None, Some(body))
    };

    // The case API refuses a caller without a credential, and a password without the code.
    let r = app
        .call(
            Method::GET,
            "/api/v1/incidents?open=true",
            None,
            Some("check"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert!(
        r.content_type.starts_with("application/problem+json"),
        "{r:?}"
    );
    let r = sign_in(None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");

    // Password and code: a session that the case API accepts.
    let r = sign_in(Some(secret.code_at(clock.now()))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let token = r.body["token"].as_str().unwrap().to_owned();
    let r = app
        .post(
            "/api/v1/persons",
            &token,
            None,
            person_body("Thi Lan", "Nguyen"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let r = app
        .get(
            "/api/v1/incidents?open=true",
            &token,
            Some("morning review"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    // 29 minutes idle is fine; the use renews the session; 31 minutes idle ends it.
    clock.advance(chrono::Duration::minutes(29));
    let r = app.get("/api/v1/organisations", &token, None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    clock.advance(chrono::Duration::minutes(31));
    let r = app.get("/api/v1/organisations", &token, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");

    // A new session (a fresh code step, as codes cannot be replayed) ends at sign-out.
    clock.advance(chrono::Duration::seconds(30));
    let r = sign_in(Some(secret.code_at(clock.now()))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let token = r.body["token"].as_str().unwrap().to_owned();
    let r = app.get("/api/v1/organisations", &token, None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = app
        .call(Method::DELETE, "/api/v1/session", Some(&token), None, None)
        .await;
    assert!(r.status.is_success(), "{r:?}");
    let r = app.get("/api/v1/organisations", &token, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");

    // The audit log names the user for the sign-ins, the failure, the work and the sign-out.
    let events = app.audit().await;
    let by_user = |a: AuditAction| {
        events
            .iter()
            .filter(|e| e.actor.user == "coord.kent" && e.action == a)
            .count()
    };
    assert_eq!(by_user(AuditAction::SignIn), 2);
    assert_eq!(by_user(AuditAction::SignInFailed), 1);
    assert_eq!(by_user(AuditAction::Create), 1);
    assert!(by_user(AuditAction::Search) >= 1);
    assert!(by_user(AuditAction::SignOut) >= 1);
    app.stop().await;
}

crate::on_both!(a_signed_in_user_reaches_the_case_api_until_sign_out_or_idle);
