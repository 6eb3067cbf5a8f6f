//! The authorisation matrix at the HTTP layer (OWASP API1 and API3: broken object- and
//! property-level authorisation): every test principal (each role, in each kind of
//! organisation it fits) × cases built so that the caller is owner, involved, client, national
//! unit or not involved × every endpoint kind (read person, read incident, read profile, list
//! incidents, encounter check, grade change) × with and without a stated reason. The outcome
//! must be what `nrmp_domain::access::decide` says: the status, and for an allowed read exactly
//! the granted fields — a withheld field must be absent from the JSON.

use crate::helpers::{PRINCIPALS, TestApp, principal, spawn_app};
use nrmp_domain::access::{
    Action, Decision, Field, Principal, Relation, ResourceKind, Target, decide, redact,
};
use nrmp_domain::ids::PersonId;
use nrmp_server::guard::Case;
use nrmp_store::Store;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// What the policy says the answer must be, for a decision and whether a reason was given.
fn expected_status(d: &Decision, reason: bool) -> StatusCode {
    match d {
        Decision::Deny(r) if r.hides_existence() => StatusCode::NOT_FOUND,
        Decision::Deny(nrmp_domain::access::DenyReason::ReasonRequired) => StatusCode::BAD_REQUEST,
        Decision::Deny(_) => StatusCode::FORBIDDEN,
        Decision::Allow {
            reason_required: true,
            ..
        } if !reason => StatusCode::BAD_REQUEST,
        Decision::Allow { .. } => StatusCode::OK,
    }
}

struct Fixture {
    person: String,
    incident: String,
    profile: String,
    family: String,
}

async fn case(app: &TestApp, pid: &str) -> Case {
    let id = PersonId::parse("id", pid).unwrap();
    Case::new(
        app.db
            .store
            .case_histories(&[id])
            .await
            .unwrap()
            .pop()
            .unwrap(),
    )
}

async fn build_cases(app: &TestApp) -> Vec<Fixture> {
    // A: a Kent child — the authority owns the person, Kent Police the incident.
    let a = app.person("la-kent-lead", "Yonas", "Tesfamariam").await;
    let ai = app
        .incident("kent-coordinator", &a, "force:kent", "high", 20)
        .await;
    let r = app
        .post(&format!("/api/v1/persons/{a}/placements"), "la-kent-lead", None,
            json!({"host_authority": "la:kent", "placement_type": "childrens_home", "started_at": "2026-01-01T00:00:00Z", "unaccompanied": true}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let r = app
        .post(
            &format!("/api/v1/persons/{a}/referrals"),
            "la-kent-lead",
            None,
            json!({"referred_on": "2026-02-01", "exploitation": ["criminal"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let r = app
        .post(&format!("/api/v1/persons/{a}/profiles"), "la-kent-lead", None,
            json!({"associates": ["older male known as T"], "phones": ["07700 900123"], "places": ["Dover seafront"]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let ap = r.body["id"].as_str().unwrap().to_owned();
    // B: an Essex child, Essex's incident, with Kent Police and Kent County Council involved.
    let b = app.person("la-essex-lead", "Blerim", "Kastrati").await;
    let mut body = crate::helpers::incident_body(&b, "force:essex", "medium", 40);
    body["involved"] = json!(["force:kent", "la:kent"]);
    let r = app
        .post("/api/v1/incidents", "essex-coordinator", None, body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let bi = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/api/v1/persons/{b}/profiles"),
            "la-essex-lead",
            None,
            json!({"social_media": ["@someone"], "medical_needs": "asthma"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let bp = r.body["id"].as_str().unwrap().to_owned();
    vec![
        Fixture {
            person: a,
            incident: ai,
            profile: ap,
            family: "Tesfamariam".into(),
        },
        Fixture {
            person: b,
            incident: bi,
            profile: bp,
            family: "Kastrati".into(),
        },
    ]
}

/// A new copy of case A (0: a Kent child, Kent Police's incident) or B (1: an Essex child, Essex
/// Police's incident involving Kent Police and Kent County Council), its incident closed.
async fn fresh_closed_case(app: &TestApp, template: usize) -> String {
    let (la, force, involved) = if template == 0 {
        ("la-kent-lead", "kent-coordinator", json!([]))
    } else {
        (
            "la-essex-lead",
            "essex-coordinator",
            json!(["force:kent", "la:kent"]),
        )
    };
    let pid = app.person(la, "Fresh", "Case").await;
    let mut body = crate::helpers::incident_body(
        &pid,
        if template == 0 {
            "force:kent"
        } else {
            "force:essex"
        },
        "low",
        100,
    );
    body["involved"] = involved;
    let r = app.post("/api/v1/incidents", force, None, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let iid = r.body["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/incidents/{iid}/return"),
            force,
            None,
            json!({"found_at": crate::helpers::now() - chrono::Duration::hours(90), "place": {"description": "home", "authority": null, "force": null}, "outcome": "safe"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    pid
}

async fn check_read<T: nrmp_domain::access::Redact>(
    app: &TestApp,
    (who, token): (&Principal, &str),
    path: &str,
    record: &T,
    case: &Case,
    reason: Option<&str>,
    with_flags: bool,
) -> usize
where
    T::View: serde::Serialize,
{
    let d = decide(who, Action::Read, T::RESOURCE, &Target::Case(&case.ctx));
    let r = app.get(path, token, reason).await;
    let want = expected_status(&d, reason.is_some());
    assert_eq!(
        r.status, want,
        "{token} GET {path} reason={reason:?}: {d:?} {r:?}"
    );
    if want == StatusCode::OK {
        let mut expected = keys(&serde_json::to_value(redact(record, &d.fields())).unwrap());
        if with_flags && d.fields().contains(Field::WarningFlags) {
            expected.insert("warning_flags".into());
        }
        assert_eq!(
            keys(&r.body),
            expected,
            "{token} GET {path}: fields beyond or short of the grant"
        );
    }
    1
}

async fn every_role_relation_endpoint_and_field_matches_the_policy(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    let fixtures = build_cases(&app).await;
    let client = PersonId::parse("id", &fixtures[0].person).unwrap();
    app.auth
        .insert("advocate", principal("advocate", vec![client]));
    let mut relations = BTreeSet::new();
    let mut checks = 0usize;
    let reason_text = "matrix test: need to check";
    for (token, ..) in PRINCIPALS {
        let who = if *token == "advocate" {
            principal(token, vec![client])
        } else {
            principal(token, vec![])
        };
        for fx in &fixtures {
            for reason in [None, Some(reason_text)] {
                let c = case(&app, &fx.person).await;
                relations.insert(c.ctx.relation_of(&who));
                let h = &c.history;
                // reads
                checks += check_read(
                    &app,
                    (&who, token),
                    &format!("/api/v1/persons/{}", fx.person),
                    &h.person,
                    &c,
                    reason,
                    false,
                )
                .await;
                let inc = h
                    .incidents
                    .iter()
                    .find(|i| i.id.to_string() == fx.incident)
                    .unwrap();
                checks += check_read(
                    &app,
                    (&who, token),
                    &format!("/api/v1/incidents/{}", fx.incident),
                    inc,
                    &c,
                    reason,
                    true,
                )
                .await;
                let prof = h
                    .profiles
                    .iter()
                    .find(|p| p.id.to_string() == fx.profile)
                    .unwrap();
                checks += check_read(
                    &app,
                    (&who, token),
                    &format!("/api/v1/persons/{}/profiles/{}", fx.person, fx.profile),
                    prof,
                    &c,
                    reason,
                    false,
                )
                .await;
                // list (a search): the register first, then the row
                let reg = decide(
                    &who,
                    Action::Search,
                    ResourceKind::Incident,
                    &Target::Register,
                );
                let r = app
                    .get(
                        &format!("/api/v1/incidents?person_id={}", fx.person),
                        token,
                        reason,
                    )
                    .await;
                let want = expected_status(&reg, reason.is_some());
                assert_eq!(r.status, want, "{token} list: {reg:?} {r:?}");
                if want == StatusCode::OK {
                    let row = decide(
                        &who,
                        Action::Search,
                        ResourceKind::Incident,
                        &Target::Case(&c.ctx),
                    );
                    let items = r.body["items"].as_array().unwrap();
                    match row {
                        Decision::Allow { fields, .. } => {
                            assert_eq!(items.len(), 1, "{token} list row missing");
                            let mut expected =
                                keys(&serde_json::to_value(redact(inc, &fields)).unwrap());
                            if fields.contains(Field::WarningFlags) {
                                expected.insert("warning_flags".into());
                            }
                            assert_eq!(keys(&items[0]), expected, "{token} list row fields");
                        }
                        Decision::Deny(_) => {
                            assert!(items.is_empty(), "{token} saw a row it may not: {r:?}")
                        }
                    }
                }
                checks += 1;
                // encounter check
                let reg = decide(
                    &who,
                    Action::Search,
                    ResourceKind::Person,
                    &Target::Register,
                );
                let r = app
                    .call(
                        Method::POST,
                        "/api/v1/encounters",
                        Some(token),
                        reason,
                        Some(json!({"family": fx.family, "dob": "2009-03-04"})),
                    )
                    .await;
                let want = expected_status(&reg, reason.is_some());
                assert_eq!(r.status, want, "{token} encounter: {reg:?} {r:?}");
                if want == StatusCode::OK {
                    let row = decide(
                        &who,
                        Action::Search,
                        ResourceKind::Person,
                        &Target::Case(&c.ctx),
                    );
                    let found: Vec<&Value> = r.body["candidates"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|c| c["person"]["id"] == fx.person.as_str())
                        .collect();
                    match row {
                        Decision::Allow { fields, .. } => {
                            assert_eq!(
                                found.len(),
                                1,
                                "{token} encounter candidate missing: {r:?}"
                            );
                            let expected =
                                keys(&serde_json::to_value(redact(&h.person, &fields)).unwrap());
                            assert_eq!(
                                keys(&found[0]["person"]),
                                expected,
                                "{token} encounter fields"
                            );
                        }
                        Decision::Deny(_) => {
                            assert!(found.is_empty(), "{token} encounter leaked a candidate")
                        }
                    }
                }
                checks += 1;
                // a grade change
                let d = decide(
                    &who,
                    Action::Update,
                    ResourceKind::Incident,
                    &Target::Case(&c.ctx),
                );
                let mut want = expected_status(&d, reason.is_some());
                if want == StatusCode::OK
                    && !(d.fields().contains(Field::RiskGrade)
                        && d.fields().contains(Field::RiskHistory))
                {
                    want = StatusCode::FORBIDDEN;
                }
                let r = app
                    .post(
                        &format!("/api/v1/incidents/{}/risk", fx.incident),
                        token,
                        reason,
                        json!({"grade": "high", "rationale": "matrix"}),
                    )
                    .await;
                assert_eq!(
                    r.status, want,
                    "{token} grade change reason={reason:?}: {d:?} {r:?}"
                );
                checks += 1;
            }
        }
    }
    // a found (unidentified) person: the finder owns it
    let r = app
        .post(
            "/api/v1/found-persons",
            "essex-coordinator",
            None,
            json!({"found_at": crate::helpers::now(), "place": {"description": "Harwich port", "authority": null, "force": "force:essex"},
                   "sex": "male", "description": {"height_cm": [150, 160], "build": null, "hair": null, "eyes": null, "marks": [], "photos": []}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let fid = nrmp_domain::ids::FoundPersonId::parse("id", r.body["id"].as_str().unwrap()).unwrap();
    let found = app
        .db
        .store
        .query_found_persons(
            &nrmp_store::FoundFilter {
                ids: vec![fid],
                ..Default::default()
            },
            None,
            1,
        )
        .await
        .unwrap()
        .pop()
        .unwrap();
    let fctx = nrmp_domain::access::CaseContext::for_found_person(&found, None);
    let fcase = Case {
        history: case(&app, &fixtures[0].person).await.history,
        ctx: fctx,
    };
    for (token, ..) in PRINCIPALS {
        let who = principal(token, vec![]);
        relations.insert(fcase.ctx.relation_of(&who));
        for reason in [None, Some(reason_text)] {
            checks += check_read(
                &app,
                (&who, token),
                &format!("/api/v1/found-persons/{fid}"),
                &found,
                &fcase,
                reason,
                false,
            )
            .await;
        }
    }
    // reporting a new incident for a person already on the register: a fresh copy of each case
    // per attempt (a new incident makes its reporter an owner), its old incident closed
    let created_fields: nrmp_domain::access::FieldSet = [
        Field::Organisations,
        Field::IncidentSummary,
        Field::RiskGrade,
        Field::RiskHistory,
        Field::LastSeenPlace,
        Field::Circumstances,
    ]
    .into_iter()
    .collect();
    for (token, ..) in PRINCIPALS {
        for template in 0..2 {
            for reason in [None, Some(reason_text)] {
                let pid = fresh_closed_case(&app, template).await;
                let clients = if *token == "advocate" && template == 0 {
                    vec![PersonId::parse("id", &pid).unwrap()]
                } else {
                    vec![]
                };
                let who = principal(token, clients.clone());
                app.auth.insert(*token, principal(token, clients));
                let c = case(&app, &pid).await;
                relations.insert(c.ctx.relation_of(&who));
                let d = decide(
                    &who,
                    Action::Create,
                    ResourceKind::Incident,
                    &Target::Case(&c.ctx),
                );
                let want = match &d {
                    // a person the caller may not know of is answered like one that does not exist
                    Decision::Deny(r) if r.hides_existence() => StatusCode::UNPROCESSABLE_ENTITY,
                    Decision::Allow { fields, .. }
                        if expected_status(&d, reason.is_some()) == StatusCode::OK
                            && !created_fields.is_subset(*fields) =>
                    {
                        StatusCode::FORBIDDEN
                    }
                    _ => match expected_status(&d, reason.is_some()) {
                        StatusCode::OK => StatusCode::CREATED,
                        other => other,
                    },
                };
                let r = app
                    .post(
                        "/api/v1/incidents",
                        token,
                        reason,
                        crate::helpers::incident_body(&pid, "force:essex", "high", 3),
                    )
                    .await;
                assert_eq!(
                    r.status, want,
                    "{token} creates an incident (template {template}, reason {reason:?}): {d:?} {r:?}"
                );
                checks += 1;
            }
        }
        app.auth.insert(
            *token,
            principal(
                token,
                if *token == "advocate" {
                    vec![client]
                } else {
                    vec![]
                },
            ),
        );
    }
    for rel in [
        Relation::Owner,
        Relation::Involved,
        Relation::Client,
        Relation::NationalUnit,
        Relation::NotInvolved,
    ] {
        assert!(
            relations.contains(&rel),
            "the matrix never put a caller in relation {rel:?}"
        );
    }
    assert_eq!(checks, PRINCIPALS.len() * (fixtures.len() * 6 + 1 + 2) * 2);
    app.stop().await;
}

crate::on_both!(every_role_relation_endpoint_and_field_matches_the_policy);
