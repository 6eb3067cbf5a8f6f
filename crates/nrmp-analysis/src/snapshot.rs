//! The analysis snapshot: register records reduced to a compact, in-memory [`Snapshot`] (one
//! small row per person, incident, referral and placement, indexed by person), with the
//! cohorts, exposures and durations derived from it. Everything here is pure: the snapshot is
//! built from records handed in by the caller (in any order), and "now" is the caller's
//! end-of-data instant (from the injected clock or `--as-of`).
//!
//! ## Cohorts
//! A person is in a cohort over a half-open interval `[entry, exit)` of time (see
//! [`Snapshot::cohort_interval`]):
//!
//! | cohort | entry | exit |
//! |---|---|---|
//! | all persons | −∞ | +∞ |
//! | adults | 18th birthday | +∞ |
//! | all children | −∞ | 18th birthday |
//! | looked-after children | first placement that starts before the 18th birthday | 18th birthday |
//! | unaccompanied children | first *unaccompanied* placement before the 18th birthday | 18th birthday |
//! | NRM-referred children | first NRM referral made before the 18th birthday (00:00 UTC on the referral date) | 18th birthday |
//!
//! Ages use the best estimate of the date of birth ([`DateOfBirth::best_estimate`]); persons
//! with no date of birth are in "all persons" only. A person is *at risk* in a period if their
//! cohort interval overlaps it, and *went missing* in it if an incident (missing or absent)
//! was last seen inside both the period and the interval.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use nrmp_domain::ids::PersonId;
use nrmp_domain::incident::{Incident, IncidentCategory};
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::person::{DateOfBirth, Person, Sex};
use nrmp_domain::placement::{Placement, PlacementType};
use std::collections::HashMap;

/// Seconds since the Unix epoch (UTC); the snapshot's time unit.
pub type Ts = i64;

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Midnight UTC at the start of `d`.
pub fn ts_of_date(d: NaiveDate) -> Ts {
    d.and_time(NaiveTime::MIN).and_utc().timestamp()
}

/// The calendar date of `t` (UTC).
pub fn date_of_ts(t: Ts) -> NaiveDate {
    DateTime::<Utc>::from_timestamp(t, 0).map_or(NaiveDate::MIN, |d| d.date_naive())
}

/// A cohort of persons (see the module docs for the definitions).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Cohort {
    /// Every person on the register.
    All,
    /// Persons aged 18 or over.
    Adults,
    /// Persons under 18.
    Children,
    /// Children who have been placed (looked after).
    LookedAfter,
    /// Children who have had an unaccompanied placement.
    Unaccompanied,
    /// Children referred to the NRM while under 18.
    NrmChildren,
}

impl Cohort {
    /// Every cohort, in publication order.
    pub const ALL: [Cohort; 6] = [
        Cohort::NrmChildren,
        Cohort::Unaccompanied,
        Cohort::LookedAfter,
        Cohort::Children,
        Cohort::Adults,
        Cohort::All,
    ];

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Cohort::All => "All persons",
            Cohort::Adults => "Adults",
            Cohort::Children => "All children",
            Cohort::LookedAfter => "Looked-after children",
            Cohort::Unaccompanied => "Unaccompanied children",
            Cohort::NrmChildren => "NRM-referred children",
        }
    }
}

/// One person, reduced to what the statistics use.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRow {
    /// Register id.
    pub id: PersonId,
    /// Best-estimate date of birth.
    pub dob: Option<NaiveDate>,
    /// Sex.
    pub sex: Sex,
    /// First recorded nationality, as an index into [`Snapshot::nationalities`] (0 = unknown).
    pub nationality: u32,
}

/// One incident.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IncidentRow {
    /// Dense person index.
    pub person: u32,
    /// Last seen.
    pub start: Ts,
    /// Found / returned, if so.
    pub end: Option<Ts>,
    /// Force the person went missing from (index into [`Snapshot::orgs`]).
    pub force: u32,
    /// Missing, or absent from placement.
    pub category: IncidentCategory,
}

/// One placement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlacementRow {
    /// Dense person index.
    pub person: u32,
    /// Start.
    pub start: Ts,
    /// End, if ended.
    pub end: Option<Ts>,
    /// Placing (responsible) authority, index into [`Snapshot::orgs`].
    pub placing: u32,
    /// Type of placement.
    pub placement_type: PlacementType,
    /// Unaccompanied asylum-seeking child.
    pub unaccompanied: bool,
}

/// Per-person facts derived once when the snapshot is finished.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Derived {
    /// 18th birthday (00:00 UTC), if the date of birth is known.
    pub adult_at: Option<Ts>,
    /// First NRM referral made before the 18th birthday.
    pub nrm_child_at: Option<Ts>,
    /// First NRM referral at any age.
    pub first_referral: Option<Ts>,
    /// First placement starting before the 18th birthday.
    pub care_at: Option<Ts>,
    /// End of the care episode that starts at `care_at` (placements continuing within a day
    /// are one episode); `None` while still in care.
    pub care_end: Option<Ts>,
    /// First unaccompanied placement before the 18th birthday.
    pub unaccompanied_at: Option<Ts>,
    /// Placing authority of the first placement (index into [`Snapshot::orgs`]).
    pub authority: Option<u32>,
    /// Type of the first placement.
    pub first_placement_type: Option<PlacementType>,
}

/// Accumulates records in any order, then [`SnapshotBuilder::finish`]es into a [`Snapshot`].
/// Incidents, referrals and placements are held by their person's register id until
/// `finish` resolves it; those whose person never arrives are counted in
/// [`Snapshot::orphans`] and left out.
#[derive(Debug, Default)]
pub struct SnapshotBuilder {
    persons: Vec<PersonRow>,
    incidents: Vec<(PersonId, IncidentRow)>,
    referrals: Vec<(PersonId, Ts)>,
    placements: Vec<(PersonId, PlacementRow)>,
    orgs: Vec<String>,
    org_index: HashMap<String, u32>,
    nationalities: Vec<String>,
    nat_index: HashMap<String, u32>,
}

fn intern(names: &mut Vec<String>, index: &mut HashMap<String, u32>, s: &str) -> u32 {
    if let Some(i) = index.get(s) {
        return *i;
    }
    let i = names.len() as u32;
    names.push(s.to_owned());
    index.insert(s.to_owned(), i);
    i
}

/// A person as the snapshot needs it (see [`SnapshotBuilder::person_input`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PersonInput {
    /// Register id.
    pub id: PersonId,
    /// Best-estimate date of birth.
    pub dob: Option<NaiveDate>,
    /// Sex.
    pub sex: Sex,
    /// First recorded nationality code.
    pub nationality: Option<String>,
}

/// An incident as the snapshot needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentInput {
    /// The person's register id.
    pub person: PersonId,
    /// Last seen.
    pub start: Ts,
    /// Found / returned, if so.
    pub end: Option<Ts>,
    /// Code of the force the person went missing from.
    pub force: String,
    /// Missing, or absent from placement.
    pub category: IncidentCategory,
}

/// A placement as the snapshot needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacementInput {
    /// The person's register id.
    pub person: PersonId,
    /// Start.
    pub start: Ts,
    /// End, if ended.
    pub end: Option<Ts>,
    /// Code of the placing (responsible) authority.
    pub placing: String,
    /// Type of placement.
    pub placement_type: PlacementType,
    /// Unaccompanied asylum-seeking child.
    pub unaccompanied: bool,
}

impl From<&Person> for PersonInput {
    fn from(p: &Person) -> Self {
        Self {
            id: p.id,
            dob: p.dob.as_ref().map(DateOfBirth::best_estimate),
            sex: p.sex,
            nationality: p.nationalities.first().map(|n| n.as_str().to_owned()),
        }
    }
}

impl From<&Incident> for IncidentInput {
    fn from(i: &Incident) -> Self {
        Self {
            person: i.person_id,
            start: i.last_seen_at.timestamp(),
            end: i.returned.as_ref().map(|r| r.found_at.timestamp()),
            force: i.force_missing.as_str().to_owned(),
            category: i.category,
        }
    }
}

impl From<&Placement> for PlacementInput {
    fn from(p: &Placement) -> Self {
        Self {
            person: p.person_id,
            start: p.started_at.timestamp(),
            end: p.ended_at.map(|e| e.timestamp()),
            placing: p.placing_authority.as_str().to_owned(),
            placement_type: p.placement_type,
            unaccompanied: p.unaccompanied,
        }
    }
}

impl SnapshotBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        let mut b = Self::default();
        intern(&mut b.nationalities, &mut b.nat_index, "unknown");
        b
    }

    /// Adds a person.
    pub fn person(&mut self, p: &Person) {
        self.person_input(PersonInput::from(p));
    }

    /// Adds a person already reduced to what the snapshot needs.
    pub fn person_input(&mut self, p: PersonInput) {
        let nat = p.nationality.as_deref().map_or(0, |n| {
            intern(&mut self.nationalities, &mut self.nat_index, n)
        });
        self.persons.push(PersonRow {
            id: p.id,
            dob: p.dob,
            sex: p.sex,
            nationality: nat,
        });
    }

    fn org(&mut self, code: &str) -> u32 {
        intern(&mut self.orgs, &mut self.org_index, code)
    }

    /// Adds an incident.
    pub fn incident(&mut self, i: &Incident) {
        self.incident_input(IncidentInput::from(i));
    }

    /// Adds an incident already reduced to what the snapshot needs.
    pub fn incident_input(&mut self, i: IncidentInput) {
        let force = self.org(&i.force);
        self.incidents.push((
            i.person,
            IncidentRow {
                person: u32::MAX,
                start: i.start,
                end: i.end,
                force,
                category: i.category,
            },
        ));
    }

    /// Adds an NRM referral.
    pub fn referral(&mut self, r: &NrmReferral) {
        self.referral_input(r.person_id, r.referred_on);
    }

    /// Adds an NRM referral of `person` made on `referred_on`.
    pub fn referral_input(&mut self, person: PersonId, referred_on: NaiveDate) {
        self.referrals.push((person, ts_of_date(referred_on)));
    }

    /// Adds a placement.
    pub fn placement(&mut self, p: &Placement) {
        self.placement_input(PlacementInput::from(p));
    }

    /// Adds a placement already reduced to what the snapshot needs.
    pub fn placement_input(&mut self, p: PlacementInput) {
        let placing = self.org(&p.placing);
        self.placements.push((
            p.person,
            PlacementRow {
                person: u32::MAX,
                start: p.start,
                end: p.end,
                placing,
                placement_type: p.placement_type,
                unaccompanied: p.unaccompanied,
            },
        ));
    }

    /// Sorts and indexes the records and derives the per-person facts. Records dated after
    /// `end_of_data` are dropped (returns after it are treated as not yet happened).
    pub fn finish(self, end_of_data: Ts) -> Snapshot {
        let n = self.persons.len();
        let index: HashMap<PersonId, u32> = self
            .persons
            .iter()
            .enumerate()
            .map(|(k, p)| (p.id, k as u32))
            .collect();
        let mut orphans = 0u64;
        let mut resolve = |id: &PersonId| {
            let k = index.get(id).copied();
            orphans += u64::from(k.is_none());
            k
        };
        let mut incidents: Vec<IncidentRow> = self
            .incidents
            .into_iter()
            .filter_map(|(id, mut i)| {
                i.person = resolve(&id)?;
                Some(i)
            })
            .collect();
        let mut referrals: Vec<(u32, Ts)> = self
            .referrals
            .into_iter()
            .filter_map(|(id, t)| Some((resolve(&id)?, t)))
            .collect();
        let mut placements: Vec<PlacementRow> = self
            .placements
            .into_iter()
            .filter_map(|(id, mut p)| {
                p.person = resolve(&id)?;
                Some(p)
            })
            .collect();
        incidents.retain(|i| i.start < end_of_data);
        for i in &mut incidents {
            if i.end.is_some_and(|e| e >= end_of_data) {
                i.end = None;
            }
        }
        referrals.retain(|r| r.1 < end_of_data);
        placements.retain(|p| p.start < end_of_data);
        incidents.sort_by_key(|i| (i.person, i.start));
        referrals.sort_unstable();
        placements.sort_by_key(|p| (p.person, p.start));
        let offsets = |keys: &mut dyn Iterator<Item = u32>| -> Vec<u32> {
            let mut off = vec![0u32; n + 1];
            for k in keys {
                off[k as usize + 1] += 1;
            }
            for i in 0..n {
                off[i + 1] += off[i];
            }
            off
        };
        let inc_off = offsets(&mut incidents.iter().map(|i| i.person));
        let ref_off = offsets(&mut referrals.iter().map(|r| r.0));
        let pl_off = offsets(&mut placements.iter().map(|p| p.person));
        let mut derived = vec![Derived::default(); n];
        for (k, p) in self.persons.iter().enumerate() {
            let d = &mut derived[k];
            d.adult_at = p.dob.and_then(|b| {
                b.with_year(b.year() + 18)
                    .or_else(|| NaiveDate::from_ymd_opt(b.year() + 18, 3, 1))
                    .map(ts_of_date)
            });
            let child_until = d.adult_at.unwrap_or(Ts::MIN);
            let refs = &referrals[ref_off[k] as usize..ref_off[k + 1] as usize];
            d.first_referral = refs.first().map(|r| r.1);
            d.nrm_child_at = refs.iter().map(|r| r.1).find(|t| *t < child_until);
            let pls = &placements[pl_off[k] as usize..pl_off[k + 1] as usize];
            if let Some(first) = pls.iter().find(|p| p.start < child_until) {
                d.care_at = Some(first.start);
                d.authority = Some(first.placing);
                d.first_placement_type = Some(first.placement_type);
                // The care episode: placements that follow on within a day.
                let mut end = first.end;
                for p in pls.iter().filter(|p| p.start > first.start) {
                    match end {
                        None => break,
                        Some(e) if p.start <= e + DAY => {
                            end = p.end.map(|pe| pe.max(e));
                        }
                        Some(_) => break,
                    }
                }
                d.care_end = end;
            }
            d.unaccompanied_at = pls
                .iter()
                .find(|p| p.unaccompanied && p.start < child_until)
                .map(|p| p.start);
        }
        Snapshot {
            persons: self.persons,
            derived,
            incidents,
            inc_off,
            referrals,
            placements,
            orgs: self.orgs,
            nationalities: self.nationalities,
            end_of_data,
            orphans,
        }
    }
}

/// The register reduced for analysis, built once and queried many times.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Persons, by dense index.
    pub persons: Vec<PersonRow>,
    /// Derived facts, parallel to `persons`.
    pub derived: Vec<Derived>,
    /// Incidents sorted by (person, start).
    pub incidents: Vec<IncidentRow>,
    inc_off: Vec<u32>,
    /// NRM referrals `(person, referred)`, sorted.
    pub referrals: Vec<(u32, Ts)>,
    /// Placements sorted by (person, start).
    pub placements: Vec<PlacementRow>,
    /// Organisation codes (forces and authorities), by index.
    pub orgs: Vec<String>,
    /// Nationality codes by index; 0 is "unknown".
    pub nationalities: Vec<String>,
    /// End of the data: nothing at or after this instant is counted; open follow-up is
    /// censored here.
    pub end_of_data: Ts,
    /// Records whose person is not on the register (left out).
    pub orphans: u64,
}

impl Snapshot {
    /// The incidents of person `k`, in order of last-seen time.
    pub fn incidents_of(&self, k: usize) -> &[IncidentRow] {
        match (self.inc_off.get(k), self.inc_off.get(k + 1)) {
            (Some(a), Some(b)) => &self.incidents[*a as usize..*b as usize],
            _ => &[],
        }
    }

    /// The interval `[entry, exit)` during which person `k` is in `cohort`, if ever.
    pub fn cohort_interval(&self, k: usize, cohort: Cohort) -> Option<(Ts, Ts)> {
        let d = &self.derived[k];
        match cohort {
            Cohort::All => Some((Ts::MIN, Ts::MAX)),
            Cohort::Adults => d.adult_at.map(|a| (a, Ts::MAX)),
            Cohort::Children => d.adult_at.map(|a| (Ts::MIN, a)),
            Cohort::LookedAfter => d.care_at.zip(d.adult_at),
            Cohort::Unaccompanied => d.unaccompanied_at.zip(d.adult_at),
            Cohort::NrmChildren => d.nrm_child_at.zip(d.adult_at),
        }
        .filter(|(a, b)| a < b)
    }

    /// Age in whole years of person `k` at `t`, if the date of birth is known.
    pub fn age_at(&self, k: usize, t: Ts) -> Option<i32> {
        let b = self.persons[k].dob?;
        let on = date_of_ts(t);
        let mut age = on.year() - b.year();
        if (on.month(), on.day()) < (b.month(), b.day()) {
            age -= 1;
        }
        Some(age)
    }

    /// First year with an incident, and the year of the end of data.
    pub fn year_range(&self) -> (i32, i32) {
        let last = date_of_ts(self.end_of_data - 1).year();
        let first = self
            .incidents
            .iter()
            .map(|i| i.start)
            .min()
            .map_or(last, |t| date_of_ts(t).year());
        (first.min(last), last)
    }

    /// Number of persons.
    pub fn len(&self) -> usize {
        self.persons.len()
    }

    /// Whether there are no persons.
    pub fn is_empty(&self) -> bool {
        self.persons.is_empty()
    }
}

/// Age bands used in publications.
pub fn age_band(age: Option<i32>) -> &'static str {
    match age {
        None => "unknown",
        Some(a) if a < 10 => "0-9",
        Some(a) if a < 14 => "10-13",
        Some(a) if a < 16 => "14-15",
        Some(a) if a < 18 => "16-17",
        Some(a) if a < 25 => "18-24",
        Some(a) if a < 40 => "25-39",
        Some(a) if a < 60 => "40-59",
        Some(_) => "60+",
    }
}

#[cfg(test)]
pub(crate) mod testdata {
    //! Hand-built records for unit tests.
    use super::*;
    use chrono::TimeZone;
    use nrmp_domain::incident::{Place, Return, ReturnOutcome};
    use nrmp_domain::nrm::NrmReferral;
    use nrmp_domain::organisation::OrgCode;
    use nrmp_domain::person::{Description, Nationality};
    use uuid::Uuid;

    pub fn org(s: &str) -> OrgCode {
        OrgCode::parse("org", s).expect("org code")
    }

    pub fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .expect("date")
    }

    pub fn person(n: u128, dob: Option<(i32, u32, u32)>, sex: Sex, nat: &str) -> Person {
        Person {
            id: PersonId(Uuid::from_u128(n)),
            owning_org: org("force:met"),
            names: Vec::new(),
            dob: dob.map(|(y, m, d)| DateOfBirth::Exact {
                date: NaiveDate::from_ymd_opt(y, m, d).expect("dob"),
            }),
            sex,
            nationalities: vec![Nationality::parse("nat", nat).expect("nat")],
            languages: Vec::new(),
            identifiers: Vec::new(),
            description: Description::default(),
            created_at: at(2020, 1, 1, 0),
            updated_at: at(2020, 1, 1, 0),
        }
    }

    pub fn incident(
        n: u128,
        person: u128,
        seen: DateTime<Utc>,
        found: Option<DateTime<Utc>>,
        force: &str,
    ) -> Incident {
        let place = Place {
            description: "x".into(),
            authority: None,
            force: None,
        };
        Incident {
            id: nrmp_domain::ids::IncidentId(Uuid::from_u128(n)),
            person_id: PersonId(Uuid::from_u128(person)),
            owning_org: org(force),
            force_missing: org(force),
            involved: Vec::new(),
            category: IncidentCategory::Missing,
            reported_at: seen,
            last_seen_at: seen,
            last_seen_place: place.clone(),
            circumstances: String::new(),
            risk_history: Vec::new(),
            sightings: Vec::new(),
            returned: found.map(|f| Return {
                found_at: f,
                place,
                found_by: org(force),
                outcome: ReturnOutcome::Safe,
            }),
            return_interview: None,
        }
    }

    pub fn referral(n: u128, person: u128, on: (i32, u32, u32)) -> NrmReferral {
        NrmReferral {
            id: nrmp_domain::ids::ReferralId(Uuid::from_u128(n)),
            person_id: PersonId(Uuid::from_u128(person)),
            reference: None,
            referred_on: NaiveDate::from_ymd_opt(on.0, on.1, on.2).expect("date"),
            first_responder: org("la:x"),
            exploitation: Vec::new(),
            reasonable_grounds: None,
            conclusive_grounds: None,
        }
    }

    pub fn placement(
        n: u128,
        person: u128,
        start: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
        la: &str,
        unaccompanied: bool,
    ) -> Placement {
        Placement {
            id: nrmp_domain::ids::PlacementId(Uuid::from_u128(n)),
            person_id: PersonId(Uuid::from_u128(person)),
            placing_authority: org(la),
            host_authority: org(la),
            placement_type: PlacementType::Foster,
            started_at: start,
            ended_at: end,
            unaccompanied,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testdata::*;
    use super::*;

    #[test]
    fn cohort_intervals_follow_the_definitions() {
        let mut b = SnapshotBuilder::new();
        b.person(&person(1, Some((2008, 6, 1)), Sex::Female, "VNM"));
        b.person(&person(2, None, Sex::Male, "GBR"));
        b.person(&person(3, Some((1990, 1, 1)), Sex::Male, "ALB"));
        // Person 1: placed 2022, unaccompanied placement 2023, referral 2023 (child).
        b.placement(&placement(
            10,
            1,
            at(2022, 3, 1, 0),
            Some(at(2022, 9, 1, 0)),
            "la:a",
            false,
        ));
        b.placement(&placement(11, 1, at(2022, 9, 1, 12), None, "la:b", true));
        b.referral(&referral(20, 1, (2023, 2, 1)));
        // Person 3: referral as adult only; placement as adult (not looked after).
        b.referral(&referral(21, 3, (2020, 5, 5)));
        b.placement(&placement(12, 3, at(2020, 5, 6, 0), None, "la:a", true));
        let s = b.finish(ts_of_date(NaiveDate::from_ymd_opt(2026, 1, 1).expect("d")));
        let adult1 = ts_of_date(NaiveDate::from_ymd_opt(2026, 6, 1).expect("d"));
        assert_eq!(
            s.cohort_interval(0, Cohort::Children),
            Some((Ts::MIN, adult1))
        );
        assert_eq!(
            s.cohort_interval(0, Cohort::LookedAfter),
            Some((at(2022, 3, 1, 0).timestamp(), adult1))
        );
        assert_eq!(
            s.cohort_interval(0, Cohort::Unaccompanied),
            Some((at(2022, 9, 1, 12).timestamp(), adult1))
        );
        assert_eq!(
            s.cohort_interval(0, Cohort::NrmChildren),
            Some((at(2023, 2, 1, 0).timestamp(), adult1))
        );
        assert_eq!(
            s.cohort_interval(0, Cohort::Adults),
            Some((adult1, Ts::MAX))
        );
        // The two placements of person 1 are one care episode, still open.
        assert_eq!(s.derived[0].care_end, None);
        assert_eq!(
            s.derived[0].authority,
            Some(s.orgs.iter().position(|o| o == "la:a").expect("la") as u32)
        );
        // Unknown date of birth: only "all persons".
        assert!(s.cohort_interval(1, Cohort::Children).is_none());
        assert!(s.cohort_interval(1, Cohort::Adults).is_none());
        assert!(s.cohort_interval(1, Cohort::All).is_some());
        // Adult referral / placement do not make a child cohort.
        for c in [
            Cohort::NrmChildren,
            Cohort::LookedAfter,
            Cohort::Unaccompanied,
        ] {
            assert!(s.cohort_interval(2, c).is_none(), "{c:?}");
        }
        assert_eq!(s.nationalities[s.persons[0].nationality as usize], "VNM");
        assert_eq!(s.age_at(0, at(2024, 5, 31, 0).timestamp()), Some(15));
        assert_eq!(s.age_at(0, at(2024, 6, 1, 0).timestamp()), Some(16));
    }

    #[test]
    fn records_may_arrive_before_their_person() {
        let build = |person_first: bool| {
            let mut b = SnapshotBuilder::new();
            if person_first {
                b.person(&person(1, Some((2010, 1, 1)), Sex::Female, "GBR"));
            }
            b.incident(&incident(1, 1, at(2024, 1, 1, 0), None, "force:met"));
            b.referral(&referral(2, 1, (2023, 6, 1)));
            b.placement(&placement(3, 1, at(2023, 1, 1, 0), None, "la:a", true));
            if !person_first {
                b.person(&person(1, Some((2010, 1, 1)), Sex::Female, "GBR"));
            }
            b.finish(at(2025, 1, 1, 0).timestamp())
        };
        let (a, b) = (build(true), build(false));
        assert_eq!(b.orphans, 0);
        assert_eq!(b.incidents_of(0).len(), 1);
        assert_eq!(a.referrals, b.referrals);
        assert_eq!(a.derived[0].care_at, b.derived[0].care_at);
        assert_eq!(a.derived[0].nrm_child_at, b.derived[0].nrm_child_at);
        assert_eq!(
            b.derived[0].unaccompanied_at,
            Some(at(2023, 1, 1, 0).timestamp())
        );
    }

    #[test]
    fn records_after_end_of_data_are_dropped_and_returns_reopened() {
        let mut b = SnapshotBuilder::new();
        b.person(&person(1, Some((2010, 1, 1)), Sex::Female, "GBR"));
        b.incident(&incident(
            1,
            1,
            at(2024, 1, 1, 0),
            Some(at(2025, 2, 1, 0)),
            "force:met",
        ));
        b.incident(&incident(2, 1, at(2025, 3, 1, 0), None, "force:met"));
        b.incident(&incident(3, 99, at(2024, 3, 1, 0), None, "force:met"));
        let s = b.finish(at(2025, 1, 1, 0).timestamp());
        assert_eq!(s.orphans, 1);
        assert_eq!(s.incidents.len(), 1);
        assert_eq!(s.incidents[0].end, None);
        assert_eq!(s.incidents_of(0).len(), 1);
        assert_eq!(s.year_range(), (2024, 2024));
        assert_eq!(age_band(Some(15)), "14-15");
        assert_eq!(age_band(None), "unknown");
    }
}
