//! `nrmp-bench crash`: crash safety as a command. Runs the real `nrmp serve` binary on a
//! register under concurrent writes (new persons, and missing incidents for them, through the
//! API with a real API token), kills it with SIGKILL at a random moment, and — before starting it
//! again — checks that every write the API acknowledged (201) is in the database, that the
//! database passes its integrity check (SQLite `PRAGMA integrity_check`; on PostgreSQL amcheck's
//! `bt_index_check` on every index of the register's schema) and that the audit chain verifies.
//! On PostgreSQL every third cycle also terminates the server's database connections under it
//! (`pg_terminate_backend`) while the writes go on, before the kill.
//!
//! Writes that got no answer may or may not be stored (the client cannot know); only
//! acknowledged ones are owed. The bounded run in nrmp-cli's tests (`tests/crash.rs`) uses a few
//! cycles; the full run (docs/benchmarks.md) at least 100.

use crate::serve::{accounts, sign_in_coordinators};
use anyhow::Context;
use clap::Args;
use nrmp_cli::ActorArgs;
use nrmp_cli::commands::users::acting;
use nrmp_cli::commands::{open_migrated, synth};
use nrmp_domain::clock::Clock;
use nrmp_domain::incident::Incident;
use nrmp_domain::person::Person;
use nrmp_store::{Backend, Ctx, Store, Stored, redact_url, scan_all};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Connection;
use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The force whose coordinator writes during the run.
const FORCE: &str = "force:kent";

/// Arguments of `nrmp-bench crash`.
#[derive(Debug, Args)]
pub struct CrashArgs {
    /// Database URL of the register to crash (a scratch database: the run adds records to it).
    #[arg(long, env = "NRMP_DATABASE_URL")]
    pub database: String,
    /// Kill-and-restart cycles.
    #[arg(long, default_value_t = 100)]
    pub cycles: u32,
    /// Concurrent writing clients.
    #[arg(long, default_value_t = 8)]
    pub writers: usize,
    /// Longest time the server runs under writes before it is killed (each cycle picks a random
    /// moment up to this), in milliseconds.
    #[arg(long, default_value_t = 1_500)]
    pub max_run_ms: u64,
    /// Seed of the random kill moments.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// The `nrmp` binary to run (default: the one beside this `nrmp-bench`).
    #[arg(long)]
    pub nrmp: Option<PathBuf>,
    /// The administrator who sets up the writing coordinator.
    #[command(flatten)]
    pub actor: ActorArgs,
}

/// What a crash run did and found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CrashReport {
    /// Cycles run (each ended by SIGKILL).
    pub cycles: u32,
    /// Writes acknowledged with 201 (each found again after the kill).
    pub acknowledged: u64,
    /// Writes that failed or got no answer (owed nothing).
    pub unanswered: u64,
    /// Times the server's database connections were terminated under it (PostgreSQL).
    pub terminations: u32,
    /// Acknowledged writes made after a termination, before the kill: the server recovered.
    pub acknowledged_after_termination: u64,
    /// The last answer that was not 201, if any (status and body, for diagnosis).
    pub last_refusal: Option<String>,
}

impl std::fmt::Display for CrashReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} SIGKILL cycles: {} acknowledged writes all present after every kill, {} unanswered; \
             integrity check and audit chain passed every time",
            self.cycles, self.acknowledged, self.unanswered
        )?;
        if self.terminations > 0 {
            write!(
                f,
                "; database connections terminated {} times, {} writes acknowledged after that",
                self.terminations, self.acknowledged_after_termination
            )?;
        }
        Ok(())
    }
}

/// Runs `nrmp-bench crash`.
pub async fn run(args: CrashArgs, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let nrmp = match &args.nrmp {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the directory of nrmp-bench")?
            .join("nrmp"),
    };
    println!(
        "nrmp-bench crash: {} cycles of {} writers on {} ({})",
        args.cycles,
        args.writers,
        redact_url(&args.database),
        nrmp.display()
    );
    let report = crash(&args, &nrmp, clock).await?;
    println!("{report}");
    Ok(())
}

/// The crash run of `args` against the `nrmp` binary at `nrmp`; an error names the first
/// broken promise (a lost acknowledged write, a failed integrity check, a broken chain).
pub async fn crash(
    args: &CrashArgs,
    nrmp: &std::path::Path,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<CrashReport> {
    if args.writers == 0 || args.cycles == 0 {
        anyhow::bail!("--writers and --cycles: must be at least 1");
    }
    let backend = Backend::from_url(&args.database)?;
    let token = prepare(args, clock.clone()).await?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut report = CrashReport::default();
    let mut owed = Owed::default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    for cycle in 0..args.cycles {
        let port = free_port()?;
        let base = format!("http://127.0.0.1:{port}");
        let mut child = tokio::process::Command::new(nrmp)
            .args(["serve", "--database", &args.database, "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", nrmp.display()))?;
        wait_until_healthy(&http, &base, &mut child).await?;

        let acks = Arc::new(Mutex::new(Owed::default()));
        let unanswered = Arc::new(Mutex::new(Unanswered::default()));
        let writers: Vec<_> = (0..args.writers)
            .map(|w| {
                tokio::spawn(write_loop(
                    http.clone(),
                    base.clone(),
                    token.clone(),
                    clock.clone(),
                    acks.clone(),
                    unanswered.clone(),
                    u64::from(cycle) * 1_000 + w as u64,
                ))
            })
            .collect();
        let run_for = Duration::from_millis(rng.random_range(50..=args.max_run_ms.max(50)));
        if backend == Backend::Postgres && cycle % 3 == 1 {
            tokio::time::sleep(run_for / 2).await;
            terminate_connections(&args.database).await?;
            report.terminations += 1;
            let before = lock(&acks).len();
            tokio::time::sleep(run_for / 2 + Duration::from_millis(500)).await;
            report.acknowledged_after_termination += (lock(&acks).len() - before) as u64;
        } else {
            tokio::time::sleep(run_for).await;
        }
        child.start_kill().context("SIGKILL")?;
        child.wait().await?;
        for w in writers {
            w.abort();
        }
        owed.extend(&lock(&acks));
        let u = lock(&unanswered).clone();
        report.unanswered += u.count;
        report.last_refusal = u.last_refusal.or(report.last_refusal.take());
        report.cycles += 1;
        check(&args.database, backend, &owed)
            .await
            .with_context(|| format!("after the kill of cycle {}", cycle + 1))?;
    }
    report.acknowledged = owed.len() as u64;
    Ok(report)
}

/// Acknowledged writes: the ids the API answered 201 for.
#[derive(Debug, Default, Clone)]
struct Owed {
    persons: Vec<String>,
    incidents: Vec<String>,
}

impl Owed {
    fn len(&self) -> usize {
        self.persons.len() + self.incidents.len()
    }

    fn extend(&mut self, other: &Owed) {
        self.persons.extend(other.persons.iter().cloned());
        self.incidents.extend(other.incidents.iter().cloned());
    }
}

/// Writes that got no 201.
#[derive(Debug, Default, Clone)]
struct Unanswered {
    count: u64,
    last_refusal: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Migrates the register, gives it organisations (a small synthetic population on first use)
/// and a Kent coordinator with an API token; returns the token's secret.
async fn prepare(args: &CrashArgs, clock: Arc<dyn Clock>) -> anyhow::Result<String> {
    let store = open_migrated(&args.database).await?;
    if store.counts().await?.persons == 0 {
        let generator = synth::generator(args.seed, 50, clock.now().date_naive())?;
        let ctx: Ctx = args.actor.ctx(clock.as_ref())?;
        synth::load_into(store.as_ref(), &ctx, &generator, None, false).await?;
    }
    let accounts = accounts(&store, &clock)?;
    let admin = acting(&accounts, &args.actor).await?;
    let expires = clock.now() + chrono::Duration::days(1);
    let forces = BTreeSet::from([FORCE.to_owned()]);
    let signed_in = sign_in_coordinators(
        &accounts,
        &admin,
        "nrmp-bench crash: the writing coordinator",
        &forces,
        expires,
    )
    .await?;
    signed_in
        .tokens
        .get(FORCE)
        .cloned()
        .context("no token was issued")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Waits (up to a minute: the matching index is built at start) for `/health` to answer.
async fn wait_until_healthy(
    http: &reqwest::Client,
    base: &str,
    child: &mut tokio::process::Child,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("nrmp serve exited at start ({status})");
        }
        if let Ok(r) = http.get(format!("{base}/health")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("nrmp serve did not answer /health within a minute")
}

/// One writing client: a new person, then a missing incident for them, again and again; every
/// 201 is recorded as owed.
async fn write_loop(
    http: reqwest::Client,
    base: String,
    token: String,
    clock: Arc<dyn Clock>,
    acks: Arc<Mutex<Owed>>,
    unanswered: Arc<Mutex<Unanswered>>,
    stream: u64,
) {
    for n in 0u64.. {
        let person = serde_json::json!({
            "names": [{"kind": "primary", "given": "Crash", "family": crate::serve::letters(stream * 1_000_000 + n),
                       "original": null, "order_unknown": false}],
            "sex": "unknown",
        });
        let Some(person_id) = created(&http, &base, &token, "persons", &person, &unanswered).await
        else {
            continue;
        };
        lock(&acks).persons.push(person_id.clone());
        let seen = clock.now() - chrono::Duration::hours(2);
        let incident = serde_json::json!({
            "person_id": person_id,
            "force_missing": FORCE,
            "category": "missing",
            "last_seen_at": seen,
            "reported_at": seen + chrono::Duration::minutes(30),
            "last_seen_place": {"description": "near the station", "authority": null, "force": null},
            "circumstances": "crash-test write",
            "risk": {"grade": "medium", "rationale": "crash-test write"},
        });
        if let Some(id) = created(&http, &base, &token, "incidents", &incident, &unanswered).await {
            lock(&acks).incidents.push(id);
        }
    }
}

/// POSTs `body` to `/api/v1/{path}`; the new record's id if the API answered 201.
async fn created(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
    body: &serde_json::Value,
    unanswered: &Mutex<Unanswered>,
) -> Option<String> {
    let answer = http
        .post(format!("{base}/api/v1/{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await;
    let (id, refusal) = match answer {
        Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
            let id = r
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|v| v["id"].as_str().map(str::to_owned));
            (id, None)
        }
        Ok(r) => {
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            (None, Some(format!("{status}: {body}")))
        }
        Err(_) => (None, None),
    };
    if id.is_none() {
        {
            let mut u = lock(unanswered);
            u.count += 1;
            if refusal.is_some() {
                u.last_refusal = refusal;
            }
        }
        // a refused or failed write: back off a little rather than spin against a dying server
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    id
}

/// Terminates every other connection to the register's PostgreSQL database (the server's).
async fn terminate_connections(database: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(database).await?;
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut conn)
    .await?;
    conn.close().await?;
    Ok(())
}

/// The checks after a kill: every owed write present, the database intact, the chain verified.
async fn check(database: &str, backend: Backend, owed: &Owed) -> anyhow::Result<()> {
    integrity(database, backend).await?;
    let store = nrmp_store::open(database).await?;
    missing::<Person>(store.as_ref(), &owed.persons).await?;
    missing::<Incident>(store.as_ref(), &owed.incidents).await?;
    let chain = store.verify_audit_chain(&|_| {}).await?;
    if let Some(b) = chain.first_break {
        anyhow::bail!("the audit chain is broken: {b:?}");
    }
    Ok(())
}

/// Fails if any of `ids` is not stored as a `T`.
async fn missing<T: Stored>(store: &dyn Store, ids: &[String]) -> anyhow::Result<()> {
    let mut stored: HashSet<String> = HashSet::new();
    scan_all::<T>(store, 10_000, |page| {
        stored.extend(page.iter().map(|r| r.key()));
        Ok(())
    })
    .await?;
    let lost: Vec<&String> = ids.iter().filter(|id| !stored.contains(*id)).collect();
    if !lost.is_empty() {
        anyhow::bail!(
            "{} acknowledged {} writes lost, e.g. {}",
            lost.len(),
            T::KIND,
            lost[0]
        );
    }
    Ok(())
}

/// The database's own integrity check.
async fn integrity(database: &str, backend: Backend) -> anyhow::Result<()> {
    match backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(database).await?;
            let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_all(&mut conn)
                .await?;
            conn.close().await?;
            if rows != ["ok"] {
                anyhow::bail!("SQLite integrity check: {}", rows.join("; "));
            }
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(database).await?;
            sqlx::query("CREATE EXTENSION IF NOT EXISTS amcheck")
                .execute(&mut conn)
                .await
                .context("amcheck (PostgreSQL contrib) for the index check")?;
            let indexes: Vec<String> = sqlx::query_scalar(
                "SELECT c.oid::regclass::text FROM pg_index i \
                 JOIN pg_class c ON c.oid = i.indexrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_am a ON a.oid = c.relam \
                 WHERE n.nspname = current_schema() AND a.amname = 'btree'",
            )
            .fetch_all(&mut conn)
            .await?;
            for index in &indexes {
                sqlx::query("SELECT bt_index_check($1::regclass, true)")
                    .bind(index)
                    .execute(&mut conn)
                    .await
                    .with_context(|| format!("PostgreSQL index check of {index}"))?;
            }
            conn.close().await?;
        }
    }
    Ok(())
}
