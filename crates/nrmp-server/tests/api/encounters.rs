//! The encounter check: ranked, explained candidates limited to what the caller may see.

use crate::helpers::{person_body, spawn_app};
use nrmp_domain::audit::AuditAction;
use reqwest::StatusCode;
use serde_json::json;

async fn the_encounter_check_finds_the_child_and_shows_the_encounter_view(
    backend: nrmp_store::Backend,
) {
    let app = spawn_app(backend).await;
    let child = app.person("la-kent-lead", "Van Duc", "Nguyen").await;
    let _other = app.person("la-kent-lead", "Arben", "Hoxha").await;
    app.incident("kent-coordinator", &child, "force:kent", "high", 30)
        .await;
    // a person created after start is in the index too (kept current on writes)
    let query = json!({"name": "Nguyen Duc", "dob": "2009", "sex": "male", "nationalities": ["VNM"], "k": 5});
    let r = app
        .post("/api/v1/encounters", "essex-patrol", None, query.clone())
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "a reason is required: {r:?}"
    );
    let r = app
        .post(
            "/api/v1/encounters",
            "essex-patrol",
            Some("stopped at Harwich port"),
            query.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let first = &r.body["candidates"][0];
    assert_eq!(first["rank"], 1);
    assert_eq!(first["person"]["id"], child.as_str());
    let p = first["match_probability"].as_f64().unwrap();
    for other in r.body["candidates"].as_array().unwrap().iter().skip(1) {
        assert!(other["match_probability"].as_f64().unwrap() < p, "{r:?}");
    }
    // encounter view: names and description, but no identifiers or nationalities…
    assert!(first["person"].get("names").is_some());
    assert!(first["person"].get("identifiers").is_none());
    assert!(first["person"].get("nationalities").is_none());
    // …and no nationality evidence in the explanation
    let fields: Vec<&str> = first["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"name") && !fields.contains(&"nationality"),
        "{fields:?}"
    );
    assert_eq!(first["withheld_evidence"], true);
    // whether missing and whom to call
    assert_eq!(first["open_incidents"][0]["risk"], "high");
    assert_eq!(first["open_incidents"][0]["owning_org"], "force:kent");
    assert!(first["open_incidents"][0].get("circumstances").is_none());
    // the search is audited with its reason and the ids shown
    let events = app.audit().await;
    let e = events
        .iter()
        .rev()
        .find(|e| e.action == AuditAction::Search)
        .unwrap();
    assert_eq!(e.reason, "stopped at Harwich port");
    assert!(e.record_ids.contains(&child));
    assert!(e.detail.contains("name=Nguyen Duc"), "{}", e.detail);
    // an authority not involved gets no rows at all (not even a count)
    let r = app
        .post(
            "/api/v1/encounters",
            "la-essex-lead",
            Some("new arrival"),
            query.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["candidates"], json!([]));
    // the researcher may not search
    let r = app
        .post("/api/v1/encounters", "researcher", Some("study"), query)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // a renamed person is found under the new name
    let mut body = person_body("Minh", "Tran");
    body["dob"] = json!({"kind": "exact", "date": "2009-03-04"});
    let r = app
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/persons/{child}"),
            Some("la-kent-lead"),
            None,
            Some(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = app
        .post(
            "/api/v1/encounters",
            "kent-coordinator",
            Some("sighting call"),
            json!({"given": "Minh", "family": "Tran", "dob": "2009-03-04"}),
        )
        .await;
    assert_eq!(
        r.body["candidates"][0]["person"]["id"],
        child.as_str(),
        "{r:?}"
    );
    // an empty query names what is missing; k is bounded
    let r = app
        .post(
            "/api/v1/encounters",
            "essex-patrol",
            Some("x"),
            json!({"sex": "male"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post(
            "/api/v1/encounters",
            "essex-patrol",
            Some("x"),
            json!({"name": "A", "k": 100000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "k");
    app.stop().await;
}

/// The names of the candidates an encounter check for `query` returns.
async fn candidate_ids(app: &crate::helpers::TestApp, query: &serde_json::Value) -> Vec<String> {
    let r = app
        .post(
            "/api/v1/encounters",
            "nmpu-analyst",
            Some("test"),
            query.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["person"]["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Polls the encounter check until `done` holds for its candidates (changes made outside the
/// server reach the index within `index_follow_ms`), for at most ten seconds.
async fn eventually(
    app: &crate::helpers::TestApp,
    query: &serde_json::Value,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let ids = candidate_ids(app, query).await;
        if done(&ids) || tokio::time::Instant::now() > deadline {
            return ids;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn changes_made_outside_the_server_reach_the_index(backend: nrmp_store::Backend) {
    use nrmp_domain::person::{NameKind, PersonName};
    use nrmp_store::Store;
    let app = spawn_app(backend).await;
    let id = app.person("la-kent-lead", "Van Duc", "Nguyen").await;
    let ctx = nrmp_store::Ctx::new(
        nrmp_store::test_support::actor("nrmp-cli", "national:nmpu"),
        "a change made by another node",
        crate::helpers::now(),
    );
    // Another node renames the person: the new name finds them.
    let pid: nrmp_domain::ids::PersonId = id.parse().unwrap();
    let mut p = app.db.store.person(&ctx, pid).await.unwrap();
    p.names =
        vec![PersonName::parse(NameKind::Primary, "Tesfay", "Gebremedhin", None, false).unwrap()];
    app.db.store.update_person(&ctx, &p).await.unwrap();
    let renamed = json!({"given": "Tesfay", "family": "Gebremedhin", "k": 5});
    let ids = eventually(&app, &renamed, |ids| ids.contains(&id)).await;
    assert!(
        ids.contains(&id),
        "the renamed person was not found: {ids:?}"
    );
    // The person is erased (retention, from the command line): no longer a candidate.
    app.db
        .store
        .erase_person(&ctx, pid, "retention period over")
        .await
        .unwrap();
    let ids = eventually(&app, &renamed, |ids| !ids.contains(&id)).await;
    assert!(
        !ids.contains(&id),
        "an erased person is still a candidate: {ids:?}"
    );
    app.stop().await;
}

crate::on_both!(
    the_encounter_check_finds_the_child_and_shows_the_encounter_view,
    changes_made_outside_the_server_reach_the_index
);
