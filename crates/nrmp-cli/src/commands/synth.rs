//! `nrmp synth`: generates a synthetic population (no real personal data) calibrated to the
//! published figures, into a dataset directory or straight into a database.

use crate::{ActorArgs, progress};
use anyhow::Context;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use clap::Args;
use nrmp_domain::clock::Clock;
use nrmp_interchange::{DatasetWriter, TruthRow};
use nrmp_store::redact_url;
use nrmp_synth::{Config, Generated, Generator};
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `nrmp synth`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["database", "out"])))]
pub struct SynthArgs {
    /// Seed: the same seed, size and --until give the same population.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of true persons (deliberate duplicate records come on top).
    #[arg(long, default_value_t = 10_000)]
    pub persons: usize,
    /// Load into this database (`sqlite://…` or `postgres://…`).
    #[arg(long)]
    pub database: Option<String>,
    /// Write a dataset directory (see docs/formats.md).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// File format with --out.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: super::FormatArg,
    /// With --database: also write the truth (which records are the same person) here.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// The population's "now": history ends at the start of this day (default: today).
    #[arg(long)]
    pub until: Option<NaiveDate>,
    /// Who is acting, for the audit log.
    #[command(flatten)]
    pub actor: ActorArgs,
}

/// What a generation run produced.
#[derive(Debug, Default, Clone, Copy)]
pub struct SynthSummary {
    /// Person records (with duplicates).
    pub persons: u64,
    /// Incidents.
    pub incidents: u64,
    /// NRM referrals.
    pub referrals: u64,
    /// Placements.
    pub placements: u64,
    /// Organisations.
    pub organisations: u64,
}

impl SynthSummary {
    fn add(&mut self, g: &Generated) {
        self.persons += g.persons.len() as u64;
        self.incidents += g.incidents.len() as u64;
        self.referrals += g.referrals.len() as u64;
        self.placements += g.placements.len() as u64;
    }

    /// Every record written.
    pub fn records(&self) -> u64 {
        self.persons + self.incidents + self.referrals + self.placements + self.organisations
    }
}

impl std::fmt::Display for SynthSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} person records, {} incidents, {} NRM referrals, {} placements, {} organisations",
            self.persons, self.incidents, self.referrals, self.placements, self.organisations
        )
    }
}

/// The generator for `seed` and `persons`, with history ending at the start of `until`.
pub fn generator(seed: u64, persons: usize, until: NaiveDate) -> anyhow::Result<Generator> {
    let end: DateTime<Utc> = until.and_time(NaiveTime::MIN).and_utc();
    Generator::new(Config::new(seed, persons, end)).context("setting up the generator")
}

const CHUNK: usize = 2_000;

/// The truth rows of a generated chunk: each person record with its true person's key.
fn truth_rows(chunk: &Generated) -> impl Iterator<Item = TruthRow> + '_ {
    chunk.truth.iter().map(|(record_id, key)| TruthRow {
        record_id: *record_id,
        person_key: key.to_string(),
    })
}

/// Writes a generated population to a dataset directory.
pub fn write_dataset(
    generator: &Generator,
    out: &std::path::Path,
    format: nrmp_interchange::Format,
    show_progress: bool,
) -> anyhow::Result<SynthSummary> {
    let mut w = DatasetWriter::create(out, format)?;
    let mut summary = SynthSummary::default();
    for o in generator.organisations() {
        w.write_organisation(&o)?;
        summary.organisations += 1;
    }
    let pb = progress_for(generator, show_progress);
    for chunk in generator.chunks(CHUNK) {
        for p in &chunk.persons {
            w.write_person(p)?;
        }
        for i in &chunk.incidents {
            w.write_incident(i)?;
        }
        for r in &chunk.referrals {
            w.write_referral(r)?;
        }
        for p in &chunk.placements {
            w.write_placement(p)?;
        }
        for row in truth_rows(&chunk) {
            w.write_truth(&row)?;
        }
        summary.add(&chunk);
        pb.inc(chunk.people.len() as u64);
    }
    pb.finish_and_clear();
    w.finish()?;
    Ok(summary)
}

fn progress_for(generator: &Generator, show: bool) -> indicatif::ProgressBar {
    if show {
        progress::bar(generator.config().persons as u64, "persons")
    } else {
        indicatif::ProgressBar::hidden()
    }
}

/// Loads a generated population straight into a store, in one transaction, then its synthetic
/// spend-per-child table; writes the truth to `truth` if given.
pub async fn load_into(
    store: &dyn nrmp_store::Store,
    ctx: &nrmp_store::Ctx,
    generator: &Generator,
    truth: Option<&std::path::Path>,
    show_progress: bool,
) -> anyhow::Result<SynthSummary> {
    let mut truth_writer = match truth {
        Some(path) => Some(nrmp_interchange::CsvWriter::<TruthRow, _>::new(
            std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("creating {}", path.display()))?,
            ),
        )?),
        None => None,
    };
    let mut session = store.begin_import(ctx).await?;
    let orgs = generator.organisations();
    session.organisations(&orgs).await?;
    let mut summary = SynthSummary {
        organisations: orgs.len() as u64,
        ..SynthSummary::default()
    };
    let pb = progress_for(generator, show_progress);
    for chunk in generator.chunks(CHUNK) {
        session.persons(&chunk.persons).await?;
        session.incidents(&chunk.incidents).await?;
        session.referrals(&chunk.referrals).await?;
        session.placements(&chunk.placements).await?;
        if let Some(w) = truth_writer.as_mut() {
            for row in truth_rows(&chunk) {
                w.write(&row)?;
            }
        }
        summary.add(&chunk);
        pb.inc(chunk.people.len() as u64);
    }
    pb.finish_and_clear();
    let config = generator.config();
    session
        .commit(&format!(
            "synthetic population: seed {}, {} persons",
            config.seed, config.persons
        ))
        .await?;
    // Synthetic children's-services spend per child, so that the spend model and the Cox
    // spend covariate work on a synthetic register too.
    store.replace_spend(ctx, &generator.spend()).await?;
    if let Some(w) = truth_writer {
        w.finish()?;
    }
    Ok(summary)
}

/// Runs `nrmp synth`.
pub async fn run(args: SynthArgs, clock: &dyn Clock) -> anyhow::Result<()> {
    let until = args.until.unwrap_or_else(|| clock.now().date_naive());
    let generator = generator(args.seed, args.persons, until)?;
    let started = Instant::now();
    let summary = match (&args.database, &args.out) {
        (Some(url), _) => {
            let store = super::open_migrated(url).await?;
            let ctx = args.actor.ctx(clock)?;
            let s = load_into(
                store.as_ref(),
                &ctx,
                &generator,
                args.truth.as_deref(),
                true,
            )
            .await
            .with_context(|| format!("loading into {}", redact_url(url)))?;
            println!("loaded into {}: {s}", redact_url(url));
            s
        }
        (None, Some(out)) => {
            let s = write_dataset(&generator, out, args.format.into(), true)?;
            println!("wrote {}: {s}", out.display());
            s
        }
        (None, None) => anyhow::bail!("give --database URL or --out DIR"),
    };
    let secs = started.elapsed().as_secs_f64();
    println!(
        "seed {}, until {until}: {} records in {secs:.1} s ({:.0} records/s)",
        args.seed,
        summary.records(),
        summary.records() as f64 / secs.max(1e-9)
    );
    Ok(())
}
