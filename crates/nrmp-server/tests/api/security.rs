//! Regression tests named after the holes an outside tester found (issue "Nobody let in"), each
//! a sequence of ordinary requests.

use crate::helpers::{incident_body, now, person_body, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

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

nrmp_store::on_both_backends!(
    existence_oracle_put_person_with_invalid_body,
    existence_oracle_report_missing_for_hidden_person,
    api_responses_are_no_store_and_nosniff,
);
