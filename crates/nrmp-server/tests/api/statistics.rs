//! The statistics endpoint: the same tables as `nrmp stats`, for the roles the policy lets read
//! statistics, with disclosure control that the researcher cannot weaken and that leaves no
//! row about a person in the answer.

use crate::helpers::spawn_app;
use nrmp_domain::organisation::AuthoritySpend;
use nrmp_store::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A whole, completed calendar year, as researchers must ask.
fn year_2025() -> Value {
    json!({"from": "2025-01-01", "to": "2025-12-31"})
}

fn cells(report: &Value) -> Vec<&Value> {
    report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["rows"].as_array().unwrap())
        .flat_map(|r| r["cells"].as_array().unwrap())
        .collect()
}

async fn statistics_for_the_roles_that_may_read_them(backend: nrmp_store::Backend) {
    let app = spawn_app(backend).await;
    // A tiny register: three persons, two of them missing once each, in 2025 and 2024 (the
    // test clock is in June 2026).
    let mut ids = Vec::new();
    for (given, family) in [("Lan", "Tran"), ("Erion", "Hoxha"), ("Saba", "Tesfay")] {
        ids.push(app.person("kent-coordinator", given, family).await);
    }
    for (id, days_ago) in ids[..2].iter().zip([200, 600]) {
        app.incident("kent-coordinator", id, "force:kent", "high", 24 * days_ago)
            .await;
    }

    // The register's spend table (imported by `nrmp stats spend import`) feeds the spend model.
    let ctx = nrmp_store::Ctx::new(
        nrmp_store::test_support::actor("test-setup", "national:nmpu"),
        "spend import",
        crate::helpers::now(),
    );
    let spend: Vec<AuthoritySpend> = ["la:kent", "la:essex"]
        .iter()
        .map(|a| AuthoritySpend {
            authority: crate::helpers::code(a),
            year: 2025,
            spend_per_child: 60_000.0,
        })
        .collect();
    app.db.store.replace_spend(&ctx, &spend).await.unwrap();

    // The researcher gets the table with the small counts suppressed, and nothing that names
    // or identifies a person.
    let r = app
        .post(
            "/api/v1/statistics",
            "researcher",
            None,
            json!({"table": "missing", "by": "sex", "period": year_2025()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let text = r.body.to_string();
    assert!(!r.body["tables"].as_array().unwrap().is_empty(), "{text}");
    let cells = cells(&r.body);
    assert!(cells.iter().any(|c| c["suppressed"] == true), "{text}");
    assert!(
        cells
            .iter()
            .all(|c| c["suppressed"] == true || c["count"].as_u64().is_none_or(|n| n == 0 || n > 5)),
        "a count of 1–5 was published: {text}"
    );
    for needle in ids
        .iter()
        .map(String::as_str)
        .chain(["Tran", "Hoxha", "Tesfay"])
    {
        assert!(!text.contains(needle), "{needle} in {text}");
    }
    // …and may not weaken the rule.
    let r = app
        .post(
            "/api/v1/statistics",
            "researcher",
            None,
            json!({"table": "missing", "by": "sex", "period": year_2025(), "suppression": {"min": 1, "max": 2}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.body["errors"][0]["field"], "suppression", "{r:?}");
    // …nor ask for periods that could be differenced: whole, completed calendar years only.
    for (period, field) in [
        (json!({}), "period.from"),
        (
            json!({"from": "2025-01-01", "to": "2025-12-30"}),
            "period.to",
        ),
        (
            json!({"from": "2026-01-01", "to": "2026-12-31"}),
            "period.to",
        ),
    ] {
        let r = app
            .post(
                "/api/v1/statistics",
                "researcher",
                None,
                json!({"table": "missing", "by": "sex", "period": period}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
        assert_eq!(r.body["errors"][0]["field"], field, "{period}: {r:?}");
    }

    // The national analyst may ask for any period (here the whole history, 2026 included)…
    let r = app
        .post(
            "/api/v1/statistics",
            "nmpu-analyst",
            None,
            json!({"table": "missing", "by": "year"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    // A chart asked for comes as an SVG document beside the table.
    let r = app
        .post(
            "/api/v1/statistics",
            "nmpu-analyst",
            None,
            json!({"table": "trend", "cohort": "children", "chart": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let svg = r.body["charts"][0]["svg"].as_str().unwrap();
    assert!(
        svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );
    // The spend model finds the register's spend table (so what stops it here is the tiny
    // register: too few authority-years to fit, not a missing table).
    let r = app
        .post(
            "/api/v1/statistics",
            "nmpu-analyst",
            None,
            json!({"table": "spend-model"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.body["errors"][0]["field"], "table", "{r:?}");
    assert!(
        r.body["errors"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("authority-years"),
        "{r:?}"
    );
    // …and a force's coordinator sees what a researcher sees: completed years.
    let r = app
        .post(
            "/api/v1/statistics",
            "kent-coordinator",
            None,
            json!({"table": "trend", "cohort": "children", "period": {"from": "2024-01-01", "to": "2025-12-31"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(
        r.body["tables"][0]["rows"].as_array().unwrap().len(),
        2,
        "{r:?}"
    );
    // Patrol officers and administrators may not.
    for token in ["kent-patrol", "nmpu-admin"] {
        let r = app
            .post(
                "/api/v1/statistics",
                token,
                None,
                json!({"table": "missing"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{token}: {r:?}");
    }
    // Bad requests name what is wrong.
    let r = app
        .post(
            "/api/v1/statistics",
            "researcher",
            None,
            json!({"table": "league-table"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.body["errors"][0]["field"], "table", "{r:?}");
    let r = app
        .post(
            "/api/v1/statistics",
            "researcher",
            None,
            json!({"table": "missing", "by": "shoe-size"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.body["errors"][0]["field"], "by", "{r:?}");
    app.stop().await;
}

crate::on_both!(statistics_for_the_roles_that_may_read_them);
