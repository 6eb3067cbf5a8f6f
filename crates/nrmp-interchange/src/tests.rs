//! Round trips and error reporting across all record kinds.

use crate::*;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use nrmp_domain::found::FoundPerson;
use nrmp_domain::identifier::{Identifier, IdentifierKind};
use nrmp_domain::ids::{FoundPersonId, IncidentId, PersonId, PlacementId, ProfileId, ReferralId};
use nrmp_domain::incident::{
    GradeChange, Incident, IncidentCategory, Place, Return, ReturnHomeInterview, ReturnOutcome,
    RiskGrade, Sighting,
};
use nrmp_domain::nrm::{Decision, DecisionOutcome, ExploitationType, NrmReferral};
use nrmp_domain::organisation::{OrgCode, OrgKind, Organisation};
use nrmp_domain::person::{
    Build, DateOfBirth, Description, Language, Mark, MarkKind, NameKind, Nationality, Person,
    PersonName, PhotoMeta, Sex,
};
use nrmp_domain::placement::{Placement, PlacementType};
use nrmp_domain::profile::PrefilledProfile;
use std::io::Cursor;
use uuid::Uuid;

const NASTY: &str = "grade raised; found \"phone\" | new contacts\nsecond line\\end";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn t(h: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap() + Duration::hours(h)
}

fn org(s: &str) -> OrgCode {
    OrgCode::parse("o", s).unwrap()
}

fn id(kind: IdentifierKind, v: &str) -> Identifier {
    Identifier::parse("i", kind, v).unwrap()
}

fn full_person() -> Person {
    let pnc = format!("09/1234567{}", Identifier::pnc_check_letter(9, 1_234_567));
    Person {
        id: PersonId(Uuid::from_u128(0x1234)),
        owning_org: org("la:kent"),
        names: vec![
            PersonName::parse(
                NameKind::Primary,
                "Tesfay",
                "Gebre",
                Some("ተስፋይ ገብረ"),
                false,
            )
            .unwrap(),
            PersonName::parse(
                NameKind::Alias,
                "Abu|Bakr",
                "Al;Sudani",
                Some("أبو بكر السوداني"),
                true,
            )
            .unwrap(),
            PersonName::parse(
                NameKind::Documented,
                "Van Minh",
                "Tran",
                Some("Trần Văn Minh"),
                false,
            )
            .unwrap(),
            PersonName::parse(NameKind::Alias, "Teddy", "", None, false).unwrap(),
        ],
        dob: Some(DateOfBirth::AgeAssessed {
            earliest: d("2008-01-01"),
            latest: d("2009-12-31"),
            assessed_on: Some(d("2025-06-01")),
        }),
        sex: Sex::Male,
        nationalities: vec![
            Nationality::parse("n", "ERI").unwrap(),
            Nationality::parse("n", "SDN").unwrap(),
        ],
        languages: vec![
            Language::parse("l", "ti").unwrap(),
            Language::parse("l", "ar").unwrap(),
        ],
        identifiers: vec![
            id(IdentifierKind::Pnc, &pnc),
            id(IdentifierKind::Passport, "VNM:C1234567"),
            id(IdentifierKind::LaChild, "la:kent/AB-12"),
            id(IdentifierKind::HomeOffice, "H1234567"),
            id(IdentifierKind::Nrm, "NRM-2018/0001"),
        ],
        description: Description {
            height_cm: Some((165, 175)),
            build: Some(Build::Slim),
            hair: Some("black; short | curly".into()),
            eyes: Some("brown".into()),
            marks: vec![
                Mark {
                    kind: MarkKind::Tattoo,
                    location: "left forearm".into(),
                    description: NASTY.into(),
                },
                Mark {
                    kind: MarkKind::Scar,
                    location: String::new(),
                    description: String::new(),
                },
            ],
            photos: vec![
                PhotoMeta {
                    taken_on: Some(d("2025-07-01")),
                    held_by: org("force:kent"),
                    reference: "IMG|2025;07".into(),
                },
                PhotoMeta {
                    taken_on: None,
                    held_by: org("la:kent"),
                    reference: "photo 2".into(),
                },
            ],
        },
        created_at: t(0) + Duration::milliseconds(123),
        updated_at: t(48),
    }
}

fn minimal_person(n: u128) -> Person {
    Person {
        id: PersonId(Uuid::from_u128(n)),
        owning_org: org("force:kent"),
        names: vec![PersonName::parse(NameKind::Primary, "", "Hagos", None, false).unwrap()],
        dob: None,
        sex: Sex::Unknown,
        nationalities: vec![],
        languages: vec![],
        identifiers: vec![],
        description: Description::default(),
        created_at: t(0),
        updated_at: t(0),
    }
}

fn grade(h: i64, g: RiskGrade, rationale: &str) -> GradeChange {
    GradeChange {
        grade: g,
        rationale: rationale.into(),
        at: t(h),
        by: "PS 1234 Smith | duty sgt".into(),
        source: org("force:kent"),
    }
}

fn full_incident() -> Incident {
    Incident {
        id: IncidentId(Uuid::from_u128(0x5678)),
        person_id: PersonId(Uuid::from_u128(0x1234)),
        owning_org: org("force:kent"),
        force_missing: org("force:kent"),
        involved: vec![org("la:kent"), org("force:metropolitan")],
        category: IncidentCategory::AwayFromPlacement,
        reported_at: t(2),
        last_seen_at: t(0),
        last_seen_place: Place {
            description: "Ashford \"International\" station; platform 3".into(),
            authority: Some(org("la:kent")),
            force: Some(org("force:kent")),
        },
        circumstances: "left placement at night,\nwith an older male".into(),
        risk_history: vec![
            grade(
                2,
                RiskGrade::Medium,
                "initial: age 15; trafficking indicators",
            ),
            grade(5, RiskGrade::High, NASTY),
        ],
        sightings: vec![
            Sighting {
                at: t(10),
                place: Place {
                    description: "Victoria coach station".into(),
                    authority: Some(org("la:westminster")),
                    force: Some(org("force:metropolitan")),
                },
                reported_by: org("force:metropolitan"),
                details: "seen with two adults; \"car|van\"".into(),
            },
            Sighting {
                at: t(20),
                place: Place::default(),
                reported_by: org("force:kent"),
                details: String::new(),
            },
        ],
        returned: Some(Return {
            found_at: t(30),
            place: Place {
                description: "Croydon".into(),
                authority: Some(org("la:croydon")),
                force: Some(org("force:metropolitan")),
            },
            found_by: org("force:metropolitan"),
            outcome: ReturnOutcome::Harmed,
        }),
        return_interview: Some(ReturnHomeInterview {
            offered_at: t(40),
            accepted: true,
            conducted_by: Some(org("la:kent")),
            conducted_at: Some(t(60)),
            outcome: Some("disclosed exploitation;\nreferred to NRM".into()),
            disclosures_flagged: true,
        }),
    }
}

fn full_referral() -> NrmReferral {
    NrmReferral {
        id: ReferralId(Uuid::from_u128(9)),
        person_id: PersonId(Uuid::from_u128(0x1234)),
        reference: Some("NRM-2018-0001".into()),
        referred_on: d("2018-03-01"),
        first_responder: org("la:kent"),
        exploitation: vec![ExploitationType::Criminal, ExploitationType::Labour],
        reasonable_grounds: Some(Decision {
            date: d("2018-03-04"),
            outcome: DecisionOutcome::Positive,
        }),
        conclusive_grounds: Some(Decision {
            date: d("2018-09-01"),
            outcome: DecisionOutcome::Negative,
        }),
    }
}

fn full_placement() -> Placement {
    Placement {
        id: PlacementId(Uuid::from_u128(10)),
        person_id: PersonId(Uuid::from_u128(0x1234)),
        placing_authority: org("la:kent"),
        host_authority: org("la:croydon"),
        placement_type: PlacementType::SupportedAccommodation,
        started_at: t(-100),
        ended_at: Some(t(100)),
        unaccompanied: true,
    }
}

fn full_organisation() -> Organisation {
    Organisation {
        code: org("la:kent"),
        kind: OrgKind::LocalAuthority,
        name: "Kent County Council".into(),
        country: "England".into(),
        region: Some("South East".into()),
        police_force: Some(org("force:kent")),
    }
}

fn full_profile() -> PrefilledProfile {
    PrefilledProfile {
        id: ProfileId(Uuid::from_u128(11)),
        version: 2,
        person_id: PersonId(Uuid::from_u128(0x1234)),
        prepared_by: org("la:kent"),
        prepared_at: t(-10),
        description: full_person().description,
        associates: vec!["older male, \"Bini\"".into()],
        places: vec!["Victoria coach station".into()],
        phones: vec!["+44 7700 900123".into()],
        social_media: vec!["tiktok:@someone".into()],
        medical_needs: Some("asthma; inhaler".into()),
        notes: Some(NASTY.into()),
    }
}

fn full_found() -> FoundPerson {
    FoundPerson {
        id: FoundPersonId(Uuid::from_u128(12)),
        found_at: t(5),
        place: Place {
            description: "Dover".into(),
            authority: Some(org("la:kent")),
            force: None,
        },
        found_by: org("force:kent"),
        names_given: full_person().names,
        dob: full_person().dob,
        sex: Sex::Male,
        description: full_person().description,
        identified_as: Some(PersonId(Uuid::from_u128(0x1234))),
        deceased: false,
    }
}

fn to_csv<T: CsvRecord>(records: &[T]) -> Vec<u8> {
    let mut w = CsvWriter::<T, _>::new(Vec::new()).unwrap();
    for r in records {
        w.write(r).unwrap();
    }
    assert_eq!(w.count(), records.len() as u64);
    w.finish().unwrap()
}

fn from_csv<T: CsvRecord>(bytes: Vec<u8>, file: &str) -> Vec<Result<T, RowErrors>> {
    Rows::<T>::from_csv(Cursor::new(bytes), file, today())
        .unwrap()
        .collect()
}

fn to_jsonl<T: Record>(records: &[T]) -> Vec<u8> {
    let mut w = JsonlWriter::<T, _>::new(Vec::new());
    for r in records {
        w.write(r).unwrap();
    }
    w.finish().unwrap()
}

fn from_jsonl<T: Record>(bytes: Vec<u8>, file: &str) -> Vec<Result<T, RowErrors>> {
    Rows::<T>::from_jsonl(Cursor::new(bytes), file, today()).collect()
}

fn csv_round_trip<T: CsvRecord + PartialEq + std::fmt::Debug>(records: Vec<T>) {
    for r in &records {
        assert_eq!(r.to_cells().len(), T::COLUMNS.len());
    }
    let back: Vec<T> = from_csv::<T>(to_csv(&records), "x.csv")
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")))
        .collect();
    assert_eq!(back, records);
}

fn json_round_trip<T: Record + PartialEq + std::fmt::Debug>(records: Vec<T>) {
    let bytes = to_jsonl(&records);
    assert_eq!(
        bytes.iter().filter(|&&b| b == b'\n').count(),
        records.len(),
        "one line per record"
    );
    let back: Vec<T> = from_jsonl::<T>(bytes, "x.jsonl")
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")))
        .collect();
    assert_eq!(back, records);
}

/// A CSV text with `T`'s header and rows given as (column, value) pairs; other cells empty.
fn csv_text<T: CsvRecord>(rows: &[&[(&str, &str)]]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(T::COLUMNS).unwrap();
    for row in rows {
        for (c, _) in row.iter() {
            assert!(T::COLUMNS.contains(c), "no column {c}");
        }
        w.write_record(
            T::COLUMNS
                .iter()
                .map(|c| row.iter().find(|(k, _)| k == c).map_or("", |(_, v)| *v)),
        )
        .unwrap();
    }
    w.into_inner().unwrap()
}

fn valid_person_cells() -> Vec<(&'static str, &'static str)> {
    vec![
        ("id", "00000000-0000-0000-0000-000000000001"),
        ("owning_org", "force:kent"),
        ("given", "Hana"),
        ("created_at", "2026-01-02T03:04:05Z"),
        ("updated_at", "2026-01-02T03:04:05Z"),
    ]
}

#[test]
fn every_kind_round_trips_through_csv() {
    csv_round_trip(vec![full_person(), minimal_person(2)]);
    csv_round_trip(vec![full_incident()]);
    let mut open = full_incident();
    open.returned = None;
    open.return_interview = None;
    open.sightings.clear();
    open.involved.clear();
    open.last_seen_place = Place::default();
    csv_round_trip(vec![open]);
    let mut no_decisions = full_referral();
    no_decisions.reasonable_grounds = None;
    no_decisions.conclusive_grounds = None;
    no_decisions.reference = None;
    csv_round_trip(vec![full_referral(), no_decisions]);
    let mut current = full_placement();
    current.ended_at = None;
    current.unaccompanied = false;
    csv_round_trip(vec![full_placement(), current]);
    let force = Organisation {
        code: org("force:kent"),
        kind: OrgKind::PoliceForce,
        name: "Kent Police".into(),
        country: "England".into(),
        region: None,
        police_force: None,
    };
    csv_round_trip(vec![full_organisation(), force]);
    csv_round_trip(vec![TruthRow {
        record_id: PersonId(Uuid::from_u128(1)),
        person_key: "h-000042".into(),
    }]);
}

#[test]
fn every_kind_round_trips_through_json_lines() {
    json_round_trip(vec![full_person(), minimal_person(2)]);
    json_round_trip(vec![full_incident()]);
    json_round_trip(vec![full_referral()]);
    json_round_trip(vec![full_placement()]);
    json_round_trip(vec![full_organisation()]);
    json_round_trip(vec![full_profile()]);
    json_round_trip(vec![full_found()]);
    json_round_trip(vec![TruthRow {
        record_id: PersonId(Uuid::from_u128(1)),
        person_key: "7".into(),
    }]);
}

#[test]
fn csv_cells_are_flat_and_readable() {
    let cells = full_person().to_cells();
    let cell = |name: &str| cells[Person::COLUMNS.iter().position(|c| *c == name).unwrap()].clone();
    assert_eq!(cell("nationalities"), "ERI;SDN");
    assert!(cell("identifiers").contains(";passport:VNM:C1234567;la_child:la:kent/AB-12;"));
    assert_eq!(cell("dob"), "2008-01-01..2009-12-31");
    assert_eq!(cell("dob_assessed_on"), "2025-06-01");
    assert_eq!(cell("height_cm"), "165-175");
    assert_eq!(cell("created_at"), "2026-01-02T03:04:05.123Z");
    assert_eq!(cell("updated_at"), "2026-01-04T03:04:05Z");
    assert!(cell("other_names").starts_with("Abu\\|Bakr|Al\\;Sudani|أبو بكر السوداني|alias|true;"));
    let cells = full_incident().to_cells();
    let cell =
        |name: &str| cells[Incident::COLUMNS.iter().position(|c| *c == name).unwrap()].clone();
    assert_eq!(cell("risk"), "high");
    assert_eq!(cell("involved"), "la:kent;force:metropolitan");
    assert!(cell("risk_history").starts_with(
        "medium|2026-01-02T05:04:05Z|PS 1234 Smith \\| duty sgt|force:kent|initial: age 15\\; trafficking indicators;high|"
    ));
}

#[test]
fn bad_row_reports_file_line_field_and_problem() {
    // Row 1 spans lines 2–3 (a quoted newline in `hair`); row 2 starts on line 4.
    let mut good = valid_person_cells();
    good.push(("hair", "dark\nshort"));
    let mut bad = valid_person_cells();
    bad.push(("dob", "2009-13-01"));
    let rows = from_csv::<Person>(csv_text::<Person>(&[&good, &bad]), "persons.csv");
    assert!(rows[0].is_ok());
    let e = rows[1].as_ref().unwrap_err();
    assert_eq!(e.line(), 4);
    assert_eq!(
        e.to_string(),
        "persons.csv:4: dob: `2009-13-01` is not a date (YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY)"
    );
}

#[test]
fn every_error_in_a_row_is_reported() {
    let rows = from_csv::<Person>(
        csv_text::<Person>(&[&[
            ("id", "nope"),
            ("owning_org", "force:kent"),
            ("given", "Hana"),
            ("sex", "q"),
            ("nationalities", "VNM;Vietnam"),
            ("identifiers", "pnc:09/1234567Q;passport"),
            ("marks", "tattoo|arm|rose;wart|nose|"),
            ("created_at", "yesterday"),
        ][..]]),
        "persons.csv",
    );
    let e = rows[0].as_ref().unwrap_err();
    let fields: Vec<&str> = e.errors().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "id",
            "sex",
            "nationalities[1]",
            "identifiers[0]",
            "identifiers[1]",
            "marks[1].kind",
            "created_at",
            "updated_at"
        ]
    );
    assert!(
        e.errors()
            .iter()
            .all(|e| e.line == 2 && e.file == "persons.csv")
    );
    assert_eq!(e.errors()[7].problem, "is empty");
}

#[test]
fn validate_errors_name_csv_columns() {
    let mut i = full_incident();
    i.returned.as_mut().unwrap().found_at = t(-1);
    let cells = i.to_cells();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(Incident::COLUMNS).unwrap();
    w.write_record(&cells).unwrap();
    let rows = from_csv::<Incident>(w.into_inner().unwrap(), "incidents.csv");
    let e = rows[0].as_ref().unwrap_err();
    let fields: Vec<&str> = e.errors().iter().map(|e| e.field.as_str()).collect();
    assert!(fields.contains(&"found_at"), "{e}");
    assert!(fields.contains(&"sightings[0].at"), "{e}");

    // Return-home interview columns without an offer, and a `risk` that disagrees.
    let mut i = full_incident();
    i.return_interview = None;
    let mut cells = i.to_cells();
    let col = |n: &str| Incident::COLUMNS.iter().position(|c| *c == n).unwrap();
    cells[col("rhi_accepted")] = "true".into();
    cells[col("rhi_outcome")] = "talked".into();
    cells[col("risk")] = "low".into();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(Incident::COLUMNS).unwrap();
    w.write_record(&cells).unwrap();
    let e = from_csv::<Incident>(w.into_inner().unwrap(), "incidents.csv")
        .remove(0)
        .unwrap_err();
    let fields: Vec<&str> = e.errors().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["risk", "rhi_accepted", "rhi_outcome"], "{e}");
}

#[test]
fn unknown_missing_and_repeated_columns_are_rejected() {
    let mut text = String::from_utf8(csv_text::<Person>(&[])).unwrap();
    text = text.replace("eyes,", "nickname,").replace("hair,", "sex,");
    let err = Rows::<Person>::from_csv(Cursor::new(text.into_bytes()), "persons.csv", today())
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("persons.csv:1: header: unknown column `nickname`"),
        "{msg}"
    );
    assert!(
        msg.contains("persons.csv:1: header: column `sex` appears twice"),
        "{msg}"
    );
    assert!(
        msg.contains("persons.csv:1: header: missing column `hair`"),
        "{msg}"
    );
    assert!(msg.contains("missing column `eyes`"), "{msg}");
}

#[test]
fn columns_may_come_in_any_order() {
    let mut cols: Vec<&str> = Placement::COLUMNS.to_vec();
    cols.reverse();
    let p = full_placement();
    let cells = p.to_cells();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&cols).unwrap();
    w.write_record(cells.iter().rev()).unwrap();
    let back = from_csv::<Placement>(w.into_inner().unwrap(), "placements.csv");
    assert_eq!(back[0].as_ref().unwrap(), &p);
}

#[test]
fn empty_optional_cells_read_as_none() {
    let rows = from_csv::<Person>(csv_text::<Person>(&[&valid_person_cells()]), "persons.csv");
    let p = rows[0].as_ref().unwrap();
    assert_eq!(p.dob, None);
    assert_eq!(p.sex, Sex::Unknown);
    assert_eq!(p.description, Description::default());
    assert!(p.nationalities.is_empty() && p.identifiers.is_empty());
    assert_eq!(p.names.len(), 1);
    assert_eq!(p.names[0].original, None);

    let rows = from_csv::<Incident>(
        csv_text::<Incident>(&[&[
            ("id", "00000000-0000-0000-0000-000000000002"),
            ("person_id", "00000000-0000-0000-0000-000000000001"),
            ("owning_org", "force:kent"),
            ("force_missing", "force:kent"),
            ("category", "missing"),
            ("reported_at", "2026-01-02T03:04:05Z"),
            ("last_seen_at", "2026-01-02T01:00:00Z"),
            (
                "risk_history",
                "low|2026-01-02T03:04:05Z|pc|force:kent|no concerns",
            ),
        ][..]]),
        "incidents.csv",
    );
    let i = rows[0].as_ref().unwrap();
    assert_eq!(i.returned, None);
    assert_eq!(i.return_interview, None);
    assert_eq!(i.last_seen_place.authority, None);
    assert_eq!(i.risk(), RiskGrade::Low);
}

#[test]
fn short_rows_and_bad_escapes_are_row_errors() {
    let mut bytes = csv_text::<TruthRow>(&[]);
    bytes.extend_from_slice(b"00000000-0000-0000-0000-000000000001\n");
    bytes.extend_from_slice(b"00000000-0000-0000-0000-000000000001,k1\n");
    let rows = from_csv::<TruthRow>(bytes, "truth.csv");
    assert_eq!(
        rows[0].as_ref().unwrap_err().to_string(),
        "truth.csv:2: row: has 1 cells but the header has 2"
    );
    assert!(rows[1].is_ok());

    let rows = from_csv::<Person>(
        csv_text::<Person>(&[&[valid_person_cells(), vec![("marks", "scar|arm|a\\b")]].concat()]),
        "persons.csv",
    );
    assert_eq!(rows[0].as_ref().unwrap_err().errors()[0].field, "marks");
}

#[test]
fn dob_assessed_on_needs_an_assessed_range() {
    let rows = from_csv::<Person>(
        csv_text::<Person>(&[&[
            valid_person_cells(),
            vec![("dob", "2009-03-04"), ("dob_assessed_on", "2025-01-01")],
        ]
        .concat()]),
        "persons.csv",
    );
    assert_eq!(
        rows[0].as_ref().unwrap_err().errors()[0].field,
        "dob_assessed_on"
    );
}

#[test]
fn json_lines_report_lines_and_run_domain_checks() {
    let mut future = full_person();
    future.dob = Some(DateOfBirth::Exact {
        date: d("2030-01-01"),
    });
    let mut digits = full_person();
    digits.names[0].given = "J0hn".into();
    let mut bytes = to_jsonl(&[full_person()]);
    bytes.extend_from_slice(b"\n{\"id\": 3}\n");
    bytes.extend(to_jsonl(&[future, digits]));
    let rows = from_jsonl::<Person>(bytes, "persons.jsonl");
    assert_eq!(rows.len(), 4);
    assert!(rows[0].is_ok());
    let e = rows[1].as_ref().unwrap_err();
    assert_eq!((e.line(), e.errors()[0].field.as_str()), (3, "json"));
    // The future date needs `today`, so it is the reader's check, not serde's.
    let e = rows[2].as_ref().unwrap_err();
    assert_eq!(e.line(), 4);
    let fields: Vec<&str> = e.errors().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["dob"]);
    // An invalid name cannot even be deserialised: serde's message names the problem.
    let e = rows[3].as_ref().unwrap_err();
    assert_eq!((e.line(), e.errors()[0].field.as_str()), (5, "json"));
    assert!(
        e.errors()[0]
            .problem
            .contains("given: contains '0', which cannot be part of a name"),
        "{e}"
    );

    let mut i = full_incident();
    i.risk_history.clear();
    let e = from_jsonl::<Incident>(to_jsonl(&[i]), "incidents.jsonl")
        .remove(0)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "incidents.jsonl:1: risk_history: an incident needs a risk grade"
    );
}

#[test]
fn dataset_directory_round_trip() {
    for format in [Format::Csv, Format::Json] {
        let dir = tempfile::tempdir().unwrap();
        let mut w = DatasetWriter::create(dir.path(), format).unwrap();
        w.write_organisation(&full_organisation()).unwrap();
        w.write_person(&full_person()).unwrap();
        w.write_person(&minimal_person(2)).unwrap();
        w.write_incident(&full_incident()).unwrap();
        w.write_referral(&full_referral()).unwrap();
        w.write_profile(&full_profile()).unwrap();
        w.write_found_person(&full_found()).unwrap();
        w.write_truth(&TruthRow {
            record_id: PersonId(Uuid::from_u128(2)),
            person_key: "h1".into(),
        })
        .unwrap();
        let written = w.finish().unwrap();
        let counts: Vec<(RecordKind, u64)> = written.iter().map(|f| (f.kind, f.records)).collect();
        assert_eq!(
            counts,
            [
                (RecordKind::Organisation, 1),
                (RecordKind::Person, 2),
                (RecordKind::Profile, 1),
                (RecordKind::Incident, 1),
                (RecordKind::Referral, 1),
                (RecordKind::Placement, 0),
                (RecordKind::FoundPerson, 1),
                (RecordKind::Truth, 1),
            ]
        );

        let files = DatasetFiles::open(dir.path()).unwrap();
        assert_eq!(files.files().len(), 8);
        assert_eq!(files.get(RecordKind::Person).unwrap().format, format);
        assert_eq!(files.get(RecordKind::Profile).unwrap().format, Format::Json);
        let persons: Vec<Person> = files
            .persons(today())
            .unwrap()
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(persons, [full_person(), minimal_person(2)]);
        let incidents: Vec<Incident> = files
            .incidents(today())
            .unwrap()
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(incidents, [full_incident()]);
        assert_eq!(files.placements(today()).unwrap().unwrap().count(), 0);
        let profiles: Vec<_> = files
            .profiles(today())
            .unwrap()
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(profiles, [full_profile()]);
        let found: Vec<_> = files
            .found_persons(today())
            .unwrap()
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(found, [full_found()]);
        assert_eq!(files.truth(today()).unwrap().unwrap().count(), 1);
        assert_eq!(
            files
                .organisations(today())
                .unwrap()
                .unwrap()
                .next()
                .unwrap()
                .unwrap(),
            full_organisation()
        );
        assert_eq!(
            files
                .referrals(today())
                .unwrap()
                .unwrap()
                .next()
                .unwrap()
                .unwrap(),
            full_referral()
        );

        // The other format beside it is refused, and a mixed directory is ambiguous.
        let other = match format {
            Format::Csv => Format::Json,
            Format::Json => Format::Csv,
        };
        assert!(matches!(
            DatasetWriter::create(dir.path(), other),
            Err(Error::WouldMix { .. })
        ));
        std::fs::write(dir.path().join(RecordKind::Person.file_name(other)), b"").unwrap();
        let e = DatasetFiles::open(dir.path()).unwrap_err();
        assert!(
            e.to_string()
                .contains("both `persons.csv` and `persons.jsonl`"),
            "{e}"
        );
    }
}

#[test]
fn free_readers_choose_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("persons.csv");
    std::fs::write(&csv_path, to_csv(&[full_person()])).unwrap();
    let rows: Vec<_> = read_persons(&csv_path, today()).unwrap().collect();
    assert_eq!(rows[0].as_ref().unwrap(), &full_person());
    let json_path = dir.path().join("incidents.jsonl");
    std::fs::write(&json_path, to_jsonl(&[full_incident()])).unwrap();
    assert_eq!(
        read_incidents(&json_path).unwrap().next().unwrap().unwrap(),
        full_incident()
    );
    assert!(matches!(
        read_profiles(dir.path().join("profiles.csv")),
        Err(Error::NoCsvForm { .. })
    ));
    assert!(matches!(
        read_placements(dir.path().join("placements.txt")),
        Err(Error::UnknownFormat { .. })
    ));
    assert!(matches!(
        read_organisations(dir.path().join("organisations.csv")),
        Err(Error::Io { .. })
    ));
}

#[test]
fn byte_order_mark_and_crlf_are_accepted() {
    let text = "\u{feff}record_id,person_key\r\n00000000-0000-0000-0000-000000000001,k\r\n\r\n00000000-0000-0000-0000-000000000002,k\r\n";
    let rows = from_csv::<TruthRow>(text.as_bytes().to_vec(), "truth.csv");
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(Result::is_ok));
}

/// The example rows in `docs/formats.md` parse with the readers they document.
#[test]
fn documented_examples_parse() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/formats.md");
    let Ok(doc) = std::fs::read_to_string(path) else {
        return;
    };
    let mut blocks: Vec<(&str, String)> = Vec::new();
    let mut current: Option<(&str, String)> = None;
    for line in doc.lines() {
        match (&mut current, line) {
            (None, l) if l.starts_with("```csv") => current = Some(("csv", String::new())),
            (None, l) if l.starts_with("```json") => current = Some(("json", String::new())),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some((_, text)), l) => {
                text.push_str(l);
                text.push('\n');
            }
            _ => {}
        }
    }
    fn all_ok<T: Record>(rows: Vec<Result<T, RowErrors>>) -> usize {
        for r in &rows {
            if let Err(e) = r {
                panic!("{e}");
            }
        }
        rows.len()
    }
    let (mut csv_n, mut json_n) = (0, 0);
    for (kind, text) in blocks {
        let bytes = text.into_bytes();
        if kind == "json" {
            json_n += match json_n {
                0 => all_ok(from_jsonl::<Person>(bytes, "persons.jsonl")),
                1 => all_ok(from_jsonl::<PrefilledProfile>(bytes, "profiles.jsonl")),
                _ => all_ok(from_jsonl::<FoundPerson>(bytes, "found_persons.jsonl")),
            };
            continue;
        }
        let header = String::from_utf8_lossy(&bytes)
            .lines()
            .next()
            .unwrap()
            .to_owned();
        let is = |cols: &[&str]| header == cols.join(",");
        csv_n += if is(Organisation::COLUMNS) {
            all_ok(from_csv::<Organisation>(bytes, "organisations.csv"))
        } else if is(Person::COLUMNS) {
            all_ok(from_csv::<Person>(bytes, "persons.csv"))
        } else if is(Incident::COLUMNS) {
            all_ok(from_csv::<Incident>(bytes, "incidents.csv"))
        } else if is(NrmReferral::COLUMNS) {
            all_ok(from_csv::<NrmReferral>(bytes, "referrals.csv"))
        } else if is(Placement::COLUMNS) {
            all_ok(from_csv::<Placement>(bytes, "placements.csv"))
        } else if is(TruthRow::COLUMNS) {
            all_ok(from_csv::<TruthRow>(bytes, "truth.csv"))
        } else {
            panic!("unknown header {header}")
        };
    }
    assert_eq!((csv_n, json_n), (6, 3));
}

#[test]
#[ignore = "throughput check: cargo test --release -- --ignored throughput --nocapture"]
fn throughput() {
    let n = 200_000u128;
    let dir = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let mut w = DatasetWriter::create(dir.path(), Format::Csv).unwrap();
    let mut p = full_person();
    for i in 0..n {
        p.id = PersonId(Uuid::from_u128(i));
        w.write_person(&p).unwrap();
    }
    w.finish().unwrap();
    let wrote = start.elapsed();
    let start = std::time::Instant::now();
    let count = read_persons(dir.path().join("persons.csv"), today())
        .unwrap()
        .filter(Result::is_ok)
        .count();
    assert_eq!(count as u128, n);
    println!(
        "{n} full persons: wrote in {wrote:?}, read in {:?}",
        start.elapsed()
    );
}
