//! What a caller may reach, checked in one place for every service: the caller
//! itself (token and role), its sessions (inside its org scope; open ones for
//! writing), the instrument version a session was started on, and the store
//! filter of a request, cut to the caller's scope.

use crate::State;
use crate::answers::{check_id, check_org_unit};
use crate::auth::{Caller, Role};
use crate::catalog::Entry;
use crate::errors::{self, bad_request};
use crate::render;
use ikd_store::{ResultFilter, Session, SessionState, StoredResult};
use std::sync::Arc;
use tonic::{Request, Status};

impl State {
    /// The caller, when its token holds one of `roles`, and the request's message.
    pub(crate) fn authorize<T>(
        &self,
        request: Request<T>,
        roles: &[Role],
    ) -> Result<(Caller, T), Status> {
        let caller = self.auth.authorize(request.metadata(), roles)?;
        Ok((caller, request.into_inner()))
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

    /// Like [`visible_session`](Self::visible_session), and still open.
    pub(crate) async fn open_session(&self, caller: &Caller, id: &str) -> Result<Session, Status> {
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

    /// The latest result of a session, or `FAILED_PRECONDITION` while it is open.
    pub(crate) async fn submitted_result(&self, session: &Session) -> Result<StoredResult, Status> {
        self.store
            .latest_result(&session.id)
            .await
            .map_err(errors::store)?
            .ok_or_else(|| {
                Status::failed_precondition(format!(
                    "session '{}' has not been submitted",
                    session.id
                ))
            })
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
        let org_prefix = caller.scope(prefix)?;
        Ok(ResultFilter {
            from: from.map(|t| render::millis(t, "from")).transpose()?,
            to: to.map(|t| render::millis(t, "to")).transpose()?,
            ..instrument_results(entry, org_prefix)
        })
    }
}

/// Every result of the instrument (all its versions, all time) under
/// `org_prefix`; an empty prefix is the whole data set.
pub(crate) fn instrument_results(entry: &Entry, org_prefix: String) -> ResultFilter {
    ResultFilter {
        org_prefix,
        instrument_id: Some(entry.instrument.id.clone()),
        from: None,
        to: None,
    }
}
