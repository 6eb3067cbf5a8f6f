//! The population generator: configuration, cohorts, and the per-person simulation of care,
//! referrals, missing episodes and duplicate records.
//!
//! Each true person is simulated from its own RNG, seeded from the configuration's seed and the
//! person's index, so any chunk of the population can be generated alone (or in parallel) and
//! the output depends only on the configuration.

use crate::calibration as cal;
use crate::names::{PoolTables, RenderedName, TrueName, is_latin};
use crate::reference::{self, LocalAuthority, PoliceForce};
use crate::sampling::{
    DAY, HOUR, Weighted, at, date_of, day_start, episode_count, exponential, lognormal, mix64,
};
use crate::variation::{self, DuplicateRecord, RecordField, Variation};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use nrmp_domain::identifier::{Identifier, IdentifierKind};
use nrmp_domain::ids::{IdGen, IncidentId, PersonId, PlacementId, ReferralId, SeededIds};
use nrmp_domain::incident::{
    GradeChange, Incident, IncidentCategory, Place, Return, ReturnHomeInterview, ReturnOutcome,
    RiskGrade, Sighting,
};
use nrmp_domain::nrm::{Decision, DecisionOutcome, ExploitationType, NrmReferral};
use nrmp_domain::organisation::{AuthoritySpend, OrgCode, OrgKind, Organisation};
use nrmp_domain::person::{
    Build, DateOfBirth, Description, Language, Mark, MarkKind, NameKind, Nationality, Person,
    PersonName, PhotoMeta, Sex,
};
use nrmp_domain::placement::{Placement, PlacementType};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::ops::Range;

/// Code of the national missing persons unit.
pub const NMPU: &str = "national:nmpu";
/// Codes and names of the two advocacy services (north, south).
pub const ADVOCACY: [(&str, &str); 2] = [
    (
        "advocacy:ictg-1",
        "Independent Child Trafficking Guardians (North)",
    ),
    (
        "advocacy:ictg-2",
        "Independent Child Trafficking Guardians (South)",
    ),
];

/// Why a generator could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SynthError {
    /// The embedded reference data is broken.
    #[error("reference data: {0}")]
    Reference(String),
    /// The configuration is inconsistent.
    #[error("configuration: {0}")]
    Config(String),
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Seed: the same seed and configuration give the same output, byte for byte.
    pub seed: u64,
    /// Number of true persons (duplicate records come on top).
    pub persons: usize,
    /// Start of the history window (default 2016-01-01).
    pub start: NaiveDate,
    /// "Now": nothing is dated after it. Injected, never read from a clock.
    pub end: DateTime<Utc>,
    /// Share of true persons recorded again by another agency (default
    /// [`cal::DUPLICATE_SHARE`]).
    pub duplicate_share: f64,
    /// Share of duplicated persons recorded a third time (default [`cal::THIRD_RECORD_SHARE`]).
    pub third_record_share: f64,
}

impl Config {
    /// A configuration with the default window start and duplicate shares.
    pub fn new(seed: u64, persons: usize, end: DateTime<Utc>) -> Self {
        Self {
            seed,
            persons,
            start: NaiveDate::from_ymd_opt(2016, 1, 1).unwrap_or_default(),
            end,
            duplicate_share: cal::DUPLICATE_SHARE,
            third_record_share: cal::THIRD_RECORD_SHARE,
        }
    }
}

/// The kind of life a true person has in the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cohort {
    /// An adult reported missing.
    Adult,
    /// A child reported missing from home (not looked after).
    ChildFromHome,
    /// A looked-after child.
    LookedAfter,
    /// An unaccompanied asylum-seeking child in care.
    Unaccompanied,
    /// A trafficked child in care, referred to the NRM.
    TraffickedChild,
    /// An adult referred to the NRM.
    NrmAdult,
}

impl Cohort {
    /// All cohorts with their share of true persons.
    pub const SHARES: [(Cohort, f64); 6] = [
        (Cohort::Adult, cal::COHORT_ADULT),
        (Cohort::ChildFromHome, cal::COHORT_CHILD_FROM_HOME),
        (Cohort::LookedAfter, cal::COHORT_LOOKED_AFTER),
        (Cohort::Unaccompanied, cal::COHORT_UNACCOMPANIED),
        (Cohort::TraffickedChild, cal::COHORT_TRAFFICKED_CHILD),
        (Cohort::NrmAdult, cal::COHORT_NRM_ADULT),
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Adult => "adult",
            Self::ChildFromHome => "child_from_home",
            Self::LookedAfter => "looked_after",
            Self::Unaccompanied => "unaccompanied",
            Self::TraffickedChild => "trafficked_child",
            Self::NrmAdult => "nrm_adult",
        }
    }

    /// True for the cohorts of children in care (with placements).
    pub fn in_care(self) -> bool {
        matches!(
            self,
            Self::LookedAfter | Self::Unaccompanied | Self::TraffickedChild
        )
    }

    /// Nationality weights (ISO alpha-3, weight).
    fn nationalities(self) -> &'static [(&'static str, u32)] {
        match self {
            Self::Adult => &[
                ("GBR", 900),
                ("ALB", 15),
                ("VNM", 10),
                ("IRQ", 15),
                ("IRN", 15),
                ("SYR", 15),
                ("AFG", 15),
                ("ERI", 10),
                ("SDN", 5),
            ],
            Self::ChildFromHome => &[
                ("GBR", 950),
                ("IRQ", 10),
                ("SYR", 10),
                ("AFG", 10),
                ("ALB", 10),
                ("IRN", 5),
                ("ERI", 5),
            ],
            Self::LookedAfter => &[
                ("GBR", 940),
                ("ALB", 10),
                ("IRQ", 10),
                ("SYR", 10),
                ("AFG", 10),
                ("ERI", 10),
                ("VNM", 5),
                ("IRN", 5),
            ],
            // Unaccompanied asylum-seeking children: commonest nationalities of UASC claims.
            Self::Unaccompanied => &[
                ("ERI", 18),
                ("SDN", 14),
                ("AFG", 15),
                ("ALB", 12),
                ("IRQ", 11),
                ("VNM", 10),
                ("IRN", 10),
                ("SYR", 10),
            ],
            // NRM 2018: commonest child nationalities UK, Albania, Vietnam; then Sudan, Eritrea.
            Self::TraffickedChild => &[
                ("GBR", 35),
                ("ALB", 18),
                ("VNM", 16),
                ("SDN", 7),
                ("ERI", 7),
                ("AFG", 6),
                ("IRQ", 4),
                ("IRN", 3),
                ("SYR", 4),
            ],
            Self::NrmAdult => &[
                ("ALB", 25),
                ("GBR", 20),
                ("VNM", 15),
                ("SDN", 8),
                ("ERI", 8),
                ("AFG", 6),
                ("IRQ", 6),
                ("IRN", 6),
                ("SYR", 6),
            ],
        }
    }
}

/// Ground truth about one true person (for evaluation; never shown as a record).
#[derive(Debug, Clone, PartialEq)]
pub struct TruthPerson {
    /// The true person's key.
    pub key: u64,
    /// Their cohort.
    pub cohort: Cohort,
    /// Sex.
    pub sex: Sex,
    /// True date of birth.
    pub dob: NaiveDate,
    /// Nationality (ISO alpha-3).
    pub nationality: &'static str,
    /// Their records: the first record, then any duplicates.
    pub records: Vec<PersonId>,
    /// When they entered care, for children in care.
    pub entered_care_at: Option<DateTime<Utc>>,
    /// When they were referred to the NRM, if they were.
    pub referred_on: Option<NaiveDate>,
}

/// A chunk of generated records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Generated {
    /// Person records (first records and duplicates).
    pub persons: Vec<Person>,
    /// Missing incidents.
    pub incidents: Vec<Incident>,
    /// NRM referrals.
    pub referrals: Vec<NrmReferral>,
    /// Placements of children in care.
    pub placements: Vec<Placement>,
    /// Every person record's id with its true person's key.
    pub truth: Vec<(PersonId, u64)>,
    /// Duplicate records with how they differ from the first record.
    pub duplicates: Vec<DuplicateRecord>,
    /// Ground truth per true person.
    pub people: Vec<TruthPerson>,
}

impl Generated {
    /// Appends another chunk.
    pub fn extend(&mut self, other: Generated) {
        self.persons.extend(other.persons);
        self.incidents.extend(other.incidents);
        self.referrals.extend(other.referrals);
        self.placements.extend(other.placements);
        self.truth.extend(other.truth);
        self.duplicates.extend(other.duplicates);
        self.people.extend(other.people);
    }
}

#[derive(Debug)]
struct Force {
    code: OrgCode,
    src: &'static PoliceForce,
}

#[derive(Debug)]
struct Authority {
    code: OrgCode,
    force: usize,
    src: &'static LocalAuthority,
    advocacy: usize,
}

/// The generator. Cheap to share between threads.
#[derive(Debug)]
pub struct Generator {
    config: Config,
    forces: Vec<Force>,
    authorities: Vec<Authority>,
    authority_table: Weighted<usize>,
    force_table: Weighted<usize>,
    pools: Vec<PoolTables>,
    cohort_nationalities: Vec<Weighted<usize>>,
    nmpu: OrgCode,
    advocacy: Vec<OrgCode>,
}

fn org(code: &str) -> Result<OrgCode, SynthError> {
    OrgCode::parse("code", code).map_err(|e| SynthError::Reference(e.to_string()))
}

const NORTH: [&str; 5] = [
    "North East",
    "North West",
    "Yorkshire and The Humber",
    "West Midlands",
    "East Midlands",
];

impl Generator {
    /// Builds a generator, checking the reference data and configuration.
    pub fn new(config: Config) -> Result<Self, SynthError> {
        reference::validate().map_err(|e| SynthError::Reference(e.to_string()))?;
        let window_start = day_start(config.start);
        if config.end.timestamp() - window_start < 90 * DAY {
            return Err(SynthError::Config(format!(
                "the window from {} to {} is shorter than 90 days",
                config.start, config.end
            )));
        }
        for (name, share) in [
            ("duplicate_share", config.duplicate_share),
            ("third_record_share", config.third_record_share),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return Err(SynthError::Config(format!(
                    "{name} {share} is not in 0..=1"
                )));
            }
        }
        let forces = reference::police_forces()
            .iter()
            .map(|f| {
                Ok(Force {
                    code: org(&format!("force:{}", f.code))?,
                    src: f,
                })
            })
            .collect::<Result<Vec<_>, SynthError>>()?;
        let authorities = reference::local_authorities()
            .iter()
            .map(|a| {
                let force = forces
                    .iter()
                    .position(|f| f.src.code == a.police_force_code)
                    .ok_or_else(|| {
                        SynthError::Reference(format!(
                            "{}: unknown force {}",
                            a.code, a.police_force_code
                        ))
                    })?;
                Ok(Authority {
                    code: org(&format!("la:{}", a.code))?,
                    force,
                    src: a,
                    advocacy: usize::from(!NORTH.contains(&a.region)),
                })
            })
            .collect::<Result<Vec<_>, SynthError>>()?;
        if authorities.is_empty() {
            return Err(SynthError::Reference("no local authorities".into()));
        }
        let authority_table = Weighted::new(
            authorities
                .iter()
                .enumerate()
                .map(|(i, a)| (i, a.src.weight)),
        );
        let force_table = Weighted::new(
            forces
                .iter()
                .enumerate()
                .filter(|(_, f)| f.src.is_territorial())
                .map(|(i, f)| (i, f.src.weight)),
        );
        let mut pools: Vec<PoolTables> = Vec::new();
        let mut wanted: Vec<&str> = Cohort::SHARES
            .iter()
            .flat_map(|(c, _)| c.nationalities().iter().map(|(n, _)| *n))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        for n in wanted {
            if let Some(t) = PoolTables::load(n) {
                pools.push(t);
            }
        }
        let gbr = pools
            .iter()
            .position(|p| p.pool.nationality == "GBR")
            .ok_or_else(|| SynthError::Reference("no GBR name pool".into()))?;
        let cohort_nationalities = Cohort::SHARES
            .iter()
            .map(|(c, _)| {
                let t = Weighted::new(c.nationalities().iter().filter_map(|(n, w)| {
                    pools
                        .iter()
                        .position(|p| p.pool.nationality == *n)
                        .map(|i| (i, *w))
                }));
                if t.is_empty() {
                    Weighted::new([(gbr, 1)])
                } else {
                    t
                }
            })
            .collect();
        let advocacy = ADVOCACY
            .iter()
            .map(|(c, _)| org(c))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            config,
            forces,
            authorities,
            authority_table,
            force_table,
            pools,
            cohort_nationalities,
            nmpu: org(NMPU)?,
            advocacy,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Every organisation the generated records refer to: the police forces (`force:<slug>`),
    /// local authorities (`la:<slug>`, with their force), the national unit and the two
    /// advocacy services.
    pub fn organisations(&self) -> Vec<Organisation> {
        let mut out = Vec::with_capacity(self.forces.len() + self.authorities.len() + 3);
        for f in &self.forces {
            out.push(Organisation {
                code: f.code.clone(),
                kind: OrgKind::PoliceForce,
                name: f.src.name.to_owned(),
                country: f.src.country.to_owned(),
                region: Some(f.src.region.to_owned()),
                police_force: None,
            });
        }
        for a in &self.authorities {
            out.push(Organisation {
                code: a.code.clone(),
                kind: OrgKind::LocalAuthority,
                name: a.src.name.to_owned(),
                country: a.src.country.to_owned(),
                region: Some(a.src.region.to_owned()),
                police_force: Some(self.forces[a.force].code.clone()),
            });
        }
        out.push(Organisation {
            code: self.nmpu.clone(),
            kind: OrgKind::NationalUnit,
            name: "UK Missing Persons Unit".into(),
            country: reference::ENGLAND_AND_WALES.into(),
            region: None,
            police_force: None,
        });
        for (code, (_, name)) in self.advocacy.iter().zip(ADVOCACY) {
            out.push(Organisation {
                code: code.clone(),
                kind: OrgKind::AdvocacyService,
                name: name.into(),
                country: "England".into(),
                region: None,
                police_force: None,
            });
        }
        out
    }

    /// The whole population as a stream of chunks of `chunk_size` true persons each (the last
    /// may be smaller), so that a large population never needs to be held at once.
    pub fn chunks(&self, chunk_size: usize) -> impl Iterator<Item = Generated> + '_ {
        let size = chunk_size.max(1);
        let n = self.config.persons;
        (0..n.div_ceil(size)).map(move |c| self.chunk(c * size..((c + 1) * size).min(n)))
    }

    /// The true persons with indices in `range` (independent of any other range).
    pub fn chunk(&self, range: Range<usize>) -> Generated {
        let mut out = Generated::default();
        for i in range {
            self.person_into(i, &mut out);
        }
        out
    }

    /// A synthetic children's-services spend per child for every local authority and every
    /// year of the window ([`cal::SPEND_PER_CHILD_START`], growing by
    /// [`cal::SPEND_GROWTH_PER_YEAR`], each authority at its own level and with its own yearly
    /// noise). Depends only on the seed.
    pub fn spend(&self) -> Vec<AuthoritySpend> {
        let mut rng = ChaCha8Rng::seed_from_u64(mix64(self.config.seed ^ 0x5BE2_D0C0_FFEE_0001));
        let (first, last) = (self.config.start.year(), self.config.end.year());
        let mut out = Vec::new();
        for a in &self.authorities {
            let level = (cal::SPEND_AUTHORITY_SD * crate::sampling::normal(&mut rng)).exp();
            for year in first..=last {
                let trend = (1.0 + cal::SPEND_GROWTH_PER_YEAR).powi(year - first);
                let noise = 1.0 + cal::SPEND_YEAR_SD * crate::sampling::normal(&mut rng);
                let pounds = cal::SPEND_PER_CHILD_START * level * trend * noise.max(0.5);
                out.push(AuthoritySpend {
                    authority: a.code.clone(),
                    year,
                    spend_per_child: pounds.round(),
                });
            }
        }
        out
    }

    /// Everything about the true person with index `index`.
    pub fn person(&self, index: usize) -> Generated {
        self.chunk(index..index + 1)
    }

    fn person_into(&self, index: usize, out: &mut Generated) {
        let key = index as u64;
        let seed = self.config.seed;
        let mut rng = ChaCha8Rng::seed_from_u64(mix64(seed ^ mix64(key ^ 0x5EED_0F9E_450A_5EED)));
        // Ordered by person index: ids sort, and load into indexes, in generation order.
        let ids = SeededIds::ordered(mix64(seed.rotate_left(29) ^ mix64(key ^ 0x1D5_1D5)), key);
        Sim {
            g: self,
            rng: &mut rng,
            ids: &ids,
            key,
            now: self.config.end.timestamp(),
            window_start: day_start(self.config.start),
        }
        .run(out);
    }
}

/// One true person's episode before it becomes an incident.
struct Episode {
    last_seen: i64,
    reported: i64,
    found: Option<i64>,
    outcome: ReturnOutcome,
}

struct CareSpan {
    start: i64,
    end: Option<i64>,
    placing: usize,
}

struct Sim<'a> {
    g: &'a Generator,
    rng: &'a mut ChaCha8Rng,
    ids: &'a SeededIds,
    key: u64,
    now: i64,
    window_start: i64,
}

const YEAR: i64 = 365 * DAY + DAY / 4;

fn years_between(dob: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - dob.year();
    if (on.month(), on.day()) < (dob.month(), dob.day()) {
        age -= 1;
    }
    age
}

fn add_years(d: NaiveDate, years: u32) -> NaiveDate {
    d.checked_add_months(chrono::Months::new(12 * years))
        .unwrap_or(d)
}

const LAST_SEEN_PLACES: [&str; 8] = [
    "{} town centre",
    "{} railway station",
    "{} bus station",
    "near the placement, {}",
    "school, {}",
    "retail park, {}",
    "park, {}",
    "home area, {}",
];

const CIRCUMSTANCES_CHILD: [&str; 6] = [
    "Did not return to placement by agreed time",
    "Left placement after an argument with staff",
    "Left school at lunchtime and did not return",
    "Went out with friends and stopped answering phone",
    "Believed to be with older associates; phone switched off",
    "Left through a window overnight",
];
const CIRCUMSTANCES_TRAFFICKED: [&str; 5] = [
    "Left placement shortly after arrival; believed to have been collected by a car",
    "Received phone calls from unknown adults, then left placement",
    "Concern of re-trafficking: owes a debt to those who brought them to the UK",
    "Did not return from college; possible criminal exploitation",
    "Left with belongings; suspected to be travelling to another city",
];
const CIRCUMSTANCES_HOME: [&str; 4] = [
    "Did not come home after school",
    "Left home after an argument with parents",
    "Stayed out overnight without permission",
    "Believed to be with a boyfriend/girlfriend; not answering phone",
];
const CIRCUMSTANCES_ADULT: [&str; 6] = [
    "Left home in a distressed state",
    "Did not return from work",
    "Walked out of hospital ward",
    "Failed to return after a night out",
    "Left a note; concerns for welfare",
    "Left supported accommodation and did not return",
];

/// Who a true person is, drawn first: cohort, name pool, sex and home authority.
struct Identity<'a> {
    cohort: Cohort,
    pool: &'a PoolTables,
    nationality: &'static str,
    gbr: bool,
    sex: Sex,
    home: usize,
}

/// A true person's timeline: date of birth, care, NRM referral, and the window their
/// missing episodes fall in.
struct Timeline {
    dob: NaiveDate,
    care: Option<CareSpan>,
    referral_day: Option<NaiveDate>,
    episodes_wanted: u32,
    win_start: i64,
    win_end: i64,
    first_delay: i64,
}

/// A child's placements, each with the index of its host authority (same order).
struct Placed {
    records: Vec<Placement>,
    hosts: Vec<usize>,
}

/// The first record of a true person, with what its duplicates are made from.
struct FirstRecord {
    person: Person,
    name: TrueName,
    with_original: bool,
    first_contact: i64,
}

impl<'a> Sim<'a> {
    fn p(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    fn uniform(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            self.rng.random_range(lo..hi)
        }
    }

    fn pick_str(&mut self, xs: &[&'static str]) -> &'static str {
        xs[self.rng.random_range(0..xs.len())]
    }

    fn authority(&mut self) -> usize {
        self.g
            .authority_table
            .pick(self.rng)
            .copied()
            .unwrap_or_default()
    }

    /// Another authority, half the time in the same region.
    fn other_authority(&mut self, not: usize) -> usize {
        let region = self.g.authorities[not].src.region;
        for _ in 0..8 {
            let a = self.authority();
            if a != not && (self.rng.random_bool(0.5) || self.g.authorities[a].src.region == region)
            {
                return a;
            }
        }
        (not + 1) % self.g.authorities.len()
    }

    fn force_of(&self, authority: usize) -> &OrgCode {
        &self.g.forces[self.g.authorities[authority].force].code
    }

    fn la(&self, authority: usize) -> &OrgCode {
        &self.g.authorities[authority].code
    }

    fn place(&mut self, authority: usize) -> Place {
        let template = self.pick_str(&LAST_SEEN_PLACES);
        Place {
            description: template.replace("{}", self.g.authorities[authority].src.name),
            authority: Some(self.la(authority).clone()),
            force: Some(self.force_of(authority).clone()),
        }
    }

    fn user(&mut self, prefix: &str) -> String {
        format!("{prefix}-{:04}", self.rng.random_range(1..10_000))
    }

    /// Simulates one true person and appends their records to `out`, phase by phase: who they
    /// are, their timeline, missing episodes, placements, NRM referral, incidents, the person
    /// record, duplicate records, then the records' dates. The phases draw from the person's
    /// RNG and id generator in this order; changing it changes the population (pinned by the
    /// crate test `fixed_seed_output_is_unchanged`).
    fn run(mut self, out: &mut Generated) {
        let g = self.g;
        let who = self.identity();
        let life = self.timeline(&who);
        let episodes = self.episodes(who.cohort, &life);
        let person_id = PersonId(self.ids.next_uuid());
        let placed = self.placements(&who, &life, person_id);
        let advocate = (who.cohort == Cohort::TraffickedChild && self.p(0.6))
            .then(|| g.advocacy[g.authorities[who.home].advocacy].clone());
        let (referrals, nrm_ref) = self.referral(&who, &life, person_id);
        let mut incidents = Vec::with_capacity(episodes.len());
        for ep in &episodes {
            let incident = self.incident(&who, &life, ep, &placed, advocate.as_ref(), person_id);
            incidents.push(incident);
        }
        let Some(first) = self.person_record(
            &who,
            &life,
            &episodes,
            &referrals,
            &incidents,
            nrm_ref.as_deref(),
            person_id,
        ) else {
            return;
        };
        let (copies, incident_owner) = self.duplicates(&first, life.dob, &incidents);

        debug_assert!(
            incidents
                .iter()
                .all(|i| nrmp_domain::incident::check_no_overlap(i, &incidents).is_ok()),
            "overlapping episodes for true person {}",
            self.key
        );

        let first_contact = first.first_contact;
        let mut all: Vec<(Person, Vec<Variation>)> = vec![(first.person, Vec::new())];
        all.extend(copies);
        self.assign_incidents(&mut all, &mut incidents, &incident_owner);
        self.date_records(
            &mut all,
            &incidents,
            &incident_owner,
            &placed.records,
            first_contact,
        );
        self.emit(out, &who, &life, all, incidents, referrals, placed.records);
    }

    /// Who the true person is: cohort, name pool, sex and home authority.
    fn identity(&mut self) -> Identity<'a> {
        let g = self.g;
        let shares = Cohort::SHARES;
        let total: f64 = shares.iter().map(|(_, s)| s).sum();
        let mut u = self.rng.random::<f64>() * total;
        let mut cohort_i = 0;
        for (i, (_, s)) in shares.iter().enumerate() {
            cohort_i = i;
            if u < *s {
                break;
            }
            u -= s;
        }
        let cohort = shares[cohort_i].0;
        let pool_i = g.cohort_nationalities[cohort_i]
            .pick(self.rng)
            .copied()
            .unwrap_or_default();
        let pool = &g.pools[pool_i];
        let nationality = pool.pool.nationality;
        let gbr = nationality == "GBR";
        let p_male = match cohort {
            Cohort::Adult => 0.55,
            Cohort::ChildFromHome => 0.48,
            Cohort::LookedAfter => 0.56,
            Cohort::Unaccompanied => 0.90,
            Cohort::TraffickedChild => match nationality {
                "ALB" => 0.45,
                "GBR" => 0.75,
                _ => 0.80,
            },
            Cohort::NrmAdult => 0.65,
        };
        let sex = if self.p(p_male) {
            Sex::Male
        } else {
            Sex::Female
        };
        let home = self.authority();
        Identity {
            cohort,
            pool,
            nationality,
            gbr,
            sex,
            home,
        }
    }

    /// The timeline: anchor, date of birth, care, referral and number of episodes wanted.
    fn timeline(&mut self, who: &Identity<'_>) -> Timeline {
        let (ws, now) = (self.window_start, self.now);
        let (cohort, home) = (who.cohort, who.home);
        let mut care: Option<CareSpan> = None;
        let mut referral_day: Option<NaiveDate> = None;
        let mut episodes_wanted = 0u32;
        let (dob, win_start, mut win_end, first_delay): (NaiveDate, i64, i64, i64);
        match cohort {
            Cohort::Adult | Cohort::ChildFromHome => {
                let t0 = self.uniform(ws, now - 3 * DAY);
                let age = if cohort == Cohort::Adult {
                    let band = self.rng.random_range(0..100);
                    match band {
                        0..35 => self.rng.random_range(18..25),
                        35..65 => self.rng.random_range(25..40),
                        65..90 => self.rng.random_range(40..60),
                        _ => self.rng.random_range(60..90),
                    }
                } else if self.p(cal::CHILD_FROM_HOME_TEEN_SHARE) {
                    self.rng.random_range(12..18)
                } else {
                    self.rng.random_range(8..12)
                };
                dob = date_of(t0 - age * YEAR - self.uniform(0, YEAR - DAY));
                (win_start, win_end, first_delay) = (t0, now, 0);
                episodes_wanted = if cohort == Cohort::Adult {
                    episode_count(self.rng, cal::ADULT_SINGLE_SHARE, cal::ADULT_EPISODES_MEAN)
                } else {
                    episode_count(
                        self.rng,
                        cal::CHILD_FROM_HOME_SINGLE_SHARE,
                        cal::CHILD_FROM_HOME_EPISODES_MEAN,
                    )
                };
            }
            Cohort::LookedAfter | Cohort::Unaccompanied | Cohort::TraffickedChild => {
                let cs = self.uniform(ws, now - 120 * DAY);
                let (age, p_missing) = match cohort {
                    Cohort::LookedAfter => {
                        let bands = cal::LAC_AGE_BANDS;
                        let t = Weighted::new(bands.iter().enumerate().map(|(i, b)| (i, b.2)));
                        let b = bands[t.pick(self.rng).copied().unwrap_or_default()];
                        (i64::from(self.rng.random_range(b.0..=b.1)), b.3)
                    }
                    Cohort::Unaccompanied => {
                        let t = Weighted::new([(14, 15), (15, 30), (16, 35), (17, 20)]);
                        (
                            t.pick(self.rng).copied().unwrap_or(16),
                            cal::P_UNACCOMPANIED_MISSING,
                        )
                    }
                    _ => {
                        let t = Weighted::new([
                            (12, 5),
                            (13, 10),
                            (14, 18),
                            (15, 25),
                            (16, 25),
                            (17, 17),
                        ]);
                        (
                            t.pick(self.rng).copied().unwrap_or(15),
                            cal::P_TRAFFICKED_MISSING,
                        )
                    }
                };
                dob = date_of(cs - age * YEAR - self.uniform(DAY, YEAR - DAY));
                let eighteen = day_start(add_years(dob, 18));
                let end = if cohort == Cohort::LookedAfter && self.p(0.5) {
                    // Many looked-after children return home before 18.
                    (cs + (lognormal(self.rng, 1.5, 0.8) * YEAR as f64) as i64).min(eighteen)
                } else {
                    eighteen
                };
                let end = end.max(cs + 30 * DAY);
                let placing = home;
                care = Some(CareSpan {
                    start: cs,
                    end: (end <= now).then_some(end),
                    placing,
                });
                let mut anchor = cs;
                if cohort == Cohort::TraffickedChild {
                    let r = (cs + self.uniform(-3 * DAY, 14 * DAY)).clamp(ws, now - DAY);
                    referral_day = Some(date_of(r));
                    anchor = anchor.min(day_start(date_of(r)));
                }
                if self.p(p_missing) {
                    episodes_wanted = match cohort {
                        Cohort::LookedAfter => episode_count(
                            self.rng,
                            1.0 - cal::LAC_REPEAT_SHARE,
                            cal::LAC_EPISODES_MEAN * cal::LAC_TRUNCATION_ALLOWANCE,
                        ),
                        Cohort::Unaccompanied => episode_count(
                            self.rng,
                            cal::UNACCOMPANIED_SINGLE_SHARE,
                            cal::UNACCOMPANIED_EPISODES_MEAN,
                        ),
                        _ => episode_count(
                            self.rng,
                            cal::TRAFFICKED_SINGLE_SHARE,
                            cal::TRAFFICKED_EPISODES_MEAN * cal::TRAFFICKED_TRUNCATION_ALLOWANCE,
                        ),
                    };
                }
                let soon = match cohort {
                    Cohort::TraffickedChild => cal::TRAFFICKED_FIRST_WITHIN_72H,
                    Cohort::Unaccompanied => cal::UNACCOMPANIED_FIRST_WITHIN_72H,
                    _ => 0.0,
                };
                first_delay = if self.p(soon) {
                    if self.p(0.5) {
                        self.uniform(HOUR, 24 * HOUR)
                    } else {
                        self.uniform(24 * HOUR, 71 * HOUR)
                    }
                } else {
                    3 * DAY + exponential(self.rng, 90.0 * DAY as f64) as i64
                };
                win_start = anchor.max(ws);
                win_end = end.min(now);
            }
            Cohort::NrmAdult => {
                let r = self.uniform(ws, now - 7 * DAY);
                let age = self.rng.random_range(18..46);
                dob = date_of(r - age * YEAR - self.uniform(0, YEAR - DAY));
                referral_day = Some(date_of(r));
                if self.p(cal::P_NRM_ADULT_MISSING) {
                    episodes_wanted = episode_count(
                        self.rng,
                        cal::NRM_ADULT_SINGLE_SHARE,
                        cal::NRM_ADULT_EPISODES_MEAN,
                    );
                }
                first_delay = if self.p(0.3) {
                    self.uniform(HOUR, 71 * HOUR)
                } else {
                    exponential(self.rng, 120.0 * DAY as f64) as i64
                };
                (win_start, win_end) = (day_start(date_of(r)), now);
            }
        }
        if win_end <= win_start {
            win_end = win_start;
        }
        Timeline {
            dob,
            care,
            referral_day,
            episodes_wanted,
            win_start,
            win_end,
            first_delay,
        }
    }

    /// The missing episodes in the timeline's window, one after another.
    fn episodes(&mut self, cohort: Cohort, life: &Timeline) -> Vec<Episode> {
        let now = self.now;
        let (win_start, win_end) = (life.win_start, life.win_end);
        let episodes_wanted = life.episodes_wanted;
        let mut episodes: Vec<Episode> = Vec::new();
        if episodes_wanted > 0 && win_end - win_start > 6 * HOUR {
            let span = win_end - win_start - 3 * HOUR;
            let mut first = life.first_delay;
            if first >= span {
                first = self.uniform(0, span);
            }
            let mut cur = win_start + first;
            let base_gap = match cohort {
                Cohort::Adult => 200.0,
                Cohort::ChildFromHome => 45.0,
                Cohort::NrmAdult => 60.0,
                _ => 21.0,
            } * DAY as f64;
            let room = (win_end - cur) as f64 / (f64::from(episodes_wanted) * 2.5 + 2.0);
            let gap_mean = base_gap.min(room).max(2.0 * HOUR as f64);
            let (median_h, p_never) = match cohort {
                Cohort::TraffickedChild => (cal::TRAFFICKED_DURATION_MEDIAN_H, cal::P_NEVER_FOUND),
                Cohort::Unaccompanied => (cal::DURATION_MEDIAN_H * 1.5, cal::P_NEVER_FOUND),
                Cohort::Adult => (cal::DURATION_MEDIAN_H, 0.005),
                _ => (cal::DURATION_MEDIAN_H, 0.001),
            };
            for i in 0..episodes_wanted {
                if cur >= win_end {
                    break;
                }
                let reported = cur
                    + (lognormal(self.rng, 1.5, 1.0) * HOUR as f64).clamp(600.0, 48.0 * HOUR as f64)
                        as i64;
                if reported > now {
                    break;
                }
                let last = i + 1 == episodes_wanted;
                let never = last && self.p(p_never);
                let dur = (lognormal(self.rng, median_h, cal::DURATION_SIGMA) * HOUR as f64)
                    .clamp(900.0, 180.0 * DAY as f64) as i64;
                let found = (cur + dur).max(reported + 300);
                let found = (!never && found <= now).then_some(found);
                let r: f64 = self.rng.random();
                let outcome = if r < if cohort == Cohort::Adult {
                    0.005
                } else {
                    0.001
                } {
                    ReturnOutcome::Deceased
                } else if r < 0.04 {
                    ReturnOutcome::Harmed
                } else {
                    ReturnOutcome::Safe
                };
                episodes.push(Episode {
                    last_seen: cur,
                    reported,
                    found,
                    outcome,
                });
                match found {
                    Some(f) if outcome != ReturnOutcome::Deceased => {
                        cur = f + (exponential(self.rng, gap_mean) as i64).max(HOUR);
                    }
                    _ => break,
                }
            }
        }
        episodes
    }

    /// The placements of a child in care over their care span, with each one's host authority.
    fn placements(&mut self, who: &Identity<'_>, life: &Timeline, person_id: PersonId) -> Placed {
        let now = self.now;
        let dob = life.dob;
        let unaccompanied = match who.cohort {
            Cohort::Unaccompanied => true,
            Cohort::TraffickedChild => !who.gbr,
            _ => false,
        };
        let mut placements: Vec<Placement> = Vec::new();
        let mut placement_hosts: Vec<usize> = Vec::new();
        if let Some(c) = &life.care {
            let span_end = c.end.unwrap_or(now);
            let n = 1 + crate::sampling::geometric(self.rng, 0.7).min(4);
            let mut cuts: Vec<i64> = (1..n)
                .map(|_| self.uniform(c.start + DAY, span_end.max(c.start + 2 * DAY)))
                .collect();
            cuts.sort_unstable();
            cuts.dedup();
            let mut bounds = vec![c.start];
            bounds.extend(cuts);
            for (k, &s) in bounds.iter().enumerate() {
                let e = bounds.get(k + 1).copied().or(c.end);
                let age = years_between(dob, date_of(s));
                let r: f64 = self.rng.random();
                let ptype = if age >= 16 {
                    if r < 0.4 {
                        PlacementType::SupportedAccommodation
                    } else if r < 0.6 {
                        PlacementType::ChildrensHome
                    } else {
                        PlacementType::Foster
                    }
                } else if r < 0.72 {
                    PlacementType::Foster
                } else if r < 0.9 || unaccompanied {
                    PlacementType::ChildrensHome
                } else if r < 0.98 {
                    PlacementType::Kinship
                } else {
                    PlacementType::Secure
                };
                let p_out = match ptype {
                    PlacementType::Foster | PlacementType::Kinship => cal::OUT_OF_AREA_FOSTER,
                    _ => cal::OUT_OF_AREA_RESIDENTIAL,
                };
                let host = if self.p(p_out) {
                    self.other_authority(c.placing)
                } else {
                    c.placing
                };
                placement_hosts.push(host);
                placements.push(Placement {
                    id: PlacementId(self.ids.next_uuid()),
                    person_id,
                    placing_authority: self.la(c.placing).clone(),
                    host_authority: self.la(host).clone(),
                    placement_type: ptype,
                    started_at: at(s),
                    ended_at: e.map(at),
                    unaccompanied,
                });
            }
        }
        Placed {
            records: placements,
            hosts: placement_hosts,
        }
    }

    /// The NRM referral, if the timeline has one, and its reference.
    fn referral(
        &mut self,
        who: &Identity<'_>,
        life: &Timeline,
        person_id: PersonId,
    ) -> (Vec<NrmReferral>, Option<String>) {
        let now = self.now;
        let (cohort, home) = (who.cohort, who.home);
        let mut referrals = Vec::new();
        let mut nrm_ref: Option<String> = None;
        if let Some(day) = life.referral_day {
            let reference = format!(
                "NRM-{}-{:06}",
                day.year(),
                self.rng.random_range(0..1_000_000)
            );
            let first_responder = if cohort == Cohort::TraffickedChild && self.p(0.6) {
                self.la(home).clone()
            } else {
                self.force_of(home).clone()
            };
            let exploitation = self.exploitation(cohort, who.nationality, who.sex);
            let today = date_of(now);
            let rg_day = day + chrono::Days::new(self.rng.random_range(2..40));
            let rg = (rg_day <= today).then(|| Decision {
                date: rg_day,
                outcome: if self.p(0.85) {
                    DecisionOutcome::Positive
                } else {
                    DecisionOutcome::Negative
                },
            });
            let cg = rg.and_then(|rg| {
                let d = rg.date + chrono::Days::new(self.rng.random_range(90..700));
                (rg.outcome == DecisionOutcome::Positive && d <= today).then(|| Decision {
                    date: d,
                    outcome: if self.p(0.8) {
                        DecisionOutcome::Positive
                    } else {
                        DecisionOutcome::Negative
                    },
                })
            });
            referrals.push(NrmReferral {
                id: ReferralId(self.ids.next_uuid()),
                person_id,
                reference: Some(reference.clone()),
                referred_on: day,
                first_responder,
                exploitation,
                reasonable_grounds: rg,
                conclusive_grounds: cg,
            });
            nrm_ref = Some(reference);
        }
        (referrals, nrm_ref)
    }

    /// The incident of one episode: who is involved, the risk grades, a sighting, the return
    /// and the return-home interview.
    fn incident(
        &mut self,
        who: &Identity<'_>,
        life: &Timeline,
        ep: &Episode,
        placed: &Placed,
        advocate: Option<&OrgCode>,
        person_id: PersonId,
    ) -> Incident {
        let (cohort, home) = (who.cohort, who.home);
        let trafficked_like = matches!(cohort, Cohort::TraffickedChild | Cohort::Unaccompanied);
        // Where the person was living when they went missing.
        let (host, placing) = match &life.care {
            Some(c) => {
                let k = placed
                    .records
                    .iter()
                    .rposition(|p| p.started_at.timestamp() <= ep.last_seen)
                    .unwrap_or(0);
                (
                    placed.hosts.get(k).copied().unwrap_or(home),
                    Some(c.placing),
                )
            }
            None => (home, None),
        };
        let force_missing = self.force_of(host).clone();
        let home_force = self.force_of(home).clone();
        let child = years_between(life.dob, date_of(ep.last_seen)) < 18;
        let category = if placing.is_some() && self.p(0.35) {
            IncidentCategory::AwayFromPlacement
        } else {
            IncidentCategory::Missing
        };
        let owner = match (category, placing) {
            (IncidentCategory::AwayFromPlacement, Some(p)) => self.la(p).clone(),
            _ => force_missing.clone(),
        };
        let mut involved: Vec<OrgCode> = Vec::new();
        let mut involve = |o: &OrgCode| {
            if !involved.contains(o) {
                involved.push(o.clone());
            }
        };
        involve(&force_missing);
        involve(&home_force);
        if let Some(p) = placing {
            involve(self.la(p));
            involve(self.la(host));
        } else if child {
            involve(self.la(home));
        }
        if let Some(a) = advocate {
            involve(a);
        }
        let circumstances = self
            .pick_str(match cohort {
                Cohort::TraffickedChild | Cohort::Unaccompanied => &CIRCUMSTANCES_TRAFFICKED,
                Cohort::LookedAfter => &CIRCUMSTANCES_CHILD,
                Cohort::ChildFromHome => &CIRCUMSTANCES_HOME,
                _ => &CIRCUMSTANCES_ADULT,
            })
            .to_owned();
        let last_seen_place = self.place(host);
        let risk_history = self.risk_history(who, life, ep, child, &force_missing);
        let sightings = self.sightings(ep, host, &force_missing);
        let returned = self.returned(ep, trafficked_like, host, placing, &force_missing);
        if let Some(ret) = &returned
            && !involved.contains(&ret.found_by)
        {
            involved.push(ret.found_by.clone());
        }
        let return_interview =
            self.return_interview(ep, returned.as_ref(), child, trafficked_like, placing, home);
        Incident {
            id: IncidentId(self.ids.next_uuid()),
            person_id,
            owning_org: owner,
            force_missing,
            involved,
            category,
            reported_at: at(ep.reported),
            last_seen_at: at(ep.last_seen),
            last_seen_place,
            circumstances,
            risk_history,
            sightings,
            returned,
            return_interview,
        }
    }

    /// The risk grade of an episode: the initial grade, and maybe one regrade.
    fn risk_history(
        &mut self,
        who: &Identity<'_>,
        life: &Timeline,
        ep: &Episode,
        child: bool,
        force_missing: &OrgCode,
    ) -> Vec<GradeChange> {
        let now = self.now;
        let cohort = who.cohort;
        let care_anchor = life.care.as_ref().map(|c| c.start);
        let referral_anchor = life.referral_day.map(day_start);
        let soon_after_referral = [care_anchor, referral_anchor]
            .into_iter()
            .flatten()
            .any(|a| ep.last_seen - a < 7 * DAY && ep.last_seen >= a - DAY)
            && cohort == Cohort::TraffickedChild;
        let r: f64 = self.rng.random();
        let initial = if soon_after_referral {
            if r < 0.7 {
                RiskGrade::High
            } else {
                RiskGrade::Medium
            }
        } else if cohort == Cohort::TraffickedChild {
            if r < 0.35 {
                RiskGrade::High
            } else if r < 0.9 {
                RiskGrade::Medium
            } else {
                RiskGrade::Low
            }
        } else if child {
            if r < 0.12 {
                RiskGrade::High
            } else if r < 0.65 {
                RiskGrade::Medium
            } else if r < 0.97 {
                RiskGrade::Low
            } else {
                RiskGrade::NoApparentRisk
            }
        } else if r < 0.10 {
            RiskGrade::High
        } else if r < 0.58 {
            RiskGrade::Medium
        } else if r < 0.92 {
            RiskGrade::Low
        } else {
            RiskGrade::NoApparentRisk
        };
        let graded_at = (ep.reported + self.uniform(60, 45 * 60))
            .min(ep.found.unwrap_or(now))
            .min(now);
        let mut risk_history = vec![GradeChange {
            grade: initial,
            rationale: initial_rationale(initial, child).into(),
            at: at(graded_at),
            by: self.user("ch"),
            source: force_missing.clone(),
        }];
        let limit = ep.found.unwrap_or(now);
        if soon_after_referral && initial != RiskGrade::High {
            let t = (graded_at + self.uniform(10 * 60, 4 * HOUR))
                .min(limit)
                .max(graded_at);
            risk_history.push(GradeChange {
                grade: RiskGrade::High,
                rationale: "Referred to the NRM within the last days: risk of re-trafficking"
                    .into(),
                at: at(t),
                by: self.user("insp"),
                source: force_missing.clone(),
            });
        } else if self.p(0.25) {
            let t = graded_at + self.uniform(HOUR, 48 * HOUR);
            if t <= limit {
                let up = self.p(0.5) || initial <= RiskGrade::Low;
                let (grade, why) = if up && initial < RiskGrade::High {
                    (
                        next_grade(initial, true),
                        "Still missing; new information raises concern for welfare",
                    )
                } else {
                    (
                        next_grade(initial, false),
                        "Reviewed: in contact by phone and believed safe",
                    )
                };
                if grade != initial {
                    risk_history.push(GradeChange {
                        grade,
                        rationale: why.into(),
                        at: at(t),
                        by: self.user("ps"),
                        source: force_missing.clone(),
                    });
                }
            }
        }
        risk_history
    }

    /// A sighting while missing, sometimes.
    fn sightings(&mut self, ep: &Episode, host: usize, force_missing: &OrgCode) -> Vec<Sighting> {
        let limit = ep.found.unwrap_or(self.now);
        let mut sightings = Vec::new();
        if self.p(0.1) && limit - ep.last_seen > 3 * HOUR {
            let t = ep.last_seen + self.uniform(HOUR, limit - ep.last_seen);
            let elsewhere = self.other_authority(host);
            let place = self.place(elsewhere);
            sightings.push(Sighting {
                at: at(t),
                reported_by: place.force.clone().unwrap_or_else(|| force_missing.clone()),
                place,
                details: "Seen by a member of the public".into(),
            });
        }
        sightings
    }

    /// The return, if the person was found: where, and by whom.
    fn returned(
        &mut self,
        ep: &Episode,
        trafficked_like: bool,
        host: usize,
        placing: Option<usize>,
        force_missing: &OrgCode,
    ) -> Option<Return> {
        ep.found.map(|f| {
            let elsewhere = if trafficked_like {
                cal::P_FOUND_ELSEWHERE_TRAFFICKED
            } else {
                cal::P_FOUND_ELSEWHERE
            };
            let (place_auth, found_by) = if self.p(elsewhere) {
                let a = self.other_authority(host);
                let force = self.force_of(a).clone();
                (a, force)
            } else if placing.is_some() && self.p(0.4) {
                (host, self.la(host).clone())
            } else {
                (host, force_missing.clone())
            };
            Return {
                found_at: at(f),
                place: self.place(place_auth),
                found_by,
                outcome: ep.outcome,
            }
        })
    }

    /// The return-home interview offered to a child found alive, sometimes.
    fn return_interview(
        &mut self,
        ep: &Episode,
        returned: Option<&Return>,
        child: bool,
        trafficked_like: bool,
        placing: Option<usize>,
        home: usize,
    ) -> Option<ReturnHomeInterview> {
        let now = self.now;
        match (returned, ep.found) {
            (Some(ret), Some(f))
                if child
                    && ret.outcome != ReturnOutcome::Deceased
                    && self.p(cal::P_INTERVIEW_OFFERED) =>
            {
                let offered = if self.p(cal::P_INTERVIEW_WITHIN_72H) {
                    f + self.uniform(2 * HOUR, 72 * HOUR)
                } else {
                    f + self.uniform(72 * HOUR + 60, 10 * DAY)
                };
                (offered <= now).then(|| {
                    let accepted = self.p(cal::P_INTERVIEW_ACCEPTED);
                    let conducted = offered + self.uniform(HOUR, 48 * HOUR);
                    let done = accepted && conducted <= now;
                    let flag_p = if trafficked_like { 0.35 } else { 0.12 };
                    let disclosures = done && self.p(flag_p);
                    ReturnHomeInterview {
                        offered_at: at(offered),
                        accepted,
                        conducted_by: done.then(|| self.la(placing.unwrap_or(home)).clone()),
                        conducted_at: done.then(|| at(conducted)),
                        outcome: done.then(|| {
                            if disclosures {
                                "Disclosed contact with adults exploiting them; referral made"
                                    .to_owned()
                            } else {
                                "Discussed reasons for going missing; no new concerns".to_owned()
                            }
                        }),
                        disclosures_flagged: disclosures,
                    }
                })
            }
            _ => None,
        }
    }

    /// The person's first record: name, recorded date of birth, identifiers, description.
    /// `None` if no valid name or nationality could be drawn (the person is then left out).
    #[allow(clippy::too_many_arguments)]
    fn person_record(
        &mut self,
        who: &Identity<'_>,
        life: &Timeline,
        episodes: &[Episode],
        referrals: &[NrmReferral],
        incidents: &[Incident],
        nrm_ref: Option<&str>,
        person_id: PersonId,
    ) -> Option<FirstRecord> {
        let (ws, now) = (self.window_start, self.now);
        let (cohort, home, sex, nationality, gbr) =
            (who.cohort, who.home, who.sex, who.nationality, who.gbr);
        let (care, dob) = (&life.care, life.dob);
        let name = TrueName::draw(self.rng, who.pool, sex)?;
        let owner = match (care, cohort) {
            (Some(c), _) => self.la(c.placing).clone(),
            (None, Cohort::NrmAdult) => referrals.first().map_or_else(
                || self.force_of(home).clone(),
                |r| r.first_responder.clone(),
            ),
            _ => incidents
                .first()
                .map_or_else(|| self.force_of(home).clone(), |i| i.force_missing.clone()),
        };
        let first_contact = [
            care.as_ref().map(|c| c.start),
            life.referral_day.map(|d| day_start(d) + 9 * HOUR),
            episodes.first().map(|e| e.reported),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(life.win_start)
        .clamp(ws, now);
        let today = date_of(first_contact);
        let non_latin = !is_latin(name.given.entry.original);
        let p_original = if non_latin {
            0.55
        } else if name.has_diacritics() {
            0.35
        } else {
            0.0
        };
        let with_original = self.p(p_original);
        let rendered = name.render(with_original);
        let recorded_dob = self.recorded_dob(cohort, gbr, dob, today);
        let languages = languages(nationality, self.p(0.6));
        let mut identifiers = Vec::new();
        self.identifiers(
            &mut identifiers,
            cohort,
            nationality,
            episodes,
            nrm_ref,
            care.as_ref().map(|c| c.placing),
            date_of(first_contact),
        );
        let describe = match cohort {
            Cohort::Adult | Cohort::ChildFromHome => 0.4,
            Cohort::NrmAdult => 0.3,
            _ => 0.7,
        };
        let description = if self.p(describe) {
            self.description(sex, dob, date_of(first_contact), &owner, gbr)
        } else {
            Description::default()
        };
        let nat = Nationality::parse("nationality", nationality).ok()?;
        let primary = person_name(&rendered, false)?;
        let mut names = vec![primary];
        if cohort != Cohort::Adult
            && self.p(0.05)
            && let Some(alias) = name.given.respelt(self.rng)
        {
            let mut alt = name.clone();
            alt.given = alias;
            if let Some(n) = person_name(&alt.render(false), false) {
                names.push(PersonName {
                    kind: NameKind::Alias,
                    ..n
                });
            }
        }
        let person = Person {
            id: person_id,
            owning_org: owner,
            names,
            dob: recorded_dob,
            sex,
            nationalities: vec![nat],
            languages,
            identifiers,
            description,
            created_at: at(first_contact),
            updated_at: at(first_contact),
        };
        Some(FirstRecord {
            person,
            name,
            with_original,
            first_contact,
        })
    }

    /// Deliberate duplicate records of the person, sometimes, each owned by another
    /// organisation and sometimes taking a tail of the incidents. Returns the duplicates and,
    /// per incident, which record it belongs to (0: the first record, k: the k-th duplicate).
    fn duplicates(
        &mut self,
        first: &FirstRecord,
        dob: NaiveDate,
        incidents: &[Incident],
    ) -> (Vec<(Person, Vec<Variation>)>, Vec<usize>) {
        let g = self.g;
        let mut records: Vec<(Person, Vec<Variation>)> = Vec::new();
        let mut incident_owner: Vec<usize> = vec![0; incidents.len()];
        if self.p(g.config.duplicate_share) {
            let copies = 1 + usize::from(self.p(g.config.third_record_share));
            let mut taken_from = 1usize.min(incidents.len());
            let mut owners = vec![first.person.owning_org.clone()];
            for copy in 0..copies {
                let record_id = PersonId(self.ids.next_uuid());
                // Take a tail of the remaining incidents for this record, sometimes.
                let remaining = incidents.len().saturating_sub(taken_from);
                let mut dup_owner: Option<OrgCode> = None;
                if remaining > 0 && self.p(0.6) {
                    let start = taken_from + self.rng.random_range(0..remaining);
                    let end = if copy + 1 < copies {
                        start + 1 + self.rng.random_range(0..incidents.len() - start)
                    } else {
                        incidents.len()
                    };
                    for o in incident_owner.iter_mut().take(end).skip(start) {
                        *o = copy + 1;
                    }
                    taken_from = end;
                    let f = incidents[start].force_missing.clone();
                    if !owners.contains(&f) {
                        dup_owner = Some(f);
                    }
                }
                let dup_owner = match dup_owner {
                    Some(o) => o,
                    None => loop {
                        let f = g
                            .force_table
                            .pick(self.rng)
                            .map_or_else(|| g.nmpu.clone(), |&i| g.forces[i].code.clone());
                        if !owners.contains(&f) {
                            break f;
                        }
                    },
                };
                owners.push(dup_owner.clone());
                let (person, vars) = self.duplicate(
                    &first.person,
                    &first.name,
                    first.with_original,
                    dob,
                    record_id,
                    dup_owner,
                );
                records.push((person, vars));
            }
        }
        (records, incident_owner)
    }

    /// Moves each incident taken by a duplicate record to that record (and its owner).
    fn assign_incidents(
        &self,
        all: &mut [(Person, Vec<Variation>)],
        incidents: &mut [Incident],
        incident_owner: &[usize],
    ) {
        for (inc, &r) in incidents.iter_mut().zip(incident_owner) {
            if r > 0 {
                let (p, _) = &all[r];
                inc.person_id = p.id;
                if inc.category == IncidentCategory::Missing {
                    let prev = std::mem::replace(&mut inc.owning_org, p.owning_org.clone());
                    if !inc.involved.contains(&prev) {
                        inc.involved.push(prev);
                    }
                }
                if !inc.involved.contains(&p.owning_org) {
                    inc.involved.push(p.owning_org.clone());
                }
            }
        }
    }

    /// Dates each record: created at its first incident (or first contact), updated at the
    /// latest change to it or its incidents (and, for the first record, its placements).
    fn date_records(
        &mut self,
        all: &mut [(Person, Vec<Variation>)],
        incidents: &[Incident],
        incident_owner: &[usize],
        placements: &[Placement],
        first_contact: i64,
    ) {
        let now = self.now;
        for (r, (p, _)) in all.iter_mut().enumerate() {
            let mine = incidents
                .iter()
                .zip(incident_owner)
                .filter(|(_, o)| **o == r)
                .map(|(i, _)| i);
            let mut first: Option<i64> = None;
            let mut last = 0i64;
            for i in mine {
                first = Some(first.map_or(i.reported_at.timestamp(), |f: i64| {
                    f.min(i.reported_at.timestamp())
                }));
                last = last.max(latest_stamp(i));
            }
            let created = if r == 0 {
                first_contact.min(first.unwrap_or(first_contact))
            } else {
                first.unwrap_or_else(|| {
                    let lo = first_contact;
                    lo + (self.rng.random::<f64>() * (now - lo) as f64) as i64
                })
            };
            let mut updated = created.max(last);
            if r == 0 {
                for pl in placements {
                    updated = updated.max(pl.started_at.timestamp());
                    if let Some(e) = pl.ended_at {
                        updated = updated.max(e.timestamp());
                    }
                }
            }
            p.created_at = at(created);
            p.updated_at = at(updated.min(now).max(created));
        }
    }

    /// Appends the person's records and their truth to `out`.
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &self,
        out: &mut Generated,
        who: &Identity<'_>,
        life: &Timeline,
        all: Vec<(Person, Vec<Variation>)>,
        incidents: Vec<Incident>,
        referrals: Vec<NrmReferral>,
        placements: Vec<Placement>,
    ) {
        let first_id = all[0].0.id;
        out.people.push(TruthPerson {
            key: self.key,
            cohort: who.cohort,
            sex: who.sex,
            dob: life.dob,
            nationality: who.nationality,
            records: all.iter().map(|(p, _)| p.id).collect(),
            entered_care_at: life.care.as_ref().map(|c| at(c.start)),
            referred_on: life.referral_day,
        });
        for (k, (p, vars)) in all.into_iter().enumerate() {
            out.truth.push((p.id, self.key));
            if k > 0 {
                out.duplicates.push(DuplicateRecord {
                    record: p.id,
                    of: first_id,
                    key: self.key,
                    variations: vars,
                });
            }
            out.persons.push(p);
        }
        out.incidents.extend(incidents);
        out.referrals.extend(referrals);
        out.placements.extend(placements);
    }

    fn exploitation(
        &mut self,
        cohort: Cohort,
        nationality: &str,
        sex: Sex,
    ) -> Vec<ExploitationType> {
        use ExploitationType as E;
        let child = cohort == Cohort::TraffickedChild;
        let main = match (nationality, sex) {
            ("GBR", _) if child => E::Criminal,
            ("VNM", _) => {
                if self.p(0.6) {
                    E::Criminal
                } else {
                    E::Labour
                }
            }
            ("ALB", Sex::Female) => E::Sexual,
            (_, Sex::Female) => {
                if self.p(0.5) {
                    E::Sexual
                } else {
                    E::DomesticServitude
                }
            }
            _ => {
                if self.p(0.5) {
                    E::Labour
                } else if child {
                    E::Criminal
                } else {
                    E::Unknown
                }
            }
        };
        let mut v = vec![main];
        if self.p(0.15) && main != E::Labour && main != E::Unknown {
            v.push(E::Labour);
        }
        v
    }

    fn recorded_dob(
        &mut self,
        cohort: Cohort,
        gbr: bool,
        dob: NaiveDate,
        today: NaiveDate,
    ) -> Option<DateOfBirth> {
        let asylum = matches!(cohort, Cohort::Unaccompanied | Cohort::TraffickedChild) && !gbr;
        let r: f64 = self.rng.random();
        if asylum {
            if r < 0.40 {
                Some(DateOfBirth::Exact { date: dob })
            } else if r < 0.75 {
                let lo = dob - chrono::Days::new(self.rng.random_range(120..500));
                let hi = (dob + chrono::Days::new(self.rng.random_range(120..500))).min(today);
                Some(DateOfBirth::AgeAssessed {
                    earliest: lo,
                    latest: hi.max(dob),
                    assessed_on: Some(today),
                })
            } else {
                // Claimed date; the assessment believes them 1–3 years older.
                let older = chrono::Days::new(self.rng.random_range(365..1100));
                let mid = dob - older;
                let half = chrono::Days::new(self.rng.random_range(120..400));
                Some(DateOfBirth::Disputed {
                    claimed: dob,
                    assessed_earliest: mid - half,
                    assessed_latest: (mid + half).min(today),
                })
            }
        } else if gbr {
            if r < 0.95 || cohort != Cohort::Adult {
                Some(DateOfBirth::Exact { date: dob })
            } else {
                Some(DateOfBirth::Approximate {
                    year: dob.year(),
                    month: None,
                })
            }
        } else if r < 0.7 {
            Some(DateOfBirth::Exact { date: dob })
        } else if r < 0.9 {
            Some(DateOfBirth::Approximate {
                year: dob.year(),
                month: self.p(0.3).then(|| dob.month()),
            })
        } else {
            None
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn identifiers(
        &mut self,
        out: &mut Vec<Identifier>,
        cohort: Cohort,
        nationality: &str,
        episodes: &[Episode],
        nrm_ref: Option<&str>,
        placing: Option<usize>,
        first_day: NaiveDate,
    ) {
        let mut push = |kind: IdentifierKind, value: String| {
            if let Ok(id) = Identifier::parse("identifier", kind, &value)
                && !out.contains(&id)
            {
                out.push(id);
            }
        };
        let p_pnc = match cohort {
            Cohort::Adult => 0.35,
            Cohort::TraffickedChild => 0.4,
            Cohort::NrmAdult => 0.3,
            Cohort::ChildFromHome => 0.12,
            _ => 0.1,
        };
        if !episodes.is_empty() && self.rng.random_bool(p_pnc) {
            let year = self.rng.random_range(2000..=first_day.year().max(2000)) as u32;
            let serial = self.rng.random_range(1..10_000_000);
            let c = Identifier::pnc_check_letter(year, serial);
            push(
                IdentifierKind::Pnc,
                format!("{:02}/{serial:07}{c}", year % 100),
            );
        }
        if let Some(r) = nrm_ref {
            push(IdentifierKind::Nrm, r.to_owned());
        }
        if let Some(la) = placing {
            let n = self.rng.random_range(0..10_000_000);
            push(
                IdentifierKind::LaChild,
                format!("{}/C{n:07}", self.g.authorities[la].code),
            );
        }
        let asylum = nationality != "GBR"
            && matches!(
                cohort,
                Cohort::Unaccompanied | Cohort::TraffickedChild | Cohort::NrmAdult
            );
        if asylum || (nationality != "GBR" && self.rng.random_bool(0.3)) {
            let letter = char::from(b'A' + self.rng.random_range(0..26u8));
            let n = self.rng.random_range(0..10_000_000);
            push(IdentifierKind::HomeOffice, format!("{letter}{n:07}"));
        }
        let p_passport = match (cohort, nationality) {
            (Cohort::Adult, "GBR") => 0.15,
            (Cohort::Adult | Cohort::NrmAdult, _) => 0.3,
            (_, "GBR") => 0.02,
            _ => 0.12,
        };
        if self.rng.random_bool(p_passport) {
            let number = if nationality == "GBR" {
                format!(
                    "{:09}",
                    self.rng.random_range(100_000_000..1_000_000_000u32)
                )
            } else {
                let letter = char::from(b'A' + self.rng.random_range(0..26u8));
                format!("{letter}{:07}", self.rng.random_range(0..10_000_000))
            };
            push(IdentifierKind::Passport, format!("{nationality}:{number}"));
        }
    }

    fn description(
        &mut self,
        sex: Sex,
        dob: NaiveDate,
        on: NaiveDate,
        owner: &OrgCode,
        gbr: bool,
    ) -> Description {
        let age = years_between(dob, on).clamp(5, 90) as f64;
        let male = sex == Sex::Male;
        let adult_mean = if male { 176.0 } else { 163.0 };
        let mean = if age >= 18.0 {
            adult_mean
        } else {
            // Rough growth from 110 cm at 5 to the adult mean at 18.
            110.0 + (adult_mean - 110.0) * ((age - 5.0) / 13.0)
        };
        let h = (mean + 7.0 * crate::sampling::normal(self.rng)).clamp(100.0, 210.0) as u16;
        let spread = self.rng.random_range(0..6u16);
        let height_cm = Some((h - spread, h + spread));
        let build = Some(match self.rng.random_range(0..3) {
            0 => Build::Slim,
            1 => Build::Medium,
            _ => Build::Heavy,
        });
        let hair = Some(
            if gbr {
                self.pick_str(&[
                    "brown",
                    "dark brown",
                    "blonde",
                    "black",
                    "red",
                    "light brown",
                ])
            } else {
                self.pick_str(&["black", "dark brown", "black, short"])
            }
            .to_owned(),
        );
        let eyes = Some(
            if gbr {
                self.pick_str(&["brown", "blue", "green", "hazel"])
            } else {
                self.pick_str(&["brown", "dark brown"])
            }
            .to_owned(),
        );
        let mut marks = Vec::new();
        for _ in 0..crate::sampling::geometric(self.rng, 0.5).min(3) {
            let (kind, description) = match self.rng.random_range(0..5) {
                0 => (MarkKind::Scar, "old scar"),
                1 => (
                    MarkKind::Tattoo,
                    self.pick_str(&["rose", "name in script", "star", "cross"]),
                ),
                2 => (MarkKind::Birthmark, "brown birthmark"),
                3 => (MarkKind::Piercing, "stud"),
                _ => (MarkKind::Other, "burn mark"),
            };
            let location = self.pick_str(&[
                "left forearm",
                "right forearm",
                "left hand",
                "neck",
                "face, left cheek",
                "right eyebrow",
                "back",
            ]);
            marks.push(Mark {
                kind,
                location: location.into(),
                description: description.into(),
            });
        }
        let photos = if self.p(0.3) {
            vec![PhotoMeta {
                taken_on: Some(on),
                held_by: owner.clone(),
                reference: format!("PH-{:06}", self.rng.random_range(0..1_000_000)),
            }]
        } else {
            Vec::new()
        };
        Description {
            height_cm,
            build,
            hair,
            eyes,
            marks,
            photos,
        }
    }

    fn duplicate(
        &mut self,
        base: &Person,
        name: &TrueName,
        with_original: bool,
        dob: NaiveDate,
        id: PersonId,
        owner: OrgCode,
    ) -> (Person, Vec<Variation>) {
        let budget = if self.p(0.1) { 3 } else { 2 };
        let wanted = 1 + usize::from(self.p(0.45)) + usize::from(self.p(0.1));
        let mut fields: Vec<RecordField> = Vec::new();
        let mut vars = Vec::new();
        // Decide which kinds to try: name variations are commonest.
        let mut name_wanted = 0;
        let mut try_dob = false;
        let mut try_nat = false;
        for _ in 0..wanted {
            let r: f64 = self.rng.random();
            if r < 0.6 {
                name_wanted += 1;
            } else if r < 0.88 {
                try_dob = true;
            } else {
                try_nat = true;
            }
        }
        let keep_original = with_original && self.p(0.7);
        let (rendered, name_vars) = variation::vary_name(
            self.rng,
            name,
            keep_original,
            name_wanted,
            &mut fields,
            budget,
        );
        vars.extend(name_vars);
        let mut dob_out = base.dob.clone();
        if try_dob {
            let today = base.created_at.date_naive();
            let (d, v) =
                variation::vary_dob(self.rng, base.dob.as_ref(), dob, today, &mut fields, budget);
            dob_out = d;
            vars.extend(v);
        }
        let mut nationalities = base.nationalities.clone();
        if try_nat && let Some(v) = variation::vary_nationality(&mut fields, budget) {
            nationalities.clear();
            vars.push(v);
        }
        let mut rendered = rendered;
        if vars.is_empty() {
            // Always differ somehow: try every name variation, then the date of birth, then
            // the nationality.
            let (r2, v2) =
                variation::vary_name(self.rng, name, keep_original, 4, &mut fields, budget);
            if v2.is_empty() {
                let today = base.created_at.date_naive();
                let (d, v) = variation::vary_dob(
                    self.rng,
                    base.dob.as_ref(),
                    dob,
                    today,
                    &mut fields,
                    budget,
                );
                if v.is_some() {
                    dob_out = d;
                    vars.extend(v);
                } else if !nationalities.is_empty()
                    && let Some(v) = variation::vary_nationality(&mut fields, budget)
                {
                    nationalities.clear();
                    vars.push(v);
                }
            } else {
                rendered = r2;
                vars.extend(v2);
            }
        }
        self.dup_person(base, rendered, dob_out, nationalities, id, owner, vars)
    }

    #[allow(clippy::too_many_arguments)]
    fn dup_person(
        &mut self,
        base: &Person,
        rendered: RenderedName,
        dob: Option<DateOfBirth>,
        nationalities: Vec<Nationality>,
        id: PersonId,
        owner: OrgCode,
        mut vars: Vec<Variation>,
    ) -> (Person, Vec<Variation>) {
        let order_unknown = vars.iter().any(|v| {
            matches!(
                v,
                Variation::GivenFamilySwapped | Variation::VietnameseOrderFlipped
            )
        }) && self.p(0.3);
        let names = person_name(&rendered, order_unknown)
            .or_else(|| base.names.first().cloned())
            .into_iter()
            .collect();
        let identifiers: Vec<Identifier> = base
            .identifiers
            .iter()
            .filter(|i| {
                // Police records share the PNC id; other identifiers rarely travel.
                let p = if i.kind() == IdentifierKind::Pnc && owner.as_str().starts_with("force:") {
                    0.5
                } else {
                    0.15
                };
                self.rng.random_bool(p)
            })
            .cloned()
            .collect();
        if identifiers.len() < base.identifiers.len() {
            vars.push(Variation::IdentifiersOmitted);
        }
        let description = if self.p(0.5) {
            let mut d = base.description.clone();
            d.photos.clear();
            d
        } else {
            Description::default()
        };
        (
            Person {
                id,
                owning_org: owner,
                names,
                dob,
                sex: base.sex,
                nationalities,
                languages: base.languages.clone(),
                identifiers,
                description,
                created_at: base.created_at,
                updated_at: base.updated_at,
            },
            vars,
        )
    }
}

fn person_name(r: &RenderedName, order_unknown: bool) -> Option<PersonName> {
    PersonName::parse(
        NameKind::Primary,
        &r.given,
        &r.family,
        r.original.as_deref(),
        order_unknown,
    )
    .ok()
}

fn latest_stamp(i: &Incident) -> i64 {
    let mut t = i.reported_at.timestamp();
    for g in &i.risk_history {
        t = t.max(g.at.timestamp());
    }
    if let Some(r) = &i.returned {
        t = t.max(r.found_at.timestamp());
    }
    if let Some(rhi) = &i.return_interview {
        t = t.max(rhi.offered_at.timestamp());
        if let Some(c) = rhi.conducted_at {
            t = t.max(c.timestamp());
        }
    }
    t
}

fn initial_rationale(grade: RiskGrade, child: bool) -> &'static str {
    match (grade, child) {
        (RiskGrade::High, true) => "Child at risk of exploitation; immediate threat to welfare",
        (RiskGrade::High, false) => "Vulnerable; immediate risk of serious harm",
        (RiskGrade::Medium, true) => "Child; out of character and at risk of harm",
        (RiskGrade::Medium, false) => "Risk of harm to self; concern for welfare",
        (RiskGrade::Low, _) => "No specific threat identified; to be monitored",
        (RiskGrade::NoApparentRisk, _) => "No apparent risk; whereabouts likely known",
    }
}

fn next_grade(g: RiskGrade, up: bool) -> RiskGrade {
    use RiskGrade as R;
    match (g, up) {
        (R::NoApparentRisk, true) => R::Low,
        (R::Low, true) => R::Medium,
        (R::Medium | R::High, true) => R::High,
        (R::High, false) => R::Medium,
        (R::Medium, false) => R::Low,
        (R::Low | R::NoApparentRisk, false) => R::NoApparentRisk,
    }
}

fn languages(nationality: &str, with_english: bool) -> Vec<Language> {
    let codes: &[&str] = match nationality {
        "GBR" => &["en"],
        "VNM" => &["vi"],
        "ALB" => &["sq"],
        "ERI" => &["ti"],
        "SDN" => &["ar"],
        "AFG" => &["ps", "fa"],
        "IRQ" => &["ar", "ku"],
        "IRN" => &["fa"],
        "SYR" => &["ar"],
        _ => &[],
    };
    let mut out: Vec<Language> = codes
        .iter()
        .take(if nationality == "IRQ" || nationality == "AFG" {
            1
        } else {
            2
        })
        .filter_map(|c| Language::parse("language", c).ok())
        .collect();
    if with_english
        && nationality != "GBR"
        && let Ok(en) = Language::parse("language", "en")
    {
        out.push(en);
    }
    out
}
