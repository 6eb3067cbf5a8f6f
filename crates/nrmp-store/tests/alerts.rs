//! Conformance tests of the alert store and the outbox follower — on both backends, each test
//! on a fresh database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use nrmp_domain::access::Role;
use nrmp_domain::alert::{
    AlertDetail, AlertKind, DutyContact, EscalationLevel, NewAlert, Recipient,
};
use nrmp_domain::audit::AuditAction;
use nrmp_domain::organisation::{OrgCode, OrgKind, Organisation};
use nrmp_store::alerts::AlertEventKind;
use nrmp_store::outbox::{ChangeCursor, next_changes};
use nrmp_store::prelude::*;
use nrmp_store::test_support::{TestDb, actor, at};
use nrmp_store::{Backend, StoreError};

fn code(s: &str) -> OrgCode {
    OrgCode::parse("org", s).unwrap()
}

fn ctx(user: &str, org: &str, hours: i64) -> Ctx {
    Ctx::new(actor(user, org), "test", at(hours))
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
            &ctx("admin", "force:kent", 0),
            &[
                org("force:kent", OrgKind::PoliceForce),
                org("la:kent", OrgKind::LocalAuthority),
                org("national:nmpu", OrgKind::NationalUnit),
            ],
        )
        .await
        .unwrap();
    db
}

fn recipient(org: &str, role: Role) -> Recipient {
    Recipient {
        org: code(org),
        role,
    }
}

fn new_alert(key: &str, to: Vec<Recipient>) -> NewAlert {
    NewAlert {
        key: key.into(),
        kind: AlertKind::HighRisk,
        person: None,
        incident: None,
        found: None,
        raised_at: at(1),
        recipients: to,
        detail: AlertDetail {
            count: Some(3),
            ..AlertDetail::default()
        },
    }
}

async fn alerts_are_raised_once_per_key_with_the_cursor_in_the_same_transaction(backend: Backend) {
    let db = seeded(backend).await;
    let s = &db.store;
    let kent = recipient("force:kent", Role::CallHandler);
    let la = recipient("la:kent", Role::SocialWorker);
    let first = s
        .raise_alerts(
            &ctx("alerts", "national:nmpu", 1),
            &[
                new_alert("a", vec![kent.clone()]),
                new_alert("b", vec![la.clone()]),
            ],
            Some(("alerts", "{\"high\":5}")),
        )
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(
        s.outbox_cursor("alerts").await.unwrap().as_deref(),
        Some("{\"high\":5}")
    );
    // the same facts again (a re-read change, another node): nothing new
    let again = s
        .raise_alerts(
            &ctx("alerts", "national:nmpu", 2),
            &[new_alert("a", vec![kent.clone()])],
            Some(("alerts", "{\"high\":6}")),
        )
        .await
        .unwrap();
    assert!(again.is_empty());
    assert_eq!(
        s.outbox_cursor("alerts").await.unwrap().as_deref(),
        Some("{\"high\":6}")
    );
    // each recipient sees only their own
    let mine = s
        .alerts_for(std::slice::from_ref(&kent), None, 10)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].key, "a");
    assert_eq!(mine[0].detail.count, Some(3));
    assert!(mine[0].addressed_to(&code("force:kent"), &[Role::CallHandler]));
    assert!(
        s.alerts_for(&[recipient("force:kent", Role::PatrolOfficer)], None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // the stream: one raised event each, in order, filtered by recipient
    let events = s
        .alert_events_after(&[kent.clone(), la.clone()], 0, 10)
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert!(events[0].seq < events[1].seq);
    assert!(events.iter().all(|e| e.event == AlertEventKind::Raised));
    let after_first = s
        .alert_events_after(&[kent, la], events[0].seq, 10)
        .await
        .unwrap();
    assert_eq!(after_first.len(), 1);
    assert_eq!(s.last_alert_event().await.unwrap(), events[1].seq);
    // raising is audited once, with the new alerts' numbers
    let audit = s.audit_events(0, 100).await.unwrap();
    let raised: Vec<_> = audit.iter().filter(|e| e.record_kind == "alert").collect();
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0].action, AuditAction::Create);
    assert_eq!(raised[0].record_ids.len(), 2);
    db.cleanup().await;
}

async fn acknowledgement_is_once_per_organisation_and_stops_escalation(backend: Backend) {
    let db = seeded(backend).await;
    let s = &db.store;
    let kent = recipient("force:kent", Role::CallHandler);
    let ids = s
        .raise_alerts(
            &ctx("alerts", "national:nmpu", 1),
            &[
                new_alert("x", vec![kent.clone()]),
                new_alert("y", vec![kent.clone()]),
            ],
            None,
        )
        .await
        .unwrap();
    let (x, y) = (ids[0], ids[1]);
    let ack = s
        .acknowledge_alert(&ctx("handler1", "force:kent", 2), x, "called the duty desk")
        .await
        .unwrap();
    assert_eq!(ack.user, "handler1");
    let twice = s
        .acknowledge_alert(&ctx("handler2", "force:kent", 3), x, "again")
        .await
        .unwrap_err();
    assert!(matches!(twice, StoreError::Conflict(_)), "{twice:?}");
    assert!(matches!(
        s.acknowledge_alert(&ctx("h", "force:kent", 3), 999_999, "")
            .await,
        Err(StoreError::NotFound { .. })
    ));
    // only the unacknowledged one is due for escalation
    let due = s
        .alerts_to_escalate(at(5), EscalationLevel::DutyContact, 10)
        .await
        .unwrap();
    assert_eq!(due.iter().map(|a| a.id).collect::<Vec<_>>(), vec![y]);
    let duty = recipient("force:kent", Role::MissingPersonCoordinator);
    assert!(
        s.escalate_alert(
            &ctx("alerts", "national:nmpu", 5),
            y,
            EscalationLevel::DutyContact,
            std::slice::from_ref(&duty)
        )
        .await
        .unwrap()
    );
    // not twice to the same level, never an acknowledged one
    assert!(
        !s.escalate_alert(
            &ctx("alerts", "national:nmpu", 6),
            y,
            EscalationLevel::DutyContact,
            &[]
        )
        .await
        .unwrap()
    );
    assert!(
        !s.escalate_alert(
            &ctx("alerts", "national:nmpu", 6),
            x,
            EscalationLevel::National,
            &[]
        )
        .await
        .unwrap()
    );
    let stored = s.alert(y).await.unwrap();
    assert_eq!(stored.escalation, EscalationLevel::DutyContact);
    assert!(stored.addressed_to(&code("force:kent"), &[Role::MissingPersonCoordinator]));
    // the duty contact's stream shows the escalation (and the raise, of an alert now theirs)
    let events = s.alert_events_after(&[duty], 0, 10).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.event).collect::<Vec<_>>(),
        vec![AlertEventKind::Raised, AlertEventKind::Escalated]
    );
    assert!(
        s.alerts_to_escalate(at(9), EscalationLevel::DutyContact, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.alerts_to_escalate(at(9), EscalationLevel::National, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    db.cleanup().await;
}

async fn duty_contacts_are_validated_and_kept_per_organisation(backend: Backend) {
    let db = seeded(backend).await;
    let s = &db.store;
    let mut c = DutyContact {
        org: code("force:kent"),
        desk: "Kent Police missing persons desk".into(),
        phone: "01622 690690".into(),
        email: "mispers@kent.police.example".into(),
    };
    s.put_duty_contact(&ctx("admin", "force:kent", 1), &c)
        .await
        .unwrap();
    c.desk = "Kent Police MISPER hub".into();
    s.put_duty_contact(&ctx("admin", "force:kent", 2), &c)
        .await
        .unwrap();
    let got = s
        .duty_contacts(&[code("force:kent"), code("la:kent")])
        .await
        .unwrap();
    assert_eq!(got, vec![c.clone()]);
    let mut unknown = c.clone();
    unknown.org = code("force:nowhere");
    let e = s
        .put_duty_contact(&ctx("admin", "force:kent", 3), &unknown)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("org"), "{e}");
    let mut bad = c;
    bad.email = "x".into();
    assert!(matches!(
        s.put_duty_contact(&ctx("admin", "force:kent", 3), &bad)
            .await,
        Err(StoreError::Invalid(_))
    ));
    db.cleanup().await;
}

async fn put_change(db: &TestDb, seq: i64) {
    sqlx::query(
        "INSERT INTO outbox (seq, at, event, record_kind, record_id) VALUES ($1, $2, 'person.update', 'person', $3)",
    )
    .bind(seq)
    .bind("2026-01-01T00:00:00.000000Z")
    .bind(seq.to_string())
    .execute(db.store.pool())
    .await
    .unwrap();
}

/// A change that commits late behind later ones (its number taken first) is still returned,
/// once; one that never commits is given up after the timeout.
async fn a_change_committed_late_is_not_missed(backend: Backend) {
    let db = seeded(backend).await;
    let s = db.store.as_ref();
    let gap = chrono::Duration::seconds(60);
    let mut cursor = ChangeCursor::at(s.last_change().await.unwrap());
    let base = cursor.high;
    // numbers base+1 and base+3 visible, base+2 not yet (a transaction still running)
    put_change(&db, base + 1).await;
    put_change(&db, base + 3).await;
    let seqs = |cs: Vec<nrmp_store::Change>| cs.iter().map(|c| c.seq).collect::<Vec<_>>();
    let first = next_changes(s, &mut cursor, at(0), gap, 10_000)
        .await
        .unwrap();
    assert_eq!(seqs(first), vec![base + 1, base + 3]);
    // more than a thousand later changes do not push the gap out of sight
    for n in 0..1_200 {
        put_change(&db, base + 4 + n).await;
    }
    let later = next_changes(s, &mut cursor, at(0), gap, 10_000)
        .await
        .unwrap();
    assert_eq!(later.len(), 1_200);
    put_change(&db, base + 2).await;
    let late = next_changes(s, &mut cursor, at(0), gap, 10_000)
        .await
        .unwrap();
    assert_eq!(seqs(late), vec![base + 2], "the late change, once");
    assert!(
        next_changes(s, &mut cursor, at(0), gap, 10_000)
            .await
            .unwrap()
            .is_empty()
    );
    // a number burned by a rolled-back transaction is given up after the timeout
    put_change(&db, base + 2_000).await;
    next_changes(s, &mut cursor, at(0), gap, 10_000)
        .await
        .unwrap();
    assert!(!cursor.gaps.is_empty());
    next_changes(s, &mut cursor, at(0) + gap, gap, 10_000)
        .await
        .unwrap();
    assert!(cursor.gaps.is_empty());
    db.cleanup().await;
}

/// On PostgreSQL, the real thing: a transaction takes its outbox number, a later one commits
/// first, and the follower still returns both, each once.
async fn a_concurrent_late_commit_on_postgres_is_not_missed(backend: Backend) {
    if backend != Backend::Postgres {
        return; // SQLite has one writer at a time: numbers are taken in commit order
    }
    let db = seeded(backend).await;
    let s = db.store.as_ref();
    let gap = chrono::Duration::seconds(60);
    let mut cursor = ChangeCursor::at(s.last_change().await.unwrap());
    let insert = "INSERT INTO outbox (at, event, record_kind, record_id) VALUES ('2026-01-01T00:00:00.000000Z', 'person.update', 'person', $1)";
    let mut slow = db.store.pool().begin().await.unwrap();
    sqlx::query(insert)
        .bind("slow")
        .execute(&mut *slow)
        .await
        .unwrap();
    sqlx::query(insert)
        .bind("fast")
        .execute(db.store.pool())
        .await
        .unwrap();
    let ids = |cs: Vec<nrmp_store::Change>| cs.into_iter().map(|c| c.record_id).collect::<Vec<_>>();
    assert_eq!(
        ids(next_changes(s, &mut cursor, at(0), gap, 100).await.unwrap()),
        vec!["fast"]
    );
    slow.commit().await.unwrap();
    assert_eq!(
        ids(next_changes(s, &mut cursor, at(0), gap, 100).await.unwrap()),
        vec!["slow"]
    );
    assert!(
        next_changes(s, &mut cursor, at(0), gap, 100)
            .await
            .unwrap()
            .is_empty()
    );
    db.cleanup().await;
}

nrmp_store::on_both_backends!(
    alerts_are_raised_once_per_key_with_the_cursor_in_the_same_transaction,
    acknowledgement_is_once_per_organisation_and_stops_escalation,
    duty_contacts_are_validated_and_kept_per_organisation,
    a_change_committed_late_is_not_missed,
    a_concurrent_late_commit_on_postgres_is_not_missed,
);
