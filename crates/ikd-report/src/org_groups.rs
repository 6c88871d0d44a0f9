//! The groups an organisation report compares — the unit, its parent, the
//! whole data set, its children — and what disclosure control withholds of
//! them. The page (`org`) and the CSV (`org_csv`) both read them.

use crate::data::Group;
use crate::org_unit::{child, parent, unit_within};
use crate::unit_sums::UnitGroup;
use ikd_core::disclosure;
use ikd_core::instrument::Instrument;
use std::collections::{BTreeMap, BTreeSet};

/// What a report may print, decided by disclosure control on the whole data
/// set (`ikd_core::disclosure`): a report over part of the data — a caller's
/// scope — must hide what the whole data set hides, or the parts can be
/// subtracted from figures published elsewhere.
#[derive(Clone, Copy, Debug)]
pub struct Disclosure<'a> {
    /// The nodes hidden, decided on every unit's count.
    pub hidden: &'a disclosure::Hidden,
    /// The prefix the report's results (rows or unit sums) cover (`""`:
    /// every result).
    pub scope: &'a str,
}

/// The groups an organisation report compares, each with its label.
pub(crate) struct Groups {
    pub prefix: String,
    pub unit: Group,
    /// The parent prefix and its group, when the prefix has one.
    pub parent: Option<(String, Group)>,
    /// Every result; `None` when the prefix covers everything already.
    pub all: Option<Group>,
    /// Child units (the next segment below the prefix) with their groups;
    /// results of the prefix itself are the child named as the prefix.
    pub children: BTreeMap<String, Group>,
    /// Children not to report (disclosure control on the whole data set).
    pub hidden_children: BTreeSet<String>,
    /// Comparisons left out because the group they stand for is hidden:
    /// (`parent` or `all`, its prefix).
    pub withheld: Vec<(&'static str, String)>,
}

impl Groups {
    /// Applies disclosure control: hidden children, and comparisons whose
    /// group is hidden. Within `scope`, a comparison over a prefix wider than
    /// the scope stands for the scope itself.
    pub(crate) fn withhold(&mut self, disclosure: Disclosure<'_>) {
        let hidden = disclosure.hidden;
        let shown_as = |p: &str| {
            if unit_within(disclosure.scope, p) {
                p.to_owned()
            } else {
                disclosure.scope.to_owned()
            }
        };
        self.hidden_children = self
            .children
            .keys()
            .filter(|k| {
                if **k == self.prefix {
                    hidden.is_own_hidden(k)
                } else {
                    hidden.is_hidden(k)
                }
            })
            .cloned()
            .collect();
        if let Some((p, _)) = &self.parent
            && hidden.is_hidden(&shown_as(p))
        {
            self.withheld.push(("parent", p.clone()));
            self.parent = None;
        }
        if self.all.is_some() && hidden.is_hidden(&shown_as("")) {
            self.withheld.push(("all", String::new()));
            self.all = None;
        }
    }

    /// The groups of `prefix`, each the sum of its units.
    pub(crate) fn new(instrument: &Instrument, units: &[UnitGroup], prefix: &str) -> Self {
        let mut unit = Group::new(instrument);
        let mut all = Group::new(instrument);
        let parent_prefix = parent(prefix);
        let mut parent_group = Group::new(instrument);
        let mut children: BTreeMap<String, Group> = BTreeMap::new();
        // A unit without results (only answers read) is in no group.
        for u in units.iter().filter(|u| u.group.n > 0) {
            let org = u.unit.as_str();
            all.merge(&u.group);
            if let Some(p) = parent_prefix
                && unit_within(p, org)
            {
                parent_group.merge(&u.group);
            }
            if unit_within(prefix, org) {
                unit.merge(&u.group);
                let key = child(prefix, org).unwrap_or(prefix);
                children
                    .entry(key.to_owned())
                    .or_insert_with(|| Group::new(instrument))
                    .merge(&u.group);
            }
        }
        Groups {
            prefix: prefix.to_owned(),
            unit,
            parent: parent_prefix.map(|p| (p.to_owned(), parent_group)),
            all: (!prefix.is_empty()).then_some(all),
            children,
            hidden_children: BTreeSet::new(),
            withheld: Vec::new(),
        }
    }
}

/// Disclosure control decided on these counts of results per unit alone
/// (a unit may come more than once): right when they are the whole data set
/// (a results file), as for `ikd report`.
pub(crate) fn hidden_in<'a>(
    counts: impl IntoIterator<Item = (&'a str, u64)>,
    min_group_size: u32,
) -> disclosure::Hidden {
    let mut units: BTreeMap<&str, u64> = BTreeMap::new();
    for (unit, n) in counts.into_iter().filter(|(_, n)| *n > 0) {
        *units.entry(unit).or_default() += n;
    }
    disclosure::hidden_units(units, u64::from(min_group_size))
}
