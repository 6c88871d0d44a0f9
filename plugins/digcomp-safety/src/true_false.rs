//! `kind = "true-false"`: a statement the respondent judges true or false.
//!
//! A kind does three things: it checks each item's specification once, when
//! an instrument is loaded ([`ItemKind::prepare`]); it scores answers
//! ([`ItemScorer::score`]); and it draws plausible answers for `ikd simulate`
//! ([`ItemScorer::simulate`]).

use ikd_plugin_sdk::prelude::*;
use ikd_plugin_sdk::proto::Choice;
use ikd_plugin_sdk::sim::{item_offset, logistic};

/// The answer "I don't know": it counts as answered, scores 0, and is
/// counted apart (guessing is not rewarded, honesty is not hidden).
pub const DONT_KNOW: &str = "?";

/// `kind = "true-false"`, keyed with `key = "true"` or `key = "false"`.
/// Answers: `true`, `false` or `?`. Score: 1 when the answer matches the
/// key, else 0.
pub struct TrueFalse;

struct TrueFalseScorer {
    keyed_true: bool,
    /// Simulation only: where the item sits on the trait.
    difficulty: f64,
}

impl ItemKind for TrueFalse {
    fn name(&self) -> &'static str {
        "true-false"
    }

    fn description(&self) -> &'static str {
        "a statement judged 'true' or 'false' ('?' = don't know); 1 when the answer matches the key"
    }

    fn prepare(&self, item: &ItemSpec) -> Result<Box<dyn ItemScorer>, Vec<Violation>> {
        let mut violations = Vec::new();
        let keyed_true = match item.key.as_slice() {
            [key] if key == "true" => Some(true),
            [key] if key == "false" => Some(false),
            [] => {
                violations.push(Violation::item(
                    &item.id,
                    "key",
                    "a true-false item needs key = \"true\" or key = \"false\"",
                ));
                None
            }
            other => {
                violations.push(Violation::item(
                    &item.id,
                    "key",
                    format!("key must be \"true\" or \"false\", got {other:?}"),
                ));
                None
            }
        };
        if !item.options.is_empty() {
            violations.push(Violation::item(
                &item.id,
                "options",
                "a true-false item has no options: its answers are 'true', 'false' and '?'",
            ));
        }
        if item.reverse {
            violations.push(Violation::item(
                &item.id,
                "reverse",
                "a true-false item is keyed by its key: write key = \"false\" instead of reverse",
            ));
        }
        if item.scale_min.is_some() || item.scale_max.is_some() {
            violations.push(Violation::item(
                &item.id,
                "scale",
                "a true-false item takes no response scale",
            ));
        }
        match keyed_true {
            Some(keyed_true) if violations.is_empty() => Ok(Box::new(TrueFalseScorer {
                keyed_true,
                difficulty: item_offset(&item.id),
            })),
            _ => Err(violations),
        }
    }

    fn present(&self, item: &ItemSpec) -> ItemPresentation {
        ItemPresentation {
            choices: vec![
                Choice::new("true", Text::new("Benar", "True")),
                Choice::new("false", Text::new("Salah", "False")),
            ],
            dont_know: Some(Choice::new("?", Text::new("Tidak tahu", "Don't know"))),
            ..present::base(item, Widget::SingleChoice)
        }
    }
}

impl ItemScorer for TrueFalseScorer {
    fn range(&self) -> (f64, f64) {
        (0.0, 1.0)
    }

    fn score(&self, answer: &str) -> Result<AnswerOutcome, String> {
        let said_true = match answer {
            "true" => true,
            "false" => false,
            DONT_KNOW => return Ok(AnswerOutcome::DontKnow(0.0)),
            other => return Err(format!("'{other}' is not 'true', 'false' or '{DONT_KNOW}'")),
        };
        Ok(AnswerOutcome::Score(if said_true == self.keyed_true {
            1.0
        } else {
            0.0
        }))
    }

    /// Scores are 0 or 1: two categories, so IRT models can use the item.
    fn categories(&self) -> u32 {
        2
    }

    /// Right with probability 0.5 (a guess) + 0.5 · logistic(1.7 (θ − b)).
    fn simulate(&self, theta: f64, rng: &mut SimRng) -> Option<String> {
        let right = rng.uniform() < 0.5 + 0.5 * logistic(1.7 * (theta - self.difficulty));
        Some((right == self.keyed_true).to_string())
    }
}
