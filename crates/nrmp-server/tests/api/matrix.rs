//! The authorisation matrix at the HTTP layer (OWASP API1 and API3: broken object- and
//! property-level authorisation): every test principal (each role, in each kind of organisation
//! it fits) × cases built so that the caller is owner, involved, client, national unit or not
//! involved × every case endpoint of the router × with and without a stated reason. The outcome
//! must be what `nrmp_domain::access::decide` says.
//!
//! - Reads (a person, an incident, a profile, a found person): the status, and for an allowed
//!   read exactly the granted fields — a withheld field must be absent from the JSON.
//! - Lists and searches (incidents, persons, found persons, the encounter check): the register
//!   decision gives the status; each case's row decision whether its row appears, and with
//!   which keys. A person's history: the person's read decision, and each kind of record
//!   present (and redacted) only as that kind's read decision allows. The statistics: allowed
//!   or refused per role, and the answer never holds a person's id.
//! - Writes, from one table ([`write_table`]: method, path, body, action, resource and the
//!   fields the write changes): correcting an incident and changing who is involved, a
//!   sighting, the return, the return-home interview, replacing a person, adding and updating
//!   NRM referrals and placements, a new profile and a new profile version; and apart from the
//!   table a grade change, reporting a new incident, creating a person or a found person, and
//!   identifying a found person. The status follows the decision on the case as it stands, 403
//!   (naming the field, for the table) when the write touches a field outside the grant
//!   (`Grant::check_writes`); on success the change is in the store and the local authority
//!   that owns the child's record sees it in the person's history (when its grant covers the
//!   field); on refusal nothing in the store changed (checked for all but reporting a new
//!   incident).

use crate::helpers::{PRINCIPALS, TestApp, principal, spawn_app};
use nrmp_app::Case;
use nrmp_domain::access::{
    Action, Decision, Field, Principal, Relation, ResourceKind, Target, decide, redact,
};
use nrmp_domain::ids::PersonId;
use nrmp_store::prelude::*;
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
    let r = app
        .post(
            &format!("/api/v1/persons/{b}/referrals"),
            "la-essex-lead",
            None,
            json!({"referred_on": "2026-02-01", "exploitation": ["labour"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let r = app
        .post(&format!("/api/v1/persons/{b}/placements"), "la-essex-lead", None,
            json!({"host_authority": "la:essex", "placement_type": "childrens_home", "started_at": "2026-01-01T00:00:00Z", "unaccompanied": false}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
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
                let after = format!("{:?}", case(&app, &fx.person).await.history);
                if want == StatusCode::OK {
                    assert_ne!(after, format!("{h:?}"), "{token} grade change not stored");
                } else {
                    assert_eq!(
                        after,
                        format!("{h:?}"),
                        "{token} refused grade change was stored"
                    );
                }
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

/// The records of one case a write may aim at.
struct Ids {
    person: String,
    incident: String,
    profile: String,
    referral: String,
    placement: String,
    /// Which template the case was built from (0: case A, 1: case B).
    template: usize,
}

/// Which record a write is aimed at.
#[derive(Clone, Copy, PartialEq)]
enum Aim {
    /// The shared case: the write may repeat and leaves the case open.
    Shared,
    /// A fresh copy of the case, its incident still open (a return can be recorded only once).
    FreshOpen,
    /// A fresh copy of the case, its incident closed (an interview follows a return).
    FreshClosed,
}

/// One row of the write table: a case endpoint that changes data.
struct Write {
    name: &'static str,
    method: Method,
    path: fn(&Ids) -> String,
    /// The body; `n` makes each attempt change something.
    body: fn(&Ids, usize) -> Value,
    action: Action,
    resource: ResourceKind,
    /// The fields the write changes (`grant.check_writes` refuses any outside the grant).
    writes: &'static [Field],
    created: bool,
    aim: Aim,
}

fn profile_body(ids: &Ids, notes: String) -> Value {
    if ids.template == 0 {
        json!({"associates": ["older male known as T"], "phones": ["07700 900123"], "places": ["Dover seafront"], "notes": notes})
    } else {
        json!({"social_media": ["@someone"], "medical_needs": "asthma", "notes": notes})
    }
}

/// Every case endpoint that writes, with what the policy must be asked about it.
fn write_table() -> Vec<Write> {
    use Field::*;
    vec![
        Write {
            name: "correct an incident",
            method: Method::PATCH,
            path: |i| format!("/api/v1/incidents/{}", i.incident),
            body: |_, n| json!({"circumstances": format!("did not return after school ({n})")}),
            action: Action::Update,
            resource: ResourceKind::Incident,
            writes: &[Circumstances],
            created: false,
            aim: Aim::Shared,
        },
        Write {
            name: "change who is involved",
            method: Method::PATCH,
            path: |i| format!("/api/v1/incidents/{}", i.incident),
            body: |i, _| {
                if i.template == 0 {
                    json!({"involved": ["la:essex"]})
                } else {
                    json!({"involved": ["force:kent", "la:kent", "la:essex"]})
                }
            },
            action: Action::Update,
            resource: ResourceKind::Incident,
            writes: &[Organisations],
            created: false,
            aim: Aim::FreshOpen,
        },
        Write {
            name: "add a sighting",
            method: Method::POST,
            path: |i| format!("/api/v1/incidents/{}/sightings", i.incident),
            body: |_, n| json!({"at": crate::helpers::now() - chrono::Duration::minutes(n as i64 + 1), "place": {"description": "Margate station", "authority": null, "force": null}, "details": "seen on CCTV"}),
            action: Action::Update,
            resource: ResourceKind::Incident,
            writes: &[Sightings],
            created: false,
            aim: Aim::Shared,
        },
        Write {
            name: "record the return",
            method: Method::POST,
            path: |i| format!("/api/v1/incidents/{}/return", i.incident),
            body: |_, _| json!({"found_at": crate::helpers::now() - chrono::Duration::hours(1), "place": {"description": "home", "authority": null, "force": null}, "outcome": "safe"}),
            action: Action::Update,
            resource: ResourceKind::Incident,
            writes: &[Return, ReturnPlace],
            created: false,
            aim: Aim::FreshOpen,
        },
        Write {
            name: "record the return-home interview",
            method: Method::PUT,
            path: |i| format!("/api/v1/incidents/{}/interview", i.incident),
            body: |_, n| json!({"offered_at": crate::helpers::now() - chrono::Duration::hours(2), "accepted": true, "conducted_at": crate::helpers::now() - chrono::Duration::hours(1), "outcome": format!("spoke about the weekend ({n})"), "disclosures_flagged": false}),
            action: Action::Update,
            resource: ResourceKind::Incident,
            writes: &[ReturnInterview, ReturnInterviewDisclosures],
            created: false,
            aim: Aim::FreshClosed,
        },
        Write {
            name: "replace a person",
            method: Method::PUT,
            path: |i| format!("/api/v1/persons/{}", i.person),
            body: |i, n| {
                let (given, family) = if i.template == 0 {
                    ("Yonas", "Tesfamariam")
                } else {
                    ("Blerim", "Kastrati")
                };
                let mut b = crate::helpers::person_body(given, family);
                b["description"]["height_cm"] = json!([160, 171 + n % 20]);
                b
            },
            action: Action::Update,
            resource: ResourceKind::Person,
            writes: &[Description],
            created: false,
            aim: Aim::Shared,
        },
        Write {
            name: "add an NRM referral",
            method: Method::POST,
            path: |i| format!("/api/v1/persons/{}/referrals", i.person),
            body: |_, _| json!({"referred_on": "2026-03-01", "exploitation": ["sexual"]}),
            action: Action::Create,
            resource: ResourceKind::NrmReferral,
            writes: &[Organisations, NrmReferral, NrmExploitation],
            created: true,
            aim: Aim::Shared,
        },
        Write {
            name: "update an NRM referral",
            method: Method::PUT,
            path: |i| format!("/api/v1/persons/{}/referrals/{}", i.person, i.referral),
            body: |_, n| json!({"reference": format!("NRM-{n}"), "referred_on": "2026-02-01", "exploitation": [if n % 2 == 0 {"criminal"} else {"labour"}]}),
            action: Action::Update,
            resource: ResourceKind::NrmReferral,
            writes: &[NrmReferral, NrmExploitation],
            created: false,
            aim: Aim::Shared,
        },
        Write {
            name: "add a placement",
            method: Method::POST,
            path: |i| format!("/api/v1/persons/{}/placements", i.person),
            body: |i, _| json!({"host_authority": if i.template == 0 {"la:kent"} else {"la:essex"}, "placement_type": "foster", "started_at": "2026-03-01T00:00:00Z", "unaccompanied": false}),
            action: Action::Create,
            resource: ResourceKind::Placement,
            writes: &[
                Organisations,
                PlacementDetails,
                PlacementLocation,
                Unaccompanied,
            ],
            created: true,
            aim: Aim::Shared,
        },
        Write {
            name: "update a placement",
            method: Method::PUT,
            path: |i| format!("/api/v1/persons/{}/placements/{}", i.person, i.placement),
            body: |i, n| json!({"host_authority": if i.template == 0 {"la:kent"} else {"la:essex"}, "placement_type": "childrens_home", "started_at": "2026-01-01T00:00:00Z", "ended_at": format!("2026-05-{:02}T00:00:00Z", 1 + n % 28), "unaccompanied": i.template == 0}),
            action: Action::Update,
            resource: ResourceKind::Placement,
            writes: &[PlacementDetails],
            created: false,
            aim: Aim::Shared,
        },
        Write {
            name: "add a profile",
            method: Method::POST,
            path: |i| format!("/api/v1/persons/{}/profiles", i.person),
            body: |_, n| json!({"notes": format!("likes football ({n})")}),
            action: Action::Create,
            resource: ResourceKind::Profile,
            writes: &[Organisations, ProfileNotes],
            created: true,
            aim: Aim::Shared,
        },
        Write {
            name: "a new profile version",
            method: Method::PUT,
            path: |i| format!("/api/v1/persons/{}/profiles/{}", i.person, i.profile),
            body: |i, n| profile_body(i, format!("version note ({n})")),
            action: Action::Update,
            resource: ResourceKind::Profile,
            writes: &[ProfileNotes],
            created: false,
            aim: Aim::Shared,
        },
    ]
}

async fn ids_of(app: &TestApp, pid: &str, template: usize, incident: Option<&str>) -> Ids {
    let h = case(app, pid).await.history;
    let first = |v: Vec<String>| v.into_iter().next().unwrap_or_default();
    Ids {
        person: pid.to_owned(),
        incident: incident
            .map(str::to_owned)
            .unwrap_or_else(|| first(h.incidents.iter().map(|i| i.id.to_string()).collect())),
        profile: first(h.profiles.iter().map(|p| p.id.to_string()).collect()),
        referral: first(h.referrals.iter().map(|p| p.id.to_string()).collect()),
        placement: first(h.placements.iter().map(|p| p.id.to_string()).collect()),
        template,
    }
}

/// A new copy of case `template` with its incident open.
async fn fresh_open_case(app: &TestApp, template: usize) -> String {
    let (la, force, org, involved) = if template == 0 {
        ("la-kent-lead", "kent-coordinator", "force:kent", json!([]))
    } else {
        (
            "la-essex-lead",
            "essex-coordinator",
            "force:essex",
            json!(["force:kent", "la:kent"]),
        )
    };
    let pid = app.person(la, "Fresh", "Open").await;
    let mut body = crate::helpers::incident_body(&pid, org, "low", 30);
    body["involved"] = involved;
    let r = app.post("/api/v1/incidents", force, None, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    pid
}

/// The keys of each record in `items` (a JSON array) must be the keys of the matching record of
/// `records` (by id) redacted to `fields`.
fn check_items<T: nrmp_domain::access::Redact>(
    what: &str,
    items: &Value,
    records: &[T],
    id_of: fn(&T) -> String,
    fields: &nrmp_domain::access::FieldSet,
    flags: bool,
) where
    T::View: serde::Serialize,
{
    let items = items.as_array().unwrap();
    let ids: BTreeSet<String> = records.iter().map(id_of).collect();
    assert_eq!(items.len(), ids.len(), "{what}: one item per record");
    for item in items {
        let rec = records
            .iter()
            .rev()
            .find(|r| item["id"] == id_of(r).as_str())
            .unwrap_or_else(|| panic!("{what}: an item of no record: {item}"));
        let mut expected = keys(&serde_json::to_value(redact(rec, fields)).unwrap());
        if flags && fields.contains(Field::WarningFlags) {
            expected.insert("warning_flags".into());
        }
        assert_eq!(
            keys(item),
            expected,
            "{what}: fields beyond or short of the grant"
        );
    }
}

/// A person's history: the person redacted to the read grant, and each kind of record present
/// only if that kind may be read (reason included), each record redacted to its kind's grant.
fn check_history(who: &Principal, token: &str, body: &Value, c: &Case, reason: bool) {
    let target = Target::Case(&c.ctx);
    let d = decide(who, Action::Read, ResourceKind::Person, &target);
    let h = &c.history;
    assert_eq!(
        keys(&body["person"]),
        keys(&serde_json::to_value(redact(&h.person, &d.fields())).unwrap()),
        "{token} history: person fields"
    );
    let mut expected_keys = BTreeSet::from(["person".to_owned()]);
    for (key, kind) in [
        ("incidents", ResourceKind::Incident),
        ("referrals", ResourceKind::NrmReferral),
        ("placements", ResourceKind::Placement),
        ("profiles", ResourceKind::Profile),
    ] {
        let d = decide(who, Action::Read, kind, &target);
        if expected_status(&d, reason) != StatusCode::OK {
            continue;
        }
        expected_keys.insert(key.to_owned());
        let what = format!("{token} history {key}");
        let fields = d.fields();
        let items = &body[key];
        match kind {
            ResourceKind::Incident => check_items(
                &what,
                items,
                &h.incidents,
                |r| r.id.to_string(),
                &fields,
                true,
            ),
            ResourceKind::NrmReferral => check_items(
                &what,
                items,
                &h.referrals,
                |r| r.id.to_string(),
                &fields,
                false,
            ),
            ResourceKind::Placement => check_items(
                &what,
                items,
                &h.placements,
                |r| r.id.to_string(),
                &fields,
                false,
            ),
            _ => check_items(
                &what,
                items,
                &h.profiles,
                |r| r.id.to_string(),
                &fields,
                false,
            ),
        }
    }
    assert_eq!(
        keys(body),
        expected_keys,
        "{token} history: record kinds beyond or short of the grants"
    );
}

/// What a write must answer: the decision's status, 403 if it touches a field outside the
/// grant, and 201 for a created record.
fn expected_write(d: &Decision, reason: bool, w: &Write) -> StatusCode {
    let want = expected_status(d, reason);
    if want != StatusCode::OK {
        return want;
    }
    let writes: nrmp_domain::access::FieldSet = w.writes.iter().copied().collect();
    if !writes.is_subset(d.fields()) {
        StatusCode::FORBIDDEN
    } else if w.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

async fn every_write_list_and_statistics_endpoint_matches_the_policy(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    let fixtures = build_cases(&app).await;
    let client = PersonId::parse("id", &fixtures[0].person).unwrap();
    app.auth
        .insert("advocate", principal("advocate", vec![client]));
    let reason_text = "matrix test: need to check";
    let table = write_table();
    let mut relations = BTreeSet::new();
    let mut outcomes = BTreeSet::new();
    let mut visible = BTreeSet::new();
    let mut checks = 0usize;
    let mut n = 0usize;
    // writes: the status follows `decide` on the case as it stands; on success the change is
    // in the store (and the owner's reader sees the new state), on refusal nothing changed
    for (token, ..) in PRINCIPALS {
        for w in &table {
            for template in 0..2 {
                for reason in [None, Some(reason_text)] {
                    n += 1;
                    let pid = match w.aim {
                        Aim::Shared => fixtures[template].person.clone(),
                        Aim::FreshOpen => fresh_open_case(&app, template).await,
                        Aim::FreshClosed => fresh_closed_case(&app, template).await,
                    };
                    let clients = if *token == "advocate" && (template == 0) {
                        vec![PersonId::parse("id", &pid).unwrap()]
                    } else {
                        vec![]
                    };
                    let who = principal(token, clients.clone());
                    if w.aim != Aim::Shared && *token == "advocate" {
                        app.auth.insert(*token, principal(token, clients));
                    }
                    let incident =
                        (w.aim == Aim::Shared).then(|| fixtures[template].incident.as_str());
                    let ids = ids_of(&app, &pid, template, incident).await;
                    let before = case(&app, &pid).await;
                    relations.insert(before.ctx.relation_of(&who));
                    // an allowed reader: the local authority that owns the child's record
                    let reader = ["la-kent-lead", "la-essex-lead"][template];
                    let history = format!("/api/v1/persons/{pid}/history");
                    let seen_before = app.get(&history, reader, Some(reason_text)).await;
                    assert_eq!(seen_before.status, StatusCode::OK, "{seen_before:?}");
                    let d = decide(&who, w.action, w.resource, &Target::Case(&before.ctx));
                    let want = expected_write(&d, reason.is_some(), w);
                    let r = app
                        .call(
                            w.method.clone(),
                            &(w.path)(&ids),
                            Some(token),
                            reason,
                            Some((w.body)(&ids, n)),
                        )
                        .await;
                    assert_eq!(
                        r.status, want,
                        "{token} {} (case {template}, reason {reason:?}): {d:?} {r:?}",
                        w.name
                    );
                    outcomes.insert((w.name, want.as_u16()));
                    let after = case(&app, &pid).await;
                    let (b, a) = (
                        format!("{:?}", before.history),
                        format!("{:?}", after.history),
                    );
                    if want == StatusCode::FORBIDDEN && d.is_allowed() {
                        // a field-level refusal names the field
                        let f = w.writes.iter().find(|f| !d.fields().contains(**f)).unwrap();
                        assert!(
                            r.body.to_string().contains(f.as_str()),
                            "{token} {}: the refusal does not name `{f}`: {r:?}",
                            w.name
                        );
                        outcomes.insert((w.name, 1403));
                    }
                    if want.is_success() {
                        assert_ne!(
                            b, a,
                            "{token} {}: answered {want} but nothing changed",
                            w.name
                        );
                        let rd = decide(
                            &principal(reader, vec![]),
                            Action::Read,
                            w.resource,
                            &Target::Case(&after.ctx),
                        );
                        if w.writes.iter().any(|f| rd.fields().contains(*f)) {
                            let seen = app.get(&history, reader, Some(reason_text)).await;
                            assert_ne!(
                                seen.body, seen_before.body,
                                "{token} {}: {reader} does not see the change",
                                w.name
                            );
                            visible.insert(w.name);
                        }
                    } else {
                        assert_eq!(
                            b, a,
                            "{token} {}: refused ({want}) but the store changed",
                            w.name
                        );
                    }
                    if w.aim != Aim::Shared && *token == "advocate" {
                        app.auth.insert(*token, principal(token, vec![client]));
                    }
                    checks += 1;
                }
            }
        }
    }
    // every write was both allowed and refused for someone
    for w in &table {
        assert!(
            outcomes
                .iter()
                .any(|(name, s)| *name == w.name && (200..300).contains(s)),
            "nobody could {}",
            w.name
        );
        assert!(
            outcomes
                .iter()
                .any(|(name, s)| *name == w.name && *s >= 400),
            "nobody was refused to {}",
            w.name
        );
        assert!(
            visible.contains(w.name),
            "no allowed reader ever saw the change of {}",
            w.name
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
            "the write matrix never put a caller in relation {rel:?}"
        );
    }
    // reads that are not per-record: person history, the person and found-person lists, and
    // the statistics
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
    let fid = r.body["id"].as_str().unwrap().to_owned();
    let found = app
        .db
        .store
        .query_found_persons(
            &nrmp_store::FoundFilter {
                ids: vec![nrmp_domain::ids::FoundPersonId::parse("id", &fid).unwrap()],
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
    let person_ids: Vec<String> = fixtures.iter().map(|f| f.person.clone()).collect();
    for (token, ..) in PRINCIPALS {
        let who = if *token == "advocate" {
            principal(token, vec![client])
        } else {
            principal(token, vec![])
        };
        for reason in [None, Some(reason_text)] {
            for fx in &fixtures {
                let c = case(&app, &fx.person).await;
                // a person's history
                let d = decide(
                    &who,
                    Action::Read,
                    ResourceKind::Person,
                    &Target::Case(&c.ctx),
                );
                let r = app
                    .get(
                        &format!("/api/v1/persons/{}/history", fx.person),
                        token,
                        reason,
                    )
                    .await;
                assert_eq!(
                    r.status,
                    expected_status(&d, reason.is_some()),
                    "{token} history: {d:?} {r:?}"
                );
                if r.status == StatusCode::OK {
                    check_history(&who, token, &r.body, &c, reason.is_some());
                }
                checks += 1;
            }
            // the person list: the register first, then each row
            let reg = decide(
                &who,
                Action::Search,
                ResourceKind::Person,
                &Target::Register,
            );
            let r = app.get("/api/v1/persons?limit=500", token, reason).await;
            let want = expected_status(&reg, reason.is_some());
            assert_eq!(r.status, want, "{token} person list: {reg:?} {r:?}");
            if want == StatusCode::OK {
                let items = r.body["items"].as_array().unwrap();
                for fx in &fixtures {
                    let c = case(&app, &fx.person).await;
                    let row = decide(
                        &who,
                        Action::Search,
                        ResourceKind::Person,
                        &Target::Case(&c.ctx),
                    );
                    let seen: Vec<&Value> = items
                        .iter()
                        .filter(|i| i["id"] == fx.person.as_str())
                        .collect();
                    match row {
                        Decision::Allow { fields, .. } => {
                            assert_eq!(seen.len(), 1, "{token} person list row missing: {r:?}");
                            let expected = keys(
                                &serde_json::to_value(redact(&c.history.person, &fields)).unwrap(),
                            );
                            assert_eq!(keys(seen[0]), expected, "{token} person list row fields");
                        }
                        Decision::Deny(_) => {
                            assert!(seen.is_empty(), "{token} person list leaked a row: {r:?}")
                        }
                    }
                }
            }
            checks += 1;
            // the found-person list
            let reg = decide(
                &who,
                Action::Search,
                ResourceKind::FoundPerson,
                &Target::Register,
            );
            let r = app.get("/api/v1/found-persons", token, reason).await;
            let want = expected_status(&reg, reason.is_some());
            assert_eq!(r.status, want, "{token} found list: {reg:?} {r:?}");
            if want == StatusCode::OK {
                let row = decide(
                    &who,
                    Action::Search,
                    ResourceKind::FoundPerson,
                    &Target::Case(&fctx),
                );
                let seen: Vec<&Value> = r.body["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|i| i["id"] == fid.as_str())
                    .collect();
                match row {
                    Decision::Allow { fields, .. } => {
                        assert_eq!(seen.len(), 1, "{token} found list row missing: {r:?}");
                        let expected =
                            keys(&serde_json::to_value(redact(&found, &fields)).unwrap());
                        assert_eq!(keys(seen[0]), expected, "{token} found list row fields");
                    }
                    Decision::Deny(_) => {
                        assert!(seen.is_empty(), "{token} found list leaked a row: {r:?}")
                    }
                }
            }
            checks += 1;
            // the statistics: allowed or not per role, and never a person's id
            let d = decide(
                &who,
                Action::ReadStatistics,
                ResourceKind::Statistics,
                &Target::Register,
            );
            let r = app
                .post(
                    "/api/v1/statistics",
                    token,
                    reason,
                    json!({"table": "missing", "by": "year", "cohort": "nrm-children", "period": {"from": "2018-01-01", "to": "2025-12-31"}}),
                )
                .await;
            assert_eq!(
                r.status,
                expected_status(&d, reason.is_some()),
                "{token} statistics: {d:?} {r:?}"
            );
            let text = r.body.to_string();
            for pid in &person_ids {
                assert!(
                    !text.contains(pid.as_str()),
                    "{token} statistics named a person"
                );
            }
            checks += 1;
        }
    }
    // identifying a found person: an update of the found person's record, and only as someone
    // the caller may see (else it is answered as if there were no such person)
    for (token, ..) in PRINCIPALS {
        let who = if *token == "advocate" {
            principal(token, vec![client])
        } else {
            principal(token, vec![])
        };
        for (t, fx) in fixtures.iter().enumerate() {
            for reason in [None, Some(reason_text)] {
                let r = app
                    .post(
                        "/api/v1/found-persons",
                        "essex-coordinator",
                        None,
                        json!({"found_at": crate::helpers::now(), "place": {"description": "Tilbury docks", "authority": null, "force": "force:essex"},
                               "sex": "male", "description": {"height_cm": [150, 160], "build": null, "hair": null, "eyes": null, "marks": [], "photos": []}}),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
                let id = r.body["id"].as_str().unwrap().to_owned();
                let fp = nrmp_domain::ids::FoundPersonId::parse("id", &id).unwrap();
                let load = || async {
                    app.db
                        .store
                        .query_found_persons(
                            &nrmp_store::FoundFilter {
                                ids: vec![fp],
                                ..Default::default()
                            },
                            None,
                            1,
                        )
                        .await
                        .unwrap()
                        .pop()
                        .unwrap()
                };
                let before = load().await;
                let ctx = nrmp_domain::access::CaseContext::for_found_person(&before, None);
                let c = case(&app, &fx.person).await;
                relations.insert(ctx.relation_of(&who));
                let d = decide(
                    &who,
                    Action::Update,
                    ResourceKind::FoundPerson,
                    &Target::Case(&ctx),
                );
                let mut want = expected_status(&d, reason.is_some());
                if want == StatusCode::OK {
                    let sees = decide(
                        &who,
                        Action::Read,
                        ResourceKind::Person,
                        &Target::Case(&c.ctx),
                    );
                    if expected_status(&sees, reason.is_some()) != StatusCode::OK {
                        want = StatusCode::UNPROCESSABLE_ENTITY;
                    } else if !d.fields().contains(Field::FoundDetails) {
                        want = StatusCode::FORBIDDEN;
                    }
                }
                let r = app
                    .call(
                        Method::PUT,
                        &format!("/api/v1/found-persons/{id}/identification"),
                        Some(token),
                        reason,
                        Some(json!({"identified_as": fx.person})),
                    )
                    .await;
                assert_eq!(
                    r.status, want,
                    "{token} identifies as case {t} (reason {reason:?}): {d:?} {r:?}"
                );
                let after = load().await;
                if want == StatusCode::OK {
                    assert_eq!(
                        after.identified_as.map(|p| p.to_string()),
                        Some(fx.person.clone())
                    );
                } else {
                    assert_eq!(
                        after, before,
                        "{token} refused identification changed the record"
                    );
                }
                checks += 1;
            }
        }
    }
    // creating a new case: a person, a found person (the caller's organisation owns it)
    let creations: [(&str, ResourceKind, Value, &[Field]); 2] = [
        (
            "/api/v1/persons",
            ResourceKind::Person,
            crate::helpers::person_body("New", "Person"),
            &[
                Field::Names,
                Field::DateOfBirth,
                Field::Sex,
                Field::Nationalities,
                Field::Languages,
                Field::Description,
                Field::Organisations,
            ],
        ),
        (
            "/api/v1/found-persons",
            ResourceKind::FoundPerson,
            json!({"found_at": crate::helpers::now(), "place": {"description": "Dover ferry terminal", "authority": null, "force": null},
                   "sex": "female", "description": {"height_cm": [150, 160], "build": null, "hair": null, "eyes": null, "marks": [], "photos": []}}),
            &[
                Field::Organisations,
                Field::FoundDetails,
                Field::Sex,
                Field::Description,
            ],
        ),
    ];
    let mut created = BTreeSet::new();
    for (token, ..) in PRINCIPALS {
        let who = principal(token, vec![]);
        for (path, kind, body, fields) in &creations {
            for reason in [None, Some(reason_text)] {
                let d = decide(&who, Action::Create, *kind, &Target::NewCase);
                let mut want = expected_status(&d, reason.is_some());
                if want == StatusCode::OK {
                    want = if fields.iter().all(|f| d.fields().contains(*f)) {
                        StatusCode::CREATED
                    } else {
                        StatusCode::FORBIDDEN
                    };
                }
                let before = app.db.store.counts().await.unwrap();
                let r = app.post(path, token, reason, body.clone()).await;
                assert_eq!(
                    r.status, want,
                    "{token} POST {path} reason={reason:?}: {d:?} {r:?}"
                );
                let after = app.db.store.counts().await.unwrap();
                let grew =
                    (after.persons - before.persons) + (after.found_persons - before.found_persons);
                assert_eq!(
                    grew,
                    u64::from(want == StatusCode::CREATED),
                    "{token} POST {path}: {want} but {grew} new records"
                );
                created.insert((*path, want == StatusCode::CREATED));
                checks += 1;
            }
        }
    }
    for (path, ..) in &creations {
        assert!(created.contains(&(*path, true)), "nobody could POST {path}");
        assert!(
            created.contains(&(*path, false)),
            "nobody was refused POST {path}"
        );
    }
    let writes = table.len() * 2 * 2 + creations.len() * 2;
    assert_eq!(
        checks,
        PRINCIPALS.len() * (writes + 2 * (fixtures.len() + 3) + fixtures.len() * 2)
    );
    app.stop().await;
}

crate::on_both!(
    every_role_relation_endpoint_and_field_matches_the_policy,
    every_write_list_and_statistics_endpoint_matches_the_policy
);
