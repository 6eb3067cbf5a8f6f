//! The relation of the caller's organisation to a record, derived from the records themselves.

use super::role::Principal;
use crate::found::FoundPerson;
use crate::ids::{FoundPersonId, PersonId};
use crate::incident::Incident;
use crate::nrm::NrmReferral;
use crate::organisation::{OrgCode, OrgKind};
use crate::person::Person;
use crate::placement::Placement;
use crate::profile::PrefilledProfile;
use std::collections::BTreeSet;

/// How the caller's organisation stands to a case.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The organisation owns the person record or one of the person's incidents (or, for a found
    /// person, found them).
    Owner,
    /// The organisation is involved: force where missing, an involved force or authority, the
    /// finder, a placing or host authority, an NRM first responder, a profile's author, the
    /// interviewer.
    Involved,
    /// The caller is an advocate and the person is one of their own clients.
    Client,
    /// The caller is in the national unit, which has a national remit but no involvement.
    NationalUnit,
    /// None of the above: no need-to-know from the records.
    NotInvolved,
}

impl Relation {
    /// Every relation, strongest first.
    pub const ALL: [Relation; 5] = [
        Relation::Owner,
        Relation::Involved,
        Relation::Client,
        Relation::NationalUnit,
        Relation::NotInvolved,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Involved => "involved",
            Self::Client => "client",
            Self::NationalUnit => "national_unit",
            Self::NotInvolved => "not_involved",
        }
    }

    /// True for [`Relation::Owner`] and [`Relation::Involved`]: the organisation has
    /// need-to-know from the records themselves.
    pub fn has_need_to_know(self) -> bool {
        matches!(self, Self::Owner | Self::Involved)
    }
}

/// Whose case a [`CaseContext`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Subject {
    /// A register person and all their records.
    Person(PersonId),
    /// A found (unidentified) person's record.
    FoundPerson(FoundPersonId),
}

/// The organisations with a stake in one case, computed once from its records and then asked.
///
/// Records about a different person than the one given are ignored, so a handler that passes
/// the wrong incidents cannot widen anyone's access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseContext {
    subject: Subject,
    owners: BTreeSet<OrgCode>,
    involved: BTreeSet<OrgCode>,
}

impl CaseContext {
    /// The context of `person`'s case from all their records.
    ///
    /// Owners: the person record's owning organisation and each incident's. Involved (besides
    /// the owners): each incident's force where missing, involved organisations, finder
    /// (`returned.found_by`) and return-home interviewer; each placement's placing and host
    /// authority; each NRM referral's first responder; each profile's author.
    pub fn for_person(
        person: &Person,
        incidents: &[Incident],
        placements: &[Placement],
        referrals: &[NrmReferral],
        profiles: &[PrefilledProfile],
    ) -> Self {
        let pid = person.id;
        let mut owners = BTreeSet::new();
        let mut involved = BTreeSet::new();
        owners.insert(person.owning_org.clone());
        for i in incidents.iter().filter(|i| i.person_id == pid) {
            owners.insert(i.owning_org.clone());
            involved.insert(i.force_missing.clone());
            involved.extend(i.involved.iter().cloned());
            if let Some(r) = &i.returned {
                involved.insert(r.found_by.clone());
            }
            if let Some(by) = i
                .return_interview
                .as_ref()
                .and_then(|r| r.conducted_by.as_ref())
            {
                involved.insert(by.clone());
            }
        }
        for p in placements.iter().filter(|p| p.person_id == pid) {
            involved.insert(p.placing_authority.clone());
            involved.insert(p.host_authority.clone());
        }
        for r in referrals.iter().filter(|r| r.person_id == pid) {
            involved.insert(r.first_responder.clone());
        }
        for p in profiles.iter().filter(|p| p.person_id == pid) {
            involved.insert(p.prepared_by.clone());
        }
        involved.extend(owners.iter().cloned());
        Self {
            subject: Subject::Person(pid),
            owners,
            involved,
        }
    }

    /// The context of a found person's record: the finder owns it. Once it is identified as a
    /// register person, pass that person's context as `identified` so the organisations
    /// involved with them share it.
    pub fn for_found_person(found: &FoundPerson, identified: Option<&CaseContext>) -> Self {
        let mut owners = BTreeSet::from([found.found_by.clone()]);
        let mut involved = owners.clone();
        if let (Some(pid), Some(ctx)) = (found.identified_as, identified)
            && ctx.subject == Subject::Person(pid)
        {
            owners.extend(ctx.owners.iter().cloned());
            involved.extend(ctx.involved.iter().cloned());
        }
        Self {
            subject: Subject::FoundPerson(found.id),
            owners,
            involved,
        }
    }

    /// Whose case this is.
    pub fn subject(&self) -> Subject {
        self.subject
    }

    /// The owning organisations.
    pub fn owners(&self) -> impl Iterator<Item = &OrgCode> {
        self.owners.iter()
    }

    /// Every organisation with need-to-know (owners included).
    pub fn involved(&self) -> impl Iterator<Item = &OrgCode> {
        self.involved.iter()
    }

    /// How `principal`'s organisation stands to this case.
    ///
    /// An advocacy service has no standing through the records: an advocate relates to a case
    /// only as [`Relation::Client`] (the person is on their own client list) or not at all. For
    /// everyone else: owner, then involved, then (for the national unit) national remit, else
    /// not involved.
    pub fn relation_of(&self, principal: &Principal) -> Relation {
        if principal.org_kind() == OrgKind::AdvocacyService {
            return match self.subject {
                Subject::Person(pid) if principal.is_client(pid) => Relation::Client,
                _ => Relation::NotInvolved,
            };
        }
        let org = principal.org();
        if self.owners.contains(org) {
            Relation::Owner
        } else if self.involved.contains(org) {
            Relation::Involved
        } else if principal.org_kind() == OrgKind::NationalUnit {
            Relation::NationalUnit
        } else {
            Relation::NotInvolved
        }
    }
}

/// What an action is aimed at.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// An existing case: reading, updating, searching (one result row), exporting, merging or
    /// erasing its records, or adding a new record (an incident, a placement…) to it.
    Case(&'a CaseContext),
    /// A person or found person not yet on the register (creating one).
    NewCase,
    /// The register as a whole: starting a search or encounter check, statistics, the list of
    /// organisations, register-wide retention settings.
    Register,
    /// One organisation's own affairs: its users, roles and retention reviews.
    Organisation(&'a OrgCode),
}

/// A [`Target`] resolved against the caller: what the policy actually decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// An existing case, with the caller's relation to it.
    Case(Relation),
    /// A new case.
    NewCase,
    /// The whole register.
    Register,
    /// One organisation; `own` is true when it is the caller's.
    Organisation {
        /// True when the organisation is the caller's own.
        own: bool,
    },
}

impl Target<'_> {
    /// Resolves the target against `principal`.
    pub fn scope_for(&self, principal: &Principal) -> Scope {
        match self {
            Target::Case(ctx) => Scope::Case(ctx.relation_of(principal)),
            Target::NewCase => Scope::NewCase,
            Target::Register => Scope::Register,
            Target::Organisation(org) => Scope::Organisation {
                own: *org == principal.org(),
            },
        }
    }

    /// The subject of the targeted case, if the target is one.
    pub fn subject(&self) -> Option<Subject> {
        match self {
            Target::Case(ctx) => Some(ctx.subject()),
            _ => None,
        }
    }
}
