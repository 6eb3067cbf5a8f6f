//! The register as a whole, in and out: [`Register::export_register`] writes every record to a
//! dataset directory (a disclosure), [`Register::import_dataset`] loads one (a restore or a
//! migration), all or nothing by default ([`import`]).
//!
//! Both are decided by the need-to-know policy on the register as a whole, like any other use
//! case: the export is `export` at scope `register` (the national unit's analysts, with the
//! recipient as the reason), the import `create` at scope `register` (the national unit's
//! administrators, with a reason). A refusal is audited; so is what was done.

pub mod import;

use crate::Register;
use crate::access::Attempt;
use crate::error::{AppError, AppResult};
use import::{Options, Progress, Report};
use nrmp_domain::access::{Action, Principal, ResourceKind, Target};
use nrmp_domain::audit::AuditAction;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::incident::Incident;
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::organisation::Organisation;
use nrmp_domain::person::Person;
use nrmp_domain::placement::Placement;
use nrmp_domain::profile::PrefilledProfile;
use nrmp_interchange::{DatasetFiles, DatasetWriter, Format, WrittenFile};
use nrmp_store::{Store, Stored, scan_all};
use std::path::Path;

/// The kinds of case record a dataset holds: the export needs `export` of each, the import
/// `create` of each, on the register as a whole.
const CASE_KINDS: [ResourceKind; 6] = [
    ResourceKind::Person,
    ResourceKind::Incident,
    ResourceKind::Profile,
    ResourceKind::Placement,
    ResourceKind::NrmReferral,
    ResourceKind::FoundPerson,
];

/// Records read from the store per page while exporting.
const PAGE: u32 = 5_000;

/// What an export wrote.
#[derive(Debug)]
pub struct Exported {
    /// Every file written, with its record count.
    pub files: Vec<WrittenFile>,
    /// Records written in all.
    pub total: u64,
}

impl Register {
    /// Decides `action` on every kind of case record for the register as a whole; a refusal is
    /// audited as `audit`.
    async fn decide_bulk(
        &self,
        caller: &Principal,
        action: Action,
        reason: Option<&str>,
        audit: AuditAction,
    ) -> AppResult<()> {
        for resource in CASE_KINDS {
            let attempt = Attempt {
                action,
                resource,
                ids: &[],
            };
            self.decide_audited(caller, attempt, &Target::Register, reason, audit)
                .await?;
        }
        Ok(())
    }

    /// Writes the whole register to the new or empty directory `out` for `recipient`, who is
    /// recorded with the stated reason (the recipient is the reason when none is given). The
    /// disclosure is audited before this returns; if the audit cannot be written, the files are
    /// removed again.
    pub async fn export_register(
        &self,
        caller: &Principal,
        reason: Option<&str>,
        recipient: &str,
        out: &Path,
        format: Format,
        progress: Option<&dyn Progress>,
    ) -> AppResult<Exported> {
        let recipient = recipient.trim();
        if recipient.is_empty() {
            return Err(AppError::invalid(
                "recipient",
                "is empty; say who receives the data",
            ));
        }
        let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => r.to_owned(),
            None => format!("export for {recipient}"),
        };
        self.decide_bulk(caller, Action::Export, Some(&reason), AuditAction::Disclose)
            .await?;
        if out.exists()
            && std::fs::read_dir(out)
                .map_err(|e| AppError::invalid("out", format!("{}: {e}", out.display())))?
                .next()
                .is_some()
        {
            return Err(AppError::invalid(
                "out",
                format!("{} is not empty", out.display()),
            ));
        }
        let written = self.write_dataset(out, format, progress).await;
        let (files, total) = match written {
            Ok(w) => w,
            Err(e) => {
                let _ = std::fs::remove_dir_all(out);
                return Err(e);
            }
        };
        let detail = format!(
            "exported {total} records to {} for {recipient}",
            out.display()
        );
        if let Err(e) = self
            .store
            .record_audit(
                &self.ctx(caller, Some(&reason)),
                AuditAction::Disclose,
                "dataset",
                &[],
                &detail,
            )
            .await
        {
            // No audit, no disclosure.
            let _ = std::fs::remove_dir_all(out);
            return Err(e.into());
        }
        Ok(Exported { files, total })
    }

    async fn write_dataset(
        &self,
        out: &Path,
        format: Format,
        progress: Option<&dyn Progress>,
    ) -> AppResult<(Vec<WrittenFile>, u64)> {
        let s = self.store.as_ref();
        let mut w = DatasetWriter::create(out, format).map_err(write_error)?;
        let mut total = 0;
        total += write_kind::<Organisation>(s, &mut w, DatasetWriter::write_organisation, progress)
            .await?;
        total += write_kind::<Person>(s, &mut w, DatasetWriter::write_person, progress).await?;
        total += write_kind::<PrefilledProfile>(s, &mut w, DatasetWriter::write_profile, progress)
            .await?;
        total += write_kind::<Incident>(s, &mut w, DatasetWriter::write_incident, progress).await?;
        total +=
            write_kind::<NrmReferral>(s, &mut w, DatasetWriter::write_referral, progress).await?;
        total +=
            write_kind::<Placement>(s, &mut w, DatasetWriter::write_placement, progress).await?;
        total += write_kind::<FoundPerson>(s, &mut w, DatasetWriter::write_found_person, progress)
            .await?;
        let files = w.finish().map_err(write_error)?;
        Ok((files, total))
    }

    /// Loads the dataset in `files` into the register, as `caller` with the stated reason (the
    /// import's audit event carries both). Dates of birth are checked against today. The
    /// report lists every bad row; without `skip_invalid` one bad row means nothing is loaded.
    pub async fn import_dataset(
        &self,
        caller: &Principal,
        reason: Option<&str>,
        files: &DatasetFiles,
        opts: Options,
    ) -> AppResult<Report> {
        self.decide_bulk(caller, Action::Create, reason, AuditAction::Import)
            .await?;
        if files.files().is_empty() {
            return Err(AppError::invalid(
                "dataset",
                format!(
                    "{}: no dataset files (persons.csv, incidents.csv… or .jsonl)",
                    files.dir().display()
                ),
            ));
        }
        let ctx = self.ctx(caller, reason);
        let today = ctx.at.date_naive();
        import::import_dataset(self.store.as_ref(), &ctx, files, today, opts).await
    }
}

async fn write_kind<T: Stored + 'static>(
    store: &dyn Store,
    w: &mut DatasetWriter,
    write: fn(&mut DatasetWriter, &T) -> Result<(), nrmp_interchange::Error>,
    progress: Option<&dyn Progress>,
) -> AppResult<u64> {
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
        if let Some(p) = progress {
            p.advance("records", page.len() as u64);
        }
        Ok(())
    })
    .await?;
    match failure {
        Some(e) => Err(write_error(e)),
        None => Ok(n),
    }
}

fn write_error(e: nrmp_interchange::Error) -> AppError {
    AppError::Internal(format!("writing the export: {e}"))
}
