//! A model compiled to lookup tables for fast scoring.

use std::collections::HashMap;

use crate::compare::{ComparisonVector, Level, NameLevel, TextLevel};
use crate::model::{FieldParams, Model, TfSettings, weight_of};
use crate::prepare::{Prepared, Tokens};

/// Level weights per field, indexed by level; the scoring half of a [`Model`].
#[derive(Debug, Clone)]
pub struct Scorer {
    name: Vec<f64>,
    dob: Vec<f64>,
    sex: Vec<f64>,
    nationality: Vec<f64>,
    height: Vec<f64>,
    marks: Vec<f64>,
    identifiers: Vec<f64>,
    text_default: Vec<f64>,
    text: HashMap<String, Vec<f64>>,
    prior_bits: f64,
    tf: TfSettings,
}

fn table<L: Level>(f: Option<&FieldParams>) -> Vec<f64> {
    L::ALL
        .iter()
        .map(|l| {
            if l.is_missing() {
                return 0.0;
            }
            f.and_then(|f| f.level(l.label()))
                .map_or(0.0, |p| weight_of(p.m, p.u))
        })
        .collect()
}

fn at<L: Level>(t: &[f64], l: L) -> f64 {
    t.get(l.index()).copied().unwrap_or(0.0)
}

/// Converts a total match weight (bits, prior included) to a probability.
pub fn probability(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

impl Scorer {
    /// Compiles `model`.
    pub fn new(model: &Model) -> Self {
        let text = model
            .fields
            .iter()
            .filter_map(|f| {
                f.field
                    .strip_prefix("text:")
                    .map(|n| (n.to_string(), table::<TextLevel>(Some(f))))
            })
            .collect();
        Self {
            name: table::<NameLevel>(model.field("name")),
            dob: table::<crate::compare::DobLevel>(model.field("dob")),
            sex: table::<crate::compare::SexLevel>(model.field("sex")),
            nationality: table::<crate::compare::NationalityLevel>(model.field("nationality")),
            height: table::<crate::compare::HeightLevel>(model.field("height")),
            marks: table::<crate::compare::MarksLevel>(model.field("marks")),
            identifiers: table::<crate::compare::IdentifierLevel>(model.field("identifiers")),
            text_default: table::<TextLevel>(model.field("text")),
            text,
            prior_bits: model.prior_weight(),
            tf: model.tf,
        }
    }

    /// Prior weight in bits.
    pub fn prior_bits(&self) -> f64 {
        self.prior_bits
    }

    /// Weight of a text field level.
    pub fn text_weight(&self, field: &str, level: TextLevel) -> f64 {
        at(self.text.get(field).unwrap_or(&self.text_default), level)
    }

    /// Term-frequency adjustment (bits) of the name agreement.
    pub fn tf_adjustment<T: Tokens + ?Sized>(&self, cv: &ComparisonVector, tokens: &T) -> f64 {
        let keys = &cv.name.agreeing_keys;
        if !self.tf.enabled
            || keys.is_empty()
            || matches!(cv.name.level, NameLevel::Different | NameLevel::Missing)
        {
            return 0.0;
        }
        let mean = keys.iter().map(|k| tokens.tf_bits(*k)).sum::<f64>() / keys.len() as f64;
        (mean * self.tf.weight).clamp(-self.tf.max_abs_bits, self.tf.max_abs_bits)
    }

    /// Per-field weights (field key, level label, weight) without the prior and TF.
    pub fn field_weights(
        &self,
        cv: &ComparisonVector,
        a: &Prepared,
    ) -> Vec<(String, &'static str, f64)> {
        let mut out = vec![
            (
                "name".to_string(),
                cv.name.level.label(),
                at(&self.name, cv.name.level),
            ),
            ("dob".to_string(), cv.dob.label(), at(&self.dob, cv.dob)),
            ("sex".to_string(), cv.sex.label(), at(&self.sex, cv.sex)),
            (
                "nationality".to_string(),
                cv.nationality.label(),
                at(&self.nationality, cv.nationality),
            ),
            (
                "height".to_string(),
                cv.height.label(),
                at(&self.height, cv.height),
            ),
            (
                "marks".to_string(),
                cv.marks.label(),
                at(&self.marks, cv.marks),
            ),
            (
                "identifiers".to_string(),
                cv.identifiers.label(),
                at(&self.identifiers, cv.identifiers),
            ),
        ];
        for (i, level) in &cv.texts {
            if let Some((name, _)) = a.texts.get(*i) {
                out.push((
                    format!("text:{name}"),
                    level.label(),
                    self.text_weight(name, *level),
                ));
            }
        }
        out
    }

    /// Total match weight in bits: prior + field weights + TF adjustment.
    /// `a` is the left record of the comparison (its text field names are used).
    pub fn weight<T: Tokens + ?Sized>(
        &self,
        cv: &ComparisonVector,
        a: &Prepared,
        tokens: &T,
    ) -> f64 {
        let mut w = self.prior_bits
            + at(&self.name, cv.name.level)
            + at(&self.dob, cv.dob)
            + at(&self.sex, cv.sex)
            + at(&self.nationality, cv.nationality)
            + at(&self.height, cv.height)
            + at(&self.marks, cv.marks)
            + at(&self.identifiers, cv.identifiers)
            + self.tf_adjustment(cv, tokens);
        for (i, level) in &cv.texts {
            if let Some((name, _)) = a.texts.get(*i) {
                w += self.text_weight(name, *level);
            }
        }
        w
    }
}
