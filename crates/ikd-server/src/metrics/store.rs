//! The store with its writes timed: a decorator around any
//! [`Store`], so the store itself knows nothing of metrics. Each write is
//! timed from its call until it returns — committed, or failed — and, when
//! it succeeds, sessions started and submitted are counted. Reads pass
//! through untimed.

use super::{Metrics, Operation};
use ikd_store::{
    Aggregate, AuditEntry, AuditQuery, ClaimedToken, Invitation, NewAuditEntry, NewInvitation,
    NewResult, NewSession, ResultFilter, Revocation, SaveOutcome, Session, StatsCheck, Store,
    StoreError, StoredResult, StreamDetail, async_trait,
};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

/// A [`Store`] whose writes are recorded in [`Metrics`].
pub(crate) struct MeteredStore {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl MeteredStore {
    pub(crate) fn new(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> Self {
        MeteredStore { inner, metrics }
    }

    /// `write`'s outcome, its time recorded under `operation` (and a
    /// database failure counted).
    async fn timed<T>(
        &self,
        operation: &'static str,
        write: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let start = Instant::now();
        let outcome = write.await;
        let label = Operation { operation };
        self.metrics
            .store_latency
            .get_or_create(&label)
            .observe(start.elapsed().as_secs_f64());
        if let Err(StoreError::Database { .. } | StoreError::Corrupt(_)) = &outcome {
            self.metrics.store_errors.get_or_create(&label).inc();
        }
        outcome
    }
}

#[async_trait]
impl Store for MeteredStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn start_session(&self, new: NewSession) -> Result<Session, StoreError> {
        let started = self
            .timed("start_session", self.inner.start_session(new))
            .await?;
        self.metrics.sessions_started.inc();
        Ok(started)
    }

    async fn session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        self.inner.session(id).await
    }

    async fn save_answers(
        &self,
        session_id: &str,
        request_id: &str,
        answers: &[(String, String)],
    ) -> Result<SaveOutcome, StoreError> {
        self.timed(
            "save_answers",
            self.inner.save_answers(session_id, request_id, answers),
        )
        .await
    }

    async fn submit(
        &self,
        session_id: &str,
        answers_version: i64,
        result: NewResult,
    ) -> Result<StoredResult, StoreError> {
        let stored = self
            .timed(
                "submit",
                self.inner.submit(session_id, answers_version, result),
            )
            .await?;
        self.metrics.sessions_submitted.inc();
        Ok(stored)
    }

    async fn add_revision(
        &self,
        session_id: &str,
        result: NewResult,
    ) -> Result<StoredResult, StoreError> {
        self.timed("add_revision", self.inner.add_revision(session_id, result))
            .await
    }

    async fn latest_result(&self, session_id: &str) -> Result<Option<StoredResult>, StoreError> {
        self.inner.latest_result(session_id).await
    }

    async fn result_revisions(&self, session_id: &str) -> Result<Vec<StoredResult>, StoreError> {
        self.inner.result_revisions(session_id).await
    }

    async fn results_page(
        &self,
        filter: &ResultFilter,
        after: Option<(i64, String)>,
        limit: u32,
    ) -> Result<Vec<StoredResult>, StoreError> {
        self.inner.results_page(filter, after, limit).await
    }

    fn stream_results(
        &self,
        filter: ResultFilter,
        detail: StreamDetail,
    ) -> tokio::sync::mpsc::Receiver<Result<Vec<StoredResult>, StoreError>> {
        self.inner.stream_results(filter, detail)
    }

    async fn submitted_sessions(
        &self,
        instrument_id: &str,
        instrument_version: &str,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<Session>, StoreError> {
        self.inner
            .submitted_sessions(instrument_id, instrument_version, after, limit)
            .await
    }

    async fn aggregate(&self, filter: &ResultFilter) -> Result<Aggregate, StoreError> {
        self.inner.aggregate(filter).await
    }

    async fn unit_counts(&self, filter: &ResultFilter) -> Result<Vec<(String, u64)>, StoreError> {
        self.inner.unit_counts(filter).await
    }

    async fn unit_aggregates(
        &self,
        filter: &ResultFilter,
    ) -> Result<Vec<(String, Aggregate)>, StoreError> {
        self.inner.unit_aggregates(filter).await
    }

    async fn unit_day_counts(
        &self,
        filter: &ResultFilter,
    ) -> Result<Vec<(String, i64, u64)>, StoreError> {
        self.inner.unit_day_counts(filter).await
    }

    async fn check_stats(&self) -> Result<StatsCheck, StoreError> {
        self.inner.check_stats().await
    }

    async fn rebuild_stats(&self) -> Result<u64, StoreError> {
        self.inner.rebuild_stats().await
    }

    async fn record_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        self.timed("record_audit", self.inner.record_audit(entry))
            .await
    }

    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.audit_log(query).await
    }

    async fn create_invitations(&self, new: &[NewInvitation]) -> Result<(), StoreError> {
        self.timed("create_invitations", self.inner.create_invitations(new))
            .await
    }

    async fn invitation(&self, token_sha256: &str) -> Result<Option<Invitation>, StoreError> {
        self.inner.invitation(token_sha256).await
    }

    /// Called by the web app only for an invitation without a session, so
    /// each success is counted as a session started (two first visits at
    /// once, which end with one session, count twice).
    async fn invitation_session(
        &self,
        token_sha256: &str,
        new: NewSession,
    ) -> Result<String, StoreError> {
        let id = self
            .timed(
                "invitation_session",
                self.inner.invitation_session(token_sha256, new),
            )
            .await?;
        self.metrics.sessions_started.inc();
        Ok(id)
    }

    async fn revoke_invitations(&self, which: &Revocation) -> Result<u64, StoreError> {
        self.timed("revoke_invitations", self.inner.revoke_invitations(which))
            .await
    }

    async fn claim_server_token(
        &self,
        name: &str,
        sha256: &str,
    ) -> Result<ClaimedToken, StoreError> {
        self.timed(
            "claim_server_token",
            self.inner.claim_server_token(name, sha256),
        )
        .await
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}
