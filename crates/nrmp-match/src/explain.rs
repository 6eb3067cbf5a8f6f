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
    pub const STRONG_FROM: f64 = 0.0;
    /// Lowest match weight of a possible candidate.
    pub const POSSIBLE_FROM: f64 = -12.0;

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
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}  probability {:.4}  weight {:+.2}",
            self.id, self.match_probability, self.match_weight
        )?;
        for c in &self.contributions {
            writeln!(
                f,
                "  {:<14} {:<20} {:+7.2}  {}",
                c.field, c.level, c.weight, c.detail
            )?;
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
                contributions.push(Contribution {
                    field: "name_tf".to_string(),
                    level: "tf_adjustment".to_string(),
                    weight: tf,
                    detail: format!("how common the agreeing names are: {}", toks.join(", ")),
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
    }
}
