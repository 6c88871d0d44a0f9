//! Domain plugins: a competency domain's item kinds and its feedback.
//!
//! An author lists the [`ItemKind`]s the domain owns (usually the SDK's
//! standard kinds plus one or two of its own) and writes the feedback for each
//! level. The SDK does the rest: it matches each configured item to its kind,
//! collects every specification error at once, and scores whole batches.

use crate::NOT_APPLICABLE;
use crate::dense;
use crate::proto::{
    AnswerBatch, AnswerStatus, DomainConfig, DomainDescription, DomainPresentation, Feedback,
    InterpretRequest, InterpretResponse, ItemPresentation, ItemScores, ItemSpec, LevelRef,
    PluginError, SimulateRequest, Violation,
};
pub use crate::sim::SimRng;

/// What scoring one answer gave.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AnswerOutcome {
    /// A score within the item's range.
    Score(f64),
    /// A "don't know" answer: it counts as answered and earns this score
    /// (usually the minimum), and is counted separately.
    DontKnow(f64),
}

/// One kind of item (Likert, keyed single choice, ranking, ...).
pub trait ItemKind: Send + Sync {
    /// The name instruments use in an item's `kind` field.
    fn name(&self) -> &'static str;
    /// One line for `ikd plugins list` and the docs.
    fn description(&self) -> &'static str;
    /// Checks an item's specification and builds its scorer. Report every
    /// problem found, each naming the field at fault.
    fn prepare(&self, item: &ItemSpec) -> Result<Box<dyn ItemScorer>, Vec<Violation>>;
    /// How a (prepared, so valid) item is shown to a respondent: a widget of
    /// the closed vocabulary, its stimulus and choices, and how the widget's
    /// value becomes the answer cell. Never the key, credits or tolerances
    /// (the helpers in [`crate::present`] copy only what may be shown).
    fn present(&self, item: &ItemSpec) -> ItemPresentation;
}

/// Scores the answers to one configured item.
pub trait ItemScorer: Send + Sync {
    /// Lowest and highest score an answer can earn.
    fn range(&self) -> (f64, f64);
    /// Scores one non-empty answer that is not "not applicable"; an `Err`
    /// explains why the answer is invalid (and is reported with the item id).
    fn score(&self, answer: &str) -> Result<AnswerOutcome, String>;

    /// Number of score categories when every score is one of the integers
    /// `min..=max` (IRT models need this); 0 otherwise.
    fn categories(&self) -> u32 {
        0
    }

    /// Draws a plausible raw answer for a respondent with latent trait `theta`
    /// (standard normal scale), using `rng` for randomness; `None` leaves the
    /// cell skipped. Used by `ikd simulate` and load tests.
    fn simulate(&self, theta: f64, rng: &mut SimRng) -> Option<String> {
        let _ = (theta, rng);
        None
    }
}

/// What a domain instance is created from.
pub struct DomainSetup<'a> {
    /// The domain code in the instrument (e.g. `literasi-digital`).
    pub domain: &'a str,
    /// The domain's items.
    pub items: &'a [ItemSpec],
    /// The domain's `settings` table from the instrument, as JSON (`null` when absent).
    pub settings: serde_json::Value,
}

impl DomainSetup<'_> {
    /// For plugins without settings: a non-empty `settings` table is refused
    /// so that a misplaced setting does not go unnoticed.
    pub fn expect_no_settings(&self, plugin: &str) -> Result<(), crate::PluginError> {
        let s = &self.settings;
        if s.is_null() || s.as_object().is_some_and(|m| m.is_empty()) {
            return Ok(());
        }
        Err(crate::PluginError::invalid(
            format!(
                "domain '{}': plugin '{plugin}' takes no settings",
                self.domain
            ),
            vec![crate::Violation::item(
                self.domain,
                "settings",
                format!("unexpected settings {s}"),
            )],
        ))
    }
}

/// A competency domain plugin.
pub trait DomainPlugin: Send + Sync + Sized + 'static {
    /// The plugin name that manifests and instruments refer to.
    const NAME: &'static str;
    /// One line describing the domain.
    const DESCRIPTION: &'static str;

    /// The item kinds this domain owns.
    fn item_kinds() -> Vec<Box<dyn ItemKind>>;

    /// Creates the plugin for one domain of one instrument.
    fn new(setup: &DomainSetup) -> Result<Self, PluginError>;

    /// Feedback and development advice for a respondent at `level`.
    fn feedback(&self, level: &LevelRef) -> Feedback;
}

/// A configured domain: the plugin and one scorer per item. Built by the
/// export macro; public so that a plugin can be exercised in-process in tests.
pub struct DomainInstance<P> {
    plugin: P,
    scorers: Vec<Box<dyn ItemScorer>>,
    item_ids: Vec<String>,
    presentations: Vec<ItemPresentation>,
}

impl<P: DomainPlugin> DomainInstance<P> {
    /// Matches every item to its kind and prepares it; all violations are reported together.
    pub fn new(config: &DomainConfig) -> Result<Self, PluginError> {
        let settings = if config.settings_json.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&config.settings_json).map_err(|e| {
                PluginError::msg(format!(
                    "domain '{}': settings are not valid JSON: {e}",
                    config.domain
                ))
            })?
        };
        let kinds = P::item_kinds();
        let mut scorers = Vec::with_capacity(config.items.len());
        let mut presentations = Vec::with_capacity(config.items.len());
        let mut violations = Vec::new();
        for item in &config.items {
            match kinds.iter().find(|k| k.name() == item.kind) {
                None => violations.push(Violation::item(
                    &item.id,
                    "kind",
                    format!(
                        "kind '{}' is not owned by plugin '{}' (it owns: {})",
                        item.kind,
                        P::NAME,
                        kinds
                            .iter()
                            .map(|k| k.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
                Some(kind) => match kind.prepare(item) {
                    Ok(scorer) => {
                        scorers.push(scorer);
                        presentations.push(kind.present(item));
                    }
                    Err(mut v) => violations.append(&mut v),
                },
            }
        }
        if !violations.is_empty() {
            return Err(PluginError::invalid(
                format!(
                    "domain '{}': {} item specification error(s)",
                    config.domain,
                    violations.len()
                ),
                violations,
            ));
        }
        let plugin = P::new(&DomainSetup {
            domain: &config.domain,
            items: &config.items,
            settings,
        })?;
        Ok(DomainInstance {
            plugin,
            scorers,
            item_ids: config.items.iter().map(|i| i.id.clone()).collect(),
            presentations,
        })
    }

    /// How every configured item is shown, in configuration order.
    pub fn present(&self) -> DomainPresentation {
        DomainPresentation {
            items: self.presentations.clone(),
        }
    }

    /// The score range and categories of every configured item.
    pub fn describe(&self) -> DomainDescription {
        let (score_min, score_max) = self.scorers.iter().map(|s| s.range()).unzip();
        DomainDescription {
            score_min,
            score_max,
            categories: self.scorers.iter().map(|s| s.categories()).collect(),
        }
    }

    /// Synthetic answers: one row per requested theta, reproducible from the seed.
    pub fn simulate(&self, request: &SimulateRequest) -> AnswerBatch {
        let rows = request.theta.iter().enumerate().map(|(r, &theta)| {
            self.scorers
                .iter()
                .enumerate()
                .map(|(i, scorer)| {
                    let mut rng = SimRng::for_cell(
                        request.seed,
                        request.first_respondent + r as u64,
                        &self.item_ids[i],
                    );
                    scorer.simulate(theta, &mut rng).unwrap_or_default()
                })
                .collect::<Vec<_>>()
        });
        let mut batch = answer_batch(rows);
        batch.items = self.scorers.len() as u32;
        batch
    }

    /// Scores a batch of raw answers.
    pub fn score_items(&self, batch: &AnswerBatch) -> Result<ScoredItems, PluginError> {
        let n = batch.respondents as usize;
        let m = batch.items as usize;
        if m != self.scorers.len() {
            return Err(PluginError::msg(format!(
                "batch has {m} item columns, the domain has {} items",
                self.scorers.len()
            )));
        }
        // Offsets are read in place: the batch is borrowed for the whole call.
        let raw_offsets: &[u8] = &batch.offsets;
        if raw_offsets.len() != (n * m + 1) * 4 {
            return Err(PluginError::msg(format!(
                "field 'offsets' holds {} bytes, expected {} values of 4 bytes",
                raw_offsets.len(),
                n * m + 1
            )));
        }
        let offset = |k: usize| {
            let mut word = [0u8; 4];
            word.copy_from_slice(&raw_offsets[k * 4..k * 4 + 4]);
            u32::from_le_bytes(word) as usize
        };
        let mut scores = Vec::with_capacity(n * m);
        let mut status = Vec::with_capacity(n * m);
        let mut violations = Vec::new();
        for cell in 0..n * m {
            let (start, end) = (offset(cell), offset(cell + 1));
            let Some(answer) = batch
                .answer_data
                .get(start..end)
                .and_then(|b| std::str::from_utf8(b).ok())
            else {
                return Err(PluginError::msg(format!(
                    "answer cell {cell} is out of bounds or not UTF-8"
                )));
            };
            let answer = answer.trim();
            let (score, st) = if answer.is_empty() {
                (f64::NAN, AnswerStatus::Skipped)
            } else if answer == NOT_APPLICABLE {
                (f64::NAN, AnswerStatus::NotApplicable)
            } else {
                match self.scorers[cell % m].score(answer) {
                    Ok(AnswerOutcome::Score(s)) => (s, AnswerStatus::Answered),
                    Ok(AnswerOutcome::DontKnow(s)) => (s, AnswerStatus::DontKnow),
                    Err(message) => {
                        violations.push(Violation {
                            item: self.item_ids[cell % m].clone(),
                            field: "answer".into(),
                            message,
                            respondent: (cell / m) as i64,
                        });
                        (f64::NAN, AnswerStatus::Invalid)
                    }
                }
            };
            scores.push(score);
            status.push(st as u8);
        }
        Ok(ScoredItems {
            respondents: batch.respondents,
            items: batch.items,
            scores,
            status,
            violations,
        })
    }

    /// Feedback for each requested level.
    pub fn interpret(&self, request: &InterpretRequest) -> InterpretResponse {
        InterpretResponse {
            feedback: request
                .levels
                .iter()
                .map(|l| self.plugin.feedback(l))
                .collect(),
        }
    }
}

/// Item scores of a batch, respondents × items, row-major.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScoredItems {
    pub respondents: u32,
    pub items: u32,
    /// NaN where the cell is not scored.
    pub scores: Vec<f64>,
    /// `AnswerStatus` values.
    pub status: Vec<u8>,
    /// One per invalid cell, with the respondent's index in the batch.
    pub violations: Vec<Violation>,
}

impl ScoredItems {
    pub fn to_wire(&self) -> ItemScores {
        ItemScores {
            respondents: self.respondents,
            items: self.items,
            scores: dense::encode(&self.scores).into(),
            status: dense::encode(&self.status).into(),
            violations: self.violations.clone(),
        }
    }

    /// Encodes as an `ItemScores` message in one pass (the bytes of
    /// `to_wire().encode_to_vec()`, without the intermediate copies).
    pub fn encode_to_vec(&self) -> Vec<u8> {
        use prost::encoding::{WireType, encode_key, encode_varint, message};
        let mut out = Vec::with_capacity(16 + self.scores.len() * 9);
        for (tag, value) in [(1, self.respondents), (2, self.items)] {
            if value != 0 {
                encode_key(tag, WireType::Varint, &mut out);
                encode_varint(u64::from(value), &mut out);
            }
        }
        dense::put_field(3, &self.scores, &mut out);
        dense::put_field(4, &self.status, &mut out);
        for v in &self.violations {
            message::encode(5, v, &mut out);
        }
        out
    }

    /// Decodes an `ItemScores` message straight from borrowed bytes; unknown
    /// fields are skipped.
    pub fn decode_from(mut bytes: &[u8]) -> Result<Self, PluginError> {
        use prost::Message;
        use prost::encoding::{DecodeContext, WireType, decode_key, decode_varint, skip_field};
        let bad =
            |e: prost::DecodeError| PluginError::msg(format!("cannot decode item scores: {e}"));
        let (mut counts, mut scores, mut status) = ([0u64; 2], &[][..], &[][..]);
        let mut violations = Vec::new();
        while !bytes.is_empty() {
            let (tag, wire_type) = decode_key(&mut bytes).map_err(bad)?;
            match (tag, wire_type) {
                (1 | 2, WireType::Varint) => {
                    counts[tag as usize - 1] = decode_varint(&mut bytes).map_err(bad)?
                }
                (3..=5, WireType::LengthDelimited) => {
                    let len = decode_varint(&mut bytes).map_err(bad)? as usize;
                    if len > bytes.len() {
                        return Err(PluginError::msg(
                            "cannot decode item scores: truncated field",
                        ));
                    }
                    let (field, rest) = bytes.split_at(len);
                    match tag {
                        3 => scores = field,
                        4 => status = field,
                        _ => violations.push(Violation::decode(field).map_err(bad)?),
                    }
                    bytes = rest;
                }
                _ => {
                    skip_field(wire_type, tag, &mut bytes, DecodeContext::default()).map_err(bad)?
                }
            }
        }
        let count = |c: u64| {
            u32::try_from(c)
                .map_err(|_| PluginError::msg(format!("{c} rows or items in one batch")))
        };
        let (respondents, items) = (count(counts[0])?, count(counts[1])?);
        let cells = respondents as usize * items as usize;
        Ok(ScoredItems {
            respondents,
            items,
            scores: dense::decode(scores, cells, "scores")?,
            status: dense::decode(status, cells, "status")?,
            violations,
        })
    }

    pub fn from_wire(wire: ItemScores) -> Result<Self, PluginError> {
        let cells = wire.respondents as usize * wire.items as usize;
        Ok(ScoredItems {
            respondents: wire.respondents,
            items: wire.items,
            scores: dense::decode(&wire.scores, cells, "scores")?,
            status: dense::decode(&wire.status, cells, "status")?,
            violations: wire.violations,
        })
    }
}

/// Builds an [`AnswerBatch`] from rows of answer cells (handy in tests and in-process use).
pub fn answer_batch<R, C>(rows: R) -> AnswerBatch
where
    R: IntoIterator<Item = C>,
    C: IntoIterator,
    C::Item: AsRef<str>,
{
    let mut batch = AnswerBatch::default();
    let mut answer_data = Vec::new();
    let mut offsets = vec![0u32];
    let mut items = None;
    for row in rows {
        let mut count = 0;
        for cell in row {
            answer_data.extend_from_slice(cell.as_ref().as_bytes());
            offsets.push(answer_data.len() as u32);
            count += 1;
        }
        assert_eq!(*items.get_or_insert(count), count, "ragged answer rows");
        batch.respondents += 1;
    }
    batch.items = items.unwrap_or(0);
    batch.answer_data = answer_data.into();
    batch.offsets = dense::encode(&offsets).into();
    batch
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(settings: serde_json::Value) -> DomainSetup<'static> {
        DomainSetup {
            domain: "d",
            items: &[],
            settings,
        }
    }

    #[test]
    fn only_absent_or_empty_settings_pass() {
        assert!(
            setup(serde_json::Value::Null)
                .expect_no_settings("p")
                .is_ok()
        );
        assert!(setup(serde_json::json!({})).expect_no_settings("p").is_ok());
        let err = setup(serde_json::json!({"x": 1}))
            .expect_no_settings("p")
            .expect_err("settings refused");
        assert_eq!(err.message, "domain 'd': plugin 'p' takes no settings");
        assert_eq!(err.violations.len(), 1);
        assert_eq!(err.violations[0].item, "d");
        assert_eq!(err.violations[0].field, "settings");
        assert_eq!(err.violations[0].message, "unexpected settings {\"x\":1}");
        assert!(setup(serde_json::json!(3)).expect_no_settings("p").is_err());
    }
}

#[cfg(test)]
mod wire_tests {
    use super::*;
    use prost::Message;

    #[test]
    fn item_scores_encode_and_decode_in_one_pass_like_protobuf() {
        let scored = ScoredItems {
            respondents: 2,
            items: 1,
            scores: vec![0.5, f64::NAN],
            status: vec![0, 3],
            violations: vec![Violation {
                item: "Q1".into(),
                field: "answer".into(),
                message: "'z' is not one of the options".into(),
                respondent: 1,
            }],
        };
        let bytes = scored.encode_to_vec();
        assert_eq!(bytes, scored.to_wire().encode_to_vec());
        let back = ScoredItems::decode_from(&bytes).unwrap();
        let reference = ScoredItems::from_wire(ItemScores::decode(&bytes[..]).unwrap()).unwrap();
        assert_eq!(format!("{back:?}"), format!("{reference:?}"));
        assert_eq!(back.violations, scored.violations);
        assert!(ScoredItems::decode_from(&bytes[..bytes.len() - 3]).is_err());
    }
}
