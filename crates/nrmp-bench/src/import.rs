//! `nrmp-bench import`: `nrmp synth --out` and `nrmp import` of a synthetic population, timed
//! one after the other, with the database size they leave (see docs/benchmarks.md).

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use nrmp_cli::ActorArgs;
use nrmp_cli::commands::{FormatArg, open_migrated, synth};
use nrmp_cli::import::{Options, import_dataset};
use nrmp_domain::clock::Clock;
use nrmp_interchange::DatasetFiles;
use nrmp_store::redact_url;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `nrmp-bench import`.
#[derive(Debug, Args)]
pub struct BenchImportArgs {
    /// True persons to generate.
    #[arg(long, default_value_t = 100_000)]
    pub persons: usize,
    /// Empty database to import into (`sqlite://…` or `postgres://…`).
    #[arg(long)]
    pub database: String,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// End of the synthetic history (fixed so runs are comparable).
    #[arg(long, default_value = "2026-11-01")]
    pub until: NaiveDate,
    /// Where to write the dataset (default: a temporary directory, removed afterwards).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Format of the dataset.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: FormatArg,
    /// Who is acting, for the audit log.
    #[command(flatten)]
    pub actor: ActorArgs,
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|it| {
            it.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Runs `nrmp-bench import`.
pub async fn run(args: BenchImportArgs, clock: &dyn Clock) -> anyhow::Result<()> {
    let store = open_migrated(&args.database).await?;
    if store.counts().await?.persons > 0 {
        anyhow::bail!(
            "--database: {} already holds persons; the benchmark needs an empty register",
            redact_url(&args.database)
        );
    }
    let tmp;
    let dir = match &args.work_dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile_dir()?;
            tmp.join("dataset")
        }
    };
    println!(
        "nrmp-bench import: {} persons, seed {}, backend {}",
        args.persons,
        args.seed,
        store.backend().name()
    );
    let generator = synth::generator(args.seed, args.persons, args.until)?;
    let t = Instant::now();
    let synth = synth::write_dataset(&generator, &dir, args.format.into(), true)?;
    let synth_secs = t.elapsed().as_secs_f64();
    println!(
        "synth --out:  {synth} in {synth_secs:.1} s ({:.0} persons/s, {:.0} records/s), {:.0} MiB of files",
        synth.persons as f64 / synth_secs,
        synth.records() as f64 / synth_secs,
        dir_size(&dir) as f64 / 1048576.0
    );
    let files = DatasetFiles::open(&dir)?;
    let ctx = args.actor.ctx(clock)?;
    let t = Instant::now();
    let report = import_dataset(
        store.as_ref(),
        &ctx,
        &files,
        args.until,
        Options {
            skip_invalid: false,
            batch: 2_000,
            progress: Some(std::sync::Arc::new(nrmp_cli::progress::Spinners::default())),
        },
    )
    .await?;
    let import_secs = t.elapsed().as_secs_f64();
    if !report.committed {
        anyhow::bail!(
            "the generated dataset was refused: {} bad rows",
            report.rejected_rows
        );
    }
    let loaded = report.total_loaded();
    let persons = report.loaded.get("persons").copied().unwrap_or(0);
    println!(
        "import:       {loaded} records in {import_secs:.1} s ({:.0} records/s, {:.0} persons/s)",
        loaded as f64 / import_secs,
        persons as f64 / import_secs
    );
    let size = store.size_bytes().await?;
    println!(
        "database:     {:.0} MiB on disk ({:.0} bytes per record)",
        size as f64 / 1048576.0,
        size as f64 / loaded.max(1) as f64
    );
    if args.work_dir.is_none() {
        std::fs::remove_dir_all(&dir).ok();
    }
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("nrmp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
