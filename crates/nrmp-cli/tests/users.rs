//! End-to-end tests of `nrmp users`, through the binary, on SQLite and PostgreSQL: add (with
//! the password on standard input), list, disable, enable, reset, API tokens, demo codes, and
//! the audit events each writes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use nrmp_domain::audit::AuditAction;
use nrmp_domain::organisation::{OrgCode, OrgKind, Organisation};
use nrmp_store::prelude::*;
use nrmp_store::test_support::{TestDb, actor, at};
use nrmp_store::{Backend, Ctx};
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn nrmp(db: &TestDb, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nrmp"));
    cmd.args(["users"])
        .args(args)
        .args(["--database", &db.url])
        .env_remove("NRMP_DATABASE_URL")
        .env_remove("NRMP_USER")
        .env_remove("NRMP_ORG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn err(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr.clone()).unwrap()
}

async fn setup(backend: Backend) -> TestDb {
    let db = TestDb::new(backend).await.unwrap();
    let org = |c: &str, kind| Organisation {
        code: OrgCode::parse("org", c).unwrap(),
        kind,
        name: format!("{c} (test)"),
        country: "England".into(),
        region: None,
        police_force: None,
    };
    db.store
        .put_organisations(
            &Ctx::new(actor("setup", "national:nmpu"), "test", at(0)),
            &[
                org("force:kent", OrgKind::PoliceForce),
                org("national:nmpu", OrgKind::NationalUnit),
            ],
        )
        .await
        .unwrap();
    db
}

nrmp_store::on_both_backends!(
    users_command_round_trip,
    users_command_reports_bad_input,
    demo_accounts_print_and_give_codes,
);

async fn demo_accounts_print_and_give_codes(backend: Backend) {
    let db = setup(backend).await;
    let store: std::sync::Arc<dyn Store> = db.store.clone();
    let clock = std::sync::Arc::new(nrmp_domain::clock::SystemClock);
    let demo = nrmp_cli::commands::users::demo_accounts(store, clock)
        .await
        .unwrap();
    // the test register has a force and the national unit: roles of other kinds are skipped
    let roles: Vec<&str> = demo.iter().map(|d| d.role.as_str()).collect();
    assert_eq!(
        roles,
        [
            "call_handler",
            "missing_person_coordinator",
            "patrol_officer",
            "national_analyst",
            "researcher",
            "administrator"
        ]
    );
    let text = nrmp_cli::commands::users::format_demo_sign_ins(&demo, &db.url);
    for d in &demo {
        assert!(
            text.contains(&d.username) && text.contains(&d.password),
            "{text}"
        );
    }
    assert!(text.contains("otpauth://totp/"), "{text}");
    // the printed way to get a code works, and the code signs in
    let out = ok(&nrmp(
        &db,
        &["totp-code", "--user", "demo.call-handler"],
        None,
    ));
    let code = out.trim();
    assert_eq!(code.len(), 6, "{out}");
    let d = demo
        .iter()
        .find(|d| d.username == "demo.call-handler")
        .unwrap();
    let secret =
        nrmp_domain::account::TotpSecret::from_base32("t", d.totp_secret.as_ref().unwrap())
            .unwrap();
    let now = nrmp_domain::clock::Clock::now(&nrmp_domain::clock::SystemClock);
    let step = nrmp_domain::account::TotpSecret::step_at(now);
    assert!(
        secret.verify(code, now, Some(step - 2)).is_ok(),
        "{code} is not a current code"
    );
    let e = err(&nrmp(
        &db,
        &["totp-code", "--user", "demo.researcher"],
        None,
    ));
    assert!(e.contains("no second factor"), "{e}");
    db.cleanup().await;
}

async fn users_command_round_trip(backend: Backend) {
    let db = setup(backend).await;
    // add: the password comes from standard input, never the command line
    let out = ok(&nrmp(
        &db,
        &[
            "add",
            "--username",
            "kent.handler",
            "--org",
            "force:kent",
            "--role",
            "call_handler",
            "--password-stdin",
        ],
        Some("plum orchard 42\n"),
    ));
    assert!(out.contains("added kent.handler"), "{out}");
    assert!(
        out.contains("otpauth://totp/"),
        "a call handler gets a second factor: {out}"
    );
    let out = ok(&nrmp(
        &db,
        &[
            "add",
            "--username",
            "nmpu.stats",
            "--org",
            "national:nmpu",
            "--role",
            "researcher",
            "--password-stdin",
        ],
        Some("harbour lights 7\n"),
    ));
    assert!(
        !out.contains("otpauth"),
        "a researcher needs no second factor: {out}"
    );

    let list = ok(&nrmp(&db, &["list", "--org", "force:kent"], None));
    assert!(
        list.contains("kent.handler") && list.contains("call_handler"),
        "{list}"
    );
    assert!(list.contains("1 users"), "{list}");

    ok(&nrmp(
        &db,
        &[
            "disable",
            "--user",
            "kent.handler",
            "--reason",
            "left the force",
        ],
        None,
    ));
    let list = ok(&nrmp(&db, &["list", "--org", "force:kent"], None));
    assert!(list.contains("disabled"), "{list}");
    ok(&nrmp(&db, &["enable", "--user", "kent.handler"], None));
    let out = ok(&nrmp(
        &db,
        &[
            "reset",
            "--user",
            "kent.handler",
            "--totp",
            "--password-stdin",
        ],
        Some("a new orchard 43\n"),
    ));
    assert!(out.contains("otpauth://"), "{out}");

    // a token: printed once, listed, revoked
    let out = ok(&nrmp(
        &db,
        &[
            "token",
            "create",
            "--user",
            "nmpu.stats",
            "--name",
            "stats feed",
            "--expires-in-days",
            "30",
        ],
        None,
    ));
    let secret = out.lines().last().unwrap();
    assert!(secret.starts_with("nrmp_t_"), "{out}");
    let id = out.split_whitespace().nth(2).unwrap().to_owned();
    let list = ok(&nrmp(
        &db,
        &["token", "list", "--org", "national:nmpu"],
        None,
    ));
    assert!(list.contains(&id) && list.contains("stats feed"), "{list}");
    assert!(!list.contains(secret), "secrets are shown once");
    ok(&nrmp(&db, &["token", "revoke", &id], None));
    let list = ok(&nrmp(
        &db,
        &["token", "list", "--org", "national:nmpu"],
        None,
    ));
    assert!(list.contains("revoked"), "{list}");

    // codes are printed for demo accounts only
    let e = err(&nrmp(&db, &["totp-code", "--user", "kent.handler"], None));
    assert!(e.contains("demo"), "{e}");

    let events = db.store.audit_events(0, 1000).await.unwrap();
    let count = |a: AuditAction| events.iter().filter(|e| e.action == a).count();
    // two users created, disabled, enabled, reset
    assert_eq!(count(AuditAction::PermissionChange), 5);
    assert_eq!(count(AuditAction::TokenIssued), 1);
    assert_eq!(count(AuditAction::TokenRevoked), 1);
    let disabled = events
        .iter()
        .find(|e| e.action == AuditAction::PermissionChange && e.detail == "disabled")
        .unwrap();
    assert_eq!(disabled.reason, "left the force");
    assert_eq!(disabled.actor.user, "nrmp-cli");
    // the password is nowhere in the audit log or the users table
    assert!(events.iter().all(|e| !e.detail.contains("orchard")));
    let u = db
        .store
        .user_by_name(&nrmp_domain::account::Username::parse("u", "kent.handler").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        u.password
            .as_str()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    assert!(u.password.verify("a new orchard 43"));
    db.cleanup().await;
}

async fn users_command_reports_bad_input(backend: Backend) {
    let db = setup(backend).await;
    let e = err(&nrmp(
        &db,
        &[
            "add",
            "--username",
            "kent.x",
            "--org",
            "force:kent",
            "--role",
            "national_analyst",
            "--password-stdin",
        ],
        Some("password1\n"),
    ));
    assert!(e.contains("roles[0]") && e.contains("password"), "{e}");
    // no terminal and no --password-stdin
    let e = err(&nrmp(
        &db,
        &[
            "add",
            "--username",
            "kent.x",
            "--org",
            "force:kent",
            "--role",
            "call_handler",
        ],
        None,
    ));
    assert!(e.contains("--password-stdin"), "{e}");
    // acting for an organisation that is not in the register
    let e = err(&nrmp(&db, &["list", "--as-org", "force:nowhere"], None));
    assert!(e.contains("--as-org"), "{e}");
    // a local administrator of Kent may not list the national unit's users
    let e = err(&nrmp(
        &db,
        &["list", "--org", "national:nmpu", "--as-org", "force:kent"],
        None,
    ));
    assert!(e.contains("your own organisation"), "{e}");
    let e = err(&nrmp(&db, &["disable", "--user", "nobody.here"], None));
    assert!(e.contains("nobody.here"), "{e}");
    assert!(db.store.users(None).await.unwrap().is_empty());
    db.cleanup().await;
}

#[test]
fn the_command_line_definition_is_consistent() {
    // clap checks every subcommand's arguments (e.g. no two with the same name)
    use clap::CommandFactory;
    nrmp_cli::Cli::command().debug_assert();
}
