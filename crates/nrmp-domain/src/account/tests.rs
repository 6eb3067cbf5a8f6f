//! Tests of the sign-in rules: throttling, second factor, sessions, user names.

use super::*;
use crate::clock::{Clock, FixedClock};
use chrono::TimeZone;
use rand::SeedableRng;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn account(roles: Vec<Role>, kind: OrgKind, org: &str) -> Account {
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let pw = Password::parse("password", "plum orchard 42", None).unwrap();
    Account {
        id: UserId(Uuid::from_u128(1)),
        username: Username::parse("username", "kent.handler").unwrap(),
        org: OrgCode::parse("org", org).unwrap(),
        org_kind: kind,
        totp: roles_need_totp(&roles).then(|| TotpSecret::generate(&mut rng)),
        roles,
        clients: vec![],
        disabled: false,
        password: PasswordHash::new(&pw, HashParams::FAST_INSECURE_FOR_TESTS, &mut rng).unwrap(),
        totp_last_step: None,
        failed_attempts: 0,
        locked_until: None,
        created_at: start(),
        updated_at: start(),
    }
}

fn handler() -> Account {
    account(vec![Role::CallHandler], OrgKind::PoliceForce, "force:kent")
}

fn apply(a: &mut Account, outcome: &SignInOutcome) {
    *a = match outcome {
        SignInOutcome::Success { account } | SignInOutcome::Failure { account, .. } => {
            account.clone()
        }
    };
}

fn failure(o: &SignInOutcome) -> Option<(SignInFailure, bool)> {
    match o {
        SignInOutcome::Success { .. } => None,
        SignInOutcome::Failure {
            reason,
            throttled_for,
            ..
        } => Some((*reason, throttled_for.is_some())),
    }
}

#[test]
fn user_names_are_normalised_and_checked() {
    assert_eq!(
        Username::parse("username", " Sam.Taylor ")
            .unwrap()
            .as_str(),
        "sam.taylor"
    );
    for bad in ["", "ab", ".sam", "sam taylor", "sam@kent", &"x".repeat(65)] {
        let e = Username::parse("username", bad).unwrap_err();
        assert_eq!(e.field, "username", "{bad}");
    }
}

#[test]
fn from_the_fifth_failure_sign_in_waits_longer_each_time_but_is_never_locked_for_good() {
    let policy = AccountPolicy::default();
    let clock = FixedClock::new(start());
    let mut a = handler();
    let secret = a.totp.clone().unwrap();
    for i in 1..=4 {
        let o = decide_sign_in(&a, false, None, clock.now(), &policy);
        assert_eq!(
            failure(&o),
            Some((SignInFailure::WrongPassword, false)),
            "{i}"
        );
        apply(&mut a, &o);
        assert_eq!(a.failed_attempts, i);
        assert!(!a.is_locked(clock.now()));
        clock.advance(Duration::seconds(10));
    }
    // the 5th, 6th, 7th … failures make the next attempt wait 30 s, 60 s, 120 s …
    for (n, wait) in [(5, 30), (6, 60), (7, 120), (8, 240)] {
        let o = decide_sign_in(&a, false, None, clock.now(), &policy);
        assert_eq!(
            failure(&o),
            Some((SignInFailure::WrongPassword, true)),
            "{n}"
        );
        apply(&mut a, &o);
        let at = clock.now();
        assert_eq!(a.locked_until, Some(at + Duration::seconds(wait)), "{n}");
        // an attempt during the wait is refused unchecked, not counted, the wait not extended
        clock.set(at + Duration::seconds(wait) - Duration::seconds(1));
        let code = secret.code_at(clock.now());
        let o = decide_sign_in(&a, true, Some(&code), clock.now(), &policy);
        assert_eq!(failure(&o), Some((SignInFailure::Throttled, false)));
        apply(&mut a, &o);
        assert_eq!(a.failed_attempts, n);
        assert_eq!(a.locked_until, Some(at + Duration::seconds(wait)));
        clock.set(at + Duration::seconds(wait));
    }
    // once the wait is over, the right password and code sign in and clear the count
    let code = secret.code_at(clock.now());
    let o = decide_sign_in(&a, true, Some(&code), clock.now(), &policy);
    assert!(failure(&o).is_none(), "{o:?}");
    apply(&mut a, &o);
    assert_eq!(a.failed_attempts, 0);
    assert_eq!(a.locked_until, None);
}

#[test]
fn the_wait_doubles_up_to_its_maximum() {
    let (base, max) = (Duration::seconds(30), Duration::minutes(15));
    assert_eq!(throttle_wait(4, 5, base, max), None);
    assert_eq!(throttle_wait(5, 5, base, max), Some(base));
    assert_eq!(throttle_wait(9, 5, base, max), Some(Duration::seconds(480)));
    assert_eq!(throttle_wait(10, 5, base, max), Some(max));
    assert_eq!(throttle_wait(u32::MAX, 5, base, max), Some(max));
}

#[test]
fn success_resets_the_failure_count() {
    let policy = AccountPolicy::default();
    let mut a = account(
        vec![Role::Researcher],
        OrgKind::NationalUnit,
        "national:nmpu",
    );
    for _ in 0..4 {
        let o = decide_sign_in(&a, false, None, start(), &policy);
        apply(&mut a, &o);
    }
    assert_eq!(a.failed_attempts, 4);
    let o = decide_sign_in(&a, true, None, start(), &policy);
    assert!(failure(&o).is_none());
    apply(&mut a, &o);
    assert_eq!(a.failed_attempts, 0);
    // four more failures do not lock: the count started again
    for _ in 0..4 {
        let o = decide_sign_in(&a, false, None, start(), &policy);
        apply(&mut a, &o);
    }
    assert!(!a.is_locked(start()));
}

#[test]
fn a_second_factor_is_required_for_roles_that_read_personal_data() {
    let policy = AccountPolicy::default();
    let now = start();
    let mut a = handler();
    assert!(a.needs_totp());
    let secret = a.totp.clone().unwrap();
    let o = decide_sign_in(&a, true, None, now, &policy);
    assert_eq!(failure(&o), Some((SignInFailure::TotpMissing, false)));
    let o = decide_sign_in(&a, true, Some("000000"), now, &policy);
    let wrong = if secret.code_at(now) == "000000" {
        None
    } else {
        Some((SignInFailure::TotpWrong, false))
    };
    assert_eq!(failure(&o), wrong);
    let code = secret.code_at(now);
    let o = decide_sign_in(&a, true, Some(&code), now, &policy);
    assert!(failure(&o).is_none());
    apply(&mut a, &o);
    assert_eq!(a.totp_last_step, Some(TotpSecret::step_at(now)));
    // the same code again is a replay, and counts as a failure
    let o = decide_sign_in(&a, true, Some(&code), now + Duration::seconds(3), &policy);
    assert_eq!(failure(&o), Some((SignInFailure::TotpReplayed, false)));
    apply(&mut a, &o);
    assert_eq!(a.failed_attempts, 1);
    // without a secret, an account that needs one cannot sign in
    a.totp = None;
    let o = decide_sign_in(&a, true, Some(&code), now, &policy);
    assert_eq!(failure(&o), Some((SignInFailure::TotpNotEnrolled, false)));

    // researchers and administrators see no personal data: a password is enough
    for role in [Role::Researcher, Role::Administrator] {
        let r = account(vec![role], OrgKind::NationalUnit, "national:nmpu");
        assert!(!r.needs_totp());
        assert!(failure(&decide_sign_in(&r, true, None, now, &policy)).is_none());
    }
    for role in Role::ALL {
        assert_eq!(roles_need_totp(&[role]), role.reads_personal_data());
    }
}

#[test]
fn disabled_accounts_are_refused_without_counting() {
    let policy = AccountPolicy::default();
    let mut a = account(
        vec![Role::Researcher],
        OrgKind::NationalUnit,
        "national:nmpu",
    );
    a.disabled = true;
    let o = decide_sign_in(&a, true, None, start(), &policy);
    assert_eq!(failure(&o), Some((SignInFailure::Disabled, false)));
    apply(&mut a, &o);
    assert_eq!(a.failed_attempts, 0);
}

#[test]
fn sessions_end_after_thirty_idle_minutes_or_twelve_hours() {
    let policy = AccountPolicy::default();
    let s = Session {
        hash: TokenHash::of("s"),
        user: UserId(Uuid::from_u128(1)),
        created_at: start(),
        last_seen_at: start(),
        ended_at: None,
    };
    assert_eq!(s.check(start() + Duration::minutes(29), &policy), Ok(()));
    assert_eq!(
        s.check(
            start() + Duration::minutes(30) - Duration::seconds(1),
            &policy
        ),
        Ok(())
    );
    assert_eq!(
        s.check(start() + Duration::minutes(30), &policy),
        Err(SessionEnd::Idle)
    );
    // used again and again, it still ends 12 hours after sign-in
    let busy = Session {
        last_seen_at: start() + Duration::hours(12) - Duration::minutes(1),
        ..s.clone()
    };
    assert_eq!(
        busy.check(start() + Duration::hours(12), &policy),
        Err(SessionEnd::TooOld)
    );
    let ended = Session {
        ended_at: Some(start()),
        ..s
    };
    assert_eq!(ended.check(start(), &policy), Err(SessionEnd::Ended));
}

#[test]
fn principals_carry_the_accounts_roles_and_an_advocates_clients() {
    let mut a = account(
        vec![Role::Advocate],
        OrgKind::AdvocacyService,
        "advocacy:ictg",
    );
    a.clients = vec![PersonId(Uuid::from_u128(7))];
    let p = a.principal().unwrap();
    assert_eq!(p.user(), "kent.handler");
    assert!(p.is_client(PersonId(Uuid::from_u128(7))));
    // a role that does not fit the organisation is refused, naming the field
    let e = check_roles(
        &OrgCode::parse("org", "la:kent").unwrap(),
        OrgKind::LocalAuthority,
        &[Role::CallHandler],
        &[],
    )
    .unwrap_err();
    assert_eq!(e.errors()[0].field, "roles[0]");
}
