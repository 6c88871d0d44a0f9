//! From an instrument's item scores to IRT category codes: the one mapping
//! that calibration data and scoring must share, or θ would be computed on
//! categories the parameters never saw.

use crate::data::MISSING;
use crate::model::MAX_CATEGORIES;

/// The category (0..K−1) of score `x` on an item scored in `[min, max]`.
///
/// * An item with discrete score points (`layout_categories > 0`, e.g. a
///   Likert item scored 1..5): `round(x − min)`.
/// * A continuous score (`layout_categories == 0`): one of K equal-width bins
///   of `[min, max]`, the top bin closed (`x = max` is K−1).
///
/// Either way the code is clamped to `0..=K−1`. NaN (no score) and `k == 0`
/// give [`MISSING`].
pub fn category_of(x: f64, min: f64, max: f64, layout_categories: u32, k: usize) -> u8 {
    if x.is_nan() || k == 0 {
        return MISSING;
    }
    let top = (k.min(MAX_CATEGORIES) - 1) as f64;
    let code = if layout_categories > 0 {
        (x - min).round()
    } else if max > min {
        ((x - min) / (max - min) * k as f64).floor()
    } else {
        0.0
    };
    code.clamp(0.0, top) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discrete_scores_count_up_from_the_minimum() {
        assert_eq!(category_of(1.0, 1.0, 5.0, 5, 5), 0);
        assert_eq!(category_of(4.0, 1.0, 5.0, 5, 5), 3);
        assert_eq!(category_of(5.0, 1.0, 5.0, 5, 5), 4);
        assert_eq!(category_of(2.4, 1.0, 5.0, 5, 5), 1);
        // Clamped to the parameter set's categories.
        assert_eq!(category_of(5.0, 1.0, 5.0, 5, 3), 2);
        assert_eq!(category_of(0.0, 1.0, 5.0, 5, 5), 0);
    }

    #[test]
    fn continuous_scores_fall_in_equal_bins() {
        assert_eq!(category_of(0.0, 0.0, 1.0, 0, 4), 0);
        assert_eq!(category_of(0.24, 0.0, 1.0, 0, 4), 0);
        assert_eq!(category_of(0.25, 0.0, 1.0, 0, 4), 1);
        assert_eq!(category_of(0.99, 0.0, 1.0, 0, 4), 3);
        assert_eq!(category_of(1.0, 0.0, 1.0, 0, 4), 3);
        assert_eq!(category_of(1.0, 1.0, 1.0, 0, 4), 0);
    }

    #[test]
    fn no_score_is_missing() {
        assert_eq!(category_of(f64::NAN, 0.0, 1.0, 0, 4), MISSING);
        assert_eq!(category_of(1.0, 0.0, 1.0, 2, 0), MISSING);
    }
}
