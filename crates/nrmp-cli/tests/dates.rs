//! Hole 8 of the security issue, "API and import disagree on dates": the API stored dates of
//! birth (`0000-01-01`, `-0001-01-01`, approximate years −5000, 0, 1) that `nrmp import` then
//! refused as "more than 120 years ago", so the register's own backup could not be restored.
//! Now one rule (`DateOfBirth::check_on`) decides for both: a register is built through the
//! HTTP API — the same bad values refused with a problem naming `dob`, edge values that are
//! allowed stored — then `nrmp export` and `nrmp import` into a fresh database must give back
//! every person exactly, and the importer refuses the same bad values naming the same field.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

#[path = "common/users.rs"]
mod users;

use chrono::Datelike;
use nrmp_domain::access::Role;
use nrmp_domain::clock::{Clock, SystemClock};
use nrmp_domain::person::Person;
use nrmp_server::test_support::{StaticAuthenticator, organisations, principal};
use nrmp_server::{Config, build};
use nrmp_store::prelude::*;
use nrmp_store::test_support::{TestDb, actor};
use nrmp_store::{Backend, Ctx, Store, scan_all};
use serde_json::{Value, json};
use std::process::{Command, Output};
use std::sync::Arc;

fn nrmp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nrmp"))
        .args(args)
        .env_remove("NRMP_DATABASE_URL")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn body(given: &str, family: &str, dob: Value) -> Value {
    json!({
        "names": [{"kind": "primary", "given": given, "family": family, "original": null, "order_unknown": false}],
        "dob": dob,
        "sex": "female",
        "nationalities": ["VNM"],
        "languages": ["vie"],
        "identifiers": [],
        "description": {"height_cm": [150, 160], "build": null, "hair": "black", "eyes": null, "marks": [], "photos": []},
    })
}

async fn persons(store: &dyn Store) -> Vec<Person> {
    let mut all = Vec::new();
    scan_all::<Person>(store, 1000, |p| {
        all.extend(p);
        Ok(())
    })
    .await
    .unwrap();
    all.sort_by_key(|p| p.id);
    all
}

nrmp_store::on_both_backends!(api_and_import_agree_on_dates);

async fn api_and_import_agree_on_dates(backend: Backend) {
    let db = TestDb::new(backend).await.unwrap();
    let store: Arc<dyn Store> = db.store.clone();
    let setup = Ctx::new(
        actor("test-setup", "national:nmpu"),
        "test set-up",
        SystemClock.now(),
    );
    store
        .put_organisations(&setup, &organisations())
        .await
        .unwrap();
    let auth = Arc::new(StaticAuthenticator::new());
    auth.insert("la-kent-lead", principal("la-kent-lead", vec![]));
    let config = Config {
        bind: "127.0.0.1:0".into(),
        database_url: db.url.clone(),
        ..Config::default()
    };
    let app = build(config, store.clone(), Arc::new(SystemClock), auth)
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}/api/v1/persons", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.serve(async {
            stopped.await.ok();
        })
        .await
        .unwrap();
    });
    let http = reqwest::Client::new();
    let post = |b: Value| http.post(&base).bearer_auth("la-kent-lead").json(&b).send();

    // What import refuses, the API refuses, naming the field.
    let oldest = SystemClock.now().year() - 120;
    let bad = [
        json!({"kind": "exact", "date": "0000-01-01"}),
        json!({"kind": "exact", "date": "-0001-01-01"}),
        json!({"kind": "approximate", "year": -5000, "month": null}),
        json!({"kind": "approximate", "year": 0, "month": null}),
        json!({"kind": "approximate", "year": 1, "month": null}),
        json!({"kind": "approximate", "year": oldest - 1, "month": 12}),
        json!({"kind": "exact", "date": format!("{}-12-31", oldest - 1)}),
        json!({"kind": "exact", "date": format!("{}-01-01", SystemClock.now().year() + 1)}),
    ];
    for dob in &bad {
        let r = post(body("Lan", "Pham", dob.clone())).await.unwrap();
        assert_eq!(r.status().as_u16(), 422, "{dob}");
        let problem: Value = r.json().await.unwrap();
        let field = problem["errors"][0]["field"].as_str().unwrap_or_default();
        assert!(field.starts_with("dob"), "{dob}: {problem}");
    }
    assert!(
        persons(store.as_ref()).await.is_empty(),
        "a bad date was stored"
    );

    // The edge values that are allowed are stored…
    let good = [
        body(
            "Oldest",
            "Exact",
            json!({"kind": "exact", "date": format!("{oldest}-01-01")}),
        ),
        body(
            "Oldest",
            "Year",
            json!({"kind": "approximate", "year": oldest, "month": null}),
        ),
        body(
            "Văn Đức",
            "Nguyễn",
            json!({"kind": "age_assessed", "earliest": format!("{oldest}-01-01"), "latest": "2010-06-30", "assessed_on": "2024-02-02"}),
        ),
        body(
            "محمد",
            "علي",
            json!({"kind": "disputed", "claimed": "2009-02-28", "assessed_earliest": "2006-01-01", "assessed_latest": "2008-12-31"}),
        ),
        body(
            "Today",
            "Born",
            json!({"kind": "exact", "date": SystemClock.now().date_naive()}),
        ),
        body("No", "Date", Value::Null),
    ];
    for b in &good {
        let r = post(b.clone()).await.unwrap();
        assert_eq!(r.status().as_u16(), 201, "{b}: {}", r.text().await.unwrap());
    }
    stop.send(()).unwrap();
    server.await.unwrap();
    let stored = persons(store.as_ref()).await;
    assert_eq!(stored.len(), good.len());

    // …and `nrmp export` then `nrmp import` into a fresh register gives every one back exactly.
    users::add_user(
        store.clone(),
        "nmpu.analyst",
        "national:nmpu",
        Role::NationalAnalyst,
        &[],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    for format in ["csv", "json"] {
        let out = dir.path().join(format);
        let o = nrmp(&[
            "export",
            "--database",
            &db.url,
            "--out",
            out.to_str().unwrap(),
            "--format",
            format,
            "--recipient",
            "restore test",
            "--as-user",
            "nmpu.analyst",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let copy = TestDb::new(backend).await.unwrap();
        let nmpu: Vec<_> = organisations()
            .into_iter()
            .filter(|o| o.code.as_str() == "national:nmpu")
            .collect();
        copy.store.put_organisations(&setup, &nmpu).await.unwrap();
        users::add_user(
            copy.store.clone(),
            "nmpu.admin",
            "national:nmpu",
            Role::Administrator,
            &[],
        )
        .await;
        let o = nrmp(&[
            "import",
            out.to_str().unwrap(),
            "--database",
            &copy.url,
            "--as-user",
            "nmpu.admin",
            "--reason",
            "restore of the register's export",
        ]);
        assert!(o.status.success(), "{format}: {}", stderr(&o));
        assert_eq!(
            persons(copy.store.as_ref()).await,
            stored,
            "{format} round trip"
        );

        // The importer refuses the bad values the API refused, naming the same field.
        if format == "json" {
            let persons_file = out.join("persons.jsonl");
            let mut line: Value = serde_json::from_str(
                std::fs::read_to_string(&persons_file)
                    .unwrap()
                    .lines()
                    .next()
                    .unwrap(),
            )
            .unwrap();
            let mut lines = Vec::new();
            for (i, dob) in bad.iter().enumerate() {
                line["id"] = json!(uuid::Uuid::from_u128(0xbad0 + i as u128));
                line["dob"] = dob.clone();
                lines.push(line.to_string());
            }
            let bad_dir = dir.path().join("bad");
            std::fs::create_dir_all(&bad_dir).unwrap();
            std::fs::write(bad_dir.join("persons.jsonl"), lines.join("\n") + "\n").unwrap();
            let o = nrmp(&[
                "import",
                bad_dir.to_str().unwrap(),
                "--database",
                &copy.url,
                "--as-user",
                "nmpu.admin",
                "--reason",
                "loading bad dates",
            ]);
            assert!(!o.status.success());
            let msg = stderr(&o);
            for i in 0..bad.len() {
                assert!(
                    msg.contains(&format!("persons.jsonl:{}: dob", i + 1)),
                    "line {}: {msg}",
                    i + 1
                );
            }
        }
        copy.cleanup().await;
    }
    db.cleanup().await;
}
