//! The respondent web app in a real browser (headless Chromium driven over
//! WebDriver): a person on a phone answers every widget of the bundled
//! instrument — the ranking with the keyboard only — switches language half
//! way, closes the browser and comes back to find the answers, reviews,
//! submits and reads the report; the stored result is what `Score` gives.
//! Every page type passes axe-core (no serious or critical violation) and
//! has no sideways scrolling at 390 px. An adaptive instrument is taken the same way,
//! one item per page, from link to report.

use fantoccini::key::Key;
use ikd_proto::v1 as api;
use ikd_tests::adaptive::{ADAPTIVE_ID, adaptive_ikd_asn};
use ikd_tests::browser::{self, Browser, PHONE};
use ikd_tests::grpc::ikd_asn;
use ikd_tests::server::{ServerOptions, TestServer, tokens};
use ikd_tests::web::{
    assert_same_scores, exported, fields_for, instrument, instrument_of, invite, invite_to,
    scored_and_stored, some_cell,
};
use std::path::PathBuf;

/// Where the screenshots go (`target/tmp/web_browser`), kept for a person to look at.
fn shots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web_browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The checks every page gets: axe-core and the phone width.
async fn check_page(browser: &Browser, name: &str) {
    let violations = browser::axe(browser).await;
    assert!(
        violations.is_empty(),
        "{name}: axe violations:\n{}",
        violations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    browser::no_horizontal_scroll(browser)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    browser::screenshot(browser, &shots().join(format!("{name}.png"))).await;
}

/// Moves the keyboard focus to the element matching `css`, as Tab would.
async fn focus(browser: &Browser, css: &str) {
    browser.find(css).await;
    browser
        .execute(
            "document.querySelector(arguments[0]).focus()",
            vec![serde_json::json!(css)],
        )
        .await
        .unwrap_or_else(|e| panic!("focus {css}: {e}"));
}

/// Gives one item's answer through its widget, as a person would: clicks
/// radio buttons and checkboxes, types numbers, and puts an order with the
/// keyboard (focus each position menu, type the position).
async fn answer(browser: &Browser, item: &str, shown: &api::Presentation, cell: &str) {
    for (name, value) in fields_for(item, shown, cell) {
        let choice = format!("input[name=\"{name}\"][value=\"{value}\"]");
        if name.starts_with("o:") {
            // Keyboard only: the menu gets the focus, the digit picks the position.
            focus(browser, &format!("select[name=\"{name}\"]")).await;
            browser.type_text(&value).await;
            assert_eq!(
                browser.focused_attr("name").await.as_deref(),
                Some(name.as_str())
            );
        } else if !browser.find_all(&choice).await.is_empty() {
            browser.click(&choice).await;
        } else {
            browser
                .type_into(&format!("input[name=\"{name}\"]"), &value)
                .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_on_a_phone_takes_the_instrument_from_link_to_report() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let base = format!("http://{}", server.web_addr());
    let example = &ikd_tests::example_respondents()[0];
    let unit = "36.72/diskominfo";
    let links = invite(&server, tokens::SERVICE, unit, &[&example.id], None)
        .await
        .unwrap();
    let link = format!("{base}{}", links[0].path);
    let shown = instrument(&server, tokens::SERVICE).await;
    let cell = |id: &str| {
        example
            .answers
            .iter()
            .find(|(i, _)| i == id)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    let pages = shown.domains.len();

    let mut browser = Browser::start(PHONE).await;
    browser.goto(&link).await;
    check_page(&browser, "welcome").await;
    browser.click("a.button.primary").await;
    for part in 1..=pages {
        browser
            .wait_for_path(&format!("{}/page/{part}", links[0].path))
            .await;
        if part == 1 {
            check_page(&browser, "page-1").await;
        }
        let domain = &shown.domains[part - 1];
        for item in shown.items.iter().filter(|i| i.domain == domain.code) {
            answer(
                &browser,
                &item.id,
                item.presentation.as_ref().unwrap(),
                &cell(&item.id),
            )
            .await;
        }
        if part == 2 {
            // Switch language half way: the page is saved and comes back in English.
            // The path stays the same, so wait for the page's language instead.
            browser.click("button[name=go][value=switch]").await;
            browser.find("html[lang=en]").await;
            let url = browser.current_url().await.unwrap();
            assert_eq!(url.path(), format!("{}/page/2", links[0].path));
            assert_eq!(url.query(), Some("lang=en"));
            check_page(&browser, "page-2-en").await;
        }
        if part == 3 {
            // Save, close the browser, open the link again: everything is there.
            browser.click("button[name=go][value=next]").await;
            browser
                .wait_for_path(&format!("{}/page/4", links[0].path))
                .await;
            drop(browser);
            browser = Browser::start(PHONE).await;
            browser.goto(&link).await;
            let resume = browser.text("a.button.primary").await;
            assert!(resume.contains("Lanjutkan"), "{resume}");
            browser.goto(&format!("{link}/page/3")).await;
            let ranking = shown.items.iter().find(|i| i.kind == "ranking").unwrap();
            let first = &cell(&ranking.id)[..1];
            let position = browser
                .value(&format!("select[name=\"o:{}:{first}\"]", ranking.id))
                .await;
            assert_eq!(position, "1", "the saved order is shown again");
            check_page(&browser, "page-3").await;
            browser.goto(&format!("{link}/page/4")).await;
            continue;
        }
        // Keyboard: Enter on the primary button saves and moves on.
        focus(&browser, "button[name=go][value=next]").await;
        browser.press(Key::Enter).await;
    }
    browser
        .wait_for_path(&format!("{}/review", links[0].path))
        .await;
    check_page(&browser, "review").await;
    browser.click("input[name=confirm]").await;
    browser.submit("form").await;
    browser.wait_for_path(&links[0].path).await;
    let report = browser.source().await.unwrap();
    assert!(
        report.contains("<svg"),
        "the personal report follows the submit"
    );
    check_page(&browser, "report").await;

    // A link that does not open gets a page of its own, checked as well.
    browser
        .goto(&format!("{base}/take/0123456789abcdef0123456789abcdef"))
        .await;
    check_page(&browser, "unknown-link").await;

    // The stored result is exactly what Score gives for the same answers.
    let (scored, stored) = scored_and_stored(&server, ikd_asn(), unit, &example.answers).await;
    assert_same_scores(&stored, &scored);
    drop(browser);
    server.stop();
}

/// The item an adaptive page gives (its hidden `item` field), once the page shows one
/// other than `before`; `None` once the test has moved on to the review.
async fn next_adaptive_item(
    browser: &Browser,
    review: &str,
    before: Option<&str>,
) -> Option<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let url = browser.current_url().await.unwrap();
        if url.path() == review {
            return None;
        }
        // Read in the page's own script: an element found a moment earlier may be gone
        // when the next page loads (then the read fails, and is tried again).
        let shown = browser
            .execute(
                "var e = document.querySelector('input[name=item]'); return e ? e.value : null",
                vec![],
            )
            .await;
        if let Ok(serde_json::Value::String(item)) = shown
            && Some(item.as_str()) != before
        {
            return Some(item);
        }
        assert!(std::time::Instant::now() < deadline, "no new item on {url}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_on_a_phone_takes_an_adaptive_test_item_by_item() {
    let dir = tempfile::tempdir().unwrap();
    let instruments = dir.path().join("instruments");
    adaptive_ikd_asn(
        &instruments,
        "mfi",
        "se_target = 0.5\nmin_items_per_domain = 5\nrandomesque = 2",
    );
    let mut options = ServerOptions::new(dir.path());
    options.args = vec!["--instrument".into(), instruments.display().to_string()];
    let server = TestServer::start(options);
    let base = format!("http://{}", server.web_addr());
    let adaptive = Some(api::InstrumentRef {
        id: ADAPTIVE_ID.into(),
        version: String::new(),
    });
    let example = &ikd_tests::example_respondents()[2];
    let unit = "64.72/diskominfo";
    let links = invite_to(
        &server,
        tokens::SERVICE,
        adaptive.clone(),
        unit,
        &[&example.id],
        None,
    )
    .await
    .unwrap();
    let link = format!("{base}{}", links[0].path);
    let review = format!("{}/review", links[0].path);
    let shown = instrument_of(&server, tokens::SERVICE, adaptive.clone()).await;
    let cell = |id: &str| {
        let k = shown.items.iter().position(|i| i.id == id).unwrap();
        example
            .answers
            .iter()
            .find(|(i, v)| i == id && !v.is_empty() && v != "NA")
            .map_or_else(
                || some_cell(shown.items[k].presentation.as_ref().unwrap(), k),
                |(_, v)| v.clone(),
            )
    };

    let browser = Browser::start(PHONE).await;
    browser.goto(&link).await;
    check_page(&browser, "adaptive-welcome").await;
    browser.click("a.button.primary").await;
    browser
        .wait_for_path(&format!("{}/item", links[0].path))
        .await;
    let mut item = next_adaptive_item(&browser, &review, None).await;
    check_page(&browser, "adaptive-item").await;

    // Going on without an answer keeps the item and says why.
    browser.click("button[name=go][value=next]").await;
    browser.find(".alert").await;
    check_page(&browser, "adaptive-item-unanswered").await;

    let mut given = Vec::new();
    while let Some(id) = item {
        let presentation = shown.items.iter().find(|i| i.id == id).unwrap();
        answer(
            &browser,
            &id,
            presentation.presentation.as_ref().unwrap(),
            &cell(&id),
        )
        .await;
        if given.len() == 7 {
            // Keyboard: Enter on the primary button saves and moves on.
            focus(&browser, "button[name=go][value=next]").await;
            browser.press(Key::Enter).await;
        } else {
            browser.click("button[name=go][value=next]").await;
        }
        given.push(id.clone());
        item = next_adaptive_item(&browser, &review, Some(&id)).await;
        if given.len() == 12 {
            check_page(&browser, "adaptive-item-later").await;
        }
    }
    assert!(
        given.len() >= 25 && given.len() < 60,
        "{} items",
        given.len()
    );
    check_page(&browser, "adaptive-review").await;
    let lead = browser.text("main p").await;
    assert!(
        lead.contains("selesai"),
        "the review says the test is complete: {lead}"
    );
    browser.click("input[name=confirm]").await;
    browser.submit("form").await;
    browser.wait_for_path(&links[0].path).await;
    let report = browser.source().await.unwrap();
    assert!(
        report.contains("<svg"),
        "the personal report follows the submit"
    );
    check_page(&browser, "adaptive-report").await;
    drop(browser);

    // The stored result records the items in the order the pages gave them.
    let stored = exported(&server, adaptive).await;
    assert_eq!(stored.len(), 1);
    let record = stored[0].result.as_ref().unwrap().adaptive.clone().unwrap();
    assert_eq!(record.stop_reason, "completed");
    let order: Vec<&str> = record.steps.iter().map(|s| s.item_id.as_str()).collect();
    assert_eq!(order, given.iter().map(String::as_str).collect::<Vec<_>>());
    server.stop();
}

/// Serves `html` at every path, from a thread, on a free loopback port: a
/// stand-in for an agency's portal on an origin of its own.
fn portal(html: &'static str) -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            let mut head = [0u8; 4096];
            let _ = stream.read(&mut head);
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{html}",
                html.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    addr
}

/// A gRPC-Web call from the page: ListInstruments with `token`, the answer
/// as `{status, grpcStatus, body}` or `{error}` when the browser refused it.
const CALL: &str = r#"
const [url, token] = arguments;
try {
  const headers = {'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1'};
  if (token) headers.authorization = 'Bearer ' + token;
  const r = await fetch(url + '/ikd.v1.AssessmentService/ListInstruments',
    {method: 'POST', headers, body: new Uint8Array([0, 0, 0, 0, 0])});
  const body = new TextDecoder().decode(new Uint8Array(await r.arrayBuffer()));
  return {status: r.status, grpcStatus: r.headers.get('grpc-status'), body};
} catch (e) {
  return {error: String(e)};
}
"#;

/// A browser portal on a listed origin calls the API through gRPC-Web with a
/// token; a page on any other origin cannot read an answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_on_a_listed_origin_calls_the_api_through_grpc_web() {
    let page = "<!doctype html><html lang=\"en\"><title>portal</title><p>portal</p></html>";
    let (allowed, other) = (portal(page), portal(page));
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::new(dir.path());
    options
        .env
        .push(("IKD_CORS_ORIGINS".into(), format!("http://{allowed}")));
    let server = TestServer::start(options);
    let browser = Browser::start(browser::DESKTOP).await;
    let call = |token: Option<&'static str>| {
        let browser = &browser;
        let url = server.url();
        async move {
            browser
                .execute(
                    &format!("return (async () => {{ {CALL} }})();"),
                    vec![serde_json::json!(url), serde_json::json!(token)],
                )
                .await
                .unwrap()
        }
    };
    browser.goto(&format!("http://{allowed}/")).await;
    let ok = call(Some(tokens::SERVICE)).await;
    assert_eq!(ok["status"], 200, "{ok}");
    let body = ok["body"].as_str().unwrap();
    assert!(body.contains("ikd-asn-2025"), "{ok}");
    assert!(body.contains("grpc-status:0"), "the trailers say OK: {ok}");
    let refused = call(None).await;
    assert_eq!(
        refused["grpcStatus"], "16",
        "unauthenticated, readable: {refused}"
    );

    browser.goto(&format!("http://{other}/")).await;
    let blocked = call(Some(tokens::SERVICE)).await;
    assert!(
        blocked["error"]
            .as_str()
            .is_some_and(|e| e.contains("Failed to fetch")),
        "another origin cannot read the answer: {blocked}"
    );
    drop(browser);
    server.stop();
}
