//! End-to-end tests of `nrmp stats` on a small synthetic register (SQLite): the published
//! counts and denominators equal direct counts over the records, suppression hides small
//! cells and cannot be undone from the margins, Kaplan–Meier figures equal nrmp-stats called
//! directly on independently built durations, CSV and JSON parse, and every run is audited.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use clap::Parser;
use nrmp_cli::commands::stats::{StatsCommand, execute};
use nrmp_cli::commands::synth::{generator, load_into};
use nrmp_domain::audit::AuditAction;
use nrmp_domain::clock::FixedClock;
use nrmp_domain::incident::Incident;
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::person::{Person, Sex};
use nrmp_domain::placement::Placement;
use nrmp_stats::survival::KaplanMeier;
use nrmp_store::prelude::*;
use nrmp_store::test_support::{TestDb, actor, at};
use nrmp_store::{Backend, Ctx, scan_all};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

const AS_OF: &str = "2026-11-01";

fn as_of() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2026, 11, 1)
        .unwrap()
        .and_time(NaiveTime::MIN)
        .and_utc()
}

struct Register {
    db: TestDb,
    persons: Vec<Person>,
    incidents: Vec<Incident>,
    referrals: Vec<NrmReferral>,
    placements: Vec<Placement>,
}

async fn register() -> Register {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let g = generator(7, 1_500, NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()).unwrap();
    let ctx = Ctx::new(actor("loader", "national:nmpu"), "test", at(0));
    load_into(db.store.as_ref(), &ctx, &g, None, false)
        .await
        .unwrap();
    let store: &dyn Store = db.store.as_ref();
    let mut persons = Vec::new();
    scan_all::<Person>(store, 500, |p| {
        persons.extend(p);
        Ok(())
    })
    .await
    .unwrap();
    let mut incidents = Vec::new();
    scan_all::<Incident>(store, 500, |p| {
        incidents.extend(p);
        Ok(())
    })
    .await
    .unwrap();
    let mut referrals = Vec::new();
    scan_all::<NrmReferral>(store, 500, |p| {
        referrals.extend(p);
        Ok(())
    })
    .await
    .unwrap();
    let mut placements = Vec::new();
    scan_all::<Placement>(store, 500, |p| {
        placements.extend(p);
        Ok(())
    })
    .await
    .unwrap();
    Register {
        db,
        persons,
        incidents,
        referrals,
        placements,
    }
}

async fn stats(r: &Register, args: &[&str]) -> String {
    try_stats(r, args).await.unwrap()
}

async fn try_stats(r: &Register, args: &[&str]) -> anyhow::Result<String> {
    let mut argv = vec!["nrmp", "stats"];
    argv.extend_from_slice(args);
    argv.extend_from_slice(&["--database", &r.db.url]);
    if args[0] != "spend" {
        argv.extend_from_slice(&["--as-of", AS_OF]);
    }
    let cli = nrmp_cli::Cli::try_parse_from(&argv).unwrap();
    let nrmp_cli::Command::Stats(cmd) = cli.command else {
        panic!("not a stats command")
    };
    let clock = FixedClock::new(at(0));
    execute(&cmd, r.db.store.as_ref(), &clock).await
}

fn cell_count(c: &Value) -> Option<u64> {
    c["count"].as_u64()
}

fn row<'a>(t: &'a Value, label: &str) -> &'a Value {
    t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"] == label)
        .unwrap_or_else(|| panic!("no row {label}"))
}

/// Direct count over the records: (at risk, went missing, more than once, never found,
/// incidents) for persons with `sex`, all persons cohort, all time up to AS_OF.
fn direct_by_sex(r: &Register, sex: Sex) -> (u64, u64, u64, u64, u64) {
    let ids: HashSet<_> = r
        .persons
        .iter()
        .filter(|p| p.sex == sex)
        .map(|p| p.id)
        .collect();
    let mut per: HashMap<_, (u64, bool)> = HashMap::new();
    for i in r
        .incidents
        .iter()
        .filter(|i| ids.contains(&i.person_id) && i.last_seen_at < as_of())
    {
        let e = per.entry(i.person_id).or_default();
        e.0 += 1;
        e.1 |= i.returned.as_ref().is_none_or(|x| x.found_at >= as_of());
    }
    (
        ids.len() as u64,
        per.len() as u64,
        per.values().filter(|v| v.0 >= 2).count() as u64,
        per.values().filter(|v| v.1).count() as u64,
        per.values().map(|v| v.0).sum(),
    )
}

#[tokio::test]
async fn stats_match_direct_counts_suppress_and_survive_formats() {
    let r = register().await;

    // --- counts and denominators, by sex, with suppression switched off -------------------
    let json = stats(
        &r,
        &[
            "missing",
            "--by",
            "sex",
            "--format",
            "json",
            "--suppress-min",
            "0",
            "--suppress-max",
            "0",
        ],
    )
    .await;
    let v: Value = serde_json::from_str(&json).unwrap();
    let t = &v["tables"][0];
    for (sex, label) in [(Sex::Female, "F"), (Sex::Male, "M")] {
        let (at_risk, missing, repeat, never, incidents) = direct_by_sex(&r, sex);
        let row = row(t, label);
        let c = &row["cells"];
        assert_eq!(cell_count(&c[0]), Some(missing), "{label} missing");
        assert_eq!(
            c[0]["denominator"].as_u64(),
            Some(at_risk),
            "{label} at risk"
        );
        assert_eq!(cell_count(&c[1]), Some(repeat), "{label} repeat");
        assert_eq!(c[1]["denominator"].as_u64(), Some(missing));
        assert_eq!(cell_count(&c[2]), Some(never), "{label} never found");
        assert_eq!(cell_count(&c[3]), Some(incidents), "{label} incidents");
        let p = nrmp_stats::Proportion::wilson(missing, at_risk).unwrap();
        assert!((c[0]["proportion"]["ci_low"].as_f64().unwrap() - p.ci_low).abs() < 1e-12);
    }
    let total = row(t, "Total");
    assert_eq!(
        total["cells"][0]["denominator"].as_u64(),
        Some(r.persons.len() as u64)
    );

    // --- children: denominator = persons under 18 at some time in the period ---------------
    let json = stats(
        &r,
        &[
            "missing",
            "--by",
            "cohort",
            "--format",
            "json",
            "--suppress-max",
            "0",
            "--suppress-min",
            "0",
        ],
    )
    .await;
    let v: Value = serde_json::from_str(&json).unwrap();
    let t = &v["tables"][0];
    let first_year = r
        .incidents
        .iter()
        .map(|i| i.last_seen_at.year())
        .min()
        .unwrap();
    let from = NaiveDate::from_ymd_opt(first_year, 1, 1).unwrap();
    let eighteenth = |p: &Person| {
        p.dob.as_ref().map(|d| {
            let b = d.best_estimate();
            b.with_year(b.year() + 18)
                .unwrap_or_else(|| NaiveDate::from_ymd_opt(b.year() + 18, 3, 1).unwrap())
        })
    };
    let children: Vec<&Person> = r
        .persons
        .iter()
        .filter(|p| eighteenth(p).is_some_and(|e| e > from))
        .collect();
    let child_missing: HashSet<_> = r
        .incidents
        .iter()
        .filter(|i| i.last_seen_at < as_of())
        .filter(|i| {
            let p = r.persons.iter().find(|p| p.id == i.person_id).unwrap();
            eighteenth(p).is_some_and(|e| i.last_seen_at.date_naive() < e)
        })
        .map(|i| i.person_id)
        .collect();
    let c = &row(t, "All children")["cells"][0];
    assert_eq!(c["denominator"].as_u64(), Some(children.len() as u64));
    assert_eq!(cell_count(c), Some(child_missing.len() as u64));
    let nrm_children: HashSet<_> = r
        .referrals
        .iter()
        .filter(|x| {
            let p = r.persons.iter().find(|p| p.id == x.person_id).unwrap();
            eighteenth(p).is_some_and(|e| x.referred_on < e && e > from)
        })
        .map(|x| x.person_id)
        .collect();
    assert_eq!(
        row(t, "NRM-referred children")["cells"][0]["denominator"].as_u64(),
        Some(nrm_children.len() as u64)
    );

    // --- suppression: with a wide rule, nothing small is published and margins do not give
    // a suppressed cell back --------------------------------------------------------------
    let json = stats(
        &r,
        &[
            "missing",
            "--by",
            "nationality",
            "--cohort",
            "children",
            "--format",
            "json",
            "--suppress-max",
            "20",
        ],
    )
    .await;
    let v: Value = serde_json::from_str(&json).unwrap();
    let t = &v["tables"][0];
    let rows = t["rows"].as_array().unwrap();
    let mut suppressed_in_col = [0usize; 4];
    for rw in rows {
        for (j, c) in rw["cells"].as_array().unwrap().iter().enumerate() {
            if let Some(n) = cell_count(c) {
                assert!(n == 0 || n > 20, "published small count {n}");
            } else {
                assert_eq!(c["suppressed"], true);
                assert!(c["proportion"].is_null());
                if rw["label"] != "Total" {
                    suppressed_in_col[j] += 1;
                }
            }
            if let Some(d) = c["denominator"].as_u64() {
                assert!(d == 0 || d > 20, "published small denominator {d}");
            }
        }
    }
    assert!(
        suppressed_in_col[0] > 0,
        "the wide rule should suppress something"
    );
    // A lone suppressed cell in a column would be total − the others.
    for n in suppressed_in_col {
        assert!(n != 1, "a lone suppressed cell in a column is recoverable");
    }
    let text = stats(
        &r,
        &[
            "missing",
            "--by",
            "nationality",
            "--cohort",
            "children",
            "--suppress-max",
            "20",
        ],
    )
    .await;
    assert!(text.contains("[c]"));

    // --- CSV parses and agrees with JSON --------------------------------------------------
    let csv = stats(&r, &["missing", "--by", "sex", "--format", "csv"]).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("Sex,Went missing (of persons at risk) count,"));
    let width = lines[0].split(',').count();
    for l in &lines[1..] {
        assert_eq!(l.split(',').count(), width, "{l}");
    }
    let json = stats(&r, &["missing", "--by", "sex", "--format", "json"]).await;
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["tables"][0]["rows"].as_array().unwrap().len(),
        lines.len() - 1
    );

    // --- Kaplan–Meier from referral, against nrmp-stats on independently built data --------
    let json = stats(
        &r,
        &[
            "time-to-missing",
            "--from",
            "referral",
            "--by",
            "none",
            "--format",
            "json",
            "--suppress-min",
            "0",
            "--suppress-max",
            "0",
        ],
    )
    .await;
    let v: Value = serde_json::from_str(&json).unwrap();
    let g = &v["grids"][0];
    let all = g["rows"].as_array().unwrap().last().unwrap();
    let mut durations = Vec::new();
    let mut events = Vec::new();
    let mut first_ref: HashMap<_, NaiveDate> = HashMap::new();
    for x in &r.referrals {
        let e = first_ref.entry(x.person_id).or_insert(x.referred_on);
        *e = (*e).min(x.referred_on);
    }
    for (pid, d) in &first_ref {
        let start = d.and_time(NaiveTime::MIN).and_utc();
        let p = r.persons.iter().find(|p| p.id == *pid).unwrap();
        let mut censor = as_of();
        if let Some(e) = eighteenth(p)
            && *d < e
        {
            censor = censor.min(e.and_time(NaiveTime::MIN).and_utc());
        }
        let first = r
            .incidents
            .iter()
            .filter(|i| i.person_id == *pid && i.last_seen_at >= start && i.last_seen_at < censor)
            .map(|i| i.last_seen_at)
            .min();
        let end = first.unwrap_or(censor);
        durations.push((end - start).num_seconds() as f64 / 86_400.0);
        events.push(first.is_some());
    }
    let km = KaplanMeier::fit(&durations, &events).unwrap();
    assert_eq!(all[1].as_str().unwrap(), km.n.to_string());
    assert_eq!(all[2].as_str().unwrap(), km.n_events.to_string());
    let (e, lo, hi) = km.survival_at(3.0).failure();
    let want = format!("{:.1}% ({:.1}–{:.1})", 100.0 * e, 100.0 * lo, 100.0 * hi);
    assert_eq!(all[5].as_str().unwrap(), want, "within 72 h");
    let m = km.median();
    match m.estimate {
        None => assert_eq!(all[3], "not reached"),
        Some(x) => assert!(all[3].as_str().unwrap().starts_with(&format!("{x:.2}"))),
    }

    // --- the other commands run and parse ---------------------------------------------------
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("t.svg");
    let out = stats(
        &r,
        &[
            "trend",
            "--cohort",
            "children",
            "--format",
            "json",
            "--svg",
            svg.to_str().unwrap(),
        ],
    )
    .await;
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["grids"][0]["rows"].as_array().unwrap().len() >= 2);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    let out = stats(
        &r,
        &[
            "time-to-missing",
            "--from",
            "care",
            "--cox",
            "--format",
            "csv",
        ],
    )
    .await;
    assert!(out.contains("# Cox proportional hazards"));
    let out = stats(
        &r,
        &[
            "proportion-trafficked",
            "--from",
            "2020-01-01",
            "--to",
            "2025-12-31",
            "--format",
            "json",
        ],
    )
    .await;
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["tables"][0]["rows"].as_array().unwrap().len(), 5);
    let file = dir.path().join("903.csv");
    stats(
        &r,
        &[
            "ssda903",
            "export",
            "--year",
            "2024",
            "--out",
            file.to_str().unwrap(),
        ],
    )
    .await;
    let out = stats(
        &r,
        &[
            "ssda903",
            "import",
            file.to_str().unwrap(),
            "--suppress-max",
            "0",
            "--suppress-min",
            "0",
        ],
    )
    .await;
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("2024")).collect();
    assert_eq!(lines.len(), 2);
    let strip = |l: &str| {
        l.split_whitespace()
            .filter(|w| *w != "file" && *w != "register")
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        strip(lines[0]),
        strip(lines[1]),
        "file counts equal register counts"
    );

    // --- a release: the period family under one plan -----------------------------------------
    let out = stats(
        &r,
        &[
            "release",
            "--from",
            "2020-01-01",
            "--to",
            "2024-12-31",
            "--format",
            "json",
        ],
    )
    .await;
    let v: Value = serde_json::from_str(&out).unwrap();
    let tables = v["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 26);
    let by_cohort = &tables[0];
    for t in &tables[2..] {
        let title = t["title"].as_str().unwrap();
        let cohort = [
            "NRM-referred children",
            "Unaccompanied children",
            "Looked-after children",
            "All children",
            "Adults",
            "All persons",
        ]
        .into_iter()
        .find(|c| title.contains(&format!(", {c}, ")))
        .unwrap_or_else(|| panic!("{title}"));
        // The cohort's total is its row of the table by cohort, suppressed alike.
        assert_eq!(
            row(t, "Total")["cells"],
            row(by_cohort, cohort)["cells"],
            "{title}"
        );
    }

    // --- spend model with its chart: authorities' rates against spend, caveats printed -------
    let mut auths: Vec<String> = r
        .placements
        .iter()
        .map(|p| p.placing_authority.as_str().to_owned())
        .collect();
    auths.sort();
    auths.dedup();
    let mut spend_csv = String::from("authority,year,spend_per_child\n");
    for (k, a) in auths.iter().enumerate() {
        for y in 2016..=2026 {
            spend_csv.push_str(&format!(
                "{a},{y},{}\n",
                40_000 + 700 * k + 300 * (y - 2016)
            ));
        }
    }
    let raw = dir.path().join("spend-raw.csv");
    std::fs::write(&raw, spend_csv).unwrap();
    // Imported into the register (the table is then the same for every node and command)…
    let out = stats(&r, &["spend", "import", raw.to_str().unwrap()]).await;
    assert!(
        out.starts_with(&format!("stored {} rows", auths.len() * 11)),
        "{out}"
    );
    assert_eq!(
        r.db.store.spend().await.unwrap().len(),
        auths.len() * 11,
        "stored in the register"
    );
    // …a bad file is refused naming the line, and the stored table is kept.
    let bad = dir.path().join("spend-bad.csv");
    std::fs::write(
        &bad,
        "authority,year,spend_per_child\nla:nowhere,2020,1\nla:x,20x0,1\n",
    )
    .unwrap();
    let e = try_stats(&r, &["spend", "import", bad.to_str().unwrap()])
        .await
        .unwrap_err();
    assert!(format!("{e:#}").contains("line 3: year `20x0`"), "{e:#}");
    let unknown = dir.path().join("spend-unknown.csv");
    std::fs::write(
        &unknown,
        "authority,year,spend_per_child\nla:nowhere,2020,1\n",
    )
    .unwrap();
    let e = try_stats(&r, &["spend", "import", unknown.to_str().unwrap()])
        .await
        .unwrap_err();
    assert!(
        format!("{e:#}").contains("rows[0].authority: la:nowhere is not a local authority"),
        "{e:#}"
    );
    assert_eq!(r.db.store.spend().await.unwrap().len(), auths.len() * 11);
    // The model reads the register's table.
    let chart = dir.path().join("spend.svg");
    let out = stats(&r, &["spend-model", "--svg", chart.to_str().unwrap()]).await;
    assert!(out.contains("spend_per_child_1000") && out.contains("ecological fallacy"));
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("</svg>"));
    assert!(svg.matches("<circle").count() >= 2, "authority points");
    assert_eq!(svg.matches("<polyline").count(), 1, "the fitted curve");
    assert!(
        svg.contains("ecological fallacy"),
        "caveats printed with the chart"
    );

    // --- every run is one audit event -------------------------------------------------------
    let events = r.db.store.audit_events(0, 10_000).await.unwrap();
    let reads = events
        .iter()
        .filter(|e| e.record_kind == "statistics" && e.action == AuditAction::Read)
        .count();
    assert!(reads >= 11, "{reads} statistics reads audited");
    assert!(
        events
            .iter()
            .any(|e| e.record_kind == "statistics" && e.action == AuditAction::Disclose)
    );
    let _: Option<StatsCommand> = None;
    r.db.cleanup().await;
}
