//! Incidents: report, grade changes, sightings, return, return-home interview; lists with the
//! filters coordinators use.

use crate::helpers::{incident_body, now, spawn_app};
use nrmp_store::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn an_incident_goes_from_report_to_interview(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    let child = app.person("la-kent-lead", "Van Duc", "Nguyen").await;
    let id = app
        .incident("kent-coordinator", &child, "force:kent", "medium", 10)
        .await;
    let path = format!("/api/v1/incidents/{id}");
    let r = app.get(&path, "kent-handler", None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["risk"], "medium");
    assert_eq!(r.body["open"], true);
    assert_eq!(r.body["owning_org"], "force:kent");
    // a grade change keeps the history
    let r = app
        .post(
            &format!("{path}/risk"),
            "kent-coordinator",
            None,
            json!({"grade": "high", "rationale": "seen with older males"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["risk"], "high");
    assert_eq!(r.body["risk_history"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["risk_history"][1]["by"], "kent-coordinator");
    // an unknown grade names the field; nothing changes
    let r = app
        .post(
            &format!("{path}/risk"),
            "kent-coordinator",
            None,
            json!({"grade": "severe", "rationale": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "grade");
    // the local authority may not re-grade (the police's to review)
    let r = app
        .post(
            &format!("{path}/risk"),
            "la-kent-lead",
            None,
            json!({"grade": "low", "rationale": "back in contact"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert_eq!(r.body["type"], "/api/problems/field-not-permitted");
    // another force adds a sighting (with a reason), and cannot re-grade
    let seen = now() - chrono::Duration::hours(2);
    let sighting = json!({"at": seen, "place": {"description": "Chelmsford bus station", "authority": null, "force": "force:essex"}, "details": "with two adults"});
    let r = app
        .post(
            &format!("{path}/sightings"),
            "essex-coordinator",
            None,
            sighting.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    let r = app
        .post(
            &format!("{path}/sightings"),
            "essex-coordinator",
            Some("patrol report"),
            sighting,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = app
        .post(
            &format!("{path}/risk"),
            "essex-coordinator",
            Some("x"),
            json!({"grade": "low", "rationale": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    // the return, by the force that found the child
    let ret = json!({"found_at": now() - chrono::Duration::hours(1), "place": {"description": "Chelmsford", "authority": null, "force": "force:essex"}, "outcome": "safe"});
    let r = app
        .post(
            &format!("{path}/return"),
            "essex-coordinator",
            Some("found him"),
            ret.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["open"], false);
    let r = app
        .post(
            &format!("{path}/return"),
            "essex-coordinator",
            Some("again"),
            ret,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // closed: no more grade changes
    let r = app
        .post(
            &format!("{path}/risk"),
            "kent-coordinator",
            None,
            json!({"grade": "low", "rationale": "returned"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // the return-home interview, by the authority
    let rhi = json!({"offered_at": now() - chrono::Duration::minutes(30), "accepted": true, "conducted_at": now(), "outcome": "disclosed contact with exploiters", "disclosures_flagged": true});
    let r = app
        .call(
            Method::PUT,
            &format!("{path}/interview"),
            Some("la-kent-sw"),
            None,
            Some(rhi),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["return_interview"]["conducted_by"], "la:kent");
    assert_eq!(
        r.body["return_interview_outcome"]["disclosures_flagged"],
        true
    );
    // the force that only found him now is involved, and sees everything
    let r = app.get(&path, "essex-handler", None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["sightings"].as_array().unwrap().len(), 1);
    // an advocate sees the interview's arrangements, not its outcome — only for a client
    let r = app.get(&path, "advocate", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let child_id = nrmp_domain::ids::PersonId::parse("id", &child).unwrap();
    app.auth.insert(
        "advocate",
        crate::helpers::principal("advocate", vec![child_id]),
    );
    let r = app.get(&path, "advocate", None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(r.body.get("return_interview").is_some());
    assert!(r.body.get("return_interview_outcome").is_none());
    assert!(r.body.get("sightings").is_none());
    app.stop().await;
}

async fn incidents_are_checked_before_anything_is_stored(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    let child = app.person("la-kent-lead", "Van Duc", "Nguyen").await;
    // last seen after reported
    let mut body = incident_body(&child, "force:kent", "high", 3);
    body["reported_at"] = json!(now() - chrono::Duration::hours(5));
    let r = app
        .post("/api/v1/incidents", "kent-coordinator", None, body)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.body["errors"][0]["field"], "last_seen_at");
    // a person that does not exist, and one the caller may not know of, look the same
    let other_la_child = app.person("la-essex-lead", "Hamid", "Karimi").await;
    let r1 = app
        .post(
            "/api/v1/incidents",
            "la-kent-lead",
            None,
            incident_body(&other_la_child, "force:kent", "high", 3),
        )
        .await;
    let r2 = app
        .post(
            "/api/v1/incidents",
            "la-kent-lead",
            None,
            incident_body(
                "0193a3c0-0000-7000-8000-000000000001",
                "force:kent",
                "high",
                3,
            ),
        )
        .await;
    assert_eq!(r1.status, StatusCode::UNPROCESSABLE_ENTITY, "{r1:?}");
    assert_eq!(r1.body, r2.body);
    // overlapping incidents of one person are refused by the store's rule
    app.incident("kent-coordinator", &child, "force:kent", "high", 10)
        .await;
    let r = app
        .post(
            "/api/v1/incidents",
            "kent-coordinator",
            None,
            incident_body(&child, "force:kent", "low", 2),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(app.db.store.counts().await.unwrap().incidents, 1);
    app.stop().await;
}

async fn coordinators_filter_and_page_open_incidents(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    let mut ids = Vec::new();
    for (i, (force, grade, hours)) in [
        ("force:kent", "high", 80),
        ("force:kent", "medium", 30),
        ("force:essex", "high", 5),
        ("force:kent", "high", 2),
    ]
    .iter()
    .enumerate()
    {
        let p = app
            .person(
                "la-kent-lead",
                "Child",
                &format!("Test{}", ["a", "b", "c", "d"][i]),
            )
            .await;
        ids.push(
            app.incident("kent-coordinator", &p, force, grade, *hours)
                .await,
        );
    }
    let reason = Some("daily review");
    let items = |r: &crate::helpers::Res| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // a list is a search: a reason is required
    let r = app.get("/api/v1/incidents", "kent-coordinator", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .get(
            "/api/v1/incidents?open=true&risk=high&force=force:kent",
            "kent-coordinator",
            reason,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(
        items(&r),
        vec![ids[3].clone(), ids[0].clone()],
        "most recently last seen first"
    );
    let r = app
        .get(
            "/api/v1/incidents?missing_longer_than_hours=24",
            "kent-coordinator",
            reason,
        )
        .await;
    assert_eq!(items(&r), vec![ids[1].clone(), ids[0].clone()]);
    let r = app
        .get(
            "/api/v1/incidents?authority=la:kent&risk=medium",
            "kent-coordinator",
            reason,
        )
        .await;
    assert_eq!(items(&r), vec![ids[1].clone()]);
    // paging walks every row exactly once
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let path = match &next {
            None => "/api/v1/incidents?limit=3".to_owned(),
            Some(n) => format!("/api/v1/incidents?limit=3&after={n}"),
        };
        let r = app.get(&path, "nmpu-analyst", reason).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        seen.extend(items(&r));
        match r.body["next"].as_str() {
            Some(n) => next = Some(n.to_owned()),
            None => break,
        }
    }
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected);
    // another authority sees none of these children
    let r = app
        .get("/api/v1/incidents?open=true", "la-essex-lead", reason)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(items(&r).is_empty());
    // a patrol officer's search shows the encounter view only; an advocate may not search
    let r = app
        .get("/api/v1/incidents?open=true", "essex-patrol", reason)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(items(&r).len(), 4);
    assert!(r.body["items"][0].get("circumstances").is_none());
    assert!(r.body["items"][0].get("risk").is_some());
    assert_eq!(
        app.get("/api/v1/incidents", "advocate", reason)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    app.stop().await;
}

async fn concurrent_sightings_are_never_lost(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    let child = app.person("la-kent-lead", "Van Duc", "Nguyen").await;
    let id = app
        .incident("kent-coordinator", &child, "force:kent", "high", 10)
        .await;
    let path = format!("/api/v1/incidents/{id}/sightings");
    let mut calls = Vec::new();
    for n in 0..6 {
        let body = json!({"at": now() - chrono::Duration::hours(n + 1), "place": {"description": format!("place {n}"), "authority": null, "force": null}});
        calls.push(app.post(&path, "kent-coordinator", None, body));
    }
    let results = futures_join(calls).await;
    let ok = results
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert!(
        results
            .iter()
            .all(|r| r.status == StatusCode::OK || r.status == StatusCode::CONFLICT),
        "{results:?}"
    );
    let r = app
        .get(&format!("/api/v1/incidents/{id}"), "kent-coordinator", None)
        .await;
    assert_eq!(
        r.body["sightings"].as_array().unwrap().len(),
        ok,
        "a sighting was lost"
    );
    assert!(ok >= 1);
    app.stop().await;
}

/// Runs the futures concurrently on this task.
async fn futures_join<F: std::future::Future>(fs: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = fs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, o) in pinned.iter_mut().zip(out.iter_mut()) {
            if o.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *o = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.unwrap()).collect()
}

crate::on_both!(
    concurrent_sightings_are_never_lost,
    an_incident_goes_from_report_to_interview,
    incidents_are_checked_before_anything_is_stored,
    coordinators_filter_and_page_open_incidents
);
