//! Fellegi–Sunter model: m and u probabilities per comparison level.
//!
//! The match weight of a level is `log2(m / u)`; a pair's total match weight is
//! `log2(λ / (1 - λ))` (the prior) plus the sum of its level weights plus a
//! term-frequency adjustment for the name; the match probability is
//! `1 / (1 + 2^-weight)`. "Missing" levels weigh 0.
//!
//! * u is estimated from random record pairs ([`Model::estimate_u`]),
//! * m (and the prior λ) by expectation–maximisation on unlabelled candidate
//!   pairs from blocking ([`Model::train_em`]), as Splink does,
//! * term-frequency adjustment: when a whole name agrees, `log2(u_level / r_name)`
//!   with `r_name` the product of its tokens' record shares; when only some tokens
//!   agree, the sum over them of `log2(u_token / f_token)` (older model files: the
//!   mean in both cases); scaled and clamped, so a common name is worth less than a
//!   rare one.
//!
//! A model serialises to readable JSON ([`Model::to_json`] / [`Model::from_json`]).

mod scorer;
mod train;

pub use scorer::{Scorer, probability, weight_for_probability};
pub use train::{EmConfig, EmReport, PatternCounts};

use serde::{Deserialize, Serialize};

use crate::compare::{
    DobLevel, HeightLevel, IdentifierLevel, Level, MarksLevel, NameLevel, NationalityLevel,
    SexLevel, TextLevel,
};

/// The shipped trained model (JSON).
pub const DEFAULT_TRAINED: &str = include_str!("../../models/default.json");

/// Model file format tag.
pub const FORMAT: &str = "nrmp-match-model/1";

/// Errors loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The JSON could not be parsed.
    #[error("invalid model JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON parsed but is not a usable model.
    #[error("invalid model: {0}")]
    Invalid(String),
}

/// m and u of one comparison level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelParams {
    /// Level label (see the level enums in [`crate::compare`]).
    pub level: String,
    /// P(level | match).
    pub m: f64,
    /// P(level | non-match).
    pub u: f64,
    /// `log2(m/u)`, written for readability; recomputed on load.
    #[serde(default)]
    pub weight: f64,
}

/// Parameters of one field comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldParams {
    /// Field key: `name`, `dob`, `sex`, `nationality`, `height`, `marks`,
    /// `identifiers`, `text` (default for text fields) or `text:<field name>`.
    pub field: String,
    /// Non-missing levels, strongest first.
    pub levels: Vec<LevelParams>,
}

impl FieldParams {
    /// Parameters for level `label`.
    pub fn level(&self, label: &str) -> Option<&LevelParams> {
        self.levels.iter().find(|l| l.level == label)
    }

    fn from_pairs<L: Level>(field: &str, mu: &[(L, f64, f64)]) -> Self {
        let mut p = Self {
            field: field.to_string(),
            levels: mu
                .iter()
                .map(|(l, m, u)| LevelParams {
                    level: l.label().to_string(),
                    m: *m,
                    u: *u,
                    weight: 0.0,
                })
                .collect(),
        };
        p.normalise();
        p
    }

    /// Rescales m and u to sum to 1 and refreshes the weights.
    pub fn normalise(&mut self) {
        let sm: f64 = self.levels.iter().map(|l| l.m).sum();
        let su: f64 = self.levels.iter().map(|l| l.u).sum();
        for l in &mut self.levels {
            if sm > 0.0 {
                l.m /= sm;
            }
            if su > 0.0 {
                l.u /= su;
            }
            l.weight = weight_of(l.m, l.u);
        }
    }
}

/// `log2(m/u)` with guards against zero.
pub(crate) fn weight_of(m: f64, u: f64) -> f64 {
    (m.max(1e-12) / u.max(1e-12)).log2()
}

/// Term-frequency adjustment settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TfSettings {
    /// Apply the adjustment.
    pub enabled: bool,
    /// Multiplier of the adjustment (Splink's `tf_adjustment_weight`).
    pub weight: f64,
    /// Maximum absolute adjustment in bits.
    pub max_abs_bits: f64,
    /// Summed adjustments (`true`; `false`, the format's default for older model
    /// files, takes the mean of the agreeing tokens' adjustments). When a whole name
    /// agrees (`exact`, `variant_group`) the adjustment is then `log2(u_level /
    /// r_name)`, with `r_name` the product of its tokens' record shares: a one-word
    /// name weighs what one token is worth, and each further agreeing token adds to
    /// the weight. Otherwise the agreeing tokens' adjustments are added up.
    #[serde(default)]
    pub sum: bool,
}

impl TfSettings {
    /// The settings [`crate::batch::train`] writes by default (`TrainConfig::tf`):
    /// summed adjustments ([`TfSettings::sum`]: for a whole name the whole-name
    /// frequency, otherwise the agreeing tokens' adjustments added up) at 0.6 of
    /// their strength, clamped to ±8 bits. 0.6 gave the best mean dedup F1 of
    /// 0.5 / 0.6 / 0.75 / 1.0 / 1.5 on the tuning seeds (0.919 at threshold 0.3; the
    /// independence estimate overstates how rare a name of several tokens is).
    pub const TUNED: Self = Self {
        enabled: true,
        weight: 0.6,
        max_abs_bits: 8.0,
        sum: true,
    };
}

impl Default for TfSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            weight: 1.0,
            max_abs_bits: 4.0,
            sum: false,
        }
    }
}

/// A Fellegi–Sunter model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Format tag ([`FORMAT`]).
    pub format: String,
    /// λ: probability that two random records are the same person, in a set of
    /// [`Model::prior_records`] records.
    pub prior: f64,
    /// Size of the record set λ was estimated on. λ·(N − 1) is the expected number
    /// of other records of the same person per record; batch runs can rescale λ to a
    /// fixed population size ([`Model::prior_for`], `BatchConfig::population`).
    /// `None`: λ is used as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_records: Option<u64>,
    /// Term-frequency adjustment settings.
    #[serde(default)]
    pub tf: TfSettings,
    /// Per-field parameters.
    pub fields: Vec<FieldParams>,
    /// Free-text notes about how the model was trained.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl Default for Model {
    fn default() -> Self {
        Self::default_untrained()
    }
}

impl Model {
    /// Hand-set parameters so lookups work before any training.
    pub fn default_untrained() -> Self {
        use DobLevel as D;
        use NameLevel as N;
        let fields = vec![
            FieldParams::from_pairs(
                "name",
                &[
                    (N::Exact, 0.55, 0.0005),
                    (N::VariantGroup, 0.12, 0.0003),
                    (N::JaroWinklerHigh, 0.08, 0.001),
                    (N::JaroWinklerMid, 0.05, 0.003),
                    (N::Phonetic, 0.04, 0.004),
                    (N::Subset, 0.07, 0.001),
                    (N::Initial, 0.02, 0.002),
                    (N::Partial, 0.05, 0.06),
                    (N::Different, 0.02, 0.928),
                ],
            ),
            FieldParams::from_pairs(
                "dob",
                &[
                    (D::Exact, 0.55, 0.0003),
                    (D::DayMonthSwapped, 0.03, 0.0003),
                    (D::OverlapNarrow, 0.1, 0.006),
                    (D::OverlapWide, 0.1, 0.06),
                    (D::SameYear, 0.04, 0.012),
                    (D::WithinOneYear, 0.1, 0.03),
                    (D::Different, 0.08, 0.89),
                ],
            ),
            FieldParams::from_pairs(
                "sex",
                &[
                    (SexLevel::Same, 0.97, 0.5),
                    (SexLevel::Different, 0.03, 0.5),
                ],
            ),
            FieldParams::from_pairs(
                "nationality",
                &[
                    (NationalityLevel::Shared, 0.9, 0.15),
                    (NationalityLevel::Different, 0.1, 0.85),
                ],
            ),
            FieldParams::from_pairs(
                "height",
                &[
                    (HeightLevel::Overlap, 0.7, 0.2),
                    (HeightLevel::Near, 0.2, 0.3),
                    (HeightLevel::Different, 0.1, 0.5),
                ],
            ),
            FieldParams::from_pairs(
                "marks",
                &[
                    (MarksLevel::Similar, 0.5, 0.01),
                    (MarksLevel::Partial, 0.3, 0.1),
                    (MarksLevel::Different, 0.2, 0.89),
                ],
            ),
            FieldParams::from_pairs(
                "identifiers",
                &[
                    (IdentifierLevel::Exact, 0.9, 1e-6),
                    (IdentifierLevel::OneTypo, 0.05, 1e-5),
                    (IdentifierLevel::Different, 0.05, 0.999989),
                ],
            ),
            FieldParams::from_pairs(
                "text",
                &[
                    (TextLevel::Exact, 0.5, 0.01),
                    (TextLevel::JaroWinklerHigh, 0.15, 0.02),
                    (TextLevel::JaroWinklerMid, 0.1, 0.05),
                    (TextLevel::Different, 0.25, 0.92),
                ],
            ),
        ];
        Self {
            format: FORMAT.to_string(),
            prior: 1e-6,
            prior_records: None,
            tf: TfSettings::default(),
            fields,
            notes: vec!["default_untrained: hand-set m/u".to_string()],
        }
    }

    /// The shipped model, trained on synthetic data (`models/default.json`; how it was
    /// produced is recorded in its `notes` and in `docs/matching.md`). Falls back to
    /// [`Model::default_untrained`] if the embedded file were unusable (a unit test
    /// guarantees it is not).
    pub fn default_trained() -> Self {
        Self::from_json(DEFAULT_TRAINED).unwrap_or_else(|_| Self::default_untrained())
    }

    /// Parameters of a field key.
    pub fn field(&self, key: &str) -> Option<&FieldParams> {
        self.fields.iter().find(|f| f.field == key)
    }

    /// Parameters for a generic text field: `text:<name>` if trained, else `text`.
    pub fn text_field(&self, name: &str) -> Option<&FieldParams> {
        self.fields
            .iter()
            .find(|f| f.field.strip_prefix("text:") == Some(name))
            .or_else(|| self.field("text"))
    }

    pub(crate) fn field_mut_or_insert(&mut self, key: &str) -> &mut FieldParams {
        let pos = match self.fields.iter().position(|f| f.field == key) {
            Some(p) => p,
            None => {
                let template = if key.starts_with("text:") {
                    self.field("text").cloned()
                } else {
                    None
                };
                let mut f = template.unwrap_or(FieldParams {
                    field: key.to_string(),
                    levels: Vec::new(),
                });
                f.field = key.to_string();
                self.fields.push(f);
                self.fields.len() - 1
            }
        };
        &mut self.fields[pos]
    }

    /// Weight (bits) of the prior: `log2(λ / (1 - λ))`.
    pub fn prior_weight(&self) -> f64 {
        let p = self.prior.clamp(1e-15, 1.0 - 1e-15);
        (p / (1.0 - p)).log2()
    }

    /// λ for comparing records within a set of `records` records (or a set of
    /// `records` candidates per record when linking): the expected number of other
    /// records of the same person per record, λ·(N − 1), is kept, so
    /// λₙ = λ·(N − 1)/(n − 1), clamped to at most 0.5. Without
    /// [`Model::prior_records`], or for fewer than 2 records, λ is returned as is.
    pub fn prior_for(&self, records: usize) -> f64 {
        match self.prior_records {
            Some(n_train) if n_train >= 2 && records >= 2 => {
                let per_record = self.prior * (n_train - 1) as f64;
                (per_record / (records - 1) as f64).clamp(1e-15, 0.5)
            }
            _ => self.prior,
        }
    }

    /// A copy of the model whose prior is [`Model::prior_for`]`(records)`.
    pub fn scaled_to(&self, records: usize) -> Self {
        let mut m = self.clone();
        m.prior = self.prior_for(records);
        m.prior_records = Some(records as u64);
        m
    }

    /// Compiles the model into a fast [`Scorer`].
    pub fn scorer(&self) -> Scorer {
        Scorer::new(self)
    }

    /// Pretty JSON (weights refreshed).
    pub fn to_json(&self) -> Result<String, ModelError> {
        let mut m = self.clone();
        for f in &mut m.fields {
            for l in &mut f.levels {
                l.weight = weight_of(l.m, l.u);
            }
        }
        Ok(serde_json::to_string_pretty(&m)?)
    }

    /// Loads and validates a model from JSON.
    pub fn from_json(json: &str) -> Result<Self, ModelError> {
        let mut m: Self = serde_json::from_str(json)?;
        if m.format != FORMAT {
            return Err(ModelError::Invalid(format!(
                "unknown format {:?}",
                m.format
            )));
        }
        if !(m.prior > 0.0 && m.prior < 1.0) {
            return Err(ModelError::Invalid(format!(
                "prior {} outside (0,1)",
                m.prior
            )));
        }
        for f in &mut m.fields {
            for l in &mut f.levels {
                if !(0.0..=1.0).contains(&l.m) || !(0.0..=1.0).contains(&l.u) {
                    return Err(ModelError::Invalid(format!(
                        "{}.{}: m/u outside [0,1]",
                        f.field, l.level
                    )));
                }
                l.weight = weight_of(l.m, l.u);
            }
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let m = Model::default_untrained();
        let json = m.to_json().unwrap();
        assert!(json.contains("\"variant_group\""));
        let back = Model::from_json(&json).unwrap();
        assert_eq!(back.fields.len(), m.fields.len());
        for (a, b) in m.fields.iter().zip(&back.fields) {
            for (la, lb) in a.levels.iter().zip(&b.levels) {
                assert_eq!(la.level, lb.level);
                assert!((la.m - lb.m).abs() < 1e-12 && (la.u - lb.u).abs() < 1e-12);
            }
        }
        assert_eq!(back.prior, m.prior);
        assert!(Model::from_json("{\"format\":\"x\"}").is_err());
    }

    #[test]
    fn shipped_model_loads() {
        let m = Model::from_json(DEFAULT_TRAINED).unwrap();
        assert!(
            m.notes.iter().any(|n| n.contains("nrmp train")),
            "{:?}",
            m.notes
        );
        let name = m.field("name").unwrap();
        assert!(name.level("exact").unwrap().weight > 5.0);
        assert_eq!(Model::default_trained(), m);
    }

    #[test]
    fn prior_scales_with_record_count() {
        let mut m = Model::default_untrained();
        assert_eq!(m.prior_for(50), m.prior);
        m.prior = 1e-6;
        m.prior_records = Some(100_001);
        // 0.1 expected matches per record, kept whatever the set size
        assert!((m.prior_for(1_001) - 1e-4).abs() < 1e-12);
        assert!((m.prior_for(100_001) - 1e-6).abs() < 1e-15);
        assert!(m.prior_for(2) <= 0.5);
        let s = m.scaled_to(1_001);
        assert!((s.prior - 1e-4).abs() < 1e-12);
        assert!((s.prior_for(1_001) - 1e-4).abs() < 1e-12);
        let back = Model::from_json(&m.to_json().unwrap()).unwrap();
        assert_eq!(back.prior_records, Some(100_001));
    }

    #[test]
    fn default_weights_are_sensible() {
        let m = Model::default_untrained();
        let name = m.field("name").unwrap();
        assert!(name.level("exact").unwrap().weight > 8.0);
        assert!(name.level("different").unwrap().weight < -4.0);
        assert!(m.prior_weight() < -15.0);
    }
}
