//! The encounter check: ranked, explained candidates limited to what the caller may see.

use crate::helpers::{person_body, spawn_app};
use nrmp_domain::audit::AuditAction;
use nrmp_store::prelude::*;
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
    // …the chain holding which fields were given, the query itself kept apart (erasably)
    assert_eq!(
        e.detail,
        "encounter check: fields=name,dob,sex,nationality; k=5"
    );
    let kept = app.db.store.search_queries(&[e.seq]).await.unwrap();
    assert_eq!(
        kept[&e.seq],
        "name=Nguyen Duc, dob=2009, sex=male, nationality=VNM"
    );
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

/// The hole: the encounter check wrote its query (names, date of birth, marks) into the
/// append-only, hash-chained log, where erasing the person could never reach it.
async fn audit_log_holds_no_encounter_query_after_erasure(backend: nrmp_store::Backend) {
    use nrmp_domain::retention::{ReviewDecision, SubjectKind};
    use nrmp_store::test_support::rows_containing;
    let app = spawn_app(backend).await;
    let mut body = person_body("Ottoline", "Quarrendon");
    body["dob"] = json!({"kind": "exact", "date": "2008-11-23"});
    body["description"]["marks"] = json!([
        {"kind": "tattoo", "location": "left wrist", "description": "anchor and swallow"}
    ]);
    let r = app
        .post("/api/v1/persons", "la-kent-lead", None, body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let id = r.body["id"].as_str().unwrap().to_owned();
    let _other = app.person("la-kent-lead", "Arben", "Hoxha").await;
    let needles = ["Ottoline", "Quarrendon", "2008-11-23", "anchor and swallow"];
    let query = json!({
        "given": "Ottoline", "family": "Quarrendon", "dob": "2008-11-23",
        "marks": ["anchor and swallow tattoo, left wrist"], "k": 5,
    });
    // One check that shows the person, one by an officer who may not see them.
    for token in ["nmpu-analyst", "essex-patrol"] {
        let r = app
            .post(
                "/api/v1/encounters",
                token,
                Some("stopped at Harwich port"),
                query.clone(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
    }
    let searches: Vec<_> = app
        .audit()
        .await
        .into_iter()
        .filter(|e| e.action == AuditAction::Search)
        .collect();
    assert_eq!(searches.len(), 2);
    assert_eq!(searches[0].record_ids[0], id);
    let seqs: Vec<i64> = searches.iter().map(|e| e.seq).collect();
    let kept = app.db.store.search_queries(&seqs).await.unwrap();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(kept[&seqs[1]].starts_with("given=Ottoline, family=Quarrendon"));
    for n in needles {
        assert!(!rows_containing(&app.db.store, n).await.is_empty(), "{n}");
    }
    let ctx = nrmp_store::Ctx::new(
        nrmp_store::test_support::actor("records.officer", "force:kent"),
        "x",
        crate::helpers::now(),
    );
    let report = app
        .db
        .store
        .decide_review(
            &ctx,
            SubjectKind::Person,
            &id,
            &ReviewDecision::erase("reviewed: no policing purpose remains").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.search_queries, 2);
    for n in needles {
        assert_eq!(
            rows_containing(&app.db.store, n).await,
            Vec::<String>::new(),
            "{n}"
        );
    }
    let chain = app.db.store.verify_audit_chain(&|_| {}).await.unwrap();
    assert_eq!(chain.first_break, None);
    app.stop().await;
}

/// The hole: a refused encounter check stored its 250,000-character reason, raw control
/// characters and all, and a check with 20,000 nationalities a 340,000-character detail, in the
/// log that can never be cut down.
async fn refused_check_with_huge_reason_stores_bounded_event(backend: nrmp_store::Backend) {
    use nrmp_store::test_support::audit_chars;
    let app = spawn_app(backend).await;
    let _child = app.person("la-kent-lead", "Van Duc", "Nguyen").await;
    let hostile = format!(
        "line\nbreak \u{1b}[2J\u{1b}[31mred\u{202e}fdp.exe\u{2066} {}",
        "r".repeat(100_000)
    );
    let nationalities = vec!["VNM"; 20_000];
    // as long as a header may be (the transport refuses longer heads: 431, nothing audited)
    let header_reason = format!("{}\u{202e}\t", "h".repeat(12_000));
    let attempts = [
        // refused (the researcher may not search), reason in the header
        (
            "researcher",
            Some(header_reason.as_str()),
            json!({"name": "Nguyen Duc"}),
        ),
        // refused, control characters in the body's reason, 20,000 nationalities
        (
            "researcher",
            None,
            json!({"name": "Nguyen Duc", "reason": hostile, "nationalities": nationalities}),
        ),
        // an officer who may search, but whose reason is not acceptable: refused
        (
            "essex-patrol",
            None,
            json!({"name": "Nguyen Duc", "reason": hostile, "nationalities": nationalities}),
        ),
        // allowed, with 20,000 nationalities
        (
            "essex-patrol",
            Some("stopped at Harwich port"),
            json!({"name": "Nguyen Duc", "nationalities": nationalities}),
        ),
    ];
    let mut statuses = Vec::new();
    for (token, reason, body) in attempts {
        let before = audit_chars(&app.db.store).await;
        let events_before = app.audit().await.len();
        let r = app.post("/api/v1/encounters", token, reason, body).await;
        statuses.push(r.status);
        let grown = audit_chars(&app.db.store).await - before;
        assert_eq!(app.audit().await.len(), events_before + 1, "{r:?}");
        assert!(
            grown <= 4_000,
            "{token}: one request grew the audit log by {grown} characters"
        );
    }
    assert_eq!(
        statuses,
        [
            StatusCode::FORBIDDEN,
            StatusCode::FORBIDDEN,
            StatusCode::BAD_REQUEST,
            StatusCode::OK
        ]
    );
    // a 250,000-character reason header does not get past the transport, nor into the log
    let events_before = app.audit().await.len();
    let huge = "h".repeat(250_000);
    let r = app
        .post(
            "/api/v1/encounters",
            "researcher",
            Some(&huge),
            json!({"name": "Nguyen Duc"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "{r:?}"
    );
    assert_eq!(app.audit().await.len(), events_before);
    let events = app.audit().await;
    for e in &events[events.len() - 4..] {
        assert!(e.reason.chars().count() <= 500, "{}", e.reason.len());
        assert!(e.detail.chars().count() <= 1_000, "{}", e.detail.len());
        for text in [&e.reason, &e.detail] {
            assert!(
                !text
                    .chars()
                    .any(|c| c.is_control() || c == '\u{202e}' || c == '\u{2066}'),
                "{text}"
            );
        }
    }
    let refused = &events[events.len() - 3];
    assert!(refused.detail.starts_with("refused"), "{}", refused.detail);
    assert!(
        refused.reason.starts_with("line\\u{a}break \\u{1b}[2J"),
        "{}",
        refused.reason
    );
    let allowed = events.last().unwrap();
    assert_eq!(
        allowed.detail,
        "encounter check: fields=name,nationality×20000; k=10"
    );
    let chain = app.db.store.verify_audit_chain(&|_| {}).await.unwrap();
    assert_eq!(chain.first_break, None);
    app.stop().await;
}

crate::on_both!(
    the_encounter_check_finds_the_child_and_shows_the_encounter_view,
    changes_made_outside_the_server_reach_the_index,
    audit_log_holds_no_encounter_query_after_erasure,
    refused_check_with_huge_reason_stores_bounded_event
);
