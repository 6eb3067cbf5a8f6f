//! # nrmp-bench
//!
//! The `nrmp-bench` command: nrmp's benchmarks and the identity-matching evaluation. Each one
//! builds or fills a synthetic register (never real personal data), measures, and prints
//! figures (recorded with their commands in docs/benchmarks.md). It is a separate binary so
//! that none of this ships in `nrmp`: `cargo install --path crates/nrmp-cli` installs `nrmp`
//! only, and this crate is not published. It drives the product through its libraries
//! (`nrmp_cli`'s importer, generator loading and statistics; the server; the store).
#![deny(missing_docs)]

pub mod accuracy;
pub mod audit;
pub mod crash;
pub mod import;
pub mod serve;
pub mod speed;
pub mod stats;

use clap::{Parser, Subcommand};
use nrmp_domain::clock::{Clock, SystemClock};
use std::sync::Arc;

/// nrmp-bench — measure nrmp and print the figures (see docs/benchmarks.md).
///
/// Every benchmark runs on a synthetic population (no real personal data). Not part of the
/// product: not installed with `nrmp`.
#[derive(Debug, Parser)]
#[command(name = "nrmp-bench", version, propagate_version = true)]
pub struct Cli {
    /// More log output (-v: debug, -vv: trace). `RUST_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Which benchmark.
    #[command(subcommand)]
    pub command: Command,
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Time `nrmp synth --out` and `nrmp import` of a synthetic population; print rates and
    /// database size.
    Import(import::BenchImportArgs),
    /// The national picture (`nrmp stats` standard tables): snapshot load and compute times.
    Stats(stats::BenchStatsArgs),
    /// Identity-matching lookup: index build time, p50/p99 latency, throughput, memory.
    Match(speed::SpeedArgs),
    /// Identity-matching accuracy on synthetic truth: recall@k, dedup precision/recall/F1.
    MatchAccuracy(accuracy::AccuracyArgs),
    /// Batch dedup of a large synthetic CSV, end to end, with peak memory.
    Dedup(speed::DedupBenchArgs),
    /// The audit log: hash-chained appends from concurrent writers, then a full verify.
    Audit(audit::BenchAuditArgs),
    /// The HTTP API under a mixed read/write workload of concurrent clients signed in with API
    /// tokens: requests/s and p50/p99 latency by operation.
    Serve(serve::BenchServeArgs),
    /// Crash safety: `nrmp serve` under concurrent writes, killed with SIGKILL at random
    /// moments and restarted; every acknowledged write, the database's integrity and the audit
    /// chain are checked after each kill.
    Crash(crash::CrashArgs),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let shared: Arc<dyn Clock> = Arc::new(SystemClock);
    let clock = shared.as_ref();
    runtime.block_on(async {
        match cli.command {
            Command::Serve(a) => serve::run(a, shared.clone()).await,
            Command::Import(a) => import::run(a, clock).await,
            Command::Stats(a) => stats::run(a, clock).await,
            Command::Match(a) => speed::run_speed(a),
            Command::MatchAccuracy(a) => accuracy::run_accuracy(a),
            Command::Dedup(a) => speed::run_dedup_bench(a),
            Command::Audit(a) => audit::bench_audit(a, clock).await,
            Command::Crash(a) => crash::run(a, shared.clone()).await,
        }
    })
}
