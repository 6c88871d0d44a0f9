//! Simulated persons taking the adaptive test.

use super::report::StudyReport;
use crate::adaptive::{AdaptiveTest, Next, SelectionError};
use crate::select::Selector;
use crate::stopping::{DomainStatus, StopReason};
use ikd_irt::{Item, MAX_CATEGORIES, Score};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rayon::prelude::*;

/// How many persons, from which seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StudyOptions {
    pub persons: usize,
    pub seed: u64,
}

/// What one simulated person did.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PersonRecord {
    /// True θ per domain.
    pub truth: Vec<f64>,
    /// The adaptive test's final EAP per domain.
    pub adaptive: Vec<Score>,
    /// The EAP on every item of the domain, same answers.
    pub full: Vec<Score>,
    /// Items given per domain.
    pub counts: Vec<usize>,
    pub statuses: Vec<DomainStatus>,
    pub stop: StopReason,
    /// Bank indices given, in order.
    pub items: Vec<usize>,
}

/// Runs `options.persons` simulated persons through `test` with `selector`
/// and reports on them. The same seed gives the same report on any number
/// of threads.
pub fn run_study(
    test: &AdaptiveTest,
    selector: &dyn Selector,
    options: &StudyOptions,
) -> Result<StudyReport, SelectionError> {
    let records = (0..options.persons)
        .into_par_iter()
        .map(|person| simulate_person(test, selector, options.seed, person as u64))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(StudyReport::new(test, selector.name(), options, &records))
}

/// One person: true θ, answers to the whole bank, the full-bank EAP, then
/// the adaptive test on those same answers.
pub(crate) fn simulate_person(
    test: &AdaptiveTest,
    selector: &dyn Selector,
    seed: u64,
    person: u64,
) -> Result<PersonRecord, SelectionError> {
    let bank = test.bank();
    let domains = bank.domains();
    let mut rng = StdRng::seed_from_u64(stream(seed, person, 0));
    let truth: Vec<f64> = domains.iter().map(|_| rng.sample(StandardNormal)).collect();
    let answers: Vec<u8> = bank
        .items()
        .iter()
        .enumerate()
        .map(|(i, item)| draw_category(&item.irt, truth[bank.place(i).domain], &mut rng))
        .collect();
    let full = (0..domains.len())
        .map(|d| {
            let codes: Vec<u8> = domains[d].items.iter().map(|&i| answers[i]).collect();
            test.estimate(d, &codes)
        })
        .collect();

    let mut choices = StdRng::seed_from_u64(stream(seed, person, 1));
    let mut state = test.start();
    let stop = loop {
        match test.next(&state, selector, &mut choices)? {
            Next::Item(item) => {
                test.record(&mut state, item, answers[item])
                    .expect("the test offered the item");
            }
            Next::Stop(reason) => break reason,
        }
    };
    let progress = test.progress(&state);
    Ok(PersonRecord {
        truth,
        adaptive: (0..domains.len()).map(|d| state.estimate(d)).collect(),
        full,
        counts: (0..domains.len()).map(|d| state.domain_count(d)).collect(),
        statuses: progress.domains,
        stop,
        items: state.steps().iter().map(|s| s.item).collect(),
    })
}

/// An answer drawn from the item's category probabilities at θ (one uniform draw from
/// `rng`): a simulated person's response.
pub fn draw_category(item: &Item, theta: f64, rng: &mut impl Rng) -> u8 {
    let mut probs = [0.0; MAX_CATEGORIES];
    let probs = &mut probs[..item.categories()];
    item.probs(theta, probs);
    let u: f64 = rng.random();
    let mut cumulative = 0.0;
    for (k, p) in probs.iter().enumerate() {
        cumulative += p;
        if u < cumulative {
            return k as u8;
        }
    }
    (probs.len() - 1) as u8
}

/// A seed for stream `k` of `person`, so that persons are independent of
/// each other and of the order they run in (splitmix64 finaliser).
fn stream(seed: u64, person: u64, k: u64) -> u64 {
    let mut z =
        seed ^ person.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ k.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ikd_irt::Model;

    #[test]
    fn answers_follow_the_category_probabilities() {
        let item = Item::new("g", Model::Graded, 1.3, vec![1.0, -0.2, -1.5]).unwrap();
        let mut expected = [0.0; 4];
        item.probs(0.4, &mut expected);
        let mut rng = StdRng::seed_from_u64(5);
        let n = 40_000;
        let mut counts = [0usize; 4];
        for _ in 0..n {
            counts[draw_category(&item, 0.4, &mut rng) as usize] += 1;
        }
        for k in 0..4 {
            let p = expected[k];
            let sd = (p * (1.0 - p) / n as f64).sqrt();
            let observed = counts[k] as f64 / n as f64;
            assert!(
                (observed - p).abs() < 4.0 * sd,
                "category {k}: {observed} vs {p}"
            );
        }
    }

    #[test]
    fn streams_differ_by_person_and_kind() {
        let seeds = [
            stream(1, 0, 0),
            stream(1, 0, 1),
            stream(1, 1, 0),
            stream(2, 0, 0),
        ];
        for i in 0..seeds.len() {
            for j in i + 1..seeds.len() {
                assert_ne!(seeds[i], seeds[j]);
            }
        }
    }
}
