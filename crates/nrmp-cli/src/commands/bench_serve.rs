//! `nrmp bench serve`: the HTTP API under load. Seeds a synthetic register if the database is
//! empty, starts the service in-process on a free port, and runs concurrent HTTP clients doing a
//! mixed workload for a fixed time: 35 % person reads, 35 % incident reads, 20 % filtered lists,
//! 10 % writes (grade changes, sightings, new persons). Prints requests/s and p50/p99 latency by
//! operation (docs/benchmarks.md).
//!
//! Callers sign in with benchmark tokens `coordinator@<force>`: a missing-person coordinator of
//! that force. Each read and write is made by the coordinator of the force where the incident
//! happened (an involved organisation, as in real use), lists by that force filtered to its area.

use crate::ActorArgs;
use anyhow::Context;
use async_trait::async_trait;
use chrono::NaiveDate;
use clap::Args;
use nrmp_domain::access::{Principal, Role};
use nrmp_domain::clock::Clock;
use nrmp_domain::incident::Incident;
use nrmp_domain::organisation::{OrgCode, OrgKind};
use nrmp_server::auth::{AuthError, Authenticator};
use nrmp_store::{redact_url, scan_all};
use rand::prelude::*;
use rand::rngs::StdRng;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Arguments of `nrmp bench serve`.
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
    /// Who is acting when the register is seeded, for the audit log.
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

/// Benchmark sign-in: `coordinator@force:kent` is a coordinator of Kent Police.
#[derive(Debug, Clone, Copy)]
struct BenchTokens;

#[async_trait]
impl Authenticator for BenchTokens {
    async fn authenticate(&self, credential: &str) -> Result<Principal, AuthError> {
        let org = credential
            .strip_prefix("coordinator@")
            .and_then(|o| OrgCode::parse("org", o).ok())
            .ok_or(AuthError::Invalid)?;
        Principal::new(
            "bench-coordinator",
            org,
            OrgKind::PoliceForce,
            vec![Role::MissingPersonCoordinator],
            vec![],
        )
        .map_err(|_| AuthError::Invalid)
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

/// Runs `nrmp bench serve`.
pub async fn run(args: BenchServeArgs, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    if args.clients == 0 {
        anyhow::bail!("--clients: must be at least 1");
    }
    let store = super::open_migrated(&args.database).await?;
    if store.counts().await?.persons == 0 {
        println!(
            "seeding {} synthetic persons (seed {}) into {}…",
            args.persons,
            args.seed,
            redact_url(&args.database)
        );
        let generator = super::synth::generator(args.seed, args.persons, args.until)?;
        let ctx = args.actor.ctx(clock.as_ref())?;
        super::synth::load_into(store.as_ref(), &ctx, &generator, None, true).await?;
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
    let config = nrmp_server::Config {
        bind: "127.0.0.1:0".into(),
        database_url: args.database.clone(),
        ..nrmp_server::Config::default()
    };
    let clock_now = clock.now();
    let t = Instant::now();
    let app = nrmp_server::build(config, store.clone(), clock, Arc::new(BenchTokens))
        .await
        .context("starting the service")?;
    let started = t.elapsed();
    let base = format!("http://{}", app.local_addr());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(async {
        stop_rx.await.ok();
    }));
    println!(
        "nrmp bench serve: backend {}, {} persons, {} incidents ({} open); {} clients for {:?}; \
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
    let deadline = Instant::now() + args.duration;
    let now = clock_now;
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let (http, base, targets, open) =
            (http.clone(), base.clone(), targets.clone(), open.clone());
        let seed = args.seed.wrapping_mul(1000).wrapping_add(c as u64);
        tasks.push(tokio::spawn(async move {
            client(http, base, targets, open, seed, deadline, now).await
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
    let _ = stop_tx.send(());
    server.await??;
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

/// `n` written with letters (names may not contain digits): 0 → "A", 27 → "Bb".
fn letters(mut n: u64) -> String {
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

async fn client(
    http: reqwest::Client,
    base: String,
    targets: Arc<Vec<Target>>,
    open: Arc<Vec<Target>>,
    seed: u64,
    deadline: Instant,
    now: chrono::DateTime<chrono::Utc>,
) -> Samples {
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
        let token = format!("coordinator@{force}");
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
        let ok = match req.bearer_auth(&token).send().await {
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
