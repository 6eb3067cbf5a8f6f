//! Need-to-know: the one policy that decides every access to the register.
//!
//! Pure (no IO, no HTTP, no SQL). Every handler — HTTP, CLI, export, the encounter check — asks
//! this module before touching the store, renders records only through the views it returns,
//! and writes the stated reason into the audit event. Nothing filters in SQL alone: queries may
//! narrow by organisation for speed, but the decision is made here. The policy, its table and
//! its reasoning are in `docs/access-control.md`.
//!
//! The pieces:
//!
//! - a [`Principal`]: user, organisation, organisation kind, [`Role`]s (each checked to fit the
//!   kind) and, for an advocate, their clients;
//! - a [`CaseContext`], computed once from a person's records, which gives the caller's
//!   [`Relation`] to the case: owner, involved, client, national unit or not involved;
//! - [`decide`]`(principal, action, resource, target)` → [`Decision`]: allow with a
//!   [`FieldSet`] and whether a reason is required, or deny with a [`DenyReason`];
//! - [`authorize`], which also checks the reason and returns a [`Grant`]; records are shown
//!   only through [`Grant::view`], which redacts them (see [`redact`]) and refuses a record of
//!   another kind or another case.
//!
//! Deny by default: every rule names what it allows, and anything else is refused.
//!
//! ```
//! use nrmp_domain::access::{authorize, Action, CaseContext, Principal, ResourceKind, Role, Target};
//! use nrmp_domain::organisation::{OrgCode, OrgKind};
//! # use nrmp_domain::person::{Description, Person, Sex};
//! # use nrmp_domain::ids::PersonId;
//! # let person = Person {
//! #     id: PersonId(uuid::Uuid::from_u128(7)),
//! #     owning_org: OrgCode::parse("o", "force:kent").unwrap(),
//! #     names: vec![], dob: None, sex: Sex::Female, nationalities: vec![], languages: vec![],
//! #     identifiers: vec![], description: Description::default(),
//! #     created_at: chrono::DateTime::UNIX_EPOCH, updated_at: chrono::DateTime::UNIX_EPOCH,
//! # };
//! let officer = Principal::new(
//!     "pc-1234",
//!     OrgCode::parse("org", "force:essex").unwrap(),
//!     OrgKind::PoliceForce,
//!     vec![Role::PatrolOfficer],
//!     vec![],
//! )
//! .unwrap();
//! let case = CaseContext::for_person(&person, &[], &[], &[], &[]);
//! // An encounter check needs a stated reason…
//! let denied = authorize(&officer, Action::Search, ResourceKind::Person, &Target::Case(&case), None);
//! assert!(denied.is_err());
//! // …and shows only the encounter fields.
//! let grant = authorize(
//!     &officer, Action::Search, ResourceKind::Person, &Target::Case(&case),
//!     Some("stopped at Dover, gave this name"),
//! )
//! .unwrap();
//! let json = serde_json::to_value(grant.view(&person).unwrap()).unwrap();
//! assert!(json.get("names").is_some() && json.get("identifiers").is_none());
//! ```

mod context;
mod field;
mod policy;
mod redact;
mod role;
#[cfg(test)]
mod tests;

pub use context::{CaseContext, Relation, Scope, Subject, Target};
pub use field::{Field, FieldSet, sets};
pub use policy::{Action, Decision, DenyReason, Grant, Reason, ResourceKind, authorize, decide};
pub use redact::{
    DescriptionView, InterviewOutcomeView, InterviewView, Redact, RedactedFoundPerson,
    RedactedIncident, RedactedPerson, RedactedPlacement, RedactedProfile, RedactedReferral,
    ReturnView, redact, redact_flags, redact_person,
};
pub use role::{Principal, Role, org_code_prefix};
