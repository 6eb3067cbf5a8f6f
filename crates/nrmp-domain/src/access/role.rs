//! Roles and the principal: who is asking, for which organisation, holding which roles.

use crate::error::{Collector, FieldError, ValidationErrors};
use crate::ids::PersonId;
use crate::organisation::{OrgCode, OrgKind};

/// A role a user holds within their organisation (see DESIGN.md, "Who uses it, for what").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Police call handler: records reports, grades risk, updates, records returns.
    CallHandler,
    /// Police missing-person coordinator: as a call handler, plus merges and disclosures.
    MissingPersonCoordinator,
    /// Police patrol officer: the encounter check only.
    PatrolOfficer,
    /// Local-authority missing-from-care lead.
    MissingFromCareLead,
    /// Local-authority social worker.
    SocialWorker,
    /// National missing persons unit analyst: everything, always with a stated reason.
    NationalAnalyst,
    /// Independent child trafficking advocate: their own clients, limited fields.
    Advocate,
    /// Researcher or policy analyst: aggregate statistics only.
    Researcher,
    /// Administrator: organisations, users, roles, retention reviews; no case data.
    Administrator,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: [Role; 9] = [
        Role::CallHandler,
        Role::MissingPersonCoordinator,
        Role::PatrolOfficer,
        Role::MissingFromCareLead,
        Role::SocialWorker,
        Role::NationalAnalyst,
        Role::Advocate,
        Role::Researcher,
        Role::Administrator,
    ];

    /// The snake_case name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CallHandler => "call_handler",
            Self::MissingPersonCoordinator => "missing_person_coordinator",
            Self::PatrolOfficer => "patrol_officer",
            Self::MissingFromCareLead => "missing_from_care_lead",
            Self::SocialWorker => "social_worker",
            Self::NationalAnalyst => "national_analyst",
            Self::Advocate => "advocate",
            Self::Researcher => "researcher",
            Self::Administrator => "administrator",
        }
    }

    /// Parses a role's snake_case name (spaces and hyphens are accepted for underscores).
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        let norm = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == norm)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|r| r.as_str()).collect();
                FieldError::new(
                    field,
                    format!("`{}` is not a role ({})", s.trim(), names.join(", ")),
                )
            })
    }

    /// The kinds of organisation whose users may hold this role.
    ///
    /// Police roles belong to police forces, local-authority roles to local authorities, the
    /// analyst to the national unit and the advocate to an advocacy service. Researchers and
    /// administrators may belong to any kind: a researcher only ever sees disclosure-controlled
    /// aggregates, and every organisation administers its own users.
    pub fn allowed_org_kinds(self) -> &'static [OrgKind] {
        const POLICE: &[OrgKind] = &[OrgKind::PoliceForce];
        const LA: &[OrgKind] = &[OrgKind::LocalAuthority];
        const NATIONAL: &[OrgKind] = &[OrgKind::NationalUnit];
        const ADVOCACY: &[OrgKind] = &[OrgKind::AdvocacyService];
        const ANY: &[OrgKind] = &[
            OrgKind::PoliceForce,
            OrgKind::LocalAuthority,
            OrgKind::NationalUnit,
            OrgKind::AdvocacyService,
        ];
        match self {
            Self::CallHandler | Self::MissingPersonCoordinator | Self::PatrolOfficer => POLICE,
            Self::MissingFromCareLead | Self::SocialWorker => LA,
            Self::NationalAnalyst => NATIONAL,
            Self::Advocate => ADVOCACY,
            Self::Researcher | Self::Administrator => ANY,
        }
    }

    /// True if a user of an organisation of `kind` may hold this role.
    pub fn fits(self, kind: OrgKind) -> bool {
        self.allowed_org_kinds().contains(&kind)
    }

    /// True if the role can ever see personal data about a person (so sign-in must demand a
    /// second factor for it). Researchers and administrators see none.
    pub fn reads_personal_data(self) -> bool {
        !matches!(self, Self::Researcher | Self::Administrator)
    }
}

/// The code prefix an organisation of `kind` must carry (`force:`, `la:`, `national:`,
/// `advocacy:`), so a principal cannot claim one kind with another kind's code.
pub fn org_code_prefix(kind: OrgKind) -> &'static str {
    match kind {
        OrgKind::PoliceForce => "force:",
        OrgKind::LocalAuthority => "la:",
        OrgKind::NationalUnit => "national:",
        OrgKind::AdvocacyService => "advocacy:",
    }
}

/// Who is asking: a signed-in user (or system account) acting for one organisation.
///
/// Always valid: built only by [`Principal::new`] (or deserialised through it), which checks
/// that every role fits the organisation's kind, that the code matches the kind, and that only
/// an advocate lists clients.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "PrincipalRepr", into = "PrincipalRepr")]
pub struct Principal {
    user: String,
    org: OrgCode,
    org_kind: OrgKind,
    roles: Vec<Role>,
    clients: Vec<PersonId>,
}

impl Principal {
    /// Builds a principal, checking it. Roles and clients are sorted and de-duplicated.
    pub fn new(
        user: impl Into<String>,
        org: OrgCode,
        org_kind: OrgKind,
        roles: Vec<Role>,
        clients: Vec<PersonId>,
    ) -> Result<Self, ValidationErrors> {
        let user = user.into();
        let mut c = Collector::new();
        if user.trim().is_empty() {
            c.push("user", "is empty");
        } else if user.chars().any(char::is_control) {
            c.push("user", "contains a control character");
        }
        let prefix = org_code_prefix(org_kind);
        if !org.as_str().starts_with(prefix) {
            c.push(
                "org",
                format!(
                    "`{org}` is not the code of a {} (expected `{prefix}…`)",
                    org_kind.as_str()
                ),
            );
        }
        if roles.is_empty() {
            c.push("roles", "a user needs at least one role");
        }
        for (i, r) in roles.iter().enumerate() {
            if !r.fits(org_kind) {
                let kinds: Vec<&str> = r.allowed_org_kinds().iter().map(|k| k.as_str()).collect();
                c.push(
                    format!("roles[{i}]"),
                    format!(
                        "`{}` cannot be held in a {} (only in: {})",
                        r.as_str(),
                        org_kind.as_str(),
                        kinds.join(", ")
                    ),
                );
            }
        }
        if !clients.is_empty() && !roles.contains(&Role::Advocate) {
            c.push("clients", "only an advocate has clients");
        }
        c.finish(|| {
            let mut roles = roles;
            roles.sort();
            roles.dedup();
            let mut clients = clients;
            clients.sort();
            clients.dedup();
            Some(Self {
                user,
                org,
                org_kind,
                roles,
                clients,
            })
        })
    }

    /// A principal built without checks, to test that [`super::decide`] does not rely on them.
    #[cfg(test)]
    pub(crate) fn unchecked(org: OrgCode, org_kind: OrgKind, roles: Vec<Role>) -> Self {
        Self {
            user: "unchecked".into(),
            org,
            org_kind,
            roles,
            clients: Vec::new(),
        }
    }

    /// The user (or system account) name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The organisation the user acts for.
    pub fn org(&self) -> &OrgCode {
        &self.org
    }

    /// The kind of that organisation.
    pub fn org_kind(&self) -> OrgKind {
        self.org_kind
    }

    /// The roles held, sorted, without duplicates.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// True if the principal holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// An advocate's own clients (empty for everyone else), sorted.
    pub fn clients(&self) -> &[PersonId] {
        &self.clients
    }

    /// True if `person` is one of this advocate's clients.
    pub fn is_client(&self, person: PersonId) -> bool {
        self.clients.binary_search(&person).is_ok()
    }

    /// The audit actor for this principal.
    pub fn actor(&self) -> crate::audit::Actor {
        crate::audit::Actor::new(self.user.clone(), self.org.clone())
    }
}

/// The serde shape of [`Principal`], accepted unchecked and then checked.
#[derive(serde::Serialize, serde::Deserialize)]
struct PrincipalRepr {
    user: String,
    org: OrgCode,
    org_kind: OrgKind,
    roles: Vec<Role>,
    #[serde(default)]
    clients: Vec<PersonId>,
}

impl TryFrom<PrincipalRepr> for Principal {
    type Error = ValidationErrors;
    fn try_from(r: PrincipalRepr) -> Result<Self, Self::Error> {
        Self::new(r.user, r.org, r.org_kind, r.roles, r.clients)
    }
}

impl From<Principal> for PrincipalRepr {
    fn from(p: Principal) -> Self {
        Self {
            user: p.user,
            org: p.org,
            org_kind: p.org_kind,
            roles: p.roles,
            clients: p.clients,
        }
    }
}
