//! Adaptive sessions (`[delivery] mode = "adaptive"`): each person gets the items the
//! instrument's selector plugin picks, one at a time, until the stopping rule is met.
//!
//! Nothing but the answers is stored. Where a session stands is replayed from them: the
//! test starts at the prior, asks the selector for the next item with a random stream
//! seeded from the session (a keyed hash, so any replica draws the same), takes the saved
//! answer to that item, and so on until it reaches an item without an answer (the one to
//! give now) or the stopping rule. Selection is a pure function of the answers, so the
//! replay is the test that was given, and `SaveAnswers` accepts only the item it leads to.
//!
//! Items not given are *not applicable* when the session is scored: the `irt` model then
//! computes each domain's EAP on exactly the items given — the θ and SE that stopped it.

use crate::State;
use crate::catalog::Entry;
use crate::errors::{Invalid, bad_request};
use crate::render::api_step;
use ikd_cat::{AdaptiveTest, Next, StopReason, TestState};
use ikd_core::adaptive::adaptive_test;
use ikd_core::host::{DEFAULT_SELECT_DEADLINE, PluginHost, PluginKindName, PluginSelector};
use ikd_core::instrument::{AdaptiveDelivery, Instrument};
use ikd_core::pipeline::ItemScores;
use ikd_core::quote::quote;
use ikd_core::results::{AdministeredItem, Administration, PluginProvenance};
use ikd_irt::categories::category_of;
use ikd_proto::v1 as api;
use ikd_store::Session;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::HashMap;
use std::sync::Arc;
use tonic::Status;

/// The cell that marks an item not given when an adaptive session is scored.
const NOT_GIVEN: &str = "NA";

/// An adaptive instrument bound to its selector plugin, once at start-up.
pub struct Adaptive {
    test: AdaptiveTest,
    selector: PluginSelector,
    selector_ref: PluginProvenance,
}

impl Adaptive {
    /// The test `delivery` declares, with an instance of its selector plugin. A missing or
    /// refused selector, or settings that do not fit the bank, stop the server's start.
    pub fn bind(
        instrument: &Instrument,
        delivery: &AdaptiveDelivery,
        host: &PluginHost,
    ) -> Result<Self, String> {
        let test = adaptive_test(instrument, delivery).map_err(|e| e.to_string())?;
        let name = &delivery.selector;
        let plugin = host
            .loaded()
            .find(|p| {
                p.manifest.kind == PluginKindName::Selector
                    && p.name() == name
                    && delivery.selector_version.matches(&p.manifest.version)
            })
            .ok_or_else(|| missing_selector(host, delivery))?;
        let selector = PluginSelector::create(plugin.clone(), &test, DEFAULT_SELECT_DEADLINE)
            .map_err(|e| format!("selector plugin '{name}' cannot serve this bank: {e}"))?;
        Ok(Adaptive {
            test,
            selector,
            selector_ref: PluginProvenance::of(plugin),
        })
    }

    pub fn test(&self) -> &AdaptiveTest {
        &self.test
    }

    /// The most items a test gives: its `max_items`, or the whole bank.
    pub fn max_items(&self) -> usize {
        let bank = self.test.bank().len();
        self.test.settings().max_items.map_or(bank, |m| m.min(bank))
    }
}

fn missing_selector(host: &PluginHost, delivery: &AdaptiveDelivery) -> String {
    let name = &delivery.selector;
    if let Some(reason) = host.refusal(name) {
        return format!("[delivery] selector plugin '{name}' was refused: {reason}");
    }
    let loaded: Vec<String> = host
        .loaded()
        .filter(|p| p.manifest.kind == PluginKindName::Selector)
        .map(|p| format!("{} {}", p.name(), p.manifest.version))
        .collect();
    format!(
        "[delivery] selector '{name}' {} is not among the loaded selector plugins ({})",
        delivery.selector_version,
        if loaded.is_empty() {
            "none".to_owned()
        } else {
            loaded.join(", ")
        }
    )
}

/// Where an adaptive session stands.
pub struct Position {
    pub state: TestState,
    /// The item to give now, or why the test is over.
    pub next: Next,
}

impl Position {
    /// The instrument item to give now, if the test goes on.
    pub fn next_item<'a>(&self, adaptive: &'a Adaptive) -> Option<&'a str> {
        match self.next {
            Next::Item(i) => Some(adaptive.test.bank().item(i).id.as_str()),
            Next::Stop(_) => None,
        }
    }

    pub fn stopped(&self) -> Option<StopReason> {
        match self.next {
            Next::Stop(reason) => Some(reason),
            Next::Item(_) => None,
        }
    }

    pub fn is_given(&self, adaptive: &Adaptive, item: &str) -> bool {
        adaptive
            .test
            .bank()
            .index_of(item)
            .is_some_and(|i| self.state.is_given(i))
    }

    /// The items given, in order, with their domain's θ and SE after each.
    pub fn administered(&self, adaptive: &Adaptive) -> Vec<AdministeredItem> {
        let bank = adaptive.test.bank();
        self.state
            .steps()
            .iter()
            .map(|step| {
                let item = bank.item(step.item);
                AdministeredItem {
                    item: item.id.clone(),
                    domain: item.domain.clone(),
                    category: step.category,
                    theta: step.estimate.theta,
                    se: step.estimate.se,
                }
            })
            .collect()
    }

    /// What `NextItems` answers.
    pub fn to_api(&self, adaptive: &Adaptive) -> api::NextItemsResponse {
        api::NextItemsResponse {
            item_ids: self
                .next_item(adaptive)
                .map(str::to_owned)
                .into_iter()
                .collect(),
            stopped: self.stopped().is_some(),
            stop_reason: self
                .stopped()
                .map(|r| r.name().to_owned())
                .unwrap_or_default(),
            steps: self.administered(adaptive).iter().map(api_step).collect(),
            max_items: adaptive.max_items() as u32,
        }
    }
}

/// The adaptive binding of `entry`; `FAILED_PRECONDITION` for a fixed instrument.
pub(crate) fn of(entry: &Entry) -> Result<&Arc<Adaptive>, Status> {
    entry.adaptive.as_ref().ok_or_else(|| {
        Status::failed_precondition(format!(
            "instrument '{}' {} is not adaptive: all of its items are given",
            entry.instrument.id, entry.instrument.version
        ))
    })
}

impl State {
    /// Where `session` stands, replayed from its saved answers (see the module doc).
    pub(crate) async fn position(
        &self,
        entry: &Entry,
        adaptive: &Arc<Adaptive>,
        session: &Session,
    ) -> Result<Position, Status> {
        let categories = self.answer_categories(entry, adaptive, session).await?;
        let adaptive = adaptive.clone();
        let seed = self.session_seed(&session.id);
        let replay = tokio::task::spawn_blocking(move || replay(&adaptive, &categories, seed));
        let (position, off_path) = tokio::time::timeout(self.scoring_deadline(), replay)
            .await
            .map_err(|_| Status::deadline_exceeded("the next item was not chosen in time"))?
            .map_err(|e| Status::internal(format!("choosing the next item failed: {e}")))??;
        if off_path > 0 {
            tracing::warn!(session = %session.id, off_path, "saved answers the adaptive test did not give (left unscored)");
        }
        Ok(position)
    }

    /// The seed of a session's randomesque draws: a keyed hash of its id, so that every
    /// replica, and every replay, draws the same items.
    fn session_seed(&self, session_id: &str) -> u64 {
        let hash = self
            .pseudonyms
            .pseudonym(&format!("adaptive\u{0}{session_id}"));
        u64::from_str_radix(&hash[..16], 16).expect("a pseudonym is hex")
    }

    /// The IRT category of every saved answer the test can take, by bank index. An answer
    /// the kinds give no score (skipped, not applicable) has none.
    async fn answer_categories(
        &self,
        entry: &Entry,
        adaptive: &Adaptive,
        session: &Session,
    ) -> Result<HashMap<usize, u8>, Status> {
        if session.answers.is_empty() {
            return Ok(HashMap::new());
        }
        let mut rows = entry.items.empty_rows();
        entry
            .items
            .push_stored(
                &mut rows,
                (&session.id, &session.org_unit, None),
                &session.answers,
            )
            .map_err(|v| bad_request("stored answers no longer fit the instrument", &v))?;
        let scores = self.item_scores(&entry.scorer, rows).await?;
        Ok(categories(entry, adaptive, &scores))
    }

    /// Checks a save in an adaptive session: every answer is to the item the test gives
    /// now, or repeats a given item's saved answer (a retried request); the item given now
    /// gets an answer the test can take.
    pub(crate) async fn check_adaptive_save(
        &self,
        entry: &Entry,
        adaptive: &Arc<Adaptive>,
        session: &Session,
        answers: &[(&str, &str)],
    ) -> Result<(), Status> {
        let position = self.position(entry, adaptive, session).await?;
        let next = position.next_item(adaptive);
        let mut problems = Vec::new();
        for &(item, value) in answers {
            let repeated = position.is_given(adaptive, item)
                && session.answers.iter().any(|(i, v)| i == item && v == value);
            if repeated {
                continue;
            }
            let Some(next) = next else {
                return Err(Status::failed_precondition(format!(
                    "the adaptive test of session {} is over ({}): submit it",
                    quote(&session.id),
                    position.stopped().map_or("", StopReason::name)
                )));
            };
            if item != next {
                problems.push(Invalid::answer(
                    item,
                    format!(
                        "the adaptive test gives item {} now; a given item's answer cannot change",
                        quote(next)
                    ),
                ));
            } else if !self.answerable(entry, adaptive, item, value).await? {
                problems.push(Invalid::answer(
                    item,
                    "an adaptive test needs an answer to the item it gives; this one skips it",
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(bad_request("cannot save answers", &problems[..]))
        }
    }

    /// Whether `value` is an answer to `item` the test can take (scored, not skipped).
    async fn answerable(
        &self,
        entry: &Entry,
        adaptive: &Adaptive,
        item: &str,
        value: &str,
    ) -> Result<bool, Status> {
        let mut rows = entry.items.empty_rows();
        let answer = [(item.to_owned(), value.to_owned())];
        entry
            .items
            .push_stored(&mut rows, ("", "", None), &answer)
            .map_err(|v| bad_request("invalid answers", &v))?;
        let scores = self.item_scores(&entry.scorer, rows).await?;
        let index = adaptive.test.bank().index_of(item);
        Ok(index.is_some_and(|i| categories(entry, adaptive, &scores).contains_key(&i)))
    }
}

/// The answers an adaptive session is scored from: the items given keep their answers;
/// every other item is not applicable.
pub(crate) fn scored_answers(
    position: &Position,
    adaptive: &Adaptive,
    session: &Session,
) -> Vec<(String, String)> {
    let given: HashMap<&str, &str> = session
        .answers
        .iter()
        .map(|(i, v)| (i.as_str(), v.as_str()))
        .collect();
    adaptive
        .test
        .bank()
        .items()
        .iter()
        .map(|item| {
            let value = match given.get(item.id.as_str()) {
                Some(v) if position.is_given(adaptive, &item.id) => v,
                _ => NOT_GIVEN,
            };
            (item.id.clone(), value.to_owned())
        })
        .collect()
}

/// The administration record a result keeps.
pub(crate) fn administration(position: &Position, adaptive: &Adaptive) -> Administration {
    Administration {
        selector: adaptive.selector_ref.clone(),
        stop_reason: position
            .stopped()
            .map_or("end_early", StopReason::name)
            .to_owned(),
        steps: position.administered(adaptive),
    }
}

/// Bank index → IRT category of the observed cells of respondent 0 (the `irt` model's
/// mapping, `category_of`).
fn categories(entry: &Entry, adaptive: &Adaptive, scores: &ItemScores) -> HashMap<usize, u8> {
    let layout = entry.scorer.item_layout();
    let bank = adaptive.test.bank();
    (0..scores.items)
        .filter(|&k| ItemScores::is_observed(scores.status[k]))
        .filter_map(|k| {
            let item = &layout[k];
            let index = bank.index_of(&item.id)?;
            let x = scores.scores[k];
            let k_categories = bank.item(index).irt.categories();
            let code = category_of(
                x,
                item.score_min,
                item.score_max,
                item.categories,
                k_categories,
            );
            (code != ikd_irt::MISSING).then_some((index, code))
        })
        .collect()
}

/// Runs the test over the saved answers; also counts answers it never reached.
fn replay(
    adaptive: &Adaptive,
    categories: &HashMap<usize, u8>,
    seed: u64,
) -> Result<(Position, usize), Status> {
    let test = &adaptive.test;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut state = test.start();
    let next = loop {
        let next = test
            .next(&state, &adaptive.selector, &mut rng)
            .map_err(|e| {
                tracing::error!("adaptive selection failed: {e}");
                Status::unavailable(format!(
                    "the next item cannot be chosen: {e}; the answers are kept, and the \
                     session goes on once the selector works again"
                ))
            })?;
        let Next::Item(item) = next else { break next };
        let Some(&category) = categories.get(&item) else {
            break next;
        };
        test.record(&mut state, item, category)
            .map_err(|e| Status::internal(format!("replaying the test: {e}")))?;
    };
    let off_path = categories.keys().filter(|&&i| !state.is_given(i)).count();
    Ok((Position { state, next }, off_path))
}

/// `NextItems`: where the caller's open session stands.
pub(crate) async fn next_items(
    state: &State,
    caller: &crate::auth::Caller,
    session_id: &str,
) -> Result<api::NextItemsResponse, Status> {
    let session = state.open_session(caller, session_id).await?;
    let entry = state.session_entry(&session)?;
    let adaptive = of(entry)?;
    let position = state.position(entry, adaptive, &session).await?;
    Ok(position.to_api(adaptive))
}
