//! What a caller asks for: one serialisable request type per published table, so that a
//! command line (clap arguments mapped to these) and an HTTP endpoint (a JSON body or query
//! deserialised into these) ask for exactly the same thing. Unknown fields are rejected.
//!
//! Every request carries its disclosure-control rule ([`SuppressionRule`], default: counts of
//! 1–5 suppressed). [`StatsRequest::check_for`] refuses a rule weaker than the default for the
//! researcher role, who sees aggregates only and only after full disclosure control.

use crate::error::{AnalysisError, Result};
use crate::missing::By;
use crate::snapshot::{Cohort, Snapshot, Ts, date_of_ts, ts_of_date};
use crate::survival::{Grouping, Origin};
use chrono::NaiveDate;
use nrmp_stats::disclosure::SuppressionRule;
use serde::{Deserialize, Serialize};

/// Who will see the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Audience {
    /// A national-unit analyst (or the command line's operator): any suppression rule.
    Analyst,
    /// A researcher: aggregates only, with at least the default suppression (1–5).
    Researcher,
}

/// A period of whole days, both ends inclusive; either end may be left open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// First day (default: 1 January of the first year with an incident).
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Last day, inclusive (default: the end of data).
    #[serde(default)]
    pub to: Option<NaiveDate>,
}

impl Period {
    /// The whole history.
    pub const ALL: Period = Period {
        from: None,
        to: None,
    };

    /// `[from, to)` as timestamps over `s`.
    pub fn bounds(&self, s: &Snapshot) -> (Ts, Ts) {
        let from = self.from.map_or_else(
            || {
                let (y0, _) = s.year_range();
                ts_of_date(NaiveDate::from_ymd_opt(y0, 1, 1).unwrap_or(NaiveDate::MIN))
            },
            ts_of_date,
        );
        let to = self
            .to
            .and_then(|d| d.succ_opt())
            .map_or(s.end_of_data, ts_of_date)
            .min(s.end_of_data);
        (from, to.max(from))
    }

    /// Checks that the period is not reversed.
    ///
    /// # Errors
    /// [`AnalysisError::InvalidRequest`] naming `to_field`.
    pub fn check(&self, to_field: &'static str) -> Result<()> {
        match (self.from, self.to) {
            (Some(f), Some(t)) if t < f => Err(AnalysisError::invalid(
                to_field,
                format!("{t} is before the start of the period, {f}"),
            )),
            _ => Ok(()),
        }
    }
}

/// `a to b` for titles.
pub fn period_text(from: Ts, to: Ts) -> String {
    format!("{} to {}", date_of_ts(from), date_of_ts(to - 1))
}

fn default_cohort_all() -> Cohort {
    Cohort::All
}

fn default_by_cohort() -> By {
    By::Cohort
}

fn default_nrm() -> Cohort {
    Cohort::NrmChildren
}

fn default_grouping() -> Grouping {
    Grouping::Cohort
}

fn default_origin() -> Origin {
    Origin::Referral
}

fn default_days() -> f64 {
    30.0
}

/// Persons who went missing over persons at risk, by a breakdown (`nrmp stats missing`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissingRequest {
    /// Rows of the table.
    #[serde(default = "default_by_cohort")]
    pub by: By,
    /// The population (ignored with `by: cohort`).
    #[serde(default = "default_cohort_all")]
    pub cohort: Cohort,
    /// The period.
    #[serde(default)]
    pub period: Period,
    /// Disclosure control.
    #[serde(default)]
    pub suppression: SuppressionRule,
}

/// Yearly trend in the number and the rate (`nrmp stats trend`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendRequest {
    /// The population.
    #[serde(default = "default_nrm")]
    pub cohort: Cohort,
    /// The period.
    #[serde(default)]
    pub period: Period,
    /// Disclosure control.
    #[serde(default)]
    pub suppression: SuppressionRule,
    /// Also draw the yearly rates with CIs and the fitted trend as SVG.
    #[serde(default)]
    pub chart: bool,
}

/// Kaplan–Meier time to first missing episode (`nrmp stats time-to-missing`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeToMissingRequest {
    /// Start of follow-up.
    #[serde(default = "default_origin")]
    pub origin: Origin,
    /// Groups.
    #[serde(default = "default_grouping")]
    pub by: Grouping,
    /// Only follow-ups starting in this period.
    #[serde(default)]
    pub starts: Period,
    /// Also fit a Cox proportional-hazards model and test proportional hazards.
    #[serde(default)]
    pub cox: bool,
    /// Add the placing authority's spend per child to the Cox model (needs a spend table).
    #[serde(default)]
    pub spend_covariate: bool,
    /// Disclosure control.
    #[serde(default)]
    pub suppression: SuppressionRule,
    /// Also draw the Kaplan–Meier curves with CI bands as SVG.
    #[serde(default)]
    pub chart: bool,
    /// Days shown in the chart.
    #[serde(default = "default_days")]
    pub chart_days: f64,
}

/// "Proportion of trafficked and unaccompanied children who went missing" for a period
/// (`nrmp stats proportion-trafficked`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraffickedRequest {
    /// The period.
    #[serde(default)]
    pub period: Period,
    /// Disclosure control.
    #[serde(default)]
    pub suppression: SuppressionRule,
}

/// Missing rates of looked-after children against spend per child (`nrmp stats spend-model`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpendModelRequest {
    /// The period.
    #[serde(default)]
    pub period: Period,
    /// Disclosure control (for the chart: authorities whose counts are suppressed are left
    /// out of it).
    #[serde(default)]
    pub suppression: SuppressionRule,
    /// Also draw the rate against spend per child, with CIs and the fitted curve, as SVG.
    #[serde(default)]
    pub chart: bool,
}

/// Any published table, tagged by `table` (e.g. `{"table": "missing", "by": "sex"}`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "table", rename_all = "kebab-case")]
pub enum StatsRequest {
    /// [`MissingRequest`].
    Missing(MissingRequest),
    /// [`TrendRequest`].
    Trend(TrendRequest),
    /// [`TimeToMissingRequest`].
    TimeToMissing(TimeToMissingRequest),
    /// [`TraffickedRequest`].
    ProportionTrafficked(TraffickedRequest),
    /// [`SpendModelRequest`].
    SpendModel(SpendModelRequest),
}

impl StatsRequest {
    /// The request's suppression rule.
    pub fn suppression(&self) -> SuppressionRule {
        match self {
            StatsRequest::Missing(r) => r.suppression,
            StatsRequest::Trend(r) => r.suppression,
            StatsRequest::TimeToMissing(r) => r.suppression,
            StatsRequest::ProportionTrafficked(r) => r.suppression,
            StatsRequest::SpendModel(r) => r.suppression,
        }
    }

    /// Checks the request's fields, and that `audience` may see what it asks for.
    ///
    /// # Errors
    /// [`AnalysisError::InvalidRequest`] naming the field.
    pub fn check_for(&self, audience: Audience) -> Result<()> {
        let rule = self.suppression();
        if rule.min > rule.max {
            return Err(AnalysisError::invalid(
                "suppression",
                format!("range {}..={} is empty", rule.min, rule.max),
            ));
        }
        if audience == Audience::Researcher {
            let d = SuppressionRule::default();
            if rule.min > d.min || rule.max < d.max {
                return Err(AnalysisError::invalid(
                    "suppression",
                    format!(
                        "the researcher role sees tables with counts of at least {}–{} suppressed; {}–{} is weaker",
                        d.min, d.max, rule.min, rule.max
                    ),
                ));
            }
        }
        match self {
            StatsRequest::Missing(r) => r.period.check("period.to"),
            StatsRequest::Trend(r) => r.period.check("period.to"),
            StatsRequest::ProportionTrafficked(r) => r.period.check("period.to"),
            StatsRequest::SpendModel(r) => r.period.check("period.to"),
            StatsRequest::TimeToMissing(r) => {
                r.starts.check("starts.to")?;
                if !(r.chart_days.is_finite() && r.chart_days > 0.0) {
                    return Err(AnalysisError::invalid(
                        "chart_days",
                        format!("must be a positive number of days, got {}", r.chart_days),
                    ));
                }
                if r.spend_covariate && !r.cox {
                    return Err(AnalysisError::invalid(
                        "spend_covariate",
                        "is a covariate of the Cox model: set cox too",
                    ));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_with_defaults_and_reject_unknown_fields() {
        let r: StatsRequest =
            serde_json::from_str(r#"{"table":"missing","by":"age-band","cohort":"nrm-children"}"#)
                .expect("parse");
        let StatsRequest::Missing(m) = r else {
            panic!("not missing: {r:?}")
        };
        assert_eq!(m.by, By::AgeBand);
        assert_eq!(m.cohort, Cohort::NrmChildren);
        assert_eq!(m.suppression, SuppressionRule::default());
        assert_eq!(m.period, Period::ALL);
        let e = serde_json::from_str::<StatsRequest>(r#"{"table":"missing","colour":"red"}"#)
            .expect_err("unknown field");
        assert!(e.to_string().contains("colour"), "{e}");
        // `period` belongs to other tables: time to missing filters on `starts`.
        assert!(
            serde_json::from_str::<StatsRequest>(
                r#"{"table":"time-to-missing","period":{"from":"2020-01-01"}}"#
            )
            .is_err()
        );
        let t: StatsRequest = serde_json::from_str(
            r#"{"table":"time-to-missing","origin":"care","starts":{"from":"2020-01-01"}}"#,
        )
        .expect("parse");
        let StatsRequest::TimeToMissing(t) = t else {
            panic!("not time-to-missing")
        };
        assert_eq!(t.origin, Origin::Care);
        assert_eq!(t.chart_days, 30.0);
        let back: StatsRequest = serde_json::from_str(
            &serde_json::to_string(&StatsRequest::TimeToMissing(t)).expect("ser"),
        )
        .expect("round trip");
        assert_eq!(back, StatsRequest::TimeToMissing(t));
    }

    #[test]
    fn researchers_cannot_weaken_suppression_and_bad_fields_are_named() {
        let mut m = MissingRequest {
            by: By::Sex,
            cohort: Cohort::Children,
            period: Period::ALL,
            suppression: SuppressionRule { min: 0, max: 10 },
        };
        assert!(
            StatsRequest::Missing(m)
                .check_for(Audience::Researcher)
                .is_ok()
        );
        m.suppression = SuppressionRule { min: 0, max: 0 };
        let e = StatsRequest::Missing(m)
            .check_for(Audience::Researcher)
            .expect_err("weaker");
        assert!(e.to_string().starts_with("suppression: "), "{e}");
        assert!(
            StatsRequest::Missing(m)
                .check_for(Audience::Analyst)
                .is_ok()
        );
        m.suppression = SuppressionRule { min: 3, max: 2 };
        assert!(
            StatsRequest::Missing(m)
                .check_for(Audience::Analyst)
                .is_err()
        );
        m.suppression = SuppressionRule::default();
        m.period = Period {
            from: NaiveDate::from_ymd_opt(2024, 1, 1),
            to: NaiveDate::from_ymd_opt(2023, 1, 1),
        };
        let e = StatsRequest::Missing(m)
            .check_for(Audience::Analyst)
            .expect_err("reversed");
        assert!(
            e.to_string().starts_with("period.to: 2023-01-01 is before"),
            "{e}"
        );
        assert!(e.is_client_error());
    }
}
