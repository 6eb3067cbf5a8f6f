//! `nrmp backup` and `nrmp restore`: a consistent copy of the whole register, taken online, and
//! its restore into an empty database, refused when the copy's audit chain does not verify or
//! the copy differs from its manifest (nrmp_store::backup). A backup is a disclosure of the
//! whole register: it is recorded in the audit log of the register it was taken from.

use crate::{ActorArgs, DatabaseArg};
use anyhow::Context;
use clap::Args;
use nrmp_domain::audit::AuditAction;
use nrmp_domain::clock::Clock;
use nrmp_store::backup::{Manifest, backup, manifest_path, restore};
use nrmp_store::redact_url;
use std::path::PathBuf;

/// Arguments of `nrmp backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    db: DatabaseArg,
    /// The backup file to write (must not exist); its manifest goes beside it as
    /// `FILE.manifest.json`. SQLite: a database file; PostgreSQL: a `pg_dump` custom-format
    /// archive (PostgreSQL's client tools must be on PATH).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    actor: ActorArgs,
}

/// Arguments of `nrmp restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file written by `nrmp backup` (its manifest beside it).
    #[arg(long)]
    from: PathBuf,
    /// The database to restore into: a SQLite file that does not exist yet, or an empty
    /// PostgreSQL database.
    #[command(flatten)]
    db: DatabaseArg,
}

fn summary(m: &Manifest) -> String {
    let rows: u64 = m.tables.values().map(|t| t.rows).sum();
    format!(
        "{} tables, {rows} rows, audit chain of {} events",
        m.tables.len(),
        m.chain_seq
    )
}

/// Runs `nrmp backup`.
pub async fn run_backup(args: BackupArgs, clock: &dyn Clock) -> anyhow::Result<()> {
    let url = &args.db.database;
    let ctx = args.actor.ctx(clock)?;
    let store = super::open_migrated(url).await?;
    let manifest = backup(url, &args.out)
        .await
        .with_context(|| format!("backing up {}", redact_url(url)))?;
    let file = args
        .out
        .file_name()
        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    store
        .record_audit(
            &ctx,
            AuditAction::Disclose,
            "register",
            &[],
            &format!("backup to {file} ({})", summary(&manifest)),
        )
        .await?;
    println!(
        "backed up {} to {} ({}); manifest {}",
        redact_url(url),
        args.out.display(),
        summary(&manifest),
        manifest_path(&args.out).display()
    );
    Ok(())
}

/// Runs `nrmp restore`.
pub async fn run_restore(args: RestoreArgs) -> anyhow::Result<()> {
    let url = &args.db.database;
    let manifest = restore(&args.from, url)
        .await
        .with_context(|| format!("restoring {} into {}", args.from.display(), redact_url(url)))?;
    println!(
        "restored {} into {} ({}); the audit chain verifies and every table matches the manifest",
        args.from.display(),
        redact_url(url),
        summary(&manifest)
    );
    Ok(())
}
