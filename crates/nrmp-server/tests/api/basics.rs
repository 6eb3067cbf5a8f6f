//! Health, readiness, metrics, OpenAPI, authentication and the error format.

use crate::helpers::{person_body, spawn_app};
use nrmp_store::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn health_ready_metrics_and_openapi(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    let r = app.call(Method::GET, "/health", None, None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.call(Method::GET, "/ready", None, None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["status"], "ready");
    assert_eq!(r.body["backend"], backend.name());
    app.get("/api/v1/organisations", "researcher", None).await;
    let text = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("nrmp_http_requests_total{method=\"GET\",route=\"/api/v1/organisations\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("nrmp_http_request_duration_seconds_bucket"),
        "{text}"
    );
    let r = app
        .call(Method::GET, "/api/openapi.json", None, None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = r.body["paths"].as_object().unwrap();
    // every route the API and accounts routers serve is described, with its method
    // every route the API and accounts routers declare is described (each is declared once for
    // both) and really served: asked without a credential, none falls through to the router's
    // fallbacks (404 "no such resource", 405)
    let served = nrmp_server::openapi::served();
    assert!(
        served.len() >= 37,
        "the route tables lost routes: {served:?}"
    );
    let fallen: Vec<String> = {
        let mut fallen = Vec::new();
        // this app mounts the case API only; the accounts routes are driven in tests/accounts.rs
        let accounts = ["/api/v1/session", "/api/v1/tokens", "/api/v1/users"];
        for (method, path) in served
            .iter()
            .filter(|(_, p)| !accounts.iter().any(|a| p.starts_with(a)))
        {
            let concrete = path
                .replace("{id}", "0192f3c4-7d1e-7a51-9c3e-2b8f4d6a1e07")
                .replace("{rid}", "0192f3c4-7d1e-7a51-9c3e-2b8f4d6a1e08");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app.call(m, &concrete, None, None, None).await;
            if r.status == StatusCode::METHOD_NOT_ALLOWED
                || (r.status == StatusCode::NOT_FOUND && r.body["detail"] == "no such resource")
            {
                fallen.push(format!("{} {path}: {}", method.to_uppercase(), r.status));
            }
        }
        fallen
    };
    assert!(
        fallen.is_empty(),
        "described in the OpenAPI document but not served: {fallen:?}"
    );
    // and the document describes nothing that is not served
    let described: Vec<String> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| !matches!(k.as_str(), "parameters" | "summary" | "description"))
                .map(move |m| format!("{m} {path}"))
        })
        .collect();
    for d in &described {
        assert!(
            served.iter().any(|(m, p)| format!("{m} {p}") == *d),
            "{d} is in the OpenAPI document but not served"
        );
    }
    // operation ids are unique (OpenAPI requires it; the handlers' names repeat across modules)
    let mut ids: Vec<&str> = paths
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op.get("operationId").and_then(|v| v.as_str()))
        .collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before, "repeated operation ids");
    assert_eq!(ids.len(), served.len(), "an operation without an id");
    // the accounts routes are tagged, and say which responses carry a secret shown once
    let sign_in = &paths["/api/v1/session"]["post"];
    assert_eq!(sign_in["tags"][0], "accounts");
    assert!(
        sign_in["responses"]["201"]["description"]
            .as_str()
            .unwrap()
            .contains("SECRET SHOWN ONCE"),
        "{sign_in}"
    );
    assert!(
        sign_in["requestBody"]["description"]
            .as_str()
            .unwrap()
            .contains("username")
    );
    for status in ["401", "403", "404", "422"] {
        assert!(
            paths["/api/v1/users/{id}"]["patch"]["responses"][status]["content"]
                ["application/problem+json"]
                .is_object(),
            "PATCH /api/v1/users/{{id}} {status}"
        );
    }
    // the routes are built from those tables: both methods of a path are served, others are a
    // problem+json 405
    let r = app
        .get(
            "/api/v1/persons?limit=1",
            "kent-coordinator",
            Some("weekly review"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = app
        .call(
            Method::PATCH,
            "/api/v1/persons",
            Some("la-kent-lead"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{r:?}");
    assert_eq!(r.content_type, "application/problem+json");
    app.stop().await;
}

async fn credentials_are_required(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    let r = app
        .call(Method::GET, "/api/v1/organisations", None, None, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.content_type, "application/problem+json");
    assert_eq!(r.body["type"], "/api/problems/unauthenticated");
    let r = app
        .call(
            Method::GET,
            "/api/v1/organisations",
            Some("no-such-token"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // the session cookie is accepted like a bearer token
    let res = app
        .http
        .get(format!("{}/api/v1/organisations", app.base))
        .header("cookie", "nrmp_session=kent-coordinator")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let orgs: serde_json::Value = res.json().await.unwrap();
    assert_eq!(orgs.as_array().unwrap().len(), 6);
    app.stop().await;
}

async fn bad_input_is_a_4xx_problem_naming_the_field(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    let t = Some("la-kent-lead");
    // wrong type deep inside the body
    let mut body = person_body("Duc", "Nguyen");
    body["dob"] = json!({"kind": "exact", "date": "2009-13-01"});
    let r = app
        .call(Method::POST, "/api/v1/persons", t, None, Some(body))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.content_type, "application/problem+json");
    assert_eq!(r.body["errors"][0]["field"], "dob", "{r:?}");
    // an unknown field
    let mut body = person_body("Duc", "Nguyen");
    body["owning_org"] = json!("la:essex");
    let r = app
        .call(Method::POST, "/api/v1/persons", t, None, Some(body))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["errors"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("owning_org"),
        "{r:?}"
    );
    // not JSON, and not declared as JSON
    let res = app
        .http
        .post(format!("{}/api/v1/persons", app.base))
        .bearer_auth("la-kent-lead")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .http
        .post(format!("{}/api/v1/persons", app.base))
        .bearer_auth("la-kent-lead")
        .body("names=x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // too large
    let mut body = person_body("Duc", "Nguyen");
    body["description"]["hair"] = json!("x".repeat(300 * 1024));
    let r = app
        .call(Method::POST, "/api/v1/persons", t, None, Some(body))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{r:?}");
    assert_eq!(r.body["type"], "/api/problems/body-too-large");
    // a path id that is not an id; an unknown path; a wrong method
    let r = app
        .get("/api/v1/persons/not-a-uuid", "la-kent-lead", None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "id");
    let r = app.get("/api/v1/nothing-here", "la-kent-lead", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.content_type, "application/problem+json");
    let r = app
        .call(Method::DELETE, "/api/v1/organisations", t, None, None)
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    // page sizes are bounded; unknown query parameters are named
    let reason = Some("weekly review of open cases");
    let r = app
        .get("/api/v1/incidents?limit=501", "kent-coordinator", reason)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "limit");
    let r = app
        .get(
            "/api/v1/incidents?risk=severe,high&open=maybe",
            "kent-coordinator",
            reason,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["open", "risk"], "{r:?}");
    let r = app
        .get("/api/v1/incidents?colour=red", "kent-coordinator", reason)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["errors"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("colour")
    );
    // nothing was stored by any of this
    assert_eq!(app.db.store.counts().await.unwrap().persons, 0);
    app.stop().await;
}

async fn a_request_that_takes_too_long_is_a_408_problem(backend: nrmp_store::Backend) {
    let db = nrmp_store::test_support::TestDb::new(backend)
        .await
        .unwrap();
    let config = nrmp_server::Config {
        bind: "127.0.0.1:0".into(),
        database_url: db.url.clone(),
        request_timeout_secs: 1,
        ..nrmp_server::Config::default()
    };
    let app = nrmp_server::build(
        config,
        db.store.clone(),
        std::sync::Arc::new(nrmp_domain::clock::FixedClock::new(crate::helpers::now())),
        std::sync::Arc::new(nrmp_server::test_support::StaticAuthenticator::new()),
    )
    .await
    .unwrap()
    .merge(axum::Router::new().route(
        "/slow",
        axum::routing::get(|| async {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            "done"
        }),
    ));
    let base = format!("http://{}", app.local_addr());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(async {
        rx.await.ok();
    }));
    let res = reqwest::get(format!("{base}/slow")).await.unwrap();
    assert_eq!(res.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["type"], "/api/problems/timeout");
    tx.send(()).unwrap();
    server.await.unwrap().unwrap();
    db.cleanup().await;
}

/// Issue 18: every answer carries a request id (the client's, if plausible, else a fresh
/// one), and every problem body names it, so an error report leads to the request's log line.
async fn every_answer_has_a_request_id_and_problems_name_it(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    let url = format!(
        "{}/api/v1/persons/0193a3c0-0000-7000-8000-000000000001",
        app.base
    );
    // the client's id is kept, in the header and the problem
    let r = app
        .http
        .get(&url)
        .bearer_auth("la-kent-lead")
        .header("x-request-id", "case-review-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()["x-request-id"], "case-review-42");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["request_id"], "case-review-42", "{body}");
    assert_eq!(body["type"], "/api/problems/not-found");
    // none, or an implausible one: a fresh UUID, the same in header and body
    for sent in [None, Some("two words and far too long ".repeat(4))] {
        let mut req = app.http.get(&url);
        if let Some(s) = &sent {
            req = req.header("x-request-id", s.as_str());
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["request_id"], id.as_str());
    }
    // answers that are not problems carry it too, and two requests get two ids
    let a = app
        .http
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    let b = app
        .http
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_ne!(a.headers()["x-request-id"], b.headers()["x-request-id"]);
    app.stop().await;
}

crate::on_both!(
    every_answer_has_a_request_id_and_problems_name_it,
    a_request_that_takes_too_long_is_a_408_problem,
    health_ready_metrics_and_openapi,
    credentials_are_required,
    bad_input_is_a_4xx_problem_naming_the_field
);
