//! Cox proportional-hazards regression and a proportional-hazards diagnostic.
//!
//! [`cox_ph`] maximises the partial likelihood by Newton–Raphson (with step halving), from
//! `β = 0`, handling tied event times by **Efron's** approximation (the default in R
//! `coxph` and lifelines) or **Breslow's** (statsmodels' default). Covariates are centred
//! internally, which leaves the estimates unchanged but keeps `exp(xβ)` well scaled.
//! Standard errors come from the inverse observed information; hazard ratios are
//! `exp(β)` with Wald intervals ([`Coefficient::ratio`]).
//!
//! [`ph_test`] checks proportional hazards per covariate by correlating **scaled Schoenfeld
//! residuals** with a transform of time (Grambsch & Therneau 1994), using the approximation
//! `V_k ≈ I/d` for the per-event information — exactly the statistic of R `survival::cox.zph`
//! before version 3.0 and of lifelines' `proportional_hazard_test`:
//!
//! ```text
//! T_j = (Σ_k (g_k − ḡ) r*_kj)² / (d · Var(β̂_j) · Σ_k (g_k − ḡ)²),   r*_k = d · r_k · Var(β̂)
//! ```
//!
//! over the `d` events `k` (Schoenfeld residuals `r_k` with the same tie handling as the fit),
//! referred to chi-squared with 1 df. R ≥ 3.0 uses an exact score test and gives slightly
//! different numbers. A small p-value means the hazard ratio drifts over time.

use serde::{Deserialize, Serialize};

use crate::dist::{chi_squared_sf, z_critical};
use crate::error::{Result, StatsError};
use crate::linalg::{Matrix, invert, mat_vec, zeros};
use crate::regression::{Coefficient, Design};
use crate::survival::KaplanMeier;

/// Approximation used for tied event times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Ties {
    /// Efron (1977) — more accurate with many ties; default.
    #[default]
    Efron,
    /// Breslow (1974).
    Breslow,
}

/// A fitted Cox model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoxFit {
    /// Coefficients (log hazard ratios) in design-column order.
    pub coefficients: Vec<Coefficient>,
    /// Inverse observed information.
    pub covariance: Matrix,
    /// Maximised log partial likelihood.
    pub log_likelihood: f64,
    /// Log partial likelihood at `β = 0`.
    pub null_log_likelihood: f64,
    /// Likelihood-ratio statistic `2(ℓ(β̂) − ℓ(0))`.
    pub lr_chisq: f64,
    /// p-value of the likelihood-ratio test on `p` df.
    pub lr_p_value: f64,
    /// Subjects.
    pub n: usize,
    /// Events.
    pub n_events: usize,
    /// Tie handling used.
    pub ties: Ties,
    /// Newton iterations used.
    pub iterations: usize,
}

impl CoxFit {
    /// Coefficient by column name.
    pub fn coefficient(&self, name: &str) -> Option<&Coefficient> {
        self.coefficients.iter().find(|c| c.name == name)
    }
}

/// Sorted, centred data shared by the likelihood and residual code.
struct Prepared {
    /// Covariates (centred) in ascending time order.
    x: Vec<Vec<f64>>,
    t: Vec<f64>,
    e: Vec<bool>,
}

fn prepare(design: &Design, durations: &[f64], events: &[bool]) -> Result<Prepared> {
    let n = design.n();
    if durations.len() != n {
        return Err(StatsError::LengthMismatch {
            what: "durations",
            got: durations.len(),
            expected: n,
        });
    }
    if events.len() != n {
        return Err(StatsError::LengthMismatch {
            what: "events",
            got: events.len(),
            expected: n,
        });
    }
    if durations.iter().any(|d| !d.is_finite() || *d < 0.0) {
        return Err(StatsError::InvalidInput(
            "durations must be finite and non-negative".into(),
        ));
    }
    if !events.iter().any(|e| *e) {
        return Err(StatsError::InvalidInput("no events observed".into()));
    }
    let p = design.p();
    let means: Vec<f64> = (0..p)
        .map(|j| design.rows().iter().map(|r| r[j]).sum::<f64>() / n as f64)
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| durations[*a].total_cmp(&durations[*b]));
    Ok(Prepared {
        x: order
            .iter()
            .map(|i| {
                design.rows()[*i]
                    .iter()
                    .zip(&means)
                    .map(|(v, m)| v - m)
                    .collect()
            })
            .collect(),
        t: order.iter().map(|i| durations[*i]).collect(),
        e: order.iter().map(|i| events[*i]).collect(),
    })
}

/// Per tied-event-time quantities needed by both the fit and the residuals.
struct EventGroup {
    /// Indices (into prepared data) of the events at this time.
    members: Vec<usize>,
    /// For each Efron step `l`: (S0_l, S1_l, S2_l).
    steps: Vec<(f64, Vec<f64>, Matrix)>,
}

/// Walks the data from the latest time backwards, building risk-set sums.
fn event_groups(d: &Prepared, beta: &[f64], ties: Ties, want_s2: bool) -> (f64, Vec<EventGroup>) {
    let p = beta.len();
    let eta: Vec<f64> =
        d.x.iter()
            .map(|r| r.iter().zip(beta).map(|(a, b)| a * b).sum())
            .collect();
    let shift = eta.iter().fold(f64::NEG_INFINITY, |m, v| m.max(*v));
    let w: Vec<f64> = eta.iter().map(|v| (v - shift).exp()).collect();
    let mut s0 = 0.0;
    let mut s1 = vec![0.0; p];
    let mut s2 = zeros(if want_s2 { p } else { 0 });
    let mut ll = 0.0;
    let mut groups = Vec::new();
    let n = d.t.len();
    let mut i = n;
    while i > 0 {
        let t = d.t[i - 1];
        let mut j = i;
        let mut members = Vec::new();
        let mut t0 = 0.0;
        let mut t1 = vec![0.0; p];
        let mut t2 = zeros(if want_s2 { p } else { 0 });
        while j > 0 && d.t[j - 1] == t {
            let k = j - 1;
            let x = &d.x[k];
            s0 += w[k];
            for a in 0..p {
                s1[a] += w[k] * x[a];
                if want_s2 {
                    for b in 0..p {
                        s2[a][b] += w[k] * x[a] * x[b];
                    }
                }
            }
            if d.e[k] {
                members.push(k);
                t0 += w[k];
                for a in 0..p {
                    t1[a] += w[k] * x[a];
                    if want_s2 {
                        for b in 0..p {
                            t2[a][b] += w[k] * x[a] * x[b];
                        }
                    }
                }
            }
            j -= 1;
        }
        if !members.is_empty() {
            let m = members.len();
            let mut steps = Vec::with_capacity(m);
            for l in 0..m {
                let f = match ties {
                    Ties::Efron => l as f64 / m as f64,
                    Ties::Breslow => 0.0,
                };
                let a0 = s0 - f * t0;
                let a1: Vec<f64> = (0..p).map(|a| s1[a] - f * t1[a]).collect();
                let a2: Matrix = if want_s2 {
                    (0..p)
                        .map(|a| (0..p).map(|b| s2[a][b] - f * t2[a][b]).collect())
                        .collect()
                } else {
                    Vec::new()
                };
                ll -= a0.ln();
                steps.push((a0, a1, a2));
            }
            for k in &members {
                ll += eta[*k] - shift;
            }
            groups.push(EventGroup { members, steps });
        }
        i = j;
    }
    (ll, groups)
}

/// Log partial likelihood, score and observed information at `beta`.
fn evaluate(d: &Prepared, beta: &[f64], ties: Ties) -> (f64, Vec<f64>, Matrix) {
    let p = beta.len();
    let (ll, groups) = event_groups(d, beta, ties, true);
    let mut grad = vec![0.0; p];
    let mut info = zeros(p);
    for g in &groups {
        for k in &g.members {
            for a in 0..p {
                grad[a] += d.x[*k][a];
            }
        }
        for (a0, a1, a2) in &g.steps {
            for a in 0..p {
                let ma = a1[a] / a0;
                grad[a] -= ma;
                for b in 0..p {
                    info[a][b] += a2[a][b] / a0 - ma * a1[b] / a0;
                }
            }
        }
    }
    (ll, grad, info)
}

/// Fits a Cox proportional-hazards model. `design` must **not** contain an intercept column.
///
/// # Errors
/// Validation errors; [`StatsError::Singular`] for collinear covariates or a covariate with
/// no variation; [`StatsError::NoConvergence`] (e.g. monotone likelihood when a covariate
/// perfectly predicts the event order).
pub fn cox_ph(design: &Design, durations: &[f64], events: &[bool], ties: Ties) -> Result<CoxFit> {
    let d = prepare(design, durations, events)?;
    let p = design.p();
    let mut beta = vec![0.0; p];
    let (ll0, mut grad, mut info) = evaluate(&d, &beta, ties);
    let info0: Vec<f64> = (0..p).map(|j| info[j][j]).collect();
    let mut ll = ll0;
    let mut iterations = 0;
    let mut converged = false;
    while iterations < 100 {
        iterations += 1;
        let step = mat_vec(&invert(&info)?, &grad);
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..40 {
            let b_new: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + t * s).collect();
            let ev = evaluate(&d, &b_new, ties);
            if ev.0.is_finite() && ev.0 >= ll - 1e-12 * ll.abs() {
                accepted = Some((b_new, ev));
                break;
            }
            t /= 2.0;
        }
        let Some((b_new, (ll_new, g_new, i_new))) = accepted else {
            break;
        };
        let change = b_new
            .iter()
            .zip(&beta)
            .map(|(a, b)| (a - b).abs() / (1.0 + b.abs()))
            .fold(0.0, f64::max);
        beta = b_new;
        ll = ll_new;
        grad = g_new;
        info = i_new;
        if change < 1e-12 {
            converged = true;
            break;
        }
        if beta.iter().any(|b| b.abs() > 50.0) {
            break;
        }
    }
    let gmax = grad.iter().fold(0.0_f64, |m, g| m.max(g.abs()));
    // Monotone likelihood (a covariate perfectly orders the events): β runs off to infinity
    // while the information for it collapses.
    let diverging =
        beta.iter().any(|b| b.abs() > 50.0) || (0..p).any(|j| info[j][j] < 1e-10 * info0[j]);
    if diverging || (!converged && gmax > 1e-7) {
        return Err(StatsError::NoConvergence {
            iterations,
            detail: format!("partial-likelihood score {gmax:e} (monotone likelihood?)"),
        });
    }
    let cov = invert(&info)?;
    let z = z_critical(0.95)?;
    let coefficients = design
        .names()
        .iter()
        .enumerate()
        .map(|(j, name)| Coefficient::new(name.clone(), beta[j], cov[j][j].sqrt(), z))
        .collect();
    let lr_chisq = 2.0 * (ll - ll0);
    Ok(CoxFit {
        coefficients,
        covariance: cov,
        log_likelihood: ll,
        null_log_likelihood: ll0,
        lr_chisq,
        lr_p_value: chi_squared_sf(lr_chisq, p as f64),
        n: design.n(),
        n_events: events.iter().filter(|e| **e).count(),
        ties,
        iterations,
    })
}

/// Schoenfeld residual of one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchoenfeldResidual {
    /// Event time.
    pub time: f64,
    /// `x_k − E[x | risk set]` (Efron- or Breslow-weighted), one entry per covariate.
    pub residual: Vec<f64>,
}

/// Unscaled Schoenfeld residuals at each event, ascending in time, for a fit produced by
/// [`cox_ph`] on the same data.
///
/// # Errors
/// Validation errors as [`cox_ph`]; [`StatsError::LengthMismatch`] if `fit` has a different
/// number of covariates than `design`.
pub fn schoenfeld_residuals(
    fit: &CoxFit,
    design: &Design,
    durations: &[f64],
    events: &[bool],
) -> Result<Vec<SchoenfeldResidual>> {
    if fit.coefficients.len() != design.p() {
        return Err(StatsError::LengthMismatch {
            what: "coefficients",
            got: fit.coefficients.len(),
            expected: design.p(),
        });
    }
    let d = prepare(design, durations, events)?;
    let p = design.p();
    let beta: Vec<f64> = fit.coefficients.iter().map(|c| c.estimate).collect();
    let (_, groups) = event_groups(&d, &beta, fit.ties, false);
    let mut out = Vec::new();
    for g in groups.iter().rev() {
        let m = g.steps.len() as f64;
        let mut mean = vec![0.0; p];
        for (a0, a1, _) in &g.steps {
            for a in 0..p {
                mean[a] += a1[a] / a0 / m;
            }
        }
        let mut members = g.members.clone();
        members.sort_unstable();
        for k in members {
            out.push(SchoenfeldResidual {
                time: d.t[k],
                residual: (0..p).map(|a| d.x[k][a] - mean[a]).collect(),
            });
        }
    }
    Ok(out)
}

/// Transform of time used by [`ph_test`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeTransform {
    /// `g(t) = t`.
    Identity,
    /// `g(t) = 1 − Ŝ(t)`, the Kaplan–Meier estimate from the same data (R's default `"km"`,
    /// lifelines `"km"`).
    Km,
    /// `g(t) = ln t` (requires positive event times).
    Log,
}

/// Proportional-hazards test for one covariate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhTest {
    /// Covariate name.
    pub name: String,
    /// Chi-squared statistic on 1 df.
    pub statistic: f64,
    /// p-value.
    pub p_value: f64,
}

/// Per-covariate proportional-hazards test (see module docs) for a fit on the same data.
///
/// # Errors
/// As [`schoenfeld_residuals`]; [`StatsError::InvalidInput`] if the transformed event times
/// do not vary (or `Log` meets a zero time).
pub fn ph_test(
    fit: &CoxFit,
    design: &Design,
    durations: &[f64],
    events: &[bool],
    transform: TimeTransform,
) -> Result<Vec<PhTest>> {
    let res = schoenfeld_residuals(fit, design, durations, events)?;
    let p = design.p();
    let d = res.len() as f64;
    let g: Vec<f64> = match transform {
        TimeTransform::Identity => res.iter().map(|r| r.time).collect(),
        TimeTransform::Log => {
            if res.iter().any(|r| r.time <= 0.0) {
                return Err(StatsError::InvalidInput(
                    "log transform of zero time".into(),
                ));
            }
            res.iter().map(|r| r.time.ln()).collect()
        }
        TimeTransform::Km => {
            let km = KaplanMeier::fit(durations, events)?;
            res.iter()
                .map(|r| 1.0 - km.survival_at(r.time).survival)
                .collect()
        }
    };
    let gbar = g.iter().sum::<f64>() / d;
    let gc: Vec<f64> = g.iter().map(|v| v - gbar).collect();
    let ss: f64 = gc.iter().map(|v| v * v).sum();
    if ss <= 0.0 {
        return Err(StatsError::InvalidInput(
            "transformed event times do not vary".into(),
        ));
    }
    let v = &fit.covariance;
    let mut num = vec![0.0; p];
    for (r, gk) in res.iter().zip(&gc) {
        for (j, nj) in num.iter_mut().enumerate() {
            let scaled: f64 = d * (0..p).map(|a| r.residual[a] * v[a][j]).sum::<f64>();
            *nj += gk * scaled;
        }
    }
    Ok(fit
        .coefficients
        .iter()
        .enumerate()
        .map(|(j, c)| {
            let statistic = num[j] * num[j] / (d * v[j][j] * ss);
            PhTest {
                name: c.name.clone(),
                statistic,
                p_value: chi_squared_sf(statistic, 1.0),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_binary_covariate_no_ties_matches_hand_likelihood() {
        // times 1..4, all events; x = [1, 0, 1, 0]
        let d = Design::new(
            vec!["x".into()],
            vec![vec![1.0], vec![0.0], vec![1.0], vec![0.0]],
        )
        .unwrap();
        let t = [1.0, 2.0, 3.0, 4.0];
        let e = [true; 4];
        let f = cox_ph(&d, &t, &e, Ties::Breslow).unwrap();
        let b = f.coefficients[0].estimate;
        let r = b.exp();
        // ℓ(β) = β − ln(2r+2) + 0 − ln(r+2) + β − ln(r+1) + 0 − ln 1
        let ll = 2.0 * b - (2.0 * r + 2.0).ln() - (r + 2.0).ln() - (r + 1.0).ln();
        assert!((f.log_likelihood - ll).abs() < 1e-12);
        let score = 2.0 - 2.0 * r / (2.0 * r + 2.0) - r / (r + 2.0) - r / (r + 1.0);
        assert!(score.abs() < 1e-9);
        // without ties Efron == Breslow
        let g = cox_ph(&d, &t, &e, Ties::Efron).unwrap();
        assert!((g.coefficients[0].estimate - b).abs() < 1e-12);
        assert!(f.lr_chisq >= 0.0);
    }

    #[test]
    fn errors() {
        let d = Design::new(vec!["x".into()], vec![vec![1.0], vec![1.0]]).unwrap();
        assert!(matches!(
            cox_ph(&d, &[1.0, 2.0], &[true, true], Ties::Efron),
            Err(StatsError::Singular(_))
        ));
        let d2 = Design::new(vec!["x".into()], vec![vec![1.0], vec![0.0]]).unwrap();
        assert!(cox_ph(&d2, &[1.0, 2.0], &[false, false], Ties::Efron).is_err());
        assert!(cox_ph(&d2, &[1.0], &[true], Ties::Efron).is_err());
        // perfect ordering → monotone likelihood
        let d3 = Design::new(
            vec!["x".into()],
            vec![vec![3.0], vec![2.0], vec![1.0], vec![0.0]],
        )
        .unwrap();
        let r = cox_ph(&d3, &[1.0, 2.0, 3.0, 4.0], &[true; 4], Ties::Efron);
        assert!(r.is_err(), "{r:?}");
    }
}
