//! End-to-end tests of the `nrmp` command's work: synthetic data, import, export — every test
//! that touches storage runs on SQLite and on PostgreSQL, each on a fresh database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use chrono::NaiveDate;
use nrmp_cli::commands::synth::{generator, write_dataset};
use nrmp_cli::import::{Options, import_dataset};
use nrmp_interchange::{DatasetFiles, Format};
use nrmp_store::prelude::*;
use nrmp_store::test_support::{TestDb, actor, at};
use nrmp_store::{Backend, Ctx};
use std::path::Path;
use std::process::Command;

#[path = "cli/audit.rs"]
mod audit;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
}

fn ctx() -> Ctx {
    Ctx::new(actor("importer", "national:nmpu"), "test import", at(0))
}

fn synth_to(dir: &Path, seed: u64, persons: usize, format: Format) {
    let g = generator(seed, persons, today()).unwrap();
    write_dataset(&g, dir, format, false).unwrap();
}

async fn import(store: &dyn Store, dir: &Path, skip_invalid: bool) -> nrmp_cli::import::Report {
    let files = DatasetFiles::open(dir).unwrap();
    let opts = Options {
        skip_invalid,
        batch: 97, // small, so batch boundaries are crossed
        progress: false,
    };
    import_dataset(store, &ctx(), &files, today(), opts)
        .await
        .unwrap()
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

/// Rewrites one file of a dataset with `edit` applied to its lines.
fn edit_lines(dir: &Path, file: &str, edit: impl Fn(usize, &str) -> Option<String>) {
    let text = read(dir, file);
    let out: Vec<String> = text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| edit(i + 1, l))
        .collect();
    std::fs::write(dir.join(file), out.join("\n") + "\n").unwrap();
}

#[test]
fn synth_is_reproducible_for_a_seed() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    synth_to(a.path(), 5, 300, Format::Csv);
    synth_to(b.path(), 5, 300, Format::Csv);
    synth_to(c.path(), 6, 300, Format::Csv);
    for f in [
        "persons.csv",
        "incidents.csv",
        "referrals.csv",
        "placements.csv",
        "truth.csv",
    ] {
        assert_eq!(
            read(a.path(), f),
            read(b.path(), f),
            "{f} differs for the same seed"
        );
    }
    assert_ne!(read(a.path(), "persons.csv"), read(c.path(), "persons.csv"));
    // the truth file covers every person record, and some humans have more than one record
    let persons = read(a.path(), "persons.csv").lines().count() - 1;
    let truth = read(a.path(), "truth.csv");
    assert_eq!(truth.lines().count() - 1, persons);
    let mut keys: Vec<&str> = truth
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    assert!(
        keys.len() < persons,
        "no deliberate duplicates were written"
    );
}

nrmp_store::on_both_backends!(
    import_then_export_round_trips,
    a_bad_row_leaves_the_register_unchanged,
    skip_invalid_loads_the_good_rows_and_reports_the_rest,
    references_and_overlaps_are_checked_across_files_and_the_register,
    import_and_api_refuse_the_same_overlong_text,
);

async fn import_then_export_round_trips(backend: Backend) {
    let src = tempfile::tempdir().unwrap();
    synth_to(src.path(), 11, 400, Format::Json);
    let db = TestDb::new(backend).await.unwrap();
    let report = import(db.store.as_ref(), src.path(), false).await;
    assert!(report.committed, "{:?}", report.rejected.first());
    let counts = db.store.counts().await.unwrap();
    assert_eq!(counts.persons, report.loaded["persons"]);
    assert_eq!(counts.incidents, report.loaded["incidents"]);
    assert!(counts.incidents > counts.persons / 2, "{counts:?}");
    assert!(report.ignored.iter().any(|n| n.contains("truth")));

    // Export through the binary (a disclosure, audited), then import into a fresh register.
    let out = tempfile::tempdir().unwrap();
    let export_dir = out.path().join("export");
    let status = Command::new(env!("CARGO_BIN_EXE_nrmp"))
        .args([
            "export",
            "--database",
            &db.url,
            "--recipient",
            "test suite",
            "--out",
        ])
        .arg(&export_dir)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let audit = db.store.audit_events(0, 100).await.unwrap();
    let disclosure = audit.last().unwrap();
    assert_eq!(disclosure.action, nrmp_domain::audit::AuditAction::Disclose);
    assert!(
        disclosure.detail.contains("test suite"),
        "{}",
        disclosure.detail
    );

    let copy = TestDb::new(backend).await.unwrap();
    let again = import(copy.store.as_ref(), &export_dir, false).await;
    assert!(again.committed);
    let c2 = copy.store.counts().await.unwrap();
    assert_eq!(
        (
            c2.persons,
            c2.incidents,
            c2.referrals,
            c2.placements,
            c2.organisations
        ),
        (
            counts.persons,
            counts.incidents,
            counts.referrals,
            counts.placements,
            counts.organisations
        )
    );
    // the records themselves survive the CSV round trip unchanged
    let mut left = Vec::new();
    nrmp_store::scan_all::<nrmp_domain::incident::Incident>(db.store.as_ref(), 1000, |p| {
        left.extend(p);
        Ok(())
    })
    .await
    .unwrap();
    let mut right = Vec::new();
    nrmp_store::scan_all::<nrmp_domain::incident::Incident>(copy.store.as_ref(), 1000, |p| {
        right.extend(p);
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(left, right);
    db.cleanup().await;
    copy.cleanup().await;
}

async fn a_bad_row_leaves_the_register_unchanged(backend: Backend) {
    let src = tempfile::tempdir().unwrap();
    synth_to(src.path(), 12, 200, Format::Csv);
    let header = read(src.path(), "persons.csv")
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let sex_col = header.split(',').position(|c| c == "sex").unwrap();
    // line 5: an impossible sex; line 9: the same again. Everything else is fine.
    edit_lines(src.path(), "persons.csv", |n, l| {
        if n == 5 || n == 9 {
            let mut cells: Vec<String> = l.split(',').map(str::to_owned).collect();
            cells[sex_col] = "q".into();
            Some(cells.join(","))
        } else {
            Some(l.to_owned())
        }
    });
    let db = TestDb::new(backend).await.unwrap();
    let before = db.store.counts().await.unwrap();
    let report = import(db.store.as_ref(), src.path(), false).await;
    assert!(!report.committed);
    let lines: Vec<String> = report.rejected.iter().map(ToString::to_string).collect();
    assert!(
        lines.contains(
            &"persons.csv:5: sex: `q` is not a sex (male, female, other, unknown)".to_owned()
        ),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("persons.csv:9: sex:")),
        "{lines:?}"
    );
    // incidents of the two bad persons are reported too: nothing refers to a missing person
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("persons.csv") || l.contains("person_id")),
        "{lines:?}"
    );
    assert_eq!(
        db.store.counts().await.unwrap(),
        before,
        "the register changed"
    );

    // the binary prints every bad row and a one-line reason, and exits non-zero
    let out = Command::new(env!("CARGO_BIN_EXE_nrmp"))
        .args(["import", "--database", &db.url])
        .arg(src.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("persons.csv:5: sex: `q` is not a sex"),
        "{stderr}"
    );
    let last = stderr.trim_end().lines().last().unwrap().to_owned();
    assert_eq!(
        last,
        format!(
            "error: import refused: {} bad rows (listed above); the register is unchanged",
            report.rejected_rows
        )
    );
    assert_eq!(db.store.counts().await.unwrap(), before);
    db.cleanup().await;
}

async fn skip_invalid_loads_the_good_rows_and_reports_the_rest(backend: Backend) {
    let src = tempfile::tempdir().unwrap();
    synth_to(src.path(), 13, 200, Format::Csv);
    let total_persons = read(src.path(), "persons.csv").lines().count() as u64 - 1;
    // break line 3's date of birth
    let header = read(src.path(), "persons.csv")
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let dob_col = header.split(',').position(|c| c == "dob").unwrap();
    edit_lines(src.path(), "persons.csv", |n, l| {
        if n == 3 {
            let mut cells: Vec<String> = l.split(',').map(str::to_owned).collect();
            cells[dob_col] = "2009-13-01".into();
            Some(cells.join(","))
        } else {
            Some(l.to_owned())
        }
    });
    let db = TestDb::new(backend).await.unwrap();
    let rejects = src.path().join("rejects.txt");
    let out = Command::new(env!("CARGO_BIN_EXE_nrmp"))
        .args([
            "import",
            "--skip-invalid",
            "--database",
            &db.url,
            "--rejects",
        ])
        .arg(&rejects)
        .arg(src.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rejected = std::fs::read_to_string(&rejects).unwrap();
    assert!(
        rejected
            .lines()
            .next()
            .unwrap()
            .starts_with("persons.csv:3: dob: `2009-13-01` is not a date"),
        "{rejected}"
    );
    let c = db.store.counts().await.unwrap();
    assert_eq!(c.persons, total_persons - 1);
    // one import event, naming the rejected rows
    let events = db.store.audit_events(0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert!(
        events[0].detail.contains("rows rejected"),
        "{}",
        events[0].detail
    );
    db.cleanup().await;
}

async fn references_and_overlaps_are_checked_across_files_and_the_register(backend: Backend) {
    let src = tempfile::tempdir().unwrap();
    synth_to(src.path(), 14, 150, Format::Csv);
    let db = TestDb::new(backend).await.unwrap();
    assert!(import(db.store.as_ref(), src.path(), false).await.committed);

    // A second dataset: a new incident for a person already in the register that overlaps one
    // of their stored incidents, and one for a person nobody knows.
    let incidents = read(src.path(), "incidents.csv");
    let mut lines = incidents.lines();
    let header = lines.next().unwrap();
    let first = lines.next().unwrap();
    let cols: Vec<&str> = header.split(',').collect();
    let id_col = cols.iter().position(|c| *c == "id").unwrap();
    let person_col = cols.iter().position(|c| *c == "person_id").unwrap();
    let with = |id: &str, person: Option<&str>| {
        let mut cells: Vec<String> = first.split(',').map(str::to_owned).collect();
        cells[id_col] = id.to_owned();
        if let Some(p) = person {
            cells[person_col] = p.to_owned();
        }
        cells.join(",")
    };
    let second = tempfile::tempdir().unwrap();
    std::fs::write(
        second.path().join("incidents.csv"),
        format!(
            "{header}\n{}\n{}\n",
            with("00000000-0000-4000-8000-000000000001", None),
            with(
                "00000000-0000-4000-8000-000000000002",
                Some("00000000-0000-4000-8000-0000000000ff")
            )
        ),
    )
    .unwrap();
    // A profile of the same stored person, loaded before the incidents, must not hide their
    // stored incidents from the overlap check (regression: it once did).
    let person_id = first.split(',').nth(person_col).unwrap();
    let profile = serde_json::json!({
        "id": "00000000-0000-4000-8000-0000000000aa", "version": 1, "person_id": person_id,
        "prepared_by": "national:nmpu", "prepared_at": "2026-01-01T00:00:00Z",
        "description": {"height_cm": null, "build": null, "hair": null, "eyes": null, "marks": [], "photos": []},
        "associates": [], "places": [], "phones": [], "social_media": [],
        "medical_needs": null, "notes": null
    });
    std::fs::write(second.path().join("profiles.jsonl"), format!("{profile}\n")).unwrap();
    let before = db.store.counts().await.unwrap();
    let report = import(db.store.as_ref(), second.path(), true).await;
    let lines: Vec<String> = report.rejected.iter().map(ToString::to_string).collect();
    assert_eq!(report.rejected_rows, 2, "{lines:?}");
    assert!(
        lines[0].starts_with("incidents.csv:2: last_seen_at: overlaps incident"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("incidents.csv:3: person_id: no person"),
        "{lines:?}"
    );
    assert_eq!(db.store.counts().await.unwrap().incidents, before.incidents);
    assert_eq!(report.loaded.get("profiles"), Some(&1));

    // the same file imported twice: ids already in the register are refused
    let report = import(db.store.as_ref(), src.path(), true).await;
    assert_eq!(
        report.total_loaded(),
        report.loaded.get("organisations").copied().unwrap_or(0)
    );
    assert!(
        report
            .rejected
            .iter()
            .any(|e| e.problem.contains("already in the register"))
    );
    db.cleanup().await;
}

#[test]
fn bad_database_url_is_a_one_line_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_nrmp"))
        .args(["migrate", "--database", "mysql://root:secret@localhost/x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("unsupported database URL"), "{stderr}");
    assert!(!stderr.contains("secret"), "password leaked: {stderr}");
}

#[test]
fn demo_creates_a_register_and_reuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_nrmp"))
            .args(["demo", "--no-serve", "--persons", "300", "--data-dir"])
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(text.contains("first run"), "{text}");
    assert!(dir.path().join("nrmp.db").exists());
    assert!(dir.path().join("truth.csv").exists());
    let second = run();
    let text2 = String::from_utf8_lossy(&second.stdout);
    assert!(!text2.contains("first run"), "{text2}");
    assert!(text2.contains("persons"), "{text2}");
}

/// One rule for bounded text: the importer refuses exactly what the API (the application
/// layer's use case) refuses, naming the same fields with the same problems. Before, `nrmp
/// import` stored a 30,000-character `circumstances` that the API refused.
async fn import_and_api_refuse_the_same_overlong_text(backend: Backend) {
    use nrmp_app::incidents::IncidentInput;
    use nrmp_app::{AppError, Limits, MatchIndex, Register};
    use nrmp_domain::access::{Principal, Role};
    use nrmp_domain::clock::FixedClock;
    use nrmp_domain::ids::RandomIds;
    use nrmp_domain::organisation::{OrgCode, OrgKind};
    use std::sync::Arc;

    let long_circumstances = "c".repeat(30_000);
    let long_place = "p".repeat(600);
    let src = tempfile::tempdir().unwrap();
    synth_to(src.path(), 13, 150, Format::Json);
    let good = read(src.path(), "incidents.jsonl");
    let first: serde_json::Value = serde_json::from_str(good.lines().next().unwrap()).unwrap();
    edit_lines(src.path(), "incidents.jsonl", |n, l| {
        if n != 1 {
            return Some(l.to_owned());
        }
        let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
        v["circumstances"] = long_circumstances.clone().into();
        v["last_seen_place"]["description"] = long_place.clone().into();
        Some(v.to_string())
    });
    let db = TestDb::new(backend).await.unwrap();
    let report = import(db.store.as_ref(), src.path(), false).await;
    assert!(!report.committed);
    let mut imported: Vec<String> = report
        .rejected
        .iter()
        .map(ToString::to_string)
        .filter(|l| l.starts_with("incidents.jsonl:1:"))
        .map(|l| l.trim_start_matches("incidents.jsonl:1: ").to_owned())
        .collect();
    imported.sort();
    let expected = vec![
        "circumstances: is longer than 20000 characters".to_owned(),
        "last_seen_place.description: is longer than 500 characters".to_owned(),
    ];
    assert_eq!(imported, expected, "{:?}", report.rejected);

    // the same values through the use case the API calls
    std::fs::write(src.path().join("incidents.jsonl"), good).unwrap();
    assert!(import(db.store.as_ref(), src.path(), false).await.committed);
    let force = OrgCode::parse("force", first["force_missing"].as_str().unwrap()).unwrap();
    let register = Register::new(
        db.store.clone(),
        Arc::new(MatchIndex::new(nrmp_match::Model::default_trained())),
        Arc::new(FixedClock::new(
            today().and_hms_opt(12, 0, 0).unwrap().and_utc(),
        )),
        Arc::new(RandomIds),
        Limits::default(),
    );
    let coordinator = Principal::new(
        "coord",
        force,
        OrgKind::PoliceForce,
        vec![Role::MissingPersonCoordinator],
        vec![],
    )
    .unwrap();
    let mut input: IncidentInput = serde_json::from_value(serde_json::json!({
        "person_id": first["person_id"],
        "force_missing": first["force_missing"],
        "category": "missing",
        "last_seen_at": "2026-01-01T10:00:00Z",
        "risk": {"grade": "high", "rationale": "test"},
    }))
    .unwrap();
    input.circumstances = long_circumstances;
    input.last_seen_place.description = long_place;
    let Err(AppError::Invalid(errs)) = register
        .report_missing(&coordinator, Some("test".into()), input)
        .await
    else {
        panic!("the over-long text was accepted");
    };
    let mut api: Vec<String> = errs
        .iter()
        .map(|e| format!("{}: {}", e.field, e.problem))
        .collect();
    api.sort();
    assert_eq!(api, expected);
    db.cleanup().await;
}
