//! `nrmp backup` then `nrmp restore` through the binary, on both backends: the restored register
//! verifies (`nrmp audit verify`) and holds the same persons; the backup is recorded in the
//! audit log of the register it was taken from; restoring over a register is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use nrmp_cli::commands::synth;
use nrmp_store::prelude::*;
use nrmp_store::test_support::{TestDb, actor, at};
use nrmp_store::{Backend, Ctx};
use std::process::{Command, Output};

fn nrmp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nrmp"))
        .args(args)
        .env_remove("NRMP_DATABASE_URL")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn backup_then_restore_through_the_cli(backend: Backend) {
    let src = TestDb::new(backend).await.unwrap();
    let generator =
        synth::generator(5, 60, chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()).unwrap();
    let ctx = Ctx::new(actor("seed", "national:nmpu"), "test register", at(0));
    synth::load_into(src.store.as_ref(), &ctx, &generator, None, false)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nrmp.backup");
    let file = file.to_str().unwrap();
    let said = ok(&nrmp(&[
        "backup",
        "--database",
        &src.url,
        "--out",
        file,
        "--as-user",
        "ops.admin",
        "--reason",
        "nightly backup",
    ]));
    assert!(said.contains("backed up"), "{said}");
    let events = src.store.audit_events(0, 100_000).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.actor.user, "ops.admin");
    assert!(
        last.detail.starts_with("backup to nrmp.backup"),
        "{}",
        last.detail
    );

    let (target, guard) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("restored.db").display()),
            None,
        ),
        Backend::Postgres => {
            let db = TestDb::empty(backend).await.unwrap();
            (db.url.clone(), Some(db))
        }
    };
    let said = ok(&nrmp(&["restore", "--from", file, "--database", &target]));
    assert!(said.contains("the audit chain verifies"), "{said}");
    ok(&nrmp(&["audit", "verify", "--database", &target]));
    let restored = nrmp_store::open(&target).await.unwrap();
    assert_eq!(
        restored.counts().await.unwrap().persons,
        src.store.counts().await.unwrap().persons
    );
    drop(restored);

    // Over a register that has data: refused, naming why.
    let out = nrmp(&["restore", "--from", file, "--database", &src.url]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already"), "{err}");
    if let Some(g) = guard {
        g.cleanup().await;
    }
    src.cleanup().await;
}

nrmp_store::on_both_backends!(backup_then_restore_through_the_cli);
