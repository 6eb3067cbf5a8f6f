//! `nrmp migrate`: applies the embedded migrations of the database's backend.

use crate::DatabaseArg;
use anyhow::Context;
use clap::Args;
use nrmp_store::redact_url;

/// Arguments of `nrmp migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    db: DatabaseArg,
}

/// Runs `nrmp migrate`.
pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    super::open_migrated(&args.db.database)
        .await
        .with_context(|| format!("migrating {}", redact_url(&args.db.database)))?;
    println!("{}: schema is up to date", redact_url(&args.db.database));
    Ok(())
}
