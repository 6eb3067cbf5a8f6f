//! The web UI: the page and its assets are served with their media types, the security headers
//! (CSP, nosniff) and revalidation (ETag, 304); unknown UI paths are 404 problems; every API
//! call the JavaScript makes is a route the server serves; and a session cookie cannot be used
//! by another site's form (SameSite=Strict, JSON-only bodies, no CORS).

use crate::helpers::{
    PASSWORD, add_kent_coordinator, person_body, spawn_app, spawn_app_with_accounts,
};
use nrmp_domain::clock::Clock;
use nrmp_server::ui::{ASSETS, CONTENT_SECURITY_POLICY};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn assert_secured(h: &HeaderMap, what: &str) {
    let csp = header(h, "content-security-policy");
    assert_eq!(csp, CONTENT_SECURITY_POLICY, "{what}");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{what}: {csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{what}: {csp}"
    );
    assert_eq!(header(h, "x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header(h, "referrer-policy"), "no-referrer", "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_its_assets_are_served_with_security_headers() {
    let app = spawn_app(nrmp_store::Backend::Sqlite).await;
    let get = |path: &str| app.http.get(format!("{}{path}", app.base)).send();

    let res = get("/").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header(res.headers(), "content-type"),
        "text/html; charset=utf-8"
    );
    assert_secured(res.headers(), "/");
    assert_eq!(header(res.headers(), "cache-control"), "no-cache");
    let etag = header(res.headers(), "etag").to_owned();
    let page = res.text().await.unwrap();
    assert!(page.contains(r#"src="/ui/js/main.js""#), "{page}");
    assert!(page.contains(r#"href="/ui/app.css""#), "{page}");

    // Revalidation: the same validator answers 304 without a body; another one, the page.
    let res = app
        .http
        .get(format!("{}/", app.base))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_secured(res.headers(), "/ (304)");
    let res = app
        .http
        .get(format!("{}/", app.base))
        .header(header::IF_NONE_MATCH, "\"0000000000000000\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let mut scripts = 0;
    for a in ASSETS.iter().filter(|a| a.path != "index.html") {
        let res = get(&format!("/ui/{}", a.path)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{}", a.path);
        let ty = header(res.headers(), "content-type").to_owned();
        if a.path.ends_with(".js") {
            assert_eq!(ty, "text/javascript; charset=utf-8", "{}", a.path);
            scripts += 1;
        } else if a.path.ends_with(".css") {
            assert_eq!(ty, "text/css; charset=utf-8", "{}", a.path);
        }
        assert_secured(res.headers(), a.path);
        assert_eq!(
            header(res.headers(), "cache-control"),
            "no-cache",
            "{}",
            a.path
        );
        assert!(!header(res.headers(), "etag").is_empty(), "{}", a.path);
        assert_eq!(res.text().await.unwrap(), a.body, "{}", a.path);
    }
    assert!(scripts >= 5, "the UI's modules are served ({scripts})");

    // Every module the page or a module imports is one the server serves.
    for a in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
        for line in a.body.lines().filter(|l| l.starts_with("import ")) {
            let from = line.rsplit("from '").next().unwrap().trim_end_matches("';");
            let target = format!("js/{}", from.trim_start_matches("./"));
            assert!(
                ASSETS.iter().any(|x| x.path == target),
                "{} imports {from}, which is not embedded",
                a.path
            );
        }
    }

    for path in [
        "/ui/nope.js",
        "/ui/js/",
        "/ui/index.html",
        "/ui/../Cargo.toml",
        "/ui/js/%2e%2e/%2e%2e/src/ui.rs",
        "/ui/JS/MAIN.JS",
    ] {
        let res = get(path).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            header(res.headers(), "content-type").starts_with("application/problem+json"),
            "{path}"
        );
    }
    app.stop().await;
}

/// A call the UI's JavaScript makes: `api('METHOD', 'path'…)` with the path as written (a
/// template literal's `${…}` parts stand for one path segment each).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Call {
    method: String,
    path: String,
}

/// Every `api('METHOD', '/api/v1/…'` and `` api('METHOD', `/api/v1/…` `` in the modules; a
/// call whose path is not a literal is returned with the path `<not a literal>` (which no
/// route matches), so every call must name its path where it is made.
fn calls_in(js: &str) -> Vec<Call> {
    let mut out = Vec::new();
    let mut rest = js;
    while let Some(i) = rest.find("api('") {
        rest = &rest[i + 5..];
        let Some(end) = rest.find('\'') else { break };
        let method = rest[..end].to_ascii_lowercase();
        let after = rest[end + 1..].trim_start_matches(',').trim_start();
        let Some(quote) = after.chars().next().filter(|c| matches!(c, '\'' | '`')) else {
            out.push(Call {
                method,
                path: "<not a literal>".into(),
            });
            continue;
        };
        let body = &after[1..];
        let Some(close) = body.find(quote) else { break };
        out.push(Call {
            method,
            path: body[..close].to_owned(),
        });
    }
    out
}

/// Whether a path as the JavaScript writes it (`/api/v1/incidents/${id}?${q}`) is the route
/// `route` (`/api/v1/incidents/{id}`): the query is dropped, each `${…}` segment stands for a
/// `{…}` segment of the route, other segments must be equal.
fn is_route(js_path: &str, route: &str) -> bool {
    let path = js_path.split('?').next().unwrap_or("");
    let a: Vec<&str> = path.split('/').collect();
    let b: Vec<&str> = route.split('/').collect();
    a.len() == b.len()
        && a.iter().zip(&b).all(|(x, y)| {
            if x.starts_with("${") && x.ends_with('}') {
                y.starts_with('{') && y.ends_with('}')
            } else {
                x == y
            }
        })
}

#[test]
fn every_api_call_of_the_ui_is_a_served_route() {
    let served = nrmp_server::openapi::served();
    let mut calls: Vec<Call> = ASSETS
        .iter()
        .filter(|a| a.path.ends_with(".js"))
        .flat_map(|a| calls_in(a.body))
        .collect();
    calls.sort();
    calls.dedup();
    for c in &calls {
        assert!(
            served
                .iter()
                .any(|(m, r)| *m == c.method && is_route(&c.path, r)),
            "the UI calls {} {}, which the server does not serve",
            c.method,
            c.path
        );
    }
    // The parser finds the screens' calls (so the check above is not vacuous)…
    let has = |m: &str, route: &str| {
        calls
            .iter()
            .any(|c| c.method == m && is_route(&c.path, route))
    };
    for (m, route) in [
        ("post", "/api/v1/session"),
        ("delete", "/api/v1/session"),
        ("post", "/api/v1/encounters"),
        ("get", "/api/v1/incidents"),
        ("get", "/api/v1/incidents/{id}"),
        ("post", "/api/v1/incidents/{id}/risk"),
        ("post", "/api/v1/incidents/{id}/return"),
        ("get", "/api/v1/persons/{id}/history"),
        ("post", "/api/v1/incidents"),
        ("get", "/api/v1/organisations"),
        ("post", "/api/v1/statistics"),
    ] {
        assert!(has(m, route), "no call of {m} {route} found in {calls:?}");
    }
    // …every path literal in the modules is inside such a call…
    let literals: usize = ASSETS
        .iter()
        .filter(|a| a.path.ends_with(".js"))
        .map(|a| a.body.matches("'/api/v1/").count() + a.body.matches("`/api/v1/").count())
        .sum();
    let comparisons = ASSETS
        .iter()
        .map(|a| a.body.matches("!== '/api/v1/session'").count())
        .sum::<usize>();
    let all_calls: usize = ASSETS
        .iter()
        .filter(|a| a.path.ends_with(".js"))
        .map(|a| calls_in(a.body).len())
        .sum();
    assert_eq!(
        literals,
        all_calls + comparisons,
        "an API path outside api(…)"
    );
    // …and the matcher tells routes apart.
    assert!(!is_route(
        "/api/v1/incidents/${id}/nope",
        "/api/v1/incidents/{id}"
    ));
    assert!(!is_route(
        "/api/v1/incidents/open",
        "/api/v1/incidents/{id}"
    ));
    assert!(is_route("/api/v1/incidents?${q}", "/api/v1/incidents"));
}

async fn a_session_cookie_cannot_be_used_by_another_sites_form(backend: nrmp_store::Backend) {
    let (app, accounts, clock) = spawn_app_with_accounts(backend).await;
    let secret = add_kent_coordinator(&accounts, "coord.kent").await;
    let url = |p: &str| format!("{}{p}", app.base);

    // Sign-in itself refuses a form post (no login CSRF), then signs in from JSON.
    let res = app
        .http
        .post(url("/api/v1/session"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("username=coord.kent&password=quiet+harbour+lantern")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    let res = app
        .http
        .post(url("/api/v1/session"))
        .json(&serde_json::json!({
            "username": "coord.kent",
            "password": PASSWORD,
            "totp": secret.code_at(clock.now()),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let set = header(res.headers(), "set-cookie").to_owned();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    let cookie = set.split(';').next().unwrap().to_owned();
    assert!(cookie.starts_with("nrmp_session=nrmp_s_"), "{cookie}");

    // What a cross-site HTML form can send — these content types need no CORS preflight — is
    // refused before anything is written, even with the cookie attached.
    let body = person_body("Thi Lan", "Nguyen").to_string();
    for ty in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let res = app
            .http
            .post(url("/api/v1/persons"))
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, ty)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{ty}");
    }
    let list = || {
        app.http
            .get(url("/api/v1/persons"))
            .header(header::COOKIE, &cookie)
            .header("x-nrmp-reason", "checking the test")
            .send()
    };
    let persons: serde_json::Value = list().await.unwrap().json().await.unwrap();
    assert_eq!(
        persons["items"].as_array().map(Vec::len),
        Some(0),
        "{persons}"
    );

    // A request another site's page (or a page on another port of this host) makes the browser
    // send carries the cookie, but the browser says where it came from: the cookie counts only
    // for the register's own pages.
    for (site, status) in [
        ("same-site", StatusCode::UNAUTHORIZED),
        ("cross-site", StatusCode::UNAUTHORIZED),
        ("same-origin", StatusCode::OK),
        ("none", StatusCode::OK),
    ] {
        let res = app
            .http
            .get(url("/api/v1/persons"))
            .header(header::COOKIE, &cookie)
            .header("sec-fetch-site", site)
            .header("x-nrmp-reason", "checking the test")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "Sec-Fetch-Site: {site}");
    }

    // A browser that sends no Sec-Fetch-Site still sends Origin on a write: from another
    // origin, the cookie is not a credential (the write is refused and nothing is stored).
    let res = app
        .http
        .post(url("/api/v1/persons"))
        .header(header::COOKIE, &cookie)
        .header(header::ORIGIN, "http://evil.example")
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "cookie write from another origin"
    );
    let persons: serde_json::Value = list().await.unwrap().json().await.unwrap();
    assert_eq!(
        persons["items"].as_array().map(Vec::len),
        Some(0),
        "{persons}"
    );

    // Another origin gets no CORS grant, so its script cannot send JSON or DELETE with the cookie.
    let res = app
        .http
        .request(reqwest::Method::OPTIONS, url("/api/v1/session"))
        .header(header::ORIGIN, "https://elsewhere.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "DELETE")
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
    assert!(
        res.headers()
            .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none()
    );

    // The UI's own request — JSON from the same origin with the cookie — is accepted.
    let res = app
        .http
        .post(url("/api/v1/persons"))
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let persons: serde_json::Value = list().await.unwrap().json().await.unwrap();
    assert_eq!(
        persons["items"].as_array().map(Vec::len),
        Some(1),
        "{persons}"
    );

    // Signing out ends the session and clears the cookie.
    let res = app
        .http
        .delete(url("/api/v1/session"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(header(res.headers(), "set-cookie").contains("Max-Age=0"));
    assert_eq!(list().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

crate::on_both!(a_session_cookie_cannot_be_used_by_another_sites_form);
