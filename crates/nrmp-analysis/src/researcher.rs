//! What the researcher role may see, and why no two answers can be differenced.
//!
//! Suppressing small cells table by table is not enough when a researcher may ask for any
//! table over any period: the persons who went missing in 2020-01-01..2020-12-31 and in
//! 2020-01-02..2020-12-31 differ by those who went missing on 1 January only, a cell nobody
//! published. Counts of *persons* over periods do not add up, so no linear suppression plan
//! over the requested tables can see that difference. The fix is to fix the periods:
//!
//! * every "who went missing" figure a researcher sees is a figure of **one completed calendar
//!   year**, cut from that year's **fixed plan** — the year's whole [`period_family`] (the
//!   table by cohort, the proportion-trafficked table, each cohort by authority, nationality,
//!   age band and sex) protected jointly, in one canonical order, once per snapshot;
//! * `missing` (except by force) and `proportion-trafficked` cover exactly one year and are a
//!   member of that year's family; `missing` by year and `trend` may span several completed
//!   years, and each of their rows *is* the cohort's row of that year's table by cohort, with its
//!   status taken from that year's plan (so a row suppressed there is suppressed here);
//! * `missing` by force (persons counted under each force they went missing from, so the rows
//!   share nothing with other tables), `time-to-missing` (follow-ups starting in the year) and
//!   `spend-model` cover exactly one year and are protected on their own;
//! * the current, incomplete year is never published: its figures would change as the year
//!   goes on, and successive answers could be differenced.
//!
//! Any two answers are therefore either figures of different years (different persons at risk
//! over disjoint times: no linear relation between them) or come from one plan (no suppressed
//! figure is determined by what the plan publishes). The register's suppression rule applies to
//! every request, and a request must state exactly it (or leave it out).

use crate::error::{AnalysisError, Result};
use crate::missing::{self, Breakdown, By, Counts, RowKey, RowStatus, categorical_breakdowns};
use crate::publish::{self, FAMILY_BREAKDOWNS, linked_breakdown, period_family, report_from};
use crate::report::Report;
use crate::request::{Audience, Period, StatsRequest};
use crate::snapshot::{Cohort, Snapshot, date_of_ts};
use crate::spend::SpendTable;
use chrono::{Datelike, NaiveDate};
use nrmp_stats::disclosure::SuppressionRule;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// A snapshot as the researcher role sees it: the yearly plans are worked out on first use and
/// kept, so every answer over one snapshot comes from the same plans. Shareable between threads.
#[derive(Debug)]
pub struct ResearcherView {
    snapshot: Arc<Snapshot>,
    spend: Option<SpendTable>,
    rule: SuppressionRule,
    plans: Mutex<HashMap<i32, Arc<YearPlan>>>,
}

/// One completed year's family, protected jointly.
#[derive(Debug)]
struct YearPlan {
    requests: Vec<StatsRequest>,
    breakdowns: Vec<Breakdown>,
    statuses: Vec<Vec<RowStatus>>,
}

impl YearPlan {
    /// The status of the row that counts `key` (with these `counts`), from whichever table of
    /// the family has it.
    fn status_of(&self, key: &RowKey, counts: &Counts) -> Option<RowStatus> {
        self.breakdowns
            .iter()
            .zip(&self.statuses)
            .find_map(|(b, st)| {
                let r = b.keys.iter().position(|k| k.as_ref() == Some(key))?;
                (b.rows[r] == *counts).then_some(st[r])
            })
    }
}

/// The request fields naming a period's two ends.
#[derive(Clone, Copy)]
struct PeriodFields {
    from: &'static str,
    to: &'static str,
}

const PERIOD: PeriodFields = PeriodFields {
    from: "period.from",
    to: "period.to",
};
const STARTS: PeriodFields = PeriodFields {
    from: "starts.from",
    to: "starts.to",
};

impl ResearcherView {
    /// The researcher's view of `snapshot` under the register's suppression `rule` (at least
    /// the default 1–5).
    pub fn new(snapshot: Arc<Snapshot>, rule: SuppressionRule) -> Self {
        Self {
            snapshot,
            spend: None,
            rule,
            plans: Mutex::new(HashMap::new()),
        }
    }

    /// The view with the register's spend-per-child table (for the spend model and the Cox
    /// model's spend covariate); an empty table counts as none.
    pub fn with_spend(mut self, spend: SpendTable) -> Self {
        self.spend = Some(spend).filter(|t| !t.is_empty());
        self
    }

    /// The snapshot the view publishes from.
    pub fn snapshot(&self) -> &Arc<Snapshot> {
        &self.snapshot
    }

    /// The spend table, if the register has one.
    pub fn spend(&self) -> Option<&SpendTable> {
        self.spend.as_ref()
    }

    /// The last completed calendar year of the snapshot.
    pub fn last_complete_year(&self) -> i32 {
        date_of_ts(self.snapshot.end_of_data).year() - 1
    }

    /// The period of calendar year `year`.
    pub fn year(year: i32) -> Period {
        Period {
            from: NaiveDate::from_ymd_opt(year, 1, 1),
            to: NaiveDate::from_ymd_opt(year, 12, 31),
        }
    }

    /// Works out the plan of every completed year with data (in parallel), so that the first
    /// requests need not: a year's plan over millions of persons takes about a second.
    ///
    /// # Errors
    /// A plan that cannot be completed.
    pub fn plan_every_year(&self) -> Result<()> {
        let (first, _) = self.snapshot.year_range();
        (first..=self.last_complete_year())
            .into_par_iter()
            .try_for_each(|y| self.plan(y).map(drop))
    }

    /// Publishes one table for the researcher role (see the module docs for what may be
    /// asked).
    ///
    /// # Errors
    /// [`AnalysisError::InvalidRequest`] naming the field of a request the researcher may not
    /// make: another suppression rule than the register's, or a period that is not whole,
    /// completed calendar years (or not exactly one year where the table needs one);
    /// otherwise as [`publish::publish`].
    pub fn publish(&self, req: &StatsRequest) -> Result<Report> {
        req.check_for(Audience::Researcher)?;
        if req.suppression() != self.rule {
            return Err(AnalysisError::invalid(
                "suppression",
                format!(
                    "the researcher role's tables use the register's rule, counts of {}–{} suppressed",
                    self.rule.min, self.rule.max
                ),
            ));
        }
        let s = &self.snapshot;
        match req {
            StatsRequest::Missing(a) if a.by == By::Force => {
                self.one_year(&a.period, PERIOD)?;
                publish::publish(s, req, None)
            }
            StatsRequest::Missing(a) if a.by == By::Year => {
                self.whole_years(&a.period, PERIOD)?;
                self.yearly(req)
            }
            StatsRequest::Trend(a) => {
                self.whole_years(&a.period, PERIOD)?;
                self.yearly(req)
            }
            StatsRequest::Missing(a) => {
                let year = self.one_year(&a.period, PERIOD)?;
                let mut canonical = *a;
                if a.by == By::Cohort {
                    canonical.cohort = Cohort::All; // ignored with `by: cohort`
                }
                self.family_member(year, &StatsRequest::Missing(canonical))
            }
            StatsRequest::ProportionTrafficked(a) => {
                let year = self.one_year(&a.period, PERIOD)?;
                self.family_member(year, req)
            }
            StatsRequest::TimeToMissing(a) => {
                self.one_year(&a.starts, STARTS)?;
                publish::publish(s, req, self.spend())
            }
            StatsRequest::SpendModel(a) => {
                self.one_year(&a.period, PERIOD)?;
                publish::publish(s, req, self.spend())
            }
        }
    }

    /// `year`'s plan, worked out on first use.
    fn plan(&self, year: i32) -> Result<Arc<YearPlan>> {
        let cached = |plans: &HashMap<i32, Arc<YearPlan>>| plans.get(&year).cloned();
        if let Some(p) = cached(&self.plans.lock().unwrap_or_else(PoisonError::into_inner)) {
            return Ok(p);
        }
        let s = &self.snapshot;
        let requests = period_family(Self::year(year), self.rule);
        // The table by cohort and the proportion-trafficked table, then every cohort's four
        // categorical tables in one pass over the persons (the family's order).
        let (from, to) = Self::year(year).bounds(s);
        let (heads, rest) = rayon::join(
            || {
                requests[..2]
                    .iter()
                    .filter_map(|r| linked_breakdown(s, r))
                    .collect::<Vec<_>>()
            },
            || categorical_breakdowns(s, &Cohort::ALL, &FAMILY_BREAKDOWNS, from, to),
        );
        let breakdowns: Vec<Breakdown> = heads.into_iter().chain(rest).collect();
        if breakdowns.len() != requests.len() {
            return Err(internal(
                "a year's family and its breakdowns differ in number",
            ));
        }
        let refs: Vec<&Breakdown> = breakdowns.iter().collect();
        let statuses = missing::protect_jointly(&refs, &self.rule)?;
        let plan = Arc::new(YearPlan {
            requests,
            breakdowns,
            statuses,
        });
        // Plans are deterministic: if another thread got here first, its plan is this one.
        Ok(self
            .plans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(year)
            .or_insert(plan)
            .clone())
    }

    /// A member of `year`'s family, as that year's plan publishes it.
    fn family_member(&self, year: i32, req: &StatsRequest) -> Result<Report> {
        let plan = self.plan(year)?;
        let i = plan
            .requests
            .iter()
            .position(|r| r == req)
            .ok_or_else(|| internal("the table is not in its year's family"))?;
        report_from(
            &self.snapshot,
            &plan.requests[i],
            &plan.breakdowns[i],
            &plan.statuses[i],
        )
    }

    /// A by-year table (missing by year, trend): each row is its cohort's row of that year's
    /// table by cohort, with that plan's status.
    fn yearly(&self, req: &StatsRequest) -> Result<Report> {
        let s = &self.snapshot;
        let b = linked_breakdown(s, req).ok_or_else(|| internal("not a by-year table"))?;
        let status = b
            .labels
            .iter()
            .zip(&b.keys)
            .zip(&b.rows)
            .map(|((label, key), counts)| {
                let year: i32 = label
                    .parse()
                    .map_err(|_| internal("a by-year row is not a year"))?;
                let key = key
                    .as_ref()
                    .ok_or_else(|| internal("a year row has no key"))?;
                self.plan(year)?
                    .status_of(key, counts)
                    .ok_or_else(|| internal("a year row is not in that year's plan"))
            })
            .collect::<Result<Vec<RowStatus>>>()?;
        report_from(s, req, &b, &status)
    }

    /// Checks that `p` is whole, completed calendar years and returns the first and last.
    fn whole_years(&self, p: &Period, f: PeriodFields) -> Result<(i32, i32)> {
        const WHOLE: &str = "researcher tables cover whole calendar years";
        let from = p.from.ok_or_else(|| {
            AnalysisError::invalid(f.from, format!("{WHOLE}: give the first day, 1 January"))
        })?;
        if (from.month(), from.day()) != (1, 1) {
            return Err(AnalysisError::invalid(
                f.from,
                format!("{WHOLE}: {from} is not 1 January"),
            ));
        }
        let to = p.to.ok_or_else(|| {
            AnalysisError::invalid(f.to, format!("{WHOLE}: give the last day, 31 December"))
        })?;
        if (to.month(), to.day()) != (12, 31) {
            return Err(AnalysisError::invalid(
                f.to,
                format!("{WHOLE}: {to} is not 31 December"),
            ));
        }
        let last = self.last_complete_year();
        if to.year() > last {
            return Err(AnalysisError::invalid(
                f.to,
                format!(
                    "{} is not complete (the data end on {}): researchers see completed years only, up to {last}",
                    to.year(),
                    date_of_ts(self.snapshot.end_of_data)
                ),
            ));
        }
        Ok((from.year(), to.year()))
    }

    /// Checks that `p` is exactly one completed calendar year and returns it.
    fn one_year(&self, p: &Period, f: PeriodFields) -> Result<i32> {
        let (first, last) = self.whole_years(p, f)?;
        if first != last {
            return Err(AnalysisError::invalid(
                f.to,
                format!(
                    "for researchers this table covers one calendar year: {first}-12-31 (for several years, ask for the trend)"
                ),
            ));
        }
        Ok(first)
    }
}

fn internal(what: &str) -> AnalysisError {
    AnalysisError::Internal(format!("researcher view: {what}"))
}
