//! `kind = "phishing-spot"`: several messages (e-mails, SMS, chat messages);
//! the respondent marks the suspicious ones.
//!
//! Scored as the discrimination index Pr of signal detection:
//! `score = max(0, H − F)` with `H` = hits / number of suspicious messages and
//! `F` = false alarms / number of legitimate messages. Marking everything, or
//! nothing, or marking at random scores (about) 0: only telling the two kinds
//! of message apart earns credit.

use ikd_plugin_sdk::domain::{AnswerOutcome, ItemKind, ItemScorer};
use ikd_plugin_sdk::kinds::answers::{EMPTY_SELECTION, parse_selection};
use ikd_plugin_sdk::kinds::check_option_codes;
use ikd_plugin_sdk::kinds::checks::{Unused, key_codes, selection_codes, unused_fields};
use ikd_plugin_sdk::present;
use ikd_plugin_sdk::proto::{
    ChoiceStyle, ItemOption, ItemPresentation, ItemSpec, Violation, Widget,
};
use ikd_plugin_sdk::sim::{SimRng, option_difficulties, simulate_selection};

/// Separates the marked codes in an answer (`a|c`).
pub const SEPARATOR: char = '|';

/// Fewest messages a phishing-spot item shows.
pub const MIN_OPTIONS: usize = 3;

/// The `phishing-spot` item kind.
pub struct PhishingSpot;

struct PhishingSpotScorer {
    options: Vec<ItemOption>,
    /// `suspicious[i]`: message `i` is in the key.
    suspicious: Vec<bool>,
    n_suspicious: usize,
    n_legitimate: usize,
    /// Simulation only: how hard each message is to judge.
    difficulty: Vec<f64>,
}

impl ItemKind for PhishingSpot {
    fn name(&self) -> &'static str {
        "phishing-spot"
    }

    fn description(&self) -> &'static str {
        "mark the suspicious messages (codes joined by '|', '-' for none); \
         score max(0, hit rate − false-alarm rate)"
    }

    fn prepare(&self, item: &ItemSpec) -> Result<Box<dyn ItemScorer>, Vec<Violation>> {
        let mut violations = Vec::new();
        check_option_codes(item, &mut violations);
        if (1..MIN_OPTIONS).contains(&item.options.len()) {
            violations.push(Violation::item(
                &item.id,
                "options",
                format!(
                    "a phishing-spot item needs at least {MIN_OPTIONS} messages, got {}",
                    item.options.len()
                ),
            ));
        }
        selection_codes(item, SEPARATOR, Some("marked none"), &mut violations);
        let dont_know = format!(
            "phishing-spot has no \"don't know\" option (answer '{EMPTY_SELECTION}' marks none)"
        );
        let why = Unused {
            reverse: "a phishing-spot item cannot be reverse-keyed: the key names the suspicious messages",
            credit: "phishing-spot does not use option credits: the key decides",
            dont_know: &dont_know,
        };
        unused_fields(item, &why, &mut violations);
        let suspicious: Vec<bool> = key_codes(
            item,
            "needs the code of at least one suspicious message",
            &mut violations,
        )
        .iter()
        .map(Option::is_some)
        .collect();
        let n_suspicious = suspicious.iter().filter(|&&s| s).count();
        if n_suspicious > 0 && n_suspicious == item.options.len() {
            violations.push(Violation::item(
                &item.id,
                "key",
                "every message is keyed as suspicious: at least one must be legitimate, \
                 or false alarms cannot be told from hits",
            ));
        }
        if !violations.is_empty() {
            return Err(violations);
        }
        Ok(Box::new(PhishingSpotScorer {
            n_legitimate: item.options.len() - n_suspicious,
            n_suspicious,
            suspicious,
            difficulty: option_difficulties(item),
            options: item.options.clone(),
        }))
    }

    fn present(&self, item: &ItemSpec) -> ItemPresentation {
        ItemPresentation {
            separator: "|".into(),
            none_value: EMPTY_SELECTION.into(),
            choice_style: ChoiceStyle::Message as i32,
            ..present::choice_item(item, Widget::MultipleChoice)
        }
    }
}

impl ItemScorer for PhishingSpotScorer {
    fn range(&self) -> (f64, f64) {
        (0.0, 1.0)
    }

    fn score(&self, answer: &str) -> Result<AnswerOutcome, String> {
        let marked = parse_selection(answer, SEPARATOR, &self.options)?;
        let hits = marked.iter().filter(|&&i| self.suspicious[i]).count();
        let false_alarms = marked.len() - hits;
        let h = hits as f64 / self.n_suspicious as f64;
        let f = false_alarms as f64 / self.n_legitimate as f64;
        Ok(AnswerOutcome::Score((h - f).max(0.0)))
    }

    /// Each option is judged on its own (see [`simulate_selection`]).
    fn simulate(&self, theta: f64, rng: &mut SimRng) -> Option<String> {
        Some(simulate_selection(
            theta,
            &self.options,
            &self.suspicious,
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
            id: "EK-PH1".into(),
            kind: "phishing-spot".into(),
            options: codes.iter().map(|c| opt(c)).collect(),
            key: key.iter().map(|k| k.to_string()).collect(),
            ..Default::default()
        }
    }

    fn scorer(codes: &[&str], key: &[&str]) -> Box<dyn ItemScorer> {
        PhishingSpot
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
        PhishingSpot
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

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn hits_minus_false_alarms() {
        // Five messages, a and b suspicious: 2 suspicious, 3 legitimate.
        let s = scorer(&["a", "b", "c", "d", "e"], &["a", "b"]);
        // a|c: H = 1/2, F = 1/3 → 0.5 − 0.3333 = 0.1667
        assert!(close(score(&*s, "a|c"), 1.0 / 2.0 - 1.0 / 3.0));
        // a|b: H = 2/2, F = 0/3 → 1
        assert_eq!(score(&*s, "b|a"), 1.0);
        // a: H = 1/2, F = 0 → 0.5
        assert_eq!(score(&*s, "a"), 0.5);
        // a|b|c: H = 1, F = 1/3 → 0.6667
        assert!(close(score(&*s, "a|b|c"), 2.0 / 3.0));
        // everything: H = 1, F = 1 → 0 (marking all is not knowing)
        assert_eq!(score(&*s, "a|b|c|d|e"), 0.0);
        // '-' marks none: H = 0, F = 0 → 0
        assert_eq!(score(&*s, "-"), 0.0);
        // c|d: H = 0, F = 2/3 → −0.6667 → floored to 0
        assert_eq!(score(&*s, "c|d"), 0.0);
        assert_eq!(s.range(), (0.0, 1.0));
        assert_eq!(s.categories(), 0);
    }

    #[test]
    fn invalid_answers_say_why() {
        let s = scorer(&["a", "b", "c"], &["a"]);
        let err = |a: &str| s.score(a).expect_err(a);
        assert!(err("a|z").contains("'z' is not one of the options (a, b, c)"));
        assert!(err("a|a").contains("'a' is given twice"));
        assert!(err("a||b").contains("empty code"));
        assert!(err("|a").contains("empty code"));
        assert!(err("-|a").contains("'-' is not one of the options"));
    }

    #[test]
    fn every_specification_error_names_its_field() {
        // Unknown and repeated key codes, a duplicate option code.
        assert_eq!(
            fields(&item(&["a", "b", "b", "c"], &["z", "a", "a"])),
            ["options[2].code", "key[0]", "key[2]"]
        );
        // No key; too few messages.
        assert_eq!(fields(&item(&["a", "b", "c"], &[])), ["key"]);
        assert_eq!(fields(&item(&["a", "b"], &["a"])), ["options"]);
        // Every message keyed as suspicious.
        assert_eq!(fields(&item(&["a", "b", "c"], &["c", "a", "b"])), ["key"]);
        // Codes that would make answers ambiguous.
        assert_eq!(
            fields(&item(&["a", "-", "b|c"], &["a"])),
            ["options[1].code", "options[2].code"]
        );
        // Fields phishing-spot does not use.
        let mut it = item(&["a", "b", "c"], &["a"]);
        it.reverse = true;
        it.options[0].credit = Some(1.0);
        it.options[2].dont_know = true;
        assert_eq!(
            fields(&it),
            ["reverse", "options[0].credit", "options[2].dont_know"]
        );
    }

    #[test]
    fn simulated_answers_are_valid_and_improve_with_theta() {
        let s = scorer(&["a", "b", "c", "d", "e"], &["a", "d"]);
        let mean = |theta: f64| {
            let mut rng = SimRng::new(5);
            (0..3000)
                .map(|_| score(&*s, &s.simulate(theta, &mut rng).expect("an answer")))
                .sum::<f64>()
                / 3000.0
        };
        let (low, mid, high) = (mean(-2.0), mean(0.0), mean(2.0));
        assert!(low < mid && mid < high, "{low} {mid} {high}");
        assert!(low < 0.35 && high > 0.6, "{low} {high}");
    }
}
