//! `nrmp export`: writes the whole register to a dataset directory — the application layer's
//! [`nrmp_app::Register::export_register`], as the register user `--as-user` (the policy lets
//! only the national unit's analysts export the register; the disclosure, to whom and why, or a
//! refusal, is audited).

use crate::{ActorArgs, DatabaseArg, progress, use_case_error};
use clap::Args;
use nrmp_domain::clock::Clock;
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `nrmp export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Directory to write (created; must be empty or new).
    #[arg(long)]
    pub out: PathBuf,
    /// File format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: super::FormatArg,
    /// Who the data is disclosed to (recorded in the audit log; the reason if `--reason` is not given).
    #[arg(long)]
    pub recipient: String,
    /// The register.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// The register user who exports, and why.
    #[command(flatten)]
    pub actor: ActorArgs,
}

/// Runs `nrmp export`.
pub async fn run(args: ExportArgs, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let store = super::open_migrated(&args.db.database).await?;
    let principal = args.actor.principal(store.as_ref()).await?;
    let register = crate::register(store, clock);
    let spinners = progress::Spinners::default();
    let exported = register
        .export_register(
            &principal,
            args.actor.stated_reason(),
            &args.recipient,
            &args.out,
            args.format.into(),
            Some(&spinners),
        )
        .await
        .map_err(|e| use_case_error(e, &principal))?;
    spinners.finish_all();
    for f in exported.files {
        println!("{:>8} {}", f.records, f.path.display());
    }
    println!(
        "exported {} records for {}",
        exported.total,
        args.recipient.trim()
    );
    Ok(())
}
