//! End-to-end tests of the identity-matching commands: `nrmp dedup` and `nrmp link` on CSV
//! files with their own column names, their one-line errors, and `nrmp match` against a small
//! SQLite register (ranked candidates, audited as a search).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use chrono::NaiveDate;
use nrmp_cli::commands::synth::{generator, write_dataset};
use nrmp_cli::import::{Options, import_dataset};
use nrmp_domain::audit::AuditAction;
use nrmp_domain::ids::PersonId;
use nrmp_domain::person::{DateOfBirth, NameKind, PersonName};
use nrmp_interchange::{DatasetFiles, Format};
use nrmp_store::prelude::*;
use nrmp_store::test_support::{TestDb, actor, at};
use nrmp_store::{Backend, Ctx};
use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Output};

fn nrmp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nrmp"))
        .args(args)
        .env_remove("NRMP_DATABASE_URL")
        .output()
        .unwrap()
}

/// Adds a register user (password from standard input).
fn add_user(url: &str, username: &str, org: &str, role: &str) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_nrmp"))
        .args(["users", "add", "--database", url, "--username", username])
        .args(["--org", org, "--role", role, "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"long enough passphrase 17\n").unwrap();
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A CSV with custom column names: three planted duplicate pairs among distinct people.
fn people_csv(dir: &Path) -> std::path::PathBuf {
    let rows = [
        "ref,forename,surname,born,gender,country",
        // planted: another transliteration, DOB in another format
        "A01,Mohammed,Karimi,2006-03-04,M,AFG",
        "A02,Muhammad,Karimi,04/03/2006,M,AFG",
        // planted: Vietnamese name with diacritics vs ASCII, order flipped
        "B01,Văn Đức,Nguyễn,20050817,M,VNM",
        "B02,Nguyen Van,Duc,2005-08-17,male,",
        // planted: a typo in the family name, date in another format
        "C01,Tesfalem,Gebrehiwet,2007-11-20,M,ERI",
        "C02,Tesfalem,Gebrehiwot,20/11/2007,M,ERI",
        // distinct people
        "D01,Ermal,Hoxha,2004-01-15,M,ALB",
        "D02,Arben,Krasniqi,1999-06-30,M,ALB",
        "D03,Fatima,Osman,2008-02-11,F,SDN",
        "D04,Sarah,Jones,1987-12-01,F,GBR",
        "D05,Reza,Ahmadi,2003-05-05,M,IRN",
        "D06,Lan,Pham,2009-09-09,F,VNM",
        "D07,Azad,Barzani,2001-04-22,M,IRQ",
        "D08,Yohannes,Tekle,2005-10-10,M,ERI",
        "D09,Samir,Haddad,2002-07-19,M,SYR",
        "D10,Emma,Taylor,1995-03-27,F,GBR",
    ];
    let path = dir.join("people.csv");
    std::fs::write(&path, rows.join("\n") + "\n").unwrap();
    path
}

const MAP: &str = "given=forename,family=surname,dob=born,sex=gender,nationality=country";

fn pairs_of(path: &Path) -> (String, HashSet<(String, String)>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    let pairs = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let p: f64 = f[2].parse().unwrap();
            assert!((0.0..=1.0).contains(&p), "{l}");
            let _: f64 = f[3].parse().unwrap();
            (f[0].to_string(), f[1].to_string())
        })
        .collect();
    (header, pairs)
}

fn set(pairs: &[(&str, &str)]) -> HashSet<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
        .collect()
}

#[test]
fn dedup_finds_planted_duplicates_with_custom_columns() {
    let dir = tempfile::tempdir().unwrap();
    let input = people_csv(dir.path());
    let out = dir.path().join("pairs.csv");
    let clusters = dir.path().join("clusters.csv");
    let o = nrmp(&[
        "dedup",
        "--input",
        input.to_str().unwrap(),
        "--id",
        "ref",
        "--map",
        MAP,
        "--output",
        out.to_str().unwrap(),
        "--clusters",
        clusters.to_str().unwrap(),
        "--threshold",
        "0.5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (header, pairs) = pairs_of(&out);
    assert_eq!(header, "left_id,right_id,match_probability,match_weight");
    assert_eq!(
        pairs,
        set(&[("A01", "A02"), ("B01", "B02"), ("C01", "C02")]),
        "{}",
        std::fs::read_to_string(&out).unwrap()
    );
    let text = std::fs::read_to_string(&clusters).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("record_id,cluster_id"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 16);
    assert!(rows.contains(&"A02,A01") && rows.contains(&"C02,C01"));
    assert!(rows.contains(&"D05,D05"));
    // re-running gives the same output, byte for byte
    let first = std::fs::read_to_string(&out).unwrap();
    let o = nrmp(&[
        "dedup",
        "--input",
        input.to_str().unwrap(),
        "--id",
        "ref",
        "--map",
        MAP,
        "--output",
        out.to_str().unwrap(),
        "--threshold",
        "0.5",
    ]);
    assert!(o.status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), first);
}

fn cluster_of(path: &Path, record: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{record},")))
        .unwrap_or_else(|| panic!("{record} not in {text}"))
        .to_string()
}

#[test]
fn dedup_previous_clusters_keep_ids_when_records_are_added() {
    let dir = tempfile::tempdir().unwrap();
    let input = people_csv(dir.path());
    let out = dir.path().join("pairs.csv");
    let first = dir.path().join("clusters1.csv");
    let run = |input: &Path, clusters: &Path, previous: Option<&Path>| {
        let mut args = vec![
            "dedup",
            "--input",
            input.to_str().unwrap(),
            "--id",
            "ref",
            "--map",
            MAP,
            "--output",
            out.to_str().unwrap(),
            "--clusters",
            clusters.to_str().unwrap(),
        ];
        if let Some(p) = previous {
            args.extend(["--previous-clusters", p.to_str().unwrap()]);
        }
        let o = nrmp(&args);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    run(&input, &first, None);
    assert_eq!(cluster_of(&first, "A02"), "A01");
    // a third record of the same person arrives with a smaller id, and a new person
    let mut text = std::fs::read_to_string(&input).unwrap();
    text.push_str("A00,Mohamed,Karimi,2006-03-04,M,AFG\nE01,Dawit,Haile,2006-06-06,M,ERI\n");
    let grown = dir.path().join("grown.csv");
    std::fs::write(&grown, text).unwrap();
    let plain = dir.path().join("clusters2.csv");
    run(&grown, &plain, None);
    assert_eq!(
        cluster_of(&plain, "A01"),
        "A00",
        "without the earlier clustering the smallest id names the cluster"
    );
    let carried = dir.path().join("clusters3.csv");
    run(&grown, &carried, Some(&first));
    for r in ["A00", "A01", "A02"] {
        assert_eq!(cluster_of(&carried, r), "A01", "{r}");
    }
    for r in ["B02", "C02", "D05", "E01"] {
        assert_eq!(cluster_of(&carried, r), cluster_of(&plain, r), "{r}");
    }
    // a file that is not a clusters file is refused, naming the option
    let o = nrmp(&[
        "dedup",
        "--input",
        grown.to_str().unwrap(),
        "--id",
        "ref",
        "--map",
        MAP,
        "--output",
        out.to_str().unwrap(),
        "--previous-clusters",
        input.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("--previous-clusters") && err.contains("record_id"),
        "{err}"
    );
}

#[test]
fn bad_input_gets_one_line_errors_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = people_csv(dir.path());
    let out = dir.path().join("pairs.csv");
    let run = |map: &str, input: &Path| {
        nrmp(&[
            "dedup",
            "--input",
            input.to_str().unwrap(),
            "--id",
            "ref",
            "--map",
            map,
            "--output",
            out.to_str().unwrap(),
        ])
    };
    let o = run("given=forename,dob=dobb", &input);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(
        e.contains(&format!(
            "--map: column `dobb` is not in {}",
            input.display()
        )),
        "{e}"
    );
    assert!(
        e.contains("(columns: ref, forename, surname, born, gender, country)"),
        "{e}"
    );

    let o = run("given=forename,colour=surname", &input);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("--map: `colour` is not a field"),
        "{}",
        stderr(&o)
    );

    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "ref,forename,surname,born\nX1,Ali,Hassan,2001-01-01\nX2,Omar,Osman,31/31/2000\n",
    )
    .unwrap();
    let o = nrmp(&[
        "dedup",
        "--input",
        bad.to_str().unwrap(),
        "--id",
        "ref",
        "--map",
        "given=forename,family=surname,dob=born",
        "--output",
        out.to_str().unwrap(),
        "--strict",
    ]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(
        e.contains(&format!(
            "{}:3: born: `31/31/2000` is not a date",
            bad.display()
        )),
        "{e}"
    );

    let o = nrmp(&[
        "dedup",
        "--input",
        input.to_str().unwrap(),
        "--id",
        "ref",
        "--map",
        MAP,
        "--output",
        out.to_str().unwrap(),
        "--threshold",
        "1.5",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--threshold"), "{}", stderr(&o));

    let o = nrmp(&[
        "match",
        "--database",
        "sqlite://unused.db",
        "--reason",
        "test",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("empty query"), "{}", stderr(&o));
}

/// A CSV with bad values in several columns (issue 15): dates of birth FEBRL-style, a
/// height, a sex, an identifier without its kind and a name that is not UTF-8.
fn dirty_csv(dir: &Path) -> std::path::PathBuf {
    let rows: [&[u8]; 12] = [
        b"ref,forename,surname,born,gender,height,documents",
        b"A01,Mohammed,Karimi,2006-03-04,M,150,passport:AFG:P4471203",
        // the duplicate: a date with day 32, a height that is not a number
        b"A02,Muhammad,Karimi,2006-03-32,M,tall,passport:AFG:P4471203",
        b"C01,Tesfalem,Gebrehiwet,2007-11-20,M,,passport:ERI:E0937321",
        // the duplicate: a date before 1880, a sex that is not one
        b"C02,Tesfalem,Gebrehiwot,15991116,q,,passport:ERI:E0937321",
        b"D01,Ermal,Hoxha,19551192,M,,",
        b"D02,Arben,Krasniqi,1999-06-30,M,,P77",
        b"D03,Fatima,Osman,2008-02-11,F,,",
        b"D04,Sarah,Jones,1987-12-01,F,165-170,",
        b"D05,J\xf6rg,Weber,2003-05-05,M,,",
        b"D06,Lan,Pham,2009-09-09,F,,",
        b"D07,Azad,Barzani,2001-04-22,M,,",
    ];
    let path = dir.join("dirty.csv");
    std::fs::write(&path, rows.join(&b'\n')).unwrap();
    path
}

const DIRTY_MAP: &str = "given=forename,family=surname,dob=born,sex=gender,height=height";

#[test]
fn dedup_treats_bad_values_as_missing_counts_them_and_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let input = dirty_csv(dir.path());
    let out = dir.path().join("pairs.csv");
    let rejects = dir.path().join("rejects.txt");
    let o = nrmp(&[
        "dedup",
        "--input",
        input.to_str().unwrap(),
        "--id",
        "ref",
        "--map",
        DIRTY_MAP,
        "--identifier",
        "documents",
        "--output",
        out.to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
        "--threshold",
        "0.5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // the duplicates are found although each has values that could not be read
    let (_, pairs) = pairs_of(&out);
    assert_eq!(pairs, set(&[("A01", "A02"), ("C01", "C02")]), "{pairs:?}");
    let f = input.display();
    assert_eq!(
        std::fs::read_to_string(&rejects).unwrap(),
        format!(
            "{f}:3: born: `2006-03-32` is not a date\n\
             {f}:3: height: `tall` is not a height in cm (`170` or `165-175`)\n\
             {f}:5: born: `15991116` is before 1880, not a plausible date of birth\n\
             {f}:5: gender: `q` is not a sex (male, female, other, unknown)\n\
             {f}:6: born: `19551192` is not a date\n\
             {f}:7: documents: `P77` is not kind:value\n\
             {f}:10: forename: the value is not UTF-8 text (byte 2 of the cell)\n"
        )
    );
    let text = stdout(&o);
    assert!(
        text.contains(&format!(
            "7 unreadable or implausible value(s) treated as missing (listed in {}; --strict refuses them):\n  \
             {f}: forename: 1\n  {f}: born: 3\n  {f}: gender: 1\n  {f}: height: 1\n  {f}: documents: 1\n",
            rejects.display()
        )),
        "{text}"
    );
    assert!(text.contains("11 records"), "{text}");
}

#[test]
fn dedup_strict_refuses_the_file_naming_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let input = dirty_csv(dir.path());
    let out = dir.path().join("pairs.csv");
    let o = nrmp(&[
        "dedup",
        "--input",
        input.to_str().unwrap(),
        "--id",
        "ref",
        "--map",
        DIRTY_MAP,
        "--identifier",
        "documents",
        "--output",
        out.to_str().unwrap(),
        "--strict",
    ]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(
        e.contains(&format!(
            "{}:3: born: `2006-03-32` is not a date",
            input.display()
        )),
        "{e}"
    );
    assert!(
        !out.exists(),
        "nothing is written when the input is refused"
    );
    // --strict and --rejects do not go together
    let o = nrmp(&[
        "dedup",
        "--input",
        input.to_str().unwrap(),
        "--id",
        "ref",
        "--output",
        out.to_str().unwrap(),
        "--strict",
        "--rejects",
        "r.txt",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--rejects"), "{}", stderr(&o));
}

/// Two files laid out as the FEBRL benchmark files are (spaces after the commas, dates as
/// `YYYYMMDD`), with synthetic values: the second file carries the kinds of dates FEBRL4's
/// second file has (`19551192`, and `15991116`).
#[test]
fn link_febrl_like_files_with_impossible_dates() {
    let dir = tempfile::tempdir().unwrap();
    let header = "rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id";
    let left = dir.path().join("febrl-a.csv");
    std::fs::write(
        &left,
        format!(
            "{header}\n\
             rec-1-org, mitchell, greenway, 7, wallaby place, delmar, cleveland, 2119, sa, 19551102, 1804974\n\
             rec-2-org, harley, mccarthy, 177, pridham street, milton, marsden, 3165, nsw, 19160417, 6089216\n\
             rec-3-org, madison, kearns, 12, edkins street, , north ryde, 3355, nsw, 19390212, 8859999\n\
             rec-4-org, isabella, sharp, 44, kitchener crescent, , windermere, 3212, vic, 19651013, 1551941\n"
        ),
    )
    .unwrap();
    let right = dir.path().join("febrl-b.csv");
    std::fs::write(
        &right,
        format!(
            "{header}\n\
             rec-1-dup-0, mitchell, greenway, 7, wallaby place, delmar, cleveland, 2119, sa, 19551192, 1804974\n\
             rec-2-dup-0, harley, mccarthy, 177, pridhamstreet, milton, marsden, 3165, nsw, 15991116, 6089216\n\
             rec-4-dup-0, isabella, sharpe, 44, kitchener crescent, , windermere, 3212, vic, 19651013, 1551941\n"
        ),
    )
    .unwrap();
    let out = dir.path().join("links.csv");
    let rejects = dir.path().join("rejects.txt");
    let args = |strict: bool| {
        let mut a = vec![
            "link",
            "--left",
            left.to_str().unwrap(),
            "--right",
            right.to_str().unwrap(),
            "--id",
            "rec_id",
            "--map",
            "given=given_name,family=surname,dob=date_of_birth",
            "--text",
            "address_1",
            "--text",
            "suburb",
            "--identifier",
            "ssn=soc_sec_id",
            "--output",
            out.to_str().unwrap(),
            "--threshold",
            "0.5",
        ];
        if strict {
            a.push("--strict");
        } else {
            a.extend(["--rejects", rejects.to_str().unwrap()]);
        }
        a
    };
    let o = nrmp(&args(false));
    assert!(o.status.success(), "{}", stderr(&o));
    let (_, pairs) = pairs_of(&out);
    assert_eq!(
        pairs,
        set(&[
            ("rec-1-org", "rec-1-dup-0"),
            ("rec-2-org", "rec-2-dup-0"),
            ("rec-4-org", "rec-4-dup-0")
        ])
    );
    let r = right.display();
    assert_eq!(
        std::fs::read_to_string(&rejects).unwrap(),
        format!(
            "{r}:2: date_of_birth: `19551192` is not a date\n\
             {r}:3: date_of_birth: `15991116` is before 1880, not a plausible date of birth\n"
        )
    );
    assert!(
        stdout(&o).contains(&format!("  {r}: date_of_birth: 2\n")),
        "{}",
        stdout(&o)
    );
    let o = nrmp(&args(true));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains(&format!("{r}:2: date_of_birth: `19551192` is not a date")),
        "{}",
        stderr(&o)
    );
}

/// The encounter check still refuses a value it cannot read, naming the option.
#[test]
fn match_refuses_febrl_dates_naming_the_option() {
    for (dob, problem) in [
        ("19551192", "--dob: `19551192` is not a date"),
        (
            "15991116",
            // the register's one rule for dates of birth (the API's), not batch input's
            "--dob: `15991116` is more than 120 years ago",
        ),
    ] {
        let o = nrmp(&[
            "match",
            "--database",
            "sqlite://unused.db",
            "--given",
            "Ali",
            "--dob",
            dob,
            "--reason",
            "test",
        ]);
        assert!(!o.status.success());
        assert!(stderr(&o).contains(problem), "{}", stderr(&o));
    }
    let o = nrmp(&[
        "match",
        "--database",
        "sqlite://unused.db",
        "--given",
        "Ali",
        "--height",
        "tall",
        "--reason",
        "test",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--height: `tall`"), "{}", stderr(&o));
}

#[test]
fn link_two_files_with_different_columns() {
    let dir = tempfile::tempdir().unwrap();
    let left = people_csv(dir.path());
    let right = dir.path().join("right.csv");
    std::fs::write(
        &right,
        "case_no,full_name,date_of_birth\n\
         R1,Karimi Mohamad,04/03/2006\n\
         R2,Sarah Jones,01/12/1987\n\
         R3,Jonathan Whitfield-Smythe,1960-02-02\n",
    )
    .unwrap();
    let out = dir.path().join("links.csv");
    let o = nrmp(&[
        "link",
        "--left",
        left.to_str().unwrap(),
        "--right",
        right.to_str().unwrap(),
        "--id",
        "ref",
        "--map",
        MAP,
        "--right-id",
        "case_no",
        "--right-map",
        "full_name=full_name,dob=date_of_birth",
        "--output",
        out.to_str().unwrap(),
        "--threshold",
        "0.5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (header, pairs) = pairs_of(&out);
    assert_eq!(header, "left_id,right_id,match_probability,match_weight");
    assert!(
        pairs.contains(&("D04".to_string(), "R2".to_string())),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("A01".to_string(), "R1".to_string()))
            || pairs.contains(&("A02".to_string(), "R1".to_string())),
        "{pairs:?}"
    );
    assert!(pairs.iter().all(|(_, r)| r != "R3"), "{pairs:?}");
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn match_finds_the_planted_person_first_and_audits_the_search() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let ctx = Ctx::new(actor("tester", "national:nmpu"), "test setup", at(0));
    // a small synthetic register
    let dir = tempfile::tempdir().unwrap();
    let g = generator(3, 150, today()).unwrap();
    write_dataset(&g, dir.path(), Format::Csv, false).unwrap();
    let files = DatasetFiles::open(dir.path()).unwrap();
    let opts = Options {
        skip_invalid: false,
        batch: 500,
        progress: false,
    };
    import_dataset(db.store.as_ref(), &ctx, &files, today(), opts)
        .await
        .unwrap();
    // plant a person with a distinctive name, based on a generated record
    let mut planted = g.person(0).persons.remove(0);
    planted.id = PersonId(uuid::Uuid::from_u128(
        0x1234_5678_9abc_def0_1234_5678_9abc_def0,
    ));
    planted.names =
        vec![PersonName::parse(NameKind::Primary, "Tesfalem", "Gebrehiwet", None, false).unwrap()];
    planted.dob = Some(DateOfBirth::Exact {
        date: NaiveDate::from_ymd_opt(2008, 5, 14).unwrap(),
    });
    db.store.create_person(&ctx, &planted).await.unwrap();
    // the check is made as a register user, whose grant decides what they see
    add_user(&db.url, "officer1", "national:nmpu", "national_analyst");
    let before = db.store.audit_events(0, 100_000).await.unwrap().len();

    let o = nrmp(&[
        "match",
        "--database",
        &db.url,
        "--given",
        "Tesfalem",
        "--family",
        "Gebrehiwot",
        "--dob",
        "14/05/2008",
        "--json",
        "--k",
        "3",
        "--as-user",
        "officer1",
        "--reason",
        "encounter check",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let first = &doc["candidates"][0];
    assert_eq!(first["person"]["id"], planted.id.to_string(), "{doc:#}");
    assert_eq!(first["rank"], 1);
    assert!(
        first["match_probability"].as_f64().unwrap() > 0.9,
        "{doc:#}"
    );
    let contributions = first["explanation"].as_array().unwrap();
    assert!(
        contributions
            .iter()
            .any(|c| c["field"] == "dob" && c["level"] == "exact")
    );
    let sum: f64 = contributions
        .iter()
        .map(|c| c["weight"].as_f64().unwrap())
        .sum();
    assert!((sum - first["match_weight"].as_f64().unwrap()).abs() < 1e-6);

    let events = db.store.audit_events(0, 100_000).await.unwrap();
    let search: Vec<_> = events[before..]
        .iter()
        .filter(|e| e.action == AuditAction::Search)
        .collect();
    assert_eq!(search.len(), 1, "{events:?}");
    assert_eq!(search[0].record_kind, "person");
    assert_eq!(search[0].record_ids[0], planted.id.to_string());
    assert_eq!(search[0].reason, "encounter check");
    assert_eq!(search[0].actor.user, "officer1");
    // which fields were searched, never their values (the log holds no personal details);
    // the values are kept apart, where erasing the person destroys them
    assert_eq!(
        search[0].detail,
        "encounter check: fields=given,family,dob; k=3"
    );
    let kept = db.store.search_queries(&[search[0].seq]).await.unwrap();
    assert_eq!(
        kept[&search[0].seq],
        "given=Tesfalem, family=Gebrehiwot, dob=14/05/2008"
    );

    // human-readable output shows the waterfall; a search without a reason is refused
    let o = nrmp(&[
        "match",
        "--database",
        &db.url,
        "--name",
        "Gebrehiwet Tesfalem",
        "--as-user",
        "officer1",
        "--reason",
        "encounter check",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("#1 Tesfalem Gebrehiwet"), "{text}");
    assert!(text.contains("prior"), "{text}");
    let o = nrmp(&["match", "--database", &db.url, "--given", "Tesfalem"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--reason"), "{}", stderr(&o));

    // the command line is decided by the same policy as the API: a researcher sees no person,
    // and someone who is not a register user cannot search at all
    add_user(&db.url, "nmpu.stats", "national:nmpu", "researcher");
    let as_user = |user: &str| {
        nrmp(&[
            "match",
            "--database",
            &db.url,
            "--given",
            "Tesfalem",
            "--as-user",
            user,
            "--reason",
            "encounter check",
        ])
    };
    let o = as_user("nmpu.stats");
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("your role does not see case data"),
        "{}",
        stderr(&o)
    );
    assert!(!stdout(&o).contains("Tesfalem"), "{}", stdout(&o));
    let o = as_user("nobody");
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("`nobody` is not a user of the register"),
        "{}",
        stderr(&o)
    );
    db.cleanup().await;
}
