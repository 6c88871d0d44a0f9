//! Stateless scoring: `Score` (one respondent) and `ScoreStream` (many), answers
//! in, results out, nothing stored. A stream scores whatever requests are
//! already waiting as one batch, so it costs one plugin call per batch instead
//! of one per respondent; a request that fails gets a `Problem` of its own and
//! does not fail the others.

use crate::State;
use crate::answers::{self, check_duration, check_id, check_org_unit};
use crate::auth::Caller;
use crate::catalog::Entry;
use crate::errors::{self, Invalid, bad_request};
use crate::render::{language, render};
use futures_util::StreamExt;
use ikd_core::lang::Lang;
use ikd_core::pipeline::{ScoreError, Scorer};
use ikd_core::quote::quote;
use ikd_core::results::{RespondentResult, ResultRecord};
use ikd_proto::v1 as api;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};

/// Longest scoring-model (plugin) name accepted in a request.
const MAX_MODEL: usize = 64;

/// The responses of a `ScoreStream`, in request order.
pub(crate) type Responses = ReceiverStream<Result<api::ScoreStreamResponse, Status>>;

/// Scores one respondent, under the scoring deadline.
pub(crate) async fn score_one(
    state: &State,
    caller: &Caller,
    req: &api::ScoreRequest,
) -> Result<api::ScoreResponse, Status> {
    let prepared = state.prepare(caller, req)?;
    let cells = prepared.cells(req)?;
    let items = prepared.entry.items.count();
    let result = state
        .score_one(&prepared.scorer, items, |rows| {
            answers::push(
                rows,
                &req.respondent_id,
                &req.org_unit,
                prepared.duration,
                &cells,
            )
        })
        .await?;
    Ok(api::ScoreResponse {
        result: Some(prepared.render(&result, req.detail())),
    })
}

/// Scores a stream of requests from a task of its own, batch by batch: each
/// batch is what has arrived (at most the configured stream batch) by the time
/// the previous one is scored.
pub(crate) fn score_stream(
    state: Arc<State>,
    caller: Caller,
    requests: Streaming<api::ScoreRequest>,
) -> Responses {
    let batch = state.limits.stream_batch;
    let mut inbound = requests.ready_chunks(batch);
    // Bounded both ways: at most one batch is read ahead of what the client
    // has taken back, so a slow reader slows the writer down.
    let (tx, rx) = mpsc::channel(batch);
    tokio::spawn(async move {
        let mut sequence = 0u64;
        while let Some(chunk) = inbound.next().await {
            let mut requests = Vec::with_capacity(chunk.len());
            let mut broken = None;
            for item in chunk {
                match item {
                    Ok(r) => requests.push(r),
                    Err(status) => {
                        broken = Some(status);
                        break;
                    }
                }
            }
            for response in state.score_many(&caller, requests, &mut sequence).await {
                if tx.send(Ok(response)).await.is_err() {
                    return; // the client went away
                }
            }
            if let Some(status) = broken {
                let _ = tx.send(Err(status)).await;
                return;
            }
        }
    });
    ReceiverStream::new(rx)
}

/// A checked scoring request: where it goes and what it may see.
struct Prepared<'a> {
    entry: &'a Arc<Entry>,
    scorer: Arc<Scorer>,
    lang: Lang,
    duration: Option<f64>,
}

impl Prepared<'_> {
    /// The request's answers in instrument order, checked against the instrument's
    /// items; given by item id (`answers`) or already in order (`answer_values`, or
    /// `answer_line` with its cells joined by tabs): one of the three.
    fn cells<'r>(&self, req: &'r api::ScoreRequest) -> Result<Vec<&'r str>, Status> {
        let items = &self.entry.items;
        let given = [
            ("answers", !req.answers.is_empty()),
            ("answer_values", !req.answer_values.is_empty()),
            ("answer_line", !req.answer_line.is_empty()),
        ];
        let mut named = given.iter().filter(|(_, given)| *given).map(|(f, _)| *f);
        let (first, second) = (named.next(), named.next());
        let cells = match (first, second) {
            (_, Some(field)) => {
                return Err(bad_request(
                    "invalid answers",
                    &[Invalid {
                        field: field.into(),
                        description: format!(
                            "a request gives one of answers, answer_values and answer_line, \
                             not both {} and {field}",
                            first.unwrap_or_default()
                        ),
                    }],
                ));
            }
            (Some("answer_values"), None) => items.cells_in_order(
                "answer_values",
                req.answer_values.iter().map(String::as_str).collect(),
            ),
            (Some("answer_line"), None) => {
                items.cells_in_order("answer_line", tab_cells(&req.answer_line))
            }
            _ => items.cells(
                req.answers
                    .iter()
                    .map(|a| (a.item_id.as_str(), a.value.as_str())),
            ),
        };
        cells.map_err(|v| bad_request("invalid answers", &v))
    }

    /// A fresh result in the request's language and detail.
    fn render(&self, result: &RespondentResult, detail: api::ResultDetail) -> api::Result {
        let full = detail == api::ResultDetail::Full;
        let record = if full {
            ResultRecord::from_result(result, &self.scorer)
        } else {
            ResultRecord::scores_from_result(result, &self.scorer)
        };
        render(&self.scorer, record, None, self.lang, full)
    }
}

impl State {
    /// Checks what a scoring request names before any answer is looked at.
    fn prepare(&self, caller: &Caller, req: &api::ScoreRequest) -> Result<Prepared<'_>, Status> {
        let duration = check_respondent(caller, req)?;
        let lang = language(&req.language)?;
        let entry = self.catalog.resolve(req.instrument.as_ref())?;
        let scorer = entry.scorer_for(&self.catalog.host, &req.model, "")?;
        Ok(Prepared {
            entry,
            scorer,
            lang,
            duration,
        })
    }

    /// Scores the requests of one stream chunk, in order. Consecutive requests
    /// for the same instrument and model go to the plugins as one batch.
    async fn score_many(
        &self,
        caller: &Caller,
        requests: Vec<api::ScoreRequest>,
        sequence: &mut u64,
    ) -> Vec<api::ScoreStreamResponse> {
        let mut responses: Vec<api::ScoreStreamResponse> = requests
            .iter()
            .map(|r| {
                let response = api::ScoreStreamResponse {
                    sequence: *sequence,
                    respondent_id: r.respondent_id.clone(),
                    outcome: None,
                };
                *sequence += 1;
                response
            })
            .collect();
        let mut start = 0;
        while start < requests.len() {
            let prepared = match self.prepare(caller, &requests[start]) {
                Ok(p) => p,
                Err(status) => {
                    responses[start].outcome = Some(problem(&status));
                    start += 1;
                    continue;
                }
            };
            // The run of requests that share this scorer.
            let same = |r: &api::ScoreRequest| {
                let first = &requests[start];
                r.instrument == first.instrument
                    && r.model == first.model
                    && r.language == first.language
            };
            let end = start + requests[start..].iter().take_while(|r| same(r)).count();
            self.score_run(
                caller,
                &prepared,
                &requests[start..end],
                &mut responses[start..end],
            )
            .await;
            start = end;
        }
        responses
    }

    /// Scores requests that share a scorer as one batch; a respondent whose
    /// answers the plugins refuse is set aside with its violations.
    async fn score_run(
        &self,
        caller: &Caller,
        prepared: &Prepared<'_>,
        requests: &[api::ScoreRequest],
        responses: &mut [api::ScoreStreamResponse],
    ) {
        let mut todo: Vec<usize> = Vec::with_capacity(requests.len());
        let mut rows = prepared.entry.items.empty_rows();
        for (k, req) in requests.iter().enumerate() {
            // Every request is checked on its own: names, scope, duration, answers. Its
            // instrument, model and language are the run's, checked once by `prepare`.
            let checked = check_respondent(caller, req).and_then(|d| Ok((d, prepared.cells(req)?)));
            match checked {
                Ok((duration, cells)) => {
                    answers::push(
                        &mut rows,
                        &req.respondent_id,
                        &req.org_unit,
                        duration,
                        &cells,
                    );
                    todo.push(k);
                }
                Err(status) => responses[k].outcome = Some(problem(&status)),
            }
        }
        if todo.is_empty() {
            return;
        }
        let outcomes = match prepared.scorer.score_each_blocking(rows).await {
            Ok(outcomes) => outcomes,
            Err(e) => {
                let status = errors::score(e);
                for &k in &todo {
                    responses[k].outcome = Some(problem(&status));
                }
                return;
            }
        };
        // A plugin failure is the same for every respondent it left without a result.
        let mut plugin_failure: Option<Status> = None;
        for (outcome, &k) in outcomes.into_iter().zip(&todo) {
            responses[k].outcome = Some(match outcome {
                Ok(result) => api::score_stream_response::Outcome::Result(
                    prepared.render(&result, requests[k].detail()),
                ),
                Err(e @ ScoreError::InvalidAnswers(_)) => problem(&errors::score(e)),
                Err(e @ ScoreError::Plugin(_)) => {
                    problem(plugin_failure.get_or_insert_with(|| errors::score(e)))
                }
            });
        }
    }
}

/// The cells of an `answer_line`, cut at its tabs. A tab is one byte, found by
/// `memchr`; `str::split('\t')` also compares each match's encoding through a
/// `memcmp` call, which showed in `ScoreStream` profiles.
fn tab_cells(line: &str) -> Vec<&str> {
    let mut cells = Vec::with_capacity(64);
    let mut start = 0;
    for tab in memchr::memchr_iter(b'\t', line.as_bytes()) {
        cells.push(&line[start..tab]);
        start = tab + 1;
    }
    cells.push(&line[start..]);
    cells
}

/// A failed request of a stream, as its response says it.
fn problem(status: &Status) -> api::score_stream_response::Outcome {
    use tonic_types::StatusExt;
    let violations = status
        .get_details_bad_request()
        .map(|b| {
            b.field_violations
                .into_iter()
                .map(|v| api::Violation {
                    field: v.field,
                    description: v.description,
                })
                .collect()
        })
        .unwrap_or_default();
    api::score_stream_response::Outcome::Problem(api::Problem {
        code: status.code() as i32,
        message: status.message().to_owned(),
        violations,
    })
}

/// Checks what a scoring request says of its respondent: the names it gives, its org
/// unit (in the caller's scope) and its completion time, which it returns.
fn check_respondent(caller: &Caller, req: &api::ScoreRequest) -> Result<Option<f64>, Status> {
    check_score_names(req).map_err(|v| bad_request("invalid request", &[v]))?;
    if !req.org_unit.is_empty() {
        check_org_unit(&req.org_unit, "org_unit")
            .map_err(|v| bad_request("invalid request", &[v]))?;
        caller.check_unit(&req.org_unit)?;
    }
    check_duration(req.duration_seconds).map_err(|v| bad_request("invalid request", &[v]))
}

/// The names a scoring request gives besides its instrument, answers and
/// org unit, checked before they are looked up or echoed: the respondent id
/// (optional for `Score`, echoed in every `ScoreStream` response) and the model.
fn check_score_names(req: &api::ScoreRequest) -> Result<(), Invalid> {
    if !req.respondent_id.is_empty() {
        check_id(&req.respondent_id, "respondent_id")?;
    }
    if req.model.len() > MAX_MODEL || req.model.chars().any(char::is_control) {
        return Err(Invalid {
            field: "model".into(),
            description: format!(
                "{} is not a model name (at most {MAX_MODEL} bytes, no control characters)",
                quote(&req.model)
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::tab_cells;

    /// The same cells as `split('\t')`: empty cells, the ends, multi-byte text.
    #[test]
    fn tab_cells_are_the_cells_between_tabs() {
        for line in [
            "",
            "\t",
            "3",
            "3\t4",
            "\t3\t\t4\t",
            "NA\tsangat setuju\t",
            "é\t日本\t\t✓",
        ] {
            let expected: Vec<&str> = line.split('\t').collect();
            assert_eq!(tab_cells(line), expected, "line {line:?}");
        }
    }
}
