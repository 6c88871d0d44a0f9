//! Plugin calls under a deadline. They run on tokio's blocking pool, so a
//! slow or hung plugin never stalls the runtime; this bounds how long a request
//! waits for one: past the deadline the request fails with `DEADLINE_EXCEEDED`
//! (the plugin call itself finishes, or not, on its blocking thread).
//!
//! The deadline is 90% of the request timeout, so that the caller hears
//! `DEADLINE_EXCEEDED` naming the cause rather than the transport's bare
//! `CANCELLED` when the whole request times out.

use crate::{State, errors};
use ikd_core::answers::AnswerRows;
use ikd_core::pipeline::{AnswerViolation, ItemScores, ScoreError, Scorer};
use ikd_core::results::RespondentResult;
use ikd_store::IndicatorScore;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tonic::Status;

impl State {
    /// How long one request may wait for the plugins.
    pub(crate) fn scoring_deadline(&self) -> Duration {
        Duration::from_secs(self.limits.request_timeout_seconds.max(1)).mul_f64(0.9)
    }

    /// The result of the one respondent `push` adds (rows of `items` cells), scored with
    /// `scorer` in a batch with the other calls waiting for it ([`crate::gather`]), within
    /// [`State::scoring_deadline`].
    pub(crate) async fn score_one(
        &self,
        scorer: &Arc<Scorer>,
        items: usize,
        push: impl FnOnce(&mut AnswerRows),
    ) -> Result<RespondentResult, Status> {
        let outcome = self.scorings.one(scorer, items, push);
        self.within_deadline(scorer, "score", outcome)
            .await?
            .unwrap_or_else(|| Err(runner_lost(scorer)))
            .map_err(errors::score)
    }

    /// The item scores of `rows` (the domain plugins' item scoring, no model), within
    /// [`State::scoring_deadline`]; invalid answers are `INVALID_ARGUMENT`.
    pub(crate) async fn item_scores(
        &self,
        scorer: &Arc<Scorer>,
        rows: AnswerRows,
    ) -> Result<ItemScores, Status> {
        self.within_deadline(scorer, "item_scores", scorer.item_scores_blocking(rows))
            .await?
            .map_err(errors::score)
    }

    /// The result and indicator scores of a submit, the one respondent of `row`, scored
    /// with `scorer` in a batch with the other submits waiting for it ([`crate::gather`]),
    /// within [`State::scoring_deadline`].
    pub(crate) async fn score_submit(
        &self,
        scorer: &Arc<Scorer>,
        row: &AnswerRows,
    ) -> Result<(RespondentResult, Vec<IndicatorScore>), Status> {
        let outcome = self
            .submits
            .one(scorer, row.items(), |rows| rows.push_row(row, 0));
        self.within_deadline(scorer, "score", outcome)
            .await?
            .unwrap_or_else(|| Err(runner_lost(scorer)))
            .map_err(errors::score)
    }

    /// Checks the answers of the one respondent `push` adds (rows of `items` cells) by
    /// their kinds alone (the domain plugins' item scoring, no model), in a batch with the
    /// other checks waiting for `scorer` ([`crate::gather`]), within
    /// [`State::scoring_deadline`]: invalid answers are `INVALID_ARGUMENT` with one
    /// violation each, as in a scoring.
    pub(crate) async fn check_answers(
        &self,
        scorer: &Arc<Scorer>,
        items: usize,
        push: impl FnOnce(&mut AnswerRows),
    ) -> Result<(), Status> {
        let outcome = self.checks.one(scorer, items, push);
        self.within_deadline(scorer, "check_answers", outcome)
            .await?
            .unwrap_or_else(|| Err(runner_lost(scorer)))
            .map_err(errors::score)
    }

    /// What the kinds say is wrong with the answers (nothing: all valid),
    /// within the scoring deadline.
    pub(crate) async fn answer_violations(
        &self,
        scorer: &Arc<Scorer>,
        rows: AnswerRows,
    ) -> Result<Vec<AnswerViolation>, Status> {
        self.within_deadline(
            scorer,
            "check_answers",
            scorer.answer_violations_blocking(rows),
        )
        .await?
        .map_err(errors::plugin)
    }

    /// `work`'s outcome, or `DEADLINE_EXCEEDED` naming `scorer`'s plugins;
    /// its time is recorded as a plugin `call` (also when it missed the
    /// deadline: then the deadline).
    async fn within_deadline<T>(
        &self,
        scorer: &Scorer,
        call: &'static str,
        work: impl Future<Output = T>,
    ) -> Result<T, Status> {
        let deadline = self.scoring_deadline();
        let start = std::time::Instant::now();
        let outcome = tokio::time::timeout(deadline, work).await;
        if let Some(metrics) = &self.metrics {
            metrics.plugin_called(&scorer.instrument().id, call, start.elapsed());
        }
        outcome.map_err(|_| {
            let plugins: Vec<&str> = scorer.plugins().map(|p| p.name()).collect();
            tracing::error!(?deadline, ?plugins, "scoring missed its deadline");
            Status::deadline_exceeded(format!(
                "scoring did not finish within {deadline:?} (plugins: {})",
                plugins.join(", ")
            ))
        })
    }
}

/// What a call gets whose batch's runner ended without an outcome (a bug: plugin panics
/// are caught at the ABI and are outcomes).
fn runner_lost(scorer: &Scorer) -> ScoreError {
    ScoreError::Plugin(ikd_core::host::PluginCallError::Protocol {
        plugin: scorer
            .plugins()
            .last()
            .map(|p| p.name().to_owned())
            .unwrap_or_default(),
        detail: "the batch this call was scored in ended abnormally".to_owned(),
    })
}
