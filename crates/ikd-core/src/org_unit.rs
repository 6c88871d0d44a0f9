//! Organisation units and prefixes: one rule for the server's scopes and
//! aggregates, the reports and disclosure control.
//!
//! Units are segments joined by `.` or `/` (`36.72/diskominfo`). A prefix
//! covers the unit equal to it and every unit continuing it with a separator:
//! `36.72` covers `36.72.01` and `36.72/diskominfo`, never `36.721`.

fn is_separator(b: u8) -> bool {
    b == b'.' || b == b'/'
}

/// Whether `unit` lies under `prefix` (the empty prefix covers every unit).
pub fn unit_within(prefix: &str, unit: &str) -> bool {
    prefix.is_empty()
        || unit == prefix
        || (unit.len() > prefix.len()
            && unit.starts_with(prefix)
            && is_separator(unit.as_bytes()[prefix.len()]))
}

/// The unit one level up: the prefix without its last segment; `None` for a
/// single segment (or the empty prefix).
pub fn parent(prefix: &str) -> Option<&str> {
    prefix.rfind(['.', '/']).map(|at| &prefix[..at])
}

/// The child of `prefix` that `unit` belongs to: the prefix plus the next
/// segment of `unit` (`36.72` and `36.72/dinkes/x` → `36.72/dinkes`). `None`
/// when `unit` is the prefix itself or not under it.
pub fn child<'u>(prefix: &str, unit: &'u str) -> Option<&'u str> {
    if !unit_within(prefix, unit) || unit == prefix {
        return None;
    }
    // Past the prefix and its separator (no separator after the empty prefix).
    let start = if prefix.is_empty() {
        0
    } else {
        prefix.len() + 1
    };
    let end = unit.as_bytes()[start..]
        .iter()
        .position(|&b| is_separator(b))
        .map_or(unit.len(), |at| start + at);
    Some(&unit[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_stops_at_separators() {
        assert!(unit_within("36.72", "36.72"));
        assert!(unit_within("36.72", "36.72.01"));
        assert!(unit_within("36.72", "36.72/diskominfo"));
        assert!(!unit_within("36.72", "36.721"));
        assert!(!unit_within("36.7", "36.72"));
        assert!(!unit_within("36.72", "36.7"));
        assert!(!unit_within("36.72/dinkes", "36.72"));
        assert!(unit_within("", "64.72/bappeda"));
    }

    #[test]
    fn parents_drop_the_last_segment() {
        assert_eq!(parent("36.72/diskominfo"), Some("36.72"));
        assert_eq!(parent("36.72"), Some("36"));
        assert_eq!(parent("36"), None);
        assert_eq!(parent(""), None);
    }

    #[test]
    fn children_are_the_next_segment() {
        assert_eq!(child("36.72", "36.72/dinkes"), Some("36.72/dinkes"));
        assert_eq!(child("36.72", "36.72.01/kel-a"), Some("36.72.01"));
        assert_eq!(child("36.72", "36.72"), None);
        assert_eq!(child("36.72", "36.721/x"), None);
        assert_eq!(child("", "64.72/bappeda"), Some("64"));
        assert_eq!(child("36", "36.72/dinkes"), Some("36.72"));
    }
}
