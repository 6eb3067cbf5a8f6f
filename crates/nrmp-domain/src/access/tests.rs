//! The access matrix and the properties the policy must keep.
//!
//! The expected policy is written out below a second time, as a declarative table ([`SPEC`]),
//! independent of the `match`es in `policy.rs`; the matrix test compares the two over every
//! role × organisation kind × relation/scope × action × resource × field.

use super::context::{Relation, Scope};
use super::field::sets::*;
use super::policy::{decide_scope, role_rule};
use super::*;
use crate::found::FoundPerson;
use crate::identifier::{Identifier, IdentifierKind};
use crate::ids::{FoundPersonId, IncidentId, PersonId, PlacementId, ProfileId, ReferralId};
use crate::incident::{
    GradeChange, Incident, IncidentCategory, Place, Return, ReturnHomeInterview, ReturnOutcome,
    RiskGrade, Sighting,
};
use crate::nrm::{Decision as Grounds, DecisionOutcome, ExploitationType, NrmReferral};
use crate::organisation::{OrgCode, OrgKind};
use crate::person::{
    Build, DateOfBirth, Description, Language, Mark, MarkKind, NameKind, Nationality, Person,
    PersonName, PhotoMeta, Sex,
};
use crate::placement::{Placement, PlacementType};
use crate::profile::PrefilledProfile;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use Action as A;
use ResourceKind as R;

// ------------------------------------------------------------------------------------------
// Fixtures

fn org(s: &str) -> OrgCode {
    OrgCode::parse("o", s).unwrap()
}

fn t(h: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::hours(h)
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The person every case fixture is about (and the advocate's client).
const SUBJECT: PersonId = PersonId(Uuid::from_u128(1));
const FOUND: FoundPersonId = FoundPersonId(Uuid::from_u128(2));

const ALL_KINDS: [OrgKind; 4] = [
    OrgKind::PoliceForce,
    OrgKind::LocalAuthority,
    OrgKind::NationalUnit,
    OrgKind::AdvocacyService,
];

/// The caller's own organisation for each kind.
fn home_org(kind: OrgKind) -> OrgCode {
    org(match kind {
        OrgKind::PoliceForce => "force:essex",
        OrgKind::LocalAuthority => "la:essex",
        OrgKind::NationalUnit => "national:nmpu",
        OrgKind::AdvocacyService => "advocacy:ictg-1",
    })
}

fn principal_with(roles: Vec<Role>, kind: OrgKind) -> Principal {
    let clients = if roles.contains(&Role::Advocate) {
        vec![SUBJECT]
    } else {
        vec![]
    };
    Principal::new("user-1", home_org(kind), kind, roles, clients).unwrap()
}

fn principal(role: Role, kind: OrgKind) -> Principal {
    principal_with(vec![role], kind)
}

/// Every (role, organisation kind) pair a principal can have.
fn role_kinds() -> Vec<(Role, OrgKind)> {
    Role::ALL
        .iter()
        .flat_map(|&r| r.allowed_org_kinds().iter().map(move |&k| (r, k)))
        .collect()
}

fn scopes() -> Vec<Scope> {
    let mut v: Vec<Scope> = Relation::ALL.iter().map(|&r| Scope::Case(r)).collect();
    v.extend([
        Scope::NewCase,
        Scope::Register,
        Scope::Organisation { own: true },
        Scope::Organisation { own: false },
    ]);
    v
}

fn place(desc: &str) -> Place {
    Place {
        description: desc.into(),
        authority: None,
        force: None,
    }
}

/// A description whose every part carries a sentinel word.
fn description() -> Description {
    Description {
        height_cm: Some((150, 160)),
        build: Some(Build::Slim),
        hair: Some("hairsentinel".into()),
        eyes: Some("brown".into()),
        marks: vec![Mark {
            kind: MarkKind::Tattoo,
            location: "left forearm".into(),
            description: "marksentinel".into(),
        }],
        photos: vec![PhotoMeta {
            taken_on: Some(d("2025-05-01")),
            held_by: org("la:photo-holder"),
            reference: "photosentinel".into(),
        }],
    }
}

/// Fully populated records of every kind, each field carrying a sentinel (see [`SENTINELS`]).
fn full_person() -> Person {
    Person {
        id: SUBJECT,
        owning_org: org("force:owner-sentinel"),
        names: vec![
            PersonName::parse(NameKind::Primary, "Namesentinel", "Gebre", None, false).unwrap(),
        ],
        dob: Some(DateOfBirth::Exact {
            date: d("2009-03-04"),
        }),
        sex: Sex::Female,
        nationalities: vec![Nationality::parse("n", "ERI").unwrap()],
        languages: vec![Language::parse("l", "ti").unwrap()],
        identifiers: vec![Identifier::parse("i", IdentifierKind::HomeOffice, "87654321").unwrap()],
        description: description(),
        created_at: t(-1000),
        updated_at: t(-10),
    }
}

fn full_incident() -> Incident {
    Incident {
        id: IncidentId(Uuid::from_u128(10)),
        person_id: SUBJECT,
        owning_org: org("force:owner-sentinel"),
        force_missing: org("force:missing-sentinel"),
        involved: vec![org("la:involved-sentinel")],
        category: IncidentCategory::Missing,
        reported_at: t(1),
        last_seen_at: t(0),
        last_seen_place: place("lastseensentinel"),
        circumstances: "circumstancesentinel".into(),
        risk_history: vec![GradeChange {
            grade: RiskGrade::High,
            rationale: "rationalesentinel".into(),
            at: t(1),
            by: "grader".into(),
            source: org("force:grader"),
        }],
        sightings: vec![Sighting {
            at: t(5),
            place: place("sightingplace"),
            reported_by: org("force:sighter"),
            details: "sightingsentinel".into(),
        }],
        returned: Some(Return {
            found_at: t(10),
            place: place("returnplacesentinel"),
            found_by: org("force:finder"),
            outcome: ReturnOutcome::Safe,
        }),
        return_interview: Some(ReturnHomeInterview {
            offered_at: t(20),
            accepted: true,
            conducted_by: Some(org("la:interviewer")),
            conducted_at: Some(t(30)),
            outcome: Some("disclosuresentinel".into()),
            disclosures_flagged: true,
        }),
    }
}

fn full_profile() -> PrefilledProfile {
    PrefilledProfile {
        id: ProfileId(Uuid::from_u128(20)),
        version: 3,
        person_id: SUBJECT,
        prepared_by: org("la:author-sentinel"),
        prepared_at: t(-500),
        description: description(),
        associates: vec!["associatesentinel".into()],
        places: vec!["placessentinel".into()],
        phones: vec!["+44 7700 900123".into()],
        social_media: vec!["socialsentinel".into()],
        medical_needs: Some("medicalsentinel".into()),
        notes: Some("notesentinel".into()),
    }
}

fn full_placement() -> Placement {
    Placement {
        id: PlacementId(Uuid::from_u128(30)),
        person_id: SUBJECT,
        placing_authority: org("la:placing-sentinel"),
        host_authority: org("la:host-sentinel"),
        placement_type: PlacementType::ChildrensHome,
        started_at: t(-700),
        ended_at: None,
        unaccompanied: true,
    }
}

fn full_referral() -> NrmReferral {
    NrmReferral {
        id: ReferralId(Uuid::from_u128(40)),
        person_id: SUBJECT,
        reference: Some("nrmrefsentinel".into()),
        referred_on: d("2025-12-01"),
        first_responder: org("la:responder-sentinel"),
        exploitation: vec![ExploitationType::OrganHarvesting],
        reasonable_grounds: Some(Grounds {
            date: d("2025-12-04"),
            outcome: DecisionOutcome::Positive,
        }),
        conclusive_grounds: None,
    }
}

fn full_found() -> FoundPerson {
    FoundPerson {
        id: FOUND,
        found_at: t(3),
        place: place("foundplacesentinel"),
        found_by: org("force:finder-sentinel"),
        names_given: vec![
            PersonName::parse(NameKind::Alias, "Namesentinel", "", None, true).unwrap(),
        ],
        dob: None,
        sex: Sex::Female,
        description: description(),
        identified_as: Some(SUBJECT),
        deceased: false,
    }
}

/// Words that appear in a fixture only inside one field's data: when the field is withheld the
/// word must not appear anywhere in the JSON, however deeply nested.
const SENTINELS: &[(ResourceKind, &str, Field)] = &[
    (R::Person, "owner-sentinel", Field::Organisations),
    (R::Person, "namesentinel", Field::Names),
    (R::Person, "2009-03-04", Field::DateOfBirth),
    (R::Person, "\"female\"", Field::Sex),
    (R::Person, "\"eri\"", Field::Nationalities),
    (R::Person, "\"ti\"", Field::Languages),
    (R::Person, "87654321", Field::Identifiers),
    (R::Person, "hairsentinel", Field::Description),
    (R::Person, "marksentinel", Field::Description),
    (R::Person, "photosentinel", Field::PhotoMeta),
    (R::Person, "photo-holder", Field::PhotoMeta),
    (R::Incident, "owner-sentinel", Field::Organisations),
    (R::Incident, "missing-sentinel", Field::Organisations),
    (R::Incident, "involved-sentinel", Field::Organisations),
    (R::Incident, "\"missing\"", Field::IncidentSummary),
    (R::Incident, "\"risk\":\"high\"", Field::RiskGrade),
    (R::Incident, "rationalesentinel", Field::RiskHistory),
    (R::Incident, "grader", Field::RiskHistory),
    (R::Incident, "lastseensentinel", Field::LastSeenPlace),
    (R::Incident, "circumstancesentinel", Field::Circumstances),
    (R::Incident, "sightingsentinel", Field::Sightings),
    (R::Incident, "sightingplace", Field::Sightings),
    (R::Incident, "force:sighter", Field::Sightings),
    (R::Incident, "force:finder", Field::Return),
    (R::Incident, "\"safe\"", Field::Return),
    (R::Incident, "returnplacesentinel", Field::ReturnPlace),
    (R::Incident, "la:interviewer", Field::ReturnInterview),
    (
        R::Incident,
        "disclosuresentinel",
        Field::ReturnInterviewDisclosures,
    ),
    (
        R::Incident,
        "disclosures_flagged",
        Field::ReturnInterviewDisclosures,
    ),
    (R::Profile, "author-sentinel", Field::Organisations),
    (R::Profile, "hairsentinel", Field::Description),
    (R::Profile, "photosentinel", Field::PhotoMeta),
    (R::Profile, "associatesentinel", Field::ProfileAssociates),
    (R::Profile, "placessentinel", Field::ProfilePlaces),
    (R::Profile, "900123", Field::ProfilePhones),
    (R::Profile, "socialsentinel", Field::ProfileSocialMedia),
    (R::Profile, "medicalsentinel", Field::ProfileMedicalNeeds),
    (R::Profile, "notesentinel", Field::ProfileNotes),
    (R::Placement, "placing-sentinel", Field::Organisations),
    (R::Placement, "childrens_home", Field::PlacementDetails),
    (R::Placement, "host-sentinel", Field::PlacementLocation),
    (R::NrmReferral, "responder-sentinel", Field::Organisations),
    (R::NrmReferral, "nrmrefsentinel", Field::NrmReferral),
    (R::NrmReferral, "organ_harvesting", Field::NrmExploitation),
    (R::NrmReferral, "positive", Field::NrmDecisions),
    (R::FoundPerson, "finder-sentinel", Field::Organisations),
    (R::FoundPerson, "foundplacesentinel", Field::FoundDetails),
    (R::FoundPerson, "namesentinel", Field::Names),
    (R::FoundPerson, "\"female\"", Field::Sex),
    (R::FoundPerson, "hairsentinel", Field::Description),
    (R::FoundPerson, "photosentinel", Field::PhotoMeta),
];

/// Which field each JSON key of a view belongs to: `Some(None)` for keys always present (ids),
/// `None` for a key the test does not know (a new view field must be added here).
fn key_field(res: ResourceKind, key: &str) -> Option<Option<Field>> {
    use Field::*;
    let f = match (res, key) {
        (_, "id") => return Some(None),
        (R::Incident | R::Profile | R::Placement | R::NrmReferral, "person_id") => {
            return Some(None);
        }
        (R::Profile, "version") => return Some(None),
        (R::Person, "owning_org") => Organisations,
        (R::Person, "names") | (R::FoundPerson, "names_given") => Names,
        (R::Person | R::FoundPerson, "dob") => DateOfBirth,
        (R::Person | R::FoundPerson, "sex") => Sex,
        (R::Person, "nationalities") => Nationalities,
        (R::Person, "languages") => Languages,
        (R::Person, "identifiers") => Identifiers,
        (R::Person | R::Profile | R::FoundPerson, "description") => Description,
        (R::Person | R::Profile | R::FoundPerson, "photos") => PhotoMeta,
        (R::Person, "created_at" | "updated_at") | (R::Profile, "prepared_at") => RecordDates,
        (R::Incident, "owning_org" | "force_missing" | "involved") => Organisations,
        (R::Incident, "category" | "reported_at" | "last_seen_at" | "open") => IncidentSummary,
        (R::Incident, "risk") => RiskGrade,
        (R::Incident, "risk_history") => RiskHistory,
        (R::Incident, "last_seen_place") => LastSeenPlace,
        (R::Incident, "circumstances") => Circumstances,
        (R::Incident, "sightings") => Sightings,
        (R::Incident, "returned") => Return,
        (R::Incident, "return_place") => ReturnPlace,
        (R::Incident, "return_interview") => ReturnInterview,
        (R::Incident, "return_interview_outcome") => ReturnInterviewDisclosures,
        (R::Profile, "prepared_by") => Organisations,
        (R::Profile, "associates") => ProfileAssociates,
        (R::Profile, "places") => ProfilePlaces,
        (R::Profile, "phones") => ProfilePhones,
        (R::Profile, "social_media") => ProfileSocialMedia,
        (R::Profile, "medical_needs") => ProfileMedicalNeeds,
        (R::Profile, "notes") => ProfileNotes,
        (R::Placement, "placing_authority") => Organisations,
        (R::Placement, "placement_type" | "started_at" | "ended_at") => PlacementDetails,
        (R::Placement, "host_authority") => PlacementLocation,
        (R::Placement, "unaccompanied") => Unaccompanied,
        (R::NrmReferral, "first_responder") => Organisations,
        (R::NrmReferral, "reference" | "referred_on") => NrmReferral,
        (R::NrmReferral, "exploitation") => NrmExploitation,
        (R::NrmReferral, "reasonable_grounds" | "conclusive_grounds") => NrmDecisions,
        (R::FoundPerson, "found_by") => Organisations,
        (R::FoundPerson, "found_at" | "place" | "deceased" | "identified_as") => FoundDetails,
        _ => return None,
    };
    Some(Some(f))
}

/// The fixture of `res`, redacted to `fields`, as JSON.
fn redacted_json(res: ResourceKind, fields: FieldSet) -> serde_json::Value {
    let v = match res {
        R::Person => serde_json::to_value(redact_person(&full_person(), &fields)),
        R::Incident => serde_json::to_value(redact(&full_incident(), &fields)),
        R::Profile => serde_json::to_value(redact(&full_profile(), &fields)),
        R::Placement => serde_json::to_value(redact(&full_placement(), &fields)),
        R::NrmReferral => serde_json::to_value(redact(&full_referral(), &fields)),
        R::FoundPerson => serde_json::to_value(redact(&full_found(), &fields)),
        other => panic!("{other:?} has no records"),
    };
    v.unwrap()
}

/// Redacting `res`'s fixture to `fields` shows exactly the granted fields the record has:
/// every key maps to a granted field, every granted field has a key, and no withheld field's
/// sentinel appears anywhere in the output.
fn check_redaction(res: ResourceKind, fields: FieldSet) {
    let json = redacted_json(res, fields);
    let obj = json.as_object().unwrap();
    let mut shown = FieldSet::EMPTY;
    for key in obj.keys() {
        match key_field(res, key) {
            None => panic!("{res:?}: unknown key `{key}` — map it in key_field"),
            Some(None) => {}
            Some(Some(f)) => {
                assert!(
                    fields.contains(f),
                    "{res:?}: `{key}` ({f}) shown but not granted"
                );
                shown.insert(f);
            }
        }
    }
    // Derived flags are not part of the record views (see `redact_flags`).
    let expected = fields
        .intersection(res.fields())
        .difference(FieldSet::of(&[Field::WarningFlags]));
    assert_eq!(shown, expected, "{res:?}: granted {fields:?}");
    let text = json.to_string().to_lowercase();
    for &(_, word, f) in SENTINELS.iter().filter(|s| s.0 == res) {
        assert_eq!(
            text.contains(word),
            fields.contains(f),
            "{res:?}: sentinel `{word}` of {f} with grant {fields:?}: {text}"
        );
    }
}

// ------------------------------------------------------------------------------------------
// The expected policy, written out as a table

const OWNER: Scope = Scope::Case(Relation::Owner);
const INVOLVED: Scope = Scope::Case(Relation::Involved);
const CLIENT: Scope = Scope::Case(Relation::Client);
const NATIONAL: Scope = Scope::Case(Relation::NationalUnit);
const OUTSIDER: Scope = Scope::Case(Relation::NotInvolved);
const OWN_ORG: Scope = Scope::Organisation { own: true };
const OTHER_ORG: Scope = Scope::Organisation { own: false };

const CASE_ANY: &[Scope] = &[OWNER, INVOLVED, CLIENT, NATIONAL, OUTSIDER];
const NEED_TO_KNOW: &[Scope] = &[OWNER, INVOLVED];
const OUTSIDE: &[Scope] = &[CLIENT, NATIONAL, OUTSIDER];

const CASE_RES: &[ResourceKind] = &[
    R::Person,
    R::Incident,
    R::Profile,
    R::Placement,
    R::NrmReferral,
    R::FoundPerson,
];
const SEARCHABLE: &[ResourceKind] = &[R::Person, R::Incident, R::FoundPerson];
const ADMIN_RES: &[ResourceKind] = &[R::Organisation, R::User, R::RetentionReview];

const POLICE: &[Role] = &[Role::CallHandler, Role::MissingPersonCoordinator];
const LA: &[Role] = &[Role::MissingFromCareLead, Role::SocialWorker];

/// One allowed cell group of the policy.
struct Row {
    roles: &'static [Role],
    /// Organisation kinds the row is limited to (empty: any the role may belong to).
    kinds: &'static [OrgKind],
    action: Action,
    resources: &'static [ResourceKind],
    scopes: &'static [Scope],
    fields: FieldSet,
    reason: bool,
}

const fn row(
    roles: &'static [Role],
    action: Action,
    resources: &'static [ResourceKind],
    scopes: &'static [Scope],
    fields: FieldSet,
    reason: bool,
) -> Row {
    Row {
        roles,
        kinds: &[],
        action,
        resources,
        scopes,
        fields,
        reason,
    }
}

const EVERYONE: &[Role] = &Role::ALL;
const E: FieldSet = FieldSet::EMPTY;
const ALL: FieldSet = FieldSet::ALL;

/// Everything allowed. Anything not listed must be denied.
const SPEC: &[Row] = &[
    // The directory of organisations is open to all.
    row(
        EVERYONE,
        A::Read,
        &[R::Organisation],
        &[Scope::Register, OWN_ORG, OTHER_ORG],
        E,
        false,
    ),
    // Police call handlers and coordinators.
    row(POLICE, A::Search, SEARCHABLE, &[Scope::Register], E, true),
    row(POLICE, A::Search, SEARCHABLE, NEED_TO_KNOW, ALL, true),
    row(
        POLICE,
        A::Search,
        SEARCHABLE,
        OUTSIDE,
        NATIONAL_SEARCH,
        true,
    ),
    row(POLICE, A::Read, CASE_RES, NEED_TO_KNOW, ALL, false),
    row(POLICE, A::Read, SEARCHABLE, OUTSIDE, NATIONAL_SEARCH, true),
    row(
        POLICE,
        A::Create,
        &[R::Person, R::FoundPerson],
        &[Scope::NewCase],
        POLICE_WRITE,
        false,
    ),
    row(
        POLICE,
        A::Create,
        &[R::Incident, R::NrmReferral],
        CASE_ANY,
        POLICE_WRITE,
        false,
    ),
    row(
        POLICE,
        A::Update,
        &[R::Person, R::Incident, R::NrmReferral, R::FoundPerson],
        &[OWNER],
        POLICE_WRITE,
        false,
    ),
    row(
        POLICE,
        A::Update,
        &[R::Person, R::Incident, R::NrmReferral, R::FoundPerson],
        &[INVOLVED],
        POLICE_UPDATE_INVOLVED,
        false,
    ),
    row(
        POLICE,
        A::Update,
        &[R::Incident],
        OUTSIDE,
        OUTSIDE_FORCE_UPDATE,
        true,
    ),
    row(
        &[Role::MissingPersonCoordinator],
        A::Export,
        CASE_RES,
        NEED_TO_KNOW,
        ALL,
        true,
    ),
    row(
        &[Role::MissingPersonCoordinator],
        A::Merge,
        &[R::Person],
        NEED_TO_KNOW,
        ALL,
        true,
    ),
    row(
        &[Role::MissingPersonCoordinator],
        A::ReadStatistics,
        &[R::Statistics],
        &[Scope::Register],
        E,
        false,
    ),
    // Patrol officers: the encounter check.
    row(
        &[Role::PatrolOfficer],
        A::Search,
        SEARCHABLE,
        &[Scope::Register],
        E,
        true,
    ),
    row(
        &[Role::PatrolOfficer],
        A::Search,
        SEARCHABLE,
        CASE_ANY,
        ENCOUNTER,
        true,
    ),
    // Local authorities: children they look after or host, or are otherwise involved with.
    row(LA, A::Search, SEARCHABLE, &[Scope::Register], E, true),
    row(LA, A::Search, SEARCHABLE, NEED_TO_KNOW, ALL, true),
    row(LA, A::Read, CASE_RES, NEED_TO_KNOW, ALL, false),
    row(
        LA,
        A::Create,
        &[R::Person],
        &[Scope::NewCase],
        LA_CREATE,
        false,
    ),
    row(
        LA,
        A::Create,
        &[R::Incident, R::Profile, R::Placement, R::NrmReferral],
        NEED_TO_KNOW,
        LA_CREATE,
        false,
    ),
    row(LA, A::Create, &[R::Placement], OUTSIDE, LA_CREATE, false),
    row(
        LA,
        A::Update,
        &[
            R::Person,
            R::Incident,
            R::Profile,
            R::Placement,
            R::NrmReferral,
        ],
        &[OWNER],
        LA_UPDATE,
        false,
    ),
    row(
        LA,
        A::Update,
        &[
            R::Person,
            R::Incident,
            R::Profile,
            R::Placement,
            R::NrmReferral,
        ],
        &[INVOLVED],
        LA_UPDATE_INVOLVED,
        false,
    ),
    row(
        &[Role::MissingFromCareLead],
        A::Export,
        CASE_RES,
        NEED_TO_KNOW,
        ALL,
        true,
    ),
    row(
        &[Role::MissingFromCareLead],
        A::ReadStatistics,
        &[R::Statistics],
        &[Scope::Register],
        E,
        false,
    ),
    // The national unit's analyst: everything, always with a reason.
    row(
        &[Role::NationalAnalyst],
        A::Search,
        SEARCHABLE,
        &[Scope::Register],
        E,
        true,
    ),
    row(
        &[Role::NationalAnalyst],
        A::Search,
        SEARCHABLE,
        CASE_ANY,
        ALL,
        true,
    ),
    row(
        &[Role::NationalAnalyst],
        A::Read,
        CASE_RES,
        CASE_ANY,
        ALL,
        true,
    ),
    row(
        &[Role::NationalAnalyst],
        A::Export,
        CASE_RES,
        CASE_ANY,
        ALL,
        true,
    ),
    row(
        &[Role::NationalAnalyst],
        A::Export,
        CASE_RES,
        &[Scope::Register],
        ALL,
        true,
    ),
    row(
        &[Role::NationalAnalyst],
        A::Update,
        &[R::FoundPerson],
        CASE_ANY,
        ANALYST_UPDATE,
        true,
    ),
    row(
        &[Role::NationalAnalyst],
        A::Merge,
        &[R::Person],
        CASE_ANY,
        ALL,
        true,
    ),
    row(
        &[Role::NationalAnalyst],
        A::ReadStatistics,
        &[R::Statistics],
        &[Scope::Register],
        E,
        false,
    ),
    // Advocates: their own clients, limited fields.
    row(
        &[Role::Advocate],
        A::Read,
        &[R::Person, R::Incident, R::Placement, R::NrmReferral],
        &[CLIENT],
        ADVOCATE,
        false,
    ),
    // Researchers: statistics only.
    row(
        &[Role::Researcher],
        A::ReadStatistics,
        &[R::Statistics],
        &[Scope::Register],
        E,
        false,
    ),
    // Administrators: their own organisation; the national unit's, every organisation.
    row(
        &[Role::Administrator],
        A::Administer,
        ADMIN_RES,
        &[OWN_ORG],
        E,
        false,
    ),
    Row {
        roles: &[Role::Administrator],
        kinds: &[OrgKind::NationalUnit],
        action: A::Administer,
        resources: ADMIN_RES,
        scopes: &[OTHER_ORG, Scope::Register],
        fields: E,
        reason: false,
    },
    row(
        &[Role::Administrator],
        A::Erase,
        CASE_RES,
        &[OWNER],
        E,
        true,
    ),
    // The national unit's administrators load datasets into the register (import), seeing none.
    Row {
        roles: &[Role::Administrator],
        kinds: &[OrgKind::NationalUnit],
        action: A::Create,
        resources: CASE_RES,
        scopes: &[Scope::Register],
        fields: E,
        reason: true,
    },
];

/// What [`SPEC`] allows, narrowed to the resource's fields as `decide` does.
fn expected(
    role: Role,
    kind: OrgKind,
    action: Action,
    res: ResourceKind,
    scope: Scope,
) -> Option<(FieldSet, bool)> {
    let mut out: Option<(FieldSet, bool)> = None;
    for r in SPEC.iter().filter(|r| {
        r.roles.contains(&role)
            && (r.kinds.is_empty() || r.kinds.contains(&kind))
            && r.action == action
            && r.resources.contains(&res)
            && r.scopes.contains(&scope)
    }) {
        let (f, reason) = out.unwrap_or((E, false));
        out = Some((f.union(r.fields), reason || r.reason));
    }
    out.map(|(f, reason)| (f.intersection(res.fields()), reason))
}

/// Every single-role decision: (role, kind, action, resource, scope, decision).
fn all_decisions() -> Vec<(Role, OrgKind, Action, ResourceKind, Scope, Decision)> {
    let mut v = Vec::new();
    for (role, kind) in role_kinds() {
        let p = principal(role, kind);
        for action in Action::ALL {
            for res in ResourceKind::ALL {
                for scope in scopes() {
                    v.push((
                        role,
                        kind,
                        action,
                        res,
                        scope,
                        decide_scope(&p, action, res, scope),
                    ));
                }
            }
        }
    }
    v
}

// ------------------------------------------------------------------------------------------
// The matrix

#[test]
fn matrix_every_role_relation_action_resource_field_matches_the_spec() {
    let mut cells = 0usize;
    let mut allowed = 0usize;
    for (role, kind, action, res, scope, got) in all_decisions() {
        let want = expected(role, kind, action, res, scope);
        let what = format!("{role:?} in {kind:?}: {action:?} {res:?} at {scope:?}");
        match (got, want) {
            (
                Decision::Allow {
                    fields,
                    reason_required,
                },
                Some((want_fields, want_reason)),
            ) => {
                assert_eq!(reason_required, want_reason, "{what}: reason");
                for &f in Field::ALL {
                    assert_eq!(
                        fields.contains(f),
                        want_fields.contains(f),
                        "{what}: field {f}"
                    );
                }
                allowed += 1;
            }
            (Decision::Deny(_), None) => {}
            (got, want) => panic!("{what}: got {got:?}, spec says {want:?}"),
        }
        cells += Field::ALL.len();
    }
    // 15 role/kind pairs × 9 actions × 10 resources × 9 scopes × 34 fields.
    assert_eq!(cells, 15 * 9 * 10 * 9 * Field::ALL.len());
    assert!(allowed > 100, "{allowed}");
}

#[test]
fn every_allowed_read_redacts_to_exactly_its_fields() {
    for (_, _, action, res, _, dec) in all_decisions() {
        if let Decision::Allow { fields, .. } = dec
            && res.is_case_data()
            && matches!(action, A::Read | A::Search | A::Export)
        {
            check_redaction(res, fields);
        }
    }
}

#[test]
fn redaction_never_shows_a_field_outside_the_set() {
    // Every single field, none, all, and pseudo-random subsets.
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    for &res in CASE_RES {
        check_redaction(res, FieldSet::EMPTY);
        check_redaction(res, FieldSet::ALL);
        for &f in Field::ALL {
            check_redaction(res, FieldSet::of(&[f]));
            check_redaction(res, FieldSet::ALL.difference(FieldSet::of(&[f])));
        }
        for _ in 0..300 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let subset: FieldSet = Field::ALL
                .iter()
                .enumerate()
                .filter(|(i, _)| seed >> (i % 64) & 1 == 1)
                .map(|(_, &f)| f)
                .collect();
            check_redaction(res, subset);
        }
    }
}

#[test]
fn withheld_field_is_absent_and_granted_missing_value_is_null() {
    let mut p = full_person();
    p.dob = None;
    let shown =
        serde_json::to_value(redact_person(&p, &FieldSet::of(&[Field::DateOfBirth]))).unwrap();
    assert_eq!(shown["dob"], serde_json::Value::Null);
    assert!(shown.as_object().unwrap().contains_key("dob"));
    let hidden = serde_json::to_value(redact_person(&p, &FieldSet::EMPTY)).unwrap();
    assert!(!hidden.as_object().unwrap().contains_key("dob"));
    assert_eq!(hidden.as_object().unwrap().len(), 1, "{hidden}");
}

#[test]
fn flags_only_with_warning_flags() {
    let flags = vec![crate::flags::RiskFlag::HighRisk];
    assert_eq!(redact_flags(&flags, &ENCOUNTER), Some(flags.clone()));
    assert_eq!(redact_flags(&flags, &ADVOCATE), None);
}

// ------------------------------------------------------------------------------------------
// Properties

#[test]
fn outside_the_case_every_consultation_needs_a_reason() {
    for (role, _, action, res, scope, dec) in all_decisions() {
        if !dec.is_allowed() {
            continue;
        }
        let outside = matches!(
            scope,
            Scope::Case(Relation::NotInvolved | Relation::NationalUnit)
        );
        let consult = matches!(action, A::Read | A::Search | A::Export);
        if (outside && consult)
            || matches!(action, A::Search | A::Export | A::Merge | A::Erase)
            || (role == Role::NationalAnalyst && res.is_case_data())
        {
            assert!(
                dec.reason_required(),
                "{role:?} {action:?} {res:?} {scope:?} without reason"
            );
        }
    }
}

#[test]
fn no_role_reads_a_case_it_is_not_involved_in_without_a_reason() {
    for (role, _, action, res, scope, dec) in all_decisions() {
        if scope == OUTSIDER && res.is_case_data() && dec.is_allowed() && !dec.fields().is_empty() {
            // The only unreasoned access to an outsider's case is writing a new record of one's
            // own (a new incident, referral or placement) — which shows nothing of it.
            assert!(
                dec.reason_required() || action == A::Create,
                "{role:?} {action:?} {res:?}"
            );
        }
    }
}

#[test]
fn researcher_gets_nothing_but_statistics() {
    for (role, _, action, res, scope, dec) in all_decisions() {
        if role != Role::Researcher || !dec.is_allowed() {
            continue;
        }
        assert!(dec.fields().is_empty());
        assert!(
            (action == A::ReadStatistics && res == R::Statistics)
                || (action == A::Read && res == R::Organisation),
            "{action:?} {res:?} {scope:?}"
        );
    }
    let p = principal(Role::Researcher, OrgKind::NationalUnit);
    for &res in CASE_RES {
        for scope in scopes() {
            assert!(!decide_scope(&p, A::Read, res, scope).is_allowed());
        }
    }
    assert_eq!(
        decide_scope(&p, A::Read, R::Person, OWNER),
        Decision::Deny(DenyReason::NoCaseData)
    );
}

#[test]
fn administrator_gets_no_case_fields() {
    for (role, kind, action, res, scope, dec) in all_decisions() {
        if role != Role::Administrator || !dec.is_allowed() {
            continue;
        }
        assert!(dec.fields().is_empty(), "{kind:?} {action:?} {res:?}");
        assert!(
            !res.is_case_data()
                || action == A::Erase
                || (action == A::Create && scope == Scope::Register),
            "{kind:?} {action:?} {res:?} {scope:?}"
        );
    }
}

#[test]
fn patrol_officer_gets_the_encounter_check_only() {
    let never = FieldSet::of(&[
        Field::ReturnInterview,
        Field::ReturnInterviewDisclosures,
        Field::NrmDecisions,
        Field::NrmExploitation,
        Field::RiskHistory,
        Field::Sightings,
        Field::Circumstances,
        Field::ProfileAssociates,
        Field::ProfilePhones,
        Field::ProfileSocialMedia,
        Field::PlacementLocation,
        Field::Identifiers,
    ]);
    for (role, _, action, res, _, dec) in all_decisions() {
        if role != Role::PatrolOfficer || !dec.is_allowed() {
            continue;
        }
        assert!(
            action == A::Search || (action == A::Read && res == R::Organisation),
            "{action:?}"
        );
        assert!(dec.fields().is_subset(ENCOUNTER));
        assert!(dec.fields().intersection(never).is_empty());
    }
}

#[test]
fn advocate_sees_only_clients_and_no_intelligence() {
    let intelligence = FieldSet::of(&[
        Field::ProfileAssociates,
        Field::ProfilePlaces,
        Field::ProfilePhones,
        Field::ProfileSocialMedia,
        Field::Sightings,
        Field::Circumstances,
        Field::LastSeenPlace,
        Field::RiskHistory,
        Field::ReturnInterviewDisclosures,
        Field::Identifiers,
        Field::PlacementLocation,
    ]);
    for (role, _, action, res, scope, dec) in all_decisions() {
        if role != Role::Advocate || !dec.is_allowed() {
            continue;
        }
        if res == R::Organisation {
            continue;
        }
        assert_eq!((action, scope), (A::Read, CLIENT), "{res:?}");
        assert!(dec.fields().is_subset(ADVOCATE));
        assert!(dec.fields().intersection(intelligence).is_empty());
        assert!(!dec.reason_required());
    }
    // A non-client looks like a missing record.
    let p = principal(Role::Advocate, OrgKind::AdvocacyService);
    assert_eq!(
        decide_scope(&p, A::Read, R::Person, OUTSIDER),
        Decision::Deny(DenyReason::NotClient)
    );
    assert!(DenyReason::NotClient.hides_existence());
}

#[test]
fn local_authority_sees_only_children_it_looks_after_or_hosts() {
    for (role, _, action, res, scope, dec) in all_decisions() {
        if !LA.contains(&role) || !dec.is_allowed() || !res.is_case_data() {
            continue;
        }
        if let Scope::Case(rel) = scope
            && !rel.has_need_to_know()
        {
            assert_eq!((action, res), (A::Create, R::Placement));
        }
    }
}

#[test]
fn object_level_refusals_look_like_not_found() {
    // BOLA: where a role could act on a case it is involved in but not on another, the refusal
    // must not reveal that the other case exists.
    for (role, kind) in role_kinds() {
        let p = principal(role, kind);
        for action in Action::ALL {
            for &res in CASE_RES {
                let inside = [OWNER, INVOLVED, CLIENT]
                    .iter()
                    .any(|&s| decide_scope(&p, action, res, s).is_allowed());
                if let Decision::Deny(why) = decide_scope(&p, action, res, OUTSIDER)
                    && inside
                {
                    assert!(
                        why.hides_existence(),
                        "{role:?} {action:?} {res:?}: {why:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn only_owners_change_who_is_involved() {
    for (role, _, action, res, scope, dec) in all_decisions() {
        if action == A::Update && dec.fields().contains(Field::Organisations) {
            assert_eq!(scope, OWNER, "{role:?} {res:?}");
        }
    }
}

#[test]
fn writes_never_touch_derived_fields() {
    let derived = FieldSet::of(&[Field::WarningFlags, Field::RecordDates]);
    for (role, _, action, res, _, dec) in all_decisions() {
        if matches!(action, A::Create | A::Update) {
            assert!(
                dec.fields().intersection(derived).is_empty(),
                "{role:?} {action:?} {res:?}"
            );
        }
    }
}

#[test]
fn several_roles_unite_their_grants() {
    for kind in ALL_KINDS {
        let fitting: Vec<Role> = Role::ALL.into_iter().filter(|r| r.fits(kind)).collect();
        for (i, &a) in fitting.iter().enumerate() {
            for &b in &fitting[i + 1..] {
                let both = principal_with(vec![a, b], kind);
                let (pa, pb) = (principal(a, kind), principal(b, kind));
                for action in Action::ALL {
                    for res in ResourceKind::ALL {
                        for scope in scopes() {
                            let da = decide_scope(&pa, action, res, scope);
                            let db = decide_scope(&pb, action, res, scope);
                            let dab = decide_scope(&both, action, res, scope);
                            let what = format!("{a:?}+{b:?} {action:?} {res:?} {scope:?}");
                            assert_eq!(
                                dab.is_allowed(),
                                da.is_allowed() || db.is_allowed(),
                                "{what}"
                            );
                            assert_eq!(dab.fields(), da.fields().union(db.fields()), "{what}");
                            if dab.is_allowed() {
                                assert_eq!(
                                    dab.reason_required(),
                                    da.reason_required() || db.reason_required(),
                                    "{what}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn deny_by_default_for_roles_that_do_not_fit_and_for_no_roles() {
    let stray = Principal::unchecked(
        org("force:essex"),
        OrgKind::PoliceForce,
        vec![
            Role::NationalAnalyst,
            Role::Advocate,
            Role::MissingFromCareLead,
        ],
    );
    let none = Principal::unchecked(org("force:essex"), OrgKind::PoliceForce, vec![]);
    for p in [&stray, &none] {
        for action in Action::ALL {
            for res in ResourceKind::ALL {
                for scope in scopes() {
                    assert_eq!(
                        decide_scope(p, action, res, scope),
                        Decision::Deny(DenyReason::NoRole)
                    );
                }
            }
        }
    }
    // A misfit role beside a fitting one adds nothing.
    let mixed = Principal::unchecked(
        org("force:essex"),
        OrgKind::PoliceForce,
        vec![Role::NationalAnalyst, Role::PatrolOfficer],
    );
    let patrol = principal(Role::PatrolOfficer, OrgKind::PoliceForce);
    for action in Action::ALL {
        for res in ResourceKind::ALL {
            for scope in scopes() {
                assert_eq!(
                    decide_scope(&mixed, action, res, scope),
                    decide_scope(&patrol, action, res, scope)
                );
            }
        }
    }
}

#[test]
fn role_rules_agree_with_decide_for_single_roles() {
    // The documented table is rendered from `role_rule`; it must say what `decide` does.
    for (role, kind, action, res, scope, dec) in all_decisions() {
        let rule = role_rule(role, kind, action, res, scope);
        match (rule, dec) {
            (
                Ok((f, r)),
                Decision::Allow {
                    fields,
                    reason_required,
                },
            ) => {
                let narrowed = if res.is_case_data() {
                    f.intersection(res.fields())
                } else {
                    E
                };
                assert_eq!((narrowed, r), (fields, reason_required));
            }
            (Err(a), Decision::Deny(b)) => assert_eq!(a, b),
            (a, b) => panic!("{role:?} {action:?} {res:?} {scope:?}: {a:?} vs {b:?}"),
        }
    }
}

// ------------------------------------------------------------------------------------------
// Relations derived from records

fn bare_person(owner: &str) -> Person {
    Person {
        owning_org: org(owner),
        ..full_person()
    }
}

fn bare_incident(owner: &str) -> Incident {
    Incident {
        owning_org: org(owner),
        force_missing: org(owner),
        involved: vec![],
        returned: None,
        return_interview: None,
        sightings: vec![],
        ..full_incident()
    }
}

fn ctx_with(
    incidents: &[Incident],
    placements: &[Placement],
    referrals: &[NrmReferral],
    profiles: &[PrefilledProfile],
) -> CaseContext {
    CaseContext::for_person(
        &bare_person("force:kent"),
        incidents,
        placements,
        referrals,
        profiles,
    )
}

#[test]
fn every_route_of_involvement_is_found() {
    let police = principal(Role::MissingPersonCoordinator, OrgKind::PoliceForce); // force:essex
    let la = principal(Role::SocialWorker, OrgKind::LocalAuthority); // la:essex
    let rel = |p: &Principal, c: &CaseContext| c.relation_of(p);

    let none = ctx_with(&[bare_incident("force:kent")], &[], &[], &[]);
    assert_eq!(rel(&police, &none), Relation::NotInvolved);
    assert_eq!(rel(&la, &none), Relation::NotInvolved);

    let c = CaseContext::for_person(&bare_person("force:essex"), &[], &[], &[], &[]);
    assert_eq!(rel(&police, &c), Relation::Owner);
    let c = ctx_with(&[bare_incident("force:essex")], &[], &[], &[]);
    assert_eq!(rel(&police, &c), Relation::Owner);

    let mut i = bare_incident("force:kent");
    i.force_missing = org("force:essex");
    assert_eq!(
        rel(&police, &ctx_with(&[i], &[], &[], &[])),
        Relation::Involved
    );
    let mut i = bare_incident("force:kent");
    i.involved = vec![org("la:essex")];
    assert_eq!(rel(&la, &ctx_with(&[i], &[], &[], &[])), Relation::Involved);
    let mut i = full_incident();
    i.returned.as_mut().unwrap().found_by = org("force:essex");
    assert_eq!(
        rel(&police, &ctx_with(&[i], &[], &[], &[])),
        Relation::Involved
    );
    let mut i = full_incident();
    i.return_interview.as_mut().unwrap().conducted_by = Some(org("la:essex"));
    assert_eq!(rel(&la, &ctx_with(&[i], &[], &[], &[])), Relation::Involved);

    let mut p = full_placement();
    p.placing_authority = org("la:essex");
    assert_eq!(rel(&la, &ctx_with(&[], &[p], &[], &[])), Relation::Involved);
    let mut p = full_placement();
    p.host_authority = org("la:essex");
    assert_eq!(rel(&la, &ctx_with(&[], &[p], &[], &[])), Relation::Involved);
    let mut r = full_referral();
    r.first_responder = org("la:essex");
    assert_eq!(rel(&la, &ctx_with(&[], &[], &[r], &[])), Relation::Involved);
    let mut pr = full_profile();
    pr.prepared_by = org("la:essex");
    assert_eq!(
        rel(&la, &ctx_with(&[], &[], &[], &[pr])),
        Relation::Involved
    );

    // Sightings and grade sources do not confer need-to-know.
    let mut i = bare_incident("force:kent");
    i.sightings = full_incident().sightings;
    i.sightings[0].reported_by = org("force:essex");
    i.risk_history[0].source = org("force:essex");
    assert_eq!(
        rel(&police, &ctx_with(&[i], &[], &[], &[])),
        Relation::NotInvolved
    );
}

#[test]
fn another_persons_records_are_ignored() {
    let la = principal(Role::MissingFromCareLead, OrgKind::LocalAuthority);
    let other = PersonId(Uuid::from_u128(999));
    let mut i = bare_incident("la:essex");
    i.person_id = other;
    let mut p = full_placement();
    p.person_id = other;
    p.host_authority = org("la:essex");
    let mut r = full_referral();
    r.person_id = other;
    r.first_responder = org("la:essex");
    let mut pr = full_profile();
    pr.person_id = other;
    pr.prepared_by = org("la:essex");
    let c = ctx_with(&[i], &[p], &[r], &[pr]);
    assert_eq!(c.relation_of(&la), Relation::NotInvolved);
    assert_eq!(
        c.owners().map(OrgCode::as_str).collect::<Vec<_>>(),
        ["force:kent"]
    );
    assert_eq!(c.involved().count(), 1);
}

#[test]
fn advocates_stand_only_as_advocates_and_the_national_unit_has_a_remit() {
    let adv = principal(Role::Advocate, OrgKind::AdvocacyService);
    let admin = principal(Role::Administrator, OrgKind::AdvocacyService);
    // Even if the advocacy service appears in the records, only the client list counts.
    let mut i = bare_incident("force:kent");
    i.involved = vec![org("advocacy:ictg-1")];
    let mut c = ctx_with(&[i.clone()], &[], &[], &[]);
    assert_eq!(c.relation_of(&adv), Relation::Client);
    assert_eq!(c.relation_of(&admin), Relation::NotInvolved);
    let stranger = Person {
        id: PersonId(Uuid::from_u128(77)),
        ..bare_person("force:kent")
    };
    i.person_id = stranger.id;
    c = CaseContext::for_person(&stranger, &[i], &[], &[], &[]);
    assert_eq!(c.relation_of(&adv), Relation::NotInvolved);

    let analyst = principal(Role::NationalAnalyst, OrgKind::NationalUnit);
    assert_eq!(c.relation_of(&analyst), Relation::NationalUnit);
    let owned = CaseContext::for_person(&bare_person("national:nmpu"), &[], &[], &[], &[]);
    assert_eq!(owned.relation_of(&analyst), Relation::Owner);
}

#[test]
fn found_person_context() {
    let finder = Principal::new(
        "u",
        org("force:finder-sentinel"),
        OrgKind::PoliceForce,
        vec![Role::CallHandler],
        vec![],
    )
    .unwrap();
    let la = principal(Role::SocialWorker, OrgKind::LocalAuthority);
    let found = full_found();
    let alone = CaseContext::for_found_person(&found, None);
    assert_eq!(alone.subject(), Subject::FoundPerson(FOUND));
    assert_eq!(alone.relation_of(&finder), Relation::Owner);
    assert_eq!(alone.relation_of(&la), Relation::NotInvolved);
    // Once identified, the person's authorities share it…
    let mut p = full_placement();
    p.placing_authority = org("la:essex");
    let person_ctx = ctx_with(&[], &[p], &[], &[]);
    let linked = CaseContext::for_found_person(&found, Some(&person_ctx));
    assert_eq!(linked.relation_of(&la), Relation::Involved);
    // …but only the context of the person it was identified as.
    let mut unlinked = found.clone();
    unlinked.identified_as = Some(PersonId(Uuid::from_u128(5)));
    let c = CaseContext::for_found_person(&unlinked, Some(&person_ctx));
    assert_eq!(c.relation_of(&la), Relation::NotInvolved);
}

#[test]
fn decide_on_real_contexts_matches_the_matrix() {
    // Every principal against cases built from records, through the public `decide`.
    let kent_case = ctx_with(&[bare_incident("force:kent")], &[], &[], &[]);
    for (role, kind) in role_kinds() {
        let p = principal(role, kind);
        let own =
            CaseContext::for_person(&bare_person(home_org(kind).as_str()), &[], &[], &[], &[]);
        let mut pl = full_placement();
        pl.host_authority = home_org(kind);
        let mut inc = bare_incident("force:kent");
        inc.involved = vec![home_org(kind)];
        let involved = ctx_with(&[inc], &[pl], &[], &[]);
        for (ctx, rel) in [
            (&own, Relation::Owner),
            (&involved, Relation::Involved),
            (&kent_case, Relation::NotInvolved),
        ] {
            let rel = match kind {
                // SUBJECT is the advocate's client; the service's other users have no standing.
                OrgKind::AdvocacyService if role == Role::Advocate => Relation::Client,
                OrgKind::AdvocacyService => Relation::NotInvolved,
                OrgKind::NationalUnit if rel == Relation::NotInvolved => Relation::NationalUnit,
                _ => rel,
            };
            assert_eq!(ctx.relation_of(&p), rel, "{role:?} {kind:?}");
            for action in Action::ALL {
                for res in ResourceKind::ALL {
                    assert_eq!(
                        decide(&p, action, res, &Target::Case(ctx)),
                        decide_scope(&p, action, res, Scope::Case(rel))
                    );
                }
            }
        }
        let home = home_org(kind);
        let other = org("la:elsewhere");
        assert_eq!(Target::Organisation(&home).scope_for(&p), OWN_ORG);
        assert_eq!(Target::Organisation(&other).scope_for(&p), OTHER_ORG);
        assert_eq!(Target::Register.scope_for(&p), Scope::Register);
        assert_eq!(Target::NewCase.scope_for(&p), Scope::NewCase);
    }
}

// ------------------------------------------------------------------------------------------
// Roles and principals

#[test]
fn roles_must_fit_the_organisation_kind() {
    for role in Role::ALL {
        for kind in ALL_KINDS {
            let clients = if role == Role::Advocate {
                vec![SUBJECT]
            } else {
                vec![]
            };
            let r = Principal::new("u", home_org(kind), kind, vec![role], clients);
            assert_eq!(r.is_ok(), role.fits(kind), "{role:?} in {kind:?}");
            if let Err(e) = r {
                assert_eq!(e.errors()[0].field, "roles[0]");
                assert!(e.errors()[0].problem.contains(role.as_str()), "{e}");
            }
        }
    }
    assert!(Role::PatrolOfficer.fits(OrgKind::PoliceForce));
    assert!(!Role::PatrolOfficer.fits(OrgKind::LocalAuthority));
    assert!(!Role::NationalAnalyst.fits(OrgKind::PoliceForce));
    assert!(!Role::Advocate.fits(OrgKind::LocalAuthority));
    assert!(!Role::SocialWorker.fits(OrgKind::NationalUnit));
    assert!(Role::Administrator.fits(OrgKind::AdvocacyService));
}

#[test]
fn principal_checks_code_roles_user_and_clients() {
    let e = Principal::new(
        "u",
        org("force:kent"),
        OrgKind::LocalAuthority,
        vec![Role::SocialWorker],
        vec![],
    )
    .unwrap_err();
    assert_eq!(e.errors()[0].field, "org");
    assert!(e.errors()[0].problem.contains("la:"), "{e}");
    let e =
        Principal::new("u", org("force:kent"), OrgKind::PoliceForce, vec![], vec![]).unwrap_err();
    assert_eq!(e.errors()[0].field, "roles");
    let e = Principal::new(
        " ",
        org("force:kent"),
        OrgKind::PoliceForce,
        vec![Role::CallHandler],
        vec![],
    )
    .unwrap_err();
    assert_eq!(e.errors()[0].field, "user");
    let e = Principal::new(
        "a\u{7}",
        org("force:kent"),
        OrgKind::PoliceForce,
        vec![Role::CallHandler],
        vec![],
    )
    .unwrap_err();
    assert_eq!(e.errors()[0].field, "user");
    let e = Principal::new(
        "u",
        org("force:kent"),
        OrgKind::PoliceForce,
        vec![Role::CallHandler],
        vec![SUBJECT],
    )
    .unwrap_err();
    assert_eq!(e.errors()[0].field, "clients");
    // Several problems are all reported.
    let e = Principal::new(
        "",
        org("force:kent"),
        OrgKind::NationalUnit,
        vec![Role::PatrolOfficer],
        vec![],
    )
    .unwrap_err();
    let fields: Vec<&str> = e.errors().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["user", "org", "roles[0]"]);

    let p = Principal::new(
        "adv",
        org("advocacy:ictg-1"),
        OrgKind::AdvocacyService,
        vec![Role::Advocate, Role::Administrator, Role::Advocate],
        vec![PersonId(Uuid::from_u128(9)), SUBJECT, SUBJECT],
    )
    .unwrap();
    assert_eq!(p.roles(), [Role::Advocate, Role::Administrator]);
    assert_eq!(p.clients(), [SUBJECT, PersonId(Uuid::from_u128(9))]);
    assert!(p.is_client(SUBJECT) && p.has_role(Role::Advocate));
    assert_eq!(p.actor().org.as_str(), "advocacy:ictg-1");
    assert_eq!((p.user(), p.org_kind()), ("adv", OrgKind::AdvocacyService));
}

#[test]
fn principal_serde_goes_through_the_checks() {
    let p = principal(Role::MissingPersonCoordinator, OrgKind::PoliceForce);
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<Principal>(&json).unwrap(), p);
    let bad =
        r#"{"user":"u","org":"force:kent","org_kind":"police_force","roles":["national_analyst"]}"#;
    let e = serde_json::from_str::<Principal>(bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("roles[0]"), "{e}");
    let bad = r#"{"user":"u","org":"la:kent","org_kind":"police_force","roles":["call_handler"]}"#;
    assert!(serde_json::from_str::<Principal>(bad).is_err());
}

#[test]
fn names_parse_back_and_match_serde() {
    for r in Role::ALL {
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            format!("\"{}\"", r.as_str())
        );
        assert_eq!(
            Role::parse("role", &r.as_str().replace('_', " ").to_uppercase()).unwrap(),
            r
        );
    }
    let e = Role::parse("roles[2]", "sheriff").unwrap_err();
    assert_eq!(e.field, "roles[2]");
    assert!(e.problem.contains("`sheriff`") && e.problem.contains("patrol_officer"));
    assert!(Field::ALL.len() <= 64);
    let mut seen = std::collections::HashSet::new();
    for &f in Field::ALL {
        assert!(seen.insert(f.as_str()));
        assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{f}\""));
        assert_eq!(Field::parse("f", f.as_str()).unwrap(), f);
    }
    assert!(Field::parse("fields[0]", "shoe_size").is_err());
    for a in Action::ALL {
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            format!("\"{}\"", a.as_str())
        );
    }
    for r in ResourceKind::ALL {
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            format!("\"{}\"", r.as_str())
        );
    }
    for r in Relation::ALL {
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            format!("\"{}\"", r.as_str())
        );
    }
    assert!(Role::PatrolOfficer.reads_personal_data());
    assert!(!Role::Researcher.reads_personal_data() && !Role::Administrator.reads_personal_data());
    assert_eq!(
        A::Export.audit_action(),
        Some(crate::audit::AuditAction::Disclose)
    );
    assert_eq!(A::Administer.audit_action(), None);
}

#[test]
fn field_set_algebra_and_serde() {
    let s = FieldSet::of(&[Field::Sex, Field::Names]);
    assert_eq!(s.len(), 2);
    assert!(s.contains(Field::Names) && !s.contains(Field::DateOfBirth));
    assert_eq!(serde_json::to_string(&s).unwrap(), r#"["names","sex"]"#);
    assert_eq!(
        serde_json::from_str::<FieldSet>(r#"["sex","names","sex"]"#).unwrap(),
        s
    );
    assert!(serde_json::from_str::<FieldSet>(r#"["toe"]"#).is_err());
    assert!(s.is_subset(FieldSet::ALL) && FieldSet::EMPTY.is_subset(s));
    assert_eq!(FieldSet::ALL.len(), Field::ALL.len());
    assert_eq!(s.to_string(), "names, sex");
    assert_eq!(format!("{s:?}"), "{Names, Sex}");
    assert!(ENCOUNTER.is_subset(NATIONAL_SEARCH));
    assert!(LA_UPDATE.is_subset(LA_CREATE) && LA_CREATE.is_subset(WRITABLE));
    assert!(OUTSIDE_FORCE_UPDATE.is_subset(POLICE_WRITE));
}

// ------------------------------------------------------------------------------------------
// authorize and grants

fn involved_la_case() -> (Principal, CaseContext) {
    let mut p = full_placement();
    p.placing_authority = org("la:essex");
    (
        principal(Role::MissingFromCareLead, OrgKind::LocalAuthority),
        ctx_with(&[], &[p], &[], &[]),
    )
}

#[test]
fn authorize_demands_a_usable_reason_when_required() {
    let police = principal(Role::CallHandler, OrgKind::PoliceForce);
    let case = ctx_with(&[bare_incident("force:kent")], &[], &[], &[]);
    let target = Target::Case(&case);
    for bad in [None, Some(""), Some("   "), Some("a\u{0}b")] {
        assert_eq!(
            authorize(&police, A::Read, R::Person, &target, bad).unwrap_err(),
            DenyReason::ReasonRequired,
            "{bad:?}"
        );
    }
    let long = "x".repeat(Reason::MAX_CHARS + 1);
    assert_eq!(
        authorize(&police, A::Read, R::Person, &target, Some(&long)).unwrap_err(),
        DenyReason::ReasonRequired
    );
    let g = authorize(
        &police,
        A::Read,
        R::Person,
        &target,
        Some("  caller reports sighting  "),
    )
    .unwrap();
    assert_eq!(g.reason().unwrap().as_str(), "caller reports sighting");
    assert_eq!(g.fields(), NATIONAL_SEARCH.intersection(R::Person.fields()));
    assert_eq!((g.action(), g.resource()), (A::Read, R::Person));
    assert_eq!(g.subject(), Some(Subject::Person(SUBJECT)));
    // Not required: none is fine, and one given is kept for the audit event.
    let (la, ctx) = involved_la_case();
    let g = authorize(&la, A::Read, R::Person, &Target::Case(&ctx), None).unwrap();
    assert!(g.reason().is_none());
    let g = authorize(&la, A::Read, R::Person, &Target::Case(&ctx), Some("review")).unwrap();
    assert_eq!(g.reason().unwrap().as_str(), "review");
    // A refusal is reported before the reason is looked at.
    assert_eq!(
        authorize(
            &la,
            A::Read,
            R::Person,
            &Target::Case(&case),
            Some("curious")
        )
        .unwrap_err(),
        DenyReason::NotInvolved
    );
}

#[test]
fn grants_show_only_their_own_record() {
    let (la, ctx) = involved_la_case();
    let g = authorize(&la, A::Read, R::Incident, &Target::Case(&ctx), None).unwrap();
    assert!(g.view(&full_incident()).is_ok());
    let mut other = full_incident();
    other.person_id = PersonId(Uuid::from_u128(4242));
    assert_eq!(g.view(&other).unwrap_err(), DenyReason::WrongRecord);
    // A grant for incidents cannot show the person, a profile or a found person.
    assert_eq!(g.view(&full_person()).unwrap_err(), DenyReason::WrongRecord);
    assert_eq!(
        g.view(&full_profile()).unwrap_err(),
        DenyReason::WrongRecord
    );
    assert_eq!(g.view(&full_found()).unwrap_err(), DenyReason::WrongRecord);
    // A grant to write does not show anything.
    let w = authorize(&la, A::Update, R::Incident, &Target::Case(&ctx), None).unwrap();
    assert_eq!(
        w.view(&full_incident()).unwrap_err(),
        DenyReason::WrongRecord
    );
    // Nor does one on the register.
    let s = authorize(
        &la,
        A::Search,
        R::Person,
        &Target::Register,
        Some("new arrival"),
    )
    .unwrap();
    assert_eq!(s.view(&full_person()).unwrap_err(), DenyReason::WrongRecord);
}

#[test]
fn writes_are_checked_field_by_field() {
    let police = principal(Role::CallHandler, OrgKind::PoliceForce);
    let case = ctx_with(&[bare_incident("force:kent")], &[], &[], &[]);
    let g = authorize(
        &police,
        A::Update,
        R::Incident,
        &Target::Case(&case),
        Some("found in Chelmsford"),
    )
    .unwrap();
    assert!(
        g.check_writes(FieldSet::of(&[Field::Return, Field::ReturnPlace]))
            .is_ok()
    );
    assert_eq!(
        g.check_writes(FieldSet::of(&[Field::Return, Field::RiskGrade])),
        Err(DenyReason::FieldNotPermitted(Field::RiskGrade))
    );
    let (la, ctx) = involved_la_case();
    let g = authorize(&la, A::Update, R::Incident, &Target::Case(&ctx), None).unwrap();
    assert!(
        g.check_writes(FieldSet::of(&[
            Field::ReturnInterview,
            Field::ReturnInterviewDisclosures
        ]))
        .is_ok()
    );
    assert_eq!(
        g.check_writes(FieldSet::of(&[Field::RiskHistory])),
        Err(DenyReason::FieldNotPermitted(Field::RiskHistory))
    );
    let r = authorize(&la, A::Read, R::Incident, &Target::Case(&ctx), None).unwrap();
    assert_eq!(r.check_writes(E), Err(DenyReason::ActionNotPermitted));
}

#[test]
fn deny_reasons_read_well_and_serialise() {
    assert_eq!(
        DenyReason::FieldNotPermitted(Field::RiskGrade).to_string(),
        "you may not change `risk_grade`"
    );
    assert!(DenyReason::ReasonRequired.to_string().contains("500"));
    assert!(!DenyReason::ActionNotPermitted.hides_existence());
    assert_eq!(
        serde_json::to_string(&DenyReason::NotInvolved).unwrap(),
        r#"{"reason":"not_involved"}"#
    );
    let d = Decision::Allow {
        fields: FieldSet::of(&[Field::Names]),
        reason_required: true,
    };
    assert_eq!(
        serde_json::to_string(&d).unwrap(),
        r#"{"decision":"allow","fields":["names"],"reason_required":true}"#
    );
}

#[test]
fn administrators_administer_their_own_organisation() {
    let la_admin = principal(Role::Administrator, OrgKind::LocalAuthority);
    let nat_admin = principal(Role::Administrator, OrgKind::NationalUnit);
    let own = home_org(OrgKind::LocalAuthority);
    let other = org("la:kent");
    assert!(
        decide(
            &la_admin,
            A::Administer,
            R::User,
            &Target::Organisation(&own)
        )
        .is_allowed()
    );
    assert_eq!(
        decide(
            &la_admin,
            A::Administer,
            R::User,
            &Target::Organisation(&other)
        ),
        Decision::Deny(DenyReason::OtherOrganisation)
    );
    assert!(
        decide(
            &nat_admin,
            A::Administer,
            R::Organisation,
            &Target::Register
        )
        .is_allowed()
    );
    assert!(
        decide(
            &nat_admin,
            A::Administer,
            R::User,
            &Target::Organisation(&other)
        )
        .is_allowed()
    );
    // No case data, even of its own organisation's records.
    let ctx = CaseContext::for_person(&bare_person("la:essex"), &[], &[], &[], &[]);
    assert_eq!(
        decide(&la_admin, A::Read, R::Person, &Target::Case(&ctx)),
        Decision::Deny(DenyReason::NoCaseData)
    );
    assert_eq!(
        decide(&la_admin, A::Erase, R::Person, &Target::Case(&ctx)),
        Decision::Allow {
            fields: E,
            reason_required: true
        }
    );
}

// ------------------------------------------------------------------------------------------
// The documented table

const NAMED_SETS: &[(&str, FieldSet)] = &[
    ("all", ALL),
    ("national_search", NATIONAL_SEARCH),
    ("encounter", ENCOUNTER),
    ("advocate", ADVOCATE),
    ("police_write", POLICE_WRITE),
    ("outside_force_update", OUTSIDE_FORCE_UPDATE),
    ("la_create", LA_CREATE),
    ("police_update_involved", POLICE_UPDATE_INVOLVED),
    ("la_update", LA_UPDATE),
    ("la_update_involved", LA_UPDATE_INVOLVED),
    ("analyst_update", ANALYST_UPDATE),
    ("—", E),
];

fn res_abbrev(r: ResourceKind) -> &'static str {
    match r {
        R::Person => "P",
        R::Incident => "I",
        R::Profile => "Pr",
        R::Placement => "Pl",
        R::NrmReferral => "N",
        R::FoundPerson => "F",
        R::Statistics => "S",
        R::Organisation => "O",
        R::User => "U",
        R::RetentionReview => "RR",
    }
}

fn scope_label(s: Scope) -> &'static str {
    match s {
        Scope::Case(Relation::Owner) => "case: owner",
        Scope::Case(Relation::Involved) => "case: involved",
        Scope::Case(Relation::Client) => "case: client",
        Scope::Case(Relation::NationalUnit) => "case: national unit",
        Scope::Case(Relation::NotInvolved) => "case: not involved",
        Scope::NewCase => "new case",
        Scope::Register => "register",
        Scope::Organisation { own: true } => "own organisation",
        Scope::Organisation { own: false } => "other organisation",
    }
}

/// True if a principal of an organisation of `kind` can find itself in `scope`: only the
/// national unit has a national remit, only an advocacy service has clients, and an advocacy
/// service never owns or is involved in a case (see `CaseContext::relation_of`).
fn reachable(kind: OrgKind, scope: Scope) -> bool {
    match scope {
        Scope::Case(Relation::Client) => kind == OrgKind::AdvocacyService,
        Scope::Case(Relation::NationalUnit) => kind == OrgKind::NationalUnit,
        Scope::Case(Relation::Owner | Relation::Involved) => kind != OrgKind::AdvocacyService,
        _ => true,
    }
}

/// The policy tables as markdown, rendered from `role_rule`; only the relations a principal of
/// each kind can actually stand in are shown (the matrix test covers all of them).
fn render_policy() -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Cells: `field set`† (resources). † = a stated reason is required. Field sets are narrowed \
         to the fields each resource has. Resources: P person, I incident, Pr profile, Pl \
         placement, N NRM referral, F found person, S statistics, O organisation, U user, RR \
         retention review. An empty cell is a refusal.\n"
    );
    let mut tables: Vec<(Vec<OrgKind>, Role, String)> = Vec::new();
    for (role, kind) in role_kinds() {
        let mut t = String::new();
        let _ = write!(t, "| relation / scope |");
        for a in Action::ALL {
            let _ = write!(t, " {} |", a.as_str());
        }
        let _ = write!(t, "\n|---|");
        for _ in Action::ALL {
            let _ = write!(t, "---|");
        }
        t.push('\n');
        for scope in scopes().into_iter().filter(|&s| reachable(kind, s)) {
            let mut cells = Vec::new();
            for a in Action::ALL {
                let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
                for res in ResourceKind::ALL {
                    if let Ok((f, reason)) = role_rule(role, kind, a, res, scope) {
                        let name = NAMED_SETS
                            .iter()
                            .find(|(_, s)| *s == f)
                            .map_or("?", |(n, _)| *n);
                        let label = format!("`{name}`{}", if reason { "†" } else { "" });
                        match groups.iter_mut().find(|g| g.0 == label) {
                            Some(g) => g.1.push(res_abbrev(res)),
                            None => groups.push((label, vec![res_abbrev(res)])),
                        }
                    }
                }
                let cell: Vec<String> = groups
                    .iter()
                    .map(|(l, rs)| format!("{l} ({})", rs.join(" ")))
                    .collect();
                cells.push(cell.join("; "));
            }
            if cells.iter().all(String::is_empty) {
                continue;
            }
            let _ = write!(t, "| {} |", scope_label(scope));
            for c in cells {
                let _ = write!(t, " {c} |");
            }
            t.push('\n');
        }
        match tables.iter_mut().find(|x| x.1 == role && x.2 == t) {
            Some(x) => x.0.push(kind),
            None => tables.push((vec![kind], role, t)),
        }
    }
    for (kinds, role, t) in &tables {
        let all_kinds = role.allowed_org_kinds();
        let title = if kinds.len() == all_kinds.len() {
            role.as_str().to_string()
        } else {
            let ks: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            format!("{} (in a {})", role.as_str(), ks.join(" or "))
        };
        let _ = writeln!(out, "#### `{title}`\n\n{t}");
    }
    let _ = writeln!(out, "#### Field sets\n\n| set | fields |\n|---|---|");
    for (name, set) in NAMED_SETS.iter().filter(|(_, s)| !s.is_empty()) {
        let shown = if *set == ALL {
            "every field".to_string()
        } else {
            set.iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(out, "| `{name}` | {shown} |");
    }
    let _ = writeln!(
        out,
        "\n#### Fields each resource has\n\n| resource | fields |\n|---|---|"
    );
    for res in CASE_RES {
        let shown: Vec<String> = res.fields().iter().map(|f| format!("`{f}`")).collect();
        let _ = writeln!(
            out,
            "| {} ({}) | {} |",
            res.as_str(),
            res_abbrev(*res),
            shown.join(", ")
        );
    }
    out
}

const BEGIN: &str =
    "<!-- BEGIN GENERATED POLICY (cargo test -p nrmp-domain access; NRMP_BLESS=1 to update) -->\n";
const END: &str = "<!-- END GENERATED POLICY -->";

#[test]
fn documented_policy_table_is_current() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/access-control.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
        panic!("{} lacks the generated-policy markers", path.display());
    };
    let current = &doc[b + BEGIN.len()..e];
    let rendered = render_policy();
    if current != rendered {
        if std::env::var_os("NRMP_BLESS").is_some() {
            let updated = format!("{}{rendered}{}", &doc[..b + BEGIN.len()], &doc[e..]);
            std::fs::write(&path, updated).unwrap();
        } else {
            panic!(
                "docs/access-control.md's policy table is out of date; rerun with NRMP_BLESS=1.\n{rendered}"
            );
        }
    }
    // Every field set a rule grants has a name in the table.
    for (role, kind, action, res, scope, _) in all_decisions() {
        if let Ok((f, _)) = role_rule(role, kind, action, res, scope) {
            assert!(
                NAMED_SETS.iter().any(|(_, s)| *s == f),
                "{role:?} {action:?} {res:?} {scope:?}"
            );
        }
    }
}
