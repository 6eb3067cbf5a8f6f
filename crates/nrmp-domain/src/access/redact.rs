//! Redacted, serialisable views of records: a field the grant does not include is not in the
//! view at all — not `null`, not empty, absent — so a client cannot tell "withheld" from "never
//! existed" only where that is intended, and nothing withheld can leak through serialisation.
//!
//! A field the grant includes but the record lacks (an unknown date of birth, an incident not
//! yet returned) is serialised as `null`.

use super::context::Subject;
use super::field::{Field, FieldSet};
use super::policy::ResourceKind;
use crate::found::FoundPerson;
use crate::identifier::Identifier;
use crate::ids::{FoundPersonId, IncidentId, PersonId, PlacementId, ProfileId, ReferralId};
use crate::incident::{
    GradeChange, Incident, IncidentCategory, Place, ReturnOutcome, RiskGrade, Sighting,
};
use crate::nrm::{Decision as GroundsDecision, ExploitationType, NrmReferral};
use crate::organisation::OrgCode;
use crate::person::{
    Build, DateOfBirth, Description, Language, Mark, Nationality, Person, PersonName, PhotoMeta,
    Sex,
};
use crate::placement::{Placement, PlacementType};
use crate::profile::PrefilledProfile;
use chrono::{DateTime, Utc};

/// A record that can be shown through a [`FieldSet`].
pub trait Redact {
    /// The kind of resource the record is.
    const RESOURCE: ResourceKind;
    /// The redacted, serialisable view.
    type View: serde::Serialize;
    /// Whose case the record belongs to.
    fn subject(&self) -> Subject;
    /// The record with every field outside `fields` left out.
    fn redact(&self, fields: FieldSet) -> Self::View;
}

/// Redacts any record (see [`Redact`]).
pub fn redact<T: Redact>(record: &T, fields: &FieldSet) -> T::View {
    record.redact(*fields)
}

/// A person as `fields` allow them to be shown.
pub fn redact_person(person: &Person, fields: &FieldSet) -> RedactedPerson {
    person.redact(*fields)
}

/// `Some(value)` if `field` is granted.
fn show<T>(fields: FieldSet, field: Field, value: impl FnOnce() -> T) -> Option<T> {
    fields.contains(field).then(value)
}

/// The physical description without photographs (those are [`Field::PhotoMeta`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DescriptionView {
    /// Height range in cm.
    pub height_cm: Option<(u16, u16)>,
    /// Build.
    pub build: Option<Build>,
    /// Hair.
    pub hair: Option<String>,
    /// Eyes.
    pub eyes: Option<String>,
    /// Marks, scars, tattoos.
    pub marks: Vec<Mark>,
}

impl From<&Description> for DescriptionView {
    fn from(d: &Description) -> Self {
        Self {
            height_cm: d.height_cm,
            build: d.build,
            hair: d.hair.clone(),
            eyes: d.eyes.clone(),
            marks: d.marks.clone(),
        }
    }
}

/// A redacted [`Person`]. `id` is always present; everything else only if granted.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RedactedPerson {
    /// The person's id.
    pub id: PersonId,
    /// Owning organisation ([`Field::Organisations`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owning_org: Option<OrgCode>,
    /// Names ([`Field::Names`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<PersonName>>,
    /// Date of birth ([`Field::DateOfBirth`]); `null` if unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dob: Option<Option<DateOfBirth>>,
    /// Sex ([`Field::Sex`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    /// Nationalities ([`Field::Nationalities`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nationalities: Option<Vec<Nationality>>,
    /// Languages ([`Field::Languages`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<Language>>,
    /// Identifiers ([`Field::Identifiers`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifiers: Option<Vec<Identifier>>,
    /// Description ([`Field::Description`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<DescriptionView>,
    /// Photographs' metadata ([`Field::PhotoMeta`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photos: Option<Vec<PhotoMeta>>,
    /// Created ([`Field::RecordDates`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last changed ([`Field::RecordDates`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

impl Redact for Person {
    const RESOURCE: ResourceKind = ResourceKind::Person;
    type View = RedactedPerson;
    fn subject(&self) -> Subject {
        Subject::Person(self.id)
    }
    fn redact(&self, f: FieldSet) -> RedactedPerson {
        RedactedPerson {
            id: self.id,
            owning_org: show(f, Field::Organisations, || self.owning_org.clone()),
            names: show(f, Field::Names, || self.names.clone()),
            dob: show(f, Field::DateOfBirth, || self.dob.clone()),
            sex: show(f, Field::Sex, || self.sex),
            nationalities: show(f, Field::Nationalities, || self.nationalities.clone()),
            languages: show(f, Field::Languages, || self.languages.clone()),
            identifiers: show(f, Field::Identifiers, || self.identifiers.clone()),
            description: show(f, Field::Description, || (&self.description).into()),
            photos: show(f, Field::PhotoMeta, || self.description.photos.clone()),
            created_at: show(f, Field::RecordDates, || self.created_at),
            updated_at: show(f, Field::RecordDates, || self.updated_at),
        }
    }
}

/// The return without its place (that is [`Field::ReturnPlace`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReturnView {
    /// When found or returned.
    pub found_at: DateTime<Utc>,
    /// Which organisation found them.
    pub found_by: OrgCode,
    /// Safe, harmed or deceased.
    pub outcome: ReturnOutcome,
}

/// The return-home interview's arrangements, without outcome or disclosures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InterviewView {
    /// When offered.
    pub offered_at: DateTime<Utc>,
    /// Whether accepted.
    pub accepted: bool,
    /// By which organisation.
    pub conducted_by: Option<OrgCode>,
    /// When held.
    pub conducted_at: Option<DateTime<Utc>>,
}

/// The return-home interview's outcome and disclosures flag.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InterviewOutcomeView {
    /// Outcome summary.
    pub outcome: Option<String>,
    /// True if the child disclosed something needing action.
    pub disclosures_flagged: bool,
}

/// A redacted [`Incident`]. `id` and `person_id` are always present.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RedactedIncident {
    /// The incident's id.
    pub id: IncidentId,
    /// Who is missing.
    pub person_id: PersonId,
    /// Owner ([`Field::Organisations`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owning_org: Option<OrgCode>,
    /// Force where missing ([`Field::Organisations`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_missing: Option<OrgCode>,
    /// Involved organisations ([`Field::Organisations`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub involved: Option<Vec<OrgCode>>,
    /// Category ([`Field::IncidentSummary`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<IncidentCategory>,
    /// Reported ([`Field::IncidentSummary`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_at: Option<DateTime<Utc>>,
    /// Last seen ([`Field::IncidentSummary`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Still open ([`Field::IncidentSummary`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    /// Current risk grade ([`Field::RiskGrade`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskGrade>,
    /// Grade history ([`Field::RiskHistory`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_history: Option<Vec<GradeChange>>,
    /// Last-seen place ([`Field::LastSeenPlace`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen_place: Option<Place>,
    /// Circumstances ([`Field::Circumstances`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub circumstances: Option<String>,
    /// Sightings ([`Field::Sightings`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sightings: Option<Vec<Sighting>>,
    /// The return ([`Field::Return`]); `null` while open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returned: Option<Option<ReturnView>>,
    /// Where found ([`Field::ReturnPlace`]); `null` while open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_place: Option<Option<Place>>,
    /// Interview arrangements ([`Field::ReturnInterview`]); `null` if none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_interview: Option<Option<InterviewView>>,
    /// Interview outcome ([`Field::ReturnInterviewDisclosures`]); `null` if none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_interview_outcome: Option<Option<InterviewOutcomeView>>,
}

impl Redact for Incident {
    const RESOURCE: ResourceKind = ResourceKind::Incident;
    type View = RedactedIncident;
    fn subject(&self) -> Subject {
        Subject::Person(self.person_id)
    }
    fn redact(&self, f: FieldSet) -> RedactedIncident {
        let rhi = self.return_interview.as_ref();
        RedactedIncident {
            id: self.id,
            person_id: self.person_id,
            owning_org: show(f, Field::Organisations, || self.owning_org.clone()),
            force_missing: show(f, Field::Organisations, || self.force_missing.clone()),
            involved: show(f, Field::Organisations, || self.involved.clone()),
            category: show(f, Field::IncidentSummary, || self.category),
            reported_at: show(f, Field::IncidentSummary, || self.reported_at),
            last_seen_at: show(f, Field::IncidentSummary, || self.last_seen_at),
            open: show(f, Field::IncidentSummary, || self.is_open()),
            risk: show(f, Field::RiskGrade, || self.risk()),
            risk_history: show(f, Field::RiskHistory, || self.risk_history.clone()),
            last_seen_place: show(f, Field::LastSeenPlace, || self.last_seen_place.clone()),
            circumstances: show(f, Field::Circumstances, || self.circumstances.clone()),
            sightings: show(f, Field::Sightings, || self.sightings.clone()),
            returned: show(f, Field::Return, || {
                self.returned.as_ref().map(|r| ReturnView {
                    found_at: r.found_at,
                    found_by: r.found_by.clone(),
                    outcome: r.outcome,
                })
            }),
            return_place: show(f, Field::ReturnPlace, || {
                self.returned.as_ref().map(|r| r.place.clone())
            }),
            return_interview: show(f, Field::ReturnInterview, || {
                rhi.map(|r| InterviewView {
                    offered_at: r.offered_at,
                    accepted: r.accepted,
                    conducted_by: r.conducted_by.clone(),
                    conducted_at: r.conducted_at,
                })
            }),
            return_interview_outcome: show(f, Field::ReturnInterviewDisclosures, || {
                rhi.map(|r| InterviewOutcomeView {
                    outcome: r.outcome.clone(),
                    disclosures_flagged: r.disclosures_flagged,
                })
            }),
        }
    }
}

/// A redacted [`PrefilledProfile`]. `id`, `version` and `person_id` are always present.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RedactedProfile {
    /// The profile's id.
    pub id: ProfileId,
    /// Version number.
    pub version: u32,
    /// Whose profile.
    pub person_id: PersonId,
    /// Author ([`Field::Organisations`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prepared_by: Option<OrgCode>,
    /// When written ([`Field::RecordDates`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prepared_at: Option<DateTime<Utc>>,
    /// Description ([`Field::Description`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<DescriptionView>,
    /// Photographs' metadata ([`Field::PhotoMeta`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photos: Option<Vec<PhotoMeta>>,
    /// Associates ([`Field::ProfileAssociates`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub associates: Option<Vec<String>>,
    /// Places frequented ([`Field::ProfilePlaces`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub places: Option<Vec<String>>,
    /// Phones ([`Field::ProfilePhones`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phones: Option<Vec<String>>,
    /// Social media ([`Field::ProfileSocialMedia`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub social_media: Option<Vec<String>>,
    /// Medical needs ([`Field::ProfileMedicalNeeds`]); `null` if none recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medical_needs: Option<Option<String>>,
    /// Notes ([`Field::ProfileNotes`]); `null` if none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Option<String>>,
}

impl Redact for PrefilledProfile {
    const RESOURCE: ResourceKind = ResourceKind::Profile;
    type View = RedactedProfile;
    fn subject(&self) -> Subject {
        Subject::Person(self.person_id)
    }
    fn redact(&self, f: FieldSet) -> RedactedProfile {
        RedactedProfile {
            id: self.id,
            version: self.version,
            person_id: self.person_id,
            prepared_by: show(f, Field::Organisations, || self.prepared_by.clone()),
            prepared_at: show(f, Field::RecordDates, || self.prepared_at),
            description: show(f, Field::Description, || (&self.description).into()),
            photos: show(f, Field::PhotoMeta, || self.description.photos.clone()),
            associates: show(f, Field::ProfileAssociates, || self.associates.clone()),
            places: show(f, Field::ProfilePlaces, || self.places.clone()),
            phones: show(f, Field::ProfilePhones, || self.phones.clone()),
            social_media: show(f, Field::ProfileSocialMedia, || self.social_media.clone()),
            medical_needs: show(f, Field::ProfileMedicalNeeds, || self.medical_needs.clone()),
            notes: show(f, Field::ProfileNotes, || self.notes.clone()),
        }
    }
}

/// A redacted [`Placement`]. `id` and `person_id` are always present.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RedactedPlacement {
    /// The placement's id.
    pub id: PlacementId,
    /// Which child.
    pub person_id: PersonId,
    /// Placing authority ([`Field::Organisations`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placing_authority: Option<OrgCode>,
    /// Type ([`Field::PlacementDetails`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement_type: Option<PlacementType>,
    /// Start ([`Field::PlacementDetails`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// End ([`Field::PlacementDetails`]); `null` while current.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Option<DateTime<Utc>>>,
    /// Where: host authority ([`Field::PlacementLocation`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_authority: Option<OrgCode>,
    /// Unaccompanied asylum-seeking child ([`Field::Unaccompanied`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unaccompanied: Option<bool>,
}

impl Redact for Placement {
    const RESOURCE: ResourceKind = ResourceKind::Placement;
    type View = RedactedPlacement;
    fn subject(&self) -> Subject {
        Subject::Person(self.person_id)
    }
    fn redact(&self, f: FieldSet) -> RedactedPlacement {
        RedactedPlacement {
            id: self.id,
            person_id: self.person_id,
            placing_authority: show(f, Field::Organisations, || self.placing_authority.clone()),
            placement_type: show(f, Field::PlacementDetails, || self.placement_type),
            started_at: show(f, Field::PlacementDetails, || self.started_at),
            ended_at: show(f, Field::PlacementDetails, || self.ended_at),
            host_authority: show(f, Field::PlacementLocation, || self.host_authority.clone()),
            unaccompanied: show(f, Field::Unaccompanied, || self.unaccompanied),
        }
    }
}

/// A redacted [`NrmReferral`]. `id` and `person_id` are always present.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RedactedReferral {
    /// The referral's id.
    pub id: ReferralId,
    /// About whom.
    pub person_id: PersonId,
    /// First responder ([`Field::Organisations`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_responder: Option<OrgCode>,
    /// Case reference ([`Field::NrmReferral`]); `null` if unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<Option<String>>,
    /// Referral date ([`Field::NrmReferral`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referred_on: Option<chrono::NaiveDate>,
    /// Exploitation types ([`Field::NrmExploitation`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exploitation: Option<Vec<ExploitationType>>,
    /// Reasonable-grounds decision ([`Field::NrmDecisions`]); `null` if not made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasonable_grounds: Option<Option<GroundsDecision>>,
    /// Conclusive-grounds decision ([`Field::NrmDecisions`]); `null` if not made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conclusive_grounds: Option<Option<GroundsDecision>>,
}

impl Redact for NrmReferral {
    const RESOURCE: ResourceKind = ResourceKind::NrmReferral;
    type View = RedactedReferral;
    fn subject(&self) -> Subject {
        Subject::Person(self.person_id)
    }
    fn redact(&self, f: FieldSet) -> RedactedReferral {
        RedactedReferral {
            id: self.id,
            person_id: self.person_id,
            first_responder: show(f, Field::Organisations, || self.first_responder.clone()),
            reference: show(f, Field::NrmReferral, || self.reference.clone()),
            referred_on: show(f, Field::NrmReferral, || self.referred_on),
            exploitation: show(f, Field::NrmExploitation, || self.exploitation.clone()),
            reasonable_grounds: show(f, Field::NrmDecisions, || self.reasonable_grounds),
            conclusive_grounds: show(f, Field::NrmDecisions, || self.conclusive_grounds),
        }
    }
}

/// A redacted [`FoundPerson`]. `id` is always present.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RedactedFoundPerson {
    /// The record's id.
    pub id: FoundPersonId,
    /// Finder ([`Field::Organisations`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found_by: Option<OrgCode>,
    /// When found ([`Field::FoundDetails`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found_at: Option<DateTime<Utc>>,
    /// Where found ([`Field::FoundDetails`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
    /// Found deceased ([`Field::FoundDetails`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deceased: Option<bool>,
    /// Identified as ([`Field::FoundDetails`]); `null` while unidentified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identified_as: Option<Option<PersonId>>,
    /// Names given ([`Field::Names`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub names_given: Option<Vec<PersonName>>,
    /// Date of birth ([`Field::DateOfBirth`]); `null` if unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dob: Option<Option<DateOfBirth>>,
    /// Sex ([`Field::Sex`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    /// Description ([`Field::Description`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<DescriptionView>,
    /// Photographs' metadata ([`Field::PhotoMeta`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photos: Option<Vec<PhotoMeta>>,
}

impl Redact for FoundPerson {
    const RESOURCE: ResourceKind = ResourceKind::FoundPerson;
    type View = RedactedFoundPerson;
    fn subject(&self) -> Subject {
        Subject::FoundPerson(self.id)
    }
    fn redact(&self, f: FieldSet) -> RedactedFoundPerson {
        RedactedFoundPerson {
            id: self.id,
            found_by: show(f, Field::Organisations, || self.found_by.clone()),
            found_at: show(f, Field::FoundDetails, || self.found_at),
            place: show(f, Field::FoundDetails, || self.place.clone()),
            deceased: show(f, Field::FoundDetails, || self.deceased),
            identified_as: show(f, Field::FoundDetails, || self.identified_as),
            names_given: show(f, Field::Names, || self.names_given.clone()),
            dob: show(f, Field::DateOfBirth, || self.dob.clone()),
            sex: show(f, Field::Sex, || self.sex),
            description: show(f, Field::Description, || (&self.description).into()),
            photos: show(f, Field::PhotoMeta, || self.description.photos.clone()),
        }
    }
}

/// Derived warning flags, if [`Field::WarningFlags`] is granted.
pub fn redact_flags(
    flags: &[crate::flags::RiskFlag],
    fields: &FieldSet,
) -> Option<Vec<crate::flags::RiskFlag>> {
    show(*fields, Field::WarningFlags, || flags.to_vec())
}
