//! The records that hang off a person: NRM referrals, placements and pre-filled profiles.
//! Created and changed one by one under the person's case; read through the person's history
//! ([`Register::person_history`]) or, for a profile's versions, directly ([`Register::profile`]).

use crate::Register;
use crate::access::{Case, render_error};
use crate::error::{AppError, AppResult};
use crate::input::Created;
use crate::input::finish;
use chrono::{DateTime, NaiveDate, Utc};
use nrmp_domain::access::{
    Action, Field, FieldSet, Principal, Redact, RedactedProfile, ResourceKind, Target, authorize,
};
use nrmp_domain::ids::{PersonId, PlacementId, ProfileId, ReferralId};
use nrmp_domain::nrm::{Decision, ExploitationType, NrmReferral};
use nrmp_domain::organisation::OrgCode;
use nrmp_domain::person::Description;
use nrmp_domain::placement::{Placement, PlacementType};
use nrmp_domain::profile::PrefilledProfile;
use serde::Serialize;

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

fn check_reference(r: &Option<String>) -> AppResult<()> {
    let mut errs = Vec::new();
    if let Some(r) = r {
        nrmp_domain::text::check_len(
            &mut errs,
            "reference",
            r,
            nrmp_domain::text::REFERENCE,
            false,
        );
    }
    finish(errs)
}

impl Register {
    /// Records an NRM referral about the person; the caller's organisation is the first
    /// responder.
    pub async fn create_referral(
        &self,
        caller: &Principal,
        reason: Option<String>,
        pid: PersonId,
        input: ReferralInput,
    ) -> AppResult<Created> {
        check_reference(&input.reference)?;
        let today = self.clock.now().date_naive();
        if input.referred_on > today {
            return Err(AppError::invalid("referred_on", "is in the future"));
        }
        let (case, grant) = self
            .open_case(
                caller,
                pid,
                Action::Create,
                ResourceKind::NrmReferral,
                reason.as_deref(),
            )
            .await?;
        let referral = NrmReferral {
            id: ReferralId(self.ids.next_uuid()),
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
            .map_err(|d| AppError::denied(d, "nrm_referral"))?;
        self.store
            .create_referral(&self.ctx(caller, reason.as_deref()), &referral)
            .await?;
        let mut h = case.history;
        h.referrals.push(referral.clone());
        let case = Case::new(h);
        let body = after_write(
            caller,
            &case,
            &referral,
            referral.id.to_string(),
            reason.as_deref(),
        );
        Ok(Created {
            id: referral.id.to_string(),
            body,
        })
    }
}

impl Register {
    /// Replaces a referral (e.g. a grounds decision);
    /// the first responder stays.
    pub async fn update_referral(
        &self,
        caller: &Principal,
        reason: Option<String>,
        pid: PersonId,
        rid: ReferralId,
        input: ReferralInput,
    ) -> AppResult<serde_json::Value> {
        check_reference(&input.reference)?;
        let (case, grant) = self
            .open_case(
                caller,
                pid,
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
            .ok_or(AppError::NotFound("nrm_referral"))?;
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
            .map_err(|d| AppError::denied(d, "nrm_referral"))?;
        self.store
            .update_referral(&self.ctx(caller, reason.as_deref()), &referral)
            .await?;
        let mut h = case.history;
        if let Some(r) = h.referrals.iter_mut().find(|r| r.id == rid) {
            *r = referral.clone();
        }
        Ok(after_write(
            caller,
            &Case::new(h),
            &referral,
            rid.to_string(),
            reason.as_deref(),
        ))
    }
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

impl Register {
    /// Records a placement of the person; the caller's organisation is the placing authority.
    pub async fn create_placement(
        &self,
        caller: &Principal,
        reason: Option<String>,
        pid: PersonId,
        input: PlacementInput,
    ) -> AppResult<Created> {
        let (case, grant) = self
            .open_case(
                caller,
                pid,
                Action::Create,
                ResourceKind::Placement,
                reason.as_deref(),
            )
            .await?;
        let placement = Placement {
            id: PlacementId(self.ids.next_uuid()),
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
            .map_err(|d| AppError::denied(d, "placement"))?;
        self.store
            .create_placement(&self.ctx(caller, reason.as_deref()), &placement)
            .await?;
        let mut h = case.history;
        h.placements.push(placement.clone());
        let body = after_write(
            caller,
            &Case::new(h),
            &placement,
            placement.id.to_string(),
            reason.as_deref(),
        );
        Ok(Created {
            id: placement.id.to_string(),
            body,
        })
    }
}

impl Register {
    /// Replaces a placement (e.g. its end); the
    /// placing authority stays.
    pub async fn update_placement(
        &self,
        caller: &Principal,
        reason: Option<String>,
        pid: PersonId,
        rid: PlacementId,
        input: PlacementInput,
    ) -> AppResult<serde_json::Value> {
        let (case, grant) = self
            .open_case(
                caller,
                pid,
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
            .ok_or(AppError::NotFound("placement"))?;
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
            .map_err(|d| AppError::denied(d, "placement"))?;
        self.store
            .update_placement(&self.ctx(caller, reason.as_deref()), &placement)
            .await?;
        let mut h = case.history;
        if let Some(p) = h.placements.iter_mut().find(|p| p.id == rid) {
            *p = placement.clone();
        }
        Ok(after_write(
            caller,
            &Case::new(h),
            &placement,
            rid.to_string(),
            reason.as_deref(),
        ))
    }
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

fn check_profile_text(input: &ProfileInput) -> AppResult<()> {
    use nrmp_domain::text::{NARRATIVE, check_entries, check_len};
    let mut errs = Vec::new();
    for (name, list) in [
        ("associates", &input.associates),
        ("places", &input.places),
        ("phones", &input.phones),
        ("social_media", &input.social_media),
    ] {
        check_entries(&mut errs, name, list);
    }
    for (name, v) in [
        ("medical_needs", &input.medical_needs),
        ("notes", &input.notes),
    ] {
        if let Some(v) = v {
            check_len(&mut errs, name, v, NARRATIVE, false);
        }
    }
    finish(errs)
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

impl Register {
    /// Version 1 of a new profile.
    pub async fn create_profile(
        &self,
        caller: &Principal,
        reason: Option<String>,
        pid: PersonId,
        input: ProfileInput,
    ) -> AppResult<Created> {
        check_profile_text(&input)?;
        let (case, grant) = self
            .open_case(
                caller,
                pid,
                Action::Create,
                ResourceKind::Profile,
                reason.as_deref(),
            )
            .await?;
        let mut profile = PrefilledProfile {
            id: ProfileId(self.ids.next_uuid()),
            version: 1,
            person_id: case.history.person.id,
            prepared_by: caller.org().clone(),
            prepared_at: self.clock.now(),
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
            .map_err(|d| AppError::denied(d, "profile"))?;
        self.store
            .save_profile(&self.ctx(caller, reason.as_deref()), &profile)
            .await?;
        let mut h = case.history;
        h.profiles.push(profile.clone());
        let body = after_write(
            caller,
            &Case::new(h),
            &profile,
            profile.id.to_string(),
            reason.as_deref(),
        );
        Ok(Created {
            id: profile.id.to_string(),
            body,
        })
    }
}

impl Register {
    /// The next version of a profile (old versions are
    /// kept unchanged).
    pub async fn new_profile_version(
        &self,
        caller: &Principal,
        reason: Option<String>,
        pid: PersonId,
        rid: ProfileId,
        input: ProfileInput,
    ) -> AppResult<serde_json::Value> {
        check_profile_text(&input)?;
        let (case, grant) = self
            .open_case(
                caller,
                pid,
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
            .ok_or(AppError::NotFound("profile"))?;
        let now = self.clock.now().max(old.prepared_at);
        let next = old.next_version(now, |p| input.apply(p))?;
        grant
            .check_writes(diff(&profile_parts(&old), &profile_parts(&next)))
            .map_err(|d| AppError::denied(d, "profile"))?;
        self.store
            .save_profile(&self.ctx(caller, reason.as_deref()), &next)
            .await?;
        let mut h = case.history;
        if let Some(p) = h.profiles.iter_mut().find(|p| p.id == rid) {
            *p = next.clone();
        }
        Ok(after_write(
            caller,
            &Case::new(h),
            &next,
            rid.to_string(),
            reason.as_deref(),
        ))
    }
}

/// Query of `GET …/profiles/{rid}`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileQuery {
    /// A version number (default: the latest).
    pub version: Option<String>,
}

impl Register {
    /// A version of a pre-filled profile (the latest unless `q.version` names one).
    pub async fn profile(
        &self,
        caller: &Principal,
        reason: Option<String>,
        pid: PersonId,
        rid: ProfileId,
        q: ProfileQuery,
    ) -> AppResult<RedactedProfile> {
        let version = crate::input::opt_param("version", q.version.as_deref(), |f, s| {
            match s.parse::<u32>() {
                Ok(v) if v >= 1 => Ok(v),
                _ => Err(nrmp_domain::FieldError::new(
                    f,
                    format!("`{s}` is not a version number"),
                )),
            }
        })?;
        let (case, grant) = self
            .open_case(
                caller,
                pid,
                Action::Read,
                ResourceKind::Profile,
                reason.as_deref(),
            )
            .await?;
        if !case.history.profiles.iter().any(|p| p.id == rid) {
            return Err(AppError::NotFound("profile"));
        }
        let profile = self
            .store
            .profile(&self.ctx(caller, reason.as_deref()), rid, version)
            .await?;
        grant.view(&profile).map_err(render_error)
    }
}
