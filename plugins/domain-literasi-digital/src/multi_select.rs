//! `kind = "multi-select"`: "which of these statements are true?".
//!
//! The key lists the true statements. Each correct choice earns a share of
//! the credit and each wrong choice takes one share away, floored at 0:
//! `score = max(0, (correct selected − wrong selected) / number correct)`.

use ikd_plugin_sdk::domain::{AnswerOutcome, ItemKind, ItemScorer};
use ikd_plugin_sdk::kinds::answers::{EMPTY_SELECTION, parse_selection};
use ikd_plugin_sdk::kinds::check_option_codes;
use ikd_plugin_sdk::kinds::checks::{Unused, key_codes, selection_codes, unused_fields};
use ikd_plugin_sdk::present;
use ikd_plugin_sdk::proto::{ItemOption, ItemPresentation, ItemSpec, Violation, Widget};
use ikd_plugin_sdk::sim::{SimRng, option_difficulties, simulate_selection};

/// Separates the selected codes in an answer (`a|c`).
pub const SEPARATOR: char = '|';

/// The `multi-select` item kind.
pub struct MultiSelect;

struct MultiSelectScorer {
    options: Vec<ItemOption>,
    /// `correct[i]`: option `i` is in the key.
    correct: Vec<bool>,
    n_correct: usize,
    /// Simulation only: how hard it is to judge each option.
    difficulty: Vec<f64>,
}

impl ItemKind for MultiSelect {
    fn name(&self) -> &'static str {
        "multi-select"
    }

    fn description(&self) -> &'static str {
        "select every true statement (codes joined by '|', '-' for none); \
         score max(0, (correct − wrong) / number correct)"
    }

    fn prepare(&self, item: &ItemSpec) -> Result<Box<dyn ItemScorer>, Vec<Violation>> {
        let mut violations = Vec::new();
        check_option_codes(item, &mut violations);
        if item.options.len() == 1 {
            violations.push(Violation::item(
                &item.id,
                "options",
                "a multi-select item needs at least two options, got 1",
            ));
        }
        selection_codes(item, SEPARATOR, Some("selected nothing"), &mut violations);
        let dont_know = format!(
            "multi-select has no \"don't know\" option (answer '{EMPTY_SELECTION}' selects nothing)"
        );
        let why = Unused {
            reverse: "a multi-select item cannot be reverse-keyed: the key says which statements are true",
            credit: "multi-select does not use option credits: the key decides",
            dont_know: &dont_know,
        };
        unused_fields(item, &why, &mut violations);
        let correct: Vec<bool> = key_codes(
            item,
            "needs at least one correct option code",
            &mut violations,
        )
        .iter()
        .map(Option::is_some)
        .collect();
        if !violations.is_empty() {
            return Err(violations);
        }
        Ok(Box::new(MultiSelectScorer {
            n_correct: correct.iter().filter(|&&c| c).count(),
            correct,
            difficulty: option_difficulties(item),
            options: item.options.clone(),
        }))
    }

    fn present(&self, item: &ItemSpec) -> ItemPresentation {
        ItemPresentation {
            separator: "|".into(),
            none_value: EMPTY_SELECTION.into(),
            ..present::choice_item(item, Widget::MultipleChoice)
        }
    }
}

impl ItemScorer for MultiSelectScorer {
    fn range(&self) -> (f64, f64) {
        (0.0, 1.0)
    }

    fn score(&self, answer: &str) -> Result<AnswerOutcome, String> {
        let picked = parse_selection(answer, SEPARATOR, &self.options)?;
        let right = picked.iter().filter(|&&i| self.correct[i]).count();
        let wrong = picked.len() - right;
        let score = (right as f64 - wrong as f64) / self.n_correct as f64;
        Ok(AnswerOutcome::Score(score.max(0.0)))
    }

    /// With one correct statement every score is 0 or 1 (a wrong choice wipes
    /// out the single share); otherwise scores are fractions.
    fn categories(&self) -> u32 {
        if self.n_correct == 1 { 2 } else { 0 }
    }

    /// Each option is judged on its own (see [`simulate_selection`]).
    fn simulate(&self, theta: f64, rng: &mut SimRng) -> Option<String> {
        Some(simulate_selection(
            theta,
            &self.options,
            &self.correct,
            &self.difficulty,
            SEPARATOR,
            rng,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(code: &str) -> ItemOption {
        ItemOption {
            code: code.into(),
            ..Default::default()
        }
    }

    fn item(codes: &[&str], key: &[&str]) -> ItemSpec {
        ItemSpec {
            id: "LD-MS1".into(),
            kind: "multi-select".into(),
            options: codes.iter().map(|c| opt(c)).collect(),
            key: key.iter().map(|k| k.to_string()).collect(),
            ..Default::default()
        }
    }

    fn scorer(codes: &[&str], key: &[&str]) -> Box<dyn ItemScorer> {
        MultiSelect
            .prepare(&item(codes, key))
            .expect("a valid item")
    }

    fn score(s: &dyn ItemScorer, answer: &str) -> f64 {
        match s.score(answer) {
            Ok(AnswerOutcome::Score(x)) => x,
            other => panic!("'{answer}' gave {other:?}"),
        }
    }

    fn fields(item: &ItemSpec) -> Vec<String> {
        MultiSelect
            .prepare(item)
            .err()
            .expect("a refused item")
            .into_iter()
            .map(|v| {
                assert_eq!(v.item, item.id);
                assert_eq!(v.respondent, -1);
                v.field
            })
            .collect()
    }

    #[test]
    fn partial_credit_minus_wrong_choices() {
        // Options a..e, key {a, c, d}: three correct statements, each worth 1/3.
        let s = scorer(&["a", "b", "c", "d", "e"], &["a", "c", "d"]);
        // a|b|c: right = 2 (a, c), wrong = 1 (b) → (2 − 1)/3 = 0.3333
        assert!((score(&*s, "a|b|c") - 1.0 / 3.0).abs() < 1e-12);
        // a|c|d: right = 3, wrong = 0 → 3/3 = 1
        assert_eq!(score(&*s, "a|c|d"), 1.0);
        // d|a (any order, spaces allowed): right = 2 → 2/3 = 0.6667
        assert!((score(&*s, " d | a ") - 2.0 / 3.0).abs() < 1e-12);
        // everything: right = 3, wrong = 2 → (3 − 2)/3 = 0.3333
        assert!((score(&*s, "a|b|c|d|e") - 1.0 / 3.0).abs() < 1e-12);
        // a|b|e: right = 1, wrong = 2 → (1 − 2)/3 < 0 → floored to 0
        assert_eq!(score(&*s, "a|b|e"), 0.0);
        // '-' selects nothing: (0 − 0)/3 = 0
        assert_eq!(score(&*s, "-"), 0.0);
        assert_eq!(s.range(), (0.0, 1.0));
        assert_eq!(s.categories(), 0);
    }

    #[test]
    fn one_correct_statement_is_dichotomous() {
        // key {b}: b → 1/1 = 1; b|c → (1 − 1)/1 = 0; c → (0 − 1)/1 → 0.
        let s = scorer(&["a", "b", "c"], &["b"]);
        assert_eq!(score(&*s, "b"), 1.0);
        assert_eq!(score(&*s, "b|c"), 0.0);
        assert_eq!(score(&*s, "c"), 0.0);
        assert_eq!(s.categories(), 2);
    }

    #[test]
    fn invalid_answers_say_why() {
        let s = scorer(&["a", "b", "c"], &["a", "c"]);
        let err = |a: &str| s.score(a).expect_err(a);
        assert!(err("a|z").contains("'z' is not one of the options (a, b, c)"));
        assert!(err("a|c|a").contains("'a' is given twice"));
        assert!(err("a||c").contains("empty code"));
        assert!(err("a|").contains("empty code"));
        assert!(err("|").contains("empty code"));
        assert!(err("a|-").contains("'-' is not one of the options"));
        assert!(err("a,c").contains("'a,c' is not one of the options"));
    }

    #[test]
    fn every_specification_error_names_its_field() {
        // Duplicate option code, unknown key code, repeated key code.
        assert_eq!(
            fields(&item(&["a", "b", "b"], &["a", "x", "a"])),
            ["options[2].code", "key[1]", "key[2]"]
        );
        // No key at all.
        assert_eq!(fields(&item(&["a", "b"], &[])), ["key"]);
        // No options: the SDK check, then the key code cannot match.
        assert_eq!(fields(&item(&[], &["a"])), ["options", "key[0]"]);
        // A single option.
        assert_eq!(fields(&item(&["a"], &["a"])), ["options"]);
        // Codes that would make answers ambiguous.
        assert_eq!(
            fields(&item(&["a", "-", "b|c"], &["a"])),
            ["options[1].code", "options[2].code"]
        );
        // Fields multi-select does not use.
        let mut it = item(&["a", "b", "c"], &["a"]);
        it.reverse = true;
        it.options[1].credit = Some(0.5);
        it.options[2].dont_know = true;
        assert_eq!(
            fields(&it),
            ["reverse", "options[1].credit", "options[2].dont_know"]
        );
    }

    #[test]
    fn simulated_answers_are_valid_and_improve_with_theta() {
        let s = scorer(&["a", "b", "c", "d", "e"], &["a", "c", "d"]);
        let mean = |theta: f64| {
            let mut rng = SimRng::new(11);
            (0..3000)
                .map(|_| score(&*s, &s.simulate(theta, &mut rng).expect("an answer")))
                .sum::<f64>()
                / 3000.0
        };
        let (low, mid, high) = (mean(-2.0), mean(0.0), mean(2.0));
        assert!(low < mid && mid < high, "{low} {mid} {high}");
        assert!(high > 0.75, "{high}");
    }
}
