//! `spawn_app`: a fresh database with a few organisations, the app on 127.0.0.1:0, a fixed
//! clock, and one bearer token per test principal.

use chrono::{DateTime, TimeZone, Utc};
use nrmp_domain::access::{Principal, Role};
use nrmp_domain::account::{HashParams, TotpSecret};
use nrmp_domain::clock::FixedClock;
use nrmp_domain::organisation::{OrgCode, OrgKind};
use nrmp_server::accounts::{Accounts, NewUser};
use nrmp_server::auth::{AuthError, Authenticator};
use nrmp_server::test_support::StaticAuthenticator;
use nrmp_server::{Config, build};
use nrmp_store::prelude::*;
use nrmp_store::test_support::{TestDb, actor};
use nrmp_store::{Backend, Ctx};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

/// "Now" for every test: 2026-06-01 12:00 UTC.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

pub use nrmp_server::test_support::{PRINCIPALS, code, organisations, principal};

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub db: TestDb,
    /// The fixed test tokens (empty when the app signs in with real accounts).
    pub auth: Arc<StaticAuthenticator>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// The app on a fresh database of `backend`, signing callers in with the fixed test tokens of
/// [`PRINCIPALS`].
pub async fn spawn_app(backend: Backend) -> TestApp {
    let auth = Arc::new(StaticAuthenticator::new());
    for (token, ..) in PRINCIPALS {
        auth.insert(*token, principal(token, vec![]));
    }
    let clock = Arc::new(FixedClock::new(now()));
    start(
        backend,
        clock,
        auth.clone(),
        auth,
        |_| {},
        |_, _| Vec::new(),
    )
    .await
}

/// [`spawn_app`] with settings changed by `configure` (limits, timeouts).
pub async fn spawn_app_configured(
    backend: Backend,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    let auth = Arc::new(StaticAuthenticator::new());
    for (token, ..) in PRINCIPALS {
        auth.insert(*token, principal(token, vec![]));
    }
    let clock = Arc::new(FixedClock::new(now()));
    start(backend, clock, auth.clone(), auth, configure, |_, _| {
        Vec::new()
    })
    .await
}

/// As [`spawn_app`], and the clock the app reads (tests move it).
pub async fn spawn_app_with_clock(backend: Backend) -> (TestApp, Arc<FixedClock>) {
    let auth = Arc::new(StaticAuthenticator::new());
    for (token, ..) in PRINCIPALS {
        auth.insert(*token, principal(token, vec![]));
    }
    let clock = Arc::new(FixedClock::new(now()));
    let app = start(
        backend,
        clock.clone(),
        auth.clone(),
        auth,
        |_| {},
        |_, _| Vec::new(),
    )
    .await;
    (app, clock)
}

/// Another server node on the database of `app` (its own pool, index and alert worker), with
/// the same test tokens and `clock`.
pub async fn spawn_node(app: &TestApp, clock: Arc<FixedClock>) -> Node {
    let store: Arc<dyn Store> = Arc::new(nrmp_store::SqlStore::connect(&app.db.url).await.unwrap());
    let config = Config {
        bind: "127.0.0.1:0".into(),
        database_url: app.db.url.clone(),
        index_follow_ms: 50,
        alert_follow_ms: 50,
        ..Config::default()
    };
    let node = build(config, store, clock, app.auth.clone()).await.unwrap();
    let base = format!("http://127.0.0.1:{}", node.port());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        node.serve(async {
            rx.await.ok();
        })
        .await
        .unwrap();
    });
    Node {
        base,
        shutdown: tx,
        task,
    }
}

/// A second node (see [`spawn_node`]).
pub struct Node {
    pub base: String,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Node {
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        self.task.abort();
        let _ = self.task.await;
    }
}

/// The app on a fresh database of `backend`, signing callers in with the real accounts service
/// (cheap password hashing, no `Secure` cookie flag); returns the service and its clock too.
pub async fn spawn_app_with_accounts(
    backend: Backend,
) -> (TestApp, Arc<Accounts>, Arc<FixedClock>) {
    spawn_app_with_accounts_configured(backend, HashParams::FAST_INSECURE_FOR_TESTS, |_| {}).await
}

/// [`spawn_app_with_accounts`] hashing with `hash` and with settings changed by `configure`
/// (the accounts service takes its hashing and throttle limits from them).
pub async fn spawn_app_with_accounts_configured(
    backend: Backend,
    hash: HashParams,
    configure: impl FnOnce(&mut Config),
) -> (TestApp, Arc<Accounts>, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(now()));
    let accounts = Arc::new(OnceAccounts::default());
    let slot = accounts.clone();
    let clock_for = clock.clone();
    let unused = Arc::new(StaticAuthenticator::new());
    let app = start(
        backend,
        clock.clone(),
        accounts.clone(),
        unused,
        configure,
        move |store, config| {
            let mut settings = config.account_settings();
            settings.policy.hash = hash;
            settings.secure_cookie = false;
            let acc = Arc::new(Accounts::new(store, clock_for, settings).unwrap());
            slot.0.set(acc.clone()).ok().unwrap();
            vec![nrmp_server::accounts::routes(acc)]
        },
    )
    .await;
    let acc = accounts.0.get().unwrap().clone();
    (app, acc, clock)
}

/// The accounts service, once the store it needs exists.
#[derive(Default)]
struct OnceAccounts(std::sync::OnceLock<Arc<Accounts>>);

#[async_trait::async_trait]
impl Authenticator for OnceAccounts {
    async fn authenticate(&self, credential: &str) -> Result<Principal, AuthError> {
        match self.0.get() {
            Some(a) => a.authenticate(credential).await,
            None => Err(AuthError::Invalid),
        }
    }
}

async fn start(
    backend: Backend,
    clock: Arc<FixedClock>,
    auth: Arc<dyn Authenticator>,
    tokens: Arc<StaticAuthenticator>,
    configure: impl FnOnce(&mut Config),
    routes: impl FnOnce(Arc<dyn Store>, &Config) -> Vec<axum::Router>,
) -> TestApp {
    let db = TestDb::new(backend).await.unwrap();
    let store: Arc<dyn Store> = db.store.clone();
    let ctx = Ctx::new(actor("test-setup", "national:nmpu"), "test set-up", now());
    store
        .put_organisations(&ctx, &organisations())
        .await
        .unwrap();
    let mut config = Config {
        bind: "127.0.0.1:0".into(),
        database_url: db.url.clone(),
        index_follow_ms: 50,
        alert_follow_ms: 50,
        ..Config::default()
    };
    configure(&mut config);
    config.check().unwrap();
    let extra = routes(store.clone(), &config);
    let mut app = build(config, store, clock, auth).await.unwrap();
    for r in extra {
        app = app.merge(r);
    }
    let base = format!("http://127.0.0.1:{}", app.port());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        app.serve(async {
            rx.await.ok();
        })
        .await
        .unwrap();
    });
    TestApp {
        base,
        http: reqwest::Client::new(),
        db,
        auth: tokens,
        shutdown: Some(tx),
        task: Some(task),
    }
}

/// A response: status and JSON body (`Null` if none or not JSON).
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

impl TestApp {
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        self.db.cleanup().await;
    }

    /// Sends a request as `token` (None: anonymous) with an optional reason and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        reason: Option<&str>,
        body: Option<Value>,
    ) -> Res {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(r) = reason {
            req = req.header("X-NRMP-Reason", r);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = res.text().await.unwrap();
        let mut body = serde_json::from_str(&text).unwrap_or(Value::Null);
        // each answer's own request id (checked in basics) would make equal problems differ
        if let Some(m) = body.as_object_mut() {
            m.remove("request_id");
        }
        Res {
            status,
            content_type,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str, reason: Option<&str>) -> Res {
        self.call(Method::GET, path, Some(token), reason, None)
            .await
    }

    pub async fn post(&self, path: &str, token: &str, reason: Option<&str>, body: Value) -> Res {
        self.call(Method::POST, path, Some(token), reason, Some(body))
            .await
    }

    /// Creates a person as `token`; returns the id.
    pub async fn person(&self, token: &str, given: &str, family: &str) -> String {
        let r = self
            .post("/api/v1/persons", token, None, person_body(given, family))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        r.body["id"].as_str().unwrap().to_owned()
    }

    /// Reports `person` missing as `token`; returns the incident id.
    pub async fn incident(
        &self,
        token: &str,
        person: &str,
        force: &str,
        grade: &str,
        hours_ago: i64,
    ) -> String {
        let r = self
            .post(
                "/api/v1/incidents",
                token,
                None,
                incident_body(person, force, grade, hours_ago),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        r.body["id"].as_str().unwrap().to_owned()
    }

    /// Audit events written so far.
    pub async fn audit(&self) -> Vec<nrmp_domain::audit::AuditEvent> {
        self.db.store.audit_events(0, 100_000).await.unwrap()
    }
}

pub fn person_body(given: &str, family: &str) -> Value {
    json!({
        "names": [{"kind": "primary", "given": given, "family": family, "original": null, "order_unknown": false}],
        "dob": {"kind": "exact", "date": "2009-03-04"},
        "sex": "male",
        "nationalities": ["VNM"],
        "languages": ["vie"],
        "identifiers": [],
        "description": {"height_cm": [160, 170], "build": null, "hair": "black", "eyes": null, "marks": [], "photos": []},
    })
}

pub fn incident_body(person: &str, force: &str, grade: &str, hours_ago: i64) -> Value {
    let seen = now() - chrono::Duration::hours(hours_ago);
    json!({
        "person_id": person,
        "force_missing": force,
        "category": "missing",
        "last_seen_at": seen,
        "reported_at": seen + chrono::Duration::minutes(30),
        "last_seen_place": {"description": "outside the placement", "authority": null, "force": null},
        "circumstances": "did not return after school",
        "risk": {"grade": grade, "rationale": "under 16, recently trafficked"},
    })
}

/// The password of the accounts [`add_kent_coordinator`] creates.
pub const PASSWORD: &str = "quiet harbour lantern";

/// Creates a Kent missing-person coordinator named `username` (password [`PASSWORD`]) as a
/// national administrator would; returns their second-factor secret.
pub async fn add_kent_coordinator(accounts: &Accounts, username: &str) -> TotpSecret {
    let admin = Principal::new(
        "set-up-admin",
        OrgCode::parse("org", "national:nmpu").unwrap(),
        OrgKind::NationalUnit,
        vec![Role::Administrator],
        vec![],
    )
    .unwrap();
    let created = accounts
        .add_user(
            &admin,
            "test set-up",
            NewUser {
                username: username.into(),
                org: "force:kent".into(),
                roles: vec!["missing_person_coordinator".into()],
                clients: vec![],
                password: PASSWORD.into(),
            },
        )
        .await
        .unwrap();
    TotpSecret::from_base32("totp", &created.totp.unwrap().secret).unwrap()
}

/// Defines each named async test (taking a `Backend`) once per backend.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(nrmp_store::Backend::Sqlite).await }) *
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(nrmp_store::Backend::Postgres).await }) *
        }
    };
}
