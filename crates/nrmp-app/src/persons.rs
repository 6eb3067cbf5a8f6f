//! Persons: create, read, replace, list (a search), and a person's whole case history.

use crate::Register;
use crate::access::{Attempt, Case, Listing, PageRequest, render_error};
use crate::error::{AppError, AppResult};
use crate::input::Created;
use crate::input::{Errors, Page};
use nrmp_domain::access::{
    Action, Field, FieldSet, RedactedPerson, RedactedPlacement, RedactedProfile, RedactedReferral,
    ResourceKind, Target, decide,
};
use nrmp_domain::access::{CaseContext, Grant, Principal};
use nrmp_domain::identifier::Identifier;
use nrmp_domain::ids::PersonId;
use nrmp_domain::organisation::OrgCode;
use nrmp_domain::person::{
    DateOfBirth, Description, Language, Nationality, Person, PersonName, Sex,
};
use std::borrow::Cow;

/// A person as a client sends it (create, or full replacement). The register sets the id,
/// the owning organisation (the caller's) and the record dates.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    /// Names; at least one.
    pub names: Vec<PersonName>,
    /// Date of birth, as precisely as known.
    #[serde(default)]
    pub dob: Option<DateOfBirth>,
    /// Sex (default `unknown`).
    #[serde(default = "unknown_sex")]
    pub sex: Sex,
    /// Nationalities (ISO 3166 alpha-3).
    #[serde(default)]
    pub nationalities: Vec<Nationality>,
    /// Languages.
    #[serde(default)]
    pub languages: Vec<Language>,
    /// Typed identifiers.
    #[serde(default)]
    pub identifiers: Vec<Identifier>,
    /// Physical description and photographs' metadata.
    #[serde(default)]
    pub description: Description,
    /// The reason for the request (alternative to the `X-NRMP-Reason` header).
    #[serde(default)]
    pub reason: Option<String>,
}

fn unknown_sex() -> Sex {
    Sex::Unknown
}

/// The policy fields a person record's parts belong to.
fn person_parts(p: &Person) -> [(Field, serde_json::Value); 9] {
    let d = &p.description;
    let desc = (d.height_cm, d.build, &d.hair, &d.eyes, &d.marks);
    [
        (Field::Names, serde_json::json!(p.names)),
        (Field::DateOfBirth, serde_json::json!(p.dob)),
        (Field::Sex, serde_json::json!(p.sex)),
        (Field::Nationalities, serde_json::json!(p.nationalities)),
        (Field::Languages, serde_json::json!(p.languages)),
        (Field::Identifiers, serde_json::json!(p.identifiers)),
        (Field::Description, serde_json::json!(desc)),
        (Field::PhotoMeta, serde_json::json!(d.photos)),
        (Field::Organisations, serde_json::json!(p.owning_org)),
    ]
}

/// The fields that differ between two versions of a person (all set fields for a new one).
pub fn changed_fields(old: Option<&Person>, new: &Person) -> FieldSet {
    let new_parts = person_parts(new);
    match old {
        None => new_parts
            .iter()
            .filter(|(_, v)| !is_blank(v))
            .map(|(f, _)| *f)
            .collect(),
        Some(old) => person_parts(old)
            .iter()
            .zip(new_parts.iter())
            .filter(|(a, b)| a.1 != b.1)
            .map(|(a, _)| a.0)
            .collect(),
    }
}

fn is_blank(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Array(a) => a.is_empty() || a.iter().all(is_blank),
        serde_json::Value::String(s) => s.is_empty() || s == "unknown",
        _ => false,
    }
}

impl PersonInput {
    fn into_person(
        self,
        id: PersonId,
        owner: OrgCode,
        created: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<Person> {
        let mut errs = Errors::default();
        if let Some(dob) = &self.dob {
            errs.take(
                dob.check_on("dob", now.date_naive())
                    .map_err(AppError::from),
            );
        }
        errs.finish()?;
        let p = Person {
            id,
            owning_org: owner,
            names: self.names,
            dob: self.dob,
            sex: self.sex,
            nationalities: self.nationalities,
            languages: self.languages,
            identifiers: self.identifiers,
            description: self.description,
            created_at: created,
            updated_at: now,
        };
        p.validate()?;
        Ok(p)
    }
}

impl Register {
    /// Adds a person owned by the caller's organisation.
    pub async fn create_person(
        &self,
        caller: &Principal,
        reason: Option<String>,
        input: PersonInput,
    ) -> AppResult<Created> {
        let now = self.clock.now();
        let id = PersonId(self.ids.next_uuid());
        let person = input.into_person(id, caller.org().clone(), now, now)?;
        let attempt = Attempt {
            action: Action::Create,
            resource: ResourceKind::Person,
            ids: &[],
        };
        let grant = self
            .decide(caller, attempt, &Target::NewCase, reason.as_deref())
            .await?;
        grant
            .check_writes(changed_fields(None, &person))
            .map_err(|d| AppError::denied(d, "person"))?;
        self.store
            .create_person(&self.ctx(caller, reason.as_deref()), &person)
            .await?;
        self.index.upsert(&person);
        let case = Case::new(nrmp_store::PersonHistory {
            person: person.clone(),
            incidents: vec![],
            referrals: vec![],
            placements: vec![],
            profiles: vec![],
        });
        let body = render_after_write(caller, &case, &person, reason.as_deref());
        Ok(Created {
            id: id.to_string(),
            body,
        })
    }
}

/// The person as the caller may read them now (after a write), or just the id.
fn render_after_write(
    caller: &nrmp_domain::access::Principal,
    case: &Case,
    person: &Person,
    reason: Option<&str>,
) -> serde_json::Value {
    match nrmp_domain::access::authorize(
        caller,
        Action::Read,
        ResourceKind::Person,
        &Target::Case(&case.ctx),
        reason,
    )
    .ok()
    .and_then(|g| g.view(person).ok())
    {
        Some(view) => serde_json::to_value(view).unwrap_or_default(),
        None => serde_json::json!({ "id": person.id }),
    }
}

impl Register {
    /// One person, redacted to the caller's grant.
    pub async fn person(
        &self,
        caller: &Principal,
        reason: Option<String>,
        id: PersonId,
    ) -> AppResult<RedactedPerson> {
        let (_, grant) = self
            .open_case(
                caller,
                id,
                Action::Read,
                ResourceKind::Person,
                reason.as_deref(),
            )
            .await?;
        let person = self
            .store
            .person(&self.ctx(caller, reason.as_deref()), id)
            .await?;
        grant.view(&person).map_err(render_error)
    }
}

impl Register {
    /// Replaces a person's record (only fields the grant allows may
    /// change; the owner stays).
    pub async fn replace_person(
        &self,
        caller: &Principal,
        reason: Option<String>,
        id: PersonId,
        input: PersonInput,
    ) -> AppResult<serde_json::Value> {
        let case = self
            .load_case(id)
            .await?
            .ok_or(AppError::NotFound("person"))?;
        let attempt = Attempt {
            action: Action::Update,
            resource: ResourceKind::Person,
            ids: &[],
        };
        // Decided before the input is judged: a hidden person is answered exactly like a
        // missing one, whatever the body holds.
        let grant = self
            .decide(caller, attempt, &Target::Case(&case.ctx), reason.as_deref())
            .await?;
        let old = &case.history.person;
        let now = self.clock.now().max(old.updated_at);
        let person = input.into_person(id, old.owning_org.clone(), old.created_at, now)?;
        grant
            .check_writes(changed_fields(Some(old), &person))
            .map_err(|d| AppError::denied(d, "person"))?;
        self.store
            .update_person(&self.ctx(caller, reason.as_deref()), &person)
            .await?;
        self.index.upsert(&person);
        let mut history = case.history.clone();
        history.person = person.clone();
        let case = Case::new(history);
        Ok(render_after_write(
            caller,
            &case,
            &person,
            reason.as_deref(),
        ))
    }
}

/// Query parameters of `GET /api/v1/persons`.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonListQuery {
    /// Only persons this organisation owns.
    pub owning_org: Option<String>,
    /// Page size.
    pub limit: Option<String>,
    /// Cursor from the previous page's `next`.
    pub after: Option<String>,
}

impl Register {
    /// Persons, in id order — a search (reason required); rows the caller
    /// may not see are left out.
    pub async fn list_persons(
        &self,
        caller: &Principal,
        reason: Option<String>,
        q: PersonListQuery,
    ) -> AppResult<Page<RedactedPerson>> {
        let mut errs = Errors::default();
        let limit = errs.take(self.page_size(q.limit.as_deref()));
        let owning_org = errs.take(crate::input::opt_param(
            "owning_org",
            q.owning_org.as_deref(),
            OrgCode::parse,
        ));
        let after = errs.take(crate::input::opt_param(
            "after",
            q.after.as_deref(),
            PersonId::parse,
        ));
        errs.finish()?;
        let (Some(limit), Some(owning_org), Some(after)) = (limit, owning_org, after) else {
            return Err(AppError::invalid("query", "incomplete"));
        };
        let detail = format!(
            "list persons{}",
            owning_org
                .as_ref()
                .map(|o| format!(" owning_org={o}"))
                .unwrap_or_default()
        );
        let page = PageRequest {
            limit,
            after_text: after.map(|a| a.to_string()),
            after,
        };
        let listing = PersonListing(nrmp_store::PersonFilter { owning_org });
        self.search(caller, reason.as_deref(), &listing, page, detail)
            .await
    }
}

/// Persons as [`Register::list_persons`] lists them, in id order.
struct PersonListing(nrmp_store::PersonFilter);

impl Listing for PersonListing {
    type Row = Person;
    type Cursor = PersonId;
    type View = RedactedPerson;
    const RESOURCE: ResourceKind = ResourceKind::Person;

    async fn fetch(
        &self,
        register: &Register,
        after: Option<PersonId>,
        want: u32,
    ) -> AppResult<Vec<Person>> {
        Ok(register.store.query_persons(&self.0, after, want).await?)
    }

    fn cursor(p: &Person) -> (PersonId, String) {
        (p.id, p.id.to_string())
    }

    fn person(p: &Person) -> Option<PersonId> {
        Some(p.id)
    }

    fn context<'a>(_: &'a Person, case: Option<&'a Case>) -> Option<Cow<'a, CaseContext>> {
        case.map(|c| Cow::Borrowed(&c.ctx))
    }

    fn render(&self, grant: &Grant, p: &Person, _: Option<&Case>) -> Option<RedactedPerson> {
        grant.view(p).ok()
    }

    fn shown_id(v: &RedactedPerson) -> String {
        v.id.to_string()
    }
}

/// A person's case as the caller may see it: each record kind decided separately, refused
/// kinds left out.
#[derive(Debug, serde::Serialize)]
pub struct HistoryView {
    /// The person.
    pub person: RedactedPerson,
    /// Incidents, oldest first (with derived warning flags where granted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incidents: Option<Vec<crate::incidents::IncidentView>>,
    /// NRM referrals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrals: Option<Vec<RedactedReferral>>,
    /// Placements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placements: Option<Vec<RedactedPlacement>>,
    /// The latest version of each pre-filled profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profiles: Option<Vec<RedactedProfile>>,
}

impl Register {
    /// The person with their incidents, referrals, placements
    /// and profiles, each kind redacted to its own grant.
    pub async fn person_history(
        &self,
        caller: &Principal,
        reason: Option<String>,
        id: PersonId,
    ) -> AppResult<HistoryView> {
        let (case, grant) = self
            .open_case(
                caller,
                id,
                Action::Read,
                ResourceKind::Person,
                reason.as_deref(),
            )
            .await?;
        let h = self
            .store
            .person_history(&self.ctx(caller, reason.as_deref()), id)
            .await?;
        let target = Target::Case(&case.ctx);
        let kind_grant = |kind| {
            decide(caller, Action::Read, kind, &target)
                .is_allowed()
                .then(|| {
                    nrmp_domain::access::authorize(
                        caller,
                        Action::Read,
                        kind,
                        &target,
                        reason.as_deref(),
                    )
                    .ok()
                })
                .flatten()
        };
        let now = self.clock.now();
        let incidents = kind_grant(ResourceKind::Incident).map(|g| {
            h.incidents
                .iter()
                .filter_map(|i| crate::incidents::render(&g, i, &h, now).ok())
                .collect()
        });
        let referrals = kind_grant(ResourceKind::NrmReferral)
            .map(|g| h.referrals.iter().filter_map(|r| g.view(r).ok()).collect());
        let placements = kind_grant(ResourceKind::Placement)
            .map(|g| h.placements.iter().filter_map(|p| g.view(p).ok()).collect());
        let profiles = kind_grant(ResourceKind::Profile)
            .map(|g| h.profiles.iter().filter_map(|p| g.view(p).ok()).collect());
        Ok(HistoryView {
            person: grant.view(&h.person).map_err(render_error)?,
            incidents,
            referrals,
            placements,
            profiles,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn changed_fields_name_what_differs() {
        let input: PersonInput = serde_json::from_value(serde_json::json!({
            "names": [{"kind": "primary", "given": "Test", "family": "Person", "original": null, "order_unknown": false}],
            "sex": "female",
        }))
        .unwrap();
        let at = chrono::DateTime::UNIX_EPOCH;
        let org = OrgCode::parse("o", "force:kent").unwrap();
        let a = input
            .clone()
            .into_person(PersonId(uuid::Uuid::nil()), org.clone(), at, at)
            .unwrap();
        let created = changed_fields(None, &a);
        assert!(created.contains(Field::Names) && created.contains(Field::Sex));
        assert!(!created.contains(Field::Identifiers) && !created.contains(Field::DateOfBirth));
        let mut b = a.clone();
        b.sex = Sex::Male;
        let changed = changed_fields(Some(&a), &b);
        assert_eq!(changed.iter().collect::<Vec<_>>(), vec![Field::Sex]);
    }
}
