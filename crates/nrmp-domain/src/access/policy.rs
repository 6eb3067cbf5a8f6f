//! The policy itself: actions, resource kinds, decisions, and the one function that decides.

use super::context::{Relation, Scope, Subject, Target};
use super::field::{Field, FieldSet, sets};
use super::redact::Redact;
use super::role::{Principal, Role};
use crate::error::FieldError;
use crate::organisation::OrgKind;

/// What the caller wants to do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read one record or case (consultation).
    Read,
    /// Search the register, including the encounter check (consultation). Decided once for
    /// the search itself (on [`Target::Register`]) and once per result row (on its case).
    Search,
    /// Create a record (collection).
    Create,
    /// Change a record: a grade change, a sighting, a return, an interview… (alteration).
    Update,
    /// Export or disclose outside the register (disclosure).
    Export,
    /// Combine two person records (combination); decided on each of the two cases.
    Merge,
    /// Erase a record (erasure), after a retention review.
    Erase,
    /// Read disclosure-controlled aggregate statistics.
    ReadStatistics,
    /// Administer organisations, users, roles and retention reviews.
    Administer,
}

impl Action {
    /// Every action, in declaration order.
    pub const ALL: [Action; 9] = [
        Action::Read,
        Action::Search,
        Action::Create,
        Action::Update,
        Action::Export,
        Action::Merge,
        Action::Erase,
        Action::ReadStatistics,
        Action::Administer,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Search => "search",
            Self::Create => "create",
            Self::Update => "update",
            Self::Export => "export",
            Self::Merge => "merge",
            Self::Erase => "erase",
            Self::ReadStatistics => "read_statistics",
            Self::Administer => "administer",
        }
    }

    /// The audit category this action is logged under (DPA 2018 s.62), if it touches case data.
    pub fn audit_action(self) -> Option<crate::audit::AuditAction> {
        use crate::audit::AuditAction as A;
        match self {
            Self::Read => Some(A::Read),
            Self::Search => Some(A::Search),
            Self::Create => Some(A::Create),
            Self::Update => Some(A::Update),
            Self::Export => Some(A::Disclose),
            Self::Merge => Some(A::Merge),
            Self::Erase => Some(A::Erase),
            Self::ReadStatistics | Self::Administer => None,
        }
    }
}

/// The kind of thing acted on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// A person record.
    Person,
    /// A missing incident.
    Incident,
    /// A pre-filled profile.
    Profile,
    /// A placement.
    Placement,
    /// An NRM referral.
    NrmReferral,
    /// A found (unidentified) person.
    FoundPerson,
    /// Aggregate statistics.
    Statistics,
    /// An organisation (the directory, or its settings).
    Organisation,
    /// A user account and its roles.
    User,
    /// A retention review (record ids and review dates only).
    RetentionReview,
}

impl ResourceKind {
    /// Every resource kind, in declaration order.
    pub const ALL: [ResourceKind; 10] = [
        ResourceKind::Person,
        ResourceKind::Incident,
        ResourceKind::Profile,
        ResourceKind::Placement,
        ResourceKind::NrmReferral,
        ResourceKind::FoundPerson,
        ResourceKind::Statistics,
        ResourceKind::Organisation,
        ResourceKind::User,
        ResourceKind::RetentionReview,
    ];

    /// The snake_case name (also the `record_kind` of audit events).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Person => "person",
            Self::Incident => "incident",
            Self::Profile => "profile",
            Self::Placement => "placement",
            Self::NrmReferral => "nrm_referral",
            Self::FoundPerson => "found_person",
            Self::Statistics => "statistics",
            Self::Organisation => "organisation",
            Self::User => "user",
            Self::RetentionReview => "retention_review",
        }
    }

    /// True for records about a person (case data).
    pub fn is_case_data(self) -> bool {
        !self.fields().is_empty()
    }

    /// The fields records of this kind have (empty for non-case resources).
    pub fn fields(self) -> FieldSet {
        match self {
            Self::Person => sets::PERSON,
            Self::Incident => sets::INCIDENT,
            Self::Profile => sets::PROFILE,
            Self::Placement => sets::PLACEMENT,
            Self::NrmReferral => sets::NRM_REFERRAL,
            Self::FoundPerson => sets::FOUND_PERSON,
            Self::Statistics | Self::Organisation | Self::User | Self::RetentionReview => {
                FieldSet::EMPTY
            }
        }
    }

    /// True for the kinds a search or encounter check runs over.
    pub fn is_searchable(self) -> bool {
        matches!(self, Self::Person | Self::Incident | Self::FoundPerson)
    }

    fn is_admin(self) -> bool {
        matches!(
            self,
            Self::Organisation | Self::User | Self::RetentionReview
        )
    }
}

/// Why access was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, thiserror::Error)]
#[serde(tag = "reason", content = "field", rename_all = "snake_case")]
pub enum DenyReason {
    /// The principal holds no role that fits its organisation's kind.
    #[error("no role that fits the organisation")]
    NoRole,
    /// None of the caller's roles may do this to this kind of resource.
    #[error("your role does not permit this action")]
    ActionNotPermitted,
    /// The caller's organisation has no need-to-know for this case.
    #[error("your organisation is not involved in this case")]
    NotInvolved,
    /// An advocate asked about someone who is not their client.
    #[error("this person is not your client")]
    NotClient,
    /// The role never sees case data (researcher, administrator).
    #[error("your role does not see case data")]
    NoCaseData,
    /// Administering an organisation other than one's own.
    #[error("you may administer only your own organisation")]
    OtherOrganisation,
    /// A stated reason is required and was missing, blank or malformed.
    #[error("a reason is required (1–{max} characters, no control characters)", max = Reason::MAX_CHARS)]
    ReasonRequired,
    /// A write touches a field the grant does not include.
    #[error("you may not change `{0}`")]
    FieldNotPermitted(Field),
    /// A grant was used on a record of another kind or another case than it was decided for.
    #[error("this permission was granted for a different record")]
    WrongRecord,
}

impl DenyReason {
    /// True if the refusal should look exactly like "not found" (HTTP 404), so that a caller
    /// without need-to-know cannot learn that the record exists (OWASP API1, BOLA).
    pub fn hides_existence(self) -> bool {
        matches!(
            self,
            Self::NotInvolved | Self::NotClient | Self::WrongRecord
        )
    }

    /// Which refusal to report when several roles refuse for different reasons: the most
    /// specific one.
    fn rank(self) -> u8 {
        match self {
            Self::NotInvolved | Self::NotClient | Self::WrongRecord => 4,
            Self::OtherOrganisation => 3,
            Self::NoCaseData => 2,
            Self::ActionNotPermitted | Self::ReasonRequired | Self::FieldNotPermitted(_) => 1,
            Self::NoRole => 0,
        }
    }
}

/// The outcome of [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Allowed, limited to `fields` (for reads: what may be shown; for writes: what may be
    /// changed). Non-case resources (statistics, administration) carry no fields.
    Allow {
        /// The fields granted.
        fields: FieldSet,
        /// True if the caller must state a reason, which goes into the audit event (DPA 2018
        /// s.62): every search, every read of a case the caller's organisation is not involved
        /// in, every disclosure, combination and erasure, and everything the national unit does.
        reason_required: bool,
    },
    /// Refused.
    Deny(DenyReason),
}

impl Decision {
    /// True if allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allow { .. })
    }

    /// The granted fields (empty when refused).
    pub fn fields(&self) -> FieldSet {
        match self {
            Self::Allow { fields, .. } => *fields,
            Self::Deny(_) => FieldSet::EMPTY,
        }
    }

    /// True if allowed only with a stated reason.
    pub fn reason_required(&self) -> bool {
        matches!(
            self,
            Self::Allow {
                reason_required: true,
                ..
            }
        )
    }
}

/// A stated reason for an access: trimmed, 1–500 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reason(String);

impl Reason {
    /// The longest reason accepted, in characters.
    pub const MAX_CHARS: usize = 500;

    /// Parses a reason given in `field`.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(FieldError::new(field, "is empty; state why you need this"));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(
                field,
                format!("is longer than {} characters", Self::MAX_CHARS),
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(FieldError::new(field, "contains a control character"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The reason as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Reason {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse("reason", &s)
    }
}

impl From<Reason> for String {
    fn from(r: Reason) -> Self {
        r.0
    }
}

/// Permission to go ahead, from [`authorize`]: the fields, the reason to audit, and the record
/// it is for. Handlers render records only through [`Grant::view`], so they cannot forget to
/// redact or show one case's record under another case's grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    action: Action,
    resource: ResourceKind,
    subject: Option<Subject>,
    fields: FieldSet,
    reason: Option<Reason>,
}

impl Grant {
    /// The action granted.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The kind of resource granted.
    pub fn resource(&self) -> ResourceKind {
        self.resource
    }

    /// The case it was granted on, if any.
    pub fn subject(&self) -> Option<Subject> {
        self.subject
    }

    /// The fields granted.
    pub fn fields(&self) -> FieldSet {
        self.fields
    }

    /// The stated reason, to be written into the audit event.
    pub fn reason(&self) -> Option<&Reason> {
        self.reason.as_ref()
    }

    /// The record as this grant allows it to be shown. Refused unless the grant is for reading
    /// (read, search, export), for this kind of record, and for this record's case.
    pub fn view<T: Redact>(&self, record: &T) -> Result<T::View, DenyReason> {
        if !matches!(self.action, Action::Read | Action::Search | Action::Export)
            || self.resource != T::RESOURCE
            || self.subject != Some(record.subject())
        {
            return Err(DenyReason::WrongRecord);
        }
        Ok(record.redact(self.fields))
    }

    /// Checks that a write changes only granted fields.
    pub fn check_writes(&self, changed: FieldSet) -> Result<(), DenyReason> {
        if !matches!(self.action, Action::Create | Action::Update) {
            return Err(DenyReason::ActionNotPermitted);
        }
        match changed.difference(self.fields).iter().next() {
            Some(f) => Err(DenyReason::FieldNotPermitted(f)),
            None => Ok(()),
        }
    }
}

/// Decides whether `principal` may do `action` to a `resource` of the `target`, and with which
/// fields. Pure; call it in every handler, before touching the store.
pub fn decide(
    principal: &Principal,
    action: Action,
    resource: ResourceKind,
    target: &Target<'_>,
) -> Decision {
    decide_scope(principal, action, resource, target.scope_for(principal))
}

/// [`decide`], then the reason check: the one call a handler needs. `reason` is what the caller
/// stated (blank counts as none); it is required when the decision says so, and kept for the
/// audit event either way.
pub fn authorize(
    principal: &Principal,
    action: Action,
    resource: ResourceKind,
    target: &Target<'_>,
    reason: Option<&str>,
) -> Result<Grant, DenyReason> {
    let (fields, reason_required) = match decide(principal, action, resource, target) {
        Decision::Allow {
            fields,
            reason_required,
        } => (fields, reason_required),
        Decision::Deny(d) => return Err(d),
    };
    let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Some(Reason::parse("reason", r).map_err(|_| DenyReason::ReasonRequired)?),
        None if reason_required => return Err(DenyReason::ReasonRequired),
        None => None,
    };
    Ok(Grant {
        action,
        resource,
        subject: target.subject(),
        fields,
        reason,
    })
}

/// [`decide`] on a resolved scope. With several roles the grants are united: the fields are the
/// union, and a reason is required if any granting role requires one. Roles that do not fit the
/// organisation's kind are ignored (defence in depth; [`Principal::new`] refuses them).
pub(crate) fn decide_scope(
    principal: &Principal,
    action: Action,
    resource: ResourceKind,
    scope: Scope,
) -> Decision {
    let mut granted: Option<(FieldSet, bool)> = None;
    let mut refusal = DenyReason::NoRole;
    for &role in principal.roles() {
        if !role.fits(principal.org_kind()) {
            continue;
        }
        match role_rule(role, principal.org_kind(), action, resource, scope) {
            Ok((fields, reason)) => {
                let fields = if resource.is_case_data() {
                    fields.intersection(resource.fields())
                } else {
                    FieldSet::EMPTY
                };
                let (f, r) = granted.unwrap_or((FieldSet::EMPTY, false));
                granted = Some((f.union(fields), r || reason));
            }
            Err(d) if d.rank() > refusal.rank() || refusal == DenyReason::NoRole => refusal = d,
            Err(_) => {}
        }
    }
    match granted {
        Some((fields, reason_required)) => Decision::Allow {
            fields,
            reason_required,
        },
        None => Decision::Deny(refusal),
    }
}

/// One role's answer: the fields (before narrowing to the resource's) and whether a reason is
/// required.
type Rule = Result<(FieldSet, bool), DenyReason>;

const NO_REASON: bool = false;
const WITH_REASON: bool = true;

/// The policy, one role at a time. Anything not matched is refused.
pub(crate) fn role_rule(
    role: Role,
    org_kind: OrgKind,
    action: Action,
    resource: ResourceKind,
    scope: Scope,
) -> Rule {
    use Action as A;
    use ResourceKind as R;
    use Scope as S;

    // Shape checks that hold for every role.
    match action {
        A::ReadStatistics if resource != R::Statistics || scope != S::Register => {
            return Err(DenyReason::ActionNotPermitted);
        }
        A::Administer if !resource.is_admin() => return Err(DenyReason::ActionNotPermitted),
        // The directory of organisations ("whom to call") is open to every role.
        A::Read if resource == R::Organisation => {
            return match scope {
                S::Register | S::Organisation { .. } => Ok((FieldSet::EMPTY, NO_REASON)),
                _ => Err(DenyReason::ActionNotPermitted),
            };
        }
        A::Read | A::Search | A::Create | A::Update | A::Export | A::Merge | A::Erase
            if !resource.is_case_data() =>
        {
            return Err(DenyReason::ActionNotPermitted);
        }
        A::Search if !resource.is_searchable() => return Err(DenyReason::ActionNotPermitted),
        _ => {}
    }

    match role {
        Role::CallHandler | Role::MissingPersonCoordinator => police(role, action, resource, scope),
        Role::PatrolOfficer => match (action, scope) {
            (A::Search, S::Register) => Ok((FieldSet::EMPTY, WITH_REASON)),
            (A::Search, S::Case(_)) => Ok((sets::ENCOUNTER, WITH_REASON)),
            _ => Err(DenyReason::ActionNotPermitted),
        },
        Role::MissingFromCareLead | Role::SocialWorker => {
            local_authority(role, action, resource, scope)
        }
        Role::NationalAnalyst => national(action, resource, scope),
        Role::Advocate => match (action, scope) {
            (A::Read, S::Case(Relation::Client)) => match resource {
                R::Person | R::Incident | R::Placement | R::NrmReferral => {
                    Ok((sets::ADVOCATE, NO_REASON))
                }
                _ => Err(DenyReason::ActionNotPermitted),
            },
            (A::Read, S::Case(_)) => Err(DenyReason::NotClient),
            _ => Err(DenyReason::ActionNotPermitted),
        },
        Role::Researcher => match action {
            A::ReadStatistics => Ok((FieldSet::EMPTY, NO_REASON)),
            _ if resource.is_case_data() => Err(DenyReason::NoCaseData),
            _ => Err(DenyReason::ActionNotPermitted),
        },
        Role::Administrator => administrator(org_kind, action, resource, scope),
    }
}

fn involved(scope: Scope) -> bool {
    matches!(scope, Scope::Case(r) if r.has_need_to_know())
}

fn police(role: Role, action: Action, resource: ResourceKind, scope: Scope) -> Rule {
    use Action as A;
    use ResourceKind as R;
    use Scope as S;
    let coordinator = role == Role::MissingPersonCoordinator;
    match (action, scope) {
        (A::Search, S::Register) => Ok((FieldSet::EMPTY, WITH_REASON)),
        (A::Search, S::Case(_)) if involved(scope) => Ok((FieldSet::ALL, WITH_REASON)),
        (A::Search, S::Case(_)) => Ok((sets::NATIONAL_SEARCH, WITH_REASON)),
        (A::Read, S::Case(_)) if involved(scope) => Ok((FieldSet::ALL, NO_REASON)),
        (A::Read, S::Case(_)) if resource.is_searchable() => {
            Ok((sets::NATIONAL_SEARCH, WITH_REASON))
        }
        (A::Read, S::Case(_)) => Err(DenyReason::NotInvolved),
        (A::Create, S::NewCase) if matches!(resource, R::Person | R::FoundPerson) => {
            Ok((sets::POLICE_WRITE, NO_REASON))
        }
        // Any force may report a person already on the register missing, or refer them.
        (A::Create, S::Case(_)) if matches!(resource, R::Incident | R::NrmReferral) => {
            Ok((sets::POLICE_WRITE, NO_REASON))
        }
        (A::Update, S::Case(_))
            if involved(scope)
                && matches!(
                    resource,
                    R::Person | R::Incident | R::NrmReferral | R::FoundPerson
                ) =>
        {
            if scope == Scope::Case(Relation::Owner) {
                Ok((sets::POLICE_WRITE, NO_REASON))
            } else {
                Ok((sets::POLICE_UPDATE_INVOLVED, NO_REASON))
            }
        }
        // A force that found or saw the person adds the sighting or return to another force's
        // incident.
        (A::Update, S::Case(_)) if resource == R::Incident => {
            Ok((sets::OUTSIDE_FORCE_UPDATE, WITH_REASON))
        }
        (A::Update, S::Case(_)) if resource.is_case_data() && !involved(scope) => {
            Err(DenyReason::NotInvolved)
        }
        (A::Export, S::Case(_)) if coordinator && involved(scope) => {
            Ok((FieldSet::ALL, WITH_REASON))
        }
        (A::Merge, S::Case(_)) if coordinator && involved(scope) && resource == R::Person => {
            Ok((FieldSet::ALL, WITH_REASON))
        }
        (A::Export | A::Merge, S::Case(_)) if coordinator && !involved(scope) => {
            Err(DenyReason::NotInvolved)
        }
        (A::ReadStatistics, _) if coordinator => Ok((FieldSet::EMPTY, NO_REASON)),
        _ => Err(DenyReason::ActionNotPermitted),
    }
}

fn local_authority(role: Role, action: Action, resource: ResourceKind, scope: Scope) -> Rule {
    use Action as A;
    use ResourceKind as R;
    use Scope as S;
    let lead = role == Role::MissingFromCareLead;
    let la_record = matches!(
        resource,
        R::Person | R::Incident | R::Profile | R::Placement | R::NrmReferral
    );
    match (action, scope) {
        (A::Search, S::Register) => Ok((FieldSet::EMPTY, WITH_REASON)),
        (A::Search, S::Case(_)) if involved(scope) => Ok((FieldSet::ALL, WITH_REASON)),
        (A::Read, S::Case(_)) if involved(scope) => Ok((FieldSet::ALL, NO_REASON)),
        (A::Create, S::NewCase) if resource == R::Person => Ok((sets::LA_CREATE, NO_REASON)),
        (A::Create, S::Case(_)) if involved(scope) && la_record && resource != R::Person => {
            Ok((sets::LA_CREATE, NO_REASON))
        }
        // A child already on the register comes into this authority's care: the placement is
        // what makes the authority involved.
        (A::Create, S::Case(_)) if resource == R::Placement => Ok((sets::LA_CREATE, NO_REASON)),
        (A::Update, S::Case(Relation::Owner)) if la_record => Ok((sets::LA_UPDATE, NO_REASON)),
        (A::Update, S::Case(_)) if involved(scope) && la_record => {
            Ok((sets::LA_UPDATE_INVOLVED, NO_REASON))
        }
        (A::Export, S::Case(_)) if lead && involved(scope) => Ok((FieldSet::ALL, WITH_REASON)),
        (A::ReadStatistics, _) if lead => Ok((FieldSet::EMPTY, NO_REASON)),
        (A::Search | A::Read | A::Create | A::Update, S::Case(_)) if !involved(scope) => {
            Err(DenyReason::NotInvolved)
        }
        (A::Export, S::Case(_)) if lead && !involved(scope) => Err(DenyReason::NotInvolved),
        _ => Err(DenyReason::ActionNotPermitted),
    }
}

fn national(action: Action, resource: ResourceKind, scope: Scope) -> Rule {
    use Action as A;
    use ResourceKind as R;
    use Scope as S;
    match (action, scope) {
        (A::Search, S::Register) => Ok((FieldSet::EMPTY, WITH_REASON)),
        (A::Search | A::Read | A::Export, S::Case(_)) => Ok((FieldSet::ALL, WITH_REASON)),
        // The register as a whole leaves it (`nrmp export`), and so does a person's audit trail
        // (`nrmp audit export`, decided on the register: the trail outlives an erasure): only the
        // national unit, whose remit is every case, with the recipient as the reason.
        (A::Export, S::Register) => Ok((FieldSet::ALL, WITH_REASON)),
        (A::Update, S::Case(_)) if resource == R::FoundPerson => {
            Ok((sets::ANALYST_UPDATE, WITH_REASON))
        }
        (A::Merge, S::Case(_)) if resource == R::Person => Ok((FieldSet::ALL, WITH_REASON)),
        (A::ReadStatistics, _) => Ok((FieldSet::EMPTY, NO_REASON)),
        _ => Err(DenyReason::ActionNotPermitted),
    }
}

fn administrator(org_kind: OrgKind, action: Action, resource: ResourceKind, scope: Scope) -> Rule {
    use Action as A;
    use Scope as S;
    let national = org_kind == OrgKind::NationalUnit;
    match (action, scope) {
        (A::Administer, S::Organisation { own: true }) => Ok((FieldSet::EMPTY, NO_REASON)),
        (A::Administer, S::Organisation { own: false } | S::Register) if national => {
            Ok((FieldSet::EMPTY, NO_REASON))
        }
        (A::Administer, S::Organisation { own: false } | S::Register) => {
            Err(DenyReason::OtherOrganisation)
        }
        // Loading a dataset into the register (`nrmp import`: a restore or a migration) writes
        // every organisation's records and shows none of them: register-wide administration,
        // the national unit's, with a reason.
        (A::Create, S::Register) if national => Ok((FieldSet::EMPTY, WITH_REASON)),
        (A::Create, S::Register) => Err(DenyReason::OtherOrganisation),
        // Carrying out a retention review's decision on the organisation's own records: no
        // case data is shown, and the reason (the review) is audited.
        (A::Erase, S::Case(Relation::Owner)) => Ok((FieldSet::EMPTY, WITH_REASON)),
        (A::Erase, S::Case(_)) => Err(DenyReason::NotInvolved),
        _ if resource.is_case_data() => Err(DenyReason::NoCaseData),
        _ => Err(DenyReason::ActionNotPermitted),
    }
}
