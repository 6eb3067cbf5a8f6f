//! The audit trail and retention, on both backends: the hash chain verifies after real work and
//! catches changed, removed and swapped events; concurrent writers never fork it; "who has seen
//! this record" finds reads, searches and changes; erasure removes a person's data but not the
//! log; review decisions are recorded and audited.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use chrono::NaiveDate;
use nrmp_domain::audit::AuditAction;
use nrmp_domain::audit::chain::BreakKind;
use nrmp_domain::audit::search::SearchQuery;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::ids::{FoundPersonId, IncidentId, PersonId, PlacementId, ProfileId, ReferralId};
use nrmp_domain::incident::{
    GradeChange, Incident, IncidentCategory, Place, Return, ReturnOutcome, RiskGrade,
};
use nrmp_domain::nrm::{ExploitationType, NrmReferral};
use nrmp_domain::organisation::{OrgCode, OrgKind, Organisation};
use nrmp_domain::person::{
    DateOfBirth, Description, Mark, MarkKind, NameKind, Person, PersonName, Sex,
};
use nrmp_domain::placement::{Placement, PlacementType};
use nrmp_domain::profile::PrefilledProfile;
use nrmp_domain::retention::{ReviewDecision, SubjectKind};
use nrmp_store::prelude::*;
use nrmp_store::test_support::{TestDb, actor, at, audit_chars, rows_containing};
use nrmp_store::{Backend, Ctx, StoreError};
use sqlx::Row;
use std::sync::Arc;
use uuid::Uuid;

fn code(s: &str) -> OrgCode {
    OrgCode::parse("org", s).unwrap()
}

fn ctx(hours: i64) -> Ctx {
    Ctx::new(actor("coordinator1", "force:kent"), "test", at(hours))
}

fn pid(n: u128) -> PersonId {
    PersonId(Uuid::from_u128(n))
}

/// A person with an obviously fake, searchable family name.
fn person(n: u128, family: &str, dob: Option<&str>) -> Person {
    let today = at(0).date_naive();
    Person {
        id: pid(n),
        owning_org: code("force:kent"),
        names: vec![
            PersonName::parse(NameKind::Primary, "Testgiven", family, None, false).unwrap(),
        ],
        dob: dob.map(|d| DateOfBirth::parse("dob", d, today).unwrap()),
        sex: Sex::Female,
        nationalities: vec![],
        languages: vec![],
        identifiers: vec![],
        description: Description::default(),
        created_at: at(0),
        updated_at: at(0),
    }
}

fn incident(n: u128, person: u128, seen: i64, found: Option<i64>) -> Incident {
    Incident {
        id: IncidentId(Uuid::from_u128(n)),
        person_id: pid(person),
        owning_org: code("force:kent"),
        force_missing: code("force:kent"),
        involved: vec![],
        category: IncidentCategory::Missing,
        reported_at: at(seen + 1),
        last_seen_at: at(seen),
        last_seen_place: Place::default(),
        circumstances: "did not return to placement".into(),
        risk_history: vec![GradeChange {
            grade: RiskGrade::Medium,
            rationale: "child in care".into(),
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
    let org = |c: &str, kind, name: &str| Organisation {
        code: code(c),
        kind,
        name: name.into(),
        country: "England".into(),
        region: None,
        police_force: None,
    };
    let orgs = vec![
        org("force:kent", OrgKind::PoliceForce, "Kent Police"),
        org("la:kent", OrgKind::LocalAuthority, "Kent County Council"),
        org(
            "national:nmpu",
            OrgKind::NationalUnit,
            "UK Missing Persons Unit",
        ),
    ];
    db.store.put_organisations(&ctx(0), &orgs).await.unwrap();
    db
}

/// A register with two people, an incident, reads, a search and an update: 8 events.
async fn busy(backend: Backend) -> TestDb {
    let db = seeded(backend).await;
    let s = &db.store;
    s.create_person(&ctx(1), &person(1, "Zebedeeson", Some("2009")))
        .await
        .unwrap();
    s.create_person(&ctx(1), &person(2, "Quillfeather", None))
        .await
        .unwrap();
    s.create_incident(&ctx(2), &incident(10, 1, 2, None))
        .await
        .unwrap();
    s.person(&ctx(3), pid(1)).await.unwrap();
    s.record_audit(
        &Ctx::new(actor("pc.patrol", "force:kent"), "encounter check", at(4)),
        AuditAction::Search,
        "person",
        &[pid(1).to_string(), pid(2).to_string()],
        "fields=family,dob; 2 candidates",
    )
    .await
    .unwrap();
    s.update_incident(&ctx(5), &incident(10, 1, 2, Some(5)))
        .await
        .unwrap();
    s.person(
        &Ctx::new(actor("analyst", "national:nmpu"), "review", at(6)),
        pid(2),
    )
    .await
    .unwrap();
    db
}

async fn verify(s: &dyn Store) -> nrmp_store::ChainReport {
    s.verify_audit_chain(&|_| {}).await.unwrap()
}

async fn exec(db: &TestDb, sql: &str) {
    sqlx::raw_sql(sql).execute(db.store.pool()).await.unwrap();
}

/// What someone with direct database access would do first: drop the append-only triggers.
async fn drop_guards(db: &TestDb) {
    match db.store.backend() {
        Backend::Sqlite => {
            exec(
                db,
                "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete",
            )
            .await
        }
        Backend::Postgres => {
            exec(db, "DROP TRIGGER audit_events_append_only ON audit_events").await
        }
    }
}

nrmp_store::on_both_backends!(
    chain_verifies_after_a_mix_of_operations,
    the_database_refuses_to_change_or_delete_events,
    a_changed_reason_is_detected_at_its_seq,
    a_deleted_event_is_detected_at_its_seq,
    a_deleted_last_event_is_detected,
    swapped_events_are_detected_at_the_first_of_them,
    concurrent_writers_keep_one_chain,
    events_for_a_person_include_reads_searches_and_changes,
    erasure_removes_the_data_but_not_the_log,
    review_dates_are_assigned_when_records_are_written,
    imported_records_get_review_dates,
    review_decisions_are_validated_recorded_and_audited,
    erase_decision_erases_and_is_audited_twice,
    events_written_before_the_chain_are_chained_on_migrate,
    the_retention_policy_is_configurable,
    audit_log_holds_no_encounter_query_after_erasure,
    audit_values_are_bounded_before_they_are_stored,
);

async fn chain_verifies_after_a_mix_of_operations(backend: Backend) {
    let db = busy(backend).await;
    // An import and a failed write (rolled back: no event, no gap) as well.
    let mut imp = db.store.begin_import(&ctx(7)).await.unwrap();
    imp.persons(&[person(3, "Importedperson", None)])
        .await
        .unwrap();
    imp.commit("1 person").await.unwrap();
    assert!(
        db.store
            .create_person(&ctx(8), &person(3, "Importedperson", None))
            .await
            .is_err()
    );
    let n = db.store.counts().await.unwrap().audit_events;
    assert_eq!(n, 9);
    let seen = std::sync::Mutex::new(0);
    let r = db
        .store
        .verify_audit_chain(&|k| *seen.lock().unwrap() = k)
        .await
        .unwrap();
    assert_eq!(r.first_break, None);
    assert_eq!((r.events, r.head.seq), (9, 9));
    assert_eq!(*seen.lock().unwrap(), 9);
    let seqs: Vec<i64> = db
        .store
        .audit_events(0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, (1..=9).collect::<Vec<_>>());
    db.cleanup().await;
}

async fn the_database_refuses_to_change_or_delete_events(backend: Backend) {
    let db = busy(backend).await;
    let pool = db.store.pool();
    let e = sqlx::query("UPDATE audit_events SET reason = 'x' WHERE seq = 2")
        .execute(pool)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    let e = sqlx::query("DELETE FROM audit_events WHERE seq = 2")
        .execute(pool)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    assert_eq!(verify(db.store.as_ref()).await.first_break, None);
    db.cleanup().await;
}

async fn a_changed_reason_is_detected_at_its_seq(backend: Backend) {
    let db = busy(backend).await;
    drop_guards(&db).await;
    exec(
        &db,
        "UPDATE audit_events SET reason = 'routine' WHERE seq = 5",
    )
    .await;
    let b = verify(db.store.as_ref()).await.first_break.unwrap();
    assert_eq!((b.seq, b.kind), (5, BreakKind::Changed));
    db.cleanup().await;
}

async fn a_deleted_event_is_detected_at_its_seq(backend: Backend) {
    let db = busy(backend).await;
    drop_guards(&db).await;
    exec(&db, "DELETE FROM audit_events WHERE seq = 4").await;
    let r = verify(db.store.as_ref()).await;
    let b = r.first_break.unwrap();
    assert_eq!((b.seq, b.kind), (4, BreakKind::Removed { last: 4 }));
    assert_eq!(r.events, 3);
    db.cleanup().await;
}

async fn a_deleted_last_event_is_detected(backend: Backend) {
    let db = busy(backend).await;
    drop_guards(&db).await;
    exec(&db, "DELETE FROM audit_events WHERE seq = 8").await;
    let b = verify(db.store.as_ref()).await.first_break.unwrap();
    assert_eq!((b.seq, b.kind), (8, BreakKind::Removed { last: 8 }));
    db.cleanup().await;
}

async fn swapped_events_are_detected_at_the_first_of_them(backend: Backend) {
    let db = busy(backend).await;
    drop_guards(&db).await;
    let pool = db.store.pool();
    let cols = [
        "at",
        "actor_user",
        "actor_org",
        "action",
        "record_kind",
        "record_ids",
        "reason",
        "detail",
        "prev_hash",
        "hash",
    ];
    let read = |seq: i64| {
        let sql = format!(
            "SELECT {} FROM audit_events WHERE seq = {seq}",
            cols.join(", ")
        );
        async move {
            let r = sqlx::query(&sql).fetch_one(pool).await.unwrap();
            (0..cols.len())
                .map(|i| r.try_get::<String, _>(i).unwrap())
                .collect::<Vec<_>>()
        }
    };
    let (a, b) = (read(3).await, read(6).await);
    for (seq, values) in [(3, &b), (6, &a)] {
        let sets: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", i + 1))
            .collect();
        let sql = format!(
            "UPDATE audit_events SET {} WHERE seq = {seq}",
            sets.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for v in values {
            q = q.bind(v.clone());
        }
        q.execute(pool).await.unwrap();
    }
    let b = verify(db.store.as_ref()).await.first_break.unwrap();
    assert_eq!((b.seq, b.kind.clone()), (3, BreakKind::Reordered));
    assert!(b.to_string().contains("seq 3"), "{b}");
    db.cleanup().await;
}

async fn concurrent_writers_keep_one_chain(backend: Backend) {
    let db = seeded(backend).await;
    let store: Arc<dyn Store> = db.store.clone();
    let mut tasks = Vec::new();
    for t in 0..8u128 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10u128 {
                let n = 1000 + t * 100 + i;
                if i % 2 == 0 {
                    s.create_person(&ctx(1), &person(n, "Concurrentperson", None))
                        .await
                        .unwrap();
                } else {
                    s.record_audit(
                        &ctx(1),
                        AuditAction::Search,
                        "person",
                        &[pid(n - 1).to_string()],
                        "",
                    )
                    .await
                    .unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let r = verify(db.store.as_ref()).await;
    assert_eq!(r.first_break, None);
    assert_eq!((r.events, r.head.seq), (81, 81));
    db.cleanup().await;
}

async fn events_for_a_person_include_reads_searches_and_changes(backend: Backend) {
    let db = busy(backend).await;
    let events = db
        .store
        .audit_events_for("person", &pid(1).to_string())
        .await
        .unwrap();
    let summary: Vec<(AuditAction, &str, &str)> = events
        .iter()
        .map(|e| (e.action, e.record_kind.as_str(), e.actor.user.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (AuditAction::Create, "person", "coordinator1"),
            (AuditAction::Create, "incident", "coordinator1"),
            (AuditAction::Read, "person", "coordinator1"),
            (AuditAction::Search, "person", "pc.patrol"),
            (AuditAction::Update, "incident", "coordinator1"),
        ]
    );
    // Person 2 was in the search results and read by the analyst; nothing about person 1's
    // incident.
    let other: Vec<AuditAction> = db
        .store
        .audit_events_for("person", &pid(2).to_string())
        .await
        .unwrap()
        .iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        other,
        vec![AuditAction::Create, AuditAction::Search, AuditAction::Read]
    );
    // One incident alone.
    let inc = db
        .store
        .audit_events_for("incident", &IncidentId(Uuid::from_u128(10)).to_string())
        .await
        .unwrap();
    assert_eq!(inc.len(), 2);
    db.cleanup().await;
}

/// Person 1 with one of everything linked to them.
async fn full_record(db: &TestDb) {
    let s = &db.store;
    s.create_referral(
        &ctx(3),
        &NrmReferral {
            id: ReferralId(Uuid::from_u128(20)),
            person_id: pid(1),
            reference: Some("NRM-TEST-0001".into()),
            referred_on: at(3).date_naive(),
            first_responder: code("la:kent"),
            exploitation: vec![ExploitationType::Criminal],
            reasonable_grounds: None,
            conclusive_grounds: None,
        },
    )
    .await
    .unwrap();
    s.create_placement(
        &ctx(3),
        &Placement {
            id: PlacementId(Uuid::from_u128(30)),
            person_id: pid(1),
            placing_authority: code("la:kent"),
            host_authority: code("la:kent"),
            placement_type: PlacementType::ChildrensHome,
            started_at: at(0),
            ended_at: None,
            unaccompanied: true,
        },
    )
    .await
    .unwrap();
    let profile = PrefilledProfile {
        id: ProfileId(Uuid::from_u128(40)),
        version: 1,
        person_id: pid(1),
        prepared_by: code("la:kent"),
        prepared_at: at(3),
        description: Description::default(),
        associates: vec!["Zebedeeson cousin".into()],
        places: vec![],
        phones: vec!["07700 900123".into()],
        social_media: vec![],
        medical_needs: None,
        notes: None,
    };
    s.save_profile(&ctx(3), &profile).await.unwrap();
    s.save_profile(
        &ctx(4),
        &PrefilledProfile {
            version: 2,
            ..profile
        },
    )
    .await
    .unwrap();
    s.create_found_person(
        &ctx(7),
        &FoundPerson {
            id: FoundPersonId(Uuid::from_u128(50)),
            found_at: at(7),
            place: Place::default(),
            found_by: code("force:kent"),
            names_given: vec![
                PersonName::parse(NameKind::Primary, "Testgiven", "Zebedeeson", None, false)
                    .unwrap(),
            ],
            dob: None,
            sex: Sex::Female,
            description: Description::default(),
            identified_as: Some(pid(1)),
            deceased: false,
        },
    )
    .await
    .unwrap();
}

async fn all_audit_text(db: &TestDb) -> String {
    let rows = sqlx::query(
        "SELECT at, actor_user, actor_org, action, record_kind, record_ids, reason, detail \
         FROM audit_events ORDER BY seq",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    rows.iter()
        .map(|r| {
            (0..8)
                .map(|i| r.try_get::<String, _>(i).unwrap())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn erasure_removes_the_data_but_not_the_log(backend: Backend) {
    let db = busy(backend).await;
    full_record(&db).await;
    let before = db.store.audit_events(0, 1000).await.unwrap().len();
    let e = db
        .store
        .erase_person(&ctx(9), pid(1), "")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("reason"), "{e}");
    let report = db
        .store
        .erase_person(&ctx(9), pid(1), "no policing purpose remains")
        .await
        .unwrap();
    assert_eq!(
        (
            report.persons,
            report.incidents,
            report.referrals,
            report.placements,
            report.profiles,
            report.found_persons
        ),
        (1, 1, 1, 1, 2, 1)
    );
    let c = db.store.counts().await.unwrap();
    assert_eq!(
        (
            c.persons,
            c.incidents,
            c.referrals,
            c.placements,
            c.profiles,
            c.found_persons
        ),
        (1, 0, 0, 0, 0, 0)
    );
    assert!(matches!(
        db.store.person(&ctx(10), pid(1)).await,
        Err(StoreError::NotFound { .. })
    ));
    // Nothing of the person is left anywhere in the database's record tables…
    for table in [
        "persons",
        "incidents",
        "referrals",
        "placements",
        "profiles",
        "found_persons",
    ] {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {table} WHERE data LIKE '%Zebedeeson%'"
        ))
        .fetch_one(db.store.pool())
        .await
        .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    // …the log kept every event, added the erasure, and never held their name.
    let events = db.store.audit_events(0, 1000).await.unwrap();
    assert_eq!(events.len(), before + 1);
    let erase = events.last().unwrap();
    assert_eq!(erase.action, AuditAction::Erase);
    assert_eq!(erase.reason, "no policing purpose remains");
    assert_eq!(erase.record_ids[0], pid(1).to_string());
    assert!(
        erase
            .record_ids
            .contains(&format!("{}@2", Uuid::from_u128(40)))
    );
    let text = all_audit_text(&db).await;
    assert!(!text.contains("Zebedeeson"), "{text}");
    assert!(!text.contains("07700"), "{text}");
    assert_eq!(verify(db.store.as_ref()).await.first_break, None);
    // The regulator can still see who looked at the erased person's records.
    let trail = db
        .store
        .audit_events_for("person", &pid(1).to_string())
        .await
        .unwrap();
    assert!(trail.iter().any(|e| e.action == AuditAction::Update
        && e.record_kind == "incident"
        && e.record_ids == [IncidentId(Uuid::from_u128(10)).to_string()]));
    assert_eq!(trail.last().unwrap().action, AuditAction::Erase);
    // The other person is untouched; erasing twice is "not found".
    db.store.person(&ctx(11), pid(2)).await.unwrap();
    assert!(matches!(
        db.store.erase_person(&ctx(12), pid(1), "again").await,
        Err(StoreError::NotFound { .. })
    ));
    db.cleanup().await;
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn due(s: &dyn Store, as_of: &str) -> Vec<(SubjectKind, String, NaiveDate)> {
    s.reviews_due(d(as_of), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.kind, r.id, r.review_date))
        .collect()
}

async fn review_dates_are_assigned_when_records_are_written(backend: Backend) {
    let db = busy(backend).await;
    // Person 1 (born 2009, at latest 2009-12-31) is reviewed at 25; person 2 (no date of
    // birth) 6 years after last activity (2026-01-01).
    assert_eq!(
        due(db.store.as_ref(), "2040-01-01").await,
        vec![
            (SubjectKind::Person, pid(2).to_string(), d("2032-01-01")),
            (SubjectKind::Person, pid(1).to_string(), d("2034-12-31")),
        ]
    );
    assert_eq!(due(db.store.as_ref(), "2031-12-31").await, vec![]);
    // An incident that ends years later pushes the review later (never earlier).
    db.store
        .create_incident(&ctx(10), &incident(11, 2, 10, Some(24 * 365 * 4)))
        .await
        .unwrap();
    let dates = due(db.store.as_ref(), "2040-01-01").await;
    assert_eq!(dates[0].1, pid(1).to_string());
    assert_eq!(
        dates[1],
        (SubjectKind::Person, pid(2).to_string(), d("2035-12-31"))
    );
    // Set by hand (audited), e.g. brought forward.
    db.store
        .set_review_date(
            &ctx(12),
            SubjectKind::Person,
            &pid(2).to_string(),
            d("2027-01-01"),
        )
        .await
        .unwrap();
    assert_eq!(due(db.store.as_ref(), "2027-01-01").await.len(), 1);
    let last = db.store.audit_events(0, 100).await.unwrap().pop().unwrap();
    assert_eq!(last.detail, "review date set to 2027-01-01");
    assert!(matches!(
        db.store
            .set_review_date(
                &ctx(12),
                SubjectKind::Person,
                &pid(99).to_string(),
                d("2027-01-01")
            )
            .await,
        Err(StoreError::NotFound { .. })
    ));
    db.cleanup().await;
}

async fn imported_records_get_review_dates(backend: Backend) {
    let db = seeded(backend).await;
    let mut imp = db.store.begin_import(&ctx(1)).await.unwrap();
    imp.persons(&[person(1, "Importone", None), person(2, "Importtwo", None)])
        .await
        .unwrap();
    // An incident that ended in 2029: its person is reviewed in 2035.
    imp.incidents(&[incident(10, 2, 0, Some(24 * 365 * 3 + 24))])
        .await
        .unwrap();
    imp.commit("2 persons").await.unwrap();
    assert_eq!(
        due(db.store.as_ref(), "2040-01-01").await,
        vec![
            (SubjectKind::Person, pid(1).to_string(), d("2032-01-01")),
            (SubjectKind::Person, pid(2).to_string(), d("2035-01-01")),
        ]
    );
    db.cleanup().await;
}

async fn review_decisions_are_validated_recorded_and_audited(backend: Backend) {
    let db = busy(backend).await;
    let s = db.store.as_ref();
    let reviewer = Ctx::new(
        actor("records.officer", "force:kent"),
        "",
        at(24 * 365 * 6 + 24),
    );
    let id = pid(2).to_string();
    // Keep: the next review must be in the future.
    let past = ReviewDecision::Keep {
        reason: "still missing".into(),
        next_review: d("2031-01-01"),
    };
    let e = s
        .decide_review(&reviewer, SubjectKind::Person, &id, &past)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("next_review"), "{e}");
    let no_reason = ReviewDecision::Keep {
        reason: " ".into(),
        next_review: d("2033-01-01"),
    };
    assert!(matches!(
        s.decide_review(&reviewer, SubjectKind::Person, &id, &no_reason)
            .await,
        Err(StoreError::Invalid(_))
    ));
    let keep = ReviewDecision::keep(
        "linked to an open investigation",
        d("2034-06-01"),
        reviewer.at.date_naive(),
        &Default::default(),
    )
    .unwrap();
    assert_eq!(
        s.decide_review(&reviewer, SubjectKind::Person, &id, &keep)
            .await
            .unwrap(),
        None
    );
    let r = s.reviews_due(d("2040-01-01"), 10).await.unwrap();
    let row = r.iter().find(|r| r.id == id).unwrap();
    assert_eq!(row.review_date, d("2034-06-01"));
    assert_eq!(row.last_decision.as_deref(), Some("keep"));
    assert_eq!(row.decided_by.as_deref(), Some("records.officer"));
    assert_eq!(
        row.reason.as_deref(),
        Some("linked to an open investigation")
    );
    let e = s.audit_events(0, 100).await.unwrap().pop().unwrap();
    assert_eq!(
        (
            e.action,
            e.record_ids.clone(),
            e.reason.as_str(),
            e.detail.as_str()
        ),
        (
            AuditAction::RetentionReview,
            vec![id.clone()],
            "linked to an open investigation",
            "keep; next review 2034-06-01"
        )
    );
    // A subject with no review row is "not found"; a failed decision wrote nothing.
    assert!(matches!(
        s.decide_review(&reviewer, SubjectKind::Person, &pid(77).to_string(), &keep)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(s.counts().await.unwrap().audit_events, 9);
    assert_eq!(verify(s).await.first_break, None);
    db.cleanup().await;
}

async fn erase_decision_erases_and_is_audited_twice(backend: Backend) {
    let db = busy(backend).await;
    full_record(&db).await;
    let s = db.store.as_ref();
    let reviewer = Ctx::new(actor("records.officer", "force:kent"), "", at(24 * 365 * 9));
    let erase = ReviewDecision::erase("reviewed: no policing purpose remains").unwrap();
    let report = s
        .decide_review(&reviewer, SubjectKind::Person, &pid(1).to_string(), &erase)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.incidents, 1);
    let events = s.audit_events(0, 1000).await.unwrap();
    let tail: Vec<AuditAction> = events.iter().rev().take(2).map(|e| e.action).collect();
    assert_eq!(tail, vec![AuditAction::Erase, AuditAction::RetentionReview]);
    // The found-person record identified as them went too, with its own review row.
    assert_eq!(
        due(s, "2100-01-01").await,
        vec![(SubjectKind::Person, pid(2).to_string(), d("2032-01-01"))]
    );
    assert_eq!(s.counts().await.unwrap().persons, 1);
    assert!(!all_audit_text(&db).await.contains("Zebedeeson"));
    assert_eq!(verify(s).await.first_break, None);
    db.cleanup().await;
}

async fn events_written_before_the_chain_are_chained_on_migrate(backend: Backend) {
    // A register from before the chain: events with no hashes, a head waiting for them, and
    // persons with no review date.
    let db = seeded(backend).await;
    let mut imp = db.store.begin_import(&ctx(1)).await.unwrap();
    imp.persons(&[person(1, "Legacyperson", None)])
        .await
        .unwrap();
    imp.commit("1 person").await.unwrap();
    drop_guards(&db).await;
    exec(
        &db,
        "DELETE FROM audit_events; DELETE FROM audit_event_records; DELETE FROM retention; \
         INSERT INTO pending_backfill (task) VALUES ('retention')",
    )
    .await;
    exec(
        &db,
        "INSERT INTO audit_events (seq, at, actor_user, actor_org, action, record_kind, record_ids, reason, detail) VALUES \
         (1, '2025-01-01T00:00:00.000000Z', 'old.user', 'force:kent', 'create', 'person', '00000000-0000-0000-0000-000000000001', 'legacy', ''), \
         (3, '2025-01-02T00:00:00.000000Z', 'old.user', 'force:kent', 'read', 'person', '00000000-0000-0000-0000-000000000001', 'legacy', 'with history'); \
         UPDATE audit_head SET seq = 3, hash = NULL",
    )
    .await;
    // Writers are told to migrate rather than fork an unchained log.
    let e = db.store.person(&ctx(2), pid(1)).await.unwrap_err();
    assert!(e.to_string().contains("nrmp migrate"), "{e}");
    assert_eq!(db.store.migrate().await.unwrap(), 0);
    let r = verify(db.store.as_ref()).await;
    assert_eq!(r.first_break, None);
    assert_eq!((r.events, r.head.seq), (2, 3));
    db.store.person(&ctx(2), pid(1)).await.unwrap();
    let r = verify(db.store.as_ref()).await;
    assert_eq!((r.first_break, r.events, r.head.seq), (None, 3, 4));
    assert_eq!(
        db.store
            .audit_events_for("person", &pid(1).to_string())
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(due(db.store.as_ref(), "2040-01-01").await.len(), 1);
    db.cleanup().await;
}

async fn the_retention_policy_is_configurable(backend: Backend) {
    use nrmp_domain::retention::RetentionPolicy;
    let db = seeded(backend).await;
    let bad = RetentionPolicy {
        person_years: 0,
        ..RetentionPolicy::default()
    };
    let e = nrmp_store::SqlStore::connect(&db.url)
        .await
        .unwrap()
        .with_retention_policy(bad)
        .unwrap_err();
    assert!(e.to_string().contains("person_years"), "{e}");
    let store = nrmp_store::SqlStore::connect(&db.url)
        .await
        .unwrap()
        .with_retention_policy(RetentionPolicy {
            person_years: 2,
            keep_until_age: 20,
            ..RetentionPolicy::default()
        })
        .unwrap();
    // No date of birth: 2 years after 2026-01-01. Born 2009 (at the latest 2009-12-31): the
    // 20th birthday, 2029-12-31, is later.
    store
        .create_person(&ctx(1), &person(1, "Policyone", None))
        .await
        .unwrap();
    store
        .create_person(&ctx(1), &person(2, "Policytwo", Some("2009")))
        .await
        .unwrap();
    assert_eq!(
        due(&store, "2040-01-01").await,
        vec![
            (SubjectKind::Person, pid(1).to_string(), d("2028-01-01")),
            (SubjectKind::Person, pid(2).to_string(), d("2029-12-31")),
        ]
    );
    store.close().await;
    db.cleanup().await;
}

/// The hole: an encounter check's query (names, date of birth, marks) was written into the
/// append-only chain, so erasing the person left it there for ever.
async fn audit_log_holds_no_encounter_query_after_erasure(backend: Backend) {
    let db = busy(backend).await;
    let s = &db.store;
    let today = at(0).date_naive();
    let mut p = person(101, "Quarrendon", None);
    p.names =
        vec![PersonName::parse(NameKind::Primary, "Ottoline", "Quarrendon", None, false).unwrap()];
    p.dob = Some(DateOfBirth::parse("dob", "2009-07-14", today).unwrap());
    p.description.marks = vec![Mark {
        kind: MarkKind::Tattoo,
        location: "left wrist".into(),
        description: "anchor tattoo".into(),
    }];
    s.create_person(&ctx(2), &p).await.unwrap();
    let needles = ["Ottoline", "Quarrendon", "2009-07-14", "anchor tattoo"];
    for n in needles {
        assert!(
            !rows_containing(&db.store, n).await.is_empty(),
            "{n} is stored before the erasure"
        );
    }
    let officer = Ctx::new(
        actor("pc.station", "force:kent"),
        "stopped at the station, no ID",
        at(5),
    );
    let query = |extra: &str| {
        SearchQuery::new("encounter check")
            .described(&format!(
                "given=Ottoline, family=Quarrendon, dob=2009-07-14, mark=anchor tattoo, left wrist{extra}"
            ))
            .asked(10)
    };
    let target = pid(101).to_string();
    let other = pid(2).to_string();
    // Shown to the officer; matched but hidden from them; shown together with someone else.
    s.record_search(
        &officer,
        "person",
        std::slice::from_ref(&target),
        &[],
        &query(""),
    )
    .await
    .unwrap();
    s.record_search(
        &officer,
        "person",
        &[],
        std::slice::from_ref(&target),
        &query(", sex=female"),
    )
    .await
    .unwrap();
    // …and one whose reason repeats the name searched for.
    let named = Ctx {
        reason: "looking for OTTOLINE Quarrendon, no ID".into(),
        ..officer.clone()
    };
    s.record_search(
        &named,
        "person",
        std::slice::from_ref(&other),
        std::slice::from_ref(&target),
        &query(""),
    )
    .await
    .unwrap();
    // A search about someone else only, and one that matched nobody (not kept at all).
    let unrelated = SearchQuery::new("encounter check")
        .described("family=Quillfeather")
        .asked(5);
    s.record_search(
        &officer,
        "person",
        std::slice::from_ref(&other),
        &[],
        &unrelated,
    )
    .await
    .unwrap();
    let nobody = SearchQuery::new("encounter check").described("family=Nobodyknowsme");
    s.record_search(&officer, "person", &[], &[], &nobody)
        .await
        .unwrap();

    let events = s.audit_events(0, 1000).await.unwrap();
    let searches: Vec<_> = events
        .iter()
        .filter(|e| e.action == AuditAction::Search && e.actor.user == "pc.station")
        .collect();
    assert_eq!(searches.len(), 5);
    // The chained events hold the fields given and the ids shown, never the values.
    assert_eq!(
        searches[0].detail,
        "encounter check: fields=given,family,dob,mark; k=10"
    );
    assert_eq!(searches[0].record_ids, vec![target.clone()]);
    assert!(searches[1].record_ids.is_empty());
    assert_eq!(
        searches[4].detail,
        "encounter check: fields=family; query not kept: it matched no record"
    );
    let seqs: Vec<i64> = searches.iter().map(|e| e.seq).collect();
    let kept = s.search_queries(&seqs).await.unwrap();
    assert_eq!(kept.len(), 4, "{kept:?}");
    assert_eq!(
        kept[&seqs[0]],
        "given=Ottoline, family=Quarrendon, dob=2009-07-14, mark=anchor tattoo, left wrist"
    );
    assert_eq!(kept[&seqs[3]], "family=Quillfeather");
    assert_eq!(searches[2].reason, "looking for [given] [family], no ID");
    assert!(
        kept[&seqs[2]].ends_with("; reason as given: looking for OTTOLINE Quarrendon, no ID"),
        "{kept:?}"
    );
    assert!(rows_containing(&db.store, "Nobodyknowsme").await.is_empty());

    let report = s
        .decide_review(
            &Ctx::new(actor("records.officer", "force:kent"), "x", at(9)),
            SubjectKind::Person,
            &target,
            &ReviewDecision::erase("reviewed: no policing purpose remains").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.search_queries, 3);
    // Nothing of the person is left anywhere in the database…
    for n in needles {
        assert_eq!(
            rows_containing(&db.store, n).await,
            Vec::<String>::new(),
            "{n}"
        );
    }
    // …the other person's query is still there for the regulator, the chain still verifies,
    // and the erasure's event counts what went.
    let kept = s.search_queries(&seqs).await.unwrap();
    assert_eq!(kept.keys().copied().collect::<Vec<_>>(), vec![seqs[3]]);
    assert_eq!(verify(s.as_ref()).await.first_break, None);
    let erase = s.audit_events(0, 1000).await.unwrap().pop().unwrap();
    assert_eq!(erase.action, AuditAction::Erase);
    assert!(
        erase.detail.ends_with("3 stored search queries"),
        "{}",
        erase.detail
    );
    // The trail still lists the searches that showed the person.
    let trail = s.audit_events_for("person", &target).await.unwrap();
    assert!(trail.iter().any(|e| e.seq == seqs[0]));
    db.cleanup().await;
}

/// The hole: the append-only log stored whatever it was given — a 250,000-character reason
/// with terminal escapes, a 340,000-character detail.
async fn audit_values_are_bounded_before_they_are_stored(backend: Backend) {
    let db = busy(backend).await;
    let s = &db.store;
    s.create_person(&ctx(2), &person(101, "Quarrendon", None))
        .await
        .unwrap();
    let hostile = format!(
        "line one\nline two\r\u{1b}[2J\u{1b}[31mred\u{202e}gnp.exe\u{2066}{}",
        "r".repeat(250_000)
    );
    let before = audit_chars(&db.store).await;
    let attacker = Ctx::new(
        actor("pc.patrol\u{1b}[0m", "force:kent"),
        hostile.clone(),
        at(5),
    );
    let many: Vec<String> = (0..20_000).map(|i| format!("{i}")).collect();
    s.record_audit(
        &attacker,
        AuditAction::Search,
        "person",
        &[],
        &"VNM, ".repeat(68_000),
    )
    .await
    .unwrap();
    let one = audit_chars(&db.store).await - before;
    assert!(one < 3_000, "one refused search stored {one} characters");
    let mut q = SearchQuery::new("encounter check").term("mark", hostile.clone());
    for _ in 0..20_000 {
        q = q.term("nationality", "VNM");
    }
    let before = audit_chars(&db.store).await;
    s.record_search(&attacker, "person", &[pid(101).to_string()], &many, &q)
        .await
        .unwrap();
    let two = audit_chars(&db.store).await - before;
    // The 5,000 subject links of 1–5 digits each, plus a bounded event and query.
    assert!(two < 30_000, "one search stored {two} characters");
    let events = s.audit_events(0, 1000).await.unwrap();
    let [.., refused, search] = events.as_slice() else {
        panic!("{events:?}")
    };
    for e in [refused, search] {
        assert!(e.reason.chars().count() <= 500, "{}", e.reason.len());
        assert!(
            e.reason
                .starts_with("line one\\u{a}line two\\u{d}\\u{1b}[2J"),
            "{}",
            &e.reason[..60]
        );
        assert!(e.reason.ends_with("characters cut]"));
        for text in [&e.reason, &e.detail, &e.actor.user] {
            assert!(
                !text
                    .chars()
                    .any(|c| c.is_control() || c == '\u{202e}' || c == '\u{2066}')
            );
        }
        assert!(e.detail.chars().count() <= 1_000);
    }
    assert_eq!(
        search.detail,
        "encounter check: fields=mark,nationality×20000"
    );
    let stored = s.search_queries(&[search.seq]).await.unwrap();
    assert!(stored[&search.seq].chars().count() <= 2_000);
    assert!(!stored[&search.seq].chars().any(char::is_control));
    // What was hashed is what was stored.
    assert_eq!(verify(s.as_ref()).await.first_break, None);
    db.cleanup().await;
}
