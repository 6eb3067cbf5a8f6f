//! Helpers for reading the JSON fixtures produced by `fixtures/make_fixtures.py`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test helpers: panics are failures

use serde_json::Value;

pub fn load(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is valid JSON")
}

/// A number; the strings "inf"/"-inf" map to infinities.
pub fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("finite number"),
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        other => panic!("not a number: {other}"),
    }
}

/// A finite number, or `None` for "inf" (e.g. a median CI limit that is not reached).
pub fn finite_or_none(v: &Value) -> Option<f64> {
    let x = num(v);
    x.is_finite().then_some(x)
}

pub fn vec_f64(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(num).collect()
}

pub fn vec_bool(v: &Value) -> Vec<bool> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| num(x) != 0.0)
        .collect()
}

pub fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().expect("array").iter().map(vec_f64).collect()
}

pub fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().expect("string").to_string())
        .collect()
}

#[track_caller]
pub fn close(got: f64, want: f64, tol: f64, what: &str) {
    let ok = if want.is_infinite() {
        got == want
    } else {
        (got - want).abs() <= tol * want.abs().max(1.0)
    };
    assert!(ok, "{what}: got {got:.15e}, want {want:.15e} (tol {tol:e})");
}

#[track_caller]
pub fn close_all(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        close(*g, *w, tol, &format!("{what}[{i}]"));
    }
}
