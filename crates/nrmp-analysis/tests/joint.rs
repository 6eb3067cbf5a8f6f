//! Tables published together are protected together: over a synthetic register, rows that
//! count the same persons over the same time (a cohort's row of the table by cohort, the total
//! of that cohort's tables by sex and age band, the proportion-trafficked rows) get one status
//! in every table; no published count is small; and what a researcher sees is cut from fixed
//! yearly plans, whatever was asked for first, with periods other than whole completed years
//! refused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use chrono::{NaiveDate, NaiveTime};
use nrmp_analysis::missing::By;
use nrmp_analysis::publish::{period_family, publish, publish_jointly};
use nrmp_analysis::request::{
    MissingRequest, Period, SpendModelRequest, StatsRequest, TimeToMissingRequest, TrendRequest,
};
use nrmp_analysis::snapshot::{Cohort, ts_of_date};
use nrmp_analysis::spend::SpendTable;
use nrmp_analysis::{AnalysisError, Report, ResearcherView, Snapshot, SnapshotBuilder};
use nrmp_stats::disclosure::SuppressionRule;
use nrmp_stats::table::Row;
use nrmp_synth::{Config, Generator};
use std::sync::Arc;

fn generator() -> Generator {
    let until = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    Generator::new(Config::new(
        5,
        2_500,
        until.and_time(NaiveTime::MIN).and_utc(),
    ))
    .unwrap()
}

fn snapshot() -> Snapshot {
    let until = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let g = generator();
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

    // A table published alone keeps its own plan (the CLI's single commands).
    assert!(publish(&s, &family[2], None).is_ok());
}

fn missing(by: By, cohort: Cohort, period: Period, rule: SuppressionRule) -> StatsRequest {
    StatsRequest::Missing(MissingRequest {
        by,
        cohort,
        period,
        suppression: rule,
    })
}

#[test]
fn a_researcher_sees_fixed_yearly_plans() {
    let s = Arc::new(snapshot());
    let rule = SuppressionRule::new(1, 12).unwrap();
    let y2023 = ResearcherView::year(2023);
    let family = period_family(y2023, rule);
    let reports = publish_jointly(&s, &family, None).unwrap();

    // Whichever member is asked for first, each is the year's jointly published table.
    for order in [vec![0, 1, 2, 7, 25], vec![25, 7, 2, 1, 0]] {
        let view = ResearcherView::new(s.clone(), rule);
        for i in order {
            assert_eq!(view.publish(&family[i]).unwrap(), reports[i], "member {i}");
        }
    }
    let view = ResearcherView::new(s.clone(), rule);
    view.plan_every_year().unwrap(); // what the server does after a load: the same plans
    assert_eq!(view.publish(&family[7]).unwrap(), reports[7]);
    // The table by cohort is one table, whatever cohort the request names.
    assert_eq!(
        view.publish(&missing(By::Cohort, Cohort::Adults, y2023, rule))
            .unwrap(),
        reports[0]
    );

    // A trend's rows (and a table by year's) are the cohort's rows of each year's table by
    // cohort: same counts, same suppression, so they cannot be differenced against them.
    let years = Period {
        from: NaiveDate::from_ymd_opt(2019, 1, 1),
        to: NaiveDate::from_ymd_opt(2025, 12, 31),
    };
    let mut suppressed = 0;
    for cohort in [
        Cohort::NrmChildren,
        Cohort::Unaccompanied,
        Cohort::LookedAfter,
    ] {
        let trend = view
            .publish(&StatsRequest::Trend(TrendRequest {
                cohort,
                period: years,
                suppression: rule,
                chart: false,
            }))
            .unwrap();
        let by_year = view
            .publish(&missing(By::Year, cohort, years, rule))
            .unwrap();
        assert_eq!(trend.tables[0].rows, by_year.tables[0].rows);
        assert_eq!(trend.tables[0].rows.len(), 7, "{}", trend.title);
        for r in &trend.tables[0].rows {
            let year: i32 = r.label.parse().unwrap();
            let that_year = view
                .publish(&missing(
                    By::Cohort,
                    Cohort::All,
                    ResearcherView::year(year),
                    rule,
                ))
                .unwrap();
            let same = row(&that_year, cohort.label());
            assert_eq!(pattern(r), pattern(same), "{year} {}", cohort.label());
            assert_eq!(r.cells[0].count, same.cells[0].count);
            suppressed += r.cells.iter().filter(|c| c.suppressed).count();
        }
    }
    assert!(suppressed > 0, "nothing suppressed: the test proves little");
}

#[test]
fn a_researcher_may_only_ask_for_whole_completed_years() {
    let s = Arc::new(snapshot()); // data end on 2026-11-01
    let rule = SuppressionRule::default();
    let view = ResearcherView::new(s, rule);
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
    let field = |req: StatsRequest| match view.publish(&req).unwrap_err() {
        AnalysisError::InvalidRequest { field, problem } => format!("{field}: {problem}"),
        e => panic!("{e}"),
    };
    let by_sex = |from, to| {
        missing(
            By::Sex,
            Cohort::Children,
            Period { from, to },
            SuppressionRule::default(),
        )
    };
    // Two periods a day apart would give the persons missing on that day by differencing.
    let e = field(by_sex(d(2023, 1, 2), d(2023, 12, 31)));
    assert!(
        e.starts_with("period.from: ") && e.contains("2023-01-02"),
        "{e}"
    );
    let e = field(by_sex(d(2023, 1, 1), d(2023, 12, 30)));
    assert!(e.starts_with("period.to: "), "{e}");
    assert!(field(by_sex(None, d(2023, 12, 31))).starts_with("period.from: "));
    assert!(field(by_sex(d(2023, 1, 1), None)).starts_with("period.to: "));
    // One year per table; the year must be over.
    let e = field(by_sex(d(2022, 1, 1), d(2023, 12, 31)));
    assert!(
        e.starts_with("period.to: ") && e.contains("one calendar year"),
        "{e}"
    );
    let e = field(by_sex(d(2026, 1, 1), d(2026, 12, 31)));
    assert!(
        e.starts_with("period.to: ") && e.contains("not complete"),
        "{e}"
    );
    let e = field(StatsRequest::TimeToMissing(TimeToMissingRequest {
        starts: Period {
            from: d(2020, 1, 1),
            to: d(2021, 12, 31),
        },
        ..serde_json::from_str(r#"{}"#).unwrap()
    }));
    assert!(e.starts_with("starts.to: "), "{e}");
    // Another rule than the register's, weaker or stronger, is refused.
    let e = field(missing(
        By::Sex,
        Cohort::Children,
        ResearcherView::year(2023),
        SuppressionRule::new(3, 5).unwrap(),
    ));
    assert!(e.starts_with("suppression: "), "{e}");
    let e = field(missing(
        By::Sex,
        Cohort::Children,
        ResearcherView::year(2023),
        SuppressionRule::new(1, 9).unwrap(),
    ));
    assert!(e.starts_with("suppression: "), "{e}");
    // What is allowed works, the force table and time to missing included.
    for req in [
        by_sex(d(2023, 1, 1), d(2023, 12, 31)),
        missing(By::Force, Cohort::All, ResearcherView::year(2025), rule),
        StatsRequest::TimeToMissing(TimeToMissingRequest {
            starts: ResearcherView::year(2024),
            ..serde_json::from_str(r#"{}"#).unwrap()
        }),
    ] {
        assert!(view.publish(&req).is_ok(), "{req:?}");
    }
}

#[test]
fn a_researcher_gets_the_spend_model_of_one_year() {
    let spend = SpendTable::from_rows(&generator().spend());
    let rule = SuppressionRule::default();
    let view = ResearcherView::new(Arc::new(snapshot()), rule).with_spend(spend);
    let r = view
        .publish(&StatsRequest::SpendModel(SpendModelRequest {
            period: ResearcherView::year(2024),
            suppression: rule,
            chart: true,
        }))
        .unwrap();
    let terms: Vec<&str> = r.grids[0].rows.iter().map(|row| row[1].as_str()).collect();
    assert!(terms.contains(&"spend_per_child_1000"), "{terms:?}");
    // One calendar year: no year term (it would be a column of zeros).
    assert!(!terms.contains(&"year_centred"), "{terms:?}");
    assert!(r.charts[0].svg.starts_with("<svg"));
}

#[test]
fn one_pass_categorical_breakdowns_equal_the_tables_one_by_one() {
    use nrmp_analysis::missing::{breakdown, categorical_breakdowns};
    use nrmp_analysis::publish::FAMILY_BREAKDOWNS;
    let s = snapshot();
    let (from, to) = ResearcherView::year(2022).bounds(&s);
    let fused = categorical_breakdowns(&s, &Cohort::ALL, &FAMILY_BREAKDOWNS, from, to);
    let mut i = 0;
    for cohort in Cohort::ALL {
        for by in FAMILY_BREAKDOWNS {
            let one = breakdown(&s, by, cohort, from, to);
            assert!(!one.rows.is_empty(), "{by:?} {cohort:?}");
            assert_eq!(fused[i], one, "{by:?} {cohort:?}");
            i += 1;
        }
    }
    assert_eq!(fused.len(), i);
}
