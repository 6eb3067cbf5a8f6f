//! Local-authority children's-services spend per child: `stats spend import` (validate a
//! CSV of `authority,year,spend_per_child` and store it in the register, replacing the table
//! there) and `stats spend-model` (missing rates of looked-after children against spend, with
//! exposure; the model itself is `nrmp_analysis::spend`).

use super::{Common, Period, Report, Snapshot, write_chart};
use crate::{ActorArgs, DatabaseArg};
use anyhow::Context;
use clap::{Args, Subcommand};
use nrmp_analysis::request::{SpendModelRequest, StatsRequest};
pub use nrmp_analysis::spend::{SpendTable, parse_spend};
use nrmp_domain::clock::Clock;
use nrmp_store::prelude::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Spend subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum SpendCommand {
    /// Validate a spend CSV (`authority,year,spend_per_child`) and store it in the register,
    /// replacing the table there (all or nothing).
    Import(SpendImportArgs),
}

impl SpendCommand {
    /// The register the command writes to.
    pub fn database(&self) -> &str {
        let SpendCommand::Import(a) = self;
        &a.db.database
    }
}

/// Arguments of `nrmp stats spend import`.
#[derive(Debug, Clone, Args)]
pub struct SpendImportArgs {
    /// The CSV: header `authority,year,spend_per_child`, one row per authority and year
    /// (authority as a local authority's organisation code, e.g. `la:kent`; spend in pounds per
    /// child).
    pub file: PathBuf,
    /// The register.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Who is acting, for the audit log.
    #[command(flatten)]
    pub actor: ActorArgs,
}

/// Arguments of `nrmp stats spend-model`.
#[derive(Debug, Clone, Args)]
pub struct SpendModelArgs {
    /// A spend CSV to use instead of the register's table (from `stats spend import`).
    #[arg(long)]
    pub spend: Option<PathBuf>,
    /// Period.
    #[command(flatten)]
    pub period: Period,
    /// Write a chart of each authority's missing rate per 1,000 looked-after children at
    /// risk (summed over its years; 95% CI) against its spend per child, with the fitted
    /// curve and the caveats.
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

/// The spend table a command uses: the file it names, else the register's `stored` table.
///
/// # Errors
/// A bad file; no file and no table in the register.
pub fn spend_table(file: Option<&Path>, stored: Option<&SpendTable>) -> anyhow::Result<SpendTable> {
    match (file, stored) {
        (Some(p), _) => read_spend(p),
        (None, Some(t)) if !t.is_empty() => Ok(t.clone()),
        _ => anyhow::bail!(
            "--spend: the register has no spend table; import one with `nrmp stats spend import FILE` or name a CSV"
        ),
    }
}

/// Runs `stats spend import`: validates the file, then replaces the register's table.
///
/// # Errors
/// Bad file (line and problem); an authority not on the register; store errors.
pub async fn run_spend(
    c: &SpendCommand,
    store: &dyn Store,
    clock: &dyn Clock,
) -> anyhow::Result<String> {
    let SpendCommand::Import(a) = c;
    let t = read_spend(&a.file)?;
    let ctx = a.actor.ctx(clock)?;
    store
        .replace_spend(&ctx, &t.to_rows()?)
        .await
        .with_context(|| format!("storing {}", a.file.display()))?;
    let auths: BTreeSet<&str> = t.iter().map(|(a, _, _)| a).collect();
    Ok(format!(
        "stored {} rows ({} authorities) in the register\n",
        t.len(),
        auths.len(),
    ))
}

/// `nrmp stats spend-model`.
///
/// # Errors
/// Bad arguments or spend file, too few units, a model that cannot be fitted; an unwritable
/// `--svg` file.
pub fn model_report(
    a: &SpendModelArgs,
    s: &Snapshot,
    stored: Option<&SpendTable>,
) -> anyhow::Result<Report> {
    let spend = spend_table(a.spend.as_deref(), stored)?;
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
