//! Persons: create, read under need-to-know, replace, list, history — and the audit trail.

use crate::helpers::{person_body, spawn_app};
use nrmp_domain::audit::AuditAction;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn a_person_is_read_within_need_to_know(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    let r = app
        .post(
            "/api/v1/persons",
            "la-kent-lead",
            None,
            person_body("Van Duc", "Nguyen"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["owning_org"], "la:kent");
    assert_eq!(r.body["names"][0]["family"], "Nguyen");
    let path = format!("/api/v1/persons/{id}");
    // the owner reads without a reason
    let r = app.get(&path, "la-kent-sw", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.get("identifiers").is_some());
    // a force not involved: national-search view, with a reason only
    let r = app.get(&path, "essex-coordinator", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert_eq!(r.body["type"], "/api/problems/reason-required");
    assert_eq!(r.body["errors"][0]["field"], "reason");
    let r = app
        .get(
            &path,
            "essex-coordinator",
            Some("found at Chelmsford station"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.get("names").is_some() && r.body.get("created_at").is_some());
    // another authority: as if it did not exist
    let r = app.get(&path, "la-essex-lead", Some("curious")).await;
    let missing = app
        .get(
            "/api/v1/persons/0193a3c0-0000-7000-8000-000000000001",
            "la-essex-lead",
            Some("curious"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body, missing.body);
    // researcher and administrator: no case data
    assert_eq!(
        app.get(&path, "researcher", Some("x")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&path, "kent-admin", Some("x")).await.status,
        StatusCode::FORBIDDEN
    );
    // the audit trail: the read with its reason, and the refusal
    let events = app.audit().await;
    assert!(events.iter().any(|e| e.action == AuditAction::Read
        && e.actor.org.as_str() == "force:essex"
        && e.reason == "found at Chelmsford station"
        && e.record_ids == vec![id.clone()]));
    assert!(events.iter().any(|e| e.actor.org.as_str() == "la:essex"
        && e.detail.starts_with("refused: not_involved")
        && e.record_ids == vec![id.clone()]));
    app.stop().await;
}

async fn a_person_is_replaced_within_the_grant(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    let id = app.person("la-kent-lead", "Arben", "Hoxha").await;
    let path = format!("/api/v1/persons/{id}");
    let mut body = person_body("Arben", "Hoxha");
    body["nationalities"] = json!(["ALB"]);
    let r = app
        .call(
            Method::PUT,
            &path,
            Some("la-kent-sw"),
            None,
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["nationalities"], json!(["ALB"]));
    // a force not involved may not change a person
    let r = app
        .call(
            Method::PUT,
            &path,
            Some("kent-coordinator"),
            Some("tidy"),
            Some(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    // the change is kept
    let r = app.get(&path, "la-kent-lead", None).await;
    assert_eq!(r.body["nationalities"], json!(["ALB"]));
    app.stop().await;
}

async fn lists_and_history_show_only_what_may_be_seen(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    let kent_child = app.person("la-kent-lead", "Yonas", "Tesfay").await;
    let essex_child = app.person("la-essex-lead", "Hamid", "Karimi").await;
    let reason = Some("case review");
    let r = app.get("/api/v1/persons", "la-kent-lead", reason).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let ids: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![kent_child.as_str()]);
    let r = app.get("/api/v1/persons", "nmpu-analyst", reason).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    // paging
    let r = app
        .get("/api/v1/persons?limit=1", "nmpu-analyst", reason)
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    let next = r.body["next"].as_str().unwrap().to_owned();
    let r2 = app
        .get(
            &format!("/api/v1/persons?limit=1&after={next}"),
            "nmpu-analyst",
            reason,
        )
        .await;
    assert_eq!(r2.body["items"].as_array().unwrap().len(), 1);
    assert_ne!(r.body["items"][0]["id"], r2.body["items"][0]["id"]);
    // the search is audited with the ids shown
    let events = app.audit().await;
    assert!(events.iter().any(|e| e.action == AuditAction::Search
        && e.actor.org.as_str() == "la:kent"
        && e.record_ids == vec![kent_child.clone()]
        && e.reason == "case review"));
    // history: an incident and a placement; a force not involved sees the person and incidents
    // in the national-search view, and no placements
    app.incident("kent-coordinator", &essex_child, "force:kent", "high", 5)
        .await;
    let r = app
        .post(
            &format!("/api/v1/persons/{essex_child}/placements"),
            "la-essex-lead",
            None,
            json!({"host_authority": "la:essex", "placement_type": "foster", "started_at": "2026-01-01T00:00:00Z", "unaccompanied": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let h = app
        .get(
            &format!("/api/v1/persons/{essex_child}/history"),
            "la-essex-sw",
            None,
        )
        .await;
    assert_eq!(h.status, StatusCode::OK, "{h:?}");
    assert_eq!(h.body["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(h.body["placements"][0]["unaccompanied"], true);
    let h = app
        .get(
            &format!("/api/v1/persons/{essex_child}/history"),
            "essex-handler",
            Some("call from the public"),
        )
        .await;
    assert_eq!(h.status, StatusCode::OK, "{h:?}");
    assert!(h.body.get("placements").is_none(), "{h:?}");
    assert!(h.body["incidents"][0].get("circumstances").is_none());
    assert_eq!(h.body["incidents"][0]["risk"], "high");
    app.stop().await;
}

crate::on_both!(
    a_person_is_read_within_need_to_know,
    a_person_is_replaced_within_the_grant,
    lists_and_history_show_only_what_may_be_seen
);
