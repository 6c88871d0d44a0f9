//! The browser harness (`ikd_tests::browser`) tried on a tiny site served
//! from this file: a form used by keyboard alone and by pointer, its
//! submission seen by the server, axe-core passing a good page and failing
//! a bad one, and the sideways-scroll check passing a page at a phone's
//! width and catching a page that is too wide. Every page carries a strict
//! Content-Security-Policy with no script source, like the respondent pages.
//!
//! Chromium, chromedriver and axe-core are required: without them these
//! tests fail, naming what to install (scripts/test installs them).

use fantoccini::key::Key;
use ikd_tests::browser::{
    Browser, DESKTOP, PHONE, axe, http_get, no_horizontal_scroll, screenshot,
};
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// No scripts at all, styles from the site only, forms posted back to it.
const CSP: &str = "default-src 'none'; style-src 'self'; form-action 'self'";

const STYLE: &str = "body { font-family: sans-serif; margin: 1rem; color: #111; background: #fff; }
fieldset { border: 1px solid #555; margin: 0 0 1rem; }
label { display: block; margin: 0.25rem 0; }
.wide { width: 800px; height: 2rem; background: #eee; }
";

/// A well-formed form: a radio group, a checkbox, a number field, a
/// button, and an inline script that the CSP must stop.
const FORM: &str = r#"<form action="/submitted" method="get">
<fieldset><legend>Favourite colour</legend>
<label><input type="radio" name="colour" value="red"> Red</label>
<label><input type="radio" name="colour" value="green"> Green</label>
<label><input type="radio" name="colour" value="blue"> Blue</label>
</fieldset>
<label><input type="checkbox" id="agree" name="agree" value="yes"> I agree</label>
<label for="count">How many</label>
<input type="number" id="count" name="count" min="0" max="99">
<button type="submit">Send</button>
</form>
<script>document.documentElement.dataset.inline = "ran";</script>"#;

/// A text field with no label of any kind: axe-core's `label` rule (critical).
const UNLABELLED: &str = r#"<form action="/submitted"><input type="text" id="nameless" name="x">
<button type="submit">Send</button></form>"#;

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/style.css\"></head>\
         <body><main><h1>{title}</h1>\n{body}\n</main></body></html>\n"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A local HTTP server with fixed pages, remembering each request's target.
struct Site {
    base: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Site {
    fn start() -> Site {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        // Detached: it ends with the test process. One thread per
        // connection, as Chromium may hold idle ones open.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = seen.clone();
                std::thread::spawn(move || serve(stream, &seen));
            }
        });
        Site { base, requests }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }
}

/// Answers one request (HTTP/1.1, then closes the connection).
fn serve(stream: TcpStream, seen: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    // The rest of the head is not needed, but must be read before answering.
    let mut header = String::new();
    while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
        header.clear();
    }
    seen.lock().expect("requests").push(target.clone());
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let (status, kind, body) = match path {
        "/form" => ("200 OK", "text/html", page("Harness form", FORM)),
        "/unlabelled" => ("200 OK", "text/html", page("Unlabelled", UNLABELLED)),
        "/wide" => (
            "200 OK",
            "text/html",
            page("Too wide", r#"<div class="wide">800 px</div>"#),
        ),
        "/submitted" => (
            "200 OK",
            "text/html",
            page(
                "Received",
                &format!(r#"<p id="query">{}</p>"#, escape(query)),
            ),
        ),
        "/style.css" => ("200 OK", "text/css", STYLE.to_owned()),
        _ => ("404 Not Found", "text/plain", "not found".to_owned()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}; charset=utf-8\r\n\
         Content-Security-Policy: {CSP}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut stream = &stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

/// Where this file's screenshots go (`target/tmp/browser_harness`).
fn shot(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("browser_harness")
        .join(name)
}

#[tokio::test]
async fn a_form_works_by_keyboard_alone_and_by_pointer() {
    let site = Site::start();
    let browser = Browser::start(DESKTOP).await;
    browser.goto(&site.url("/form")).await;

    // Tab enters the radio group (none checked yet: its first button).
    browser.press(Key::Tab).await;
    assert_eq!(
        browser.focused_attr("name").await.as_deref(),
        Some("colour")
    );
    assert_eq!(browser.focused_attr("value").await.as_deref(), Some("red"));
    // Arrows move through the group and check as they go.
    for key in [Key::Down, Key::Down, Key::Up] {
        browser.press(key).await;
    }
    assert!(browser.is_checked("input[value=green]").await);
    assert!(!browser.is_checked("input[value=red]").await);
    assert!(!browser.is_checked("input[value=blue]").await);
    // One Tab leaves the group; Space ticks the checkbox.
    browser.press(Key::Tab).await;
    assert_eq!(browser.focused_attr("id").await.as_deref(), Some("agree"));
    browser.press(Key::Space).await;
    assert!(browser.is_checked("#agree").await);
    // Then the number field; Enter in it submits the form.
    browser.press(Key::Tab).await;
    assert_eq!(browser.focused_attr("id").await.as_deref(), Some("count"));
    browser.type_text("42").await;
    assert_eq!(browser.value("#count").await, "42");
    browser.press(Key::Enter).await;

    let sent = "colour=green&agree=yes&count=42";
    let url = browser.wait_for_path("/submitted").await;
    assert!(url.ends_with(&format!("?{sent}")), "{url}");
    assert_eq!(browser.text("#query").await, sent);
    assert!(
        site.requests().contains(&format!("/submitted?{sent}")),
        "the server saw {:?}",
        site.requests()
    );
    screenshot(&browser, &shot("submitted-desktop.png")).await;

    // Back to the form, then the same form by pointer and typing.
    browser.back().await.expect("go back");
    browser.wait_for_path("/form").await;
    browser.goto(&site.url("/form")).await;
    browser.click("input[value=blue]").await;
    browser.type_into("#count", "7").await;
    browser.submit("form").await;
    let url = browser.wait_for_path("/submitted").await;
    assert!(url.ends_with("?colour=blue&count=7"), "{url}");
}

#[tokio::test]
async fn axe_passes_a_good_page_and_catches_an_unlabelled_field() {
    let site = Site::start();
    // Statuses and headers come from a plain request: WebDriver has neither.
    let form = http_get(&site.url("/form"));
    assert_eq!(form.status, 200);
    assert_eq!(form.header("content-security-policy"), Some(CSP));
    assert_eq!(http_get(&site.url("/nowhere")).status, 404);

    let browser = Browser::start(DESKTOP).await;
    browser.goto(&site.url("/form")).await;
    assert!(browser.source().await.expect("source").contains("<form"));
    // The CSP is in force: the page's own inline script did not run ...
    assert_eq!(browser.attr("html", "data-inline").await, None);
    // ... yet axe-core, sent through WebDriver, runs and passes the page.
    let violations = axe(&browser).await;
    assert!(
        violations.is_empty(),
        "{}",
        violations
            .iter()
            .map(|v| format!("\n  {v}"))
            .collect::<String>()
    );

    browser.goto(&site.url("/unlabelled")).await;
    let violations = axe(&browser).await;
    assert!(
        violations
            .iter()
            .any(|v| v.id == "label" && v.targets.iter().any(|t| t == "#nameless")),
        "the unlabelled field is not reported: {violations:?}"
    );
}

#[tokio::test]
async fn a_phone_width_fits_and_a_too_wide_page_is_caught() {
    let site = Site::start();
    let browser = Browser::start(PHONE).await;
    browser.goto(&site.url("/form")).await;
    let viewport = browser
        .execute("return [innerWidth, innerHeight];", Vec::new())
        .await
        .expect("viewport size");
    assert_eq!(viewport, serde_json::json!([390, 844]));
    no_horizontal_scroll(&browser)
        .await
        .expect("the form fits a phone");
    screenshot(&browser, &shot("form-phone.png")).await;

    browser.goto(&site.url("/wide")).await;
    let overflow = no_horizontal_scroll(&browser).await;
    assert!(overflow.is_err(), "an 800 px block fits in 390 px?");
    screenshot(&browser, &shot("wide-phone.png")).await;
    // The same page fits a desktop window.
    browser.resize(DESKTOP).await;
    no_horizontal_scroll(&browser)
        .await
        .expect("fits on a desktop");
}
