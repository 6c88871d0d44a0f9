//! The scoring pipeline: raw answers → domain plugins (item scores) → scoring
//! model (domain scores, index, levels) → domain plugins (feedback), over
//! batches of respondents.

use crate::answers::AnswerRows;
use crate::host::{DomainHandle, LoadedPlugin, ModelHandle, PluginCallError, PluginHost};
use crate::instrument::{Diagnostic, Instrument, InstrumentError, Item, check_plugins};
use crate::quality::QualityCheck;
use crate::results::{self, DomainOutcome, PluginProvenance, Provenance, RespondentResult};
use ikd_plugin_sdk::proto::{
    self as wire, AnswerBatch, DomainConfig, InterpretRequest, ModelConfig,
};
use ikd_plugin_sdk::{ScoreInput, ScoreOutput, dense, status};
use std::path::Path;
use std::sync::Arc;

/// Which model to score with, when not the instrument's own.
#[derive(Clone, Debug, Default)]
pub struct ScorerOptions {
    /// A scoring-model plugin name; `None` uses the instrument's `[scoring] model`.
    pub model: Option<String>,
    /// Settings for that model; `None` uses the instrument's settings: its
    /// `[scoring.settings]` for its own model, `[scoring.alternatives.<model>]`
    /// for another (none when absent).
    pub model_settings: Option<serde_json::Value>,
    /// Who gave `model_settings`; the default is the cautious one, a request.
    pub settings_origin: SettingsOrigin,
}

/// Who gave [`ScorerOptions::model_settings`], which decides whether the files they name
/// are confined to the instrument's directory ([`crate::settings_files`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SettingsOrigin {
    /// A client of a server: the settings may only name files inside the instrument's
    /// directory, else [`SetupError::SettingOutside`] before any plugin sees them.
    #[default]
    Request,
    /// The operator (the command line): any file the operator can read.
    Operator,
}

/// Why an instrument cannot be scored with the loaded plugins.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Instrument(#[from] InstrumentError),
    #[error("scoring model '{model}': {reason}")]
    Model { model: String, reason: String },
    #[error(transparent)]
    Plugin(#[from] PluginCallError),
    /// Request settings that name a file outside the instrument's directory.
    #[error("model settings: {0}")]
    SettingOutside(#[from] crate::settings_files::OutsideFile),
}

/// One invalid answer: which respondent (by position in the batch), which item, why.
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerViolation {
    pub respondent: usize,
    pub item: String,
    pub message: String,
}

/// Why a batch could not be scored.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ScoreError {
    #[error("{} invalid answer(s)", .0.len())]
    InvalidAnswers(Vec<AnswerViolation>),
    #[error(transparent)]
    Plugin(#[from] PluginCallError),
}

/// Item scores of a batch, respondent-major (`respondents × items`, items in
/// instrument order). `status` holds the plugin ABI's `AnswerStatus` codes:
/// 0 answered, 1 skipped, 2 not applicable, 3 invalid, 4 don't know.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemScores {
    pub respondents: usize,
    pub items: usize,
    pub scores: Vec<f64>,
    pub status: Vec<u8>,
}

impl ItemScores {
    /// Whether a cell of this status is data: answered, or "don't know"
    /// (which keeps the score its kind gives it).
    pub fn is_observed(status: u8) -> bool {
        matches!(status, status::ANSWERED | status::DONT_KNOW)
    }

    /// The scores that count as data, cell by cell (respondent-major): NaN
    /// for a skipped, not-applicable or invalid cell.
    pub fn observed(&self) -> impl Iterator<Item = f64> + '_ {
        self.scores
            .iter()
            .zip(&self.status)
            .map(|(&x, &st)| if Self::is_observed(st) { x } else { f64::NAN })
    }
}

/// A domain bound to its configured plugin instance.
struct DomainBinding {
    handle: DomainHandle,
    /// Instrument item indices of this domain's items, in order.
    items: Vec<usize>,
    /// Feedback for each instrument level, in both languages.
    feedback: Vec<Arc<results::Feedback>>,
    /// Answers the missing-data rule needs, by number of applicable items
    /// (`ikd_plugin_sdk::layout::answers_needed`, the rule every model
    /// applies): what a domain without a score is explained with.
    needed: Vec<u32>,
}

/// An instrument ready to score: every plugin instance created and checked.
pub struct Scorer {
    instrument: Arc<Instrument>,
    domains: Vec<DomainBinding>,
    model: ModelHandle,
    quality: QualityCheck,
    provenance: Arc<Provenance>,
    /// Every item's domain, indicator, weight, score range and categories.
    layout: Vec<wire::ItemLayout>,
    /// How each item is shown (instrument order); `None` for a plugin that
    /// predates presentations.
    presentations: Vec<Option<wire::ItemPresentation>>,
}

impl Scorer {
    /// Binds an instrument to the loaded plugins. Every problem is reported at
    /// once: plugins missing or in the wrong version, kinds no plugin owns,
    /// item specifications a plugin refuses (with the item's line), a model
    /// that refuses the instrument.
    pub fn new(
        instrument: Arc<Instrument>,
        host: &PluginHost,
        options: &ScorerOptions,
    ) -> Result<Self, SetupError> {
        let model_name = options
            .model
            .clone()
            .unwrap_or_else(|| instrument.scoring.model.clone());
        let instrument_dir = instrument.source.parent().unwrap_or(Path::new(""));
        if let (Some(settings), SettingsOrigin::Request) =
            (&options.model_settings, options.settings_origin)
        {
            crate::settings_files::check(settings, instrument_dir)?;
        }
        let own_model = model_name == instrument.scoring.model;
        // Another model than the instrument's: check that one, in any version.
        let mut checked = (*instrument).clone();
        if !own_model {
            checked.scoring.model = model_name.clone();
            checked.scoring.model_version = semver::VersionReq::STAR;
        }
        let mut diagnostics = check_plugins(&checked, &host.facts());
        if !diagnostics.is_empty() {
            add_refusals(&mut diagnostics, host, &checked);
            return Err(instrument_error(&instrument, diagnostics).into());
        }

        let mut domains = Vec::new();
        for domain in &instrument.domains {
            let items: Vec<usize> = (0..instrument.items.len())
                .filter(|&i| instrument.items[i].domain == domain.code)
                .collect();
            let plugin = host
                .get(&domain.plugin)
                .expect("checked by check_plugins")
                .clone();
            let config = DomainConfig {
                domain: domain.code.clone(),
                items: items
                    .iter()
                    .map(|&i| item_spec(&instrument, &instrument.items[i]))
                    .collect(),
                settings_json: json_or_empty(&domain.settings),
            };
            match DomainHandle::create(plugin, &config) {
                Ok(handle) => domains.push(DomainBinding {
                    handle,
                    items,
                    feedback: Vec::new(),
                    needed: Vec::new(),
                }),
                Err(PluginCallError::Refused { plugin, error }) => diagnostics.extend(
                    refusal_diagnostics(&instrument, &domain.code, &plugin, error),
                ),
                Err(other) => return Err(other.into()),
            }
        }
        if !diagnostics.is_empty() {
            return Err(instrument_error(&instrument, diagnostics).into());
        }

        let count = instrument.levels.len() as u32;
        let levels = InterpretRequest {
            levels: (0..count)
                .zip(&instrument.levels)
                .map(|(position, l)| wire::LevelRef {
                    code: l.code.clone(),
                    name: Some(wire::Text::new(&l.name.id, &l.name.en)),
                    min: l.min,
                    max: l.max,
                    position,
                    count,
                })
                .collect(),
        };
        let mut layout_items = vec![wire::ItemLayout::default(); instrument.items.len()];
        let mut presentations = vec![None; instrument.items.len()];
        for (d, binding) in domains.iter_mut().enumerate() {
            let description = binding.handle.describe()?;
            if let Some(shown) = binding.handle.present()? {
                place_presentations(&instrument, binding, shown, &mut presentations)?;
            }
            let domain = &instrument.domains[d];
            for (k, &i) in binding.items.iter().enumerate() {
                let item = &instrument.items[i];
                layout_items[i] = wire::ItemLayout {
                    id: item.id.clone(),
                    domain: d as u32,
                    indicator: domain
                        .indicators
                        .iter()
                        .position(|ind| ind.code == item.indicator)
                        .unwrap_or(0) as u32,
                    weight: item.weight,
                    score_min: description.score_min.get(k).copied().unwrap_or(f64::NAN),
                    score_max: description.score_max.get(k).copied().unwrap_or(f64::NAN),
                    categories: description.categories.get(k).copied().unwrap_or(0),
                };
            }
            binding.feedback = binding
                .handle
                .interpret(&levels)?
                .feedback
                .into_iter()
                .map(|f| Arc::new(results::Feedback::from(f)))
                .collect();
        }

        let model_plugin = host
            .get(&model_name)
            .expect("checked by check_plugins")
            .clone();
        let settings = match (&options.model_settings, own_model) {
            (Some(s), _) => s.clone(),
            (None, true) => instrument.scoring.settings.clone(),
            (None, false) => instrument
                .scoring
                .alternatives
                .get(&model_name)
                .cloned()
                .unwrap_or(serde_json::Value::Null),
        };
        let model_config = ModelConfig {
            instrument_id: instrument.id.clone(),
            instrument_version: instrument.version.to_string(),
            domains: instrument
                .domains
                .iter()
                .map(|d| wire::DomainLayout {
                    code: d.code.clone(),
                    weight: d.weight,
                    indicators: d
                        .indicators
                        .iter()
                        .map(|i| wire::IndicatorLayout {
                            code: i.code.clone(),
                            weight: i.weight,
                        })
                        .collect(),
                    min_answered: d.min_answered.unwrap_or(instrument.missing.min_answered),
                    min_answered_fraction: d
                        .min_answered_fraction
                        .unwrap_or(instrument.missing.min_answered_fraction),
                })
                .collect(),
            items: layout_items,
            bands: instrument
                .levels
                .iter()
                .map(|l| wire::Band {
                    code: l.code.clone(),
                    min: l.min,
                    max: l.max,
                })
                .collect(),
            min_domains: instrument.missing.min_domains,
            settings_json: json_or_empty(&settings),
            // Resolved as the settings were checked against, so the plugin reads from there.
            instrument_dir: crate::settings_files::canonical_dir(instrument_dir)
                .unwrap_or_else(|_| instrument_dir.to_owned())
                .display()
                .to_string(),
        };
        for (binding, layout) in domains.iter_mut().zip(&model_config.domains) {
            binding.needed = ikd_plugin_sdk::layout::answers_needed(layout, binding.items.len());
        }
        let model =
            ModelHandle::create(model_plugin.clone(), &model_config).map_err(|e| match e {
                PluginCallError::Refused { plugin, error } => SetupError::Model {
                    model: plugin,
                    reason: error.to_string(),
                },
                other => SetupError::Plugin(other),
            })?;

        let mut plugins: Vec<PluginProvenance> = domains
            .iter()
            .map(|d| PluginProvenance::of(d.handle.plugin()))
            .collect();
        plugins.sort_by(|a, b| a.name.cmp(&b.name));
        plugins.dedup_by(|a, b| a.name == b.name);
        let provenance = Arc::new(Provenance {
            instrument_id: instrument.id.clone(),
            instrument_version: instrument.version.to_string(),
            instrument_sha256: instrument.sha256.clone(),
            engine_version: crate::host::ENGINE_VERSION.to_owned(),
            model: PluginProvenance::of(&model_plugin),
            model_settings: settings,
            plugins,
            adaptive: None,
        });
        Ok(Scorer {
            layout: model_config.items.clone(),
            presentations,
            quality: QualityCheck::new(&instrument),
            instrument,
            domains,
            model,
            provenance,
        })
    }

    pub fn instrument(&self) -> &Arc<Instrument> {
        &self.instrument
    }

    pub fn provenance(&self) -> &Arc<Provenance> {
        &self.provenance
    }

    /// Every item's layout, in instrument order: domain and indicator
    /// positions, weight, score range and number of integer categories
    /// (0 for continuous scores), as the domain plugins describe them.
    pub fn item_layout(&self) -> &[wire::ItemLayout] {
        &self.layout
    }

    /// Feedback of the domain at position `domain` for the level at position `level`.
    pub fn feedback(&self, domain: usize, level: usize) -> Option<&Arc<results::Feedback>> {
        self.domains.get(domain)?.feedback.get(level)
    }

    /// Item scores of a batch from the domain plugins (keys, credits and
    /// reverse keying applied), before any model: what reliability analyses
    /// and calibration work on. Every invalid answer is reported together.
    pub fn item_scores(&self, rows: &AnswerRows) -> Result<ItemScores, ScoreError> {
        let n = rows.len();
        let m = self.instrument.items.len();
        let mut item_scores = vec![f64::NAN; n * m];
        let mut item_status = vec![0u8; n * m];
        let mut violations = Vec::new();
        for binding in &self.domains {
            let batch = domain_batch(rows, &binding.items);
            let scored = binding.handle.score_items(&batch)?;
            let k = binding.items.len();
            if scored.scores.len() != n * k || scored.status.len() != n * k {
                return Err(
                    protocol(binding.handle.plugin(), "item scores of the wrong size").into(),
                );
            }
            for r in 0..n {
                for (j, &i) in binding.items.iter().enumerate() {
                    item_scores[r * m + i] = scored.scores[r * k + j];
                    item_status[r * m + i] = scored.status[r * k + j];
                }
            }
            violations.extend(scored.violations.into_iter().map(|v| AnswerViolation {
                respondent: v.respondent.max(0) as usize,
                item: v.item,
                message: capped(v.message),
            }));
        }
        if !violations.is_empty() {
            violations.sort_by_key(|v| v.respondent);
            return Err(ScoreError::InvalidAnswers(violations));
        }
        Ok(ItemScores {
            respondents: n,
            items: m,
            scores: item_scores,
            status: item_status,
        })
    }

    /// Scores a batch. Every invalid answer of the batch is reported together.
    pub fn score(&self, rows: &AnswerRows) -> Result<Vec<RespondentResult>, ScoreError> {
        let items = self.item_scores(rows)?;
        self.score_item_scores(rows, items)
    }

    /// [`Scorer::score`], with the item scores the results were scored from: for a caller
    /// that keeps what is computed from them besides the model (indicator scores), without
    /// running the domain plugins twice.
    pub fn score_with_item_scores(
        &self,
        rows: &AnswerRows,
    ) -> Result<(Vec<RespondentResult>, ItemScores), ScoreError> {
        let items = self.item_scores(rows)?;
        let results = self.score_item_scores(rows, items.clone())?;
        Ok((results, items))
    }

    /// The model's results for `items`, the [`Scorer::item_scores`] of
    /// `rows`: for a caller that needs the item scores too, without running
    /// the domain plugins twice.
    pub fn score_item_scores(
        &self,
        rows: &AnswerRows,
        items: ItemScores,
    ) -> Result<Vec<RespondentResult>, ScoreError> {
        let n = rows.len();
        let needed = self.answers_needed(&items.status, n);
        let ItemScores {
            scores: item_scores,
            status: item_status,
            ..
        } = items;
        let response = self.model.score(&ScoreInput {
            respondents: n as u32,
            item_scores,
            item_status,
        })?;
        self.check_response(&response, n)?;
        let d = self.domains.len();
        let level = |x: i32| u32::try_from(x).ok();
        let value = |x: f64| (!x.is_nan()).then_some(x);
        Ok((0..n)
            .map(|r| RespondentResult {
                respondent_id: rows.respondent_ids[r].clone(),
                org_unit: rows.org_units[r].clone(),
                index: value(response.index[r]),
                index_se: response.index_se.get(r).copied().and_then(value),
                level: level(response.index_levels[r]),
                domains: (0..d)
                    .map(|j| DomainOutcome {
                        score: value(response.domain_scores[r * d + j]),
                        se: response.domain_se.get(r * d + j).copied().and_then(value),
                        level: level(response.domain_levels[r * d + j]),
                        answered: response.domain_answered[r * d + j],
                        needed: needed[r * d + j],
                    })
                    .collect(),
                flags: self.quality.flags(rows, r),
            })
            .collect())
    }

    /// Per respondent and domain (respondent-major), the answers the
    /// missing-data rule needs for a score given the items that apply to that
    /// respondent (all but "not applicable" ones); 0 when none applies. A
    /// domain is scored with at least one answer, so 1 is the least needed
    /// otherwise.
    fn answers_needed(&self, statuses: &[u8], n: usize) -> Vec<u32> {
        let m = self.instrument.items.len();
        let mut out = Vec::with_capacity(n * self.domains.len());
        for r in 0..n {
            for binding in &self.domains {
                let applicable = binding
                    .items
                    .iter()
                    .filter(|&&i| statuses[r * m + i] != status::NOT_APPLICABLE)
                    .count();
                out.push(match applicable {
                    0 => 0,
                    a => binding.needed[a].max(1),
                });
            }
        }
        out
    }

    /// The invalid answers of a batch, from the domain plugins alone (their
    /// `score_items`), without the model: all a check of answers needs, at a
    /// fraction of a full scoring's cost. Empty when every answer is valid.
    pub fn answer_violations(
        &self,
        rows: &AnswerRows,
    ) -> Result<Vec<AnswerViolation>, PluginCallError> {
        match self.item_scores(rows) {
            Ok(_) => Ok(Vec::new()),
            Err(ScoreError::InvalidAnswers(violations)) => Ok(violations),
            Err(ScoreError::Plugin(e)) => Err(e),
        }
    }

    /// Scores a batch, setting aside the respondents whose answers a domain
    /// plugin refuses instead of failing the whole batch: the others are
    /// scored again without them (until none is refused). One outcome per
    /// respondent, in batch order: its result, or why it has none — its own
    /// [`ScoreError::InvalidAnswers`], or the plugin failure of the scoring
    /// that left it out. `Err` only when the first scoring fails for another
    /// reason than invalid answers.
    pub fn score_each(
        &self,
        rows: &AnswerRows,
    ) -> Result<Vec<Result<RespondentResult, ScoreError>>, ScoreError> {
        self.each(rows, |batch| self.score(batch))
    }

    /// Checks a batch's answers like [`Scorer::answer_violations`], one outcome per
    /// respondent in batch order: `Ok` when its answers are valid, else its own
    /// [`ScoreError::InvalidAnswers`] (whatever the others gave) or the plugin failure of
    /// the check that left it out. A plugin may stop at the first respondent it refuses,
    /// so the others are checked again without it, as [`Scorer::score_each`] does.
    pub fn check_each(&self, rows: &AnswerRows) -> Result<Vec<Result<(), ScoreError>>, ScoreError> {
        self.each(rows, |batch| {
            self.item_scores(batch).map(|_| vec![(); batch.len()])
        })
    }

    /// `attempt` on a batch, then again without the respondents it refused, until it
    /// refuses none: one outcome per respondent (see [`Scorer::score_each`]).
    fn each<T>(
        &self,
        rows: &AnswerRows,
        attempt: impl Fn(&AnswerRows) -> Result<Vec<T>, ScoreError>,
    ) -> Result<Vec<Result<T, ScoreError>>, ScoreError> {
        let mut refused = match attempt(rows) {
            Ok(done) => return Ok(done.into_iter().map(Ok).collect()),
            Err(ScoreError::InvalidAnswers(list)) => list,
            Err(other) => return Err(other),
        };
        let mut outcomes: Vec<Option<Result<T, ScoreError>>> =
            (0..rows.len()).map(|_| None).collect();
        // Positions in `rows` of the respondents still to do; `refused` names them by
        // their position in this list, the batch they were attempted in.
        let mut todo: Vec<usize> = (0..rows.len()).collect();
        loop {
            let mut invalid: Vec<Vec<AnswerViolation>> = vec![Vec::new(); todo.len()];
            let mut stray = Vec::new();
            for v in refused {
                match invalid.get_mut(v.respondent) {
                    Some(own) => own.push(v),
                    None => stray.push(v),
                }
            }
            if invalid.iter().all(Vec::is_empty) {
                // Violations that name no respondent of the batch: nobody can be set aside.
                for &r in &todo {
                    outcomes[r] = Some(Err(ScoreError::InvalidAnswers(stray.clone())));
                }
                break;
            }
            let mut kept = Vec::with_capacity(todo.len());
            let mut again = AnswerRows::new(rows.items());
            for (&r, violations) in todo.iter().zip(invalid) {
                if violations.is_empty() {
                    kept.push(r);
                    again.push_row(rows, r);
                } else {
                    outcomes[r] = Some(Err(ScoreError::InvalidAnswers(violations)));
                }
            }
            todo = kept;
            if todo.is_empty() {
                break;
            }
            match attempt(&again) {
                Ok(done) => {
                    for (&r, one) in todo.iter().zip(done) {
                        outcomes[r] = Some(Ok(one));
                    }
                    break;
                }
                Err(ScoreError::InvalidAnswers(list)) => refused = list,
                Err(ScoreError::Plugin(e)) => {
                    for &r in &todo {
                        outcomes[r] = Some(Err(ScoreError::Plugin(e.clone())));
                    }
                    break;
                }
            }
        }
        Ok(outcomes
            .into_iter()
            .map(|o| o.expect("every respondent has an outcome"))
            .collect())
    }

    /// Scores a batch from async code: plugin calls run on tokio's blocking
    /// pool, never on the reactor threads, so a slow or stuck plugin cannot
    /// stall other requests.
    pub async fn score_blocking(
        self: &Arc<Self>,
        rows: AnswerRows,
    ) -> Result<Vec<RespondentResult>, ScoreError> {
        self.on_blocking_pool(move |scorer| scorer.score(&rows))
            .await
    }

    /// [`Scorer::score_with_item_scores`] from async code, on tokio's blocking pool.
    pub async fn score_with_item_scores_blocking(
        self: &Arc<Self>,
        rows: AnswerRows,
    ) -> Result<(Vec<RespondentResult>, ItemScores), ScoreError> {
        self.on_blocking_pool(move |scorer| scorer.score_with_item_scores(&rows))
            .await
    }

    /// [`Scorer::item_scores`] from async code, on tokio's blocking pool.
    pub async fn item_scores_blocking(
        self: &Arc<Self>,
        rows: AnswerRows,
    ) -> Result<ItemScores, ScoreError> {
        self.on_blocking_pool(move |scorer| scorer.item_scores(&rows))
            .await
    }

    /// [`Scorer::answer_violations`] from async code, on tokio's blocking pool.
    pub async fn answer_violations_blocking(
        self: &Arc<Self>,
        rows: AnswerRows,
    ) -> Result<Vec<AnswerViolation>, PluginCallError> {
        self.on_blocking_pool(move |scorer| scorer.answer_violations(&rows))
            .await
    }

    /// [`Scorer::score_each`] from async code, on tokio's blocking pool.
    pub async fn score_each_blocking(
        self: &Arc<Self>,
        rows: AnswerRows,
    ) -> Result<Vec<Result<RespondentResult, ScoreError>>, ScoreError> {
        self.on_blocking_pool(move |scorer| scorer.score_each(&rows))
            .await
    }

    /// Runs `work` on tokio's blocking pool.
    async fn on_blocking_pool<T, E>(
        self: &Arc<Self>,
        work: impl FnOnce(&Scorer) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<PluginCallError> + Send + 'static,
    {
        let scorer = Arc::clone(self);
        match tokio::task::spawn_blocking(move || work(&scorer)).await {
            Ok(outcome) => outcome,
            // Scoring never unwinds (plugin panics are caught at the ABI), but a
            // cancelled runtime can still end the task.
            Err(join) => Err(E::from(PluginCallError::Protocol {
                plugin: self.model.plugin().name().to_owned(),
                detail: format!("scoring task ended abnormally: {join}"),
            })),
        }
    }

    fn check_response(&self, response: &ScoreOutput, n: usize) -> Result<(), PluginCallError> {
        let d = self.domains.len();
        let ok = response.index.len() == n
            && response.index_levels.len() == n
            && response.domain_scores.len() == n * d
            && response.domain_levels.len() == n * d
            && response.domain_answered.len() == n * d;
        if ok {
            Ok(())
        } else {
            Err(protocol(
                self.model.plugin(),
                "score response of the wrong size",
            ))
        }
    }

    /// The plugins this scorer calls (domain plugins and the model).
    pub fn plugins(&self) -> impl Iterator<Item = &Arc<LoadedPlugin>> {
        self.domains
            .iter()
            .map(|d| d.handle.plugin())
            .chain(std::iter::once(self.model.plugin()))
    }

    /// How item `i` (instrument order) is shown to a respondent; `None` when
    /// its domain plugin predates presentations.
    pub fn presentation(&self, i: usize) -> Option<&wire::ItemPresentation> {
        self.presentations.get(i)?.as_ref()
    }

    /// Whether every item can be shown to a respondent.
    pub fn deliverable(&self) -> bool {
        self.presentations.iter().all(Option::is_some)
    }

    /// Domain handles, in instrument domain order (for simulation).
    pub(crate) fn domain_handles(&self) -> impl Iterator<Item = (&DomainHandle, &[usize])> {
        self.domains.iter().map(|d| (&d.handle, d.items.as_slice()))
    }
}

/// Puts a domain's presentations at its items' places, checking that the
/// plugin answered one per item, for the right item, in order.
fn place_presentations(
    instrument: &Instrument,
    binding: &DomainBinding,
    shown: wire::DomainPresentation,
    presentations: &mut [Option<wire::ItemPresentation>],
) -> Result<(), PluginCallError> {
    let plugin = binding.handle.plugin().name().to_owned();
    if shown.items.len() != binding.items.len() {
        return Err(PluginCallError::Protocol {
            plugin,
            detail: format!(
                "presented {} items, the domain has {}",
                shown.items.len(),
                binding.items.len()
            ),
        });
    }
    for (presentation, &i) in shown.items.into_iter().zip(&binding.items) {
        if presentation.item_id != instrument.items[i].id {
            return Err(PluginCallError::Protocol {
                plugin,
                detail: format!(
                    "presented item '{}' where '{}' was expected",
                    presentation.item_id, instrument.items[i].id
                ),
            });
        }
        presentations[i] = Some(presentation);
    }
    Ok(())
}

fn protocol(plugin: &LoadedPlugin, detail: &str) -> PluginCallError {
    PluginCallError::Protocol {
        plugin: plugin.name().to_owned(),
        detail: detail.to_owned(),
    }
}

/// Longest violation message passed on: plugins quote the answer they refuse,
/// and a megabyte answer must not become a megabyte error (in logs, on stderr,
/// in a gRPC status).
const MAX_MESSAGE: usize = 300;

fn capped(message: String) -> String {
    if message.len() <= MAX_MESSAGE {
        return message;
    }
    crate::quote::cut(&message, MAX_MESSAGE).into_owned()
}

/// The answers of one domain's items, as the plugin ABI wants them.
fn domain_batch(rows: &AnswerRows, items: &[usize]) -> AnswerBatch {
    let mut answer_data = Vec::with_capacity(rows.len() * items.len() * 2);
    let mut offsets = Vec::with_capacity(rows.len() * items.len() + 1);
    offsets.push(0u32);
    for r in 0..rows.len() {
        rows.append_row(r, items, &mut answer_data, &mut offsets);
    }
    AnswerBatch {
        respondents: rows.len() as u32,
        items: items.len() as u32,
        answer_data: answer_data.into(),
        offsets: dense::encode(&offsets).into(),
    }
}

fn item_spec(instrument: &Instrument, item: &Item) -> wire::ItemSpec {
    let scale = item
        .scale
        .as_ref()
        .and_then(|s| instrument.scales.iter().find(|sc| &sc.id == s));
    wire::ItemSpec {
        id: item.id.clone(),
        kind: item.kind.clone(),
        indicator: item.indicator.clone(),
        weight: item.weight,
        reverse: item.reverse,
        scale_min: scale.map(|s| s.min),
        scale_max: scale.map(|s| s.max),
        options: item
            .options
            .iter()
            .map(|o| wire::ItemOption {
                code: o.code.clone(),
                label: Some(wire::Text::new(&o.label.id, &o.label.en)),
                credit: o.credit,
                dont_know: o.dont_know,
            })
            .collect(),
        key: item.key.clone(),
        params_json: serde_json::Value::Object(item.params.clone()).to_string(),
        text: Some(wire::Text::new(&item.text.id, &item.text.en)),
        scale_labels: scale
            .map(|s| {
                s.labels
                    .iter()
                    .map(|l| wire::Text::new(&l.id, &l.en))
                    .collect()
            })
            .unwrap_or_default(),
        not_applicable: item.not_applicable,
    }
}

fn json_or_empty(value: &serde_json::Value) -> String {
    if value.is_null() {
        String::new()
    } else {
        value.to_string()
    }
}

fn instrument_error(instrument: &Instrument, diagnostics: Vec<Diagnostic>) -> InstrumentError {
    InstrumentError {
        file: instrument.source.clone(),
        diagnostics,
    }
}

/// Adds why a required plugin was refused by the host, when it was.
fn add_refusals(diagnostics: &mut Vec<Diagnostic>, host: &PluginHost, instrument: &Instrument) {
    let mut names: Vec<&str> = instrument
        .domains
        .iter()
        .map(|d| d.plugin.as_str())
        .collect();
    names.push(&instrument.scoring.model);
    names.sort();
    names.dedup();
    for name in names {
        if let Some(why) = host.refusal(name) {
            diagnostics.push(Diagnostic {
                file: instrument.source.clone(),
                location: None,
                subject: format!("plugin '{name}'"),
                field: String::new(),
                message: format!("was found but refused: {why}"),
            });
        }
    }
}

/// Turns a domain plugin's refusal of item specifications into diagnostics at the items' lines.
fn refusal_diagnostics(
    instrument: &Instrument,
    domain: &str,
    plugin: &str,
    error: wire::PluginError,
) -> Vec<Diagnostic> {
    let domain_location = instrument
        .domains
        .iter()
        .find(|d| d.code == domain)
        .map(|d| d.location);
    if error.violations.is_empty() {
        return vec![Diagnostic {
            file: instrument.source.clone(),
            location: domain_location,
            subject: format!("domain '{domain}'"),
            field: String::new(),
            message: format!("plugin '{plugin}' refused the domain: {}", error.message),
        }];
    }
    error
        .violations
        .into_iter()
        .map(|v| {
            let item = instrument.items.iter().find(|i| i.id == v.item);
            Diagnostic {
                file: instrument.source.clone(),
                location: item.map(|i| i.location).or(domain_location),
                subject: if item.is_some() {
                    format!("item '{}'", v.item)
                } else {
                    format!("domain '{domain}'")
                },
                field: v.field,
                message: format!("{} (plugin '{plugin}')", v.message),
            }
        })
        .collect()
}
