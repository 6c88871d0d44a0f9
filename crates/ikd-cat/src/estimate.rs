//! θ and SE per domain after each answer: the `irt` scoring model's own EAP
//! (ikd-irt's [`Scorer`], N(0, 1) prior, equally spaced nodes on [−6, 6]) on
//! the items given so far, so the estimate that steers and stops the test is
//! the score the respondent is reported.

use crate::bank::Bank;
use ikd_irt::{IrtError, Method, Score, Scorer, ScoringOptions, THETA_RANGE};

/// One EAP scorer per domain of a bank.
#[derive(Clone, Debug)]
pub(crate) struct Estimator {
    scorers: Vec<Scorer>,
    prior: Score,
}

impl Estimator {
    /// `quadpts` nodes on [−6, 6], as the `irt` model's `quadpts` setting.
    pub fn new(bank: &Bank, quadpts: usize) -> Result<Self, IrtError> {
        let options = ScoringOptions {
            method: Method::Eap,
            quadpts,
            range: THETA_RANGE,
        };
        let scorers = (0..bank.domains().len())
            .map(|d| Scorer::new(bank.domain_parameters(d).clone(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        let prior = prior_moments(&scorers[0]);
        Ok(Estimator { scorers, prior })
    }

    /// Mean and SD of the prior on the grid: the estimate before any answer
    /// (0 and, on 121 nodes, 1 within 1e−6).
    pub fn prior(&self) -> Score {
        self.prior
    }

    /// EAP θ and SE of `domain` given its response vector ([`ikd_irt::MISSING`]
    /// where not given); the prior when nothing is given.
    pub fn estimate(&self, domain: usize, codes: &[u8]) -> Result<Score, IrtError> {
        let score = self.scorers[domain].score(codes)?;
        Ok(if score.is_missing() {
            self.prior
        } else {
            score
        })
    }
}

fn prior_moments(scorer: &Scorer) -> Score {
    let grid = scorer.grid();
    let nodes = grid.nodes().iter().zip(grid.weights());
    let mean: f64 = nodes.clone().map(|(t, w)| t * w).sum();
    let var: f64 = nodes.map(|(t, w)| (t - mean).powi(2) * w).sum();
    Score {
        theta: mean,
        se: var.sqrt(),
    }
}
