//! The adaptive test: a bank, its checked settings and one EAP scorer per
//! domain. [`AdaptiveTest::next`] decides the next item (or that the test
//! is over, and why); [`AdaptiveTest::record`] takes an answer and updates
//! the domain's θ and SE. Both are pure functions of the [`TestState`], so
//! a session can keep the state anywhere and resume on any replica.

use crate::bank::Bank;
use crate::constraints::{Constraints, SettingsError};
use crate::content::Balance;
use crate::estimate::Estimator;
use crate::select::{SelectionContext, Selector};
use crate::settings::{DomainOrder, Settings};
use crate::state::TestState;
use crate::stopping::{DomainStatus, StopReason, domain_status};
use ikd_irt::Score;
use rand::RngCore;
use thiserror::Error;

/// What comes next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Give the item at this bank index.
    Item(usize),
    /// The test is over.
    Stop(StopReason),
}

/// Where a test stands: each domain's status and, once over, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    pub domains: Vec<DomainStatus>,
    pub stopped: Option<StopReason>,
}

/// A selector that failed or chose an item it was not offered.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SelectionError {
    #[error("selector '{selector}' failed: {message}")]
    Fault { selector: String, message: String },
    #[error(
        "selector '{selector}' chose item {item}, which is not one of the {candidates} items it was offered"
    )]
    NotACandidate {
        selector: String,
        item: usize,
        candidates: usize,
    },
}

/// An answer the test cannot take.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AnswerError {
    #[error("item {0} is not in the bank")]
    UnknownItem(usize),
    #[error("item '{0}' has been given already")]
    AlreadyGiven(String),
    #[error("item '{item}': category {category} is not one of its {categories} categories")]
    Category {
        item: String,
        category: u8,
        categories: usize,
    },
    #[error("item '{0}' may not be given now (its domain is done, or content limits exclude it)")]
    NotAdmissible(String),
    #[error("the test is over ({})", .0.name())]
    Stopped(StopReason),
}

/// A bank with checked settings, ready to run tests.
#[derive(Clone, Debug)]
pub struct AdaptiveTest {
    bank: Bank,
    settings: Settings,
    constraints: Constraints,
    estimator: Estimator,
}

impl AdaptiveTest {
    /// Checks `settings` against `bank` (every problem at once).
    pub fn new(bank: Bank, settings: Settings) -> Result<Self, SettingsError> {
        let constraints = settings.check(&bank)?;
        let estimator =
            Estimator::new(&bank, settings.quadpts).expect("quadpts checked with the settings");
        Ok(AdaptiveTest {
            bank,
            settings,
            constraints,
            estimator,
        })
    }

    pub fn bank(&self) -> &Bank {
        &self.bank
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn constraints(&self) -> &Constraints {
        &self.constraints
    }

    /// A new person: nothing given, every domain at the prior.
    pub fn start(&self) -> TestState {
        TestState::new(&self.bank, self.estimator.prior())
    }

    /// The EAP θ and SE of `domain` given its response vector (category
    /// codes in the domain's item order, [`ikd_irt::MISSING`] where not
    /// given); the prior with no answer. The same estimate [`Self::record`]
    /// keeps, for scoring a whole response vector (e.g. the full bank).
    pub fn estimate(&self, domain: usize, codes: &[u8]) -> Score {
        self.estimator
            .estimate(domain, codes)
            .expect("codes of the domain's items")
    }

    /// Each domain's status and whether the test is over.
    pub fn progress(&self, state: &TestState) -> Progress {
        let balance = Balance::new(&self.bank, &self.constraints, state);
        let domains = self.statuses(&balance);
        let stopped = stop_reason(&balance, &domains);
        Progress { domains, stopped }
    }

    fn statuses(&self, balance: &Balance<'_>) -> Vec<DomainStatus> {
        (0..self.bank.domains().len())
            .map(|d| domain_status(balance, d))
            .collect()
    }

    /// The next item, chosen by `selector` among the items content balancing
    /// allows in the domain [`DomainOrder`] picks; or why the test is over.
    pub fn next(
        &self,
        state: &TestState,
        selector: &dyn Selector,
        rng: &mut dyn RngCore,
    ) -> Result<Next, SelectionError> {
        let balance = Balance::new(&self.bank, &self.constraints, state);
        let statuses = self.statuses(&balance);
        if let Some(reason) = stop_reason(&balance, &statuses) {
            return Ok(Next::Stop(reason));
        }
        let servable = (0..statuses.len())
            .filter(|&d| statuses[d] == DomainStatus::Open && balance.may_serve(d));
        let domain = match self.settings.domain_order {
            DomainOrder::Sequential => servable.min(),
            DomainOrder::Interleaved => servable
                .map(|d| (state.estimate(d).se, d))
                .min_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)))
                .map(|(_, d)| d),
        };
        // With checked limits a test that may give more items and has an open
        // domain can serve one (see `content`).
        let Some(domain) = domain else {
            unreachable!("an open domain and items left, but no domain may be served");
        };
        let candidates = balance.admissible(domain);
        debug_assert!(!candidates.is_empty(), "an open, servable domain has items");
        let context = SelectionContext {
            bank: &self.bank,
            domain,
            candidates: &candidates,
            estimate: state.estimate(domain),
            answered: state.domain_count(domain),
            administered: state.administered(),
        };
        let item = selector
            .select(&context, rng)
            .map_err(|fault| SelectionError::Fault {
                selector: selector.name().to_owned(),
                message: fault.0,
            })?;
        if candidates.binary_search(&item).is_err() {
            return Err(SelectionError::NotACandidate {
                selector: selector.name().to_owned(),
                item,
                candidates: candidates.len(),
            });
        }
        Ok(Next::Item(item))
    }

    /// Takes the answer `category` to `item` and returns the item's domain's
    /// new EAP θ and SE. The item must be one content balancing allows now
    /// (any open domain's, not only the one [`Self::next`] would pick), so no
    /// sequence of answers can break the limits.
    pub fn record(
        &self,
        state: &mut TestState,
        item: usize,
        category: u8,
    ) -> Result<Score, AnswerError> {
        self.check_answer(state, item, category)?;
        let domain = state.push(&self.bank, item, category);
        let estimate = self.estimate(domain, state.domain_codes(domain));
        state.set_estimate(domain, estimate);
        Ok(estimate)
    }

    fn check_answer(
        &self,
        state: &TestState,
        item: usize,
        category: u8,
    ) -> Result<(), AnswerError> {
        if item >= self.bank.len() {
            return Err(AnswerError::UnknownItem(item));
        }
        let entry = self.bank.item(item);
        if state.is_given(item) {
            return Err(AnswerError::AlreadyGiven(entry.id.clone()));
        }
        let categories = entry.irt.categories();
        if category as usize >= categories {
            return Err(AnswerError::Category {
                item: entry.id.clone(),
                category,
                categories,
            });
        }
        let balance = Balance::new(&self.bank, &self.constraints, state);
        if let Some(reason) = stop_reason(&balance, &self.statuses(&balance)) {
            return Err(AnswerError::Stopped(reason));
        }
        let domain = self.bank.place(item).domain;
        let open = domain_status(&balance, domain) == DomainStatus::Open;
        if !open || balance.admissible(domain).binary_search(&item).is_err() {
            return Err(AnswerError::NotAdmissible(entry.id.clone()));
        }
        Ok(())
    }
}

/// The test is over when every domain is done, or when it has given its
/// maximum with a domain still open.
fn stop_reason(balance: &Balance<'_>, statuses: &[DomainStatus]) -> Option<StopReason> {
    if statuses.iter().all(|s| *s != DomainStatus::Open) {
        Some(StopReason::Completed)
    } else if balance.items_left() == 0 {
        Some(StopReason::MaxItems)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::BankItem;
    use crate::select::{MaxInformation, SelectorFault};
    use crate::stopping::DomainStop;
    use ikd_irt::{Item, Model};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// Two domains of 2PL items with difficulties spread over the scale.
    fn bank(per_domain: usize) -> Bank {
        let mut items = Vec::new();
        for domain in ["A", "B"] {
            for i in 0..per_domain {
                let b = -2.0 + 4.0 * i as f64 / (per_domain - 1) as f64;
                let a = 1.0 + 0.1 * (i % 5) as f64;
                let id = format!("{domain}{i}");
                items.push(BankItem {
                    irt: Item::new(&id, Model::TwoPl, a, vec![-a * b]).unwrap(),
                    id,
                    domain: domain.into(),
                    indicator: if i % 2 == 0 { "even" } else { "odd" }.into(),
                });
            }
        }
        Bank::new(items).unwrap()
    }

    /// Runs the test for a person who answers right exactly the items
    /// easier than θ = 0.3.
    fn run(test: &AdaptiveTest, selector: &dyn Selector) -> (TestState, StopReason) {
        let mut state = test.start();
        let mut rng = StdRng::seed_from_u64(3);
        loop {
            match test.next(&state, selector, &mut rng).unwrap() {
                Next::Item(item) => {
                    let right = test.bank().item(item).irt.b()[0] < 0.3;
                    test.record(&mut state, item, u8::from(right)).unwrap();
                }
                Next::Stop(reason) => return (state, reason),
            }
        }
    }

    #[test]
    fn first_item_is_the_most_informative_at_the_prior_mean() {
        let test = AdaptiveTest::new(bank(9), Settings::default()).unwrap();
        let state = test.start();
        assert!(state.estimate(0).theta.abs() < 1e-12);
        assert!((state.estimate(0).se - 1.0).abs() < 1e-6);
        let mut rng = StdRng::seed_from_u64(0);
        let next = test
            .next(&state, &MaxInformation::new(1), &mut rng)
            .unwrap();
        // b = 0 is item 4 (a = 1.4); sequential order starts with domain A.
        assert_eq!(next, Next::Item(4));
    }

    #[test]
    fn sequential_order_finishes_a_domain_before_the_next() {
        let settings = Settings {
            se_target: 0.6,
            ..Settings::default()
        };
        let test = AdaptiveTest::new(bank(9), settings).unwrap();
        let (state, reason) = run(&test, &MaxInformation::new(1));
        assert_eq!(reason, StopReason::Completed);
        let domains: Vec<usize> = state
            .steps()
            .iter()
            .map(|s| test.bank().place(s.item).domain)
            .collect();
        let switch = domains.iter().position(|&d| d == 1).unwrap();
        assert!(domains[..switch].iter().all(|&d| d == 0));
        assert!(domains[switch..].iter().all(|&d| d == 1));
        let progress = test.progress(&state);
        assert_eq!(progress.stopped, Some(StopReason::Completed));
        for d in 0..2 {
            assert!(state.estimate(d).se <= 0.6);
            assert_eq!(
                progress.domains[d],
                DomainStatus::Done(DomainStop::SeTarget)
            );
        }
    }

    #[test]
    fn interleaved_order_serves_the_least_precise_domain() {
        let settings = Settings {
            domain_order: DomainOrder::Interleaved,
            se_target: 0.6,
            ..Settings::default()
        };
        let test = AdaptiveTest::new(bank(9), settings).unwrap();
        let (state, _) = run(&test, &MaxInformation::new(1));
        let first_two: Vec<usize> = state.steps()[..2]
            .iter()
            .map(|s| test.bank().place(s.item).domain)
            .collect();
        // Both start at the prior (tie: domain A); then B is the less precise.
        assert_eq!(first_two, [0, 1]);
    }

    #[test]
    fn limits_stop_domains_and_the_test() {
        let settings = Settings {
            se_target: 0.01,
            max_items_per_domain: Some(4),
            max_items: Some(6),
            min_items_per_domain: 2,
            ..Settings::default()
        };
        let test = AdaptiveTest::new(bank(9), settings).unwrap();
        let (state, reason) = run(&test, &MaxInformation::new(1));
        assert_eq!(reason, StopReason::MaxItems);
        assert_eq!(state.total(), 6);
        // A had its maximum, B the rest (and at least its minimum).
        assert_eq!(state.domain_count(0), 4);
        assert_eq!(state.domain_count(1), 2);
        let progress = test.progress(&state);
        assert_eq!(
            progress.domains[0],
            DomainStatus::Done(DomainStop::MaxItems)
        );
        assert_eq!(progress.domains[1], DomainStatus::Open);

        let settings = Settings {
            se_target: 0.01,
            max_items_per_indicator: Some(2),
            ..Settings::default()
        };
        let test = AdaptiveTest::new(bank(5), settings).unwrap();
        let (state, reason) = run(&test, &MaxInformation::new(1));
        assert_eq!(reason, StopReason::Completed);
        assert_eq!(state.total(), 8);
        assert_eq!(
            test.progress(&state).domains,
            [DomainStatus::Done(DomainStop::BankExhausted); 2]
        );
    }

    #[test]
    fn every_step_records_the_domain_estimate_after_it() {
        let test = AdaptiveTest::new(bank(9), Settings::default()).unwrap();
        let (state, _) = run(&test, &MaxInformation::new(1));
        let mut replay = test.start();
        for step in state.steps() {
            let estimate = test.record(&mut replay, step.item, step.category).unwrap();
            assert_eq!(estimate, step.estimate);
        }
        assert_eq!(replay, state);
    }

    #[test]
    fn bad_answers_are_refused_and_change_nothing() {
        let settings = Settings {
            max_items_per_indicator: Some(1),
            ..Settings::default()
        };
        let test = AdaptiveTest::new(bank(4), settings).unwrap();
        let mut state = test.start();
        test.record(&mut state, 0, 1).unwrap();
        let before = state.clone();
        assert_eq!(
            test.record(&mut state, 99, 0),
            Err(AnswerError::UnknownItem(99))
        );
        assert_eq!(
            test.record(&mut state, 0, 0),
            Err(AnswerError::AlreadyGiven("A0".into()))
        );
        assert!(matches!(
            test.record(&mut state, 1, 2),
            Err(AnswerError::Category { categories: 2, .. })
        ));
        // A2 is in indicator "even", which has had its one item.
        assert_eq!(
            test.record(&mut state, 2, 0),
            Err(AnswerError::NotAdmissible("A2".into()))
        );
        assert_eq!(state, before);
    }

    struct Rogue(Result<usize, SelectorFault>);

    impl Selector for Rogue {
        fn name(&self) -> &str {
            "rogue"
        }
        fn select(
            &self,
            _: &SelectionContext<'_>,
            _: &mut dyn RngCore,
        ) -> Result<usize, SelectorFault> {
            self.0.clone()
        }
    }

    #[test]
    fn a_selector_choosing_outside_its_candidates_is_caught() {
        let test = AdaptiveTest::new(bank(4), Settings::default()).unwrap();
        let mut state = test.start();
        let mut rng = StdRng::seed_from_u64(0);
        test.record(&mut state, 0, 1).unwrap();
        // Already given; in the other domain (sequential order serves A);
        // not in the bank.
        for choice in [0, 7, 1000] {
            let err = test.next(&state, &Rogue(Ok(choice)), &mut rng).unwrap_err();
            assert!(matches!(err, SelectionError::NotACandidate { item, .. } if item == choice));
        }
        let err = test
            .next(
                &state,
                &Rogue(Err(SelectorFault("no idea".into()))),
                &mut rng,
            )
            .unwrap_err();
        assert_eq!(err.to_string(), "selector 'rogue' failed: no idea");
    }
}
