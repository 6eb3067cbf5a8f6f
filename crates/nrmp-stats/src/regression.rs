//! Regression models for counts and binary outcomes, fitted by maximum likelihood.
//!
//! * [`poisson`] — Poisson GLM with log link and an optional offset (usually
//!   `ln(exposure)`, e.g. child-years in care), fitted by iteratively reweighted least squares
//!   (IRLS). `exp(β)` is a rate ratio. [`GlmFit::quasi_coefficients`] rescales the standard
//!   errors by the Pearson dispersion `X²/(n − p)` (quasi-Poisson), the usual guard against
//!   over-dispersion when a full NB model is not wanted.
//! * [`poisson_trend`] — convenience wrapper answering "is the rate changing year on year?":
//!   rate ratio per year with Wald CI and p-value, both model-based and quasi-Poisson.
//! * [`negative_binomial`] — NB2 (`Var Y = μ + α μ²`) with log link and offset. **α is
//!   estimated by full maximum likelihood jointly with β** (a profile-likelihood search over
//!   `ln α`, then Newton–Raphson on `(β, α)`); a fit is reported only at a point with zero
//!   score and negative-definite Hessian, and the boundary `α = 0` (no over-dispersion)
//!   returns the Poisson fit, flagged. Standard errors come from the inverse of the observed
//!   information of `(β, α)`, as in statsmodels' `NegativeBinomial(loglike_method="nb2")`.
//! * [`logistic`] — binomial GLM with logit link (IRLS = Newton, canonical link); `exp(β)` is
//!   an odds ratio.
//!
//! Confidence intervals are Wald intervals `β ± z·SE` on the linear-predictor scale
//! (transform with [`Coefficient::ratio`]); p-values are two-sided normal.
//!
//! Design matrices are supplied explicitly through [`Design`] — include a column of ones
//! yourself if you want an intercept (the null deviance always refers to the
//! intercept-plus-offset model).

use serde::{Deserialize, Serialize};
use statrs::function::gamma::ln_gamma;

use crate::dist::{normal_two_sided_p, z_critical};
use crate::error::{Result, StatsError};
use crate::linalg::{Matrix, invert, is_positive_definite, mat_vec, zeros};

const MAX_ITER: usize = 100;

/// A design matrix: named columns, one row per observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Design {
    names: Vec<String>,
    rows: Vec<Vec<f64>>,
}

impl Design {
    /// Builds a design from column names and rows.
    ///
    /// # Errors
    /// [`StatsError::Empty`] without rows or columns; [`StatsError::LengthMismatch`] if a row
    /// has the wrong width; [`StatsError::InvalidInput`] for non-finite entries.
    pub fn new(names: Vec<String>, rows: Vec<Vec<f64>>) -> Result<Self> {
        if rows.is_empty() || names.is_empty() {
            return Err(StatsError::Empty);
        }
        for r in &rows {
            if r.len() != names.len() {
                return Err(StatsError::LengthMismatch {
                    what: "design row",
                    got: r.len(),
                    expected: names.len(),
                });
            }
            if r.iter().any(|v| !v.is_finite()) {
                return Err(StatsError::InvalidInput("non-finite covariate".into()));
            }
        }
        Ok(Self { names, rows })
    }

    /// Column names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Rows.
    pub fn rows(&self) -> &[Vec<f64>] {
        &self.rows
    }

    /// Number of observations.
    pub fn n(&self) -> usize {
        self.rows.len()
    }

    /// Number of columns (parameters).
    pub fn p(&self) -> usize {
        self.names.len()
    }
}

/// One estimated coefficient with Wald inference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coefficient {
    /// Column name.
    pub name: String,
    /// Estimate on the linear-predictor (log) scale.
    pub estimate: f64,
    /// Standard error.
    pub std_error: f64,
    /// Wald statistic `estimate / std_error`.
    pub z_value: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower Wald limit.
    pub ci_low: f64,
    /// Upper Wald limit.
    pub ci_high: f64,
}

impl Coefficient {
    pub(crate) fn new(name: String, estimate: f64, std_error: f64, z: f64) -> Self {
        let z_value = estimate / std_error;
        Self {
            name,
            estimate,
            std_error,
            z_value,
            p_value: normal_two_sided_p(z_value),
            ci_low: estimate - z * std_error,
            ci_high: estimate + z * std_error,
        }
    }

    /// `(exp(estimate), exp(ci_low), exp(ci_high))` — rate, odds or hazard ratio with CI.
    pub fn ratio(&self) -> (f64, f64, f64) {
        (self.estimate.exp(), self.ci_low.exp(), self.ci_high.exp())
    }
}

/// GLM family fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Family {
    /// Poisson, log link.
    Poisson,
    /// Binomial (Bernoulli), logit link.
    Binomial,
}

/// A fitted generalised linear model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlmFit {
    /// Family / link.
    pub family: Family,
    /// Coefficients in design-column order.
    pub coefficients: Vec<Coefficient>,
    /// Model-based covariance matrix of the estimates, `(Xᵀ W X)⁻¹`.
    pub covariance: Matrix,
    /// Maximised log-likelihood.
    pub log_likelihood: f64,
    /// Residual deviance.
    pub deviance: f64,
    /// Deviance of the intercept(-plus-offset)-only model.
    pub null_deviance: f64,
    /// Pearson chi-squared `Σ (y − μ)² / V(μ)`.
    pub pearson_chi2: f64,
    /// Residual degrees of freedom `n − p`.
    pub df_residual: usize,
    /// Fitted means.
    pub fitted: Vec<f64>,
    /// IRLS iterations used.
    pub iterations: usize,
    /// Confidence level of the intervals.
    pub level: f64,
}

impl GlmFit {
    /// Coefficient by column name.
    pub fn coefficient(&self, name: &str) -> Option<&Coefficient> {
        self.coefficients.iter().find(|c| c.name == name)
    }

    /// Pearson dispersion `X² / (n − p)`; ≫ 1 signals over-dispersion.
    pub fn pearson_dispersion(&self) -> f64 {
        if self.df_residual == 0 {
            f64::NAN
        } else {
            self.pearson_chi2 / self.df_residual as f64
        }
    }

    /// Coefficients with standard errors multiplied by `√dispersion` (quasi-likelihood),
    /// as statsmodels `fit(scale="X2")` / R `quasipoisson`, still with normal intervals.
    pub fn quasi_coefficients(&self) -> Vec<Coefficient> {
        let s = self.pearson_dispersion().sqrt();
        let z = z_critical(self.level).unwrap_or(1.959_963_984_540_054);
        self.coefficients
            .iter()
            .map(|c| Coefficient::new(c.name.clone(), c.estimate, c.std_error * s, z))
            .collect()
    }
}

fn validate_response(design: &Design, y: &[f64], offset: Option<&[f64]>) -> Result<Vec<f64>> {
    if y.len() != design.n() {
        return Err(StatsError::LengthMismatch {
            what: "response",
            got: y.len(),
            expected: design.n(),
        });
    }
    if y.iter().any(|v| !v.is_finite()) {
        return Err(StatsError::InvalidInput("non-finite response".into()));
    }
    match offset {
        None => Ok(vec![0.0; y.len()]),
        Some(o) if o.len() != y.len() => Err(StatsError::LengthMismatch {
            what: "offset",
            got: o.len(),
            expected: y.len(),
        }),
        Some(o) if o.iter().any(|v| !v.is_finite()) => Err(StatsError::InvalidInput(
            "non-finite offset (zero exposure?)".into(),
        )),
        Some(o) => Ok(o.to_vec()),
    }
}

fn xtwx(rows: &[Vec<f64>], w: &[f64]) -> Matrix {
    let p = rows.first().map_or(0, Vec::len);
    let mut m = zeros(p);
    for (r, wi) in rows.iter().zip(w) {
        for a in 0..p {
            let ra = r[a] * wi;
            for b in a..p {
                m[a][b] += ra * r[b];
            }
        }
    }
    for a in 0..p {
        for b in 0..a {
            m[a][b] = m[b][a];
        }
    }
    m
}

fn linear_predictor(rows: &[Vec<f64>], beta: &[f64], offset: &[f64]) -> Vec<f64> {
    rows.iter()
        .zip(offset)
        .map(|(r, o)| r.iter().zip(beta).map(|(x, b)| x * b).sum::<f64>() + o)
        .collect()
}

fn logistic_fn(eta: f64) -> f64 {
    if eta >= 0.0 {
        1.0 / (1.0 + (-eta).exp())
    } else {
        let e = eta.exp();
        e / (1.0 + e)
    }
}

struct FamilyOps {
    family: Family,
}

impl FamilyOps {
    fn mean(&self, eta: f64) -> f64 {
        match self.family {
            Family::Poisson => eta.exp(),
            Family::Binomial => logistic_fn(eta),
        }
    }
    /// Variance function; for canonical links also the IRLS weight and dμ/dη.
    fn variance(&self, mu: f64) -> f64 {
        match self.family {
            Family::Poisson => mu,
            Family::Binomial => mu * (1.0 - mu),
        }
    }
    fn loglik(&self, y: f64, mu: f64) -> f64 {
        match self.family {
            Family::Poisson => {
                let t = if y > 0.0 { y * mu.ln() } else { 0.0 };
                t - mu - ln_gamma(y + 1.0)
            }
            Family::Binomial => xlogy(y, mu) + xlogy(1.0 - y, 1.0 - mu),
        }
    }
    fn unit_deviance(&self, y: f64, mu: f64) -> f64 {
        match self.family {
            Family::Poisson => 2.0 * (xlogy(y, y / mu) - (y - mu)),
            Family::Binomial => 2.0 * (xlogy(y, y / mu) + xlogy(1.0 - y, (1.0 - y) / (1.0 - mu))),
        }
    }
}

fn xlogy(x: f64, y: f64) -> f64 {
    if x == 0.0 { 0.0 } else { x * y.ln() }
}

fn fit_glm(family: Family, design: &Design, y: &[f64], offset: &[f64]) -> Result<GlmFit> {
    let ops = FamilyOps { family };
    let z = z_critical(0.95)?;
    let rows = design.rows();
    let p = design.p();
    let n = design.n();
    if n < p {
        return Err(StatsError::InvalidInput(format!(
            "{n} observations for {p} parameters"
        )));
    }
    // starting values as statsmodels: μ = (y + ȳ)/2, then η = g(μ)
    let ybar = y.iter().sum::<f64>() / n as f64;
    let mut mu: Vec<f64> = y.iter().map(|v| (v + ybar) / 2.0).collect();
    let mut eta: Vec<f64> = mu
        .iter()
        .map(|m| match family {
            Family::Poisson => m.max(1e-10).ln(),
            Family::Binomial => {
                let m = m.clamp(1e-10, 1.0 - 1e-10);
                (m / (1.0 - m)).ln()
            }
        })
        .collect();
    let mut beta = vec![0.0; p];
    let mut dev_old = f64::INFINITY;
    let mut iterations = 0;
    let mut converged = false;
    while iterations < MAX_ITER {
        iterations += 1;
        let w: Vec<f64> = mu.iter().map(|m| ops.variance(*m)).collect();
        let zwork: Vec<f64> = (0..n)
            .map(|i| eta[i] - offset[i] + (y[i] - mu[i]) / w[i])
            .collect();
        let a = xtwx(rows, &w);
        let mut b = vec![0.0; p];
        for i in 0..n {
            for (j, bj) in b.iter_mut().enumerate() {
                *bj += rows[i][j] * w[i] * zwork[i];
            }
        }
        let new_beta = mat_vec(&invert(&a)?, &b);
        let step = new_beta
            .iter()
            .zip(&beta)
            .map(|(a, b)| (a - b).abs() / (1.0 + b.abs()))
            .fold(0.0, f64::max);
        beta = new_beta;
        eta = linear_predictor(rows, &beta, offset);
        mu = eta.iter().map(|e| ops.mean(*e)).collect();
        if mu.iter().any(|m| !m.is_finite()) {
            return Err(StatsError::NoConvergence {
                iterations,
                detail: "fitted means overflowed".into(),
            });
        }
        let dev: f64 = (0..n).map(|i| ops.unit_deviance(y[i], mu[i])).sum();
        if step < 1e-11 && (dev_old - dev).abs() <= 1e-13 * (dev.abs() + 1.0) {
            converged = true;
            break;
        }
        dev_old = dev;
    }
    if !converged {
        return Err(StatsError::NoConvergence {
            iterations,
            detail: "IRLS coefficients still changing (separation or collinearity?)".into(),
        });
    }
    let w: Vec<f64> = mu.iter().map(|m| ops.variance(*m)).collect();
    let cov = invert(&xtwx(rows, &w))?;
    let coefficients = design
        .names()
        .iter()
        .enumerate()
        .map(|(j, name)| Coefficient::new(name.clone(), beta[j], cov[j][j].sqrt(), z))
        .collect();
    let deviance = (0..n).map(|i| ops.unit_deviance(y[i], mu[i])).sum();
    let log_likelihood = (0..n).map(|i| ops.loglik(y[i], mu[i])).sum();
    let pearson_chi2 = (0..n)
        .map(|i| (y[i] - mu[i]).powi(2) / ops.variance(mu[i]))
        .sum();
    // null model: intercept + offset, closed form for both families
    let null_mu: Vec<f64> = match family {
        Family::Poisson => {
            let e: Vec<f64> = offset.iter().map(|o| o.exp()).collect();
            let rate = y.iter().sum::<f64>() / e.iter().sum::<f64>();
            e.iter().map(|v| v * rate).collect()
        }
        Family::Binomial => {
            if offset.iter().any(|o| *o != 0.0) {
                fit_null_binomial_with_offset(y, offset)?
            } else {
                vec![ybar; n]
            }
        }
    };
    let null_deviance = (0..n).map(|i| ops.unit_deviance(y[i], null_mu[i])).sum();
    Ok(GlmFit {
        family,
        coefficients,
        covariance: cov,
        log_likelihood,
        deviance,
        null_deviance,
        pearson_chi2,
        df_residual: n - p,
        fitted: mu,
        iterations,
        level: 0.95,
    })
}

fn fit_null_binomial_with_offset(y: &[f64], offset: &[f64]) -> Result<Vec<f64>> {
    let names = vec!["const".to_string()];
    let rows = vec![vec![1.0]; y.len()];
    let d = Design::new(names, rows)?;
    let ops = FamilyOps {
        family: Family::Binomial,
    };
    let mut b = 0.0_f64;
    for _ in 0..MAX_ITER {
        let eta = linear_predictor(d.rows(), &[b], offset);
        let mu: Vec<f64> = eta.iter().map(|e| ops.mean(*e)).collect();
        let g: f64 = y.iter().zip(&mu).map(|(y, m)| y - m).sum();
        let h: f64 = mu.iter().map(|m| ops.variance(*m)).sum();
        let step = g / h;
        b += step;
        if step.abs() < 1e-13 {
            return Ok(linear_predictor(d.rows(), &[b], offset)
                .iter()
                .map(|e| ops.mean(*e))
                .collect());
        }
    }
    Err(StatsError::NoConvergence {
        iterations: MAX_ITER,
        detail: "null binomial model".into(),
    })
}

/// Poisson GLM with log link: `ln E[yᵢ] = xᵢᵀβ + offsetᵢ`.
///
/// `y` are non-negative counts; `offset` is usually `ln(exposure)`.
///
/// # Errors
/// Validation errors, [`StatsError::Singular`] for collinear designs,
/// [`StatsError::NoConvergence`].
pub fn poisson(design: &Design, y: &[f64], offset: Option<&[f64]>) -> Result<GlmFit> {
    let off = validate_response(design, y, offset)?;
    if y.iter().any(|v| *v < 0.0) {
        return Err(StatsError::InvalidInput("negative count".into()));
    }
    fit_glm(Family::Poisson, design, y, &off)
}

/// Logistic regression (binomial GLM, logit link) for a 0/1 response (values in `[0, 1]` are
/// accepted and treated as Bernoulli means).
///
/// # Errors
/// As [`poisson`]; complete separation shows up as [`StatsError::NoConvergence`] or
/// [`StatsError::Singular`].
pub fn logistic(design: &Design, y: &[f64]) -> Result<GlmFit> {
    let off = validate_response(design, y, None)?;
    if y.iter().any(|v| !(0.0..=1.0).contains(v)) {
        return Err(StatsError::InvalidInput(
            "response must lie in [0, 1]".into(),
        ));
    }
    fit_glm(Family::Binomial, design, y, &off)
}

/// A yearly trend in a rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// Multiplicative change in the rate per year, `exp(β_year)`.
    pub rate_ratio_per_year: f64,
    /// Lower 95 % limit (model-based Poisson SE).
    pub ci_low: f64,
    /// Upper 95 % limit (model-based Poisson SE).
    pub ci_high: f64,
    /// Wald p-value for "no trend" (model-based).
    pub p_value: f64,
    /// Pearson dispersion of the fit.
    pub dispersion: f64,
    /// Lower 95 % limit with quasi-Poisson SE (use when `dispersion` ≫ 1).
    pub quasi_ci_low: f64,
    /// Upper 95 % limit with quasi-Poisson SE.
    pub quasi_ci_high: f64,
    /// Quasi-Poisson p-value.
    pub quasi_p_value: f64,
    /// The underlying fit (columns `const`, `year_centred`).
    pub fit: GlmFit,
}

/// Log-linear trend test: Poisson regression of `counts` on `year` (centred at its mean) with
/// `ln(exposure)` as offset. Answers "is the *rate* (count per unit exposure) rising?".
///
/// # Errors
/// [`StatsError::InvalidInput`] for non-positive exposure or a single distinct year, plus
/// anything [`poisson`] can return.
pub fn poisson_trend(years: &[f64], counts: &[f64], exposure: &[f64]) -> Result<Trend> {
    if years.is_empty() {
        return Err(StatsError::Empty);
    }
    if exposure.iter().any(|e| !(*e > 0.0 && e.is_finite())) {
        return Err(StatsError::InvalidInput("exposure must be positive".into()));
    }
    if exposure.len() != years.len() {
        return Err(StatsError::LengthMismatch {
            what: "exposure",
            got: exposure.len(),
            expected: years.len(),
        });
    }
    let mean = years.iter().sum::<f64>() / years.len() as f64;
    if years.iter().all(|y| (*y - mean).abs() < 1e-12) {
        return Err(StatsError::InvalidInput(
            "need at least two distinct years".into(),
        ));
    }
    let design = Design::new(
        vec!["const".into(), "year_centred".into()],
        years.iter().map(|y| vec![1.0, y - mean]).collect(),
    )?;
    let offset: Vec<f64> = exposure.iter().map(|e| e.ln()).collect();
    let fit = poisson(&design, counts, Some(&offset))?;
    let c = &fit.coefficients[1];
    let q = &fit.quasi_coefficients()[1];
    Ok(Trend {
        rate_ratio_per_year: c.estimate.exp(),
        ci_low: c.ci_low.exp(),
        ci_high: c.ci_high.exp(),
        p_value: c.p_value,
        dispersion: fit.pearson_dispersion(),
        quasi_ci_low: q.ci_low.exp(),
        quasi_ci_high: q.ci_high.exp(),
        quasi_p_value: q.p_value,
        fit,
    })
}

/// A fitted NB2 negative-binomial regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NegBinFit {
    /// Regression coefficients (log scale; `exp` gives rate ratios).
    pub coefficients: Vec<Coefficient>,
    /// Dispersion `α` in `Var Y = μ + α μ²`; `0` at the boundary.
    pub alpha: f64,
    /// Standard error of `α` (observed information); `0` at the boundary, where `α̂ = 0` is
    /// a constrained maximum and has no Wald interval.
    pub alpha_std_error: f64,
    /// Covariance of `(β…, α)` (inverse observed information); at the boundary the Poisson
    /// covariance of `β` with a zero row and column for `α`.
    pub covariance: Matrix,
    /// Maximised log-likelihood.
    pub log_likelihood: f64,
    /// Likelihood evaluations (profile search and Newton steps) used.
    pub iterations: usize,
    /// `true` when the likelihood is maximised at the boundary `α = 0` (the data are not
    /// over-dispersed): the model *is* the Poisson model, and coefficients, standard errors
    /// and log-likelihood are the Poisson fit's.
    pub boundary: bool,
}

impl NegBinFit {
    /// Coefficient by column name.
    pub fn coefficient(&self, name: &str) -> Option<&Coefficient> {
        self.coefficients.iter().find(|c| c.name == name)
    }
}

/// `[ln(1+x) − x/(1+x)] / x²` and its derivative, accurate for small `x` (a series below
/// 0.01, where the closed form cancels).
fn phi1(x: f64) -> (f64, f64) {
    if x.abs() < 1e-2 {
        // f = Σ_{k≥2} (−1)^k (k−1)/k x^{k−2};  f' = Σ_{k≥3} (−1)^k (k−1)(k−2)/k x^{k−3}
        let (mut f, mut d) = (0.0, 0.0);
        let mut pw = 1.0; // x^{k−2}
        let mut pw_d = 1.0; // x^{k−3}
        for k in 2..24 {
            let kf = f64::from(k);
            let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
            f += sign * (kf - 1.0) / kf * pw;
            if k >= 3 {
                d += sign * (kf - 1.0) * (kf - 2.0) / kf * pw_d;
                pw_d *= x;
            }
            pw *= x;
        }
        (f, d)
    } else {
        let f = (x.ln_1p() - x / (1.0 + x)) / (x * x);
        let d = 1.0 / (x * (1.0 + x) * (1.0 + x)) - 2.0 * f / x;
        (f, d)
    }
}

/// The α-only parts of the NB2 log-likelihood for each distinct count: `Σ_{j<y} ln(1+αj)`,
/// `Σ j/(1+αj)` and `Σ (j/(1+αj))²`, in one pass up to the largest count (so the cost is
/// `O(max y)`, not `O(Σ y)`).
struct CountSums {
    /// Distinct counts, ascending.
    values: Vec<u64>,
    /// Index into `values` for each observation.
    index: Vec<usize>,
}

impl CountSums {
    fn new(y: &[u64]) -> Self {
        let mut values: Vec<u64> = y.to_vec();
        values.sort_unstable();
        values.dedup();
        let index = y
            .iter()
            .map(|v| values.binary_search(v).unwrap_or(0))
            .collect();
        Self { values, index }
    }

    fn at(&self, alpha: f64) -> Vec<[f64; 3]> {
        let mut out = vec![[0.0; 3]; self.values.len()];
        let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
        let mut j = 0u64;
        for (k, v) in self.values.iter().enumerate() {
            while j < *v {
                let jf = j as f64;
                let t = 1.0 + alpha * jf;
                s0 += (alpha * jf).ln_1p();
                s1 += jf / t;
                s2 += (jf / t) * (jf / t);
                j += 1;
            }
            out[k] = [s0, s1, s2];
        }
        out
    }
}

/// The NB2 problem: data and the evaluation of the log-likelihood, score and Hessian.
struct Nb2<'a> {
    rows: &'a [Vec<f64>],
    y: Vec<f64>,
    offset: &'a [f64],
    sums: CountSums,
    ln_fact: f64,
}

struct NbEval {
    ll: f64,
    grad: Vec<f64>,
    hess: Matrix,
}

impl Nb2<'_> {
    /// Log-likelihood, score and Hessian in `(β, α)` at `α > 0`.
    fn eval(&self, beta: &[f64], alpha: f64) -> NbEval {
        let p = beta.len();
        let mut ll = -self.ln_fact;
        let mut grad = vec![0.0; p + 1];
        let mut hess = zeros(p + 1);
        let eta = linear_predictor(self.rows, beta, self.offset);
        let sums = self.sums.at(alpha);
        for (i, x) in self.rows.iter().enumerate() {
            let yi = self.y[i];
            let mu = eta[i].exp();
            let xm = alpha * mu;
            let q = 1.0 + xm;
            let [s0, s1, s2] = sums[self.sums.index[i]];
            // −(y + 1/α) ln(1+αμ), with (1/α) ln(1+αμ) = μ · ln1p(x)/x
            let l1p = xm.ln_1p();
            let inv_a_term = if xm > 0.0 { mu * l1p / xm } else { mu };
            ll += s0 + xlogy(yi, mu) - yi * l1p - inv_a_term;
            let (f1, d1) = phi1(xm);
            let d_eta = (yi - mu) / q;
            let d_eta2 = -mu * (1.0 + alpha * yi) / (q * q);
            let d_a = s1 + mu * mu * f1 - yi * mu / q;
            let d_a2 = -s2 + mu * mu * mu * d1 + yi * mu * mu / (q * q);
            let d_ea = -(yi - mu) * mu / (q * q);
            for a in 0..p {
                grad[a] += d_eta * x[a];
                for b in 0..p {
                    hess[a][b] += d_eta2 * x[a] * x[b];
                }
                hess[a][p] += d_ea * x[a];
                hess[p][a] += d_ea * x[a];
            }
            grad[p] += d_a;
            hess[p][p] += d_a2;
        }
        NbEval { ll, grad, hess }
    }

    /// The profile log-likelihood at `α`: `β` maximised by Newton's method (the NB2
    /// log-likelihood is concave in `β` for fixed `α`), warm-started from `beta`.
    fn profile(&self, beta: &mut Vec<f64>, alpha: f64, evals: &mut usize) -> Result<f64> {
        let p = beta.len();
        let mut cur = self.eval(beta, alpha);
        *evals += 1;
        for _ in 0..100 {
            let neg_h: Matrix = (0..p)
                .map(|a| (0..p).map(|b| -cur.hess[a][b]).collect())
                .collect();
            let step = mat_vec(&invert(&neg_h)?, &cur.grad[..p]);
            let decrement: f64 = step.iter().zip(&cur.grad).map(|(s, g)| s * g).sum();
            if decrement < 1e-9 {
                // quadratic convergence: one full Newton step lands at the maximum to
                // machine precision (the log-likelihood no longer resolves the difference)
                let b_new: Vec<f64> = (0..p).map(|j| beta[j] + step[j]).collect();
                let ev = self.eval(&b_new, alpha);
                *evals += 1;
                if ev.ll.is_finite() && ev.ll >= cur.ll - 1e-12 * (1.0 + cur.ll.abs()) {
                    *beta = b_new;
                    return Ok(ev.ll);
                }
                return Ok(cur.ll);
            }
            let mut t = 1.0;
            loop {
                let b_new: Vec<f64> = (0..p).map(|j| beta[j] + t * step[j]).collect();
                let ev = self.eval(&b_new, alpha);
                *evals += 1;
                if ev.ll.is_finite() && ev.ll >= cur.ll {
                    *beta = b_new;
                    cur = ev;
                    break;
                }
                t /= 2.0;
                if t < 1e-10 {
                    // no ascent left in β at machine precision: this is the maximum
                    return Ok(cur.ll);
                }
            }
        }
        Err(StatsError::NoConvergence {
            iterations: *evals,
            detail: format!("NB2 coefficients for fixed alpha = {alpha:e} did not settle"),
        })
    }
}

/// NB2 negative-binomial regression with log link and optional offset, by full maximum
/// likelihood over `(β, α)`, `α ≥ 0`.
///
/// The fit is organised so that a point is only reported when it *is* the maximum:
/// 1. the profile log-likelihood `max_β ℓ(β, α)` (concave in `β`) is searched over a grid of
///    `ln α` and refined by golden section around the best grid point;
/// 2. Newton–Raphson on `(β, α)` from there, with step halving;
/// 3. **convergence** is declared only when the Newton decrement `gᵀ(−H)⁻¹g` (twice the
///    log-likelihood still to gain) is below `1e-12` *and* `−H` is positive definite — a
///    strict local maximum with zero score. A small step is never taken as convergence.
///
/// At `α → 0` the NB2 likelihood tends to the Poisson likelihood, and its slope in `α` there
/// is `½ Σ [(y − μ̂)² − y]` at the Poisson fit. When that slope is not positive and no `α > 0`
/// on the grid does better than Poisson, the maximum is the **boundary** `α = 0`: the result
/// has `boundary = true`, `alpha = 0`, and the Poisson fit's coefficients, standard errors
/// and log-likelihood (the data are not over-dispersed; under-dispersion cannot be
/// expressed by NB2).
///
/// `y` must hold non-negative integers (stored as `f64`). Cost per evaluation is
/// `O(n p² + max y)`.
///
/// # Errors
/// Validation errors; [`StatsError::NoConvergence`] if no maximum with zero score and
/// negative-definite Hessian is found (for instance `α → ∞`) — the caller must then report
/// that the model was not fitted rather than print numbers.
pub fn negative_binomial(design: &Design, y: &[f64], offset: Option<&[f64]>) -> Result<NegBinFit> {
    let off = validate_response(design, y, offset)?;
    if y.iter().any(|v| *v < 0.0 || v.fract() != 0.0) {
        return Err(StatsError::InvalidInput(
            "negative binomial response must be non-negative integers".into(),
        ));
    }
    let yi: Vec<u64> = y.iter().map(|v| *v as u64).collect();
    let pois = poisson(design, y, offset)?;
    let p = design.p();
    let nb = Nb2 {
        rows: design.rows(),
        y: y.to_vec(),
        offset: &off,
        sums: CountSums::new(&yi),
        ln_fact: y.iter().map(|v| ln_gamma(v + 1.0)).sum(),
    };
    let beta_p: Vec<f64> = pois.coefficients.iter().map(|c| c.estimate).collect();
    let mut evals = 0usize;
    // slope of the profile likelihood at α = 0+
    let slope0: f64 = 0.5
        * y.iter()
            .zip(&pois.fitted)
            .map(|(y, m)| (y - m).powi(2) - y)
            .sum::<f64>();
    // 1. grid over ln α
    let mut grid: Vec<(f64, f64, Vec<f64>)> = Vec::new();
    let mut beta = beta_p.clone();
    let mut la: f64 = -12.0;
    while la <= 4.0 + 1e-9 {
        let ll = nb.profile(&mut beta, la.exp(), &mut evals)?;
        grid.push((la, ll, beta.clone()));
        la += 0.5;
    }
    // extend upward while the likelihood still rises at the top
    while grid.len() >= 2
        && grid[grid.len() - 1].1 > grid[grid.len() - 2].1
        && grid[grid.len() - 1].0 < 12.0
    {
        let mut b = grid[grid.len() - 1].2.clone();
        let la = grid[grid.len() - 1].0 + 0.5;
        let ll = nb.profile(&mut b, la.exp(), &mut evals)?;
        grid.push((la, ll, b));
    }
    let best = (0..grid.len())
        .max_by(|a, b| grid[*a].1.total_cmp(&grid[*b].1))
        .unwrap_or(0);
    let boundary_fit = |evals: usize| {
        let mut cov = zeros(p + 1);
        for (a, row) in pois.covariance.iter().enumerate() {
            cov[a][..p].copy_from_slice(row);
        }
        NegBinFit {
            coefficients: pois.coefficients.clone(),
            alpha: 0.0,
            alpha_std_error: 0.0,
            covariance: cov,
            log_likelihood: pois.log_likelihood,
            iterations: evals,
            boundary: true,
        }
    };
    let tiny = 1e-10 * (1.0 + pois.log_likelihood.abs());
    if slope0 <= 0.0 && grid[best].1 <= pois.log_likelihood + tiny {
        return Ok(boundary_fit(evals));
    }
    if best == grid.len() - 1 {
        return Err(StatsError::NoConvergence {
            iterations: evals,
            detail: format!(
                "NB2 likelihood still rising at alpha = {:e} (alpha -> infinity)",
                grid[best].0.exp()
            ),
        });
    }
    // 2. golden section on ln α around the best grid point (below the grid: towards 0)
    let (mut lo, mut hi) = if best == 0 {
        (-40.0, grid[1].0)
    } else {
        (grid[best - 1].0, grid[best + 1].0)
    };
    let mut beta = grid[best].2.clone();
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let mut x1 = hi - g * (hi - lo);
    let mut x2 = lo + g * (hi - lo);
    let mut b1 = beta.clone();
    let mut f1 = nb.profile(&mut b1, f64::exp(x1), &mut evals)?;
    let mut b2 = beta.clone();
    let mut f2 = nb.profile(&mut b2, f64::exp(x2), &mut evals)?;
    while hi - lo > 1e-6 {
        if f1 >= f2 {
            hi = x2;
            x2 = x1;
            f2 = f1;
            b2 = b1.clone();
            x1 = hi - g * (hi - lo);
            f1 = nb.profile(&mut b1, f64::exp(x1), &mut evals)?;
        } else {
            lo = x1;
            x1 = x2;
            f1 = f2;
            b1 = b2.clone();
            x2 = lo + g * (hi - lo);
            f2 = nb.profile(&mut b2, f64::exp(x2), &mut evals)?;
        }
    }
    let mut alpha;
    if f1 >= f2 {
        alpha = x1.exp();
        beta = b1;
    } else {
        alpha = x2.exp();
        beta = b2;
    }
    if slope0 <= 0.0 && f1.max(f2) <= pois.log_likelihood + tiny {
        return Ok(boundary_fit(evals));
    }
    // 3. Newton on (β, α) until the score is zero at a maximum
    let mut cur = nb.eval(&beta, alpha);
    evals += 1;
    let mut converged = false;
    for _ in 0..100 {
        let neg_h: Matrix = cur
            .hess
            .iter()
            .map(|r| r.iter().map(|v| -v).collect())
            .collect();
        let definite = is_positive_definite(&neg_h);
        let step = if definite {
            mat_vec(&invert(&neg_h)?, &cur.grad)
        } else {
            Vec::new()
        };
        let decrement: f64 = step.iter().zip(&cur.grad).map(|(s, g)| s * g).sum();
        if definite && decrement < 1e-12 {
            converged = true;
            break;
        }
        if !definite {
            break;
        }
        if decrement < 1e-6 {
            // close to a strict maximum: full Newton steps (quadratic convergence); the
            // decrement test above decides on the next pass
            let a_new = alpha + step[p];
            if a_new > 0.0 {
                beta = (0..p).map(|j| beta[j] + step[j]).collect();
                alpha = a_new;
                cur = nb.eval(&beta, alpha);
                evals += 1;
                continue;
            }
        }
        let mut t = 1.0;
        let mut moved = false;
        while t > 1e-12 {
            let a_new = alpha + t * step[p];
            if a_new > 0.0 {
                let b_new: Vec<f64> = (0..p).map(|j| beta[j] + t * step[j]).collect();
                let ev = nb.eval(&b_new, a_new);
                evals += 1;
                if ev.ll.is_finite() && ev.ll >= cur.ll {
                    beta = b_new;
                    alpha = a_new;
                    cur = ev;
                    moved = true;
                    break;
                }
            }
            t /= 2.0;
        }
        if !moved {
            // no ascent along the Newton direction; the decrement test decides above on
            // the next pass only if something changed, so stop and let the check below fail
            break;
        }
    }
    if !converged {
        let gmax = cur.grad.iter().fold(0.0_f64, |m, g| m.max(g.abs()));
        return Err(StatsError::NoConvergence {
            iterations: evals,
            detail: format!(
                "NB2 maximum not found: score {gmax:e} at alpha = {alpha:e}, Hessian {}",
                if is_positive_definite(
                    &cur.hess
                        .iter()
                        .map(|r| r.iter().map(|v| -v).collect::<Vec<f64>>())
                        .collect::<Vec<_>>()
                ) {
                    "negative definite"
                } else {
                    "not negative definite"
                }
            ),
        });
    }
    let neg_h: Matrix = cur
        .hess
        .iter()
        .map(|r| r.iter().map(|v| -v).collect())
        .collect();
    let cov = invert(&neg_h)?;
    let z = z_critical(0.95)?;
    let coefficients = design
        .names()
        .iter()
        .enumerate()
        .map(|(j, name)| Coefficient::new(name.clone(), beta[j], cov[j][j].sqrt(), z))
        .collect();
    Ok(NegBinFit {
        coefficients,
        alpha,
        alpha_std_error: cov[p][p].sqrt(),
        covariance: cov,
        log_likelihood: cur.ll,
        iterations: evals,
        boundary: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design(rows: Vec<Vec<f64>>) -> Design {
        let p = rows[0].len();
        Design::new((0..p).map(|j| format!("x{j}")).collect(), rows).unwrap()
    }

    #[test]
    fn saturated_two_group_poisson_is_closed_form() {
        // Two groups: rate 10/100 and 30/150. MLE: log rates, SE = 1/sqrt(count).
        let d = design(vec![vec![1.0, 0.0], vec![1.0, 1.0]]);
        let off = [100f64.ln(), 150f64.ln()];
        let f = poisson(&d, &[10.0, 30.0], Some(&off)).unwrap();
        assert!((f.coefficients[0].estimate - 0.1f64.ln()).abs() < 1e-10);
        assert!((f.coefficients[1].estimate - 2.0f64.ln()).abs() < 1e-10);
        let se1 = (1.0 / 10.0 + 1.0 / 30.0f64).sqrt();
        assert!((f.coefficients[1].std_error - se1).abs() < 1e-10);
        assert!(f.deviance.abs() < 1e-10);
        let (rr, lo, hi) = f.coefficients[1].ratio();
        assert!((rr - 2.0).abs() < 1e-9 && lo < 2.0 && hi > 2.0);
    }

    #[test]
    fn trend_detects_rising_rate() {
        let years: Vec<f64> = (2015..2025).map(f64::from).collect();
        let exposure = vec![1000.0; 10];
        let counts: Vec<f64> = (0..10).map(|i| (50.0 * 1.1f64.powi(i)).round()).collect();
        let t = poisson_trend(&years, &counts, &exposure).unwrap();
        assert!((t.rate_ratio_per_year - 1.1).abs() < 0.01);
        assert!(t.p_value < 1e-6 && t.ci_low > 1.0);
        let flat = poisson_trend(&years, &[50.0; 10], &exposure).unwrap();
        assert!((flat.rate_ratio_per_year - 1.0).abs() < 1e-9 && flat.p_value > 0.99);
        assert!(poisson_trend(&[2020.0, 2020.0], &[1.0, 2.0], &[1.0, 1.0]).is_err());
        assert!(poisson_trend(&[2020.0, 2021.0], &[1.0, 2.0], &[0.0, 1.0]).is_err());
    }

    #[test]
    fn rejects_bad_inputs_and_collinearity() {
        let d = design(vec![vec![1.0, 2.0], vec![1.0, 2.0], vec![1.0, 2.0]]);
        assert!(matches!(
            poisson(&d, &[1.0, 2.0, 3.0], None),
            Err(StatsError::Singular(_))
        ));
        let d2 = design(vec![vec![1.0], vec![1.0]]);
        assert!(poisson(&d2, &[-1.0, 2.0], None).is_err());
        assert!(poisson(&d2, &[1.0], None).is_err());
        assert!(logistic(&d2, &[2.0, 0.0]).is_err());
        assert!(negative_binomial(&d2, &[1.5, 2.0], None).is_err());
        assert!(Design::new(vec!["a".into()], vec![vec![1.0, 2.0]]).is_err());
    }

    #[test]
    fn logistic_separation_is_reported() {
        let d = design(vec![
            vec![1.0, 0.0],
            vec![1.0, 1.0],
            vec![1.0, 2.0],
            vec![1.0, 3.0],
        ]);
        assert!(logistic(&d, &[0.0, 0.0, 1.0, 1.0]).is_err());
    }
}
