//! Local-authority children's-services spend per child: `stats spend import` (validate a
//! CSV of `authority,year,spend_per_child` and store it as a side file) and `stats
//! spend-model` (missing rates of looked-after children against spend, with exposure; the
//! model itself is `nrmp_analysis::spend`).

use super::{Common, Period, Report, Snapshot, write_chart};
use anyhow::Context;
use clap::{Args, Subcommand};
use nrmp_analysis::request::{SpendModelRequest, StatsRequest};
pub use nrmp_analysis::spend::{SpendTable, parse_spend};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where `spend import` stores the spend table by default.
pub const DEFAULT_SPEND_FILE: &str = "nrmp-data/spend.csv";

/// Spend subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum SpendCommand {
    /// Validate a spend CSV (`authority,year,spend_per_child`) and store it for the models.
    Import(SpendImportArgs),
}

/// Arguments of `nrmp stats spend import`.
#[derive(Debug, Clone, Args)]
pub struct SpendImportArgs {
    /// The CSV: header `authority,year,spend_per_child`, one row per authority and year
    /// (authority as an organisation code, e.g. `la:e09000033`; spend in pounds per child).
    pub file: PathBuf,
    /// Where to store the validated table.
    #[arg(long, default_value = DEFAULT_SPEND_FILE)]
    pub out: PathBuf,
}

/// Arguments of `nrmp stats spend-model`.
#[derive(Debug, Clone, Args)]
pub struct SpendModelArgs {
    /// The spend table (from `stats spend import`).
    #[arg(long, default_value = DEFAULT_SPEND_FILE)]
    pub spend: PathBuf,
    /// Period.
    #[command(flatten)]
    pub period: Period,
    /// Write a chart of each authority's missing rate per 1,000 looked-after child-years
    /// (95% CI) against its spend per child, with the fitted curve and the caveats.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Common options.
    #[command(flatten)]
    pub common: Common,
}

/// Reads a spend CSV file.
///
/// # Errors
/// As [`parse_spend`].
pub fn read_spend(path: &Path) -> anyhow::Result<SpendTable> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_spend(&text).with_context(|| format!("in {}", path.display()))
}

/// Runs `stats spend …` (no register needed).
///
/// # Errors
/// Bad file; unwritable output.
pub fn run_spend(c: &SpendCommand) -> anyhow::Result<String> {
    let SpendCommand::Import(a) = c;
    let t = read_spend(&a.file)?;
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&a.out, t.to_csv()).with_context(|| format!("writing {}", a.out.display()))?;
    let auths: BTreeSet<&str> = t.iter().map(|(a, _, _)| a).collect();
    Ok(format!(
        "stored {} rows ({} authorities) in {}\n",
        t.len(),
        auths.len(),
        a.out.display()
    ))
}

/// `nrmp stats spend-model`.
///
/// # Errors
/// Bad arguments or spend file, too few units, a model that cannot be fitted; an unwritable
/// `--svg` file.
pub fn model_report(a: &SpendModelArgs, s: &Snapshot) -> anyhow::Result<Report> {
    let spend = read_spend(&a.spend)?;
    let req = SpendModelRequest {
        period: a.period.request(),
        suppression: a.common.rule()?,
        chart: a.svg.is_some(),
    };
    StatsRequest::SpendModel(req).check_for(nrmp_analysis::Audience::Analyst)?;
    let r = nrmp_analysis::spend::spend_model(s, &req, &spend)?;
    write_chart(&r, a.svg.as_deref())?;
    Ok(r)
}
