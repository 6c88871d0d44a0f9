//! `kind = "sjt-rating"`: a situational judgement item. The item describes a
//! situation a leader meets in a digital change; the respondent rates how
//! effective each possible response (option) would be, on the item's scale.
//!
//! The ratings are compared with the experts' (`expert`, one per option):
//! `score = 1 − Σ|r_i − e_i| / (n · (max − min))`, so rating exactly as the
//! experts did scores 1 and every rating a full scale away scores 0.

use ikd_plugin_sdk::domain::{AnswerOutcome, ItemKind, ItemScorer};
use ikd_plugin_sdk::kinds::check_option_codes;
use ikd_plugin_sdk::kinds::checks::{Unused, unused_fields};
use ikd_plugin_sdk::present;
use ikd_plugin_sdk::proto::{ItemPresentation, ItemSpec, Violation, Widget};
use ikd_plugin_sdk::sim::{SimRng, item_offset};
use serde_json::{Map, Value};

/// Separates the ratings of an answer, in option order (`4|2|1|3`).
pub const SEPARATOR: char = '|';

/// Fewest responses an sjt-rating item offers.
pub const MIN_OPTIONS: usize = 2;

/// The `sjt-rating` item kind.
pub struct SjtRating;

struct SjtRatingScorer {
    min: i32,
    max: i32,
    /// The experts' rating of each option, in option order.
    expert: Vec<f64>,
    /// Simulation only: where the item sits on the trait.
    offset: f64,
}

impl ItemKind for SjtRating {
    fn name(&self) -> &'static str {
        "sjt-rating"
    }

    fn description(&self) -> &'static str {
        "situational judgement: rate each response on the scale (ratings joined by '|'); \
         score 1 − Σ|rating − expert| / (n · scale width)"
    }

    fn prepare(&self, item: &ItemSpec) -> Result<Box<dyn ItemScorer>, Vec<Violation>> {
        let mut violations = Vec::new();
        let scale = match (item.scale_min, item.scale_max) {
            (Some(min), Some(max)) if max > min => Some((min, max)),
            (Some(min), Some(max)) => {
                violations.push(Violation::item(
                    &item.id,
                    "scale",
                    format!("scale must have at least two points, got {min}..{max}"),
                ));
                None
            }
            _ => {
                violations.push(Violation::item(
                    &item.id,
                    "scale",
                    "an sjt-rating item needs a response scale to rate on (e.g. 1–4)",
                ));
                None
            }
        };
        check_option_codes(item, &mut violations);
        if item.options.len() == 1 {
            violations.push(Violation::item(
                &item.id,
                "options",
                format!("an sjt-rating item needs at least {MIN_OPTIONS} responses to rate, got 1"),
            ));
        }
        check_unused_fields(item, &mut violations);
        let params = item.params().unwrap_or_else(|v| {
            violations.push(v);
            Map::new()
        });
        let expert = expert_ratings(item, params.get("expert"), scale, &mut violations);
        match (scale, expert, violations.is_empty()) {
            (Some((min, max)), Some(expert), true) => Ok(Box::new(SjtRatingScorer {
                min,
                max,
                expert,
                offset: item_offset(&item.id),
            })),
            _ => Err(violations),
        }
    }

    fn present(&self, item: &ItemSpec) -> ItemPresentation {
        ItemPresentation {
            scale: present::scale_points(item),
            separator: "|".into(),
            ..present::choice_item(item, Widget::RatingPerChoice)
        }
    }
}

/// Fields of the common item model an sjt-rating item does not use:
/// refused rather than silently ignored.
fn check_unused_fields(item: &ItemSpec, violations: &mut Vec<Violation>) {
    if !item.key.is_empty() {
        violations.push(Violation::item(
            &item.id,
            "key",
            "sjt-rating is keyed by `expert` (one rating per option), not by `key`",
        ));
    }
    let why = Unused {
        reverse: "an sjt-rating item cannot be reverse-keyed: the expert ratings say what is effective",
        credit: "sjt-rating does not use option credits: give the experts' ratings in `expert` \
                 (for credits per chosen option use kind = \"single-choice\")",
        dont_know: "sjt-rating has no \"don't know\" option: every response is rated",
    };
    unused_fields(item, &why, violations);
}

/// `expert`: one rating per option, each a number on the scale. A mean of
/// several experts' ratings may have decimals.
fn expert_ratings(
    item: &ItemSpec,
    expert: Option<&Value>,
    scale: Option<(i32, i32)>,
    violations: &mut Vec<Violation>,
) -> Option<Vec<f64>> {
    let n = item.options.len();
    let ratings = match expert {
        None => {
            violations.push(Violation::item(
                &item.id,
                "expert",
                format!("needs the experts' effectiveness ratings, one per option ({n})"),
            ));
            return None;
        }
        Some(Value::Array(ratings)) => ratings,
        Some(other) => {
            violations.push(Violation::item(
                &item.id,
                "expert",
                format!("must be an array of ratings, one per option, got {other}"),
            ));
            return None;
        }
    };
    let before = violations.len();
    if ratings.len() != n {
        violations.push(Violation::item(
            &item.id,
            "expert",
            format!(
                "has {} rating(s), the item has {n} option(s)",
                ratings.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(ratings.len());
    for (i, rating) in ratings.iter().enumerate() {
        let field = format!("expert[{i}]");
        match rating.as_f64() {
            None => violations.push(Violation::item(
                &item.id,
                &field,
                format!("must be a number, got {rating}"),
            )),
            Some(e) => match scale {
                Some((min, max)) if !(min as f64..=max as f64).contains(&e) => {
                    violations.push(Violation::item(
                        &item.id,
                        &field,
                        format!("{e} is outside the scale {min}..{max}"),
                    ))
                }
                _ => out.push(e),
            },
        }
    }
    (violations.len() == before).then_some(out)
}

impl ItemScorer for SjtRatingScorer {
    fn range(&self) -> (f64, f64) {
        (0.0, 1.0)
    }

    fn score(&self, answer: &str) -> Result<AnswerOutcome, String> {
        let n = self.expert.len();
        let tokens: Vec<&str> = answer.split(SEPARATOR).map(str::trim).collect();
        if tokens.len() != n {
            return Err(format!(
                "gives {} rating(s), the item has {n} responses: rate each, in option order, joined by '{SEPARATOR}'",
                tokens.len()
            ));
        }
        let mut distance = 0.0;
        for (i, (token, expert)) in tokens.iter().zip(&self.expert).enumerate() {
            let position = i + 1;
            if token.is_empty() {
                return Err(format!("rating {position} is empty"));
            }
            let r: i32 = token.parse().map_err(|_| {
                format!(
                    "rating {position} ('{token}') is not an integer on the scale {}..{}",
                    self.min, self.max
                )
            })?;
            if !(self.min..=self.max).contains(&r) {
                return Err(format!(
                    "rating {position} ({r}) is outside the scale {}..{}",
                    self.min, self.max
                ));
            }
            distance += (r as f64 - expert).abs();
        }
        let worst = (n as f64) * f64::from(self.max - self.min);
        Ok(AnswerOutcome::Score(1.0 - distance / worst))
    }

    /// Each rating is the expert rating plus noise that shrinks as the trait
    /// rises (sd 1.5 · e^(−0.7 (θ − offset))), rounded and kept on the scale.
    fn simulate(&self, theta: f64, rng: &mut SimRng) -> Option<String> {
        let sd = 1.5 * (-0.7 * (theta - self.offset)).exp();
        let ratings: Vec<String> = self
            .expert
            .iter()
            .map(|&e| {
                let r = (e + sd * rng.normal())
                    .round()
                    .clamp(self.min as f64, self.max as f64);
                (r as i32).to_string()
            })
            .collect();
        Some(ratings.join(&SEPARATOR.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ikd_plugin_sdk::proto::ItemOption;

    fn item(codes: &[&str], scale: (i32, i32), params: &str) -> ItemSpec {
        ItemSpec {
            id: "KD-SJ1".into(),
            kind: "sjt-rating".into(),
            scale_min: Some(scale.0),
            scale_max: Some(scale.1),
            options: codes
                .iter()
                .map(|c| ItemOption {
                    code: c.to_string(),
                    ..Default::default()
                })
                .collect(),
            params_json: params.into(),
            ..Default::default()
        }
    }

    fn four_responses() -> Box<dyn ItemScorer> {
        SjtRating
            .prepare(&item(
                &["a", "b", "c", "d"],
                (1, 4),
                r#"{"expert": [4, 2, 1, 3]}"#,
            ))
            .expect("a valid item")
    }

    fn score(s: &dyn ItemScorer, answer: &str) -> f64 {
        match s.score(answer) {
            Ok(AnswerOutcome::Score(x)) => x,
            other => panic!("'{answer}' gave {other:?}"),
        }
    }

    fn fields(item: &ItemSpec) -> Vec<String> {
        SjtRating
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
    fn distance_from_the_expert_ratings() {
        // Scale 1–4, experts [4, 2, 1, 3]; worst total distance n·(max − min) = 4·3 = 12.
        let s = four_responses();
        // 3|2|2|3: |3−4| + |2−2| + |2−1| + |3−3| = 1+0+1+0 = 2 → 1 − 2/12 = 0.8333
        assert!(close(score(&*s, "3|2|2|3"), 1.0 - 2.0 / 12.0));
        // the experts' own ratings → 1
        assert_eq!(score(&*s, " 4 | 2 | 1 | 3 "), 1.0);
        // 1|4|4|1: 3+2+3+2 = 10 → 1 − 10/12 = 0.1667
        assert!(close(score(&*s, "1|4|4|1"), 1.0 - 10.0 / 12.0));
        assert_eq!(s.range(), (0.0, 1.0));
        assert_eq!(s.categories(), 0);
    }

    #[test]
    fn expert_ratings_may_be_panel_means() {
        // Scale 1–5, experts [4.5, 1.5] (means of a panel); worst = 2·4 = 8.
        // 5|1: 0.5 + 0.5 = 1 → 1 − 1/8 = 0.875
        let s = SjtRating
            .prepare(&item(&["a", "b"], (1, 5), r#"{"expert": [4.5, 1.5]}"#))
            .expect("a valid item");
        assert_eq!(score(&*s, "5|1"), 0.875);
    }

    #[test]
    fn invalid_answers_say_why() {
        let s = four_responses();
        let err = |a: &str| s.score(a).expect_err(a);
        assert!(err("4|2|1").contains("gives 3 rating(s), the item has 4 responses"));
        assert!(err("4|2|1|3|2").contains("gives 5 rating(s)"));
        assert!(err("4,2,1,3").contains("gives 1 rating(s)"));
        assert!(err("4|2|x|3").contains("rating 3 ('x') is not an integer on the scale 1..4"));
        assert!(err("4|2.5|1|3").contains("rating 2 ('2.5') is not an integer"));
        assert!(err("4|2|5|3").contains("rating 3 (5) is outside the scale 1..4"));
        assert!(err("0|2|1|3").contains("rating 1 (0) is outside"));
        assert!(err("4||1|3").contains("rating 2 is empty"));
    }

    #[test]
    fn every_specification_error_names_its_field() {
        let codes = ["a", "b", "c"];
        // No expert ratings; not an array; too few; off the scale and not a number.
        assert_eq!(fields(&item(&codes, (1, 4), "")), ["expert"]);
        assert_eq!(
            fields(&item(&codes, (1, 4), r#"{"expert": "4,2,1"}"#)),
            ["expert"]
        );
        assert_eq!(
            fields(&item(&codes, (1, 4), r#"{"expert": [4, 2]}"#)),
            ["expert"]
        );
        assert_eq!(
            fields(&item(&codes, (1, 4), r#"{"expert": [4, 5, "tinggi"]}"#)),
            ["expert[1]", "expert[2]"]
        );
        // No scale, or a one-point scale; the ratings are still checked as numbers.
        let mut it = item(&codes, (1, 4), r#"{"expert": [4, 2, "x"]}"#);
        it.scale_min = None;
        it.scale_max = None;
        assert_eq!(fields(&it), ["scale", "expert[2]"]);
        assert_eq!(
            fields(&item(&codes, (3, 3), r#"{"expert": [3, 3, 3]}"#)),
            ["scale"]
        );
        // One response only; a duplicate code.
        assert_eq!(
            fields(&item(&["a"], (1, 4), r#"{"expert": [4]}"#)),
            ["options"]
        );
        assert_eq!(
            fields(&item(&["a", "a"], (1, 4), r#"{"expert": [4, 1]}"#)),
            ["options[1].code"]
        );
        // Extra fields that are not JSON.
        assert_eq!(
            fields(&item(&codes, (1, 4), "{expert")),
            ["params", "expert"]
        );
        // Fields sjt-rating does not use.
        let mut it = item(&codes, (1, 4), r#"{"expert": [4, 2, 1]}"#);
        it.key = vec!["a".into()];
        it.reverse = true;
        it.options[0].credit = Some(1.0);
        it.options[1].dont_know = true;
        assert_eq!(
            fields(&it),
            [
                "key",
                "reverse",
                "options[0].credit",
                "options[1].dont_know"
            ]
        );
    }

    #[test]
    fn simulated_ratings_are_valid_and_closer_to_the_experts_for_higher_theta() {
        let s = four_responses();
        let mean = |theta: f64| {
            let mut rng = SimRng::new(8);
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
