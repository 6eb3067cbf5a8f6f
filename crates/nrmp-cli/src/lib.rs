//! # nrmp-cli
//!
//! The `nrmp` command. Each subcommand lives in [`commands`]; application services that more
//! than one entry point needs (the importer) live beside them. The binary itself is a thin
//! `main.rs` that parses arguments, sets up logging and prints a one-line error on failure.
#![deny(missing_docs)]

pub mod commands;
pub mod import;
pub mod invocation;
pub mod progress;

use clap::{Args, Parser, Subcommand};
use nrmp_domain::access::Principal;
use nrmp_domain::account::Username;
use nrmp_domain::audit::Actor;
use nrmp_domain::clock::{Clock, SystemClock};
use nrmp_domain::organisation::OrgCode;
use nrmp_store::Ctx;

/// The default database: a SQLite file in the default data directory.
pub const DEFAULT_DATABASE: &str = "sqlite://nrmp-data/nrmp.db";

/// nrmp — the National Register of Missing Persons.
///
/// Records missing incidents, connects one person's records across forces and local
/// authorities, and gives the national picture. Start with `nrmp demo`.
#[derive(Debug, Parser)]
#[command(name = "nrmp", version, propagate_version = true)]
pub struct Cli {
    /// More log output (-v: debug, -vv: trace). `RUST_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a demo register (SQLite, synthetic data) and show what is in it.
    Demo(commands::demo::DemoArgs),
    /// Serve the register over HTTP: the web UI at / (docs/ui.md) and the JSON API under /api/v1 (docs/api.md).
    Serve(commands::serve::ServeArgs),
    /// Apply database migrations.
    Migrate(commands::migrate::MigrateArgs),
    /// Generate a synthetic population (no real personal data) into files or a database.
    Synth(commands::synth::SynthArgs),
    /// Load a dataset directory (CSV / JSON lines, as written by `synth --out` or `export`).
    Import(commands::import::ImportArgs),
    /// Write the register to a dataset directory (CSV or JSON lines).
    Export(commands::export::ExportArgs),
    /// Back up the whole register online (a consistent copy and its manifest).
    Backup(commands::backup::BackupArgs),
    /// Restore a backup into an empty database, refusing one whose audit chain does not verify.
    Restore(commands::backup::RestoreArgs),
    /// Look a person up in the register (encounter check): ranked, explained candidates.
    Match(commands::matching::MatchArgs),
    /// Find duplicate person records in any CSV file; write scored pairs and clusters.
    Dedup(commands::matching::DedupCommand),
    /// Link the person records of two CSV files; write scored pairs and clusters.
    Link(commands::matching::LinkArgs),
    /// Train the matching model (u from random pairs, m by EM) and write it as JSON.
    Train(commands::matching::TrainArgs),
    /// National statistics: tables with denominators, CIs and disclosure control; trends;
    /// time to missing; official formats.
    #[command(subcommand)]
    Stats(commands::stats::StatsCommand),
    /// User accounts: add, disable, enable, reset, list; API tokens.
    #[command(subcommand)]
    Users(commands::users::UsersCommand),
    /// The audit log: verify its hash chain; export who has seen a person's records.
    #[command(subcommand)]
    Audit(commands::audit::AuditCommand),
    /// Retention reviews: what is due; keep (with a reason and next review) or erase.
    #[command(subcommand)]
    Retention(commands::audit::RetentionCommand),
}

/// Where the register is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArg {
    /// Database URL: `sqlite://PATH` (embedded) or `postgres://USER@HOST:PORT/DB`.
    #[arg(long, env = "NRMP_DATABASE_URL", default_value = DEFAULT_DATABASE)]
    pub database: String,
}

/// The organisation `--as-org` defaults to.
pub const DEFAULT_ORG: &str = "national:nmpu";

/// Who is acting, for the audit log.
#[derive(Debug, Clone, Args)]
pub struct ActorArgs {
    /// User name recorded in the audit log.
    #[arg(long = "as-user", env = "NRMP_USER", default_value = "nrmp-cli")]
    pub user: String,
    /// Organisation the user acts for (its code).
    #[arg(long = "as-org", env = "NRMP_ORG", default_value = DEFAULT_ORG)]
    pub org: String,
    /// Reason recorded in the audit log.
    #[arg(long, default_value = "command-line administration")]
    pub reason: String,
}

impl ActorArgs {
    /// The audit context for an action now.
    pub fn ctx(&self, clock: &dyn Clock) -> anyhow::Result<Ctx> {
        let org = OrgCode::parse("--as-org", &self.org)?;
        if self.user.trim().is_empty() {
            anyhow::bail!("--as-user: is empty");
        }
        Ok(Ctx::new(
            Actor::new(self.user.clone(), org),
            self.reason.clone(),
            clock.now(),
        ))
    }
}

impl ActorArgs {
    /// The register user `--as-user` names, as the principal the need-to-know policy decides
    /// for: commands that disclose personal data act as a real account, with its organisation
    /// and roles, exactly as that user would through the API. `--as-org`, if given other than
    /// its default, must be the account's organisation.
    pub async fn principal(&self, store: &dyn nrmp_store::Store) -> anyhow::Result<Principal> {
        let name = Username::parse("--as-user", &self.user)?;
        let Some(account) = store.user_by_name(&name).await? else {
            anyhow::bail!(
                "--as-user: `{name}` is not a user of the register; this command answers only \
                 what a register user may see (add one with `nrmp users add`)"
            );
        };
        if account.disabled {
            anyhow::bail!("--as-user: `{name}` is disabled");
        }
        if self.org != DEFAULT_ORG && OrgCode::parse("--as-org", &self.org)? != account.org {
            anyhow::bail!(
                "--as-org: `{}` is not the organisation of `{name}` ({})",
                self.org,
                account.org
            );
        }
        Ok(account.principal()?)
    }
}

/// Sets up structured logging to stderr (`RUST_LOG` overrides the level from `-v`).
pub fn init_tracing(verbose: u8) {
    let level = match verbose {
        // sqlx reports big batched inserts as "slow statements" at WARN; that is expected here.
        0 => "warn,sqlx=error,nrmp_cli=info,nrmp_store=info",
        1 => "debug,sqlx=error",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Colour codes only on a terminal: a log file or a pipe gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}

/// An error and its causes on one line.
pub fn one_line(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string().replace('\n', "; "))
        .collect::<Vec<_>>()
        .join(": ")
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let shared: std::sync::Arc<dyn Clock> = std::sync::Arc::new(SystemClock);
    let clock = SystemClock;
    runtime.block_on(async {
        match cli.command {
            Command::Demo(a) => commands::demo::run(a, shared).await,
            Command::Serve(a) => commands::serve::run(a, shared).await,
            Command::Migrate(a) => commands::migrate::run(a).await,
            Command::Synth(a) => commands::synth::run(a, &clock).await,
            Command::Import(a) => commands::import::run(a, &clock).await,
            Command::Export(a) => commands::export::run(a, &clock).await,
            Command::Backup(a) => commands::backup::run_backup(a, &clock).await,
            Command::Restore(a) => commands::backup::run_restore(a).await,
            Command::Match(a) => commands::matching::run_match(a, shared.clone()).await,
            Command::Dedup(a) => commands::matching::run_dedup(a),
            Command::Link(a) => commands::matching::run_link(a),
            Command::Train(a) => commands::matching::run_train(a).await,
            Command::Stats(s) => commands::stats::run(s, &clock).await,
            Command::Users(u) => commands::users::run(u, shared).await,
            Command::Audit(c) => commands::audit::run_audit(c, &clock).await,
            Command::Retention(c) => commands::audit::run_retention(c, &clock).await,
        }
    })
}
