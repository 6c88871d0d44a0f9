//! Indicator means of a unit, from item scores: results hold domain scores
//! only, so the weakest indicators need the answers scored item by item
//! (`Scorer::item_scores`) and turned into indicator scores
//! ([`IndicatorScorer`], which defines them). The indicator mean is the mean
//! of those over respondents.
//!
//! [`IndicatorAccumulator`] sums them for one prefix; [`IndicatorSumsByUnit`]
//! per unit, for [`UnitSums`](crate::UnitSums), from which a report adds up any prefix.

use crate::indicator_scorer::IndicatorScorer;
use crate::org_unit::unit_within;
use crate::stats::Moments;
use crate::unit_sums::IndicatorSums;
use ikd_core::instrument::Instrument;
use ikd_core::pipeline::{ItemScores, Scorer};
use std::collections::BTreeMap;

/// Indicator means of the units under one prefix.
#[derive(Clone, Debug, PartialEq)]
pub struct IndicatorMeans {
    /// The prefix the means were computed for.
    pub org_prefix: String,
    /// Respondents under the prefix whose answers were read.
    pub respondents: u64,
    /// One per instrument indicator, in instrument order.
    pub indicators: Vec<IndicatorMean>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IndicatorMean {
    pub domain: String,
    pub indicator: String,
    /// Respondents with at least one answered item of the indicator.
    pub n: u64,
    /// Mean percentage of the item maximum (0–100); `None` when n is 0.
    pub mean: Option<f64>,
    pub sd: f64,
}

/// Respondents whose answers were read and the moments of their indicator
/// scores, one per indicator in instrument order: what a prefix's and a
/// unit's indicator sums both are.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct IndicatorTotals {
    pub respondents: u64,
    pub scores: Vec<Moments>,
}

impl IndicatorTotals {
    pub fn new(indicators: usize) -> Self {
        IndicatorTotals {
            respondents: 0,
            scores: vec![Moments::default(); indicators],
        }
    }

    /// Adds one respondent's indicator scores ([`IndicatorScorer::scores`]).
    fn add(&mut self, scores: &[Option<f64>]) {
        self.respondents += 1;
        for (sum, score) in self.scores.iter_mut().zip(scores) {
            sum.add_opt(*score);
        }
    }

    pub fn merge(&mut self, other: &IndicatorTotals) {
        self.respondents += other.respondents;
        for (sum, other) in self.scores.iter_mut().zip(&other.scores) {
            sum.merge(other);
        }
    }

    /// The means of the respondents under `org_prefix`; `codes` are the
    /// indicators' (domain, indicator) codes.
    pub fn means(&self, org_prefix: &str, codes: &[(String, String)]) -> IndicatorMeans {
        IndicatorMeans {
            org_prefix: org_prefix.to_owned(),
            respondents: self.respondents,
            indicators: codes
                .iter()
                .zip(&self.scores)
                .map(|((domain, indicator), sums)| {
                    let estimate = sums.estimate();
                    IndicatorMean {
                        domain: domain.clone(),
                        indicator: indicator.clone(),
                        n: sums.n,
                        mean: estimate.map(|e| e.mean),
                        sd: estimate.map_or(0.0, |e| e.sd),
                    }
                })
                .collect(),
        }
    }

    /// By code, leaving out indicators no respondent has a score for.
    fn by_code(&self, codes: &[(String, String)]) -> IndicatorSums {
        IndicatorSums {
            respondents: self.respondents,
            scores: codes
                .iter()
                .zip(&self.scores)
                .filter(|(_, sums)| sums.n > 0)
                .map(|(code, sums)| (code.clone(), *sums))
                .collect(),
        }
    }
}

/// Collects the indicator scores of the respondents under one prefix, batch
/// by batch (memory does not grow with the number of respondents).
pub struct IndicatorAccumulator {
    org_prefix: String,
    scorer: IndicatorScorer,
    totals: IndicatorTotals,
}

impl IndicatorAccumulator {
    /// For the respondents under `org_prefix`, with the item score ranges the
    /// scorer's domain plugins describe.
    pub fn new(scorer: &Scorer, org_prefix: &str) -> Self {
        Self::with_scorer(IndicatorScorer::new(scorer), org_prefix)
    }

    /// For the respondents under `org_prefix`, with each item's score range
    /// (instrument item order).
    pub fn with_ranges(instrument: &Instrument, ranges: &[(f64, f64)], org_prefix: &str) -> Self {
        Self::with_scorer(IndicatorScorer::with_ranges(instrument, ranges), org_prefix)
    }

    fn with_scorer(scorer: IndicatorScorer, org_prefix: &str) -> Self {
        IndicatorAccumulator {
            org_prefix: org_prefix.to_owned(),
            totals: IndicatorTotals::new(scorer.indicators().len()),
            scorer,
        }
    }

    /// Adds a scored batch; `org_units` are the batch's units (`AnswerRows::org_units`).
    pub fn add(&mut self, org_units: &[String], scores: &ItemScores) {
        for (r, unit) in org_units.iter().enumerate().take(scores.respondents) {
            if unit_within(&self.org_prefix, unit) {
                self.totals.add(&self.scorer.scores(scores, r));
            }
        }
    }

    pub fn finish(self) -> IndicatorMeans {
        self.totals
            .means(&self.org_prefix, self.scorer.indicators())
    }
}

/// Collects indicator scores per organisation unit, batch by batch: the
/// indicator sums of [`UnitSums`](crate::UnitSums) from an answers file.
pub struct IndicatorSumsByUnit {
    scorer: IndicatorScorer,
    units: BTreeMap<String, IndicatorTotals>,
}

impl IndicatorSumsByUnit {
    pub fn new(scorer: IndicatorScorer) -> Self {
        IndicatorSumsByUnit {
            scorer,
            units: BTreeMap::new(),
        }
    }

    /// Adds a scored batch; `org_units` are the batch's units (`AnswerRows::org_units`).
    pub fn add(&mut self, org_units: &[String], scores: &ItemScores) {
        let indicators = self.scorer.indicators().len();
        for (r, unit) in org_units.iter().enumerate().take(scores.respondents) {
            let totals = match self.units.get_mut(unit) {
                Some(totals) => totals,
                None => self
                    .units
                    .entry(unit.clone())
                    .or_insert_with(|| IndicatorTotals::new(indicators)),
            };
            totals.add(&self.scorer.scores(scores, r));
        }
    }

    /// Each unit's sums, by unit.
    pub fn finish(self) -> BTreeMap<String, IndicatorSums> {
        let codes = self.scorer.indicators();
        self.units
            .iter()
            .map(|(unit, totals)| (unit.clone(), totals.by_code(codes)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UnitSums;
    use crate::testing::instrument;
    use crate::unit_sums::{indicator_means_within, unit_groups};

    /// Items A1 (alpha/a1), A2 (alpha/a2), B1 (beta/b1), all scored 1–5 here.
    fn batch(rows: &[[(f64, u8); 3]]) -> ItemScores {
        ItemScores {
            respondents: rows.len(),
            items: 3,
            scores: rows.iter().flatten().map(|c| c.0).collect(),
            status: rows.iter().flatten().map(|c| c.1).collect(),
        }
    }

    #[test]
    fn means_are_percentages_of_the_item_range_by_hand() {
        let instrument = instrument();
        let mut acc = IndicatorAccumulator::with_ranges(&instrument, &[(1.0, 5.0); 3], "36.72");
        let units: Vec<String> = ["36.72/a", "36.72.01", "36.721", "36.72"]
            .map(String::from)
            .to_vec();
        acc.add(
            &units,
            &batch(&[
                // A1 = 5 → 100%, A2 = 3 → 50%, B1 skipped.
                [(5.0, 0), (3.0, 0), (f64::NAN, 1)],
                // A1 = 1 → 0%, A2 "don't know" scored 1 → 0%, B1 = 4 → 75%.
                [(1.0, 0), (1.0, 4), (4.0, 0)],
                // Outside the prefix: ignored.
                [(5.0, 0), (5.0, 0), (5.0, 0)],
                // A1 invalid, A2 = 2 → 25%, B1 not applicable.
                [(2.0, 3), (2.0, 0), (f64::NAN, 2)],
            ]),
        );
        let means = acc.finish();
        assert_eq!(means.respondents, 3);
        let get = |code: &str| {
            means
                .indicators
                .iter()
                .find(|i| i.indicator == code)
                .unwrap()
        };
        // a1: 100, 0 → 50 (n 2); a2: 50, 0, 25 → 25 (n 3); b1: 75 (n 1).
        assert_eq!((get("a1").n, get("a1").mean), (2, Some(50.0)));
        assert_eq!((get("a2").n, get("a2").mean), (3, Some(25.0)));
        assert_eq!((get("b1").n, get("b1").mean), (1, Some(75.0)));
        assert_eq!(get("b1").domain, "beta");
    }

    #[test]
    fn sums_by_unit_by_hand_add_up_to_the_means_of_the_prefix() {
        let instrument = instrument();
        let units: Vec<String> = ["36.72/a", "36.72/a", "36.721", "36.72"]
            .map(String::from)
            .to_vec();
        let scores = batch(&[
            // a1 100%, a2 50%, b1 skipped.
            [(5.0, 0), (3.0, 0), (f64::NAN, 1)],
            // a1 0%, a2 0% ("don't know" scored 1), b1 75%.
            [(1.0, 0), (1.0, 4), (4.0, 0)],
            // Outside 36.72.
            [(5.0, 0), (5.0, 0), (5.0, 0)],
            // a1 invalid, a2 25%, b1 not applicable.
            [(2.0, 3), (2.0, 0), (f64::NAN, 2)],
        ]);
        let ranges = [(1.0, 5.0); 3];
        let mut by_unit =
            IndicatorSumsByUnit::new(IndicatorScorer::with_ranges(&instrument, &ranges));
        by_unit.add(&units, &scores);
        let by_unit = by_unit.finish();
        let moments = |n, sum, sum_sq| Moments { n, sum, sum_sq };
        let code = |d: &str, i: &str| (d.to_owned(), i.to_owned());
        assert_eq!(
            by_unit["36.72/a"],
            IndicatorSums {
                respondents: 2,
                scores: BTreeMap::from([
                    (code("alpha", "a1"), moments(2, 100.0, 10_000.0)),
                    (code("alpha", "a2"), moments(2, 50.0, 2500.0)),
                    (code("beta", "b1"), moments(1, 75.0, 5625.0)),
                ]),
            }
        );
        // A respondent without any indicator score is still a respondent.
        assert_eq!(by_unit["36.72"].respondents, 1);
        assert_eq!(
            by_unit["36.72"].scores.keys().collect::<Vec<_>>(),
            [&code("alpha", "a2")]
        );
        // The units under 36.72 add up to what the prefix's accumulator gives.
        let mut units_sums: Vec<UnitSums> = Vec::new();
        UnitSums::join_indicators(&mut units_sums, by_unit);
        let groups = unit_groups(&instrument, &units_sums).unwrap();
        let mut prefix = IndicatorAccumulator::with_ranges(&instrument, &ranges, "36.72");
        prefix.add(&units, &scores);
        assert_eq!(
            indicator_means_within(&instrument, &groups, "36.72"),
            Some(prefix.finish())
        );
    }

    #[test]
    fn items_without_a_range_are_left_out() {
        let instrument = instrument();
        let ranges = [(1.0, 5.0), (f64::NAN, f64::NAN), (3.0, 3.0)];
        let mut acc = IndicatorAccumulator::with_ranges(&instrument, &ranges, "");
        acc.add(&["x".into()], &batch(&[[(3.0, 0), (3.0, 0), (3.0, 0)]]));
        let means = acc.finish();
        assert_eq!(means.indicators[0].mean, Some(50.0));
        assert_eq!(means.indicators[1].n, 0);
        assert_eq!(means.indicators[1].mean, None);
        assert_eq!(means.indicators[2].n, 0);
    }
}
