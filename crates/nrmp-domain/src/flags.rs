//! Risk flags the register derives from a person's history. Pure functions of the records and
//! the time `now`, which the caller supplies from its injected clock.

use crate::incident::{Incident, RiskGrade};
use crate::nrm::NrmReferral;
use crate::placement::Placement;
use chrono::{DateTime, Duration, NaiveTime, Utc};

/// A derived warning about one incident.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(tag = "flag", rename_all = "snake_case")]
pub enum RiskFlag {
    /// Went missing within `hours` (24 or 72) of an NRM referral.
    MissingSoonAfterReferral {
        /// 24 or 72.
        hours: u32,
    },
    /// Went missing within `hours` (24 or 72) of coming into an authority's care.
    MissingSoonAfterCare {
        /// 24 or 72.
        hours: u32,
    },
    /// This is one of 3 or more incidents within 30 days.
    RepeatMissing {
        /// How many incidents fell in the 30 days up to and including this one.
        count: usize,
    },
    /// Still open after more than `days` days.
    OpenLongerThan {
        /// The threshold that was passed.
        days: i64,
    },
    /// Currently graded high risk.
    HighRisk,
    /// Found in a different force's area from the one where they went missing.
    FoundInAnotherForce,
}

/// Thresholds for the derived flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FlagRules {
    /// Incidents within `repeat_window_days` that make a repeat (default 3).
    pub repeat_count: usize,
    /// Window for repeats (default 30 days).
    pub repeat_window_days: i64,
    /// An open incident older than this is flagged (default 7 days).
    pub open_days: i64,
}

impl Default for FlagRules {
    fn default() -> Self {
        Self {
            repeat_count: 3,
            repeat_window_days: 30,
            open_days: 7,
        }
    }
}

/// Everything the register knows about one person that the flags depend on.
#[derive(Debug, Clone, Copy)]
pub struct History<'a> {
    /// All incidents of the person.
    pub incidents: &'a [Incident],
    /// All NRM referrals of the person.
    pub referrals: &'a [NrmReferral],
    /// All placements of the person.
    pub placements: &'a [Placement],
}

/// Starts of care episodes: a placement that does not follow on (within a day) from another.
pub fn care_starts(placements: &[Placement]) -> Vec<DateTime<Utc>> {
    let mut ps: Vec<&Placement> = placements.iter().collect();
    ps.sort_by_key(|p| p.started_at);
    let mut starts = Vec::new();
    // None: no placement yet; Some(None): in care with no end; Some(Some(e)): in care until e.
    let mut covered: Option<Option<DateTime<Utc>>> = None;
    for p in ps {
        let continues = match covered {
            None => false,
            Some(None) => true,
            Some(Some(end)) => p.started_at <= end + Duration::days(1),
        };
        if !continues {
            starts.push(p.started_at);
        }
        covered = Some(match (continues, covered, p.ended_at) {
            (_, _, None) | (true, Some(None), _) => None,
            (true, Some(Some(a)), Some(b)) => Some(a.max(b)),
            (_, _, Some(b)) => Some(b),
        });
    }
    starts
}

fn within(start: DateTime<Utc>, t: DateTime<Utc>, hours: i64) -> bool {
    t >= start && t - start < Duration::hours(hours)
}

/// Flags for `incident` given the person's `history` at time `now`, sorted.
pub fn incident_flags(
    incident: &Incident,
    history: History<'_>,
    now: DateTime<Utc>,
    rules: FlagRules,
) -> Vec<RiskFlag> {
    let mut flags = Vec::new();
    let t = incident.last_seen_at;
    let tightest = |starts: &mut dyn Iterator<Item = DateTime<Utc>>| -> Option<u32> {
        let mut best = None;
        for s in starts {
            if within(s, t, 24) {
                return Some(24);
            }
            if within(s, t, 72) {
                best = Some(72);
            }
        }
        best
    };
    let mut referral_starts = history
        .referrals
        .iter()
        .map(|r| r.referred_on.and_time(NaiveTime::MIN).and_utc());
    if let Some(hours) = tightest(&mut referral_starts) {
        flags.push(RiskFlag::MissingSoonAfterReferral { hours });
    }
    if let Some(hours) = tightest(&mut care_starts(history.placements).into_iter()) {
        flags.push(RiskFlag::MissingSoonAfterCare { hours });
    }
    let window = Duration::days(rules.repeat_window_days);
    let count = history
        .incidents
        .iter()
        .filter(|i| i.person_id == incident.person_id)
        .filter(|i| i.last_seen_at <= t && t - i.last_seen_at < window)
        .count()
        .max(1);
    if count >= rules.repeat_count {
        flags.push(RiskFlag::RepeatMissing { count });
    }
    if incident.is_open() && now - incident.last_seen_at > Duration::days(rules.open_days) {
        flags.push(RiskFlag::OpenLongerThan {
            days: rules.open_days,
        });
    }
    if incident.risk() == RiskGrade::High {
        flags.push(RiskFlag::HighRisk);
    }
    if let Some(r) = &incident.returned
        && r.place
            .force
            .as_ref()
            .is_some_and(|f| *f != incident.force_missing)
    {
        flags.push(RiskFlag::FoundInAnotherForce);
    }
    flags.sort();
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{PersonId, PlacementId, ReferralId};
    use crate::incident::tests::{incident, org, t};
    use crate::incident::{GradeChange, Place};
    use crate::nrm::ExploitationType;
    use crate::placement::PlacementType;
    use uuid::Uuid;

    fn referral_on(h: i64) -> NrmReferral {
        NrmReferral {
            id: ReferralId(Uuid::from_u128(77)),
            person_id: PersonId(Uuid::from_u128(9)),
            reference: None,
            referred_on: t(h).date_naive(),
            first_responder: org("la:kent"),
            exploitation: vec![ExploitationType::Sexual],
            reasonable_grounds: None,
            conclusive_grounds: None,
        }
    }

    fn placement(start: i64, end: Option<i64>) -> Placement {
        Placement {
            id: PlacementId(Uuid::from_u128(start as u128 + 1000)),
            person_id: PersonId(Uuid::from_u128(9)),
            placing_authority: org("la:kent"),
            host_authority: org("la:kent"),
            placement_type: PlacementType::Foster,
            started_at: t(start),
            ended_at: end.map(t),
            unaccompanied: true,
        }
    }

    fn flags(i: &Incident, h: History<'_>, now: i64) -> Vec<RiskFlag> {
        incident_flags(i, h, t(now), FlagRules::default())
    }

    #[test]
    fn missing_soon_after_referral_or_care() {
        let i = incident(1, 9, 30, Some(40)); // last seen 30 h after t(0)
        let refs = [referral_on(0)]; // referred on day 0 (midnight)
        let f = flags(
            &i,
            History {
                incidents: &[],
                referrals: &refs,
                placements: &[],
            },
            50,
        );
        assert_eq!(f, vec![RiskFlag::MissingSoonAfterReferral { hours: 72 }]);
        let ps = [placement(10, None)];
        let f = flags(
            &i,
            History {
                incidents: &[],
                referrals: &[],
                placements: &ps,
            },
            50,
        );
        assert_eq!(f, vec![RiskFlag::MissingSoonAfterCare { hours: 24 }]);
        // a referral after the incident does not count
        let f = flags(
            &i,
            History {
                incidents: &[],
                referrals: &[referral_on(100)],
                placements: &[],
            },
            50,
        );
        assert!(f.is_empty());
    }

    #[test]
    fn a_move_between_placements_is_not_a_new_care_start() {
        let ps = [
            placement(0, Some(100)),
            placement(110, None),
            placement(500, None),
        ];
        assert_eq!(care_starts(&ps[..2]), vec![t(0)]);
        let gap = [placement(0, Some(100)), placement(200, None)];
        assert_eq!(care_starts(&gap), vec![t(0), t(200)]);
        let i = incident(1, 9, 120, None);
        let f = flags(
            &i,
            History {
                incidents: &[],
                referrals: &[],
                placements: &ps[..2],
            },
            121,
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn repeat_open_high_and_found_elsewhere() {
        let a = incident(1, 9, 0, Some(5));
        let b = incident(2, 9, 24 * 10, Some(24 * 10 + 5));
        let mut c = incident(3, 9, 24 * 20, None);
        let all = [a.clone(), b.clone(), c.clone()];
        let h = History {
            incidents: &all,
            referrals: &[],
            placements: &[],
        };
        assert!(flags(&c, h, 24 * 20 + 1).contains(&RiskFlag::RepeatMissing { count: 3 }));
        assert!(
            !flags(&b, h, 24 * 20 + 1)
                .iter()
                .any(|f| matches!(f, RiskFlag::RepeatMissing { .. }))
        );
        assert!(flags(&c, h, 24 * 28 + 1).contains(&RiskFlag::OpenLongerThan { days: 7 }));
        assert!(!flags(&c, h, 24 * 26).contains(&RiskFlag::OpenLongerThan { days: 7 }));
        c.change_grade(GradeChange {
            grade: RiskGrade::High,
            rationale: "NRM referral last week".into(),
            at: t(24 * 20 + 2),
            by: "x".into(),
            source: org("force:kent"),
        })
        .unwrap();
        assert!(flags(&c, h, 24 * 20 + 3).contains(&RiskFlag::HighRisk));
        let mut found = a.clone();
        found.returned.as_mut().unwrap().place = Place {
            force: Some(org("force:west-midlands")),
            ..Place::default()
        };
        assert!(flags(&found, h, 100).contains(&RiskFlag::FoundInAnotherForce));
        assert!(!flags(&a, h, 100).contains(&RiskFlag::FoundInAnotherForce));
    }
}
