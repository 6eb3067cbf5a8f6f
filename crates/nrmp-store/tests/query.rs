//! Conformance tests of the list queries (filters, keyset paging), the unaudited case
//! histories and the migration check — on both backends, each test on a fresh database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use nrmp_domain::found::FoundPerson;
use nrmp_domain::ids::{FoundPersonId, IncidentId, PersonId, PlacementId};
use nrmp_domain::incident::{
    GradeChange, Incident, IncidentCategory, Place, Return, ReturnOutcome, RiskGrade,
};
use nrmp_domain::organisation::{OrgCode, OrgKind, Organisation};
use nrmp_domain::person::{Description, NameKind, Person, PersonName, Sex};
use nrmp_domain::placement::{Placement, PlacementType};
use nrmp_store::prelude::*;
use nrmp_store::test_support::{TestDb, actor, at};
use nrmp_store::{
    Backend, Ctx, FoundCursor, FoundFilter, IncidentCursor, IncidentFilter, PersonFilter,
};
use uuid::Uuid;

fn code(s: &str) -> OrgCode {
    OrgCode::parse("org", s).unwrap()
}

fn ctx() -> Ctx {
    Ctx::new(actor("tester", "force:kent"), "test", at(0))
}

async fn seeded(backend: Backend) -> TestDb {
    let db = TestDb::new(backend).await.unwrap();
    let org = |c: &str, kind| Organisation {
        code: code(c),
        kind,
        name: c.into(),
        country: "England".into(),
        region: None,
        police_force: None,
    };
    db.store
        .put_organisations(
            &ctx(),
            &[
                org("force:kent", OrgKind::PoliceForce),
                org("force:essex", OrgKind::PoliceForce),
                org("la:kent", OrgKind::LocalAuthority),
                org("la:essex", OrgKind::LocalAuthority),
            ],
        )
        .await
        .unwrap();
    db
}

fn person(n: u128, owner: &str) -> Person {
    Person {
        id: PersonId(Uuid::from_u128(n)),
        owning_org: code(owner),
        names: vec![PersonName::parse(NameKind::Primary, "Test", "Person", None, false).unwrap()],
        dob: None,
        sex: Sex::Unknown,
        nationalities: vec![],
        languages: vec![],
        identifiers: vec![],
        description: Description::default(),
        created_at: at(0),
        updated_at: at(0),
    }
}

fn incident(
    n: u128,
    person: u128,
    force: &str,
    grade: RiskGrade,
    seen: i64,
    found: bool,
) -> Incident {
    Incident {
        id: IncidentId(Uuid::from_u128(n)),
        person_id: PersonId(Uuid::from_u128(person)),
        owning_org: code(force),
        force_missing: code(force),
        involved: vec![],
        category: IncidentCategory::Missing,
        reported_at: at(seen + 1),
        last_seen_at: at(seen),
        last_seen_place: Place::default(),
        circumstances: String::new(),
        risk_history: vec![GradeChange {
            grade,
            rationale: "test".into(),
            at: at(seen + 1),
            by: "tester".into(),
            source: code(force),
        }],
        sightings: vec![],
        returned: found.then(|| Return {
            found_at: at(seen + 2),
            place: Place::default(),
            found_by: code(force),
            outcome: ReturnOutcome::Safe,
        }),
        return_interview: None,
    }
}

fn ids(rows: &[Incident]) -> Vec<u128> {
    rows.iter().map(|i| i.id.0.as_u128()).collect()
}

async fn incidents_filter_by_state_risk_force_authority_and_time(backend: Backend) {
    let db = seeded(backend).await;
    let s = &db.store;
    for (p, owner) in [(1, "la:kent"), (2, "la:essex"), (3, "force:essex")] {
        s.create_person(&ctx(), &person(p, owner)).await.unwrap();
    }
    // person 3 is placed by Kent County Council
    s.create_placement(
        &ctx(),
        &Placement {
            id: PlacementId(Uuid::from_u128(900)),
            person_id: PersonId(Uuid::from_u128(3)),
            placing_authority: code("la:kent"),
            host_authority: code("la:essex"),
            placement_type: PlacementType::Foster,
            started_at: at(0),
            ended_at: None,
            unaccompanied: false,
        },
    )
    .await
    .unwrap();
    let rows = [
        incident(10, 1, "force:kent", RiskGrade::High, 100, false),
        incident(11, 1, "force:kent", RiskGrade::Low, 10, true),
        incident(12, 2, "force:essex", RiskGrade::High, 50, false),
        incident(13, 3, "force:essex", RiskGrade::Medium, 70, false),
    ];
    for i in &rows {
        s.create_incident(&ctx(), i).await.unwrap();
    }
    let q =
        |f: IncidentFilter| async move { ids(&s.query_incidents(&f, None, 100).await.unwrap()) };
    assert_eq!(
        q(IncidentFilter::default()).await,
        vec![10, 13, 12, 11],
        "last seen, newest first"
    );
    assert_eq!(
        q(IncidentFilter {
            open: Some(true),
            ..Default::default()
        })
        .await,
        vec![10, 13, 12]
    );
    assert_eq!(
        q(IncidentFilter {
            open: Some(false),
            ..Default::default()
        })
        .await,
        vec![11]
    );
    assert_eq!(
        q(IncidentFilter {
            risk: vec![RiskGrade::High, RiskGrade::Medium],
            ..Default::default()
        })
        .await,
        vec![10, 13, 12]
    );
    assert_eq!(
        q(IncidentFilter {
            force: Some(code("force:essex")),
            ..Default::default()
        })
        .await,
        vec![13, 12]
    );
    assert_eq!(
        q(IncidentFilter {
            owning_org: Some(code("force:kent")),
            ..Default::default()
        })
        .await,
        vec![10, 11]
    );
    // la:kent owns person 1 and places person 3
    assert_eq!(
        q(IncidentFilter {
            authority: Some(code("la:kent")),
            ..Default::default()
        })
        .await,
        vec![10, 13, 11]
    );
    assert_eq!(
        q(IncidentFilter {
            person: Some(PersonId(Uuid::from_u128(2))),
            ..Default::default()
        })
        .await,
        vec![12]
    );
    assert_eq!(
        q(IncidentFilter {
            ids: vec![IncidentId(Uuid::from_u128(11))],
            ..Default::default()
        })
        .await,
        vec![11]
    );
    assert_eq!(
        q(IncidentFilter {
            open: Some(true),
            last_seen_before: Some(at(60)),
            ..Default::default()
        })
        .await,
        vec![12]
    );
    assert_eq!(
        q(IncidentFilter {
            category: Some(IncidentCategory::AwayFromPlacement),
            ..Default::default()
        })
        .await,
        Vec::<u128>::new()
    );
    // a grade change moves the incident between risk filters
    let mut up = rows[2].clone();
    up.risk_history.push(GradeChange {
        grade: RiskGrade::Low,
        rationale: "in contact".into(),
        at: at(60),
        by: "tester".into(),
        source: code("force:essex"),
    });
    s.update_incident(&ctx(), &up).await.unwrap();
    assert_eq!(
        q(IncidentFilter {
            risk: vec![RiskGrade::High],
            ..Default::default()
        })
        .await,
        vec![10]
    );
    // keyset paging: every row once, in order, whatever the page size
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .query_incidents(&IncidentFilter::default(), after, 3)
            .await
            .unwrap();
        seen.extend(ids(&page));
        match page.last() {
            Some(l) if page.len() == 3 => {
                after = Some(IncidentCursor {
                    last_seen_at: l.last_seen_at,
                    id: l.id,
                })
            }
            _ => break,
        }
    }
    assert_eq!(seen, vec![10, 13, 12, 11]);
    // listing is not audited (the caller audits what it shows)
    let before = s.counts().await.unwrap().audit_events;
    s.query_incidents(&IncidentFilter::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(s.counts().await.unwrap().audit_events, before);
    db.cleanup().await;
}

async fn incidents_on_the_same_instant_page_by_id(backend: Backend) {
    let db = seeded(backend).await;
    let s = &db.store;
    for p in 1..=5u128 {
        s.create_person(&ctx(), &person(p, "force:kent"))
            .await
            .unwrap();
        s.create_incident(
            &ctx(),
            &incident(100 + p, p, "force:kent", RiskGrade::Low, 5, false),
        )
        .await
        .unwrap();
    }
    let first = s
        .query_incidents(&IncidentFilter::default(), None, 2)
        .await
        .unwrap();
    assert_eq!(ids(&first), vec![105, 104]);
    let l = first.last().unwrap();
    let next = s
        .query_incidents(
            &IncidentFilter::default(),
            Some(IncidentCursor {
                last_seen_at: l.last_seen_at,
                id: l.id,
            }),
            10,
        )
        .await
        .unwrap();
    assert_eq!(ids(&next), vec![103, 102, 101]);
    db.cleanup().await;
}

async fn persons_and_found_persons_list_with_filters(backend: Backend) {
    let db = seeded(backend).await;
    let s = &db.store;
    for (p, owner) in [(1, "la:kent"), (2, "force:kent"), (3, "la:kent")] {
        s.create_person(&ctx(), &person(p, owner)).await.unwrap();
    }
    let page = s
        .query_persons(
            &PersonFilter {
                owning_org: Some(code("la:kent")),
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|p| p.id.0.as_u128()).collect::<Vec<_>>(),
        vec![1, 3]
    );
    let page = s
        .query_persons(
            &PersonFilter::default(),
            Some(PersonId(Uuid::from_u128(1))),
            1,
        )
        .await
        .unwrap();
    assert_eq!(page[0].id.0.as_u128(), 2);
    let found = |n: u128, hours: i64, by: &str, identified: Option<u128>| FoundPerson {
        id: FoundPersonId(Uuid::from_u128(n)),
        found_at: at(hours),
        place: Place::default(),
        found_by: code(by),
        names_given: vec![],
        dob: None,
        sex: Sex::Unknown,
        description: Description {
            height_cm: Some((150, 160)),
            ..Description::default()
        },
        identified_as: identified.map(|p| PersonId(Uuid::from_u128(p))),
        deceased: false,
    };
    s.create_found_person(&ctx(), &found(50, 10, "force:kent", None))
        .await
        .unwrap();
    s.create_found_person(&ctx(), &found(51, 20, "force:essex", Some(1)))
        .await
        .unwrap();
    s.create_found_person(&ctx(), &found(52, 30, "force:kent", None))
        .await
        .unwrap();
    let fids = |rows: Vec<FoundPerson>| rows.iter().map(|f| f.id.0.as_u128()).collect::<Vec<_>>();
    assert_eq!(
        fids(
            s.query_found_persons(&FoundFilter::default(), None, 10)
                .await
                .unwrap()
        ),
        vec![52, 51, 50]
    );
    assert_eq!(
        fids(
            s.query_found_persons(
                &FoundFilter {
                    unidentified: Some(true),
                    ..Default::default()
                },
                None,
                10
            )
            .await
            .unwrap()
        ),
        vec![52, 50]
    );
    assert_eq!(
        fids(
            s.query_found_persons(
                &FoundFilter {
                    found_by: Some(code("force:essex")),
                    ..Default::default()
                },
                None,
                10
            )
            .await
            .unwrap()
        ),
        vec![51]
    );
    let after = FoundCursor {
        found_at: at(30),
        id: FoundPersonId(Uuid::from_u128(52)),
    };
    assert_eq!(
        fids(
            s.query_found_persons(&FoundFilter::default(), Some(after), 1)
                .await
                .unwrap()
        ),
        vec![51]
    );
    db.cleanup().await;
}

async fn case_histories_load_many_persons_without_auditing(backend: Backend) {
    let db = seeded(backend).await;
    let s = &db.store;
    for p in 1..=3u128 {
        s.create_person(&ctx(), &person(p, "la:kent"))
            .await
            .unwrap();
    }
    s.create_incident(
        &ctx(),
        &incident(20, 2, "force:kent", RiskGrade::High, 30, true),
    )
    .await
    .unwrap();
    s.create_incident(
        &ctx(),
        &incident(21, 2, "force:kent", RiskGrade::High, 10, true),
    )
    .await
    .unwrap();
    let before = s.counts().await.unwrap().audit_events;
    let ask = [
        PersonId(Uuid::from_u128(2)),
        PersonId(Uuid::from_u128(99)),
        PersonId(Uuid::from_u128(1)),
    ];
    let hs = s.case_histories(&ask).await.unwrap();
    assert_eq!(hs.len(), 2, "unknown ids are left out");
    assert_eq!(hs[0].person.id, ask[0], "in the order asked");
    assert_eq!(hs[1].person.id, ask[2]);
    assert_eq!(ids(&hs[0].incidents), vec![21, 20], "oldest first");
    assert!(hs[1].incidents.is_empty());
    assert_eq!(s.counts().await.unwrap().audit_events, before);
    assert_eq!(s.migrations_pending().await.unwrap(), 0);
    db.cleanup().await;
}

/// Audited reads (a read and its audit event in one transaction) and writes from many tasks at
/// once: on SQLite a read transaction that then writes its audit event used to fail at once with
/// "database is locked" (SQLITE_BUSY_SNAPSHOT) when another writer had committed meanwhile.
async fn audited_reads_and_writes_run_concurrently(backend: Backend) {
    let db = seeded(backend).await;
    let s: std::sync::Arc<dyn Store> = db.store.clone();
    for p in 1..=4u128 {
        s.create_person(&ctx(), &person(p, "force:kent"))
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for t in 0..8u128 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25u128 {
                let id = PersonId(Uuid::from_u128(1 + (t + i) % 4));
                if (t + i) % 3 == 0 {
                    let mut p = s.person(&ctx(), id).await?;
                    p.updated_at = at(1);
                    s.update_person(&ctx(), &p).await?;
                } else {
                    s.person(&ctx(), id).await?;
                }
            }
            Ok::<_, nrmp_store::StoreError>(())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    db.cleanup().await;
}

async fn an_incident_changed_meanwhile_is_a_conflict(backend: Backend) {
    let db = seeded(backend).await;
    let s = &db.store;
    s.create_person(&ctx(), &person(1, "force:kent"))
        .await
        .unwrap();
    let original = incident(10, 1, "force:kent", RiskGrade::Low, 5, false);
    s.create_incident(&ctx(), &original).await.unwrap();
    let mut first = original.clone();
    first.circumstances = "first change".into();
    s.update_incident_from(&ctx(), &original, &first)
        .await
        .unwrap();
    // a second writer that read the original before the first change
    let mut second = original.clone();
    second.circumstances = "second change".into();
    let e = s
        .update_incident_from(&ctx(), &original, &second)
        .await
        .unwrap_err();
    assert!(matches!(e, nrmp_store::StoreError::Conflict(_)), "{e}");
    let stored = s
        .query_incidents(
            &IncidentFilter {
                ids: vec![original.id],
                ..Default::default()
            },
            None,
            1,
        )
        .await
        .unwrap();
    assert_eq!(stored[0].circumstances, "first change");
    db.cleanup().await;
}

nrmp_store::on_both_backends!(
    an_incident_changed_meanwhile_is_a_conflict,
    audited_reads_and_writes_run_concurrently,
    incidents_filter_by_state_risk_force_authority_and_time,
    incidents_on_the_same_instant_page_by_id,
    persons_and_found_persons_list_with_filters,
    case_histories_load_many_persons_without_auditing,
);
