//! The records that hang off a person: NRM referrals, placements and pre-filled profiles.
//! Created and changed under `/api/v1/persons/{id}/…`; read through the person's history
//! (`GET /api/v1/persons/{id}/history`) or, for a profile's versions, directly.

use super::path_id;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Caller, StatedReason, parse_query};
use crate::guard::{self, Attempt, Case, load_case, store_ctx};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use nrmp_domain::access::{
    Action, Field, FieldSet, Grant, Principal, Redact, RedactedProfile, ResourceKind, Target,
    authorize,
};
use nrmp_domain::ids::{PersonId, PlacementId, ProfileId, ReferralId};
use nrmp_domain::nrm::{Decision, ExploitationType, NrmReferral};
use nrmp_domain::organisation::OrgCode;
use nrmp_domain::person::Description;
use nrmp_domain::placement::{Placement, PlacementType};
use nrmp_domain::profile::PrefilledProfile;
use serde::Serialize;

/// Loads the person's case (404 if absent) and decides `action` on `resource` in it.
async fn decide_on(
    state: &AppState,
    caller: &Principal,
    raw_person: &str,
    action: Action,
    resource: ResourceKind,
    reason: Option<&str>,
) -> ApiResult<(Case, Grant)> {
    let pid = path_id("id", raw_person, PersonId::parse)?;
    let case = load_case(state, pid)
        .await?
        .ok_or(ApiError::NotFound("person"))?;
    let ids = [pid.to_string()];
    let grant = guard::decide(
        state,
        caller,
        Attempt {
            action,
            resource,
            ids: &ids,
        },
        &Target::Case(&case.ctx),
        reason,
    )
    .await?;
    Ok((case, grant))
}

/// The record as the caller may read it after the write (`{"id"}` only if they may not).
fn after_write<T: Redact>(
    caller: &Principal,
    case: &Case,
    record: &T,
    id: String,
    reason: Option<&str>,
) -> serde_json::Value
where
    T::View: Serialize,
{
    authorize(
        caller,
        Action::Read,
        T::RESOURCE,
        &Target::Case(&case.ctx),
        reason,
    )
    .ok()
    .and_then(|g| g.view(record).ok())
    .and_then(|v| serde_json::to_value(v).ok())
    .unwrap_or_else(|| serde_json::json!({ "id": id }))
}

fn created(location: String, body: serde_json::Value) -> Response {
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response()
}

/// Fields that differ between two JSON renderings of parts of a record.
fn diff(
    parts_old: &[(Field, serde_json::Value)],
    parts_new: &[(Field, serde_json::Value)],
) -> FieldSet {
    parts_old
        .iter()
        .zip(parts_new)
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, _)| a.0)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// NRM referrals

/// An NRM referral as a client sends it; the first responder is the caller's organisation.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralInput {
    /// The competent authority's case reference, if known.
    #[serde(default)]
    pub reference: Option<String>,
    /// When referred.
    pub referred_on: NaiveDate,
    /// Exploitation type(s); at least one (or `unknown`).
    pub exploitation: Vec<ExploitationType>,
    /// Reasonable-grounds decision.
    #[serde(default)]
    pub reasonable_grounds: Option<Decision>,
    /// Conclusive-grounds decision.
    #[serde(default)]
    pub conclusive_grounds: Option<Decision>,
    /// Reason for the request (alternative to the header).
    #[serde(default)]
    pub reason: Option<String>,
}

fn referral_parts(r: &NrmReferral) -> Vec<(Field, serde_json::Value)> {
    vec![
        (Field::Organisations, serde_json::json!(r.first_responder)),
        (
            Field::NrmReferral,
            serde_json::json!((&r.reference, r.referred_on)),
        ),
        (Field::NrmExploitation, serde_json::json!(r.exploitation)),
        (
            Field::NrmDecisions,
            serde_json::json!((r.reasonable_grounds, r.conclusive_grounds)),
        ),
    ]
}

fn referral_fields(r: &NrmReferral) -> FieldSet {
    let mut f: FieldSet = [
        Field::Organisations,
        Field::NrmReferral,
        Field::NrmExploitation,
    ]
    .into_iter()
    .collect();
    if r.reasonable_grounds.is_some() || r.conclusive_grounds.is_some() {
        f.insert(Field::NrmDecisions);
    }
    f
}

fn check_reference(r: &Option<String>) -> ApiResult<()> {
    if r.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(ApiError::invalid(
            "reference",
            "is longer than 100 characters",
        ));
    }
    Ok(())
}

/// `POST /api/v1/persons/{id}/referrals`.
#[utoipa::path(
    post,
    path = "/api/v1/persons/{id}/referrals",
    tag = "persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 201, description = "created; the record as the caller may read it", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn create_referral(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path(raw): Path<String>,
    Body(input): Body<ReferralInput>,
) -> ApiResult<Response> {
    let reason = reason.or(input.reason.clone());
    check_reference(&input.reference)?;
    let today = state.clock.now().date_naive();
    if input.referred_on > today {
        return Err(ApiError::invalid("referred_on", "is in the future"));
    }
    let (case, grant) = decide_on(
        &state,
        &caller,
        &raw,
        Action::Create,
        ResourceKind::NrmReferral,
        reason.as_deref(),
    )
    .await?;
    let referral = NrmReferral {
        id: ReferralId(state.ids.next_uuid()),
        person_id: case.history.person.id,
        reference: input.reference,
        referred_on: input.referred_on,
        first_responder: caller.org().clone(),
        exploitation: input.exploitation,
        reasonable_grounds: input.reasonable_grounds,
        conclusive_grounds: input.conclusive_grounds,
    };
    referral.validate()?;
    grant
        .check_writes(referral_fields(&referral))
        .map_err(|d| ApiError::denied(d, "nrm_referral"))?;
    state
        .store
        .create_referral(&store_ctx(&state, &caller, reason.as_deref()), &referral)
        .await?;
    let mut h = case.history;
    h.referrals.push(referral.clone());
    let case = Case::new(h);
    let body = after_write(
        &caller,
        &case,
        &referral,
        referral.id.to_string(),
        reason.as_deref(),
    );
    Ok(created(
        format!(
            "/api/v1/persons/{}/referrals/{}",
            referral.person_id, referral.id
        ),
        body,
    ))
}

/// `PUT /api/v1/persons/{id}/referrals/{rid}`: replaces a referral (e.g. a grounds decision);
/// the first responder stays.
#[utoipa::path(
    put,
    path = "/api/v1/persons/{id}/referrals/{rid}",
    tag = "persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("rid" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn update_referral(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path((raw, raw_rid)): Path<(String, String)>,
    Body(input): Body<ReferralInput>,
) -> ApiResult<Json<serde_json::Value>> {
    let reason = reason.or(input.reason.clone());
    check_reference(&input.reference)?;
    let rid = path_id("rid", &raw_rid, ReferralId::parse)?;
    let (case, grant) = decide_on(
        &state,
        &caller,
        &raw,
        Action::Update,
        ResourceKind::NrmReferral,
        reason.as_deref(),
    )
    .await?;
    let old = case
        .history
        .referrals
        .iter()
        .find(|r| r.id == rid)
        .cloned()
        .ok_or(ApiError::NotFound("nrm_referral"))?;
    let referral = NrmReferral {
        reference: input.reference,
        referred_on: input.referred_on,
        exploitation: input.exploitation,
        reasonable_grounds: input.reasonable_grounds,
        conclusive_grounds: input.conclusive_grounds,
        ..old.clone()
    };
    referral.validate()?;
    grant
        .check_writes(diff(&referral_parts(&old), &referral_parts(&referral)))
        .map_err(|d| ApiError::denied(d, "nrm_referral"))?;
    state
        .store
        .update_referral(&store_ctx(&state, &caller, reason.as_deref()), &referral)
        .await?;
    let mut h = case.history;
    if let Some(r) = h.referrals.iter_mut().find(|r| r.id == rid) {
        *r = referral.clone();
    }
    Ok(Json(after_write(
        &caller,
        &Case::new(h),
        &referral,
        rid.to_string(),
        reason.as_deref(),
    )))
}

// ---------------------------------------------------------------------------------------------
// Placements

/// A placement as a client sends it; the placing authority is the caller's organisation.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementInput {
    /// The authority whose area the placement is in.
    pub host_authority: OrgCode,
    /// Kind of placement.
    pub placement_type: PlacementType,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End, if ended.
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
    /// Unaccompanied asylum-seeking child.
    #[serde(default)]
    pub unaccompanied: bool,
    /// Reason for the request (alternative to the header).
    #[serde(default)]
    pub reason: Option<String>,
}

fn placement_parts(p: &Placement) -> Vec<(Field, serde_json::Value)> {
    vec![
        (Field::Organisations, serde_json::json!(p.placing_authority)),
        (
            Field::PlacementDetails,
            serde_json::json!((p.placement_type, p.started_at, p.ended_at)),
        ),
        (
            Field::PlacementLocation,
            serde_json::json!(p.host_authority),
        ),
        (Field::Unaccompanied, serde_json::json!(p.unaccompanied)),
    ]
}

/// `POST /api/v1/persons/{id}/placements`.
#[utoipa::path(
    post,
    path = "/api/v1/persons/{id}/placements",
    tag = "persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 201, description = "created; the record as the caller may read it", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn create_placement(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path(raw): Path<String>,
    Body(input): Body<PlacementInput>,
) -> ApiResult<Response> {
    let reason = reason.or(input.reason.clone());
    let (case, grant) = decide_on(
        &state,
        &caller,
        &raw,
        Action::Create,
        ResourceKind::Placement,
        reason.as_deref(),
    )
    .await?;
    let placement = Placement {
        id: PlacementId(state.ids.next_uuid()),
        person_id: case.history.person.id,
        placing_authority: caller.org().clone(),
        host_authority: input.host_authority,
        placement_type: input.placement_type,
        started_at: input.started_at,
        ended_at: input.ended_at,
        unaccompanied: input.unaccompanied,
    };
    placement.validate()?;
    let fields: FieldSet = [
        Field::Organisations,
        Field::PlacementDetails,
        Field::PlacementLocation,
        Field::Unaccompanied,
    ]
    .into_iter()
    .collect();
    grant
        .check_writes(fields)
        .map_err(|d| ApiError::denied(d, "placement"))?;
    state
        .store
        .create_placement(&store_ctx(&state, &caller, reason.as_deref()), &placement)
        .await?;
    let mut h = case.history;
    h.placements.push(placement.clone());
    let body = after_write(
        &caller,
        &Case::new(h),
        &placement,
        placement.id.to_string(),
        reason.as_deref(),
    );
    Ok(created(
        format!(
            "/api/v1/persons/{}/placements/{}",
            placement.person_id, placement.id
        ),
        body,
    ))
}

/// `PUT /api/v1/persons/{id}/placements/{rid}`: replaces a placement (e.g. its end); the
/// placing authority stays.
#[utoipa::path(
    put,
    path = "/api/v1/persons/{id}/placements/{rid}",
    tag = "persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("rid" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn update_placement(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path((raw, raw_rid)): Path<(String, String)>,
    Body(input): Body<PlacementInput>,
) -> ApiResult<Json<serde_json::Value>> {
    let reason = reason.or(input.reason.clone());
    let rid = path_id("rid", &raw_rid, PlacementId::parse)?;
    let (case, grant) = decide_on(
        &state,
        &caller,
        &raw,
        Action::Update,
        ResourceKind::Placement,
        reason.as_deref(),
    )
    .await?;
    let old = case
        .history
        .placements
        .iter()
        .find(|p| p.id == rid)
        .cloned()
        .ok_or(ApiError::NotFound("placement"))?;
    let placement = Placement {
        host_authority: input.host_authority,
        placement_type: input.placement_type,
        started_at: input.started_at,
        ended_at: input.ended_at,
        unaccompanied: input.unaccompanied,
        ..old.clone()
    };
    placement.validate()?;
    grant
        .check_writes(diff(&placement_parts(&old), &placement_parts(&placement)))
        .map_err(|d| ApiError::denied(d, "placement"))?;
    state
        .store
        .update_placement(&store_ctx(&state, &caller, reason.as_deref()), &placement)
        .await?;
    let mut h = case.history;
    if let Some(p) = h.placements.iter_mut().find(|p| p.id == rid) {
        *p = placement.clone();
    }
    Ok(Json(after_write(
        &caller,
        &Case::new(h),
        &placement,
        rid.to_string(),
        reason.as_deref(),
    )))
}

// ---------------------------------------------------------------------------------------------
// Pre-filled profiles

/// A profile version as a client sends it; the author is the caller's organisation.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    /// Description and photographs' metadata.
    #[serde(default)]
    pub description: Description,
    /// Known associates.
    #[serde(default)]
    pub associates: Vec<String>,
    /// Places frequented.
    #[serde(default)]
    pub places: Vec<String>,
    /// Phone numbers.
    #[serde(default)]
    pub phones: Vec<String>,
    /// Social-media handles.
    #[serde(default)]
    pub social_media: Vec<String>,
    /// Medical needs.
    #[serde(default)]
    pub medical_needs: Option<String>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
    /// Reason for the request (alternative to the header).
    #[serde(default)]
    pub reason: Option<String>,
}

fn profile_parts(p: &PrefilledProfile) -> Vec<(Field, serde_json::Value)> {
    let d = &p.description;
    vec![
        (
            Field::Description,
            serde_json::json!((d.height_cm, d.build, &d.hair, &d.eyes, &d.marks)),
        ),
        (Field::PhotoMeta, serde_json::json!(d.photos)),
        (Field::Organisations, serde_json::json!(p.prepared_by)),
        (Field::ProfileAssociates, serde_json::json!(p.associates)),
        (Field::ProfilePlaces, serde_json::json!(p.places)),
        (Field::ProfilePhones, serde_json::json!(p.phones)),
        (Field::ProfileSocialMedia, serde_json::json!(p.social_media)),
        (
            Field::ProfileMedicalNeeds,
            serde_json::json!(p.medical_needs),
        ),
        (Field::ProfileNotes, serde_json::json!(p.notes)),
    ]
}

fn check_profile_text(input: &ProfileInput) -> ApiResult<()> {
    let mut errs = super::Errors::default();
    for (name, list) in [
        ("associates", &input.associates),
        ("places", &input.places),
        ("phones", &input.phones),
        ("social_media", &input.social_media),
    ] {
        if list.len() > 100 {
            errs.take::<()>(Err(ApiError::invalid(name, "has more than 100 entries")));
        }
        for (i, s) in list.iter().enumerate() {
            if s.chars().count() > 500 {
                errs.take::<()>(Err(ApiError::invalid(
                    format!("{name}[{i}]"),
                    "is longer than 500 characters",
                )));
            }
        }
    }
    for (name, v) in [
        ("medical_needs", &input.medical_needs),
        ("notes", &input.notes),
    ] {
        if v.as_ref().is_some_and(|s| s.chars().count() > 20_000) {
            errs.take::<()>(Err(ApiError::invalid(
                name,
                "is longer than 20000 characters",
            )));
        }
    }
    errs.finish()
}

impl ProfileInput {
    fn apply(self, p: &mut PrefilledProfile) {
        p.description = self.description;
        p.associates = self.associates;
        p.places = self.places;
        p.phones = self.phones;
        p.social_media = self.social_media;
        p.medical_needs = self.medical_needs;
        p.notes = self.notes;
    }
}

/// `POST /api/v1/persons/{id}/profiles`: version 1 of a new profile.
#[utoipa::path(
    post,
    path = "/api/v1/persons/{id}/profiles",
    tag = "persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 201, description = "created; the record as the caller may read it", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn create_profile(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path(raw): Path<String>,
    Body(input): Body<ProfileInput>,
) -> ApiResult<Response> {
    let reason = reason.or(input.reason.clone());
    check_profile_text(&input)?;
    let (case, grant) = decide_on(
        &state,
        &caller,
        &raw,
        Action::Create,
        ResourceKind::Profile,
        reason.as_deref(),
    )
    .await?;
    let mut profile = PrefilledProfile {
        id: ProfileId(state.ids.next_uuid()),
        version: 1,
        person_id: case.history.person.id,
        prepared_by: caller.org().clone(),
        prepared_at: state.clock.now(),
        description: Description::default(),
        associates: vec![],
        places: vec![],
        phones: vec![],
        social_media: vec![],
        medical_needs: None,
        notes: None,
    };
    let blank = profile.clone();
    input.apply(&mut profile);
    profile.validate()?;
    let mut changed = diff(&profile_parts(&blank), &profile_parts(&profile));
    changed.insert(Field::Organisations);
    grant
        .check_writes(changed)
        .map_err(|d| ApiError::denied(d, "profile"))?;
    state
        .store
        .save_profile(&store_ctx(&state, &caller, reason.as_deref()), &profile)
        .await?;
    let mut h = case.history;
    h.profiles.push(profile.clone());
    let body = after_write(
        &caller,
        &Case::new(h),
        &profile,
        profile.id.to_string(),
        reason.as_deref(),
    );
    Ok(created(
        format!(
            "/api/v1/persons/{}/profiles/{}",
            profile.person_id, profile.id
        ),
        body,
    ))
}

/// `PUT /api/v1/persons/{id}/profiles/{rid}`: the next version of a profile (old versions are
/// kept unchanged).
#[utoipa::path(
    put,
    path = "/api/v1/persons/{id}/profiles/{rid}",
    tag = "persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("rid" = String, Path, description = "record id (UUID)"), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    request_body(content = Object, content_type = "application/json", description = "see docs/api.md"),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn new_profile_version(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path((raw, raw_rid)): Path<(String, String)>,
    Body(input): Body<ProfileInput>,
) -> ApiResult<Json<serde_json::Value>> {
    let reason = reason.or(input.reason.clone());
    check_profile_text(&input)?;
    let rid = path_id("rid", &raw_rid, ProfileId::parse)?;
    let (case, grant) = decide_on(
        &state,
        &caller,
        &raw,
        Action::Update,
        ResourceKind::Profile,
        reason.as_deref(),
    )
    .await?;
    let old = case
        .history
        .profiles
        .iter()
        .find(|p| p.id == rid)
        .cloned()
        .ok_or(ApiError::NotFound("profile"))?;
    let now = state.clock.now().max(old.prepared_at);
    let next = old.next_version(now, |p| input.apply(p))?;
    grant
        .check_writes(diff(&profile_parts(&old), &profile_parts(&next)))
        .map_err(|d| ApiError::denied(d, "profile"))?;
    state
        .store
        .save_profile(&store_ctx(&state, &caller, reason.as_deref()), &next)
        .await?;
    let mut h = case.history;
    if let Some(p) = h.profiles.iter_mut().find(|p| p.id == rid) {
        *p = next.clone();
    }
    Ok(Json(after_write(
        &caller,
        &Case::new(h),
        &next,
        rid.to_string(),
        reason.as_deref(),
    )))
}

/// Query of `GET …/profiles/{rid}`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileQuery {
    /// A version number (default: the latest).
    pub version: Option<String>,
}

/// `GET /api/v1/persons/{id}/profiles/{rid}[?version=N]`.
#[utoipa::path(
    get,
    path = "/api/v1/persons/{id}/profiles/{rid}",
    tag = "persons",
    params(("id" = String, Path, description = "record id (UUID)"), ("rid" = String, Path, description = "record id (UUID)"), ("version" = Option<String>, Query), ("X-NRMP-Reason" = Option<String>, Header, description = "why the caller consults or changes the record; required for searches and for cases the caller's organisation is not involved in")),
    responses(
        (status = 200, description = "the record(s) redacted to the caller's grant", body = Object),
        crate::openapi::CaseProblems,
    )
)]
pub async fn get_profile(
    State(state): State<AppState>,
    Caller(caller): Caller,
    reason: StatedReason,
    Path((raw, raw_rid)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<RedactedProfile>> {
    let q: ProfileQuery = parse_query(query.as_deref())?;
    let version = super::opt_param("version", q.version.as_deref(), |f, s| {
        match s.parse::<u32>() {
            Ok(v) if v >= 1 => Ok(v),
            _ => Err(nrmp_domain::FieldError::new(
                f,
                format!("`{s}` is not a version number"),
            )),
        }
    })?;
    let rid = path_id("rid", &raw_rid, ProfileId::parse)?;
    let reason = reason.or(None);
    let (case, grant) = decide_on(
        &state,
        &caller,
        &raw,
        Action::Read,
        ResourceKind::Profile,
        reason.as_deref(),
    )
    .await?;
    if !case.history.profiles.iter().any(|p| p.id == rid) {
        return Err(ApiError::NotFound("profile"));
    }
    let profile = state
        .store
        .profile(&store_ctx(&state, &caller, reason.as_deref()), rid, version)
        .await?;
    Ok(Json(grant.view(&profile).map_err(guard::render_error)?))
}
