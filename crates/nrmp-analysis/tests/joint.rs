//! Tables published together are protected together: over a synthetic register, rows that
//! count the same persons over the same time (a cohort's row of the table by cohort, the total
//! of that cohort's tables by sex and age band, the proportion-trafficked rows) get one status
//! in every table; no published count is small; and a researcher's table is the same whichever
//! member of its family was asked for first.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use chrono::{NaiveDate, NaiveTime};
use nrmp_analysis::missing::By;
use nrmp_analysis::publish::{period_family, publish, publish_for_researcher, publish_jointly};
use nrmp_analysis::request::{MissingRequest, Period, StatsRequest, TraffickedRequest};
use nrmp_analysis::snapshot::{Cohort, ts_of_date};
use nrmp_analysis::{Report, Snapshot, SnapshotBuilder};
use nrmp_stats::disclosure::SuppressionRule;
use nrmp_stats::table::Row;
use nrmp_synth::{Config, Generator};

fn snapshot() -> Snapshot {
    let until = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let g = Generator::new(Config::new(
        5,
        2_500,
        until.and_time(NaiveTime::MIN).and_utc(),
    ))
    .unwrap();
    let mut b = SnapshotBuilder::new();
    for chunk in g.chunks(500) {
        chunk.persons.iter().for_each(|p| b.person(p));
        chunk.incidents.iter().for_each(|i| b.incident(i));
        chunk.referrals.iter().for_each(|r| b.referral(r));
        chunk.placements.iter().for_each(|p| b.placement(p));
    }
    b.finish(ts_of_date(until))
}

fn row<'a>(r: &'a Report, label: &str) -> &'a Row {
    r.tables[0]
        .rows
        .iter()
        .find(|x| x.label == label)
        .unwrap_or_else(|| panic!("no row {label} in {}", r.title))
}

/// Which figures of a row are suppressed.
fn pattern(r: &Row) -> Vec<(bool, bool)> {
    r.cells
        .iter()
        .map(|c| (c.suppressed, c.denominator_suppressed))
        .collect()
}

#[test]
fn a_period_family_is_one_plan() {
    let s = snapshot();
    // A wide rule so that plenty is suppressed.
    let rule = SuppressionRule::new(1, 12).unwrap();
    let period = Period {
        from: NaiveDate::from_ymd_opt(2021, 1, 1),
        to: NaiveDate::from_ymd_opt(2023, 12, 31),
    };
    let family = period_family(period, rule);
    let reports = publish_jointly(&s, &family, None).unwrap();
    assert_eq!(reports.len(), family.len());
    let by_cohort = &reports[0];
    let trafficked = &reports[1];
    for (req, rep) in family.iter().zip(&reports).skip(2) {
        let StatsRequest::Missing(m) = req else {
            unreachable!()
        };
        // Each cohort's total is that cohort's row of the table by cohort.
        let total = row(rep, "Total");
        let same = row(by_cohort, m.cohort.label());
        assert_eq!(pattern(total), pattern(same), "{}", rep.title);
        assert_eq!(total.cells[0].count, same.cells[0].count);
        for t in &rep.tables {
            for r in &t.rows {
                for c in &r.cells {
                    for v in [c.count, c.denominator].into_iter().flatten() {
                        assert!(!rule.is_primary(v), "{} {}: {v}", t.title, r.label);
                    }
                }
            }
        }
    }
    for (label, cohort) in [
        ("NRM-referred children", Cohort::NrmChildren),
        ("Unaccompanied children", Cohort::Unaccompanied),
        ("All looked-after children", Cohort::LookedAfter),
    ] {
        assert_eq!(
            pattern(row(trafficked, label)),
            pattern(row(by_cohort, cohort.label())),
            "{label}"
        );
    }
    // Something was suppressed, or the test proves little.
    assert!(
        reports
            .iter()
            .flat_map(|r| &r.tables[0].rows)
            .any(|r| r.cells.iter().any(|c| c.suppressed))
    );

    // A researcher gets the family's plan, whichever member is asked for.
    for (i, req) in family.iter().enumerate().take(6) {
        let one = publish_for_researcher(&s, req, rule, None).unwrap();
        assert_eq!(one, reports[i], "{}", one.title);
    }
    // Another rule than the register's, or a weaker one, is refused.
    let weak = StatsRequest::Missing(MissingRequest {
        by: By::Sex,
        cohort: Cohort::Children,
        period,
        suppression: SuppressionRule::new(3, 5).unwrap(),
    });
    assert!(publish_for_researcher(&s, &weak, rule, None).is_err());
    let other = StatsRequest::ProportionTrafficked(TraffickedRequest {
        period,
        suppression: SuppressionRule::default(),
    });
    let e = publish_for_researcher(&s, &other, rule, None).unwrap_err();
    assert!(e.to_string().starts_with("suppression: "), "{e}");
    // A table published alone keeps its own plan (the CLI's single commands).
    assert!(publish(&s, &family[2], None).is_ok());
}
