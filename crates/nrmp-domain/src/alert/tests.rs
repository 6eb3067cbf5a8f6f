//! One test per rule: it raises when it should, stays quiet when it should not, and addresses
//! whom the module's table says.

use super::*;
use crate::flags::History;
use crate::ids::{PlacementId, ReferralId};
use crate::incident::tests::{incident, org, t};
use crate::incident::{GradeChange, Place, Return, ReturnOutcome};
use crate::nrm::{ExploitationType, NrmReferral};
use crate::person::{Description, Sex};
use crate::placement::{Placement, PlacementType};
use uuid::Uuid;

fn rules() -> AlertRules {
    AlertRules::default()
}

fn none<'a>(incidents: &'a [Incident]) -> History<'a> {
    History {
        incidents,
        referrals: &[],
        placements: &[],
    }
}

fn graded(mut i: Incident, grade: RiskGrade, at: i64) -> Incident {
    i.risk_history.push(GradeChange {
        grade,
        rationale: "review".into(),
        at: t(at),
        by: "u".into(),
        source: org("force:kent"),
    });
    i
}

fn kinds(alerts: &[NewAlert]) -> Vec<AlertKind> {
    alerts.iter().map(|a| a.kind).collect()
}

fn orgs(a: &NewAlert) -> Vec<String> {
    let mut o: Vec<String> = a.recipients.iter().map(|r| r.org.to_string()).collect();
    o.dedup();
    o
}

fn found(n: u128) -> FoundPerson {
    FoundPerson {
        id: FoundPersonId(Uuid::from_u128(n)),
        found_at: t(50),
        place: Place::default(),
        found_by: org("force:merseyside"),
        names_given: vec![],
        dob: None,
        sex: Sex::Female,
        description: Description::default(),
        identified_as: None,
        deceased: false,
    }
}

fn finding(p: f64) -> MatchFinding {
    MatchFinding {
        probability: p,
        evidence: vec![MatchEvidence {
            field: "name".into(),
            level: "exact".into(),
            weight: 12.5,
        }],
    }
}

#[test]
fn high_risk_raised_at_report_and_when_graded_up_once_per_grading() {
    let medium = incident(1, 9, 0, None);
    assert!(incident_alerts(&medium, None, none(&[]), t(2), &rules()).is_empty());
    let high = graded(medium.clone(), RiskGrade::High, 3);
    let a = incident_alerts(&high, None, none(&[]), t(3), &rules());
    assert_eq!(kinds(&a), vec![AlertKind::HighRisk]);
    assert_eq!(a[0].key, format!("high_risk:{}:1", high.id));
    // the call handlers of the force where missing
    assert_eq!(
        a[0].recipients,
        vec![Recipient {
            org: org("force:kent"),
            role: Role::CallHandler
        }]
    );
    // the owner of the child's record (a local authority) hears of it too
    let with_owner = incident_alerts(&high, Some(&org("la:kent")), none(&[]), t(3), &rules());
    assert!(with_owner[0].recipients.contains(&Recipient {
        org: org("la:kent"),
        role: Role::SocialWorker
    }));
    // a later change that keeps it high reports the same fact (same key)
    let again = graded(high.clone(), RiskGrade::High, 5);
    assert_eq!(
        incident_alerts(&again, None, none(&[]), t(5), &rules())[0].key,
        a[0].key
    );
    // graded down and up again is a new fact
    let up_again = graded(graded(high, RiskGrade::Low, 6), RiskGrade::High, 7);
    let b = incident_alerts(&up_again, None, none(&[]), t(7), &rules());
    assert_eq!(b[0].key, format!("high_risk:{}:3", up_again.id));
    // a closed incident raises no high-risk alert
    let mut closed = up_again;
    closed.returned = Some(Return {
        found_at: t(8),
        place: Place::default(),
        found_by: org("force:kent"),
        outcome: ReturnOutcome::Safe,
    });
    assert!(incident_alerts(&closed, None, none(&[]), t(8), &rules()).is_empty());
}

#[test]
fn missing_soon_after_referral_goes_to_involved_authority_and_national_unit() {
    let mut i = incident(1, 9, 30, None);
    i.involved = vec![org("la:kent")];
    let refs = [NrmReferral {
        id: ReferralId(Uuid::from_u128(77)),
        person_id: i.person_id,
        reference: None,
        referred_on: t(0).date_naive(),
        first_responder: org("la:kent"),
        exploitation: vec![ExploitationType::Sexual],
        reasonable_grounds: None,
        conclusive_grounds: None,
    }];
    let h = History {
        incidents: &[],
        referrals: &refs,
        placements: &[],
    };
    let a = incident_alerts(&i, None, h, t(31), &rules());
    assert_eq!(kinds(&a), vec![AlertKind::MissingSoonAfterReferral]);
    assert_eq!(a[0].detail.hours, Some(72));
    assert_eq!(orgs(&a[0]), vec!["force:kent", "la:kent", "national:nmpu"]);
    assert!(a[0].recipients.contains(&Recipient {
        org: org("la:kent"),
        role: Role::SocialWorker
    }));
    // the same incident long after any referral: nothing
    let late = incident(2, 9, 500, None);
    assert!(incident_alerts(&late, None, h, t(501), &rules()).is_empty());
}

#[test]
fn missing_soon_after_coming_into_care() {
    let i = incident(1, 9, 20, None);
    let ps = [Placement {
        id: PlacementId(Uuid::from_u128(5)),
        person_id: i.person_id,
        placing_authority: org("la:kent"),
        host_authority: org("la:kent"),
        placement_type: PlacementType::Foster,
        started_at: t(10),
        ended_at: None,
        unaccompanied: true,
    }];
    let h = History {
        incidents: &[],
        referrals: &[],
        placements: &ps,
    };
    let a = incident_alerts(&i, None, h, t(21), &rules());
    assert_eq!(kinds(&a), vec![AlertKind::MissingSoonAfterCare]);
    assert_eq!(a[0].detail.hours, Some(24));
    assert_eq!(a[0].key, format!("soon_after_care:{}", i.id));
}

#[test]
fn third_incident_in_thirty_days_is_a_repeat_but_the_second_is_not() {
    let first = incident(1, 9, 0, Some(5));
    let second = incident(2, 9, 100, Some(110));
    let third = incident(3, 9, 200, None);
    let two = [first.clone(), second.clone()];
    assert!(incident_alerts(&second, None, none(&two), t(101), &rules()).is_empty());
    let all = [first, second, third.clone()];
    let a = incident_alerts(&third, None, none(&all), t(201), &rules());
    assert_eq!(kinds(&a), vec![AlertKind::RepeatMissing]);
    assert_eq!(a[0].detail.count, Some(3));
    // a fourth incident 40 days later is alone in its window
    let far = incident(4, 9, 200 + 40 * 24, None);
    let with_far = [all[0].clone(), all[1].clone(), all[2].clone(), far.clone()];
    assert!(incident_alerts(&far, None, none(&with_far), t(1200), &rules()).is_empty());
    // the threshold comes from the rules
    let strict = AlertRules {
        repeat_count: 2,
        ..rules()
    };
    assert_eq!(
        kinds(&incident_alerts(&all[1], None, none(&two), t(101), &strict)),
        Vec::<AlertKind>::new(),
        "closed incidents raise no repeat"
    );
}

#[test]
fn found_in_another_force_tells_the_home_force() {
    let mut i = incident(1, 9, 0, None);
    i.involved = vec![org("la:kent")];
    i.returned = Some(Return {
        found_at: t(30),
        place: Place {
            description: "station".into(),
            authority: None,
            force: Some(org("force:merseyside")),
        },
        found_by: org("force:merseyside"),
        outcome: ReturnOutcome::Safe,
    });
    let a = incident_alerts(&i, None, none(&[]), t(30), &rules());
    assert_eq!(kinds(&a), vec![AlertKind::FoundInAnotherForce]);
    assert_eq!(orgs(&a[0]), vec!["force:kent", "la:kent"]);
    assert_eq!(a[0].detail.found_by, Some(org("force:merseyside")));
    // found in the home force's own area: nothing
    let mut home = i.clone();
    if let Some(r) = home.returned.as_mut() {
        r.place.force = Some(org("force:kent"));
    }
    assert!(incident_alerts(&home, None, none(&[]), t(30), &rules()).is_empty());
}

#[test]
fn review_overdue_is_a_timer_reset_by_a_review() {
    let high = graded(incident(1, 9, 0, None), RiskGrade::High, 2);
    let r = rules();
    assert_eq!(r.review_due(&high), t(2 + 6));
    assert!(overdue_alerts(std::slice::from_ref(&high), t(7), &r).is_empty());
    let a = overdue_alerts(std::slice::from_ref(&high), t(8), &r);
    assert_eq!(kinds(&a), vec![AlertKind::ReviewOverdue]);
    assert_eq!(a[0].detail.due_at, Some(t(8)));
    // the same overdue review seen again later is the same alert
    let later = overdue_alerts(std::slice::from_ref(&high), t(9), &r);
    assert_eq!(later[0].key, a[0].key);
    // a review moves the due time: a new fact when it too is missed
    let reviewed = graded(high, RiskGrade::High, 9);
    assert!(overdue_alerts(std::slice::from_ref(&reviewed), t(10), &r).is_empty());
    let b = overdue_alerts(std::slice::from_ref(&reviewed), t(15), &r);
    assert_ne!(b[0].key, a[0].key);
    // medium risk waits longer; closed incidents never fall due
    let medium = incident(2, 8, 0, None);
    assert_eq!(r.review_due(&medium), t(1 + 24));
    let closed = incident(3, 7, 0, Some(1));
    assert!(overdue_alerts(&[closed], t(1000), &r).is_empty());
}

#[test]
fn found_person_matching_an_open_incident_above_the_threshold() {
    let f = found(40);
    let open = incident(1, 9, 0, None);
    let closed = incident(2, 8, 0, Some(3));
    let a = found_match_alerts(
        &f,
        &[
            (&open, finding(0.97)),
            (&closed, finding(0.99)),
            (&open, finding(0.5)),
        ],
        t(50),
        &rules(),
    );
    assert_eq!(kinds(&a), vec![AlertKind::FoundMatchesIncident]);
    assert_eq!(a[0].key, format!("match:{}:{}", f.id, open.id));
    assert_eq!(
        orgs(&a[0]),
        vec!["force:kent", "force:merseyside", "national:nmpu"]
    );
    assert_eq!(
        a[0].detail
            .matched
            .as_ref()
            .map(|m| m.evidence[0].field.as_str()),
        Some("name")
    );
    // an identified found person raises nothing
    let mut identified = f.clone();
    identified.identified_as = Some(open.person_id);
    assert!(found_match_alerts(&identified, &[(&open, finding(0.99))], t(50), &rules()).is_empty());
}

#[test]
fn new_incident_matching_a_recorded_found_person_is_the_same_pair_alert() {
    let f = found(40);
    let open = incident(1, 9, 0, None);
    let a = incident_match_alerts(&open, &[(&f, finding(0.95))], t(60), &rules());
    assert_eq!(kinds(&a), vec![AlertKind::IncidentMatchesFound]);
    let b = found_match_alerts(&f, &[(&open, finding(0.95))], t(50), &rules());
    assert_eq!(
        a[0].key, b[0].key,
        "one pair, one alert, whichever came first"
    );
    let strict = AlertRules {
        match_threshold: 0.99,
        ..rules()
    };
    assert!(incident_match_alerts(&open, &[(&f, finding(0.95))], t(60), &strict).is_empty());
}

#[test]
fn encounter_with_a_high_risk_top_candidate_tells_the_owning_force_who_checked() {
    let high = graded(incident(1, 9, 0, None), RiskGrade::High, 1);
    let medium = incident(2, 8, 0, None);
    let checker = Actor::new("pc-1", org("force:essex"));
    let a = encounter_alerts(&checker, "17", &[&high, &medium], &finding(0.8), t(5));
    assert_eq!(kinds(&a), vec![AlertKind::EncounterHighRisk]);
    assert_eq!(a[0].detail.checked_by.as_ref(), Some(&checker));
    assert_eq!(orgs(&a[0]), vec!["force:kent"]);
    let other = encounter_alerts(&checker, "18", &[&high], &finding(0.8), t(6));
    assert_ne!(a[0].key, other[0].key, "two checks, two alerts");
}

#[test]
fn escalation_goes_to_duty_contact_then_national_unit_unless_acknowledged() {
    let r = rules();
    let raised = t(0);
    let at = |m: i64| raised + Duration::minutes(m);
    assert_eq!(escalation(raised, false, at(29), &r), EscalationLevel::None);
    assert_eq!(
        escalation(raised, false, at(30), &r),
        EscalationLevel::DutyContact
    );
    assert_eq!(
        escalation(raised, false, at(120), &r),
        EscalationLevel::National
    );
    assert_eq!(escalation(raised, true, at(500), &r), EscalationLevel::None);
    let first = addressed([org("force:kent"), org("la:kent")]);
    let duty = escalated_recipients(&first, EscalationLevel::DutyContact, &r);
    assert!(duty.contains(&Recipient {
        org: org("force:kent"),
        role: Role::MissingPersonCoordinator
    }));
    assert!(duty.contains(&Recipient {
        org: org("la:kent"),
        role: Role::MissingFromCareLead
    }));
    assert!(!duty.iter().any(|x| x.org == r.national_unit));
    let national = escalated_recipients(&first, EscalationLevel::National, &r);
    assert!(national.contains(&Recipient {
        org: org("national:nmpu"),
        role: Role::NationalAnalyst
    }));
}

#[test]
fn rules_and_duty_contacts_refuse_bad_settings_by_name() {
    let bad = AlertRules {
        match_threshold: 1.5,
        escalate_after_minutes: 200,
        national_unit: org("force:kent"),
        ..rules()
    };
    let e = bad.validate().unwrap_err().to_string();
    for key in ["match_threshold", "national_after_minutes", "national_unit"] {
        assert!(e.contains(key), "{e}");
    }
    assert!(rules().validate().is_ok());
    let mut c = DutyContact {
        org: org("force:kent"),
        desk: "Kent missing persons desk".into(),
        phone: "+44 (0)1622 690690".into(),
        email: "mispers@kent.police.example".into(),
    };
    assert!(c.validate().is_ok());
    c.phone = "call us".into();
    c.email = "nobody".into();
    let e = c.validate().unwrap_err().to_string();
    assert!(e.contains("phone") && e.contains("email"), "{e}");
}

#[test]
fn kinds_round_trip_and_advocacy_services_receive_nothing() {
    for k in AlertKind::ALL {
        assert_eq!(AlertKind::parse("kind", k.as_str()).unwrap(), k);
    }
    assert!(AlertKind::parse("kind", "nope").is_err());
    assert!(addressed([org("advocacy:ecpat")]).is_empty());
}
