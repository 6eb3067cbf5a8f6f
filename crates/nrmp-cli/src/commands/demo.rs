//! `nrmp demo`: a ready-to-explore register — a SQLite database in a data directory, filled
//! with a synthetic population on first run — a summary of what is in it, and then the register
//! served on 127.0.0.1:8080 (as `nrmp serve` does) with the demo sign-ins printed for each role.
//! `--no-serve` stops after the summary.

use crate::ActorArgs;
use clap::Args;
use nrmp_domain::clock::Clock;
use nrmp_domain::flags::{FlagRules, History, RiskFlag, incident_flags};
use nrmp_domain::incident::{Incident, RiskGrade};
use nrmp_store::prelude::*;
use nrmp_store::scan_all;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `nrmp demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the demo register lives.
    #[arg(long, default_value = "nrmp-data")]
    pub data_dir: PathBuf,
    /// True persons to generate on first run.
    #[arg(long, default_value_t = 20_000)]
    pub persons: usize,
    /// Seed for the synthetic population.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Only create the register and print the summary; do not serve it.
    #[arg(long)]
    pub no_serve: bool,
    /// Address to serve the demo on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Who is acting, for the audit log.
    #[command(flatten)]
    pub actor: ActorArgs,
}

/// Runs `nrmp demo`.
pub async fn run(args: DemoArgs, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let url = prepare(&args, clock.as_ref()).await?;
    if args.no_serve {
        return Ok(());
    }
    let config = nrmp_server::Config {
        bind: args.bind.clone(),
        database_url: url,
        ..nrmp_server::Config::default()
    };
    config.check()?;
    let store = super::open_migrated(&config.database_url).await?;
    let sign_in = demo_sign_ins(&store, &clock, &config).await?;
    super::serve::serve(config, store, clock, sign_in).await
}

/// The demo's sign-in: `nrmp serve`'s accounts, with one demo user per role created (or reset)
/// and their sign-ins printed once the demo listens.
pub async fn demo_sign_ins(
    store: &Arc<dyn nrmp_store::Store>,
    clock: &Arc<dyn Clock>,
    config: &nrmp_server::Config,
) -> anyhow::Result<super::serve::SignIn> {
    let database = config.database_url.as_str();
    let mut sign_in = super::serve::sign_in(store, clock, config)?;
    let demo = super::users::demo_accounts(store.clone(), clock.clone()).await?;
    sign_in.banner = super::users::format_demo_sign_ins(&demo, database)
        .lines()
        .map(str::to_owned)
        .collect();
    Ok(sign_in)
}

/// Creates (on first run) and summarises the demo register; returns its URL.
async fn prepare(args: &DemoArgs, clock: &dyn Clock) -> anyhow::Result<String> {
    std::fs::create_dir_all(&args.data_dir)?;
    let url = format!("sqlite://{}", args.data_dir.join("nrmp.db").display());
    let store = super::open_migrated(&url).await?;
    if store.counts().await?.persons == 0 {
        let today = clock.now().date_naive();
        println!(
            "first run: generating a synthetic population ({} persons, seed {})…",
            args.persons, args.seed
        );
        let generator = super::synth::generator(args.seed, args.persons, today)?;
        let truth = args.data_dir.join("truth.csv");
        let ctx = args.actor.ctx(clock)?;
        let s =
            super::synth::load_into(store.as_ref(), &ctx, &generator, Some(&truth), true).await?;
        println!("loaded {s}");
    }
    print_summary(store.as_ref(), &url, clock).await?;
    Ok(url)
}

async fn print_summary(store: &dyn Store, url: &str, clock: &dyn Clock) -> anyhow::Result<()> {
    let c = store.counts().await?;
    println!("nrmp demo register: {url}");
    println!("  organisations   {:>9}", c.organisations);
    println!(
        "  persons         {:>9}  (some people deliberately recorded more than once, as different \
         agencies would: duplicates for matching to find; truth.csv says which records are one person)",
        c.persons
    );
    println!(
        "  incidents       {:>9}  ({} open)",
        c.incidents, c.open_incidents
    );
    println!("  NRM referrals   {:>9}", c.referrals);
    println!("  placements      {:>9}", c.placements);
    println!("  audit events    {:>9}", c.audit_events);
    let now = clock.now();
    let mut open_by_grade: BTreeMap<RiskGrade, u64> = BTreeMap::new();
    let mut long_open = 0u64;
    scan_all::<Incident>(store, 10_000, |page| {
        for i in page.iter().filter(|i| i.is_open()) {
            *open_by_grade.entry(i.risk()).or_default() += 1;
            let history = History {
                incidents: std::slice::from_ref(i),
                referrals: &[],
                placements: &[],
            };
            if incident_flags(i, history, now, FlagRules::default())
                .iter()
                .any(|f| matches!(f, RiskFlag::OpenLongerThan { .. }))
            {
                long_open += 1;
            }
        }
        Ok(())
    })
    .await?;
    println!("  open incidents by risk grade:");
    for (grade, n) in open_by_grade.iter().rev() {
        println!("    {:<17}{n:>9}", grade.as_str());
    }
    println!("  open for more than 7 days: {long_open}");
    println!();
    println!(
        "Try: {} export --database {url} --out /tmp/nrmp-export --recipient demo --as-user demo.national-analyst",
        crate::invocation::program()
    );
    Ok(())
}
