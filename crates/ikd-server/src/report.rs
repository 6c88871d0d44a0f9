//! `ikd.v1.ReportService`: the HTML reports of `ikd-report`, rendered from the
//! results the store keeps, for authorised callers.
//!
//! What a report compares with stays inside the caller's scope: an
//! org-limited token sees its unit against the parent and the whole *of its
//! own scope*, never figures of units it may not read. What is hidden is
//! decided on the whole data set (every unit's count, whoever asks), exactly
//! as for `GetAggregate`, and passed to `ikd-report`: a decision on the
//! caller's scope alone could be undone with figures from outside it. A
//! personal report is for the service that ran the session or a data
//! steward, not for aggregate readers. An organisation report is made from the
//! per-unit sums the store keeps, for any scope up to the whole nation; a
//! personal report reads the results of its own unit (at most
//! [`MAX_REPORT_RESULTS`]) for the unit's mean.

use crate::State;
use crate::access::instrument_results;
use crate::auth::{Role, unit_within};
use crate::catalog::Entry;
use crate::errors::{self, bad_request};
use crate::records::record_of;
use crate::render::language;
use ikd_core::disclosure::Hidden;
use ikd_proto::v1::{self as api, report_service_server::ReportService};
use ikd_report::stats::Moments;
use ikd_report::{IndicatorSums, ModelRef, ReportError, ResultRecord, ScoreSums, UnitSums};
use ikd_store::ResultFilter;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Results one report may read.
pub const MAX_REPORT_RESULTS: usize = 200_000;

const PAGE: u32 = 1000;

pub struct Reports {
    pub state: Arc<State>,
}

#[tonic::async_trait]
impl ReportService for Reports {
    async fn person_report(
        &self,
        request: Request<api::PersonReportRequest>,
    ) -> Result<Response<api::Report>, Status> {
        let readers = [Role::Service, Role::Steward];
        let (caller, req) = self.state.authorize(request, &readers)?;
        let lang = language(&req.language)?;
        let session = self.state.visible_session(&caller, &req.session_id).await?;
        let (html, results) = person_html(&self.state, &caller, &session, lang).await?;
        tracing::info!(caller = %caller.name, session = %session.id, "person report");
        Ok(Response::new(api::Report {
            html,
            csv: String::new(),
            results,
        }))
    }

    async fn org_report(
        &self,
        request: Request<api::OrgReportRequest>,
    ) -> Result<Response<api::Report>, Status> {
        let (caller, req) = self.state.authorize(request, &[Role::Analyst])?;
        let lang = language(&req.language)?;
        let entry = self.state.catalog.resolve(req.instrument.as_ref())?.clone();
        let wanted = self
            .state
            .filter(&caller, &entry, &req.org_prefix, None, None)?;
        // Everything the caller may see of the instrument: the comparison base, as the
        // per-unit sums the store keeps (thousands of units, whatever the results).
        let scope = instrument_results(&entry, caller.org_prefix.clone());
        let units: Vec<UnitSums> = self
            .state
            .store
            .unit_aggregates(&scope)
            .await
            .map_err(errors::store)?
            .iter()
            .map(|(unit, sums)| unit_sums(unit, sums))
            .collect();
        let hidden = self.state.hidden_units(&entry).await?;
        let disclosure = ikd_report::Disclosure {
            hidden: &hidden,
            scope: &caller.org_prefix,
        };
        // The statistics keep no model: the page names the instrument's own.
        let model = &entry.scorer.provenance().model;
        let model = ModelRef {
            name: model.name.clone(),
            version: model.version.clone(),
        };
        let report = ikd_report::org_report_from_units(
            &entry.instrument,
            &units,
            std::slice::from_ref(&model),
            &wanted.org_prefix,
            lang,
            self.state.min_group_size,
            Some(disclosure),
        )
        .map_err(report_status)?;
        tracing::info!(caller = %caller.name, prefix = %wanted.org_prefix, "org report");
        Ok(Response::new(api::Report {
            html: report.html,
            csv: report.csv,
            results: results_told(&units, &wanted.org_prefix, &caller.org_prefix, &hidden),
        }))
    }
}

/// A unit's sums as the store keeps them, as a report reads them.
fn unit_sums(unit: &str, sums: &ikd_store::Aggregate) -> UnitSums {
    let moments = |n: u64, sum: f64, sum_sq: f64| Moments { n, sum, sum_sq };
    let levels = |levels: &[(String, u64)]| levels.iter().cloned().collect();
    let indicators = (!sums.indicators.is_empty()).then(|| IndicatorSums {
        // Every result that kept indicator scores has a row for each indicator.
        respondents: sums
            .indicators
            .iter()
            .map(|i| i.n + i.missing)
            .max()
            .unwrap_or(0),
        scores: sums
            .indicators
            .iter()
            .filter(|i| i.n > 0)
            .map(|i| {
                (
                    (i.domain.clone(), i.code.clone()),
                    moments(i.n, i.sum, i.sum_sq),
                )
            })
            .collect(),
    });
    UnitSums {
        org_unit: unit.to_owned(),
        n: sums.n,
        flagged: sums.flagged,
        index: ScoreSums {
            scores: moments(sums.index_n, sums.index_sum, sums.index_sum_sq),
            levels: levels(&sums.levels),
        },
        domains: sums
            .domains
            .iter()
            .map(|d| {
                (
                    d.code.clone(),
                    ScoreSums {
                        scores: moments(d.n, d.sum, d.sum_sq),
                        levels: levels(&d.levels),
                    },
                )
            })
            .collect(),
        indicators,
    }
}

/// The latest result of every session under `filter`, as report rows.
async fn rows(
    state: &State,
    filter: &ResultFilter,
    entry: &Entry,
) -> Result<Vec<ResultRecord>, Status> {
    let mut rows = Vec::new();
    let mut after = None;
    loop {
        let page = state
            .store
            .results_page(filter, after.take(), PAGE)
            .await
            .map_err(errors::store)?;
        let full = page.len() as u32 == PAGE;
        if let Some(last) = page.last() {
            after = Some((last.submitted_at, last.session_id.clone()));
        }
        for stored in &page {
            let scorer = state
                .catalog
                .find(&stored.instrument_id, &stored.instrument_version)
                .map_or(&entry.scorer, |e| &e.scorer);
            rows.push(record_of(stored, scorer).0);
        }
        if rows.len() > MAX_REPORT_RESULTS {
            return Err(Status::resource_exhausted(format!(
                "more than {MAX_REPORT_RESULTS} results under '{}': export them \
                 (ExportResults) and use `ikd report org` on the file",
                filter.org_prefix
            )));
        }
        if !full {
            return Ok(rows);
        }
    }
}

/// The number of results an organisation report says it was computed from:
/// the caller's whole scope, unless that is a hidden group — then only the
/// (published) unit reported, or the count would tell the hidden n.
fn results_told(units: &[UnitSums], prefix: &str, scope: &str, hidden: &Hidden) -> u64 {
    let within = |unit: &&UnitSums| !hidden.is_hidden(scope) || unit_within(prefix, &unit.org_unit);
    units.iter().filter(within).map(|u| u.n).sum()
}

/// A report failure as a status: the caller's input, or our bug.
fn report_status(err: ReportError) -> Status {
    let message = err.to_string();
    match err {
        ReportError::RespondentNotFound { .. } => Status::not_found(message),
        ReportError::Suppressed { .. } | ReportError::NoResults { .. } => {
            Status::failed_precondition(message)
        }
        ReportError::InvalidPrefix { .. } | ReportError::MinGroupSize => {
            bad_request_status(message)
        }
        _ => {
            tracing::error!("report failed: {message}");
            Status::internal("the report could not be rendered")
        }
    }
}

fn bad_request_status(message: String) -> Status {
    bad_request(&message, &[])
}

/// A submitted session's personal report in `lang` (with its unit's mean when
/// the unit is large enough to show), and the number of results it drew on.
pub(crate) async fn person_html(
    state: &State,
    caller: &crate::auth::Caller,
    session: &ikd_store::Session,
    lang: ikd_core::lang::Lang,
) -> Result<(String, u64), Status> {
    let entry = state.session_entry(session)?.clone();
    let own = state.submitted_result(session).await?;
    // The unit's other results give the comparison mean (the unit is inside
    // the caller's scope: the session was visible).
    let filter = instrument_results(&entry, session.org_unit.clone());
    let mut rows = rows(state, &filter, &entry).await?;
    rows.retain(|r| r.org_unit == session.org_unit && r.respondent_id != session.id);
    let min = state.min_group_size;
    let hidden = state.hidden_units(&entry).await?;
    // A unit whose mean is not shown lends the report nothing: not even
    // its number of results goes out (in the page or in `results`).
    if rows.len() + 1 < min as usize || hidden.is_own_hidden(&session.org_unit) {
        rows.clear();
    }
    rows.push(record_of(&own, &entry.scorer).0);
    let disclosure = ikd_report::Disclosure {
        hidden: &hidden,
        scope: &caller.org_prefix,
    };
    let html = ikd_report::person_report(
        &entry.instrument,
        &rows,
        &session.id,
        lang,
        min,
        Some(disclosure),
    )
    .map_err(report_status)?;
    Ok((html, rows.len() as u64))
}
