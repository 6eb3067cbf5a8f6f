//! Explanations: every candidate carries a waterfall of per-field weights.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::compare::ComparisonVector;
use crate::model::{Scorer, probability};
use crate::prepare::{Prepared, Tokens};
use crate::record::DobRange;

/// One step of the waterfall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// Field key (`prior`, `name`, `name_tf`, `dob`, ..., `text:<name>`).
    pub field: String,
    /// Agreement level label.
    pub level: String,
    /// Weight in bits (positive: evidence for a match).
    pub weight: f64,
    /// Human-readable values compared.
    pub detail: String,
    /// What this step says, in an officer's words (`Date of birth: not given`), without
    /// the technical terms of `field` and `level`.
    #[serde(default)]
    pub says: String,
}

/// How strongly a candidate's evidence says "this is the person", in an officer's words.
///
/// Bands of the match weight (which, unlike the probability, does not depend on how
/// rare a true match is in a register the size of a nation's), calibrated on the tuning
/// query set of `nrmp-bench match-hard` ([`Strength::STRONG_FROM`], [`Strength::POSSIBLE_FROM`]):
/// see docs/matching.md for how often the top candidate of each band was the person there
/// and on the held-out set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    /// The evidence points to this person: check them first.
    Strong,
    /// Some evidence agrees and some does not or is not given: worth checking.
    Possible,
    /// Little evidence agrees: probably someone else.
    Weak,
}

impl Strength {
    /// Lowest match weight (bits, prior included) of a strong candidate.
    pub const STRONG_FROM: f64 = 4.0;
    /// Lowest match weight of a possible candidate.
    pub const POSSIBLE_FROM: f64 = -8.0;

    /// The band of a match weight.
    pub fn of(weight: f64) -> Self {
        if weight >= Self::STRONG_FROM {
            Self::Strong
        } else if weight >= Self::POSSIBLE_FROM {
            Self::Possible
        } else {
            Self::Weak
        }
    }

    /// The band in words (`strong`, `possible`, `weak`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Strong => "strong",
            Self::Possible => "possible",
            Self::Weak => "weak",
        }
    }

    /// What the band means, for the officer.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Strong => "the evidence points to this person: check them first",
            Self::Possible => "some details agree, others differ or are not given: worth checking",
            Self::Weak => "little agrees: probably someone else",
        }
    }
}

impl fmt::Display for Strength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A scored match candidate with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The matched record's id.
    pub id: String,
    /// Posterior probability that it is the same person.
    pub match_probability: f64,
    /// Total match weight in bits (prior included).
    pub match_weight: f64,
    /// Per-field weights, prior first; they sum to `match_weight`.
    pub contributions: Vec<Contribution>,
    /// The plain-language band of `match_weight`.
    #[serde(default = "weak")]
    pub strength: Strength,
}

fn weak() -> Strength {
    Strength::Weak
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}  {} match ({})  weight {:+.2}",
            self.id,
            self.strength,
            self.strength.meaning(),
            self.match_weight
        )?;
        for c in &self.contributions {
            writeln!(f, "  {:<64} {:+7.2}", c.says, c.weight)?;
        }
        Ok(())
    }
}

fn dob_text(d: Option<&DobRange>) -> String {
    match d {
        None => "?".to_string(),
        Some(d) if d.is_point() => d.earliest.to_string(),
        Some(d) => format!("{}..{}", d.earliest, d.latest),
    }
}

fn join(v: &[Box<str>]) -> String {
    if v.is_empty() {
        "?".to_string()
    } else {
        v.join("/")
    }
}

fn details<T: Tokens + ?Sized>(a: &Prepared, b: &Prepared, field: &str, tokens: &T) -> String {
    match field {
        "name" => "".to_string(),
        "dob" => format!(
            "{} vs {}",
            dob_text(a.dob.as_ref()),
            dob_text(b.dob.as_ref())
        ),
        "sex" => format!(
            "{} vs {}",
            a.sex
                .map_or("?".to_string(), |s| format!("{s:?}").to_lowercase()),
            b.sex
                .map_or("?".to_string(), |s| format!("{s:?}").to_lowercase())
        ),
        "nationality" => format!("{} vs {}", join(&a.nationalities), join(&b.nationalities)),
        "height" => {
            let h =
                |x: Option<(u16, u16)>| x.map_or("?".to_string(), |(l, h)| format!("{l}-{h}cm"));
            format!("{} vs {}", h(a.height), h(b.height))
        }
        "marks" => {
            let m = |x: &[Box<[u32]>]| {
                x.iter()
                    .map(|w| {
                        w.iter()
                            .map(|id| &*tokens.info(*id).text)
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            format!("{} vs {}", m(&a.marks), m(&b.marks))
        }
        "identifiers" => {
            let kinds: Vec<&str> = a
                .identifiers
                .iter()
                .filter(|(k, _)| b.identifiers.iter().any(|(kb, _)| kb == k))
                .map(|(k, _)| &**k)
                .collect();
            if kinds.is_empty() {
                "no identifier kind in common".to_string()
            } else {
                format!("compared: {}", kinds.join(", "))
            }
        }
        other => {
            let name = other.strip_prefix("text:").unwrap_or(other);
            let val = |r: &Prepared| {
                r.texts
                    .iter()
                    .filter(|(k, _)| &**k == name)
                    .map(|(_, v)| &**v)
                    .collect::<Vec<_>>()
                    .join("/")
            };
            format!("{} vs {}", val(a), val(b))
        }
    }
}

/// A field's name in an officer's words.
fn field_words(field: &str) -> String {
    match field {
        "prior" => "Starting point".to_string(),
        "name" => "Name".to_string(),
        "name_tf" => "How common the shared names are".to_string(),
        "dob" => "Date of birth".to_string(),
        "sex" => "Sex".to_string(),
        "nationality" => "Nationality".to_string(),
        "height" => "Height".to_string(),
        "marks" => "Marks".to_string(),
        "identifiers" => "Identifiers".to_string(),
        other => {
            let name = other
                .strip_prefix("text:")
                .unwrap_or(other)
                .replace('_', " ");
            let mut c = name.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_uppercase().collect::<String>() + c.as_str()
            })
        }
    }
}

/// A comparison level in an officer's words.
fn level_words(field: &str, level: &str) -> &'static str {
    match (field, level) {
        (_, "missing") => "not given on one side",
        ("name", "exact") => "the same",
        ("name", "variant_group") => "the same name, spelt another way",
        ("name", "jaro_winkler_high") => "nearly the same spelling",
        ("name", "jaro_winkler_mid") => "a similar spelling",
        ("name", "phonetic") => "sounds the same",
        ("name", "subset") => "every part of one name is in the other",
        ("name", "initial") => "the same, some parts only as initials",
        ("name", "partial") => "some parts agree, others do not",
        ("name", "different") => "nothing in common",
        ("dob", "exact") => "the same",
        ("dob", "day_month_swapped") => {
            "one part written wrongly (day and month swapped, or the year 1-2 out)"
        }
        ("dob", "overlap_narrow") => "agrees as far as it is known",
        ("dob", "overlap_wide") => "within an assessed age",
        ("dob", "same_year") => "same year, another day",
        ("dob", "within_one_year") => "within a year, not the same",
        ("dob", "different") => "different",
        ("sex" | "height", "same" | "overlap") => "the same",
        ("height", "near") => "within 5 cm",
        ("nationality", "shared") => "one in common",
        ("marks", "similar") => "alike",
        ("marks", "partial") => "some alike, some not",
        ("identifiers", "exact") => "the same",
        ("identifiers", "one_typo") => "one character out",
        (_, "jaro_winkler_high") => "nearly the same",
        (_, "jaro_winkler_mid") => "similar",
        (_, "exact") => "the same",
        (_, "different") => "different",
        _ => "compared",
    }
}

fn says(field: &str, level: &str, detail: &str) -> String {
    match field {
        "prior" => "Starting point: two records in a register this size are rarely the same person"
            .to_string(),
        "name_tf" => format!(
            "{}: {}",
            field_words(field),
            detail.rsplit(": ").next().unwrap_or("")
        ),
        "identifiers" if level == "missing" => {
            "Identifiers: none of the same kind on both".to_string()
        }
        "identifiers" | "marks" => format!("{}: {}", field_words(field), level_words(field, level)),
        _ if level == "missing" => format!("{}: not given on one side", field_words(field)),
        _ => format!(
            "{}: {} ({})",
            field_words(field),
            level_words(field, level),
            detail.replace(" vs ", " / ")
        ),
    }
}

/// Builds the explained candidate for the comparison `cv` of `a` (query / left)
/// with `b` (candidate / right).
pub fn explain<T: Tokens + ?Sized>(
    scorer: &Scorer,
    cv: &ComparisonVector,
    a: &Prepared,
    b: &Prepared,
    tokens: &T,
) -> Candidate {
    let mut contributions = vec![Contribution {
        field: "prior".to_string(),
        level: "prior".to_string(),
        weight: scorer.prior_bits(),
        detail: "prior odds of a match between two random records".to_string(),
        says: says("prior", "prior", ""),
    }];
    for (field, level, weight) in scorer.field_weights(cv, a) {
        let detail = if field == "name" {
            let na = a.names.get(cv.name.left).map_or("?", |n| &n.display);
            let nb = b.names.get(cv.name.right).map_or("?", |n| &n.display);
            format!("{na} vs {nb}")
        } else {
            details(a, b, &field, tokens)
        };
        let is_name = field == "name";
        contributions.push(Contribution {
            says: says(&field, level, &detail),
            field,
            level: level.to_string(),
            weight,
            detail,
        });
        if is_name {
            let tf = scorer.tf_adjustment(cv, a, tokens);
            if tf != 0.0 {
                let toks: Vec<&str> = cv
                    .name
                    .agreeing_keys
                    .iter()
                    .map(|k| &*tokens.info(*k).text)
                    .collect();
                let detail = format!("how common the agreeing names are: {}", toks.join(", "));
                contributions.push(Contribution {
                    field: "name_tf".to_string(),
                    level: "tf_adjustment".to_string(),
                    weight: tf,
                    says: says("name_tf", "tf_adjustment", &detail),
                    detail,
                });
            }
        }
    }
    let match_weight: f64 = contributions.iter().map(|c| c.weight).sum();
    Candidate {
        id: b.id.to_string(),
        match_probability: probability(match_weight),
        match_weight,
        contributions,
        strength: Strength::of(match_weight),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn officer_words_have_no_technical_terms() {
        for (field, level, detail) in [
            ("prior", "prior", ""),
            ("name", "partial", "Mohammed Ali vs Sofia Rose Ali"),
            (
                "name_tf",
                "tf_adjustment",
                "how common the agreeing names are: ali",
            ),
            ("dob", "missing", "2008-01-01 vs ?"),
            ("dob", "day_month_swapped", "2008-03-04 vs 2008-04-03"),
            ("identifiers", "missing", "no identifier kind in common"),
            ("text:place", "jaro_winkler_high", "leeds vs leds"),
        ] {
            let s = says(field, level, detail);
            for term in ["prior", "tf", "bits", "missing", "jaro", "_", " vs "] {
                assert!(!s.to_lowercase().contains(term), "{s:?} has {term:?}");
            }
        }
        assert_eq!(
            says("dob", "missing", "2008-01-01 vs ?"),
            "Date of birth: not given on one side"
        );
        assert_eq!(
            says("name", "partial", "Mohammed Ali vs Sofia Rose Ali"),
            "Name: some parts agree, others do not (Mohammed Ali / Sofia Rose Ali)"
        );
        assert_eq!(
            says("text:place", "exact", "Leeds vs Leeds"),
            "Place: the same (Leeds / Leeds)"
        );
    }

    #[test]
    fn strength_bands_follow_the_weight() {
        assert_eq!(Strength::of(Strength::STRONG_FROM), Strength::Strong);
        assert_eq!(
            Strength::of(Strength::STRONG_FROM - 0.01),
            Strength::Possible
        );
        assert_eq!(Strength::of(Strength::POSSIBLE_FROM), Strength::Possible);
        assert_eq!(Strength::of(Strength::POSSIBLE_FROM - 0.01), Strength::Weak);
        assert!(Strength::Strong < Strength::Weak, "strongest first");
    }
}
