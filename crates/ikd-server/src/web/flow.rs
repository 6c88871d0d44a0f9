//! The respondent's way through an instrument: welcome, one page per domain,
//! review, submit, report. Every step is a plain HTML page or form post
//! (works with JavaScript off); every post saves before it moves on.
//!
//! The link token is the respondent's only credential. The session is
//! started at the first view of the link (so completion time counts from
//! there) and bound to the invitation; everything else lives in the store,
//! as for the gRPC API, and the same checks and saves are used.

use super::fields::{Fields, cell_from_fields, fields_from_cell};
use super::pages::{self, Html};
use super::views::{error_message, item_view};
use crate::State;
use crate::auth::Caller;
use crate::catalog::Entry;
use crate::invitations::{self, Closed, token_sha256};
use ikd_core::lang::Lang;
use ikd_store::{Invitation, NewSession, Session, SessionState, StoreError};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Everything a step needs about the visitor's link.
pub(crate) struct Visit {
    pub token: String,
    pub invitation: Invitation,
    pub session: Session,
    pub entry: Arc<Entry>,
    /// The invitation acting as a caller of the session operations: its
    /// scope is exactly the invitation's unit.
    pub caller: Caller,
}

impl Visit {
    pub fn base(&self) -> String {
        format!("/take/{}", self.token)
    }

    /// The anti-forgery value of this link's forms: a keyed hash of the
    /// token, so another site cannot know it, and any replica can check it.
    pub fn csrf(&self, state: &State) -> String {
        state
            .pseudonyms
            .pseudonym(&format!("csrf\u{0}{}", token_sha256(&self.token)))
    }

    pub fn submitted(&self) -> bool {
        self.session.state == SessionState::Submitted
    }

    /// The items of page `part` (1-based: one page per domain), with their
    /// positions in the instrument.
    pub fn page_items(&self, part: usize) -> Vec<usize> {
        let instrument = &self.entry.instrument;
        let Some(domain) = instrument.domains.get(part.wrapping_sub(1)) else {
            return Vec::new();
        };
        (0..instrument.items.len())
            .filter(|&k| instrument.items[k].domain == domain.code)
            .collect()
    }

    pub fn parts(&self) -> usize {
        self.entry.instrument.domains.len()
    }

    /// The stored cell of item `k`, empty when unanswered.
    pub fn stored(&self, k: usize) -> &str {
        let id = &self.entry.instrument.items[k].id;
        self.session
            .answers
            .iter()
            .find(|(item, _)| item == id)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Opens the link: the invitation if it still opens, its session (started
/// now at the first visit), or the page saying why not.
pub(crate) async fn visit(state: &State, token: &str, lang: Lang) -> Result<Visit, Html> {
    let invitation = match invitations::open(state, token).await {
        Ok(Ok(i)) => i,
        Ok(Err(closed)) => return Err(pages::closed(closed, lang)),
        Err(status) => return Err(pages::failure(&status, lang)),
    };
    let entry = match state
        .catalog
        .find(&invitation.instrument_id, &invitation.instrument_version)
    {
        Ok(entry) => entry.clone(),
        Err(_) => return Err(pages::closed(Closed::Unknown, lang)),
    };
    let session_id = match &invitation.session_id {
        Some(id) => id.clone(),
        None => {
            let new = NewSession {
                instrument_id: invitation.instrument_id.clone(),
                instrument_version: invitation.instrument_version.clone(),
                instrument_sha256: entry.instrument.sha256.clone(),
                respondent_key: invitation.respondent_key.clone(),
                org_unit: invitation.org_unit.clone(),
            };
            let started = state
                .store
                .invitation_session(&invitation.token_sha256, new)
                .await;
            match started {
                Ok(id) => {
                    tracing::info!(invitation = %invitation.id, session = %id, "invitation opened");
                    id
                }
                Err(e) => return Err(pages::failure(&crate::errors::store(e), lang)),
            }
        }
    };
    let session = match state.store.session(&session_id).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(pages::closed(Closed::Unknown, lang)),
        Err(e) => return Err(pages::failure(&crate::errors::store(e), lang)),
    };
    Ok(Visit {
        token: token.to_owned(),
        caller: Caller {
            name: format!("invitation {}", invitation.id),
            org_prefix: invitation.org_unit.clone(),
        },
        invitation,
        session,
        entry,
    })
}

/// What one page's form gives: a cell per item, or an error per item.
pub(crate) struct PageAnswers {
    pub cells: Vec<(String, String)>,
    pub errors: Vec<(usize, String)>,
}

/// Reads one page's items from the posted fields.
pub(crate) fn read_page(
    visit: &Visit,
    items: &[usize],
    fields: &Fields,
    lang: Lang,
) -> PageAnswers {
    let scorer = &visit.entry.scorer;
    let mut answers = PageAnswers {
        cells: Vec::new(),
        errors: Vec::new(),
    };
    for &k in items {
        let Some(shown) = scorer.presentation(k) else {
            continue;
        };
        match cell_from_fields(shown, fields) {
            Ok(cell) => answers.cells.push((shown.item_id.clone(), cell)),
            Err(code) => answers.errors.push((k, error_message(&code, lang))),
        }
    }
    answers
}

/// Checks the cells with their kinds (as `SaveAnswers` does) and saves them
/// under a request id made of the page and its content, so posting the same
/// page twice is one save. The kinds' messages come back per item.
pub(crate) async fn save_page(
    state: &State,
    visit: &Visit,
    part: usize,
    cells: &[(String, String)],
    lang: Lang,
) -> Result<Vec<(String, String)>, Html> {
    let entry = &visit.entry;
    let positions = match entry
        .items
        .cells(cells.iter().map(|(i, v)| (i.as_str(), v.as_str())))
    {
        Ok(p) => p,
        Err(v) => {
            let status = crate::errors::bad_request("invalid answers", &v);
            return Err(pages::failure(&status, lang));
        }
    };
    let mut rows = entry.items.empty_rows();
    crate::answers::push(
        &mut rows,
        &visit.session.id,
        &visit.session.org_unit,
        None,
        &positions,
    );
    let violations = match state.answer_violations(&entry.scorer, rows).await {
        Ok(v) => v,
        Err(status) => return Err(pages::failure(&status, lang)),
    };
    if !violations.is_empty() {
        return Ok(violations
            .into_iter()
            .map(|v| (v.item, v.message))
            .collect());
    }
    if let Some(adaptive) = &entry.adaptive {
        let given: Vec<(&str, &str)> = cells
            .iter()
            .map(|(i, v)| (i.as_str(), v.as_str()))
            .collect();
        if let Err(status) = state
            .check_adaptive_save(entry, adaptive, &visit.session, &given)
            .await
        {
            return Err(pages::failure(&status, lang));
        }
    }
    let mut digest = Sha256::new();
    digest.update(part.to_le_bytes());
    for (item, cell) in cells {
        digest.update(item.as_bytes());
        digest.update([0]);
        digest.update(cell.as_bytes());
        digest.update([0]);
    }
    let request_id = format!("web-{}", hex::encode(&digest.finalize()[..16]));
    match state
        .store
        .save_answers(&visit.session.id, &request_id, cells)
        .await
    {
        Ok(_) => Ok(Vec::new()),
        Err(StoreError::Submitted { .. }) => Err(pages::already_submitted(visit, lang)),
        Err(e) => Err(pages::failure(&crate::errors::store(e), lang)),
    }
}

/// The fields that show item `k` as the person left it.
pub(crate) fn stored_fields(visit: &Visit, k: usize) -> Fields {
    match visit.entry.scorer.presentation(k) {
        Some(shown) => fields_from_cell(shown, visit.stored(k)),
        None => Fields::new(),
    }
}

/// The page's item views: posted fields when re-showing a refused post,
/// else what is stored.
pub(crate) fn page_views(
    visit: &Visit,
    items: &[usize],
    posted: Option<&Fields>,
    errors: &[(usize, String)],
    lang: Lang,
) -> Vec<super::views::ItemView> {
    let instrument = &visit.entry.instrument;
    items
        .iter()
        .filter_map(|&k| {
            let shown = visit.entry.scorer.presentation(k)?;
            let fields = match posted {
                Some(f) => f.clone(),
                None => stored_fields(visit, k),
            };
            let error = errors.iter().find(|(i, _)| *i == k).map(|(_, m)| m.clone());
            Some(item_view(
                &instrument.items[k],
                k + 1,
                shown,
                &fields,
                error,
                lang,
            ))
        })
        .collect()
}
