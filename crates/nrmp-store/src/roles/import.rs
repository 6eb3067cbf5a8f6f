//! Bulk loading: an all-or-nothing import in one transaction, audited once at commit.

use crate::records::RecordKind;
use crate::{Ctx, Result};
use async_trait::async_trait;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::ids::PersonId;
use nrmp_domain::incident::Incident;
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::organisation::Organisation;
use nrmp_domain::person::Person;
use nrmp_domain::placement::Placement;
use nrmp_domain::profile::PrefilledProfile;
use std::collections::HashSet;

/// Starting a bulk load.
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Starts an all-or-nothing bulk load.
    async fn begin_import(&self, ctx: &Ctx) -> Result<Box<dyn ImportSession>>;
}

/// A bulk load in one transaction: nothing is visible until [`ImportSession::commit`], and
/// dropping or rolling back leaves the register unchanged.
#[async_trait]
pub trait ImportSession: Send {
    /// Inserts or updates organisations.
    async fn organisations(&mut self, rows: &[Organisation]) -> Result<()>;
    /// Inserts persons.
    async fn persons(&mut self, rows: &[Person]) -> Result<()>;
    /// Inserts incidents (the caller has checked overlaps, see [`ImportSession::incidents_of`]).
    async fn incidents(&mut self, rows: &[Incident]) -> Result<()>;
    /// Inserts NRM referrals.
    async fn referrals(&mut self, rows: &[NrmReferral]) -> Result<()>;
    /// Inserts placements.
    async fn placements(&mut self, rows: &[Placement]) -> Result<()>;
    /// Inserts profile versions.
    async fn profiles(&mut self, rows: &[PrefilledProfile]) -> Result<()>;
    /// Inserts found persons.
    async fn found_persons(&mut self, rows: &[FoundPerson]) -> Result<()>;
    /// Which of `keys` (values of the first key column of `kind`: ids, or organisation codes)
    /// are already stored.
    async fn existing_keys(&mut self, kind: RecordKind, keys: &[String])
    -> Result<HashSet<String>>;
    /// Which organisation codes exist.
    async fn existing_organisations(&mut self) -> Result<HashSet<String>>;
    /// Stored incidents of these persons.
    async fn incidents_of(&mut self, ids: &[PersonId]) -> Result<Vec<Incident>>;
    /// Commits, with one audit event describing the import.
    async fn commit(self: Box<Self>, detail: &str) -> Result<()>;
    /// Abandons the import.
    async fn rollback(self: Box<Self>) -> Result<()>;
}
