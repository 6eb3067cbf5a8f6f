//! The one error type of the analysis layer. Each variant says which part of a request or
//! which procedure failed, so that a command line can print it and an HTTP endpoint can map it
//! to a status once (`InvalidRequest` and `InvalidSpend` are the caller's fault; the rest are
//! not).

use nrmp_stats::StatsError;
use thiserror::Error;

/// What can go wrong when publishing a table.
#[derive(Debug, Error)]
pub enum AnalysisError {
    /// A request field is out of range or inconsistent (names the field and the problem).
    #[error("{field}: {problem}")]
    InvalidRequest {
        /// The request field, as a command line or JSON body names it.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A spend table row is malformed (line numbers count from 1, the header included).
    #[error("{}{problem}", line.map_or(String::new(), |l| format!("line {l}: ")))]
    InvalidSpend {
        /// Line of the spend CSV, if the problem is on one line.
        line: Option<usize>,
        /// What is wrong.
        problem: String,
    },
    /// Disclosure control could not protect a table.
    #[error("disclosure control: {0}")]
    Disclosure(StatsError),
    /// A statistical procedure failed (`what` names it, e.g. "Poisson model").
    #[error("{what}: {source}")]
    Procedure {
        /// The procedure.
        what: &'static str,
        /// Why.
        source: StatsError,
    },
    /// The data do not support the analysis (e.g. too few authority-years for a model).
    #[error("{0}")]
    InsufficientData(String),
    /// A bug: something that cannot happen did.
    #[error("internal error: {0}")]
    Internal(String),
    /// Reading the register failed.
    #[cfg(feature = "store")]
    #[error("reading {what}: {source}")]
    Store {
        /// Which records were being read.
        what: &'static str,
        /// The store's error.
        source: nrmp_store::StoreError,
    },
}

impl AnalysisError {
    /// Shorthand for [`AnalysisError::InvalidRequest`].
    pub fn invalid(field: &'static str, problem: impl Into<String>) -> Self {
        Self::InvalidRequest {
            field,
            problem: problem.into(),
        }
    }

    /// Shorthand for [`AnalysisError::Procedure`].
    pub fn procedure(what: &'static str) -> impl FnOnce(StatsError) -> Self {
        move |source| Self::Procedure { what, source }
    }

    /// Whether the caller's input is at fault (a 4xx, not a 5xx, over HTTP).
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            Self::InvalidRequest { .. } | Self::InvalidSpend { .. } | Self::InsufficientData(_)
        )
    }
}

/// Result alias of the crate.
pub type Result<T> = std::result::Result<T, AnalysisError>;
