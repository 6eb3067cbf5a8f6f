//! A model compiled to lookup tables for fast scoring.

use std::collections::HashMap;

use crate::compare::{
    ComparisonVector, Level, NameLevel, TextLevel, best_names, compare_dob, compare_height,
    compare_identifiers, compare_mark_ids, compare_nationality, compare_sex, compare_texts,
};
use crate::model::{FieldParams, Model, TfSettings, weight_of};
use crate::prepare::{CheapFields, Prepared, Tokens};

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
    /// log2 of the chance that two random records' names agree at least as well as
    /// each of [`WHOLE_LEVELS`] (the u of that level and every better one): the
    /// base of the whole-name frequency adjustment.
    log2_u_whole: [f64; 5],
    /// Largest positive contribution each field can make (0 if none is positive):
    /// the bounds that let [`Scorer::weight_if_at_least`] skip hopeless pairs.
    max: MaxWeights,
}

/// Name levels at which every token of one name corresponds to one of the other
/// (exactly, by variant group or closely), best first: their frequency adjustment
/// is that of the whole name.
const WHOLE_LEVELS: [NameLevel; 5] = [
    NameLevel::Exact,
    NameLevel::VariantGroup,
    NameLevel::JaroWinklerHigh,
    NameLevel::JaroWinklerMid,
    NameLevel::Phonetic,
];

/// The nationality of `a` at index `shared` (a [`ComparisonVector::shared_nationality`]):
/// the population in which a name's frequency is judged.
fn population(a: &Prepared, shared: Option<u8>) -> Option<&str> {
    shared
        .and_then(|i| a.nationalities.get(usize::from(i)))
        .map(|n| &**n)
}

#[derive(Debug, Clone, Copy, Default)]
struct MaxWeights {
    name: f64,
    tf: f64,
    marks: f64,
    identifiers: f64,
    text: f64,
    nationality: f64,
}

fn max_positive(t: &[f64]) -> f64 {
    t.iter().copied().fold(0.0, f64::max)
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

/// Slack for the bounds: they add the same terms as the total in another order.
const BOUND_SLACK: f64 = 1e-9;

/// What the first, cheap stage of a bounded weight found (see [`Scorer::stage1`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stage1 {
    dob: crate::compare::DobLevel,
    sex: crate::compare::SexLevel,
    /// `None`: not decidable from the packed codes.
    nationality: Option<crate::compare::NationalityLevel>,
    height: crate::compare::HeightLevel,
    /// Prior plus the cheap fields' weights (nationality at its maximum if `None`).
    cheap: f64,
    /// The most marks, identifiers and text fields can add.
    rest_max: f64,
    /// Upper bound of the total weight.
    pub(crate) upper: f64,
}

/// The match weight (bits) at which the probability is `p`: `log2(p / (1 − p))`.
pub fn weight_for_probability(p: f64) -> f64 {
    let p = p.clamp(1e-15, 1.0 - 1e-15);
    (p / (1.0 - p)).log2()
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
            log2_u_whole: {
                let u = |l: NameLevel| {
                    model
                        .field("name")
                        .and_then(|f| f.level(l.label()))
                        .map_or(0.0, |p| p.u)
                };
                let mut at_least = 0.0;
                WHOLE_LEVELS.map(|l| {
                    at_least += u(l);
                    at_least.max(1e-12).log2()
                })
            },
            max: MaxWeights::default(),
        }
        .with_bounds()
    }

    fn with_bounds(mut self) -> Self {
        let text = self
            .text
            .values()
            .map(|t| max_positive(t))
            .fold(max_positive(&self.text_default), f64::max);
        self.max = MaxWeights {
            name: max_positive(&self.name),
            tf: if self.tf.enabled {
                self.tf.max_abs_bits.max(0.0)
            } else {
                0.0
            },
            marks: max_positive(&self.marks),
            identifiers: max_positive(&self.identifiers),
            text,
            nationality: max_positive(&self.nationality),
        };
        self
    }

    /// The total weight of `a` against `b`, exactly as
    /// [`Scorer::weight`]`(&compare(a, b, tokens), a, tokens)`, or `None` when it is
    /// certainly below `cutoff` (bits).
    ///
    /// The cheap fields (date of birth, sex, nationality, height) are compared first;
    /// the name (the expensive part), marks, identifiers and text fields are compared
    /// only while the best they could still add reaches `cutoff`. Nothing that could
    /// reach the cutoff is skipped, so batch results and the top k of a lookup are
    /// the same as scoring every pair in full.
    pub fn weight_if_at_least<T: Tokens + ?Sized>(
        &self,
        a: &Prepared,
        b: &Prepared,
        tokens: &T,
        cutoff: f64,
    ) -> Option<f64> {
        self.weight_if_at_least_bounded(a, self.name_bound(a, tokens), b, tokens, cutoff)
    }

    /// [`Scorer::weight_if_at_least`] with `a`'s [`Scorer::name_bound`] computed
    /// once by the caller (one left record against many).
    pub fn weight_if_at_least_bounded<T: Tokens + ?Sized>(
        &self,
        a: &Prepared,
        name_bound: f64,
        b: &Prepared,
        tokens: &T,
        cutoff: f64,
    ) -> Option<f64> {
        let s1 = self.stage1(&CheapFields::of(a), &CheapFields::of(b), name_bound);
        if s1.upper < cutoff - BOUND_SLACK {
            return None;
        }
        self.stage2(&s1, a, b, tokens, cutoff)
    }

    /// The bounded weight of `a` against a record known first by its cheap fields
    /// `bc`; the full record is fetched (`fetch`) only if the cheap bound reaches
    /// `cutoff`. Same result as [`Scorer::weight_if_at_least`].
    #[allow(clippy::too_many_arguments)] // the hot loop's left record, split for speed
    pub(crate) fn weight_if_at_least_cheap<'r, T: Tokens + ?Sized>(
        &self,
        a: &Prepared,
        ac: &CheapFields,
        name_bound: f64,
        bc: &CheapFields,
        fetch: impl FnOnce() -> Option<&'r Prepared>,
        tokens: &T,
        cutoff: f64,
    ) -> Option<f64> {
        let s1 = self.stage1(ac, bc, name_bound);
        if s1.upper < cutoff - BOUND_SLACK {
            return None;
        }
        self.stage2(&s1, a, fetch()?, tokens, cutoff)
    }

    /// First stage of the bounded weight: the cheap fields only (no access to the
    /// full records). `upper` bounds the total weight from above.
    pub(crate) fn stage1(&self, a: &CheapFields, b: &CheapFields, name_bound: f64) -> Stage1 {
        let dob = compare_dob(a.dob.as_ref(), b.dob.as_ref());
        let sex = compare_sex(a.sex, b.sex);
        let nationality = a.nationality(b);
        let height = compare_height(a.height, b.height);
        let cheap = self.prior_bits
            + at(&self.dob, dob)
            + at(&self.sex, sex)
            + nationality.map_or(self.max.nationality, |l| at(&self.nationality, l))
            + at(&self.height, height);
        let both = |x: bool, y: bool, w: f64| if x && y { w } else { 0.0 };
        let rest_max = both(a.has_marks, b.has_marks, self.max.marks)
            + both(a.has_identifiers, b.has_identifiers, self.max.identifiers)
            + match a.texts.min(b.texts) {
                0 => 0.0,
                u8::MAX => f64::INFINITY,
                n => self.max.text * f64::from(n),
            };
        let names_max = if b.has_names { name_bound } else { 0.0 };
        Stage1 {
            dob,
            sex,
            nationality,
            height,
            cheap,
            rest_max,
            upper: cheap + names_max + rest_max,
        }
    }

    /// Second stage: names, then the remaining fields, each only while the total
    /// can still reach `cutoff`; the exact total weight if it does.
    pub(crate) fn stage2<T: Tokens + ?Sized>(
        &self,
        s1: &Stage1,
        a: &Prepared,
        b: &Prepared,
        tokens: &T,
        cutoff: f64,
    ) -> Option<f64> {
        let cutoff_slack = cutoff - BOUND_SLACK;
        let (nationality, cheap) = match s1.nationality {
            Some(l) => (l, s1.cheap),
            None => {
                let l = compare_nationality(&a.nationalities, &b.nationalities);
                (
                    l,
                    s1.cheap - self.max.nationality + at(&self.nationality, l),
                )
            }
        };
        let (dob, sex, height, rest_max) = (s1.dob, s1.sex, s1.height, s1.rest_max);
        let name = best_names(a, b, tokens);
        let shared = crate::compare::shared_nationality(&a.nationalities, &b.nationalities);
        let with_name = cheap
            + at(&self.name, name.level)
            + self.tf_of(
                name.level,
                name.keys.as_slice(),
                tokens,
                population(a, shared),
            );
        if with_name + rest_max < cutoff_slack {
            return None;
        }
        let mut cv = ComparisonVector {
            name: name.outcome(),
            dob,
            sex,
            nationality,
            height,
            marks: crate::compare::MarksLevel::Missing,
            identifiers: crate::compare::IdentifierLevel::Missing,
            texts: Vec::new(),
            shared_nationality: shared,
        };
        cv.marks = compare_mark_ids(&a.marks, &b.marks, tokens);
        cv.identifiers = compare_identifiers(&a.identifiers, &b.identifiers);
        if !a.texts.is_empty() && !b.texts.is_empty() {
            cv.texts = compare_texts(&a.texts, &b.texts);
        }
        let w = self.weight(&cv, a, tokens);
        (w >= cutoff).then_some(w)
    }

    /// Prior weight in bits.
    pub fn prior_bits(&self) -> f64 {
        self.prior_bits
    }

    /// Weight of a text field level.
    pub fn text_weight(&self, field: &str, level: TextLevel) -> f64 {
        at(self.text.get(field).unwrap_or(&self.text_default), level)
    }

    /// Term-frequency adjustment (bits) of the name agreement; `a` is the left record.
    pub fn tf_adjustment<T: Tokens + ?Sized>(
        &self,
        cv: &ComparisonVector,
        a: &Prepared,
        tokens: &T,
    ) -> f64 {
        self.tf_of(
            cv.name.level,
            &cv.name.agreeing_keys,
            tokens,
            population(a, cv.shared_nationality),
        )
    }

    fn tf_of<T: Tokens + ?Sized>(
        &self,
        level: NameLevel,
        keys: &[u32],
        tokens: &T,
        nationality: Option<&str>,
    ) -> f64 {
        if !self.tf.enabled
            || keys.is_empty()
            || matches!(level, NameLevel::Different | NameLevel::Missing)
        {
            return 0.0;
        }
        if self.tf.sum
            && let Some(whole) = self.whole_name_tf(level, keys, tokens, nationality)
        {
            return (whole * self.tf.weight).clamp(-self.tf.max_abs_bits, self.tf.max_abs_bits);
        }
        let sum = keys.iter().map(|k| tokens.tf_bits(*k)).sum::<f64>();
        let combined = if self.tf.sum {
            sum
        } else {
            sum / keys.len() as f64
        };
        (combined * self.tf.weight).clamp(-self.tf.max_abs_bits, self.tf.max_abs_bits)
    }

    /// The whole-name adjustment when every token corresponds ([`WHOLE_LEVELS`]:
    /// exact, variant group, or close, a closely matching pair counted as the commoner
    /// of its two tokens): `log2(u_level / r_name)`, where `r_name`, the chance that a
    /// random record bears the name, is the product of its tokens' record shares
    /// (independence), and `u_level` the chance that two random records agree that
    /// well. So one rare token (a one-word name) weighs what it is worth, and every
    /// further token adds to the weight, a common one less than a rare one. `None`
    /// for other levels or without counts.
    ///
    /// When both records share `nationality`, the tokens are taken as independent
    /// only within it: `r_name = share(nationality) × Π share(token | nationality)`.
    /// The register-wide product treats the given and family name of a minority as
    /// two independent rarities and so makes an Albanian name look some 30 times
    /// rarer than it is among Albanians; the smaller of the two weights is used, so
    /// this only ever corrects that excess (and the pruning bounds stay valid).
    fn whole_name_tf<T: Tokens + ?Sized>(
        &self,
        level: NameLevel,
        keys: &[u32],
        tokens: &T,
        nationality: Option<&str>,
    ) -> Option<f64> {
        let base = self.log2_u_whole[WHOLE_LEVELS.iter().position(|l| *l == level)?];
        let mut bits = base;
        for k in keys {
            bits += tokens.share_bits(*k)?;
        }
        let within = nationality.and_then(|n| {
            keys.iter()
                .map(|k| tokens.share_bits_within(*k, n))
                .sum::<Option<f64>>()
                .zip(tokens.nationality_bits(n))
                .map(|(names, population)| base + population + names)
        });
        Some(within.map_or(bits, |w| w.min(bits)))
    }

    /// The most the name comparison (level weight plus name-frequency adjustment)
    /// can add for `a` against any record. The adjustment combines keys of tokens of
    /// one of `a`'s name forms (or commoner ones), so it is at most: for a partial
    /// agreement, the sum of the positive adjustments of one form's tokens; for a
    /// whole-name level, that level's weight plus the whole-name adjustment of one
    /// form at that level's base; for older models (mean), `a`'s least common token.
    /// Compute once per left record and pass to
    /// [`Scorer::weight_if_at_least_bounded`].
    pub fn name_bound<T: Tokens + ?Sized>(&self, a: &Prepared, tokens: &T) -> f64 {
        if a.names.iter().all(|n| n.tokens.is_empty()) {
            return 0.0;
        }
        let tf_on = self.tf.enabled && self.tf.weight >= 0.0;
        let scaled =
            |bits: f64| (bits * self.tf.weight).clamp(-self.tf.max_abs_bits, self.tf.max_abs_bits);
        if !tf_on {
            return self.max.name + self.max.tf;
        }
        let bits = |t: &crate::prepare::Tok| tokens.tf_bits(tokens.info(t.id).key);
        if !self.tf.sum {
            let best = a
                .names
                .iter()
                .flat_map(|n| n.tokens.iter())
                .map(bits)
                .fold(f64::NEG_INFINITY, f64::max);
            return self.max.name + scaled(best).max(0.0);
        }
        a.names
            .iter()
            .map(|n| {
                let toks = n.tokens.iter().take(crate::prepare::MAX_TOKENS);
                let partial = toks.clone().map(|t| bits(t).max(0.0)).sum::<f64>();
                let mut bound = self.max.name + scaled(partial).max(0.0);
                if let Some(shares) = toks
                    .map(|t| tokens.share_bits(tokens.info(t.id).key))
                    .sum::<Option<f64>>()
                {
                    for (level, base) in WHOLE_LEVELS.iter().zip(self.log2_u_whole) {
                        bound = bound.max(at(&self.name, *level) + scaled(base + shares).max(0.0));
                    }
                }
                bound
            })
            .fold(0.0, f64::max)
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
            + self.tf_adjustment(cv, a, tokens);
        for (i, level) in &cv.texts {
            if let Some((name, _)) = a.texts.get(*i) {
                w += self.text_weight(name, *level);
            }
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::compare;
    use crate::prepare::{Vocab, normalise_record};
    use crate::testdata;

    /// The records prepared with one vocabulary, which counts each of them once.
    fn prepared_and_counted(
        records: &[crate::record::MatchRecord],
    ) -> (Vocab, Vec<crate::prepare::Prepared>) {
        let mut v = Vocab::new();
        let prepared: Vec<_> = records
            .iter()
            .map(|r| v.prepare(normalise_record(r)))
            .collect();
        for p in &prepared {
            v.count(p, 1);
        }
        (v, prepared)
    }

    /// The untrained model with the whole-name frequency at full strength, unclamped.
    fn summed_tf_model() -> Model {
        let mut model = Model::default_untrained();
        model.tf = TfSettings {
            enabled: true,
            weight: 1.0,
            max_abs_bits: 30.0,
            sum: true,
        };
        model
    }

    /// `n` records whose names share no token.
    fn unrelated_records(n: usize) -> Vec<crate::record::MatchRecord> {
        use crate::record::{MatchRecord, PersonName};
        (0..n)
            .map(|i| {
                MatchRecord::new(format!("o{i}"))
                    .with_name(PersonName::new(format!("Given{i}"), format!("Family{i}")))
            })
            .collect()
    }

    #[test]
    fn a_closely_matching_name_is_weighed_by_the_frequency_of_all_its_tokens() {
        use crate::record::{MatchRecord, PersonName};
        // Hoxha on 8 records, its spelling Hoxa on one; Erion on 3; 30 others
        let mut records = unrelated_records(30);
        for i in 0..8 {
            let given = if i < 2 { "Erion" } else { "Ilir" };
            records
                .push(MatchRecord::new(format!("h{i}")).with_name(PersonName::new(given, "Hoxha")));
        }
        records.push(MatchRecord::new("x").with_name(PersonName::new("Erion", "Hoxa")));
        let (v, prepared) = prepared_and_counted(&records);
        let model = summed_tf_model();
        let scorer = model.scorer();
        let (x, h0) = (&prepared[38], &prepared[30]);
        let cv = compare(x, h0, &v);
        assert_eq!(cv.name.level, NameLevel::JaroWinklerHigh);
        let key = |t: &str| v.info(v.get(t).unwrap()).key;
        let mut keys = cv.name.agreeing_keys.clone();
        keys.sort_unstable();
        let mut expected = vec![key("erion"), key("hoxha")];
        expected.sort_unstable();
        assert_eq!(keys, expected, "Hoxa counts as the commoner Hoxha");
        // log2(u of a name at least Jaro-Winkler-high alike / r), r = (3/39)(8/39)
        let name = model.field("name").unwrap();
        let u = |l: &str| name.level(l).unwrap().u;
        let at_least = u("exact") + u("variant_group") + u("jaro_winkler_high");
        let expected = (at_least / (3.0 / 39.0 * 8.0 / 39.0)).log2();
        let tf = scorer.tf_adjustment(&cv, x, &v);
        assert!((tf - expected).abs() < 1e-9, "{tf} vs {expected}");
        // a partial agreement still counts only its exactly agreeing tokens
        let partial = compare(x, &prepared[32], &v);
        assert_eq!(partial.name.level, NameLevel::Partial);
        assert!(
            partial.name.agreeing_keys.is_empty(),
            "Hoxa ~ Hoxha is close, not agreeing"
        );
    }

    #[test]
    fn name_frequency_is_judged_within_the_shared_nationality() {
        use crate::record::{MatchRecord, PersonName};
        // 90 British records with varied names; 10 Albanian ones, six of them
        // Artan and five Kelmendi: common among Albanians, rare in the register
        let mut records: Vec<MatchRecord> = unrelated_records(90)
            .into_iter()
            .map(|r| r.with_nationality("GBR"))
            .collect();
        for i in 0..10 {
            let given = if i < 6 { "Artan" } else { "Ilir" };
            let family = if i < 5 { "Kelmendi" } else { "Hoxha" };
            records.push(
                MatchRecord::new(format!("a{i}"))
                    .with_name(PersonName::new(given, family))
                    .with_nationality("ALB"),
            );
        }
        // the same name without a recorded nationality
        records.push(MatchRecord::new("x").with_name(PersonName::new("Artan", "Kelmendi")));
        let (v, prepared) = prepared_and_counted(&records);
        let model = summed_tf_model();
        let scorer = model.scorer();
        let u_exact = model.field("name").unwrap().level("exact").unwrap().u;
        let (a0, a1, x) = (&prepared[90], &prepared[91], &prepared[100]);
        let shared = compare(a0, a1, &v);
        assert_eq!(shared.name.level, NameLevel::Exact);
        assert_eq!(shared.shared_nationality, Some(0));
        // within ALB: r = (10/101) · (6/10) · (5/10)
        let within = scorer.tf_adjustment(&shared, a0, &v);
        let expected = (u_exact / (10.0 / 101.0 * 0.6 * 0.5)).log2();
        assert!((within - expected).abs() < 1e-9, "{within} vs {expected}");
        // register-wide product: r = (7/101) · (6/101), about 7 times rarer
        let unshared = compare(a0, x, &v);
        assert_eq!(unshared.shared_nationality, None);
        let wide = scorer.tf_adjustment(&unshared, a0, &v);
        let expected = (u_exact / (7.0 / 101.0 * 6.0 / 101.0)).log2();
        assert!((wide - expected).abs() < 1e-9, "{wide} vs {expected}");
        assert!(wide - within > 2.8, "{wide} vs {within}");
        // the weight uses it, and stays within the pruning bound
        let full = scorer.weight(&shared, a0, &v);
        let bounded = scorer.weight_if_at_least(a0, a1, &v, full - 1e-6);
        assert_eq!(bounded, Some(full));
        assert!(scorer.name_bound(a0, &v) >= at(&scorer.name, NameLevel::Exact) + within);
        // removing records takes them out of their nationality's counts too
        let mut v = v;
        for p in &prepared[92..100] {
            v.count(p, -1);
        }
        let key = v.info(v.get("artan").unwrap()).key;
        assert_eq!(v.nationality_bits("ALB"), Some((93.0_f64 / 2.0).log2()));
        assert_eq!(v.share_bits_within(key, "ALB"), Some(0.0));
    }

    #[test]
    fn summed_name_frequency_counts_every_agreeing_token() {
        use crate::record::{MatchRecord, PersonName};
        // common given and family names; two records of a rare middle name; a
        // one-word name held by four records
        let mut records: Vec<MatchRecord> = (0..40)
            .map(|i| {
                MatchRecord::new(format!("r{i}"))
                    .with_name(PersonName::new(["James", "Jack"][i % 2], "Smith"))
            })
            .collect();
        for id in ["a", "b"] {
            records.push(MatchRecord::new(id).with_name(PersonName::new("Jack Ottoline", "Smith")));
        }
        for i in 0..4 {
            records.push(MatchRecord::new(format!("s{i}")).with_name(PersonName::full("Sakina")));
        }
        let (v, prepared) = prepared_and_counted(&records);
        let mut model = summed_tf_model();
        let scorer = model.scorer();
        let u_exact = model.field("name").unwrap().level("exact").unwrap().u;
        let tf = |i: usize, j: usize| {
            let cv = compare(&prepared[i], &prepared[j], &v);
            (scorer.tf_adjustment(&cv, &prepared[i], &v), cv)
        };
        // whole name: log2(u_exact / product of the tokens' record shares)
        let (rare, cv) = tf(40, 41);
        assert_eq!(cv.name.level, NameLevel::Exact);
        assert_eq!(cv.name.agreeing_keys.len(), 3);
        let n = prepared.len() as f64;
        let expected = (u_exact * n / 42.0 * n / 2.0 * n / 22.0).log2();
        assert!((rare - expected).abs() < 1e-9, "{rare} vs {expected}");
        // agreeing on a further token never lowers the adjustment; a rare one raises it
        let (common, _) = tf(1, 3);
        assert!(rare > common + 3.0, "{rare} vs {common}");
        // a one-word name is worth one token: far less than the rare three-token name
        let (one_word, _) = tf(42, 43);
        assert!((one_word - (u_exact * n / 4.0).log2()).abs() < 1e-9);
        assert!(one_word < rare - 2.0, "{one_word} vs {rare}");
        // partial agreement (only Smith): the agreeing token's adjustment
        let (partial, cv) = tf(0, 40);
        assert!(
            matches!(cv.name.level, NameLevel::Partial | NameLevel::Subset),
            "{:?}",
            cv.name.level
        );
        let bits: f64 = cv.name.agreeing_keys.iter().map(|k| v.tf_bits(*k)).sum();
        assert!((partial - bits).abs() < 1e-9, "{partial} vs {bits}");
        // older model files: the mean of the agreeing tokens' adjustments
        model.tf.sum = false;
        let cv = compare(&prepared[40], &prepared[41], &v);
        let mean = model.scorer().tf_adjustment(&cv, &prepared[40], &v);
        let bits: Vec<f64> = cv
            .name
            .agreeing_keys
            .iter()
            .map(|k| v.tf_bits(*k))
            .collect();
        assert!((mean - bits.iter().sum::<f64>() / 3.0).abs() < 1e-9);
        // the clamp applies
        model.tf = TfSettings {
            max_abs_bits: 1.0,
            ..TfSettings::TUNED
        };
        assert!(model.scorer().tf_adjustment(&cv, &prepared[40], &v).abs() <= 1.0);
    }

    #[test]
    fn bounded_weight_is_the_full_weight_or_certainly_below_the_cutoff() {
        let (mut records, _) = testdata::generate(11, 150, 0.5);
        // some records with the fields the bounds treat specially
        for (i, r) in records.iter_mut().enumerate().step_by(7) {
            r.marks.push(format!("scar left cheek {}", i % 3));
            r.height_cm = Some((160 + (i % 20) as u16, 170 + (i % 20) as u16));
            r.identifiers
                .push(("passport".into(), format!("P{:07}", i % 11)));
            r.text_fields
                .push(("town".into(), format!("Town{}", i % 5)));
        }
        // nationalities: packed codes, and the overflow cases (three codes, long codes)
        for (i, r) in records.iter_mut().enumerate() {
            match i % 6 {
                0 => r.nationalities = vec!["GBR".into()],
                1 => r.nationalities = vec!["AFG".into(), "IRN".into()],
                2 => r.nationalities = vec!["AFG".into(), "PAK".into(), "IRN".into()],
                3 => r.nationalities = vec!["Kurdistan".into()],
                4 => r.nationalities = vec!["IRN".into()],
                _ => {}
            }
        }
        for model in [Model::default_trained(), Model::default_untrained()] {
            let scorer = model.scorer();
            let (v, prepared) = prepared_and_counted(&records);
            let mut skipped = 0;
            for (i, a) in prepared.iter().enumerate().step_by(3) {
                for b in prepared.iter().skip(i % 5).step_by(4) {
                    let full = scorer.weight(&compare(a, b, &v), a, &v);
                    for cutoff in [f64::NEG_INFINITY, -20.0, full - 0.5, full, 5.0, full + 0.5] {
                        let got = scorer.weight_if_at_least(a, b, &v, cutoff);
                        if full >= cutoff {
                            assert_eq!(got, Some(full), "{} {} cutoff {cutoff}", a.id, b.id);
                        } else {
                            assert_eq!(got, None, "{} {} cutoff {cutoff}", a.id, b.id);
                            skipped += 1;
                        }
                    }
                }
            }
            assert!(skipped > 100, "the bound is exercised ({skipped})");
        }
    }

    #[test]
    fn weight_for_probability_inverts_probability() {
        for p in [0.01, 0.5, 0.9, 0.999] {
            assert!((probability(weight_for_probability(p)) - p).abs() < 1e-12);
        }
    }
}
