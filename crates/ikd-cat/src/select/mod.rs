//! Item selection rules behind one trait, [`Selector`]: given one domain's
//! candidates (already filtered by content balancing) and the domain's
//! current θ, choose the next item. The shape is the selector plugin's:
//! what a selector sees is [`SelectionContext`], what it returns is a bank
//! index, and the test checks that index before using it.
//!
//! * [`MaxInformation`] — maximum Fisher information at the EAP θ;
//! * [`KullbackLeibler`] — Chang & Ying's (1996) KL information integrated
//!   over an interval around θ, which looks past a still imprecise θ early
//!   in the test;
//! * [`RandomItem`] — any candidate, uniformly: the baseline a selector
//!   must beat, and the one with the flattest item exposure.
//!
//! The first two use randomesque exposure control ([`randomesque`]).

mod fisher;
mod kl;
mod random;

pub use fisher::MaxInformation;
pub use kl::KullbackLeibler;
pub use random::RandomItem;

use crate::bank::Bank;
use crate::settings::Settings;
use ikd_irt::Score;
use rand::{Rng, RngCore};
use std::fmt;
use std::str::FromStr;

/// What a selector is told about the decision at hand.
#[derive(Clone, Copy, Debug)]
pub struct SelectionContext<'a> {
    pub bank: &'a Bank,
    /// The domain the next item comes from (chosen by content balancing).
    pub domain: usize,
    /// Bank indices the selector may choose from, in bank order; never empty.
    pub candidates: &'a [usize],
    /// The domain's current EAP θ and SE.
    pub estimate: Score,
    /// Items the domain has had so far.
    pub answered: usize,
    /// Bank indices of every item given so far (all domains), in order: what
    /// a selector plugin is told, and what the host checks its reply against.
    pub administered: &'a [usize],
}

/// A selector that could not choose (a plugin's fault, later): the test
/// reports it with the selector's name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorFault(pub String);

/// An item selection rule.
pub trait Selector: Send + Sync {
    /// A short name for reports and errors (`mfi`, `kl`, `random`).
    fn name(&self) -> &str;

    /// The bank index of the next item, one of `context.candidates`.
    /// Randomness comes from `rng` only, so a seeded `rng` makes the
    /// choice reproducible.
    fn select(
        &self,
        context: &SelectionContext<'_>,
        rng: &mut dyn RngCore,
    ) -> Result<usize, SelectorFault>;
}

/// Randomesque exposure control (Kingsbury & Zara, 1989): one of the `k`
/// candidates with the highest `score`, drawn uniformly. Ties rank in bank
/// order, and `k = 1` takes the best without a random draw, so pure maximum
/// information is deterministic.
pub fn randomesque(
    candidates: &[usize],
    k: usize,
    rng: &mut dyn RngCore,
    mut score: impl FnMut(usize) -> f64,
) -> usize {
    assert!(!candidates.is_empty(), "a selection needs candidates");
    let mut ranked: Vec<(f64, usize)> = candidates.iter().map(|&i| (score(i), i)).collect();
    let better = |a: &(f64, usize), b: &(f64, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    let k = k.clamp(1, ranked.len());
    if k == 1 {
        return ranked
            .iter()
            .min_by(|a, b| better(a, b))
            .expect("non-empty")
            .1;
    }
    ranked.select_nth_unstable_by(k - 1, better);
    ranked[rng.random_range(0..k)].1
}

/// The bundled selectors by name: what `--selector` and an instrument's
/// `[delivery] selector` name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectorKind {
    /// Maximum Fisher information ([`MaxInformation`]).
    Mfi,
    /// Kullback–Leibler interval information ([`KullbackLeibler`]).
    Kl,
    /// Uniform among the candidates ([`RandomItem`]).
    Random,
}

impl SelectorKind {
    pub fn name(self) -> &'static str {
        match self {
            SelectorKind::Mfi => "mfi",
            SelectorKind::Kl => "kl",
            SelectorKind::Random => "random",
        }
    }

    /// The selector with its settings (`randomesque`, `kl_radius`).
    pub fn build(self, settings: &Settings) -> Box<dyn Selector> {
        match self {
            SelectorKind::Mfi => Box::new(MaxInformation::new(settings.randomesque)),
            SelectorKind::Kl => Box::new(KullbackLeibler::new(
                settings.randomesque,
                settings.kl_radius,
            )),
            SelectorKind::Random => Box::new(RandomItem),
        }
    }
}

impl fmt::Display for SelectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SelectorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "mfi" => Ok(SelectorKind::Mfi),
            "kl" => Ok(SelectorKind::Kl),
            "random" => Ok(SelectorKind::Random),
            other => Err(format!(
                "unknown selector '{other}' (expected mfi, kl or random)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn randomesque_of_one_is_the_best_with_ties_in_bank_order() {
        let mut rng = StdRng::seed_from_u64(1);
        let scores = [0.5, 2.0, 1.0, 2.0];
        assert_eq!(randomesque(&[0, 1, 2, 3], 1, &mut rng, |i| scores[i]), 1);
        assert_eq!(randomesque(&[3, 2, 1], 1, &mut rng, |i| scores[i]), 1);
        assert_eq!(randomesque(&[0, 2], 1, &mut rng, |i| scores[i]), 2);
    }

    #[test]
    fn randomesque_draws_only_among_the_k_best_and_each_of_them() {
        let mut rng = StdRng::seed_from_u64(7);
        let scores = [0.1, 0.9, 0.8, 0.2, 0.7, 0.3];
        let mut seen = [0usize; 6];
        for _ in 0..3000 {
            seen[randomesque(&[0, 1, 2, 3, 4, 5], 3, &mut rng, |i| scores[i])] += 1;
        }
        assert_eq!([seen[0], seen[3], seen[5]], [0, 0, 0]);
        for best in [1, 2, 4] {
            assert!((850..1150).contains(&seen[best]), "{seen:?}");
        }
        // k above the number of candidates: any of them.
        let pick = randomesque(&[4, 5], 10, &mut rng, |i| scores[i]);
        assert!([4, 5].contains(&pick));
    }

    #[test]
    fn selector_names_round_trip() {
        for kind in [SelectorKind::Mfi, SelectorKind::Kl, SelectorKind::Random] {
            assert_eq!(kind.name().parse::<SelectorKind>(), Ok(kind));
            assert_eq!(kind.build(&Settings::default()).name(), kind.name());
        }
        assert!("maxinfo".parse::<SelectorKind>().is_err());
    }
}
