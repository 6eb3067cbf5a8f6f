//! Cox model (Efron and Breslow) and the scaled-Schoenfeld PH test against lifelines /
//! statsmodels fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: panics are failures

mod common;
use common::*;
use nrmp_stats::cox::{Ties, TimeTransform, cox_ph, ph_test, schoenfeld_residuals};
use nrmp_stats::regression::Design;

struct Data {
    design: Design,
    t: Vec<f64>,
    e: Vec<bool>,
}

fn data(fx: &serde_json::Value) -> Data {
    Data {
        design: Design::new(names(&fx["names"]), matrix(&fx["x"])).unwrap(),
        t: vec_f64(&fx["durations"]),
        e: vec_bool(&fx["events"]),
    }
}

#[test]
fn efron_matches_lifelines_and_statsmodels() {
    let fx = load(include_str!("../fixtures/cox.json"));
    let d = data(&fx);
    let f = cox_ph(&d.design, &d.t, &d.e, Ties::Efron).unwrap();
    let est: Vec<f64> = f.coefficients.iter().map(|c| c.estimate).collect();
    let se: Vec<f64> = f.coefficients.iter().map(|c| c.std_error).collect();
    let ef = &fx["efron"];
    close_all(&est, &vec_f64(&ef["params"]), 1e-6, "lifelines params");
    close_all(&se, &vec_f64(&ef["bse"]), 1e-6, "lifelines se");
    close(f.log_likelihood, num(&ef["llf"]), 1e-8, "lifelines llf");
    close_all(
        &est,
        &vec_f64(&ef["statsmodels_params"]),
        1e-6,
        "statsmodels params",
    );
    close_all(
        &se,
        &vec_f64(&ef["statsmodels_bse"]),
        1e-6,
        "statsmodels se",
    );
    close(
        f.log_likelihood,
        num(&ef["statsmodels_llf"]),
        1e-8,
        "statsmodels llf",
    );
    assert!(f.n_events > 50 && f.lr_chisq > 0.0);
    let (hr, lo, hi) = f.coefficient("referral").unwrap().ratio();
    assert!(lo < hr && hr < hi);
}

#[test]
fn breslow_matches_statsmodels() {
    let fx = load(include_str!("../fixtures/cox.json"));
    let d = data(&fx);
    let f = cox_ph(&d.design, &d.t, &d.e, Ties::Breslow).unwrap();
    let est: Vec<f64> = f.coefficients.iter().map(|c| c.estimate).collect();
    let se: Vec<f64> = f.coefficients.iter().map(|c| c.std_error).collect();
    let br = &fx["breslow"];
    close_all(&est, &vec_f64(&br["params"]), 1e-6, "params");
    close_all(&se, &vec_f64(&br["bse"]), 1e-6, "se");
    close(f.log_likelihood, num(&br["llf"]), 1e-8, "llf");
}

#[test]
fn ph_test_matches_lifelines() {
    let fx = load(include_str!("../fixtures/cox.json"));
    let d = data(&fx);
    let f = cox_ph(&d.design, &d.t, &d.e, Ties::Efron).unwrap();
    for (key, tr) in [
        ("identity", TimeTransform::Identity),
        ("km", TimeTransform::Km),
        ("log", TimeTransform::Log),
    ] {
        let res = ph_test(&f, &d.design, &d.t, &d.e, tr).unwrap();
        let stat: Vec<f64> = res.iter().map(|r| r.statistic).collect();
        let p: Vec<f64> = res.iter().map(|r| r.p_value).collect();
        close_all(&stat, &vec_f64(&fx["zph"][key]["statistic"]), 1e-6, key);
        close_all(&p, &vec_f64(&fx["zph"][key]["p_value"]), 1e-6, key);
    }
    // Schoenfeld residuals sum to zero over events at the MLE (the score equations)
    let r = schoenfeld_residuals(&f, &d.design, &d.t, &d.e).unwrap();
    assert_eq!(r.len(), f.n_events);
    for j in 0..3 {
        let s: f64 = r.iter().map(|x| x.residual[j]).sum();
        assert!(s.abs() < 1e-8, "score {j} = {s}");
    }
}
