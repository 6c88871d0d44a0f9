//! Statistical disclosure control for figures by organisation unit.
//!
//! Primary suppression hides a group with fewer results than the minimum
//! group size. That alone is not enough: when a parent unit and all but one of
//! its children are published, the hidden child is the parent minus the
//! others. *Complementary* suppression therefore hides more siblings until the
//! hidden ones, together, are at least two groups holding at least the
//! minimum: subtraction then gives only their sum.
//!
//! The decision for a unit depends only on the counts of its siblings, never
//! on who asks, so every caller sees the same units hidden. Units are
//! hierarchical codes whose segments are separated by `.` or `/`
//! (`36.72/diskominfo` is a child of `36.72`, which is a child of `36`).

use std::collections::BTreeSet;

use crate::org_unit;

/// The parent of `unit`: without its last segment; `""` (everything) for a top-level unit.
pub fn parent(unit: &str) -> &str {
    org_unit::parent(unit).unwrap_or("")
}

/// The child of `prefix` that `unit` belongs to ([`org_unit::child`]), where
/// results recorded at `prefix` itself form a child of their own, named
/// `prefix`. `None` when `unit` is not under `prefix`.
pub fn child_of(prefix: &str, unit: &str) -> Option<String> {
    if unit == prefix && !prefix.is_empty() {
        return Some(prefix.to_owned());
    }
    org_unit::child(prefix, unit).map(str::to_owned)
}

/// Result counts per exact unit, summed into the children of `prefix`.
pub fn children_counts<'a>(
    prefix: &str,
    units: impl IntoIterator<Item = (&'a str, u64)>,
) -> Vec<(String, u64)> {
    let mut children: std::collections::BTreeMap<String, u64> = Default::default();
    for (unit, n) in units {
        if let Some(child) = child_of(prefix, unit) {
            *children.entry(child).or_default() += n;
        }
    }
    children.into_iter().collect()
}

/// The children (of one parent) whose figures must not be published: those
/// below `min` (primary), and then the smallest others until at least two are
/// hidden and they hold at least `min` results together (complementary).
pub fn suppressed_children(children: &[(String, u64)], min: u64) -> BTreeSet<String> {
    let mut hidden: BTreeSet<String> = children
        .iter()
        .filter(|(_, n)| *n > 0 && *n < min)
        .map(|(c, _)| c.clone())
        .collect();
    if hidden.is_empty() {
        return hidden;
    }
    let mut others: Vec<&(String, u64)> = children
        .iter()
        .filter(|(c, n)| *n > 0 && !hidden.contains(c))
        .collect();
    others.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let mut total: u64 = children
        .iter()
        .filter(|(c, _)| hidden.contains(c))
        .map(|(_, n)| n)
        .sum();
    for (child, n) in others {
        if hidden.len() >= 2 && total >= min {
            break;
        }
        hidden.insert(child.clone());
        total += n;
    }
    hidden
}

/// Whether `unit`'s figures must be hidden, given the result counts of every
/// exact unit under its parent: primary or complementary suppression among its
/// siblings. The whole (`""`) has no siblings.
pub fn is_suppressed<'a>(
    unit: &str,
    units_under_parent: impl IntoIterator<Item = (&'a str, u64)>,
    min: u64,
) -> bool {
    if unit.is_empty() {
        return units_under_parent.into_iter().map(|(_, n)| n).sum::<u64>() < min;
    }
    let siblings = children_counts(parent(unit), units_under_parent);
    let own = siblings
        .iter()
        .find(|(c, _)| c == unit)
        .map_or(0, |(_, n)| *n);
    own < min || suppressed_children(&siblings, min).contains(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kids(list: &[(&str, u64)]) -> Vec<(String, u64)> {
        list.iter().map(|(c, n)| (c.to_string(), *n)).collect()
    }

    #[test]
    fn units_split_at_dots_and_slashes() {
        assert_eq!(parent("36.72/diskominfo"), "36.72");
        assert_eq!(parent("36.72"), "36");
        assert_eq!(parent("36"), "");
        assert_eq!(
            child_of("36.72", "36.72/diskominfo/umum").as_deref(),
            Some("36.72/diskominfo")
        );
        assert_eq!(child_of("36.72", "36.72.01").as_deref(), Some("36.72.01"));
        assert_eq!(child_of("36.72", "36.72").as_deref(), Some("36.72"));
        assert_eq!(
            child_of("36.72", "36.721"),
            None,
            "36.721 is not under 36.72"
        );
        assert_eq!(child_of("36.7", "36.72"), None);
        assert_eq!(child_of("", "64.72/bkpsdm").as_deref(), Some("64"));
    }

    #[test]
    fn one_small_child_takes_the_smallest_sibling_with_it() {
        // a (3) is below 5; hiding a alone lets anyone compute it as parent − b − c.
        let hidden = suppressed_children(&kids(&[("a", 3), ("b", 50), ("c", 7)]), 5);
        assert_eq!(hidden, BTreeSet::from(["a".to_string(), "c".to_string()]));
    }

    #[test]
    fn hidden_children_together_reach_the_minimum() {
        // a (1) and b (2) are both small; together 3 < 5, so c (4) joins: 7 ≥ 5.
        let hidden = suppressed_children(&kids(&[("a", 1), ("b", 2), ("c", 4), ("d", 90)]), 5);
        assert_eq!(hidden.len(), 3);
        assert!(!hidden.contains("d"));
    }

    #[test]
    fn no_small_child_hides_nothing() {
        assert!(suppressed_children(&kids(&[("a", 5), ("b", 6)]), 5).is_empty());
    }

    #[test]
    fn a_child_recoverable_by_subtraction_is_hidden() {
        let units = [
            ("36.72/a", 3),
            ("36.72/b", 40),
            ("36.72/c", 8),
            ("36.72", 2),
        ];
        // Children of 36.72: 36.72 itself (2), a (3), b (40), c (8): a and the
        // 36.72-itself group are small (5 together), so only they are hidden.
        assert!(is_suppressed("36.72/a", units, 5));
        assert!(!is_suppressed("36.72/c", units, 5));
        assert!(!is_suppressed("36.72/b", units, 5));
        // With a alone small, c (the smallest other) is hidden too.
        let units = [("36.72/a", 3), ("36.72/b", 40), ("36.72/c", 8)];
        assert!(is_suppressed("36.72/c", units, 5));
        assert!(!is_suppressed("36.72/b", units, 5));
        // The whole has no siblings: only its own size counts.
        assert!(!is_suppressed("", units, 5));
        assert!(is_suppressed("", [("36", 4)], 5));
    }
}
