//! A respondent's indicator scores, from their item scores: the one
//! definition the weakest-indicators section rests on, whether the scores are
//! summed from an answers file ([`crate::indicators`]) or by a server at each
//! submit (into [`crate::UnitSums::indicators`]).
//!
//! Each item score is taken as a percentage of the item's score range (as
//! its domain plugin describes it), so items of different kinds compare. A
//! respondent's indicator score is the weighted mean of their answered items
//! of the indicator ("don't know" counts as answered with the score its kind
//! gives it; skipped, not applicable and invalid cells are missing).

use ikd_core::instrument::Instrument;
use ikd_core::pipeline::{ItemScores, Scorer};

/// Where an item's score goes: its indicator and its score range.
#[derive(Clone, Copy, Debug)]
struct ItemMap {
    /// Index into the flat list of indicators.
    indicator: usize,
    min: f64,
    max: f64,
    weight: f64,
}

/// Turns one respondent's item scores into a score (0–100) per indicator.
#[derive(Clone, Debug)]
pub struct IndicatorScorer {
    /// (domain code, indicator code), instrument order.
    indicators: Vec<(String, String)>,
    /// Per instrument item; `None` for an item without a usable score range.
    items: Vec<Option<ItemMap>>,
}

impl IndicatorScorer {
    /// With the item score ranges the scorer's domain plugins describe.
    pub fn new(scorer: &Scorer) -> Self {
        let ranges: Vec<(f64, f64)> = scorer
            .item_layout()
            .iter()
            .map(|l| (l.score_min, l.score_max))
            .collect();
        Self::with_ranges(scorer.instrument(), &ranges)
    }

    /// With each item's score range (instrument item order). An item without
    /// a finite, non-empty range or with no weight counts for no indicator.
    pub fn with_ranges(instrument: &Instrument, ranges: &[(f64, f64)]) -> Self {
        let indicators = indicator_codes(instrument);
        let items = instrument
            .items
            .iter()
            .enumerate()
            .map(|(k, item)| {
                let (min, max) = ranges.get(k).copied()?;
                let usable = min.is_finite() && max.is_finite() && max > min && item.weight > 0.0;
                let indicator = indicators
                    .iter()
                    .position(|(d, i)| *d == item.domain && *i == item.indicator)?;
                usable.then_some(ItemMap {
                    indicator,
                    min,
                    max,
                    weight: item.weight,
                })
            })
            .collect();
        IndicatorScorer { indicators, items }
    }

    /// The (domain code, indicator code) of each score [`Self::scores`]
    /// gives, in instrument order.
    pub fn indicators(&self) -> &[(String, String)] {
        &self.indicators
    }

    /// The indicator scores of respondent `respondent` of a scored batch, one
    /// per indicator in [`Self::indicators`] order; `None` where the
    /// respondent answered no item of the indicator.
    ///
    /// # Panics
    ///
    /// When `respondent` is not a respondent of the batch.
    pub fn scores(&self, item_scores: &ItemScores, respondent: usize) -> Vec<Option<f64>> {
        let m = item_scores.items;
        let cells = respondent * m..(respondent + 1) * m;
        let scores = &item_scores.scores[cells.clone()];
        let status = &item_scores.status[cells];
        // Per indicator: Σ weight·percentage and Σ weight.
        let mut sums = vec![(0.0, 0.0); self.indicators.len()];
        for ((map, &score), &status) in self.items.iter().zip(scores).zip(status) {
            let Some(map) = map else { continue };
            if !ItemScores::is_observed(status) || !score.is_finite() {
                continue;
            }
            let percent = ((score - map.min) / (map.max - map.min)).clamp(0.0, 1.0) * 100.0;
            let slot = &mut sums[map.indicator];
            slot.0 += map.weight * percent;
            slot.1 += map.weight;
        }
        sums.into_iter()
            .map(|(weighted, weight)| (weight > 0.0).then(|| weighted / weight))
            .collect()
    }
}

/// (domain code, indicator code) of every indicator, in instrument order: the
/// order of indicator scores and sums everywhere in this crate.
pub(crate) fn indicator_codes(instrument: &Instrument) -> Vec<(String, String)> {
    instrument
        .domains
        .iter()
        .flat_map(|d| {
            d.indicators
                .iter()
                .map(|i| (d.code.clone(), i.code.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::instrument;

    #[test]
    fn one_respondents_indicator_scores_by_hand() {
        let instrument = instrument();
        // A1 on 1–5, A2 on 0–10, B1 on 1–5.
        let scorer =
            IndicatorScorer::with_ranges(&instrument, &[(1.0, 5.0), (0.0, 10.0), (1.0, 5.0)]);
        assert_eq!(
            scorer.indicators(),
            [("alpha", "a1"), ("alpha", "a2"), ("beta", "b1")].map(|(d, i)| (d.into(), i.into()))
        );
        let batch = ItemScores {
            respondents: 2,
            items: 3,
            // Respondent 0: A1 = 4 → 75%, A2 = 10 → 100%, B1 skipped.
            // Respondent 1: A1 invalid, A2 "don't know" scored 2 → 20%, B1 = 1 → 0%.
            scores: vec![4.0, 10.0, f64::NAN, 5.0, 2.0, 1.0],
            status: vec![0, 0, 1, 3, 4, 0],
        };
        assert_eq!(scorer.scores(&batch, 0), [Some(75.0), Some(100.0), None]);
        assert_eq!(scorer.scores(&batch, 1), [None, Some(20.0), Some(0.0)]);
    }

    #[test]
    fn items_of_one_indicator_are_weighted() {
        let mut instrument = instrument();
        // A2 joins A1's indicator with three times its weight.
        instrument.items[1].indicator = "a1".into();
        instrument.items[1].weight = 3.0;
        let scorer =
            IndicatorScorer::with_ranges(&instrument, &[(1.0, 5.0), (0.0, 10.0), (1.0, 5.0)]);
        let batch = |a2_status| ItemScores {
            respondents: 1,
            items: 3,
            scores: vec![4.0, 10.0, 5.0],
            status: vec![0, a2_status, 0],
        };
        // (1 · 75 + 3 · 100) / 4 = 93.75; a2 has no item left.
        assert_eq!(
            scorer.scores(&batch(0), 0),
            [Some(93.75), None, Some(100.0)]
        );
        // A2 not applicable: A1 alone.
        assert_eq!(scorer.scores(&batch(2), 0), [Some(75.0), None, Some(100.0)]);
    }
}
