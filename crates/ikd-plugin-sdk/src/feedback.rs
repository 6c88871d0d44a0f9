//! Choosing a domain plugin's feedback for one of the instrument's levels.
//!
//! A plugin writes its feedback as a few *bands*, lowest first; the
//! instrument decides how many levels there are, what they are called and
//! where they start. The host tells each level's position among the
//! instrument's levels ([`LevelRef::position`] of [`LevelRef::count`]), so a
//! plugin maps positions onto its bands and never needs to know an
//! instrument's level codes or cut points.

use crate::{Feedback, LevelRef};

/// One band's feedback: summary in Bahasa Indonesia, summary in English,
/// advice in Bahasa Indonesia, advice in English.
pub type BandTexts = [&'static str; 4];

/// The band (0..`bands`) for `level`.
///
/// With a position from the host, the levels are spread evenly over the
/// bands (`position · (bands − 1) / (count − 1)`, rounded half up): as many
/// levels as bands map one to one, the lowest and highest levels always get
/// the lowest and highest bands, and a lone level gets the middle band. A
/// host that predates positions sends `count` 0; the level's lower
/// bound then picks the band on the 0–100 reporting scale in equal parts,
/// and a level without a usable bound gets the middle band.
///
/// # Panics
/// If `bands` is 0.
pub fn band_of_level(level: &LevelRef, bands: usize) -> usize {
    assert!(bands > 0, "a plugin has at least one feedback band");
    let (position, count) = (level.position as usize, level.count as usize);
    if count == 1 {
        return bands / 2;
    }
    if position < count {
        let steps = count - 1;
        return (2 * position * (bands - 1) + steps) / (2 * steps);
    }
    if !level.min.is_finite() {
        return bands / 2;
    }
    let share = (level.min / 100.0).clamp(0.0, 1.0);
    ((share * bands as f64) as usize).min(bands - 1)
}

/// The feedback of the band that `level` falls in (see [`band_of_level`]).
///
/// # Panics
/// If `bands` is empty.
pub fn feedback_for(level: &LevelRef, bands: &[BandTexts]) -> Feedback {
    let [summary_id, summary_en, advice_id, advice_en] = bands[band_of_level(level, bands.len())];
    Feedback::new((summary_id, summary_en), (advice_id, advice_en))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(position: u32, count: u32) -> LevelRef {
        LevelRef {
            position,
            count,
            min: f64::NAN,
            ..Default::default()
        }
    }

    fn from(min: f64) -> LevelRef {
        LevelRef {
            min,
            ..Default::default()
        }
    }

    #[test]
    fn positions_map_one_to_one_when_levels_and_bands_agree() {
        for n in 1..8 {
            for p in 0..n {
                assert_eq!(band_of_level(&at(p, n), n as usize), p as usize);
            }
        }
    }

    #[test]
    fn more_or_fewer_levels_than_bands_keep_the_ends_and_the_order() {
        // Worked by hand: p·(bands − 1)/(count − 1), rounded half up.
        let bands_of = |count: u32, bands: usize| -> Vec<usize> {
            (0..count)
                .map(|p| band_of_level(&at(p, count), bands))
                .collect()
        };
        assert_eq!(bands_of(5, 4), [0, 1, 2, 2, 3]); // 0, .75, 1.5, 2.25, 3
        assert_eq!(bands_of(3, 5), [0, 2, 4]);
        assert_eq!(bands_of(2, 5), [0, 4]);
        assert_eq!(bands_of(7, 2), [0, 0, 0, 1, 1, 1, 1]); // 3/6 rounds up
        assert_eq!(bands_of(1, 5), [2]);
    }

    #[test]
    fn without_a_position_the_lower_bound_picks_the_band() {
        let cases = [
            (0.0, 0),
            (19.99, 0),
            (20.0, 1),
            (40.0, 2),
            (79.9, 3),
            (80.0, 4),
            (100.0, 4),
            (-5.0, 0),
            (250.0, 4),
        ];
        for (min, band) in cases {
            assert_eq!(band_of_level(&from(min), 5), band, "min {min}");
        }
        assert_eq!(band_of_level(&from(f64::NAN), 5), 2);
        assert_eq!(band_of_level(&from(f64::INFINITY), 4), 2);
        // A position past the count is not trusted either.
        assert_eq!(band_of_level(&at(9, 3), 3), 1);
    }

    #[test]
    fn the_chosen_band_gives_its_texts() {
        let bands = [
            ["a-id", "a-en", "1. a", "1. a"],
            ["b-id", "b-en", "1. b", "1. b"],
        ];
        let f = feedback_for(&at(1, 2), &bands);
        assert_eq!(f.summary.unwrap().en, "b-en");
        assert_eq!(f.advice.unwrap().id, "1. b");
    }
}
