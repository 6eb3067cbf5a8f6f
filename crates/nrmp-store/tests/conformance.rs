//! The storage conformance suite: one set of tests written against the [`Store`] trait, run on
//! every backend (SQLite and PostgreSQL), each test on its own fresh database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use chrono::Duration;
use nrmp_domain::audit::AuditAction;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::identifier::{Identifier, IdentifierKind};
use nrmp_domain::ids::{FoundPersonId, IncidentId, PersonId, PlacementId, ProfileId, ReferralId};
use nrmp_domain::incident::{
    GradeChange, Incident, IncidentCategory, Place, Return, ReturnOutcome, RiskGrade, Sighting,
};
use nrmp_domain::nrm::{ExploitationType, NrmReferral};
use nrmp_domain::organisation::{AuthoritySpend, OrgCode, OrgKind, Organisation};
use nrmp_domain::person::{
    DateOfBirth, Description, NameKind, Nationality, Person, PersonName, Sex,
};
use nrmp_domain::placement::{Placement, PlacementType};
use nrmp_domain::profile::PrefilledProfile;
use nrmp_store::prelude::*;
use nrmp_store::test_support::{TestDb, actor, at};
use nrmp_store::{Backend, Ctx, RecordKind, ScanKey, StoreError, scan_all};
use std::collections::HashSet;
use std::sync::Arc;
use uuid::Uuid;

fn code(s: &str) -> OrgCode {
    OrgCode::parse("org", s).unwrap()
}

fn orgs() -> Vec<Organisation> {
    let org = |c: &str, kind, name: &str, force: Option<&str>| Organisation {
        code: code(c),
        kind,
        name: name.into(),
        country: "England".into(),
        region: Some("South East".into()),
        police_force: force.map(code),
    };
    vec![
        org("force:kent", OrgKind::PoliceForce, "Kent Police", None),
        org(
            "force:west-midlands",
            OrgKind::PoliceForce,
            "West Midlands Police",
            None,
        ),
        org(
            "la:kent",
            OrgKind::LocalAuthority,
            "Kent County Council",
            Some("force:kent"),
        ),
        org(
            "national:nmpu",
            OrgKind::NationalUnit,
            "UK Missing Persons Unit",
            None,
        ),
    ]
}

fn ctx(hours: i64) -> Ctx {
    Ctx::new(actor("coordinator1", "force:kent"), "test", at(hours))
}

fn person(n: u128) -> Person {
    let today = at(0).date_naive();
    Person {
        id: PersonId(Uuid::from_u128(n)),
        owning_org: code("force:kent"),
        names: vec![
            PersonName::parse(
                NameKind::Primary,
                "Đức",
                "Nguyễn Văn",
                Some("Nguyễn Văn Đức"),
                false,
            )
            .unwrap(),
            PersonName::parse(NameKind::Alias, "Duc", "Nguyen", None, true).unwrap(),
        ],
        dob: Some(DateOfBirth::parse("dob", "2009-01-01..2010-06-30", today).unwrap()),
        sex: Sex::Male,
        nationalities: vec![Nationality::parse("n", "VNM").unwrap()],
        languages: vec![],
        identifiers: vec![Identifier::parse("i", IdentifierKind::HomeOffice, "H1234567").unwrap()],
        description: Description {
            height_cm: Some((160, 168)),
            ..Description::default()
        },
        created_at: at(0),
        updated_at: at(0),
    }
}

fn incident(n: u128, person: u128, seen: i64, found: Option<i64>) -> Incident {
    Incident {
        id: IncidentId(Uuid::from_u128(n)),
        person_id: PersonId(Uuid::from_u128(person)),
        owning_org: code("force:kent"),
        force_missing: code("force:kent"),
        involved: vec![code("la:kent")],
        category: IncidentCategory::Missing,
        reported_at: at(seen + 1),
        last_seen_at: at(seen),
        last_seen_place: Place {
            description: "Ashford".into(),
            authority: Some(code("la:kent")),
            force: Some(code("force:kent")),
        },
        circumstances: "did not return to placement".into(),
        risk_history: vec![GradeChange {
            grade: RiskGrade::Medium,
            rationale: "child in care, first episode".into(),
            at: at(seen + 1),
            by: "coordinator1".into(),
            source: code("force:kent"),
        }],
        sightings: vec![],
        returned: found.map(|f| Return {
            found_at: at(f),
            place: Place::default(),
            found_by: code("force:kent"),
            outcome: ReturnOutcome::Safe,
        }),
        return_interview: None,
    }
}

async fn seeded(backend: Backend) -> TestDb {
    let db = TestDb::new(backend).await.unwrap();
    db.store.put_organisations(&ctx(0), &orgs()).await.unwrap();
    db
}

nrmp_store::on_both_backends!(
    person_round_trips_and_is_audited,
    duplicate_person_is_a_conflict,
    unknown_organisation_is_refused_and_nothing_is_stored,
    overlapping_incidents_are_refused,
    incident_updates_keep_grade_history,
    incident_for_unknown_person_is_refused,
    profiles_are_versioned,
    referrals_placements_and_found_persons,
    person_history_collects_everything,
    import_is_all_or_nothing,
    import_commits_with_one_audit_event,
    scan_pages_through_everything_in_order,
    concurrent_incident_writes_cannot_both_pass_the_overlap_check,
    audit_requires_a_named_actor,
    spend_table_is_replaced_whole_and_bad_rows_store_nothing,
    changes_are_followed_in_order,
);

async fn changes_are_followed_in_order(backend: Backend) {
    let db = seeded(backend).await;
    let start = db.store.last_change().await.unwrap();
    let mut p = person(1);
    db.store.create_person(&ctx(1), &p).await.unwrap();
    p.sex = Sex::Female;
    db.store.update_person(&ctx(2), &p).await.unwrap();
    let changes = db.store.changes_after(start, 10).await.unwrap();
    let seen: Vec<(&str, &str, &str)> = changes
        .iter()
        .map(|c| {
            (
                c.event.as_str(),
                c.record_kind.as_str(),
                c.record_id.as_str(),
            )
        })
        .collect();
    let id = p.id.to_string();
    assert_eq!(
        seen,
        [
            ("person.create", "person", id.as_str()),
            ("person.update", "person", id.as_str())
        ]
    );
    assert!(changes[0].seq < changes[1].seq);
    assert_eq!(db.store.last_change().await.unwrap(), changes[1].seq);
    // Paging: after the first, only the second; after the last, nothing.
    let rest = db.store.changes_after(changes[0].seq, 10).await.unwrap();
    assert_eq!(rest, changes[1..]);
    assert!(
        db.store
            .changes_after(changes[1].seq, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(db.store.changes_after(start, 1).await.unwrap().len(), 1);
    db.cleanup().await;
}

async fn spend_table_is_replaced_whole_and_bad_rows_store_nothing(backend: Backend) {
    let db = seeded(backend).await;
    let row = |c: &str, year, spend_per_child| AuthoritySpend {
        authority: code(c),
        year,
        spend_per_child,
    };
    let first = vec![
        row("la:kent", 2023, 61_250.5),
        row("la:kent", 2024, 63_000.0),
    ];
    db.store.replace_spend(&ctx(1), &first).await.unwrap();
    assert_eq!(db.store.spend().await.unwrap(), first);
    // Replacing keeps only the new rows.
    let second = vec![row("la:kent", 2025, 0.0)];
    db.store.replace_spend(&ctx(2), &second).await.unwrap();
    assert_eq!(db.store.spend().await.unwrap(), second);
    // Each bad table is refused naming the row and field, and the stored one is untouched.
    for (bad, field) in [
        (
            vec![row("la:kent", 2024, 1.0), row("force:kent", 2024, 1.0)],
            "rows[1].authority",
        ),
        (vec![row("la:atlantis", 2024, 1.0)], "rows[0].authority"),
        (
            vec![row("la:kent", 2024, 1.0), row("la:kent", 2024, 2.0)],
            "rows[1].year",
        ),
        (vec![row("la:kent", 2024, -5.0)], "rows[0].spend_per_child"),
    ] {
        let e = db.store.replace_spend(&ctx(3), &bad).await.unwrap_err();
        let StoreError::Invalid(v) = &e else {
            panic!("{e}")
        };
        assert_eq!(v.0[0].field, field, "{e}");
        assert_eq!(db.store.spend().await.unwrap(), second);
    }
    // Two replacements, two import events.
    let events = db.store.audit_events(0, 100).await.unwrap();
    let imports: Vec<_> = events
        .iter()
        .filter(|e| e.record_kind == AuthoritySpend::KIND)
        .collect();
    assert_eq!(imports.len(), 2, "{imports:?}");
    assert!(imports.iter().all(|e| e.action == AuditAction::Import));
    assert!(imports[0].detail.contains("2 rows"), "{:?}", imports[0]);
    db.cleanup().await;
}

async fn person_round_trips_and_is_audited(backend: Backend) {
    let db = seeded(backend).await;
    let p = person(1);
    db.store.create_person(&ctx(1), &p).await.unwrap();
    let got = db.store.person(&ctx(2), p.id).await.unwrap();
    assert_eq!(got, p);
    let mut changed = got.clone();
    changed.sex = Sex::Unknown;
    changed.updated_at = at(3);
    db.store.update_person(&ctx(3), &changed).await.unwrap();
    assert_eq!(
        db.store.person(&ctx(4), p.id).await.unwrap().sex,
        Sex::Unknown
    );
    let events = db.store.audit_events(0, 100).await.unwrap();
    let kinds: Vec<_> = events
        .iter()
        .filter(|e| e.record_kind == "person")
        .map(|e| e.action)
        .collect();
    assert_eq!(
        kinds,
        vec![
            AuditAction::Create,
            AuditAction::Read,
            AuditAction::Update,
            AuditAction::Read
        ]
    );
    let create = events
        .iter()
        .find(|e| e.action == AuditAction::Create)
        .unwrap();
    assert_eq!(create.actor.user, "coordinator1");
    assert_eq!(create.actor.org.as_str(), "force:kent");
    assert_eq!(create.record_ids, vec![p.id.to_string()]);
    assert_eq!(create.at, at(1));
    assert_eq!(create.reason, "test");
    db.cleanup().await;
}

async fn duplicate_person_is_a_conflict(backend: Backend) {
    let db = seeded(backend).await;
    db.store.create_person(&ctx(1), &person(1)).await.unwrap();
    let mut again = person(1);
    again.sex = Sex::Female;
    let e = db.store.create_person(&ctx(2), &again).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");
    assert_eq!(
        db.store.person(&ctx(3), again.id).await.unwrap().sex,
        Sex::Male
    );
    let e = db
        .store
        .update_person(&ctx(2), &person(2))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
    db.cleanup().await;
}

async fn unknown_organisation_is_refused_and_nothing_is_stored(backend: Backend) {
    let db = seeded(backend).await;
    let mut p = person(1);
    p.owning_org = code("force:atlantis");
    let e = db.store.create_person(&ctx(1), &p).await.unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e}");
    assert!(e.to_string().contains("not in the register"), "{e}");
    let counts = db.store.counts().await.unwrap();
    assert_eq!(counts.persons, 0);
    // the failed change left no audit event behind either
    assert!(
        db.store
            .audit_events(0, 100)
            .await
            .unwrap()
            .iter()
            .all(|e| e.record_kind != "person")
    );
    db.cleanup().await;
}

async fn overlapping_incidents_are_refused(backend: Backend) {
    let db = seeded(backend).await;
    db.store.create_person(&ctx(0), &person(1)).await.unwrap();
    db.store
        .create_incident(&ctx(1), &incident(10, 1, 0, Some(10)))
        .await
        .unwrap();
    db.store
        .create_incident(&ctx(1), &incident(11, 1, 20, None))
        .await
        .unwrap();
    let e = db
        .store
        .create_incident(&ctx(1), &incident(12, 1, 5, Some(8)))
        .await
        .unwrap_err();
    match e {
        StoreError::Invalid(v) => assert_eq!(v.errors()[0].field, "last_seen_at"),
        other => panic!("{other}"),
    }
    // open incident 11 blocks anything later
    assert!(
        db.store
            .create_incident(&ctx(1), &incident(13, 1, 30, Some(40)))
            .await
            .is_err()
    );
    // an invalid incident (return before last seen) is refused before touching the database
    let mut bad = incident(14, 1, 12, None);
    bad.returned = incident(0, 1, 0, Some(11)).returned;
    let e = db.store.create_incident(&ctx(1), &bad).await.unwrap_err();
    assert!(e.to_string().contains("returned.found_at"), "{e}");
    assert_eq!(db.store.counts().await.unwrap().incidents, 2);
    db.cleanup().await;
}

async fn incident_updates_keep_grade_history(backend: Backend) {
    let db = seeded(backend).await;
    db.store.create_person(&ctx(0), &person(1)).await.unwrap();
    let mut i = incident(10, 1, 0, None);
    db.store.create_incident(&ctx(1), &i).await.unwrap();
    i.change_grade(GradeChange {
        grade: RiskGrade::High,
        rationale: "NRM referral two days ago".into(),
        at: at(2),
        by: "sgt".into(),
        source: code("force:kent"),
    })
    .unwrap();
    i.sightings.push(Sighting {
        at: at(3),
        place: Place::default(),
        reported_by: code("force:west-midlands"),
        details: "seen at station".into(),
    });
    db.store.update_incident(&ctx(2), &i).await.unwrap();
    let got = db.store.incident(&ctx(3), i.id).await.unwrap();
    assert_eq!(got.risk(), RiskGrade::High);
    assert_eq!(got.risk_history.len(), 2);
    // rewriting history is refused
    let mut rewritten = got.clone();
    rewritten.risk_history.remove(0);
    let e = db
        .store
        .update_incident(&ctx(4), &rewritten)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("risk_history"), "{e}");
    // a return is recorded; the open-incident count drops
    assert_eq!(db.store.counts().await.unwrap().open_incidents, 1);
    let mut returned = got.clone();
    returned
        .record_return(Return {
            found_at: at(30),
            place: Place {
                force: Some(code("force:west-midlands")),
                ..Place::default()
            },
            found_by: code("force:west-midlands"),
            outcome: ReturnOutcome::Safe,
        })
        .unwrap();
    db.store.update_incident(&ctx(30), &returned).await.unwrap();
    assert_eq!(db.store.counts().await.unwrap().open_incidents, 0);
    assert_eq!(db.store.incident(&ctx(31), i.id).await.unwrap(), returned);
    db.cleanup().await;
}

async fn incident_for_unknown_person_is_refused(backend: Backend) {
    let db = seeded(backend).await;
    let e = db
        .store
        .create_incident(&ctx(1), &incident(10, 99, 0, None))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("person_id"), "{e}");
    assert_eq!(db.store.counts().await.unwrap().incidents, 0);
    db.cleanup().await;
}

fn profile(version: u32, hours: i64) -> PrefilledProfile {
    PrefilledProfile {
        id: ProfileId(Uuid::from_u128(500)),
        version,
        person_id: PersonId(Uuid::from_u128(1)),
        prepared_by: code("la:kent"),
        prepared_at: at(hours),
        description: Description::default(),
        associates: vec!["older male, 'Tom'".into()],
        places: vec!["Dover seafront".into()],
        phones: vec!["07700 900123".into()],
        social_media: vec![],
        medical_needs: Some("asthma inhaler".into()),
        notes: None,
    }
}

async fn profiles_are_versioned(backend: Backend) {
    let db = seeded(backend).await;
    db.store.create_person(&ctx(0), &person(1)).await.unwrap();
    let v1 = profile(1, 1);
    db.store.save_profile(&ctx(1), &v1).await.unwrap();
    let v2 = v1
        .next_version(at(5), |p| p.places.push("Canterbury bus station".into()))
        .unwrap();
    db.store.save_profile(&ctx(5), &v2).await.unwrap();
    // the same version twice, or a skipped version, is a conflict
    assert!(matches!(
        db.store.save_profile(&ctx(6), &v2).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        db.store.save_profile(&ctx(6), &profile(4, 6)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(db.store.profile(&ctx(7), v1.id, None).await.unwrap(), v2);
    assert_eq!(db.store.profile(&ctx(7), v1.id, Some(1)).await.unwrap(), v1);
    assert!(matches!(
        db.store
            .profile(&ctx(7), ProfileId(Uuid::from_u128(9)), None)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    db.cleanup().await;
}

async fn referrals_placements_and_found_persons(backend: Backend) {
    let db = seeded(backend).await;
    db.store.create_person(&ctx(0), &person(1)).await.unwrap();
    let mut r = NrmReferral {
        id: ReferralId(Uuid::from_u128(7)),
        person_id: PersonId(Uuid::from_u128(1)),
        reference: Some("NRM-2026-000123".into()),
        referred_on: at(0).date_naive(),
        first_responder: code("la:kent"),
        exploitation: vec![ExploitationType::Criminal, ExploitationType::Labour],
        reasonable_grounds: None,
        conclusive_grounds: None,
    };
    db.store.create_referral(&ctx(1), &r).await.unwrap();
    // an invalid update (conclusive without reasonable grounds) changes nothing
    r.conclusive_grounds = Some(nrmp_domain::nrm::Decision {
        date: at(100).date_naive(),
        outcome: nrmp_domain::nrm::DecisionOutcome::Positive,
    });
    assert!(matches!(
        db.store.update_referral(&ctx(2), &r).await,
        Err(StoreError::Invalid(_))
    ));
    let mut p = Placement {
        id: PlacementId(Uuid::from_u128(8)),
        person_id: PersonId(Uuid::from_u128(1)),
        placing_authority: code("la:kent"),
        host_authority: code("la:kent"),
        placement_type: PlacementType::ChildrensHome,
        started_at: at(0),
        ended_at: None,
        unaccompanied: true,
    };
    db.store.create_placement(&ctx(1), &p).await.unwrap();
    p.ended_at = Some(at(200));
    db.store.update_placement(&ctx(200), &p).await.unwrap();
    let mut f = FoundPerson {
        id: FoundPersonId(Uuid::from_u128(9)),
        found_at: at(50),
        place: Place::default(),
        found_by: code("force:west-midlands"),
        names_given: vec![PersonName::parse(NameKind::Primary, "Duc", "", None, true).unwrap()],
        dob: None,
        sex: Sex::Male,
        description: Description::default(),
        identified_as: None,
        deceased: false,
    };
    db.store.create_found_person(&ctx(50), &f).await.unwrap();
    f.identified_as = Some(PersonId(Uuid::from_u128(1)));
    db.store.update_found_person(&ctx(51), &f).await.unwrap();
    assert_eq!(db.store.found_person(&ctx(52), f.id).await.unwrap(), f);
    let h = db
        .store
        .person_history(&ctx(60), PersonId(Uuid::from_u128(1)))
        .await
        .unwrap();
    assert_eq!(h.placements, vec![p]);
    assert_eq!(h.referrals.len(), 1);
    assert!(h.referrals[0].conclusive_grounds.is_none());
    db.cleanup().await;
}

async fn person_history_collects_everything(backend: Backend) {
    let db = seeded(backend).await;
    db.store.create_person(&ctx(0), &person(1)).await.unwrap();
    db.store.create_person(&ctx(0), &person(2)).await.unwrap();
    db.store
        .create_incident(&ctx(1), &incident(11, 1, 50, Some(60)))
        .await
        .unwrap();
    db.store
        .create_incident(&ctx(1), &incident(10, 1, 0, Some(10)))
        .await
        .unwrap();
    db.store
        .create_incident(&ctx(1), &incident(12, 2, 0, None))
        .await
        .unwrap();
    let v1 = profile(1, 1);
    db.store.save_profile(&ctx(1), &v1).await.unwrap();
    db.store
        .save_profile(&ctx(2), &v1.next_version(at(2), |_| {}).unwrap())
        .await
        .unwrap();
    let h = db
        .store
        .person_history(&ctx(5), PersonId(Uuid::from_u128(1)))
        .await
        .unwrap();
    let ids: Vec<u128> = h.incidents.iter().map(|i| i.id.0.as_u128()).collect();
    assert_eq!(ids, vec![10, 11], "oldest first, only this person's");
    assert_eq!(h.profiles.len(), 1);
    assert_eq!(h.profiles[0].version, 2);
    let e = db
        .store
        .person_history(&ctx(5), PersonId(Uuid::from_u128(3)))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { kind: "person", .. }));
    db.cleanup().await;
}

async fn import_is_all_or_nothing(backend: Backend) {
    let db = seeded(backend).await;
    db.store.create_person(&ctx(0), &person(1)).await.unwrap();
    let before = db.store.counts().await.unwrap();
    let mut imp = db.store.begin_import(&ctx(1)).await.unwrap();
    imp.persons(&[person(2), person(3)]).await.unwrap();
    imp.incidents(&[incident(20, 2, 0, None)]).await.unwrap();
    // person 1 already exists: the batch fails ...
    assert!(imp.persons(&[person(1)]).await.is_err());
    imp.rollback().await.unwrap();
    // ... and the register is exactly as before
    assert_eq!(db.store.counts().await.unwrap(), before);
    // dropping a session without commit also changes nothing
    {
        let mut imp = db.store.begin_import(&ctx(1)).await.unwrap();
        imp.persons(&[person(4)]).await.unwrap();
    }
    assert_eq!(db.store.counts().await.unwrap(), before);
    db.cleanup().await;
}

async fn import_commits_with_one_audit_event(backend: Backend) {
    let db = TestDb::new(backend).await.unwrap();
    let mut imp = db.store.begin_import(&ctx(1)).await.unwrap();
    imp.organisations(&orgs()).await.unwrap();
    assert_eq!(imp.existing_organisations().await.unwrap().len(), 4);
    let persons: Vec<Person> = (1..=700).map(person).collect();
    imp.persons(&persons).await.unwrap();
    let incidents: Vec<Incident> = (1..=700)
        .map(|n| incident(10_000 + n, n, 0, Some(5)))
        .collect();
    imp.incidents(&incidents).await.unwrap();
    let known = imp
        .existing_keys(
            RecordKind::Person,
            &[
                Uuid::from_u128(5).to_string(),
                Uuid::from_u128(5000).to_string(),
            ],
        )
        .await
        .unwrap();
    assert_eq!(known.len(), 1);
    assert_eq!(
        imp.incidents_of(&[PersonId(Uuid::from_u128(5))])
            .await
            .unwrap()
            .len(),
        1
    );
    imp.commit("700 persons").await.unwrap();
    let c = db.store.counts().await.unwrap();
    assert_eq!((c.persons, c.incidents, c.organisations), (700, 700, 4));
    assert!(
        db.store.size_bytes().await.unwrap() > 100_000,
        "700 persons take some room"
    );
    let events = db.store.audit_events(0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, AuditAction::Import);
    assert_eq!(events[0].detail, "700 persons");
    // Every imported person is announced to the outbox's followers (the matching indexes).
    let changes = db.store.changes_after(0, 1_000).await.unwrap();
    let imported: HashSet<&str> = changes
        .iter()
        .filter(|c| c.event == "person.import" && c.record_kind == "person")
        .map(|c| c.record_id.as_str())
        .collect();
    assert_eq!(imported.len(), 700);
    assert!(imported.contains(Uuid::from_u128(700).to_string().as_str()));
    db.cleanup().await;
}

async fn scan_pages_through_everything_in_order(backend: Backend) {
    let db = seeded(backend).await;
    let mut imp = db.store.begin_import(&ctx(1)).await.unwrap();
    imp.persons(&(1..=25).map(person).collect::<Vec<_>>())
        .await
        .unwrap();
    imp.commit("").await.unwrap();
    let mut seen = Vec::new();
    scan_all::<Person>(db.store.as_ref(), 7, |page| {
        assert!(page.len() <= 7);
        seen.extend(page.into_iter().map(|p| p.id));
        Ok(())
    })
    .await
    .unwrap();
    let mut expected: Vec<PersonId> = (1..=25).map(|n| PersonId(Uuid::from_u128(n))).collect();
    expected.sort_by_key(|id| id.to_string());
    assert_eq!(seen, expected);
    // profiles have a two-part key
    let v1 = profile(1, 1);
    db.store.save_profile(&ctx(1), &v1).await.unwrap();
    db.store
        .save_profile(&ctx(2), &v1.next_version(at(2), |_| {}).unwrap())
        .await
        .unwrap();
    let first = db.store.scan(RecordKind::Profile, None, 1).await.unwrap();
    assert_eq!(first[0].0, ScanKey(v1.id.to_string(), 1));
    let next = db
        .store
        .scan(RecordKind::Profile, Some(first[0].0.clone()), 10)
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].0.1, 2);
    db.cleanup().await;
}

async fn concurrent_incident_writes_cannot_both_pass_the_overlap_check(backend: Backend) {
    let db = seeded(backend).await;
    db.store.create_person(&ctx(0), &person(1)).await.unwrap();
    let store: Arc<dyn Store> = db.store.clone();
    let mut tasks = Vec::new();
    for n in 0..6u128 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.create_incident(&ctx(1), &incident(100 + n, 1, n as i64, None))
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 1, "only one open incident may exist for a person");
    assert_eq!(db.store.counts().await.unwrap().incidents, 1);
    db.cleanup().await;
}

async fn audit_requires_a_named_actor(backend: Backend) {
    let db = seeded(backend).await;
    let nobody = Ctx::new(actor(" ", "force:kent"), "", at(1));
    assert!(db.store.create_person(&nobody, &person(1)).await.is_err());
    assert_eq!(db.store.counts().await.unwrap().persons, 0);
    let later = at(1) + Duration::minutes(5);
    db.store
        .record_audit(
            &Ctx::new(actor("analyst", "national:nmpu"), "trend review", later),
            AuditAction::Search,
            "person",
            &[],
            "surname=nguyen",
        )
        .await
        .unwrap();
    let e = db.store.audit_events(0, 10).await.unwrap().pop().unwrap();
    assert_eq!(
        (e.action, e.reason.as_str(), e.detail.as_str()),
        (AuditAction::Search, "trend review", "surname=nguyen")
    );
    db.cleanup().await;
}

/// SQLite-only: the connection settings the design requires are in force.
#[tokio::test]
async fn sqlite_runs_with_wal_full_sync_and_foreign_keys() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let pool = db.store.pool();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await
        .unwrap();
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(pool)
        .await
        .unwrap();
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!((mode.as_str(), sync, fk), ("wal", 2, 1));
    db.cleanup().await;
}

#[tokio::test]
async fn unknown_scheme_is_a_clear_error() {
    let e = nrmp_store::open("mysql://localhost/x").await.err().unwrap();
    assert!(e.to_string().contains("sqlite://"), "{e}");
}

#[tokio::test]
async fn migrate_twice_applies_nothing_the_second_time() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let db = TestDb::new(backend).await.unwrap();
        assert_eq!(db.store.migrate().await.unwrap(), 0);
        db.cleanup().await;
    }
}
