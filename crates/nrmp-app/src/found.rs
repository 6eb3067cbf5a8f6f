//! Found (unidentified) persons: someone found whose identity is unknown, recorded by the
//! force that found them, listed for comparison with open incidents, and linked to a register
//! person once identified.

use crate::Register;
use crate::access::{Attempt, Case, Listing, PageRequest, render_error};
use crate::error::{AppError, AppResult};
use crate::input::Created;
use crate::input::{Errors, Page, bool_param, opt_param};
use chrono::{DateTime, Utc};
use nrmp_domain::access::{
    Action, CaseContext, Field, FieldSet, RedactedFoundPerson, ResourceKind, Target, authorize,
};
use nrmp_domain::access::{Grant, Principal};
use nrmp_domain::found::FoundPerson;
use nrmp_domain::ids::{FoundPersonId, PersonId};
use nrmp_domain::incident::Place;
use nrmp_domain::organisation::OrgCode;
use nrmp_domain::person::{DateOfBirth, Description, PersonName, Sex};
use nrmp_store::{FoundCursor, FoundFilter};
use std::borrow::Cow;

/// A found person as a client sends it; the finder is the caller's organisation.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FoundInput {
    /// When found.
    pub found_at: DateTime<Utc>,
    /// Where.
    pub place: Place,
    /// Names they gave, if any.
    #[serde(default)]
    pub names_given: Vec<PersonName>,
    /// Date of birth if known or assessed.
    #[serde(default)]
    pub dob: Option<DateOfBirth>,
    /// Sex.
    #[serde(default = "unknown")]
    pub sex: Sex,
    /// Description.
    #[serde(default)]
    pub description: Description,
    /// Found deceased.
    #[serde(default)]
    pub deceased: bool,
    /// Reason for the request (alternative to the header).
    #[serde(default)]
    pub reason: Option<String>,
}

fn unknown() -> Sex {
    Sex::Unknown
}

fn fields_of(f: &FoundPerson) -> FieldSet {
    let mut s: FieldSet = [Field::Organisations, Field::FoundDetails]
        .into_iter()
        .collect();
    if !f.names_given.is_empty() {
        s.insert(Field::Names);
    }
    if f.dob.is_some() {
        s.insert(Field::DateOfBirth);
    }
    if f.sex != Sex::Unknown {
        s.insert(Field::Sex);
    }
    let d = &f.description;
    if d.height_cm.is_some()
        || d.build.is_some()
        || d.hair.is_some()
        || d.eyes.is_some()
        || !d.marks.is_empty()
    {
        s.insert(Field::Description);
    }
    if !d.photos.is_empty() {
        s.insert(Field::PhotoMeta);
    }
    s
}

fn view_after_write(
    caller: &nrmp_domain::access::Principal,
    found: &FoundPerson,
    ctx: &CaseContext,
    reason: Option<&str>,
) -> serde_json::Value {
    authorize(
        caller,
        Action::Read,
        ResourceKind::FoundPerson,
        &Target::Case(ctx),
        reason,
    )
    .ok()
    .and_then(|g| g.view(found).ok())
    .and_then(|v| serde_json::to_value(v).ok())
    .unwrap_or_else(|| serde_json::json!({ "id": found.id }))
}

impl Register {
    /// Records a person found (or seen) whose identity is not known; the caller's
    /// organisation owns the record.
    pub async fn record_found_person(
        &self,
        caller: &Principal,
        reason: Option<String>,
        input: FoundInput,
    ) -> AppResult<Created> {
        let now = self.clock.now();
        let mut errs = Vec::new();
        nrmp_domain::text::check_not_future(&mut errs, "found_at", input.found_at, now);
        if let Some(dob) = &input.dob
            && let Err(e) = dob.check_on("dob", now.date_naive())
        {
            errs.push(e);
        }
        crate::input::finish(errs)?;
        if input.place.description.trim().is_empty() {
            return Err(AppError::invalid("place.description", "is empty"));
        }
        let found = FoundPerson {
            id: FoundPersonId(self.ids.next_uuid()),
            found_at: input.found_at,
            place: input.place,
            found_by: caller.org().clone(),
            names_given: input.names_given,
            dob: input.dob,
            sex: input.sex,
            description: input.description,
            identified_as: None,
            deceased: input.deceased,
        };
        found.validate()?;
        let grant = self
            .decide(
                caller,
                Attempt {
                    action: Action::Create,
                    resource: ResourceKind::FoundPerson,
                    ids: &[],
                },
                &Target::NewCase,
                reason.as_deref(),
            )
            .await?;
        grant
            .check_writes(fields_of(&found))
            .map_err(|d| AppError::denied(d, "found_person"))?;
        self.store
            .create_found_person(&self.ctx(caller, reason.as_deref()), &found)
            .await?;
        let ctx = CaseContext::for_found_person(&found, None);
        let body = view_after_write(caller, &found, &ctx, reason.as_deref());
        Ok(Created {
            id: found.id.to_string(),
            body,
        })
    }
}

impl Register {
    /// One found-person record, redacted to the caller's grant.
    pub async fn found_person(
        &self,
        caller: &Principal,
        reason: Option<String>,
        id: FoundPersonId,
    ) -> AppResult<RedactedFoundPerson> {
        let (_, ctx) = self
            .load_found(id)
            .await?
            .ok_or(AppError::NotFound("found_person"))?;
        let ids = [id.to_string()];
        let grant = self
            .decide(
                caller,
                Attempt {
                    action: Action::Read,
                    resource: ResourceKind::FoundPerson,
                    ids: &ids,
                },
                &Target::Case(&ctx),
                reason.as_deref(),
            )
            .await?;
        let found = self
            .store
            .found_person(&self.ctx(caller, reason.as_deref()), id)
            .await?;
        grant.view(&found).map_err(render_error)
    }
}

/// The identification of a found person.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentifyInput {
    /// The register person they are (`null`: not identified after all).
    pub identified_as: Option<PersonId>,
    /// Reason for the request (alternative to the header).
    #[serde(default)]
    pub reason: Option<String>,
}

impl Register {
    /// Links (or unlinks) the record to a
    /// register person.
    pub async fn identify_found_person(
        &self,
        caller: &Principal,
        reason: Option<String>,
        id: FoundPersonId,
        input: IdentifyInput,
    ) -> AppResult<serde_json::Value> {
        let (old, ctx) = self
            .load_found(id)
            .await?
            .ok_or(AppError::NotFound("found_person"))?;
        let grant = self
            .decide(
                caller,
                Attempt {
                    action: Action::Update,
                    resource: ResourceKind::FoundPerson,
                    ids: &[],
                },
                &Target::Case(&ctx),
                reason.as_deref(),
            )
            .await?;
        let person_case = match input.identified_as {
            Some(pid) => {
                let no_person =
                    || AppError::invalid("identified_as", "no person with this id on the register");
                let case = self.load_case(pid).await?.ok_or_else(no_person)?;
                // Linking discloses that the person exists: the caller must be able to see them.
                if authorize(
                    caller,
                    Action::Read,
                    ResourceKind::Person,
                    &Target::Case(&case.ctx),
                    reason.as_deref(),
                )
                .is_err()
                {
                    return Err(no_person());
                }
                Some(case)
            }
            None => None,
        };
        let mut found = old.clone();
        found.identified_as = input.identified_as;
        if found != old {
            grant
                .check_writes([Field::FoundDetails].into_iter().collect())
                .map_err(|d| AppError::denied(d, "found_person"))?;
            self.store
                .update_found_person(&self.ctx(caller, reason.as_deref()), &found)
                .await?;
        }
        let ctx = CaseContext::for_found_person(&found, person_case.as_ref().map(|c| &c.ctx));
        Ok(view_after_write(caller, &found, &ctx, reason.as_deref()))
    }
}

/// Query parameters of `GET /api/v1/found-persons`.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FoundListQuery {
    /// `true`: unidentified only; `false`: identified only.
    pub unidentified: Option<String>,
    /// Finder.
    pub found_by: Option<String>,
    /// Page size.
    pub limit: Option<String>,
    /// Cursor from the previous page's `next`.
    pub after: Option<String>,
}

/// Found persons as [`Register::list_found_persons`] lists them, most recently found first.
struct FoundListing(FoundFilter);

impl Listing for FoundListing {
    type Row = FoundPerson;
    type Cursor = FoundCursor;
    type View = RedactedFoundPerson;
    const RESOURCE: ResourceKind = ResourceKind::FoundPerson;

    async fn fetch(
        &self,
        register: &Register,
        after: Option<FoundCursor>,
        want: u32,
    ) -> AppResult<Vec<FoundPerson>> {
        Ok(register
            .store
            .query_found_persons(&self.0, after, want)
            .await?)
    }

    fn cursor(f: &FoundPerson) -> (FoundCursor, String) {
        let text = format!(
            "{}~{}",
            f.found_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            f.id
        );
        (
            FoundCursor {
                found_at: f.found_at,
                id: f.id,
            },
            text,
        )
    }

    fn person(f: &FoundPerson) -> Option<PersonId> {
        f.identified_as
    }

    /// Shared with the register person it was identified as, if any.
    fn context<'a>(f: &'a FoundPerson, case: Option<&'a Case>) -> Option<Cow<'a, CaseContext>> {
        Some(Cow::Owned(CaseContext::for_found_person(
            f,
            case.map(|c| &c.ctx),
        )))
    }

    fn render(
        &self,
        grant: &Grant,
        f: &FoundPerson,
        _: Option<&Case>,
    ) -> Option<RedactedFoundPerson> {
        grant.view(f).ok()
    }

    fn shown_id(v: &RedactedFoundPerson) -> String {
        v.id.to_string()
    }
}

fn parse_cursor(field: &str, s: &str) -> Result<FoundCursor, nrmp_domain::FieldError> {
    let bad = || nrmp_domain::FieldError::new(field, "is not a cursor from a previous page");
    let (t, id) = s.split_once('~').ok_or_else(bad)?;
    Ok(FoundCursor {
        found_at: DateTime::parse_from_rfc3339(t).map_err(|_| bad())?.to_utc(),
        id: FoundPersonId::parse(field, id).map_err(|_| bad())?,
    })
}

impl Register {
    /// Most recently found first — a search (reason required).
    pub async fn list_found_persons(
        &self,
        caller: &Principal,
        reason: Option<String>,
        q: FoundListQuery,
    ) -> AppResult<Page<RedactedFoundPerson>> {
        let mut errs = Errors::default();
        let limit = errs.take(self.page_size(q.limit.as_deref()));
        let unidentified = errs.take(bool_param("unidentified", q.unidentified.as_deref()));
        let found_by = errs.take(opt_param("found_by", q.found_by.as_deref(), OrgCode::parse));
        let after = errs.take(opt_param("after", q.after.as_deref(), parse_cursor));
        errs.finish()?;
        let (Some(limit), Some(unidentified), Some(found_by), Some(after)) =
            (limit, unidentified, found_by, after)
        else {
            return Err(AppError::invalid("query", "incomplete"));
        };
        let filter = FoundFilter {
            ids: vec![],
            unidentified,
            found_by,
        };
        let page = PageRequest {
            limit,
            after,
            after_text: q.after.clone(),
        };
        let detail = format!("list found persons: {}", crate::input::describe_query(&q));
        self.search(
            caller,
            reason.as_deref(),
            &FoundListing(filter),
            page,
            detail,
        )
        .await
    }
}
