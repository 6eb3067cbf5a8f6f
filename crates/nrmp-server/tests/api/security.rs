//! Regression tests named after the holes an outside tester found (issue "Nobody let in"), each
//! a sequence of ordinary requests.

use crate::helpers::{
    TestApp, incident_body, now, person_body, spawn_app, spawn_app_configured,
    spawn_app_with_accounts_configured,
};
use nrmp_domain::access::{Principal, Role};
use nrmp_domain::account::HashParams;
use nrmp_domain::audit::AuditAction;
use nrmp_domain::organisation::{OrgCode, OrgKind};
use nrmp_server::accounts::{Accounts, NewUser};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MISSING_PERSON: &str = "0193a3c0-0000-7000-8000-000000000001";

/// Hole 3: `PUT /persons/{id}` with an invalid body answered 422 for a hidden person that
/// exists and 404 for an id that does not. Access is now decided before the body is judged.
async fn existence_oracle_put_person_with_invalid_body(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    let id = app.person("la-kent-lead", "Arben", "Hoxha").await;
    let mut body = person_body("Arben", "Hoxha");
    body["dob"] = json!({"kind": "exact", "date": "2999-01-01"});
    let put = |path: String| {
        let body = body.clone();
        let app = &app;
        async move {
            app.call(
                Method::PUT,
                &path,
                Some("la-essex-lead"),
                Some("curious"),
                Some(body),
            )
            .await
        }
    };
    let hidden = put(format!("/api/v1/persons/{id}")).await;
    let missing = put(format!("/api/v1/persons/{MISSING_PERSON}")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{missing:?}");
    assert_eq!(hidden.status, missing.status, "{hidden:?}");
    assert_eq!(hidden.body, missing.body);
    // the owner, who may know the person, is told what is wrong
    let r = app
        .call(
            Method::PUT,
            &format!("/api/v1/persons/{id}"),
            Some("la-kent-lead"),
            None,
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.body["errors"][0]["field"], "dob");
    app.stop().await;
}

/// Hole 3, reporting missing: an incident that breaks a domain rule (last seen after it was
/// reported) was judged before access, so a hidden person and an unknown id gave different
/// answers.
async fn existence_oracle_report_missing_for_hidden_person(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    let id = app.person("la-kent-lead", "Arben", "Hoxha").await;
    let report = |person: &str| {
        let mut body = incident_body(person, "force:essex", "high", 2);
        body["reported_at"] = json!(now() - chrono::Duration::hours(5));
        body
    };
    let hidden = app
        .post(
            "/api/v1/incidents",
            "la-essex-lead",
            Some("curious"),
            report(&id),
        )
        .await;
    let missing = app
        .post(
            "/api/v1/incidents",
            "la-essex-lead",
            Some("curious"),
            report(MISSING_PERSON),
        )
        .await;
    assert_eq!(
        missing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{missing:?}"
    );
    assert_eq!(missing.body["errors"][0]["field"], "person_id");
    assert_eq!(hidden.status, missing.status, "{hidden:?}");
    assert_eq!(hidden.body, missing.body);
    app.stop().await;
}

/// Hole 7: API responses carrying personal data had no `Cache-Control: no-store` and no
/// `nosniff`, so a browser or proxy could keep a child's record.
async fn api_responses_are_no_store_and_nosniff(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    let id = app.person("la-kent-lead", "Arben", "Hoxha").await;
    let url = |p: &str| format!("{}{p}", app.base);
    for (path, token) in [
        (format!("/api/v1/persons/{id}"), Some("la-kent-lead")),
        (
            format!("/api/v1/persons/{MISSING_PERSON}"),
            Some("la-kent-lead"),
        ),
        ("/api/v1/persons".to_owned(), None),
    ] {
        let mut req = app.http.get(url(&path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        let h = r.headers();
        assert_eq!(h["cache-control"], "no-store", "{path}: {h:?}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}: {h:?}");
    }
    app.stop().await;
}

const RESEARCHER_PASSWORD: &str = "seven quiet lanterns";

/// Adds a national researcher (password alone, no second factor) as a national administrator.
async fn add_researcher(accounts: &Accounts, username: &str) {
    let admin = Principal::new(
        "set-up-admin",
        OrgCode::parse("org", "national:nmpu").unwrap(),
        OrgKind::NationalUnit,
        vec![Role::Administrator],
        vec![],
    )
    .unwrap();
    accounts
        .add_user(
            &admin,
            "test set-up",
            NewUser {
                username: username.into(),
                org: "national:nmpu".into(),
                roles: vec!["researcher".into()],
                clients: vec![],
                password: RESEARCHER_PASSWORD.into(),
            },
        )
        .await
        .unwrap();
}

async fn sign_in(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.http
        .post(format!("{}/api/v1/session", app.base))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

/// Hole 4: five unauthenticated wrong passwords locked an account for 10 minutes *and* turned
/// its live session and its API tokens (system feeds) into 401s, repeatable for ever. Now the
/// failures only make sign-in wait (429 with `Retry-After`, growing), and the session and the
/// token go on working throughout.
async fn lockout_by_wrong_passwords_keeps_sessions_and_tokens(backend: nrmp_store::Backend) {
    let (app, accounts, _clock) =
        spawn_app_with_accounts_configured(backend, HashParams::FAST_INSECURE_FOR_TESTS, |_| {})
            .await;
    add_researcher(&accounts, "nmpu.feed").await;
    let r = sign_in(&app, "nmpu.feed", RESEARCHER_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let session = r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .post(
            "/api/v1/tokens",
            &session,
            None,
            json!({"name": "nightly feed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let token = r.body["token"].as_str().unwrap().to_owned();
    let before = app.audit().await.len();

    // the attacker: wrong passwords, over and over
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let r = sign_in(&app, "nmpu.feed", "guess guess guess").await;
        let status = r.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=30).contains(&retry), "{retry}");
            assert!(
                r.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/problem+json")
            );
        }
        statuses.push(status);
    }
    assert!(
        statuses[..5].iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert!(
        statuses[5..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );

    // the session and the API token still work
    for credential in [&session, &token] {
        let r = app.get("/api/v1/tokens", credential, None).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
    }
    // audited compactly: five failures and one throttle; the refused attempts wrote nothing
    let events = app.audit().await;
    let new: Vec<_> = events[before..]
        .iter()
        .filter(|e| e.action != AuditAction::Read)
        .map(|e| e.action)
        .collect();
    assert_eq!(
        new.iter()
            .filter(|a| **a == AuditAction::SignInFailed)
            .count(),
        5,
        "{new:?}"
    );
    assert_eq!(
        new.iter().filter(|a| **a == AuditAction::LockOut).count(),
        1,
        "{new:?}"
    );
    app.stop().await;
}

/// Hole 4, by client address: many user names guessed from one address make that address
/// wait, whether or not the names exist.
async fn sign_in_guessing_from_one_address_is_throttled(backend: nrmp_store::Backend) {
    let (app, accounts, _clock) =
        spawn_app_with_accounts_configured(backend, HashParams::FAST_INSECURE_FOR_TESTS, |c| {
            c.sign_in_address_throttle_after = 4;
        })
        .await;
    add_researcher(&accounts, "nmpu.one").await;
    for name in ["nmpu.one", "no.one", "no.two", "no.three"] {
        let r = sign_in(&app, name, "guess guess guess").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // even the right password of an account that failed once waits now
    let r = sign_in(&app, "nmpu.one", RESEARCHER_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "30");
    let throttles: Vec<_> = app
        .audit()
        .await
        .into_iter()
        .filter(|e| e.action == AuditAction::LockOut)
        .collect();
    assert_eq!(throttles.len(), 1);
    assert!(
        throttles[0].detail.contains("127.0.0.1"),
        "{}",
        throttles[0].detail
    );
    app.stop().await;
}

/// Hole 4, the flood: 50 sign-in connections made every sign-in take 4–8 s. Password hashing
/// now runs under a bounded concurrency with a bounded queue: the excess is refused at once
/// (503, `Retry-After`) and the rest of the API keeps answering.
async fn sign_in_flood_does_not_starve_reads(backend: nrmp_store::Backend) {
    // real Argon2id costs (19 MiB, 2 passes): one at a time, two may wait
    let (app, accounts, _clock) =
        spawn_app_with_accounts_configured(backend, HashParams::OWASP, |c| {
            c.sign_in_hash_concurrency = 1;
            c.sign_in_queue = 2;
        })
        .await;
    add_researcher(&accounts, "nmpu.flood").await;
    let r = sign_in(&app, "nmpu.flood", RESEARCHER_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let session = r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let flood: Vec<_> = (0..30)
        .map(|_| {
            let http = reqwest::Client::new();
            let url = format!("{}/api/v1/session", app.base);
            tokio::spawn(async move {
                let r = http
                    .post(url)
                    .json(&json!({"username": "nmpu.flood", "password": RESEARCHER_PASSWORD}))
                    .send()
                    .await
                    .unwrap();
                let retry = r.headers().get("retry-after").cloned();
                let ct = r.headers().get("content-type").cloned();
                (r.status(), retry, ct)
            })
        })
        .collect();
    // meanwhile, reads are answered
    let health = app
        .http
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let r = app.get("/api/v1/tokens", &session, None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let mut busy = 0;
    for t in flood {
        let (status, retry, ct) = t.await.unwrap();
        match status {
            StatusCode::CREATED => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                busy += 1;
                assert_eq!(retry.unwrap(), "1");
                assert!(
                    ct.unwrap()
                        .to_str()
                        .unwrap()
                        .starts_with("application/problem+json")
                );
            }
            other => panic!("{other}"),
        }
    }
    assert!(busy > 0, "the queue never filled");
    assert_eq!(accounts.hash_gate().peak(), 1);
    app.stop().await;
}

/// Opens a TCP connection to the app.
async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.base.trim_start_matches("http://").to_owned();
    TcpStream::connect(addr).await.unwrap()
}

/// Reads until the server closes (or `within` passes); returns what was read.
async fn read_to_close(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut out = Vec::new();
    let read = tokio::time::timeout(within, stream.read_to_end(&mut out)).await;
    match read {
        Ok(Ok(_)) => Some(String::from_utf8_lossy(&out).into_owned()),
        // a reset also means the server closed it
        Ok(Err(_)) => Some(String::from_utf8_lossy(&out).into_owned()),
        Err(_) => None,
    }
}

/// Hole 5: no header-read or idle timeout — 300 half-sent requests stayed open for minutes,
/// and about 1,100 slow connections exhausted the file descriptors so that `/health` stopped
/// answering. Now 2,000 slow connections leave `/health` answering, and each is closed once
/// the header-read timeout passes; connections over the limit get a 503 problem with
/// `Retry-After`.
async fn slow_clients_do_not_exhaust_connections(backend: nrmp_store::Backend) {
    let app = spawn_app_configured(backend, |c| {
        c.header_read_timeout_secs = 2;
    })
    .await;
    let mut slow = Vec::new();
    for _ in 0..2000 {
        let mut s = connect(&app).await;
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(s);
    }
    let health = tokio::time::timeout(
        Duration::from_secs(5),
        app.http.get(format!("{}/health", app.base)).send(),
    )
    .await
    .expect("/health answers under 2,000 slow connections")
    .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    // the server closes each one once its head has not arrived in time
    for s in &mut slow {
        let got = read_to_close(s, Duration::from_secs(10)).await;
        assert!(got.is_some(), "a slow connection was left open");
    }
    drop(slow);
    app.stop().await;

    // over the connection limit: 503 problem with Retry-After, at once
    let app = spawn_app_configured(backend, |c| {
        c.max_connections = 20;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(connect(&app).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await; // let the server accept them
    let mut extra = connect(&app).await;
    extra
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut extra, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("too-many-connections"), "{answer}");
    // once they close, the server answers again
    drop(held);
    let mut ok = false;
    for _ in 0..50 {
        let r = app.http.get(format!("{}/health", app.base)).send().await;
        if r.is_ok_and(|r| r.status() == StatusCode::OK) {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok);
    app.stop().await;
}

/// Hole 5, the body: a client that sends its head and then its body a trickle at a time is
/// answered 408 (problem+json) once the body-read timeout passes.
async fn slow_request_bodies_are_408_problem_json(backend: nrmp_store::Backend) {
    let app = spawn_app_configured(backend, |c| {
        c.body_read_timeout_secs = 1;
    })
    .await;
    let mut s = connect(&app).await;
    s.write_all(
        b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 60\r\n\r\n{\"username\":",
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("answered within the body-read timeout")
        .unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("body-timeout"), "{answer}");
    app.stop().await;
}

/// Hole 7: 413 (on sign-in), 414 and 431 were plain text, not problem+json. Every error the
/// transport can give is now a problem: 413, 414, 431, 405 and 404 of unknown routes.
async fn oversized_headers_are_problem_json(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    let url = |p: &str| format!("{}{p}", app.base);
    let check = |r: reqwest::Response, status: StatusCode, slug: &'static str| async move {
        assert_eq!(r.status(), status, "{slug}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with("application/problem+json"), "{slug}: {ct}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["type"], format!("/api/problems/{slug}"), "{body}");
        assert_eq!(body["status"], status.as_u16());
    };
    // 413 on sign-in, declared and chunked
    let big = "x".repeat(300 * 1024);
    let r = app
        .http
        .post(url("/api/v1/session"))
        .header("content-type", "application/json")
        .body(format!("{{\"username\":\"{big}\"}}"))
        .send()
        .await
        .unwrap();
    check(r, StatusCode::PAYLOAD_TOO_LARGE, "body-too-large").await;
    // chunked, with no Content-Length: refused once the limit is passed
    let mut raw = connect(&app).await;
    raw.write_all(
        b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Transfer-Encoding: chunked\r\n\r\n",
    )
    .await
    .unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 10 * 1024, "x".repeat(10 * 1024));
    for _ in 0..40 {
        if raw.write_all(chunk.as_bytes()).await.is_err() {
            break; // the server answered and closed
        }
    }
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), raw.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    // 414
    let r = app
        .http
        .get(url(&format!("/api/v1/persons?q={}", "a".repeat(10 * 1024))))
        .send()
        .await
        .unwrap();
    check(r, StatusCode::URI_TOO_LONG, "uri-too-long").await;
    // 431: one huge header, or too many
    let r = app
        .http
        .get(url("/health"))
        .header("x-padding", "p".repeat(20 * 1024))
        .send()
        .await
        .unwrap();
    check(
        r,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers-too-large",
    )
    .await;
    let mut req = app.http.get(url("/health"));
    for i in 0..150 {
        req = req.header(format!("x-h{i}"), "1");
    }
    check(
        req.send().await.unwrap(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers-too-large",
    )
    .await;
    // 405 and an unknown route
    let r = app.http.delete(url("/health")).send().await.unwrap();
    check(r, StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed").await;
    let r = app
        .http
        .get(url("/api/v1/no-such-thing"))
        .send()
        .await
        .unwrap();
    check(r, StatusCode::NOT_FOUND, "not-found").await;
    app.stop().await;
}

nrmp_store::on_both_backends!(
    existence_oracle_put_person_with_invalid_body,
    existence_oracle_report_missing_for_hidden_person,
    api_responses_are_no_store_and_nosniff,
    lockout_by_wrong_passwords_keeps_sessions_and_tokens,
    sign_in_guessing_from_one_address_is_throttled,
    sign_in_flood_does_not_starve_reads,
    oversized_headers_are_problem_json,
);

/// A TCP relay to PostgreSQL that can be cut — every relayed connection closed, new ones
/// closed at once — and restored, as a database restart or a network loss would.
struct Relay {
    addr: std::net::SocketAddr,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn to(upstream: String) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (cut, cuts) = tokio::sync::watch::channel(0u64);
        let flag = up.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                if !flag.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let mut cuts = cuts.clone();
                let _ = cuts.borrow_and_update(); // only cuts after this one count
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Self {
            addr,
            up,
            cut,
            task,
        }
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Hole 7, the database: losing the database connection answered 500. Now it is a 503 with
/// `Retry-After` (problem+json), and the server recovers by itself once the database is back.
/// PostgreSQL only: the connection is cut by a relay between the server and the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_database_is_503_with_retry_after() {
    use nrmp_server::test_support::StaticAuthenticator;
    use nrmp_store::prelude::*;
    use nrmp_store::{Ctx, SqlStore};
    let db = nrmp_store::test_support::TestDb::new(nrmp_store::Backend::Postgres)
        .await
        .unwrap();
    let ctx = Ctx::new(
        nrmp_store::test_support::actor("test-setup", "national:nmpu"),
        "test set-up",
        now(),
    );
    db.store
        .put_organisations(&ctx, &crate::helpers::organisations())
        .await
        .unwrap();
    // postgres://user@host:port/db → host:port
    let authority = |url: &str| {
        let rest = url.split_once("://").unwrap().1;
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        rest.split('/').next().unwrap().to_owned()
    };
    let upstream = authority(&db.url);
    let relay = Relay::to(upstream.clone()).await;
    let relayed_url = db.url.replacen(&upstream, &relay.addr.to_string(), 1);
    let store: std::sync::Arc<dyn Store> =
        std::sync::Arc::new(SqlStore::connect(&relayed_url).await.unwrap());
    let auth = std::sync::Arc::new(StaticAuthenticator::new());
    auth.insert(
        "la-kent-lead",
        crate::helpers::principal("la-kent-lead", vec![]),
    );
    let config = nrmp_server::Config {
        bind: "127.0.0.1:0".into(),
        database_url: relayed_url.clone(),
        ..nrmp_server::Config::default()
    };
    let clock = std::sync::Arc::new(nrmp_domain::clock::FixedClock::new(now()));
    let app = nrmp_server::build(config, store, clock, auth)
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(app.serve(async {
        stopped.await.ok();
    }));
    let http = reqwest::Client::new();
    let create = http
        .post(format!("{base}/api/v1/persons"))
        .bearer_auth("la-kent-lead")
        .json(&person_body("Arben", "Hoxha"))
        .send()
        .await
        .unwrap();
    assert_eq!(create.status(), StatusCode::CREATED);
    let id = create.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = || {
        http.get(format!("{base}/api/v1/persons/{id}"))
            .bearer_auth("la-kent-lead")
            .send()
    };
    assert_eq!(read().await.unwrap().status(), StatusCode::OK);

    relay.cut();
    let r = tokio::time::timeout(Duration::from_secs(15), read())
        .await
        .expect("answered while the database is away")
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "5");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["type"], "/api/problems/unavailable", "{body}");

    relay.restore();
    let mut recovered = false;
    for _ in 0..40 {
        if read().await.is_ok_and(|r| r.status() == StatusCode::OK) {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        recovered,
        "the server did not recover once the database was back"
    );
    let _ = stop.send(());
    let _ = served.await;
    relay.task.abort();
    db.cleanup().await;
}

/// The transport tests need no second backend: the listener is the same whatever stores the
/// register.
mod transport {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn slow_clients_do_not_exhaust_connections() {
        super::slow_clients_do_not_exhaust_connections(nrmp_store::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn slow_request_bodies_are_408_problem_json() {
        super::slow_request_bodies_are_408_problem_json(nrmp_store::Backend::Sqlite).await;
    }
}
