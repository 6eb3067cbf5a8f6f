//! Every `nrmp-bench` subcommand runs with its documented flags (tiny sizes) and prints its
//! figures; the ones that need a database run on SQLite and PostgreSQL. Only that they work and
//! what they report is checked here, never how fast: figures belong in docs/benchmarks.md.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use nrmp_store::Backend;
use nrmp_store::prelude::*;
use nrmp_store::test_support::TestDb;
use std::process::Command;

/// Runs `nrmp-bench ARGS`, asserts success, returns standard output.
fn bench(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_nrmp-bench"))
        .args(args)
        .env_remove("NRMP_USER")
        .env_remove("NRMP_ORG")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "nrmp-bench {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn has(out: &str, what: &str) {
    assert!(out.contains(what), "no `{what}` in:\n{out}");
}

#[test]
fn matching_benchmarks_run_with_their_flags() {
    let out = bench(&["match-accuracy", "--persons", "400", "--seed", "5"]);
    has(&out, "nrmp-bench match-accuracy: 400 true persons, seed 5");
    has(&out, "recall@10");
    has(&out, "Blocking (lookup keys): recall");
    has(&out, "(* the chosen threshold)");

    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.txt");
    let out = bench(&[
        "match-accuracy",
        "--persons",
        "400",
        "--seed",
        "5",
        "--threshold",
        "0.9",
        "--dump",
        dump.to_str().unwrap(),
    ]);
    has(&out, "0.9*");
    has(&out, "missed true pairs and");
    assert!(dump.exists());

    let out = bench(&["match", "--persons", "400", "--queries", "50", "--k", "5"]);
    has(&out, "nrmp-bench match: 400 true persons, seed 1");
    has(&out, "lookup latency (1 thread,");
    has(&out, "k=5");

    let work = dir.path().join("dedup");
    let out = bench(&[
        "dedup",
        "--records",
        "400",
        "--work-dir",
        work.to_str().unwrap(),
    ]);
    has(&out, "nrmp-bench dedup: 400 synthetic person records");
    has(&out, "dedup end to end");
    // --work-dir keeps the CSV and the outputs
    let pairs = std::fs::read_to_string(work.join("pairs.csv")).unwrap();
    assert!(pairs.starts_with("left_id,right_id,match_probability,match_weight"));
    assert!(work.join("clusters.csv").exists());

    let out = bench(&["stats", "--in-memory", "--persons", "300", "--repeat", "1"]);
    has(
        &out,
        "nrmp-bench stats: 300 persons (seed 1), generated in memory",
    );
    has(&out, "for all 12 standard tables");
    has(&out, "researcher:");
}

#[test]
fn bad_flags_are_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_nrmp-bench"))
        .args(["match-accuracy", "--persons", "10", "--threshold", "1.5"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--threshold"), "{err}");
}

async fn database_benchmarks_run_with_their_flags(backend: Backend) {
    let db = TestDb::new(backend).await.unwrap();
    let out = bench(&["import", "--persons", "100", "--database", &db.url]);
    has(&out, "nrmp-bench import: 100 persons, seed 1");
    has(&out, "import:");
    has(&out, "database:");
    assert!(db.store.counts().await.unwrap().persons >= 100);
    // the import benchmark needs an empty register
    let again = Command::new(env!("CARGO_BIN_EXE_nrmp-bench"))
        .args(["import", "--persons", "100", "--database", &db.url])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds persons"));

    // uses the register as it is
    let out = bench(&["stats", "--database", &db.url, "--repeat", "1"]);
    has(&out, "using the register in");
    has(&out, "load:");

    let out = bench(&[
        "audit",
        "--database",
        &db.url,
        "--events",
        "40",
        "--writers",
        "2",
    ]);
    has(&out, "appends            40 events from 2 writers");
    has(&out, "verify");
    db.cleanup().await;

    // fills an empty register first
    let db = TestDb::new(backend).await.unwrap();
    let out = bench(&[
        "stats",
        "--database",
        &db.url,
        "--persons",
        "100",
        "--repeat",
        "1",
    ]);
    has(&out, "nrmp-bench stats: generating 100 persons (seed 1)");
    has(&out, "load:");
    db.cleanup().await;
}

nrmp_store::on_both_backends!(database_benchmarks_run_with_their_flags);
