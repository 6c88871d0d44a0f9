//! # ikd-scoring-weighted-index
//!
//! The classical **weighted index** as an IKD scoring-model plugin (`weighted-index`):
//! item scores → indicator scores → domain scores on 0–100 → composite index on 0–100,
//! each with a level band. It is the model of the Indonesian index conventions (a
//! weighted mean of weighted means); it has no measurement model and so no standard
//! errors.
//!
//! ## The arithmetic
//!
//! Notation for one respondent: item *i* has score *xᵢ* (already keyed by the domain
//! plugin: a reverse-keyed Likert item arrives as `(min + max) − answer`), status *sᵢ*,
//! weight *wᵢ* and score range `[minᵢ, maxᵢ]` from [`ModelConfig::items`].
//!
//! 1. **Status.** `ANSWERED` (0) and `DONT_KNOW` (4) count as *answered*; a don't-know
//!    is scored with the *xᵢ* it carries (usually the minimum). `SKIPPED` (1) and
//!    `INVALID` (3) are *applicable but not answered*. `NOT_APPLICABLE` (2) is neither:
//!    the item is left out of the domain's item count. The score of a cell that is not
//!    answered is never read (it is usually NaN).
//! 2. **Item.** `yᵢ = (xᵢ − minᵢ) / (maxᵢ − minᵢ)`, on 0–1. Example: Likert 1..5,
//!    score 4 → (4 − 1)/4 = 0.75.
//! 3. **Indicator.** `I = Σ wᵢ·yᵢ / Σ wᵢ` over the *answered* items of the indicator.
//!    An indicator without an answered item is *absent* (left out, not 0).
//!    Example: weights 2 and 1, yᵢ = 1.0 and 0.25 → (2·1.0 + 1·0.25)/3 = 0.75.
//! 4. **Domain.** With *n* = applicable items (answered + skipped + invalid) and *a* =
//!    answered items, the domain is **scored** when
//!    `n > 0` and `a > 0` and `a ≥ min_answered` and `a ≥ ⌈min_answered_fraction · n⌉`
//!    (the product is rounded up after subtracting 1e-9, so that 0.7 · 10 needs 7 and
//!    not 8 because of binary rounding). Then
//!    `D = 100 · Σ v_k·I_k / Σ v_k` over the *present* indicators *k* with indicator
//!    weights *v_k* (renormalised over the present ones). Otherwise the domain is
//!    **missing**: score NaN (never 0) and level −1. `domain_answered` = *a* (don't-know
//!    included) is reported for every domain, missing or not.
//! 5. **Composite.** With *S* the set of scored domains and domain weights *u_d*:
//!    when `|S| ≥ max(min_domains, 1)`, `index = Σ_{d∈S} u_d·D_d / Σ_{d∈S} u_d`
//!    (weights renormalised over the scored domains; e.g. weights 0.7/0.3 and domain
//!    scores 80/50 → 0.7·80 + 0.3·50 = 71); otherwise the index is NaN and its level −1.
//!    `min_domains = 0` behaves as 1: a composite of no domain does not exist.
//! 6. **Levels.** [`band_of`] on every domain score and on the index: bands are
//!    `[min, max)` except the last, which includes its `max`, so a score exactly on a
//!    cut point belongs to the higher band and 100 to the top band.
//! 7. **Standard errors.** The weighted index has none: `domain_se` (respondents ×
//!    domains) and `index_se` (respondents) are filled with NaN.
//!
//! Scores are reported on 0–100, the reporting scale of this model. A `reporting`
//! entry in the model settings is accepted and ignored for now; every other setting is
//! refused (the model has no settings yet).
//!
//! ## Checks
//!
//! [`WeightedIndex::new`] checks the whole configuration once and reports every problem
//! as a [`Violation`] naming the item (or domain, or band) and the field at fault.
//! [`WeightedIndex::score`] checks the array lengths against `respondents × items` and
//! refuses cells it cannot score honestly: an unknown status, or an answered cell whose
//! score is not a finite number within the item's range.
//!
//! ## Performance
//!
//! `new` precomputes everything per item (column, weight, minimum, `1/(max − min)`),
//! grouped by indicator and indicators by domain, and per domain the number of answers
//! needed for each possible count of applicable items. `score` makes one pass over each
//! respondent's row: an indicator's sums and a domain's counts are local variables,
//! statuses are classified by a small table and mixed into the sums with bit masks
//! instead of branches, nothing is allocated per respondent, and the outputs are
//! allocated once per batch.

use ikd_plugin_sdk::{
    Band, CellErrors, ModelConfig, PluginError, ScoreInput, ScoreOutput, ScoringModel, Violation,
    band_of, layout, status,
};

ikd_plugin_sdk::export_scoring_model!(WeightedIndex);

/// What a status means for the counts, by status value (5 = any unknown value).
const ANSWERED_BIT: u32 = 1;
const APPLICABLE_BIT: u32 = 2;
const UNKNOWN_BIT: u32 = 4;
const STATUS_CLASS: [u32; 6] = {
    let mut class = [0; 6];
    class[status::ANSWERED as usize] = ANSWERED_BIT | APPLICABLE_BIT;
    class[status::DONT_KNOW as usize] = ANSWERED_BIT | APPLICABLE_BIT;
    class[status::SKIPPED as usize] = APPLICABLE_BIT;
    class[status::INVALID as usize] = APPLICABLE_BIT;
    class[status::NOT_APPLICABLE as usize] = 0;
    class[5] = UNKNOWN_BIT;
    class
};

/// Settings keys the model accepts (and, for now, ignores).
const KNOWN_SETTINGS: &[&str] = &["reporting"];

/// Scores are reported on 0–100.
const SCALE: f64 = 100.0;

/// Tolerance, relative to an item's score range, for scores just outside it
/// (floating-point noise of a domain plugin's arithmetic).
const RANGE_TOLERANCE: f64 = 1e-9;
/// A normalised score `z` is in range when `|z − ½| ≤ HALF_RANGE`.
const HALF_RANGE: f64 = 0.5 + RANGE_TOLERANCE;

/// Whether a normalised score lies in [0, 1] (within the tolerance); false for NaN.
#[inline(always)]
fn in_range(z: f64) -> bool {
    (z - 0.5).abs() <= HALF_RANGE
}

/// One item as checked by `new` (instrument order).
#[derive(Clone, Copy, Debug)]
struct ItemPlan {
    domain: usize,
    /// Index into the flat list of all indicators of all domains.
    indicator: usize,
    weight: f64,
    min: f64,
    max: f64,
}

/// What the scoring loop needs of one item. Slots are stored grouped by
/// indicator, so an indicator's sums stay in registers.
#[derive(Clone, Copy, Debug)]
struct ItemSlot {
    /// Column of the item in a respondent's row.
    column: usize,
    weight: f64,
    min: f64,
    inv_range: f64,
}

#[derive(Clone, Copy, Debug)]
struct IndicatorPlan {
    weight: f64,
    /// The indicator's items are `slots[first_slot..end_slot]`.
    first_slot: usize,
    end_slot: usize,
}

#[derive(Clone, Debug)]
struct DomainPlan {
    weight: f64,
    /// The domain's indicators are `indicators[first_indicator..end_indicator]`.
    first_indicator: usize,
    end_indicator: usize,
    /// `required[n]`: answers needed for a score when `n` items are applicable.
    required: Vec<u32>,
}

/// The classical weighted index (see the crate documentation for the arithmetic).
#[derive(Clone, Debug)]
pub struct WeightedIndex {
    /// Per item, in instrument (column) order: for messages and checks.
    items: Vec<ItemPlan>,
    item_ids: Vec<String>,
    /// Items grouped by indicator, indicators grouped by domain.
    slots: Vec<ItemSlot>,
    indicators: Vec<IndicatorPlan>,
    domains: Vec<DomainPlan>,
    bands: Vec<Band>,
    /// Scored domains needed for a composite (at least 1).
    min_domains: usize,
}

impl ScoringModel for WeightedIndex {
    const NAME: &'static str = "weighted-index";
    const DESCRIPTION: &'static str = "Classical weighted index on 0–100";

    fn new(config: &ModelConfig) -> Result<Self, PluginError> {
        let mut violations = Vec::new();
        check_settings(&config.settings_json, &mut violations);
        layout::check_bands(&config.bands, &mut violations);
        layout::check_domains(config, &mut violations);
        check_indicators(config, &mut violations);
        let items = plan_items(config, &mut violations);
        if !violations.is_empty() {
            return Err(PluginError::invalid(
                format!(
                    "weighted-index: the model configuration of instrument '{}' has {} error(s)",
                    config.instrument_id,
                    violations.len()
                ),
                violations,
            ));
        }

        let mut slots = Vec::with_capacity(items.len());
        let mut indicators = Vec::new();
        let mut domains = Vec::with_capacity(config.domains.len());
        for (d, domain) in config.domains.iter().enumerate() {
            let first_indicator = indicators.len();
            for ind in &domain.indicators {
                let k = indicators.len();
                let first_slot = slots.len();
                for (column, item) in items.iter().enumerate() {
                    if item.indicator == k {
                        slots.push(ItemSlot {
                            column,
                            weight: item.weight,
                            min: item.min,
                            inv_range: 1.0 / (item.max - item.min),
                        });
                    }
                }
                indicators.push(IndicatorPlan {
                    weight: ind.weight,
                    first_slot,
                    end_slot: slots.len(),
                });
            }
            let n_items = items.iter().filter(|it| it.domain == d).count();
            let required = layout::answers_needed(domain, n_items);
            domains.push(DomainPlan {
                weight: domain.weight,
                first_indicator,
                end_indicator: indicators.len(),
                required,
            });
        }

        Ok(WeightedIndex {
            items,
            item_ids: config.items.iter().map(|it| it.id.clone()).collect(),
            slots,
            indicators,
            domains,
            bands: config.bands.clone(),
            min_domains: (config.min_domains as usize).max(1),
        })
    }

    fn score(&self, request: &ScoreInput) -> Result<ScoreOutput, PluginError> {
        let n_items = self.items.len();
        let n_domains = self.domains.len();
        let respondents = request.respondents as usize;
        let cells = respondents.checked_mul(n_items).ok_or_else(|| {
            PluginError::msg(format!(
                "weighted-index: respondents ({respondents}) × items ({n_items}) overflows"
            ))
        })?;
        for (field, len) in [
            ("item_scores", request.item_scores.len()),
            ("item_status", request.item_status.len()),
        ] {
            if len != cells {
                return Err(PluginError::invalid(
                    format!(
                        "weighted-index: {field} has {len} values, expected respondents ({respondents}) × items ({n_items}) = {cells}"
                    ),
                    vec![Violation {
                        item: String::new(),
                        field: field.to_owned(),
                        message: format!("{len} values, expected {cells}"),
                        respondent: -1,
                    }],
                ));
            }
        }

        let dcells = respondents * n_domains;
        let mut domain_scores = vec![f64::NAN; dcells];
        let mut domain_answered = vec![0u32; dcells];
        let mut domain_levels = vec![-1i32; dcells];
        let mut index = vec![f64::NAN; respondents];
        let mut index_levels = vec![-1i32; respondents];
        let mut errors = CellErrors::default();

        if n_items > 0 && n_domains > 0 {
            let rows = request
                .item_scores
                .chunks_exact(n_items)
                .zip(request.item_status.chunks_exact(n_items))
                .zip(domain_scores.chunks_exact_mut(n_domains))
                .zip(domain_answered.chunks_exact_mut(n_domains))
                .zip(domain_levels.chunks_exact_mut(n_domains))
                .zip(index.iter_mut().zip(index_levels.iter_mut()));
            for (r, (((((scores, statuses), ds), da), dl), (ix, il))) in rows.enumerate() {
                let mut bad = false;
                let mut composite = 0.0;
                let mut composite_weight = 0.0;
                let mut scored = 0usize;
                for (d, plan) in self.domains.iter().enumerate() {
                    let mut answered = 0u32;
                    let mut applicable = 0u32;
                    let mut sum = 0.0;
                    let mut weight = 0.0;
                    for ind in &self.indicators[plan.first_indicator..plan.end_indicator] {
                        let mut ind_sum = 0.0;
                        let mut ind_weight = 0.0;
                        for slot in &self.slots[ind.first_slot..ind.end_slot] {
                            let class = STATUS_CLASS[statuses[slot.column].min(5) as usize];
                            let is_answered = class & ANSWERED_BIT != 0;
                            let z = (scores[slot.column] - slot.min) * slot.inv_range;
                            let in_range = in_range(z);
                            bad |= (class & UNKNOWN_BIT != 0) | (is_answered & !in_range);
                            // Masks, not branches (statuses mix unpredictably): a cell
                            // that is not answered adds +0.0, whatever its score (often NaN).
                            let mask = u64::from(is_answered).wrapping_neg();
                            let y = z.clamp(0.0, 1.0);
                            ind_sum += f64::from_bits((slot.weight * y).to_bits() & mask);
                            ind_weight += f64::from_bits(slot.weight.to_bits() & mask);
                            answered += class & ANSWERED_BIT;
                            applicable += (class & APPLICABLE_BIT) >> 1;
                        }
                        if ind_weight > 0.0 {
                            sum += ind.weight * (ind_sum / ind_weight);
                            weight += ind.weight;
                        }
                    }
                    da[d] = answered;
                    if applicable == 0
                        || answered == 0
                        || answered < plan.required[applicable as usize]
                    {
                        continue;
                    }
                    let score = SCALE * sum / weight;
                    ds[d] = score;
                    dl[d] = band_of(&self.bands, score);
                    composite += plan.weight * score;
                    composite_weight += plan.weight;
                    scored += 1;
                }
                if scored >= self.min_domains {
                    let value = composite / composite_weight;
                    *ix = value;
                    *il = band_of(&self.bands, value);
                }
                if bad {
                    self.report_cells(r, scores, statuses, &mut errors);
                }
            }
        }

        if let Some(err) = errors.into_error("weighted-index") {
            return Err(err);
        }

        Ok(ScoreOutput {
            respondents: request.respondents,
            domains: n_domains as u32,
            domain_scores,
            domain_se: vec![f64::NAN; dcells],
            domain_answered,
            domain_levels,
            index,
            index_se: vec![f64::NAN; respondents],
            index_levels,
        })
    }
}

impl WeightedIndex {
    /// Names the cells of one row that cannot be scored (the slow path, taken
    /// only for a row the scoring loop found at fault).
    #[cold]
    #[inline(never)]
    fn report_cells(&self, r: usize, scores: &[f64], statuses: &[u8], errors: &mut CellErrors) {
        for (i, ((plan, &x), &st)) in self.items.iter().zip(scores).zip(statuses).enumerate() {
            match st {
                status::ANSWERED | status::DONT_KNOW => {
                    let z = (x - plan.min) / (plan.max - plan.min);
                    if !in_range(z) {
                        errors.score_out_of_range(r, &self.item_ids[i], x, plan.min, plan.max);
                    }
                }
                status::SKIPPED | status::INVALID | status::NOT_APPLICABLE => {}
                other => errors.unknown_status(r, &self.item_ids[i], other),
            }
        }
    }
}

fn violation(item: &str, field: &str, message: impl Into<String>) -> Violation {
    Violation::item(item, field, message)
}

fn check_settings(json: &str, violations: &mut Vec<Violation>) {
    if json.trim().is_empty() {
        return;
    }
    let value: serde_json::Value = match serde_json::from_str(json) {
        Ok(v) => v,
        Err(e) => {
            violations.push(violation(
                "",
                "settings",
                format!("the model settings are not valid JSON: {e}"),
            ));
            return;
        }
    };
    match value {
        serde_json::Value::Null => {}
        serde_json::Value::Object(map) => {
            for key in map.keys() {
                if !KNOWN_SETTINGS.contains(&key.as_str()) {
                    violations.push(violation(
                        "",
                        &format!("settings.{key}"),
                        format!(
                            "unknown setting '{key}': the weighted-index model has no settings \
                             ('reporting' is accepted and ignored: scores are reported on 0–100)"
                        ),
                    ));
                }
            }
        }
        other => violations.push(violation(
            "",
            "settings",
            format!("the model settings must be a table (JSON object), not {other}"),
        )),
    }
}

/// Indicators: the weighted index averages items within indicators, so every
/// indicator needs a positive weight and at least one item.
fn check_indicators(config: &ModelConfig, violations: &mut Vec<Violation>) {
    for (d, domain) in config.domains.iter().enumerate() {
        let name = if domain.code.is_empty() {
            format!("domains[{d}]")
        } else {
            domain.code.clone()
        };
        if domain.indicators.is_empty() {
            violations.push(violation(
                &name,
                "indicators",
                "the domain has no indicators",
            ));
        }
        for (k, ind) in domain.indicators.iter().enumerate() {
            if !layout::is_positive_weight(ind.weight) {
                violations.push(violation(
                    &name,
                    &format!("indicators[{k}].weight"),
                    format!(
                        "indicator '{}': weight must be a finite number above 0, not {}",
                        ind.code, ind.weight
                    ),
                ));
            }
            let has_items = config
                .items
                .iter()
                .any(|it| it.domain as usize == d && it.indicator as usize == k);
            if !has_items {
                violations.push(violation(
                    &name,
                    &format!("indicators[{k}]"),
                    format!("indicator '{}' has no items", ind.code),
                ));
            }
        }
    }
}

fn plan_items(config: &ModelConfig, violations: &mut Vec<Violation>) -> Vec<ItemPlan> {
    if config.items.is_empty() {
        violations.push(violation("", "items", "the instrument has no items"));
    }
    let mut first_indicator = Vec::with_capacity(config.domains.len());
    let mut total = 0usize;
    for domain in &config.domains {
        first_indicator.push(total);
        total += domain.indicators.len();
    }
    let mut seen = std::collections::HashSet::with_capacity(config.items.len());
    let mut plans = Vec::with_capacity(config.items.len());
    for (i, item) in config.items.iter().enumerate() {
        let id = if item.id.is_empty() {
            format!("items[{i}]")
        } else {
            item.id.clone()
        };
        let before = violations.len();
        if !seen.insert(item.id.as_str()) {
            violations.push(violation(&id, "id", "duplicate item id"));
        }
        let d = item.domain as usize;
        let k = item.indicator as usize;
        match config.domains.get(d) {
            None => violations.push(violation(
                &id,
                "domain",
                format!(
                    "domain index {d} is out of range (the instrument has {} domains)",
                    config.domains.len()
                ),
            )),
            Some(domain) if k >= domain.indicators.len() => violations.push(violation(
                &id,
                "indicator",
                format!(
                    "indicator index {k} is out of range (domain '{}' has {} indicators)",
                    domain.code,
                    domain.indicators.len()
                ),
            )),
            Some(_) => {}
        }
        if !layout::is_positive_weight(item.weight) {
            violations.push(violation(
                &id,
                "weight",
                format!(
                    "item weight must be a finite number above 0, not {}",
                    item.weight
                ),
            ));
        }
        let (min, max) = (item.score_min, item.score_max);
        if !min.is_finite() || !max.is_finite() {
            violations.push(violation(
                &id,
                "score_min/score_max",
                format!("score range must be finite (score_min {min}, score_max {max})"),
            ));
        } else if max <= min {
            violations.push(violation(
                &id,
                "score_max",
                format!("score_max {max} is not above score_min {min}"),
            ));
        }
        if violations.len() == before {
            plans.push(ItemPlan {
                domain: d,
                indicator: first_indicator[d] + k,
                weight: item.weight,
                min,
                max,
            });
        }
    }
    plans
}
