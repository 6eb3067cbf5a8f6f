//! Reading the register into an analysis [`Snapshot`] (feature `store`).
//!
//! The four record kinds (persons, incidents, NRM referrals, placements) are scanned
//! **concurrently**, page by page through the store's `scan`; each page's JSON is decoded on
//! the rayon pool while the next page is fetched. Only the fields the statistics use are
//! decoded (ids, date of birth, sex, first nationality, times, force, authority, placement type
//! and flags): each through the domain type's own validating deserialiser, so a malformed value
//! is still an error, but names, descriptions, risk histories and the like are skipped rather
//! than parsed. The records are then handed to the [`SnapshotBuilder`] in the same order as a
//! sequential read would, so the snapshot does not depend on which scan finished first.

use crate::error::{AnalysisError, Result};
use crate::snapshot::{IncidentInput, PersonInput, PlacementInput, Snapshot, SnapshotBuilder, Ts};
use chrono::{DateTime, NaiveDate, Utc};
use nrmp_domain::ids::PersonId;
use nrmp_domain::incident::IncidentCategory;
use nrmp_domain::organisation::OrgCode;
use nrmp_domain::person::{DateOfBirth, Nationality, Sex};
use nrmp_domain::placement::PlacementType;
use nrmp_store::prelude::*;
use nrmp_store::{RecordKind, ScanKey, StoreError};
use rayon::prelude::*;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Page size for reading the register.
pub const PAGE: u32 = 20_000;

/// The fields of a stored `Person` that the snapshot uses.
#[derive(Deserialize)]
struct PersonFields {
    id: PersonId,
    #[serde(default)]
    dob: Option<DateOfBirth>,
    sex: Sex,
    #[serde(default)]
    nationalities: Vec<Nationality>,
}

impl From<PersonFields> for PersonInput {
    fn from(p: PersonFields) -> Self {
        PersonInput {
            id: p.id,
            dob: p.dob.as_ref().map(DateOfBirth::best_estimate),
            sex: p.sex,
            nationality: p.nationalities.first().map(|n| n.as_str().to_owned()),
        }
    }
}

#[derive(Deserialize)]
struct ReturnFields {
    found_at: DateTime<Utc>,
}

/// The fields of a stored `Incident` that the snapshot uses.
#[derive(Deserialize)]
struct IncidentFields {
    person_id: PersonId,
    force_missing: OrgCode,
    category: IncidentCategory,
    last_seen_at: DateTime<Utc>,
    #[serde(default)]
    returned: Option<ReturnFields>,
}

impl From<IncidentFields> for IncidentInput {
    fn from(i: IncidentFields) -> Self {
        IncidentInput {
            person: i.person_id,
            start: i.last_seen_at.timestamp(),
            end: i.returned.map(|r| r.found_at.timestamp()),
            force: i.force_missing.as_str().to_owned(),
            category: i.category,
        }
    }
}

/// The fields of a stored `NrmReferral` that the snapshot uses.
#[derive(Deserialize)]
struct ReferralFields {
    person_id: PersonId,
    referred_on: NaiveDate,
}

impl From<ReferralFields> for (PersonId, NaiveDate) {
    fn from(r: ReferralFields) -> Self {
        (r.person_id, r.referred_on)
    }
}

/// The fields of a stored `Placement` that the snapshot uses.
#[derive(Deserialize)]
struct PlacementFields {
    person_id: PersonId,
    placing_authority: OrgCode,
    placement_type: PlacementType,
    started_at: DateTime<Utc>,
    #[serde(default)]
    ended_at: Option<DateTime<Utc>>,
    unaccompanied: bool,
}

impl From<PlacementFields> for PlacementInput {
    fn from(p: PlacementFields) -> Self {
        PlacementInput {
            person: p.person_id,
            start: p.started_at.timestamp(),
            end: p.ended_at.map(|e| e.timestamp()),
            placing: p.placing_authority.as_str().to_owned(),
            placement_type: p.placement_type,
            unaccompanied: p.unaccompanied,
        }
    }
}

/// Decodes one page on the rayon pool.
fn decode_page<F, O>(
    kind: &'static str,
    rows: Vec<(ScanKey, String)>,
) -> std::result::Result<Vec<O>, StoreError>
where
    F: DeserializeOwned + Into<O>,
    O: Send,
{
    rows.par_iter()
        .map(|(key, json)| {
            serde_json::from_str::<F>(json)
                .map(Into::into)
                .map_err(|source| StoreError::Corrupt {
                    kind,
                    id: key.0.clone(),
                    source,
                })
        })
        .collect()
}

/// Scans every record of `kind`, decoding page `n` while page `n + 1` is fetched.
async fn scan_kind<F, O>(
    store: &dyn Store,
    page: u32,
    kind: RecordKind,
    name: &'static str,
    what: &'static str,
) -> Result<Vec<O>>
where
    F: DeserializeOwned + Into<O>,
    O: Send + 'static,
{
    let err = |source| AnalysisError::Store { what, source };
    let mut out: Vec<O> = Vec::new();
    let mut after: Option<ScanKey> = None;
    let mut pending: Option<Decoded<O>> = None;
    loop {
        let rows = store.scan(kind, after.clone(), page).await.map_err(err)?;
        let n = rows.len();
        after = rows.last().map(|(k, _)| k.clone());
        if let Some(rx) = pending.take() {
            out.extend(receive(rx, what).await?);
        }
        if n == 0 {
            break;
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        rayon::spawn(move || {
            // The receiver only goes away if the load was abandoned.
            let _ = tx.send(decode_page::<F, O>(name, rows));
        });
        pending = Some(rx);
        if n < page as usize {
            break;
        }
    }
    if let Some(rx) = pending {
        out.extend(receive(rx, what).await?);
    }
    Ok(out)
}

type Decoded<O> = tokio::sync::oneshot::Receiver<std::result::Result<Vec<O>, StoreError>>;

async fn receive<O>(rx: Decoded<O>, what: &'static str) -> Result<Vec<O>> {
    rx.await
        .map_err(|_| AnalysisError::Internal(format!("decoding {what}: a worker stopped")))?
        .map_err(|source| AnalysisError::Store { what, source })
}

/// Reads the whole register into an analysis snapshot ending at `end_of_data`. Reading is
/// not audited here: the caller records who asked for which statistics.
///
/// # Errors
/// [`AnalysisError::Store`] naming the records being read (a malformed stored record is
/// `StoreError::Corrupt` with its id).
pub async fn load_snapshot(store: &dyn Store, end_of_data: Ts) -> Result<Snapshot> {
    load_snapshot_paged(store, end_of_data, PAGE).await
}

/// [`load_snapshot`] reading `page` records at a time.
///
/// # Errors
/// As [`load_snapshot`].
pub async fn load_snapshot_paged(
    store: &dyn Store,
    end_of_data: Ts,
    page: u32,
) -> Result<Snapshot> {
    let page = page.max(1);
    let (persons, incidents, referrals, placements) = tokio::try_join!(
        scan_kind::<PersonFields, PersonInput>(
            store,
            page,
            RecordKind::Person,
            "person",
            "persons"
        ),
        scan_kind::<IncidentFields, IncidentInput>(
            store,
            page,
            RecordKind::Incident,
            "incident",
            "incidents"
        ),
        scan_kind::<ReferralFields, (PersonId, NaiveDate)>(
            store,
            page,
            RecordKind::Referral,
            "referral",
            "referrals"
        ),
        scan_kind::<PlacementFields, PlacementInput>(
            store,
            page,
            RecordKind::Placement,
            "placement",
            "placements"
        ),
    )?;
    let mut b = SnapshotBuilder::new();
    persons.into_iter().for_each(|p| b.person_input(p));
    incidents.into_iter().for_each(|i| b.incident_input(i));
    referrals
        .into_iter()
        .for_each(|(p, d)| b.referral_input(p, d));
    placements.into_iter().for_each(|p| b.placement_input(p));
    let s = b.finish(end_of_data);
    if s.orphans > 0 {
        tracing::warn!(
            orphans = s.orphans,
            "records whose person is not on the register were skipped"
        );
    }
    Ok(s)
}

/// The register's spend-per-child table (empty if none was imported).
///
/// # Errors
/// [`AnalysisError::Store`] if it cannot be read.
pub async fn load_spend(store: &dyn Store) -> Result<crate::spend::SpendTable> {
    let rows = store.spend().await.map_err(|source| AnalysisError::Store {
        what: "spend per child",
        source,
    })?;
    Ok(crate::spend::SpendTable::from_rows(&rows))
}
