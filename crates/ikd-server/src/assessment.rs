//! `ikd.v1.AssessmentService`, thin: each handler authorises the caller,
//! decodes what the request names (language, session id), calls the module
//! that does the work and returns its message. Instruments: `instruments`;
//! `Score` / `ScoreStream`: `stateless`; sessions and results: `sessions`;
//! `GetAggregate`: `aggregates`; `ExportResults` and `ExportTable`: `export`.

use crate::auth::Role;
use crate::render::language;
use crate::{State, adaptive, aggregates, export, instruments, sessions, stateless};
use ikd_proto::v1::{self as api, assessment_service_server::AssessmentService};
use std::sync::Arc;
use tonic::{Request, Response, Status, Streaming};

pub struct Assessment {
    pub(crate) state: Arc<State>,
}

type Reply<T> = Result<Response<T>, Status>;

impl Assessment {
    /// An export's caller (a steward), request, instrument and filter (the caller's scope).
    fn export_request(
        &self,
        request: Request<api::ExportResultsRequest>,
    ) -> Result<
        (
            crate::auth::Caller,
            api::ExportResultsRequest,
            Arc<crate::catalog::Entry>,
            ikd_store::ResultFilter,
        ),
        Status,
    > {
        let (caller, req) = self.state.authorize(request, &[Role::Steward])?;
        let entry = self.state.catalog.resolve(req.instrument.as_ref())?.clone();
        let filter = self.state.filter(
            &caller,
            &entry,
            &req.org_prefix,
            req.from.as_ref(),
            req.to.as_ref(),
        )?;
        Ok((caller, req, entry, filter))
    }
}

#[tonic::async_trait]
impl AssessmentService for Assessment {
    async fn list_instruments(
        &self,
        request: Request<api::ListInstrumentsRequest>,
    ) -> Reply<api::ListInstrumentsResponse> {
        let readers = [Role::Service, Role::Analyst, Role::Steward];
        self.state.authorize(request, &readers)?;
        let instruments = instruments::summaries(&self.state.catalog);
        Ok(Response::new(api::ListInstrumentsResponse { instruments }))
    }

    async fn get_instrument(
        &self,
        request: Request<api::GetInstrumentRequest>,
    ) -> Reply<api::Instrument> {
        let readers = [Role::Service, Role::Analyst, Role::Steward];
        let (_, req) = self.state.authorize(request, &readers)?;
        let lang = language(&req.language)?;
        let entry = self.state.catalog.resolve(req.instrument.as_ref())?;
        Ok(Response::new(instruments::describe(entry, lang)))
    }

    async fn score(&self, request: Request<api::ScoreRequest>) -> Reply<api::ScoreResponse> {
        let (caller, req) = self.state.authorize(request, &[Role::Service])?;
        let scored = stateless::score_one(&self.state, &caller, &req).await?;
        Ok(Response::new(scored))
    }

    type ScoreStreamStream = stateless::Responses;

    async fn score_stream(
        &self,
        request: Request<Streaming<api::ScoreRequest>>,
    ) -> Reply<Self::ScoreStreamStream> {
        let (caller, requests) = self.state.authorize(request, &[Role::Service])?;
        let responses = stateless::score_stream(self.state.clone(), caller, requests);
        Ok(Response::new(responses))
    }

    async fn start_session(
        &self,
        request: Request<api::StartSessionRequest>,
    ) -> Reply<api::StartSessionResponse> {
        let (caller, req) = self.state.authorize(request, &[Role::Service])?;
        let started = sessions::start(&self.state, &caller, req).await?;
        Ok(Response::new(started))
    }

    async fn save_answers(
        &self,
        request: Request<api::SaveAnswersRequest>,
    ) -> Reply<api::SaveAnswersResponse> {
        let (caller, req) = self.state.authorize(request, &[Role::Service])?;
        let saved = sessions::save_answers(&self.state, &caller, req).await?;
        Ok(Response::new(saved))
    }

    async fn submit_session(
        &self,
        request: Request<api::SubmitSessionRequest>,
    ) -> Reply<api::SubmitSessionResponse> {
        let (caller, req) = self.state.authorize(request, &[Role::Service])?;
        let lang = language(&req.language)?;
        let submitted =
            sessions::submit(&self.state, &caller, &req.session_id, req.end_early, lang).await?;
        Ok(Response::new(submitted))
    }

    async fn next_items(
        &self,
        request: Request<api::NextItemsRequest>,
    ) -> Reply<api::NextItemsResponse> {
        let (caller, req) = self.state.authorize(request, &[Role::Service])?;
        let next = adaptive::next_items(&self.state, &caller, &req.session_id).await?;
        Ok(Response::new(next))
    }

    async fn get_result(
        &self,
        request: Request<api::GetResultRequest>,
    ) -> Reply<api::GetResultResponse> {
        let readers = [Role::Service, Role::Steward];
        let (caller, req) = self.state.authorize(request, &readers)?;
        let lang = language(&req.language)?;
        let result = sessions::latest_result(&self.state, &caller, &req.session_id, lang).await?;
        Ok(Response::new(result))
    }

    async fn get_aggregate(
        &self,
        request: Request<api::GetAggregateRequest>,
    ) -> Reply<api::Aggregate> {
        let (caller, req) = self.state.authorize(request, &[Role::Analyst])?;
        let lang = language(&req.language)?;
        let aggregate = aggregates::aggregate(&self.state, &caller, &req, lang).await?;
        Ok(Response::new(aggregate))
    }

    type ExportResultsStream = export::Rows;

    async fn export_results(
        &self,
        request: Request<api::ExportResultsRequest>,
    ) -> Reply<Self::ExportResultsStream> {
        let (caller, req, entry, filter) = self.export_request(request)?;
        let lang = language(&req.language)?;
        let full = req.detail() != api::ResultDetail::Scores;
        let render = export::Export::new(entry, lang, full);
        let chunks = export::start(self.state.clone(), &caller, filter, "rows", render).await?;
        Ok(Response::new(export::Rows::new(chunks)))
    }

    type ExportTableStream = export::TableChunks;

    async fn export_table(
        &self,
        request: Request<api::ExportResultsRequest>,
    ) -> Reply<Self::ExportTableStream> {
        let (caller, _, entry, filter) = self.export_request(request)?;
        let render = export::TableExport::new(&self.state, &entry);
        let chunks = export::start(self.state.clone(), &caller, filter, "csv", render).await?;
        Ok(Response::new(export::TableChunks::new(chunks)))
    }
}
