//! `kind = "ranking"`: put the steps of a service improvement in order.
//!
//! The key is the correct order of all option codes. The answer is scored by
//! how far it is from the key (Spearman's footrule):
//! `D = Σ_i |rank_answer(i) − rank_key(i)|` and `score = 1 − D / Dmax`, where
//! `Dmax = ⌊n² / 2⌋` is the largest footrule n items can have (the reversed
//! order reaches it). The keyed order scores 1, the reversed order 0.

use ikd_plugin_sdk::domain::{AnswerOutcome, ItemKind, ItemScorer};
use ikd_plugin_sdk::kinds::answers::parse_codes;
use ikd_plugin_sdk::kinds::check_option_codes;
use ikd_plugin_sdk::kinds::checks::{Unused, key_codes, selection_codes, unused_fields};
use ikd_plugin_sdk::present;
use ikd_plugin_sdk::proto::{ItemOption, ItemPresentation, ItemSpec, Violation, Widget};
use ikd_plugin_sdk::sim::{SimRng, item_offset};

/// Separates the codes of an answer, first step first (`c>a>b>d`).
pub const SEPARATOR: char = '>';

/// Fewest steps a ranking item orders.
pub const MIN_OPTIONS: usize = 3;

/// The `ranking` item kind.
pub struct Ranking;

struct RankingScorer {
    options: Vec<ItemOption>,
    /// `key_rank[i]`: position of option `i` in the keyed order.
    key_rank: Vec<usize>,
    /// ⌊n² / 2⌋.
    max_distance: usize,
    /// Simulation only: where the item sits on the trait.
    offset: f64,
}

/// The largest Spearman footrule between two orders of `n` items, ⌊n² / 2⌋.
pub fn max_footrule(n: usize) -> usize {
    n * n / 2
}

impl ItemKind for Ranking {
    fn name(&self) -> &'static str {
        "ranking"
    }

    fn description(&self) -> &'static str {
        "put all options in order (codes joined by '>'); score 1 − footrule distance from the \
         keyed order / ⌊n²/2⌋"
    }

    fn prepare(&self, item: &ItemSpec) -> Result<Box<dyn ItemScorer>, Vec<Violation>> {
        let mut violations = Vec::new();
        check_option_codes(item, &mut violations);
        if (1..MIN_OPTIONS).contains(&item.options.len()) {
            violations.push(Violation::item(
                &item.id,
                "options",
                format!(
                    "a ranking item needs at least {MIN_OPTIONS} steps to order, got {}",
                    item.options.len()
                ),
            ));
        }
        // No empty answer: a ranking lists every option, so '-' is a plain code.
        selection_codes(item, SEPARATOR, None, &mut violations);
        let why = Unused {
            reverse: "a ranking item cannot be reverse-keyed: write the key in the correct order",
            credit: "ranking does not use option credits: the keyed order decides",
            dont_know: "ranking has no \"don't know\" option",
        };
        unused_fields(item, &why, &mut violations);
        let key_rank = key_order(item, &mut violations);
        if !violations.is_empty() {
            return Err(violations);
        }
        Ok(Box::new(RankingScorer {
            max_distance: max_footrule(item.options.len()),
            key_rank: key_rank
                .into_iter()
                .map(|r| r.unwrap_or_default())
                .collect(),
            options: item.options.clone(),
            offset: item_offset(&item.id),
        }))
    }

    fn present(&self, item: &ItemSpec) -> ItemPresentation {
        let shown = present::choice_item(item, Widget::Order);
        ItemPresentation {
            choices: present::unkeyed_order(shown.choices.clone(), &item.key),
            separator: ">".into(),
            ..shown
        }
    }
}

/// The keyed rank of each option; reports unknown, repeated and missing codes.
fn key_order(item: &ItemSpec, violations: &mut Vec<Violation>) -> Vec<Option<usize>> {
    let rank = key_codes(
        item,
        "needs every option code once, in the correct order",
        violations,
    );
    if item.key.is_empty() {
        return rank;
    }
    for (i, o) in item.options.iter().enumerate() {
        // A duplicate option code is reported by the SDK check; do not report it missing too.
        let first = item.options.iter().position(|p| p.code == o.code) == Some(i);
        if rank[i].is_none() && first {
            violations.push(Violation::item(
                &item.id,
                "key",
                format!("option '{}' (options[{i}]) is missing from the key", o.code),
            ));
        }
    }
    rank
}

impl ItemScorer for RankingScorer {
    fn range(&self) -> (f64, f64) {
        (0.0, 1.0)
    }

    fn score(&self, answer: &str) -> Result<AnswerOutcome, String> {
        if answer.split(SEPARATOR).any(|c| c.trim().is_empty()) {
            return Err(format!(
                "'{answer}' has an empty code: give every option once, joined by '{SEPARATOR}'"
            ));
        }
        let order = parse_codes(answer, SEPARATOR, &self.options)?;
        if order.len() < self.options.len() {
            let missing: Vec<&str> = (0..self.options.len())
                .filter(|i| !order.contains(i))
                .map(|i| self.options[i].code.as_str())
                .collect();
            return Err(format!(
                "the order must list every option once, joined by '{SEPARATOR}'; missing: {}",
                missing.join(", ")
            ));
        }
        let distance: usize = order
            .iter()
            .enumerate()
            .map(|(position, &i)| position.abs_diff(self.key_rank[i]))
            .sum();
        Ok(AnswerOutcome::Score(
            1.0 - distance as f64 / self.max_distance as f64,
        ))
    }

    /// Each step's place is remembered with noise that shrinks as the trait
    /// rises (sd 1.2 · e^(−0.8 (θ − offset))); the steps are then sorted.
    fn simulate(&self, theta: f64, rng: &mut SimRng) -> Option<String> {
        let sd = 1.2 * (-0.8 * (theta - self.offset)).exp();
        let mut placed: Vec<(f64, usize)> = self
            .key_rank
            .iter()
            .enumerate()
            .map(|(i, &rank)| (rank as f64 + sd * rng.normal(), i))
            .collect();
        placed.sort_by(|a, b| a.0.total_cmp(&b.0));
        let codes: Vec<&str> = placed
            .iter()
            .map(|&(_, i)| self.options[i].code.as_str())
            .collect();
        Some(codes.join(&SEPARATOR.to_string()))
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
            id: "PP-RK1".into(),
            kind: "ranking".into(),
            options: codes.iter().map(|c| opt(c)).collect(),
            key: key.iter().map(|k| k.to_string()).collect(),
            ..Default::default()
        }
    }

    fn scorer(codes: &[&str], key: &[&str]) -> Box<dyn ItemScorer> {
        Ranking.prepare(&item(codes, key)).expect("a valid item")
    }

    fn score(s: &dyn ItemScorer, answer: &str) -> f64 {
        match s.score(answer) {
            Ok(AnswerOutcome::Score(x)) => x,
            other => panic!("'{answer}' gave {other:?}"),
        }
    }

    fn fields(item: &ItemSpec) -> Vec<String> {
        Ranking
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
    fn the_largest_footrule_is_floor_of_n_squared_over_two() {
        // The reversed order reaches it: n = 3: 2+0+2 = 4; n = 4: 3+1+1+3 = 8;
        // n = 5: 4+2+0+2+4 = 12 = ⌊25/2⌋.
        assert_eq!([3, 4, 5, 6].map(max_footrule), [4, 8, 12, 18]);
    }

    #[test]
    fn displacement_from_the_keyed_order() {
        // Options listed out of order on purpose; the key is a > b > c > d.
        let s = scorer(&["c", "a", "d", "b"], &["a", "b", "c", "d"]);
        // b>a>d>c: b 0 vs 1, a 1 vs 0, d 2 vs 3, c 3 vs 2 → D = 1+1+1+1 = 4,
        // Dmax = ⌊16/2⌋ = 8 → 1 − 4/8 = 0.5
        assert_eq!(score(&*s, "b>a>d>c"), 0.5);
        // the key itself: D = 0 → 1
        assert_eq!(score(&*s, "a>b>c>d"), 1.0);
        // reversed: D = 3+1+1+3 = 8 → 0
        assert_eq!(score(&*s, "d>c>b>a"), 0.0);
        // one swap in the middle: a>c>b>d → D = 0+1+1+0 = 2 → 1 − 2/8 = 0.75
        assert_eq!(score(&*s, " a > c > b > d "), 0.75);
        assert_eq!(s.range(), (0.0, 1.0));
        assert_eq!(s.categories(), 0);

        // Five steps, the last put first: e>a>b>c>d → e 0 vs 4, a..d one late each
        // → D = 4+1+1+1+1 = 8, Dmax = ⌊25/2⌋ = 12 → 1 − 8/12 = 0.3333
        let s = scorer(&["a", "b", "c", "d", "e"], &["a", "b", "c", "d", "e"]);
        assert!((score(&*s, "e>a>b>c>d") - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn invalid_answers_say_why() {
        let s = scorer(&["a", "b", "c", "d"], &["a", "b", "c", "d"]);
        let err = |a: &str| s.score(a).expect_err(a);
        assert!(err("a>b>c").contains("missing: d"));
        assert!(err("b>d").contains("missing: a, c"));
        assert!(err("-").contains("missing: a, b, c, d"));
        assert!(err("a>b>c>z").contains("'z' is not one of the options (a, b, c, d)"));
        assert!(err("a>b>b>d").contains("'b' is given twice"));
        assert!(err("a>b>c>d>a").contains("'a' is given twice"));
        assert!(err("a>>b>c>d").contains("empty code"));
        assert!(err("a>b>c>d>").contains("empty code"));
        assert!(err("a|b|c|d").contains("'a|b|c|d' is not one of the options"));
    }

    #[test]
    fn every_specification_error_names_its_field() {
        // Unknown and repeated key codes; d missing from the key.
        assert_eq!(
            fields(&item(&["a", "b", "c", "d"], &["a", "z", "b", "a", "c"])),
            ["key[1]", "key[3]", "key"]
        );
        // No key at all: one violation, not one per option.
        assert_eq!(fields(&item(&["a", "b", "c"], &[])), ["key"]);
        // Too few steps.
        assert_eq!(fields(&item(&["a", "b"], &["a", "b"])), ["options"]);
        // A duplicate option code and a code holding the separator.
        assert_eq!(
            fields(&item(&["a", "a", "b>c"], &["a", "b>c"])),
            ["options[1].code", "options[2].code"]
        );
        // Fields ranking does not use.
        let mut it = item(&["a", "b", "c"], &["a", "b", "c"]);
        it.reverse = true;
        it.options[1].credit = Some(1.0);
        it.options[2].dont_know = true;
        assert_eq!(
            fields(&it),
            ["reverse", "options[1].credit", "options[2].dont_know"]
        );
    }

    #[test]
    fn simulated_orders_are_valid_and_closer_to_the_key_for_higher_theta() {
        let s = scorer(&["a", "b", "c", "d", "e"], &["c", "a", "e", "b", "d"]);
        let mean = |theta: f64| {
            let mut rng = SimRng::new(3);
            (0..3000)
                .map(|_| score(&*s, &s.simulate(theta, &mut rng).expect("an answer")))
                .sum::<f64>()
                / 3000.0
        };
        let (low, mid, high) = (mean(-2.0), mean(0.0), mean(2.0));
        assert!(low < mid && mid < high, "{low} {mid} {high}");
        assert!(high > 0.85, "{high}");
    }
}
