//! Conformance tests for account storage (users, sessions, API tokens), run on SQLite and on
//! PostgreSQL, each on a fresh database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use chrono::Duration;
use nrmp_domain::access::Role;
use nrmp_domain::account::{
    Account, ApiToken, BearerSecret, HashParams, Password, PasswordHash, SecretKind, Session,
    TokenHash, TokenId, TotpSecret, UserId, Username,
};
use nrmp_domain::audit::{AuditAction, AuditEvent};
use nrmp_domain::organisation::{OrgCode, OrgKind, Organisation};
use nrmp_store::prelude::*;
use nrmp_store::test_support::{TestDb, actor, at};
use nrmp_store::{AccountChange, Backend, Ctx, StoreError};
use rand::SeedableRng;
use std::sync::Arc;
use uuid::Uuid;

fn code(s: &str) -> OrgCode {
    OrgCode::parse("org", s).unwrap()
}

fn ctx(hours: i64) -> Ctx {
    Ctx::new(
        actor("admin.kent", "force:kent"),
        "account admin",
        at(hours),
    )
}

async fn setup(backend: Backend) -> TestDb {
    let db = TestDb::new(backend).await.unwrap();
    let org = |c: &str, kind, name: &str| Organisation {
        code: code(c),
        kind,
        name: name.into(),
        country: "England".into(),
        region: None,
        police_force: None,
    };
    db.store
        .put_organisations(
            &ctx(0),
            &[
                org("force:kent", OrgKind::PoliceForce, "Kent Police"),
                org(
                    "national:nmpu",
                    OrgKind::NationalUnit,
                    "UK Missing Persons Unit",
                ),
            ],
        )
        .await
        .unwrap();
    db
}

fn account(n: u128, name: &str, roles: Vec<Role>) -> Account {
    let mut rng = rand::rngs::StdRng::seed_from_u64(n as u64);
    let pw = Password::parse("password", "plum orchard 42", None).unwrap();
    Account {
        id: UserId(Uuid::from_u128(n)),
        username: Username::parse("username", name).unwrap(),
        org: code("force:kent"),
        org_kind: OrgKind::PoliceForce,
        roles,
        clients: vec![],
        disabled: false,
        password: PasswordHash::new(&pw, HashParams::FAST_INSECURE_FOR_TESTS, &mut rng).unwrap(),
        totp: Some(TotpSecret::generate(&mut rng)),
        totp_last_step: None,
        failed_attempts: 0,
        locked_until: None,
        created_at: at(0),
        updated_at: at(0),
    }
}

async fn events(store: &dyn Store) -> Vec<AuditEvent> {
    store.audit_events(0, 10_000).await.unwrap()
}

async fn count(store: &dyn Store, action: AuditAction) -> usize {
    events(store)
        .await
        .iter()
        .filter(|e| e.action == action)
        .count()
}

nrmp_store::on_both_backends!(
    users_round_trip_and_their_creation_is_audited,
    bad_users_are_refused_and_nothing_is_written,
    account_changes_are_atomic_with_their_audit_events,
    a_failing_change_writes_nothing,
    concurrent_changes_do_not_lose_updates,
    sessions_are_renewed_ended_and_audited,
    tokens_are_stored_hashed_scoped_and_revocable,
);

async fn users_round_trip_and_their_creation_is_audited(backend: Backend) {
    let db = setup(backend).await;
    let s = db.store.as_ref();
    let a = account(1, "kent.handler", vec![Role::CallHandler]);
    s.create_user(&ctx(1), &a).await.unwrap();
    assert_eq!(s.user(a.id).await.unwrap(), a);
    let by_name = s
        .user_by_name(&Username::parse("u", "Kent.Handler").unwrap())
        .await
        .unwrap();
    assert_eq!(by_name, Some(a.clone()));
    assert_eq!(
        s.user_by_name(&Username::parse("u", "nobody").unwrap())
            .await
            .unwrap(),
        None
    );
    let b = account(2, "kent.admin", vec![Role::Administrator]);
    s.create_user(&ctx(1), &b).await.unwrap();
    let names: Vec<String> = s
        .users(Some(&code("force:kent")))
        .await
        .unwrap()
        .iter()
        .map(|u| u.username.to_string())
        .collect();
    assert_eq!(names, ["kent.admin", "kent.handler"]);
    assert!(
        s.users(Some(&code("national:nmpu")))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.users(None).await.unwrap().len(), 2);

    let ev = events(s).await;
    let created: Vec<&AuditEvent> = ev
        .iter()
        .filter(|e| e.action == AuditAction::PermissionChange)
        .collect();
    assert_eq!(created.len(), 2);
    assert_eq!(created[0].record_kind, "user");
    assert_eq!(created[0].record_ids, [a.id.to_string()]);
    assert!(
        created[0].detail.contains("call_handler"),
        "{:?}",
        created[0]
    );
    assert_eq!(created[0].actor.user, "admin.kent");
    // the hash is stored as Argon2id, never the password
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(a.id.to_string())
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$"));
    assert!(!stored.contains("plum orchard"));
    db.cleanup().await;
}

async fn bad_users_are_refused_and_nothing_is_written(backend: Backend) {
    let db = setup(backend).await;
    let s = db.store.as_ref();
    s.create_user(
        &ctx(1),
        &account(1, "kent.handler", vec![Role::CallHandler]),
    )
    .await
    .unwrap();
    let before = events(s).await.len();
    // the user name is taken (another id)
    let e = s
        .create_user(
            &ctx(1),
            &account(2, "kent.handler", vec![Role::CallHandler]),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");
    // an organisation not in the register
    let mut a = account(3, "essex.handler", vec![Role::CallHandler]);
    a.org = code("force:essex");
    let e = s.create_user(&ctx(1), &a).await.unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid(v) if v.errors()[0].field == "org"),
        "{e}"
    );
    // a role that does not fit the organisation
    let a = account(4, "kent.analyst", vec![Role::NationalAnalyst]);
    let e = s.create_user(&ctx(1), &a).await.unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid(v) if v.errors()[0].field == "roles[0]"),
        "{e}"
    );
    // a kind that is not the organisation's
    let mut a = account(5, "kent.other", vec![Role::Researcher]);
    a.org_kind = OrgKind::NationalUnit;
    assert!(s.create_user(&ctx(1), &a).await.is_err());
    assert_eq!(s.users(None).await.unwrap().len(), 1);
    assert_eq!(events(s).await.len(), before);
    db.cleanup().await;
}

async fn account_changes_are_atomic_with_their_audit_events(backend: Backend) {
    let db = setup(backend).await;
    let s = db.store.as_ref();
    let a = account(1, "kent.handler", vec![Role::CallHandler]);
    s.create_user(&ctx(1), &a).await.unwrap();
    // sign in: a session opens
    let secret = BearerSecret::generate(
        SecretKind::Session,
        &mut rand::rngs::StdRng::seed_from_u64(1),
    );
    let session = Session {
        hash: secret.hash(),
        user: a.id,
        created_at: at(2),
        last_seen_at: at(2),
        ended_at: None,
    };
    let sess = session.clone();
    let out = s
        .update_user(&ctx(2), a.id, &move |cur: &Account| {
            let mut next = cur.clone();
            next.totp_last_step = Some(42);
            Ok(AccountChange {
                new_session: Some(sess.clone()),
                ..AccountChange::new(next, AuditAction::SignIn, "signed in")
            })
        })
        .await
        .unwrap();
    assert_eq!(out.account.totp_last_step, Some(42));
    assert_eq!(s.user(a.id).await.unwrap().totp_last_step, Some(42));
    assert_eq!(s.session(&secret.hash()).await.unwrap(), Some(session));
    assert_eq!(count(s, AuditAction::SignIn).await, 1);

    // disabled by an administrator: the change, its audit event and the end of every session
    s.update_user(&ctx(3), a.id, &|cur: &Account| {
        let mut next = cur.clone();
        next.disabled = true;
        next.updated_at = at(3);
        Ok(AccountChange {
            end_sessions: true,
            ..AccountChange::new(next, AuditAction::PermissionChange, "disabled")
        })
    })
    .await
    .unwrap();
    let stored = s.user(a.id).await.unwrap();
    assert!(stored.disabled);
    assert_eq!(stored.updated_at, at(3));
    assert_eq!(
        s.session(&secret.hash()).await.unwrap().unwrap().ended_at,
        Some(at(3))
    );
    let ev = events(s).await;
    let last_two: Vec<AuditAction> = ev.iter().rev().take(2).map(|e| e.action).collect();
    assert!(last_two.contains(&AuditAction::SignOut), "{last_two:?}");
    assert!(last_two.contains(&AuditAction::PermissionChange));
    // an account that does not exist
    let e = s
        .update_user(&ctx(3), UserId(Uuid::from_u128(99)), &|cur: &Account| {
            Ok(AccountChange::new(cur.clone(), AuditAction::Update, ""))
        })
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
    db.cleanup().await;
}

async fn a_failing_change_writes_nothing(backend: Backend) {
    let db = setup(backend).await;
    let s = db.store.as_ref();
    let a = account(1, "kent.handler", vec![Role::CallHandler]);
    s.create_user(&ctx(1), &a).await.unwrap();
    let before = events(s).await.len();
    // the change itself refuses
    let e = s
        .update_user(&ctx(2), a.id, &|_: &Account| {
            Err(StoreError::Conflict("refused".into()))
        })
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)));
    // the new state breaks a rule: a police role moved to the national unit
    let e = s
        .update_user(&ctx(2), a.id, &|cur: &Account| {
            let mut next = cur.clone();
            next.org = code("national:nmpu");
            next.org_kind = OrgKind::NationalUnit;
            next.failed_attempts = 3;
            Ok(AccountChange::new(
                next,
                AuditAction::PermissionChange,
                "moved",
            ))
        })
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e}");
    // the user name cannot change
    let e = s
        .update_user(&ctx(2), a.id, &|cur: &Account| {
            let mut next = cur.clone();
            next.username = Username::parse("u", "someone.else").unwrap();
            Ok(AccountChange::new(
                next,
                AuditAction::PermissionChange,
                "renamed",
            ))
        })
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e}");
    assert_eq!(s.user(a.id).await.unwrap(), a);
    assert_eq!(events(s).await.len(), before);
    db.cleanup().await;
}

async fn concurrent_changes_do_not_lose_updates(backend: Backend) {
    let db = setup(backend).await;
    let a = account(1, "kent.handler", vec![Role::CallHandler]);
    db.store.create_user(&ctx(1), &a).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = Arc::clone(&db.store);
        tasks.push(tokio::spawn(async move {
            store
                .update_user(&ctx(2), a.id, &|cur: &Account| {
                    let mut next = cur.clone();
                    next.failed_attempts += 1;
                    Ok(AccountChange::new(
                        next,
                        AuditAction::SignInFailed,
                        "wrong password",
                    ))
                })
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(db.store.user(a.id).await.unwrap().failed_attempts, 8);
    assert_eq!(count(db.store.as_ref(), AuditAction::SignInFailed).await, 8);
    db.cleanup().await;
}

async fn sessions_are_renewed_ended_and_audited(backend: Backend) {
    let db = setup(backend).await;
    let s = db.store.as_ref();
    let a = account(1, "kent.handler", vec![Role::CallHandler]);
    s.create_user(&ctx(1), &a).await.unwrap();
    let hash = TokenHash::of("nrmp_s_example");
    let session = Session {
        hash: hash.clone(),
        user: a.id,
        created_at: at(1),
        last_seen_at: at(1),
        ended_at: None,
    };
    let sess = session.clone();
    s.update_user(&ctx(1), a.id, &move |cur: &Account| {
        Ok(AccountChange {
            new_session: Some(sess.clone()),
            ..AccountChange::new(cur.clone(), AuditAction::SignIn, "")
        })
    })
    .await
    .unwrap();
    let later = at(1) + Duration::minutes(20);
    s.touch_session(&hash, later).await.unwrap();
    // an older touch never moves the timer back
    s.touch_session(&hash, at(1) + Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(s.session(&hash).await.unwrap().unwrap().last_seen_at, later);
    assert!(s.end_session(&ctx(2), &hash, "signed out").await.unwrap());
    assert!(!s.end_session(&ctx(3), &hash, "signed out").await.unwrap());
    assert!(
        !s.end_session(&ctx(3), &TokenHash::of("unknown"), "x")
            .await
            .unwrap()
    );
    assert_eq!(
        s.session(&hash).await.unwrap().unwrap().ended_at,
        Some(at(2))
    );
    let outs: Vec<AuditEvent> = events(s)
        .await
        .into_iter()
        .filter(|e| e.action == AuditAction::SignOut)
        .collect();
    assert_eq!(outs.len(), 1);
    assert_eq!(outs[0].record_ids, [a.id.to_string()]);
    assert_eq!(outs[0].detail, "signed out");
    // a touch after the end does nothing
    s.touch_session(&hash, at(5)).await.unwrap();
    assert_eq!(s.session(&hash).await.unwrap().unwrap().last_seen_at, later);
    db.cleanup().await;
}

async fn tokens_are_stored_hashed_scoped_and_revocable(backend: Backend) {
    let db = setup(backend).await;
    let s = db.store.as_ref();
    let a = account(1, "kent.feed", vec![Role::CallHandler, Role::Researcher]);
    s.create_user(&ctx(1), &a).await.unwrap();
    let secret = BearerSecret::generate(
        SecretKind::ApiToken,
        &mut rand::rngs::StdRng::seed_from_u64(4),
    );
    let token = ApiToken {
        id: TokenId(Uuid::from_u128(10)),
        name: "Kent niche feed".into(),
        user: a.id,
        org: a.org.clone(),
        scopes: vec![Role::Researcher],
        hash: secret.hash(),
        created_at: at(1),
        expires_at: Some(at(48)),
        revoked_at: None,
    };
    s.create_token(&ctx(1), &token).await.unwrap();
    assert_eq!(s.token(token.id).await.unwrap(), token);
    assert_eq!(
        s.token_by_hash(&TokenHash::of(secret.expose()))
            .await
            .unwrap(),
        Some(token.clone())
    );
    // the stored value is the hash, not the token
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM api_tokens WHERE id = $1")
        .bind(token.id.to_string())
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_ne!(stored, secret.expose());
    assert!(!stored.contains(&secret.expose()[7..]));
    assert_eq!(
        s.token_by_hash(&TokenHash::of("nrmp_t_guess"))
            .await
            .unwrap(),
        None
    );

    // scopes the owner does not hold are refused
    let bad = ApiToken {
        id: TokenId(Uuid::from_u128(11)),
        scopes: vec![Role::PatrolOfficer],
        hash: TokenHash::of("other"),
        ..token.clone()
    };
    let e = s.create_token(&ctx(1), &bad).await.unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid(v) if v.errors()[0].field == "scopes"),
        "{e}"
    );

    assert_eq!(
        s.tokens(Some(a.id), None).await.unwrap(),
        vec![token.clone()]
    );
    assert_eq!(s.tokens(None, Some(&a.org)).await.unwrap().len(), 1);
    assert!(
        s.tokens(None, Some(&code("national:nmpu")))
            .await
            .unwrap()
            .is_empty()
    );

    let revoked = s.revoke_token(&ctx(5), token.id).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(at(5)));
    // revoking again changes nothing and is not audited twice
    let again = s.revoke_token(&ctx(6), token.id).await.unwrap();
    assert_eq!(again.revoked_at, Some(at(5)));
    assert_eq!(count(s, AuditAction::TokenIssued).await, 1);
    assert_eq!(count(s, AuditAction::TokenRevoked).await, 1);
    let e = s
        .revoke_token(&ctx(6), TokenId(Uuid::from_u128(77)))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }));
    db.cleanup().await;
}
