//! # ikd-scoring-irt
//!
//! **Item response theory** as an IKD scoring-model plugin (`irt`): one
//! unidimensional latent trait θ per domain, item parameters from a calibrated
//! PARAMS.csv (`ikd calibrate`), θ and its standard error per domain by EAP
//! (default), MAP, ML or EAP-by-sum-score, reported on the instrument's scale
//! with a linear transform, and a composite index with its standard error.
//! The IRT itself (models, scoring) is `ikd-irt`; this crate maps an
//! instrument's item scores to category codes, applies the missing-data
//! rules and the reporting transform.
//!
//! ## Settings
//!
//! JSON from the instrument's `[scoring.alternatives.irt]` table (or
//! `[scoring.settings]` when `irt` is the instrument's own model, or
//! `--model-settings`):
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `params` | required | PARAMS.csv, relative to the instrument's directory |
//! | `params_sha256` | none | when given, the file's sha256 must equal it |
//! | `method` | `"eap"` | `eap`, `map`, `ml` or `eapsum` |
//! | `quadpts` | 121 | quadrature nodes on [−6, 6] (EAP, EAP-sum) |
//! | `reporting` | `{ center = 50, scale = 15 }` | reporting score = center + scale·θ |
//!
//! Results record the settings in their provenance, so `params_sha256` pins the
//! parameters a result was computed with. Any other key is refused.
//!
//! ## The arithmetic
//!
//! For one respondent and one domain *d* with items *i* (score *xᵢ*, status
//! *sᵢ*, range `[minᵢ, maxᵢ]`, layout categories *cᵢ*, parameter-set
//! categories *Kᵢ*):
//!
//! 1. **Status** (as `weighted-index`): `ANSWERED` (0) and `DONT_KNOW` (4) are
//!    *answered* (a don't-know enters with the score it carries, usually the
//!    minimum); `SKIPPED` (1) and `INVALID` (3) are *applicable, not answered*;
//!    `NOT_APPLICABLE` (2) is left out of the item count.
//! 2. **Category**: [`ikd_irt::categories::category_of`], the one mapping
//!    calibration also uses: `round(xᵢ − minᵢ)` when `cᵢ > 0`, else one of *Kᵢ*
//!    equal-width bins of `[minᵢ, maxᵢ]`.
//! 3. **Domain scored?** With *n* applicable and *a* answered items: scored
//!    when `n > 0`, `a > 0`, `a ≥ min_answered` and
//!    `a ≥ ⌈min_answered_fraction · n − 1e-9⌉` (the rule and rounding of
//!    `weighted-index`). Otherwise the domain is missing: score and SE NaN,
//!    level −1. `domain_answered = a` for every domain.
//! 4. **θ**: the domain's [`ikd_irt::Scorer`] over the categories of the
//!    answered items only (unanswered items are not in the likelihood), with a
//!    N(0, 1) prior for EAP/MAP/EAP-sum.
//! 5. **Reporting**: `score = clamp(center + scale·θ, lo, hi)` with `[lo, hi]`
//!    = [min of the first band, max of the last band]; `SE = scale·SE(θ)`
//!    (not changed by the clamp). Level: [`band_of`].
//! 6. **Composite**: over the scored domains *S* with domain weights *w*, when
//!    `|S| ≥ max(min_domains, 1)`: `index = Σ w·score / Σ w` and
//!    `index_se = √(Σ w²·se²) / Σ w`; otherwise NaN with level −1.
//!
//! The index SE treats the domain errors as independent. Given the true traits
//! they are (the domains share no items), but each domain is scored with its own
//! N(0, 1) prior, as if the traits were unrelated; under a model that knows the
//! traits correlate, the domains' posterior errors are positively correlated and
//! the covariance terms this formula leaves out are positive. Read `index_se` as
//! a lower bound of the composite's uncertainty, not as an exact standard error.
//!
//! ## Checks
//!
//! [`Irt::new`] refuses, with a [`Violation`] naming the item or field: unknown
//! or ill-typed settings; a params file that is missing, unreadable, not valid
//! PARAMS.csv, or not matching `params_sha256`; an instrument item with no row
//! in it; a row with more categories than the item's scores can have; bad
//! bands, domains or item ranges. [`Irt::score`] refuses a batch with an unknown
//! status or an answered cell whose score is NaN or outside the item's range.

use ikd_irt::categories::category_of;
use ikd_irt::{ItemBank, MISSING, Method, SCORING_QUADPTS, Score, Scorer, ScoringOptions};
use ikd_plugin_sdk::{
    Band, CellErrors, ModelConfig, PluginError, ScoreInput, ScoreOutput, ScoringModel, Violation,
    band_of, layout, status,
};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

ikd_plugin_sdk::export_scoring_model!(Irt);

/// Default reporting transform: score = 50 + 15·θ. With θ ~ N(0, 1) in the
/// calibration sample this puts the average respondent at 50 and keeps ±3.3 SD
/// inside 0–100, so almost nobody is clamped. It is a convention, to be set per
/// instrument, and not the weighted index's spread: on simulated IKD-ASN
/// answers the weighted index's domain scores have SD 21–27 where 50 + 15·θ̂
/// (EAP) has about 14 (see the README).
pub const DEFAULT_CENTER: f64 = 50.0;
pub const DEFAULT_SCALE: f64 = 15.0;

/// Settings keys the model accepts.
const KNOWN_SETTINGS: &[&str] = &["params", "params_sha256", "method", "quadpts", "reporting"];

/// Tolerance, relative to an item's score range, for scores just outside it.
const RANGE_TOLERANCE: f64 = 1e-9;

/// The model's settings, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// PARAMS.csv as given (relative to the instrument's directory).
    pub params: String,
    /// Lower-case hex, when given.
    pub params_sha256: Option<String>,
    pub method: Method,
    pub quadpts: usize,
    pub center: f64,
    pub scale: f64,
}

/// One instrument item as the scoring loop needs it.
#[derive(Clone, Copy, Debug)]
struct ItemPlan {
    min: f64,
    max: f64,
    /// Integer categories of the item's scores (0: continuous).
    layout_categories: u32,
    /// Categories in the parameter set.
    k: usize,
}

#[derive(Debug)]
struct DomainPlan {
    weight: f64,
    /// Instrument columns of the domain's items, in instrument order (the
    /// order of the domain's item bank).
    columns: Vec<usize>,
    /// `required[n]`: answers needed for a score when `n` items are applicable.
    required: Vec<u32>,
    scorer: Scorer,
}

/// The IRT scoring model (see the crate documentation).
#[derive(Debug)]
pub struct Irt {
    items: Vec<ItemPlan>,
    item_ids: Vec<String>,
    domains: Vec<DomainPlan>,
    bands: Vec<Band>,
    min_domains: usize,
    settings: Settings,
    /// The reporting range: [min of the first band, max of the last band].
    lo: f64,
    hi: f64,
}

impl ScoringModel for Irt {
    const NAME: &'static str = "irt";
    const DESCRIPTION: &'static str =
        "Item response theory: one trait per domain, scored from calibrated item parameters";

    fn new(config: &ModelConfig) -> Result<Self, PluginError> {
        let mut violations = Vec::new();
        let settings = parse_settings(&config.settings_json, &mut violations);
        layout::check_bands(&config.bands, &mut violations);
        layout::check_domains(config, &mut violations);
        check_items(config, &mut violations);
        if let (Some(s), Some(first), Some(last)) =
            (&settings, config.bands.first(), config.bands.last())
            && !(first.min..=last.max).contains(&s.center)
        {
            violations.push(violation(
                "",
                "settings.reporting.center",
                format!(
                    "center {} lies outside the reporting range [{}, {}] of the bands",
                    s.center, first.min, last.max
                ),
            ));
        }
        let bank = settings
            .as_ref()
            .and_then(|s| read_params(config, s, &mut violations));
        let (Some(settings), Some(bank), true) = (settings, bank, violations.is_empty()) else {
            return Err(refusal(config, violations));
        };

        let mut items = Vec::with_capacity(config.items.len());
        for item in &config.items {
            let k = match bank.get(&item.id) {
                Some((_, params)) => params.categories(),
                None => {
                    violations.push(violation(
                        &item.id,
                        "params",
                        format!(
                            "the item has no parameters in {} (re-calibrate with `ikd calibrate`)",
                            shown(&settings.params)
                        ),
                    ));
                    continue;
                }
            };
            if item.categories > 0 && k > item.categories as usize {
                violations.push(violation(
                    &item.id,
                    "params",
                    format!(
                        "{} gives the item {k} categories, but its scores {}..{} have only {}",
                        shown(&settings.params),
                        item.score_min,
                        item.score_max,
                        item.categories
                    ),
                ));
            }
            items.push(ItemPlan {
                min: item.score_min,
                max: item.score_max,
                layout_categories: item.categories,
                k,
            });
        }
        if !violations.is_empty() {
            return Err(refusal(config, violations));
        }

        let options = ScoringOptions {
            method: settings.method,
            quadpts: settings.quadpts,
            ..ScoringOptions::default()
        };
        let mut domains = Vec::with_capacity(config.domains.len());
        for (d, domain) in config.domains.iter().enumerate() {
            let columns: Vec<usize> = (0..config.items.len())
                .filter(|&i| config.items[i].domain as usize == d)
                .collect();
            let domain_items = columns
                .iter()
                .map(|&i| bank.get(&config.items[i].id).expect("checked").1.clone())
                .collect();
            let scorer = ItemBank::new(domain_items)
                .and_then(|b| Scorer::new(b, &options))
                .map_err(|e| {
                    refusal(
                        config,
                        vec![violation(
                            &domain.code,
                            "params",
                            format!("domain '{}': {e}", domain.code),
                        )],
                    )
                })?;
            let required = layout::answers_needed(domain, columns.len());
            domains.push(DomainPlan {
                weight: domain.weight,
                columns,
                required,
                scorer,
            });
        }

        Ok(Irt {
            items,
            item_ids: config.items.iter().map(|it| it.id.clone()).collect(),
            domains,
            lo: config.bands[0].min,
            hi: config.bands[config.bands.len() - 1].max,
            bands: config.bands.clone(),
            min_domains: (config.min_domains as usize).max(1),
            settings,
        })
    }

    fn score(&self, request: &ScoreInput) -> Result<ScoreOutput, PluginError> {
        let n_items = self.items.len();
        let n_domains = self.domains.len();
        let respondents = request.respondents as usize;
        let cells = respondents.checked_mul(n_items).ok_or_else(|| {
            PluginError::msg(format!(
                "irt: respondents ({respondents}) × items ({n_items}) overflows"
            ))
        })?;
        for (field, len) in [
            ("item_scores", request.item_scores.len()),
            ("item_status", request.item_status.len()),
        ] {
            if len != cells {
                return Err(PluginError::invalid(
                    format!(
                        "irt: {field} has {len} values, expected respondents ({respondents}) × items ({n_items}) = {cells}"
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

        // 1. Categories per domain (respondents × the domain's items), with the
        //    rows of unscored domains left all missing.
        let dcells = respondents * n_domains;
        let mut codes: Vec<Vec<u8>> = self
            .domains
            .iter()
            .map(|d| vec![MISSING; respondents * d.columns.len()])
            .collect();
        let mut domain_answered = vec![0u32; dcells];
        let mut errors = CellErrors::default();
        if n_items > 0 {
            let rows = request
                .item_scores
                .chunks_exact(n_items)
                .zip(request.item_status.chunks_exact(n_items))
                .zip(domain_answered.chunks_exact_mut(n_domains.max(1)));
            for (r, ((scores, statuses), answered_out)) in rows.enumerate() {
                let mut bad = false;
                for ((plan, codes), answered_slot) in
                    self.domains.iter().zip(&mut codes).zip(answered_out)
                {
                    let width = plan.columns.len();
                    let row = &mut codes[r * width..(r + 1) * width];
                    let (mut answered, mut applicable) = (0u32, 0u32);
                    for (code, &column) in row.iter_mut().zip(&plan.columns) {
                        match statuses[column] {
                            status::ANSWERED | status::DONT_KNOW => {
                                let item = &self.items[column];
                                let x = scores[column];
                                bad |= !in_range(x, item);
                                *code = category_of(
                                    x,
                                    item.min,
                                    item.max,
                                    item.layout_categories,
                                    item.k,
                                );
                                answered += 1;
                                applicable += 1;
                            }
                            status::SKIPPED | status::INVALID => applicable += 1,
                            status::NOT_APPLICABLE => {}
                            _ => bad = true,
                        }
                    }
                    *answered_slot = answered;
                    if applicable == 0
                        || answered == 0
                        || answered < plan.required[applicable as usize]
                    {
                        row.fill(MISSING);
                    }
                }
                if bad {
                    self.report_cells(r, scores, statuses, &mut errors);
                }
            }
        }
        if let Some(err) = errors.into_error("irt") {
            return Err(err);
        }

        // 2. θ per domain over the whole batch, then the reporting scale.
        let mut domain_scores = vec![f64::NAN; dcells];
        let mut domain_se = vec![f64::NAN; dcells];
        let mut domain_levels = vec![-1i32; dcells];
        let mut thetas = vec![Score::MISSING; respondents];
        for (d, (plan, codes)) in self.domains.iter().zip(&codes).enumerate() {
            plan.scorer
                .score_batch(codes, &mut thetas)
                .map_err(|e| PluginError::msg(format!("irt: domain {d}: {e}")))?;
            for (r, theta) in thetas.iter().enumerate() {
                if theta.is_missing() {
                    continue;
                }
                let at = r * n_domains + d;
                let score = self.report(theta.theta);
                domain_scores[at] = score;
                domain_se[at] = self.settings.scale * theta.se;
                domain_levels[at] = band_of(&self.bands, score);
            }
        }

        // 3. The composite.
        let mut index = vec![f64::NAN; respondents];
        let mut index_se = vec![f64::NAN; respondents];
        let mut index_levels = vec![-1i32; respondents];
        if n_domains > 0 {
            let rows = domain_scores
                .chunks_exact(n_domains)
                .zip(domain_se.chunks_exact(n_domains))
                .zip(index.iter_mut().zip(&mut index_se).zip(&mut index_levels));
            for ((scores, ses), ((ix, ix_se), level)) in rows {
                let (mut sum, mut weight, mut variance, mut scored) = (0.0, 0.0, 0.0, 0usize);
                for ((plan, &score), &se) in self.domains.iter().zip(scores).zip(ses) {
                    if score.is_nan() {
                        continue;
                    }
                    sum += plan.weight * score;
                    weight += plan.weight;
                    variance += plan.weight * plan.weight * se * se;
                    scored += 1;
                }
                if scored >= self.min_domains {
                    *ix = sum / weight;
                    *ix_se = variance.sqrt() / weight;
                    *level = band_of(&self.bands, *ix);
                }
            }
        }

        Ok(ScoreOutput {
            respondents: request.respondents,
            domains: n_domains as u32,
            domain_scores,
            domain_se,
            domain_answered,
            domain_levels,
            index,
            index_se,
            index_levels,
        })
    }
}

impl Irt {
    /// The checked settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// θ on the reporting scale: `center + scale·θ`, clamped to the bands' range.
    pub fn report(&self, theta: f64) -> f64 {
        (self.settings.center + self.settings.scale * theta).clamp(self.lo, self.hi)
    }

    /// The item bank (item parameters) of the domain at position `domain`.
    pub fn bank(&self, domain: usize) -> Option<&ItemBank> {
        self.domains.get(domain).map(|d| d.scorer.bank())
    }

    /// Names the cells of one row that cannot be scored.
    #[cold]
    #[inline(never)]
    fn report_cells(&self, r: usize, scores: &[f64], statuses: &[u8], errors: &mut CellErrors) {
        for (i, ((item, &x), &st)) in self.items.iter().zip(scores).zip(statuses).enumerate() {
            match st {
                status::ANSWERED | status::DONT_KNOW => {
                    if !in_range(x, item) {
                        errors.score_out_of_range(r, &self.item_ids[i], x, item.min, item.max);
                    }
                }
                status::SKIPPED | status::INVALID | status::NOT_APPLICABLE => {}
                other => errors.unknown_status(r, &self.item_ids[i], other),
            }
        }
    }
}

/// Whether an answered score lies in the item's range (within the tolerance); false for NaN.
#[inline(always)]
fn in_range(x: f64, item: &ItemPlan) -> bool {
    let slack = RANGE_TOLERANCE * (item.max - item.min);
    x >= item.min - slack && x <= item.max + slack
}

fn violation(item: &str, field: &str, message: impl Into<String>) -> Violation {
    Violation::item(item, field, message)
}

fn refusal(config: &ModelConfig, violations: Vec<Violation>) -> PluginError {
    PluginError::invalid(
        format!(
            "irt: the model configuration of instrument '{}' has {} error(s)",
            config.instrument_id,
            violations.len()
        ),
        violations,
    )
}

/// Parses and checks the settings; `None` when they cannot be used.
pub fn parse_settings(json: &str, violations: &mut Vec<Violation>) -> Option<Settings> {
    let before = violations.len();
    let map = if json.trim().is_empty() {
        serde_json::Map::new()
    } else {
        match serde_json::from_str(json) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(serde_json::Value::Null) => serde_json::Map::new(),
            Ok(other) => {
                violations.push(violation(
                    "",
                    "settings",
                    format!("the model settings must be a table (JSON object), not {other}"),
                ));
                return None;
            }
            Err(e) => {
                violations.push(violation(
                    "",
                    "settings",
                    format!("the model settings are not valid JSON: {e}"),
                ));
                return None;
            }
        }
    };
    for key in map.keys() {
        if !KNOWN_SETTINGS.contains(&key.as_str()) {
            violations.push(violation(
                "",
                &format!("settings.{key}"),
                format!(
                    "unknown setting '{key}' (the irt model knows {})",
                    KNOWN_SETTINGS.join(", ")
                ),
            ));
        }
    }
    let params = match map.get("params") {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(other) => {
            violations.push(violation(
                "",
                "settings.params",
                format!("must be the path of a PARAMS.csv (a non-empty string), not {other}"),
            ));
            String::new()
        }
        None => {
            violations.push(violation(
                "",
                "settings.params",
                "required: the path of the item parameters (PARAMS.csv from `ikd calibrate`), \
                 relative to the instrument's directory, e.g. \
                 [scoring.alternatives.irt] params = \"irt-params.csv\"",
            ));
            String::new()
        }
    };
    let params_sha256 = match map.get("params_sha256") {
        None => None,
        Some(serde_json::Value::String(s))
            if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Some(s.to_ascii_lowercase())
        }
        Some(other) => {
            violations.push(violation(
                "",
                "settings.params_sha256",
                format!("must be a sha256 of 64 hexadecimal digits, not {other}"),
            ));
            None
        }
    };
    let method = match map.get("method") {
        None => Method::Eap,
        Some(serde_json::Value::String(s)) => s.parse().unwrap_or_else(|e| {
            violations.push(violation("", "settings.method", format!("{e}")));
            Method::Eap
        }),
        Some(other) => {
            violations.push(violation(
                "",
                "settings.method",
                format!("must be one of \"eap\", \"map\", \"ml\", \"eapsum\", not {other}"),
            ));
            Method::Eap
        }
    };
    let quadpts = match map.get("quadpts") {
        None => SCORING_QUADPTS,
        Some(v) => match v.as_u64() {
            Some(q) if (3..=100_000).contains(&q) => q as usize,
            _ => {
                violations.push(violation(
                    "",
                    "settings.quadpts",
                    format!("must be a whole number of quadrature nodes from 3 to 100000, not {v}"),
                ));
                SCORING_QUADPTS
            }
        },
    };
    let (mut center, mut scale) = (DEFAULT_CENTER, DEFAULT_SCALE);
    match map.get("reporting") {
        None => {}
        Some(serde_json::Value::Object(reporting)) => {
            for (key, value) in reporting {
                let field = format!("settings.reporting.{key}");
                let number = value.as_f64().filter(|v| v.is_finite());
                match (key.as_str(), number) {
                    ("center", Some(v)) => center = v,
                    ("scale", Some(v)) if v > 0.0 => scale = v,
                    ("center" | "scale", _) => violations.push(violation(
                        "",
                        &field,
                        format!(
                            "must be a finite number{}, not {value}",
                            if key == "scale" { " above 0" } else { "" }
                        ),
                    )),
                    _ => violations.push(violation(
                        "",
                        &field,
                        format!("unknown reporting setting '{key}' (known: center, scale)"),
                    )),
                }
            }
        }
        Some(other) => violations.push(violation(
            "",
            "settings.reporting",
            format!("must be a table {{ center, scale }}, not {other}"),
        )),
    }
    (violations.len() == before).then_some(Settings {
        params,
        params_sha256,
        method,
        quadpts,
        center,
        scale,
    })
}

/// Where the params file is: relative paths are resolved against the instrument's directory.
fn params_path(config: &ModelConfig, params: &str) -> PathBuf {
    let path = Path::new(params);
    if path.is_absolute() || config.instrument_dir.is_empty() {
        path.to_owned()
    } else {
        Path::new(&config.instrument_dir).join(path)
    }
}

/// The params file as messages name it: the setting's relative name, or only the file name
/// of an absolute one. Messages reach clients of a server: no server path.
fn shown(params: &str) -> String {
    let path = Path::new(params);
    let name = if path.is_absolute() {
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    } else {
        params.into()
    };
    format!("'{}'", name.escape_default())
}

/// What is wrong with a file that is not a PARAMS.csv, without quoting it: the file may be
/// anything (a key, a configuration), and the message reaches clients of a server.
fn unquoted(e: &ikd_irt::IrtError) -> String {
    use ikd_irt::IrtError as E;
    match e {
        E::Cell { line, column, .. } => format!("line {line}, column {column} is not valid"),
        E::Csv(csv) => match csv.position() {
            Some(p) => format!("line {} is not well-formed CSV", p.line()),
            None => "it is not well-formed CSV".to_owned(),
        },
        E::Layout(_) => "its header is not PARAMS.csv's (item,model,a,d1..dM,b1..bM)".to_owned(),
        E::InvalidItem { .. } => "an item's parameters do not define a valid model".to_owned(),
        _ => "it cannot be read as PARAMS.csv".to_owned(),
    }
}

/// Reads, pins and parses the params file. Messages name the setting and the file, never
/// its content or where it is on the server.
fn read_params(
    config: &ModelConfig,
    settings: &Settings,
    violations: &mut Vec<Violation>,
) -> Option<ItemBank> {
    let path = params_path(config, &settings.params);
    let name = shown(&settings.params);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            violations.push(violation(
                "",
                "settings.params",
                format!("cannot read the item parameters {name}: {}", e.kind()),
            ));
            return None;
        }
    };
    if let Some(expected) = &settings.params_sha256 {
        let actual = hex::encode(Sha256::digest(&bytes));
        if &actual != expected {
            violations.push(violation(
                "",
                "settings.params_sha256",
                format!(
                    "{name} has sha256 {actual}, but the settings pin {expected}: the parameter \
                     file is not the one the instrument was set up with"
                ),
            ));
            return None;
        }
    }
    match ItemBank::read_csv(bytes.as_slice()) {
        Ok(bank) => Some(bank),
        Err(e) => {
            // The details, for the operator's log only.
            ikd_plugin_sdk::log::debug("irt", &format!("{}: {e}", path.display()));
            violations.push(violation(
                "",
                "settings.params",
                format!("{name} is not a PARAMS.csv: {}", unquoted(&e)),
            ));
            None
        }
    }
}

fn check_items(config: &ModelConfig, violations: &mut Vec<Violation>) {
    if config.items.is_empty() {
        violations.push(violation("", "items", "the instrument has no items"));
    }
    let mut seen = std::collections::HashSet::with_capacity(config.items.len());
    for (i, item) in config.items.iter().enumerate() {
        let id = if item.id.is_empty() {
            format!("items[{i}]")
        } else {
            item.id.clone()
        };
        if !seen.insert(item.id.as_str()) {
            violations.push(violation(&id, "id", "duplicate item id"));
        }
        if item.domain as usize >= config.domains.len() {
            violations.push(violation(
                &id,
                "domain",
                format!(
                    "domain index {} is out of range (the instrument has {} domains)",
                    item.domain,
                    config.domains.len()
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
    }
}
