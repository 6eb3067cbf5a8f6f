//! `nrmp import`: loads a dataset directory into the register — the application layer's
//! [`nrmp_app::Register::import_dataset`], as the register user `--as-user` with a `--reason`
//! (the policy lets only the national unit's administrators load a dataset; the import, or a
//! refusal, is audited).

use crate::import::Options;
use crate::{ActorArgs, DatabaseArg, use_case_error};
use anyhow::Context;
use clap::Args;
use nrmp_domain::clock::Clock;
use nrmp_interchange::DatasetFiles;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Arguments of `nrmp import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Dataset directory holding `persons.csv`, `incidents.csv`… (or `.jsonl`).
    pub dir: PathBuf,
    /// The register.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Load the good rows and write the bad ones, with reasons, to --rejects; without it one
    /// bad row means nothing is loaded.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Where --skip-invalid writes rejected rows (`file:line: field: problem`).
    #[arg(long, default_value = "rejects.txt")]
    pub rejects: PathBuf,
    /// Rows per database batch.
    #[arg(long, default_value_t = 2_000)]
    pub batch: usize,
    /// The register user who loads the dataset, and why (`--reason` is required).
    #[command(flatten)]
    pub actor: ActorArgs,
}

/// Runs `nrmp import`.
pub async fn run(args: ImportArgs, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    if args.batch == 0 {
        anyhow::bail!("--batch: must be at least 1");
    }
    let files = DatasetFiles::open(&args.dir)?;
    let store = super::open_migrated(&args.db.database).await?;
    let principal = args.actor.principal(store.as_ref()).await?;
    let register = crate::register(store, clock);
    let started = Instant::now();
    let opts = Options {
        skip_invalid: args.skip_invalid,
        batch: args.batch,
        progress: Some(Arc::new(crate::progress::Spinners::default())),
    };
    let report = register
        .import_dataset(&principal, args.actor.stated_reason(), &files, opts)
        .await
        .map_err(|e| use_case_error(e, &principal))?;
    for note in &report.ignored {
        println!("ignored {note}");
    }
    if !report.committed {
        let mut err = std::io::stderr().lock();
        for e in &report.rejected {
            writeln!(err, "{e}")?;
        }
        anyhow::bail!(
            "import refused: {} bad rows (listed above); the register is unchanged",
            report.rejected_rows
        );
    }
    let secs = started.elapsed().as_secs_f64();
    for (stem, n) in &report.loaded {
        println!("{stem:>14}: {n}");
    }
    println!(
        "loaded {} records in {secs:.1} s ({:.0} records/s)",
        report.total_loaded(),
        report.total_loaded() as f64 / secs.max(1e-9)
    );
    if report.rejected_rows > 0 {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(&args.rejects)
                .with_context(|| format!("creating {}", args.rejects.display()))?,
        );
        for e in &report.rejected {
            writeln!(f, "{e}")?;
        }
        f.flush()?;
        println!(
            "skipped {} bad rows; reasons in {}",
            report.rejected_rows,
            args.rejects.display()
        );
    }
    Ok(())
}
