//! Indicator means of a unit, from item scores: results hold domain scores
//! only, so the weakest indicators need the raw answers scored item by item
//! (`Scorer::item_scores`).
//!
//! Each item score is taken as a percentage of the item's score range (as
//! its domain plugin describes it), so items of different kinds compare. A
//! respondent's indicator score is the weighted mean of their answered items
//! of the indicator ("don't know" counts as answered with the score its kind
//! gives it; skipped, not applicable and invalid cells are missing); the
//! indicator mean is the mean of those over respondents.

use crate::org_unit::unit_within;
use crate::stats::Moments;
use ikd_core::instrument::Instrument;
use ikd_core::pipeline::{ItemScores, Scorer};

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

/// Where an item's score goes: its indicator and its score range.
#[derive(Clone, Copy, Debug)]
struct ItemMap {
    /// Index into the flat list of indicators.
    indicator: usize,
    min: f64,
    max: f64,
    weight: f64,
}

/// Collects item scores batch by batch (memory does not grow with the
/// number of respondents).
pub struct IndicatorAccumulator {
    org_prefix: String,
    /// (domain code, indicator code), instrument order.
    indicators: Vec<(String, String)>,
    /// Per instrument item; `None` for an item without a usable score range.
    items: Vec<Option<ItemMap>>,
    sums: Vec<Moments>,
    respondents: u64,
    /// Per indicator: Σ weight·percentage and Σ weight of one respondent.
    scratch: Vec<(f64, f64)>,
}

impl IndicatorAccumulator {
    /// For the respondents under `org_prefix`, with the item score ranges the
    /// scorer's domain plugins describe.
    pub fn new(scorer: &Scorer, org_prefix: &str) -> Self {
        let ranges: Vec<(f64, f64)> = scorer
            .item_layout()
            .iter()
            .map(|l| (l.score_min, l.score_max))
            .collect();
        Self::with_ranges(scorer.instrument(), &ranges, org_prefix)
    }

    /// For the respondents under `org_prefix`, with each item's score range
    /// (instrument item order).
    pub fn with_ranges(instrument: &Instrument, ranges: &[(f64, f64)], org_prefix: &str) -> Self {
        let mut indicators = Vec::new();
        for d in &instrument.domains {
            for i in &d.indicators {
                indicators.push((d.code.clone(), i.code.clone()));
            }
        }
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
        IndicatorAccumulator {
            org_prefix: org_prefix.to_owned(),
            sums: vec![Moments::default(); indicators.len()],
            scratch: vec![(0.0, 0.0); indicators.len()],
            indicators,
            items,
            respondents: 0,
        }
    }

    /// Adds a scored batch; `org_units` are the batch's units (`AnswerRows::org_units`).
    pub fn add(&mut self, org_units: &[String], scores: &ItemScores) {
        let m = scores.items;
        for (r, unit) in org_units.iter().enumerate().take(scores.respondents) {
            if !unit_within(&self.org_prefix, unit) {
                continue;
            }
            self.respondents += 1;
            self.scratch.iter_mut().for_each(|s| *s = (0.0, 0.0));
            for (i, map) in self.items.iter().enumerate().take(m) {
                let Some(map) = map else { continue };
                let (score, status) = (scores.scores[r * m + i], scores.status[r * m + i]);
                if !ItemScores::is_observed(status) || !score.is_finite() {
                    continue;
                }
                let percent = ((score - map.min) / (map.max - map.min)).clamp(0.0, 1.0) * 100.0;
                let slot = &mut self.scratch[map.indicator];
                slot.0 += map.weight * percent;
                slot.1 += map.weight;
            }
            for (sum, &(weighted, weight)) in self.sums.iter_mut().zip(&self.scratch) {
                if weight > 0.0 {
                    sum.add(weighted / weight);
                }
            }
        }
    }

    pub fn finish(self) -> IndicatorMeans {
        IndicatorMeans {
            org_prefix: self.org_prefix,
            respondents: self.respondents,
            indicators: self
                .indicators
                .into_iter()
                .zip(self.sums)
                .map(|((domain, indicator), sums)| {
                    let estimate = sums.estimate();
                    IndicatorMean {
                        domain,
                        indicator,
                        n: sums.n,
                        mean: estimate.map(|e| e.mean),
                        sd: estimate.map_or(0.0, |e| e.sd),
                    }
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::instrument;

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
