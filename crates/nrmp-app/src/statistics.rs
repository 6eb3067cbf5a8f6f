//! The national picture as a use case: [`Register::publish_table`] publishes the same tables as
//! `nrmp stats …` (counts beside proportions with denominators and Wilson CIs, trends, time to
//! first missing episode, the proportion-trafficked table), from the same functions in
//! [`nrmp_analysis::publish`], so the two cannot disagree.
//!
//! Who may ask is the policy's decision (`read_statistics` on the register). Only the national
//! unit's analysts may choose a suppression rule and any period; every other role — the
//! researcher above all — gets the researcher's view ([`ResearcherView`]): the register's rule
//! (counts of 1–5 suppressed), whole completed calendar years only, and every figure cut from
//! one fixed plan per year, so no two answers can be differenced to recover a suppressed cell.
//!
//! The tables are computed from an in-memory snapshot of the register, loaded on first use and
//! again once it is older than `stats_max_age_secs`; the yearly plans belong to the snapshot and
//! are worked out once for it. A load runs in its own task: a request that times out while the
//! register is read leaves the load running for the next one, and only one load runs at a time.
//! Tables are computed on the blocking pool, off the request threads.

use crate::Register;
use crate::access::Attempt;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use nrmp_analysis::error::AnalysisError;
use nrmp_analysis::report::{Chart, Report};
use nrmp_analysis::request::{Audience, StatsRequest};
use nrmp_analysis::{ResearcherView, load_snapshot, load_spend, publish};
use nrmp_domain::access::Principal;
use nrmp_domain::access::{Action, ResourceKind, Role, Target};
use nrmp_stats::disclosure::SuppressionRule;
use nrmp_store::prelude::*;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use tokio::sync::{Mutex, RwLock};

/// The analysis snapshot the statistics endpoint computes from (inside the researcher's view of
/// it, which keeps the snapshot's yearly plans), with the time it was taken.
#[derive(Debug, Default)]
pub struct SnapshotCache {
    current: RwLock<Option<(DateTime<Utc>, Arc<ResearcherView>)>>,
    loading: Mutex<()>,
}

impl SnapshotCache {
    /// The snapshot, loaded afresh if there is none or it is older than `max_age_secs`.
    async fn get(
        self: &Arc<Self>,
        store: &Arc<dyn Store>,
        now: DateTime<Utc>,
        max_age_secs: u64,
    ) -> AppResult<Arc<ResearcherView>> {
        let fresh = move |taken: &DateTime<Utc>| {
            (now - *taken).num_seconds() < i64::try_from(max_age_secs).unwrap_or(i64::MAX)
        };
        if let Some((taken, s)) = self.current.read().await.as_ref()
            && fresh(taken)
        {
            return Ok(s.clone());
        }
        let cache = self.clone();
        let store = store.clone();
        let load = tokio::spawn(async move {
            let _one_at_a_time = cache.loading.lock().await;
            if let Some((taken, s)) = cache.current.read().await.as_ref()
                && fresh(taken)
            {
                return Ok(s.clone());
            }
            tracing::info!("loading the analysis snapshot of the register");
            let s = Arc::new(load_snapshot(store.as_ref(), now.timestamp()).await?);
            let spend = load_spend(store.as_ref()).await?;
            let view =
                Arc::new(ResearcherView::new(s, SuppressionRule::default()).with_spend(spend));
            *cache.current.write().await = Some((now, view.clone()));
            // Work out the researcher's yearly plans now rather than in the first requests.
            let plans = view.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(e) = plans.plan_every_year() {
                    tracing::warn!(error = %e, "working out the researcher's yearly plans");
                }
            });
            Ok::<_, AnalysisError>(view)
        });
        match load.await {
            Ok(r) => r.map_err(analysis_error),
            Err(e) => Err(AppError::Internal(format!("snapshot load: {e}"))),
        }
    }
}

impl Register {
    /// One published table. The body is a request tagged by `table`
    /// (`missing`, `trend`, `time-to-missing`, `proportion-trafficked`, `spend-model`) with that
    /// table's fields, as docs/statistics.md describes; the answer is the table with its notes.
    pub async fn publish_table(
        &self,
        caller: &Principal,
        body: serde_json::Value,
    ) -> AppResult<Published> {
        let request = parse_request(body)?;
        self.decide(
            caller,
            Attempt {
                action: Action::ReadStatistics,
                resource: ResourceKind::Statistics,
                ids: &[],
            },
            &Target::Register,
            None,
        )
        .await?;
        let view = self
            .stats
            .get(
                &self.store,
                self.clock.now(),
                self.limits.stats_max_age_secs,
            )
            .await?;
        let analyst = caller.has_role(Role::NationalAnalyst);
        let report = tokio::task::spawn_blocking(move || {
            if analyst {
                request.check_for(Audience::Analyst)?;
                publish::publish(view.snapshot(), &request, view.spend())
            } else {
                view.publish(&request)
            }
        })
        .await
        .map_err(|e| AppError::Internal(format!("statistics task: {e}")))?
        .map_err(analysis_error)?;
        Ok(Published::from(report))
    }
}

/// The answer: the published report and, when the request asked for one (`chart: true`), its
/// charts as SVG documents (`charts: [{title, svg}]`; the command line writes them to files).
#[derive(Debug, serde::Serialize)]
pub struct Published {
    #[serde(flatten)]
    report: Report,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    charts: Vec<Chart>,
}

impl From<Report> for Published {
    fn from(mut report: Report) -> Self {
        let charts = std::mem::take(&mut report.charts);
        Self { report, charts }
    }
}

/// The tables, as `table` names them.
const TABLES: &str = "missing, trend, time-to-missing, proportion-trafficked, spend-model";

/// Parses a request tagged by `table`. The table's own fields are parsed apart from the tag, so
/// an error names the field (`by`, `period.from`…) rather than the whole body.
fn parse_request(body: serde_json::Value) -> AppResult<StatsRequest> {
    fn fields<T: DeserializeOwned>(
        rest: &serde_json::Map<String, serde_json::Value>,
    ) -> AppResult<T> {
        let bytes = serde_json::to_vec(rest).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(crate::input::parse_json(&bytes)?)
    }
    let serde_json::Value::Object(mut rest) = body else {
        return Err(AppError::invalid("body", "must be a JSON object"));
    };
    let table = match rest.remove("table") {
        Some(serde_json::Value::String(t)) => t,
        _ => {
            return Err(AppError::invalid(
                "table",
                format!("is required: one of {TABLES}"),
            ));
        }
    };
    Ok(match table.as_str() {
        "missing" => StatsRequest::Missing(fields(&rest)?),
        "trend" => StatsRequest::Trend(fields(&rest)?),
        "time-to-missing" => StatsRequest::TimeToMissing(fields(&rest)?),
        "proportion-trafficked" => StatsRequest::ProportionTrafficked(fields(&rest)?),
        "spend-model" => StatsRequest::SpendModel(fields(&rest)?),
        other => {
            return Err(AppError::invalid(
                "table",
                format!("unknown table `{other}`: one of {TABLES}"),
            ));
        }
    })
}

/// Bad requests name their field (422); data that cannot support the analysis is a 422 on
/// `table`; anything else is the service's fault.
fn analysis_error(e: AnalysisError) -> AppError {
    match e {
        AnalysisError::InvalidRequest { field, problem } => AppError::invalid(field, problem),
        AnalysisError::InsufficientData(m) => AppError::invalid("table", m),
        AnalysisError::Procedure { what, source } => {
            AppError::invalid("table", format!("{what}: {source}"))
        }
        other => AppError::Internal(other.to_string()),
    }
}
