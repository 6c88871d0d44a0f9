//! Rendering the app's pages (minijinja, templates compiled in) and the
//! responses that carry them, each with the status that says what happened.

use super::flow::Visit;
use super::texts::texts;
use super::views::ItemView;
use crate::invitations::Closed;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ikd_core::lang::Lang;
use minijinja::{Environment, Value, context};
use std::sync::OnceLock;
use tonic::Code;

/// A finished response.
pub(crate) type Html = Response;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/take/base.html")),
    (
        "message.html",
        include_str!("../../templates/take/message.html"),
    ),
    (
        "welcome.html",
        include_str!("../../templates/take/welcome.html"),
    ),
    ("page.html", include_str!("../../templates/take/page.html")),
    ("item.html", include_str!("../../templates/take/item.html")),
    (
        "adaptive.html",
        include_str!("../../templates/take/adaptive.html"),
    ),
    (
        "adaptive_review.html",
        include_str!("../../templates/take/adaptive_review.html"),
    ),
    (
        "review.html",
        include_str!("../../templates/take/review.html"),
    ),
];

/// The stylesheet, served at `/static/take.css`.
pub(crate) const STYLESHEET: &str = include_str!("../../templates/take/take.css");

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        env
    })
}

/// Renders `template`; a template error is a bug, answered 500 and logged.
pub(crate) fn render(template: &str, ctx: Value, status: StatusCode) -> Html {
    match env().get_template(template).and_then(|t| t.render(ctx)) {
        Ok(body) => (status, html_type(), body).into_response(),
        Err(e) => {
            tracing::error!("web template {template}: {e:#}");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

fn html_type() -> [(header::HeaderName, HeaderValue); 1] {
    [(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    )]
}

/// What every page shows: the language, its switch, the texts and the title.
pub(crate) fn chrome(
    lang: Lang,
    title: &str,
    page_title: &str,
    switch_url: Option<String>,
) -> Value {
    context! {
        lang => lang.code(),
        other_lang => other(lang).code(),
        t => Value::from(minijinja::value::Serde(texts(lang))),
        title => title,
        page_title => page_title,
        switch_url => switch_url,
    }
}

/// `path` with `lang` as its query (the default language needs none).
pub(crate) fn with_lang(path: &str, lang: Lang) -> String {
    match lang {
        Lang::Id => path.to_owned(),
        other => format!("{path}?lang={}", other.code()),
    }
}

/// The language the switch on a page leads to.
pub(crate) fn other(lang: Lang) -> Lang {
    match lang {
        Lang::Id => Lang::En,
        Lang::En => Lang::Id,
    }
}

/// A page with one message: links that do not open, forged posts, failures.
fn message(status: StatusCode, lang: Lang, heading: &str, text: &str, hint: Option<&str>) -> Html {
    let ctx = context! {
        ..chrome(lang, "IKD", heading, None),
        ..context! { message => text, hint => hint, back_url => (), back_label => () },
    };
    render("message.html", ctx, status)
}

pub(crate) fn closed(why: Closed, lang: Lang) -> Html {
    let t = texts(lang);
    let (status, text) = match why {
        Closed::Unknown => (StatusCode::NOT_FOUND, t.closed_unknown),
        Closed::Expired => (StatusCode::GONE, t.closed_expired),
        Closed::Revoked => (StatusCode::GONE, t.closed_revoked),
    };
    message(status, lang, text, text, Some(t.contact))
}

pub(crate) fn landing(lang: Lang) -> Html {
    let t = texts(lang);
    message(StatusCode::OK, lang, "IKD", t.landing, None)
}

pub(crate) fn not_found(lang: Lang) -> Html {
    let t = texts(lang);
    message(StatusCode::NOT_FOUND, lang, t.not_found, t.not_found, None)
}

pub(crate) fn forged(lang: Lang) -> Html {
    let t = texts(lang);
    message(StatusCode::FORBIDDEN, lang, t.forged, t.forged, None)
}

/// A post that is no readable form: too large keeps its 413, the rest 400.
pub(crate) fn bad_form(lang: Lang, status: StatusCode) -> Html {
    let t = texts(lang);
    let status = match status {
        StatusCode::PAYLOAD_TOO_LARGE => status,
        _ => StatusCode::BAD_REQUEST,
    };
    message(status, lang, t.bad_form, t.bad_form, None)
}

/// A post to a submitted session: nothing changes; the report is one link away.
pub(crate) fn already_submitted(visit: &Visit, lang: Lang) -> Html {
    let t = texts(lang);
    let ctx = context! {
        ..chrome(lang, &title(visit, lang), t.closed_submitted, None),
        ..context! {
            message => t.closed_submitted,
            hint => (),
            back_url => with_lang(&visit.base(), lang),
            back_label => t.resume,
        },
    };
    render("message.html", ctx, StatusCode::CONFLICT)
}

/// A failure of the server or the store, said without internals.
pub(crate) fn failure(status: &tonic::Status, lang: Lang) -> Html {
    let code = match status.code() {
        Code::InvalidArgument => StatusCode::BAD_REQUEST,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::FailedPrecondition => StatusCode::CONFLICT,
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    tracing::warn!(code = ?status.code(), "web: {}", status.message());
    let heading = match lang {
        Lang::Id => "Terjadi gangguan; coba lagi sebentar lagi.",
        Lang::En => "Something went wrong; please try again shortly.",
    };
    message(code, lang, heading, heading, Some(texts(lang).contact))
}

pub(crate) fn title(visit: &Visit, lang: Lang) -> String {
    visit.entry.instrument.title.get(lang).to_owned()
}

pub(crate) fn welcome(visit: &Visit, lang: Lang) -> Html {
    let t = texts(lang);
    let resumed = !visit.session.answers.is_empty();
    let adaptive = visit.entry.adaptive.as_ref();
    let start = match adaptive {
        Some(_) => format!("{}/item", visit.base()),
        None => format!("{}/page/1", visit.base()),
    };
    let ctx = context! {
        ..chrome(
            lang,
            &title(visit, lang),
            t.welcome_title,
            Some(with_lang(&visit.base(), other(lang))),
        ),
        ..context! {
            parts => visit.parts(),
            items => visit.entry.instrument.items.len(),
            instrument_version => format!("{} {}", visit.entry.instrument.id, visit.entry.instrument.version),
            resumed => resumed,
            start_url => with_lang(&start, lang),
            how => if adaptive.is_some() { t.adaptive_how } else { t.how },
            questions_at_most => adaptive.map(|a| a.max_items()),
        },
    };
    render("welcome.html", ctx, StatusCode::OK)
}

/// One domain's page; `status` is 422 when it re-shows a refused post.
pub(crate) fn page(
    visit: &Visit,
    part: usize,
    items: Vec<ItemView>,
    csrf: &str,
    lang: Lang,
    status: StatusCode,
) -> Html {
    let domain = &visit.entry.instrument.domains[part - 1];
    let has_errors = items.iter().any(|i| i.error.is_some());
    let ctx = context! {
        ..chrome(lang, &title(visit, lang), domain.name.get(lang), None),
        ..context! {
            part => part,
            parts => visit.parts(),
            last => part == visit.parts(),
            domain => domain.name.get(lang),
            items => Value::from(minijinja::value::Serde(&items)),
            has_errors => has_errors,
            csrf => csrf,
            action => format!("{}/page/{part}", visit.base()),
        },
    };
    render("page.html", ctx, status)
}

pub(crate) fn review(visit: &Visit, csrf: &str, lang: Lang, confirm_error: bool) -> Html {
    let t = texts(lang);
    let instrument = &visit.entry.instrument;
    let mut all_answered = true;
    let domains: Vec<Value> = (1..=visit.parts())
        .map(|part| {
            let items = visit.page_items(part);
            let unanswered: Vec<Value> = items
                .iter()
                .filter(|&&k| visit.stored(k).is_empty())
                .map(|&k| {
                    let text: String = instrument.items[k]
                        .text
                        .get(lang)
                        .chars()
                        .take(90)
                        .collect();
                    context! {
                        number => k + 1,
                        text => text,
                        url => format!(
                            "{}#item-{}",
                            with_lang(&format!("{}/page/{part}", visit.base()), lang),
                            instrument.items[k].id
                        ),
                    }
                })
                .collect();
            all_answered &= unanswered.is_empty();
            context! {
                part => part,
                name => instrument.domains[part - 1].name.get(lang),
                total => items.len(),
                answered => items.len() - unanswered.len(),
                unanswered => unanswered,
                url => with_lang(&format!("{}/page/{part}", visit.base()), lang),
            }
        })
        .collect();
    let ctx = context! {
        ..chrome(
            lang,
            &title(visit, lang),
            t.review_title,
            Some(with_lang(&format!("{}/review", visit.base()), other(lang))),
        ),
        ..context! {
            domains => domains,
            all_answered => all_answered,
            csrf => csrf,
            confirm_error => confirm_error,
            action => format!("{}/submit", visit.base()),
            back_url => with_lang(&format!("{}/page/{}", visit.base(), visit.parts()), lang),
        },
    };
    let status = if confirm_error {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render("review.html", ctx, status)
}

/// The personal report (the report crate's self-contained page: inline
/// styles and SVG, no script), with a policy that allows exactly that.
pub(crate) fn report(html: String) -> Html {
    let mut response = (StatusCode::OK, html_type(), html).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
             form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    response
}
