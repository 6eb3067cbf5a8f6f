//! Proportions, Kaplan–Meier and log-rank against statsmodels / lifelines fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: panics are failures

mod common;
use common::*;
use nrmp_stats::Proportion;
use nrmp_stats::survival::{KaplanMeier, log_rank};

#[test]
fn wilson_matches_statsmodels() {
    let fx = load(include_str!("../fixtures/proportion_wilson.json"));
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for c in cases {
        let x = c["count"].as_u64().unwrap();
        let n = c["denominator"].as_u64().unwrap();
        let p = Proportion::wilson(x, n).unwrap();
        let what = format!("wilson {x}/{n}");
        close(p.estimate, num(&c["estimate"]), 1e-15, &what);
        close(p.ci_low, num(&c["ci_low"]), 1e-12, &what);
        close(p.ci_high, num(&c["ci_high"]), 1e-12, &what);
    }
}

#[test]
fn kaplan_meier_matches_lifelines_and_statsmodels() {
    let fx = load(include_str!("../fixtures/kaplan_meier.json"));
    let cases = fx["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let t = vec_f64(&c["durations"]);
        let e = vec_bool(&c["events"]);
        let km = KaplanMeier::fit(&t, &e).unwrap();
        let ev: Vec<_> = km.event_steps().copied().collect();
        let col =
            |f: fn(&nrmp_stats::survival::KmStep) -> f64| ev.iter().map(f).collect::<Vec<_>>();
        close_all(&col(|s| s.time), &vec_f64(&c["event_times"]), 0.0, name);
        close_all(
            &col(|s| s.n_at_risk as f64),
            &vec_f64(&c["n_at_risk"]),
            0.0,
            name,
        );
        close_all(
            &col(|s| s.n_events as f64),
            &vec_f64(&c["n_events"]),
            0.0,
            name,
        );
        close_all(
            &col(|s| s.survival),
            &vec_f64(&c["survival"]),
            1e-9,
            &format!("{name} S"),
        );
        close_all(
            &col(|s| s.greenwood_sum),
            &vec_f64(&c["greenwood_sum"]),
            1e-9,
            &format!("{name} greenwood"),
        );
        close_all(
            &col(|s| s.std_error),
            &vec_f64(&c["se_survival"]),
            1e-9,
            &format!("{name} SE"),
        );
        close_all(
            &col(|s| s.ci_low),
            &vec_f64(&c["ci_low_loglog"]),
            1e-9,
            &format!("{name} lo"),
        );
        close_all(
            &col(|s| s.ci_high),
            &vec_f64(&c["ci_high_loglog"]),
            1e-9,
            &format!("{name} hi"),
        );

        let med = km.median();
        assert_eq!(med.estimate, finite_or_none(&c["median"]), "{name} median");
        assert_eq!(
            med.ci_low,
            finite_or_none(&c["median_ci_low"]),
            "{name} median lo"
        );
        assert_eq!(
            med.ci_high,
            finite_or_none(&c["median_ci_high"]),
            "{name} median hi"
        );

        for a in c["at_times"].as_array().unwrap() {
            let s = km.survival_at(num(&a["time"]));
            let what = format!("{name} at {}", s.time);
            close(s.survival, num(&a["survival"]), 1e-9, &what);
            close(s.ci_low, num(&a["ci_low"]), 1e-9, &what);
            close(s.ci_high, num(&a["ci_high"]), 1e-9, &what);
            // Greenwood SE at arbitrary t follows from the sum
            close(
                s.std_error,
                s.survival * num(&a["greenwood_sum"]).sqrt(),
                1e-12,
                &what,
            );
            let (f, flo, fhi) = s.failure();
            assert!(flo <= f && f <= fhi);
        }
    }
}

#[test]
fn plain_interval_is_linear_greenwood() {
    let fx = load(include_str!("../fixtures/kaplan_meier.json"));
    let c = &fx["cases"][0];
    let km = KaplanMeier::fit(&vec_f64(&c["durations"]), &vec_bool(&c["events"])).unwrap();
    let se = vec_f64(&c["se_survival"]);
    for (s, se) in km.event_steps().zip(se) {
        close(
            s.ci_low_plain,
            (s.survival - 1.959963984540054 * se).max(0.0),
            1e-9,
            "plain lo",
        );
        close(
            s.ci_high_plain,
            (s.survival + 1.959963984540054 * se).min(1.0),
            1e-9,
            "plain hi",
        );
    }
}

#[test]
fn log_rank_matches_lifelines_and_statsmodels() {
    let fx = load(include_str!("../fixtures/logrank.json"));
    for c in fx["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let groups: Vec<u32> = vec_f64(&c["groups"]).iter().map(|g| *g as u32).collect();
        let lr = log_rank(&vec_f64(&c["durations"]), &vec_bool(&c["events"]), &groups).unwrap();
        assert_eq!(lr.df as u64, c["df"].as_u64().unwrap(), "{name}");
        close(lr.chisq, num(&c["chisq"]), 1e-9, name);
        close(lr.chisq, num(&c["statsmodels_chisq"]), 1e-9, name);
        close(lr.p_value, num(&c["p_value"]), 1e-9, name);
        let o: f64 = lr.observed.iter().sum();
        let ex: f64 = lr.expected.iter().sum();
        close(o, ex, 1e-12, "sum O = sum E");
    }
}
