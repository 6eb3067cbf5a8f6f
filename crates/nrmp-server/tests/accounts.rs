//! The accounts service and its HTTP routes, on SQLite and PostgreSQL: sign-in outcomes and
//! their audit events, lock-out, idle sessions, API tokens, user administration, and the
//! sign-in → use → sign-out flow over HTTP (driven with `tower::ServiceExt::oneshot`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, TimeZone, Utc};
use nrmp_domain::access::{DenyReason, Principal, Role};
use nrmp_domain::account::{AccountPolicy, HashParams, TotpSecret, UserId};
use nrmp_domain::audit::{AuditAction, AuditEvent};
use nrmp_domain::clock::{Clock, FixedClock};
use nrmp_domain::organisation::{OrgCode, OrgKind, Organisation};
use nrmp_server::accounts::{
    AccountError, AccountSettings, Accounts, NewUser, UserUpdate, create_demo_users, routes,
};
use nrmp_server::auth::{AuthError, Authenticator};
use nrmp_store::prelude::*;
use nrmp_store::test_support::{TestDb, actor};
use nrmp_store::{Backend, Ctx};
use rand::SeedableRng;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

const PASSWORD: &str = "plum orchard 42";

fn code(s: &str) -> OrgCode {
    OrgCode::parse("org", s).unwrap()
}

struct Env {
    db: TestDb,
    clock: Arc<FixedClock>,
    accounts: Arc<Accounts>,
    /// A national administrator acting from the command line.
    root: Principal,
}

impl Env {
    fn store(&self) -> &dyn Store {
        self.db.store.as_ref()
    }

    async fn events(&self) -> Vec<AuditEvent> {
        self.store().audit_events(0, 10_000).await.unwrap()
    }

    async fn actions(&self) -> Vec<AuditAction> {
        self.events().await.iter().map(|e| e.action).collect()
    }

    /// Adds a user; returns their id and second-factor secret (if any).
    async fn add(&self, name: &str, org: &str, roles: &[&str]) -> (UserId, Option<TotpSecret>) {
        let created = self
            .accounts
            .add_user(
                &self.root,
                "test",
                NewUser {
                    username: name.into(),
                    org: org.into(),
                    roles: roles.iter().map(|r| (*r).to_owned()).collect(),
                    clients: vec![],
                    password: PASSWORD.into(),
                },
            )
            .await
            .unwrap();
        let totp = created
            .totp
            .map(|t| TotpSecret::from_base32("totp", &t.secret).unwrap());
        (created.user.id, totp)
    }

    fn code(&self, secret: &TotpSecret) -> String {
        secret.code_at(self.clock.now())
    }
}

async fn env(backend: Backend) -> Env {
    let db = TestDb::new(backend).await.unwrap();
    let org = |c: &str, kind| Organisation {
        code: code(c),
        kind,
        name: format!("{c} (test)"),
        country: "England".into(),
        region: None,
        police_force: None,
    };
    db.store
        .put_organisations(
            &Ctx::new(actor("setup", "national:nmpu"), "test", start()),
            &[
                org("force:kent", OrgKind::PoliceForce),
                org("force:essex", OrgKind::PoliceForce),
                org("la:kent", OrgKind::LocalAuthority),
                org("national:nmpu", OrgKind::NationalUnit),
                org("advocacy:ictg-1", OrgKind::AdvocacyService),
            ],
        )
        .await
        .unwrap();
    let clock = Arc::new(FixedClock::new(start()));
    let settings = AccountSettings {
        policy: AccountPolicy {
            hash: HashParams::FAST_INSECURE_FOR_TESTS,
            ..AccountPolicy::default()
        },
        secure_cookie: true,
        ..AccountSettings::default()
    };
    let store: Arc<dyn Store> = db.store.clone();
    let accounts = Arc::new(
        Accounts::with_rng(
            store,
            clock.clone(),
            settings,
            Box::new(rand::rngs::StdRng::seed_from_u64(42)),
        )
        .unwrap(),
    );
    let root = Principal::new(
        "root",
        code("national:nmpu"),
        OrgKind::NationalUnit,
        vec![Role::Administrator],
        vec![],
    )
    .unwrap();
    Env {
        db,
        clock,
        accounts,
        root,
    }
}

/// The fixed time every test starts at.
fn start() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 9, 0, 0).unwrap()
}

nrmp_store::on_both_backends!(
    every_sign_in_outcome_is_audited_and_looks_the_same_to_the_caller,
    throttle_after_five_failures_refuses_unchecked_with_growing_waits,
    sessions_end_after_thirty_idle_minutes,
    api_tokens_are_scoped_revocable_and_expire,
    disabled_users_are_refused_everywhere,
    administrators_manage_only_their_own_organisation,
    new_roles_that_read_personal_data_enrol_a_second_factor_and_end_sessions,
    demo_users_can_sign_in,
    http_sign_in_use_sign_out_then_refused,
    http_errors_are_problem_details_naming_the_field,
    http_user_administration,
    http_users_change_their_own_password,
);

async fn every_sign_in_outcome_is_audited_and_looks_the_same_to_the_caller(backend: Backend) {
    let e = env(backend).await;
    let (_, totp) = e.add("kent.handler", "force:kent", &["call_handler"]).await;
    let totp = totp.expect("a call handler needs a second factor");
    let (r_id, none) = e
        .add("nmpu.researcher", "national:nmpu", &["researcher"])
        .await;
    assert!(none.is_none(), "a researcher needs no second factor");
    let before = e.events().await.len();
    let a = &e.accounts;

    let attempts: Vec<(&str, &str, Option<String>, &str)> = vec![
        ("nobody", PASSWORD, None, "unknown user"),
        (
            "kent.handler",
            "wrong password!",
            Some(e.code(&totp)),
            "wrong password",
        ),
        ("kent.handler", PASSWORD, None, "second factor missing"),
        (
            "kent.handler",
            PASSWORD,
            Some("000000".into()),
            "wrong second factor",
        ),
    ];
    for (user, pw, code, expected) in &attempts {
        if expected.contains("wrong second") && e.code(&totp) == "000000" {
            continue; // one chance in a million that 000000 is right
        }
        let err = a
            .sign_in(user, pw, code.as_deref(), "test")
            .await
            .unwrap_err();
        assert!(matches!(err, AccountError::SignInFailed), "{user}: {err}");
        let last = e.events().await.pop().unwrap();
        assert_eq!(last.action, AuditAction::SignInFailed, "{user}");
        assert!(last.detail.starts_with(expected), "{user}: {}", last.detail);
        assert_eq!(last.actor.user, *user);
    }
    // success
    let ok = a
        .sign_in("kent.handler", PASSWORD, Some(&e.code(&totp)), "test")
        .await
        .unwrap();
    assert!(ok.token.expose().starts_with("nrmp_s_"));
    assert_eq!(ok.principal.roles(), [Role::CallHandler]);
    let last = e.events().await.pop().unwrap();
    assert_eq!(last.action, AuditAction::SignIn);
    assert_eq!(last.actor.org.as_str(), "force:kent");
    // the same code again, seconds later: a replay
    e.clock.advance(Duration::seconds(2));
    let err = a
        .sign_in("kent.handler", PASSWORD, Some(&e.code(&totp)), "test")
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::SignInFailed));
    let last = e.events().await.pop().unwrap();
    assert!(
        last.detail.starts_with("second factor code replayed"),
        "{last:?}"
    );
    // a password alone is enough for a researcher
    a.sign_in("nmpu.researcher", PASSWORD, None, "test")
        .await
        .unwrap();
    let last = e.events().await.pop().unwrap();
    assert_eq!(last.action, AuditAction::SignIn);
    assert_eq!(last.record_ids, [r_id.to_string()]);
    assert_eq!(e.events().await.len(), before + attempts.len() + 3);
    e.db.cleanup().await;
}

async fn throttle_after_five_failures_refuses_unchecked_with_growing_waits(backend: Backend) {
    let e = env(backend).await;
    let (id, totp) = e.add("kent.handler", "force:kent", &["call_handler"]).await;
    let totp = totp.unwrap();
    let a = &e.accounts;
    for _ in 0..4 {
        assert!(matches!(
            a.sign_in("kent.handler", "not it at all", None, "t").await,
            Err(AccountError::SignInFailed)
        ));
        e.clock.advance(Duration::seconds(30));
    }
    assert!(!e.actions().await.contains(&AuditAction::LockOut));
    assert!(
        a.sign_in("kent.handler", "not it at all", None, "t")
            .await
            .is_err()
    );
    let throttled_at = e.clock.now();
    let tail = e.events().await;
    let n = tail.len();
    assert_eq!(tail[n - 2].action, AuditAction::SignInFailed);
    assert_eq!(tail[n - 1].action, AuditAction::LockOut);
    assert!(
        tail[n - 1].detail.contains("throttled for 30 s"),
        "{}",
        tail[n - 1].detail
    );
    assert_eq!(
        e.store().user(id).await.unwrap().locked_until,
        Some(throttled_at + Duration::seconds(30))
    );
    // the right password and code are refused unchecked while it waits, and nothing is written
    e.clock.set(throttled_at + Duration::seconds(20));
    let err = a
        .sign_in("kent.handler", PASSWORD, Some(&e.code(&totp)), "t")
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::Throttled(10)), "{err:?}");
    assert_eq!(e.events().await.len(), n);
    // once the wait is over, another failure makes it twice as long
    e.clock.set(throttled_at + Duration::seconds(30));
    assert!(
        a.sign_in("kent.handler", "not it at all", None, "t")
            .await
            .is_err()
    );
    assert_eq!(
        e.store().user(id).await.unwrap().locked_until,
        Some(throttled_at + Duration::seconds(90))
    );
    e.clock.set(throttled_at + Duration::seconds(90));
    a.sign_in("kent.handler", PASSWORD, Some(&e.code(&totp)), "t")
        .await
        .unwrap();
    let after = e.store().user(id).await.unwrap();
    assert_eq!((after.failed_attempts, after.locked_until), (0, None));
    // a user name without an account is throttled exactly alike: a 429 tells nothing
    for _ in 0..5 {
        assert!(matches!(
            a.sign_in("no.such.user", "not it at all", None, "t").await,
            Err(AccountError::SignInFailed)
        ));
    }
    assert!(matches!(
        a.sign_in("No.Such.User", "not it at all", None, "t").await,
        Err(AccountError::Throttled(30))
    ));
    e.db.cleanup().await;
}

async fn sessions_end_after_thirty_idle_minutes(backend: Backend) {
    let e = env(backend).await;
    e.add("nmpu.researcher", "national:nmpu", &["researcher"])
        .await;
    let a = &e.accounts;
    let s = a
        .sign_in("nmpu.researcher", PASSWORD, None, "t")
        .await
        .unwrap();
    let token = s.token.expose().to_owned();
    // used after 29 minutes: still good, and the idle timer starts again
    e.clock.advance(Duration::minutes(29));
    let p = a.authenticate(&token).await.unwrap();
    assert_eq!(p.user(), "nmpu.researcher");
    e.clock.advance(Duration::minutes(29));
    a.authenticate(&token).await.unwrap();
    // then 30 idle minutes: expired, and the end is audited
    e.clock.advance(Duration::minutes(30));
    assert_eq!(
        a.authenticate(&token).await.unwrap_err(),
        AuthError::Expired
    );
    let last = e.events().await.pop().unwrap();
    assert_eq!(last.action, AuditAction::SignOut);
    assert!(last.detail.contains("idle"), "{}", last.detail);
    // and it stays refused
    assert_eq!(
        a.authenticate(&token).await.unwrap_err(),
        AuthError::Invalid
    );
    assert_eq!(
        a.authenticate("nrmp_s_madeup").await.unwrap_err(),
        AuthError::Invalid
    );
    assert_eq!(a.authenticate("").await.unwrap_err(), AuthError::Missing);
    e.db.cleanup().await;
}

async fn api_tokens_are_scoped_revocable_and_expire(backend: Backend) {
    let e = env(backend).await;
    let (id, _) = e
        .add(
            "nmpu.feed",
            "national:nmpu",
            &["researcher", "administrator"],
        )
        .await;
    let a = &e.accounts;
    let owner = a
        .sign_in("nmpu.feed", PASSWORD, None, "t")
        .await
        .unwrap()
        .principal;
    // scoped to research only
    let issued = a
        .create_token(
            &owner,
            "stats feed",
            None,
            "stats feed",
            &["researcher".into()],
            None,
        )
        .await
        .unwrap();
    let secret = issued.secret.expose().to_owned();
    assert!(secret.starts_with("nrmp_t_"));
    let p = a.authenticate(&secret).await.unwrap();
    assert_eq!(p.roles(), [Role::Researcher]);
    // stored only as a hash
    let stored = e.store().token(issued.token.id).await.unwrap();
    assert_ne!(stored.hash.as_str(), secret);
    assert!(!stored.hash.as_str().contains(&secret[7..]));
    assert_eq!(e.actions().await.pop(), Some(AuditAction::TokenIssued));
    // a scope the owner does not hold is refused, naming the field
    let err = a
        .create_token(
            &owner,
            "x",
            None,
            "feed",
            &["national_analyst".into()],
            None,
        )
        .await
        .unwrap_err();
    let AccountError::Invalid(v) = err else {
        panic!("{err}")
    };
    assert_eq!(v.errors()[0].field, "scopes");
    // revoked: refused
    a.revoke_token(&owner, "done", issued.token.id)
        .await
        .unwrap();
    assert_eq!(
        a.authenticate(&secret).await.unwrap_err(),
        AuthError::Invalid
    );
    assert_eq!(e.actions().await.pop(), Some(AuditAction::TokenRevoked));
    // expiring: good until then
    let exp = e.clock.now() + Duration::hours(1);
    let short = a
        .create_token(&owner, "t", Some(id), "short-lived", &[], Some(exp))
        .await
        .unwrap();
    assert_eq!(short.token.scopes, [Role::Researcher, Role::Administrator]);
    a.authenticate(short.secret.expose()).await.unwrap();
    e.clock.set(exp);
    assert_eq!(
        a.authenticate(short.secret.expose()).await.unwrap_err(),
        AuthError::Expired
    );
    // an expiry in the past is refused
    let err = a
        .create_token(&owner, "t", None, "x", &[], Some(e.clock.now()))
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::Invalid(v) if v.errors()[0].field == "expires_at"));
    e.db.cleanup().await;
}

async fn disabled_users_are_refused_everywhere(backend: Backend) {
    let e = env(backend).await;
    let (id, _) = e
        .add("nmpu.researcher", "national:nmpu", &["researcher"])
        .await;
    let a = &e.accounts;
    let s = a
        .sign_in("nmpu.researcher", PASSWORD, None, "t")
        .await
        .unwrap();
    let tok = a
        .create_token(&s.principal, "t", None, "feed", &[], None)
        .await
        .unwrap();
    a.disable(&e.root, "left the unit", id).await.unwrap();
    // the session was ended, the token stops working, sign-in is refused
    assert!(a.authenticate(s.token.expose()).await.is_err());
    assert_eq!(
        a.authenticate(tok.secret.expose()).await.unwrap_err(),
        AuthError::AccountUnavailable
    );
    let err = a
        .sign_in("nmpu.researcher", PASSWORD, None, "t")
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::SignInFailed));
    let ev = e.events().await;
    assert!(ev.last().unwrap().detail.starts_with("account disabled"));
    assert!(
        ev.iter()
            .any(|x| x.action == AuditAction::PermissionChange && x.detail == "disabled")
    );
    assert!(ev.iter().any(|x| x.action == AuditAction::SignOut));
    // enabled again: all works
    a.enable(&e.root, "back", id).await.unwrap();
    a.sign_in("nmpu.researcher", PASSWORD, None, "t")
        .await
        .unwrap();
    a.authenticate(tok.secret.expose()).await.unwrap();
    // administrators cannot disable themselves
    let (admin_id, _) = e.add("kent.admin", "force:kent", &["administrator"]).await;
    let kent_admin = a
        .sign_in("kent.admin", PASSWORD, None, "t")
        .await
        .unwrap()
        .principal;
    let err = a.disable(&kent_admin, "oops", admin_id).await.unwrap_err();
    assert!(matches!(err, AccountError::NotAllowed(_)), "{err}");
    e.db.cleanup().await;
}

async fn administrators_manage_only_their_own_organisation(backend: Backend) {
    let e = env(backend).await;
    e.add("kent.admin", "force:kent", &["administrator"]).await;
    let (essex_user, _) = e
        .add("essex.handler", "force:essex", &["call_handler"])
        .await;
    e.add("kent.handler", "force:kent", &["call_handler"]).await;
    let a = &e.accounts;
    let admin = a
        .sign_in("kent.admin", PASSWORD, None, "t")
        .await
        .unwrap()
        .principal;
    let new = |org: &str| NewUser {
        username: "kent.new".into(),
        org: org.into(),
        roles: vec!["patrol_officer".into()],
        clients: vec![],
        password: "a fine new password".into(),
    };
    // another organisation: refused
    let err = a
        .add_user(&admin, "t", new("force:essex"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AccountError::Forbidden(DenyReason::OtherOrganisation)),
        "{err}"
    );
    let err = a.disable(&admin, "t", essex_user).await.unwrap_err();
    assert!(
        matches!(err, AccountError::Forbidden(DenyReason::OtherOrganisation)),
        "{err}"
    );
    assert!(
        a.list_users(&admin, Some(&code("force:essex")))
            .await
            .is_err()
    );
    // their own: fine
    let created = a.add_user(&admin, "t", new("force:kent")).await.unwrap();
    assert!(created.totp.is_some());
    let names: Vec<String> = a
        .list_users(&admin, None)
        .await
        .unwrap()
        .iter()
        .map(|u| u.username.to_string())
        .collect();
    assert_eq!(names, ["kent.admin", "kent.handler", "kent.new"]);
    assert_eq!(e.actions().await.pop(), Some(AuditAction::Read));
    // a call handler administers nothing
    let handler = Principal::new(
        "kent.handler",
        code("force:kent"),
        OrgKind::PoliceForce,
        vec![Role::CallHandler],
        vec![],
    )
    .unwrap();
    assert!(matches!(
        a.list_users(&handler, None).await.unwrap_err(),
        AccountError::Forbidden(_)
    ));
    // bad input names every field
    let err = a
        .add_user(
            &admin,
            "t",
            NewUser {
                username: "x".into(),
                org: "force:kent".into(),
                roles: vec!["chief".into(), "national_analyst".into()],
                clients: vec![],
                password: "password".into(),
            },
        )
        .await
        .unwrap_err();
    let AccountError::Invalid(v) = err else {
        panic!("{err}")
    };
    let fields: Vec<&str> = v.errors().iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["username", "roles[0]", "password"], "{v}");
    // a role that does not fit the organisation
    let err = a
        .add_user(
            &admin,
            "t",
            NewUser {
                roles: vec!["national_analyst".into()],
                ..new("force:kent")
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AccountError::Invalid(v) if v.errors()[0].field == "roles[0]"),
        "{err}"
    );
    // a taken user name
    let err = a
        .add_user(&admin, "t", new("force:kent"))
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::Conflict(_)), "{err}");
    e.db.cleanup().await;
}

async fn new_roles_that_read_personal_data_enrol_a_second_factor_and_end_sessions(
    backend: Backend,
) {
    let e = env(backend).await;
    let (id, none) = e.add("kent.admin", "force:kent", &["administrator"]).await;
    assert!(none.is_none());
    let a = &e.accounts;
    let s = a.sign_in("kent.admin", PASSWORD, None, "t").await.unwrap();
    let changed = a
        .set_roles(
            &e.root,
            "now also coordinates",
            id,
            vec!["administrator".into(), "missing_person_coordinator".into()],
            None,
        )
        .await
        .unwrap();
    let enrol = changed.totp.expect("a second factor is enrolled");
    assert!(enrol.otpauth_uri.starts_with("otpauth://totp/"));
    assert!(changed.user.totp_required && changed.user.totp_enrolled);
    // the old session (which passed no second factor) is over
    assert!(a.authenticate(s.token.expose()).await.is_err());
    // and now sign-in needs the code
    assert!(a.sign_in("kent.admin", PASSWORD, None, "t").await.is_err());
    let secret = TotpSecret::from_base32("t", &enrol.secret).unwrap();
    let s = a
        .sign_in("kent.admin", PASSWORD, Some(&e.code(&secret)), "t")
        .await
        .unwrap();
    assert_eq!(
        s.principal.roles(),
        [Role::MissingPersonCoordinator, Role::Administrator]
    );
    let pc = e
        .events()
        .await
        .into_iter()
        .rfind(|x| x.action == AuditAction::PermissionChange)
        .unwrap();
    assert!(pc.detail.contains("roles set to"), "{}", pc.detail);
    assert!(
        pc.detail.contains("second factor enrolled"),
        "{}",
        pc.detail
    );
    assert_eq!(pc.reason, "now also coordinates");
    // a reset clears a sign-in throttle and ends sessions
    for _ in 0..5 {
        let _ = a
            .sign_in("kent.admin", "wrong wrong wrong", None, "t")
            .await;
    }
    assert!(e.store().user(id).await.unwrap().locked_until.is_some());
    a.reset_password(&e.root, "forgot", id, "a brand new passphrase", false)
        .await
        .unwrap();
    assert_eq!(e.store().user(id).await.unwrap().locked_until, None);
    e.clock.advance(Duration::seconds(30));
    a.sign_in(
        "kent.admin",
        "a brand new passphrase",
        Some(&e.code(&secret)),
        "t",
    )
    .await
    .unwrap();
    // nothing to change is an error, not a silent audit event
    let err = a
        .update_user(&e.root, "t", id, UserUpdate::default())
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::Invalid(_)));
    e.db.cleanup().await;
}

async fn demo_users_can_sign_in(backend: Backend) {
    let e = env(backend).await;
    let orgs = e.store().organisations().await.unwrap();
    let demo = create_demo_users(&e.accounts, &orgs).await.unwrap();
    assert_eq!(demo.len(), Role::ALL.len());
    for d in &demo {
        assert_eq!(
            d.totp_secret.is_some(),
            d.role.reads_personal_data(),
            "{d:?}"
        );
        let code = d
            .totp_secret
            .as_ref()
            .map(|s| e.code(&TotpSecret::from_base32("t", s).unwrap()));
        let s = e
            .accounts
            .sign_in(&d.username, &d.password, code.as_deref(), "t")
            .await
            .unwrap();
        assert_eq!(s.principal.roles(), [d.role]);
    }
    // run again: the passwords change and the new ones work
    e.clock.advance(Duration::minutes(1));
    let again = create_demo_users(&e.accounts, &orgs).await.unwrap();
    assert_ne!(again[0].password, demo[0].password);
    let d = again.iter().find(|d| d.role == Role::Researcher).unwrap();
    e.accounts
        .sign_in(&d.username, &d.password, None, "t")
        .await
        .unwrap();
    e.db.cleanup().await;
}

async fn send(
    app: &axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, headers, body)
}

fn post(uri: &str, bearer: Option<&str>, body: Value) -> Request<Body> {
    let mut b = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = bearer {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.body(Body::from(body.to_string())).unwrap()
}

fn req(method: &str, uri: &str, bearer: Option<&str>) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(t) = bearer {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.body(Body::empty()).unwrap()
}

async fn http_sign_in_use_sign_out_then_refused(backend: Backend) {
    let e = env(backend).await;
    let (_, totp) = e.add("kent.handler", "force:kent", &["call_handler"]).await;
    let totp = totp.unwrap();
    let app = routes(e.accounts.clone());
    let (status, headers, body) = send(
        &app,
        post(
            "/api/v1/session",
            None,
            json!({"username": "kent.handler", "password": PASSWORD, "totp": e.code(&totp)}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["idle_timeout_seconds"], 1800);
    assert_eq!(body["user"]["username"], "kent.handler");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.starts_with(&format!("nrmp_session={token};")),
        "{cookie}"
    );
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    // use it: by header, and by cookie
    let (status, _, body) = send(&app, req("GET", "/api/v1/tokens", Some(&token))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!([]));
    let by_cookie = Request::get("/api/v1/tokens")
        .header(header::COOKIE, format!("theme=dark; nrmp_session={token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, by_cookie).await.0, StatusCode::OK);
    // issue an API token with the session, then use the token
    let (status, _, body) = send(
        &app,
        post(
            "/api/v1/tokens",
            Some(&token),
            json!({"name": "kent niche feed"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let api = body["token"].as_str().unwrap().to_owned();
    assert_eq!(body["scopes"], json!(["call_handler"]));
    let (status, _, listed) = send(&app, req("GET", "/api/v1/tokens", Some(&api))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed[0]["name"], "kent niche feed");
    assert!(listed[0].get("token").is_none(), "secrets are shown once");
    // a token cannot issue tokens
    let (status, _, _) = send(
        &app,
        post("/api/v1/tokens", Some(&api), json!({"name": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // sign out
    let (status, headers, _) = send(&app, req("DELETE", "/api/v1/session", Some(&token))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // the session token is refused now
    let (status, headers, body) = send(&app, req("GET", "/api/v1/tokens", Some(&token))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(body["status"], 401);
    // revoke the API token over HTTP, and it is refused too
    let id = body_id(&listed);
    let (status, _, body) = send(
        &app,
        req("DELETE", &format!("/api/v1/tokens/{id}"), Some(&api)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["revoked_at"].is_string());
    assert_eq!(
        send(&app, req("GET", "/api/v1/tokens", Some(&api))).await.0,
        StatusCode::UNAUTHORIZED
    );
    let actions = e.actions().await;
    for a in [
        AuditAction::SignIn,
        AuditAction::TokenIssued,
        AuditAction::SignOut,
        AuditAction::TokenRevoked,
    ] {
        assert!(actions.contains(&a), "{a:?} not audited");
    }
    e.db.cleanup().await;
}

fn body_id(listed: &Value) -> String {
    listed[0]["id"].as_str().unwrap().to_owned()
}

async fn http_errors_are_problem_details_naming_the_field(backend: Backend) {
    let e = env(backend).await;
    e.add("nmpu.researcher", "national:nmpu", &["researcher"])
        .await;
    let app = routes(e.accounts.clone());
    // missing fields, each named
    let (status, headers, body) = send(&app, post("/api/v1/session", None, json!({}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(body["status"], 422);
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["username", "password"]);
    assert!(body["errors"][0]["problem"].is_string());
    // wrong types and unknown fields
    let (_, _, body) = send(
        &app,
        post(
            "/api/v1/session",
            None,
            json!({"username": 7, "password": "x", "pasword": "y"}),
        ),
    )
    .await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["pasword"]);
    let (_, _, body) = send(
        &app,
        post(
            "/api/v1/session",
            None,
            json!({"username": 7, "password": "x"}),
        ),
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "username");
    // not JSON
    let raw = Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("username=a&password=b"))
        .unwrap();
    let (status, _, body) = send(&app, raw).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "body");
    // unknown user and wrong password look exactly the same
    let unknown = send(
        &app,
        post(
            "/api/v1/session",
            None,
            json!({"username": "nobody.here", "password": PASSWORD}),
        ),
    )
    .await;
    let wrong = send(
        &app,
        post(
            "/api/v1/session",
            None,
            json!({"username": "nmpu.researcher", "password": "nope nope nope"}),
        ),
    )
    .await;
    for _ in 0..4 {
        send(
            &app,
            post(
                "/api/v1/session",
                None,
                json!({"username": "nmpu.researcher", "password": "nope nope nope"}),
            ),
        )
        .await;
    }
    // after five failures even the right password waits: 429 with Retry-After, no cookie
    let throttled = send(
        &app,
        post(
            "/api/v1/session",
            None,
            json!({"username": "nmpu.researcher", "password": PASSWORD}),
        ),
    )
    .await;
    assert_eq!(unknown.0, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.0, wrong.0);
    assert_eq!(unknown.2, wrong.2);
    assert_eq!(throttled.0, StatusCode::TOO_MANY_REQUESTS, "{throttled:?}");
    assert_eq!(throttled.1[header::RETRY_AFTER], "30");
    assert_eq!(throttled.2["type"], "/api/problems/sign-in-throttled");
    assert!(throttled.1.get(header::SET_COOKIE).is_none());
    // …but are audited distinctly
    let details: Vec<String> = e
        .events()
        .await
        .into_iter()
        .filter(|x| x.action == AuditAction::SignInFailed)
        .map(|x| x.detail)
        .collect();
    assert!(details[0].starts_with("unknown user"), "{details:?}");
    assert!(details[1].starts_with("wrong password"), "{details:?}");
    assert_eq!(details.len(), 6, "{details:?}"); // the throttled attempt wrote nothing
    assert!(
        details.last().unwrap().starts_with("wrong password"),
        "{details:?}"
    );
    assert!(e.actions().await.contains(&AuditAction::LockOut));
    e.db.cleanup().await;
}

async fn http_user_administration(backend: Backend) {
    let e = env(backend).await;
    e.add("kent.admin", "force:kent", &["administrator"]).await;
    let (_, totp) = e.add("kent.handler", "force:kent", &["call_handler"]).await;
    let app = routes(e.accounts.clone());
    let sign_in = |user: &str, code: Option<String>| {
        post(
            "/api/v1/session",
            None,
            json!({"username": user, "password": PASSWORD, "totp": code}),
        )
    };
    let (_, _, body) = send(&app, sign_in("kent.admin", None)).await;
    let admin = body["token"].as_str().unwrap().to_owned();
    // add a user to the admin's own organisation (the default)
    let (status, headers, body) = send(
        &app,
        post(
            "/api/v1/users",
            Some(&admin),
            json!({"username": "kent.patrol", "roles": ["patrol_officer"], "password": "beacon hill lantern"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["org"], "force:kent");
    assert!(
        body["totp"]["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://")
    );
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let id = body["user"]["id"].as_str().unwrap().to_owned();
    // another organisation: 403 problem
    let (status, _, body) = send(
        &app,
        post(
            "/api/v1/users",
            Some(&admin),
            json!({"username": "essex.x", "org": "force:essex", "roles": ["call_handler"], "password": "beacon hill lantern"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // bad input: each field named
    let (status, _, body) = send(
        &app,
        post(
            "/api/v1/users",
            Some(&admin),
            json!({"username": "kent.y", "roles": ["call_handler", 3], "password": "short"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "roles[1]", "{body}");
    // list, get, disable
    let (status, _, body) = send(&app, req("GET", "/api/v1/users", Some(&admin))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_array().unwrap().len(), 3);
    assert!(body[0].get("password").is_none() && body[0].get("totp").is_none());
    let (status, _, body) = send(
        &app,
        req("GET", &format!("/api/v1/users/{id}"), Some(&admin)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["username"], "kent.patrol");
    let patch = Request::patch(format!("/api/v1/users/{id}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .body(Body::from(
            json!({"disabled": true, "reason": "left the force"}).to_string(),
        ))
        .unwrap();
    let (status, _, body) = send(&app, patch).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["disabled"], true);
    let (status, _, body) = send(&app, req("GET", "/api/v1/users/not-a-uuid", Some(&admin))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "id");
    // a call handler may not administer users
    let code = e.code(&totp.unwrap());
    let (_, _, body) = send(&app, sign_in("kent.handler", Some(code))).await;
    let handler = body["token"].as_str().unwrap().to_owned();
    let (status, headers, _) = send(&app, req("GET", "/api/v1/users", Some(&handler))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    // and without a credential: 401
    assert_eq!(
        send(&app, req("GET", "/api/v1/users", None)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let pc = e
        .events()
        .await
        .into_iter()
        .rfind(|x| x.action == AuditAction::PermissionChange)
        .unwrap();
    assert_eq!(pc.reason, "left the force");
    assert_eq!(pc.actor.user, "kent.admin");
    e.db.cleanup().await;
}

async fn http_users_change_their_own_password(backend: Backend) {
    let e = env(backend).await;
    e.add("nmpu.researcher", "national:nmpu", &["researcher"])
        .await;
    let app = routes(e.accounts.clone());
    let sign_in = |pw: &str| {
        post(
            "/api/v1/session",
            None,
            json!({"username": "nmpu.researcher", "password": pw}),
        )
    };
    let (_, _, body) = send(&app, sign_in(PASSWORD)).await;
    let token = body["token"].as_str().unwrap().to_owned();
    let change = |current: &str, new: &str, bearer: &str| {
        Request::put("/api/v1/users/me/password")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
            .body(Body::from(
                json!({"current_password": current, "new_password": new}).to_string(),
            ))
            .unwrap()
    };
    // a wrong current password: named, and counted as a failed sign-in
    let (status, _, body) = send(&app, change("not my password", "tidal estuary 9", &token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "current_password");
    let last = e.events().await.pop().unwrap();
    assert_eq!(last.action, AuditAction::SignInFailed);
    assert!(
        last.detail.contains("changing the password"),
        "{}",
        last.detail
    );
    // a new password that breaks the policy
    let (status, _, body) = send(&app, change(PASSWORD, "qwertyuiop", &token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "new_password");
    // an API token may not change it
    let (_, _, tok) = send(
        &app,
        post("/api/v1/tokens", Some(&token), json!({"name": "x"})),
    )
    .await;
    let api = tok["token"].as_str().unwrap().to_owned();
    let (status, _, _) = send(&app, change(PASSWORD, "tidal estuary 9", &api)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // done: every session ends, the new password works and the old one does not
    let (status, _, _) = send(&app, change(PASSWORD, "tidal estuary 9", &token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        send(&app, req("GET", "/api/v1/tokens", Some(&token)))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, sign_in(PASSWORD)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, sign_in("tidal estuary 9")).await.0,
        StatusCode::CREATED
    );
    let pc = e
        .events()
        .await
        .into_iter()
        .rfind(|x| x.action == AuditAction::PermissionChange)
        .unwrap();
    assert_eq!(pc.detail, "password changed by its user");
    assert_eq!(pc.actor.user, "nmpu.researcher");
    e.db.cleanup().await;
}
