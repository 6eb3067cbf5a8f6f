//! Identity matching commands: `nrmp match` (encounter lookup against the register),
//! `nrmp dedup` / `nrmp link` (batch, on any CSV of person records) and `nrmp train`
//! (fit a model). The matching benchmarks are in the separate `nrmp-bench` binary.
//!
//! The matching itself is the pure crate `nrmp_match`; this module reads the
//! register or CSV files, writes the results and audits lookups. See
//! docs/matching.md.

pub mod input;

use crate::{ActorArgs, DatabaseArg};
use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::Args;
use nrmp_app::encounters::EncounterInput;
use nrmp_app::{AppError, Limits, MatchIndex, Register};
use nrmp_domain::clock::Clock;
use nrmp_domain::identifier::{Identifier, IdentifierKind};
use nrmp_domain::ids::RandomIds;
use nrmp_domain::person::{Nationality, Person, Sex};
use nrmp_match::domain::match_record;
use nrmp_match::{BatchConfig, BatchResult, ClusterAssignment, Model, TrainConfig};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

pub use input::{BadValueArgs, MappingArgs};

/// The default `--threshold` of `dedup` and `link` (as [`BatchConfig::default`]).
pub const DEFAULT_THRESHOLD: f64 = 0.3;

/// The reason `ActorArgs` records when none is given; a lookup must state its own.
const DEFAULT_REASON: &str = "command-line administration";

/// Loads `--model FILE`, or the shipped trained model.
pub fn load_model(path: Option<&Path>) -> anyhow::Result<Model> {
    match path {
        None => Ok(Model::default_trained()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("--model: reading {}", p.display()))?;
            Model::from_json(&text).with_context(|| format!("--model: {}", p.display()))
        }
    }
}

/// `t` if it is a probability strictly between 0 and 1, else the `--threshold` error.
pub fn check_threshold(t: f64) -> anyhow::Result<f64> {
    if t > 0.0 && t < 1.0 {
        Ok(t)
    } else {
        bail!("--threshold: {t} is not a probability between 0 and 1 (exclusive)")
    }
}

// ---------------------------------------------------------------------------------------------
// nrmp match

/// Arguments of `nrmp match`.
#[derive(Debug, Args)]
pub struct MatchArgs {
    /// Where the register is.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Given name(s) as heard or read.
    #[arg(long)]
    pub given: Option<String>,
    /// Family name.
    #[arg(long)]
    pub family: Option<String>,
    /// A whole name in any order (when it is not known which part is the family name).
    #[arg(long)]
    pub name: Option<String>,
    /// The name in its original script (Arabic, Ge'ez, Vietnamese with diacritics…).
    #[arg(long)]
    pub original: Option<String>,
    /// Date of birth: `YYYY-MM-DD`, `YYYYMMDD`, `DD/MM/YYYY`, `YYYY`, or a range `A..B`.
    #[arg(long)]
    pub dob: Option<String>,
    /// Sex: male, female, other or unknown.
    #[arg(long)]
    pub sex: Option<String>,
    /// Nationality (ISO alpha-3, e.g. VNM); repeatable.
    #[arg(long)]
    pub nationality: Vec<String>,
    /// Identifier as `kind:value` (e.g. `passport:VNM:C1234567`); repeatable.
    #[arg(long)]
    pub identifier: Vec<String>,
    /// Height in cm: `170` or `165-175`.
    #[arg(long)]
    pub height: Option<String>,
    /// A distinguishing mark as text (e.g. "scar left cheek"); repeatable.
    #[arg(long)]
    pub mark: Vec<String>,
    /// Number of candidates to show.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Model file (default: the shipped model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Who is searching and why (a lookup is audited; `--reason` is required).
    #[command(flatten)]
    pub actor: ActorArgs,
}

impl MatchArgs {
    /// The encounter query, parsed exactly as the API parses it (one parser,
    /// [`EncounterInput`]); a bad value names its flag.
    pub fn input(&self) -> anyhow::Result<EncounterInput> {
        let sex = match self.sex.as_deref() {
            Some(s) => Some(Sex::parse("--sex", s)?),
            None => None,
        };
        let nationalities = self
            .nationality
            .iter()
            .map(|n| Nationality::parse("--nationality", n))
            .collect::<Result<Vec<_>, _>>()?;
        let identifiers = self
            .identifier
            .iter()
            .map(|i| {
                let Some((kind, value)) = i.split_once(':') else {
                    bail!("--identifier: `{i}` is not kind:value (e.g. passport:VNM:C1234567)");
                };
                let kind = IdentifierKind::parse("--identifier", kind)?;
                Ok(Identifier::parse("--identifier", kind, value)?)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if self.k == 0 {
            bail!("--k: must be at least 1");
        }
        let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        if ![
            &self.given,
            &self.family,
            &self.name,
            &self.original,
            &self.dob,
        ]
        .into_iter()
        .any(given)
            && identifiers.is_empty()
        {
            bail!(
                "empty query: give at least one of --given, --family, --name, --original, --dob, --identifier"
            );
        }
        Ok(EncounterInput {
            given: self.given.clone(),
            family: self.family.clone(),
            name: self.name.clone(),
            original: self.original.clone(),
            dob: self.dob.clone(),
            sex,
            nationalities,
            identifiers,
            height: self.height.clone(),
            marks: self.mark.clone(),
            k: Some(self.k),
            reason: None,
        })
    }
}

/// A use case's error as the command line says it: an invalid field is named as its option
/// (`dob` → `--dob`).
fn option_error(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid(errs) => anyhow::anyhow!(
            "{}",
            errs.iter()
                .map(|e| format!("--{}: {}", e.field.trim_start_matches("--"), e.problem))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => other.into(),
    }
}

/// Runs `nrmp match`: the encounter check of the application layer, as the register user
/// `--as-user`, so the policy decides what they may see and the search is audited alike.
pub async fn run_match(args: MatchArgs, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let input = args.input()?;
    let reason = args.actor.reason.trim();
    if reason.is_empty() || reason == DEFAULT_REASON {
        bail!(
            "--reason: a lookup consults personal data; state why (e.g. --reason \"encounter check, incident 123\")"
        );
    }
    input
        .check(clock.now().date_naive())
        .map_err(option_error)?;
    let model = load_model(args.model.as_deref())?;
    let store = super::open_migrated(&args.db.database).await?;
    let principal = args.actor.principal(store.as_ref()).await?;
    let t = Instant::now();
    let index = MatchIndex::build(store.as_ref(), model)
        .await
        .context("reading persons")?;
    let built = t.elapsed();
    let register = Register::new(
        store,
        Arc::new(index),
        clock,
        Arc::new(RandomIds),
        Limits::default(),
    );
    let t = Instant::now();
    let result = register
        .encounter_check(&principal, Some(reason.to_owned()), input)
        .await
        .map_err(|e| crate::use_case_error(e, &principal))?;
    let looked = t.elapsed();
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&result)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} candidate(s) for {} among {} persons (index built in {:.1} s, lookup {:.1} ms)",
        result.candidates.len(),
        result.query,
        register.index.len(),
        built.as_secs_f64(),
        looked.as_secs_f64() * 1e3
    )?;
    for c in &result.candidates {
        writeln!(out)?;
        write!(out, "{}", c)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// nrmp dedup / link

/// Arguments of `nrmp dedup`.
#[derive(Debug, Args)]
pub struct DedupArgs {
    /// CSV file of person records (header row; any columns, see --map).
    #[arg(long)]
    pub input: PathBuf,
    /// Which column is which field.
    #[command(flatten)]
    pub mapping: MappingArgs,
    /// Where to write the pairs (`left_id,right_id,match_probability,match_weight`).
    #[arg(long)]
    pub output: PathBuf,
    /// Also write each record's cluster (`record_id,cluster_id`).
    #[arg(long)]
    pub clusters: Option<PathBuf>,
    /// Keep pairs with at least this match probability (also the clustering threshold).
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,
    /// Size of the population the records come from (e.g. the register of this
    /// deployment): the model's prior is rescaled to it. Keep it fixed between runs;
    /// by default the model's own prior is used.
    #[arg(long, value_name = "N")]
    pub population: Option<u64>,
    /// An earlier `--clusters` output: clusters keep the ids of the earlier clusters
    /// they share most records with (so ids survive added records).
    #[arg(long, value_name = "FILE")]
    pub previous_clusters: Option<PathBuf>,
    /// Model file (default: the shipped model).
    #[arg(long)]
    pub model: Option<PathBuf>,
}

/// `nrmp dedup` as the command line gives it: the run and what to do with bad values.
#[derive(Debug, Args)]
pub struct DedupCommand {
    /// The run.
    #[command(flatten)]
    pub run: DedupArgs,
    /// Unreadable or implausible values.
    #[command(flatten)]
    pub bad_values: BadValueArgs,
}

/// Arguments of `nrmp link`.
#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The first CSV file (its ids are `left_id`).
    #[arg(long)]
    pub left: PathBuf,
    /// The second CSV file (its ids are `right_id`).
    #[arg(long)]
    pub right: PathBuf,
    /// Which column is which field (both files, unless --right-… says otherwise).
    #[command(flatten)]
    pub mapping: MappingArgs,
    /// Id column of the right file, if it differs.
    #[arg(long, value_name = "COLUMN")]
    pub right_id: Option<String>,
    /// Field=column pairs of the right file, if they differ.
    #[arg(long, value_name = "FIELD=COL,…", value_delimiter = ',')]
    pub right_map: Vec<String>,
    /// Text columns of the right file, if they differ.
    #[arg(long, value_name = "COLUMN")]
    pub right_text: Vec<String>,
    /// Identifier columns of the right file, if they differ.
    #[arg(long, value_name = "KIND=COLUMN")]
    pub right_identifier: Vec<String>,
    /// Where to write the pairs (`left_id,right_id,match_probability,match_weight`).
    #[arg(long)]
    pub output: PathBuf,
    /// Also write each record's cluster (`record_id,cluster_id`; ids must differ across files).
    #[arg(long)]
    pub clusters: Option<PathBuf>,
    /// Keep pairs with at least this match probability (also the clustering threshold).
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,
    /// Size of the population the records come from (e.g. the register of this
    /// deployment): the model's prior is rescaled to it. Keep it fixed between runs;
    /// by default the model's own prior is used.
    #[arg(long, value_name = "N")]
    pub population: Option<u64>,
    /// An earlier `--clusters` output: clusters keep the ids of the earlier clusters
    /// they share most records with (so ids survive added records).
    #[arg(long, value_name = "FILE")]
    pub previous_clusters: Option<PathBuf>,
    /// Model file (default: the shipped model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Unreadable or implausible values.
    #[command(flatten)]
    pub bad_values: BadValueArgs,
}

/// What a batch run did (timings in seconds).
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchSummary {
    /// Records read.
    pub records: usize,
    /// Candidate pairs compared.
    pub candidate_pairs: u64,
    /// Pairs written.
    pub pairs: usize,
    /// Clusters with more than one record.
    pub multi_clusters: usize,
    /// Reading and mapping the CSV.
    pub read_secs: f64,
    /// Blocking, scoring and clustering.
    pub match_secs: f64,
    /// Writing the outputs.
    pub write_secs: f64,
}

fn write_pairs(path: &Path, result: &BatchResult) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path)
        .with_context(|| format!("--output: creating {}", path.display()))?;
    w.write_record(["left_id", "right_id", "match_probability", "match_weight"])?;
    for p in &result.pairs {
        w.write_record([
            p.left_id.as_str(),
            p.right_id.as_str(),
            &format!("{:.6}", p.match_probability),
            &format!("{:.3}", p.match_weight),
        ])?;
    }
    w.flush()
        .with_context(|| format!("--output: writing {}", path.display()))?;
    Ok(())
}

fn write_clusters(path: &Path, result: &BatchResult) -> anyhow::Result<usize> {
    let mut w = csv::Writer::from_path(path)
        .with_context(|| format!("--clusters: creating {}", path.display()))?;
    w.write_record(["record_id", "cluster_id"])?;
    let mut sizes: HashMap<&str, usize> = HashMap::new();
    for c in &result.clusters {
        w.write_record([c.record_id.as_str(), c.cluster_id.as_str()])?;
        *sizes.entry(c.cluster_id.as_str()).or_insert(0) += 1;
    }
    w.flush()
        .with_context(|| format!("--clusters: writing {}", path.display()))?;
    Ok(sizes.values().filter(|n| **n > 1).count())
}

/// Reads an earlier `--clusters` file (`record_id,cluster_id`).
fn read_previous_clusters(path: &Path) -> anyhow::Result<Vec<ClusterAssignment>> {
    let shown = path.display();
    let mut r = csv::Reader::from_path(path)
        .with_context(|| format!("--previous-clusters: opening {shown}"))?;
    let header = r
        .headers()
        .with_context(|| format!("--previous-clusters: reading {shown}"))?
        .clone();
    let col = |name: &str| {
        header.iter().position(|h| h.trim() == name).ok_or_else(|| {
            anyhow::anyhow!(
                "--previous-clusters: {shown} has no `{name}` column (expected the header `record_id,cluster_id`)"
            )
        })
    };
    let (rc, cc) = (col("record_id")?, col("cluster_id")?);
    let mut out = Vec::new();
    for (i, row) in r.records().enumerate() {
        let line = i + 2;
        let row = row.with_context(|| format!("--previous-clusters: {shown}:{line}"))?;
        let get = |c: usize, name: &str| -> anyhow::Result<String> {
            match row.get(c).map(str::trim) {
                Some(v) if !v.is_empty() => Ok(v.to_string()),
                _ => bail!("--previous-clusters: {shown}:{line}: {name} is empty"),
            }
        };
        out.push(ClusterAssignment {
            record_id: get(rc, "record_id")?,
            cluster_id: get(cc, "cluster_id")?,
        });
    }
    Ok(out)
}

/// Applies `--previous-clusters` to a result.
fn carry_over(result: &mut BatchResult, previous: Option<&Path>) -> anyhow::Result<()> {
    if let Some(path) = previous {
        let prev = read_previous_clusters(path)?;
        result.clusters = nrmp_match::carry_over_ids(&result.clusters, &prev);
    }
    Ok(())
}

/// The whole of `nrmp dedup`: read, match, write; a bad value is treated as missing.
pub fn dedup_files(args: &DedupArgs) -> anyhow::Result<BatchSummary> {
    dedup_files_with(args, &BadValueArgs::default())
}

/// [`dedup_files`] with `--strict` / `--rejects`; prints the values treated as missing.
pub fn dedup_files_with(args: &DedupArgs, bad: &BadValueArgs) -> anyhow::Result<BatchSummary> {
    let threshold = check_threshold(args.threshold)?;
    let model = load_model(args.model.as_deref())?;
    let t = Instant::now();
    let read = input::read_records(&args.input, &args.mapping, bad.policy())?;
    input::report_bad_values(&[&read], bad, &mut std::io::stdout().lock())?;
    let records = read.records;
    let read_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let config = BatchConfig {
        threshold,
        population: args.population,
        ..BatchConfig::default()
    };
    let mut result = nrmp_match::dedup(&records, &model, &config);
    carry_over(&mut result, args.previous_clusters.as_deref())?;
    let match_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    write_pairs(&args.output, &result)?;
    let multi_clusters = match &args.clusters {
        Some(p) => write_clusters(p, &result)?,
        None => 0,
    };
    Ok(BatchSummary {
        records: records.len(),
        candidate_pairs: result.candidate_pairs,
        pairs: result.pairs.len(),
        multi_clusters,
        read_secs,
        match_secs,
        write_secs: t.elapsed().as_secs_f64(),
    })
}

fn print_summary(s: &BatchSummary, output: &Path, clusters: Option<&PathBuf>) {
    println!(
        "{} records, {} candidate pairs compared, {} pairs at or above the threshold written to {}",
        s.records,
        s.candidate_pairs,
        s.pairs,
        output.display()
    );
    if let Some(c) = clusters {
        println!(
            "{} clusters of more than one record; clusters written to {}",
            s.multi_clusters,
            c.display()
        );
    }
    println!(
        "time: read {:.1} s, match {:.1} s, write {:.1} s",
        s.read_secs, s.match_secs, s.write_secs
    );
}

/// Runs `nrmp dedup`.
pub fn run_dedup(cmd: DedupCommand) -> anyhow::Result<()> {
    let args = &cmd.run;
    let s = dedup_files_with(args, &cmd.bad_values)?;
    print_summary(&s, &args.output, args.clusters.as_ref());
    Ok(())
}

/// Runs `nrmp link`.
pub fn run_link(args: LinkArgs) -> anyhow::Result<()> {
    let threshold = check_threshold(args.threshold)?;
    let model = load_model(args.model.as_deref())?;
    let right_mapping = MappingArgs {
        id: args
            .right_id
            .clone()
            .unwrap_or_else(|| args.mapping.id.clone()),
        map: if args.right_map.is_empty() {
            args.mapping.map.clone()
        } else {
            args.right_map.clone()
        },
        text: if args.right_text.is_empty() {
            args.mapping.text.clone()
        } else {
            args.right_text.clone()
        },
        identifier: if args.right_identifier.is_empty() {
            args.mapping.identifier.clone()
        } else {
            args.right_identifier.clone()
        },
    };
    let t = Instant::now();
    let policy = args.bad_values.policy();
    let left = input::read_records(&args.left, &args.mapping, policy)?;
    let right = input::read_records(&args.right, &right_mapping, policy)?;
    input::report_bad_values(
        &[&left, &right],
        &args.bad_values,
        &mut std::io::stdout().lock(),
    )?;
    let (left, right) = (left.records, right.records);
    if args.clusters.is_some() {
        let ids: std::collections::HashSet<&str> = left.iter().map(|r| r.id.as_str()).collect();
        if let Some(r) = right.iter().find(|r| ids.contains(r.id.as_str())) {
            bail!(
                "--clusters: id `{}` is in both {} and {}; clusters need ids that differ across files",
                r.id,
                args.left.display(),
                args.right.display()
            );
        }
    }
    let read_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let config = BatchConfig {
        threshold,
        population: args.population,
        ..BatchConfig::default()
    };
    let mut result = nrmp_match::link(&left, &right, &model, &config);
    carry_over(&mut result, args.previous_clusters.as_deref())?;
    let match_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    write_pairs(&args.output, &result)?;
    let multi_clusters = match &args.clusters {
        Some(p) => write_clusters(p, &result)?,
        None => 0,
    };
    let s = BatchSummary {
        records: left.len() + right.len(),
        candidate_pairs: result.candidate_pairs,
        pairs: result.pairs.len(),
        multi_clusters,
        read_secs,
        match_secs,
        write_secs: t.elapsed().as_secs_f64(),
    };
    print_summary(&s, &args.output, args.clusters.as_ref());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// nrmp train

/// Arguments of `nrmp train`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["input", "database", "synthetic"])))]
pub struct TrainArgs {
    /// Train on this CSV of person records (mapped as for `dedup`).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Which column is which field (with --input).
    #[command(flatten)]
    pub mapping: MappingArgs,
    /// Unreadable or implausible values (with --input).
    #[command(flatten)]
    pub bad_values: BadValueArgs,
    /// Train on the persons in this register (`sqlite://…` or `postgres://…`).
    #[arg(long)]
    pub database: Option<String>,
    /// Train on this many synthetic true persons generated with --seed (no real data).
    #[arg(long, value_name = "PERSONS")]
    pub synthetic: Option<usize>,
    /// End of the synthetic history (with --synthetic).
    #[arg(long, default_value = "2026-11-01")]
    pub until: NaiveDate,
    /// Seed of the random-pair sampler (and of the synthetic population).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Random pairs sampled to estimate u.
    #[arg(long, default_value_t = 1_000_000)]
    pub u_pairs: usize,
    /// Starting model for EM (default: the hand-set untrained model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Where to write the trained model (JSON).
    #[arg(long)]
    pub output: PathBuf,
}

/// Runs `nrmp train`.
pub async fn run_train(args: TrainArgs) -> anyhow::Result<()> {
    let t = Instant::now();
    let (records, source) = if let Some(path) = &args.input {
        let read = input::read_records(path, &args.mapping, args.bad_values.policy())?;
        input::report_bad_values(&[&read], &args.bad_values, &mut std::io::stdout().lock())?;
        (read.records, format!("--input {}", path.display()))
    } else if let Some(url) = &args.database {
        let store = super::open_migrated(url).await?;
        let mut records = Vec::new();
        nrmp_store::scan_all::<Person>(store.as_ref(), 5_000, |page| {
            records.extend(page.iter().map(match_record));
            Ok(())
        })
        .await
        .context("reading persons")?;
        (records, "--database URL".to_string())
    } else if let Some(n) = args.synthetic {
        let generator = super::synth::generator(args.seed, n, args.until)?;
        let data = nrmp_synth::matching::MatchingPopulation::generate(&generator);
        (
            data.records,
            format!("--synthetic {n} --until {}", args.until),
        )
    } else {
        bail!("give --input, --database or --synthetic");
    };
    if records.len() < 2 {
        bail!("training needs at least two records; got {}", records.len());
    }
    let read_secs = t.elapsed().as_secs_f64();
    let mut model = match &args.model {
        Some(p) => load_model(Some(p))?,
        None => Model::default_untrained(),
    };
    let config = TrainConfig {
        u_pairs: args.u_pairs,
        seed: args.seed,
        ..TrainConfig::default()
    };
    let t = Instant::now();
    let report = nrmp_match::train(&records, &mut model, &config);
    let train_secs = t.elapsed().as_secs_f64();
    model.notes.insert(
        0,
        format!(
            "trained by `nrmp train {source} --seed {} --u-pairs {}` on {} records",
            args.seed,
            args.u_pairs,
            records.len()
        ),
    );
    let json = model.to_json()?;
    std::fs::write(&args.output, json + "\n")
        .with_context(|| format!("--output: writing {}", args.output.display()))?;
    println!(
        "{} records read in {read_secs:.1} s; trained in {train_secs:.1} s; model written to {}",
        records.len(),
        args.output.display()
    );
    for n in &model.notes {
        println!("  {n}");
    }
    if !report.em_dob_blocked.converged || !report.em_name_blocked.converged {
        println!("  warning: EM did not converge in one of its sessions; see the notes above");
    }
    println!("prior λ = {:.3e}", model.prior);
    for f in &model.fields {
        let levels: Vec<String> = f
            .levels
            .iter()
            .map(|l| format!("{} {:+.1}", l.level, l.weight))
            .collect();
        println!("  {:<12} {}", f.field, levels.join(", "));
    }
    Ok(())
}
