//! `nrmp export`: writes the whole register to a dataset directory, recording the disclosure
//! (to whom, why) in the audit log.

use crate::{ActorArgs, DatabaseArg, progress};
use anyhow::Context;
use clap::Args;
use nrmp_domain::audit::AuditAction;
use nrmp_domain::clock::Clock;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::incident::Incident;
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::organisation::Organisation;
use nrmp_domain::person::Person;
use nrmp_domain::placement::Placement;
use nrmp_domain::profile::PrefilledProfile;
use nrmp_interchange::DatasetWriter;
use nrmp_store::prelude::*;
use nrmp_store::{Stored, scan_all};
use std::path::PathBuf;

/// Arguments of `nrmp export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Directory to write (created; must be empty or new).
    #[arg(long)]
    pub out: PathBuf,
    /// File format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: super::FormatArg,
    /// Who the data is disclosed to (recorded in the audit log).
    #[arg(long)]
    pub recipient: String,
    /// The register.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Who is acting, for the audit log.
    #[command(flatten)]
    pub actor: ActorArgs,
}

const PAGE: u32 = 5_000;

async fn export_kind<T: Stored + 'static>(
    store: &dyn Store,
    w: &mut DatasetWriter,
    write: fn(&mut DatasetWriter, &T) -> Result<(), nrmp_interchange::Error>,
    pb: &indicatif::ProgressBar,
) -> anyhow::Result<u64> {
    let mut n = 0;
    let mut failure = None;
    scan_all::<T>(store, PAGE, |page| {
        for r in &page {
            if let Err(e) = write(w, r) {
                failure = Some(e);
                return Ok(());
            }
        }
        n += page.len() as u64;
        pb.inc(page.len() as u64);
        Ok(())
    })
    .await?;
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(n),
    }
}

/// Runs `nrmp export`.
pub async fn run(args: ExportArgs, clock: &dyn Clock) -> anyhow::Result<()> {
    if args.recipient.trim().is_empty() {
        anyhow::bail!("--recipient: is empty; say who receives the data");
    }
    if args.out.exists()
        && std::fs::read_dir(&args.out)
            .with_context(|| format!("reading {}", args.out.display()))?
            .next()
            .is_some()
    {
        anyhow::bail!("--out: {} is not empty", args.out.display());
    }
    let store = super::open_migrated(&args.db.database).await?;
    let ctx = args.actor.ctx(clock)?;
    let s = store.as_ref();
    let mut w = DatasetWriter::create(&args.out, args.format.into())?;
    let pb = progress::counter("records");
    let mut total = 0;
    total += export_kind::<Organisation>(s, &mut w, DatasetWriter::write_organisation, &pb).await?;
    total += export_kind::<Person>(s, &mut w, DatasetWriter::write_person, &pb).await?;
    total += export_kind::<PrefilledProfile>(s, &mut w, DatasetWriter::write_profile, &pb).await?;
    total += export_kind::<Incident>(s, &mut w, DatasetWriter::write_incident, &pb).await?;
    total += export_kind::<NrmReferral>(s, &mut w, DatasetWriter::write_referral, &pb).await?;
    total += export_kind::<Placement>(s, &mut w, DatasetWriter::write_placement, &pb).await?;
    total += export_kind::<FoundPerson>(s, &mut w, DatasetWriter::write_found_person, &pb).await?;
    pb.finish_and_clear();
    let files = w.finish()?;
    store
        .record_audit(
            &ctx,
            AuditAction::Disclose,
            "dataset",
            &[],
            &format!(
                "exported {total} records to {} for {}",
                args.out.display(),
                args.recipient
            ),
        )
        .await?;
    for f in files {
        println!("{:>8} {}", f.records, f.path.display());
    }
    println!("exported {total} records for {}", args.recipient);
    Ok(())
}
