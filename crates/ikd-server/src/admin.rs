//! `ikd.v1.AdminService`: what is loaded, re-scoring stored sessions, and the audit log.
//!
//! Every rescore is recorded in the store's audit log (`rescore.started` before any work,
//! `rescore.finished` with the counts or the error) and logged with `tracing` target
//! `audit`. Entries name the token (its configured name), never the token itself. They hold
//! structured fields only — the model, the sha256 of the request's settings, counts, an
//! error's code, category and field — never free text: the log is append-only, and an error
//! message or a setting's value could carry a server path or what a file holds.

use crate::State;
use crate::auth::Role;
use crate::catalog::{Entry, ScorerError};
use crate::errors;
use crate::invitations;
use crate::records::{IndicatorScorer, indicator_scores, new_result};
use ikd_core::host::{PluginKindName, PluginStatus};
use ikd_core::instrument::ADAPTIVE_MODEL;
use ikd_core::pipeline::{ScoreError, Scorer};
use ikd_core::results::{Administration, RespondentResult};
use ikd_proto::v1::{self as api, admin_service_server::AdminService};
use ikd_store::AuditQuery;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Sessions re-scored per plugin call and store page.
const RESCORE_PAGE: u32 = 1000;
/// Failures listed in a rescore response.
const MAX_LISTED: usize = 20;
/// Audit entries listed when a request asks for no particular number.
const DEFAULT_AUDIT_LIMIT: u32 = 100;

pub struct Admin {
    pub(crate) state: Arc<State>,
}

#[tonic::async_trait]
impl AdminService for Admin {
    async fn list_plugins(
        &self,
        request: Request<api::ListPluginsRequest>,
    ) -> Result<Response<api::ListPluginsResponse>, Status> {
        self.state.authorize(request, &[Role::Admin])?;
        let plugins = self
            .state
            .catalog
            .host
            .entries()
            .iter()
            .map(|e| {
                let (abi_major, abi_minor) = match &e.status {
                    PluginStatus::Loaded(p) => {
                        let (major, minor) = p.abi();
                        (u32::from(major), u32::from(minor))
                    }
                    PluginStatus::Refused(_) => (0, 0),
                };
                let status = match &e.status {
                    PluginStatus::Refused(why) => format!("refused: {why}"),
                    _ => e.status_name().to_owned(),
                };
                api::Plugin {
                    name: e
                        .manifest
                        .as_ref()
                        .map(|m| m.name.clone())
                        .unwrap_or_default(),
                    kind: e
                        .manifest
                        .as_ref()
                        .map(|m| m.kind.to_string())
                        .unwrap_or_default(),
                    version: e
                        .manifest
                        .as_ref()
                        .map(|m| m.version.to_string())
                        .unwrap_or_default(),
                    abi_major,
                    abi_minor,
                    sha256: e.sha256.clone().unwrap_or_default(),
                    status,
                    description: e
                        .manifest
                        .as_ref()
                        .map(|m| m.description.clone())
                        .unwrap_or_default(),
                }
            })
            .collect();
        Ok(Response::new(api::ListPluginsResponse { plugins }))
    }

    async fn list_models(
        &self,
        request: Request<api::ListModelsRequest>,
    ) -> Result<Response<api::ListModelsResponse>, Status> {
        self.state
            .authorize(request, &[Role::Admin, Role::Analyst])?;
        let models = self
            .state
            .catalog
            .host
            .loaded()
            .filter(|p| p.manifest.kind == PluginKindName::ScoringModel)
            .map(|p| api::Model {
                name: p.name().to_owned(),
                version: p.manifest.version.to_string(),
                description: p.manifest.description.clone(),
            })
            .collect();
        Ok(Response::new(api::ListModelsResponse { models }))
    }

    async fn rescore(
        &self,
        request: Request<api::RescoreRequest>,
    ) -> Result<Response<api::RescoreResponse>, Status> {
        let (caller, req) = self.state.authorize(request, &[Role::Admin])?;
        let entry = self.state.catalog.resolve(req.instrument.as_ref())?;
        let instrument = &entry.instrument;
        let target = format!("{}@{}", instrument.id, instrument.version);
        let model = if req.model.is_empty() {
            instrument.scoring.model.as_str()
        } else {
            req.model.as_str()
        };
        // The settings by their hash: the values (kept whole in each new revision's
        // provenance) may be paths the request had no business naming.
        let settings_sha256 = hex::encode(Sha256::digest(req.settings_json.as_bytes()));
        // No audit entry, no rescore: a store that cannot record it refuses the action.
        self.state
            .audit(
                &caller.name,
                "rescore.started",
                &target,
                serde_json::json!({ "model": model, "settings_sha256": settings_sha256 }),
            )
            .await
            .map_err(errors::store)?;
        let outcome = self.rescore_all(entry, &req).await;
        let detail = match &outcome {
            Ok(out) => serde_json::json!({
                "model": model,
                "settings_sha256": settings_sha256,
                "sessions": out.sessions,
                "rescored": out.rescored,
                "failed": out.failed,
            }),
            Err(failure) => serde_json::json!({
                "model": model,
                "settings_sha256": settings_sha256,
                "error": failure.audit_detail(),
            }),
        };
        // The rescore is done either way: a failure to record its end is logged, not returned.
        if let Err(e) = self
            .state
            .audit(&caller.name, "rescore.finished", &target, detail)
            .await
        {
            tracing::error!(target: "audit", action = "rescore.finished", %target, "not recorded: {e}");
        }
        outcome.map(Response::new).map_err(|f| f.status)
    }

    async fn create_invitations(
        &self,
        request: Request<api::CreateInvitationsRequest>,
    ) -> Result<Response<api::CreateInvitationsResponse>, Status> {
        // A service creates links for its own units (`check_unit` in `create`).
        let (caller, req) = self.state.authorize(request, &[Role::Service])?;
        invitations::create(&self.state, &caller, req)
            .await
            .map(Response::new)
    }

    async fn revoke_invitations(
        &self,
        request: Request<api::RevokeInvitationsRequest>,
    ) -> Result<Response<api::RevokeInvitationsResponse>, Status> {
        let (caller, req) = self.state.authorize(request, &[Role::Service])?;
        invitations::revoke(&self.state, &caller, req)
            .await
            .map(Response::new)
    }

    async fn list_audit_log(
        &self,
        request: Request<api::ListAuditLogRequest>,
    ) -> Result<Response<api::ListAuditLogResponse>, Status> {
        let (_, req) = self.state.authorize(request, &[Role::Admin])?;
        let query = AuditQuery {
            since: (req.since != 0).then_some(req.since),
            limit: if req.limit == 0 {
                DEFAULT_AUDIT_LIMIT
            } else {
                req.limit
            },
        };
        let entries = self
            .state
            .store
            .audit_log(&query)
            .await
            .map_err(errors::store)?
            .into_iter()
            .map(|e| api::AuditEntry {
                id: e.id,
                at: e.at,
                actor: e.actor,
                action: e.action,
                target: e.target,
                detail_json: e.detail_json,
            })
            .collect();
        Ok(Response::new(api::ListAuditLogResponse { entries }))
    }
}

/// A rescore that failed: the status for the client, and what the audit log keeps of it.
struct Failure {
    status: Status,
    /// A stable code: `setting_outside_instrument_dir`, `model_refused`, `store_failed`, …
    category: &'static str,
    /// The request field at fault (`settings_json.params`), when there is one.
    field: Option<String>,
}

impl Failure {
    fn new(status: Status, category: &'static str) -> Self {
        Failure {
            status,
            category,
            field: None,
        }
    }

    /// The audit record of the failure: code, category and field, never the message.
    fn audit_detail(&self) -> serde_json::Value {
        let mut detail = serde_json::json!({
            "code": format!("{:?}", self.status.code()),
            "category": self.category,
        });
        if let Some(field) = &self.field {
            detail["setting"] = field.as_str().into();
        }
        detail
    }
}

impl From<ScorerError> for Failure {
    fn from(err: ScorerError) -> Self {
        Failure {
            category: err.category(),
            field: err.field(),
            status: err.into(),
        }
    }
}

impl Admin {
    /// Re-scores every submitted session of the instrument version.
    async fn rescore_all(
        &self,
        entry: &Entry,
        req: &api::RescoreRequest,
    ) -> Result<api::RescoreResponse, Failure> {
        let state = &self.state;
        if entry.adaptive.is_some() && !req.model.is_empty() && req.model != ADAPTIVE_MODEL {
            let status = Status::failed_precondition(format!(
                "instrument '{}' is adaptive: its results are scored with the `{ADAPTIVE_MODEL}` \
                 model only (a weighted index over the items each person got is not comparable)",
                entry.instrument.id
            ));
            return Err(Failure::new(status, "model_refused"));
        }
        let scorer = entry.scorer_for(&state.catalog.host, &req.model, &req.settings_json)?;
        let store_failed = |e| Failure::new(errors::store(e), "store_failed");
        let instrument = &entry.instrument;
        let version = instrument.version.to_string();
        let mut out = api::RescoreResponse::default();
        let fail = |out: &mut api::RescoreResponse, session: &str, why: String| {
            out.failed += 1;
            if out.errors.len() < MAX_LISTED {
                out.errors.push(format!("session '{session}': {why}"));
            }
        };
        let mut after = None;
        loop {
            let page = state
                .store
                .submitted_sessions(&instrument.id, &version, after.take(), RESCORE_PAGE)
                .await
                .map_err(store_failed)?;
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            let full = page.len() as u32 == RESCORE_PAGE;
            out.sessions += page.len() as u64;
            // Sessions whose stored answers still fit the instrument, as one batch.
            let mut rows = entry.items.empty_rows();
            let mut batch = Vec::new();
            for session in &page {
                let (answers, administration) = match self.answers_to_score(entry, session).await {
                    Ok(scored) => scored,
                    Err(status) => {
                        fail(&mut out, &session.id, status.message().to_owned());
                        continue;
                    }
                };
                let who = (
                    session.id.as_str(),
                    session.org_unit.as_str(),
                    duration(session),
                );
                match entry.items.push_stored(&mut rows, who, &answers) {
                    Ok(()) => batch.push(Scored {
                        session,
                        answers,
                        administration,
                    }),
                    Err(v) => fail(
                        &mut out,
                        &session.id,
                        format!("{} unusable answers", v.len()),
                    ),
                }
            }
            // Answers were checked when saved; another model's plugins may still refuse
            // some: those sessions are reported, the rest rescored.
            let outcomes = scorer
                .score_each_blocking(rows)
                .await
                .map_err(|e| Failure::new(errors::score(e), "scoring_failed"))?;
            let indicators = indicators_of_scored(entry, &scorer, &batch, &outcomes)
                .await
                .map_err(|e| Failure::new(errors::score(e), "scoring_failed"))?;
            let mut indicators = indicators.into_iter();
            for (scored, outcome) in batch.iter().zip(outcomes) {
                let session = scored.session;
                let why = match outcome {
                    Ok(result) => {
                        let mut record = new_result(&scorer, &result);
                        record.indicators = indicators.next().unwrap_or_default();
                        if let Some(administration) = &scored.administration {
                            let mut provenance = scorer.provenance().as_ref().clone();
                            provenance.adaptive = Some(administration.clone());
                            record.provenance_json =
                                serde_json::to_string(&provenance).unwrap_or_default();
                        }
                        match state.store.add_revision(&session.id, record).await {
                            Ok(_) => out.rescored += 1,
                            Err(e) => fail(&mut out, &session.id, e.to_string()),
                        }
                        continue;
                    }
                    Err(ScoreError::InvalidAnswers(v)) if !v.is_empty() => {
                        format!("{}: {}", v[0].item, v[0].message)
                    }
                    Err(e) => e.to_string(),
                };
                fail(&mut out, &session.id, why);
            }
            if !full {
                break;
            }
        }
        Ok(out)
    }
}

/// The indicator scores of the sessions of `batch` whose scoring succeeded, in batch order:
/// their item scores again (all valid: they were just scored), as one batch. A rescore is
/// an operator's batch job, so the domain plugins' second run costs little there.
async fn indicators_of_scored(
    entry: &Entry,
    scorer: &Arc<Scorer>,
    batch: &[Scored<'_>],
    outcomes: &[Result<RespondentResult, ScoreError>],
) -> Result<Vec<Vec<ikd_store::IndicatorScore>>, ScoreError> {
    let mut rows = entry.items.empty_rows();
    for (scored, _) in batch.iter().zip(outcomes).filter(|(_, o)| o.is_ok()) {
        let session = scored.session;
        let who = (
            session.id.as_str(),
            session.org_unit.as_str(),
            duration(session),
        );
        // The same answers fitted a moment ago.
        let _ = entry.items.push_stored(&mut rows, who, &scored.answers);
    }
    let n = rows.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let items = scorer.item_scores_blocking(rows).await?;
    let indicators = IndicatorScorer::new(scorer);
    Ok((0..n)
        .map(|r| indicator_scores(&indicators, &items, r))
        .collect())
}

/// A session of a rescore batch with the answers it is scored from.
struct Scored<'a> {
    session: &'a ikd_store::Session,
    answers: Vec<(String, String)>,
    /// Adaptive instruments: the administration the new revision records.
    administration: Option<Administration>,
}

impl Admin {
    /// The answers a session is rescored from: its saved answers; for an adaptive
    /// instrument, the items its test gave (replayed), the others not applicable, as at
    /// submit.
    async fn answers_to_score(
        &self,
        entry: &Entry,
        session: &ikd_store::Session,
    ) -> Result<(Vec<(String, String)>, Option<Administration>), Status> {
        let Some(adaptive) = &entry.adaptive else {
            return Ok((session.answers.clone(), None));
        };
        let position = self.state.position(entry, adaptive, session).await?;
        Ok((
            crate::adaptive::scored_answers(&position, adaptive, session),
            Some(crate::adaptive::administration(&position, adaptive)),
        ))
    }
}

/// A stored session's completion time, as its submit scored it.
fn duration(session: &ikd_store::Session) -> Option<f64> {
    session
        .submitted_at
        .map(|end| crate::answers::completion_seconds(session.created_at, end))
}
