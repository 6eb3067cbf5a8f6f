//! `nrmp audit` and `nrmp retention`: verifying the audit log's hash chain, the regulator's
//! "who has seen this child's record" export, and retention reviews (what is due, keep, erase).
//! Every command but `verify` is an adapter of a use case in `nrmp_app::retention`, made as the
//! register user `--as-user` and decided by the same policy as the API. See docs/audit.md.

use crate::{ActorArgs, DatabaseArg, progress, use_case_error};
use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use nrmp_domain::audit::AuditEvent;
use nrmp_domain::clock::Clock;
use nrmp_domain::ids::PersonId;
use nrmp_domain::person::parse_date;
use nrmp_domain::retention::SubjectKind;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// `nrmp audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's hash chain; exits non-zero naming the first broken seq.
    Verify(VerifyArgs),
    /// Who has seen or changed a person's records (for the regulator). Audited as a disclosure.
    Export(AuditExportArgs),
}

/// Arguments of `nrmp audit verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The register.
    #[command(flatten)]
    pub db: DatabaseArg,
}

/// Output format of `nrmp audit export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrailFormat {
    /// CSV with a header row.
    Csv,
    /// A JSON array of events.
    Json,
}

/// Arguments of `nrmp audit export`.
#[derive(Debug, Args)]
pub struct AuditExportArgs {
    /// The person's id.
    #[arg(long)]
    pub person: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: TrailFormat,
    /// File to write (standard output if not given).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The register.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Who is acting and why (a reason is required: the trail is a disclosure).
    #[command(flatten)]
    pub actor: ActorArgs,
}

/// `nrmp retention …`
#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// List the subjects whose records are due for review.
    Due(DueArgs),
    /// Record a decision to keep a subject's records until a next review.
    Keep(KeepArgs),
    /// Record a decision to erase a person and everything linked to them.
    Erase(EraseArgs),
}

/// Arguments of `nrmp retention due`.
#[derive(Debug, Args)]
pub struct DueArgs {
    /// Reviews due on or before this date (YYYY-MM-DD; default today).
    #[arg(long)]
    pub as_of: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// The register.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// The register user who asks (an administrator of the national unit).
    #[command(flatten)]
    pub actor: ActorArgs,
}

/// Arguments of `nrmp retention keep`.
#[derive(Debug, Args)]
pub struct KeepArgs {
    /// `person` or `found_person`.
    #[arg(long)]
    pub kind: String,
    /// The subject's id.
    #[arg(long)]
    pub id: String,
    /// When to review again (YYYY-MM-DD, after today, within 10 years).
    #[arg(long)]
    pub next_review: String,
    /// The register.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Who decides, and why the records are still needed (`--reason`, required).
    #[command(flatten)]
    pub actor: ActorArgs,
}

/// Arguments of `nrmp retention erase`.
#[derive(Debug, Args)]
pub struct EraseArgs {
    /// The person's id.
    #[arg(long)]
    pub person: String,
    /// The register.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Who decides, and why the records are no longer needed (`--reason`, required).
    #[command(flatten)]
    pub actor: ActorArgs,
}

/// The stated reason, refusing none or the default: `what` says why one is needed.
fn required_reason<'a>(actor: &'a ActorArgs, what: &str) -> anyhow::Result<&'a str> {
    actor
        .stated_reason()
        .ok_or_else(|| anyhow::anyhow!("--reason: {what}; state why (e.g. --reason \"reviewed 2032-01-01: no policing purpose remains\")"))
}

/// Runs `nrmp audit …`.
pub async fn run_audit(cmd: AuditCommand, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::Verify(a) => verify(a).await,
        AuditCommand::Export(a) => export(a, clock).await,
    }
}

async fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    let store = super::open_migrated(&args.db.database).await?;
    let total = store.counts().await?.audit_events;
    let pb = progress::bar(total, "events");
    let report = store
        .verify_audit_chain(&|n| pb.set_position(n))
        .await
        .context("reading the audit log")?;
    pb.finish_and_clear();
    if let Some(b) = report.first_break {
        bail!("{b} ({} events before it verified)", report.events);
    }
    println!(
        "{} audit events verified; head seq {} hash {}",
        report.events, report.head.seq, report.head.hash
    );
    Ok(())
}

/// One event of a trail as exported: the event and, for a search, its stored query while it is
/// still kept (an erasure of a person it concerned deletes it).
#[derive(serde::Serialize)]
struct TrailEvent<'a> {
    #[serde(flatten)]
    event: &'a AuditEvent,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<&'a str>,
}

fn write_trail(
    w: &mut dyn Write,
    events: &[AuditEvent],
    queries: &BTreeMap<i64, String>,
    format: TrailFormat,
) -> anyhow::Result<()> {
    let trail: Vec<TrailEvent<'_>> = events
        .iter()
        .map(|event| TrailEvent {
            event,
            query: queries.get(&event.seq).map(String::as_str),
        })
        .collect();
    match format {
        TrailFormat::Json => {
            serde_json::to_writer_pretty(&mut *w, &trail)?;
            writeln!(w)?;
        }
        TrailFormat::Csv => {
            let mut c = csv::Writer::from_writer(w);
            c.write_record([
                "seq",
                "at",
                "user",
                "org",
                "action",
                "record_kind",
                "record_ids",
                "reason",
                "detail",
                "query",
            ])?;
            for t in &trail {
                let e = t.event;
                c.write_record([
                    e.seq.to_string(),
                    nrmp_store::records::ts(e.at),
                    e.actor.user.clone(),
                    e.actor.org.to_string(),
                    e.action.as_str().to_owned(),
                    e.record_kind.clone(),
                    e.record_ids.join(" "),
                    e.reason.clone(),
                    e.detail.clone(),
                    t.query.unwrap_or_default().to_owned(),
                ])?;
            }
            c.flush()?;
        }
    }
    Ok(())
}

async fn export(args: AuditExportArgs, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let person = PersonId::parse("--person", &args.person)?;
    let store = super::open_migrated(&args.db.database).await?;
    let principal = args.actor.principal(store.as_ref()).await?;
    let target = args
        .out
        .as_ref()
        .map_or_else(|| "standard output".to_owned(), |p| p.display().to_string());
    let trail = crate::register(store, clock)
        .audit_trail(&principal, args.actor.stated_reason(), person, &target)
        .await
        .map_err(|e| use_case_error(e, &principal))?;
    let (events, queries) = (&trail.events, &trail.queries);
    match &args.out {
        Some(path) => {
            let f = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut w = std::io::BufWriter::new(f);
            write_trail(&mut w, events, queries, args.format)?;
            w.flush()?;
            eprintln!("{} events written to {}", events.len(), path.display());
        }
        None => write_trail(&mut std::io::stdout().lock(), events, queries, args.format)?,
    }
    Ok(())
}

/// Runs `nrmp retention …`.
pub async fn run_retention(cmd: RetentionCommand, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    match cmd {
        RetentionCommand::Due(a) => due(a, clock).await,
        RetentionCommand::Keep(a) => keep(a, clock).await,
        RetentionCommand::Erase(a) => erase(a, clock).await,
    }
}

async fn due(args: DueArgs, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let as_of: NaiveDate = match &args.as_of {
        Some(s) => parse_date("--as-of", s)?,
        None => clock.now().date_naive(),
    };
    let store = super::open_migrated(&args.db.database).await?;
    let principal = args.actor.principal(store.as_ref()).await?;
    let due = crate::register(store, clock)
        .reviews_due(&principal, as_of, args.limit)
        .await
        .map_err(|e| use_case_error(e, &principal))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "review due  kind          id                                    last decision"
    )?;
    for r in &due {
        let last = match (&r.last_decision, &r.decided_at) {
            (Some(d), Some(at)) => format!("{d} on {}", at.get(..10).unwrap_or(at)),
            _ => "never reviewed".to_owned(),
        };
        writeln!(
            out,
            "{}  {:<12}  {:<36}  {last}",
            r.review_date,
            r.kind.as_str(),
            r.id
        )?;
    }
    writeln!(out, "{} due on or before {as_of}", due.len())?;
    Ok(())
}

async fn keep(args: KeepArgs, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let kind = SubjectKind::parse("--kind", &args.kind)?;
    let next = parse_date("--next-review", &args.next_review)?;
    let reason = required_reason(&args.actor, "a decision to keep records must say why")?;
    let store = super::open_migrated(&args.db.database).await?;
    let principal = args.actor.principal(store.as_ref()).await?;
    crate::register(store, clock)
        .keep_records(&principal, Some(reason), kind, args.id.trim(), next)
        .await
        .map_err(|e| use_case_error(e, &principal))?;
    println!(
        "{} {}: kept; next review {next}",
        kind.as_str(),
        args.id.trim()
    );
    Ok(())
}

async fn erase(args: EraseArgs, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let person = PersonId::parse("--person", &args.person)?;
    let reason = required_reason(&args.actor, "an erasure must say why")?;
    let store = super::open_migrated(&args.db.database).await?;
    let principal = args.actor.principal(store.as_ref()).await?;
    let report = crate::register(store, clock)
        .erase_person(&principal, Some(reason), person)
        .await
        .map_err(|e| use_case_error(e, &principal))?;
    println!("person {person} erased: {}", report.summary());
    Ok(())
}
