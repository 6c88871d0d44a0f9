//! Content balancing: which items may come next so that every minimum can
//! still be met and no maximum is passed.
//!
//! A domain's *need* is what it must still get: the larger of what its own
//! minimum and what its indicators' minimums still ask for. Two reservations
//! keep every minimum reachable whatever the selector prefers:
//!
//! * across domains: once the items left in the test (`max_items` − given)
//!   are no more than the domains' needs together, only domains that still
//!   need items may be served;
//! * within a domain: once the items the domain can still surely get (its
//!   maximum, and the test's items left after the other domains' needs) are
//!   no more than its indicators' outstanding minimums, only indicators below
//!   their minimum may be served.
//!
//! With limits that [`crate::Settings::check`] accepted, each reservation
//! binds at the latest when it must, so the test never stops with a minimum
//! unmet (checked by the property tests).

use crate::bank::Bank;
use crate::constraints::{Constraints, DomainLimits};
use crate::state::TestState;

/// The counts one decision is made on.
pub(crate) struct Balance<'a> {
    bank: &'a Bank,
    constraints: &'a Constraints,
    state: &'a TestState,
    needs: Vec<usize>,
    need_total: usize,
    /// Items the test may still give.
    left: usize,
}

impl<'a> Balance<'a> {
    pub fn new(bank: &'a Bank, constraints: &'a Constraints, state: &'a TestState) -> Self {
        let needs: Vec<usize> = (0..bank.domains().len())
            .map(|d| {
                let limits = &constraints.domains[d];
                let progress = state.domain(d);
                let own = limits.min_items.saturating_sub(progress.count);
                let indicators = outstanding(limits, &progress.per_indicator);
                own.max(indicators)
            })
            .collect();
        Balance {
            bank,
            constraints,
            state,
            need_total: needs.iter().sum(),
            needs,
            left: constraints.max_items.saturating_sub(state.total()),
        }
    }

    /// Items the test may still give.
    pub fn items_left(&self) -> usize {
        self.left
    }

    pub fn state(&self) -> &'a TestState {
        self.state
    }

    pub fn limits(&self, domain: usize) -> &'a DomainLimits {
        &self.constraints.domains[domain]
    }

    /// Items `domain` must still get to meet its minimums.
    pub fn need(&self, domain: usize) -> usize {
        self.needs[domain]
    }

    /// Whether `domain` may have the next item as far as the test's and the
    /// domain's own maximum go (its status aside).
    pub fn may_serve(&self, domain: usize) -> bool {
        let reserved_elsewhere = self.left <= self.need_total && self.needs[domain] == 0;
        self.left > 0
            && !reserved_elsewhere
            && self.state.domain_count(domain) < self.constraints.domains[domain].max_items
    }

    /// Whether `domain` has an item not given whose indicator is below its
    /// maximum: false when its own part of the bank is used up.
    pub fn has_items_left(&self, domain: usize) -> bool {
        self.open_items(domain).next().is_some()
    }

    /// The items `domain` may have next, in bank order; empty when it may
    /// not be served.
    pub fn admissible(&self, domain: usize) -> Vec<usize> {
        if !self.may_serve(domain) {
            return Vec::new();
        }
        let limits = &self.constraints.domains[domain];
        let progress = self.state.domain(domain);
        // What the domain can count on: its own maximum, and what the test has
        // left once the other domains' needs are reserved. When that is no
        // more than its indicators still need, only those indicators may be served.
        let others_need = self.need_total - self.needs[domain];
        let guaranteed =
            (limits.max_items - progress.count).min(self.left.saturating_sub(others_need));
        let only_short_indicators = guaranteed <= outstanding(limits, &progress.per_indicator);
        self.open_items(domain)
            .filter(|&item| {
                let indicator = self.bank.place(item).indicator;
                !only_short_indicators
                    || progress.per_indicator[indicator] < limits.indicators[indicator].min
            })
            .collect()
    }

    /// Items of `domain` not given, in indicators below their maximum.
    fn open_items(&self, domain: usize) -> impl Iterator<Item = usize> + '_ {
        let limits = &self.constraints.domains[domain];
        let progress = self.state.domain(domain);
        self.bank.domains()[domain]
            .items
            .iter()
            .copied()
            .filter(move |&item| {
                let indicator = self.bank.place(item).indicator;
                !self.state.is_given(item)
                    && progress.per_indicator[indicator] < limits.indicators[indicator].max
            })
    }
}

/// Items a domain's indicators still need to reach their minimums.
fn outstanding(limits: &DomainLimits, per_indicator: &[usize]) -> usize {
    limits
        .indicators
        .iter()
        .zip(per_indicator)
        .map(|(l, &n)| l.min.saturating_sub(n))
        .sum()
}
