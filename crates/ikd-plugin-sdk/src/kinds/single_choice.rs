//! Single-choice items: one option code, scored by a key or by expert-keyed credits.

use super::check_option_codes;
use crate::domain::{AnswerOutcome, ItemKind, ItemScorer};
use crate::present;
use crate::proto::{ItemPresentation, ItemSpec, Violation, Widget};
use crate::sim::{SimRng, item_offset, logistic};

/// `kind = "single-choice"`: the answer is one option code.
///
/// * With `key = ["b"]` the keyed option scores 1 and every other 0.
/// * With a `credit` on options (situational judgement: 1, 0.66, 0.33, 0)
///   each option scores its credit; options without one score 0.
/// * An option marked `dont_know = true` counts as answered, scores the
///   minimum, and is counted separately.
pub struct SingleChoice;

struct SingleChoiceScorer {
    range: (f64, f64),
    codes: String,
    /// Options in order as (code, credit, dont_know). A handful of short
    /// codes: a linear scan beats hashing the answer.
    options: Vec<(String, f64, bool)>,
    keyed: bool,
    offset: f64,
}

impl ItemKind for SingleChoice {
    fn name(&self) -> &'static str {
        "single-choice"
    }

    fn description(&self) -> &'static str {
        "one option code, scored by a key (1/0) or by expert-keyed option credits; optional \"don't know\""
    }

    fn prepare(&self, item: &ItemSpec) -> Result<Box<dyn ItemScorer>, Vec<Violation>> {
        let mut violations = Vec::new();
        check_option_codes(item, &mut violations);
        let has_credits = item.options.iter().any(|o| o.credit.is_some());
        match (item.key.len(), has_credits) {
            (0, false) => violations.push(Violation::item(
                &item.id,
                "key",
                "needs a key (one option code) or a credit on its options",
            )),
            (1, false) => {
                let key = &item.key[0];
                match item.options.iter().find(|o| &o.code == key) {
                    None => violations.push(Violation::item(
                        &item.id,
                        "key",
                        format!("key '{key}' is not one of the option codes"),
                    )),
                    Some(o) if o.dont_know => violations.push(Violation::item(
                        &item.id,
                        "key",
                        format!("key '{key}' is the \"don't know\" option"),
                    )),
                    Some(_) => {}
                }
            }
            (0, true) => {}
            (_, false) => violations.push(Violation::item(
                &item.id,
                "key",
                "a single-choice item has exactly one keyed option",
            )),
            (_, true) => violations.push(Violation::item(
                &item.id,
                "key",
                "give either a key or option credits, not both",
            )),
        }
        for (i, o) in item.options.iter().enumerate() {
            if let Some(c) = o.credit
                && !c.is_finite()
            {
                violations.push(Violation::item(
                    &item.id,
                    &format!("options[{i}].credit"),
                    format!("credit {c} is not a finite number"),
                ));
            }
        }
        if !violations.is_empty() {
            return Err(violations);
        }
        let options: Vec<(String, f64, bool)> = item
            .options
            .iter()
            .map(|o| {
                let credit = if o.dont_know {
                    0.0
                } else if has_credits {
                    o.credit.unwrap_or(0.0)
                } else if item.key[0] == o.code {
                    1.0
                } else {
                    0.0
                };
                (o.code.clone(), credit, o.dont_know)
            })
            .collect();
        let lo = options.iter().map(|o| o.1).fold(f64::INFINITY, f64::min);
        let hi = options
            .iter()
            .map(|o| o.1)
            .fold(f64::NEG_INFINITY, f64::max);
        if hi <= lo {
            return Err(vec![Violation::item(
                &item.id,
                "options",
                "every option earns the same credit, so the item cannot discriminate",
            )]);
        }
        let codes = item
            .options
            .iter()
            .map(|o| o.code.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        Ok(Box::new(SingleChoiceScorer {
            range: (lo, hi),
            codes,
            options,
            keyed: !has_credits,
            offset: item_offset(&item.id),
        }))
    }

    fn present(&self, item: &ItemSpec) -> ItemPresentation {
        present::choice_item(item, Widget::SingleChoice)
    }
}

impl ItemScorer for SingleChoiceScorer {
    fn range(&self) -> (f64, f64) {
        self.range
    }

    fn score(&self, answer: &str) -> Result<AnswerOutcome, String> {
        // The first-byte test avoids a `memcmp` call per option for one-letter codes.
        let first = answer.as_bytes().first();
        match self
            .options
            .iter()
            .find(|o| o.0.as_bytes().first() == first && o.0 == answer)
        {
            Some(&(_, _, true)) => Ok(AnswerOutcome::DontKnow(self.range.0)),
            Some(&(_, credit, false)) => Ok(AnswerOutcome::Score(credit)),
            None => Err(format!(
                "'{answer}' is not one of the options ({})",
                self.codes
            )),
        }
    }

    fn categories(&self) -> u32 {
        if self.keyed { 2 } else { 0 }
    }

    /// The chance of the best option rises with the trait; otherwise an
    /// option is chosen with odds that favour higher credit for higher trait.
    fn simulate(&self, theta: f64, rng: &mut SimRng) -> Option<String> {
        let span = self.range.1 - self.range.0;
        let weights: Vec<f64> = self
            .options
            .iter()
            .map(|&(_, credit, dont_know)| {
                let utility = if dont_know {
                    -1.0
                } else {
                    2.5 * theta * (credit - self.range.0) / span
                };
                let best = !dont_know && credit >= self.range.1;
                utility.exp()
                    * if best {
                        1.0 + 3.0 * logistic(theta - self.offset)
                    } else {
                        1.0
                    }
            })
            .collect();
        let mut u = rng.uniform() * weights.iter().sum::<f64>();
        for (w, (code, ..)) in weights.iter().zip(&self.options) {
            if u < *w {
                return Some(code.clone());
            }
            u -= w;
        }
        self.options.last().map(|o| o.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::ItemOption;

    fn opt(code: &str, credit: Option<f64>, dont_know: bool) -> ItemOption {
        ItemOption {
            code: code.into(),
            credit,
            dont_know,
            ..Default::default()
        }
    }

    fn item(options: Vec<ItemOption>, key: &[&str]) -> ItemSpec {
        ItemSpec {
            id: "K1".into(),
            kind: "single-choice".into(),
            options,
            key: key.iter().map(|k| k.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn keyed_option_scores_one_and_dont_know_is_counted_apart() {
        let it = item(
            vec![
                opt("a", None, false),
                opt("b", None, false),
                opt("x", None, true),
            ],
            &["b"],
        );
        let s = SingleChoice.prepare(&it).ok().unwrap();
        assert_eq!(s.score("b"), Ok(AnswerOutcome::Score(1.0)));
        assert_eq!(s.score("a"), Ok(AnswerOutcome::Score(0.0)));
        assert_eq!(s.score("x"), Ok(AnswerOutcome::DontKnow(0.0)));
        assert!(s.score("c").unwrap_err().contains("a, b, x"));
        assert_eq!(s.range(), (0.0, 1.0));
    }

    #[test]
    fn expert_credits_score_each_option() {
        let it = item(
            vec![
                opt("a", Some(1.0), false),
                opt("b", Some(0.66), false),
                opt("c", Some(0.33), false),
                opt("d", Some(0.0), false),
            ],
            &[],
        );
        let s = SingleChoice.prepare(&it).ok().unwrap();
        assert_eq!(s.score("b"), Ok(AnswerOutcome::Score(0.66)));
        assert_eq!(s.range(), (0.0, 1.0));
    }

    #[test]
    fn every_specification_error_is_reported() {
        let it = item(vec![opt("a", None, false), opt("a", None, false)], &["z"]);
        let v = SingleChoice.prepare(&it).err().unwrap();
        let fields: Vec<_> = v.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["options[1].code", "key"]);
        let v = SingleChoice
            .prepare(&item(
                vec![opt("a", None, true), opt("b", None, false)],
                &["a"],
            ))
            .err()
            .unwrap();
        assert!(v[0].message.contains("don't know"));
    }
}
