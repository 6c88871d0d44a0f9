//! Sessions, the stateful way to an assessment: start one under a pseudonym,
//! save answers (checked by their kinds as they arrive, idempotent by request
//! id), submit (score the stored answers and keep revision 1), read the latest
//! result. Everything lives in the store, so any replica serves any session.

use crate::State;
use crate::adaptive::{self, Adaptive};
use crate::answers::{self, check_id, check_org_unit};
use crate::auth::Caller;
use crate::catalog::Entry;
use crate::errors::{self, bad_request};
use crate::records::{new_result, record_of};
use crate::render::{now_millis, render, timestamp};
use ikd_core::lang::Lang;
use ikd_core::quote::quote;
use ikd_proto::v1 as api;
use ikd_store::{NewResult, NewSession, Session, StoreError};
use std::sync::Arc;
use tonic::Status;

/// Attempts of a submit whose answers keep changing while they are scored (each racing save
/// costs one) before it gives up with `ABORTED`.
const SUBMIT_TRIES: u32 = 5;

/// Opens a session for a respondent of a unit in the caller's scope; the store
/// keeps the respondent's pseudonym, never the identifier.
pub(crate) async fn start(
    state: &State,
    caller: &Caller,
    req: api::StartSessionRequest,
) -> Result<api::StartSessionResponse, Status> {
    let entry = state.catalog.resolve(req.instrument.as_ref())?;
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
    let session = state
        .store
        .start_session(NewSession {
            instrument_id: instrument.id.clone(),
            instrument_version: instrument.version.to_string(),
            instrument_sha256: instrument.sha256.clone(),
            respondent_key: state.pseudonyms.pseudonym(&req.respondent_id),
            org_unit: req.org_unit,
        })
        .await
        .map_err(errors::store)?;
    tracing::info!(session = %session.id, caller = %caller.name, "session started");
    Ok(api::StartSessionResponse {
        session_id: session.id,
        instrument: Some(api::InstrumentRef {
            id: session.instrument_id,
            version: session.instrument_version,
        }),
        created_at: Some(timestamp(session.created_at)),
    })
}

/// Stores answers of an open session once they pass their kinds' checks.
pub(crate) async fn save_answers(
    state: &State,
    caller: &Caller,
    req: api::SaveAnswersRequest,
) -> Result<api::SaveAnswersResponse, Status> {
    check_id(&req.request_id, "request_id")
        .map_err(|v| bad_request("cannot save answers", &[v]))?;
    let session = state.open_session(caller, &req.session_id).await?;
    let entry = state.session_entry(&session)?;
    // Answers are checked by their kinds now, not at submit: a client learns about a bad
    // answer while the respondent is still there. Item scores tell; the model is not needed.
    let cells = entry
        .items
        .cells(
            req.answers
                .iter()
                .map(|a| (a.item_id.as_str(), a.value.as_str())),
        )
        .map_err(|v| bad_request("invalid answers", &v))?;
    let items = entry.items.count();
    state
        .check_answers(&entry.scorer, items, |rows| {
            answers::push(rows, &session.id, &session.org_unit, None, &cells)
        })
        .await?;
    if let Some(adaptive) = &entry.adaptive {
        let given: Vec<(&str, &str)> = req
            .answers
            .iter()
            .map(|a| (a.item_id.as_str(), a.value.as_str()))
            .collect();
        state
            .check_adaptive_save(entry, adaptive, &session, &given)
            .await?;
    }
    let pairs: Vec<(String, String)> = req
        .answers
        .into_iter()
        .map(|a| (a.item_id, a.value))
        .collect();
    let outcome = state
        .store
        .save_answers(&session.id, &req.request_id, &pairs)
        .await
        .map_err(errors::store)?;
    Ok(api::SaveAnswersResponse {
        replayed: outcome.replayed,
        answers_stored: outcome.answers_stored,
    })
}

/// Scores a session's stored answers and closes it with revision 1. The store keeps the
/// result only if no save was applied since the answers were read (`AnswersChanged`): then
/// they are read and scored again, at most [`SUBMIT_TRIES`] times.
///
/// An adaptive session is submitted once its stopping rule is met, or earlier with
/// `end_early` (the respondent stopped; the result records it).
pub(crate) async fn submit(
    state: &State,
    caller: &Caller,
    session_id: &str,
    end_early: bool,
    lang: Lang,
) -> Result<api::SubmitSessionResponse, Status> {
    for attempt in 1..=SUBMIT_TRIES {
        let session = state.open_session(caller, session_id).await?;
        let entry = state.session_entry(&session)?;
        let record = match &entry.adaptive {
            Some(adaptive) => {
                score_adaptive_session(state, entry, adaptive, &session, end_early).await?
            }
            None => score_session(state, entry, &session, &session.answers, 1.0).await?,
        };
        match state
            .store
            .submit(&session.id, session.answers_version, record)
            .await
        {
            Ok(stored) => {
                tracing::info!(session = %session.id, caller = %caller.name, attempt, "session submitted");
                let (record, provenance) = record_of(&stored, &entry.scorer);
                return Ok(api::SubmitSessionResponse {
                    result: Some(render(
                        &entry.scorer,
                        record,
                        provenance.as_ref(),
                        lang,
                        true,
                    )),
                    revision: stored.revision,
                });
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
        quote(session_id)
    )))
}

/// The latest result of a session the caller may see, rendered in `lang`.
pub(crate) async fn latest_result(
    state: &State,
    caller: &Caller,
    session_id: &str,
    lang: Lang,
) -> Result<api::GetResultResponse, Status> {
    let session = state.visible_session(caller, session_id).await?;
    let stored = state.submitted_result(&session).await?;
    let entry = state.session_entry(&session)?;
    let (record, provenance) = record_of(&stored, &entry.scorer);
    Ok(api::GetResultResponse {
        session_id: session.id,
        org_unit: session.org_unit,
        revision: stored.revision,
        submitted_at: Some(timestamp(stored.submitted_at)),
        result: Some(render(
            &entry.scorer,
            record,
            provenance.as_ref(),
            lang,
            true,
        )),
    })
}

/// The result of a session's stored answers, to submit. Time from start to now, times
/// `pace`, feeds the too-fast quality flag.
async fn score_session(
    state: &State,
    entry: &Entry,
    session: &Session,
    answers: &[(String, String)],
    pace: f64,
) -> Result<NewResult, Status> {
    let elapsed = answers::completion_seconds(session.created_at, now_millis()) * pace;
    let mut rows = entry.items.empty_rows();
    entry
        .items
        .push_stored(
            &mut rows,
            (&session.id, &session.org_unit, Some(elapsed)),
            answers,
        )
        .map_err(|v| bad_request("stored answers no longer fit the instrument", &v))?;
    let (result, indicators) = state.score_submit(&entry.scorer, &rows).await?;
    let mut record = new_result(&entry.scorer, &result);
    record.indicators = indicators;
    Ok(record)
}

/// The result of an adaptive session: the items given keep their answers, the others are
/// not applicable, and the provenance records the administration.
async fn score_adaptive_session(
    state: &State,
    entry: &Entry,
    adaptive: &Arc<Adaptive>,
    session: &Session,
    end_early: bool,
) -> Result<NewResult, Status> {
    let position = state.position(entry, adaptive, session).await?;
    if let (Some(next), false) = (position.next_item(adaptive), end_early) {
        return Err(Status::failed_precondition(format!(
            "the adaptive test of session {} is not over: item {} is next ({} given); \
             save its answer, or submit with end_early when the respondent stops",
            quote(&session.id),
            quote(next),
            position.state.total()
        )));
    }
    let answers = adaptive::scored_answers(&position, adaptive, session);
    // The too-fast rule is set for the whole instrument: judge the pace, the time
    // projected to every item at the rate the items given took.
    let given = position.state.total().max(1) as f64;
    let pace = entry.instrument.items.len() as f64 / given;
    let mut record = score_session(state, entry, session, &answers, pace).await?;
    let mut provenance = entry.scorer.provenance().as_ref().clone();
    provenance.adaptive = Some(adaptive::administration(&position, adaptive));
    record.provenance_json = serde_json::to_string(&provenance).unwrap_or_default();
    Ok(record)
}
