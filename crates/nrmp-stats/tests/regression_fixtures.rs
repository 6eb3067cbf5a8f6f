//! Poisson GLM, NB2 and logistic regression against statsmodels fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: panics are failures

mod common;
use common::*;
use nrmp_stats::regression::{Design, logistic, negative_binomial, poisson};

fn design(fx: &serde_json::Value) -> Design {
    Design::new(names(&fx["names"]), matrix(&fx["x"])).unwrap()
}

#[test]
fn poisson_with_offset_matches_statsmodels() {
    let fx = load(include_str!("../fixtures/poisson_glm.json"));
    let d = design(&fx);
    let off = vec_f64(&fx["offset"]);
    let f = poisson(&d, &vec_f64(&fx["y"]), Some(&off)).unwrap();
    let est: Vec<f64> = f.coefficients.iter().map(|c| c.estimate).collect();
    let se: Vec<f64> = f.coefficients.iter().map(|c| c.std_error).collect();
    close_all(&est, &vec_f64(&fx["params"]), 1e-6, "params");
    close_all(&se, &vec_f64(&fx["bse"]), 1e-6, "bse");
    let lo: Vec<f64> = f.coefficients.iter().map(|c| c.ci_low).collect();
    let hi: Vec<f64> = f.coefficients.iter().map(|c| c.ci_high).collect();
    close_all(&lo, &vec_f64(&fx["ci_low"]), 1e-6, "ci_low");
    close_all(&hi, &vec_f64(&fx["ci_high"]), 1e-6, "ci_high");
    close(f.deviance, num(&fx["deviance"]), 1e-8, "deviance");
    close(
        f.null_deviance,
        num(&fx["null_deviance"]),
        1e-8,
        "null deviance",
    );
    close(f.pearson_chi2, num(&fx["pearson_chi2"]), 1e-8, "pearson");
    close(f.log_likelihood, num(&fx["llf"]), 1e-8, "llf");
    assert_eq!(f.df_residual as f64, num(&fx["df_resid"]));
    let q: Vec<f64> = f.quasi_coefficients().iter().map(|c| c.std_error).collect();
    close_all(&q, &vec_f64(&fx["quasi_bse"]), 1e-6, "quasi bse");
    close(
        f.pearson_dispersion(),
        num(&fx["quasi_scale"]),
        1e-8,
        "scale",
    );
    // rate ratio per year with CI from the same fit
    let (rr, lo, hi) = f.coefficient("year_c").unwrap().ratio();
    assert!(lo < rr && rr < hi);
}

#[test]
fn negative_binomial_nb2_matches_statsmodels() {
    let fx = load(include_str!("../fixtures/negbin_nb2.json"));
    let d = design(&fx);
    let off = vec_f64(&fx["offset"]);
    let f = negative_binomial(&d, &vec_f64(&fx["y"]), Some(&off)).unwrap();
    let est: Vec<f64> = f.coefficients.iter().map(|c| c.estimate).collect();
    let se: Vec<f64> = f.coefficients.iter().map(|c| c.std_error).collect();
    close_all(&est, &vec_f64(&fx["params"]), 1e-6, "params");
    close_all(&se, &vec_f64(&fx["bse"]), 1e-6, "bse");
    close(f.alpha, num(&fx["alpha"]), 1e-6, "alpha");
    close(f.alpha_std_error, num(&fx["alpha_se"]), 1e-6, "alpha se");
    close(f.log_likelihood, num(&fx["llf"]), 1e-8, "llf");
    assert!(!f.boundary);
}

/// Over- and under-dispersed yearly counts and Poisson data either side of the boundary, for
/// the rate model (offset ln(persons at risk)) and the number model (no offset), as
/// `nrmp stats trend` fits them. An interior case must match statsmodels' maximum (zero
/// score, negative-definite Hessian); a boundary case must be flagged and equal the Poisson
/// fit — the starting point must never come back as "converged".
#[test]
fn negative_binomial_cases_match_statsmodels_or_the_poisson_boundary() {
    let fx = load(include_str!("../fixtures/negbin_cases.json"));
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 6);
    let (mut interior, mut boundary, mut number) = (0, 0, 0);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let d = design(c);
        let y = vec_f64(&c["y"]);
        let off = (!c["offset"].is_null()).then(|| vec_f64(&c["offset"]));
        number += usize::from(off.is_none());
        let f = negative_binomial(&d, &y, off.as_deref()).unwrap();
        let est: Vec<f64> = f.coefficients.iter().map(|c| c.estimate).collect();
        let se: Vec<f64> = f.coefficients.iter().map(|c| c.std_error).collect();
        if c["boundary"].as_bool().unwrap() {
            boundary += 1;
            assert!(
                f.boundary,
                "{name}: boundary expected, got alpha {}",
                f.alpha
            );
            assert_eq!(f.alpha, 0.0, "{name}");
            close_all(&est, &vec_f64(&c["poisson_params"]), 1e-6, name);
            close_all(&se, &vec_f64(&c["poisson_bse"]), 1e-6, name);
            close(f.log_likelihood, num(&c["poisson_llf"]), 1e-8, name);
            // statsmodels' own search ends next to the same point
            close_all(&est, &vec_f64(&c["statsmodels_params"]), 1e-3, name);
        } else {
            interior += 1;
            assert!(!f.boundary, "{name}");
            close_all(&est, &vec_f64(&c["params"]), 1e-6, name);
            close_all(&se, &vec_f64(&c["bse"]), 1e-6, name);
            close(f.alpha, num(&c["alpha"]), 1e-6, name);
            close(f.alpha_std_error, num(&c["alpha_se"]), 1e-6, name);
            close(f.log_likelihood, num(&c["llf"]), 1e-8, name);
            assert!(f.log_likelihood > num(&c["poisson_llf"]), "{name}");
        }
    }
    assert!(interior >= 3 && boundary >= 3 && number >= 2);
}

#[test]
fn logistic_matches_statsmodels() {
    let fx = load(include_str!("../fixtures/logit.json"));
    let d = design(&fx);
    let f = logistic(&d, &vec_f64(&fx["y"])).unwrap();
    let est: Vec<f64> = f.coefficients.iter().map(|c| c.estimate).collect();
    let se: Vec<f64> = f.coefficients.iter().map(|c| c.std_error).collect();
    close_all(&est, &vec_f64(&fx["params"]), 1e-6, "params");
    close_all(&se, &vec_f64(&fx["bse"]), 1e-6, "bse");
    let lo: Vec<f64> = f.coefficients.iter().map(|c| c.ci_low).collect();
    close_all(&lo, &vec_f64(&fx["ci_low"]), 1e-6, "ci_low");
    close(f.log_likelihood, num(&fx["llf"]), 1e-8, "llf");
    // null deviance of a logistic model is −2·llnull
    close(
        f.null_deviance,
        -2.0 * num(&fx["llnull"]),
        1e-8,
        "null deviance",
    );
}
