//! The respondent web app over HTTP, against a real `ikd serve`: a person
//! answers every page of the bundled instrument through its forms, and the
//! stored result is exactly what `Score` gives for the same answers; links
//! that do not open, forged and malformed posts, and posts after the submit
//! each get a clear page and status, and change nothing.

use ikd_proto::v1 as api;
use ikd_tests::grpc::{authorized, channel, ikd_asn};
use ikd_tests::http::{self, Response};
use ikd_tests::server::{ServerOptions, TestServer, tokens};
use ikd_tests::web::{
    assert_same_scores, csrf, fields_for, instrument, instrument_of, invite, invite_to,
    scored_and_stored, some_cell,
};
use std::net::SocketAddr;

/// Posts one page with the given answer cells, keeping the page's csrf.
fn post_page(
    web: SocketAddr,
    link: &str,
    part: usize,
    cells: &[(String, String, &api::Presentation)],
    go: &str,
) -> Response {
    let page = http::get(web, &format!("{link}/page/{part}"));
    assert_eq!(page.status, 200, "{}", page.body);
    let token = csrf(&page.body);
    let mut fields: Vec<(String, String)> = vec![
        ("csrf".into(), token),
        ("lang".into(), "id".into()),
        ("go".into(), go.into()),
    ];
    for (item, cell, shown) in cells {
        fields.extend(fields_for(item, shown, cell));
    }
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    http::post_form(web, &format!("{link}/page/{part}"), &pairs)
}

/// The example respondent's answers, page by page (one page per domain).
fn pages_of<'a>(
    instrument: &'a api::Instrument,
    answers: &[(String, String)],
) -> Vec<Vec<(String, String, &'a api::Presentation)>> {
    instrument
        .domains
        .iter()
        .map(|d| {
            instrument
                .items
                .iter()
                .filter(|i| i.domain == d.code)
                .map(|i| {
                    let cell = answers
                        .iter()
                        .find(|(id, _)| *id == i.id)
                        .map_or(String::new(), |(_, v)| v.clone());
                    (i.id.clone(), cell, i.presentation.as_ref().unwrap())
                })
                .collect()
        })
        .collect()
}

/// Posts every page in order with `answers` (checking each save moves on,
/// and that posting a page twice is harmless), then submits after the review.
fn answer_and_submit(
    web: SocketAddr,
    link: &str,
    shown: &api::Instrument,
    answers: &[(String, String)],
) {
    let pages = pages_of(shown, answers);
    for (k, cells) in pages.iter().enumerate() {
        let part = k + 1;
        let moved = post_page(web, link, part, cells, "next");
        assert_eq!(moved.status, 303, "page {part}: {}", moved.body);
        let next = if part == pages.len() {
            format!("{link}/review")
        } else {
            format!("{link}/page/{}", part + 1)
        };
        assert_eq!(moved.header("location"), Some(next.as_str()));
        // The same page posted again is the same save: nothing changes.
        assert_eq!(post_page(web, link, part, cells, "next").status, 303);
    }
    let review = http::get(web, &format!("{link}/review"));
    assert_eq!(review.status, 200);
    let token = csrf(&review.body);
    let unconfirmed = http::post_form(web, &format!("{link}/submit"), &[("csrf", &token)]);
    assert_eq!(unconfirmed.status, 422, "submit asks for confirmation");
    let submitted = http::post_form(
        web,
        &format!("{link}/submit"),
        &[("csrf", &token), ("confirm", "yes")],
    );
    assert_eq!(submitted.status, 303, "{}", submitted.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_answers_every_page_and_the_result_is_what_score_gives() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let web = server.web_addr();
    let example = &ikd_tests::example_respondents()[0];
    let links = invite(
        &server,
        tokens::SERVICE,
        "36.72/diskominfo",
        &[&example.id],
        None,
    )
    .await
    .unwrap();
    let link = &links[0].path;
    assert_eq!(links[0].token.len(), 32, "128 random bits in hex");

    let welcome = http::get(web, link);
    assert_eq!(welcome.status, 200);
    let csp = welcome.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert_eq!(welcome.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(welcome.header("x-content-type-options"), Some("nosniff"));
    assert!(welcome.header("set-cookie").is_none(), "no cookies");
    assert!(
        !welcome.body.contains(&example.id),
        "no identifier in a page"
    );

    let shown = instrument(&server, tokens::SERVICE).await;
    // Coming back to a page shows what was saved.
    let first_page = &pages_of(&shown, &example.answers)[0];
    assert_eq!(post_page(web, link, 1, first_page, "next").status, 303);
    let page1 = http::get(web, &format!("{link}/page/1")).body;
    assert!(page1.contains("checked"));
    let page_csrf = csrf(&page1);
    answer_and_submit(web, link, &shown, &example.answers);

    let report = http::get(web, link);
    assert_eq!(report.status, 200);
    assert!(report.body.contains("<svg"), "the personal report is shown");
    // Never the form again, and a post after the submit changes nothing.
    assert_eq!(http::get(web, &format!("{link}/page/1")).status, 303);
    let late = http::post_form(
        web,
        &format!("{link}/page/1"),
        &[("csrf", &page_csrf), ("a:LD01", "1"), ("go", "next")],
    );
    assert_eq!(late.status, 409);
    let unit = "36.72/diskominfo";
    let (scored, stored) = scored_and_stored(&server, ikd_asn(), unit, &example.answers).await;
    assert_same_scores(&stored, &scored);
    server.stop();
}

/// Another instrument with other plugins — DigComp, one of whose domains
/// (`digcomp-safety`, made with `ikd plugins new`) has a kind of its own —
/// is delivered by the same app with no change: every item is answered
/// from its presentation alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_digcomp_instrument_is_delivered_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let web = server.web_addr();
    let digcomp = Some(api::InstrumentRef {
        id: "digcomp-2.2".into(),
        version: String::new(),
    });
    let unit = "34.03/diskominfo";
    let links = invite_to(
        &server,
        tokens::ADMIN,
        digcomp.clone(),
        unit,
        &["P-1"],
        None,
    )
    .await
    .unwrap();
    let shown = instrument_of(&server, tokens::SERVICE, digcomp.clone()).await;
    assert!(shown.items.iter().any(|i| i.kind == "true-false"));
    let answers: Vec<(String, String)> = shown
        .items
        .iter()
        .enumerate()
        .map(|(k, i)| (i.id.clone(), some_cell(i.presentation.as_ref().unwrap(), k)))
        .collect();
    assert_eq!(http::get(web, &links[0].path).status, 200);
    answer_and_submit(web, &links[0].path, &shown, &answers);
    let (scored, stored) = scored_and_stored(&server, digcomp, unit, &answers).await;
    assert_same_scores(&stored, &scored);
    assert!(stored.index.is_some(), "every item answered: an index");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_that_do_not_open_and_bad_posts_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let web = server.web_addr();
    let soon = prost_types::Timestamp {
        seconds: (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 2) as i64,
        nanos: 0,
    };
    let expiring = invite(
        &server,
        tokens::ADMIN,
        "36.72/dinkes",
        &["P-EXP"],
        Some(soon),
    )
    .await
    .unwrap();
    let links = invite(
        &server,
        tokens::ADMIN,
        "36.72/dinkes",
        &["P-A", "P-B", "P-REV"],
        None,
    )
    .await
    .unwrap();
    let (a, b, revoked) = (&links[0].path, &links[1].path, &links[2].path);

    // Guessed, malformed, unknown paths.
    assert_eq!(
        http::get(web, "/take/0123456789abcdef0123456789abcdef").status,
        404
    );
    assert_eq!(http::get(web, "/take/not-a-token").status, 404);
    assert_eq!(http::get(web, &format!("{a}/page/99")).status, 404);
    assert_eq!(http::get(web, "/nothing-here").status, 404);

    // Revoked links.
    let mut admin =
        ikd_proto::v1::admin_service_client::AdminServiceClient::new(channel(&server).await);
    let done = admin
        .revoke_invitations(authorized(
            tokens::ADMIN,
            api::RevokeInvitationsRequest {
                invitation_ids: vec![links[2].invitation_id.clone()],
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.revoked, 1);
    let page = http::get(web, revoked);
    assert_eq!(page.status, 410, "{}", page.body);
    assert!(page.body.contains("dicabut"), "says it was revoked");

    // Person A saves one answer.
    let page1 = http::get(web, &format!("{a}/page/1"));
    let token_a = csrf(&page1.body);
    let saved = http::post_form(
        web,
        &format!("{a}/page/1"),
        &[("csrf", &token_a), ("a:LD01", "4"), ("go", "next")],
    );
    assert_eq!(saved.status, 303);
    let ld01_checked = |page: &str| page.contains("name=\"a:LD01\" value=\"4\" checked");
    assert!(ld01_checked(&http::get(web, &format!("{a}/page/1")).body));

    // A forged post (no or another link's csrf) and posts to another
    // person's link with A's csrf are refused, and change nothing.
    for (link, fields) in [
        (a, vec![("a:LD01", "1"), ("go", "next")]),
        (
            a,
            vec![("csrf", "0".repeat(64).leak() as &str), ("a:LD01", "1")],
        ),
        (b, vec![("csrf", token_a.as_str()), ("a:LD01", "1")]),
    ] {
        let refused = http::post_form(web, &format!("{link}/page/1"), &fields);
        assert_eq!(refused.status, 403, "{}", refused.body);
    }
    assert!(ld01_checked(&http::get(web, &format!("{a}/page/1")).body));
    assert!(
        !http::get(web, &format!("{b}/page/1"))
            .body
            .contains("checked")
    );

    // Malformed and oversized forms.
    let page1_path = format!("{a}/page/1");
    let json = format!("{{\"csrf\": \"{token_a}\"}}");
    let bad = http::post_raw(web, &page1_path, "application/json", json.as_bytes());
    assert_eq!(bad.status, 400, "{}", bad.body);
    let not_utf8 = format!("csrf={token_a}&a:LD01=%FF%FE");
    let bad = http::post_raw(web, &page1_path, http::FORM, not_utf8.as_bytes());
    assert_eq!(bad.status, 422, "refused by the item's kind: {}", bad.body);
    let huge = format!("csrf={token_a}&a:LD01={}", "9".repeat(200_000));
    let huge = http::post_raw(web, &page1_path, http::FORM, huge.as_bytes());
    assert_eq!(huge.status, 413);
    // An answer the kind refuses is shown with its message; nothing is saved.
    let refused = http::post_form(
        web,
        &format!("{a}/page/1"),
        &[("csrf", &token_a), ("a:LD01", "9"), ("go", "next")],
    );
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("id=\"err-LD01\""),
        "the message is next to the item"
    );
    assert!(ld01_checked(&http::get(web, &format!("{a}/page/1")).body));

    // Expired links.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(http::get(web, &expiring[0].path).status, 410);

    // No identifier reaches the database file.
    let mut db = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("ikd.sqlite3")
        {
            db.extend(std::fs::read(entry.path()).unwrap());
        }
    }
    for id in ["P-A", "P-B", "P-REV", "P-EXP"] {
        assert!(
            !db.windows(id.len()).any(|w| w == id.as_bytes()),
            "{id} is stored"
        );
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_stay_within_the_callers_scope() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(dir.path()));
    let outside = invite(
        &server,
        tokens::SERVICE_CILEGON,
        "64.72/bkpsdm",
        &["X"],
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(outside.code(), tonic::Code::PermissionDenied);
    let inside = invite(
        &server,
        tokens::SERVICE_CILEGON,
        "36.72/bkpsdm",
        &["X"],
        None,
    )
    .await
    .unwrap();
    assert_eq!(inside.len(), 1);
    let analyst = invite(&server, tokens::ANALYST, "36.72/bkpsdm", &["X"], None)
        .await
        .unwrap_err();
    assert_eq!(analyst.code(), tonic::Code::PermissionDenied);
    let empty = invite(&server, tokens::ADMIN, "36.72/bkpsdm", &[], None)
        .await
        .unwrap_err();
    assert_eq!(empty.code(), tonic::Code::InvalidArgument);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ikd_invite_writes_private_links_that_open() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(ServerOptions::new(&dir.path().join("data")));
    let ids = dir.path().join("ids.csv");
    std::fs::write(
        &ids,
        "respondent_id,name\n199001012015011001,x\n199202022016022002,y\n",
    )
    .unwrap();
    let out = dir.path().join("links.csv");
    let web = server.web_addr();
    let run = |out: &std::path::Path| {
        std::process::Command::new(ikd_tests::ikd_binary())
            .args(["invite", "--server", &server.url(), "--org", "36.72/dinkes"])
            .arg("--ids")
            .arg(&ids)
            .arg("--out")
            .arg(out)
            .args(["--base-url", &format!("http://{web}")])
            .env("IKD_TOKEN", tokens::ADMIN)
            .output()
            .unwrap()
    };
    let done = run(&out);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "respondent_id,invitation_id,link,expires_at");
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with("199001012015011001,inv-"));
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "links are secrets");
    let link = lines[2].split(',').nth(2).unwrap();
    let path = link.strip_prefix(&format!("http://{web}")).unwrap();
    assert_eq!(http::get(web, path).status, 200);
    // Never overwritten.
    let again = run(&out);
    assert!(!again.status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);
    server.stop();
}
