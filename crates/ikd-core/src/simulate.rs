//! Synthetic respondents for demos, tests and benchmarks.
//!
//! Answers come from a latent-trait model, not uniform noise, so that scores
//! vary the way real ones do: each respondent has a general digital competence
//! θ ~ N(μ_unit, 1) (organisation units differ by μ_unit ~ N(0, 0.3²)), and
//! each domain trait is `0.7·θ + √(1 − 0.49)·ε`. The engine draws the traits;
//! each domain plugin turns a trait into answers for its own item kinds (the
//! engine knows none). A few respondents are made careless on purpose (2 %
//! answer too fast, 1 % give the same answer to every rating item) and 2 % of
//! cells are skipped, so that quality flags and missing-data rules are
//! exercised. Everything is reproducible from the seed.

use crate::answers::{AnswerRows, Respondent};
use crate::host::PluginCallError;
use crate::pipeline::Scorer;
use ikd_plugin_sdk::dense;
use ikd_plugin_sdk::proto::SimulateRequest;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal, StandardNormal};
use std::collections::HashMap;

/// Organisation units of the 2025 pilots (Kemendagri region code / agency).
pub const PILOT_UNITS: &[&str] = &[
    "36.72/diskominfo",
    "36.72/bkpsdm",
    "36.72/dinkes",
    "64.72/diskominfo",
    "64.72/bappeda",
    "64.72/disdukcapil",
    "34.03/diskominfo",
    "34.03/dinsos",
    "34.03/bkpp",
];

/// What to simulate.
#[derive(Clone, Debug)]
pub struct Simulation {
    pub respondents: u64,
    pub seed: u64,
    pub org_units: Vec<String>,
    /// Probability that a cell is left empty.
    pub skip_rate: f64,
}

impl Simulation {
    pub fn new(respondents: u64, seed: u64) -> Self {
        Simulation {
            respondents,
            seed,
            org_units: PILOT_UNITS.iter().map(|s| s.to_string()).collect(),
            skip_rate: 0.02,
        }
    }

    /// Simulates in batches of `batch` respondents, handing each to `sink`.
    pub fn run<E: From<PluginCallError>>(
        &self,
        scorer: &Scorer,
        batch: usize,
        mut sink: impl FnMut(&AnswerRows) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let unit_means: Vec<f64> = self
            .org_units
            .iter()
            .map(|_| 0.3 * rng.sample::<f64, _>(StandardNormal))
            .collect();
        let durations = LogNormal::new(900f64.ln(), 0.35).expect("valid parameters");
        let instrument = scorer.instrument();
        let items = instrument.items.len();
        // A straight-liner gives one answer per scale to every rating item.
        let mut line_scale: Vec<Option<&str>> = vec![None; items];
        for i in crate::quality::rating_items(instrument) {
            line_scale[i] = Some(instrument.items[i].scale.as_deref().unwrap_or(""));
        }
        let domains: Vec<_> = scorer.domain_handles().collect();
        let mut rows = AnswerRows::new(items);
        let mut cells = vec![String::new(); items];
        let mut start = 0u64;
        while start < self.respondents {
            let n = (self.respondents - start).min(batch as u64) as usize;
            let units: Vec<usize> = (0..n)
                .map(|_| rng.random_range(0..self.org_units.len().max(1)))
                .collect();
            let general: Vec<f64> = units
                .iter()
                .map(|&u| {
                    unit_means.get(u).copied().unwrap_or(0.0) + rng.sample::<f64, _>(StandardNormal)
                })
                .collect();
            let mut answers = vec![String::new(); n * items];
            for (handle, item_ids) in &domains {
                let theta = general
                    .iter()
                    .map(|g| 0.7 * g + 0.51f64.sqrt() * rng.sample::<f64, _>(StandardNormal))
                    .collect();
                let batch = handle.simulate(&SimulateRequest {
                    theta,
                    seed: self.seed,
                    first_respondent: start,
                })?;
                let k = item_ids.len();
                let offsets: Vec<u32> = dense::decode(&batch.offsets, n * k + 1, "offsets")
                    .map_err(|e| PluginCallError::Protocol {
                        plugin: handle.plugin().name().to_owned(),
                        detail: e.message,
                    })?;
                for r in 0..n {
                    for (j, &i) in item_ids.iter().enumerate() {
                        let c = r * k + j;
                        let (a, b) = (offsets[c] as usize, offsets[c + 1] as usize);
                        answers[r * items + i] =
                            String::from_utf8_lossy(&batch.answer_data[a..b]).into_owned();
                    }
                }
            }
            rows.clear();
            for r in 0..n {
                let careless: f64 = rng.random();
                let mut duration = durations.sample(&mut rng);
                if careless < 0.02 {
                    duration = rng.random_range(60.0..200.0);
                }
                let straight_liner = (0.02..0.03).contains(&careless);
                let mut line_answers: HashMap<&str, String> = HashMap::new();
                for i in 0..items {
                    let mut cell = std::mem::take(&mut answers[r * items + i]);
                    if straight_liner && let Some(scale) = line_scale[i] {
                        cell = line_answers
                            .entry(scale)
                            .or_insert_with(|| cell.clone())
                            .clone();
                    }
                    if rng.random::<f64>() < self.skip_rate {
                        cell.clear();
                    }
                    cells[i] = cell;
                }
                let id = format!("R{:08}", start + r as u64 + 1);
                let unit = self
                    .org_units
                    .get(units[r])
                    .map(String::as_str)
                    .unwrap_or("");
                let who = Respondent {
                    id: &id,
                    org_unit: unit,
                    duration: Some((duration * 10.0).round() / 10.0),
                    origin: start + r as u64 + 2,
                };
                rows.push(who, cells.iter().map(String::as_str));
            }
            sink(&rows)?;
            start += n as u64;
        }
        Ok(())
    }
}
