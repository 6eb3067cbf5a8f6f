//! `nrmp-bench serve` signs in with real API tokens, on SQLite and PostgreSQL: the benchmark's
//! coordinators are accounts with tokens issued by the accounts service, the old benchmark
//! shortcut (the bearer token `coordinator@<force>` accepted as that force's coordinator) is
//! refused with 401, and the whole benchmark runs with no failed request.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use chrono::NaiveDate;
use nrmp_bench::serve::{
    accounts, coordinator_username, revoke_tokens, sign_in_coordinators, start,
};
use nrmp_cli::ActorArgs;
use nrmp_cli::commands::synth;
use nrmp_cli::commands::users::acting;
use nrmp_domain::access::Role;
use nrmp_domain::clock::{Clock, SystemClock};
use nrmp_domain::incident::Incident;
use nrmp_store::prelude::*;
use nrmp_store::test_support::{TestDb, actor, at};
use nrmp_store::{Backend, Ctx, scan_all};
use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;

fn until() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
}

fn admin_args() -> ActorArgs {
    ActorArgs {
        user: "bench-test-admin".into(),
        org: "national:nmpu".into(),
        reason: "nrmp-bench serve test".into(),
    }
}

/// A fresh register with a small synthetic population.
async fn seeded(backend: Backend) -> TestDb {
    let db = TestDb::new(backend).await.unwrap();
    let generator = synth::generator(3, 80, until()).unwrap();
    let ctx = Ctx::new(actor("seed", "national:nmpu"), "test register", at(0));
    synth::load_into(db.store.as_ref(), &ctx, &generator, None, false)
        .await
        .unwrap();
    db
}

async fn incidents(store: &dyn Store) -> Vec<Incident> {
    let mut out = Vec::new();
    scan_all::<Incident>(store, 1_000, |page| {
        out.extend(page);
        Ok(())
    })
    .await
    .unwrap();
    out
}

async fn get_incident(base: &str, incident: &Incident, bearer: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .get(format!("{base}/api/v1/incidents/{}", incident.id))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
        .status()
}

async fn coordinator_at_force_shortcut_token_is_refused(backend: Backend) {
    let db = seeded(backend).await;
    let store: Arc<dyn Store> = db.store.clone();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let accounts = accounts(&store, &clock).unwrap();
    let admin = acting(&accounts, &admin_args()).await.unwrap();
    let all = incidents(store.as_ref()).await;
    let incident = all.first().expect("the synthetic register has incidents");
    let force = incident.force_missing.to_string();
    let forces = BTreeSet::from([force.clone()]);
    let coordinators = sign_in_coordinators(
        &accounts,
        &admin,
        "test",
        &forces,
        clock.now() + chrono::Duration::hours(1),
    )
    .await
    .unwrap();
    assert_eq!(coordinators.created, 1);
    let owner = accounts
        .find_user(&coordinator_username(&force))
        .await
        .unwrap();
    assert_eq!(owner.org.to_string(), force);

    let service = start(&db.url, store.clone(), clock.clone(), accounts.clone())
        .await
        .unwrap();
    // the shortcut of the old benchmark, for the force and for the national unit
    for shortcut in [
        format!("coordinator@{force}"),
        "coordinator@national:nmpu".to_owned(),
    ] {
        assert_eq!(
            get_incident(&service.base, incident, &shortcut).await,
            reqwest::StatusCode::UNAUTHORIZED,
            "{shortcut}"
        );
    }
    // the coordinator's real token reads the incident of their force
    let token = &coordinators.tokens[&force];
    assert_eq!(
        get_incident(&service.base, incident, token).await,
        reqwest::StatusCode::OK
    );
    // and stops working once the run revokes it
    revoke_tokens(&accounts, &admin, "test", &coordinators)
        .await
        .unwrap();
    assert_eq!(
        get_incident(&service.base, incident, token).await,
        reqwest::StatusCode::UNAUTHORIZED
    );
    service.stop().await.unwrap();
    db.cleanup().await;
}

/// The last number of the `all` row of the benchmark's table: the failed requests.
fn failed_requests(stdout: &str) -> u64 {
    let row = stdout
        .lines()
        .find(|l| l.starts_with("all "))
        .unwrap_or_else(|| panic!("no `all` row in:\n{stdout}"));
    row.split_whitespace().last().unwrap().parse().unwrap()
}

fn bench_serve(db: &TestDb) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_nrmp-bench"))
        .args(["serve", "--database", &db.url])
        .args(["--clients", "1", "--duration", "2s", "--persons", "80"])
        .env_remove("NRMP_USER")
        .env_remove("NRMP_ORG")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

async fn bench_serve_runs_signed_in_with_api_tokens(backend: Backend) {
    let db = seeded(backend).await;
    let forces: BTreeSet<String> = incidents(db.store.as_ref())
        .await
        .iter()
        .map(|i| i.force_missing.to_string())
        .collect();
    let first = bench_serve(&db);
    assert!(
        first.contains(&format!(
            "signed in {} coordinators with API tokens ({} accounts created)",
            forces.len(),
            forces.len()
        )),
        "{first}"
    );
    assert_eq!(failed_requests(&first), 0, "{first}");
    // a second run reuses the accounts and issues new tokens (the old ones were revoked)
    let second = bench_serve(&db);
    assert!(second.contains("(0 accounts created)"), "{second}");
    assert_eq!(failed_requests(&second), 0, "{second}");
    // each coordinator holds the coordinator role only; both runs' tokens are revoked
    let store: Arc<dyn Store> = db.store.clone();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let accounts = accounts(&store, &clock).unwrap();
    for force in &forces {
        let user = accounts
            .find_user(&coordinator_username(force))
            .await
            .unwrap();
        assert_eq!(user.roles, vec![Role::MissingPersonCoordinator]);
        let tokens = store.tokens(Some(user.id), None).await.unwrap();
        assert_eq!(tokens.len(), 2, "{force}");
        assert!(tokens.iter().all(|t| t.revoked_at.is_some()), "{force}");
    }
    db.cleanup().await;
}

nrmp_store::on_both_backends!(
    coordinator_at_force_shortcut_token_is_refused,
    bench_serve_runs_signed_in_with_api_tokens,
);
