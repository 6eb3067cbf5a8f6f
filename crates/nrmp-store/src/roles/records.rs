//! The register's records one at a time: writing them (each write audited and put in the
//! outbox in its own transaction, with the cross-record invariants checked there) and the
//! audited reads of one record — plus the reference data (organisations, spend per child).

use crate::{Ctx, Result};
use async_trait::async_trait;
use nrmp_domain::found::FoundPerson;
use nrmp_domain::ids::{FoundPersonId, IncidentId, PersonId, ProfileId};
use nrmp_domain::incident::Incident;
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::organisation::{AuthoritySpend, Organisation};
use nrmp_domain::person::Person;
use nrmp_domain::placement::Placement;
use nrmp_domain::profile::PrefilledProfile;

/// A person and everything linked to them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PersonHistory {
    /// The person.
    pub person: Person,
    /// Their incidents, oldest first.
    pub incidents: Vec<Incident>,
    /// Their NRM referrals.
    pub referrals: Vec<NrmReferral>,
    /// Their placements.
    pub placements: Vec<Placement>,
    /// The latest version of each of their profiles.
    pub profiles: Vec<PrefilledProfile>,
}

/// Writing and reading single records, audited.
#[async_trait]
pub trait RecordStore: Send + Sync {
    /// Creates or updates organisations (reference data).
    async fn put_organisations(&self, ctx: &Ctx, orgs: &[Organisation]) -> Result<()>;
    /// All organisations, by code.
    async fn organisations(&self) -> Result<Vec<Organisation>>;
    /// Replaces the spend-per-child table with `rows` in one transaction (audited as an
    /// import). Refuses, storing nothing, a row that is invalid, names an organisation that is
    /// not a local authority on the register, or repeats an authority and year.
    async fn replace_spend(&self, ctx: &Ctx, rows: &[AuthoritySpend]) -> Result<()>;
    /// The spend-per-child table, by authority and year (public figures: not audited).
    async fn spend(&self) -> Result<Vec<AuthoritySpend>>;

    /// Adds a person.
    async fn create_person(&self, ctx: &Ctx, person: &Person) -> Result<()>;
    /// Replaces a person's record.
    async fn update_person(&self, ctx: &Ctx, person: &Person) -> Result<()>;
    /// Reads a person (audited as a consultation).
    async fn person(&self, ctx: &Ctx, id: PersonId) -> Result<Person>;
    /// Reads a person with their incidents, referrals, placements and profiles (audited).
    async fn person_history(&self, ctx: &Ctx, id: PersonId) -> Result<PersonHistory>;

    /// Adds an incident; refused if it overlaps another incident of the same person.
    async fn create_incident(&self, ctx: &Ctx, incident: &Incident) -> Result<()>;
    /// Replaces an incident (grade change, sighting, return, interview); the same checks apply,
    /// and the risk-grade history may only grow.
    async fn update_incident(&self, ctx: &Ctx, incident: &Incident) -> Result<()>;
    /// Replaces an incident only if it is still `expected` (as read before the change):
    /// otherwise [`StoreError::Conflict`](crate::StoreError::Conflict), so that two concurrent
    /// changes (two sightings added at once) cannot silently drop one. The checks of
    /// [`RecordStore::update_incident`] apply.
    async fn update_incident_from(
        &self,
        ctx: &Ctx,
        expected: &Incident,
        incident: &Incident,
    ) -> Result<()>;
    /// Reads an incident (audited).
    async fn incident(&self, ctx: &Ctx, id: IncidentId) -> Result<Incident>;

    /// Adds an NRM referral.
    async fn create_referral(&self, ctx: &Ctx, referral: &NrmReferral) -> Result<()>;
    /// Replaces an NRM referral (e.g. a grounds decision).
    async fn update_referral(&self, ctx: &Ctx, referral: &NrmReferral) -> Result<()>;
    /// Adds a placement.
    async fn create_placement(&self, ctx: &Ctx, placement: &Placement) -> Result<()>;
    /// Replaces a placement (e.g. its end).
    async fn update_placement(&self, ctx: &Ctx, placement: &Placement) -> Result<()>;

    /// Saves a profile version; it must be version 1 of a new profile or the next version of
    /// an existing one. Old versions are never changed.
    async fn save_profile(&self, ctx: &Ctx, profile: &PrefilledProfile) -> Result<()>;
    /// Reads a profile: the given version, or the latest (audited).
    async fn profile(
        &self,
        ctx: &Ctx,
        id: ProfileId,
        version: Option<u32>,
    ) -> Result<PrefilledProfile>;

    /// Adds a found / unidentified person.
    async fn create_found_person(&self, ctx: &Ctx, found: &FoundPerson) -> Result<()>;
    /// Replaces a found-person record (e.g. once identified).
    async fn update_found_person(&self, ctx: &Ctx, found: &FoundPerson) -> Result<()>;
    /// Reads a found-person record (audited).
    async fn found_person(&self, ctx: &Ctx, id: FoundPersonId) -> Result<FoundPerson>;
}
