//! Reading the register into an analysis [`Snapshot`] (feature `store`): every person,
//! incident, NRM referral and placement, through the store's `scan`.

use crate::error::{AnalysisError, Result};
use crate::snapshot::{Snapshot, SnapshotBuilder, Ts};
use nrmp_domain::incident::Incident;
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::person::Person;
use nrmp_domain::placement::Placement;
use nrmp_store::Store;

/// Page size for reading the register.
pub const PAGE: u32 = 20_000;

/// Reads the whole register into an analysis snapshot ending at `end_of_data`. Reading is
/// not audited here: the caller records who asked for which statistics.
///
/// # Errors
/// [`AnalysisError::Store`] naming the records being read.
pub async fn load_snapshot(store: &dyn Store, end_of_data: Ts) -> Result<Snapshot> {
    let err = |what: &'static str| move |source| AnalysisError::Store { what, source };
    let mut b = SnapshotBuilder::new();
    nrmp_store::scan_all::<Person>(store, PAGE, |page| {
        page.iter().for_each(|p| b.person(p));
        Ok(())
    })
    .await
    .map_err(err("persons"))?;
    nrmp_store::scan_all::<Incident>(store, PAGE, |page| {
        page.iter().for_each(|i| b.incident(i));
        Ok(())
    })
    .await
    .map_err(err("incidents"))?;
    nrmp_store::scan_all::<NrmReferral>(store, PAGE, |page| {
        page.iter().for_each(|r| b.referral(r));
        Ok(())
    })
    .await
    .map_err(err("referrals"))?;
    nrmp_store::scan_all::<Placement>(store, PAGE, |page| {
        page.iter().for_each(|p| b.placement(p));
        Ok(())
    })
    .await
    .map_err(err("placements"))?;
    let s = b.finish(end_of_data);
    if s.orphans > 0 {
        tracing::warn!(
            orphans = s.orphans,
            "records whose person is not on the register were skipped"
        );
    }
    Ok(s)
}
