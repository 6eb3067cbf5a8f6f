//! `nrmp stats`: the national picture. Every subcommand reads the register once into an
//! in-memory analysis [`Snapshot`], has `nrmp-analysis` publish the table (aggregate figures
//! with disclosure control applied) and prints text, CSV or JSON; every run writes one audit
//! event (`read` of `statistics`, with the command as detail). The arguments here only map a
//! command line to an `nrmp_analysis::request` and write charts to files; the API serves the
//! same tables from the same functions. Definitions and methods: docs/statistics.md.

pub mod spend;
pub mod ssda903;

use crate::{ActorArgs, DatabaseArg};
use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use nrmp_analysis::missing::By;
use nrmp_analysis::publish;
use nrmp_analysis::request::{
    MissingRequest, TimeToMissingRequest, TraffickedRequest, TrendRequest,
};
use nrmp_analysis::snapshot::{Cohort, Ts, ts_of_date};
use nrmp_analysis::survival::{Grouping, Origin};
pub use nrmp_analysis::{Grid, OutFormat, Report, Snapshot};
use nrmp_domain::audit::AuditAction;
use nrmp_domain::clock::Clock;
use nrmp_stats::disclosure::SuppressionRule;
use nrmp_store::prelude::*;
use std::path::{Path, PathBuf};

/// The statistics subcommands.
#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Persons who went missing over persons at risk, incidents, repeats, never found — by a
    /// breakdown.
    Missing(MissingArgs),
    /// Yearly trend in the number and in the rate (Poisson with exposure; NB if over-dispersed).
    Trend(TrendArgs),
    /// Kaplan–Meier time to first missing episode after NRM referral or coming into care.
    TimeToMissing(TimeArgs),
    /// "Proportion of trafficked and unaccompanied children who went missing" for a period.
    ProportionTrafficked(PeriodArgs),
    /// Every table of a period that shares figures with another — by cohort, proportion
    /// trafficked, and each cohort by authority, nationality, age band and sex — protected as
    /// one suppression plan, so none can be differenced against another.
    Release(PeriodArgs),
    /// DfE SSDA903 missing-episode files: export from / import against the register.
    #[command(subcommand)]
    Ssda903(ssda903::Ssda903Command),
    /// Local-authority children's-services spend per child.
    #[command(subcommand)]
    Spend(spend::SpendCommand),
    /// Missing rates of looked-after children against spend per child (ecological model).
    SpendModel(spend::SpendModelArgs),
}

/// Options every statistics command takes.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// The register.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutFormat,
    /// Smallest count suppressed (primary suppression).
    #[arg(long, default_value_t = 1)]
    pub suppress_min: u64,
    /// Largest count suppressed (primary suppression).
    #[arg(long, default_value_t = 5)]
    pub suppress_max: u64,
    /// End of data (exclusive; default: today from the clock). Later records are ignored and
    /// open follow-up is censored here.
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Who is acting, for the audit log.
    #[command(flatten)]
    pub actor: ActorArgs,
}

impl Common {
    /// The suppression rule.
    pub fn rule(&self) -> anyhow::Result<SuppressionRule> {
        SuppressionRule::new(self.suppress_min, self.suppress_max)
            .map_err(|e| anyhow::anyhow!("--suppress-min/--suppress-max: {e}"))
    }

    /// End of data as a timestamp.
    pub fn end_of_data(&self, clock: &dyn Clock) -> Ts {
        match self.as_of {
            Some(d) => ts_of_date(d),
            None => clock.now().timestamp(),
        }
    }
}

/// A period `--from`/`--to` (both dates inclusive).
#[derive(Debug, Clone, Args)]
pub struct Period {
    /// First day (default: 1 January of the first year with an incident).
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Last day, inclusive (default: the end of data).
    #[arg(long)]
    pub to: Option<NaiveDate>,
}

impl Period {
    /// The period of a request.
    pub fn request(&self) -> nrmp_analysis::request::Period {
        nrmp_analysis::request::Period {
            from: self.from,
            to: self.to,
        }
    }
}

/// Arguments of `nrmp stats missing`.
#[derive(Debug, Clone, Args)]
pub struct MissingArgs {
    /// Rows of the table.
    #[arg(long, value_enum, default_value = "cohort")]
    pub by: By,
    /// The population (ignored with `--by cohort`).
    #[arg(long, value_enum, default_value = "all")]
    pub cohort: Cohort,
    /// Period.
    #[command(flatten)]
    pub period: Period,
    /// Common options.
    #[command(flatten)]
    pub common: Common,
}

/// Arguments of `nrmp stats trend`.
#[derive(Debug, Clone, Args)]
pub struct TrendArgs {
    /// The population.
    #[arg(long, value_enum, default_value = "nrm-children")]
    pub cohort: Cohort,
    /// Period.
    #[command(flatten)]
    pub period: Period,
    /// Write a chart of the yearly rates with CIs and the fitted trend.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Common options.
    #[command(flatten)]
    pub common: Common,
}

/// Arguments of `nrmp stats time-to-missing`.
#[derive(Debug, Clone, Args)]
pub struct TimeArgs {
    /// Start of follow-up: the first NRM referral, or coming into care.
    #[arg(long = "from", value_enum, default_value = "referral")]
    pub origin: Origin,
    /// Groups.
    #[arg(long, value_enum, default_value = "cohort")]
    pub by: Grouping,
    /// Only follow-ups starting on or after this day.
    #[arg(long)]
    pub starts_from: Option<NaiveDate>,
    /// Only follow-ups starting on or before this day.
    #[arg(long)]
    pub starts_to: Option<NaiveDate>,
    /// Also fit a Cox proportional-hazards model and test proportional hazards.
    #[arg(long)]
    pub cox: bool,
    /// Add the placing authority's spend per child (the register's table, from `stats spend
    /// import`) to the Cox model as a covariate.
    #[arg(long, requires = "cox")]
    pub spend_covariate: bool,
    /// A spend CSV to use for the covariate instead of the register's table (implies
    /// `--spend-covariate`).
    #[arg(long, requires = "cox")]
    pub spend: Option<PathBuf>,
    /// Write Kaplan–Meier curves with CI bands (first `--svg-days` days).
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Days shown in the chart.
    #[arg(long, default_value_t = 30.0)]
    pub svg_days: f64,
    /// Common options.
    #[command(flatten)]
    pub common: Common,
}

/// Arguments of commands that need only a period.
#[derive(Debug, Clone, Args)]
pub struct PeriodArgs {
    /// Period.
    #[command(flatten)]
    pub period: Period,
    /// Common options.
    #[command(flatten)]
    pub common: Common,
}

impl StatsCommand {
    fn common(&self) -> Option<&Common> {
        match self {
            StatsCommand::Missing(a) => Some(&a.common),
            StatsCommand::Trend(a) => Some(&a.common),
            StatsCommand::TimeToMissing(a) => Some(&a.common),
            StatsCommand::ProportionTrafficked(a) => Some(&a.common),
            StatsCommand::Release(a) => Some(&a.common),
            StatsCommand::Ssda903(c) => Some(c.common()),
            StatsCommand::SpendModel(a) => Some(&a.common),
            StatsCommand::Spend(_) => None,
        }
    }

    /// Whether the command may need the register's spend table.
    fn uses_spend(&self) -> bool {
        match self {
            StatsCommand::SpendModel(a) => a.spend.is_none(),
            StatsCommand::TimeToMissing(a) => a.spend_covariate && a.spend.is_none(),
            _ => false,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            StatsCommand::Missing(_) => "missing",
            StatsCommand::Trend(_) => "trend",
            StatsCommand::TimeToMissing(_) => "time-to-missing",
            StatsCommand::ProportionTrafficked(_) => "proportion-trafficked",
            StatsCommand::Release(_) => "release",
            StatsCommand::Ssda903(_) => "ssda903",
            StatsCommand::Spend(_) => "spend",
            StatsCommand::SpendModel(_) => "spend-model",
        }
    }
}

/// Reads the whole register into an analysis snapshot ending at `end_of_data`.
///
/// # Errors
/// Store errors.
pub async fn load_snapshot(store: &dyn Store, end_of_data: Ts) -> anyhow::Result<Snapshot> {
    Ok(nrmp_analysis::load_snapshot(store, end_of_data).await?)
}

/// Runs a statistics command against `store` and returns what it prints. Writes the audit
/// event first, so a failed run is still on record.
///
/// # Errors
/// Bad arguments, store errors, or a statistical procedure that cannot be completed.
pub async fn execute(
    cmd: &StatsCommand,
    store: &dyn Store,
    clock: &dyn Clock,
) -> anyhow::Result<String> {
    if let StatsCommand::Spend(c) = cmd {
        return spend::run_spend(c, store, clock).await;
    }
    let Some(common) = cmd.common() else {
        anyhow::bail!("no options");
    };
    let ctx = common.actor.ctx(clock)?;
    // The command as parsed, without the database password.
    let detail = format!("nrmp stats {}: {:?}", cmd.name(), cmd).replace(
        &common.db.database,
        &nrmp_store::redact_url(&common.db.database),
    );
    let action = match cmd {
        StatsCommand::Ssda903(ssda903::Ssda903Command::Export(_)) => AuditAction::Disclose,
        _ => AuditAction::Read,
    };
    store
        .record_audit(&ctx, action, "statistics", &[], &detail)
        .await
        .context("writing the audit event")?;
    let snapshot = load_snapshot(store, common.end_of_data(clock)).await?;
    let stored_spend = if cmd.uses_spend() {
        Some(nrmp_analysis::load_spend(store).await?)
    } else {
        None
    };
    let report = compute(cmd, &snapshot, stored_spend.as_ref())?;
    Ok(report.render(common.format)?)
}

/// Computes a command's report from a snapshot and, for the commands that use it, the
/// register's spend table (pure; file outputs such as `--svg` and `ssda903 export --out` are
/// written here too).
///
/// # Errors
/// As [`execute`].
pub fn compute(
    cmd: &StatsCommand,
    s: &Snapshot,
    stored_spend: Option<&spend::SpendTable>,
) -> anyhow::Result<Report> {
    match cmd {
        StatsCommand::Missing(a) => missing_report(a, s),
        StatsCommand::Trend(a) => trend_report(a, s),
        StatsCommand::TimeToMissing(a) => time_report(a, s, stored_spend),
        StatsCommand::ProportionTrafficked(a) => trafficked_report(a, s),
        StatsCommand::Release(a) => release_report(a, s),
        StatsCommand::Ssda903(c) => ssda903::run(c, s),
        StatsCommand::SpendModel(a) => spend::model_report(a, s, stored_spend),
        StatsCommand::Spend(_) => anyhow::bail!("spend import computes no table"),
    }
}

/// Runs `nrmp stats …`.
pub async fn run(cmd: StatsCommand, clock: &dyn Clock) -> anyhow::Result<()> {
    let database = match (&cmd, cmd.common()) {
        (StatsCommand::Spend(c), _) => c.database(),
        (_, Some(common)) => &common.db.database,
        (_, None) => anyhow::bail!("no options"),
    };
    let store = super::open_migrated(database).await?;
    let out = execute(&cmd, store.as_ref(), clock).await?;
    print!("{out}");
    Ok(())
}

impl MissingArgs {
    /// The request these arguments make.
    pub fn request(&self) -> anyhow::Result<MissingRequest> {
        Ok(MissingRequest {
            by: self.by,
            cohort: self.cohort,
            period: self.period.request(),
            suppression: self.common.rule()?,
        })
    }
}

impl TrendArgs {
    /// The request these arguments make.
    pub fn request(&self) -> anyhow::Result<TrendRequest> {
        Ok(TrendRequest {
            cohort: self.cohort,
            period: self.period.request(),
            suppression: self.common.rule()?,
            chart: self.svg.is_some(),
        })
    }
}

impl TimeArgs {
    /// The request these arguments make.
    pub fn request(&self) -> anyhow::Result<TimeToMissingRequest> {
        Ok(TimeToMissingRequest {
            origin: self.origin,
            by: self.by,
            starts: nrmp_analysis::request::Period {
                from: self.starts_from,
                to: self.starts_to,
            },
            cox: self.cox,
            spend_covariate: self.cox && (self.spend_covariate || self.spend.is_some()),
            suppression: self.common.rule()?,
            chart: self.svg.is_some(),
            chart_days: self.svg_days,
        })
    }
}

impl PeriodArgs {
    /// The proportion-trafficked request these arguments make.
    pub fn request(&self) -> anyhow::Result<TraffickedRequest> {
        Ok(TraffickedRequest {
            period: self.period.request(),
            suppression: self.common.rule()?,
        })
    }
}

/// Writes the report's first chart to `path`, if asked for.
///
/// # Errors
/// An unwritable file.
pub fn write_chart(report: &Report, path: Option<&Path>) -> anyhow::Result<()> {
    if let (Some(path), Some(chart)) = (path, report.charts.first()) {
        std::fs::write(path, &chart.svg).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Checks a request as the command line's operator (an analyst) may make it.
fn checked<T>(req: nrmp_analysis::StatsRequest, inner: T) -> anyhow::Result<T> {
    req.check_for(nrmp_analysis::Audience::Analyst)?;
    Ok(inner)
}

/// `nrmp stats missing`.
///
/// # Errors
/// Bad arguments; disclosure control failure.
pub fn missing_report(a: &MissingArgs, s: &Snapshot) -> anyhow::Result<Report> {
    let req = a.request()?;
    let req = checked(nrmp_analysis::StatsRequest::Missing(req), req)?;
    Ok(publish::missing_table(s, &req)?)
}

/// `nrmp stats trend`.
///
/// # Errors
/// Bad arguments; disclosure control failure, or a model that cannot be fitted; an
/// unwritable `--svg` file.
pub fn trend_report(a: &TrendArgs, s: &Snapshot) -> anyhow::Result<Report> {
    let req = a.request()?;
    let req = checked(nrmp_analysis::StatsRequest::Trend(req), req)?;
    let r = publish::trend(s, &req)?;
    write_chart(&r, a.svg.as_deref())?;
    Ok(r)
}

/// `nrmp stats time-to-missing`.
///
/// # Errors
/// Bad arguments or spend file, failed fits, disclosure control failure; an unwritable
/// `--svg` file.
pub fn time_report(
    a: &TimeArgs,
    s: &Snapshot,
    stored_spend: Option<&spend::SpendTable>,
) -> anyhow::Result<Report> {
    let req = a.request()?;
    let req = checked(nrmp_analysis::StatsRequest::TimeToMissing(req), req)?;
    let spend = if req.spend_covariate {
        Some(spend::spend_table(a.spend.as_deref(), stored_spend)?)
    } else {
        None
    };
    let r = publish::time_to_missing(s, &req, spend.as_ref())?;
    write_chart(&r, a.svg.as_deref())?;
    Ok(r)
}

/// `nrmp stats proportion-trafficked`.
///
/// # Errors
/// Bad arguments; disclosure control failure.
pub fn trafficked_report(a: &PeriodArgs, s: &Snapshot) -> anyhow::Result<Report> {
    let req = a.request()?;
    let req = checked(nrmp_analysis::StatsRequest::ProportionTrafficked(req), req)?;
    Ok(publish::proportion_trafficked(s, &req)?)
}

/// `nrmp stats release`.
///
/// # Errors
/// Bad arguments; disclosure control failure.
pub fn release_report(a: &PeriodArgs, s: &Snapshot) -> anyhow::Result<Report> {
    let rule = a.common.rule()?;
    let family = publish::period_family(a.period.request(), rule);
    let reports = publish::publish_jointly(s, &family, None)?;
    let (from, to) = a.period.request().bounds(s);
    let mut out = Report {
        title: format!(
            "Release: who went missing, {} ({} tables under one suppression plan)",
            nrmp_analysis::request::period_text(from, to),
            reports.len()
        ),
        ..Report::default()
    };
    for r in reports {
        out.tables.extend(r.tables);
    }
    Ok(out)
}
