//! `nrmp-bench serve`: the HTTP API under load. Seeds a synthetic register if the database is
//! empty, starts the service in-process on a free port, and runs concurrent HTTP clients doing a
//! mixed workload for a fixed time: 35 % person reads, 35 % incident reads, 20 % filtered lists,
//! 10 % writes (grade changes, sightings, new persons). Prints requests/s and p50/p99 latency by
//! operation (docs/benchmarks.md).
//!
//! Callers sign in as any system does: with API tokens, checked by the accounts service that
//! `nrmp serve` uses. Before the run the benchmark makes sure there is one missing-person
//! coordinator account per police force with incidents (`bench.coordinator.<force>`, e.g.
//! `bench.coordinator.force-kent`, created through the accounts service as `nrmp users add` does,
//! by an administrator of `--as-org`), issues each an API token as `nrmp users token create`
//! does (expiring an hour after the run), and revokes the tokens afterwards. Each read and write
//! is made by the coordinator of the force where the incident happened (an involved
//! organisation, as in real use), lists by that force filtered to its area.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use nrmp_cli::ActorArgs;
use nrmp_cli::commands::users::acting;
use nrmp_cli::commands::{open_migrated, synth};
use nrmp_domain::access::{Principal, Role};
use nrmp_domain::account::TokenId;
use nrmp_domain::clock::Clock;
use nrmp_domain::incident::Incident;
use nrmp_server::accounts::{AccountError, AccountSettings, Accounts, NewUser, UserUpdate};
use nrmp_store::prelude::*;
use nrmp_store::{redact_url, scan_all};
use rand::prelude::*;
use rand::rngs::StdRng;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Arguments of `nrmp-bench serve`.
#[derive(Debug, Args)]
pub struct BenchServeArgs {
    /// Database (`sqlite://…` or `postgres://…`); seeded with a synthetic register if empty.
    #[arg(long)]
    pub database: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 50)]
    pub clients: usize,
    /// How long to run, e.g. `20s` or `2m`.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Persons to generate when the database is empty.
    #[arg(long, default_value_t = 20_000)]
    pub persons: usize,
    /// Seed of the synthetic register and of the workload.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// End of the synthetic history.
    #[arg(long, default_value = "2026-11-01")]
    pub until: NaiveDate,
    /// Who is acting when the register is seeded and the benchmark's coordinators are signed
    /// up, for the audit log (an administrator of this organisation, as for `nrmp users`).
    #[command(flatten)]
    pub actor: ActorArgs,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (n, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| s.split_at(i));
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 20s, 2m)"))?;
    match unit {
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("`{s}` is not a duration (e.g. 20s, 2m)")),
    }
}

/// The benchmark's user name for the coordinator of `force` (`force:kent` →
/// `bench.coordinator.force-kent`).
pub fn coordinator_username(force: &str) -> String {
    format!("bench.coordinator.{}", force.replace(':', "-"))
}

/// The benchmark's coordinators, signed in: an API token per force.
#[derive(Debug, Default)]
pub struct Coordinators {
    /// The token secret of each force's coordinator, by force code.
    pub tokens: BTreeMap<String, String>,
    /// The issued tokens, to revoke when the run is over.
    pub issued: Vec<TokenId>,
    /// Coordinator accounts created by this run (the others existed from an earlier run).
    pub created: usize,
}

/// A random password of 16 lower-case letters and digits in groups of four (about 80 bits);
/// nobody signs in with it, the benchmark uses API tokens.
fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..4)
        .map(|_| {
            (0..4)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Makes sure each of `forces` has a benchmark coordinator account (creating it, or enabling
/// and unlocking it if an earlier run's account was disabled or locked) and issues each an API
/// token expiring at `expires_at`. Everything goes through the accounts service as `admin`, so
/// it is checked by the policy and audited like `nrmp users add` and `nrmp users token create`.
pub async fn sign_in_coordinators(
    accounts: &Accounts,
    admin: &Principal,
    reason: &str,
    forces: &BTreeSet<String>,
    expires_at: DateTime<Utc>,
) -> anyhow::Result<Coordinators> {
    let mut out = Coordinators::default();
    for force in forces {
        let username = coordinator_username(force);
        let account = match accounts.find_user(&username).await {
            Ok(existing) => {
                if existing.disabled || existing.is_locked(accounts.now()) {
                    let update = UserUpdate {
                        disabled: Some(false),
                        unlock: true,
                        ..UserUpdate::default()
                    };
                    accounts
                        .update_user(admin, reason, existing.id, update)
                        .await
                        .with_context(|| format!("enabling {username}"))?;
                }
                existing
            }
            Err(AccountError::NotFound(_)) => {
                let input = NewUser {
                    username: username.clone(),
                    org: force.clone(),
                    roles: vec![Role::MissingPersonCoordinator.as_str().to_owned()],
                    clients: vec![],
                    password: random_password(),
                };
                accounts
                    .add_user(admin, reason, input)
                    .await
                    .with_context(|| format!("adding {username}"))?;
                out.created += 1;
                accounts.find_user(&username).await?
            }
            Err(e) => return Err(e).with_context(|| format!("looking up {username}")),
        };
        let issued = accounts
            .create_token(
                admin,
                reason,
                Some(account.id),
                "nrmp-bench serve",
                &[],
                Some(expires_at),
            )
            .await
            .with_context(|| format!("issuing an API token for {username}"))?;
        out.issued.push(issued.token.id);
        out.tokens
            .insert(force.clone(), issued.secret.expose().to_owned());
    }
    Ok(out)
}

/// Revokes the tokens [`sign_in_coordinators`] issued.
pub async fn revoke_tokens(
    accounts: &Accounts,
    admin: &Principal,
    reason: &str,
    coordinators: &Coordinators,
) -> anyhow::Result<()> {
    for id in &coordinators.issued {
        accounts
            .revoke_token(admin, reason, *id)
            .await
            .with_context(|| format!("revoking token {id}"))?;
    }
    Ok(())
}

/// The accounts service of the benchmark's service: the authenticator `nrmp serve` uses.
pub fn accounts(store: &Arc<dyn Store>, clock: &Arc<dyn Clock>) -> anyhow::Result<Arc<Accounts>> {
    Ok(Arc::new(
        Accounts::new(store.clone(), clock.clone(), AccountSettings::default())
            .context("starting the accounts service")?,
    ))
}

/// Starts the API on a free local port with `accounts` as its authenticator (as `nrmp serve`
/// does). Returns its base URL, a sender that stops it, and the serving task.
pub async fn start(
    database: &str,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    accounts: Arc<Accounts>,
) -> anyhow::Result<Running> {
    let config = nrmp_server::Config {
        bind: "127.0.0.1:0".into(),
        database_url: database.to_owned(),
        ..nrmp_server::Config::default()
    };
    let app = nrmp_server::build(config, store, clock, accounts)
        .await
        .context("starting the service")?;
    let base = format!("http://{}", app.local_addr());
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(async {
        stop_rx.await.ok();
    }));
    Ok(Running { base, stop, server })
}

/// The service of a run.
#[derive(Debug)]
pub struct Running {
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops the service and waits for the requests in flight.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.server.await??;
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    ReadPerson,
    ReadIncident,
    ListIncidents,
    GradeChange,
    Sighting,
    CreatePerson,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::ReadPerson => "GET person",
            Op::ReadIncident => "GET incident",
            Op::ListIncidents => "GET incidents (filtered list)",
            Op::GradeChange => "POST grade change",
            Op::Sighting => "POST sighting",
            Op::CreatePerson => "POST person",
        }
    }

    fn pick(rng: &mut StdRng) -> Op {
        match rng.random_range(0..100) {
            0..35 => Op::ReadPerson,
            35..70 => Op::ReadIncident,
            70..90 => Op::ListIncidents,
            90..95 => Op::GradeChange,
            95..98 => Op::Sighting,
            _ => Op::CreatePerson,
        }
    }
}

/// What the clients pick from: (incident id, person id, force where missing, open).
type Target = (String, String, String, bool);

/// Runs `nrmp-bench serve`.
pub async fn run(args: BenchServeArgs, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    if args.clients == 0 {
        anyhow::bail!("--clients: must be at least 1");
    }
    let store = open_migrated(&args.database).await?;
    if store.counts().await?.persons == 0 {
        println!(
            "seeding {} synthetic persons (seed {}) into {}…",
            args.persons,
            args.seed,
            redact_url(&args.database)
        );
        let generator = synth::generator(args.seed, args.persons, args.until)?;
        let ctx = args.actor.ctx(clock.as_ref())?;
        synth::load_into(store.as_ref(), &ctx, &generator, None, true).await?;
    }
    let mut targets: Vec<Target> = Vec::new();
    scan_all::<Incident>(store.as_ref(), 10_000, |page| {
        targets.extend(page.iter().map(|i| {
            (
                i.id.to_string(),
                i.person_id.to_string(),
                i.force_missing.to_string(),
                i.is_open(),
            )
        }));
        Ok(())
    })
    .await?;
    if targets.is_empty() {
        anyhow::bail!("the register has no incidents to read");
    }
    let open: Vec<Target> = targets.iter().filter(|t| t.3).cloned().collect();
    let counts = store.counts().await?;

    // Sign in: one coordinator per force, each with an API token.
    let accounts = accounts(&store, &clock)?;
    let admin = acting(&accounts, &args.actor).await?;
    let reason = "nrmp-bench serve: benchmark coordinators";
    let forces: BTreeSet<String> = targets.iter().map(|t| t.2.clone()).collect();
    let t = Instant::now();
    let expires_at = clock.now()
        + chrono::Duration::from_std(args.duration).context("--duration: too long")?
        + chrono::Duration::hours(1);
    let coordinators = sign_in_coordinators(&accounts, &admin, reason, &forces, expires_at).await?;
    println!(
        "signed in {} coordinators with API tokens ({} accounts created) in {:.1} s",
        coordinators.tokens.len(),
        coordinators.created,
        t.elapsed().as_secs_f64()
    );

    let clock_now = clock.now();
    let t = Instant::now();
    let service = start(&args.database, store.clone(), clock, accounts.clone()).await?;
    let started = t.elapsed();
    println!(
        "nrmp-bench serve: backend {}, {} persons, {} incidents ({} open); {} clients for {:?}; \
         service started in {:.1} s (matching index included)",
        store.backend().name(),
        counts.persons,
        counts.incidents,
        open.len(),
        args.clients,
        args.duration,
        started.as_secs_f64()
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()?;
    let targets = Arc::new(targets);
    let open = Arc::new(open);
    let tokens = Arc::new(coordinators.tokens.clone());
    let deadline = Instant::now() + args.duration;
    let now = clock_now;
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let work = Work {
            http: http.clone(),
            base: service.base.clone(),
            targets: targets.clone(),
            open: open.clone(),
            tokens: tokens.clone(),
        };
        let seed = args.seed.wrapping_mul(1000).wrapping_add(c as u64);
        tasks.push(tokio::spawn(async move {
            client(work, seed, deadline, now).await
        }));
    }
    let t = Instant::now();
    let mut samples: BTreeMap<Op, Vec<f64>> = BTreeMap::new();
    let mut errors: BTreeMap<Op, u64> = BTreeMap::new();
    for task in tasks {
        let (s, e) = task.await?;
        for (op, v) in s {
            samples.entry(op).or_default().extend(v);
        }
        for (op, n) in e {
            *errors.entry(op).or_default() += n;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    service.stop().await?;
    revoke_tokens(&accounts, &admin, reason, &coordinators).await?;
    let total: usize = samples.values().map(Vec::len).sum();
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "operation", "requests", "req/s", "p50 ms", "p99 ms", "errors"
    );
    let mut all = Vec::new();
    for (op, v) in &mut samples {
        all.extend(v.iter().copied());
        let (p50, p99) = percentiles(v);
        println!(
            "{:<30} {:>9} {:>9.0} {:>9.1} {:>9.1} {:>7}",
            op.name(),
            v.len(),
            v.len() as f64 / secs,
            p50,
            p99,
            errors.get(op).copied().unwrap_or(0)
        );
    }
    let (p50, p99) = percentiles(&mut all);
    println!(
        "{:<30} {:>9} {:>9.0} {:>9.1} {:>9.1} {:>7}",
        "all",
        total,
        total as f64 / secs,
        p50,
        p99,
        errors.values().sum::<u64>()
    );
    Ok(())
}

/// What a client works on: the service, the records to pick from, the coordinators' tokens.
struct Work {
    http: reqwest::Client,
    base: String,
    targets: Arc<Vec<Target>>,
    open: Arc<Vec<Target>>,
    tokens: Arc<BTreeMap<String, String>>,
}

/// `n` written with letters (names may not contain digits): 0 → "A", 27 → "Bb".
pub(crate) fn letters(mut n: u64) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'a' + (n % 26) as u8);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    out[0] = out[0].to_ascii_uppercase();
    String::from_utf8(out).unwrap_or_default()
}

fn percentiles(v: &mut [f64]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99))
}

type Samples = (BTreeMap<Op, Vec<f64>>, BTreeMap<Op, u64>);

async fn client(work: Work, seed: u64, deadline: Instant, now: DateTime<Utc>) -> Samples {
    let Work {
        http,
        base,
        targets,
        open,
        tokens,
    } = work;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut samples: BTreeMap<Op, Vec<f64>> = BTreeMap::new();
    let mut errors: BTreeMap<Op, u64> = BTreeMap::new();
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let mut op = Op::pick(&mut rng);
        if matches!(op, Op::GradeChange | Op::Sighting) && open.is_empty() {
            op = Op::ReadIncident;
        }
        let pool = if matches!(op, Op::GradeChange | Op::Sighting) {
            &open
        } else {
            &targets
        };
        let (incident, person, force, _) = &pool[rng.random_range(0..pool.len())];
        // an unknown force has no token: the request is refused and counted as an error
        let token = tokens.get(force).map_or("", String::as_str);
        let req = match op {
            Op::ReadPerson => http.get(format!("{base}/api/v1/persons/{person}")),
            Op::ReadIncident => http.get(format!("{base}/api/v1/incidents/{incident}")),
            Op::ListIncidents => http
                .get(format!(
                    "{base}/api/v1/incidents?force={force}&open=true&limit=50"
                ))
                .header("X-NRMP-Reason", "benchmark: daily review of open cases"),
            Op::GradeChange => {
                let grade = ["low", "medium", "high"][rng.random_range(0..3)];
                http
                .post(format!("{base}/api/v1/incidents/{incident}/risk"))
                .json(&serde_json::json!({
                    "grade": grade,
                    "rationale": "benchmark review"
                }))
            }
            Op::Sighting => http
                .post(format!("{base}/api/v1/incidents/{incident}/sightings"))
                .json(&serde_json::json!({
                    "at": now,
                    "place": {"description": "benchmark sighting", "authority": null, "force": force},
                    "details": "seen by a benchmark client"
                })),
            Op::CreatePerson => http.post(format!("{base}/api/v1/persons")).json(&serde_json::json!({
                "names": [{"kind": "primary", "given": "Bench", "family": letters(seed * 1_000_000 + n),
                           "original": null, "order_unknown": false}],
                "sex": "unknown",
            })),
        };
        let t = Instant::now();
        let ok = match req.bearer_auth(token).send().await {
            Ok(res) => {
                let ok = res.status().is_success();
                let _ = res.bytes().await;
                ok
            }
            Err(_) => false,
        };
        samples
            .entry(op)
            .or_default()
            .push(t.elapsed().as_secs_f64() * 1e3);
        if !ok {
            *errors.entry(op).or_default() += 1;
        }
    }
    (samples, errors)
}
