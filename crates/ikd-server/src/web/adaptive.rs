//! The way through an adaptive instrument: one item per page, the one the test gives now
//! (`/take/{token}/item`), with the same widgets as the domain pages. There is no going
//! back: a saved answer is part of the test that chose the items after it. "Stop and
//! review" leads to a review that says whether the test is complete; submitting before it
//! is ends the test early, and the result records that.

use super::fields::Fields;
use super::flow::{self, Visit};
use super::pages::{self, Html, other, with_lang};
use super::texts::texts;
use super::{LangQuery, Posted, accepted_post, first, lang_of};
use crate::State;
use crate::adaptive::{Adaptive, Position};
use axum::extract::{Path, Query, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use ikd_core::lang::Lang;
use minijinja::context;
use std::sync::Arc;

/// The visit's adaptive test and where it stands, or the page to show instead.
async fn locate(
    state: &State,
    visit: &Visit,
    lang: Lang,
) -> Result<(Arc<Adaptive>, Position), Html> {
    let Some(adaptive) = visit.entry.adaptive.clone() else {
        return Err(pages::not_found(lang));
    };
    match state
        .position(&visit.entry, &adaptive, &visit.session)
        .await
    {
        Ok(position) => Ok((adaptive, position)),
        Err(status) => Err(pages::failure(&status, lang)),
    }
}

pub(super) async fn show_item(
    Shared(state): Shared<Arc<State>>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
) -> Html {
    let lang = lang_of(q.lang.as_deref());
    let visit = match flow::visit(&state, &token, lang).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    if visit.submitted() {
        return Redirect::to(&with_lang(&visit.base(), lang)).into_response();
    }
    let (adaptive, position) = match locate(&state, &visit, lang).await {
        Ok(located) => located,
        Err(page) => return page,
    };
    match position.next_item(&adaptive) {
        Some(item) => item_page(&state, &visit, &position, item, None, lang),
        None => Redirect::to(&with_lang(&format!("{}/review", visit.base()), lang)).into_response(),
    }
}

/// Saves the answer to the item given now and shows the next one; "stop" goes to the
/// review and the language switch re-shows the item, both without saving.
pub(super) async fn post_item(
    Shared(state): Shared<Arc<State>>,
    Path(token): Path<String>,
    form: Posted,
) -> Html {
    let (visit, fields, lang) = match accepted_post(&state, &token, form).await {
        Ok(accepted) => accepted,
        Err(page) => return page,
    };
    let item_url = format!("{}/item", visit.base());
    match first(&fields, "go") {
        Some("stop") => {
            return Redirect::to(&with_lang(&format!("{}/review", visit.base()), lang))
                .into_response();
        }
        Some("switch") => return Redirect::to(&with_lang(&item_url, other(lang))).into_response(),
        _ => {}
    }
    let (adaptive, position) = match locate(&state, &visit, lang).await {
        Ok(located) => located,
        Err(page) => return page,
    };
    // A form for an item the test has moved past (posted twice, or from an old tab)
    // saves nothing: the item given now is shown.
    let Some(current) = position.next_item(&adaptive) else {
        return Redirect::to(&with_lang(&format!("{}/review", visit.base()), lang)).into_response();
    };
    if first(&fields, "item") != Some(current) {
        return Redirect::to(&with_lang(&item_url, lang)).into_response();
    }
    let k = index_of(&visit, current);
    let read = flow::read_page(&visit, &[k], &fields, lang);
    let mut errors = read.errors;
    if errors.is_empty() && read.cells.iter().all(|(_, cell)| cell.is_empty()) {
        errors.push((k, texts(lang).answer_needed.to_owned()));
    }
    if errors.is_empty() {
        match flow::save_page(&state, &visit, 0, &read.cells, lang).await {
            Ok(refused) => errors.extend(refused.into_iter().map(|(_, message)| (k, message))),
            Err(page) => return page,
        }
    }
    if !errors.is_empty() {
        return item_page(
            &state,
            &visit,
            &position,
            current,
            Some((&fields, &errors)),
            lang,
        );
    }
    Redirect::to(&with_lang(&item_url, lang)).into_response()
}

/// The review of an adaptive session: complete or not, and the items per part.
pub(super) async fn review(state: &State, visit: &Visit, lang: Lang, confirm_error: bool) -> Html {
    let (adaptive, position) = match locate(state, visit, lang).await {
        Ok(located) => located,
        Err(page) => return page,
    };
    let instrument = &visit.entry.instrument;
    let bank = adaptive.test().bank();
    let domains: Vec<minijinja::Value> = bank
        .domains()
        .iter()
        .enumerate()
        .map(|(d, domain)| {
            let name = instrument
                .domains
                .iter()
                .find(|i| i.code == domain.code)
                .map_or(domain.code.as_str(), |i| i.name.get(lang));
            context! { part => d + 1, name => name, answered => position.state.domain_count(d) }
        })
        .collect();
    let t = texts(lang);
    let ctx = context! {
        ..pages::chrome(
            lang,
            &pages::title(visit, lang),
            t.review_title,
            Some(with_lang(&format!("{}/review", visit.base()), other(lang))),
        ),
        ..context! {
            done => position.stopped().is_some(),
            domains => domains,
            csrf => visit.csrf(state),
            confirm_error => confirm_error,
            action => format!("{}/submit", visit.base()),
            continue_url => with_lang(&format!("{}/item", visit.base()), lang),
        },
    };
    let status = if confirm_error {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    pages::render("adaptive_review.html", ctx, status)
}

/// The page of the item given now; `refused` re-shows a post with its errors (422).
fn item_page(
    state: &State,
    visit: &Visit,
    position: &Position,
    item: &str,
    refused: Option<(&Fields, &[(usize, String)])>,
    lang: Lang,
) -> Html {
    let instrument = &visit.entry.instrument;
    let k = index_of(visit, item);
    let (posted, errors) = refused.map_or((None, &[][..]), |(f, e)| (Some(f), e));
    let Some(mut view) = flow::page_views(visit, &[k], posted, errors, lang).pop() else {
        return pages::not_found(lang);
    };
    // Numbered in the order given, not by the item's place in the instrument.
    let number = position.state.total() + 1;
    view.number = number;
    let part = instrument
        .domains
        .iter()
        .position(|d| d.code == instrument.items[k].domain)
        .unwrap_or(0);
    let domain = instrument.domains[part].name.get(lang);
    let status = if refused.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let ctx = context! {
        ..pages::chrome(lang, &pages::title(visit, lang), domain, None),
        ..context! {
            part => part + 1,
            parts => visit.parts(),
            domain => domain,
            number => number,
            has_errors => view.error.is_some(),
            item => minijinja::Value::from(minijinja::value::Serde(&view)),
            csrf => visit.csrf(state),
            action => format!("{}/item", visit.base()),
        },
    };
    pages::render("adaptive.html", ctx, status)
}

/// The instrument position of an item the test gives (a bank item, so an instrument item).
fn index_of(visit: &Visit, item: &str) -> usize {
    visit
        .entry
        .instrument
        .items
        .iter()
        .position(|i| i.id == item)
        .expect("the bank's items are the instrument's")
}
