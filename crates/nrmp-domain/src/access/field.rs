//! Fields: the named parts of the records that the policy allows or withholds one by one.

use crate::error::FieldError;
use std::fmt;

macro_rules! fields {
    ($( $(#[$doc:meta])* $name:ident = $text:literal, )*) => {
        /// A named part of a record that the policy grants or withholds.
        ///
        /// Fields are coarse enough to be understood by a person reading the policy table and fine
        /// enough to keep intelligence (associates, sightings, disclosures) apart from identity.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum Field {
            $( $(#[$doc])* $name, )*
        }

        impl Field {
            /// Every field, in declaration order.
            pub const ALL: &'static [Field] = &[$(Field::$name),*];

            /// The snake_case name, as serde writes it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Field::$name => $text, )*
                }
            }
        }
    };
}

fields! {
    /// Person (or found person): every name, as written and transliterated, and aliases.
    Names = "names",
    /// Date of birth (exact, approximate, assessed or disputed).
    DateOfBirth = "date_of_birth",
    /// Sex.
    Sex = "sex",
    /// Nationalities.
    Nationalities = "nationalities",
    /// Languages spoken.
    Languages = "languages",
    /// Typed identifiers: PNC id, NRM reference, local-authority child id, Home Office reference,
    /// passport.
    Identifiers = "identifiers",
    /// Physical description: height, build, hair, eyes, marks and tattoos.
    Description = "description",
    /// Photographs' metadata (date, holder, reference) — never the image itself.
    PhotoMeta = "photo_meta",
    /// Which organisations own or are involved in a record: "whom to call" (owning org, force
    /// where missing, involved orgs, profile author, first responder, placing authority, finder).
    Organisations = "organisations",
    /// When a record was created, last changed or (profile) prepared.
    RecordDates = "record_dates",
    /// Incident: category, reported-at, last-seen time, and whether it is still open.
    IncidentSummary = "incident_summary",
    /// Incident: the current risk grade only.
    RiskGrade = "risk_grade",
    /// Incident: the risk-grade history with rationales, authors and sources.
    RiskHistory = "risk_history",
    /// Derived warning markers (high risk, repeat missing, missing soon after care or referral…).
    WarningFlags = "warning_flags",
    /// Incident: where the person was last seen.
    LastSeenPlace = "last_seen_place",
    /// Incident: the circumstances, free text.
    Circumstances = "circumstances",
    /// Incident: sightings while missing (time, place, details, who reported).
    Sightings = "sightings",
    /// Incident: the return — when, by whom, and the outcome (safe, harmed, deceased).
    Return = "return",
    /// Incident: where the person was found.
    ReturnPlace = "return_place",
    /// Incident: the return-home interview — offered when, accepted, by whom, when held.
    ReturnInterview = "return_interview",
    /// Incident: the interview's outcome and whether the child disclosed something needing action.
    ReturnInterviewDisclosures = "return_interview_disclosures",
    /// NRM referral: that one was made, when, and its case reference.
    NrmReferral = "nrm_referral",
    /// NRM referral: the exploitation types.
    NrmExploitation = "nrm_exploitation",
    /// NRM referral: reasonable- and conclusive-grounds decisions.
    NrmDecisions = "nrm_decisions",
    /// Placement: type and dates.
    PlacementDetails = "placement_details",
    /// Placement: where the child is placed (the host authority's area).
    PlacementLocation = "placement_location",
    /// Placement: the unaccompanied asylum-seeking child flag.
    Unaccompanied = "unaccompanied",
    /// Profile: known associates.
    ProfileAssociates = "profile_associates",
    /// Profile: places frequented.
    ProfilePlaces = "profile_places",
    /// Profile: phone numbers.
    ProfilePhones = "profile_phones",
    /// Profile: social-media accounts.
    ProfileSocialMedia = "profile_social_media",
    /// Profile: medical needs and medication.
    ProfileMedicalNeeds = "profile_medical_needs",
    /// Profile: other notes.
    ProfileNotes = "profile_notes",
    /// Found person: when and where found, whether deceased, and whom they were identified as.
    FoundDetails = "found_details",
}

impl Field {
    /// Parses a field's snake_case name.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        let norm = s.trim().to_ascii_lowercase();
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == norm)
            .ok_or_else(|| FieldError::new(field, format!("`{}` is not a field", s.trim())))
    }

    fn bit(self) -> u64 {
        1u64 << (self as u32)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of [`Field`]s (a bit set; serialised as a sorted list of field names).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(into = "Vec<Field>", from = "Vec<Field>")]
pub struct FieldSet(u64);

impl FieldSet {
    /// No fields.
    pub const EMPTY: FieldSet = FieldSet(0);

    /// Every field.
    pub const ALL: FieldSet = FieldSet::of(Field::ALL);

    /// The set of the given fields (usable in `const` items).
    pub const fn of(fields: &[Field]) -> FieldSet {
        let mut bits = 0u64;
        let mut i = 0;
        while i < fields.len() {
            bits |= 1u64 << (fields[i] as u32);
            i += 1;
        }
        FieldSet(bits)
    }

    /// True if `field` is in the set.
    pub fn contains(self, field: Field) -> bool {
        self.0 & field.bit() != 0
    }

    /// Adds `field`.
    pub fn insert(&mut self, field: Field) {
        self.0 |= field.bit();
    }

    /// Fields in either set.
    #[must_use]
    pub const fn union(self, other: FieldSet) -> FieldSet {
        FieldSet(self.0 | other.0)
    }

    /// Fields in both sets.
    #[must_use]
    pub const fn intersection(self, other: FieldSet) -> FieldSet {
        FieldSet(self.0 & other.0)
    }

    /// Fields in `self` but not in `other`.
    #[must_use]
    pub const fn difference(self, other: FieldSet) -> FieldSet {
        FieldSet(self.0 & !other.0)
    }

    /// True if every field of `self` is in `other`.
    pub fn is_subset(self, other: FieldSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// True if the set has no fields.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many fields the set has.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The fields, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Field> {
        Field::ALL
            .iter()
            .copied()
            .filter(move |f| self.contains(*f))
    }
}

impl FromIterator<Field> for FieldSet {
    fn from_iter<I: IntoIterator<Item = Field>>(iter: I) -> Self {
        let mut s = FieldSet::EMPTY;
        for f in iter {
            s.insert(f);
        }
        s
    }
}

impl From<Vec<Field>> for FieldSet {
    fn from(v: Vec<Field>) -> Self {
        v.into_iter().collect()
    }
}

impl From<FieldSet> for Vec<Field> {
    fn from(s: FieldSet) -> Self {
        s.iter().collect()
    }
}

impl fmt::Debug for FieldSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for FieldSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Field::as_str).collect();
        f.write_str(&names.join(", "))
    }
}

/// The named field sets the policy grants. The policy table in `docs/access-control.md` names
/// these; a test keeps the two in step.
pub mod sets {
    use super::{Field::*, FieldSet};

    /// Fields a person record has.
    pub const PERSON: FieldSet = FieldSet::of(&[
        Names,
        DateOfBirth,
        Sex,
        Nationalities,
        Languages,
        Identifiers,
        Description,
        PhotoMeta,
        Organisations,
        RecordDates,
        WarningFlags,
    ]);

    /// Fields an incident has.
    pub const INCIDENT: FieldSet = FieldSet::of(&[
        Organisations,
        IncidentSummary,
        RiskGrade,
        RiskHistory,
        WarningFlags,
        LastSeenPlace,
        Circumstances,
        Sightings,
        Return,
        ReturnPlace,
        ReturnInterview,
        ReturnInterviewDisclosures,
    ]);

    /// Fields a pre-filled profile has.
    pub const PROFILE: FieldSet = FieldSet::of(&[
        Description,
        PhotoMeta,
        Organisations,
        RecordDates,
        ProfileAssociates,
        ProfilePlaces,
        ProfilePhones,
        ProfileSocialMedia,
        ProfileMedicalNeeds,
        ProfileNotes,
    ]);

    /// Fields a placement has.
    pub const PLACEMENT: FieldSet = FieldSet::of(&[
        Organisations,
        PlacementDetails,
        PlacementLocation,
        Unaccompanied,
    ]);

    /// Fields an NRM referral has.
    pub const NRM_REFERRAL: FieldSet =
        FieldSet::of(&[Organisations, NrmReferral, NrmExploitation, NrmDecisions]);

    /// Fields a found-person record has.
    pub const FOUND_PERSON: FieldSet = FieldSet::of(&[
        Names,
        DateOfBirth,
        Sex,
        Description,
        PhotoMeta,
        Organisations,
        FoundDetails,
    ]);

    /// The encounter check (patrol officer): enough to recognise the person, know whether and
    /// how urgently they are missing, and whom to call — no history, intelligence or disclosures.
    pub const ENCOUNTER: FieldSet = FieldSet::of(&[
        Names,
        DateOfBirth,
        Sex,
        Description,
        PhotoMeta,
        Organisations,
        IncidentSummary,
        RiskGrade,
        WarningFlags,
        FoundDetails,
    ]);

    /// The national-search view: what a police force sees of a case it is not involved in
    /// (identity, whether and how urgently missing, whom to call), always with a reason.
    pub const NATIONAL_SEARCH: FieldSet = ENCOUNTER.union(FieldSet::of(&[
        Nationalities,
        Languages,
        Identifiers,
        RecordDates,
    ]));

    /// The advocate's view of their own client: identity, whether missing and returned safe,
    /// the return-home interview's arrangements, the NRM case and the kind of placement.
    /// No intelligence (associates, phones, social media, places, sightings, circumstances, risk
    /// history), no disclosures, no identifiers, no description, no placement address area.
    pub const ADVOCATE: FieldSet = FieldSet::of(&[
        Names,
        DateOfBirth,
        Sex,
        Nationalities,
        Languages,
        Organisations,
        IncidentSummary,
        RiskGrade,
        Return,
        ReturnInterview,
        NrmReferral,
        NrmExploitation,
        NrmDecisions,
        PlacementDetails,
        Unaccompanied,
    ]);

    /// What anyone may write at all: everything but the derived warning markers and the record
    /// dates, which the register sets itself.
    pub const WRITABLE: FieldSet =
        FieldSet::ALL.difference(FieldSet::of(&[WarningFlags, RecordDates]));

    /// What police may write (create or update) on a case they are involved in: everything
    /// writable except the local authority's own records (placements, profiles, return-home
    /// interviews).
    pub const POLICE_WRITE: FieldSet = WRITABLE.difference(FieldSet::of(&[
        ReturnInterview,
        ReturnInterviewDisclosures,
        PlacementDetails,
        PlacementLocation,
        Unaccompanied,
        ProfileAssociates,
        ProfilePlaces,
        ProfilePhones,
        ProfileSocialMedia,
        ProfileMedicalNeeds,
        ProfileNotes,
    ]));

    /// What police may change on a case they are involved in but do not own: as
    /// [`POLICE_WRITE`] but not which organisations are involved — adding an organisation grants
    /// it need-to-know, and only an owner may do that.
    pub const POLICE_UPDATE_INVOLVED: FieldSet =
        POLICE_WRITE.difference(FieldSet::of(&[Organisations]));

    /// What a force not involved in a case may add to its incidents: a sighting or the return
    /// (it found the person), never a change to the owning force's grading or narrative.
    pub const OUTSIDE_FORCE_UPDATE: FieldSet = FieldSet::of(&[Sightings, Return, ReturnPlace]);

    /// What a local authority may write when creating records: everything writable except
    /// found-person details (a report carries its initial grade and rationale; police then
    /// review it).
    pub const LA_CREATE: FieldSet = WRITABLE.difference(FieldSet::of(&[FoundDetails]));

    /// What a local authority may change later: as [`LA_CREATE`] but not the risk grade, which
    /// is the police's to review.
    pub const LA_UPDATE: FieldSet = LA_CREATE.difference(FieldSet::of(&[RiskGrade, RiskHistory]));

    /// What a local authority may change on a case it is involved in but does not own: as
    /// [`LA_UPDATE`] but not which organisations are involved.
    pub const LA_UPDATE_INVOLVED: FieldSet = LA_UPDATE.difference(FieldSet::of(&[Organisations]));

    /// What the national analyst may change: a found person's identification (linking it to a
    /// register person).
    pub const ANALYST_UPDATE: FieldSet = FieldSet::of(&[FoundDetails]);
}
