//! Time to first missing episode after an NRM referral or after coming into care: the
//! survival subjects (start, duration, event, censoring) and their covariates.
//!
//! * **From referral**: start at 00:00 UTC on the person's first NRM referral date. The event
//!   is the first incident last seen at or after the start. Follow-up is censored at the end of
//!   data and, for persons referred as children, at their 18th birthday (after which any
//!   missing episode is an adult's).
//! * **From care**: start at the first placement that began before the 18th birthday. The
//!   event is the first incident at or after the start. Follow-up is censored at the end of the
//!   care episode (placements that follow on within a day are one episode), the 18th birthday,
//!   or the end of data, whichever is first.
//!
//! Durations are in days (fractional).

use crate::snapshot::{DAY, Snapshot, Ts, age_band, date_of_ts};
use chrono::Datelike;
use nrmp_domain::placement::PlacementType;

/// Where follow-up starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// First NRM referral.
    Referral,
    /// First placement as a child.
    Care,
}

/// How subjects are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Grouping {
    /// One group.
    None,
    /// From referral: child / adult at referral. From care: NRM-referred by the start of care /
    /// unaccompanied (not referred) / other looked-after children.
    Cohort,
    /// Sex.
    Sex,
    /// Age band at the start.
    AgeBand,
    /// Type of the first placement (from care only).
    PlacementType,
}

/// One person's follow-up.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// Dense person index.
    pub person: u32,
    /// Start of follow-up.
    pub start: Ts,
    /// Days to the event or to censoring.
    pub days: f64,
    /// Whether the person went missing (else censored).
    pub event: bool,
    /// Group label.
    pub group: &'static str,
    /// Age in years at the start (`None` if unknown).
    pub age: Option<i32>,
    /// Nationality index.
    pub nationality: u32,
    /// First placement type (from care).
    pub placement_type: Option<PlacementType>,
    /// First placement unaccompanied (from care).
    pub unaccompanied: bool,
    /// NRM-referred as a child by the start.
    pub nrm: bool,
    /// Placing authority (index into orgs).
    pub authority: Option<u32>,
    /// Calendar year of the start.
    pub year: i32,
}

/// The subjects whose follow-up starts in `[from, to)`.
pub fn subjects(
    s: &Snapshot,
    origin: Origin,
    grouping: Grouping,
    from: Ts,
    to: Ts,
) -> Vec<Subject> {
    let mut out = Vec::new();
    for k in 0..s.len() {
        let d = &s.derived[k];
        let (start, mut censor) = match origin {
            Origin::Referral => {
                let Some(r) = d.first_referral else { continue };
                let child = d.adult_at.is_some_and(|a| r < a);
                let c = if child {
                    d.adult_at.unwrap_or(Ts::MAX)
                } else {
                    Ts::MAX
                };
                (r, c)
            }
            Origin::Care => {
                let Some(c) = d.care_at else { continue };
                let mut cens = d.adult_at.unwrap_or(Ts::MAX);
                if let Some(e) = d.care_end {
                    cens = cens.min(e);
                }
                (c, cens)
            }
        };
        if start < from || start >= to {
            continue;
        }
        censor = censor.min(s.end_of_data);
        if censor < start {
            continue;
        }
        let incs = s.incidents_of(k);
        let a = incs.partition_point(|i| i.start < start);
        let first = incs.get(a).map(|i| i.start).filter(|t| *t < censor);
        let (end, event) = match first {
            Some(t) => (t, true),
            None => (censor, false),
        };
        let age = s.age_at(k, start);
        let nrm = d.nrm_child_at.is_some_and(|r| r <= start);
        let unaccompanied = d.unaccompanied_at.is_some_and(|u| u <= start);
        let group = match grouping {
            Grouping::None => "All",
            Grouping::Cohort => match origin {
                Origin::Referral => match age {
                    Some(a) if a < 18 => "Referred as a child",
                    Some(_) => "Referred as an adult",
                    None => "Age unknown",
                },
                Origin::Care => {
                    if nrm {
                        "NRM-referred children"
                    } else if unaccompanied {
                        "Unaccompanied (not NRM-referred)"
                    } else {
                        "Other looked-after children"
                    }
                }
            },
            Grouping::Sex => s.persons[k].sex.code(),
            Grouping::AgeBand => age_band(age),
            Grouping::PlacementType => d
                .first_placement_type
                .map_or("no placement", PlacementType::as_str),
        };
        out.push(Subject {
            person: k as u32,
            start,
            days: (end - start) as f64 / DAY as f64,
            event,
            group,
            age,
            nationality: s.persons[k].nationality,
            placement_type: d.first_placement_type,
            unaccompanied,
            nrm,
            authority: d.authority,
            year: date_of_ts(start).year(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::testdata::*;
    use crate::snapshot::{SnapshotBuilder, ts_of_date};
    use chrono::NaiveDate;
    use nrmp_domain::person::Sex;

    #[test]
    fn durations_events_and_censoring() {
        let mut b = SnapshotBuilder::new();
        // Referred 2024-01-10 as a child, missing 36 h later.
        b.person(&person(1, Some((2010, 1, 1)), Sex::Female, "VNM"));
        b.referral(&referral(20, 1, (2024, 1, 10)));
        b.incident(&incident(100, 1, at(2024, 1, 11, 12), None, "force:a"));
        // Referred as a child who turns 18 before going missing: censored at 18.
        b.person(&person(2, Some((2006, 3, 1)), Sex::Male, "ALB"));
        b.referral(&referral(21, 2, (2024, 1, 1)));
        b.incident(&incident(101, 2, at(2024, 6, 1, 0), None, "force:a"));
        // Care from 2024-02-01, placement ended 2024-02-11, missing after: censored at 10 days.
        b.person(&person(3, Some((2012, 1, 1)), Sex::Male, "GBR"));
        b.placement(&placement(
            30,
            3,
            at(2024, 2, 1, 0),
            Some(at(2024, 2, 11, 0)),
            "la:a",
            true,
        ));
        b.incident(&incident(102, 3, at(2024, 3, 1, 0), None, "force:a"));
        // Incident before the start is not an event.
        b.person(&person(4, Some((2012, 1, 1)), Sex::Female, "GBR"));
        b.incident(&incident(
            103,
            4,
            at(2023, 3, 1, 0),
            Some(at(2023, 3, 2, 0)),
            "force:a",
        ));
        b.placement(&placement(31, 4, at(2024, 1, 1, 0), None, "la:a", false));
        let s = b.finish(ts_of_date(NaiveDate::from_ymd_opt(2025, 1, 1).expect("d")));
        let r = subjects(&s, Origin::Referral, Grouping::Cohort, Ts::MIN, Ts::MAX);
        assert_eq!(r.len(), 2);
        assert!(r[0].event && (r[0].days - 1.5).abs() < 1e-12);
        assert_eq!(r[0].group, "Referred as a child");
        assert!(!r[1].event);
        let to18 = (ts_of_date(NaiveDate::from_ymd_opt(2024, 3, 1).expect("d")) - r[1].start)
            as f64
            / 86400.0;
        assert!((r[1].days - to18).abs() < 1e-12);
        let c = subjects(&s, Origin::Care, Grouping::Cohort, Ts::MIN, Ts::MAX);
        assert_eq!(c.len(), 2);
        assert!(!c[0].event && (c[0].days - 10.0).abs() < 1e-12);
        assert_eq!(c[0].group, "Unaccompanied (not NRM-referred)");
        assert!(!c[1].event);
        assert_eq!(c[1].group, "Other looked-after children");
        let none = subjects(
            &s,
            Origin::Care,
            Grouping::None,
            Ts::MIN,
            at(2024, 1, 15, 0).timestamp(),
        );
        assert_eq!(none.len(), 1);
    }
}
