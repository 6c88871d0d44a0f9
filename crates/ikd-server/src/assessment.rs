//! `ikd.v1.AssessmentService`: instruments, scoring, sessions, results,
//! aggregates and exports.

use crate::State;
use crate::answers::{self, check_duration, check_org_unit};
use crate::auth::{Caller, Role};
use crate::catalog::Entry;
use crate::errors::{self, Invalid, bad_request};
use crate::export;
use crate::render::{self, ResultView, language, render, timestamp, to_new_result, to_record};
use crate::stats::estimate;
use futures_util::StreamExt;
use ikd_core::disclosure;
use ikd_core::pipeline::{ScoreError, Scorer};
use ikd_core::quote::quote;
use ikd_proto::v1::{self as api, assessment_service_server::AssessmentService};
use ikd_store::{NewResult, NewSession, ResultFilter, Session, SessionState, StoreError};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

/// Longest respondent identifier, session id or request id accepted.
const MAX_ID: usize = 256;
/// Longest scoring-model (plugin) name accepted in a request.
const MAX_MODEL: usize = 64;
/// Results per store page when reading many (exports, time-window cuts).
pub(crate) const EXPORT_PAGE: u32 = 500;
/// Attempts of a submit whose answers keep changing while they are scored (each racing save
/// costs one) before it gives up with `ABORTED`.
const SUBMIT_TRIES: u32 = 5;

pub struct Assessment {
    pub(crate) state: Arc<State>,
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl AssessmentService for Assessment {
    async fn list_instruments(
        &self,
        request: Request<api::ListInstrumentsRequest>,
    ) -> Reply<api::ListInstrumentsResponse> {
        self.state.auth.authorize(
            request.metadata(),
            &[Role::Service, Role::Analyst, Role::Steward],
        )?;
        let instruments = self
            .state
            .catalog
            .entries()
            .iter()
            .map(|e| {
                let i = &e.instrument;
                api::InstrumentSummary {
                    id: i.id.clone(),
                    version: i.version.to_string(),
                    sha256: i.sha256.clone(),
                    title: Some(api::Text {
                        id: i.title.id.clone(),
                        en: i.title.en.clone(),
                    }),
                    domains: i.domains.len() as u32,
                    items: i.items.len() as u32,
                    model: i.scoring.model.clone(),
                }
            })
            .collect();
        Ok(Response::new(api::ListInstrumentsResponse { instruments }))
    }

    async fn get_instrument(
        &self,
        request: Request<api::GetInstrumentRequest>,
    ) -> Reply<api::Instrument> {
        self.state.auth.authorize(
            request.metadata(),
            &[Role::Service, Role::Analyst, Role::Steward],
        )?;
        let req = request.into_inner();
        let lang = language(&req.language)?;
        let entry = self.state.catalog.resolve(req.instrument.as_ref())?;
        Ok(Response::new(describe_instrument(entry, lang)))
    }

    async fn score(&self, request: Request<api::ScoreRequest>) -> Reply<api::ScoreResponse> {
        let caller = self
            .state
            .auth
            .authorize(request.metadata(), &[Role::Service])?;
        let req = request.into_inner();
        let prepared = self.state.prepare(&caller, &req)?;
        let mut rows = prepared.entry.items.empty_rows();
        answers::push(
            &mut rows,
            &req.respondent_id,
            &req.org_unit,
            prepared.duration,
            &prepared.cells(&req)?,
        );
        let results = self.state.score(&prepared.scorer, rows).await?;
        let record = to_record(&prepared.scorer, &results[0]);
        let result = render_detail(&prepared.scorer, &record, prepared.lang, req.detail());
        Ok(Response::new(api::ScoreResponse {
            result: Some(result),
        }))
    }

    type ScoreStreamStream = ReceiverStream<Result<api::ScoreStreamResponse, Status>>;

    async fn score_stream(
        &self,
        request: Request<Streaming<api::ScoreRequest>>,
    ) -> Reply<Self::ScoreStreamStream> {
        let caller = self
            .state
            .auth
            .authorize(request.metadata(), &[Role::Service])?;
        let batch = self.state.limits.stream_batch;
        let mut inbound = request.into_inner().ready_chunks(batch);
        // Bounded both ways: at most one batch is read ahead of what the client
        // has taken back, so a slow reader slows the writer down.
        let (tx, rx) = mpsc::channel(batch);
        let state = self.state.clone();
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
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn start_session(
        &self,
        request: Request<api::StartSessionRequest>,
    ) -> Reply<api::StartSessionResponse> {
        let caller = self
            .state
            .auth
            .authorize(request.metadata(), &[Role::Service])?;
        let req = request.into_inner();
        let entry = self.state.catalog.resolve(req.instrument.as_ref())?;
        let mut problems = Vec::new();
        if let Err(v) = check_org_unit(&req.org_unit, "org_unit") {
            problems.push(v);
        }
        if let Err(v) = check_id(&req.respondent_id, "respondent_id") {
            problems.push(v);
        }
        if !problems.is_empty() {
            return Err(bad_request("cannot start a session", &problems));
        }
        caller.check_unit(&req.org_unit)?;
        let instrument = &entry.instrument;
        let session = self
            .state
            .store
            .start_session(NewSession {
                instrument_id: instrument.id.clone(),
                instrument_version: instrument.version.to_string(),
                instrument_sha256: instrument.sha256.clone(),
                respondent_key: self.state.pseudonyms.pseudonym(&req.respondent_id),
                org_unit: req.org_unit,
            })
            .await
            .map_err(errors::store)?;
        tracing::info!(session = %session.id, caller = %caller.name, "session started");
        Ok(Response::new(api::StartSessionResponse {
            session_id: session.id,
            instrument: Some(api::InstrumentRef {
                id: session.instrument_id,
                version: session.instrument_version,
            }),
            created_at: Some(timestamp(session.created_at)),
        }))
    }

    async fn save_answers(
        &self,
        request: Request<api::SaveAnswersRequest>,
    ) -> Reply<api::SaveAnswersResponse> {
        let caller = self
            .state
            .auth
            .authorize(request.metadata(), &[Role::Service])?;
        let req = request.into_inner();
        check_id(&req.request_id, "request_id")
            .map_err(|v| bad_request("cannot save answers", &[v]))?;
        let session = self.state.open_session(&caller, &req.session_id).await?;
        let entry = self.state.session_entry(&session)?;
        // Answers are checked by their kinds now, not at submit: a client
        // learns about a bad answer while the respondent is still there.
        let cells = entry
            .items
            .cells(
                req.answers
                    .iter()
                    .map(|a| (a.item_id.as_str(), a.value.as_str())),
            )
            .map_err(|v| bad_request("invalid answers", &v))?;
        let mut rows = entry.items.empty_rows();
        answers::push(&mut rows, &session.id, &session.org_unit, None, &cells);
        self.state.score(&entry.scorer, rows).await?;
        let pairs: Vec<(String, String)> = req
            .answers
            .into_iter()
            .map(|a| (a.item_id, a.value))
            .collect();
        let outcome = self
            .state
            .store
            .save_answers(&session.id, &req.request_id, &pairs)
            .await
            .map_err(errors::store)?;
        Ok(Response::new(api::SaveAnswersResponse {
            replayed: outcome.replayed,
            answers_stored: outcome.answers_stored,
        }))
    }

    async fn submit_session(
        &self,
        request: Request<api::SubmitSessionRequest>,
    ) -> Reply<api::SubmitSessionResponse> {
        let caller = self
            .state
            .auth
            .authorize(request.metadata(), &[Role::Service])?;
        let req = request.into_inner();
        let lang = language(&req.language)?;
        // The store keeps the result only if no save was applied since the answers were read
        // (`AnswersChanged`): then read and score them again, a bounded number of times.
        for attempt in 1..=SUBMIT_TRIES {
            let session = self.state.open_session(&caller, &req.session_id).await?;
            let entry = self.state.session_entry(&session)?;
            let record = self.state.score_session(entry, &session).await?;
            match self
                .state
                .store
                .submit(&session.id, session.answers_version, record)
                .await
            {
                Ok(stored) => {
                    tracing::info!(session = %session.id, caller = %caller.name, attempt, "session submitted");
                    return Ok(Response::new(api::SubmitSessionResponse {
                        result: Some(render(&entry.scorer, ResultView::from(&stored), lang, true)),
                        revision: stored.revision,
                    }));
                }
                Err(StoreError::AnswersChanged { .. }) => {
                    tracing::debug!(session = %session.id, attempt, "answers changed during submit; scoring again");
                }
                Err(e) => return Err(errors::store(e)),
            }
        }
        Err(Status::aborted(format!(
            "session {} was not submitted: its answers changed while it was being scored, \
             {SUBMIT_TRIES} times in a row; submit again once the saves have finished",
            quote(&req.session_id)
        )))
    }

    async fn get_result(
        &self,
        request: Request<api::GetResultRequest>,
    ) -> Reply<api::GetResultResponse> {
        let caller = self
            .state
            .auth
            .authorize(request.metadata(), &[Role::Service, Role::Steward])?;
        let req = request.into_inner();
        let lang = language(&req.language)?;
        let session = self.state.visible_session(&caller, &req.session_id).await?;
        let stored = self
            .state
            .store
            .latest_result(&session.id)
            .await
            .map_err(errors::store)?
            .ok_or_else(|| {
                Status::failed_precondition(format!(
                    "session '{}' has not been submitted",
                    session.id
                ))
            })?;
        let entry = self.state.session_entry(&session)?;
        Ok(Response::new(api::GetResultResponse {
            session_id: session.id,
            org_unit: session.org_unit,
            revision: stored.revision,
            submitted_at: Some(timestamp(stored.submitted_at)),
            result: Some(render(&entry.scorer, ResultView::from(&stored), lang, true)),
        }))
    }

    async fn get_aggregate(
        &self,
        request: Request<api::GetAggregateRequest>,
    ) -> Reply<api::Aggregate> {
        let caller = self
            .state
            .auth
            .authorize(request.metadata(), &[Role::Analyst])?;
        let req = request.into_inner();
        let lang = language(&req.language)?;
        let entry = self.state.catalog.resolve(req.instrument.as_ref())?;
        let mut filter = self.state.filter(
            &caller,
            entry,
            &req.org_prefix,
            req.from.as_ref(),
            req.to.as_ref(),
        )?;
        let hidden = self.state.hidden_units(entry).await?;
        if filter.from.is_some() || filter.to.is_some() {
            let cuts = self.state.window_cuts(entry, &hidden).await?;
            (filter.from, filter.to) = disclosure::snap_window(&cuts, filter.from, filter.to);
        }
        let sums = self
            .state
            .store
            .aggregate(&filter)
            .await
            .map_err(errors::store)?;
        Ok(Response::new(aggregate(
            entry,
            &filter,
            &sums,
            self.state.min_group_size,
            hidden.is_hidden(&filter.org_prefix),
            lang,
        )))
    }

    type ExportResultsStream = ReceiverStream<Result<api::ExportedResult, Status>>;

    async fn export_results(
        &self,
        request: Request<api::ExportResultsRequest>,
    ) -> Reply<Self::ExportResultsStream> {
        let caller = self
            .state
            .auth
            .authorize(request.metadata(), &[Role::Steward])?;
        let req = request.into_inner();
        let lang = language(&req.language)?;
        let entry = self.state.catalog.resolve(req.instrument.as_ref())?.clone();
        let filter = self.state.filter(
            &caller,
            &entry,
            &req.org_prefix,
            req.from.as_ref(),
            req.to.as_ref(),
        )?;
        let rx = export::start(self.state.clone(), &caller, filter, entry, lang).await?;
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// A checked scoring request: where it goes and what it may see.
struct Prepared<'a> {
    entry: &'a Arc<Entry>,
    scorer: Arc<Scorer>,
    lang: &'static str,
    duration: Option<f64>,
}

impl Prepared<'_> {
    fn cells<'r>(&self, req: &'r api::ScoreRequest) -> Result<Vec<&'r str>, Status> {
        self.entry
            .items
            .cells(
                req.answers
                    .iter()
                    .map(|a| (a.item_id.as_str(), a.value.as_str())),
            )
            .map_err(|v| bad_request("invalid answers", &v))
    }
}

impl State {
    /// Checks what a scoring request names before any answer is looked at.
    fn prepare(&self, caller: &Caller, req: &api::ScoreRequest) -> Result<Prepared<'_>, Status> {
        check_score_names(req).map_err(|v| bad_request("invalid request", &[v]))?;
        let lang = language(&req.language)?;
        let entry = self.catalog.resolve(req.instrument.as_ref())?;
        if !req.org_unit.is_empty() {
            check_org_unit(&req.org_unit, "org_unit")
                .map_err(|v| bad_request("invalid request", &[v]))?;
            caller.check_unit(&req.org_unit)?;
        }
        let duration = check_duration(req.duration_seconds)
            .map_err(|v| bad_request("invalid request", &[v]))?;
        let scorer = entry.scorer_for(&self.catalog.host, &req.model, "")?;
        Ok(Prepared {
            entry,
            scorer,
            lang,
            duration,
        })
    }

    /// Scores the requests of one stream chunk, in order. Consecutive requests
    /// for the same instrument and model go to the plugins as one batch; a
    /// request that fails gets a `Problem` and does not fail the others.
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

    /// Scores requests that share a scorer, retrying without the respondents
    /// whose answers were invalid.
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
            // Every request is checked on its own: scope, duration, answers.
            let checked = self
                .prepare(caller, req)
                .and_then(|p| Ok((p.duration, p.cells(req)?)));
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
        for _attempt in 0..2 {
            if todo.is_empty() {
                return;
            }
            match prepared.scorer.score_blocking(rows).await {
                Ok(results) => {
                    for (result, &k) in results.iter().zip(&todo) {
                        let record = to_record(&prepared.scorer, result);
                        responses[k].outcome =
                            Some(api::score_stream_response::Outcome::Result(render_detail(
                                &prepared.scorer,
                                &record,
                                prepared.lang,
                                requests[k].detail(),
                            )));
                    }
                    return;
                }
                Err(ScoreError::InvalidAnswers(list)) => {
                    let mut bad: Vec<Vec<Invalid>> = vec![Vec::new(); todo.len()];
                    for v in list {
                        if let Some(slot) = bad.get_mut(v.respondent) {
                            slot.push(Invalid::answer(&v.item, v.message));
                        }
                    }
                    let mut kept = Vec::new();
                    rows = prepared.entry.items.empty_rows();
                    for (&k, violations) in todo.iter().zip(bad) {
                        if violations.is_empty() {
                            let req = &requests[k];
                            let cells = prepared.cells(req).unwrap_or_default();
                            answers::push(
                                &mut rows,
                                &req.respondent_id,
                                &req.org_unit,
                                req.duration_seconds,
                                &cells,
                            );
                            kept.push(k);
                        } else {
                            responses[k].outcome =
                                Some(problem(&bad_request("invalid answers", &violations)));
                        }
                    }
                    todo = kept;
                }
                Err(other) => {
                    let status = errors::score(other);
                    for &k in &todo {
                        responses[k].outcome = Some(problem(&status));
                    }
                    return;
                }
            }
        }
    }

    /// A session the caller may see, or `NOT_FOUND` / `PERMISSION_DENIED`.
    pub(crate) async fn visible_session(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<Session, Status> {
        check_id(id, "session_id").map_err(|v| bad_request("invalid request", &[v]))?;
        let session = self
            .store
            .session(id)
            .await
            .map_err(errors::store)?
            .ok_or_else(|| Status::not_found(format!("no session '{id}'")))?;
        caller.check_unit(&session.org_unit)?;
        Ok(session)
    }

    /// The result of a session's stored answers, to submit. Time from start to now feeds the
    /// too-fast quality flag.
    async fn score_session(&self, entry: &Entry, session: &Session) -> Result<NewResult, Status> {
        let elapsed = answers::completion_seconds(session.created_at, now_millis());
        let mut rows = entry.items.empty_rows();
        entry
            .items
            .push_stored(
                &mut rows,
                (&session.id, &session.org_unit, Some(elapsed)),
                &session.answers,
            )
            .map_err(|v| bad_request("stored answers no longer fit the instrument", &v))?;
        let results = self.score(&entry.scorer, rows).await?;
        Ok(to_new_result(&entry.scorer, &results[0]))
    }

    /// Like [`visible_session`](Self::visible_session), and still open.
    async fn open_session(&self, caller: &Caller, id: &str) -> Result<Session, Status> {
        let session = self.visible_session(caller, id).await?;
        if session.state == SessionState::Submitted {
            return Err(Status::failed_precondition(format!(
                "session '{id}' is already submitted"
            )));
        }
        Ok(session)
    }

    /// The instrument version a session was started on.
    pub(crate) fn session_entry(&self, session: &Session) -> Result<&Arc<Entry>, Status> {
        self.catalog
            .find(&session.instrument_id, &session.instrument_version)
            .map_err(|_| {
                Status::failed_precondition(format!(
                    "instrument '{}' version {} of session '{}' is not served any more",
                    session.instrument_id, session.instrument_version, session.id
                ))
            })
    }

    /// The units whose figures must not be published, decided on the result
    /// counts of every unit of the instrument — the whole data set, whoever
    /// asks and whatever part of it they may see (`ikd_core::disclosure`).
    pub(crate) async fn hidden_units(&self, entry: &Entry) -> Result<disclosure::Hidden, Status> {
        let counts = self
            .store
            .unit_counts(&whole_instrument(entry))
            .await
            .map_err(errors::store)?;
        Ok(disclosure::hidden_units(
            counts.iter().map(|(u, n)| (u.as_str(), *n)),
            u64::from(self.min_group_size),
        ))
    }

    /// The instants an aggregate's time window may start or end at
    /// ([`disclosure::Hidden::window_cuts`]), from the submission time of
    /// every result of the instrument. Reads every result: only windowed
    /// aggregates pay for it.
    async fn window_cuts(
        &self,
        entry: &Entry,
        hidden: &disclosure::Hidden,
    ) -> Result<Vec<i64>, Status> {
        let filter = whole_instrument(entry);
        let mut results: Vec<(String, i64)> = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .store
                .results_page(&filter, after.take(), EXPORT_PAGE)
                .await
                .map_err(errors::store)?;
            let full = page.len() as u32 == EXPORT_PAGE;
            if let Some(last) = page.last() {
                after = Some((last.submitted_at, last.session_id.clone()));
            }
            results.extend(page.into_iter().map(|r| (r.org_unit, r.submitted_at)));
            if !full {
                break;
            }
        }
        Ok(hidden.window_cuts(results.iter().map(|(u, at)| (u.as_str(), *at))))
    }

    /// The store filter of an aggregate or export request, within the caller's scope.
    pub(crate) fn filter(
        &self,
        caller: &Caller,
        entry: &Entry,
        prefix: &str,
        from: Option<&prost_types::Timestamp>,
        to: Option<&prost_types::Timestamp>,
    ) -> Result<ResultFilter, Status> {
        if !prefix.is_empty() {
            check_org_unit(prefix, "org_prefix")
                .map_err(|v| bad_request("invalid request", &[v]))?;
        }
        Ok(ResultFilter {
            org_prefix: caller.scope(prefix)?,
            instrument_id: Some(entry.instrument.id.clone()),
            from: from.map(|t| render::millis(t, "from")).transpose()?,
            to: to.map(|t| render::millis(t, "to")).transpose()?,
        })
    }
}

/// Every result of the instrument (all versions, all units, all time): the
/// data disclosure control decides on.
fn whole_instrument(entry: &Entry) -> ResultFilter {
    ResultFilter {
        org_prefix: String::new(),
        instrument_id: Some(entry.instrument.id.clone()),
        from: None,
        to: None,
    }
}

/// The result in the detail the client asked for.
fn render_detail(
    scorer: &Scorer,
    record: &ikd_store::NewResult,
    lang: &str,
    detail: api::ResultDetail,
) -> api::Result {
    render(
        scorer,
        ResultView::from(record),
        lang,
        detail == api::ResultDetail::Full,
    )
}

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

fn check_id(id: &str, field: &str) -> Result<(), Invalid> {
    let fail = |why: &str| {
        Err(Invalid {
            field: field.to_owned(),
            description: why.to_owned(),
        })
    };
    if id.trim().is_empty() {
        return fail("is empty");
    }
    if id.len() > MAX_ID {
        return fail("is longer than 256 bytes");
    }
    if id.chars().any(char::is_control) {
        return fail("contains control characters");
    }
    Ok(())
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The instrument in one language.
fn describe_instrument(entry: &Entry, lang: &str) -> api::Instrument {
    let i = &entry.instrument;
    api::Instrument {
        id: i.id.clone(),
        version: i.version.to_string(),
        sha256: i.sha256.clone(),
        title: i.title.get(lang).to_owned(),
        language: lang.to_owned(),
        model: i.scoring.model.clone(),
        domains: i
            .domains
            .iter()
            .map(|d| api::Domain {
                code: d.code.clone(),
                name: d.name.get(lang).to_owned(),
                weight: d.weight,
                plugin: d.plugin.clone(),
                indicators: d
                    .indicators
                    .iter()
                    .map(|ind| api::Indicator {
                        code: ind.code.clone(),
                        name: ind.name.get(lang).to_owned(),
                        weight: ind.weight,
                    })
                    .collect(),
            })
            .collect(),
        items: i
            .items
            .iter()
            .map(|item| {
                let scale = item
                    .scale
                    .as_ref()
                    .and_then(|s| i.scales.iter().find(|sc| &sc.id == s));
                api::Item {
                    id: item.id.clone(),
                    domain: item.domain.clone(),
                    indicator: item.indicator.clone(),
                    kind: item.kind.clone(),
                    text: item.text.get(lang).to_owned(),
                    options: item
                        .options
                        .iter()
                        .map(|o| api::ItemOption {
                            code: o.code.clone(),
                            label: o.label.get(lang).to_owned(),
                        })
                        .collect(),
                    scale_min: scale.map(|s| f64::from(s.min)),
                    scale_max: scale.map(|s| f64::from(s.max)),
                    scale_labels: scale
                        .map(|s| s.labels.iter().map(|l| l.get(lang).to_owned()).collect())
                        .unwrap_or_default(),
                }
            })
            .collect(),
        levels: i
            .levels
            .iter()
            .map(|l| api::Level {
                code: l.code.clone(),
                name: l.name.get(lang).to_owned(),
                min: l.min,
                max: l.max,
            })
            .collect(),
    }
}

/// The API aggregate from the store's sums. Below `min_group_size` results
/// nothing but the fact of suppression is returned (not even n), and the same
/// holds for each domain.
fn aggregate(
    entry: &Entry,
    filter: &ResultFilter,
    sums: &ikd_store::Aggregate,
    min_group_size: u32,
    hidden: bool,
    lang: &str,
) -> api::Aggregate {
    let instrument = &entry.instrument;
    let min = u64::from(min_group_size);
    let mut out = api::Aggregate {
        org_prefix: filter.org_prefix.clone(),
        instrument: Some(api::InstrumentRef {
            id: instrument.id.clone(),
            version: String::new(),
        }),
        min_group_size,
        suppressed: sums.n < min || hidden,
        ..Default::default()
    };
    if out.suppressed {
        return out;
    }
    let counts = |levels: &[(String, u64)]| {
        instrument
            .levels
            .iter()
            .map(|l| api::LevelCount {
                code: l.code.clone(),
                name: l.name.get(lang).to_owned(),
                count: levels
                    .iter()
                    .find(|(code, _)| code == &l.code)
                    .map_or(0, |(_, n)| *n),
            })
            .collect::<Vec<_>>()
    };
    out.n = sums.n;
    out.index = estimate(sums.index_n, sums.index_sum, sums.index_sum_sq);
    out.levels = counts(&sums.levels);
    out.domains = instrument
        .domains
        .iter()
        .map(|d| {
            let found = sums.domains.iter().find(|x| x.code == d.code);
            let n = found.map_or(0, |x| x.n);
            let mut domain = api::DomainAggregate {
                code: d.code.clone(),
                name: d.name.get(lang).to_owned(),
                suppressed: n < min,
                ..Default::default()
            };
            if let (false, Some(x)) = (domain.suppressed, found) {
                domain.score = estimate(x.n, x.sum, x.sum_sq);
                domain.levels = counts(&x.levels);
            }
            domain
        })
        .collect();
    out
}
