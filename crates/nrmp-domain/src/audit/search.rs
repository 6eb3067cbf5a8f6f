//! What a search (an encounter check) asked for, split in two: a summary that names only the
//! fields given and how many values each had — safe for the append-only chain — and the query
//! itself (names, date of birth, marks…), which the store keeps apart from the chain, linked to
//! the persons it concerned, so that erasing any of them destroys it (docs/audit.md).

use super::bounds::{MAX_DETAIL_CHARS, MAX_QUERY_CHARS, MAX_REASON_CHARS, bounded};

/// Fields whose values are names: each word of them is looked for in a reason on its own.
const NAME_FIELDS: [&str; 4] = ["given", "family", "name", "original"];

/// Fields whose values say too little about who someone is to be looked for in a reason (and
/// are ordinary words: "female", "other").
const NOT_REDACTED: [&str; 2] = ["sex", "nationality"];

/// Shortest value (or name word) looked for in a reason, in characters.
const MIN_REDACTED_CHARS: usize = 3;

/// Most distinct values looked for in one reason.
const MAX_REDACTED_VALUES: usize = 200;

/// The first lowercase character of `c` (one for one, so positions line up).
fn fold(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// One search as asked: a label (`encounter check`), its `field=value` terms in the order
/// given, and how many candidates were asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    label: String,
    terms: Vec<(String, String)>,
    asked: Option<usize>,
}

/// True for a field name the summary may show: a short lowercase word. Anything else is shown
/// as `other`, so a value can never pass itself off as a field name.
fn is_field_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

impl SearchQuery {
    /// An empty search called `label` (a fixed description such as `encounter check`).
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            terms: Vec::new(),
            asked: None,
        }
    }

    /// Adds a term: the field searched and the value given.
    pub fn term(mut self, field: impl Into<String>, value: impl Into<String>) -> Self {
        self.terms.push((field.into(), value.into()));
        self
    }

    /// Records how many candidates were asked for.
    pub fn asked(mut self, k: usize) -> Self {
        self.asked = Some(k);
        self
    }

    /// The terms of a description written as `field=value` parts joined by `, ` (as the
    /// encounter check describes its query). A part that does not start with `field=` belongs to
    /// the value before it (a value that itself contains `, `).
    pub fn described(mut self, description: &str) -> Self {
        for part in description.split(", ").filter(|p| !p.is_empty()) {
            match part.split_once('=') {
                Some((k, v)) if is_field_name(k) => {
                    self.terms.push((k.to_owned(), v.to_owned()));
                }
                _ => match self.terms.last_mut() {
                    Some((_, v)) => {
                        v.push_str(", ");
                        v.push_str(part);
                    }
                    None => self.terms.push(("other".to_owned(), part.to_owned())),
                },
            }
        }
        self
    }

    /// True if no term was given.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The summary for the audit chain: the label, the fields given in first-seen order (with
    /// `×N` when a field had several values) and the number asked for — never a value, e.g.
    /// `encounter check: fields=given,family,dob,nationality×2; k=10`. Bounded.
    pub fn summary(&self) -> String {
        let mut fields: Vec<(&str, usize)> = Vec::new();
        for (k, _) in &self.terms {
            let k = if is_field_name(k) {
                k.as_str()
            } else {
                "other"
            };
            match fields.iter_mut().find(|(f, _)| *f == k) {
                Some((_, n)) => *n += 1,
                None => fields.push((k, 1)),
            }
        }
        let fields: Vec<String> = fields
            .into_iter()
            .map(|(f, n)| {
                if n > 1 {
                    format!("{f}×{n}")
                } else {
                    f.to_owned()
                }
            })
            .collect();
        let mut s = format!("{}: fields={}", self.label, fields.join(","));
        if let Some(k) = self.asked {
            s.push_str(&format!("; k={k}"));
        }
        bounded(&s, MAX_DETAIL_CHARS)
    }

    /// The query itself, `field=value` terms joined by `, `, bounded to [`MAX_QUERY_CHARS`] with
    /// control characters made visible: what the store keeps erasably beside the event.
    pub fn text(&self) -> String {
        let joined: Vec<String> = self.terms.iter().map(|(k, v)| format!("{k}={v}")).collect();
        bounded(&joined.join(", "), MAX_QUERY_CHARS)
    }
}

impl SearchQuery {
    /// `reason` (bounded to [`MAX_REASON_CHARS`]) with every value of this query it repeats
    /// replaced by `[field]`, ignoring case: each word of a name of three characters or more,
    /// and every other value of three characters or more whole (sex and nationality are not
    /// looked for). A search's stated reason goes
    /// into the append-only chain, so it must not carry what was searched for ("stopped
    /// Ottoline Quarrendon at the station" is kept as "stopped [given] [family] at the
    /// station"); the store keeps the reason as given beside the query, erasably.
    pub fn redact(&self, reason: &str) -> String {
        let mut needles: Vec<(Vec<char>, &str)> = Vec::new();
        'terms: for (k, v) in &self.terms {
            let field = if is_field_name(k) {
                k.as_str()
            } else {
                "other"
            };
            if NOT_REDACTED.contains(&field) {
                continue;
            }
            let parts: Vec<&str> = if NAME_FIELDS.contains(&field) {
                v.split_whitespace().collect()
            } else {
                vec![v.trim()]
            };
            for part in parts {
                let n: Vec<char> = part.chars().map(fold).collect();
                if n.len() >= MIN_REDACTED_CHARS && !needles.iter().any(|(m, _)| *m == n) {
                    needles.push((n, field));
                    if needles.len() == MAX_REDACTED_VALUES {
                        break 'terms;
                    }
                }
            }
        }
        // Longest first, so that a whole value wins over a word inside it.
        needles.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
        let reason = bounded(reason, MAX_REASON_CHARS);
        let chars: Vec<char> = reason.chars().collect();
        let lower: Vec<char> = chars.iter().copied().map(fold).collect();
        let mut out = String::with_capacity(reason.len());
        let mut i = 0;
        while i < chars.len() {
            match needles.iter().find(|(n, _)| lower[i..].starts_with(n)) {
                Some((n, field)) => {
                    out.push('[');
                    out.push_str(field);
                    out.push(']');
                    i += n.len();
                }
                None => {
                    out.push(chars[i]);
                    i += 1;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_fields_and_counts_never_values() {
        let q = SearchQuery::new("encounter check")
            .described(
                "given=Mohamed, family=Ali, dob=2008, nationality=SOM, nationality=ETH, mark=scar, left cheek",
            )
            .asked(10);
        let s = q.summary();
        assert_eq!(
            s,
            "encounter check: fields=given,family,dob,nationality×2,mark; k=10"
        );
        for v in ["Mohamed", "Ali", "2008", "SOM", "scar", "cheek"] {
            assert!(!s.contains(v), "{s}");
        }
        assert_eq!(
            q.text(),
            "given=Mohamed, family=Ali, dob=2008, nationality=SOM, nationality=ETH, mark=scar, left cheek"
        );
    }

    #[test]
    fn a_reason_never_repeats_what_was_searched_for() {
        let q = SearchQuery::new("encounter check").described(
            "given=Ottoline Mary, family=Quarrendon, dob=2009-07-14, mark=anchor tattoo, left wrist, sex=female",
        );
        assert_eq!(
            q.redact("stopped OTTOLINE quarrendon (born 2009-07-14, anchor tattoo, left wrist) at Bristol, a female"),
            "stopped [given] [family] (born [dob], [mark]) at Bristol, a female"
        );
        // Short values and words are left alone; a reason without them is unchanged.
        let q = SearchQuery::new("x").described("given=Al, family=Li");
        assert_eq!(q.redact("stopped at Leeds, Li"), "stopped at Leeds, Li");
        assert_eq!(
            SearchQuery::new("x").redact("incident 2026-123"),
            "incident 2026-123"
        );
        // Redaction bounds the reason too.
        let q = SearchQuery::new("x").term("family", "Quarrendon");
        let r = q.redact(&format!("Quarrendon\n{}", "r".repeat(10_000)));
        assert!(r.starts_with("[family]\\u{a}rrr"), "{r}");
        assert!(r.chars().count() <= MAX_REASON_CHARS + 8);
    }

    #[test]
    fn a_value_cannot_pose_as_a_field_name() {
        let q = SearchQuery::new("x")
            .term("Mohamed Ali", "1")
            .term("given", "a");
        assert_eq!(q.summary(), "x: fields=other,given");
        let q = SearchQuery::new("x").described("Mohamed Ali");
        assert_eq!(q.summary(), "x: fields=other");
    }

    #[test]
    fn huge_queries_are_bounded_both_ways() {
        let mut q = SearchQuery::new("encounter check");
        for _ in 0..20_000 {
            q = q.term("nationality", "VNM");
        }
        assert_eq!(q.summary(), "encounter check: fields=nationality×20000");
        assert!(q.text().chars().count() <= MAX_QUERY_CHARS);
        let q = SearchQuery::new("encounter check").term("mark", "\u{1b}[2J\n".repeat(100_000));
        assert!(q.text().chars().count() <= MAX_QUERY_CHARS);
        assert!(!q.text().chars().any(super::super::bounds::is_unsafe));
    }
}
