//! Time-to-event analysis: the Kaplan–Meier estimator and the log-rank test.
//!
//! Used for *time to first missing episode* after a child is placed in care (or after an NRM
//! referral). Children still in placement without an episode are right-censored at the end
//! of follow-up; ignoring them (or dropping them) biases the "share missing within 24 hours"
//! figures, which is why these figures are read off the Kaplan–Meier curve as `1 − S(t)`.
//!
//! ## Conventions (identical to R `survival::survfit` and lifelines)
//!
//! * Durations are non-negative and finite; `event = true` means the event (going missing) was
//!   observed, `false` means censored.
//! * **Ties**: at a time where both events and censorings occur, the events are taken to happen
//!   first — censored subjects are still in the risk set at that time.
//! * `S(t) = ∏_{tᵢ ≤ t} (1 − dᵢ/nᵢ)`, a right-continuous step function.
//! * **Greenwood** variance: `Var Ŝ(t) = Ŝ(t)² Σ_{tᵢ ≤ t} dᵢ / (nᵢ(nᵢ − dᵢ))`. The sum is
//!   reported as `greenwood_sum`; `std_error` is the standard error of `Ŝ` itself.
//! * **log-log CI** (R `conf.type = "log-log"`, lifelines' default "exponential Greenwood"):
//!   `exp(−exp(log(−log Ŝ) ± z·√greenwood_sum / log Ŝ))`.
//!   **plain CI**: `Ŝ ± z·std_error`, clipped to `[0, 1]`.
//! * Where `Ŝ = 1` (before the first event) both intervals are `[1, 1]`. If the last subject at
//!   risk has the event, `Ŝ` drops to 0: the Greenwood term `d/(n(n−d))` is infinite and is
//!   omitted from `greenwood_sum` (as lifelines does), `std_error = 0` and the interval is
//!   `[0, 0]`. R reports `NA` there; callers who care should check `survival == 0.0`.
//! * **Median** (and other quantiles): the first time at which `Ŝ(t) ≤ 0.5`; its CI is
//!   `[first t with upper-CI(t) ≤ 0.5 … ]` read off the pointwise log-log band in the manner of
//!   R/lifelines: lower limit = first time the *lower* band reaches 0.5, upper limit = first
//!   time the *upper* band reaches 0.5 (`None` = not reached within follow-up). Unlike R, a
//!   curve that sits exactly on 0.5 over an interval is not averaged with the next event time.
//!
//! The log-rank test compares survival curves of k ≥ 2 groups with the usual
//! `(k − 1)`-degree-of-freedom chi-squared statistic `Uᵀ V⁻ U` (R `survdiff`, rho = 0).

use serde::{Deserialize, Serialize};

use crate::dist::{chi_squared_sf, z_critical};
use crate::error::{Result, StatsError};
use crate::linalg::invert;

/// One row of the Kaplan–Meier table, at a distinct observed time (event or censoring).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KmStep {
    /// The time.
    pub time: f64,
    /// Subjects at risk just before `time` (duration ≥ `time`).
    pub n_at_risk: u64,
    /// Events at `time`.
    pub n_events: u64,
    /// Censorings at `time` (counted after the events).
    pub n_censored: u64,
    /// `Ŝ(time)`.
    pub survival: f64,
    /// Greenwood sum `Σ d/(n(n−d))` up to and including `time`.
    pub greenwood_sum: f64,
    /// Greenwood standard error of `Ŝ(time)`.
    pub std_error: f64,
    /// Lower log-log confidence limit.
    pub ci_low: f64,
    /// Upper log-log confidence limit.
    pub ci_high: f64,
    /// Lower plain (linear) confidence limit.
    pub ci_low_plain: f64,
    /// Upper plain (linear) confidence limit.
    pub ci_high_plain: f64,
}

/// `Ŝ(t)` at a chosen time, with its standard error and intervals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SurvivalAt {
    /// The time asked about.
    pub time: f64,
    /// `Ŝ(time)`.
    pub survival: f64,
    /// Greenwood standard error.
    pub std_error: f64,
    /// Lower log-log limit for `S(time)`.
    pub ci_low: f64,
    /// Upper log-log limit for `S(time)`.
    pub ci_high: f64,
    /// Number still at risk just after `time` (not yet event or censored by then).
    pub n_at_risk_after: u64,
    /// `true` when `time` is beyond the largest observed duration: the estimate is carried
    /// forward from the last observation and should not be published as if observed.
    pub beyond_follow_up: bool,
}

impl SurvivalAt {
    /// Cumulative incidence `1 − S(t)` (e.g. share missing within 24 h) with its log-log CI
    /// `(estimate, low, high)`.
    pub fn failure(&self) -> (f64, f64, f64) {
        (1.0 - self.survival, 1.0 - self.ci_high, 1.0 - self.ci_low)
    }
}

/// A survival-time quantile with its confidence interval; `None` means "not reached".
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quantile {
    /// Probability `p` such that this is the time by which a share `p` has had the event
    /// (0.5 for the median).
    pub p: f64,
    /// Estimate: first time with `Ŝ(t) ≤ 1 − p`.
    pub estimate: Option<f64>,
    /// Lower confidence limit.
    pub ci_low: Option<f64>,
    /// Upper confidence limit.
    pub ci_high: Option<f64>,
}

/// A fitted Kaplan–Meier curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KaplanMeier {
    /// One row per distinct observed time, ascending.
    pub steps: Vec<KmStep>,
    /// Number of subjects.
    pub n: u64,
    /// Number of observed events.
    pub n_events: u64,
    /// Confidence level of the intervals.
    pub level: f64,
}

fn validate_survival_input(durations: &[f64], events: &[bool]) -> Result<()> {
    if durations.is_empty() {
        return Err(StatsError::Empty);
    }
    if events.len() != durations.len() {
        return Err(StatsError::LengthMismatch {
            what: "events",
            got: events.len(),
            expected: durations.len(),
        });
    }
    if let Some(bad) = durations.iter().find(|d| !d.is_finite() || **d < 0.0) {
        return Err(StatsError::InvalidInput(format!(
            "durations must be finite and non-negative, got {bad}"
        )));
    }
    Ok(())
}

/// Distinct times with (events, censorings) at each, ascending.
fn tabulate(durations: &[f64], events: &[bool]) -> Vec<(f64, u64, u64)> {
    let mut pairs: Vec<(f64, bool)> = durations
        .iter()
        .copied()
        .zip(events.iter().copied())
        .collect();
    // Unstable sort: ties are aggregated below, so their order does not matter.
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<(f64, u64, u64)> = Vec::new();
    for (t, e) in pairs {
        match out.last_mut() {
            Some(last) if last.0 == t => {
                if e {
                    last.1 += 1;
                } else {
                    last.2 += 1;
                }
            }
            _ => out.push((t, u64::from(e), u64::from(!e))),
        }
    }
    out
}

/// `(low, high)` log-log interval for `s` given the Greenwood sum.
fn loglog_ci(s: f64, greenwood_sum: f64, z: f64) -> (f64, f64) {
    if s >= 1.0 {
        return (1.0, 1.0);
    }
    if s <= 0.0 {
        return (0.0, 0.0);
    }
    let ls = s.ln();
    let theta = (-ls).ln();
    let w = z * greenwood_sum.sqrt() / ls; // negative
    ((-(theta - w).exp()).exp(), (-(theta + w).exp()).exp())
}

impl KaplanMeier {
    /// Fits the curve with 95 % intervals.
    ///
    /// # Errors
    /// [`StatsError::Empty`], [`StatsError::LengthMismatch`], or
    /// [`StatsError::InvalidInput`] for negative / non-finite durations.
    pub fn fit(durations: &[f64], events: &[bool]) -> Result<Self> {
        Self::fit_with_level(durations, events, 0.95)
    }

    /// Fits the curve with intervals at confidence `level`.
    ///
    /// # Errors
    /// As [`KaplanMeier::fit`], plus [`StatsError::InvalidConfidenceLevel`].
    pub fn fit_with_level(durations: &[f64], events: &[bool], level: f64) -> Result<Self> {
        validate_survival_input(durations, events)?;
        let z = z_critical(level)?;
        let mut at_risk = durations.len() as u64;
        let mut s = 1.0_f64;
        let mut gw = 0.0_f64;
        let mut steps = Vec::new();
        for (time, d, c) in tabulate(durations, events) {
            let n = at_risk;
            if d > 0 {
                s *= 1.0 - d as f64 / n as f64;
                if d < n {
                    gw += d as f64 / (n as f64 * (n - d) as f64);
                }
            }
            let se = s * gw.sqrt();
            let (lo, hi) = loglog_ci(s, gw, z);
            steps.push(KmStep {
                time,
                n_at_risk: n,
                n_events: d,
                n_censored: c,
                survival: s,
                greenwood_sum: gw,
                std_error: se,
                ci_low: lo,
                ci_high: hi,
                ci_low_plain: (s - z * se).clamp(0.0, 1.0),
                ci_high_plain: (s + z * se).clamp(0.0, 1.0),
            });
            at_risk -= d + c;
        }
        Ok(Self {
            n: durations.len() as u64,
            n_events: events.iter().filter(|e| **e).count() as u64,
            steps,
            level,
        })
    }

    /// The rows at which at least one event occurred (where `Ŝ` changes).
    pub fn event_steps(&self) -> impl Iterator<Item = &KmStep> {
        self.steps.iter().filter(|s| s.n_events > 0)
    }

    /// Largest observed time (event or censoring).
    pub fn max_time(&self) -> f64 {
        self.steps.last().map_or(0.0, |s| s.time)
    }

    /// `Ŝ(t)` with standard error and log-log interval (right-continuous: an event at exactly
    /// `t` counts). Before the first observed time `Ŝ = 1`.
    pub fn survival_at(&self, t: f64) -> SurvivalAt {
        let idx = self.steps.partition_point(|s| s.time <= t);
        let beyond = t > self.max_time();
        if idx == 0 {
            return SurvivalAt {
                time: t,
                survival: 1.0,
                std_error: 0.0,
                ci_low: 1.0,
                ci_high: 1.0,
                n_at_risk_after: self.n,
                beyond_follow_up: beyond,
            };
        }
        let st = &self.steps[idx - 1];
        SurvivalAt {
            time: t,
            survival: st.survival,
            std_error: st.std_error,
            ci_low: st.ci_low,
            ci_high: st.ci_high,
            n_at_risk_after: st.n_at_risk - st.n_events - st.n_censored,
            beyond_follow_up: beyond,
        }
    }

    /// [`KaplanMeier::survival_at`] for several times.
    pub fn survival_at_times(&self, times: &[f64]) -> Vec<SurvivalAt> {
        times.iter().map(|t| self.survival_at(*t)).collect()
    }

    /// The time by which a share `p` (0 < p < 1) has had the event, with CI; see module docs.
    ///
    /// # Errors
    /// [`StatsError::InvalidInput`] unless `0 < p < 1`.
    pub fn quantile(&self, p: f64) -> Result<Quantile> {
        if !(p > 0.0 && p < 1.0) {
            return Err(StatsError::InvalidInput(format!(
                "quantile probability must be in (0, 1), got {p}"
            )));
        }
        let target = 1.0 - p;
        // tiny relative slack so that e.g. S = 0.5 computed as 0.5000000000000001 counts
        let reached = |v: f64| v <= target + 1e-12;
        let first = |f: &dyn Fn(&KmStep) -> f64| {
            self.steps
                .iter()
                .find(|s| s.n_events > 0 && reached(f(s)))
                .map(|s| s.time)
        };
        Ok(Quantile {
            p,
            estimate: first(&|s| s.survival),
            ci_low: first(&|s| s.ci_low),
            ci_high: first(&|s| s.ci_high),
        })
    }

    /// Median survival time with CI.
    pub fn median(&self) -> Quantile {
        // p = 0.5 is always valid
        self.quantile(0.5).unwrap_or(Quantile {
            p: 0.5,
            estimate: None,
            ci_low: None,
            ci_high: None,
        })
    }
}

/// Result of a log-rank test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRank {
    /// Group labels in ascending order (indexes the vectors below).
    pub groups: Vec<u32>,
    /// Subjects per group.
    pub n: Vec<u64>,
    /// Observed events per group.
    pub observed: Vec<f64>,
    /// Expected events per group under the null of equal hazards.
    pub expected: Vec<f64>,
    /// Chi-squared statistic.
    pub chisq: f64,
    /// Degrees of freedom (groups − 1).
    pub df: usize,
    /// Upper-tail p-value.
    pub p_value: f64,
}

/// Log-rank test that the survival curves of all groups are equal.
///
/// `groups` holds an arbitrary label per subject; at least two distinct labels are needed.
///
/// # Errors
/// Input validation as [`KaplanMeier::fit`]; [`StatsError::InvalidInput`] for fewer than two
/// groups or no events; [`StatsError::Singular`] if the variance matrix is degenerate.
pub fn log_rank(durations: &[f64], events: &[bool], groups: &[u32]) -> Result<LogRank> {
    validate_survival_input(durations, events)?;
    if groups.len() != durations.len() {
        return Err(StatsError::LengthMismatch {
            what: "groups",
            got: groups.len(),
            expected: durations.len(),
        });
    }
    let mut labels: Vec<u32> = groups.to_vec();
    labels.sort_unstable();
    labels.dedup();
    let k = labels.len();
    if k < 2 {
        return Err(StatsError::InvalidInput(
            "log-rank test needs at least two groups".into(),
        ));
    }
    let gi: Vec<usize> = groups
        .iter()
        .map(|g| labels.partition_point(|l| l < g))
        .collect();
    // (time, event, group) sorted by time; ties are aggregated, so an unstable sort is fine.
    let mut order: Vec<(f64, bool, usize)> = durations
        .iter()
        .zip(events)
        .zip(&gi)
        .map(|((t, e), g)| (*t, *e, *g))
        .collect();
    order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));

    let mut n_g = vec![0u64; k];
    for g in &gi {
        n_g[*g] += 1;
    }
    let n_total: Vec<u64> = n_g.clone();
    let mut at_risk: Vec<f64> = n_g.iter().map(|v| *v as f64).collect();
    let mut obs = vec![0.0; k];
    let mut exp = vec![0.0; k];
    let mut var = vec![vec![0.0; k]; k];
    let mut i = 0;
    let mut d_g = vec![0.0; k];
    let mut leave = vec![0.0; k];
    while i < order.len() {
        let t = order[i].0;
        let mut j = i;
        d_g.fill(0.0);
        leave.fill(0.0);
        while j < order.len() && order[j].0 == t {
            let (_, event, g) = order[j];
            if event {
                d_g[g] += 1.0;
            }
            leave[g] += 1.0;
            j += 1;
        }
        let d: f64 = d_g.iter().sum();
        let n: f64 = at_risk.iter().sum();
        if d > 0.0 {
            for g in 0..k {
                obs[g] += d_g[g];
                exp[g] += d * at_risk[g] / n;
            }
            if n > 1.0 {
                let f = d * (n - d) / (n * n * (n - 1.0));
                for g in 0..k {
                    for h in 0..k {
                        let delta = if g == h { n } else { 0.0 };
                        var[g][h] += f * at_risk[g] * (delta - at_risk[h]);
                    }
                }
            }
        }
        for g in 0..k {
            at_risk[g] -= leave[g];
        }
        i = j;
    }
    if obs.iter().sum::<f64>() == 0.0 {
        return Err(StatsError::InvalidInput("no events observed".into()));
    }
    // drop the last group: U and V are then of full rank k − 1
    let u: Vec<f64> = (0..k - 1).map(|g| obs[g] - exp[g]).collect();
    let v: Vec<Vec<f64>> = (0..k - 1).map(|g| var[g][..k - 1].to_vec()).collect();
    let vinv = invert(&v)?;
    let mut chisq = 0.0;
    for g in 0..k - 1 {
        for h in 0..k - 1 {
            chisq += u[g] * vinv[g][h] * u[h];
        }
    }
    Ok(LogRank {
        groups: labels,
        n: n_total,
        observed: obs,
        expected: exp,
        chisq,
        df: k - 1,
        p_value: chi_squared_sf(chisq, (k - 1) as f64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_small_example() {
        // times 1,2,2,3(c),4 ; events at 1, 2, 2, 4
        let t = [1.0, 2.0, 2.0, 3.0, 4.0];
        let e = [true, true, true, false, true];
        let km = KaplanMeier::fit(&t, &e).unwrap();
        assert_eq!(km.steps.len(), 4);
        assert!((km.steps[0].survival - 0.8).abs() < 1e-15);
        assert!((km.steps[1].survival - 0.8 * 0.5).abs() < 1e-15);
        // last subject has the event: S drops to zero, interval [0, 0]
        let last = km.steps[3];
        assert_eq!(last.survival, 0.0);
        assert_eq!((last.ci_low, last.ci_high, last.std_error), (0.0, 0.0, 0.0));
        let gw = 1.0 / (5.0 * 4.0) + 2.0 / (4.0 * 2.0);
        assert!((km.steps[1].greenwood_sum - gw).abs() < 1e-15);
        assert_eq!(km.median().estimate, Some(2.0));
        let before = km.survival_at(0.5);
        assert_eq!(
            (before.survival, before.ci_low, before.ci_high),
            (1.0, 1.0, 1.0)
        );
        assert!(km.survival_at(10.0).beyond_follow_up);
        assert!(!km.survival_at(2.0).beyond_follow_up);
        assert_eq!(km.survival_at(2.0).n_at_risk_after, 2);
    }

    #[test]
    fn events_precede_censoring_at_ties() {
        // Event and censoring both at t = 2: the censored subject is at risk at 2.
        let km = KaplanMeier::fit(&[2.0, 2.0, 5.0], &[true, false, true]).unwrap();
        assert_eq!(km.steps[0].n_at_risk, 3);
        assert!((km.steps[0].survival - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!(km.steps[1].n_at_risk, 1);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(KaplanMeier::fit(&[], &[]), Err(StatsError::Empty));
        assert!(KaplanMeier::fit(&[1.0], &[true, false]).is_err());
        assert!(KaplanMeier::fit(&[-1.0], &[true]).is_err());
        assert!(KaplanMeier::fit(&[f64::NAN], &[true]).is_err());
        assert!(log_rank(&[1.0, 2.0], &[true, true], &[1, 1]).is_err());
        assert!(
            KaplanMeier::fit(&[1.0], &[true])
                .unwrap()
                .quantile(1.0)
                .is_err()
        );
    }
}
