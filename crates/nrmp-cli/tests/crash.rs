//! Crash safety, bounded: `nrmp-bench crash` (crates/nrmp-bench/src/crash.rs) runs this build's
//! `nrmp serve` under concurrent writes and kills it with SIGKILL a few times, on SQLite and on
//! PostgreSQL (where it also terminates the server's database connections once), checking after
//! every kill that each acknowledged write is stored, the database's integrity check passes and
//! the audit chain verifies. The full run (100 cycles) is a benchmark command (docs/benchmarks.md).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use nrmp_bench::crash::{CrashArgs, crash};
use nrmp_cli::ActorArgs;
use nrmp_domain::clock::SystemClock;
use nrmp_store::Backend;
use nrmp_store::test_support::TestDb;
use std::path::Path;
use std::sync::Arc;

async fn bounded_run(backend: Backend) {
    let db = TestDb::new(backend).await.unwrap();
    let args = CrashArgs {
        database: db.url.clone(),
        cycles: 4,
        writers: 4,
        max_run_ms: 600,
        seed: 11,
        nrmp: None,
        actor: ActorArgs {
            user: "crash-test-admin".into(),
            org: "national:nmpu".into(),
            reason: "crash test".into(),
        },
    };
    let report = crash(
        &args,
        Path::new(env!("CARGO_BIN_EXE_nrmp")),
        Arc::new(SystemClock),
    )
    .await
    .unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!("{report}");
    assert_eq!(report.cycles, 4);
    assert!(
        report.acknowledged > 0,
        "the writes reached the server: {report:?}"
    );
    if backend == Backend::Postgres {
        assert_eq!(report.terminations, 1, "{report:?}");
        assert!(
            report.acknowledged_after_termination > 0,
            "the server recovers by itself when its connections are terminated: {report:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_acknowledged_writes_survive_sigkill() {
    bounded_run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_acknowledged_writes_survive_sigkill_and_lost_connections() {
    bounded_run(Backend::Postgres).await;
}
