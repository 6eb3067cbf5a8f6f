//! `nrmp audit` and `nrmp retention` end to end, on both backends: verify passes and then names
//! the seq an edit broke; the regulator's export lists who saw a person and is itself audited;
//! keep and erase decisions go through the binary.

use super::{import, synth_to};
use nrmp_domain::audit::AuditAction;
use nrmp_domain::audit::search::SearchQuery;
use nrmp_domain::clock::{Clock, SystemClock};
use nrmp_domain::ids::PersonId;
use nrmp_domain::person::Person;
use nrmp_interchange::Format;
use nrmp_store::prelude::*;
use nrmp_store::test_support::{TestDb, actor, at};
use nrmp_store::{Backend, Ctx, scan_all};
use std::process::{Command, Output};

fn nrmp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nrmp"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A small synthetic register; returns it and one person's id, read once by an officer of
/// another force and found by a search.
async fn register(backend: Backend) -> (TestDb, PersonId) {
    let src = tempfile::tempdir().unwrap();
    synth_to(src.path(), 3, 40, Format::Csv);
    let db = TestDb::new(backend).await.unwrap();
    assert!(import(db.store.as_ref(), src.path(), false).await.committed);
    let mut first: Option<Person> = None;
    scan_all::<Person>(db.store.as_ref(), 10, |page| {
        if first.is_none() {
            first = page.into_iter().next();
        }
        Ok(())
    })
    .await
    .unwrap();
    let id = first.as_ref().unwrap().id;
    let officer = Ctx::new(actor("pc.other", "national:nmpu"), "encounter check", at(1));
    db.store.person(&officer, id).await.unwrap();
    let family = &first.as_ref().unwrap().names[0].family;
    let query = SearchQuery::new("encounter check")
        .term("family", family.clone())
        .term("dob", "2009");
    db.store
        .record_search(&officer, "person", &[id.to_string()], &[], &query)
        .await
        .unwrap();
    (db, id)
}

nrmp_store::on_both_backends!(
    verify_passes_then_names_the_broken_seq,
    export_lists_who_saw_a_person_and_is_audited,
    retention_keep_and_erase_through_the_binary,
);

async fn verify_passes_then_names_the_broken_seq(backend: Backend) {
    let (db, _) = register(backend).await;
    let o = nrmp(&["audit", "verify", "--database", &db.url]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.starts_with("3 audit events verified; head seq 3 hash "),
        "{out}"
    );

    // Someone with database access drops the guard and edits the second event's reason.
    let drop = match backend {
        Backend::Sqlite => "DROP TRIGGER audit_events_no_update",
        Backend::Postgres => "DROP TRIGGER audit_events_append_only ON audit_events",
    };
    sqlx::raw_sql(drop).execute(db.store.pool()).await.unwrap();
    sqlx::query("UPDATE audit_events SET reason = 'routine' WHERE seq = 2")
        .execute(db.store.pool())
        .await
        .unwrap();
    let o = nrmp(&["audit", "verify", "--database", &db.url]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("audit chain broken at seq 2: the event was changed"),
        "{err}"
    );
    db.cleanup().await;
}

async fn export_lists_who_saw_a_person_and_is_audited(backend: Backend) {
    let (db, id) = register(backend).await;
    let id = id.to_string();
    // A reason is required: the trail is a disclosure.
    let o = nrmp(&["audit", "export", "--person", &id, "--database", &db.url]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("--reason"), "{}", text(&o.stderr));
    let o = nrmp(&[
        "audit",
        "export",
        "--person",
        "not-an-id",
        "--database",
        &db.url,
    ]);
    assert!(text(&o.stderr).contains("--person"), "{}", text(&o.stderr));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trail.csv");
    let o = nrmp(&[
        "audit",
        "export",
        "--person",
        &id,
        "--database",
        &db.url,
        "--out",
        file.to_str().unwrap(),
        "--as-user",
        "dpo",
        "--reason",
        "ICO request 2026-041",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let csv = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "seq,at,user,org,action,record_kind,record_ids,reason,detail,query"
    );
    // The import names no person; the read and the search do.
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].contains(",pc.other,national:nmpu,read,person,"),
        "{csv}"
    );
    assert!(lines[2].contains(",search,person,"), "{csv}");
    assert!(lines[2].contains("encounter check"), "{csv}");
    // The search's query is shown to the regulator, from where it is kept (not the chain).
    let family = db
        .store
        .case_histories(&[id.parse().unwrap()])
        .await
        .unwrap()[0]
        .person
        .names[0]
        .family
        .clone();
    assert!(
        lines[2].ends_with(&format!(",\"family={family}, dob=2009\"")),
        "{csv}"
    );
    assert!(lines[1].ends_with(','), "a read has no query: {csv}");

    // JSON on standard output, now including the first export (a disclosure about the person).
    let o = nrmp(&[
        "audit",
        "export",
        "--person",
        &id,
        "--format",
        "json",
        "--database",
        &db.url,
        "--reason",
        "ICO request 2026-041",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let events: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["read", "search", "disclose"]);
    assert_eq!(
        events[1]["query"],
        serde_json::json!(format!("family={family}, dob=2009"))
    );
    assert!(events[0].get("query").is_none());
    let last = db.store.audit_events(0, 100).await.unwrap().pop().unwrap();
    assert_eq!(last.action, AuditAction::Disclose);
    assert_eq!(last.record_ids, vec![id.clone()]);
    assert_eq!(
        last.detail,
        "audit trail of 3 events exported to standard output"
    );
    db.cleanup().await;
}

async fn retention_keep_and_erase_through_the_binary(backend: Backend) {
    let (db, id) = register(backend).await;
    let id = id.to_string();
    let o = nrmp(&[
        "retention",
        "due",
        "--as-of",
        "2200-01-01",
        "--database",
        &db.url,
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains(&id), "{out}");
    let counts = db.store.counts().await.unwrap();
    let persons = counts.persons;
    let subjects = counts.persons + counts.found_persons;
    assert!(
        out.contains(&format!("{subjects} due on or before 2200-01-01")),
        "{out}"
    );
    let o = nrmp(&[
        "retention",
        "due",
        "--as-of",
        "31/02/2030",
        "--database",
        &db.url,
    ]);
    assert!(text(&o.stderr).contains("--as-of"), "{}", text(&o.stderr));

    let next = (SystemClock.now() + chrono::Duration::days(400))
        .date_naive()
        .to_string();
    let keep = |next: &str, reason: &str| {
        nrmp(&[
            "retention",
            "keep",
            "--kind",
            "person",
            "--id",
            &id,
            "--next-review",
            next,
            "--database",
            &db.url,
            "--as-user",
            "records.officer",
            "--reason",
            reason,
        ])
    };
    let o = keep("2001-01-01", "still missing");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("--next-review: 2001-01-01 is not after today"),
        "{}",
        text(&o.stderr)
    );
    let o = keep(&next, "still missing");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains(&format!("kept; next review {next}")));
    let r = db
        .store
        .reviews_due("2200-01-01".parse().unwrap(), 1000)
        .await
        .unwrap();
    let row = r.iter().find(|r| r.id == id).unwrap();
    assert_eq!(row.review_date.to_string(), next);
    assert_eq!(row.reason.as_deref(), Some("still missing"));

    let o = nrmp(&["retention", "erase", "--person", &id, "--database", &db.url]);
    assert_eq!(o.status.code(), Some(1), "erasing needs a reason");
    let o = nrmp(&[
        "retention",
        "erase",
        "--person",
        &id,
        "--database",
        &db.url,
        "--reason",
        "reviewed: no policing purpose remains",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains(&format!("person {id} erased: 1 person, ")),
        "{}",
        text(&o.stdout)
    );
    assert!(
        text(&o.stdout).ends_with(", 1 stored search queries\n"),
        "{}",
        text(&o.stdout)
    );
    assert_eq!(db.store.counts().await.unwrap().persons, persons - 1);
    // The search's stored query went with the person.
    let seqs: Vec<i64> = (1..=100).collect();
    assert!(db.store.search_queries(&seqs).await.unwrap().is_empty());
    let o = nrmp(&["audit", "verify", "--database", &db.url]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let events = db.store.audit_events(0, 100).await.unwrap();
    let actions: Vec<AuditAction> = events.iter().rev().take(3).map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::Erase,
            AuditAction::RetentionReview,
            AuditAction::RetentionReview
        ]
    );
    db.cleanup().await;
}
