//! `nrmp train --synthetic` trains on the synthetic crate's matching population
//! (`nrmp_synth::matching`): deterministic for a seed, and the model it writes loads. And the
//! product binary carries no benchmarks: they are `nrmp-bench`, a separate crate.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use nrmp_match::Model;
use std::process::Command;

fn nrmp(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nrmp"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn train_synthetic_is_deterministic_and_writes_a_loadable_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let train = |out: &str, seed: &str| {
        let o = nrmp(&[
            "train",
            "--synthetic",
            "300",
            "--seed",
            seed,
            "--u-pairs",
            "20000",
            "--output",
            out,
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let out = train(&path("a.json"), "3");
    train(&path("b.json"), "3");
    train(&path("c.json"), "4");
    let a = std::fs::read_to_string(path("a.json")).unwrap();
    assert_eq!(a, std::fs::read_to_string(path("b.json")).unwrap());
    assert_ne!(a, std::fs::read_to_string(path("c.json")).unwrap());
    // 300 true persons and their deliberate duplicate records
    let records: usize = out
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(records > 300 && records < 400, "{out}");
    let model = Model::from_json(&a).unwrap();
    assert!(
        model.notes[0].contains("nrmp train --synthetic 300 --until 2026-11-01 --seed 3"),
        "{:?}",
        model.notes
    );
}

#[test]
fn the_product_binary_has_no_benchmarks() {
    let o = nrmp(&["bench", "match-accuracy"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("unrecognized subcommand 'bench'"));
    let help = String::from_utf8(nrmp(&["--help"]).stdout).unwrap();
    assert!(!help.contains("bench"), "{help}");
}
