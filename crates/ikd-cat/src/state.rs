//! One person's progress through an adaptive test: the items given in
//! order, their answers, and per domain the counts content balancing needs
//! and the current θ and SE. Changed only by [`crate::AdaptiveTest::record`],
//! so the counts and estimates always match the answers.

use crate::bank::Bank;
use ikd_irt::{MISSING, Score};

/// One administered item: its answer and the θ and SE of its domain after it
/// (the audit trail a result records).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    /// Bank index of the item.
    pub item: usize,
    /// The answer as an IRT category code, `0..K`.
    pub category: u8,
    /// The domain's EAP θ and SE with this answer included.
    pub estimate: Score,
}

/// A person's state in an adaptive test.
#[derive(Clone, Debug, PartialEq)]
pub struct TestState {
    steps: Vec<Step>,
    /// The steps' items, kept apart so selectors can borrow them as a slice.
    administered: Vec<usize>,
    given: Vec<bool>,
    domains: Vec<DomainProgress>,
}

/// What one domain has had so far.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DomainProgress {
    /// Category codes in the domain's item order, [`MISSING`] where not given:
    /// the response vector of the domain's EAP scorer.
    pub codes: Vec<u8>,
    pub per_indicator: Vec<usize>,
    pub count: usize,
    pub estimate: Score,
}

impl TestState {
    /// Nothing given yet; every domain at the prior's `estimate`.
    pub(crate) fn new(bank: &Bank, prior: Score) -> Self {
        TestState {
            steps: Vec::new(),
            administered: Vec::new(),
            given: vec![false; bank.len()],
            domains: bank
                .domains()
                .iter()
                .map(|d| DomainProgress {
                    codes: vec![MISSING; d.items.len()],
                    per_indicator: vec![0; d.indicators.len()],
                    count: 0,
                    estimate: prior,
                })
                .collect(),
        }
    }

    /// The items given, in order, with their answers and estimates.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Bank indices of the items given, in order.
    pub fn administered(&self) -> &[usize] {
        &self.administered
    }

    /// Items given in the whole test.
    pub fn total(&self) -> usize {
        self.steps.len()
    }

    pub fn is_given(&self, item: usize) -> bool {
        self.given[item]
    }

    /// Items given in a domain.
    pub fn domain_count(&self, domain: usize) -> usize {
        self.domains[domain].count
    }

    /// Items given in an indicator of a domain.
    pub fn indicator_count(&self, domain: usize, indicator: usize) -> usize {
        self.domains[domain].per_indicator[indicator]
    }

    /// The domain's current EAP θ and SE (the prior's before any answer).
    pub fn estimate(&self, domain: usize) -> Score {
        self.domains[domain].estimate
    }

    /// The domain's answers as its EAP scorer takes them.
    pub fn domain_codes(&self, domain: usize) -> &[u8] {
        &self.domains[domain].codes
    }

    pub(crate) fn domain(&self, domain: usize) -> &DomainProgress {
        &self.domains[domain]
    }

    /// Adds a checked answer and returns its domain. Its estimate is the
    /// domain's previous one until [`TestState::set_estimate`] replaces it.
    pub(crate) fn push(&mut self, bank: &Bank, item: usize, category: u8) -> usize {
        let place = bank.place(item);
        let progress = &mut self.domains[place.domain];
        progress.codes[place.position] = category;
        progress.per_indicator[place.indicator] += 1;
        progress.count += 1;
        self.given[item] = true;
        self.administered.push(item);
        self.steps.push(Step {
            item,
            category,
            estimate: progress.estimate,
        });
        place.domain
    }

    /// The domain's estimate after the last answer, which was in `domain`.
    pub(crate) fn set_estimate(&mut self, domain: usize, estimate: Score) {
        self.domains[domain].estimate = estimate;
        if let Some(last) = self.steps.last_mut() {
            last.estimate = estimate;
        }
    }
}
