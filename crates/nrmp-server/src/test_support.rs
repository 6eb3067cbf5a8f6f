//! Test helpers (feature `test-support`): the test register's organisations and its table of
//! test principals — every role, in each kind of organisation it fits ([`PRINCIPALS`]), shared
//! by the HTTP authorisation matrix and the command line's, so both are driven by one table —
//! and an [`Authenticator`] that knows a fixed set of tokens, one per test principal. Never
//! used by the service itself.

use crate::auth::{AuthError, Authenticator};
use async_trait::async_trait;
use nrmp_domain::access::{Principal, Role};
use nrmp_domain::ids::PersonId;
use nrmp_domain::organisation::{OrgCode, OrgKind, Organisation};
use std::collections::HashMap;
use std::sync::RwLock;

/// Maps fixed bearer tokens to principals.
#[derive(Debug, Default)]
pub struct StaticAuthenticator {
    tokens: RwLock<HashMap<String, Principal>>,
}

impl StaticAuthenticator {
    /// An authenticator that knows no token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes `token` stand for `principal`.
    pub fn insert(&self, token: impl Into<String>, principal: Principal) {
        if let Ok(mut t) = self.tokens.write() {
            t.insert(token.into(), principal);
        }
    }
}

#[async_trait]
impl Authenticator for StaticAuthenticator {
    async fn authenticate(&self, credential: &str) -> Result<Principal, AuthError> {
        self.tokens
            .read()
            .map_err(|_| AuthError::Unavailable("token table poisoned".into()))?
            .get(credential)
            .cloned()
            .ok_or(AuthError::Invalid)
    }
}

/// The organisation code `s` (a test's literal: panics if it is malformed).
#[allow(clippy::unwrap_used)]
pub fn code(s: &str) -> OrgCode {
    OrgCode::parse("org", s).unwrap()
}

/// The organisations every test register has.
pub fn organisations() -> Vec<Organisation> {
    let org = |c: &str, kind, name: &str| Organisation {
        code: code(c),
        kind,
        name: name.into(),
        country: "England".into(),
        region: None,
        police_force: None,
    };
    vec![
        org("force:kent", OrgKind::PoliceForce, "Kent Police"),
        org("force:essex", OrgKind::PoliceForce, "Essex Police"),
        org("la:kent", OrgKind::LocalAuthority, "Kent County Council"),
        org("la:essex", OrgKind::LocalAuthority, "Essex County Council"),
        org(
            "national:nmpu",
            OrgKind::NationalUnit,
            "UK Missing Persons Unit",
        ),
        org(
            "advocacy:ictg",
            OrgKind::AdvocacyService,
            "Guardianship Service",
        ),
    ]
}

/// (token — also the user name, organisation, kind, role) of every test principal.
pub const PRINCIPALS: &[(&str, &str, OrgKind, Role)] = &[
    (
        "kent-coordinator",
        "force:kent",
        OrgKind::PoliceForce,
        Role::MissingPersonCoordinator,
    ),
    (
        "kent-handler",
        "force:kent",
        OrgKind::PoliceForce,
        Role::CallHandler,
    ),
    (
        "essex-coordinator",
        "force:essex",
        OrgKind::PoliceForce,
        Role::MissingPersonCoordinator,
    ),
    (
        "essex-handler",
        "force:essex",
        OrgKind::PoliceForce,
        Role::CallHandler,
    ),
    (
        "essex-patrol",
        "force:essex",
        OrgKind::PoliceForce,
        Role::PatrolOfficer,
    ),
    (
        "kent-patrol",
        "force:kent",
        OrgKind::PoliceForce,
        Role::PatrolOfficer,
    ),
    (
        "la-kent-lead",
        "la:kent",
        OrgKind::LocalAuthority,
        Role::MissingFromCareLead,
    ),
    (
        "la-kent-sw",
        "la:kent",
        OrgKind::LocalAuthority,
        Role::SocialWorker,
    ),
    (
        "la-essex-lead",
        "la:essex",
        OrgKind::LocalAuthority,
        Role::MissingFromCareLead,
    ),
    (
        "la-essex-sw",
        "la:essex",
        OrgKind::LocalAuthority,
        Role::SocialWorker,
    ),
    (
        "nmpu-analyst",
        "national:nmpu",
        OrgKind::NationalUnit,
        Role::NationalAnalyst,
    ),
    (
        "nmpu-admin",
        "national:nmpu",
        OrgKind::NationalUnit,
        Role::Administrator,
    ),
    (
        "kent-admin",
        "force:kent",
        OrgKind::PoliceForce,
        Role::Administrator,
    ),
    (
        "researcher",
        "la:kent",
        OrgKind::LocalAuthority,
        Role::Researcher,
    ),
    (
        "advocate",
        "advocacy:ictg",
        OrgKind::AdvocacyService,
        Role::Advocate,
    ),
];

/// The test principal `token` of [`PRINCIPALS`] (an advocate with `clients`).
#[allow(clippy::unwrap_used)]
pub fn principal(token: &str, clients: Vec<PersonId>) -> Principal {
    let (_, org, kind, role) = PRINCIPALS.iter().find(|p| p.0 == token).unwrap();
    Principal::new(token, code(org), *kind, vec![*role], clients).unwrap()
}
