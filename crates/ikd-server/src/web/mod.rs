//! The respondent web app, served by `ikd serve` on its own listener
//! (`web_addr`, default `127.0.0.1:8080`): invitation links open an
//! instrument, one page per domain, rendered on the server so that it works
//! on low-end phones with JavaScript off.
//!
//! | route | what |
//! |---|---|
//! | `GET /take/{token}` | welcome (and privacy notice); the report once submitted |
//! | `GET/POST /take/{token}/page/{n}` | domain `n`'s items; a post saves, then moves |
//! | `GET/POST /take/{token}/item` | adaptive instruments: the item the test gives now |
//! | `GET /take/{token}/review` | what is unanswered; the submit form |
//! | `POST /take/{token}/submit` | scores and stores the result, then shows the report |
//! | `GET /static/take.css` | the stylesheet |
//!
//! Every response carries a strict Content-Security-Policy (no script at
//! all), `Referrer-Policy: no-referrer` (link tokens never leave in a
//! Referer), `X-Content-Type-Options: nosniff`, no caching, and no framing.
//! There are no cookies: the token in the path is the credential, and each
//! form carries a keyed hash of it against cross-site request forgery.
//! Items are drawn from their plugins' presentations (`fields`, `views`):
//! a new domain plugin is delivered here with no change to this module.

mod adaptive;
mod fields;
mod flow;
mod pages;
mod texts;
mod views;

use crate::State;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Form, Path, Query, State as Shared};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use fields::Fields;
use ikd_core::lang::Lang;
use pages::{Html, other, with_lang};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// The form fields (name, value) a page posts to give `cell` for an item
/// shown as `shown` — the web app's form contract, for load generators and
/// other clients that post pages.
pub fn form_fields(
    shown: &ikd_plugin_sdk::proto::ItemPresentation,
    cell: &str,
) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = fields::fields_from_cell(shown, cell)
        .into_iter()
        .flat_map(|(name, values)| values.into_iter().map(move |v| (name.clone(), v)))
        .collect();
    pairs.sort();
    pairs
}

/// The largest form a page may post: a domain's items are a few kilobytes.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// Serves the app on `listener` until `shutdown` completes.
pub(crate) async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

pub(crate) fn router(state: Arc<State>) -> Router {
    let metrics = state.metrics.clone();
    let app = Router::new()
        .route("/", get(landing))
        .route("/take/{token}", get(welcome))
        .route("/take/{token}/page/{part}", get(show_page).post(post_page))
        .route(
            "/take/{token}/item",
            get(adaptive::show_item).post(adaptive::post_item),
        )
        .route("/take/{token}/review", get(review))
        .route("/take/{token}/submit", axum::routing::post(submit))
        .route("/static/take.css", get(stylesheet))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(axum::middleware::map_response(security_headers));
    // Outermost, so every answer is counted as the client gets it.
    let app = match metrics {
        Some(metrics) => app.layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::metrics::web::track,
        )),
        None => app,
    };
    app.with_state(state)
}

/// The headers every response gets (a page may set a narrower policy).
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

#[derive(serde::Deserialize, Default)]
struct LangQuery {
    lang: Option<String>,
}

/// The language asked for; anything unknown is the default.
fn lang_of(code: Option<&str>) -> Lang {
    code.and_then(|c| c.parse().ok()).unwrap_or_default()
}

async fn landing(Query(q): Query<LangQuery>) -> Html {
    pages::landing(lang_of(q.lang.as_deref()))
}

async fn not_found() -> Html {
    pages::not_found(Lang::default())
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        pages::STYLESHEET,
    )
        .into_response()
}

async fn welcome(
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
        return match crate::report::person_html(&state, &visit.caller, &visit.session, lang).await {
            Ok((html, _)) => pages::report(html),
            Err(status) => pages::failure(&status, lang),
        };
    }
    pages::welcome(&visit, lang)
}

async fn show_page(
    Shared(state): Shared<Arc<State>>,
    Path((token, part)): Path<(String, String)>,
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
    if visit.entry.adaptive.is_some() {
        return Redirect::to(&with_lang(&format!("{}/item", visit.base()), lang)).into_response();
    }
    let Some(part) = part_number(&visit, &part) else {
        return pages::not_found(lang);
    };
    let items = visit.page_items(part);
    let views = flow::page_views(&visit, &items, None, &[], lang);
    pages::page(
        &visit,
        part,
        views,
        &visit.csrf(&state),
        lang,
        StatusCode::OK,
    )
}

/// Saves the page's answers, then goes where the button said: back, next
/// (the review after the last page), or the same page in the other language.
async fn post_page(
    Shared(state): Shared<Arc<State>>,
    Path((token, part)): Path<(String, String)>,
    form: Posted,
) -> Html {
    let (visit, fields, lang) = match accepted_post(&state, &token, form).await {
        Ok(accepted) => accepted,
        Err(page) => return page,
    };
    if visit.entry.adaptive.is_some() {
        return Redirect::to(&with_lang(&format!("{}/item", visit.base()), lang)).into_response();
    }
    let Some(part) = part_number(&visit, &part) else {
        return pages::not_found(lang);
    };
    let items = visit.page_items(part);
    let read = flow::read_page(&visit, &items, &fields, lang);
    let mut errors = read.errors;
    if errors.is_empty() {
        match flow::save_page(&state, &visit, part, &read.cells, lang).await {
            Ok(refused) => {
                let instrument = &visit.entry.instrument;
                errors.extend(refused.into_iter().filter_map(|(item, message)| {
                    let k = instrument.items.iter().position(|i| i.id == item)?;
                    Some((k, message))
                }));
            }
            Err(page) => return page,
        }
    }
    if !errors.is_empty() {
        let views = flow::page_views(&visit, &items, Some(&fields), &errors, lang);
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return pages::page(&visit, part, views, &visit.csrf(&state), lang, status);
    }
    let (target, lang) = match first(&fields, "go") {
        Some("back") if part == 1 => (visit.base(), lang),
        Some("back") => (format!("{}/page/{}", visit.base(), part - 1), lang),
        Some("switch") => (format!("{}/page/{part}", visit.base()), other(lang)),
        _ if part == visit.parts() => (format!("{}/review", visit.base()), lang),
        _ => (format!("{}/page/{}", visit.base(), part + 1), lang),
    };
    Redirect::to(&with_lang(&target, lang)).into_response()
}

async fn review(
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
    if visit.entry.adaptive.is_some() {
        return adaptive::review(&state, &visit, lang, false).await;
    }
    pages::review(&visit, &visit.csrf(&state), lang, false)
}

/// Submits once the person confirmed; the report follows.
async fn submit(
    Shared(state): Shared<Arc<State>>,
    Path(token): Path<String>,
    form: Posted,
) -> Html {
    let (visit, fields, lang) = match accepted_post(&state, &token, form).await {
        Ok(accepted) => accepted,
        Err(page) => return page,
    };
    let adaptive = visit.entry.adaptive.is_some();
    if first(&fields, "confirm") != Some("yes") {
        return if adaptive {
            adaptive::review(&state, &visit, lang, true).await
        } else {
            pages::review(&visit, &visit.csrf(&state), lang, true)
        };
    }
    // An adaptive test's review said whether it is complete; confirming there is the
    // person's choice to stop.
    let end_early = adaptive;
    match crate::sessions::submit(&state, &visit.caller, &visit.session.id, end_early, lang).await {
        Ok(_) => Redirect::to(&with_lang(&visit.base(), lang)).into_response(),
        Err(status) if status.code() == tonic::Code::FailedPrecondition => {
            pages::already_submitted(&visit, lang)
        }
        Err(status) => pages::failure(&status, lang),
    }
}

type Posted = Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>;

/// What every post passes before it changes anything: a readable form, a
/// link that opens, the link's own anti-forgery value, an open session.
/// Otherwise the page that says why (400/413, 404/410, 403, 409).
async fn accepted_post(
    state: &State,
    token: &str,
    form: Posted,
) -> Result<(flow::Visit, Fields, Lang), Html> {
    let pairs = match form {
        Ok(Form(pairs)) => pairs,
        // Too large (413), not a form (415 → 400), unreadable (400).
        Err(rejection) => return Err(pages::bad_form(Lang::default(), rejection.status())),
    };
    let fields = collect(pairs);
    let lang = lang_of(first(&fields, "lang"));
    let visit = flow::visit(state, token, lang).await?;
    if first(&fields, "csrf") != Some(visit.csrf(state).as_str()) {
        tracing::warn!(invitation = %visit.invitation.id, "web: a form without its anti-forgery value");
        return Err(pages::forged(lang));
    }
    if visit.submitted() {
        return Err(pages::already_submitted(&visit, lang));
    }
    Ok((visit, fields, lang))
}

/// A page number of the visit's instrument (1-based), or `None`.
fn part_number(visit: &flow::Visit, part: &str) -> Option<usize> {
    let part: usize = part.parse().ok()?;
    (1..=visit.parts()).contains(&part).then_some(part)
}

fn collect(pairs: Vec<(String, String)>) -> Fields {
    let mut fields = Fields::new();
    for (name, value) in pairs {
        fields.entry(name).or_default().push(value);
    }
    fields
}

fn first<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields.get(name)?.first().map(String::as_str)
}
