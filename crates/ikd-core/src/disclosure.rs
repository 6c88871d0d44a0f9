//! Statistical disclosure control for figures by organisation unit.
//!
//! Units are hierarchical codes whose segments are separated by `.` or `/`
//! (`36.72/diskominfo` is a child of `36.72`, which is a child of `36`). Every
//! prefix of a unit with results is a *node* of one tree whose root is `""`
//! (everything); results recorded at a unit that also has sub-units form a
//! leaf of their own ([`Node::Own`]), because an organisation report shows
//! them as a row beside the sub-units.
//!
//! A published figure of a node is a sum over its results, so anyone can add
//! and subtract published figures. The published nodes form a laminar family
//! (two nodes are nested or disjoint), and for such a family everything that
//! can be computed from the published figures is a sum of *residuals*: the
//! results of a published node that lie in none of its published descendants
//! (node − its maximal published descendants). [`hidden_units`] therefore
//! hides nodes until every residual is either empty or holds at least the
//! minimum group size, and no hidden node is a sum of published ones:
//!
//! 1. primary: a node with fewer results than the minimum is hidden;
//! 2. siblings: when a published node has hidden children, the smallest other
//!    children are hidden with them until at least two are hidden and they
//!    hold at least the minimum together (parent − the others gives only
//!    their sum);
//! 3. descendants: a published descendant holding all but fewer than the
//!    minimum of a hidden node's results is hidden too (`36.72/a/x`, the only
//!    child of hidden `36.72/a`, would stand in for it); a hidden node whose
//!    published descendants cover it entirely hides the smallest of them;
//! 4. residuals: a published node whose residual is still below the minimum
//!    (say `36.72 − 36.72/c − 36.72/a/x`) hides its published descendants
//!    with the smallest residuals until it reaches the minimum, or itself
//!    when there are none;
//!
//! repeated until nothing changes. The decision depends on the counts of the
//! whole data set only — never on who asks or which part of the tree a caller
//! may see — so every caller, and every report, hides the same nodes.
//!
//! Time windows are differences too: two windows a millisecond apart give the
//! newest result. [`Hidden::window_cuts`] gives the only instants a window may
//! start or end at (UTC midnights chosen so that each period between two of
//! them holds, for every residual, no result or at least the minimum), and
//! [`snap_window`] widens a requested window to them.

use std::collections::{BTreeMap, BTreeSet};

use crate::org_unit;

/// Milliseconds in a UTC day: the finest time step of a window.
pub const DAY_MS: i64 = 86_400_000;

/// The parent of `unit`: without its last segment; `""` (everything) for a top-level unit.
pub fn parent(unit: &str) -> &str {
    org_unit::parent(unit).unwrap_or("")
}

/// The children (of one parent) whose figures must not be published: those
/// below `min` (primary), and then the smallest others until at least two are
/// hidden and they hold at least `min` results together (complementary).
/// One family only; [`hidden_units`] applies it across the whole tree.
pub fn suppressed_children(children: &[(String, u64)], min: u64) -> BTreeSet<String> {
    let flagged: Vec<bool> = children.iter().map(|(_, n)| *n > 0 && *n < min).collect();
    let counts: Vec<u64> = children.iter().map(|(_, n)| *n).collect();
    let keys: Vec<&str> = children.iter().map(|(c, _)| c.as_str()).collect();
    complement(&counts, &keys, flagged, min)
        .into_iter()
        .zip(children)
        .filter(|(hidden, _)| *hidden)
        .map(|(_, (c, _))| c.clone())
        .collect()
}

/// The sibling rule on one family: `hidden` flags grow, smallest published
/// (non-empty) children first, until no hidden child or at least two hidden
/// children holding `min` together.
fn complement(counts: &[u64], keys: &[&str], mut hidden: Vec<bool>, min: u64) -> Vec<bool> {
    let enough = |hidden: &[bool]| {
        let n = hidden.iter().filter(|h| **h).count();
        let sum: u64 = counts
            .iter()
            .zip(hidden)
            .filter(|(_, h)| **h)
            .map(|(c, _)| c)
            .sum();
        n == 0 || (n >= 2 && sum >= min)
    };
    let mut others: Vec<usize> = (0..counts.len())
        .filter(|&i| !hidden[i] && counts[i] > 0)
        .collect();
    others.sort_by(|&a, &b| counts[a].cmp(&counts[b]).then_with(|| keys[a].cmp(keys[b])));
    for i in others {
        if enough(&hidden) {
            break;
        }
        hidden[i] = true;
    }
    hidden
}

/// Why a figure is not published: what an aggregate or a report says
/// instead of the figure.
///
/// A node hidden because it is below the minimum (primary suppression) and one
/// hidden to protect another (complementary) get the same reason on purpose:
/// which of the two a hidden node is tells its count's side of the minimum,
/// and with the published counts that can give the count. Units `a` (1),
/// `b` (5), `c` (50), minimum 5: `a` and `b` are hidden, and the parent minus
/// `c` gives `a + b = 6`; told "`a` too small, `b` protects", anyone has
/// `a ≤ 4`, `b ≥ 5`, so `a = 1` and `b = 5`. (Two small ones, `4 + 4 = 8`, are
/// pinned the same way.) So the reason is a function of what is already
/// published — whether the node is hidden at all — and adds nothing to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Suppression {
    /// Fewer results than the minimum where no group is hidden: a domain or
    /// indicator of a published group, or a time window of a published unit
    /// (whose windows hold no result or at least the minimum, so this says 0).
    TooFewResults,
    /// Hidden by disclosure control: below the minimum itself, or needed to
    /// protect another group, not saying which.
    DisclosureControl,
}

impl Suppression {
    /// The code in CLI files and CSVs (`too-few-results`, `disclosure-control`).
    pub fn code(self) -> &'static str {
        match self {
            Suppression::TooFewResults => "too-few-results",
            Suppression::DisclosureControl => "disclosure-control",
        }
    }
}

/// A node of the unit tree.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    /// Every result at or below the prefix (`""`: everything).
    Prefix(String),
    /// The results recorded at exactly this unit, when it also has sub-units.
    Own(String),
}

#[derive(Clone, Debug)]
struct Entry {
    node: Node,
    parent: Option<usize>,
    children: Vec<usize>,
    count: u64,
    hidden: bool,
}

/// The nodes whose figures must not be published, decided on the result
/// counts of the whole data set ([`hidden_units`]).
#[derive(Clone, Debug)]
pub struct Hidden {
    min: u64,
    /// Parents before children; index 0 is the root `""`.
    entries: Vec<Entry>,
    index: BTreeMap<Node, usize>,
}

/// Decides which nodes to hide, given the result count of every exact unit
/// of the data set (the whole instrument, not a caller's scope: a decision on
/// part of the data can be undone with the rest) and the minimum group size.
pub fn hidden_units<'a>(units: impl IntoIterator<Item = (&'a str, u64)>, min: u64) -> Hidden {
    let mut hidden = Hidden::tree(units, min);
    for e in &mut hidden.entries {
        e.hidden = e.count < min;
    }
    while hidden.protect_siblings()
        || hidden.protect_descendants()
        || hidden.protect_covered()
        || hidden.protect_residuals()
    {}
    hidden
}

impl Hidden {
    /// The tree of every prefix of every unit with results.
    fn tree<'a>(units: impl IntoIterator<Item = (&'a str, u64)>, min: u64) -> Self {
        let mut exact: BTreeMap<&str, u64> = BTreeMap::new();
        for (unit, n) in units {
            if n > 0 {
                *exact.entry(unit).or_default() += n;
            }
        }
        let mut tree = Hidden {
            min,
            entries: Vec::new(),
            index: BTreeMap::new(),
        };
        let root = tree.add(Node::Prefix(String::new()), None);
        for (&unit, &n) in &exact {
            let mut chain = vec![unit];
            while let Some(p) = org_unit::parent(chain[chain.len() - 1]) {
                chain.push(p);
            }
            tree.entries[root].count += n;
            let mut at = root;
            for prefix in chain.into_iter().rev().filter(|p| !p.is_empty()) {
                at = tree.add(Node::Prefix(prefix.to_owned()), Some(at));
                tree.entries[at].count += n;
            }
        }
        for (&unit, &n) in &exact {
            let at = tree.index[&Node::Prefix(unit.to_owned())];
            if !tree.entries[at].children.is_empty() {
                let own = tree.add(Node::Own(unit.to_owned()), Some(at));
                tree.entries[own].count = n;
            }
        }
        tree
    }

    /// The entry of `node`, added under `parent` if new.
    fn add(&mut self, node: Node, parent: Option<usize>) -> usize {
        if let Some(&at) = self.index.get(&node) {
            return at;
        }
        let at = self.entries.len();
        self.entries.push(Entry {
            node: node.clone(),
            parent,
            children: Vec::new(),
            count: 0,
            hidden: false,
        });
        if let Some(p) = parent {
            self.entries[p].children.push(at);
        }
        self.index.insert(node, at);
        at
    }

    /// Rule 2 on every published node: one hidden child alone would be the
    /// parent minus the others. `true` if anything was hidden.
    fn protect_siblings(&mut self) -> bool {
        let mut changed = false;
        for p in 0..self.entries.len() {
            if self.entries[p].hidden {
                continue;
            }
            let kids = self.entries[p].children.clone();
            let counts: Vec<u64> = kids.iter().map(|&c| self.entries[c].count).collect();
            let names: Vec<String> = kids.iter().map(|&c| self.name(c)).collect();
            let keys: Vec<&str> = names.iter().map(String::as_str).collect();
            let before: Vec<bool> = kids.iter().map(|&c| self.entries[c].hidden).collect();
            let after = complement(&counts, &keys, before.clone(), self.min);
            let satisfied = after.iter().filter(|h| **h).count() != 1;
            for (k, &c) in kids.iter().enumerate() {
                if after[k] && !before[k] {
                    self.entries[c].hidden = true;
                    changed = true;
                }
            }
            if !satisfied {
                // An only child is its parent: hide the parent as well.
                self.entries[p].hidden = true;
                changed = true;
            }
        }
        changed
    }

    /// Rule 3: a published descendant holding all but fewer than the minimum
    /// of a hidden node's results would stand in for it (`36.72/a/x` for
    /// `36.72/a`): hide it too. `true` if anything was hidden.
    fn protect_descendants(&mut self) -> bool {
        let mut changed = false;
        for h in 0..self.entries.len() {
            if !self.entries[h].hidden {
                continue;
            }
            let count = self.entries[h].count;
            let mut stack = self.entries[h].children.clone();
            while let Some(d) = stack.pop() {
                let e = &mut self.entries[d];
                if !e.hidden && count - e.count < self.min {
                    e.hidden = true;
                    changed = true;
                }
                stack.extend(self.entries[d].children.iter().copied());
            }
        }
        changed
    }

    /// Rule 3, second half: a hidden node that is the sum of its published
    /// descendants (every child published, say) would be published after
    /// all: hide the smallest of them. `true` if anything was hidden.
    fn protect_covered(&mut self) -> bool {
        let residual = self.residuals();
        let Some(h) = (0..self.entries.len()).rev().find(|&h| {
            self.entries[h].hidden && !self.entries[h].children.is_empty() && residual[h] == 0
        }) else {
            return false;
        };
        let mut candidates = Vec::new();
        self.maximal_published(h, &mut candidates);
        let key = |c: usize| (self.entries[c].count, &self.entries[c].node);
        if let Some(c) = candidates.into_iter().min_by(|&a, &b| key(a).cmp(&key(b))) {
            self.entries[c].hidden = true;
            return true;
        }
        false
    }

    /// Rule 4: the first published node (deepest first) whose residual is
    /// below the minimum hides its smallest published descendants, or itself.
    /// `true` if anything was hidden.
    fn protect_residuals(&mut self) -> bool {
        let residual = self.residuals();
        let Some(n) = (0..self.entries.len())
            .rev()
            .find(|&n| !self.entries[n].hidden && residual[n] > 0 && residual[n] < self.min)
        else {
            return false;
        };
        // Hiding a published descendant adds its own residual to n's (hiding
        // one fully covered by its children adds nothing, but exposes them).
        // Hiding stays unchanged for the descendants' residuals meanwhile.
        let mut left = residual[n];
        loop {
            let mut candidates = Vec::new();
            self.maximal_published(n, &mut candidates);
            let key = |c: usize| (residual[c], self.entries[c].count, &self.entries[c].node);
            let pick = candidates
                .iter()
                .copied()
                .filter(|&c| residual[c] > 0)
                .min_by(|&a, &b| key(a).cmp(&key(b)))
                .or_else(|| {
                    candidates
                        .iter()
                        .copied()
                        .min_by(|&a, &b| key(a).cmp(&key(b)))
                });
            let Some(c) = pick else {
                self.entries[n].hidden = true;
                return true;
            };
            self.entries[c].hidden = true;
            left += residual[c];
            if left >= self.min {
                return true;
            }
        }
    }

    /// Per node: its results in none of its published strict descendants.
    fn residuals(&self) -> Vec<u64> {
        let mut covered = vec![0u64; self.entries.len()];
        // Children come after their parents: walking backwards sees them first.
        for n in (0..self.entries.len()).rev() {
            let e = &self.entries[n];
            if let Some(p) = e.parent {
                covered[p] += if e.hidden { covered[n] } else { e.count };
            }
        }
        self.entries
            .iter()
            .zip(&covered)
            .map(|(e, c)| e.count - c)
            .collect()
    }

    /// The published descendants of `n` with no published node in between.
    fn maximal_published(&self, n: usize, out: &mut Vec<usize>) {
        for &c in &self.entries[n].children {
            if self.entries[c].hidden {
                self.maximal_published(c, out);
            } else {
                out.push(c);
            }
        }
    }

    /// A node's name for ordering and messages (`Own` nodes: the unit).
    fn name(&self, n: usize) -> String {
        match &self.entries[n].node {
            Node::Prefix(p) | Node::Own(p) => p.clone(),
        }
    }

    /// The minimum group size the decision was made for.
    pub fn min_group_size(&self) -> u64 {
        self.min
    }

    /// Whether the figures of `prefix` (every result at or below it; `""`:
    /// all) must not be published. A prefix without results has nothing to
    /// publish and counts as hidden.
    pub fn is_hidden(&self, prefix: &str) -> bool {
        self.hidden_node(&Node::Prefix(prefix.to_owned()))
    }

    /// Why the figures of `prefix`, computed from `n` results (in the window
    /// asked for), are not published; `None` when they are. Depends only on
    /// whether `prefix` is hidden and on `n` — see [`Suppression`] for why it
    /// never says whether a hidden node is small or a complement.
    pub fn suppression(&self, prefix: &str, n: u64) -> Option<Suppression> {
        if self.is_hidden(prefix) {
            Some(Suppression::DisclosureControl)
        } else if n < self.min {
            Some(Suppression::TooFewResults)
        } else {
            None
        }
    }

    /// Whether the results recorded at exactly `unit` must not be published
    /// as a group of their own (an organisation report's "this unit itself"
    /// row, a person report's unit mean).
    pub fn is_own_hidden(&self, unit: &str) -> bool {
        match self.index.get(&Node::Own(unit.to_owned())) {
            Some(&at) => self.entries[at].hidden,
            None => self.is_hidden(unit),
        }
    }

    /// Whether `node` must not be published (`true` for a node without results).
    pub fn hidden_node(&self, node: &Node) -> bool {
        self.index
            .get(node)
            .is_none_or(|&at| self.entries[at].hidden)
    }

    /// Every node with results: (node, count, hidden), parents first.
    pub fn nodes(&self) -> impl Iterator<Item = (&Node, u64, bool)> {
        self.entries.iter().map(|e| (&e.node, e.count, e.hidden))
    }

    /// The published node whose residual holds the results of `unit`: the
    /// deepest published node containing them; `None` when none does.
    fn owner(&self, unit: &str) -> Option<usize> {
        let start = self
            .index
            .get(&Node::Own(unit.to_owned()))
            .or_else(|| self.index.get(&Node::Prefix(unit.to_owned())))?;
        let mut at = Some(*start);
        while let Some(n) = at {
            if !self.entries[n].hidden {
                return Some(n);
            }
            at = self.entries[n].parent;
        }
        None
    }

    /// The instants (UTC midnights, Unix ms, ascending) at which a time window
    /// may start or end, from the submission times of every result (`unit`,
    /// Unix ms) of the same data set. Between two consecutive cuts — and
    /// before the first, and after the last — every residual holds no result
    /// or at least the minimum, so windows made of whole periods, and their
    /// differences, only ever give sums of such groups.
    pub fn window_cuts<'a>(&self, results: impl IntoIterator<Item = (&'a str, i64)>) -> Vec<i64> {
        self.window_cuts_by_day(
            results
                .into_iter()
                .map(|(unit, at)| (unit, at.div_euclid(DAY_MS), 1)),
        )
    }

    /// [`Hidden::window_cuts`] from result counts per unit and UTC day (`(unit, day, n)`,
    /// day = Unix ms / 86,400,000): what a store keeping per-day statistics has, without
    /// reading a result.
    pub fn window_cuts_by_day<'a>(
        &self,
        counts: impl IntoIterator<Item = (&'a str, i64, u64)>,
    ) -> Vec<i64> {
        let mut owners: BTreeMap<&str, Option<usize>> = BTreeMap::new();
        let mut days: BTreeMap<i64, BTreeMap<usize, u64>> = BTreeMap::new();
        for (unit, day, n) in counts {
            let owner = *owners.entry(unit).or_insert_with(|| self.owner(unit));
            if let Some(o) = owner {
                *days.entry(day).or_default().entry(o).or_default() += n;
            }
        }
        let safe =
            |counts: &BTreeMap<usize, u64>| counts.values().all(|&n| n == 0 || n >= self.min);
        let mut periods: Vec<(i64, BTreeMap<usize, u64>)> = Vec::new();
        let mut running: BTreeMap<usize, u64> = BTreeMap::new();
        for (day, counts) in days {
            for (o, n) in counts {
                *running.entry(o).or_default() += n;
            }
            if safe(&running) {
                periods.push(((day + 1) * DAY_MS, std::mem::take(&mut running)));
            }
        }
        // The open period after the last cut must be safe too: merge it back.
        while !safe(&running) {
            let Some((_, counts)) = periods.pop() else {
                break;
            };
            for (o, n) in counts {
                *running.entry(o).or_default() += n;
            }
        }
        periods.into_iter().map(|(cut, _)| cut).collect()
    }
}

/// A requested window `[from, to)` (Unix ms; `None`: unbounded) widened to
/// the smallest run of whole periods between [`Hidden::window_cuts`] that
/// contains it.
pub fn snap_window(cuts: &[i64], from: Option<i64>, to: Option<i64>) -> (Option<i64>, Option<i64>) {
    let from = from.and_then(|f| cuts.iter().rev().find(|&&c| c <= f).copied());
    let to = to.and_then(|t| cuts.iter().find(|&&c| c >= t).copied());
    (from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kids(list: &[(&str, u64)]) -> Vec<(String, u64)> {
        list.iter().map(|(c, n)| (c.to_string(), *n)).collect()
    }

    fn hidden_prefixes(h: &Hidden) -> BTreeSet<String> {
        h.nodes()
            .filter(|(_, _, hidden)| *hidden)
            .map(|(node, _, _)| match node {
                Node::Prefix(p) => p.clone(),
                Node::Own(u) => format!("{u} (own)"),
            })
            .collect()
    }

    #[test]
    fn units_split_at_dots_and_slashes() {
        assert_eq!(parent("36.72/diskominfo"), "36.72");
        assert_eq!(parent("36.72"), "36");
        assert_eq!(parent("36"), "");
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
    fn a_nested_only_child_is_hidden_with_its_hidden_parent() {
        // Issue 12, defect 4: b (1) takes a (5) with it; a's only child a/x
        // holds the same results, so 36.72 − c − a/x would be b.
        let h = hidden_units([("36.72/a/x", 5), ("36.72/b", 1), ("36.72/c", 6)], 5);
        assert!(h.is_hidden("36.72/b"));
        assert!(h.is_hidden("36.72/a"));
        assert!(h.is_hidden("36.72/a/x"), "{:?}", hidden_prefixes(&h));
        assert!(!h.is_hidden("36.72/c") && !h.is_hidden("36.72") && !h.is_hidden(""));
        assert_eq!(
            hidden_prefixes(&h),
            BTreeSet::from(["36.72/a", "36.72/a/x", "36.72/b"].map(String::from))
        );
    }

    #[test]
    fn siblings_are_decided_on_the_whole_data_set() {
        // Issue 12, defect 5: 37.01 (5) is hidden with 37.02 (1) whoever asks.
        let h = hidden_units([("37.01/x", 5), ("37.02/y", 1), ("37.03/z", 10)], 5);
        assert!(h.is_hidden("37.01") && h.is_hidden("37.01/x") && h.is_hidden("37.02"));
        assert!(!h.is_hidden("37.03") && !h.is_hidden("37"));
    }

    #[test]
    fn results_at_a_unit_with_sub_units_are_a_group_of_their_own() {
        // 36.72 itself (2) and a (3) are small: hidden together (5).
        let h = hidden_units(
            [
                ("36.72/a", 3),
                ("36.72/b", 40),
                ("36.72/c", 8),
                ("36.72", 2),
            ],
            5,
        );
        assert!(h.is_hidden("36.72/a") && h.is_own_hidden("36.72"));
        assert!(!h.is_hidden("36.72") && !h.is_hidden("36.72/b") && !h.is_hidden("36.72/c"));
        // With a alone small, c (the smallest other) is hidden too.
        let h = hidden_units([("36.72/a", 3), ("36.72/b", 40), ("36.72/c", 8)], 5);
        assert!(h.is_hidden("36.72/c") && !h.is_hidden("36.72/b"));
        // A unit without sub-units is its own group.
        assert!(!h.is_own_hidden("36.72/b") && h.is_own_hidden("36.72/a"));
        // The whole: only its own size; a prefix without results is hidden.
        assert!(!h.is_hidden(""));
        assert!(hidden_units([("36", 4)], 5).is_hidden(""));
        assert!(h.is_hidden("99"));
    }

    #[test]
    fn small_and_complementary_nodes_give_the_same_reason() {
        // The case of `Suppression`'s docs: a (1) is small, b (5) its complement.
        let h = hidden_units([("p/a", 1), ("p/b", 5), ("p/c", 50)], 5);
        assert!(h.is_hidden("p/a") && h.is_hidden("p/b") && !h.is_hidden("p/c"));
        let a = h.suppression("p/a", 1);
        assert_eq!(a, Some(Suppression::DisclosureControl));
        assert_eq!(
            h.suppression("p/b", 5),
            a,
            "a complement is told apart from a small node"
        );
        // Even the count asked with does not change a hidden node's reason.
        assert_eq!(h.suppression("p/b", 0), a);
        // A published node: nothing, or too few in a window (0 there).
        assert_eq!(h.suppression("p/c", 50), None);
        assert_eq!(h.suppression("p", 56), None);
        assert_eq!(h.suppression("p/c", 0), Some(Suppression::TooFewResults));
        // A prefix without results is hidden, like any other.
        assert_eq!(h.suppression("q", 0), Some(Suppression::DisclosureControl));
    }

    #[test]
    fn a_residual_below_the_minimum_hides_the_smallest_published_part() {
        // 36 = 36.72 (6: only 36.72/x 6) + 36.73 (6); 36.72/x has a hidden
        // sibling... none; but 36.74 (2) is small: hidden with 36.72 (6, the
        // smallest, first by name). 36 − 36.73 − 36.72/x would be 36.74 alone.
        let h = hidden_units(
            [("36.72/x", 6), ("36.73", 6), ("36.74", 2), ("36.75", 9)],
            5,
        );
        assert!(h.is_hidden("36.74") && h.is_hidden("36.72"));
        assert!(h.is_hidden("36.72/x"), "{:?}", hidden_prefixes(&h));
    }

    #[test]
    fn windows_snap_to_periods_that_hold_enough_results() {
        let day = |d: i64| d * DAY_MS + 1000;
        let h = hidden_units([("a", 7)], 5);
        // Five on day 0, one each on days 1 and 2: one cut after day 0 would
        // leave two results after it — so no cut at all, one period.
        let results = [0, 0, 0, 0, 0, 1, 2].map(|d| ("a", day(d)));
        assert!(h.window_cuts(results).is_empty());
        // Five more on day 3: cuts after day 0 and day 3.
        let h = hidden_units([("a", 12)], 5);
        let mut more = results.to_vec();
        more.extend([3, 3, 3, 3, 3].map(|d| ("a", day(d))));
        let cuts = h.window_cuts(more.iter().copied());
        assert_eq!(cuts, vec![DAY_MS, 4 * DAY_MS]);
        assert_eq!(
            snap_window(&cuts, Some(day(2)), Some(day(2) + 1)),
            (Some(DAY_MS), Some(4 * DAY_MS))
        );
        assert_eq!(snap_window(&cuts, None, Some(day(0))), (None, Some(DAY_MS)));
        assert_eq!(
            snap_window(&cuts, Some(day(5)), None),
            (Some(4 * DAY_MS), None)
        );
        // Results of hidden nodes with no published ancestor do not matter.
        let h = hidden_units([("a", 3)], 5);
        assert!(h.window_cuts([("a", day(0)), ("a", day(9))]).is_empty());
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// Units of up to three segments from a small alphabet, so that
        /// families share parents; counts 1..=12.
        fn data() -> impl Strategy<Value = (Vec<(String, u64)>, u64)> {
            let segment = prop::sample::select(vec!["1", "2", "3"]);
            let sep = prop::sample::select(vec![".", "/"]);
            let unit = prop::collection::vec((segment, sep), 1..=3).prop_map(|parts| {
                let mut u = String::new();
                for (k, (s, sep)) in parts.into_iter().enumerate() {
                    if k > 0 {
                        u.push_str(sep);
                    }
                    u.push_str(s);
                }
                u
            });
            (prop::collection::vec((unit, 1u64..=12), 1..12), 2u64..=6)
        }

        /// The exact units (atoms) and, per node, its indicator over them.
        fn atoms(h: &Hidden) -> (Vec<String>, BTreeMap<Node, Vec<f64>>) {
            let mut units: Vec<String> = Vec::new();
            for (node, _, _) in h.nodes() {
                let unit = match node {
                    Node::Own(u) => Some(u.clone()),
                    Node::Prefix(p) if !p.is_empty() => {
                        let has_kids = h.nodes().any(|(n, _, _)| match n {
                            Node::Prefix(q) => org_unit::parent(q) == Some(p.as_str()),
                            Node::Own(_) => false,
                        });
                        (!has_kids).then(|| p.clone())
                    }
                    _ => None,
                };
                units.extend(unit);
            }
            let vectors = h
                .nodes()
                .map(|(node, _, _)| {
                    let v = units
                        .iter()
                        .map(|u| {
                            let inside = match node {
                                Node::Prefix(p) => org_unit::unit_within(p, u),
                                Node::Own(o) => o == u,
                            };
                            if inside { 1.0 } else { 0.0 }
                        })
                        .collect();
                    (node.clone(), v)
                })
                .collect();
            (units, vectors)
        }

        /// Whether `target` is a linear combination of `rows` (Gaussian elimination).
        fn in_span(rows: &[Vec<f64>], target: &[f64]) -> bool {
            let rank = |m: &[Vec<f64>]| {
                let mut m = m.to_vec();
                let (mut rank, cols) = (0, target.len());
                for col in 0..cols {
                    let Some(pivot) = (rank..m.len()).find(|&r| m[r][col].abs() > 1e-9) else {
                        continue;
                    };
                    m.swap(rank, pivot);
                    let pivot_row = m[rank].clone();
                    for (r, row) in m.iter_mut().enumerate() {
                        if r != rank {
                            let f = row[col] / pivot_row[col];
                            for (x, p) in row.iter_mut().zip(&pivot_row) {
                                *x -= f * p;
                            }
                        }
                    }
                    rank += 1;
                }
                rank
            };
            let mut with = rows.to_vec();
            with.push(target.to_vec());
            rank(rows) == rank(&with)
        }

        /// Hidden nodes that are linear combinations of published ones.
        fn derivable(units: &[(&str, u64)], min: u64) -> Vec<Node> {
            let h = hidden_units(units.iter().copied(), min);
            let (_, vectors) = atoms(&h);
            let published: Vec<Vec<f64>> = h
                .nodes()
                .filter(|(_, _, hidden)| !hidden)
                .map(|(node, _, _)| vectors[node].clone())
                .collect();
            h.nodes()
                .filter(|(node, _, hidden)| *hidden && in_span(&published, &vectors[*node]))
                .map(|(node, _, _)| node.clone())
                .collect()
        }

        /// Cases the properties below found against earlier versions of the
        /// rule (also in `proptest-regressions/disclosure.txt`).
        #[test]
        fn cases_found_by_the_properties() {
            // `2` hidden (complement of `1`, `3`) but equal to its only child `2.1`.
            assert!(derivable(&[("2.1.1", 6), ("1", 1), ("3", 1)], 3).is_empty());
            // `2` hidden, the sum of its published children `2/1` and `2.1`.
            assert!(derivable(&[("2/1.1", 3), ("3", 1), ("2.1.1", 3)], 2).is_empty());
            let units = [
                ("1", 10),
                ("3", 1),
                ("3", 7),
                ("3.1", 1),
                ("2", 1),
                ("1.1.1", 2),
                ("3/1", 3),
            ];
            assert!(derivable(&units, 2).is_empty());
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(400))]

            /// Primary suppression, the sibling rule and the residual rule hold
            /// at the fixed point.
            #[test]
            fn every_published_difference_holds_the_minimum((units, min) in data()) {
                let h = hidden_units(units.iter().map(|(u, n)| (u.as_str(), *n)), min);
                let residual = h.residuals();
                for (k, e) in h.entries.iter().enumerate() {
                    if e.hidden {
                        continue;
                    }
                    prop_assert!(e.count >= min, "{:?} published with {}", e.node, e.count);
                    prop_assert!(residual[k] == 0 || residual[k] >= min,
                        "{:?}: residual {} (units {units:?}, min {min})", e.node, residual[k]);
                    let hidden: Vec<u64> = e.children.iter()
                        .filter(|&&c| h.entries[c].hidden)
                        .map(|&c| h.entries[c].count)
                        .collect();
                    prop_assert!(hidden.len() != 1, "{:?} has one hidden child", e.node);
                    prop_assert!(hidden.is_empty() || hidden.iter().sum::<u64>() >= min);
                }
            }

            /// Parent − children, over any number of levels: no hidden node's
            /// count, and no hidden group's results, follow from published ones.
            #[test]
            fn no_hidden_node_is_a_combination_of_published_ones((units, min) in data()) {
                let h = hidden_units(units.iter().map(|(u, n)| (u.as_str(), *n)), min);
                let (_, vectors) = atoms(&h);
                let published: Vec<Vec<f64>> = h.nodes()
                    .filter(|(_, _, hidden)| !hidden)
                    .map(|(node, _, _)| vectors[node].clone())
                    .collect();
                for (node, count, hidden) in h.nodes() {
                    if hidden {
                        prop_assert!(!in_span(&published, &vectors[node]),
                            "{node:?} ({count}) follows from published nodes (units {units:?}, min {min})");
                    }
                }
                // Simple parent − children: a published parent minus its
                // published children never gives fewer than the minimum.
                for (k, e) in h.entries.iter().enumerate() {
                    if e.hidden || e.children.is_empty() {
                        continue;
                    }
                    let published_children: u64 = e.children.iter()
                        .filter(|&&c| !h.entries[c].hidden)
                        .map(|&c| h.entries[c].count)
                        .sum();
                    let rest = e.count - published_children;
                    prop_assert!(rest == 0 || rest >= min, "node {k}: {rest}");
                }
            }

            /// The decision depends on the data, not on the order it comes in.
            #[test]
            fn the_order_of_the_counts_does_not_matter((units, min) in data()) {
                let a = hidden_units(units.iter().map(|(u, n)| (u.as_str(), *n)), min);
                let b = hidden_units(units.iter().rev().map(|(u, n)| (u.as_str(), *n)), min);
                prop_assert_eq!(
                    a.nodes().map(|(n, c, h)| (n.clone(), c, h)).collect::<BTreeSet<_>>(),
                    b.nodes().map(|(n, c, h)| (n.clone(), c, h)).collect::<BTreeSet<_>>()
                );
            }

            /// Any two windows snapped to the cuts differ by whole periods, in
            /// which every residual holds nothing or at least the minimum.
            #[test]
            fn window_periods_hold_the_minimum(
                (units, min) in data(),
                days in prop::collection::vec(0i64..6, 60),
            ) {
                let h = hidden_units(units.iter().map(|(u, n)| (u.as_str(), *n)), min);
                let mut results = Vec::new();
                let mut k = 0;
                for (u, n) in &units {
                    for _ in 0..*n {
                        results.push((u.as_str(), days[k % days.len()] * DAY_MS + 7));
                        k += 1;
                    }
                }
                let cuts = h.window_cuts(results.iter().copied());
                let mut bounds = vec![i64::MIN];
                bounds.extend(&cuts);
                bounds.push(i64::MAX);
                for w in bounds.windows(2) {
                    let mut per_owner: BTreeMap<usize, u64> = BTreeMap::new();
                    for (u, at) in &results {
                        if *at >= w[0] && *at < w[1] && let Some(o) = h.owner(u) {
                            *per_owner.entry(o).or_default() += 1;
                        }
                    }
                    prop_assert!(per_owner.values().all(|&n| n >= min), "{per_owner:?} in {w:?}");
                }
            }
        }
    }
}
