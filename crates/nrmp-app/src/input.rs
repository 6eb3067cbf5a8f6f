//! Input as every adapter hands it over: list parameters as text (parsed here, each error
//! naming its parameter), JSON bodies parsed with the failing field named by its path, and
//! the shapes answers share ([`Page`], [`Created`]).

use crate::error::{AppError, AppResult};
use nrmp_domain::error::FieldError;
use serde::de::DeserializeOwned;

/// A page of a list: the rows the caller may see and where the next page starts.
#[derive(Debug, serde::Serialize)]
pub struct Page<T> {
    /// The rows, in list order.
    pub items: Vec<T>,
    /// Pass as `after` for the next page; `null` when this is the last page. A page may hold
    /// fewer rows than `limit` (rows the caller may not see are left out) and still have a next.
    pub next: Option<String>,
}

/// A record a use case created: its id and the record as the caller may read it now (only
/// `{"id"}` when they may not).
#[derive(Debug, Clone)]
pub struct Created {
    /// The new record's id.
    pub id: String,
    /// What the caller may see of it.
    pub body: serde_json::Value,
}

impl crate::Register {
    /// The page size a list request asks for: `limit`, 1 to the configured maximum.
    pub(crate) fn page_size(&self, raw: Option<&str>) -> AppResult<u32> {
        let max = self.limits.max_page_size;
        match raw.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(self.limits.default_page_size),
            Some(s) => match s.parse::<u32>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(AppError::invalid(
                    "limit",
                    format!("`{s}` is not a page size from 1 to {max}"),
                )),
            },
        }
    }
}

/// How many rows a list may read from the store to fill one page before it returns a short
/// page (rows the caller may not see are skipped, and must not make a request unbounded).
pub(crate) fn scan_budget(limit: u32) -> u32 {
    limit.saturating_mul(10).max(100)
}

/// A comma-separated list parameter, each item parsed.
pub(crate) fn list_param<T>(
    field: &str,
    raw: Option<&str>,
    parse: impl Fn(&str, &str) -> Result<T, FieldError>,
) -> AppResult<Vec<T>> {
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for item in raw.unwrap_or("").split(',').map(str::trim) {
        if item.is_empty() {
            continue;
        }
        match parse(field, item) {
            Ok(v) => out.push(v),
            Err(e) => errs.push(e),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Invalid(errs))
    }
}

/// A boolean query parameter.
pub(crate) fn bool_param(field: &str, raw: Option<&str>) -> AppResult<Option<bool>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some("true" | "1" | "yes") => Ok(Some(true)),
        Some("false" | "0" | "no") => Ok(Some(false)),
        Some(s) => Err(AppError::invalid(
            field,
            format!("`{s}` is not true or false"),
        )),
    }
}

/// An optional parsed query parameter.
pub(crate) fn opt_param<T>(
    field: &str,
    raw: Option<&str>,
    parse: impl Fn(&str, &str) -> Result<T, FieldError>,
) -> AppResult<Option<T>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse(field, s).map(Some).map_err(AppError::from),
    }
}

/// `Err` naming every problem in `errs`, if there is any.
pub(crate) fn finish(errs: Vec<FieldError>) -> AppResult<()> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errs))
    }
}

/// Collects several fallible parses, reporting every failing field at once.
#[derive(Debug, Default)]
pub(crate) struct Errors(Vec<FieldError>);

impl Errors {
    /// Keeps the value or records the error.
    pub(crate) fn take<T>(&mut self, r: AppResult<T>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(AppError::Invalid(e)) => {
                self.0.extend(e);
                None
            }
            Err(other) => {
                self.0.push(FieldError::new("input", other.to_string()));
                None
            }
        }
    }

    /// Records every problem in `errs`.
    pub(crate) fn extend(&mut self, errs: Vec<FieldError>) {
        self.0.extend(errs);
    }

    /// `Err` if anything was recorded.
    pub(crate) fn finish(self) -> AppResult<()> {
        finish(self.0)
    }
}

/// Why a JSON body could not become a `T`.
#[derive(Debug)]
pub enum JsonError {
    /// The bytes are not JSON at all.
    Syntax(String),
    /// The JSON is well formed but a field is wrong; the field is named by its path
    /// (`names[0].family`, `body` for the whole).
    Field(FieldError),
}

/// Parses JSON into `T`, naming the failing field by its path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let inner = e.inner();
            if inner.is_syntax() || inner.is_eof() {
                return Err(JsonError::Syntax(format!(
                    "the body is not valid JSON: {inner}"
                )));
            }
            let path = e.path().to_string();
            let field = if path == "." { "body".to_owned() } else { path };
            Err(JsonError::Field(FieldError::new(
                field,
                strip_position(&inner.to_string()),
            )))
        }
    }
}

/// serde_json appends " at line L column C"; the field name says more.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// A list request's parameters as `name=value&…` (those given, in declaration order), for the
/// audit event of the search.
pub(crate) fn describe_query<T: serde::Serialize>(q: &T) -> String {
    match serde_json::to_value(q) {
        Ok(serde_json::Value::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| format!("{k}={s}")))
            .collect::<Vec<_>>()
            .join("&"),
        _ => String::new(),
    }
}

impl From<JsonError> for AppError {
    fn from(e: JsonError) -> Self {
        match e {
            JsonError::Syntax(m) => AppError::invalid("body", m),
            JsonError::Field(f) => AppError::Invalid(vec![f]),
        }
    }
}
