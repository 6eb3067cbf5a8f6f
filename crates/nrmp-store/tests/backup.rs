//! Backup and restore on both backends: a restored register equals the original in every table
//! and in its audit chain's head; a restore goes only into an empty database; a backup whose
//! audit chain was altered, or that differs from its manifest, is refused and nothing of it is
//! left behind.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use nrmp_domain::ids::PersonId;
use nrmp_domain::organisation::{OrgCode, OrgKind, Organisation};
use nrmp_domain::person::{Description, NameKind, Person, PersonName, Sex};
use nrmp_store::backup::{backup, describe_url, manifest_path, restore};
use nrmp_store::prelude::*;
use nrmp_store::test_support::{TestDb, actor, at};
use nrmp_store::{Backend, scan_all};
use std::path::Path;
use uuid::Uuid;

fn ctx(hours: i64) -> Ctx {
    Ctx::new(actor("backup.test", "force:kent"), "backup test", at(hours))
}

/// A small register: an organisation, persons (with non-ASCII names), reads and changes.
async fn register(backend: Backend) -> TestDb {
    let db = TestDb::new(backend).await.unwrap();
    let kent = OrgCode::parse("org", "force:kent").unwrap();
    let org = Organisation {
        code: kent.clone(),
        kind: OrgKind::PoliceForce,
        name: "Kent Police".into(),
        country: "England".into(),
        region: Some("South East".into()),
        police_force: None,
    };
    db.store.put_organisations(&ctx(0), &[org]).await.unwrap();
    for (n, (given, family)) in [
        ("Thi Lan", "Nguyễn"),
        ("Amanuel", "Tesfay"),
        ("Ali", "O'Neil"),
    ]
    .into_iter()
    .enumerate()
    {
        let p = Person {
            id: PersonId(Uuid::from_u128(n as u128 + 1)),
            owning_org: kent.clone(),
            names: vec![PersonName::parse(NameKind::Primary, given, family, None, false).unwrap()],
            dob: None,
            sex: Sex::Unknown,
            nationalities: vec![],
            languages: vec![],
            identifiers: vec![],
            description: Description::default(),
            created_at: at(0),
            updated_at: at(0),
        };
        db.store.create_person(&ctx(1), &p).await.unwrap();
        db.store.person(&ctx(2), p.id).await.unwrap();
    }
    db
}

/// A path for a SQLite register that does not exist yet, and its URL.
fn new_sqlite(dir: &Path, name: &str) -> String {
    format!("sqlite://{}", dir.join(name).display())
}

async fn empty_target(backend: Backend, dir: &Path, name: &str) -> (String, Option<TestDb>) {
    match backend {
        Backend::Sqlite => (new_sqlite(dir, name), None),
        Backend::Postgres => {
            let db = TestDb::empty(backend).await.unwrap();
            (db.url.clone(), Some(db))
        }
    }
}

async fn restore_equals_the_original(backend: Backend) {
    let src = register(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("register.backup");
    let made = backup(&src.url, &file).await.unwrap();
    assert!(manifest_path(&file).exists());
    assert!(made.chain_seq > 0);
    assert_eq!(made.tables["persons"].rows, 3, "{made:?}");

    let (url, guard) = empty_target(backend, dir.path(), "restored.db").await;
    let restored = restore(&file, &url).await.unwrap();
    assert_eq!(restored, made);
    // Every table and the chain head, read afresh from both registers.
    assert_eq!(
        describe_url(&url).await.unwrap(),
        describe_url(&src.url).await.unwrap()
    );
    let copy = nrmp_store::open(&url).await.unwrap();
    let report = copy.verify_audit_chain(&|_| {}).await.unwrap();
    assert!(report.first_break.is_none());
    let mut names = Vec::new();
    scan_all::<Person>(copy.as_ref(), 100, |page| {
        names.extend(page.iter().map(|p| p.names[0].family.clone()));
        Ok(())
    })
    .await
    .unwrap();
    names.sort();
    assert_eq!(names, ["Nguyễn", "O'Neil", "Tesfay"]);

    // A restore goes only into an empty database: a second one into the same target is refused.
    let again = restore(&file, &url).await.unwrap_err().to_string();
    assert!(again.contains("already"), "{again}");
    drop(copy);
    if let Some(g) = guard {
        g.cleanup().await;
    }
    src.cleanup().await;
}

async fn a_backup_with_an_altered_chain_is_refused(backend: Backend) {
    let src = register(backend).await;
    // Someone with database access drops the append-only guard and rewrites an event's reason.
    let (drop_guard, alter) = match backend {
        Backend::Sqlite => (
            "DROP TRIGGER audit_events_no_update",
            "UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 2",
        ),
        Backend::Postgres => (
            "DROP TRIGGER audit_events_append_only ON audit_events",
            "UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 2",
        ),
    };
    sqlx::raw_sql(drop_guard)
        .execute(src.store.pool())
        .await
        .unwrap();
    sqlx::raw_sql(alter)
        .execute(src.store.pool())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("register.backup");
    backup(&src.url, &file).await.unwrap();

    let (url, guard) = empty_target(backend, dir.path(), "restored.db").await;
    let e = restore(&file, &url).await.unwrap_err().to_string();
    assert!(e.contains("audit chain does not verify"), "{e}");
    // Nothing of it is left: the target is as empty as before.
    match backend {
        Backend::Sqlite => assert!(!dir.path().join("restored.db").exists()),
        Backend::Postgres => {
            let described = describe_tables(&url).await;
            assert_eq!(described, 0, "tables left behind");
        }
    }
    if let Some(g) = guard {
        g.cleanup().await;
    }
    src.cleanup().await;
}

async fn a_backup_that_differs_from_its_manifest_is_refused(backend: Backend) {
    let src = register(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("register.backup");
    backup(&src.url, &file).await.unwrap();
    // The manifest claims one more person than the backup holds.
    let path = manifest_path(&file);
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    m["tables"]["persons"]["rows"] = serde_json::json!(4);
    std::fs::write(&path, m.to_string()).unwrap();

    let (url, guard) = empty_target(backend, dir.path(), "restored.db").await;
    let e = restore(&file, &url).await.unwrap_err().to_string();
    assert!(e.contains("differs from its manifest in persons"), "{e}");
    if let Some(g) = guard {
        g.cleanup().await;
    }
    src.cleanup().await;
}

/// The number of tables in a PostgreSQL database's schema.
async fn describe_tables(url: &str) -> usize {
    describe_url(url).await.map_or(0, |m| m.tables.len())
}

nrmp_store::on_both_backends!(
    restore_equals_the_original,
    a_backup_with_an_altered_chain_is_refused,
    a_backup_that_differs_from_its_manifest_is_refused,
);
