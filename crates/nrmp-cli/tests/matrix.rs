//! The authorisation matrix at the command line: every test principal of the HTTP matrix's
//! table ([`nrmp_server::test_support::PRINCIPALS`], shared, not copied) becomes a register
//! user, and runs each command that discloses, loads or erases personal data — `nrmp match`,
//! `export`, `import`, `audit export`, `retention due`, `keep` and `erase` — against cases
//! built so that the user's organisation owns one, is involved in one (by a placement), has a
//! client (the advocate) or the national remit, or is not involved. The outcome must be what
//! `nrmp_domain::access::decide` says: an allowed command succeeds and does its work (for the
//! encounter check: exactly the rows whose case allows a search); a refused one exits
//! non-zero with a message naming `--as-user` (or, where the refusal hides the record, "no
//! such"), changes nothing, and leaves one refusal by that user in the audit log.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

#[path = "common/users.rs"]
mod users;

use chrono::{NaiveDate, TimeZone, Utc};
use nrmp_app::Case;
use nrmp_domain::access::{Action, Decision, Principal, ResourceKind, Target, decide};
use nrmp_domain::clock::{Clock, SystemClock};
use nrmp_domain::ids::{PersonId, PlacementId};
use nrmp_domain::person::{DateOfBirth, Description, NameKind, Person, PersonName, Sex};
use nrmp_domain::placement::{Placement, PlacementType};
use nrmp_interchange::{DatasetWriter, Format};
use nrmp_server::test_support::{PRINCIPALS, code, organisations, principal};
use nrmp_store::test_support::{TestDb, actor};
use nrmp_store::{Backend, Ctx, Store};
use std::collections::BTreeSet;
use std::process::{Command, Output};
use std::sync::Arc;

const CASE_KINDS: [ResourceKind; 6] = [
    ResourceKind::Person,
    ResourceKind::Incident,
    ResourceKind::Profile,
    ResourceKind::Placement,
    ResourceKind::NrmReferral,
    ResourceKind::FoundPerson,
];

fn nrmp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nrmp"))
        .args(args)
        .env_remove("NRMP_DATABASE_URL")
        .env_remove("NRMP_USER")
        .env_remove("NRMP_ORG")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn setup_ctx() -> Ctx {
    Ctx::new(
        actor("test-setup", "national:nmpu"),
        "test set-up",
        SystemClock.now(),
    )
}

fn person(n: u128, owner: &str, given: &str, family: &str, dob: (i32, u32, u32)) -> Person {
    let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    Person {
        id: PersonId(uuid::Uuid::from_u128(n)),
        owning_org: code(owner),
        names: vec![PersonName::parse(NameKind::Primary, given, family, None, false).unwrap()],
        dob: Some(DateOfBirth::Exact {
            date: NaiveDate::from_ymd_opt(dob.0, dob.1, dob.2).unwrap(),
        }),
        sex: Sex::Male,
        nationalities: vec![],
        languages: vec![],
        identifiers: vec![],
        description: Description::default(),
        created_at: t,
        updated_at: t,
    }
}

async fn case_of(store: &dyn Store, id: PersonId) -> Case {
    Case::new(store.case_histories(&[id]).await.unwrap().pop().unwrap())
}

/// Allowed, with the reason every command here states?
fn allowed(d: Decision) -> bool {
    d.is_allowed()
}

/// Refusals by `user` in the audit log.
async fn refusals(store: &dyn Store, user: &str) -> usize {
    store
        .audit_events(0, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.actor.user == user && e.detail.starts_with("refused"))
        .count()
}

/// Runs `args` as `user` and checks the outcome against `allow`: success, or a non-zero exit
/// with a clear message and one more audited refusal by that user.
async fn check(store: &dyn Store, user: &str, what: &str, allow: bool, args: &[&str]) -> Output {
    let before = refusals(store, user).await;
    let mut full: Vec<&str> = args.to_vec();
    full.extend(["--as-user", user]);
    let o = nrmp(&full);
    if allow {
        assert!(o.status.success(), "{user}: {what} refused: {}", stderr(&o));
        assert_eq!(refusals(store, user).await, before, "{user}: {what}");
    } else {
        assert!(!o.status.success(), "{user}: {what} allowed");
        let msg = stderr(&o);
        assert!(
            msg.contains("--as-user") || msg.contains("no such"),
            "{user}: {what}: unclear refusal: {msg}"
        );
        assert_eq!(
            refusals(store, user).await,
            before + 1,
            "{user}: {what}: refusal not audited ({msg})"
        );
    }
    o
}

nrmp_store::on_both_backends!(cli_commands_follow_the_policy_for_every_role_and_relation);

async fn cli_commands_follow_the_policy_for_every_role_and_relation(backend: Backend) {
    let db = TestDb::new(backend).await.unwrap();
    let store: Arc<dyn Store> = db.store.clone();
    let s = store.as_ref();
    let ctx = setup_ctx();
    s.put_organisations(&ctx, &organisations()).await.unwrap();
    // K: a Kent Police case. E: Essex County Council's child, placed in Kent (so Kent County
    // Council is involved). Both answer the same encounter check.
    let k = person(1, "force:kent", "Tesfalem", "Gebrehiwet", (2008, 5, 14));
    let e = person(2, "la:essex", "Tesfalem", "Gebrehiwet", (2008, 5, 14));
    s.create_person(&ctx, &k).await.unwrap();
    s.create_person(&ctx, &e).await.unwrap();
    let placement = Placement {
        id: PlacementId(uuid::Uuid::from_u128(3)),
        person_id: e.id,
        placing_authority: code("la:essex"),
        host_authority: code("la:kent"),
        placement_type: PlacementType::Foster,
        started_at: Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap(),
        ended_at: None,
        unaccompanied: true,
    };
    s.create_placement(&ctx, &placement).await.unwrap();
    let cases = [case_of(s, k.id).await, case_of(s, e.id).await];
    for (token, org, _, role) in PRINCIPALS {
        let clients = if *token == "advocate" {
            vec![k.id]
        } else {
            vec![]
        };
        users::add_user(store.clone(), token, org, *role, &clients).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut allowed_somewhere = BTreeSet::new();

    for (n, (token, ..)) in PRINCIPALS.iter().enumerate() {
        let clients = if *token == "advocate" {
            vec![k.id]
        } else {
            vec![]
        };
        let p: Principal = principal(token, clients);
        let register = |a, r| allowed(decide(&p, a, r, &Target::Register));

        // The encounter check: allowed on the register, then each case's row by its own case.
        let allow = register(Action::Search, ResourceKind::Person);
        let o = check(
            s,
            token,
            "match",
            allow,
            &[
                "match",
                "--database",
                &db.url,
                "--given",
                "Tesfalem",
                "--family",
                "Gebrehiwet",
                "--dob",
                "2008-05-14",
                "--json",
                "--reason",
                "encounter check, Dover",
            ],
        )
        .await;
        if allow {
            let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            let shown: BTreeSet<String> = doc["candidates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["person"]["id"].as_str().unwrap().to_owned())
                .collect();
            // Every row shown is one the policy lets this user see…
            for id in &shown {
                let c = case_of(s, PersonId::parse("id", id).unwrap()).await;
                let d = decide(
                    &p,
                    Action::Search,
                    ResourceKind::Person,
                    &Target::Case(&c.ctx),
                );
                assert!(d.is_allowed(), "{token}: match showed {id}");
            }
            // …and of the two cases the check answers, exactly those it may see are shown.
            let ke = BTreeSet::from([k.id.to_string(), e.id.to_string()]);
            let shown: BTreeSet<String> = shown.intersection(&ke).cloned().collect();
            let want: BTreeSet<String> = cases
                .iter()
                .filter(|c| {
                    allowed(decide(
                        &p,
                        Action::Search,
                        ResourceKind::Person,
                        &Target::Case(&c.ctx),
                    ))
                })
                .map(|c| c.history.person.id.to_string())
                .collect();
            assert_eq!(shown, want, "{token}: match rows");
            if !want.is_empty() {
                allowed_somewhere.insert("match rows");
            }
        }

        // Export of the whole register.
        let allow = CASE_KINDS.iter().all(|r| register(Action::Export, *r));
        let out = dir.path().join(format!("export-{n}"));
        check(
            s,
            token,
            "export",
            allow,
            &[
                "export",
                "--database",
                &db.url,
                "--recipient",
                "test suite",
                "--out",
                out.to_str().unwrap(),
            ],
        )
        .await;
        assert_eq!(
            out.join("persons.csv").exists(),
            allow,
            "{token}: export files"
        );
        if allow {
            allowed_somewhere.insert("export");
        }

        // Import of a dataset holding one new person.
        let allow = CASE_KINDS.iter().all(|r| register(Action::Create, *r));
        let new = person(
            1000 + n as u128,
            "force:kent",
            "Ermal",
            "Hoxha",
            (1990, 1, 1),
        );
        let src = dir.path().join(format!("import-{n}"));
        let mut w = DatasetWriter::create(&src, Format::Json).unwrap();
        w.write_person(&new).unwrap();
        w.finish().unwrap();
        check(
            s,
            token,
            "import",
            allow,
            &[
                "import",
                src.to_str().unwrap(),
                "--database",
                &db.url,
                "--reason",
                "restore of a test dataset",
            ],
        )
        .await;
        let loaded = !s.case_histories(&[new.id]).await.unwrap().is_empty();
        assert_eq!(loaded, allow, "{token}: import loaded");
        if allow {
            allowed_somewhere.insert("import");
        }

        // The audit trail of K.
        let allow = register(Action::Export, ResourceKind::Person);
        let kid = k.id.to_string();
        let o = check(
            s,
            token,
            "audit export",
            allow,
            &[
                "audit",
                "export",
                "--person",
                &kid,
                "--database",
                &db.url,
                "--reason",
                "ICO request 2026-041",
            ],
        )
        .await;
        assert_eq!(!o.stdout.is_empty(), allow, "{token}: audit trail shown");

        // Retention: the reviews due, keeping K, erasing a Kent person of one's own.
        let allow = register(Action::Administer, ResourceKind::RetentionReview);
        let o = check(
            s,
            token,
            "retention due",
            allow,
            &[
                "retention",
                "due",
                "--as-of",
                "2200-01-01",
                "--database",
                &db.url,
            ],
        )
        .await;
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).contains(&kid),
            allow,
            "{token}: due list"
        );
        if allow {
            allowed_somewhere.insert("due");
        }
        let allow = allowed(decide(
            &p,
            Action::Administer,
            ResourceKind::RetentionReview,
            &Target::Organisation(&code("force:kent")),
        ));
        let next = (SystemClock.now() + chrono::Duration::days(400 + n as i64))
            .date_naive()
            .to_string();
        check(
            s,
            token,
            "retention keep",
            allow,
            &[
                "retention",
                "keep",
                "--kind",
                "person",
                "--id",
                &kid,
                "--next-review",
                &next,
                "--database",
                &db.url,
                "--reason",
                "still missing",
            ],
        )
        .await;
        let due = s
            .reviews_due("2200-01-01".parse().unwrap(), 1000)
            .await
            .unwrap();
        let row = due.iter().find(|r| r.id == kid).unwrap();
        assert_eq!(row.review_date.to_string() == next, allow, "{token}: kept");
        if allow {
            allowed_somewhere.insert("keep");
        }

        let doomed = person(
            2000 + n as u128,
            "force:kent",
            "Arben",
            "Krasniqi",
            (1991, 2, 2),
        );
        s.create_person(&ctx, &doomed).await.unwrap();
        let case = case_of(s, doomed.id).await;
        let allow = allowed(decide(
            &p,
            Action::Erase,
            ResourceKind::Person,
            &Target::Case(&case.ctx),
        ));
        let did = doomed.id.to_string();
        check(
            s,
            token,
            "retention erase",
            allow,
            &[
                "retention",
                "erase",
                "--person",
                &did,
                "--database",
                &db.url,
                "--reason",
                "reviewed: no policing purpose remains",
            ],
        )
        .await;
        let gone = s.case_histories(&[doomed.id]).await.unwrap().is_empty();
        assert_eq!(gone, allow, "{token}: erased");
        if allow {
            allowed_somewhere.insert("erase");
        }
    }
    // Every command was allowed to someone: the matrix tested both outcomes of each.
    assert_eq!(
        allowed_somewhere,
        BTreeSet::from(["due", "erase", "export", "import", "keep", "match rows"]),
    );
    let o = nrmp(&["audit", "verify", "--database", &db.url]);
    assert!(o.status.success(), "{}", stderr(&o));
    db.cleanup().await;
}
