//! Likert items: an integer on the item's response scale, optionally reverse-keyed.

use crate::domain::{AnswerOutcome, ItemKind, ItemScorer};
use crate::present;
use crate::proto::{ItemPresentation, ItemSpec, Violation, Widget};
use crate::sim::{SimRng, graded_category, item_offset};

/// `kind = "likert"`: any number of points; the score is the answer itself, or
/// `(min + max) − answer` when the item is reverse-keyed. The raw answer is
/// never changed: keying happens only here, when scoring.
pub struct Likert;

struct LikertScorer {
    min: i32,
    max: i32,
    reverse: bool,
    /// Simulation only: where the item sits on the trait.
    offset: f64,
}

impl ItemKind for Likert {
    fn name(&self) -> &'static str {
        "likert"
    }

    fn description(&self) -> &'static str {
        "self-rating on an integer scale (any number of points), optional reverse keying"
    }

    fn prepare(&self, item: &ItemSpec) -> Result<Box<dyn ItemScorer>, Vec<Violation>> {
        match (item.scale_min, item.scale_max) {
            (Some(min), Some(max)) if max > min => Ok(Box::new(LikertScorer {
                min,
                max,
                reverse: item.reverse,
                offset: item_offset(&item.id) * 0.8,
            })),
            (Some(min), Some(max)) => Err(vec![Violation::item(
                &item.id,
                "scale",
                format!("scale must have at least two points, got {min}..{max}"),
            )]),
            _ => Err(vec![Violation::item(
                &item.id,
                "scale",
                "a likert item needs a response scale",
            )]),
        }
    }

    fn present(&self, item: &ItemSpec) -> ItemPresentation {
        ItemPresentation {
            scale: present::scale_points(item),
            ..present::base(item, Widget::Scale)
        }
    }
}

impl ItemScorer for LikertScorer {
    fn range(&self) -> (f64, f64) {
        (self.min as f64, self.max as f64)
    }

    fn score(&self, answer: &str) -> Result<AnswerOutcome, String> {
        let x: i32 = answer.parse().map_err(|_| {
            format!(
                "'{answer}' is not an integer on the scale {}..{}",
                self.min, self.max
            )
        })?;
        if !(self.min..=self.max).contains(&x) {
            return Err(format!(
                "{x} is outside the scale {}..{}",
                self.min, self.max
            ));
        }
        Ok(AnswerOutcome::Score(self.keyed(x) as f64))
    }

    fn categories(&self) -> u32 {
        (self.max - self.min + 1) as u32
    }

    /// A graded response: higher trait, higher keyed answer; a reverse-keyed
    /// item is answered on the mirrored scale, as a real respondent would.
    fn simulate(&self, theta: f64, rng: &mut SimRng) -> Option<String> {
        let k = (self.max - self.min + 1) as usize;
        let keyed = self.min + graded_category(theta, k, 1.6, self.offset, rng) as i32;
        Some(self.keyed(keyed).to_string())
    }
}

impl LikertScorer {
    /// Reverse keying `(min + max) − x` is its own inverse.
    fn keyed(&self, x: i32) -> i32 {
        if self.reverse {
            self.min + self.max - x
        } else {
            x
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(min: i32, max: i32, reverse: bool) -> ItemSpec {
        ItemSpec {
            id: "Q1".into(),
            kind: "likert".into(),
            scale_min: Some(min),
            scale_max: Some(max),
            reverse,
            ..Default::default()
        }
    }

    fn score(s: &dyn ItemScorer, a: &str) -> f64 {
        match s.score(a).unwrap() {
            AnswerOutcome::Score(x) => x,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn reverse_keying_mirrors_the_scale() {
        let s = Likert.prepare(&item(1, 5, true)).ok().unwrap();
        assert_eq!(score(&*s, "1"), 5.0);
        assert_eq!(score(&*s, "2"), 4.0);
        assert_eq!(score(&*s, "3"), 3.0);
        assert_eq!(score(&*s, "5"), 1.0);
        let s = Likert.prepare(&item(0, 3, true)).ok().unwrap();
        assert_eq!(score(&*s, "0"), 3.0);
        assert_eq!(score(&*s, "1"), 2.0);
    }

    #[test]
    fn forward_items_keep_the_answer() {
        let s = Likert.prepare(&item(1, 4, false)).ok().unwrap();
        assert_eq!(score(&*s, "4"), 4.0);
        assert_eq!(s.range(), (1.0, 4.0));
    }

    #[test]
    fn answers_off_the_scale_are_refused_with_the_scale_named() {
        let s = Likert.prepare(&item(1, 5, false)).ok().unwrap();
        assert!(s.score("6").unwrap_err().contains("outside the scale 1..5"));
        assert!(s.score("0").is_err());
        assert!(s.score("x").unwrap_err().contains("not an integer"));
    }

    #[test]
    fn an_item_without_a_scale_is_refused() {
        let mut it = item(1, 5, false);
        it.scale_max = None;
        let v = Likert.prepare(&it).err().unwrap();
        assert_eq!(v[0].field, "scale");
        assert!(Likert.prepare(&item(3, 3, false)).is_err());
    }
}
