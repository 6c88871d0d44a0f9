//! The IKD instrument's five standard levels, shared so that every domain
//! plugin maps a level to its feedback text the same way.

use crate::LevelRef;

/// The IKD instrument's level codes, lowest first.
pub const LEVEL_CODES: [&str; 5] = [
    "sangat-rendah",
    "rendah",
    "sedang",
    "tinggi",
    "sangat-tinggi",
];

/// Position 0..=4 of a level: by its code when it is one of [`LEVEL_CODES`],
/// otherwise by its lower bound on a 0–100 scale (< 20, < 40, < 60, < 80,
/// else); a level without a usable bound gets the middle text.
pub fn level_position(level: &LevelRef) -> usize {
    if let Some(p) = LEVEL_CODES.iter().position(|c| *c == level.code) {
        return p;
    }
    match level.min {
        m if !m.is_finite() => 2,
        m if m < 20.0 => 0,
        m if m < 40.0 => 1,
        m if m < 60.0 => 2,
        m if m < 80.0 => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(code: &str, min: f64) -> LevelRef {
        LevelRef {
            code: code.into(),
            min,
            ..Default::default()
        }
    }

    #[test]
    fn known_codes_win_over_the_bound_and_unknown_codes_fall_back_to_it() {
        for (p, code) in LEVEL_CODES.iter().enumerate() {
            // A misleading bound must not move a known code.
            assert_eq!(level_position(&level(code, 99.0)), p);
        }
        let by_min = [
            (0.0, 0),
            (19.99, 0),
            (20.0, 1),
            (39.9, 1),
            (40.0, 2),
            (60.0, 3),
            (80.0, 4),
            (100.0, 4),
        ];
        for (min, p) in by_min {
            assert_eq!(level_position(&level("cukup", min)), p, "min {min}");
        }
        assert_eq!(level_position(&level("?", f64::NAN)), 2);
        assert_eq!(level_position(&level("?", f64::INFINITY)), 2);
    }
}
